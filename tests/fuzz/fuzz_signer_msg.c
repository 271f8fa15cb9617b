/* fuzz_signer_msg.c — libFuzzer target for the signer's message framing (src/pki/signer_proto.c):
 * sp_parse on arbitrary bytes, the typed field getters on every field of what it accepts, and
 * a rebuild with sp_begin/sp_put/sp_end that must give back exactly the bytes parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/signer_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SP_MAX_MSG + 1)
        return 0;
    sp_msg m;
    sp_buf b = {NULL, 0, 0, 0};
    cm_err err;
    if (sp_parse(data, size, &m, &err) != 0) {
        if (m.type != 0 || m.n > SP_MAX_FIELDS)
            abort(); /* a refused message must not look typed */
        return 0;
    }
    for (size_t i = 0; i <= m.n; i++) { /* one past the end: must be refused */
        char s[65];
        uint64_t v;
        if (sp_get_str(&m, i, 64, s, sizeof s, &err) == 0 && strlen(s) != m.f[i].len)
            abort();
        if (sp_get_u64(&m, i, &v, &err) == 0 && m.f[i].len != 8)
            abort();
        if (i < m.n && (m.f[i].p < data || m.f[i].p + m.f[i].len > data + size))
            abort(); /* fields point into the buffer parsed */
    }
    sp_begin(&b, (sp_type)m.type);
    for (size_t i = 0; i < m.n; i++)
        sp_put(&b, m.f[i].p, m.f[i].len);
    if (sp_end(&b, &err) != 0 || b.len != size || memcmp(b.p, data, size) != 0)
        abort(); /* what parses is exactly what the builder writes */
    sp_buf_free(&b);
    return 0;
}
