/*
 * jw.c - see jw.h.
 */
#include "jw.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static bool grow(struct out *o, size_t n)
{
    if (o->failed)
        return false;
    if (o->len + n + 1 <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < o->len + n + 1)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (p == NULL) {
        o->failed = true;
        return false;
    }
    o->p = p;
    o->cap = cap;
    return true;
}

static void put(struct out *o, const char *s, size_t n)
{
    if (grow(o, n)) {
        memcpy(o->p + o->len, s, n);
        o->len += n;
    }
}

static void putc1(struct out *o, char c)
{
    if (grow(o, 1))
        o->p[o->len++] = c;
}

/* Bytes a JSON string must escape: '"', '\\' and the C0 controls (as jansson does). */
static bool must_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/*
 * Does any of the 8 bytes of w need an escape? Word-at-a-time tests
 * (a byte below 0x20; a byte equal to '"' or '\\'), exact: bytes >= 0x80
 * never match.
 */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t lt20 = (w - ones * 0x20) & ~w & highs;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t eq = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
    return (lt20 | eq) != 0;
}

static void put_string(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    /* room for the worst case (every byte a \u00XX) once, then no checks */
    if (n > (SIZE_MAX - 2) / 6 || !grow(o, 2 + 6 * n))
        return;
    char *d = o->p + o->len;
    *d++ = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        /* skip 8 bytes at a time while none needs an escape */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_needs_escape(w))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (!must_escape(c))
            continue;
        memcpy(d, s + run, i - run);
        d += i - run;
        run = i + 1;
        *d++ = '\\';
        switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\b': *d++ = 'b'; break;
        case '\f': *d++ = 'f'; break;
        case '\n': *d++ = 'n'; break;
        case '\r': *d++ = 'r'; break;
        case '\t': *d++ = 't'; break;
        default:
            memcpy(d, "u00", 3);
            d[3] = hex[c >> 4];
            d[4] = hex[c & 15];
            d += 5;
        }
    }
    memcpy(d, s + run, n - run);
    d += n - run;
    *d++ = '"';
    o->len = (size_t)(d - o->p);
}

static void put_value(struct out *o, const json_t *v, int depth)
{
    if (depth > JW_MAX_DEPTH) {
        o->failed = true;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        putc1(o, '{');
        bool first = true;
        const char *k;
        json_t *x;
#if JANSSON_VERSION_HEX >= 0x020e00 /* 2.14: keys may hold NUL bytes */
        size_t klen;
        json_object_keylen_foreach((json_t *)v, k, klen, x)
#else
        json_object_foreach((json_t *)v, k, x)
#endif
        {
#if JANSSON_VERSION_HEX < 0x020e00
            size_t klen = strlen(k);
#endif
            if (!first)
                putc1(o, ',');
            first = false;
            put_string(o, k, klen);
            putc1(o, ':');
            put_value(o, x, depth + 1);
        }
        putc1(o, '}');
        break;
    }
    case JSON_ARRAY: {
        putc1(o, '[');
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (i)
                putc1(o, ',');
            put_value(o, x, depth + 1);
        }
        putc1(o, ']');
        break;
    }
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        /* decimal digits, as "%" JSON_INTEGER_FORMAT writes them */
        char b[24];
        size_t k = sizeof(b);
        json_int_t x = json_integer_value(v);
        uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        do {
            b[--k] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0)
            b[--k] = '-';
        put(o, b + k, sizeof(b) - k);
        break;
    }
    case JSON_REAL: {
        /* jansson's own text (precision, exponent form, the ".0" it adds) */
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s == NULL) {
            o->failed = true;
            return;
        }
        put(o, s, strlen(s));
        free(s);
        break;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        break;
    case JSON_FALSE:
        put(o, "false", 5);
        break;
    case JSON_NULL:
        put(o, "null", 4);
        break;
    }
}

char *jw_dump(const json_t *v, size_t *len)
{
    if (v == NULL)
        return NULL;
    struct out o = {0};
    put_value(&o, v, 0);
    if (o.failed || !grow(&o, 0)) {
        free(o.p);
        return NULL;
    }
    o.p[o.len] = '\0';
    if (len)
        *len = o.len;
    return o.p;
}
