/*
 * alert.h - countermeasure alerts (issue 5): validation and normalisation
 * of an alert's content for a new draft, a draft's patch and a new version
 * (correction, withdrawal); the rule checked before publishing; and the
 * conversion between that content and the store's row (store.h); the API
 * view of a row is api_alert_view(). No I/O.
 *
 * Content (API shape, what a client sends and gets back):
 *   title{ja,en}    at least one language, each <= LIMIT_ALERT_TITLE, one line
 *   summary{ja,en}  optional, each <= LIMIT_ALERT_TEXT
 *   actions{ja,en}  recommended actions: at least one language, <= LIMIT_ALERT_TEXT
 *   urgency         routine | urgent | critical (required)
 *   exercise        bool, default false; fixed for a series
 *   links           {releases[], reports[]}: ids, at most LIMIT_ALERT_LINKS each
 *   observables     [{type,value,role}], as in reports (model_observables_check)
 *   audience        {orgs[], sectors[], tiers[], all_members}: no "hub" (that is
 *                   the releases' provider hub); empty = nobody yet, allowed
 *                   in a draft, refused at publication
 *   tlp             TLP 2.0 label, default AMBER; RED only for named orgs
 * A text in two languages holds only the languages given: an absent or
 * null language is "no text in that language", a blank one an error.
 * Field errors name the
 * language and the entry: "title.ja", "links.reports[1]",
 * "observables[3].value", "audience.sectors[0]".
 *
 * Store row (store.h): {"id","series_id","version","kind","state",
 * "issuer_org","body":{"title","summary","actions","links","observables"},
 * "urgency","exercise","audience","tlp", stamps..., "pub_seq"}.
 */
#ifndef ISAC_MODEL_ALERT_H
#define ISAC_MODEL_ALERT_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "member.h"
#include "report.h"

/* routine, urgent, critical. */
bool model_alert_urgency_valid(const char *urgency);

/* The content members, NULL-terminated. */
extern const char *const model_alert_fields[];

/*
 * Validate alert content. MODEL_CREATE: title, actions and urgency
 * required, absent members get their defaults, and the whole-content rules
 * of model_alert_finish() are checked too. MODEL_PATCH: only the members
 * given, each of which replaces the current one whole (a text object, both
 * link lists, the audience); summary or links null: none, audience null:
 * nobody. ctx gives the known sector and tier codes (regimes and now are
 * unused). *out is the normalised object (new reference); on ERR_INVALID
 * the field errors are in e and *out is NULL.
 */
int model_alert_check(const json_t *in, enum model_mode mode, const struct model_report_ctx *ctx,
                      json_t **out, struct err *e);

/* A copy of content with the members of a validated patch replaced (new reference). */
json_t *model_alert_merge(const json_t *content, const json_t *patch);

/*
 * Rules over a whole content object (after a merge): title and actions
 * have at least one language; TLP:RED goes only to named organisations
 * (field "tlp"). Members absent from content are skipped (reported as
 * missing already).
 */
int model_alert_finish(const json_t *content, struct err *e);

/* Before publishing: the audience names someone (field "audience"). */
int model_alert_publish_check(const json_t *content, struct err *e);

/*
 * The content of a new version of the series whose latest version has
 * content prev. in is {"kind":"correction", <members to change>} (a patch
 * as in MODEL_PATCH, merged over prev; it must change something, and not
 * "exercise") or {"kind":"withdrawal","reason"} (prev unchanged but the
 * summary, replaced by the reason: a text, which goes in both languages,
 * or {ja,en}). *out the new content (new reference).
 */
int model_alert_version_check(const json_t *in, const json_t *prev,
                              const struct model_report_ctx *ctx, json_t **out, struct err *e);

/* The content of a store row (new reference). */
json_t *model_alert_content(const json_t *row);
/* Write content into a store row: its body, urgency, exercise, audience and tlp. */
void model_alert_set_content(json_t *row, const json_t *content);

#endif
