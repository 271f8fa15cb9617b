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

/* ---- The signer process (signer.c) ---- */

/* The signer is pki_signer_lanes() child processes ("lanes", config `signer_lanes`: 0 = one per
 * online core, 1..16), each confined alike and holding the issuing CA keys, each signing one
 * request at a time; a signing call takes a free lane, so that many threads sign at once.
 * The lanes are one unit. pki_signer_healthy is true only while EVERY lane lives (a poll of
 * their sockets: cheap, no lock); once any lane died or was killed it is false and stays false:
 * every signing call (certificates, CRLs, OCSP) fails with `signer_unavailable` and the other
 * lanes are killed, until certmint is restarted. A lost lane means a bug, an attack or the
 * OOM killer: the server says so (GET /health 503) instead of signing on in a degraded state. */
bool pki_signer_healthy(const cm_pki *pki);

/* The number of signer lanes (0 without an engine). */
size_t pki_signer_lanes(const cm_pki *pki);

/* The process id of signer lane `lane` (0 ≤ lane < pki_signer_lanes), or -1: for tests and for
 * operators (each lane is a child of the server). */
int pki_signer_pid(const cm_pki *pki, size_t lane);

/* ---- Revocation: CRLs (crl.c) ---- */

typedef struct cm_revoked_entry {
    char serial_hex[41]; /* lower-case hex as cert_serial_hex gives */
    int64_t revoked_at;  /* UTC seconds */
    int reason;          /* RFC 5280 CRLReason: 0 unspecified (omit the extension), 1, 3, 4, 5, 9 */
} cm_revoked_entry;

/* Builds and has the signer sign a CRL v2 of issuing CA `ca_id`: issuer = the CA subject
 * (byte-identical), thisUpdate, nextUpdate (≤ 10 days later), AKI = the CA's SKI, CRLNumber
 * `number` (strictly increasing; caller keeps it), entries with their reason codes (never
 * certificateHold: reason 6 is refused with `crl_reason_invalid`). *der is malloc'd, caller frees.
 * Errors: `ca_unknown`, `crl_reason_invalid`, `signer_unavailable`, `signer_refused`; also
 * `crl_serial_invalid` (not a certmint serial), `crl_dates_invalid` (nextUpdate not after
 * thisUpdate or more than 10 days later), `signer_message_too_large` (from about 5,000
 * entries: the signer takes at most 256 KiB per message). */
int crl_make(cm_pki *pki, const char *ca_id, const cm_revoked_entry *entries, size_t n,
             uint64_t number, int64_t this_update, int64_t next_update,
             unsigned char **der, size_t *der_len, cm_err *err);

/* ---- Revocation: the OCSP responder core (ocsp.c) ---- */

typedef enum { OCSP_CERT_GOOD, OCSP_CERT_REVOKED, OCSP_CERT_UNKNOWN } cm_ocsp_status;

/* Looks up one serial of an issuing CA in the store: returns 0 and fills status (and for
 * revoked: when and reason), or -1 on a store error (then the answer is tryLater). */
typedef int (*ocsp_lookup_fn)(void *arg, const char *ca_id, const char *serial_hex,
                              cm_ocsp_status *status, int64_t *revoked_at, int *reason);

/* Largest OCSP request accepted, and most single requests in one. */
#define OCSP_REQ_MAX_BYTES 16384
#define OCSP_MAX_SINGLE 20

/* Answers a DER OCSPRequest: for each single request, finds the issuing CA by issuer name hash
 * and key hash (SHA-1 and SHA-256 CertIDs), calls lookup, and has the signer sign a
 * BasicOCSPResponse with the issuing CA's own key (responderID byKey, thisUpdate now, nextUpdate
 * now + 4 days (between 8 h and 10 d), the request nonce echoed if present, the CA certificate
 * not included). A serial the lookup does not know is `unknown`, never good. Malformed requests
 * get a malformedRequest response, unknown issuers `unauthorized`, lookup errors `tryLater`;
 * these are still return 0 (a valid OCSP answer). *resp is malloc'd, caller frees. Returns -1
 * only for internal failures (`signer_unavailable`, out of memory). Also malformedRequest: more
 * than OCSP_REQ_MAX_BYTES, or more than OCSP_MAX_SINGLE single requests; also `unauthorized`:
 * CertIDs of several CAs in one request (one response is signed by one CA). A refusal of the
 * signer (`signer_refused`, `signing_failed`: a bug) is an internal failure too. */
int ocsp_respond(cm_pki *pki, const unsigned char *req, size_t req_len, ocsp_lookup_fn lookup,
                 void *arg, unsigned char **resp, size_t *resp_len, cm_err *err);

/* ---- Root CRLs (ca.c) ----
 * Every issuing CA certificate names <public_url>/crl/<root-id>.crl. The roots are the offline
 * part of the hierarchy: their keys never enter the signer process or the server. Their CRLs
 * are made on the command line (`certmint init`, `certmint ca root-crl`) and the server serves
 * the file DIR/ca/<root-id>.crl as it is. */

/* Longest validity of a root CRL in days (BR §4.9.7: a CA's CRL at most 12 months), and the
 * largest root CRL file read back (the file holds no entries; a few hundred bytes). */
#define CA_ROOT_CRL_MAX_DAYS 365
#define CA_ROOT_CRL_DEFAULT_DAYS 365
#define CA_ROOT_CRL_MAX_BYTES 65536

/* True when `id` is one of the four root ids ("public-ecdsa-root", "public-rsa-root",
 * "private-ecdsa-root", "private-rsa-root"). */
bool ca_root_id_known(const char *id);

/* Signs a new CRL v2 of root `root_id` with the root's own key, decrypted here with
 * ca_passphrase (CERTMINT_CA_PASSPHRASE, else DIR/ca/passphrase), and writes it atomically
 * (DER, 0644, replacing the previous one) to DIR/ca/<root_id>.crl. Issuer = the root's subject
 * (byte-identical), AKI = the root's SKI, CRLNumber = the number of the existing file + 1 (1 when
 * there is none), thisUpdate now, nextUpdate now + `days` (1..CA_ROOT_CRL_MAX_DAYS; 0 means
 * CA_ROOT_CRL_DEFAULT_DAYS), no entries (certmint does not revoke its issuing CAs yet), signed
 * with the hash of the root certificate's own signature (sha384 for the P-384 roots, sha256 for
 * the RSA roots). On any failure the previous file stays as it was. Errors: `ca_unknown`,
 * `crl_dates_invalid`, `ca_unreadable`, `ca_key_unreadable` (wrong passphrase),
 * `crl_unreadable` (the existing file is not a CRL with a number), `signing_failed`, and the
 * file errors of util/fileio.h. Reads the passphrase and the root key: never call it in the
 * server. */
int ca_root_crl_make(const cm_config *cfg, const char *root_id, int days, cm_err *err);

/* ca_root_crl_make for the four roots in turn; stops at the first failure (the roots before it
 * keep their new CRL). */
int ca_root_crls_make(const cm_config *cfg, int days, cm_err *err);

#endif
