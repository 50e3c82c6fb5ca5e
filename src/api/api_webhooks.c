/*
 * api_webhooks.c - an organisation's webhooks (where its alerts are
 * POSTed) and their delivery logs: administrators and the organisation's
 * org_admins (auth_can_manage_webhooks()).
 *
 * A webhook is {"id","org_id","url","enabled","created_at","updated_at"}.
 * Its secret (32 random bytes) is shown once, base64url, in the response
 * that creates it; deliveries are signed with it (src/deliver/deliver.h)
 * and no later read returns it. Deleting a webhook (204) drops what is
 * still queued for it; its log stays.
 */
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "base/limits.h"
#include "base/util.h"

#define WEBHOOK_BODY_MAX (16 * 1024)
#define WEBHOOK_URL_MAX 2048 /* characters */
#define WEBHOOKS_PER_ORG 10
#define WEBHOOK_SECRET_BYTES 32
#define WEBHOOK_LOG_DEFAULT 50
#define WEBHOOK_LOG_MAX 500

/* ---- validation ---- */

/*
 * host[:port] of an http(s) URL: a DNS name, IPv4 or [IPv6]; no
 * user:password@. *h and *hn receive the host (without brackets).
 */
static bool authority_valid(const char *a, size_t n, const char **h, size_t *hn)
{
    if (n == 0 || memchr(a, '@', n))
        return false;
    size_t host = n;
    *h = a;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close || close == a + 1)
            return false;
        for (const char *p = a + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return false;
        host = (size_t)(close - a) + 1;
        *h = a + 1;
        *hn = host - 2;
    } else {
        const char *colon = memchr(a, ':', n);
        host = colon ? (size_t)(colon - a) : n;
        if (host == 0)
            return false;
        for (size_t i = 0; i < host; i++)
            if (!isalnum((unsigned char)a[i]) && a[i] != '.' && a[i] != '-')
                return false;
        *hn = host;
    }
    if (host == n)
        return true;
    if (a[host] != ':' || host + 1 == n || n - host - 1 > 5)
        return false;
    long port = 0;
    for (size_t i = host + 1; i < n; i++) {
        if (!isdigit((unsigned char)a[i]))
            return false;
        port = port * 10 + (a[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

/* An https:// URL (or http:// when the config allows it) of printable ASCII; its host in *h, *hn. */
static bool url_valid(const char *u, bool allow_http, const char **h, size_t *hn)
{
    size_t skip = !strncmp(u, "https://", 8) ? 8 : allow_http && !strncmp(u, "http://", 7) ? 7 : 0;
    if (!skip)
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return false;
    const char *a = u + skip;
    return authority_valid(a, strcspn(a, "/?#"), h, hn);
}

/*
 * A URL host (from url_valid()) that is a literal address but not a public
 * one. Names are checked when delivering, after they resolve (deliver).
 */
static bool host_is_private_ip(const char *h, size_t n)
{
    char host[64];
    if (n >= sizeof(host))
        return false; /* too long for an address: a name */
    memcpy(host, h, n);
    host[n] = '\0';
    bool is_ip;
    bool pub = util_addr_text_public(host, &is_ip);
    return is_ip && !pub;
}

/*
 * Check a create (create true: url required) or patch body into *out
 * ({"url"?, "enabled"?}); field errors go to c->e.
 */
static int webhook_check(struct api_call *c, const json_t *in, bool create, json_t **out)
{
    static const char *const allowed[] = {"url", "enabled", NULL};
    bool http = c->api->cfg->webhook_allow_http;
    const char *host = NULL;
    size_t hlen = 0;
    *out = json_object();
    api__only_fields(c, in, allowed);
    json_t *v = json_object_get(in, "url");
    if (!v && create) {
        err_field(&c->e, "url", "required");
    } else if (v && !json_is_string(v)) {
        err_field(&c->e, "url", "must be a string");
    } else if (v && util_utf8_chars(json_string_value(v)) > WEBHOOK_URL_MAX) {
        err_field(&c->e, "url", "too long: at most %d characters", WEBHOOK_URL_MAX);
    } else if (v && (json_string_length(v) != strlen(json_string_value(v)) ||
                     !url_valid(json_string_value(v), http, &host, &hlen))) {
        err_field(&c->e, "url", http ? "must be an http:// or https:// URL"
                                     : "must be an https:// URL");
    } else if (v && !c->api->cfg->webhook_allow_private && host_is_private_ip(host, hlen)) {
        err_field(&c->e, "url",
                  "names a loopback, private or reserved address: this hub delivers only to "
                  "public addresses");
    } else if (v) {
        json_object_set(*out, "url", v);
    }
    v = json_object_get(in, "enabled");
    if (v && !json_is_boolean(v))
        err_field(&c->e, "enabled", "must be true or false");
    else if (v)
        json_object_set(*out, "enabled", v);
    if (c->e.code) {
        json_decref(*out);
        *out = NULL;
    }
    return c->e.code;
}

/* ---- access ---- */

/* The organisation in the path, if the caller manages its webhooks; else responds. */
static bool managed_org(struct api_call *c)
{
    const char *org = c->params[0];
    json_t *o = NULL;
    if (!util_is_uuid(org)) {
        api__fail(c, ERR_NOTFOUND, "organisation not found");
        return false;
    }
    if (!auth_can_manage_webhooks(&c->id, org)) {
        api__fail(c, ERR_FORBIDDEN,
                  "only administrators and the organisation's org admins manage its webhooks");
        return false;
    }
    if (store_org_get(c->api->st, org, &o, &c->e)) {
        api__problem(c);
        return false;
    }
    json_decref(o);
    return true;
}

/* The webhook in the path if the caller manages it; else responds 404 and returns NULL. */
static json_t *managed_hook(struct api_call *c)
{
    json_t *h = NULL;
    if (util_is_uuid(c->params[0]) && store_webhook_get(c->api->st, c->params[0], &h, &c->e) == 0 &&
        auth_can_manage_webhooks(&c->id, api__jstr(h, "org_id")))
        return h;
    json_decref(h);
    if (c->e.code && c->e.code != ERR_NOTFOUND) {
        api__problem(c);
        return NULL;
    }
    err_init(&c->e);
    api__fail(c, ERR_NOTFOUND, "webhook not found");
    return NULL;
}

/* ---- handlers ---- */

void api__webhook_list(struct api_call *c)
{
    json_t *items;
    if (!managed_org(c))
        return;
    if (store_webhook_list(c->api->st, c->params[0], &items, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

/* Refuse a new webhook past WEBHOOKS_PER_ORG; sets c->e. */
static int check_room(struct api_call *c, const char *org)
{
    json_t *list = NULL;
    if (store_webhook_list(c->api->st, org, &list, &c->e))
        return c->e.code;
    if (json_array_size(list) >= WEBHOOKS_PER_ORG)
        err_set(&c->e, ERR_CONFLICT, "an organisation has at most %d webhooks", WEBHOOKS_PER_ORG);
    json_decref(list);
    return c->e.code;
}

void api__webhook_create(struct api_call *c)
{
    if (!managed_org(c))
        return;
    json_t *b = api__body(c, WEBHOOK_BODY_MAX), *in = NULL, *out = NULL;
    if (!b)
        return;
    const char *org = c->params[0];
    char id[UTIL_UUID_LEN + 1];
    uint8_t secret[WEBHOOK_SECRET_BYTES];
    randombytes_buf(secret, sizeof(secret));
    util_uuid7(id);
    if (webhook_check(c, b, true, &in) == 0 && check_room(c, org) == 0) {
        json_object_set_new(in, "id", json_string(id));
        json_object_set_new(in, "org_id", json_string(org));
        if (!json_object_get(in, "enabled"))
            json_object_set_new(in, "enabled", json_true());
        if (store_webhook_create(c->api->st, in, secret, sizeof(secret), &c->e) == 0)
            store_webhook_get(c->api->st, id, &out, &c->e);
    }
    json_decref(b);
    json_decref(in);
    if (c->e.code) {
        sodium_memzero(secret, sizeof(secret));
        json_decref(out);
        api__problem(c);
        return;
    }
    char b64[sodium_base64_ENCODED_LEN(WEBHOOK_SECRET_BYTES,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    json_object_set_new(out, "secret", json_string(b64));
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(b64, sizeof(b64));
    api__audit(c, "webhook.create", "webhook", id, "ok", json_pack("{s:s}", "org_id", org));
    api__respond_created(c, "webhooks", id, out);
}

void api__webhook_get(struct api_call *c)
{
    json_t *h = managed_hook(c);
    if (h)
        http_respond_json(c->req, 200, h);
}

void api__webhook_update(struct api_call *c)
{
    json_t *h = managed_hook(c), *b, *patch = NULL, *out = NULL;
    if (!h)
        return;
    if (!(b = api__body(c, WEBHOOK_BODY_MAX))) {
        json_decref(h);
        return;
    }
    if (webhook_check(c, b, false, &patch) == 0) {
        json_object_update(h, patch);
        if (store_webhook_update(c->api->st, h, &c->e) == 0)
            store_webhook_get(c->api->st, api__jstr(h, "id"), &out, &c->e);
    }
    json_decref(b);
    if (c->e.code) {
        json_decref(h);
        json_decref(patch);
        json_decref(out);
        api__problem(c);
        return;
    }
    api__audit(c, "webhook.update", "webhook", api__jstr(h, "id"), "ok",
               json_pack("{s:s,s:o}", "org_id", api__jstr(h, "org_id"), "changed",
                         api__keys(patch)));
    json_decref(h);
    json_decref(patch);
    http_respond_json(c->req, 200, out);
}

void api__webhook_delete(struct api_call *c)
{
    json_t *h = managed_hook(c);
    if (!h)
        return;
    if (store_webhook_delete(c->api->st, api__jstr(h, "id"), &c->e)) {
        json_decref(h);
        api__problem(c);
        return;
    }
    api__audit(c, "webhook.delete", "webhook", api__jstr(h, "id"), "ok",
               json_pack("{s:s}", "org_id", api__jstr(h, "org_id")));
    json_decref(h);
    http_respond_empty(c->req, 204);
}

void api__webhook_log(struct api_call *c)
{
    int limit;
    json_t *h = managed_hook(c), *items;
    if (!h)
        return;
    if (!api__limit(c, WEBHOOK_LOG_DEFAULT, WEBHOOK_LOG_MAX, &limit)) {
        json_decref(h);
        return;
    }
    int rc = store_webhook_log(c->api->st, api__jstr(h, "id"), limit, &items, &c->e);
    json_decref(h);
    if (rc) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}
