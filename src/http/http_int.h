/*
 * http_int.h - what http.c and http_stream.c share; not for other modules.
 */
#ifndef ISAC_HTTP_INT_H
#define ISAC_HTTP_INT_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "http.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

struct http_streams; /* http_stream.c: the event loop of handed-over streams */

struct http_server {
    struct MHD_Daemon *d;
    http_handler_fn *handler;
    void *ud;
    atomic_int inflight;   /* requests between first byte and completion */
    atomic_int deferred;   /* of those, suspended while they wait for an answer */
    int port;
    char *tls_cert;
    char *tls_key;
    struct http_streams *streams; /* NULL with TLS: streams stay in libmicrohttpd */
};

struct hdr {
    char *name;
    char *value;
    struct hdr *next;
};

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct buf body;
    bool body_too_big;
    bool responded;
    bool tls;
    bool handed_over; /* the socket now belongs to a stream (http_stream.c) */
    int status;
    size_t bytes_out;
    char remote[INET6_ADDRSTRLEN];
    char *user;
    const char *problem;
    int64_t t0; /* microseconds, monotonic */
    struct hdr *headers;

    /* Deferred answers (http_defer): the state moves under defer_mu. */
    pthread_mutex_t defer_mu;
    enum { DEFER_NONE, DEFER_PENDING, DEFER_SUSPENDED, DEFER_READY } defer;
    http_resume_fn *resume_fn;
    void *resume_ud;
};

/* Headers every response carries (name, value). */
extern const char *const http__security_headers[][2];
extern const size_t http__nsecurity_headers;

/* Add the security and handler headers to resp and queue it (http.c). */
void http__send_response(struct http_req *r, int status, struct MHD_Response *resp, size_t len);

/* Start and stop the event loop of handed-over streams (http_stream.c). */
int http__streams_start(struct http_server *srv, int max, struct err *e);
void http__streams_stop(struct http_server *srv);

#endif
