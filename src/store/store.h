/*
 * store.h - the one interface every caller uses to reach persistent data.
 *
 * Records cross this interface as jansson objects in their API shape (see
 * api/openapi.json), already validated by model/; secrets (password hashes,
 * token and session hashes) travel separately and never appear in them.
 *
 * Contract for every function:
 *  - returns 0 or a negative ERR_* code with detail in *e;
 *  - every write is exactly one transaction: it either commits wholly or
 *    leaves nothing behind; when it returns 0 the data is durable (WAL with
 *    synchronous=FULL on SQLite: it survives kill -9 and power loss);
 *  - json_t **out receives a new reference the caller must json_decref();
 *  - ERR_NOTFOUND when the object does not exist, ERR_CONFLICT on a unique
 *    key clash (login, sector code), ERR_STORE when the backend fails;
 *  - thread-safe: one struct store serves all HTTP worker threads.
 *
 * The backend is chosen by store_open(); today SQLite ("sqlite:" or a data
 * dir path). A PostgreSQL backend implements store_int.h's ops and callers
 * do not change.
 */
#ifndef ISAC_STORE_H
#define ISAC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

#define STORE_HASH_LEN 32       /* token and session hashes (BLAKE2b-256) */
#define STORE_SCHEMA_VERSION 1  /* the newest schema this build knows */

struct store;

/*
 * Open the store in data_dir. With create, make the directory (0700) and
 * the database if missing. Runs pending migrations; refuses (ERR_VERSION)
 * a store written by a newer version. *out is owned by the caller:
 * store_close() it.
 */
int store_open(struct store **out, const char *data_dir, bool create, struct err *e);
/* Close; waits for nothing (callers stop using it first). NULL is fine. */
void store_close(struct store *st);
/* The backend's name ("sqlite") and the schema version of the open store. */
const char *store_backend(const struct store *st);
int store_schema_version(struct store *st);

/* A page of a list: items after the cursor id, at most limit of them. */
struct store_page {
    const char *after;  /* id to start after, NULL for the first page */
    int limit;          /* 1..LIMIT_PAGE_MAX */
};

/* ---- sectors and tiers (reference data) ---- */

/* All sectors in display order; disabled ones only with include_disabled. */
int store_sector_list(struct store *st, bool include_disabled, json_t **out, struct err *e);
int store_sector_get(struct store *st, const char *code, json_t **out, struct err *e);
/* Insert a new sector {"code","name":{"ja","en"}}; ERR_CONFLICT if the code exists. */
int store_sector_create(struct store *st, const json_t *sector, struct err *e);
/* Replace name and disabled of an existing sector. */
int store_sector_update(struct store *st, const json_t *sector, struct err *e);
int store_tier_list(struct store *st, json_t **out, struct err *e);
int store_tier_get(struct store *st, const char *code, json_t **out, struct err *e);

/* ---- organisations ---- */

struct store_org_filter {
    const char *only_id;    /* restrict to this one organisation (scoping) */
    const char *kind;       /* NULL = any */
    const char *sector;
    const char *tier;
    const char *q;          /* substring of either name */
    bool include_disabled;
};

/* Insert org (with "id", "created_at", "updated_at" already set). */
int store_org_create(struct store *st, const json_t *org, struct err *e);
int store_org_get(struct store *st, const char *id, json_t **out, struct err *e);
/* Replace every mutable field of an existing org with those in org. */
int store_org_update(struct store *st, const json_t *org, struct err *e);
/* A JSON array of at most page->limit orgs with id > page->after, by id. */
int store_org_list(struct store *st, const struct store_org_filter *f,
                   const struct store_page *page, json_t **out, struct err *e);

/* ---- users ---- */

struct store_user_filter {
    const char *only_id;
    const char *org_id;
    const char *role;       /* users holding this role */
    const char *q;          /* substring of login or display name */
    bool include_disabled;
};

/* Insert user with its argon2id password hash (may be NULL: no password login). */
int store_user_create(struct store *st, const json_t *user, const char *pwhash, struct err *e);
int store_user_get(struct store *st, const char *id, json_t **out, struct err *e);
int store_user_get_by_login(struct store *st, const char *login, json_t **out, struct err *e);
/*
 * Replace display_name, roles, locale, email, disabled; with pwhash also
 * set the password. Disabling a user or setting a password ends all of the
 * user's sessions, in the same transaction.
 */
int store_user_update(struct store *st, const json_t *user, const char *pwhash, struct err *e);
int store_user_list(struct store *st, const struct store_user_filter *f,
                    const struct store_page *page, json_t **out, struct err *e);
/* The stored password hash of login, in *hash (caller frees); ERR_NOTFOUND. */
int store_user_pwhash(struct store *st, const char *login, char **hash, struct err *e);
/*
 * Set a new password hash and end every session of the user except
 * keep_session (may be NULL), in one transaction.
 */
int store_user_set_password(struct store *st, const char *user_id, const char *pwhash,
                            const uint8_t *keep_session, struct err *e);

/* ---- API tokens (only the hash of a token is stored) ---- */

struct store_token_filter {
    const char *user_id;    /* NULL = any */
    const char *org_id;     /* tokens of users of this org */
};

int store_token_create(struct store *st, const json_t *token, const uint8_t hash[STORE_HASH_LEN],
                       struct err *e);
int store_token_get(struct store *st, const char *id, json_t **out, struct err *e);
/* Update name, and revoked (revoked_at = now) of an existing token. */
int store_token_update(struct store *st, const json_t *token, struct err *e);
int store_token_list(struct store *st, const struct store_token_filter *f,
                     const struct store_page *page, json_t **out, struct err *e);

/* ---- authentication lookups ---- */

/* Who a token or session belongs to, with what an access decision needs. */
struct store_principal {
    char user_id[40];
    char org_id[40];
    char login[72];
    char locale[8];
    unsigned roles;          /* MODEL_ROLE_* bits */
    bool user_disabled;
    bool org_disabled;
    char token_id[40];       /* set for tokens */
    char csrf[64];           /* set for sessions */
    int64_t expires_at;      /* seconds since the epoch */
    int64_t last_used_at;    /* tokens: seconds, 0 = never */
    bool revoked;            /* tokens */
};

int store_auth_token(struct store *st, const uint8_t hash[STORE_HASH_LEN],
                     struct store_principal *out, struct err *e);
/* Note a token's use (callers rate-limit this: it is a write). */
int store_token_touch(struct store *st, const char *token_id, int64_t now, struct err *e);
int store_auth_session(struct store *st, const uint8_t hash[STORE_HASH_LEN],
                       struct store_principal *out, struct err *e);
int store_session_create(struct store *st, const uint8_t hash[STORE_HASH_LEN],
                         const char *user_id, const char *csrf, int64_t now, int64_t expires_at,
                         struct err *e);
int store_session_delete(struct store *st, const uint8_t hash[STORE_HASH_LEN], struct err *e);

/* Login throttling: record a failure under key; count failures since t. */
int store_login_fail_add(struct store *st, const char *key, int64_t now, int64_t older_than,
                         struct err *e);
int store_login_fail_count(struct store *st, const char *key, int64_t since, int *count,
                           int64_t *oldest, struct err *e);
int store_login_fail_clear(struct store *st, const char *key, struct err *e);

#endif
