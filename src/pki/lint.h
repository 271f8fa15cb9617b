/* lint.h — the pre-issuance linter (BR §4.3.1.2), as callers outside src/pki/ see it.
 * Rule numbers are the rows of the checklist in COMPLIANCE.md ("Issued-certificate rules"). */
#ifndef CM_PKI_LINT_H
#define CM_PKI_LINT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum { LINT_ERROR, LINT_WARN, LINT_NOTICE } cm_lint_level;

typedef struct cm_lint_finding {
    int rule; /* COMPLIANCE.md checklist row */
    cm_lint_level level;
    char msg[256];
} cm_lint_finding;

#define LINT_MAX_FINDINGS 64

typedef struct cm_lint_report {
    cm_lint_finding items[LINT_MAX_FINDINGS];
    size_t n;
    size_t errors;
    size_t warnings;
} cm_lint_report;

/* Lints a signed certificate given as DER. `issuer_der` may be NULL (rows that compare with the
 * issuer are then reported as notices). `signing_time` is 0 when unknown (row 5 is skipped).
 * Returns 0 when the certificate could be parsed (findings in rep), -1 otherwise. */
int lint_der(const unsigned char *der, size_t len, const unsigned char *issuer_der,
             size_t issuer_len, int64_t signing_time, cm_lint_report *rep);

/* "error", "warning", "notice". */
const char *lint_level_name(cm_lint_level l);

/* One certificate as DER; `der` is malloc'd. */
typedef struct cm_lint_der {
    unsigned char *der;
    size_t len;
} cm_lint_der;

/* Splits file contents into certificates for lint_der: PEM (the CERTIFICATE blocks in order, at
 * most `max`; other blocks are skipped) or, without any PEM header, one DER certificate (not
 * parsed here). On success *n ≥ 1 and the caller frees each out[i].der with free(). Errors:
 * `cert_too_large` (over 1 MiB), `cert_malformed` (empty, or PEM without a certificate),
 * `out_of_memory`; nothing is left allocated then. */
int lint_decode_certs(const unsigned char *data, size_t len, cm_lint_der *out, size_t max,
                      size_t *n, cm_err *err);

#endif
