/*
 * api_alert_view.c - an alert version as the API, the stream and webhooks
 * show it: one shape everywhere, redacted in one place (auth).
 */
#include "api_int.h"

json_t *api_alert_view(const struct auth_identity *id, const json_t *row)
{
    json_t *v = json_deep_copy(row);
    if (v == NULL)
        return NULL;
    static const char *const lifted[] = {"title", "summary", "actions", "links", "observables"};
    json_t *body = json_object_get(v, "body");
    for (size_t i = 0; i < sizeof(lifted) / sizeof(lifted[0]); i++) {
        json_t *x = json_object_get(body, lifted[i]);
        json_object_set(v, lifted[i], x ? x : json_null());
    }
    json_object_del(v, "body");
    json_object_del(v, "pub_seq"); /* the stream's event id; the API names it nowhere else */
    auth_alert_redact(id, v);
    json_object_del(v, "issuer_org"); /* auth needed it; "issuer" carries it */
    return v;
}

json_t *api_alert_recipient_view(const json_t *row) { return api_alert_view(NULL, row); }
