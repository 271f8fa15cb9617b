/* keygen.h — a private key and its CSR made on this machine, for the client commands'
 * `--generate-key` (and the agent): the key is made where it will be used and never sent. */
#ifndef CM_PKI_KEYGEN_H
#define CM_PKI_KEYGEN_H

#include <stddef.h>

#include "util/err.h"

/* Largest number of names keygen_make puts into the CSR's subjectAltName. */
#define KEYGEN_MAX_NAMES 250

/* Makes a new key and a CSR signed with it (SHA-256). `type` is "ec" (ECDSA P-256, the default
 * when NULL; `bits` must be 0 or 256) or "rsa" (`bits` 2048, 3072 or 4096; 0 means 2048).
 * The CSR's subject is CN=`cn` (left out when NULL, empty or longer than 64 characters) and its
 * subjectAltName lists `sans` (DNS names, `*.` wildcards or IP addresses; up to
 * KEYGEN_MAX_NAMES). certmint takes names from the request, never from the CSR; they are there
 * for people and other CAs reading it.
 * On success *key_pem (PKCS#8, unencrypted) and *csr_pem are NUL-terminated PEM texts: the
 * caller frees *key_pem with keygen_secret_free (it wipes the memory) and *csr_pem with free.
 * Errors: `field_invalid` (type, bits, a name with characters no host name has),
 * `keygen_failed` (OpenSSL; the message names the call), `out_of_memory`. */
int keygen_make(const char *type, int bits, const char *cn, const char *const *sans, size_t n_sans,
                char **key_pem, char **csr_pem, cm_err *err);

/* Wipes and frees a secret string from keygen_make. NULL is fine. */
void keygen_secret_free(char *secret);

#endif
