/* approval.h — who must approve a new order or renewal (DESIGN.md R-O1, R-O2). Pure rules. */
#ifndef CM_CORE_APPROVAL_H
#define CM_CORE_APPROVAL_H

#include <stdbool.h>

#include "core/role.h"
#include "util/err.h"

typedef struct cm_approval_need {
    bool manager;    /* an administrator or manager must approve */
    bool ev_contact; /* a verified EV-approver contact of the organisation must approve */
} cm_approval_need;

/* R-O2: new orders and renewals wait for an administrator's or manager's approval unless the
 * account skips approval and the requester is an administrator or manager; EV orders also wait
 * for a verified contact's approval unless the requester is one. */
cm_approval_need approval_needed(bool skip_approval, cm_role requester, bool ev,
                                 bool requester_ev_approver);

/* Whether someone may approve or reject a request of the given kind: `manager` approvals need
 * an administrator or manager; `ev_contact` approvals a verified EV-approver contact.
 * Errors: `forbidden` saying who may. */
int approval_may_process(bool ev_contact_kind, cm_role approver, bool approver_ev_contact,
                         cm_err *err);

/* R-O6: revocation by anyone but an administrator needs an administrator's approval. */
bool revocation_needs_approval(cm_role requester);

#endif
