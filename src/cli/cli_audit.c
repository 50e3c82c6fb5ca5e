/*
 * cli_audit.c - `isac audit verify|list` on the data dir, and the audit
 * record of what the administrative CLI changes.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
    "usage: isac audit verify --data DIR\n"
    "       isac audit list --data DIR [--limit N] [--actor LOGIN] [--action ACTION]\n"
    "\n"
    "verify walks the whole tamper-evident audit log: every entry must carry\n"
    "the keyed hash of its fields and of the entry before it, numbers must run\n"
    "without gaps, and the recorded head must be the last entry. It prints the\n"
    "number of entries and the head hash and exits 0, or names the first\n"
    "altered, inserted or removed entry and exits 1. list prints the newest\n"
    "entries, tab-separated: seq, time, actor, action, object, outcome, hash.\n";

int cli_audit_record(struct store *st, const char *action, const char *kind, const char *id,
                     json_t *detail)
{
    char who[96];
    struct passwd *pw = getpwuid(getuid());
    snprintf(who, sizeof(who), "cli:%s", pw ? pw->pw_name : "?");
    struct store_audit_entry a = {.actor_login = who, .action = action, .object_kind = kind,
                                  .object_id = id, .outcome = "ok", .detail = detail};
    struct err e;
    err_init(&e);
    int rc = store_audit_append(st, &a, NULL, &e);
    json_decref(detail);
    if (rc)
        fprintf(stderr, "isac: warning: the audit log did not record %s: %s\n", action, e.detail);
    return rc;
}

int cli_audit(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    struct cli_opts o;
    if (cli_parse(argc - 1, argv + 1, "data= limit= actor= action=", &o))
        return 2;
    if (o.help) {
        fputs(help, stdout);
        return 0;
    }
    struct store *st;
    struct err e;
    err_init(&e);
    if (!strcmp(argv[0], "verify")) {
        if (cli_open_store(&o, false, &st))
            return 1;
        struct store_audit_check chk;
        int rc = store_audit_verify(st, &chk, &e);
        store_close(st);
        if (rc)
            return cli_fail(&e);
        if (chk.first_bad) {
            printf("audit log BROKEN at entry %lld: %s (%lld entries checked)\n",
                   (long long)chk.first_bad, chk.reason, (long long)chk.entries);
            return 1;
        }
        printf("audit log intact: %lld entries, head %s\n", (long long)chk.entries, chk.head);
        return 0;
    }
    if (!strcmp(argv[0], "list")) {
        long long limit = 50;
        if (cli_get(&o, "limit") && !util_parse_int(cli_get(&o, "limit"), 1, 100000, &limit)) {
            fputs("isac: error: --limit must be 1 to 100000\n", stderr);
            return 2;
        }
        if (cli_open_store(&o, false, &st))
            return 1;
        struct store_audit_filter f = {.actor_login = cli_get(&o, "actor"),
                                       .action = cli_get(&o, "action")};
        json_t *items = NULL;
        int rc = store_audit_list(st, &f, (int)limit, &items, &e);
        store_close(st);
        if (rc)
            return cli_fail(&e);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            json_t *actor = json_object_get(it, "actor"), *obj = json_object_get(it, "object");
            const char *login = json_string_value(json_object_get(actor, "login"));
            const char *oid = json_string_value(json_object_get(obj, "id"));
            printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\n",
                   (long long)json_integer_value(json_object_get(it, "seq")),
                   json_string_value(json_object_get(it, "at")), login ? login : "-",
                   json_string_value(json_object_get(it, "action")), oid ? oid : "-",
                   json_string_value(json_object_get(it, "outcome")),
                   json_string_value(json_object_get(it, "hash")));
        }
        json_decref(items);
        return 0;
    }
    fprintf(stderr, "isac: error: unknown audit command '%s'\n\n%s", argv[0], help);
    return 2;
}
