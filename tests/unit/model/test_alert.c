/*
 * test_alert.c - unit tests of src/model/alert: validation and
 * normalisation of alert content (create, patch, merge), the publishing
 * rule, new versions (correction merges, withdrawal), the limits, and the
 * conversion between content and the store row.
 *
 * As in test_report.c, error cases are tables of (input, expected fields
 * in order), so every rule's exact field path is pinned down. Fixtures are
 * written with ' for " (unit_jsonq).
 */
#include "../unit.h"

#include <sodium.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/alert.h"
#include "model/member.h"
#include "model/report.h"

static const char *const sector_codes[] = {"ict", "finance", "electricity", "gas"};
static const struct model_vocab sectors = {sector_codes, 4};
static const char *const tier_codes[] = {"class1", "class2", "general"};
static const struct model_vocab tiers = {tier_codes, 3};
static const struct model_report_ctx ctx = {&sectors, NULL, 0, &tiers};

#define ORG_A "01900000-0000-7000-8000-00000000000a"
#define ORG_B "01900000-0000-7000-8000-00000000000b"
#define REL_A "01900000-0000-7000-8000-0000000000a1"
#define REP_A "01900000-0000-7000-8000-0000000000b1"

/* The smallest valid alert. */
#define MIN "'title':{'ja':'警報'},'actions':{'en':'Patch now'},'urgency':'urgent'"
#define EMPTY_AUDIENCE "{'orgs':[],'sectors':[],'tiers':[],'all_members':false}"

static int alert_check(const json_t *in, json_t **out, struct err *e, const void *mode)
{
    return model_alert_check(in, *(const enum model_mode *)mode, &ctx, out, e);
}

static void run_bad(enum model_mode mode, const struct unit_bad_case *cases, size_t n)
{
    unit_run_bad(alert_check, &mode, cases, n);
}

static void run_good(enum model_mode mode, const struct unit_good_case *cases, size_t n)
{
    unit_run_good(alert_check, &mode, cases, n);
}

/* ---- create ---- */

static void test_create_defaults(void **state)
{
    (void)state;
    static const struct unit_good_case cases[] = {
        {"{" MIN "}",
         "{'title':{'ja':'警報'},'summary':{},'actions':{'en':'Patch now'},'urgency':'urgent',"
         "'exercise':false,'links':{'releases':[],'reports':[]},'observables':[],"
         "'audience':" EMPTY_AUDIENCE ",'tlp':'AMBER'}"},
        /* both languages; a null language is no text; summary null is none */
        {"{'title':{'ja':'警報','en':'Alert'},'actions':{'ja':'適用','en':null},"
         "'summary':null,'urgency':'routine','exercise':true,'tlp':'CLEAR','audience':null,"
         "'links':null,'observables':null}",
         "{'title':{'ja':'警報','en':'Alert'},'summary':{},'actions':{'ja':'適用'},"
         "'urgency':'routine','exercise':true,'links':{'releases':[],'reports':[]},"
         "'observables':[],'audience':" EMPTY_AUDIENCE ",'tlp':'CLEAR'}"},
        /* multi-line summary and actions; links de-duplicated; one list given */
        {"{'title':{'en':'A'},'summary':{'en':'line 1\\nline 2\\tx','ja':null},"
         "'actions':{'ja':'1. 更新\\n2. 再起動'},'urgency':'critical',"
         "'links':{'releases':['" REL_A "','" REL_A "']}}",
         "{'title':{'en':'A'},'summary':{'en':'line 1\\nline 2\\tx'},"
         "'actions':{'ja':'1. 更新\\n2. 再起動'},'urgency':'critical','exercise':false,"
         "'links':{'releases':['" REL_A "'],'reports':[]},'observables':[],"
         "'audience':" EMPTY_AUDIENCE ",'tlp':'AMBER'}"},
        /* observables normalised like a report's; audience normalised; RED to named orgs */
        {"{" MIN ",'observables':[{'type':'domain','value':'Evil.Example.'},"
         "{'type':'ipv4','value':'192.0.2.1','role':'attacker'},"
         "{'type':'domain','value':'evil.example'}],"
         "'audience':{'orgs':['" ORG_B "','" ORG_A "','" ORG_B "']},'tlp':'RED',"
         "'links':{'reports':['" REP_A "'],'releases':[]}}",
         "{'title':{'ja':'警報'},'summary':{},'actions':{'en':'Patch now'},'urgency':'urgent',"
         "'exercise':false,'links':{'releases':[],'reports':['" REP_A "']},"
         "'observables':[{'type':'domain','value':'evil.example','role':'other'},"
         "{'type':'ipv4','value':'192.0.2.1','role':'attacker'}],"
         "'audience':{'orgs':['" ORG_B "','" ORG_A "'],'sectors':[],'tiers':[],"
         "'all_members':false},'tlp':'RED'}"},
        {"{" MIN ",'audience':{'sectors':['gas','ict','gas'],'tiers':['class1'],"
         "'all_members':true},'tlp':'AMBER+STRICT'}",
         "{'title':{'ja':'警報'},'summary':{},'actions':{'en':'Patch now'},'urgency':'urgent',"
         "'exercise':false,'links':{'releases':[],'reports':[]},'observables':[],"
         "'audience':{'orgs':[],'sectors':['gas','ict'],'tiers':['class1'],"
         "'all_members':true},'tlp':'AMBER+STRICT'}"},
    };
    run_good(MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_create_errors(void **state)
{
    (void)state;
    static const struct unit_bad_case cases[] = {
        {"[]", ""},
        {"{}", "title,actions,urgency"},
        {"{" MIN ",'state':'published','id':'x'}", "state,id"},
        /* texts: an object of languages, at least one given */
        {"{'title':{},'actions':{'en':'x'},'urgency':'urgent'}", "title"},
        {"{'title':{'ja':null,'en':null},'actions':{'en':'x'},'urgency':'urgent'}", "title"},
        /* a blank language is refused, not dropped: the writer meant to say something */
        {"{'title':{'ja':' ','en':null},'actions':{'en':'x'},'urgency':'urgent'}", "title.ja"},
        {"{" MIN ",'summary':{'en':'  \\n'}}", "summary.en"},
        {"{'title':'警報','actions':{'en':'x'},'urgency':'urgent'}", "title"},
        {"{'title':null,'actions':null,'urgency':'urgent'}", "title,actions"},
        {"{'title':{'fr':'Alerte'},'actions':{'en':'x'},'urgency':'urgent'}", "title.fr"},
        {"{'title':{'ja':7,'en':['x']},'actions':{'en':'x'},'urgency':'urgent'}",
         "title.ja,title.en"},
        {"{'title':{'en':'two\\nlines'},'actions':{'en':'x'},'urgency':'urgent'}", "title.en"},
        {"{" MIN ",'summary':{'ja':'bell\\u0007'}}", "summary.ja"},
        {"{" MIN ",'summary':'text'}", "summary"},
        {"{'title':{'ja':'x'},'actions':{'ja':'',' en':'x'},'urgency':'urgent'}",
         "actions. en,actions.ja"},
        {"{'title':{'ja':'x'},'actions':{},'urgency':'urgent'}", "actions"},
        /* urgency, exercise, tlp */
        {"{'title':{'ja':'x'},'actions':{'en':'x'},'urgency':'high'}", "urgency"},
        {"{'title':{'ja':'x'},'actions':{'en':'x'},'urgency':null}", "urgency"},
        {"{" MIN ",'exercise':'yes'}", "exercise"},
        {"{" MIN ",'exercise':null}", "exercise"},
        {"{" MIN ",'tlp':'PURPLE'}", "tlp"},
        {"{" MIN ",'tlp':'amber'}", "tlp"},
        {"{" MIN ",'tlp':null}", "tlp"},
        /* links */
        {"{" MIN ",'links':['" REL_A "']}", "links"},
        {"{" MIN ",'links':{'releases':'" REL_A "'}}", "links.releases"},
        {"{" MIN ",'links':{'releases':['bad','" REL_A "',7],'reports':['X']}}",
         "links.releases[0],links.releases[2],links.reports[0]"},
        {"{" MIN ",'links':{'alerts':[]}}", "links.alerts"},
        /* observables, as in reports */
        {"{" MIN ",'observables':{}}", "observables"},
        {"{" MIN ",'observables':[{'type':'ipv4','value':'192.0.2.1'},"
         "{'type':'cve','value':'CVE-2024-1234'},{'type':'md5','value':'" "00" "'},"
         "{'type':'ipv4','value':'192.0.2.256'}]}",
         "observables[2].value,observables[3].value"},
        {"{" MIN ",'observables':[{'type':'ip','value':'x'},{'type':'text','value':'x',"
         "'role':'bystander'},{'type':'text','value':'x','extra':1},'x']}",
         "observables[0].type,observables[1].role,observables[2].extra,observables[3]"},
        /* audience: no hub; known codes; ids */
        {"{" MIN ",'audience':{'hub':true}}", "audience.hub"},
        {"{" MIN ",'audience':{'hub':false,'sectors':['gas']}}", "audience.hub"},
        {"{" MIN ",'audience':'all'}", "audience"},
        {"{" MIN ",'audience':{'sectors':['nope'],'tiers':['class9'],'orgs':['x'],"
         "'all_members':1}}",
         "audience.orgs[0],audience.sectors[0],audience.tiers[0],audience.all_members"},
        {"{" MIN ",'audience':{'everyone':true}}", "audience.everyone"},
        /* TLP:RED only to named organisations */
        {"{" MIN ",'tlp':'RED','audience':{'sectors':['gas']}}", "tlp"},
        {"{" MIN ",'tlp':'RED','audience':{'orgs':['" ORG_A "'],'all_members':true}}", "tlp"},
        {"{" MIN ",'tlp':'RED','audience':{'tiers':['class1']}}", "tlp"},
        /* everything wrong at once: every field reported, in order */
        {"{'title':{'ja':''},'summary':5,'actions':{'de':'x'},'urgency':'now',"
         "'exercise':0,'links':5,'observables':5,'audience':5,'tlp':5,'x':1}",
         "x,title.ja,summary,actions.de,urgency,exercise,links,observables,audience,tlp"},
    };
    run_bad(MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every ceiling: exactly at the limit passes, one more fails naming the field. */
static void test_limits(void **state)
{
    (void)state;
    static const struct {
        const char *member, *lang, *unit;
        size_t max;
    } lim[] = {
        {"title", "ja", "警", LIMIT_ALERT_TITLE}, /* characters, not bytes */
        {"title", "en", "t", LIMIT_ALERT_TITLE},
        {"summary", "ja", "概", LIMIT_ALERT_TEXT},
        {"summary", "en", "s", LIMIT_ALERT_TEXT},
        {"actions", "ja", "対", LIMIT_ALERT_TEXT},
        {"actions", "en", "a", LIMIT_ALERT_TEXT},
    };
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
        for (int extra = 0; extra <= 1; extra++) {
            char *v = unit_repeat(lim[i].unit, lim[i].max + (size_t)extra);
            json_t *in = unit_jsonq("{" MIN "}"), *out = NULL;
            json_object_set_new(in, lim[i].member, json_pack("{s:s}", lim[i].lang, v));
            struct err e;
            err_init(&e);
            int rc = model_alert_check(in, MODEL_CREATE, &ctx, &out, &e);
            char f[32];
            snprintf(f, sizeof(f), "%s.%s", lim[i].member, lim[i].lang);
            if (rc != (extra ? ERR_INVALID : 0))
                print_error("%s of %zu+%d: rc %d\n", f, lim[i].max, extra, rc);
            assert_int_equal(rc, extra ? ERR_INVALID : 0);
            if (extra) {
                assert_int_equal(e.nfields, 1);
                assert_string_equal(e.fields[0].field, f);
            } else {
                assert_str(unit_jstr(json_object_get(out, lim[i].member), lim[i].lang), v);
            }
            json_decref(out);
            json_decref(in);
            free(v);
        }
    /* Links: LIMIT_ALERT_LINKS distinct ids of each kind; one more fails. */
    static const char *const lists[] = {"releases", "reports"};
    for (size_t l = 0; l < 2; l++)
        for (int extra = 0; extra <= 1; extra++) {
            json_t *ids = json_array(), *out = NULL;
            for (int i = 0; i < LIMIT_ALERT_LINKS + extra; i++) {
                char id[UTIL_UUID_LEN + 1];
                util_uuid7(id);
                json_array_append_new(ids, json_string(id));
            }
            json_t *in = unit_jsonq("{" MIN "}");
            json_object_set_new(in, "links", json_pack("{s:o}", lists[l], ids));
            struct err e;
            err_init(&e);
            int rc = model_alert_check(in, MODEL_CREATE, &ctx, &out, &e);
            assert_int_equal(rc, extra ? ERR_INVALID : 0);
            char f[32];
            snprintf(f, sizeof(f), "links.%s", lists[l]);
            if (extra)
                assert_string_equal(e.fields[0].field, f);
            else
                assert_int_equal(json_array_size(json_object_get(json_object_get(out, "links"),
                                                                 lists[l])),
                                 LIMIT_ALERT_LINKS);
            json_decref(out);
            json_decref(in);
        }
    /* Observables: LIMIT_ALERT_OBSERVABLES; one more fails; a value's length as in reports. */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *obs = json_array(), *out = NULL;
        for (int i = 0; i < LIMIT_ALERT_OBSERVABLES + extra; i++) {
            char v[32];
            snprintf(v, sizeof(v), "AS%d", i + 1);
            json_array_append_new(obs, json_pack("{s:s,s:s}", "type", "asn", "value", v));
        }
        json_t *in = unit_jsonq("{" MIN "}");
        json_object_set_new(in, "observables", obs);
        struct err e;
        err_init(&e);
        int rc = model_alert_check(in, MODEL_CREATE, &ctx, &out, &e);
        assert_int_equal(rc, extra ? ERR_INVALID : 0);
        if (extra)
            assert_string_equal(e.fields[0].field, "observables");
        else
            assert_int_equal(json_array_size(json_object_get(out, "observables")),
                             LIMIT_ALERT_OBSERVABLES);
        json_decref(out);
        json_decref(in);
    }
    for (int extra = 0; extra <= 1; extra++) {
        char *v = unit_repeat("x", LIMIT_OBSERVABLE_CHARS + (size_t)extra);
        json_t *in = unit_jsonq("{" MIN "}"), *out = NULL;
        json_object_set_new(in, "observables", json_pack("[{s:s,s:s}]", "type", "text",
                                                         "value", v));
        struct err e;
        err_init(&e);
        assert_int_equal(model_alert_check(in, MODEL_CREATE, &ctx, &out, &e),
                         extra ? ERR_INVALID : 0);
        if (extra)
            assert_string_equal(e.fields[0].field, "observables[0].value");
        json_decref(out);
        json_decref(in);
        free(v);
    }
    /* Named organisations: the audience limit of reports and releases. */
    for (int extra = 0; extra <= 1; extra++) {
        json_t *orgs = json_array(), *out = NULL;
        for (int i = 0; i < LIMIT_AUDIENCE_ORGS + extra; i++) {
            char id[UTIL_UUID_LEN + 1];
            util_uuid7(id);
            json_array_append_new(orgs, json_string(id));
        }
        json_t *in = unit_jsonq("{" MIN "}");
        json_object_set_new(in, "audience", json_pack("{s:o}", "orgs", orgs));
        struct err e;
        err_init(&e);
        assert_int_equal(model_alert_check(in, MODEL_CREATE, &ctx, &out, &e),
                         extra ? ERR_INVALID : 0);
        if (extra)
            assert_string_equal(e.fields[0].field, "audience.orgs");
        json_decref(out);
        json_decref(in);
    }
}

/* More errors than LIMIT_ERR_FIELDS: still a failure, and no output. */
static void test_many_errors(void **state)
{
    (void)state;
    json_t *obs = json_array(), *out = NULL;
    for (int i = 0; i < LIMIT_ERR_FIELDS + 5; i++)
        json_array_append_new(obs, json_pack("{s:s,s:s}", "type", "ipv4", "value", "x"));
    json_t *in = unit_jsonq("{" MIN "}");
    json_object_set_new(in, "observables", obs);
    struct err e;
    err_init(&e);
    assert_int_equal(model_alert_check(in, MODEL_CREATE, &ctx, &out, &e), ERR_INVALID);
    assert_null(out);
    assert_true(e.fields_truncated);
    assert_string_equal(e.fields[0].field, "observables[0].value");
    json_decref(in);
}

/* ---- patch and merge ---- */

#define CURRENT                                                                                   \
    "{'title':{'ja':'警報','en':'Alert'},'summary':{'ja':'概要'},'actions':{'en':'Patch'},"        \
    "'urgency':'urgent','exercise':false,'links':{'releases':['" REL_A "'],'reports':[]},"        \
    "'observables':[],'audience':{'orgs':[],'sectors':['gas'],'tiers':[],'all_members':false},"   \
    "'tlp':'AMBER'}"

static void test_patch(void **state)
{
    (void)state;
    /* Each member given replaces the current one whole. */
    static const struct unit_good_case checks[] = {
        {"{}", "{}"},
        {"{'title':{'en':'New'},'actions':{'ja':'更新','en':null}}",
         "{'title':{'en':'New'},'actions':{'ja':'更新'}}"},
        {"{'title':{}}", "{'title':{}}"}, /* model_alert_finish() refuses it after the merge */
        {"{'summary':null}", "{'summary':{}}"},
        {"{'summary':{'ja':null}}", "{'summary':{}}"},
        {"{'links':{'reports':['" REP_A "']}}",
         "{'links':{'releases':[],'reports':['" REP_A "']}}"},
        {"{'links':null}", "{'links':{'releases':[],'reports':[]}}"},
        {"{'audience':null}", "{'audience':" EMPTY_AUDIENCE "}"},
        {"{'audience':{'tiers':['class2']},'urgency':'critical','exercise':true,'tlp':'GREEN',"
         "'observables':null}",
         "{'audience':{'orgs':[],'sectors':[],'tiers':['class2'],'all_members':false},"
         "'urgency':'critical','exercise':true,'tlp':'GREEN','observables':[]}"},
    };
    run_good(MODEL_PATCH, checks, sizeof(checks) / sizeof(checks[0]));
    static const struct unit_bad_case bad[] = {
        {"{'title':null}", "title"},
        {"{'actions':null}", "actions"},
        {"{'urgency':null,'exercise':null,'tlp':null}", "urgency,exercise,tlp"},
        {"{'audience':{'hub':true}}", "audience.hub"},
        {"{'id':'x','title':{'xx':'y'}}", "id,title.xx"},
        {"{'summary':{'ja':null,'en':''}}", "summary.en"},
        {"{'links':{'releases':['x']},'observables':[{'type':'asn','value':'ASX'}]}",
         "links.releases[0],observables[0].value"},
    };
    run_bad(MODEL_PATCH, bad, sizeof(bad) / sizeof(bad[0]));

    static const struct unit_good_case merges[] = {
        {"{}", CURRENT},
        {"{'title':{'ja':'新'},'summary':{'en':'Summary'},"
         "'links':{'reports':['" REP_A "']},'audience':{'all_members':true}}",
         "{'title':{'ja':'新'},'summary':{'en':'Summary'},'actions':{'en':'Patch'},"
         "'urgency':'urgent','exercise':false,'links':{'releases':[],'reports':['" REP_A "']},"
         "'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':true},'tlp':'AMBER'}"},
        {"{'summary':null,'urgency':'routine'}",
         "{'title':{'ja':'警報','en':'Alert'},'summary':{},'actions':{'en':'Patch'},"
         "'urgency':'routine','exercise':false,'links':{'releases':['" REL_A "'],'reports':[]},"
         "'observables':[],'audience':{'orgs':[],'sectors':['gas'],'tiers':[],"
         "'all_members':false},'tlp':'AMBER'}"},
    };
    for (size_t i = 0; i < sizeof(merges) / sizeof(merges[0]); i++) {
        json_t *cur = unit_jsonq(CURRENT), *in = unit_jsonq(merges[i].in), *patch = NULL;
        struct err e;
        err_init(&e);
        assert_int_equal(model_alert_check(in, MODEL_PATCH, &ctx, &patch, &e), 0);
        json_t *m = model_alert_merge(cur, patch);
        assert_jsonq_eq(m, merges[i].out);
        assert_int_equal(model_alert_finish(m, &e), 0);
        assert_jsonq_eq(cur, CURRENT); /* the current content is untouched */
        json_decref(m);
        json_decref(patch);
        json_decref(in);
        json_decref(cur);
    }
}

/* After a merge: title and actions keep a language; RED needs named orgs only. */
static void test_finish(void **state)
{
    (void)state;
    static const struct unit_bad_case cases[] = {
        {"{'title':{'ja':null}}", "title"},
        {"{'title':{'en':'x'},'actions':{}}", "actions"},
        {"{'title':{},'actions':{},'tlp':'RED'}", "title,actions,tlp"},
        {"{'tlp':'RED','audience':{'orgs':['" ORG_A "'],'sectors':[]}}", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *cur = unit_jsonq(CURRENT), *in = unit_jsonq(cases[i].in), *patch = NULL;
        struct err e;
        err_init(&e);
        assert_int_equal(model_alert_check(in, MODEL_PATCH, &ctx, &patch, &e), 0);
        json_t *m = model_alert_merge(cur, patch);
        int rc = model_alert_finish(m, &e);
        char got[256];
        unit_fields_str(&e, got, sizeof(got));
        if (strcmp(got, cases[i].fields))
            print_error("case %zu: want '%s' got '%s'\n", i, cases[i].fields, got);
        assert_string_equal(got, cases[i].fields);
        assert_int_equal(rc, *cases[i].fields ? ERR_INVALID : 0);
        json_decref(m);
        json_decref(patch);
        json_decref(in);
        json_decref(cur);
    }
}

static void test_publish_check(void **state)
{
    (void)state;
    static const struct {
        const char *audience;
        bool ok;
    } cases[] = {
        {EMPTY_AUDIENCE, false},
        {"{}", false},
        {"{'all_members':true,'orgs':[],'sectors':[],'tiers':[]}", true},
        {"{'orgs':['" ORG_A "'],'sectors':[],'tiers':[],'all_members':false}", true},
        {"{'orgs':[],'sectors':['gas'],'tiers':[],'all_members':false}", true},
        {"{'orgs':[],'sectors':[],'tiers':['general'],'all_members':false}", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = unit_jsonq(CURRENT);
        json_object_set_new(c, "audience", unit_jsonq(cases[i].audience));
        struct err e;
        err_init(&e);
        int rc = model_alert_publish_check(c, &e);
        assert_int_equal(rc, cases[i].ok ? 0 : ERR_INVALID);
        if (!cases[i].ok)
            assert_string_equal(e.fields[0].field, "audience");
        json_decref(c);
    }
}

/* ---- versions ---- */

static json_t *version(const char *in, int want_rc, const char *want_fields)
{
    json_t *prev = unit_jsonq(CURRENT), *body = unit_jsonq(in), *out = NULL;
    struct err e;
    err_init(&e);
    int rc = model_alert_version_check(body, prev, &ctx, &out, &e);
    char got[512];
    unit_fields_str(&e, got, sizeof(got));
    if (rc != want_rc || strcmp(got, want_fields))
        print_error("%s\n  want rc %d '%s'\n  got  rc %d '%s'\n", in, want_rc, want_fields, rc,
                    got);
    assert_int_equal(rc, want_rc);
    assert_string_equal(got, want_fields);
    assert_jsonq_eq(prev, CURRENT); /* the previous version is untouched */
    json_decref(body);
    json_decref(prev);
    if (rc)
        assert_null(out);
    return out;
}

static void test_correction(void **state)
{
    (void)state;
    json_t *c = version("{'kind':'correction','title':{'en':'Alert (corrected)'},"
                        "'urgency':'critical','observables':[{'type':'cve','value':"
                        "'cve-2024-0001'}]}",
                        0, "");
    assert_jsonq_eq(c, "{'title':{'en':'Alert (corrected)'},'summary':{'ja':'概要'},"
                       "'actions':{'en':'Patch'},'urgency':'critical','exercise':false,"
                       "'links':{'releases':['" REL_A "'],'reports':[]},"
                       "'observables':[{'type':'cve','value':'CVE-2024-0001','role':'other'}],"
                       "'audience':{'orgs':[],'sectors':['gas'],'tiers':[],'all_members':false},"
                       "'tlp':'AMBER'}");
    json_decref(c);
    /* a correction may widen the audience and drop a language */
    c = version("{'kind':'correction','audience':{'all_members':true},'title':{'ja':'警報'}}", 0,
                "");
    assert_jsonq_eq(json_object_get(c, "title"), "{'ja':'警報'}");
    assert_true(json_is_true(json_object_get(json_object_get(c, "audience"), "all_members")));
    json_decref(c);
    /* the same exercise flag is no change, but accepted with another change */
    c = version("{'kind':'correction','exercise':false,'tlp':'GREEN'}", 0, "");
    json_decref(c);
    version("{'kind':'correction'}", ERR_INVALID, "kind");
    version("{'kind':'correction','urgency':'urgent','title':{'en':'Alert','ja':'警報'}}",
            ERR_INVALID, "kind");
    version("{'kind':'correction','exercise':true}", ERR_INVALID, "exercise");
    version("{'kind':'correction','title':{'ja':null,'en':null}}", ERR_INVALID, "title");
    version("{'kind':'correction','urgency':'soon','reason':'x','summary':{'ja':7}}",
            ERR_INVALID, "reason,summary.ja,urgency");
    version("{'kind':'correction','tlp':'RED'}", ERR_INVALID, "tlp");
    version("{'kind':'correction','audience':{'hub':true}}", ERR_INVALID, "audience.hub");
}

static void test_withdrawal(void **state)
{
    (void)state;
    /* A text reason serves both languages; the rest of the content stays. */
    json_t *w = version("{'kind':'withdrawal','reason':'誤報でした'}", 0, "");
    json_t *want = unit_jsonq(CURRENT);
    json_object_set_new(want, "summary", unit_jsonq("{'ja':'誤報でした','en':'誤報でした'}"));
    assert_true(json_equal(w, want));
    json_decref(want);
    json_decref(w);
    w = version("{'kind':'withdrawal','reason':{'ja':'誤報','en':'False alarm','fr':null}}",
                ERR_INVALID, "reason.fr");
    w = version("{'kind':'withdrawal','reason':{'ja':'誤報','en':'False alarm'}}", 0, "");
    assert_jsonq_eq(json_object_get(w, "summary"), "{'ja':'誤報','en':'False alarm'}");
    json_decref(w);
    w = version("{'kind':'withdrawal','reason':{'en':'False alarm','ja':null}}", 0, "");
    assert_jsonq_eq(json_object_get(w, "summary"), "{'en':'False alarm'}");
    json_decref(w);
    version("{'kind':'withdrawal','reason':{'en':'False alarm','ja':''}}", ERR_INVALID,
            "reason.ja");
    version("{'kind':'withdrawal'}", ERR_INVALID, "reason");
    version("{'kind':'withdrawal','reason':null}", ERR_INVALID, "reason");
    version("{'kind':'withdrawal','reason':'  '}", ERR_INVALID, "reason");
    version("{'kind':'withdrawal','reason':{}}", ERR_INVALID, "reason");
    version("{'kind':'withdrawal','reason':7}", ERR_INVALID, "reason");
    version("{'kind':'withdrawal','reason':'x','title':{'en':'y'}}", ERR_INVALID, "title");
    char *long_reason = unit_repeat("理", LIMIT_ALERT_TEXT + 1);
    char in[LIMIT_ALERT_TEXT * 3 + 64];
    snprintf(in, sizeof(in), "{'kind':'withdrawal','reason':'%s'}", long_reason);
    version(in, ERR_INVALID, "reason");
    long_reason[strlen(long_reason) - 3] = '\0';
    snprintf(in, sizeof(in), "{'kind':'withdrawal','reason':'%s'}", long_reason);
    json_decref(version(in, 0, ""));
    free(long_reason);
    /* Neither: the kind is required. */
    version("{}", ERR_INVALID, "kind");
    version("{'kind':'alert','title':{'en':'x'}}", ERR_INVALID, "kind");
    version("{'reason':'x'}", ERR_INVALID, "kind");
    version("[]", ERR_INVALID, "");
}

/* ---- rows ---- */

static void test_rows(void **state)
{
    (void)state;
    json_t *content = unit_jsonq(CURRENT);
    json_t *row = unit_jsonq("{'id':'" ORG_A "','series_id':'" ORG_A "','version':1,"
                             "'kind':'alert','state':'draft','issuer_org':'" ORG_B "',"
                             "'created_by':'u1','created_at':'2026-06-01T00:00:00Z',"
                             "'updated_at':'2026-06-01T00:00:00Z','published_by':null,"
                             "'published_at':null,'pub_seq':null}");
    model_alert_set_content(row, content);
    assert_jsonq_eq(json_object_get(row, "body"),
                    "{'title':{'ja':'警報','en':'Alert'},'summary':{'ja':'概要'},"
                    "'actions':{'en':'Patch'},'links':{'releases':['" REL_A "'],'reports':[]},"
                    "'observables':[]}");
    assert_str(unit_jstr(row, "urgency"), "urgent");
    assert_null(json_object_get(row, "title"));
    json_t *back = model_alert_content(row);
    assert_true(json_equal(back, content));
    json_decref(back);

    json_decref(row);
    json_decref(content);
}

static void test_urgency(void **state)
{
    (void)state;
    assert_true(model_alert_urgency_valid("routine"));
    assert_true(model_alert_urgency_valid("urgent"));
    assert_true(model_alert_urgency_valid("critical"));
    assert_false(model_alert_urgency_valid("Urgent"));
    assert_false(model_alert_urgency_valid(""));
    assert_false(model_alert_urgency_valid(NULL));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_defaults), cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_limits),          cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_patch),           cmocka_unit_test(test_finish),
        cmocka_unit_test(test_publish_check),   cmocka_unit_test(test_correction),
        cmocka_unit_test(test_withdrawal),      cmocka_unit_test(test_rows),
        cmocka_unit_test(test_urgency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
