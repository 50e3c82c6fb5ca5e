/*
 * sqlite_report.c - reports, revisions, regimes and near-miss counts in
 * the SQLite backend (tables of migration 2 in sqlite.c).
 *
 * A report is one row with the columns that lists filter on; its content
 * (JSON) lives in report_revisions, one row per revision with the content
 * as it stood and what changed, so nothing is overwritten and the current
 * content is the revision numbered reports.revision (written once).
 * Visibility is the WHERE clause ACCESS below, bound from the
 * store_report_access that auth/ built: reads never fetch-then-filter.
 */
#include <stdio.h>
#include <string.h>

#include "base/jw.h"
#include "base/util.h"
#include "sqlite_int.h"

/* ---- visibility ---- */

/* Parameters ?20-?22; see struct store_report_access. */
#define ACCESS " ?20 = 0 AND (r.org_id = ?21 OR (r.stage != 'draft' AND ?22))"

static void bind_access(sqlite3_stmt *q, const struct store_report_access *acc)
{
    sqlite3_bind_int(q, 20, acc->none || acc->org_id == NULL);
    sq__bind_text(q, 21, acc->org_id ? acc->org_id : "");
    sqlite3_bind_int(q, 22, acc->all);
}

/* ---- rows ---- */

/* The current content is the newest revision's. */
#define REPORT_FROM                                                                               \
    " FROM reports r JOIN orgs o ON o.id = r.org_id"                                              \
    " JOIN report_revisions v ON v.report_id = r.id AND v.n = r.revision"

#define REPORT_COLS                                                                               \
    "r.id, r.org_id, o.name_ja, o.name_en, r.created_by, r.stage, r.revision, v.content, "        \
    TS("r.created_at") ", " TS("r.updated_at") ", "                                               \
    "CASE WHEN r.submitted_at IS NULL THEN NULL ELSE " TS("r.submitted_at") " END, "              \
    "r.due_at, r.due_stage"

static json_t *report_row(sqlite3_stmt *st)
{
    json_t *r = sq__col_json(st, 7);
    if (!json_is_object(r)) {
        json_decref(r);
        r = json_object();
    }
    const char *sub = (const char *)sqlite3_column_text(st, 10);
    json_object_set_new(r, "id", json_string(sq__col(st, 0)));
    json_object_set_new(r, "org_id", json_string(sq__col(st, 1)));
    json_object_set_new(r, "org_name", sq__name_obj(st, 2));
    json_object_set_new(r, "created_by", json_string(sq__col(st, 4)));
    json_object_set_new(r, "stage", json_string(sq__col(st, 5)));
    json_object_set_new(r, "revision", json_integer(sqlite3_column_int(st, 6)));
    json_object_set_new(r, "created_at", json_string(sq__col(st, 8)));
    json_object_set_new(r, "updated_at", json_string(sq__col(st, 9)));
    json_object_set_new(r, "submitted_at", sub ? json_string(sub) : json_null());
    json_object_set_new(r, "due_at", sqlite3_column_type(st, 11) == SQLITE_NULL
                                         ? json_null()
                                         : json_integer(sqlite3_column_int64(st, 11)));
    const char *ds = (const char *)sqlite3_column_text(st, 12);
    json_object_set_new(r, "due_stage", ds ? json_string(ds) : json_null());
    return r;
}

/* Lists carry the summary: the long and the personal fields stay on the report page. */
static json_t *report_summary_row(sqlite3_stmt *st)
{
    json_t *r = report_row(st);
    json_object_del(r, "description");
    json_object_del(r, "observables");
    json_object_del(r, "contact");
    return r;
}

static json_t *revision_row(sqlite3_stmt *st)
{
    const char *reason = (const char *)sqlite3_column_text(st, 6);
    return json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:s},s:o,s:o}", "n", sqlite3_column_int(st, 0),
                     "stage", sq__col(st, 1), "at", sq__col(st, 2), "by", "id", sq__col(st, 3),
                     "login", sq__col(st, 4), "display_name", sq__col(st, 5), "reason",
                     reason ? json_string(reason) : json_null(), "changes",
                     sq__col_json(st, 7));
}

/* ---- reads ---- */

static const char SQL_REPORT_GET[] =
    "SELECT " REPORT_COLS REPORT_FROM " WHERE r.id = ?1 AND" ACCESS;
static const char SQL_REVISIONS[] =
    "SELECT v.n, v.stage, " TS("v.at") ", v.user_id, u.login, u.display_name, v.reason,"
    " v.changes FROM report_revisions v JOIN users u ON u.id = v.user_id"
    " WHERE v.report_id = ?1 ORDER BY v.n";

#define REPORT_FILTER                                                                             \
    " AND (?2 IS NULL OR r.kind = ?2) AND (?3 IS NULL OR r.event_type = ?3)"                      \
    " AND (?4 IS NULL OR r.id IN (SELECT report_id FROM report_sectors WHERE sector = ?4))"       \
    " AND (?5 IS NULL OR r.status = ?5) AND (?6 IS NULL OR r.stage = ?6)"                         \
    " AND (?7 IS NULL OR r.org_id = ?7)"                                                          \
    " AND (?8 IS NULL OR instr(lower(r.title), lower(?8)) > 0)"                                   \
    " AND (?9 < 0 OR r.severity >= ?9)"                                                           \
    " AND (?10 = 0 OR r.created_at >= ?10) AND (?11 = 0 OR r.created_at < ?11)"

static const char SQL_REPORT_LIST[] =
    "SELECT " REPORT_COLS REPORT_FROM " WHERE (?1 IS NULL OR r.id < ?1)" REPORT_FILTER " AND" ACCESS
    " ORDER BY r.id DESC LIMIT ?13";
static const char SQL_REPORT_DUE[] =
    "SELECT " REPORT_COLS REPORT_FROM " WHERE r.due_at IS NOT NULL AND r.due_at < ?12"
    " AND (?15 IS NULL OR r.due_at > ?14 OR (r.due_at = ?14 AND r.id > ?15))"
    REPORT_FILTER " AND" ACCESS " ORDER BY r.due_at, r.id LIMIT ?13";

int sq__report_get(struct store *st, const struct store_report_access *acc, const char *id,
                   bool with_revisions, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_REPORT_GET, e);
    json_t *r = NULL, *revs = NULL;
    if (q) {
        sq__bind_text(q, 1, id);
        bind_access(q, acc);
        sq__one(c, q, report_row, &r, e, "report");
    }
    if (!e->code && with_revisions && (q = sq__stmt(c, SQL_REVISIONS, e))) {
        sq__bind_text(q, 1, id);
        if (sq__collect(c, q, revision_row, &revs, e) == 0)
            json_object_set_new(r, "revisions", revs);
    }
    sq__conn_put(s, c);
    if (e->code) {
        json_decref(r);
        return e->code;
    }
    *out = r;
    return 0;
}

int sq__report_list(struct store *st, const struct store_report_access *acc,
                    const struct store_report_filter *f, const struct store_page *p,
                    json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, f->due_before ? SQL_REPORT_DUE : SQL_REPORT_LIST, e);
    if (q) {
        sq__bind_text(q, 1, p->after);
        sq__bind_text(q, 2, f->kind);
        sq__bind_text(q, 3, f->event_type);
        sq__bind_text(q, 4, f->sector);
        sq__bind_text(q, 5, f->status);
        sq__bind_text(q, 6, f->stage);
        sq__bind_text(q, 7, f->org_id);
        sq__bind_text(q, 8, f->q);
        sqlite3_bind_int(q, 9, f->min_severity);
        sqlite3_bind_int64(q, 10, f->since);
        sqlite3_bind_int64(q, 11, f->until);
        sqlite3_bind_int64(q, 12, f->due_before);
        sqlite3_bind_int(q, 13, p->limit);
        sqlite3_bind_int64(q, 14, f->due_after_at);
        sq__bind_text(q, 15, f->due_after_id);
        bind_access(q, acc);
        sq__collect(c, q, report_summary_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

static const char SQL_CONTENT_AT[] =
    "SELECT v.content FROM reports r JOIN report_revisions v ON v.report_id = r.id AND v.n = ?2"
    " WHERE r.id = ?1 AND" ACCESS;

static json_t *content_row(sqlite3_stmt *st) { return sq__col_json(st, 0); }

int sq__report_content_at(struct store *st, const struct store_report_access *acc,
                          const char *id, int n, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_CONTENT_AT, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sqlite3_bind_int(q, 2, n);
        bind_access(q, acc);
        sq__one(c, q, content_row, out, e, "report revision");
    }
    sq__conn_put(s, c);
    return e->code;
}

static const char SQL_IDEM_GET[] = "SELECT report_id FROM idempotency WHERE scope = ?1 AND key = ?2";

int sq__idem_lookup(struct store *st, const char *scope, const char *key, char *report_id,
                    struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_IDEM_GET, e);
    if (q) {
        sq__bind_text(q, 1, scope);
        sq__bind_text(q, 2, key);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            util_strlcpy(report_id, sq__col(q, 0), 40);
        else if (rc == SQLITE_DONE)
            err_set(e, ERR_NOTFOUND, "unused idempotency key");
        else
            sq__fail(c->db, rc, e, "idempotency");
        sq__done(q);
    }
    sq__conn_put(s, c);
    return e->code;
}

static json_t *due_row(sqlite3_stmt *st)
{
    const char *sub = (const char *)sqlite3_column_text(st, 4);
    return json_pack("{s:s,s:s,s:s,s:o,s:I,s:I}", "id", sq__col(st, 0), "regime",
                     sq__col(st, 1), "stage", sq__col(st, 2), "content", sq__col_json(st, 3),
                     "submitted_ts", (json_int_t)(sub ? sqlite3_column_int64(st, 4) : 0),
                     "created_ts", (json_int_t)sqlite3_column_int64(st, 5));
}

static const char SQL_BY_REGIME[] =
    "SELECT r.id, r.regime, r.stage, v.content, r.submitted_at, r.created_at FROM reports r"
    " JOIN report_revisions v ON v.report_id = r.id AND v.n = r.revision WHERE r.regime = ?1";

int sq__report_by_regime(struct store *st, const char *regime, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_BY_REGIME, e);
    if (q) {
        sq__bind_text(q, 1, regime);
        sq__collect(c, q, due_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

/* ---- writes ---- */

static const char SQL_REPORT_INSERT[] =
    "INSERT INTO reports(id, org_id, created_by, stage, revision, kind, event_type, severity,"
    " status, basis, regime, share_with_hub, title, created_at, updated_at,"
    " submitted_at, due_at, due_stage)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?15,"
    " CASE WHEN ?16 THEN ?15 ELSE NULL END, ?17, ?18)";
static const char SQL_REPORT_UPDATE[] =
    "UPDATE reports SET stage = ?4, revision = ?5, kind = ?6, event_type = ?7, severity = ?8,"
    " status = ?9, basis = ?10, regime = ?11, share_with_hub = ?12, title = ?13,"
    " updated_at = ?15,"
    " submitted_at = CASE WHEN ?16 THEN COALESCE(submitted_at, ?15) ELSE submitted_at END,"
    " due_at = ?17, due_stage = ?18 WHERE id = ?1 AND revision = ?19";
static const char SQL_RS_DEL[] = "DELETE FROM report_sectors WHERE report_id = ?1";
/* The observables of the revision being replaced, found through its content. */
static const char SQL_RO_DEL[] =
    "DELETE FROM report_observables WHERE report = (SELECT rowid FROM reports WHERE id = ?1)"
    " AND h IN (SELECT isac_obs_hash(json_extract(o.value, '$.type'),"
    "  json_extract(o.value, '$.value'))"
    "  FROM report_revisions v, json_each(v.content, '$.observables') o"
    "  WHERE v.report_id = ?1 AND v.n = ?2)";
static const char SQL_REPORT_ROWID[] = "SELECT rowid FROM reports WHERE id = ?1";
/*
 * One run of a cached statement per sector and per observable, bound from
 * the checked content. Measured on report ingest, this halves the cost of
 * these rows against one INSERT ... SELECT over json_each(), which parsed
 * each observable's text again for every json_extract() (130,000 fewer
 * instructions per report of 10 observables, 12 % of all).
 */
static const char SQL_RS_ADD[] = "INSERT INTO report_sectors(report_id, sector) VALUES(?1, ?2)";
static const char SQL_RO_ADD[] = "INSERT INTO report_observables(h, report, role) VALUES(?1, ?2, ?3)";
static const char SQL_REV_ADD[] =
    "INSERT INTO report_revisions(report_id, n, stage, user_id, at, reason, changes, content)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_IDEM_ADD[] =
    "INSERT INTO idempotency(scope, key, report_id, at) VALUES(?1, ?2, ?3, ?4)";

struct report_job {
    const json_t *report;
    const json_t *revision;
    int expected_rev;       /* 0 for a create */
    const char *idem_scope;
    const char *idem_key;
    /* Serialised on the submitting thread, so the one writer thread only binds. */
    const char *ctext;      /* the content (borrowed from content_json, or owned) */
    char *ctext_owned;
    char *changes;          /* the revision's changes */
};

static void report_job_init(struct report_job *j, const json_t *report, const json_t *revision,
                            int expected_rev, const char *scope, const char *key)
{
    j->report = report;
    j->revision = revision;
    j->expected_rev = expected_rev;
    j->idem_scope = scope;
    j->idem_key = key;
    /* A caller that serialised the content already (to answer with it) passes the text. */
    const json_t *content = json_object_get(report, "content");
    const char *given = json_string_value(json_object_get(report, "content_json"));
    j->ctext_owned = given ? NULL : jw_dump(content, NULL);
    j->ctext = given ? given : j->ctext_owned;
    j->changes = jw_dump(json_object_get(revision, "changes"), NULL);
}

static void report_job_release(struct report_job *j)
{
    free(j->ctext_owned);
    free(j->changes);
}

static int role_code(const char *role)
{
    if (role && !strcmp(role, "attacker"))
        return SQ_ROLE_ATTACKER;
    return role && !strcmp(role, "victim") ? SQ_ROLE_VICTIM : SQ_ROLE_OTHER;
}

/* The index rows of the content: its sectors and its observables (of report rowid rid). */
static int add_index_rows(struct sq_conn *c, const char *id, sqlite3_int64 rid,
                          const json_t *content, struct err *e)
{
    const json_t *v;
    size_t i;
    sqlite3_stmt *q = sq__stmt(c, SQL_RS_ADD, e);
    json_array_foreach(json_object_get(content, "sectors"), i, v)
    {
        if (q == NULL || e->code)
            break;
        sq__bind_static(q, 1, id);
        sq__bind_static(q, 2, json_string_value(v));
        sq__step_write(c, q, false, e, "report sectors");
    }
    q = e->code ? NULL : sq__stmt(c, SQL_RO_ADD, e);
    json_array_foreach(json_object_get(content, "observables"), i, v)
    {
        if (q == NULL || e->code)
            break;
        const json_t *t = json_object_get(v, "type"), *val = json_object_get(v, "value");
        if (!json_is_string(t) || !json_is_string(val)) {
            err_set(e, ERR_STORE, "report observables: no type or value");
            break;
        }
        sqlite3_bind_int64(q, 1, sq__obs_hash(json_string_value(t), json_string_length(t),
                                              json_string_value(val), json_string_length(val)));
        sqlite3_bind_int64(q, 2, rid);
        sqlite3_bind_int(q, 3, role_code(sq__jstr(v, "role")));
        sq__step_write(c, q, false, e, "report observables");
    }
    return e->code;
}

static void bind_report(sqlite3_stmt *q, const json_t *r, int64_t now)
{
    const json_t *c = json_object_get(r, "content");
    json_t *overall = json_object_get(json_object_get(c, "severity"), "overall");
    json_t *due = json_object_get(r, "due_at");
    sq__bind_static(q, 1, sq__jstr(r, "id"));
    sq__bind_static(q, 2, sq__jstr(r, "org_id"));
    sq__bind_static(q, 3, sq__jstr(r, "created_by"));
    sq__bind_static(q, 4, sq__jstr(r, "stage"));
    sqlite3_bind_int(q, 5, (int)json_integer_value(json_object_get(r, "revision")));
    sq__bind_static(q, 6, sq__jstr(c, "kind"));
    sq__bind_static(q, 7, sq__jstr(c, "event_type"));
    sqlite3_bind_int(q, 8, json_is_integer(overall) ? (int)json_integer_value(overall) : -1);
    sq__bind_static(q, 9, sq__jstr(c, "status"));
    sq__bind_static(q, 10, sq__jstr(c, "basis"));
    sq__bind_static(q, 11, sq__jstr(c, "regime"));
    sqlite3_bind_int(q, 12, json_is_true(json_object_get(c, "share_with_hub")));
    sq__bind_static(q, 13, sq__jstr(c, "title"));
    sqlite3_bind_int64(q, 15, now);
    sqlite3_bind_int(q, 16, json_is_true(json_object_get(r, "submitted")));
    if (json_is_integer(due))
        sqlite3_bind_int64(q, 17, json_integer_value(due));
    else
        sqlite3_bind_null(q, 17);
    sq__bind_static(q, 18, sq__jstr(r, "due_stage"));
}

static int report_job_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct report_job *j = arg;
    const json_t *r = j->report, *rev = j->revision;
    const char *id = sq__jstr(r, "id");
    int64_t now = util_now_ms() / 1000;
    const char *ctext = j->ctext, *changes = j->changes;
    sqlite3_stmt *q = sq__stmt(c, j->expected_rev ? SQL_REPORT_UPDATE : SQL_REPORT_INSERT, e);
    sqlite3_int64 rid = 0; /* the report's rowid: its observables' rows point at it */
    if (q) {
        bind_report(q, r, now);
        if (j->expected_rev)
            sqlite3_bind_int(q, 19, j->expected_rev);
        if (sq__step_write(c, q, true, e, "report") == ERR_NOTFOUND && j->expected_rev) {
            e->code = 0;
            err_set(e, ERR_CONFLICT, "the report was revised meanwhile; reload and try again");
        }
        if (!e->code && !j->expected_rev)
            rid = sqlite3_last_insert_rowid(c->db);
    }
    if (!e->code && j->expected_rev && (q = sq__stmt(c, SQL_REPORT_ROWID, e))) {
        sq__bind_static(q, 1, id);
        if (sqlite3_step(q) == SQLITE_ROW)
            rid = sqlite3_column_int64(q, 0);
        else
            err_set(e, ERR_STORE, "report: no rowid");
        sq__done(q);
    }
    if (!e->code && j->expected_rev) {
        const char *dels[] = {SQL_RS_DEL, SQL_RO_DEL};
        for (int i = 0; i < 2 && !e->code; i++)
            if ((q = sq__stmt(c, dels[i], e))) {
                sq__bind_static(q, 1, id);
                if (dels[i] == SQL_RO_DEL)
                    sqlite3_bind_int(q, 2, j->expected_rev);
                sq__step_write(c, q, false, e, "report index");
            }
    }
    if (!e->code)
        add_index_rows(c, id, rid, json_object_get(r, "content"), e);
    if (!e->code && (q = sq__stmt(c, SQL_REV_ADD, e))) {
        sq__bind_static(q, 1, id);
        sqlite3_bind_int(q, 2, (int)json_integer_value(json_object_get(rev, "n")));
        sq__bind_static(q, 3, sq__jstr(rev, "stage"));
        sq__bind_static(q, 4, sq__jstr(rev, "user_id"));
        sqlite3_bind_int64(q, 5, now);
        sq__bind_static(q, 6, sq__jstr(rev, "reason"));
        sq__bind_static(q, 7, changes ? changes : "[]");
        sq__bind_static(q, 8, ctext);
        sq__step_write(c, q, true, e, "report revision");
    }
    if (!e->code && j->idem_key && (q = sq__stmt(c, SQL_IDEM_ADD, e))) {
        sq__bind_static(q, 1, j->idem_scope);
        sq__bind_static(q, 2, j->idem_key);
        sq__bind_static(q, 3, id);
        sqlite3_bind_int64(q, 4, now);
        sq__step_write(c, q, true, e, "idempotency key");
    }
    return e->code;
}

int sq__report_create(struct store *st, const json_t *report, const json_t *revision,
                      const char *idem_scope, const char *idem_key, struct err *e)
{
    struct report_job j;
    report_job_init(&j, report, revision, 0, idem_scope, idem_key);
    int rc = sq__write(sq(st), report_job_run, &j, e);
    report_job_release(&j);
    return rc;
}

struct report_async {
    struct report_job job;
    store_done_fn *done;
    void *ud;
};

static void report_async_done(void *p)
{
    struct report_async *a = p;
    report_job_release(&a->job);
    a->done(a->ud);
    free(a);
}

int sq__report_create_async(struct store *st, const json_t *report, const json_t *revision,
                            const char *idem_scope, const char *idem_key, struct err *e,
                            store_done_fn *done, void *ud)
{
    struct report_async *a = xcalloc(1, sizeof(*a));
    report_job_init(&a->job, report, revision, 0, idem_scope, idem_key);
    a->done = done;
    a->ud = ud;
    if (sq__write_async(sq(st), report_job_run, &a->job, e, report_async_done, a)) {
        report_job_release(&a->job);
        free(a);
        return e->code;
    }
    return 0;
}

int sq__report_revise(struct store *st, const json_t *report, int expected_rev,
                      const json_t *revision, const char *idem_scope, const char *idem_key,
                      struct err *e)
{
    struct report_job j;
    report_job_init(&j, report, revision, expected_rev, idem_scope, idem_key);
    int rc = sq__write(sq(st), report_job_run, &j, e);
    report_job_release(&j);
    return rc;
}

static const char SQL_SET_DUE[] = "UPDATE reports SET due_at = ?2, due_stage = ?3 WHERE id = ?1";

struct due_job {
    const char *id;
    int64_t due_at;
    const char *stage;
};

static int due_job_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct due_job *j = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_SET_DUE, e);
    if (q) {
        sq__bind_text(q, 1, j->id);
        if (j->stage)
            sqlite3_bind_int64(q, 2, j->due_at);
        else
            sqlite3_bind_null(q, 2);
        sq__bind_text(q, 3, j->stage);
        sq__step_write(c, q, true, e, "report");
    }
    return e->code;
}

int sq__report_set_due(struct store *st, const char *id, int64_t due_at, const char *due_stage,
                       struct err *e)
{
    struct due_job j = {id, due_at, due_stage};
    return sq__write(sq(st), due_job_run, &j, e);
}

/* ---- regimes ---- */

static json_t *regime_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:o,s:o,s:b}", "code", sq__col(st, 0), "name", sq__name_obj(st, 1),
                     "steps", sq__col_json(st, 3), "disabled", sqlite3_column_int(st, 4));
}

static const char SQL_REGIME_LIST[] =
    "SELECT code, name_ja, name_en, steps, disabled FROM regimes WHERE (?1 OR disabled = 0)"
    " ORDER BY position, code";
static const char SQL_REGIME_GET[] =
    "SELECT code, name_ja, name_en, steps, disabled FROM regimes WHERE code = ?1";
static const char SQL_REGIME_INSERT[] =
    "INSERT INTO regimes(code, name_ja, name_en, steps, position, disabled)"
    " VALUES(?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(position), 0) + 1 FROM regimes), 0)";
static const char SQL_REGIME_UPDATE[] =
    "UPDATE regimes SET name_ja = ?2, name_en = ?3, steps = ?4, disabled = ?5 WHERE code = ?1";

int sq__regime_list(struct store *st, bool inc, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_REGIME_LIST, e);
    if (q) {
        sqlite3_bind_int(q, 1, inc);
        sq__collect(c, q, regime_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

int sq__regime_get(struct store *st, const char *code, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_REGIME_GET, e);
    if (q) {
        sq__bind_text(q, 1, code);
        sq__one(c, q, regime_row, out, e, "regime");
    }
    sq__conn_put(s, c);
    return e->code;
}

struct regime_job {
    const json_t *regime;
    const char *sql;
};

static int regime_job_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct regime_job *j = arg;
    char *steps = jw_dump(json_object_get(j->regime, "steps"), NULL);
    sqlite3_stmt *q = sq__stmt(c, j->sql, e);
    if (q) {
        sq__bind_text(q, 1, sq__jstr(j->regime, "code"));
        sq__bind_text(q, 2, sq__jstr2(j->regime, "name", "ja"));
        sq__bind_text(q, 3, sq__jstr2(j->regime, "name", "en"));
        sq__bind_text(q, 4, steps ? steps : "[]");
        if (j->sql == SQL_REGIME_UPDATE)
            sqlite3_bind_int(q, 5, json_is_true(json_object_get(j->regime, "disabled")));
        sq__step_write(c, q, true, e, "regime");
    }
    free(steps);
    return e->code;
}

int sq__regime_create(struct store *st, const json_t *regime, struct err *e)
{
    struct regime_job j = {regime, SQL_REGIME_INSERT};
    return sq__write(sq(st), regime_job_run, &j, e);
}

int sq__regime_update(struct store *st, const json_t *regime, struct err *e)
{
    struct regime_job j = {regime, SQL_REGIME_UPDATE};
    return sq__write(sq(st), regime_job_run, &j, e);
}

/* ---- near-miss counts ---- */

static const char SQL_NM_RETIRE[] =
    "UPDATE nearmiss SET current = 0 WHERE org_id = ?1 AND sector = ?2 AND month = ?3"
    " AND event_type = ?4 AND current = 1";
static const char SQL_NM_ADD[] =
    "INSERT INTO nearmiss(org_id, sector, month, event_type, count, note, user_id, at, current)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)";

struct nm_job {
    const char *org_id, *user_id, *month;
    const json_t *entries;
};

static int nm_job_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct nm_job *j = arg;
    int64_t now = util_now_ms() / 1000;
    size_t i;
    json_t *v;
    json_array_foreach(j->entries, i, v)
    {
        sqlite3_stmt *q = sq__stmt(c, SQL_NM_RETIRE, e);
        if (q == NULL)
            break;
        sq__bind_text(q, 1, j->org_id);
        sq__bind_text(q, 2, sq__jstr(v, "sector"));
        sq__bind_text(q, 3, j->month);
        sq__bind_text(q, 4, sq__jstr(v, "event_type"));
        if (sq__step_write(c, q, false, e, "near-miss count") || !(q = sq__stmt(c, SQL_NM_ADD, e)))
            break;
        sq__bind_text(q, 1, j->org_id);
        sq__bind_text(q, 2, sq__jstr(v, "sector"));
        sq__bind_text(q, 3, j->month);
        sq__bind_text(q, 4, sq__jstr(v, "event_type"));
        sqlite3_bind_int64(q, 5, json_integer_value(json_object_get(v, "count")));
        sq__bind_text(q, 6, sq__jstr(v, "note"));
        sq__bind_text(q, 7, j->user_id);
        sqlite3_bind_int64(q, 8, now);
        if (sq__step_write(c, q, true, e, "near-miss count"))
            break;
    }
    return e->code;
}

int sq__nearmiss_put(struct store *st, const char *org_id, const char *user_id,
                     const char *month, const json_t *entries, struct err *e)
{
    struct nm_job j = {org_id, user_id, month, entries};
    return sq__write(sq(st), nm_job_run, &j, e);
}

static json_t *nm_row(sqlite3_stmt *st)
{
    const char *note = (const char *)sqlite3_column_text(st, 6);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:o,s:s,s:s,s:b}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "org_id", sq__col(st, 1), "sector",
                     sq__col(st, 2), "month", sq__col(st, 3), "event_type", sq__col(st, 4),
                     "count", (json_int_t)sqlite3_column_int64(st, 5), "note",
                     note ? json_string(note) : json_null(), "submitted_by", sq__col(st, 7),
                     "submitted_at", sq__col(st, 8), "current", sqlite3_column_int(st, 9));
}

static const char SQL_NM_LIST[] =
    "SELECT id, org_id, sector, month, event_type, count, note, user_id, " TS("at") ", current"
    " FROM nearmiss WHERE (?1 IS NULL OR org_id = ?1) AND (?2 IS NULL OR month = ?2)"
    " AND (?3 OR current = 1) AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5";

int sq__nearmiss_list(struct store *st, const char *org_id, const char *month, bool history,
                      int64_t after_id, int limit, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_NM_LIST, e);
    if (q) {
        sq__bind_text(q, 1, org_id);
        sq__bind_text(q, 2, month);
        sqlite3_bind_int(q, 3, history);
        sqlite3_bind_int64(q, 4, after_id);
        sqlite3_bind_int(q, 5, limit);
        sq__collect(c, q, nm_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

static json_t *total_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:i}", "sector", sq__col(st, 0), "month", sq__col(st, 1),
                     "event_type", sq__col(st, 2), "count",
                     (json_int_t)sqlite3_column_int64(st, 3), "orgs", sqlite3_column_int(st, 4));
}

static const char SQL_NM_TOTALS[] =
    "SELECT sector, month, event_type, SUM(count), COUNT(DISTINCT org_id) FROM nearmiss"
    " WHERE current = 1 AND month >= ?1 AND month <= ?2 AND (?3 IS NULL OR sector = ?3)"
    " AND (?4 IS NULL OR event_type = ?4) GROUP BY sector, month, event_type"
    " ORDER BY month, sector, event_type";

int sq__nearmiss_totals(struct store *st, const char *from, const char *to, const char *sector,
                        const char *event_type, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_NM_TOTALS, e);
    if (q) {
        sq__bind_text(q, 1, from);
        sq__bind_text(q, 2, to);
        sq__bind_text(q, 3, sector);
        sq__bind_text(q, 4, event_type);
        sq__collect(c, q, total_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}
