/*
 * report.h - incident and near-miss reports (DOMAIN.md §4, §5): the
 * vocabularies, validation and normalisation of report content and of its
 * observables, derived fields, and the difference between two revisions.
 * No I/O.
 *
 * Report content is a JSON object in the API shape:
 *   kind, event_type, causes[{code,detail}], layer,
 *   severity{continuity,safety,trust,overall}, sectors[], service, title,
 *   description, occurred_at, detected_at, recovered_at, basis, regime,
 *   status, followup, contact{name,email,phone}, share_with_hub,
 *   observables[{type,value,role}],
 *   audience{orgs[],sectors[],tiers[],all_members}, tlp, purpose, handling,
 *   preapproved (the provider approves every release of it in advance; false)
 * The audience is the provider's choice of who may receive releases of the
 * report beyond the coordinator (and its sector hub with share_with_hub);
 * tlp is the TLP 2.0 marking (labels never translated).
 * Unknown values are null (speed before completeness: a first report
 * needs only event_type, title and one sector).
 */
#ifndef ISAC_MODEL_REPORT_H
#define ISAC_MODEL_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "member.h"

bool model_event_type_valid(const char *code);
bool model_cause_valid(const char *code);
bool model_layer_valid(const char *code);
bool model_basis_valid(const char *code);
bool model_status_valid(const char *code);
bool model_observable_type_valid(const char *type);
/* TLP 2.0 labels: CLEAR, GREEN, AMBER, AMBER+STRICT, RED. */
bool model_tlp_valid(const char *label);

/* What validation needs to know of the world. */
struct model_report_ctx {
    const struct model_vocab *sectors; /* known sector codes */
    const struct model_vocab *regimes; /* known regime codes */
    int64_t now;                       /* seconds; timestamps may not be later (+5 min skew) */
    const struct model_vocab *tiers;   /* known tier codes (audience.tiers) */
};

/*
 * Validate report content. MODEL_CREATE: a new report (event_type, title,
 * sectors required; absent fields become null or their default).
 * MODEL_PATCH: the changes of a revision (every field optional; null
 * clears). *out is the normalised object (new reference).
 */
int model_report_check(const json_t *in, enum model_mode mode,
                       const struct model_report_ctx *ctx, json_t **out, struct err *e);

/*
 * Cross-field rules and derived fields of a whole content object (after a
 * create, or after merging a revision): severity.overall = max of the
 * assessed viewpoints; occurred_at not after detected_at or recovered_at.
 */
int model_report_finish(json_t *content, struct err *e);

/*
 * Normalise one observable value of type: lower-case domains and hashes,
 * canonical IP addresses and networks, upper-case CVE and ATT&CK ids, "AS"
 * numbers. Returns a new string in *out (free()) or sets *reason.
 */
bool model_observable_norm(const char *type, const char *value, char **out, const char **reason);

/*
 * Validate and normalise observables [{type, value, role}] (role defaults
 * to "other"; values through model_observable_norm(); the same typed value
 * twice is kept once), at most max of them: reports and alerts share it.
 * Errors at "observables", "observables[3].value", ... *out is the
 * normalised array (new reference), NULL on error.
 */
int model_observables_check(const json_t *v, size_t max, json_t **out, struct err *e);

/* [{field, before, after}] for each top-level field that differs (new reference). */
json_t *model_report_diff(const json_t *before, const json_t *after);

/*
 * A release's audience {hub, orgs, sectors, tiers, all_members} (absent
 * parts empty); *out normalised (new reference). Field errors "audience.*".
 */
int model_audience_check(const json_t *in, const struct model_report_ctx *ctx, json_t **out,
                         struct err *e);
/*
 * The first part of narrow that goes beyond wide ("audience.orgs[2]",
 * "audience.all_members", ...; written to buf where it needs an index), or
 * NULL when narrow is within wide. Conservative: a named organisation
 * inside an allowed sector still counts as widening.
 */
const char *model_audience_widens(const json_t *narrow, const json_t *wide, char *buf, size_t n);
/* TLP labels by strictness: CLEAR 0, GREEN 1, AMBER 2, AMBER+STRICT 3, RED 4; -1 unknown. */
int model_tlp_rank(const char *label);
/* TLP:RED is only for named organisations: no sector, tier, hub or all members. */
bool model_tlp_red_ok(const json_t *audience);

/* The content fields, in display order (NULL-terminated). */
extern const char *const model_report_fields[];

#endif
