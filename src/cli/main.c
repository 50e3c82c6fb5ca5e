/*
 * main.c - entry point: global help, version, and subcommand dispatch.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#ifdef ISAC_MIMALLOC
#include <mimalloc.h>
#endif

#include "base/log.h"
#include "cli.h"

#ifndef ISAC_VERSION
#define ISAC_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: isac <command> [options]\n"
    "\n"
    "isac is a hub for sharing cyber-incident information among the operators of\n"
    "critical infrastructure, their sector hubs, ministries and the national\n"
    "coordinating center.\n"
    "\n"
    "commands:\n"
    "  serve     run the HTTP server (API, web UI)\n"
    "  init      create a data directory (optionally with demo data)\n"
    "  org       add, list and disable organisations\n"
    "  user      add, list users; set passwords; disable and enable users\n"
    "  token     create, list and revoke API tokens\n"
    "  report    submit, revise, list and show reports (through a running server's API)\n"
    "  audit     verify and list the tamper-evident audit log\n"
    "  version   print the version\n"
    "\n"
    "'isac <command> --help' explains each command; 'man isac' has the details.\n";

/* Which malloc serves the daemon (meson option allocator). */
static const char *allocator(void)
{
#ifdef ISAC_MIMALLOC
    static char name[32];
    int v = mi_version();
    snprintf(name, sizeof(name), "mimalloc %d.%d.%d", v / 100, v / 10 % 10, v % 10);
    return name;
#else
    return "system malloc";
#endif
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fputs("isac: error: cannot initialise libsodium\n", stderr);
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("isac %s (store schema %d, %s)\n", ISAC_VERSION, STORE_SCHEMA_VERSION,
               allocator());
        return 0;
    }
    if (!strcmp(cmd, "serve"))
        return cli_serve(argc - 2, argv + 2);
    /* Administrative commands print results only; log lines would get in the way. */
    log_set_quiet(1);
    if (!strcmp(cmd, "init"))
        return cli_init(argc - 2, argv + 2);
    if (!strcmp(cmd, "org"))
        return cli_org(argc - 2, argv + 2);
    if (!strcmp(cmd, "user"))
        return cli_user(argc - 2, argv + 2);
    if (!strcmp(cmd, "token"))
        return cli_token(argc - 2, argv + 2);
    if (!strcmp(cmd, "report"))
        return cli_report(argc - 2, argv + 2);
    if (!strcmp(cmd, "audit"))
        return cli_audit(argc - 2, argv + 2);
    fprintf(stderr, "isac: error: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
