/* util.c - see util.h. */
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int64_t util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void util_time_fmt(int64_t t, char out[UTIL_TIME_LEN + 1])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, UTIL_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void util_uuid7(char out[UTIL_UUID_LEN + 1])
{
    unsigned char b[16];
    uint64_t ms = (uint64_t)util_now_ms();
    randombytes_buf(b + 6, 10);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    char hex[33];
    sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
    /* 8-4-4-4-12 */
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

bool util_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != UTIL_UUID_LEN)
        return false;
    for (int i = 0; i < UTIL_UUID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

size_t util_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

bool util_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) < len)
            return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += len;
    }
    return true;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("isac: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fputs("isac: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fputs("isac: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

bool util_streq_ct(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return sodium_memcmp(a, b, la) == 0;
}

void util_strlcpy(char *dst, const char *src, size_t n)
{
    if (n == 0)
        return;
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
}

bool util_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (p == s && *p == '-')))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int util_days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool util_time_parse(const char *s, int64_t *t, int *offset_min)
{
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 1;
    if (strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) ||
        s[7] != '-' || !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        const char *f = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == f || p - f > 9)
            return false;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return false;
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0' || Y < 1970 || M < 1 || M > 12 || D < 1 || D > util_days_in_month(Y, M) ||
        h > 23 || m > 59 || sec > 60 || oh > 23 || om > 59)
        return false;
    /* days from civil (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar */
    int y = M <= 2 ? Y - 1 : Y;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    int off = sign * (oh * 60 + om);
    *t = days * 86400 + h * 3600 + m * 60 + (sec == 60 ? 59 : sec) - (int64_t)off * 60;
    *offset_min = off;
    return true;
}

void util_time_fmt_offset(int64_t t, int offset_min, char out[32])
{
    time_t local = (time_t)(t + (int64_t)offset_min * 60);
    struct tm tm;
    gmtime_r(&local, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    int a = abs(offset_min) % (24 * 60);
    if (offset_min == 0)
        snprintf(out + n, 32 - n, "Z");
    else
        snprintf(out + n, 32 - n, "%c%02d:%02d", offset_min < 0 ? '-' : '+', a / 60, a % 60);
}

/* ---- addresses ---- */

static bool v4_public(const unsigned char *a)
{
    /* {first bytes, prefix length}: RFC 6890 special-purpose ranges and the like */
    static const struct {
        unsigned char net[4];
        int bits;
    } deny[] = {
        {{0, 0, 0, 0}, 8},       {{10, 0, 0, 0}, 8},      {{100, 64, 0, 0}, 10},
        {{127, 0, 0, 0}, 8},     {{169, 254, 0, 0}, 16},  {{172, 16, 0, 0}, 12},
        {{192, 0, 0, 0}, 24},    {{192, 0, 2, 0}, 24},    {{192, 88, 99, 0}, 24},
        {{192, 168, 0, 0}, 16},  {{198, 18, 0, 0}, 15},   {{198, 51, 100, 0}, 24},
        {{203, 0, 113, 0}, 24},  {{224, 0, 0, 0}, 4},     {{240, 0, 0, 0}, 4},
    };
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
        const unsigned char *n = deny[i].net;
        uint32_t net = (uint32_t)n[0] << 24 | (uint32_t)n[1] << 16 | (uint32_t)n[2] << 8 | n[3];
        uint32_t mask = 0xffffffffu << (32 - deny[i].bits);
        if ((x & mask) == net)
            return false;
    }
    return true;
}

bool util_addr_public(int family, const unsigned char *a)
{
    if (family == AF_INET)
        return v4_public(a);
    if (family != AF_INET6)
        return false;
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (!memcmp(a, zero, 12) || !memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
        return v4_public(a + 12); /* also :: and ::1, whose "IPv4" is 0.0.0.x */
    if ((a[0] & 0xfe) == 0xfc)                 /* fc00::/7 unique local */
        return false;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return false;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
        return false;
    if (a[0] == 0xff)                          /* multicast */
        return false;
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) /* 2001:db8::/32 */
        return false;
    if (a[0] == 0x01 && a[1] == 0x00 && !memcmp(a + 2, zero, 6)) /* 100::/64 discard */
        return false;
    return (a[0] & 0xe0) == 0x20; /* 2000::/3: the only global unicast space in use */
}

bool util_addr_text_public(const char *s, bool *is_ip)
{
    unsigned char a[16];
    *is_ip = true;
    if (inet_pton(AF_INET, s, a) == 1)
        return util_addr_public(AF_INET, a);
    if (inet_pton(AF_INET6, s, a) == 1)
        return util_addr_public(AF_INET6, a);
    *is_ip = false;
    return false;
}
