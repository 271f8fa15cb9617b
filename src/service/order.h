/* order.h — the use cases of orders, requests (approvals), certificates and revocation
 * (DESIGN.md R-O1 … R-O7). Implemented in svc_order.c (orders, DCV of DV orders, issuance),
 * svc_request.c (approvals) and svc_cert.c (certificates, downloads, revocation). */
#ifndef CM_SERVICE_ORDER_H
#define CM_SERVICE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pki/formats.h"
#include "service/service.h"

/* ---- orders (svc_order.c) ---- */

typedef struct cm_order_input {
    const char *product;          /* product id (DESIGN.md §3.1) */
    const char *common_name;      /* required */
    const char *const *dns_names; /* SANs besides the common name (may repeat it) */
    size_t n_dns_names;
    const char *csr;              /* PEM */
    int server_platform;          /* PLATFORM_OTHER when not given */
    const char *signature_hash;   /* NULL = sha256 */
    const char *issuer;           /* NULL = by the CSR's key type; "ecdsa" or "rsa" */
    int64_t org_id;               /* OV/EV: required */
    int validity_years;           /* 1..6; 0 = 1 */
    bool auto_renew;
    int64_t renewal_of_order_id;  /* 0 */
    const char *comments;         /* to the approver */
    const char *dcv_method;       /* DV orders; NULL = dns-txt-token */
} cm_order_input;

typedef struct cm_order_result {
    cm_order order;               /* with names: caller calls store_order_clear */
    int64_t request_id;           /* 0 when no approval was needed */
    char request_status[16];
    int64_t certificate_id;       /* when issued at once */
    char *chain_pem;              /* malloc'd PEM chain (leaf, issuing CA) when issued; free() */
} cm_order_result;

void order_result_clear(cm_order_result *r);

/* Places an order: checks the product, the caller's role, the CSR and key, the names (core
 * rules), the organisation, the hash; CAA for every name; then stores the order with status
 * needs_approval (and a pending request) or pending (R-O2), and tries to issue at once when
 * every validation is current. Errors: `product_unknown`, `csr_*`, `key_rejected`,
 * `name_invalid`, `names_required`, `too_many_names`, `organization_required`,
 * `organization_not_found`, `hash_not_allowed`, `caa_forbidden`, `caa_lookup_failed`, …  */
int svc_order_create(cm_svc *s, const cm_order_input *in, cm_order_result *out, cm_err *err);

/* One order with its names (limited users: their own only). Caller calls store_order_clear. */
int svc_order_get(cm_svc *s, int64_t id, cm_order *out, cm_err *err);

/* Orders of the caller's account (limited users: their own). */
int svc_order_list(cm_svc *s, const cm_list_opts *o, cm_order **out, size_t *n, int64_t *total,
                   cm_err *err);

/* R-O7: cancels an order that is needs_approval or pending (its open request is rejected);
 * a reissue_pending order returns to issued. Else `order_state`. */
int svc_order_cancel(cm_svc *s, int64_t id, const char *note, cm_err *err);

/* Certificates of an order, newest first (the certificate history). Caller frees *out. */
int svc_order_certificates(cm_svc *s, int64_t id, cm_cert_row **out, size_t *n, cm_err *err);

/* DV orders: chooses the DCV method and makes a new random value (30 days). */
int svc_order_dcv_method(cm_svc *s, int64_t id, const char *method, cm_err *err);

/* DV orders: checks every name's DCV now and issues when all pass. `*issued_cert` receives the
 * certificate id when it issued. Names that fail keep their status; the error of the first
 * failure is returned only when none passed. */
int svc_order_check_dcv(cm_svc *s, int64_t id, int64_t *issued_cert, cm_err *err);

/* DV orders validating by email: when `code` is the live code of such an order (compared in
 * constant time), marks its names validated, spends the code and tries to issue; *found tells
 * whether it matched and *order_id which order. No caller rights: the code is the credential
 * (POST /dcv/email/confirm has no API key). */
int svc_order_email_confirm(cm_svc *s, const char *code, int64_t *order_id, bool *found,
                            cm_err *err);

/* POST /dcv/email/confirm (svc_dcv.c): a code mailed for a domain validates that domain; a
 * code mailed for a DV order validates the order's names (svc_order_email_confirm). Unknown,
 * spent or expired codes: `dcv_code_invalid`. */
typedef struct cm_email_confirmed {
    bool order;          /* the code was a DV order's: order_id; else a domain's: domain */
    cm_domain domain;
    int64_t order_id;
} cm_email_confirmed;
int svc_dcv_email_confirm(cm_svc *s, const char *code, cm_email_confirmed *out, cm_err *err);

/* Why an order is still pending, for its info: a malloc'd text (caller frees) or NULL. */
char *svc_order_waiting_for(cm_svc *s, const cm_order *o);

/* Tries to issue a `pending` order whose validations are all current (CAA checked first,
 * outside the transaction). *cert_id receives the new certificate (0 when still waiting).
 * Used after approvals and validations. */
int svc_order_try_issue(cm_svc *s, int64_t account_id, int64_t order_id, int64_t *cert_id,
                        cm_err *err);

/* ---- requests (svc_request.c) ---- */

int svc_request_get(cm_svc *s, int64_t id, cm_request *out, cm_err *err);
int svc_request_list(cm_svc *s, const cm_list_opts *o, cm_request **out, size_t *n,
                     int64_t *total, cm_err *err);
/* Approves or rejects a pending request ("approved" | "rejected"). Approving a new order makes
 * it pending (and issues it when validation is current); rejecting makes it rejected.
 * Approving a revoke request revokes. Errors: `request_not_found`, `request_state`,
 * `forbidden`, `field_invalid`. */
int svc_request_process(cm_svc *s, int64_t id, const char *status, const char *comment,
                        cm_err *err);

/* ---- certificates and revocation (svc_cert.c) ---- */

/* One certificate with its DER (caller calls store_cert_clear). */
int svc_cert_get(cm_svc *s, int64_t id, cm_cert_row *out, cm_err *err);

/* The chain of a certificate for formats.h (pointers into c and the engine). */
int svc_cert_chain(cm_svc *s, const cm_cert_row *c, cm_chain *out, cm_err *err);

/* Renders certificate `id` in `format` (NULL = its platform's default). Caller frees with
 * blob_free; *name receives the download file name (caller's buffer). */
int svc_cert_download(cm_svc *s, int64_t id, const char *format, cm_blob *out, char *name,
                      size_t namesz, cm_err *err);

typedef struct cm_revoke_result {
    bool revoked;           /* revoked now */
    int64_t request_id;     /* else: the request waiting for an administrator */
    size_t n_revoked;       /* certificates revoked */
} cm_revoke_result;

/* R-O6: revokes one certificate (cert_id) or every certificate of an order (order_id, cert_id
 * 0); administrators at once, others through a revoke request. Reasons are RFC 5280 codes by
 * name: unspecified, key_compromise, affiliation_changed, superseded, cessation_of_operation,
 * privilege_withdrawn. Marks the CRLs dirty and queues their refresh. */
int svc_revoke(cm_svc *s, int64_t order_id, int64_t cert_id, const char *reason,
               const char *comments, cm_revoke_result *out, cm_err *err);

/* Revokes now, inside the caller's open transaction (approvals, jobs): every certificate of the
 * order when cert_id is 0. */
int svc_revoke_now(cm_svc *s, int64_t account_id, int64_t order_id, int64_t cert_id, int reason,
                   size_t *n_revoked, cm_err *err);

/* Marks expired certificates and orders (the jobs scheduler, every pass) with one audit event
 * when anything changed. Its own transaction; an internal caller (no account). */
int svc_expire(cm_svc *s, int64_t now, cm_err *err);

/* The DCV re-check (svc_dcv.c; the jobs scheduler every few minutes): checks again up to `max`
 * pending domain validations and `max` pending DV orders whose random value is still good, as
 * their account's administrator role; those that pass validate (and issue what waited). */
int svc_dcv_recheck(cm_svc *s, int64_t now, size_t max, int *checked, int *validated,
                    cm_err *err);

/* ---- CRLs (svc_crl.c) ---- */

#define CRL_VALIDITY_SECONDS (7 * 86400) /* nextUpdate = thisUpdate + 7 days (BR: ≤ 10) */

/* The issuing CA ids that publish a CRL, in a fixed order; *n receives the count. Static. */
const char *const *svc_crl_ca_ids(size_t *n);
/* Makes and stores the next CRL of `ca_id` now: every revoked certificate of that CA, CRLNumber
 * = last + 1, in one write transaction (the number strictly increases across threads, nodes and
 * restarts). Errors: `ca_unknown`, the signer's. */
int svc_crl_make_one(cm_svc *s, const char *ca_id, int64_t now, cm_err *err);
/* All four, each in its own transaction; one failing does not keep the others stale. */
int svc_crl_refresh_all(cm_svc *s, int64_t now, cm_err *err);
/* The CRL to serve for `ca_id` (made now when none is stored or it is past its nextUpdate).
 * out->der is malloc'd, caller frees. Errors: `ca_unknown`, the store's and the signer's. */
int svc_crl_current(cm_svc *s, const char *ca_id, cm_crl_row *out, cm_err *err);

/* RFC 5280 reason code for a name, or -1. */
int revocation_reason_code(const char *name);
const char *revocation_reason_name(int code);

#endif
