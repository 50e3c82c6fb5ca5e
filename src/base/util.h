/*
 * util.h - small helpers with no better home: time, ids, text.
 */
#ifndef ISAC_UTIL_H
#define ISAC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define UTIL_UUID_LEN 36   /* "xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx" */
#define UTIL_TIME_LEN 20   /* "2026-11-21T22:50:00Z" */

/* Wall-clock milliseconds since the epoch. */
int64_t util_now_ms(void);
/* Monotonic milliseconds and microseconds, for durations. */
int64_t util_mono_ms(void);
int64_t util_mono_us(void);

/* Format seconds since the epoch as RFC 3339 UTC into out[UTIL_TIME_LEN+1]. */
void util_time_fmt(int64_t t, char out[UTIL_TIME_LEN + 1]);

/*
 * A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits, so ids
 * sort by creation time, which makes them usable as pagination keys.
 * out must hold UTIL_UUID_LEN + 1 bytes.
 */
void util_uuid7(char out[UTIL_UUID_LEN + 1]);
/* True if s is a lower-case canonical UUID string. */
bool util_is_uuid(const char *s);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t util_utf8_chars(const char *s);
/* True if the n bytes at s are valid UTF-8 (no overlongs, no surrogates). */
bool util_utf8_valid(const char *s, size_t n);

/* strdup that aborts on out-of-memory (small internal allocations only). */
char *xstrdup(const char *s);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);

/* Constant-time comparison of two NUL-terminated strings. */
bool util_streq_ct(const char *a, const char *b);

/* Copy src into dst of size n, truncating; always NUL-terminates. */
void util_strlcpy(char *dst, const char *src, size_t n);

/*
 * Parse an RFC 3339 date-time that carries its offset ("Z" or "+09:00"),
 * e.g. "2026-11-21T22:50:00.5+09:00". *t receives seconds since the epoch
 * (fractions dropped), *offset_min the offset in minutes. False if the
 * text is not such a date-time or names an impossible date.
 */
bool util_time_parse(const char *s, int64_t *t, int *offset_min);
/* Format t as RFC 3339 in the given offset ("+09:00", or "Z" for 0). */
void util_time_fmt_offset(int64_t t, int offset_min, char out[32]);
/* Days in month m (1-12) of year y. */
int util_days_in_month(int y, int m);

/* Parse a decimal integer in [min, max]; whole string must match. */
bool util_parse_int(const char *s, long long min, long long max, long long *out);

/*
 * Is addr (4 bytes for AF_INET, 16 for AF_INET6, network order) a public
 * unicast address? False for loopback, private (RFC 1918, unique local),
 * shared (100.64/10), link-local, multicast, documentation, benchmarking,
 * reserved and unspecified ranges, and for IPv6 forms that embed such an
 * IPv4 address (mapped, compatible, NAT64 64:ff9b::/96). What the hub may
 * connect to on a member's behalf (webhooks).
 */
bool util_addr_public(int family, const unsigned char *addr);
/* The same for a numeric IPv4 or IPv6 text; false if s is not one. */
bool util_addr_text_public(const char *s, bool *is_ip);

#endif
