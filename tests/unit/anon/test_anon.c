/*
 * test_anon.c - unit tests of src/anon through anon.h.
 *
 * The canary report names its provider every way the organisation
 * registered (names in both languages, an alias, hosts, a URL and an
 * e-mail address under its domain, addresses in its ranges, a host name,
 * a person in both orders) plus a phone number and an intranet host; the
 * release must hold none of them, in any field, while the attacker's
 * indicators and an allowed public domain stay. Expected offsets come
 * from strstr() on the fixture, not from the code under test.
 */
#include "../unit.h"

#include <pthread.h>
#include <time.h>

#include <sodium.h>

#include "anon/anon.h"
#include "base/log.h"
#include "base/util.h"

static const unsigned char key_a[ANON_KEY_BYTES] = "release-key-a-0123456789abcdef";
static const unsigned char key_b[ANON_KEY_BYTES] = "release-key-b-0123456789abcdef";

static const char org_text[] =
    "{'kind':'operator','sectors':['electricity'],"
    "'name':{'ja':'東都電力株式会社','en':'Toto Electric Power Co., Inc.'},"
    "'aliases':['東都電力','TotoPower'],"
    "'domains':['toto-power.co.jp'],"
    "'ip_ranges':['198.51.100.0/24','2001:db8:77::/48'],"
    "'hostnames':['scada-gw01'],"
    "'persons':['山田 太郎','Taro Yamada']}";

static const char content_text[] =
    "{'kind':'incident','event_type':'malware','sectors':['electricity'],"
    "'title':'東都電力 scada-gw01 でマルウェア感染 (TotoPower)',"
    "'description':'東都電力株式会社の制御系サーバ scada-gw01 と ops.toto-power.co.jp で不審な通信を検知。"
    "担当の山田太郎 (taro.yamada@toto-power.co.jp、03-1234-5678) が https://portal.toto-power.co.jp/login "
    "を確認した。内部アドレス 198.51.100.23 と 2001:db8:77::5 から攻撃者 203.0.113.66 および "
    "http://evil-c2.example.net/gate.php への通信あり。Toto Electric Power Co., Inc. staff "
    "member YAMADA Taro reported it to jpcert.or.jp; the file server fileserv.corp.local and "
    "SCADA-GW01.toto.internal were isolated. Call +81 90 1234 5678.',"
    "'service':'TotoPower 顧客ポータル',"
    "'followup':'山田　太郎 が scada-gw01 を再構築中',"
    "'causes':[{'code':'intentional','detail':'VPN 装置 vpn01.toto-power.co.jp の脆弱性'}],"
    "'contact':{'name':'山田 太郎','email':'taro.yamada@toto-power.co.jp','phone':'03-1234-5678'},"
    "'observables':["
    "{'type':'ipv4','value':'203.0.113.66','role':'attacker'},"
    "{'type':'domain','value':'evil-c2.example.net','role':'attacker'},"
    "{'type':'ipv4','value':'198.51.100.23','role':'victim'},"
    "{'type':'url','value':'https://portal.toto-power.co.jp/login','role':'other'},"
    "{'type':'sha256','value':'"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855','role':'attacker'}]}";

/* Canaries: none may survive anywhere in a release (compared ignoring ASCII case). */
static const char *const canaries[] = {
    "東都",        "toto",          "scada-gw01",   "198.51.100.23", "2001:db8:77::5",
    "山田",        "太郎",          "yamada",       "taro",          "03-1234-5678",
    "90 1234 5678", "fileserv",      "corp.local",   "portal.",       "vpn01",
};
/* What the release must keep. */
static const char *const stays[] = {"203.0.113.66", "http://evil-c2.example.net/gate.php",
                                    "jpcert.or.jp", "e3b0c44298fc1c149afbf4c8996fb924"};

static json_t *context(int members)
{
    char t[512];
    snprintf(t, sizeof(t),
             "{'k':5,'allow':['jpcert.or.jp'],'sectors':["
             "{'code':'electricity','name':{'ja':'電力','en':'electricity'},'members':%d},"
             "{'code':'gas','name':{'ja':'ガス','en':'gas'},'members':9}]}",
             members);
    return unit_jsonq(t);
}

static struct anon_rules *default_rules(void)
{
    json_t *d = anon_rules_default();
    struct anon_rules *r = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(anon_rules_new(d, &r, &e), 0);
    json_decref(d);
    assert_int_equal(anon_rules_count(r), 6);
    return r;
}

struct proposal {
    json_t *org, *content, *ctx, *release, *redactions;
};

static void propose(struct proposal *p, const struct anon_rules *r, int members,
                    const unsigned char *key)
{
    struct err e;
    err_init(&e);
    p->org = unit_jsonq(org_text);
    p->content = unit_jsonq(content_text);
    p->ctx = context(members);
    int rc = anon_propose(r, p->org, p->content, p->ctx, key, &p->release, &p->redactions, &e);
    if (rc != 0)
        print_error("anon_propose: %d %s %s %s\n", rc, e.detail, e.fields[0].field,
                    e.fields[0].reason);
    assert_int_equal(rc, 0);
    assert_non_null(p->release);
    assert_non_null(p->redactions);
}

static void proposal_release(struct proposal *p)
{
    json_decref(p->org);
    json_decref(p->content);
    json_decref(p->ctx);
    json_decref(p->release);
    json_decref(p->redactions);
}

static char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(s);
    return s;
}

/* The redaction of field whose original is text (first one), or NULL. */
static const json_t *redaction_of(const json_t *list, const char *field, const char *text)
{
    size_t i;
    const json_t *r;
    json_array_foreach(list, i, r) if (!strcmp(unit_jstr(r, "field"), field) &&
                                       !strcmp(unit_jstr(r, "original"), text)) return r;
    return NULL;
}

/* ---- the canary report ---- */

static void test_canaries_gone(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct proposal p;
    propose(&p, r, 5, key_a);
    char *rel = dump(p.release);
    for (size_t i = 0; i < sizeof(canaries) / sizeof(canaries[0]); i++)
        if (strcasestr(rel, canaries[i]) != NULL) {
            print_error("canary '%s' survived in %s\n", canaries[i], rel);
            fail();
        }
    for (size_t i = 0; i < sizeof(stays) / sizeof(stays[0]); i++)
        if (strstr(rel, stays[i]) == NULL) {
            print_error("'%s' was redacted: %s\n", stays[i], rel);
            fail();
        }
    /* Every text field was touched, and names became [org]. */
    assert_non_null(strstr(unit_jstr(p.release, "title"), "[org]"));
    assert_non_null(strstr(unit_jstr(p.release, "service"), "[org] 顧客ポータル"));
    assert_non_null(strstr(unit_jstr(p.release, "followup"), "[person-"));
    const char *cause = unit_jstr(json_array_get(json_object_get(p.release, "causes"), 0), "detail");
    assert_non_null(strstr(cause, "VPN 装置 [host-"));
    assert_true(util_utf8_valid(rel, strlen(rel)));
    free(rel);
    proposal_release(&p);
    anon_rules_free(r);
}

static void test_removals_and_pseudonym(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct proposal p;
    propose(&p, r, 5, key_a);
    assert_null(json_object_get(p.release, "contact"));
    /* Victim address gone, the URL under the org's domain gone, attacker ones kept in order. */
    json_t *obs = json_object_get(p.release, "observables");
    assert_int_equal(json_array_size(obs), 3);
    assert_str(unit_jstr(json_array_get(obs, 0), "value"), "203.0.113.66");
    assert_str(unit_jstr(json_array_get(obs, 1), "value"), "evil-c2.example.net");
    assert_str(unit_jstr(json_array_get(obs, 2), "type"), "sha256");
    const json_t *ob = redaction_of(p.redactions, "observables[3].value",
                                    "https://portal.toto-power.co.jp/login");
    assert_non_null(ob);
    assert_str(unit_jstr(ob, "rule"), "org:domain");
    assert_true(json_is_null(json_object_get(ob, "placeholder")));
    assert_json_eq(json_object_get(p.release, "provider"),
                   "{\"ja\":\"電力分野の事業者\",\"en\":\"an operator in the electricity sector\"}");
    assert_json_eq(json_object_get(p.release, "sectors"), "[\"electricity\"]");
    /* Untouched fields pass through. */
    assert_str(unit_jstr(p.release, "event_type"), "malware");
    proposal_release(&p);

    /* Four members: the sector alone would point at the provider. */
    propose(&p, r, 4, key_a);
    assert_json_eq(json_object_get(p.release, "provider"),
                   "{\"ja\":\"重要インフラ分野の事業者\","
                   "\"en\":\"an operator in a critical-infrastructure sector\"}");
    assert_json_eq(json_object_get(p.release, "sectors"), "[]");
    proposal_release(&p);
    anon_rules_free(r);
}

static void test_pseudonym_kinds(void **state)
{
    (void)state;
    json_t *ctx = context(5), *out = NULL;
    struct err e;
    err_init(&e);
    static const struct {
        const char *kind, *sector, *ja, *en;
    } v[] = {
        {"operator", "gas", "ガス分野の事業者", "an operator in the gas sector"},
        {"operator", "rail", "重要インフラ分野の事業者",
         "an operator in a critical-infrastructure sector"},
        {"operator", NULL, "重要インフラ分野の事業者",
         "an operator in a critical-infrastructure sector"},
        {"sector_hub", "gas", "ガス分野の情報共有団体",
         "an information-sharing body of the gas sector"},
        {"vendor", "electricity", "電力分野のベンダー", "a vendor serving the electricity sector"},
        {"ministry", "gas", "所管省庁", "a government ministry"},
        {"agency", NULL, "政府機関", "a government agency"},
        {"coordinator", NULL, "国の調整機関", "the national coordinator"},
        {"unheard-of", "gas", "会員組織", "a member organisation"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(anon_pseudonym(v[i].kind, v[i].sector, ctx, &out, &e), 0);
        assert_str(unit_jstr(out, "ja"), v[i].ja);
        assert_str(unit_jstr(out, "en"), v[i].en);
        json_decref(out);
    }
    /* k comes from the context: at k = 10 the gas sector (9) is no longer named. */
    json_t *k10 = unit_jsonq("{'k':10,'sectors':[{'code':'gas','name':{'ja':'ガス','en':'gas'},"
                             "'members':9}]}");
    assert_int_equal(anon_pseudonym("operator", "gas", k10, &out, &e), 0);
    assert_str(unit_jstr(out, "en"), "an operator in a critical-infrastructure sector");
    json_decref(out);
    json_decref(k10);
    /* Default k is 5. */
    json_t *nok = unit_jsonq("{'sectors':[{'code':'gas','name':{'ja':'ガス','en':'gas'},"
                             "'members':5}]}");
    assert_int_equal(anon_pseudonym("operator", "gas", nok, &out, &e), 0);
    assert_str(unit_jstr(out, "en"), "an operator in the gas sector");
    json_decref(out);
    json_decref(nok);
    json_t *bad = unit_jsonq("{'k':0,'sectors':[{'code':'gas'}]}");
    assert_int_equal(anon_pseudonym("operator", "gas", bad, &out, &e), ERR_INVALID);
    assert_null(out);
    assert_int_equal(e.nfields, 2);
    assert_str(e.fields[0].field, "context.k");
    assert_str(e.fields[1].field, "context.sectors[0]");
    json_decref(bad);
    json_decref(ctx);
}

static void test_offsets_point_at_originals(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct proposal p;
    propose(&p, r, 5, key_a);
    size_t i;
    const json_t *x;
    assert_true(json_array_size(p.redactions) >= 20);
    json_array_foreach(p.redactions, i, x) {
        const char *field = unit_jstr(x, "field");
        const char *text;
        if (!strncmp(field, "causes[0]", 9))
            text = unit_jstr(json_array_get(json_object_get(p.content, "causes"), 0), "detail");
        else if (!strncmp(field, "observables[3]", 14))
            text = unit_jstr(json_array_get(json_object_get(p.content, "observables"), 3), "value");
        else
            text = unit_jstr(p.content, field);
        assert_non_null(text);
        size_t s = (size_t)json_integer_value(json_object_get(x, "start"));
        size_t e = (size_t)json_integer_value(json_object_get(x, "end"));
        const char *orig = unit_jstr(x, "original");
        assert_true(s < e && e <= strlen(text));
        assert_int_equal(e - s, strlen(orig));
        assert_memory_equal(text + s, orig, e - s);
        assert_true(((unsigned char)text[s] & 0xc0) != 0x80);
        assert_true(text[e] == '\0' || ((unsigned char)text[e] & 0xc0) != 0x80);
        char id[32];
        snprintf(id, sizeof(id), "r%zu", i + 1);
        assert_str(unit_jstr(x, "id"), id);
    }
    /* Known offsets, found independently, with the rule that made each. */
    const char *d = unit_jstr(p.content, "description");
    static const struct {
        const char *text, *rule;
    } want[] = {
        {"東都電力株式会社", "org:name"},
        {"scada-gw01", "org:hostname"},
        {"ops.toto-power.co.jp", "org:domain"},
        {"山田太郎", "org:person"},
        {"taro.yamada@toto-power.co.jp", "org:domain"},
        {"03-1234-5678", "phone"},
        {"https://portal.toto-power.co.jp/login", "org:domain"},
        {"198.51.100.23", "org:ip_range"},
        {"2001:db8:77::5", "org:ip_range"},
        {"Toto Electric Power Co., Inc.", "org:name"},
        {"YAMADA Taro", "org:person"},
        {"fileserv.corp.local", "hostname"},
        {"SCADA-GW01.toto.internal", "org:hostname"},
        {"+81 90 1234 5678", "phone"},
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        const json_t *red = redaction_of(p.redactions, "description", want[k].text);
        if (red == NULL) {
            print_error("no redaction of '%s'\n", want[k].text);
            fail();
        }
        assert_int_equal(json_integer_value(json_object_get(red, "start")),
                         strstr(d, want[k].text) - d);
        assert_str(unit_jstr(red, "rule"), want[k].rule);
    }
    /* Ordered by field, then start. */
    assert_str(unit_jstr(json_array_get(p.redactions, 0), "field"), "title");
    proposal_release(&p);
    anon_rules_free(r);
}

static void test_placeholders(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct proposal a, a2, b;
    propose(&a, r, 5, key_a);
    propose(&a2, r, 5, key_a);
    propose(&b, r, 5, key_b);
    /* The same key gives the same release. */
    assert_true(json_equal(a.release, a2.release));
    assert_true(json_equal(a.redactions, a2.redactions));

    /* One host, one placeholder, everywhere in the release (case and field aside). */
    const char *t = unit_jstr(redaction_of(a.redactions, "title", "scada-gw01"), "placeholder");
    const char *d = unit_jstr(redaction_of(a.redactions, "description", "scada-gw01"), "placeholder");
    const char *f = unit_jstr(redaction_of(a.redactions, "followup", "scada-gw01"), "placeholder");
    assert_non_null(t);
    assert_int_equal(strlen(t), strlen("[host-123456]"));
    assert_true(!strncmp(t, "[host-", 6));
    assert_str(d, t);
    assert_str(f, t);
    assert_non_null(strstr(unit_jstr(a.release, "title"), t));
    assert_non_null(strstr(unit_jstr(a.release, "followup"), t));
    /* Different hosts differ. */
    const char *ops =
        unit_jstr(redaction_of(a.redactions, "description", "ops.toto-power.co.jp"), "placeholder");
    assert_string_not_equal(ops, t);
    /* The person written three ways is one person. */
    const char *p1 = unit_jstr(redaction_of(a.redactions, "description", "山田太郎"), "placeholder");
    const char *p2 = unit_jstr(redaction_of(a.redactions, "followup", "山田　太郎"), "placeholder");
    assert_true(!strncmp(p1, "[person-", 8));
    assert_str(p2, p1);
    /* Another release key: other placeholders, same shape. */
    const char *tb = unit_jstr(redaction_of(b.redactions, "title", "scada-gw01"), "placeholder");
    assert_true(!strncmp(tb, "[host-", 6));
    assert_string_not_equal(tb, t);
    assert_string_not_equal(
        unit_jstr(redaction_of(b.redactions, "description", "03-1234-5678"), "placeholder"),
        unit_jstr(redaction_of(a.redactions, "description", "03-1234-5678"), "placeholder"));
    assert_false(json_equal(a.release, b.release));
    /* Names of the organisation are "[org]" under any key. */
    assert_str(unit_jstr(redaction_of(b.redactions, "title", "東都電力"), "placeholder"), "[org]");
    proposal_release(&a);
    proposal_release(&a2);
    proposal_release(&b);
    anon_rules_free(r);
}

/* ---- generic rules ---- */

static void test_default_rules(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    static const struct {
        const char *text, *kind; /* kind NULL: nothing may be redacted */
    } v[] = {
        {"電話 03-1234-5678 まで", "phone"},
        {"携帯090-1234-5678に", "phone"},
        {"tel +81 3 1234 5678.", "phone"},
        {"tel +81-90-1234-5678", "phone"},
        {"フリーダイヤル 0120-123-456", "phone"},
        {"(03) 1234-5678", "phone"},
        {"メール info@example.com へ", "email"},
        {"見て https://example.com/a?b=c。", "url"},
        {"see http://10.0.0.1:8080/x).", "url"},
        {"ホスト mail.example.co.jp で", "host"},
        {"アドレス10.1.2.3から", "ip"},
        {"net 192.168.0.0/16 here", "ip"},
        {"v6 fe80::1 and", "ip"},
        {"v6 2001:db8::a:b:c full", "ip"},
        {"時刻 12:30:45 に発生", NULL},
        {"2026-05-12 に発生した", NULL},
        {"version 1.2.3 of cmd.exe", NULL},
        {"定期保守", NULL},
    };
    json_t *ctx = context(5);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        json_t *content = json_pack("{s:s, s:[s]}", "title", v[i].text, "sectors", "gas");
        json_t *rel = NULL, *reds = NULL;
        struct err e;
        err_init(&e);
        assert_int_equal(anon_propose(r, NULL, content, ctx, key_a, &rel, &reds, &e), 0);
        if (v[i].kind == NULL) {
            if (json_array_size(reds) != 0) {
                print_error("'%s': unexpected %s\n", v[i].text, dump(reds));
                fail();
            }
            assert_str(unit_jstr(rel, "title"), v[i].text);
        } else {
            if (json_array_size(reds) != 1) {
                print_error("'%s': want one %s, got %s\n", v[i].text, v[i].kind, dump(reds));
                fail();
            }
            assert_str(unit_jstr(json_array_get(reds, 0), "kind"), v[i].kind);
        }
        /* Without an org, the provider is "a member organisation". */
        assert_str(unit_jstr(json_object_get(rel, "provider"), "en"), "a member organisation");
        json_decref(rel);
        json_decref(reds);
        json_decref(content);
    }
    json_decref(ctx);
    anon_rules_free(r);
}

/*
 * Longest first, whatever the rule order: a URL hides the host inside it,
 * and a ticket number beats the shorter "INC" rule listed before it.
 */
static void test_overlaps_and_admin_rules(void **state)
{
    (void)state;
    json_t *rules = anon_rules_default();
    json_array_append_new(rules, unit_jsonq("{'id':'inc','kind':'ticket','pattern':'INC',"
                                            "'caseless':false}"));
    json_array_append_new(rules, unit_jsonq("{'id':'ticket','kind':'ticket',"
                                            "'pattern':'INC-[0-9]{6}','description':'tickets'}"));
    struct anon_rules *r = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(anon_rules_new(rules, &r, &e), 0);
    json_t *content = unit_jsonq("{'title':'https://mail.example.com/x と INC-123456 と INC',"
                                 "'sectors':[]}");
    json_t *rel = NULL, *reds = NULL;
    assert_int_equal(anon_propose(r, NULL, content, NULL, key_a, &rel, &reds, &e), 0);
    assert_int_equal(json_array_size(reds), 3);
    assert_str(unit_jstr(json_array_get(reds, 0), "rule"), "url");
    assert_str(unit_jstr(json_array_get(reds, 0), "original"), "https://mail.example.com/x");
    assert_str(unit_jstr(json_array_get(reds, 1), "rule"), "ticket");
    assert_str(unit_jstr(json_array_get(reds, 1), "original"), "INC-123456");
    assert_str(unit_jstr(json_array_get(reds, 2), "rule"), "inc");
    assert_true(!strncmp(unit_jstr(rel, "title"), "[url-", 5));
    assert_null(strstr(unit_jstr(rel, "title"), "INC"));
    json_decref(rel);
    json_decref(reds);
    json_decref(content);
    json_decref(rules);
    anon_rules_free(r);
}

static void test_bad_rules(void **state)
{
    (void)state;
    struct anon_rules *r = (struct anon_rules *)1;
    struct err e;
    err_init(&e);
    json_t *rules = unit_jsonq("[{'id':'ok','kind':'host','pattern':'abc'},"
                               "{'id':'bad','kind':'x','pattern':'(unclosed'},"
                               "{'id':'org:evil','kind':'x','pattern':'a'},"
                               "{'id':'ok','kind':'Host!','pattern':'b'},"
                               "{'id':'empty','kind':'x','pattern':''},"
                               "{'id':'extra','kind':'x','pattern':'c','flags':'g'},"
                               "'not an object']");
    assert_int_equal(anon_rules_new(rules, &r, &e), ERR_INVALID);
    assert_null(r);
    static const char *const want[] = {"rules[1].pattern", "rules[2].id",       "rules[3].id",
                                       "rules[3].kind",    "rules[4].pattern", "rules[5].flags",
                                       "rules[6]"};
    assert_int_equal(e.nfields, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < e.nfields; i++)
        assert_str(e.fields[i].field, want[i]);
    /* PCRE2's own message, with where it stopped. */
    assert_non_null(strstr(e.fields[0].reason, "missing closing parenthesis"));
    assert_non_null(strstr(e.fields[0].reason, "at offset 9"));
    assert_non_null(strstr(e.fields[2].reason, "duplicate of rules[0].id"));
    json_decref(rules);

    /* Limits: count and pattern length. */
    err_init(&e);
    rules = json_array();
    for (int i = 0; i <= ANON_MAX_RULES; i++)
        json_array_append_new(rules, json_pack("{s:s, s:s, s:s}", "id", "x", "kind", "x",
                                               "pattern", "x"));
    assert_int_equal(anon_rules_new(rules, &r, &e), ERR_TOOBIG);
    json_decref(rules);
    err_init(&e);
    char *longp = xcalloc(ANON_MAX_PATTERN + 2, 1);
    memset(longp, 'a', ANON_MAX_PATTERN + 1);
    rules = json_pack("[{s:s, s:s, s:s}]", "id", "long", "kind", "x", "pattern", longp);
    assert_int_equal(anon_rules_new(rules, &r, &e), ERR_INVALID);
    assert_str(e.fields[0].field, "rules[0].pattern");
    free(longp);
    json_decref(rules);
    err_init(&e);
    json_t *notarr = unit_jsonq("{'id':'x'}");
    assert_int_equal(anon_rules_new(notarr, &r, &e), ERR_INVALID);
    assert_str(e.fields[0].field, "rules");
    json_decref(notarr);
}

/*
 * Catastrophic backtracking stops at our match limit and fails the call,
 * closed. 30 characters need more steps than ANON_MATCH_LIMIT but fewer
 * than PCRE2's default limit (10 million), so this proves our limit is
 * the one set; 4 KiB proves the call returns at once instead of hanging.
 */
static void test_pathological_pattern(void **state)
{
    (void)state;
    json_t *rules = unit_jsonq("[{'id':'email','kind':'email','pattern':'[a-z]+@[a-z]+'},"
                               "{'id':'evil','kind':'x','pattern':'(a|aa)+$'}]");
    struct anon_rules *r = NULL;
    struct err e;
    assert_int_equal(anon_rules_new(rules, &r, &e), 0);
    static const size_t lens[] = {30, 4096};
    for (size_t i = 0; i < 2; i++) {
        char *text = xcalloc(lens[i] + 2, 1);
        memset(text, 'a', lens[i]);
        text[lens[i]] = 'b';
        json_t *content = json_pack("{s:s, s:s}", "title", "x@y", "description", text);
        json_t *rel = (json_t *)1, *reds = (json_t *)1;
        err_init(&e);
        int64_t t0 = util_mono_ms();
        assert_int_equal(anon_propose(r, NULL, content, NULL, key_a, &rel, &reds, &e),
                         ERR_INVALID);
        assert_true(util_mono_ms() - t0 < 2000);
        assert_null(rel);
        assert_null(reds);
        assert_str(e.fields[0].field, "rules[1].pattern");
        assert_non_null(strstr(e.fields[0].reason, "match limit"));
        assert_non_null(strstr(e.fields[0].reason, "'description'"));
        json_decref(content);
        free(text);
    }
    json_decref(rules);
    anon_rules_free(r);
}

static void test_bad_org_and_context(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    json_t *org = unit_jsonq("{'name':{'ja':'東'},'domains':['ok.example','not a domain'],"
                             "'ip_ranges':['10.0.0.0/33'],'hostnames':['a..b'],"
                             "'aliases':[' ', 7]}");
    json_t *content = unit_jsonq("{'title':'x'}");
    json_t *rel = NULL, *reds = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(anon_propose(r, org, content, NULL, key_a, &rel, &reds, &e), ERR_INVALID);
    assert_null(rel);
    static const char *const want[] = {"org.name.ja",     "org.aliases[0]",   "org.aliases[1]",
                                       "org.domains[1]",  "org.hostnames[0]", "org.ip_ranges[0]"};
    assert_int_equal(e.nfields, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < e.nfields; i++)
        assert_str(e.fields[i].field, want[i]);
    json_decref(org);
    err_init(&e);
    json_t *ctx = unit_jsonq("{'allow':[3]}");
    assert_int_equal(anon_propose(r, NULL, content, ctx, key_a, &rel, &reds, &e), ERR_INVALID);
    assert_str(e.fields[0].field, "context.allow[0]");
    json_decref(ctx);
    json_decref(content);
    anon_rules_free(r);
}

/* ---- anon_apply ---- */

/* A copy of list without the entries for field whose original is original. */
static json_t *without(const json_t *list, const char *field, const char *original)
{
    json_t *out = json_array();
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) if (strcmp(unit_jstr(x, "field"), field) ||
                                       strcmp(unit_jstr(x, "original"), original))
        json_array_append(out, (json_t *)x);
    return out;
}

static void test_apply(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct proposal p;
    propose(&p, r, 5, key_a);
    struct err e;
    err_init(&e);
    json_t *rel = NULL;

    /* Unchanged, the list renders the proposal exactly. */
    assert_int_equal(anon_apply(p.org, p.content, p.ctx, p.redactions, key_a, &rel, &e), 0);
    assert_true(json_equal(rel, p.release));
    json_decref(rel);

    /* Undo the alias in the service, and the removal of an observable. */
    json_t *l1 = without(p.redactions, "service", "TotoPower");
    json_t *list = without(l1, "observables[3].value", "https://portal.toto-power.co.jp/login");
    json_decref(l1);
    assert_int_equal(json_array_size(list), json_array_size(p.redactions) - 2);
    /* And mark "顧客ポータル" in the service, found independently. */
    const char *svc = unit_jstr(p.content, "service");
    const char *at = strstr(svc, "顧客ポータル");
    json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "field", "service", "start",
                                          (json_int_t)(at - svc), "end",
                                          (json_int_t)(at - svc + strlen("顧客ポータル"))));
    assert_int_equal(anon_apply(p.org, p.content, p.ctx, list, key_a, &rel, &e), 0);
    const char *s = unit_jstr(rel, "service");
    assert_true(!strncmp(s, "TotoPower [redacted-", 20));
    assert_null(strstr(s, "顧客"));
    assert_int_equal(json_array_size(json_object_get(rel, "observables")), 4);
    /* Everything else stays as proposed. */
    assert_true(json_equal(json_object_get(rel, "description"),
                           json_object_get(p.release, "description")));
    assert_true(json_equal(json_object_get(rel, "provider"), json_object_get(p.release, "provider")));
    assert_null(json_object_get(rel, "contact"));
    json_decref(rel);
    json_decref(list);

    /* An empty list still makes the fixed removals. */
    json_t *none = json_array();
    assert_int_equal(anon_apply(p.org, p.content, p.ctx, none, key_a, &rel, &e), 0);
    assert_null(json_object_get(rel, "contact"));
    assert_int_equal(json_array_size(json_object_get(rel, "observables")), 4);
    assert_str(unit_jstr(rel, "title"), unit_jstr(p.content, "title"));
    json_decref(rel);
    json_decref(none);
    proposal_release(&p);
    anon_rules_free(r);
}

static void test_apply_errors(void **state)
{
    (void)state;
    json_t *content = unit_jsonq("{'title':'東都電力 abc','description':'xyz',"
                                 "'observables':[{'type':'ipv4','value':'10.0.0.1','role':'other'},"
                                 "{'type':'ipv4','value':'10.0.0.2','role':'victim'}]}");
    /* "東" is bytes 0-2; offset 1 splits it. */
    json_t *list = unit_jsonq("["
                              "{'field':'title','start':1,'end':6},"         /* 0 start splits */
                              "{'field':'title','start':0,'end':4},"         /* 1 end splits */
                              "{'field':'title','start':13,'end':20},"       /* 2 end past */
                              "{'field':'nope','start':0,'end':1},"          /* 3 field */
                              "{'field':'description','start':2,'end':2},"   /* 4 empty */
                              "{'field':'description','start':0,'end':2,'original':'xz'}," /* 5 */
                              "{'field':'observables[0].value','start':0,'end':3}," /* 6 part */
                              "{'field':'observables[1].value','start':0,'end':8}," /* 7 victim */
                              "{'field':'title','start':0,'end':3,'kind':'Bad'}," /* 8 kind */
                              "7]");
    static const char *const want[] = {
        "redactions[0].start", "redactions[1].end",   "redactions[2].end",
        "redactions[3].field", "redactions[4].end",   "redactions[5].original",
        "redactions[6].end",   "redactions[7].field", "redactions[8].kind",
        "redactions[9]"};
    json_t *rel = (json_t *)1;
    struct err e;
    err_init(&e);
    assert_int_equal(anon_apply(NULL, content, NULL, list, key_a, &rel, &e), ERR_INVALID);
    assert_null(rel);
    assert_int_equal(e.nfields, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < e.nfields; i++)
        assert_str(e.fields[i].field, want[i]);
    assert_non_null(strstr(e.fields[0].reason, "splits a character"));
    json_decref(list);

    /* Overlaps name both entries, whatever their order in the list. */
    list = unit_jsonq("[{'field':'title','start':13,'end':16},{'field':'title','start':0,'end':6},"
                      "{'field':'title','start':3,'end':13}]");
    err_init(&e);
    assert_int_equal(anon_apply(NULL, content, NULL, list, key_a, &rel, &e), ERR_INVALID);
    assert_int_equal(e.nfields, 1);
    assert_str(e.fields[0].field, "redactions[2]");
    assert_str(e.fields[0].reason, "overlaps redactions[1]");
    json_decref(list);

    /* Adjacent is fine, and a whole observable goes. */
    list = unit_jsonq("[{'field':'title','start':0,'end':6,'kind':'org'},"
                      "{'field':'title','start':6,'end':13},"
                      "{'field':'observables[0].value','start':0,'end':8}]");
    err_init(&e);
    assert_int_equal(anon_apply(NULL, content, NULL, list, key_a, &rel, &e), 0);
    assert_true(!strncmp(unit_jstr(rel, "title"), "[org][redacted-", 15));
    assert_null(strstr(unit_jstr(rel, "title"), "東都"));
    assert_json_eq(json_object_get(rel, "observables"), "[]");
    json_decref(rel);
    json_decref(list);

    err_init(&e);
    assert_int_equal(anon_apply(NULL, content, NULL, content, key_a, &rel, &e), ERR_INVALID);
    assert_str(e.fields[0].field, "redactions");
    json_decref(content);
}

/* ---- anon_redactions_describe ---- */

static void test_describe(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct proposal p;
    propose(&p, r, 5, key_a);
    struct err e;
    err_init(&e);
    json_t *out = NULL;

    /* The proposal describes itself: ids, rules, kinds and placeholders all kept. */
    assert_int_equal(anon_redactions_describe(p.content, p.redactions, key_a, &out, &e), 0);
    if (!json_equal(out, p.redactions)) {
        char *g = dump(out), *w = dump(p.redactions);
        print_error("describe of the proposal:\n  want %s\n  got  %s\n", w, g);
        free(g);
        free(w);
    }
    assert_true(json_equal(out, p.redactions));
    json_decref(out);

    /* Analyst entries: "m<N>" by position, rule "manual", kind "redacted" unless given. */
    const char *svc = unit_jstr(p.content, "service");
    const char *at = strstr(svc, "顧客ポータル");
    size_t s0 = (size_t)(at - svc), s1 = s0 + strlen("顧客ポータル");
    const char *title = unit_jstr(p.content, "title");
    const char *gw = strstr(title, "scada-gw01");
    size_t g0 = (size_t)(gw - title), g1 = g0 + strlen("scada-gw01");
    json_t *kept = json_deep_copy(redaction_of(p.redactions, "service", "TotoPower"));
    assert_non_null(kept);
    json_t *list = json_pack(
        "[O, {s:s,s:I,s:I}, {s:s,s:I,s:I,s:s,s:s,s:s}, {s:s,s:i,s:i,s:s},"
        " {s:s,s:I,s:I,s:s,s:i}, {s:s,s:I,s:I,s:s}]",
        kept,
        "field", "service", "start", (json_int_t)s0, "end", (json_int_t)s1,
        "field", "title", "start", (json_int_t)g0, "end", (json_int_t)g1, "kind", "host", "rule",
        "analyst", "id", "",
        "field", "observables[3].value", "start", 0, "end",
        (int)strlen("https://portal.toto-power.co.jp/login"), "original",
        "https://portal.toto-power.co.jp/login",
        "field", "title", "start", (json_int_t)0, "end", (json_int_t)strlen("東都電力"), "kind",
        "org", "rule", 5,
        "field", "followup", "start", (json_int_t)0, "end", (json_int_t)strlen("山田"), "id",
        "an-id-of-exactly-thirty-two-char");
    assert_non_null(list);
    json_decref(kept);
    /* anon_apply accepts it (the order in which the API calls them) */
    json_t *rel = NULL;
    assert_int_equal(anon_apply(p.org, p.content, p.ctx, list, key_a, &rel, &e), 0);
    assert_int_equal(anon_redactions_describe(p.content, list, key_a, &out, &e), 0);
    assert_int_equal(json_array_size(out), 6);
    /* [0] as it was given */
    assert_true(json_equal(json_array_get(out, 0), json_array_get(list, 0)));
    /* [1] a plain analyst entry */
    json_t *m = json_array_get(out, 1);
    assert_str(unit_jstr(m, "id"), "m2");
    assert_str(unit_jstr(m, "field"), "service");
    assert_int_equal(json_integer_value(json_object_get(m, "start")), s0);
    assert_int_equal(json_integer_value(json_object_get(m, "end")), s1);
    assert_str(unit_jstr(m, "original"), "顧客ポータル");
    assert_str(unit_jstr(m, "rule"), "manual");
    assert_str(unit_jstr(m, "kind"), "redacted");
    const char *ph = unit_jstr(m, "placeholder");
    assert_true(ph && !strncmp(ph, "[redacted-", 10) && strlen(ph) == 17);
    /* the placeholder is the one the release shows */
    assert_non_null(strstr(unit_jstr(rel, "service"), ph));
    assert_int_equal(json_object_size(m), 8);
    /* [2] an empty id is replaced; kind and rule as given */
    m = json_array_get(out, 2);
    assert_str(unit_jstr(m, "id"), "m3");
    assert_str(unit_jstr(m, "kind"), "host");
    assert_str(unit_jstr(m, "rule"), "analyst");
    assert_str(unit_jstr(m, "original"), "scada-gw01");
    ph = unit_jstr(m, "placeholder");
    assert_true(ph && !strncmp(ph, "[host-", 6));
    assert_non_null(strstr(unit_jstr(rel, "title"), ph));
    /* the same host in the proposal got the same placeholder (same key, kind, text) */
    const json_t *prop = redaction_of(p.redactions, "title", "scada-gw01");
    if (prop && !strcmp(unit_jstr(prop, "kind"), "host"))
        assert_str(unit_jstr(prop, "placeholder"), ph);
    /* [3] an observable: removed whole, no placeholder */
    m = json_array_get(out, 3);
    assert_str(unit_jstr(m, "id"), "m4");
    assert_str(unit_jstr(m, "original"), "https://portal.toto-power.co.jp/login");
    assert_true(json_is_null(json_object_get(m, "placeholder")));
    assert_str(unit_jstr(m, "rule"), "manual");
    /* [4] an organisation name: "[org]"; a rule that is not a string is "manual" */
    m = json_array_get(out, 4);
    assert_str(unit_jstr(m, "placeholder"), "[org]");
    assert_str(unit_jstr(m, "kind"), "org");
    assert_str(unit_jstr(m, "rule"), "manual");
    assert_str(unit_jstr(m, "id"), "m5");
    /* [5] an id of 32 bytes is too long to keep */
    m = json_array_get(out, 5);
    assert_str(unit_jstr(m, "id"), "m6");
    assert_str(unit_jstr(m, "original"), "山田");
    json_decref(out);
    json_decref(rel);

    /* Another key, other placeholders; the rest the same. */
    assert_int_equal(anon_redactions_describe(p.content, list, key_b, &out, &e), 0);
    assert_string_not_equal(unit_jstr(json_array_get(out, 1), "placeholder"),
                            "[redacted-000000]");
    json_t *again = NULL;
    assert_int_equal(anon_redactions_describe(p.content, list, key_a, &again, &e), 0);
    assert_string_not_equal(unit_jstr(json_array_get(out, 1), "placeholder"),
                            unit_jstr(json_array_get(again, 1), "placeholder"));
    assert_str(unit_jstr(json_array_get(out, 1), "original"), "顧客ポータル");
    json_decref(again);
    json_decref(out);

    /* An empty list describes nothing. */
    json_t *none = json_array();
    assert_int_equal(anon_redactions_describe(p.content, none, key_a, &out, &e), 0);
    assert_json_eq(out, "[]");
    json_decref(out);
    json_decref(none);
    json_decref(list);
    proposal_release(&p);
    anon_rules_free(r);
}

static void test_describe_errors(void **state)
{
    (void)state;
    json_t *content = unit_jsonq("{'title':'東都電力 abc','description':'xyz',"
                                 "'observables':[{'type':'ipv4','value':'10.0.0.1','role':'other'},"
                                 "{'type':'ipv4','value':'10.0.0.2','role':'victim'}]}");
    /* each faulty entry alone: the same error as anon_apply gives, and no output */
    static const char *const bad[] = {
        "{'field':'title','start':1,'end':6}",
        "{'field':'title','start':0,'end':4}",
        "{'field':'title','start':13,'end':20}",
        "{'field':'title','start':-1,'end':3}",
        "{'field':'title','start':'0','end':3}",
        "{'field':'nope','start':0,'end':1}",
        "{'start':0,'end':1}",
        "{'field':'description','start':2,'end':2}",
        "{'field':'description','start':0,'end':2,'original':'xz'}",
        "{'field':'description','start':0,'end':2,'original':5}",
        "{'field':'observables[0].value','start':0,'end':3}",
        "{'field':'observables[1].value','start':0,'end':8}",
        "{'field':'title','start':0,'end':3,'kind':'Bad'}",
        "{'field':'title','start':0,'end':3,'kind':7}",
        "7",
    };
    int nbad = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "[{'field':'description','start':0,'end':1},%s]", bad[i]);
        json_t *list = unit_jsonq(text);
        struct err ea, ed;
        err_init(&ea);
        err_init(&ed);
        json_t *rel = NULL, *out = (json_t *)1;
        int ra = anon_apply(NULL, content, NULL, list, key_a, &rel, &ea);
        int rd = anon_redactions_describe(content, list, key_a, &out, &ed);
        char fa[256], fd[256];
        unit_fields_str(&ea, fa, sizeof(fa));
        unit_fields_str(&ed, fd, sizeof(fd));
        if (ra != ERR_INVALID || rd != ra || ed.code != ra || strcmp(fa, fd) || out != NULL ||
            strncmp(fd, "redactions[1]", 13) ||
            (ed.nfields && strcmp(ea.fields[0].reason, ed.fields[0].reason))) {
            print_error("entry %s: apply rc %d '%s', describe rc %d '%s'%s\n", bad[i], ra, fa, rd,
                        fd, out ? " and an output" : "");
            nbad++;
        }
        json_decref(rel);
        json_decref(list);
    }
    assert_int_equal(nbad, 0);

    /* content that is not an object fails both alike */
    json_t *list = unit_jsonq("[]"), *out = (json_t *)1;
    struct err e;
    err_init(&e);
    assert_int_equal(anon_redactions_describe(list, list, key_a, &out, &e), ERR_INVALID);
    assert_null(out);
    assert_str(e.fields[0].field, "content");
    json_t *bad_text = unit_jsonq("{'title':5}");
    err_init(&e);
    assert_int_equal(anon_redactions_describe(bad_text, list, key_a, &out, &e), ERR_INVALID);
    assert_str(e.fields[0].field, "title");
    json_decref(bad_text);
    json_decref(list);
    json_decref(content);
}

/* ---- one rule set, many threads ---- */

struct worker {
    const struct anon_rules *r;
    char *out;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    json_t *org = unit_jsonq(org_text), *content = unit_jsonq(content_text), *ctx = context(5);
    json_t *rel = NULL, *reds = NULL;
    struct err e;
    err_init(&e);
    for (int i = 0; i < 20; i++) {
        json_decref(rel);
        json_decref(reds);
        if (anon_propose(w->r, org, content, ctx, key_a, &rel, &reds, &e) != 0)
            break;
    }
    w->out = rel ? json_dumps(rel, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(rel);
    json_decref(reds);
    json_decref(org);
    json_decref(content);
    json_decref(ctx);
    return NULL;
}

/* A company name is also redacted without its legal form, in either language. */
static void test_legal_forms(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    json_t *org = unit_jsonq("{'kind':'operator','sectors':['electricity'],"
                             "'name':{'ja':'株式会社みなと電力','en':'Minato Power Co., Ltd.'}}");
    json_t *content = unit_jsonq("{'title':'みなと電力で停止、Minato Power reports outage',"
                                 "'description':'（株式会社みなと電力）'}");
    json_t *ctx = context(5), *rel = NULL, *red = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(anon_propose(r, org, content, ctx, key_a, &rel, &red, &e), 0);
    assert_str(unit_jstr(rel, "title"), "[org]で停止、[org] reports outage");
    assert_str(unit_jstr(rel, "description"), "（[org]）");
    json_decref(rel);
    json_decref(red);
    json_decref(ctx);
    json_decref(content);
    json_decref(org);
    anon_rules_free(r);
}

static void test_threads(void **state)
{
    (void)state;
    struct anon_rules *r = default_rules();
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){r, NULL};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_non_null(w[i].out);
        assert_string_equal(w[i].out, w[0].out);
    }
    for (int i = 0; i < 4; i++)
        free(w[i].out);
    anon_rules_free(r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canaries_gone),
        cmocka_unit_test(test_removals_and_pseudonym),
        cmocka_unit_test(test_pseudonym_kinds),
        cmocka_unit_test(test_offsets_point_at_originals),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_default_rules),
        cmocka_unit_test(test_overlaps_and_admin_rules),
        cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_pathological_pattern),
        cmocka_unit_test(test_bad_org_and_context),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_apply_errors),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_describe_errors),
        cmocka_unit_test(test_legal_forms),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
