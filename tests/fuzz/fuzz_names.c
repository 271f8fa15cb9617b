/* fuzz_names.c — libFuzzer target for src/core/names.c: feeds arbitrary bytes to name_normalize
 * under a public and a private policy, to name_wildcard_covers, and (for 4/16 bytes) to
 * name_ip_reserved. Anything accepted must be a short, NUL-terminated, re-normalisable name. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cm_name_policy pub = {
        .public_names = true, .allow_wildcard = true, .allow_ip = true};
    static const cm_name_policy priv = {
        .public_names = false, .allow_wildcard = true, .allow_ip = true};
    char buf[2049];
    cm_name a, b, again;
    cm_err err;

    if (size > 2048)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';

    int rp = name_normalize(buf, &pub, &a, &err);
    int rq = name_normalize(buf, &priv, &b, &err);
    if (rp == 0 && (rq != 0 || strcmp(a.text, b.text) != 0))
        abort(); /* a public name is always a valid private one, normalised alike */
    if (rq == 0) {
        if (strlen(b.text) > NAME_MAX_LEN)
            abort();
        /* normalising is idempotent */
        if (name_normalize(b.text, &priv, &again, &err) != 0 || strcmp(again.text, b.text) != 0)
            abort();
        (void)name_wildcard_covers(b.text, buf);
        (void)name_wildcard_covers(buf, b.text);
    }
    (void)name_wildcard_covers(buf, buf + size / 2);
    if (size == 4 || size == 16)
        (void)name_ip_reserved(data, size);
    return 0;
}
