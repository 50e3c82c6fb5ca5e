/*
 * cli.h - the isac command line: main() dispatches to one function per
 * subcommand. Commands that change data go through the same model checks
 * and store as the API, so the CLI cannot create what the API would refuse.
 */
#ifndef ISAC_CLI_H
#define ISAC_CLI_H

#include <stdbool.h>

#include "base/err.h"
#include <jansson.h>

#include "base/util.h"
#include "store/store.h"

/* Parsed "--opt value" pairs of one subcommand. */
#define CLI_MAX_OPTS 32
struct cli_opts {
    int n;
    const char *name[CLI_MAX_OPTS];
    const char *value[CLI_MAX_OPTS];   /* NULL for flags */
    char name_buf[CLI_MAX_OPTS][64];   /* storage behind name[] */
    bool help;
};

/*
 * Parse argv (after the subcommand words) against allowed: a
 * space-separated list, "name=" for options with values, "name" for flags.
 * Prints the problem and returns -1 on an unknown or incomplete option.
 */
int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o);
/* The last value of option name, or NULL. */
const char *cli_get(const struct cli_opts *o, const char *name);
bool cli_flag(const struct cli_opts *o, const char *name);

/* Print e as "isac: error: detail" plus one line per field. Returns 1. */
int cli_fail(const struct err *e);
/* Open the store of --data (required). Prints and returns 1 on failure. */
int cli_open_store(const struct cli_opts *o, bool create, struct store **st);
/* Read the first line of stdin (password); returns 0 or prints and returns 1. */
int cli_read_secret(char *buf, size_t n);

int cli_serve(int argc, char **argv);
int cli_init(int argc, char **argv);
int cli_org(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_audit(int argc, char **argv);
/* Record an administrative change made through the CLI (actor "cli:<unix user>"); takes detail. */
int cli_audit_record(struct store *st, const char *action, const char *kind, const char *id,
                     json_t *detail);

/* Validate API-shaped JSON and create the organisation / user; id out (37 bytes). */
int cli_org_create(struct store *st, json_t *in, char *id, struct err *e);
int cli_user_create(struct store *st, json_t *in, char *id, struct err *e);

/* Create the demo organisations and users; writes DIR/demo-logins.txt. */
int cli_demo(struct store *st, const char *dir, struct err *e);

#endif
