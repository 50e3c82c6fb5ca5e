/*
 * api_members.c - session, me, sectors, tiers, organisations, users and
 * API tokens. Every decision is asked of auth/; every list is scoped in
 * the store by auth_*_scope(), never filtered after fetching.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/member.h"

void api__respond_created(struct api_call *c, const char *collection, const char *id,
                          json_t *obj)
{
    char loc[256];
    snprintf(loc, sizeof(loc), "/api/v1/%s/%s", collection, id);
    http_add_header(c->req, "Location", loc);
    http_respond_json(c->req, 201, obj);
}

/* ---- session and me ---- */

static void set_session_cookie(struct api_call *c, const char *value, int max_age)
{
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "isac_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             value, max_age, http_req_tls(c->req) ? "; Secure" : "");
    http_add_header(c->req, "Set-Cookie", cookie);
}

/*
 * A refused login names the account when it exists. What was typed for an
 * unknown account is kept only as a short hash: the log cannot be edited,
 * and people paste passwords into login fields. Repeated guesses at the
 * same unknown name still show as the same hash.
 */
static void audit_failed_login(struct api_call *c, const char *typed, int rc)
{
    char login[LIMIT_LOGIN_MAX + 1];
    struct err ignore;
    err_init(&ignore);
    json_t *u = NULL, *detail;
    const char *user_id = NULL;
    if (model_login_norm(typed, "login", login, sizeof(login), &ignore) == 0 &&
        store_user_get_by_login(c->api->st, login, &u, &ignore) == 0) {
        user_id = api__jstr(u, "id");
        detail = json_pack("{s:s}", "login", login);
    } else {
        unsigned char h[8];
        char hex[17];
        crypto_generichash(h, sizeof(h), (const unsigned char *)typed, strlen(typed),
                           (const unsigned char *)"isac-audit-login", 16);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        detail = json_pack("{s:s}", "unknown_login_hash", hex);
    }
    api__audit(c, rc == ERR_THROTTLED ? "login.throttled" : "login.failure", "user", user_id,
               "denied", detail);
    json_decref(u);
}

void api__session_create(struct api_call *c)
{
    json_t *b = api__body(c, LIMIT_BODY_UNAUTH_BYTES);
    if (b == NULL)
        return;
    json_t *lv = json_object_get(b, "login"), *pv = json_object_get(b, "password");
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v) if (strcmp(k, "login") && strcmp(k, "password"))
        err_field(&c->e, k, "unknown field");
    if (!json_is_string(lv))
        err_field(&c->e, "login", lv ? "must be a string" : "required");
    if (!json_is_string(pv))
        err_field(&c->e, "password", pv ? "must be a string" : "required");
    else if (json_string_length(pv) > LIMIT_PASSWORD_MAX)
        err_field(&c->e, "password", "too long");
    if (c->e.code) {
        json_decref(b);
        api__problem(c);
        return;
    }
    char session[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
    json_t *user = NULL;
    int rc = auth_login(c->api->st, c->api->cfg, json_string_value(lv), json_string_value(pv),
                        http_req_remote(c->req), session, csrf, &user, &c->e);
    if (rc) {
        if (rc == ERR_CREDENTIALS || rc == ERR_THROTTLED)
            audit_failed_login(c, json_string_value(lv), rc);
        json_decref(b);
        api__problem(c);
        return;
    }
    json_decref(b);
    json_t *org = NULL;
    store_org_get(c->api->st, api__jstr(user, "org_id"), &org, &c->e);
    http_req_set_user(c->req, api__jstr(user, "login"));
    /* Audit as the user who just proved who they are. */
    util_strlcpy(c->id.p.user_id, api__jstr(user, "id"), sizeof(c->id.p.user_id));
    util_strlcpy(c->id.p.login, api__jstr(user, "login"), sizeof(c->id.p.login));
    util_strlcpy(c->id.p.org_id, api__jstr(user, "org_id"), sizeof(c->id.p.org_id));
    c->authed = true;
    api__audit(c, "login.success", "user", c->id.p.user_id, "ok", NULL);
    if (org)
        auth_org_redact(&c->id, org);
    set_session_cookie(c, session, c->api->cfg->session_ttl);
    sodium_memzero(session, sizeof(session));
    http_respond_json(c->req, 201,
                      json_pack("{s:o,s:o,s:s}", "user", user, "org", org ? org : json_null(),
                                "csrf_token", csrf));
}

void api__session_delete(struct api_call *c)
{
    if (c->id.via_session && store_session_delete(c->api->st, c->id.session_hash, &c->e)) {
        api__problem(c);
        return;
    }
    api__audit(c, "logout", "user", c->id.p.user_id, "ok", NULL);
    set_session_cookie(c, "", 0);
    http_respond_empty(c->req, 204);
}

void api__me(struct api_call *c)
{
    json_t *user = NULL, *org = NULL, *tier = NULL, *all = NULL;
    if (store_user_get(c->api->st, c->id.p.user_id, &user, &c->e) ||
        store_org_get(c->api->st, c->id.p.org_id, &org, &c->e) ||
        store_tier_get(c->api->st, api__jstr(org, "tier"), &tier, &c->e) ||
        store_sector_list(c->api->st, true, &all, &c->e)) {
        json_decref(user);
        json_decref(org);
        json_decref(tier);
        api__problem(c);
        return;
    }
    /* The organisation's sectors as full objects, in the organisation's order. */
    json_t *sectors = json_array();
    size_t i, j;
    json_t *code, *s;
    json_array_foreach(json_object_get(org, "sectors"), i, code)
    {
        json_array_foreach(all, j, s) if (!strcmp(api__jstr(s, "code"), json_string_value(code)))
            json_array_append(sectors, s);
    }
    json_decref(all);
    auth_org_redact(&c->id, org);
    http_respond_json(c->req, 200,
                      json_pack("{s:o,s:o,s:o,s:o,s:o}", "user", user, "org", org, "sectors",
                                sectors, "tier", tier, "csrf_token",
                                c->id.via_session ? json_string(c->id.p.csrf) : json_null()));
}

void api__me_password(struct api_call *c)
{
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES);
    if (b == NULL)
        return;
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v) if (strcmp(k, "current_password") && strcmp(k, "new_password"))
        err_field(&c->e, k, "unknown field");
    const char *cur = api__jstr(b, "current_password"), *nw = api__jstr(b, "new_password");
    if (cur == NULL)
        err_field(&c->e, "current_password", "required");
    if (nw == NULL)
        err_field(&c->e, "new_password", "required");
    else if (json_string_length(json_object_get(b, "new_password")) != strlen(nw))
        err_field(&c->e, "new_password", "must not contain NUL");
    else
        model_password_check(nw, "new_password", &c->e);
    char *hash = NULL;
    if (!c->e.code && store_user_pwhash(c->api->st, c->id.p.login, &hash, &c->e) == 0 &&
        !auth_password_verify(hash, cur))
        err_field(&c->e, "current_password", "wrong password");
    free(hash);
    char nh[crypto_pwhash_STRBYTES];
    if (!c->e.code && auth_password_hash(c->api->cfg, nw, nh, &c->e) == 0)
        /* Other sessions end: a password change is often a reaction to a leak. */
        store_user_set_password(c->api->st, c->id.p.user_id, nh,
                                c->id.via_session ? c->id.session_hash : NULL, &c->e);
    json_decref(b);
    if (c->e.code) {
        if (c->e.code == ERR_INVALID && c->e.nfields &&
            !strcmp(c->e.fields[0].field, "current_password"))
            api__audit(c, "password.change", "user", c->id.p.user_id, "denied", NULL);
        api__problem(c);
        return;
    }
    api__audit(c, "password.change", "user", c->id.p.user_id, "ok", NULL);
    http_respond_empty(c->req, 204);
}

/* ---- sectors and tiers ---- */

void api__sector_list(struct api_call *c)
{
    bool bad = false;
    bool inc = api__query_bool(c, "include_disabled", &bad);
    json_t *items;
    if (bad)
        return;
    if (store_sector_list(c->api->st, inc, &items, &c->e)) {
        api__problem(c);
        return;
    }
    /* Reference data is small and fixed in order: one page, no cursor. */
    http_respond_json(c->req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

void api__sector_get(struct api_call *c)
{
    json_t *s;
    if (store_sector_get(c->api->st, c->params[0], &s, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, s);
}

void api__sector_create(struct api_call *c)
{
    if (!auth_can_write_sector(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only administrators manage sectors");
        return;
    }
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *s = NULL;
    if (b == NULL)
        return;
    if (model_sector_check(b, MODEL_CREATE, &s, &c->e) ||
        store_sector_create(c->api->st, s, &c->e)) {
        if (c->e.code == ERR_CONFLICT)
            snprintf(c->e.detail, sizeof(c->e.detail), "a sector with this code exists");
        json_decref(b);
        json_decref(s);
        api__problem(c);
        return;
    }
    api__vocab_invalidate(c->api, API_VOCAB_SECTORS);
    api__audit(c, "sector.create", "sector", api__jstr(s, "code"), "ok", NULL);
    json_t *out = NULL;
    store_sector_get(c->api->st, api__jstr(s, "code"), &out, &c->e);
    json_decref(b);
    if (out)
        api__respond_created(c, "sectors", api__jstr(s, "code"), out);
    else
        api__problem(c);
    json_decref(s);
}

void api__sector_update(struct api_call *c)
{
    if (!auth_can_write_sector(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only administrators manage sectors");
        return;
    }
    json_t *cur = NULL, *patch = NULL, *b;
    if (store_sector_get(c->api->st, c->params[0], &cur, &c->e)) {
        api__problem(c);
        return;
    }
    if ((b = api__body(c, LIMIT_MEMBER_BODY_BYTES)) == NULL) {
        json_decref(cur);
        return;
    }
    if (model_sector_check(b, MODEL_PATCH, &patch, &c->e) == 0) {
        json_t *m = model_merge(cur, patch);
        if (store_sector_update(c->api->st, m, &c->e) == 0) {
            api__vocab_invalidate(c->api, API_VOCAB_SECTORS);
            api__audit(c, "sector.update", "sector", c->params[0], "ok",
                       json_pack("{s:O}", "changed", patch));
            json_decref(cur);
            cur = NULL;
            store_sector_get(c->api->st, c->params[0], &cur, &c->e);
        }
        json_decref(m);
    }
    json_decref(b);
    json_decref(patch);
    if (c->e.code) {
        json_decref(cur);
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, cur);
}

void api__tier_list(struct api_call *c)
{
    json_t *items;
    if (store_tier_list(c->api->st, &items, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

void api__tier_get(struct api_call *c)
{
    json_t *t;
    if (store_tier_get(c->api->st, c->params[0], &t, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, t);
}

/* ---- organisations ---- */

void api__org_list(struct api_call *c)
{
    struct api_page p;
    if (!api__page(c, &p))
        return;
    bool bad = false;
    struct store_org_filter f = {
        .kind = api__query(c, "kind", 32, &bad),
        .sector = api__query_code(c, "sector", API_VOCAB_SECTORS, &bad),
        .tier = api__query_code(c, "tier", API_VOCAB_TIERS, &bad),
        .q = api__query(c, "q", LIMIT_QUERY_CHARS, &bad),
        .include_disabled = api__query_bool(c, "include_disabled", &bad),
    };
    if (bad)
        return;
    if (f.kind && !model_org_kind_valid(f.kind)) {
        err_set(&c->e, ERR_BADREQ, "invalid query parameter 'kind'");
        c->e.nfields = 1;
        util_strlcpy(c->e.fields[0].field, "kind", sizeof(c->e.fields[0].field));
        util_strlcpy(c->e.fields[0].reason, "unknown organisation kind",
                     sizeof(c->e.fields[0].reason));
        api__problem(c);
        return;
    }
    auth_org_scope(&c->id, &f);
    struct store_page sp = {p.has_after ? p.after : NULL, p.limit + 1};
    json_t *items;
    if (store_org_list(c->api->st, &f, &sp, &items, &c->e)) {
        api__problem(c);
        return;
    }
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) auth_org_redact(&c->id, o);
    api__respond_page(c, items, &p);
}

void api__org_get(struct api_call *c)
{
    json_t *o;
    if (!util_is_uuid(c->params[0]) || !auth_can_read_org(&c->id, c->params[0])) {
        api__fail(c, ERR_NOTFOUND, "organisation not found");
        return;
    }
    if (store_org_get(c->api->st, c->params[0], &o, &c->e)) {
        api__problem(c);
        return;
    }
    auth_org_redact(&c->id, o);
    http_respond_json(c->req, 200, o);
}

void api__org_create(struct api_call *c)
{
    if (!auth_can_create_org(&c->id)) {
        api__fail(c, ERR_FORBIDDEN, "only administrators create organisations");
        return;
    }
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *o = NULL, *out = NULL;
    if (b == NULL)
        return;
    struct api_vocab sv, tv;
    if (api__vocab_load(c, API_VOCAB_SECTORS, &sv)) {
        json_decref(b);
        api__problem(c);
        return;
    }
    if (api__vocab_load(c, API_VOCAB_TIERS, &tv)) {
        api__vocab_release(&sv);
        json_decref(b);
        api__problem(c);
        return;
    }
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    if (model_org_check(b, MODEL_CREATE, &sv.v, &tv.v, &o, &c->e) == 0) {
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "disabled", json_false());
        if (!c->e.code && store_org_create(c->api->st, o, &c->e) == 0)
            store_org_get(c->api->st, id, &out, &c->e);
    }
    api__vocab_release(&sv);
    api__vocab_release(&tv);
    json_decref(b);
    json_decref(o);
    if (out == NULL) {
        api__problem(c);
        return;
    }
    api__audit(c, "org.create", "org", id, "ok", NULL);
    auth_org_redact(&c->id, out);
    api__respond_created(c, "orgs", id, out);
}

/* The names of the fields a patch changes, for the audit log (no values). */
static json_t *changed_keys(const json_t *patch)
{
    json_t *keys = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) json_array_append_new(keys, json_string(k));
    return json_pack("{s:o}", "changed", keys);
}

/* Update org id with the validated patch; responds. */
static void org_apply(struct api_call *c, json_t *patch, const char *action)
{
    json_t *cur = NULL, *out = NULL;
    if (store_org_get(c->api->st, c->params[0], &cur, &c->e) == 0) {
        json_t *m = model_merge(cur, patch);
        model_org_rules(m, &c->e);
        if (!c->e.code && store_org_update(c->api->st, m, &c->e) == 0)
            store_org_get(c->api->st, c->params[0], &out, &c->e);
        json_decref(m);
    }
    json_decref(cur);
    if (out == NULL) {
        api__problem(c);
        return;
    }
    api__audit(c, action, "org", c->params[0], "ok", changed_keys(patch));
    auth_org_redact(&c->id, out);
    http_respond_json(c->req, 200, out);
}

void api__org_update(struct api_call *c)
{
    if (!util_is_uuid(c->params[0]) || !auth_can_read_org(&c->id, c->params[0])) {
        api__fail(c, ERR_NOTFOUND, "organisation not found");
        return;
    }
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *patch = NULL;
    if (b == NULL)
        return;
    struct api_vocab sv, tv;
    if (api__vocab_load(c, API_VOCAB_SECTORS, &sv) == 0) {
        if (api__vocab_load(c, API_VOCAB_TIERS, &tv) == 0) {
            model_org_check(b, MODEL_PATCH, &sv.v, &tv.v, &patch, &c->e);
            api__vocab_release(&tv);
        }
        api__vocab_release(&sv);
    }
    json_decref(b);
    if (c->e.code) {
        api__problem(c);
        return;
    }
    if (!auth_can_update_org(&c->id, c->params[0], patch)) {
        json_decref(patch);
        api__fail(c, ERR_FORBIDDEN, "you may not change these fields of this organisation");
        return;
    }
    org_apply(c, patch, "org.update");
    json_decref(patch);
}

void api__org_disable(struct api_call *c)
{
    if (!util_is_uuid(c->params[0]) || !auth_can_read_org(&c->id, c->params[0])) {
        api__fail(c, ERR_NOTFOUND, "organisation not found");
        return;
    }
    json_t *patch = json_pack("{s:b}", "disabled", 1);
    if (!auth_can_update_org(&c->id, c->params[0], patch)) {
        json_decref(patch);
        api__fail(c, ERR_FORBIDDEN, "only administrators disable organisations");
        return;
    }
    org_apply(c, patch, "org.disable");
    json_decref(patch);
}

/* ---- users ---- */

void api__user_list(struct api_call *c)
{
    struct api_page p;
    if (!api__page(c, &p))
        return;
    bool bad = false;
    struct store_user_filter f = {
        .org_id = api__query_id(c, "org_id", &bad),
        .role = api__query(c, "role", 32, &bad),
        .q = api__query(c, "q", LIMIT_QUERY_CHARS, &bad),
        .include_disabled = api__query_bool(c, "include_disabled", &bad),
    };
    if (bad)
        return;
    if (f.role && !model_role_bit(f.role)) {
        err_set(&c->e, ERR_BADREQ, "invalid query parameter 'role'");
        c->e.nfields = 1;
        util_strlcpy(c->e.fields[0].field, "role", sizeof(c->e.fields[0].field));
        util_strlcpy(c->e.fields[0].reason, "unknown role", sizeof(c->e.fields[0].reason));
        api__problem(c);
        return;
    }
    auth_user_scope(&c->id, &f);
    struct store_page sp = {p.has_after ? p.after : NULL, p.limit + 1};
    json_t *items;
    if (store_user_list(c->api->st, &f, &sp, &items, &c->e)) {
        api__problem(c);
        return;
    }
    api__respond_page(c, items, &p);
}

/* Fetch the user in the path if the caller may read it; else responds 404. */
static json_t *readable_user(struct api_call *c, const char *id)
{
    json_t *u = NULL;
    if (!util_is_uuid(id)) {
        api__fail(c, ERR_NOTFOUND, "user not found");
        return NULL;
    }
    if (store_user_get(c->api->st, id, &u, &c->e)) {
        api__problem(c);
        return NULL;
    }
    if (!auth_can_read_user(&c->id, u)) {
        json_decref(u);
        api__fail(c, ERR_NOTFOUND, "user not found");
        return NULL;
    }
    return u;
}

void api__user_get(struct api_call *c)
{
    json_t *u = readable_user(c, c->params[0]);
    if (u)
        http_respond_json(c->req, 200, u);
}

void api__user_create(struct api_call *c)
{
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *u = NULL, *org = NULL, *out = NULL;
    if (b == NULL)
        return;
    int rc = model_user_check(b, MODEL_CREATE, &u, &c->e);
    json_decref(b);
    if (rc) {
        api__problem(c);
        return;
    }
    unsigned roles;
    model_roles_parse(json_object_get(u, "roles"), "roles", &roles, &c->e);
    const char *org_id = api__jstr(u, "org_id");
    if (!auth_can_create_user(&c->id, org_id, roles)) {
        json_decref(u);
        api__fail(c, ERR_FORBIDDEN,
                  "you may create users only in your organisation, without hub roles");
        return;
    }
    struct err oe;
    err_init(&oe);
    if (store_org_get(c->api->st, org_id, &org, &oe)) {
        json_decref(u);
        if (oe.code == ERR_NOTFOUND)
            err_field(&c->e, "org_id", "no such organisation");
        else
            c->e = oe;
        api__problem(c);
        return;
    }
    json_decref(org);
    char id[UTIL_UUID_LEN + 1], hash[crypto_pwhash_STRBYTES];
    util_uuid7(id);
    json_object_set_new(u, "id", json_string(id));
    json_object_set_new(u, "disabled", json_false());
    if (auth_password_hash(c->api->cfg, api__jstr(u, "password"), hash, &c->e) == 0) {
        json_object_del(u, "password");
        if (store_user_create(c->api->st, u, hash, &c->e) == 0)
            store_user_get(c->api->st, id, &out, &c->e);
        else if (c->e.code == ERR_CONFLICT)
            snprintf(c->e.detail, sizeof(c->e.detail), "the login '%s' is taken", api__jstr(u, "login"));
    }
    json_decref(u);
    if (out == NULL) {
        api__problem(c);
        return;
    }
    api__audit(c, "user.create", "user", id, "ok", NULL);
    api__respond_created(c, "users", id, out);
}

/* Apply a validated patch to user cur; responds. Takes neither reference. */
static void user_apply(struct api_call *c, const json_t *cur, json_t *patch, const char *action)
{
    char hash[crypto_pwhash_STRBYTES];
    const char *pw = api__jstr(patch, "password");
    const char *id = api__jstr(cur, "id");
    json_t *out = NULL;
    if (pw && auth_password_hash(c->api->cfg, pw, hash, &c->e))
        goto out_fail;
    json_object_del(patch, "password");
    json_t *m = model_merge(cur, patch);
    store_user_update(c->api->st, m, pw ? hash : NULL, &c->e);
    json_decref(m);
    if (!c->e.code && store_user_get(c->api->st, id, &out, &c->e) == 0) {
        json_t *detail = changed_keys(patch);
        if (pw)
            json_array_append_new(json_object_get(detail, "changed"), json_string("password"));
        api__audit(c, action, "user", id, "ok", detail);
        http_respond_json(c->req, 200, out);
        return;
    }
out_fail:
    api__problem(c);
}

void api__user_update(struct api_call *c)
{
    json_t *cur = readable_user(c, c->params[0]), *b, *patch = NULL;
    if (cur == NULL)
        return;
    if ((b = api__body(c, LIMIT_MEMBER_BODY_BYTES)) == NULL) {
        json_decref(cur);
        return;
    }
    int rc = model_user_check(b, MODEL_PATCH, &patch, &c->e);
    json_decref(b);
    if (rc == 0 && !auth_can_update_user(&c->id, cur, patch))
        err_set(&c->e, ERR_FORBIDDEN, "you may not make this change to this user");
    if (c->e.code)
        api__problem(c);
    else
        user_apply(c, cur, patch, "user.update");
    json_decref(patch);
    json_decref(cur);
}

void api__user_disable(struct api_call *c)
{
    json_t *cur = readable_user(c, c->params[0]);
    if (cur == NULL)
        return;
    json_t *patch = json_pack("{s:b}", "disabled", 1);
    if (!auth_can_update_user(&c->id, cur, patch) ||
        !strcmp(api__jstr(cur, "id"), c->id.p.user_id))
        api__fail(c, ERR_FORBIDDEN, "you may not disable this user");
    else
        user_apply(c, cur, patch, "user.disable");
    json_decref(patch);
    json_decref(cur);
}

/* ---- API tokens ---- */

void api__token_list(struct api_call *c)
{
    struct api_page p;
    if (!api__page(c, &p))
        return;
    bool bad = false;
    struct store_token_filter f = {.user_id = api__query_id(c, "user_id", &bad)};
    if (bad)
        return;
    auth_token_scope(&c->id, &f);
    struct store_page sp = {p.has_after ? p.after : NULL, p.limit + 1};
    json_t *items;
    if (store_token_list(c->api->st, &f, &sp, &items, &c->e)) {
        api__problem(c);
        return;
    }
    api__respond_page(c, items, &p);
}

/* The token in the path if the caller may manage it; else responds 404. */
static json_t *managed_token(struct api_call *c)
{
    json_t *t = NULL, *owner = NULL;
    if (!util_is_uuid(c->params[0]) || store_token_get(c->api->st, c->params[0], &t, &c->e) ||
        store_user_get(c->api->st, api__jstr(t, "user_id"), &owner, &c->e) ||
        !auth_can_manage_token(&c->id, owner)) {
        json_decref(t);
        json_decref(owner);
        err_init(&c->e);
        api__fail(c, ERR_NOTFOUND, "token not found");
        return NULL;
    }
    json_decref(owner);
    return t;
}

void api__token_get(struct api_call *c)
{
    json_t *t = managed_token(c);
    if (t)
        http_respond_json(c->req, 200, t);
}

void api__token_create(struct api_call *c)
{
    json_t *b = api__body(c, LIMIT_MEMBER_BODY_BYTES), *in = NULL, *owner = NULL, *tok = NULL;
    if (b == NULL)
        return;
    int rc = model_token_check(b, MODEL_CREATE, c->api->cfg->token_days_default, &in, &c->e);
    json_decref(b);
    if (rc) {
        api__problem(c);
        return;
    }
    const char *uid = api__jstr(in, "user_id");
    if (uid == NULL)
        uid = c->id.p.user_id;
    struct err ue;
    err_init(&ue);
    if (store_user_get(c->api->st, uid, &owner, &ue) || !auth_can_read_user(&c->id, owner)) {
        if (ue.code && ue.code != ERR_NOTFOUND)
            c->e = ue;
        else
            err_field(&c->e, "user_id", "no such user");
    } else if (!auth_can_manage_token(&c->id, owner)) {
        err_set(&c->e, ERR_FORBIDDEN, "you may not create tokens for this user");
    } else if (json_is_true(json_object_get(owner, "disabled"))) {
        err_field(&c->e, "user_id", "the user is disabled");
    }
    char secret[AUTH_TOKEN_LEN + 1];
    if (!c->e.code)
        auth_token_create(c->api->st, uid, api__jstr(in, "name"),
                          (int)json_integer_value(json_object_get(in, "expires_in_days")),
                          secret, &tok, &c->e);
    json_decref(owner);
    json_decref(in);
    if (c->e.code) {
        api__problem(c);
        return;
    }
    json_object_set_new(tok, "token", json_string(secret));
    sodium_memzero(secret, sizeof(secret));
    char id[64];
    util_strlcpy(id, api__jstr(tok, "id"), sizeof(id));
    api__audit(c, "token.create", "token", id, "ok",
               json_pack("{s:s}", "user_id", api__jstr(tok, "user_id")));
    api__respond_created(c, "tokens", id, tok);
}

static void token_apply(struct api_call *c, json_t *t, json_t *patch, const char *action)
{
    json_t *m = model_merge(t, patch), *out = NULL;
    if (store_token_update(c->api->st, m, &c->e) == 0)
        store_token_get(c->api->st, api__jstr(t, "id"), &out, &c->e);
    json_decref(m);
    if (out)
        api__audit(c, action, "token", api__jstr(t, "id"), "ok",
                   json_pack("{s:s}", "user_id", api__jstr(t, "user_id")));
    if (out)
        http_respond_json(c->req, 200, out);
    else
        api__problem(c);
}

void api__token_update(struct api_call *c)
{
    json_t *t = managed_token(c), *b, *patch = NULL;
    if (t == NULL)
        return;
    if ((b = api__body(c, LIMIT_MEMBER_BODY_BYTES)) != NULL) {
        if (model_token_check(b, MODEL_PATCH, 0, &patch, &c->e))
            api__problem(c);
        else
            token_apply(c, t, patch, "token.update");
        json_decref(b);
        json_decref(patch);
    }
    json_decref(t);
}

void api__token_revoke(struct api_call *c)
{
    json_t *t = managed_token(c);
    if (t == NULL)
        return;
    json_t *patch = json_pack("{s:b}", "revoked", 1);
    token_apply(c, t, patch, "token.revoke");
    json_decref(patch);
    json_decref(t);
}
