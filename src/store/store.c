/*
 * store.c - dispatch from store.h to the chosen backend (store_int.h).
 *
 * Nothing here knows SQL; it picks the backend and forwards. Keeping this
 * file trivial is what lets a second backend drop in without callers
 * changing.
 */
#include "store_int.h"

#include <string.h>

int store_open(struct store **out, const char *dsn, bool create, struct err *e)
{
    /* "postgres://" and "postgresql://" DSNs are reserved for the PostgreSQL backend. */
    if (!strncmp(dsn, "postgres://", 11) || !strncmp(dsn, "postgresql://", 13))
        return err_set(e, ERR_STORE, "the PostgreSQL backend is not built into this isac");
    if (!strncmp(dsn, "sqlite:", 7))
        dsn += 7;
    return store__sqlite_ops.open(out, dsn, create, e);
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
    return st->ops->name;
}
int store_schema_version(struct store *st)
{
    return st->ops->schema_version(st);
}

int store_sector_list(struct store *st, bool inc, json_t **out, struct err *e)
{
    return st->ops->sector_list(st, inc, out, e);
}
int store_sector_get(struct store *st, const char *code, json_t **out, struct err *e)
{
    return st->ops->sector_get(st, code, out, e);
}
int store_sector_create(struct store *st, const json_t *s, struct err *e)
{
    return st->ops->sector_create(st, s, e);
}
int store_sector_update(struct store *st, const json_t *s, struct err *e)
{
    return st->ops->sector_update(st, s, e);
}
int store_tier_list(struct store *st, json_t **out, struct err *e)
{
    return st->ops->tier_list(st, out, e);
}
int store_tier_get(struct store *st, const char *code, json_t **out, struct err *e)
{
    return st->ops->tier_get(st, code, out, e);
}

int store_org_create(struct store *st, const json_t *o, struct err *e)
{
    return st->ops->org_create(st, o, e);
}
int store_org_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    return st->ops->org_get(st, id, out, e);
}
int store_org_update(struct store *st, const json_t *o, struct err *e)
{
    return st->ops->org_update(st, o, e);
}
int store_org_list(struct store *st, const struct store_org_filter *f, const struct store_page *p,
                   json_t **out, struct err *e)
{
    return st->ops->org_list(st, f, p, out, e);
}

int store_user_create(struct store *st, const json_t *u, const char *pwhash, struct err *e)
{
    return st->ops->user_create(st, u, pwhash, e);
}
int store_user_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    return st->ops->user_get(st, id, NULL, out, e);
}
int store_user_get_by_login(struct store *st, const char *login, json_t **out, struct err *e)
{
    return st->ops->user_get(st, NULL, login, out, e);
}
int store_user_update(struct store *st, const json_t *u, const char *pwhash, struct err *e)
{
    return st->ops->user_update(st, u, pwhash, e);
}
int store_user_list(struct store *st, const struct store_user_filter *f, const struct store_page *p,
                    json_t **out, struct err *e)
{
    return st->ops->user_list(st, f, p, out, e);
}
int store_user_pwhash(struct store *st, const char *login, char **hash, struct err *e)
{
    return st->ops->user_pwhash(st, login, hash, e);
}
int store_user_set_password(struct store *st, const char *user_id, const char *pwhash,
                            const uint8_t *keep, struct err *e)
{
    return st->ops->user_set_password(st, user_id, pwhash, keep, e);
}

int store_token_create(struct store *st, const json_t *t, const uint8_t hash[STORE_HASH_LEN],
                       struct err *e)
{
    return st->ops->token_create(st, t, hash, e);
}
int store_token_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    return st->ops->token_get(st, id, out, e);
}
int store_token_update(struct store *st, const json_t *t, struct err *e)
{
    return st->ops->token_update(st, t, e);
}
int store_token_list(struct store *st, const struct store_token_filter *f,
                     const struct store_page *p, json_t **out, struct err *e)
{
    return st->ops->token_list(st, f, p, out, e);
}
int store_token_touch(struct store *st, const char *id, int64_t now, struct err *e)
{
    return st->ops->token_touch(st, id, now, e);
}

int store_auth_token(struct store *st, const uint8_t hash[STORE_HASH_LEN],
                     struct store_principal *out, struct err *e)
{
    return st->ops->auth_token(st, hash, out, e);
}
int store_auth_session(struct store *st, const uint8_t hash[STORE_HASH_LEN],
                       struct store_principal *out, struct err *e)
{
    return st->ops->auth_session(st, hash, out, e);
}
int store_session_create(struct store *st, const uint8_t hash[STORE_HASH_LEN], const char *user_id,
                         const char *csrf, int64_t now, int64_t exp, struct err *e)
{
    return st->ops->session_create(st, hash, user_id, csrf, now, exp, e);
}
int store_session_delete(struct store *st, const uint8_t hash[STORE_HASH_LEN], struct err *e)
{
    return st->ops->session_delete(st, hash, e);
}

int store_login_fail_add(struct store *st, const char *key, int64_t now, int64_t older,
                         struct err *e)
{
    return st->ops->login_fail_add(st, key, now, older, e);
}
int store_login_fail_count(struct store *st, const char *key, int64_t since, int *count,
                           int64_t *oldest, struct err *e)
{
    return st->ops->login_fail_count(st, key, since, count, oldest, e);
}
int store_login_fail_clear(struct store *st, const char *key, struct err *e)
{
    return st->ops->login_fail_clear(st, key, e);
}

int store_report_create(struct store *st, const json_t *r, const json_t *rev, const char *scope,
                        const char *key, struct err *e)
{
    return st->ops->report_create(st, r, rev, scope, key, e);
}
int store_report_create_async(struct store *st, const json_t *r, const json_t *rev,
                              const char *scope, const char *key, struct err *e,
                              store_done_fn *done, void *ud)
{
    return st->ops->report_create_async(st, r, rev, scope, key, e, done, ud);
}
int store_report_revise(struct store *st, const json_t *r, int expected, const json_t *rev,
                        const char *scope, const char *key, struct err *e)
{
    return st->ops->report_revise(st, r, expected, rev, scope, key, e);
}
int store_report_get(struct store *st, const struct store_report_access *acc, const char *id,
                     bool with_revisions, json_t **out, struct err *e)
{
    return st->ops->report_get(st, acc, id, with_revisions, out, e);
}
int store_report_list(struct store *st, const struct store_report_access *acc,
                      const struct store_report_filter *f, const struct store_page *p, json_t **out,
                      struct err *e)
{
    return st->ops->report_list(st, acc, f, p, out, e);
}
int store_idem_lookup(struct store *st, const char *scope, const char *key, char report_id[40],
                      struct err *e)
{
    return st->ops->idem_lookup(st, scope, key, report_id, e);
}
int store_report_by_regime(struct store *st, const char *regime, json_t **out, struct err *e)
{
    return st->ops->report_by_regime(st, regime, out, e);
}
int store_report_set_due(struct store *st, const char *id, int64_t due_at, const char *due_stage,
                         struct err *e)
{
    return st->ops->report_set_due(st, id, due_at, due_stage, e);
}
int store_regime_list(struct store *st, bool inc, json_t **out, struct err *e)
{
    return st->ops->regime_list(st, inc, out, e);
}
int store_regime_get(struct store *st, const char *code, json_t **out, struct err *e)
{
    return st->ops->regime_get(st, code, out, e);
}
int store_regime_create(struct store *st, const json_t *r, struct err *e)
{
    return st->ops->regime_create(st, r, e);
}
int store_regime_update(struct store *st, const json_t *r, struct err *e)
{
    return st->ops->regime_update(st, r, e);
}
int store_nearmiss_put(struct store *st, const char *org_id, const char *user_id, const char *month,
                       const json_t *entries, struct err *e)
{
    return st->ops->nearmiss_put(st, org_id, user_id, month, entries, e);
}
int store_nearmiss_list(struct store *st, const char *org_id, const char *month, bool history,
                        int64_t after_id, int limit, json_t **out, struct err *e)
{
    return st->ops->nearmiss_list(st, org_id, month, history, after_id, limit, out, e);
}
int store_nearmiss_totals(struct store *st, const char *from, const char *to, const char *sector,
                          const char *event_type, json_t **out, struct err *e)
{
    return st->ops->nearmiss_totals(st, from, to, sector, event_type, out, e);
}

int store_audit_append(struct store *st, const struct store_audit_entry *a, int64_t *seq,
                       struct err *e)
{
    return st->ops->audit_append(st, a, seq, e);
}
int store_audit_list(struct store *st, const struct store_audit_filter *f, int limit, json_t **out,
                     struct err *e)
{
    return st->ops->audit_list(st, f, limit, out, e);
}
int store_audit_verify(struct store *st, struct store_audit_check *out, struct err *e)
{
    return st->ops->audit_verify(st, out, e);
}

int store_report_content_at(struct store *st, const struct store_report_access *acc, const char *id,
                            int n, json_t **out, struct err *e)
{
    return st->ops->report_content_at(st, acc, id, n, out, e);
}
int store_release_create(struct store *st, const json_t *release, const uint8_t *key, size_t keylen,
                         struct err *e)
{
    return st->ops->release_create(st, release, key, keylen, e);
}
int store_release_get(struct store *st, const struct store_release_access *acc, const char *id,
                      json_t **out, uint8_t *key, size_t keylen, struct err *e)
{
    return st->ops->release_get(st, acc, id, out, key, keylen, e);
}
int store_release_update(struct store *st, const json_t *release, const char *from_state,
                         const json_t *targets, struct err *e)
{
    return st->ops->release_update(st, release, from_state, targets, e);
}
int store_release_list(struct store *st, const struct store_release_access *acc,
                       const struct store_release_filter *f, int64_t after_seq,
                       const char *after_id, int limit, json_t **out, struct err *e)
{
    return st->ops->release_list(st, acc, f, after_seq, after_id, limit, out, e);
}
int store_audreq_create(struct store *st, const json_t *req, struct err *e)
{
    return st->ops->audreq_create(st, req, e);
}
int store_audreq_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    return st->ops->audreq_get(st, id, out, e);
}
int store_audreq_list(struct store *st, const char *release_id, const char *org_id,
                      const char *state, json_t **out, struct err *e)
{
    return st->ops->audreq_list(st, release_id, org_id, state, out, e);
}
int store_audreq_decide(struct store *st, const json_t *req, const json_t *release,
                        const json_t *targets, struct err *e)
{
    return st->ops->audreq_decide(st, req, release, targets, e);
}
int store_setting_get(struct store *st, const char *key, json_t **out, struct err *e)
{
    return st->ops->setting_get(st, key, out, e);
}
int store_setting_put(struct store *st, const char *key, const json_t *value, const char *user_id,
                      struct err *e)
{
    return st->ops->setting_put(st, key, value, user_id, e);
}
int store_sector_member_counts(struct store *st, json_t **out, struct err *e)
{
    return st->ops->sector_member_counts(st, out, e);
}
int store_alert_create(struct store *st, const json_t *alert, struct err *e)
{
    return st->ops->alert_create(st, alert, e);
}
int store_alert_get(struct store *st, const struct store_release_access *acc, const char *id,
                    json_t **out, struct err *e)
{
    return st->ops->alert_get(st, acc, id, out, e);
}
int store_alert_update(struct store *st, const json_t *alert, struct err *e)
{
    return st->ops->alert_update(st, alert, e);
}
int store_alert_publish(struct store *st, const char *id, const char *user_id,
                        const json_t *targets, int64_t *seq, struct err *e)
{
    return st->ops->alert_publish(st, id, user_id, targets, seq, e);
}
int store_alert_list(struct store *st, const struct store_release_access *acc,
                     const struct store_alert_filter *f, int64_t after_seq, const char *after_id,
                     int limit, json_t **out, struct err *e)
{
    return st->ops->alert_list(st, acc, f, after_seq, after_id, limit, out, e);
}
int store_alert_events(struct store *st, const struct store_release_access *acc, int64_t after_seq,
                       int limit, json_t **out, struct err *e)
{
    return st->ops->alert_events(st, acc, after_seq, limit, out, e);
}
int store_alert_recipients(struct store *st, const char *alert_id, json_t **out, struct err *e)
{
    return st->ops->alert_recipients(st, alert_id, out, e);
}
int store_receipts_add(struct store *st, const struct store_receipt *r, size_t n, struct err *e)
{
    return st->ops->receipts_add(st, r, n, e);
}
int store_alert_receipts(struct store *st, const char *alert_id, json_t **receipts,
                         json_t **recipients, struct err *e)
{
    return st->ops->alert_receipts(st, alert_id, receipts, recipients, e);
}
int store_webhook_create(struct store *st, const json_t *hook, const uint8_t *secret, size_t len,
                         struct err *e)
{
    return st->ops->webhook_create(st, hook, secret, len, e);
}
int store_webhook_get(struct store *st, const char *id, json_t **out, struct err *e)
{
    return st->ops->webhook_get(st, id, out, e);
}
int store_webhook_list(struct store *st, const char *org_id, json_t **out, struct err *e)
{
    return st->ops->webhook_list(st, org_id, out, e);
}
int store_webhook_update(struct store *st, const json_t *hook, struct err *e)
{
    return st->ops->webhook_update(st, hook, e);
}
int store_webhook_delete(struct store *st, const char *id, struct err *e)
{
    return st->ops->webhook_delete(st, id, e);
}
int store_outbox_claim(struct store *st, const char *channel, int64_t now, int64_t stale_ms,
                       int limit, json_t **out, struct err *e)
{
    return st->ops->outbox_claim(st, channel, now, stale_ms, limit, out, e);
}
int store_outbox_result(struct store *st, int64_t id, bool ok, int status, const char *error,
                        int64_t duration_ms, int64_t next_at, struct err *e)
{
    return st->ops->outbox_result(st, id, ok, status, error, duration_ms, next_at, e);
}
int store_webhook_log(struct store *st, const char *webhook_id, int limit, json_t **out,
                      struct err *e)
{
    return st->ops->webhook_log(st, webhook_id, limit, out, e);
}
int store_escalation_due(struct store *st, int64_t published_before, int limit, json_t **out,
                         struct err *e)
{
    return st->ops->escalation_due(st, published_before, limit, out, e);
}
int store_alert_escalate(struct store *st, const char *alert_id, const char *org_id, int64_t now,
                         struct err *e)
{
    return st->ops->alert_escalate(st, alert_id, org_id, now, e);
}
int store_alert_queue(struct store *st, const char *alert_id, struct err *e)
{
    return st->ops->alert_queue(st, alert_id, e);
}
