/*
 * test_base.c - unit tests of src/base: err, buf, util, cfg.
 */
#include "../unit.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/cfg.h"
#include "base/err.h"
#include "base/jw.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"

/* ---- err ---- */

static void test_err_init(void **state)
{
    (void)state;
    struct err e;
    memset(&e, 0xa5, sizeof(e));
    err_init(&e);
    assert_int_equal(e.code, 0);
    assert_int_equal(e.nfields, 0);
    assert_false(e.fields_truncated);
    assert_int_equal(e.retry_after, 0);
    assert_string_equal(e.detail, "");
}

static void test_err_set_keeps_first(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    assert_int_equal(err_set(&e, ERR_NOTFOUND, "org '%s' not found", "x"), ERR_NOTFOUND);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_string_equal(e.detail, "org 'x' not found");
    /* The second failure returns the first code and leaves the detail. */
    assert_int_equal(err_set(&e, ERR_STORE, "storage %d", 2), ERR_NOTFOUND);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_string_equal(e.detail, "org 'x' not found");
    /* A field after a non-validation failure is ignored. */
    assert_int_equal(err_field(&e, "name", "required"), ERR_NOTFOUND);
    assert_int_equal(e.nfields, 0);

    /* fmt may be NULL; e may be NULL. */
    err_init(&e);
    assert_int_equal(err_set(&e, ERR_CONFLICT, NULL), ERR_CONFLICT);
    assert_string_equal(e.detail, "");
    assert_int_equal(err_set(NULL, ERR_IO, "ignored"), ERR_IO);

    /* The detail is truncated, never overflowed. */
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_init(&e);
    err_set(&e, ERR_BADREQ, "%s", big);
    assert_int_equal(strlen(e.detail), sizeof(e.detail) - 1);
}

static void test_err_field_list(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    assert_int_equal(err_field(&e, "name.ja", "too long: %d characters", 201), ERR_INVALID);
    assert_int_equal(err_field(&e, "contacts[0].value", "required"), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(e.nfields, 2);
    assert_string_equal(e.fields[0].field, "name.ja");
    assert_string_equal(e.fields[0].reason, "too long: 201 characters");
    assert_string_equal(e.fields[1].field, "contacts[0].value");
    assert_string_equal(e.fields[1].reason, "required");
    /* err_set after fields keeps ERR_INVALID and the fields. */
    assert_int_equal(err_set(&e, ERR_STORE, "later"), ERR_INVALID);
    assert_int_equal(e.nfields, 2);
    /* An explicit ERR_INVALID first still collects fields. */
    err_init(&e);
    err_set(&e, ERR_INVALID, "invalid config");
    err_field(&e, "line 3: threads", "bad");
    assert_int_equal(e.nfields, 1);
    assert_string_equal(e.detail, "invalid config");

    /* Over-long field names and reasons are truncated and terminated. */
    char longname[300];
    memset(longname, 'f', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    err_init(&e);
    err_field(&e, longname, "%s", longname);
    assert_int_equal(strlen(e.fields[0].field), sizeof(e.fields[0].field) - 1);
    assert_int_equal(strlen(e.fields[0].reason), sizeof(e.fields[0].reason) - 1);
}

static void test_err_field_truncation(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    for (int i = 0; i < LIMIT_ERR_FIELDS; i++) {
        char f[32];
        snprintf(f, sizeof(f), "f%d", i);
        err_field(&e, f, "r%d", i);
    }
    assert_int_equal(e.nfields, LIMIT_ERR_FIELDS);
    assert_false(e.fields_truncated);
    assert_int_equal(err_field(&e, "one-too-many", "x"), ERR_INVALID);
    assert_int_equal(err_field(&e, "two-too-many", "x"), ERR_INVALID);
    assert_int_equal(e.nfields, LIMIT_ERR_FIELDS);
    assert_true(e.fields_truncated);
    char last[32];
    snprintf(last, sizeof(last), "f%d", LIMIT_ERR_FIELDS - 1);
    assert_string_equal(e.fields[LIMIT_ERR_FIELDS - 1].field, last);
    assert_string_equal(e.fields[0].reason, "r0");
}

static void test_err_table(void **state)
{
    (void)state;
    static const struct {
        int code, status;
        const char *slug, *title;
    } want[] = {
        {ERR_INVALID, 422, "validation", "invalid request"},
        {ERR_TOOBIG, 413, "too-large", "request too large"},
        {ERR_STORE, 503, "unavailable", "storage unavailable"},
        {ERR_MALFORMED, 400, "malformed-json", "malformed JSON"},
        {ERR_BADREQ, 400, "bad-request", "bad request"},
        {ERR_UNAUTH, 401, "unauthenticated", "authentication required"},
        {ERR_CREDENTIALS, 401, "invalid-credentials", "invalid login or password"},
        {ERR_FORBIDDEN, 403, "forbidden", "forbidden"},
        {ERR_CSRF, 403, "csrf", "missing or wrong CSRF token"},
        {ERR_NOTFOUND, 404, "not-found", "not found"},
        {ERR_METHOD, 405, "method-not-allowed", "method not allowed"},
        {ERR_CONFLICT, 409, "conflict", "conflict"},
        {ERR_MEDIATYPE, 415, "unsupported-media-type", "unsupported media type"},
        {ERR_THROTTLED, 429, "throttled", "too many attempts"},
        {ERR_INTERNAL, 500, "internal", "internal error"},
        {ERR_NOMEM, 503, "unavailable", "out of memory"},
        {ERR_IO, 500, "internal", "input/output error"},
        {ERR_VERSION, 500, "internal", "data dir written by a newer version"},
        {ERR_AGAIN, 503, "unavailable", "try again"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        /* Codes are -1, -2, ... in table order: appended, never renumbered. */
        assert_int_equal(want[i].code, -(int)(i + 1));
        assert_int_equal(err_status(want[i].code), want[i].status);
        assert_string_equal(err_slug(want[i].code), want[i].slug);
        assert_string_equal(err_title(want[i].code), want[i].title);
    }
    /* Every entry of the table is covered above. */
    int n = 0;
#define X(name, code, status, slug, title) n++;
    ERR_TABLE(X)
#undef X
    assert_int_equal(n, (int)(sizeof(want) / sizeof(want[0])));
    /* Unknown codes map to a plain internal error. */
    const int unknown[] = {0, 1, -999, INT_MIN};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_int_equal(err_status(unknown[i]), 500);
        assert_string_equal(err_slug(unknown[i]), "internal");
        assert_string_equal(err_title(unknown[i]), "internal error");
    }
}

/* ---- buf ---- */

/* The invariants of struct buf (STYLE.md §7: check after each change). */
static void buf_check(const struct buf *b)
{
    assert_true(b->len <= b->max);
    if (b->data == NULL) {
        assert_int_equal(b->len, 0);
        assert_int_equal(b->cap, 0);
    } else {
        assert_true(b->len < b->cap);
        assert_true(b->cap <= b->max + 1);
        assert_int_equal(b->data[b->len], '\0');
    }
}

static void test_buf_append_grows(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_check(&b);
    assert_null(b.data);
    char want[5000];
    size_t n = 0;
    for (int i = 0; i < 500; i++) {
        char chunk[16];
        int k = snprintf(chunk, sizeof(chunk), "%d,", i);
        assert_int_equal(buf_append(&b, chunk, (size_t)k), 0);
        memcpy(want + n, chunk, (size_t)k);
        n += (size_t)k;
        buf_check(&b);
    }
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
    /* Appending nothing keeps everything. */
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, n);
    buf_check(&b);
    buf_release(&b);
    buf_check(&b);
    assert_null(b.data);
    assert_int_equal(b.max, 1 << 20);
    /* Usable again after release. */
    assert_int_equal(buf_append(&b, "again", 5), 0);
    assert_string_equal(b.data, "again");
    buf_release(&b);
}

static void test_buf_ceiling(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "hello", 5), 0);
    buf_check(&b);
    /* One byte too many: refused, contents intact. */
    assert_int_equal(buf_append(&b, "world!", 6), ERR_TOOBIG);
    buf_check(&b);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    /* Exactly up to the ceiling is fine. */
    assert_int_equal(buf_append(&b, "world", 5), 0);
    buf_check(&b);
    assert_string_equal(b.data, "helloworld");
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_int_equal(buf_append(&b, "x", 1), ERR_TOOBIG);
    assert_int_equal(buf_appendf(&b, "%d", 7), ERR_TOOBIG);
    buf_check(&b);
    assert_string_equal(b.data, "helloworld");
    /* A huge n must not wrap around the check. */
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), ERR_TOOBIG);
    assert_int_equal(b.len, 10);
    buf_release(&b);

    /* A zero ceiling holds only the empty string. */
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    buf_check(&b);
    assert_int_equal(buf_append(&b, "a", 1), ERR_TOOBIG);
    buf_check(&b);
    buf_release(&b);
}

static void test_buf_appendf(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(buf_appendf(&b, "%s=%d;", "a", 1), 0);
    assert_int_equal(buf_appendf(&b, "%s", ""), 0);
    assert_string_equal(b.data, "a=1;");
    /* Longer than the internal 512-byte scratch. */
    char big[1500];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_appendf(&b, "<%s>", big), 0);
    buf_check(&b);
    assert_int_equal(b.len, 4 + 1 + 1499 + 1);
    assert_int_equal(b.data[5], 'z');
    assert_int_equal(b.data[b.len - 1], '>');
    /* A long format past the ceiling is refused whole. */
    size_t before = b.len;
    assert_int_equal(buf_appendf(&b, "%s%s%s", big, big, big), ERR_TOOBIG);
    assert_int_equal(b.len, before);
    buf_check(&b);
    buf_release(&b);
}

static void test_buf_take(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    size_t len = 0;
    char *p = buf_take(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 3);
    assert_string_equal(p, "abc");
    free(p);
    /* The buffer is left empty with its ceiling. */
    buf_check(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    /* Taking an empty buffer gives an empty string, not NULL. */
    len = 99;
    p = buf_take(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    /* len may be NULL. */
    assert_int_equal(buf_append(&b, "xy", 2), 0);
    p = buf_take(&b, NULL);
    assert_string_equal(p, "xy");
    free(p);
    buf_release(&b);
}

/* ---- util ---- */

static bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

static void test_uuid7_format(void **state)
{
    (void)state;
    for (int k = 0; k < 200; k++) {
        char id[UTIL_UUID_LEN + 1];
        memset(id, '#', sizeof(id));
        int64_t t0 = util_now_ms();
        util_uuid7(id);
        int64_t t1 = util_now_ms();
        assert_int_equal(strlen(id), UTIL_UUID_LEN);
        for (int i = 0; i < UTIL_UUID_LEN; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(id[i], '-');
            else
                assert_true(is_lower_hex(id[i]));
        }
        assert_int_equal(id[14], '7');                  /* version */
        assert_non_null(strchr("89ab", id[19]));        /* RFC 9562 variant */
        assert_true(util_is_uuid(id));
        /* The first 48 bits are the wall-clock milliseconds. */
        char hex[13];
        memcpy(hex, id, 8);
        memcpy(hex + 8, id + 9, 4);
        hex[12] = '\0';
        int64_t ms = (int64_t)strtoll(hex, NULL, 16);
        assert_true(ms >= t0 && ms <= t1);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_uuid7_order(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char ids[N][UTIL_UUID_LEN + 1];
    for (int i = 0; i < N; i++)
        util_uuid7(ids[i]);
    /* The time prefix never goes backwards (lexical = numeric for fixed-width hex). */
    for (int i = 1; i < N; i++)
        assert_true(strncmp(ids[i - 1], ids[i], 13) <= 0);
    /* Unique. */
    static char sorted[N][UTIL_UUID_LEN + 1];
    memcpy(sorted, ids, sizeof(ids));
    qsort(sorted, N, sizeof(sorted[0]), cmp_str);
    for (int i = 1; i < N; i++)
        assert_true(strcmp(sorted[i - 1], sorted[i]) < 0);
    /* Ids made in different milliseconds sort by creation time. */
    char a[UTIL_UUID_LEN + 1], b[UTIL_UUID_LEN + 1];
    util_uuid7(a);
    int64_t t = util_now_ms();
    while (util_now_ms() <= t + 1)
        usleep(200);
    util_uuid7(b);
    assert_true(strcmp(a, b) < 0);
}

static void test_util_is_uuid(void **state)
{
    (void)state;
    assert_true(util_is_uuid("01890a5d-ac96-774b-bcce-b302099a8057"));
    assert_true(util_is_uuid("00000000-0000-0000-0000-000000000000"));
    assert_false(util_is_uuid("01890A5D-AC96-774B-BCCE-B302099A8057")); /* upper case */
    assert_false(util_is_uuid("01890a5d-ac96-774b-bcce-b302099a805"));  /* short */
    assert_false(util_is_uuid("01890a5d-ac96-774b-bcce-b302099a80570")); /* long */
    assert_false(util_is_uuid("01890a5dac96-774b-bcce-b302099a80570"));  /* dash moved */
    assert_false(util_is_uuid("01890a5d-ac96-774b-bcce-b302099a805g"));  /* not hex */
    assert_false(util_is_uuid("01890a5d-ac96-774b-bcce_b302099a8057"));  /* '_' for '-' */
    assert_false(util_is_uuid("{1890a5d-ac96-774b-bcce-b302099a805}"));
    assert_false(util_is_uuid(""));
    assert_false(util_is_uuid(NULL));
    assert_false(util_is_uuid("../../../../../../../../../etc/passwd"));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        bool ok;
        const char *what;
    } cases[] = {
        {"", 0, true, "empty"},
        {"plain ascii", 11, true, "ascii"},
        {"a\0b", 3, true, "NUL is ASCII"},
        {"\xc3\xa9", 2, true, "2-byte e-acute"},
        {"\xc2\x80", 2, true, "2-byte min U+0080"},
        {"\xdf\xbf", 2, true, "2-byte max U+07FF"},
        {"\xe6\x97\xa5\xe6\x9c\xac", 6, true, "3-byte Japanese"},
        {"\xe0\xa0\x80", 3, true, "3-byte min U+0800"},
        {"\xed\x9f\xbf", 3, true, "U+D7FF before surrogates"},
        {"\xee\x80\x80", 3, true, "U+E000 after surrogates"},
        {"\xef\xbf\xbf", 3, true, "U+FFFF"},
        {"\xf0\x9f\x98\x80", 4, true, "4-byte emoji"},
        {"\xf0\x90\x80\x80", 4, true, "4-byte min U+10000"},
        {"\xf4\x8f\xbf\xbf", 4, true, "U+10FFFF"},
        {"\xc0\x80", 2, false, "overlong NUL"},
        {"\xc1\xbf", 2, false, "overlong 2-byte"},
        {"\xe0\x80\x80", 3, false, "overlong 3-byte zero"},
        {"\xe0\x9f\xbf", 3, false, "overlong 3-byte U+07FF"},
        {"\xf0\x80\x80\x80", 4, false, "overlong 4-byte zero"},
        {"\xf0\x8f\xbf\xbf", 4, false, "overlong 4-byte U+FFFF"},
        {"\xed\xa0\x80", 3, false, "high surrogate U+D800"},
        {"\xed\xbf\xbf", 3, false, "low surrogate U+DFFF"},
        {"\xed\xa0\xbd\xed\xb8\x80", 6, false, "CESU-8 surrogate pair"},
        {"\xf4\x90\x80\x80", 4, false, "above U+10FFFF"},
        {"\xf5\x80\x80\x80", 4, false, "lead F5"},
        {"\xf7\xbf\xbf\xbf", 4, false, "lead F7"},
        {"\xf8\x88\x80\x80\x80", 5, false, "5-byte form"},
        {"\xfc\x84\x80\x80\x80\x80", 6, false, "6-byte form"},
        {"\xfe", 1, false, "FE"},
        {"\xff", 1, false, "FF"},
        {"\x80", 1, false, "lone continuation"},
        {"a\xbf", 2, false, "continuation after ascii"},
        {"\xc3", 1, false, "truncated 2-byte"},
        {"\xe6\x97", 2, false, "truncated 3-byte"},
        {"\xf0\x9f\x98", 3, false, "truncated 4-byte"},
        {"\xc3\xa9", 1, false, "n cuts a character"},
        {"\xc3\x41", 2, false, "missing continuation"},
        {"\xe6\x41\xa5", 3, false, "ascii inside 3-byte"},
        {"ok\xf0\x9f\x98\x80ok\xed\xa0\x80", 12, false, "bad after good"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = util_utf8_valid(cases[i].s, cases[i].n);
        if (got != cases[i].ok)
            print_error("utf8 case '%s': want %d got %d\n", cases[i].what, cases[i].ok, got);
        assert_int_equal(got, cases[i].ok);
    }
}

static void test_utf8_chars(void **state)
{
    (void)state;
    assert_int_equal(util_utf8_chars(""), 0);
    assert_int_equal(util_utf8_chars("abc"), 3);
    assert_int_equal(util_utf8_chars("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), 3); /* 日本語 */
    assert_int_equal(util_utf8_chars("\xc3\xa9\xf0\x9f\x98\x80z"), 3);
    assert_int_equal(util_utf8_chars("\xf4\x8f\xbf\xbf"), 1);
}

static void test_parse_int(void **state)
{
    (void)state;
    long long v = 0;
    assert_true(util_parse_int("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(util_parse_int("42", 0, 100, &v));
    assert_int_equal(v, 42);
    assert_true(util_parse_int("-5", -10, 10, &v));
    assert_true(v == -5);
    /* Bounds are inclusive. */
    assert_true(util_parse_int("10", 0, 10, &v));
    assert_int_equal(v, 10);
    assert_true(util_parse_int("1", 1, 1, &v));
    v = 777;
    assert_false(util_parse_int("11", 0, 10, &v));
    assert_false(util_parse_int("-1", 0, 10, &v));
    assert_false(util_parse_int("0", 1, 10, &v));
    /* Whole string, decimal digits, one leading '-'. */
    assert_false(util_parse_int("", 0, 10, &v));
    assert_false(util_parse_int(NULL, 0, 10, &v));
    assert_false(util_parse_int("+5", 0, 10, &v));
    assert_false(util_parse_int(" 5", 0, 10, &v));
    assert_false(util_parse_int("5 ", 0, 10, &v));
    assert_false(util_parse_int("5a", 0, 10, &v));
    assert_false(util_parse_int("-", -10, 10, &v));
    assert_false(util_parse_int("--5", -10, 10, &v));
    assert_false(util_parse_int("5-", -10, 10, &v));
    assert_false(util_parse_int("0x10", 0, 100, &v));
    assert_false(util_parse_int("1e3", 0, 10000, &v));
    assert_false(util_parse_int("3.0", 0, 10, &v));
    /* A failed parse leaves *out alone. */
    assert_int_equal(v, 777);
    /* The extremes of long long, and one past them. */
    assert_true(util_parse_int("9223372036854775807", 0, LLONG_MAX, &v));
    assert_true(v == LLONG_MAX);
    assert_true(util_parse_int("-9223372036854775808", LLONG_MIN, 0, &v));
    assert_true(v == LLONG_MIN);
    assert_false(util_parse_int("9223372036854775808", 0, LLONG_MAX, &v));
    assert_false(util_parse_int("-9223372036854775809", LLONG_MIN, 0, &v));
    assert_false(util_parse_int("99999999999999999999999", LLONG_MIN, LLONG_MAX, &v));
    /* Leading zeros are still decimal. */
    assert_true(util_parse_int("010", 0, 100, &v));
    assert_int_equal(v, 10);
}

/* Which addresses a webhook may reach (util_addr_public), both families and embedded IPv4. */
static void test_util_addr_public(void **state)
{
    (void)state;
    static const char *const pub[] = {
        "8.8.8.8", "1.1.1.1", "203.0.112.255", "203.0.114.0", "172.15.255.255", "172.32.0.0",
        "100.63.255.255", "100.128.0.0", "192.169.0.1", "223.255.255.254", "198.17.255.255",
        "198.20.0.0", "2001:4860:4860::8888", "2400:cb00::1", "2a00:1450:4001::1",
        "::ffff:8.8.8.8", "64:ff9b::808:808",
    };
    static const char *const priv[] = {
        "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.0", "100.127.255.255",
        "127.0.0.1", "127.255.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255",
        "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.1", "198.19.255.255",
        "198.51.100.1", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255", "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.1.1.1",
        "64:ff9b::a00:1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
        "2001:db8::1", "100::1", "4000::1", "1000::1",
    };
    bool ip;
    for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
        if (!util_addr_text_public(pub[i], &ip))
            print_error("%s should be public\n", pub[i]);
        assert_true(util_addr_text_public(pub[i], &ip));
        assert_true(ip);
    }
    for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
        if (util_addr_text_public(priv[i], &ip))
            print_error("%s should not be public\n", priv[i]);
        assert_false(util_addr_text_public(priv[i], &ip));
        assert_true(ip);
    }
    for (const char *const *s = (const char *const[]){"localhost", "example.jp", "127.1", "", "1.2.3",
                                                       "::g", NULL};
         *s; s++) {
        assert_false(util_addr_text_public(*s, &ip));
        assert_false(ip);
    }
    unsigned char v4[4] = {8, 8, 4, 4};
    assert_true(util_addr_public(AF_INET, v4));
    assert_false(util_addr_public(AF_UNIX, v4));
}

/* jw_dump() writes exactly what json_dumps(JSON_COMPACT) writes. */
static void jw_same(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = 0;
    char *got = jw_dump(v, &n);
    assert_non_null(want);
    assert_non_null(got);
    if (strcmp(want, got))
        print_error("json_dumps: %s\njw_dump:    %s\n", want, got);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    free(want);
    free(got);
}

/* A random document (xorshift), strings drawn from bytes that need escapes and from UTF-8. */
static json_t *jw_random(uint64_t *r, int depth)
{
    static const char *const pieces[] = {"a", "Z", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
                                         "\x7f", " ", "日本", "電力", "é", "\xe2\x80\xa8",
                                         "\xf0\x9f\x94\x92", "}", "{", ":", ","};
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    unsigned k = (unsigned)(*r % (depth > 4 ? 6 : 9));
    switch (k) {
    case 0: {
        char s[64] = "";
        for (unsigned i = 0; i < *r % 8; i++)
            strcat(s, pieces[(*r >> (i * 3)) % (sizeof(pieces) / sizeof(pieces[0]))]);
        return json_string(s);
    }
    case 1: return json_integer((json_int_t)(*r % 2000001) - 1000000);
    case 2: return json_real((double)(*r % 100000) / 7.0);
    case 3: return json_true();
    case 4: return json_false();
    case 5: return json_null();
    case 6:
    case 7: {
        json_t *o = json_object();
        for (unsigned i = 0; i < *r % 5; i++) {
            char key[32];
            snprintf(key, sizeof(key), "k%u%s", i, pieces[(*r >> i) % 20]);
            json_object_set_new(o, key, jw_random(r, depth + 1));
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        for (unsigned i = 0; i < *r % 5; i++)
            json_array_append_new(a, jw_random(r, depth + 1));
        return a;
    }
    }
}

static void test_jw_dump(void **state)
{
    (void)state;
    /* every byte that may stand in a string, alone and in runs */
    for (int c = 1; c < 256; c++) {
        char s[4] = {(char)c, 'x', (char)c, 0};
        json_t *v = json_stringn(s, 3);
        if (v) /* bytes >= 0x80 alone are not UTF-8: jansson refuses them */
            jw_same(v);
        json_decref(v);
    }
    /* each byte that needs an escape at each position of a long string (the 8-byte scan) */
    static const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\0'};
    for (size_t k = 0; k < sizeof(specials); k++)
        for (size_t at = 0; at < 40; at++) {
            char s[41];
            for (size_t i = 0; i < 40; i++)
                s[i] = (char)('a' + i % 26);
            s[at] = specials[k];
            json_t *v = json_stringn(s, 40);
            jw_same(v);
            json_decref(v);
        }
    json_t *nul = json_stringn("a\0b", 3);
    jw_same(nul);
    json_decref(nul);
    json_t *doc = json_pack(
        "{s:s,s:s,s:i,s:I,s:I,s:f,s:f,s:f,s:b,s:b,s:n,s:{},s:[],s:[i,[],{},[[{}]]],s:{s:{s:[s]}}}",
        "title", "変電所の \"制御\" 系\\ネットワーク\n\t停止 \xe2\x80\xa8 \xf0\x9f\x94\x92", "", "",
        "n", 0, "min", (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX, "r1", 1.0, "r2", 0.1,
        "r3", -1e300, "t", 1, "f", 0, "null", "e", "a", "m", 1, "x", "y", "z", "deep");
    assert_non_null(doc);
    jw_same(doc);
    json_decref(doc);
    /* scalars on their own */
    json_t *sc[] = {json_integer(-7), json_real(2.5), json_true(), json_null(), json_string("s")};
    for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
        jw_same(sc[i]);
        json_decref(sc[i]);
    }
    /* nesting far below the limit, then past it */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 200; i++) {
        json_t *x = json_array();
        json_array_append_new(cur, x);
        cur = x;
    }
    jw_same(deep);
    for (int i = 0; i < JW_MAX_DEPTH; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "k", deep);
        deep = x;
    }
    assert_null(jw_dump(deep, NULL));
    json_decref(deep);
    assert_null(jw_dump(NULL, NULL));
    /* a thousand random documents */
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 1000; i++) {
        json_t *v = jw_random(&r, 0);
        jw_same(v);
        json_decref(v);
    }
}

static void test_util_misc(void **state)
{
    (void)state;
    char t[UTIL_TIME_LEN + 1];
    util_time_fmt(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00Z");
    util_time_fmt(1000000000, t);
    assert_string_equal(t, "2001-09-09T01:46:40Z");
    assert_int_equal(strlen(t), UTIL_TIME_LEN);

    char d[6];
    util_strlcpy(d, "abcdefgh", sizeof(d));
    assert_string_equal(d, "abcde");
    util_strlcpy(d, "ab", sizeof(d));
    assert_string_equal(d, "ab");
    d[0] = 'q';
    util_strlcpy(d, "zzz", 0); /* no room: untouched */
    assert_int_equal(d[0], 'q');

    assert_true(util_streq_ct("secret", "secret"));
    assert_false(util_streq_ct("secret", "secreT"));
    assert_false(util_streq_ct("secret", "secret2"));
    assert_true(util_streq_ct("", ""));

    int64_t m0 = util_mono_ms();
    assert_true(util_mono_ms() >= m0);
    assert_true(util_now_ms() > 1600000000000LL);

    char *s = xstrdup("dup");
    assert_string_equal(s, "dup");
    free(s);
}

/* ---- cfg ---- */

struct cfg_fixture {
    char *dir;
    char path[1100];
};

static int cfg_setup(void **state)
{
    struct cfg_fixture *f = calloc(1, sizeof(*f));
    f->dir = unit_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/isac.conf", f->dir);
    *state = f;
    return 0;
}

static int cfg_teardown(void **state)
{
    struct cfg_fixture *f = *state;
    unit_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void test_cfg_defaults(void **state)
{
    (void)state;
    struct cfg c;
    memset(&c, 0x5a, sizeof(c));
    cfg_defaults(&c);
    assert_string_equal(c.data_dir, "");
    assert_string_equal(c.listen, "127.0.0.1:8080");
#ifdef ISAC_SHARE_DIR
    assert_string_equal(c.share_dir, ISAC_SHARE_DIR);
#else
    assert_string_not_equal(c.share_dir, "");
#endif
    assert_string_equal(c.tls_cert, "");
    assert_string_equal(c.tls_key, "");
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.session_ttl, LIMIT_SESSION_TTL_S);
    assert_int_equal(c.token_days_default, LIMIT_TOKEN_DAYS_DEFAULT);
    assert_int_equal(c.login_fail_account, LIMIT_LOGIN_FAIL_ACCOUNT);
    assert_int_equal(c.login_fail_address, LIMIT_LOGIN_FAIL_ADDRESS);
    assert_int_equal(c.login_window, LIMIT_LOGIN_WINDOW_S);
    assert_true(c.pw_memlimit == (long long)crypto_pwhash_MEMLIMIT_INTERACTIVE);
    assert_true(c.pw_opslimit == (long long)crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal(c.shutdown_grace, 10);
    assert_false(c.log_debug);
}

static void test_cfg_load_good(void **state)
{
    struct cfg_fixture *f = *state;
    write_file(f->path, "# isac test configuration\n"
                        "\n"
                        "data = /var/lib/isac\n"
                        "  listen   =   0.0.0.0:9443   # all interfaces\n"
                        "share_dir=/usr/share/isac\n"
                        "tls_cert = /etc/isac/cert.pem\n"
                        "tls_key = /etc/isac/key.pem\n"
                        "threads = 8\n"
                        "session_ttl = 3600\n"
                        "token_days = 365\n"
                        "login_fail_account = 3\n"
                        "login_fail_address = 50\n"
                        "login_window = 60\n"
                        "argon2_memlimit = 8192\n"
                        "argon2_opslimit = 1\n"
                        "shutdown_grace = 0\n"
                        "log_level = debug\n"
                        "\t\n"
                        "# trailing comment without newline");
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    err_init(&e);
    assert_int_equal(cfg_load(&c, f->path, &e), 0);
    assert_int_equal(e.code, 0);
    assert_int_equal(e.nfields, 0);
    assert_string_equal(c.data_dir, "/var/lib/isac");
    assert_string_equal(c.listen, "0.0.0.0:9443");
    assert_string_equal(c.share_dir, "/usr/share/isac");
    assert_string_equal(c.tls_cert, "/etc/isac/cert.pem");
    assert_string_equal(c.tls_key, "/etc/isac/key.pem");
    assert_int_equal(c.threads, 8);
    assert_int_equal(c.session_ttl, 3600);
    assert_int_equal(c.token_days_default, 365);
    assert_int_equal(c.login_fail_account, 3);
    assert_int_equal(c.login_fail_address, 50);
    assert_int_equal(c.login_window, 60);
    assert_true(c.pw_memlimit == 8192);
    assert_true(c.pw_opslimit == 1);
    assert_int_equal(c.shutdown_grace, 0);
    assert_true(c.log_debug);

    /* An empty file changes nothing. */
    write_file(f->path, "");
    cfg_defaults(&c);
    assert_int_equal(cfg_load(&c, f->path, &e), 0);
    assert_string_equal(c.listen, "127.0.0.1:8080");
}

static void test_cfg_load_unknown_key(void **state)
{
    struct cfg_fixture *f = *state;
    write_file(f->path, "# comment\n"
                        "listen = 127.0.0.1:9000\n"
                        "colour = blue\n");
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    err_init(&e);
    assert_int_equal(cfg_load(&c, f->path, &e), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(e.nfields, 1);
    assert_string_equal(e.fields[0].field, "line 3: colour");
    assert_string_equal(e.fields[0].reason, "unknown key");
    char want[1200];
    snprintf(want, sizeof(want), "invalid config '%s'", f->path);
    assert_string_equal(e.detail, want);
}

static void test_cfg_load_bad_values(void **state)
{
    struct cfg_fixture *f = *state;
    char longval[400];
    memset(longval, 'h', sizeof(longval) - 1);
    longval[sizeof(longval) - 1] = '\0';
    char text[1000];
    snprintf(text, sizeof(text),
             "threads = 4\n"            /* 1 ok */
             "threads = many\n"         /* 2 */
             "\n"                       /* 3 */
             "session_ttl = 59\n"       /* 4 below minimum */
             "token_days = 366\n"       /* 5 above maximum */
             "no equals sign here\n"    /* 6 */
             "log_level = verbose\n"    /* 7 */
             "argon2_memlimit = 1024\n" /* 8 below libsodium's minimum */
             "argon2_opslimit = 0\n"    /* 9 */
             "listen = %s\n"            /* 10 too long for listen[256] */
             "threads = -1\n"           /* 11 */
             "login_window = 1.5\n",    /* 12 */
             longval);
    write_file(f->path, text);
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    err_init(&e);
    assert_int_equal(cfg_load(&c, f->path, &e), ERR_INVALID);
    static const char *const want[] = {
        "line 2: threads",          "line 4: session_ttl",     "line 5: token_days",
        "line 6",                   "line 7: log_level",       "line 8: argon2_memlimit",
        "line 9: argon2_opslimit",  "line 10: listen",         "line 11: threads",
        "line 12: login_window",
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    for (size_t i = 0; i < e.nfields && i < n; i++)
        if (strcmp(e.fields[i].field, want[i]))
            print_error("field %zu: want '%s' got '%s'\n", i, want[i], e.fields[i].field);
    assert_int_equal(e.nfields, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(e.fields[i].field, want[i]);
    assert_string_equal(e.fields[0].reason, "must be an integer from 0 to 256");
    assert_string_equal(e.fields[3].reason, "expected key = value");
    assert_string_equal(e.fields[4].reason, "must be debug or info");
    assert_string_equal(e.fields[7].reason, "too long");
    /* Bad values leave the previous value in place. */
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.session_ttl, LIMIT_SESSION_TTL_S);
    assert_int_equal(c.token_days_default, LIMIT_TOKEN_DAYS_DEFAULT);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_false(c.log_debug);
}

static void test_cfg_load_missing_file(void **state)
{
    struct cfg_fixture *f = *state;
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    err_init(&e);
    char path[1200];
    snprintf(path, sizeof(path), "%s/nope.conf", f->dir);
    assert_int_equal(cfg_load(&c, path, &e), ERR_IO);
    assert_non_null(strstr(e.detail, "nope.conf"));
}

/*
 * A line longer than cfg_load's line buffer must still be one line: its
 * tail must not be parsed as a line of its own, so a long comment stays a
 * comment. Here the comment's tail, past byte 2047, reads " threads = 7".
 */
static void test_cfg_load_long_lines(void **state)
{
    struct cfg_fixture *f = *state;
    size_t pad = 2045;
    char *text = malloc(pad + 200);
    assert_non_null(text);
    char *p = text;
    p += sprintf(p, "# ");
    memset(p, '-', pad);
    p += pad;
    p += sprintf(p, " threads = 7\nshutdown_grace = 5\n");
    write_file(f->path, text);
    free(text);
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    err_init(&e);
    int rc = cfg_load(&c, f->path, &e);
    if (rc)
        print_error("first field: '%s': %s\n", e.nfields ? e.fields[0].field : "",
                    e.nfields ? e.fields[0].reason : "");
    assert_int_equal(c.threads, 0); /* the comment did not set it */
    assert_int_equal(rc, 0);
    assert_int_equal(c.shutdown_grace, 5);
}

static void test_cfg_set(void **state)
{
    (void)state;
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    err_init(&e);
    assert_int_equal(cfg_set(&c, "token_days", "1", &e), 0);
    assert_int_equal(c.token_days_default, 1);
    assert_int_equal(cfg_set(&c, "token_days", "365", &e), 0);
    assert_int_equal(cfg_set(&c, "token_days", "0", &e), ERR_INVALID);
    assert_int_equal(cfg_set(&c, "token_days", "366", &e), ERR_INVALID);
    assert_int_equal(c.token_days_default, 365);
    assert_int_equal(e.nfields, 2);
    assert_string_equal(e.fields[0].field, "token_days");
    assert_string_equal(e.fields[0].reason, "must be an integer from 1 to 365");
    err_init(&e);
    assert_int_equal(cfg_set(&c, "log_level", "info", &e), 0);
    assert_false(c.log_debug);
    assert_int_equal(cfg_set(&c, "data", "", &e), 0); /* empty is a value */
    assert_string_equal(c.data_dir, "");
    assert_int_equal(cfg_set(&c, "Threads", "1", &e), ERR_INVALID); /* keys are exact */
    assert_string_equal(e.fields[0].reason, "unknown key");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_init),
        cmocka_unit_test(test_err_set_keeps_first),
        cmocka_unit_test(test_err_field_list),
        cmocka_unit_test(test_err_field_truncation),
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_buf_append_grows),
        cmocka_unit_test(test_buf_ceiling),
        cmocka_unit_test(test_buf_appendf),
        cmocka_unit_test(test_buf_take),
        cmocka_unit_test(test_uuid7_format),
        cmocka_unit_test(test_uuid7_order),
        cmocka_unit_test(test_util_is_uuid),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_chars),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_util_misc),
        cmocka_unit_test(test_util_addr_public),
        cmocka_unit_test(test_jw_dump),
        cmocka_unit_test(test_cfg_defaults),
        cmocka_unit_test_setup_teardown(test_cfg_load_good, cfg_setup, cfg_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_load_unknown_key, cfg_setup, cfg_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_load_bad_values, cfg_setup, cfg_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_load_missing_file, cfg_setup, cfg_teardown),
        cmocka_unit_test_setup_teardown(test_cfg_load_long_lines, cfg_setup, cfg_teardown),
        cmocka_unit_test(test_cfg_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
