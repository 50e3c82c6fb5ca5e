/*
 * fuzz_report.c - libFuzzer target: report validation (model/report.c).
 * Any bytes: parsed as JSON, checked as a new report and as revision
 * changes, finished and diffed. Must never crash, leak or trip a sanitizer;
 * a check that fails must say why (a field or a code).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "model/report.h"

static const char *const sectors[] = {"ict", "finance", "electricity", "gas", "railway"};
static const char *const regimes[] = {"jp_electricity", "eu_nis2"};
static const char *const tiers[] = {"class1", "class2", "general"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (in == NULL)
        return 0;
    struct model_vocab sv = {sectors, 5}, rv = {regimes, 2}, tv = {tiers, 3};
    struct model_report_ctx ctx = {&sv, &rv, 1790000000, &tv};
    for (int mode = 0; mode < 2; mode++) {
        struct err e;
        err_init(&e);
        json_t *out = NULL;
        int rc = model_report_check(in, mode ? MODEL_PATCH : MODEL_CREATE, &ctx, &out, &e);
        if (rc == 0) {
            if (out == NULL)
                abort(); /* success must produce content */
            if (mode == 0 && model_report_finish(out, &e) == 0) {
                json_t *d = model_report_diff(json_null(), out);
                json_decref(d);
            }
        } else if (e.nfields == 0 && e.detail[0] == '\0' && e.code == ERR_INVALID) {
            abort(); /* a refusal names a field */
        }
        json_decref(out);
    }
    json_decref(in);
    return 0;
}
