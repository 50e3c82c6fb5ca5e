/*
 * buf.h - a growable byte buffer with a ceiling.
 *
 * The ceiling is set at init and never exceeded: buf_append() fails with
 * ERR_TOOBIG instead, so no client can grow memory without bound. The
 * contents are always NUL-terminated (the NUL is not counted in len).
 */
#ifndef ISAC_BUF_H
#define ISAC_BUF_H

#include <stddef.h>

struct buf {
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* ceiling on len */
};

void buf_init(struct buf *b, size_t max);
/* Free the memory and return to the empty state (the ceiling stays). */
void buf_release(struct buf *b);
/* Append n bytes. Returns 0, ERR_TOOBIG past the ceiling, ERR_NOMEM. */
__attribute__((warn_unused_result)) int buf_append(struct buf *b, const void *p, size_t n);
__attribute__((warn_unused_result)) int buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the memory to the caller (free() it); the buffer is left empty. */
char *buf_take(struct buf *b, size_t *len);

#endif
