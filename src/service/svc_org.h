/* svc_org.h — organisation use cases (DESIGN.md §5 "organisations", R-O3): create, read, list,
 * the operator's OV/EV vetting, and verified contacts. The cross-slice functions stay in
 * service.h; this header is what the REST handlers (http/h_org.c) and the console call. */
#ifndef CM_SERVICE_SVC_ORG_H
#define CM_SERVICE_SVC_ORG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/org.h"
#include "core/product.h"
#include "service/service.h"
#include "store/store.h"
#include "util/err.h"

/* Creates an organisation in the caller's account (administrators and managers). The fields
 * must pass org_check for OV, and for EV as well when any EV field is given. Writes the audit
 * event org.create. *id receives the new id. Errors: `forbidden`, `org_invalid`. */
int svc_org_create(cm_svc *s, const cm_org *org, int64_t *id, cm_err *err);

/* One organisation of the caller's account (every role) with its verified contacts. *contacts
 * is malloc'd (NULL when none); the caller frees it with free(). Errors: `forbidden`,
 * `organization_not_found` (also for other accounts' organisations). */
int svc_org_get(cm_svc *s, int64_t id, cm_org_row *out, cm_contact **contacts, size_t *n,
                cm_err *err);

/* The caller's organisations (every role). sort: id, name, created_at; filters: name, country.
 * *out is malloc'd; the caller frees it with free(). */
int svc_org_list(cm_svc *s, const cm_list_opts *o, cm_org_row **out, size_t *n, int64_t *total,
                 cm_err *err);

/* One vetting record an operator enters. */
typedef struct cm_org_vetting {
    cm_validation type;  /* VAL_OV or VAL_EV */
    int64_t valid_until; /* 0 = now + ORG_VALIDATION_DEFAULT_DAYS */
} cm_org_vetting;

/* Records the operator's OV/EV vetting of an organisation of any account (operators only):
 * each valid_until must lie in the future and at most ORG_VALIDATION_DEFAULT_DAYS ahead; each
 * type at most once; EV needs the organisation's EV fields to pass org_check for EV. Writes the
 * audit event org.validate in the organisation's account, commits, then re-evaluates that
 * account's pending orders. On success *out and *contacts are as for svc_org_get (caller frees
 * *contacts). Errors: `forbidden`, `organization_not_found`, `field_invalid`, `org_invalid`. */
int svc_org_validate(cm_svc *s, int64_t id, const cm_org_vetting *v, size_t nv, cm_org_row *out,
                     cm_contact **contacts, size_t *n, cm_err *err);

/* Makes a user of the account a verified contact of an organisation, or changes its
 * ev_approver flag (administrators only). Writes the audit event org.contact. *created tells
 * whether the contact is new. Errors: `forbidden`, `organization_not_found`, `user_not_found`,
 * `user_state` (a disabled user). */
int svc_org_contact_add(cm_svc *s, int64_t org_id, int64_t user_id, bool ev_approver,
                        cm_contact *out, bool *created, cm_err *err);

/* True when the organisation's record of type `v` (VAL_OV or VAL_EV) is current at `now`. An
 * EV record also counts for OV. */
bool svc_org_valid(const cm_org_row *o, cm_validation v, int64_t now);

#endif
