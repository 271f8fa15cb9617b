/* pki.h — what callers outside src/pki/ see of the issuing engine. No OpenSSL types here:
 * callers hold opaque handles and call verbs.
 *
 * A data directory holds two hierarchies (public, private), each with an ECDSA and an RSA chain
 * (root → issuing CA). Issuing CA ids: "public-ecdsa", "public-rsa", "private-ecdsa",
 * "private-rsa"; their roots add "-root". */
#ifndef CM_PKI_PKI_H
#define CM_PKI_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/keypolicy.h"
#include "core/names.h"
#include "core/org.h"
#include "core/product.h"
#include "util/config.h"
#include "util/err.h"

/* Largest CSR accepted, PEM or DER. */
#define CSR_MAX_BYTES 65536

/* ---- CA hierarchy (ca.c) ---- */

typedef struct cm_init_opts {
    const char *ca_org;     /* O of the CA subjects */
    const char *ca_country; /* C of the CA subjects, two letters */
    int rsa_root_bits;      /* 4096 */
    int rsa_issuing_bits;   /* 3072 */
} cm_init_opts;

/* Creates DIR/ca with both hierarchies, keys encrypted with the passphrase from
 * CERTMINT_CA_PASSPHRASE or, when unset, a new random one in DIR/ca/passphrase (0600). All files
 * are built in a temporary directory that is renamed into place at the end, so init either
 * completes or leaves nothing; an existing DIR/ca refuses (`already_initialised`). */
int ca_init(const cm_config *cfg, const cm_init_opts *opts, cm_err *err);

/* ---- The engine (pki.c) ---- */

typedef struct cm_pki cm_pki;

/* Loads the CA certificates and opens the signer (which loads and decrypts the keys).
 * Caller frees with pki_close. */
int pki_open(const cm_config *cfg, cm_pki **out, cm_err *err);
void pki_close(cm_pki *pki);

/* ---- CSR intake (csr.c) ---- */

typedef struct cm_csr cm_csr;

/* Parses a PEM or DER CSR of at most CSR_MAX_BYTES, verifies its self-signature and applies the
 * key policy (core/keypolicy.h). Errors: `csr_too_large`, `csr_malformed`,
 * `csr_signature_invalid`, `key_rejected`. Caller frees with csr_free. */
int csr_parse(const unsigned char *data, size_t len, cm_csr **out, cm_err *err);
void csr_free(cm_csr *csr);

/* Facts about the CSR's key (owned by the CSR). */
const cm_keyinfo *csr_keyinfo(const cm_csr *csr);

/* SHA-256 of the CSR's SubjectPublicKeyInfo DER: the key-reuse index of R-D6. */
void csr_spki_sha256(const cm_csr *csr, unsigned char out[32]);

/* ---- Issuance (issue.c) ---- */

typedef enum { ISSUER_ECDSA, ISSUER_RSA } cm_issuer_kind;

typedef struct cm_issue_req {
    const cm_product *product;
    const cm_name *names; /* normalised names; the SAN lists them in this order */
    size_t n_names;
    size_t cn_index;      /* which name is the CN; SIZE_MAX for no CN */
    const cm_org *org;    /* OV/EV; NULL for DV */
    cm_issuer_kind issuer;
    const char *hash;     /* "sha256" (NULL = default), "sha384", "sha512" */
    long days;            /* 0 = the default for the product and date */
    int64_t not_after;    /* 0, or an explicit end (e.g. a duplicate ending with its original);
                             must not exceed the cap */
} cm_issue_req;

typedef struct cm_cert cm_cert;

/* Builds the to-be-signed certificate from the request (never from the CSR's subject or
 * extensions), runs the pre-issuance linter, and has the signer sign it. On success *out holds
 * the certificate (caller frees with cert_free). Errors carry stable codes:
 * `product_unknown`, `names_required`, `name_invalid`, `hash_not_allowed`, `validity_too_long`,
 * `org_invalid`, `lint_failed`, `signer_refused`, `signing_failed`. */
int cert_issue(cm_pki *pki, const cm_csr *csr, const cm_issue_req *req, cm_cert **out,
               cm_err *err);
void cert_free(cm_cert *cert);

/* DER of the certificate (owned by cert). */
const unsigned char *cert_der(const cm_cert *cert, size_t *len);

/* The issuing CA id and its chain as DER (owned by the pki handle). */
const char *cert_issuer_id(const cm_cert *cert);

/* Serial as lower-case hex (buf ≥ 41 bytes); notBefore/notAfter in UTC seconds. */
void cert_serial_hex(const cm_cert *cert, char *buf, size_t bufsz);
int64_t cert_not_before(const cm_cert *cert);
int64_t cert_not_after(const cm_cert *cert);

/* DER of an issuing CA's certificate and of its root, by issuing CA id. NULL when unknown. */
const unsigned char *pki_ca_der(const cm_pki *pki, const char *ca_id, size_t *len);
const unsigned char *pki_root_der(const cm_pki *pki, const char *ca_id, size_t *len);

/* The issuing CA id for a product and issuer kind ("public-ecdsa", …). */
const char *pki_issuer_id(const cm_product *p, cm_issuer_kind k);

#endif
