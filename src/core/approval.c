/* approval.c — the approval rules of R-O1, R-O2 and R-O6. */
#include "core/approval.h"

static bool is_approver(cm_role r)
{
    return r == ROLE_ADMINISTRATOR || r == ROLE_MANAGER;
}

cm_approval_need approval_needed(bool skip_approval, cm_role requester, bool ev,
                                 bool requester_ev_approver)
{
    cm_approval_need n;
    n.manager = !(skip_approval && is_approver(requester));
    n.ev_contact = ev && !requester_ev_approver;
    return n;
}

int approval_may_process(bool ev_contact_kind, cm_role approver, bool approver_ev_contact,
                         cm_err *err)
{
    if (ev_contact_kind) {
        if (!approver_ev_contact)
            return cm_err_set(err, "forbidden",
                              "only a verified EV-approver contact of the order's organisation "
                              "may approve or reject this EV request");
        return 0;
    }
    if (!is_approver(approver))
        return cm_err_set(err, "forbidden",
                          "only an administrator or a manager may approve or reject requests");
    return 0;
}

bool revocation_needs_approval(cm_role requester)
{
    return requester != ROLE_ADMINISTRATOR;
}
