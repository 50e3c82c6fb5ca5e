/*
 * fixture.c - the store tests' shared fixture; see fixture.h.
 */
#define UNIT_LINKED_FILE /* the test that links this file defines unit.h's hook */
#include "../unit.h"

#include <sodium.h>
#include <sqlite3.h>

#include "base/util.h"
#include "fixture.h"

int fx_open(char **tmp, char *dir, size_t dirsz, struct store **st)
{
    *tmp = unit_tmpdir();
    snprintf(dir, dirsz, "%s/data", *tmp);
    struct err e;
    err_init(&e);
    if (store_open(st, dir, true, &e) == 0)
        return 0;
    print_error("store_open: %s\n", e.detail);
    unit_rmtree(*tmp);
    free(*tmp);
    *tmp = NULL;
    return -1;
}

void fx_close(char *tmp, struct store *st)
{
    store_close(st);
    unit_rmtree(tmp);
    free(tmp);
}

json_t *fx_org_obj(const char *id, const char *name_ja, const char *name_en, const char *kind,
                   const char *tier, const char *sectors, const char *contacts, bool disabled)
{
    json_t *o = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:b,s:s,s:s}", "id", id, "name", "ja",
                          name_ja, "en", name_en, "kind", kind, "tier", tier, "disabled",
                          disabled, "created_at", "2026-01-01T00:00:00Z", "updated_at",
                          "2026-01-01T00:00:00Z");
    json_object_set_new(o, "sectors", unit_jsonq(sectors ? sectors : "[]"));
    json_object_set_new(o, "contacts", unit_jsonq(contacts ? contacts : "[]"));
    return o;
}

void fx_org(struct store *st, char *id, const char *name_ja, const char *name_en,
            const char *kind, const char *tier, const char *sectors, const char *contacts,
            bool disabled)
{
    struct err e;
    util_uuid7(id);
    json_t *o = fx_org_obj(id, name_ja, name_en, kind, tier, sectors, contacts, disabled);
    OK(store_org_create(st, o, &e));
    json_decref(o);
}

json_t *fx_user_obj(const char *id, const char *org_id, const char *login,
                    const char *display_name, const char *roles)
{
    json_t *u = json_pack("{s:s,s:s,s:s,s:s,s:s,s:n,s:b}", "id", id, "org_id", org_id, "login",
                          login, "display_name", display_name, "locale", "ja", "email",
                          "disabled", 0);
    json_object_set_new(u, "roles", unit_jsonq(roles));
    return u;
}

void fx_user(struct store *st, char *id, const char *org_id, const char *login,
             const char *display_name, const char *roles, const char *pwhash)
{
    struct err e;
    util_uuid7(id);
    json_t *u = fx_user_obj(id, org_id, login, display_name, roles);
    OK(store_user_create(st, u, pwhash, &e));
    json_decref(u);
}

void fx_webhook(struct store *st, const char *org_id, char *id, uint8_t secret[32], bool enabled)
{
    struct err e;
    uint8_t s[32];
    randombytes_buf(s, sizeof(s));
    if (secret)
        memcpy(secret, s, sizeof(s));
    util_uuid7(id);
    json_t *h = json_pack("{s:s,s:s,s:s,s:b}", "id", id, "org_id", org_id, "url",
                          "https://hooks.example.jp/isac", "enabled", enabled);
    OK(store_webhook_create(st, h, s, sizeof(s), &e));
    json_decref(h);
}

struct store_release_access fx_reader(const char *org_id, const char *kind, const char *tier,
                                      const char *sectors)
{
    struct store_release_access a;
    memset(&a, 0, sizeof(a));
    a.all = !strcmp(kind, "coordinator");
    a.org_id = org_id;
    snprintf(a.keys[a.nkeys++], STORE_RELEASE_KEY_LEN, "all");
    snprintf(a.keys[a.nkeys++], STORE_RELEASE_KEY_LEN, "org:%s", org_id);
    snprintf(a.keys[a.nkeys++], STORE_RELEASE_KEY_LEN, "tier:%s", tier);
    json_t *secs = unit_jsonq(sectors);
    size_t i;
    json_t *s;
    json_array_foreach(secs, i, s)
    {
        snprintf(a.keys[a.nkeys++], STORE_RELEASE_KEY_LEN, "sector:%s", json_string_value(s));
        if (!strcmp(kind, "sector_hub"))
            snprintf(a.keys[a.nkeys++], STORE_RELEASE_KEY_LEN, "hub:%s", json_string_value(s));
    }
    json_decref(secs);
    return a;
}

struct store_release_access fx_auditor(struct store_release_access coord)
{
    coord.none = true;
    return coord;
}

struct store_release_access fx_nobody(void)
{
    struct store_release_access a;
    memset(&a, 0, sizeof(a));
    a.org_id = "";
    return a;
}

json_t *fx_json_orgs(const char *text, const char *const *codes, char (*ids)[UTIL_UUID_LEN + 1],
                     int n)
{
    char out[4096];
    size_t used = 0;
    for (const char *p = text; *p && used + UTIL_UUID_LEN + 1 < sizeof(out);) {
        if (*p != '@') {
            out[used++] = *p == '\'' ? '"' : *p;
            p++;
            continue;
        }
        size_t len = 1;
        while (p[len] == '_' || (p[len] >= 'A' && p[len] <= 'Z') ||
               (p[len] >= '0' && p[len] <= '9'))
            len++;
        int found = -1;
        for (int i = 0; i < n; i++)
            if (strlen(codes[i]) == len - 1 && !strncmp(codes[i], p + 1, len - 1))
                found = i;
        if (found < 0) {
            print_error("fx_json_orgs: unknown organisation in %s\n", p);
            fail();
        }
        memcpy(out + used, ids[found], UTIL_UUID_LEN);
        used += UTIL_UUID_LEN;
        p += len;
    }
    out[used] = '\0';
    return unit_json(out);
}

void fx_num_id(unsigned n, char tag, char *id)
{
    snprintf(id, UTIL_UUID_LEN + 1, "01900000-0000-7000-%c000-%012u", tag, n);
}

unsigned fx_id_num(const char *id)
{
    return (unsigned)strtoul(id + 24, NULL, 10);
}

void fx_names(const json_t *arr, char prefix, char *out, size_t n)
{
    out[0] = '\0';
    size_t used = 0, i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        int k = snprintf(out + used, n - used, "%s%c%u", i ? "," : "", prefix,
                         fx_id_num(unit_jstr(v, "id")));
        if (k < 0 || (size_t)k >= n - used)
            break;
        used += (size_t)k;
    }
}

void fx_append_page(char *all, size_t n, int page, const char *got)
{
    size_t l = strlen(all);
    if (page && l + 1 < n) {
        all[l++] = '|';
        all[l] = '\0';
    }
    util_strlcpy(all + l, got, n - l);
}

void fx_pages(fx_list_fn *list, const void *ud, bool by_seq, char prefix, int limit, char *out,
              size_t n)
{
    char got[256], after[UTIL_UUID_LEN + 1] = "";
    int64_t after_seq = 0;
    out[0] = '\0';
    for (int page = 0; page < 10; page++) {
        struct err e;
        json_t *arr = NULL;
        OK(list(ud, after_seq, !by_seq && page ? after : NULL, limit, &arr, &e));
        if (json_array_size(arr) == 0) {
            json_decref(arr);
            break;
        }
        fx_names(arr, prefix, got, sizeof(got));
        fx_append_page(out, n, page, got);
        const json_t *last = json_array_get(arr, json_array_size(arr) - 1);
        if (by_seq) {
            after_seq = unit_jint(last, "pub_seq");
            assert_true(after_seq > 0);
        } else {
            util_strlcpy(after, unit_jstr(last, "id"), sizeof(after));
        }
        json_decref(arr);
    }
}

void fx_seen(fx_get_fn *get, const void *ud, unsigned n, char tag, char prefix, char *out,
             size_t sz)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 1; i <= n; i++) {
        char id[UTIL_UUID_LEN + 1];
        fx_num_id(i, tag, id);
        struct err e;
        json_t *r = NULL;
        err_init(&e);
        int rc = get(ud, id, &r, &e);
        if (rc == 0) {
            assert_str(unit_jstr(r, "id"), id);
            int k = snprintf(out + used, sz - used, "%s%c%u", used ? "," : "", prefix, i);
            used += k > 0 && (size_t)k < sz - used ? (size_t)k : 0;
        } else {
            if (rc != ERR_NOTFOUND)
                print_error("get %c%u: rc %d: %s\n", prefix, i, rc, e.detail);
            assert_int_equal(rc, ERR_NOTFOUND);
            assert_null(r);
        }
        json_decref(r);
    }
}

void fx_expect(int *bad, const char *who, const char *what, const char *want, const char *got)
{
    if (strcmp(got, want) == 0)
        return;
    print_error("%s %s: want '%s', got '%s'\n", who, what, want, got);
    (*bad)++;
}

int fx_sql(const char *dir, const char *sql, char *out, size_t n)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/isac.db", dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW && out) {
                const char *v = (const char *)sqlite3_column_text(st, 0);
                util_strlcpy(out, v ? v : "", n);
            }
            rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc;
}

void fx_sql_script(const char *dir, const char *sql)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/isac.db", dir);
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_error("%s: rc %d %s\n", sql, rc, msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

void fx_sql_ok(const char *dir, const char *fmt, ...)
{
    char sql[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    int rc = fx_sql(dir, sql, NULL, 0);
    if (rc != SQLITE_OK)
        print_error("%s: rc %d\n", sql, rc);
    assert_int_equal(rc, SQLITE_OK);
}

long fx_sql_long(const char *dir, const char *fmt, ...)
{
    char sql[1000], v[32] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    assert_int_equal(fx_sql(dir, sql, v, sizeof(v)), SQLITE_OK);
    return strtol(v, NULL, 10);
}

const char *fx_sql_text(const char *dir, char *out, size_t n, const char *fmt, ...)
{
    char sql[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    out[0] = '\0';
    assert_int_equal(fx_sql(dir, sql, out, n), SQLITE_OK);
    return out;
}
