/*
 * sqlite.c - the embedded SQLite backend of store.h.
 *
 * Durability: WAL journal with synchronous=FULL. In WAL mode NORMAL only
 * guarantees durability against application crashes; a power loss can
 * roll back the last transactions. FULL fsyncs the WAL on every commit, so
 * what the API acknowledged survives kill -9 and power loss.
 *
 * Concurrency: one connection per concurrent caller, pooled, each with its
 * own cache of prepared statements (keyed by the SQL string's address: the
 * SQL is always a static string). Readers never block (WAL). Every write
 * is a job for the one writer thread, which commits many jobs per
 * transaction (group commit, see sq__write()); the busy timeout remains for
 * other processes (the CLI works while the daemon runs).
 *
 * Schema: versioned migrations in migrations[] below; schema N is the
 * result of applying migrations[0..N-1]. meta.schema_version records it.
 * A store with a higher version than this build knows is refused.
 * Timestamps are stored as integer seconds (UTC) and rendered to RFC 3339
 * by SQL, so comparisons and ordering are numeric.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/jw.h"
#include "base/log.h"
#include "base/util.h"
#include "model/member.h"
#include "sqlite_int.h"


/* ---- migrations ---- */

static const char *const migrations[] = {
    /* 1: members */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE sectors(code TEXT PRIMARY KEY, name_ja TEXT NOT NULL, name_en TEXT NOT NULL,"
    " position INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tiers(code TEXT PRIMARY KEY, name_ja TEXT NOT NULL, name_en TEXT NOT NULL,"
    " position INTEGER NOT NULL);"
    "CREATE TABLE orgs(id TEXT PRIMARY KEY, name_ja TEXT NOT NULL, name_en TEXT NOT NULL,"
    " kind TEXT NOT NULL, tier TEXT NOT NULL REFERENCES tiers(code),"
    " contacts TEXT NOT NULL DEFAULT '[]', disabled INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE org_sectors(org_id TEXT NOT NULL REFERENCES orgs(id),"
    " sector TEXT NOT NULL REFERENCES sectors(code), PRIMARY KEY(org_id, sector)) WITHOUT ROWID;"
    "CREATE INDEX org_sectors_sector ON org_sectors(sector, org_id);"
    "CREATE TABLE users(id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE,"
    " display_name TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES orgs(id),"
    " roles INTEGER NOT NULL, locale TEXT NOT NULL, email TEXT, password_hash TEXT,"
    " disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, password_changed_at INTEGER);"
    "CREATE INDEX users_org ON users(org_id, id);"
    "CREATE TABLE tokens(id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),"
    " name TEXT NOT NULL, hash BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_used_at INTEGER,"
    " revoked_at INTEGER);"
    "CREATE INDEX tokens_user ON tokens(user_id, id);"
    "CREATE TABLE sessions(hash BLOB PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),"
    " csrf TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE TABLE login_failures(key TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX login_failures_key ON login_failures(key, at);"
    /* Reference data: DOMAIN.md §3 sectors and the Council's default tiers. */
    "INSERT INTO sectors(code, name_ja, name_en, position) VALUES"
    " ('ict','情報通信','Information and communication',1),"
    " ('finance','金融','Financial services',2),"
    " ('aviation','航空','Aviation',3),"
    " ('airport','空港','Airports',4),"
    " ('railway','鉄道','Railways',5),"
    " ('electricity','電力','Electric power',6),"
    " ('gas','ガス','Gas',7),"
    " ('government','政府・行政サービス（地方公共団体を含む）',"
    "  'Government and administrative services (incl. local government)',8),"
    " ('medical','医療','Medical services',9),"
    " ('water','水道','Water',10),"
    " ('logistics','物流','Logistics',11),"
    " ('chemical','化学','Chemical industry',12),"
    " ('credit','クレジット','Credit card services',13),"
    " ('petroleum','石油','Petroleum',14),"
    " ('port','港湾','Ports',15);"
    "INSERT INTO tiers(code, name_ja, name_en, position) VALUES"
    " ('class1','第一類構成員','Class 1 member',1),"
    " ('class2','第二類構成員','Class 2 member',2),"
    " ('general','一般構成員','General member',3);",
    /* 2: reports, their revisions and observables, regimes, idempotency, near-miss counts */
    "CREATE TABLE regimes(code TEXT PRIMARY KEY, name_ja TEXT NOT NULL, name_en TEXT NOT NULL,"
    " steps TEXT NOT NULL, position INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE reports(id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id),"
    " created_by TEXT NOT NULL REFERENCES users(id), stage TEXT NOT NULL,"
    " revision INTEGER NOT NULL, kind TEXT NOT NULL, event_type TEXT NOT NULL,"
    " severity INTEGER NOT NULL, status TEXT NOT NULL, basis TEXT, regime TEXT,"
    " share_with_hub INTEGER NOT NULL, title TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, submitted_at INTEGER,"
    " due_at INTEGER, due_stage TEXT);"
    "CREATE INDEX reports_org ON reports(org_id, id);"
    "CREATE INDEX reports_due ON reports(due_at) WHERE due_at IS NOT NULL;"
    "CREATE INDEX reports_regime ON reports(regime) WHERE regime IS NOT NULL;"
    "CREATE TABLE report_sectors(report_id TEXT NOT NULL REFERENCES reports(id),"
    " sector TEXT NOT NULL REFERENCES sectors(code), PRIMARY KEY(report_id, sector))"
    " WITHOUT ROWID;"
    "CREATE INDEX report_sectors_sector ON report_sectors(sector, report_id);"
    "CREATE TABLE report_revisions(report_id TEXT NOT NULL REFERENCES reports(id),"
    " n INTEGER NOT NULL, stage TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users(id),"
    " at INTEGER NOT NULL, reason TEXT, changes TEXT NOT NULL, content TEXT NOT NULL,"
    " PRIMARY KEY(report_id, n)) WITHOUT ROWID;"
    /* Keyed for "who else reported this indicator": one b-tree write per observable. */
    "CREATE TABLE report_observables(type TEXT NOT NULL, value TEXT NOT NULL,"
    " report_id TEXT NOT NULL REFERENCES reports(id), role TEXT NOT NULL,"
    " PRIMARY KEY(type, value, report_id)) WITHOUT ROWID;"
    "CREATE TABLE idempotency(scope TEXT NOT NULL, key TEXT NOT NULL, report_id TEXT NOT NULL,"
    " at INTEGER NOT NULL, PRIMARY KEY(scope, key)) WITHOUT ROWID;"
    "CREATE TABLE nearmiss(id INTEGER PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id),"
    " sector TEXT NOT NULL REFERENCES sectors(code), month TEXT NOT NULL,"
    " event_type TEXT NOT NULL, count INTEGER NOT NULL, note TEXT,"
    " user_id TEXT NOT NULL REFERENCES users(id), at INTEGER NOT NULL,"
    " current INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX nearmiss_current ON nearmiss(org_id, sector, month, event_type)"
    " WHERE current = 1;"
    "CREATE INDEX nearmiss_month ON nearmiss(month, sector, event_type) WHERE current = 1;"
    /* DOMAIN.md §5 regimes; admins edit or add more. */
    "INSERT INTO regimes(code, name_ja, name_en, steps, position) VALUES"
    " ('jp_electricity','電気事業法（電力）','Electricity Business Act (Japan)',"
    "  '[{\"stage\":\"first\",\"within\":\"24h\"},{\"stage\":\"final\",\"within\":\"30d\"}]',1),"
    " ('jp_telecom','電気通信事業法（重大な事故）','Telecommunications Business Act, serious accident (Japan)',"
    "  '[{\"stage\":\"first\",\"within\":null},{\"stage\":\"final\",\"within\":\"30d\"}]',2),"
    " ('jp_personal_data','個人情報保護法（漏えい等）','Act on the Protection of Personal Information, leak (Japan)',"
    "  '[{\"stage\":\"first\",\"within\":\"5d\"},"
    "{\"stage\":\"final\",\"within\":\"30d\",\"within_if_intentional\":\"60d\"}]',3),"
    " ('eu_nis2','NIS2指令','EU NIS2 Directive',"
    "  '[{\"stage\":\"first\",\"within\":\"24h\"},{\"stage\":\"update\",\"within\":\"72h\"},"
    "{\"stage\":\"final\",\"within\":\"1M\"}]',4);",
    /* 3: the tamper-evident audit log (sqlite_audit.c) */
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor_user TEXT,"
    " actor_login TEXT, actor_org TEXT, remote TEXT, action TEXT NOT NULL, object_kind TEXT,"
    " object_id TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BLOB NOT NULL,"
    " hash BLOB NOT NULL);"
    "CREATE INDEX audit_actor ON audit(actor_login, seq);"
    "CREATE INDEX audit_object ON audit(object_id, seq);"
    "CREATE INDEX audit_action ON audit(action, seq);",
    /* 4: releases (sqlite_release.c), consent requests, organisation identifiers, settings */
    "ALTER TABLE orgs ADD COLUMN identifiers TEXT NOT NULL DEFAULT '{}';"
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    " updated_by TEXT);"
    "CREATE TABLE releases(id TEXT PRIMARY KEY, report_id TEXT NOT NULL REFERENCES reports(id),"
    " org_id TEXT NOT NULL REFERENCES orgs(id), version INTEGER NOT NULL, state TEXT NOT NULL,"
    " report_revision INTEGER NOT NULL, release_key BLOB NOT NULL, content TEXT NOT NULL,"
    " redactions TEXT NOT NULL, audience TEXT NOT NULL, tlp TEXT NOT NULL, purpose TEXT,"
    " handling TEXT, kind TEXT NOT NULL, event_type TEXT NOT NULL, severity INTEGER NOT NULL,"
    " title TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL, submitted_at INTEGER, submitted_by TEXT,"
    " decided_at INTEGER, decided_by TEXT, decision_note TEXT,"
    " published_at INTEGER, published_by TEXT, pub_seq INTEGER UNIQUE,"
    " withdrawn_at INTEGER, withdrawn_by TEXT, withdrawn_reason TEXT,"
    " UNIQUE(report_id, version));"
    "CREATE INDEX releases_state ON releases(state, id);"
    "CREATE INDEX releases_org ON releases(org_id, id);"
    "CREATE TABLE release_sectors(release_id TEXT NOT NULL REFERENCES releases(id),"
    " sector TEXT NOT NULL, PRIMARY KEY(release_id, sector)) WITHOUT ROWID;"
    /*
     * Who a published release reaches, as keys ("all", "org:<id>" for named
     * recipients and the provider, "sector:<code>", "tier:<code>",
     * "hub:<sector>"); a reader's inbox merges the newest entries of its
     * few keys.
     */
    "CREATE TABLE release_targets(key TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY(key, seq)) WITHOUT ROWID;"
    "CREATE INDEX release_targets_seq ON release_targets(seq);"
    "CREATE TABLE audience_requests(id TEXT PRIMARY KEY,"
    " release_id TEXT NOT NULL REFERENCES releases(id), org_id TEXT NOT NULL REFERENCES orgs(id),"
    " audience TEXT NOT NULL, tlp TEXT NOT NULL, reason TEXT NOT NULL, state TEXT NOT NULL,"
    " requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL, decided_by TEXT,"
    " decided_at INTEGER, decision_note TEXT);"
    "CREATE INDEX audience_requests_release ON audience_requests(release_id, id);"
    "CREATE INDEX audience_requests_org ON audience_requests(org_id, state, id);",
    /* 5: alerts, their recipients and receipts, webhooks, the delivery outbox (sqlite_alert.c) */
    "CREATE TABLE alerts(id TEXT PRIMARY KEY, series_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " kind TEXT NOT NULL, state TEXT NOT NULL, issuer_org TEXT NOT NULL REFERENCES orgs(id),"
    " body TEXT NOT NULL, urgency TEXT NOT NULL, exercise INTEGER NOT NULL,"
    " audience TEXT NOT NULL, tlp TEXT NOT NULL, title TEXT NOT NULL,"
    " created_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " published_by TEXT, published_at INTEGER, pub_seq INTEGER UNIQUE,"
    " UNIQUE(series_id, version));"
    "CREATE INDEX alerts_issuer ON alerts(issuer_org, id);"
    "CREATE INDEX alerts_state ON alerts(state, id);"
    /* Who a published alert version reaches, by key (as release_targets); seq = pub_seq. */
    "CREATE TABLE alert_targets(key TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY(key, seq)) WITHOUT ROWID;"
    /* The organisations targeted when a version was published: reach is measured against them. */
    "CREATE TABLE alert_recipients(alert_id TEXT NOT NULL REFERENCES alerts(id),"
    " org_id TEXT NOT NULL REFERENCES orgs(id), escalated_at INTEGER,"
    " PRIMARY KEY(alert_id, org_id)) WITHOUT ROWID;"
    "CREATE INDEX alert_recipients_org ON alert_recipients(org_id, alert_id);"
    "CREATE TABLE receipts(alert_id TEXT NOT NULL REFERENCES alerts(id), org_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, channel TEXT NOT NULL, user_id TEXT NOT NULL, at INTEGER NOT NULL,"
    " note TEXT, PRIMARY KEY(alert_id, org_id, kind, channel, user_id)) WITHOUT ROWID;"
    "CREATE TABLE webhooks(id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id),"
    " url TEXT NOT NULL, secret BLOB NOT NULL, enabled INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX webhooks_org ON webhooks(org_id, id);"
    /* Webhook and e-mail work: one row per (alert version, destination); workers claim due rows. */
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, alert_id TEXT NOT NULL REFERENCES alerts(id),"
    " org_id TEXT NOT NULL, channel TEXT NOT NULL, target TEXT NOT NULL, locale TEXT,"
    " state TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
    " last_error TEXT, created_at INTEGER NOT NULL, done_at INTEGER,"
    " escalation INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outbox_due ON outbox(state, next_at);"
    "CREATE INDEX outbox_target ON outbox(target, id);"
    "CREATE TABLE delivery_log(id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL"
    " REFERENCES outbox(id), at INTEGER NOT NULL, status INTEGER, error TEXT,"
    " duration_ms INTEGER NOT NULL);"
    "CREATE INDEX delivery_log_outbox ON delivery_log(outbox_id, id);",
    /*
     * 6: publishing wakes the streams before the webhook and e-mail work is
     * queued (queued marks it done, so a crash in between is caught up);
     * versions published before this queued theirs with the publication.
     * No query reads recipients by organisation: drop that index.
     */
    "ALTER TABLE alerts ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;"
    "UPDATE alerts SET queued = 1 WHERE state = 'published';"
    "CREATE INDEX alerts_unqueued ON alerts(queued) WHERE state = 'published' AND queued = 0;"
    "DROP INDEX alert_recipients_org;",
    /*
     * 7: revisions in a rowid table. In the WITHOUT ROWID table a row is
     * kept in its b-tree page only up to ~1 KB, so each revision's content
     * (~2 KB) took an overflow page of its own, mostly empty: 4 KB more
     * written to the WAL and kept in the database per report. A rowid
     * table keeps rows of up to ~4 KB in the page.
     */
    "CREATE TABLE report_revisions_7(report_id TEXT NOT NULL REFERENCES reports(id),"
    " n INTEGER NOT NULL, stage TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users(id),"
    " at INTEGER NOT NULL, reason TEXT, changes TEXT NOT NULL, content TEXT NOT NULL,"
    " PRIMARY KEY(report_id, n));"
    "INSERT INTO report_revisions_7(report_id, n, stage, user_id, at, reason, changes, content)"
    " SELECT report_id, n, stage, user_id, at, reason, changes, content FROM report_revisions"
    " ORDER BY report_id, n;"
    "DROP TABLE report_revisions;"
    "ALTER TABLE report_revisions_7 RENAME TO report_revisions;",
    /*
     * 8: report_observables keyed by a 64-bit hash of the indicator
     * (isac_obs_hash: type and value) and the report's rowid, with the role
     * as a code (SQ_ROLE_*). Rows of ~16 bytes instead of ~100 and integer
     * keys: keeping this index up was 16 % of the instructions of ingesting
     * a report, and costs 38 % less. A lookup of "who else reported this
     * indicator" hashes it, then reads the candidates' content (two
     * indicators may, very rarely, share a hash). No foreign key: a rowid
     * cannot be referenced; the rows are written with their report.
     */
    "CREATE TABLE report_observables_8(h INTEGER NOT NULL, report INTEGER NOT NULL,"
    " role INTEGER NOT NULL, PRIMARY KEY(h, report)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO report_observables_8(h, report, role)"
    " SELECT isac_obs_hash(o.type, o.value), r.rowid,"
    " CASE o.role WHEN 'attacker' THEN 1 WHEN 'victim' THEN 2 ELSE 0 END"
    " FROM report_observables o JOIN reports r ON r.id = o.report_id;"
    "DROP TABLE report_observables;"
    "ALTER TABLE report_observables_8 RENAME TO report_observables;",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION, "STORE_SCHEMA_VERSION out of step");

/* ---- connections and statements ---- */

int sq__fail(sqlite3 *db, int rc, struct err *e, const char *what)
{
    int ext = db ? sqlite3_extended_errcode(db) : rc;
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return err_set(e, ERR_CONFLICT, "%s: already exists", what);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return err_set(e, ERR_CONFLICT, "%s: refers to a missing object", what);
    log_error("sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return err_set(e, ERR_STORE, "storage error");
}

int64_t sq__obs_hash(const char *type, size_t tlen, const char *value, size_t vlen)
{
    /*
     * SipHash-2-4 (libsodium's crypto_shorthash) of type, NUL, value: the
     * NUL keeps ("ab", "c") apart from ("a", "bc"). The key is fixed, not
     * secret: the index must hash alike in every process and after every
     * restart, and a lookup checks the candidates' content anyway.
     */
    static const unsigned char key[crypto_shorthash_KEYBYTES] = "isac observable";
    unsigned char small[256], *in = small, h[crypto_shorthash_BYTES];
    size_t n = tlen + 1 + vlen;
    if (n > sizeof(small))
        in = xmalloc(n);
    memcpy(in, type, tlen);
    in[tlen] = '\0';
    memcpy(in + tlen + 1, value, vlen);
    crypto_shorthash(h, in, n, key);
    if (in != small)
        free(in);
    int64_t v;
    memcpy(&v, h, sizeof(v));
    return v;
}

/* isac_obs_hash(type, value) in SQL: sq__obs_hash; NULL if either is NULL. */
static void sql_obs_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    const char *v = (const char *)sqlite3_value_text(argv[1]);
    if (t == NULL || v == NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int64(ctx, sq__obs_hash(t, (size_t)sqlite3_value_bytes(argv[0]), v,
                                           (size_t)sqlite3_value_bytes(argv[1])));
}

static int conn_open(struct sq_store *s, bool create, struct sq_conn **out, struct err *e)
{
    struct sq_conn *c = xcalloc(1, sizeof(*c));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_CANTOPEN)
            err_set(e, ERR_STORE, "cannot open store '%s' (run 'isac init' first?)", s->path);
        else
            sq__fail(c->db, rc, e, "open");
        sqlite3_close(c->db);
        free(c);
        return e->code;
    }
    sqlite3_busy_timeout(c->db, SQ_BUSY_MS);
    sqlite3_extended_result_codes(c->db, 1);
    char *msg = NULL;
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                      /* No memory map: measured on report ingest (the hot write path),
                       * mapping the file (256 MiB) gained nothing, and a map is one more
                       * way for an I/O error to become a SIGBUS instead of an error code. */
                      " PRAGMA mmap_size=0;",
                      NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(c->db, "isac_obs_hash", 2,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                     sql_obs_hash, NULL, NULL);
    if (rc != SQLITE_OK) {
        log_error("sqlite: pragmas: %s", msg ? msg : "");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        free(c);
        return err_set(e, ERR_STORE, "storage error");
    }
    *out = c;
    return 0;
}

static void conn_close(struct sq_conn *c)
{
    for (int i = 0; i < c->ncache; i++)
        sqlite3_finalize(c->cache[i].st);
    sqlite3_close(c->db);
    free(c);
}

int sq__conn_get(struct sq_store *s, struct sq_conn **out, struct err *e)
{
    pthread_mutex_lock(&s->mu);
    struct sq_conn *c = s->idle;
    if (c)
        s->idle = c->next;
    pthread_mutex_unlock(&s->mu);
    if (c) {
        *out = c;
        return 0;
    }
    return conn_open(s, false, out, e);
}

void sq__conn_put(struct sq_store *s, struct sq_conn *c)
{
    pthread_mutex_lock(&s->mu);
    c->next = s->idle;
    s->idle = c;
    pthread_mutex_unlock(&s->mu);
}

/* A cached, reset statement for sql (a static string). */
sqlite3_stmt *sq__stmt(struct sq_conn *c, const char *sql, struct err *e)
{
    for (int i = 0; i < c->ncache; i++)
        if (c->cache[i].sql == sql)
            return c->cache[i].st;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        sq__fail(c->db, rc, e, "prepare");
        return NULL;
    }
    if (c->ncache < SQ_CACHE) {
        c->cache[c->ncache].sql = sql;
        c->cache[c->ncache].st = st;
        c->ncache++;
    } else {
        abort(); /* BUG: more distinct statements than SQ_CACHE; raise it */
    }
    return st;
}

void sq__done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

void sq__bind_static(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void sq__bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

const char *sq__jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

const char *sq__jstr2(const json_t *o, const char *k1, const char *k2)
{
    const char *v = json_string_value(json_object_get(json_object_get(o, k1), k2));
    return v ? v : "";
}

static int wbegin(struct sq_store *s, struct sq_conn *c, struct err *e)
{
    pthread_mutex_lock(&s->write_mu);
    int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        pthread_mutex_unlock(&s->write_mu);
        return sq__fail(c->db, rc, e, "begin");
    }
    return 0;
}

static int wcommit(struct sq_store *s, struct sq_conn *c, struct err *e)
{
    int rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq__fail(c->db, rc, e, "commit");
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&s->write_mu);
    return rc == SQLITE_OK ? 0 : e->code;
}

static void wrollback(struct sq_store *s, struct sq_conn *c)
{
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->write_mu);
}

/* Step a write statement expecting SQLITE_DONE; ERR_NOTFOUND if it changed no row. */
int sq__step_write(struct sq_conn *c, sqlite3_stmt *st, bool need_change, struct err *e,
                      const char *what)
{
    int rc = sqlite3_step(st);
    int changes = sqlite3_changes(c->db);
    sq__done(st);
    if (rc != SQLITE_DONE)
        return sq__fail(c->db, rc, e, what);
    if (need_change && changes == 0)
        return err_set(e, ERR_NOTFOUND, "%s: not found", what);
    return 0;
}

/*
 * Group commit. Writers of every thread queue a job; the writer thread
 * takes everything queued, runs the jobs in one transaction (see
 * run_batch) and commits once; the syncer thread then makes the WAL
 * durable (one fdatasync for every batch committed meanwhile) and only
 * then wakes the submitters. A failed job fails alone; a failed commit
 * fails every job of the batch. So each job is still atomic, and nobody is
 * told "done" before its data is durable.
 */
#define SQ_BATCH_MAX 512

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_SAVEPOINT[] = "SAVEPOINT job";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO job";
static const char SQL_RELEASE[] = "RELEASE job";

/* Run a cached statement that returns no rows. */
static int exec_cached(struct sq_conn *c, const char *sql, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (q == NULL)
        return e->code;
    int rc = sqlite3_step(q);
    sq__done(q);
    if (rc != SQLITE_DONE)
        return sq__fail(c->db, rc, e, sql);
    return 0;
}

/* True if the connection is inside a transaction (not back in autocommit). */
static bool in_tx(struct sq_conn *c) { return !sqlite3_get_autocommit(c->db); }

/*
 * One transaction for the batch. Jobs rarely fail, so the batch first runs
 * without savepoints: a savepoint makes SQLite copy every page a job
 * first touches into a statement journal, which was most of the memory
 * traffic of report ingest. If a job fails, everything is rolled back and
 * the batch runs again with a savepoint per job: then a job that fails
 * rolls back to its own savepoint. A job that ends the whole transaction
 * (a RAISE(ROLLBACK), a full disk, an I/O error) takes the earlier jobs'
 * writes with it: it fails, and the batch starts over without it, so each
 * acknowledged job is durable and each failed one left nothing behind.
 * (Jobs are written to be run again: they only write through SQL.)
 */
static bool run_batch(struct sq_store *s, struct sq_job *batch)
{
    struct sq_conn *c = s->wconn;
    struct err be, ignore;
    bool savepoints = false;
    pthread_mutex_lock(&s->write_mu);
again:
    err_init(&be);
    exec_cached(c, SQL_BEGIN, &be);
    for (struct sq_job *j = batch; j; j = j->next) {
        if (j->failed)
            continue;
        if (be.code) {
            *j->e = be;
            j->failed = true;
            continue;
        }
        err_init(&ignore);
        if (savepoints)
            exec_cached(c, SQL_SAVEPOINT, &ignore);
        int rc = j->fn(c, j->arg, j->e);
        if (rc == 0 && j->e->code == 0 && in_tx(c) &&
            (!savepoints || exec_cached(c, SQL_RELEASE, &ignore) == 0))
            continue;
        if (!savepoints && batch->next) {
            /* j failed amid others: start over, each job in its own savepoint */
            if (in_tx(c))
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            for (struct sq_job *k = batch; k; k = k->next)
                if (!k->failed)
                    err_init(k->e);
            savepoints = true;
            goto again;
        }
        j->failed = true;
        if (!j->e->code)
            err_set(j->e, ERR_STORE, "storage error");
        if (in_tx(c) && exec_cached(c, SQL_ROLLBACK_TO, &ignore) == 0 &&
            exec_cached(c, SQL_RELEASE, &ignore) == 0 && in_tx(c))
            continue;
        /* The transaction is gone, and with it what the jobs before j wrote: redo them. */
        if (in_tx(c))
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        for (struct sq_job *k = batch; k != j; k = k->next)
            if (!k->failed)
                err_init(k->e);
        goto again;
    }
    bool committed = false;
    if (!be.code && exec_cached(c, SQL_COMMIT, &be) != 0) {
        if (in_tx(c))
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        for (struct sq_job *j = batch; j; j = j->next)
            if (!j->failed)
                *j->e = be;
    } else if (!be.code) {
        committed = true;
    }
    pthread_mutex_unlock(&s->write_mu);
    return committed;
}

/*
 * Checkpoints run on their own thread and connection, so the writer never
 * stops committing to copy pages from the WAL into the database: the
 * writer's connection has automatic checkpoints off and its WAL hook wakes
 * this thread when the WAL has grown past SQ_CHECKPOINT_FRAMES.
 *
 * That alone lets the WAL grow without bound under sustained writes (seen:
 * 600 MB after a minute of ingest). SQLite starts the WAL over only when a
 * write transaction begins with every frame already copied, and the
 * writer, committing every few milliseconds, always begins with a few
 * frames the checkpointer has not reached yet. So once a checkpoint ends
 * with the WAL past SQ_CHECKPOINT_FRAMES, the checkpointer stops and sets
 * wal_restart; the writer, before its next batch, checkpoints the short
 * tail itself, and that batch begins the WAL anew. (A reader still on the
 * old frames makes SQLite keep appending; the writer tries again at the
 * next batch.)
 */
#define SQ_CHECKPOINT_FRAMES 16000

static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct sq_store *s = arg;
    s->wal_frames = frames; /* read by the writer thread only: this runs on it */
    if (frames >= s->ckpt_frames) {
        pthread_mutex_lock(&s->q_mu);
        s->checkpoint_due = true;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->q_mu);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct sq_store *s = arg;
    pthread_mutex_lock(&s->q_mu);
    while (!s->stopping) {
        while ((!s->checkpoint_due || s->wal_restart) && !s->stopping)
            pthread_cond_wait(&s->ckpt_cv, &s->q_mu);
        if (s->stopping)
            break;
        s->checkpoint_due = false;
        pthread_mutex_unlock(&s->q_mu);
        int logged = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(s->cconn->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &logged,
                                           &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(s->cconn->db));
        pthread_mutex_lock(&s->q_mu);
        if (rc == SQLITE_OK && logged >= s->ckpt_frames)
            s->wal_restart = true;
    }
    pthread_mutex_unlock(&s->q_mu);
    return NULL;
}

/*
 * Writer thread, before a batch, when the checkpointer asked for it: copy
 * the frames the checkpointer has not reached (the checkpointer waits
 * meanwhile), so the batch's transaction starts the WAL over.
 */
static void fold_wal_tail(struct sq_store *s)
{
    int rc = sqlite3_wal_checkpoint_v2(s->wconn->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(s->wconn->db));
}

/* Wake each submitter of a finished list of jobs alone: a broadcast would wake every waiter. */
static void complete_jobs(struct sq_job *list)
{
    for (struct sq_job *j = list, *nx; j; j = nx) {
        nx = j->next; /* j lives on its submitter's stack: gone once posted */
        if (j->done_fn) {
            j->done_fn(j->done_ud);
            free(j);
        } else {
            sem_post(&j->done);
        }
    }
}

static void *writer_main(void *arg)
{
    struct sq_store *s = arg;
    pthread_mutex_lock(&s->q_mu);
    for (;;) {
        while (!s->q_head && !s->stopping)
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        if (!s->q_head && s->stopping)
            break;
        struct sq_job *batch = s->q_head, *last = batch;
        int n = 1;
        /* urgent jobs (at the head) commit among themselves: they wait for no other work */
        while (last->next && n < SQ_BATCH_MAX && last->next->urgent == batch->urgent) {
            last = last->next;
            n++;
        }
        s->q_head = last->next;
        if (!s->q_head)
            s->q_tail = NULL;
        last->next = NULL;
        bool restart = s->wal_restart;
        pthread_mutex_unlock(&s->q_mu);

        if (restart)
            fold_wal_tail(s);
        bool committed = run_batch(s, batch);

        pthread_mutex_lock(&s->q_mu);
        if (restart && s->wal_frames < s->ckpt_frames) /* it started over */
            s->wal_restart = false;
        if (committed) { /* to the syncer, which acknowledges once the WAL is durable */
            if (s->sync_tail)
                s->sync_tail->next = batch;
            else
                s->sync_head = batch;
            s->sync_tail = last;
            pthread_cond_signal(&s->sync_cv);
        } else {
            pthread_mutex_unlock(&s->q_mu);
            complete_jobs(batch); /* nothing was written: nothing to wait for */
            pthread_mutex_lock(&s->q_mu);
        }
    }
    pthread_mutex_unlock(&s->q_mu);
    return NULL;
}

/*
 * The writer's connection commits with synchronous=NORMAL: its commits
 * write the WAL but do not wait for the disk. This thread does: it takes
 * every batch committed so far, runs one fdatasync() of the WAL (which
 * covers every frame written before it), and only then acknowledges those
 * jobs. Meanwhile the writer is already running the next batch, so the
 * disk's latency is no longer in the writer's loop.
 *
 * Why this is as safe as syncing inside COMMIT: the WAL is only appended
 * to, and SQLite's recovery replays frames in order up to the first that
 * is missing or torn, so a durable frame implies every earlier frame is
 * durable. A job is acknowledged only after an fdatasync() that began
 * after its batch's COMMIT returned. Checkpoints sync the WAL themselves
 * before copying it into the database. What differs: another reader may
 * see a commit up to one fdatasync (~1-3 ms) before it is durable, and an
 * OS crash in that window loses it; its submitter was never told it was
 * stored, and a retry with the same Idempotency-Key finds it if it
 * survived.
 *
 * If fdatasync() fails, the kernel may already have dropped the pages it
 * could not write, so no later sync can vouch for them: the daemon stops
 * (as PostgreSQL does), and SQLite's recovery at the next start keeps what
 * really reached the disk. Nothing unacknowledged was promised.
 */
static void wal_sync(struct sq_store *s)
{
    char path[sizeof(s->path) + 8];
    if (s->wal_fd < 0) {
        snprintf(path, sizeof(path), "%s-wal", s->path);
        s->wal_fd = open(path, O_RDWR | O_CLOEXEC);
        if (s->wal_fd < 0) {
            log_error("sqlite: cannot open %s to sync it: %s; stopping", path, strerror(errno));
            abort();
        }
        /* A new file's name is durable once its directory is synced: once, here. */
        char *slash = strrchr(path, '/');
        int dfd = -1;
        if (slash) {
            *slash = '\0';
            dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (s->wal_sync_fn(s->wal_fd) != 0) {
        log_error("sqlite: fdatasync of the WAL failed: %s; stopping so that recovery starts "
                  "from what is on disk", strerror(errno));
        abort();
    }
}

static void *syncer_main(void *arg)
{
    struct sq_store *s = arg;
    pthread_mutex_lock(&s->q_mu);
    for (;;) {
        while (!s->sync_head && !s->sync_stopping)
            pthread_cond_wait(&s->sync_cv, &s->q_mu);
        if (!s->sync_head)
            break; /* stopping, and the writer (already joined) committed nothing more */
        struct sq_job *list = s->sync_head;
        s->sync_head = s->sync_tail = NULL;
        pthread_mutex_unlock(&s->q_mu);
        wal_sync(s);
        pthread_mutex_lock(&s->q_mu);
        s->wal_syncs++;
        pthread_mutex_unlock(&s->q_mu);
        complete_jobs(list);
        pthread_mutex_lock(&s->q_mu);
    }
    pthread_mutex_unlock(&s->q_mu);
    return NULL;
}

/* Run fn(c, arg, e) as one atomic, durable write. Returns e->code. */
/*
 * Queue job (q_mu held): urgent jobs after the urgent ones already at the
 * head, the others at the tail. False when the store is closing.
 */
static bool enqueue(struct sq_store *s, struct sq_job *job)
{
    if (s->stopping)
        return false;
    if (!job->urgent || !s->q_head || !s->q_head->urgent) {
        if (job->urgent) { /* first urgent one: to the head */
            job->next = s->q_head;
            s->q_head = job;
            if (!s->q_tail)
                s->q_tail = job;
        } else {
            if (s->q_tail)
                s->q_tail->next = job;
            else
                s->q_head = job;
            s->q_tail = job;
        }
    } else {
        struct sq_job *u = s->q_head;
        while (u->next && u->next->urgent)
            u = u->next;
        job->next = u->next;
        u->next = job;
        if (s->q_tail == u)
            s->q_tail = job;
    }
    pthread_cond_signal(&s->q_cv);
    return true;
}

static int write_wait(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e, bool urgent)
{
    struct sq_job job = {.fn = fn, .arg = arg, .e = e, .urgent = urgent};
    sem_init(&job.done, 0, 0);
    pthread_mutex_lock(&s->q_mu);
    /* job lives on this stack until sem_wait() below returns: the writer is done with it */
    bool queued = enqueue(s, &job); // cppcheck-suppress autoVariables
    pthread_mutex_unlock(&s->q_mu);
    if (!queued) {
        sem_destroy(&job.done);
        return err_set(e, ERR_STORE, "the store is closing");
    }
    while (sem_wait(&job.done) != 0)
        ; /* EINTR */
    sem_destroy(&job.done);
    return e->code;
}

int sq__write(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e)
{
    return write_wait(s, fn, arg, e, false);
}

int sq__write_urgent(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e)
{
    return write_wait(s, fn, arg, e, true);
}

int sq__write_async(struct sq_store *s, sq_write_fn *fn, void *arg, struct err *e,
                    void (*done)(void *ud), void *ud)
{
    struct sq_job *job = xcalloc(1, sizeof(*job));
    job->fn = fn;
    job->arg = arg;
    job->e = e;
    job->done_fn = done;
    job->done_ud = ud;
    pthread_mutex_lock(&s->q_mu);
    bool queued = enqueue(s, job);
    pthread_mutex_unlock(&s->q_mu);
    if (!queued) {
        free(job);
        return err_set(e, ERR_STORE, "the store is closing");
    }
    return 0;
}

/* Ask the writer (and the checkpointer) to stop; the writer drains its queue first. */
static void writer_signal_stop(struct sq_store *s)
{
    pthread_mutex_lock(&s->q_mu);
    s->stopping = true;
    pthread_cond_signal(&s->q_cv);
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->q_mu);
}

/* After the writer has exited: the syncer acknowledges what is left, then exits. */
static void syncer_stop(struct sq_store *s)
{
    pthread_mutex_lock(&s->q_mu);
    s->sync_stopping = true;
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->q_mu);
    pthread_join(s->syncer, NULL);
}

static int writer_start(struct sq_store *s, struct err *e)
{
    if (conn_open(s, false, &s->wconn, e))
        return e->code;
    if (conn_open(s, false, &s->cconn, e)) {
        conn_close(s->wconn);
        return e->code;
    }
    sqlite3_wal_autocheckpoint(s->wconn->db, 0);
    sqlite3_wal_hook(s->wconn->db, on_wal, s);
    if (s->ckpt_frames <= 0)
        s->ckpt_frames = SQ_CHECKPOINT_FRAMES;
    /* the writer's commits do not wait for the disk; the syncer does (see wal_sync) */
    int rc = sqlite3_exec(s->wconn->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    const char *failed = rc != SQLITE_OK ? "cannot set up the writer's connection" : NULL;
    if (!failed && pthread_create(&s->syncer, NULL, syncer_main, s) != 0)
        failed = "cannot start the sync thread";
    if (!failed && pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        syncer_stop(s);
        failed = "cannot start the writer thread";
    }
    if (!failed && pthread_create(&s->checkpointer, NULL, checkpointer_main, s) != 0) {
        writer_signal_stop(s);
        pthread_join(s->writer, NULL);
        syncer_stop(s);
        failed = "cannot start the checkpoint thread";
    }
    if (failed) {
        conn_close(s->wconn);
        conn_close(s->cconn);
        return err_set(e, ERR_STORE, "%s", failed);
    }
    s->writer_running = true;
    return 0;
}

static void writer_stop(struct sq_store *s)
{
    if (!s->writer_running)
        return;
    writer_signal_stop(s);
    pthread_join(s->writer, NULL);
    pthread_join(s->checkpointer, NULL);
    syncer_stop(s);
    /* Fold the WAL back into the database so a stopped store is one file. */
    sqlite3_wal_checkpoint_v2(s->cconn->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    conn_close(s->cconn);
    conn_close(s->wconn);
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    s->wal_fd = -1;
    s->writer_running = false;
}

/* ---- open, close, migrate ---- */

static int get_version(struct sq_conn *c, int *v, struct err *e)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT value FROM meta WHERE key='schema_version'", -1, &st,
                                NULL);
    if (rc != SQLITE_OK) {
        /* no meta table: a new, empty database */
        *v = 0;
        return 0;
    }
    *v = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0); /* the value is stored as text; SQLite converts */
    else if (rc != SQLITE_DONE)
        sq__fail(c->db, rc, e, "schema version");
    sqlite3_finalize(st);
    return e->code;
}

static int migrate(struct sq_store *s, struct sq_conn *c, struct err *e)
{
    int v;
    if (wbegin(s, c, e))
        return e->code;
    if (get_version(c, &v, e)) {
        wrollback(s, c);
        return e->code;
    }
    if (v > NMIGRATIONS) {
        wrollback(s, c);
        return err_set(e, ERR_VERSION,
                       "the store '%s' has schema version %d, written by a newer isac; this "
                       "isac knows up to version %d: refusing to touch it",
                       s->path, v, NMIGRATIONS);
    }
    for (int i = v; i < NMIGRATIONS; i++) {
        char *msg = NULL;
        if (sqlite3_exec(c->db, migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
            log_error("sqlite: migration %d: %s", i + 1, msg ? msg : "");
            sqlite3_free(msg);
            wrollback(s, c);
            return err_set(e, ERR_STORE, "migration %d failed", i + 1);
        }
    }
    char sql[128];
    snprintf(sql, sizeof(sql),
             "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version','%d')",
             NMIGRATIONS);
    if (v != NMIGRATIONS && sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        sq__fail(c->db, SQLITE_ERROR, e, "schema version");
        wrollback(s, c);
        return e->code;
    }
    if (wcommit(s, c, e))
        return e->code;
    if (v != NMIGRATIONS)
        log_info("store migrated from schema %d to %d", v, NMIGRATIONS);
    s->schema = NMIGRATIONS;
    return 0;
}

static void sq_close(struct store *st);

/* mkdir -p: parents 0755, the data dir itself 0700 (it holds every secret hash). */
static int mkdir_p(const char *dir)
{
    char path[1024];
    if (strlen(dir) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    util_strlcpy(path, dir, sizeof(path));
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0'; /* "data/" names the data dir, which gets 0700 */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/*
 * Process-wide SQLite settings, before its first use: no memory statistics
 * (they take a global mutex on every allocation of every connection).
 */
static void sq_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

static int sq_open(struct store **out, const char *dir, bool create, struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sq_global_init);
    if (sqlite3_threadsafe() == 0)
        return err_set(e, ERR_STORE, "SQLite was built without thread support");
    if (create && mkdir_p(dir) != 0)
        return err_set(e, ERR_IO, "cannot create data dir '%s': %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return err_set(e, ERR_STORE, "no data dir '%s' (run 'isac init --data %s' first)", dir,
                       dir);
    struct sq_store *s = xcalloc(1, sizeof(*s));
    s->base.ops = &store__sqlite_ops;
    snprintf(s->path, sizeof(s->path), "%s/isac.db", dir);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    s->wal_fd = -1;
    s->wal_sync_fn = fdatasync;
    struct sq_conn *c;
    if (conn_open(s, create, &c, e)) {
        sq_close(&s->base);
        return e->code;
    }
    if (sq__audit_key_load(s, dir, create, e) || migrate(s, c, e)) {
        conn_close(c);
        sq_close(&s->base);
        return e->code;
    }
    sq__conn_put(s, c);
    if (writer_start(s, e)) {
        sq_close(&s->base);
        return e->code;
    }
    *out = &s->base;
    return 0;
}

static void sq_close(struct store *st)
{
    struct sq_store *s = sq(st);
    writer_stop(s);
    struct sq_conn *c = s->idle;
    while (c) {
        struct sq_conn *n = c->next;
        conn_close(c);
        c = n;
    }
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_cond_destroy(&s->sync_cv);
    free(s);
}

static int sq_schema_version(struct store *st) { return sq(st)->schema; }

/* ---- generic helpers for reads ---- */


/* Run a bound SELECT, collecting rows into a JSON array. */
int sq__collect(struct sq_conn *c, sqlite3_stmt *st, row_fn *row, json_t **out, struct err *e)
{
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, row(st));
    sq__done(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return sq__fail(c->db, rc, e, "select");
    }
    *out = arr;
    return 0;
}

/* Run a bound SELECT expecting one row. */
int sq__one(struct sq_conn *c, sqlite3_stmt *st, row_fn *row, json_t **out, struct err *e,
               const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = row(st);
        sq__done(st);
        return 0;
    }
    sq__done(st);
    if (rc == SQLITE_DONE)
        return err_set(e, ERR_NOTFOUND, "%s not found", what);
    return sq__fail(c->db, rc, e, "select");
}

const char *sq__col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

json_t *sq__col_json(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    json_t *j = v ? json_loads(v, 0, NULL) : NULL;
    return j ? j : json_array();
}

json_t *sq__name_obj(sqlite3_stmt *st, int i)
{
    return json_pack("{s:s,s:s}", "ja", sq__col(st, i), "en", sq__col(st, i + 1));
}

json_t *sq__col_opt(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? json_string(v) : json_null();
}

json_t *sq__col_opt_int(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, i));
}

char *sq__keys_json(const struct store_release_access *acc)
{
    json_t *a = json_array();
    for (int i = 0; i < acc->nkeys; i++)
        json_array_append_new(a, json_string(acc->keys[i]));
    char *s = jw_dump(a, NULL);
    json_decref(a);
    return s;
}

void sq__bind_access(sqlite3_stmt *st, const struct store_release_access *acc, const char *keys)
{
    sqlite3_bind_int(st, 20, acc->none);
    sqlite3_bind_int(st, 21, acc->all && !acc->none);
    sq__bind_text(st, 22, acc->org_id ? acc->org_id : "");
    sq__bind_text(st, 23, keys ? keys : "[]");
}


/* ---- sectors and tiers ---- */

static json_t *sector_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:o,s:b}", "code", sq__col(st, 0), "name", sq__name_obj(st, 1), "disabled",
                     sqlite3_column_int(st, 3));
}

static const char SQL_SECTOR_LIST[] =
    "SELECT code, name_ja, name_en, disabled FROM sectors WHERE (?1 OR disabled = 0)"
    " ORDER BY position, code";
static const char SQL_SECTOR_GET[] =
    "SELECT code, name_ja, name_en, disabled FROM sectors WHERE code = ?1";
static const char SQL_SECTOR_INSERT[] =
    "INSERT INTO sectors(code, name_ja, name_en, position, disabled)"
    " VALUES(?1, ?2, ?3, (SELECT COALESCE(MAX(position), 0) + 1 FROM sectors), 0)";
static const char SQL_SECTOR_UPDATE[] =
    "UPDATE sectors SET name_ja = ?2, name_en = ?3, disabled = ?4 WHERE code = ?1";

static int sq_sector_list(struct store *st, bool inc, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_SECTOR_LIST, e);
    if (q) {
        sqlite3_bind_int(q, 1, inc);
        sq__collect(c, q, sector_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

static int sq_sector_get(struct store *st, const char *code, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_SECTOR_GET, e);
    if (q) {
        sq__bind_text(q, 1, code);
        sq__one(c, q, sector_row, out, e, "sector");
    }
    sq__conn_put(s, c);
    return e->code;
}

struct sector_write_args {
    const json_t *sec;
    const char *sql;
};

static int sector_write_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sector_write_args *a = arg;
    const json_t *sec = a->sec;
    const char *sql = a->sql;
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (q) {
        sq__bind_text(q, 1, sq__jstr(sec, "code"));
        sq__bind_text(q, 2, sq__jstr2(sec, "name", "ja"));
        sq__bind_text(q, 3, sq__jstr2(sec, "name", "en"));
        if (sql == SQL_SECTOR_UPDATE)
            sqlite3_bind_int(q, 4, json_is_true(json_object_get(sec, "disabled")));
        sq__step_write(c, q, true, e, "sector");
    }
    return e->code;
}

static int sector_write(struct store *st, const json_t *sec, const char *sql, struct err *e)
{
    struct sector_write_args a = {sec, sql};
    return sq__write(sq(st), sector_write_run, &a, e);
}

static int sq_sector_create(struct store *st, const json_t *sec, struct err *e)
{
    return sector_write(st, sec, SQL_SECTOR_INSERT, e);
}

static int sq_sector_update(struct store *st, const json_t *sec, struct err *e)
{
    return sector_write(st, sec, SQL_SECTOR_UPDATE, e);
}

static json_t *tier_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:o}", "code", sq__col(st, 0), "name", sq__name_obj(st, 1));
}

static const char SQL_TIER_LIST[] = "SELECT code, name_ja, name_en FROM tiers ORDER BY position";
static const char SQL_TIER_GET[] = "SELECT code, name_ja, name_en FROM tiers WHERE code = ?1";

static int sq_tier_list(struct store *st, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_TIER_LIST, e);
    if (q)
        sq__collect(c, q, tier_row, out, e);
    sq__conn_put(s, c);
    return e->code;
}

static int sq_tier_get(struct store *st, const char *code, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_TIER_GET, e);
    if (q) {
        sq__bind_text(q, 1, code);
        sq__one(c, q, tier_row, out, e, "tier");
    }
    sq__conn_put(s, c);
    return e->code;
}

/* ---- organisations ---- */

#define ORG_COLS                                                                                  \
    "o.id, o.name_ja, o.name_en, o.kind,"                                                         \
    " (SELECT json_group_array(sector) FROM (SELECT os.sector FROM org_sectors os"                \
    "   JOIN sectors sc ON sc.code = os.sector WHERE os.org_id = o.id ORDER BY sc.position)),"    \
    " o.tier, o.contacts, o.disabled, " TS("o.created_at") ", " TS("o.updated_at") ","          \
    " o.identifiers"

/*
 * The identifiers column holds the lists an organisation was given
 * (member.h); readers always get all five, absent ones empty, so every
 * org has one shape.
 */
static json_t *org_identifiers(sqlite3_stmt *st, int i)
{
    static const char *const keys[] = {"aliases", "domains", "ip_ranges", "hostnames", "persons"};
    json_t *stored = sq__col_json(st, i), *out = json_object();
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        json_t *l = json_object_get(stored, keys[k]);
        json_object_set_new(out, keys[k], json_is_array(l) ? json_incref(l) : json_array());
    }
    json_decref(stored);
    return out;
}

static json_t *org_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:o,s:s,s:o,s:s,s:o,s:o,s:b,s:s,s:s}", "id", sq__col(st, 0), "name",
                     sq__name_obj(st, 1), "kind", sq__col(st, 3), "sectors", sq__col_json(st, 4), "tier",
                     sq__col(st, 5), "contacts", sq__col_json(st, 6), "identifiers",
                     org_identifiers(st, 10), "disabled", sqlite3_column_int(st, 7),
                     "created_at", sq__col(st, 8), "updated_at", sq__col(st, 9));
}

static const char SQL_ORG_GET[] = "SELECT " ORG_COLS " FROM orgs o WHERE o.id = ?1";
static const char SQL_ORG_LIST[] =
    "SELECT " ORG_COLS " FROM orgs o WHERE o.id > ?1"
    " AND (?2 IS NULL OR o.id = ?2) AND (?3 IS NULL OR o.kind = ?3)"
    " AND (?4 IS NULL OR o.id IN (SELECT org_id FROM org_sectors WHERE sector = ?4))"
    " AND (?5 IS NULL OR o.tier = ?5)"
    " AND (?6 IS NULL OR instr(lower(o.name_en), lower(?6)) > 0 OR instr(o.name_ja, ?6) > 0)"
    " AND (?7 OR o.disabled = 0) ORDER BY o.id LIMIT ?8";
static const char SQL_ORG_INSERT[] =
    "INSERT INTO orgs(id, name_ja, name_en, kind, tier, contacts, disabled, created_at,"
    " updated_at, identifiers) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)";
static const char SQL_ORG_UPDATE[] =
    "UPDATE orgs SET name_ja = ?2, name_en = ?3, kind = ?4, tier = ?5, contacts = ?6,"
    " disabled = ?7, updated_at = ?8, identifiers = ?9 WHERE id = ?1";
static const char SQL_ORG_SECTORS_DEL[] = "DELETE FROM org_sectors WHERE org_id = ?1";
static const char SQL_ORG_SECTORS_ADD[] =
    "INSERT INTO org_sectors(org_id, sector) VALUES(?1, ?2)";

struct org_write_args {
    const json_t *org;
    bool create;
};

static int org_write_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct org_write_args *a = arg;
    const json_t *org = a->org;
    bool create = a->create;
    const char *id = sq__jstr(org, "id");
    char *contacts = jw_dump(json_object_get(org, "contacts"), NULL);
    const json_t *iv = json_object_get(org, "identifiers");
    char *idents = json_is_object(iv) ? jw_dump(iv, NULL) : NULL;
    sqlite3_stmt *q = sq__stmt(c, create ? SQL_ORG_INSERT : SQL_ORG_UPDATE, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sq__bind_text(q, 2, sq__jstr2(org, "name", "ja"));
        sq__bind_text(q, 3, sq__jstr2(org, "name", "en"));
        sq__bind_text(q, 4, sq__jstr(org, "kind"));
        sq__bind_text(q, 5, sq__jstr(org, "tier"));
        sq__bind_text(q, 6, contacts ? contacts : "[]");
        sqlite3_bind_int(q, 7, json_is_true(json_object_get(org, "disabled")));
        sqlite3_bind_int64(q, 8, util_now_ms() / 1000);
        sq__bind_text(q, 9, idents ? idents : "{}");
        sq__step_write(c, q, true, e, "organisation");
    }
    if (!e->code && !create && (q = sq__stmt(c, SQL_ORG_SECTORS_DEL, e))) {
        sq__bind_text(q, 1, id);
        sq__step_write(c, q, false, e, "organisation sectors");
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(org, "sectors"), i, v)
    {
        if (e->code || !(q = sq__stmt(c, SQL_ORG_SECTORS_ADD, e)))
            break;
        sq__bind_text(q, 1, id);
        sq__bind_text(q, 2, json_string_value(v));
        sq__step_write(c, q, false, e, "organisation sector");
    }
    free(contacts);
    free(idents);
    return e->code;
}

static int org_write(struct store *st, const json_t *org, bool create, struct err *e)
{
    struct org_write_args a = {org, create};
    return sq__write(sq(st), org_write_run, &a, e);
}

static int sq_org_create(struct store *st, const json_t *org, struct err *e)
{
    return org_write(st, org, true, e);
}

static int sq_org_update(struct store *st, const json_t *org, struct err *e)
{
    return org_write(st, org, false, e);
}

static int sq_org_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_ORG_GET, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sq__one(c, q, org_row, out, e, "organisation");
    }
    sq__conn_put(s, c);
    return e->code;
}

static int sq_org_list(struct store *st, const struct store_org_filter *f,
                       const struct store_page *p, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_ORG_LIST, e);
    if (q) {
        sq__bind_text(q, 1, p->after ? p->after : "");
        sq__bind_text(q, 2, f->only_id);
        sq__bind_text(q, 3, f->kind);
        sq__bind_text(q, 4, f->sector);
        sq__bind_text(q, 5, f->tier);
        sq__bind_text(q, 6, f->q);
        sqlite3_bind_int(q, 7, f->include_disabled);
        sqlite3_bind_int(q, 8, p->limit);
        sq__collect(c, q, org_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

/* ---- users ---- */

#define USER_COLS                                                                                 \
    "u.id, u.login, u.display_name, u.org_id, u.roles, u.locale, u.email, u.disabled, "           \
    TS("u.created_at") ", " TS("u.updated_at")

static json_t *user_row(sqlite3_stmt *st)
{
    const char *email = (const char *)sqlite3_column_text(st, 6);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:b,s:s,s:s}", "id", sq__col(st, 0), "login",
                     sq__col(st, 1), "display_name", sq__col(st, 2), "org_id", sq__col(st, 3), "roles",
                     model_roles_json((unsigned)sqlite3_column_int(st, 4)), "locale",
                     sq__col(st, 5), "email", email ? json_string(email) : json_null(), "disabled",
                     sqlite3_column_int(st, 7), "created_at", sq__col(st, 8), "updated_at",
                     sq__col(st, 9));
}

static const char SQL_USER_GET[] =
    "SELECT " USER_COLS " FROM users u WHERE (?1 IS NOT NULL AND u.id = ?1)"
    " OR (?2 IS NOT NULL AND u.login = ?2)";
static const char SQL_USER_LIST[] =
    "SELECT " USER_COLS " FROM users u WHERE u.id > ?1"
    " AND (?2 IS NULL OR u.id = ?2) AND (?3 IS NULL OR u.org_id = ?3)"
    " AND (?4 = 0 OR (u.roles & ?4) != 0)"
    " AND (?5 IS NULL OR instr(u.login, lower(?5)) > 0 OR instr(lower(u.display_name),"
    " lower(?5)) > 0) AND (?6 OR u.disabled = 0) ORDER BY u.id LIMIT ?7";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users(id, login, display_name, org_id, roles, locale, email, password_hash,"
    " disabled, created_at, updated_at, password_changed_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?10)";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET display_name = ?2, roles = ?3, locale = ?4, email = ?5, disabled = ?6,"
    " updated_at = ?7 WHERE id = ?1";
static const char SQL_USER_PWHASH[] =
    "SELECT password_hash FROM users WHERE login = ?1";
static const char SQL_USER_SETPW[] =
    "UPDATE users SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3"
    " WHERE id = ?1";
static const char SQL_SESSIONS_END[] =
    "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR hash != ?2)";

static unsigned roles_bits(const json_t *u)
{
    unsigned r = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(u, "roles"), i, v) r |= model_role_bit(json_string_value(v));
    return r;
}

struct sq_user_create_args {
    const json_t *u;
    const char *pwhash;
};

static int sq_user_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_user_create_args *a = arg;
    const json_t *u = a->u;
    const char *pwhash = a->pwhash;
    sqlite3_stmt *q = sq__stmt(c, SQL_USER_INSERT, e);
    if (q) {
        sq__bind_text(q, 1, sq__jstr(u, "id"));
        sq__bind_text(q, 2, sq__jstr(u, "login"));
        sq__bind_text(q, 3, sq__jstr(u, "display_name"));
        sq__bind_text(q, 4, sq__jstr(u, "org_id"));
        sqlite3_bind_int(q, 5, (int)roles_bits(u));
        sq__bind_text(q, 6, sq__jstr(u, "locale"));
        sq__bind_text(q, 7, sq__jstr(u, "email"));
        sq__bind_text(q, 8, pwhash);
        sqlite3_bind_int(q, 9, json_is_true(json_object_get(u, "disabled")));
        sqlite3_bind_int64(q, 10, util_now_ms() / 1000);
        sq__step_write(c, q, true, e, "user");
    }
    return e->code;
}

static int sq_user_create(struct store *st, const json_t *u, const char *pwhash, struct err *e)
{
    struct sq_user_create_args a = {u, pwhash};
    return sq__write(sq(st), sq_user_create_run, &a, e);
}

struct sq_user_update_args {
    const json_t *u;
    const char *pwhash;
};

static int sq_user_update_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_user_update_args *a = arg;
    const json_t *u = a->u;
    const char *pwhash = a->pwhash;
    sqlite3_stmt *q = sq__stmt(c, SQL_USER_UPDATE, e);
    if (q) {
        sq__bind_text(q, 1, sq__jstr(u, "id"));
        sq__bind_text(q, 2, sq__jstr(u, "display_name"));
        sqlite3_bind_int(q, 3, (int)roles_bits(u));
        sq__bind_text(q, 4, sq__jstr(u, "locale"));
        sq__bind_text(q, 5, sq__jstr(u, "email"));
        sqlite3_bind_int(q, 6, json_is_true(json_object_get(u, "disabled")));
        sqlite3_bind_int64(q, 7, util_now_ms() / 1000);
        sq__step_write(c, q, true, e, "user");
    }
    if (!e->code && pwhash && (q = sq__stmt(c, SQL_USER_SETPW, e))) {
        sq__bind_text(q, 1, sq__jstr(u, "id"));
        sq__bind_text(q, 2, pwhash);
        sqlite3_bind_int64(q, 3, util_now_ms() / 1000);
        sq__step_write(c, q, true, e, "user");
    }
    /* A disabled user's sessions end now, not at their expiry. */
    if (!e->code && (pwhash || json_is_true(json_object_get(u, "disabled"))) &&
        (q = sq__stmt(c, SQL_SESSIONS_END, e))) {
        sq__bind_text(q, 1, sq__jstr(u, "id"));
        sqlite3_bind_null(q, 2);
        sq__step_write(c, q, false, e, "sessions");
    }
    return e->code;
}

static int sq_user_update(struct store *st, const json_t *u, const char *pwhash,
                          struct err *e)
{
    struct sq_user_update_args a = {u, pwhash};
    return sq__write(sq(st), sq_user_update_run, &a, e);
}

static int sq_user_get(struct store *st, const char *id, const char *login, json_t **out,
                       struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_USER_GET, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sq__bind_text(q, 2, login);
        sq__one(c, q, user_row, out, e, "user");
    }
    sq__conn_put(s, c);
    return e->code;
}

static int sq_user_list(struct store *st, const struct store_user_filter *f,
                        const struct store_page *p, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_USER_LIST, e);
    if (q) {
        sq__bind_text(q, 1, p->after ? p->after : "");
        sq__bind_text(q, 2, f->only_id);
        sq__bind_text(q, 3, f->org_id);
        sqlite3_bind_int(q, 4, f->role ? (int)model_role_bit(f->role) : 0);
        sq__bind_text(q, 5, f->q);
        sqlite3_bind_int(q, 6, f->include_disabled);
        sqlite3_bind_int(q, 7, p->limit);
        sq__collect(c, q, user_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

static int sq_user_pwhash(struct store *st, const char *login, char **hash, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_USER_PWHASH, e);
    if (q) {
        sq__bind_text(q, 1, login);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
            *hash = xstrdup(sq__col(q, 0));
        else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            err_set(e, ERR_NOTFOUND, "no such login");
        else
            sq__fail(c->db, rc, e, "password");
        sq__done(q);
    }
    sq__conn_put(s, c);
    return e->code;
}

struct sq_user_set_password_args {
    const char *user_id;
    const char *pwhash;
    const uint8_t *keep;
};

static int sq_user_set_password_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_user_set_password_args *a = arg;
    const char *user_id = a->user_id;
    const char *pwhash = a->pwhash;
    const uint8_t *keep = a->keep;
    sqlite3_stmt *q = sq__stmt(c, SQL_USER_SETPW, e);
    if (q) {
        sq__bind_text(q, 1, user_id);
        sq__bind_text(q, 2, pwhash);
        sqlite3_bind_int64(q, 3, util_now_ms() / 1000);
        sq__step_write(c, q, true, e, "user");
    }
    if (!e->code && (q = sq__stmt(c, SQL_SESSIONS_END, e))) {
        sq__bind_text(q, 1, user_id);
        if (keep)
            sqlite3_bind_blob(q, 2, keep, STORE_HASH_LEN, SQLITE_TRANSIENT);
        sq__step_write(c, q, false, e, "sessions");
    }
    return e->code;
}

static int sq_user_set_password(struct store *st, const char *user_id, const char *pwhash,
                                const uint8_t *keep, struct err *e)
{
    struct sq_user_set_password_args a = {user_id, pwhash, keep};
    return sq__write(sq(st), sq_user_set_password_run, &a, e);
}

/* ---- tokens ---- */

#define TOKEN_COLS                                                                                \
    "t.id, t.name, t.user_id, t.prefix, " TS("t.created_at") ", " TS("t.expires_at") ", "         \
    "CASE WHEN t.last_used_at IS NULL THEN NULL ELSE " TS("t.last_used_at") " END, "            \
    "t.revoked_at IS NOT NULL"

static json_t *token_row(sqlite3_stmt *st)
{
    const char *used = (const char *)sqlite3_column_text(st, 6);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:b}", "id", sq__col(st, 0), "name", sq__col(st, 1),
                     "user_id", sq__col(st, 2), "prefix", sq__col(st, 3), "created_at", sq__col(st, 4),
                     "expires_at", sq__col(st, 5), "last_used_at",
                     used ? json_string(used) : json_null(), "revoked",
                     sqlite3_column_int(st, 7));
}

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO tokens(id, user_id, name, hash, prefix, created_at, expires_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_TOKEN_GET[] = "SELECT " TOKEN_COLS " FROM tokens t WHERE t.id = ?1";
static const char SQL_TOKEN_UPDATE[] =
    "UPDATE tokens SET name = ?2, revoked_at = CASE WHEN ?3 THEN COALESCE(revoked_at, ?4)"
    " ELSE NULL END WHERE id = ?1";
static const char SQL_TOKEN_LIST[] =
    "SELECT " TOKEN_COLS " FROM tokens t WHERE t.id > ?1 AND (?2 IS NULL OR t.user_id = ?2)"
    " AND (?3 IS NULL OR t.user_id IN (SELECT id FROM users WHERE org_id = ?3))"
    " ORDER BY t.id LIMIT ?4";
static const char SQL_TOKEN_TOUCH[] = "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1";

struct sq_token_create_args {
    const json_t *t;
    const uint8_t *hash;
};

static int sq_token_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_token_create_args *a = arg;
    const json_t *t = a->t;
    const uint8_t *hash = a->hash;
    sqlite3_stmt *q = sq__stmt(c, SQL_TOKEN_INSERT, e);
    if (q) {
        sq__bind_text(q, 1, sq__jstr(t, "id"));
        sq__bind_text(q, 2, sq__jstr(t, "user_id"));
        sq__bind_text(q, 3, sq__jstr(t, "name"));
        sqlite3_bind_blob(q, 4, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
        sq__bind_text(q, 5, sq__jstr(t, "prefix"));
        sqlite3_bind_int64(q, 6, util_now_ms() / 1000);
        sqlite3_bind_int64(q, 7, json_integer_value(json_object_get(t, "expires_ts")));
        sq__step_write(c, q, true, e, "token");
    }
    return e->code;
}

static int sq_token_create(struct store *st, const json_t *t, const uint8_t *hash, struct err *e)
{
    struct sq_token_create_args a = {t, hash};
    return sq__write(sq(st), sq_token_create_run, &a, e);
}

static int sq_token_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_TOKEN_GET, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sq__one(c, q, token_row, out, e, "token");
    }
    sq__conn_put(s, c);
    return e->code;
}

struct sq_token_update_args {
    const json_t *t;
};

static int sq_token_update_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_token_update_args *a = arg;
    const json_t *t = a->t;
    sqlite3_stmt *q = sq__stmt(c, SQL_TOKEN_UPDATE, e);
    if (q) {
        sq__bind_text(q, 1, sq__jstr(t, "id"));
        sq__bind_text(q, 2, sq__jstr(t, "name"));
        sqlite3_bind_int(q, 3, json_is_true(json_object_get(t, "revoked")));
        sqlite3_bind_int64(q, 4, util_now_ms() / 1000);
        sq__step_write(c, q, true, e, "token");
    }
    return e->code;
}

static int sq_token_update(struct store *st, const json_t *t, struct err *e)
{
    struct sq_token_update_args a = {t};
    return sq__write(sq(st), sq_token_update_run, &a, e);
}

static int sq_token_list(struct store *st, const struct store_token_filter *f,
                         const struct store_page *p, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_TOKEN_LIST, e);
    if (q) {
        sq__bind_text(q, 1, p->after ? p->after : "");
        sq__bind_text(q, 2, f->user_id);
        sq__bind_text(q, 3, f->org_id);
        sqlite3_bind_int(q, 4, p->limit);
        sq__collect(c, q, token_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

struct sq_token_touch_args {
    const char *id;
    int64_t now;
};

static int sq_token_touch_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_token_touch_args *a = arg;
    const char *id = a->id;
    int64_t now = a->now;
    sqlite3_stmt *q = sq__stmt(c, SQL_TOKEN_TOUCH, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sqlite3_bind_int64(q, 2, now);
        sq__step_write(c, q, false, e, "token");
    }
    return e->code;
}

static int sq_token_touch(struct store *st, const char *id, int64_t now, struct err *e)
{
    struct sq_token_touch_args a = {id, now};
    return sq__write(sq(st), sq_token_touch_run, &a, e);
}

/* ---- authentication ---- */

static const char SQL_AUTH_TOKEN[] =
    "SELECT u.id, u.org_id, u.login, u.locale, u.roles, u.disabled, o.disabled, t.id, '',"
    " t.expires_at, COALESCE(t.last_used_at, 0), t.revoked_at IS NOT NULL, o.kind,"
    " o.name_ja, o.name_en, u.display_name, o.tier,"
    " (SELECT group_concat(sector) FROM org_sectors WHERE org_id = o.id)"
    " FROM tokens t JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id"
    " WHERE t.hash = ?1";
static const char SQL_AUTH_SESSION[] =
    "SELECT u.id, u.org_id, u.login, u.locale, u.roles, u.disabled, o.disabled, '', s.csrf,"
    " s.expires_at, 0, 0, o.kind, o.name_ja, o.name_en, u.display_name, o.tier,"
    " (SELECT group_concat(sector) FROM org_sectors WHERE org_id = o.id)"
    " FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id"
    " WHERE s.hash = ?1";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions(hash, user_id, csrf, created_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5)";
static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE hash = ?1";
static const char SQL_SESSION_EXPIRE[] = "DELETE FROM sessions WHERE expires_at < ?1";

static int auth_lookup(struct store *st, const char *sql, const uint8_t *hash,
                       struct store_principal *p, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (q) {
        sqlite3_bind_blob(q, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            memset(p, 0, sizeof(*p));
            util_strlcpy(p->user_id, sq__col(q, 0), sizeof(p->user_id));
            util_strlcpy(p->org_id, sq__col(q, 1), sizeof(p->org_id));
            util_strlcpy(p->login, sq__col(q, 2), sizeof(p->login));
            util_strlcpy(p->locale, sq__col(q, 3), sizeof(p->locale));
            p->roles = (unsigned)sqlite3_column_int(q, 4);
            p->user_disabled = sqlite3_column_int(q, 5);
            p->org_disabled = sqlite3_column_int(q, 6);
            util_strlcpy(p->token_id, sq__col(q, 7), sizeof(p->token_id));
            util_strlcpy(p->csrf, sq__col(q, 8), sizeof(p->csrf));
            p->expires_at = sqlite3_column_int64(q, 9);
            p->last_used_at = sqlite3_column_int64(q, 10);
            p->revoked = sqlite3_column_int(q, 11);
            util_strlcpy(p->org_kind, sq__col(q, 12), sizeof(p->org_kind));
            util_strlcpy(p->org_name_ja, sq__col(q, 13), sizeof(p->org_name_ja));
            util_strlcpy(p->org_name_en, sq__col(q, 14), sizeof(p->org_name_en));
            util_strlcpy(p->display_name, sq__col(q, 15), sizeof(p->display_name));
            util_strlcpy(p->org_tier, sq__col(q, 16), sizeof(p->org_tier));
            util_strlcpy(p->org_sectors, sq__col(q, 17), sizeof(p->org_sectors));
        } else if (rc == SQLITE_DONE) {
            err_set(e, ERR_UNAUTH, "unknown credentials");
        } else {
            sq__fail(c->db, rc, e, "auth");
        }
        sq__done(q);
    }
    sq__conn_put(s, c);
    return e->code;
}

static int sq_auth_token(struct store *st, const uint8_t *hash, struct store_principal *p,
                         struct err *e)
{
    return auth_lookup(st, SQL_AUTH_TOKEN, hash, p, e);
}

static int sq_auth_session(struct store *st, const uint8_t *hash, struct store_principal *p,
                           struct err *e)
{
    return auth_lookup(st, SQL_AUTH_SESSION, hash, p, e);
}

struct sq_session_create_args {
    const uint8_t *hash;
    const char *user_id;
    const char *csrf;
    int64_t now;
    int64_t exp;
};

static int sq_session_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_session_create_args *a = arg;
    const uint8_t *hash = a->hash;
    const char *user_id = a->user_id;
    const char *csrf = a->csrf;
    int64_t now = a->now;
    int64_t exp = a->exp;
    /* Sweep expired sessions here: logins are rare enough to carry it. */
    sqlite3_stmt *q = sq__stmt(c, SQL_SESSION_EXPIRE, e);
    if (q) {
        sqlite3_bind_int64(q, 1, now);
        sq__step_write(c, q, false, e, "sessions");
    }
    if (!e->code && (q = sq__stmt(c, SQL_SESSION_INSERT, e))) {
        sqlite3_bind_blob(q, 1, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
        sq__bind_text(q, 2, user_id);
        sq__bind_text(q, 3, csrf);
        sqlite3_bind_int64(q, 4, now);
        sqlite3_bind_int64(q, 5, exp);
        sq__step_write(c, q, true, e, "session");
    }
    return e->code;
}

static int sq_session_create(struct store *st, const uint8_t *hash, const char *user_id,
                             const char *csrf, int64_t now, int64_t exp, struct err *e)
{
    struct sq_session_create_args a = {hash, user_id, csrf, now, exp};
    return sq__write(sq(st), sq_session_create_run, &a, e);
}

struct sq_session_delete_args {
    const uint8_t *hash;
};

static int sq_session_delete_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_session_delete_args *a = arg;
    const uint8_t *hash = a->hash;
    sqlite3_stmt *q = sq__stmt(c, SQL_SESSION_DELETE, e);
    if (q) {
        sqlite3_bind_blob(q, 1, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
        sq__step_write(c, q, false, e, "session");
    }
    return e->code;
}

static int sq_session_delete(struct store *st, const uint8_t *hash, struct err *e)
{
    struct sq_session_delete_args a = {hash};
    return sq__write(sq(st), sq_session_delete_run, &a, e);
}

/* ---- login throttling ---- */

static const char SQL_FAIL_ADD[] = "INSERT INTO login_failures(key, at) VALUES(?1, ?2)";
static const char SQL_FAIL_SWEEP[] = "DELETE FROM login_failures WHERE key = ?1 AND at < ?2";
static const char SQL_FAIL_COUNT[] =
    "SELECT COUNT(*), COALESCE(MIN(at), 0) FROM login_failures WHERE key = ?1 AND at >= ?2";
static const char SQL_FAIL_CLEAR[] = "DELETE FROM login_failures WHERE key = ?1";

struct sq_login_fail_add_args {
    const char *key;
    int64_t now;
    int64_t older;
};

static int sq_login_fail_add_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_login_fail_add_args *a = arg;
    const char *key = a->key;
    int64_t now = a->now;
    int64_t older = a->older;
    sqlite3_stmt *q = sq__stmt(c, SQL_FAIL_SWEEP, e);
    if (q) {
        sq__bind_text(q, 1, key);
        sqlite3_bind_int64(q, 2, older);
        sq__step_write(c, q, false, e, "login failures");
    }
    if (!e->code && (q = sq__stmt(c, SQL_FAIL_ADD, e))) {
        sq__bind_text(q, 1, key);
        sqlite3_bind_int64(q, 2, now);
        sq__step_write(c, q, true, e, "login failure");
    }
    return e->code;
}

static int sq_login_fail_add(struct store *st, const char *key, int64_t now, int64_t older,
                             struct err *e)
{
    struct sq_login_fail_add_args a = {key, now, older};
    return sq__write(sq(st), sq_login_fail_add_run, &a, e);
}

static int sq_login_fail_count(struct store *st, const char *key, int64_t since, int *count,
                               int64_t *oldest, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_FAIL_COUNT, e);
    if (q) {
        sq__bind_text(q, 1, key);
        sqlite3_bind_int64(q, 2, since);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *count = sqlite3_column_int(q, 0);
            *oldest = sqlite3_column_int64(q, 1);
        } else {
            sq__fail(c->db, rc, e, "login failures");
        }
        sq__done(q);
    }
    sq__conn_put(s, c);
    return e->code;
}

struct sq_login_fail_clear_args {
    const char *key;
};

static int sq_login_fail_clear_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct sq_login_fail_clear_args *a = arg;
    const char *key = a->key;
    sqlite3_stmt *q = sq__stmt(c, SQL_FAIL_CLEAR, e);
    if (q) {
        sq__bind_text(q, 1, key);
        sq__step_write(c, q, false, e, "login failures");
    }
    return e->code;
}

static int sq_login_fail_clear(struct store *st, const char *key, struct err *e)
{
    struct sq_login_fail_clear_args a = {key};
    return sq__write(sq(st), sq_login_fail_clear_run, &a, e);
}

const struct store_ops store__sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .sector_list = sq_sector_list,
    .sector_get = sq_sector_get,
    .sector_create = sq_sector_create,
    .sector_update = sq_sector_update,
    .tier_list = sq_tier_list,
    .tier_get = sq_tier_get,
    .org_create = sq_org_create,
    .org_get = sq_org_get,
    .org_update = sq_org_update,
    .org_list = sq_org_list,
    .user_create = sq_user_create,
    .user_get = sq_user_get,
    .user_update = sq_user_update,
    .user_list = sq_user_list,
    .user_pwhash = sq_user_pwhash,
    .user_set_password = sq_user_set_password,
    .token_create = sq_token_create,
    .token_get = sq_token_get,
    .token_update = sq_token_update,
    .token_list = sq_token_list,
    .token_touch = sq_token_touch,
    .auth_token = sq_auth_token,
    .auth_session = sq_auth_session,
    .session_create = sq_session_create,
    .session_delete = sq_session_delete,
    .login_fail_add = sq_login_fail_add,
    .login_fail_count = sq_login_fail_count,
    .login_fail_clear = sq_login_fail_clear,
    .report_create = sq__report_create,
    .report_create_async = sq__report_create_async,
    .report_revise = sq__report_revise,
    .report_get = sq__report_get,
    .report_list = sq__report_list,
    .idem_lookup = sq__idem_lookup,
    .report_by_regime = sq__report_by_regime,
    .report_set_due = sq__report_set_due,
    .regime_list = sq__regime_list,
    .regime_get = sq__regime_get,
    .regime_create = sq__regime_create,
    .regime_update = sq__regime_update,
    .nearmiss_put = sq__nearmiss_put,
    .nearmiss_list = sq__nearmiss_list,
    .nearmiss_totals = sq__nearmiss_totals,
    .audit_append = sq__audit_append,
    .audit_list = sq__audit_list,
    .audit_verify = sq__audit_verify,
    .report_content_at = sq__report_content_at,
    .release_create = sq__release_create,
    .release_get = sq__release_get,
    .release_update = sq__release_update,
    .release_list = sq__release_list,
    .audreq_create = sq__audreq_create,
    .audreq_get = sq__audreq_get,
    .audreq_list = sq__audreq_list,
    .audreq_decide = sq__audreq_decide,
    .setting_get = sq__setting_get,
    .setting_put = sq__setting_put,
    .sector_member_counts = sq__sector_member_counts,
    .alert_create = sq__alert_create,
    .alert_get = sq__alert_get,
    .alert_update = sq__alert_update,
    .alert_publish = sq__alert_publish,
    .alert_list = sq__alert_list,
    .alert_events = sq__alert_events,
    .alert_recipients = sq__alert_recipients,
    .receipts_add = sq__receipts_add,
    .alert_queue = sq__alert_queue,
    .alert_receipts = sq__alert_receipts,
    .webhook_create = sq__webhook_create,
    .webhook_get = sq__webhook_get,
    .webhook_list = sq__webhook_list,
    .webhook_update = sq__webhook_update,
    .webhook_delete = sq__webhook_delete,
    .outbox_claim = sq__outbox_claim,
    .outbox_result = sq__outbox_result,
    .webhook_log = sq__webhook_log,
    .escalation_due = sq__escalation_due,
    .alert_escalate = sq__alert_escalate,
};
