/*
 * sqlite_int.h - what the files of the SQLite backend share: the store
 * and connection structs, statement helpers and the group-commit writer.
 * sqlite.c owns the schema (migrations), connections and the member
 * tables; sqlite_report.c the reports, regimes and near-miss counts.
 */
#ifndef ISAC_SQLITE_INT_H
#define ISAC_SQLITE_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store_int.h"

/* Render an integer-seconds column as RFC 3339 UTC. */
#define TS(col) "strftime('%Y-%m-%dT%H:%M:%SZ'," col ",'unixepoch')"

#define SQ_BUSY_MS 10000
#define SQ_CACHE 128

struct sq_conn {
    sqlite3 *db;
    int ncache;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[SQ_CACHE];
    struct sq_conn *next;
};

/* A write waiting for the writer thread; lives on the submitter's stack. */
typedef int sq_write_fn(struct sq_conn *c, void *arg, struct err *e);
struct sq_job {
    sq_write_fn *fn;
    void *arg;
    struct err *e;             /* the submitter's */
    sem_t done;                /* posted once the job's batch is committed (or failed) */
    void (*done_fn)(void *ud); /* instead of done: called on the writer thread, job freed */
    bool failed;               /* run_batch: this job failed and is not run again */
    bool urgent;               /* sq__write_urgent(): ahead of the queue, in a batch of its own */
    void *done_ud;
    struct sq_job *next;
};

struct sq_store {
    struct store base; /* must be first */
    char path[1100];
    pthread_mutex_t mu;       /* guards idle */
    struct sq_conn *idle;     /* connections not in use */
    pthread_mutex_t write_mu; /* one write transaction of this process at a time */
    int schema;

    /* Group commit: one writer thread runs queued writes, many per transaction. */
    pthread_t writer;
    bool writer_running;
    struct sq_conn *wconn; /* the writer thread's connection */
    pthread_mutex_t q_mu;  /* guards the queue and stopping */
    pthread_cond_t q_cv;   /* the writer waits for work */
    struct sq_job *q_head, *q_tail;
    bool stopping;

    /* Checkpoints on their own thread (see checkpointer_main). */
    pthread_t checkpointer;
    struct sq_conn *cconn;  /* the checkpointer's connection */
    pthread_cond_t ckpt_cv; /* with q_mu: wakes the checkpointer */
    bool checkpoint_due;
    bool wal_restart;       /* with q_mu: the WAL is long; the writer folds its tail in */
    int wal_frames;         /* frames in the WAL after the writer's last commit */
    int ckpt_frames;        /* checkpoint past this many frames (SQ_CHECKPOINT_FRAMES) */

    /* Durability off the writer's path (see syncer_main). */
    pthread_t syncer;
    pthread_cond_t sync_cv;               /* with q_mu: wakes the syncer */
    struct sq_job *sync_head, *sync_tail; /* committed, waiting for the WAL's fdatasync */
    bool sync_stopping;
    int wal_fd; /* the syncer's own descriptor of the WAL file, -1 until opened */
    unsigned long wal_syncs; /* with q_mu: fdatasync()s done (the tests watch it) */
    int (*wal_sync_fn)(int fd); /* fdatasync; a test replaces it to make the disk fail */

    unsigned char audit_key[32]; /* DIR/audit.key: keys the audit hash chain */
};

static inline struct sq_store *sq(struct store *st)
{
    if (st->ops != &store__sqlite_ops)
        abort(); /* BUG: a store of another backend reached sqlite.c */
    return (struct sq_store *)st;
}

/* report_observables.role */
enum { SQ_ROLE_OTHER = 0, SQ_ROLE_ATTACKER = 1, SQ_ROLE_VICTIM = 2 };
/*
 * The key of an indicator in report_observables (migration 8): a 64-bit
 * SipHash of its type and normalised value; isac_obs_hash(type, value) in
 * SQL on every connection of the store.
 */
int64_t sq__obs_hash(const char *type, size_t tlen, const char *value, size_t vlen);

/* Row-to-JSON converter: one per object kind. */
typedef json_t *row_fn(sqlite3_stmt *st);

/* Wrappers that take and return a pooled connection around fn. */
#define WITH_CONN(s, c, e)                                                                         \
    struct sq_conn *c;                                                                             \
    if (sq__conn_get((s), &c, (e)))                                                                \
        return (e)->code;

/* Map a SQLite failure to ERR_CONFLICT or ERR_STORE (logged). */
int sq__fail(sqlite3 *db, int rc, struct err *e, const char *what);
int sq__conn_get(struct sq_store *s, struct sq_conn **out, struct err *e);
void sq__conn_put(struct sq_store *s, struct sq_conn *c);
/* A cached, reset statement for sql (a static string: cached by address). */
sqlite3_stmt *sq__stmt(struct sq_conn *c, const char *sql, struct err *e);
/* Reset a statement after use. */
void sq__done(sqlite3_stmt *st);
void sq__bind_text(sqlite3_stmt *st, int i, const char *v);
/*
 * The same without SQLite's copy of v: only for a v that lives until the
 * statement is stepped and reset (sq__step_write clears the bindings).
 * The report writes use it: their texts (a ~2 KB content among them) were
 * copied once more for every bind.
 */
void sq__bind_static(sqlite3_stmt *st, int i, const char *v);
const char *sq__jstr(const json_t *o, const char *k);
/* "" when absent */
const char *sq__jstr2(const json_t *o, const char *k1, const char *k2);
/* Step a write expecting SQLITE_DONE; ERR_NOTFOUND if need_change and no row changed. */
int sq__step_write(struct sq_conn *c, sqlite3_stmt *st, bool need_change, struct err *e,
                   const char *what);
/* Run fn(c, arg, e) as one atomic, durable write on the writer thread. */
int sq__write(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e);
/*
 * The same for a write that must not wait for other work (publishing an
 * alert): it goes ahead of every queued write that is not urgent too, and
 * its batch holds urgent writes only, so it waits at most for the batch
 * already being committed.
 */
int sq__write_urgent(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e);
/*
 * The same without waiting: returns 0 once queued, then done(ud) is called
 * on the writer thread after the commit (e filled on failure); arg and e
 * must live until then. Fails (ERR_STORE, done never called) if closing.
 */
int sq__write_async(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e,
                    void (*done)(void *ud), void *ud);
/* Collect the rows of a bound SELECT into a JSON array / expect one row. */
int sq__collect(struct sq_conn *c, sqlite3_stmt *st, row_fn *row, json_t **out, struct err *e);
int sq__one(struct sq_conn *c, sqlite3_stmt *st, row_fn *row, json_t **out, struct err *e,
            const char *what);
/* Column as text ("" for NULL), parsed JSON ([] for NULL), {"ja": i, "en": i+1}. */
const char *sq__col(sqlite3_stmt *st, int i);
json_t *sq__col_json(sqlite3_stmt *st, int i);
json_t *sq__name_obj(sqlite3_stmt *st, int i);
/* Column as text / as an integer, JSON null for NULL. */
json_t *sq__col_opt(sqlite3_stmt *st, int i);
json_t *sq__col_opt_int(sqlite3_stmt *st, int i);
/* The reader's keys as JSON array text, for "key IN json_each(?)"; caller frees (NULL: ENOMEM). */
char *sq__keys_json(const struct store_release_access *acc);
/*
 * Bind a reader's access as parameters ?20-?23 (releases and alerts): none,
 * all, the reader's org ("" if none), keys (JSON array text, "[]" if NULL).
 */
void sq__bind_access(sqlite3_stmt *st, const struct store_release_access *acc, const char *keys);

/* sqlite_report.c: the report, regime and near-miss operations of store_ops. */
int sq__report_create(struct store *st, const json_t *report, const json_t *revision,
                      const char *idem_scope, const char *idem_key, struct err *e);
int sq__report_create_async(struct store *st, const json_t *report, const json_t *revision,
                            const char *idem_scope, const char *idem_key, struct err *e,
                            store_done_fn *done, void *ud);
int sq__report_revise(struct store *st, const json_t *report, int expected_rev,
                      const json_t *revision, const char *idem_scope, const char *idem_key,
                      struct err *e);
int sq__report_get(struct store *st, const struct store_report_access *acc, const char *id,
                   bool with_revisions, json_t **out, struct err *e);
int sq__report_list(struct store *st, const struct store_report_access *acc,
                    const struct store_report_filter *f, const struct store_page *page,
                    json_t **out, struct err *e);
int sq__idem_lookup(struct store *st, const char *scope, const char *key, char *report_id,
                    struct err *e);
int sq__report_by_regime(struct store *st, const char *regime, json_t **out, struct err *e);
int sq__report_set_due(struct store *st, const char *id, int64_t due_at, const char *due_stage,
                       struct err *e);
int sq__regime_list(struct store *st, bool include_disabled, json_t **out, struct err *e);
int sq__regime_get(struct store *st, const char *code, json_t **out, struct err *e);
int sq__regime_create(struct store *st, const json_t *regime, struct err *e);
int sq__regime_update(struct store *st, const json_t *regime, struct err *e);
int sq__nearmiss_put(struct store *st, const char *org_id, const char *user_id, const char *month,
                     const json_t *entries, struct err *e);
int sq__nearmiss_list(struct store *st, const char *org_id, const char *month, bool history,
                      int64_t after_id, int limit, json_t **out, struct err *e);
int sq__nearmiss_totals(struct store *st, const char *from, const char *to, const char *sector,
                        const char *event_type, json_t **out, struct err *e);

/* sqlite_audit.c */
int sq__audit_key_load(struct sq_store *s, const char *dir, bool create, struct err *e);
int sq__audit_append(struct store *st, const struct store_audit_entry *a, int64_t *seq,
                     struct err *e);
int sq__audit_list(struct store *st, const struct store_audit_filter *f, int limit, json_t **out,
                   struct err *e);
int sq__audit_verify(struct store *st, struct store_audit_check *out, struct err *e);

/* sqlite_release.c: releases, consent requests, settings; and report_content_at. */
int sq__report_content_at(struct store *st, const struct store_report_access *acc, const char *id,
                          int n, json_t **out, struct err *e);
int sq__release_create(struct store *st, const json_t *release, const uint8_t *key, size_t keylen,
                       struct err *e);
int sq__release_get(struct store *st, const struct store_release_access *acc, const char *id,
                    json_t **out, uint8_t *key, size_t keylen, struct err *e);
int sq__release_update(struct store *st, const json_t *release, const char *from_state,
                       const json_t *targets, struct err *e);
int sq__release_list(struct store *st, const struct store_release_access *acc,
                     const struct store_release_filter *f, int64_t after_seq, const char *after_id,
                     int limit, json_t **out, struct err *e);
int sq__audreq_create(struct store *st, const json_t *req, struct err *e);
int sq__audreq_get(struct store *st, const char *id, json_t **out, struct err *e);
int sq__audreq_list(struct store *st, const char *release_id, const char *org_id, const char *state,
                    json_t **out, struct err *e);
int sq__audreq_decide(struct store *st, const json_t *req, const json_t *release,
                      const json_t *targets, struct err *e);
int sq__setting_get(struct store *st, const char *key, json_t **out, struct err *e);
int sq__setting_put(struct store *st, const char *key, const json_t *value, const char *user_id,
                    struct err *e);
int sq__sector_member_counts(struct store *st, json_t **out, struct err *e);

/* sqlite_alert.c: alerts, their targets, recipients and receipts. */
int sq__alert_create(struct store *st, const json_t *alert, struct err *e);
int sq__alert_get(struct store *st, const struct store_release_access *acc, const char *id,
                  json_t **out, struct err *e);
int sq__alert_update(struct store *st, const json_t *alert, struct err *e);
int sq__alert_publish(struct store *st, const char *id, const char *user_id, const json_t *targets,
                      int64_t *seq, struct err *e);
int sq__alert_list(struct store *st, const struct store_release_access *acc,
                   const struct store_alert_filter *f, int64_t after_seq, const char *after_id,
                   int limit, json_t **out, struct err *e);
int sq__alert_events(struct store *st, const struct store_release_access *acc, int64_t after_seq,
                     int limit, json_t **out, struct err *e);
int sq__alert_recipients(struct store *st, const char *alert_id, json_t **out, struct err *e);
int sq__receipts_add(struct store *st, const struct store_receipt *r, size_t n, struct err *e);
int sq__alert_queue(struct store *st, const char *alert_id, struct err *e);
int sq__alert_receipts(struct store *st, const char *alert_id, json_t **receipts,
                       json_t **recipients, struct err *e);

/* sqlite_deliver.c: webhooks, the delivery outbox and its log, escalation. */
int sq__webhook_create(struct store *st, const json_t *hook, const uint8_t *secret, size_t len,
                       struct err *e);
int sq__webhook_get(struct store *st, const char *id, json_t **out, struct err *e);
int sq__webhook_list(struct store *st, const char *org_id, json_t **out, struct err *e);
int sq__webhook_update(struct store *st, const json_t *hook, struct err *e);
int sq__webhook_delete(struct store *st, const char *id, struct err *e);
int sq__outbox_claim(struct store *st, const char *channel, int64_t now, int64_t stale_ms,
                     int limit, json_t **out, struct err *e);
int sq__outbox_result(struct store *st, int64_t id, bool ok, int status, const char *error,
                      int64_t duration_ms, int64_t next_at, struct err *e);
int sq__webhook_log(struct store *st, const char *webhook_id, int limit, json_t **out,
                    struct err *e);
int sq__escalation_due(struct store *st, int64_t published_before, int limit, json_t **out,
                       struct err *e);
int sq__alert_escalate(struct store *st, const char *alert_id, const char *org_id, int64_t now,
                       struct err *e);

#endif
