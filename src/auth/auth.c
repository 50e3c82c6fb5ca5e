/* auth.c - see auth.h. */
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "base/util.h"
#include "model/member.h"

/* ---- secrets ---- */

int auth_password_hash(const struct cfg *cfg, const char *pw, char *out, struct err *e)
{
    if (crypto_pwhash_str(out, pw, strlen(pw), (unsigned long long)cfg->pw_opslimit,
                          (size_t)cfg->pw_memlimit) != 0)
        return err_set(e, ERR_NOMEM, "cannot hash password: out of memory");
    return 0;
}

bool auth_password_verify(const char *hash, const char *pw)
{
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void auth_secret_new(char out[AUTH_SECRET_LEN + 1])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof(b));
    sodium_bin2base64(out, AUTH_SECRET_LEN + 1, b, sizeof(b),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof(b));
}

void auth_secret_hash(const char *secret, uint8_t out[STORE_HASH_LEN])
{
    crypto_generichash(out, STORE_HASH_LEN, (const unsigned char *)secret, strlen(secret), NULL,
                       0);
}

/* ---- authentication ---- */

static int check_principal(const struct store_principal *p, struct err *e)
{
    int64_t now = util_now_ms() / 1000;
    if (p->user_disabled || p->org_disabled)
        return err_set(e, ERR_UNAUTH, "account disabled");
    if (p->revoked)
        return err_set(e, ERR_UNAUTH, "token revoked");
    if (p->expires_at <= now)
        return err_set(e, ERR_UNAUTH, "credentials expired");
    return 0;
}

int auth_bearer(struct store *st, const char *token, struct auth_identity *id, struct err *e)
{
    if (strlen(token) != AUTH_TOKEN_LEN || strncmp(token, "isac_", 5) != 0)
        return err_set(e, ERR_UNAUTH, "malformed token");
    uint8_t h[STORE_HASH_LEN];
    auth_secret_hash(token, h);
    memset(id, 0, sizeof(*id));
    memcpy(id->token_hash, h, sizeof(h));
    if (store_auth_token(st, h, &id->p, e) || check_principal(&id->p, e))
        return e->code;
    /* last_used_at is advisory; writing it on every request would make
     * every read a write, so it is refreshed at most once a minute. */
    int64_t now = util_now_ms() / 1000;
    if (now - id->p.last_used_at >= 60) {
        struct err ignore;
        err_init(&ignore);
        store_token_touch(st, id->p.token_id, now, &ignore);
    }
    return 0;
}

int auth_session(struct store *st, const char *cookie, struct auth_identity *id, struct err *e)
{
    if (strlen(cookie) != AUTH_SECRET_LEN)
        return err_set(e, ERR_UNAUTH, "malformed session");
    memset(id, 0, sizeof(*id));
    auth_secret_hash(cookie, id->session_hash);
    if (store_auth_session(st, id->session_hash, &id->p, e) || check_principal(&id->p, e))
        return e->code;
    id->via_session = true;
    return 0;
}

int auth_recheck(struct store *st, const uint8_t hash[STORE_HASH_LEN], bool session,
                 struct err *e)
{
    struct store_principal p;
    if ((session ? store_auth_session : store_auth_token)(st, hash, &p, e))
        return e->code;
    return check_principal(&p, e);
}

/*
 * Verifying against this when the login does not exist makes a wrong login
 * cost as much as a wrong password, so timing does not reveal logins.
 */
static char dummy[crypto_pwhash_STRBYTES];
static const struct cfg *dummy_cfg; /* written before pthread_once, same value by every caller */

static void dummy_init(void)
{
    struct err e;
    err_init(&e);
    auth_password_hash(dummy_cfg, "isac-dummy-password", dummy, &e);
}

static const char *dummy_hash(const struct cfg *cfg)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    dummy_cfg = cfg;
    pthread_once(&once, dummy_init);
    return dummy;
}

static int throttled(struct store *st, const struct cfg *cfg, const char *key, int limit,
                     int64_t now, struct err *e)
{
    int n = 0;
    int64_t oldest = 0;
    if (store_login_fail_count(st, key, now - cfg->login_window, &n, &oldest, e))
        return e->code;
    if (n >= limit) {
        err_set(e, ERR_THROTTLED, "too many failed logins; try again later");
        e->retry_after = (int)(oldest + cfg->login_window - now);
        if (e->retry_after < 1)
            e->retry_after = 1;
        return e->code;
    }
    return 0;
}

int auth_login(struct store *st, const struct cfg *cfg, const char *login, const char *password,
               const char *remote, char *session, char *csrf, json_t **user, struct err *e)
{
    char norm[LIMIT_LOGIN_MAX + 1];
    struct err ignore;
    err_init(&ignore);
    bool valid_login = model_login_norm(login, "login", norm, sizeof(norm), &ignore) == 0;
    if (!valid_login)
        util_strlcpy(norm, "(invalid)", sizeof(norm));

    char akey[96], ikey[96];
    snprintf(akey, sizeof(akey), "account:%s", norm);
    snprintf(ikey, sizeof(ikey), "address:%s", remote ? remote : "");
    int64_t now = util_now_ms() / 1000;
    if (throttled(st, cfg, akey, cfg->login_fail_account, now, e) ||
        throttled(st, cfg, ikey, cfg->login_fail_address, now, e))
        return e->code;

    char *hash = NULL;
    struct err le;
    err_init(&le);
    if (valid_login)
        store_user_pwhash(st, norm, &hash, &le);
    if (le.code && le.code != ERR_NOTFOUND) {
        free(hash);
        return err_set(e, le.code, "%s", le.detail);
    }
    bool ok = auth_password_verify(hash ? hash : dummy_hash(cfg), password) && hash != NULL;
    free(hash);

    json_t *u = NULL;
    if (ok && store_user_get_by_login(st, norm, &u, e) == 0) {
        json_t *org = NULL;
        const char *org_id = json_string_value(json_object_get(u, "org_id"));
        if (json_is_true(json_object_get(u, "disabled")))
            ok = false;
        else if (store_org_get(st, org_id, &org, e) == 0 &&
                 json_is_true(json_object_get(org, "disabled")))
            ok = false;
        json_decref(org);
    }
    if (e->code) {
        json_decref(u);
        return e->code;
    }
    if (!ok) {
        json_decref(u);
        store_login_fail_add(st, akey, now, now - cfg->login_window, &ignore);
        store_login_fail_add(st, ikey, now, now - cfg->login_window, &ignore);
        log_info("login failed for '%s' from %s", norm, remote ? remote : "?");
        return err_set(e, ERR_CREDENTIALS, "wrong login or password");
    }

    auth_secret_new(session);
    auth_secret_new(csrf);
    uint8_t h[STORE_HASH_LEN];
    auth_secret_hash(session, h);
    if (store_session_create(st, h, json_string_value(json_object_get(u, "id")), csrf, now,
                             now + cfg->session_ttl, e)) {
        json_decref(u);
        return e->code;
    }
    store_login_fail_clear(st, akey, &ignore);
    *user = u;
    return 0;
}

int auth_token_create(struct store *st, const char *user_id, const char *name, int days,
                      char out[AUTH_TOKEN_LEN + 1], json_t **token, struct err *e)
{
    char secret[AUTH_SECRET_LEN + 1], id[UTIL_UUID_LEN + 1], prefix[AUTH_PREFIX_LEN + 1];
    auth_secret_new(secret);
    snprintf(out, AUTH_TOKEN_LEN + 1, "isac_%s", secret);
    util_strlcpy(prefix, out, sizeof(prefix));
    util_uuid7(id);
    uint8_t h[STORE_HASH_LEN];
    auth_secret_hash(out, h);
    json_t *t = json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", id, "user_id", user_id, "name", name,
                          "prefix", prefix, "expires_ts",
                          (json_int_t)(util_now_ms() / 1000 + (int64_t)days * 86400));
    int rc = store_token_create(st, t, h, e);
    json_decref(t);
    if (rc == 0)
        rc = store_token_get(st, id, token, e);
    return rc;
}

/* ---- decisions ---- */

bool auth_has(const struct auth_identity *id, unsigned role) { return (id->p.roles & role) != 0; }

bool auth_is_admin(const struct auth_identity *id) { return auth_has(id, MODEL_ROLE_ADMIN); }

/* Admins and auditors see the whole member directory (auditors to audit it). */
static bool sees_directory(const struct auth_identity *id)
{
    return auth_has(id, MODEL_ROLE_ADMIN | MODEL_ROLE_AUDITOR);
}

bool auth_can_write_sector(const struct auth_identity *id) { return auth_is_admin(id); }

/* The organisation directory: also the coordinator's analysts, who address alerts to members. */
static bool sees_orgs(const struct auth_identity *id)
{
    return sees_directory(id) || auth_is_coordinator_analyst(id);
}

void auth_org_scope(const struct auth_identity *id, struct store_org_filter *f)
{
    if (!sees_orgs(id))
        f->only_id = id->p.org_id;
}

bool auth_can_read_org(const struct auth_identity *id, const char *org_id)
{
    return sees_orgs(id) || !strcmp(org_id, id->p.org_id);
}

bool auth_can_read_org_identifiers(const struct auth_identity *id, const char *org_id)
{
    return auth_is_admin(id) || !strcmp(org_id, id->p.org_id) ||
           (!strcmp(id->p.org_kind, "coordinator") &&
            auth_has(id, MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST | MODEL_ROLE_ORG_ADMIN));
}

void auth_org_redact(const struct auth_identity *id, json_t *org)
{
    const char *oid = json_string_value(json_object_get(org, "id"));
    if (!oid || !auth_can_read_org_identifiers(id, oid))
        json_object_del(org, "identifiers");
}

bool auth_can_create_org(const struct auth_identity *id) { return auth_is_admin(id); }

static bool only_keys(const json_t *o, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || !strcmp(*a, k);
        if (!ok)
            return false;
    }
    return true;
}

bool auth_can_update_org(const struct auth_identity *id, const char *org_id, const json_t *patch)
{
    /* Its own identifiers too: the organisation knows best what names it. */
    static const char *const org_admin_fields[] = {"name", "contacts", "identifiers", NULL};
    if (auth_is_admin(id))
        return true;
    return auth_has(id, MODEL_ROLE_ORG_ADMIN) && !strcmp(org_id, id->p.org_id) &&
           only_keys(patch, org_admin_fields);
}

void auth_user_scope(const struct auth_identity *id, struct store_user_filter *f)
{
    if (sees_directory(id))
        return;
    if (auth_has(id, MODEL_ROLE_ORG_ADMIN)) {
        /* Asking for another organisation's users yields none, not one's own. */
        if (f->org_id && strcmp(f->org_id, id->p.org_id))
            f->only_id = "";
        f->org_id = id->p.org_id;
    } else {
        f->only_id = id->p.user_id;
    }
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static unsigned user_roles(const json_t *u)
{
    unsigned r = 0;
    struct err ignore;
    err_init(&ignore);
    model_roles_parse(json_object_get(u, "roles"), "roles", &r, &ignore);
    return r;
}

/* Roles only a hub administrator may hand out or hold under an org_admin. */
#define HUB_ROLES (MODEL_ROLE_ADMIN | MODEL_ROLE_AUDITOR)

bool auth_can_read_user(const struct auth_identity *id, const json_t *u)
{
    if (sees_directory(id) || !strcmp(jstr(u, "id"), id->p.user_id))
        return true;
    return auth_has(id, MODEL_ROLE_ORG_ADMIN) && !strcmp(jstr(u, "org_id"), id->p.org_id);
}

bool auth_can_create_user(const struct auth_identity *id, const char *org_id, unsigned roles)
{
    if (auth_is_admin(id))
        return true;
    return auth_has(id, MODEL_ROLE_ORG_ADMIN) && !strcmp(org_id, id->p.org_id) &&
           (roles & HUB_ROLES) == 0;
}

bool auth_can_update_user(const struct auth_identity *id, const json_t *u, const json_t *patch)
{
    static const char *const self_fields[] = {"display_name", "locale", "email", NULL};
    if (auth_is_admin(id))
        return true;
    if (auth_has(id, MODEL_ROLE_ORG_ADMIN) && !strcmp(jstr(u, "org_id"), id->p.org_id) &&
        (user_roles(u) & HUB_ROLES) == 0 && (user_roles(patch) & HUB_ROLES) == 0)
        return true;
    return !strcmp(jstr(u, "id"), id->p.user_id) && only_keys(patch, self_fields);
}

void auth_token_scope(const struct auth_identity *id, struct store_token_filter *f)
{
    if (auth_is_admin(id))
        return;
    if (auth_has(id, MODEL_ROLE_ORG_ADMIN))
        f->org_id = id->p.org_id;
    else
        f->user_id = id->p.user_id;
}

bool auth_can_manage_token(const struct auth_identity *id, const json_t *owner)
{
    if (auth_is_admin(id) || !strcmp(jstr(owner, "id"), id->p.user_id))
        return true;
    return auth_has(id, MODEL_ROLE_ORG_ADMIN) && !strcmp(jstr(owner, "org_id"), id->p.org_id) &&
           (user_roles(owner) & HUB_ROLES) == 0;
}

/* ---- reports ---- */

/* Roles that may read and write content (an auditor alone reads only the log). */
#define CONTENT_ROLES (MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST | MODEL_ROLE_ORG_ADMIN | MODEL_ROLE_ADMIN)

static bool is_coordinator(const struct auth_identity *id)
{
    return !strcmp(id->p.org_kind, "coordinator");
}

void auth_report_access(const struct auth_identity *id, struct store_report_access *acc)
{
    memset(acc, 0, sizeof(*acc));
    if (!auth_has(id, CONTENT_ROLES)) {
        acc->none = true;
        return;
    }
    acc->org_id = id->p.org_id;
    acc->all = is_coordinator(id);
}

bool auth_can_create_report(const struct auth_identity *id)
{
    return auth_has(id, MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST | MODEL_ROLE_ORG_ADMIN);
}

bool auth_can_revise_report(const struct auth_identity *id, const json_t *report)
{
    return auth_can_create_report(id) && !strcmp(jstr(report, "org_id"), id->p.org_id);
}

void auth_report_redact(const struct auth_identity *id, json_t *report)
{
    if (!strcmp(jstr(report, "org_id"), id->p.org_id) || is_coordinator(id))
        return;
    /* The reporter's contact is for the coordinator's follow-up, never onward. */
    json_object_del(report, "contact");
    size_t i;
    json_t *rev;
    json_array_foreach(json_object_get(report, "revisions"), i, rev)
    {
        json_t *kept = json_array(), *ch;
        size_t j;
        json_array_foreach(json_object_get(rev, "changes"), j, ch)
            if (strcmp(jstr(ch, "field"), "contact"))
                json_array_append(kept, ch);
        json_object_set_new(rev, "changes", kept);
    }
}

bool auth_can_write_regime(const struct auth_identity *id) { return auth_is_admin(id); }

bool auth_can_submit_nearmiss(const struct auth_identity *id) { return auth_can_create_report(id); }

const char *auth_nearmiss_scope(const struct auth_identity *id)
{
    if (!auth_has(id, CONTENT_ROLES))
        return ""; /* matches no organisation */
    return is_coordinator(id) ? NULL : id->p.org_id;
}

bool auth_can_read_nearmiss_totals(const struct auth_identity *id)
{
    return is_coordinator(id) && auth_has(id, CONTENT_ROLES);
}

/* ---- audit ---- */

int auth_audit(struct store *st, const struct auth_identity *id, const char *remote,
               const char *action, const char *object_kind, const char *object_id,
               const char *outcome, json_t *detail, struct err *e)
{
    struct store_audit_entry a = {
        .actor_user = id ? id->p.user_id : NULL,
        .actor_login = id ? id->p.login : NULL,
        .actor_org = id ? id->p.org_id : NULL,
        .remote = remote && *remote ? remote : NULL,
        .action = action,
        .object_kind = object_kind,
        .object_id = object_id,
        .outcome = outcome,
        .detail = detail,
    };
    int rc = store_audit_append(st, &a, NULL, e);
    json_decref(detail);
    return rc;
}

bool auth_can_read_audit(const struct auth_identity *id)
{
    return auth_has(id, MODEL_ROLE_AUDITOR | MODEL_ROLE_ADMIN);
}

bool auth_report_read_is_restricted(const struct auth_identity *id, const json_t *report)
{
    return strcmp(jstr(report, "org_id"), id->p.org_id) != 0;
}

/* ---- releases ---- */

static void add_key(struct store_release_access *acc, const char *prefix, const char *v)
{
    if (acc->nkeys < STORE_RELEASE_KEYS_MAX && *v)
        snprintf(acc->keys[acc->nkeys++], STORE_RELEASE_KEY_LEN, "%s%s", prefix, v);
}

void auth_release_access(const struct auth_identity *id, struct store_release_access *acc)
{
    memset(acc, 0, sizeof(*acc));
    if (!auth_has(id, CONTENT_ROLES)) {
        acc->none = true;
        return;
    }
    acc->all = is_coordinator(id);
    acc->org_id = id->p.org_id;
    add_key(acc, "", "all");
    add_key(acc, "org:", id->p.org_id);
    add_key(acc, "tier:", id->p.org_tier);
    bool hub = !strcmp(id->p.org_kind, "sector_hub");
    char sectors[sizeof(id->p.org_sectors)];
    util_strlcpy(sectors, id->p.org_sectors, sizeof(sectors));
    char *save = NULL;
    for (char *s = strtok_r(sectors, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        add_key(acc, "sector:", s);
        if (hub)
            add_key(acc, "hub:", s);
    }
}

static void append_keys(json_t *out, const char *prefix, const json_t *codes)
{
    size_t i;
    json_t *v;
    json_array_foreach(codes, i, v)
    {
        char k[STORE_RELEASE_KEY_LEN];
        snprintf(k, sizeof(k), "%s%s", prefix, json_string_value(v));
        json_array_append_new(out, json_string(k));
    }
}

json_t *auth_release_targets(const json_t *audience, const char *provider_org_id,
                             const json_t *provider_sectors)
{
    json_t *out = json_array();
    char k[STORE_RELEASE_KEY_LEN];
    snprintf(k, sizeof(k), "org:%s", provider_org_id);
    json_array_append_new(out, json_string(k));
    if (json_is_true(json_object_get(audience, "all_members"))) {
        json_array_append_new(out, json_string("all"));
        return out; /* everyone: narrower keys would add nothing */
    }
    append_keys(out, "org:", json_object_get(audience, "orgs"));
    append_keys(out, "sector:", json_object_get(audience, "sectors"));
    append_keys(out, "tier:", json_object_get(audience, "tiers"));
    if (json_is_true(json_object_get(audience, "hub")))
        append_keys(out, "hub:", provider_sectors);
    return out;
}

bool auth_is_coordinator_analyst(const struct auth_identity *id)
{
    return is_coordinator(id) && auth_has(id, MODEL_ROLE_ANALYST | MODEL_ROLE_ADMIN);
}

bool auth_can_decide_release(const struct auth_identity *id, const char *provider_org_id)
{
    return provider_org_id && !strcmp(provider_org_id, id->p.org_id) &&
           auth_can_create_report(id); /* whoever may file its reports */
}

bool auth_can_read_release_workflow(const struct auth_identity *id, const char *provider_org_id)
{
    if (!auth_has(id, CONTENT_ROLES))
        return false;
    return is_coordinator(id) || (provider_org_id && !strcmp(provider_org_id, id->p.org_id));
}

void auth_release_redact(const struct auth_identity *id, json_t *release)
{
    if (is_coordinator(id) || !strcmp(jstr(release, "org_id"), id->p.org_id))
        return;
    /* Recipients: the anonymized content and its marking; nothing that points back. */
    static const char *const keep[] = {"id",      "version",  "state",       "content",
                                       "tlp",     "purpose",  "handling",    "published_at"};
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(release, tmp, k, v)
    {
        bool kept = false;
        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]) && !kept; i++)
            kept = !strcmp(k, keep[i]);
        if (!kept)
            json_object_del(release, k);
    }
}

bool auth_can_read_anon_rules(const struct auth_identity *id)
{
    return auth_is_admin(id) || auth_is_coordinator_analyst(id);
}

bool auth_can_write_anon_rules(const struct auth_identity *id) { return auth_is_admin(id); }

/* ---- alerts ---- */

void auth_alert_access(const struct auth_identity *id, struct store_release_access *acc)
{
    auth_release_access(id, acc); /* the same keys; hub keys match no alert target */
}

json_t *auth_alert_targets(const json_t *audience)
{
    json_t *out = json_array();
    if (json_is_true(json_object_get(audience, "all_members"))) {
        json_array_append_new(out, json_string("all"));
        return out;
    }
    append_keys(out, "org:", json_object_get(audience, "orgs"));
    append_keys(out, "sector:", json_object_get(audience, "sectors"));
    append_keys(out, "tier:", json_object_get(audience, "tiers"));
    return out;
}

/* Every sector code of the audience is one of the caller's organisation's. */
static bool own_sectors_only(const struct auth_identity *id, const json_t *audience)
{
    if (json_is_true(json_object_get(audience, "all_members")) ||
        json_array_size(json_object_get(audience, "orgs")) ||
        json_array_size(json_object_get(audience, "tiers")) ||
        json_array_size(json_object_get(audience, "sectors")) == 0)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(audience, "sectors"), i, v)
    {
        const char *code = json_string_value(v);
        size_t n = code ? strlen(code) : 0;
        bool found = false;
        for (const char *p = id->p.org_sectors; n && *p && !found;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            found = len == n && !strncmp(p, code, n);
            p += len + (end != NULL);
        }
        if (!found)
            return false;
    }
    return true;
}

bool auth_can_issue_alert(const struct auth_identity *id, const json_t *audience)
{
    if (auth_is_coordinator_analyst(id))
        return true;
    if (strcmp(id->p.org_kind, "sector_hub") || !auth_has(id, MODEL_ROLE_ANALYST))
        return false;
    return audience == NULL || own_sectors_only(id, audience);
}

bool auth_is_alert_issuer_side(const struct auth_identity *id, const json_t *alert)
{
    if (!auth_has(id, CONTENT_ROLES))
        return false;
    const char *issuer = jstr(alert, "issuer_org");
    return is_coordinator(id) || (issuer && !strcmp(issuer, id->p.org_id));
}

void auth_alert_redact(const struct auth_identity *id, json_t *alert)
{
    if (id && auth_is_alert_issuer_side(id, alert))
        return;
    /* Recipients: what to do and why; not who composed it, whom else it reached, or reports. */
    json_object_del(alert, "created_by");
    json_object_del(alert, "published_by");
    json_object_del(alert, "audience");
    json_object_del(alert, "pub_seq");
    json_t *links = json_object_get(json_object_get(alert, "body"), "links");
    if (json_is_object(links))
        json_object_set_new(links, "reports", json_array());
    links = json_object_get(alert, "links");
    if (json_is_object(links))
        json_object_set_new(links, "reports", json_array());
}

bool auth_can_acknowledge_alert(const struct auth_identity *id)
{
    return auth_has(id, CONTENT_ROLES);
}

bool auth_can_manage_webhooks(const struct auth_identity *id, const char *org_id)
{
    return auth_is_admin(id) ||
           (org_id && !strcmp(org_id, id->p.org_id) && auth_has(id, MODEL_ROLE_ORG_ADMIN));
}
