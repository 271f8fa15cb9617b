/* internal.h — shared between the files of src/pki/ only. */
#ifndef CM_PKI_INTERNAL_H
#define CM_PKI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
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
 * and the issuing CA id; it checks hard limits and signs in place. The keys live in a separate
 * signer process (below): the front end never holds one. */

/* Starts the signer process, which loads and decrypts every issuing CA key, and waits until it
 * is ready (its load errors, e.g. `ca_key_unreadable`, come back here). Caller frees with
 * signer_close, which closes the socket and reaps the process. */
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

/* ---- The signer process (signer.c) ----
 * signer_open forks the signer children ("lanes", cfg signer_lanes), which alone read the key
 * files; the handle above talks to each over its own socketpair (one request at a time per
 * lane, under that lane's mutex; a call takes a free lane). Call signer_open before the
 * program starts threads: the child is a fork of the caller, and it dies with the thread that
 * opened it (PR_SET_PDEATHSIG). A clock pinned (clock_set_fixed) before signer_open holds in
 * the child too; pinning it later does not reach it. When the child is gone, every call fails with
 * `signer_unavailable`. signer_sign_cert sends the TBS (after setting the certificate's two
 * algorithm fields for the CA's key and hash) and puts the returned signatureValue into `x`;
 * signer_sign_crl reads the signed CRL back into `crl` (if that decode fails, only free it). */

/* True while the signer process answers a PING. */
bool signer_healthy(cm_signer *s);

/* Lane 0's process id (tests), or -1; pki_signer_pid gives any lane's. */
int signer_pid(const cm_signer *s);

/* Tests only: sends `len` raw bytes as one message and reads the reply. Returns 0 for an OK
 * reply, -1 with the signer's error (e.g. `signer_bad_message`) or `signer_unavailable`. */
int signer_send_raw(cm_signer *s, const void *msg, size_t len, cm_err *err);

/* One answer of an OCSP response, for signer_sign_ocsp. */
typedef struct signer_ocsp_single {
    const unsigned char *certid; /* DER of the request's CertID, echoed as it came */
    size_t certid_len;
    int status;                  /* V_OCSP_CERTSTATUS_GOOD, _REVOKED, _UNKNOWN */
    int reason;                  /* revoked: CRLReason, or -1 to leave it out */
    int64_t revoked_at;          /* revoked: UTC seconds */
} signer_ocsp_single;

/* Has the signer build and sign a BasicOCSPResponse of issuing CA `ca_id` with its own key:
 * responderID byKey, producedAt now, no certificates, the `n` (1..20) answers valid from
 * this_update (within an hour of the signer's clock) to next_update (at most 10 days later),
 * and `nonce` (DER of the request's nonce extension, or NULL) echoed. Every CertID must name
 * that CA (SHA-1 or SHA-256). On success *out is the response (caller frees with
 * OCSP_BASICRESP_free). Errors: `signer_refused`, `signing_failed`, `signer_unavailable`,
 * `signer_message_too_large`. */
int signer_sign_ocsp(cm_signer *s, const char *ca_id, const char *hash,
                     const signer_ocsp_single *singles, size_t n, int64_t this_update,
                     int64_t next_update, const unsigned char *nonce, size_t nonce_len,
                     OCSP_BASICRESP **out, cm_err *err);

#endif
