/*
 * fixture.h - what the unit tests of src/store share (fixture.c): a fresh
 * store in a temp dir, organisations, users and webhooks made through
 * store.h, SQL on the store's file from a connection of our own (to read
 * what the store decides by itself, or to damage it).
 *
 * Include after "../unit.h". Ids are written to char[UTIL_UUID_LEN + 1];
 * JSON texts may use ' for " (as unit_jsonq()).
 */
#ifndef ISAC_STORE_FIXTURE_H
#define ISAC_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "store/store.h"

/*
 * A new store in dir = "<a fresh temp dir>/data", so store_open(create)
 * also proves it makes the directory; *tmp is the temp dir. 0, or -1
 * after printing why, with nothing left behind.
 */
int fx_open(char **tmp, char *dir, size_t dirsz, struct store **st);
/* Close st and remove tmp with all in it; frees tmp. */
void fx_close(char *tmp, struct store *st);

/*
 * An organisation (created and updated 2026-01-01; new reference) / create
 * one, its new id going to id. sectors and contacts are JSON arrays, NULL
 * for [].
 */
json_t *fx_org_obj(const char *id, const char *name_ja, const char *name_en, const char *kind,
                   const char *tier, const char *sectors, const char *contacts, bool disabled);
void fx_org(struct store *st, char *id, const char *name_ja, const char *name_en,
            const char *kind, const char *tier, const char *sectors, const char *contacts,
            bool disabled);
/*
 * An enabled user of org_id (locale ja, no e-mail; new reference) / create
 * one with pwhash (or NULL), its new id going to id. roles: a JSON array.
 */
json_t *fx_user_obj(const char *id, const char *org_id, const char *login,
                    const char *display_name, const char *roles);
void fx_user(struct store *st, char *id, const char *org_id, const char *login,
             const char *display_name, const char *roles, const char *pwhash);
/* Create a webhook of org_id to a fixed URL with a random secret (copied to secret if not NULL). */
void fx_webhook(struct store *st, const char *org_id, char *id, uint8_t secret[32], bool enabled);

/*
 * A reader as auth_release_access() and auth_alert_access() build it of
 * organisation org_id (which must outlive it): keys "all", "org:<id>",
 * "tier:<tier>", "sector:<s>" per sector and, for a sector hub,
 * "hub:<s>"; all for the coordinator. sectors: a JSON array.
 */
struct store_release_access fx_reader(const char *org_id, const char *kind, const char *tier,
                                      const char *sectors);
/*
 * Readers besides organisations': an auditor (the coordinator's reader
 * with none set, which wins over all else it carries) and nobody (no
 * organisation, no keys).
 */
struct store_release_access fx_auditor(struct store_release_access coord);
struct store_release_access fx_nobody(void);
/*
 * JSON text with ' for " and "@CODE" for the id of the organisation whose
 * code is codes[i] (ids[i], of n), so audiences and targets read as what
 * they mean. An unknown code fails the test.
 */
json_t *fx_json_orgs(const char *text, const char *const *codes, char (*ids)[UTIL_UUID_LEN + 1],
                     int n);

/*
 * Ids by number, so "newest created first" is a known order and lists read
 * as "A3,A1": fx_num_id() writes the n-th id of a kind (tag, a hex digit
 * per kind) to id, fx_id_num() gives n back, and fx_names() writes the
 * objects of arr as "<prefix><n>,..." to out.
 */
void fx_num_id(unsigned n, char tag, char *id);
unsigned fx_id_num(const char *id);
void fx_names(const json_t *arr, char prefix, char *out, size_t n);
/* all += (page ? "|" : "") + got, cut at n (a cut result fails the comparison anyway). */
void fx_append_page(char *all, size_t n, int page, const char *got);
/* One page of a test's store_*_list(): limit rows after the cursor (after_seq or after_id). */
typedef int fx_list_fn(const void *ud, int64_t after_seq, const char *after_id, int limit,
                       json_t **out, struct err *e);
/*
 * Page through a list limit rows at a time (at most 10 pages), by event id
 * (by_seq: the inbox, pub_seq) or else by id (the work queue), and write
 * the pages' fx_names() joined by '|' ("A8,A6|A2,A4") to out.
 */
void fx_pages(fx_list_fn *list, const void *ud, bool by_seq, char prefix, int limit, char *out,
              size_t n);

/* One get of a test's store_*_get(), for fx_seen(). */
typedef int fx_get_fn(const void *ud, const char *id, json_t **out, struct err *e);
/*
 * Which of the ids numbered 1..n (fx_num_id() with tag) get() finds, as
 * "<prefix>1,<prefix>3" in out. Any failure but ERR_NOTFOUND without a
 * row, or a row of another id, fails the test.
 */
void fx_seen(fx_get_fn *get, const void *ud, unsigned n, char tag, char prefix, char *out,
             size_t sz);
/* For tables of cases: a mismatch counts into *bad, printed as "<who> <what>: want, got". */
void fx_expect(int *bad, const char *who, const char *what, const char *want, const char *got);

/*
 * One SQL statement on dir/isac.db from a connection of our own; the first
 * column of the first row goes to out ("" for NULL) unless out is NULL.
 * Returns the sqlite3 rc (SQLITE_OK after a row or the end).
 */
int fx_sql(const char *dir, const char *sql, char *out, size_t n);
/* Run a script of several statements (sqlite3_exec) on the data dir's database; asserts it succeeds. */
void fx_sql_script(const char *dir, const char *sql);
/* printf-style statements that must succeed: run / the first column as a number / as text. */
void fx_sql_ok(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long fx_sql_long(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* out, "" when there is no row. */
const char *fx_sql_text(const char *dir, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
