/*
 * deliver_int.h - the pure parts of delivery (deliver_msg.c): what is
 * sent, how it is signed, when it is retried. No I/O, so they are unit
 * tested without a network (tests/unit/deliver).
 *
 * An alert here is the store's row of an alert version (store.h, "alerts"):
 * {"id","series_id","version","kind","state","issuer_org","body":{"title",
 * "summary","actions","links","observables"},"urgency","exercise",
 * "audience","tlp","created_by",...,"published_at","pub_seq"}. Texts are
 * {"ja": str?, "en": str?}. The functions also accept the fields at the top
 * level (the API's shape), so either works.
 */
#ifndef ISAC_DELIVER_INT_H
#define ISAC_DELIVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"

/* Retry delays never exceed an hour. */
#define DELIVER_BACKOFF_CAP_MS (3600LL * 1000)
/* "sha256=" + 64 hex digits. */
#define DELIVER_SIG_LEN (7 + 64)
/* Observables listed in an e-mail; the rest are counted. */
#define DELIVER_MAIL_OBSERVABLES 50

/*
 * The recipients' view of an alert row (new reference), in the shape the
 * API shows alerts (api_alert_view() in src/api/api_alert_view.c): the
 * body's title, summary, actions, links and observables lifted to the top
 * level, "event_id" = pub_seq; and trimmed as auth_alert_redact()
 * (src/auth/auth.c) trims it for recipients: no created_by, published_by,
 * audience or pub_seq, links.reports emptied. deliver may depend on
 * neither api nor auth, so the rule is written twice: keep them in step
 * (tests/unit/deliver checks this one).
 */
json_t *deliver__recipient_view(const json_t *alert);

/*
 * The webhook body: {"type":"alert","event_id":<pub_seq of alert>,
 * "alert":<view>} as compact JSON (malloc'd, *len its length); view is the
 * recipients' view of alert (the store's row). NULL on ENOMEM.
 */
char *deliver__webhook_body(const json_t *alert, const json_t *view, size_t *len);

/* out = "sha256=" hex(HMAC-SHA256(key = secret's bytes, ts "." body)). */
void deliver__sign(const char *secret, int64_t ts, const char *body, size_t len,
                   char out[DELIVER_SIG_LEN + 1]);

/*
 * When to try again after tries failed tries (1 after the first): now +
 * base_ms * 2^(tries-1), at most DELIVER_BACKOFF_CAP_MS later; 0 (dead)
 * once tries >= max_tries.
 */
int64_t deliver__next_try(int64_t now, int tries, int64_t base_ms, int max_tries);

/* Text in lang ("ja"/"en") of {"ja","en"}, else the other language, else "". */
const char *deliver__text(const json_t *texts, const char *lang);

/*
 * The subject (UTF-8, not yet encoded): "[EXERCISE/訓練] " for exercises,
 * then "[TLP:<tlp>] ", "[URGENT] " or "[CRITICAL] " (nothing for routine),
 * "[CORRECTION/訂正] " or "[WITHDRAWN/撤回] " for those kinds, and the
 * title in lang. Returns 0 or ERR_TOOBIG/ERR_NOMEM from buf.
 */
int deliver__mail_subject(const json_t *alert, const char *lang, struct buf *out);

/* The plain-text body in lang ("\n" line ends). 0 or a buf error. */
int deliver__mail_body(const json_t *alert, const char *lang, struct buf *out);

/*
 * RFC 2047 form of a header value that starts after used characters of
 * its line ("Subject: " = 9): as is when it is printable ASCII that fits
 * the line's 78, else UTF-8 "B" encoded words of at most 75 characters,
 * split between characters, folded with CRLF SP, each line within 78.
 */
int deliver__header_encode(const char *s, size_t used, struct buf *out);

/* "Sat, 22 Nov 2025 01:23:45 +0000" (RFC 5322, UTC) for unix seconds t. */
void deliver__mail_date(int64_t t, char out[40]);

struct deliver_mail {
    const json_t *alert;
    const char *lang;       /* the contact's "ja" or "en" */
    const char *from, *to;  /* bare addresses */
    const char *message_id; /* without the angle brackets */
    int64_t date;           /* unix seconds */
    int64_t delivery_id;    /* the outbox row, for X-Isac-Delivery */
};

/*
 * The whole message (RFC 5322, CRLF line ends): headers, then the body as
 * base64 of UTF-8 text/plain in lines of 76. 0 or a buf error.
 */
int deliver__mail_render(const struct deliver_mail *m, struct buf *out);

#endif
