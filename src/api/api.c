/*
 * api.c - routing, authentication, body and paging helpers; see api.h.
 *
 * Routes are one table: method, path pattern ({x} captures a segment),
 * whether authentication is needed, and the handler. A path that matches
 * with another method answers 405 with Allow.
 *
 * Cursor format: base64url (no padding) of the last id of the previous
 * page. Ids are UUIDv7, so "after this id" is stable under inserts.
 */
#include "api_int.h"
#include "notify/notify.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"

#ifndef ISAC_VERSION
#define ISAC_VERSION "0.0.0"
#endif

struct route {
    const char *method;
    const char *pattern;
    bool public;        /* no authentication needed */
    api_fn *fn;
};

static void openapi(struct api_call *c)
{
    http_respond_raw(c->req, 200, "application/json", c->api->openapi, c->api->openapi_len);
}

static const struct route routes[] = {
    {"GET", "/api/v1/openapi.json", true, openapi},
    {"POST", "/api/v1/session", true, api__session_create},
    {"DELETE", "/api/v1/session", false, api__session_delete},
    {"GET", "/api/v1/me", false, api__me},
    {"POST", "/api/v1/me/password", false, api__me_password},
    {"GET", "/api/v1/sectors", false, api__sector_list},
    {"POST", "/api/v1/sectors", false, api__sector_create},
    {"GET", "/api/v1/sectors/{code}", false, api__sector_get},
    {"PATCH", "/api/v1/sectors/{code}", false, api__sector_update},
    {"GET", "/api/v1/tiers", false, api__tier_list},
    {"GET", "/api/v1/tiers/{code}", false, api__tier_get},
    {"GET", "/api/v1/orgs", false, api__org_list},
    {"POST", "/api/v1/orgs", false, api__org_create},
    {"GET", "/api/v1/orgs/{id}", false, api__org_get},
    {"PATCH", "/api/v1/orgs/{id}", false, api__org_update},
    {"DELETE", "/api/v1/orgs/{id}", false, api__org_disable},
    {"GET", "/api/v1/users", false, api__user_list},
    {"POST", "/api/v1/users", false, api__user_create},
    {"GET", "/api/v1/users/{id}", false, api__user_get},
    {"PATCH", "/api/v1/users/{id}", false, api__user_update},
    {"DELETE", "/api/v1/users/{id}", false, api__user_disable},
    {"GET", "/api/v1/tokens", false, api__token_list},
    {"POST", "/api/v1/tokens", false, api__token_create},
    {"GET", "/api/v1/tokens/{id}", false, api__token_get},
    {"PATCH", "/api/v1/tokens/{id}", false, api__token_update},
    {"DELETE", "/api/v1/tokens/{id}", false, api__token_revoke},
    {"GET", "/api/v1/audit", false, api__audit_list},
    {"GET", "/api/v1/audit/verify", false, api__audit_verify},
    {"POST", "/api/v1/reports", false, api__report_create},
    {"GET", "/api/v1/reports", false, api__report_list},
    {"GET", "/api/v1/reports/due", false, api__report_due},
    {"GET", "/api/v1/reports/{id}", false, api__report_get},
    {"POST", "/api/v1/reports/{id}/revisions", false, api__report_revise},
    {"GET", "/api/v1/regimes", false, api__regime_list},
    {"POST", "/api/v1/regimes", false, api__regime_create},
    {"GET", "/api/v1/regimes/{code}", false, api__regime_get},
    {"PATCH", "/api/v1/regimes/{code}", false, api__regime_update},
    {"POST", "/api/v1/near-miss-counts", false, api__nearmiss_put},
    {"GET", "/api/v1/near-miss-counts", false, api__nearmiss_list},
    {"GET", "/api/v1/near-miss-counts/totals", false, api__nearmiss_totals},
    {"GET", "/api/v1/anon-rules", false, api__anon_rules_get},
    {"PUT", "/api/v1/anon-rules", false, api__anon_rules_put},
    {"POST", "/api/v1/reports/{id}/releases", false, api__release_create},
    {"GET", "/api/v1/reports/{id}/releases", false, api__report_releases},
    {"GET", "/api/v1/releases", false, api__release_list},
    {"GET", "/api/v1/releases/export", false, api__release_export},
    {"GET", "/api/v1/releases/{id}", false, api__release_get},
    {"PATCH", "/api/v1/releases/{id}", false, api__release_update},
    {"POST", "/api/v1/releases/{id}/submit", false, api__release_submit},
    {"POST", "/api/v1/releases/{id}/approve", false, api__release_approve},
    {"POST", "/api/v1/releases/{id}/refuse", false, api__release_refuse},
    {"POST", "/api/v1/releases/{id}/publish", false, api__release_publish},
    {"POST", "/api/v1/releases/{id}/withdraw", false, api__release_withdraw},
    {"POST", "/api/v1/releases/{id}/audience-requests", false, api__audreq_create},
    {"GET", "/api/v1/releases/{id}/audience-requests", false, api__audreq_list_release},
    {"GET", "/api/v1/audience-requests", false, api__audreq_list},
    {"POST", "/api/v1/audience-requests/{id}/approve", false, api__audreq_approve},
    {"POST", "/api/v1/audience-requests/{id}/refuse", false, api__audreq_refuse},
    {"GET", "/api/v1/stream", false, api__stream},
    {"POST", "/api/v1/alerts", false, api__alert_create},
    {"GET", "/api/v1/alerts", false, api__alert_list},
    {"GET", "/api/v1/alerts/{id}", false, api__alert_get},
    {"PATCH", "/api/v1/alerts/{id}", false, api__alert_update},
    {"GET", "/api/v1/alerts/{id}/preview", false, api__alert_preview},
    {"POST", "/api/v1/alerts/{id}/publish", false, api__alert_publish},
    {"POST", "/api/v1/alerts/{id}/versions", false, api__alert_version},
    {"POST", "/api/v1/alerts/{id}/receipts", false, api__alert_receipt},
    {"GET", "/api/v1/alerts/{id}/delivery", false, api__alert_delivery},
    {"GET", "/api/v1/orgs/{id}/webhooks", false, api__webhook_list},
    {"POST", "/api/v1/orgs/{id}/webhooks", false, api__webhook_create},
    {"GET", "/api/v1/webhooks/{id}", false, api__webhook_get},
    {"PATCH", "/api/v1/webhooks/{id}", false, api__webhook_update},
    {"DELETE", "/api/v1/webhooks/{id}", false, api__webhook_delete},
    {"GET", "/api/v1/webhooks/{id}/deliveries", false, api__webhook_log},
};

/* ---- setup ---- */

int api_init(struct api *a, struct store *st, const struct cfg *cfg, struct err *e)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->vocab.mu, NULL);
    a->st = st;
    a->cfg = cfg;
    snprintf(a->web_root, sizeof(a->web_root), "%s/web", cfg->share_dir);
    char path[1200];
    snprintf(path, sizeof(path), "%s/api/openapi.json", cfg->share_dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_IO, "cannot read '%s' (is share_dir right?)", path);
    struct buf b;
    buf_init(&b, 4 << 20);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, n);
    fclose(f);
    if (rc) {
        buf_release(&b);
        return err_set(e, ERR_IO, "'%s' is too large", path);
    }
    a->openapi = buf_take(&b, &a->openapi_len);
    return 0;
}

void api_release(struct api *a)
{
    free(a->openapi);
    a->openapi = NULL;
    for (int i = 0; i < 3; i++) {
        json_decref(a->vocab.list[i]);
        a->vocab.list[i] = NULL;
    }
    pthread_mutex_destroy(&a->vocab.mu);
}

/* ---- helpers for handlers ---- */

void api__problem(struct api_call *c) { http_respond_problem(c->req, &c->e); }

void api__resumed_call(struct api_call *c, struct api *api, struct http_req *req,
                       const struct auth_identity *id)
{
    memset(c, 0, sizeof(*c));
    c->api = api;
    c->req = req;
    c->id = *id;
    c->authed = true;
    err_init(&c->e);
}

void api__fail(struct api_call *c, int code, const char *detail)
{
    if (c->e.code == 0)
        err_set(&c->e, code, "%s", detail);
    http_respond_problem(c->req, &c->e);
}

json_t *api__body(struct api_call *c, size_t max)
{
    size_t len;
    const char *body = http_req_body(c->req, &len);
    if (len > max) {
        err_set(&c->e, ERR_TOOBIG, "request body too large: %zu bytes, at most %zu", len, max);
        api__problem(c);
        return NULL;
    }
    const char *ct = http_req_header(c->req, "Content-Type");
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        err_set(&c->e, ERR_MEDIATYPE, "send the body as application/json");
        api__problem(c);
        return NULL;
    }
    /* jansson accepts exactly the UTF-8 that util_utf8_valid() does; when it refuses a
     * body, the encoding is checked first so that the error names it. */
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL && !util_utf8_valid(body, len)) {
        err_set(&c->e, ERR_MALFORMED, "the body is not valid UTF-8");
        api__problem(c);
        return NULL;
    }
    if (j == NULL) {
        err_set(&c->e, ERR_MALFORMED, "line %d, column %d: %s", je.line, je.column, je.text);
        api__problem(c);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        err_set(&c->e, ERR_MALFORMED, "the body must be a JSON object");
        api__problem(c);
        return NULL;
    }
    return j;
}

void api__bad_param(struct api_call *c, const char *name, const char *reason)
{
    err_set(&c->e, ERR_BADREQ, "invalid query parameter '%s'", name);
    c->e.code = ERR_BADREQ;
    if (c->e.nfields < LIMIT_ERR_FIELDS) {
        struct err_field *f = &c->e.fields[c->e.nfields++];
        util_strlcpy(f->field, name, sizeof(f->field));
        util_strlcpy(f->reason, reason, sizeof(f->reason));
    }
    api__problem(c);
}

const char *api__query_id(struct api_call *c, const char *name, bool *bad)
{
    const char *v = api__query(c, name, 64, bad);
    if (v && !util_is_uuid(v)) {
        api__bad_param(c, name, "not an id");
        *bad = true;
        return NULL;
    }
    return v;
}

const char *api__query_code(struct api_call *c, const char *name, enum api_vocab_kind kind,
                            bool *bad)
{
    const char *v = api__query(c, name, LIMIT_SECTOR_CODE, bad);
    if (v == NULL)
        return NULL;
    struct api_vocab voc;
    struct err e;
    err_init(&e);
    struct api_call tmp = *c; /* vocabulary errors must not mark this call failed */
    tmp.e = e;
    bool known = api__vocab_load(&tmp, kind, &voc) == 0 && model_vocab_has(&voc.v, v);
    api__vocab_release(&voc);
    if (!known) {
        api__bad_param(c, name, kind == API_VOCAB_TIERS ? "unknown tier code"
                                : kind == API_VOCAB_SECTORS ? "unknown sector code"
                                                            : "unknown regime code");
        *bad = true;
        return NULL;
    }
    return v;
}

const char *api__query(struct api_call *c, const char *name, size_t max, bool *bad)
{
    const char *v = http_req_query(c->req, name);
    if (v == NULL || *bad)
        return NULL;
    if (http_req_query_has_nul(c->req, name)) {
        api__bad_param(c, name, "must not contain NUL");
        *bad = true;
        return NULL;
    }
    if (!util_utf8_valid(v, strlen(v))) {
        api__bad_param(c, name, "not valid UTF-8");
        *bad = true;
        return NULL;
    }
    if (util_utf8_chars(v) > max) {
        api__bad_param(c, name, "too long");
        *bad = true;
        return NULL;
    }
    return *v ? v : NULL;
}

bool api__query_bool(struct api_call *c, const char *name, bool *bad)
{
    const char *v = http_req_query(c->req, name);
    if (v == NULL || *bad || !strcmp(v, "false") || !strcmp(v, "0"))
        return false;
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        return true;
    api__bad_param(c, name, "must be true or false");
    *bad = true;
    return false;
}

bool api__page(struct api_call *c, struct api_page *p)
{
    memset(p, 0, sizeof(*p));
    p->limit = LIMIT_PAGE_DEFAULT;
    static const char *const names[] = {"limit", "cursor"};
    for (int i = 0; i < 2; i++)
        if (http_req_query_has_nul(c->req, names[i])) {
            api__bad_param(c, names[i], "must not contain NUL");
            return false;
        }
    const char *l = http_req_query(c->req, "limit");
    long long n;
    if (l) {
        if (!util_parse_int(l, 1, LIMIT_PAGE_MAX, &n)) {
            char why[64];
            snprintf(why, sizeof(why), "must be an integer from 1 to %d", LIMIT_PAGE_MAX);
            api__bad_param(c, "limit", why);
            return false;
        }
        p->limit = (int)n;
    }
    const char *cur = http_req_query(c->req, "cursor");
    if (cur && *cur) {
        unsigned char raw[64];
        size_t rawlen = 0;
        if (strlen(cur) > 64 ||
            sodium_base642bin(raw, sizeof(raw) - 1, cur, strlen(cur), NULL, &rawlen, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
            api__bad_param(c, "cursor", "not a cursor from a previous page");
            return false;
        }
        raw[rawlen] = '\0';
        if (!util_is_uuid((const char *)raw)) {
            api__bad_param(c, "cursor", "not a cursor from a previous page");
            return false;
        }
        memcpy(p->after, raw, rawlen + 1);
        p->has_after = true;
    }
    return true;
}

bool api__cursor_raw(struct api_call *c, char *raw, size_t n)
{
    raw[0] = '\0';
    if (http_req_query_has_nul(c->req, "cursor")) {
        api__bad_param(c, "cursor", "must not contain NUL");
        return false;
    }
    const char *cur = http_req_query(c->req, "cursor");
    if (cur == NULL || *cur == '\0')
        return true;
    size_t len = 0;
    if (strlen(cur) > 4 * n / 3 ||
        sodium_base642bin((unsigned char *)raw, n - 1, cur, strlen(cur), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        api__bad_param(c, "cursor", "not a cursor from a previous page");
        return false;
    }
    raw[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (raw[i] < 0x21 || raw[i] > 0x7e) {
            api__bad_param(c, "cursor", "not a cursor from a previous page");
            return false;
        }
    return true;
}

json_t *api__cursor_json(const char *raw)
{
    char enc[256];
    sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)raw, strlen(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return json_string(enc);
}

bool api__limit(struct api_call *c, int dflt, int max, int *out)
{
    *out = dflt;
    if (http_req_query_has_nul(c->req, "limit")) {
        api__bad_param(c, "limit", "must not contain NUL");
        return false;
    }
    const char *l = http_req_query(c->req, "limit");
    long long n;
    if (l == NULL)
        return true;
    if (!util_parse_int(l, 1, max, &n)) {
        char why[64];
        snprintf(why, sizeof(why), "must be an integer from 1 to %d", max);
        api__bad_param(c, "limit", why);
        return false;
    }
    *out = (int)n;
    return true;
}

void api__respond_page(struct api_call *c, json_t *items, const struct api_page *p)
{
    json_t *next = json_null();
    if (json_array_size(items) > (size_t)p->limit) {
        json_array_remove(items, (size_t)p->limit);
        const char *last =
            json_string_value(json_object_get(json_array_get(items, (size_t)p->limit - 1), "id"));
        char enc[128];
        sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)last, strlen(last),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        json_decref(next);
        next = json_string(enc);
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

const char *api__jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

bool api__is(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

bool api__deny(struct api_call *c, const char *why)
{
    api__fail(c, ERR_FORBIDDEN, why);
    return false;
}

json_t *api__optional_body(struct api_call *c)
{
    size_t len;
    http_req_body(c->req, &len);
    return len == 0 ? json_object() : api__body(c, LIMIT_MEMBER_BODY_BYTES);
}

bool api__only_fields(struct api_call *c, const json_t *body, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = !strcmp(k, allowed[i]);
        if (!ok)
            err_field(&c->e, k, "unknown field");
    }
    return c->e.nfields == 0;
}

bool api__text_member(struct api_call *c, const json_t *body, const char *name, size_t max,
                      bool required)
{
    json_t *v = json_object_get(body, name);
    if ((v == NULL || json_is_null(v)) && !required)
        return true;
    const char *s = json_string_value(v);
    const char *why = NULL;
    bool blank = true;
    for (const char *p = s; p && *p && blank; p++)
        blank = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
    if (s == NULL || (required && blank))
        why = required ? "required: a non-empty text" : "must be a text";
    else if (util_utf8_chars(s) > max)
        why = "too long";
    for (const char *p = s; why == NULL && *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
            why = "control characters are not allowed";
    if (why == NULL)
        return true;
    if (!strcmp(why, "too long"))
        err_field(&c->e, name, "at most %zu characters", max);
    else
        err_field(&c->e, name, "%s", why);
    return false;
}

json_t *api__keys(const json_t *o)
{
    json_t *keys = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) json_array_append_new(keys, json_string(k));
    return keys;
}

json_t *api__report_load(struct api_call *c, const char *id, bool with_revisions)
{
    struct store_report_access acc;
    auth_report_access(&c->id, &acc);
    json_t *r = NULL;
    if (!util_is_uuid(id)) {
        err_set(&c->e, ERR_NOTFOUND, "report not found");
        return NULL;
    }
    if (store_report_get(c->api->st, &acc, id, with_revisions, &r, &c->e))
        return NULL;
    return r;
}

bool api__audit_read(struct api_call *c, const char *action, const char *kind, const json_t *obj)
{
    const char *tlp = api__jstr(obj, "tlp");
    if (api__is(tlp, "CLEAR") || api__audit(c, action, kind, api__jstr(obj, "id"), "ok",
                                            json_pack("{s:s}", "tlp", tlp)) == 0)
        return true;
    api__fail(c, ERR_STORE, "the read could not be recorded in the audit log");
    return false;
}

void api__range_query(struct api_call *c, struct api_range *r, bool *bad)
{
    r->min_severity = api__query(c, "min_severity", 4, bad);
    r->since = api__query(c, "since", 40, bad);
    r->until = api__query(c, "until", 40, bad);
}

bool api__range_check(struct api_call *c, const struct api_range *r, int *min_severity,
                      int64_t *since, int64_t *until)
{
    long long n;
    int off;
    if (r->min_severity && !util_parse_int(r->min_severity, 0, 4, &n))
        api__bad_param(c, "min_severity", "must be a level from 0 to 4");
    else if (r->since && !util_time_parse(r->since, since, &off))
        api__bad_param(c, "since", "must be an RFC 3339 date-time with an offset");
    else if (r->until && !util_time_parse(r->until, until, &off))
        api__bad_param(c, "until", "must be an RFC 3339 date-time with an offset");
    else {
        if (r->min_severity)
            *min_severity = (int)n;
        return true;
    }
    return false;
}

bool api__seq_cursor(struct api_call *c, const char *raw, bool inbox, int64_t *after_seq,
                     const char **after_id)
{
    long long n;
    *after_seq = 0;
    *after_id = NULL;
    if (*raw == '\0')
        return true;
    if (inbox ? !util_parse_int(raw, 1, INT64_MAX, &n) : !util_is_uuid(raw)) {
        api__bad_param(c, "cursor", "not a cursor from a previous page");
        return false;
    }
    if (inbox)
        *after_seq = n;
    else
        *after_id = raw;
    return true;
}

json_t *api__seq_next(json_t *rows, int limit, bool inbox)
{
    if (json_array_size(rows) <= (size_t)limit)
        return json_null();
    json_array_remove(rows, (size_t)limit);
    const json_t *last = json_array_get(rows, (size_t)limit - 1);
    char raw[64];
    if (inbox)
        snprintf(raw, sizeof(raw), "%lld",
                 (long long)json_integer_value(json_object_get(last, "pub_seq")));
    else
        snprintf(raw, sizeof(raw), "%s", api__jstr(last, "id"));
    return api__cursor_json(raw);
}

bool api__vocabs_open(struct api_call *c, struct api_vocabs *v)
{
    memset(v, 0, sizeof(*v));
    if (api__vocab_load(c, API_VOCAB_SECTORS, &v->sec))
        return false;
    if (api__vocab_load(c, API_VOCAB_TIERS, &v->tiers)) {
        api__vocab_release(&v->sec);
        return false;
    }
    v->ctx = (struct model_report_ctx){.sectors = &v->sec.v, .tiers = &v->tiers.v,
                                       .now = util_now_ms() / 1000};
    return true;
}

void api__vocabs_close(struct api_vocabs *v)
{
    api__vocab_release(&v->sec);
    api__vocab_release(&v->tiers);
}

int api__vocab_load(struct api_call *c, enum api_vocab_kind kind, struct api_vocab *out)
{
    memset(out, 0, sizeof(*out));
    struct api_vocab_cache *vc = &c->api->vocab;
    int64_t now = util_mono_ms();
    pthread_mutex_lock(&vc->mu);
    if (vc->list[kind] && now - vc->loaded_ms[kind] < API_VOCAB_TTL_MS)
        out->list = json_incref(vc->list[kind]);
    pthread_mutex_unlock(&vc->mu);
    if (out->list == NULL) {
        struct store *st = c->api->st;
        int rc = kind == API_VOCAB_SECTORS ? store_sector_list(st, false, &out->list, &c->e)
                 : kind == API_VOCAB_TIERS ? store_tier_list(st, &out->list, &c->e)
                                           : store_regime_list(st, false, &out->list, &c->e);
        if (rc)
            return rc;
        pthread_mutex_lock(&vc->mu);
        json_decref(vc->list[kind]);
        vc->list[kind] = json_incref(out->list);
        vc->loaded_ms[kind] = now;
        pthread_mutex_unlock(&vc->mu);
    }
    size_t n = json_array_size(out->list);
    out->codes = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out->codes[i] = json_string_value(json_object_get(json_array_get(out->list, i), "code"));
    out->v.codes = out->codes;
    out->v.n = n;
    return 0;
}

void api__vocab_invalidate(struct api *a, enum api_vocab_kind kind)
{
    pthread_mutex_lock(&a->vocab.mu);
    a->vocab.loaded_ms[kind] = INT64_MIN / 2;
    pthread_mutex_unlock(&a->vocab.mu);
}

void api__vocab_release(struct api_vocab *v)
{
    free(v->codes);
    json_decref(v->list);
    memset(v, 0, sizeof(*v));
}

int api__audit(struct api_call *c, const char *action, const char *object_kind,
               const char *object_id, const char *outcome, json_t *detail)
{
    struct err e;
    err_init(&e);
    int rc = auth_audit(c->api->st, c->authed ? &c->id : NULL, http_req_remote(c->req), action,
                        object_kind, object_id, outcome, detail, &e);
    if (rc)
        log_error("audit: cannot record %s of %s: %s", action, object_id ? object_id : "-",
                  e.detail);
    return rc;
}

/* ---- authentication ---- */

static bool unsafe_method(const char *m)
{
    return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

static bool authenticate(struct api_call *c)
{
    const char *authz = http_req_header(c->req, "Authorization");
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0) {
            err_set(&c->e, ERR_UNAUTH, "use 'Authorization: Bearer <token>'");
            return false;
        }
        const char *t = authz + 7;
        while (*t == ' ')
            t++;
        if (auth_bearer(c->api->st, t, &c->id, &c->e))
            return false;
    } else {
        const char *cookie = http_req_cookie(c->req, "isac_session");
        if (cookie == NULL) {
            err_set(&c->e, ERR_UNAUTH, "log in or send a bearer token");
            return false;
        }
        if (auth_session(c->api->st, cookie, &c->id, &c->e))
            return false;
        /* Cookie-authenticated writes must prove they come from our own page. */
        if (unsafe_method(http_req_method(c->req))) {
            const char *t = http_req_header(c->req, "X-CSRF-Token");
            if (t == NULL || !util_streq_ct(t, c->id.p.csrf)) {
                err_set(&c->e, ERR_CSRF, "send the X-CSRF-Token header from the login response");
                http_req_set_user(c->req, c->id.p.login);
                return false;
            }
        }
    }
    /* A storage failure during authentication is not the caller's fault. */
    c->authed = true;
    http_req_set_user(c->req, c->id.p.login);
    return true;
}

/* ---- routing ---- */

/* Match path against pattern, capturing {x} segments. */
static bool match(const char *pattern, const char *path, struct api_call *c)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            size_t n = se ? (size_t)(se - s) : strlen(s);
            if (n == 0 || n >= sizeof(c->param_buf[0]) || np >= API_MAX_PARAMS)
                return false;
            memcpy(c->param_buf[np], s, n);
            c->param_buf[np][n] = '\0';
            c->params[np] = c->param_buf[np];
            np++;
            p = pe + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

static bool static_path_ok(const char *p)
{
    if (strstr(p, "..") || strstr(p, "//"))
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._-/", *p)))
            return false;
    return true;
}

static void serve_static(struct api_call *c, const char *path)
{
    const char *m = http_req_method(c->req);
    if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
        http_add_header(c->req, "Allow", "GET, HEAD");
        api__fail(c, ERR_METHOD, "static files are read-only");
        return;
    }
    if (!strcmp(path, "/"))
        path = "/index.html";
    if (!static_path_ok(path + 1) || path[1] == '.') {
        api__fail(c, ERR_NOTFOUND, "no such page");
        return;
    }
    http_respond_file(c->req, c->api->web_root, path + 1);
}

/*
 * Writes that can end a credential (disable a user or organisation, revoke
 * a token, log out, change a password): open event streams must re-check
 * theirs before the next event.
 */
static bool ends_credentials(const char *method, const char *path)
{
    static const char *const prefixes[] = {"/api/v1/users", "/api/v1/orgs", "/api/v1/tokens",
                                           "/api/v1/session", "/api/v1/me/password"};
    if (!strcmp(method, "GET"))
        return false;
    if (!strcmp(path, "/api/v1/session"))
        return !strcmp(method, "DELETE"); /* a login ends nothing */
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (!strncmp(path, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

void api_handle(struct http_req *req, void *ud)
{
    struct api_call c;
    memset(&c, 0, sizeof(c));
    err_init(&c.e);
    c.api = ud;
    c.req = req;
    const char *path = http_req_path(req);
    const char *method = http_req_method(req);

    if (!strcmp(path, "/healthz")) {
        http_respond_json(req, 200,
                          json_pack("{s:s,s:s,s:s}", "status", "ok", "version", ISAC_VERSION,
                                    "store", store_backend(c.api->st)));
        return;
    }
    if (strncmp(path, "/api/", 5) != 0) {
        serve_static(&c, path);
        return;
    }

    char allow[128] = "";
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        if (!match(r->pattern, path, &c))
            continue;
        if (strcmp(r->method, method) != 0) {
            size_t n = strlen(allow);
            snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", r->method);
            continue;
        }
        if (!r->public && !authenticate(&c)) {
            api__problem(&c);
            return;
        }
        r->fn(&c);
        if (ends_credentials(method, path) && c.api->notify)
            notify_recheck(c.api->notify); /* before the client hears the answer */
        return;
    }
    if (allow[0]) {
        http_add_header(req, "Allow", allow);
        api__fail(&c, ERR_METHOD, "method not allowed on this resource");
        return;
    }
    api__fail(&c, ERR_NOTFOUND, "no such API resource");
}
