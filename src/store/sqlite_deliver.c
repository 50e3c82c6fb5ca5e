/*
 * sqlite_deliver.c - webhooks, the delivery outbox and its log, and the
 * escalation of unread alerts in the SQLite backend (tables of migration 5
 * in sqlite.c).
 *
 * Times here are milliseconds since the epoch (webhooks' created_at and
 * updated_at too; rendered as RFC 3339 UTC seconds in rows).
 *
 * Outbox rows move pending -> sending (claimed by a worker, next_at = the
 * claim time) -> done | pending (a retry at next_at) | dead. A worker that
 * died leaves rows "sending": a claim takes those whose claim is older than
 * the caller's stale_ms again, so nothing is lost (it may be sent twice,
 * which receivers tell apart by X-Isac-Delivery). A done row writes its
 * delivered receipt in the same transaction, so the delivery page never
 * shows a delivery the outbox does not.
 *
 * Webhooks are deleted softly (deleted = 1): their outbox rows and delivery
 * log keep pointing at them, and rows still pending die with the hook.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/util.h"
#include "sqlite_int.h"

/*
 * Alerts older than this are not escalated any more: the scan for due
 * escalations stays bounded however many alerts accumulate, and an alert a
 * week old (a daemon down that long) is past the point of a reminder.
 */
#define SQ_ESCALATE_HORIZON_MS (7LL * 24 * 3600 * 1000)

/* ---- webhooks ---- */

#define WEBHOOK_COLS                                                                              \
    "id, org_id, url, enabled, " TS("created_at / 1000") ", " TS("updated_at / 1000")

static json_t *webhook_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s}", "id", sq__col(st, 0), "org_id",
                     sq__col(st, 1), "url", sq__col(st, 2), "enabled",
                     sqlite3_column_int(st, 3), "created_at", sq__col(st, 4), "updated_at",
                     sq__col(st, 5));
}

static const char SQL_WEBHOOK_INSERT[] =
    "INSERT INTO webhooks(id, org_id, url, secret, enabled, created_at, updated_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)";
static const char SQL_WEBHOOK_GET[] =
    "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = ?1 AND deleted = 0";
static const char SQL_WEBHOOK_LIST[] =
    "SELECT " WEBHOOK_COLS " FROM webhooks WHERE org_id = ?1 AND deleted = 0 ORDER BY id";
static const char SQL_WEBHOOK_UPDATE[] =
    "UPDATE webhooks SET url = ?2, enabled = ?3, updated_at = ?4 WHERE id = ?1 AND deleted = 0";
static const char SQL_WEBHOOK_DELETE[] =
    "UPDATE webhooks SET deleted = 1, enabled = 0, updated_at = ?2 WHERE id = ?1 AND deleted = 0";
/* Work queued for a deleted hook has nowhere to go. */
static const char SQL_WEBHOOK_ORPHANS[] =
    "UPDATE outbox SET state = 'dead', next_at = 0, last_error = 'webhook deleted'"
    " WHERE target = ?1 AND channel = 'webhook' AND state = 'pending'";

struct webhook_create_args {
    const json_t *hook;
    const uint8_t *secret;
    size_t len;
};

static int webhook_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct webhook_create_args *a = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_WEBHOOK_INSERT, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, sq__jstr(a->hook, "id"));
    sq__bind_text(q, 2, sq__jstr(a->hook, "org_id"));
    sq__bind_text(q, 3, sq__jstr(a->hook, "url"));
    sqlite3_bind_blob(q, 4, a->secret, (int)a->len, SQLITE_STATIC);
    json_t *en = json_object_get(a->hook, "enabled");
    sqlite3_bind_int(q, 5, en ? json_is_true(en) : 1);
    sqlite3_bind_int64(q, 6, util_now_ms());
    return sq__step_write(c, q, true, e, "webhook");
}

int sq__webhook_create(struct store *st, const json_t *hook, const uint8_t *secret, size_t len,
                       struct err *e)
{
    if (!secret || len == 0 || len > 1024)
        return err_set(e, ERR_INTERNAL, "webhook secret of %zu bytes", len);
    struct webhook_create_args a = {hook, secret, len};
    return sq__write(sq(st), webhook_create_run, &a, e);
}

/* Run a read of webhook rows bound to one text parameter; one row (get) or all (list). */
static int webhook_read(struct store *st, const char *sql, const char *arg, bool one,
                        json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (q) {
        sq__bind_text(q, 1, arg);
        if (one)
            sq__one(c, q, webhook_row, out, e, "webhook");
        else
            sq__collect(c, q, webhook_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

int sq__webhook_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    return webhook_read(st, SQL_WEBHOOK_GET, id, true, out, e);
}

int sq__webhook_list(struct store *st, const char *org_id, json_t **out, struct err *e)
{
    return webhook_read(st, SQL_WEBHOOK_LIST, org_id, false, out, e);
}

static int webhook_update_run(struct sq_conn *c, void *arg, struct err *e)
{
    const json_t *hook = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_WEBHOOK_UPDATE, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, sq__jstr(hook, "id"));
    sq__bind_text(q, 2, sq__jstr(hook, "url"));
    sqlite3_bind_int(q, 3, json_is_true(json_object_get(hook, "enabled")));
    sqlite3_bind_int64(q, 4, util_now_ms());
    return sq__step_write(c, q, true, e, "webhook");
}

int sq__webhook_update(struct store *st, const json_t *hook, struct err *e)
{
    if (!sq__jstr(hook, "url"))
        return err_set(e, ERR_INTERNAL, "webhook update without url");
    return sq__write(sq(st), webhook_update_run, (void *)hook, e);
}

static int webhook_delete_run(struct sq_conn *c, void *arg, struct err *e)
{
    const char *id = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_WEBHOOK_DELETE, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, util_now_ms());
    if (sq__step_write(c, q, true, e, "webhook"))
        return e->code;
    if (!(q = sq__stmt(c, SQL_WEBHOOK_ORPHANS, e)))
        return e->code;
    sq__bind_text(q, 1, id);
    return sq__step_write(c, q, false, e, "outbox");
}

int sq__webhook_delete(struct store *st, const char *id, struct err *e)
{
    return sq__write(sq(st), webhook_delete_run, (void *)id, e);
}

/* ---- the outbox ---- */

#define OUTBOX_COLS                                                                               \
    "id, alert_id, org_id, channel, target, locale, state, tries, next_at, last_error, escalation"

static json_t *outbox_row(sqlite3_stmt *st)
{
    json_t *r = json_object();
    json_object_set_new(r, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(r, "alert_id", json_string(sq__col(st, 1)));
    json_object_set_new(r, "org_id", json_string(sq__col(st, 2)));
    json_object_set_new(r, "channel", json_string(sq__col(st, 3)));
    json_object_set_new(r, "target", json_string(sq__col(st, 4)));
    json_object_set_new(r, "locale", sq__col_opt(st, 5));
    json_object_set_new(r, "state", json_string(sq__col(st, 6)));
    json_object_set_new(r, "tries", json_integer(sqlite3_column_int(st, 7)));
    json_object_set_new(r, "next_at", json_integer(sqlite3_column_int64(st, 8)));
    json_object_set_new(r, "last_error", sq__col_opt(st, 9));
    json_object_set_new(r, "escalation", json_boolean(sqlite3_column_int(st, 10)));
    return r;
}

/* Due: pending and next_at reached, or claimed (next_at = claim time) longer ago than stale. */
#define OUTBOX_DUE                                                                                \
    " channel = ?1 AND ((state = 'pending' AND next_at <= ?2)"                                    \
    " OR (state = 'sending' AND next_at <= ?3))"

/* A read first: an idle poll costs no write transaction. */
static const char SQL_OUTBOX_ANY_DUE[] = "SELECT 1 FROM outbox WHERE" OUTBOX_DUE " LIMIT 1";
static const char SQL_OUTBOX_CLAIM[] =
    "UPDATE outbox SET state = 'sending', next_at = ?2 WHERE id IN (SELECT id FROM outbox"
    " WHERE" OUTBOX_DUE " ORDER BY next_at, id LIMIT ?4) RETURNING " OUTBOX_COLS;

static void bind_due(sqlite3_stmt *q, const char *channel, int64_t now, int64_t stale_ms)
{
    sq__bind_text(q, 1, channel);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_int64(q, 3, now - stale_ms);
}

static int outbox_any_due(struct sq_store *s, const char *channel, int64_t now, int64_t stale_ms,
                          bool *due, struct err *e)
{
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_OUTBOX_ANY_DUE, e);
    if (q) {
        bind_due(q, channel, now, stale_ms);
        int rc = sqlite3_step(q);
        *due = rc == SQLITE_ROW;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            sq__fail(c->db, rc, e, "outbox");
        sq__done(q);
    }
    sq__conn_put(s, c);
    return e->code;
}

struct outbox_claim_args {
    const char *channel;
    int64_t now, stale_ms;
    int limit;
    json_t *rows; /* OUT */
};

static int outbox_claim_run(struct sq_conn *c, void *arg, struct err *e)
{
    struct outbox_claim_args *a = arg;
    json_decref(a->rows); /* a batch that starts over runs the job again */
    a->rows = NULL;
    sqlite3_stmt *q = sq__stmt(c, SQL_OUTBOX_CLAIM, e);
    if (!q)
        return e->code;
    bind_due(q, a->channel, a->now, a->stale_ms);
    sqlite3_bind_int(q, 4, a->limit);
    return sq__collect(c, q, outbox_row, &a->rows, e);
}

static const char SQL_HOOK_SECRET[] =
    "SELECT url, secret FROM webhooks WHERE id = ?1 AND deleted = 0 AND enabled = 1";

/* Add "url" and "secret" (base64url) of the row's webhook, if it still exists and is enabled. */
static int attach_hook(struct sq_conn *c, json_t *row, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, SQL_HOOK_SECRET, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, sq__jstr(row, "target"));
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(q, 1);
        size_t n = (size_t)sqlite3_column_bytes(q, 1);
        char b64[sodium_base64_ENCODED_LEN(1024, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        if (b && n <= 1024) {
            sodium_bin2base64(b64, sizeof(b64), b, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
            json_object_set_new(row, "url", json_string(sq__col(q, 0)));
            json_object_set_new(row, "secret", json_string(b64));
            sodium_memzero(b64, sizeof(b64));
        }
    } else if (rc != SQLITE_DONE) {
        sq__fail(c->db, rc, e, "webhook");
    }
    sq__done(q);
    return e->code;
}

/*
 * Add "alert" (the version's row, as store_alert_get() renders it for the
 * coordinator) to every claimed row; rows of one alert share one read.
 */
static int attach_alerts(struct store *st, json_t *rows, struct err *e)
{
    struct store_release_access *all = xcalloc(1, sizeof(*all));
    all->all = true;
    json_t *seen = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *id = sq__jstr(row, "alert_id");
        json_t *a = json_object_get(seen, id);
        if (!a) {
            if (sq__alert_get(st, all, id, &a, e))
                break;
            json_object_set_new(seen, id, a);
        }
        json_object_set(row, "alert", a);
    }
    json_decref(seen);
    free(all);
    return e->code;
}

int sq__outbox_claim(struct store *st, const char *channel, int64_t now, int64_t stale_ms,
                     int limit, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    bool due = false;
    if (outbox_any_due(s, channel, now, stale_ms, &due, e))
        return e->code;
    if (!due || limit <= 0) {
        *out = json_array();
        return 0;
    }
    struct outbox_claim_args a = {channel, now, stale_ms, limit, NULL};
    if (sq__write(s, outbox_claim_run, &a, e)) {
        json_decref(a.rows);
        return e->code;
    }
    /* Claimed rows that fail to load stay "sending": the stale reclaim retries them. */
    if (attach_alerts(st, a.rows, e)) {
        json_decref(a.rows);
        return e->code;
    }
    if (!strcmp(channel, "webhook")) {
        struct sq_conn *c;
        if (sq__conn_get(s, &c, e)) {
            json_decref(a.rows);
            return e->code;
        }
        size_t i;
        json_t *row;
        json_array_foreach(a.rows, i, row) if (attach_hook(c, row, e)) break;
        sq__conn_put(s, c);
        if (e->code) {
            json_decref(a.rows);
            return e->code;
        }
    }
    *out = a.rows;
    return 0;
}

/* ?1 id, ?2 ok, ?3 next_at (0: dead), ?4 error, ?5 now. Only a claimed row takes a result. */
static const char SQL_OUTBOX_RESULT[] =
    "UPDATE outbox SET tries = tries + 1, last_error = CASE WHEN ?2 THEN NULL ELSE ?4 END,"
    " state = CASE WHEN ?2 THEN 'done' WHEN ?3 = 0 THEN 'dead' ELSE 'pending' END,"
    " next_at = CASE WHEN ?2 THEN ?5 ELSE ?3 END,"
    " done_at = CASE WHEN ?2 THEN ?5 ELSE done_at END"
    " WHERE id = ?1 AND state = 'sending' RETURNING alert_id, org_id, channel";
static const char SQL_LOG_INSERT[] =
    "INSERT INTO delivery_log(outbox_id, at, status, error, duration_ms)"
    " VALUES(?1, ?2, ?3, ?4, ?5)";
/* The first delivery on a channel is the organisation's receipt; a later one changes nothing. */
static const char SQL_DELIVERED[] =
    "INSERT OR IGNORE INTO receipts(alert_id, org_id, kind, channel, user_id, at, note)"
    " VALUES(?1, ?2, 'delivered', ?3, '', ?4, NULL)";

struct outbox_result_args {
    int64_t id;
    bool ok;
    int status;
    const char *error;
    int64_t duration_ms, next_at;
};

static int delivered_receipt(struct sq_conn *c, sqlite3_stmt *row, int64_t now, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, SQL_DELIVERED, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, sq__col(row, 0));
    sq__bind_text(q, 2, sq__col(row, 1));
    sq__bind_text(q, 3, sq__col(row, 2));
    sqlite3_bind_int64(q, 4, now);
    return sq__step_write(c, q, false, e, "receipt");
}

static int outbox_result_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct outbox_result_args *a = arg;
    int64_t now = util_now_ms();
    sqlite3_stmt *q = sq__stmt(c, SQL_OUTBOX_RESULT, e);
    if (!q)
        return e->code;
    sqlite3_bind_int64(q, 1, a->id);
    sqlite3_bind_int(q, 2, a->ok);
    sqlite3_bind_int64(q, 3, a->next_at);
    sq__bind_text(q, 4, a->error ? a->error : "failed");
    sqlite3_bind_int64(q, 5, now);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && a->ok)
        delivered_receipt(c, q, now, e);
    else if (rc == SQLITE_DONE)
        err_set(e, ERR_CONFLICT, "outbox row %lld is not being sent", (long long)a->id);
    else if (rc != SQLITE_ROW)
        sq__fail(c->db, rc, e, "outbox");
    if (rc == SQLITE_ROW && !e->code && (rc = sqlite3_step(q)) != SQLITE_DONE)
        sq__fail(c->db, rc, e, "outbox");
    sq__done(q);
    if (e->code || !(q = sq__stmt(c, SQL_LOG_INSERT, e)))
        return e->code;
    sqlite3_bind_int64(q, 1, a->id);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_int(q, 3, a->status); /* 0: no answer (refused, timed out) */
    sq__bind_text(q, 4, a->ok ? NULL : (a->error ? a->error : "failed"));
    sqlite3_bind_int64(q, 5, a->duration_ms);
    return sq__step_write(c, q, true, e, "delivery log");
}

int sq__outbox_result(struct store *st, int64_t id, bool ok, int status, const char *error,
                      int64_t duration_ms, int64_t next_at, struct err *e)
{
    struct outbox_result_args a = {id, ok, status, error, duration_ms, next_at};
    return sq__write(sq(st), outbox_result_run, &a, e);
}

/*
 * Newest first. try: the entry's rank among its delivery's tries; state:
 * the delivery's after that try (an earlier try was followed by another,
 * so it left the delivery pending; the newest shows where it stands).
 */
static const char SQL_WEBHOOK_LOG[] =
    "SELECT l.outbox_id, o.alert_id,"
    " (SELECT COUNT(*) FROM delivery_log p WHERE p.outbox_id = l.outbox_id AND p.id <= l.id),"
    " strftime('%Y-%m-%dT%H:%M:%fZ', l.at / 1000.0, 'unixepoch'), l.status, l.error,"
    " l.duration_ms, CASE WHEN o.state = 'sending' OR EXISTS (SELECT 1 FROM delivery_log n"
    "  WHERE n.outbox_id = l.outbox_id AND n.id > l.id) THEN 'pending' ELSE o.state END"
    " FROM outbox o JOIN delivery_log l ON l.outbox_id = o.id"
    " WHERE o.target = ?1 AND o.channel = 'webhook' ORDER BY l.id DESC LIMIT ?2";

static json_t *log_row(sqlite3_stmt *st)
{
    json_t *r = json_object();
    json_object_set_new(r, "delivery_id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(r, "alert_id", json_string(sq__col(st, 1)));
    json_object_set_new(r, "try", json_integer(sqlite3_column_int(st, 2)));
    json_object_set_new(r, "at", json_string(sq__col(st, 3)));
    json_object_set_new(r, "status", json_integer(sqlite3_column_int(st, 4)));
    json_object_set_new(r, "error", sq__col_opt(st, 5));
    json_object_set_new(r, "duration_ms", json_integer(sqlite3_column_int64(st, 6)));
    json_object_set_new(r, "state", json_string(sq__col(st, 7)));
    return r;
}

int sq__webhook_log(struct store *st, const char *webhook_id, int limit, json_t **out,
                    struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_WEBHOOK_LOG, e);
    if (q) {
        sq__bind_text(q, 1, webhook_id);
        sqlite3_bind_int(q, 2, limit);
        sq__collect(c, q, log_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

/* ---- escalation ---- */

/*
 * ?1 published before, ?2 limit, ?3 the horizon. An organisation that
 * acted has read the alert too, even if it never said so.
 */
static const char SQL_ESCALATION_DUE[] =
    "SELECT r.alert_id, r.org_id FROM alerts a JOIN alert_recipients r ON r.alert_id = a.id"
    " WHERE a.state = 'published' AND a.urgency IN ('urgent', 'critical')"
    " AND a.published_at < ?1 AND a.published_at >= ?3 AND r.escalated_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM receipts x WHERE x.alert_id = r.alert_id"
    "     AND x.org_id = r.org_id AND x.kind IN ('read', 'acted'))"
    " ORDER BY a.published_at, r.org_id LIMIT ?2";

static json_t *due_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s}", "alert_id", sq__col(st, 0), "org_id", sq__col(st, 1));
}

int sq__escalation_due(struct store *st, int64_t published_before, int limit, json_t **out,
                       struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_ESCALATION_DUE, e);
    if (q) {
        sqlite3_bind_int64(q, 1, published_before);
        sqlite3_bind_int(q, 2, limit);
        sqlite3_bind_int64(q, 3, published_before - SQ_ESCALATE_HORIZON_MS);
        sq__collect(c, q, due_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

static const char SQL_MARK_ESCALATED[] =
    "UPDATE alert_recipients SET escalated_at = ?3 WHERE alert_id = ?1 AND org_id = ?2"
    " AND escalated_at IS NULL";
/*
 * The same destinations store_alert_publish() queues (sqlite_alert.c): the
 * organisation's enabled webhooks and its e-mail contacts (locale: the
 * contact's, else ja), as they are now.
 */
static const char SQL_REQUEUE_HOOKS[] =
    "INSERT INTO outbox(alert_id, org_id, channel, target, locale, state, next_at, created_at,"
    " escalation) SELECT ?1, ?2, 'webhook', w.id, NULL, 'pending', ?3, ?3, 1 FROM webhooks w"
    " WHERE w.org_id = ?2 AND w.enabled = 1 AND w.deleted = 0";
static const char SQL_REQUEUE_MAIL[] =
    "INSERT INTO outbox(alert_id, org_id, channel, target, locale, state, next_at, created_at,"
    " escalation) SELECT ?1, ?2, 'email', json_extract(k.value, '$.value'),"
    " COALESCE(json_extract(k.value, '$.locale'), 'ja'), 'pending', ?3, ?3, 1"
    " FROM orgs o, json_each(o.contacts) k WHERE o.id = ?2 AND o.disabled = 0"
    " AND json_extract(k.value, '$.type') = 'email'";

struct escalate_args {
    const char *alert_id, *org_id;
    int64_t now;
};

static int escalate_stmt(struct sq_conn *c, const char *sql, const struct escalate_args *a,
                         bool need_change, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, a->alert_id);
    sq__bind_text(q, 2, a->org_id);
    sqlite3_bind_int64(q, 3, a->now);
    return sq__step_write(c, q, need_change, e, "escalation");
}

static int escalate_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct escalate_args *a = arg;
    if (escalate_stmt(c, SQL_MARK_ESCALATED, a, true, e) == ERR_NOTFOUND) {
        err_init(e);
        return err_set(e, ERR_CONFLICT, "not a recipient, or escalated already");
    }
    if (e->code || escalate_stmt(c, SQL_REQUEUE_HOOKS, a, false, e))
        return e->code;
    return escalate_stmt(c, SQL_REQUEUE_MAIL, a, false, e);
}

int sq__alert_escalate(struct store *st, const char *alert_id, const char *org_id, int64_t now,
                       struct err *e)
{
    struct escalate_args a = {alert_id, org_id, now};
    return sq__write(sq(st), escalate_run, &a, e);
}
