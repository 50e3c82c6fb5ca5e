/* cfg.c - see cfg.h. */
#include "cfg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "util.h"

#ifndef ISAC_SHARE_DIR
#define ISAC_SHARE_DIR "/usr/share/isac"
#endif

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    util_strlcpy(c->listen, "127.0.0.1:8080", sizeof(c->listen));
    util_strlcpy(c->share_dir, ISAC_SHARE_DIR, sizeof(c->share_dir));
    c->session_ttl = LIMIT_SESSION_TTL_S;
    c->token_days_default = LIMIT_TOKEN_DAYS_DEFAULT;
    c->login_fail_account = LIMIT_LOGIN_FAIL_ACCOUNT;
    c->login_fail_address = LIMIT_LOGIN_FAIL_ADDRESS;
    c->login_window = LIMIT_LOGIN_WINDOW_S;
    /* libsodium's "interactive" argon2id profile: 2 passes, 64 MiB. */
    c->pw_memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    c->pw_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    c->shutdown_grace = 10;
    c->stream_heartbeat_s = 15;
    c->stream_limit = LIMIT_STREAMS;
    c->webhook_timeout_ms = 10000;
    c->webhook_backoff_ms = 1000;
    c->webhook_max_tries = 8;
    util_strlcpy(c->smtp_from, "isac@localhost", sizeof(c->smtp_from));
    c->alert_escalate_after_s = 600;
    c->escalation_check_ms = 5000;
    c->deliver_poll_ms = 200;
}

static int set_str(char *dst, size_t n, const char *v, const char *key, struct err *e)
{
    if (strlen(v) >= n)
        return err_field(e, key, "too long");
    util_strlcpy(dst, v, n);
    return 0;
}

static int set_int(int *dst, const char *v, long long min, long long max, const char *key,
                   struct err *e)
{
    long long x;
    if (!util_parse_int(v, min, max, &x))
        return err_field(e, key, "must be an integer from %lld to %lld", min, max);
    *dst = (int)x;
    return 0;
}

/*
 * anon_allow: comma-separated domain names (letters, digits, hyphens,
 * dots; at least one dot), stored lower-cased without spaces.
 */
static int set_allow(struct cfg *c, const char *v, const char *key, struct err *e)
{
    char out[sizeof(c->anon_allow)];
    size_t n = 0, items = 0;
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t len = strcspn(v, ", \t");
        if (len == 0)
            break;
        bool ok = len <= 253 && memchr(v, '.', len) && v[0] != '.' && v[0] != '-' &&
                  v[len - 1] != '.' && v[len - 1] != '-';
        for (size_t i = 0; ok && i < len; i++)
            ok = isalnum((unsigned char)v[i]) || v[i] == '-' || (v[i] == '.' && v[i + 1] != '.');
        if (!ok)
            return err_field(e, key, "'%.*s' is not a domain name", (int)(len > 64 ? 64 : len), v);
        if (++items > LIMIT_ANON_ALLOW || n + len + 2 > sizeof(out))
            return err_field(e, key, "too many domains: at most %d", LIMIT_ANON_ALLOW);
        if (n)
            out[n++] = ',';
        for (size_t i = 0; i < len; i++)
            out[n++] = (char)tolower((unsigned char)v[i]);
        v += len;
    }
    out[n] = '\0';
    util_strlcpy(c->anon_allow, out, sizeof(c->anon_allow));
    return 0;
}

static int set_bool(bool *dst, const char *v, const char *key, struct err *e)
{
    if (strcmp(v, "true") && strcmp(v, "false"))
        return err_field(e, key, "must be true or false");
    *dst = !strcmp(v, "true");
    return 0;
}

/* smtp_url: the scheme says whether TLS is implicit (smtps) or not (smtp); empty: no e-mail. */
static int set_smtp_url(struct cfg *c, const char *v, const char *key, struct err *e)
{
    if (*v && strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8))
        return err_field(e, key, "must start with smtp:// or smtps://");
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return err_field(e, key, "must not contain spaces or control characters");
    return set_str(c->smtp_url, sizeof(c->smtp_url), v, key, e);
}

/* smtp_from: a bare address (local@domain); it goes into the envelope and the From: header. */
static int set_smtp_from(struct cfg *c, const char *v, const char *key, struct err *e)
{
    const char *at = strrchr(v, '@');
    bool ok = at && at != v && at[1] != '\0';
    for (const char *p = v; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != 0x7f && !strchr("<>()[]\\,;:\"", *p);
    if (!ok)
        return err_field(e, key, "must be an address like isac@example.jp");
    return set_str(c->smtp_from, sizeof(c->smtp_from), v, key, e);
}

/* The keys of alert delivery (src/deliver); 1 if k is none of them. */
static int set_delivery(struct cfg *c, const char *k, const char *v, struct err *e)
{
    if (!strcmp(k, "webhook_timeout_ms"))
        return set_int(&c->webhook_timeout_ms, v, 100, 300000, k, e);
    if (!strcmp(k, "webhook_backoff_ms"))
        return set_int(&c->webhook_backoff_ms, v, 10, 3600000, k, e);
    if (!strcmp(k, "webhook_max_tries"))
        return set_int(&c->webhook_max_tries, v, 1, 100, k, e);
    if (!strcmp(k, "webhook_allow_http"))
        return set_bool(&c->webhook_allow_http, v, k, e);
    if (!strcmp(k, "webhook_allow_private"))
        return set_bool(&c->webhook_allow_private, v, k, e);
    if (!strcmp(k, "smtp_url"))
        return set_smtp_url(c, v, k, e);
    if (!strcmp(k, "smtp_from"))
        return set_smtp_from(c, v, k, e);
    if (!strcmp(k, "alert_escalate_after_s"))
        return set_int(&c->alert_escalate_after_s, v, 1, 7 * 24 * 3600, k, e);
    if (!strcmp(k, "escalation_check_ms"))
        return set_int(&c->escalation_check_ms, v, 50, 3600000, k, e);
    if (!strcmp(k, "deliver_poll_ms"))
        return set_int(&c->deliver_poll_ms, v, 10, 60000, k, e);
    return 1;
}

int cfg_set(struct cfg *c, const char *k, const char *v, struct err *e)
{
    int drc = set_delivery(c, k, v, e);
    if (drc != 1)
        return drc;
    if (!strcmp(k, "data"))
        return set_str(c->data_dir, sizeof(c->data_dir), v, k, e);
    if (!strcmp(k, "listen"))
        return set_str(c->listen, sizeof(c->listen), v, k, e);
    if (!strcmp(k, "share_dir"))
        return set_str(c->share_dir, sizeof(c->share_dir), v, k, e);
    if (!strcmp(k, "tls_cert"))
        return set_str(c->tls_cert, sizeof(c->tls_cert), v, k, e);
    if (!strcmp(k, "tls_key"))
        return set_str(c->tls_key, sizeof(c->tls_key), v, k, e);
    if (!strcmp(k, "threads"))
        return set_int(&c->threads, v, 0, 256, k, e);
    if (!strcmp(k, "session_ttl"))
        return set_int(&c->session_ttl, v, 60, 30 * 24 * 3600, k, e);
    if (!strcmp(k, "token_days"))
        return set_int(&c->token_days_default, v, 1, LIMIT_TOKEN_DAYS_MAX, k, e);
    if (!strcmp(k, "login_fail_account"))
        return set_int(&c->login_fail_account, v, 1, 1000, k, e);
    if (!strcmp(k, "login_fail_address"))
        return set_int(&c->login_fail_address, v, 1, 100000, k, e);
    if (!strcmp(k, "login_window"))
        return set_int(&c->login_window, v, 1, 24 * 3600, k, e);
    if (!strcmp(k, "shutdown_grace"))
        return set_int(&c->shutdown_grace, v, 0, 600, k, e);
    if (!strcmp(k, "stream_heartbeat_s"))
        return set_int(&c->stream_heartbeat_s, v, 1, 3600, k, e);
    if (!strcmp(k, "stream_limit"))
        return set_int(&c->stream_limit, v, 1, LIMIT_STREAMS, k, e);
    if (!strcmp(k, "argon2_memlimit")) {
        long long x;
        if (!util_parse_int(v, crypto_pwhash_MEMLIMIT_MIN, 4LL << 30, &x))
            return err_field(e, k, "must be bytes from %d to 4 GiB", crypto_pwhash_MEMLIMIT_MIN);
        c->pw_memlimit = x;
        return 0;
    }
    if (!strcmp(k, "argon2_opslimit")) {
        long long x;
        if (!util_parse_int(v, 1, 64, &x))
            return err_field(e, k, "must be an integer from 1 to 64");
        c->pw_opslimit = x;
        return 0;
    }
    if (!strcmp(k, "anon_k"))
        return set_int(&c->anon_k, v, 1, 10000, k, e);
    if (!strcmp(k, "anon_allow"))
        return set_allow(c, v, k, e);
    if (!strcmp(k, "log_level")) {
        if (!strcmp(v, "debug") || !strcmp(v, "info")) {
            c->log_debug = !strcmp(v, "debug");
            return 0;
        }
        return err_field(e, k, "must be debug or info");
    }
    return err_field(e, k, "unknown key");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int cfg_load(struct cfg *c, const char *path, struct err *e)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(e, ERR_IO, "cannot open config '%s'", path);
    char line[2048];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            /* Skip the rest: a tail parsed as a line of its own could set a key. */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            if (*trim(line) == '#')
                continue; /* a long comment is still a comment */
            char where[64];
            snprintf(where, sizeof(where), "line %d", lineno);
            rc = err_field(e, where, "too long: at most %zu bytes", sizeof(line) - 2);
            continue;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        char where[64];
        snprintf(where, sizeof(where), "line %d", lineno);
        if (eq == NULL) {
            rc = err_field(e, where, "expected key = value");
            continue;
        }
        *eq = '\0';
        struct err one;
        err_init(&one);
        if (cfg_set(c, trim(s), trim(eq + 1), &one) != 0) {
            char f2[192];
            snprintf(f2, sizeof(f2), "%s: %s", where, one.nfields ? one.fields[0].field : "");
            rc = err_field(e, f2, "%s", one.nfields ? one.fields[0].reason : "invalid");
        }
    }
    fclose(f);
    if (rc)
        snprintf(e->detail, sizeof(e->detail), "invalid config '%s'", path);
    return rc;
}
