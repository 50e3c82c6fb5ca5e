/*
 * jw.h - compact JSON text of a jansson value, fast.
 *
 * Byte for byte what json_dumps(v, JSON_COMPACT) writes (members in
 * insertion order, the same escapes, the same numbers: a unit test holds
 * the two together), at a fraction of the cost: jansson decodes every
 * code point of every string through a callback, which made serialising
 * a report's content the dearest single step of a submission. jansson
 * strings are valid UTF-8 by construction, so runs of bytes that need no
 * escape are copied whole. Reals are rare in isac's documents and are
 * left to jansson.
 */
#ifndef ISAC_JW_H
#define ISAC_JW_H

#include <stddef.h>

#include <jansson.h>

/*
 * The text of v (an object or array; scalars too), NUL-terminated, for
 * free(); *len (if not NULL) its length. NULL when v is NULL, nested more
 * than JW_MAX_DEPTH deep (jansson's own limit), or memory runs out.
 */
char *jw_dump(const json_t *v, size_t *len);

#define JW_MAX_DEPTH 2048

#endif
