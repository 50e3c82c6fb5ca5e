/*
 * log.h - structured logging: one JSON object per line on stderr.
 *
 * Operators feed stderr to journald or a collector; one JSON object per line
 * needs no parser of ours. log_access() writes the per-request line.
 */
#ifndef ISAC_LOG_H
#define ISAC_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* Silence everything (CLI commands that print only their result). */
void log_set_quiet(int quiet);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

struct log_access {
    const char *method;
    const char *path;
    const char *remote;
    const char *user;     /* login, or NULL when unauthenticated */
    int status;
    uint64_t bytes_in;
    uint64_t bytes_out;
    double ms;
    const char *problem;  /* problem slug on errors, else NULL */
};
void log_access(const struct log_access *a);

#endif
