/*
 * member.c - validation of member objects; see member.h.
 *
 * Every check walks the whole input and reports each faulty field, so a
 * form can show all its errors at once. Nothing here touches the store.
 */
#include "member.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/util.h"
#include "model_int.h"
#include "report.h"

static const char *const role_codes[] = {"member", "analyst", "org_admin", "admin", "auditor"};
static const char *const org_kinds[] = {"operator", "sector_hub", "coordinator",
                                        "ministry", "agency",     "vendor"};
static const char *const contact_types[] = {"email", "phone", "webhook", "url"};

bool model__in_list(const char *const *list, size_t n, const char *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

unsigned model_role_bit(const char *code)
{
    for (size_t i = 0; code && i < MODEL_NELEM(role_codes); i++)
        if (!strcmp(role_codes[i], code))
            return 1u << i;
    return 0;
}

json_t *model_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (size_t i = 0; i < MODEL_NELEM(role_codes); i++)
        if (roles & (1u << i))
            json_array_append_new(a, json_string(role_codes[i]));
    return a;
}

bool model_org_kind_valid(const char *k) { return model__in_list(org_kinds, MODEL_NELEM(org_kinds), k); }

bool model_locale_valid(const char *l) { return l && (!strcmp(l, "ja") || !strcmp(l, "en")); }

bool model_vocab_has(const struct model_vocab *v, const char *code)
{
    return v && model__in_list(v->codes, v->n, code);
}

/* ---- field helpers ---- */

const char *model__type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

/* Reject keys not in allowed (a NULL-terminated list). */
void model__check_unknown(const json_t *in, const char *prefix, const char *const *allowed,
                          struct err *e)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, k);
        if (!ok) {
            char f[96];
            snprintf(f, sizeof(f), "%s%s", prefix, k);
            err_field(e, f, "unknown field");
        }
    }
}

const char *model__text(const json_t *v, const char *field, size_t max, bool required,
                        bool multiline, struct err *e)
{
    if (v == NULL) {
        if (required)
            err_field(e, field, "required");
        return NULL;
    }
    if (!json_is_string(v)) {
        err_field(e, field, "must be a string, not %s", model__type_name(v));
        return NULL;
    }
    const char *s = json_string_value(v);
    /* one pass over the bytes: characters (UTF-8 lead bytes), NUL, other control characters */
    const unsigned char *p = (const unsigned char *)s, *end = p + json_string_length(v);
    size_t n = 0;
    bool nul = false, ctrl = false;
    for (; p < end; p++) {
        n += (*p & 0xc0) != 0x80;
        if (*p < 0x20 || *p == 0x7f) {
            nul = nul || *p == 0;
            ctrl = ctrl || !(multiline && (*p == '\n' || *p == '\t' || *p == '\r'));
        }
    }
    if (nul) {
        err_field(e, field, "must not contain NUL");
        return NULL;
    }
    if (n > max) {
        err_field(e, field, "too long: %zu characters, at most %zu", n, max);
        return NULL;
    }
    if (ctrl) {
        err_field(e, field, "must not contain control characters");
        return NULL;
    }
    return s;
}

/* Text that must not be blank after trimming ASCII spaces. */
bool model__blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static int bool_field(const json_t *v, const char *field, struct err *e)
{
    if (v && !json_is_boolean(v))
        err_field(e, field, "must be a boolean, not %s", model__type_name(v));
    return 0;
}

/* {"ja","en"}: at least one non-blank on create; each at most LIMIT_NAME_CHARS. */
static json_t *name_field(const json_t *v, const char *field, bool required, struct err *e)
{
    if (v == NULL) {
        if (required)
            err_field(e, field, "required");
        return NULL;
    }
    if (!json_is_object(v)) {
        err_field(e, field, "must be an object with \"ja\" and \"en\", not %s", model__type_name(v));
        return NULL;
    }
    char fj[96], fe[96], pre[96];
    snprintf(fj, sizeof(fj), "%s.ja", field);
    snprintf(fe, sizeof(fe), "%s.en", field);
    snprintf(pre, sizeof(pre), "%s.", field);
    static const char *const allowed[] = {"ja", "en", NULL};
    model__check_unknown(v, pre, allowed, e);
    size_t before = e->nfields;
    const char *ja = model__text(json_object_get(v, "ja"), fj, LIMIT_NAME_CHARS, false, false, e);
    const char *en = model__text(json_object_get(v, "en"), fe, LIMIT_NAME_CHARS, false, false, e);
    if (e->nfields != before)
        return NULL;
    if (!required) {
        /* A patch changes only the languages it names; neither may be blanked. */
        json_t *o = json_object();
        if (ja && model__blank(ja))
            err_field(e, fj, "must not be blank");
        else if (ja)
            json_object_set_new(o, "ja", json_string(ja));
        if (en && model__blank(en))
            err_field(e, fe, "must not be blank");
        else if (en)
            json_object_set_new(o, "en", json_string(en));
        return o;
    }
    if (model__blank(ja) && model__blank(en)) {
        err_field(e, field, "give a name in Japanese or English (or both)");
        return NULL;
    }
    /* A missing language falls back to the other, so every view has a name. */
    return json_pack("{s:s,s:s}", "ja", model__blank(ja) ? en : ja, "en", model__blank(en) ? ja : en);
}

/* ---- roles ---- */

int model_roles_parse(const json_t *arr, const char *field, unsigned *out, struct err *e)
{
    *out = 0;
    if (!json_is_array(arr))
        return err_field(e, field, "must be an array of role codes");
    if (json_array_size(arr) == 0)
        return err_field(e, field, "give at least one role");
    if (json_array_size(arr) > 8)
        return err_field(e, field, "too many roles");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char f[96];
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        unsigned bit = model_role_bit(json_string_value(v));
        if (!bit)
            err_field(e, f, "unknown role: must be member, analyst, org_admin, admin or auditor");
        *out |= bit;
    }
    return e->code;
}

/* ---- sectors ---- */

int model_sector_check(const json_t *in, enum model_mode mode, json_t **out, struct err *e)
{
    if (!json_is_object(in))
        return err_field(e, "", "body must be a JSON object");
    static const char *const c_allowed[] = {"code", "name", NULL};
    static const char *const p_allowed[] = {"name", "disabled", NULL};
    model__check_unknown(in, "", mode == MODEL_CREATE ? c_allowed : p_allowed, e);
    json_t *o = json_object();
    if (mode == MODEL_CREATE) {
        const char *code =
            model__text(json_object_get(in, "code"), "code", LIMIT_SECTOR_CODE, true, false, e);
        if (code) {
            bool ok = *code >= 'a' && *code <= 'z';
            for (const char *p = code; *p; p++)
                ok = ok && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
            if (!ok)
                err_field(e, "code", "must start with a-z and use only a-z, 0-9 and _");
            else
                json_object_set_new(o, "code", json_string(code));
        }
    }
    json_t *name = name_field(json_object_get(in, "name"), "name", mode == MODEL_CREATE, e);
    if (name)
        json_object_set_new(o, "name", name);
    if (mode == MODEL_PATCH) {
        json_t *d = json_object_get(in, "disabled");
        bool_field(d, "disabled", e);
        if (json_is_boolean(d))
            json_object_set(o, "disabled", d);
    }
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

/* ---- organisations ---- */

bool model__email_valid(const char *s)
{
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.'))
        return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p))
            return false;
    return at[1] != '.' && s[strlen(s) - 1] != '.';
}

static bool url_valid(const char *s, bool https_only)
{
    if (!strncmp(s, "https://", 8))
        s += 8;
    else if (!https_only && !strncmp(s, "http://", 7))
        s += 7;
    else
        return false;
    if (*s == '\0' || *s == '/')
        return false;
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return false;
    return true;
}

static bool phone_valid(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (!strchr("+-() .", *p))
            return false;
    }
    return digits >= 3 && digits <= 20;
}

static json_t *contacts_field(const json_t *v, struct err *e)
{
    if (!json_is_array(v)) {
        err_field(e, "contacts", "must be an array");
        return NULL;
    }
    if (json_array_size(v) > LIMIT_CONTACTS) {
        err_field(e, "contacts", "too many: %zu, at most %d", json_array_size(v), LIMIT_CONTACTS);
        return NULL;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c)
    {
        char f[96], pre[64];
        snprintf(pre, sizeof(pre), "contacts[%zu]", i);
        if (!json_is_object(c)) {
            err_field(e, pre, "must be an object with type and value");
            continue;
        }
        static const char *const allowed[] = {"type", "value", "label", "locale", NULL};
        char pre2[72];
        snprintf(pre2, sizeof(pre2), "%s.", pre);
        model__check_unknown(c, pre2, allowed, e);
        snprintf(f, sizeof(f), "%s.type", pre);
        const char *type = model__text(json_object_get(c, "type"), f, 16, true, false, e);
        if (type && !model__in_list(contact_types, MODEL_NELEM(contact_types), type)) {
            err_field(e, f, "must be email, phone, webhook or url");
            type = NULL;
        }
        snprintf(f, sizeof(f), "%s.value", pre);
        const char *value = model__text(json_object_get(c, "value"), f, LIMIT_CONTACT_VALUE, true, false, e);
        if (value && type) {
            if (!strcmp(type, "email") && !model__email_valid(value))
                err_field(e, f, "not an e-mail address");
            else if (!strcmp(type, "phone") && !phone_valid(value))
                err_field(e, f, "not a phone number");
            else if (!strcmp(type, "webhook") && !url_valid(value, true))
                err_field(e, f, "a webhook must be an https:// URL");
            else if (!strcmp(type, "url") && !url_valid(value, false))
                err_field(e, f, "not an http(s) URL");
        }
        snprintf(f, sizeof(f), "%s.label", pre);
        const char *label = model__text(json_object_get(c, "label"), f, LIMIT_CONTACT_LABEL, false, false, e);
        /* The language alert e-mails to this contact are written in (default ja). */
        snprintf(f, sizeof(f), "%s.locale", pre);
        const char *loc = model__text(json_object_get(c, "locale"), f, 8, false, false, e);
        if (loc && !model_locale_valid(loc)) {
            err_field(e, f, "must be ja or en");
            loc = NULL;
        }
        if (type && value) {
            json_t *o = json_pack("{s:s,s:s}", "type", type, "value", value);
            if (label && !model__blank(label))
                json_object_set_new(o, "label", json_string(label));
            if (loc)
                json_object_set_new(o, "locale", json_string(loc));
            json_array_append_new(arr, o);
        }
    }
    return arr;
}

json_t *model__sector_codes(const json_t *v, const struct model_vocab *sectors, bool dup_is_error,
                            struct err *e)
{
    if (!json_is_array(v)) {
        err_field(e, "sectors", "must be an array of sector codes");
        return NULL;
    }
    if (json_array_size(v) > LIMIT_SECTORS) {
        err_field(e, "sectors", "too many sectors");
        return NULL;
    }
    json_t *arr = json_array();
    size_t i, j;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        char f[64];
        snprintf(f, sizeof(f), "sectors[%zu]", i);
        const char *code = json_string_value(s);
        if (!model_vocab_has(sectors, code)) {
            err_field(e, f, "unknown sector code");
            continue;
        }
        bool dup = false;
        json_t *t;
        json_array_foreach(arr, j, t) dup = dup || !strcmp(json_string_value(t), code);
        if (dup && dup_is_error)
            err_field(e, f, "listed twice");
        else if (!dup)
            json_array_append_new(arr, json_string(code));
    }
    return arr;
}

/* ---- organisation identifiers ---- */

/* The identifier lists, in the order they are checked and returned. */
static const char *const ident_keys[] = {"aliases", "domains", "ip_ranges", "hostnames", "persons",
                                         NULL};

/* Length of the white space at s: ASCII or the ideographic space U+3000. */
static size_t ident_space(const char *s)
{
    if (*s == ' ' || *s == '\t')
        return 1;
    return !strncmp(s, "\xe3\x80\x80", 3) ? 3 : 0;
}

/* s without leading and trailing white space, as a new string. */
static char *ident_trim(const char *s)
{
    while (ident_space(s))
        s += ident_space(s);
    size_t n = strlen(s);
    for (;;) {
        if (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        else if (n >= 3 && !strncmp(s + n - 3, "\xe3\x80\x80", 3))
            n -= 3;
        else
            break;
    }
    char *t = xmalloc(n + 1);
    memcpy(t, s, n);
    t[n] = '\0';
    return t;
}

/* Letters, digits, hyphens and dots, as the anonymizer matches host names (no '_'). */
static bool ident_ldh(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || strchr(".-", s[0]) || strchr(".-", s[n - 1]) || strstr(s, ".."))
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return false;
    return true;
}

/*
 * The canonical form of one identifier of list key (trimmed t), or NULL
 * with *reason. Names keep their spelling; the anonymizer matches them
 * caselessly. A single character would redact half of every text.
 */
static char *ident_norm(const char *key, const char *t, const char **reason)
{
    char *out = NULL;
    if (!strcmp(key, "domains")) {
        if (model_observable_norm("domain", t, &out, reason) && !ident_ldh(out)) {
            free(out);
            out = NULL;
        }
        if (out == NULL)
            *reason = "not a domain name (letters, digits, hyphens and dots; xn-- for "
                      "international names)";
    } else if (!strcmp(key, "ip_ranges")) {
        const char *type = strchr(t, '/') ? "cidr" : strchr(t, ':') ? "ipv6" : "ipv4";
        if (!model_observable_norm(type, t, &out, reason))
            *reason = "not an IP address or network (ADDRESS/PREFIX)";
    } else if (!strcmp(key, "hostnames")) {
        if (!ident_ldh(t) || strlen(t) < 2) {
            *reason = "not a host name (letters, digits, hyphens and dots; at least 2)";
        } else {
            out = xstrdup(t);
            for (char *p = out; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
    } else if (util_utf8_chars(t) < 2) {
        *reason = "must be at least 2 characters";
    } else {
        out = xstrdup(t);
    }
    return out;
}

static bool ident_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), s)) return true;
    return false;
}

/* One list: entries checked and normalised, duplicates dropped. NULL when unusable. */
static json_t *ident_list(const json_t *v, const char *key, struct err *e)
{
    char f[96];
    snprintf(f, sizeof(f), "identifiers.%s", key);
    if (!json_is_array(v)) {
        err_field(e, f, "must be an array of strings");
        return NULL;
    }
    if (json_array_size(v) > LIMIT_ORG_IDENTIFIERS) {
        err_field(e, f, "too many: %zu, at most %d", json_array_size(v), LIMIT_ORG_IDENTIFIERS);
        return NULL;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        snprintf(f, sizeof(f), "identifiers.%s[%zu]", key, i);
        const char *s = model__text(x, f, LIMIT_ORG_IDENTIFIER, true, false, e);
        if (s == NULL)
            continue;
        if (strlen(s) > LIMIT_ORG_IDENTIFIER) {
            err_field(e, f, "too long: %zu bytes, at most %d", strlen(s), LIMIT_ORG_IDENTIFIER);
            continue;
        }
        char *t = ident_trim(s), *norm = NULL;
        const char *reason = NULL;
        if (*t == '\0')
            err_field(e, f, "must not be blank");
        else if ((norm = ident_norm(key, t, &reason)) == NULL)
            err_field(e, f, "%s", reason);
        else if (!ident_has(arr, norm))
            json_array_append_new(arr, json_string(norm));
        free(norm);
        free(t);
    }
    return arr;
}

/* {"aliases"?, "domains"?, ...}: the lists given, each normalised. */
static json_t *identifiers_field(const json_t *v, struct err *e)
{
    if (!json_is_object(v)) {
        err_field(e, "identifiers",
                  "must be an object with aliases, domains, ip_ranges, hostnames and persons");
        return NULL;
    }
    model__check_unknown(v, "identifiers.", ident_keys, e);
    json_t *o = json_object();
    for (const char *const *k = ident_keys; *k; k++) {
        json_t *list = json_object_get(v, *k);
        json_t *norm = list ? ident_list(list, *k, e) : NULL;
        if (norm)
            json_object_set_new(o, *k, norm);
    }
    return o;
}

int model_org_check(const json_t *in, enum model_mode mode, const struct model_vocab *sectors,
                    const struct model_vocab *tiers, json_t **out, struct err *e)
{
    if (!json_is_object(in))
        return err_field(e, "", "body must be a JSON object");
    static const char *const c_allowed[] = {"name",     "kind",        "sectors", "tier",
                                            "contacts", "identifiers", NULL};
    static const char *const p_allowed[] = {"name",     "kind",        "sectors",  "tier",
                                            "contacts", "identifiers", "disabled", NULL};
    model__check_unknown(in, "", mode == MODEL_CREATE ? c_allowed : p_allowed, e);
    bool req = mode == MODEL_CREATE;
    json_t *o = json_object();

    json_t *name = name_field(json_object_get(in, "name"), "name", req, e);
    if (name)
        json_object_set_new(o, "name", name);

    const char *kind = model__text(json_object_get(in, "kind"), "kind", 32, req, false, e);
    if (kind && !model_org_kind_valid(kind))
        err_field(e, "kind",
                  "must be operator, sector_hub, coordinator, ministry, agency or vendor");
    else if (kind)
        json_object_set_new(o, "kind", json_string(kind));

    json_t *sv = json_object_get(in, "sectors");
    json_t *sec = sv ? model__sector_codes(sv, sectors, true, e) : (req ? json_array() : NULL);
    if (sec)
        json_object_set_new(o, "sectors", sec);

    const char *tier = model__text(json_object_get(in, "tier"), "tier", 32, req, false, e);
    if (tier && !model_vocab_has(tiers, tier))
        err_field(e, "tier", "unknown tier code");
    else if (tier)
        json_object_set_new(o, "tier", json_string(tier));

    json_t *cv = json_object_get(in, "contacts");
    json_t *contacts = cv ? contacts_field(cv, e) : (req ? json_array() : NULL);
    if (contacts)
        json_object_set_new(o, "contacts", contacts);

    json_t *iv = json_object_get(in, "identifiers");
    json_t *idents = iv ? identifiers_field(iv, e) : NULL;
    if (idents)
        json_object_set_new(o, "identifiers", idents);

    if (mode == MODEL_PATCH) {
        json_t *d = json_object_get(in, "disabled");
        bool_field(d, "disabled", e);
        if (json_is_boolean(d))
            json_object_set(o, "disabled", d);
    } else if (sv == NULL || sec) {
        model_org_rules(o, e);
    }
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

int model_org_rules(const json_t *org, struct err *e)
{
    const char *kind = json_string_value(json_object_get(org, "kind"));
    if (kind && (!strcmp(kind, "operator") || !strcmp(kind, "sector_hub")) &&
        json_array_size(json_object_get(org, "sectors")) == 0)
        err_field(e, "sectors", "an operator or sector hub needs at least one sector");
    return e->code;
}

/* ---- users ---- */

int model_login_norm(const char *in, const char *field, char *out, size_t outsz, struct err *e)
{
    size_t n = strlen(in);
    if (n < LIMIT_LOGIN_MIN || n > LIMIT_LOGIN_MAX || n >= outsz)
        return err_field(e, field, "must be %d to %d characters", LIMIT_LOGIN_MIN,
                         LIMIT_LOGIN_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)in[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("._@-", c)))
            return err_field(e, field, "may use only a-z, 0-9, '.', '_', '@' and '-'");
        out[i] = c;
    }
    out[n] = '\0';
    return 0;
}

int model_password_check(const char *pw, const char *field, struct err *e)
{
    size_t n = strlen(pw);
    if (n < LIMIT_PASSWORD_MIN)
        return err_field(e, field, "too short: at least %d characters", LIMIT_PASSWORD_MIN);
    if (n > LIMIT_PASSWORD_MAX)
        return err_field(e, field, "too long: at most %d bytes", LIMIT_PASSWORD_MAX);
    return 0;
}

int model_user_check(const json_t *in, enum model_mode mode, json_t **out, struct err *e)
{
    if (!json_is_object(in))
        return err_field(e, "", "body must be a JSON object");
    static const char *const c_allowed[] = {"login", "display_name", "org_id", "roles",
                                            "locale", "email", "password", NULL};
    static const char *const p_allowed[] = {"display_name", "roles", "locale", "email",
                                            "disabled", "password", NULL};
    bool req = mode == MODEL_CREATE;
    model__check_unknown(in, "", req ? c_allowed : p_allowed, e);
    json_t *o = json_object();

    if (req) {
        const char *login = model__text(json_object_get(in, "login"), "login", 256, true, false, e);
        char norm[LIMIT_LOGIN_MAX + 1];
        if (login && model_login_norm(login, "login", norm, sizeof(norm), e) == 0)
            json_object_set_new(o, "login", json_string(norm));
        const char *org = model__text(json_object_get(in, "org_id"), "org_id", 64, true, false, e);
        if (org && !util_is_uuid(org))
            err_field(e, "org_id", "not an organisation id");
        else if (org)
            json_object_set_new(o, "org_id", json_string(org));
    }
    const char *dn =
        model__text(json_object_get(in, "display_name"), "display_name", LIMIT_NAME_CHARS, req, false, e);
    if (dn && model__blank(dn))
        err_field(e, "display_name", "must not be blank");
    else if (dn)
        json_object_set_new(o, "display_name", json_string(dn));

    json_t *rv = json_object_get(in, "roles");
    unsigned roles = 0;
    if (rv || req) {
        if (rv == NULL)
            err_field(e, "roles", "required");
        else if (model_roles_parse(rv, "roles", &roles, e) == 0)
            json_object_set_new(o, "roles", model_roles_json(roles));
    }

    const char *loc = model__text(json_object_get(in, "locale"), "locale", 8, false, false, e);
    if (loc && !model_locale_valid(loc))
        err_field(e, "locale", "must be ja or en");
    else if (loc || req)
        json_object_set_new(o, "locale", json_string(loc ? loc : "ja"));

    json_t *ev = json_object_get(in, "email");
    if (json_is_null(ev)) {
        json_object_set_new(o, "email", json_null());
    } else if (ev) {
        const char *em = model__text(ev, "email", LIMIT_EMAIL_MAX, false, false, e);
        if (em && !model__email_valid(em))
            err_field(e, "email", "not an e-mail address");
        else if (em)
            json_object_set_new(o, "email", json_string(em));
    } else if (req) {
        json_object_set_new(o, "email", json_null());
    }

    json_t *pv = json_object_get(in, "password");
    if (pv || req) {
        if (pv == NULL)
            err_field(e, "password", "required");
        else if (!json_is_string(pv))
            err_field(e, "password", "must be a string");
        else if (json_string_length(pv) != strlen(json_string_value(pv)))
            err_field(e, "password", "must not contain NUL");
        else if (model_password_check(json_string_value(pv), "password", e) == 0)
            json_object_set(o, "password", pv);
    }

    if (mode == MODEL_PATCH) {
        json_t *d = json_object_get(in, "disabled");
        bool_field(d, "disabled", e);
        if (json_is_boolean(d))
            json_object_set(o, "disabled", d);
    }
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

/* ---- tokens ---- */

int model_token_check(const json_t *in, enum model_mode mode, int default_days, json_t **out,
                      struct err *e)
{
    if (!json_is_object(in))
        return err_field(e, "", "body must be a JSON object");
    static const char *const c_allowed[] = {"name", "expires_in_days", "user_id", NULL};
    static const char *const p_allowed[] = {"name", NULL};
    bool req = mode == MODEL_CREATE;
    model__check_unknown(in, "", req ? c_allowed : p_allowed, e);
    json_t *o = json_object();
    const char *name = model__text(json_object_get(in, "name"), "name", LIMIT_TOKEN_NAME, true, false, e);
    if (name && model__blank(name))
        err_field(e, "name", "must not be blank");
    else if (name)
        json_object_set_new(o, "name", json_string(name));
    if (req) {
        json_t *d = json_object_get(in, "expires_in_days");
        json_int_t days = default_days;
        if (d && !json_is_integer(d))
            err_field(e, "expires_in_days", "must be an integer");
        else if (d && (json_integer_value(d) < 1 ||
                       json_integer_value(d) > LIMIT_TOKEN_DAYS_MAX))
            err_field(e, "expires_in_days", "must be from 1 to %d", LIMIT_TOKEN_DAYS_MAX);
        else if (d)
            days = json_integer_value(d);
        json_object_set_new(o, "expires_in_days", json_integer(days));
        json_t *u = json_object_get(in, "user_id");
        const char *uid = model__text(u, "user_id", 64, false, false, e);
        if (uid && !util_is_uuid(uid))
            err_field(e, "user_id", "not a user id");
        else if (uid)
            json_object_set_new(o, "user_id", json_string(uid));
    }
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

json_t *model_merge(const json_t *cur, const json_t *patch)
{
    json_t *m = json_deep_copy(cur);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        json_t *old = json_object_get(m, k);
        if (json_is_object(v) && json_is_object(old))
            json_object_update(old, v);
        else
            json_object_set(m, k, v);
    }
    return m;
}
