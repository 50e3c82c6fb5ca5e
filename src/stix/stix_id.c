/*
 * stix_id.c - deterministic ids (UUIDv5, RFC 9562 §5.5) and STIX timestamps.
 *
 * UUIDv5 is SHA-1 over the namespace's 16 bytes and the name, cut to 16
 * bytes with the version (5) and variant (10) bits set. SHA-1 comes from
 * nettle (libsodium has none). Its broken collision resistance does not
 * matter here: the ids only need to be stable and distinct, the names
 * hashed are built by us from release ids and canonical values, and a
 * collision would at worst make two objects of one export share an id.
 */
#include "stix_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 16 bytes of a canonical UUID string; false if s is not one. */
static bool uuid_parse(const char *s, uint8_t out[16])
{
    if (strlen(s) != STIX_UUID_LEN)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < STIX_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return k == 16;
}

int stix__uuid5_init(struct stix__uuid5 *u, const char *ns)
{
    uint8_t b[16];
    if (ns == NULL || !uuid_parse(ns, b))
        return ERR_INTERNAL;
    sha1_init(&u->sha);
    sha1_update(&u->sha, sizeof(b), b);
    return 0;
}

void stix__uuid5_add(struct stix__uuid5 *u, const void *p, size_t n)
{
    sha1_update(&u->sha, n, p);
}

void stix__uuid5_adds(struct stix__uuid5 *u, const char *s)
{
    stix__uuid5_add(u, s, strlen(s));
}

void stix__uuid5_end(struct stix__uuid5 *u, char out[STIX_UUID_LEN + 1])
{
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_digest(&u->sha, sizeof(d), d);
    d[6] = (uint8_t)((d[6] & 0x0f) | 0x50);
    d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
    snprintf(out, STIX_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1],
             d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
             d[15]);
}

int stix_uuid5(const char *ns, const void *name, size_t n, char out[STIX_UUID_LEN + 1])
{
    struct stix__uuid5 u;
    if (stix__uuid5_init(&u, ns) != 0)
        return ERR_INTERNAL;
    stix__uuid5_add(&u, name, n);
    stix__uuid5_end(&u, out);
    return 0;
}

void stix__ts(int64_t t, char out[STIX__TS_LEN + 1])
{
    /* The timestamp pattern of the schemas allows four-digit years only. */
    if (t < 0)
        t = 0;
    if (t > 253402300799LL) /* 9999-12-31T23:59:59Z */
        t = 253402300799LL;
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, STIX__TS_LEN + 1, "%Y-%m-%dT%H:%M:%S.000Z", &tm) != STIX__TS_LEN)
        snprintf(out, STIX__TS_LEN + 1, "1970-01-01T00:00:00.000Z");
}
