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
 * calls this hook at start-up; without sanitizers nothing calls it. Every
 * test executable includes this header exactly once.
 */
const char *__ubsan_default_options(void);
__attribute__((used)) const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

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

/* The string member k of JSON object o, or NULL. */
static inline const char *unit_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
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

#endif
