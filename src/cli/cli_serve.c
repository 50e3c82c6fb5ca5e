/*
 * cli_serve.c - `isac serve`: configuration, start, and graceful stop.
 *
 * Signals: SIGTERM and SIGINT are blocked in every thread and taken by
 * sigwait() in the main thread, which then stops accepting, lets requests
 * in flight finish (shutdown_grace seconds at most) and closes the store.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "base/cfg.h"
#include "base/log.h"
#include "cli.h"
#include "deliver/deliver.h"
#include "http/http.h"
#include "notify/notify.h"

static const char help[] =
    "usage: isac serve [--data DIR] [--listen ADDR:PORT] [--config FILE] [--share DIR]\n"
    "\n"
    "Serve the API under /api/v1, the web UI and /healthz.\n"
    "\n"
    "  --data DIR          the data directory made by 'isac init' (config key: data)\n"
    "  --listen ADDR:PORT  address to listen on, default 127.0.0.1:8080 (listen)\n"
    "  --config FILE       a config file of 'key = value' lines; flags override it\n"
    "  --share DIR         where web/ and api/ are installed (share_dir)\n"
    "\n"
    "TLS is on when the config sets tls_cert and tls_key. SIGTERM or SIGINT stop\n"
    "the server gracefully. Every key is documented in the README.\n";

int cli_serve(int argc, char **argv)
{
    struct cli_opts o;
    if (cli_parse(argc, argv, "data= listen= config= share=", &o))
        return 2;
    if (o.help) {
        fputs(help, stdout);
        return 0;
    }
    struct cfg cfg;
    struct err e;
    err_init(&e);
    cfg_defaults(&cfg);
    const char *cf = cli_get(&o, "config");
    if (cf && cfg_load(&cfg, cf, &e))
        return cli_fail(&e);
    if (cli_get(&o, "data"))
        cfg_set(&cfg, "data", cli_get(&o, "data"), &e);
    if (cli_get(&o, "listen"))
        cfg_set(&cfg, "listen", cli_get(&o, "listen"), &e);
    if (cli_get(&o, "share"))
        cfg_set(&cfg, "share_dir", cli_get(&o, "share"), &e);
    if (e.code)
        return cli_fail(&e);
    if (cfg.data_dir[0] == '\0') {
        fputs("isac: error: no data directory: give --data DIR or 'data' in the config\n",
              stderr);
        return 2;
    }
    log_set_level(cfg.log_debug ? LOG_DEBUG : LOG_INFO);

    /* Block before any thread starts, so only sigwait() below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct store *st = NULL;
    struct api api;
    struct http_server *srv = NULL;
    if (store_open(&st, cfg.data_dir, false, &e))
        return cli_fail(&e);
    if (api_init(&api, st, &cfg, &e)) {
        store_close(st);
        return cli_fail(&e);
    }
    struct notify *nt = NULL;
    if (notify_new(st, &cfg, api_alert_recipient_view, &nt, &e)) {
        api_release(&api);
        store_close(st);
        return cli_fail(&e);
    }
    api.notify = nt;
    struct deliver *dl = NULL;
    if (deliver_new(st, &cfg, api_alert_recipient_view, &dl, &e)) {
        notify_stop(nt);
        notify_free(nt);
        api_release(&api);
        store_close(st);
        return cli_fail(&e);
    }
    api.deliver = dl;
    if (http_start(&srv, &cfg, api_handle, &api, &e)) {
        deliver_free(dl);
        notify_free(nt);
        api_release(&api);
        store_close(st);
        return cli_fail(&e);
    }
    log_info("isac serving data dir '%s' (store %s, schema %d)", cfg.data_dir,
             store_backend(st), store_schema_version(st));

    int sig = 0;
    sigwait(&set, &sig);
    log_info("signal %d: stopping", sig);
    notify_stop(nt); /* streams never end by themselves */
    http_stop(srv, cfg.shutdown_grace);
    deliver_free(dl); /* after the requests that kick it, before the store closes */
    notify_free(nt);
    api_release(&api);
    store_close(st);
    log_info("stopped");
    return 0;
}
