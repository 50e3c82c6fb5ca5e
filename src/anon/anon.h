/*
 * anon.h - the anonymizer: proposes the text of a release, the version of
 * a report that others than the coordinator may see (DOMAIN.md §6), and
 * re-renders it after an analyst edits the list of redactions. Pure: no
 * I/O, no store; the caller loads rules, organisation and context.
 *
 * Three kinds of input:
 *   rules    generic patterns as data (e-mail, phone, URL, IP, host, and
 *            whatever an admin adds), compiled once by anon_rules_new();
 *   org      the provider's registered identifiers, always redacted even
 *            where no generic rule would fire (a Japanese company name):
 *              {"kind": "operator", "sectors": ["electricity"],
 *               "name": {"ja": "...", "en": "..."}, "aliases": ["..."],
 *               "domains": ["example.co.jp"], "ip_ranges": ["192.0.2.0/24"],
 *               "hostnames": ["scada-gw01"], "persons": ["山田 太郎"]}
 *            (every member optional; kind and sectors name the pseudonym);
 *   context  what the pseudonym and the exemptions need of the world:
 *              {"k": 5, "sectors": [{"code": "electricity",
 *                 "name": {"ja": "電力", "en": "electricity"}, "members": 12}],
 *               "allow": ["jpcert.or.jp"]}
 *            k defaults to ANON_K_DEFAULT; allow lists public domains whose
 *            hosts generic rules leave alone (org identifiers still win).
 *
 * The release is the report content (report.h) with:
 *   - title, description, service, followup, purpose, handling and
 *     causes[i].detail redacted (purpose and handling: the marking's texts);
 *   - contact removed; observables with role "victim" removed, and any
 *     other observable whose value contains an org identifier removed;
 *   - sectors with fewer than k members removed (the sector alone would
 *     identify the provider);
 *   - "provider": {"ja", "en"}, the pseudonym of anon_pseudonym().
 *
 * A redaction is
 *   {"id", "field", "start", "end", "original", "placeholder", "rule", "kind"}
 * field is "title", "description", "service", "followup", "purpose", "handling",
 * "causes[N].detail" or "observables[N].value"; start and end are byte
 * offsets into the ORIGINAL field text, on UTF-8 character boundaries;
 * rule is a rule id or "org:name", "org:alias", "org:domain",
 * "org:ip_range", "org:hostname", "org:person". A redaction of an
 * observable removes that observable (its placeholder is null).
 *
 * Placeholders are "[kind-xxxxxx]": six hex digits of a BLAKE2b hash keyed
 * with the per-release key over the kind and the normalised original
 * (ASCII lower case, whitespace collapsed, phone numbers as digits, IP
 * addresses canonical). The same host gets the same placeholder all
 * through one release, yet placeholders of two releases cannot be linked
 * without their keys. Organisation names all become "[org]".
 *
 * Which matches win: the organisation's identifiers first, then generic
 * rules; within each, the longest match, then the earliest, then the rule
 * listed first. A generic match that names a shared indicator (an
 * attacker or other observable of the same report, a host under an
 * allowed domain) is kept, and hides shorter generic matches inside it.
 *
 * Text is UTF-8 throughout; patterns run in PCRE2 UTF mode, caseless
 * unless a rule says otherwise, with a match limit, so a pathological
 * rule fails the call (closed: nothing half-redacted is returned) instead
 * of hanging it.
 *
 * NEEDSWORK: full-width Latin letters (ＴＯＴＯ) and IDN hosts are not
 * folded before matching; list such spellings as aliases for now. A
 * person's name in both orders ("Taro Yamada", "Yamada Taro") is redacted
 * either way but gets two placeholders; spaces inside it do not count.
 * A generic match that overlaps an organisation match only in part is
 * dropped, so its remainder stays visible (no identifier is in it).
 */
#ifndef ISAC_ANON_H
#define ISAC_ANON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"

#define ANON_KEY_BYTES       32     /* per-release placeholder key */
#define ANON_K_DEFAULT       5      /* members a sector needs to be named */
#define ANON_MAX_RULES       256    /* rules in one set */
#define ANON_MAX_PATTERN     2048   /* bytes of one pattern */
#define ANON_MAX_RULE_ID     64     /* bytes of a rule id */
#define ANON_MAX_KIND        16     /* bytes of a kind ([a-z][a-z0-9_]*) */
#define ANON_MAX_DESCRIPTION 500    /* bytes of a rule's description */
#define ANON_MAX_ORG_ITEMS   64     /* entries in each org identifier list */
#define ANON_MAX_ORG_ITEM    255    /* bytes of one org identifier */
#define ANON_MAX_ORG_NAME    1024   /* bytes of an org name (200 characters of up to 4 bytes) */
#define ANON_MAX_REDACTIONS  10000  /* redactions in one release */
#define ANON_MATCH_LIMIT     200000 /* PCRE2 match limit per match call */
#define ANON_DEPTH_LIMIT     10000  /* PCRE2 backtracking depth (interpreter) */
#define ANON_PLACEHOLDER_MAX 32     /* bytes of a placeholder, with NUL */

/* A compiled, immutable rule set; share it freely between threads. */
struct anon_rules;

/*
 * Compile rules: a JSON array of
 *   {"id", "kind", "pattern", "description"?, "caseless"? (default true)}
 * id is [A-Za-z0-9._-]{1,64} and unique, and may not start with "org:";
 * kind names the placeholder ([a-z][a-z0-9_]{0,15}; "email", "phone",
 * "url", "ip", "host" also decide which exemptions apply). Patterns are
 * PCRE2 in UTF mode, JIT-compiled where the platform can.
 *
 * *out is the new set (anon_rules_free()). Returns 0; ERR_INVALID with a
 * field error per faulty entry (e.g. "rules[2].pattern": PCRE2's message
 * and the offset); ERR_TOOBIG past ANON_MAX_RULES; ERR_NOMEM.
 */
int anon_rules_new(const json_t *rules, struct anon_rules **out, struct err *e);
void anon_rules_free(struct anon_rules *r);

/* Number of rules in the set. */
size_t anon_rules_count(const struct anon_rules *r);

/*
 * The built-in rules in the format above (new reference): e-mail
 * addresses, phone numbers (Japanese and international), URLs, IPv4 and
 * IPv6 addresses and networks, host names (FQDNs with a known TLD).
 */
json_t *anon_rules_default(void);

/*
 * The pseudonym of a provider in both languages, *out = {"ja", "en"} (new
 * reference). org_kind is an organisation kind (member.h); sector a code
 * or NULL. The sector is named only if context lists it with at least k
 * members; otherwise, or for an unknown kind, the pseudonym generalises
 * ("an operator in a critical-infrastructure sector"). Returns 0 or
 * ERR_INVALID (context malformed: field errors under "context").
 */
int anon_pseudonym(const char *org_kind, const char *sector, const json_t *context, json_t **out,
                   struct err *e);

/*
 * Propose a release of content (report content as in report.h, already
 * validated). org and context as above; release_key is the per-release
 * placeholder key (random, kept with the release so anon_apply() renders
 * the same placeholders). *release (content shape plus "provider") and
 * *redactions (array, ordered by field, then start) are new references.
 *
 * Returns 0; ERR_INVALID with field errors for a malformed org ("org.domains[1]")
 * or context, or for a rule that exceeded the match limit
 * ("rules[3].pattern"); ERR_TOOBIG past ANON_MAX_REDACTIONS; ERR_NOMEM.
 * On failure *release and *redactions are NULL.
 */
int anon_propose(const struct anon_rules *rules, const json_t *org, const json_t *content,
                 const json_t *context, const unsigned char release_key[ANON_KEY_BYTES],
                 json_t **release, json_t **redactions, struct err *e);

/*
 * Render the release again from an edited list of redactions: the analyst
 * removed one (undo) or added one ({"field", "start", "end"} and optionally
 * "kind", "rule", "id"). Each entry's "original", if present, must equal
 * the text at its offsets, which catches a list made for another revision;
 * "placeholder" is ignored and derived again. Nothing else is matched: the
 * list is the whole of what is redacted, beyond the fixed removals
 * (contact, victim observables, small sectors).
 *
 * Returns 0 and *release (new reference); ERR_INVALID with field errors
 * ("redactions[2].end": outside the field, not on a character boundary,
 * overlapping redactions[1], unknown field, ...); ERR_TOOBIG past
 * ANON_MAX_REDACTIONS; ERR_NOMEM. On failure *release is NULL.
 */
int anon_apply(const json_t *org, const json_t *content, const json_t *context,
               const json_t *redactions, const unsigned char release_key[ANON_KEY_BYTES],
               json_t **release, struct err *e);

/*
 * The redactions list as stored with a release, after anon_apply() accepted
 * it: each entry with its field, offsets, original text, placeholder (null
 * for an observable), rule ("manual" unless given) and kind ("redacted"
 * unless given); ids are kept, or "m<N>" for new entries. *out is a new
 * reference; errors as anon_apply().
 */
int anon_redactions_describe(const json_t *content, const json_t *redactions,
                             const unsigned char release_key[ANON_KEY_BYTES], json_t **out,
                             struct err *e);

#endif
