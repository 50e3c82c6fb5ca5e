/*
 * cli_demo.c - the demo data of `isac init --demo` (DOMAIN.md §1, §10):
 * a coordinator, a sector hub, a ministry, a class-1 vendor and three
 * operators in different sectors, one user each. Names are fictional.
 * The operators have registered identifiers (other names, domain, an
 * address range, a host name, a person), so their releases show the
 * anonymizer at work; addresses are from the documentation ranges.
 * Passwords are random per data dir and written to DIR/demo-logins.txt
 * (mode 0600), which `make run` prints. The operators have filed first
 * reports of the DOMAIN.md §10 scenarios, in Japanese and English.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api.h"
#include "auth/auth.h"
#include "base/util.h"
#include "cli.h"
#include "model/report.h"

struct demo_org {
    const char *ja, *en, *kind, *tier, *sectors[4], *contact;
    const char *login, *display, *roles[3], *locale;
    const char *identifiers; /* JSON, or NULL */
};

static const struct demo_org demo[] = {
    {"国家サイバー調整センター（デモ）", "National Cyber Coordination Center (demo)", "coordinator",
     "class1", {NULL}, "soc@nccc.demo.example", "coordinator", "調整 太郎",
     {"admin", "analyst", NULL}, "ja", NULL},
    {"電力セプター（デモ）", "Electricity CEPTOAR (demo)", "sector_hub", "class2",
     {"electricity", NULL}, "ceptoar@power-hub.demo.example", "hub", "分野 花子",
     {"org_admin", "analyst", NULL}, "ja", NULL},
    {"エネルギー産業省（デモ）", "Ministry of Energy and Industry (demo)", "ministry", "general",
     {"electricity", "gas", "petroleum", NULL}, "cyber@meni.demo.example", "ministry",
     "省庁 一郎", {"member", NULL}, "ja", NULL},
    {"さくらセキュリティ研究所（デモ）", "Sakura Security Labs (demo)", "vendor", "class1",
     {"ict", NULL}, "psirt@sakura-sec.demo.example", "vendor", "Alex Vendor",
     {"analyst", NULL}, "en", NULL},
    {"関東電力（デモ）", "Kanto Electric Power (demo)", "operator", "general",
     {"electricity", NULL}, "csirt@kanto-power.demo.example", "denryoku", "電力 次郎",
     {"org_admin", "member", NULL}, "ja",
     "{\"aliases\":[\"関東電力\",\"関電\",\"Kanto Electric Power\",\"Kanto Electric\"],"
     "\"domains\":[\"kanto-power.demo.example\"],\"ip_ranges\":[\"192.0.2.0/25\"],"
     "\"hostnames\":[\"kp-ofc-fs01\"],\"persons\":[\"電力 次郎\",\"Jiro Denryoku\"]}"},
    {"みなと市交通局（デモ）", "Minato City Transit Bureau (demo)", "operator", "class2",
     {"railway", NULL}, "security@minato-transit.demo.example", "railway", "鉄道 三郎",
     {"org_admin", "member", NULL}, "ja",
     "{\"aliases\":[\"みなと市交通局\",\"みなと交通\",\"Minato City Transit\",\"Minato Transit\"],"
     "\"domains\":[\"minato-transit.demo.example\"],\"ip_ranges\":[\"2001:db8:4d54::/48\"],"
     "\"hostnames\":[\"mt-ticket-db01\"],\"persons\":[\"鉄道 三郎\",\"Saburo Tetsudo\"]}"},
    {"星空銀行（デモ）", "Hoshizora Bank (demo)", "operator", "general",
     {"finance", NULL}, "cert@hoshizora-bank.demo.example", "bank", "Kim Banker",
     {"org_admin", "member", NULL}, "en",
     "{\"aliases\":[\"星空銀行\",\"ほしぞら銀行\",\"Hoshizora Bank\",\"HZB\"],"
     "\"domains\":[\"hoshizora-bank.demo.example\"],\"ip_ranges\":[\"192.0.2.128/25\"],"
     "\"hostnames\":[\"hzb-ib-web01\"],\"persons\":[\"Kim Banker\",\"キム・バンカー\"]}"},
};

/* Demo reports: which demo login files it, and its content (API shape). */
static const struct {
    const char *login;
    const char *content;
} demo_reports[] = {
    {"denryoku",
     "{\"event_type\":\"malware\",\"title\":\"事務所PCがランサムウェアで使用不能 / Office PCs locked "
     "by ransomware\",\"sectors\":[\"electricity\"],\"layer\":\"malfunction\","
     "\"causes\":[{\"code\":\"intentional\",\"detail\":\"SMBv1で拡散するワーム / worm spreading over "
     "SMBv1\"},{\"code\":\"accidental\",\"detail\":\"3月のセキュリティ更新が未適用 / the March "
     "patch was not applied\"}],\"severity\":{\"continuity\":2,\"safety\":0,\"trust\":null},"
     "\"service\":\"事務系システム / back-office systems\",\"occurred_at\":\"2026-11-13T18:10:00+09:00\","
     "\"detected_at\":\"2026-11-13T18:30:00+09:00\",\"basis\":\"law\",\"regime\":\"jp_electricity\","
     "\"share_with_hub\":true,\"description\":\"金曜夕方、事務所の複数のPCに身代金要求画面が表示され、"
     "ファイルが暗号化された。総務部の電力 次郎がファイルサーバ kp-ofc-fs01 の共有フォルダも暗号化されて"
     "いることを確認した。制御系は分離されており影響なし。\\nOn Friday evening several office PCs "
     "showed a ransom note and their files were encrypted. Jiro Denryoku (general affairs) found "
     "the shared folders on the file server kp-ofc-fs01 encrypted too. Control systems are "
     "separated and unaffected.\",\"observables\":[{\"type\":\"sha256\",\"value\":"
     "\"ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa\",\"role\":\"attacker\"},"
     "{\"type\":\"cve\",\"value\":\"CVE-2017-0144\",\"role\":\"other\"},{\"type\":"
     "\"attack_technique\",\"value\":\"T1486\",\"role\":\"other\"},{\"type\":\"malware\","
     "\"value\":\"WannaCry\",\"role\":\"attacker\"}]}"},
    {"railway",
     "{\"event_type\":\"availability\",\"title\":\"券売・改札システムが暗号化され運賃収受不能 / "
     "Ticketing system encrypted, riders let through free\",\"sectors\":[\"railway\"],"
     "\"layer\":\"malfunction\",\"causes\":[{\"code\":\"intentional\",\"detail\":\"ランサムウェア / "
     "ransomware\"}],\"severity\":{\"continuity\":1,\"safety\":0,\"trust\":2},\"status\":"
     "\"monitoring\",\"basis\":\"serious\",\"service\":\"乗車券販売 / ticket sales\","
     "\"detected_at\":\"2026-11-15T07:05:00+09:00\",\"followup\":\"改札を開放して運行を継続。"
     "システムはバックアップから復旧中。/ Gates opened and service kept running; the system is being "
     "restored from backups.\"}"},
    {"bank",
     "{\"event_type\":\"availability\",\"title\":\"インターネットバンキングへのDDoS攻撃 / DDoS on "
     "internet banking\",\"sectors\":[\"finance\"],\"layer\":\"outage\",\"causes\":[{\"code\":"
     "\"intentional\",\"detail\":\"DDoS\"}],\"severity\":{\"continuity\":2,\"safety\":0,"
     "\"trust\":1},\"basis\":\"serious\",\"detected_at\":\"2026-11-18T09:12:00+09:00\","
     "\"recovered_at\":\"2026-11-18T10:40:00+09:00\",\"observables\":[{\"type\":\"ipv4\",\"value\":"
     "\"203.0.113.10\",\"role\":\"attacker\"},{\"type\":\"ipv4\",\"value\":\"203.0.113.11\","
     "\"role\":\"attacker\"},{\"type\":\"cidr\",\"value\":\"198.51.100.0/24\",\"role\":"
     "\"attacker\"}]}"},
    {"denryoku",
     "{\"event_type\":\"near_miss\",\"title\":\"不審な添付ファイル付き標的型メールを開封前に検知 / "
     "Targeted mail with a malicious attachment caught before opening\",\"sectors\":"
     "[\"electricity\"],\"causes\":[{\"code\":\"intentional\",\"detail\":\"標的型メール / "
     "targeted mail\"}],\"severity\":{\"continuity\":0,\"safety\":0,\"trust\":0},\"basis\":"
     "\"voluntary\",\"detected_at\":\"2026-11-19T11:20:00+09:00\",\"observables\":[{\"type\":"
     "\"domain\",\"value\":\"invoice-update.example\",\"role\":\"attacker\"},{\"type\":\"md5\","
     "\"value\":\"84c82835a5d21bbcf75a61706d8ab549\",\"role\":\"attacker\"},{\"type\":\"file\","
     "\"value\":\"請求書_11月.xlsm\",\"role\":\"attacker\"}]}"},
};

/* Known codes of a vocabulary, from the store (freed with json_decref(*list)). */
static void demo_vocab(json_t *list, const char **codes, size_t max, struct model_vocab *v)
{
    v->n = 0;
    for (size_t i = 0; i < json_array_size(list) && i < max; i++)
        codes[v->n++] = json_string_value(json_object_get(json_array_get(list, i), "code"));
    v->codes = codes;
}

static int demo_report(struct store *st, const char *org_id, const char *user_id,
                       const char *text, struct err *e)
{
    json_t *sl = NULL, *rl = NULL, *tl = NULL, *in = json_loads(text, 0, NULL), *content = NULL;
    const char *sc[64], *rc[64], *tc[64];
    struct model_vocab sv, rv, tv;
    int64_t now = util_now_ms() / 1000;
    if (in == NULL)
        return err_set(e, ERR_INTERNAL, "demo report is not JSON");
    if (store_sector_list(st, false, &sl, e) == 0 && store_regime_list(st, false, &rl, e) == 0 &&
        store_tier_list(st, &tl, e) == 0) {
        demo_vocab(sl, sc, 64, &sv);
        demo_vocab(rl, rc, 64, &rv);
        demo_vocab(tl, tc, 64, &tv);
        struct model_report_ctx ctx = {&sv, &rv, now, &tv};
        if (model_report_check(in, MODEL_CREATE, &ctx, &content, e) == 0 &&
            model_report_finish(content, e) == 0) {
            char id[UTIL_UUID_LEN + 1];
            util_uuid7(id);
            json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O,s:b}", "id", id, "org_id", org_id,
                                    "created_by", user_id, "stage", "first", "revision", 1,
                                    "content", content, "submitted", 1);
            json_t *rev = json_pack("{s:i,s:s,s:s,s:n,s:[]}", "n", 1, "stage", "first",
                                    "user_id", user_id, "reason", "changes");
            if (api_report_due(st, row, now, e) == 0)
                store_report_create(st, row, rev, NULL, NULL, e);
            json_decref(row);
            json_decref(rev);
        }
    }
    json_decref(content);
    json_decref(in);
    json_decref(sl);
    json_decref(rl);
    json_decref(tl);
    return e->code;
}

/*
 * Demo alerts from the coordinator to all members: the WannaCry sentence
 * of DOMAIN.md §7 (critical), and a routine drill (an exercise).
 */
static const char *const demo_alerts[] = {
    "{'urgency':'critical','exercise':false,'tlp':'GREEN',"
    "'title':{'ja':'パッチ未適用のPCを起動しないでください（WannaCry）',"
    "'en':'Do not switch on unpatched PCs (WannaCry)'},"
    "'summary':{'ja':'SMBv1の脆弱性（MS17-010）を悪用するランサムウェアが拡散しています。',"
    "'en':'Ransomware exploiting the SMBv1 flaw (MS17-010) is spreading.'},"
    "'actions':{'ja':'パッチ未適用のPCは起動前にMS17-010を適用するか、ネットワークから切り離してください。',"
    "'en':'Apply MS17-010 before switching unpatched PCs on, or keep them off the network.'},"
    "'links':{'releases':[],'reports':[]},"
    "'observables':[{'type':'cve','value':'CVE-2017-0144','role':'other'},"
    "{'type':'malware','value':'WannaCry','role':'attacker'}]}",
    "{'urgency':'routine','exercise':true,'tlp':'GREEN',"
    "'title':{'ja':'疎通確認訓練：受信を確認してください','en':'Reachability drill: please acknowledge'},"
    "'summary':{'ja':'分野横断的演習の疎通確認です。','en':'A cross-sector exercise reachability check.'},"
    "'actions':{'ja':'このお知らせを開き、「対応済み」を押してください。',"
    "'en':'Open this notice and press Acted.'},"
    "'links':{'releases':[],'reports':[]},'observables':[]}",
};

static int demo_alert(struct store *st, const char *org_id, const char *user_id, const char *text,
                      struct err *e)
{
    char q[2048];
    util_strlcpy(q, text, sizeof(q));
    for (char *p = q; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_t *body = json_loads(q, 0, NULL);
    if (body == NULL)
        return err_set(e, ERR_INTERNAL, "demo alert is not JSON");
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    json_t *audience = json_pack("{s:[],s:[],s:[],s:b}", "orgs", "sectors", "tiers",
                                 "all_members", 1);
    json_t *row = json_pack("{s:s,s:n,s:s,s:s,s:O,s:O,s:O,s:O,s:O,s:s}", "id", id, "series_id",
                            "kind", "alert", "issuer_org", org_id, "urgency",
                            json_object_get(body, "urgency"), "exercise",
                            json_object_get(body, "exercise"), "tlp", json_object_get(body, "tlp"),
                            "audience", audience, "body", body, "created_by", user_id);
    json_t *b = json_object_get(row, "body");
    json_object_del(b, "urgency");
    json_object_del(b, "exercise");
    json_object_del(b, "tlp");
    json_t *targets = auth_alert_targets(audience);
    int64_t seq = 0;
    if (store_alert_create(st, row, e) == 0 &&
        store_alert_publish(st, id, user_id, targets, &seq, e) == 0)
        store_alert_queue(st, id, e);
    json_decref(targets);
    json_decref(audience);
    json_decref(body);
    json_decref(row);
    return e->code;
}

int cli_demo(struct store *st, const char *dir, struct err *e)
{
    char org_ids[sizeof(demo) / sizeof(demo[0])][UTIL_UUID_LEN + 1];
    char user_ids[sizeof(demo) / sizeof(demo[0])][UTIL_UUID_LEN + 1];
    char path[1200];
    snprintf(path, sizeof(path), "%s/demo-logins.txt", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(e, ERR_IO, "'%s' exists: this data dir already has demo data", path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "Demo logins (login / password / organisation):\n");
    for (size_t i = 0; i < sizeof(demo) / sizeof(demo[0]); i++) {
        const struct demo_org *d = &demo[i];
        json_t *sectors = json_array(), *roles = json_array();
        for (int j = 0; d->sectors[j]; j++)
            json_array_append_new(sectors, json_string(d->sectors[j]));
        for (int j = 0; d->roles[j]; j++)
            json_array_append_new(roles, json_string(d->roles[j]));
        json_t *org = json_pack("{s:{s:s,s:s},s:s,s:s,s:o,s:[{s:s,s:s}]}", "name", "ja", d->ja,
                                "en", d->en, "kind", d->kind, "tier", d->tier, "sectors",
                                sectors, "contacts", "type", "email", "value", d->contact);
        if (d->identifiers)
            json_object_set_new(org, "identifiers", json_loads(d->identifiers, 0, NULL));
        char *org_id = org_ids[i], *user_id = user_ids[i];
        int rc = cli_org_create(st, org, org_id, e);
        json_decref(org);
        if (rc) {
            json_decref(roles);
            break;
        }
        unsigned char rnd[9];
        char pw[32], b64[16];
        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2base64(b64, sizeof(b64), rnd, sizeof(rnd),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        snprintf(pw, sizeof(pw), "demo-%s", b64);
        json_t *user = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "login", d->login, "display_name",
                                 d->display, "org_id", org_id, "roles", roles, "locale",
                                 d->locale, "password", pw);
        rc = cli_user_create(st, user, user_id, e);
        json_decref(user);
        if (rc)
            break;
        fprintf(f, "  %-12s %-18s %s\n", d->login, pw, d->en);
    }
    fclose(f);
    for (size_t r = 0; !e->code && r < sizeof(demo_reports) / sizeof(demo_reports[0]); r++)
        for (size_t i = 0; i < sizeof(demo) / sizeof(demo[0]); i++)
            if (!strcmp(demo[i].login, demo_reports[r].login)) {
                demo_report(st, org_ids[i], user_ids[i], demo_reports[r].content, e);
                break;
            }
    for (size_t i = 0; i < sizeof(demo) / sizeof(demo[0]); i++)
        for (size_t a = 0; !e->code && !strcmp(demo[i].kind, "coordinator") &&
                           a < sizeof(demo_alerts) / sizeof(demo_alerts[0]);
             a++)
            demo_alert(st, org_ids[i], user_ids[i], demo_alerts[a], e);
    return e->code;
}
