/*
 * test_member.c - unit tests of src/model/member: validation and
 * normalisation of organisations, users, tokens, roles; model_merge.
 *
 * Error cases are tables of (input JSON, expected fields in order), so each
 * rule's exact field path is pinned down: a form shows the message next to
 * the field it names.
 */
#include "../unit.h"

#include <ctype.h>

#include <sodium.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/member.h"

static const char *const sector_codes[] = {"ict", "finance", "electricity", "gas"};
static const struct model_vocab sectors = {sector_codes, 4};
static const char *const tier_codes[] = {"class1", "class2", "general"};
static const struct model_vocab tiers = {tier_codes, 3};

#define UUID "01890a5d-ac96-774b-bcce-b302099a8057"

enum kind { ORG, USER, TOKEN };

/* The check of a kind in a mode, for the tables of cases. */
struct check {
    enum kind k;
    enum model_mode mode;
};

static int member_check(const json_t *in, json_t **out, struct err *e, const void *ud)
{
    const struct check *c = ud;
    return c->k == ORG    ? model_org_check(in, c->mode, &sectors, &tiers, out, e)
           : c->k == USER ? model_user_check(in, c->mode, out, e)
                          : model_token_check(in, c->mode, 90, out, e);
}

/* Run the check of kind/mode on every case; each must fail with exactly its fields. */
static void run_bad(enum kind k, enum model_mode mode, const struct unit_bad_case *cases,
                    size_t n)
{
    struct check c = {k, mode};
    unit_run_bad(member_check, &c, cases, n);
}

struct good_case {
    const char *in;
    const char *out; /* expected normalised output */
};

static void run_good(enum kind k, enum model_mode mode, const struct good_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *in = unit_json(cases[i].in);
        json_t *out = NULL;
        struct err e;
        err_init(&e);
        struct check c = {k, mode};
        int rc = member_check(in, &out, &e, &c);
        if (rc != 0) {
            char got[2048];
            unit_fields_str(&e, got, sizeof(got));
            print_error("case %zu %s: rc %d fields '%s' (%s)\n", i, cases[i].in, rc, got,
                        e.nfields ? e.fields[0].reason : e.detail);
        }
        assert_int_equal(rc, 0);
        assert_int_equal(e.code, 0);
        assert_json_eq(out, cases[i].out);
        json_decref(out);
        json_decref(in);
    }
}

/* ---- organisations ---- */

static void test_org_create_ok(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        /* everything, with contacts of each type; a blank label is dropped */
        {"{\"name\":{\"ja\":\"東京電力\",\"en\":\"Tokyo Electric\"},\"kind\":\"coordinator\","
         "\"sectors\":[\"electricity\",\"gas\"],\"tier\":\"class1\",\"contacts\":["
         "{\"type\":\"email\",\"value\":\"soc@example.jp\",\"label\":\"SOC\"},"
         "{\"type\":\"phone\",\"value\":\"+81 (3) 1234-5678\",\"label\":\"  \"},"
         "{\"type\":\"webhook\",\"value\":\"https://hooks.example.jp/isac\"},"
         "{\"type\":\"url\",\"value\":\"http://example.jp/\"}]}",
         "{\"name\":{\"ja\":\"東京電力\",\"en\":\"Tokyo Electric\"},\"kind\":\"coordinator\","
         "\"sectors\":[\"electricity\",\"gas\"],\"tier\":\"class1\",\"contacts\":["
         "{\"type\":\"email\",\"value\":\"soc@example.jp\",\"label\":\"SOC\"},"
         "{\"type\":\"phone\",\"value\":\"+81 (3) 1234-5678\"},"
         "{\"type\":\"webhook\",\"value\":\"https://hooks.example.jp/isac\"},"
         "{\"type\":\"url\",\"value\":\"http://example.jp/\"}]}"},
        /* name fallback ja -> en, and sectors/contacts default to [] */
        {"{\"name\":{\"ja\":\"日本銀行\"},\"kind\":\"ministry\",\"tier\":\"general\"}",
         "{\"name\":{\"ja\":\"日本銀行\",\"en\":\"日本銀行\"},\"kind\":\"ministry\","
         "\"sectors\":[],\"tier\":\"general\",\"contacts\":[]}"},
        /* fallback en -> ja */
        {"{\"name\":{\"en\":\"JPCERT/CC\"},\"kind\":\"agency\",\"tier\":\"class1\"}",
         "{\"name\":{\"ja\":\"JPCERT/CC\",\"en\":\"JPCERT/CC\"},\"kind\":\"agency\","
         "\"sectors\":[],\"tier\":\"class1\",\"contacts\":[]}"},
        /* a blank language counts as missing */
        {"{\"name\":{\"ja\":\"  \",\"en\":\"Vendor\"},\"kind\":\"vendor\",\"tier\":\"class2\","
         "\"sectors\":[],\"contacts\":[]}",
         "{\"name\":{\"ja\":\"Vendor\",\"en\":\"Vendor\"},\"kind\":\"vendor\","
         "\"sectors\":[],\"tier\":\"class2\",\"contacts\":[]}"},
        {"{\"name\":{\"ja\":\"ハブ\",\"en\":\"\"},\"kind\":\"sector_hub\",\"tier\":\"class2\",\"sectors\":[\"gas\"]}",
         "{\"name\":{\"ja\":\"ハブ\",\"en\":\"ハブ\"},\"kind\":\"sector_hub\","
         "\"sectors\":[\"gas\"],\"tier\":\"class2\",\"contacts\":[]}"},
        {"{\"name\":{\"en\":\"NCC\"},\"kind\":\"coordinator\",\"tier\":\"class1\"}",
         "{\"name\":{\"ja\":\"NCC\",\"en\":\"NCC\"},\"kind\":\"coordinator\","
         "\"sectors\":[],\"tier\":\"class1\",\"contacts\":[]}"},
    };
    run_good(ORG, MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

#define ORG_OK "\"name\":{\"en\":\"X\"},\"kind\":\"coordinator\",\"tier\":\"class1\""

static void test_org_create_errors(void **state)
{
    (void)state;
    static const struct unit_bad_case cases[] = {
        {"[]", ""},
        {"\"org\"", ""},
        {"{}", "name,kind,tier"},
        {"{" ORG_OK ",\"colour\":\"blue\"}", "colour"},
        {"{" ORG_OK ",\"id\":\"" UUID "\",\"disabled\":false}", "id,disabled"},
        /* operators and sector hubs belong to a sector */
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"operator\",\"tier\":\"general\"}", "sectors"},
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"sector_hub\",\"tier\":\"general\","
         "\"sectors\":[]}", "sectors"},
        /* name */
        {"{\"name\":\"Tokyo\",\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name"},
        {"{\"name\":null,\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name"},
        {"{\"name\":{},\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name"},
        {"{\"name\":{\"ja\":\"\",\"en\":\"   \"},\"kind\":\"coordinator\",\"tier\":\"class1\"}",
         "name"},
        {"{\"name\":{\"ja\":5},\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name.ja"},
        {"{\"name\":{\"ja\":\"a\",\"en\":[\"b\"]},\"kind\":\"coordinator\",\"tier\":\"class1\"}",
         "name.en"},
        {"{\"name\":{\"ja\":\"a\\u0001b\"},\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name.ja"},
        {"{\"name\":{\"en\":\"a\\nb\"},\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name.en"},
        {"{\"name\":{\"en\":\"a\\u007fb\"},\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name.en"},
        {"{\"name\":{\"ja\":\"a\\u0000b\"},\"kind\":\"coordinator\",\"tier\":\"class1\"}", "name.ja"},
        {"{\"name\":{\"ja\":\"x\",\"fr\":\"y\"},\"kind\":\"coordinator\",\"tier\":\"class1\"}",
         "name.fr"},
        /* kind */
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"pirate\",\"tier\":\"class1\"}", "kind"},
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"Operator\",\"tier\":\"class1\"}", "kind"},
        {"{\"name\":{\"en\":\"X\"},\"kind\":7,\"tier\":\"class1\"}", "kind"},
        /* sectors */
        {"{" ORG_OK ",\"sectors\":\"ict\"}", "sectors"},
        {"{" ORG_OK ",\"sectors\":null}", "sectors"},
        {"{" ORG_OK ",\"sectors\":[\"ict\",\"railway\"]}", "sectors[1]"},
        {"{" ORG_OK ",\"sectors\":[\"ict\",\"finance\",\"ict\"]}", "sectors[2]"},
        {"{" ORG_OK ",\"sectors\":[5,\"ict\",{}]}", "sectors[0],sectors[2]"},
        {"{" ORG_OK ",\"sectors\":[\"ICT\"]}", "sectors[0]"},
        /* tier */
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"coordinator\",\"tier\":\"platinum\"}", "tier"},
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"coordinator\",\"tier\":1}", "tier"},
        /* contacts */
        {"{" ORG_OK ",\"contacts\":{}}", "contacts"},
        {"{" ORG_OK ",\"contacts\":[5]}", "contacts[0]"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"fax\",\"value\":\"123\"}]}", "contacts[0].type"},
        {"{" ORG_OK ",\"contacts\":[{\"value\":\"a@b.jp\"}]}", "contacts[0].type"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"email\"}]}", "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"email\",\"value\":\"a@b.jp\"},"
         "{\"type\":\"email\",\"value\":\"nope\"}]}",
         "contacts[1].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"email\",\"value\":\"a b@c.jp\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"email\",\"value\":\"a@b\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"phone\",\"value\":\"call us\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"phone\",\"value\":\"12\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"phone\",\"value\":\"123456789012345678901\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"webhook\",\"value\":\"http://h.example\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"url\",\"value\":\"ftp://h.example\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"url\",\"value\":\"https://\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"url\",\"value\":\"https:///path\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"url\",\"value\":\"https://a b\"}]}",
         "contacts[0].value"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"email\",\"value\":\"a@b.jp\",\"note\":1}]}",
         "contacts[0].note"},
        {"{" ORG_OK ",\"contacts\":[{\"type\":\"email\",\"value\":\"a@b.jp\",\"label\":7}]}",
         "contacts[0].label"},
        /* several faults at once are all reported, in document order */
        {"{\"name\":{\"ja\":5},\"kind\":\"pirate\",\"sectors\":[\"ict\",\"x\"],"
         "\"tier\":\"platinum\",\"contacts\":[{\"type\":\"email\",\"value\":\"x\"}],"
         "\"extra\":1}",
         "extra,name.ja,kind,sectors[1],tier,contacts[0].value"},
    };
    run_bad(ORG, MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_org_limits(void **state)
{
    (void)state;
    /* LIMIT_NAME_CHARS counts characters, not bytes. */
    char *ja200 = unit_repeat("電", LIMIT_NAME_CHARS),
         *ja201 = unit_repeat("電", LIMIT_NAME_CHARS + 1);
    char *label_ok = unit_repeat("l", LIMIT_CONTACT_LABEL),
         *label_bad = unit_repeat("l", LIMIT_CONTACT_LABEL + 1);
    char text[4096];
    struct err e;
    json_t *in, *out;

    snprintf(text, sizeof(text),
             "{\"name\":{\"ja\":\"%s\"},\"kind\":\"coordinator\",\"tier\":\"class1\","
             "\"contacts\":[{\"type\":\"email\",\"value\":\"a@b.jp\",\"label\":\"%s\"}]}",
             ja200, label_ok);
    in = unit_json(text);
    out = NULL;
    err_init(&e);
    assert_int_equal(model_org_check(in, MODEL_CREATE, &sectors, &tiers, &out, &e), 0);
    assert_str(json_string_value(json_object_get(json_object_get(out, "name"), "en")), ja200);
    json_decref(out);
    json_decref(in);

    snprintf(text, sizeof(text),
             "{\"name\":{\"ja\":\"%s\"},\"kind\":\"coordinator\",\"tier\":\"class1\","
             "\"contacts\":[{\"type\":\"email\",\"value\":\"a@b.jp\",\"label\":\"%s\"}]}",
             ja201, label_bad);
    in = unit_json(text);
    out = NULL;
    err_init(&e);
    assert_int_equal(model_org_check(in, MODEL_CREATE, &sectors, &tiers, &out, &e), ERR_INVALID);
    assert_null(out);
    assert_int_equal(e.nfields, 2);
    assert_string_equal(e.fields[0].field, "name.ja");
    assert_string_equal(e.fields[1].field, "contacts[0].label");
    json_decref(in);

    /* LIMIT_CONTACTS contacts are fine, one more is not. */
    json_t *base = unit_json("{" ORG_OK "}");
    for (int extra = 0; extra <= 1; extra++) {
        json_t *arr = json_array();
        for (int i = 0; i < LIMIT_CONTACTS + extra; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s}", "type", "phone", "value", "110"));
        json_t *o = json_deep_copy(base);
        json_object_set_new(o, "contacts", arr);
        out = NULL;
        err_init(&e);
        int rc = model_org_check(o, MODEL_CREATE, &sectors, &tiers, &out, &e);
        if (extra == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(json_array_size(json_object_get(out, "contacts")), LIMIT_CONTACTS);
        } else {
            assert_int_equal(rc, ERR_INVALID);
            assert_int_equal(e.nfields, 1);
            assert_string_equal(e.fields[0].field, "contacts");
        }
        json_decref(out);
        json_decref(o);
    }
    /* More than LIMIT_SECTORS sector entries: "sectors" itself, not each entry. */
    json_t *arr = json_array();
    for (int i = 0; i < LIMIT_SECTORS + 1; i++)
        json_array_append_new(arr, json_string("ict"));
    json_t *o = json_deep_copy(base);
    json_object_set_new(o, "sectors", arr);
    out = NULL;
    err_init(&e);
    assert_int_equal(model_org_check(o, MODEL_CREATE, &sectors, &tiers, &out, &e), ERR_INVALID);
    assert_int_equal(e.nfields, 1);
    assert_string_equal(e.fields[0].field, "sectors");
    json_decref(o);
    json_decref(base);

    /* Many faults: reported up to LIMIT_ERR_FIELDS, then marked truncated. */
    json_t *many = unit_json("{" ORG_OK "}");
    for (int i = 0; i < LIMIT_ERR_FIELDS + 10; i++) {
        char k[16];
        snprintf(k, sizeof(k), "x%d", i);
        json_object_set_new(many, k, json_true());
    }
    out = NULL;
    err_init(&e);
    assert_int_equal(model_org_check(many, MODEL_CREATE, &sectors, &tiers, &out, &e),
                     ERR_INVALID);
    assert_null(out);
    assert_int_equal(e.nfields, LIMIT_ERR_FIELDS);
    assert_true(e.fields_truncated);
    json_decref(many);

    free(ja200);
    free(ja201);
    free(label_ok);
    free(label_bad);
}

static void test_org_patch(void **state)
{
    (void)state;
    static const struct good_case good[] = {
        {"{}", "{}"},
        {"{\"tier\":\"class2\"}", "{\"tier\":\"class2\"}"},
        {"{\"name\":{\"en\":\"New name\"}}", "{\"name\":{\"en\":\"New name\"}}"},
        {"{\"name\":{\"ja\":\"新\"}}", "{\"name\":{\"ja\":\"新\"}}"},
        {"{\"disabled\":true}", "{\"disabled\":true}"},
        {"{\"disabled\":false,\"kind\":\"vendor\"}", "{\"disabled\":false,\"kind\":\"vendor\"}"},
        {"{\"sectors\":[]}", "{\"sectors\":[]}"},
        {"{\"contacts\":[]}", "{\"contacts\":[]}"},
        {"{\"sectors\":[\"gas\",\"ict\"]}", "{\"sectors\":[\"gas\",\"ict\"]}"},
    };
    run_good(ORG, MODEL_PATCH, good, sizeof(good) / sizeof(good[0]));
    static const struct unit_bad_case bad[] = {
        {"[]", ""},
        {"{\"id\":\"" UUID "\"}", "id"},
        {"{\"created_at\":\"2026-01-01T00:00:00Z\"}", "created_at"},
        {"{\"name\":{\"ja\":\" \"}}", "name.ja"},
        {"{\"name\":{\"en\":\"\"}}", "name.en"},
        {"{\"name\":{\"de\":\"x\"}}", "name.de"},
        {"{\"name\":\"x\"}", "name"},
        {"{\"kind\":null}", "kind"},
        {"{\"kind\":\"pirate\"}", "kind"},
        {"{\"tier\":\"gold\"}", "tier"},
        {"{\"disabled\":\"yes\"}", "disabled"},
        {"{\"disabled\":1}", "disabled"},
        {"{\"sectors\":[\"nope\"]}", "sectors[0]"},
        {"{\"contacts\":[{\"type\":\"url\",\"value\":\"x\"}]}", "contacts[0].value"},
    };
    run_bad(ORG, MODEL_PATCH, bad, sizeof(bad) / sizeof(bad[0]));
}

/* ---- organisation identifiers ---- */

static void test_org_identifiers_ok(void **state)
{
    (void)state;
    static const struct good_case patch[] = {
        {"{\"identifiers\":{}}", "{\"identifiers\":{}}"},
        /* only the lists given come out, so a merged patch replaces just those */
        {"{\"identifiers\":{\"persons\":[]}}", "{\"identifiers\":{\"persons\":[]}}"},
        /* trimmed (U+3000 too), normalised, duplicates dropped after normalisation */
        {"{\"identifiers\":{"
         "\"aliases\":[\"  関東電力 \",\"関東電力\",\"KEP\u3000\",\"\u3000KEP\",\"Kanto  Electric\"],"
         "\"domains\":[\"Example.CO.JP.\",\"example.co.jp\",\"xn--eckwd4c7c.xn--zckzah\","
         "\"mail-01.example.jp\"],"
         "\"ip_ranges\":[\"192.0.2.77/24\",\"192.0.2.0/24\",\"2001:DB8:0:0::1\","
         "\"2001:db8:ffff::/32\",\"10.1.2.3\",\"10.1.2.3/32\",\"::ffff:192.0.2.1\"],"
         "\"hostnames\":[\"SCADA-GW01\",\"scada-gw01\",\"scada-gw01.plant.local\",\"h1\"],"
         "\"persons\":[\"山田 太郎\",\"Taro Yamada\",\"山田\u3000太郎\"]}}",
         "{\"identifiers\":{"
         "\"aliases\":[\"関東電力\",\"KEP\",\"Kanto  Electric\"],"
         "\"domains\":[\"example.co.jp\",\"xn--eckwd4c7c.xn--zckzah\",\"mail-01.example.jp\"],"
         "\"ip_ranges\":[\"192.0.2.0/24\",\"2001:db8::1\",\"2001:db8::/32\",\"10.1.2.3\","
         "\"10.1.2.3/32\",\"::ffff:192.0.2.1\"],"
         "\"hostnames\":[\"scada-gw01\",\"scada-gw01.plant.local\",\"h1\"],"
         "\"persons\":[\"山田 太郎\",\"Taro Yamada\",\"山田\u3000太郎\"]}}"},
        /* the org_admin's usual patch: one list alongside name */
        {"{\"name\":{\"en\":\"A\"},\"identifiers\":{\"domains\":[\"a.example\"]}}",
         "{\"name\":{\"en\":\"A\"},\"identifiers\":{\"domains\":[\"a.example\"]}}"},
    };
    run_good(ORG, MODEL_PATCH, patch, sizeof(patch) / sizeof(patch[0]));
    static const struct good_case create[] = {
        {"{\"name\":{\"en\":\"X\"},\"kind\":\"operator\",\"tier\":\"general\",\"sectors\":[\"gas\"],"
         "\"identifiers\":{\"aliases\":[\"XG\"],\"ip_ranges\":[\"198.51.100.9/28\"]}}",
         "{\"name\":{\"ja\":\"X\",\"en\":\"X\"},\"kind\":\"operator\",\"sectors\":[\"gas\"],"
         "\"tier\":\"general\",\"contacts\":[],"
         "\"identifiers\":{\"aliases\":[\"XG\"],\"ip_ranges\":[\"198.51.100.0/28\"]}}"},
    };
    run_good(ORG, MODEL_CREATE, create, sizeof(create) / sizeof(create[0]));
}

static void test_org_identifiers_errors(void **state)
{
    (void)state;
    static const struct unit_bad_case cases[] = {
        {"{\"identifiers\":[]}", "identifiers"},
        {"{\"identifiers\":null}", "identifiers"},
        {"{\"identifiers\":\"a.example\"}", "identifiers"},
        {"{\"identifiers\":{\"emails\":[]}}", "identifiers.emails"},
        {"{\"identifiers\":{\"domains\":\"a.example\"}}", "identifiers.domains"},
        {"{\"identifiers\":{\"domains\":null}}", "identifiers.domains"},
        {"{\"identifiers\":{\"domains\":[\"a.example\",5,\"\",\"  \",\"bad_name.example\","
         "\"nodot\",\"-a.example\",\"a..example\",\"192.0.2.1\",\"a b.example\",\"日本.example\","
         "\"https://a.example/\",\"a.example\"]}}",
         "identifiers.domains[1],identifiers.domains[2],identifiers.domains[3],"
         "identifiers.domains[4],identifiers.domains[5],identifiers.domains[6],"
         "identifiers.domains[7],identifiers.domains[8],identifiers.domains[9],"
         "identifiers.domains[10],identifiers.domains[11]"},
        {"{\"identifiers\":{\"ip_ranges\":[\"192.0.2.0/33\",\"300.1.1.1\",\"2001:db8::/129\","
         "\"fe80::1%eth0\",\"192.0.2.0/\",\"a.example\",\"01.2.3.4\",\"192.0.2.0/24\","
         "\"192.0.2.0/-1\",\"192.0.2\"]}}",
         "identifiers.ip_ranges[0],identifiers.ip_ranges[1],identifiers.ip_ranges[2],"
         "identifiers.ip_ranges[3],identifiers.ip_ranges[4],identifiers.ip_ranges[5],"
         "identifiers.ip_ranges[6],identifiers.ip_ranges[8],identifiers.ip_ranges[9]"},
        {"{\"identifiers\":{\"hostnames\":[\"a\",\"host name\",\"host_01\",\"-x\",\"日本語\","
         "\"x.\",\"ok-1\"]}}",
         "identifiers.hostnames[0],identifiers.hostnames[1],identifiers.hostnames[2],"
         "identifiers.hostnames[3],identifiers.hostnames[4],identifiers.hostnames[5]"},
        /* one character would redact half of every text; no control characters */
        {"{\"identifiers\":{\"aliases\":[\"x\",\"日\",\" y \",\"a\\nb\",\"a\\u0001b\",\"ab\"]}}",
         "identifiers.aliases[0],identifiers.aliases[1],identifiers.aliases[2],"
         "identifiers.aliases[3],identifiers.aliases[4]"},
        {"{\"identifiers\":{\"persons\":[5,{},null,\"山田 太郎\"]}}",
         "identifiers.persons[0],identifiers.persons[1],identifiers.persons[2]"},
        /* every list checked, unknown members first, then in a fixed order */
        {"{\"identifiers\":{\"persons\":[\"p\"],\"aliases\":[\"a\"],\"x\":1,\"domains\":[\"d\"]}}",
         "identifiers.x,identifiers.aliases[0],identifiers.domains[0],identifiers.persons[0]"},
        /* alongside other faults of the body */
        {"{\"kind\":\"pirate\",\"identifiers\":{\"hostnames\":[\"a b\"]}}",
         "kind,identifiers.hostnames[0]"},
    };
    run_bad(ORG, MODEL_PATCH, cases, sizeof(cases) / sizeof(cases[0]));
    static const struct unit_bad_case create[] = {
        {"{" ORG_OK ",\"identifiers\":{\"domains\":[\"x\"]}}", "identifiers.domains[0]"},
    };
    run_bad(ORG, MODEL_CREATE, create, sizeof(create) / sizeof(create[0]));
}

/* Check {"identifiers": {key: list}} in patch mode: rc, and the first field on failure. */
static void ident_limit_case(const char *key, json_t *list, int want_rc, const char *want_field,
                             size_t want_n)
{
    json_t *in = json_pack("{s:{s:o}}", "identifiers", key, list);
    json_t *out = NULL;
    struct err e;
    err_init(&e);
    int rc = model_org_check(in, MODEL_PATCH, &sectors, &tiers, &out, &e);
    assert_int_equal(rc, want_rc);
    if (rc == 0) {
        json_t *got = json_object_get(json_object_get(out, "identifiers"), key);
        assert_int_equal(json_array_size(got), want_n);
    } else {
        assert_null(out);
        assert_int_equal(e.nfields, 1);
        assert_string_equal(e.fields[0].field, want_field);
    }
    json_decref(out);
    json_decref(in);
}

static void test_org_identifiers_limits(void **state)
{
    (void)state;
    /* LIMIT_ORG_IDENTIFIERS entries per list; one more names the list itself */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *a = json_array();
        for (int i = 0; i < LIMIT_ORG_IDENTIFIERS + extra; i++) {
            char d[32];
            snprintf(d, sizeof(d), "h%d.example", i);
            json_array_append_new(a, json_string(d));
        }
        ident_limit_case("domains", a, extra ? ERR_INVALID : 0, "identifiers.domains",
                         LIMIT_ORG_IDENTIFIERS);
    }
    /* duplicates count against the limit as sent, then collapse */
    json_t *same = json_array();
    for (int i = 0; i < LIMIT_ORG_IDENTIFIERS; i++)
        json_array_append_new(same, json_string(i % 2 ? "Plant-1" : "plant-1"));
    ident_limit_case("hostnames", same, 0, NULL, 1);

    /* LIMIT_ORG_IDENTIFIER counts bytes: 85 × 3-byte characters fit, 86 do not */
    char *ja_ok = unit_repeat("電", LIMIT_ORG_IDENTIFIER / 3);
    char *ja_bad = unit_repeat("電", LIMIT_ORG_IDENTIFIER / 3 + 1);
    char *ascii_ok = unit_repeat("a", LIMIT_ORG_IDENTIFIER),
         *ascii_bad = unit_repeat("a", LIMIT_ORG_IDENTIFIER + 1);
    ident_limit_case("aliases", json_pack("[s,s]", ja_ok, ascii_ok), 0, NULL, 2);
    ident_limit_case("aliases", json_pack("[s]", ja_bad), ERR_INVALID, "identifiers.aliases[0]", 0);
    ident_limit_case("persons", json_pack("[s,s]", ascii_ok, ascii_bad), ERR_INVALID,
                     "identifiers.persons[1]", 0);
    free(ja_ok);
    free(ja_bad);
    free(ascii_ok);
    free(ascii_bad);

    /* a patch of one list leaves the others as they were */
    json_t *cur = unit_json("{\"identifiers\":{\"aliases\":[\"AB\"],\"domains\":[\"a.example\"],"
                            "\"ip_ranges\":[],\"hostnames\":[],\"persons\":[]}}");
    json_t *in = unit_json("{\"identifiers\":{\"domains\":[\"B.example\"]}}"), *patch = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_org_check(in, MODEL_PATCH, &sectors, &tiers, &patch, &e), 0);
    json_t *m = model_merge(cur, patch);
    assert_json_eq(m, "{\"identifiers\":{\"aliases\":[\"AB\"],\"domains\":[\"b.example\"],"
                      "\"ip_ranges\":[],\"hostnames\":[],\"persons\":[]}}");
    json_decref(m);
    json_decref(patch);
    json_decref(in);
    json_decref(cur);
}

/* ---- users ---- */

#define USER_OK                                                                                   \
    "\"login\":\"alice\",\"display_name\":\"Alice\",\"org_id\":\"" UUID "\","                    \
    "\"roles\":[\"member\"],\"password\":\"correct horse battery\""

static void test_user_create_ok(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        /* login lower-cased, locale defaults to ja, email to null, roles canonical */
        {"{\"login\":\"Alice.Smith@Example.JP\",\"display_name\":\"Alice Smith\","
         "\"org_id\":\"" UUID "\",\"roles\":[\"org_admin\",\"member\"],"
         "\"password\":\"correct horse battery\"}",
         "{\"login\":\"alice.smith@example.jp\",\"display_name\":\"Alice Smith\","
         "\"org_id\":\"" UUID "\",\"roles\":[\"member\",\"org_admin\"],\"locale\":\"ja\","
         "\"email\":null,\"password\":\"correct horse battery\"}"},
        {"{\"login\":\"b_o-b.9\",\"display_name\":\"ボブ\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"auditor\",\"admin\",\"analyst\",\"auditor\"],\"locale\":\"en\","
         "\"email\":\"bob@example.jp\",\"password\":\"123456789012\"}",
         "{\"login\":\"b_o-b.9\",\"display_name\":\"ボブ\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"analyst\",\"admin\",\"auditor\"],\"locale\":\"en\","
         "\"email\":\"bob@example.jp\",\"password\":\"123456789012\"}"},
        {"{" USER_OK ",\"email\":null}",
         "{\"login\":\"alice\",\"display_name\":\"Alice\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"locale\":\"ja\",\"email\":null,"
         "\"password\":\"correct horse battery\"}"},
        /* the password limit is in bytes: 4 characters of 3 bytes are 12 bytes */
        {"{\"login\":\"abc\",\"display_name\":\"C\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"日本語か\"}",
         "{\"login\":\"abc\",\"display_name\":\"C\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"locale\":\"ja\",\"email\":null,\"password\":\"日本語か\"}"},
    };
    run_good(USER, MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_user_create_errors(void **state)
{
    (void)state;
    static const struct unit_bad_case cases[] = {
        {"null", ""},
        {"{}", "login,org_id,display_name,roles,password"},
        {"{" USER_OK ",\"disabled\":false}", "disabled"},
        {"{" USER_OK ",\"id\":\"" UUID "\",\"is_admin\":true}", "id,is_admin"},
        /* login */
        {"{\"login\":\"al ice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "login"},
        {"{\"login\":\"日本\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "login"},
        {"{\"login\":\"ab\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "login"},
        {"{\"login\":\"a/b\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "login"},
        {"{\"login\":\"a+b\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "login"},
        {"{\"login\":42,\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "login"},
        /* org_id */
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"acme\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "org_id"},
        {"{\"login\":\"alice\",\"display_name\":\"A\","
         "\"org_id\":\"01890A5D-AC96-774B-BCCE-B302099A8057\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "org_id"},
        /* display_name */
        {"{\"login\":\"alice\",\"display_name\":\"  \",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "display_name"},
        {"{\"login\":\"alice\",\"display_name\":null,\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"correct horse battery\"}",
         "display_name"},
        /* roles */
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"boss\"],\"password\":\"correct horse battery\"}",
         "roles[0]"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\",\"Admin\",7],\"password\":\"correct horse battery\"}",
         "roles[1],roles[2]"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[],\"password\":\"correct horse battery\"}",
         "roles"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":\"member\",\"password\":\"correct horse battery\"}",
         "roles"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\",\"member\",\"member\",\"member\",\"member\",\"member\","
         "\"member\",\"member\",\"member\"],\"password\":\"correct horse battery\"}",
         "roles"},
        /* locale */
        {"{" USER_OK ",\"locale\":\"fr\"}", "locale"},
        {"{" USER_OK ",\"locale\":\"JA\"}", "locale"},
        {"{" USER_OK ",\"locale\":null}", "locale"},
        /* email */
        {"{" USER_OK ",\"email\":\"not-an-email\"}", "email"},
        {"{" USER_OK ",\"email\":\"a@b\"}", "email"},
        {"{" USER_OK ",\"email\":\"@b.jp\"}", "email"},
        {"{" USER_OK ",\"email\":\"a@.jp\"}", "email"},
        {"{" USER_OK ",\"email\":\"a@b.jp.\"}", "email"},
        {"{" USER_OK ",\"email\":\"a@b@c.jp\"}", "email"},
        {"{" USER_OK ",\"email\":\"a @b.jp\"}", "email"},
        {"{" USER_OK ",\"email\":\"\"}", "email"},
        {"{" USER_OK ",\"email\":5}", "email"},
        /* password */
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"short\"}",
         "password"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"12345678901\"}",
         "password"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":123456789012345}",
         "password"},
        {"{\"login\":\"alice\",\"display_name\":\"A\",\"org_id\":\"" UUID "\","
         "\"roles\":[\"member\"],\"password\":\"123456\\u0000789012345\"}",
         "password"},
        /* all at once, in the order the checks run */
        {"{\"login\":\"x\",\"display_name\":\"\",\"org_id\":\"y\",\"roles\":[\"z\"],"
         "\"locale\":\"de\",\"email\":\"e\",\"password\":\"p\"}",
         "login,org_id,display_name,roles[0],locale,email,password"},
    };
    run_bad(USER, MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_user_limits(void **state)
{
    (void)state;
    char *l3 = unit_repeat("a", LIMIT_LOGIN_MIN), *l64 = unit_repeat("B", LIMIT_LOGIN_MAX),
         *l65 = unit_repeat("c", LIMIT_LOGIN_MAX + 1);
    char *pw_min = unit_repeat("p", LIMIT_PASSWORD_MIN),
         *pw_max = unit_repeat("q", LIMIT_PASSWORD_MAX),
         *pw_over = unit_repeat("r", LIMIT_PASSWORD_MAX + 1);
    char *dn200 = unit_repeat("名", LIMIT_NAME_CHARS),
         *dn201 = unit_repeat("名", LIMIT_NAME_CHARS + 1);
    char *em_local = unit_repeat("e", LIMIT_EMAIL_MAX - 5); /* + "@b.jp" = LIMIT_EMAIL_MAX */
    char *em_over = unit_repeat("e", LIMIT_EMAIL_MAX - 4);
    static char text[8192];
    struct {
        const char *login, *pw, *dn, *email;
        const char *fields; /* NULL: valid */
    } cases[] = {
        {l3, pw_min, dn200, em_local, NULL},
        {l64, pw_max, "A", "a@b.jp", NULL},
        {l65, pw_min, "A", "a@b.jp", "login"},
        {l3, pw_over, "A", "a@b.jp", "password"},
        {l3, pw_min, dn201, "a@b.jp", "display_name"},
        {l3, pw_min, "A", em_over, "email"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"login\":\"%s\",\"display_name\":\"%s\",\"org_id\":\"" UUID "\","
                 "\"roles\":[\"member\"],\"password\":\"%s\",\"email\":\"%s%s\"}",
                 cases[i].login, cases[i].dn, cases[i].pw, cases[i].email,
                 strchr(cases[i].email, '@') ? "" : "@b.jp");
        json_t *in = unit_json(text);
        json_t *out = NULL;
        struct err e;
        err_init(&e);
        int rc = model_user_check(in, MODEL_CREATE, &out, &e);
        char got[512];
        unit_fields_str(&e, got, sizeof(got));
        if (cases[i].fields == NULL) {
            if (rc)
                print_error("case %zu: unexpected fields '%s'\n", i, got);
            assert_int_equal(rc, 0);
            char low[LIMIT_LOGIN_MAX + 1];
            for (size_t j = 0; j <= strlen(cases[i].login); j++)
                low[j] = (char)tolower((unsigned char)cases[i].login[j]);
            assert_str(unit_jstr(out, "login"), low);
            assert_str(unit_jstr(out, "password"), cases[i].pw);
        } else {
            assert_int_equal(rc, ERR_INVALID);
            assert_string_equal(got, cases[i].fields);
            assert_null(out);
        }
        json_decref(out);
        json_decref(in);
    }
    free(l3);
    free(l64);
    free(l65);
    free(pw_min);
    free(pw_max);
    free(pw_over);
    free(dn200);
    free(dn201);
    free(em_local);
    free(em_over);
}

static void test_user_patch(void **state)
{
    (void)state;
    static const struct good_case good[] = {
        {"{}", "{}"},
        {"{\"locale\":\"en\"}", "{\"locale\":\"en\"}"},
        {"{\"email\":null}", "{\"email\":null}"},
        {"{\"email\":\"x@y.jp\",\"display_name\":\"X\"}",
         "{\"email\":\"x@y.jp\",\"display_name\":\"X\"}"},
        {"{\"roles\":[\"auditor\"]}", "{\"roles\":[\"auditor\"]}"},
        {"{\"disabled\":true}", "{\"disabled\":true}"},
        {"{\"password\":\"a new long password\"}", "{\"password\":\"a new long password\"}"},
    };
    run_good(USER, MODEL_PATCH, good, sizeof(good) / sizeof(good[0]));
    static const struct unit_bad_case bad[] = {
        {"{\"login\":\"alice\"}", "login"},
        {"{\"org_id\":\"" UUID "\"}", "org_id"},
        {"{\"disabled\":1}", "disabled"},
        {"{\"roles\":[]}", "roles"},
        {"{\"roles\":null}", "roles"},
        {"{\"locale\":\"fr\"}", "locale"},
        {"{\"display_name\":\"\"}", "display_name"},
        {"{\"password\":\"short\"}", "password"},
        {"{\"email\":\"nope\"}", "email"},
    };
    run_bad(USER, MODEL_PATCH, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_login_norm(void **state)
{
    (void)state;
    char out[LIMIT_LOGIN_MAX + 1];
    struct err e;
    err_init(&e);
    assert_int_equal(model_login_norm("MiXeD.Case_1@x-y", "login", out, sizeof(out), &e), 0);
    assert_string_equal(out, "mixed.case_1@x-y");
    /* outsz too small for the login is an error, not an overflow */
    char small[4];
    assert_int_equal(model_login_norm("abcd", "login", small, sizeof(small), &e), ERR_INVALID);
    assert_string_equal(e.fields[0].field, "login");
    err_init(&e);
    assert_int_equal(model_login_norm("tab\tx", "who", out, sizeof(out), &e), ERR_INVALID);
    assert_string_equal(e.fields[0].field, "who");
    /* Non-ASCII letters are refused rather than case-folded. */
    err_init(&e);
    assert_int_equal(model_login_norm("\xc3\x89mile", "login", out, sizeof(out), &e),
                     ERR_INVALID);

    err_init(&e);
    assert_int_equal(model_password_check("123456789012", "password", &e), 0);
    assert_int_equal(model_password_check("12345678901", "new_password", &e), ERR_INVALID);
    assert_string_equal(e.fields[0].field, "new_password");
}

/* ---- tokens ---- */

static void test_token_check(void **state)
{
    (void)state;
    static const struct good_case good[] = {
        {"{\"name\":\"ci\"}", "{\"name\":\"ci\",\"expires_in_days\":90}"},
        {"{\"name\":\"ci\",\"expires_in_days\":1}", "{\"name\":\"ci\",\"expires_in_days\":1}"},
        {"{\"name\":\"ci\",\"expires_in_days\":365}",
         "{\"name\":\"ci\",\"expires_in_days\":365}"},
        {"{\"name\":\"for bob\",\"user_id\":\"" UUID "\"}",
         "{\"name\":\"for bob\",\"expires_in_days\":90,\"user_id\":\"" UUID "\"}"},
    };
    run_good(TOKEN, MODEL_CREATE, good, sizeof(good) / sizeof(good[0]));
    static const struct unit_bad_case bad[] = {
        {"[]", ""},
        {"{}", "name"},
        {"{\"name\":\"  \"}", "name"},
        {"{\"name\":5}", "name"},
        {"{\"name\":\"ci\",\"expires_in_days\":0}", "expires_in_days"},
        {"{\"name\":\"ci\",\"expires_in_days\":-1}", "expires_in_days"},
        {"{\"name\":\"ci\",\"expires_in_days\":366}", "expires_in_days"},
        {"{\"name\":\"ci\",\"expires_in_days\":\"30\"}", "expires_in_days"},
        {"{\"name\":\"ci\",\"expires_in_days\":1.5}", "expires_in_days"},
        {"{\"name\":\"ci\",\"expires_in_days\":null}", "expires_in_days"},
        {"{\"name\":\"ci\",\"user_id\":\"bob\"}", "user_id"},
        {"{\"name\":\"ci\",\"scope\":\"all\"}", "scope"},
        {"{\"scope\":\"all\",\"expires_in_days\":0,\"user_id\":1}",
         "scope,name,expires_in_days,user_id"},
    };
    run_bad(TOKEN, MODEL_CREATE, bad, sizeof(bad) / sizeof(bad[0]));

    static const struct good_case pgood[] = {
        {"{\"name\":\"renamed\"}", "{\"name\":\"renamed\"}"},
    };
    run_good(TOKEN, MODEL_PATCH, pgood, 1);
    static const struct unit_bad_case pbad[] = {
        {"{\"expires_in_days\":5,\"name\":\"x\"}", "expires_in_days"},
        {"{\"user_id\":\"" UUID "\",\"name\":\"x\"}", "user_id"},
        {"{\"revoked\":true,\"name\":\"x\"}", "revoked"},
        {"{\"name\":\"\"}", "name"},
    };
    run_bad(TOKEN, MODEL_PATCH, pbad, sizeof(pbad) / sizeof(pbad[0]));

    /* The name limit, and the caller's default lifetime. */
    char *n100 = unit_repeat("n", LIMIT_TOKEN_NAME), *n101 = unit_repeat("n", LIMIT_TOKEN_NAME + 1);
    json_t *in = json_pack("{s:s}", "name", n100), *out = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_token_check(in, MODEL_CREATE, 7, &out, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "expires_in_days")), 7);
    json_decref(out);
    json_decref(in);
    in = json_pack("{s:s}", "name", n101);
    out = NULL;
    assert_int_equal(model_token_check(in, MODEL_CREATE, 7, &out, &e), ERR_INVALID);
    assert_null(out);
    assert_string_equal(e.fields[0].field, "name");
    json_decref(in);
    free(n100);
    free(n101);
}

/* ---- sectors ---- */

static void test_sector_check(void **state)
{
    (void)state;
    json_t *in = unit_json("{\"code\":\"space_2\",\"name\":{\"ja\":\"宇宙\"}}"), *out = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_sector_check(in, MODEL_CREATE, &out, &e), 0);
    assert_json_eq(out, "{\"code\":\"space_2\",\"name\":{\"ja\":\"宇宙\",\"en\":\"宇宙\"}}");
    json_decref(out);
    json_decref(in);

    static const char *const bad[][2] = {
        {"{\"code\":\"Space\",\"name\":{\"en\":\"S\"}}", "code"},
        {"{\"code\":\"2space\",\"name\":{\"en\":\"S\"}}", "code"},
        {"{\"code\":\"sp-ace\",\"name\":{\"en\":\"S\"}}", "code"},
        {"{\"code\":\"\",\"name\":{\"en\":\"S\"}}", "code"},
        {"{\"name\":{\"en\":\"S\"}}", "code"},
        {"{\"code\":\"space\"}", "name"},
        {"{\"code\":\"space\",\"name\":{\"en\":\"S\"},\"disabled\":true}", "disabled"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in = unit_json(bad[i][0]);
        out = NULL;
        err_init(&e);
        assert_int_equal(model_sector_check(in, MODEL_CREATE, &out, &e), ERR_INVALID);
        assert_null(out);
        char got[256];
        unit_fields_str(&e, got, sizeof(got));
        assert_string_equal(got, bad[i][1]);
        json_decref(in);
    }
    in = unit_json("{\"disabled\":true}");
    out = NULL;
    err_init(&e);
    assert_int_equal(model_sector_check(in, MODEL_PATCH, &out, &e), 0);
    assert_json_eq(out, "{\"disabled\":true}");
    json_decref(out);
    json_decref(in);
}

/* ---- roles, vocabularies, merge ---- */

static void test_roles(void **state)
{
    (void)state;
    assert_int_equal(model_role_bit("member"), MODEL_ROLE_MEMBER);
    assert_int_equal(model_role_bit("analyst"), MODEL_ROLE_ANALYST);
    assert_int_equal(model_role_bit("org_admin"), MODEL_ROLE_ORG_ADMIN);
    assert_int_equal(model_role_bit("admin"), MODEL_ROLE_ADMIN);
    assert_int_equal(model_role_bit("auditor"), MODEL_ROLE_AUDITOR);
    assert_int_equal(model_role_bit("Admin"), 0);
    assert_int_equal(model_role_bit(""), 0);
    assert_int_equal(model_role_bit(NULL), 0);
    assert_int_equal(MODEL_ROLE_ALL, MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST |
                                         MODEL_ROLE_ORG_ADMIN | MODEL_ROLE_ADMIN |
                                         MODEL_ROLE_AUDITOR);

    json_t *j = model_roles_json(0);
    assert_json_eq(j, "[]");
    json_decref(j);
    j = model_roles_json(MODEL_ROLE_ALL | 0x40u); /* unknown bits are dropped */
    assert_json_eq(j, "[\"member\",\"analyst\",\"org_admin\",\"admin\",\"auditor\"]");
    json_decref(j);

    /* Every non-empty set survives bits -> JSON -> bits. */
    for (unsigned r = 1; r <= MODEL_ROLE_ALL; r++) {
        j = model_roles_json(r);
        unsigned back = 0;
        struct err e;
        err_init(&e);
        assert_int_equal(model_roles_parse(j, "roles", &back, &e), 0);
        assert_int_equal(back, r);
        assert_int_equal(json_array_size(j), (size_t)__builtin_popcount(r));
        json_decref(j);
    }
    /* Parse errors name the field given. */
    json_t *a = unit_json("[\"member\",\"root\"]");
    unsigned bits = 99;
    struct err e;
    err_init(&e);
    assert_int_equal(model_roles_parse(a, "filter.roles", &bits, &e), ERR_INVALID);
    assert_string_equal(e.fields[0].field, "filter.roles[1]");
    json_decref(a);

    assert_true(model_org_kind_valid("sector_hub"));
    assert_false(model_org_kind_valid("hub"));
    assert_false(model_org_kind_valid(NULL));
    assert_true(model_locale_valid("ja"));
    assert_true(model_locale_valid("en"));
    assert_false(model_locale_valid("en-US"));
    assert_false(model_locale_valid(NULL));
    assert_true(model_vocab_has(&sectors, "gas"));
    assert_false(model_vocab_has(&sectors, "GAS"));
    assert_false(model_vocab_has(&sectors, NULL));
    assert_false(model_vocab_has(NULL, "gas"));
}

static void test_merge(void **state)
{
    (void)state;
    json_t *cur = unit_json("{\"id\":\"" UUID "\",\"name\":{\"ja\":\"甲\",\"en\":\"A\"},"
                            "\"kind\":\"operator\",\"sectors\":[\"ict\",\"gas\"],"
                            "\"tier\":\"class1\",\"contacts\":[{\"type\":\"phone\","
                            "\"value\":\"110\"}],\"disabled\":false}");
    json_t *patch = unit_json("{\"name\":{\"en\":\"B\"},\"sectors\":[\"finance\"],"
                              "\"contacts\":[],\"disabled\":true}");
    json_t *m = model_merge(cur, patch);
    assert_json_eq(m, "{\"id\":\"" UUID "\",\"name\":{\"ja\":\"甲\",\"en\":\"B\"},"
                      "\"kind\":\"operator\",\"sectors\":[\"finance\"],\"tier\":\"class1\","
                      "\"contacts\":[],\"disabled\":true}");
    /* current is not modified */
    assert_json_eq(cur, "{\"id\":\"" UUID "\",\"name\":{\"ja\":\"甲\",\"en\":\"A\"},"
                        "\"kind\":\"operator\",\"sectors\":[\"ict\",\"gas\"],"
                        "\"tier\":\"class1\",\"contacts\":[{\"type\":\"phone\","
                        "\"value\":\"110\"}],\"disabled\":false}");
    /* changing the merge result does not reach into current or patch */
    json_object_set_new(json_object_get(m, "name"), "ja", json_string("乙"));
    assert_str(json_string_value(json_object_get(json_object_get(cur, "name"), "ja")), "甲");
    json_decref(m);

    /* An empty patch is a copy. */
    json_t *empty = json_object();
    m = model_merge(cur, empty);
    assert_true(json_equal(m, cur));
    assert_true(m != cur);
    json_decref(m);
    json_decref(empty);
    json_decref(patch);
    json_decref(cur);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_org_create_ok),
        cmocka_unit_test(test_org_create_errors),
        cmocka_unit_test(test_org_limits),
        cmocka_unit_test(test_org_patch),
        cmocka_unit_test(test_org_identifiers_ok),
        cmocka_unit_test(test_org_identifiers_errors),
        cmocka_unit_test(test_org_identifiers_limits),
        cmocka_unit_test(test_user_create_ok),
        cmocka_unit_test(test_user_create_errors),
        cmocka_unit_test(test_user_limits),
        cmocka_unit_test(test_user_patch),
        cmocka_unit_test(test_login_norm),
        cmocka_unit_test(test_token_check),
        cmocka_unit_test(test_sector_check),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
