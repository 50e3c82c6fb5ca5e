/*
 * unit.h - helpers shared by the cmocka unit tests (tests/unit/<module>/).
 *
 * Every helper is static inline so a test that does not use one does not
 * warn. Temp dirs come from unit_tmpdir() and go with unit_rmtree(); JSON
 * fixtures are written as text and parsed with unit_json(), which fails the
 * test on a typo instead of passing NULL on.
 */
#ifndef ISAC_UNIT_H
#define ISAC_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/err.h"

/*
 * Under UBSan, stop at the first report: by default UBSan prints and goes
 * on, and the test would pass with undefined behaviour in it. The runtime
 * calls this hook at start-up; without sanitizers nothing calls it. It is
 * defined once per test executable: by the test's own file, while files
 * linked into it (store/fixture.c) define UNIT_LINKED_FILE first.
 */
#ifndef UNIT_LINKED_FILE
const char *__ubsan_default_options(void);
__attribute__((used)) const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}
#endif

/* A fresh directory "$TMPDIR/isac-unit-XXXXXX"; free() the result. */
static inline char *unit_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[1024];
    snprintf(tmpl, sizeof(tmpl), "%s/isac-unit-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *out = strdup(d);
    assert_non_null(out);
    return out;
}

static inline int unit_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf path (does not follow symlinks). */
static inline void unit_rmtree(const char *path)
{
    if (path != NULL)
        assert_int_equal(nftw(path, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Parse JSON text; a fixture typo fails the test here. New reference. */
#define unit_json(text) unit_json_at((text), __FILE__, __LINE__)
static inline json_t *unit_json_at(const char *text, const char *file, int line)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL) {
        print_error("%s:%d: bad JSON fixture: %s (col %d)\n", file, line, je.text, je.column);
        fail();
    }
    return j;
}

/*
 * unit_json() of text written with ' for ", so tables of fixtures stay
 * readable: unit_jsonq("{'title':'x'}"). Fixtures needing a ' use unit_json().
 */
#define unit_jsonq(text) unit_jsonq_at((text), __FILE__, __LINE__)
static inline json_t *unit_jsonq_at(const char *text, const char *file, int line)
{
    char *t = strdup(text);
    assert_non_null(t);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_t *j = unit_json_at(t, file, line);
    free(t);
    return j;
}

/* assert_json_eq() with ' for " in the expected text. */
#define assert_jsonq_eq(val, text) unit_jsonq_eq_at((val), (text), __FILE__, __LINE__)
static inline void unit_json_eq_at(const json_t *val, const char *text, const char *file, int line);
static inline void unit_jsonq_eq_at(const json_t *val, const char *text, const char *file, int line)
{
    char *t = strdup(text);
    assert_non_null(t);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    unit_json_eq_at(val, t, file, line);
    free(t);
}

/* Compare a JSON value with JSON text, printing both on mismatch. */
#define assert_json_eq(val, text) unit_json_eq_at((val), (text), __FILE__, __LINE__)
static inline void unit_json_eq_at(const json_t *val, const char *text, const char *file, int line)
{
    json_t *want = unit_json_at(text, file, line);
    if (!json_equal((json_t *)val, want)) {
        char *got = val ? json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        char *exp = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        print_error("%s:%d: JSON differs\n  want %s\n  got  %s\n", file, line, exp,
                    got ? got : "(null)");
        free(got);
        free(exp);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

/* assert_string_equal that reports NULL instead of crashing on it. */
#define assert_str(got, want)                                                                     \
    do {                                                                                          \
        const char *unit_g_ = (got);                                                              \
        assert_non_null(unit_g_);                                                                 \
        assert_string_equal(unit_g_, (want));                                                     \
    } while (0)

/*
 * Assert a call returning an ERR_ code succeeded, printing e's detail if
 * not (a struct err e in scope).
 */
#define OK(call)                                                                                  \
    do {                                                                                          \
        err_init(&e);                                                                             \
        int ok_rc_ = (call);                                                                      \
        if (ok_rc_ != 0)                                                                          \
            print_error("%s: rc %d: %s\n", #call, ok_rc_, e.detail);                             \
        assert_int_equal(ok_rc_, 0);                                                              \
    } while (0)

/* Assert such a call failed with want_, in its return and in e. */
#define FAILS(want_, call)                                                                         \
    do {                                                                                          \
        err_init(&e);                                                                             \
        int fails_rc_ = (call);                                                                   \
        if (fails_rc_ != (want_))                                                                  \
            print_error("%s: want %d got %d (%s)\n", #call, (want_), fails_rc_, e.detail);        \
        assert_int_equal(fails_rc_, (want_));                                                      \
        assert_int_equal(e.code, (want_));                                                         \
    } while (0)

/* The string member k of JSON object o, or NULL. */
static inline const char *unit_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The integer member k of JSON object o, or 0. */
static inline json_int_t unit_jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* qsort() comparator of an array of strings. */
static inline int unit_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Is s an RFC 3339 UTC time to the second, as the store renders them ("2026-01-01T00:00:00Z")? */
static inline bool unit_is_rfc3339(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (s == NULL || strlen(s) != sizeof(pat) - 1)
        return false;
    for (int i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    return true;
}

/* n copies of the text unit, e.g. a UTF-8 sequence for a body at a length limit; free() it. */
static inline char *unit_repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* The fields of e, comma-separated, for one readable comparison with the expected list. */
static inline void unit_fields_str(const struct err *e, char *out, size_t n)
{
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < e->nfields; i++) {
        int k = snprintf(out + used, n - used, "%s%s", i ? "," : "", e->fields[i].field);
        if (k < 0 || (size_t)k >= n - used)
            break;
        used += (size_t)k;
    }
}

/*
 * Tables of cases for a check of JSON input (model_*_check()): each case
 * that must fail names the fields of its errors, comma-separated, in
 * order; each that must pass gives the expected output. Inputs and outputs
 * are written with ' for " (unit_jsonq()).
 */
struct unit_bad_case {
    const char *in;
    const char *fields;
};
struct unit_good_case {
    const char *in;
    const char *out;
};
/* The check under test: in → *out (new reference), or an error with fields in e; ud: the test's */
typedef int unit_check_fn(const json_t *in, json_t **out, struct err *e, const void *ud);

/* Each case must fail (ERR_INVALID) with exactly its fields, each with a reason, and no output. */
static inline void unit_run_bad(unit_check_fn *check, const void *ud,
                                const struct unit_bad_case *cases, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *in = unit_jsonq(cases[i].in), *out = NULL;
        struct err e;
        err_init(&e);
        int rc = check(in, &out, &e, ud);
        char got[2048];
        unit_fields_str(&e, got, sizeof(got));
        if (rc != ERR_INVALID || e.code != ERR_INVALID || out != NULL ||
            strcmp(got, cases[i].fields)) {
            print_error("case %zu %s\n  want rc %d fields '%s'\n  got  rc %d fields '%s'%s\n", i,
                        cases[i].in, ERR_INVALID, cases[i].fields, rc, got,
                        out ? " and an output" : "");
            bad++;
        }
        for (size_t j = 0; j < e.nfields; j++)
            if (e.fields[j].reason[0] == '\0') {
                print_error("case %zu: field '%s' has no reason\n", i, e.fields[j].field);
                bad++;
            }
        json_decref(out);
        json_decref(in);
    }
    assert_int_equal(bad, 0);
}

/* Each case must pass with exactly its output. */
static inline void unit_run_good(unit_check_fn *check, const void *ud,
                                 const struct unit_good_case *cases, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *in = unit_jsonq(cases[i].in), *want = unit_jsonq(cases[i].out), *out = NULL;
        struct err e;
        err_init(&e);
        int rc = check(in, &out, &e, ud);
        if (rc != 0 || e.code != 0 || !json_equal(out, want)) {
            char got[2048];
            unit_fields_str(&e, got, sizeof(got));
            char *dump = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            print_error("case %zu %s\n  rc %d fields '%s' (%s)\n  got %s\n", i, cases[i].in, rc,
                        got, e.nfields ? e.fields[0].reason : e.detail, dump ? dump : "(null)");
            free(dump);
            bad++;
        }
        json_decref(out);
        json_decref(want);
        json_decref(in);
    }
    assert_int_equal(bad, 0);
}

#endif
