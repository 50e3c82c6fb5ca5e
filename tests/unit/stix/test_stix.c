/*
 * test_stix.c - the STIX 2.1 export of releases (src/stix): ids, markings,
 * patterns per observable type, text, determinism, what must not leak.
 * Schema validity of the same bundles is tests/e2e/stix-schema.test.mjs
 * (through stix_samples).
 */
#include "unit.h"

#include "base/util.h"
#include "stix/stix.h"

#define NOW 1779400000 /* 2026-05-21T21:46:40Z */
#define NOW_TS "2026-05-21T21:46:40.000Z"
#define PUB1_TS "2026-05-20T18:00:00.000Z" /* published_at of the first fixture */

#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define TLP_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TLP_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define TLP_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define INCIDENT_EXT "extension-definition--ef765651-680c-498d-9894-99799f2fa126"

/* ---- helpers ---- */

static json_t *fixtures(void)
{
    json_error_t je;
    json_t *j = json_load_file(STIX_FIXTURE, 0, &je);
    if (j == NULL) {
        print_error("%s:%d: %s\n", STIX_FIXTURE, je.line, je.text);
        fail();
    }
    return j;
}

/* A new array holding the fixtures at the given indexes (-1 ends). */
static json_t *pick(const json_t *all, const int *idx)
{
    json_t *a = json_array();
    for (; *idx >= 0; idx++)
        json_array_append_new(a, json_deep_copy(json_array_get(all, (size_t)*idx)));
    return a;
}

static json_t *bundle_of(const json_t *releases, int64_t now)
{
    struct err e;
    err_init(&e);
    json_t *b = NULL;
    assert_int_equal(stix_releases_bundle(releases, now, &b, &e), 0);
    assert_int_equal(e.code, 0);
    assert_non_null(b);
    return b;
}

static json_t *fixture_bundle(int i)
{
    json_t *all = fixtures();
    int idx[] = {i, -1};
    json_t *rels = pick(all, idx);
    json_t *b = bundle_of(rels, NOW);
    json_decref(rels);
    json_decref(all);
    return b;
}

static json_t *objects(const json_t *b)
{
    json_t *o = json_object_get(b, "objects");
    assert_true(json_is_array(o));
    return o;
}

/* The object of type whose name is name (NULL: the first of type), or NULL. */
static json_t *find(const json_t *b, const char *type, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(objects(b), i, o) {
        if (strcmp(unit_jstr(o, "type"), type) != 0)
            continue;
        if (name == NULL || (unit_jstr(o, "name") && !strcmp(unit_jstr(o, "name"), name)))
            return o;
    }
    return NULL;
}

static json_t *find_id(const json_t *b, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(objects(b), i, o)
        if (!strcmp(unit_jstr(o, "id"), id))
            return o;
    return NULL;
}

static size_t count_type(const json_t *b, const char *type)
{
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(objects(b), i, o)
        n += !strcmp(unit_jstr(o, "type"), type);
    return n;
}

static bool has_str(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_string_value(v) && !strcmp(json_string_value(v), s))
            return true;
    return false;
}

static void assert_unique_ids(const json_t *b)
{
    json_t *seen = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(objects(b), i, o) {
        const char *id = unit_jstr(o, "id");
        assert_non_null(id);
        if (json_object_get(seen, id)) {
            print_error("duplicate id %s\n", id);
            fail();
        }
        json_object_set_new(seen, id, json_true());
    }
    json_decref(seen);
}

static const char *pattern_of(const json_t *b, const char *name)
{
    json_t *ind = find(b, "indicator", name);
    if (ind == NULL) {
        print_error("no indicator named %s\n", name);
        fail();
    }
    return unit_jstr(ind, "pattern");
}

/* ---- ids ---- */

static void test_uuid5(void **state)
{
    (void)state;
    char out[STIX_UUID_LEN + 1];
    /* RFC 9562 / Python uuid.uuid5(NAMESPACE_DNS, "python.org") */
    assert_int_equal(stix_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, out), 0);
    assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    assert_int_equal(stix_uuid5(STIX_NAMESPACE, "hub/identity", 12, out), 0);
    assert_string_equal(out, STIX_HUB_UUID);
    /* The namespace is parsed strictly. */
    assert_int_equal(stix_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c", "x", 1, out), ERR_INTERNAL);
    assert_int_equal(stix_uuid5("6ba7b810x9dad-11d1-80b4-00c04fd430c8", "x", 1, out), ERR_INTERNAL);
    assert_int_equal(stix_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430cg", "x", 1, out), ERR_INTERNAL);
}

static void test_ids_are_uuid5_of_release_version_object(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(0);
    char want[STIX_UUID_LEN + 1];
    const char *name = "0190f0a1-0000-7000-8000-000000000001/1/report/report";
    assert_int_equal(stix_uuid5(STIX_NAMESPACE, name, strlen(name), want), 0);
    json_t *rep = find(b, "report", NULL);
    assert_non_null(rep);
    assert_string_equal(unit_jstr(rep, "id") + strlen("report--"), want);
    assert_string_equal(want, "1e3fb5c4-ac8b-5b17-b336-239a68038760"); /* Python uuid.uuid5 */
    assert_unique_ids(b);
    json_decref(b);
}

static void test_deterministic(void **state)
{
    (void)state;
    json_t *all = fixtures();
    json_t *b1 = bundle_of(all, NOW), *b2 = bundle_of(all, NOW);
    assert_true(json_equal(b1, b2));
    /* Another export: a new bundle id, the same objects (those with a published_at). */
    int dated[] = {0, 1, 2, 3, -1};
    json_t *some = pick(all, dated);
    json_t *b3 = bundle_of(some, NOW), *b4 = bundle_of(some, NOW + 60);
    assert_string_not_equal(unit_jstr(b3, "id"), unit_jstr(b4, "id"));
    assert_true(json_equal(objects(b3), objects(b4)));
    json_decref(b4);
    json_decref(some);
    assert_unique_ids(b1);

    /* A new version of release 1: every object of it gets a new id. */
    int idx[] = {0, -1};
    json_t *v1 = pick(all, idx), *v2 = pick(all, idx);
    json_object_set_new(json_array_get(v2, 0), "version", json_integer(2));
    json_t *c1 = bundle_of(v1, NOW), *c2 = bundle_of(v2, NOW);
    assert_int_equal(json_array_size(objects(c1)), json_array_size(objects(c2)));
    size_t i, shared = 0;
    json_t *o;
    json_array_foreach(objects(c2), i, o) {
        if (find_id(c1, unit_jstr(o, "id")) != NULL) {
            shared++;
            /* only the hub identity and the fixed TLP markings stay */
            assert_true(!strcmp(unit_jstr(o, "type"), "identity") ||
                        json_object_get(o, "extensions") != NULL);
        }
    }
    assert_int_equal(shared, 3); /* identity, TLP:CLEAR, TLP:AMBER */
    json_decref(c1);
    json_decref(c2);
    json_decref(v1);
    json_decref(v2);
    json_decref(b1);
    json_decref(b2);
    json_decref(b3);
    json_decref(all);
}

/* ---- input ---- */

static void test_empty(void **state)
{
    (void)state;
    json_t *in = json_array();
    json_t *b = bundle_of(in, NOW);
    assert_str(unit_jstr(b, "type"), "bundle");
    assert_int_equal(strncmp(unit_jstr(b, "id"), "bundle--", 8), 0);
    /* Never an empty objects[]: the producer and its marking are always there. */
    assert_int_equal(json_array_size(objects(b)), 2);
    json_t *id = find(b, "identity", "isac");
    assert_non_null(id);
    assert_str(unit_jstr(id, "id"), STIX_HUB_IDENTITY);
    assert_str(unit_jstr(id, "identity_class"), "system");
    assert_json_eq(json_object_get(id, "object_marking_refs"), "[\"" TLP_CLEAR "\"]");
    assert_non_null(find_id(b, TLP_CLEAR));
    json_decref(b);
    json_decref(in);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}",
        "[1]",
        "[{'version':1,'content':{},'tlp':'AMBER'}]",
        "[{'id':'x','version':0,'content':{},'tlp':'AMBER'}]",
        "[{'id':'x','version':'1','content':{},'tlp':'AMBER'}]",
        "[{'id':'x','version':1,'content':null,'tlp':'AMBER'}]",
        "[{'id':'x','version':1,'content':{},'tlp':'amber'}]",
        "[{'id':'x','version':1,'content':{}}]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *in = unit_jsonq(bad[i]);
        struct err e;
        err_init(&e);
        json_t *b = (json_t *)1;
        assert_int_equal(stix_releases_bundle(in, NOW, &b, &e), ERR_INTERNAL);
        assert_null(b);
        assert_int_equal(e.code, ERR_INTERNAL);
        assert_non_null(strstr(e.detail, "stix:"));
        json_decref(in);
    }
    /* The detail names the release at fault. */
    json_t *in = unit_jsonq("[{'id':'a','version':1,'content':{},'tlp':'RED'},{'id':'b'}]");
    struct err e;
    err_init(&e);
    json_t *b = NULL;
    assert_int_equal(stix_releases_bundle(in, NOW, &b, &e), ERR_INTERNAL);
    assert_non_null(strstr(e.detail, "release 1"));
    json_decref(in);
}

static void test_minimal_release(void **state)
{
    (void)state;
    json_t *in = unit_jsonq("[{'id':'r','version':3,'content':{},'tlp':'GREEN'}]");
    json_t *b = bundle_of(in, NOW);
    json_t *rep = find(b, "report", NULL);
    assert_non_null(rep);
    assert_str(unit_jstr(rep, "name"), "isac release r v3");
    assert_str(unit_jstr(rep, "published"), NOW_TS);
    assert_null(json_object_get(rep, "description"));
    assert_null(json_object_get(rep, "labels"));
    assert_null(json_object_get(rep, "x_isac_provider"));
    json_t *inc = find(b, "incident", NULL);
    assert_null(json_object_get(inc, "x_isac_incident"));
    assert_jsonq_eq(json_object_get(json_object_get(inc, "extensions"), INCIDENT_EXT),
                    "{'extension_type':'property-extension','determination':'successful-attempt',"
                    "'investigation_status':'new'}");
    json_t *refs = json_object_get(rep, "object_refs");
    assert_int_equal(json_array_size(refs), 1);
    assert_true(has_str(refs, unit_jstr(inc, "id")));
    json_decref(b);
    json_decref(in);
}

static void test_duplicate_release(void **state)
{
    (void)state;
    json_t *all = fixtures();
    int idx[] = {0, 0, 2, -1};
    json_t *in = pick(all, idx);
    json_t *b = bundle_of(in, NOW);
    assert_unique_ids(b);
    assert_int_equal(count_type(b, "report"), 2);
    json_decref(b);
    json_decref(in);
    json_decref(all);
}

/* ---- observables ---- */

static void test_patterns(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(0);
    assert_str(pattern_of(b, "198.51.100.7"), "[ipv4-addr:value = '198.51.100.7']");
    assert_str(pattern_of(b, "2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']");
    assert_str(pattern_of(b, "203.0.113.0/24"), "[ipv4-addr:value ISSUBSET '203.0.113.0/24']");
    assert_str(pattern_of(b, "2001:db8:1::/48"), "[ipv6-addr:value ISSUBSET '2001:db8:1::/48']");
    assert_str(pattern_of(b, "evil.example"), "[domain-name:value = 'evil.example']");
    /* ' and \ are escaped with a backslash inside the quoted value */
    assert_str(pattern_of(b, "https://evil.example/a'b\\c?q=1"),
               "[url:value = 'https://evil.example/a\\'b\\\\c?q=1']");
    assert_str(pattern_of(b, "o'brien@evil.example"),
               "[email-addr:value = 'o\\'brien@evil.example']");
    assert_str(pattern_of(b, "d41d8cd98f00b204e9800998ecf8427e"),
               "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
    assert_str(pattern_of(b, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
               "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
    assert_str(pattern_of(b, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
               "[file:hashes.'SHA-256' = "
               "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']");
    assert_str(pattern_of(b, "請求書 it's \\final.xlsm"),
               "[file:name = '請求書 it\\'s \\\\final.xlsm']");
    assert_str(pattern_of(b, "AS64512"), "[autonomous-system:number = 64512]");

    json_t *ind = find(b, "indicator", "198.51.100.7");
    assert_str(unit_jstr(ind, "pattern_type"), "stix");
    assert_str(unit_jstr(ind, "pattern_version"), "2.1");
    assert_str(unit_jstr(ind, "valid_from"), PUB1_TS);
    assert_int_equal(json_integer_value(json_object_get(ind, "confidence")), 50);
    /* the same value twice is one indicator; the first role decides */
    assert_json_eq(json_object_get(ind, "indicator_types"), "[\"malicious-activity\"]");
    assert_json_eq(json_object_get(find(b, "indicator", "請求書 it's \\final.xlsm"),
                                   "indicator_types"), "[\"compromised\"]");
    assert_json_eq(json_object_get(find(b, "indicator", "2001:db8:1::/48"), "indicator_types"),
                   "[\"unknown\"]");
    assert_int_equal(count_type(b, "indicator"), 12);
    json_decref(b);
}

static void test_sdos_of_observables(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(0);
    json_t *v = find(b, "vulnerability", "CVE-2024-3400");
    assert_non_null(v);
    assert_jsonq_eq(json_object_get(v, "external_references"),
                    "[{'source_name':'cve','external_id':'CVE-2024-3400',"
                    "'url':'https://www.cve.org/CVERecord?id=CVE-2024-3400'}]");
    assert_non_null(find(b, "vulnerability", "CVE-2021-0123"));
    assert_int_equal(count_type(b, "vulnerability"), 2);

    json_t *ap = find(b, "attack-pattern", "T1566.001");
    assert_jsonq_eq(json_object_get(ap, "external_references"),
                    "[{'source_name':'mitre-attack','external_id':'T1566.001',"
                    "'url':'https://attack.mitre.org/techniques/T1566/001/'}]");
    ap = find(b, "attack-pattern", "T1486");
    assert_jsonq_eq(json_object_get(ap, "external_references"),
                    "[{'source_name':'mitre-attack','external_id':'T1486',"
                    "'url':'https://attack.mitre.org/techniques/T1486/'}]");

    json_t *m = find(b, "malware", "Emotet");
    assert_non_null(m);
    assert_true(json_is_true(json_object_get(m, "is_family")));
    /* "text" has no STIX form */
    char *dump = json_dumps(b, 0);
    assert_null(strstr(dump, "free text with no STIX form"));
    free(dump);
    json_decref(b);
}

static void test_cve_without_canonical_form(void **state)
{
    (void)state;
    /* Five digits with a leading 0 pass the model but not the schema's "cve" reference. */
    json_t *in = unit_jsonq("[{'id':'r','version':1,'tlp':'AMBER','content':{'observables':"
                            "[{'type':'cve','value':'CVE-2024-01234','role':'other'}]}}]");
    json_t *b = bundle_of(in, NOW);
    json_t *v = find(b, "vulnerability", "CVE-2024-01234");
    assert_non_null(v);
    assert_null(json_object_get(v, "external_references"));
    json_decref(b);
    json_decref(in);
}

/* ---- markings ---- */

static void test_markings_per_tlp(void **state)
{
    (void)state;
    static const struct {
        const char *label, *id, *name, *value;
    } t[] = {
        {"CLEAR", TLP_CLEAR, "TLP:CLEAR", "clear"},
        {"GREEN", TLP_GREEN, "TLP:GREEN", "green"},
        {"AMBER", TLP_AMBER, "TLP:AMBER", "amber"},
        {"AMBER+STRICT", TLP_AMBER_STRICT, "TLP:AMBER+STRICT", "amber+strict"},
        {"RED", TLP_RED, "TLP:RED", "red"},
    };
    for (size_t k = 0; k < 5; k++) {
        json_t *in = json_pack("[{s:s, s:i, s:s, s:{s:s, s:[{s:s, s:s, s:s}]}}]", "id", "r",
                               "version", 1, "tlp", t[k].label, "content", "title", "t",
                               "observables", "type", "ipv4", "value", "192.0.2.1", "role",
                               "attacker");
        assert_non_null(in);
        json_t *b = bundle_of(in, NOW);
        json_t *m = find_id(b, t[k].id);
        assert_non_null(m);
        char want[512];
        snprintf(want, sizeof(want),
                 "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                 "\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"%s\",\"extensions\":{\"%s\":"
                 "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"%s\"}}}",
                 t[k].id, t[k].name, TLP2_EXT, t[k].value);
        assert_json_eq(m, want);
        /* CLEAR for the identity, plus the release's own */
        assert_int_equal(count_type(b, "marking-definition"), k == 0 ? 1 : 2);
        size_t i;
        json_t *o;
        json_array_foreach(objects(b), i, o) {
            if (!strcmp(unit_jstr(o, "type"), "marking-definition"))
                continue;
            json_t *refs = json_object_get(o, "object_marking_refs");
            const char *type = unit_jstr(o, "type");
            if (!strcmp(type, "identity")) {
                assert_json_eq(refs, "[\"" TLP_CLEAR "\"]");
                continue;
            }
            assert_int_equal(json_array_size(refs), 1);
            assert_true(has_str(refs, t[k].id));
            assert_str(unit_jstr(o, "created_by_ref"), STIX_HUB_IDENTITY);
        }
        json_decref(b);
        json_decref(in);
    }
}

static void test_statement_marking(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(0);
    json_t *st = NULL;
    size_t i;
    json_t *o;
    json_array_foreach(objects(b), i, o)
        if (unit_jstr(o, "definition_type"))
            st = o;
    assert_non_null(st);
    assert_jsonq_eq(json_object_get(st, "definition"),
                    "{'statement':'Purpose (利用目的): 検知ルールの作成に限る\\n"
                    "Handling (取扱い): Do not forward outside your organisation; delete after 90 days'}");
    assert_str(unit_jstr(st, "created_by_ref"), STIX_HUB_IDENTITY);
    assert_str(unit_jstr(st, "created"), PUB1_TS);
    assert_null(json_object_get(st, "modified"));
    assert_json_eq(json_object_get(st, "object_marking_refs"), "[\"" TLP_AMBER "\"]");
    const char *sid = unit_jstr(st, "id");
    /* every object of the release carries TLP and statement */
    size_t n = 0;
    json_array_foreach(objects(b), i, o) {
        const char *type = unit_jstr(o, "type");
        if (!strcmp(type, "marking-definition") || !strcmp(type, "identity"))
            continue;
        json_t *refs = json_object_get(o, "object_marking_refs");
        assert_int_equal(json_array_size(refs), 2);
        assert_true(has_str(refs, TLP_AMBER));
        assert_true(has_str(refs, sid));
        n++;
    }
    assert_int_equal(n, 1 + 1 + 12 + 2 + 2 + 1); /* report, incident, indicators, sdos */
    json_decref(b);

    /* only handling */
    b = fixture_bundle(3);
    st = NULL;
    json_array_foreach(objects(b), i, o)
        if (unit_jstr(o, "definition_type"))
            st = o;
    assert_non_null(st);
    assert_jsonq_eq(json_object_get(st, "definition"),
                    "{'statement':'Handling (取扱い): Named recipients only'}");
    json_decref(b);

    /* neither: no statement */
    b = fixture_bundle(1);
    assert_int_equal(count_type(b, "marking-definition"), 1);
    json_decref(b);
}

/* ---- report and incident ---- */

static void test_report(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(0);
    json_t *rep = find(b, "report", NULL);
    assert_non_null(rep);
    assert_str(unit_jstr(rep, "spec_version"), "2.1");
    assert_str(unit_jstr(rep, "name"), "制御系ネットワークでのマルウェア感染 — “Emotet” 亜種");
    assert_str(unit_jstr(rep, "description"),
               "[事業者]の事務系端末が感染し、制御系へ横展開した。\n"
               "It's a quote: 'x' and a backslash \\ here.\n\n"
               "提供者: 電力分野の事業者\nProvider: an operator in the electricity sector");
    assert_str(unit_jstr(rep, "published"), PUB1_TS);
    assert_str(unit_jstr(rep, "created"), PUB1_TS);
    assert_str(unit_jstr(rep, "modified"), PUB1_TS);
    assert_str(unit_jstr(rep, "created_by_ref"), STIX_HUB_IDENTITY);
    assert_json_eq(json_object_get(rep, "report_types"), "[\"threat-report\"]");
    assert_json_eq(json_object_get(rep, "labels"),
                   "[\"event-type:malware\",\"kind:incident\",\"layer:outage\",\"severity:3\","
                   "\"sector:electricity\"]");
    assert_int_equal(json_integer_value(json_object_get(rep, "confidence")), 85);
    assert_jsonq_eq(json_object_get(rep, "x_isac_provider"),
                    "{'ja':'電力分野の事業者','en':'an operator in the electricity sector'}");
    assert_jsonq_eq(json_object_get(rep, "external_references"),
                    "[{'source_name':'isac','external_id':'0190f0a1-0000-7000-8000-000000000001',"
                    "'description':'release version 1'}]");
    /* object_refs: every object of the release but the report and its markings */
    json_t *refs = json_object_get(rep, "object_refs");
    assert_int_equal(json_array_size(refs), 1 + 12 + 2 + 2 + 1);
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r) {
        json_t *o = find_id(b, json_string_value(r));
        assert_non_null(o);
        assert_string_not_equal(unit_jstr(o, "type"), "marking-definition");
        assert_string_not_equal(unit_jstr(o, "type"), "report");
    }
    assert_true(has_str(refs, unit_jstr(find(b, "incident", NULL), "id")));
    json_decref(b);
}

static void test_incident(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(0);
    json_t *inc = find(b, "incident", NULL);
    assert_non_null(inc);
    assert_str(unit_jstr(inc, "name"), "制御系ネットワークでのマルウェア感染 — “Emotet” 亜種");
    assert_str(unit_jstr(inc, "description"),
               "[事業者]の事務系端末が感染し、制御系へ横展開した。\n"
               "It's a quote: 'x' and a backslash \\ here.");
    assert_jsonq_eq(json_object_get(inc, "extensions"),
                    "{'" INCIDENT_EXT "':{'extension_type':'property-extension',"
                    "'determination':'successful-attempt','investigation_status':'open',"
                    "'criticality':75}}");
    assert_jsonq_eq(json_object_get(inc, "x_isac_incident"),
                    "{'kind':'incident','event_type':'malware','layer':'outage',"
                    "'causes':[{'code':'intentional','detail':'不審メールの添付ファイル \\\"invoice.xlsm\\\" を開封'},"
                    "{'code':'other'}],"
                    "'severity':{'continuity':3,'safety':1,'overall':3},"
                    "'sectors':['electricity'],'service':'電力供給','status':'monitoring',"
                    "'followup':'監視を継続','occurred_at':'2026-05-12T09:30:00.000Z',"
                    "'detected_at':'2026-05-12T11:00:00.000Z'}");
    assert_null(json_object_get(inc, "severity")); /* forbidden top-level name in STIX */
    json_decref(b);

    /* near miss, closed, severity 0 */
    b = fixture_bundle(2);
    inc = find(b, "incident", NULL);
    assert_jsonq_eq(json_object_get(json_object_get(inc, "extensions"), INCIDENT_EXT),
                    "{'extension_type':'property-extension','determination':'blocked',"
                    "'investigation_status':'new','criticality':0}");
    json_decref(b);
    b = fixture_bundle(1);
    inc = find(b, "incident", NULL);
    assert_str(unit_jstr(json_object_get(json_object_get(inc, "extensions"), INCIDENT_EXT),
                         "investigation_status"), "closed");
    /* empty arrays and all-null objects come through without their nulls */
    assert_jsonq_eq(json_object_get(inc, "x_isac_incident"),
                    "{'kind':'incident','event_type':'availability','causes':[],'severity':{},"
                    "'sectors':['water','gas'],'status':'closed'}");
    /* no description anywhere: only the provider's pseudonym in the report */
    assert_str(unit_jstr(find(b, "report", NULL), "description"),
               "提供者: 水道分野の事業者\nProvider: an operator in the water sector");
    assert_null(json_object_get(inc, "description"));
    json_decref(b);
}

static void test_missing_published_and_title(void **state)
{
    (void)state;
    json_t *b = fixture_bundle(4);
    json_t *rep = find(b, "report", NULL);
    assert_str(unit_jstr(rep, "name"), "isac release 0190f0a1-0000-7000-8000-000000000005 v2");
    assert_str(unit_jstr(rep, "published"), NOW_TS);
    assert_str(unit_jstr(find(b, "indicator", NULL), "valid_from"), NOW_TS);
    assert_non_null(find_id(b, TLP_RED));
    json_decref(b);
}

/* ---- text and leaks ---- */

static void test_utf8_round_trip(void **state)
{
    (void)state;
    json_t *all = fixtures();
    json_t *b = bundle_of(all, NOW);
    char *text = json_dumps(b, JSON_COMPACT);
    assert_non_null(text);
    assert_true(util_utf8_valid(text, strlen(text)));
    /* UTF-8 as is, not \u escapes: the export is read by people too */
    assert_non_null(strstr(text, "電力分野の事業者"));
    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    assert_non_null(back);
    assert_true(json_equal(back, b));
    json_decref(back);
    free(text);
    json_decref(b);
    json_decref(all);
}

static void test_nothing_identifying_leaks(void **state)
{
    (void)state;
    json_t *all = fixtures();
    json_t *b = bundle_of(all, NOW);
    char *text = json_dumps(b, JSON_COMPACT);
    static const char *const secret[] = {
        "0190f0a1-dead-7000-8000-00000000beef", /* report_id */
        "0190f0a1-dead-7000-8000-00000000cafe", /* org_id */
        "0190f0a1-dead-7000-8000-00000000f00d", /* audience org */
        "0190f0a1-dead-7000-8000-0000000000aa", /* created_by */
        "東京電力ホールディングス",             /* a redaction's original */
        "audience", "redactions", "org_id", "report_id",
    };
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (strstr(text, secret[i])) {
            print_error("bundle contains %s\n", secret[i]);
            fail();
        }
    free(text);
    json_decref(b);
    json_decref(all);
}

static void test_no_nulls_anywhere(void **state)
{
    (void)state;
    json_t *all = fixtures();
    json_t *b = bundle_of(all, NOW);
    char *text = json_dumps(b, JSON_COMPACT);
    assert_null(strstr(text, ":null"));
    assert_null(strstr(text, "[null"));
    assert_null(strstr(text, ",null"));
    free(text);
    json_decref(b);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid5),
        cmocka_unit_test(test_ids_are_uuid5_of_release_version_object),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_minimal_release),
        cmocka_unit_test(test_duplicate_release),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_sdos_of_observables),
        cmocka_unit_test(test_cve_without_canonical_form),
        cmocka_unit_test(test_markings_per_tlp),
        cmocka_unit_test(test_statement_marking),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_incident),
        cmocka_unit_test(test_missing_published_and_title),
        cmocka_unit_test(test_utf8_round_trip),
        cmocka_unit_test(test_nothing_identifying_leaks),
        cmocka_unit_test(test_no_nulls_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
