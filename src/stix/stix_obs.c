/*
 * stix_obs.c - a release's observables as STIX objects: indicators with
 * STIX patterns, vulnerabilities, attack-patterns, malware (see stix.h).
 *
 * Values arrive normalised by model_observable_norm() (canonical addresses,
 * lower-case hashes and domains, upper-case CVE and ATT&CK ids), so equal
 * observables have equal keys and one object each.
 */
#include "stix_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Indicator confidence: the operator's reading, not verified by the hub (DOMAIN.md §9 "med"). */
#define STIX_INDICATOR_CONFIDENCE 50

/* A pattern comparing an object path with a quoted string. */
struct pat {
    const char *type;   /* isac observable type */
    const char *path;   /* STIX object path */
    const char *op;     /* comparison operator */
};

static const struct pat pats[] = {
    {"ipv4", "ipv4-addr:value", "="},
    {"ipv6", "ipv6-addr:value", "="},
    {"domain", "domain-name:value", "="},
    {"url", "url:value", "="},
    {"email", "email-addr:value", "="},
    {"md5", "file:hashes.MD5", "="},
    /* Hash names with '-' must be quoted in an object path (STIX patterning §9.2). */
    {"sha1", "file:hashes.'SHA-1'", "="},
    {"sha256", "file:hashes.'SHA-256'", "="},
    {"file", "file:name", "="},
};

/* "[path op 'value']" with ' and \ escaped by a backslash, as STIX patterning requires. */
static char *pattern_quoted(const char *path, const char *op, const char *value)
{
    size_t n = strlen(path) + strlen(op) + 8;
    for (const char *p = value; *p; p++)
        n += (*p == '\'' || *p == '\\') ? 2 : 1;
    char *s = xmalloc(n);
    int k = snprintf(s, n, "[%s %s '", path, op);
    char *w = s + k;
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\')
            *w++ = '\\';
        *w++ = *p;
    }
    memcpy(w, "']", 3);
    return s;
}

static char *pattern_asn(const char *value)
{
    long long n;
    if (strncmp(value, "AS", 2) != 0 || !util_parse_int(value + 2, 1, 4294967295LL, &n))
        return NULL;
    char buf[64];
    snprintf(buf, sizeof(buf), "[autonomous-system:number = %lld]", n);
    return xstrdup(buf);
}

char *stix__pattern(const char *type, const char *value)
{
    if (!strcmp(type, "cidr")) {
        /* An address object's value may be a CIDR block; ISSUBSET matches any address in it. */
        const char *path = strchr(value, ':') ? "ipv6-addr:value" : "ipv4-addr:value";
        return pattern_quoted(path, "ISSUBSET", value);
    }
    if (!strcmp(type, "asn"))
        return pattern_asn(value);
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
        if (!strcmp(type, pats[i].type))
            return pattern_quoted(pats[i].path, pats[i].op, value);
    return NULL;
}

static const char *indicator_type(const char *role)
{
    if (role && !strcmp(role, "attacker"))
        return "malicious-activity";
    if (role && !strcmp(role, "victim"))
        return "compromised";
    return "unknown";
}

static void add_ref(json_t *o, const char *source, const char *ext_id, const char *url)
{
    json_t *ref = json_object();
    stix__set_str(ref, "source_name", source);
    stix__set_str(ref, "external_id", ext_id);
    stix__set_str(ref, "url", url);
    json_t *refs = json_array();
    json_array_append_new(refs, ref);
    json_object_set_new(o, "external_references", refs);
}

static json_t *indicator(struct stix__rel *r, const char *key, const char *type,
                         const char *value, const char *role)
{
    char *pattern = stix__pattern(type, value);
    if (pattern == NULL)
        return NULL;
    json_t *o = stix__sdo_new(r, "indicator", key);
    stix__set_str(o, "name", value);
    json_t *types = json_array();
    json_array_append_new(types, json_string(indicator_type(role)));
    json_object_set_new(o, "indicator_types", types);
    stix__set_str(o, "pattern", pattern);
    stix__set_str(o, "pattern_type", "stix");
    stix__set_str(o, "pattern_version", "2.1");
    stix__set_str(o, "valid_from", r->ts);
    json_object_set_new(o, "confidence", json_integer(STIX_INDICATOR_CONFIDENCE));
    free(pattern);
    return o;
}

/*
 * The schema's CVE pattern: four digits may start with 0, longer numbers
 * may not. model_observable_norm() lets "CVE-2024-01234" through; such an
 * id keeps its name but gets no "cve" reference, which would be invalid.
 */
static bool cve_canonical(const char *id)
{
    size_t n = strlen(id);
    return n >= 13 && (n == 13 || id[9] != '0');
}

static json_t *vulnerability(struct stix__rel *r, const char *key, const char *cve)
{
    json_t *o = stix__sdo_new(r, "vulnerability", key);
    stix__set_str(o, "name", cve);
    if (cve_canonical(cve)) {
        char url[96];
        snprintf(url, sizeof(url), "https://www.cve.org/CVERecord?id=%s", cve);
        add_ref(o, "cve", cve, url);
    }
    return o;
}

/* T1566 → techniques/T1566/, T1566.001 → techniques/T1566/001/ */
static json_t *attack_pattern(struct stix__rel *r, const char *key, const char *tid)
{
    json_t *o = stix__sdo_new(r, "attack-pattern", key);
    stix__set_str(o, "name", tid);
    char url[96];
    const char *dot = strchr(tid, '.');
    if (dot)
        snprintf(url, sizeof(url), "https://attack.mitre.org/techniques/%.*s/%s/",
                 (int)(dot - tid), tid, dot + 1);
    else
        snprintf(url, sizeof(url), "https://attack.mitre.org/techniques/%s/", tid);
    add_ref(o, "mitre-attack", tid, url);
    return o;
}

static json_t *malware(struct stix__rel *r, const char *key, const char *name)
{
    json_t *o = stix__sdo_new(r, "malware", key);
    stix__set_str(o, "name", name);
    json_object_set_new(o, "is_family", json_true());
    return o;
}

/* The STIX object for one observable, or NULL if it has none. New reference. */
static json_t *observable(struct stix__rel *r, const json_t *obs)
{
    const char *type = json_string_value(json_object_get(obs, "type"));
    const char *value = json_string_value(json_object_get(obs, "value"));
    const char *role = json_string_value(json_object_get(obs, "role"));
    if (type == NULL || value == NULL || *value == '\0')
        return NULL;
    size_t n = strlen(type) + strlen(value) + 2;
    char *key = xmalloc(n);
    snprintf(key, n, "%s/%s", type, value);
    json_t *o;
    if (!strcmp(type, "cve"))
        o = vulnerability(r, key, value);
    else if (!strcmp(type, "attack_technique"))
        o = attack_pattern(r, key, value);
    else if (!strcmp(type, "malware"))
        o = malware(r, key, value);
    else
        o = indicator(r, key, type, value, role);
    free(key);
    return o;
}

void stix__observables(struct stix__rel *r, const json_t *content)
{
    const json_t *list = json_object_get(content, "observables");
    size_t i;
    const json_t *obs;
    json_array_foreach(list, i, obs) {
        json_t *o = observable(r, obs);
        if (o != NULL)
            stix__emit(r, o, true);
    }
}
