/*
 * stix_int.h - shared by the files of src/stix only.
 *
 * A release is mapped with a struct stix__rel, which carries what every
 * object of the release shares (id seed, timestamp, markings) and collects
 * the objects into the bundle.
 */
#ifndef ISAC_STIX_INT_H
#define ISAC_STIX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nettle/sha1.h>

#include "stix.h"

/* "2026-11-21T22:50:00.000Z" */
#define STIX__TS_LEN 24
/* "attack-pattern--" + UUID; no type we make is longer than 30 bytes. */
#define STIX__ID_MAX 72

/* An incremental UUIDv5: name bytes are added in pieces. */
struct stix__uuid5 {
    struct sha1_ctx sha;
};

/* Returns 0, or ERR_INTERNAL if ns is not a canonical UUID string. */
int stix__uuid5_init(struct stix__uuid5 *u, const char *ns);
void stix__uuid5_add(struct stix__uuid5 *u, const void *p, size_t n);
void stix__uuid5_adds(struct stix__uuid5 *u, const char *s);
void stix__uuid5_end(struct stix__uuid5 *u, char out[STIX_UUID_LEN + 1]);

/* t (seconds) as a STIX timestamp with milliseconds, clamped to years 1970-9999. */
void stix__ts(int64_t t, char out[STIX__TS_LEN + 1]);

struct stix__rel {
    const char *id;               /* release id (borrowed) */
    long long version;            /* release version */
    char ts[STIX__TS_LEN + 1];    /* created, modified, published, valid_from */
    json_t *markings;             /* object_marking_refs of every object (owned) */
    json_t *refs;                 /* ids for the report's object_refs (owned) */
    json_t *objects;              /* the bundle's objects (borrowed) */
    json_t *seen;                 /* ids already in the bundle, as keys (borrowed) */
};

/*
 * "<type>--" + UUIDv5 of "<release id>/<version>/<type>/<key>" into out.
 */
void stix__rel_id(const struct stix__rel *r, const char *type, const char *key,
                  char out[STIX__ID_MAX]);

/*
 * A new object of type with the common properties (type, spec_version, id
 * from key, created_by_ref, created, modified). New reference.
 */
json_t *stix__sdo_new(const struct stix__rel *r, const char *type, const char *key);

/*
 * Add o to the bundle with the release's markings, unless its id is there
 * already; with ref, also to the report's object_refs. Steals o. Returns
 * true if o was added.
 */
bool stix__emit(struct stix__rel *r, json_t *o, bool ref);

/* Set o[k] to the string s; nothing when s is NULL. */
void stix__set_str(json_t *o, const char *k, const char *s);

/* The objects of the observables of content (indicators, vulnerabilities, ...). */
void stix__observables(struct stix__rel *r, const json_t *content);

/*
 * The STIX pattern of an observable of isac type (ipv4, ..., asn), or NULL
 * for types without one (cve, attack_technique, malware, text, unknown)
 * or an unusable value. malloc'd: free() it.
 */
char *stix__pattern(const char *type, const char *value);

#endif
