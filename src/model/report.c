/*
 * report.c - validation and normalisation of report content; see report.h.
 */
#include "report.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/util.h"
#include "model_int.h"

static const char *const event_types[] = {"near_miss", "confidentiality", "integrity",
                                          "availability", "malware", "code_execution",
                                          "intrusion", "other"};
static const char *const causes[] = {"intentional", "accidental", "environmental", "other"};
static const char *const layers[] = {"near_miss", "malfunction", "outage"};
static const char *const bases[] = {"law", "serious", "voluntary"};
static const char *const statuses[] = {"open", "monitoring", "closed"};
static const char *const kinds[] = {"incident", "near_miss"};
static const char *const obs_types[] = {"ipv4", "ipv6", "cidr", "domain", "url", "email",
                                        "md5", "sha1", "sha256", "file", "cve", "asn",
                                        "attack_technique", "malware", "text"};
static const char *const obs_roles[] = {"attacker", "victim", "other"};
static const char *const viewpoints[] = {"continuity", "safety", "trust"};
static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};

const char *const model_report_fields[] = {
    "kind",        "event_type",  "causes",       "layer",  "severity", "sectors",
    "service",     "title",       "description",  "occurred_at", "detected_at",
    "recovered_at", "basis",      "regime",       "status", "followup", "contact",
    "share_with_hub", "observables", "audience", "tlp", "purpose", "handling", "preapproved",
    NULL};

#define IN(list, s) model__in_list(list, MODEL_NELEM(list), s)

bool model_event_type_valid(const char *c) { return IN(event_types, c); }
bool model_cause_valid(const char *c) { return IN(causes, c); }
bool model_layer_valid(const char *c) { return IN(layers, c); }
bool model_basis_valid(const char *c) { return IN(bases, c); }
bool model_status_valid(const char *c) { return IN(statuses, c); }
bool model_observable_type_valid(const char *t) { return IN(obs_types, t); }
bool model_tlp_valid(const char *l) { return IN(tlps, l); }

/* ---- observables ---- */

static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static bool all_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 253 || !strchr(d, '.'))
        return false;
    const char *label = d;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t l = (size_t)(p - label);
            if (l == 0 || l > 63 || label[0] == '-' || p[-1] == '-')
                return false;
            if (*p == '\0')
                break;
            label = p + 1;
        } else if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_')) {
            return false;
        }
    }
    /* the top-level label is not all digits (that would be an IPv4 address) */
    const char *tld = strrchr(d, '.') + 1;
    for (const char *p = tld; *p; p++)
        if (!isdigit((unsigned char)*p))
            return true;
    return false;
}

static bool norm_ip(int af, const char *v, char *out, size_t n)
{
    unsigned char a[16];
    return inet_pton(af, v, a) == 1 && inet_ntop(af, a, out, (socklen_t)n) != NULL;
}

bool model_observable_norm(const char *type, const char *value, char **out, const char **reason)
{
    char buf[INET6_ADDRSTRLEN + 8];
    *out = NULL;
    if (!strcmp(type, "ipv4")) {
        /* inet_pton(AF_INET) takes dotted decimal only: no octal, no short forms. */
        if (!norm_ip(AF_INET, value, buf, sizeof(buf)))
            return *reason = "not an IPv4 address", false;
        *out = xstrdup(buf);
    } else if (!strcmp(type, "ipv6")) {
        if (!norm_ip(AF_INET6, value, buf, sizeof(buf)))
            return *reason = "not an IPv6 address", false;
        *out = xstrdup(buf); /* RFC 5952 form: lower case, longest zero run compressed */
    } else if (!strcmp(type, "cidr")) {
        const char *slash = strchr(value, '/');
        char addr[INET6_ADDRSTRLEN];
        long long bits;
        if (!slash || (size_t)(slash - value) >= sizeof(addr))
            return *reason = "not a network in ADDRESS/PREFIX form", false;
        snprintf(addr, sizeof(addr), "%.*s", (int)(slash - value), value);
        unsigned char a[16];
        int af = strchr(addr, ':') ? AF_INET6 : AF_INET;
        int max = af == AF_INET6 ? 128 : 32;
        if (inet_pton(af, addr, a) != 1 || !util_parse_int(slash + 1, 0, max, &bits))
            return *reason = "not a network in ADDRESS/PREFIX form", false;
        /* Canonical form names the network: host bits cleared. */
        for (int i = 0; i < max / 8; i++) {
            int keep = (int)bits - i * 8;
            a[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        }
        inet_ntop(af, a, buf, sizeof(buf));
        char res[64];
        snprintf(res, sizeof(res), "%s/%lld", buf, bits);
        *out = xstrdup(res);
    } else if (!strcmp(type, "domain")) {
        char *d = lower_dup(value);
        size_t n = strlen(d);
        if (n && d[n - 1] == '.')
            d[n - 1] = '\0';
        if (!domain_ok(d)) {
            free(d);
            *reason = "not a domain name (use the xn-- form for international names)";
            return false;
        }
        *out = d;
    } else if (!strcmp(type, "url")) {
        const char *colon = strstr(value, "://");
        if (!colon || colon == value || strlen(value) > 2048)
            return *reason = "not a URL with a scheme (https://...)", false;
        for (const char *p = value; *p; p++)
            if (isspace((unsigned char)*p))
                return *reason = "a URL may not contain spaces", false;
        /* Scheme and host are case-insensitive: lower them, keep the rest (user info too). */
        char *u = xstrdup(value);
        char *auth = u + (colon - value) + 3;
        char *end = auth + strcspn(auth, "/?#");
        char *host = auth;
        for (char *p = auth; p < end; p++)
            if (*p == '@')
                host = p + 1;
        if (end == host) {
            free(u);
            return *reason = "the URL has no host", false;
        }
        for (char *p = u; p < auth; p++)
            *p = (char)tolower((unsigned char)*p);
        for (char *p = host; p < end; p++)
            *p = (char)tolower((unsigned char)*p);
        *out = u;
    } else if (!strcmp(type, "email")) {
        if (!model__email_valid(value))
            return *reason = "not an e-mail address", false;
        char *m = xstrdup(value);
        for (char *p = strchr(m, '@'); *p; p++)
            *p = (char)tolower((unsigned char)*p);
        *out = m;
    } else if (!strcmp(type, "md5") || !strcmp(type, "sha1") || !strcmp(type, "sha256")) {
        size_t n = type[1] == 'd' ? 32 : type[3] == '1' ? 40 : 64;
        if (!all_hex(value, n)) {
            *reason = n == 32 ? "an MD5 hash is 32 hex digits"
                    : n == 40 ? "a SHA-1 hash is 40 hex digits"
                              : "a SHA-256 hash is 64 hex digits";
            return false;
        }
        *out = lower_dup(value);
    } else if (!strcmp(type, "file")) {
        if (strchr(value, '/') || strchr(value, '\\') || strlen(value) > 255 || !*value)
            return *reason = "a file name without directories, at most 255 bytes", false;
        *out = xstrdup(value);
    } else if (!strcmp(type, "cve")) {
        char *c = xstrdup(value);
        for (char *p = c; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        int y;
        size_t n = strlen(c);
        bool ok = n >= 13 && n <= 20 && !strncmp(c, "CVE-", 4) && c[8] == '-' &&
                  sscanf(c + 4, "%4d", &y) == 1 && y >= 1999;
        for (size_t i = 9; ok && i < n; i++)
            ok = isdigit((unsigned char)c[i]);
        for (size_t i = 4; ok && i < 8; i++)
            ok = isdigit((unsigned char)c[i]);
        if (!ok) {
            free(c);
            return *reason = "not a CVE id (CVE-YYYY-NNNN)", false;
        }
        *out = c;
    } else if (!strcmp(type, "asn")) {
        const char *d = value;
        if (!strncasecmp(d, "as", 2))
            d += 2;
        long long n;
        if (!util_parse_int(d, 1, 4294967295LL, &n))
            return *reason = "not an AS number (AS1 to AS4294967295)", false;
        char res[24];
        snprintf(res, sizeof(res), "AS%lld", n);
        *out = xstrdup(res);
    } else if (!strcmp(type, "attack_technique")) {
        char *t = xstrdup(value);
        for (char *p = t; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        size_t n = strlen(t);
        bool ok = (n == 5 || n == 9) && t[0] == 'T';
        for (size_t i = 1; ok && i < 5; i++)
            ok = isdigit((unsigned char)t[i]);
        if (ok && n == 9) {
            ok = t[5] == '.';
            for (size_t i = 6; ok && i < 9; i++)
                ok = isdigit((unsigned char)t[i]);
        }
        if (!ok) {
            free(t);
            return *reason = "not an ATT&CK technique id (T1234 or T1234.001)", false;
        }
        *out = t;
    } else if (!strcmp(type, "malware") || !strcmp(type, "text")) {
        if (model__blank(value))
            return *reason = "must not be blank", false;
        *out = xstrdup(value);
    } else {
        return *reason = "unknown observable type", false;
    }
    return true;
}

/* ---- content ---- */

static void set_or_null(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, v ? json_string(v) : json_null());
}

/* A code field: string from list, or null when nullable. */
static void code_field(const json_t *in, json_t *o, const char *k, const char *const *list,
                       size_t n, bool required, bool nullable, const char *what, struct err *e)
{
    json_t *v = json_object_get(in, k);
    if (v == NULL) {
        if (required)
            err_field(e, k, "required");
        return;
    }
    if (json_is_null(v) && nullable) {
        json_object_set_new(o, k, json_null());
        return;
    }
    const char *s = json_string_value(v);
    if (!model__in_list(list, n, s)) {
        err_field(e, k, "%s", what);
        return;
    }
    json_object_set_new(o, k, json_string(s));
}

static void text_or_null(const json_t *in, json_t *o, const char *k, size_t max, bool multiline,
                         struct err *e)
{
    json_t *v = json_object_get(in, k);
    if (v == NULL)
        return;
    if (json_is_null(v)) {
        json_object_set_new(o, k, json_null());
        return;
    }
    const char *s = model__text(v, k, max, false, multiline, e);
    if (s && model__blank(s))
        json_object_set_new(o, k, json_null());
    else if (s) /* the checked string itself: no copy of a long text */
        json_object_set(o, k, v);
}

static void time_field(const json_t *in, json_t *o, const char *k, int64_t now, struct err *e)
{
    json_t *v = json_object_get(in, k);
    if (v == NULL)
        return;
    if (json_is_null(v)) {
        json_object_set_new(o, k, json_null());
        return;
    }
    const char *s = json_string_value(v);
    int64_t t;
    int off;
    if (s == NULL || !util_time_parse(s, &t, &off)) {
        err_field(e, k, "must be an RFC 3339 date-time with an offset, e.g. 2026-05-12T18:30:00+09:00");
        return;
    }
    if (t > now + 300) {
        err_field(e, k, "is in the future");
        return;
    }
    json_object_set_new(o, k, json_string(s));
}

static void severity_field(const json_t *in, json_t *o, bool create, struct err *e)
{
    json_t *v = json_object_get(in, "severity");
    if (v == NULL && !create)
        return;
    json_t *sev = json_object();
    if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
        err_field(e, "severity", "must be an object with continuity, safety and trust");
        json_decref(sev);
        return;
    }
    if (v != NULL && json_is_null(v)) {
        /* null: none of the viewpoints is assessed (any more) */
        for (size_t i = 0; i < MODEL_NELEM(viewpoints); i++)
            json_object_set_new(sev, viewpoints[i], json_null());
        json_object_set_new(o, "severity", sev);
        return;
    }
    static const char *const allowed[] = {"continuity", "safety", "trust", "overall", NULL};
    if (v && json_is_object(v))
        model__check_unknown(v, "severity.", allowed, e);
    for (size_t i = 0; i < MODEL_NELEM(viewpoints); i++) {
        json_t *x = v ? json_object_get(v, viewpoints[i]) : NULL;
        if (x == NULL && !create)
            continue; /* a revision changes only the viewpoints it names */
        if (x == NULL || json_is_null(x)) {
            json_object_set_new(sev, viewpoints[i], json_null());
        } else if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                   json_integer_value(x) > 4) {
            char f[48];
            snprintf(f, sizeof(f), "severity.%s", viewpoints[i]);
            err_field(e, f, "must be a level from 0 to 4, or null when not assessed");
        } else {
            json_object_set(sev, viewpoints[i], x);
        }
    }
    /* overall is derived (model_report_finish); a given one must agree or is ignored */
    json_object_set_new(o, "severity", sev);
}

static void causes_field(const json_t *in, json_t *o, struct err *e)
{
    json_t *v = json_object_get(in, "causes");
    if (v == NULL)
        return;
    if (json_is_null(v)) {
        json_object_set_new(o, "causes", json_array());
        return;
    }
    if (!json_is_array(v) || json_array_size(v) > LIMIT_REPORT_CAUSES) {
        err_field(e, "causes", "must be an array of at most %d causes", LIMIT_REPORT_CAUSES);
        return;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c)
    {
        /* "causes[i]" once, then its fields' paths by appending (paths name errors) */
        char f[64];
        int np = snprintf(f, sizeof(f), "causes[%zu]", i);
        size_t pn = np > 0 && (size_t)np < sizeof(f) ? (size_t)np : 0;
        if (!json_is_object(c)) {
            err_field(e, f, "must be an object with code and detail");
            continue;
        }
        static const char *const allowed[] = {"code", "detail", NULL};
        util_strlcpy(f + pn, ".", sizeof(f) - pn);
        model__check_unknown(c, f, allowed, e);
        const char *code = json_string_value(json_object_get(c, "code"));
        if (!IN(causes, code)) {
            util_strlcpy(f + pn, ".code", sizeof(f) - pn);
            err_field(e, f, "must be intentional, accidental, environmental or other");
            continue;
        }
        util_strlcpy(f + pn, ".detail", sizeof(f) - pn);
        json_t *dv = json_object_get(c, "detail");
        const char *detail = json_is_null(dv) ? NULL
                                               : model__text(dv, f, LIMIT_REPORT_DETAIL, false,
                                                             true, e);
        json_array_append_new(arr, json_pack("{s:s,s:O}", "code", code, "detail",
                                             detail && !model__blank(detail) ? dv : json_null()));
    }
    json_object_set_new(o, "causes", arr);
}

static void sectors_field(const json_t *in, json_t *o, bool create,
                          const struct model_report_ctx *ctx, struct err *e)
{
    json_t *v = json_object_get(in, "sectors");
    if (v == NULL) {
        if (create)
            err_field(e, "sectors", "required: name at least one affected sector");
        return;
    }
    if (json_is_array(v) && json_array_size(v) == 0) {
        err_field(e, "sectors", "must be an array of at least one sector code");
        return;
    }
    json_t *arr = model__sector_codes(v, ctx->sectors, false, e);
    if (arr)
        json_object_set_new(o, "sectors", arr);
}

static void contact_field(const json_t *in, json_t *o, struct err *e)
{
    json_t *v = json_object_get(in, "contact");
    if (v == NULL)
        return;
    if (json_is_null(v)) {
        json_object_set_new(o, "contact", json_null());
        return;
    }
    if (!json_is_object(v)) {
        err_field(e, "contact", "must be an object with name, email and phone");
        return;
    }
    static const char *const allowed[] = {"name", "email", "phone", NULL};
    model__check_unknown(v, "contact.", allowed, e);
    json_t *c = json_object();
    const char *name = model__text(json_object_get(v, "name"), "contact.name", LIMIT_NAME_CHARS,
                                   false, false, e);
    const char *email = model__text(json_object_get(v, "email"), "contact.email",
                                    LIMIT_EMAIL_MAX, false, false, e);
    const char *phone = model__text(json_object_get(v, "phone"), "contact.phone", 40, false,
                                    false, e);
    if (email && *email && !model__email_valid(email))
        err_field(e, "contact.email", "not an e-mail address");
    set_or_null(c, "name", name && !model__blank(name) ? name : NULL);
    set_or_null(c, "email", email && *email ? email : NULL);
    set_or_null(c, "phone", phone && *phone ? phone : NULL);
    json_object_set_new(o, "contact", c);
}

/*
 * "observables[i]" + suffix into buf (64 bytes), without printf: every
 * observable of every report needs these paths ready in case of an error.
 */
static const char *obs_path(char *buf, size_t i, const char *suffix)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i && n < sizeof(digits));
    static const char head[] = "observables[";
    size_t k = sizeof(head) - 1;
    memcpy(buf, head, k);
    while (n)
        buf[k++] = digits[--n];
    buf[k++] = ']';
    util_strlcpy(buf + k, suffix, 64 - k);
    return buf;
}

int model_observables_check(const json_t *v, size_t max, json_t **out, struct err *e)
{
    *out = NULL;
    if (!json_is_array(v))
        return err_field(e, "observables", "must be an array");
    if (json_array_size(v) > max)
        return err_field(e, "observables", "too many: %zu, at most %zu", json_array_size(v),
                         max);
    size_t before = e->nfields;
    bool was_truncated = e->fields_truncated;
    json_t *arr = json_array();
    /* the kept observables' type and value (strings owned by arr), to drop repeats */
    size_t nkept = 0, cap = json_array_size(v) ? json_array_size(v) : 1;
    const char **kept_type = xcalloc(cap, sizeof(*kept_type));
    const char **kept_value = xcalloc(cap, sizeof(*kept_value));
    size_t i;
    json_t *ob;
    json_array_foreach(v, i, ob)
    {
        char f[64];
        if (!json_is_object(ob)) {
            err_field(e, obs_path(f, i, ""), "must be an object with type, value and role");
            continue;
        }
        static const char *const allowed[] = {"type", "value", "role", NULL};
        model__check_unknown(ob, obs_path(f, i, "."), allowed, e);
        obs_path(f, i, ".type");
        const char *type = json_string_value(json_object_get(ob, "type"));
        if (!IN(obs_types, type)) {
            err_field(e, f, "unknown type: one of ipv4, ipv6, cidr, domain, url, email, md5, "
                            "sha1, sha256, file, cve, asn, attack_technique, malware, text");
            continue;
        }
        obs_path(f, i, ".role");
        json_t *rv = json_object_get(ob, "role");
        const char *role = rv ? json_string_value(rv) : "other";
        if (!IN(obs_roles, role)) {
            err_field(e, f, "must be attacker, victim or other");
            continue;
        }
        obs_path(f, i, ".value");
        json_t *given = json_object_get(ob, "value");
        const char *value = model__text(given, f, LIMIT_OBSERVABLE_CHARS, true, false, e);
        if (value == NULL)
            continue;
        char *norm = NULL;
        const char *reason = NULL;
        if (!model_observable_norm(type, value, &norm, &reason)) {
            err_field(e, f, "%s", reason);
            continue;
        }
        /* The same typed value twice says nothing more: keep the first. */
        bool dup = false;
        for (size_t k = 0; k < nkept && !dup; k++)
            dup = !strcmp(kept_value[k], norm) && !strcmp(kept_type[k], type);
        if (!dup) {
            json_t *o = json_object(), *tj = json_string_nocheck(type);
            /* an already normal value (the usual case) is shared, not copied */
            json_t *vj = strcmp(norm, value) ? json_string_nocheck(norm) : json_incref(given);
            json_object_set_new_nocheck(o, "type", tj);
            json_object_set_new_nocheck(o, "value", vj);
            json_object_set_new_nocheck(o, "role", json_string_nocheck(role));
            json_array_append_new(arr, o);
            kept_type[nkept] = json_string_value(tj);
            kept_value[nkept++] = json_string_value(vj);
        }
        free(norm);
    }
    free(kept_type);
    free(kept_value);
    /* Errors of other fields reported before do not fail this one. */
    if (e->nfields != before || e->fields_truncated != was_truncated) {
        json_decref(arr);
        return e->code;
    }
    *out = arr;
    return 0;
}

static void observables_field(const json_t *in, json_t *o, struct err *e)
{
    json_t *v = json_object_get(in, "observables"), *arr = NULL;
    if (v == NULL)
        return;
    if (json_is_null(v)) {
        json_object_set_new(o, "observables", json_array());
        return;
    }
    if (model_observables_check(v, LIMIT_REPORT_OBSERVABLES, &arr, e) == 0)
        json_object_set_new(o, "observables", arr);
}

/* Organisation ids of audience.orgs: UUIDs, no duplicates. */
static json_t *org_ids(const json_t *v, struct err *e)
{
    if (!json_is_array(v) || json_array_size(v) > LIMIT_AUDIENCE_ORGS) {
        err_field(e, "audience.orgs", "must be an array of at most %d organisation ids",
                  LIMIT_AUDIENCE_ORGS);
        return NULL;
    }
    json_t *arr = json_array();
    size_t i, j;
    json_t *x, *t;
    json_array_foreach(v, i, x)
    {
        char f[48];
        snprintf(f, sizeof(f), "audience.orgs[%zu]", i);
        const char *id = json_string_value(x);
        if (!util_is_uuid(id)) {
            err_field(e, f, "not an organisation id");
            continue;
        }
        bool dup = false;
        json_array_foreach(arr, j, t) dup = dup || !strcmp(json_string_value(t), id);
        if (!dup)
            json_array_append_new(arr, json_string(id));
    }
    return arr;
}

/*
 * audience: who beyond the coordinator may receive releases. Absent parts
 * are empty: {} is "the coordinator only". A revision replaces it whole.
 */
static void audience_field(const json_t *in, json_t *o, bool create, bool with_hub,
                           const struct model_report_ctx *ctx, struct err *e)
{
    json_t *v = json_object_get(in, "audience");
    if (v == NULL && !create)
        return;
    if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
        err_field(e, "audience", "must be an object with orgs, sectors, tiers and all_members");
        return;
    }
    static const char *const allowed[] = {"orgs", "sectors", "tiers", "all_members", NULL};
    static const char *const allowed_hub[] = {"hub",   "orgs",        "sectors",
                                              "tiers", "all_members", NULL};
    if (json_is_object(v))
        model__check_unknown(v, "audience.", with_hub ? allowed_hub : allowed, e);
    json_t *hub = json_object_get(v, "hub");
    if (with_hub && hub && !json_is_boolean(hub))
        err_field(e, "audience.hub", "must be true or false");
    json_t *a = json_object(), *x;
    size_t before = e->nfields;
    x = json_object_get(v, "orgs");
    json_t *orgs = x ? org_ids(x, e) : json_array();
    x = json_object_get(v, "sectors");
    json_t *secs = NULL;
    if (x) {
        struct err se;
        err_init(&se);
        secs = model__sector_codes(x, ctx->sectors, false, &se);
        for (size_t i = 0; i < se.nfields; i++) {
            char f[sizeof(se.fields[i].field) + 16];
            snprintf(f, sizeof(f), "audience.%s", se.fields[i].field);
            err_field(e, f, "%s", se.fields[i].reason);
        }
    } else {
        secs = json_array();
    }
    json_t *tiers = json_array();
    x = json_object_get(v, "tiers");
    if (x && !json_is_array(x)) {
        err_field(e, "audience.tiers", "must be an array of tier codes");
    } else {
        size_t i;
        json_t *t;
        json_array_foreach(x, i, t)
        {
            char f[48];
            snprintf(f, sizeof(f), "audience.tiers[%zu]", i);
            bool dup = false;
            size_t j;
            json_t *u;
            json_array_foreach(tiers, j, u) dup = dup || json_equal(u, t);
            if (!model_vocab_has(ctx->tiers, json_string_value(t)))
                err_field(e, f, "unknown tier code");
            else if (!dup)
                json_array_append(tiers, t);
        }
    }
    x = json_object_get(v, "all_members");
    if (x && !json_is_boolean(x))
        err_field(e, "audience.all_members", "must be true or false");
    if (e->nfields != before || !orgs || !secs) {
        json_decref(orgs);
        json_decref(secs);
        json_decref(tiers);
        json_decref(a);
        return;
    }
    json_object_set_new(a, "orgs", orgs);
    json_object_set_new(a, "sectors", secs);
    json_object_set_new(a, "tiers", tiers);
    json_object_set_new(a, "all_members", json_boolean(json_is_true(x)));
    if (with_hub)
        json_object_set_new(a, "hub", json_boolean(json_is_true(hub)));
    json_object_set_new(o, "audience", a);
}

int model_report_check(const json_t *in, enum model_mode mode,
                       const struct model_report_ctx *ctx, json_t **out, struct err *e)
{
    if (!json_is_object(in))
        return err_field(e, "", "must be a JSON object");
    bool create = mode == MODEL_CREATE;
    model__check_unknown(in, "", model_report_fields, e);
    json_t *o = json_object();

    code_field(in, o, "event_type", event_types, MODEL_NELEM(event_types), create, false,
               "unknown event type: one of near_miss, confidentiality, integrity, availability, "
               "malware, code_execution, intrusion, other", e);
    code_field(in, o, "kind", kinds, MODEL_NELEM(kinds), false, create,
               "must be incident or near_miss", e);
    causes_field(in, o, e);
    code_field(in, o, "layer", layers, MODEL_NELEM(layers), false, true,
               "must be near_miss, malfunction or outage", e);
    severity_field(in, o, create, e);
    sectors_field(in, o, create, ctx, e);
    text_or_null(in, o, "service", LIMIT_NAME_CHARS, false, e);
    json_t *tv = json_object_get(in, "title");
    if (tv || create) {
        const char *title = model__text(tv, "title", LIMIT_REPORT_TITLE, true, false, e);
        if (title && model__blank(title))
            err_field(e, "title", "must not be blank");
        else if (title)
            json_object_set(o, "title", tv);
    }
    text_or_null(in, o, "description", LIMIT_REPORT_DESCRIPTION, true, e);
    time_field(in, o, "occurred_at", ctx->now, e);
    time_field(in, o, "detected_at", ctx->now, e);
    time_field(in, o, "recovered_at", ctx->now, e);
    code_field(in, o, "basis", bases, MODEL_NELEM(bases), false, true,
               "must be law, serious or voluntary", e);
    json_t *rg = json_object_get(in, "regime");
    if (rg && !json_is_null(rg) && !model_vocab_has(ctx->regimes, json_string_value(rg)))
        err_field(e, "regime", "unknown regime code");
    else if (rg)
        json_object_set(o, "regime", rg);
    code_field(in, o, "status", statuses, MODEL_NELEM(statuses), false, false,
               "must be open, monitoring or closed", e);
    text_or_null(in, o, "followup", LIMIT_REPORT_DETAIL, true, e);
    contact_field(in, o, e);
    json_t *sh = json_object_get(in, "share_with_hub");
    if (sh && !json_is_boolean(sh))
        err_field(e, "share_with_hub", "must be true or false");
    else if (sh)
        json_object_set(o, "share_with_hub", sh);
    observables_field(in, o, e);
    /* The provider approves releases of this report in advance (absent: it is asked each time). */
    json_t *pa = json_object_get(in, "preapproved");
    if (pa && !json_is_boolean(pa))
        err_field(e, "preapproved", "must be true or false");
    else if (pa)
        json_object_set(o, "preapproved", pa);
    audience_field(in, o, create, false, ctx, e);
    json_t *tv2 = json_object_get(in, "tlp");
    if (tv2 && !model_tlp_valid(json_string_value(tv2)))
        err_field(e, "tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
    else if (tv2)
        json_object_set(o, "tlp", tv2);
    text_or_null(in, o, "purpose", LIMIT_MARKING_TEXT, true, e);
    text_or_null(in, o, "handling", LIMIT_MARKING_TEXT, true, e);

    if (create) {
        /* Defaults of a first report: unknown is null, lists are empty. */
        static const char *const nulls[] = {"layer",  "service",  "description", "occurred_at",
                                            "detected_at", "recovered_at", "basis", "regime",
                                            "followup", "contact", "purpose", "handling"};
        for (size_t i = 0; i < MODEL_NELEM(nulls); i++)
            if (!json_object_get(o, nulls[i]))
                json_object_set_new(o, nulls[i], json_null());
        if (!json_object_get(o, "causes"))
            json_object_set_new(o, "causes", json_array());
        if (!json_object_get(o, "observables"))
            json_object_set_new(o, "observables", json_array());
        if (!json_object_get(o, "status"))
            json_object_set_new(o, "status", json_string("open"));
        if (!json_object_get(o, "share_with_hub"))
            json_object_set_new(o, "share_with_hub", json_false());
        if (!json_object_get(o, "preapproved"))
            json_object_set_new(o, "preapproved", json_false());
        /* TLP:AMBER unless the provider says otherwise: limited disclosure, need to know. */
        if (!json_object_get(o, "tlp"))
            json_object_set_new(o, "tlp", json_string("AMBER"));
        json_t *k = json_object_get(o, "kind");
        if (!k || json_is_null(k)) {
            const char *et = json_string_value(json_object_get(o, "event_type"));
            json_object_set_new(o, "kind",
                                json_string(et && !strcmp(et, "near_miss") ? "near_miss"
                                                                           : "incident"));
        }
    }
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

static bool time_of(const json_t *c, const char *k, int64_t *t)
{
    int off;
    const char *s = json_string_value(json_object_get(c, k));
    return s && util_time_parse(s, t, &off);
}

int model_report_finish(json_t *c, struct err *e)
{
    /* Nothing marked for few eyes may be addressed to many. */
    const char *tlp = json_string_value(json_object_get(c, "tlp"));
    json_t *aud = json_object_get(c, "audience");
    if (tlp && !strcmp(tlp, "RED") &&
        (json_is_true(json_object_get(aud, "all_members")) ||
         json_array_size(json_object_get(aud, "sectors")) ||
         json_array_size(json_object_get(aud, "tiers"))))
        err_field(e, "audience", "TLP:RED is for named recipients: name organisations, not "
                                 "sectors, tiers or all members");
    json_t *sev = json_object_get(c, "severity");
    json_int_t overall = -1;
    for (size_t i = 0; i < MODEL_NELEM(viewpoints); i++) {
        json_t *x = json_object_get(sev, viewpoints[i]);
        if (json_is_integer(x) && json_integer_value(x) > overall)
            overall = json_integer_value(x);
    }
    json_object_set_new(sev, "overall", overall >= 0 ? json_integer(overall) : json_null());
    int64_t occ, det, rec;
    bool has_occ = time_of(c, "occurred_at", &occ);
    if (has_occ && time_of(c, "detected_at", &det) && det < occ)
        err_field(e, "detected_at", "is before occurred_at");
    if (has_occ && time_of(c, "recovered_at", &rec) && rec < occ)
        err_field(e, "recovered_at", "is before occurred_at");
    return e->code;
}

json_t *model_report_diff(const json_t *before, const json_t *after)
{
    json_t *d = json_array();
    for (const char *const *f = model_report_fields; *f; f++) {
        json_t *a = json_object_get(before, *f), *b = json_object_get(after, *f);
        if (!json_equal(a ? a : json_null(), b ? b : json_null()))
            json_array_append_new(d, json_pack("{s:s,s:O,s:O}", "field", *f, "before",
                                               a ? a : json_null(), "after",
                                               b ? b : json_null()));
    }
    return d;
}

int model_audience_check(const json_t *in, const struct model_report_ctx *ctx, json_t **out,
                         struct err *e)
{
    json_t *wrap = json_pack("{s:O}", "audience", in), *o = json_object();
    audience_field(wrap, o, true, true, ctx, e);
    json_decref(wrap);
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = json_incref(json_object_get(o, "audience"));
    json_decref(o);
    if (*out == NULL)
        return err_field(e, "audience", "must be an object");
    return 0;
}

int model_tlp_rank(const char *label)
{
    for (size_t i = 0; i < MODEL_NELEM(tlps); i++)
        if (label && !strcmp(label, tlps[i]))
            return (int)i;
    return -1;
}

/* Every string of a (array) is in b (array). */
static const char *not_within(const json_t *a, const json_t *b, const char *field, char *buf,
                              size_t n)
{
    size_t i, j;
    json_t *x, *y;
    json_array_foreach(a, i, x)
    {
        bool found = false;
        json_array_foreach(b, j, y) found = found || json_equal(x, y);
        if (!found) {
            snprintf(buf, n, "audience.%s[%zu]", field, i);
            return buf;
        }
    }
    return NULL;
}

const char *model_audience_widens(const json_t *narrow, const json_t *wide, char *buf, size_t n)
{
    if (json_is_true(json_object_get(wide, "all_members")))
        return NULL; /* everyone already: any audience is within it */
    if (json_is_true(json_object_get(narrow, "all_members")))
        return "audience.all_members";
    if (json_is_true(json_object_get(narrow, "hub")) &&
        !json_is_true(json_object_get(wide, "hub")))
        return "audience.hub";
    static const char *const lists[] = {"orgs", "sectors", "tiers"};
    for (size_t i = 0; i < MODEL_NELEM(lists); i++) {
        const char *f = not_within(json_object_get(narrow, lists[i]),
                                   json_object_get(wide, lists[i]), lists[i], buf, n);
        if (f)
            return f;
    }
    return NULL;
}

bool model_tlp_red_ok(const json_t *audience)
{
    return !json_is_true(json_object_get(audience, "all_members")) &&
           !json_is_true(json_object_get(audience, "hub")) &&
           json_array_size(json_object_get(audience, "sectors")) == 0 &&
           json_array_size(json_object_get(audience, "tiers")) == 0;
}
