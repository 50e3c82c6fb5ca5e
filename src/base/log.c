/* log.c - see log.h. One write(2) per line, so lines from threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static enum log_level min_level = LOG_INFO; /* set once at start-up */
static int quiet;

void log_set_level(enum log_level lvl) { min_level = lvl; }
void log_set_quiet(int q) { quiet = q; }

/*
 * Lines are formatted straight into a buffer: this runs twice per request
 * (the access line, and often a message), so it avoids building a JSON
 * object for each. Strings are escaped as JSON requires; text that is not
 * valid UTF-8 is replaced, so every line stays parseable.
 */
struct line {
    char b[4096];
    size_t n;
};

static void put(struct line *l, const char *s, size_t k)
{
    if (k > sizeof(l->b) - 2 - l->n)
        k = sizeof(l->b) - 2 - l->n; /* keep room for "}\n"; an over-long line is cut */
    memcpy(l->b + l->n, s, k);
    l->n += k;
}

static void put_s(struct line *l, const char *s) { put(l, s, strlen(s)); }

static void put_str(struct line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!util_utf8_valid(s, strlen(s)))
        s = "(invalid utf-8)";
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            put(l, esc, 6);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

static void put_field(struct line *l, const char *name, const char *v)
{
    put(l, ",\"", 2);
    put_s(l, name);
    put(l, "\":", 2);
    put_str(l, v);
}

static void put_num(struct line *l, const char *name, double v, bool millis)
{
    char num[64];
    int k = millis ? snprintf(num, sizeof(num), "%.3f", v) : snprintf(num, sizeof(num), "%.0f", v);
    put(l, ",\"", 2);
    put_s(l, name);
    put(l, "\":", 2);
    put(l, num, k > 0 ? (size_t)k : 0);
}

static void begin(struct line *l, const char *level, const char *msg)
{
    l->n = 0;
    put_s(l, "{\"level\":");
    put_str(l, level);
    put_field(l, "msg", msg);
}

/* Add the time, close the line and write it in one write(2). */
static void end(struct line *l)
{
    char ts[40];
    int64_t ms = util_now_ms();
    util_time_fmt(ms / 1000, ts);
    /* insert milliseconds before the Z */
    snprintf(ts + 19, sizeof(ts) - 19, ".%03dZ", (int)(ms % 1000));
    put_field(l, "ts", ts);
    l->b[l->n++] = '}';
    l->b[l->n++] = '\n';
    ssize_t w = write(STDERR_FILENO, l->b, l->n);
    (void)w;
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
    struct line l;
    begin(&l, names[lvl], msg);
    end(&l);
}

void log_access(const struct log_access *a)
{
    if (quiet)
        return;
    struct line l;
    begin(&l, "info", "request");
    put_field(&l, "method", a->method ? a->method : "");
    put_field(&l, "path", a->path ? a->path : "");
    put_num(&l, "status", a->status, false);
    put_num(&l, "ms", a->ms, true);
    put_num(&l, "bytes_in", (double)a->bytes_in, false);
    put_num(&l, "bytes_out", (double)a->bytes_out, false);
    put_field(&l, "remote", a->remote ? a->remote : "");
    if (a->user)
        put_field(&l, "user", a->user);
    if (a->problem)
        put_field(&l, "problem", a->problem);
    end(&l);
}
