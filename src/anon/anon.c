/*
 * anon.c - proposing and rendering releases; see anon.h.
 *
 * anon_propose() finds candidates (organisation identifiers, then generic
 * rules), resolves overlaps, lists the winners as redactions and renders
 * them with the same code anon_apply() uses, so a proposal applied
 * unchanged gives the same release.
 */
#include "anon_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/util.h"

/* ---- context ---- */

struct ctx {
    long long k;
    const json_t *sectors; /* [{code, name{ja,en}, members}] or NULL */
    const json_t *allow;   /* [domain] or NULL */
};

static int ctx_parse(const json_t *c, struct ctx *out, struct err *e)
{
    *out = (struct ctx){ANON_K_DEFAULT, NULL, NULL};
    if (c == NULL || json_is_null(c))
        return 0;
    if (!json_is_object(c))
        return err_field(e, "context", "must be an object");
    const json_t *k = json_object_get(c, "k");
    if (k != NULL && !json_is_null(k)) {
        if (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > 10000)
            err_field(e, "context.k", "must be an integer from 1 to 10000");
        else
            out->k = json_integer_value(k);
    }
    const json_t *s = json_object_get(c, "sectors");
    if (s != NULL && !json_is_null(s)) {
        if (!json_is_array(s) || json_array_size(s) > LIMIT_SECTORS)
            err_field(e, "context.sectors", "must be an array of at most %d sectors",
                      LIMIT_SECTORS);
        for (size_t i = 0; json_is_array(s) && i < json_array_size(s); i++) {
            const json_t *x = json_array_get(s, i);
            const json_t *name = json_object_get(x, "name");
            const json_t *m = json_object_get(x, "members");
            char f[64];
            snprintf(f, sizeof(f), "context.sectors[%zu]", i);
            if (!json_is_string(json_object_get(x, "code")) || !json_is_object(name) ||
                !json_is_string(json_object_get(name, "ja")) ||
                !json_is_string(json_object_get(name, "en")) || !json_is_integer(m) ||
                json_integer_value(m) < 0)
                err_field(e, f, "must be {code, name: {ja, en}, members (a count)}");
        }
        out->sectors = s;
    }
    const json_t *a = json_object_get(c, "allow");
    if (a != NULL && !json_is_null(a)) {
        if (!json_is_array(a) || json_array_size(a) > ANON_MAX_ORG_ITEMS)
            err_field(e, "context.allow", "must be an array of at most %d domains",
                      ANON_MAX_ORG_ITEMS);
        for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++)
            if (!json_is_string(json_array_get(a, i))) {
                char f[64];
                snprintf(f, sizeof(f), "context.allow[%zu]", i);
                err_field(e, f, "must be a domain name");
            }
        out->allow = a;
    }
    return e->code;
}

/* The context's entry for sector code, if it has at least k members. */
static const json_t *sector_named(const struct ctx *c, const char *code)
{
    for (size_t i = 0; code != NULL && i < json_array_size(c->sectors); i++) {
        const json_t *x = json_array_get(c->sectors, i);
        const char *xc = json_string_value(json_object_get(x, "code"));
        if (xc != NULL && !strcmp(xc, code))
            return json_integer_value(json_object_get(x, "members")) >= c->k ? x : NULL;
    }
    return NULL;
}

/* ---- pseudonym ---- */

/*
 * What each kind of organisation is called: with the sector's name between
 * prefix and suffix, or in general where naming the sector would identify
 * it. A NULL prefix: the kind is not tied to a sector.
 */
static const struct {
    const char *kind;
    const char *en_pre, *en_suf, *en_general;
    const char *ja_pre, *ja_suf, *ja_general;
} nouns[] = {
    {"operator", "an operator in the ", " sector", "an operator in a critical-infrastructure sector",
     "", "分野の事業者", "重要インフラ分野の事業者"},
    {"sector_hub", "an information-sharing body of the ", " sector",
     "an information-sharing body of a critical-infrastructure sector", "",
     "分野の情報共有団体", "重要インフラ分野の情報共有団体"},
    {"vendor", "a vendor serving the ", " sector", "a vendor serving critical infrastructure", "",
     "分野のベンダー", "重要インフラ関連のベンダー"},
    {"coordinator", NULL, NULL, "the national coordinator", NULL, NULL, "国の調整機関"},
    {"ministry", NULL, NULL, "a government ministry", NULL, NULL, "所管省庁"},
    {"agency", NULL, NULL, "a government agency", NULL, NULL, "政府機関"},
    {NULL, NULL, NULL, "a member organisation", NULL, NULL, "会員組織"},
};

static json_t *pseudonym(const char *org_kind, const char *sector, const struct ctx *c)
{
    size_t i = 0;
    while (nouns[i].kind != NULL && (org_kind == NULL || strcmp(nouns[i].kind, org_kind)))
        i++;
    const json_t *s = nouns[i].en_pre ? sector_named(c, sector) : NULL;
    if (s == NULL)
        return json_pack("{s:s, s:s}", "ja", nouns[i].ja_general, "en", nouns[i].en_general);
    const json_t *name = json_object_get(s, "name");
    char ja[512], en[512];
    snprintf(ja, sizeof(ja), "%s%s%s", nouns[i].ja_pre,
             json_string_value(json_object_get(name, "ja")), nouns[i].ja_suf);
    /* Mid-sentence: "the electric power sector", but "the ICT sector" keeps its capitals. */
    const char *sen = json_string_value(json_object_get(name, "en"));
    if (sen == NULL)
        sen = "";
    char first[2] = {sen[0], '\0'};
    if (sen[0] >= 'A' && sen[0] <= 'Z' && sen[1] >= 'a' && sen[1] <= 'z')
        first[0] = (char)(sen[0] - 'A' + 'a');
    snprintf(en, sizeof(en), "%s%s%s%s", nouns[i].en_pre, first, sen[0] ? sen + 1 : "",
             nouns[i].en_suf);
    return json_pack("{s:s, s:s}", "ja", ja, "en", en);
}

int anon_pseudonym(const char *org_kind, const char *sector, const json_t *context, json_t **out,
                   struct err *e)
{
    struct ctx c;
    *out = NULL;
    if (ctx_parse(context, &c, e) != 0)
        return e->code;
    *out = pseudonym(org_kind, sector, &c);
    return 0;
}

/* The sector the provider is described by: its own that the report names first. */
static const char *provider_sector(const json_t *org, const json_t *content)
{
    const json_t *os = json_object_get(org, "sectors");
    const json_t *cs = json_object_get(content, "sectors");
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const char *c = json_string_value(json_array_get(cs, i));
        for (size_t j = 0; c != NULL && j < json_array_size(os); j++)
            if (json_equal(json_array_get(os, j), json_array_get(cs, i)))
                return c;
    }
    if (json_array_size(os) > 0)
        return json_string_value(json_array_get(os, 0));
    return json_string_value(json_array_get(cs, 0));
}

/* ---- the text fields of a report ---- */

struct field {
    char path[48];    /* "title", "causes[2].detail", "observables[0].value" */
    const char *text; /* borrowed from the content */
    size_t len;
    bool observable;  /* a redaction removes the observable */
    size_t index;     /* array index for causes and observables */
};

struct fields {
    struct field *v;
    size_t n;
};

static const char *const text_fields[] = {"title",    "description", "service",
                                          "followup", "purpose",     "handling"};
#define NTEXT_FIELDS (sizeof(text_fields) / sizeof(text_fields[0]))

static bool is_victim(const json_t *ob)
{
    const char *role = json_string_value(json_object_get(ob, "role"));
    return role != NULL && !strcmp(role, "victim");
}

static int field_add(struct fields *f, const json_t *v, const char *path, bool obs, size_t index,
                     struct err *e)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !util_utf8_valid(json_string_value(v), json_string_length(v)))
        return err_field(e, path, "must be UTF-8 text");
    struct field *x = &f->v[f->n++];
    util_strlcpy(x->path, path, sizeof(x->path));
    x->text = json_string_value(v);
    x->len = json_string_length(v);
    x->observable = obs;
    x->index = index;
    return 0;
}

/* Every redactable text of content (victim observables are removed anyway). */
static int fields_collect(const json_t *content, struct fields *f, struct err *e)
{
    f->n = 0;
    f->v = NULL;
    if (!json_is_object(content))
        return err_field(e, "content", "must be an object");
    const json_t *causes = json_object_get(content, "causes");
    const json_t *obs = json_object_get(content, "observables");
    if (json_array_size(causes) > LIMIT_REPORT_CAUSES ||
        json_array_size(obs) > LIMIT_REPORT_OBSERVABLES)
        return err_set(e, ERR_TOOBIG, "too many causes or observables");
    f->v = xcalloc(NTEXT_FIELDS + json_array_size(causes) + json_array_size(obs), sizeof(*f->v));
    for (size_t i = 0; i < NTEXT_FIELDS; i++)
        field_add(f, json_object_get(content, text_fields[i]), text_fields[i], false, 0, e);
    char p[48];
    for (size_t i = 0; i < json_array_size(causes); i++) {
        snprintf(p, sizeof(p), "causes[%zu].detail", i);
        field_add(f, json_object_get(json_array_get(causes, i), "detail"), p, false, i, e);
    }
    for (size_t i = 0; i < json_array_size(obs); i++) {
        const json_t *ob = json_array_get(obs, i);
        if (is_victim(ob))
            continue;
        snprintf(p, sizeof(p), "observables[%zu].value", i);
        field_add(f, json_object_get(ob, "value"), p, true, i, e);
    }
    return e->code;
}

static const struct field *field_find(const struct fields *f, const char *path)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->v[i].path, path))
            return &f->v[i];
    return NULL;
}

/* ---- placeholders ---- */

static bool space_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The normalised original that the placeholder hashes: what a reader would
 * call "the same" host, address or number. Returns a malloc'd string.
 */
static char *normalise(const char *kind, const char *s, size_t n)
{
    char *out = xmalloc(n + 64);
    size_t o = 0;
    int af, bits;
    unsigned char a[16];
    if (!strcmp(kind, "ip") && anon__ip_parse(s, n, &af, a, &bits)) {
        inet_ntop(af, a, out, 64);
        o = strlen(out);
        if (bits != (af == AF_INET6 ? 128 : 32))
            o += (size_t)snprintf(out + o, 8, "/%d", bits);
    } else if (!strcmp(kind, "phone")) {
        for (size_t i = 0; i < n; i++)
            if ((s[i] >= '0' && s[i] <= '9') || s[i] == '+')
                out[o++] = s[i];
    } else {
        /* A person's name with or without the space between the parts is one name. */
        bool drop_space = !strcmp(kind, "person");
        bool sp = false;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            bool ideo = c == 0xe3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                        (unsigned char)s[i + 2] == 0x80;
            if (space_byte(c) || ideo) {
                sp = true;
                i += ideo ? 2 : 0;
                continue;
            }
            if (sp && o > 0 && !drop_space)
                out[o++] = ' ';
            sp = false;
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    out[o] = '\0';
    return out;
}

static void placeholder(const unsigned char key[ANON_KEY_BYTES], const char *kind, const char *s,
                        size_t n, char out[ANON_PLACEHOLDER_MAX])
{
    if (!strcmp(kind, "org")) {
        snprintf(out, ANON_PLACEHOLDER_MAX, "[org]");
        return;
    }
    char *norm = normalise(kind, s, n);
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, ANON_KEY_BYTES, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
    crypto_generichash_update(&st, (const unsigned char *)norm, strlen(norm));
    crypto_generichash_final(&st, h, sizeof(h));
    free(norm);
    snprintf(out, ANON_PLACEHOLDER_MAX, "[%s-%02x%02x%02x]", kind, h[0], h[1], h[2]);
}

/* ---- shared indicators: generic matches that stay ---- */

struct shared {
    const json_t *obs;   /* the content's observables (victims skipped) */
    const json_t *allow; /* context.allow */
};

static bool eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y))
            return false;
    }
    return true;
}

/* host equals domain d or lies under it. */
static bool host_under(const char *h, size_t hn, const char *d)
{
    size_t dn = strlen(d);
    if (dn && d[dn - 1] == '.')
        dn--;
    if (hn == dn)
        return eq_ci(h, hn, d, dn);
    return hn > dn && h[hn - dn - 1] == '.' && eq_ci(h + hn - dn, dn, d, dn);
}

/* The host of a URL: after "://" and any user info, up to a port, path, query or fragment. */
static void url_host(const char *s, size_t n, const char **h, size_t *hn)
{
    const char *p = memmem(s, n, "://", 3);
    *h = NULL;
    *hn = 0;
    if (p == NULL)
        return;
    p += 3;
    const char *end = s + n, *q = p;
    while (q < end && *q != '/' && *q != '?' && *q != '#')
        q++;
    const char *at = memchr(p, '@', (size_t)(q - p));
    if (at)
        p = at + 1;
    const char *c = p;
    while (c < q && *c != ':')
        c++;
    *h = p;
    *hn = (size_t)(c - p);
}

static bool obs_is(const json_t *ob, const char *type)
{
    const char *t = json_string_value(json_object_get(ob, "type"));
    return t != NULL && !strcmp(t, type);
}

/*
 * True if the generic match s[0..n) of kind names an indicator the report
 * shares on purpose, or a host under an allowed public domain. E-mail
 * addresses stay only when listed themselves: a shared domain can hold
 * staff mailboxes.
 */
static bool is_shared(const struct shared *sh, const char *kind, const char *s, size_t n)
{
    int af, bits;
    unsigned char a[16];
    bool ip = !strcmp(kind, "ip") && anon__ip_parse(s, n, &af, a, &bits);
    const char *h = s;
    size_t hn = n;
    if (!strcmp(kind, "url"))
        url_host(s, n, &h, &hn);
    bool hostish = h != NULL && (!strcmp(kind, "url") || !strcmp(kind, "host"));
    for (size_t i = 0; i < json_array_size(sh->obs); i++) {
        const json_t *ob = json_array_get(sh->obs, i);
        const json_t *v = json_object_get(ob, "value");
        if (is_victim(ob) || !json_is_string(v))
            continue;
        if (eq_ci(s, n, json_string_value(v), json_string_length(v)))
            return true;
        int oaf, obits;
        unsigned char oa[16];
        if (ip && (obs_is(ob, "ipv4") || obs_is(ob, "ipv6") || obs_is(ob, "cidr")) &&
            anon__ip_parse(json_string_value(v), json_string_length(v), &oaf, oa, &obits) &&
            oaf == af && bits >= obits && anon__ip_in(af, a, oa, obits))
            return true;
        if (hostish && obs_is(ob, "domain") && host_under(h, hn, json_string_value(v)))
            return true;
    }
    for (size_t i = 0; !strcmp(kind, "host") && i < json_array_size(sh->allow); i++)
        if (host_under(s, n, json_string_value(json_array_get(sh->allow, i))))
            return true;
    return false;
}

/* ---- finding and resolving candidates ---- */

struct gen_hit {
    const struct anon__rule *rule;
    size_t order, field;
    const char *text;
    const struct shared *sh;
    struct anon__cands *out;
};

static int gen_hit(size_t start, size_t end, void *arg)
{
    struct gen_hit *g = arg;
    struct anon__cand c = {g->field, start, end, ANON__GENERIC, g->order, g->rule->id,
                           g->rule->kind,
                           is_shared(g->sh, g->rule->kind, g->text + start, end - start)};
    return anon__cands_add(g->out, &c);
}

static int find(const struct anon_rules *rules, const struct anon__org *org,
                const struct fields *f, const struct shared *sh, struct anon__cands *out,
                struct err *e)
{
    struct anon__matcher m;
    if (anon__matcher_init(&m) != 0)
        return err_set(e, ERR_NOMEM, NULL);
    int rc = 0;
    for (size_t i = 0; i < f->n && rc == 0; i++) {
        const struct field *x = &f->v[i];
        rc = anon__org_scan(org, rules, &m, i, x->text, x->len, out, e);
        /* Generic rules stay out of observables: their values are the indicators. */
        for (size_t r = 0; r < rules->n && rc == 0 && !x->observable; r++) {
            struct gen_hit g = {&rules->v[r], r, i, x->text, sh, out};
            rc = anon__scan(rules->v[r].re, &m, x->text, x->len, gen_hit, &g);
            if (rc == ERR_INTERNAL) {
                char fld[48];
                snprintf(fld, sizeof(fld), "rules[%zu].pattern", r);
                err_field(e, fld, "hit the match limit in '%s'; simplify the pattern", x->path);
            } else if (rc < 0) {
                err_set(e, rc, "more than %d candidate redactions", 4 * ANON_MAX_REDACTIONS);
            }
        }
    }
    anon__matcher_release(&m);
    return rc < 0 ? e->code : 0;
}

static int cand_cmp_priority(const void *pa, const void *pb)
{
    const struct anon__cand *a = pa, *b = pb;
    if (a->field != b->field)
        return a->field < b->field ? -1 : 1;
    if (a->tier != b->tier)
        return a->tier < b->tier ? -1 : 1;
    size_t al = a->end - a->start, bl = b->end - b->start;
    if (al != bl)
        return al > bl ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int cand_cmp_position(const void *pa, const void *pb)
{
    const struct anon__cand *a = pa, *b = pb;
    if (a->field != b->field)
        return a->field < b->field ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
}

/*
 * Keep the winners of c (in place): per field, in priority order, each
 * candidate that overlaps none taken before. Shared indicators win space
 * but are dropped from the result. Ends sorted by field and start.
 */
static void resolve(struct anon__cands *c, const struct fields *f)
{
    if (c->n == 0)
        return;
    qsort(c->v, c->n, sizeof(*c->v), cand_cmp_priority);
    size_t out = 0;
    unsigned char *taken = NULL;
    size_t cur = (size_t)-1;
    for (size_t i = 0; i < c->n; i++) {
        struct anon__cand *x = &c->v[i];
        if (x->field != cur) {
            cur = x->field;
            free(taken);
            taken = xcalloc(f->v[cur].len + 1, 1);
        }
        bool free_span = true;
        for (size_t b = x->start; b < x->end && free_span; b++)
            free_span = !taken[b];
        if (!free_span)
            continue;
        memset(taken + x->start, 1, x->end - x->start);
        if (!x->keep)
            c->v[out++] = *x;
    }
    free(taken);
    c->n = out;
    qsort(c->v, c->n, sizeof(*c->v), cand_cmp_position);
}

/* ---- rendering ---- */

struct span {
    size_t field; /* index into struct fields */
    size_t start, end;
    const char *kind;
    size_t nth;   /* position in the caller's list, for messages and ties */
};

static int span_cmp(const void *pa, const void *pb)
{
    const struct span *a = pa, *b = pb;
    if (a->field != b->field)
        return a->field < b->field ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->nth < b->nth ? -1 : a->nth > b->nth;
}

/* The text of field x with spans v[0..n) (sorted, disjoint, all of x) replaced. */
static json_t *redact_text(const struct field *x, const struct span *v, size_t n,
                           const unsigned char *key)
{
    struct buf b;
    buf_init(&b, x->len + n * ANON_PLACEHOLDER_MAX + 1);
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char ph[ANON_PLACEHOLDER_MAX];
        placeholder(key, v[i].kind, x->text + v[i].start, v[i].end - v[i].start, ph);
        rc = buf_append(&b, x->text + at, v[i].start - at);
        if (rc == 0)
            rc = buf_append(&b, ph, strlen(ph));
        at = v[i].end;
    }
    if (rc == 0)
        rc = buf_append(&b, x->text + at, x->len - at);
    json_t *s = rc == 0 ? json_stringn(b.data ? b.data : "", b.len) : NULL;
    buf_release(&b);
    return s;
}

/*
 * The release: content with the spans (sorted by field and start,
 * disjoint) applied, the fixed removals made and the provider named.
 */
static int render(const json_t *org, const json_t *content, const struct ctx *c,
                  const struct fields *f, const struct span *v, size_t n,
                  const unsigned char *key, json_t **release, struct err *e)
{
    json_t *r = json_deep_copy(content);
    if (r == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    json_object_del(r, "contact");
    bool *drop = xcalloc(json_array_size(json_object_get(content, "observables")) + 1, 1);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].field == v[i].field)
            j++;
        const struct field *x = &f->v[v[i].field];
        if (x->observable) {
            drop[x->index] = true;
        } else {
            json_t *s = redact_text(x, v + i, j - i, key);
            if (s == NULL) {
                free(drop);
                json_decref(r);
                return err_set(e, ERR_NOMEM, "cannot render '%s'", x->path);
            }
            if (!strncmp(x->path, "causes[", 7))
                json_object_set_new(json_array_get(json_object_get(r, "causes"), x->index),
                                    "detail", s);
            else
                json_object_set_new(r, x->path, s);
        }
        i = j;
    }
    const json_t *obs = json_object_get(content, "observables");
    if (json_is_array(obs)) {
        json_t *keep = json_array();
        for (size_t i = 0; i < json_array_size(obs); i++)
            if (!drop[i] && !is_victim(json_array_get(obs, i)))
                json_array_append_new(keep, json_deep_copy(json_array_get(obs, i)));
        json_object_set_new(r, "observables", keep);
    }
    free(drop);
    const json_t *sectors = json_object_get(content, "sectors");
    if (json_is_array(sectors)) {
        json_t *named = json_array();
        for (size_t i = 0; i < json_array_size(sectors); i++)
            if (sector_named(c, json_string_value(json_array_get(sectors, i))))
                json_array_append(named, json_array_get(sectors, i));
        json_object_set_new(r, "sectors", named);
    }
    json_object_set_new(r, "provider",
                        pseudonym(json_string_value(json_object_get(org, "kind")),
                                  provider_sector(org, content), c));
    *release = r;
    return 0;
}

/* ---- propose ---- */

static json_t *redaction_json(const struct anon__cand *x, const struct field *fl, size_t nth,
                              const unsigned char *key)
{
    char id[32], ph[ANON_PLACEHOLDER_MAX];
    snprintf(id, sizeof(id), "r%zu", nth);
    placeholder(key, x->kind, fl->text + x->start, x->end - x->start, ph);
    return json_pack("{s:s, s:s, s:I, s:I, s:s%, s:s?, s:s, s:s}", "id", id, "field", fl->path,
                     "start", (json_int_t)x->start, "end", (json_int_t)x->end, "original",
                     fl->text + x->start, x->end - x->start, "placeholder",
                     fl->observable ? NULL : ph, "rule", x->rule, "kind", x->kind);
}

int anon_propose(const struct anon_rules *rules, const json_t *org, const json_t *content,
                 const json_t *context, const unsigned char release_key[ANON_KEY_BYTES],
                 json_t **release, json_t **redactions, struct err *e)
{
    *release = NULL;
    *redactions = NULL;
    struct ctx c;
    struct fields f = {0};
    struct anon__org *o = NULL;
    struct anon__cands cands = {0};
    struct span *spans = NULL;
    int rc = ctx_parse(context, &c, e);
    if (rc == 0)
        rc = anon__org_new(org, &o, e);
    if (rc == 0)
        rc = fields_collect(content, &f, e);
    if (rc != 0)
        goto out_free;
    struct shared sh = {json_object_get(content, "observables"), c.allow};
    rc = find(rules, o, &f, &sh, &cands, e);
    if (rc != 0)
        goto out_free;
    resolve(&cands, &f);
    if (cands.n > ANON_MAX_REDACTIONS) {
        rc = err_set(e, ERR_TOOBIG, "more than %d redactions", ANON_MAX_REDACTIONS);
        goto out_free;
    }
    json_t *list = json_array();
    spans = xcalloc(cands.n + 1, sizeof(*spans));
    for (size_t i = 0; i < cands.n; i++) {
        const struct anon__cand *x = &cands.v[i];
        json_array_append_new(list, redaction_json(x, &f.v[x->field], i + 1, release_key));
        spans[i] = (struct span){x->field, x->start, x->end, x->kind, i};
    }
    rc = render(org, content, &c, &f, spans, cands.n, release_key, release, e);
    if (rc != 0)
        json_decref(list);
    else
        *redactions = list;
out_free:
    free(spans);
    anon__cands_release(&cands);
    free(f.v);
    anon__org_free(o);
    return rc;
}

/* ---- apply ---- */

/* Check redactions[i] against the fields and fill *out; field errors name the member. */
static int span_parse(const json_t *r, size_t i, const struct fields *f, struct span *out,
                              struct err *e)
{
    char p[64];
    snprintf(p, sizeof(p), "redactions[%zu]", i);
    if (!json_is_object(r))
        return err_field(e, p, "must be an object with field, start and end");
    const char *path = json_string_value(json_object_get(r, "field"));
    const struct field *x = path ? field_find(f, path) : NULL;
    snprintf(p, sizeof(p), "redactions[%zu].field", i);
    if (x == NULL)
        return err_field(e, p, "not a text field of this report");
    const json_t *sv = json_object_get(r, "start"), *ev = json_object_get(r, "end");
    json_int_t s = json_integer_value(sv), en = json_integer_value(ev);
    snprintf(p, sizeof(p), "redactions[%zu].start", i);
    if (!json_is_integer(sv) || s < 0 || (size_t)s >= x->len)
        return err_field(e, p, "must be a byte offset inside '%s' (0 to %zu)", path,
                         x->len ? x->len - 1 : 0);
    if (((unsigned char)x->text[s] & 0xc0) == 0x80)
        return err_field(e, p, "splits a character");
    snprintf(p, sizeof(p), "redactions[%zu].end", i);
    if (!json_is_integer(ev) || en <= s || (size_t)en > x->len)
        return err_field(e, p, "must be a byte offset after start, at most %zu", x->len);
    if ((size_t)en < x->len && ((unsigned char)x->text[en] & 0xc0) == 0x80)
        return err_field(e, p, "splits a character");
    if (x->observable && (s != 0 || (size_t)en != x->len))
        return err_field(e, p, "an observable is removed whole: start 0, end %zu", x->len);
    const json_t *ov = json_object_get(r, "original");
    snprintf(p, sizeof(p), "redactions[%zu].original", i);
    if (ov != NULL && (!json_is_string(ov) || json_string_length(ov) != (size_t)(en - s) ||
                       memcmp(json_string_value(ov), x->text + s, (size_t)(en - s))))
        return err_field(e, p, "differs from the text at %lld..%lld of '%s'", (long long)s,
                         (long long)en, path);
    const json_t *kv = json_object_get(r, "kind");
    snprintf(p, sizeof(p), "redactions[%zu].kind", i);
    if (kv != NULL && (!json_is_string(kv) || !anon__kind_ok(json_string_value(kv))))
        return err_field(e, p, "must be 1-16 of a-z 0-9 _, starting with a letter");
    *out = (struct span){(size_t)(x - f->v), (size_t)s, (size_t)en,
                         kv ? json_string_value(kv) : "redacted", i};
    return 0;
}

int anon_apply(const json_t *org, const json_t *content, const json_t *context,
               const json_t *redactions, const unsigned char release_key[ANON_KEY_BYTES],
               json_t **release, struct err *e)
{
    *release = NULL;
    struct ctx c;
    struct fields f = {0};
    struct span *v = NULL;
    int rc = ctx_parse(context, &c, e);
    if (rc == 0 && org != NULL && !json_is_null(org) && !json_is_object(org))
        rc = err_field(e, "org", "must be an object");
    if (rc == 0)
        rc = fields_collect(content, &f, e);
    if (rc == 0 && !json_is_array(redactions))
        rc = err_field(e, "redactions", "must be an array");
    if (rc == 0 && json_array_size(redactions) > ANON_MAX_REDACTIONS)
        rc = err_set(e, ERR_TOOBIG, "more than %d redactions", ANON_MAX_REDACTIONS);
    if (rc != 0)
        goto out_free;
    size_t n = json_array_size(redactions);
    v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        span_parse(json_array_get(redactions, i), i, &f, &v[i], e);
    if (e->code != 0) {
        rc = e->code;
        goto out_free;
    }
    /* Sorted by position; entry order breaks ties, so an overlap names both entries. */
    qsort(v, n, sizeof(*v), span_cmp);
    for (size_t i = 1; i < n; i++)
        if (v[i].field == v[i - 1].field && v[i].start < v[i - 1].end) {
            char p[48];
            snprintf(p, sizeof(p), "redactions[%zu]", v[i].nth);
            err_field(e, p, "overlaps redactions[%zu]", v[i - 1].nth);
        }
    rc = e->code ? e->code : render(org, content, &c, &f, v, n, release_key, release, e);
out_free:
    free(v);
    free(f.v);
    return rc;
}

static bool rule_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > ANON_MAX_RULE_ID + 4) /* + "org:" */
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-", s[i]))
            return false;
    return true;
}

int anon_redactions_describe(const json_t *content, const json_t *redactions,
                             const unsigned char release_key[ANON_KEY_BYTES], json_t **out,
                             struct err *e)
{
    *out = NULL;
    struct fields f = {0};
    int rc = fields_collect(content, &f, e);
    if (rc != 0) {
        free(f.v);
        return rc;
    }
    json_t *list = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(redactions, i, r)
    {
        struct span sp;
        if (span_parse(r, i, &f, &sp, e) != 0)
            break;
        const struct field *fl = &f.v[sp.field];
        char id[32], ph[ANON_PLACEHOLDER_MAX];
        const char *given = json_string_value(json_object_get(r, "id"));
        const char *rule = json_string_value(json_object_get(r, "rule"));
        if (!rule_name_ok(rule))
            rule = NULL; /* what a client names is kept only if it looks like a rule id */
        snprintf(id, sizeof(id), "m%zu", i + 1);
        placeholder(release_key, sp.kind, fl->text + sp.start, sp.end - sp.start, ph);
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:I, s:I, s:s%, s:s?, s:s, s:s}", "id",
                            given && *given && strlen(given) < 32 ? given : id, "field", fl->path,
                            "start", (json_int_t)sp.start, "end", (json_int_t)sp.end, "original",
                            fl->text + sp.start, sp.end - sp.start, "placeholder",
                            fl->observable ? NULL : ph, "rule", rule ? rule : "manual", "kind",
                            sp.kind));
    }
    free(f.v);
    if (e->code) {
        json_decref(list);
        return e->code;
    }
    *out = list;
    return 0;
}
