/*
 * cli_demo.c - the demo data of `isac init --demo` (DOMAIN.md §1, §10):
 * a coordinator, a sector hub, a ministry, a class-1 vendor and three
 * operators in different sectors, one user each. Names are fictional.
 * Passwords are random per data dir and written to DIR/demo-logins.txt
 * (mode 0600), which `make run` prints.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/util.h"
#include "cli.h"

struct demo_org {
    const char *ja, *en, *kind, *tier, *sectors[4], *contact;
    const char *login, *display, *roles[3], *locale;
};

static const struct demo_org demo[] = {
    {"国家サイバー調整センター（デモ）", "National Cyber Coordination Center (demo)", "coordinator",
     "class1", {NULL}, "soc@nccc.demo.example", "coordinator", "調整 太郎",
     {"admin", "analyst", NULL}, "ja"},
    {"電力セプター（デモ）", "Electricity CEPTOAR (demo)", "sector_hub", "class2",
     {"electricity", NULL}, "ceptoar@power-hub.demo.example", "hub", "分野 花子",
     {"org_admin", "analyst", NULL}, "ja"},
    {"エネルギー産業省（デモ）", "Ministry of Energy and Industry (demo)", "ministry", "general",
     {"electricity", "gas", "petroleum", NULL}, "cyber@meni.demo.example", "ministry",
     "省庁 一郎", {"member", NULL}, "ja"},
    {"さくらセキュリティ研究所（デモ）", "Sakura Security Labs (demo)", "vendor", "class1",
     {"ict", NULL}, "psirt@sakura-sec.demo.example", "vendor", "Alex Vendor",
     {"analyst", NULL}, "en"},
    {"関東電力（デモ）", "Kanto Electric Power (demo)", "operator", "general",
     {"electricity", NULL}, "csirt@kanto-power.demo.example", "denryoku", "電力 次郎",
     {"org_admin", "member", NULL}, "ja"},
    {"みなと市交通局（デモ）", "Minato City Transit Bureau (demo)", "operator", "class2",
     {"railway", NULL}, "security@minato-transit.demo.example", "railway", "鉄道 三郎",
     {"org_admin", "member", NULL}, "ja"},
    {"星空銀行（デモ）", "Hoshizora Bank (demo)", "operator", "general",
     {"finance", NULL}, "cert@hoshizora-bank.demo.example", "bank", "Kim Banker",
     {"org_admin", "member", NULL}, "en"},
};

int cli_demo(struct store *st, const char *dir, struct err *e)
{
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
        char org_id[UTIL_UUID_LEN + 1], user_id[UTIL_UUID_LEN + 1];
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
    return e->code;
}
