/* encode.c — base64 through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock and random hex strings.
 *
 * EVP_DecodeBlock is lax on its own: it skips surrounding whitespace, decodes '=' anywhere as
 * zero bits and counts padding as output bytes. b64_decode therefore checks the shape of the
 * input first (alphabet, length, padding only at the end) and drops the padding bytes from the
 * length it returns; the decoding itself stays OpenSSL's. */
#include "pki/encode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

/* Input bytes per wrapped line: 57 bytes are 76 base64 characters. */
#define WRAP_BYTES 57
/* Bytes handed to EVP_EncodeBlock at once when not wrapping (a multiple of 3, well below
 * INT_MAX), and characters to EVP_DecodeBlock (a multiple of 4). */
#define ENC_CHUNK (3 * 1024 * 1024)
#define DEC_CHUNK (4 * 1024 * 1024)

char *b64_encode(const unsigned char *in, size_t len, bool wrap)
{
    size_t step = wrap ? WRAP_BYTES : ENC_CHUNK;
    size_t chars = (len / 3 + (len % 3 != 0)); /* groups of 4 characters */
    if (chars > (SIZE_MAX - 1) / 4)
        return NULL;
    chars *= 4;
    size_t lines = len == 0 ? 0 : (len - 1) / WRAP_BYTES; /* CRLFs between lines */
    if (wrap && lines > (SIZE_MAX - 1 - chars) / 2)
        return NULL;
    size_t total = chars + (wrap ? 2 * lines : 0) + 1;
    char *out = malloc(total);
    if (out == NULL)
        return NULL;
    size_t pos = 0;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        if (wrap && off > 0) {
            out[pos++] = '\r';
            out[pos++] = '\n';
        }
        /* Writes 4 * ceil(n / 3) characters and a NUL, which the next chunk overwrites. */
        int w = EVP_EncodeBlock((unsigned char *)out + pos, in + off, (int)n);
        pos += (size_t)w;
    }
    out[pos] = '\0';
    return out;
}

/* True for the 64 characters of the standard alphabet. */
static bool b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    if (len % 4 != 0 || (len > 0 && in == NULL))
        return -1;
    size_t pad = 0;
    if (len > 0 && in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char((unsigned char)in[i]))
            return -1;
    size_t max = len / 4 * 3;
    unsigned char *buf = malloc(max + 1);
    if (buf == NULL)
        return -1;
    size_t pos = 0;
    for (size_t off = 0; off < len; off += DEC_CHUNK) {
        size_t n = len - off < DEC_CHUNK ? len - off : DEC_CHUNK;
        int r = EVP_DecodeBlock(buf + pos, (const unsigned char *)in + off, (int)n);
        if (r < 0 || (size_t)r != n / 4 * 3) {
            free(buf);
            return -1;
        }
        pos += (size_t)r;
    }
    pos -= pad;
    buf[pos] = '\0';
    *out = buf;
    *out_len = pos;
    return 0;
}

int random_hex(char *buf, size_t bufsz, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    if (buf == NULL || nbytes > (SIZE_MAX - 1) / 2 || bufsz < 2 * nbytes + 1)
        return -1;
    for (size_t done = 0; done < nbytes;) {
        size_t n = nbytes - done < sizeof raw ? nbytes - done : sizeof raw;
        if (RAND_bytes(raw, (int)n) != 1)
            return -1;
        for (size_t i = 0; i < n; i++) {
            buf[2 * (done + i)] = hex[raw[i] >> 4];
            buf[2 * (done + i) + 1] = hex[raw[i] & 0x0f];
        }
        done += n;
    }
    buf[2 * nbytes] = '\0';
    return 0;
}
