/*
 * sqlite_audit.c - the audit log of the SQLite backend (migration 3).
 *
 * Chain: hash(n) = BLAKE2b-256 keyed with DIR/audit.key over
 *   hash(n-1) | seq | at | actor_user | actor_login | actor_org | remote |
 *   action | object_kind | object_id | outcome | detail
 * with every field length-prefixed (so field boundaries cannot shift) and
 * hash(0) = 32 zero bytes. Entries are numbered 1, 2, 3 ... without gaps;
 * meta.audit_head holds "seq:hexhash" of the last one, written in the same
 * transaction. The key lives beside the database (mode 0600): whoever can
 * rewrite the database without the key cannot forge a consistent chain,
 * and the hashes also go to the JSON log on stderr for an outside copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/log.h"
#include "base/util.h"
#include "sqlite_int.h"

int sq__audit_key_load(struct sq_store *s, const char *dir, bool create, struct err *e)
{
    (void)create; /* a store without a key gets one: its chain starts keyed from entry 1 */
    char path[1200];
    snprintf(path, sizeof(path), "%s/audit.key", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, s->audit_key, sizeof(s->audit_key));
        close(fd);
        if (n != (ssize_t)sizeof(s->audit_key))
            return err_set(e, ERR_STORE, "'%s' is damaged: the audit log cannot be kept", path);
        return 0;
    }
    if (errno != ENOENT)
        return err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    randombytes_buf(s->audit_key, sizeof(s->audit_key));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return sq__audit_key_load(s, dir, false, e); /* another process made it first */
    if (fd < 0 || write(fd, s->audit_key, sizeof(s->audit_key)) != (ssize_t)sizeof(s->audit_key) ||
        fsync(fd) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return err_set(e, ERR_IO, "cannot write '%s': %s", path, strerror(saved));
    }
    close(fd);
    return 0;
}

/* ---- hashing ---- */

static void absorb(crypto_generichash_state *h, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0xffffffffu; /* NULL differs from "" */
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    crypto_generichash_update(h, len, sizeof(len));
    if (s)
        crypto_generichash_update(h, (const unsigned char *)s, strlen(s));
}

struct audit_row {
    int64_t seq, at;
    const char *actor_user, *actor_login, *actor_org, *remote, *action, *object_kind,
        *object_id, *outcome, *detail;
};

static void audit_hash(const unsigned char *key, const unsigned char prev[32],
                       const struct audit_row *r, unsigned char out[32])
{
    crypto_generichash_state h;
    char num[32];
    crypto_generichash_init(&h, key, 32, 32);
    crypto_generichash_update(&h, prev, 32);
    snprintf(num, sizeof(num), "%lld", (long long)r->seq);
    absorb(&h, num);
    snprintf(num, sizeof(num), "%lld", (long long)r->at);
    absorb(&h, num);
    const char *fields[] = {r->actor_user, r->actor_login, r->actor_org, r->remote, r->action,
                            r->object_kind, r->object_id, r->outcome, r->detail};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        absorb(&h, fields[i]);
    crypto_generichash_final(&h, out, 32);
}

/* ---- append ---- */

static const char SQL_AUDIT_LAST[] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
static const char SQL_AUDIT_ADD[] =
    "INSERT INTO audit(seq, at, actor_user, actor_login, actor_org, remote, action, object_kind,"
    " object_id, outcome, detail, prev_hash, hash)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char SQL_AUDIT_HEAD[] =
    "INSERT OR REPLACE INTO meta(key, value) VALUES('audit_head', ?1)";

struct audit_job {
    const struct store_audit_entry *a;
    char *detail;
    const unsigned char *key;
    int64_t seq;
    char hex[65];
};

static int audit_job_run(struct sq_conn *c, void *arg, struct err *e)
{
    struct audit_job *j = arg;
    unsigned char prev[32] = {0}, hash[32];
    int64_t last = 0;
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDIT_LAST, e);
    if (q == NULL)
        return e->code;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        last = sqlite3_column_int64(q, 0);
        if (sqlite3_column_bytes(q, 1) == 32)
            memcpy(prev, sqlite3_column_blob(q, 1), 32);
    }
    sq__done(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sq__fail(c->db, rc, e, "audit");
    const struct store_audit_entry *a = j->a;
    struct audit_row r = {last + 1,      util_now_ms() / 1000, a->actor_user, a->actor_login,
                          a->actor_org,  a->remote,            a->action,     a->object_kind,
                          a->object_id,  a->outcome,           j->detail};
    audit_hash(j->key, prev, &r, hash);
    if (!(q = sq__stmt(c, SQL_AUDIT_ADD, e)))
        return e->code;
    sqlite3_bind_int64(q, 1, r.seq);
    sqlite3_bind_int64(q, 2, r.at);
    const char *texts[] = {r.actor_user, r.actor_login, r.actor_org, r.remote, r.action,
                           r.object_kind, r.object_id, r.outcome, r.detail};
    for (int i = 0; i < 9; i++)
        sq__bind_text(q, 3 + i, texts[i]);
    sqlite3_bind_blob(q, 12, prev, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(q, 13, hash, 32, SQLITE_TRANSIENT);
    if (sq__step_write(c, q, true, e, "audit"))
        return e->code;
    sodium_bin2hex(j->hex, sizeof(j->hex), hash, 32);
    char head[96];
    snprintf(head, sizeof(head), "%lld:%s", (long long)r.seq, j->hex);
    if (!(q = sq__stmt(c, SQL_AUDIT_HEAD, e)))
        return e->code;
    sq__bind_text(q, 1, head);
    if (sq__step_write(c, q, true, e, "audit head"))
        return e->code;
    j->seq = r.seq;
    return 0;
}

int sq__audit_append(struct store *st, const struct store_audit_entry *a, int64_t *seq,
                     struct err *e)
{
    struct sq_store *s = sq(st);
    struct audit_job j = {.a = a, .key = s->audit_key};
    j.detail = a->detail ? json_dumps(a->detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (j.detail == NULL)
        j.detail = xstrdup("{}");
    int rc = sq__write(s, audit_job_run, &j, e);
    free(j.detail);
    if (rc == 0) {
        if (seq)
            *seq = j.seq;
        /* An outside copy of the chain: whoever keeps these lines can spot a rewritten tail. */
        log_info("audit %lld %s %s %s", (long long)j.seq, a->action,
                 a->actor_login ? a->actor_login : "-", j.hex);
    }
    return rc;
}

/* ---- read ---- */

#define AUDIT_COLS                                                                                \
    "seq, " TS("at") ", actor_user, actor_login, actor_org, remote, action, object_kind,"         \
    " object_id, outcome, detail, prev_hash, hash"

static json_t *opt(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? json_string(v) : json_null();
}

static json_t *hex(sqlite3_stmt *st, int i)
{
    char h[65] = "";
    if (sqlite3_column_bytes(st, i) == 32)
        sodium_bin2hex(h, sizeof(h), sqlite3_column_blob(st, i), 32);
    return json_string(h);
}

static json_t *audit_row_json(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:{s:o,s:o,s:o},s:o,s:s,s:{s:o,s:o},s:s,s:o,s:o,s:o}", "seq",
                     (json_int_t)sqlite3_column_int64(st, 0), "at", sq__col(st, 1), "actor",
                     "user_id", opt(st, 2), "login", opt(st, 3), "org_id", opt(st, 4), "remote",
                     opt(st, 5), "action", sq__col(st, 6), "object", "kind", opt(st, 7), "id",
                     opt(st, 8), "outcome", sq__col(st, 9), "detail", sq__col_json(st, 10),
                     "prev_hash", hex(st, 11), "hash", hex(st, 12));
}

static const char SQL_AUDIT_LIST[] =
    "SELECT " AUDIT_COLS " FROM audit WHERE (?1 = 0 OR seq < ?1)"
    " AND (?2 IS NULL OR actor_login = ?2) AND (?3 IS NULL OR action = ?3)"
    " AND (?4 IS NULL OR object_id = ?4) AND (?5 = 0 OR at >= ?5) AND (?6 = 0 OR at < ?6)"
    " ORDER BY seq DESC LIMIT ?7";

int sq__audit_list(struct store *st, const struct store_audit_filter *f, int limit,
                   json_t **out, struct err *e)
{
    struct sq_store *s = sq(st);
    WITH_CONN(s, c, e);
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDIT_LIST, e);
    if (q) {
        sqlite3_bind_int64(q, 1, f->before_seq);
        sq__bind_text(q, 2, f->actor_login);
        sq__bind_text(q, 3, f->action);
        sq__bind_text(q, 4, f->object_id);
        sqlite3_bind_int64(q, 5, f->since);
        sqlite3_bind_int64(q, 6, f->until);
        sqlite3_bind_int(q, 7, limit);
        sq__collect(c, q, audit_row_json, out, e);
    }
    sq__conn_put(s, c);
    return e->code;
}

/* ---- verify ---- */

static const char SQL_AUDIT_ALL[] =
    "SELECT seq, at, actor_user, actor_login, actor_org, remote, action, object_kind,"
    " object_id, outcome, detail, prev_hash, hash FROM audit ORDER BY seq";
static const char SQL_AUDIT_META[] = "SELECT value FROM meta WHERE key = 'audit_head'";

static void bad(struct store_audit_check *out, int64_t seq, const char *why)
{
    if (out->first_bad == 0) {
        out->first_bad = seq ? seq : 1;
        util_strlcpy(out->reason, why, sizeof(out->reason));
    }
}

int sq__audit_verify(struct store *st, struct store_audit_check *out, struct err *e)
{
    struct sq_store *s = sq(st);
    memset(out, 0, sizeof(*out));
    WITH_CONN(s, c, e);
    /* One read transaction, so appends meanwhile cannot make the walk see a torn chain. */
    sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
    unsigned char prev[32] = {0};
    int64_t expect = 1;
    sqlite3_stmt *q = sq__stmt(c, SQL_AUDIT_ALL, e);
    int rc = SQLITE_DONE;
    while (q && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct audit_row r = {.seq = sqlite3_column_int64(q, 0), .at = sqlite3_column_int64(q, 1)};
        const char **f[] = {&r.actor_user, &r.actor_login, &r.actor_org, &r.remote, &r.action,
                            &r.object_kind, &r.object_id, &r.outcome, &r.detail};
        for (int i = 0; i < 9; i++)
            *f[i] = (const char *)sqlite3_column_text(q, 2 + i);
        unsigned char h[32];
        out->entries++;
        if (r.seq != expect)
            bad(out, expect, r.seq > expect ? "entries are missing before this one"
                                            : "an entry was inserted here");
        expect = r.seq + 1;
        if (sqlite3_column_bytes(q, 11) != 32 || memcmp(sqlite3_column_blob(q, 11), prev, 32))
            bad(out, r.seq, "does not link to the previous entry");
        audit_hash(s->audit_key, prev, &r, h);
        if (sqlite3_column_bytes(q, 12) != 32 || memcmp(sqlite3_column_blob(q, 12), h, 32))
            bad(out, r.seq, "its fields do not match its hash (altered)");
        /* Continue the chain from the stored hash, so one altered entry is reported once. */
        if (sqlite3_column_bytes(q, 12) == 32)
            memcpy(prev, sqlite3_column_blob(q, 12), 32);
    }
    sq__done(q);
    if (q && rc != SQLITE_DONE)
        sq__fail(c->db, rc, e, "audit");
    sodium_bin2hex(out->head, sizeof(out->head), prev, 32);
    if (!e->code && (q = sq__stmt(c, SQL_AUDIT_META, e))) {
        char want[96] = "";
        if (sqlite3_step(q) == SQLITE_ROW)
            util_strlcpy(want, sq__col(q, 0), sizeof(want));
        sq__done(q);
        char have[96] = "";
        if (out->entries)
            snprintf(have, sizeof(have), "%lld:%s", (long long)(expect - 1), out->head);
        if (strcmp(want, have))
            bad(out, expect, "the recorded head does not match the last entry (removed at the end?)");
    }
    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    sq__conn_put(s, c);
    return e->code;
}
