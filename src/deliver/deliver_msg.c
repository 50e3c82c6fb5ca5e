/*
 * deliver_msg.c - what delivery sends: the webhook body and its
 * signature, the e-mail message, and the retry schedule. Pure: see
 * deliver_int.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/err.h"
#include "base/jw.h"
#include "base/util.h"
#include "deliver_int.h"

/* ---- the recipients' view and the webhook body ---- */

static void empty_reports(json_t *links)
{
    if (json_is_object(links))
        json_object_set_new(links, "reports", json_array());
}

json_t *deliver__recipient_view(const json_t *alert)
{
    json_t *v = json_deep_copy(alert);
    if (!v)
        return NULL;
    /* The API's shape (api_alert_view()): the body's fields at the top, pub_seq as event_id. */
    json_t *body = json_object_get(v, "body");
    if (json_is_object(body)) {
        static const char *const lifted[] = {"title", "summary", "actions", "links",
                                             "observables"};
        for (size_t i = 0; i < sizeof(lifted) / sizeof(lifted[0]); i++) {
            json_t *x = json_object_get(body, lifted[i]);
            json_object_set(v, lifted[i], x ? x : json_null());
        }
        json_object_del(v, "body");
    }
    json_t *seq = json_object_get(v, "pub_seq");
    if (seq)
        json_object_set(v, "event_id", seq);
    /* What to do and why; not who composed it, whom else it reached, or reports. */
    static const char *const hidden[] = {"created_by", "published_by", "audience", "pub_seq"};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        json_object_del(v, hidden[i]);
    empty_reports(json_object_get(v, "links"));
    return v;
}

char *deliver__webhook_body(const json_t *alert, const json_t *view, size_t *len)
{
    json_t *seq = json_object_get(alert, "pub_seq");
    json_t *doc = json_pack("{s:s,s:I,s:O}", "type", "alert", "event_id",
                            (json_int_t)(json_is_integer(seq) ? json_integer_value(seq) : 0),
                            "alert", view);
    char *s = doc ? jw_dump(doc, NULL) : NULL;
    json_decref(doc);
    if (s && len)
        *len = strlen(s);
    return s;
}

void deliver__sign(const char *secret, int64_t ts, const char *body, size_t len,
                   char out[DELIVER_SIG_LEN + 1])
{
    char stamp[24];
    int n = snprintf(stamp, sizeof(stamp), "%lld.", (long long)ts);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, DELIVER_SIG_LEN + 1 - 7, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

int64_t deliver__next_try(int64_t now, int tries, int64_t base_ms, int max_tries)
{
    if (tries >= max_tries)
        return 0;
    int64_t delay = base_ms > 0 ? base_ms : 1;
    for (int i = 1; i < tries && delay < DELIVER_BACKOFF_CAP_MS; i++)
        delay *= 2;
    return now + (delay < DELIVER_BACKOFF_CAP_MS ? delay : DELIVER_BACKOFF_CAP_MS);
}

/* ---- texts of an alert ---- */

const char *deliver__text(const json_t *texts, const char *lang)
{
    const char *other = strcmp(lang, "en") ? "en" : "ja";
    const char *s = json_string_value(json_object_get(texts, lang));
    if (!s || !*s)
        s = json_string_value(json_object_get(texts, other));
    return s ? s : "";
}

/* A field of the alert's body, or of the alert itself (the API's shape). */
static const json_t *field(const json_t *alert, const char *k)
{
    const json_t *v = json_object_get(json_object_get(alert, "body"), k);
    return v ? v : json_object_get(alert, k);
}

static const char *str(const json_t *alert, const char *k)
{
    const char *s = json_string_value(json_object_get(alert, k));
    return s ? s : "";
}

struct labels {
    const char *exercise, *kind[3], *urgency[3], *tlp, *issuer, *published, *id, *version;
    const char *summary, *actions, *observables, *more[2], *releases, *footer[2];
};

static const struct labels labels_ja = {
    .exercise = "【訓練 / EXERCISE】これは訓練のための注意喚起です。",
    .kind = {"注意喚起", "注意喚起（訂正）", "注意喚起（撤回）"},
    .urgency = {"通常", "緊急", "重大"},
    .tlp = "取扱区分",
    .issuer = "発行元",
    .published = "公開日時",
    .id = "識別子",
    .version = "版",
    .summary = "概要",
    .actions = "推奨される対策",
    .observables = "観測情報",
    .more = {"ほか ", " 件"},
    .releases = "関連する公開情報",
    .footer = {"このメールは isac から自動送信されています。TLP:",
               " の取扱いに従ってください。\n"
               "既読・対応の報告は isac の画面または API から行ってください。\n"},
};

static const struct labels labels_en = {
    .exercise = "[EXERCISE / 訓練] This alert is part of an exercise.",
    .kind = {"Alert", "Alert (correction)", "Alert (withdrawal)"},
    .urgency = {"routine", "URGENT", "CRITICAL"},
    .tlp = "Marking",
    .issuer = "Issued by",
    .published = "Published",
    .id = "Alert id",
    .version = "version",
    .summary = "Summary",
    .actions = "Recommended actions",
    .observables = "Observables",
    .more = {"and ", " more"},
    .releases = "Related releases",
    .footer = {"This message was sent automatically by isac. Handle it according to TLP:",
               ".\nPlease report reading and action taken in isac (web UI or API).\n"},
};

static int kind_index(const char *kind)
{
    return !strcmp(kind, "correction") ? 1 : !strcmp(kind, "withdrawal") ? 2 : 0;
}

static int urgency_index(const char *u)
{
    return !strcmp(u, "urgent") ? 1 : !strcmp(u, "critical") ? 2 : 0;
}

int deliver__mail_subject(const json_t *alert, const char *lang, struct buf *out)
{
    static const char *const urgency[] = {"", "[URGENT] ", "[CRITICAL] "};
    static const char *const kind[] = {"", "[CORRECTION/訂正] ", "[WITHDRAWN/撤回] "};
    const char *tlp = str(alert, "tlp");
    return buf_appendf(out, "%s[TLP:%s] %s%s%s",
                       json_is_true(json_object_get(alert, "exercise")) ? "[EXERCISE/訓練] " : "",
                       *tlp ? tlp : "AMBER", urgency[urgency_index(str(alert, "urgency"))],
                       kind[kind_index(str(alert, "kind"))],
                       deliver__text(field(alert, "title"), lang));
}

/* "published_at" as RFC 3339: the store's string, or milliseconds. */
static void published_at(const json_t *alert, char out[UTIL_TIME_LEN + 1])
{
    const json_t *p = json_object_get(alert, "published_at");
    if (json_is_string(p))
        util_strlcpy(out, json_string_value(p), UTIL_TIME_LEN + 1);
    else if (json_is_integer(p))
        util_time_fmt(json_integer_value(p) / 1000, out);
    else
        util_strlcpy(out, "-", UTIL_TIME_LEN + 1);
}

static int section(struct buf *b, const char *heading, const char *text)
{
    if (!*text)
        return 0;
    return buf_appendf(b, "\n■ %s\n%s\n", heading, text);
}

static int observables_section(struct buf *b, const struct labels *l, const json_t *obs)
{
    size_t n = json_array_size(obs), i;
    json_t *o;
    int rc = n ? buf_appendf(b, "\n■ %s\n", l->observables) : 0;
    json_array_foreach(obs, i, o)
    {
        if (rc || i >= DELIVER_MAIL_OBSERVABLES)
            break;
        const char *role = str(o, "role");
        rc = buf_appendf(b, "- %s: %s%s%s%s\n", str(o, "type"), str(o, "value"), *role ? " (" : "",
                         role, *role ? ")" : "");
    }
    if (!rc && n > DELIVER_MAIL_OBSERVABLES)
        rc = buf_appendf(b, "- %s%zu%s\n", l->more[0], n - DELIVER_MAIL_OBSERVABLES, l->more[1]);
    return rc;
}

static int releases_section(struct buf *b, const struct labels *l, const json_t *links)
{
    const json_t *rel = json_object_get(links, "releases");
    size_t i;
    json_t *r;
    int rc = json_array_size(rel) ? buf_appendf(b, "\n■ %s\n", l->releases) : 0;
    json_array_foreach(rel, i, r) if (!rc) rc = buf_appendf(b, "- %s\n", json_string_value(r));
    return rc;
}

/* The head: exercise banner, kind, title, urgency, marking, issuer, time and id. */
static int mail_head(const json_t *alert, const char *lang, const struct labels *l, struct buf *b)
{
    char when[UTIL_TIME_LEN + 1];
    published_at(alert, when);
    const char *tlp = str(alert, "tlp");
    const json_t *ver = json_object_get(alert, "version");
    const char *issuer = deliver__text(json_object_get(json_object_get(alert, "issuer"), "name"),
                                       lang);
    int rc = 0;
    if (json_is_true(json_object_get(alert, "exercise")))
        rc = buf_appendf(b, "%s\n\n", l->exercise);
    if (!rc)
        rc = buf_appendf(b, "%s: %s\n\n", l->kind[kind_index(str(alert, "kind"))],
                         deliver__text(field(alert, "title"), lang));
    if (!rc)
        rc = buf_appendf(b, "%s: TLP:%s\n", l->tlp, *tlp ? tlp : "AMBER");
    if (!rc)
        rc = buf_appendf(b, "%s: %s\n", strcmp(lang, "en") ? "緊急度" : "Urgency",
                         l->urgency[urgency_index(str(alert, "urgency"))]);
    if (!rc && *issuer)
        rc = buf_appendf(b, "%s: %s\n", l->issuer, issuer);
    if (!rc)
        rc = buf_appendf(b, "%s: %s\n%s: %s (%s %lld)\n", l->published, when, l->id,
                         str(alert, "id"), l->version,
                         (long long)(json_is_integer(ver) ? json_integer_value(ver) : 1));
    return rc;
}

int deliver__mail_body(const json_t *alert, const char *lang, struct buf *out)
{
    const struct labels *l = strcmp(lang, "en") ? &labels_ja : &labels_en;
    const char *tlp = str(alert, "tlp");
    int rc = mail_head(alert, lang, l, out);
    if (!rc)
        rc = section(out, l->summary, deliver__text(field(alert, "summary"), lang));
    if (!rc)
        rc = section(out, l->actions, deliver__text(field(alert, "actions"), lang));
    if (!rc)
        rc = observables_section(out, l, field(alert, "observables"));
    if (!rc)
        rc = releases_section(out, l, field(alert, "links"));
    if (!rc)
        rc = buf_append(out, "\n-- \n", 5);
    if (!rc)
        rc = buf_appendf(out, "%s%s%s", l->footer[0], *tlp ? tlp : "AMBER", l->footer[1]);
    return rc;
}

/* ---- the message ---- */

/* Bytes of the UTF-8 character starting with lead byte c. */
static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

#define WORD_RAW_MAX 45 /* bytes per encoded word: 60 base64 chars + 12 = 72 <= 75 */
#define LINE_MAX_CHARS 78

int deliver__header_encode(const char *s, size_t used, struct buf *out)
{
    size_t n = strlen(s);
    bool plain = used + n <= LINE_MAX_CHARS;
    for (size_t i = 0; plain && i < n; i++)
        plain = s[i] >= 0x20 && s[i] < 0x7f;
    if (plain)
        return buf_append(out, s, n);
    int rc = 0;
    for (size_t at = 0; at < n && !rc;) {
        /* the first word shares its line with the header's name */
        size_t room = at ? 1 : used, max = room + 12 + 4 < LINE_MAX_CHARS
                                               ? (LINE_MAX_CHARS - room - 12) / 4 * 3
                                               : 3;
        max = max < WORD_RAW_MAX ? max : WORD_RAW_MAX;
        size_t take = 0;
        while (at + take < n) {
            size_t c = utf8_len((unsigned char)s[at + take]);
            if (take + c > max)
                break;
            take += c;
        }
        if (take == 0 || at + take > n)
            take = n - at < max ? n - at : max; /* invalid UTF-8: cut anyway */
        char b64[sodium_base64_ENCODED_LEN(WORD_RAW_MAX, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + at, take,
                          sodium_base64_VARIANT_ORIGINAL);
        rc = buf_appendf(out, "%s=?UTF-8?B?%s?=", at ? "\r\n " : "", b64);
        at += take;
    }
    return rc;
}

void deliver__mail_date(int64_t t, char out[40])
{
    /* Not strftime's %a/%b: they follow the process locale, and RFC 5322 wants English. */
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Text with "\n" line ends as base64 of its CRLF form (RFC 2045 §6.8), 76 characters a line. */
static int base64_lines(const char *text, struct buf *out)
{
    struct buf crlf;
    buf_init(&crlf, out->max);
    int rc = 0;
    for (const char *p = text; *p && !rc; p++)
        rc = *p == '\n' ? buf_append(&crlf, "\r\n", 2)
                        : *p == '\r' ? 0 : buf_append(&crlf, p, 1);
    for (size_t at = 0; at < crlf.len && !rc; at += 57) {
        size_t take = crlf.len - at < 57 ? crlf.len - at : 57; /* 57 bytes -> 76 characters */
        char line[sodium_base64_ENCODED_LEN(57, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(line, sizeof(line), (const unsigned char *)crlf.data + at, take,
                          sodium_base64_VARIANT_ORIGINAL);
        rc = buf_appendf(out, "%s\r\n", line);
    }
    buf_release(&crlf);
    return rc;
}

int deliver__mail_render(const struct deliver_mail *m, struct buf *out)
{
    struct buf subject, body;
    buf_init(&subject, 64 * 1024);
    buf_init(&body, out->max);
    char date[40];
    deliver__mail_date(m->date, date);
    int rc = deliver__mail_subject(m->alert, m->lang, &subject);
    if (!rc)
        rc = deliver__mail_body(m->alert, m->lang, &body);
    if (!rc)
        rc = buf_appendf(out,
                         "From: isac <%s>\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <%s>\r\n"
                         "Subject: ",
                         m->from, m->to, date, m->message_id);
    if (!rc)
        rc = deliver__header_encode(subject.data ? subject.data : "", strlen("Subject: "), out);
    if (!rc)
        rc = buf_appendf(out,
                         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                         "Content-Transfer-Encoding: base64\r\nContent-Language: %s\r\n"
                         "Auto-Submitted: auto-generated\r\nX-Isac-Alert: %s\r\n"
                         "X-Isac-Delivery: %lld\r\n\r\n",
                         strcmp(m->lang, "en") ? "ja" : "en", str(m->alert, "id"),
                         (long long)m->delivery_id);
    if (!rc)
        rc = base64_lines(body.data ? body.data : "", out);
    buf_release(&subject);
    buf_release(&body);
    return rc;
}
