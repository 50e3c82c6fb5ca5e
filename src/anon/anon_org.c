/*
 * anon_org.c - the provider's registered identifiers as matchers: names
 * and aliases (literal, caseless, any run of spaces matching any run,
 * none included), person names (also surname first), domains (the domain,
 * hosts, URLs and e-mail addresses under it), host names (with any
 * domain suffix) and IP ranges (addresses found by the address patterns,
 * then tested against each range).
 *
 * Literal identifiers are escaped into patterns, so an organisation's name
 * can never be read as a regular expression.
 */
#include "anon_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"

struct org_matcher {
    const char *rule; /* "org:name", ... (static strings) */
    const char *kind; /* placeholder kind (static strings) */
    pcre2_code *re;
};

struct org_range {
    int af;
    unsigned char net[16];
    int bits;
};

struct anon__org {
    size_t n, cap;
    struct org_matcher *m;
    size_t nranges;
    struct org_range ranges[ANON_MAX_ORG_ITEMS];
};

/* The pattern a literal identifier may grow into: every byte escaped, plus boundaries. */
#define ORG_PATTERN_MAX (8 * ANON_MAX_ORG_NAME + 1024)

static bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the white-space character at s (ASCII or U+3000), or 0. */
static size_t space_at(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        return 1;
    if (n >= 3 && c == 0xe3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
        return 3;
    return 0;
}

/* Append the literal s[0..n) to b as a pattern: spaces match any run of spaces or none. */
static int lit_append(struct buf *b, const char *s, size_t n)
{
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        size_t sp = space_at(s + i, n - i);
        unsigned char c = (unsigned char)s[i];
        if (sp) {
            while (i < n && space_at(s + i, n - i) > 0)
                i += space_at(s + i, n - i);
            static const char any_space[] = "[\\s\\x{3000}]*";
            rc = buf_append(b, any_space, sizeof(any_space) - 1);
        } else if (c >= 0x80 || ascii_alnum(c)) {
            rc = buf_append(b, s + i, 1);
            i++;
        } else {
            rc = buf_append(b, "\\", 1);
            if (rc == 0)
                rc = buf_append(b, s + i, 1);
            i++;
        }
    }
    return rc;
}

static int org_add(struct anon__org *o, const char *rule, const char *kind, const char *pat,
                   size_t len, const char *field, struct err *e)
{
    char msg[200];
    pcre2_code *re = anon__compile(pat, len, true, false, msg, sizeof(msg));
    if (re == NULL)
        return err_field(e, field, "cannot be matched: %s", msg);
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 16;
        struct org_matcher *m = realloc(o->m, o->cap * sizeof(*m));
        if (m == NULL) {
            pcre2_code_free(re);
            return err_set(e, ERR_NOMEM, NULL);
        }
        o->m = m;
    }
    o->m[o->n++] = (struct org_matcher){rule, kind, re};
    return 0;
}

/* A name, alias or person: the literal with word boundaries where it starts or ends in ASCII. */
static int add_literal(struct anon__org *o, const char *rule, const char *kind, const char *s,
                       size_t n, const char *field, struct err *e)
{
    struct buf b;
    buf_init(&b, ORG_PATTERN_MAX);
    int rc = 0;
    if (ascii_alnum((unsigned char)s[0]))
        rc = buf_append(&b, "(?<![a-z0-9])", strlen("(?<![a-z0-9])"));
    if (rc == 0)
        rc = lit_append(&b, s, n);
    if (rc == 0 && ascii_alnum((unsigned char)s[n - 1]))
        rc = buf_append(&b, "(?![a-z0-9])", strlen("(?![a-z0-9])"));
    if (rc == 0)
        rc = org_add(o, rule, kind, b.data, b.len, field, e);
    else
        err_set(e, rc, "cannot build the pattern of '%s'", field);
    buf_release(&b);
    return e->code ? e->code : rc;
}

/* "Taro Yamada" is also written "Yamada Taro" (and 山田 太郎 as 太郎 山田 in romanised lists). */
static int add_person(struct anon__org *o, const char *s, size_t n, const char *field,
                      struct err *e)
{
    int rc = add_literal(o, "org:person", "person", s, n, field, e);
    size_t i = 0;
    while (i < n && space_at(s + i, n - i) == 0)
        i++;
    if (rc != 0 || i == n)
        return rc;
    size_t j = i;
    while (j < n && space_at(s + j, n - j) > 0)
        j += space_at(s + j, n - j);
    for (size_t k = j; k < n; k++)
        if (space_at(s + k, n - k))
            return 0; /* three or more parts: no single reversal */
    char rev[2 * ANON_MAX_ORG_ITEM + 2];
    int len = snprintf(rev, sizeof(rev), "%.*s %.*s", (int)(n - j), s + j, (int)i, s);
    return add_literal(o, "org:person", "person", rev, (size_t)len, field, e);
}

static bool ldh_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!(ascii_alnum((unsigned char)*p) || *p == '-' || (*p == '.' && p[1] != '.')))
            return false;
    return true;
}

/* Host names and URLs and e-mail addresses under domain d: the escaped domain between pre and suf. */
static int add_domain(struct anon__org *o, const char *d, const char *field, struct err *e)
{
    static const char *const end = "(?![a-z0-9-]|\\.[a-z0-9])";
    static const struct {
        const char *kind, *pre, *suf;
    } pats[] = {
        {"url",
         "(?<![a-z0-9])[a-z][a-z0-9+.-]{1,15}://(?:[^\\s/?#@]{0,128}@)?(?:" ANON__LABEL "\\.)*",
         "(?:[:/?#][a-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]*(?<![.,;:!?)\\]']))?"},
        {"email", "(?<![a-z0-9._%+-])[a-z0-9._%+-]{1,64}@(?:" ANON__LABEL "\\.)*", ""},
        {"host", "(?<![a-z0-9.-])(?:" ANON__LABEL "\\.)*", ""},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(pats) / sizeof(pats[0]); i++) {
        struct buf b;
        buf_init(&b, ORG_PATTERN_MAX);
        rc = buf_append(&b, pats[i].pre, strlen(pats[i].pre));
        if (rc == 0)
            rc = lit_append(&b, d, strlen(d));
        if (rc == 0)
            rc = buf_append(&b, end, strlen(end));
        if (rc == 0)
            rc = buf_append(&b, pats[i].suf, strlen(pats[i].suf));
        if (rc == 0)
            rc = org_add(o, "org:domain", pats[i].kind, b.data, b.len, field, e);
        else
            rc = err_set(e, rc, "cannot build the pattern of '%s'", field);
        buf_release(&b);
    }
    return rc;
}

static int add_hostname(struct anon__org *o, const char *h, const char *field, struct err *e)
{
    struct buf esc;
    buf_init(&esc, ORG_PATTERN_MAX);
    int rc = lit_append(&esc, h, strlen(h));
    if (rc == 0) {
        char pat[ORG_PATTERN_MAX + 256];
        int len = snprintf(pat, sizeof(pat),
                           "(?<![a-z0-9.-])%s(?:\\." ANON__LABEL ")*(?![a-z0-9-]|\\.[a-z0-9])",
                           esc.data);
        rc = org_add(o, "org:hostname", "host", pat, (size_t)len, field, e);
    }
    buf_release(&esc);
    return rc;
}

bool anon__ip_parse(const char *s, size_t n, int *af, unsigned char addr[16], int *bits)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *slash = strchr(tmp, '/');
    if (slash)
        *slash = '\0';
    *af = strchr(tmp, ':') ? AF_INET6 : AF_INET;
    int max = *af == AF_INET6 ? 128 : 32;
    memset(addr, 0, 16);
    if (inet_pton(*af, tmp, addr) != 1)
        return false;
    long long b = max;
    if (slash && !util_parse_int(slash + 1, 0, max, &b))
        return false;
    *bits = (int)b;
    return true;
}

bool anon__ip_in(int af, const unsigned char a[16], const unsigned char net[16], int bits)
{
    (void)af;
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

void anon__org_free(struct anon__org *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n; i++)
        pcre2_code_free(o->m[i].re);
    free(o->m);
    free(o);
}

/* The strings of list member key of org, with field errors under "org.key[i]". */
typedef int item_fn(struct anon__org *o, const char *s, size_t n, const char *field,
                    struct err *e);

static int each_item(struct anon__org *o, const json_t *org, const char *key, item_fn *fn,
                     struct err *e)
{
    const json_t *a = json_object_get(org, key);
    char f[96];
    snprintf(f, sizeof(f), "org.%s", key);
    if (a == NULL || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return err_field(e, f, "must be an array of strings");
    if (json_array_size(a) > ANON_MAX_ORG_ITEMS)
        return err_field(e, f, "more than %d entries", ANON_MAX_ORG_ITEMS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *v = json_array_get(a, i);
        snprintf(f, sizeof(f), "org.%s[%zu]", key, i);
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (s == NULL || n > ANON_MAX_ORG_ITEM || strlen(s) != n) {
            err_field(e, f, "must be a string of at most %d bytes", ANON_MAX_ORG_ITEM);
            continue;
        }
        /* Trim spaces: a leading space would make the pattern match spaces alone. */
        while (n && space_at(s, n)) {
            size_t sp = space_at(s, n);
            s += sp;
            n -= sp;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        char *t = xmalloc(n + 1);
        memcpy(t, s, n);
        t[n] = '\0';
        /* One character would redact half the text; two is the shortest name we accept. */
        if (util_utf8_chars(t) < 2)
            err_field(e, f, "must be at least 2 characters");
        else
            fn(o, t, n, f, e);
        free(t);
    }
    return e->code;
}

static int item_alias(struct anon__org *o, const char *s, size_t n, const char *f, struct err *e)
{
    return add_literal(o, "org:alias", "org", s, n, f, e);
}

static int item_person(struct anon__org *o, const char *s, size_t n, const char *f, struct err *e)
{
    return add_person(o, s, n, f, e);
}

static int item_domain(struct anon__org *o, const char *s, size_t n, const char *f, struct err *e)
{
    char d[ANON_MAX_ORG_ITEM + 1];
    snprintf(d, sizeof(d), "%.*s", (int)n, s);
    if (n && d[n - 1] == '.')
        d[n - 1] = '\0';
    if (!ldh_name(d) || !strchr(d, '.'))
        return err_field(e, f, "not a domain name (letters, digits, hyphens and dots)");
    return add_domain(o, d, f, e);
}

static int item_hostname(struct anon__org *o, const char *s, size_t n, const char *f,
                         struct err *e)
{
    if (!ldh_name(s))
        return err_field(e, f, "not a host name (letters, digits, hyphens and dots)");
    return add_hostname(o, s, f, e);
}

static int item_range(struct anon__org *o, const char *s, size_t n, const char *f, struct err *e)
{
    struct org_range *r = &o->ranges[o->nranges];
    if (!anon__ip_parse(s, n, &r->af, r->net, &r->bits))
        return err_field(e, f, "not an IP address or network (ADDRESS/PREFIX)");
    o->nranges++;
    return 0;
}

/*
 * Company forms a text often leaves out: "関東電力株式会社" is written
 * "関東電力", "Kanto Electric Power Co., Inc." "Kanto Electric Power".
 */
static const char *const legal_forms[] = {
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人",
    "一般財団法人", "公益社団法人", "公益財団法人", "独立行政法人", "(株)", "（株）",
};
static const char *const legal_suffixes_en[] = {
    ", Co., Ltd.", " Co., Ltd.", " Co.,Ltd.", " Co. Ltd.", ", Inc.", " Inc.", " Inc",
    " Corporation", " Corp.", " K.K.", " Ltd.", " Ltd", " LLC", " Co.",
};

static bool starts_with(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && !memcmp(s, p, k);
}

static bool ends_with(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && !memcmp(s + n - k, p, k);
}

/* Trim ASCII and ideographic spaces at both ends of s[0..*n). */
static const char *trim_spaces(const char *s, size_t *n)
{
    while (*n && space_at(s, *n)) {
        size_t sp = space_at(s, *n);
        s += sp;
        *n -= sp;
    }
    while (*n && s[*n - 1] == ' ')
        (*n)--;
    return s;
}

/* The registered name, and the name without its legal form when that is still a name. */
static int add_name(struct anon__org *o, const char *s, const char *field, struct err *e)
{
    size_t n = strlen(s);
    if (add_literal(o, "org:name", "org", s, n, field, e))
        return e->code;
    const char *b = s;
    size_t m = n;
    for (size_t i = 0; i < sizeof(legal_forms) / sizeof(legal_forms[0]); i++) {
        if (starts_with(b, m, legal_forms[i])) {
            b += strlen(legal_forms[i]);
            m -= strlen(legal_forms[i]);
        } else if (ends_with(b, m, legal_forms[i])) {
            m -= strlen(legal_forms[i]);
        }
    }
    for (size_t i = 0; i < sizeof(legal_suffixes_en) / sizeof(legal_suffixes_en[0]); i++)
        if (ends_with(b, m, legal_suffixes_en[i])) {
            m -= strlen(legal_suffixes_en[i]);
            break;
        }
    b = trim_spaces(b, &m);
    if (m == n || m == 0)
        return 0;
    char *t = xmalloc(m + 1);
    memcpy(t, b, m);
    t[m] = '\0';
    int rc = util_utf8_chars(t) >= 2 ? add_literal(o, "org:name", "org", t, m, field, e) : 0;
    free(t);
    return rc;
}

int anon__org_new(const json_t *org, struct anon__org **out, struct err *e)
{
    *out = NULL;
    struct anon__org *o = xcalloc(1, sizeof(*o));
    if (org != NULL && !json_is_null(org)) {
        if (!json_is_object(org)) {
            anon__org_free(o);
            return err_field(e, "org", "must be an object");
        }
        const json_t *name = json_object_get(org, "name");
        if (name != NULL && !json_is_null(name) && !json_is_object(name))
            err_field(e, "org.name", "must be an object with ja and en");
        static const char *const langs[] = {"ja", "en"};
        for (size_t i = 0; i < 2 && json_is_object(name); i++) {
            const json_t *v = json_object_get(name, langs[i]);
            char f[32];
            snprintf(f, sizeof(f), "org.name.%s", langs[i]);
            if (v == NULL || json_is_null(v))
                continue;
            const char *s = json_string_value(v);
            if (s == NULL || json_string_length(v) > ANON_MAX_ORG_NAME ||
                util_utf8_chars(s) < 2)
                err_field(e, f, "must be a string of 2 to %d bytes", ANON_MAX_ORG_NAME);
            else
                add_name(o, s, f, e);
        }
        each_item(o, org, "aliases", item_alias, e);
        each_item(o, org, "persons", item_person, e);
        each_item(o, org, "domains", item_domain, e);
        each_item(o, org, "hostnames", item_hostname, e);
        each_item(o, org, "ip_ranges", item_range, e);
    }
    if (e->code) {
        anon__org_free(o);
        return e->code;
    }
    *out = o;
    return 0;
}

struct org_hit {
    const struct anon__org *o;
    const struct org_matcher *m;
    size_t order;
    size_t field;
    const char *s;
    struct anon__cands *out;
    bool ip;
};

static int org_hit(size_t start, size_t end, void *arg)
{
    struct org_hit *h = arg;
    if (h->ip) {
        int af, bits;
        unsigned char a[16];
        bool in = false;
        if (!anon__ip_parse(h->s + start, end - start, &af, a, &bits))
            return 0;
        for (size_t i = 0; i < h->o->nranges && !in; i++) {
            const struct org_range *r = &h->o->ranges[i];
            in = r->af == af && anon__ip_in(af, a, r->net, r->bits);
        }
        if (!in)
            return 0;
    }
    struct anon__cand c = {h->field, start, end, ANON__ORG, h->order,
                           h->ip ? "org:ip_range" : h->m->rule, h->ip ? "ip" : h->m->kind, false};
    return anon__cands_add(h->out, &c);
}

int anon__org_scan(const struct anon__org *o, const struct anon_rules *rules,
                   struct anon__matcher *m, size_t field, const char *s, size_t n,
                   struct anon__cands *out, struct err *e)
{
    struct org_hit h = {o, NULL, 0, field, s, out, false};
    for (size_t i = 0; i < o->n; i++) {
        h.m = &o->m[i];
        h.order = i;
        int rc = anon__scan(o->m[i].re, m, s, n, org_hit, &h);
        if (rc == ERR_INTERNAL)
            return err_set(e, rc, "an organisation identifier ('%s') hit the match limit",
                           o->m[i].rule);
        if (rc < 0)
            return err_set(e, rc, "more than %d candidate redactions", 4 * ANON_MAX_REDACTIONS);
    }
    if (o->nranges == 0)
        return 0;
    const pcre2_code *ips[2] = {rules->ip4, rules->ip6};
    h.ip = true;
    for (size_t i = 0; i < 2; i++) {
        h.order = o->n + i;
        int rc = anon__scan(ips[i], m, s, n, org_hit, &h);
        if (rc < 0)
            return err_set(e, rc, "cannot scan for the organisation's addresses");
    }
    return 0;
}
