/*
 * cli_report.c - `isac report`: submit, list and show reports through the
 * HTTP API of a running isac, so members file from their own machines and
 * scripts exactly as the web UI does (same validation, same authorization,
 * same audit). Uses libcurl; the token comes from --token or $ISAC_TOKEN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/limits.h"
#include "cli.h"

static const char help[] =
    "usage: isac report submit --file FILE [--draft] [--idempotency-key KEY]\n"
    "       isac report revise --id ID --file FILE\n"
    "       isac report list [--kind K] [--event-type T] [--sector S] [--status S] [--limit N]\n"
    "       isac report show --id ID\n"
    "       isac report due [--within-hours N]\n"
    "common: [--url URL] [--token TOKEN]\n"
    "\n"
    "Talks to a running isac over its API: --url (default $ISAC_URL or\n"
    "http://127.0.0.1:8080) with an API token (--token, default $ISAC_TOKEN;\n"
    "make one with 'isac token create'). submit reads a report as JSON from FILE\n"
    "('-' for standard input): at least event_type, title and sectors. revise\n"
    "reads {\"stage\": \"update\"|\"final\"|\"reopen\", \"changes\": {...}, \"reason\": ...}.\n"
    "A retried submit with the same --idempotency-key creates nothing twice.\n"
    "list prints id, stage, event type, overall severity, status and title,\n"
    "tab-separated; show and submit print the report as JSON. Validation errors\n"
    "are printed one field per line.\n";

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    return buf_append(b, p, size * n) == 0 ? size * n : 0;
}

/* One API call; prints problems; returns 0 and *out (the parsed body) on 2xx. */
static int call(const struct cli_opts *o, const char *method, const char *path, const char *body,
                const char *idem, json_t **out)
{
    const char *url = cli_get(o, "url") ? cli_get(o, "url") : getenv("ISAC_URL");
    const char *token = cli_get(o, "token") ? cli_get(o, "token") : getenv("ISAC_TOKEN");
    if (url == NULL)
        url = "http://127.0.0.1:8080";
    if (token == NULL) {
        fputs("isac: error: no API token: give --token or set ISAC_TOKEN\n", stderr);
        return 1;
    }
    char full[2048], auth[256], idh[256];
    size_t ul = strlen(url);
    while (ul && url[ul - 1] == '/')
        ul--; /* "http://host/" and "http://host" name the same server */
    snprintf(full, sizeof(full), "%.*s%s", (int)ul, url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (idem) {
        snprintf(idh, sizeof(idh), "Idempotency-Key: %s", idem);
        hdrs = curl_slist_append(hdrs, idh);
    }
    struct buf resp;
    buf_init(&resp, 64 << 20);
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "isac: error: cannot reach %s: %s\n", url, curl_easy_strerror(rc));
        buf_release(&resp);
        return 1;
    }
    json_t *j = resp.len ? json_loadb(resp.data, resp.len, 0, NULL) : json_object();
    buf_release(&resp);
    if (status < 200 || status > 299) {
        const char *detail = json_string_value(json_object_get(j, "detail"));
        fprintf(stderr, "isac: error: %ld %s\n", status, detail ? detail : "request failed");
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(j, "errors"), i, f)
            fprintf(stderr, "  %s: %s\n", json_string_value(json_object_get(f, "field")),
                    json_string_value(json_object_get(f, "reason")));
        json_decref(j);
        return 1;
    }
    *out = j;
    return 0;
}

static char *read_input(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (f == NULL) {
        fprintf(stderr, "isac: error: cannot open '%s'\n", path);
        return NULL;
    }
    struct buf b;
    buf_init(&b, LIMIT_REPORT_BODY_BYTES);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, n);
    if (f != stdin)
        fclose(f);
    if (rc) {
        fprintf(stderr, "isac: error: '%s' is larger than %d bytes\n", path,
                LIMIT_REPORT_BODY_BYTES);
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
}

static void append_query(char *q, size_t n, const char *name, const char *v)
{
    if (v == NULL)
        return;
    char *esc = curl_easy_escape(NULL, v, 0);
    size_t l = strlen(q);
    snprintf(q + l, n - l, "%s%s=%s", strchr(q, '?') ? "&" : "?", name, esc ? esc : "");
    curl_free(esc);
}

int cli_report(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *cmd = argv[0];
    struct cli_opts o;
    if (cli_parse(argc - 1, argv + 1,
                  "url= token= file= draft idempotency-key= id= kind= event-type= sector= "
                  "status= limit= within-hours=",
                  &o))
        return 2;
    if (o.help) {
        fputs(help, stdout);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_t *out = NULL;
    int rc = 2;
    if (!strcmp(cmd, "submit") || !strcmp(cmd, "revise")) {
        const char *file = cli_get(&o, "file");
        const char *id = cli_get(&o, "id");
        char *text = file ? read_input(file) : NULL;
        json_t *body = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (file == NULL || (!strcmp(cmd, "revise") && id == NULL)) {
            fputs(help, stderr);
        } else if (!json_is_object(body)) {
            fprintf(stderr, "isac: error: '%s' is not a JSON object\n", file);
            rc = 1;
        } else {
            char path[256];
            if (!strcmp(cmd, "submit")) {
                if (cli_flag(&o, "draft"))
                    json_object_set_new(body, "draft", json_true());
                snprintf(path, sizeof(path), "/api/v1/reports");
            } else {
                snprintf(path, sizeof(path), "/api/v1/reports/%s/revisions", id);
            }
            char *s = json_dumps(body, JSON_COMPACT);
            rc = call(&o, "POST", path, s, cli_get(&o, "idempotency-key"), &out);
            free(s);
            if (rc == 0)
                print_json(out);
        }
        json_decref(body);
    } else if (!strcmp(cmd, "show")) {
        const char *id = cli_get(&o, "id");
        if (id == NULL) {
            fputs(help, stderr);
        } else {
            char path[256];
            snprintf(path, sizeof(path), "/api/v1/reports/%s", id);
            if ((rc = call(&o, "GET", path, NULL, NULL, &out)) == 0)
                print_json(out);
        }
    } else if (!strcmp(cmd, "list") || !strcmp(cmd, "due")) {
        char path[1024];
        snprintf(path, sizeof(path), "/api/v1/reports%s", !strcmp(cmd, "due") ? "/due" : "");
        append_query(path, sizeof(path), "kind", cli_get(&o, "kind"));
        append_query(path, sizeof(path), "event_type", cli_get(&o, "event-type"));
        append_query(path, sizeof(path), "sector", cli_get(&o, "sector"));
        append_query(path, sizeof(path), "status", cli_get(&o, "status"));
        append_query(path, sizeof(path), "limit", cli_get(&o, "limit"));
        append_query(path, sizeof(path), "within_hours", cli_get(&o, "within-hours"));
        if ((rc = call(&o, "GET", path, NULL, NULL, &out)) == 0) {
            size_t i;
            json_t *r;
            json_array_foreach(json_object_get(out, "items"), i, r)
            {
                json_t *sev = json_object_get(json_object_get(r, "severity"), "overall");
                json_t *due = json_object_get(r, "due");
                char level[8] = "-";
                if (json_is_integer(sev))
                    snprintf(level, sizeof(level), "%d", (int)json_integer_value(sev));
                printf("%s\t%s\t%s\t%s\t%s\t%s%s%s\n", json_string_value(json_object_get(r, "id")),
                       json_string_value(json_object_get(r, "stage")),
                       json_string_value(json_object_get(r, "event_type")), level,
                       json_string_value(json_object_get(r, "status")),
                       json_string_value(json_object_get(r, "title")), json_is_object(due) ? "\tdue " : "",
                       json_is_object(due) ? json_string_value(json_object_get(due, "due_at")) : "");
            }
        }
    } else {
        fprintf(stderr, "isac: error: unknown report command '%s'\n\n%s", cmd, help);
    }
    json_decref(out);
    curl_global_cleanup();
    return rc;
}
