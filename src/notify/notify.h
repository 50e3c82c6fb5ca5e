/*
 * notify.h - the in-process fan-out of published alert versions to the
 * server-sent-event streams of GET /api/v1/stream (issue 5).
 *
 * Publishing commits first (store_alert_publish() assigns the event id,
 * pub_seq); only then does the API call notify_event(), which loads the
 * event once, renders the recipients' view once, and hands the same bytes
 * to every subscriber whose keys the event targets. Nothing here waits on
 * the network: a subscriber's bytes are queued and its connection woken;
 * a subscriber that cannot keep up is dropped (it resumes with
 * Last-Event-ID and loses nothing, since events are durable).
 *
 * Multi-node (PostgreSQL): each node's notify listens on a channel
 * (LISTEN isac_events) and calls notify_event() for the ids it hears; the
 * publishing node sends NOTIFY in the publishing transaction. With SQLite
 * there is one node and the call is direct.
 */
#ifndef ISAC_NOTIFY_H
#define ISAC_NOTIFY_H

#include <stdint.h>

#include "base/cfg.h"
#include "base/err.h"
#include "http/http.h"
#include "store/store.h"

struct notify;

/* The recipients' view of a stored alert version (new reference), as the API shows it. */
typedef json_t *notify_present_fn(const json_t *row);

/*
 * Start the fan-out and heartbeat threads. present renders each event
 * once for every subscriber. *out: notify_stop() then notify_free() it.
 */
int notify_new(struct store *st, const struct cfg *cfg, notify_present_fn *present,
               struct notify **out, struct err *e);
/*
 * End every stream (clients reconnect elsewhere or later with
 * Last-Event-ID) and stop the threads; later subscriptions fail. Call it
 * before stopping the HTTP server, which would otherwise wait for streams.
 */
void notify_stop(struct notify *n);
/* Free what is left (after the HTTP server has stopped). NULL is fine. */
void notify_free(struct notify *n);

/* Event seq (a published alert version) is durable: deliver it to every subscriber it targets. */
void notify_event(struct notify *n, int64_t seq);
/*
 * Call fn(ud) once every event up to seq has been written to the streams
 * (at once if it has been, or if notify is stopping), on the fan-out
 * thread or the caller's: fn must only wake someone. Publishing uses it
 * to fix recipients and queue webhook and e-mail work after the streams,
 * not competing with them for the cores.
 */
void notify_when_sent(struct notify *n, int64_t seq, void (*fn)(void *ud), void *ud);

/* Who a stream belongs to. */
struct notify_reader {
    struct store_release_access acc; /* auth_alert_access() of the user */
    char user_id[40];
    char org_id[40];
    uint8_t cred[STORE_HASH_LEN];    /* the hash of its token or session (auth_recheck()) */
    bool cred_session;
};

/*
 * Credentials may have changed (a user or organisation disabled, a token
 * revoked, a session ended): check every stream's again before the next
 * event goes out. Streams are also re-checked at every heartbeat, which
 * catches changes made by another process (the CLI).
 */
void notify_recheck(struct notify *n);

/*
 * Answer req with an event stream for reader: first every visible event
 * after last_id (negative: none, only live events), then live events and
 * heartbeats until the client goes away or notify_free(). Returns 0 once
 * the stream is set up (the request is answered), or an error (nothing
 * sent: the caller answers with a problem).
 */
int notify_subscribe(struct notify *n, struct http_req *req, const struct notify_reader *reader,
                     int64_t last_id, struct err *e);

/* Subscribers connected now (for tests and the health endpoint). */
int notify_subscribers(struct notify *n);

#endif
