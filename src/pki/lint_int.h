/* lint_int.h — the linter over OpenSSL objects, for use inside src/pki/ only. */
#ifndef CM_PKI_LINT_INT_H
#define CM_PKI_LINT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "pki/lint.h"

typedef struct cm_lint_ctx {
    const X509 *issuer;   /* the issuing CA certificate, or NULL when unknown */
    int64_t signing_time; /* when it is (being) signed; 0 = unknown */
    bool tbs_only;        /* not signed yet: skip the rows about the signature (row 4) */
    EVP_PKEY *subject_key; /* the subject's key when the certificate holds only its raw SPKI
                              (pre-issuance: see csr_set_cert_key); NULL otherwise */
} cm_lint_ctx;

/* Appends findings for `cert` to `rep` (which the caller zeroes first). Every row of the
 * checklist that can be decided from the certificate alone is checked: 1–8, 10–33. */
void lint_cert(const X509 *cert, const cm_lint_ctx *ctx, cm_lint_report *rep);

/* Appends a finding (used by the linter and by the signer's post-signing check). */
void lint_add(cm_lint_report *rep, int rule, cm_lint_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
