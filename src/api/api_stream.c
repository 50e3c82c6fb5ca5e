/*
 * api_stream.c - GET /api/v1/stream: the caller's server-sent event
 * stream of published alert versions (src/notify does the work).
 */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "base/util.h"
#include "notify/notify.h"

/*
 * Last-Event-ID (header, or ?last_event_id= for clients that cannot set
 * it): -1 when absent (live events only), -2 when malformed.
 */
static int64_t last_event_id(struct api_call *c)
{
    const char *v = http_req_header(c->req, "Last-Event-ID");
    if (v == NULL || *v == '\0')
        v = http_req_query(c->req, "last_event_id");
    if (v == NULL || *v == '\0')
        return -1;
    long long n;
    return util_parse_int(v, 0, INT64_MAX, &n) ? (int64_t)n : -2;
}

void api__stream(struct api_call *c)
{
    struct notify_reader rd;
    memset(&rd, 0, sizeof(rd));
    auth_alert_access(&c->id, &rd.acc);
    if (rd.acc.none) {
        api__fail(c, ERR_FORBIDDEN, "this account sees no alerts");
        return;
    }
    int64_t last = last_event_id(c);
    if (last == -2) {
        api__bad_param(c, "Last-Event-ID", "must be an event id from this stream");
        return;
    }
    if (c->api->notify == NULL) {
        api__fail(c, ERR_AGAIN, "event streams are not available on this server");
        return;
    }
    util_strlcpy(rd.user_id, c->id.p.user_id, sizeof(rd.user_id));
    util_strlcpy(rd.org_id, c->id.p.org_id, sizeof(rd.org_id));
    rd.cred_session = c->id.via_session;
    memcpy(rd.cred, c->id.via_session ? c->id.session_hash : c->id.token_hash, sizeof(rd.cred));
    if (notify_subscribe(c->api->notify, c->req, &rd, last, &c->e))
        api__problem(c);
}
