/* svc_reissue.c — reissues (DESIGN.md R-O4, R-O7): re-keying an issued order with a new CSR and
 * changed names, the revocation of certificates that lose a name, and that revocation's job.
 *
 * While a reissue is pending the order is `reissue_pending`: its names are the reissue's (so the
 * DCV of a DV order works on them as for a new order), its CSR stays the current certificate's,
 * and the reissue's CSR waits on its `reissue` request (every reissue has one: approved at once
 * when no approval is needed, so the history says which request and user produced it).
 * Cancelling or rejecting puts the current certificate's names back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/approval.h"
#include "core/keypolicy.h"
#include "core/platform.h"
#include "jobs/jobs.h"
#include "service/lifecycle.h"
#include "service/svc_domain.h"
#include "service/svc_internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

int svc_order_open_requests(cm_svc *s, int64_t account_id, int64_t order_id, cm_request **out,
                            size_t *n, cm_err *err)
{
    cm_list_opts lo = {.limit = 1000, .filter_names = {"order_id", "status"}, .n_filters = 2};
    char idtext[24];
    int64_t total = 0;
    snprintf(idtext, sizeof idtext, "%lld", (long long)order_id);
    lo.filter_values[0] = idtext;
    lo.filter_values[1] = "pending";
    if (store_request_list(s->st, account_id, 0, &lo, out, n, &total, err) != 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*out)[i].type, "revoke") != 0)
            (*out)[k++] = (*out)[i];
    *n = k;
    return 0;
}

/* The latest reissue request of an order (any status); r->id == 0 when none. */
static int latest_reissue(cm_svc *s, int64_t account_id, int64_t order_id, cm_request *r,
                          cm_err *err)
{
    cm_list_opts lo = {.limit = 1, .sort = "id", .desc = true,
                       .filter_names = {"order_id", "type"}, .n_filters = 2};
    char idtext[24];
    cm_request *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    memset(r, 0, sizeof *r);
    snprintf(idtext, sizeof idtext, "%lld", (long long)order_id);
    lo.filter_values[0] = idtext;
    lo.filter_values[1] = "reissue";
    if (store_request_list(s->st, account_id, 0, &lo, &list, &n, &total, err) != 0)
        return -1;
    if (n > 0)
        *r = list[0];
    free(list);
    return 0;
}

/* Replaces the names of order `o` with `names`; DV names wait for DCV again. */
static int set_order_names(cm_order *o, const cm_product *p, const cm_name *names, size_t n,
                           bool dv_pending, cm_err *err)
{
    cm_order_name *v = calloc(n, sizeof *v);
    if (v == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    for (size_t i = 0; i < n; i++) {
        str_copy(v[i].name, sizeof v[i].name, names[i].text);
        if (p->validation == VAL_DV)
            str_copy(v[i].dcv_status, sizeof v[i].dcv_status, dv_pending ? "pending" : "valid");
    }
    free(o->names);
    o->names = v;
    o->n_names = n;
    str_copy(o->common_name, sizeof o->common_name, names[0].text);
    return 0;
}

int svc_order_restore_current(cm_svc *s, cm_order *o, cm_err *err)
{
    cm_cert_row cur;
    cm_name *names = NULL;
    size_t n = 0;
    const cm_product *p = product_find(o->product);
    if (p == NULL)
        return cm_err_set(err, "product_unknown", "unknown product %s", o->product);
    if (svc_current_cert(s, o->account_id, o->id, &cur, err) != 0 ||
        svc_cert_names(p, &cur, &names, &n, err) != 0)
        return -1;
    int rc = set_order_names(o, p, names, n, false, err);
    free(names);
    if (rc != 0)
        return -1;
    str_copy(o->signature_hash, sizeof o->signature_hash, cur.signature_hash);
    o->server_platform = cur.server_platform;
    o->dcv_value[0] = '\0';
    o->dcv_value_expires = 0;
    str_copy(o->status, sizeof o->status, "issued");
    return 0;
}

int svc_reissue_create(cm_svc *s, int64_t order_id, const cm_reissue_input *in,
                       cm_reissue_result *out, cm_err *err)
{
    int rc = -1;
    cm_order o;
    cm_cert_row cur;
    cm_account acct;
    cm_name *names = NULL;
    size_t n = 0;
    cm_csr *csr = NULL;
    bool in_tx = false;
    memset(&o, 0, sizeof o);
    memset(out, 0, sizeof *out);
    if (svc_require_issuer(s, err) != 0)
        return -1;
    if (in->csr == NULL || in->csr[0] == '\0')
        return cm_err_set(err, "field_required", "certificate.csr is required: a reissue "
                          "re-keys the certificate");
    if (strlen(in->csr) >= REQUEST_CSR_MAX)
        return cm_err_set(err, "csr_too_large", "the CSR is longer than %d bytes",
                          REQUEST_CSR_MAX - 1);
    if (in->server_platform != PLATFORM_OTHER && platform_find(in->server_platform) == NULL)
        return cm_err_set(err, "field_invalid",
                          "server_platform.id %d is unknown; GET /services/v2/server-platform "
                          "lists them", in->server_platform);
    if (svc_load_order(s, order_id, &o, err) != 0)
        return -1;
    const cm_product *p = product_find(o.product);
    if (p == NULL) {
        cm_err_set(err, "product_unknown", "unknown product %s", o.product);
        goto out;
    }
    if (strcmp(o.status, "issued") != 0) {
        if (strcmp(o.status, "reissue_pending") == 0)
            cm_err_set(err, "reissue_order_state",
                       "order %lld already has a pending reissue; cancel it (PUT "
                       "/order/certificate/%lld/status {\"status\":\"canceled\"}) or wait for it",
                       (long long)o.id, (long long)o.id);
        else
            cm_err_set(err, "reissue_order_state",
                       "order %lld is %s; only issued orders are reissued", (long long)o.id,
                       o.status);
        goto out;
    }
    if (svc_current_cert(s, o.account_id, o.id, &cur, err) != 0)
        goto out;
    if (in->common_name != NULL) {
        if (svc_build_names(p, in->common_name, in->dns_names, in->n_dns_names, &names, &n,
                            err) != 0)
            goto out;
    } else if (svc_cert_names(p, &cur, &names, &n, err) != 0) {
        goto out;
    }
    if (csr_parse((const unsigned char *)in->csr, strlen(in->csr), &csr, err) != 0 ||
        svc_check_key_not_compromised(s, csr, err) != 0)
        goto out;
    if (sighash_check(strcmp(o.issuer, "rsa") != 0, in->signature_hash, err) != 0) {
        cm_err_prefix(err, "signature_hash (an order's issuing CA is chosen when it is placed)");
        goto out;
    }
    if (store_account_get(s->st, o.account_id, &acct, err) != 0)
        goto out;
    bool requester_ev = false;
    if (p->validation == VAL_EV) {
        cm_contact c;
        cm_err e2;
        requester_ev = store_contact_get(s->st, o.account_id, o.org_id, s->caller.user_id, &c,
                                         &e2) == 0 &&
                       c.ev_approver;
    }
    /* CAA before anything is written (network); again at issuance. */
    if (svc_check_caa_names(s, p, names, n, err) != 0)
        goto out;
    cm_approval_need need = approval_needed(acct.skip_approval, s->caller.role,
                                            p->validation == VAL_EV, requester_ev);
    int64_t now = clock_now();
    if (store_begin(s->st, err) != 0)
        goto out;
    in_tx = true;
    cm_order fresh;
    memset(&fresh, 0, sizeof fresh);
    if (store_order_get(s->st, o.account_id, o.id, &fresh, err) != 0)
        goto out;
    bool still = strcmp(fresh.status, "issued") == 0;
    store_order_clear(&fresh);
    if (!still) {
        cm_err_set(err, "reissue_order_state", "order %lld changed meanwhile; look at it again",
                   (long long)o.id);
        goto out;
    }
    cm_request r;
    memset(&r, 0, sizeof r);
    r.account_id = o.account_id;
    r.order_id = o.id;
    str_copy(r.type, sizeof r.type, "reissue");
    str_copy(r.status, sizeof r.status, need.manager ? "pending" : "approved");
    r.requester_id = s->caller.user_id;
    if (in->comments != NULL)
        str_copy(r.comments, sizeof r.comments, in->comments);
    r.created_at = now;
    if (!need.manager) {
        r.processed_at = now;
        str_copy(r.processor_comment, sizeof r.processor_comment,
                 "no approval needed (skip_approval)");
    }
    if (store_request_insert(s->st, &r, err) != 0 ||
        store_request_set_csr(s->st, o.account_id, r.id, in->csr, err) != 0)
        goto out;
    out->request_id = r.id;
    str_copy(out->request_status, sizeof out->request_status, r.status);
    if (!need.manager && need.ev_contact) {
        cm_request ev;
        memset(&ev, 0, sizeof ev);
        ev.account_id = o.account_id;
        ev.order_id = o.id;
        str_copy(ev.type, sizeof ev.type, "ev_approval");
        str_copy(ev.status, sizeof ev.status, "pending");
        ev.requester_id = s->caller.user_id;
        ev.created_at = now;
        if (store_request_insert(s->st, &ev, err) != 0)
            goto out;
        out->request_id = ev.id;
        str_copy(out->request_status, sizeof out->request_status, "pending");
    }
    if (set_order_names(&o, p, names, n, true, err) != 0)
        goto out;
    if (p->validation == VAL_DV) {
        if (o.dcv_method[0] == '\0' || strcmp(o.dcv_method, "email") == 0)
            str_copy(o.dcv_method, sizeof o.dcv_method, "dns-txt-token");
        svc_random_value(o.dcv_value);
        o.dcv_value_expires = now + DCV_VALUE_LIFETIME;
    } else if (product_needs_dcv(p)) {
        for (size_t i = 0; i < n; i++)
            if (!svc_is_ip(names[i].text) &&
                svc_domain_ensure(s, o.account_id, names[i].text, err) != 0)
                goto out;
    }
    str_copy(o.status, sizeof o.status, "reissue_pending");
    if (in->signature_hash != NULL)
        str_copy(o.signature_hash, sizeof o.signature_hash, in->signature_hash);
    if (in->server_platform != PLATFORM_OTHER)
        o.server_platform = in->server_platform;
    o.updated_at = now;
    o.note[0] = '\0';
    char detail[400];
    snprintf(detail, sizeof detail, "{\"request_id\":%lld,\"common_name\":\"%s\",\"names\":%zu}",
             (long long)r.id, names[0].text, n);
    if (store_order_update(s->st, &o, err) != 0 ||
        svc_audit(s, o.account_id, "order.reissue", "order", o.id, detail, err) != 0 ||
        store_commit(s->st, err) != 0)
        goto out;
    in_tx = false;
    /* Issue at once when nothing waits; otherwise the order says what it waits for. */
    if (!need.manager && !need.ev_contact) {
        cm_err ierr;
        if (svc_try_issue(s, o.account_id, o.id, &out->issued.certificate_id,
                                      &out->issued.chain_pem, &ierr) != 0)
            log_msg(LOG_WARN, "event=reissue_failed order=%lld code=%s", (long long)o.id,
                    ierr.code);
    }
    cm_order now_o;
    memset(&now_o, 0, sizeof now_o);
    if (store_order_get(s->st, o.account_id, o.id, &now_o, err) == 0) {
        str_copy(out->order_status, sizeof out->order_status, now_o.status);
        store_order_clear(&now_o);
    }
    out->issued.order_id = o.id;
    rc = 0;
out:
    if (in_tx)
        store_rollback(s->st);
    store_order_clear(&o);
    free(names);
    csr_free(csr);
    return rc;
}

int svc_reissue_issue(cm_svc *s, cm_order *o, int64_t *cert_id, char **chain_pem, cm_err *err)
{
    int rc = -1;
    const cm_product *p = product_find(o->product);
    cm_name *names = NULL, *old = NULL;
    size_t n = 0, n_old = 0, *removed = NULL, n_removed = 0;
    cm_cert_row cur, *all = NULL;
    size_t n_all = 0;
    cm_request req;
    cm_account acct;
    char *csr = NULL;
    const char **rm = NULL;
    if (p == NULL)
        return cm_err_set(err, "product_unknown", "unknown product %s", o->product);
    int64_t now = clock_now();
    if (svc_order_names(o, &names, &n, err) != 0 ||
        svc_current_cert(s, o->account_id, o->id, &cur, err) != 0 ||
        svc_cert_names(p, &cur, &old, &n_old, err) != 0 ||
        latest_reissue(s, o->account_id, o->id, &req, err) != 0 ||
        store_account_get(s->st, o->account_id, &acct, err) != 0)
        goto out;
    if (req.id == 0) {
        cm_err_set(err, "reissue_order_state", "order %lld has no reissue request",
                   (long long)o->id);
        goto out;
    }
    if ((csr = malloc(REQUEST_CSR_MAX)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    if (store_request_get_csr(s->st, o->account_id, req.id, csr, REQUEST_CSR_MAX, err) != 0)
        goto out;
    issue_spec sp = {.kind = "reissue",
                     .names = names,
                     .n_names = n,
                     .csr_pem = csr,
                     .hash = o->signature_hash,
                     .server_platform = o->server_platform,
                     .request_id = req.id,
                     .user_id = req.requester_id,
                     .origin = ORIGIN_MANUAL};
    if (svc_issue_cert(s, o, &sp, cert_id, chain_pem, err) != 0)
        goto out;
    /* R-O4: certificates carrying a name the reissue removed wait for revocation. */
    if (reissue_removed_names(old, n_old, names, n, &removed, &n_removed, err) != 0)
        goto out;
    if (n_removed > 0) {
        if ((rm = calloc(n_removed, sizeof *rm)) == NULL) {
            cm_err_set(err, "out_of_memory", "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n_removed; i++)
            rm[i] = old[removed[i]].text;
        if (store_cert_list_by_order(s->st, o->account_id, o->id, &all, &n_all, err) != 0)
            goto out;
        int64_t when = now + (int64_t)acct.reissue_revoke_delay_hours * 3600;
        size_t k = 0;
        for (size_t i = 0; i < n_all; i++) {
            if (all[i].id == *cert_id || strcmp(all[i].status, "issued") != 0 ||
                !cert_carries_any(all[i].names, rm, n_removed))
                continue;
            str_copy(all[i].status, sizeof all[i].status, "revocation_pending");
            all[i].revoke_after = when;
            if (store_cert_update_status(s->st, &all[i], err) != 0)
                goto out;
            char detail[160];
            snprintf(detail, sizeof detail, "{\"order_id\":%lld,\"revoke_after\":%lld}",
                     (long long)o->id, (long long)when);
            if (svc_audit(s, o->account_id, "certificate.revocation_pending", "certificate",
                          all[i].id, detail, err) != 0)
                goto out;
            all[k++] = all[i];
        }
        if (k > 0) {
            if (svc_notify_revocation_warning(s, o, all, k, when, err) != 0)
                goto out;
            cm_job j;
            memset(&j, 0, sizeof j);
            str_copy(j.kind, sizeof j.kind, "revoke_pending");
            str_copy(j.payload, sizeof j.payload, "{}");
            j.run_at = when;
            j.max_attempts = 10;
            if (store_job_enqueue(s->st, &j, err) != 0)
                goto out;
        }
    }
    str_copy(o->status, sizeof o->status, "issued");
    str_copy(o->csr, sizeof o->csr, csr);
    o->dcv_value[0] = '\0';
    o->dcv_value_expires = 0;
    o->updated_at = now;
    o->note[0] = '\0';
    rc = store_order_update(s->st, o, err);
out:
    free(names);
    free(old);
    free(removed);
    free(rm);
    free(all);
    free(csr);
    return rc;
}

int svc_reissue_list(cm_svc *s, int64_t order_id, cm_cert_row **out, size_t *n,
                     cm_request *pending, cm_err *err)
{
    cm_cert_row *all = NULL;
    size_t na = 0, k = 0;
    memset(pending, 0, sizeof *pending);
    if (svc_order_certificates(s, order_id, &all, &na, err) != 0)
        return -1;
    for (size_t i = 0; i < na; i++)
        if (strcmp(all[i].kind, "reissue") == 0)
            all[k++] = all[i];
    *out = all;
    *n = k;
    cm_request r;
    if (latest_reissue(s, s->caller.account_id, order_id, &r, err) != 0) {
        free(all);
        *out = NULL;
        return -1;
    }
    if (r.id != 0 && strcmp(r.status, "pending") == 0)
        *pending = r;
    return 0;
}

int svc_revoke_pending_due(cm_svc *s, int64_t now, size_t max, int *revoked, cm_err *err)
{
    cm_ref *due = NULL;
    size_t n = 0;
    cm_caller saved = s->caller;
    *revoked = 0;
    if (store_cert_revocations_due(s->st, now, max, &due, &n, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        cm_cert_row c;
        cm_err e;
        if (store_begin(s->st, &e) != 0) {
            *err = e;
            rc = -1;
            break;
        }
        /* Looked at again inside the transaction: another node may have revoked it. */
        if (store_cert_get(s->st, due[i].account_id, due[i].id, &c, &e) != 0) {
            store_rollback(s->st);
            continue;
        }
        bool still = strcmp(c.status, "revocation_pending") == 0 && c.revoke_after <= now;
        int64_t order_id = c.order_id;
        store_cert_clear(&c);
        size_t nr = 0;
        if (!still) {
            store_rollback(s->st);
            continue;
        }
        s->caller.account_id = due[i].account_id;
        if (svc_revoke_now(s, due[i].account_id, order_id, due[i].id,
                           revocation_reason_code("superseded"), &nr, &e) != 0 ||
            store_commit(s->st, &e) != 0) {
            store_rollback(s->st);
            log_msg(LOG_WARN, "event=revoke_pending_failed certificate=%lld code=%s",
                    (long long)due[i].id, e.code);
            *err = e;
            rc = -1;
            continue;
        }
        (*revoked)++;
    }
    s->caller = saved;
    free(due);
    return rc;
}
