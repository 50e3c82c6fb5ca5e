/*
 * alert.c - validation and normalisation of alert content; see alert.h.
 *
 * Like report.c, every check walks the whole input and reports each faulty
 * field, so a form can show all its errors at once.
 */
#include "alert.h"

#include <stdio.h>
#include <string.h>

#include "base/limits.h"
#include "base/util.h"
#include "model_int.h"

static const char *const urgencies[] = {"routine", "urgent", "critical"};
static const char *const langs[] = {"ja", "en"};
static const char *const link_lists[] = {"releases", "reports"};

const char *const model_alert_fields[] = {"title",    "summary", "actions",     "urgency",
                                          "exercise", "links",   "observables", "audience",
                                          "tlp",      NULL};

/* The members of the store row's body; the others sit on the row itself. */
static const char *const body_fields[] = {"title", "summary", "actions", "links", "observables"};

bool model_alert_urgency_valid(const char *u)
{
    return model__in_list(urgencies, MODEL_NELEM(urgencies), u);
}

/* ---- members ---- */

/* Limits and layout of the texts in two languages. */
static void text_limits(const char *field, size_t *max, bool *multiline)
{
    bool title = !strcmp(field, "title");
    *max = title ? LIMIT_ALERT_TITLE : LIMIT_ALERT_TEXT;
    *multiline = !title;
}

/* {"ja"?, "en"?} at field: absent or null languages left out, blank ones refused. NULL on error. */
static json_t *lang_text(const json_t *v, const char *field, struct err *e)
{
    if (!json_is_object(v)) {
        err_field(e, field, "must be an object with \"ja\" and/or \"en\", not %s",
                  model__type_name(v));
        return NULL;
    }
    char pre[48];
    snprintf(pre, sizeof(pre), "%s.", field);
    static const char *const allowed[] = {"ja", "en", NULL};
    size_t before = e->nfields;
    model__check_unknown(v, pre, allowed, e);
    size_t max;
    bool multiline;
    text_limits(field, &max, &multiline);
    json_t *o = json_object();
    for (size_t i = 0; i < MODEL_NELEM(langs); i++) {
        json_t *x = json_object_get(v, langs[i]);
        char f[48];
        snprintf(f, sizeof(f), "%s.%s", field, langs[i]);
        const char *s = x && !json_is_null(x) ? model__text(x, f, max, false, multiline, e)
                                              : NULL;
        if (s && model__blank(s))
            err_field(e, f, "must not be blank: leave the language out instead");
        else if (s)
            json_object_set_new(o, langs[i], json_string(s));
    }
    if (e->nfields != before) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * A text in two languages; a given one replaces the whole member. Whether
 * title and actions keep a language is model_alert_finish()'s to say.
 */
static void text_member(const json_t *in, json_t *o, const char *field, bool create,
                        bool required, struct err *e)
{
    json_t *v = json_object_get(in, field);
    if (v == NULL) {
        if (create && required)
            err_field(e, field, "required: give it in Japanese or English (or both)");
        else if (create)
            json_object_set_new(o, field, json_object());
        return;
    }
    if (json_is_null(v) && !required) {
        json_object_set_new(o, field, json_object()); /* no summary */
        return;
    }
    json_t *t = lang_text(v, field, e);
    if (t)
        json_object_set_new(o, field, t);
}

static void urgency_member(const json_t *in, json_t *o, bool create, struct err *e)
{
    json_t *v = json_object_get(in, "urgency");
    if (v == NULL) {
        if (create)
            err_field(e, "urgency", "required: routine, urgent or critical");
        return;
    }
    if (!model_alert_urgency_valid(json_string_value(v))) {
        err_field(e, "urgency", "must be routine, urgent or critical");
        return;
    }
    json_object_set(o, "urgency", v);
}

static void exercise_member(const json_t *in, json_t *o, bool create, struct err *e)
{
    json_t *v = json_object_get(in, "exercise");
    if (v == NULL) {
        if (create)
            json_object_set_new(o, "exercise", json_false());
        return;
    }
    if (!json_is_boolean(v)) {
        err_field(e, "exercise", "must be true or false");
        return;
    }
    json_object_set(o, "exercise", v);
}

/* Ids at field ("links.releases"): UUIDs, at most LIMIT_ALERT_LINKS, duplicates dropped. */
static json_t *id_list(const json_t *v, const char *field, const char *what, struct err *e)
{
    if (json_is_null(v))
        return json_array();
    if (!json_is_array(v) || json_array_size(v) > LIMIT_ALERT_LINKS) {
        err_field(e, field, "must be an array of at most %d %s ids", LIMIT_ALERT_LINKS, what);
        return NULL;
    }
    size_t before = e->nfields;
    json_t *arr = json_array();
    size_t i, j;
    json_t *x, *y;
    json_array_foreach(v, i, x)
    {
        char f[64];
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        const char *id = json_string_value(x);
        if (!util_is_uuid(id)) {
            err_field(e, f, "not a %s id", what);
            continue;
        }
        bool dup = false;
        json_array_foreach(arr, j, y) dup = dup || !strcmp(json_string_value(y), id);
        if (!dup)
            json_array_append_new(arr, json_string(id));
    }
    if (e->nfields != before) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* Links: a given object replaces both lists (an absent list is empty). */
static void links_member(const json_t *in, json_t *o, bool create, struct err *e)
{
    json_t *v = json_object_get(in, "links");
    if (v == NULL && !create)
        return;
    if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
        err_field(e, "links", "must be an object with releases and reports");
        return;
    }
    static const char *const allowed[] = {"releases", "reports", NULL};
    if (json_is_object(v))
        model__check_unknown(v, "links.", allowed, e);
    static const char *const what[] = {"release", "report"};
    json_t *links = json_object();
    bool ok = true;
    for (size_t i = 0; i < MODEL_NELEM(link_lists); i++) {
        json_t *x = json_object_get(v, link_lists[i]);
        char f[32];
        snprintf(f, sizeof(f), "links.%s", link_lists[i]);
        json_t *ids = x ? id_list(x, f, what[i], e) : json_array();
        if (ids)
            json_object_set_new(links, link_lists[i], ids);
        ok = ok && ids;
    }
    if (ok)
        json_object_set_new(o, "links", links);
    else
        json_decref(links);
}

static void observables_member(const json_t *in, json_t *o, bool create, struct err *e)
{
    json_t *v = json_object_get(in, "observables"), *arr = NULL;
    if (v == NULL && !create)
        return;
    if (v == NULL || json_is_null(v)) {
        json_object_set_new(o, "observables", json_array());
        return;
    }
    if (model_observables_check(v, LIMIT_ALERT_OBSERVABLES, &arr, e) == 0)
        json_object_set_new(o, "observables", arr);
}

/*
 * The audience: who receives the alert once published. The releases'
 * "hub" (the provider's hub) means nothing here: refused, not ignored.
 */
static void audience_member(const json_t *in, json_t *o, bool create,
                            const struct model_report_ctx *ctx, struct err *e)
{
    json_t *v = json_object_get(in, "audience");
    if (v == NULL && !create)
        return;
    json_t *a = NULL;
    if (v == NULL || json_is_null(v)) {
        a = json_pack("{s:[],s:[],s:[],s:b}", "orgs", "sectors", "tiers", "all_members", 0);
        json_object_set_new(o, "audience", a);
        return;
    }
    json_t *copy = json_is_object(v) ? json_copy(v) : json_incref(v);
    if (json_is_object(copy) && json_object_get(copy, "hub")) {
        err_field(e, "audience.hub", "unknown field: an alert goes to organisations, sectors, "
                                     "tiers or all members");
        json_object_del(copy, "hub");
    }
    struct err ae;
    err_init(&ae);
    if (model_audience_check(copy, ctx, &a, &ae) == 0) {
        json_object_del(a, "hub");
        json_object_set_new(o, "audience", a);
    }
    for (size_t i = 0; i < ae.nfields; i++)
        err_field(e, ae.fields[i].field, "%s", ae.fields[i].reason);
    json_decref(copy);
}

static void tlp_member(const json_t *in, json_t *o, bool create, struct err *e)
{
    json_t *v = json_object_get(in, "tlp");
    if (v == NULL) {
        /* TLP:AMBER unless the issuer says otherwise: limited disclosure, need to know. */
        if (create)
            json_object_set_new(o, "tlp", json_string("AMBER"));
        return;
    }
    if (!model_tlp_valid(json_string_value(v))) {
        err_field(e, "tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
        return;
    }
    json_object_set(o, "tlp", v);
}

/* ---- checks ---- */

int model_alert_check(const json_t *in, enum model_mode mode, const struct model_report_ctx *ctx,
                      json_t **out, struct err *e)
{
    *out = NULL;
    if (!json_is_object(in))
        return err_field(e, "", "must be a JSON object");
    bool create = mode == MODEL_CREATE;
    size_t before = e->nfields;
    bool was_truncated = e->fields_truncated;
    model__check_unknown(in, "", model_alert_fields, e);
    json_t *o = json_object();
    text_member(in, o, "title", create, true, e);
    text_member(in, o, "summary", create, false, e);
    text_member(in, o, "actions", create, true, e);
    urgency_member(in, o, create, e);
    exercise_member(in, o, create, e);
    links_member(in, o, create, e);
    observables_member(in, o, create, e);
    audience_member(in, o, create, ctx, e);
    tlp_member(in, o, create, e);
    if (create)
        model_alert_finish(o, e);
    if (e->nfields != before || e->fields_truncated != was_truncated || e->code) {
        json_decref(o);
        return e->code;
    }
    *out = o;
    return 0;
}

json_t *model_alert_merge(const json_t *content, const json_t *patch)
{
    json_t *m = json_deep_copy(content);
    json_object_update(m, (json_t *)patch);
    return m;
}

int model_alert_finish(const json_t *c, struct err *e)
{
    static const char *const required[] = {"title", "actions"};
    for (size_t i = 0; i < MODEL_NELEM(required); i++) {
        json_t *t = json_object_get(c, required[i]);
        if (t && json_object_size(t) == 0)
            err_field(e, required[i], "give it in Japanese or English (or both)");
    }
    /* Nothing marked for few eyes may be addressed to many. */
    const char *tlp = json_string_value(json_object_get(c, "tlp"));
    json_t *aud = json_object_get(c, "audience");
    if (tlp && aud && !strcmp(tlp, "RED") && !model_tlp_red_ok(aud))
        err_field(e, "tlp", "TLP:RED is for named recipients: an audience of named "
                            "organisations only, not sectors, tiers or all members");
    return e->code;
}

int model_alert_publish_check(const json_t *c, struct err *e)
{
    json_t *aud = json_object_get(c, "audience");
    static const char *const lists[] = {"orgs", "sectors", "tiers"};
    bool someone = json_is_true(json_object_get(aud, "all_members"));
    for (size_t i = 0; i < MODEL_NELEM(lists) && !someone; i++)
        someone = json_array_size(json_object_get(aud, lists[i])) > 0;
    if (!someone)
        err_field(e, "audience", "name who receives the alert (organisations, sectors, tiers "
                                 "or all members) before publishing it");
    return e->code;
}

/* ---- versions ---- */

/* The reason of a withdrawal as a two-language text; NULL with field errors. */
static json_t *withdrawal_reason(const json_t *v, struct err *e)
{
    json_t *t = NULL;
    if (v == NULL || json_is_null(v)) {
        err_field(e, "reason", "required: why the alert is withdrawn");
        return NULL;
    }
    if (json_is_string(v)) {
        const char *s = model__text(v, "reason", LIMIT_ALERT_TEXT, true, true, e);
        if (s == NULL)
            return NULL;
        /* One text serves both languages: every reader sees why. */
        t = model__blank(s) ? json_object() : json_pack("{s:s,s:s}", "ja", s, "en", s);
    } else {
        t = lang_text(v, "reason", e);
        if (t == NULL)
            return NULL;
    }
    if (json_object_size(t) == 0) {
        json_decref(t);
        err_field(e, "reason", "required: why the alert is withdrawn");
        return NULL;
    }
    return t;
}

static int withdrawal(const json_t *in, const json_t *prev, json_t **out, struct err *e)
{
    static const char *const allowed[] = {"kind", "reason", NULL};
    model__check_unknown(in, "", allowed, e);
    json_t *reason = withdrawal_reason(json_object_get(in, "reason"), e);
    if (e->code) {
        json_decref(reason);
        return e->code;
    }
    *out = json_deep_copy(prev);
    json_object_set_new(*out, "summary", reason);
    return 0;
}

static int correction(const json_t *in, const json_t *prev, const struct model_report_ctx *ctx,
                      json_t **out, struct err *e)
{
    json_t *fields = json_copy((json_t *)in), *patch = NULL;
    json_object_del(fields, "kind");
    json_t *ex = json_object_get(fields, "exercise");
    if (ex && !json_equal(ex, json_object_get(prev, "exercise")))
        err_field(e, "exercise", "a series stays an exercise or real traffic: issue a new alert");
    int rc = model_alert_check(fields, MODEL_PATCH, ctx, &patch, e);
    json_decref(fields);
    if (rc || e->code) {
        json_decref(patch);
        return e->code;
    }
    json_t *merged = model_alert_merge(prev, patch);
    json_decref(patch);
    if (json_equal(merged, (json_t *)prev))
        err_field(e, "kind", "a correction changes at least one field of the alert");
    if (model_alert_finish(merged, e)) {
        json_decref(merged);
        return e->code;
    }
    *out = merged;
    return 0;
}

int model_alert_version_check(const json_t *in, const json_t *prev,
                              const struct model_report_ctx *ctx, json_t **out, struct err *e)
{
    *out = NULL;
    if (!json_is_object(in))
        return err_field(e, "", "must be a JSON object");
    const char *kind = json_string_value(json_object_get(in, "kind"));
    if (kind && !strcmp(kind, "withdrawal"))
        return withdrawal(in, prev, out, e);
    if (kind && !strcmp(kind, "correction"))
        return correction(in, prev, ctx, out, e);
    return err_field(e, "kind", "required: correction or withdrawal");
}

/* ---- rows ---- */

json_t *model_alert_content(const json_t *row)
{
    json_t *c = json_object();
    json_t *body = json_object_get(row, "body");
    for (size_t i = 0; i < MODEL_NELEM(body_fields); i++) {
        json_t *v = json_object_get(body, body_fields[i]);
        if (v)
            json_object_set_new(c, body_fields[i], json_deep_copy(v));
    }
    static const char *const top[] = {"urgency", "exercise", "audience", "tlp"};
    for (size_t i = 0; i < MODEL_NELEM(top); i++) {
        json_t *v = json_object_get(row, top[i]);
        if (v)
            json_object_set_new(c, top[i], json_deep_copy(v));
    }
    return c;
}

void model_alert_set_content(json_t *row, const json_t *content)
{
    json_t *body = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)content, k, v)
    {
        if (model__in_list(body_fields, MODEL_NELEM(body_fields), k))
            json_object_set_new(body, k, json_deep_copy(v));
        else
            json_object_set_new(row, k, json_deep_copy(v));
    }
    json_object_set_new(row, "body", body);
}
