/*
 * test_auth.c - unit tests of src/auth: secrets, login with throttling,
 * bearer tokens and sessions against a real SQLite store, and every access
 * decision as a table of role x case.
 *
 * argon2id runs with libsodium's minimum memory and one pass so the suite
 * stays fast; the cost parameters are cfg's business, not auth's.
 */
#include "../unit.h"

#include <sodium.h>

#include "auth/auth.h"
#include "base/cfg.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/util.h"
#include "model/member.h"
#include "store/store.h"

#define ID_LEN (UTIL_UUID_LEN + 1)

struct fx {
    char *tmp;
    struct store *st;
    struct cfg cfg;
    char org_a[ID_LEN], org_b[ID_LEN];
    char alice[ID_LEN], bob[ID_LEN], carol[ID_LEN];
};

static void fast_cfg(struct cfg *c)
{
    cfg_defaults(c);
    c->pw_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    c->pw_opslimit = 1;
}

static void new_org(struct fx *f, const char *name, char *id)
{
    struct err e;
    util_uuid7(id);
    json_t *o = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:[],s:[],s:b}", "id", id, "name", "ja", name,
                          "en", name, "kind", "operator", "tier", "class1", "sectors", "contacts",
                          "disabled", 0);
    OK(store_org_create(f->st, o, &e));
    json_decref(o);
}

static void new_user(struct fx *f, const char *org, const char *login, const char *roles,
                     const char *password, char *id)
{
    struct err e;
    char hash[crypto_pwhash_STRBYTES];
    if (password)
        OK(auth_password_hash(&f->cfg, password, hash, &e));
    util_uuid7(id);
    json_t *u = json_pack("{s:s,s:s,s:s,s:s,s:s,s:n,s:b}", "id", id, "org_id", org, "login", login,
                          "display_name", login, "locale", "en", "email", "disabled", 0);
    json_object_set_new(u, "roles", unit_json(roles));
    OK(store_user_create(f->st, u, password ? hash : NULL, &e));
    json_decref(u);
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->tmp = unit_tmpdir();
    char dir[1100];
    snprintf(dir, sizeof(dir), "%s/data", f->tmp);
    fast_cfg(&f->cfg);
    struct err e;
    err_init(&e);
    if (store_open(&f->st, dir, true, &e)) {
        print_error("store_open: %s\n", e.detail);
        unit_rmtree(f->tmp);
        free(f->tmp);
        free(f);
        return -1;
    }
    new_org(f, "Org A", f->org_a);
    new_org(f, "Org B", f->org_b);
    new_user(f, f->org_a, "alice", "[\"member\"]", "alice's password", f->alice);
    new_user(f, f->org_a, "bob", "[\"member\",\"org_admin\"]", "bob's password!", f->bob);
    new_user(f, f->org_b, "carol", "[\"admin\"]", NULL, f->carol); /* no password login */
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    unit_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static void set_disabled(struct fx *f, bool org, const char *id, bool disabled)
{
    struct err e;
    json_t *o = NULL;
    if (org)
        OK(store_org_get(f->st, id, &o, &e));
    else
        OK(store_user_get(f->st, id, &o, &e));
    json_object_set_new(o, "disabled", json_boolean(disabled));
    if (org)
        OK(store_org_update(f->st, o, &e));
    else
        OK(store_user_update(f->st, o, NULL, &e));
    json_decref(o);
}

/* auth_login, freeing what it returns; the rc, with e filled. */
static int login(struct fx *f, const char *who, const char *pw, const char *remote, struct err *e)
{
    char session[AUTH_SECRET_LEN + 1] = "", csrf[AUTH_SECRET_LEN + 1] = "";
    json_t *user = NULL;
    err_init(e);
    int rc = auth_login(f->st, &f->cfg, who, pw, remote, session, csrf, &user, e);
    if (rc == 0) {
        assert_non_null(user);
        assert_int_equal(strlen(session), AUTH_SECRET_LEN);
    } else {
        assert_null(user);
    }
    json_decref(user);
    return rc;
}

/* ---- secrets ---- */

static void test_password_hash(void **state)
{
    struct fx *f = *state;
    struct err e;
    char h1[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
    OK(auth_password_hash(&f->cfg, "correct horse battery", h1, &e));
    OK(auth_password_hash(&f->cfg, "correct horse battery", h2, &e));
    assert_memory_equal(h1, "$argon2id$", 10);
    assert_string_not_equal(h1, h2); /* salted */
    assert_true(auth_password_verify(h1, "correct horse battery"));
    assert_true(auth_password_verify(h2, "correct horse battery"));
    assert_false(auth_password_verify(h1, "correct horse batterY"));
    assert_false(auth_password_verify(h1, "correct horse battery "));
    assert_false(auth_password_verify(h1, ""));
    assert_false(auth_password_verify("not a hash", "correct horse battery"));
    assert_false(auth_password_verify("", ""));
    /* The cost parameters of cfg are the ones used. */
    assert_non_null(strstr(h1, "m=8,t=1"));
    /* Non-ASCII passwords work byte for byte. */
    OK(auth_password_hash(&f->cfg, "パスワードは長い", h1, &e));
    assert_true(auth_password_verify(h1, "パスワードは長い"));
    assert_false(auth_password_verify(h1, "パスワードは長く"));
}

static void test_secrets(void **state)
{
    (void)state;
    char prev[AUTH_SECRET_LEN + 1] = "";
    for (int i = 0; i < 200; i++) {
        char s[AUTH_SECRET_LEN + 1];
        memset(s, '#', sizeof(s));
        auth_secret_new(s);
        assert_int_equal(strlen(s), AUTH_SECRET_LEN);
        for (int k = 0; k < AUTH_SECRET_LEN; k++) {
            char c = s[k];
            bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok)
                print_error("secret '%s' has '%c'\n", s, c);
            assert_true(ok);
        }
        /* 32 random bytes decode back from the secret. */
        unsigned char bin[64];
        size_t binlen = 0;
        assert_int_equal(sodium_base642bin(bin, sizeof(bin), s, strlen(s), NULL, &binlen, NULL,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        assert_int_equal(binlen, 32);
        assert_string_not_equal(s, prev);
        memcpy(prev, s, sizeof(prev));
    }
    /* The stored hash: BLAKE2b-256 of the whole string, deterministic. */
    uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], want[STORE_HASH_LEN];
    auth_secret_hash("isac_secret", h1);
    auth_secret_hash("isac_secret", h2);
    assert_memory_equal(h1, h2, STORE_HASH_LEN);
    crypto_generichash(want, sizeof(want), (const unsigned char *)"isac_secret", 11, NULL, 0);
    assert_memory_equal(h1, want, STORE_HASH_LEN);
    auth_secret_hash("isac_secreT", h2);
    assert_memory_not_equal(h1, h2, STORE_HASH_LEN);
}

/* ---- login ---- */

static void test_login_ok(void **state)
{
    struct fx *f = *state;
    struct err e;
    char session[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
    json_t *user = NULL;
    int64_t now = util_now_ms() / 1000;
    /* The login is normalised before lookup. */
    OK(auth_login(f->st, &f->cfg, "Alice", "alice's password", "192.0.2.1", session, csrf, &user,
                  &e));
    assert_str(unit_jstr(user, "id"), f->alice);
    assert_str(unit_jstr(user, "login"), "alice");
    assert_null(json_object_get(user, "password_hash"));
    json_decref(user);
    assert_int_equal(strlen(session), AUTH_SECRET_LEN);
    assert_int_equal(strlen(csrf), AUTH_SECRET_LEN);
    assert_string_not_equal(session, csrf);

    struct auth_identity id;
    OK(auth_session(f->st, session, &id, &e));
    assert_true(id.via_session);
    assert_string_equal(id.p.user_id, f->alice);
    assert_string_equal(id.p.org_id, f->org_a);
    assert_string_equal(id.p.login, "alice");
    assert_string_equal(id.p.csrf, csrf);
    assert_int_equal(id.p.roles, MODEL_ROLE_MEMBER);
    assert_true(id.p.expires_at >= now + f->cfg.session_ttl);
    assert_true(id.p.expires_at <= now + f->cfg.session_ttl + 5);
    uint8_t h[STORE_HASH_LEN];
    auth_secret_hash(session, h);
    assert_memory_equal(id.session_hash, h, STORE_HASH_LEN);

    /* A second login is a second session; both work. */
    char session2[AUTH_SECRET_LEN + 1], csrf2[AUTH_SECRET_LEN + 1];
    OK(auth_login(f->st, &f->cfg, "alice", "alice's password", NULL, session2, csrf2, &user, &e));
    json_decref(user);
    assert_string_not_equal(session, session2);
    OK(auth_session(f->st, session, &id, &e));
    OK(auth_session(f->st, session2, &id, &e));

    /* Logout. */
    OK(store_session_delete(f->st, h, &e));
    FAILS(ERR_UNAUTH, auth_session(f->st, session, &id, &e));
    OK(auth_session(f->st, session2, &id, &e));
}

static void test_login_refused(void **state)
{
    struct fx *f = *state;
    struct err e;
    static const struct {
        const char *login, *pw;
    } cases[] = {
        {"alice", "wrong password"},
        {"alice", ""},
        {"alice", "alice's password "},
        {"nobody", "alice's password"},
        {"carol", "anything at all"}, /* no password set */
        {"x", "alice's password"},   /* not even a valid login */
        {"al ice", "alice's password"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char session[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
        json_t *user = NULL;
        FAILS(ERR_CREDENTIALS, auth_login(f->st, &f->cfg, cases[i].login, cases[i].pw,
                                          "192.0.2.2", session, csrf, &user, &e));
        assert_null(user);
        assert_int_equal(e.retry_after, 0);
    }
    /* Wrong login and wrong password read the same. */
    struct err e1, e2;
    assert_int_equal(login(f, "alice", "wrong password", "192.0.2.3", &e1), ERR_CREDENTIALS);
    assert_int_equal(login(f, "nobody", "wrong password", "192.0.2.3", &e2), ERR_CREDENTIALS);
    assert_string_equal(e1.detail, e2.detail);
}

static void test_login_throttle_account(void **state)
{
    struct fx *f = *state;
    struct err e;
    f->cfg.login_fail_account = 3;
    for (int i = 0; i < 3; i++)
        assert_int_equal(login(f, "alice", "wrong password", "192.0.2.10", &e), ERR_CREDENTIALS);
    /* Now even the right password, from another address, is throttled. */
    assert_int_equal(login(f, "alice", "alice's password", "198.51.100.1", &e), ERR_THROTTLED);
    assert_int_equal(e.code, ERR_THROTTLED);
    assert_true(e.retry_after > 0);
    assert_true(e.retry_after <= f->cfg.login_window);
    assert_int_equal(login(f, "ALICE", "alice's password", "198.51.100.1", &e), ERR_THROTTLED);
    /* Other accounts are unaffected. */
    assert_int_equal(login(f, "bob", "bob's password!", "192.0.2.10", &e), 0);

    /* A success clears the account's failures: 2 + ok + 2 + ok never reaches 3. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++)
            assert_int_equal(login(f, "bob", "nope nope nope", "192.0.2.11", &e),
                             ERR_CREDENTIALS);
        assert_int_equal(login(f, "bob", "bob's password!", "192.0.2.11", &e), 0);
    }

    /* Failures older than the window no longer count. */
    int n = 0;
    int64_t oldest = 0, now = util_now_ms() / 1000;
    OK(store_login_fail_clear(f->st, "account:alice", &e));
    for (int i = 0; i < 3; i++)
        OK(store_login_fail_add(f->st, "account:alice", now - f->cfg.login_window - 10, 0, &e));
    assert_int_equal(login(f, "alice", "alice's password", "198.51.100.2", &e), 0);
    OK(store_login_fail_count(f->st, "account:alice", 0, &n, &oldest, &e));
    assert_int_equal(n, 0);

    /* retry_after counts from the oldest failure in the window. */
    for (int i = 0; i < 3; i++)
        OK(store_login_fail_add(f->st, "account:alice", now - 100, 0, &e));
    assert_int_equal(login(f, "alice", "alice's password", "198.51.100.2", &e), ERR_THROTTLED);
    assert_true(e.retry_after >= f->cfg.login_window - 100 - 2);
    assert_true(e.retry_after <= f->cfg.login_window - 100 + 2);
}

static void test_login_throttle_address(void **state)
{
    struct fx *f = *state;
    struct err e;
    f->cfg.login_fail_address = 2;
    assert_int_equal(login(f, "alice", "wrong password", "203.0.113.5", &e), ERR_CREDENTIALS);
    assert_int_equal(login(f, "nobody", "wrong password", "203.0.113.5", &e), ERR_CREDENTIALS);
    assert_int_equal(login(f, "bob", "bob's password!", "203.0.113.5", &e), ERR_THROTTLED);
    assert_true(e.retry_after > 0);
    /* Another address is fine. */
    assert_int_equal(login(f, "bob", "bob's password!", "203.0.113.6", &e), 0);
}

static void test_login_disabled(void **state)
{
    struct fx *f = *state;
    struct err e;
    char session[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
    json_t *user = NULL;
    OK(auth_login(f->st, &f->cfg, "alice", "alice's password", NULL, session, csrf, &user, &e));
    json_decref(user);
    char tok[AUTH_TOKEN_LEN + 1];
    json_t *t = NULL;
    OK(auth_token_create(f->st, f->bob, "bob's", 30, tok, &t, &e));
    json_decref(t);
    struct auth_identity id;

    /* Disabled user: no login, no session. */
    set_disabled(f, false, f->alice, true);
    assert_int_equal(login(f, "alice", "alice's password", NULL, &e), ERR_CREDENTIALS);
    FAILS(ERR_UNAUTH, auth_session(f->st, session, &id, &e));
    set_disabled(f, false, f->alice, false);
    assert_int_equal(login(f, "alice", "alice's password", NULL, &e), 0);

    /* Disabled org: none of its users, by password or token. */
    OK(auth_login(f->st, &f->cfg, "alice", "alice's password", NULL, session, csrf, &user, &e));
    json_decref(user);
    OK(auth_bearer(f->st, tok, &id, &e));
    set_disabled(f, true, f->org_a, true);
    assert_int_equal(login(f, "alice", "alice's password", NULL, &e), ERR_CREDENTIALS);
    assert_int_equal(login(f, "bob", "bob's password!", NULL, &e), ERR_CREDENTIALS);
    FAILS(ERR_UNAUTH, auth_session(f->st, session, &id, &e));
    FAILS(ERR_UNAUTH, auth_bearer(f->st, tok, &id, &e));
    set_disabled(f, true, f->org_a, false);
    OK(auth_session(f->st, session, &id, &e)); /* nothing cached: back at once */
    OK(auth_bearer(f->st, tok, &id, &e));
}

/* ---- tokens and sessions ---- */

static void test_bearer(void **state)
{
    struct fx *f = *state;
    struct err e;
    char tok[AUTH_TOKEN_LEN + 1];
    json_t *t = NULL;
    int64_t now = util_now_ms() / 1000;
    OK(auth_token_create(f->st, f->bob, "ci pipeline", 30, tok, &t, &e));
    assert_int_equal(strlen(tok), AUTH_TOKEN_LEN);
    assert_memory_equal(tok, "isac_", 5);
    assert_str(unit_jstr(t, "name"), "ci pipeline");
    assert_str(unit_jstr(t, "user_id"), f->bob);
    const char *prefix = unit_jstr(t, "prefix");
    assert_non_null(prefix);
    assert_int_equal(strlen(prefix), AUTH_PREFIX_LEN);
    assert_memory_equal(prefix, tok, AUTH_PREFIX_LEN);
    assert_true(json_is_false(json_object_get(t, "revoked")));
    char want_exp[UTIL_TIME_LEN + 1], want_exp2[UTIL_TIME_LEN + 1];
    util_time_fmt(now + 30 * 86400, want_exp);
    util_time_fmt(now + 30 * 86400 + 1, want_exp2);
    const char *exp = unit_jstr(t, "expires_at");
    assert_non_null(exp);
    assert_true(!strcmp(exp, want_exp) || !strcmp(exp, want_exp2));
    /* The token itself is stored nowhere in the record. */
    char *dump = json_dumps(t, 0);
    assert_null(strstr(dump, tok + 5));
    free(dump);
    char token_id[ID_LEN];
    util_strlcpy(token_id, unit_jstr(t, "id"), sizeof(token_id));
    assert_true(util_is_uuid(token_id));
    json_decref(t);

    struct auth_identity id;
    memset(&id, 0x5a, sizeof(id));
    OK(auth_bearer(f->st, tok, &id, &e));
    assert_false(id.via_session);
    assert_string_equal(id.p.user_id, f->bob);
    assert_string_equal(id.p.org_id, f->org_a);
    assert_string_equal(id.p.token_id, token_id);
    assert_int_equal(id.p.roles, MODEL_ROLE_MEMBER | MODEL_ROLE_ORG_ADMIN);
    /* What a report needs of its author comes with the identity. */
    assert_string_equal(id.p.org_kind, "operator");
    assert_string_equal(id.p.org_name_ja, "Org A");
    assert_string_equal(id.p.org_name_en, "Org A");
    assert_string_equal(id.p.login, "bob");
    assert_string_equal(id.p.display_name, "bob");
    /* The first use is recorded. */
    OK(store_token_get(f->st, token_id, &t, &e));
    assert_true(json_is_string(json_object_get(t, "last_used_at")));
    json_decref(t);

    /* Malformed and unknown tokens. */
    char bad[AUTH_TOKEN_LEN + 2];
    FAILS(ERR_UNAUTH, auth_bearer(f->st, "", &id, &e));
    FAILS(ERR_UNAUTH, auth_bearer(f->st, "isac_short", &id, &e));
    memcpy(bad, tok, sizeof(tok));
    memcpy(bad, "ISAC_", 5);
    FAILS(ERR_UNAUTH, auth_bearer(f->st, bad, &id, &e));
    memcpy(bad, tok, sizeof(tok));
    bad[AUTH_TOKEN_LEN - 1] = bad[AUTH_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
    FAILS(ERR_UNAUTH, auth_bearer(f->st, bad, &id, &e));
    memcpy(bad, tok, sizeof(tok));
    bad[AUTH_TOKEN_LEN] = 'x';
    bad[AUTH_TOKEN_LEN + 1] = '\0';
    FAILS(ERR_UNAUTH, auth_bearer(f->st, bad, &id, &e));
    /* A session cookie is not a token and vice versa. */
    FAILS(ERR_UNAUTH, auth_session(f->st, tok, &id, &e));
    FAILS(ERR_UNAUTH, auth_session(f->st, tok + 5, &id, &e));

    /* Revoked. */
    json_t *upd = json_pack("{s:s,s:s,s:b}", "id", token_id, "name", "ci pipeline", "revoked", 1);
    OK(store_token_update(f->st, upd, &e));
    FAILS(ERR_UNAUTH, auth_bearer(f->st, tok, &id, &e));
    json_decref(upd);

    /* Expired: zero days is expired at once. */
    OK(auth_token_create(f->st, f->alice, "short-lived", 0, tok, &t, &e));
    json_decref(t);
    FAILS(ERR_UNAUTH, auth_bearer(f->st, tok, &id, &e));
    /* A token of a disabled user. */
    OK(auth_token_create(f->st, f->alice, "alice's", 1, tok, &t, &e));
    json_decref(t);
    OK(auth_bearer(f->st, tok, &id, &e));
    set_disabled(f, false, f->alice, true);
    FAILS(ERR_UNAUTH, auth_bearer(f->st, tok, &id, &e));
    /* A token for a missing user is not created. */
    char ghost[ID_LEN];
    util_uuid7(ghost);
    t = NULL;
    err_init(&e);
    assert_int_not_equal(auth_token_create(f->st, ghost, "ghost", 1, tok, &t, &e), 0);
    assert_null(t);
}

static void test_session_expiry(void **state)
{
    struct fx *f = *state;
    struct err e;
    char cookie[AUTH_SECRET_LEN + 1];
    auth_secret_new(cookie);
    uint8_t h[STORE_HASH_LEN];
    auth_secret_hash(cookie, h);
    int64_t now = util_now_ms() / 1000;
    OK(store_session_create(f->st, h, f->alice, "csrf", now - 100, now - 1, &e));
    struct auth_identity id;
    FAILS(ERR_UNAUTH, auth_session(f->st, cookie, &id, &e));
    auth_secret_new(cookie);
    auth_secret_hash(cookie, h);
    OK(store_session_create(f->st, h, f->alice, "csrf", now, now + 60, &e));
    OK(auth_session(f->st, cookie, &id, &e));
    assert_true(id.via_session);
    assert_string_equal(id.p.user_id, f->alice);
    assert_string_equal(id.p.org_kind, "operator");
    assert_string_equal(id.p.org_name_en, "Org A");
    assert_string_equal(id.p.display_name, "alice");
    FAILS(ERR_UNAUTH, auth_session(f->st, "", &id, &e));
    cookie[AUTH_SECRET_LEN - 1] = '\0';
    FAILS(ERR_UNAUTH, auth_session(f->st, cookie, &id, &e));
}

/* ---- decisions ---- */

enum who { ADMIN, AUDITOR, ORGADM, MEMBER, ANALYST, NOROLE, NWHO };
static const char *const who_name[] = {"admin", "auditor", "org_admin", "member", "analyst",
                                       "no role"};

/* admin and auditor in org-a; everyone else in org-b. */
static struct auth_identity ident(enum who w)
{
    static const struct {
        const char *user, *org;
        unsigned roles;
    } t[] = {
        {"u-admin", "org-a", MODEL_ROLE_ADMIN},
        {"u-aud", "org-a", MODEL_ROLE_AUDITOR},
        {"u-oa", "org-b", MODEL_ROLE_ORG_ADMIN | MODEL_ROLE_MEMBER},
        {"u-mem", "org-b", MODEL_ROLE_MEMBER},
        {"u-an", "org-b", MODEL_ROLE_ANALYST | MODEL_ROLE_MEMBER},
        {"u-none", "org-b", 0},
    };
    struct auth_identity id;
    memset(&id, 0, sizeof(id));
    util_strlcpy(id.p.user_id, t[w].user, sizeof(id.p.user_id));
    util_strlcpy(id.p.org_id, t[w].org, sizeof(id.p.org_id));
    id.p.roles = t[w].roles;
    return id;
}

/* Target users: the identity itself, or fixed ones. */
enum target { SELF, B_OTHER, B_HUB, B_AUDITOR, A_MEMBER };
static const char *const target_name[] = {"self", "org-b member", "org-b admin",
                                          "org-b auditor", "org-a member"};

static json_t *target_user(enum target t, const struct auth_identity *id)
{
    switch (t) {
    case SELF: {
        json_t *u = json_pack("{s:s,s:s}", "id", id->p.user_id, "org_id", id->p.org_id);
        json_object_set_new(u, "roles", model_roles_json(id->p.roles));
        return u;
    }
    case B_OTHER: return unit_json("{\"id\":\"u-other\",\"org_id\":\"org-b\",\"roles\":[\"member\"]}");
    case B_HUB: return unit_json("{\"id\":\"u-hub\",\"org_id\":\"org-b\",\"roles\":[\"admin\"]}");
    case B_AUDITOR:
        return unit_json(
            "{\"id\":\"u-baud\",\"org_id\":\"org-b\",\"roles\":[\"member\",\"auditor\"]}");
    case A_MEMBER: return unit_json("{\"id\":\"u-amem\",\"org_id\":\"org-a\",\"roles\":[\"member\"]}");
    }
    return NULL;
}

static void test_decide_orgs(void **state)
{
    (void)state;
    int bad = 0;
    /* read: [who] = {org-a, org-b} */
    static const bool read[NWHO][2] = {
        [ADMIN] = {1, 1}, [AUDITOR] = {1, 1}, [ORGADM] = {0, 1},
        [MEMBER] = {0, 1}, [ANALYST] = {0, 1}, [NOROLE] = {0, 1},
    };
    static const char *const orgs[] = {"org-a", "org-b"};
    for (int w = 0; w < NWHO; w++) {
        struct auth_identity id = ident(w);
        for (int o = 0; o < 2; o++)
            if (auth_can_read_org(&id, orgs[o]) != read[w][o]) {
                print_error("read_org: %s on %s: want %d\n", who_name[w], orgs[o], read[w][o]);
                bad++;
            }
        /* scope: directory readers unrestricted, the rest see their own org */
        struct store_org_filter f = {.kind = "operator"};
        auth_org_scope(&id, &f);
        const char *want = read[w][0] && read[w][1] ? NULL : id.p.org_id;
        if ((want == NULL) != (f.only_id == NULL) || (want && strcmp(want, f.only_id)) ||
            strcmp(f.kind, "operator")) {
            print_error("org_scope: %s: want only_id %s\n", who_name[w], want ? want : "NULL");
            bad++;
        }
        /* A pre-set only_id cannot widen the scope. */
        struct store_org_filter g = {.only_id = "org-a"};
        auth_org_scope(&id, &g);
        if (!read[w][0] && strcmp(g.only_id, "org-b")) {
            print_error("org_scope: %s widened to %s\n", who_name[w], g.only_id);
            bad++;
        }
        bool create = auth_can_create_org(&id), sector = auth_can_write_sector(&id);
        if (create != (w == ADMIN) || sector != (w == ADMIN)) {
            print_error("create_org/write_sector: %s\n", who_name[w]);
            bad++;
        }
    }

    static const struct {
        enum who who;
        const char *org, *patch;
        bool want;
    } upd[] = {
        {ADMIN, "org-b", "{\"tier\":\"class2\",\"disabled\":true,\"kind\":\"vendor\"}", 1},
        {ADMIN, "org-a", "{\"sectors\":[]}", 1},
        {ORGADM, "org-b", "{\"name\":{\"en\":\"B\"}}", 1},
        {ORGADM, "org-b", "{\"contacts\":[]}", 1},
        {ORGADM, "org-b", "{\"name\":{\"ja\":\"B\"},\"contacts\":[]}", 1},
        {ORGADM, "org-b", "{}", 1},
        /* its own organisation's identifiers (issue 4): the org knows what names it */
        {ORGADM, "org-b", "{\"identifiers\":{\"aliases\":[\"B\"]}}", 1},
        {ORGADM, "org-b", "{\"identifiers\":{},\"contacts\":[]}", 1},
        {ORGADM, "org-a", "{\"identifiers\":{}}", 0},
        {ORGADM, "org-b", "{\"identifiers\":{},\"tier\":\"class1\"}", 0},
        {MEMBER, "org-b", "{\"identifiers\":{}}", 0},
        {ANALYST, "org-b", "{\"identifiers\":{}}", 0},
        {ADMIN, "org-b", "{\"identifiers\":{}}", 1},
        {ORGADM, "org-b", "{\"tier\":\"class1\"}", 0},
        {ORGADM, "org-b", "{\"disabled\":false}", 0},
        {ORGADM, "org-b", "{\"kind\":\"vendor\"}", 0},
        {ORGADM, "org-b", "{\"sectors\":[\"ict\"]}", 0},
        {ORGADM, "org-b", "{\"name\":{\"en\":\"B\"},\"tier\":\"class1\"}", 0},
        {ORGADM, "org-a", "{\"name\":{\"en\":\"A\"}}", 0},
        {MEMBER, "org-b", "{\"name\":{\"en\":\"B\"}}", 0},
        {ANALYST, "org-b", "{\"contacts\":[]}", 0},
        {AUDITOR, "org-a", "{\"name\":{\"en\":\"A\"}}", 0},
        {NOROLE, "org-b", "{}", 0},
    };
    for (size_t i = 0; i < sizeof(upd) / sizeof(upd[0]); i++) {
        struct auth_identity id = ident(upd[i].who);
        json_t *patch = unit_json(upd[i].patch);
        if (auth_can_update_org(&id, upd[i].org, patch) != upd[i].want) {
            print_error("update_org: %s on %s with %s: want %d\n", who_name[upd[i].who],
                        upd[i].org, upd[i].patch, upd[i].want);
            bad++;
        }
        json_decref(patch);
    }
    assert_int_equal(bad, 0);
}

static void test_decide_users(void **state)
{
    (void)state;
    int bad = 0;
    /* read: [who][target] */
    static const bool read[NWHO][5] = {
        /*             SELF B_OTHER B_HUB B_AUD A_MEM */
        [ADMIN] = {1, 1, 1, 1, 1},
        [AUDITOR] = {1, 1, 1, 1, 1},
        [ORGADM] = {1, 1, 1, 1, 0},
        [MEMBER] = {1, 0, 0, 0, 0},
        [ANALYST] = {1, 0, 0, 0, 0},
        [NOROLE] = {1, 0, 0, 0, 0},
    };
    for (int w = 0; w < NWHO; w++) {
        struct auth_identity id = ident(w);
        for (int t = 0; t < 5; t++) {
            json_t *u = target_user(t, &id);
            if (auth_can_read_user(&id, u) != read[w][t]) {
                print_error("read_user: %s on %s: want %d\n", who_name[w], target_name[t],
                            read[w][t]);
                bad++;
            }
            json_decref(u);
        }
    }

    /* scope */
    static const struct {
        enum who who;
        const char *ask_org;                 /* f.org_id given by the caller */
        const char *want_org, *want_only;    /* after auth_user_scope */
    } scope[] = {
        {ADMIN, NULL, NULL, NULL},
        {ADMIN, "org-b", "org-b", NULL},
        {AUDITOR, "org-b", "org-b", NULL},
        {ORGADM, NULL, "org-b", NULL},
        {ORGADM, "org-b", "org-b", NULL},
        {ORGADM, "org-a", "org-b", ""}, /* another org's users: none, not one's own */
        {MEMBER, NULL, NULL, "u-mem"},
        {MEMBER, "org-b", "org-b", "u-mem"},
        {ANALYST, NULL, NULL, "u-an"},
        {NOROLE, NULL, NULL, "u-none"},
    };
    for (size_t i = 0; i < sizeof(scope) / sizeof(scope[0]); i++) {
        struct auth_identity id = ident(scope[i].who);
        struct store_user_filter f = {.org_id = scope[i].ask_org, .role = "member"};
        auth_user_scope(&id, &f);
        bool ok = (f.org_id == NULL) == (scope[i].want_org == NULL) &&
                  (!f.org_id || !strcmp(f.org_id, scope[i].want_org)) &&
                  (f.only_id == NULL) == (scope[i].want_only == NULL) &&
                  (!f.only_id || !strcmp(f.only_id, scope[i].want_only)) &&
                  !strcmp(f.role, "member");
        if (!ok) {
            print_error("user_scope %zu: %s asking %s: got org %s only %s\n", i,
                        who_name[scope[i].who], scope[i].ask_org ? scope[i].ask_org : "NULL",
                        f.org_id ? f.org_id : "NULL", f.only_id ? f.only_id : "NULL");
            bad++;
        }
    }

    /* create */
    static const struct {
        enum who who;
        const char *org;
        unsigned roles;
        bool want;
    } create[] = {
        {ADMIN, "org-b", MODEL_ROLE_ADMIN, 1},
        {ADMIN, "org-a", MODEL_ROLE_AUDITOR | MODEL_ROLE_MEMBER, 1},
        {ORGADM, "org-b", MODEL_ROLE_MEMBER, 1},
        {ORGADM, "org-b", MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST | MODEL_ROLE_ORG_ADMIN, 1},
        {ORGADM, "org-b", MODEL_ROLE_ADMIN, 0},
        {ORGADM, "org-b", MODEL_ROLE_AUDITOR, 0},
        {ORGADM, "org-b", MODEL_ROLE_MEMBER | MODEL_ROLE_AUDITOR, 0},
        {ORGADM, "org-a", MODEL_ROLE_MEMBER, 0},
        {MEMBER, "org-b", MODEL_ROLE_MEMBER, 0},
        {ANALYST, "org-b", MODEL_ROLE_MEMBER, 0},
        {AUDITOR, "org-a", MODEL_ROLE_MEMBER, 0},
        {NOROLE, "org-b", MODEL_ROLE_MEMBER, 0},
    };
    for (size_t i = 0; i < sizeof(create) / sizeof(create[0]); i++) {
        struct auth_identity id = ident(create[i].who);
        if (auth_can_create_user(&id, create[i].org, create[i].roles) != create[i].want) {
            print_error("create_user: %s in %s roles %#x: want %d\n", who_name[create[i].who],
                        create[i].org, create[i].roles, create[i].want);
            bad++;
        }
    }

    /* update */
    static const struct {
        enum who who;
        enum target target;
        const char *patch;
        bool want;
    } upd[] = {
        {ADMIN, A_MEMBER, "{\"roles\":[\"admin\"]}", 1},
        {ADMIN, B_HUB, "{\"disabled\":true}", 1},
        {ADMIN, SELF, "{\"roles\":[\"member\"]}", 1},
        {ORGADM, B_OTHER, "{\"roles\":[\"analyst\",\"member\"]}", 1},
        {ORGADM, B_OTHER, "{\"disabled\":true}", 1},
        {ORGADM, B_OTHER, "{\"password\":\"a long new password\"}", 1},
        {ORGADM, B_OTHER, "{\"display_name\":\"X\",\"locale\":\"en\"}", 1},
        {ORGADM, B_OTHER, "{\"roles\":[\"admin\"]}", 0},
        {ORGADM, B_OTHER, "{\"roles\":[\"member\",\"auditor\"]}", 0},
        {ORGADM, B_HUB, "{\"display_name\":\"X\"}", 0},
        {ORGADM, B_HUB, "{\"disabled\":true}", 0},
        {ORGADM, B_AUDITOR, "{\"roles\":[\"member\"]}", 0},
        {ORGADM, A_MEMBER, "{\"display_name\":\"X\"}", 0},
        {ORGADM, SELF, "{\"display_name\":\"X\"}", 1},
        {ORGADM, SELF, "{\"roles\":[\"admin\"]}", 0},
        {MEMBER, SELF, "{\"display_name\":\"X\",\"locale\":\"en\",\"email\":null}", 1},
        {MEMBER, SELF, "{}", 1},
        {MEMBER, SELF, "{\"roles\":[\"admin\"]}", 0},
        {MEMBER, SELF, "{\"roles\":[\"member\"]}", 0},
        {MEMBER, SELF, "{\"disabled\":false}", 0},
        {MEMBER, SELF, "{\"password\":\"a long new password\"}", 0},
        {MEMBER, SELF, "{\"display_name\":\"X\",\"roles\":[\"member\"]}", 0},
        {MEMBER, B_OTHER, "{\"display_name\":\"X\"}", 0},
        {ANALYST, B_OTHER, "{\"display_name\":\"X\"}", 0},
        {AUDITOR, SELF, "{\"email\":\"a@b.jp\"}", 1},
        {AUDITOR, A_MEMBER, "{\"display_name\":\"X\"}", 0},
        {AUDITOR, B_OTHER, "{\"disabled\":true}", 0},
        {NOROLE, SELF, "{\"locale\":\"ja\"}", 1},
        {NOROLE, B_OTHER, "{\"locale\":\"ja\"}", 0},
    };
    for (size_t i = 0; i < sizeof(upd) / sizeof(upd[0]); i++) {
        struct auth_identity id = ident(upd[i].who);
        json_t *u = target_user(upd[i].target, &id);
        json_t *patch = unit_json(upd[i].patch);
        if (auth_can_update_user(&id, u, patch) != upd[i].want) {
            print_error("update_user %zu: %s on %s with %s: want %d\n", i, who_name[upd[i].who],
                        target_name[upd[i].target], upd[i].patch, upd[i].want);
            bad++;
        }
        json_decref(patch);
        json_decref(u);
    }
    assert_int_equal(bad, 0);
}

static void test_decide_tokens(void **state)
{
    (void)state;
    int bad = 0;
    /* manage: [who][target] */
    static const bool manage[NWHO][5] = {
        /*             SELF B_OTHER B_HUB B_AUD A_MEM */
        [ADMIN] = {1, 1, 1, 1, 1},
        [AUDITOR] = {1, 0, 0, 0, 0},
        [ORGADM] = {1, 1, 0, 0, 0},
        [MEMBER] = {1, 0, 0, 0, 0},
        [ANALYST] = {1, 0, 0, 0, 0},
        [NOROLE] = {1, 0, 0, 0, 0},
    };
    for (int w = 0; w < NWHO; w++) {
        struct auth_identity id = ident(w);
        for (int t = 0; t < 5; t++) {
            json_t *u = target_user(t, &id);
            if (auth_can_manage_token(&id, u) != manage[w][t]) {
                print_error("manage_token: %s on %s's: want %d\n", who_name[w], target_name[t],
                            manage[w][t]);
                bad++;
            }
            json_decref(u);
        }
    }
    static const struct {
        enum who who;
        const char *ask_user;
        const char *want_user, *want_org;
    } scope[] = {
        {ADMIN, NULL, NULL, NULL},
        {ADMIN, "u-other", "u-other", NULL},
        {ORGADM, NULL, NULL, "org-b"},
        {ORGADM, "u-other", "u-other", "org-b"},
        {ORGADM, "u-amem", "u-amem", "org-b"}, /* other org's user: empty by the org filter */
        {MEMBER, NULL, "u-mem", NULL},
        {MEMBER, "u-other", "u-mem", NULL},
        {ANALYST, NULL, "u-an", NULL},
        {AUDITOR, NULL, "u-aud", NULL},
        {AUDITOR, "u-amem", "u-aud", NULL},
    };
    for (size_t i = 0; i < sizeof(scope) / sizeof(scope[0]); i++) {
        struct auth_identity id = ident(scope[i].who);
        struct store_token_filter f = {.user_id = scope[i].ask_user};
        auth_token_scope(&id, &f);
        bool ok = (f.user_id == NULL) == (scope[i].want_user == NULL) &&
                  (!f.user_id || !strcmp(f.user_id, scope[i].want_user)) &&
                  (f.org_id == NULL) == (scope[i].want_org == NULL) &&
                  (!f.org_id || !strcmp(f.org_id, scope[i].want_org));
        if (!ok) {
            print_error("token_scope %zu: %s: got user %s org %s\n", i, who_name[scope[i].who],
                        f.user_id ? f.user_id : "NULL", f.org_id ? f.org_id : "NULL");
            bad++;
        }
    }
    /* auth_has / auth_is_admin */
    struct auth_identity id = ident(ANALYST);
    if (!auth_has(&id, MODEL_ROLE_ANALYST) || !auth_has(&id, MODEL_ROLE_MEMBER) ||
        auth_has(&id, MODEL_ROLE_ADMIN) || auth_is_admin(&id))
        bad++;
    id = ident(ADMIN);
    if (!auth_is_admin(&id) || auth_has(&id, MODEL_ROLE_MEMBER))
        bad++;
    assert_int_equal(bad, 0);
}

/* ---- reports ---- */

/* Role sets of the report table, and organisation kinds. */
enum rrole { RR_ADMIN, RR_AUDITOR, RR_ORGADM, RR_MEMBER, RR_ANALYST, RR_AUD_MEM, RR_ADMIN_AUD,
             RR_NONE, NRROLES };
static const struct {
    const char *name;
    unsigned roles;
} rrole_def[NRROLES] = {
    [RR_ADMIN] = {"admin", MODEL_ROLE_ADMIN},
    [RR_AUDITOR] = {"auditor", MODEL_ROLE_AUDITOR},
    [RR_ORGADM] = {"org_admin+member", MODEL_ROLE_ORG_ADMIN | MODEL_ROLE_MEMBER},
    [RR_MEMBER] = {"member", MODEL_ROLE_MEMBER},
    [RR_ANALYST] = {"analyst", MODEL_ROLE_ANALYST},
    [RR_AUD_MEM] = {"auditor+member", MODEL_ROLE_AUDITOR | MODEL_ROLE_MEMBER},
    [RR_ADMIN_AUD] = {"admin+auditor", MODEL_ROLE_ADMIN | MODEL_ROLE_AUDITOR},
    [RR_NONE] = {"no role", 0},
};
enum rkind { K_OPERATOR, K_COORD, K_HUB, K_MINISTRY, K_VENDOR, NRKINDS };
static const char *const rkind_name[NRKINDS] = {"operator", "coordinator", "sector_hub",
                                                "ministry", "vendor"};

static struct auth_identity rident(enum rrole r, enum rkind k, const char *org)
{
    struct auth_identity id;
    memset(&id, 0, sizeof(id));
    util_strlcpy(id.p.user_id, "u-x", sizeof(id.p.user_id));
    util_strlcpy(id.p.org_id, org, sizeof(id.p.org_id));
    util_strlcpy(id.p.org_kind, rkind_name[k], sizeof(id.p.org_kind));
    id.p.roles = rrole_def[r].roles;
    return id;
}

/*
 * Every report decision of one identity as a word:
 *   access: "-" none, "o" own org, "oa" + all submitted;
 *   c/. file reports, r/. revise its own org's report, s/. submit near-miss counts,
 *   near-miss list scope N- (nothing), N* (all orgs), No (own org),
 *   T/. near-miss totals, W/. write regimes.
 */
static void report_decisions(const struct auth_identity *id, char *out, size_t n)
{
    struct store_report_access acc;
    memset(&acc, 0x5a, sizeof(acc));
    auth_report_access(id, &acc);
    char a[8] = "?";
    if (acc.none && acc.org_id == NULL && !acc.all)
        strcpy(a, "-");
    else if (!acc.none && acc.org_id && !strcmp(acc.org_id, id->p.org_id))
        snprintf(a, sizeof(a), "o%s", acc.all ? "a" : "");
    json_t *own = json_pack("{s:s}", "org_id", id->p.org_id);
    const char *scope = auth_nearmiss_scope(id);
    snprintf(out, n, "%s %c%c%c %s %c%c", a, auth_can_create_report(id) ? 'c' : '.',
             auth_can_revise_report(id, own) ? 'r' : '.',
             auth_can_submit_nearmiss(id) ? 's' : '.',
             scope == NULL                         ? "N*"
             : *scope == '\0'                      ? "N-"
             : !strcmp(scope, id->p.org_id)        ? "No"
                                                   : "N?",
             auth_can_read_nearmiss_totals(id) ? 'T' : '.', auth_can_write_regime(id) ? 'W' : '.');
    json_decref(own);
}

static void test_decide_reports(void **state)
{
    (void)state;
    /* [role][kind]: operator, coordinator, sector_hub, ministry, vendor */
    static const char *const want[NRROLES][NRKINDS] = {
        [RR_ADMIN] = {"o ... No .W", "oa ... N* TW", "o ... No .W", "o ... No .W", "o ... No .W"},
        [RR_AUDITOR] = {"- ... N- ..", "- ... N- ..", "- ... N- ..", "- ... N- ..", "- ... N- .."},
        [RR_ORGADM] = {"o crs No ..", "oa crs N* T.", "o crs No ..", "o crs No ..",
                       "o crs No .."},
        [RR_MEMBER] = {"o crs No ..", "oa crs N* T.", "o crs No ..", "o crs No ..",
                       "o crs No .."},
        [RR_ANALYST] = {"o crs No ..", "oa crs N* T.", "o crs No ..", "o crs No ..",
                        "o crs No .."},
        [RR_AUD_MEM] = {"o crs No ..", "oa crs N* T.", "o crs No ..", "o crs No ..",
                        "o crs No .."},
        [RR_ADMIN_AUD] = {"o ... No .W", "oa ... N* TW", "o ... No .W", "o ... No .W",
                          "o ... No .W"},
        [RR_NONE] = {"- ... N- ..", "- ... N- ..", "- ... N- ..", "- ... N- ..", "- ... N- .."},
    };
    int bad = 0;
    for (int r = 0; r < NRROLES; r++)
        for (int k = 0; k < NRKINDS; k++) {
            struct auth_identity id = rident(r, k, "org-x");
            char got[64];
            report_decisions(&id, got, sizeof(got));
            if (strcmp(got, want[r][k])) {
                print_error("%s in a %s: want '%s', got '%s'\n", rrole_def[r].name,
                            rkind_name[k], want[r][k], got);
                bad++;
            }
            /* another organisation's report is never revised, whatever the role or kind */
            json_t *other = json_pack("{s:s}", "org_id", "org-y");
            if (auth_can_revise_report(&id, other)) {
                print_error("%s in a %s may revise another org's report\n", rrole_def[r].name,
                            rkind_name[k]);
                bad++;
            }
            json_decref(other);
            json_t *noorg = json_object();
            if (auth_can_revise_report(&id, noorg))
                bad++;
            json_decref(noorg);
        }
    assert_int_equal(bad, 0);
}

/* A report as the store returns it, with a contact and revisions that changed it. */
static json_t *redact_fixture(const char *org)
{
    json_t *r = unit_jsonq(
        "{'id':'r1','title':'T','contact':{'name':'Sato','email':'sato@example.jp',"
        "'phone':null},'description':'d','revisions':["
        "{'n':1,'stage':'first','changes':[{'field':'title','before':null,'after':'T'},"
        "{'field':'contact','before':null,'after':{'name':'Sato','email':'sato@example.jp',"
        "'phone':null}},{'field':'share_with_hub','before':null,'after':true}]},"
        "{'n':2,'stage':'update','changes':[{'field':'contact','before':{'name':'Sato'},"
        "'after':{'name':'Suzuki'}}]},"
        "{'n':3,'stage':'final','changes':[]}]}");
    json_object_set_new(r, "org_id", json_string(org));
    return r;
}

static void test_report_redact(void **state)
{
    (void)state;
    static const struct {
        enum rkind kind;
        bool own;   /* the viewer is of the reporting organisation */
        bool keeps; /* the contact stays */
    } cases[] = {
        {K_OPERATOR, true, true},   {K_COORD, true, true},     {K_HUB, true, true},
        {K_MINISTRY, true, true},   {K_COORD, false, true},    {K_HUB, false, false},
        {K_MINISTRY, false, false}, {K_OPERATOR, false, false}, {K_VENDOR, false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int r = 0; r < NRROLES; r++) {
            struct auth_identity id = rident(r, cases[i].kind, "org-v");
            json_t *rep = redact_fixture(cases[i].own ? "org-v" : "org-rep");
            json_t *orig = json_deep_copy(rep);
            auth_report_redact(&id, rep);
            if (cases[i].keeps) {
                if (!json_equal(rep, orig))
                    print_error("%s %s viewer changed the report\n", rkind_name[cases[i].kind],
                                cases[i].own ? "own" : "other");
                assert_true(json_equal(rep, orig));
            } else {
                /* the contact and every change of it go; the rest stays as it was */
                json_t *want = json_deep_copy(orig);
                json_object_del(want, "contact");
                json_t *revs = json_object_get(want, "revisions");
                json_array_remove(json_object_get(json_array_get(revs, 0), "changes"), 1);
                json_array_remove(json_object_get(json_array_get(revs, 1), "changes"), 0);
                if (!json_equal(rep, want)) {
                    char *g = json_dumps(rep, JSON_COMPACT);
                    print_error("%s viewer: got %s\n", rkind_name[cases[i].kind], g);
                    free(g);
                }
                assert_true(json_equal(rep, want));
                json_decref(want);
            }
            json_decref(orig);
            json_decref(rep);
        }
    /* Without revisions, or without a contact. */
    struct auth_identity hub = rident(RR_MEMBER, K_HUB, "org-h");
    json_t *rep = unit_jsonq("{'id':'r','org_id':'org-rep','title':'T','contact':null}");
    auth_report_redact(&hub, rep);
    assert_jsonq_eq(rep, "{'id':'r','org_id':'org-rep','title':'T'}");
    json_decref(rep);
    rep = unit_jsonq("{'id':'r','org_id':'org-rep','title':'T'}");
    auth_report_redact(&hub, rep);
    assert_jsonq_eq(rep, "{'id':'r','org_id':'org-rep','title':'T'}");
    json_decref(rep);
}

/* The decisions end to end: access built by auth, applied by the store. */
static void test_report_access_store(void **state)
{
    struct fx *f = *state;
    struct err e;
    /* a reporter in electricity, and one organisation of each kind in electricity */
    static const enum rkind kinds[] = {K_OPERATOR, K_COORD, K_HUB, K_MINISTRY};
    char org[4][ID_LEN];
    for (int i = 0; i < 4; i++) {
        util_uuid7(org[i]);
        json_t *o = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:[s],s:[],s:b}", "id", org[i], "name",
                              "ja", rkind_name[kinds[i]], "en", rkind_name[kinds[i]], "kind",
                              rkind_name[kinds[i]], "tier", "class1", "sectors", "electricity",
                              "contacts", "disabled", 0);
        OK(store_org_create(f->st, o, &e));
        json_decref(o);
    }
    char reporter[ID_LEN];
    new_user(f, org[0], "rep", "[\"member\"]", NULL, reporter);
    static const char *const ids[] = {"01900000-0000-7000-8000-000000000001",
                                      "01900000-0000-7000-8000-000000000002"};
    for (int i = 0; i < 2; i++) {
        json_t *c = unit_jsonq("{'kind':'incident','event_type':'malware','title':'T',"
                               "'sectors':['electricity'],'status':'open','basis':'law',"
                               "'share_with_hub':true,'severity':{},"
                               "'contact':{'name':'Sato','email':null,'phone':null}}");
        const char *stage = i ? "draft" : "first";
        json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O,s:b}", "id", ids[i], "org_id", org[0],
                                "created_by", reporter, "stage", stage, "revision", 1, "content",
                                c, "submitted", !i);
        json_t *rev = json_pack("{s:i,s:s,s:s,s:n,s:[]}", "n", 1, "stage", stage, "user_id",
                                reporter, "reason", "changes");
        OK(store_report_create(f->st, row, rev, NULL, NULL, &e));
        json_decref(rev);
        json_decref(row);
        json_decref(c);
    }
    /* visible reports [kind index][role] */
    for (int k = 0; k < 4; k++)
        for (int r = 0; r < NRROLES; r++) {
            struct auth_identity id = rident(r, kinds[k], org[k]);
            struct store_report_access acc;
            auth_report_access(&id, &acc);
            struct store_report_filter flt = {.min_severity = -1};
            struct store_page pg = {.limit = 50};
            json_t *arr = NULL;
            OK(store_report_list(f->st, &acc, &flt, &pg, &arr, &e));
            bool content = rrole_def[r].roles & (MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST |
                                                 MODEL_ROLE_ORG_ADMIN | MODEL_ROLE_ADMIN);
            /* the provider sees both, the coordinator the submitted one, nobody else any */
            size_t want = !content ? 0 : k == 0 ? 2 : kinds[k] == K_COORD ? 1 : 0;
            if (json_array_size(arr) != want)
                print_error("%s in the %s: sees %zu, want %zu\n", rrole_def[r].name,
                            rkind_name[kinds[k]], json_array_size(arr), want);
            assert_int_equal(json_array_size(arr), want);
            json_decref(arr);
            if (want == 0)
                continue;
            /* the submitted one in full, redacted for this reader */
            json_t *rep = NULL;
            OK(store_report_get(f->st, &acc, ids[0], true, &rep, &e));
            auth_report_redact(&id, rep);
            bool keeps = kinds[k] == K_OPERATOR || kinds[k] == K_COORD;
            assert_int_equal(json_object_get(rep, "contact") != NULL, keeps);
            json_decref(rep);
        }
}

/* ---- releases (issue 4) ---- */

/* Every release decision of one identity (org "org-x") as a word:
 *   access: "-" none, "a" every release (the coordinator), "o" its own past draft + keys;
 *   A/. coordinator analyst, D/. decides its own org's releases,
 *   R/. reads anonymizer rules, W/. writes them,
 *   I/. reads its own org's identifiers, i/. another org's. */
static void release_decisions(const struct auth_identity *id, char *out, size_t n)
{
    struct store_release_access acc;
    memset(&acc, 0x5a, sizeof(acc));
    auth_release_access(id, &acc);
    const char *a = "?";
    if (acc.none && !acc.all && acc.org_id == NULL && acc.nkeys == 0)
        a = "-";
    else if (!acc.none && acc.org_id && !strcmp(acc.org_id, id->p.org_id))
        a = acc.all ? "a" : "o";
    snprintf(out, n, "%s %c%c %c%c %c%c", a, auth_is_coordinator_analyst(id) ? 'A' : '.',
             auth_can_decide_release(id, id->p.org_id) ? 'D' : '.',
             auth_can_read_anon_rules(id) ? 'R' : '.', auth_can_write_anon_rules(id) ? 'W' : '.',
             auth_can_read_org_identifiers(id, id->p.org_id) ? 'I' : '.',
             auth_can_read_org_identifiers(id, "org-y") ? 'i' : '.');
}

static void test_decide_releases(void **state)
{
    (void)state;
    /*
     * [role][kind]: operator, coordinator, sector_hub, ministry, vendor.
     * Releases: the coordinator's content roles see all; everyone else with a content
     * role its own and what is targeted at it. Approving is for the provider's users who
     * may file its reports (members, analysts, org_admins); preparing, and reading the rules, for the
     * coordinator's analysts and admins; writing the rules for admins. Identifiers: the
     * org's own users, the coordinator's content roles and admins.
     */
    static const char *const want[NRROLES][NRKINDS] = {
        [RR_ADMIN] = {"o .. RW Ii", "a A. RW Ii", "o .. RW Ii", "o .. RW Ii", "o .. RW Ii"},
        [RR_AUDITOR] = {"- .. .. I.", "- .. .. I.", "- .. .. I.", "- .. .. I.", "- .. .. I."},
        [RR_ORGADM] = {"o .D .. I.", "a .D .. Ii", "o .D .. I.", "o .D .. I.", "o .D .. I."},
        [RR_MEMBER] = {"o .D .. I.", "a .D .. Ii", "o .D .. I.", "o .D .. I.", "o .D .. I."},
        [RR_ANALYST] = {"o .D .. I.", "a AD R. Ii", "o .D .. I.", "o .D .. I.", "o .D .. I."},
        [RR_AUD_MEM] = {"o .D .. I.", "a .D .. Ii", "o .D .. I.", "o .D .. I.", "o .D .. I."},
        [RR_ADMIN_AUD] = {"o .. RW Ii", "a A. RW Ii", "o .. RW Ii", "o .. RW Ii", "o .. RW Ii"},
        [RR_NONE] = {"- .. .. I.", "- .. .. I.", "- .. .. I.", "- .. .. I.", "- .. .. I."},
    };
    int bad = 0;
    for (int r = 0; r < NRROLES; r++)
        for (int k = 0; k < NRKINDS; k++) {
            struct auth_identity id = rident(r, k, "org-x");
            char got[64];
            release_decisions(&id, got, sizeof(got));
            if (strcmp(got, want[r][k])) {
                print_error("%s in a %s: want '%s', got '%s'\n", rrole_def[r].name,
                            rkind_name[k], want[r][k], got);
                bad++;
            }
            /* nobody decides another organisation's release, or one without a provider */
            if (auth_can_decide_release(&id, "org-y") || auth_can_decide_release(&id, NULL)) {
                print_error("%s in a %s decides another org's release\n", rrole_def[r].name,
                            rkind_name[k]);
                bad++;
            }
        }
    assert_int_equal(bad, 0);
}

/* The keys of an access, sorted, comma-separated. */
static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void keys_str(const struct store_release_access *acc, char *out, size_t n)
{
    const char *k[STORE_RELEASE_KEYS_MAX];
    int nk = acc->nkeys < STORE_RELEASE_KEYS_MAX ? acc->nkeys : STORE_RELEASE_KEYS_MAX;
    for (int i = 0; i < nk; i++)
        k[i] = acc->keys[i];
    qsort(k, (size_t)nk, sizeof(k[0]), cmp_cstr);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < nk && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "", k[i]);
}

static void test_release_keys(void **state)
{
    (void)state;
    static const struct {
        enum rrole role;
        enum rkind kind;
        const char *tier, *sectors, *want;
    } cases[] = {
        /* a hub reaches its sectors as a member and as their hub */
        {RR_MEMBER, K_HUB, "general", "electricity,gas,ict",
         "all,hub:electricity,hub:gas,hub:ict,org:org-x,sector:electricity,sector:gas,"
         "sector:ict,tier:general"},
        {RR_ORGADM, K_HUB, "general", "gas", "all,hub:gas,org:org-x,sector:gas,tier:general"},
        {RR_MEMBER, K_HUB, "general", "", "all,org:org-x,tier:general"},
        /* a ministry of the same sectors is no hub */
        {RR_MEMBER, K_MINISTRY, "class2", "electricity,gas",
         "all,org:org-x,sector:electricity,sector:gas,tier:class2"},
        {RR_ANALYST, K_OPERATOR, "class1", "electricity",
         "all,org:org-x,sector:electricity,tier:class1"},
        /* no tier: no tier key */
        {RR_MEMBER, K_VENDOR, "", "ict", "all,org:org-x,sector:ict"},
        {RR_ADMIN, K_OPERATOR, "", "", "all,org:org-x"},
        /* the coordinator sees all, and has keys like everyone for its inbox */
        {RR_ANALYST, K_COORD, "class1", "", "all,org:org-x,tier:class1"},
        /* no content role: nothing at all */
        {RR_AUDITOR, K_HUB, "general", "electricity,gas", ""},
        {RR_NONE, K_COORD, "class1", "", ""},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct auth_identity id = rident(cases[i].role, cases[i].kind, "org-x");
        util_strlcpy(id.p.org_tier, cases[i].tier, sizeof(id.p.org_tier));
        util_strlcpy(id.p.org_sectors, cases[i].sectors, sizeof(id.p.org_sectors));
        struct store_release_access acc;
        memset(&acc, 0x5a, sizeof(acc));
        auth_release_access(&id, &acc);
        char got[1024];
        keys_str(&acc, got, sizeof(got));
        if (strcmp(got, cases[i].want)) {
            print_error("keys %zu: want '%s'\n  got '%s'\n", i, cases[i].want, got);
            bad++;
        }
        /* the identity's sectors are left as they were (the keys are built on a copy) */
        if (strcmp(id.p.org_sectors, cases[i].sectors))
            bad++;
    }
    assert_int_equal(bad, 0);

    /*
     * A hub with as many sectors as an organisation may have (LIMIT_SECTORS) and a tier
     * still reaches every one of them, as a member and as their hub: no key may be dropped.
     */
    struct auth_identity hub = rident(RR_MEMBER, K_HUB, "01900000-0000-7000-8000-000000000001");
    util_strlcpy(hub.p.org_tier, "general", sizeof(hub.p.org_tier));
    size_t used = 0;
    for (int s = 0; s < LIMIT_SECTORS; s++) {
        /* the longest codes there are */
        char code[LIMIT_SECTOR_CODE + 1];
        snprintf(code, sizeof(code), "s%02d_%0*d", s, LIMIT_SECTOR_CODE - 4, 0);
        used += (size_t)snprintf(hub.p.org_sectors + used, sizeof(hub.p.org_sectors) - used,
                                 "%s%s", s ? "," : "", code);
    }
    assert_true(used < sizeof(hub.p.org_sectors));
    struct store_release_access acc;
    auth_release_access(&hub, &acc);
    int need = 3 + 2 * LIMIT_SECTORS; /* all, org, tier; sector and hub per sector */
    if (acc.nkeys != need)
        print_error("a hub with %d sectors has %d keys, needs %d (STORE_RELEASE_KEYS_MAX %d)\n",
                    LIMIT_SECTORS, acc.nkeys, need, STORE_RELEASE_KEYS_MAX);
    /* every key whole: none cut short by STORE_RELEASE_KEY_LEN */
    for (int i = 0; i < acc.nkeys && i < STORE_RELEASE_KEYS_MAX; i++)
        if (strlen(acc.keys[i]) >= STORE_RELEASE_KEY_LEN - 1 ||
            (!strncmp(acc.keys[i], "hub:", 4) && strlen(acc.keys[i]) != 4 + LIMIT_SECTOR_CODE) ||
            (!strncmp(acc.keys[i], "org:", 4) && strlen(acc.keys[i]) != 4 + UTIL_UUID_LEN)) {
            print_error("key cut short: %s\n", acc.keys[i]);
            bad++;
        }
    assert_int_equal(bad, 0);
    assert_int_equal(acc.nkeys, need);
}

/* auth_release_targets as one string, in its order. */
static void targets_of(const char *audience, const char *provider_sectors, char *out, size_t n)
{
    json_t *aud = audience ? unit_jsonq(audience) : NULL;
    json_t *ps = provider_sectors ? unit_jsonq(provider_sectors) : NULL;
    json_t *t = auth_release_targets(aud, "org-p", ps);
    assert_true(json_is_array(t));
    size_t used = 0, i;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(t, i, v)
    {
        assert_true(json_is_string(v));
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "",
                                 json_string_value(v));
    }
    json_decref(t);
    json_decref(ps);
    json_decref(aud);
}

static void test_release_targets(void **state)
{
    (void)state;
    static const struct {
        const char *audience, *provider_sectors, *want;
    } cases[] = {
        /* the provider always; nothing else for the coordinator-only audience */
        {"{'hub':false,'orgs':[],'sectors':[],'tiers':[],'all_members':false}",
         "['electricity']", "org:org-p"},
        {"{}", "['electricity']", "org:org-p"},
        {NULL, NULL, "org:org-p"},
        /* all members collapses: narrower keys add nothing */
        {"{'hub':true,'orgs':['org-a'],'sectors':['gas'],'tiers':['class1'],'all_members':true}",
         "['electricity']", "org:org-p,all"},
        {"{'all_members':true}", NULL, "org:org-p,all"},
        /* named organisations, sectors, tiers */
        {"{'hub':false,'orgs':['org-a','org-b'],'sectors':['gas','ict'],'tiers':['class2'],"
         "'all_members':false}",
         "['electricity']", "org:org-p,org:org-a,org:org-b,sector:gas,sector:ict,tier:class2"},
        {"{'tiers':['class1','general']}", "[]", "org:org-p,tier:class1,tier:general"},
        /* the hub: the hubs of the provider's sectors, not the audience's */
        {"{'hub':true,'orgs':[],'sectors':['gas'],'tiers':[],'all_members':false}",
         "['electricity','ict']", "org:org-p,sector:gas,hub:electricity,hub:ict"},
        {"{'hub':true}", "[]", "org:org-p"},
        {"{'hub':true}", NULL, "org:org-p"},
        {"{'hub':false,'sectors':[]}", "['electricity']", "org:org-p"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char got[512];
        targets_of(cases[i].audience, cases[i].provider_sectors, got, sizeof(got));
        if (strcmp(got, cases[i].want)) {
            print_error("targets %zu: want '%s'\n  got '%s'\n", i, cases[i].want, got);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    /* the provider named again: it still reaches it (a repeated key is harmless) */
    char got[512];
    targets_of("{'orgs':['org-p']}", "[]", got, sizeof(got));
    assert_non_null(strstr(got, "org:org-p"));
}

/* A release as the store returns it to the coordinator. */
static json_t *release_fixture(const char *org)
{
    json_t *r = unit_jsonq(
        "{'id':'rel-1','report_id':'rep-1','version':2,'state':'published',"
        "'report_revision':3,'content':{'title':'[org] hit','provider':{'ja':'x','en':'y'}},"
        "'redactions':[{'id':'r1','field':'title','start':0,'end':4,'original':'Toto',"
        "'placeholder':'[org]','rule':'org:name','kind':'org'}],"
        "'audience':{'hub':true,'orgs':[],'sectors':[],'tiers':[],'all_members':false},"
        "'tlp':'AMBER','purpose':'defence','handling':null,'created_at':'2026-05-01T00:00:00Z',"
        "'created_by':'u-c','updated_at':'2026-05-02T00:00:00Z',"
        "'submitted_at':'2026-05-01T01:00:00Z','submitted_by':'u-c',"
        "'decided_at':'2026-05-01T02:00:00Z','decided_by':'u-p','decision_note':'ok',"
        "'published_at':'2026-05-02T00:00:00Z','published_by':'u-c','pub_seq':7,"
        "'withdrawn_at':null,'withdrawn_by':null,'withdrawn_reason':null}");
    json_object_set_new(r, "org_id", json_string(org));
    return r;
}

static void test_release_redact(void **state)
{
    (void)state;
    int bad = 0;
    for (int k = 0; k < NRKINDS; k++)
        for (int r = 0; r < NRROLES; r++)
            for (int own = 0; own < 2; own++) {
                struct auth_identity id = rident(r, k, "org-v");
                json_t *rel = release_fixture(own ? "org-v" : "org-p");
                json_t *orig = json_deep_copy(rel);
                auth_release_redact(&id, rel);
                /* the coordinator and the provider see everything */
                bool whole = k == K_COORD || own;
                json_t *want = json_deep_copy(orig);
                if (!whole) {
                    json_t *cut = json_object();
                    static const char *const keep[] = {"id",      "version",  "state",
                                                       "content", "tlp",      "purpose",
                                                       "handling", "published_at"};
                    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
                        json_object_set(cut, keep[i], json_object_get(orig, keep[i]));
                    json_decref(want);
                    want = cut;
                }
                if (!json_equal(rel, want)) {
                    char *g = json_dumps(rel, JSON_COMPACT | JSON_SORT_KEYS);
                    print_error("%s in a %s (%s): got %s\n", rrole_def[r].name, rkind_name[k],
                                own ? "provider" : "recipient", g);
                    free(g);
                    bad++;
                }
                json_decref(want);
                json_decref(orig);
                json_decref(rel);
            }
    assert_int_equal(bad, 0);
    /* a recipient's view has exactly these keys, the time as the store gave it */
    struct auth_identity hub = rident(RR_MEMBER, K_HUB, "org-h");
    json_t *rel = release_fixture("org-p");
    auth_release_redact(&hub, rel);
    assert_int_equal(json_object_size(rel), 8);
    assert_string_equal(json_string_value(json_object_get(rel, "published_at")),
                        "2026-05-02T00:00:00Z");
    json_decref(rel);
    /* a release without an org_id is nobody's own: redacted */
    rel = release_fixture("org-p");
    json_object_del(rel, "org_id");
    auth_release_redact(&hub, rel);
    assert_int_equal(json_object_size(rel), 8);
    json_decref(rel);
}

static void test_org_identifiers(void **state)
{
    (void)state;
    int bad = 0;
    for (int k = 0; k < NRKINDS; k++)
        for (int r = 0; r < NRROLES; r++)
            for (int own = 0; own < 2; own++) {
                struct auth_identity id = rident(r, k, "org-v");
                json_t *org = unit_jsonq("{'name':{'ja':'A','en':'A'},'identifiers':"
                                         "{'aliases':['Toto'],'domains':[],'ip_ranges':[],"
                                         "'hostnames':[],'persons':[]}}");
                json_object_set_new(org, "id", json_string(own ? "org-v" : "org-o"));
                bool may = auth_can_read_org_identifiers(&id, own ? "org-v" : "org-o");
                bool want = own || (rrole_def[r].roles & MODEL_ROLE_ADMIN) ||
                            (k == K_COORD && (rrole_def[r].roles &
                                              (MODEL_ROLE_MEMBER | MODEL_ROLE_ANALYST |
                                               MODEL_ROLE_ORG_ADMIN)));
                auth_org_redact(&id, org);
                bool kept = json_object_get(org, "identifiers") != NULL;
                if (may != want || kept != want) {
                    print_error("%s in a %s, %s org: may %d kept %d, want %d\n",
                                rrole_def[r].name, rkind_name[k], own ? "own" : "another", may,
                                kept, want);
                    bad++;
                }
                /* nothing else goes */
                if (!json_object_get(org, "name") || !json_object_get(org, "id"))
                    bad++;
                json_decref(org);
            }
    /* an org without an id, or without identifiers */
    struct auth_identity admin = rident(RR_ADMIN, K_OPERATOR, "org-v");
    json_t *org = unit_jsonq("{'identifiers':{}}");
    auth_org_redact(&admin, org);
    assert_null(json_object_get(org, "identifiers"));
    json_decref(org);
    org = unit_jsonq("{'id':'org-o','name':'A'}");
    auth_org_redact(&admin, org);
    assert_jsonq_eq(org, "{'id':'org-o','name':'A'}");
    json_decref(org);
    assert_int_equal(bad, 0);
}

/* End to end: identities from real tokens; keys and targets from auth, lists from the store. */
static void test_release_access_store(void **state)
{
    struct fx *f = *state;
    struct err e;
    /* [i] = {kind, tier, sectors} */
    enum { PROV, COORDO, HUB_E, HUB_ICT, MIN_E, OP_C2, NO };
    static const struct {
        const char *kind, *tier, *sectors;
    } def[NO] = {
        [PROV] = {"operator", "class1", "[\"electricity\",\"gas\"]"},
        [COORDO] = {"coordinator", "class1", "[]"},
        [HUB_E] = {"sector_hub", "general", "[\"ict\",\"electricity\"]"},
        [HUB_ICT] = {"sector_hub", "general", "[\"ict\"]"},
        [MIN_E] = {"ministry", "general", "[\"electricity\"]"},
        [OP_C2] = {"operator", "class2", "[\"ict\"]"},
    };
    char org[NO][ID_LEN], user[NO][ID_LEN], token[NO][AUTH_TOKEN_LEN + 1];
    for (int i = 0; i < NO; i++) {
        util_uuid7(org[i]);
        json_t *o = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:[],s:b}", "id", org[i], "name", "ja",
                              def[i].kind, "en", def[i].kind, "kind", def[i].kind, "tier",
                              def[i].tier, "contacts", "disabled", 0);
        json_object_set_new(o, "sectors", unit_json(def[i].sectors));
        OK(store_org_create(f->st, o, &e));
        json_decref(o);
        char login[16];
        snprintf(login, sizeof(login), "u%d", i);
        new_user(f, org[i], login, i == COORDO ? "[\"analyst\"]" : "[\"member\"]", NULL, user[i]);
        json_t *tok = NULL;
        OK(auth_token_create(f->st, user[i], "t", 30, token[i], &tok, &e));
        json_decref(tok);
    }
    /* the hub's identity carries its tier and every sector */
    struct auth_identity hub;
    OK(auth_bearer(f->st, token[HUB_E], &hub, &e));
    assert_string_equal(hub.p.org_tier, "general");
    struct store_release_access acc;
    auth_release_access(&hub, &acc);
    char got[1024], want[1024];
    keys_str(&acc, got, sizeof(got));
    snprintf(want, sizeof(want),
             "all,hub:electricity,hub:ict,org:%s,sector:electricity,sector:ict,tier:general",
             org[HUB_E]);
    assert_string_equal(got, want);

    /* a report of the provider, and a release of it published to the hub and tier class2 */
    static const char rep_id[] = "01900000-0000-7000-8000-0000000000aa";
    static const char rel_id[] = "01900000-0000-7000-9000-0000000000aa";
    json_t *c = unit_jsonq("{'kind':'incident','event_type':'malware','title':'T',"
                           "'sectors':['electricity'],'status':'open','severity':{}}");
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O,s:b}", "id", rep_id, "org_id", org[PROV],
                            "created_by", user[PROV], "stage", "first", "revision", 1,
                            "content", c, "submitted", 1);
    json_t *rev = json_pack("{s:i,s:s,s:s,s:n,s:[]}", "n", 1, "stage", "first", "user_id",
                            user[PROV], "reason", "changes");
    OK(store_report_create(f->st, row, rev, NULL, NULL, &e));
    json_decref(rev);
    json_decref(row);
    json_t *audience = unit_jsonq("{'hub':true,'orgs':[],'sectors':[],'tiers':['class2'],"
                                  "'all_members':false}");
    json_t *rel = json_pack("{s:s,s:s,s:s,s:i,s:O,s:[],s:O,s:s,s:n,s:n,s:s}", "id", rel_id,
                            "report_id", rep_id, "org_id", org[PROV], "report_revision", 1,
                            "content", c, "redactions", "audience", audience, "tlp", "AMBER",
                            "purpose", "handling", "created_by", user[COORDO]);
    static const uint8_t key[32] = {1};
    OK(store_release_create(f->st, rel, key, sizeof(key), &e));
    json_t *prov_org = NULL;
    OK(store_org_get(f->st, org[PROV], &prov_org, &e));
    json_t *targets =
        auth_release_targets(audience, org[PROV], json_object_get(prov_org, "sectors"));
    json_decref(prov_org);
    static const char *const path[][2] = {
        {"draft", "pending"}, {"pending", "approved"}, {"approved", "published"}};
    for (int i = 0; i < 3; i++) {
        json_object_set_new(rel, "state", json_string(path[i][1]));
        json_object_set_new(rel, "actor", json_string(user[COORDO]));
        OK(store_release_update(f->st, rel, path[i][0], i == 2 ? targets : NULL, &e));
    }
    json_decref(targets);
    json_decref(rel);
    json_decref(audience);
    json_decref(c);

    /* who finds it in the inbox, and what each sees of it */
    static const struct {
        bool sees;
        size_t keys; /* of the view: the parties' whole row (less pub_seq), recipients 8 */
    } sees[NO] = {
        [PROV] = {1, 25},   [COORDO] = {1, 25}, [HUB_E] = {1, 8},
        [HUB_ICT] = {0, 0}, [MIN_E] = {0, 0},   [OP_C2] = {1, 8},
    };
    int bad = 0;
    for (int i = 0; i < NO; i++) {
        struct auth_identity id;
        OK(auth_bearer(f->st, token[i], &id, &e));
        auth_release_access(&id, &acc);
        struct store_release_filter inbox = {.min_severity = -1};
        json_t *arr = NULL;
        OK(store_release_list(f->st, &acc, &inbox, 0, NULL, 10, &arr, &e));
        json_t *r = NULL;
        err_init(&e);
        int rc = store_release_get(f->st, &acc, rel_id, &r, NULL, 0, &e);
        if ((json_array_size(arr) == 1) != sees[i].sees || (rc == 0) != sees[i].sees) {
            print_error("%s: inbox %zu, get rc %d; want %d\n", def[i].kind, json_array_size(arr),
                        rc, sees[i].sees);
            bad++;
        }
        if (r) {
            auth_release_redact(&id, r);
            json_object_del(r, "pub_seq"); /* the API drops it for everyone */
            if (json_object_size(r) != sees[i].keys) {
                print_error("%s sees %zu keys\n", def[i].kind, json_object_size(r));
                bad++;
            }
        }
        json_decref(r);
        json_decref(arr);
    }
    assert_int_equal(bad, 0);
}

/* The organisation directory: admins, auditors and the coordinator's analysts (who address alerts). */
static void test_org_directory(void **state)
{
    (void)state;
    static const struct {
        enum rrole r;
        enum rkind k;
        bool sees;
    } cases[] = {
        {RR_ANALYST, K_COORD, true},    {RR_ADMIN, K_OPERATOR, true},  {RR_AUDITOR, K_HUB, true},
        {RR_MEMBER, K_COORD, false},    {RR_ANALYST, K_OPERATOR, false},
        {RR_ANALYST, K_HUB, false},     {RR_ORGADM, K_COORD, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct auth_identity id = rident(cases[i].r, cases[i].k, "org-x");
        struct store_org_filter f;
        memset(&f, 0, sizeof(f));
        auth_org_scope(&id, &f);
        assert_int_equal(f.only_id == NULL, cases[i].sees);
        assert_int_equal(auth_can_read_org(&id, "org-y"), cases[i].sees);
        assert_true(auth_can_read_org(&id, "org-x"));
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_set_quiet(1);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_password_hash),
        cmocka_unit_test(test_secrets),
        T(test_login_ok),
        T(test_login_refused),
        T(test_login_throttle_account),
        T(test_login_throttle_address),
        T(test_login_disabled),
        T(test_bearer),
        T(test_session_expiry),
        cmocka_unit_test(test_decide_orgs),
        cmocka_unit_test(test_decide_users),
        cmocka_unit_test(test_decide_tokens),
        cmocka_unit_test(test_decide_reports),
        cmocka_unit_test(test_report_redact),
        T(test_report_access_store),
        cmocka_unit_test(test_decide_releases),
        cmocka_unit_test(test_org_directory),
        cmocka_unit_test(test_release_keys),
        cmocka_unit_test(test_release_targets),
        cmocka_unit_test(test_release_redact),
        cmocka_unit_test(test_org_identifiers),
        T(test_release_access_store),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
