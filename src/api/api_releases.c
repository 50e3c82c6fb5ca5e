/*
 * api_releases.c - releases (the anonymized versions of reports that others
 * than the provider and the coordinator see), consent requests to widen
 * them, the recipients' inbox and its STIX export.
 *
 * Workflow, per version of a report's release:
 *   draft --submit--> pending --approve--> approved --publish--> published
 *     ^                  |                  (pre-approved reports skip pending)
 *     +---edit--- refused <-refuse-+        published --withdraw--> withdrawn
 * Publishing version N supersedes the report's published version N-1.
 * The coordinator's analysts prepare, submit, publish and withdraw; the
 * provider approves or refuses, seeing exactly the text that will go out.
 * Audiences only narrow without the provider: widening (or loosening the
 * TLP) goes through a consent request the provider approves.
 *
 * Every read goes through auth_release_access() (the store filters) and
 * auth_release_redact() (recipients see content and marking only).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "anon/anon.h"
#include "api_int.h"
#include "base/jw.h"
#include "base/limits.h"
#include "base/util.h"
#include "model/report.h"
#include "stix/stix.h"

#define RELEASE_BODY_MAX (LIMIT_REPORT_BODY_BYTES)
#define EXPORT_MAX 1000

/* ---- loading ---- */

/* A release the caller may see, unredacted; NULL with c->e set. */
static json_t *load_release(struct api_call *c, const char *id, uint8_t *key)
{
    json_t *r = NULL;
    if (!util_is_uuid(id)) {
        err_set(&c->e, ERR_NOTFOUND, "release not found");
        return NULL;
    }
    struct store_release_access acc;
    auth_release_access(&c->id, &acc);
    if (store_release_get(c->api->st, &acc, id, &r, key, key ? ANON_KEY_BYTES : 0, &c->e))
        return NULL;
    return r;
}

/* What a release is made of: the report's content, without marking and handling fields. */
static json_t *release_source(const json_t *report)
{
    static const char *const fields[] = {
        "kind",        "event_type",  "causes",       "layer",  "severity",
        "sectors",     "service",     "title",        "description",
        "occurred_at", "detected_at", "recovered_at", "status", "followup",
        "contact",     "observables", "purpose",     "handling"};
    json_t *c = json_object();
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(report, fields[i]);
        json_object_set(c, fields[i], v ? v : json_null());
    }
    return c;
}

/*
 * The marking's texts are written by the provider, so they go through the
 * anonymizer with the rest; the release carries them beside its content.
 */
static void lift_marking_texts(json_t *rel, json_t *content)
{
    static const char *const texts[] = {"purpose", "handling"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(content, texts[i]);
        json_object_set(rel, texts[i], v ? v : json_null());
        json_object_del(content, texts[i]);
    }
}

/* The audience the provider chose in the report: its audience, plus its hub. */
static json_t *report_audience(const json_t *report)
{
    json_t *a = json_deep_copy(json_object_get(report, "audience"));
    if (!json_is_object(a)) {
        json_decref(a);
        a = json_pack("{s:[],s:[],s:[],s:b}", "orgs", "sectors", "tiers", "all_members", 0);
    }
    json_object_set_new(a, "hub", json_boolean(json_is_true(json_object_get(report,
                                                                            "share_with_hub"))));
    return a;
}

static void respond_release(struct api_call *c, int status, json_t *r)
{
    json_object_del(r, "pub_seq");
    auth_release_redact(&c->id, r);
    http_respond_json(c->req, status, r);
}

/* Reload and send a release after a write (the store filled stamps and versions). */
static void respond_fresh(struct api_call *c, const char *id, int status)
{
    json_t *r = load_release(c, id, NULL);
    if (r == NULL) {
        api__problem(c);
        return;
    }
    if (status == 201) {
        json_object_del(r, "pub_seq");
        auth_release_redact(&c->id, r);
        api__respond_created(c, "releases", id, r);
        return;
    }
    respond_release(c, status, r);
}

static bool must_be_analyst(struct api_call *c)
{
    return auth_is_coordinator_analyst(&c->id) ||
           api__deny(c, "only the coordinator's analysts prepare and publish releases");
}

/* The state the release must be in; 409 naming it otherwise. */
static bool in_state(struct api_call *c, const json_t *r, const char *want, const char *doing)
{
    if (api__is(api__jstr(r, "state"), want))
        return true;
    err_set(&c->e, ERR_CONFLICT, "the release is %s: only a %s release can be %s",
            api__jstr(r, "state"), want, doing);
    api__problem(c);
    return false;
}

static void audit_release(struct api_call *c, const char *action, const json_t *r,
                          json_t *detail)
{
    if (detail == NULL)
        detail = json_object();
    json_object_set_new(detail, "report_id", json_string(api__jstr(r, "report_id")));
    json_object_set_new(detail, "provider_org", json_string(api__jstr(r, "org_id")));
    json_object_set_new(detail, "version", json_incref(json_object_get(r, "version")));
    api__audit(c, action, "release", api__jstr(r, "id"), "ok", detail);
}

/* Where a published release goes: its audience, the provider, the hubs of its sectors. */
static json_t *targets_of(struct api_call *c, const json_t *rel, const json_t *audience)
{
    json_t *org = NULL;
    if (store_org_get(c->api->st, api__jstr(rel, "org_id"), &org, &c->e))
        return NULL;
    json_t *t =
        auth_release_targets(audience, api__jstr(rel, "org_id"), json_object_get(org, "sectors"));
    json_decref(org);
    return t;
}

/* ---- create ---- */

void api__release_create(struct api_call *c)
{
    if (!must_be_analyst(c))
        return;
    json_t *body = api__optional_body(c);
    static const char *const none[] = {NULL};
    if (body == NULL)
        return;
    if (!api__only_fields(c, body, none)) {
        json_decref(body);
        api__problem(c);
        return;
    }
    json_decref(body);
    json_t *report = api__report_load(c, c->params[0], false);
    if (report == NULL) {
        api__problem(c);
        return;
    }
    if (api__is(api__jstr(report, "stage"), "draft")) {
        json_decref(report);
        err_field(&c->e, "report", "a draft cannot be released: its provider has not submitted it");
        api__problem(c);
        return;
    }
    struct anon_rules *rules = NULL;
    json_t *org = NULL, *ctx = NULL, *content = NULL, *redactions = NULL;
    json_t *src = release_source(report);
    unsigned char key[ANON_KEY_BYTES];
    randombytes_buf(key, sizeof(key));
    if (api__anon_load(c, api__jstr(report, "org_id"), &rules, &org, &ctx) == 0)
        anon_propose(rules, org, src, ctx, key, &content, &redactions, &c->e);
    anon_rules_free(rules);
    json_decref(org);
    json_decref(ctx);
    json_decref(src);
    if (c->e.code) {
        json_decref(report);
        api__problem(c);
        return;
    }
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    json_t *rel = json_pack("{s:s,s:s,s:s,s:O,s:o,s:o,s:o,s:O,s:s}", "id", id, "report_id",
                            api__jstr(report, "id"), "org_id", api__jstr(report, "org_id"),
                            "report_revision", json_object_get(report, "revision"), "content",
                            content, "redactions", redactions, "audience", report_audience(report),
                            "tlp", json_object_get(report, "tlp"), "created_by", c->id.p.user_id);
    json_decref(report);
    if (rel == NULL) {
        api__fail(c, ERR_NOMEM, "release");
        return;
    }
    lift_marking_texts(rel, json_object_get(rel, "content"));
    if (store_release_create(c->api->st, rel, key, sizeof(key), &c->e) == 0)
        audit_release(c, "release.create", rel, NULL);
    sodium_memzero(key, sizeof(key));
    json_decref(rel);
    if (c->e.code) {
        api__problem(c);
        return;
    }
    respond_fresh(c, id, 201);
}

/* ---- reads ---- */

void api__release_get(struct api_call *c)
{
    json_t *r = load_release(c, c->params[0], NULL);
    if (r == NULL) {
        api__problem(c);
        return;
    }
    /* A marked release is restricted content: no record, no read. */
    if (!api__audit_read(c, "release.read", "release", r)) {
        json_decref(r);
        return;
    }
    respond_release(c, 200, r);
}

void api__report_releases(struct api_call *c)
{
    json_t *report = api__report_load(c, c->params[0], false);
    if (report == NULL) {
        api__problem(c);
        return;
    }
    json_decref(report);
    struct store_release_access acc;
    auth_release_access(&c->id, &acc);
    struct store_release_filter f = {.state = "any", .report_id = c->params[0],
                                     .min_severity = -1};
    json_t *items = NULL;
    if (store_release_list(c->api->st, &acc, &f, 0, NULL, LIMIT_PAGE_MAX, &items, &c->e)) {
        api__problem(c);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        json_object_del(r, "pub_seq");
        auth_release_redact(&c->id, r);
    }
    http_respond_json(c->req, 200, json_pack("{s:o}", "items", items));
}

static const char *const release_states[] = {"draft",      "pending",    "approved", "refused",
                                             "published",  "superseded", "withdrawn", "any"};

/* The inbox's and the work queue's filters; false after responding 400. */
static bool release_filter(struct api_call *c, struct store_release_filter *f)
{
    bool bad = false;
    memset(f, 0, sizeof(*f));
    f->min_severity = -1;
    f->state = api__query(c, "state", 16, &bad);
    f->report_id = api__query_id(c, "report_id", &bad);
    f->sector = api__query_code(c, "sector", API_VOCAB_SECTORS, &bad);
    f->event_type = api__query(c, "event_type", 32, &bad);
    f->tlp = api__query(c, "tlp", 16, &bad);
    f->q = api__query(c, "q", LIMIT_QUERY_CHARS, &bad);
    struct api_range range;
    api__range_query(c, &range, &bad);
    if (bad)
        return false;
    bool known = f->state == NULL;
    for (size_t i = 0; i < sizeof(release_states) / sizeof(release_states[0]) && !known; i++)
        known = !strcmp(f->state, release_states[i]);
    if (!known)
        api__bad_param(c, "state", "must be draft, pending, approved, refused, published, "
                                   "superseded, withdrawn or any");
    else if (f->event_type && !model_event_type_valid(f->event_type))
        api__bad_param(c, "event_type", "unknown event type");
    else if (f->tlp && !model_tlp_valid(f->tlp))
        api__bad_param(c, "tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
    else
        return api__range_check(c, &range, &f->min_severity, &f->since, &f->until);
    return false;
}

/* Record which marked releases a recipient was shown (ids only); false = failed. */
static bool audit_shown(struct api_call *c, const char *action, const json_t *items)
{
    json_t *ids = json_array(), *r;
    size_t i;
    json_array_foreach(items, i, r) if (!api__is(api__jstr(r, "tlp"), "CLEAR"))
        json_array_append_new(ids, json_string(api__jstr(r, "id")));
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        return true;
    }
    return api__audit(c, action, "release", NULL, "ok", json_pack("{s:o}", "ids", ids)) == 0;
}

struct release_page_args {
    int limit;
    char after[64]; /* the decoded cursor, "" for the first page */
};

/* Fetch one page: inbox cursors are pub_seq numbers, queue cursors release ids. */
static json_t *release_page(struct api_call *c, const struct store_release_filter *f,
                            const struct release_page_args *p, json_t **next)
{
    int64_t after_seq;
    const char *after_id;
    *next = json_null();
    if (!api__seq_cursor(c, p->after, f->state == NULL, &after_seq, &after_id))
        return NULL;
    struct store_release_access acc;
    auth_release_access(&c->id, &acc);
    json_t *items = NULL;
    if (store_release_list(c->api->st, &acc, f, after_seq, after_id, p->limit + 1, &items,
                           &c->e)) {
        api__problem(c);
        return NULL;
    }
    *next = api__seq_next(items, p->limit, f->state == NULL);
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        json_object_del(r, "pub_seq");
        auth_release_redact(&c->id, r);
    }
    return items;
}

void api__release_list(struct api_call *c)
{
    struct release_page_args p;
    struct store_release_filter f;
    if (!api__limit(c, LIMIT_PAGE_DEFAULT, LIMIT_PAGE_MAX, &p.limit) ||
        !api__cursor_raw(c, p.after, sizeof(p.after)) || !release_filter(c, &f))
        return;
    json_t *next, *items = release_page(c, &f, &p, &next);
    if (items == NULL)
        return;
    if (!audit_shown(c, "release.list", items)) {
        json_decref(items);
        json_decref(next);
        api__fail(c, ERR_STORE, "the read could not be recorded in the audit log");
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

void api__release_export(struct api_call *c)
{
    bool bad = false;
    const char *format = api__query(c, "format", 16, &bad);
    struct store_release_filter f;
    if (bad || !release_filter(c, &f))
        return;
    if (format && strcmp(format, "stix")) {
        api__bad_param(c, "format", "must be stix");
        return;
    }
    if (f.state) {
        api__bad_param(c, "state", "the export holds the inbox: published releases only");
        return;
    }
    struct release_page_args p = {.limit = EXPORT_MAX, .after = ""};
    json_t *next, *bundle = NULL, *items = release_page(c, &f, &p, &next);
    if (items == NULL)
        return;
    json_decref(next);
    if (!audit_shown(c, "release.export", items)) {
        json_decref(items);
        api__fail(c, ERR_STORE, "the export could not be recorded in the audit log");
        return;
    }
    int rc = stix_releases_bundle(items, util_now_ms() / 1000, &bundle, &c->e);
    json_decref(items);
    if (rc) {
        api__problem(c);
        return;
    }
    char *text = jw_dump(bundle, NULL);
    json_decref(bundle);
    if (text == NULL) {
        api__fail(c, ERR_NOMEM, "export");
        return;
    }
    http_respond_raw(c->req, 200, "application/stix+json;version=2.1", text, strlen(text));
    free(text);
}

/* ---- edit ---- */

/*
 * The widest audience and loosest marking the provider agreed to: the
 * report's, or one of its approved consent requests for this release.
 */
static bool consented(struct api_call *c, const json_t *rel, const json_t *report,
                      const json_t *audience, const char *tlp, const char **field, char *buf,
                      size_t n)
{
    json_t *wide = report_audience(report);
    const char *rtlp = api__jstr(report, "tlp");
    *field = model_audience_widens(audience, wide, buf, n);
    bool tlp_ok = model_tlp_rank(tlp) >= model_tlp_rank(rtlp);
    json_decref(wide);
    if (*field == NULL && tlp_ok)
        return true;
    json_t *reqs = NULL;
    struct err e;
    err_init(&e);
    if (store_audreq_list(c->api->st, api__jstr(rel, "id"), NULL, "approved", &reqs, &e) == 0) {
        size_t i;
        json_t *q;
        json_array_foreach(reqs, i, q)
        {
            char b2[64];
            if (!model_audience_widens(audience, json_object_get(q, "audience"), b2, sizeof(b2)) &&
                model_tlp_rank(tlp) >= model_tlp_rank(api__jstr(q, "tlp"))) {
                json_decref(reqs);
                *field = NULL;
                return true;
            }
        }
    }
    json_decref(reqs);
    if (*field == NULL)
        *field = "tlp";
    return false;
}

/* Validate a new audience/tlp pair into rel; false with field errors in c->e. */
static bool set_marking(struct api_call *c, json_t *rel, const json_t *report,
                        const json_t *body)
{
    json_t *aud = json_object_get(body, "audience"), *norm = NULL;
    const char *tlp = json_object_get(body, "tlp") ? api__jstr(body, "tlp") : api__jstr(rel, "tlp");
    if (json_object_get(body, "tlp") && !model_tlp_valid(tlp)) {
        err_field(&c->e, "tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
        return false;
    }
    if (aud) {
        struct api_vocabs v;
        if (!api__vocabs_open(c, &v))
            return false;
        model_audience_check(aud, &v.ctx, &norm, &c->e);
        api__vocabs_close(&v);
        if (c->e.code)
            return false;
    } else {
        norm = json_incref(json_object_get(rel, "audience"));
    }
    const char *field;
    char buf[64];
    if (!consented(c, rel, report, norm, tlp, &field, buf, sizeof(buf))) {
        err_field(&c->e, field,
                  api__is(field, "tlp") ? "loosening the marking needs the provider's consent: "
                                          "request it"
                                        : "widening the audience needs the provider's consent: "
                                          "request it");
    } else if (api__is(tlp, "RED") && !model_tlp_red_ok(norm)) {
        err_field(&c->e, "audience", "TLP:RED is for named recipients: name organisations, not "
                                     "sectors, tiers, the hub or all members");
    }
    if (c->e.nfields) {
        json_decref(norm);
        return false;
    }
    json_object_set_new(rel, "audience", norm);
    json_object_set_new(rel, "tlp", json_string(tlp));
    return true;
}

/* Re-render the release from an edited redaction list; false with c->e set. */
static bool set_redactions(struct api_call *c, json_t *rel, const json_t *list,
                           const uint8_t *key)
{
    struct store_report_access acc;
    auth_report_access(&c->id, &acc);
    json_t *at = NULL, *org = NULL, *ctx = NULL, *content = NULL, *described = NULL;
    struct anon_rules *rules = NULL;
    if (store_report_content_at(c->api->st, &acc, api__jstr(rel, "report_id"),
                                (int)json_integer_value(json_object_get(rel, "report_revision")),
                                &at, &c->e))
        return false;
    json_t *src = release_source(at);
    json_decref(at);
    if (api__anon_load(c, api__jstr(rel, "org_id"), &rules, &org, &ctx) == 0 &&
        anon_apply(org, src, ctx, list, key, &content, &c->e) == 0)
        anon_redactions_describe(src, list, key, &described, &c->e);
    anon_rules_free(rules);
    json_decref(org);
    json_decref(ctx);
    json_decref(src);
    if (c->e.code) {
        json_decref(content);
        return false;
    }
    lift_marking_texts(rel, content);
    json_object_set_new(rel, "content", content);
    json_object_set_new(rel, "redactions", described);
    return true;
}

void api__release_update(struct api_call *c)
{
    if (!must_be_analyst(c))
        return;
    uint8_t key[ANON_KEY_BYTES];
    json_t *rel = load_release(c, c->params[0], key), *body = NULL, *report = NULL;
    if (rel == NULL) {
        api__problem(c);
        return;
    }
    static const char *const allowed[] = {"redactions", "audience", "tlp", "purpose", "handling",
                                          NULL};
    const char *state = api__jstr(rel, "state");
    bool published = api__is(state, "published");
    if (!(body = api__body(c, RELEASE_BODY_MAX)))
        goto out;
    if (!published && !api__is(state, "draft") && !api__is(state, "refused")) {
        err_set(&c->e, ERR_CONFLICT, "the release is %s: edit a draft or refused release", state);
        goto fail;
    }
    if (!api__only_fields(c, body, allowed))
        goto fail;
    if (published) {
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) if (strcmp(k, "audience"))
            err_field(&c->e, k, "a published release changes only its audience: prepare a "
                                "new version for other changes");
        if (c->e.nfields)
            goto fail;
    }
    api__text_member(c, body, "purpose", LIMIT_MARKING_TEXT, false);
    api__text_member(c, body, "handling", LIMIT_MARKING_TEXT, false);
    if (c->e.nfields || !(report = api__report_load(c, api__jstr(rel, "report_id"), false)))
        goto fail;
    if ((json_object_get(body, "audience") || json_object_get(body, "tlp")) &&
        !set_marking(c, rel, report, body))
        goto fail;
    if (json_object_get(body, "redactions") &&
        !set_redactions(c, rel, json_object_get(body, "redactions"), key))
        goto fail;
    static const char *const texts[] = {"purpose", "handling"};
    for (int i = 0; i < 2; i++)
        if (json_object_get(body, texts[i]))
            json_object_set(rel, texts[i], json_object_get(body, texts[i]));
    json_t *targets = NULL;
    if (published && !(targets = targets_of(c, rel, json_object_get(rel, "audience"))))
        goto fail;
    char from[16]; /* state points into rel's old value, which the next line frees */
    util_strlcpy(from, state, sizeof(from));
    json_object_set_new(rel, "state", json_string(published ? "published" : "draft"));
    json_object_set_new(rel, "actor", json_string(c->id.p.user_id));
    int rc = store_release_update(c->api->st, rel, from, targets, &c->e);
    json_decref(targets);
    if (rc)
        goto fail;
    audit_release(c, "release.update", rel, json_pack("{s:o}", "fields", api__keys(body)));
    respond_fresh(c, api__jstr(rel, "id"), 200);
    goto out;
fail:
    api__problem(c);
out:
    sodium_memzero(key, sizeof(key));
    json_decref(body);
    json_decref(report);
    json_decref(rel);
}

/* ---- transitions ---- */

enum who { WHO_ANALYST, WHO_PROVIDER };

struct step {
    enum who who;
    const char *from, *to, *doing, *action;
    const char *note;       /* body member carrying the note: "note" or "reason" */
    bool note_required;
};

/*
 * The provider may have narrowed the report's audience or tightened its
 * marking since the release was prepared: publishing never goes beyond
 * what the provider wants now. False with c->e set.
 */
static bool still_consented(struct api_call *c, const json_t *rel)
{
    json_t *report = api__report_load(c, api__jstr(rel, "report_id"), false);
    if (report == NULL)
        return false;
    const char *field;
    char buf[64];
    bool ok = consented(c, rel, report, json_object_get(rel, "audience"), api__jstr(rel, "tlp"),
                        &field, buf, sizeof(buf));
    json_decref(report);
    if (!ok)
        err_field(&c->e, field, "the provider has since narrowed the report's audience or "
                                "tightened its marking: edit the release, or ask for consent");
    return ok;
}

static void transition(struct api_call *c, const struct step *s)
{
    if (s->who == WHO_ANALYST && !must_be_analyst(c))
        return;
    json_t *rel = load_release(c, c->params[0], NULL), *body = NULL, *targets = NULL;
    if (rel == NULL) {
        api__problem(c);
        return;
    }
    if (s->who == WHO_PROVIDER && !auth_can_decide_release(&c->id, api__jstr(rel, "org_id"))) {
        json_decref(rel);
        api__deny(c, "only the provider of the report approves or refuses its release");
        return;
    }
    const char *const allowed[] = {s->note, NULL};
    if (!(body = api__optional_body(c)))
        goto out;
    if (!api__only_fields(c, body, allowed) ||
        !api__text_member(c, body, s->note, LIMIT_MARKING_TEXT, s->note_required))
        goto fail;
    if (!in_state(c, rel, s->from, s->doing))
        goto out;
    const char *to = s->to;
    json_t *note = json_object_get(body, s->note);
    if (!strcmp(s->to, "pending")) {
        /* A provider that approved releases in the report is not asked again. */
        json_t *report = api__report_load(c, api__jstr(rel, "report_id"), false);
        if (report == NULL)
            goto fail;
        if (json_is_true(json_object_get(report, "preapproved"))) {
            to = "approved";
            note = json_string("pre-approved in the report");
            json_object_set_new(body, s->note, note);
        }
        json_decref(report);
    }
    if (!strcmp(to, "published") && !still_consented(c, rel))
        goto fail;
    if (!strcmp(to, "published") &&
        !(targets = targets_of(c, rel, json_object_get(rel, "audience"))))
        goto fail;
    json_object_set_new(rel, "state", json_string(to));
    json_object_set_new(rel, "actor", json_string(c->id.p.user_id));
    json_object_set(rel, "note", note ? note : json_null());
    if (store_release_update(c->api->st, rel, s->from, targets, &c->e))
        goto fail;
    audit_release(c, s->action, rel, json_pack("{s:s}", "state", to));
    respond_fresh(c, api__jstr(rel, "id"), 200);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(targets);
    json_decref(body);
    json_decref(rel);
}

void api__release_submit(struct api_call *c)
{
    static const struct step s = {WHO_ANALYST, "draft", "pending", "submitted",
                                  "release.submit", "note", false};
    transition(c, &s);
}

void api__release_approve(struct api_call *c)
{
    static const struct step s = {WHO_PROVIDER, "pending", "approved", "approved",
                                  "release.approve", "note", false};
    transition(c, &s);
}

void api__release_refuse(struct api_call *c)
{
    static const struct step s = {WHO_PROVIDER, "pending", "refused", "refused",
                                  "release.refuse", "reason", true};
    transition(c, &s);
}

void api__release_publish(struct api_call *c)
{
    static const struct step s = {WHO_ANALYST, "approved", "published", "published",
                                  "release.publish", "note", false};
    transition(c, &s);
}

void api__release_withdraw(struct api_call *c)
{
    static const struct step s = {WHO_ANALYST, "published", "withdrawn", "withdrawn",
                                  "release.withdraw", "reason", true};
    transition(c, &s);
}

/* ---- consent requests ---- */

void api__audreq_create(struct api_call *c)
{
    if (!must_be_analyst(c))
        return;
    json_t *rel = load_release(c, c->params[0], NULL), *body = NULL, *norm = NULL;
    if (rel == NULL) {
        api__problem(c);
        return;
    }
    static const char *const allowed[] = {"audience", "tlp", "reason", NULL};
    if (!(body = api__body(c, LIMIT_MEMBER_BODY_BYTES)))
        goto out;
    const char *state = api__jstr(rel, "state");
    if (api__is(state, "draft") || api__is(state, "superseded") || api__is(state, "withdrawn")) {
        err_set(&c->e, ERR_CONFLICT, "the release is %s: ask the provider about a submitted or "
                                     "published release", state);
        goto fail;
    }
    api__only_fields(c, body, allowed);
    api__text_member(c, body, "reason", LIMIT_MARKING_TEXT, true);
    const char *tlp = json_object_get(body, "tlp") ? api__jstr(body, "tlp") : api__jstr(rel, "tlp");
    if (!model_tlp_valid(tlp))
        err_field(&c->e, "tlp", "must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
    if (!json_object_get(body, "audience"))
        err_field(&c->e, "audience", "required: the whole audience asked for");
    if (c->e.nfields)
        goto fail;
    struct api_vocabs v;
    if (!api__vocabs_open(c, &v))
        goto fail;
    model_audience_check(json_object_get(body, "audience"), &v.ctx, &norm, &c->e);
    api__vocabs_close(&v);
    if (c->e.code)
        goto fail;
    if (api__is(tlp, "RED") && !model_tlp_red_ok(norm)) {
        err_field(&c->e, "audience", "TLP:RED is for named recipients: name organisations");
        goto fail;
    }
    char id[UTIL_UUID_LEN + 1];
    util_uuid7(id);
    json_t *req =
        json_pack("{s:s,s:s,s:s,s:O,s:s,s:s,s:s}", "id", id, "release_id", api__jstr(rel, "id"),
                  "org_id", api__jstr(rel, "org_id"), "audience", norm, "tlp", tlp, "reason",
                  api__jstr(body, "reason"), "requested_by", c->id.p.user_id);
    int rc = store_audreq_create(c->api->st, req, &c->e);
    json_decref(req);
    if (rc)
        goto fail;
    audit_release(c, "audience.request", rel, json_pack("{s:s}", "request", id));
    json_t *out = NULL;
    if (store_audreq_get(c->api->st, id, &out, &c->e))
        goto fail;
    api__respond_created(c, "audience-requests", id, out);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(norm);
    json_decref(body);
    json_decref(rel);
}

void api__audreq_list_release(struct api_call *c)
{
    json_t *rel = load_release(c, c->params[0], NULL), *items = NULL;
    if (rel == NULL) {
        api__problem(c);
        return;
    }
    /* Recipients may see the release, not the negotiation about it. */
    bool party = auth_can_read_release_workflow(&c->id, api__jstr(rel, "org_id"));
    json_decref(rel);
    if (!party) {
        api__fail(c, ERR_NOTFOUND, "release not found");
        return;
    }
    if (store_audreq_list(c->api->st, c->params[0], NULL, NULL, &items, &c->e)) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o}", "items", items));
}

void api__audreq_list(struct api_call *c)
{
    bool bad = false;
    const char *state = api__query(c, "state", 16, &bad);
    if (bad)
        return;
    if (state && strcmp(state, "pending") && strcmp(state, "approved") &&
        strcmp(state, "refused")) {
        api__bad_param(c, "state", "must be pending, approved or refused");
        return;
    }
    json_t *items = NULL;
    int rc;
    if (auth_can_read_release_workflow(&c->id, NULL))
        rc = store_audreq_list(c->api->st, NULL, NULL, state, &items, &c->e);
    else if (auth_can_read_release_workflow(&c->id, c->id.p.org_id))
        rc = store_audreq_list(c->api->st, NULL, c->id.p.org_id, state, &items, &c->e);
    else
        rc = (items = json_array()) ? 0 : ERR_NOMEM;
    if (rc) {
        api__problem(c);
        return;
    }
    http_respond_json(c->req, 200, json_pack("{s:o}", "items", items));
}

static void audreq_decide(struct api_call *c, bool approve)
{
    json_t *req = NULL, *body = NULL, *rel = NULL, *targets = NULL;
    if (!util_is_uuid(c->params[0]) || store_audreq_get(c->api->st, c->params[0], &req, &c->e)) {
        err_set(&c->e, ERR_NOTFOUND, "audience request not found");
        api__problem(c);
        return;
    }
    if (!auth_can_decide_release(&c->id, api__jstr(req, "org_id"))) {
        if (auth_is_coordinator_analyst(&c->id))
            api__deny(c, "only the provider decides on widening its release");
        else
            api__fail(c, ERR_NOTFOUND, "audience request not found");
        json_decref(req);
        return;
    }
    const char *member = approve ? "note" : "reason";
    const char *const allowed[] = {member, NULL};
    if (!(body = api__optional_body(c)))
        goto out;
    if (!api__only_fields(c, body, allowed) ||
        !api__text_member(c, body, member, LIMIT_MARKING_TEXT, !approve))
        goto fail;
    if (!api__is(api__jstr(req, "state"), "pending")) {
        err_set(&c->e, ERR_CONFLICT, "the request is already %s", api__jstr(req, "state"));
        goto fail;
    }
    json_object_set_new(req, "state", json_string(approve ? "approved" : "refused"));
    json_object_set_new(req, "decided_by", json_string(c->id.p.user_id));
    json_object_set(req, "decision_note",
                    json_object_get(body, member) ? json_object_get(body, member) : json_null());
    if (approve) {
        if (!(rel = load_release(c, api__jstr(req, "release_id"), NULL)))
            goto fail;
        json_object_set(rel, "audience", json_object_get(req, "audience"));
        json_object_set(rel, "tlp", json_object_get(req, "tlp"));
        json_object_set_new(rel, "actor", json_string(c->id.p.user_id));
        if (api__is(api__jstr(rel, "state"), "published") &&
            !(targets = targets_of(c, rel, json_object_get(rel, "audience"))))
            goto fail;
    }
    if (store_audreq_decide(c->api->st, req, rel, targets, &c->e))
        goto fail;
    api__audit(c, approve ? "audience.approve" : "audience.refuse", "audience_request",
               api__jstr(req, "id"), "ok",
               json_pack("{s:s}", "release_id", api__jstr(req, "release_id")));
    json_t *out = NULL;
    if (store_audreq_get(c->api->st, api__jstr(req, "id"), &out, &c->e))
        goto fail;
    http_respond_json(c->req, 200, out);
    goto out;
fail:
    api__problem(c);
out:
    json_decref(targets);
    json_decref(rel);
    json_decref(body);
    json_decref(req);
}

void api__audreq_approve(struct api_call *c) { audreq_decide(c, true); }
void api__audreq_refuse(struct api_call *c) { audreq_decide(c, false); }
