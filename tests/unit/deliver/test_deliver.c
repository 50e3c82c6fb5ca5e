/*
 * test_deliver.c - unit tests of the pure parts of src/deliver
 * (deliver_msg.c): the recipients' view and webhook body, the signature,
 * the retry schedule, and the e-mail subject, body and message. No
 * network: the workers are exercised by the e2e suite.
 */
#include "../unit.h"

#include <sodium.h>

#include "base/buf.h"
#include "base/cfg.h"
#include "base/util.h"
#include "deliver/deliver_int.h"

/* An alert version as the store returns it (store.h "alerts"). */
static const char ALERT[] =
    "{'id':'0190a000-0000-7000-8000-000000000002','series_id':'0190a000-0000-7000-8000-00000000000"
    "1','version':2,'kind':'alert','state':'published','issuer_org':'0190a000-0000-7000-8000-0000"
    "000000c0','body':{'title':{'ja':'VPN 装置の脆弱性','en':'VPN appliance flaw'},"
    "'summary':{'ja':'悪用を確認','en':'Exploited in the wild'},'actions':{'en':'Patch now'},"
    "'links':{'releases':['0190a000-0000-7000-8000-0000000000r1'],'reports':['0190a000-0000-"
    "7000-8000-0000000000f1']},'observables':[{'type':'ipv4','value':'192.0.2.7','role':"
    "'attacker'}]},'urgency':'urgent','exercise':false,'audience':{'all_members':true},"
    "'tlp':'AMBER','created_by':'u1','created_at':'2026-11-20T00:00:00Z','updated_at':"
    "'2026-11-20T00:00:00Z','published_by':'u2','published_at':'2026-11-21T09:30:00Z',"
    "'pub_seq':42}";

static json_t *alert_with(const char *key, json_t *value)
{
    json_t *a = unit_jsonq(ALERT);
    if (key)
        json_object_set_new(a, key, value);
    return a;
}

/* ---- the recipients' view and the webhook body ---- */

static void test_view(void **state)
{
    (void)state;
    json_t *a = unit_jsonq(ALERT), *v = deliver__recipient_view(a);
    assert_non_null(v);
    /* nothing of the issuer side, reports emptied, the body lifted (api_alert_view's shape) */
    assert_null(json_object_get(v, "created_by"));
    assert_null(json_object_get(v, "published_by"));
    assert_null(json_object_get(v, "audience"));
    assert_null(json_object_get(v, "pub_seq"));
    assert_null(json_object_get(v, "body"));
    assert_jsonq_eq(json_object_get(v, "links"),
                    "{'releases':['0190a000-0000-7000-8000-0000000000r1'],'reports':[]}");
    assert_jsonq_eq(json_object_get(v, "title"), "{'ja':'VPN 装置の脆弱性','en':'VPN appliance flaw'}");
    assert_int_equal(json_integer_value(json_object_get(v, "event_id")), 42);
    assert_str(unit_jstr(v, "tlp"), "AMBER");
    assert_str(unit_jstr(v, "issuer_org"), "0190a000-0000-7000-8000-0000000000c0");
    /* the row itself is untouched */
    assert_non_null(json_object_get(a, "audience"));
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(json_object_get(a, "body"), "links"), "reports")),
                     1);
    json_decref(v);
    json_decref(a);

    /* an alert already in the API's shape (top-level links) is trimmed the same way */
    a = unit_jsonq("{'id':'x','links':{'releases':[],'reports':['r']},'audience':{},'pub_seq':3}");
    v = deliver__recipient_view(a);
    assert_jsonq_eq(v, "{'id':'x','links':{'releases':[],'reports':[]},'event_id':3}");
    json_decref(v);
    json_decref(a);
}

static void test_webhook_body(void **state)
{
    (void)state;
    json_t *a = unit_jsonq(ALERT), *v = deliver__recipient_view(a);
    size_t len = 0;
    char *body = deliver__webhook_body(a, v, &len);
    assert_non_null(body);
    assert_int_equal(len, strlen(body));
    /* compact, and the envelope first */
    assert_true(!strncmp(body, "{\"type\":\"alert\",\"event_id\":42,\"alert\":{", 39));
    assert_null(strchr(body, '\n'));
    json_t *doc = unit_json(body);
    assert_true(json_equal(json_object_get(doc, "alert"), v));
    json_decref(doc);
    free(body);
    json_decref(v);
    json_decref(a);
}

/* ---- signature ---- */

static void test_sign(void **state)
{
    (void)state;
    char sig[DELIVER_SIG_LEN + 1];
    /* python3: hmac.new(b'whsec-test', b'1700000000.{"type":"alert"}', sha256).hexdigest() */
    const char *body = "{\"type\":\"alert\"}";
    deliver__sign("whsec-test", 1700000000, body, strlen(body), sig);
    assert_string_equal(sig,
                        "sha256=f8f04ac0709db95ae4d620aebdae4aecbbe664c3b2238b45630181bf59c26e05");
    /* edge: empty key and body */
    deliver__sign("", 0, "", 0, sig);
    assert_string_equal(sig,
                        "sha256=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3");
    /* the key is the secret's text: a 43-character base64url secret signs as those bytes */
    char a[DELIVER_SIG_LEN + 1], b[DELIVER_SIG_LEN + 1];
    deliver__sign("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 5, "x", 1, a);
    deliver__sign("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", 5, "x", 1, b);
    assert_string_not_equal(a, b);
    /* the timestamp is signed */
    deliver__sign("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 6, "x", 1, b);
    assert_string_not_equal(a, b);
}

/* ---- retry schedule ---- */

static void test_backoff(void **state)
{
    (void)state;
    const int64_t now = 1000000;
    /* base 1 s, 8 tries: 1, 2, 4, ... 64 s after the 1st..7th failure, then dead */
    static const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000};
    for (int t = 1; t <= 7; t++)
        assert_int_equal(deliver__next_try(now, t, 1000, 8) - now, want[t - 1]);
    assert_int_equal(deliver__next_try(now, 8, 1000, 8), 0);
    assert_int_equal(deliver__next_try(now, 9, 1000, 8), 0);
    /* capped at an hour, also far beyond 2^63 */
    assert_int_equal(deliver__next_try(now, 13, 1000, 100) - now, 3600000);
    assert_int_equal(deliver__next_try(now, 99, 1000, 100) - now, 3600000);
    assert_int_equal(deliver__next_try(now, 1, 3600000, 100) - now, 3600000);
    /* one try only: the first failure is final */
    assert_int_equal(deliver__next_try(now, 1, 1000, 1), 0);
    /* a short base for tests */
    assert_int_equal(deliver__next_try(now, 3, 10, 8) - now, 40);
}

/* ---- e-mail ---- */

static void subject_is(json_t *alert, const char *lang, const char *want)
{
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(deliver__mail_subject(alert, lang, &b), 0);
    assert_str(b.data, want);
    buf_release(&b);
    json_decref(alert);
}

static void test_subject(void **state)
{
    (void)state;
    subject_is(alert_with(NULL, NULL), "ja", "[TLP:AMBER] [URGENT] VPN 装置の脆弱性");
    subject_is(alert_with(NULL, NULL), "en", "[TLP:AMBER] [URGENT] VPN appliance flaw");
    subject_is(alert_with("exercise", json_true()), "en",
               "[EXERCISE/訓練] [TLP:AMBER] [URGENT] VPN appliance flaw");
    subject_is(alert_with("urgency", json_string("routine")), "en",
               "[TLP:AMBER] VPN appliance flaw");
    subject_is(alert_with("urgency", json_string("critical")), "ja",
               "[TLP:AMBER] [CRITICAL] VPN 装置の脆弱性");
    subject_is(alert_with("tlp", json_string("AMBER+STRICT")), "en",
               "[TLP:AMBER+STRICT] [URGENT] VPN appliance flaw");
    subject_is(alert_with("kind", json_string("correction")), "en",
               "[TLP:AMBER] [URGENT] [CORRECTION/訂正] VPN appliance flaw");
    subject_is(alert_with("kind", json_string("withdrawal")), "ja",
               "[TLP:AMBER] [URGENT] [WITHDRAWN/撤回] VPN 装置の脆弱性");
    /* a title in one language only serves both */
    json_t *a = alert_with(NULL, NULL);
    json_object_set_new(json_object_get(a, "body"), "title", unit_jsonq("{'ja':'停電'}"));
    subject_is(json_incref(a), "en", "[TLP:AMBER] [URGENT] 停電");
    json_object_set_new(json_object_get(a, "body"), "title", unit_jsonq("{'en':'Outage'}"));
    subject_is(a, "ja", "[TLP:AMBER] [URGENT] Outage");
}

static char *body_of(json_t *alert, const char *lang)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(deliver__mail_body(alert, lang, &b), 0);
    return buf_take(&b, NULL);
}

static void test_body(void **state)
{
    (void)state;
    json_t *a = unit_jsonq(ALERT);
    char *ja = body_of(a, "ja"), *en = body_of(a, "en");
    /* each in its language, with the other's text where one is missing (actions: en only) */
    assert_non_null(strstr(ja, "VPN 装置の脆弱性"));
    assert_non_null(strstr(ja, "悪用を確認"));
    assert_non_null(strstr(ja, "推奨される対策\nPatch now"));
    assert_non_null(strstr(ja, "TLP:AMBER の取扱い"));
    assert_non_null(strstr(en, "VPN appliance flaw"));
    assert_non_null(strstr(en, "Exploited in the wild"));
    assert_non_null(strstr(en, "Recommended actions\nPatch now"));
    assert_non_null(strstr(en, "Urgency: URGENT"));
    assert_non_null(strstr(en, "- ipv4: 192.0.2.7 (attacker)"));
    assert_non_null(strstr(en, "0190a000-0000-7000-8000-0000000000r1"));
    assert_non_null(strstr(en, "2026-11-21T09:30:00Z"));
    /* never the reports a recipient may not see, nor who composed it */
    assert_null(strstr(en, "0000000000f1"));
    assert_null(strstr(ja, "0000000000f1"));
    assert_null(strstr(en, "EXERCISE"));
    free(ja);
    free(en);
    json_decref(a);

    a = alert_with("exercise", json_true());
    en = body_of(a, "en");
    assert_true(!strncmp(en, "[EXERCISE / 訓練]", strlen("[EXERCISE / 訓練]")));
    free(en);
    ja = body_of(a, "ja");
    assert_true(!strncmp(ja, "【訓練 / EXERCISE】", strlen("【訓練 / EXERCISE】")));
    free(ja);
    json_decref(a);

    /* many observables are cut with a count */
    a = unit_jsonq(ALERT);
    json_t *obs = json_array();
    for (int i = 0; i < DELIVER_MAIL_OBSERVABLES + 7; i++)
        json_array_append_new(obs, json_pack("{s:s,s:s}", "type", "domain", "value", "x.example"));
    json_object_set_new(json_object_get(a, "body"), "observables", obs);
    en = body_of(a, "en");
    assert_non_null(strstr(en, "- and 7 more\n"));
    free(en);
    json_decref(a);
}

/* Decode the RFC 2047 words of an encoded header value (folded) back to UTF-8. */
static void decode_words(const char *v, char *out, size_t n)
{
    size_t used = 0;
    const char *p = v;
    if (strncmp(p, "=?UTF-8?B?", 10)) {
        snprintf(out, n, "%s", v);
        return;
    }
    while (*p) {
        assert_true(!strncmp(p, "=?UTF-8?B?", 10));
        const char *end = strstr(p + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - p <= 75);
        size_t len = 0;
        assert_int_equal(sodium_base642bin((unsigned char *)out + used, n - used - 1, p + 10,
                                           (size_t)(end - p - 10), NULL, &len, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        /* every word is whole characters */
        assert_true(util_utf8_valid(out + used, len));
        used += len;
        p = end + 2;
        if (!strncmp(p, "\r\n ", 3))
            p += 3;
        else
            assert_int_equal(*p, '\0');
    }
    out[used] = '\0';
}

static void test_header_encode(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(deliver__header_encode("[TLP:CLEAR] Plain", 9, &b), 0);
    assert_str(b.data, "[TLP:CLEAR] Plain");
    buf_release(&b);

    /* long Japanese: many words, each whole characters, decoding to the original */
    char title[2048] = "[EXERCISE/訓練] [TLP:AMBER] [URGENT] ";
    for (int i = 0; i < 60; i++)
        strncat(title, "脆弱性", sizeof(title) - strlen(title) - 1);
    buf_init(&b, 1 << 16);
    assert_int_equal(deliver__header_encode(title, 9, &b), 0);
    char back[4096];
    decode_words(b.data, back, sizeof(back));
    assert_string_equal(back, title);
    for (const char *nl = strchr(b.data, '\n'); nl; nl = strchr(nl + 1, '\n'))
        assert_true(nl[-1] == '\r' && nl[1] == ' '); /* only folding */
    /* each line within 78, the first after "Subject: " */
    size_t col = 9;
    for (const char *p = b.data; *p; p++) {
        col = *p == '\n' ? 0 : col + 1;
        assert_true(col <= 78);
    }
    buf_release(&b);

    /* printable ASCII too long for the line is encoded as well */
    char ascii[128];
    memset(ascii, 'a', 75);
    ascii[75] = '\0';
    buf_init(&b, 1 << 16);
    assert_int_equal(deliver__header_encode(ascii, 9, &b), 0);
    assert_true(!strncmp(b.data, "=?UTF-8?B?", 10));
    decode_words(b.data, back, sizeof(back));
    assert_string_equal(back, ascii);
    buf_release(&b);

    /* control characters never reach the header raw */
    buf_init(&b, 1 << 16);
    assert_int_equal(deliver__header_encode("a\r\nBcc: x@example.jp", 9, &b), 0);
    assert_null(strstr(b.data, "Bcc"));
    decode_words(b.data, back, sizeof(back));
    assert_string_equal(back, "a\r\nBcc: x@example.jp");
    buf_release(&b);
}

static void test_date(void **state)
{
    (void)state;
    char d[40];
    deliver__mail_date(1700000000, d);
    assert_string_equal(d, "Tue, 14 Nov 2023 22:13:20 +0000");
    deliver__mail_date(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* The value of header name in a rendered message (up to the next unfolded line). */
static char *header(const char *msg, const char *name)
{
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s: ", name);
    const char *p = !strncmp(msg, key + 2, strlen(key + 2)) ? msg - 2 : strstr(msg, key);
    if (!p)
        return NULL;
    p += strlen(key);
    const char *end = p;
    while ((end = strstr(end, "\r\n")) && end[2] == ' ')
        end += 3;
    return strndup(p, (size_t)(end - p));
}

static void test_message(void **state)
{
    (void)state;
    json_t *a = alert_with("exercise", json_true());
    struct deliver_mail m = {a, "ja", "isac@hub.example.jp", "soc@op.example.jp",
                             "17.abcdef@hub.example.jp", 1700000000, 17};
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(deliver__mail_render(&m, &b), 0);
    const char *msg = b.data;
    char *h;
    assert_str(h = header(msg, "From"), "isac <isac@hub.example.jp>");
    free(h);
    assert_str(h = header(msg, "To"), "<soc@op.example.jp>");
    free(h);
    assert_str(h = header(msg, "Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
    free(h);
    assert_str(h = header(msg, "Message-ID"), "<17.abcdef@hub.example.jp>");
    free(h);
    assert_str(h = header(msg, "Content-Type"), "text/plain; charset=UTF-8");
    free(h);
    assert_str(h = header(msg, "Content-Transfer-Encoding"), "base64");
    free(h);
    assert_str(h = header(msg, "MIME-Version"), "1.0");
    free(h);
    assert_str(h = header(msg, "X-Isac-Delivery"), "17");
    free(h);
    char back[4096];
    h = header(msg, "Subject");
    decode_words(h, back, sizeof(back));
    assert_string_equal(back, "[EXERCISE/訓練] [TLP:AMBER] [URGENT] VPN 装置の脆弱性");
    free(h);
    /* every line ends CRLF and stays short; the body is base64 of the CRLF text */
    for (const char *p = msg; *p;) {
        const char *nl = strstr(p, "\r\n");
        assert_non_null(nl);
        assert_true(nl - p <= 78);
        assert_true(nl == msg || nl[-1] != '\r');
        p = nl + 2;
    }
    const char *sep = strstr(msg, "\r\n\r\n");
    assert_non_null(sep);
    char *b64 = strdup(sep + 4), *w = b64;
    for (const char *p = b64; *p; p++)
        if (*p != '\r' && *p != '\n')
            *w++ = *p;
    *w = '\0';
    size_t cap = strlen(b64), len = 0;
    unsigned char *text = malloc(cap + 1);
    assert_int_equal(sodium_base642bin(text, cap, b64, strlen(b64), NULL, &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    text[len] = '\0';
    char *want = body_of(a, "ja");
    struct buf crlf;
    buf_init(&crlf, 1 << 20);
    for (const char *p = want; *p; p++)
        assert_int_equal(*p == '\n' ? buf_append(&crlf, "\r\n", 2) : buf_append(&crlf, p, 1), 0);
    assert_string_equal((char *)text, crlf.data);
    buf_release(&crlf);
    free(want);
    free(text);
    free(b64);
    buf_release(&b);
    json_decref(a);
}

/* ---- configuration (src/base/cfg.c: the delivery keys) ---- */

static void test_cfg(void **state)
{
    (void)state;
    struct cfg c;
    struct err e;
    cfg_defaults(&c);
    assert_int_equal(c.webhook_timeout_ms, 10000);
    assert_int_equal(c.webhook_backoff_ms, 1000);
    assert_int_equal(c.webhook_max_tries, 8);
    assert_false(c.webhook_allow_http);
    assert_false(c.webhook_allow_private);
    assert_string_equal(c.smtp_url, "");
    assert_string_equal(c.smtp_from, "isac@localhost");
    assert_int_equal(c.alert_escalate_after_s, 600);
    assert_int_equal(c.escalation_check_ms, 5000);
    assert_int_equal(c.deliver_poll_ms, 200);
    static const struct {
        const char *k, *v;
    } good[] = {
        {"webhook_timeout_ms", "3000"}, {"webhook_backoff_ms", "150"},
        {"webhook_max_tries", "3"},     {"webhook_allow_http", "true"},
        {"webhook_allow_private", "true"}, {"smtp_url", "smtp://127.0.0.1:2525"}, {"smtp_from", "isac-alerts@example.test"},
        {"alert_escalate_after_s", "2"}, {"escalation_check_ms", "200"},
        {"deliver_poll_ms", "50"},      {"smtp_url", ""},
        {"smtp_url", "smtps://user:pw@mail.example.jp:465"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        err_init(&e);
        if (cfg_set(&c, good[i].k, good[i].v, &e))
            print_error("%s = %s: %s\n", good[i].k, good[i].v, e.nfields ? e.fields[0].reason : "");
        assert_int_equal(e.code, 0);
    }
    assert_int_equal(c.webhook_max_tries, 3);
    assert_true(c.webhook_allow_http);
    assert_true(c.webhook_allow_private);
    assert_string_equal(c.smtp_url, "smtps://user:pw@mail.example.jp:465");
    assert_string_equal(c.smtp_from, "isac-alerts@example.test");
    static const struct {
        const char *k, *v;
    } bad[] = {
        {"webhook_timeout_ms", "0"},  {"webhook_backoff_ms", "x"},   {"webhook_max_tries", "0"},
        {"webhook_max_tries", "101"}, {"webhook_allow_http", "yes"}, {"smtp_url", "http://x"},
        {"webhook_allow_private", "1"},
        {"smtp_url", "smtp://a b"},   {"smtp_from", "nobody"},       {"smtp_from", "a@"},
        {"smtp_from", "Isac <a@b.jp>"}, {"alert_escalate_after_s", "0"},
        {"escalation_check_ms", "1"}, {"deliver_poll_ms", "0"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        assert_int_equal(cfg_set(&c, bad[i].k, bad[i].v, &e), ERR_INVALID);
        assert_int_equal(e.nfields, 1);
        assert_string_equal(e.fields[0].field, bad[i].k);
    }
    /* refused values leave the last good ones */
    assert_int_equal(c.webhook_max_tries, 3);
    assert_string_equal(c.smtp_from, "isac-alerts@example.test");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view),          cmocka_unit_test(test_webhook_body),
        cmocka_unit_test(test_sign),          cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_subject),       cmocka_unit_test(test_body),
        cmocka_unit_test(test_header_encode), cmocka_unit_test(test_date),
        cmocka_unit_test(test_message),       cmocka_unit_test(test_cfg),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
