/*
 * api_alerts.c - countermeasure alerts (issue 5): drafts, publication, new
 * versions (correction, withdrawal), the inbox, receipts and the delivery
 * page. The stream is api_stream.c; webhooks are api_webhooks.c.
 *
 * A series is version 1 (kind "alert") and later corrections and
 * withdrawals, each a draft until published:
 *   draft --publish--> published --versions--> draft of version N+1 ...
 * Publishing commits the stream event id and the target keys in one small
 * transaction (store_alert_publish()) and wakes the streams
 * (notify_event()); once the event is on every stream, the recipients (a
 * snapshot of the organisations the audience matches) and one outbox row
 * per webhook and e-mail contact are committed (store_alert_queue()) and
 * the request is answered. Nothing here waits on webhook or e-mail work.
 *
 * Reads go through auth_alert_access() (the store filters) and
 * api_alert_view() (the one shape of the API, the stream and webhooks,
 * redacted by auth_alert_redact()). The issuer side is the
 * coordinator's users and the issuing organisation's; composing and
 * publishing also takes the right to issue (auth_can_issue_alert()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "deliver/deliver.h"
#include "model/alert.h"
#include "notify/notify.h"

/* A time in milliseconds as RFC 3339 UTC with milliseconds. */
static json_t *time_ms(int64_t ms)
{
    char s[UTIL_TIME_LEN + 1], out[UTIL_TIME_LEN + 8];
    util_time_fmt(ms / 1000, s);
    snprintf(out, sizeof(out), "%.19s.%03dZ", s, (int)(ms % 1000));
    return json_string(out);
}

static json_t *time_ms_or_null(int64_t ms) { return ms > 0 ? time_ms(ms) : json_null(); }

/* An RFC 3339 time in milliseconds, fraction included (0 if none). */
static int64_t time_text_ms(const char *s)
{
    int64_t t;
    int off;
    if (s == NULL || !util_time_parse(s, &t, &off))
        return 0;
    int64_t ms = 0, scale = 100;
    const char *frac = strchr(s, '.');
    for (const char *p = frac ? frac + 1 : ""; *p >= '0' && *p <= '9' && scale; p++) {
        ms += (*p - '0') * scale;
        scale /= 10;
    }
    return t * 1000 + ms;
}

/* ---- loading and presenting ---- */

/* An alert version the caller may see, unredacted; NULL with c->e set. */
static json_t *load_alert(struct api_call *c, const char *id)
{
    if (!util_is_uuid(id)) {
        err_set(&c->e, ERR_NOTFOUND, "alert not found");
        return NULL;
    }
    struct store_release_access acc;
    auth_alert_access(&c->id, &acc);
    json_t *r = NULL;
    if (store_alert_get(c->api->st, &acc, id, &r, &c->e))
        return NULL;
    return r;
}

static json_t *member_or_null(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_incref(v ? v : json_null());
}

/* The API object of a row as the caller sees it (new reference); NULL with c->e set. */
static json_t *present(struct api_call *c, const json_t *row)
{
    json_t *v = api_alert_view(&c->id, row);
    if (v == NULL)
        err_set(&c->e, ERR_NOMEM, "alert view");
    return v;
}

/* Reload and send an alert after a write (the store filled stamps and versions). */
static void respond_fresh(struct api_call *c, const char *id, int status)
{
    json_t *row = load_alert(c, id), *view = NULL;
    if (row)
        view = present(c, row);
    json_decref(row);
    if (view == NULL)
        api__problem(c);
    else if (status == 201)
        api__respond_created(c, "alerts", id, view);
    else
        http_respond_json(c->req, status, view);
}

/* ---- rights ---- */

/* May the caller issue an alert to content's audience? Responds 403 when not. */
static bool may_issue_to(struct api_call *c, const json_t *content)
{
    if (auth_can_issue_alert(&c->id, json_object_get(content, "audience")))
        return true;
    if (auth_can_issue_alert(&c->id, NULL))
        return api__deny(c, "a sector hub issues alerts to its own sectors only: name them, and "
                            "nothing else, in audience.sectors");
    return api__deny(c, "only the coordinator's analysts and sector hubs' analysts issue alerts");
}

enum need { NEED_READ, NEED_WRITE };

/*
 * The alert of the path, if the caller is on its issuer side (and, to
 * write, may issue alerts). NULL after responding: 404 when invisible,
 * 403 for recipients.
 */
static json_t *issuer_alert(struct api_call *c, enum need need)
{
    json_t *row = load_alert(c, c->params[0]);
    if (row == NULL) {
        api__problem(c);
        return NULL;
    }
    bool ok = auth_is_alert_issuer_side(&c->id, row) &&
              (need == NEED_READ || auth_can_issue_alert(&c->id, NULL));
    if (ok)
        return row;
    json_decref(row);
    api__deny(c, need == NEED_READ ? "only the issuer and the coordinator see this"
                                   : "only the issuer's and the coordinator's analysts change, "
                                     "publish and version an alert");
    return NULL;
}

static bool in_draft(struct api_call *c, const json_t *row, const char *doing)
{
    if (api__is(api__jstr(row, "state"), "draft"))
        return true;
    err_set(&c->e, ERR_CONFLICT, "the alert is %s: only a draft can be %s", api__jstr(row, "state"),
            doing);
    api__problem(c);
    return false;
}

static void audit_alert(struct api_call *c, const char *action, const json_t *row,
                        json_t *detail)
{
    if (detail == NULL)
        detail = json_object();
    json_object_set_new(detail, "series_id", member_or_null(row, "series_id"));
    json_object_set_new(detail, "issuer_org", member_or_null(row, "issuer_org"));
    if (json_object_get(row, "version"))
        json_object_set_new(detail, "version", member_or_null(row, "version"));
    api__audit(c, action, "alert", api__jstr(row, "id"), "ok", detail);
}

/* ---- validation ---- */

/* model_alert_check() of a request body; false with c->e set. */
static bool check_content(struct api_call *c, const json_t *body, enum model_mode mode,
                          json_t **out)
{
    struct api_vocabs v;
    if (!api__vocabs_open(c, &v))
        return false;
    int rc = model_alert_check(body, mode, &v.ctx, out, &c->e);
    api__vocabs_close(&v);
    return rc == 0;
}

/* ---- create, edit, publish, version ---- */

void api__alert_create(struct api_call *c)
{
    if (!auth_can_issue_alert(&c->id, NULL)) {
        api__deny(c, "only the coordinator's analysts and sector hubs' analysts issue alerts");
        return;
    }
    json_t *body = api__body(c, LIMIT_ALERT_BODY_BYTES), *content = NULL, *row = NULL;
    if (body == NULL)
        return;
    if (!check_content(c, body, MODEL_CREATE, &content))
        goto fail;
    if (!may_issue_to(c, content))
        goto out;
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    row = json_pack("{s:s,s:n,s:s,s:s,s:s,s:s}", "id", id, "series_id", "kind", "alert", "state",
                    "draft", "issuer_org", c->id.p.org_id, "created_by", c->id.p.user_id);
    model_alert_set_content(row, content);
    if (store_alert_create(c->api->st, row, &c->e))
        goto fail;
    json_object_set_new(row, "series_id", json_string(id));
    audit_alert(c, "alert.create", row,
                json_pack("{s:O,s:O}", "urgency", json_object_get(content, "urgency"),
                          "exercise", json_object_get(content, "exercise")));
    respond_fresh(c, id, 201);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(row);
    json_decref(content);
    json_decref(body);
}

void api__alert_update(struct api_call *c)
{
    json_t *row = issuer_alert(c, NEED_WRITE), *body = NULL, *patch = NULL, *cur = NULL,
           *merged = NULL;
    if (row == NULL)
        return;
    if (!(body = api__body(c, LIMIT_ALERT_BODY_BYTES)) || !in_draft(c, row, "edited"))
        goto out;
    if (!check_content(c, body, MODEL_PATCH, &patch))
        goto fail;
    cur = model_alert_content(row);
    merged = model_alert_merge(cur, patch);
    if (model_alert_finish(merged, &c->e))
        goto fail;
    if (!may_issue_to(c, merged))
        goto out;
    model_alert_set_content(row, merged);
    json_object_set_new(row, "actor", json_string(c->id.p.user_id));
    if (store_alert_update(c->api->st, row, &c->e))
        goto fail;
    audit_alert(c, "alert.update", row, json_pack("{s:o}", "fields", api__keys(patch)));
    respond_fresh(c, api__jstr(row, "id"), 200);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(merged);
    json_decref(cur);
    json_decref(patch);
    json_decref(body);
    json_decref(row);
}

/*
 * After the event went out: fix the recipients and queue the webhook and
 * e-mail work (a crash before this is caught up at start, by deliver),
 * then answer.
 */
static void publish_finish(struct api_call *c, json_t *row, int64_t seq)
{
    struct err qe;
    err_init(&qe);
    if (store_alert_queue(c->api->st, api__jstr(row, "id"), &qe))
        log_error("alert %s: webhook and e-mail deliveries not queued yet: %s",
                  api__jstr(row, "id"), qe.detail);
    deliver_kick(c->api->deliver);
    audit_alert(c, "alert.publish", row,
                json_pack("{s:s,s:I}", "kind", api__jstr(row, "kind"), "event_id",
                          (json_int_t)seq));
    respond_fresh(c, api__jstr(row, "id"), 200);
}

struct publish_ctx {
    struct api *api;
    struct auth_identity id;
    json_t *row;
    int64_t seq;
};

/* On the fan-out thread: only wake the request. */
static void on_sent(void *req) { http_resume(req); }

/* On a worker thread once the event is on every stream. */
static void publish_continue(struct http_req *req, void *ud)
{
    struct publish_ctx *x = ud;
    struct api_call c;
    api__resumed_call(&c, x->api, req, &x->id);
    publish_finish(&c, x->row, x->seq);
    json_decref(x->row);
    free(x);
}

void api__alert_publish(struct api_call *c)
{
    static const char *const none[] = {NULL};
    json_t *row = issuer_alert(c, NEED_WRITE), *body = NULL, *content = NULL, *targets = NULL;
    if (row == NULL)
        return;
    if (!(body = api__optional_body(c)))
        goto out;
    if (!api__only_fields(c, body, none))
        goto fail;
    if (!in_draft(c, row, "published"))
        goto out;
    content = model_alert_content(row);
    if (model_alert_publish_check(content, &c->e))
        goto fail;
    if (!may_issue_to(c, content))
        goto out;
    targets = auth_alert_targets(json_object_get(content, "audience"));
    int64_t seq = 0;
    if (store_alert_publish(c->api->st, api__jstr(row, "id"), c->id.p.user_id, targets, &seq,
                            &c->e))
        goto fail;
    if (c->api->notify == NULL) {
        publish_finish(c, row, seq);
        goto out;
    }
    /*
     * Committed: wake the streams. The rest (recipients, webhook and
     * e-mail work, the answer) waits until the event is on every stream,
     * so it does not compete with the sends for the cores; meanwhile this
     * worker thread serves other connections (http_defer).
     */
    notify_event(c->api->notify, seq);
    struct publish_ctx *x = xcalloc(1, sizeof(*x));
    x->api = c->api;
    x->id = c->id;
    x->row = row;
    x->seq = seq;
    row = NULL;
    http_defer(c->req, publish_continue, x);
    notify_when_sent(c->api->notify, seq, on_sent, c->req);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(targets);
    json_decref(content);
    json_decref(body);
    json_decref(row);
}

/* The newest version of row's series (new reference); NULL with c->e set. */
static json_t *series_latest(struct api_call *c, const json_t *row)
{
    struct store_release_access acc;
    auth_alert_access(&c->id, &acc);
    struct store_alert_filter f = {
        .state = "any", .exercise = -1, .series_id = api__jstr(row, "series_id")};
    json_t *items = NULL, *it, *latest = NULL;
    if (store_alert_list(c->api->st, &acc, &f, 0, NULL, LIMIT_PAGE_MAX, &items, &c->e))
        return NULL;
    size_t i;
    json_array_foreach(items, i, it) if (latest == NULL ||
                                         json_integer_value(json_object_get(it, "version")) >
                                             json_integer_value(json_object_get(latest, "version")))
        latest = it;
    json_incref(latest);
    json_decref(items);
    if (latest == NULL)
        err_set(&c->e, ERR_NOTFOUND, "alert not found");
    return latest;
}

/* The series may take a new version after latest; 409 otherwise. */
static bool series_open(struct api_call *c, const json_t *latest)
{
    if (!api__is(api__jstr(latest, "state"), "published"))
        err_set(&c->e, ERR_CONFLICT, "version %lld of this alert is still a draft: edit or "
                "publish it", (long long)json_integer_value(json_object_get(latest, "version")));
    else if (api__is(api__jstr(latest, "kind"), "withdrawal"))
        err_set(&c->e, ERR_CONFLICT, "the alert was withdrawn");
    else
        return true;
    api__problem(c);
    return false;
}

/* The new version's content from the request over latest's; false with c->e set. */
static bool version_content(struct api_call *c, const json_t *body, const json_t *latest,
                            json_t **out)
{
    struct api_vocabs v;
    if (!api__vocabs_open(c, &v))
        return false;
    json_t *prev = model_alert_content(latest);
    int rc = model_alert_version_check(body, prev, &v.ctx, out, &c->e);
    json_decref(prev);
    api__vocabs_close(&v);
    return rc == 0;
}

void api__alert_version(struct api_call *c)
{
    json_t *row = issuer_alert(c, NEED_WRITE), *body = NULL, *latest = NULL, *content = NULL,
           *next = NULL;
    if (row == NULL)
        return;
    if (!(body = api__body(c, LIMIT_ALERT_BODY_BYTES)))
        goto out;
    if (!(latest = series_latest(c, row)))
        goto fail;
    if (!series_open(c, latest))
        goto out;
    if (!version_content(c, body, latest, &content))
        goto fail;
    if (!may_issue_to(c, content))
        goto out;
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    /* The series keeps its issuer, whoever on its issuer side writes the new version. */
    next = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "series_id",
                     api__jstr(latest, "series_id"), "kind", api__jstr(body, "kind"), "state",
                     "draft", "issuer_org", api__jstr(latest, "issuer_org"), "created_by",
                     c->id.p.user_id);
    model_alert_set_content(next, content);
    if (store_alert_create(c->api->st, next, &c->e))
        goto fail;
    audit_alert(c, "alert.version", next,
                json_pack("{s:s,s:s}", "kind", api__jstr(body, "kind"), "previous",
                          api__jstr(latest, "id")));
    respond_fresh(c, id, 201);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(next);
    json_decref(content);
    json_decref(latest);
    json_decref(body);
    json_decref(row);
}

/* ---- preview ---- */

/* The organisation as a reader: what auth decides for any of its users. */
static void org_reader(const json_t *org, struct auth_identity *out)
{
    memset(out, 0, sizeof(*out));
    util_strlcpy(out->p.org_id, api__jstr(org, "id"), sizeof(out->p.org_id));
    util_strlcpy(out->p.org_kind, api__jstr(org, "kind") ? api__jstr(org, "kind") : "",
                 sizeof(out->p.org_kind));
    util_strlcpy(out->p.org_tier, api__jstr(org, "tier") ? api__jstr(org, "tier") : "",
                 sizeof(out->p.org_tier));
    size_t i, used = 0;
    json_t *s;
    json_array_foreach(json_object_get(org, "sectors"), i, s)
    {
        int n = snprintf(out->p.org_sectors + used, sizeof(out->p.org_sectors) - used, "%s%s",
                         used ? "," : "", json_string_value(s));
        if (n < 0 || (size_t)n >= sizeof(out->p.org_sectors) - used)
            break;
        used += (size_t)n;
    }
    out->p.roles = MODEL_ROLE_MEMBER;
}

/* Is org_id among the recipients fixed at publication? */
static int is_recipient(struct api_call *c, const char *alert_id, const char *org_id,
                        bool *yes)
{
    json_t *list = NULL, *r;
    size_t i;
    *yes = false;
    if (store_alert_recipients(c->api->st, alert_id, &list, &c->e))
        return c->e.code;
    json_array_foreach(list, i, r) *yes = *yes || api__is(api__jstr(r, "org_id"), org_id);
    json_decref(list);
    return 0;
}

/*
 * Would the alert reach org? Published: it is one of the recipients.
 * Draft: enabled, not the issuer, and one of its keys is targeted (the
 * same keys the store matches at publication).
 */
static int targets_org(struct api_call *c, const json_t *row, const json_t *org,
                       const struct auth_identity *reader, bool *yes)
{
    if (api__is(api__jstr(row, "state"), "published"))
        return is_recipient(c, api__jstr(row, "id"), api__jstr(org, "id"), yes);
    json_t *dis = json_object_get(org, "disabled");
    *yes = false;
    if (json_is_true(dis) || json_integer_value(dis) ||
        api__is(api__jstr(org, "id"), api__jstr(row, "issuer_org")))
        return 0;
    struct store_release_access acc;
    auth_alert_access(reader, &acc);
    json_t *targets = auth_alert_targets(json_object_get(row, "audience")), *t;
    size_t i;
    json_array_foreach(targets, i, t) for (int k = 0; k < acc.nkeys; k++)
        *yes = *yes || api__is(json_string_value(t), acc.keys[k]);
    json_decref(targets);
    return 0;
}

/* The channels org registered: streams and the inbox always, webhooks and e-mail if set up. */
static json_t *org_channels(struct api_call *c, const json_t *org)
{
    json_t *hooks = NULL, *x;
    size_t i;
    if (store_webhook_list(c->api->st, api__jstr(org, "id"), &hooks, &c->e))
        return NULL;
    bool webhook = false, email = false;
    json_array_foreach(hooks, i, x) webhook =
        webhook || json_is_true(json_object_get(x, "enabled"));
    json_decref(hooks);
    json_array_foreach(json_object_get(org, "contacts"), i, x) email =
        email || api__is(api__jstr(x, "type"), "email");
    json_t *ch = json_pack("[s,s]", "stream", "inbox");
    if (webhook)
        json_array_append_new(ch, json_string("webhook"));
    if (email)
        json_array_append_new(ch, json_string("email"));
    return ch;
}

void api__alert_preview(struct api_call *c)
{
    json_t *row = issuer_alert(c, NEED_READ), *org = NULL, *channels = NULL;
    if (row == NULL)
        return;
    bool bad = false, targeted = false;
    const char *org_id = api__query_id(c, "org_id", &bad);
    if (bad)
        goto out;
    if (org_id == NULL) {
        api__bad_param(c, "org_id", "required: the organisation to preview for");
        goto out;
    }
    if (store_org_get(c->api->st, org_id, &org, &c->e)) {
        if (c->e.code == ERR_NOTFOUND)
            err_set(&c->e, ERR_NOTFOUND, "organisation not found");
        goto fail;
    }
    struct auth_identity reader;
    org_reader(org, &reader);
    if (targets_org(c, row, org, &reader, &targeted) || !(channels = org_channels(c, org)))
        goto fail;
    /* A draft is shown as it would arrive if published now. */
    if (api__is(api__jstr(row, "state"), "draft")) {
        json_object_set_new(row, "state", json_string("published"));
        json_object_set_new(row, "published_at", time_ms(util_now_ms()));
        json_object_set_new(row, "published_by", json_string(c->id.p.user_id));
    }
    json_t *view = api_alert_view(&reader, row);
    if (view == NULL) {
        err_set(&c->e, ERR_NOMEM, "alert view");
        goto fail;
    }
    http_respond_json(c->req, 200, json_pack("{s:b,s:O,s:o}", "targeted", targeted, "channels",
                                             channels, "alert", view));
    goto out;
fail:
    api__problem(c);
out:
    json_decref(channels);
    json_decref(org);
    json_decref(row);
}

/* ---- receipts ---- */

/* Where a user acknowledges: the web UI (a session) or a program (a token). */
static const char *ack_channel(const struct api_call *c)
{
    return c->id.via_session ? "ui" : "api";
}

/* The channels an alert is delivered on, as the delivery page lists them. */
static const char *const delivery_channels[] = {"stream", "inbox", "webhook", "email"};

/*
 * What one organisation's receipts of a version say: the first time of
 * each kind (0: none), the first delivery per delivery_channels[], and the
 * note of its acted receipt.
 */
struct org_times {
    int64_t delivered, read, acted;
    int64_t channel[4];
    const char *note;
};

static void org_times(const json_t *receipts, const char *org_id, struct org_times *t)
{
    memset(t, 0, sizeof(*t));
    size_t i;
    json_t *r;
    json_array_foreach(receipts, i, r)
    {
        if (!api__is(api__jstr(r, "org_id"), org_id))
            continue;
        int64_t at = json_integer_value(json_object_get(r, "at"));
        const char *kind = api__jstr(r, "kind");
        int64_t *first = api__is(kind, "delivered") ? &t->delivered
                         : api__is(kind, "read")    ? &t->read
                         : api__is(kind, "acted")   ? &t->acted
                                                    : NULL;
        if (first && (!*first || at < *first))
            *first = at;
        for (int k = 0; k < 4 && api__is(kind, "delivered"); k++)
            if (api__is(api__jstr(r, "channel"), delivery_channels[k]) &&
                (!t->channel[k] || at < t->channel[k]))
                t->channel[k] = at;
        if (api__is(kind, "acted") && api__jstr(r, "note"))
            t->note = api__jstr(r, "note");
    }
}

/*
 * One organisation's receipt of an alert version: {"delivered_at" (first
 * on any channel), "read_at", "acted_at", "note"} (new reference).
 */
static json_t *org_receipt(const json_t *receipts, const char *org_id)
{
    struct org_times t;
    org_times(receipts, org_id, &t);
    return json_pack("{s:o,s:o,s:o,s:o}", "delivered_at", time_ms_or_null(t.delivered), "read_at",
                     time_ms_or_null(t.read), "acted_at", time_ms_or_null(t.acted), "note",
                     t.note ? json_string(t.note) : json_null());
}

/* The caller's organisation's receipt of alert_id (new reference); NULL with c->e set. */
static json_t *my_receipt(struct api_call *c, const char *alert_id)
{
    json_t *receipts = NULL, *recipients = NULL;
    if (store_alert_receipts(c->api->st, alert_id, &receipts, &recipients, &c->e))
        return NULL;
    json_t *out = org_receipt(receipts, c->id.p.org_id);
    json_decref(receipts);
    json_decref(recipients);
    return out;
}

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') || *p == 0x7f)
            return true;
    return false;
}

/* The request of a receipt: kind read|acted, a note only with acted; false with c->e set. */
static bool receipt_request(struct api_call *c, const json_t *body)
{
    static const char *const allowed[] = {"kind", "note", NULL};
    api__only_fields(c, body, allowed);
    const char *kind = api__jstr(body, "kind");
    if (!api__is(kind, "acted") && !api__is(kind, "read"))
        err_field(&c->e, "kind", "required: read or acted");
    json_t *note = json_object_get(body, "note");
    const char *s = json_string_value(note);
    bool has_note = note && !json_is_null(note);
    if (has_note && api__is(kind, "read"))
        err_field(&c->e, "note", "only an acted receipt carries a note");
    else if (has_note && s == NULL)
        err_field(&c->e, "note", "must be a text");
    else if (s && util_utf8_chars(s) > LIMIT_ALERT_NOTE)
        err_field(&c->e, "note", "too long: at most %d characters", LIMIT_ALERT_NOTE);
    else if (s && has_control(s))
        err_field(&c->e, "note", "must not contain control characters");
    return c->e.nfields == 0;
}

/* Only organisations the alert was sent to acknowledge it; false after responding. */
static bool may_acknowledge(struct api_call *c, const json_t *row)
{
    bool recipient = false;
    if (auth_can_acknowledge_alert(&c->id) &&
        is_recipient(c, api__jstr(row, "id"), c->id.p.org_id, &recipient)) {
        api__problem(c);
        return false;
    }
    return recipient || api__deny(c, "only organisations the alert was sent to acknowledge it");
}

void api__alert_receipt(struct api_call *c)
{
    json_t *row = load_alert(c, c->params[0]), *body = NULL;
    if (row == NULL) {
        api__problem(c);
        return;
    }
    if (!(body = api__body(c, LIMIT_MEMBER_BODY_BYTES)) || !may_acknowledge(c, row))
        goto out;
    if (!receipt_request(c, body))
        goto fail;
    const char *kind = api__jstr(body, "kind");
    /* What was read was delivered: the same receipt counts as reaching the organisation. */
    int64_t now = util_now_ms();
    struct store_receipt r[2] = {
        {api__jstr(row, "id"), c->id.p.org_id, "delivered", ack_channel(c), c->id.p.user_id, now,
         NULL},
        {api__jstr(row, "id"), c->id.p.org_id, kind, ack_channel(c), c->id.p.user_id, now,
         api__jstr(body, "note")}};
    if (store_receipts_add(c->api->st, r, 2, &c->e))
        goto fail;
    audit_alert(c, "alert.receipt", row, json_pack("{s:s}", "kind", kind));
    json_t *out = my_receipt(c, api__jstr(row, "id"));
    if (out == NULL)
        goto fail;
    http_respond_json(c->req, 200, out);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(body);
    json_decref(row);
}

/* ---- reads ---- */

void api__alert_get(struct api_call *c)
{
    json_t *row = load_alert(c, c->params[0]), *view = NULL, *receipt = NULL;
    if (row == NULL)
        goto fail;
    bool recipient = !auth_is_alert_issuer_side(&c->id, row);
    /* a recipient opening a marked alert is recorded */
    if (recipient && !api__audit_read(c, "alert.read", "alert", row))
        goto out;
    if (recipient && !(receipt = my_receipt(c, api__jstr(row, "id"))))
        goto fail;
    if (!(view = present(c, row)))
        goto fail;
    if (receipt)
        json_object_set(view, "receipt", receipt);
    http_respond_json(c->req, 200, view);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(receipt);
    json_decref(row);
}

static const char *const list_states[] = {"draft", "published", "any"};

/* The list's query: the store's filter and its time window in milliseconds. */
struct alert_query {
    struct store_alert_filter f;
};

/*
 * An RFC 3339 query parameter as milliseconds; false after responding 400.
 * The store filters whole seconds (*s: floor for since, ceiling for until,
 * so nothing in the window is lost); alert_in_window() trims the rest.
 */
static bool query_time(struct api_call *c, const char *name, const char *v, int64_t *ms)
{
    int64_t t;
    int off;
    if (v == NULL)
        return true;
    if (!util_time_parse(v, &t, &off)) {
        api__bad_param(c, name, "must be an RFC 3339 date-time with an offset");
        return false;
    }
    *ms = time_text_ms(v);
    return true;
}

/* The list's filters; false after responding 400. */
static bool alert_filter(struct api_call *c, struct alert_query *aq)
{
    struct store_alert_filter *f = &aq->f;
    bool bad = false;
    memset(aq, 0, sizeof(*aq));
    f->state = api__query(c, "state", 16, &bad);
    f->urgency = api__query(c, "urgency", 16, &bad);
    f->q = api__query(c, "q", LIMIT_QUERY_CHARS, &bad);
    const char *ex = api__query(c, "exercise", 8, &bad);
    const char *since = api__query(c, "since", 40, &bad);
    const char *until = api__query(c, "until", 40, &bad);
    if (bad)
        return false;
    bool known = f->state == NULL;
    for (size_t i = 0; i < sizeof(list_states) / sizeof(list_states[0]) && !known; i++)
        known = !strcmp(f->state, list_states[i]);
    f->exercise = ex == NULL || api__is(ex, "false") ? 0 : api__is(ex, "true") ? 1 : -1;
    f->latest = f->state == NULL;
    if (!known)
        api__bad_param(c, "state", "must be draft, published or any");
    else if (f->urgency && !model_alert_urgency_valid(f->urgency))
        api__bad_param(c, "urgency", "must be routine, urgent or critical");
    else if (ex && !api__is(ex, "false") && !api__is(ex, "true") && !api__is(ex, "any"))
        api__bad_param(c, "exercise", "must be false (real traffic), true (exercises) or any");
    else
        return query_time(c, "since", since, &f->since_ms) &&
               query_time(c, "until", until, &f->until_ms);
    return false;
}

/* The store's page: limit+1 rows after the decoded cursor; NULL after responding. */
static json_t *alert_rows(struct api_call *c, const struct store_alert_filter *f,
                          const char *after, int limit)
{
    int64_t after_seq;
    const char *after_id;
    if (!api__seq_cursor(c, after, f->state == NULL, &after_seq, &after_id))
        return NULL;
    struct store_release_access acc;
    auth_alert_access(&c->id, &acc);
    json_t *rows = NULL;
    if (store_alert_list(c->api->st, &acc, f, after_seq, after_id, limit + 1, &rows, &c->e)) {
        api__problem(c);
        return NULL;
    }
    return rows;
}

/*
 * The inbox delivered the listed alerts to the caller's organisation: one
 * receipt each (the store keeps the first). Not for the issuer's own, and
 * the store ignores organisations an alert did not target. A failure only
 * costs the record, not the listing.
 */
static void record_inbox(struct api_call *c, const json_t *rows)
{
    if (!auth_can_acknowledge_alert(&c->id) || json_array_size(rows) == 0)
        return;
    struct store_receipt *r = xcalloc(json_array_size(rows), sizeof(*r));
    size_t i, n = 0;
    json_t *row;
    int64_t now = util_now_ms();
    json_array_foreach(rows, i, row)
    {
        if (!api__is(api__jstr(row, "state"), "published") ||
            api__is(api__jstr(row, "issuer_org"), c->id.p.org_id))
            continue;
        r[n++] = (struct store_receipt){
            api__jstr(row, "id"), c->id.p.org_id, "delivered", "inbox", c->id.p.user_id, now, NULL};
    }
    struct err e;
    err_init(&e);
    if (n && store_receipts_add(c->api->st, r, n, &e))
        log_warn("alerts: inbox receipts of %s not recorded: %s", c->id.p.org_id, e.detail);
    free(r);
}

void api__alert_list(struct api_call *c)
{
    int limit;
    char after[64];
    struct alert_query aq;
    if (!api__limit(c, LIMIT_PAGE_DEFAULT, LIMIT_PAGE_MAX, &limit) ||
        !api__cursor_raw(c, after, sizeof(after)) || !alert_filter(c, &aq))
        return;
    json_t *rows = alert_rows(c, &aq.f, after, limit);
    if (rows == NULL)
        return;
    json_t *next = api__seq_next(rows, limit, aq.f.state == NULL), *items = json_array();
    record_inbox(c, rows);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *view = present(c, row);
        if (view == NULL)
            break;
        json_array_append_new(items, view);
    }
    json_decref(rows);
    if (c->e.code) {
        json_decref(items);
        json_decref(next);
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

/* ---- the delivery page ---- */

/* Upper bounds of the time-to-receipt buckets; a last bucket (null) holds the slower. */
static const int64_t bucket_le_ms[] = {1000,   5000,    10000,   30000,   60000,
                                       300000, 600000,  1800000, 3600000, 86400000};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values (n > 0). */
static int64_t percentile(const int64_t *v, size_t n, int p)
{
    size_t rank = (n * (size_t)p + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

/* {"p50_ms","p90_ms","p99_ms","max_ms","buckets"} of n times (sorted here). */
static json_t *time_to_receipt(int64_t *t, size_t n)
{
    qsort(t, n, sizeof(*t), cmp_i64);
    json_t *buckets = json_array();
    size_t nb = sizeof(bucket_le_ms) / sizeof(bucket_le_ms[0]), j = 0;
    for (size_t b = 0; b <= nb; b++) {
        size_t count = 0;
        while (j < n && (b == nb || t[j] <= bucket_le_ms[b])) {
            count++;
            j++;
        }
        json_array_append_new(buckets,
                              json_pack("{s:o,s:I}", "le_ms",
                                        b < nb ? json_integer(bucket_le_ms[b]) : json_null(),
                                        "count", (json_int_t)count));
    }
    if (n == 0)
        return json_pack("{s:n,s:n,s:n,s:n,s:o}", "p50_ms", "p90_ms", "p99_ms", "max_ms",
                         "buckets", buckets);
    return json_pack("{s:I,s:I,s:I,s:I,s:o}", "p50_ms", (json_int_t)percentile(t, n, 50),
                     "p90_ms", (json_int_t)percentile(t, n, 90), "p99_ms",
                     (json_int_t)percentile(t, n, 99), "max_ms", (json_int_t)t[n - 1], "buckets",
                     buckets);
}

/* What the page counts. */
struct tally {
    size_t targeted, reached, read, acted;
    int64_t *ttr; /* first delivery minus publication, per reached organisation */
    json_t *not_reached, *orgs;
};

/* One recipient's line of the page; counts it into t. */
static void tally_org(struct tally *t, const json_t *recipient, const json_t *receipts,
                      int64_t published)
{
    const char *org_id = api__jstr(recipient, "org_id");
    struct org_times ot;
    org_times(receipts, org_id, &ot);
    int64_t escalated = json_integer_value(json_object_get(recipient, "escalated_at"));
    json_t *name = member_or_null(recipient, "name");
    t->targeted++;
    if (ot.delivered)
        t->ttr[t->reached++] = ot.delivered > published ? ot.delivered - published : 0;
    else
        json_array_append_new(t->not_reached,
                              json_pack("{s:s,s:O}", "org_id", org_id, "name", name));
    t->read += ot.read != 0;
    t->acted += ot.acted != 0;
    json_t *d = json_object();
    for (int k = 0; k < 4; k++)
        json_object_set_new(d, delivery_channels[k], time_ms_or_null(ot.channel[k]));
    json_array_append_new(t->orgs,
                          json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "org_id", org_id, "name", name,
                                    "delivered", d, "read_at", time_ms_or_null(ot.read), "acted_at",
                                    time_ms_or_null(ot.acted), "note",
                                    ot.note ? json_string(ot.note) : json_null(), "escalated_at",
                                    time_ms_or_null(escalated)));
}

static double rate(size_t n, size_t of) { return of ? (double)n / (double)of : 0.0; }

/* The delivery page of a published alert version (new reference); NULL with c->e set. */
static json_t *delivery_page(struct api_call *c, const json_t *row)
{
    json_t *recipients = NULL, *receipts = NULL;
    const char *id = api__jstr(row, "id");
    if (store_alert_receipts(c->api->st, id, &receipts, &recipients, &c->e))
        return NULL;
    struct tally t = {.ttr = xcalloc(json_array_size(recipients) + 1, sizeof(int64_t)),
                      .not_reached = json_array(),
                      .orgs = json_array()};
    int64_t published = time_text_ms(api__jstr(row, "published_at"));
    size_t i;
    json_t *r;
    json_array_foreach(recipients, i, r) tally_org(&t, r, receipts, published);
    json_t *page = json_pack(
        "{s:s,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:o,s:o,s:o}", "alert_id", id,
        "series_id", member_or_null(row, "series_id"), "published_at",
        member_or_null(row, "published_at"), "exercise", member_or_null(row, "exercise"),
        "targeted", (json_int_t)t.targeted, "reached", (json_int_t)t.reached, "read",
        (json_int_t)t.read, "acted", (json_int_t)t.acted, "reachability",
        rate(t.reached, t.targeted), "read_rate", rate(t.read, t.targeted), "acted_rate",
        rate(t.acted, t.targeted), "time_to_receipt", time_to_receipt(t.ttr, t.reached),
        "not_reached", t.not_reached, "orgs", t.orgs);
    free(t.ttr);
    json_decref(recipients);
    json_decref(receipts);
    if (page == NULL)
        err_set(&c->e, ERR_INTERNAL, "delivery page");
    return page;
}

void api__alert_delivery(struct api_call *c)
{
    json_t *row = issuer_alert(c, NEED_READ);
    if (row == NULL)
        return;
    json_t *page = NULL;
    if (!api__is(api__jstr(row, "state"), "published"))
        err_set(&c->e, ERR_CONFLICT, "the alert is a draft: nothing was delivered yet");
    else
        page = delivery_page(c, row);
    json_decref(row);
    if (page == NULL)
        api__problem(c);
    else
        http_respond_json(c->req, 200, page);
}
