/* digest.h — SHA-256 for callers outside src/pki/ (API key hashes, the audit chain). */
#ifndef CM_PKI_DIGEST_H
#define CM_PKI_DIGEST_H

#include <stddef.h>

/* SHA-256 of `len` bytes at `data` into out. */
void sha256(const void *data, size_t len, unsigned char out[32]);

/* Incremental SHA-256 over several pieces; the context is opaque and on the caller's stack. */
typedef struct cm_sha256 {
    void *md; /* EVP_MD_CTX * */
} cm_sha256;
int sha256_init(cm_sha256 *c);
void sha256_update(cm_sha256 *c, const void *data, size_t len);
/* Writes the digest and frees the context. */
void sha256_final(cm_sha256 *c, unsigned char out[32]);

/* Lower-case hex of `len` bytes into buf (≥ 2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *buf);

#endif
