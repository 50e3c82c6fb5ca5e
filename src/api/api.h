/*
 * api.h - the native JSON API under /api/v1, plus /healthz and the static UI.
 *
 * api_handle() is the http handler: it routes, authenticates (bearer token
 * or session cookie with CSRF check on writes), parses JSON bodies and
 * calls one handler per route. Handlers ask auth/ for every decision and
 * the store for data; they never decide access themselves.
 */
#ifndef ISAC_API_H
#define ISAC_API_H

#include <pthread.h>

#include <jansson.h>

#include "base/cfg.h"
#include "http/http.h"
#include "store/store.h"

/*
 * Reference data (sectors, tiers, regimes) changes rarely but every write
 * validates against it: keep each list for API_VOCAB_TTL_MS, dropped at
 * once when this process writes it.
 */
#define API_VOCAB_TTL_MS 2000
struct api_vocab_cache {
    pthread_mutex_t mu;
    json_t *list[3];         /* by enum api_vocab_kind; read-only once cached */
    int64_t loaded_ms[3];
};

struct notify;
struct deliver;

struct api {
    struct store *st;        /* borrowed */
    struct api_vocab_cache vocab;
    const struct cfg *cfg;   /* borrowed */
    char *openapi;           /* the OpenAPI document, read at start */
    size_t openapi_len;
    char web_root[1100];     /* share_dir/web */
    struct notify *notify;   /* borrowed: the stream fan-out (NULL: streams unavailable) */
    struct deliver *deliver; /* borrowed: webhook and e-mail workers (deliver_kick() after a
                              * publish; NULL is fine) */
};

/* Load the OpenAPI document and set up; ERR_IO if share_dir is wrong. */
int api_init(struct api *a, struct store *st, const struct cfg *cfg, struct err *e);
void api_release(struct api *a);

/*
 * Set "due_at" and "due_stage" of a report row ({"stage","content",...})
 * from its regime: the next stage to report and when. fallback anchors a
 * report that knows neither detected_at nor occurred_at.
 */
int api_report_due(struct store *st, json_t *row, int64_t fallback, struct err *e);

/* The recipients' view of a stored alert version (new reference): what streams carry. */
json_t *api_alert_recipient_view(const json_t *row);

/* The http_handler_fn; ud is a struct api *. */
void api_handle(struct http_req *req, void *ud);

#endif
