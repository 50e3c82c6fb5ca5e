/*
 * deliver.c - the delivery workers: see deliver.h.
 *
 * Each worker (webhook, e-mail) is one thread with one libcurl multi
 * handle: it claims due outbox rows (as many as it has room for), starts
 * a transfer per row, and records each result in the store when the
 * transfer ends. Claiming marks rows "sending", so two workers (or two
 * nodes) never send one row at once; the store takes back rows left
 * "sending" by a crash after STALE_EXTRA_MS past the transfer timeout.
 * The escalation loop is a third thread that wakes every
 * escalation_check_ms.
 *
 * Threads: deliver_kick() is the only entry point used from other threads
 * while the workers run; it sets a flag and calls curl_multi_wakeup(),
 * which libcurl allows from any thread.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"
#include "deliver.h"
#include "deliver_int.h"

/* A claimed row whose worker vanished is claimable again this long after its timeout. */
#define STALE_EXTRA_MS 60000
/* Due escalations handled per query, and queries per check. */
#define ESCALATE_BATCH 100
#define ESCALATE_ROUNDS 10
/* Largest e-mail message rendered (an alert body is at most 512 KiB of JSON). */
#define MAIL_MAX_BYTES (4 * 1024 * 1024)
/* Longest wait in curl_multi_poll() when idle (a kick or socket activity ends it sooner). */
#define POLL_MAX_MS 1000

struct worker;

/* One transfer in flight: an outbox row being sent. */
struct xfer {
    struct worker *w;
    CURL *h;
    int64_t id;                /* outbox row */
    int tries;                 /* tries before this one */
    char org_id[48];           /* for the log */
    int64_t started;           /* util_mono_ms() */
    struct curl_slist *list;   /* webhook: request headers; e-mail: the recipient */
    char *data;                /* webhook: the body; e-mail: the message */
    size_t len, off;           /* off: e-mail bytes handed to libcurl so far */
    char errbuf[CURL_ERROR_SIZE];
    char refused[64];          /* a non-public address the filter refused ("" if none) */
    struct xfer *prev, *next;  /* the worker's transfers */
};

/* Prepare x->h for row (x->data, x->list as needed). On failure sets e: the row is dead. */
typedef int xfer_prepare_fn(struct worker *w, const json_t *row, struct xfer *x, struct err *e);
/* Whether a finished transfer delivered; *error names why not. */
typedef bool xfer_ok_fn(struct xfer *x, CURLcode res, long status, char *error, size_t n);

struct worker {
    struct deliver *d;
    const char *channel;       /* "webhook" | "email": the outbox channel */
    xfer_prepare_fn *prepare;
    xfer_ok_fn *ok;
    CURLM *multi;
    pthread_t thread;
    bool started;
    atomic_bool kicked;
    int inflight;
    struct xfer *xfers;
};

struct deliver {
    struct store *st;          /* borrowed */
    const struct cfg *cfg;     /* borrowed */
    deliver_present_fn *present;
    atomic_bool stopping;
    bool curl_ready;
    struct worker hook, mail;
    pthread_t escalator;
    bool escalator_started;
    pthread_mutex_t mu;        /* with cv: the escalation loop's sleep */
    pthread_cond_t cv;
};

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- transfers ---- */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n; /* the receiver's answer is not kept: only its status counts */
}

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->h)
        curl_easy_cleanup(x->h);
    curl_slist_free_all(x->list);
    free(x->data);
    free(x);
}

/* Options every transfer shares. */
static int xfer_common(struct worker *w, struct xfer *x, const char *url, const char *protocols,
                       struct err *e)
{
    if (!(x->h = curl_easy_init()))
        return err_set(e, ERR_NOMEM, "curl handle");
    long timeout = w->d->cfg->webhook_timeout_ms;
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0: CURLOPT_PROTOCOLS is deprecated */
    curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, protocols);
#else
    long mask = 0;
    mask |= strstr(protocols, "https") ? CURLPROTO_HTTPS : 0;
    mask |= strstr(protocols, "http,") ? CURLPROTO_HTTP : 0;
    mask |= strstr(protocols, "smtp") ? CURLPROTO_SMTP | CURLPROTO_SMTPS : 0;
    curl_easy_setopt(x->h, CURLOPT_PROTOCOLS, mask);
#endif
    if (curl_easy_setopt(x->h, CURLOPT_URL, url) != CURLE_OK)
        return err_set(e, ERR_INVALID, "bad URL");
    return 0;
}

/*
 * Every connection a webhook makes, after name resolution (so a name that
 * resolves to a private address, or is re-pointed there later, is caught
 * too): only public unicast addresses unless webhook_allow_private.
 */
static curl_socket_t open_public(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = ud;
    (void)purpose;
    const unsigned char *ip = NULL;
    if (a->family == AF_INET)
        ip = (const unsigned char *)&((const struct sockaddr_in *)&a->addr)->sin_addr;
    else if (a->family == AF_INET6)
        ip = (const unsigned char *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
    if (ip == NULL || !util_addr_public(a->family, ip)) {
        if (ip == NULL || !inet_ntop(a->family, ip, x->refused, sizeof(x->refused)))
            util_strlcpy(x->refused, "?", sizeof(x->refused));
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int add_header(struct xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_header(struct xfer *x, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    struct curl_slist *l = curl_slist_append(x->list, line);
    if (!l)
        return ERR_NOMEM;
    x->list = l;
    return 0;
}

static int webhook_prepare(struct worker *w, const json_t *row, struct xfer *x, struct err *e)
{
    const char *url = jstr(row, "url"), *secret = jstr(row, "secret");
    if (!url || !secret)
        return err_set(e, ERR_NOTFOUND, "webhook disabled or deleted");
    const json_t *alert = json_object_get(row, "alert");
    json_t *view = w->d->present(alert);
    x->data = view ? deliver__webhook_body(alert, view, &x->len) : NULL;
    json_decref(view);
    if (!x->data)
        return err_set(e, ERR_NOMEM, "webhook body");
    int64_t ts = util_now_ms() / 1000;
    char sig[DELIVER_SIG_LEN + 1];
    deliver__sign(secret, ts, x->data, x->len, sig);
    /* "Expect:" off: libcurl would wait for a 100 Continue before bodies over 1 KiB. */
    if (add_header(x, "Content-Type: application/json") || add_header(x, "X-Isac-Event: alert") ||
        add_header(x, "X-Isac-Delivery: %lld", (long long)x->id) ||
        add_header(x, "X-Isac-Timestamp: %lld", (long long)ts) ||
        add_header(x, "X-Isac-Signature: %s", sig) || add_header(x, "Expect:"))
        return err_set(e, ERR_NOMEM, "webhook headers");
    if (xfer_common(w, x, url, w->d->cfg->webhook_allow_http ? "http,https" : "https", e))
        return e->code;
    if (!w->d->cfg->webhook_allow_private) {
        curl_easy_setopt(x->h, CURLOPT_OPENSOCKETFUNCTION, open_public);
        curl_easy_setopt(x->h, CURLOPT_OPENSOCKETDATA, x);
    }
    curl_easy_setopt(x->h, CURLOPT_USERAGENT, "isac/" ISAC_VERSION);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->list);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->data);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, discard);
    return 0;
}

static bool webhook_ok(struct xfer *x, CURLcode res, long status, char *error, size_t n)
{
    if (res != CURLE_OK && x->refused[0])
        snprintf(error, n,
                 "refused to connect to %s: not a public address (config webhook_allow_private)",
                 x->refused);
    else if (res != CURLE_OK)
        snprintf(error, n, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    else if (status < 200 || status > 299)
        snprintf(error, n, "HTTP %ld", status);
    return res == CURLE_OK && status >= 200 && status <= 299;
}

static size_t mail_read(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t left = x->len - x->off, take = size * n < left ? size * n : left;
    memcpy(p, x->data + x->off, take);
    x->off += take;
    return take;
}

/* "<outbox id>.<16 random hex>@<the domain of smtp_from>" */
static void message_id(const char *from, int64_t id, char out[128])
{
    unsigned char r[8];
    char hex[2 * sizeof(r) + 1];
    randombytes_buf(r, sizeof(r));
    sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
    const char *at = strrchr(from, '@');
    snprintf(out, 128, "%lld.%s@%s", (long long)id, hex, at ? at + 1 : "localhost");
}

static int mail_prepare(struct worker *w, const json_t *row, struct xfer *x, struct err *e)
{
    const struct cfg *cfg = w->d->cfg;
    const char *to = jstr(row, "target"), *lang = jstr(row, "locale");
    if (!to || !*to)
        return err_set(e, ERR_NOTFOUND, "no address");
    char mid[128];
    message_id(cfg->smtp_from, x->id, mid);
    struct deliver_mail m = {json_object_get(row, "alert"),
                             lang && !strcmp(lang, "en") ? "en" : "ja",
                             cfg->smtp_from,
                             to,
                             mid,
                             util_now_ms() / 1000,
                             x->id};
    struct buf b;
    buf_init(&b, MAIL_MAX_BYTES);
    if (deliver__mail_render(&m, &b)) {
        buf_release(&b);
        return err_set(e, ERR_TOOBIG, "message too large");
    }
    x->data = buf_take(&b, &x->len);
    char addr[400];
    snprintf(addr, sizeof(addr), "<%s>", to);
    if (!(x->list = curl_slist_append(NULL, addr)))
        return err_set(e, ERR_NOMEM, "recipient");
    if (xfer_common(w, x, cfg->smtp_url, "smtp,smtps", e))
        return e->code;
    snprintf(addr, sizeof(addr), "<%s>", cfg->smtp_from);
    curl_easy_setopt(x->h, CURLOPT_MAIL_FROM, addr);
    curl_easy_setopt(x->h, CURLOPT_MAIL_RCPT, x->list);
    curl_easy_setopt(x->h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); /* STARTTLS when offered */
    curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(x->h, CURLOPT_READFUNCTION, mail_read);
    curl_easy_setopt(x->h, CURLOPT_READDATA, x);
    curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
    return 0;
}

static bool mail_ok(struct xfer *x, CURLcode res, long status, char *error, size_t n)
{
    if (res != CURLE_OK)
        snprintf(error, n, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    return res == CURLE_OK;
}

/* ---- results ---- */

/* Record the try of x; next_at as store_outbox_result() takes it (ignored when ok). */
static void record(struct worker *w, struct xfer *x, bool ok, long status, const char *error,
                   int64_t next_at)
{
    struct err e;
    err_init(&e);
    int64_t took = util_mono_ms() - x->started;
    if (store_outbox_result(w->d->st, x->id, ok, (int)status, error, took, ok ? 0 : next_at, &e))
        log_error("deliver: cannot record %s %lld: %s", w->channel, (long long)x->id, e.detail);
    else if (ok)
        log_info("deliver: %s %lld to org %s delivered (%ld) in %lld ms", w->channel,
                 (long long)x->id, x->org_id, status, (long long)took);
    else
        log_warn("deliver: %s %lld to org %s, try %d failed: %s; %s", w->channel,
                 (long long)x->id, x->org_id, x->tries + 1, error,
                 next_at ? "will retry" : "dead");
}

/* Record a failed try and when to try again. */
static void record_failure(struct worker *w, struct xfer *x, long status, const char *error,
                           bool permanent)
{
    const struct cfg *cfg = w->d->cfg;
    int64_t next = permanent ? 0
                             : deliver__next_try(util_now_ms(), x->tries + 1,
                                                 cfg->webhook_backoff_ms, cfg->webhook_max_tries);
    record(w, x, false, status, error, next);
}

static void xfer_unlink(struct worker *w, struct xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        w->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    w->inflight--;
}

/* Start sending one claimed row; a row that cannot be sent at all is dead at once. */
static void start_one(struct worker *w, const json_t *row)
{
    struct xfer *x = xcalloc(1, sizeof(*x));
    x->w = w;
    x->id = json_integer_value(json_object_get(row, "id"));
    x->tries = (int)json_integer_value(json_object_get(row, "tries"));
    util_strlcpy(x->org_id, jstr(row, "org_id") ? jstr(row, "org_id") : "", sizeof(x->org_id));
    x->started = util_mono_ms();
    struct err e;
    err_init(&e);
    if (!json_is_object(json_object_get(row, "alert")))
        err_set(&e, ERR_NOTFOUND, "alert not found");
    else if (w->prepare(w, row, x, &e) == 0 && curl_multi_add_handle(w->multi, x->h) != CURLM_OK)
        err_set(&e, ERR_NOMEM, "cannot start the transfer");
    if (e.code) {
        record_failure(w, x, 0, e.detail, e.code != ERR_NOMEM);
        xfer_free(x);
        return;
    }
    x->next = w->xfers;
    if (x->next)
        x->next->prev = x;
    w->xfers = x;
    w->inflight++;
}

/* Claim what there is room for and start it; the number claimed, -1 on a store error. */
static int claim(struct worker *w, int room)
{
    const struct cfg *cfg = w->d->cfg;
    struct err e;
    err_init(&e);
    json_t *rows = NULL;
    if (store_outbox_claim(w->d->st, w->channel, util_now_ms(),
                           cfg->webhook_timeout_ms + STALE_EXTRA_MS, room, &rows, &e)) {
        log_error("deliver: cannot claim %s deliveries: %s", w->channel, e.detail);
        return -1;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) start_one(w, row);
    int n = (int)json_array_size(rows);
    json_decref(rows);
    return n;
}

/* Record every finished transfer. */
static void reap(struct worker *w)
{
    for (;;) {
        int left;
        CURLMsg *msg = curl_multi_info_read(w->multi, &left);
        if (!msg)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        CURLcode res = msg->data.result; /* msg is gone once the handle is removed */
        struct xfer *x = NULL;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(w->multi, h);
        xfer_unlink(w, x);
        char error[CURL_ERROR_SIZE + 32] = "";
        if (w->ok(x, res, status, error, sizeof(error)))
            record(w, x, true, status, NULL, 0);
        else
            record_failure(w, x, status, error, false);
        xfer_free(x);
    }
}

/* Stopping: what is in flight is dropped and due again at once, so a restart sends it. */
static void abandon(struct worker *w)
{
    while (w->xfers) {
        struct xfer *x = w->xfers;
        curl_multi_remove_handle(w->multi, x->h);
        xfer_unlink(w, x);
        record(w, x, false, 0, "interrupted: the server stopped", util_now_ms());
        xfer_free(x);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct deliver *d = w->d;
    int poll_ms = d->cfg->deliver_poll_ms;
    int64_t next_claim = 0;
    while (!atomic_load(&d->stopping)) {
        int64_t now = util_mono_ms();
        int room = DELIVER_MAX_INFLIGHT - w->inflight;
        bool kicked = room > 0 && atomic_exchange(&w->kicked, false); /* else kept for later */
        if (room > 0 && (kicked || now >= next_claim)) {
            int n = claim(w, room);
            /* a full claim may have left due rows behind: look again at once */
            next_claim = now + (n == room ? 0 : n < 0 ? 10LL * poll_ms : poll_ms);
        }
        int running;
        curl_multi_perform(w->multi, &running);
        reap(w);
        int64_t wait = next_claim - util_mono_ms();
        if (DELIVER_MAX_INFLIGHT - w->inflight <= 0 || wait > POLL_MAX_MS)
            wait = POLL_MAX_MS;
        curl_multi_poll(w->multi, NULL, 0, wait > 0 ? (int)wait : 0, NULL);
    }
    abandon(w);
    return NULL;
}

static int worker_start(struct deliver *d, struct worker *w, const char *channel,
                        xfer_prepare_fn *prepare, xfer_ok_fn *ok, struct err *e)
{
    w->d = d;
    w->channel = channel;
    w->prepare = prepare;
    w->ok = ok;
    atomic_init(&w->kicked, true); /* rows left from the last run are due now */
    if (!(w->multi = curl_multi_init()))
        return err_set(e, ERR_INTERNAL, "cannot start the %s worker", channel);
    if (pthread_create(&w->thread, NULL, worker_main, w))
        return err_set(e, ERR_INTERNAL, "cannot start the %s worker", channel);
    w->started = true;
    return 0;
}

static void worker_stop(struct worker *w)
{
    if (w->started) {
        curl_multi_wakeup(w->multi);
        pthread_join(w->thread, NULL);
    }
    if (w->multi)
        curl_multi_cleanup(w->multi);
}

/* ---- escalation ---- */

static void escalate_one(struct deliver *d, const char *alert_id, const char *org_id, int64_t now)
{
    struct err e;
    err_init(&e);
    if (store_alert_escalate(d->st, alert_id, org_id, now, &e)) {
        if (e.code != ERR_CONFLICT) /* escalated meanwhile: nothing to do */
            log_error("deliver: cannot escalate alert %s to org %s: %s", alert_id, org_id,
                      e.detail);
        return;
    }
    log_info("deliver: alert %s unread by org %s: sent again", alert_id, org_id);
    json_t *detail = json_pack("{s:s}", "org_id", org_id);
    struct store_audit_entry a = {.actor_login = "system", .action = "alert.escalate",
                                  .object_kind = "alert", .object_id = alert_id,
                                  .outcome = "ok", .detail = detail};
    err_init(&e);
    if (store_audit_append(d->st, &a, NULL, &e))
        log_error("audit: cannot record alert.escalate of %s: %s", alert_id, e.detail);
    json_decref(detail);
}

static void escalate_due(struct deliver *d)
{
    int64_t now = util_now_ms();
    int64_t before = now - (int64_t)d->cfg->alert_escalate_after_s * 1000;
    for (int round = 0; round < ESCALATE_ROUNDS && !atomic_load(&d->stopping); round++) {
        struct err e;
        err_init(&e);
        json_t *due = NULL;
        if (store_escalation_due(d->st, before, ESCALATE_BATCH, &due, &e)) {
            log_error("deliver: cannot look for escalations: %s", e.detail);
            return;
        }
        size_t i, n = json_array_size(due);
        json_t *r;
        json_array_foreach(due, i, r) escalate_one(d, jstr(r, "alert_id"), jstr(r, "org_id"), now);
        json_decref(due);
        if (n)
            deliver_kick(d);
        if (n < ESCALATE_BATCH)
            break;
    }
}

/*
 * Publishing queues an alert's webhook and e-mail work in a second
 * transaction, after the streams are woken; a crash between the two leaves
 * it unqueued, and this catches it up (at start, then at every check).
 */
static void queue_missed(struct deliver *d)
{
    struct err e;
    err_init(&e);
    if (store_alert_queue(d->st, NULL, &e))
        log_warn("deliver: cannot queue missed deliveries: %s", e.detail);
}

static void *escalator_main(void *arg)
{
    struct deliver *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!atomic_load(&d->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)d->cfg->escalation_check_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&d->cv, &d->mu, &ts);
        if (atomic_load(&d->stopping))
            break;
        pthread_mutex_unlock(&d->mu);
        queue_missed(d);
        escalate_due(d);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static int escalator_start(struct deliver *d, struct err *e)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a clock step must not skip checks */
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->mu, NULL);
    if (pthread_create(&d->escalator, NULL, escalator_main, d))
        return err_set(e, ERR_INTERNAL, "cannot start the escalation loop");
    d->escalator_started = true;
    return 0;
}

/* ---- life cycle ---- */

int deliver_new(struct store *st, const struct cfg *cfg, deliver_present_fn *present,
                struct deliver **out, struct err *e)
{
    *out = NULL;
    struct deliver *d = xcalloc(1, sizeof(*d));
    d->st = st;
    d->cfg = cfg;
    d->present = present ? present : deliver__recipient_view;
    atomic_init(&d->stopping, false);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(d);
        return err_set(e, ERR_INTERNAL, "cannot initialise libcurl");
    }
    d->curl_ready = true;
    queue_missed(d);
    if (escalator_start(d, e) ||
        worker_start(d, &d->hook, "webhook", webhook_prepare, webhook_ok, e)) {
        deliver_free(d);
        return e->code;
    }
    if (!cfg->smtp_url[0])
        log_info("deliver: smtp_url is not set: alert e-mails stay queued");
    else if (worker_start(d, &d->mail, "email", mail_prepare, mail_ok, e)) {
        deliver_free(d);
        return e->code;
    }
    *out = d;
    return 0;
}

void deliver_kick(struct deliver *d)
{
    if (!d)
        return;
    struct worker *ws[] = {&d->hook, &d->mail};
    for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
        if (ws[i]->started) {
            atomic_store(&ws[i]->kicked, true);
            curl_multi_wakeup(ws[i]->multi);
        }
    }
}

void deliver_free(struct deliver *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, true);
    if (d->escalator_started) {
        pthread_mutex_lock(&d->mu);
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->escalator, NULL);
    }
    worker_stop(&d->hook);
    worker_stop(&d->mail);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    if (d->curl_ready)
        curl_global_cleanup();
    free(d);
}
