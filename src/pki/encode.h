/* encode.h — text encodings of bytes for the layers that may not include OpenSSL: base64
 * (OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, never hand-written) and random hex strings. */
#ifndef CM_PKI_ENCODE_H
#define CM_PKI_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

/* Base64 of `in` (standard alphabet, padded). Without `wrap` one line; with `wrap` lines of at
 * most 76 characters separated by CRLF, with no CRLF after the last line (MIME bodies add their
 * own). Empty input gives "". Returns a malloc'd NUL-terminated string (caller frees), or NULL
 * when out of memory or `len` is too large to encode. */
char *b64_encode(const unsigned char *in, size_t len, bool wrap);

/* Decodes `len` characters of standard, padded base64 with no whitespace (strip line breaks
 * first). Returns 0 with *out a malloc'd buffer of *out_len bytes (caller frees; it is also
 * NUL-terminated for convenience), or -1 on bad input (length not a multiple of 4, a character
 * outside the alphabet, misplaced padding) or when out of memory; *out is then untouched. */
int b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

/* Writes 2 * nbytes lowercase hex characters of nbytes CSPRNG bytes and a NUL into buf.
 * Returns 0, or -1 when bufsz < 2 * nbytes + 1 or the random generator fails. */
int random_hex(char *buf, size_t bufsz, size_t nbytes);

#endif
