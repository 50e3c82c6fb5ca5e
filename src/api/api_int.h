/*
 * api_int.h - what the route handlers of api/ share.
 */
#ifndef ISAC_API_INT_H
#define ISAC_API_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "api.h"
#include "auth/auth.h"
#include "model/member.h"
#include "model/report.h"

#define API_MAX_PARAMS 2

struct api_call {
    struct api *api;
    struct http_req *req;
    struct auth_identity id;      /* valid when authenticated */
    bool authed;
    const char *params[API_MAX_PARAMS]; /* {x} path segments, in order */
    char param_buf[API_MAX_PARAMS][128];
    struct err e;
};

typedef void api_fn(struct api_call *c);

/* Respond with the problem in c->e (or code if c->e is clear). */
void api__fail(struct api_call *c, int code, const char *detail);
/* Respond with c->e. */
void api__problem(struct api_call *c);
/* The call of a deferred request resumed on a worker thread (http_defer): authenticated as id. */
void api__resumed_call(struct api_call *c, struct api *api, struct http_req *req,
                       const struct auth_identity *id);

/*
 * Parse the request body as a JSON object within max bytes. On failure
 * responds (413, 415, 400) and returns NULL.
 */
json_t *api__body(struct api_call *c, size_t max);

/* Page parameters: limit and cursor. On failure responds 400 and returns false. */
struct api_page {
    int limit;
    char after[64];
    bool has_after;
};
bool api__page(struct api_call *c, struct api_page *p);
/*
 * Opaque cursors that are not a plain id: raw text in, base64url out.
 * api__cursor_raw() decodes ?cursor into raw (NUL-terminated, printable
 * ASCII only); false after responding 400; *raw = "" when absent.
 */
bool api__cursor_raw(struct api_call *c, char *raw, size_t n);
json_t *api__cursor_json(const char *raw);
/* ?limit within [1, max], default dflt; false after responding 400. */
bool api__limit(struct api_call *c, int dflt, int max, int *out);
/* {"items": items, "next_cursor": ...}; items had limit+1 fetched; takes items. */
void api__respond_page(struct api_call *c, json_t *items, const struct api_page *p);

/* Known codes of a data-driven vocabulary, for validation. */
enum api_vocab_kind { API_VOCAB_SECTORS, API_VOCAB_TIERS, API_VOCAB_REGIMES };
struct api_vocab {
    json_t *list;
    const char **codes;
    struct model_vocab v;
};
/* On failure sets c->e (the caller responds). */
int api__vocab_load(struct api_call *c, enum api_vocab_kind kind, struct api_vocab *out);
void api__vocab_release(struct api_vocab *v);
/* Forget the cached list after a write to it. */
void api__vocab_invalidate(struct api *a, enum api_vocab_kind kind);

/*
 * A query parameter: NULL when absent; on invalid UTF-8 or over max chars
 * responds 400 and sets *bad.
 */
const char *api__query(struct api_call *c, const char *name, size_t max, bool *bad);
/* A query parameter that must be an id (UUID) / a known code; as api__query. */
const char *api__query_id(struct api_call *c, const char *name, bool *bad);
const char *api__query_code(struct api_call *c, const char *name, enum api_vocab_kind kind,
                            bool *bad);
/* "true"/"false" query flag; responds 400 and sets *bad otherwise. */
bool api__query_bool(struct api_call *c, const char *name, bool *bad);


/* 201 with Location /api/v1/<collection>/<id>; takes obj. */
void api__respond_created(struct api_call *c, const char *collection, const char *id,
                          json_t *obj);
/* 400 bad-request naming the query parameter. */
void api__bad_param(struct api_call *c, const char *name, const char *reason);

/*
 * Append to the audit log as the caller (c->authed) or anonymously.
 * Returns the store's code; a failure is logged. Takes detail.
 */
int api__audit(struct api_call *c, const char *action, const char *object_kind,
               const char *object_id, const char *outcome, json_t *detail);
/*
 * A read of a marked (not TLP:CLEAR) object obj ({"id","tlp",...}) is
 * recorded as action: restricted content is not shown unrecorded. False
 * after responding 503 when it could not be.
 */
bool api__audit_read(struct api_call *c, const char *action, const char *kind, const json_t *obj);

/* The member names of o as a JSON array (new reference): what a patch changed, for audit. */
json_t *api__keys(const json_t *o);
/* A report the caller may see (auth_report_access()), unredacted; NULL with c->e set. */
json_t *api__report_load(struct api_call *c, const char *id, bool with_revisions);

/* The string member k of o, or NULL. */
const char *api__jstr(const json_t *o, const char *k);
/* Both texts there and equal. */
bool api__is(const char *a, const char *b);
/* Respond 403 with why; returns false (for "return ok || api__deny(...)"). */
bool api__deny(struct api_call *c, const char *why);
/* The body of a POST that may have none: {} then. NULL after responding. */
json_t *api__optional_body(struct api_call *c);
/* Members of body not in allowed (NULL-terminated) → field errors; true when there were none. */
bool api__only_fields(struct api_call *c, const json_t *body, const char *const *allowed);
/*
 * Member name of body: a text of at most max characters without control
 * characters (tab and line breaks allowed), or null/absent unless
 * required (then also not blank); false with a field error.
 */
bool api__text_member(struct api_call *c, const json_t *body, const char *name, size_t max,
                      bool required);

/*
 * The ?min_severity, ?since and ?until filters of report and release
 * lists. api__range_query() reads them (as api__query: sets *bad after
 * responding); api__range_check(), called after the list's own checks so
 * the first bad parameter is the one named, parses them into *min_severity
 * (0-4; untouched when absent), *since and *until (RFC 3339 with an
 * offset, as seconds); false after responding 400.
 */
struct api_range {
    const char *min_severity, *since, *until;
};
void api__range_query(struct api_call *c, struct api_range *r, bool *bad);
bool api__range_check(struct api_call *c, const struct api_range *r, int *min_severity,
                      int64_t *since, int64_t *until);

/*
 * Cursors of lists that are an inbox (newest event first: the cursor is
 * the event id, pub_seq) or a work queue (newest id first: an id).
 * api__seq_cursor() parses the decoded cursor raw ("" on the first page)
 * into *after_seq (inbox) or *after_id (queue; points into raw), the other
 * 0/NULL; false after responding 400. api__seq_next() drops the extra row
 * of rows (limit+1 fetched) and returns the next cursor, or null.
 */
bool api__seq_cursor(struct api_call *c, const char *raw, bool inbox, int64_t *after_seq,
                     const char **after_id);
json_t *api__seq_next(json_t *rows, int limit, bool inbox);

/* The known sector and tier codes for model_audience_check() and model_alert_*() (now: now). */
struct api_vocabs {
    struct api_vocab sec, tiers;
    struct model_report_ctx ctx;
};
/* False with c->e set (nothing to close then). */
bool api__vocabs_open(struct api_call *c, struct api_vocabs *v);
void api__vocabs_close(struct api_vocabs *v);

/* Route handlers (api_members.c). */
api_fn api__session_create, api__session_delete, api__me, api__me_password;
api_fn api__sector_list, api__sector_get, api__sector_create, api__sector_update;
api_fn api__tier_list, api__tier_get;
api_fn api__org_list, api__org_get, api__org_create, api__org_update, api__org_disable;
api_fn api__user_list, api__user_get, api__user_create, api__user_update, api__user_disable;
api_fn api__token_list, api__token_get, api__token_create, api__token_update, api__token_revoke;

/* Route handlers (api_audit.c). */
api_fn api__audit_list, api__audit_verify;

/* Route handlers (api_reports.c). */
api_fn api__report_create, api__report_list, api__report_due, api__report_get, api__report_revise;
api_fn api__regime_list, api__regime_get, api__regime_create, api__regime_update;
api_fn api__nearmiss_put, api__nearmiss_list, api__nearmiss_totals;

/* Route handlers (api_anon.c): the anonymizer's redaction rules. */
api_fn api__anon_rules_get, api__anon_rules_put;

/* Route handlers (api_releases.c): releases, consent requests, the inbox, export. */
api_fn api__release_create, api__report_releases, api__release_list, api__release_export;
api_fn api__release_get, api__release_update, api__release_submit, api__release_approve;
api_fn api__release_refuse, api__release_publish, api__release_withdraw;
api_fn api__audreq_create, api__audreq_list_release, api__audreq_list, api__audreq_approve;
api_fn api__audreq_refuse;

/* Route handlers (api_stream.c): the server-sent event stream. */
api_fn api__stream;

/*
 * An alert version as the API shows it (api_alert_view.c): the stored
 * row's body fields (title, summary, actions, links, observables) at the
 * top level, redacted for id by auth_alert_redact()
 * (id NULL: the recipients' view, which streams and webhooks carry). New
 * reference; row is not modified.
 */
json_t *api_alert_view(const struct auth_identity *id, const json_t *row);

/* Route handlers (api_alerts.c): alerts, receipts, the delivery page. */
api_fn api__alert_create, api__alert_list, api__alert_get, api__alert_update;
api_fn api__alert_preview, api__alert_publish, api__alert_version, api__alert_receipt;
api_fn api__alert_delivery;

/* Route handlers (api_webhooks.c): organisations' webhooks and their delivery logs. */
api_fn api__webhook_list, api__webhook_create, api__webhook_get, api__webhook_update;
api_fn api__webhook_delete, api__webhook_log;

/*
 * The anonymizer's input for a report of provider org_id (api_anon.c):
 * *rules the built-in and custom rules compiled (anon_rules_free()); *org
 * the provider as anon.h reads it ({"kind","sectors","name","aliases",
 * "domains","ip_ranges","hostnames","persons"}); *context {"k" (cfg
 * anon_k), "sectors": [{code, name, members}] with the enabled
 * organisations of the provider's kind per sector, "allow" (cfg
 * anon_allow)}. New references. Returns 0, or the code with c->e set and
 * all three NULL (ERR_NOTFOUND: no such organisation; ERR_INTERNAL: the
 * stored rules no longer compile).
 */
struct anon_rules;
int api__anon_load(struct api_call *c, const char *org_id, struct anon_rules **rules,
                   json_t **org, json_t **context);

#endif
