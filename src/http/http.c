/*
 * http.c - see http.h.
 *
 * Request life: the access handler is called first with headers only
 * (we allocate struct http_req and check header and declared body size),
 * then once per body chunk (appended to a ceiling-bound buffer), then a
 * last time with no data, when the handler runs. The completed callback
 * writes the access-log line and frees the request.
 */
#include "http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/jw.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"

/* Headers every response carries. The CSP allows only our own scripts and
 * styles: no inline code, so an injected string cannot run. */
const char *const http__security_headers[][2] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
     "frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
};
const size_t http__nsecurity_headers =
    sizeof(http__security_headers) / sizeof(http__security_headers[0]);

/* ---- request accessors ---- */

const char *http_req_method(const struct http_req *r) { return r->method; }
const char *http_req_path(const struct http_req *r) { return r->url; }
bool http_req_tls(const struct http_req *r) { return r->tls; }
const char *http_req_remote(const struct http_req *r) { return r->remote; }

const char *http_req_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool http_req_query_has_nul(const struct http_req *r, const char *name)
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
                                      &n) != MHD_YES || v == NULL)
        return false;
    return memchr(v, '\0', n) != NULL;
}

const char *http_req_cookie(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

void http_req_set_user(struct http_req *r, const char *login)
{
    free(r->user);
    r->user = login ? xstrdup(login) : NULL;
}

void http_add_header(struct http_req *r, const char *name, const char *value)
{
    struct hdr *h = xmalloc(sizeof(*h));
    h->name = xstrdup(name);
    h->value = xstrdup(value);
    h->next = r->headers;
    r->headers = h;
}

/* ---- deferred answers ---- */

void http_defer(struct http_req *r, http_resume_fn *fn, void *ud)
{
    pthread_mutex_lock(&r->defer_mu);
    r->defer = DEFER_PENDING;
    r->resume_fn = fn;
    r->resume_ud = ud;
    pthread_mutex_unlock(&r->defer_mu);
}

void http_resume(struct http_req *r)
{
    pthread_mutex_lock(&r->defer_mu);
    bool suspended = r->defer == DEFER_SUSPENDED;
    r->defer = DEFER_READY;
    if (suspended) {
        atomic_fetch_sub(&r->srv->deferred, 1);
        MHD_resume_connection(r->conn);
    }
    pthread_mutex_unlock(&r->defer_mu);
}

/* After the handler: suspend a deferred request unless its answer is already ready. */
static bool park(struct http_req *r)
{
    pthread_mutex_lock(&r->defer_mu);
    bool parked = r->defer == DEFER_PENDING;
    if (parked) {
        r->defer = DEFER_SUSPENDED;
        atomic_fetch_add(&r->srv->deferred, 1);
        MHD_suspend_connection(r->conn);
    }
    pthread_mutex_unlock(&r->defer_mu);
    return parked;
}

/* Run the continuation of a deferred request whose answer is ready. */
static void run_resumed(struct http_req *r)
{
    r->defer = DEFER_NONE; /* only this thread touches it now: the waker is done */
    r->resume_fn(r, r->resume_ud);
}

/* ---- responses ---- */

void http__send_response(struct http_req *r, int status, struct MHD_Response *resp,
                          size_t len)
{
    if (r->responded) {
        /* BUG: a handler answered twice; keep the first answer. */
        log_error("second response to %s %s ignored", r->method, r->url);
        MHD_destroy_response(resp);
        return;
    }
    r->responded = true;
    for (size_t i = 0; i < http__nsecurity_headers; i++)
        MHD_add_response_header(resp, http__security_headers[i][0], http__security_headers[i][1]);
    if (r->tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    for (struct hdr *h = r->headers; h; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    r->status = status;
    r->bytes_out = len;
    MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
}

void http_respond_raw(struct http_req *r, int status, const char *ctype, const char *body,
                      size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (ctype)
        MHD_add_response_header(resp, "Content-Type", ctype);
    http__send_response(r, status, resp, len);
}

void http_respond_json(struct http_req *r, int status, json_t *body)
{
    size_t n = 0;
    char *s = jw_dump(body, &n);
    json_decref(body);
    if (s == NULL) {
        struct err e;
        err_init(&e);
        err_set(&e, ERR_INTERNAL, "cannot encode response");
        http_respond_problem(r, &e);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    http__send_response(r, status, resp, n);
}

void http_respond_empty(struct http_req *r, int status)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    http__send_response(r, status, resp, 0);
}

void http_respond_problem(struct http_req *r, const struct err *e)
{
    int code = e->code ? e->code : ERR_INTERNAL;
    int status = err_status(code);
    char type[96];
    snprintf(type, sizeof(type), "urn:isac:problem:%s", err_slug(code));
    json_t *p = json_object();
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(err_title(code)));
    json_object_set_new(p, "status", json_integer(status));
    /* Detail strings are ours, but may quote client bytes: keep only valid UTF-8. */
    json_t *detail = json_string(e->detail[0] ? e->detail : err_title(code));
    json_object_set_new(p, "detail", detail ? detail : json_string(err_title(code)));
    if (e->nfields) {
        json_t *fields = json_array();
        for (size_t i = 0; i < e->nfields; i++) {
            json_t *f = json_pack("{s:s,s:s}", "field", e->fields[i].field, "reason",
                                  e->fields[i].reason);
            if (f)
                json_array_append_new(fields, f);
        }
        json_object_set_new(p, "errors", fields);
        if (e->fields_truncated)
            json_object_set_new(p, "errors_truncated", json_true());
    }
    if (code == ERR_THROTTLED && e->retry_after > 0) {
        char ra[32];
        snprintf(ra, sizeof(ra), "%d", e->retry_after);
        http_add_header(r, "Retry-After", ra);
    }
    if (code == ERR_UNAUTH || code == ERR_CREDENTIALS)
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"isac\"");
    r->problem = err_slug(code);
    char *s = jw_dump(p, NULL);
    json_decref(p);
    size_t n = strlen(s);
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/problem+json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    http__send_response(r, status, resp, n);
}

static const char *mime_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

void http_respond_file(struct http_req *r, const char *root, const char *relpath)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        struct err e;
        err_init(&e);
        err_set(&e, ERR_NOTFOUND, "no such page");
        http_respond_problem(r, &e);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
    MHD_add_response_header(resp, "Content-Type", mime_type(path));
    /* Revalidate every time: the UI must never run a stale script after an upgrade. */
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    http__send_response(r, 200, resp, (size_t)sb.st_size);
}

/* ---- libmicrohttpd callbacks ---- */

static MHD_Result_t count_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                 const char *v)
{
    (void)kind;
    size_t *n = cls;
    *n += strlen(k) + (v ? strlen(v) : 0) + 4;
    return MHD_YES;
}

static void reject(struct http_req *r, int code, const char *detail)
{
    struct err e;
    err_init(&e);
    err_set(&e, code, "%s", detail);
    http_respond_problem(r, &e);
}

/*
 * Set on a worker thread that has just handed a connection over to a
 * stream: libmicrohttpd then logs that the application closed it, which
 * is not worth a warning.
 */
static _Thread_local bool handing_over;

static MHD_Result_t on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    handing_over = false;
    struct http_server *srv = cls;
    struct http_req *r = *con_cls;
    if (r == NULL) {
        r = xcalloc(1, sizeof(*r));
        r->srv = srv;
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->t0 = util_mono_us();
        pthread_mutex_init(&r->defer_mu, NULL);
        buf_init(&r->body, LIMIT_BODY_BYTES);
        atomic_fetch_add(&srv->inflight, 1);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->remote,
                          sizeof(r->remote));
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->remote,
                          sizeof(r->remote));
        }
        r->tls = srv->tls_cert != NULL;
        *con_cls = r;

        size_t hbytes = 0;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hbytes);
        if (hbytes > LIMIT_HEADER_BYTES) {
            reject(r, ERR_TOOBIG, "request headers too large");
            return MHD_YES;
        }
        if (strlen(url) > LIMIT_URL_BYTES) {
            reject(r, ERR_TOOBIG, "URL too long");
            return MHD_YES;
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        long long n;
        if (cl && util_parse_int(cl, 0, (long long)1 << 62, &n) && n > LIMIT_BODY_BYTES) {
            reject(r, ERR_TOOBIG, "request body too large");
            return MHD_YES;
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->responded && !r->body_too_big &&
            buf_append(&r->body, upload, *upload_size) != 0)
            r->body_too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&r->defer_mu);
    bool resumed = r->defer == DEFER_READY;
    pthread_mutex_unlock(&r->defer_mu);
    if (resumed) {
        run_resumed(r);
        goto out_check;
    }
    if (r->responded)
        return MHD_YES;
    if (r->body_too_big) {
        reject(r, ERR_TOOBIG, "request body too large");
        return MHD_YES;
    }
    srv->handler(r, srv->ud);
    if (r->handed_over) {
        /* The socket is a stream's now (http_stream.c): libmicrohttpd lets go of it. */
        handing_over = true;
        return MHD_NO;
    }
    if (r->defer != DEFER_NONE && !r->responded) {
        if (park(r))
            return MHD_YES;
        run_resumed(r); /* the answer came before the handler returned */
    }
out_check:
    if (!r->responded) {
        log_error("BUG: no response to %s %s", r->method, r->url);
        reject(r, ERR_INTERNAL, "no response");
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct http_server *srv = cls;
    struct http_req *r = *con_cls;
    if (r == NULL)
        return;
    struct log_access a = {
        .method = r->method,
        .path = r->url,
        .remote = r->remote,
        .user = r->user,
        .status = r->responded ? r->status : 0,
        .bytes_in = r->body.len,
        .bytes_out = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? r->bytes_out : 0,
        .ms = (double)(util_mono_us() - r->t0) / 1000.0,
        .problem = r->problem,
    };
    log_access(&a);
    buf_release(&r->body);
    while (r->headers) {
        struct hdr *h = r->headers;
        r->headers = h->next;
        free(h->name);
        free(h->value);
        free(h);
    }
    free(r->user);
    pthread_mutex_destroy(&r->defer_mu);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (handing_over) {
        handing_over = false;
        if (strstr(msg, "closing connection"))
            return;
    }
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* ---- start and stop ---- */

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
                        struct err *e)
{
    char host[256];
    const char *colon;
    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return err_field(e, "listen", "expected [IPv6]:PORT");
        snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return err_field(e, "listen", "expected ADDR:PORT");
        snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
    }
    long long port;
    if (!util_parse_int(colon + 1, 0, 65535, &port))
        return err_field(e, "listen", "port must be 0 to 65535");
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (!strcmp(host, "localhost"))
        util_strlcpy(host, "127.0.0.1", sizeof(host));
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
    } else {
        return err_field(e, "listen", "'%s' is not an IP address", host);
    }
    return 0;
}

static char *read_file(const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&b, chunk, n) != 0) {
            err_set(e, ERR_IO, "'%s' is too large", path);
            break;
        }
    fclose(f);
    if (e->code) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

int http_start(struct http_server **out, const struct cfg *cfg, http_handler_fn *handler,
               void *ud, struct err *e)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(cfg->listen, &ss, &sslen, e))
        return e->code;
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    srv->handler = handler;
    srv->ud = ud;
    atomic_init(&srv->inflight, 0);
    atomic_init(&srv->deferred, 0);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cfg->tls_cert[0] || cfg->tls_key[0]) {
        if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
            free(srv);
            return err_field(e, "tls_cert", "TLS needs both tls_cert and tls_key");
        }
        srv->tls_cert = read_file(cfg->tls_cert, e);
        srv->tls_key = srv->tls_cert ? read_file(cfg->tls_key, e) : NULL;
        if (e->code) {
            free(srv->tls_cert);
            free(srv);
            return e->code;
        }
        flags |= MHD_USE_TLS;
    } else {
        /*
         * Turbo: opportunistic reads and writes, and no shutdown() when a
         * connection closes, which lets an event stream keep the socket it
         * took over (http_stream.c). Not with TLS, whose close must be
         * a TLS close and whose streams stay in libmicrohttpd.
         */
        flags |= MHD_USE_TURBO;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads
                                        : (unsigned)(ncpu > 0 ? ncpu * 2 : 4);
    if (threads > 64)
        threads = 64;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        /* the logger goes first so that even option errors are logged as JSON */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
        /* Headers live in this per-connection pool; ours is checked at LIMIT_HEADER_BYTES,
         * this is the hard backstop. libmicrohttpd touches most of it on every connection,
         * so it is what an idle event stream costs: twice the header limit, no more. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(2 * LIMIT_HEADER_BYTES),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_ARRAY, srv->tls_cert ? tls_opts : &tls_opts[2], MHD_OPTION_END);
    if (srv->d == NULL) {
        free(srv->tls_cert);
        free(srv->tls_key);
        free(srv);
        return err_set(e, ERR_IO, "cannot listen on %s (in use, or not an address of this host)",
                       cfg->listen);
    }
    if (!srv->tls_cert && http__streams_start(srv, cfg->stream_limit, e) != 0) {
        MHD_stop_daemon(srv->d);
        free(srv);
        return e->code;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    log_info("listening on %s (port %d, %u threads%s)", cfg->listen, srv->port, threads,
             srv->tls_cert ? ", TLS" : "");
    *out = srv;
    return 0;
}

int http_port(const struct http_server *srv) { return srv->port; }

void http_stop(struct http_server *srv, int grace)
{
    if (srv == NULL)
        return;
    /* Stop accepting; keep serving what is in flight. */
    MHD_socket s = MHD_quiesce_daemon(srv->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    int64_t deadline = util_mono_ms() + (int64_t)grace * 1000;
    while (atomic_load(&srv->inflight) > 0 && util_mono_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /*
     * A deferred request waits for the store, which always answers (its busy
     * timeout bounds the wait): stopping the daemon under it would free a
     * request that the store's writer is about to resume. So those are
     * awaited past the grace period.
     */
    int64_t next_note = util_mono_ms();
    while (atomic_load(&srv->deferred) > 0) {
        if (util_mono_ms() >= next_note) {
            log_warn("waiting for %d requests whose writes are being committed",
                     atomic_load(&srv->deferred));
            next_note = util_mono_ms() + 5000;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&srv->inflight) > 0)
        log_warn("stopping with %d requests still in flight", atomic_load(&srv->inflight));
    MHD_stop_daemon(srv->d);
    http__streams_stop(srv);
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv);
}
