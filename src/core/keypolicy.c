#include "core/keypolicy.h"

#include <string.h>

int keypolicy_check(const cm_keyinfo *k, cm_err *err)
{
    switch (k->type) {
    case KEY_RSA:
        if (k->rsa_pss)
            return cm_err_set(err, "key_rejected",
                              "RSA-PSS keys are not accepted; use an ordinary RSA key "
                              "(rsaEncryption) of 2048 bits or more, or an ECDSA P-256 key");
        if (k->bits < 2048)
            return cm_err_set(err, "key_rejected",
                              "RSA-%d is too small; use RSA of at least 2048 bits or ECDSA P-256",
                              k->bits);
        if (k->bits > KEYPOLICY_RSA_MAX_BITS)
            return cm_err_set(err, "key_rejected", "RSA-%d is larger than the %d bits accepted",
                              k->bits, KEYPOLICY_RSA_MAX_BITS);
        if (k->bits % 8 != 0)
            return cm_err_set(err, "key_rejected",
                              "an RSA modulus of %d bits is not a whole number of bytes; "
                              "generate a standard 2048, 3072 or 4096-bit key",
                              k->bits);
        if (!k->exp_odd || (k->exp_bits <= 32 && k->exp_small < 3))
            return cm_err_set(err, "key_rejected",
                              "the RSA public exponent must be odd and at least 3 (65537 is "
                              "usual)");
        if (k->exp_bits > 256)
            return cm_err_set(err, "key_rejected",
                              "the RSA public exponent is larger than 2^256-1");
        return 0;
    case KEY_EC:
        if (k->curve != NULL && (strcmp(k->curve, "P-256") == 0 || strcmp(k->curve, "P-384") == 0))
            return 0;
        return cm_err_set(err, "key_rejected",
                          "EC keys must be on curve P-256 or P-384, not %s",
                          k->curve != NULL ? k->curve : "an unnamed curve");
    case KEY_OTHER:
        break;
    }
    return cm_err_set(err, "key_rejected",
                      "%s keys are not accepted in TLS server certificates; use RSA (2048 bits "
                      "or more) or ECDSA P-256/P-384",
                      k->alg_name != NULL ? k->alg_name : "this kind of");
}

int sighash_check(bool issuer_ec_p256, const char *hash, cm_err *err)
{
    if (hash == NULL || hash[0] == '\0' || strcmp(hash, "sha256") == 0)
        return 0;
    if (strcmp(hash, "sha384") != 0 && strcmp(hash, "sha512") != 0)
        return cm_err_set(err, "hash_not_allowed",
                          "unknown signature hash; use sha256, sha384 or sha512");
    if (issuer_ec_p256)
        return cm_err_set(err, "hash_not_allowed",
                          "the ECDSA P-256 issuing CA signs with sha256 only; use sha256, or "
                          "choose the RSA issuer for %s",
                          hash);
    return 0;
}
