/*
 * anon_rules.c - rules as data: the built-in set, compiling a set, and the
 * match loop every scan goes through (limits, JIT stack, UTF-8 steps).
 */
#include "anon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define LABEL ANON__LABEL
/* Top-level domains we treat as hosts: common public ones and internal-only ones. */
#define TLDS                                                                                  \
    "(?:com|net|org|edu|gov|mil|int|info|biz|name|pro|io|co|jp|us|uk|de|fr|it|es|nl|be|ch|"  \
    "se|no|fi|dk|pl|cz|at|ru|ua|cn|kr|tw|hk|sg|in|id|th|vn|my|ph|au|nz|ca|br|mx|eu|asia|"     \
    "xyz|top|online|site|club|app|dev|cloud|tech|local|localdomain|internal|intranet|intra|" \
    "corp|lan|home|example|test|invalid|onion)"
#define IP4_OCTET "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
#define IP4 "(?<![0-9.])(?:" IP4_OCTET "\\.){3}" IP4_OCTET "(?:/(?:3[0-2]|[12]?[0-9]))?(?![0-9]|\\.[0-9])"
#define H16 "[0-9a-f]{1,4}"
/* The usual compressed forms; the final look-ahead makes PCRE2 take the whole address. */
#define IP6                                                                                   \
    "(?<![0-9a-f:.])(?:(?:" H16 ":){7}" H16 "|(?:" H16 ":){1,7}:|(?:" H16 ":){1,6}:" H16     \
    "|(?:" H16 ":){1,5}(?::" H16 "){1,2}|(?:" H16 ":){1,4}(?::" H16 "){1,3}|(?:" H16         \
    ":){1,3}(?::" H16 "){1,4}|(?:" H16 ":){1,2}(?::" H16 "){1,5}|" H16 ":(?::" H16           \
    "){1,6}|:(?:(?::" H16 "){1,7}|:))(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?(?![0-9a-f:])"

static const struct {
    const char *id, *kind, *pattern, *description;
} default_rules[] = {
    {"email", "email",
     "(?<![a-z0-9._%+-])[a-z0-9._%+-]{1,64}@(?:" LABEL "\\.)+[a-z]{2,63}(?![a-z0-9-])",
     "e-mail addresses"},
    {"url", "url",
     "(?<![a-z0-9])(?:https?|ftps?|sftp|ldaps?|smb|rdp|ssh|telnet)://"
     "[a-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]+(?<![.,;:!?)\\]'])",
     "URLs (ASCII; trailing punctuation is left out)"},
    {"phone", "phone",
     "(?<![0-9a-z+])(?:"
     "\\+[1-9][0-9]{0,2}(?:[ .-]?\\(0\\))?(?:[ .-]?[0-9]{1,4}){2}[ .-]?[0-9]{3,4}"
     "|\\(0[0-9]{1,4}\\)[ -]?[0-9]{1,4}-[0-9]{3,4}"
     "|0[0-9]{1,4}[ -][0-9]{1,4}[ -][0-9]{3,4}"
     "|0[0-9]{1,4}\\([0-9]{1,4}\\)[0-9]{3,4}"
     "|0[0-9]{9,10})(?![0-9])",
     "phone numbers: Japanese (03-1234-5678, 090-1234-5678, 0120-123-456) and "
     "international (+81 3 1234 5678)"},
    {"ipv4", "ip", IP4, "IPv4 addresses and networks"},
    {"ipv6", "ip", IP6, "IPv6 addresses and networks"},
    {"hostname", "host",
     "(?<![a-z0-9._%+@/-])(?:" LABEL "\\.)+" TLDS "(?![a-z0-9-]|\\.[a-z0-9])",
     "host and domain names under a known top-level domain"},
};

json_t *anon_rules_default(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "id", default_rules[i].id,
                                           "kind", default_rules[i].kind, "pattern",
                                           default_rules[i].pattern, "description",
                                           default_rules[i].description));
    return a;
}

pcre2_code *anon__compile(const char *pat, size_t len, bool caseless, bool jit, char *msg,
                          size_t msgsz)
{
    int ec;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | (caseless ? PCRE2_CASELESS : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, opts, &ec, &off, NULL);
    if (re == NULL) {
        PCRE2_UCHAR m[160];
        if (pcre2_get_error_message(ec, m, sizeof(m)) < 0)
            snprintf((char *)m, sizeof(m), "error %d", ec);
        snprintf(msg, msgsz, "%s at offset %zu", (const char *)m, (size_t)off);
        return NULL;
    }
    /* Without JIT support (some platforms, or SELinux) the interpreter is still correct. */
    if (jit)
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

int anon__matcher_init(struct anon__matcher *m)
{
    m->md = pcre2_match_data_create(1, NULL);
    m->mc = pcre2_match_context_create(NULL);
    m->js = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (m->md == NULL || m->mc == NULL || m->js == NULL) {
        anon__matcher_release(m);
        return ERR_NOMEM;
    }
    pcre2_set_match_limit(m->mc, ANON_MATCH_LIMIT);
    pcre2_set_depth_limit(m->mc, ANON_DEPTH_LIMIT);
    pcre2_jit_stack_assign(m->mc, NULL, m->js);
    return 0;
}

void anon__matcher_release(struct anon__matcher *m)
{
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mc);
    pcre2_jit_stack_free(m->js);
    m->md = NULL;
    m->mc = NULL;
    m->js = NULL;
}

int anon__scan(const pcre2_code *re, struct anon__matcher *m, const char *s, size_t n,
               anon__hit_fn *hit, void *arg)
{
    size_t at = 0;
    while (at <= n) {
        /* The caller checked the UTF-8 once; re-checking per call would be quadratic. */
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, m->md, m->mc);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc < 0)
            return ERR_INTERNAL;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
        size_t start = ov[0], end = ov[1];
        if (end > start) {
            int r = hit(start, end, arg);
            if (r < 0)
                return r;
            at = end;
        } else {
            /* An empty match: step one whole character so offsets stay on boundaries. */
            at = start + 1;
            while (at < n && ((unsigned char)s[at] & 0xc0) == 0x80)
                at++;
        }
    }
    return 0;
}

int anon__cands_add(struct anon__cands *c, const struct anon__cand *x)
{
    if (c->n >= 4 * (size_t)ANON_MAX_REDACTIONS)
        return ERR_TOOBIG;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        struct anon__cand *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL)
            return ERR_NOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *x;
    return 0;
}

void anon__cands_release(struct anon__cands *c)
{
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ANON_MAX_RULE_ID || !strncmp(s, "org:", 4))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

bool anon__kind_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ANON_MAX_KIND || s[0] < 'a' || s[0] > 'z')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

void anon_rules_free(struct anon_rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].id);
        free(r->v[i].kind);
        pcre2_code_free(r->v[i].re);
    }
    free(r->v);
    pcre2_code_free(r->ip4);
    pcre2_code_free(r->ip6);
    free(r);
}

size_t anon_rules_count(const struct anon_rules *r)
{
    return r->n;
}

/* Check and compile rules[i] into *out; field errors name rules[i].<member>. */
static void rule_compile(const json_t *j, size_t i, const struct anon_rules *done,
                         struct anon__rule *out, struct err *e)
{
    char f[64];
    snprintf(f, sizeof(f), "rules[%zu]", i);
    if (!json_is_object(j)) {
        err_field(e, f, "must be an object with id, kind and pattern");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "id") && strcmp(key, "kind") && strcmp(key, "pattern") &&
            strcmp(key, "description") && strcmp(key, "caseless")) {
            snprintf(f, sizeof(f), "rules[%zu].%.32s", i, key);
            err_field(e, f, "unknown member");
        }
    }
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *kind = json_string_value(json_object_get(j, "kind"));
    const json_t *pv = json_object_get(j, "pattern");
    const json_t *dv = json_object_get(j, "description");
    const json_t *cv = json_object_get(j, "caseless");
    bool ok = true;
    snprintf(f, sizeof(f), "rules[%zu].id", i);
    if (id == NULL || !id_ok(id)) {
        err_field(e, f, "must be 1-64 of A-Z a-z 0-9 . _ - and not start with 'org:'");
        ok = false;
    } else {
        for (size_t k = 0; k < done->n; k++)
            if (!strcmp(done->v[k].id, id)) {
                err_field(e, f, "duplicate of rules[%zu].id '%s'", k, id);
                ok = false;
            }
    }
    snprintf(f, sizeof(f), "rules[%zu].kind", i);
    if (kind == NULL || !anon__kind_ok(kind)) {
        err_field(e, f, "must be 1-16 of a-z 0-9 _, starting with a letter");
        ok = false;
    }
    snprintf(f, sizeof(f), "rules[%zu].description", i);
    if (dv != NULL && !json_is_null(dv) &&
        (!json_is_string(dv) || json_string_length(dv) > ANON_MAX_DESCRIPTION)) {
        err_field(e, f, "must be a string of at most %d bytes", ANON_MAX_DESCRIPTION);
        ok = false;
    }
    snprintf(f, sizeof(f), "rules[%zu].caseless", i);
    if (cv != NULL && !json_is_boolean(cv)) {
        err_field(e, f, "must be true or false");
        ok = false;
    }
    snprintf(f, sizeof(f), "rules[%zu].pattern", i);
    if (!json_is_string(pv) || json_string_length(pv) == 0) {
        err_field(e, f, "must be a non-empty string");
        return;
    }
    size_t plen = json_string_length(pv);
    if (plen > ANON_MAX_PATTERN) {
        err_field(e, f, "longer than %d bytes", ANON_MAX_PATTERN);
        return;
    }
    char msg[200];
    pcre2_code *re = anon__compile(json_string_value(pv), plen, cv == NULL || json_is_true(cv),
                                   true, msg, sizeof(msg));
    if (re == NULL) {
        err_field(e, f, "%s", msg);
        return;
    }
    if (!ok) {
        pcre2_code_free(re);
        return;
    }
    out->id = xstrdup(id);
    out->kind = xstrdup(kind);
    out->re = re;
}

int anon_rules_new(const json_t *rules, struct anon_rules **out, struct err *e)
{
    *out = NULL;
    if (!json_is_array(rules))
        return err_field(e, "rules", "must be an array of rules");
    size_t n = json_array_size(rules);
    if (n > ANON_MAX_RULES)
        return err_set(e, ERR_TOOBIG, "more than %d rules", ANON_MAX_RULES);
    struct anon_rules *r = xcalloc(1, sizeof(*r));
    r->v = xcalloc(n ? n : 1, sizeof(*r->v));
    for (size_t i = 0; i < n; i++) {
        struct anon__rule one = {0};
        rule_compile(json_array_get(rules, i), i, r, &one, e);
        if (one.re != NULL)
            r->v[r->n++] = one;
    }
    char msg[200];
    r->ip4 = anon__compile(IP4, strlen(IP4), true, true, msg, sizeof(msg));
    r->ip6 = anon__compile(IP6, strlen(IP6), true, true, msg, sizeof(msg));
    if (r->ip4 == NULL || r->ip6 == NULL)
        err_set(e, ERR_INTERNAL, "cannot compile the address patterns: %s", msg);
    if (r->n != n || r->ip4 == NULL || r->ip6 == NULL) {
        anon_rules_free(r);
        return e->code ? e->code : ERR_INVALID;
    }
    *out = r;
    return 0;
}
