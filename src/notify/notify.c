/*
 * notify.c - fan-out of published alert versions to event streams.
 *
 * One fan-out thread turns "event seq is durable" into writes: it reads
 * every event after the last one it handled, in order (so two publishes
 * whose notify_event() calls cross never reorder or skip an event), renders
 * each once, and writes the same bytes to every subscriber the event
 * targets. Writes only queue bytes and wake a parked connection
 * (http_stream_write), so one slow client never delays the others. The
 * delivered receipts of a fan-out are then recorded in one store write.
 *
 * A new subscriber first replays what it missed (events after its
 * Last-Event-ID, through the store with its own access), then goes live.
 * While it replays, the fan-out only marks it "missed" and the replay
 * loops once more, so an event published meanwhile is neither lost nor
 * sent twice: each subscriber writes strictly increasing event ids.
 *
 * A heartbeat thread writes a comment to every stream every
 * stream_heartbeat_s; that also finds streams whose client went away and
 * drops them. It also re-checks every stream's credential then, and at
 * once when notify_recheck() says credentials changed: the fan-out waits
 * for that pass, so no event reaches a stream whose user was disabled
 * before the event was published.
 */
#include "notify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/jw.h"
#include "base/log.h"
#include "base/util.h"

#define NOTIFY_MAX_QUEUED (4u << 20) /* bytes a slow client may owe before it is dropped */
#define NOTIFY_BATCH 256             /* events read from the store at a time */

struct sub {
    struct http_stream *stream;
    pthread_mutex_t mu;      /* guards sent_seq, replaying, missed */
    int64_t sent_seq;        /* the last event id written: ids only increase */
    bool replaying, missed;
    bool all;                /* the coordinator: every event */
    char org_id[40];         /* the issuer side sees its own organisation's alerts */
    char user_id[40];
    uint8_t cred[STORE_HASH_LEN];
    bool cred_session;
    bool revoked;            /* its credential stopped working: nothing more is sent */
    char *keys;              /* the reader's target keys, NUL-separated, empty-terminated */
    struct sub *prev, *next;
};

struct rec {
    char alert_id[40], org_id[40], user_id[40];
    int64_t at;
};

struct receipts {
    struct rec *v;
    size_t n, cap;
};

/* Someone to call once events up to seq have been written (notify_when_sent). */
struct waiter {
    int64_t seq;
    void (*fn)(void *ud);
    void *ud;
    struct waiter *next;
};

struct notify {
    struct store *st;
    notify_present_fn *present;
    int heartbeat_s;

    pthread_mutex_t mu;      /* guards the list, wanted, stopping */
    pthread_cond_t cv;       /* wakes the fan-out thread */
    pthread_cond_t hb_cv;    /* wakes the heartbeat thread at stop */
    struct sub *head;
    int nsubs;
    int64_t wanted;          /* the newest event id announced */
    int64_t done;            /* the newest event id fanned out (fan-out thread only) */
    struct waiter *waiters;  /* notify_when_sent() calls not yet due */
    pthread_mutex_t rc_mu;   /* guards rc */
    struct receipts rc;      /* stream receipts waiting for the receipt thread */
    pthread_cond_t rc_cv;    /* wakes the receipt thread at stop */
    pthread_t rc_thread;
    unsigned recheck_asked;  /* notify_recheck() calls */
    unsigned recheck_done;   /* of those, covered by a finished re-check pass */
    pthread_cond_t recheck_cv; /* the fan-out waits for a pass */
    bool stopping;
    pthread_t fan, hb;
    bool threads_started;

    /* Senders: the fan-out thread and nsenders helpers share each event's writes. */
    pthread_mutex_t snd_mu;  /* guards the fields below */
    pthread_cond_t snd_cv;   /* wakes the helpers for a new round */
    pthread_cond_t snd_done; /* the last helper of a round is done */
    unsigned snd_round;      /* increments for every event handed out */
    int snd_busy;            /* helpers still working on this round */
    bool snd_stop;
    struct send_job *job;    /* this round's work */
    int nsenders;
    pthread_t *senders;
};

/* ---- subscribers ---- */

static char *pack_keys(const struct store_release_access *acc)
{
    size_t n = 1;
    for (int i = 0; i < acc->nkeys; i++)
        n += strlen(acc->keys[i]) + 1;
    char *k = xmalloc(n), *p = k;
    for (int i = 0; i < acc->nkeys; i++) {
        size_t l = strlen(acc->keys[i]) + 1;
        memcpy(p, acc->keys[i], l);
        p += l;
    }
    *p = '\0';
    return k;
}

static void sub_free(struct sub *s)
{
    http_stream_release(s->stream);
    pthread_mutex_destroy(&s->mu);
    free(s->keys);
    free(s);
}

/* n->mu held. */
static void sub_unlink(struct notify *n, struct sub *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        n->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    n->nsubs--;
}

/* Does the event (its target keys, its issuer) reach this subscriber? */
static bool sub_wants(const struct sub *s, const json_t *targets, const char *issuer)
{
    if (s->all || (issuer && !strcmp(issuer, s->org_id)))
        return true;
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        const char *key = json_string_value(t);
        for (const char *k = s->keys; key && *k; k += strlen(k) + 1)
            if (!strcmp(k, key))
                return true;
    }
    return false;
}

/* ---- events ---- */

/* "id: N\nevent: alert\ndata: {...}\n\n" (caller frees), NULL on failure. */
static char *render(struct notify *n, const json_t *row, size_t *len)
{
    json_t *view = n->present(row);
    char *data = view ? jw_dump(view, NULL) : NULL;
    json_decref(view);
    if (data == NULL)
        return NULL;
    int64_t seq = json_integer_value(json_object_get(row, "pub_seq"));
    size_t cap = strlen(data) + 64;
    char *out = xmalloc(cap);
    int k = snprintf(out, cap, "id: %lld\nevent: alert\ndata: %s\n\n", (long long)seq, data);
    free(data);
    *len = k > 0 ? (size_t)k : 0;
    return out;
}

/*
 * Stream receipts are recorded off the delivery path: the fan-out and the
 * replays queue them (copied), and the receipt thread writes what has
 * gathered every NOTIFY_RECEIPT_MS in one store write, so thousands of
 * receipts never compete with the sends they record.
 */
#define NOTIFY_RECEIPT_MS 250

static void receipt_add(struct receipts *r, const char *alert_id, const struct sub *s,
                        int64_t at)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    struct rec *x = &r->v[r->n++];
    util_strlcpy(x->alert_id, alert_id ? alert_id : "", sizeof(x->alert_id));
    util_strlcpy(x->org_id, s->org_id, sizeof(x->org_id));
    util_strlcpy(x->user_id, s->user_id, sizeof(x->user_id));
    x->at = at;
}

/* Hand what r gathered to the receipt thread. */
static void receipts_flush(struct notify *n, struct receipts *r)
{
    if (r->n) {
        pthread_mutex_lock(&n->rc_mu);
        for (size_t i = 0; i < r->n; i++) {
            if (n->rc.n == n->rc.cap) {
                n->rc.cap = n->rc.cap ? 2 * n->rc.cap : 256;
                n->rc.v = xrealloc(n->rc.v, n->rc.cap * sizeof(*n->rc.v));
            }
            n->rc.v[n->rc.n++] = r->v[i];
        }
        pthread_mutex_unlock(&n->rc_mu);
    }
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

/* Write the gathered receipts (receipt thread). */
static void receipts_write(struct notify *n)
{
    pthread_mutex_lock(&n->rc_mu);
    struct receipts r = n->rc;
    memset(&n->rc, 0, sizeof(n->rc));
    pthread_mutex_unlock(&n->rc_mu);
    if (r.n == 0)
        return;
    struct store_receipt *v = xcalloc(r.n, sizeof(*v));
    for (size_t i = 0; i < r.n; i++)
        v[i] = (struct store_receipt){r.v[i].alert_id, r.v[i].org_id, "delivered", "stream",
                                      r.v[i].user_id, r.v[i].at, NULL};
    struct err e;
    err_init(&e);
    if (store_receipts_add(n->st, v, r.n, &e))
        log_warn("notify: %zu stream receipts not recorded: %s", r.n, e.detail);
    free(v);
    free(r.v);
}

static void *rc_main(void *arg)
{
    struct notify *n = arg;
    pthread_mutex_lock(&n->mu);
    while (!n->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (int64_t)NOTIFY_RECEIPT_MS * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&n->rc_cv, &n->mu, &until);
        pthread_mutex_unlock(&n->mu);
        receipts_write(n);
        pthread_mutex_lock(&n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    receipts_write(n); /* what is left at stop */
    return NULL;
}

/* Write one rendered event to s unless it had it already; s->mu held. */
static void sub_send(struct sub *s, int64_t seq, const char *text, size_t len,
                     const char *alert_id, struct receipts *rc)
{
    if (seq <= s->sent_seq || s->revoked)
        return;
    if (!http_stream_write(s->stream, text, len)) {
        http_stream_close(s->stream); /* gone or too slow: it resumes with Last-Event-ID */
        return;
    }
    s->sent_seq = seq;
    receipt_add(rc, alert_id, s, util_now_ms());
}

/*
 * One event's writes, shared by the fan-out thread and the sender
 * helpers: each takes SEND_CHUNK subscribers at a time until none are
 * left. A send on loopback or a LAN costs microseconds of network stack
 * in the sending thread, so 10,000 of them are worth every core; each
 * subscriber is in one chunk, so its events stay in order.
 */
#define SEND_CHUNK 64

struct send_job {
    struct sub **v;          /* the subscribers the event targets */
    size_t n;
    atomic_size_t next;      /* the first subscriber not yet taken */
    int64_t seq;
    const char *text, *alert_id;
    size_t len;
    pthread_mutex_t rc_mu;   /* guards rc */
    struct receipts *rc;
};

static void send_chunks(struct send_job *j)
{
    struct receipts rc = {0};
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, SEND_CHUNK);
        if (i >= j->n)
            break;
        size_t end = i + SEND_CHUNK < j->n ? i + SEND_CHUNK : j->n;
        for (; i < end; i++) {
            struct sub *s = j->v[i];
            pthread_mutex_lock(&s->mu);
            if (s->replaying)
                s->missed = true; /* its replay loop will read this event from the store */
            else
                sub_send(s, j->seq, j->text, j->len, j->alert_id, &rc);
            pthread_mutex_unlock(&s->mu);
        }
    }
    pthread_mutex_lock(&j->rc_mu);
    for (size_t i = 0; i < rc.n; i++) {
        if (j->rc->n == j->rc->cap) {
            j->rc->cap = j->rc->cap ? 2 * j->rc->cap : rc.n;
            j->rc->v = xrealloc(j->rc->v, j->rc->cap * sizeof(*j->rc->v));
        }
        j->rc->v[j->rc->n++] = rc.v[i];
    }
    pthread_mutex_unlock(&j->rc_mu);
    free(rc.v);
}

static void *sender_main(void *arg)
{
    struct notify *n = arg;
    unsigned seen = 0;
    pthread_mutex_lock(&n->snd_mu);
    for (;;) {
        while (!n->snd_stop && n->snd_round == seen)
            pthread_cond_wait(&n->snd_cv, &n->snd_mu);
        if (n->snd_stop)
            break;
        seen = n->snd_round;
        struct send_job *j = n->job;
        pthread_mutex_unlock(&n->snd_mu);
        send_chunks(j);
        pthread_mutex_lock(&n->snd_mu);
        if (--n->snd_busy == 0)
            pthread_cond_signal(&n->snd_done);
    }
    pthread_mutex_unlock(&n->snd_mu);
    return NULL;
}

/* Write the event to v[0..k) with every sender; returns when all are written. */
static void send_all(struct notify *n, struct send_job *j)
{
    bool helpers = n->nsenders > 0 && j->n > SEND_CHUNK;
    if (helpers) {
        pthread_mutex_lock(&n->snd_mu);
        n->job = j;
        n->snd_busy = n->nsenders;
        n->snd_round++;
        pthread_cond_broadcast(&n->snd_cv);
        pthread_mutex_unlock(&n->snd_mu);
    }
    send_chunks(j);
    if (helpers) {
        pthread_mutex_lock(&n->snd_mu);
        while (n->snd_busy > 0)
            pthread_cond_wait(&n->snd_done, &n->snd_mu);
        n->job = NULL;
        pthread_mutex_unlock(&n->snd_mu);
    }
}

static void fan_out_one(struct notify *n, const json_t *row, struct receipts *rc)
{
    int64_t seq = json_integer_value(json_object_get(row, "pub_seq"));
    size_t len = 0;
    char *text = render(n, row, &len);
    json_t *targets = auth_alert_targets(json_object_get(row, "audience"));
    const char *issuer = json_string_value(json_object_get(row, "issuer_org"));
    const char *alert_id = json_string_value(json_object_get(row, "id"));
    if (text == NULL) {
        log_error("notify: cannot render event %lld", (long long)seq);
    } else {
        int64_t t0 = util_mono_us();
        struct send_job j = {.seq = seq, .text = text, .len = len, .alert_id = alert_id, .rc = rc};
        atomic_init(&j.next, 0);
        pthread_mutex_init(&j.rc_mu, NULL);
        /* n->mu is held until every write is done: only the heartbeat
         * thread frees subscribers, and it takes n->mu to do so. */
        pthread_mutex_lock(&n->mu);
        j.v = xcalloc((size_t)n->nsubs + 1, sizeof(*j.v));
        for (struct sub *s = n->head; s; s = s->next)
            if (sub_wants(s, targets, issuer))
                j.v[j.n++] = s;
        send_all(n, &j);
        pthread_mutex_unlock(&n->mu);
        log_info("notify: event %lld queued on %zu streams in %.1f ms", (long long)seq, j.n,
                 (double)(util_mono_us() - t0) / 1000.0);
        pthread_mutex_destroy(&j.rc_mu);
        free(j.v);
    }
    free(text);
    json_decref(targets);
}

/* Everything visible to the coordinator: what the fan-out reads. */
static void all_access(struct store_release_access *acc)
{
    memset(acc, 0, sizeof(*acc));
    acc->all = true;
}

/* Unlink the waiters whose event is out (all at stop); n->mu held. */
static struct waiter *take_waiters(struct notify *n, int64_t done)
{
    struct waiter *due = NULL, **p = &n->waiters;
    while (*p) {
        struct waiter *w = *p;
        if (n->stopping || w->seq <= done) {
            *p = w->next;
            w->next = due;
            due = w;
        } else {
            p = &w->next;
        }
    }
    return due;
}

static void call_waiters(struct waiter *w)
{
    while (w) {
        struct waiter *next = w->next;
        w->fn(w->ud);
        free(w);
        w = next;
    }
}

void notify_when_sent(struct notify *n, int64_t seq, void (*fn)(void *ud), void *ud)
{
    pthread_mutex_lock(&n->mu);
    if (n->stopping || n->done >= seq) {
        pthread_mutex_unlock(&n->mu);
        fn(ud);
        return;
    }
    struct waiter *w = xcalloc(1, sizeof(*w));
    w->seq = seq;
    w->fn = fn;
    w->ud = ud;
    w->next = n->waiters;
    n->waiters = w;
    pthread_mutex_unlock(&n->mu);
}

static void *fan_main(void *arg)
{
    struct notify *n = arg;
    struct store_release_access acc;
    all_access(&acc);
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (!n->stopping && n->wanted <= n->done)
            pthread_cond_wait(&n->cv, &n->mu);
        /* credentials changed before this event was announced: wait for the re-check */
        while (!n->stopping && n->recheck_done != n->recheck_asked)
            pthread_cond_wait(&n->recheck_cv, &n->mu);
        if (n->stopping)
            break;
        pthread_mutex_unlock(&n->mu);
        json_t *rows = NULL;
        struct err e;
        err_init(&e);
        if (store_alert_events(n->st, &acc, n->done, NOTIFY_BATCH, &rows, &e)) {
            log_error("notify: cannot read events after %lld: %s", (long long)n->done,
                      e.detail);
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL); /* the store recovers or the process stops; retry */
        }
        struct receipts rc = {0};
        size_t i;
        json_t *row;
        int64_t done = n->done;
        json_array_foreach(rows, i, row)
        {
            fan_out_one(n, row, &rc);
            done = json_integer_value(json_object_get(row, "pub_seq"));
        }
        receipts_flush(n, &rc);
        size_t got = json_array_size(rows);
        json_decref(rows);
        pthread_mutex_lock(&n->mu);
        if (got == 0 && !e.code)
            done = n->wanted; /* announced but not stored: nothing to send */
        n->done = done;
        struct waiter *due = take_waiters(n, done);
        pthread_mutex_unlock(&n->mu);
        call_waiters(due);
        pthread_mutex_lock(&n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

void notify_event(struct notify *n, int64_t seq)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    if (seq > n->wanted) {
        n->wanted = seq;
        pthread_cond_signal(&n->cv);
    }
    pthread_mutex_unlock(&n->mu);
}

/* ---- heartbeats and credential re-checks ---- */

/*
 * Re-check the credential of every stream; one whose credential stopped
 * working gets nothing more and is closed. Runs on the heartbeat thread,
 * the only one that frees subscribers, so the snapshot stays valid
 * without holding n->mu across the store lookups.
 */
static void recheck_all(struct notify *n)
{
    pthread_mutex_lock(&n->mu);
    size_t k = 0, cap = (size_t)n->nsubs;
    struct sub **v = xcalloc(cap + 1, sizeof(*v));
    for (struct sub *s = n->head; s && k < cap; s = s->next)
        v[k++] = s;
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < k; i++) {
        struct err e;
        err_init(&e);
        int rc = auth_recheck(n->st, v[i]->cred, v[i]->cred_session, &e);
        if (rc == 0 || rc != ERR_UNAUTH)
            continue; /* a store failure is not a revocation: the next pass decides */
        pthread_mutex_lock(&v[i]->mu);
        v[i]->revoked = true;
        pthread_mutex_unlock(&v[i]->mu);
        http_stream_close(v[i]->stream);
    }
    free(v);
}

/*
 * The periodic re-check looks at every stream's credential in the store;
 * changes made through this daemon's API trigger one at once
 * (notify_recheck()), so the periodic pass only catches those made by
 * another process (the CLI) and need not run at every heartbeat.
 */
#define NOTIFY_RECHECK_MS 60000

static void *hb_main(void *arg)
{
    struct notify *n = arg;
    static const char beat[] = ": hb\n\n";
    int64_t next_beat = util_mono_ms() + (int64_t)n->heartbeat_s * 1000;
    int64_t next_check = util_mono_ms() + NOTIFY_RECHECK_MS;
    pthread_mutex_lock(&n->mu);
    while (!n->stopping) {
        int64_t now = util_mono_ms();
        if (n->recheck_done == n->recheck_asked && now < next_beat) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            int64_t ns = until.tv_nsec + (next_beat - now) * 1000000;
            until.tv_sec += ns / 1000000000;
            until.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&n->hb_cv, &n->mu, &until);
            continue;
        }
        if (n->stopping)
            break;
        unsigned asked = n->recheck_asked;
        bool beat_due = util_mono_ms() >= next_beat;
        if (asked != n->recheck_done || util_mono_ms() >= next_check) {
            pthread_mutex_unlock(&n->mu);
            recheck_all(n);
            pthread_mutex_lock(&n->mu);
            n->recheck_done = asked;
            next_check = util_mono_ms() + NOTIFY_RECHECK_MS;
            pthread_cond_broadcast(&n->recheck_cv);
        }
        if (!beat_due)
            continue;
        next_beat = util_mono_ms() + (int64_t)n->heartbeat_s * 1000;
        for (struct sub *s = n->head, *next; s; s = next) {
            next = s->next;
            if (http_stream_done(s->stream) ||
                !http_stream_write(s->stream, beat, sizeof(beat) - 1)) {
                sub_unlink(n, s);
                http_stream_close(s->stream);
                sub_free(s);
            }
        }
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

void notify_recheck(struct notify *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    n->recheck_asked++;
    pthread_cond_broadcast(&n->hb_cv);
    pthread_mutex_unlock(&n->mu);
}

/* ---- subscribing ---- */

/* Replay what the subscriber missed, until no live event slipped by meanwhile. */
static void replay(struct notify *n, struct sub *s, const struct store_release_access *acc)
{
    for (;;) {
        json_t *rows = NULL;
        struct err e;
        err_init(&e);
        struct receipts rc = {0};
        if (store_alert_events(n->st, acc, s->sent_seq, NOTIFY_BATCH, &rows, &e)) {
            log_warn("notify: replay for %s failed: %s", s->user_id, e.detail);
            http_stream_close(s->stream); /* the client retries; nothing is skipped */
        }
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            size_t len = 0;
            char *text = render(n, row, &len);
            pthread_mutex_lock(&s->mu);
            if (text)
                sub_send(s, json_integer_value(json_object_get(row, "pub_seq")), text, len,
                         json_string_value(json_object_get(row, "id")), &rc);
            pthread_mutex_unlock(&s->mu);
            free(text);
        }
        receipts_flush(n, &rc);
        size_t got = json_array_size(rows);
        json_decref(rows);
        pthread_mutex_lock(&s->mu);
        bool again = !e.code && (s->missed || got == NOTIFY_BATCH);
        s->missed = false;
        if (!again)
            s->replaying = false;
        pthread_mutex_unlock(&s->mu);
        if (!again)
            return;
    }
}

int notify_subscribe(struct notify *n, struct http_req *req, const struct notify_reader *reader,
                     int64_t last_id, struct err *e)
{
    pthread_mutex_lock(&n->mu);
    bool stopping = n->stopping;
    pthread_mutex_unlock(&n->mu);
    if (stopping)
        return err_set(e, ERR_AGAIN, "the server is stopping; reconnect shortly");
    struct sub *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->all = reader->acc.all;
    util_strlcpy(s->org_id, reader->org_id, sizeof(s->org_id));
    util_strlcpy(s->user_id, reader->user_id, sizeof(s->user_id));
    memcpy(s->cred, reader->cred, sizeof(s->cred));
    s->cred_session = reader->cred_session;
    s->keys = pack_keys(&reader->acc);
    s->sent_seq = last_id >= 0 ? last_id : 0;
    s->replaying = true;
    s->stream = http_stream_open(req, "text/event-stream; charset=utf-8", NOTIFY_MAX_QUEUED);
    if (s->stream == NULL) {
        sub_free(s);
        return err_set(e, ERR_AGAIN, "too many event streams are open; retry shortly");
    }
    static const char hello[] = "retry: 3000\n: isac event stream\n\n";
    http_stream_write(s->stream, hello, sizeof(hello) - 1);
    pthread_mutex_lock(&n->mu);
    s->next = n->head;
    if (n->head)
        n->head->prev = s;
    n->head = s;
    n->nsubs++;
    pthread_mutex_unlock(&n->mu);
    /* Without a Last-Event-ID the stream starts now: nothing to replay. */
    if (last_id >= 0) {
        replay(n, s, &reader->acc);
    } else {
        pthread_mutex_lock(&n->mu);
        int64_t done = n->done;
        pthread_mutex_unlock(&n->mu);
        pthread_mutex_lock(&s->mu);
        s->sent_seq = done;
        s->replaying = false;
        bool missed = s->missed;
        pthread_mutex_unlock(&s->mu);
        if (missed)
            replay(n, s, &reader->acc);
    }
    return 0;
}

int notify_subscribers(struct notify *n)
{
    pthread_mutex_lock(&n->mu);
    int k = n->nsubs;
    pthread_mutex_unlock(&n->mu);
    return k;
}

/* ---- lifetime ---- */

/* One sender helper per core beyond the first (the fan-out thread sends too). */
#define NOTIFY_MAX_SENDERS 7

static void senders_start(struct notify *n)
{
    pthread_mutex_init(&n->snd_mu, NULL);
    pthread_cond_init(&n->snd_cv, NULL);
    pthread_cond_init(&n->snd_done, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int want = ncpu > 1 ? (int)(ncpu - 1) : 0;
    if (want > NOTIFY_MAX_SENDERS)
        want = NOTIFY_MAX_SENDERS;
    n->senders = xcalloc((size_t)want + 1, sizeof(*n->senders));
    for (int i = 0; i < want; i++) {
        if (pthread_create(&n->senders[i], NULL, sender_main, n) != 0) {
            log_warn("notify: %d of %d sender threads started", i, want);
            break; /* fewer helpers: slower fan-out, nothing lost */
        }
        n->nsenders++;
    }
}

/* After the fan-out thread has stopped (no round is running). */
static void senders_stop(struct notify *n)
{
    pthread_mutex_lock(&n->snd_mu);
    n->snd_stop = true;
    pthread_cond_broadcast(&n->snd_cv);
    pthread_mutex_unlock(&n->snd_mu);
    for (int i = 0; i < n->nsenders; i++)
        pthread_join(n->senders[i], NULL);
    free(n->senders);
    n->senders = NULL;
    n->nsenders = 0;
    pthread_cond_destroy(&n->snd_cv);
    pthread_cond_destroy(&n->snd_done);
    pthread_mutex_destroy(&n->snd_mu);
}

/* The newest event id now: fanning out starts after it. */
static int64_t newest_event(struct store *st, struct err *e)
{
    struct store_release_access acc;
    all_access(&acc);
    struct store_alert_filter f = {.exercise = -1};
    json_t *rows = NULL;
    if (store_alert_list(st, &acc, &f, 0, NULL, 1, &rows, e))
        return -1;
    int64_t seq = json_integer_value(json_object_get(json_array_get(rows, 0), "pub_seq"));
    json_decref(rows);
    return seq;
}

int notify_new(struct store *st, const struct cfg *cfg, notify_present_fn *present,
               struct notify **out, struct err *e)
{
    int64_t newest = newest_event(st, e);
    if (newest < 0)
        return e->code;
    struct notify *n = xcalloc(1, sizeof(*n));
    n->st = st;
    n->present = present;
    n->heartbeat_s = cfg->stream_heartbeat_s > 0 ? cfg->stream_heartbeat_s : 15;
    n->wanted = n->done = newest;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    pthread_cond_init(&n->hb_cv, NULL);
    pthread_cond_init(&n->recheck_cv, NULL);
    pthread_cond_init(&n->rc_cv, NULL);
    pthread_mutex_init(&n->rc_mu, NULL);
    senders_start(n);
    if (pthread_create(&n->fan, NULL, fan_main, n) != 0) {
        senders_stop(n);
        free(n);
        return err_set(e, ERR_NOMEM, "cannot start the fan-out thread");
    }
    if (pthread_create(&n->hb, NULL, hb_main, n) != 0) {
        notify_stop(n);
        free(n);
        return err_set(e, ERR_NOMEM, "cannot start the heartbeat thread");
    }
    if (pthread_create(&n->rc_thread, NULL, rc_main, n) != 0) {
        pthread_mutex_lock(&n->mu);
        n->stopping = true;
        pthread_cond_broadcast(&n->cv);
        pthread_cond_broadcast(&n->hb_cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->fan, NULL);
        senders_stop(n);
        pthread_join(n->hb, NULL);
        free(n);
        return err_set(e, ERR_NOMEM, "cannot start the receipt thread");
    }
    n->threads_started = true;
    *out = n;
    return 0;
}

void notify_stop(struct notify *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    bool was = n->stopping;
    n->stopping = true;
    pthread_cond_broadcast(&n->cv);
    pthread_cond_broadcast(&n->hb_cv);
    pthread_cond_broadcast(&n->recheck_cv);
    pthread_cond_broadcast(&n->rc_cv);
    for (struct sub *s = n->head; s; s = s->next)
        http_stream_close(s->stream);
    pthread_mutex_unlock(&n->mu);
    if (was)
        return;
    pthread_join(n->fan, NULL);
    senders_stop(n);
    pthread_mutex_lock(&n->mu);
    struct waiter *due = take_waiters(n, INT64_MAX);
    pthread_mutex_unlock(&n->mu);
    call_waiters(due); /* nobody waits past the stop */
    if (n->threads_started) {
        pthread_join(n->hb, NULL);
        pthread_join(n->rc_thread, NULL);
    }
}

void notify_free(struct notify *n)
{
    if (n == NULL)
        return;
    notify_stop(n);
    while (n->head) {
        struct sub *s = n->head;
        sub_unlink(n, s);
        sub_free(s);
    }
    pthread_cond_destroy(&n->cv);
    pthread_cond_destroy(&n->hb_cv);
    pthread_cond_destroy(&n->recheck_cv);
    pthread_cond_destroy(&n->rc_cv);
    pthread_mutex_destroy(&n->rc_mu);
    free(n->rc.v);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
