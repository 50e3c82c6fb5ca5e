/*
 * stix.c - releases to a STIX 2.1 bundle: the hub identity, markings,
 * report and incident of each release (see stix.h for the mapping).
 */
#include "stix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Report and incident confidence: a first-hand account, vetted (DOMAIN.md §9 "high"). */
#define STIX_RELEASE_CONFIDENCE 85

/* When the hub identity was defined; fixed so its object never changes. */
#define STIX_HUB_CREATED "2026-01-01T00:00:00.000Z"

#define TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define TLP2_CREATED "2022-10-01T00:00:00.000Z"
#define INCIDENT_CORE_EXTENSION "extension-definition--ef765651-680c-498d-9894-99799f2fa126"

/* The official TLP 2.0 marking-definitions (OASIS cti-stix-common-objects), mildest first. */
static const struct tlp {
    const char *label;  /* isac's label */
    const char *id;     /* fixed marking-definition id */
    const char *name;   /* its name */
    const char *value;  /* its tlp_2_0 value */
} tlps[] = {
    {"CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"},
    {"GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"},
    {"AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
    {"AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     "TLP:AMBER+STRICT", "amber+strict"},
    {"RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"},
};
#define NTLP (sizeof(tlps) / sizeof(tlps[0]))

static int tlp_index(const char *label)
{
    for (size_t i = 0; label && i < NTLP; i++)
        if (!strcmp(label, tlps[i].label))
            return (int)i;
    return -1;
}

/* ---- helpers ---- */

void stix__set_str(json_t *o, const char *k, const char *s)
{
    if (s != NULL)
        json_object_set_new(o, k, json_string(s));
}

static const char *get_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

static json_t *str_array(const char *s)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(s));
    return a;
}

/* The n strings of parts (NULLs skipped) joined; malloc'd. */
static char *join(const char *const *parts, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += parts[i] ? strlen(parts[i]) : 0;
    char *s = xmalloc(len);
    char *w = s;
    for (size_t i = 0; i < n; i++) {
        if (parts[i] == NULL)
            continue;
        size_t k = strlen(parts[i]);
        memcpy(w, parts[i], k);
        w += k;
    }
    *w = '\0';
    return s;
}

/* A deep copy of v without null members or elements (STIX forbids nulls). New reference. */
static json_t *strip_nulls(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        const json_t *m;
        json_object_foreach((json_t *)v, k, m)
            if (!json_is_null(m))
                json_object_set_new(o, k, strip_nulls(m));
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        const json_t *m;
        json_array_foreach(v, i, m)
            if (!json_is_null(m))
                json_array_append_new(a, strip_nulls(m));
        return a;
    }
    return json_deep_copy(v);
}

/* ---- ids and common properties ---- */

void stix__rel_id(const struct stix__rel *r, const char *type, const char *key,
                  char out[STIX__ID_MAX])
{
    struct stix__uuid5 u;
    char ver[24], uuid[STIX_UUID_LEN + 1];
    snprintf(ver, sizeof(ver), "/%lld/", r->version);
    if (stix__uuid5_init(&u, STIX_NAMESPACE) != 0)
        abort(); /* BUG: STIX_NAMESPACE is a UUID */
    stix__uuid5_adds(&u, r->id);
    stix__uuid5_adds(&u, ver);
    stix__uuid5_adds(&u, type);
    stix__uuid5_adds(&u, "/");
    stix__uuid5_adds(&u, key);
    stix__uuid5_end(&u, uuid);
    snprintf(out, STIX__ID_MAX, "%s--%s", type, uuid);
}

static json_t *obj_new(const char *type, const char *id)
{
    json_t *o = json_object();
    stix__set_str(o, "type", type);
    stix__set_str(o, "spec_version", "2.1");
    stix__set_str(o, "id", id);
    return o;
}

json_t *stix__sdo_new(const struct stix__rel *r, const char *type, const char *key)
{
    char id[STIX__ID_MAX];
    stix__rel_id(r, type, key, id);
    json_t *o = obj_new(type, id);
    stix__set_str(o, "created_by_ref", STIX_HUB_IDENTITY);
    stix__set_str(o, "created", r->ts);
    stix__set_str(o, "modified", r->ts);
    return o;
}

/* Append o unless its id is in seen; steals o. */
static bool bundle_add(json_t *objects, json_t *seen, json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id == NULL || json_object_get(seen, id) != NULL) {
        json_decref(o);
        return false;
    }
    json_object_set_new(seen, id, json_true());
    json_array_append_new(objects, o);
    return true;
}

bool stix__emit(struct stix__rel *r, json_t *o, bool ref)
{
    /* A copy: the statement marking is appended to r->markings after it is emitted. */
    json_object_set_new(o, "object_marking_refs", json_copy(r->markings));
    const char *id = json_string_value(json_object_get(o, "id"));
    json_t *idv = id ? json_string(id) : NULL;
    bool added = bundle_add(r->objects, r->seen, o);
    if (added && ref)
        json_array_append(r->refs, idv);
    json_decref(idv);
    return added;
}

/* ---- fixed objects ---- */

static json_t *hub_identity(void)
{
    json_t *o = obj_new("identity", STIX_HUB_IDENTITY);
    stix__set_str(o, "created", STIX_HUB_CREATED);
    stix__set_str(o, "modified", STIX_HUB_CREATED);
    stix__set_str(o, "name", "isac");
    stix__set_str(o, "description",
                  "重要インフラ事業者の報告を匿名化してリリースとして共有するハブ。"
                  "提供者は名指ししない。\n"
                  "The hub that shares the reports of critical-infrastructure operators as "
                  "anonymized releases. Providers are never named.");
    stix__set_str(o, "identity_class", "system");
    json_object_set_new(o, "object_marking_refs", str_array(tlps[0].id));
    return o;
}

/* The official object, verbatim: consumers match it by id and content. */
static json_t *tlp_marking(const struct tlp *t)
{
    json_t *o = obj_new("marking-definition", t->id);
    stix__set_str(o, "created", TLP2_CREATED);
    stix__set_str(o, "name", t->name);
    json_t *ext = json_object();
    stix__set_str(ext, "extension_type", "property-extension");
    stix__set_str(ext, "tlp_2_0", t->value);
    json_t *exts = json_object();
    json_object_set_new(exts, TLP2_EXTENSION, ext);
    json_object_set_new(o, "extensions", exts);
    return o;
}

/* ---- a release ---- */

/* "Purpose (利用目的): …\nHandling (取扱い): …" as a statement marking, or nothing. */
static void statement_marking(struct stix__rel *r, const json_t *rel)
{
    const char *purpose = get_str(rel, "purpose"), *handling = get_str(rel, "handling");
    if (purpose == NULL && handling == NULL)
        return;
    const char *parts[] = {purpose ? "Purpose (利用目的): " : NULL, purpose,
                           purpose && handling ? "\n" : NULL,
                           handling ? "Handling (取扱い): " : NULL, handling};
    char *text = join(parts, sizeof(parts) / sizeof(parts[0]));
    json_t *o = stix__sdo_new(r, "marking-definition", "statement");
    json_object_del(o, "modified"); /* marking-definitions are never versioned */
    stix__set_str(o, "definition_type", "statement");
    json_t *def = json_object();
    stix__set_str(def, "statement", text);
    json_object_set_new(o, "definition", def);
    free(text);
    /* Marked by the TLP alone: a marking does not mark itself. */
    char id[STIX__ID_MAX];
    util_strlcpy(id, json_string_value(json_object_get(o, "id")), sizeof(id));
    if (stix__emit(r, o, false))
        json_array_append_new(r->markings, json_string(id));
}

static void label(json_t *a, const char *prefix, const char *value)
{
    if (value == NULL || *value == '\0')
        return;
    const char *parts[] = {prefix, ":", value};
    char *s = join(parts, 3);
    json_array_append_new(a, json_string(s));
    free(s);
}

static json_t *labels(const json_t *c)
{
    json_t *a = json_array();
    label(a, "event-type", get_str(c, "event_type"));
    label(a, "kind", get_str(c, "kind"));
    label(a, "layer", get_str(c, "layer"));
    json_t *overall = json_object_get(json_object_get(c, "severity"), "overall");
    if (json_is_integer(overall)) {
        char lv[24];
        snprintf(lv, sizeof(lv), "%lld", (long long)json_integer_value(overall));
        label(a, "severity", lv);
    }
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(c, "sectors"), i, s)
        label(a, "sector", json_string_value(s));
    return a;
}

static void set_labels(json_t *o, const json_t *c)
{
    json_t *l = labels(c);
    if (json_array_size(l) > 0)
        json_object_set_new(o, "labels", l);
    else
        json_decref(l); /* the schema wants labels non-empty when present */
}

static bool is_near_miss(const json_t *c)
{
    static const char *const keys[] = {"kind", "event_type", "layer"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = get_str(c, keys[i]);
        if (v && !strcmp(v, "near_miss"))
            return true;
    }
    return false;
}

static const char *investigation_status(const json_t *c)
{
    const char *s = get_str(c, "status");
    if (s == NULL)
        return "new";
    return !strcmp(s, "closed") ? "closed" : "open";
}

static json_t *incident_core(const json_t *c)
{
    json_t *x = json_object();
    stix__set_str(x, "extension_type", "property-extension");
    stix__set_str(x, "determination", is_near_miss(c) ? "blocked" : "successful-attempt");
    stix__set_str(x, "investigation_status", investigation_status(c));
    json_t *overall = json_object_get(json_object_get(c, "severity"), "overall");
    json_int_t lv = json_integer_value(overall);
    if (json_is_integer(overall) && lv >= 0 && lv <= 4)
        json_object_set_new(x, "criticality", json_integer(lv * 25));
    json_t *exts = json_object();
    json_object_set_new(exts, INCIDENT_CORE_EXTENSION, x);
    return exts;
}

/* content's incident facts for machines (x_isac_incident), nulls left out. */
static json_t *incident_facts(const json_t *c)
{
    static const char *const keys[] = {"kind",    "event_type", "layer",  "causes", "severity",
                                       "sectors", "service",    "status", "followup"};
    static const char *const times[] = {"occurred_at", "detected_at", "recovered_at"};
    json_t *x = json_object();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(c, keys[i]);
        if (v && !json_is_null(v))
            json_object_set_new(x, keys[i], strip_nulls(v));
    }
    for (size_t i = 0; i < 3; i++) {
        const char *s = get_str(c, times[i]);
        int64_t t;
        int off;
        char ts[STIX__TS_LEN + 1];
        if (s && util_time_parse(s, &t, &off)) {
            stix__ts(t, ts);
            json_object_set_new(x, times[i], json_string(ts));
        }
    }
    return x;
}

static void incident(struct stix__rel *r, const json_t *c, const char *name)
{
    json_t *o = stix__sdo_new(r, "incident", "incident");
    stix__set_str(o, "name", name);
    stix__set_str(o, "description", get_str(c, "description"));
    json_object_set_new(o, "confidence", json_integer(STIX_RELEASE_CONFIDENCE));
    set_labels(o, c);
    json_object_set_new(o, "extensions", incident_core(c));
    json_t *facts = incident_facts(c);
    if (json_object_size(facts) > 0)
        json_object_set_new(o, "x_isac_incident", facts);
    else
        json_decref(facts);
    stix__emit(r, o, true);
}

/* description, then the provider's pseudonym in both languages; NULL if neither. */
static char *report_description(const json_t *c)
{
    const json_t *p = json_object_get(c, "provider");
    const char *desc = get_str(c, "description"), *ja = get_str(p, "ja"), *en = get_str(p, "en");
    if (desc == NULL && ja == NULL && en == NULL)
        return NULL;
    const char *parts[] = {desc, desc && (ja || en) ? "\n\n" : NULL,
                           ja ? "提供者: " : NULL, ja, ja && en ? "\n" : NULL,
                           en ? "Provider: " : NULL, en};
    return join(parts, sizeof(parts) / sizeof(parts[0]));
}

static json_t *provider(const json_t *c)
{
    const json_t *p = json_object_get(c, "provider");
    json_t *x = json_object();
    stix__set_str(x, "ja", get_str(p, "ja"));
    stix__set_str(x, "en", get_str(p, "en"));
    if (json_object_size(x) == 0) {
        json_decref(x);
        return NULL;
    }
    return x;
}

/* The report, added first; object_refs filled in once the release's objects exist. */
static json_t *report(struct stix__rel *r, const json_t *c, const char *name)
{
    json_t *o = stix__sdo_new(r, "report", "report");
    stix__set_str(o, "name", name);
    char *desc = report_description(c);
    stix__set_str(o, "description", desc);
    free(desc);
    stix__set_str(o, "published", r->ts);
    json_object_set_new(o, "report_types", str_array("threat-report"));
    set_labels(o, c);
    json_object_set_new(o, "confidence", json_integer(STIX_RELEASE_CONFIDENCE));
    json_t *ref = json_object();
    stix__set_str(ref, "source_name", "isac");
    stix__set_str(ref, "external_id", r->id);
    char ver[48];
    snprintf(ver, sizeof(ver), "release version %lld", r->version);
    stix__set_str(ref, "description", ver);
    json_t *refs = json_array();
    json_array_append_new(refs, ref);
    json_object_set_new(o, "external_references", refs);
    json_t *p = provider(c);
    if (p != NULL)
        json_object_set_new(o, "x_isac_provider", p);
    json_incref(o);
    if (!stix__emit(r, o, false)) {
        json_decref(o);
        return NULL;
    }
    return o; /* a reference the caller drops */
}

static void add_release(json_t *objects, json_t *seen, const json_t *rel, int64_t now)
{
    struct stix__rel r = {
        .id = json_string_value(json_object_get(rel, "id")),
        .version = (long long)json_integer_value(json_object_get(rel, "version")),
        .markings = json_array(),
        .refs = json_array(),
        .objects = objects,
        .seen = seen,
    };
    json_t *pub = json_object_get(rel, "published_at");
    stix__ts(json_is_integer(pub) ? (int64_t)json_integer_value(pub) : now, r.ts);
    json_array_append_new(r.markings, json_string(tlps[tlp_index(get_str(rel, "tlp"))].id));
    const json_t *c = json_object_get(rel, "content");
    const char *title = get_str(c, "title");
    char ver[32];
    snprintf(ver, sizeof(ver), " v%lld", r.version);
    const char *parts[] = {"isac release ", r.id, ver};
    char *name = title ? xstrdup(title) : join(parts, 3);
    statement_marking(&r, rel);
    json_t *rep = report(&r, c, name);
    if (rep != NULL) { /* NULL: the same release was given twice */
        incident(&r, c, name);
        stix__observables(&r, c);
        json_object_set(rep, "object_refs", r.refs);
        json_decref(rep);
    }
    free(name);
    json_decref(r.markings);
    json_decref(r.refs);
}

/* ---- the bundle ---- */

static int check_release(const json_t *rel, size_t i, struct err *e)
{
    const char *why = NULL;
    json_t *v = json_object_get(rel, "version");
    if (!json_is_object(rel))
        why = "not an object";
    else if (get_str(rel, "id") == NULL)
        why = "no id";
    else if (!json_is_integer(v) || json_integer_value(v) < 1)
        why = "no version";
    else if (!json_is_object(json_object_get(rel, "content")))
        why = "no content";
    else if (tlp_index(get_str(rel, "tlp")) < 0)
        why = "no tlp";
    if (why == NULL)
        return 0;
    return err_set(e, ERR_INTERNAL, "stix: release %zu: %s", i, why);
}

/* Seeded by now and every release's id and version: a new export, a new bundle id. */
static void bundle_id(const json_t *releases, int64_t now, char out[STIX__ID_MAX])
{
    struct stix__uuid5 u;
    char buf[48], uuid[STIX_UUID_LEN + 1];
    if (stix__uuid5_init(&u, STIX_NAMESPACE) != 0)
        abort(); /* BUG: STIX_NAMESPACE is a UUID */
    snprintf(buf, sizeof(buf), "bundle/%lld", (long long)now);
    stix__uuid5_adds(&u, buf);
    size_t i;
    const json_t *rel;
    json_array_foreach(releases, i, rel) {
        json_int_t v = json_integer_value(json_object_get(rel, "version"));
        snprintf(buf, sizeof(buf), "/%lld/", (long long)v);
        stix__uuid5_adds(&u, get_str(rel, "id"));
        stix__uuid5_adds(&u, buf);
    }
    stix__uuid5_end(&u, uuid);
    snprintf(out, STIX__ID_MAX, "bundle--%s", uuid);
}

/* The hub identity and the TLP markings used (CLEAR always: the identity's). */
static void fixed_objects(json_t *objects, json_t *seen, const json_t *releases)
{
    bool used[NTLP] = {true};
    size_t i;
    const json_t *rel;
    json_array_foreach(releases, i, rel)
        used[tlp_index(get_str(rel, "tlp"))] = true;
    bundle_add(objects, seen, hub_identity());
    for (i = 0; i < NTLP; i++)
        if (used[i])
            bundle_add(objects, seen, tlp_marking(&tlps[i]));
}

int stix_releases_bundle(const json_t *releases, int64_t now, json_t **out, struct err *e)
{
    *out = NULL;
    if (!json_is_array(releases))
        return err_set(e, ERR_INTERNAL, "stix: releases is not an array");
    size_t i;
    const json_t *rel;
    json_array_foreach(releases, i, rel)
        if (check_release(rel, i, e) != 0)
            return e->code;
    json_t *objects = json_array(), *seen = json_object();
    fixed_objects(objects, seen, releases);
    json_array_foreach(releases, i, rel)
        add_release(objects, seen, rel, now);
    json_decref(seen);
    char id[STIX__ID_MAX];
    bundle_id(releases, now, id);
    json_t *b = json_object();
    stix__set_str(b, "type", "bundle");
    stix__set_str(b, "id", id);
    json_object_set_new(b, "objects", objects);
    *out = b;
    return 0;
}
