/*
 * http_stream.c - streamed answers (server-sent events): see http.h.
 *
 * Two ways to serve a stream, one API:
 *
 * Handed over (plain TCP, the usual case). Once the handler has accepted
 * the request, the stream takes its socket (a dup of libmicrohttpd's
 * descriptor), and the access handler returns MHD_NO, so libmicrohttpd
 * frees the connection and its memory pool without sending anything. The
 * daemon runs with MHD_USE_TURBO, under which libmicrohttpd closes a
 * connection without shutdown(): our copy of the socket stays open (a
 * test fails at once if that ever changes: the stream would end at its
 * first byte). From then on the response is ours: a status line and
 * headers, then the body, delimited by the connection's end. Writers send
 * straight to the socket from their own thread (one system call per
 * event, no wake-up of another thread); what the socket cannot take now
 * waits in the stream's queue, which one event-loop thread flushes when
 * the socket drains. The loop also notices clients that go away, and is
 * the only thread that closes a handed-over socket, so an event it holds
 * always refers to a live stream. An idle stream costs this struct and
 * the socket, not libmicrohttpd's per-connection pool (2 x 16 KiB).
 *
 * In libmicrohttpd (TLS: the session lives in libmicrohttpd). The body is
 * a callback response; with nothing queued the connection is suspended
 * (no thread, no polling) until a write resumes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "http_int.h"

struct http_stream {
    pthread_mutex_t mu;
    int refs;                    /* the caller's, and the connection's or the loop's */
    bool closing;                /* end after what is queued */
    char *data;                  /* queued bytes data[off..len) */
    size_t off, len, cap, max;

    /* in libmicrohttpd */
    struct MHD_Connection *conn; /* NULL once the connection let go */
    bool suspended;              /* parked by mhd_read: a write must resume it */

    /* handed over */
    struct http_streams *loop;   /* NULL: in libmicrohttpd */
    int fd;                      /* -1 once closed (by the loop thread only) */
    bool gone;                   /* the client went away or a send failed */
    struct http_stream *prev, *next; /* the loop's list, under loop->mu */
};

struct http_streams {
    int ep;              /* epoll: every handed-over socket, and wake */
    int wake;            /* eventfd: stop the loop */
    pthread_t thread;
    pthread_mutex_t mu;  /* guards head, count, stopping */
    struct http_stream *head;
    int count;
    int max;             /* cfg stream_limit */
    bool stopping;
};

static void unref_locked(struct http_stream *s)
{
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last) {
        pthread_mutex_destroy(&s->mu);
        free(s->data);
        free(s);
    }
}

/* Append n bytes to the queue; s->mu held. False if more than max would wait. */
static bool queue_add(struct http_stream *s, const char *data, size_t n)
{
    if (s->len - s->off + n > s->max)
        return false;
    if (s->len + n > s->cap) {
        /* slide the unsent part to the front before growing */
        if (s->off) {
            memmove(s->data, s->data + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        if (s->len + n > s->cap) {
            size_t cap = s->cap ? s->cap : 512;
            while (cap < s->len + n)
                cap *= 2;
            s->data = xrealloc(s->data, cap);
            s->cap = cap;
        }
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
    return true;
}

/* ---- handed over: direct sends, one loop for the rest ---- */

/*
 * Ask the loop to end the stream: shutting both directions down makes
 * epoll report a hang-up on the loop thread, which closes the socket.
 * s->mu held.
 */
static void own_hangup(struct http_stream *s)
{
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
}

/* Send what is queued; s->mu held. False when the stream is over. */
static bool own_flush(struct http_stream *s)
{
    while (s->len > s->off) {
        ssize_t k = send(s->fd, s->data + s->off, s->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true; /* EPOLLOUT comes when the socket drains */
            s->gone = true;
            return false;
        }
        s->off += (size_t)k;
    }
    s->off = s->len = 0;
    return true;
}

/* Write: straight to the socket when nothing waits before it; s->mu held. */
static bool own_write(struct http_stream *s, const char *data, size_t n)
{
    if (s->gone || s->fd < 0 || s->closing)
        return false;
    if (s->len == s->off) {
        while (n) {
            ssize_t k = send(s->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                s->gone = true;
                own_hangup(s);
                return false;
            }
            data += k;
            n -= (size_t)k;
        }
        if (n == 0)
            return true;
    }
    return queue_add(s, data, n);
}

/* Close a handed-over stream and drop the loop's reference (loop thread, or at stop). */
static void own_end(struct http_streams *l, struct http_stream *s)
{
    pthread_mutex_lock(&l->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        l->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    l->count--;
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0) {
        epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }
    s->gone = true;
    unref_locked(s);
}

/* One epoll event of a handed-over stream (loop thread). */
static void own_event(struct http_streams *l, struct http_stream *s, uint32_t ev)
{
    bool end = (ev & (EPOLLHUP | EPOLLERR)) != 0;
    pthread_mutex_lock(&s->mu);
    if (!end && (ev & (EPOLLIN | EPOLLRDHUP))) {
        /* A stream's client sends nothing after its request: end of file,
         * an error or stray bytes all end the stream. */
        char b[256];
        ssize_t k;
        do
            k = recv(s->fd, b, sizeof(b), MSG_DONTWAIT);
        while (k < 0 && errno == EINTR);
        if (!(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
            end = true;
    }
    if (!end && (ev & EPOLLOUT) && !own_flush(s))
        end = true;
    if (!end && s->closing && s->len == s->off)
        end = true; /* everything queued before the close has gone out */
    if (s->gone)
        end = true;
    pthread_mutex_unlock(&s->mu);
    if (end)
        own_end(l, s);
}

static void *loop_main(void *arg)
{
    struct http_streams *l = arg;
    struct epoll_event evs[256];
    for (;;) {
        int k = epoll_wait(l->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            log_error("http: stream loop: epoll_wait: %s", strerror(errno));
            return NULL;
        }
        for (int i = 0; i < k; i++) {
            if (evs[i].data.ptr == NULL) {
                pthread_mutex_lock(&l->mu);
                bool stop = l->stopping;
                pthread_mutex_unlock(&l->mu);
                if (stop)
                    return NULL;
                continue;
            }
            own_event(l, evs[i].data.ptr, evs[i].events);
        }
    }
}

int http__streams_start(struct http_server *srv, int max, struct err *e)
{
    struct http_streams *l = xcalloc(1, sizeof(*l));
    l->max = max > 0 ? max : LIMIT_STREAMS;
    pthread_mutex_init(&l->mu, NULL);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (l->ep < 0 || l->wake < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0 ||
        pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        int saved = errno;
        if (l->ep >= 0)
            close(l->ep);
        if (l->wake >= 0)
            close(l->wake);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return err_set(e, ERR_NOMEM, "cannot start the event-stream loop: %s", strerror(saved));
    }
    srv->streams = l;
    return 0;
}

void http__streams_stop(struct http_server *srv)
{
    struct http_streams *l = srv->streams;
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_mutex_unlock(&l->mu);
    uint64_t one = 1;
    if (write(l->wake, &one, sizeof(one)) != (ssize_t)sizeof(one))
        log_warn("http: cannot wake the stream loop: %s", strerror(errno));
    pthread_join(l->thread, NULL);
    while (l->head)
        own_end(l, l->head);
    close(l->ep);
    close(l->wake);
    pthread_mutex_destroy(&l->mu);
    free(l);
    srv->streams = NULL;
}

/* The status line and headers of a handed-over stream into b; nonzero if too big. */
static int own_head(const struct http_req *r, const char *ctype, struct buf *b)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int rc = buf_appendf(b,
                         "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\n"
                         "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
                         "Connection: close\r\n",
                         date, ctype);
    for (size_t i = 0; !rc && i < http__nsecurity_headers; i++)
        rc = buf_appendf(b, "%s: %s\r\n", http__security_headers[i][0],
                         http__security_headers[i][1]);
    for (const struct hdr *h = r->headers; !rc && h; h = h->next)
        rc = buf_appendf(b, "%s: %s\r\n", h->name, h->value);
    return rc ? rc : buf_append(b, "\r\n", 2);
}

/* Take r's socket into the loop; NULL (nothing sent) if it cannot. */
static struct http_stream *own_open(struct http_req *r, const char *ctype, size_t max_queued)
{
    struct http_streams *l = r->srv->streams;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct buf head;
    buf_init(&head, LIMIT_HEADER_BYTES);
    if (ci == NULL || own_head(r, ctype, &head) != 0 || head.len > max_queued) {
        log_error("http: cannot answer a stream (no socket, or headers too large)");
        buf_release(&head);
        return NULL;
    }
    pthread_mutex_lock(&l->mu);
    bool room = !l->stopping && l->count < l->max;
    if (room)
        l->count++; /* held while the socket is set up */
    pthread_mutex_unlock(&l->mu);
    int fd = room ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
    int one = 1, zero = 0;
    /* Events must leave at once: no Nagle delay, and no cork left over. */
    if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        if (room) {
            log_warn("http: cannot take over a stream's socket: %s", strerror(errno));
            pthread_mutex_lock(&l->mu);
            l->count--;
            pthread_mutex_unlock(&l->mu);
        }
        if (fd >= 0)
            close(fd);
        buf_release(&head);
        return NULL;
    }
    struct http_stream *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->loop = l;
    s->fd = fd;
    s->refs = 2; /* the caller's and the loop's */
    s->max = max_queued;
    queue_add(s, head.data, head.len); /* fits: checked above */
    /* Queued before the socket joins the loop: its first EPOLLOUT sends it. */
    buf_release(&head);
    pthread_mutex_lock(&l->mu);
    s->next = l->head;
    if (l->head)
        l->head->prev = s;
    l->head = s;
    pthread_mutex_unlock(&l->mu);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        log_warn("http: cannot watch a stream's socket: %s", strerror(errno));
        pthread_mutex_lock(&s->mu);
        s->refs--; /* the caller's: it never gets the stream */
        pthread_mutex_unlock(&s->mu);
        own_end(l, s);
        return NULL;
    }
    r->handed_over = true;
    r->responded = true;
    r->status = 200;
    return s;
}

/* ---- in libmicrohttpd ---- */

/*
 * libmicrohttpd asks for the next bytes. With nothing queued the
 * connection is suspended (no thread, no polling) until a write resumes
 * it; microhttpd.h prescribes suspending from here and returning 0.
 */
static ssize_t mhd_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct http_stream *s = cls;
    pthread_mutex_lock(&s->mu);
    s->suspended = false;
    ssize_t n = 0;
    if (s->len > s->off) {
        size_t k = s->len - s->off < max ? s->len - s->off : max;
        memcpy(buf, s->data + s->off, k);
        s->off += k;
        if (s->off == s->len)
            s->off = s->len = 0;
        n = (ssize_t)k;
    } else if (s->closing) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = true;
        MHD_suspend_connection(s->conn);
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The connection is done with the response (sent, or the client went away). */
static void mhd_gone(void *cls)
{
    struct http_stream *s = cls;
    pthread_mutex_lock(&s->mu);
    s->conn = NULL;
    s->suspended = false;
    unref_locked(s);
}

static struct http_stream *mhd_open(struct http_req *r, const char *ctype, size_t max_queued)
{
    struct http_stream *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fd = -1;
    s->conn = r->conn;
    s->refs = 2;
    s->max = max_queued;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, mhd_read, s, mhd_gone);
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    http__send_response(r, 200, resp, 0);
    return s;
}

/* Wake a parked connection; s->mu held. */
static void mhd_wake(struct http_stream *s)
{
    if (s->suspended && s->conn) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* ---- the API ---- */

struct http_stream *http_stream_open(struct http_req *r, const char *ctype, size_t max_queued)
{
    return r->srv->streams ? own_open(r, ctype, max_queued) : mhd_open(r, ctype, max_queued);
}

bool http_stream_write(struct http_stream *s, const char *data, size_t n)
{
    pthread_mutex_lock(&s->mu);
    bool ok;
    if (s->loop) {
        ok = own_write(s, data, n);
    } else {
        ok = s->conn && !s->closing && queue_add(s, data, n);
        if (ok)
            mhd_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void http_stream_close(struct http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    if (s->loop) {
        /* What the socket takes now goes out; a client that has stopped
         * reading loses the rest and resumes with Last-Event-ID. */
        if (s->fd >= 0 && !s->gone)
            own_flush(s);
        own_hangup(s);
    } else {
        mhd_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
}

bool http_stream_done(struct http_stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool done = s->closing || (s->loop ? s->gone || s->fd < 0 : s->conn == NULL);
    pthread_mutex_unlock(&s->mu);
    return done;
}

void http_stream_release(struct http_stream *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    unref_locked(s);
}
