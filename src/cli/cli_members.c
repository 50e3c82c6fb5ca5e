/*
 * cli_members.c - `isac init`, `isac org`, `isac user`, `isac token`.
 *
 * They work on the data dir directly (the store takes care of concurrency
 * with a running server) and build the same JSON the API would receive, so
 * the model's checks apply unchanged.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "base/cfg.h"
#include "base/util.h"
#include "cli.h"
#include "model/member.h"

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/*
 * Page through a store list 200 at a time, printing each item: fetch(st,
 * filter, page, out, e) is one of the store_*_list functions.
 */
typedef int list_fetch_fn(struct store *st, const void *filter, const struct store_page *page,
                          json_t **out, struct err *e);
typedef void list_print_fn(const json_t *item);

static int list_all(struct store *st, const void *filter, list_fetch_fn *fetch,
                    list_print_fn *print, struct err *e)
{
    char after[64] = "";
    for (;;) {
        struct store_page p = {after[0] ? after : NULL, 200};
        json_t *items;
        if (fetch(st, filter, &p, &items, e))
            return e->code;
        size_t i, n = json_array_size(items);
        json_t *it;
        json_array_foreach(items, i, it)
        {
            print(it);
            util_strlcpy(after, jstr(it, "id"), sizeof(after));
        }
        json_decref(items);
        if (n < 200)
            return 0;
    }
}

static int fetch_orgs(struct store *st, const void *f, const struct store_page *p, json_t **out,
                      struct err *e)
{
    return store_org_list(st, f, p, out, e);
}

static int fetch_users(struct store *st, const void *f, const struct store_page *p, json_t **out,
                       struct err *e)
{
    return store_user_list(st, f, p, out, e);
}

static int fetch_tokens(struct store *st, const void *f, const struct store_page *p,
                        json_t **out, struct err *e)
{
    return store_token_list(st, f, p, out, e);
}

/* Open the store of --data, create from API-shaped JSON (taken), print the new id. */
static int create_and_print(const struct cli_opts *a, json_t *in,
                            int (*create)(struct store *, json_t *, char *, struct err *),
                            const char *action, const char *kind)
{
    struct store *st;
    if (cli_open_store(a, false, &st)) {
        json_decref(in);
        return 1;
    }
    struct err e;
    err_init(&e);
    char id[UTIL_UUID_LEN + 1];
    int rc = create(st, in, id, &e);
    json_decref(in);
    if (rc == 0)
        cli_audit_record(st, action, kind, id, NULL);
    store_close(st);
    if (rc)
        return cli_fail(&e);
    printf("%s\n", id);
    return 0;
}

/* ---- init ---- */

static const char init_help[] =
    "usage: isac init --data DIR [--demo]\n"
    "\n"
    "Create the data directory and its store with the sectors and tiers.\n"
    "With --demo, also create demo organisations and users and write their\n"
    "logins to DIR/demo-logins.txt. Running it on an existing directory\n"
    "only applies pending migrations.\n";

int cli_init(int argc, char **argv)
{
    struct cli_opts o;
    if (cli_parse(argc, argv, "data= demo", &o))
        return 2;
    if (o.help) {
        fputs(init_help, stdout);
        return 0;
    }
    struct store *st;
    if (cli_open_store(&o, true, &st))
        return 1;
    int rc = 0;
    if (cli_flag(&o, "demo")) {
        struct err e;
        err_init(&e);
        if (cli_demo(st, cli_get(&o, "data"), &e))
            rc = cli_fail(&e);
    }
    store_close(st);
    return rc;
}

/* ---- org ---- */

static const char org_help[] =
    "usage: isac org add --data DIR --name NAME [--name-ja NAME] [--name-en NAME]\n"
    "                    --kind KIND [--sector CODE]... --tier TIER [--contact TYPE:VALUE]...\n"
    "                    [--identifiers FILE]\n"
    "       isac org update --data DIR --id ID --identifiers FILE\n"
    "       isac org list --data DIR [--all]\n"
    "       isac org disable|enable --data DIR --id ID\n"
    "\n"
    "add prints the new organisation's id alone on stdout. KIND is operator,\n"
    "sector_hub, coordinator, ministry, agency or vendor; TIER is class1, class2 or\n"
    "general; --sector and --contact may be repeated. --name sets both languages\n"
    "unless --name-ja or --name-en say otherwise. FILE (- for stdin) holds the\n"
    "identifiers the anonymizer always redacts, as JSON: {\"aliases\": [...],\n"
    "\"domains\": [...], \"ip_ranges\": [...], \"hostnames\": [...], \"persons\": [...]};\n"
    "update replaces the lists the file names. list prints tab-separated\n"
    "id, kind, tier, sectors, English name, Japanese name.\n";

/* The JSON of --identifiers FILE ("-": stdin), or NULL after printing why. */
static json_t *read_identifiers(const char *path)
{
    json_error_t je;
    json_t *j = strcmp(path, "-") ? json_load_file(path, JSON_REJECT_DUPLICATES, &je)
                                  : json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fprintf(stderr, "isac: error: cannot read identifiers from '%s': line %d: %s\n", path,
                je.line, je.text);
    return j;
}

/* Load known codes for validation. */
static int load_vocab(struct store *st, bool sectors, json_t **list, const char ***codes,
                      struct model_vocab *v, struct err *e)
{
    if (sectors ? store_sector_list(st, false, list, e) : store_tier_list(st, list, e))
        return e->code;
    size_t n = json_array_size(*list);
    *codes = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        (*codes)[i] = jstr(json_array_get(*list, i), "code");
    v->codes = *codes;
    v->n = n;
    return 0;
}

int cli_org_create(struct store *st, json_t *in, char *id, struct err *e)
{
    json_t *sl = NULL, *tl = NULL, *org = NULL;
    const char **sc = NULL, **tc = NULL;
    struct model_vocab sv, tv;
    if (load_vocab(st, true, &sl, &sc, &sv, e) == 0 && load_vocab(st, false, &tl, &tc, &tv, e) == 0 &&
        model_org_check(in, MODEL_CREATE, &sv, &tv, &org, e) == 0) {
        util_uuid7(id);
        json_object_set_new(org, "id", json_string(id));
        json_object_set_new(org, "disabled", json_false());
        if (!e->code)
            store_org_create(st, org, e);
    }
    json_decref(org);
    json_decref(sl);
    json_decref(tl);
    free(sc);
    free(tc);
    return e->code;
}

static int org_add(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv,
                  "data= name= name-ja= name-en= kind= sector= tier= contact= identifiers=", &a))
        return 2;
    if (a.help) {
        fputs(org_help, stdout);
        return 0;
    }
    const char *name = cli_get(&a, "name");
    const char *ja = cli_get(&a, "name-ja"), *en = cli_get(&a, "name-en");
    json_t *in = json_object();
    json_t *nm = json_object();
    if (ja || name)
        json_object_set_new(nm, "ja", json_string(ja ? ja : name));
    if (en || name)
        json_object_set_new(nm, "en", json_string(en ? en : name));
    if (json_object_size(nm))
        json_object_set_new(in, "name", nm);
    else
        json_decref(nm);
    if (cli_get(&a, "kind"))
        json_object_set_new(in, "kind", json_string(cli_get(&a, "kind")));
    if (cli_get(&a, "tier"))
        json_object_set_new(in, "tier", json_string(cli_get(&a, "tier")));
    json_t *sectors = json_array(), *contacts = json_array();
    for (int i = 0; i < a.n; i++) {
        if (!strcmp(a.name[i], "sector"))
            json_array_append_new(sectors, json_string(a.value[i]));
        if (!strcmp(a.name[i], "contact")) {
            const char *colon = strchr(a.value[i], ':');
            char type[32] = "";
            if (colon && (size_t)(colon - a.value[i]) < sizeof(type))
                snprintf(type, sizeof(type), "%.*s", (int)(colon - a.value[i]), a.value[i]);
            json_array_append_new(contacts, json_pack("{s:s,s:s}", "type", type, "value",
                                                      colon ? colon + 1 : a.value[i]));
        }
    }
    json_object_set_new(in, "sectors", sectors);
    json_object_set_new(in, "contacts", contacts);
    if (cli_get(&a, "identifiers")) {
        json_t *idents = read_identifiers(cli_get(&a, "identifiers"));
        if (idents == NULL) {
            json_decref(in);
            return 1;
        }
        json_object_set_new(in, "identifiers", idents);
    }
    return create_and_print(&a, in, cli_org_create, "org.create", "org");
}

static void print_org(const json_t *org)
{
    char *sectors = json_dumps(json_object_get(org, "sectors"), JSON_COMPACT);
    printf("%s\t%s\t%s\t%s\t%s\t%s%s\n", jstr(org, "id"), jstr(org, "kind"), jstr(org, "tier"),
           sectors ? sectors : "[]", jstr(json_object_get(org, "name"), "en"),
           jstr(json_object_get(org, "name"), "ja"),
           json_is_true(json_object_get(org, "disabled")) ? "\t(disabled)" : "");
    free(sectors);
}

static int org_list(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= all", &a))
        return 2;
    if (a.help) {
        fputs(org_help, stdout);
        return 0;
    }
    struct store *st;
    if (cli_open_store(&a, false, &st))
        return 1;
    struct err e;
    err_init(&e);
    struct store_org_filter f = {.include_disabled = cli_flag(&a, "all")};
    int rc = list_all(st, &f, fetch_orgs, print_org, &e) ? cli_fail(&e) : 0;
    store_close(st);
    return rc;
}

static int org_set_disabled(int argc, char **argv, bool disabled)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= id=", &a))
        return 2;
    if (a.help || !cli_get(&a, "id")) {
        fputs(org_help, a.help ? stdout : stderr);
        return a.help ? 0 : 2;
    }
    struct store *st;
    if (cli_open_store(&a, false, &st))
        return 1;
    struct err e;
    err_init(&e);
    json_t *org = NULL;
    if (store_org_get(st, cli_get(&a, "id"), &org, &e) == 0) {
        json_object_set_new(org, "disabled", json_boolean(disabled));
        if (store_org_update(st, org, &e) == 0)
            cli_audit_record(st, disabled ? "org.disable" : "org.enable", "org",
                             cli_get(&a, "id"), NULL);
    }
    json_decref(org);
    store_close(st);
    return e.code ? cli_fail(&e) : 0;
}

/* Validate patch as the API would (PATCH /orgs/{id}), merge it into org id and store it. */
static int org_patch(struct store *st, const char *id, const json_t *in, struct err *e)
{
    json_t *sl = NULL, *tl = NULL, *patch = NULL, *cur = NULL;
    const char **sc = NULL, **tc = NULL;
    struct model_vocab sv, tv;
    if (load_vocab(st, true, &sl, &sc, &sv, e) == 0 &&
        load_vocab(st, false, &tl, &tc, &tv, e) == 0 &&
        model_org_check(in, MODEL_PATCH, &sv, &tv, &patch, e) == 0 &&
        store_org_get(st, id, &cur, e) == 0) {
        json_t *m = model_merge(cur, patch);
        if (model_org_rules(m, e) == 0 && store_org_update(st, m, e) == 0) {
            json_t *keys = json_array();
            const char *k;
            json_t *v;
            json_object_foreach(patch, k, v) json_array_append_new(keys, json_string(k));
            cli_audit_record(st, "org.update", "org", id, json_pack("{s:o}", "changed", keys));
        }
        json_decref(m);
    }
    json_decref(cur);
    json_decref(patch);
    json_decref(sl);
    json_decref(tl);
    free(sc);
    free(tc);
    return e->code;
}

static int org_update(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= id= identifiers=", &a))
        return 2;
    if (a.help || !cli_get(&a, "id") || !cli_get(&a, "identifiers")) {
        fputs(org_help, a.help ? stdout : stderr);
        return a.help ? 0 : 2;
    }
    json_t *idents = read_identifiers(cli_get(&a, "identifiers"));
    if (idents == NULL)
        return 1;
    json_t *in = json_pack("{s:o}", "identifiers", idents);
    struct store *st;
    if (cli_open_store(&a, false, &st)) {
        json_decref(in);
        return 1;
    }
    struct err e;
    err_init(&e);
    org_patch(st, cli_get(&a, "id"), in, &e);
    json_decref(in);
    store_close(st);
    return e.code ? cli_fail(&e) : 0;
}

int cli_org(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(org_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "add"))
        return org_add(argc - 1, argv + 1);
    if (!strcmp(argv[0], "list"))
        return org_list(argc - 1, argv + 1);
    if (!strcmp(argv[0], "update"))
        return org_update(argc - 1, argv + 1);
    if (!strcmp(argv[0], "disable"))
        return org_set_disabled(argc - 1, argv + 1, true);
    if (!strcmp(argv[0], "enable"))
        return org_set_disabled(argc - 1, argv + 1, false);
    fprintf(stderr, "isac: error: unknown org command '%s'\n\n%s", argv[0], org_help);
    return 2;
}

/* ---- user ---- */

static const char user_help[] =
    "usage: isac user add --data DIR --org ID --login LOGIN --role ROLE [--role ROLE]...\n"
    "                     [--name DISPLAY_NAME] [--locale ja|en] [--email ADDRESS]\n"
    "       isac user list --data DIR [--org ID] [--all]\n"
    "       isac user passwd --data DIR --login LOGIN\n"
    "       isac user disable|enable --data DIR --login LOGIN\n"
    "\n"
    "add and passwd read the password from the first line of standard input\n"
    "(at least 12 characters); add prints the new user's id. ROLE is member,\n"
    "analyst, org_admin, admin or auditor. Disabling ends the user's sessions\n"
    "at once. list prints tab-separated id, login, organisation id, roles,\n"
    "display name.\n";

int cli_user_create(struct store *st, json_t *in, char *id, struct err *e)
{
    json_t *u = NULL, *org = NULL;
    struct cfg cfg;
    cfg_defaults(&cfg);
    if (model_user_check(in, MODEL_CREATE, &u, e))
        return e->code;
    struct err oe;
    err_init(&oe);
    if (store_org_get(st, jstr(u, "org_id"), &org, &oe)) {
        if (oe.code == ERR_NOTFOUND)
            err_field(e, "org_id", "no such organisation");
        else
            *e = oe;
        json_decref(u);
        return e->code;
    }
    json_decref(org);
    char hash[crypto_pwhash_STRBYTES];
    util_uuid7(id);
    json_object_set_new(u, "id", json_string(id));
    json_object_set_new(u, "disabled", json_false());
    if (auth_password_hash(&cfg, jstr(u, "password"), hash, e) == 0) {
        json_object_del(u, "password");
        if (store_user_create(st, u, hash, e) == ERR_CONFLICT)
            snprintf(e->detail, sizeof(e->detail), "the login '%s' is taken", jstr(u, "login"));
    }
    json_decref(u);
    return e->code;
}

static int user_add(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= org= login= role= name= locale= email=", &a))
        return 2;
    if (a.help) {
        fputs(user_help, stdout);
        return 0;
    }
    char pw[LIMIT_PASSWORD_MAX + 2];
    if (cli_read_secret(pw, sizeof(pw)))
        return 1;
    json_t *in = json_object(), *roles = json_array();
    const char *login = cli_get(&a, "login");
    if (login)
        json_object_set_new(in, "login", json_string(login));
    if (cli_get(&a, "org"))
        json_object_set_new(in, "org_id", json_string(cli_get(&a, "org")));
    const char *name = cli_get(&a, "name") ? cli_get(&a, "name") : login;
    if (name)
        json_object_set_new(in, "display_name", json_string(name));
    if (cli_get(&a, "locale"))
        json_object_set_new(in, "locale", json_string(cli_get(&a, "locale")));
    if (cli_get(&a, "email"))
        json_object_set_new(in, "email", json_string(cli_get(&a, "email")));
    for (int i = 0; i < a.n; i++)
        if (!strcmp(a.name[i], "role"))
            json_array_append_new(roles, json_string(a.value[i]));
    json_object_set_new(in, "roles", roles);
    json_object_set_new(in, "password", json_string(pw));
    sodium_memzero(pw, sizeof(pw));
    return create_and_print(&a, in, cli_user_create, "user.create", "user");
}

static void print_user(const json_t *u)
{
    char roles[128] = "";
    size_t j;
    json_t *r;
    json_array_foreach(json_object_get(u, "roles"), j, r)
    {
        size_t n = strlen(roles);
        snprintf(roles + n, sizeof(roles) - n, "%s%s", j ? "," : "", json_string_value(r));
    }
    printf("%s\t%s\t%s\t%s\t%s%s\n", jstr(u, "id"), jstr(u, "login"), jstr(u, "org_id"), roles,
           jstr(u, "display_name"),
           json_is_true(json_object_get(u, "disabled")) ? "\t(disabled)" : "");
}

static int user_list(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= org= all", &a))
        return 2;
    if (a.help) {
        fputs(user_help, stdout);
        return 0;
    }
    struct store *st;
    if (cli_open_store(&a, false, &st))
        return 1;
    struct err e;
    err_init(&e);
    struct store_user_filter f = {.org_id = cli_get(&a, "org"),
                                  .include_disabled = cli_flag(&a, "all")};
    int rc = list_all(st, &f, fetch_users, print_user, &e) ? cli_fail(&e) : 0;
    store_close(st);
    return rc;
}

/* passwd, disable, enable: one user by login. */
static int user_change(int argc, char **argv, const char *what)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= login=", &a))
        return 2;
    if (a.help || !cli_get(&a, "login")) {
        fputs(user_help, a.help ? stdout : stderr);
        return a.help ? 0 : 2;
    }
    char pw[LIMIT_PASSWORD_MAX + 2] = "";
    struct err e;
    err_init(&e);
    if (!strcmp(what, "passwd")) {
        if (cli_read_secret(pw, sizeof(pw)))
            return 1;
        if (model_password_check(pw, "password", &e))
            return cli_fail(&e);
    }
    struct store *st;
    if (cli_open_store(&a, false, &st))
        return 1;
    json_t *u = NULL;
    char login[LIMIT_LOGIN_MAX + 1];
    if (model_login_norm(cli_get(&a, "login"), "login", login, sizeof(login), &e) == 0 &&
        store_user_get_by_login(st, login, &u, &e) == 0) {
        if (!strcmp(what, "passwd")) {
            struct cfg cfg;
            cfg_defaults(&cfg);
            char hash[crypto_pwhash_STRBYTES];
            if (auth_password_hash(&cfg, pw, hash, &e) == 0 &&
                store_user_update(st, u, hash, &e) == 0)
                cli_audit_record(st, "user.update", "user", jstr(u, "id"),
                                 json_pack("{s:[s]}", "changed", "password"));
        } else {
            json_object_set_new(u, "disabled", json_boolean(!strcmp(what, "disable")));
            if (store_user_update(st, u, NULL, &e) == 0)
                cli_audit_record(st, !strcmp(what, "disable") ? "user.disable" : "user.enable",
                                 "user", jstr(u, "id"), NULL);
        }
    }
    sodium_memzero(pw, sizeof(pw));
    json_decref(u);
    store_close(st);
    return e.code ? cli_fail(&e) : 0;
}

int cli_user(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(user_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "add"))
        return user_add(argc - 1, argv + 1);
    if (!strcmp(argv[0], "list"))
        return user_list(argc - 1, argv + 1);
    if (!strcmp(argv[0], "passwd") || !strcmp(argv[0], "disable") || !strcmp(argv[0], "enable"))
        return user_change(argc - 1, argv + 1, argv[0]);
    fprintf(stderr, "isac: error: unknown user command '%s'\n\n%s", argv[0], user_help);
    return 2;
}

/* ---- token ---- */

static const char token_help[] =
    "usage: isac token create --data DIR --user LOGIN [--name NAME] [--days N]\n"
    "       isac token list --data DIR [--user LOGIN]\n"
    "       isac token revoke --data DIR --id ID\n"
    "\n"
    "create prints the new token alone on stdout; it is shown only this once\n"
    "(only its hash is stored). Tokens expire after --days (default 90, at\n"
    "most 365). Use it as 'Authorization: Bearer TOKEN'.\n";

static int token_create(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= user= name= days=", &a))
        return 2;
    if (a.help || !cli_get(&a, "user")) {
        fputs(token_help, a.help ? stdout : stderr);
        return a.help ? 0 : 2;
    }
    struct err e;
    err_init(&e);
    long long days = LIMIT_TOKEN_DAYS_DEFAULT;
    if (cli_get(&a, "days") && !util_parse_int(cli_get(&a, "days"), 1, LIMIT_TOKEN_DAYS_MAX, &days)) {
        err_field(&e, "days", "must be from 1 to %d", LIMIT_TOKEN_DAYS_MAX);
        return cli_fail(&e);
    }
    const char *name = cli_get(&a, "name") ? cli_get(&a, "name") : "cli";
    json_t *chk = NULL, *in = json_pack("{s:s}", "name", name);
    if (model_token_check(in, MODEL_CREATE, (int)days, &chk, &e)) {
        json_decref(in);
        return cli_fail(&e);
    }
    json_decref(in);
    struct store *st;
    if (cli_open_store(&a, false, &st)) {
        json_decref(chk);
        return 1;
    }
    json_t *u = NULL, *tok = NULL;
    char secret[AUTH_TOKEN_LEN + 1], login[LIMIT_LOGIN_MAX + 1];
    if (model_login_norm(cli_get(&a, "user"), "user", login, sizeof(login), &e) == 0 &&
        store_user_get_by_login(st, login, &u, &e) == 0)
        if (auth_token_create(st, jstr(u, "id"), jstr(chk, "name"), (int)days, secret, &tok,
                              &e) == 0)
            cli_audit_record(st, "token.create", "token", jstr(tok, "id"),
                             json_pack("{s:s}", "user_id", jstr(u, "id")));
    json_decref(u);
    json_decref(tok);
    json_decref(chk);
    store_close(st);
    if (e.code)
        return cli_fail(&e);
    printf("%s\n", secret);
    sodium_memzero(secret, sizeof(secret));
    return 0;
}

static void print_token(const json_t *t)
{
    printf("%s\t%s\t%s\t%s\t%s%s\n", jstr(t, "id"), jstr(t, "prefix"), jstr(t, "user_id"),
           jstr(t, "expires_at"), jstr(t, "name"),
           json_is_true(json_object_get(t, "revoked")) ? "\t(revoked)" : "");
}

static int token_list(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= user=", &a))
        return 2;
    if (a.help) {
        fputs(token_help, stdout);
        return 0;
    }
    struct store *st;
    if (cli_open_store(&a, false, &st))
        return 1;
    struct err e;
    err_init(&e);
    json_t *u = NULL;
    struct store_token_filter f = {0};
    char login[LIMIT_LOGIN_MAX + 1];
    if (cli_get(&a, "user") &&
        model_login_norm(cli_get(&a, "user"), "user", login, sizeof(login), &e) == 0 &&
        store_user_get_by_login(st, login, &u, &e) == 0)
        f.user_id = jstr(u, "id");
    if (!e.code)
        list_all(st, &f, fetch_tokens, print_token, &e);
    json_decref(u);
    store_close(st);
    return e.code ? cli_fail(&e) : 0;
}

static int token_revoke(int argc, char **argv)
{
    struct cli_opts a;
    if (cli_parse(argc, argv, "data= id=", &a))
        return 2;
    if (a.help || !cli_get(&a, "id")) {
        fputs(token_help, a.help ? stdout : stderr);
        return a.help ? 0 : 2;
    }
    struct store *st;
    if (cli_open_store(&a, false, &st))
        return 1;
    struct err e;
    err_init(&e);
    json_t *t = NULL;
    if (store_token_get(st, cli_get(&a, "id"), &t, &e) == 0) {
        json_object_set_new(t, "revoked", json_true());
        if (store_token_update(st, t, &e) == 0)
            cli_audit_record(st, "token.revoke", "token", cli_get(&a, "id"), NULL);
    }
    json_decref(t);
    store_close(st);
    return e.code ? cli_fail(&e) : 0;
}

int cli_token(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(token_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "create"))
        return token_create(argc - 1, argv + 1);
    if (!strcmp(argv[0], "list"))
        return token_list(argc - 1, argv + 1);
    if (!strcmp(argv[0], "revoke"))
        return token_revoke(argc - 1, argv + 1);
    fprintf(stderr, "isac: error: unknown token command '%s'\n\n%s", argv[0], token_help);
    return 2;
}
