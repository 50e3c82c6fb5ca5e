/*
 * cfg.h - daemon configuration: defaults, then the config file, then flags.
 *
 * The file format is one "key = value" per line; '#' starts a comment;
 * blank lines are ignored; unknown keys are an error (a typo must not
 * silently leave a default in place). Every key is documented in the
 * README's "Configuration" section.
 */
#ifndef ISAC_CFG_H
#define ISAC_CFG_H

#include <stdbool.h>

#include "err.h"

struct cfg {
    char data_dir[1024];     /* data: the data directory (store, logs) */
    char listen[256];        /* listen: ADDR:PORT, default 127.0.0.1:8080 */
    char share_dir[1024];    /* share_dir: where web/ and api/ live */
    char tls_cert[1024];     /* tls_cert: PEM certificate chain; TLS when set with tls_key */
    char tls_key[1024];      /* tls_key: PEM private key */
    int threads;             /* threads: HTTP worker threads, 0 = two per core */
    int session_ttl;         /* session_ttl: seconds a login session lasts */
    int token_days_default;  /* token_days: default API token lifetime in days */
    int login_fail_account;  /* login_fail_account: failures per account per window */
    int login_fail_address;  /* login_fail_address: failures per address per window */
    int login_window;        /* login_window: throttling window in seconds */
    long long pw_memlimit;   /* argon2_memlimit: argon2id memory in bytes */
    long long pw_opslimit;   /* argon2_opslimit: argon2id passes */
    int shutdown_grace;      /* shutdown_grace: seconds to let requests finish */
    int stream_heartbeat_s;  /* stream_heartbeat_s: seconds between heartbeats on event streams */
    int stream_limit;        /* stream_limit: event streams open at once (plain HTTP) */
    bool log_debug;          /* log_level = debug|info */
    int anon_k;              /* anon_k: members a sector needs to be named; 0 = anon.h's default */
    char anon_allow[2048];   /* anon_allow: public domains left alone, comma-separated, lower case */

    /* Alert delivery (src/deliver): webhooks, e-mail, escalation. */
    int webhook_timeout_ms;  /* webhook_timeout_ms: one POST, connect to last byte */
    int webhook_backoff_ms;  /* webhook_backoff_ms: first retry delay, doubling (cap 1 h) */
    int webhook_max_tries;   /* webhook_max_tries: tries before a delivery is dead */
    bool webhook_allow_http; /* webhook_allow_http: accept http:// webhook URLs (tests) */
    bool webhook_allow_private; /* webhook_allow_private: deliver to private/loopback addresses */
    char smtp_url[1024];     /* smtp_url: smtp:// or smtps:// server; empty = no e-mail */
    char smtp_from[256];     /* smtp_from: envelope and From: address of alert e-mails */
    int alert_escalate_after_s; /* alert_escalate_after_s: unread urgent alerts re-sent after */
    int escalation_check_ms; /* escalation_check_ms: how often escalations are looked for */
    int deliver_poll_ms;     /* deliver_poll_ms: how often the outbox is polled when idle */
};

/* Fill with defaults; share_dir defaults to the build-time ISAC_SHARE_DIR. */
void cfg_defaults(struct cfg *c);
/* Read a config file over c. ERR_INVALID with field "line N: key". */
int cfg_load(struct cfg *c, const char *path, struct err *e);
/* Apply one key = value (also used for --set KEY=VALUE style flags). */
int cfg_set(struct cfg *c, const char *key, const char *value, struct err *e);

#endif
