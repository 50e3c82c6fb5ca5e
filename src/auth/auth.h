/*
 * auth.h - who is asking, and may they: identity, login, and the one place
 * where every access decision is made.
 *
 * Identity: a request is authenticated by an API token (Authorization:
 * Bearer) or a session cookie. Only hashes of tokens and session ids are
 * stored (BLAKE2b-256: the secrets carry 256 random bits, so an unsalted
 * fast hash is enough and lookups stay indexable). Passwords are argon2id
 * (libsodium crypto_pwhash_str). Disabled users and users of disabled
 * organisations are refused on every request: nothing is cached.
 *
 * Decisions: every read and write of a member object asks a function here.
 * List reads never fetch and filter: auth_*_scope() narrows the store
 * filter, so the store returns only what the caller may see and counts
 * cannot reveal hidden items.
 */
#ifndef ISAC_AUTH_H
#define ISAC_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/cfg.h"
#include "base/err.h"
#include "store/store.h"

#define AUTH_SECRET_LEN 43   /* base64url of 32 random bytes, unpadded */
#define AUTH_TOKEN_LEN (5 + AUTH_SECRET_LEN) /* "isac_" + secret */
#define AUTH_PREFIX_LEN 12   /* shown in lists: "isac_" + 7 chars */

struct auth_identity {
    struct store_principal p;
    bool via_session;                  /* cookie: writes need the CSRF token */
    uint8_t session_hash[STORE_HASH_LEN];
    uint8_t token_hash[STORE_HASH_LEN]; /* bearer: the token's hash */
};

/* ---- secrets ---- */

/* argon2id hash of pw into out (crypto_pwhash_STRBYTES bytes). ERR_NOMEM. */
int auth_password_hash(const struct cfg *cfg, const char *pw, char *out, struct err *e);
/* True if pw matches hash (constant time in the password). */
bool auth_password_verify(const char *hash, const char *pw);
/* A fresh random secret, base64url, AUTH_SECRET_LEN chars + NUL. */
void auth_secret_new(char out[AUTH_SECRET_LEN + 1]);
/* The stored hash of a token or session secret. */
void auth_secret_hash(const char *secret, uint8_t out[STORE_HASH_LEN]);

/* ---- authentication ---- */

/*
 * Resolve "Authorization: Bearer <token>" or the session cookie value into
 * an identity. ERR_UNAUTH when unknown, expired, revoked, or the user or
 * organisation is disabled.
 */
int auth_bearer(struct store *st, const char *token, struct auth_identity *id, struct err *e);
int auth_session(struct store *st, const char *cookie, struct auth_identity *id, struct err *e);

/*
 * Password login with throttling per account and per remote address.
 * On success fills session[AUTH_SECRET_LEN+1] (the cookie value), csrf and
 * *user (new reference). ERR_CREDENTIALS for a wrong login or password
 * (same answer and cost for both), ERR_THROTTLED with e->retry_after.
 */
int auth_login(struct store *st, const struct cfg *cfg, const char *login, const char *password,
               const char *remote, char *session, char *csrf, json_t **user, struct err *e);

/*
 * Is the credential behind a long-lived request (an event stream) still
 * good: hash of its token, or of its session with session true? 0, or
 * ERR_UNAUTH when revoked, expired, logged out, or its user or
 * organisation is disabled.
 */
int auth_recheck(struct store *st, const uint8_t hash[STORE_HASH_LEN], bool session,
                 struct err *e);

/* Create an API token for user_id valid for days; out receives the token. */
int auth_token_create(struct store *st, const char *user_id, const char *name, int days,
                      char out[AUTH_TOKEN_LEN + 1], json_t **token, struct err *e);

/* ---- decisions ---- */

bool auth_has(const struct auth_identity *id, unsigned role);
bool auth_is_admin(const struct auth_identity *id);

/* Sectors and tiers: readable by every member; written by admins. */
bool auth_can_write_sector(const struct auth_identity *id);

/* Organisations. */
void auth_org_scope(const struct auth_identity *id, struct store_org_filter *f);
bool auth_can_read_org(const struct auth_identity *id, const char *org_id);
bool auth_can_create_org(const struct auth_identity *id);
/* patch: the validated fields to change (an org_admin: only name, contacts, identifiers). */
bool auth_can_update_org(const struct auth_identity *id, const char *org_id,
                         const json_t *patch);

/*
 * An organisation's registered identifiers (names beyond the official ones,
 * domains, address ranges, host and person names: what the anonymizer
 * redacts): its own users, the coordinator's and administrators.
 */
bool auth_can_read_org_identifiers(const struct auth_identity *id, const char *org_id);
/* Remove what this reader may not see of an organisation (its identifiers). */
void auth_org_redact(const struct auth_identity *id, json_t *org);

/* Users. */
void auth_user_scope(const struct auth_identity *id, struct store_user_filter *f);
bool auth_can_read_user(const struct auth_identity *id, const json_t *user);
bool auth_can_create_user(const struct auth_identity *id, const char *org_id, unsigned roles);
bool auth_can_update_user(const struct auth_identity *id, const json_t *user,
                          const json_t *patch);

/* API tokens. */
void auth_token_scope(const struct auth_identity *id, struct store_token_filter *f);
/* owner: the user the token belongs to (or is to be created for). */
bool auth_can_manage_token(const struct auth_identity *id, const json_t *owner);

/*
 * Reports. Who sees an original report: its own organisation (drafts too)
 * and, once submitted, the coordinator; nobody else (issue 4: sector hubs,
 * ministries and every other member see releases instead). Users holding
 * only the auditor role see no content at all.
 */
void auth_report_access(const struct auth_identity *id, struct store_report_access *acc);
/* File reports for one's own organisation. */
bool auth_can_create_report(const struct auth_identity *id);
/* Append revisions: users of the reporting organisation. */
bool auth_can_revise_report(const struct auth_identity *id, const json_t *report);
/* Remove from a visible report what this reader may not see (the reporter's contact). */
void auth_report_redact(const struct auth_identity *id, json_t *report);

/*
 * Releases (issue 4): the only form in which a report's content reaches
 * others than its provider and the coordinator. The coordinator sees every
 * release; the provider its own past draft; everyone else the published
 * ones targeted at them (store.h: release targets), in the recipients'
 * view of auth_release_redact(). Auditor-only users see none.
 */
void auth_release_access(const struct auth_identity *id, struct store_release_access *acc);
/*
 * The target keys of a published release (new reference): its audience,
 * the provider itself, and the hubs of the provider's sectors when
 * audience.hub is set.
 */
json_t *auth_release_targets(const json_t *audience, const char *provider_org_id,
                             const json_t *provider_sectors);
/* Coordinator analysts (and the coordinator's administrators). */
bool auth_is_coordinator_analyst(const struct auth_identity *id);
/*
 * Approve or refuse a release or a consent request: the provider's users
 * who may file its reports (members, analysts, org_admins).
 */
bool auth_can_decide_release(const struct auth_identity *id, const char *provider_org_id);
/*
 * The workflow around a release (versions, consent requests): the
 * coordinator's users, and the provider's (provider_org_id; NULL asks
 * about the coordinator alone). Auditor-only users: none.
 */
bool auth_can_read_release_workflow(const struct auth_identity *id, const char *provider_org_id);
/* Trim a visible release to what this reader may see (recipients: content and marking). */
void auth_release_redact(const struct auth_identity *id, json_t *release);
/* Change anonymizer rules: administrators. Read them: coordinator analysts, administrators. */
bool auth_can_read_anon_rules(const struct auth_identity *id);
bool auth_can_write_anon_rules(const struct auth_identity *id);

/*
 * Alerts (issue 5). The issuer side (the coordinator's users, and the
 * issuing organisation's) sees every version in every state; everyone else
 * the published versions targeted at its organisation, in the recipients'
 * view. The access uses the same keys as releases.
 */
void auth_alert_access(const struct auth_identity *id, struct store_release_access *acc);
/* The target keys of an audience {orgs, sectors, tiers, all_members} (new reference). */
json_t *auth_alert_targets(const json_t *audience);
/*
 * Issue alerts: coordinator analysts (any audience), and analysts of a
 * sector hub for an audience of sectors that are all its own (audience
 * NULL: whether the caller may issue at all).
 */
bool auth_can_issue_alert(const struct auth_identity *id, const json_t *audience);
/* Compose, publish, version and watch the delivery of this alert: the issuer side. */
bool auth_is_alert_issuer_side(const struct auth_identity *id, const json_t *alert);
/*
 * Trim a visible alert to the recipients' view unless the reader is on the
 * issuer side (id NULL: always the recipients' view).
 */
void auth_alert_redact(const struct auth_identity *id, json_t *alert);
/* Acknowledge (read, acted): users with a content role. */
bool auth_can_acknowledge_alert(const struct auth_identity *id);
/* Webhooks of an organisation: administrators and that organisation's org_admins. */
bool auth_can_manage_webhooks(const struct auth_identity *id, const char *org_id);

/* Regimes: every member reads them; administrators edit them. */
bool auth_can_write_regime(const struct auth_identity *id);

/* Monthly near-miss counts. */
bool auth_can_submit_nearmiss(const struct auth_identity *id);
/* Whose counts a reader may list: NULL for all (coordinator), else its own org id. */
const char *auth_nearmiss_scope(const struct auth_identity *id);
/* Totals by sector, month and event type: the coordinator. */
bool auth_can_read_nearmiss_totals(const struct auth_identity *id);

/*
 * The audit log: every login, admin action, report write and read of
 * another organisation's report is recorded through auth_audit(), which
 * names the actor from the identity (NULL: not authenticated). detail is a
 * small JSON object of ids and codes, never content (taken; may be NULL).
 */
int auth_audit(struct store *st, const struct auth_identity *id, const char *remote,
               const char *action, const char *object_kind, const char *object_id,
               const char *outcome, json_t *detail, struct err *e);
/* Reading the audit log: auditors (and administrators). */
bool auth_can_read_audit(const struct auth_identity *id);
/* Reading this report is a read of restricted content: another organisation's report. */
bool auth_report_read_is_restricted(const struct auth_identity *id, const json_t *report);

#endif
