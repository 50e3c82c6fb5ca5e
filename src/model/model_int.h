/*
 * model_int.h - field-checking helpers shared by the files of model/.
 */
#ifndef ISAC_MODEL_INT_H
#define ISAC_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"
#include "member.h"

/* "a string", "an object", ... for messages. */
const char *model__type_name(const json_t *v);
/* Report every key of in not in allowed (NULL-terminated) as "unknown field". */
void model__check_unknown(const json_t *in, const char *prefix, const char *const *allowed,
                          struct err *e);
/*
 * A string of at most max code points without control characters (tab and
 * newline allowed when multiline). NULL when absent or invalid (reported).
 */
const char *model__text(const json_t *v, const char *field, size_t max, bool required,
                        bool multiline, struct err *e);
bool model__blank(const char *s);
bool model__email_valid(const char *s);
bool model__in_list(const char *const *list, size_t n, const char *s);
/*
 * An array of known sector codes at field "sectors" (errors at
 * "sectors[i]"); a code given twice is an error or silently dropped.
 * Returns the new array, or NULL when v is not a usable array.
 */
json_t *model__sector_codes(const json_t *v, const struct model_vocab *sectors, bool dup_is_error,
                            struct err *e);

#define MODEL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
