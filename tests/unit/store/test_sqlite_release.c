/*
 * test_sqlite_release.c - unit tests of src/store through store.h for
 * releases, their targets and states, consent requests, settings, member
 * counts (SQLite backend, sqlite_release.c) and store_report_content_at
 * (sqlite_report.c).
 *
 * Each test gets a fresh store in <tmp>/data with a fixed cast of
 * organisations (one per shape of reader that release targets tell apart)
 * and reports created through the store API. Report and release ids come
 * from counters, so "newest created first" is a known order, and lists
 * are compared as strings of short names ("R3,R1"). Readers' access is
 * built here as auth_release_access() builds it (keys "all", "org:<id>",
 * "tier:<t>", "sector:<s>", and "hub:<s>" for hubs); tests/unit/auth checks
 * that auth builds the same.
 */
#include "../unit.h"

#include <sodium.h>
#include <sqlite3.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/member.h"
#include "model/report.h"
#include "store/store.h"

#include "fixture.h"

#define ID_LEN (UTIL_UUID_LEN + 1)

/* The organisations of every test: [who] = {code, kind, sectors, tier}. */
enum org {
    REP,    /* operator, electricity, class1: files most reports */
    REP2,   /* operator, gas, class2: files the others */
    OP_E,   /* operator, electricity, class2: a recipient by sector or tier */
    OP_G,   /* operator, gas, general: a recipient by name */
    COORD,  /* coordinator */
    HUB_E,  /* sector hub, electricity */
    HUB_G,  /* sector hub, gas */
    MIN_E,  /* ministry, electricity: by sector, never as a hub */
    VEND,   /* vendor, ict, general: only what goes to all members */
    NORGS
};
static const struct {
    const char *code, *kind, *sectors, *tier;
} org_def[NORGS] = {
    [REP] = {"REP", "operator", "['electricity']", "class1"},
    [REP2] = {"REP2", "operator", "['gas']", "class2"},
    [OP_E] = {"OP_E", "operator", "['electricity']", "class2"},
    [OP_G] = {"OP_G", "operator", "['gas']", "general"},
    [COORD] = {"COORD", "coordinator", "[]", "class1"},
    [HUB_E] = {"HUB_E", "sector_hub", "['electricity']", "general"},
    [HUB_G] = {"HUB_G", "sector_hub", "['gas']", "general"},
    [MIN_E] = {"MIN_E", "ministry", "['electricity']", "general"},
    [VEND] = {"VEND", "vendor", "['ict']", "general"},
};

enum user { U_REP, U_REP2, U_COORD, NUSERS };
static const struct {
    enum org org;
    const char *login;
} user_def[NUSERS] = {
    [U_REP] = {REP, "sato"},
    [U_REP2] = {REP2, "tanaka"},
    [U_COORD] = {COORD, "nisc"},
};

struct fx {
    char *tmp;
    char dir[1100];
    struct store *st;
    char org[NORGS][ID_LEN];
    char user[NUSERS][ID_LEN];
    const char *code[NORGS];   /* org_def's, for fx_json_orgs() */
    unsigned rep_seq, rel_seq; /* report and release ids */
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (fx_open(&f->tmp, f->dir, sizeof(f->dir), &f->st)) {
        free(f);
        return -1;
    }
    for (int i = 0; i < NORGS; i++) {
        f->code[i] = org_def[i].code;
        fx_org(f->st, f->org[i], org_def[i].code, org_def[i].code, org_def[i].kind, org_def[i].tier,
               org_def[i].sectors, NULL, false);
    }
    for (int i = 0; i < NUSERS; i++)
        fx_user(f->st, f->user[i], f->org[user_def[i].org], user_def[i].login, user_def[i].login,
                "['member']", NULL);
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

/*
 * JSON text with ' for " and "@CODE" for the id of organisation CODE
 * (org_def), so audiences and targets read as what they mean.
 */
static json_t *fjson(struct fx *f, const char *text)
{
    return fx_json_orgs(text, f->code, f->org, NORGS);
}

/* ---- reports, as the API files them ---- */

/* Report content as model_report_check + finish make it, with overrides merged. */
static json_t *report_content(const char *overrides)
{
    json_t *base = unit_jsonq(
        "{'kind':'incident','event_type':'malware','causes':[],'layer':null,"
        "'severity':{'continuity':null,'safety':null,'trust':null},"
        "'sectors':['electricity'],'service':null,'title':'Report','description':'details',"
        "'occurred_at':null,'detected_at':null,'recovered_at':null,'basis':null,'regime':null,"
        "'status':'open','followup':null,'contact':null,'share_with_hub':false,"
        "'observables':[],'audience':{'orgs':[],'sectors':[],'tiers':[],'all_members':false},"
        "'tlp':'AMBER','purpose':null,'handling':null}");
    json_t *o = unit_jsonq(overrides ? overrides : "{}");
    json_t *c = model_merge(base, o);
    struct err e;
    err_init(&e);
    assert_int_equal(model_report_finish(c, &e), 0);
    json_decref(o);
    json_decref(base);
    return c;
}

/* A fresh report of org (stage "first", or "draft"), its id to id. */
static void new_report(struct fx *f, char *id, enum org org, enum user user, const char *stage,
                       const char *overrides)
{
    struct err e;
    fx_num_id(++f->rep_seq, '8', id);
    json_t *c = report_content(overrides);
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O,s:b,s:n,s:n}", "id", id, "org_id",
                            f->org[org], "created_by", f->user[user], "stage", stage, "revision",
                            1, "content", c, "submitted", strcmp(stage, "draft") != 0, "due_at",
                            "due_stage");
    json_t *rev = json_pack("{s:i,s:s,s:s,s:n,s:o}", "n", 1, "stage", stage, "user_id",
                            f->user[user], "reason", "changes", model_report_diff(json_null(), c));
    OK(store_report_create(f->st, row, rev, NULL, NULL, &e));
    json_decref(rev);
    json_decref(row);
    json_decref(c);
}

/* Append revision expected+1 of report id with overrides merged into its content. */
static void revise_report(struct fx *f, const char *id, int expected, enum org org,
                          enum user user, const char *stage, const char *overrides)
{
    struct err e;
    struct store_report_access own = {.org_id = f->org[org]};
    json_t *cur = NULL;
    OK(store_report_get(f->st, &own, id, false, &cur, &e));
    json_t *before = json_object();
    for (const char *const *k = model_report_fields; *k; k++)
        if (json_object_get(cur, *k))
            json_object_set(before, *k, json_object_get(cur, *k));
    json_t *o = unit_jsonq(overrides);
    json_t *after = model_merge(before, o);
    OK(model_report_finish(after, &e));
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O,s:b,s:n,s:n}", "id", id, "org_id",
                            f->org[org], "created_by", f->user[user], "stage", stage, "revision",
                            expected + 1, "content", after, "submitted", 1, "due_at",
                            "due_stage");
    json_t *rev = json_pack("{s:i,s:s,s:s,s:n,s:o}", "n", expected + 1, "stage", stage,
                            "user_id", f->user[user], "reason", "changes",
                            model_report_diff(before, after));
    OK(store_report_revise(f->st, row, expected, rev, NULL, NULL, &e));
    json_decref(rev);
    json_decref(row);
    json_decref(after);
    json_decref(o);
    json_decref(before);
    json_decref(cur);
}

/* ---- releases ---- */

static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";

/* Release content as anon_propose makes it, with overrides merged. */
static json_t *release_content(const char *overrides)
{
    json_t *base = unit_jsonq(
        "{'kind':'incident','event_type':'malware','causes':[],'layer':null,"
        "'severity':{'continuity':1,'safety':null,'trust':null,'overall':1},"
        "'sectors':['electricity'],'service':null,'title':'Release',"
        "'description':'[host-0a1b2c] was hit','occurred_at':null,'detected_at':null,"
        "'recovered_at':null,'status':'open','followup':null,"
        "'observables':[{'type':'ipv4','value':'192.0.2.1','role':'attacker'}],"
        "'provider':{'ja':'電力分野の事業者','en':'an operator in the electricity sector'}}");
    json_t *o = unit_jsonq(overrides ? overrides : "{}");
    json_t *c = model_merge(base, o);
    json_decref(o);
    json_decref(base);
    return c;
}

/* Release ids by number: R<n> is the n-th release made in a test. */
static void rel_id(unsigned n, char *id)
{
    fx_num_id(n, '9', id);
}

/* A draft release row of report report_id (provider org), as the API builds it. */
static json_t *release_row(struct fx *f, const char *id, const char *report_id, enum org org,
                           const char *content, const char *audience, const char *tlp)
{
    json_t *r = json_pack(
        "{s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:s,s:n,s:s,s:s}", "id", id, "report_id", report_id,
        "org_id", f->org[org], "report_revision", 1, "content", release_content(content),
        "redactions",
        unit_jsonq("[{'id':'r1','field':'description','start':0,'end':10,"
                   "'original':'scada-gw01','placeholder':'[host-0a1b2c]','rule':'org:hostname',"
                   "'kind':'host'}]"),
        "audience",
        fjson(f, audience ? audience
                          : "{'hub':false,'orgs':[],'sectors':[],'tiers':[],'all_members':false}"),
        "tlp", tlp ? tlp : "AMBER", "purpose", "handling", "no forwarding", "created_by",
        f->user[U_COORD]);
    assert_non_null(r);
    return r;
}

/* Create the next release R<n> of a report; its id to id, the store's rc returned. */
static int try_release(struct fx *f, char *id, const char *report_id, enum org org,
                       const char *content, const char *audience, struct err *e)
{
    rel_id(++f->rel_seq, id);
    json_t *r = release_row(f, id, report_id, org, content, audience, NULL);
    err_init(e);
    int rc = store_release_create(f->st, r, KEY, sizeof(KEY), e);
    json_decref(r);
    return rc;
}

static void new_release(struct fx *f, char *id, const char *report_id, enum org org,
                        const char *content, const char *audience)
{
    struct err e;
    OK(try_release(f, id, report_id, org, content, audience, &e));
}

static struct store_release_access coord_access(struct fx *f)
{
    struct store_release_access a;
    memset(&a, 0, sizeof(a));
    a.all = true;
    a.org_id = f->org[COORD];
    return a;
}

/* A release as the coordinator sees it (every field). */
static json_t *rel_get(struct fx *f, const char *id)
{
    struct err e;
    struct store_release_access all = coord_access(f);
    json_t *r = NULL;
    OK(store_release_get(f->st, &all, id, &r, NULL, 0, &e));
    return r;
}

/*
 * Move release id from state from to state to as the API does: the stored
 * row with state, actor and note set, and targets (fjson text, or NULL).
 * Returns the store's rc.
 */
static int try_move(struct fx *f, const char *id, const char *from, const char *to,
                    enum user actor, const char *note, const char *targets, struct err *e)
{
    json_t *r = rel_get(f, id);
    json_object_set_new(r, "state", json_string(to));
    json_object_set_new(r, "actor", json_string(f->user[actor]));
    json_object_set_new(r, "note", note ? json_string(note) : json_null());
    json_t *t = targets ? fjson(f, targets) : NULL;
    err_init(e);
    int rc = store_release_update(f->st, r, from, t, e);
    json_decref(t);
    json_decref(r);
    return rc;
}

static void move(struct fx *f, const char *id, const char *from, const char *to,
                 enum user actor, const char *note, const char *targets)
{
    struct err e;
    OK(try_move(f, id, from, to, actor, note, targets, &e));
}

/*
 * Walk a draft through the workflow to state to ("pending", "approved",
 * "refused", "published", "withdrawn"); targets are those it is published with.
 */
static void advance(struct fx *f, const char *id, const char *to, enum user provider,
                    const char *targets)
{
    move(f, id, "draft", "pending", U_COORD, NULL, NULL);
    if (!strcmp(to, "pending"))
        return;
    if (!strcmp(to, "refused")) {
        move(f, id, "pending", "refused", provider, "not yet", NULL);
        return;
    }
    move(f, id, "pending", "approved", provider, NULL, NULL);
    if (!strcmp(to, "approved"))
        return;
    move(f, id, "approved", "published", U_COORD, NULL, targets);
    if (!strcmp(to, "withdrawn"))
        move(f, id, "published", "withdrawn", U_COORD, "wrong", NULL);
}

/* The targets of release id as one string, org ids back as "@CODE", sorted. */
static void targets_str(struct fx *f, const char *id, char *out, size_t n)
{
    char sql[300], raw[2000] = "";
    snprintf(sql, sizeof(sql),
             "SELECT COALESCE(group_concat(key, ','), '') FROM release_targets t JOIN releases r"
             " ON r.pub_seq = t.seq WHERE r.id = '%s'",
             id);
    assert_int_equal(fx_sql(f->dir, sql, raw, sizeof(raw)), SQLITE_OK);
    char *keys[64];
    size_t nk = 0;
    char *save = NULL;
    for (char *k = strtok_r(raw, ",", &save); k && nk < 64; k = strtok_r(NULL, ",", &save)) {
        char name[80];
        util_strlcpy(name, k, sizeof(name));
        for (int i = 0; i < NORGS; i++)
            if (!strncmp(k, "org:", 4) && !strcmp(k + 4, f->org[i]))
                snprintf(name, sizeof(name), "org:@%s", org_def[i].code);
        keys[nk++] = strdup(name);
    }
    qsort(keys, nk, sizeof(keys[0]), unit_cmp_str);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nk; i++) {
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "", keys[i]);
        free(keys[i]);
    }
}

#define assert_targets(f, id, want)                                                                \
    do {                                                                                           \
        char tg_[2000];                                                                            \
        targets_str((f), (id), tg_, sizeof(tg_));                                                  \
        if (strcmp(tg_, (want)))                                                                   \
            print_error("targets of R%u: want '%s', got '%s'\n", fx_id_num(id), (want), tg_);      \
        assert_string_equal(tg_, (want));                                                          \
    } while (0)

/* A get of a reader, for fx_seen(). */
struct get_args {
    struct fx *f;
    const struct store_release_access *acc;
};

static int get_one(const void *ud, const char *id, json_t **out, struct err *e)
{
    const struct get_args *a = ud;
    return store_release_get(a->f->st, a->acc, id, out, NULL, 0, e);
}

/* A list of a reader, for fx_pages(). */
struct list_args {
    struct fx *f;
    const struct store_release_access *acc;
    const struct store_release_filter *flt;
};

static int list_page(const void *ud, int64_t after_seq, const char *after_id, int limit,
                     json_t **out, struct err *e)
{
    const struct list_args *a = ud;
    return store_release_list(a->f->st, a->acc, a->flt, after_seq, after_id, limit, out, e);
}

/* store_release_list as names; fails the test on an error. */
static void list_names(struct fx *f, const struct store_release_access *acc,
                       const struct store_release_filter *flt, int64_t after_seq,
                       const char *after_id, int limit, char *out, size_t n)
{
    struct err e;
    json_t *arr = NULL;
    OK(store_release_list(f->st, acc, flt, after_seq, after_id, limit, &arr, &e));
    fx_names(arr, 'R', out, n);
    json_decref(arr);
}

/* A reader of org o as auth_release_access() makes it (the coordinator sees all). */
static struct store_release_access reader(struct fx *f, enum org o)
{
    return fx_reader(f->org[o], org_def[o].kind, org_def[o].tier, org_def[o].sectors);
}

static const struct store_release_filter INBOX = {.min_severity = -1};

/* ---- create, get ---- */

static void test_release_create_get(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], other[ID_LEN], r1[ID_LEN], r2[ID_LEN], r3[ID_LEN], x[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", "{'sectors':['electricity','gas']}");
    new_report(f, other, REP2, U_REP2, "first", "{'sectors':['gas']}");

    new_release(f, r1, rep, REP, "{'sectors':['electricity','gas']}",
                "{'hub':true,'orgs':['@OP_G'],'sectors':['gas'],'tiers':['class2'],"
                "'all_members':false}");
    json_t *r = rel_get(f, r1);
    /* every field of the row, and only those */
    static const char *const keys[] = {
        "id",         "report_id",    "org_id",        "version",      "state",
        "report_revision", "content", "redactions",    "audience",     "tlp",
        "purpose",    "handling",     "created_at",    "created_by",   "updated_at",
        "submitted_at", "submitted_by", "decided_at",  "decided_by",   "decision_note",
        "published_at", "published_by", "pub_seq",     "withdrawn_at", "withdrawn_by",
        "withdrawn_reason"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_object_get(r, keys[i])) {
            print_error("release lacks %s\n", keys[i]);
            fail();
        }
    assert_int_equal(json_object_size(r), sizeof(keys) / sizeof(keys[0]));
    assert_str(unit_jstr(r, "id"), r1);
    assert_str(unit_jstr(r, "report_id"), rep);
    assert_str(unit_jstr(r, "org_id"), f->org[REP]);
    assert_int_equal(json_integer_value(json_object_get(r, "version")), 1);
    assert_str(unit_jstr(r, "state"), "draft");
    assert_int_equal(json_integer_value(json_object_get(r, "report_revision")), 1);
    json_t *want = release_content("{'sectors':['electricity','gas']}");
    assert_true(json_equal(json_object_get(r, "content"), want));
    json_decref(want);
    assert_jsonq_eq(json_object_get(r, "redactions"),
                    "[{'id':'r1','field':'description','start':0,'end':10,"
                    "'original':'scada-gw01','placeholder':'[host-0a1b2c]',"
                    "'rule':'org:hostname','kind':'host'}]");
    want = fjson(f, "{'hub':true,'orgs':['@OP_G'],'sectors':['gas'],'tiers':['class2'],"
                    "'all_members':false}");
    assert_true(json_equal(json_object_get(r, "audience"), want));
    json_decref(want);
    assert_str(unit_jstr(r, "tlp"), "AMBER");
    assert_true(json_is_null(json_object_get(r, "purpose")));
    assert_str(unit_jstr(r, "handling"), "no forwarding");
    assert_true(unit_is_rfc3339(unit_jstr(r, "created_at")));
    assert_str(unit_jstr(r, "updated_at"), unit_jstr(r, "created_at"));
    assert_str(unit_jstr(r, "created_by"), f->user[U_COORD]);
    static const char *const nulls[] = {"submitted_at", "submitted_by", "decided_at",
                                        "decided_by",   "decision_note", "published_at",
                                        "published_by", "pub_seq",      "withdrawn_at",
                                        "withdrawn_by", "withdrawn_reason"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (!json_is_null(json_object_get(r, nulls[i]))) {
            print_error("a new draft has %s\n", nulls[i]);
            fail();
        }
    json_decref(r);
    /* the sector filter's rows follow the content */
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_sectors WHERE release_id = '%s'", r1), 2);

    /* The placeholder key round-trips; a buffer of another size is refused, not half-filled. */
    struct store_release_access all = coord_access(f);
    uint8_t key[32];
    memset(key, 0, sizeof(key));
    r = NULL;
    OK(store_release_get(f->st, &all, r1, &r, key, sizeof(key), &e));
    assert_memory_equal(key, KEY, sizeof(KEY));
    json_decref(r);
    uint8_t small[16];
    r = NULL;
    FAILS(ERR_STORE, store_release_get(f->st, &all, r1, &r, small, sizeof(small), &e));
    assert_null(r);

    /* An open version blocks the next one, in every open state; nothing is left behind. */
    static const char *const open[] = {"draft", "pending", "approved"};
    for (size_t i = 0; i < 3; i++) {
        if (i == 1)
            move(f, r1, "draft", "pending", U_COORD, NULL, NULL);
        if (i == 2)
            move(f, r1, "pending", "approved", U_REP, NULL, NULL);
        FAILS(ERR_CONFLICT, try_release(f, x, rep, REP, NULL, NULL, &e));
        assert_int_equal(
            fx_sql_long(f->dir, "SELECT COUNT(*) FROM releases WHERE report_id = '%s'", rep), 1);
        assert_int_equal(fx_sql_long(f->dir,
                                     "SELECT COUNT(*) FROM release_sectors WHERE"
                                     " release_id = '%s'",
                                     x),
                         0);
        r = rel_get(f, r1);
        assert_str(unit_jstr(r, "state"), open[i]);
        json_decref(r);
    }
    /* Another report's first version is its own version 1. */
    new_release(f, r2, other, REP2, "{'sectors':['gas']}", NULL);
    r = rel_get(f, r2);
    assert_int_equal(json_integer_value(json_object_get(r, "version")), 1);
    json_decref(r);

    /* Published, v1 is no longer open: v2 follows, then v3 after v2 is refused. */
    move(f, r1, "approved", "published", U_COORD, NULL, "['org:@REP']");
    new_release(f, r3, rep, REP, NULL, NULL);
    r = rel_get(f, r3);
    assert_int_equal(json_integer_value(json_object_get(r, "version")), 2);
    json_decref(r);
    advance(f, r3, "refused", U_REP, NULL);
    char r4[ID_LEN];
    new_release(f, r4, rep, REP, NULL, NULL);
    r = rel_get(f, r4);
    assert_int_equal(json_integer_value(json_object_get(r, "version")), 3);
    json_decref(r);

    /* The same id again is a conflict; so is an unknown report or organisation. */
    json_t *dup = release_row(f, r2, other, REP2, NULL, NULL, NULL);
    FAILS(ERR_CONFLICT, store_release_create(f->st, dup, KEY, sizeof(KEY), &e));
    json_decref(dup);
    char ghost[ID_LEN], gid[ID_LEN];
    util_uuid7(ghost);
    rel_id(999, gid);
    dup = release_row(f, gid, ghost, REP2, NULL, NULL, NULL);
    FAILS(ERR_CONFLICT, store_release_create(f->st, dup, KEY, sizeof(KEY), &e));
    json_object_set_new(dup, "report_id", json_string(other));
    json_object_set_new(dup, "org_id", json_string(ghost));
    /* (the report's v1 is still a draft: close it first so only the org is wrong) */
    move(f, r2, "draft", "pending", U_COORD, NULL, NULL);
    move(f, r2, "pending", "refused", U_REP2, "no", NULL);
    FAILS(ERR_CONFLICT, store_release_create(f->st, dup, KEY, sizeof(KEY), &e));
    json_decref(dup);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM releases WHERE id = '%s'", gid), 0);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_sectors WHERE release_id = '%s'", gid),
        0);

    /* Unknown ids are not found, for everyone. */
    r = NULL;
    FAILS(ERR_NOTFOUND, store_release_get(f->st, &all, gid, &r, NULL, 0, &e));
    assert_null(r);
    FAILS(ERR_NOTFOUND, store_release_get(f->st, &all, "", &r, NULL, 0, &e));
    assert_null(r);
}

/* ---- states and their stamps ---- */

/* The stamps of a release as "submitted_at,submitted_by,..." with "-" for null, "T" for a
 * time, and user names for user ids. */
static void stamps_str(struct fx *f, const json_t *r, char *out, size_t n)
{
    static const char *const k[] = {"submitted_at", "submitted_by", "decided_at",
                                    "decided_by",   "decision_note", "published_at",
                                    "published_by", "withdrawn_at", "withdrawn_by",
                                    "withdrawn_reason"};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        const json_t *v = json_object_get(r, k[i]);
        const char *s = json_string_value(v);
        char w[64];
        if (json_is_null(v))
            snprintf(w, sizeof(w), "-");
        else if (strstr(k[i], "_at") && unit_is_rfc3339(s))
            snprintf(w, sizeof(w), "T");
        else {
            snprintf(w, sizeof(w), "%s", s ? s : "?");
            for (int u = 0; u < NUSERS; u++)
                if (s && !strcmp(s, f->user[u]))
                    snprintf(w, sizeof(w), "%s", user_def[u].login);
        }
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "", w);
    }
}

#define assert_stamps(f, id, state_, want)                                                         \
    do {                                                                                           \
        json_t *st_r_ = rel_get((f), (id));                                                        \
        char st_[512];                                                                             \
        stamps_str((f), st_r_, st_, sizeof(st_));                                                  \
        if (strcmp(st_, (want)) || strcmp(unit_jstr(st_r_, "state"), (state_)))                    \
            print_error("R%u: want %s '%s'\n  got %s '%s'\n", fx_id_num(id), (state_), (want),     \
                        unit_jstr(st_r_, "state"), st_);                                           \
        assert_string_equal(unit_jstr(st_r_, "state"), (state_));                                  \
        assert_string_equal(st_, (want));                                                          \
        json_decref(st_r_);                                                                        \
    } while (0)

static int64_t pub_seq(struct fx *f, const char *id)
{
    json_t *r = rel_get(f, id);
    json_t *v = json_object_get(r, "pub_seq");
    int64_t s = json_is_null(v) ? 0 : json_integer_value(v);
    json_decref(r);
    return s;
}

static void test_release_transitions(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], id[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", NULL);
    new_release(f, id, rep, REP, NULL, NULL);
    /*              submitted decided          published withdrawn */
    assert_stamps(f, id, "draft", "-,-,-,-,-,-,-,-,-,-");

    /* A stale from_state changes nothing, whatever the target. */
    static const char *const stale[][2] = {
        {"pending", "approved"}, {"approved", "published"}, {"published", "withdrawn"},
        {"refused", "draft"},    {"published", "published"}};
    for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
        FAILS(ERR_CONFLICT, try_move(f, id, stale[i][0], stale[i][1], U_COORD, "x", NULL, &e));
        assert_non_null(strstr(e.detail, stale[i][0]));
    }
    assert_stamps(f, id, "draft", "-,-,-,-,-,-,-,-,-,-");

    /* An edit of the draft stamps nothing, and keeps the state. */
    json_t *r = rel_get(f, id);
    json_object_set_new(r, "tlp", json_string("RED"));
    json_object_set_new(r, "content", release_content("{'title':'Edited','sectors':['gas']}"));
    json_object_set_new(r, "actor", json_string(f->user[U_COORD]));
    OK(store_release_update(f->st, r, "draft", NULL, &e));
    json_decref(r);
    r = rel_get(f, id);
    assert_str(unit_jstr(r, "tlp"), "RED");
    assert_str(unit_jstr(json_object_get(r, "content"), "title"), "Edited");
    json_decref(r);
    assert_int_equal(fx_sql_long(f->dir,
                                 "SELECT COUNT(*) FROM release_sectors WHERE release_id = '%s'"
                                 " AND sector = 'gas'",
                                 id),
                     1);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_sectors WHERE release_id = '%s'", id), 1);
    assert_stamps(f, id, "draft", "-,-,-,-,-,-,-,-,-,-");

    /* submit; refuse with a reason; edit (back to draft: the refusal stays on record) */
    move(f, id, "draft", "pending", U_COORD, NULL, NULL);
    assert_stamps(f, id, "pending", "T,nisc,-,-,-,-,-,-,-,-");
    move(f, id, "pending", "refused", U_REP, "names our plant", NULL);
    assert_stamps(f, id, "refused", "T,nisc,T,sato,names our plant,-,-,-,-,-");
    FAILS(ERR_CONFLICT, try_move(f, id, "pending", "approved", U_REP, NULL, NULL, &e));
    move(f, id, "refused", "draft", U_COORD, NULL, NULL);
    assert_stamps(f, id, "draft", "T,nisc,T,sato,names our plant,-,-,-,-,-");
    /* submitted again: the old decision is cleared */
    move(f, id, "draft", "pending", U_COORD, NULL, NULL);
    assert_stamps(f, id, "pending", "T,nisc,-,-,-,-,-,-,-,-");
    move(f, id, "pending", "approved", U_REP, "fine", NULL);
    assert_stamps(f, id, "approved", "T,nisc,T,sato,fine,-,-,-,-,-");
    assert_int_equal(pub_seq(f, id), 0);
    move(f, id, "approved", "published", U_COORD, NULL, "['org:@REP']");
    assert_stamps(f, id, "published", "T,nisc,T,sato,fine,T,nisc,-,-,-");
    int64_t seq = pub_seq(f, id);
    assert_true(seq > 0);
    /* an audience change of the published release keeps its number and stamps */
    move(f, id, "published", "published", U_COORD, NULL, "['org:@REP','all']");
    assert_int_equal(pub_seq(f, id), seq);
    assert_stamps(f, id, "published", "T,nisc,T,sato,fine,T,nisc,-,-,-");
    move(f, id, "published", "withdrawn", U_COORD, "published by mistake", NULL);
    assert_stamps(f, id, "withdrawn", "T,nisc,T,sato,fine,T,nisc,T,nisc,published by mistake");
    assert_int_equal(pub_seq(f, id), seq); /* assigned once: a withdrawn number is not reused */
    FAILS(ERR_CONFLICT, try_move(f, id, "published", "withdrawn", U_COORD, "x", NULL, &e));

    /* Pre-approved: submit goes straight to approved, decided by nobody. */
    char rep2[ID_LEN], pre[ID_LEN];
    new_report(f, rep2, REP, U_REP, "first", "{'preapproved':true}");
    new_release(f, pre, rep2, REP, NULL, NULL);
    move(f, pre, "draft", "approved", U_COORD, "pre-approved in the report", NULL);
    assert_stamps(f, pre, "approved", "T,nisc,T,-,pre-approved in the report,-,-,-,-,-");
    move(f, pre, "approved", "published", U_COORD, NULL, "['org:@REP']");
    assert_true(pub_seq(f, pre) > seq); /* numbers only grow */

    /* An unknown release is a conflict too (nothing in that state), and writes nothing. */
    char ghost[ID_LEN];
    rel_id(999, ghost);
    json_t *g = release_row(f, ghost, rep, REP, NULL, NULL, NULL);
    json_object_set_new(g, "state", json_string("pending"));
    FAILS(ERR_CONFLICT, store_release_update(f->st, g, "draft", NULL, &e));
    json_decref(g);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_sectors WHERE release_id = '%s'", ghost),
        0);
}

/* ---- targets: publish, supersede, withdraw, retarget ---- */

static void test_release_targets(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], other[ID_LEN], v1[ID_LEN], v2[ID_LEN], o1[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", NULL);
    new_report(f, other, REP2, U_REP2, "first", "{'sectors':['gas']}");
    struct store_release_access op_e = reader(f, OP_E), op_g = reader(f, OP_G);
    struct store_release_access rep_r = reader(f, REP), all = coord_access(f);
    char got[256];

    /* nothing but published releases have targets */
    new_release(f, v1, rep, REP, NULL, NULL);
    advance(f, v1, "approved", U_REP, NULL);
    assert_targets(f, v1, "");
    move(f, v1, "approved", "published", U_COORD, NULL,
         "['org:@REP','sector:electricity','org:@REP']");
    assert_targets(f, v1, "org:@REP,sector:electricity");
    list_names(f, &op_e, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "R1");

    /* another report's published release is not touched by what follows */
    new_release(f, o1, other, REP2, "{'sectors':['gas']}", NULL);
    advance(f, o1, "published", U_REP2, "['org:@REP2','sector:electricity']");

    /* publishing v2 supersedes v1 and takes its targets away, in one step */
    new_release(f, v2, rep, REP, "{'title':'Second version'}", NULL);
    advance(f, v2, "approved", U_REP, NULL);
    list_names(f, &op_e, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "R2,R1"); /* v1 stays published until v2 is */
    int64_t seq1 = pub_seq(f, v1);
    move(f, v2, "approved", "published", U_COORD, NULL, "['org:@REP','tier:class2']");
    json_t *r = rel_get(f, v1);
    assert_str(unit_jstr(r, "state"), "superseded");
    assert_int_equal(json_integer_value(json_object_get(r, "pub_seq")), seq1);
    json_decref(r);
    assert_targets(f, v1, "");
    assert_targets(f, v2, "org:@REP,tier:class2");
    assert_targets(f, o1, "org:@REP2,sector:electricity");
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_targets WHERE seq = %lld",
                                 (long long)seq1),
                     0);
    r = rel_get(f, o1);
    assert_str(unit_jstr(r, "state"), "published");
    json_decref(r);
    list_names(f, &op_e, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "R3,R2");
    /* the recipient loses v1 altogether; provider and coordinator keep it on record */
    r = NULL;
    FAILS(ERR_NOTFOUND, store_release_get(f->st, &op_e, v1, &r, NULL, 0, &e));
    OK(store_release_get(f->st, &rep_r, v1, &r, NULL, 0, &e));
    json_decref(r);
    r = NULL;
    OK(store_release_get(f->st, &all, v1, &r, NULL, 0, &e));
    json_decref(r);

    /* an audience change of a published release rewrites its targets at once */
    list_names(f, &op_g, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "");
    move(f, v2, "published", "published", U_COORD, NULL, "['org:@REP','org:@OP_G']");
    assert_targets(f, v2, "org:@OP_G,org:@REP");
    list_names(f, &op_g, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "R3");
    list_names(f, &op_e, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "R2");
    /* targets NULL: an update that leaves them as they are */
    move(f, v2, "published", "published", U_COORD, NULL, NULL);
    assert_targets(f, v2, "org:@OP_G,org:@REP");

    /* withdrawing removes them */
    move(f, v2, "published", "withdrawn", U_COORD, "wrong", NULL);
    assert_targets(f, v2, "");
    list_names(f, &op_g, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "");
    r = NULL;
    FAILS(ERR_NOTFOUND, store_release_get(f->st, &op_g, v2, &r, NULL, 0, &e));
    OK(store_release_get(f->st, &rep_r, v2, &r, NULL, 0, &e));
    json_decref(r);
    /* targets given with a move away from published are not written */
    char v3[ID_LEN];
    new_release(f, v3, rep, REP, NULL, NULL);
    move(f, v3, "draft", "pending", U_COORD, NULL, "['all']");
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_targets WHERE key = 'all'"),
                     0);
    /* every remaining target belongs to a published release */
    assert_int_equal(fx_sql_long(f->dir,
                                 "SELECT COUNT(*) FROM release_targets t LEFT JOIN releases r"
                                 " ON r.pub_seq = t.seq WHERE r.state IS NOT 'published'"),
                     0);
}

/*
 * At most one version of a report is open (draft, pending, approved) at a
 * time (store.h), and only a newer version supersedes an older one. A
 * refused version is not open, so the next version may be made; the
 * refused one must then not become a draft again beside it.
 */
static void test_release_one_open_version(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], v1[ID_LEN], v2[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", NULL);
    new_release(f, v1, rep, REP, NULL, NULL);
    advance(f, v1, "refused", U_REP, NULL);
    new_release(f, v2, rep, REP, NULL, NULL); /* allowed: v1 is refused, not open */
    FAILS(ERR_CONFLICT, try_move(f, v1, "refused", "draft", U_COORD, NULL, NULL, &e));
    assert_int_equal(fx_sql_long(f->dir,
                                 "SELECT COUNT(*) FROM releases WHERE report_id = '%s' AND"
                                 " state IN ('draft', 'pending', 'approved')",
                                 rep),
                     1);
    json_t *r = rel_get(f, v1);
    assert_str(unit_jstr(r, "state"), "refused");
    json_decref(r);
}

/* ---- a write that fails leaves nothing half-done ---- */

static void test_release_faults(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], v1[ID_LEN], v2[ID_LEN], x[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", "{'sectors':['electricity','gas']}");
    new_release(f, v1, rep, REP, NULL, NULL);
    advance(f, v1, "published", U_REP, "['org:@REP','all']");
    int64_t seq1 = pub_seq(f, v1);

    /* create: the row goes with its sector rows */
    fx_sql_ok(f->dir,
              "CREATE TRIGGER fault BEFORE INSERT ON release_sectors WHEN NEW.sector = 'gas'"
              " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
    FAILS(ERR_STORE, try_release(f, x, rep, REP, "{'sectors':['electricity','gas']}", NULL, &e));
    fx_sql_ok(f->dir, "DROP TRIGGER fault");
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM releases WHERE id = '%s'", x), 0);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_sectors WHERE release_id = '%s'", x), 0);

    /* publish: v2 stays approved, v1 stays published with its targets */
    new_release(f, v2, rep, REP, NULL, NULL);
    advance(f, v2, "approved", U_REP, NULL);
    fx_sql_ok(f->dir,
              "CREATE TRIGGER fault BEFORE INSERT ON release_targets WHEN NEW.key = 'tier:class2'"
              " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
    FAILS(ERR_STORE, try_move(f, v2, "approved", "published", U_COORD, NULL,
                              "['org:@REP','sector:gas','tier:class2']", &e));
    json_t *r = rel_get(f, v2);
    assert_str(unit_jstr(r, "state"), "approved");
    assert_true(json_is_null(json_object_get(r, "pub_seq")));
    assert_true(json_is_null(json_object_get(r, "published_at")));
    json_decref(r);
    r = rel_get(f, v1);
    assert_str(unit_jstr(r, "state"), "published");
    json_decref(r);
    assert_targets(f, v1, "all,org:@REP");
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM release_targets WHERE key = 'sector:gas'"), 0);
    /* retarget of a published release: the old targets stay */
    FAILS(ERR_STORE, try_move(f, v1, "published", "published", U_COORD, NULL,
                              "['org:@REP','tier:class2']", &e));
    assert_targets(f, v1, "all,org:@REP");
    fx_sql_ok(f->dir, "DROP TRIGGER fault");
    /* and once the fault is gone, the publication goes through with the next number */
    move(f, v2, "approved", "published", U_COORD, NULL, "['org:@REP','sector:gas','tier:class2']");
    assert_true(pub_seq(f, v2) > seq1);
    assert_targets(f, v1, "");
    assert_targets(f, v2, "org:@REP,sector:gas,tier:class2");
}

/* ---- who sees what: the inbox, the work queue and get agree ---- */

/*
 * The cast of releases of the visibility tests (R<n> = the n-th made):
 *   R1  A v1 published   all members                     pub 2
 *   R2  B v1 published   sector electricity              pub 3
 *   R3  C v1 published   org OP_G, tier class2           pub 1
 *   R4  D v1 superseded  hub (gas)                       pub 4
 *   R5  E v1 draft
 *   R6  A v2 pending
 *   R7  B v2 approved
 *   R8  C v2 refused
 *   R9  D v2 published   hub (gas)                       pub 7
 *   R10 F v1 withdrawn   all members                     pub 6
 *   R11 G v1 published   the provider only               pub 5
 * Reports A, C, E, F, G are REP's (electricity), B and D are REP2's (gas).
 */
static void visibility_cast(struct fx *f)
{
    char a[ID_LEN], b[ID_LEN], c[ID_LEN], d[ID_LEN], e_[ID_LEN], fr[ID_LEN], g[ID_LEN];
    new_report(f, a, REP, U_REP, "first", NULL);
    new_report(f, b, REP2, U_REP2, "first", "{'sectors':['gas']}");
    new_report(f, c, REP, U_REP, "first", NULL);
    new_report(f, d, REP2, U_REP2, "first", "{'sectors':['gas']}");
    new_report(f, e_, REP, U_REP, "first", NULL);
    new_report(f, fr, REP, U_REP, "first", NULL);
    new_report(f, g, REP, U_REP, "first", NULL);
    char id[12][ID_LEN];
    new_release(f, id[1], a, REP, NULL, "{'all_members':true}");
    new_release(f, id[2], b, REP2, "{'sectors':['gas']}", "{'sectors':['electricity']}");
    new_release(f, id[3], c, REP, NULL, "{'orgs':['@OP_G'],'tiers':['class2']}");
    new_release(f, id[4], d, REP2, "{'sectors':['gas']}", "{'hub':true}");
    advance(f, id[3], "published", U_REP, "['org:@REP','org:@OP_G','tier:class2']");
    advance(f, id[1], "published", U_REP, "['org:@REP','all']");
    advance(f, id[2], "published", U_REP2, "['org:@REP2','sector:electricity']");
    advance(f, id[4], "published", U_REP2, "['org:@REP2','hub:gas']");
    new_release(f, id[5], e_, REP, NULL, NULL);
    new_release(f, id[6], a, REP, NULL, "{'all_members':true}");
    advance(f, id[6], "pending", U_REP, NULL);
    new_release(f, id[7], b, REP2, "{'sectors':['gas']}", NULL);
    advance(f, id[7], "approved", U_REP2, NULL);
    new_release(f, id[8], c, REP, NULL, NULL);
    advance(f, id[8], "refused", U_REP, NULL);
    new_release(f, id[9], d, REP2, "{'sectors':['gas']}", "{'hub':true}");
    new_release(f, id[10], fr, REP, NULL, "{'all_members':true}");
    new_release(f, id[11], g, REP, NULL, NULL);
    advance(f, id[11], "published", U_REP, "['org:@REP']");
    advance(f, id[10], "withdrawn", U_REP, "['org:@REP','all']");
    advance(f, id[9], "approved", U_REP2, NULL);
    move(f, id[9], "approved", "published", U_COORD, NULL, "['org:@REP2','hub:gas']");
}

enum rdr { RD_COORD, RD_REP, RD_REP2, RD_OP_E, RD_OP_G, RD_HUB_E, RD_HUB_G, RD_MIN_E, RD_VEND,
           RD_NONE, RD_NOKEYS, NRDR };

static struct store_release_access rdr_access(struct fx *f, enum rdr r)
{
    static const enum org of[] = {COORD, REP, REP2, OP_E, OP_G, HUB_E, HUB_G, MIN_E, VEND};
    if (r < RD_NONE)
        return reader(f, of[r]);
    return r == RD_NONE ? fx_auditor(reader(f, COORD)) : fx_nobody();
}

static void test_release_visibility(void **state)
{
    struct fx *f = *state;
    visibility_cast(f);
    static const struct {
        const char *name;
        const char *inbox; /* newest published first */
        const char *queue; /* state "any": newest created first */
        const char *see;   /* store_release_get succeeds, by number */
    } want[NRDR] = {
        [RD_COORD] = {"coordinator", "R9,R11,R2,R1,R3", "R11,R10,R9,R8,R7,R6,R5,R4,R3,R2,R1",
                      "R1,R2,R3,R4,R5,R6,R7,R8,R9,R10,R11"},
        /* the provider: its own past draft, and what is targeted at it */
        [RD_REP] = {"provider REP", "R11,R2,R1,R3", "R11,R10,R8,R6,R3,R1",
                    "R1,R2,R3,R6,R8,R10,R11"},
        [RD_REP2] = {"provider REP2", "R9,R2,R1,R3", "R9,R7,R4,R2", "R1,R2,R3,R4,R7,R9"},
        /* recipients: published and targeted only */
        [RD_OP_E] = {"operator electricity class2", "R2,R1,R3", "", "R1,R2,R3"},
        [RD_OP_G] = {"operator gas, named", "R1,R3", "", "R1,R3"},
        [RD_HUB_E] = {"hub electricity", "R2,R1", "", "R1,R2"},
        [RD_HUB_G] = {"hub gas", "R9,R1", "", "R1,R9"},
        [RD_MIN_E] = {"ministry electricity", "R2,R1", "", "R1,R2"},
        [RD_VEND] = {"vendor", "R1", "", "R1"},
        [RD_NONE] = {"auditor", "", "", ""},
        [RD_NOKEYS] = {"no keys", "", "", ""},
    };
    int bad = 0;
    for (int w = 0; w < NRDR; w++) {
        struct store_release_access acc = rdr_access(f, w);
        char got[256];
        list_names(f, &acc, &INBOX, 0, NULL, 50, got, sizeof(got));
        fx_expect(&bad, want[w].name, "inbox", want[w].inbox, got);
        struct store_release_filter any = {.state = "any", .min_severity = -1};
        list_names(f, &acc, &any, 0, NULL, 50, got, sizeof(got));
        fx_expect(&bad, want[w].name, "queue", want[w].queue, got);
        /* get: exactly the union of the inbox and the queue */
        struct get_args g = {f, &acc};
        fx_seen(get_one, &g, 11, '9', 'R', got, sizeof(got));
        fx_expect(&bad, want[w].name, "get", want[w].see, got);
    }
    assert_int_equal(bad, 0);

    /* the queue by state */
    static const struct {
        enum rdr who;
        const char *state, *want;
    } q[] = {
        {RD_COORD, "draft", "R5"},          {RD_COORD, "pending", "R6"},
        {RD_COORD, "approved", "R7"},       {RD_COORD, "refused", "R8"},
        {RD_COORD, "published", "R11,R9,R3,R2,R1"},
        {RD_COORD, "superseded", "R4"},     {RD_COORD, "withdrawn", "R10"},
        {RD_REP, "draft", ""},              {RD_REP, "pending", "R6"},
        {RD_REP, "published", "R11,R3,R1"}, {RD_REP, "approved", ""},
        {RD_REP2, "approved", "R7"},        {RD_REP2, "superseded", "R4"},
        {RD_OP_E, "published", ""},         {RD_HUB_G, "published", ""},
        {RD_NONE, "any", ""},               {RD_COORD, "nonsense", ""},
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        struct store_release_access acc = rdr_access(f, q[i].who);
        struct store_release_filter flt = {.state = q[i].state, .min_severity = -1};
        char got[256];
        list_names(f, &acc, &flt, 0, NULL, 50, got, sizeof(got));
        if (strcmp(got, q[i].want)) {
            print_error("%s queue %s: want '%s', got '%s'\n", want[q[i].who].name, q[i].state,
                        q[i].want, got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);

    /* a list never repeats a release that reaches a reader by several keys */
    struct store_release_access rep_r = reader(f, REP);
    char got[256];
    list_names(f, &rep_r, &INBOX, 0, NULL, 50, got, sizeof(got));
    assert_string_equal(got, "R11,R2,R1,R3");
}

static void test_release_paging(void **state)
{
    struct fx *f = *state;
    visibility_cast(f);
    /* the inbox pages by pub_seq: keyed readers and the coordinator alike */
    static const struct {
        enum rdr who;
        const char *pages; /* limit 2 per page, pages separated by '|' */
    } inbox[] = {
        {RD_COORD, "R9,R11|R2,R1|R3"},
        {RD_REP, "R11,R2|R1,R3"},
        {RD_OP_E, "R2,R1|R3"},
        {RD_HUB_G, "R9,R1"},
    };
    for (size_t i = 0; i < sizeof(inbox) / sizeof(inbox[0]); i++) {
        struct store_release_access acc = rdr_access(f, inbox[i].who);
        struct list_args a = {f, &acc, &INBOX};
        char all[256];
        fx_pages(list_page, &a, true, 'R', 2, all, sizeof(all));
        if (strcmp(all, inbox[i].pages))
            print_error("inbox pages %zu: want '%s', got '%s'\n", i, inbox[i].pages, all);
        assert_string_equal(all, inbox[i].pages);
    }
    /* the queue pages by id */
    static const struct {
        enum rdr who;
        const char *pages; /* limit 3 */
    } queue[] = {
        {RD_COORD, "R11,R10,R9|R8,R7,R6|R5,R4,R3|R2,R1"},
        {RD_REP, "R11,R10,R8|R6,R3,R1"},
        {RD_REP2, "R9,R7,R4|R2"},
    };
    for (size_t i = 0; i < sizeof(queue) / sizeof(queue[0]); i++) {
        struct store_release_access acc = rdr_access(f, queue[i].who);
        struct store_release_filter any = {.state = "any", .min_severity = -1};
        struct list_args a = {f, &acc, &any};
        char all[256];
        fx_pages(list_page, &a, false, 'R', 3, all, sizeof(all));
        if (strcmp(all, queue[i].pages))
            print_error("queue pages %zu: want '%s', got '%s'\n", i, queue[i].pages, all);
        assert_string_equal(all, queue[i].pages);
    }
}

/* ---- filters ---- */

static void test_release_filters(void **state)
{
    struct fx *f = *state;
    char rep[6][ID_LEN], id[7][ID_LEN];
    /*
     * Six published releases, each targeted at "all", published (by
     * pub_seq) in order R1..R6, with published_at and created_at set:
     *   R1 malware      AMBER  sev 1 [electricity]      "Ransomware at plant"   t=1000
     *   R2 intrusion    GREEN  sev 3 [gas]              "VPN intrusion"         t=2000
     *   R3 malware      RED    sev 4 [electricity,gas]  "Wiper malware"         t=3000
     *   R4 availability CLEAR  sev 0 [ict]              "DDoS"                  t=4000
     *   R5 near_miss    AMBER  no severity [gas]        "Near miss: phishing"   t=5000
     *   R6 intrusion    AMBER  sev 2 [electricity]      "ransomware again"      t=6000
     * R2 and R5 are REP2's; the others REP's.
     */
    static const struct {
        enum org org;
        const char *content, *tlp;
    } def[] = {
        {REP, "{'event_type':'malware','severity':{'overall':1},'sectors':['electricity'],"
              "'title':'Ransomware at plant'}", "AMBER"},
        {REP2, "{'event_type':'intrusion','severity':{'overall':3},'sectors':['gas'],"
               "'title':'VPN intrusion'}", "GREEN"},
        {REP, "{'event_type':'malware','severity':{'overall':4},'sectors':['electricity','gas'],"
              "'title':'Wiper malware'}", "RED"},
        {REP, "{'event_type':'availability','severity':{'overall':0},'sectors':['ict'],"
              "'title':'DDoS'}", "CLEAR"},
        {REP2, "{'kind':'near_miss','event_type':'near_miss','severity':{'continuity':null,"
               "'overall':null},'sectors':['gas'],'title':'Near miss: phishing'}", "AMBER"},
        {REP, "{'event_type':'intrusion','severity':{'overall':2},'sectors':['electricity'],"
              "'title':'ransomware again'}", "AMBER"},
    };
    for (int i = 0; i < 6; i++) {
        new_report(f, rep[i], def[i].org, def[i].org == REP ? U_REP : U_REP2, "first", NULL);
        rel_id(++f->rel_seq, id[i + 1]);
        json_t *r = release_row(f, id[i + 1], rep[i], def[i].org, def[i].content, NULL,
                                def[i].tlp);
        struct err e;
        OK(store_release_create(f->st, r, KEY, sizeof(KEY), &e));
        json_decref(r);
        advance(f, id[i + 1], "published", def[i].org == REP ? U_REP : U_REP2,
                def[i].org == REP ? "['org:@REP','all']" : "['org:@REP2','all']");
        fx_sql_ok(f->dir, "UPDATE releases SET published_at = %d, created_at = %d WHERE id = '%s'",
                  (i + 1) * 1000, (i + 1) * 1000, id[i + 1]);
    }
    /* and one unpublished, which no inbox filter may bring in */
    new_release(f, id[0], rep[0], REP, "{'title':'Ransomware draft'}", NULL);

    static const struct {
        struct store_release_filter f;
        const char *want;
    } cases[] = {
        {{.min_severity = -1}, "R6,R5,R4,R3,R2,R1"},
        {{.sector = "electricity", .min_severity = -1}, "R6,R3,R1"},
        {{.sector = "gas", .min_severity = -1}, "R5,R3,R2"},
        {{.sector = "railway", .min_severity = -1}, ""},
        {{.event_type = "malware", .min_severity = -1}, "R3,R1"},
        {{.event_type = "near_miss", .min_severity = -1}, "R5"},
        {{.tlp = "AMBER", .min_severity = -1}, "R6,R5,R1"},
        {{.tlp = "RED", .min_severity = -1}, "R3"},
        {{.tlp = "AMBER+STRICT", .min_severity = -1}, ""},
        {{.q = "ransomware", .min_severity = -1}, "R6,R1"},
        {{.q = "RANSOM", .min_severity = -1}, "R6,R1"},
        {{.q = "at p", .min_severity = -1}, "R1"},
        {{.q = "%", .min_severity = -1}, ""},
        {{.min_severity = 0}, "R6,R4,R3,R2,R1"},
        {{.min_severity = 2}, "R6,R3,R2"},
        {{.min_severity = 4}, "R3"},
        {{.since = 3000, .min_severity = -1}, "R6,R5,R4,R3"},
        {{.until = 3000, .min_severity = -1}, "R2,R1"},
        {{.since = 2000, .until = 5000, .min_severity = -1}, "R4,R3,R2"},
        {{.since = 7000, .min_severity = -1}, ""},
        {{.report_id = NULL, .sector = "electricity", .event_type = "intrusion",
          .min_severity = 2}, "R6"},
        {{.sector = "gas", .tlp = "AMBER", .q = "phish", .min_severity = -1}, "R5"},
    };
    struct store_release_access acc[2] = {coord_access(f), reader(f, VEND)};
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int a = 0; a < 2; a++) {
            char got[256];
            list_names(f, &acc[a], &cases[i].f, 0, NULL, 50, got, sizeof(got));
            if (strcmp(got, cases[i].want)) {
                print_error("filter %zu as %s: want '%s', got '%s'\n", i,
                            a ? "a recipient" : "the coordinator", cases[i].want, got);
                bad++;
            }
        }
    /* report_id and org_id, inbox and queue */
    struct store_release_filter by_report = {.report_id = rep[2], .min_severity = -1};
    struct store_release_filter by_org = {.org_id = f->org[REP2], .min_severity = -1};
    struct store_release_filter q_report = {.state = "any", .report_id = rep[0],
                                            .min_severity = -1};
    /* the queue's time window is on created_at: the draft (created now) is outside it */
    struct store_release_filter q_since = {.state = "any", .since = 2500, .until = 5500,
                                           .min_severity = -1};
    struct store_release_filter q_sector = {.state = "published", .sector = "gas",
                                            .min_severity = 3};
    static const char *const want_extra[] = {"R3", "R5,R2", "R7,R1", "R5,R4,R3", "R3,R2"};
    const struct store_release_filter *extra[] = {&by_report, &by_org, &q_report, &q_since,
                                                  &q_sector};
    for (size_t i = 0; i < 5; i++) {
        char got[256];
        list_names(f, &acc[0], extra[i], 0, NULL, 50, got, sizeof(got));
        if (strcmp(got, want_extra[i])) {
            print_error("extra filter %zu: want '%s', got '%s'\n", i, want_extra[i], got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- consent requests ---- */

static json_t *audreq_row(struct fx *f, const char *id, const char *release_id, enum org org,
                          const char *audience, const char *tlp, const char *reason)
{
    json_t *r = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:s}", "id", id, "release_id", release_id,
                          "org_id", f->org[org], "audience", fjson(f, audience), "tlp", tlp,
                          "reason", reason, "requested_by", f->user[U_COORD]);
    assert_non_null(r);
    return r;
}

static void test_audreq(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], rep2[ID_LEN], rel[ID_LEN], rel2[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", NULL);
    new_report(f, rep2, REP2, U_REP2, "first", "{'sectors':['gas']}");
    new_release(f, rel, rep, REP, NULL, "{'orgs':['@OP_G']}");
    advance(f, rel, "published", U_REP, "['org:@REP','org:@OP_G']");
    new_release(f, rel2, rep2, REP2, "{'sectors':['gas']}", NULL);
    advance(f, rel2, "pending", U_REP2, NULL);

    /* three requests; ids in creation order */
    static const char *const qid[] = {"01900000-0000-7000-a000-000000000001",
                                      "01900000-0000-7000-a000-000000000002",
                                      "01900000-0000-7000-a000-000000000003"};
    json_t *q1 = audreq_row(f, qid[0], rel, REP,
                            "{'hub':false,'orgs':['@OP_G'],'sectors':['electricity'],'tiers':[],"
                            "'all_members':false}",
                            "GREEN", "the sector should know");
    json_t *q2 = audreq_row(f, qid[1], rel2, REP2,
                            "{'hub':true,'orgs':[],'sectors':[],'tiers':[],'all_members':false}",
                            "AMBER", "for the gas hub");
    json_t *q3 = audreq_row(f, qid[2], rel, REP,
                            "{'hub':false,'orgs':[],'sectors':[],'tiers':[],'all_members':true}",
                            "CLEAR", "everyone");
    OK(store_audreq_create(f->st, q1, &e));
    OK(store_audreq_create(f->st, q2, &e));
    OK(store_audreq_create(f->st, q3, &e));
    FAILS(ERR_CONFLICT, store_audreq_create(f->st, q3, &e)); /* the same id again */

    json_t *g = NULL;
    OK(store_audreq_get(f->st, qid[0], &g, &e));
    static const char *const keys[] = {"id",     "release_id",   "org_id",     "audience",
                                       "tlp",    "reason",       "state",      "requested_by",
                                       "requested_at", "decided_by", "decided_at", "decision_note"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_object_get(g, keys[i])) {
            print_error("request lacks %s\n", keys[i]);
            fail();
        }
    assert_int_equal(json_object_size(g), sizeof(keys) / sizeof(keys[0]));
    assert_str(unit_jstr(g, "release_id"), rel);
    assert_str(unit_jstr(g, "org_id"), f->org[REP]);
    assert_true(json_equal(json_object_get(g, "audience"), json_object_get(q1, "audience")));
    assert_str(unit_jstr(g, "tlp"), "GREEN");
    assert_str(unit_jstr(g, "reason"), "the sector should know");
    assert_str(unit_jstr(g, "state"), "pending");
    assert_str(unit_jstr(g, "requested_by"), f->user[U_COORD]);
    assert_true(unit_is_rfc3339(unit_jstr(g, "requested_at")));
    assert_true(json_is_null(json_object_get(g, "decided_by")));
    assert_true(json_is_null(json_object_get(g, "decided_at")));
    assert_true(json_is_null(json_object_get(g, "decision_note")));
    json_decref(g);
    g = NULL;
    FAILS(ERR_NOTFOUND, store_audreq_get(f->st, "01900000-0000-7000-a000-000000000009", &g, &e));
    assert_null(g);

    /* lists: by release, by provider, by state; newest first */
    static const struct {
        int release; /* 0 none, 1 rel, 2 rel2 */
        int org;     /* -1 none */
        const char *state, *want;
    } lists[] = {
        {0, -1, NULL, "3,2,1"},   {1, -1, NULL, "3,1"},       {2, -1, NULL, "2"},
        {0, REP, NULL, "3,1"},    {0, REP2, NULL, "2"},       {0, OP_E, NULL, ""},
        {0, -1, "pending", "3,2,1"}, {0, -1, "approved", ""}, {1, REP2, NULL, ""},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        json_t *arr = NULL;
        const char *by_rel = lists[i].release == 1 ? rel : lists[i].release == 2 ? rel2 : NULL;
        OK(store_audreq_list(f->st, by_rel, lists[i].org < 0 ? NULL : f->org[lists[i].org],
                             lists[i].state, &arr, &e));
        char got[64] = "";
        size_t j;
        json_t *v;
        json_array_foreach(arr, j, v)
        {
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%c", j ? "," : "",
                     unit_jstr(v, "id")[35]);
        }
        if (strcmp(got, lists[i].want))
            print_error("audreq list %zu: want '%s', got '%s'\n", i, lists[i].want, got);
        assert_string_equal(got, lists[i].want);
        json_decref(arr);
    }

    /* Approve q1 with the release's new audience and targets, in one transaction. */
    json_t *r = rel_get(f, rel);
    json_object_set(r, "audience", json_object_get(q1, "audience"));
    json_object_set_new(r, "tlp", json_string("GREEN"));
    json_object_set_new(r, "actor", json_string(f->user[U_REP]));
    json_t *t = fjson(f, "['org:@REP','org:@OP_G','sector:electricity']");
    json_object_set_new(q1, "state", json_string("approved"));
    json_object_set_new(q1, "decided_by", json_string(f->user[U_REP]));
    json_object_set_new(q1, "decision_note", json_string("ok"));
    OK(store_audreq_decide(f->st, q1, r, t, &e));
    json_decref(t);
    json_decref(r);
    g = NULL;
    OK(store_audreq_get(f->st, qid[0], &g, &e));
    assert_str(unit_jstr(g, "state"), "approved");
    assert_str(unit_jstr(g, "decided_by"), f->user[U_REP]);
    assert_true(unit_is_rfc3339(unit_jstr(g, "decided_at")));
    assert_str(unit_jstr(g, "decision_note"), "ok");
    json_decref(g);
    r = rel_get(f, rel);
    assert_str(unit_jstr(r, "state"), "published");
    assert_str(unit_jstr(r, "tlp"), "GREEN");
    assert_true(json_equal(json_object_get(r, "audience"), json_object_get(q1, "audience")));
    json_decref(r);
    assert_targets(f, rel, "org:@OP_G,org:@REP,sector:electricity");
    struct store_release_access op_e = reader(f, OP_E);
    char got[64];
    list_names(f, &op_e, &INBOX, 0, NULL, 10, got, sizeof(got));
    assert_string_equal(got, "R1");

    /* Deciding twice is a conflict, and changes neither the request nor the release. */
    r = rel_get(f, rel);
    json_object_set_new(r, "tlp", json_string("CLEAR"));
    t = fjson(f, "['all']");
    json_object_set_new(q1, "state", json_string("refused"));
    FAILS(ERR_CONFLICT, store_audreq_decide(f->st, q1, r, t, &e));
    FAILS(ERR_CONFLICT, store_audreq_decide(f->st, q1, NULL, NULL, &e));
    json_decref(t);
    json_decref(r);
    g = NULL;
    OK(store_audreq_get(f->st, qid[0], &g, &e));
    assert_str(unit_jstr(g, "state"), "approved");
    json_decref(g);
    r = rel_get(f, rel);
    assert_str(unit_jstr(r, "tlp"), "GREEN");
    json_decref(r);
    assert_targets(f, rel, "org:@OP_G,org:@REP,sector:electricity");

    /* A release update that fails (the release moved meanwhile) undoes the decision. */
    r = rel_get(f, rel2);
    json_object_set_new(r, "state", json_string("draft")); /* stale: it is pending */
    json_object_set(r, "audience", json_object_get(q2, "audience"));
    json_object_set_new(q2, "state", json_string("approved"));
    json_object_set_new(q2, "decided_by", json_string(f->user[U_REP2]));
    FAILS(ERR_CONFLICT, store_audreq_decide(f->st, q2, r, NULL, &e));
    json_decref(r);
    g = NULL;
    OK(store_audreq_get(f->st, qid[1], &g, &e));
    assert_str(unit_jstr(g, "state"), "pending");
    assert_true(json_is_null(json_object_get(g, "decided_by")));
    json_decref(g);
    r = rel_get(f, rel2);
    assert_false(json_is_true(json_object_get(json_object_get(r, "audience"), "hub")));
    json_decref(r);
    /* ... and so does a target that cannot be written */
    fx_sql_ok(f->dir, "CREATE TRIGGER fault BEFORE INSERT ON release_targets WHEN NEW.key = 'all'"
                      " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
    r = rel_get(f, rel);
    json_object_set(r, "audience", json_object_get(q3, "audience"));
    json_object_set_new(r, "tlp", json_string("CLEAR"));
    json_object_set_new(r, "actor", json_string(f->user[U_REP]));
    t = fjson(f, "['org:@REP','all']");
    json_object_set_new(q3, "state", json_string("approved"));
    json_object_set_new(q3, "decided_by", json_string(f->user[U_REP]));
    err_init(&e);
    assert_int_not_equal(store_audreq_decide(f->st, q3, r, t, &e), 0);
    json_decref(t);
    json_decref(r);
    fx_sql_ok(f->dir, "DROP TRIGGER fault");
    g = NULL;
    OK(store_audreq_get(f->st, qid[2], &g, &e));
    assert_str(unit_jstr(g, "state"), "pending");
    json_decref(g);
    r = rel_get(f, rel);
    assert_str(unit_jstr(r, "tlp"), "GREEN");
    json_decref(r);
    assert_targets(f, rel, "org:@OP_G,org:@REP,sector:electricity");

    /* A refusal touches only the request. */
    json_object_set_new(q2, "state", json_string("refused"));
    json_object_set_new(q2, "decision_note", json_string("no hub"));
    OK(store_audreq_decide(f->st, q2, NULL, NULL, &e));
    g = NULL;
    OK(store_audreq_get(f->st, qid[1], &g, &e));
    assert_str(unit_jstr(g, "state"), "refused");
    assert_str(unit_jstr(g, "decision_note"), "no hub");
    assert_str(unit_jstr(g, "decided_by"), f->user[U_REP2]);
    json_decref(g);
    json_t *arr = NULL;
    OK(store_audreq_list(f->st, NULL, NULL, "pending", &arr, &e));
    assert_int_equal(json_array_size(arr), 1);
    assert_str(unit_jstr(json_array_get(arr, 0), "id"), qid[2]);
    json_decref(arr);
    /* an unknown request: nothing to decide */
    json_t *ghost = audreq_row(f, "01900000-0000-7000-a000-000000000009", rel, REP, "{}", "AMBER",
                               "x");
    json_object_set_new(ghost, "state", json_string("approved"));
    FAILS(ERR_CONFLICT, store_audreq_decide(f->st, ghost, NULL, NULL, &e));
    json_decref(ghost);
    json_decref(q1);
    json_decref(q2);
    json_decref(q3);
}

/* ---- settings ---- */

static void test_settings(void **state)
{
    struct fx *f = *state;
    struct err e;
    json_t *v = json_string("sentinel");
    json_t *keep = v;
    OK(store_setting_get(f->st, "anon_rules", &v, &e));
    assert_null(v); /* never set: NULL, and no error */
    json_decref(keep);

    json_t *rules = unit_jsonq("{'custom':[{'id':'x','kind':'host','pattern':'foo'}]}");
    OK(store_setting_put(f->st, "anon_rules", rules, f->user[U_COORD], &e));
    OK(store_setting_get(f->st, "anon_rules", &v, &e));
    assert_true(json_equal(v, rules));
    json_decref(v);
    /* replaced whole; who and when are recorded */
    json_t *empty = unit_jsonq("{'custom':[]}");
    OK(store_setting_put(f->st, "anon_rules", empty, NULL, &e));
    OK(store_setting_get(f->st, "anon_rules", &v, &e));
    assert_jsonq_eq(v, "{'custom':[]}");
    json_decref(v);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM settings"), 1);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM settings WHERE updated_by IS NULL"
                                         " AND updated_at > 0"),
                     1);
    /* keys are separate; values of any JSON type */
    json_t *n = json_integer(7), *a = unit_jsonq("['a',{'b':null}]");
    OK(store_setting_put(f->st, "k", n, f->user[U_REP], &e));
    OK(store_setting_put(f->st, "list", a, f->user[U_REP], &e));
    OK(store_setting_get(f->st, "k", &v, &e));
    assert_int_equal(json_integer_value(v), 7);
    json_decref(v);
    OK(store_setting_get(f->st, "list", &v, &e));
    assert_jsonq_eq(v, "['a',{'b':null}]");
    json_decref(v);
    OK(store_setting_get(f->st, "anon_rules", &v, &e));
    assert_jsonq_eq(v, "{'custom':[]}");
    json_decref(v);
    OK(store_setting_get(f->st, "ANON_RULES", &v, &e));
    assert_null(v);
    /* a value that is no longer JSON is an error, not "never set" */
    fx_sql_ok(f->dir, "UPDATE settings SET value = '{\"custom\":' WHERE key = 'k'");
    FAILS(ERR_STORE, store_setting_get(f->st, "k", &v, &e));
    assert_null(v);
    json_decref(n);
    json_decref(a);
    json_decref(empty);
    json_decref(rules);
}

/* ---- member counts ---- */

static void test_member_counts(void **state)
{
    struct fx *f = *state;
    struct err e;
    json_t *c = NULL;
    OK(store_sector_member_counts(f->st, &c, &e));
    /* the cast: coordinator has no sector */
    assert_jsonq_eq(c, "{'electricity':{'operator':2,'sector_hub':1,'ministry':1},"
                       "'gas':{'operator':2,'sector_hub':1},'ict':{'vendor':1}}");
    json_decref(c);

    /* a second sector counts the organisation in both; disabled ones count nowhere */
    json_t *o = NULL;
    OK(store_org_get(f->st, f->org[OP_G], &o, &e));
    json_object_set_new(o, "sectors", unit_jsonq("['gas','ict']"));
    OK(store_org_update(f->st, o, &e));
    json_decref(o);
    OK(store_org_get(f->st, f->org[HUB_E], &o, &e));
    json_object_set_new(o, "disabled", json_true());
    OK(store_org_update(f->st, o, &e));
    json_decref(o);
    OK(store_org_get(f->st, f->org[VEND], &o, &e));
    json_object_set_new(o, "disabled", json_true());
    OK(store_org_update(f->st, o, &e));
    json_decref(o);
    c = NULL;
    OK(store_sector_member_counts(f->st, &c, &e));
    assert_jsonq_eq(c, "{'electricity':{'operator':2,'ministry':1},"
                       "'gas':{'operator':2,'sector_hub':1},'ict':{'operator':1}}");
    json_decref(c);
}

/* ---- the content of one revision ---- */

static void test_report_content_at(void **state)
{
    struct fx *f = *state;
    struct err e;
    char rep[ID_LEN], draft[ID_LEN];
    new_report(f, rep, REP, U_REP, "first", "{'title':'One'}");
    revise_report(f, rep, 1, REP, U_REP, "update", "{'title':'Two','status':'monitoring'}");
    revise_report(f, rep, 2, REP, U_REP, "final", "{'title':'Three','status':'closed'}");
    new_report(f, draft, REP, U_REP, "draft", "{'title':'Draft'}");

    struct store_report_access own = {.org_id = f->org[REP]};
    struct store_report_access coord = {.org_id = f->org[COORD], .all = true};
    static const char *const titles[] = {"One", "Two", "Three"};
    static const char *const status[] = {"open", "monitoring", "closed"};
    for (int n = 1; n <= 3; n++)
        for (int who = 0; who < 2; who++) {
            json_t *c = NULL;
            OK(store_report_content_at(f->st, who ? &coord : &own, rep, n, &c, &e));
            assert_str(unit_jstr(c, "title"), titles[n - 1]);
            assert_str(unit_jstr(c, "status"), status[n - 1]);
            /* the content only: no metadata of the report */
            assert_null(json_object_get(c, "id"));
            assert_null(json_object_get(c, "revision"));
            json_decref(c);
        }
    /* no such revision; and the report's access rules hold for every revision */
    struct store_report_access other = {.org_id = f->org[REP2]};
    struct store_report_access hub = {.org_id = f->org[HUB_E]};
    struct store_report_access none = {.none = true, .all = true, .org_id = f->org[REP]};
    const struct {
        const struct store_report_access *acc;
        const char *id;
        int n;
    } miss[] = {
        {&own, rep, 0},     {&own, rep, 4},      {&own, rep, -1},   {&other, rep, 1},
        {&hub, rep, 3},     {&none, rep, 1},     {&coord, draft, 1}, {&own, "nope", 1},
    };
    for (size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
        json_t *c = NULL;
        FAILS(ERR_NOTFOUND, store_report_content_at(f->st, miss[i].acc, miss[i].id, miss[i].n,
                                                    &c, &e));
        assert_null(c);
    }
    /* its own draft, to its provider */
    json_t *c = NULL;
    OK(store_report_content_at(f->st, &own, draft, 1, &c, &e));
    assert_str(unit_jstr(c, "title"), "Draft");
    json_decref(c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_release_create_get),
        T(test_release_transitions),
        T(test_release_targets),
        T(test_release_faults),
        T(test_release_one_open_version),
        T(test_release_visibility),
        T(test_release_paging),
        T(test_release_filters),
        T(test_audreq),
        T(test_settings),
        T(test_member_counts),
        T(test_report_content_at),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
