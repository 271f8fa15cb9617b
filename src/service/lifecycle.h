/* lifecycle.h — the use cases of an issued order's life: duplicates (R-D1 … R-D15, svc_dup.c),
 * reissues (R-O4, R-O7, svc_reissue.c), renewals and auto-renew (R-O5, svc_renew.c) and expiry
 * reminders (svc_notify.c). The REST API, the console, agents, ACME and the jobs call these, so
 * each rule lives here once. */
#ifndef CM_SERVICE_LIFECYCLE_H
#define CM_SERVICE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lifecycle.h"
#include "service/order.h"

/* ---- duplicates (svc_dup.c) ---- */

typedef struct cm_dup_input {
    const char *csr;              /* PEM, required (R-D6) */
    const char *common_name;      /* NULL: the current certificate's names (R-D7) */
    const char *const *dns_names; /* with common_name: the names asked for */
    size_t n_dns_names;
    int server_platform;          /* PLATFORM_OTHER: the current certificate's (R-D10) */
    const char *signature_hash;   /* NULL: sha256 (R-D9) */
    int64_t valid_till;           /* 0: the copied certificate's end (R-D8) */
    cm_origin origin;             /* manual, agent, acme, auto_renew (R-D13) */
    size_t n_hosts;               /* automation: hosts asked for at once; 0 counts as 1 (R-D14) */
} cm_dup_input;

typedef struct cm_issued {
    int64_t order_id;
    int64_t certificate_id;
    char *chain_pem;              /* malloc'd PEM chain (leaf, issuing CA); free() */
    cm_cert_row cert;             /* the stored row, without DER */
} cm_issued;

void issued_clear(cm_issued *r);

/* Issues a duplicate of order `order_id` at once (R-D11: no approval, no pending state, no other
 * certificate changes), or refuses with the rule's own code (core/lifecycle.h dup_check,
 * dup_names, dup_not_after; `duplicate_key_reused` for R-D6, `hash_not_allowed`,
 * `field_invalid` for an unknown platform). Signing happens outside the write transaction; the
 * order's state and the key are checked again inside it before the certificate is stored. The
 * duplicate is mailed to the order's certificate contact (R-D12). Caller calls issued_clear. */
int svc_duplicate_create(cm_svc *s, int64_t order_id, const cm_dup_input *in, cm_issued *out,
                         cm_err *err);

/* The duplicates of an order, newest first. Caller frees *out. */
int svc_duplicate_list(cm_svc *s, int64_t order_id, cm_cert_row **out, size_t *n, cm_err *err);

/* R-D15: "renew this duplicate" (automation, auto-renew). When a newer order renewed the
 * duplicate's order (following renewed_by_order_id) and matches it (product, organisation,
 * names) and is issued, issues a duplicate of the latest such order with the new CSR
 * (*renewed_order = 0); otherwise renews the duplicate's order normally (a new order, R-O5:
 * *renewed_order = its id, out->certificate_id set only when it issued at once) — linked as its
 * renewal, or, when a non-matching order already renewed it, an unlinked copy of it. */
int svc_duplicate_renew(cm_svc *s, int64_t cert_id, const char *csr, cm_origin origin,
                        cm_issued *out, int64_t *renewed_order, cm_err *err);

/* ---- reissues (svc_reissue.c) ---- */

typedef struct cm_reissue_input {
    const char *csr;              /* PEM, required */
    const char *common_name;      /* NULL: the current certificate's names */
    const char *const *dns_names;
    size_t n_dns_names;
    int server_platform;          /* PLATFORM_OTHER: the current certificate's */
    const char *signature_hash;   /* NULL: the order's */
    const char *comments;         /* to the approver */
} cm_reissue_input;

typedef struct cm_reissue_result {
    char order_status[24];        /* issued (issued at once) or reissue_pending */
    int64_t request_id;           /* 0 when no approval was needed */
    char request_status[16];
    cm_issued issued;             /* certificate_id != 0 when issued at once */
} cm_reissue_result;

/* R-O4: re-keys an issued order with a new CSR and changed, added or removed names. The order
 * becomes reissue_pending with a `reissue` request when approval is needed (R-O2 rules), and
 * waits for DCV of names no current validation covers (DV: every name again); otherwise it is
 * issued at once. Errors: `reissue_order_state`, and the order-create errors for names, CSR,
 * hash and platform. Caller calls issued_clear(&out->issued). */
int svc_reissue_create(cm_svc *s, int64_t order_id, const cm_reissue_input *in,
                       cm_reissue_result *out, cm_err *err);

/* The reissued certificates of an order (newest first) and its pending reissue request
 * (*pending.id == 0 when none). Caller frees *out. */
int svc_reissue_list(cm_svc *s, int64_t order_id, cm_cert_row **out, size_t *n,
                     cm_request *pending, cm_err *err);

/* The revocation job: revokes (reason superseded) up to `max` certificates whose
 * revocation_pending delay has passed. Internal caller; its own transactions. */
int svc_revoke_pending_due(cm_svc *s, int64_t now, size_t max, int *revoked, cm_err *err);

/* ---- renewals (svc_renew.c) ---- */

/* R-O5, for order create with renewal_of_order_id (inside its checks, before anything is
 * written): the old order must be issued or expired, not renewed yet, inside the renewal window
 * (account renewal_window_days before its current certificate ends), and of the same
 * validation type. Errors: `renewal_order_state`, `order_already_renewed`,
 * `renewal_window_closed`, `renewal_product_mismatch`. */
int svc_renewal_allowed(cm_svc *s, const cm_order *old, const cm_product *new_product,
                        cm_err *err);

/* Renews order `order_id` as its ordering user with its CSR (or `csr` when not NULL): a new
 * order of the same product, organisation, names, years, platform and hash, linked both ways.
 * `*out` as svc_order_create. */
int svc_order_renew(cm_svc *s, int64_t order_id, const char *csr, cm_order_result *out,
                    cm_err *err);

/* The auto-renew job: renews up to `max` due orders (store_orders_auto_renew_due) as their
 * ordering user; a renewal refused or failed is noted, mailed, and tried again a day later.
 * Then R-D15: each due duplicate of an auto-renewed order becomes a duplicate of the latest
 * matching issued renewal, made from the duplicate's own CSR (origin auto_renew, so R-D13
 * needs skip_approval); it waits while no matching renewal is issued. Internal caller. */
int svc_auto_renew_due(cm_svc *s, int64_t now, size_t max, int *renewed, cm_err *err);

/* The expiry reminder job: mails the order's contact 30, 7 and 1 days before a live certificate
 * of a not yet renewed order ends, each stage once. Internal caller. */
int svc_expiry_remind(cm_svc *s, int64_t now, size_t max, int *sent, cm_err *err);

#endif
