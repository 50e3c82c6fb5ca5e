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
#include "base/limits.h"

#define STORE_HASH_LEN 32       /* token and session hashes (BLAKE2b-256) */
#define STORE_SCHEMA_VERSION 8  /* the newest schema this build knows */

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
    char org_kind[16];       /* MODEL org kinds: "coordinator", "sector_hub", ... */
    char org_name_ja[808];   /* 200 characters of up to 4 bytes */
    char org_name_en[808];
    char org_tier[LIMIT_SECTOR_CODE + 1];
    /* the organisation's sector codes, comma-separated (LIMIT_SECTORS of them) */
    char org_sectors[LIMIT_SECTORS * (LIMIT_SECTOR_CODE + 1)];
    char login[72];
    char display_name[808];
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

/* ---- reports (incident and near-miss reports, their revisions) ---- */

/*
 * What one reader may see of reports: an original report never leaves its
 * provider and the coordinator (others see releases). Only
 * auth_report_access() builds one; the store turns it into the WHERE clause of every report read, so
 * lists and counts never include what the reader may not see.
 */
struct store_report_access {
    bool none;              /* sees no report at all (e.g. an auditor) */
    bool all;               /* every submitted report (the coordinator) */
    const char *org_id;     /* the reader's organisation: its own reports, drafts too */
};

struct store_report_filter {
    const char *kind, *event_type, *sector, *status, *stage, *org_id;
    const char *q;          /* substring of the title */
    int min_severity;       /* -1: any; else overall >= this */
    int64_t since, until;   /* created_at window, seconds; 0 = open */
    int64_t due_before;     /* only reports with a deadline before this; 0 = no filter,
                             * and then the order is by deadline, not newest first */
    int64_t due_after_at;   /* with due_before: continue after (due_after_at, due_after_id) */
    const char *due_after_id;
};

/*
 * A report row: {"id","org_id","created_by","stage","revision","content":{...},
 * "submitted":bool,"due_at":int|null,"due_stage":str|null} (optionally
 * "content_json": the content already serialised, stored as given) and its revision
 * {"n","stage","user_id","reason","changes":[...]}. With idem_key, the key
 * (scoped by idem_scope) is recorded in the same transaction; a second use
 * of the key fails with ERR_CONFLICT (see store_idem_lookup()).
 */
int store_report_create(struct store *st, const json_t *report, const json_t *revision,
                        const char *idem_scope, const char *idem_key, struct err *e);
/* Called on the store's writer thread when an asynchronous write is done. */
typedef void store_done_fn(void *ud);
/*
 * store_report_create without waiting: returns 0 once queued; done(ud) is
 * then called exactly once, after the commit made the report durable or
 * the write failed (*e filled). report, revision, idem_* and e must stay
 * valid until then; done must not block. Returns an error (and never calls
 * done) when the write cannot be queued.
 */
int store_report_create_async(struct store *st, const json_t *report, const json_t *revision,
                              const char *idem_scope, const char *idem_key, struct err *e,
                              store_done_fn *done, void *ud);
/*
 * Append a revision: the report's stored revision must still be
 * expected_rev (ERR_CONFLICT otherwise: someone else revised it first).
 */
int store_report_revise(struct store *st, const json_t *report, int expected_rev,
                        const json_t *revision, const char *idem_scope, const char *idem_key,
                        struct err *e);
/*
 * A report the reader may see, in the API shape (content fields at the
 * top level, plus id, org_id, org_name, created_by, stage, revision,
 * created_at, updated_at, submitted_at, due_at, due_stage); with
 * revisions, also "revisions":[{n, stage, at, by:{id,login,display_name},
 * reason, changes}]. ERR_NOTFOUND when absent or not visible.
 */
int store_report_get(struct store *st, const struct store_report_access *acc, const char *id,
                     bool with_revisions, json_t **out, struct err *e);
/* Newest first: page->after is a report id; reports with id < after. */
int store_report_list(struct store *st, const struct store_report_access *acc,
                      const struct store_report_filter *f, const struct store_page *page,
                      json_t **out, struct err *e);
/*
 * The content of revision n of a report the reader may see (the release
 * workflow renders releases from the revision they were made of).
 */
int store_report_content_at(struct store *st, const struct store_report_access *acc,
                            const char *id, int n, json_t **out, struct err *e);
/* Which report an idempotency key made; ERR_NOTFOUND if unused. */
int store_idem_lookup(struct store *st, const char *scope, const char *key, char report_id[40],
                      struct err *e);
/* Reports (id, regime, stage, content, submitted_at, created_at) under regime, for recomputing due dates. */
int store_report_by_regime(struct store *st, const char *regime, json_t **out, struct err *e);
int store_report_set_due(struct store *st, const char *id, int64_t due_at, const char *due_stage,
                         struct err *e);

/* ---- reporting regimes (deadlines as data) ---- */

int store_regime_list(struct store *st, bool include_disabled, json_t **out, struct err *e);
int store_regime_get(struct store *st, const char *code, json_t **out, struct err *e);
int store_regime_create(struct store *st, const json_t *regime, struct err *e);
int store_regime_update(struct store *st, const json_t *regime, struct err *e);

/* ---- monthly near-miss counts ---- */

/*
 * Submit counts for one organisation and month: entries
 * [{"sector","event_type","count","note"}]. Each replaces the current
 * count of its (sector, event type); the replaced one stays as history.
 */
int store_nearmiss_put(struct store *st, const char *org_id, const char *user_id,
                       const char *month, const json_t *entries, struct err *e);
/*
 * Entries of org_id (NULL = all) in month (NULL = all), newest first, at
 * most limit with id < after_id (0: from the newest); history includes
 * replaced ones.
 */
int store_nearmiss_list(struct store *st, const char *org_id, const char *month, bool history,
                        int64_t after_id, int limit, json_t **out, struct err *e);
/* Current totals [{sector, month, event_type, count, orgs}] in [from, to] months. */
int store_nearmiss_totals(struct store *st, const char *from, const char *to,
                          const char *sector, const char *event_type, json_t **out,
                          struct err *e);

/* ---- releases: what others than the provider and the coordinator see ---- */

/*
 * A release is an anonymized version of a report (anon.h) prepared by a
 * coordinator analyst, approved by the provider and published to an
 * audience. One row per version; versions of one report are numbered 1, 2,
 * ... and at most one of them is open (draft, pending or approved) at a
 * time. Publishing version N supersedes the published version before it.
 *
 * Row shape (store and API): {"id","report_id","org_id","version","state",
 * "report_revision","content":{...},"redactions":[...],"audience":{"hub",
 * "orgs","sectors","tiers","all_members"},"tlp","purpose","handling",
 * "created_at","created_by","updated_at","submitted_at","submitted_by",
 * "decided_at","decided_by","decision_note","published_at","published_by",
 * "pub_seq"}; absent times are null. States: draft, pending, approved,
 * refused, published, superseded, withdrawn.
 */
#define STORE_RELEASE_KEYS_MAX (2 * LIMIT_SECTORS + 3) /* all, org, tier; sector+hub each */
#define STORE_RELEASE_KEY_LEN  48

/*
 * What one reader may see of releases; only auth_release_access() builds
 * one. keys are the reader's target keys ("all", "org:<id>", "tier:<t>",
 * "sector:<s>" and, for a sector hub, "hub:<s>" per sector): a published
 * release is visible when it was targeted at one of them.
 */
struct store_release_access {
    bool none;              /* no release at all (an auditor) */
    bool all;               /* every release in every state (the coordinator) */
    const char *org_id;     /* its own releases in every state but draft (the provider) */
    int nkeys;
    char keys[STORE_RELEASE_KEYS_MAX][STORE_RELEASE_KEY_LEN];
};

struct store_release_filter {
    /*
     * NULL: the inbox, published releases targeted at the reader (the
     * coordinator: all published). "draft", "pending", ...: releases in
     * that state the reader may see unpublished (the coordinator's, the
     * provider's own); "any": every state.
     */
    const char *state;
    const char *report_id, *sector, *event_type, *tlp, *org_id;
    const char *q;          /* substring of the title */
    int min_severity;       /* -1: any */
    int64_t since, until;   /* published_at (inbox) or created_at window; 0 = open */
};

/*
 * Insert version release->version of a report (state "draft"), with its
 * placeholder key. ERR_CONFLICT when the report already has an open
 * version or the version number is taken.
 */
int store_release_create(struct store *st, const json_t *release, const uint8_t *key,
                         size_t keylen, struct err *e);
/*
 * A release the reader may see; with key non-NULL also its placeholder key
 * (keylen bytes; callers that pass it are the coordinator's). ERR_NOTFOUND
 * when absent or invisible.
 */
int store_release_get(struct store *st, const struct store_release_access *acc, const char *id,
                      json_t **out, uint8_t *key, size_t keylen, struct err *e);
/*
 * Replace a release's mutable fields (state, content, redactions,
 * audience, tlp, purpose, handling and the submitted/decided/published
 * stamps) with release's, if its stored state is still from_state
 * (ERR_CONFLICT otherwise). targets (array of key strings) replaces where
 * it is published; NULL leaves them. Moving to "published" assigns pub_seq,
 * supersedes the report's previously published version and removes that
 * version's targets; moving away from "published" removes its targets.
 * All in one transaction.
 */
int store_release_update(struct store *st, const json_t *release, const char *from_state,
                         const json_t *targets, struct err *e);
/*
 * Releases the reader may see. Inbox (f->state NULL): newest published
 * first, after_seq = the pub_seq to continue below (0: from the newest).
 * Otherwise newest created first, after_id = the id to continue below.
 */
int store_release_list(struct store *st, const struct store_release_access *acc,
                       const struct store_release_filter *f, int64_t after_seq,
                       const char *after_id, int limit, json_t **out, struct err *e);

/*
 * Consent requests: the coordinator asks the provider to widen a release's
 * audience or loosen its marking. Shape: {"id","release_id","org_id",
 * "audience","tlp","reason","state" (pending|approved|refused),
 * "requested_by","requested_at","decided_by","decided_at","decision_note"}.
 */
int store_audreq_create(struct store *st, const json_t *req, struct err *e);
int store_audreq_get(struct store *st, const char *id, json_t **out, struct err *e);
/* Requests of one release (release_id) or of one provider (org_id), newest first. */
int store_audreq_list(struct store *st, const char *release_id, const char *org_id,
                      const char *state, json_t **out, struct err *e);
/*
 * Decide a pending request (ERR_CONFLICT if no longer pending). With
 * release non-NULL (approval), also store_release_update(release, its
 * current state, targets) in the same transaction.
 */
int store_audreq_decide(struct store *st, const json_t *req, const json_t *release,
                        const json_t *targets, struct err *e);

/* ---- settings (small JSON documents edited by administrators) ---- */

/* *out = the value of key, or NULL (returns 0) when never set. */
int store_setting_get(struct store *st, const char *key, json_t **out, struct err *e);
int store_setting_put(struct store *st, const char *key, const json_t *value,
                      const char *user_id, struct err *e);

/*
 * Member organisations per sector and kind, for the anonymizer's k:
 * {"<sector>": {"<kind>": n, ...}, ...}, enabled organisations only.
 */
int store_sector_member_counts(struct store *st, json_t **out, struct err *e);

/* ---- alerts: countermeasure alerts and their delivery (issue 5) ---- */

/*
 * Row shape: {"id","series_id","version","kind" (alert|correction|withdrawal),
 * "state" (draft|published),"issuer_org","body":{"title","summary","actions",
 * "links","observables"},"urgency","exercise","audience","tlp","created_by",
 * "created_at","updated_at","published_by","published_at","pub_seq"}.
 * Readers are described by a struct store_release_access: all = the
 * coordinator, org_id = the issuer's own alerts in every state, and the
 * published versions whose recipients (fixed at publication) include
 * org_id. Target keys ("all", "org:<id>", "sector:<s>", "tier:<t>")
 * choose those recipients when a version is published.
 */
struct store_alert_filter {
    const char *state;      /* NULL: published versions targeted at the reader (inbox),
                             * newest published first; else draft|published|any: the
                             * issuer side's list, newest created first */
    const char *urgency;
    int exercise;           /* -1 any, 0 real traffic only, 1 exercises only */
    int64_t since_ms, until_ms; /* published_at (inbox) or created_at window; 0 = open */
    const char *q;          /* substring of the title (either language) */
    const char *series_id;  /* only versions of this series */
    bool latest;            /* inbox: only the newest published version of each series */
};

/*
 * Insert a draft. With "series_id" null the alert starts a series (its id
 * is the series id, version 1); else it is the next version of that series
 * (version assigned here; ERR_CONFLICT if the series has a draft already).
 */
int store_alert_create(struct store *st, const json_t *alert, struct err *e);
int store_alert_get(struct store *st, const struct store_release_access *acc, const char *id,
                    json_t **out, struct err *e);
/* Replace the body, urgency, exercise, audience and tlp of a draft (ERR_CONFLICT if not). */
int store_alert_update(struct store *st, const json_t *alert, struct err *e);
/*
 * Publish a draft in one small transaction: pub_seq (the stream event id)
 * is assigned and targets (array of keys) written. *seq receives the event
 * id. ERR_CONFLICT if it is no longer a draft, ERR_NOTFOUND if there is
 * none. Then store_alert_queue() fixes its recipients and queues the
 * webhook and e-mail work, so streams need not wait for either; until
 * then the target keys decide who may read it.
 */
int store_alert_publish(struct store *st, const char *id, const char *user_id,
                        const json_t *targets, int64_t *seq, struct err *e);
/*
 * Fix the recipients of a published alert version (the enabled
 * organisations its target keys reach, not the issuer) and queue one
 * outbox row per recipient webhook and e-mail contact, in one transaction;
 * for alert_id, or every published version not yet queued (alert_id NULL:
 * recovery after a crash between the two transactions). Once per version;
 * queuing again does nothing.
 */
int store_alert_queue(struct store *st, const char *alert_id, struct err *e);
/*
 * Inbox (f->state NULL; after_seq): what others sent the reader (an issuer
 * is not its own recipient, though its sectors' keys match; the
 * coordinator's inbox holds everything). Or the issuer side's list
 * (after_id), newest created first. At most limit rows.
 */
int store_alert_list(struct store *st, const struct store_release_access *acc,
                     const struct store_alert_filter *f, int64_t after_seq,
                     const char *after_id, int limit, json_t **out, struct err *e);
/*
 * Published versions visible to acc with pub_seq > after_seq, oldest first,
 * at most limit: what a stream replays after Last-Event-ID.
 */
int store_alert_events(struct store *st, const struct store_release_access *acc,
                       int64_t after_seq, int limit, json_t **out, struct err *e);
/* The organisations an alert version targeted: [{"org_id","kind","name":{ja,en}}]. */
int store_alert_recipients(struct store *st, const char *alert_id, json_t **out,
                           struct err *e);

/* A receipt: delivered (per channel), read or acted, by an organisation (and user). */
struct store_receipt {
    const char *alert_id, *org_id;
    const char *kind;       /* "delivered", "read", "acted" */
    const char *channel;    /* "stream", "inbox", "webhook", "email", "api", "ui" */
    const char *user_id;    /* "" when no user (webhook, e-mail) */
    int64_t at;             /* milliseconds since the epoch */
    const char *note;       /* acted: optional note */
};
/*
 * Record receipts; the first of each (alert, org, kind, channel, user)
 * wins, except that a later "acted" replaces its note. Receipts of
 * organisations the alert did not target are ignored.
 */
int store_receipts_add(struct store *st, const struct store_receipt *r, size_t n,
                       struct err *e);
/*
 * Every receipt of an alert version: [{"org_id","kind","channel","user_id",
 * "at" (ms),"note"}], and its recipients with escalated_at (ms or null).
 */
int store_alert_receipts(struct store *st, const char *alert_id, json_t **receipts,
                         json_t **recipients, struct err *e);

/* ---- webhooks and the delivery outbox (issue 5; sqlite_deliver.c) ---- */

/*
 * Webhook: {"id","org_id","url","enabled","created_at","updated_at"}; the
 * secret (32 bytes) travels separately and is never returned by get/list.
 */
int store_webhook_create(struct store *st, const json_t *hook, const uint8_t *secret,
                         size_t len, struct err *e);
int store_webhook_get(struct store *st, const char *id, json_t **out, struct err *e);
int store_webhook_list(struct store *st, const char *org_id, json_t **out, struct err *e);
int store_webhook_update(struct store *st, const json_t *hook, struct err *e);
int store_webhook_delete(struct store *st, const char *id, struct err *e);

/*
 * Outbox row: {"id","alert_id","org_id","channel" (webhook|email),"target"
 * (webhook id or e-mail address),"locale","state" (pending|sending|done|dead),
 * "tries","next_at" (ms),"last_error","escalation"}.
 * Claim: up to limit due rows of channel (state pending, next_at <= now)
 * become "sending" and are returned with "alert" (the row of the alert
 * version), and for webhooks "url" and "secret" (base64url) of the hook.
 * A crash leaves rows "sending": store_outbox_claim() also reclaims those
 * older than stale_ms.
 */
int store_outbox_claim(struct store *st, const char *channel, int64_t now, int64_t stale_ms,
                       int limit, json_t **out, struct err *e);
/*
 * The result of one try: ok → done (and a delivered receipt for the org
 * on this channel, in the same transaction); else pending again at
 * next_at, or dead when next_at is 0. Each try is appended to the
 * delivery log with status (HTTP or SMTP code, 0 if none), error and
 * duration.
 */
int store_outbox_result(struct store *st, int64_t id, bool ok, int status, const char *error,
                        int64_t duration_ms, int64_t next_at, struct err *e);
/* The delivery log of a webhook, newest first, at most limit entries. */
int store_webhook_log(struct store *st, const char *webhook_id, int limit, json_t **out,
                      struct err *e);
/*
 * Escalation: recipients of published urgent/critical alert versions
 * published before published_before (ms) without a read receipt and not
 * yet escalated: [{"alert_id","org_id"}] (at most limit).
 */
int store_escalation_due(struct store *st, int64_t published_before, int limit, json_t **out,
                         struct err *e);
/* Queue the webhook and e-mail deliveries of alert_id to org_id again and mark it escalated. */
int store_alert_escalate(struct store *st, const char *alert_id, const char *org_id,
                         int64_t now, struct err *e);

/* ---- the audit log (tamper-evident) ---- */

/*
 * Every entry carries the keyed hash (BLAKE2b-256, key in DIR/audit.key)
 * of its fields and of the previous entry's hash, so an altered, inserted
 * or removed entry breaks the chain. The head (last seq and hash) is also
 * kept in meta, and each append is logged with its hash on stderr, so a
 * truncated tail shows too. Entries name who, what, which object and the
 * outcome: never content.
 */
struct store_audit_entry {
    const char *actor_user;   /* user id, or NULL for the system / CLI */
    const char *actor_login;  /* login, or e.g. "cli:root" */
    const char *actor_org;
    const char *remote;       /* client address, or NULL */
    const char *action;       /* e.g. "login.success", "report.read", "org.create" */
    const char *object_kind;  /* e.g. "report", "org", or NULL */
    const char *object_id;
    const char *outcome;      /* "ok", "denied", "failed" */
    const json_t *detail;     /* small JSON object, no content; NULL for {} */
};

/* Append one entry (its own transaction); *seq receives its number (may be NULL). */
int store_audit_append(struct store *st, const struct store_audit_entry *a, int64_t *seq,
                       struct err *e);

struct store_audit_filter {
    const char *actor_login, *action, *object_id;
    int64_t since, until;     /* seconds, 0 = open */
    int64_t before_seq;       /* 0 = from the newest */
};
/* Newest first, at most limit entries. */
int store_audit_list(struct store *st, const struct store_audit_filter *f, int limit,
                     json_t **out, struct err *e);

struct store_audit_check {
    int64_t entries;          /* entries checked */
    int64_t first_bad;        /* seq of the first broken entry, 0 if none */
    char reason[160];         /* why it is broken */
    char head[65];            /* hex hash of the last entry */
};
/* Walk the whole chain; 0 with first_bad = 0 when intact. */
int store_audit_verify(struct store *st, struct store_audit_check *out, struct err *e);

#endif
