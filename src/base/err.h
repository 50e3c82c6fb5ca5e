/*
 * err.h - error codes and the error detail that travels up to the handler.
 *
 * Functions return 0 or a negative ERR_* code; the detail (HTTP status,
 * problem type, the fields at fault and why) goes in a caller-supplied
 * struct err. The table below is the single source of code, status, problem
 * slug and title, so status lines, logs and docs agree. Append; never
 * renumber.
 *
 * A struct err is left untouched on success, so calls can be chained and
 * the first failure wins. Validation collects several fields before
 * failing: err_field() adds one and sets ERR_INVALID.
 */
#ifndef ISAC_ERR_H
#define ISAC_ERR_H

#include <stdbool.h>
#include <stddef.h>

#include "limits.h"

#define ERR_TABLE(X)                                                                 \
    X(ERR_INVALID, -1, 422, "validation", "invalid request")                          \
    X(ERR_TOOBIG, -2, 413, "too-large", "request too large")                          \
    X(ERR_STORE, -3, 503, "unavailable", "storage unavailable")                       \
    X(ERR_MALFORMED, -4, 400, "malformed-json", "malformed JSON")                     \
    X(ERR_BADREQ, -5, 400, "bad-request", "bad request")                              \
    X(ERR_UNAUTH, -6, 401, "unauthenticated", "authentication required")             \
    X(ERR_CREDENTIALS, -7, 401, "invalid-credentials", "invalid login or password")  \
    X(ERR_FORBIDDEN, -8, 403, "forbidden", "forbidden")                               \
    X(ERR_CSRF, -9, 403, "csrf", "missing or wrong CSRF token")                       \
    X(ERR_NOTFOUND, -10, 404, "not-found", "not found")                               \
    X(ERR_METHOD, -11, 405, "method-not-allowed", "method not allowed")               \
    X(ERR_CONFLICT, -12, 409, "conflict", "conflict")                                 \
    X(ERR_MEDIATYPE, -13, 415, "unsupported-media-type", "unsupported media type")    \
    X(ERR_THROTTLED, -14, 429, "throttled", "too many attempts")                      \
    X(ERR_INTERNAL, -15, 500, "internal", "internal error")                           \
    X(ERR_NOMEM, -16, 503, "unavailable", "out of memory")                            \
    X(ERR_IO, -17, 500, "internal", "input/output error")                             \
    X(ERR_VERSION, -18, 500, "internal", "data dir written by a newer version")       \
    X(ERR_AGAIN, -19, 503, "unavailable", "try again")

enum err_code {
    ERR_OK = 0,
#define X(name, code, status, slug, title) name = code,
    ERR_TABLE(X)
#undef X
};

struct err_field {
    char field[96];   /* dotted path, e.g. "name.ja", "contacts[0].value" */
    char reason[160]; /* lower-case, no full stop */
};

struct err {
    int code;                /* 0 until something fails */
    char detail[256];        /* human-readable, for the problem's detail */
    size_t nfields;          /* entries used in fields[] */
    bool fields_truncated;   /* more than LIMIT_ERR_FIELDS were reported */
    struct err_field fields[LIMIT_ERR_FIELDS];
    int retry_after;         /* seconds, for ERR_THROTTLED; 0 otherwise */
};

/* Reset to "no error". */
void err_init(struct err *e);

/*
 * Record a failure. Keeps the first code and detail set; returns code so
 * "return err_set(e, ERR_X, ...)" reads naturally. fmt may be NULL.
 */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a field-level validation error; sets ERR_INVALID if no code yet. */
int err_field(struct err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Table lookups. */
int err_status(int code);
const char *err_slug(int code);
const char *err_title(int code);

#endif
