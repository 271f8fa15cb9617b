/* lifecycle.h — the pure rules of duplicates (DESIGN.md R-D1 … R-D15), reissues (R-O4) and
 * renewals (R-O5). No I/O: the service layer loads the facts and asks here for the decision.
 * Every refusal has its own stable code and a message that says what to do instead. */
#ifndef CM_CORE_LIFECYCLE_H
#define CM_CORE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/names.h"
#include "core/product.h"
#include "util/err.h"

/* Who asks: a person (REST, console, CLI), an agent on a server, an ACME client, or the
 * auto-renew job. */
typedef enum { ORIGIN_MANUAL, ORIGIN_AGENT, ORIGIN_ACME, ORIGIN_AUTO_RENEW } cm_origin;

/* "manual", "agent", "acme", "auto_renew". */
const char *origin_name(cm_origin o);
/* Automation: agents, ACME and auto-renew. */
bool origin_is_automation(cm_origin o);

/* ---- duplicates ---- */

/* The facts a duplicate request is judged on, gathered by the service. */
typedef struct cm_dup_facts {
    const cm_product *product;
    bool allow_duplicates;       /* account setting (R-D2) */
    bool skip_approval;          /* account setting (R-D13) */
    const char *order_status;    /* R-D3 */
    int64_t coverage_end;        /* the order's coverage end */
    bool validation_current;     /* R-D4: every name's DCV and the organisation's OV/EV */
    const char *stale_what;      /* what is stale, for the message (may be NULL) */
    bool requester_ev_contact;   /* R-D5 */
    cm_origin origin;
    size_t n_hosts;              /* R-D14: hosts an automation request is for (1) */
    int64_t now;
} cm_dup_facts;

/* R-D1, R-D2, R-D3, R-D4, R-D5, R-D13, R-D14, in that order; the first refusal wins.
 * Codes: `duplicate_not_allowed_for_dv`, `duplicates_disabled`, `duplicate_order_state`,
 * `duplicate_validation_stale`, `duplicate_ev_contact_required`,
 * `duplicate_automation_needs_skip_approval`, `duplicate_bulk_not_supported`. */
int dup_check(const cm_dup_facts *f, cm_err *err);

/* R-D7: the names of a duplicate. `cur` are the names of the order's current certificate (the
 * common name first); `req` the names asked for (the common name first), or n_req == 0 for the
 * default (a copy of `cur`). Flex products may remove and reorder names and move a SAN into the
 * common name; other products keep every name with the same common name. Products whose
 * catalogue row allows it may add names a wildcard of `cur` covers (one label). On success
 * *out (malloc'd, caller frees) holds the names in certificate order, the common name first.
 * Codes: `duplicate_name_not_allowed`, `duplicate_customization_not_flex`, `names_required`. */
int dup_names(const cm_product *p, const cm_name *cur, size_t n_cur, const cm_name *req,
              size_t n_req, cm_name **out, size_t *n_out, cm_err *err);

/* R-D8: the end of a duplicate. The default is the copied certificate's end, capped by the
 * order's coverage and by the longest validity allowed for a certificate issued now
 * (`cap_end`). A requested end (0 = none) may be earlier, never later; automation always gets
 * the default. Codes: `duplicate_validity_too_long`, `field_invalid` (an end in the past or
 * within the next hour). */
int dup_not_after(int64_t copied_not_after, int64_t coverage_end, int64_t cap_end,
                  int64_t requested, cm_origin origin, int64_t now, int64_t *out, cm_err *err);

/* ---- reissues ---- */

/* R-O4: the names a reissue removes: every name of `old` not in `new_names`. *removed is a
 * malloc'd array of indexes into `old` (caller frees; NULL when none). */
int reissue_removed_names(const cm_name *old, size_t n_old, const cm_name *new_names,
                          size_t n_new, size_t **removed, size_t *n_removed, cm_err *err);

/* Whether a certificate whose SANs are the comma-separated `cert_names` carries any name of
 * `removed` (texts). */
bool cert_carries_any(const char *cert_names, const char *const *removed, size_t n_removed);

/* ---- renewals ---- */

/* R-O5: whether order `old_status` whose current certificate ends at `old_end` may be renewed
 * at `now` with a window of `window_days`. Codes: `renewal_order_state` (not issued or
 * expired), `order_already_renewed` (renewed_by != 0), `renewal_window_closed` (saying when it
 * opens). */
int renewal_check(const char *old_status, int64_t renewed_by, int64_t old_end, int window_days,
                  int64_t now, cm_err *err);

/* R-D15: whether a renewed order matches the duplicate's order: same product, organisation and
 * set of names (order-insensitive; names compared as texts). */
bool renewal_matches(const char *prod_a, int64_t org_a, const char *const *names_a, size_t n_a,
                     const char *prod_b, int64_t org_b, const char *const *names_b, size_t n_b);

#endif
