/*
 * stix_samples - prints {"bundles": [...]} built by stix_releases_bundle()
 * from the unit-test fixtures (releases.json, or the file named by argv[1]):
 * all releases in one bundle, each release alone, and no release at all.
 * tests/e2e/stix-schema.test.mjs validates every object against the
 * official STIX 2.1 schemas. Exit 0, or 1 with a message on stderr.
 */
#include <stdio.h>

#include <jansson.h>

#include "base/err.h"
#include "stix/stix.h"

#define NOW 1779400000

static int add(json_t *bundles, const json_t *releases)
{
    struct err e;
    err_init(&e);
    json_t *b;
    if (stix_releases_bundle(releases, NOW, &b, &e) != 0) {
        fprintf(stderr, "stix_samples: %s\n", e.detail);
        return 1;
    }
    json_array_append_new(bundles, b);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : STIX_FIXTURE;
    json_error_t je;
    json_t *all = json_load_file(path, 0, &je);
    if (!json_is_array(all)) {
        fprintf(stderr, "stix_samples: %s:%d: %s\n", path, je.line, je.text);
        json_decref(all);
        return 1;
    }
    json_t *bundles = json_array();
    int rc = add(bundles, all);
    size_t i;
    json_t *rel;
    json_array_foreach(all, i, rel) {
        json_t *one = json_array();
        json_array_append(one, rel);
        rc |= add(bundles, one);
        json_decref(one);
    }
    json_t *none = json_array();
    rc |= add(bundles, none);
    json_decref(none);
    json_t *out = json_object();
    json_object_set_new(out, "bundles", bundles);
    if (rc == 0 && json_dumpf(out, stdout, JSON_INDENT(1)) != 0)
        rc = 1;
    json_decref(out);
    json_decref(all);
    return rc;
}
