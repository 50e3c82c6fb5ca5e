/* cli_common.c - option parsing and helpers shared by the subcommands; see cli.h. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "cli.h"

static bool allowed_opt(const char *allowed, const char *name, size_t n, bool *takes_value)
{
    const char *p = allowed;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        size_t len = (size_t)(end - p);
        bool val = len && p[len - 1] == '=';
        size_t nlen = val ? len - 1 : len;
        if (nlen == n && !strncmp(p, name, n)) {
            *takes_value = val;
            return true;
        }
        p = end;
    }
    return false;
}

int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "isac: error: unexpected argument '%s'\n", a);
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        bool takes;
        if (!allowed_opt(allowed, name, n, &takes)) {
            fprintf(stderr, "isac: error: unknown option '--%.*s'\n", (int)n, name);
            return -1;
        }
        const char *value = NULL;
        if (takes) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                fprintf(stderr, "isac: error: option '--%.*s' needs a value\n", (int)n, name);
                return -1;
            }
        } else if (eq) {
            fprintf(stderr, "isac: error: option '--%.*s' takes no value\n", (int)n, name);
            return -1;
        }
        if (o->n == CLI_MAX_OPTS) {
            fputs("isac: error: too many options\n", stderr);
            return -1;
        }
        snprintf(o->name_buf[o->n], sizeof(o->name_buf[0]), "%.*s", (int)n, name);
        o->name[o->n] = o->name_buf[o->n];
        o->value[o->n] = value;
        o->n++;
    }
    return 0;
}

const char *cli_get(const struct cli_opts *o, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->name[i], name))
            v = o->value[i];
    return v;
}

bool cli_flag(const struct cli_opts *o, const char *name)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->name[i], name))
            return true;
    return false;
}

int cli_fail(const struct err *e)
{
    fprintf(stderr, "isac: error: %s\n", e->detail[0] ? e->detail : err_title(e->code));
    for (size_t i = 0; i < e->nfields; i++)
        fprintf(stderr, "  %s: %s\n", e->fields[i].field[0] ? e->fields[i].field : "(input)",
                e->fields[i].reason);
    return 1;
}

int cli_open_store(const struct cli_opts *o, bool create, struct store **st)
{
    const char *dir = cli_get(o, "data");
    if (dir == NULL) {
        fputs("isac: error: --data DIR is required\n", stderr);
        return 1;
    }
    struct err e;
    err_init(&e);
    if (store_open(st, dir, create, &e))
        return cli_fail(&e);
    return 0;
}

int cli_read_secret(char *buf, size_t n)
{
    if (fgets(buf, (int)n, stdin) == NULL) {
        fputs("isac: error: expected the password on standard input\n", stderr);
        return 1;
    }
    size_t len = strlen(buf);
    if (len == n - 1 && buf[len - 1] != '\n') {
        fputs("isac: error: password too long\n", stderr);
        return 1;
    }
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (!util_utf8_valid(buf, len)) {
        fputs("isac: error: the password is not valid UTF-8\n", stderr);
        return 1;
    }
    return 0;
}
