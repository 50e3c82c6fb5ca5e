/*
 * member.h - the member model: sectors, tiers, organisations, users,
 * tokens. Validation and normalisation of API input; no I/O.
 *
 * Input arrives as parsed JSON. model_*_check() validates it against the
 * rules below, reports every faulty field (not just the first) into the
 * struct err, and on success returns a new normalised object (new
 * reference) in the API shape that store.h accepts.
 *
 * Codes that are fixed by the software (organisation kinds, roles,
 * locales, contact types) are enums here; codes that are data (sectors,
 * tiers) are checked against the store by the caller, which passes the
 * known codes in.
 */
#ifndef ISAC_MODEL_MEMBER_H
#define ISAC_MODEL_MEMBER_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"

/* Roles are bits so a user can hold several and the store can filter. */
enum model_role {
    MODEL_ROLE_MEMBER = 1u << 0,    /* reads what its organisation may see */
    MODEL_ROLE_ANALYST = 1u << 1,   /* prepares releases and alerts */
    MODEL_ROLE_ORG_ADMIN = 1u << 2, /* manages its own organisation's users and tokens */
    MODEL_ROLE_ADMIN = 1u << 3,     /* manages the hub: all organisations and users */
    MODEL_ROLE_AUDITOR = 1u << 4,   /* reads the audit log, no content */
};
#define MODEL_ROLE_ALL 0x1fu

/* Role code <-> bit; 0 for an unknown code. */
unsigned model_role_bit(const char *code);
/* JSON array of role codes for a bit set, in canonical order. */
json_t *model_roles_json(unsigned roles);
/* Parse a JSON array of role codes; validation errors under field. */
int model_roles_parse(const json_t *arr, const char *field, unsigned *out, struct err *e);

bool model_org_kind_valid(const char *kind);
bool model_locale_valid(const char *locale);

/* Known codes of data-driven vocabularies, for validation. */
struct model_vocab {
    const char *const *codes;
    size_t n;
};
bool model_vocab_has(const struct model_vocab *v, const char *code);

/* What a check is for: create (required fields) or patch (all optional). */
enum model_mode { MODEL_CREATE, MODEL_PATCH };

/*
 * Validate a sector body. Create: {"code","name":{"ja","en"}};
 * patch: {"name"?, "disabled"?}.
 */
int model_sector_check(const json_t *in, enum model_mode mode, json_t **out, struct err *e);

/*
 * Validate an organisation body: name{ja,en}, kind, sectors, tier,
 * contacts, identifiers, and on patch also disabled. sectors and tiers are
 * the known codes. Unknown fields are errors.
 *
 * identifiers are what the anonymizer (anon.h) always redacts from the
 * organisation's reports: {"aliases", "domains", "ip_ranges", "hostnames",
 * "persons"}, each an optional array of at most LIMIT_ORG_IDENTIFIERS
 * strings of 1..LIMIT_ORG_IDENTIFIER bytes without control characters.
 * Entries are trimmed of white space (U+3000 too); aliases and persons
 * need at least 2 characters; domains are lower-cased host names with a
 * dot (letters, digits, hyphens; no trailing dot); hostnames lower-cased
 * the same way, one label allowed; ip_ranges an IPv4/IPv6 address or
 * network in canonical form (RFC 5952, host bits cleared). Duplicates
 * after normalisation are dropped. Errors name the entry
 * ("identifiers.domains[2]"). *out carries only the lists given, so a
 * patch merged with model_merge() replaces just those.
 */
int model_org_check(const json_t *in, enum model_mode mode, const struct model_vocab *sectors,
                    const struct model_vocab *tiers, json_t **out, struct err *e);

/*
 * Rules that span fields of a whole organisation (create, or after merging
 * a patch): operators and sector hubs belong to at least one sector.
 */
int model_org_rules(const json_t *org, struct err *e);

/*
 * Validate a user body: login, display_name, org_id, roles, locale, email,
 * password (create); display_name, roles, locale, email, disabled, password
 * (patch). The password stays in *out under "password" for the caller to
 * hash and remove.
 */
int model_user_check(const json_t *in, enum model_mode mode, json_t **out, struct err *e);

/* Validate a password (length in bytes; UTF-8 already checked). */
int model_password_check(const char *pw, const char *field, struct err *e);
/* Normalise a login: lower-case, charset [a-z0-9._@-], 3..64. */
int model_login_norm(const char *in, const char *field, char *out, size_t outsz, struct err *e);

/* Validate a token body: create {"name","expires_in_days"?,"user_id"?}; patch {"name"}. */
int model_token_check(const json_t *in, enum model_mode mode, int default_days, json_t **out,
                      struct err *e);

/*
 * Merge a validated patch into a copy of current: returns a new reference.
 * Nested objects (name) merge key by key; arrays replace.
 */
json_t *model_merge(const json_t *current, const json_t *patch);

#endif
