/* log.c - see log.h. One write(2) per line, so lines from threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

static enum log_level min_level = LOG_INFO; /* set once at start-up */
static int quiet;

void log_set_level(enum log_level lvl) { min_level = lvl; }
void log_set_quiet(int q) { quiet = q; }

static void emit(json_t *o)
{
    char ts[40];
    int64_t ms = util_now_ms();
    util_time_fmt(ms / 1000, ts);
    /* insert milliseconds before the Z */
    snprintf(ts + 19, sizeof(ts) - 19, ".%03dZ", (int)(ms % 1000));
    json_object_set_new(o, "ts", json_string(ts));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (s) {
        size_t n = strlen(s);
        s[n] = '\n'; /* overwrite the NUL: we pass the length */
        ssize_t w = write(STDERR_FILENO, s, n + 1);
        (void)w;
        free(s);
    }
    json_decref(o);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (quiet || lvl < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    json_object_set_new(o, "level", json_string(names[lvl]));
    json_object_set_new(o, "msg", json_string(msg));
    emit(o);
}

void log_access(const struct log_access *a)
{
    if (quiet)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "level", json_string("info"));
    json_object_set_new(o, "msg", json_string("request"));
    json_object_set_new(o, "method", json_string(a->method ? a->method : ""));
    /* A path that is not valid UTF-8 would make json_string() fail; log it lossy. */
    json_t *p = json_string(a->path ? a->path : "");
    json_object_set_new(o, "path", p ? p : json_string("(invalid utf-8)"));
    json_object_set_new(o, "status", json_integer(a->status));
    json_object_set_new(o, "ms", json_real((double)(int64_t)(a->ms * 1000) / 1000.0));
    json_object_set_new(o, "bytes_in", json_integer((json_int_t)a->bytes_in));
    json_object_set_new(o, "bytes_out", json_integer((json_int_t)a->bytes_out));
    json_object_set_new(o, "remote", json_string(a->remote ? a->remote : ""));
    if (a->user)
        json_object_set_new(o, "user", json_string(a->user));
    if (a->problem)
        json_object_set_new(o, "problem", json_string(a->problem));
    emit(o);
}
