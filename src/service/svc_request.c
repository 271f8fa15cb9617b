/* svc_request.c — requests and their approval (R-O1, R-O2, R-O6). */
#include <stdio.h>
#include <string.h>

#include "core/approval.h"
#include "core/product.h"
#include "service/order.h"
#include "service/svc_internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

static const cm_role ANY_USER[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_STANDARD_USER,
                                   ROLE_LIMITED_USER, ROLE_NONE};

/* Standard and limited users see their own requests; approvers see the account's. */
static int64_t only_user(const cm_svc *s)
{
    return svc_is_approver(s) ? 0 : s->caller.user_id;
}

int svc_request_get(cm_svc *s, int64_t id, cm_request *out, cm_err *err)
{
    if (svc_require(s, false, ANY_USER, err) != 0 ||
        store_request_get(s->st, s->caller.account_id, id, out, err) != 0)
        return -1;
    int64_t only = only_user(s);
    if (only != 0 && out->requester_id != only) {
        bool contact = false;
        cm_order o;
        memset(&o, 0, sizeof o);
        /* A verified EV contact sees the EV approvals waiting for them. */
        if (strcmp(out->type, "ev_approval") == 0 &&
            store_order_get(s->st, s->caller.account_id, out->order_id, &o, err) == 0) {
            cm_contact c;
            cm_err e;
            contact = store_contact_get(s->st, s->caller.account_id, o.org_id,
                                        s->caller.user_id, &c, &e) == 0 &&
                      c.ev_approver;
            store_order_clear(&o);
        }
        if (!contact)
            return cm_err_set(err, "request_not_found", "request %lld not found",
                              (long long)id);
    }
    return 0;
}

int svc_request_list(cm_svc *s, const cm_list_opts *o, cm_request **out, size_t *n,
                     int64_t *total, cm_err *err)
{
    if (svc_require(s, false, ANY_USER, err) != 0)
        return -1;
    return store_request_list(s->st, s->caller.account_id, only_user(s), o, out, n, total, err);
}

/* Whether the order's EV organisation has the caller as a verified EV-approver contact. */
static bool caller_is_ev_contact(cm_svc *s, const cm_order *o)
{
    cm_contact c;
    cm_err e;
    return o->org_id > 0 &&
           store_contact_get(s->st, s->caller.account_id, o->org_id, s->caller.user_id, &c,
                             &e) == 0 &&
           c.ev_approver;
}

int svc_request_process(cm_svc *s, int64_t id, const char *status, const char *comment,
                        cm_err *err)
{
    cm_request r;
    cm_order o;
    memset(&o, 0, sizeof o);
    bool approve;
    if (svc_require(s, false, ANY_USER, err) != 0)
        return -1;
    if (status != NULL && strcmp(status, "approved") == 0)
        approve = true;
    else if (status != NULL && strcmp(status, "rejected") == 0)
        approve = false;
    else
        return cm_err_set(err, "field_invalid", "status must be \"approved\" or \"rejected\"");
    if (store_begin(s->st, err) != 0)
        return -1;
    if (store_request_get(s->st, s->caller.account_id, id, &r, err) != 0 ||
        store_order_get(s->st, s->caller.account_id, r.order_id, &o, err) != 0)
        goto fail;
    if (strcmp(r.status, "pending") != 0) {
        cm_err_set(err, "request_state", "request %lld was already %s", (long long)id, r.status);
        goto fail;
    }
    bool ev_kind = strcmp(r.type, "ev_approval") == 0;
    if (strcmp(r.type, "revoke") == 0) {
        if (!svc_is_admin(s)) {
            cm_err_set(err, "forbidden", "only an administrator may approve or reject a "
                       "revocation request");
            goto fail;
        }
    } else if (approval_may_process(ev_kind, s->caller.role, caller_is_ev_contact(s, &o), err) !=
               0) {
        goto fail;
    }
    int64_t now = clock_now();
    str_copy(r.status, sizeof r.status, approve ? "approved" : "rejected");
    r.processor_id = s->caller.user_id;
    if (comment != NULL)
        str_copy(r.processor_comment, sizeof r.processor_comment, comment);
    r.processed_at = now;
    if (store_request_update(s->st, &r, err) != 0)
        goto fail;
    char detail[200];
    snprintf(detail, sizeof detail, "{\"order_id\":%lld,\"type\":\"%s\"}", (long long)o.id,
             r.type);
    if (svc_audit(s, o.account_id, approve ? "request.approve" : "request.reject", "request", id,
                  detail, err) != 0)
        goto fail;
    bool try_after = false;
    if (strcmp(r.type, "revoke") == 0) {
        if (approve) {
            size_t n = 0;
            if (svc_revoke_now(s, o.account_id, o.id, r.certificate_id, r.revocation_reason, &n,
                               err) != 0)
                goto fail;
        }
    } else if (strcmp(o.status, "needs_approval") == 0 ||
               strcmp(o.status, "reissue_pending") == 0) {
        /* A new order or renewal waits in needs_approval; a reissue in reissue_pending. */
        bool reissue = strcmp(o.status, "reissue_pending") == 0;
        if (!approve) {
            if (reissue) {
                if (svc_order_restore_current(s, &o, err) != 0)
                    goto fail;
            } else {
                str_copy(o.status, sizeof o.status, "rejected");
                if (svc_renewal_unlink(s, &o, err) != 0)
                    goto fail;
            }
        } else {
            /* EV: after the manager's approval, a verified contact's may still be needed. */
            const cm_product *p = product_find(o.product);
            bool need_ev = !ev_kind && p != NULL && p->validation == VAL_EV;
            if (need_ev) {
                cm_contact c;
                cm_err e;
                bool requester_ev = store_contact_get(s->st, o.account_id, o.org_id,
                                                      r.requester_id, &c, &e) == 0 &&
                                    c.ev_approver;
                need_ev = !requester_ev && !caller_is_ev_contact(s, &o);
            }
            if (need_ev) {
                cm_request ev;
                memset(&ev, 0, sizeof ev);
                ev.account_id = o.account_id;
                ev.order_id = o.id;
                str_copy(ev.type, sizeof ev.type, "ev_approval");
                str_copy(ev.status, sizeof ev.status, "pending");
                ev.requester_id = r.requester_id;
                str_copy(ev.comments, sizeof ev.comments, r.comments);
                ev.created_at = now;
                if (store_request_insert(s->st, &ev, err) != 0)
                    goto fail;
            } else {
                if (!reissue)
                    str_copy(o.status, sizeof o.status, "pending");
                try_after = true;
            }
        }
        o.updated_at = now;
        if (store_order_update(s->st, &o, err) != 0)
            goto fail;
    }
    if (store_commit(s->st, err) != 0)
        goto fail;
    int64_t account_id = o.account_id, order_id = o.id;
    store_order_clear(&o);
    if (try_after) {
        int64_t cert = 0;
        cm_err e;
        /* The approval stands even when issuance must wait (the order note says why). */
        if (svc_try_issue(s, account_id, order_id, &cert, NULL, &e) != 0)
            log_msg(LOG_WARN, "event=issue_failed order=%lld code=%s", (long long)order_id,
                    e.code);
    }
    return 0;
fail:
    store_order_clear(&o);
    store_rollback(s->st);
    return -1;
}
