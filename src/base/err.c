/* err.c - see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Only what says "no error": fields[] beyond nfields is never read, and a
 * struct err is 8 KB that requests initialise several times over.
 */
void err_init(struct err *e)
{
    e->code = 0;
    e->detail[0] = '\0';
    e->nfields = 0;
    e->fields_truncated = false;
    e->retry_after = 0;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (e == NULL || e->code != 0)
        return e ? e->code : code;
    e->code = code;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
        va_end(ap);
    }
    return code;
}

int err_field(struct err *e, const char *field, const char *fmt, ...)
{
    if (e->code == 0)
        e->code = ERR_INVALID;
    if (e->code != ERR_INVALID)
        return e->code;
    if (e->nfields >= LIMIT_ERR_FIELDS) {
        e->fields_truncated = true;
        return e->code;
    }
    struct err_field *f = &e->fields[e->nfields++];
    snprintf(f->field, sizeof(f->field), "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
    va_end(ap);
    return e->code;
}

#define X(name, code, status, slug, title) case name: return status;
int err_status(int code)
{
    switch (code) {
        ERR_TABLE(X)
    }
    return 500;
}
#undef X

#define X(name, code, status, slug, title) case name: return slug;
const char *err_slug(int code)
{
    switch (code) {
        ERR_TABLE(X)
    }
    return "internal";
}
#undef X

#define X(name, code, status, slug, title) case name: return title;
const char *err_title(int code)
{
    switch (code) {
        ERR_TABLE(X)
    }
    return "internal error";
}
#undef X
