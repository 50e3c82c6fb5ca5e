/* deadline.c - see deadline.h. */
#include "deadline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "base/util.h"
#include "model_int.h"

int model_stage_rank(const char *stage)
{
    static const char *const order[] = {"draft", "first", "update", "final"};
    for (int i = 0; stage && i < 4; i++)
        if (!strcmp(order[i], stage))
            return i + 1;
    return 0;
}

static bool parse_duration(const char *d, long long *n, char *unit)
{
    size_t len = d ? strlen(d) : 0;
    if (len < 2 || len > 6)
        return false;
    char num[8];
    memcpy(num, d, len - 1);
    num[len - 1] = '\0';
    *unit = d[len - 1];
    return (*unit == 'h' || *unit == 'd' || *unit == 'M') && util_parse_int(num, 0, 9999, n);
}

bool model_duration_add(int64_t t, int offset_min, const char *dur, int64_t *out)
{
    long long n;
    char unit;
    if (!parse_duration(dur, &n, &unit))
        return false;
    if (unit == 'h') {
        *out = t + n * 3600;
        return true;
    }
    if (unit == 'd') {
        *out = t + n * 86400;
        return true;
    }
    /* Calendar months in the anchor's local time. */
    time_t local = (time_t)(t + (int64_t)offset_min * 60);
    struct tm tm;
    gmtime_r(&local, &tm);
    int months = tm.tm_mon + (int)n;
    int y = tm.tm_year + 1900 + months / 12, m = months % 12 + 1;
    int dim = util_days_in_month(y, m);
    int day = tm.tm_mday > dim ? dim : tm.tm_mday;
    char buf[40];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, day, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    int64_t lt;
    int off;
    if (!util_time_parse(buf, &lt, &off))
        return false;
    *out = lt - (int64_t)offset_min * 60;
    return true;
}

static bool duration_valid(const json_t *v)
{
    long long n;
    char unit;
    return json_is_null(v) || parse_duration(json_string_value(v), &n, &unit);
}

static json_t *steps_field(const json_t *v, struct err *e)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 8) {
        err_field(e, "steps", "must be an array of 1 to 8 steps");
        return NULL;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *s;
    int last = 0;
    json_array_foreach(v, i, s)
    {
        char pre[32], f[64];
        snprintf(pre, sizeof(pre), "steps[%zu]", i);
        if (!json_is_object(s)) {
            err_field(e, pre, "must be an object with stage and within");
            continue;
        }
        char pre2[40];
        snprintf(pre2, sizeof(pre2), "%s.", pre);
        static const char *const allowed[] = {"stage", "within", "within_if_intentional", NULL};
        model__check_unknown(s, pre2, allowed, e);
        const char *stage = json_string_value(json_object_get(s, "stage"));
        int rank = model_stage_rank(stage);
        snprintf(f, sizeof(f), "%s.stage", pre);
        if (rank < 2) {
            err_field(e, f, "must be first, update or final");
            continue;
        }
        if (rank < last)
            err_field(e, f, "steps must follow the order first, update, final");
        last = rank;
        json_t *w = json_object_get(s, "within"), *wi = json_object_get(s, "within_if_intentional");
        snprintf(f, sizeof(f), "%s.within", pre);
        if (w == NULL || !duration_valid(w)) {
            err_field(e, f, "must be a duration like 24h, 30d or 1M, or null for promptly");
            continue;
        }
        snprintf(f, sizeof(f), "%s.within_if_intentional", pre);
        if (wi && (json_is_null(wi) || !duration_valid(wi))) {
            err_field(e, f, "must be a duration like 60d");
            continue;
        }
        json_t *o = json_pack("{s:s,s:O}", "stage", stage, "within", w);
        if (wi)
            json_object_set(o, "within_if_intentional", wi);
        json_array_append_new(arr, o);
    }
    return arr;
}

int model_regime_check(const json_t *in, enum model_mode mode, json_t **out, struct err *e)
{
    if (!json_is_object(in))
        return err_field(e, "", "must be a JSON object");
    bool create = mode == MODEL_CREATE;
    static const char *const c_allowed[] = {"code", "name", "steps", NULL};
    static const char *const p_allowed[] = {"name", "steps", "disabled", NULL};
    model__check_unknown(in, "", create ? c_allowed : p_allowed, e);
    /* Sectors and regimes share the shape of code and name. */
    json_t *base = NULL, *sub = json_object();
    if (create && json_object_get(in, "code"))
        json_object_set(sub, "code", json_object_get(in, "code"));
    if (json_object_get(in, "name"))
        json_object_set(sub, "name", json_object_get(in, "name"));
    model_sector_check(sub, mode, &base, e);
    json_decref(sub);
    json_t *o = base ? base : json_object();
    json_t *sv = json_object_get(in, "steps");
    if (sv || create) {
        json_t *steps = sv ? steps_field(sv, e) : NULL;
        if (!sv)
            err_field(e, "steps", "required");
        if (steps)
            json_object_set_new(o, "steps", steps);
    }
    json_t *d = json_object_get(in, "disabled");
    if (d && !json_is_boolean(d))
        err_field(e, "disabled", "must be true or false");
    else if (d)
        json_object_set(o, "disabled", d);
    if (e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

static bool intentional(const json_t *content)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(content, "causes"), i, c) if (
        !strcmp(json_string_value(json_object_get(c, "code")) ?: "", "intentional")) return true;
    return false;
}

void model_deadline_next(const json_t *regime, const json_t *content, const char *stage_reached,
                         int64_t fallback_ts, struct model_due *out)
{
    memset(out, 0, sizeof(*out));
    int reached = model_stage_rank(stage_reached);
    if (regime == NULL || reached < 1 || json_is_true(json_object_get(regime, "disabled")))
        return;
    int64_t anchor = fallback_ts;
    int off = 0;
    const char *keys[] = {"detected_at", "occurred_at"};
    for (int i = 0; i < 2; i++) {
        const char *s = json_string_value(json_object_get(content, keys[i]));
        if (s && util_time_parse(s, &anchor, &off))
            break;
    }
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(regime, "steps"), i, step)
    {
        const char *stage = json_string_value(json_object_get(step, "stage"));
        if (model_stage_rank(stage) <= reached)
            continue;
        json_t *w = json_object_get(step, "within");
        json_t *wi = json_object_get(step, "within_if_intentional");
        if (wi && intentional(content))
            w = wi;
        out->has = true;
        out->stage = stage;
        out->offset_min = off;
        if (json_is_null(w) || !model_duration_add(anchor, off, json_string_value(w), &out->due)) {
            out->promptly = true;
            out->due = anchor; /* "promptly" is due from the anchor on */
        }
        return;
    }
}
