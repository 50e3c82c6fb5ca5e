/*
 * anon_int.h - what the files of the anonymizer share: compiled rules, the
 * match loop, the organisation's matchers and the list of candidate
 * matches. Not for use outside src/anon/.
 *
 * A scan appends candidates to a struct anon__cands; anon.c resolves
 * overlaps among them and turns the winners into redactions. Offsets are
 * bytes into the field text; every candidate starts and ends on a UTF-8
 * character boundary because PCRE2 in UTF mode only matches whole
 * characters.
 */
#ifndef ISAC_ANON_INT_H
#define ISAC_ANON_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "anon.h"
#include "base/err.h"

/* One host name label (letters, digits, hyphens), for patterns; used caseless. */
#define ANON__LABEL "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"

struct anon__rule {
    char *id;
    char *kind;
    pcre2_code *re;
};

struct anon_rules {
    size_t n;
    struct anon__rule *v;
    pcre2_code *ip4; /* address candidates for the org's IP ranges */
    pcre2_code *ip6;
};

/* Tiers, in the order they win overlaps. */
enum anon__tier { ANON__ORG = 0, ANON__GENERIC = 1 };

struct anon__cand {
    size_t field;      /* index into the caller's field table */
    size_t start, end; /* bytes, end exclusive */
    int tier;          /* enum anon__tier */
    size_t order;      /* rule position within the tier, breaks ties */
    const char *rule;  /* rule id; borrowed from the rules or the org matchers */
    const char *kind;  /* placeholder kind; borrowed likewise */
    bool keep;         /* a shared indicator: blocks shorter matches, not redacted */
};

struct anon__cands {
    struct anon__cand *v;
    size_t n, cap;
};

/* Append one candidate; ERR_TOOBIG past 4 * ANON_MAX_REDACTIONS. */
int anon__cands_add(struct anon__cands *c, const struct anon__cand *x);
void anon__cands_release(struct anon__cands *c);

/* Per-call PCRE2 state: match data, limits, JIT stack. */
struct anon__matcher {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
};
int anon__matcher_init(struct anon__matcher *m);
void anon__matcher_release(struct anon__matcher *m);

/*
 * Called for each match [start, end) of a scan; returns 0 to go on or a
 * negative ERR_* to stop the scan with that code.
 */
typedef int anon__hit_fn(size_t start, size_t end, void *arg);

/*
 * Run re over the n bytes of s (valid UTF-8) from left to right, calling
 * hit for each non-empty match. Returns 0, the code hit returned, or
 * ERR_INTERNAL when PCRE2 gave up (match, depth or heap limit, JIT stack):
 * the caller names the rule.
 */
int anon__scan(const pcre2_code *re, struct anon__matcher *m, const char *s, size_t n,
               anon__hit_fn *hit, void *arg);

/*
 * Compile one pattern (UTF, optionally caseless). Returns NULL and writes
 * PCRE2's message and the offset into msg on failure.
 */
pcre2_code *anon__compile(const char *pat, size_t len, bool caseless, bool jit, char *msg,
                          size_t msgsz);

/* True if s is a placeholder kind: [a-z][a-z0-9_]{0,15}. */
bool anon__kind_ok(const char *s);

/* The organisation's identifiers, compiled for one call. */
struct anon__org;

/*
 * Parse and compile org (may be NULL: nothing registered). Field errors go
 * under "org.". Returns 0, ERR_INVALID, ERR_NOMEM.
 */
int anon__org_new(const json_t *org, struct anon__org **out, struct err *e);
void anon__org_free(struct anon__org *o);

/*
 * Append a tier-ANON__ORG candidate (with field index field) for every
 * organisation identifier in the n bytes at s. rules supplies the IP
 * address candidate patterns. Returns 0 or a negative ERR_*.
 */
int anon__org_scan(const struct anon__org *o, const struct anon_rules *rules,
                   struct anon__matcher *m, size_t field, const char *s, size_t n,
                   struct anon__cands *out, struct err *e);

/*
 * Parse an address with an optional "/prefix" (n bytes at s) into family,
 * 16 bytes of address and prefix length (the full length if absent).
 */
bool anon__ip_parse(const char *s, size_t n, int *af, unsigned char addr[16], int *bits);
/* True if address a of family af lies in network net/bits of the same family. */
bool anon__ip_in(int af, const unsigned char a[16], const unsigned char net[16], int bits);

#endif
