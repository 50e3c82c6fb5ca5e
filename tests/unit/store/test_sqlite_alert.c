/*
 * test_sqlite_alert.c - unit tests of src/store through store.h for alerts:
 * versions of a series, who sees which version (get, lists, the stream's
 * events), publication (event id, targets, the recipients' snapshot and
 * the outbox rows it queues, all or nothing) and receipts (SQLite backend,
 * sqlite_alert.c). The outbox's workers are tested in test_sqlite_deliver.c.
 *
 * Each test gets a fresh store in <tmp>/data with a fixed cast of
 * organisations (one per shape of reader that alert targets tell apart,
 * and one disabled) and their webhooks and e-mail contacts, all made
 * through the store API. Alert ids come from a counter, so "newest created
 * first" is a known order, and lists are compared as strings of short
 * names ("A3,A1"). Readers' access is built here as auth_alert_access()
 * builds it (keys and all); who sees a published version is decided by
 * the recipients fixed when it was published, so test_publish_snapshot
 * changes organisations afterwards. What the store decides by itself
 * (outbox rows, targets) is read back with SQL on a connection of our own.
 */
#include "../unit.h"

#include <sodium.h>
#include <sqlite3.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store.h"

#include "fixture.h"

#define ID_LEN (UTIL_UUID_LEN + 1)

/* The organisations of every test: [who] = {code, kind, sectors, tier, contacts, disabled}. */
enum org {
    COORD,  /* coordinator, class1: issues most alerts */
    HUB_E,  /* sector hub, electricity: issues to its sector */
    OP_E,   /* operator, electricity, class2: two e-mails, three webhooks (one each way) */
    OP_G,   /* operator, gas, general: a webhook, no e-mail */
    OP_EG,  /* operator, electricity and gas, class1: one English e-mail */
    VEND,   /* vendor, ict, general: nothing registered */
    OFF_E,  /* operator, electricity, class2, disabled: never a recipient */
    NORGS
};
static const struct {
    const char *code, *kind, *sectors, *tier, *contacts;
    bool disabled;
} org_def[NORGS] = {
    [COORD] = {"COORD", "coordinator", "[]", "class1",
               "[{'type':'email','value':'soc@nisc.example.jp'}]", false},
    [HUB_E] = {"HUB_E", "sector_hub", "['electricity']", "general",
               "[{'type':'email','value':'hub@e.example.jp','locale':'ja'}]", false},
    [OP_E] = {"OP_E", "operator", "['electricity']", "class2",
              "[{'type':'email','value':'soc@e.example.jp'},"
              "{'type':'phone','value':'+81 3 0000 0000'},"
              "{'type':'email','value':'ciso@e.example.jp','locale':'en'}]",
              false},
    [OP_G] = {"OP_G", "operator", "['gas']", "general", "[]", false},
    [OP_EG] = {"OP_EG", "operator", "['electricity','gas']", "class1",
               "[{'type':'email','value':'x@eg.example.jp','locale':'en'}]", false},
    [VEND] = {"VEND", "vendor", "['ict']", "general", "[]", false},
    [OFF_E] = {"OFF_E", "operator", "['electricity']", "class2",
               "[{'type':'email','value':'old@off.example.jp'}]", true},
};

enum user { U_COORD, U_HUB, U_OPE, NUSERS };
static const struct {
    enum org org;
    const char *login, *role;
} user_def[NUSERS] = {
    [U_COORD] = {COORD, "nisc", "analyst"},
    [U_HUB] = {HUB_E, "denki", "analyst"},
    [U_OPE] = {OP_E, "sato", "member"},
};

enum hook { H_E_ON, H_E_OFF, H_E_GONE, H_G_ON, H_OFF_ON, NHOOKS };

struct fx {
    char *tmp;
    char dir[1100];
    struct store *st;
    char org[NORGS][ID_LEN];
    char user[NUSERS][ID_LEN];
    char hook[NHOOKS][ID_LEN];
    const char *code[NORGS]; /* org_def's, for fx_json_orgs() */
    unsigned seq; /* alert ids */
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (fx_open(&f->tmp, f->dir, sizeof(f->dir), &f->st)) {
        free(f);
        return -1;
    }
    struct err e;
    for (int i = 0; i < NORGS; i++) {
        f->code[i] = org_def[i].code;
        char ja[32];
        snprintf(ja, sizeof(ja), "組織%s", org_def[i].code);
        fx_org(f->st, f->org[i], ja, org_def[i].code, org_def[i].kind, org_def[i].tier,
               org_def[i].sectors, org_def[i].contacts, org_def[i].disabled);
    }
    for (int i = 0; i < NUSERS; i++) {
        char roles[32];
        snprintf(roles, sizeof(roles), "['%s']", user_def[i].role);
        fx_user(f->st, f->user[i], f->org[user_def[i].org], user_def[i].login, user_def[i].login,
                roles, NULL);
    }
    fx_webhook(f->st, f->org[OP_E], f->hook[H_E_ON], NULL, true);
    fx_webhook(f->st, f->org[OP_E], f->hook[H_E_OFF], NULL, false);
    fx_webhook(f->st, f->org[OP_E], f->hook[H_E_GONE], NULL, true);
    OK(store_webhook_delete(f->st, f->hook[H_E_GONE], &e));
    fx_webhook(f->st, f->org[OP_G], f->hook[H_G_ON], NULL, true);
    fx_webhook(f->st, f->org[OFF_E], f->hook[H_OFF_ON], NULL, true);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    fx_close(f->tmp, f->st);
    free(f);
    return 0;
}

/* ---- names ---- */

/* "@CODE" for an organisation id, "#HOOK" for a webhook id, else the text itself. */
static const char *short_name(struct fx *f, const char *id)
{
    static const char *const hook_names[NHOOKS] = {"#E_ON", "#E_OFF", "#E_GONE", "#G_ON",
                                                   "#OFF_ON"};
    static char buf[NORGS][8];
    for (int i = 0; i < NORGS; i++)
        if (!strcmp(id, f->org[i])) {
            snprintf(buf[i], sizeof(buf[i]), "@%s", org_def[i].code);
            return buf[i];
        }
    for (int i = 0; i < NHOOKS; i++)
        if (!strcmp(id, f->hook[i]))
            return hook_names[i];
    return id;
}

/* A list of ','-separated items with ids shown as short names, sorted. */
static void sorted_names(struct fx *f, const char *raw_in, char *out, size_t n)
{
    char raw[4000];
    util_strlcpy(raw, raw_in, sizeof(raw));
    char *items[64];
    size_t ni = 0;
    char *save = NULL;
    for (char *k = strtok_r(raw, ",", &save); k && ni < 64; k = strtok_r(NULL, ",", &save)) {
        /* each item is "a:b:c"; every part that is an id gets its name */
        char name[200] = "", part[200];
        char *psave = NULL;
        util_strlcpy(part, k, sizeof(part));
        for (char *p = strtok_r(part, ":", &psave); p; p = strtok_r(NULL, ":", &psave)) {
            size_t l = strlen(name);
            snprintf(name + l, sizeof(name) - l, "%s%s", l ? ":" : "", short_name(f, p));
        }
        items[ni++] = strdup(name);
    }
    qsort(items, ni, sizeof(items[0]), unit_cmp_str);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ni; i++) {
        int k = used < n ? snprintf(out + used, n - used, "%s%s", i ? "," : "", items[i]) : 0;
        used += k > 0 ? (size_t)k : 0; /* a cut result fails the comparison anyway */
        free(items[i]);
    }
}

/* The rows of a query (one text column, ',' inside forbidden) as sorted short names. */
static void sql_names(struct fx *f, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void sql_names(struct fx *f, char *out, size_t n, const char *fmt, ...)
{
    char sql[1000], wrapped[1200], raw[4000] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    snprintf(wrapped, sizeof(wrapped), "SELECT COALESCE(group_concat(x, ','), '') FROM (%s)",
             sql);
    assert_int_equal(fx_sql(f->dir, wrapped, raw, sizeof(raw)), SQLITE_OK);
    sorted_names(f, raw, out, n);
}

#define assert_names(got, want)                                                                   \
    do {                                                                                          \
        if (strcmp((got), (want)))                                                                \
            print_error("%s:%d: want '%s', got '%s'\n", __FILE__, __LINE__, (want), (got));      \
        assert_string_equal((got), (want));                                                       \
    } while (0)

/* The organisations of an array of objects with "org_id", as sorted short names. */
static void org_names(struct fx *f, const json_t *arr, char *out, size_t n)
{
    char raw[4000] = "";
    size_t used = 0, i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        int k = snprintf(raw + used, sizeof(raw) - used, "%s%s", i ? "," : "",
                         unit_jstr(v, "org_id"));
        if (k < 0 || (size_t)k >= sizeof(raw) - used)
            break;
        used += (size_t)k;
    }
    sorted_names(f, raw, out, n);
}

/*
 * JSON text with ' for " and "@CODE" for the id of organisation CODE
 * (org_def), so audiences and targets read as what they mean.
 */
static json_t *fjson(struct fx *f, const char *text)
{
    return fx_json_orgs(text, f->code, f->org, NORGS);
}

/* ---- alerts, as the API makes them ---- */

/* Alert ids by number: A<n> is the n-th alert made in a test. */
static void alert_id(unsigned n, char *id)
{
    fx_num_id(n, 'a', id);
}

static const char BODY[] = "{'title':{'ja':'制御系の脆弱性','en':'Flaw in SCADA gateway'},"
                           "'summary':{'en':'A gateway flaw'},'actions':{'en':'Patch now'},"
                           "'links':{'releases':[],'reports':[]},"
                           "'observables':[{'type':'ipv4','value':'192.0.2.1','role':'attacker'}]}";

/*
 * A draft row as the API builds it (model_alert_set_content): issuer org,
 * series (NULL: a new series) and kind, then overrides (fjson text) over
 * the top-level fields.
 */
static json_t *alert_row(struct fx *f, const char *id, const char *series, const char *kind,
                         enum org issuer, enum user by, const char *overrides)
{
    json_t *r = json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:o,s:s}", "id", id,
                          "series_id", series ? json_string(series) : json_null(), "kind", kind,
                          "state", "draft", "issuer_org", f->org[issuer], "created_by",
                          f->user[by], "body", unit_jsonq(BODY), "urgency", "routine",
                          "exercise", 0, "audience",
                          unit_jsonq("{'orgs':[],'sectors':[],'tiers':[],'all_members':true}"),
                          "tlp", "AMBER");
    assert_non_null(r);
    if (overrides) {
        json_t *o = fjson(f, overrides);
        json_object_update(r, o);
        json_decref(o);
    }
    return r;
}

/* Create the next alert A<n>; its id to id, the store's rc returned. */
static int try_create(struct fx *f, char *id, const char *series, const char *kind,
                      enum org issuer, const char *overrides, struct err *e)
{
    alert_id(++f->seq, id);
    json_t *r = alert_row(f, id, series, kind, issuer, issuer == HUB_E ? U_HUB : U_COORD,
                          overrides);
    err_init(e);
    int rc = store_alert_create(f->st, r, e);
    json_decref(r);
    return rc;
}

static void new_alert(struct fx *f, char *id, enum org issuer, const char *overrides)
{
    struct err e;
    OK(try_create(f, id, NULL, "alert", issuer, overrides, &e));
}

/* Publish a draft with targets (fjson text); returns its event id. */
static int64_t publish(struct fx *f, const char *id, const char *targets)
{
    struct err e;
    json_t *t = fjson(f, targets);
    int64_t seq = -1;
    OK(store_alert_publish(f->st, id, f->user[U_COORD], t, &seq, &e));
    OK(store_alert_queue(f->st, id, &e));
    json_decref(t);
    assert_true(seq > 0);
    return seq;
}

/* A reader of org o as auth_alert_access() makes it (the coordinator sees all). */
static struct store_release_access reader(struct fx *f, enum org o)
{
    return fx_reader(f->org[o], org_def[o].kind, org_def[o].tier, org_def[o].sectors);
}

static json_t *get_as(struct fx *f, const struct store_release_access *acc, const char *id)
{
    struct err e;
    json_t *r = NULL;
    OK(store_alert_get(f->st, acc, id, &r, &e));
    return r;
}

/* An alert as the coordinator sees it (every state). */
static json_t *coord_get(struct fx *f, const char *id)
{
    struct store_release_access all = reader(f, COORD);
    return get_as(f, &all, id);
}

/* A get of a reader, for fx_seen(). */
struct get_args {
    struct fx *f;
    const struct store_release_access *acc;
};

static int get_one(const void *ud, const char *id, json_t **out, struct err *e)
{
    const struct get_args *a = ud;
    return store_alert_get(a->f->st, a->acc, id, out, e);
}

/* A list of a reader, for fx_pages(). */
struct list_args {
    struct fx *f;
    const struct store_release_access *acc;
    const struct store_alert_filter *flt;
};

static int list_page(const void *ud, int64_t after_seq, const char *after_id, int limit,
                     json_t **out, struct err *e)
{
    const struct list_args *a = ud;
    return store_alert_list(a->f->st, a->acc, a->flt, after_seq, after_id, limit, out, e);
}

/* store_alert_list as names; fails the test on an error. */
static void list_names(struct fx *f, const struct store_release_access *acc,
                       const struct store_alert_filter *flt, int64_t after_seq,
                       const char *after_id, int limit, char *out, size_t n)
{
    struct err e;
    json_t *arr = NULL;
    OK(store_alert_list(f->st, acc, flt, after_seq, after_id, limit, &arr, &e));
    assert_true(json_is_array(arr));
    fx_names(arr, 'A', out, n);
    json_decref(arr);
}

static void events_names(struct fx *f, const struct store_release_access *acc, int64_t after,
                         int limit, char *out, size_t n)
{
    struct err e;
    json_t *arr = NULL;
    OK(store_alert_events(f->st, acc, after, limit, &arr, &e));
    assert_true(json_is_array(arr));
    fx_names(arr, 'A', out, n);
    json_decref(arr);
}

/* "dddd-dd-ddTdd:dd:dd.dddZ": alert times carry milliseconds. */
static bool is_ms_time(const char *s)
{
    const char *pat = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (s == NULL || strlen(s) != strlen(pat))
        return false;
    for (int i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    return true;
}

static const struct store_alert_filter INBOX = {.exercise = -1};

/* ---- create, get ---- */

static void test_create_get(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN], a2[ID_LEN], buf[64];
    int64_t t0 = util_now_ms();
    new_alert(f, a1, COORD,
              "{'urgency':'urgent','exercise':true,'tlp':'RED',"
              "'audience':{'orgs':['@OP_E'],'sectors':[],'tiers':[],'all_members':false}}");
    int64_t t1 = util_now_ms();
    json_t *r = coord_get(f, a1);
    static const char *const keys[] = {
        "id",         "series_id",  "version",    "kind",         "state",        "issuer_org",
        "body",       "urgency",    "exercise",   "audience",     "tlp",          "created_by",
        "created_at", "updated_at", "published_by", "published_at", "pub_seq",    "issuer"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_object_get(r, keys[i])) {
            print_error("alert lacks %s\n", keys[i]);
            fail();
        }
    assert_int_equal(json_object_size(r), sizeof(keys) / sizeof(keys[0]));
    assert_str(unit_jstr(r, "id"), a1);
    assert_str(unit_jstr(r, "series_id"), a1); /* version 1: its own series */
    assert_int_equal(unit_jint(r, "version"), 1);
    assert_str(unit_jstr(r, "kind"), "alert");
    assert_str(unit_jstr(r, "state"), "draft");
    assert_str(unit_jstr(r, "issuer_org"), f->org[COORD]);
    json_t *want = unit_jsonq(BODY);
    assert_true(json_equal(json_object_get(r, "body"), want));
    json_decref(want);
    assert_str(unit_jstr(r, "urgency"), "urgent");
    assert_true(json_is_true(json_object_get(r, "exercise")));
    want = fjson(f, "{'orgs':['@OP_E'],'sectors':[],'tiers':[],'all_members':false}");
    assert_true(json_equal(json_object_get(r, "audience"), want));
    json_decref(want);
    assert_str(unit_jstr(r, "tlp"), "RED");
    assert_str(unit_jstr(r, "created_by"), f->user[U_COORD]);
    assert_true(is_ms_time(unit_jstr(r, "created_at")));
    assert_str(unit_jstr(r, "updated_at"), unit_jstr(r, "created_at"));
    assert_true(json_is_null(json_object_get(r, "published_by")));
    assert_true(json_is_null(json_object_get(r, "published_at")));
    assert_true(json_is_null(json_object_get(r, "pub_seq")));
    want = fjson(f, "{'org_id':'@COORD','kind':'coordinator',"
                    "'name':{'ja':'組織COORD','en':'COORD'}}");
    assert_true(json_equal(json_object_get(r, "issuer"), want));
    json_decref(want);
    /* the time is now, in milliseconds, and renders as stored */
    long at = fx_sql_long(f->dir, "SELECT created_at FROM alerts WHERE id = '%s'", a1);
    assert_true(at >= t0 && at <= t1);
    assert_str(fx_sql_text(f->dir, buf, sizeof(buf),
                           "SELECT strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', %ld / 1000.0, 'unixepoch')",
                           at),
               unit_jstr(r, "created_at"));
    json_decref(r);

    /* a hub's alert: its issuer is the hub */
    new_alert(f, a2, HUB_E, NULL);
    r = coord_get(f, a2);
    assert_str(unit_jstr(json_object_get(r, "issuer"), "kind"), "sector_hub");
    assert_str(unit_jstr(json_object_get(r, "issuer"), "org_id"), f->org[HUB_E]);
    assert_str(unit_jstr(r, "created_by"), f->user[U_HUB]);
    assert_false(json_is_true(json_object_get(r, "exercise")));
    json_decref(r);

    /* an id taken; an issuer that is no organisation: nothing written */
    json_t *dup = alert_row(f, a1, NULL, "alert", COORD, U_COORD, NULL);
    FAILS(ERR_CONFLICT, store_alert_create(f->st, dup, &e));
    json_decref(dup);
    char a3[ID_LEN];
    alert_id(++f->seq, a3);
    json_t *orphan = alert_row(f, a3, NULL, "alert", COORD, U_COORD,
                               "{'issuer_org':'0190a000-0000-7000-8000-00000000beef'}");
    FAILS(ERR_CONFLICT, store_alert_create(f->st, orphan, &e));
    json_decref(orphan);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alerts"), 2);

    /* absent: NOTFOUND and no row */
    struct store_release_access all = reader(f, COORD);
    r = NULL;
    FAILS(ERR_NOTFOUND, store_alert_get(f->st, &all, a3, &r, &e));
    assert_null(r);
}

static void test_versions(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN], a2[ID_LEN], a3[ID_LEN], a4[ID_LEN], x[ID_LEN];
    new_alert(f, a1, COORD, NULL);
    /* the series' draft blocks a new version */
    FAILS(ERR_CONFLICT, try_create(f, x, a1, "correction", COORD, NULL, &e));
    publish(f, a1, "['all']");
    OK(try_create(f, a2, a1, "correction", COORD, "{'urgency':'critical'}", &e));
    json_t *r = coord_get(f, a2);
    assert_str(unit_jstr(r, "series_id"), a1);
    assert_int_equal(unit_jint(r, "version"), 2);
    assert_str(unit_jstr(r, "kind"), "correction");
    assert_str(unit_jstr(r, "state"), "draft");
    assert_str(unit_jstr(r, "urgency"), "critical");
    json_decref(r);
    /* version 2 is a draft now: no third yet */
    FAILS(ERR_CONFLICT, try_create(f, x, a1, "withdrawal", COORD, NULL, &e));
    publish(f, a2, "['all']");
    OK(try_create(f, a3, a1, "withdrawal", COORD, NULL, &e));
    r = coord_get(f, a3);
    assert_int_equal(unit_jint(r, "version"), 3);
    assert_str(unit_jstr(r, "series_id"), a1);
    assert_str(unit_jstr(r, "kind"), "withdrawal");
    json_decref(r);
    /* another series starts at 1; version 1 keeps its own */
    new_alert(f, a4, HUB_E, NULL);
    r = coord_get(f, a4);
    assert_int_equal(unit_jint(r, "version"), 1);
    assert_str(unit_jstr(r, "series_id"), a4);
    json_decref(r);
    r = coord_get(f, a1);
    assert_int_equal(unit_jint(r, "version"), 1);
    assert_str(unit_jstr(r, "state"), "published");
    json_decref(r);
    /* the refused versions left nothing behind */
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alerts"), 4);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alerts WHERE series_id = '%s'", a1),
                     3);
    /* the series' versions, newest first, through the issuer side's list */
    struct store_release_access all = reader(f, COORD);
    struct store_alert_filter flt = {.state = "any", .exercise = -1, .series_id = a1};
    char got[128];
    list_names(f, &all, &flt, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A5,A3,A1"); /* the refused A2 and A4 were never made */
}

static void test_update(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN];
    new_alert(f, a1, HUB_E, NULL);
    json_t *before = coord_get(f, a1);
    /* the draft's content changes; who made it, its kind and series do not */
    json_t *row = alert_row(f, a1, NULL, "correction", COORD, U_COORD,
                            "{'body':{'title':{'ja':'新しい題','en':'New title'},"
                            "'actions':{'ja':'更新する'},'links':{'releases':[],'reports':[]},"
                            "'observables':[]},'urgency':'critical','exercise':true,"
                            "'audience':{'orgs':[],'sectors':['electricity'],'tiers':[],"
                            "'all_members':false},'tlp':'GREEN'}");
    json_object_set_new(row, "series_id", json_string("0190a000-0000-7000-8000-00000000beef"));
    json_object_set_new(row, "state", json_string("published"));
    OK(store_alert_update(f->st, row, &e));
    json_t *r = coord_get(f, a1);
    assert_true(json_equal(json_object_get(r, "body"), json_object_get(row, "body")));
    assert_str(unit_jstr(r, "urgency"), "critical");
    assert_true(json_is_true(json_object_get(r, "exercise")));
    assert_true(json_equal(json_object_get(r, "audience"), json_object_get(row, "audience")));
    assert_str(unit_jstr(r, "tlp"), "GREEN");
    static const char *const kept[] = {"id",        "series_id",  "kind",      "state",
                                       "issuer_org", "created_by", "created_at"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (!json_equal(json_object_get(r, kept[i]), json_object_get(before, kept[i]))) {
            print_error("update changed %s\n", kept[i]);
            fail();
        }
    assert_int_equal(unit_jint(r, "version"), 1);
    assert_true(strcmp(unit_jstr(r, "updated_at"), unit_jstr(r, "created_at")) >= 0);
    assert_true(json_is_null(json_object_get(r, "pub_seq")));
    json_decref(r);
    /* q= searches the new title, not the old one */
    struct store_release_access all = reader(f, COORD);
    struct store_alert_filter flt = {.state = "any", .exercise = -1, .q = "new title"};
    char got[64];
    list_names(f, &all, &flt, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A1");
    flt.q = "SCADA";
    list_names(f, &all, &flt, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "");

    /* published: no longer changed, and nothing changes */
    publish(f, a1, "['sector:electricity']");
    json_t *pub = coord_get(f, a1);
    json_object_set_new(row, "urgency", json_string("routine"));
    json_object_set_new(row, "tlp", json_string("CLEAR"));
    FAILS(ERR_CONFLICT, store_alert_update(f->st, row, &e));
    r = coord_get(f, a1);
    assert_true(json_equal(r, pub));
    json_decref(r);
    json_decref(pub);
    json_decref(row);
    json_decref(before);
}

/* ---- publish ---- */

static void test_publish(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN], a2[ID_LEN], a3[ID_LEN], a4[ID_LEN], got[1000];
    new_alert(f, a1, COORD, NULL);
    new_alert(f, a2, HUB_E, NULL);
    new_alert(f, a3, COORD, NULL);
    new_alert(f, a4, COORD, NULL);

    int64_t t0 = util_now_ms();
    int64_t s1 = publish(f, a1, "['sector:electricity']");
    int64_t t1 = util_now_ms();
    assert_int_equal(s1, 1);
    json_t *r = coord_get(f, a1);
    assert_str(unit_jstr(r, "state"), "published");
    assert_int_equal(unit_jint(r, "pub_seq"), s1);
    assert_str(unit_jstr(r, "published_by"), f->user[U_COORD]);
    assert_true(is_ms_time(unit_jstr(r, "published_at")));
    assert_str(unit_jstr(r, "updated_at"), unit_jstr(r, "published_at"));
    long at = fx_sql_long(f->dir, "SELECT published_at FROM alerts WHERE id = '%s'", a1);
    assert_true(at >= t0 && at <= t1);
    json_decref(r);
    sql_names(f, got, sizeof(got), "SELECT key AS x FROM alert_targets WHERE seq = %lld",
              (long long)s1);
    assert_names(got, "sector:electricity");
    /* recipients: the enabled organisations of the sector, the disabled one not */
    json_t *list = NULL;
    OK(store_alert_recipients(f->st, a1, &list, &e));
    org_names(f, list, got, sizeof(got));
    assert_names(got, "@HUB_E,@OP_E,@OP_EG");
    /* each recipient's shape, in org id order */
    size_t i;
    json_t *v;
    const char *prev = "";
    json_array_foreach(list, i, v)
    {
        assert_true(strcmp(unit_jstr(v, "org_id"), prev) > 0);
        prev = unit_jstr(v, "org_id");
        assert_int_equal(json_object_size(v), 4);
        assert_true(json_is_null(json_object_get(v, "escalated_at")));
        if (!strcmp(unit_jstr(v, "org_id"), f->org[HUB_E])) {
            assert_str(unit_jstr(v, "kind"), "sector_hub");
            assert_jsonq_eq(json_object_get(v, "name"), "{'ja':'組織HUB_E','en':'HUB_E'}");
        }
    }
    json_decref(list);
    /* the outbox: enabled, undeleted webhooks; e-mail contacts with their locale (ja default) */
    sql_names(f, got, sizeof(got),
              "SELECT org_id || ':' || channel || ':' || target || ':' || COALESCE(locale, '-')"
              " || ':' || state AS x FROM outbox WHERE alert_id = '%s'",
              a1);
    assert_names(got, "@HUB_E:email:hub@e.example.jp:ja:pending,"
                      "@OP_E:email:ciso@e.example.jp:en:pending,"
                      "@OP_E:email:soc@e.example.jp:ja:pending,"
                      "@OP_E:webhook:#E_ON:-:pending,"
                      "@OP_EG:email:x@eg.example.jp:en:pending");
    /* due at once (queued right after publication), never tried, not an escalation */
    assert_int_equal(fx_sql_long(f->dir,
                                 "SELECT COUNT(*) FROM outbox WHERE alert_id = '%s' AND"
                                 " next_at = created_at AND created_at >= %ld AND tries = 0 AND"
                                 " escalation = 0 AND last_error IS NULL",
                                 a1, at),
                     5);

    /* a hub's alert to all members: everyone enabled but the hub itself, the coordinator too */
    int64_t s2 = publish(f, a2, "['all']");
    assert_int_equal(s2, 2);
    OK(store_alert_recipients(f->st, a2, &list, &e));
    org_names(f, list, got, sizeof(got));
    assert_names(got, "@COORD,@OP_E,@OP_EG,@OP_G,@VEND");
    json_decref(list);
    sql_names(f, got, sizeof(got),
              "SELECT org_id || ':' || target || ':' || COALESCE(locale, '-') AS x FROM outbox"
              " WHERE alert_id = '%s'",
              a2);
    assert_names(got, "@COORD:soc@nisc.example.jp:ja,@OP_E:#E_ON:-,@OP_E:ciso@e.example.jp:en,"
                      "@OP_E:soc@e.example.jp:ja,@OP_EG:x@eg.example.jp:en,@OP_G:#G_ON:-");

    /* several keys reaching one organisation make one recipient; an issuer matching is none */
    int64_t s3 =
        publish(f, a3, "['org:@OP_G','tier:class1','sector:gas','org:@OP_G','org:@COORD']");
    assert_int_equal(s3, 3);
    OK(store_alert_recipients(f->st, a3, &list, &e));
    org_names(f, list, got, sizeof(got));
    assert_names(got, "@OP_EG,@OP_G");
    json_decref(list);
    sql_names(f, got, sizeof(got), "SELECT key AS x FROM alert_targets WHERE seq = %lld",
              (long long)s3);
    assert_names(got, "org:@COORD,org:@OP_G,sector:gas,tier:class1");
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE alert_id = '%s'", a3),
                     2);

    /* no key: published to nobody */
    int64_t s4 = publish(f, a4, "[]");
    assert_int_equal(s4, 4);
    OK(store_alert_recipients(f->st, a4, &list, &e));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE alert_id = '%s'", a4),
                     0);

    /* published already: refused, and nothing changes (no new seq, targets or outbox rows) */
    json_t *t = fjson(f, "['all']");
    int64_t seq = -7;
    json_t *pub = coord_get(f, a1);
    FAILS(ERR_CONFLICT, store_alert_publish(f->st, a1, f->user[U_HUB], t, &seq, &e));
    assert_int_equal(seq, -7);
    r = coord_get(f, a1);
    assert_true(json_equal(r, pub));
    json_decref(r);
    json_decref(pub);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_targets WHERE seq = %lld", (long long)s1),
        1);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_recipients WHERE alert_id = '%s'", a1), 3);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE alert_id = '%s'", a1),
                     5);
    assert_int_equal(fx_sql_long(f->dir, "SELECT MAX(pub_seq) FROM alerts"), 4);
    json_decref(t);

    /* a recipient of a draft: nobody */
    char a5[ID_LEN];
    new_alert(f, a5, COORD, NULL);
    OK(store_alert_recipients(f->st, a5, &list, &e));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    /* the event id continues after the others */
    assert_int_equal(publish(f, a5, "['all']"), 5);
}

/* What acc sees of A1..An: get, inbox, events, as "get|inbox|events". */
static void seen_str(struct fx *f, const struct store_release_access *acc, unsigned n, char *out,
                     size_t sz)
{
    char see[128], inbox[128], events[128];
    struct get_args g = {f, acc};
    fx_seen(get_one, &g, n, 'a', 'A', see, sizeof(see));
    list_names(f, acc, &INBOX, 0, NULL, 50, inbox, sizeof(inbox));
    events_names(f, acc, 0, 50, events, sizeof(events));
    snprintf(out, sz, "%s|%s|%s", see, inbox, events);
}

static void test_publish_snapshot(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN], a2[ID_LEN], got[1000];
    new_alert(f, a1, COORD, NULL);
    publish(f, a1, "['sector:electricity']");
    /* after publication: OP_E leaves the sector, OP_EG is disabled, NEW_E joins it */
    json_t *o = NULL;
    OK(store_org_get(f->st, f->org[OP_E], &o, &e));
    json_object_set_new(o, "sectors", unit_jsonq("['gas']"));
    OK(store_org_update(f->st, o, &e));
    json_decref(o);
    OK(store_org_get(f->st, f->org[OP_EG], &o, &e));
    json_object_set_new(o, "disabled", json_true());
    OK(store_org_update(f->st, o, &e));
    json_decref(o);
    char new_e[ID_LEN];
    util_uuid7(new_e);
    o = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:[s],s:[],s:b,s:s,s:s}", "id", new_e, "name", "ja",
                  "新規", "en", "NEW_E", "kind", "operator", "tier", "class2", "sectors",
                  "electricity", "contacts", "disabled", 0, "created_at", "2026-01-01T00:00:00Z",
                  "updated_at", "2026-01-01T00:00:00Z");
    OK(store_org_create(f->st, o, &e));
    json_decref(o);
    /* the recipients are what they were at publication */
    json_t *list = NULL;
    OK(store_alert_recipients(f->st, a1, &list, &e));
    org_names(f, list, got, sizeof(got));
    assert_names(got, "@HUB_E,@OP_E,@OP_EG");
    json_decref(list);
    /* a disabled recipient's receipt still counts: it was targeted; the newcomer's does not */
    struct store_receipt rc[] = {
        {a1, f->org[OP_EG], "delivered", "email", "", util_now_ms(), NULL},
        {a1, new_e, "read", "ui", "u-new", util_now_ms(), NULL},
    };
    OK(store_receipts_add(f->st, rc, 2, &e));
    assert_names(fx_sql_text(f->dir, got, sizeof(got),
                             "SELECT group_concat(org_id) FROM receipts WHERE alert_id = '%s'", a1),
                 f->org[OP_EG]);
    /* the next publication sees the organisations as they are now */
    new_alert(f, a2, COORD, NULL);
    publish(f, a2, "['sector:electricity']");
    OK(store_alert_recipients(f->st, a2, &list, &e));
    assert_int_equal(json_array_size(list), 2);
    bool hub = false, newcomer = false;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        hub |= !strcmp(unit_jstr(v, "org_id"), f->org[HUB_E]);
        newcomer |= !strcmp(unit_jstr(v, "org_id"), new_e);
    }
    assert_true(hub && newcomer);
    json_decref(list);

    /*
     * Who sees what follows the recipients fixed at publication, not the
     * organisations' keys now: OP_E keeps A1 though no longer of the
     * sector; NEW_E gets A2 only; OFF_E, disabled when both were
     * published, neither, though its keys match.
     */
    static const struct {
        const char *name;
        const char *want; /* get|inbox|events */
    } cases[] = {
        {"OP_E, moved to gas", "A1|A1|A1"},
        {"NEW_E, joined electricity", "A2|A2|A2"},
        {"OFF_E, disabled", "||"},
        {"HUB_E, both", "A1,A2|A2,A1|A1,A2"},
    };
    struct store_release_access acc[] = {
        /* as auth_alert_access() makes them of the organisations as they are now */
        fx_reader(f->org[OP_E], "operator", "class2", "['gas']"),
        fx_reader(new_e, "operator", "class2", "['electricity']"),
        fx_reader(f->org[OFF_E], "operator", "class2", "['electricity']"),
        reader(f, HUB_E),
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        seen_str(f, &acc[k], 2, got, sizeof(got));
        if (strcmp(got, cases[k].want))
            print_error("%s: want '%s', got '%s'\n", cases[k].name, cases[k].want, got);
        assert_string_equal(got, cases[k].want);
    }
}

/* A trigger on the store's file that fails every insert into table (when cond holds). */
static void fail_insert(struct fx *f, const char *table, const char *cond)
{
    fx_sql_ok(f->dir,
              "CREATE TRIGGER test_fail BEFORE INSERT ON %s WHEN %s"
              " BEGIN SELECT RAISE(ABORT, 'test: insert refused'); END",
              table, cond);
}

/* Nothing of a failed publication of id is left. */
static void assert_unpublished(struct fx *f, const char *id)
{
    json_t *r = coord_get(f, id);
    assert_str(unit_jstr(r, "state"), "draft");
    assert_true(json_is_null(json_object_get(r, "pub_seq")));
    assert_true(json_is_null(json_object_get(r, "published_at")));
    assert_true(json_is_null(json_object_get(r, "published_by")));
    assert_str(unit_jstr(r, "updated_at"), unit_jstr(r, "created_at"));
    json_decref(r);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_targets"), 0);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_recipients"), 0);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox"), 0);
}

/*
 * Between publication and queuing (a few milliseconds in the daemon), the
 * target keys decide who may read a version, as the stream fan-out does;
 * receipts are kept; then the recipients fixed by the queuing decide.
 */
static void test_publish_pending(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN];
    new_alert(f, a1, COORD, NULL);
    json_t *t = fjson(f, "['sector:gas']");
    int64_t seq = 0;
    OK(store_alert_publish(f->st, a1, f->user[U_COORD], t, &seq, &e));
    json_decref(t);
    struct store_release_access gas = reader(f, OP_G), elec = reader(f, OP_E);
    json_t *r = NULL;
    OK(store_alert_get(f->st, &gas, a1, &r, &e));
    json_decref(r);
    r = NULL;
    FAILS(ERR_NOTFOUND, store_alert_get(f->st, &elec, a1, &r, &e));
    json_t *ev = NULL;
    OK(store_alert_events(f->st, &gas, 0, 10, &ev, &e));
    assert_int_equal(json_array_size(ev), 1);
    json_decref(ev);
    struct store_receipt rc = {a1, f->org[OP_G], "delivered", "stream", "u", 1, NULL};
    OK(store_receipts_add(f->st, &rc, 1, &e));
    OK(store_alert_queue(f->st, a1, &e));
    OK(store_alert_get(f->st, &gas, a1, &r, &e));
    json_decref(r);
    r = NULL;
    FAILS(ERR_NOTFOUND, store_alert_get(f->st, &elec, a1, &r, &e));
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM receipts WHERE alert_id = '%s'", a1),
                     1);
}

static void test_publish_atomic(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN];
    new_alert(f, a1, COORD, NULL);
    /* the publication fails at its second target key */
    json_t *t = fjson(f, "['sector:electricity','all']");
    int64_t seq = -7;
    fail_insert(f, "alert_targets", "NEW.key = 'all'");
    FAILS(ERR_STORE, store_alert_publish(f->st, a1, f->user[U_COORD], t, &seq, &e));
    assert_int_equal(seq, -7);
    assert_unpublished(f, a1);
    fx_sql_ok(f->dir, "DROP TRIGGER test_fail");
    /* then it works, and the failure used up no event id; recipients come with the queuing */
    OK(store_alert_publish(f->st, a1, f->user[U_COORD], t, &seq, &e));
    assert_int_equal(seq, 1);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_targets"), 2);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_recipients"), 0);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox"), 0);
    /* queuing is its own transaction: a recipient, or the e-mails (after the webhooks), fail */
    static const struct {
        const char *table, *cond;
    } steps[] = {{"alert_recipients", "1"}, {"outbox", "NEW.channel = 'email'"}};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        fail_insert(f, steps[i].table, steps[i].cond);
        FAILS(ERR_STORE, store_alert_queue(f->st, a1, &e));
        assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alert_recipients"), 0);
        assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox"), 0);
        fx_sql_ok(f->dir, "DROP TRIGGER test_fail");
    }
    /* recovery (NULL) queues what was missed, once */
    OK(store_alert_queue(f->st, NULL, &e));
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox"), 6);
    OK(store_alert_queue(f->st, a1, &e));
    OK(store_alert_queue(f->st, NULL, &e));
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox"), 6);
    json_decref(t);
}

/* ---- who sees what ---- */

/*
 * The visibility cast, in event order (pub_seq):
 *   A3 COORD  org:@OP_G                       seq 1
 *   A1 COORD  all                             seq 2
 *   A4 COORD  tier:class2                     seq 3
 *   A2 COORD  sector:electricity, tier:class1 seq 4
 *   A6 HUB_E  sector:electricity              seq 5
 *   A8 COORD  sector:ict                      seq 6
 *   A5 COORD  draft (to all members)
 *   A7 HUB_E  draft
 */
static void visibility_cast(struct fx *f)
{
    char id[9][ID_LEN];
    for (int i = 1; i <= 8; i++)
        new_alert(f, id[i], i == 6 || i == 7 ? HUB_E : COORD, NULL);
    publish(f, id[3], "['org:@OP_G']");
    publish(f, id[1], "['all']");
    publish(f, id[4], "['tier:class2']");
    publish(f, id[2], "['sector:electricity','tier:class1']");
    publish(f, id[6], "['sector:electricity']");
    publish(f, id[8], "['sector:ict']");
}

enum rdr { RD_COORD, RD_HUB_E, RD_OP_E, RD_OP_G, RD_OP_EG, RD_VEND, RD_NONE, RD_NOKEYS, NRDR };

static struct store_release_access rdr_access(struct fx *f, enum rdr r)
{
    static const enum org of[] = {COORD, HUB_E, OP_E, OP_G, OP_EG, VEND};
    if (r < RD_NONE)
        return reader(f, of[r]);
    return r == RD_NONE ? fx_auditor(reader(f, COORD)) : fx_nobody();
}

static void test_visibility(void **state)
{
    struct fx *f = *state;
    visibility_cast(f);
    static const struct {
        const char *name;
        const char *inbox;  /* newest published first */
        const char *queue;  /* state "any": newest created first */
        const char *events; /* after 0: oldest first */
        const char *see;    /* store_alert_get succeeds, by number */
    } want[NRDR] = {
        /* the coordinator: everything, its own inbox included */
        [RD_COORD] = {"coordinator", "A8,A6,A2,A4,A1,A3", "A8,A7,A6,A5,A4,A3,A2,A1",
                      "A3,A1,A4,A2,A6,A8", "A1,A2,A3,A4,A5,A6,A7,A8"},
        /* the hub: its own in every state, but not in its inbox though its keys match */
        [RD_HUB_E] = {"hub electricity", "A2,A1", "A7,A6", "A1,A2,A6", "A1,A2,A6,A7"},
        /* recipients: published and targeted */
        [RD_OP_E] = {"operator electricity class2", "A6,A2,A4,A1", "", "A1,A4,A2,A6",
                     "A1,A2,A4,A6"},
        [RD_OP_G] = {"operator gas, named", "A1,A3", "", "A3,A1", "A1,A3"},
        [RD_OP_EG] = {"operator by two keys", "A6,A2,A1", "", "A1,A2,A6", "A1,A2,A6"},
        [RD_VEND] = {"vendor", "A8,A1", "", "A1,A8", "A1,A8"},
        [RD_NONE] = {"auditor", "", "", "", ""},
        [RD_NOKEYS] = {"no keys", "", "", "", ""},
    };
    int bad = 0;
    for (int w = 0; w < NRDR; w++) {
        struct store_release_access acc = rdr_access(f, w);
        char got[256];
        list_names(f, &acc, &INBOX, 0, NULL, 50, got, sizeof(got));
        fx_expect(&bad, want[w].name, "inbox", want[w].inbox, got);
        struct store_alert_filter latest = INBOX;
        latest.latest = true; /* one version per series here: the same */
        list_names(f, &acc, &latest, 0, NULL, 50, got, sizeof(got));
        fx_expect(&bad, want[w].name, "latest", want[w].inbox, got);
        struct store_alert_filter any = {.state = "any", .exercise = -1};
        list_names(f, &acc, &any, 0, NULL, 50, got, sizeof(got));
        fx_expect(&bad, want[w].name, "queue", want[w].queue, got);
        events_names(f, &acc, 0, 50, got, sizeof(got));
        fx_expect(&bad, want[w].name, "events", want[w].events, got);
        struct get_args g = {f, &acc};
        fx_seen(get_one, &g, 8, 'a', 'A', got, sizeof(got));
        fx_expect(&bad, want[w].name, "get", want[w].see, got);
    }
    assert_int_equal(bad, 0);

    /* the issuer side's list by state */
    static const struct {
        enum rdr who;
        const char *state, *want;
    } q[] = {
        {RD_COORD, "draft", "A7,A5"},
        {RD_COORD, "published", "A8,A6,A4,A3,A2,A1"},
        {RD_HUB_E, "draft", "A7"},
        {RD_HUB_E, "published", "A6"},
        {RD_OP_E, "published", ""},
        {RD_NONE, "draft", ""},
        {RD_COORD, "nonsense", ""},
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        struct store_release_access acc = rdr_access(f, q[i].who);
        struct store_alert_filter flt = {.state = q[i].state, .exercise = -1};
        char got[256];
        list_names(f, &acc, &flt, 0, NULL, 50, got, sizeof(got));
        if (strcmp(got, q[i].want)) {
            print_error("%s queue %s: want '%s', got '%s'\n", want[q[i].who].name, q[i].state,
                        q[i].want, got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_events(void **state)
{
    struct fx *f = *state;
    visibility_cast(f);
    char got[256];
    struct store_release_access op_e = rdr_access(f, RD_OP_E), all = rdr_access(f, RD_COORD);
    /* Last-Event-ID: strictly after, ascending, at most limit */
    events_names(f, &op_e, 3, 50, got, sizeof(got));
    assert_names(got, "A2,A6");
    events_names(f, &op_e, 2, 50, got, sizeof(got));
    assert_names(got, "A4,A2,A6");
    events_names(f, &op_e, 0, 1, got, sizeof(got));
    assert_names(got, "A1");
    events_names(f, &op_e, 5, 50, got, sizeof(got));
    assert_names(got, "");
    events_names(f, &all, 4, 50, got, sizeof(got));
    assert_names(got, "A6,A8");
    events_names(f, &all, 6, 50, got, sizeof(got));
    assert_names(got, "");
    /* replayed page by page: every event once, in order */
    char pages[256] = "";
    int64_t after = 0;
    for (int page = 0; page < 10; page++) {
        struct err e;
        json_t *arr = NULL;
        OK(store_alert_events(f->st, &all, after, 4, &arr, &e));
        if (json_array_size(arr) == 0) {
            json_decref(arr);
            break;
        }
        fx_names(arr, 'A', got, sizeof(got));
        fx_append_page(pages, sizeof(pages), page, got);
        json_t *last = json_array_get(arr, json_array_size(arr) - 1);
        assert_true(unit_jint(last, "pub_seq") > after);
        after = unit_jint(last, "pub_seq");
        json_decref(arr);
    }
    assert_names(pages, "A3,A1,A4,A2|A6,A8");
    /* a draft published later is a new event at the end */
    char a5[ID_LEN];
    alert_id(5, a5);
    assert_int_equal(publish(f, a5, "['all']"), 7);
    events_names(f, &op_e, 5, 50, got, sizeof(got));
    assert_names(got, "A5");
}

static void test_paging(void **state)
{
    struct fx *f = *state;
    visibility_cast(f);
    char got[256];
    /* the inbox pages by pub_seq */
    static const struct {
        enum rdr who;
        const char *pages; /* limit 2 per page, pages separated by '|' */
    } inbox[] = {
        {RD_COORD, "A8,A6|A2,A4|A1,A3"},
        {RD_OP_E, "A6,A2|A4,A1"},
        {RD_HUB_E, "A2,A1"},
        {RD_OP_G, "A1,A3"},
    };
    for (size_t i = 0; i < sizeof(inbox) / sizeof(inbox[0]); i++) {
        struct store_release_access acc = rdr_access(f, inbox[i].who);
        struct list_args a = {f, &acc, &INBOX};
        char all[256];
        fx_pages(list_page, &a, true, 'A', 2, all, sizeof(all));
        if (strcmp(all, inbox[i].pages))
            print_error("inbox pages %zu: want '%s', got '%s'\n", i, inbox[i].pages, all);
        assert_string_equal(all, inbox[i].pages);
    }
    /* the issuer side's list pages by id */
    static const struct {
        enum rdr who;
        const char *state, *pages; /* limit 3 */
    } queue[] = {
        {RD_COORD, "any", "A8,A7,A6|A5,A4,A3|A2,A1"},
        {RD_COORD, "published", "A8,A6,A4|A3,A2,A1"},
        {RD_HUB_E, "any", "A7,A6"},
    };
    for (size_t i = 0; i < sizeof(queue) / sizeof(queue[0]); i++) {
        struct store_release_access acc = rdr_access(f, queue[i].who);
        struct store_alert_filter flt = {.state = queue[i].state, .exercise = -1};
        struct list_args a = {f, &acc, &flt};
        char all[256];
        fx_pages(list_page, &a, false, 'A', 3, all, sizeof(all));
        if (strcmp(all, queue[i].pages))
            print_error("queue pages %zu: want '%s', got '%s'\n", i, queue[i].pages, all);
        assert_string_equal(all, queue[i].pages);
    }
    /* limit 0: nothing */
    struct store_release_access all = rdr_access(f, RD_COORD);
    list_names(f, &all, &INBOX, 0, NULL, 0, got, sizeof(got));
    assert_names(got, "");
}

/* ---- the inbox's latest versions and filters ---- */

static void test_latest(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN], a2[ID_LEN], a3[ID_LEN], a4[ID_LEN], a5[ID_LEN], got[256];
    /* series A1: v1 A1, v2 A2 (published), v3 A4 (draft); series A3 between them */
    new_alert(f, a1, COORD, NULL);
    publish(f, a1, "['all']");
    OK(try_create(f, a2, a1, "correction", COORD, "{'urgency':'critical'}", &e));
    new_alert(f, a3, COORD, NULL);
    publish(f, a3, "['all']");
    publish(f, a2, "['all']");
    OK(try_create(f, a4, a1, "withdrawal", COORD, NULL, &e));
    /* a hub's series: v1 A5 */
    new_alert(f, a5, HUB_E, NULL);
    publish(f, a5, "['sector:electricity']");

    struct store_alert_filter latest = INBOX;
    latest.latest = true;
    static const struct {
        enum rdr who;
        const char *every, *latest;
    } want[] = {
        {RD_COORD, "A5,A2,A3,A1", "A5,A2,A3"},
        {RD_OP_E, "A5,A2,A3,A1", "A5,A2,A3"},
        {RD_OP_G, "A2,A3,A1", "A2,A3"},
        {RD_HUB_E, "A2,A3,A1", "A2,A3"}, /* its own A5 is not in its inbox */
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct store_release_access acc = rdr_access(f, want[i].who);
        list_names(f, &acc, &INBOX, 0, NULL, 50, got, sizeof(got));
        assert_names(got, want[i].every);
        list_names(f, &acc, &latest, 0, NULL, 50, got, sizeof(got));
        assert_names(got, want[i].latest);
    }
    /* a filter applies to the latest version: the series is critical now */
    struct store_release_access op_g = rdr_access(f, RD_OP_G);
    latest.urgency = "routine";
    list_names(f, &op_g, &latest, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A3");
    latest.urgency = "critical";
    list_names(f, &op_g, &latest, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A2");
    /* paging keeps to the latest versions */
    latest.urgency = NULL;
    list_names(f, &op_g, &latest, 0, NULL, 1, got, sizeof(got));
    assert_names(got, "A2");
    json_t *arr = NULL;
    OK(store_alert_list(f->st, &op_g, &latest, 0, NULL, 1, &arr, &e));
    int64_t after = unit_jint(json_array_get(arr, 0), "pub_seq");
    json_decref(arr);
    list_names(f, &op_g, &latest, after, NULL, 50, got, sizeof(got));
    assert_names(got, "A3");
    /* the withdrawal, once published, is the latest in turn */
    publish(f, a4, "['all']");
    list_names(f, &op_g, &latest, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A4,A3");
    /* the series filter: every version of it, newest first */
    struct store_alert_filter series = INBOX;
    series.series_id = a1;
    list_names(f, &op_g, &series, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A4,A2,A1");
    series.latest = true;
    list_names(f, &op_g, &series, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A4");

    /* A correction that narrows the audience: earlier recipients keep the version they got. */
    char a6[ID_LEN];
    OK(try_create(f, a6, a3, "correction", COORD, NULL, &e));
    publish(f, a6, "['sector:electricity']");
    struct store_release_access op_e = rdr_access(f, RD_OP_E);
    list_names(f, &op_e, &latest, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A6,A4,A5");
    list_names(f, &op_g, &latest, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A4,A3");
}

static void test_filters(void **state)
{
    struct fx *f = *state;
    char id[7][ID_LEN], got[256];
    /* A1..A6 with distinct urgency, exercise and titles */
    static const char *const over[] = {
        NULL,
        "{'urgency':'routine'}",
        "{'urgency':'urgent','exercise':true}",
        "{'urgency':'critical','body':{'title':{'ja':'訓練用の警報'},'actions':{'ja':'対処'},"
        "'summary':{'en':'SCADA in the summary only'}}}",
        "{'urgency':'routine','body':{'title':{'en':'Ransomware wave'},'actions':{'en':'Backup'}}}",
        "{'urgency':'urgent','body':{'title':{'ja':'ランサムウェア','en':'Phishing'},"
        "'actions':{'en':'Train'}},'exercise':true}",
        "{'urgency':'critical'}",
    };
    for (int i = 1; i <= 6; i++) {
        new_alert(f, id[i], COORD, over[i]);
        publish(f, id[i], "['all']");
    }
    /* known times: published (inbox) and created (issuer side) at i * 1000 s */
    for (int i = 1; i <= 6; i++)
        fx_sql_ok(
            f->dir,
            "UPDATE alerts SET published_at = %d000000, created_at = %d000500 WHERE id = '%s'", i,
            i, id[i]);
    struct store_release_access op = rdr_access(f, RD_OP_G), all = rdr_access(f, RD_COORD);
    static const struct {
        const char *urgency;
        int exercise;
        int64_t since, until;
        const char *q, *want;
    } cases[] = {
        {NULL, -1, 0, 0, NULL, "A6,A5,A4,A3,A2,A1"},
        {NULL, 0, 0, 0, NULL, "A6,A4,A3,A1"}, /* real traffic only */
        {NULL, 1, 0, 0, NULL, "A5,A2"},       /* exercises only */
        {"routine", -1, 0, 0, NULL, "A4,A1"},
        {"urgent", -1, 0, 0, NULL, "A5,A2"},
        {"critical", -1, 0, 0, NULL, "A6,A3"},
        {"critical", 0, 0, 0, NULL, "A6,A3"},
        {"urgent", 0, 0, 0, NULL, ""},
        {"nonsense", -1, 0, 0, NULL, ""},
        /* since inclusive, until exclusive, in milliseconds of published_at */
        {NULL, -1, 2000000, 0, NULL, "A6,A5,A4,A3,A2"},
        {NULL, -1, 2000001, 0, NULL, "A6,A5,A4,A3"},
        {NULL, -1, 0, 4000000, NULL, "A3,A2,A1"},
        {NULL, -1, 0, 4000001, NULL, "A4,A3,A2,A1"},
        {NULL, -1, 2000000, 4000001, NULL, "A4,A3,A2"},
        {NULL, 1, 2000000, 4000001, NULL, "A2"},
        {NULL, -1, 7000000, 0, NULL, ""},
        /* q: the title in either language, ASCII case ignored; not the summary */
        {NULL, -1, 0, 0, "scada", "A6,A2,A1"},
        {NULL, -1, 0, 0, "SCADA GATEWAY", "A6,A2,A1"},
        {NULL, -1, 0, 0, "脆弱性", "A6,A2,A1"},
        {NULL, -1, 0, 0, "訓練", "A3"},
        {NULL, -1, 0, 0, "ランサム", "A5"},
        {NULL, -1, 0, 0, "ransomware", "A4"},
        {NULL, -1, 0, 0, "phish", "A5"},
        {NULL, 0, 0, 0, "phish", ""},
        {NULL, -1, 0, 0, "backup", ""},
        {NULL, -1, 0, 0, "%", ""},
        {"routine", -1, 0, 0, "flaw", "A1"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int w = 0; w < 2; w++) {
            struct store_alert_filter flt = {.urgency = cases[i].urgency,
                                             .exercise = cases[i].exercise,
                                             .since_ms = cases[i].since,
                                             .until_ms = cases[i].until,
                                             .q = cases[i].q};
            list_names(f, w ? &all : &op, &flt, 0, NULL, 50, got, sizeof(got));
            if (strcmp(got, cases[i].want)) {
                print_error("inbox case %zu (%s): want '%s', got '%s'\n", i,
                            w ? "coordinator" : "recipient", cases[i].want, got);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);

    /* the issuer side's list: the same filters, the window on created_at */
    static const struct {
        const char *state, *urgency;
        int exercise;
        int64_t since, until;
        const char *q, *want;
    } queue[] = {
        {"any", NULL, -1, 0, 0, NULL, "A6,A5,A4,A3,A2,A1"},
        {"any", NULL, 0, 0, 0, NULL, "A6,A4,A3,A1"},
        {"published", "urgent", 1, 0, 0, NULL, "A5,A2"},
        {"any", NULL, -1, 2000500, 5000500, NULL, "A4,A3,A2"},
        {"any", NULL, -1, 2000501, 5000501, NULL, "A5,A4,A3"},
        {"any", NULL, -1, 2000000, 2000499, NULL, ""}, /* published, not created then */
        {"any", NULL, -1, 0, 0, "ransom", "A4"},
        {"draft", NULL, -1, 0, 0, NULL, ""},
    };
    for (size_t i = 0; i < sizeof(queue) / sizeof(queue[0]); i++) {
        struct store_alert_filter flt = {.state = queue[i].state,
                                         .urgency = queue[i].urgency,
                                         .exercise = queue[i].exercise,
                                         .since_ms = queue[i].since,
                                         .until_ms = queue[i].until,
                                         .q = queue[i].q};
        list_names(f, &all, &flt, 0, NULL, 50, got, sizeof(got));
        if (strcmp(got, queue[i].want)) {
            print_error("queue case %zu: want '%s', got '%s'\n", i, queue[i].want, got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);

    /* the series filter: one series of the six; and a series nobody has */
    struct store_alert_filter flt = {.exercise = -1, .series_id = id[3]};
    list_names(f, &op, &flt, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "A3");
    flt.series_id = "0190a000-0000-7000-8000-00000000beef";
    list_names(f, &op, &flt, 0, NULL, 50, got, sizeof(got));
    assert_names(got, "");
    /* filters combine with paging */
    struct store_alert_filter urgent = {.exercise = -1, .urgency = "critical"};
    list_names(f, &op, &urgent, 6, NULL, 50, got, sizeof(got)); /* A6 has seq 6 */
    assert_names(got, "A3");
}

/* ---- receipts ---- */

static void test_receipts(void **state)
{
    struct fx *f = *state;
    struct err e;
    char a1[ID_LEN], a2[ID_LEN], got[1000];
    new_alert(f, a1, COORD, NULL);
    publish(f, a1, "['sector:electricity']"); /* HUB_E, OP_E, OP_EG */
    new_alert(f, a2, COORD, NULL);            /* a draft: no recipients */
    const char *ope = f->org[OP_E], *u1 = f->user[U_OPE];
    const char *u2 = "0190a000-0000-7000-8000-0000000000u2"; /* a user the store never saw */
    int64_t t = 1800000000000;
    struct store_receipt first[] = {
        {a1, ope, "delivered", "inbox", u1, t + 10, NULL},
        {a1, ope, "delivered", "stream", u1, t + 20, NULL},
        {a1, ope, "delivered", "stream", u2, t + 30, NULL}, /* per user */
        {a1, ope, "delivered", "webhook", NULL, t + 40, NULL},
        {a1, ope, "read", "ui", u1, t + 50, "first look"},
        {a1, ope, "acted", "api", u1, t + 60, "patched"},
        {a1, f->org[OP_EG], "read", "api", u2, t + 5, NULL},
        /* not targeted: the issuer, an operator of another sector, the disabled one */
        {a1, f->org[COORD], "read", "ui", f->user[U_COORD], t + 1, NULL},
        {a1, f->org[OP_G], "read", "ui", u2, t + 2, NULL},
        {a1, f->org[OFF_E], "delivered", "email", "", t + 3, NULL},
        /* a draft has no recipients */
        {a2, ope, "read", "ui", u1, t + 4, NULL},
    };
    OK(store_receipts_add(f->st, first, sizeof(first) / sizeof(first[0]), &e));
    /* again, later, other notes: the first time stays; acted takes the new note */
    struct store_receipt again[] = {
        {a1, ope, "delivered", "inbox", u1, t + 100, NULL},
        {a1, ope, "read", "ui", u1, t + 110, "second look"},
        {a1, ope, "acted", "api", u1, t + 120, "rebooted too"},
        {a1, ope, "delivered", "webhook", "", t + 130, NULL},
    };
    OK(store_receipts_add(f->st, again, sizeof(again) / sizeof(again[0]), &e));
    /* an acted without a note keeps the note it has */
    struct store_receipt bare = {a1, ope, "acted", "api", u1, t + 140, NULL};
    OK(store_receipts_add(f->st, &bare, 1, &e));
    OK(store_receipts_add(f->st, NULL, 0, &e));

    json_t *receipts = NULL, *recipients = NULL;
    OK(store_alert_receipts(f->st, a1, &receipts, &recipients, &e));
    json_t *want = fjson(
        f, "[{'org_id':'@OP_EG','kind':'read','channel':'api',"
           "'user_id':'0190a000-0000-7000-8000-0000000000u2','at':1800000000005,'note':null},"
           "{'org_id':'@OP_E','kind':'delivered','channel':'inbox','user_id':'U1',"
           "'at':1800000000010,'note':null},"
           "{'org_id':'@OP_E','kind':'delivered','channel':'stream','user_id':'U1',"
           "'at':1800000000020,'note':null},"
           "{'org_id':'@OP_E','kind':'delivered','channel':'stream',"
           "'user_id':'0190a000-0000-7000-8000-0000000000u2','at':1800000000030,'note':null},"
           "{'org_id':'@OP_E','kind':'delivered','channel':'webhook','user_id':'',"
           "'at':1800000000040,'note':null},"
           "{'org_id':'@OP_E','kind':'read','channel':'ui','user_id':'U1',"
           "'at':1800000000050,'note':'first look'},"
           "{'org_id':'@OP_E','kind':'acted','channel':'api','user_id':'U1',"
           "'at':1800000000060,'note':'rebooted too'}]");
    /* the user id is not an organisation: put it in */
    size_t i;
    json_t *v;
    json_array_foreach(want, i, v)
    {
        if (!strcmp(unit_jstr(v, "user_id"), "U1"))
            json_object_set_new(v, "user_id", json_string(u1));
    }
    if (!json_equal(receipts, want)) {
        char *g = json_dumps(receipts, JSON_COMPACT);
        print_error("receipts: %s\n", g);
        free(g);
    }
    assert_true(json_equal(receipts, want));
    json_decref(want);
    org_names(f, recipients, got, sizeof(got));
    assert_names(got, "@HUB_E,@OP_E,@OP_EG");
    json_array_foreach(recipients, i, v)
    {
        assert_true(json_is_null(json_object_get(v, "escalated_at")));
        assert_non_null(unit_jstr(v, "kind"));
        assert_non_null(json_object_get(v, "name"));
    }
    json_decref(receipts);
    json_decref(recipients);

    /* the draft: none of either; an alert that does not exist: empty too */
    OK(store_alert_receipts(f->st, a2, &receipts, &recipients, &e));
    assert_int_equal(json_array_size(receipts), 0);
    assert_int_equal(json_array_size(recipients), 0);
    json_decref(receipts);
    json_decref(recipients);
    OK(store_alert_receipts(f->st, "0190a000-0000-7000-8000-00000000beef", &receipts,
                            &recipients, &e));
    assert_int_equal(json_array_size(receipts), 0);
    assert_int_equal(json_array_size(recipients), 0);
    json_decref(receipts);
    json_decref(recipients);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM receipts"), 7);

    /* a batch is one write: a bad receipt in it keeps the good ones out too */
    struct store_receipt mixed[] = {
        {a1, f->org[HUB_E], "read", "ui", u2, t + 200, NULL},
        {a1, f->org[HUB_E], NULL, "ui", u2, t + 210, NULL},
    };
    FAILS(ERR_STORE, store_receipts_add(f->st, mixed, 2, &e));
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM receipts"), 7);
    OK(store_receipts_add(f->st, mixed, 1, &e));
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM receipts"), 8);
}

/* ---- the error contract ---- */

/*
 * store.h: "ERR_NOTFOUND when the object does not exist" holds for every
 * function; CONFLICT is for an alert that exists in another state.
 */
static void test_missing(void **state)
{
    struct fx *f = *state;
    struct err e1, e2;
    char a1[ID_LEN];
    alert_id(99, a1);
    json_t *row = alert_row(f, a1, NULL, "alert", COORD, U_COORD, NULL);
    json_t *t = fjson(f, "['all']");
    int64_t seq = -7;
    err_init(&e1);
    err_init(&e2);
    int up = store_alert_update(f->st, row, &e1);
    int pub = store_alert_publish(f->st, a1, f->user[U_COORD], t, &seq, &e2);
    json_decref(t);
    json_decref(row);
    if (up != ERR_NOTFOUND || pub != ERR_NOTFOUND)
        print_error("an alert that does not exist: update %d (%s), publish %d (%s)\n", up,
                    e1.detail, pub, e2.detail);
    assert_int_equal(seq, -7);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM alerts"), 0);
    assert_int_equal(up, ERR_NOTFOUND);
    assert_int_equal(pub, ERR_NOTFOUND);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_get),  T(test_versions),        T(test_update),
        T(test_publish),     T(test_publish_snapshot), T(test_publish_atomic), T(test_publish_pending),
        T(test_visibility),  T(test_events),          T(test_paging),
        T(test_latest),      T(test_filters),         T(test_receipts),
        T(test_missing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
