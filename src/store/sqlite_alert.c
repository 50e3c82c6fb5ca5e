/*
 * sqlite_alert.c - alerts, their targets, recipients and receipts in the
 * SQLite backend (tables of migration 5 in sqlite.c).
 *
 * An alert version is one row; its text (title, summary, actions, links,
 * observables) is the JSON body, and the columns hold what lists filter
 * on. Publishing is one transaction: the version gets its event id
 * (pub_seq, the stream's Last-Event-ID), its target keys, the snapshot of
 * the organisations it targets (reach is measured against them) and the
 * outbox rows of the webhook and e-mail workers. Alert times are
 * milliseconds: time to receipt is measured in them.
 */
#include <stdio.h>
#include <string.h>

#include "base/jw.h"
#include "base/util.h"
#include "sqlite_int.h"

/* Milliseconds as RFC 3339 with milliseconds, or NULL. */
#define MS_TS(col)                                                                                \
    "CASE WHEN " col " IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', " col              \
    " / 1000.0, 'unixepoch') END"

#define ALERT_COLS                                                                                \
    "a.id, a.series_id, a.version, a.kind, a.state, a.issuer_org, a.body, a.urgency,"             \
    " a.exercise, a.audience, a.tlp, a.created_by, " MS_TS("a.created_at") ", "                  \
    MS_TS("a.updated_at") ", a.published_by, " MS_TS("a.published_at") ", a.pub_seq,"             \
    " o.kind, o.name_ja, o.name_en"
#define ALERT_FROM " FROM alerts a JOIN orgs o ON o.id = a.issuer_org"

static json_t *alert_row(sqlite3_stmt *st)
{
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(sq__col(st, 0)));
    json_object_set_new(r, "series_id", json_string(sq__col(st, 1)));
    json_object_set_new(r, "version", json_integer(sqlite3_column_int(st, 2)));
    json_object_set_new(r, "kind", json_string(sq__col(st, 3)));
    json_object_set_new(r, "state", json_string(sq__col(st, 4)));
    json_object_set_new(r, "issuer_org", json_string(sq__col(st, 5)));
    json_object_set_new(r, "body", sq__col_json(st, 6));
    json_object_set_new(r, "urgency", json_string(sq__col(st, 7)));
    json_object_set_new(r, "exercise", json_boolean(sqlite3_column_int(st, 8)));
    json_object_set_new(r, "audience", sq__col_json(st, 9));
    json_object_set_new(r, "tlp", json_string(sq__col(st, 10)));
    json_object_set_new(r, "created_by", json_string(sq__col(st, 11)));
    json_object_set_new(r, "created_at", json_string(sq__col(st, 12)));
    json_object_set_new(r, "updated_at", json_string(sq__col(st, 13)));
    json_object_set_new(r, "published_by", sq__col_opt(st, 14));
    json_object_set_new(r, "published_at", sq__col_opt(st, 15));
    json_object_set_new(r, "pub_seq", sq__col_opt_int(st, 16));
    json_object_set_new(r, "issuer", json_pack("{s:s,s:s,s:o}", "org_id", sq__col(st, 5), "kind",
                                               sq__col(st, 17), "name", sq__name_obj(st, 18)));
    return r;
}

/*
 * Who received a published version: its recipients, fixed once its
 * delivery work is queued (store_alert_queue(), right after the streams
 * are woken), so an organisation that joins a sector later does not
 * receive past alerts. In the few milliseconds before that, the target
 * keys decide (?23, the reader's keys), exactly as the stream fan-out
 * does.
 */
#define RECEIVED(alias, org)                                                                      \
    " (EXISTS (SELECT 1 FROM alert_recipients ar WHERE ar.alert_id = " alias ".id"                \
    "  AND ar.org_id = " org ") OR (" alias ".queued = 0 AND EXISTS (SELECT 1 FROM alert_targets t" \
    "  WHERE t.seq = " alias ".pub_seq AND t.key IN (SELECT value FROM json_each(?23)))))"

/* Parameters ?20-?23 (sq__bind_access()): none, all, the reader's org, keys. */
#define ALERT_ACCESS                                                                              \
    " ?20 = 0 AND (?21 OR a.issuer_org = ?22 OR (a.state = 'published' AND" RECEIVED("a", "?22") "))"

/* ---- reads ---- */

/* Binds a read's own parameters (those below ?20) from arg. */
typedef void alert_bind_fn(sqlite3_stmt *q, const void *arg);

/* A read of alert rows as reader acc: one row (ERR_NOTFOUND if none) or all of them. */
static int alert_read(struct store *st, const struct store_release_access *acc, const char *sql,
                      alert_bind_fn *bind, const void *arg, bool one, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    char *keys = sq__keys_json(acc);
    if (!keys)
        return err_set(e, ERR_NOMEM, "alert access");
    struct sq_conn *c;
    if (sq__conn_get(s, &c, e) == 0) {
        sqlite3_stmt *q = sq__stmt(c, sql, e);
        if (q) {
            bind(q, arg);
            sq__bind_access(q, acc, keys);
            if (one)
                sq__one(c, q, alert_row, out, e, "alert");
            else
                sq__collect(c, q, alert_row, out, e);
        }
        sq__conn_put(s, c);
    }
    free(keys);
    return e->code;
}

static const char SQL_ALERT_GET[] =
    "SELECT " ALERT_COLS ALERT_FROM " WHERE a.id = ?1 AND" ALERT_ACCESS;

static void bind_id(sqlite3_stmt *q, const void *id)
{
    sq__bind_text(q, 1, id);
}

int sq__alert_get(struct store *st, const struct store_release_access *acc, const char *id,
                  json_t **out, struct err *e)
{
    return alert_read(st, acc, SQL_ALERT_GET, bind_id, id, true, out, e);
}

/* Filters ?3-?7, ?11 (urgency, exercise, since, until in ms on timecol, q, series). */
#define ALERT_FILTER(timecol)                                                                     \
    " AND (?3 IS NULL OR a.urgency = ?3) AND (?4 < 0 OR a.exercise = ?4)"                         \
    " AND (?5 = 0 OR " timecol " >= ?5) AND (?6 = 0 OR " timecol " < ?6)"                         \
    " AND (?7 IS NULL OR instr(lower(a.title), lower(?7)) > 0)"                                   \
    " AND (?11 IS NULL OR a.series_id = ?11)"

/*
 * Inbox: published versions the reader received, newest first; with ?9 only
 * the newest of each series that the reader received (a correction that
 * narrowed the audience leaves the earlier recipients their version).
 */
static const char SQL_ALERT_INBOX[] =
    "SELECT " ALERT_COLS ALERT_FROM " WHERE a.state = 'published' AND a.pub_seq < ?1"
    ALERT_FILTER("a.published_at")
    " AND (?9 = 0 OR NOT EXISTS (SELECT 1 FROM alerts b WHERE b.series_id = a.series_id"
    "  AND b.state = 'published' AND b.pub_seq > a.pub_seq AND (?21 OR" RECEIVED("b", "?22") ")))"
    " AND ?20 = 0 AND (?21 OR (a.issuer_org != ?22 AND" RECEIVED("a", "?22") "))"
    " ORDER BY a.pub_seq DESC LIMIT ?2";
/* The issuer side's list: every state it may see, newest created first. */
static const char SQL_ALERT_QUEUE[] =
    "SELECT " ALERT_COLS ALERT_FROM " WHERE (?8 = 'any' OR a.state = ?8)"
    " AND (?10 IS NULL OR a.id < ?10)" ALERT_FILTER("a.created_at")
    " AND ?20 = 0 AND (?21 OR a.issuer_org = ?22) ORDER BY a.id DESC LIMIT ?2";

/* The parameters of a list: ?1 the cursor's event id, ?2 the limit, ?3-?11 f. */
struct alert_list_args {
    const struct store_alert_filter *f; /* NULL: only ?1 and ?2 (events) */
    int64_t after_seq;
    const char *after_id;
    int limit;
};

static void bind_list(sqlite3_stmt *q, const void *arg)
{
    const struct alert_list_args *a = arg;
    const struct store_alert_filter *f = a->f;
    sqlite3_bind_int64(q, 1, a->after_seq);
    sqlite3_bind_int(q, 2, a->limit);
    if (!f)
        return;
    sq__bind_text(q, 3, f->urgency);
    sqlite3_bind_int(q, 4, f->exercise);
    sqlite3_bind_int64(q, 5, f->since_ms);
    sqlite3_bind_int64(q, 6, f->until_ms);
    sq__bind_text(q, 7, f->q);
    sq__bind_text(q, 8, f->state);
    sqlite3_bind_int(q, 9, f->latest);
    sq__bind_text(q, 10, a->after_id);
    sq__bind_text(q, 11, f->series_id);
}

int sq__alert_list(struct store *st, const struct store_release_access *acc,
                   const struct store_alert_filter *f, int64_t after_seq, const char *after_id,
                   int limit, json_t **out, struct err *e)
{
    struct alert_list_args a = {f, after_seq > 0 ? after_seq : INT64_MAX, after_id, limit};
    return alert_read(st, acc, f->state ? SQL_ALERT_QUEUE : SQL_ALERT_INBOX, bind_list, &a, false,
                      out, e);
}

static const char SQL_ALERT_EVENTS[] =
    "SELECT " ALERT_COLS ALERT_FROM " WHERE a.pub_seq > ?1 AND a.state = 'published' AND"
    ALERT_ACCESS " ORDER BY a.pub_seq LIMIT ?2";

int sq__alert_events(struct store *st, const struct store_release_access *acc,
                     int64_t after_seq, int limit, json_t **out, struct err *e)
{
    struct alert_list_args a = {NULL, after_seq, NULL, limit};
    return alert_read(st, acc, SQL_ALERT_EVENTS, bind_list, &a, false, out, e);
}

static json_t *recipient_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:o,s:o}", "org_id", sq__col(st, 0), "kind", sq__col(st, 1), "name",
                     sq__name_obj(st, 2), "escalated_at", sq__col_opt_int(st, 4));
}

static const char SQL_RECIPIENTS[] =
    "SELECT r.org_id, o.kind, o.name_ja, o.name_en, r.escalated_at FROM alert_recipients r"
    " JOIN orgs o ON o.id = r.org_id WHERE r.alert_id = ?1 ORDER BY r.org_id";

/* The rows of sql about one alert (?1), on c. */
static int rows_of(struct sq_conn *c, const char *sql, const char *alert_id, row_fn *row,
                   json_t **out, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, alert_id);
    return sq__collect(c, q, row, out, e);
}

int sq__alert_recipients(struct store *st, const char *alert_id, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    rows_of(c, SQL_RECIPIENTS, alert_id, recipient_row, out, e);
    sq__conn_put(s, c);
    return e->code;
}

static json_t *receipt_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "org_id", sq__col(st, 0), "kind", sq__col(st, 1),
                     "channel", sq__col(st, 2), "user_id", sq__col(st, 3), "at",
                     (json_int_t)sqlite3_column_int64(st, 4), "note", sq__col_opt(st, 5));
}

static const char SQL_RECEIPTS[] =
    "SELECT org_id, kind, channel, user_id, at, note FROM receipts WHERE alert_id = ?1"
    " ORDER BY at";

int sq__alert_receipts(struct store *st, const char *alert_id, json_t **receipts,
                       json_t **recipients, struct err *e)
{
    struct sq_store *s = sq(st);
    *receipts = *recipients = NULL;
    WITH_CONN(s, c, e);
    if (rows_of(c, SQL_RECEIPTS, alert_id, receipt_row, receipts, e) == 0)
        rows_of(c, SQL_RECIPIENTS, alert_id, recipient_row, recipients, e);
    sq__conn_put(s, c);
    if (e->code) {
        json_decref(*receipts);
        json_decref(*recipients);
        *receipts = *recipients = NULL;
    }
    return e->code;
}

/* ---- writes ---- */

static const char SQL_ALERT_EXISTS[] = "SELECT 1 FROM alerts WHERE id = ?1";

/* Nothing changed: ERR_NOTFOUND if there is no such alert, else ERR_CONFLICT with why. */
static int not_changed(struct sq_conn *c, const char *id, const char *why, struct err *e)
{
    e->code = 0;
    sqlite3_stmt *q = sq__stmt(c, SQL_ALERT_EXISTS, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, id);
    int rc = sqlite3_step(q);
    sq__done(q);
    if (rc == SQLITE_DONE)
        return err_set(e, ERR_NOTFOUND, "alert not found");
    if (rc != SQLITE_ROW)
        return sq__fail(c->db, rc, e, "alert");
    return err_set(e, ERR_CONFLICT, "%s", why);
}

static const char SQL_SERIES_DRAFT[] =
    "SELECT 1 FROM alerts WHERE series_id = ?1 AND state = 'draft'";
static const char SQL_ALERT_INSERT[] =
    "INSERT INTO alerts(id, series_id, version, kind, state, issuer_org, body, urgency,"
    " exercise, audience, tlp, title, created_by, created_at, updated_at)"
    " VALUES(?1, COALESCE(?2, ?1), CASE WHEN ?2 IS NULL THEN 1 ELSE"
    " (SELECT COALESCE(MAX(version), 0) + 1 FROM alerts WHERE series_id = ?2) END,"
    " ?3, 'draft', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)";
static const char SQL_ALERT_UPDATE[] =
    "UPDATE alerts SET body = ?5, urgency = ?6, exercise = ?7, audience = ?8, tlp = ?9,"
    " title = ?10, updated_at = ?12 WHERE id = ?1 AND state = 'draft'";

/* "ja en" of the title, for q= searches in either language. */
static char *title_text(const json_t *alert)
{
    const json_t *t = json_object_get(json_object_get(alert, "body"), "title");
    const char *ja = json_string_value(json_object_get(t, "ja"));
    const char *en = json_string_value(json_object_get(t, "en"));
    size_t n = (ja ? strlen(ja) : 0) + (en ? strlen(en) : 0) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s %s", ja ? ja : "", en ? en : "");
    return s;
}

/* Bind ?1 and ?3-?12 of an alert row (insert and update share them). */
static int bind_alert(sqlite3_stmt *q, const json_t *a, char **texts, struct err *e)
{
    texts[0] = jw_dump(json_object_get(a, "body"), NULL);
    texts[1] = jw_dump(json_object_get(a, "audience"), NULL);
    texts[2] = title_text(a);
    if (!texts[0] || !texts[1] || !texts[2])
        return err_set(e, ERR_NOMEM, "alert");
    sq__bind_text(q, 1, sq__jstr(a, "id"));
    sq__bind_text(q, 3, sq__jstr(a, "kind"));
    sq__bind_text(q, 4, sq__jstr(a, "issuer_org"));
    sq__bind_text(q, 5, texts[0]);
    sq__bind_text(q, 6, sq__jstr(a, "urgency"));
    sqlite3_bind_int(q, 7, json_is_true(json_object_get(a, "exercise")));
    sq__bind_text(q, 8, texts[1]);
    sq__bind_text(q, 9, sq__jstr(a, "tlp"));
    sq__bind_text(q, 10, texts[2]);
    sq__bind_text(q, 11, sq__jstr(a, "created_by"));
    sqlite3_bind_int64(q, 12, util_now_ms());
    return 0;
}

static int alert_write_run(struct sq_conn *c, void *arg, struct err *e, bool create)
{
    const json_t *a = arg;
    const char *series = json_string_value(json_object_get(a, "series_id"));
    sqlite3_stmt *q;
    if (create && series) {
        if (!(q = sq__stmt(c, SQL_SERIES_DRAFT, e)))
            return e->code;
        sq__bind_text(q, 1, series);
        int rc = sqlite3_step(q);
        sq__done(q);
        if (rc == SQLITE_ROW)
            return err_set(e, ERR_CONFLICT, "the series already has a draft version");
        if (rc != SQLITE_DONE)
            return sq__fail(c->db, rc, e, "alert");
    }
    if (!(q = sq__stmt(c, create ? SQL_ALERT_INSERT : SQL_ALERT_UPDATE, e)))
        return e->code;
    char *texts[3] = {NULL, NULL, NULL};
    if (bind_alert(q, a, texts, e) == 0) {
        if (create)
            sq__bind_text(q, 2, series);
        if (sq__step_write(c, q, true, e, "alert") == ERR_NOTFOUND && !create)
            not_changed(c, sq__jstr(a, "id"), "only a draft alert can be changed", e);
    } else {
        sq__done(q);
    }
    for (int i = 0; i < 3; i++)
        free(texts[i]);
    return e->code;
}

static int alert_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    return alert_write_run(c, arg, e, true);
}

static int alert_update_run(struct sq_conn *c, void *arg, struct err *e)
{
    return alert_write_run(c, arg, e, false);
}

int sq__alert_create(struct store *st, const json_t *alert, struct err *e)
{
    return sq__write(sq(st), alert_create_run, (void *)alert, e);
}

int sq__alert_update(struct store *st, const json_t *alert, struct err *e)
{
    return sq__write(sq(st), alert_update_run, (void *)alert, e);
}

static const char SQL_PUBLISH[] =
    "UPDATE alerts SET state = 'published', published_by = ?2, published_at = ?3,"
    " updated_at = ?3, pub_seq = (SELECT COALESCE(MAX(pub_seq), 0) + 1 FROM alerts)"
    " WHERE id = ?1 AND state = 'draft'";
static const char SQL_PUB_SEQ[] = "SELECT pub_seq FROM alerts WHERE id = ?1";
static const char SQL_TARGET_ADD[] =
    "INSERT OR IGNORE INTO alert_targets(key, seq) VALUES(?1, ?2)";
/*
 * The organisations version ?1's target keys reach: enabled ones, not the
 * issuer. Each IN list is built once, so the scan costs a few lookups per
 * organisation; rows go in in key order (appends to the b-tree).
 */
static const char SQL_RECIPIENTS_ADD[] =
    "WITH k(value) AS (SELECT key FROM alert_targets"
    "  WHERE seq = (SELECT pub_seq FROM alerts WHERE id = ?1))"
    " INSERT INTO alert_recipients(alert_id, org_id)"
    " SELECT ?1, o.id FROM orgs o WHERE o.disabled = 0"
    " AND o.id != (SELECT issuer_org FROM alerts WHERE id = ?1)"
    " AND (EXISTS (SELECT 1 FROM k WHERE value = 'all')"
    "  OR o.id IN (SELECT substr(value, 5) FROM k WHERE value LIKE 'org:%')"
    "  OR o.tier IN (SELECT substr(value, 6) FROM k WHERE value LIKE 'tier:%')"
    "  OR o.id IN (SELECT os.org_id FROM org_sectors os WHERE os.sector IN"
    "   (SELECT substr(value, 8) FROM k WHERE value LIKE 'sector:%')))"
    " ORDER BY o.id";
/*
 * Work for the delivery workers: each recipient's enabled webhooks and
 * e-mail contacts, queued once per version (queued = 0 → 1).
 */
static const char SQL_QUEUE_MARK[] =
    "UPDATE alerts SET queued = 1 WHERE id = ?1 AND state = 'published' AND queued = 0";
static const char SQL_OUTBOX_WEBHOOKS[] =
    "INSERT INTO outbox(alert_id, org_id, channel, target, locale, state, next_at, created_at)"
    " SELECT ?1, w.org_id, 'webhook', w.id, NULL, 'pending', ?2, ?2 FROM alert_recipients r"
    " JOIN webhooks w ON w.org_id = r.org_id AND w.enabled = 1 AND w.deleted = 0"
    " WHERE r.alert_id = ?1";
static const char SQL_OUTBOX_EMAILS[] =
    "INSERT INTO outbox(alert_id, org_id, channel, target, locale, state, next_at, created_at)"
    " SELECT ?1, o.id, 'email', json_extract(ct.value, '$.value'),"
    " COALESCE(json_extract(ct.value, '$.locale'), 'ja'), 'pending', ?2, ?2"
    " FROM alert_recipients r JOIN orgs o ON o.id = r.org_id, json_each(o.contacts) ct"
    " WHERE r.alert_id = ?1 AND json_extract(ct.value, '$.type') = 'email'";
static const char SQL_UNQUEUED[] =
    "SELECT id FROM alerts WHERE state = 'published' AND queued = 0 ORDER BY pub_seq LIMIT 100";

struct alert_publish_args {
    const char *id, *user;
    char *keys;
    int64_t seq;
};

static int run_2(struct sq_conn *c, const char *sql, const char *a1, const char *t2, int64_t i2,
                 struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, a1);
    if (t2)
        sq__bind_text(q, 2, t2);
    else
        sqlite3_bind_int64(q, 2, i2);
    return sq__step_write(c, q, false, e, "alert publish");
}

static int alert_publish_run(struct sq_conn *c, void *arg, struct err *e)
{
    struct alert_publish_args *a = arg;
    int64_t now = util_now_ms();
    sqlite3_stmt *q = sq__stmt(c, SQL_PUBLISH, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, a->id);
    sq__bind_text(q, 2, a->user);
    sqlite3_bind_int64(q, 3, now);
    if (sq__step_write(c, q, true, e, "alert") == ERR_NOTFOUND)
        return not_changed(c, a->id, "only a draft alert can be published", e);
    if (e->code || !(q = sq__stmt(c, SQL_PUB_SEQ, e)))
        return e->code;
    sq__bind_text(q, 1, a->id);
    int rc = sqlite3_step(q);
    a->seq = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sq__done(q);
    if (rc != SQLITE_ROW)
        return sq__fail(c->db, rc, e, "alert publish");
    json_t *keys = json_loads(a->keys, 0, NULL);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (!(q = sq__stmt(c, SQL_TARGET_ADD, e)))
            break;
        sq__bind_text(q, 1, json_string_value(k));
        sqlite3_bind_int64(q, 2, a->seq);
        if (sq__step_write(c, q, false, e, "alert target"))
            break;
    }
    json_decref(keys);
    return e->code;
}

/* Queue the outbox rows of one published version unless they are queued already. */
static int queue_one(struct sq_conn *c, const char *id, int64_t now, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, SQL_QUEUE_MARK, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, id);
    if (sq__step_write(c, q, false, e, "alert queue"))
        return e->code;
    if (sqlite3_changes(c->db) == 0)
        return 0; /* queued before, or not published */
    if (run_2(c, SQL_RECIPIENTS_ADD, id, NULL, 0, e) ||
        run_2(c, SQL_OUTBOX_WEBHOOKS, id, NULL, now, e) ||
        run_2(c, SQL_OUTBOX_EMAILS, id, NULL, now, e))
        return e->code;
    return 0;
}

static int alert_queue_run(struct sq_conn *c, void *arg, struct err *e)
{
    const char *id = arg;
    int64_t now = util_now_ms();
    if (id)
        return queue_one(c, id, now, e);
    /* recovery: every published version whose work was never queued */
    sqlite3_stmt *q = sq__stmt(c, SQL_UNQUEUED, e);
    if (!q)
        return e->code;
    json_t *ids = json_array();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        json_array_append_new(ids, json_string(sq__col(q, 0)));
    sq__done(q);
    if (rc != SQLITE_DONE)
        sq__fail(c->db, rc, e, "alert queue");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) if (!e->code) queue_one(c, json_string_value(v), now, e);
    json_decref(ids);
    return e->code;
}

int sq__alert_queue(struct store *st, const char *alert_id, struct err *e)
{
    return sq__write(sq(st), alert_queue_run, (void *)alert_id, e);
}

int sq__alert_publish(struct store *st, const char *id, const char *user_id,
                      const json_t *targets, int64_t *seq, struct err *e)
{
    struct alert_publish_args a = {id, user_id, jw_dump(targets, NULL), 0};
    if (!a.keys)
        return err_set(e, ERR_NOMEM, "alert targets");
    /* an alert is published ahead of imports, exports and mail retries queued on the writer */
    int rc = sq__write_urgent(sq(st), alert_publish_run, &a, e);
    free(a.keys);
    if (rc == 0 && seq)
        *seq = a.seq;
    return rc;
}

/*
 * First of each (alert, org, kind, channel, user) wins; a later "acted"
 * replaces its note. Only organisations the version targeted count (while
 * its recipients are not fixed yet, every receipt is kept: the delivery
 * page reads receipts through the recipients).
 */
static const char SQL_RECEIPT_ADD[] =
    "INSERT INTO receipts(alert_id, org_id, kind, channel, user_id, at, note)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM alert_recipients"
    "  WHERE alert_id = ?1 AND org_id = ?2)"
    "  OR EXISTS (SELECT 1 FROM alerts WHERE id = ?1 AND state = 'published' AND queued = 0)"
    " ON CONFLICT(alert_id, org_id, kind, channel, user_id) DO UPDATE SET note = excluded.note"
    " WHERE excluded.kind = 'acted' AND excluded.note IS NOT NULL";

struct receipts_args {
    const struct store_receipt *r;
    size_t n;
};

static int receipts_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct receipts_args *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        const struct store_receipt *r = &a->r[i];
        sqlite3_stmt *q = sq__stmt(c, SQL_RECEIPT_ADD, e);
        if (!q)
            return e->code;
        sq__bind_text(q, 1, r->alert_id);
        sq__bind_text(q, 2, r->org_id);
        sq__bind_text(q, 3, r->kind);
        sq__bind_text(q, 4, r->channel);
        sq__bind_text(q, 5, r->user_id ? r->user_id : "");
        sqlite3_bind_int64(q, 6, r->at);
        sq__bind_text(q, 7, r->note);
        if (sq__step_write(c, q, false, e, "receipt"))
            return e->code;
    }
    return 0;
}

int sq__receipts_add(struct store *st, const struct store_receipt *r, size_t n, struct err *e)
{
    if (n == 0)
        return 0;
    struct receipts_args a = {r, n};
    return sq__write(sq(st), receipts_run, &a, e);
}
