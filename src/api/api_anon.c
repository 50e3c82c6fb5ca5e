/*
 * api_anon.c - the anonymizer's redaction rules (GET and PUT
 * /api/v1/anon-rules) and api__anon_load(), which gathers what anon.h
 * needs to propose a release: rules, the provider and the context.
 *
 * Rules come in two parts: the built-in ones of anon_rules_default(),
 * fixed by the software, and the custom ones administrators add. The
 * custom ones are one setting, "anon_rules":
 *     {"custom": [rule, ...], "updated_at": seconds}
 * A PUT is accepted only if the built-in and custom rules compile together
 * as one set (ids unique across both), so a stored set always compiles
 * with the built-ins of the version that accepted it.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon/anon.h"
#include "base/limits.h"
#include "base/util.h"

/* What the model accepts for an organisation is what the anonymizer compiles. */
_Static_assert(LIMIT_ORG_IDENTIFIERS == ANON_MAX_ORG_ITEMS, "identifier lists: model vs anon");
_Static_assert(LIMIT_ORG_IDENTIFIER == ANON_MAX_ORG_ITEM, "identifier length: model vs anon");
_Static_assert(LIMIT_ANON_ALLOW <= ANON_MAX_ORG_ITEMS, "anon_allow: cfg vs anon");

#define SETTING_KEY "anon_rules"

/* The stored custom rules: *custom (new reference, [] if never set) and *updated_at (0 then). */
static int custom_load(struct api_call *c, json_t **custom, json_int_t *updated_at)
{
    json_t *v = NULL;
    *custom = NULL;
    *updated_at = 0;
    if (store_setting_get(c->api->st, SETTING_KEY, &v, &c->e))
        return c->e.code;
    json_t *list = json_object_get(v, "custom");
    *custom = json_is_array(list) ? json_incref(list) : json_array();
    *updated_at = json_integer_value(json_object_get(v, "updated_at"));
    json_decref(v);
    return 0;
}

/* builtin followed by custom (new reference). */
static json_t *rules_concat(const json_t *builtin, const json_t *custom)
{
    json_t *all = json_deep_copy(builtin);
    json_array_extend(all, (json_t *)custom);
    return all;
}

static void respond_rules(struct api_call *c, json_t *builtin, json_t *custom,
                          json_int_t updated_at)
{
    http_respond_json(c->req, 200,
                      json_pack("{s:o,s:o,s:o}", "builtin", builtin, "custom", custom,
                                "updated_at", updated_at ? json_integer(updated_at) : json_null()));
}

void api__anon_rules_get(struct api_call *c)
{
    if (!auth_can_read_anon_rules(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only coordinator analysts and administrators read the rules");
        return;
    }
    json_t *custom;
    json_int_t at;
    if (custom_load(c, &custom, &at)) {
        api__problem(c);
        return;
    }
    respond_rules(c, anon_rules_default(), custom, at);
}

/*
 * Rewrite "rules[N]" in s (a field or a reason of anon_rules_new()) to
 * name what the caller sent: "custom[N - nbuiltin]", or "builtin[N]".
 */
static void rename_index(char *s, size_t size, size_t nbuiltin)
{
    char out[256];
    size_t n = 0;
    const char *p = s;
    while (*p && n + 1 < sizeof(out)) {
        char *end;
        if (!strncmp(p, "rules[", 6)) {
            unsigned long i = strtoul(p + 6, &end, 10);
            if (end != p + 6 && *end == ']') {
                int w = i >= nbuiltin
                            ? snprintf(out + n, sizeof(out) - n, "custom[%lu]", i - nbuiltin)
                            : snprintf(out + n, sizeof(out) - n, "builtin[%lu]", i);
                n = w > 0 && (size_t)w < sizeof(out) - n ? n + (size_t)w : sizeof(out) - 1;
                p = end + 1;
                continue;
            }
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    util_strlcpy(s, out, size);
}

/* One custom rule as stored: the known members only, description and caseless when given. */
static json_t *rule_norm(const json_t *r)
{
    json_t *o = json_pack("{s:O,s:O,s:O}", "id", json_object_get(r, "id"), "kind",
                          json_object_get(r, "kind"), "pattern", json_object_get(r, "pattern"));
    json_t *d = json_object_get(r, "description");
    if (json_is_string(d))
        json_object_set(o, "description", d);
    json_t *cl = json_object_get(r, "caseless");
    if (json_is_boolean(cl))
        json_object_set(o, "caseless", cl);
    return o;
}

/*
 * Compile builtin + custom as one set, as every release will; add its
 * complaints to c->e under the names the caller used.
 */
static void rules_check(struct api_call *c, const json_t *builtin, const json_t *custom)
{
    json_t *all = rules_concat(builtin, custom);
    struct anon_rules *compiled = NULL;
    struct err ae;
    err_init(&ae);
    anon_rules_new(all, &compiled, &ae);
    json_decref(all);
    anon_rules_free(compiled);
    if (ae.code && ae.code != ERR_INVALID) {
        err_set(&c->e, ae.code, "%s", ae.detail);
        return;
    }
    for (size_t i = 0; i < ae.nfields; i++) {
        size_t nb = json_array_size(builtin);
        rename_index(ae.fields[i].field, sizeof(ae.fields[i].field), nb);
        rename_index(ae.fields[i].reason, sizeof(ae.fields[i].reason), nb);
        err_field(&c->e, ae.fields[i].field, "%s", ae.fields[i].reason);
    }
}

/*
 * Check a PUT body: {"custom": [rule, ...]}. Returns the normalised custom
 * list (new reference) or NULL with c->e set (field errors under "custom").
 */
static json_t *custom_check(struct api_call *c, const json_t *body, const json_t *builtin)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v) if (strcmp(k, "custom"))
        err_field(&c->e, k, "unknown field");
    const json_t *custom = json_object_get(body, "custom");
    size_t nb = json_array_size(builtin);
    if (custom == NULL)
        err_field(&c->e, "custom", "required");
    else if (!json_is_array(custom))
        err_field(&c->e, "custom", "must be an array of rules");
    else if (nb + json_array_size(custom) > ANON_MAX_RULES)
        err_field(&c->e, "custom", "too many: %zu, at most %zu", json_array_size(custom),
                  ANON_MAX_RULES - nb);
    else
        rules_check(c, builtin, custom);
    if (c->e.code)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_array_foreach(custom, i, v) json_array_append_new(out, rule_norm(v));
    return out;
}

void api__anon_rules_put(struct api_call *c)
{
    if (!auth_can_write_anon_rules(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only administrators change the rules");
        return;
    }
    json_t *b = api__body(c, LIMIT_BODY_BYTES);
    if (b == NULL)
        return;
    json_t *builtin = anon_rules_default();
    json_t *custom = custom_check(c, b, builtin);
    json_decref(b);
    json_int_t now = util_now_ms() / 1000;
    json_t *doc = custom ? json_pack("{s:O,s:I}", "custom", custom, "updated_at", now) : NULL;
    if (custom == NULL || store_setting_put(c->api->st, SETTING_KEY, doc, c->id.p.user_id, &c->e)) {
        json_decref(doc);
        json_decref(custom);
        json_decref(builtin);
        api__problem(c);
        return;
    }
    json_decref(doc);
    json_t *ids = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(custom, i, r) json_array_append(ids, json_object_get(r, "id"));
    api__audit(c, "anon_rules.update", "anon_rules", SETTING_KEY, "ok",
               json_pack("{s:o}", "custom_ids", ids));
    respond_rules(c, builtin, custom, now);
}

/* ---- the anonymizer's input ---- */

/* Built-in plus custom rules, compiled; a stored set that no longer compiles is ERR_INTERNAL. */
static int load_rules(struct api_call *c, struct anon_rules **rules)
{
    json_t *custom;
    json_int_t at;
    if (custom_load(c, &custom, &at))
        return c->e.code;
    json_t *builtin = anon_rules_default();
    json_t *all = rules_concat(builtin, custom);
    struct err ae;
    err_init(&ae);
    if (anon_rules_new(all, rules, &ae))
        err_set(&c->e, ERR_INTERNAL, "the stored anonymizer rules do not compile (%s%s%s)",
                ae.nfields ? ae.fields[0].field : ae.detail, ae.nfields ? ": " : "",
                ae.nfields ? ae.fields[0].reason : "");
    json_decref(all);
    json_decref(builtin);
    json_decref(custom);
    return c->e.code;
}

/* The provider as anon.h reads it: kind, sectors, name and the identifier lists. */
static int load_org(struct api_call *c, const char *org_id, json_t **org)
{
    json_t *o = NULL;
    if (store_org_get(c->api->st, org_id, &o, &c->e))
        return c->e.code;
    *org = json_pack("{s:O,s:O,s:O}", "kind", json_object_get(o, "kind"), "sectors",
                     json_object_get(o, "sectors"), "name", json_object_get(o, "name"));
    json_object_update(*org, json_object_get(o, "identifiers"));
    json_decref(o);
    return 0;
}

/* The configured public domains (cfg anon_allow, comma-separated) as a JSON array. */
static json_t *allow_list(const char *csv)
{
    json_t *a = json_array();
    while (*csv) {
        size_t n = strcspn(csv, ",");
        if (n)
            json_array_append_new(a, json_stringn(csv, n));
        csv += n + (csv[n] == ',');
    }
    return a;
}

/*
 * Each sector with the number of enabled organisations of the provider's
 * kind in it. At most LIMIT_SECTORS: a sector left out counts as too small
 * to name, which errs on the side of hiding.
 */
static int load_sectors(struct api_call *c, const char *kind, json_t **out)
{
    json_t *all = NULL, *counts = NULL;
    if (store_sector_list(c->api->st, true, &all, &c->e) ||
        store_sector_member_counts(c->api->st, &counts, &c->e)) {
        json_decref(all);
        return c->e.code;
    }
    *out = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(all, i, s)
    {
        if (i >= LIMIT_SECTORS)
            break;
        const json_t *code = json_object_get(s, "code");
        json_int_t n = json_integer_value(
            json_object_get(json_object_get(counts, json_string_value(code)), kind));
        json_array_append_new(*out, json_pack("{s:O,s:O,s:I}", "code", code, "name",
                                              json_object_get(s, "name"), "members", n));
    }
    json_decref(all);
    json_decref(counts);
    return 0;
}

int api__anon_load(struct api_call *c, const char *org_id, struct anon_rules **rules,
                   json_t **org, json_t **context)
{
    json_t *sectors = NULL;
    *rules = NULL;
    *org = *context = NULL;
    if (load_rules(c, rules) || load_org(c, org_id, org) ||
        load_sectors(c, json_string_value(json_object_get(*org, "kind")), &sectors)) {
        anon_rules_free(*rules);
        json_decref(*org);
        *rules = NULL;
        *org = NULL;
        return c->e.code;
    }
    int k = c->api->cfg->anon_k ? c->api->cfg->anon_k : ANON_K_DEFAULT;
    *context = json_pack("{s:i,s:o,s:o}", "k", k, "sectors", sectors, "allow",
                         allow_list(c->api->cfg->anon_allow));
    return 0;
}
