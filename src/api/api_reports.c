/*
 * api_reports.c - incident and near-miss reports, their revisions and
 * deadlines, reporting regimes, and monthly near-miss counts.
 *
 * Lifecycle: POST /reports makes a draft ("draft": true) or a first
 * report; POST /reports/{id}/revisions appends a revision with a stage:
 *   from draft:        draft (edit) | first | final (submit)
 *   from first/update: update | final
 *   from final:        reopen (reason required, no changes) -> stage update
 * Nothing is overwritten: each revision keeps the content as it stood and
 * what changed. Every read goes through auth_report_access() (visibility,
 * in the store query) and auth_report_redact() (fields).
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "base/jw.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/deadline.h"
#include "model/report.h"

/* ---- helpers ---- */

/* The Idempotency-Key header: NULL when absent; responds 400 and sets *bad when invalid. */
static const char *idem_key(struct api_call *c, bool *bad)
{
    const char *k = http_req_header(c->req, "Idempotency-Key");
    if (k == NULL)
        return NULL;
    size_t n = strlen(k);
    bool ok = n >= 1 && n <= LIMIT_IDEMPOTENCY_KEY;
    for (size_t i = 0; ok && i < n; i++)
        ok = k[i] > 0x20 && k[i] < 0x7f;
    if (!ok) {
        err_field(&c->e, "Idempotency-Key", "1 to %d visible ASCII characters",
                  LIMIT_IDEMPOTENCY_KEY);
        c->e.code = ERR_BADREQ;
        snprintf(c->e.detail, sizeof(c->e.detail), "invalid Idempotency-Key header");
        api__problem(c);
        *bad = true;
        return NULL;
    }
    return k;
}

/* Add the "due" view of due_at/due_stage (RFC 3339, seconds left, overdue). */
static void present_due(json_t *r, int64_t now)
{
    json_t *at = json_object_get(r, "due_at");
    const char *stage = api__jstr(r, "due_stage");
    if (json_is_integer(at) && stage) {
        int64_t t = json_integer_value(at);
        char ts[UTIL_TIME_LEN + 1];
        util_time_fmt(t, ts);
        json_object_set_new(r, "due", json_pack("{s:s,s:s,s:I,s:b}", "stage", stage, "due_at", ts,
                                                "seconds_left", (json_int_t)(t - now), "overdue",
                                                t < now));
    } else {
        json_object_set_new(r, "due", json_null());
    }
    json_object_del(r, "due_at");
    json_object_del(r, "due_stage");
}

/* Fetch a report the caller may see, redacted and presented; NULL with c->e set. */
static json_t *visible_report(struct api_call *c, const char *id, bool with_revisions)
{
    json_t *r = api__report_load(c, id, with_revisions);
    if (r == NULL)
        return NULL;
    auth_report_redact(&c->id, r);
    present_due(r, util_now_ms() / 1000);
    return r;
}

int api_report_due(struct store *st, json_t *row, int64_t fallback, struct err *e)
{
    const json_t *content = json_object_get(row, "content");
    const char *regime_code = api__jstr(content, "regime");
    json_t *regime = NULL;
    struct model_due due = {0};
    if (regime_code) {
        if (store_regime_get(st, regime_code, &regime, e))
            return e->code;
        model_deadline_next(regime, content, api__jstr(row, "stage"), fallback, &due);
    }
    /* due.stage points into regime: use it before letting go of regime */
    json_object_set_new(row, "due_at", due.has ? json_integer(due.due) : json_null());
    json_object_set_new(row, "due_stage", due.has ? json_string(due.stage) : json_null());
    json_decref(regime);
    return 0;
}

static int set_due(struct api_call *c, json_t *row, int64_t fallback)
{
    return api_report_due(c->api->st, row, fallback, &c->e);
}

/* Validation context: the known sectors, regimes and tiers (released by report_ctx_release). */
struct report_vocab {
    struct api_vocab sectors, regimes, tiers;
};

static int report_ctx(struct api_call *c, struct report_vocab *v, struct model_report_ctx *ctx)
{
    memset(v, 0, sizeof(*v));
    if (api__vocab_load(c, API_VOCAB_SECTORS, &v->sectors) ||
        api__vocab_load(c, API_VOCAB_REGIMES, &v->regimes) ||
        api__vocab_load(c, API_VOCAB_TIERS, &v->tiers)) {
        api__vocab_release(&v->sectors);
        api__vocab_release(&v->regimes);
        api__vocab_release(&v->tiers);
        return c->e.code;
    }
    ctx->sectors = &v->sectors.v;
    ctx->regimes = &v->regimes.v;
    ctx->tiers = &v->tiers.v;
    ctx->now = util_now_ms() / 1000;
    return 0;
}

static void report_ctx_release(struct report_vocab *v)
{
    api__vocab_release(&v->sectors);
    api__vocab_release(&v->regimes);
    api__vocab_release(&v->tiers);
}

/* Respond with the report id as it now stands (after a create, revise or replay). */
static void respond_report(struct api_call *c, const char *id, int status, bool replay)
{
    json_t *r = visible_report(c, id, true);
    if (r == NULL) {
        api__problem(c);
        return;
    }
    if (replay)
        http_add_header(c->req, "Idempotent-Replayed", "true");
    if (status == 201) {
        api__respond_created(c, "reports", id, r);
        return;
    }
    http_respond_json(c->req, status, r);
}

/*
 * The answer to a create, built from what was just committed rather than
 * read back: the store acknowledged the write durably, and the reader's
 * cold page cache would make the read the dearest part of the request.
 * The shape is exactly what GET /reports/{id} returns for it.
 */
/*
 * The answer to a create, from what was committed: the metadata as JSON,
 * spliced with the content text serialised once for the store (ctext):
 * the content is the bulk of the answer and of the time it takes. Only
 * the reporter's own organisation gets this answer, which hides nothing
 * of it (auth_report_redact() has nothing to take from the metadata).
 */
static void respond_created_report(struct api_call *c, const json_t *row, const char *ctext,
                                   int64_t now)
{
    char ts[UTIL_TIME_LEN + 1];
    util_time_fmt(now, ts);
    bool submitted = json_is_true(json_object_get(row, "submitted"));
    json_t *r = json_object();
    json_object_set(r, "id", json_object_get(row, "id"));
    json_object_set(r, "org_id", json_object_get(row, "org_id"));
    json_object_set_new(r, "org_name", json_pack("{s:s,s:s}", "ja", c->id.p.org_name_ja, "en",
                                                 c->id.p.org_name_en));
    json_object_set(r, "created_by", json_object_get(row, "created_by"));
    json_object_set(r, "stage", json_object_get(row, "stage"));
    json_object_set(r, "revision", json_object_get(row, "revision"));
    json_object_set_new(r, "created_at", json_string(ts));
    json_object_set_new(r, "updated_at", json_string(ts));
    json_object_set_new(r, "submitted_at", submitted ? json_string(ts) : json_null());
    json_object_set(r, "due_at", json_object_get(row, "due_at"));
    json_object_set(r, "due_stage", json_object_get(row, "due_stage"));
    json_object_set_new(r, "revisions",
                        json_pack("[{s:i,s:O,s:s,s:{s:s,s:s,s:s},s:n,s:[]}]", "n", 1, "stage",
                                  json_object_get(row, "stage"), "at", ts, "by", "id",
                                  c->id.p.user_id, "login", c->id.p.login, "display_name",
                                  c->id.p.display_name, "reason", "changes"));
    present_due(r, now);
    char *meta = jw_dump(r, NULL);
    json_decref(r);
    size_t mlen = meta ? strlen(meta) : 0, clen = ctext ? strlen(ctext) : 0;
    if (mlen < 2 || clen < 2 || meta[mlen - 1] != '}' || ctext[0] != '{') {
        free(meta);
        api__fail(c, ERR_INTERNAL, "cannot encode the report");
        return;
    }
    /* "{meta...}" + "{content...}" -> "{meta...,content...}" */
    char *body = xmalloc(mlen + clen + 1);
    memcpy(body, meta, mlen - 1);
    size_t n = mlen - 1;
    if (clen > 2)
        body[n++] = ',';
    memcpy(body + n, ctext + 1, clen - 1);
    n += clen - 1;
    free(meta);
    const char *id = api__jstr(row, "id");
    log_info("report %s (%s) filed by '%s'", id, api__jstr(row, "stage"), c->id.p.login);
    char loc[128];
    snprintf(loc, sizeof(loc), "/api/v1/reports/%s", id);
    http_add_header(c->req, "Location", loc);
    http_add_header(c->req, "Cache-Control", "no-store");
    http_respond_raw(c->req, 201, "application/json", body, n);
    free(body);
}

/* If key was used already, respond with what it made and return true. */
static bool replayed(struct api_call *c, const char *key)
{
    char rid[40];
    struct err ie;
    err_init(&ie);
    if (key == NULL || store_idem_lookup(c->api->st, c->id.p.user_id, key, rid, &ie) != 0)
        return false;
    respond_report(c, rid, 201, true);
    return true;
}

/* ---- reports ---- */

/* A create waiting for its group commit (see api__report_create). */
struct create_ctx {
    struct api *api;
    struct auth_identity id;
    json_t *row, *rev;
    char *ctext;              /* the content, serialised once: for the store and the answer */
    char *key;
    int64_t now;
    struct err e;             /* filled by the store on failure */
};

static void create_ctx_free(struct create_ctx *x)
{
    json_decref(x->row);
    json_decref(x->rev);
    free(x->ctext);
    free(x->key);
    free(x);
}

/* On the store's writer thread: only wake the request. */
static void on_created(void *req) { http_resume(req); }

/* On a worker thread once the write is done: answer. */
static void create_continue(struct http_req *req, void *ud)
{
    struct create_ctx *x = ud;
    struct api_call c;
    api__resumed_call(&c, x->api, req, &x->id);
    c.e = x->e;
    if (c.e.code == ERR_CONFLICT && x->key) {
        /* The same key raced us: answer what the winner made. */
        err_init(&c.e);
        if (!replayed(&c, x->key))
            api__fail(&c, ERR_CONFLICT, "idempotency key in use");
    } else if (c.e.code) {
        api__problem(&c);
    } else {
        respond_created_report(&c, x->row, x->ctext, x->now);
    }
    create_ctx_free(x);
}

void api__report_create(struct api_call *c)
{
    if (!auth_can_create_report(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "your roles do not allow filing reports");
        return;
    }
    bool bad = false;
    const char *key = idem_key(c, &bad);
    if (bad || replayed(c, key))
        return;
    json_t *b = api__body(c, LIMIT_REPORT_BODY_BYTES), *content = NULL;
    if (b == NULL)
        return;
    json_t *draft = json_object_get(b, "draft");
    if (draft && !json_is_boolean(draft))
        err_field(&c->e, "draft", "must be true or false");
    bool is_draft = json_is_true(draft);
    json_object_del(b, "draft");
    struct report_vocab voc;
    struct model_report_ctx ctx;
    if (report_ctx(c, &voc, &ctx) == 0) {
        struct err ve;
        err_init(&ve);
        if (model_report_check(b, MODEL_CREATE, &ctx, &content, &ve) == 0)
            model_report_finish(content, &ve);
        /* merge field errors of both checks into c->e */
        for (size_t i = 0; i < ve.nfields; i++)
            err_field(&c->e, ve.fields[i].field, "%s", ve.fields[i].reason);
        if (ve.code && !ve.nfields)
            err_set(&c->e, ve.code, "%s", ve.detail);
        report_ctx_release(&voc);
    }
    json_decref(b);
    if (c->e.code) {
        json_decref(content);
        api__problem(c);
        return;
    }
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    const char *stage = is_draft ? "draft" : "first";
    int64_t now = util_now_ms() / 1000;
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:b}", "id", id, "org_id", c->id.p.org_id,
                            "created_by", c->id.p.user_id, "stage", stage, "revision", 1,
                            "content", content, "submitted", !is_draft);
    /* The first revision's content is the report itself: no "changes" to list. */
    json_t *rev = json_pack("{s:i,s:s,s:s,s:n,s:[]}", "n", 1, "stage", stage, "user_id",
                            c->id.p.user_id, "reason", "changes");
    if (set_due(c, row, now)) {
        json_decref(row);
        json_decref(rev);
        api__problem(c);
        return;
    }
    /*
     * The write joins the next group commit; meanwhile this worker thread
     * serves other connections (http_defer) and the answer is sent once the
     * report is durable. Deferred first: the commit may beat us back.
     */
    struct create_ctx *x = xcalloc(1, sizeof(*x));
    x->api = c->api;
    x->id = c->id;
    x->row = row;
    x->rev = rev;
    size_t clen = 0;
    x->ctext = jw_dump(json_object_get(row, "content"), &clen);
    if (x->ctext) /* our own text of checked strings: valid UTF-8, no need to check again */
        json_object_set_new(row, "content_json", json_stringn_nocheck(x->ctext, clen));
    x->key = key ? xstrdup(key) : NULL;
    x->now = now;
    err_init(&x->e);
    http_defer(c->req, create_continue, x);
    if (store_report_create_async(c->api->st, row, rev, x->id.p.user_id, x->key, &x->e,
                                  on_created, c->req) != 0) {
        c->e = x->e;
        create_ctx_free(x);
        api__problem(c);
    }
}

void api__report_get(struct api_call *c)
{
    json_t *r = visible_report(c, c->params[0], true);
    if (r == NULL) {
        api__problem(c);
        return;
    }
    /* Another organisation's report is restricted content: no record, no read. */
    if (auth_report_read_is_restricted(&c->id, r) &&
        api__audit(c, "report.read", "report", api__jstr(r, "id"), "ok",
                   json_pack("{s:s}", "provider_org", api__jstr(r, "org_id")))) {
        json_decref(r);
        api__fail(c, ERR_STORE, "the read could not be recorded in the audit log");
        return;
    }
    http_respond_json(c->req, 200, r);
}

/* Record which of another organisation's reports a list showed (ids only); false = failed. */
static bool audit_list(struct api_call *c, const char *action, const json_t *items)
{
    json_t *ids = json_array(), *r;
    size_t i;
    json_array_foreach(items, i, r) if (auth_report_read_is_restricted(&c->id, r))
        json_array_append_new(ids, json_string(api__jstr(r, "id")));
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        return true;
    }
    return api__audit(c, action, "report", NULL, "ok", json_pack("{s:o}", "ids", ids)) == 0;
}

/* Stage transitions; returns the stage the report will be at, or NULL. */
static const char *next_stage(const char *cur, const char *asked, struct err *e)
{
    int rc = model_stage_rank(cur);
    if (!strcmp(asked, "reopen")) {
        if (rc != 4)
            err_field(e, "stage", "only a final report can be reopened");
        return rc == 4 ? "update" : NULL;
    }
    int ra = model_stage_rank(asked);
    if (ra == 0) {
        err_field(e, "stage", "must be draft, first, update, final or reopen");
        return NULL;
    }
    if (rc == 4) {
        err_field(e, "stage", "the report is final: reopen it (with a reason) to change it");
        return NULL;
    }
    if (rc == 1 && ra == 3) {
        err_field(e, "stage", "submit a draft as first or final");
        return NULL;
    }
    if (rc > 1 && ra < 3) {
        err_field(e, "stage", "a submitted report takes update or final");
        return NULL;
    }
    return asked;
}

void api__report_revise(struct api_call *c)
{
    bool bad = false;
    const char *key = idem_key(c, &bad);
    if (bad)
        return;
    json_t *cur = visible_report(c, c->params[0], false);
    if (cur == NULL) {
        api__problem(c);
        return;
    }
    if (!auth_can_revise_report(&c->id, cur)) {
        json_decref(cur);
        api__fail(c, ERR_FORBIDDEN, "only the reporting organisation revises its report");
        return;
    }
    if (key && replayed(c, key)) {
        json_decref(cur);
        return;
    }
    json_t *b = api__body(c, LIMIT_REPORT_BODY_BYTES);
    if (b == NULL) {
        json_decref(cur);
        return;
    }
    static const char *const allowed[] = {"stage", "changes", "reason"};
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < 3; i++)
            ok = ok || !strcmp(k, allowed[i]);
        if (!ok)
            err_field(&c->e, k, "unknown field");
    }
    const char *asked = api__jstr(b, "stage");
    const char *stage = NULL;
    if (asked == NULL)
        err_field(&c->e, "stage", "required");
    else
        stage = next_stage(api__jstr(cur, "stage"), asked, &c->e);
    json_t *reason_v = json_object_get(b, "reason");
    const char *reason = json_string_value(reason_v);
    if (reason_v && !json_is_null(reason_v) &&
        (!reason || util_utf8_chars(reason) > LIMIT_REPORT_DETAIL))
        err_field(&c->e, "reason", "must be a string of at most %d characters",
                  LIMIT_REPORT_DETAIL);
    bool reopen = asked && !strcmp(asked, "reopen");
    bool blank_reason = true;
    for (const char *p = reason; p && *p; p++)
        blank_reason = blank_reason && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r');
    if (reopen && blank_reason)
        err_field(&c->e, "reason", "reopening a final report needs a reason");
    json_t *changes_in = json_object_get(b, "changes");
    if (changes_in && !json_is_object(changes_in))
        err_field(&c->e, "changes", "must be an object of the fields to change");
    if (reopen && json_object_size(changes_in))
        err_field(&c->e, "changes", "reopen first; change the content in the next update");

    json_t *changes = NULL, *merged = NULL, *diff = NULL;
    struct report_vocab voc;
    struct model_report_ctx ctx;
    if (!c->e.code && report_ctx(c, &voc, &ctx) == 0) {
        json_t *empty = json_object();
        struct err ve;
        err_init(&ve);
        if (model_report_check(changes_in ? changes_in : empty, MODEL_PATCH, &ctx, &changes,
                               &ve) == 0) {
            /* The current content is the report minus its metadata. */
            json_t *content = json_object();
            for (const char *const *f = model_report_fields; *f; f++)
                if (json_object_get(cur, *f))
                    json_object_set(content, *f, json_object_get(cur, *f));
            merged = model_merge(content, changes);
            if (model_report_finish(merged, &ve) == 0) {
                diff = model_report_diff(content, merged);
                if (json_array_size(diff) == 0 && (!strcmp(stage, "update") && !reopen))
                    err_field(&ve, "changes", "nothing changed");
                if (json_array_size(diff) == 0 && !strcmp(stage, "draft"))
                    err_field(&ve, "changes", "nothing changed");
            }
            json_decref(content);
        }
        for (size_t i = 0; i < ve.nfields; i++)
            err_field(&c->e, ve.fields[i].field, "%s", ve.fields[i].reason);
        if (ve.code && !ve.nfields)
            err_set(&c->e, ve.code, "%s", ve.detail);
        json_decref(empty);
        report_ctx_release(&voc);
    }
    json_t *row = NULL, *rev = NULL;
    if (!c->e.code) {
        int n = (int)json_integer_value(json_object_get(cur, "revision"));
        bool submitted = strcmp(stage, "draft") != 0;
        row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O,s:b}", "id", api__jstr(cur, "id"), "org_id",
                        api__jstr(cur, "org_id"), "created_by", api__jstr(cur, "created_by"), "stage", stage,
                        "revision", n + 1, "content", merged, "submitted", submitted);
        rev = json_pack("{s:i,s:s,s:s,s:o,s:O}", "n", n + 1, "stage", reopen ? "reopen" : stage,
                        "user_id", c->id.p.user_id, "reason",
                        !blank_reason ? json_string(reason) : json_null(), "changes", diff);
        int64_t t;
        int off;
        /* A draft is anchored at its creation, a submitted report at its first submission. */
        const char *sub = api__jstr(cur, "submitted_at");
        const char *created = api__jstr(cur, "created_at");
        int64_t fallback = sub && util_time_parse(sub, &t, &off)           ? t
                           : created && util_time_parse(created, &t, &off) ? t
                                                                            : util_now_ms() / 1000;
        if (!sub && submitted)
            fallback = util_now_ms() / 1000; /* submitted now */
        if (set_due(c, row, fallback) == 0)
            store_report_revise(c->api->st, row, n, rev, c->id.p.user_id, key, &c->e);
    }
    json_decref(row);
    json_decref(rev);
    json_decref(changes);
    json_decref(merged);
    json_decref(diff);
    json_decref(b);
    char id[40];
    util_strlcpy(id, api__jstr(cur, "id"), sizeof(id));
    json_decref(cur);
    if (c->e.code == ERR_CONFLICT && key) {
        /* A retry with the same key raced us and won: answer what it made. */
        struct err saved = c->e;
        err_init(&c->e);
        if (replayed(c, key))
            return;
        c->e = saved;
    }
    if (c->e.code) {
        api__problem(c);
        return;
    }
    respond_report(c, id, 201, false);
}

/* Parse the list filters shared by the list and the due list; false after responding. */
static bool report_filter(struct api_call *c, struct store_report_filter *f)
{
    bool bad = false;
    memset(f, 0, sizeof(*f));
    f->min_severity = -1;
    f->kind = api__query(c, "kind", 32, &bad);
    f->event_type = api__query(c, "event_type", 32, &bad);
    f->sector = api__query_code(c, "sector", API_VOCAB_SECTORS, &bad);
    f->status = api__query(c, "status", 32, &bad);
    f->stage = api__query(c, "stage", 32, &bad);
    f->org_id = api__query_id(c, "org_id", &bad);
    f->q = api__query(c, "q", LIMIT_QUERY_CHARS, &bad);
    struct api_range range;
    api__range_query(c, &range, &bad);
    if (bad)
        return false;
    if (f->kind && strcmp(f->kind, "incident") && strcmp(f->kind, "near_miss"))
        api__bad_param(c, "kind", "must be incident or near_miss");
    else if (f->event_type && !model_event_type_valid(f->event_type))
        api__bad_param(c, "event_type", "unknown event type");
    else if (f->status && !model_status_valid(f->status))
        api__bad_param(c, "status", "must be open, monitoring or closed");
    else if (f->stage && model_stage_rank(f->stage) == 0)
        api__bad_param(c, "stage", "must be draft, first, update or final");
    else
        return api__range_check(c, &range, &f->min_severity, &f->since, &f->until);
    return false;
}

static void present_all(json_t *items)
{
    int64_t now = util_now_ms() / 1000;
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r) present_due(r, now);
}

void api__report_list(struct api_call *c)
{
    struct api_page p;
    struct store_report_filter f;
    if (!api__page(c, &p) || !report_filter(c, &f))
        return;
    struct store_report_access acc;
    auth_report_access(&c->id, &acc);
    struct store_page sp = {p.has_after ? p.after : NULL, p.limit + 1};
    json_t *items;
    if (store_report_list(c->api->st, &acc, &f, &sp, &items, &c->e)) {
        api__problem(c);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r) auth_report_redact(&c->id, r);
    if (!audit_list(c, "report.list", items)) {
        json_decref(items);
        api__fail(c, ERR_STORE, "the read could not be recorded in the audit log");
        return;
    }
    present_all(items);
    api__respond_page(c, items, &p);
}

void api__report_due(struct api_call *c)
{
    struct store_report_filter f;
    if (!report_filter(c, &f))
        return;
    bool bad = false;
    const char *w = api__query(c, "within_hours", 6, &bad);
    long long hours = 72;
    if (bad)
        return;
    if (w && !util_parse_int(w, 0, 24 * 366, &hours)) {
        api__bad_param(c, "within_hours", "must be hours from 0 to 8784");
        return;
    }
    f.due_before = util_now_ms() / 1000 + hours * 3600;
    /* Ordered by deadline, so the cursor is the last (due_at, id) seen. */
    int limit;
    char raw[96], after_id[64] = "";
    if (!api__limit(c, LIMIT_PAGE_MAX, LIMIT_PAGE_MAX, &limit) || !api__cursor_raw(c, raw, sizeof(raw)))
        return;
    if (raw[0]) {
        long long at;
        char *dot = strchr(raw, '.');
        if (dot)
            *dot = '\0';
        if (!dot || !util_parse_int(raw, 0, (long long)1 << 40, &at) || !util_is_uuid(dot + 1)) {
            api__bad_param(c, "cursor", "not a cursor from a previous page");
            return;
        }
        f.due_after_at = at;
        util_strlcpy(after_id, dot + 1, sizeof(after_id));
        f.due_after_id = after_id;
    }
    struct store_report_access acc;
    auth_report_access(&c->id, &acc);
    struct store_page sp = {NULL, limit + 1};
    json_t *items;
    if (store_report_list(c->api->st, &acc, &f, &sp, &items, &c->e)) {
        api__problem(c);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(items) > (size_t)limit) {
        json_array_remove(items, (size_t)limit);
        json_t *last = json_array_get(items, (size_t)limit - 1);
        char cur[96];
        snprintf(cur, sizeof(cur), "%lld.%s",
                 (long long)json_integer_value(json_object_get(last, "due_at")),
                 api__jstr(last, "id"));
        next = api__cursor_json(cur);
    }
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r) auth_report_redact(&c->id, r);
    if (!audit_list(c, "report.list", items)) {
        json_decref(items);
        json_decref(next);
        api__fail(c, ERR_STORE, "the read could not be recorded in the audit log");
        return;
    }
    present_all(items);
    /* Overdue first, then by time left: the store orders by deadline. */
    http_respond_json(c->req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

/* ---- regimes ---- */

void api__regime_list(struct api_call *c)
{
    bool bad = false;
    bool inc = api__query_bool(c, "include_disabled", &bad);
    json_t *items;
    if (bad)
        return;
    if (store_regime_list(c->api->st, inc, &items, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

void api__regime_get(struct api_call *c)
{
    json_t *r;
    if (store_regime_get(c->api->st, c->params[0], &r, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, r);
}

void api__regime_create(struct api_call *c)
{
    if (!auth_can_write_regime(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only administrators manage regimes");
        return;
    }
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *r = NULL, *out = NULL;
    if (b == NULL)
        return;
    if (model_regime_check(b, MODEL_CREATE, &r, &c->e) == 0 &&
        store_regime_create(c->api->st, r, &c->e) == 0) {
        api__vocab_invalidate(c->api, API_VOCAB_REGIMES);
        api__audit(c, "regime.create", "regime", api__jstr(r, "code"), "ok", NULL);
        store_regime_get(c->api->st, api__jstr(r, "code"), &out, &c->e);
    }
    if (c->e.code == ERR_CONFLICT)
        snprintf(c->e.detail, sizeof(c->e.detail), "a regime with this code exists");
    json_decref(b);
    if (out == NULL) {
        json_decref(r);
        api__problem(c);
        return;
    }
    api__respond_created(c, "regimes", api__jstr(r, "code"), out);
    json_decref(r);
}

/* A regime's steps changed: recompute the deadlines of its reports. */
static void recompute_due(struct api_call *c, const char *code)
{
    json_t *rows = NULL;
    struct err e;
    err_init(&e);
    if (store_report_by_regime(c->api->st, code, &rows, &e))
        return;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_int_t sub = json_integer_value(json_object_get(r, "submitted_ts"));
        json_t *row = json_pack("{s:O,s:O}", "stage", json_object_get(r, "stage"), "content",
                                json_object_get(r, "content"));
        struct err re;
        err_init(&re);
        struct api_call tmp = *c;
        err_init(&tmp.e);
        if (set_due(&tmp, row, sub ? sub : json_integer_value(json_object_get(r, "created_ts"))) ==
            0)
            store_report_set_due(c->api->st, api__jstr(r, "id"),
                                 json_integer_value(json_object_get(row, "due_at")),
                                 api__jstr(row, "due_stage"), &re);
        json_decref(row);
    }
    json_decref(rows);
}

void api__regime_update(struct api_call *c)
{
    if (!auth_can_write_regime(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only administrators manage regimes");
        return;
    }
    json_t *cur = NULL, *patch = NULL, *b = NULL, *out = NULL;
    if (store_regime_get(c->api->st, c->params[0], &cur, &c->e)) {
        api__problem(c);
        return;
    }
    if ((b = api__body(c, LIMIT_MEMBER_BODY_BYTES)) == NULL) {
        json_decref(cur);
        return;
    }
    if (model_regime_check(b, MODEL_PATCH, &patch, &c->e) == 0) {
        json_t *m = model_merge(cur, patch);
        if (store_regime_update(c->api->st, m, &c->e) == 0) {
            api__vocab_invalidate(c->api, API_VOCAB_REGIMES);
            api__audit(c, "regime.update", "regime", c->params[0], "ok", NULL);
            recompute_due(c, c->params[0]);
            store_regime_get(c->api->st, c->params[0], &out, &c->e);
        }
        json_decref(m);
    }
    json_decref(b);
    json_decref(patch);
    json_decref(cur);
    if (out == NULL) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, out);
}

/* ---- monthly near-miss counts ---- */

/* "YYYY-MM", not later than this month. */
static bool month_valid(const char *m, int64_t now)
{
    long long y, mo;
    char ys[5], ms[3];
    if (m == NULL || strlen(m) != 7 || m[4] != '-')
        return false;
    memcpy(ys, m, 4);
    ys[4] = '\0';
    memcpy(ms, m + 5, 2);
    ms[2] = '\0';
    if (!util_parse_int(ys, 2000, 9999, &y) || !util_parse_int(ms, 1, 12, &mo))
        return false;
    char cur[UTIL_TIME_LEN + 1];
    util_time_fmt(now + 14 * 3600, cur); /* allow the month that has begun east of UTC */
    return strncmp(m, cur, 7) <= 0;
}

void api__nearmiss_put(struct api_call *c)
{
    if (!auth_can_submit_nearmiss(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "your roles do not allow submitting counts");
        return;
    }
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *org = NULL;
    if (b == NULL)
        return;
    if (store_org_get(c->api->st, c->id.p.org_id, &org, &c->e)) {
        json_decref(b);
        api__problem(c);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v) if (strcmp(k, "month") && strcmp(k, "entries"))
        err_field(&c->e, k, "unknown field");
    const char *month = api__jstr(b, "month");
    if (!month_valid(month, util_now_ms() / 1000))
        err_field(&c->e, "month", "must be a month YYYY-MM, not in the future");
    json_t *in = json_object_get(b, "entries"), *entries = json_array();
    json_t *org_sectors = json_object_get(org, "sectors");
    if (!json_is_array(in) || json_array_size(in) == 0 || json_array_size(in) > 64)
        err_field(&c->e, "entries", "must be an array of 1 to 64 counts");
    size_t i, j;
    json_t *en, *s;
    json_array_foreach(in, i, en)
    {
        char f[64];
        if (!json_is_object(en)) {
            snprintf(f, sizeof(f), "entries[%zu]", i);
            err_field(&c->e, f, "must be an object with event_type and count");
            continue;
        }
        json_object_foreach(en, k, v) if (strcmp(k, "event_type") && strcmp(k, "count") &&
                                          strcmp(k, "note") && strcmp(k, "sector"))
        {
            snprintf(f, sizeof(f), "entries[%zu].%s", i, k);
            err_field(&c->e, f, "unknown field");
        }
        const char *et = api__jstr(en, "event_type");
        snprintf(f, sizeof(f), "entries[%zu].event_type", i);
        if (!model_event_type_valid(et))
            err_field(&c->e, f, "unknown event type");
        json_t *cnt = json_object_get(en, "count");
        snprintf(f, sizeof(f), "entries[%zu].count", i);
        if (!json_is_integer(cnt) || json_integer_value(cnt) < 0 ||
            json_integer_value(cnt) > LIMIT_NEARMISS_COUNT)
            err_field(&c->e, f, "must be an integer from 0 to %d", LIMIT_NEARMISS_COUNT);
        json_t *nv = json_object_get(en, "note");
        const char *note = json_string_value(nv);
        snprintf(f, sizeof(f), "entries[%zu].note", i);
        if (nv && !json_is_null(nv) && (!note || util_utf8_chars(note) > LIMIT_REPORT_DETAIL))
            err_field(&c->e, f, "must be text of at most %d characters", LIMIT_REPORT_DETAIL);
        /* Counts belong to one of the organisation's sectors (its first by default). */
        const char *sector = api__jstr(en, "sector");
        if (sector == NULL)
            sector = json_string_value(json_array_get(org_sectors, 0));
        bool mine = false;
        json_array_foreach(org_sectors, j, s) mine = mine || (sector && !strcmp(json_string_value(s), sector));
        snprintf(f, sizeof(f), "entries[%zu].sector", i);
        if (!mine)
            err_field(&c->e, f, sector ? "not a sector of your organisation"
                                       : "your organisation has no sector to count under");
        if (!c->e.code)
            json_array_append_new(entries, json_pack("{s:s,s:s,s:O,s:o}", "sector", sector,
                                                     "event_type", et, "count", cnt, "note",
                                                     note && *note ? json_string(note)
                                                                   : json_null()));
    }
    json_decref(org);
    json_t *items = NULL;
    if (!c->e.code &&
        store_nearmiss_put(c->api->st, c->id.p.org_id, c->id.p.user_id, month, entries, &c->e) ==
            0)
        store_nearmiss_list(c->api->st, c->id.p.org_id, month, false, 0, LIMIT_NEARMISS_PAGE,
                            &items, &c->e);
    json_decref(entries);
    json_decref(b);
    if (c->e.code) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 201, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

void api__nearmiss_list(struct api_call *c)
{
    bool bad = false;
    const char *month = api__query(c, "month", 7, &bad);
    const char *org = api__query_id(c, "org_id", &bad);
    bool history = api__query_bool(c, "history", &bad);
    if (bad)
        return;
    if (month && !month_valid(month, util_now_ms() / 1000 + 400 * 86400)) {
        api__bad_param(c, "month", "must be YYYY-MM");
        return;
    }
    const char *scope = auth_nearmiss_scope(&c->id);
    if (scope && org && strcmp(scope, org))
        scope = ""; /* another organisation's counts: none visible */
    int limit;
    char raw[32];
    long long after = 0;
    if (!api__limit(c, LIMIT_NEARMISS_PAGE, LIMIT_NEARMISS_PAGE, &limit) ||
        !api__cursor_raw(c, raw, sizeof(raw)))
        return;
    if (raw[0] && !util_parse_int(raw, 1, (long long)1 << 62, &after)) {
        api__bad_param(c, "cursor", "not a cursor from a previous page");
        return;
    }
    json_t *items;
    if (store_nearmiss_list(c->api->st, scope ? scope : org, month, history, after, limit + 1,
                            &items, &c->e)) {
        api__problem(c);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(items) > (size_t)limit) {
        json_array_remove(items, (size_t)limit);
        char cur[32];
        snprintf(cur, sizeof(cur), "%lld",
                 (long long)json_integer_value(
                     json_object_get(json_array_get(items, (size_t)limit - 1), "id")));
        next = api__cursor_json(cur);
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

void api__nearmiss_totals(struct api_call *c)
{
    if (!auth_can_read_nearmiss_totals(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "totals are for the coordinator");
        return;
    }
    bool bad = false;
    const char *from = api__query(c, "from", 7, &bad), *to = api__query(c, "to", 7, &bad);
    const char *sector = api__query_code(c, "sector", API_VOCAB_SECTORS, &bad);
    const char *et = api__query(c, "event_type", 32, &bad);
    if (bad)
        return;
    int64_t far = util_now_ms() / 1000 + 400 * 86400;
    if (from && !month_valid(from, far)) {
        api__bad_param(c, "from", "must be YYYY-MM");
        return;
    }
    if (to && !month_valid(to, far)) {
        api__bad_param(c, "to", "must be YYYY-MM");
        return;
    }
    if (et && !model_event_type_valid(et)) {
        api__bad_param(c, "event_type", "unknown event type");
        return;
    }
    json_t *items;
    if (store_nearmiss_totals(c->api->st, from ? from : "0000-00", to ? to : "9999-99", sector, et,
                              &items, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}
