/*
 * stix.h - published releases as a STIX 2.1 bundle (DOMAIN.md §9). Pure: no
 * I/O, no clock (the caller passes "now"), no randomness.
 *
 * Input: a JSON array of releases in the recipients' view
 *   {id, version, state, content, tlp, purpose, handling, published_at}
 * (content as in notes/releases-contract.md, content.provider = the
 * provider's pseudonym {"ja","en"}). Only the fields named here are read;
 * anything else a release object carries (report_id, org_id, audience,
 * redactions, user ids) is ignored, so nothing identifying the provider
 * can leak into the bundle even if a caller passes a fuller object.
 *
 * Output, in this order:
 *   - identity "isac" (the hub, identity_class "system"): the producer and
 *     the created_by_ref of every object we make; fixed id and content;
 *     marked TLP:CLEAR. Always present, so a bundle is never empty (the
 *     official schema wants objects[] non-empty when present).
 *   - the TLP 2.0 marking-definitions in use (the official objects of the
 *     OASIS TLP 2.0 extension, extension-definition--60a3c5c5-..., verbatim
 *     with their fixed ids), CLEAR first, then by strictness.
 *   - per release:
 *     - a statement marking-definition "Purpose (利用目的): …\nHandling
 *       (取扱い): …" when purpose or handling is set;
 *     - report: name = title, description = description followed by the
 *       provider's pseudonym in both languages ("提供者: …", "Provider: …"),
 *       published = published_at, report_types ["threat-report"], labels
 *       (below), confidence, external_references [{source_name "isac",
 *       external_id = release id}], object_refs = every object below, and
 *       the custom property x_isac_provider {"ja","en"} for machines;
 *     - incident with the OASIS incident-core extension
 *       (extension-definition--ef765651-...): determination "blocked" for a
 *       near miss, else "successful-attempt"; investigation_status from
 *       content.status (open/monitoring → "open", closed → "closed", unknown
 *       → "new"); criticality = severity.overall × 25. The rest of the
 *       content (kind, event_type, layer, causes, severity, sectors,
 *       service, status, followup, occurred/detected/recovered_at as STIX
 *       timestamps) goes in the custom property x_isac_incident, nulls left
 *       out;
 *     - one object per distinct observable: indicator with a STIX pattern
 *       for ipv4/ipv6 (…-addr:value =), cidr (…-addr:value ISSUBSET),
 *       domain, url, email, md5/sha1/sha256 (file:hashes), file
 *       (file:name), asn (autonomous-system:number); vulnerability for cve
 *       (external reference "cve"); attack-pattern for attack_technique
 *       (external reference "mitre-attack" with the technique's URL);
 *       malware (is_family) for malware. "text" observables have no STIX
 *       form and are left out. indicator_types from the role: attacker →
 *       malicious-activity, victim → compromised, other → unknown.
 *   Labels of report and incident: "event-type:<code>", "kind:<code>",
 *   "layer:<code>", "severity:<0-4>", "sector:<code>" for what is known.
 *   Every object but the official TLP markings carries object_marking_refs:
 *   the release's TLP marking, plus its statement marking if any.
 *   Confidence (DOMAIN.md §9 scale 0/15/50/85): report and incident 85 (a
 *   first-hand account of the affected operator, vetted by the
 *   coordinator); indicators 50 (the operator's reading of an observable,
 *   not verified by the hub).
 *
 * Ids: UUIDv5 (RFC 9562) in the isac namespace STIX_NAMESPACE over
 * "<release id>/<version>/<STIX type>/<key>", key "report", "incident",
 * "statement" or "<observable type>/<value>", so exporting the same release
 * again gives the same ids and a new version gives new ids. The hub
 * identity's id is fixed (STIX_HUB_IDENTITY); the bundle's id is derived
 * from now and the releases' ids and versions. Timestamps: created =
 * modified = published_at (now if a release has none) with milliseconds,
 * as STIX requires; the statement marking has created only.
 */
#ifndef ISAC_STIX_H
#define ISAC_STIX_H

#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

/* The namespace of every UUIDv5 isac derives for STIX ids. */
#define STIX_NAMESPACE "b7c18394-036b-425c-bda1-bd5e6b200aa5"

/* The hub's identity (the producer of every bundle): UUIDv5 of "hub/identity". */
#define STIX_HUB_UUID "0047ea5c-a9c9-56e5-a5da-ae69045ce6e4"
#define STIX_HUB_IDENTITY "identity--" STIX_HUB_UUID

/* Length of "xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx"; buffers add one for the NUL. */
#define STIX_UUID_LEN 36

/*
 * The UUIDv5 of name (n bytes) in namespace ns (a canonical UUID string)
 * into out, lower case. Returns 0, or ERR_INTERNAL if ns is not a UUID.
 */
int stix_uuid5(const char *ns, const void *name, size_t n, char out[STIX_UUID_LEN + 1]);

/*
 * Build the bundle of releases (a JSON array, see above) into *out (new
 * reference; NULL on failure). now (seconds) stands in for a missing
 * published_at and seeds the bundle id. Returns 0, or ERR_INTERNAL with a
 * detail naming the release when the input is not an array of releases
 * (id string, version ≥ 1, content object, tlp one of CLEAR, GREEN, AMBER,
 * AMBER+STRICT, RED): the input comes from the store, so a bad one is our
 * bug, not the client's.
 */
int stix_releases_bundle(const json_t *releases, int64_t now, json_t **out, struct err *e);

#endif
