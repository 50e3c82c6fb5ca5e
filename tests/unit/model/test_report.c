/*
 * test_report.c - unit tests of src/model/report: observable normalisation,
 * validation of report content (create and revision), the defaults of a
 * first report, derived severity, cross-field rules and model_report_diff.
 *
 * As in test_member.c, error cases are tables of (input, expected fields in
 * order), so every rule's exact field path is pinned down. Fixtures are
 * written with ' for " (unit_jsonq).
 */
#include "../unit.h"

#include <sodium.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/member.h"
#include "model/report.h"

static const char *const sector_codes[] = {"ict", "finance", "electricity", "gas"};
static const struct model_vocab sectors = {sector_codes, 4};
static const char *const regime_codes[] = {"jp_electricity", "eu_nis2"};
static const struct model_vocab regimes = {regime_codes, 2};
static const char *const tier_codes[] = {"class1", "class2", "general"};
static const struct model_vocab tiers = {tier_codes, 3};

#define NOW_TEXT "2026-06-01T00:00:00Z"

static struct model_report_ctx ctx_now(void)
{
    int64_t now;
    int off;
    assert_true(util_time_parse(NOW_TEXT, &now, &off));
    return (struct model_report_ctx){&sectors, &regimes, now, &tiers};
}

static int report_check(const json_t *in, json_t **out, struct err *e, const void *mode)
{
    struct model_report_ctx ctx = ctx_now();
    return model_report_check(in, *(const enum model_mode *)mode, &ctx, out, e);
}

static void run_bad(enum model_mode mode, const struct unit_bad_case *cases, size_t n)
{
    unit_run_bad(report_check, &mode, cases, n);
}

/* Each output is the check's, before model_report_finish(). */
static void run_good(enum model_mode mode, const struct unit_good_case *cases, size_t n)
{
    unit_run_good(report_check, &mode, cases, n);
}

/* ---- observables ---- */

struct obs_case {
    const char *type, *in, *out; /* out NULL: rejected */
};

static const struct obs_case obs_cases[] = {
    /* ipv4: dotted quad only */
    {"ipv4", "192.0.2.1", "192.0.2.1"},
    {"ipv4", "0.0.0.0", "0.0.0.0"},
    {"ipv4", "255.255.255.255", "255.255.255.255"},
    {"ipv4", "192.0.2", NULL},
    {"ipv4", "192.0.2.256", NULL},
    {"ipv4", "01.2.3.4", NULL},
    {"ipv4", "0x7f.0.0.1", NULL},
    {"ipv4", "192.0.2.1 ", NULL},
    {"ipv4", "192.0.2.1/32", NULL},
    {"ipv4", "::1", NULL},
    {"ipv4", "", NULL},
    /* ipv6: RFC 5952 text */
    {"ipv6", "2001:DB8::1", "2001:db8::1"},
    {"ipv6", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
    {"ipv6", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, /* first of equal runs */
    {"ipv6", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one 0 field stays */
    {"ipv6", "::FFFF:192.0.2.1", "::ffff:192.0.2.1"},
    {"ipv6", "::", "::"},
    {"ipv6", "2001:db8::1::1", NULL},
    {"ipv6", "12345::", NULL},
    {"ipv6", "fe80::1%eth0", NULL},
    {"ipv6", "192.0.2.1", NULL},
    {"ipv6", "", NULL},
    /* cidr: the network, host bits cleared */
    {"cidr", "10.1.2.3/8", "10.0.0.0/8"},
    {"cidr", "192.168.1.130/25", "192.168.1.128/25"},
    {"cidr", "192.0.2.1/32", "192.0.2.1/32"},
    {"cidr", "1.2.3.4/0", "0.0.0.0/0"},
    {"cidr", "172.31.255.255/12", "172.16.0.0/12"},
    {"cidr", "2001:DB8::1/32", "2001:db8::/32"},
    {"cidr", "2001:db8:abcd:12ff::1/52", "2001:db8:abcd:1000::/52"},
    {"cidr", "::1/128", "::1/128"},
    {"cidr", "10.0.0.0", NULL},
    {"cidr", "10.0.0.0/", NULL},
    {"cidr", "10.0.0.0/33", NULL},
    {"cidr", "10.0.0.0/-1", NULL},
    {"cidr", "10.0.0.0/8/9", NULL},
    {"cidr", "10.0.0/8", NULL},
    {"cidr", "/8", NULL},
    {"cidr", "2001:db8::/129", NULL},
    {"cidr", "10.0.0.0/ 8", NULL},
    /* domain: lower case, no trailing dot, ASCII (xn--) only */
    {"domain", "Example.COM.", "example.com"},
    {"domain", "xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"domain", "_dmarc.Example.org", "_dmarc.example.org"},
    {"domain", "a-b.c-d.example.jp", "a-b.c-d.example.jp"},
    {"domain", "localhost", NULL},
    {"domain", "例え.jp", NULL},
    {"domain", "-a.example", NULL},
    {"domain", "a-.example", NULL},
    {"domain", "a..example", NULL},
    {"domain", "example.com..", NULL},
    {"domain", "192.0.2.1", NULL},
    {"domain", "exa mple.com", NULL},
    {"domain", ".", NULL},
    {"domain", "", NULL},
    /* url: scheme and host lower-cased, the rest kept */
    {"url", "HTTPS://Example.COM/Path?Q=A#F", "https://example.com/Path?Q=A#F"},
    {"url", "hxxp://Evil.Example:8080", "hxxp://evil.example:8080"},
    {"url", "ftp://FILES.example/Dir/", "ftp://files.example/Dir/"},
    {"url", "https://Example.com?Q=X", "https://example.com?Q=X"},
    {"url", "example.com/path", NULL},
    {"url", "://example.com", NULL},
    {"url", "https://", NULL},
    {"url", "https:///path", NULL},
    {"url", "https://exa mple.com/", NULL},
    {"url", "https://example.com/a\tb", NULL},
    /* email: domain lower-cased */
    {"email", "Alice@Example.COM", "Alice@example.com"},
    {"email", "soc+ir@sub.example.jp", "soc+ir@sub.example.jp"},
    {"email", "alice", NULL},
    {"email", "alice@", NULL},
    {"email", "a b@example.com", NULL},
    {"email", "alice@example", NULL},
    /* hashes: hex of the right length, lower-cased */
    {"md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
    {"md5", "d41d8cd98f00b204e9800998ecf8427", NULL},
    {"md5", "d41d8cd98f00b204e9800998ecf8427e0", NULL},
    {"md5", "g41d8cd98f00b204e9800998ecf8427e", NULL},
    {"sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
     "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd8070", NULL},
    {"sha1", "d41d8cd98f00b204e9800998ecf8427e", NULL},
    {"sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", NULL},
    {"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85 ", NULL},
    /* file: a name without directories */
    {"file", "invoice.pdf.exe", "invoice.pdf.exe"},
    {"file", "Résumé.docx", "Résumé.docx"},
    {"file", "a/b", NULL},
    {"file", "C:\\x.exe", NULL},
    {"file", "", NULL},
    /* cve: upper-cased CVE-YYYY-NNNN+ */
    {"cve", "cve-2021-44228", "CVE-2021-44228"},
    {"cve", "CVE-1999-0001", "CVE-1999-0001"},
    {"cve", "CVE-2024-1234567", "CVE-2024-1234567"},
    {"cve", "CVE-2021-123", NULL},
    {"cve", "CVE-1998-0001", NULL},
    {"cve", "CVE-21-44228", NULL},
    {"cve", "CVE-2021_44228", NULL},
    {"cve", "2021-44228", NULL},
    {"cve", "CVE-2021-44228x", NULL},
    {"cve", "CVE-2O21-44228", NULL},
    /* asn: "AS" + 1..4294967295 */
    {"asn", "13335", "AS13335"},
    {"asn", "as13335", "AS13335"},
    {"asn", "AS4294967295", "AS4294967295"},
    {"asn", "AS1", "AS1"},
    {"asn", "AS0", NULL},
    {"asn", "AS4294967296", NULL},
    {"asn", "ASN13335", NULL},
    {"asn", "AS-1", NULL},
    {"asn", "AS", NULL},
    {"asn", "AS 1", NULL},
    {"asn", "13335a", NULL},
    {"asn", "+13335", NULL},
    /* attack_technique: T1234 or T1234.001, upper-cased */
    {"attack_technique", "t1059", "T1059"},
    {"attack_technique", "T1059.001", "T1059.001"},
    {"attack_technique", "t1566.002", "T1566.002"},
    {"attack_technique", "T105", NULL},
    {"attack_technique", "T10590", NULL},
    {"attack_technique", "T1059.1", NULL},
    {"attack_technique", "T1059-001", NULL},
    {"attack_technique", "TA0001", NULL},
    {"attack_technique", "1059", NULL},
    /* free text: kept as given, not blank */
    {"malware", "Emotet", "Emotet"},
    {"malware", "  ", NULL},
    {"text", "seen on the OT network", "seen on the OT network"},
    {"text", "", NULL},
    /* unknown type */
    {"bitcoin", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", NULL},
};

static void test_observable_norm(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(obs_cases) / sizeof(obs_cases[0]); i++) {
        const struct obs_case *c = &obs_cases[i];
        char *out = (char *)"untouched";
        const char *reason = NULL;
        bool ok = model_observable_norm(c->type, c->in, &out, &reason);
        if (c->out) {
            if (!ok || out == NULL || strcmp(out, c->out)) {
                print_error("%s '%s': want '%s', got %s '%s' (%s)\n", c->type, c->in, c->out,
                            ok ? "ok" : "rejected", ok && out ? out : "", reason ? reason : "");
                bad++;
            }
        } else if (ok || out != NULL || reason == NULL || *reason == '\0') {
            print_error("%s '%s': want rejected with a reason, got %s '%s'\n", c->type, c->in,
                        ok ? "accepted" : "no reason", ok && out ? out : "");
            bad++;
        }
        if (ok)
            free(out);
    }
    assert_int_equal(bad, 0);

    /* Every type the vocabulary knows has a case accepted and one rejected above. */
    static const char *const types[] = {"ipv4", "ipv6",   "cidr", "domain", "url",
                                        "email", "md5",   "sha1", "sha256", "file",
                                        "cve",  "asn",    "attack_technique", "malware", "text"};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        assert_true(model_observable_type_valid(types[t]));
        int good = 0, rejected = 0;
        for (size_t i = 0; i < sizeof(obs_cases) / sizeof(obs_cases[0]); i++)
            if (!strcmp(obs_cases[i].type, types[t]))
                obs_cases[i].out ? good++ : rejected++;
        if (!good || !rejected)
            print_error("type %s lacks a %s case\n", types[t], good ? "rejected" : "valid");
        assert_true(good > 0 && rejected > 0);
    }
    assert_false(model_observable_type_valid("bitcoin"));
    assert_false(model_observable_type_valid("IPV4"));
    assert_false(model_observable_type_valid(NULL));

    /* Domain limits: labels of up to 63 bytes, names of up to 253 (after the trailing dot). */
    char *l63 = unit_repeat("a", 63), *l64 = unit_repeat("b", 64);
    char name[600];
    static const struct {
        const char *before, *after;
    } dl[] = {{"", ".example"}, {"x.", ".example"}, {"", ".example."}};
    for (size_t i = 0; i < sizeof(dl) / sizeof(dl[0]); i++)
        for (int big = 0; big <= 1; big++) {
            snprintf(name, sizeof(name), "%s%s%s", dl[i].before, big ? l64 : l63, dl[i].after);
            char *out = NULL;
            const char *reason = NULL;
            bool ok = model_observable_norm("domain", name, &out, &reason);
            assert_int_equal(ok, !big);
            free(out);
        }
    /* 4 labels of 63 and one of 1: 4*63 + 1 + 4 dots = 257; trim to 253 and 254 */
    for (int len = 252; len <= 255; len++) {
        char *d = unit_repeat("a", (size_t)len);
        for (int k = 63; k < len - 1; k += 64)
            d[k] = '.';
        d[len - 1] = 'z'; /* not an all-digit or empty last label */
        char *out = NULL;
        const char *reason = NULL;
        bool ok = model_observable_norm("domain", d, &out, &reason);
        if (ok != (len <= 253))
            print_error("domain of %d bytes: %s\n", len, ok ? "accepted" : reason);
        assert_int_equal(ok, len <= 253);
        free(out);
        /* a trailing dot does not count */
        if (len == 253) {
            char *dot = malloc((size_t)len + 2);
            assert_non_null(dot);
            snprintf(dot, (size_t)len + 2, "%s.", d);
            assert_true(model_observable_norm("domain", dot, &out, &reason));
            assert_string_equal(out, d);
            free(out);
            free(dot);
        }
        free(d);
    }
    free(l63);
    free(l64);
}

/*
 * NEEDSWORK: the contract lower-cases a URL's scheme and host; the
 * normaliser lower-cases everything before the path, so user info
 * (user:password@, case-sensitive, telling in phishing kits) is changed.
 */
static void test_observable_url_userinfo(void **state)
{
    (void)state;
    char *out = NULL;
    const char *reason = NULL;
    assert_true(model_observable_norm("url", "HTTPS://Alice:S3cret@Example.COM/X", &out, &reason));
    bool ok = !strcmp(out, "https://Alice:S3cret@example.com/X");
    if (!ok)
        print_message("got %s\n", out);
    free(out);
    if (!ok)
    assert_true(ok);
}

/* Observables inside a report: default role, duplicates after normalisation, errors. */
static void test_report_observables(void **state)
{
    (void)state;
    static const struct unit_good_case good[] = {
        {"{'observables':[{'type':'ipv4','value':'192.0.2.1'},"
         "{'type':'domain','value':'Evil.Example.','role':'attacker'},"
         "{'type':'domain','value':'evil.example','role':'victim'},"
         "{'type':'ipv6','value':'2001:DB8::1','role':'victim'},"
         "{'type':'ipv6','value':'2001:db8:0::1'},"
         "{'type':'text','value':'192.0.2.1'}]}",
         "{'observables':[{'type':'ipv4','value':'192.0.2.1','role':'other'},"
         "{'type':'domain','value':'evil.example','role':'attacker'},"
         "{'type':'ipv6','value':'2001:db8::1','role':'victim'},"
         "{'type':'text','value':'192.0.2.1','role':'other'}]}"},
        {"{'observables':null}", "{'observables':[]}"},
        {"{'observables':[]}", "{'observables':[]}"},
    };
    run_good(MODEL_PATCH, good, sizeof(good) / sizeof(good[0]));

    static const struct unit_bad_case bad[] = {
        {"{'observables':{}}", "observables"},
        {"{'observables':'192.0.2.1'}", "observables"},
        {"{'observables':[5]}", "observables[0]"},
        {"{'observables':[{'type':'ip','value':'1.2.3.4'}]}", "observables[0].type"},
        {"{'observables':[{'value':'1.2.3.4'}]}", "observables[0].type"},
        {"{'observables':[{'type':'ipv4','value':'1.2.3.4','role':'bystander'}]}",
         "observables[0].role"},
        {"{'observables':[{'type':'ipv4','value':'1.2.3.4','role':null}]}",
         "observables[0].role"},
        {"{'observables':[{'type':'ipv4'}]}", "observables[0].value"},
        {"{'observables':[{'type':'ipv4','value':7}]}", "observables[0].value"},
        {"{'observables':[{'type':'ipv4','value':'1.2.3.4.5'}]}", "observables[0].value"},
        {"{'observables':[{'type':'text','value':'a\\u0001b'}]}", "observables[0].value"},
        {"{'observables':[{'type':'ipv4','value':'1.2.3.4','tlp':'red'}]}",
         "observables[0].tlp"},
        {"{'observables':[{'type':'md5','value':'x'},{'type':'ipv4','value':'1.2.3.4'},"
         "{'type':'cve','value':'CVE-99'}]}",
         "observables[0].value,observables[2].value"},
    };
    run_bad(MODEL_PATCH, bad, sizeof(bad) / sizeof(bad[0]));

    /* LIMIT_REPORT_OBSERVABLES are fine, one more is not; values up to LIMIT_OBSERVABLE_CHARS. */
    struct model_report_ctx ctx = ctx_now();
    for (int extra = 0; extra <= 1; extra++) {
        json_t *arr = json_array();
        for (int i = 0; i < LIMIT_REPORT_OBSERVABLES + extra; i++) {
            char v[32];
            snprintf(v, sizeof(v), "10.0.%d.%d", i / 256, i % 256);
            json_array_append_new(arr, json_pack("{s:s,s:s}", "type", "ipv4", "value", v));
        }
        json_t *in = json_pack("{s:o}", "observables", arr), *out = NULL;
        struct err e;
        err_init(&e);
        int rc = model_report_check(in, MODEL_PATCH, &ctx, &out, &e);
        if (extra == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(json_array_size(json_object_get(out, "observables")),
                             LIMIT_REPORT_OBSERVABLES);
        } else {
            assert_int_equal(rc, ERR_INVALID);
            assert_int_equal(e.nfields, 1);
            assert_string_equal(e.fields[0].field, "observables");
        }
        json_decref(out);
        json_decref(in);
    }
    for (int extra = 0; extra <= 1; extra++) {
        char *v = unit_repeat("x", LIMIT_OBSERVABLE_CHARS + extra);
        json_t *in = json_pack("{s:[{s:s,s:s}]}", "observables", "type", "text", "value", v);
        json_t *out = NULL;
        struct err e;
        err_init(&e);
        int rc = model_report_check(in, MODEL_PATCH, &ctx, &out, &e);
        assert_int_equal(rc, extra ? ERR_INVALID : 0);
        if (extra)
            assert_string_equal(e.fields[0].field, "observables[0].value");
        json_decref(out);
        json_decref(in);
        free(v);
    }
}

/* ---- content: create ---- */

/* The smallest valid first report. */
#define REP_OK "'event_type':'malware','title':'T','sectors':['ict']"

static void test_report_create_defaults(void **state)
{
    (void)state;
    static const struct unit_good_case cases[] = {
        /* a first report needs only event_type, title and a sector */
        {"{" REP_OK "}",
         "{'event_type':'malware','kind':'incident','causes':[],'layer':null,"
         "'severity':{'continuity':null,'safety':null,'trust':null},'sectors':['ict'],"
         "'service':null,'title':'T','description':null,'occurred_at':null,"
         "'detected_at':null,'recovered_at':null,'basis':null,'regime':null,'status':'open',"
         "'followup':null,'contact':null,'share_with_hub':false,'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER','purpose':null,'handling':null,"
         "'preapproved':false}"},
        /* kind follows a near-miss event type unless given */
        {"{'event_type':'near_miss','title':'T','sectors':['gas']}",
         "{'event_type':'near_miss','kind':'near_miss','causes':[],'layer':null,"
         "'severity':{'continuity':null,'safety':null,'trust':null},'sectors':['gas'],"
         "'service':null,'title':'T','description':null,'occurred_at':null,"
         "'detected_at':null,'recovered_at':null,'basis':null,'regime':null,'status':'open',"
         "'followup':null,'contact':null,'share_with_hub':false,'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER','purpose':null,'handling':null,"
         "'preapproved':false}"},
        {"{'event_type':'near_miss','title':'T','sectors':['gas'],'kind':null}",
         "{'event_type':'near_miss','kind':'near_miss','causes':[],'layer':null,"
         "'severity':{'continuity':null,'safety':null,'trust':null},'sectors':['gas'],"
         "'service':null,'title':'T','description':null,'occurred_at':null,"
         "'detected_at':null,'recovered_at':null,'basis':null,'regime':null,'status':'open',"
         "'followup':null,'contact':null,'share_with_hub':false,'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER','purpose':null,'handling':null,"
         "'preapproved':false}"},
        /* everything given; blanks become null, duplicate sectors go, overall is not taken */
        {"{'kind':'near_miss','event_type':'intrusion','causes':[{'code':'intentional',"
         "'detail':'phishing'},{'code':'other','detail':'  '},{'code':'accidental'}],"
         "'layer':'outage','severity':{'continuity':3,'safety':0,'trust':null,'overall':1},"
         "'sectors':['gas','ict','gas'],'service':'  ','title':'  Breach ',"
         "'description':'line 1\\nline 2\\ttab','occurred_at':'2026-05-12T18:30:00+09:00',"
         "'detected_at':'2026-05-12T10:00:00Z','recovered_at':null,'basis':'law',"
         "'regime':'eu_nis2','status':'monitoring','followup':'isolated',"
         "'contact':{'name':'Sato','email':'sato@example.jp','phone':'+81 3 1234 5678'},"
         "'share_with_hub':true,'observables':[{'type':'asn','value':'as64500'}]}",
         "{'kind':'near_miss','event_type':'intrusion','causes':[{'code':'intentional',"
         "'detail':'phishing'},{'code':'other','detail':null},{'code':'accidental',"
         "'detail':null}],'layer':'outage','severity':{'continuity':3,'safety':0,'trust':null},"
         "'sectors':['gas','ict'],'service':null,'title':'  Breach ',"
         "'description':'line 1\\nline 2\\ttab','occurred_at':'2026-05-12T18:30:00+09:00',"
         "'detected_at':'2026-05-12T10:00:00Z','recovered_at':null,'basis':'law',"
         "'regime':'eu_nis2','status':'monitoring','followup':'isolated',"
         "'contact':{'name':'Sato','email':'sato@example.jp','phone':'+81 3 1234 5678'},"
         "'share_with_hub':true,'observables':[{'type':'asn','value':'AS64500',"
         "'role':'other'}],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER','purpose':null,'handling':null,"
         "'preapproved':false}"},
        /* contact parts blank or absent are null; severity null is "not assessed" */
        {"{" REP_OK ",'contact':{'name':' ','email':''},'severity':null,'causes':null}",
         "{'event_type':'malware','kind':'incident','causes':[],'layer':null,"
         "'severity':{'continuity':null,'safety':null,'trust':null},'sectors':['ict'],"
         "'service':null,'title':'T','description':null,'occurred_at':null,"
         "'detected_at':null,'recovered_at':null,'basis':null,'regime':null,'status':'open',"
         "'followup':null,'contact':{'name':null,'email':null,'phone':null},"
         "'share_with_hub':false,'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER','purpose':null,'handling':null,"
         "'preapproved':false}"},
    };
    run_good(MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));

    /* Every output holds exactly the content fields, so diffs and storage see them all. */
    struct model_report_ctx ctx = ctx_now();
    json_t *in = unit_jsonq("{" REP_OK "}"), *out = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_report_check(in, MODEL_CREATE, &ctx, &out, &e), 0);
    size_t nf = 0;
    for (const char *const *f = model_report_fields; *f; f++, nf++)
        if (json_object_get(out, *f) == NULL) {
            print_error("field %s missing from a first report\n", *f);
            fail();
        }
    assert_int_equal(json_object_size(out), nf);
    assert_int_equal(nf, 24); /* issue 3's 19; issue 4's audience, tlp, purpose, handling, preapproved */
    /* the input is not modified */
    assert_jsonq_eq(in, "{" REP_OK "}");
    json_decref(out);
    json_decref(in);
}

static void test_report_create_errors(void **state)
{
    (void)state;
    static const struct unit_bad_case cases[] = {
        {"[]", ""},
        {"'report'", ""},
        {"null", ""},
        {"{}", "event_type,sectors,title"},
        /* unknown fields, including metadata a client might echo back */
        {"{" REP_OK ",'colour':'blue'}", "colour"},
        {"{" REP_OK ",'id':'x','stage':'first','draft':true}", "id,stage,draft"},
        /* event_type */
        {"{'event_type':'virus','title':'T','sectors':['ict']}", "event_type"},
        {"{'event_type':'Malware','title':'T','sectors':['ict']}", "event_type"},
        {"{'event_type':5,'title':'T','sectors':['ict']}", "event_type"},
        {"{'event_type':null,'title':'T','sectors':['ict']}", "event_type"},
        /* kind */
        {"{" REP_OK ",'kind':'accident'}", "kind"},
        {"{" REP_OK ",'kind':1}", "kind"},
        /* causes */
        {"{" REP_OK ",'causes':'intentional'}", "causes"},
        {"{" REP_OK ",'causes':{}}", "causes"},
        {"{" REP_OK ",'causes':[5]}", "causes[0]"},
        {"{" REP_OK ",'causes':[{}]}", "causes[0].code"},
        {"{" REP_OK ",'causes':[{'code':'sabotage'}]}", "causes[0].code"},
        {"{" REP_OK ",'causes':[{'code':'intentional'},{'code':'Other'}]}", "causes[1].code"},
        {"{" REP_OK ",'causes':[{'code':'other','detail':7}]}", "causes[0].detail"},
        {"{" REP_OK ",'causes':[{'code':'other','detail':'a\\u0001b'}]}", "causes[0].detail"},
        {"{" REP_OK ",'causes':[{'code':'other','why':'x'}]}", "causes[0].why"},
        {"{" REP_OK ",'causes':[{'code':'x','why':'x'}]}", "causes[0].why,causes[0].code"},
        {"{" REP_OK ",'causes':[{'code':'other'},{'code':'other'},{'code':'other'},"
         "{'code':'other'},{'code':'other'},{'code':'other'},{'code':'other'},"
         "{'code':'other'},{'code':'other'}]}",
         "causes"},
        /* layer */
        {"{" REP_OK ",'layer':'network'}", "layer"},
        {"{" REP_OK ",'layer':2}", "layer"},
        /* severity */
        {"{" REP_OK ",'severity':3}", "severity"},
        {"{" REP_OK ",'severity':'high'}", "severity"},
        {"{" REP_OK ",'severity':[1,2,3]}", "severity"},
        {"{" REP_OK ",'severity':{'continuity':5}}", "severity.continuity"},
        {"{" REP_OK ",'severity':{'safety':-1}}", "severity.safety"},
        {"{" REP_OK ",'severity':{'trust':'2'}}", "severity.trust"},
        {"{" REP_OK ",'severity':{'trust':1.5}}", "severity.trust"},
        {"{" REP_OK ",'severity':{'trust':true}}", "severity.trust"},
        {"{" REP_OK ",'severity':{'impact':1}}", "severity.impact"},
        {"{" REP_OK ",'severity':{'impact':1,'continuity':9,'safety':9,'trust':9}}",
         "severity.impact,severity.continuity,severity.safety,severity.trust"},
        /* sectors */
        {"{'event_type':'malware','title':'T'}", "sectors"},
        {"{'event_type':'malware','title':'T','sectors':'ict'}", "sectors"},
        {"{'event_type':'malware','title':'T','sectors':[]}", "sectors"},
        {"{'event_type':'malware','title':'T','sectors':null}", "sectors"},
        {"{'event_type':'malware','title':'T','sectors':['railway']}", "sectors[0]"},
        {"{'event_type':'malware','title':'T','sectors':['ict',5]}", "sectors[1]"},
        {"{'event_type':'malware','title':'T','sectors':['ICT','gas','x']}",
         "sectors[0],sectors[2]"},
        /* service */
        {"{" REP_OK ",'service':5}", "service"},
        {"{" REP_OK ",'service':'a\\nb'}", "service"},
        /* title */
        {"{'event_type':'malware','sectors':['ict']}", "title"},
        {"{'event_type':'malware','sectors':['ict'],'title':''}", "title"},
        {"{'event_type':'malware','sectors':['ict'],'title':'   '}", "title"},
        {"{'event_type':'malware','sectors':['ict'],'title':null}", "title"},
        {"{'event_type':'malware','sectors':['ict'],'title':5}", "title"},
        {"{'event_type':'malware','sectors':['ict'],'title':'a\\nb'}", "title"},
        {"{'event_type':'malware','sectors':['ict'],'title':'a\\u0000b'}", "title"},
        /* description */
        {"{" REP_OK ",'description':5}", "description"},
        {"{" REP_OK ",'description':'a\\u0007b'}", "description"},
        /* times: RFC 3339 with an offset, a real date, not in the future (+5 min) */
        {"{" REP_OK ",'occurred_at':'2026-05-12T18:30:00'}", "occurred_at"},
        {"{" REP_OK ",'occurred_at':'2026-05-12'}", "occurred_at"},
        {"{" REP_OK ",'occurred_at':'2026-02-29T00:00:00Z'}", "occurred_at"},
        {"{" REP_OK ",'occurred_at':1778578200}", "occurred_at"},
        {"{" REP_OK ",'detected_at':'yesterday'}", "detected_at"},
        {"{" REP_OK ",'detected_at':'2026-06-01T00:05:01Z'}", "detected_at"},
        {"{" REP_OK ",'recovered_at':'2026-06-01T09:05:01+09:00'}", "recovered_at"},
        {"{" REP_OK ",'recovered_at':'2027-01-01T00:00:00Z'}", "recovered_at"},
        /* basis, regime, status */
        {"{" REP_OK ",'basis':'legal'}", "basis"},
        {"{" REP_OK ",'basis':true}", "basis"},
        {"{" REP_OK ",'regime':'gdpr'}", "regime"},
        {"{" REP_OK ",'regime':5}", "regime"},
        {"{" REP_OK ",'regime':'JP_ELECTRICITY'}", "regime"},
        {"{" REP_OK ",'status':'done'}", "status"},
        {"{" REP_OK ",'status':0}", "status"},
        /* followup */
        {"{" REP_OK ",'followup':5}", "followup"},
        {"{" REP_OK ",'followup':'a\\u001bb'}", "followup"},
        /* contact */
        {"{" REP_OK ",'contact':'sato@example.jp'}", "contact"},
        {"{" REP_OK ",'contact':[]}", "contact"},
        {"{" REP_OK ",'contact':{'name':5}}", "contact.name"},
        {"{" REP_OK ",'contact':{'email':'nope'}}", "contact.email"},
        {"{" REP_OK ",'contact':{'email':'a@b'}}", "contact.email"},
        {"{" REP_OK ",'contact':{'phone':'a\\u0001'}}", "contact.phone"},
        {"{" REP_OK ",'contact':{'phone':'01234567890123456789012345678901234567890'}}",
         "contact.phone"},
        {"{" REP_OK ",'contact':{'fax':'1'}}", "contact.fax"},
        /* share_with_hub */
        {"{" REP_OK ",'share_with_hub':'yes'}", "share_with_hub"},
        {"{" REP_OK ",'share_with_hub':1}", "share_with_hub"},
        {"{" REP_OK ",'share_with_hub':null}", "share_with_hub"},
        /* many faults at once: all reported, unknown fields first, then in field order */
        {"{'zzz':1,'title':'','sectors':['nope'],'event_type':'x','kind':'y','layer':'z',"
         "'severity':{'trust':7},'service':1,'description':2,'occurred_at':'x',"
         "'detected_at':'y','recovered_at':'z','basis':'b','regime':'r','status':'s',"
         "'followup':3,'contact':{'email':'e'},'share_with_hub':'no',"
         "'observables':[{'type':'ipv4','value':'v'}],'causes':[{'code':'c'}]}",
         "zzz,event_type,kind,causes[0].code,layer,severity.trust,sectors[0],service,title,"
         "description,occurred_at,detected_at,recovered_at,basis,regime,status,followup,"
         "contact.email,share_with_hub,observables[0].value"},
    };
    run_bad(MODEL_CREATE, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_report_limits(void **state)
{
    (void)state;
    struct model_report_ctx ctx = ctx_now();
    static const struct {
        const char *field, *unit;
        size_t max;
    } lim[] = {
        {"title", "題", LIMIT_REPORT_TITLE},       /* characters, not bytes */
        {"service", "s", LIMIT_NAME_CHARS},
        {"description", "説", LIMIT_REPORT_DESCRIPTION},
        {"followup", "f", LIMIT_REPORT_DETAIL},
    };
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
        for (int extra = 0; extra <= 1; extra++) {
            char *v = unit_repeat(lim[i].unit, lim[i].max + (size_t)extra);
            json_t *in = unit_jsonq("{" REP_OK "}"), *out = NULL;
            json_object_set_new(in, lim[i].field, json_string(v));
            struct err e;
            err_init(&e);
            int rc = model_report_check(in, MODEL_CREATE, &ctx, &out, &e);
            if (rc != (extra ? ERR_INVALID : 0))
                print_error("%s of %zu+%d: rc %d\n", lim[i].field, lim[i].max, extra, rc);
            assert_int_equal(rc, extra ? ERR_INVALID : 0);
            if (extra) {
                assert_int_equal(e.nfields, 1);
                assert_string_equal(e.fields[0].field, lim[i].field);
            } else {
                assert_str(unit_jstr(out, lim[i].field), v);
            }
            json_decref(out);
            json_decref(in);
            free(v);
        }
    /* A cause detail of LIMIT_REPORT_DETAIL characters; one more fails. */
    for (int extra = 0; extra <= 1; extra++) {
        char *v = unit_repeat("d", LIMIT_REPORT_DETAIL + (size_t)extra);
        json_t *in = unit_jsonq("{" REP_OK "}"), *out = NULL;
        json_object_set_new(in, "causes",
                            json_pack("[{s:s,s:s}]", "code", "accidental", "detail", v));
        struct err e;
        err_init(&e);
        assert_int_equal(model_report_check(in, MODEL_CREATE, &ctx, &out, &e),
                         extra ? ERR_INVALID : 0);
        if (extra)
            assert_string_equal(e.fields[0].field, "causes[0].detail");
        json_decref(out);
        json_decref(in);
        free(v);
    }
    /* Exactly LIMIT_REPORT_CAUSES causes are fine; the time limit is now + 300 s. */
    json_t *in = unit_jsonq("{" REP_OK ",'causes':[{'code':'other'},{'code':'other'},"
                            "{'code':'other'},{'code':'other'},{'code':'other'},"
                            "{'code':'other'},{'code':'other'},{'code':'other'}],"
                            "'detected_at':'2026-06-01T00:05:00Z',"
                            "'recovered_at':'2026-06-01T09:05:00+09:00'}"),
           *out = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_report_check(in, MODEL_CREATE, &ctx, &out, &e), 0);
    assert_int_equal(json_array_size(json_object_get(out, "causes")), LIMIT_REPORT_CAUSES);
    json_decref(out);
    json_decref(in);

    /* Many faults: reported up to LIMIT_ERR_FIELDS, then marked truncated. */
    json_t *obs = json_array();
    for (int i = 0; i < LIMIT_ERR_FIELDS + 5; i++)
        json_array_append_new(obs, json_pack("{s:s,s:s}", "type", "ipv4", "value", "x"));
    in = json_pack("{s:o}", "observables", obs);
    out = NULL;
    err_init(&e);
    assert_int_equal(model_report_check(in, MODEL_PATCH, &ctx, &out, &e), ERR_INVALID);
    assert_null(out);
    assert_int_equal(e.nfields, LIMIT_ERR_FIELDS);
    assert_true(e.fields_truncated);
    json_decref(in);
}

/* ---- content: revisions ---- */

static void test_report_patch(void **state)
{
    (void)state;
    static const struct unit_good_case good[] = {
        /* a revision changes only what it names; null clears */
        {"{}", "{}"},
        {"{'title':'New title'}", "{'title':'New title'}"},
        {"{'description':null,'service':null,'followup':null}",
         "{'description':null,'service':null,'followup':null}"},
        {"{'description':'  '}", "{'description':null}"},
        {"{'causes':null}", "{'causes':[]}"},
        {"{'causes':[]}", "{'causes':[]}"},
        {"{'contact':null}", "{'contact':null}"},
        {"{'regime':null,'basis':null,'layer':null}", "{'regime':null,'basis':null,'layer':null}"},
        {"{'occurred_at':null}", "{'occurred_at':null}"},
        {"{'kind':'near_miss'}", "{'kind':'near_miss'}"},
        {"{'share_with_hub':true}", "{'share_with_hub':true}"},
        {"{'status':'closed','followup':'done'}", "{'status':'closed','followup':'done'}"},
        {"{'sectors':['gas','gas']}", "{'sectors':['gas']}"},
        {"{'event_type':'availability'}", "{'event_type':'availability'}"},
        /* one severity viewpoint: the others are left alone, overall is derived later */
        {"{'severity':{'safety':2}}", "{'severity':{'safety':2}}"},
        {"{'severity':{'trust':null}}", "{'severity':{'trust':null}}"},
        {"{'severity':{'overall':4}}", "{'severity':{}}"},
    };
    run_good(MODEL_PATCH, good, sizeof(good) / sizeof(good[0]));

    static const struct unit_bad_case bad[] = {
        {"[]", ""},
        {"{'stage':'final'}", "stage"},
        {"{'title':null}", "title"},
        {"{'title':''}", "title"},
        {"{'kind':null}", "kind"},
        {"{'sectors':null}", "sectors"},
        {"{'sectors':[]}", "sectors"},
        {"{'share_with_hub':null}", "share_with_hub"},
        {"{'event_type':'x'}", "event_type"},
        {"{'severity':{'safety':5}}", "severity.safety"},
        {"{'severity':'high'}", "severity"},
        {"{'detected_at':'2026-06-02T00:00:00Z'}", "detected_at"},
        {"{'regime':'gdpr','status':'reopened'}", "regime,status"},
    };
    run_bad(MODEL_PATCH, bad, sizeof(bad) / sizeof(bad[0]));
}

/*
 * NEEDSWORK: event_type and status cannot be null in a report (the store's
 * columns are NOT NULL, and every report has them), but a revision that
 * sets them to null passes the check; the store then fails the write with
 * a storage error (503) instead of a 422 on the field.
 */
static void test_report_patch_required_nulls(void **state)
{
    (void)state;
    static const struct unit_bad_case bad[] = {
        {"{'event_type':null}", "event_type"},
        {"{'status':null}", "status"},
    };
    run_bad(MODEL_PATCH, bad, sizeof(bad) / sizeof(bad[0]));
}

/* check + merge + finish, as a revision does; returns the merged content. */
static json_t *revise(const json_t *cur, const char *patch_text, int want_rc, const char *fields)
{
    struct model_report_ctx ctx = ctx_now();
    json_t *patch = unit_jsonq(patch_text), *changes = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_report_check(patch, MODEL_PATCH, &ctx, &changes, &e), 0);
    json_t *m = model_merge(cur, changes);
    int rc = model_report_finish(m, &e);
    char got[512];
    unit_fields_str(&e, got, sizeof(got));
    if (rc != want_rc || strcmp(got, fields))
        print_error("revise with %s: want rc %d '%s', got rc %d '%s'\n", patch_text, want_rc,
                    fields, rc, got);
    assert_int_equal(rc, want_rc);
    assert_string_equal(got, fields);
    json_decref(changes);
    json_decref(patch);
    return m;
}

static void test_report_severity(void **state)
{
    (void)state;
    static const struct {
        const char *sev;
        int overall; /* -1: null */
    } cases[] = {
        {"null", -1},
        {"{}", -1},
        {"{'continuity':null,'safety':null,'trust':null}", -1},
        {"{'continuity':0}", 0},
        {"{'safety':0,'trust':0,'continuity':0}", 0},
        {"{'continuity':1,'safety':3,'trust':2}", 3},
        {"{'trust':4}", 4},
        {"{'continuity':2,'safety':null,'trust':1}", 2},
        {"{'continuity':1,'overall':4}", 1},  /* a given overall is not believed */
        {"{'overall':0}", -1},
    };
    struct model_report_ctx ctx = ctx_now();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "{" REP_OK ",'severity':%s}", cases[i].sev);
        json_t *in = unit_jsonq(text), *out = NULL;
        struct err e;
        err_init(&e);
        assert_int_equal(model_report_check(in, MODEL_CREATE, &ctx, &out, &e), 0);
        assert_int_equal(model_report_finish(out, &e), 0);
        json_t *sev = json_object_get(out, "severity");
        json_t *ov = json_object_get(sev, "overall");
        bool ok = cases[i].overall < 0 ? json_is_null(ov)
                                       : json_is_integer(ov) &&
                                             json_integer_value(ov) == cases[i].overall;
        if (!ok)
            print_error("severity %s: want overall %d\n", cases[i].sev, cases[i].overall);
        assert_true(ok);
        assert_int_equal(json_object_size(sev), 4);
        json_decref(out);
        json_decref(in);
    }

    /* A revision changing one viewpoint keeps the others and recomputes overall. */
    json_t *cur = unit_jsonq("{" REP_OK ",'severity':{'continuity':1,'safety':null,'trust':2,"
                             "'overall':2}}");
    json_t *m = revise(cur, "{'severity':{'safety':4}}", 0, "");
    assert_jsonq_eq(json_object_get(m, "severity"),
                    "{'continuity':1,'safety':4,'trust':2,'overall':4}");
    json_t *m2 = revise(m, "{'severity':{'safety':null}}", 0, "");
    assert_jsonq_eq(json_object_get(m2, "severity"),
                    "{'continuity':1,'safety':null,'trust':2,'overall':2}");
    json_t *m3 = revise(m2, "{'severity':{'continuity':null,'trust':null}}", 0, "");
    assert_jsonq_eq(json_object_get(m3, "severity"),
                    "{'continuity':null,'safety':null,'trust':null,'overall':null}");
    /* the diff of the first revision names severity only */
    json_t *d = model_report_diff(cur, m);
    assert_jsonq_eq(d, "[{'field':'severity','before':{'continuity':1,'safety':null,'trust':2,"
                       "'overall':2},'after':{'continuity':1,'safety':4,'trust':2,'overall':4}}]");
    json_decref(d);
    json_decref(m3);
    json_decref(m2);
    json_decref(m);
    json_decref(cur);
}

static void test_report_cross_fields(void **state)
{
    (void)state;
    static const struct {
        const char *times;  /* extra fields */
        const char *fields; /* expected errors of finish */
    } cases[] = {
        {"", ""},
        /* 18:30+09:00 is 09:30Z: equal instants are fine, one second before is not */
        {",'occurred_at':'2026-05-12T18:30:00+09:00','detected_at':'2026-05-12T09:30:00Z'", ""},
        {",'occurred_at':'2026-05-12T18:30:00+09:00','detected_at':'2026-05-12T09:29:59Z'",
         "detected_at"},
        {",'occurred_at':'2026-05-12T18:30:00+09:00','detected_at':'2026-05-12T04:29:59-05:00'",
         "detected_at"},
        {",'occurred_at':'2026-05-12T18:30:00+09:00','detected_at':'2026-05-12T18:00:00+09:00',"
         "'recovered_at':'2026-05-12T19:00:00+09:00'",
         "detected_at"},
        {",'occurred_at':'2026-05-12T18:30:00+09:00','recovered_at':'2026-05-12T18:29:00+09:00'",
         "recovered_at"},
        {",'occurred_at':'2026-05-12T18:30:00+09:00','detected_at':'2026-05-11T00:00:00Z',"
         "'recovered_at':'2026-05-11T00:00:00Z'",
         "detected_at,recovered_at"},
        /* without occurred_at there is nothing to compare with */
        {",'detected_at':'2026-05-12T10:00:00Z','recovered_at':'2026-05-01T00:00:00Z'", ""},
        /* recovered before detected is not a rule of its own */
        {",'occurred_at':'2026-05-12T00:00:00Z','detected_at':'2026-05-12T10:00:00Z',"
         "'recovered_at':'2026-05-12T05:00:00Z'",
         ""},
        /* fractions are dropped: the same second */
        {",'occurred_at':'2026-05-12T00:00:00.9Z','detected_at':'2026-05-12T00:00:00.1Z'", ""},
    };
    struct model_report_ctx ctx = ctx_now();
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "{" REP_OK "%s}", cases[i].times);
        json_t *in = unit_jsonq(text), *out = NULL;
        struct err e;
        err_init(&e);
        assert_int_equal(model_report_check(in, MODEL_CREATE, &ctx, &out, &e), 0);
        int rc = model_report_finish(out, &e);
        char got[256];
        unit_fields_str(&e, got, sizeof(got));
        if (rc != (*cases[i].fields ? ERR_INVALID : 0) || strcmp(got, cases[i].fields)) {
            print_error("case %zu %s: want '%s', got rc %d '%s'\n", i, cases[i].times,
                        cases[i].fields, rc, got);
            bad++;
        }
        json_decref(out);
        json_decref(in);
    }
    assert_int_equal(bad, 0);

    /* After a revision, the rule is checked on the merged content. */
    json_t *cur = unit_jsonq("{" REP_OK ",'occurred_at':'2026-05-12T00:00:00Z',"
                             "'detected_at':'2026-05-12T01:00:00Z','severity':{}}");
    json_t *m = revise(cur, "{'occurred_at':'2026-05-12T02:00:00Z'}", ERR_INVALID, "detected_at");
    json_decref(m);
    m = revise(cur, "{'occurred_at':null}", 0, "");
    json_decref(m);
    m = revise(cur, "{'detected_at':'2026-05-11T23:59:59Z'}", ERR_INVALID, "detected_at");
    json_decref(m);
    json_decref(cur);
}

/* ---- diff ---- */

static void test_report_diff(void **state)
{
    (void)state;
    /* First revision: from nothing, every non-null field, in display order. */
    struct model_report_ctx ctx = ctx_now();
    json_t *in = unit_jsonq("{'title':'T','sectors':['ict'],'event_type':'malware',"
                            "'contact':{'name':'Sato'}}"),
           *c = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_report_check(in, MODEL_CREATE, &ctx, &c, &e), 0);
    assert_int_equal(model_report_finish(c, &e), 0);
    json_t *d = model_report_diff(json_null(), c);
    assert_jsonq_eq(d,
                    "[{'field':'kind','before':null,'after':'incident'},"
                    "{'field':'event_type','before':null,'after':'malware'},"
                    "{'field':'causes','before':null,'after':[]},"
                    "{'field':'severity','before':null,'after':{'continuity':null,"
                    "'safety':null,'trust':null,'overall':null}},"
                    "{'field':'sectors','before':null,'after':['ict']},"
                    "{'field':'title','before':null,'after':'T'},"
                    "{'field':'status','before':null,'after':'open'},"
                    "{'field':'contact','before':null,'after':{'name':'Sato','email':null,"
                    "'phone':null}},"
                    "{'field':'share_with_hub','before':null,'after':false},"
                    "{'field':'observables','before':null,'after':[]},"
                    "{'field':'audience','before':null,'after':{'orgs':[],'sectors':[],"
                    "'tiers':[],'all_members':false}},"
                    "{'field':'tlp','before':null,'after':'AMBER'},"
                    "{'field':'preapproved','before':null,'after':false}]");
    json_decref(d);
    json_decref(in);

    /* Equal content: nothing; absent and null are the same; other keys are ignored. */
    d = model_report_diff(c, c);
    assert_jsonq_eq(d, "[]");
    json_decref(d);
    json_t *c2 = json_deep_copy(c);
    json_object_del(c2, "layer");
    json_object_set_new(c2, "id", json_string("x"));
    json_object_set_new(c2, "revision", json_integer(7));
    d = model_report_diff(c, c2);
    assert_jsonq_eq(d, "[]");
    json_decref(d);

    /* Changes: in display order, with before and after; order inside arrays matters. */
    json_object_set_new(c2, "sectors", unit_jsonq("['gas','ict']"));
    json_object_set_new(c2, "title", json_string("T2"));
    json_object_set_new(c2, "kind", json_string("near_miss"));
    json_object_set_new(c2, "recovered_at", json_string("2026-05-12T00:00:00Z"));
    json_object_set_new(c2, "contact", json_null());
    d = model_report_diff(c, c2);
    assert_jsonq_eq(d, "[{'field':'kind','before':'incident','after':'near_miss'},"
                       "{'field':'sectors','before':['ict'],'after':['gas','ict']},"
                       "{'field':'title','before':'T','after':'T2'},"
                       "{'field':'recovered_at','before':null,'after':'2026-05-12T00:00:00Z'},"
                       "{'field':'contact','before':{'name':'Sato','email':null,'phone':null},"
                       "'after':null}]");
    /* the result does not share what it reports with the inputs */
    json_object_set_new(json_array_get(d, 0), "before", json_string("changed"));
    assert_str(unit_jstr(c, "kind"), "incident");
    json_decref(d);
    json_t *s1 = unit_jsonq("['ict','gas']"), *s2 = unit_jsonq("['gas','ict']");
    json_object_set(c, "sectors", s1);
    json_object_set(c2, "sectors", s2);
    d = model_report_diff(c, c2);
    assert_str(unit_jstr(json_array_get(d, 0), "field"), "kind");
    assert_str(unit_jstr(json_array_get(d, 1), "field"), "sectors");
    json_decref(d);
    json_decref(s1);
    json_decref(s2);
    json_decref(c2);
    json_decref(c);
}

/* ---- vocabularies ---- */

static void test_vocabularies(void **state)
{
    (void)state;
    static const struct {
        bool (*fn)(const char *);
        const char *yes[8];
        const char *no[4];
    } v[] = {
        {model_event_type_valid,
         {"near_miss", "confidentiality", "integrity", "availability", "malware",
          "code_execution", "intrusion", "other"},
         {"virus", "Malware", "", NULL}},
        {model_cause_valid, {"intentional", "accidental", "environmental", "other"},
         {"sabotage", "Other", "", NULL}},
        {model_layer_valid, {"near_miss", "malfunction", "outage"}, {"network", "", NULL}},
        {model_basis_valid, {"law", "serious", "voluntary"}, {"legal", "Law", "", NULL}},
        {model_status_valid, {"open", "monitoring", "closed"}, {"done", "reopened", "", NULL}},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        for (size_t j = 0; j < 8 && v[i].yes[j]; j++)
            assert_true(v[i].fn(v[i].yes[j]));
        for (size_t j = 0; j < 3 && v[i].no[j]; j++)
            assert_false(v[i].fn(v[i].no[j]));
        assert_false(v[i].fn(NULL));
    }
}

/* ---- preapproved (issue 4) ---- */

static void test_report_preapproved(void **state)
{
    (void)state;
    static const struct unit_good_case create[] = {
        {"{" REP_OK ",'preapproved':true}",
         "{'event_type':'malware','kind':'incident','causes':[],'layer':null,"
         "'severity':{'continuity':null,'safety':null,'trust':null},'sectors':['ict'],"
         "'service':null,'title':'T','description':null,'occurred_at':null,"
         "'detected_at':null,'recovered_at':null,'basis':null,'regime':null,'status':'open',"
         "'followup':null,'contact':null,'share_with_hub':false,'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER',"
         "'purpose':null,'handling':null,'preapproved':true}"},
        {"{" REP_OK ",'preapproved':false}",
         "{'event_type':'malware','kind':'incident','causes':[],'layer':null,"
         "'severity':{'continuity':null,'safety':null,'trust':null},'sectors':['ict'],"
         "'service':null,'title':'T','description':null,'occurred_at':null,"
         "'detected_at':null,'recovered_at':null,'basis':null,'regime':null,'status':'open',"
         "'followup':null,'contact':null,'share_with_hub':false,'observables':[],"
         "'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},'tlp':'AMBER',"
         "'purpose':null,'handling':null,'preapproved':false}"},
    };
    run_good(MODEL_CREATE, create, sizeof(create) / sizeof(create[0]));
    static const struct unit_bad_case create_bad[] = {
        {"{" REP_OK ",'preapproved':'yes'}", "preapproved"},
        {"{" REP_OK ",'preapproved':1}", "preapproved"},
        {"{" REP_OK ",'preapproved':null}", "preapproved"},
        {"{" REP_OK ",'preapproved':{}}", "preapproved"},
        /* in field order, after observables, before the audience */
        {"{" REP_OK ",'preapproved':0,'share_with_hub':0,'audience':{'x':1}}",
         "share_with_hub,preapproved,audience.x"},
    };
    run_bad(MODEL_CREATE, create_bad, sizeof(create_bad) / sizeof(create_bad[0]));
    /* a revision may change it either way, and it shows in the diff */
    static const struct unit_good_case patch[] = {
        {"{'preapproved':true}", "{'preapproved':true}"},
        {"{'preapproved':false,'title':'U'}", "{'title':'U','preapproved':false}"},
    };
    run_good(MODEL_PATCH, patch, sizeof(patch) / sizeof(patch[0]));
    static const struct unit_bad_case patch_bad[] = {
        {"{'preapproved':null}", "preapproved"},
        {"{'preapproved':'false'}", "preapproved"},
    };
    run_bad(MODEL_PATCH, patch_bad, sizeof(patch_bad) / sizeof(patch_bad[0]));
    json_t *a = unit_jsonq("{'title':'T','preapproved':false}");
    json_t *b = unit_jsonq("{'title':'T','preapproved':true}");
    json_t *d = model_report_diff(a, b);
    assert_jsonq_eq(d, "[{'field':'preapproved','before':false,'after':true}]");
    json_decref(d);
    json_decref(b);
    json_decref(a);
}

/* ---- release audiences and TLP (issue 4) ---- */

#define ORG_A "01900000-0000-7000-8000-00000000000a"
#define ORG_B "01900000-0000-7000-8000-00000000000b"

static void test_audience_check(void **state)
{
    (void)state;
    struct model_report_ctx ctx = ctx_now();
    static const struct {
        const char *in, *out;
    } good[] = {
        /* absent parts are empty: {} is the coordinator (and the provider) only */
        {"{}", "{'hub':false,'orgs':[],'sectors':[],'tiers':[],'all_members':false}"},
        {"{'hub':true}", "{'hub':true,'orgs':[],'sectors':[],'tiers':[],'all_members':false}"},
        {"{'all_members':true,'hub':false}",
         "{'hub':false,'orgs':[],'sectors':[],'tiers':[],'all_members':true}"},
        /* named organisations and sectors once each, in the order given */
        {"{'orgs':['" ORG_B "','" ORG_A "','" ORG_B "'],'sectors':['gas','ict','gas'],"
         "'tiers':['class2'],'all_members':false,'hub':false}",
         "{'hub':false,'orgs':['" ORG_B "','" ORG_A "'],'sectors':['gas','ict'],"
         "'tiers':['class2'],'all_members':false}"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        json_t *in = unit_jsonq(good[i].in), *copy = json_deep_copy(in), *out = NULL;
        struct err e;
        err_init(&e);
        int rc = model_audience_check(in, &ctx, &out, &e);
        json_t *want = unit_jsonq(good[i].out);
        if (rc != 0 || !json_equal(out, want) || !json_equal(in, copy)) {
            char *g = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            print_error("audience %zu %s: rc %d (%s) got %s\n", i, good[i].in, rc,
                        e.nfields ? e.fields[0].field : e.detail, g ? g : "(null)");
            free(g);
            bad++;
        }
        json_decref(want);
        json_decref(out);
        json_decref(copy);
        json_decref(in);
    }
    static const struct unit_bad_case badc[] = {
        {"'everyone'", "audience"},
        {"[]", "audience"},
        {"5", "audience"},
        {"{'hub':'yes'}", "audience.hub"},
        {"{'hub':1}", "audience.hub"},
        {"{'colour':'red'}", "audience.colour"},
        {"{'orgs':'" ORG_A "'}", "audience.orgs"},
        {"{'orgs':['" ORG_A "','not-a-uuid',7]}", "audience.orgs[1],audience.orgs[2]"},
        {"{'sectors':'gas'}", "audience.sectors"},
        {"{'sectors':['gas','railway']}", "audience.sectors[1]"},
        {"{'tiers':'class1'}", "audience.tiers"},
        {"{'tiers':['class1','class9']}", "audience.tiers[1]"},
        {"{'all_members':'true'}", "audience.all_members"},
        /* everything at once: unknown keys first, then in the order of the shape */
        {"{'zz':1,'all_members':0,'tiers':['x'],'sectors':['y'],'orgs':['z'],'hub':null}",
         "audience.zz,audience.hub,audience.orgs[0],audience.sectors[0],audience.tiers[0],"
         "audience.all_members"},
    };
    for (size_t i = 0; i < sizeof(badc) / sizeof(badc[0]); i++) {
        json_t *in = unit_jsonq(badc[i].in), *out = NULL;
        struct err e;
        err_init(&e);
        int rc = model_audience_check(in, &ctx, &out, &e);
        char got[512];
        unit_fields_str(&e, got, sizeof(got));
        if (rc != ERR_INVALID || e.code != ERR_INVALID || out != NULL ||
            strcmp(got, badc[i].fields)) {
            print_error("audience %zu %s: want '%s', got rc %d '%s'%s\n", i, badc[i].in,
                        badc[i].fields, rc, got, out ? " and an output" : "");
            bad++;
        }
        json_decref(out);
        json_decref(in);
    }
    assert_int_equal(bad, 0);
    /* too many named organisations */
    json_t *orgs = json_array();
    for (int i = 0; i <= LIMIT_AUDIENCE_ORGS; i++) {
        char id[UTIL_UUID_LEN + 1];
        snprintf(id, sizeof(id), "01900000-0000-7000-8000-%012d", i);
        json_array_append_new(orgs, json_string(id));
    }
    json_t *in = json_pack("{s:o}", "orgs", orgs), *out = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(model_audience_check(in, &ctx, &out, &e), ERR_INVALID);
    assert_null(out);
    char got[64];
    unit_fields_str(&e, got, sizeof(got));
    assert_string_equal(got, "audience.orgs");
    json_array_remove(orgs, 0);
    err_init(&e);
    assert_int_equal(model_audience_check(in, &ctx, &out, &e), 0);
    assert_int_equal(json_array_size(json_object_get(out, "orgs")), LIMIT_AUDIENCE_ORGS);
    json_decref(out);
    json_decref(in);
}

static void test_audience_widens(void **state)
{
    (void)state;
    static const struct {
        const char *narrow, *wide;
        const char *want; /* NULL: within */
    } cases[] = {
        {"{}", "{}", NULL},
        {"{'hub':false,'orgs':[],'sectors':[],'tiers':[],'all_members':false}", "{}", NULL},
        /* everyone allowed: anything goes */
        {"{'hub':true,'orgs':['" ORG_A "'],'sectors':['gas'],'tiers':['class1'],"
         "'all_members':true}",
         "{'all_members':true}", NULL},
        {"{'all_members':true}", "{'hub':true,'sectors':['gas']}", "audience.all_members"},
        {"{'hub':true}", "{'hub':false}", "audience.hub"},
        {"{'hub':true}", "{}", "audience.hub"},
        {"{'hub':true}", "{'hub':true}", NULL},
        {"{'hub':false}", "{'hub':true}", NULL},
        /* lists: each item must be allowed; the first that is not is named */
        {"{'orgs':['" ORG_B "']}", "{'orgs':['" ORG_A "','" ORG_B "']}", NULL},
        {"{'orgs':['" ORG_A "','" ORG_B "']}", "{'orgs':['" ORG_B "']}", "audience.orgs[0]"},
        {"{'sectors':['gas','ict']}", "{'sectors':['gas']}", "audience.sectors[1]"},
        {"{'sectors':['gas']}", "{'sectors':['ict','gas']}", NULL},
        {"{'tiers':['class1','class2']}", "{'tiers':['class1']}", "audience.tiers[1]"},
        {"{'tiers':[]}", "{'tiers':['class1']}", NULL},
        /* conservative: a named organisation inside an allowed sector still widens */
        {"{'orgs':['" ORG_A "']}", "{'sectors':['gas'],'hub':true}", "audience.orgs[0]"},
        /* the order of the checks: all members, hub, orgs, sectors, tiers */
        {"{'all_members':true,'hub':true}", "{}", "audience.all_members"},
        {"{'hub':true,'orgs':['" ORG_A "']}", "{}", "audience.hub"},
        {"{'tiers':['class1'],'orgs':['" ORG_A "']}", "{}", "audience.orgs[0]"},
        {"{'tiers':['class1'],'sectors':['gas']}", "{}", "audience.sectors[0]"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *n = unit_jsonq(cases[i].narrow), *w = unit_jsonq(cases[i].wide);
        char buf[64] = "";
        const char *got = model_audience_widens(n, w, buf, sizeof(buf));
        if ((got == NULL) != (cases[i].want == NULL) ||
            (got && strcmp(got, cases[i].want))) {
            print_error("widens %zu: %s within %s: want %s, got %s\n", i, cases[i].narrow,
                        cases[i].wide, cases[i].want ? cases[i].want : "NULL",
                        got ? got : "NULL");
            bad++;
        }
        json_decref(w);
        json_decref(n);
    }
    assert_int_equal(bad, 0);
    /* NULL audiences are empty ones */
    char buf[64];
    assert_null(model_audience_widens(NULL, NULL, buf, sizeof(buf)));
    json_t *wide = unit_jsonq("{'orgs':['" ORG_A "']}");
    assert_null(model_audience_widens(NULL, wide, buf, sizeof(buf)));
    const char *f = model_audience_widens(wide, NULL, buf, sizeof(buf));
    assert_non_null(f);
    assert_string_equal(f, "audience.orgs[0]");
    json_decref(wide);
}

static void test_tlp_helpers(void **state)
{
    (void)state;
    static const struct {
        const char *label;
        int rank;
    } ranks[] = {
        {"CLEAR", 0}, {"GREEN", 1}, {"AMBER", 2}, {"AMBER+STRICT", 3}, {"RED", 4},
        {"amber", -1}, {"TLP:RED", -1}, {"WHITE", -1}, {"", -1}, {"AMBER ", -1}, {NULL, -1},
    };
    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
        if (model_tlp_rank(ranks[i].label) != ranks[i].rank)
            print_error("rank of %s: want %d\n", ranks[i].label ? ranks[i].label : "NULL",
                        ranks[i].rank);
        assert_int_equal(model_tlp_rank(ranks[i].label), ranks[i].rank);
        /* every ranked label is a valid one, and only those */
        assert_int_equal(ranks[i].label && model_tlp_valid(ranks[i].label), ranks[i].rank >= 0);
    }
    static const struct {
        const char *audience;
        bool ok;
    } red[] = {
        {"{}", true},
        {"{'orgs':['" ORG_A "','" ORG_B "']}", true},
        {"{'hub':false,'orgs':['" ORG_A "'],'sectors':[],'tiers':[],'all_members':false}", true},
        {"{'orgs':['" ORG_A "'],'hub':true}", false},
        {"{'orgs':['" ORG_A "'],'sectors':['gas']}", false},
        {"{'tiers':['class1']}", false},
        {"{'all_members':true}", false},
        {"{'all_members':true,'orgs':['" ORG_A "']}", false},
    };
    for (size_t i = 0; i < sizeof(red) / sizeof(red[0]); i++) {
        json_t *a = unit_jsonq(red[i].audience);
        if (model_tlp_red_ok(a) != red[i].ok)
            print_error("red_ok %s: want %d\n", red[i].audience, red[i].ok);
        assert_int_equal(model_tlp_red_ok(a), red[i].ok);
        json_decref(a);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observable_norm),
        cmocka_unit_test(test_observable_url_userinfo),
        cmocka_unit_test(test_report_observables),
        cmocka_unit_test(test_report_create_defaults),
        cmocka_unit_test(test_report_create_errors),
        cmocka_unit_test(test_report_limits),
        cmocka_unit_test(test_report_patch),
        cmocka_unit_test(test_report_patch_required_nulls),
        cmocka_unit_test(test_report_severity),
        cmocka_unit_test(test_report_cross_fields),
        cmocka_unit_test(test_report_diff),
        cmocka_unit_test(test_vocabularies),
        cmocka_unit_test(test_report_preapproved),
        cmocka_unit_test(test_audience_check),
        cmocka_unit_test(test_audience_widens),
        cmocka_unit_test(test_tlp_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
