/* internal.h — shared between the files of src/pki/ only. */
#ifndef CM_PKI_INTERNAL_H
#define CM_PKI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki.h"
#include "util/config.h"
#include "util/err.h"

/* Reserved CA/Browser Forum policy OIDs (BR §7.1.6.1). */
#define OID_POLICY_DV "2.23.140.1.2.1"
#define OID_POLICY_OV "2.23.140.1.2.2"
#define OID_POLICY_EV "2.23.140.1.1"

/* The issuing CAs of a data directory, and what each is. */
#define PKI_N_ISSUERS 4
typedef struct pki_issuer {
    const char *id;   /* "public-ecdsa", …; its root adds "-root" */
    bool public_hier; /* issues publicly-trusted (BR) certificates */
    bool ec;          /* ECDSA P-256 key (else RSA) */
} pki_issuer;
extern const pki_issuer pki_issuers[PKI_N_ISSUERS];

/* The public half of an issuing CA, as the front end knows it. */
typedef struct cm_ca_pub {
    const char *id;     /* "public-ecdsa", … (static) */
    bool public_hier;   /* issues publicly-trusted (BR) certificates */
    bool ec;            /* ECDSA issuing key */
    X509 *cert;         /* issuing CA certificate */
    X509 *root;         /* its root */
    unsigned char *der; /* DER of cert */
    int der_len;
    unsigned char *root_der;
    int root_len;
    ASN1_OCTET_STRING *skid; /* its subject key identifier, for the AKI of what it issues */
    char crl_url[640];
    char issuer_url[640];
    /* Extensions that are the same for every certificate this CA issues (issue.c). */
    X509_EXTENSION *ext_aki, *ext_aia, *ext_crldp;
} cm_ca_pub;

typedef struct cm_signer cm_signer;

struct cm_pki {
    cm_config cfg;
    cm_ca_pub cas[PKI_N_ISSUERS];
    cm_signer *signer;
    /* Extensions that are the same for every certificate of a kind (issue.c). */
    X509_EXTENSION *ext_bc, *ext_ku_ec, *ext_ku_rsa, *ext_eku, *ext_pol[3];
};

/* The issuing CA `id` of the engine, or NULL. */
const cm_ca_pub *pki_find_ca(const cm_pki *pki, const char *id);

/* Builds the constant extensions of the engine and of each CA (issue.c). */
int profile_prepare(cm_pki *pki, cm_err *err);
/* A non-critical certificatePolicies extension holding the one policy `oid`. Caller frees. */
X509_EXTENSION *ext_policy(const char *oid);

/* Frees what profile_prepare built. */
void profile_release(cm_pki *pki);

/* Path of a CA file: DIR/ca/<id>.<ext>. Returns 0, or -1 when it does not fit. */
int ca_path(const cm_config *cfg, const char *id, const char *ext, char *buf, size_t bufsz);

/* Reads a PEM certificate file. Caller frees. */
X509 *ca_read_cert(const char *path, cm_err *err);

/* The CA passphrase: CERTMINT_CA_PASSPHRASE, else DIR/ca/passphrase. Writes into buf. */
int ca_passphrase(const cm_config *cfg, char *buf, size_t bufsz, cm_err *err);

/* Drains the OpenSSL error queue into the log and returns a short text of the first error. */
const char *ossl_err_text(char *buf, size_t bufsz);

/* The digest for a hash name ("sha256" …); NULL when unknown. Fetched once, never freed. */
const EVP_MD *pki_md(const char *hash);

/* The CSR's public key (owned by the CSR). */
EVP_PKEY *csr_pkey(const cm_csr *c);

/* Puts the CSR's SubjectPublicKeyInfo, unchanged, into certificate `x` without decoding it
 * again (X509_set_pubkey would re-encode and re-decode it). X509_get0_pubkey(x) stays NULL:
 * whoever needs the key object uses csr_pkey. Returns 1 or 0 (OpenSSL style). */
int csr_set_cert_key(const cm_csr *c, X509 *x);

/* ---- The signer seam (signer.c) ----
 * The only code that touches CA private keys. Callers hand it an unsigned certificate (or CRL)
 * and the issuing CA id; it checks hard limits and signs in place. The front end never holds a
 * key: a later change moves this behind a socketpair without changing callers. */

/* Loads and decrypts every issuing CA key. Caller frees with signer_close. */
int signer_open(const cm_config *cfg, cm_signer **out, cm_err *err);
void signer_close(cm_signer *s);

/* Checks `x` against the hard limits — never CA:TRUE or a CA key usage, issuer equal to the CA's
 * subject, notBefore within 48 h of now, validity within the hierarchy's cap, a known profile
 * (policy OID per hierarchy), hash allowed for the key — then signs it with `hash`.
 * Errors: `signer_refused`, `signing_failed`. */
int signer_sign_cert(cm_signer *s, const char *ca_id, const char *hash, X509 *x, cm_err *err);

/* Signs a CRL issued by `ca_id` (issuer name must match; nextUpdate ≤ 10 days ahead). */
int signer_sign_crl(cm_signer *s, const char *ca_id, const char *hash, X509_CRL *crl,
                    cm_err *err);

#endif
