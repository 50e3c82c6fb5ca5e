/*
 * http.h - the libmicrohttpd glue: one server, requests, responses.
 *
 * The server reads each request's headers and body (within the limits of
 * base/limits.h), then calls the handler once with the whole request. The
 * handler must answer with exactly one http_respond_*() call. Errors are
 * answered as application/problem+json (RFC 9457) by http_respond_problem().
 * Every response carries the security headers; the access log line is
 * written when the response has been sent.
 *
 * Threads: libmicrohttpd's epoll thread pool; the handler runs on a pool
 * thread and may block (store, argon2id), so the pool is sized above the
 * core count.
 */
#ifndef ISAC_HTTP_H
#define ISAC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/cfg.h"
#include "base/err.h"

struct http_server;
struct http_req;

typedef void http_handler_fn(struct http_req *req, void *ud);

/*
 * Start serving cfg->listen (TLS when cfg->tls_cert and tls_key are set).
 * handler(req, ud) is called for every complete request.
 */
int http_start(struct http_server **out, const struct cfg *cfg, http_handler_fn *handler,
               void *ud, struct err *e);
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *srv);
/*
 * Stop accepting, let in-flight requests finish (up to grace seconds),
 * close everything and free the server.
 */
void http_stop(struct http_server *srv, int grace);

/* ---- the request (borrowed pointers are valid until the response is sent) ---- */

const char *http_req_method(const struct http_req *r);
const char *http_req_path(const struct http_req *r);
/* Header value (case-insensitive name) or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* Decoded query argument or NULL. */
const char *http_req_query(const struct http_req *r, const char *name);
/* True if the decoded query argument contains a NUL byte (%00): C strings would cut it. */
bool http_req_query_has_nul(const struct http_req *r, const char *name);
const char *http_req_cookie(const struct http_req *r, const char *name);
/* The body (NUL-terminated; len excludes the NUL). */
const char *http_req_body(const struct http_req *r, size_t *len);
const char *http_req_remote(const struct http_req *r);
bool http_req_tls(const struct http_req *r);
/* Name the authenticated user for the access log (copied). */
void http_req_set_user(struct http_req *r, const char *login);

/* ---- deferred answers ---- */

typedef void http_resume_fn(struct http_req *r, void *ud);

/*
 * Answer later: called by a handler instead of responding. When the
 * handler returns, the request is suspended and its worker thread serves
 * other connections. Some thread later calls http_resume(r) exactly once;
 * then fn(r, ud) runs on a worker thread and must respond. http_resume()
 * may come before the handler has even returned.
 */
void http_defer(struct http_req *r, http_resume_fn *fn, void *ud);
/* Wake a deferred request; safe from any thread. */
void http_resume(struct http_req *r);

/* ---- streamed answers (server-sent events) ---- */

/*
 * A response whose body is written later, piece by piece, from any thread
 * (GET /api/v1/stream). An idle stream costs no thread and no polling:
 * over plain HTTP the socket leaves libmicrohttpd for one epoll loop of
 * ours and writes go straight to it; with TLS the connection is parked in
 * libmicrohttpd between writes (http_stream.c). The stream is shared by
 * the connection (until the client goes away) and the caller (until
 * http_stream_release()); whichever lets go last frees it.
 */
struct http_stream;

/*
 * Answer r with status 200 and a body of unknown length in content type
 * ctype, sent as it is written. The caller holds one reference. max_queued
 * bounds the bytes waiting for a slow client. NULL when LIMIT_STREAMS
 * streams are open (or the socket cannot be taken): nothing was sent, the
 * caller answers.
 */
struct http_stream *http_stream_open(struct http_req *r, const char *ctype, size_t max_queued);
/*
 * Write n bytes (copied if they must wait). False when the stream has
 * ended, its client is gone, or more than max_queued bytes would be
 * waiting (a client that cannot keep up): the caller should close it.
 */
bool http_stream_write(struct http_stream *s, const char *data, size_t n);
/*
 * End the stream. Over plain HTTP, what the socket does not take at once
 * is dropped (the client resumes with Last-Event-ID); with TLS, what is
 * queued is sent first.
 */
void http_stream_close(struct http_stream *s);
/* True once the client is gone or the stream has ended. */
bool http_stream_done(struct http_stream *s);
/* Drop the caller's reference. */
void http_stream_release(struct http_stream *s);

/* ---- responses: exactly one per request ---- */

/* Add a header to the response that will be sent (copied). */
void http_add_header(struct http_req *r, const char *name, const char *value);
/* Send JSON (takes the reference to body). */
void http_respond_json(struct http_req *r, int status, json_t *body);
/* Send a body as is. */
void http_respond_raw(struct http_req *r, int status, const char *ctype, const char *body,
                      size_t len);
/* 204 No Content (or another status with an empty body). */
void http_respond_empty(struct http_req *r, int status);
/* problem+json from e (code, detail, fields, retry_after). */
void http_respond_problem(struct http_req *r, const struct err *e);
/* Serve a file under root (path already checked by the caller); 404 if missing. */
void http_respond_file(struct http_req *r, const char *root, const char *relpath);

#endif
