/*
 * deadline.h - reporting regimes and the deadlines they set (DOMAIN.md §5).
 *
 * A regime is data: {"code","name":{"ja","en"},"steps":[...]} where each
 * step says which report stage is due and within how long of the anchor:
 *   {"stage":"first","within":"24h"}
 *   {"stage":"final","within":"30d","within_if_intentional":"60d"}
 *   {"stage":"first","within":null}            -- "promptly": no fixed time
 * Durations: N h (hours), N d (days), N M (calendar months). The anchor is
 * the report's detected_at, else occurred_at, else its first submission.
 * Month arithmetic is done in the anchor's own UTC offset and clamps to
 * the month's last day (Jan 31 + 1M = Feb 28/29), so "one month" means
 * what the reporter's calendar says.
 */
#ifndef ISAC_MODEL_DEADLINE_H
#define ISAC_MODEL_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "member.h"

/* Report stages in order; 0 for an unknown stage. draft < first < update < final. */
int model_stage_rank(const char *stage);

/* Validate a regime body (create: code, name, steps; patch: name, steps, disabled). */
int model_regime_check(const json_t *in, enum model_mode mode, json_t **out, struct err *e);

/* Add a duration ("24h", "30d", "1M") to t, in the given UTC offset. */
bool model_duration_add(int64_t t, int offset_min, const char *dur, int64_t *out);

struct model_due {
    bool has;            /* a step is still to be reported */
    const char *stage;   /* that step's stage (points into the regime) */
    bool promptly;       /* no fixed time: "promptly" */
    int64_t due;         /* seconds since the epoch (the anchor itself when promptly) */
    int offset_min;      /* the anchor's offset, for display */
};

/*
 * The next step of regime that a report at stage_reached has not yet
 * satisfied (a draft has satisfied none). content gives the anchor times
 * and causes; fallback_ts anchors a report that knows neither detected_at
 * nor occurred_at (its first submission, or creation for a draft).
 */
void model_deadline_next(const json_t *regime, const json_t *content, const char *stage_reached,
                         int64_t fallback_ts, struct model_due *out);

#endif
