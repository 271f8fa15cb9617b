/* digest.c — SHA-256 through OpenSSL for the rest of certmint. */
#include "pki/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

void sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256(data, len, out);
}

int sha256_init(cm_sha256 *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        c->md = NULL;
        return -1;
    }
    c->md = ctx;
    return 0;
}

void sha256_update(cm_sha256 *c, const void *data, size_t len)
{
    if (c->md != NULL)
        EVP_DigestUpdate(c->md, data, len);
}

void sha256_final(cm_sha256 *c, unsigned char out[32])
{
    unsigned int n = 0;
    if (c->md == NULL || EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != 32) {
        for (size_t i = 0; i < 32; i++)
            out[i] = 0;
    }
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

void hex_encode(const unsigned char *in, size_t len, char *buf)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        buf[2 * i] = digits[in[i] >> 4];
        buf[2 * i + 1] = digits[in[i] & 15];
    }
    buf[2 * len] = '\0';
}
