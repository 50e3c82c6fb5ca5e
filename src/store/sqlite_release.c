/*
 * sqlite_release.c - releases, consent requests and settings in the SQLite
 * backend (tables of migration 4 in sqlite.c).
 *
 * A release row holds the anonymized content (JSON) and the columns that
 * lists filter on. Who a published release reaches is the set of its
 * release_targets keys, written when it is published and rewritten when
 * its audience changes; superseded and withdrawn versions have none. A
 * reader's inbox is the newest entries of its own few keys (its org, its
 * sectors, its tier, "all", ...): one index range per key, merged, so the
 * cost does not grow with the number of releases it cannot see.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/jw.h"
#include "base/util.h"
#include "sqlite_int.h"

/* ---- rows ---- */

#define OPT_TS(col) "CASE WHEN " col " IS NULL THEN NULL ELSE " TS(col) " END"

#define RELEASE_COLS                                                                              \
    "r.id, r.report_id, r.org_id, r.version, r.state, r.report_revision, r.content,"              \
    " r.redactions, r.audience, r.tlp, r.purpose, r.handling, " TS("r.created_at") ","           \
    " r.created_by, " TS("r.updated_at") ", " OPT_TS("r.submitted_at") ", r.submitted_by, "      \
    OPT_TS("r.decided_at") ", r.decided_by, r.decision_note, " OPT_TS("r.published_at") ","      \
    " r.published_by, r.pub_seq, " OPT_TS("r.withdrawn_at") ", r.withdrawn_by,"                  \
    " r.withdrawn_reason"

static json_t *release_row(sqlite3_stmt *st)
{
    static const struct {
        const char *name;
        int col;
    } texts[] = {{"purpose", 10},      {"handling", 11},      {"submitted_at", 15},
                 {"submitted_by", 16}, {"decided_at", 17},    {"decided_by", 18},
                 {"decision_note", 19}, {"published_at", 20}, {"published_by", 21},
                 {"withdrawn_at", 23}, {"withdrawn_by", 24},  {"withdrawn_reason", 25}};
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(sq__col(st, 0)));
    json_object_set_new(r, "report_id", json_string(sq__col(st, 1)));
    json_object_set_new(r, "org_id", json_string(sq__col(st, 2)));
    json_object_set_new(r, "version", json_integer(sqlite3_column_int(st, 3)));
    json_object_set_new(r, "state", json_string(sq__col(st, 4)));
    json_object_set_new(r, "report_revision", json_integer(sqlite3_column_int(st, 5)));
    json_object_set_new(r, "content", sq__col_json(st, 6));
    json_object_set_new(r, "redactions", sq__col_json(st, 7));
    json_object_set_new(r, "audience", sq__col_json(st, 8));
    json_object_set_new(r, "tlp", json_string(sq__col(st, 9)));
    json_object_set_new(r, "created_at", json_string(sq__col(st, 12)));
    json_object_set_new(r, "created_by", json_string(sq__col(st, 13)));
    json_object_set_new(r, "updated_at", json_string(sq__col(st, 14)));
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        json_object_set_new(r, texts[i].name, sq__col_opt(st, texts[i].col));
    json_object_set_new(r, "pub_seq", sq__col_opt_int(st, 22));
    return r;
}

/* ---- visibility ---- */

/* Parameters ?20-?23 (sq__bind_access()): none, all, provider org, keys (JSON array text). */
#define RELEASE_ACCESS                                                                            \
    " ?20 = 0 AND (?21 OR (r.org_id = ?22 AND r.state != 'draft')"                                \
    " OR (r.state = 'published' AND EXISTS (SELECT 1 FROM release_targets t"                      \
    "     WHERE t.seq = r.pub_seq AND t.key IN (SELECT value FROM json_each(?23)))))"

/* Filters ?3-?11 on r; see struct store_release_filter. ?8/?9 on the time in ?12. */
#define RELEASE_FILTER(timecol)                                                                   \
    " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM release_sectors rs WHERE rs.release_id = r.id"     \
    "     AND rs.sector = ?3))"                                                                   \
    " AND (?4 IS NULL OR r.event_type = ?4) AND (?5 IS NULL OR r.tlp = ?5)"                       \
    " AND (?6 IS NULL OR instr(lower(r.title), lower(?6)) > 0)"                                   \
    " AND (?7 < 0 OR r.severity >= ?7)"                                                           \
    " AND (?8 = 0 OR " timecol " >= ?8) AND (?9 = 0 OR " timecol " < ?9)"                          \
    " AND (?10 IS NULL OR r.org_id = ?10) AND (?11 IS NULL OR r.report_id = ?11)"

static void bind_release_filter(sqlite3_stmt *q, const struct store_release_filter *f)
{
    sq__bind_text(q, 3, f->sector);
    sq__bind_text(q, 4, f->event_type);
    sq__bind_text(q, 5, f->tlp);
    sq__bind_text(q, 6, f->q);
    sqlite3_bind_int(q, 7, f->min_severity);
    sqlite3_bind_int64(q, 8, f->since);
    sqlite3_bind_int64(q, 9, f->until);
    sq__bind_text(q, 10, f->org_id);
    sq__bind_text(q, 11, f->report_id);
}

/* ---- reads ---- */

static const char SQL_RELEASE_GET[] =
    "SELECT " RELEASE_COLS ", r.release_key FROM releases r WHERE r.id = ?1 AND" RELEASE_ACCESS;

int sq__release_get(struct store *st, const struct store_release_access *acc, const char *id,
                    json_t **out, uint8_t *key, size_t keylen, struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    char *keys = sq__keys_json(acc);
    if (!keys)
        return err_set(e, ERR_NOMEM, "release access");
    struct sq_conn *c;
    if (sq__conn_get(s, &c, e)) {
        free(keys);
        return e->code;
    }
    sqlite3_stmt *q = sq__stmt(c, SQL_RELEASE_GET, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sq__bind_access(q, acc, keys);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *out = release_row(q);
            if (key) {
                int n = sqlite3_column_bytes(q, 26);
                const void *b = sqlite3_column_blob(q, 26);
                memset(key, 0, keylen);
                if (b && (size_t)n == keylen)
                    memcpy(key, b, keylen);
                else
                    err_set(e, ERR_STORE, "release key of %s is damaged", id);
            }
        } else if (rc == SQLITE_DONE) {
            err_set(e, ERR_NOTFOUND, "release not found");
        } else {
            sq__fail(c->db, rc, e, "release");
        }
        sq__done(q);
    }
    sq__conn_put(s, c);
    free(keys);
    if (e->code && *out) {
        json_decref(*out);
        *out = NULL;
    }
    return e->code;
}

/*
 * The inbox of a reader with n keys: per key, the newest entries below the
 * cursor (an index range on release_targets(key, seq), stopping at the
 * limit), merged and cut again. Targets exist only for published releases,
 * so without filters an arm never touches the releases table; with
 * filters it joins each entry to its release until the limit is met.
 * Statements come in a few sizes of key slots (unused slots bound to NULL
 * match nothing), so each connection caches at most a dozen of them.
 */
#define INBOX_ARM                                                                                 \
    "SELECT seq FROM (SELECT t.seq FROM release_targets t"                                        \
    " WHERE t.key = ?%d AND t.seq < ?1 ORDER BY t.seq DESC LIMIT ?2)"
#define INBOX_ARM_FILTERED                                                                        \
    "SELECT seq FROM (SELECT t.seq FROM release_targets t JOIN releases r ON r.pub_seq = t.seq"  \
    " WHERE t.key = ?%d AND t.seq < ?1 AND r.state = 'published'"                                 \
    RELEASE_FILTER("r.published_at") " ORDER BY t.seq DESC LIMIT ?2)"

static const int inbox_slots[] = {4, 8, 16, 32, 64, STORE_RELEASE_KEYS_MAX};
#define NSLOTS ((int)(sizeof(inbox_slots) / sizeof(inbox_slots[0])))
static char *inbox_sql[2][NSLOTS];
static pthread_mutex_t inbox_mu = PTHREAD_MUTEX_INITIALIZER;

/* The statement text for slot size index k (NULL on ENOMEM), built on first use and kept. */
static const char *inbox_sql_get(int k, bool filtered)
{
    pthread_mutex_lock(&inbox_mu);
    if (!inbox_sql[filtered][k]) {
        struct buf b;
        buf_init(&b, 1 << 20);
        static const char head[] = "SELECT " RELEASE_COLS " FROM releases r WHERE r.pub_seq IN (";
        static const char tail[] = ") ORDER BY r.pub_seq DESC LIMIT ?2";
        int rc = buf_append(&b, head, sizeof(head) - 1);
        for (int i = 0; i < inbox_slots[k] && !rc; i++)
            rc = filtered ? buf_appendf(&b, "%s" INBOX_ARM_FILTERED, i ? " UNION " : "", 30 + i)
                          : buf_appendf(&b, "%s" INBOX_ARM, i ? " UNION " : "", 30 + i);
        if (!rc)
            rc = buf_append(&b, tail, sizeof(tail) - 1);
        inbox_sql[filtered][k] = rc ? NULL : buf_take(&b, NULL);
        buf_release(&b);
    }
    const char *sql = inbox_sql[filtered][k];
    pthread_mutex_unlock(&inbox_mu);
    return sql;
}

static bool filtering(const struct store_release_filter *f)
{
    return f->sector || f->event_type || f->tlp || f->q || f->min_severity >= 0 || f->since ||
           f->until || f->org_id || f->report_id;
}

static const char SQL_INBOX_ALL[] =
    "SELECT " RELEASE_COLS " FROM releases r WHERE r.state = 'published'"
    " AND r.pub_seq < ?1" RELEASE_FILTER("r.published_at")
    " AND r.pub_seq IS NOT NULL ORDER BY r.pub_seq DESC LIMIT ?2";

static const char SQL_QUEUE[] =
    "SELECT " RELEASE_COLS " FROM releases r WHERE (?13 = 'any' OR r.state = ?13)"
    " AND (?14 IS NULL OR r.id < ?14)" RELEASE_FILTER("r.created_at")
    " AND ?20 = 0 AND (?21 OR (r.org_id = ?22 AND r.state != 'draft'))"
    " ORDER BY r.id DESC LIMIT ?2";

int sq__release_list(struct store *st, const struct store_release_access *acc,
                     const struct store_release_filter *f, int64_t after_seq,
                     const char *after_id, int limit, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    const char *sql;
    bool inbox = f->state == NULL;
    int slot = 0;
    if (!inbox) {
        sql = SQL_QUEUE;
    } else if (acc->none || (!acc->all && acc->nkeys == 0)) {
        *out = json_array();
        return 0;
    } else if (acc->all) {
        sql = SQL_INBOX_ALL;
    } else {
        if (acc->nkeys > STORE_RELEASE_KEYS_MAX)
            return err_set(e, ERR_INTERNAL, "too many release keys");
        while (inbox_slots[slot] < acc->nkeys)
            slot++;
        sql = inbox_sql_get(slot, filtering(f));
        if (!sql)
            return err_set(e, ERR_NOMEM, "inbox query");
    }
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (q) {
        /* the first page starts below every seq, so the index range has an upper bound */
        sqlite3_bind_int64(q, 1, after_seq > 0 ? after_seq : INT64_MAX);
        sqlite3_bind_int(q, 2, limit);
        bind_release_filter(q, f); /* unfiltered arms leave ?3-?11 unused: harmless */
        if (!inbox) {
            sq__bind_text(q, 13, f->state);
            sq__bind_text(q, 14, after_id);
            sq__bind_access(q, acc, NULL);
        } else if (!acc->all) {
            for (int i = 0; i < acc->nkeys; i++)
                sq__bind_text(q, 30 + i, acc->keys[i]);
            for (int i = acc->nkeys; i < inbox_slots[slot]; i++)
                sqlite3_bind_null(q, 30 + i); /* key = NULL: an empty range */
        }
        sq__collect(c, q, release_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

/* ---- writes ---- */

static const char SQL_OPEN_VERSION[] =
    "SELECT 1 FROM releases WHERE report_id = ?1 AND state IN ('draft', 'pending', 'approved')";
static const char SQL_RELEASE_INSERT[] =
    "INSERT INTO releases(id, report_id, org_id, version, state, report_revision, release_key,"
    " content, redactions, audience, tlp, purpose, handling, kind, event_type, severity, title,"
    " created_at, created_by, updated_at)"
    " VALUES(?1, ?2, ?3, (SELECT COALESCE(MAX(version), 0) + 1 FROM releases"
    " WHERE report_id = ?2), 'draft', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
    " ?17, ?16)";
static const char SQL_RSEC_DEL[] = "DELETE FROM release_sectors WHERE release_id = ?1";
static const char SQL_RSEC_ADD[] =
    "INSERT OR IGNORE INTO release_sectors(release_id, sector) VALUES(?1, ?2)";

/* JSON text of member k of o ("null" when absent); caller frees. */
static char *dump_member(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return v ? jw_dump(v, NULL) : strdup("null");
}

static void bind_json(sqlite3_stmt *q, int i, const char *text)
{
    sqlite3_bind_text(q, i, text ? text : "null", -1, SQLITE_TRANSIENT);
}

/* The filter columns, from the content: kind, event type, overall severity, title. */
static void bind_content_cols(sqlite3_stmt *q, int first, const json_t *content)
{
    json_t *ov = json_object_get(json_object_get(content, "severity"), "overall");
    sq__bind_text(q, first, sq__jstr(content, "kind"));
    sq__bind_text(q, first + 1, sq__jstr(content, "event_type"));
    sqlite3_bind_int(q, first + 2, json_is_integer(ov) ? (int)json_integer_value(ov) : -1);
    sq__bind_text(q, first + 3, sq__jstr(content, "title"));
}

static int release_sectors_put(struct sq_conn *c, const char *id, const json_t *content,
                               struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, SQL_RSEC_DEL, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, id);
    if (sq__step_write(c, q, false, e, "release sectors"))
        return e->code;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(content, "sectors"), i, v)
    {
        if (!(q = sq__stmt(c, SQL_RSEC_ADD, e)))
            return e->code;
        sq__bind_text(q, 1, id);
        sq__bind_text(q, 2, json_string_value(v));
        if (sq__step_write(c, q, false, e, "release sectors"))
            return e->code;
    }
    return 0;
}

struct release_create_args {
    const json_t *rel;
    const uint8_t *key;
    size_t keylen;
};

static int release_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct release_create_args *a = arg;
    const json_t *r = a->rel, *content = json_object_get(r, "content");
    sqlite3_stmt *q = sq__stmt(c, SQL_OPEN_VERSION, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, sq__jstr(r, "report_id"));
    int rc = sqlite3_step(q);
    sq__done(q);
    if (rc == SQLITE_ROW)
        return err_set(e, ERR_CONFLICT, "the report already has a release in preparation");
    if (rc != SQLITE_DONE)
        return sq__fail(c->db, rc, e, "release");
    if (!(q = sq__stmt(c, SQL_RELEASE_INSERT, e)))
        return e->code;
    char *ctext = dump_member(r, "content"), *red = dump_member(r, "redactions"),
         *aud = dump_member(r, "audience");
    sq__bind_text(q, 1, sq__jstr(r, "id"));
    sq__bind_text(q, 2, sq__jstr(r, "report_id"));
    sq__bind_text(q, 3, sq__jstr(r, "org_id"));
    sqlite3_bind_int(q, 4, (int)json_integer_value(json_object_get(r, "report_revision")));
    sqlite3_bind_blob(q, 5, a->key, (int)a->keylen, SQLITE_STATIC);
    bind_json(q, 6, ctext);
    bind_json(q, 7, red);
    bind_json(q, 8, aud);
    sq__bind_text(q, 9, sq__jstr(r, "tlp"));
    sq__bind_text(q, 10, json_string_value(json_object_get(r, "purpose")));
    sq__bind_text(q, 11, json_string_value(json_object_get(r, "handling")));
    bind_content_cols(q, 12, content);
    sqlite3_bind_int64(q, 16, util_now_ms() / 1000);
    sq__bind_text(q, 17, sq__jstr(r, "created_by"));
    sq__step_write(c, q, true, e, "release");
    free(ctext);
    free(red);
    free(aud);
    if (!e->code)
        release_sectors_put(c, sq__jstr(r, "id"), content, e);
    return e->code;
}

int sq__release_create(struct store *st, const json_t *release, const uint8_t *key,
                       size_t keylen, struct err *e)
{
    struct release_create_args a = {release, key, keylen};
    return sq__write(sq(st), release_create_run, &a, e);
}

/*
 * One statement moves a release between states and stamps who and when by
 * the transition (?2 new state, ?14 the state it must still be in, ?15 the
 * actor, ?16 the note or reason); a same-state update touches no stamp.
 */
static const char SQL_RELEASE_UPDATE[] =
    "UPDATE releases SET state = ?2, content = ?3, redactions = ?4, audience = ?5, tlp = ?6,"
    " purpose = ?7, handling = ?8, kind = ?9, event_type = ?10, severity = ?11, title = ?12,"
    " updated_at = ?13,"
    " submitted_at = CASE WHEN ?2 != ?14 AND ?14 = 'draft' THEN ?13 ELSE submitted_at END,"
    " submitted_by = CASE WHEN ?2 != ?14 AND ?14 = 'draft' THEN ?15 ELSE submitted_by END,"
    " decided_at = CASE WHEN ?2 != ?14 AND ?2 IN ('approved', 'refused') THEN ?13"
    "  WHEN ?2 != ?14 AND ?2 = 'pending' THEN NULL ELSE decided_at END,"
    " decided_by = CASE WHEN ?2 != ?14 AND ?14 = 'pending' THEN ?15"
    "  WHEN ?2 != ?14 AND ?2 IN ('pending', 'approved') THEN NULL ELSE decided_by END,"
    " decision_note = CASE WHEN ?2 != ?14 AND ?2 IN ('pending', 'approved', 'refused') THEN ?16"
    "  ELSE decision_note END,"
    " published_at = CASE WHEN ?2 != ?14 AND ?2 = 'published' THEN ?13 ELSE published_at END,"
    " published_by = CASE WHEN ?2 != ?14 AND ?2 = 'published' THEN ?15 ELSE published_by END,"
    " pub_seq = CASE WHEN ?2 != ?14 AND ?2 = 'published'"
    "  THEN (SELECT COALESCE(MAX(pub_seq), 0) + 1 FROM releases) ELSE pub_seq END,"
    " withdrawn_at = CASE WHEN ?2 != ?14 AND ?2 = 'withdrawn' THEN ?13 ELSE withdrawn_at END,"
    " withdrawn_by = CASE WHEN ?2 != ?14 AND ?2 = 'withdrawn' THEN ?15 ELSE withdrawn_by END,"
    " withdrawn_reason = CASE WHEN ?2 != ?14 AND ?2 = 'withdrawn' THEN ?16"
    "  ELSE withdrawn_reason END"
    " WHERE id = ?1 AND state = ?14";
/* The report's other published version gives way to this one. */
static const char SQL_SUPERSEDE_TARGETS[] =
    "DELETE FROM release_targets WHERE seq IN (SELECT pub_seq FROM releases"
    " WHERE report_id = (SELECT report_id FROM releases WHERE id = ?1)"
    " AND state = 'published' AND id != ?1)";
static const char SQL_SUPERSEDE[] =
    "UPDATE releases SET state = 'superseded', updated_at = ?2"
    " WHERE report_id = (SELECT report_id FROM releases WHERE id = ?1)"
    " AND state = 'published' AND id != ?1";
static const char SQL_TARGETS_DEL[] =
    "DELETE FROM release_targets WHERE seq = (SELECT pub_seq FROM releases WHERE id = ?1)";
static const char SQL_TARGET_ADD[] =
    "INSERT OR IGNORE INTO release_targets(key, seq)"
    " SELECT ?2, pub_seq FROM releases WHERE id = ?1 AND state = 'published'";

static int run_id_stmt(struct sq_conn *c, const char *sql, const char *id, int64_t now,
                       struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, sql, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, id);
    if (sqlite3_bind_parameter_count(q) >= 2)
        sqlite3_bind_int64(q, 2, now);
    return sq__step_write(c, q, false, e, "release");
}

static bool is_open(const char *state)
{
    return !strcmp(state, "draft") || !strcmp(state, "pending") || !strcmp(state, "approved");
}

static const char SQL_OTHER_OPEN[] =
    "SELECT 1 FROM releases WHERE report_id = (SELECT report_id FROM releases WHERE id = ?1)"
    " AND id != ?1 AND state IN ('draft', 'pending', 'approved')";

/* Reopening a refused version while a newer one is open would let the older supersede it. */
static int check_one_open(struct sq_conn *c, const char *id, struct err *e)
{
    sqlite3_stmt *q = sq__stmt(c, SQL_OTHER_OPEN, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, id);
    int rc = sqlite3_step(q);
    sq__done(q);
    if (rc == SQLITE_ROW)
        return err_set(e, ERR_CONFLICT, "another version of this release is in preparation");
    return rc == SQLITE_DONE ? 0 : sq__fail(c->db, rc, e, "release");
}

static int release_update_in(struct sq_conn *c, const json_t *r, const char *from,
                             const json_t *targets, struct err *e)
{
    const char *id = sq__jstr(r, "id"), *to = sq__jstr(r, "state");
    if (!is_open(from) && is_open(to) && check_one_open(c, id, e))
        return e->code;
    const json_t *content = json_object_get(r, "content");
    int64_t now = util_now_ms() / 1000;
    sqlite3_stmt *q = sq__stmt(c, SQL_RELEASE_UPDATE, e);
    if (!q)
        return e->code;
    char *ctext = dump_member(r, "content"), *red = dump_member(r, "redactions"),
         *aud = dump_member(r, "audience");
    sq__bind_text(q, 1, id);
    sq__bind_text(q, 2, to);
    bind_json(q, 3, ctext);
    bind_json(q, 4, red);
    bind_json(q, 5, aud);
    sq__bind_text(q, 6, sq__jstr(r, "tlp"));
    sq__bind_text(q, 7, json_string_value(json_object_get(r, "purpose")));
    sq__bind_text(q, 8, json_string_value(json_object_get(r, "handling")));
    bind_content_cols(q, 9, content);
    sqlite3_bind_int64(q, 13, now);
    sq__bind_text(q, 14, from);
    sq__bind_text(q, 15, json_string_value(json_object_get(r, "actor")));
    sq__bind_text(q, 16, json_string_value(json_object_get(r, "note")));
    if (sq__step_write(c, q, true, e, "release") == ERR_NOTFOUND) {
        e->code = 0;
        err_set(e, ERR_CONFLICT, "the release is no longer %s; reload it", from);
    }
    free(ctext);
    free(red);
    free(aud);
    if (e->code || release_sectors_put(c, id, content, e))
        return e->code;
    bool publishing = strcmp(from, "published") && !strcmp(to, "published");
    if (publishing && (run_id_stmt(c, SQL_SUPERSEDE_TARGETS, id, now, e) ||
                       run_id_stmt(c, SQL_SUPERSEDE, id, now, e)))
        return e->code;
    bool leaving = !strcmp(from, "published") && strcmp(to, "published");
    if ((leaving || (targets && !strcmp(to, "published"))) &&
        run_id_stmt(c, SQL_TARGETS_DEL, id, now, e))
        return e->code;
    if (!targets || strcmp(to, "published"))
        return 0;
    size_t i;
    json_t *k;
    json_array_foreach(targets, i, k)
    {
        if (!(q = sq__stmt(c, SQL_TARGET_ADD, e)))
            return e->code;
        sq__bind_text(q, 1, id);
        sq__bind_text(q, 2, json_string_value(k));
        if (sq__step_write(c, q, false, e, "release target"))
            return e->code;
    }
    return 0;
}

struct release_update_args {
    const json_t *rel;
    const char *from;
    const json_t *targets;
};

static int release_update_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct release_update_args *a = arg;
    return release_update_in(c, a->rel, a->from, a->targets, e);
}

int sq__release_update(struct store *st, const json_t *release, const char *from_state,
                       const json_t *targets, struct err *e)
{
    struct release_update_args a = {release, from_state, targets};
    return sq__write(sq(st), release_update_run, &a, e);
}

/* ---- consent requests ---- */

#define AUDREQ_COLS                                                                               \
    "id, release_id, org_id, audience, tlp, reason, state, requested_by, "                        \
    TS("requested_at") ", decided_by, " OPT_TS("decided_at") ", decision_note"

static json_t *audreq_row(sqlite3_stmt *st)
{
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(sq__col(st, 0)));
    json_object_set_new(r, "release_id", json_string(sq__col(st, 1)));
    json_object_set_new(r, "org_id", json_string(sq__col(st, 2)));
    json_object_set_new(r, "audience", sq__col_json(st, 3));
    json_object_set_new(r, "tlp", json_string(sq__col(st, 4)));
    json_object_set_new(r, "reason", json_string(sq__col(st, 5)));
    json_object_set_new(r, "state", json_string(sq__col(st, 6)));
    json_object_set_new(r, "requested_by", json_string(sq__col(st, 7)));
    json_object_set_new(r, "requested_at", json_string(sq__col(st, 8)));
    json_object_set_new(r, "decided_by", sq__col_opt(st, 9));
    json_object_set_new(r, "decided_at", sq__col_opt(st, 10));
    json_object_set_new(r, "decision_note", sq__col_opt(st, 11));
    return r;
}

static const char SQL_AUDREQ_INSERT[] =
    "INSERT INTO audience_requests(id, release_id, org_id, audience, tlp, reason, state,"
    " requested_by, requested_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8)";
static const char SQL_AUDREQ_GET[] = "SELECT " AUDREQ_COLS " FROM audience_requests WHERE id = ?1";
static const char SQL_AUDREQ_LIST[] =
    "SELECT " AUDREQ_COLS " FROM audience_requests WHERE (?1 IS NULL OR release_id = ?1)"
    " AND (?2 IS NULL OR org_id = ?2) AND (?3 IS NULL OR state = ?3) ORDER BY id DESC LIMIT 1000";
static const char SQL_AUDREQ_DECIDE[] =
    "UPDATE audience_requests SET state = ?2, decided_by = ?3, decided_at = ?4,"
    " decision_note = ?5 WHERE id = ?1 AND state = 'pending'";

static int audreq_create_run(struct sq_conn *c, void *arg, struct err *e)
{
    const json_t *r = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDREQ_INSERT, e);
    if (!q)
        return e->code;
    char *aud = dump_member(r, "audience");
    sq__bind_text(q, 1, sq__jstr(r, "id"));
    sq__bind_text(q, 2, sq__jstr(r, "release_id"));
    sq__bind_text(q, 3, sq__jstr(r, "org_id"));
    bind_json(q, 4, aud);
    sq__bind_text(q, 5, sq__jstr(r, "tlp"));
    sq__bind_text(q, 6, sq__jstr(r, "reason"));
    sq__bind_text(q, 7, sq__jstr(r, "requested_by"));
    sqlite3_bind_int64(q, 8, util_now_ms() / 1000);
    sq__step_write(c, q, true, e, "audience request");
    free(aud);
    return e->code;
}

int sq__audreq_create(struct store *st, const json_t *req, struct err *e)
{
    return sq__write(sq(st), audreq_create_run, (void *)req, e);
}

int sq__audreq_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDREQ_GET, e);
    if (q) {
        sq__bind_text(q, 1, id);
        sq__one(c, q, audreq_row, out, e, "audience request");
    }
    sq__conn_put(s, c);
    return e->code;
}

int sq__audreq_list(struct store *st, const char *release_id, const char *org_id,
                    const char *state, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDREQ_LIST, e);
    if (q) {
        sq__bind_text(q, 1, release_id);
        sq__bind_text(q, 2, org_id);
        sq__bind_text(q, 3, state);
        sq__collect(c, q, audreq_row, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

struct audreq_decide_args {
    const json_t *req, *rel, *targets;
};

static int audreq_decide_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct audreq_decide_args *a = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDREQ_DECIDE, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, sq__jstr(a->req, "id"));
    sq__bind_text(q, 2, sq__jstr(a->req, "state"));
    sq__bind_text(q, 3, sq__jstr(a->req, "decided_by"));
    sqlite3_bind_int64(q, 4, util_now_ms() / 1000);
    sq__bind_text(q, 5, json_string_value(json_object_get(a->req, "decision_note")));
    if (sq__step_write(c, q, true, e, "audience request") == ERR_NOTFOUND) {
        e->code = 0;
        return err_set(e, ERR_CONFLICT, "the request was decided meanwhile");
    }
    if (e->code || !a->rel)
        return e->code;
    return release_update_in(c, a->rel, sq__jstr(a->rel, "state"), a->targets, e);
}

int sq__audreq_decide(struct store *st, const json_t *req, const json_t *release,
                      const json_t *targets, struct err *e)
{
    struct audreq_decide_args a = {req, release, targets};
    return sq__write(sq(st), audreq_decide_run, &a, e);
}

/* ---- settings ---- */

static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE key = ?1";
static const char SQL_SETTING_PUT[] =
    "INSERT INTO settings(key, value, updated_at, updated_by) VALUES(?1, ?2, ?3, ?4)"
    " ON CONFLICT(key) DO UPDATE SET value = ?2, updated_at = ?3, updated_by = ?4";

static json_t *setting_row(sqlite3_stmt *st)
{
    const char *v = (const char *)sqlite3_column_text(st, 0);
    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

int sq__setting_get(struct store *st, const char *key, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    *out = NULL;
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_SETTING_GET, e);
    if (q) {
        sq__bind_text(q, 1, key);
        if (sq__one(c, q, setting_row, out, e, "setting") == ERR_NOTFOUND)
            err_init(e); /* never set: *out stays NULL */
        else if (!e->code && !*out)
            err_set(e, ERR_STORE, "setting %s is damaged", key);
    }
    sq__conn_put(s, c);
    return e->code;
}

struct setting_put_args {
    const char *key, *user;
    char *text;
};

static int setting_put_run(struct sq_conn *c, void *arg, struct err *e)
{
    const struct setting_put_args *a = arg;
    sqlite3_stmt *q = sq__stmt(c, SQL_SETTING_PUT, e);
    if (!q)
        return e->code;
    sq__bind_text(q, 1, a->key);
    sq__bind_text(q, 2, a->text);
    sqlite3_bind_int64(q, 3, util_now_ms() / 1000);
    sq__bind_text(q, 4, a->user);
    return sq__step_write(c, q, true, e, "setting");
}

int sq__setting_put(struct store *st, const char *key, const json_t *value, const char *user_id,
                    struct err *e)
{
    struct setting_put_args a = {key, user_id, jw_dump(value, NULL)};
    if (!a.text)
        return err_set(e, ERR_NOMEM, "setting");
    int rc = sq__write(sq(st), setting_put_run, &a, e);
    free(a.text);
    return rc;
}

/* ---- what the anonymizer needs of the world ---- */

static const char SQL_MEMBER_COUNTS[] =
    "SELECT os.sector, o.kind, COUNT(*) FROM org_sectors os JOIN orgs o ON o.id = os.org_id"
    " WHERE o.disabled = 0 GROUP BY os.sector, o.kind";

int sq__sector_member_counts(struct store *st, json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_MEMBER_COUNTS, e);
    json_t *o = json_object();
    int rc;
    while (q && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *sector = sq__col(q, 0);
        json_t *k = json_object_get(o, sector);
        if (!k)
            json_object_set_new(o, sector, k = json_object());
        json_object_set_new(k, sq__col(q, 1), json_integer(sqlite3_column_int(q, 2)));
    }
    if (q) {
        if (rc != SQLITE_DONE)
            sq__fail(c->db, rc, e, "member counts");
        sq__done(q);
    }
    sq__conn_put(s, c);
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}
