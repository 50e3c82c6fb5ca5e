/*
 * store_int.h - the backend contract behind store.h.
 *
 * Each backend fills one struct store_ops; its own struct embeds
 * struct store first and downcasts with a check of ops (like git's
 * ref_storage_be, SQLite's sqlite3_vfs). store.c only dispatches, so the
 * semantics documented in store.h are each backend's duty; the same test
 * suite runs against every backend.
 */
#ifndef ISAC_STORE_INT_H
#define ISAC_STORE_INT_H

#include "store.h"

struct store_ops {
    const char *name;
    int (*open)(struct store **out, const char *dsn, bool create, struct err *e);
    void (*close)(struct store *st);
    int (*schema_version)(struct store *st);

    int (*sector_list)(struct store *st, bool include_disabled, json_t **out, struct err *e);
    int (*sector_get)(struct store *st, const char *code, json_t **out, struct err *e);
    int (*sector_create)(struct store *st, const json_t *sector, struct err *e);
    int (*sector_update)(struct store *st, const json_t *sector, struct err *e);
    int (*tier_list)(struct store *st, json_t **out, struct err *e);
    int (*tier_get)(struct store *st, const char *code, json_t **out, struct err *e);

    int (*org_create)(struct store *st, const json_t *org, struct err *e);
    int (*org_get)(struct store *st, const char *id, json_t **out, struct err *e);
    int (*org_update)(struct store *st, const json_t *org, struct err *e);
    int (*org_list)(struct store *st, const struct store_org_filter *f,
                    const struct store_page *page, json_t **out, struct err *e);

    int (*user_create)(struct store *st, const json_t *user, const char *pwhash, struct err *e);
    int (*user_get)(struct store *st, const char *id, const char *login, json_t **out,
                    struct err *e);
    int (*user_update)(struct store *st, const json_t *user, const char *pwhash, struct err *e);
    int (*user_list)(struct store *st, const struct store_user_filter *f,
                     const struct store_page *page, json_t **out, struct err *e);
    int (*user_pwhash)(struct store *st, const char *login, char **hash, struct err *e);
    int (*user_set_password)(struct store *st, const char *user_id, const char *pwhash,
                             const uint8_t *keep_session, struct err *e);

    int (*token_create)(struct store *st, const json_t *token, const uint8_t *hash, struct err *e);
    int (*token_get)(struct store *st, const char *id, json_t **out, struct err *e);
    int (*token_update)(struct store *st, const json_t *token, struct err *e);
    int (*token_list)(struct store *st, const struct store_token_filter *f,
                      const struct store_page *page, json_t **out, struct err *e);
    int (*token_touch)(struct store *st, const char *token_id, int64_t now, struct err *e);

    int (*auth_token)(struct store *st, const uint8_t *hash, struct store_principal *out,
                      struct err *e);
    int (*auth_session)(struct store *st, const uint8_t *hash, struct store_principal *out,
                        struct err *e);
    int (*session_create)(struct store *st, const uint8_t *hash, const char *user_id,
                          const char *csrf, int64_t now, int64_t expires_at, struct err *e);
    int (*session_delete)(struct store *st, const uint8_t *hash, struct err *e);

    int (*login_fail_add)(struct store *st, const char *key, int64_t now, int64_t older_than,
                          struct err *e);
    int (*login_fail_count)(struct store *st, const char *key, int64_t since, int *count,
                            int64_t *oldest, struct err *e);
    int (*login_fail_clear)(struct store *st, const char *key, struct err *e);
    int (*report_create)(struct store *st, const json_t *report, const json_t *revision,
                         const char *idem_scope, const char *idem_key, struct err *e);
    int (*report_create_async)(struct store *st, const json_t *report, const json_t *revision,
                               const char *idem_scope, const char *idem_key, struct err *e,
                               store_done_fn *done, void *ud);
    int (*report_revise)(struct store *st, const json_t *report, int expected_rev,
                         const json_t *revision, const char *idem_scope, const char *idem_key,
                         struct err *e);
    int (*report_get)(struct store *st, const struct store_report_access *acc, const char *id,
                      bool with_revisions, json_t **out, struct err *e);
    int (*report_list)(struct store *st, const struct store_report_access *acc,
                       const struct store_report_filter *f, const struct store_page *page,
                       json_t **out, struct err *e);
    int (*idem_lookup)(struct store *st, const char *scope, const char *key, char *report_id,
                       struct err *e);
    int (*report_by_regime)(struct store *st, const char *regime, json_t **out, struct err *e);
    int (*report_set_due)(struct store *st, const char *id, int64_t due_at, const char *due_stage,
                          struct err *e);
    int (*regime_list)(struct store *st, bool include_disabled, json_t **out, struct err *e);
    int (*regime_get)(struct store *st, const char *code, json_t **out, struct err *e);
    int (*regime_create)(struct store *st, const json_t *regime, struct err *e);
    int (*regime_update)(struct store *st, const json_t *regime, struct err *e);
    int (*nearmiss_put)(struct store *st, const char *org_id, const char *user_id,
                        const char *month, const json_t *entries, struct err *e);
    int (*nearmiss_list)(struct store *st, const char *org_id, const char *month, bool history,
                         int64_t after_id, int limit, json_t **out, struct err *e);
    int (*nearmiss_totals)(struct store *st, const char *from, const char *to, const char *sector,
                           const char *event_type, json_t **out, struct err *e);
    int (*audit_append)(struct store *st, const struct store_audit_entry *a, int64_t *seq,
                        struct err *e);
    int (*audit_list)(struct store *st, const struct store_audit_filter *f, int limit, json_t **out,
                      struct err *e);
    int (*audit_verify)(struct store *st, struct store_audit_check *out, struct err *e);
    int (*report_content_at)(struct store *st, const struct store_report_access *acc,
                             const char *id, int n, json_t **out, struct err *e);
    int (*release_create)(struct store *st, const json_t *release, const uint8_t *key,
                          size_t keylen, struct err *e);
    int (*release_get)(struct store *st, const struct store_release_access *acc, const char *id,
                       json_t **out, uint8_t *key, size_t keylen, struct err *e);
    int (*release_update)(struct store *st, const json_t *release, const char *from_state,
                          const json_t *targets, struct err *e);
    int (*release_list)(struct store *st, const struct store_release_access *acc,
                        const struct store_release_filter *f, int64_t after_seq,
                        const char *after_id, int limit, json_t **out, struct err *e);
    int (*audreq_create)(struct store *st, const json_t *req, struct err *e);
    int (*audreq_get)(struct store *st, const char *id, json_t **out, struct err *e);
    int (*audreq_list)(struct store *st, const char *release_id, const char *org_id,
                       const char *state, json_t **out, struct err *e);
    int (*audreq_decide)(struct store *st, const json_t *req, const json_t *release,
                         const json_t *targets, struct err *e);
    int (*setting_get)(struct store *st, const char *key, json_t **out, struct err *e);
    int (*setting_put)(struct store *st, const char *key, const json_t *value, const char *user_id,
                       struct err *e);
    int (*sector_member_counts)(struct store *st, json_t **out, struct err *e);
    int (*alert_create)(struct store *st, const json_t *alert, struct err *e);
    int (*alert_get)(struct store *st, const struct store_release_access *acc, const char *id,
                     json_t **out, struct err *e);
    int (*alert_update)(struct store *st, const json_t *alert, struct err *e);
    int (*alert_publish)(struct store *st, const char *id, const char *user_id,
                         const json_t *targets, int64_t *seq, struct err *e);
    int (*alert_list)(struct store *st, const struct store_release_access *acc,
                      const struct store_alert_filter *f, int64_t after_seq, const char *after_id,
                      int limit, json_t **out, struct err *e);
    int (*alert_events)(struct store *st, const struct store_release_access *acc, int64_t after_seq,
                        int limit, json_t **out, struct err *e);
    int (*alert_recipients)(struct store *st, const char *alert_id, json_t **out, struct err *e);
    int (*receipts_add)(struct store *st, const struct store_receipt *r, size_t n, struct err *e);
    int (*alert_queue)(struct store *st, const char *alert_id, struct err *e);
    int (*alert_receipts)(struct store *st, const char *alert_id, json_t **receipts,
                          json_t **recipients, struct err *e);
    int (*webhook_create)(struct store *st, const json_t *hook, const uint8_t *secret, size_t len,
                          struct err *e);
    int (*webhook_get)(struct store *st, const char *id, json_t **out, struct err *e);
    int (*webhook_list)(struct store *st, const char *org_id, json_t **out, struct err *e);
    int (*webhook_update)(struct store *st, const json_t *hook, struct err *e);
    int (*webhook_delete)(struct store *st, const char *id, struct err *e);
    int (*outbox_claim)(struct store *st, const char *channel, int64_t now, int64_t stale_ms,
                        int limit, json_t **out, struct err *e);
    int (*outbox_result)(struct store *st, int64_t id, bool ok, int status, const char *error,
                         int64_t duration_ms, int64_t next_at, struct err *e);
    int (*webhook_log)(struct store *st, const char *webhook_id, int limit, json_t **out,
                       struct err *e);
    int (*escalation_due)(struct store *st, int64_t published_before, int limit, json_t **out,
                          struct err *e);
    int (*alert_escalate)(struct store *st, const char *alert_id, const char *org_id, int64_t now,
                          struct err *e);
};

/* The common head of every backend's store. */
struct store {
    const struct store_ops *ops;
};

extern const struct store_ops store__sqlite_ops;

#endif
