/* keypolicy.h — which subscriber public keys certmint certifies (BR §6.1.5–6.1.6).
 * Pure rule over facts that src/pki/ extracts from a key. */
#ifndef CM_CORE_KEYPOLICY_H
#define CM_CORE_KEYPOLICY_H

#include <stdbool.h>

#include "util/err.h"

typedef enum { KEY_RSA, KEY_EC, KEY_OTHER } cm_keytype;

typedef struct cm_keyinfo {
    cm_keytype type;
    const char *alg_name; /* for messages: "RSA", "EC", "ED25519", "DSA", … */
    int bits;             /* RSA modulus bits, or EC field bits */
    const char *curve;    /* EC: "P-256", "P-384", …, or NULL */
    bool rsa_pss;         /* RSA key restricted to PSS (refused: its SPKI is not rsaEncryption) */
    bool exp_odd;         /* RSA public exponent is odd */
    int exp_bits;         /* RSA public exponent size in bits */
    unsigned long exp_small; /* the exponent when exp_bits <= 32, else 0 */
} cm_keyinfo;

/* Largest RSA modulus accepted: bounds the cost of verifying a hostile CSR. */
#define KEYPOLICY_RSA_MAX_BITS 8192

/* Accepts RSA of 2048..8192 bits, a multiple of 8, with an odd exponent in [3, 2^256-1], and EC
 * keys on P-256 or P-384. Anything else fails with `key_rejected` and a message naming the key. */
int keypolicy_check(const cm_keyinfo *k, cm_err *err);

/* R-D9: the signature hashes an issuer may use. An ECDSA P-256 issuer signs with "sha256" only;
 * an RSA issuer with "sha256", "sha384" or "sha512". NULL or "" means "sha256". Errors:
 * `hash_not_allowed`. */
int sighash_check(bool issuer_ec_p256, const char *hash, cm_err *err);

#endif
