/* fuzz_csr.c — libFuzzer target for CSR intake (PEM and DER): parse, describe, hash, free. */
#include <stddef.h>
#include <stdint.h>

#include "pki/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CSR_MAX_BYTES + 16)
        return 0;
    cm_csr *csr = NULL;
    cm_err err;
    if (csr_parse(data, size, &csr, &err) == 0) {
        unsigned char h[32];
        csr_spki_sha256(csr, h);
        (void)csr_keyinfo(csr);
        csr_free(csr);
    }
    return 0;
}
