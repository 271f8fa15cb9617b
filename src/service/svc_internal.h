/* svc_internal.h — what the order, reissue, duplicate and renewal use cases share inside
 * src/service/ (svc_order.c, svc_lifecycle.c, svc_reissue.c, svc_renew.c, svc_notify.c). Not
 * for other layers: they call order.h and lifecycle_svc.h. */
#ifndef CM_SERVICE_SVC_INTERNAL_H
#define CM_SERVICE_SVC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lifecycle.h"
#include "core/names.h"
#include "service/order.h"

extern const cm_role SVC_ANY_USER[]; /* every account role, ROLE_NONE-terminated */

/* The checks every issuing use case starts with: an account user (any role) calls, and the signer
 * lives (else `signer_unavailable`, 503). */
int svc_require_issuer(cm_svc *s, cm_err *err);

/* Loads an order of the caller's account; limited users see only their own (else
 * `order_not_found`). Caller calls store_order_clear. */
int svc_load_order(cm_svc *s, int64_t id, cm_order *o, cm_err *err);

/* Normalises a common name and SANs for product `p`: the common name first, then the other
 * names in the order given, each once. *out is malloc'd, caller frees. */
int svc_build_names(const cm_product *p, const char *cn, const char *const *dns, size_t n,
                    cm_name **out, size_t *nout, cm_err *err);

/* The names of an order (already normalised) as cm_name values; caller frees *out. */
int svc_order_names(const cm_order *o, cm_name **out, size_t *n, cm_err *err);

/* Splits a certificate row's comma-separated names into cm_name values (normalised with the
 * product's policy); caller frees *out. */
int svc_cert_names(const cm_product *p, const cm_cert_row *c, cm_name **out, size_t *n,
                   cm_err *err);

/* BR §6.1.1.3: `key_compromised` when the CSR's key is on a certificate of any account revoked
 * for key compromise. */
int svc_check_key_not_compromised(cm_svc *s, const cm_csr *csr, cm_err *err);

/* True when `name` is an IP address. */
bool svc_is_ip(const char *name);

/* CAA for every DNS name of a public product (BR 3.2.2.8). Network: never in a transaction. */
int svc_check_caa(cm_svc *s, const cm_product *p, const cm_order_name *names, size_t n,
                  cm_err *err);

/* The same for names not yet on an order (a duplicate's, a reissue's). */
int svc_check_caa_names(cm_svc *s, const cm_product *p, const cm_name *names, size_t n,
                        cm_err *err);

/* Whether every validation a certificate of order `o` with `names` needs is current at `now`:
 * the organisation's OV/EV vetting and every name's domain DCV (OV/EV public products) — DV
 * names are not looked at (their DCV belongs to each issuance). *what receives a malloc'd text
 * of what is stale (caller frees) or NULL when everything is current. */
int svc_validation_current(cm_svc *s, const cm_order *o, const cm_name *names, size_t n,
                           int64_t now, char **what, cm_err *err);

/* The order's current certificate: its latest original or reissue (any status). `certificate_
 * not_found` when it has none. Without DER. */
int svc_current_cert(cm_svc *s, int64_t account_id, int64_t order_id, cm_cert_row *out,
                     cm_err *err);

/* What one certificate of an order is made from. */
typedef struct issue_spec {
    const char *kind;        /* original, reissue, duplicate */
    const cm_name *names;    /* normalised, the common name first */
    size_t n_names;
    const char *csr_pem;
    const cm_csr *csr;       /* csr_pem already parsed, or NULL (svc_cert_sign parses it) */
    const char *hash;        /* "" or NULL = sha256 */
    int server_platform;
    int64_t not_after;       /* 0 = the product's default, capped by the order's coverage */
    int64_t request_id;      /* 0 */
    int64_t user_id;         /* who asked */
    cm_origin origin;
} issue_spec;

/* Signs one certificate of order `o` — no store writes, so it may run outside a transaction:
 * checks the key is not known compromised, builds the profile from the spec and the order's
 * organisation and issuer, lints and has the signer sign. *spki receives the key's SPKI
 * SHA-256. Caller frees *out with cert_free. */
int svc_cert_sign(cm_svc *s, const cm_order *o, const issue_spec *sp, cm_cert **out,
                  unsigned char spki[32], cm_err *err);

/* Records a certificate signed by svc_cert_sign inside the open transaction: stores it, audits,
 * and mails the chain to the order's certificate contact. *chain_pem (may be NULL) receives
 * the PEM chain (leaf, issuing CA; caller frees). *row_out (may be NULL) receives the stored row
 * (without DER). */
int svc_cert_record(cm_svc *s, const cm_order *o, const issue_spec *sp, const cm_cert *cert,
                    const unsigned char spki[32], int64_t *cert_id, char **chain_pem,
                    cm_cert_row *row_out, cm_err *err);

/* Both, inside the open transaction. */
int svc_issue_cert(cm_svc *s, const cm_order *o, const issue_spec *sp, int64_t *cert_id,
                   char **chain_pem, cm_err *err);

/* The pending requests of an order, of any type but `revoke`. Caller frees *out. */
int svc_order_open_requests(cm_svc *s, int64_t account_id, int64_t order_id, cm_request **out,
                            size_t *n, cm_err *err);

/* Puts a reissue_pending order back to issued with the names, CSR-less state, hash and
 * platform of its current certificate (cancelled or rejected reissue). Inside the open
 * transaction; the caller writes the order. */
int svc_order_restore_current(cm_svc *s, cm_order *o, cm_err *err);

/* Issues order `order_id` when it is pending (the original) or reissue_pending (the reissue) and
 * nothing is missing; CAA is checked first, outside the transaction. *cert_id is 0 when it still
 * waits; *chain_pem (may be NULL) receives the PEM chain. */
int svc_try_issue(cm_svc *s, int64_t account_id, int64_t order_id, int64_t *cert_id,
                  char **chain_pem, cm_err *err);

/* R-D15: the latest order in the renewal chain after `o` that is issued and matches it (product,
 * organisation, names); *match = 0 when none. */
int svc_latest_matching_renewal(cm_svc *s, const cm_order *o, int64_t *match, cm_err *err);

/* A renewal order that ends rejected or cancelled before it issued gives the order it renewed
 * back its renewal link (so that order can be renewed, reminded and auto-renewed again). Inside
 * the open transaction; nothing when `o` renews nothing. */
int svc_renewal_unlink(cm_svc *s, const cm_order *o, cm_err *err);

/* svc_order_renew; with link false the new order copies order `order_id` without becoming its
 * renewal (R-D15 when another, non-matching order already renewed it). */
int svc_order_renew_ex(cm_svc *s, int64_t order_id, const char *csr, bool link,
                       cm_order_result *out, cm_err *err);

/* Issues the pending reissue of order `o` (status reissue_pending, every validation current)
 * inside the open transaction: signs the new certificate, marks certificates carrying a removed
 * name revocation_pending (revoke_after = now + the account's delay) with a warning mail, and
 * puts the order back to issued (svc_reissue.c). */
int svc_reissue_issue(cm_svc *s, cm_order *o, int64_t *cert_id, char **chain_pem, cm_err *err);

/* ---- mail (svc_notify.c): text and HTML parts, queued in the outbox ---- */

/* A certificate was issued (original, reissue or duplicate): to the order's certificate
 * contact, with the PEM chain attached. */
int svc_notify_issued(cm_svc *s, const cm_order *o, const cm_cert_row *c, const char *chain_pem,
                      cm_err *err);
/* Certificates of order `o` that lose a name in a reissue will be revoked at `when`: to each
 * certificate's requester (and the contact), one mail per person. */
int svc_notify_revocation_warning(cm_svc *s, const cm_order *o, const cm_cert_row *certs,
                                  size_t n, int64_t when, cm_err *err);
/* A certificate ends in `days` days (30, 7, 1): to the order's contact. */
int svc_notify_expiry(cm_svc *s, const cm_order *o, const cm_cert_row *c, int days,
                      cm_err *err);
/* Auto-renew placed order `new_id` for order `o` (or failed: why != NULL). */
int svc_notify_auto_renew(cm_svc *s, const cm_order *o, int64_t new_id, const cm_err *why,
                          cm_err *err);

#endif
