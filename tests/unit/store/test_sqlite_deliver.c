/*
 * test_sqlite_deliver.c - unit tests of src/store through store.h for
 * webhooks, the delivery outbox and its log, and escalation (SQLite
 * backend, sqlite_deliver.c), on alerts published by store_alert_publish()
 * (sqlite_alert.c), which queues the outbox rows.
 *
 * Each test gets a fresh store in <tmp>/data with an issuing coordinator
 * and three operators: A (two e-mail contacts, one in English, and a
 * webhook), B (a webhook, no e-mail) and C (nothing registered). Times the
 * store takes as arguments are chosen relative to util_now_ms(), so
 * claims "before" and "after" a retry are exact; what the store decides
 * by itself is read back through store.h or, for the outbox's columns,
 * SQL on a connection of our own.
 */
#include "../unit.h"

#include <sodium.h>
#include <sqlite3.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store.h"

#include "fixture.h"

#define ID_LEN (UTIL_UUID_LEN + 1)

enum org { COORD, OP_A, OP_B, OP_C, NORGS };
static const struct {
    const char *code, *kind, *contacts;
} org_def[NORGS] = {
    [COORD] = {"COORD", "coordinator", "[]"},
    [OP_A] = {"OP_A", "operator",
              "[{'type':'email','value':'soc@a.example.jp'},"
              "{'type':'email','value':'ciso@a.example.jp','locale':'en'},"
              "{'type':'phone','value':'+81 3 0000 0000'}]"},
    [OP_B] = {"OP_B", "operator", "[]"},
    [OP_C] = {"OP_C", "operator", "[]"},
};

struct fx {
    char *tmp;
    char dir[1100];
    struct store *st;
    char org[NORGS][ID_LEN];
    char hook_a[ID_LEN], hook_b[ID_LEN];
    uint8_t secret_a[32];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (fx_open(&f->tmp, f->dir, sizeof(f->dir), &f->st)) {
        free(f);
        return -1;
    }
    for (int i = 0; i < NORGS; i++)
        fx_org(f->st, f->org[i], org_def[i].code, org_def[i].code, org_def[i].kind, "general", NULL,
               org_def[i].contacts, false);
    fx_webhook(f->st, f->org[OP_A], f->hook_a, f->secret_a, true);
    fx_webhook(f->st, f->org[OP_B], f->hook_b, NULL, true);
    char off[ID_LEN];
    fx_webhook(f->st, f->org[OP_A], off, NULL, false); /* disabled: never queued */
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

/* Publish a new alert of the coordinator to every member; its id goes to id. */
static void publish(struct fx *f, const char *urgency, char *id)
{
    struct err e;
    util_uuid7(id);
    json_t *a = json_pack("{s:s,s:n,s:s,s:s,s:{s:{s:s},s:{s:s},s:{s:[],s:[]},s:[]},s:s,s:b,"
                          "s:{s:b},s:s,s:s}",
                          "id", id, "series_id", "kind", "alert", "issuer_org", f->org[COORD],
                          "body", "title", "en", "Flaw", "actions", "en", "Patch", "links",
                          "releases", "reports", "observables", "urgency", urgency, "exercise", 0,
                          "audience", "all_members", 1, "tlp", "AMBER", "created_by", "u1");
    OK(store_alert_create(f->st, a, &e));
    json_decref(a);
    json_t *targets = json_pack("[s]", "all");
    int64_t seq = 0;
    OK(store_alert_publish(f->st, id, "u1", targets, &seq, &e));
    OK(store_alert_queue(f->st, id, &e));
    assert_true(seq > 0);
    json_decref(targets);
}

static json_t *claim(struct fx *f, const char *channel, int64_t now, int64_t stale, int limit)
{
    struct err e;
    json_t *rows = NULL;
    OK(store_outbox_claim(f->st, channel, now, stale, limit, &rows, &e));
    assert_true(json_is_array(rows));
    return rows;
}

/* The claimed row for org o, or NULL. */
static json_t *row_of(json_t *rows, const char *org)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) if (!strcmp(unit_jstr(r, "org_id"), org)) return r;
    return NULL;
}

/* ---- tests ---- */

static void test_webhook_crud(void **state)
{
    struct fx *f = *state;
    struct err e;
    json_t *h = NULL, *list = NULL;
    OK(store_webhook_get(f->st, f->hook_a, &h, &e));
    assert_str(unit_jstr(h, "org_id"), f->org[OP_A]);
    assert_str(unit_jstr(h, "url"), "https://hooks.example.jp/isac");
    assert_true(json_is_true(json_object_get(h, "enabled")));
    assert_int_equal(strlen(unit_jstr(h, "created_at")), UTIL_TIME_LEN);
    assert_null(json_object_get(h, "secret")); /* never read back */
    assert_int_equal(json_object_size(h), 6);

    OK(store_webhook_list(f->st, f->org[OP_A], &list, &e));
    assert_int_equal(json_array_size(list), 2); /* the enabled one and the disabled one */
    json_decref(list);
    OK(store_webhook_list(f->st, f->org[OP_C], &list, &e));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    json_object_set_new(h, "url", json_string("https://other.example.jp/x"));
    json_object_set_new(h, "enabled", json_false());
    OK(store_webhook_update(f->st, h, &e));
    json_decref(h);
    OK(store_webhook_get(f->st, f->hook_a, &h, &e));
    assert_str(unit_jstr(h, "url"), "https://other.example.jp/x");
    assert_true(json_is_false(json_object_get(h, "enabled")));

    /* the secret stays what it was */
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT length(secret) FROM webhooks WHERE id = '%s'", f->hook_a), 32);

    OK(store_webhook_delete(f->st, f->hook_a, &e));
    json_decref(h);
    h = NULL;
    FAILS(ERR_NOTFOUND, store_webhook_get(f->st, f->hook_a, &h, &e));
    FAILS(ERR_NOTFOUND, store_webhook_delete(f->st, f->hook_a, &e));
    json_t *upd = json_pack("{s:s,s:s,s:b}", "id", f->hook_a, "url", "https://x.example.jp/",
                            "enabled", 1);
    FAILS(ERR_NOTFOUND, store_webhook_update(f->st, upd, &e));
    json_decref(upd);
    OK(store_webhook_list(f->st, f->org[OP_A], &list, &e));
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    /* an id taken, a missing organisation */
    json_t *dup = json_pack("{s:s,s:s,s:s,s:b}", "id", f->hook_b, "org_id", f->org[OP_B], "url",
                            "https://x.example.jp/", "enabled", 1);
    uint8_t s[32] = {0};
    FAILS(ERR_CONFLICT, store_webhook_create(f->st, dup, s, sizeof(s), &e));
    json_object_set_new(dup, "id", json_string("0190a000-0000-7000-8000-00000000dead"));
    json_object_set_new(dup, "org_id", json_string("0190a000-0000-7000-8000-00000000beef"));
    FAILS(ERR_CONFLICT, store_webhook_create(f->st, dup, s, sizeof(s), &e));
    json_decref(dup);
}

static void test_publish_queues(void **state)
{
    struct fx *f = *state;
    char id[ID_LEN], buf[256];
    publish(f, "routine", id);
    /* A: its enabled webhook and both e-mail contacts; B: its webhook; C: nothing */
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE alert_id = '%s'", id),
                     4);
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE org_id = '%s'", f->org[OP_C]), 0);

    json_t *mail = claim(f, "email", util_now_ms(), 60000, 10);
    assert_int_equal(json_array_size(mail), 2);
    size_t i;
    json_t *r;
    json_array_foreach(mail, i, r)
    {
        const char *to = unit_jstr(r, "target");
        assert_str(unit_jstr(r, "locale"), !strcmp(to, "ciso@a.example.jp") ? "en" : "ja");
        assert_str(unit_jstr(r, "channel"), "email");
        assert_str(unit_jstr(r, "state"), "sending");
        assert_int_equal(unit_jint(r, "tries"), 0);
        assert_null(json_object_get(r, "url"));
        assert_null(json_object_get(r, "secret"));
        /* the alert version, as the coordinator sees it */
        json_t *a = json_object_get(r, "alert");
        assert_str(unit_jstr(a, "id"), id);
        assert_str(unit_jstr(json_object_get(json_object_get(a, "body"), "title"), "en"), "Flaw");
        assert_non_null(json_object_get(a, "pub_seq"));
    }
    json_decref(mail);

    json_t *hooks = claim(f, "webhook", util_now_ms(), 60000, 10);
    assert_int_equal(json_array_size(hooks), 2);
    json_t *ra = row_of(hooks, f->org[OP_A]);
    assert_non_null(ra);
    assert_str(unit_jstr(ra, "target"), f->hook_a);
    assert_str(unit_jstr(ra, "url"), "https://hooks.example.jp/isac");
    /* the secret as the API showed it: base64url of the 32 bytes */
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), f->secret_a, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_str(unit_jstr(ra, "secret"), b64);
    assert_false(json_is_true(json_object_get(ra, "escalation")));
    json_decref(hooks);
    /* claimed rows are not claimed twice */
    hooks = claim(f, "webhook", util_now_ms(), 60000, 10);
    assert_int_equal(json_array_size(hooks), 0);
    json_decref(hooks);
    assert_str(
        fx_sql_text(f->dir, buf, sizeof(buf), "SELECT group_concat(DISTINCT state) FROM outbox"),
        "sending");
}

static void test_result(void **state)
{
    struct fx *f = *state;
    struct err e;
    char id[ID_LEN], buf[256];
    publish(f, "urgent", id);
    int64_t t0 = util_now_ms();
    json_t *rows = claim(f, "webhook", t0, 60000, 10);
    int64_t ok_id = unit_jint(row_of(rows, f->org[OP_A]), "id");
    int64_t bad_id = unit_jint(row_of(rows, f->org[OP_B]), "id");
    json_decref(rows);

    /* delivered: done, and the receipt written with it */
    OK(store_outbox_result(f->st, ok_id, true, 200, NULL, 35, 0, &e));
    assert_str(fx_sql_text(f->dir, buf, sizeof(buf), "SELECT state FROM outbox WHERE id = %lld",
                           (long long)ok_id),
               "done");
    json_t *receipts = NULL, *recipients = NULL;
    OK(store_alert_receipts(f->st, id, &receipts, &recipients, &e));
    assert_int_equal(json_array_size(receipts), 1);
    json_t *rc0 = json_array_get(receipts, 0);
    assert_str(unit_jstr(rc0, "org_id"), f->org[OP_A]);
    assert_str(unit_jstr(rc0, "kind"), "delivered");
    assert_str(unit_jstr(rc0, "channel"), "webhook");
    json_decref(receipts);
    json_decref(recipients);
    /* a result for a row not being sent is refused and changes nothing */
    FAILS(ERR_CONFLICT, store_outbox_result(f->st, ok_id, false, 500, "x", 1, t0 + 1000, &e));
    assert_int_equal(
        fx_sql_long(f->dir, "SELECT tries FROM outbox WHERE id = %lld", (long long)ok_id), 1);

    /* failed: pending again at next_at, with the error */
    OK(store_outbox_result(f->st, bad_id, false, 503, "HTTP 503", 12, t0 + 1000, &e));
    assert_str(fx_sql_text(f->dir, buf, sizeof(buf),
                           "SELECT state || ' ' || last_error FROM outbox"
                           " WHERE id = %lld",
                           (long long)bad_id),
               "pending HTTP 503");
    rows = claim(f, "webhook", t0 + 999, 60000, 10);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    rows = claim(f, "webhook", t0 + 1000, 60000, 10);
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(unit_jint(json_array_get(rows, 0), "tries"), 1);
    assert_str(unit_jstr(json_array_get(rows, 0), "last_error"), "HTTP 503");
    json_decref(rows);
    /* no answer at all: status 0 is logged as none; then dead (next_at 0), never claimed again */
    OK(store_outbox_result(f->st, bad_id, false, 0, "connection refused", 3, 0, &e));
    assert_str(fx_sql_text(f->dir, buf, sizeof(buf), "SELECT state FROM outbox WHERE id = %lld",
                           (long long)bad_id),
               "dead");
    rows = claim(f, "webhook", t0 + 10LL * 24 * 3600 * 1000, 60000, 10);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    OK(store_alert_receipts(f->st, id, &receipts, &recipients, &e));
    assert_int_equal(json_array_size(receipts), 1); /* B has none */
    json_decref(receipts);
    json_decref(recipients);

    /* the log of B's webhook: every try, newest first */
    json_t *log = NULL;
    OK(store_webhook_log(f->st, f->hook_b, 50, &log, &e));
    assert_int_equal(json_array_size(log), 2);
    json_t *l0 = json_array_get(log, 0), *l1 = json_array_get(log, 1);
    assert_int_equal(unit_jint(l0, "status"), 0);
    assert_str(unit_jstr(l0, "error"), "connection refused");
    assert_int_equal(unit_jint(l0, "duration_ms"), 3);
    assert_str(unit_jstr(l0, "state"), "dead");
    assert_int_equal(unit_jint(l0, "try"), 2);
    assert_int_equal(unit_jint(l1, "status"), 503);
    assert_int_equal(unit_jint(l1, "try"), 1);
    assert_str(unit_jstr(l1, "state"), "pending"); /* another try followed */
    assert_int_equal(unit_jint(l1, "delivery_id"), bad_id);
    assert_str(unit_jstr(l1, "error"), "HTTP 503");
    assert_str(unit_jstr(l1, "alert_id"), id);
    const char *at = unit_jstr(l1, "at");
    assert_int_equal(strlen(at), 24); /* 2026-11-21T09:30:00.123Z */
    assert_int_equal(at[23], 'Z');
    json_decref(log);
    OK(store_webhook_log(f->st, f->hook_b, 1, &log, &e));
    assert_int_equal(json_array_size(log), 1);
    json_decref(log);
    OK(store_webhook_log(f->st, f->hook_a, 50, &log, &e));
    assert_int_equal(json_array_size(log), 1);
    assert_true(json_is_null(json_object_get(json_array_get(log, 0), "error")));
    assert_int_equal(unit_jint(json_array_get(log, 0), "status"), 200);
    assert_str(unit_jstr(json_array_get(log, 0), "state"), "done");
    assert_int_equal(json_object_size(json_array_get(log, 0)), 8);
    json_decref(log);

    /* a second delivery on the same channel keeps the first receipt's time */
    char first[64];
    fx_sql_text(f->dir, first, sizeof(first), "SELECT at FROM receipts WHERE alert_id = '%s'", id);
    OK(store_alert_escalate(f->st, id, f->org[OP_A], util_now_ms(), &e));
    rows = claim(f, "webhook", util_now_ms(), 60000, 10);
    assert_int_equal(json_array_size(rows), 1);
    OK(store_outbox_result(f->st, unit_jint(json_array_get(rows, 0), "id"), true, 204, NULL, 1, 0,
                           &e));
    json_decref(rows);
    assert_str(
        fx_sql_text(f->dir, buf, sizeof(buf), "SELECT at FROM receipts WHERE alert_id = '%s'", id),
        first);
}

static void test_stale_and_limit(void **state)
{
    struct fx *f = *state;
    char id[ID_LEN];
    publish(f, "routine", id);
    publish(f, "routine", id);
    int64_t t0 = util_now_ms();
    /* four webhook rows: a limit of three leaves one */
    json_t *rows = claim(f, "webhook", t0, 1000, 3);
    assert_int_equal(json_array_size(rows), 3);
    json_decref(rows);
    rows = claim(f, "webhook", t0, 1000, 3);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    /* a worker that vanished: its rows come back once stale */
    rows = claim(f, "webhook", t0 + 999, 1000, 10);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    rows = claim(f, "webhook", t0 + 1000, 1000, 10);
    assert_int_equal(json_array_size(rows), 4);
    json_decref(rows);
    /* limit 0 claims nothing */
    rows = claim(f, "email", t0, 1000, 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

static void test_hook_gone(void **state)
{
    struct fx *f = *state;
    struct err e;
    char id[ID_LEN], buf[256];
    publish(f, "routine", id);
    /* B's hook deleted: what was queued for it dies; A's disabled: claimed without a URL */
    OK(store_webhook_delete(f->st, f->hook_b, &e));
    assert_str(fx_sql_text(f->dir, buf, sizeof(buf),
                           "SELECT state || ' ' || last_error FROM outbox"
                           " WHERE target = '%s'",
                           f->hook_b),
               "dead webhook deleted");
    json_t *h = NULL;
    OK(store_webhook_get(f->st, f->hook_a, &h, &e));
    json_object_set_new(h, "enabled", json_false());
    OK(store_webhook_update(f->st, h, &e));
    json_decref(h);
    json_t *rows = claim(f, "webhook", util_now_ms(), 60000, 10);
    assert_int_equal(json_array_size(rows), 1);
    json_t *r = json_array_get(rows, 0);
    assert_str(unit_jstr(r, "target"), f->hook_a);
    assert_null(json_object_get(r, "url"));
    assert_null(json_object_get(r, "secret"));
    json_decref(rows);
}

static void test_escalation(void **state)
{
    struct fx *f = *state;
    struct err e;
    char urgent[ID_LEN], routine[ID_LEN], buf[256];
    publish(f, "urgent", urgent);
    publish(f, "routine", routine);
    int64_t later = util_now_ms() + 1000;
    json_t *due = NULL;
    /* not yet */
    OK(store_escalation_due(f->st, later - 60000, 100, &due, &e));
    assert_int_equal(json_array_size(due), 0);
    json_decref(due);
    /* every recipient of the urgent one (the issuer is none), not of the routine one */
    OK(store_escalation_due(f->st, later, 100, &due, &e));
    assert_int_equal(json_array_size(due), 3);
    size_t i;
    json_t *r;
    json_array_foreach(due, i, r) assert_str(unit_jstr(r, "alert_id"), urgent);
    json_decref(due);
    /* B read it, C acted on it: only A is due */
    struct store_receipt rcpt[] = {
        {urgent, f->org[OP_B], "read", "ui", "u-b", util_now_ms(), NULL},
        {urgent, f->org[OP_C], "acted", "api", "u-c", util_now_ms(), "patched"},
        {urgent, f->org[OP_A], "delivered", "inbox", "u-a", util_now_ms(), NULL},
    };
    OK(store_receipts_add(f->st, rcpt, 3, &e));
    OK(store_escalation_due(f->st, later, 100, &due, &e));
    assert_int_equal(json_array_size(due), 1);
    assert_str(unit_jstr(json_array_get(due, 0), "org_id"), f->org[OP_A]);
    json_decref(due);
    /* a week and more later it is past escalating */
    OK(store_escalation_due(f->st, later + 8LL * 24 * 3600 * 1000, 100, &due, &e));
    assert_int_equal(json_array_size(due), 0);
    json_decref(due);

    /* escalate A: its webhook and both e-mails again, marked; once only */
    int64_t now = util_now_ms();
    OK(store_alert_escalate(f->st, urgent, f->org[OP_A], now, &e));
    assert_int_equal(fx_sql_long(f->dir,
                                 "SELECT COUNT(*) FROM outbox WHERE alert_id = '%s'"
                                 " AND escalation = 1 AND org_id = '%s' AND state = 'pending'",
                                 urgent, f->org[OP_A]),
                     3);
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE escalation = 1"), 3);
    assert_str(fx_sql_text(f->dir, buf, sizeof(buf),
                           "SELECT group_concat(locale) FROM (SELECT locale"
                           " FROM outbox WHERE escalation = 1 AND channel ="
                           " 'email' ORDER BY locale)"),
               "en,ja");
    json_t *receipts = NULL, *recipients = NULL;
    OK(store_alert_receipts(f->st, urgent, &receipts, &recipients, &e));
    json_array_foreach(recipients, i, r)
    {
        json_t *at = json_object_get(r, "escalated_at");
        if (!strcmp(unit_jstr(r, "org_id"), f->org[OP_A]))
            assert_false(json_is_null(at));
        else
            assert_true(json_is_null(at));
    }
    json_decref(receipts);
    json_decref(recipients);
    OK(store_escalation_due(f->st, later, 100, &due, &e));
    assert_int_equal(json_array_size(due), 0);
    json_decref(due);
    FAILS(ERR_CONFLICT, store_alert_escalate(f->st, urgent, f->org[OP_A], now, &e));
    FAILS(ERR_CONFLICT, store_alert_escalate(f->st, urgent, f->org[COORD], now, &e));
    assert_int_equal(fx_sql_long(f->dir, "SELECT COUNT(*) FROM outbox WHERE escalation = 1"), 3);
    /* the escalated rows carry the flag to the worker */
    json_t *rows = claim(f, "email", now, 60000, 10);
    assert_int_equal(json_array_size(rows), 6); /* 2 per publication, 2 escalated */
    int flagged = 0;
    json_array_foreach(rows, i, r)
    {
        if (json_is_true(json_object_get(r, "escalation"))) {
            assert_str(unit_jstr(r, "alert_id"), urgent);
            flagged++;
        }
    }
    assert_int_equal(flagged, 2);
    json_decref(rows);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_webhook_crud), T(test_publish_queues),  T(test_result),
        T(test_stale_and_limit), T(test_hook_gone), T(test_escalation),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
