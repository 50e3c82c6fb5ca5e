/*
 * test_audit.c - the tamper-evident audit log of the SQLite backend: the
 * chain links, concurrent appends keep it contiguous, and verification
 * names the first altered, inserted or removed entry.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "base/log.h"
#include "store/store.h"

#include "fixture.h"

struct fx {
    char *tmp;
    char dir[1100];
    struct store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (fx_open(&f->tmp, f->dir, sizeof(f->dir), &f->st)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_close(f->tmp, f->st);
    free(f);
    return 0;
}

static void append(struct store *st, const char *action, const char *obj)
{
    struct err e;
    err_init(&e);
    json_t *d = json_pack("{s:s}", "k", "v");
    struct store_audit_entry a = {.actor_login = "tester", .action = action,
                                  .object_kind = "report", .object_id = obj, .outcome = "ok",
                                  .detail = d};
    int64_t seq = 0;
    assert_int_equal(store_audit_append(st, &a, &seq, &e), 0);
    assert_true(seq > 0);
    json_decref(d);
}

static void check(struct store *st, int64_t entries, int64_t first_bad)
{
    struct store_audit_check c;
    struct err e;
    err_init(&e);
    assert_int_equal(store_audit_verify(st, &c, &e), 0);
    if (c.first_bad != first_bad || c.entries != entries)
        print_error("verify: %lld entries, first_bad %lld (%s)\n", (long long)c.entries,
                    (long long)c.first_bad, c.reason);
    assert_int_equal(c.entries, entries);
    assert_int_equal(c.first_bad, first_bad);
}

static void sql(struct fx *f, const char *q)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/isac.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", q, msg);
    sqlite3_close(db);
}

static void test_chain(void **state)
{
    struct fx *f = *state;
    check(f->st, 0, 0);
    for (int i = 0; i < 10; i++)
        append(f->st, i % 2 ? "report.read" : "login.success", "obj");
    check(f->st, 10, 0);
    json_t *items = NULL;
    struct err e;
    err_init(&e);
    struct store_audit_filter flt = {.action = "report.read"};
    assert_int_equal(store_audit_list(f->st, &flt, 100, &items, &e), 0);
    assert_int_equal(json_array_size(items), 5);
    /* newest first, and each links to the one before */
    json_t *a = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(a, "seq")), 10);
    json_decref(items);
    struct store_audit_filter all = {0};
    assert_int_equal(store_audit_list(f->st, &all, 2, &items, &e), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "prev_hash")),
                        json_string_value(json_object_get(json_array_get(items, 1), "hash")));
    json_decref(items);
}

static void test_tamper(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 6; i++)
        append(f->st, "org.update", "org-1");
    check(f->st, 6, 0);
    sql(f, "UPDATE audit SET detail = '{\"k\":\"w\"}' WHERE seq = 4");
    check(f->st, 6, 4);
    sql(f, "UPDATE audit SET detail = '{\"k\":\"v\"}' WHERE seq = 4");
    check(f->st, 6, 0);
    sql(f, "UPDATE audit SET actor_login = NULL WHERE seq = 2"); /* NULL is not "" */
    check(f->st, 6, 2);
    sql(f, "UPDATE audit SET actor_login = 'tester' WHERE seq = 2");
    sql(f, "DELETE FROM audit WHERE seq = 5");
    check(f->st, 5, 5);
}

static void test_tail_and_key(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++)
        append(f->st, "token.create", "t");
    sql(f, "DELETE FROM audit WHERE seq = 3");
    check(f->st, 2, 3); /* the head says 3 */
    /* a new key cannot vouch for the old chain: every entry breaks */
    store_close(f->st);
    char path[1200];
    snprintf(path, sizeof(path), "%s/audit.key", f->dir);
    FILE *k = fopen(path, "wb");
    unsigned char zero[32] = {0};
    fwrite(zero, 1, sizeof(zero), k);
    fclose(k);
    struct err e;
    err_init(&e);
    assert_int_equal(store_open(&f->st, f->dir, false, &e), 0);
    check(f->st, 2, 1);
}

struct worker {
    struct store *st;
    int n;
};

static void *writer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        struct err e;
        err_init(&e);
        struct store_audit_entry a = {.actor_login = "thread", .action = "report.list",
                                      .outcome = "ok"};
        if (store_audit_append(w->st, &a, NULL, &e) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *f = *state;
    pthread_t t[6];
    struct worker w = {f->st, 50};
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, writer, &w);
    for (int i = 0; i < 6; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    check(f->st, 300, 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
