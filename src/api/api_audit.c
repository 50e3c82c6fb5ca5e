/*
 * api_audit.c - the audit log for auditors: search and verify. Entries
 * name actors, actions, objects and outcomes; they carry no content, so
 * an auditor reads nothing beyond the log itself.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "base/limits.h"
#include "base/util.h"

void api__audit_list(struct api_call *c)
{
    if (!auth_can_read_audit(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "the audit log is for auditors");
        return;
    }
    bool bad = false;
    struct store_audit_filter f = {
        .actor_login = api__query(c, "actor", LIMIT_LOGIN_MAX, &bad),
        .action = api__query(c, "action", 64, &bad),
        .object_id = api__query(c, "object_id", 64, &bad),
    };
    const char *since = api__query(c, "since", 40, &bad), *until = api__query(c, "until", 40, &bad);
    int limit, off;
    char raw[32];
    long long before = 0;
    if (bad || !api__limit(c, LIMIT_PAGE_DEFAULT, LIMIT_PAGE_MAX, &limit) ||
        !api__cursor_raw(c, raw, sizeof(raw)))
        return;
    if (since && !util_time_parse(since, &f.since, &off)) {
        api__bad_param(c, "since", "must be an RFC 3339 date-time with an offset");
        return;
    }
    if (until && !util_time_parse(until, &f.until, &off)) {
        api__bad_param(c, "until", "must be an RFC 3339 date-time with an offset");
        return;
    }
    if (raw[0] && !util_parse_int(raw, 1, (long long)1 << 62, &before)) {
        api__bad_param(c, "cursor", "not a cursor from a previous page");
        return;
    }
    f.before_seq = before;
    json_t *items;
    if (store_audit_list(c->api->st, &f, limit + 1, &items, &c->e)) {
        api__problem(c);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(items) > (size_t)limit) {
        json_array_remove(items, (size_t)limit);
        char cur[32];
        snprintf(cur, sizeof(cur), "%lld",
                 (long long)json_integer_value(
                     json_object_get(json_array_get(items, (size_t)limit - 1), "seq")));
        next = api__cursor_json(cur);
    }
    /* Who watched the log is part of the log. */
    api__audit(c, "audit.search", NULL, NULL, "ok",
               json_pack("{s:I}", "entries", (json_int_t)json_array_size(items)));
    http_respond_json(c->req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

void api__audit_verify(struct api_call *c)
{
    if (!auth_can_read_audit(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "the audit log is for auditors");
        return;
    }
    struct store_audit_check chk;
    if (store_audit_verify(c->api->st, &chk, &c->e)) {
        api__problem(c);
        return;
    }
    api__audit(c, "audit.verify", NULL, NULL, chk.first_bad ? "failed" : "ok", NULL);
    json_t *out = json_pack("{s:b,s:I,s:s}", "intact", chk.first_bad == 0, "entries",
                            (json_int_t)chk.entries, "head", chk.head);
    if (chk.first_bad) {
        json_object_set_new(out, "first_bad", json_integer(chk.first_bad));
        json_object_set_new(out, "reason", json_string(chk.reason));
    }
    http_respond_json(c->req, 200, out);
}
