/*
 * deliver.h - alert delivery over webhooks and e-mail, and escalation
 * (issue 5): the workers that drain the store's outbox.
 *
 * Publishing an alert version (store_alert_publish()) queues one outbox
 * row per recipient organisation and destination: each enabled webhook,
 * each e-mail contact. Three threads started here do the rest, so no
 * request thread and no stream ever waits on a remote server:
 *
 *  - the webhook worker claims due "webhook" rows and POSTs them, many at
 *    once (libcurl multi, DELIVER_MAX_INFLIGHT transfers), each signed:
 *        X-Isac-Timestamp: <unix seconds>
 *        X-Isac-Signature: sha256=<hex HMAC-SHA256(key, timestamp "." body)>
 *    where key is the webhook's secret exactly as the API returned it (the
 *    43 base64url characters, not the bytes they encode), so a receiver
 *    checks it with its HMAC library and the string it was given;
 *  - the e-mail worker (only when smtp_url is set) sends "email" rows as
 *    UTF-8 text/plain messages in the contact's language over SMTP;
 *  - the escalation loop re-queues, once, the webhook and e-mail delivery
 *    of an urgent or critical alert to each recipient that has not read it
 *    alert_escalate_after_s after publication, and audits alert.escalate.
 *
 * A 2xx answer (webhook) or an accepted message (SMTP) is delivered: the
 * row is done and the organisation's "delivered" receipt on that channel
 * is written with it. Anything else is retried after webhook_backoff_ms,
 * doubling each time (at most an hour), until webhook_max_tries tries,
 * then the row is dead (the dead letters stay in the outbox and the
 * webhook's delivery log). Every try is logged in the store.
 *
 * Workers poll the outbox every deliver_poll_ms; deliver_kick() wakes them
 * at once. The alert API calls deliver_kick(c->api->deliver) right after a
 * publish commits.
 *
 * Webhooks connect only to public unicast addresses (checked on every
 * connection, after name resolution: CURLOPT_OPENSOCKETFUNCTION), unless
 * the config sets webhook_allow_private: no organisation can use the hub
 * to probe the hub's own network.
 * NEEDSWORK: each result is its own store write (one commit per try); at
 * thousands of deliveries a burst, results recorded in batches would cut
 * the fsyncs.
 */
#ifndef ISAC_DELIVER_H
#define ISAC_DELIVER_H

#include <jansson.h>

#include "base/cfg.h"
#include "base/err.h"
#include "store/store.h"

/* Transfers in flight per worker. */
#define DELIVER_MAX_INFLIGHT 64

struct deliver;

/*
 * The recipients' view of a stored alert version (new reference), as the
 * API shows it: the "alert" of a webhook body. The API's renderer is passed
 * in (deliver may not depend on api or auth), as notify_new() takes it, so
 * the API, streams and webhooks show one shape.
 */
typedef json_t *deliver_present_fn(const json_t *row);

/*
 * Start the workers on st with cfg (both borrowed: they must outlive
 * deliver_free()). present renders the alert of webhook bodies; NULL uses
 * deliver's own copy of the rule (deliver_int.h). *out: deliver_free() it.
 * ERR_INTERNAL if libcurl or a thread cannot start.
 */
int deliver_new(struct store *st, const struct cfg *cfg, deliver_present_fn *present,
                struct deliver **out, struct err *e);

/*
 * Stop the workers. Transfers in flight are abandoned and their rows made
 * due again at once (the try is logged as interrupted), so a restart sends
 * them. Call it before store_close(), and after every thread that may call
 * deliver_kick() has stopped. NULL is fine.
 */
void deliver_free(struct deliver *d);

/* New outbox rows are due: look now instead of at the next poll. Never blocks; NULL is fine. */
void deliver_kick(struct deliver *d);

#endif
