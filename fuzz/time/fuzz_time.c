/*
 * fuzz_time.c - libFuzzer target: RFC 3339 parsing and deadline arithmetic
 * (base/util.c, model/deadline.c). A parsed time must format back to a
 * string that parses to the same instant; adding a duration must not
 * move a time backwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "model/deadline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    if (size >= sizeof(s))
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t t, t2, later;
    int off, off2;
    if (!util_time_parse(s, &t, &off))
        return 0;
    char back[32];
    util_time_fmt_offset(t, off, back);
    if (!util_time_parse(back, &t2, &off2) || t2 != t || off2 != off)
        abort();
    static const char *const durs[] = {"24h", "72h", "30d", "1M", "12M"};
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
        if (model_duration_add(t, off, durs[i], &later) && later < t)
            abort();
    return 0;
}
