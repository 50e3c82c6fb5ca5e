/*
 * bench/ingest.c - sustained report submission over HTTP.
 *
 * N concurrent clients (libcurl multi, one connection each) POST reports
 * of about 2 KB with 10 observables to /api/v1/reports for a given time.
 * isac answers 201 only after the report is durably committed, so every
 * 201 is an acknowledged report: its id is appended to --acked FILE.
 * Prints reports/s and latency percentiles.
 *
 *   ingest --url URL --token T [--clients 64] [--seconds 10] [--acked FILE]
 *   ingest --url URL --token T --verify FILE
 *
 * --verify reads the ids of a previous run (e.g. one during which the
 * server was killed with -9 and restarted) and checks that every
 * acknowledged report is there; it prints the number missing and exits 1
 * if any is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

struct client {
    CURL *h;
    char body[4096];
    char resp[8192];
    size_t resp_len;
    double t0;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct client *c = ud;
    size_t len = size * n;
    if (c->resp_len + len < sizeof(c->resp)) {
        memcpy(c->resp + c->resp_len, p, len);
        c->resp_len += len;
    }
    return len;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A realistic first report: ~2 KB, 10 observables, Japanese and English text. */
static void make_body(char *out, size_t n, long seq)
{
    snprintf(out, n,
             "{\"event_type\":\"malware\",\"title\":\"Office PCs locked by ransomware #%ld "
             "事務所PCがランサムウェアでロック\",\"sectors\":[\"electricity\"],"
             "\"severity\":{\"continuity\":2,\"safety\":0,\"trust\":1},"
             "\"causes\":[{\"code\":\"intentional\",\"detail\":\"worm spreading over SMBv1 "
             "ワームがSMBv1で拡散\"},{\"code\":\"accidental\",\"detail\":\"March patch not "
             "applied 3月のパッチ未適用\"}],\"occurred_at\":\"2026-05-12T18:10:00+09:00\","
             "\"detected_at\":\"2026-05-12T18:30:00+09:00\",\"basis\":\"serious\","
             "\"service\":\"back-office systems\",\"description\":\"On Friday evening several "
             "office PCs showed a ransom note and their files were encrypted. The worm spread "
             "to unpatched machines on the same segment. Operational technology networks are "
             "separated and unaffected so far. 金曜夕方、複数の事務所PCに身代金要求画面が表示され"
             "ファイルが暗号化された。同一セグメントの未適用端末に感染が拡大。制御系ネットワークは分離"
             "されており現時点で影響なし。We are isolating the segment and restoring from "
             "backups; more detail will follow in an update.\","
             "\"observables\":["
             "{\"type\":\"ipv4\",\"value\":\"203.0.113.%ld\",\"role\":\"attacker\"},"
             "{\"type\":\"ipv4\",\"value\":\"198.51.100.7\",\"role\":\"attacker\"},"
             "{\"type\":\"domain\",\"value\":\"iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com\","
             "\"role\":\"attacker\"},"
             "{\"type\":\"sha256\",\"value\":\"ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e"
             "5babe8e080e41aa\",\"role\":\"attacker\"},"
             "{\"type\":\"md5\",\"value\":\"84c82835a5d21bbcf75a61706d8ab549\",\"role\":"
             "\"attacker\"},"
             "{\"type\":\"file\",\"value\":\"tasksche.exe\",\"role\":\"attacker\"},"
             "{\"type\":\"cve\",\"value\":\"CVE-2017-0144\",\"role\":\"other\"},"
             "{\"type\":\"attack_technique\",\"value\":\"T1486\",\"role\":\"other\"},"
             "{\"type\":\"malware\",\"value\":\"WannaCry\",\"role\":\"attacker\"},"
             "{\"type\":\"url\",\"value\":\"http://iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com/"
             "\",\"role\":\"attacker\"}]}",
             seq, seq % 250 + 1);
}

static int verify(const char *url, const char *token, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    char auth[512], line[128], full[1024];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    CURL *h = curl_easy_init();
    long total = 0, missing = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!*line)
            continue;
        snprintf(full, sizeof(full), "%s/api/v1/reports/%s", url, line);
        struct client c = {0};
        curl_easy_setopt(h, CURLOPT_URL, full);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        total++;
        if (status != 200) {
            missing++;
            fprintf(stderr, "missing: %s (HTTP %ld)\n", line, status);
        }
    }
    fclose(f);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    printf("verify: %ld acknowledged reports checked, %ld missing\n", total, missing);
    return missing ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *token = NULL, *acked_path = NULL, *verify_path = NULL;
    int clients = 64;
    double seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--token"))
            token = argv[i + 1];
        else if (!strcmp(argv[i], "--clients"))
            clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--acked"))
            acked_path = argv[i + 1];
        else if (!strcmp(argv[i], "--verify"))
            verify_path = argv[i + 1];
    }
    if (!url || !token || clients < 1 || clients > 10000) {
        fprintf(stderr, "usage: ingest --url URL --token T [--clients N] [--seconds S] "
                        "[--acked FILE] | --verify FILE\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (verify_path)
        return verify(url, token, verify_path);

    FILE *acked = acked_path ? fopen(acked_path, "w") : NULL;
    char auth[512], full[1024];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(full, sizeof(full), "%s/api/v1/reports", url);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    CURLM *m = curl_multi_init();
    struct client *cs = calloc((size_t)clients, sizeof(*cs));
    size_t cap = 1 << 20, nlat = 0;
    double *lat = malloc(cap * sizeof(double));
    long seq = 0, ok = 0, failed = 0, body_bytes = 0;
    double start = now_s(), end = start + seconds;

    for (int i = 0; i < clients; i++) {
        struct client *c = &cs[i];
        c->h = curl_easy_init();
        curl_easy_setopt(c->h, CURLOPT_URL, full);
        curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
        make_body(c->body, sizeof(c->body), seq++);
        body_bytes += (long)strlen(c->body);
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
        c->t0 = now_s();
        curl_multi_add_handle(m, c->h);
    }
    int running = clients;
    while (running > 0) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct client *c;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            long status = 0;
            curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
            double t = now_s();
            if (msg->data.result == CURLE_OK && status == 201) {
                ok++;
                if (nlat == cap)
                    lat = realloc(lat, (cap *= 2) * sizeof(double));
                lat[nlat++] = t - c->t0;
                if (acked) {
                    json_t *j = json_loadb(c->resp, c->resp_len, 0, NULL);
                    const char *id = json_string_value(json_object_get(j, "id"));
                    if (id)
                        fprintf(acked, "%s\n", id);
                    json_decref(j);
                }
            } else {
                failed++;
            }
            curl_multi_remove_handle(m, c->h);
            c->resp_len = 0;
            if (t < end) {
                make_body(c->body, sizeof(c->body), seq++);
                body_bytes += (long)strlen(c->body);
                curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
                c->t0 = t;
                curl_multi_add_handle(m, c->h);
                running++;
            }
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double elapsed = now_s() - start;
    if (acked) {
        fflush(acked);
        fclose(acked);
    }
    qsort(lat, nlat, sizeof(double), cmp_double);
    double p50 = nlat ? lat[nlat / 2] * 1000 : 0, p99 = nlat ? lat[(size_t)(nlat * 0.99)] * 1000 : 0;
    double max = nlat ? lat[nlat - 1] * 1000 : 0;
    printf("ingest: %d clients, %.1f s: %ld acknowledged (%.0f reports/s), %ld failed; "
           "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; mean body %ld bytes\n",
           clients, elapsed, ok, ok / elapsed, failed, p50, p99, max,
           seq ? body_bytes / seq : 0);
    for (int i = 0; i < clients; i++)
        curl_easy_cleanup(cs[i].h);
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    free(cs);
    free(lat);
    curl_global_cleanup();
    return 0;
}
