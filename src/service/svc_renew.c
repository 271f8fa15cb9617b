/* svc_renew.c — renewals (DESIGN.md R-O5): the renewal window and links between old and new
 * orders, renewing an order as its ordering user, the auto-renew job and the expiry reminders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/lifecycle.h"
#include "service/svc_internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

int svc_renewal_allowed(cm_svc *s, const cm_order *old, const cm_product *new_product,
                        cm_err *err)
{
    cm_account acct;
    cm_cert_row cur;
    const cm_product *op = product_find(old->product);
    if (op == NULL || new_product == NULL || op->validation != new_product->validation ||
        op->hierarchy != new_product->hierarchy)
        return cm_err_set(err, "renewal_product_mismatch",
                          "a renewal keeps the validation type and hierarchy of order %lld (%s); "
                          "place a new order for another kind of certificate",
                          (long long)old->id, old->product);
    if (store_account_get(s->st, old->account_id, &acct, err) != 0)
        return -1;
    int64_t end = 0;
    cm_err e;
    if (svc_current_cert(s, old->account_id, old->id, &cur, &e) == 0)
        end = cur.not_after;
    else if (strcmp(e.code, "certificate_not_found") != 0) {
        *err = e;
        return -1;
    }
    return renewal_check(old->status, old->renewed_by_order_id, end, acct.renewal_window_days,
                         clock_now(), err);
}

int svc_renewal_unlink(cm_svc *s, const cm_order *o, cm_err *err)
{
    cm_order old;
    if (o->renewal_of_order_id <= 0)
        return 0;
    memset(&old, 0, sizeof old);
    if (store_order_get(s->st, o->account_id, o->renewal_of_order_id, &old, err) != 0)
        return strcmp(err->code, "order_not_found") == 0 ? 0 : -1;
    int rc = 0;
    if (old.renewed_by_order_id == o->id) {
        old.renewed_by_order_id = 0;
        old.updated_at = clock_now();
        char detail[64];
        snprintf(detail, sizeof detail, "{\"renewal_order_id\":%lld}", (long long)o->id);
        rc = store_order_update(s->st, &old, err) != 0 ||
                     svc_audit(s, o->account_id, "order.renewal_dropped", "order", old.id, detail,
                               err) != 0
                 ? -1
                 : 0;
    }
    store_order_clear(&old);
    return rc;
}

int svc_order_renew(cm_svc *s, int64_t order_id, const char *csr, cm_order_result *out,
                    cm_err *err)
{
    return svc_order_renew_ex(s, order_id, csr, true, out, err);
}

int svc_order_renew_ex(cm_svc *s, int64_t order_id, const char *csr, bool link,
                       cm_order_result *out, cm_err *err)
{
    cm_order old;
    memset(&old, 0, sizeof old);
    memset(out, 0, sizeof *out);
    if (svc_load_order(s, order_id, &old, err) != 0)
        return -1;
    const char **sans = calloc(old.n_names ? old.n_names : 1, sizeof *sans);
    if (sans == NULL) {
        store_order_clear(&old);
        return cm_err_set(err, "out_of_memory", "out of memory");
    }
    for (size_t i = 1; i < old.n_names; i++)
        sans[i - 1] = old.names[i].name;
    cm_order_input in = {.product = old.product,
                         .common_name = old.common_name,
                         .dns_names = sans,
                         .n_dns_names = old.n_names ? old.n_names - 1 : 0,
                         .csr = csr != NULL ? csr : old.csr,
                         .server_platform = old.server_platform,
                         .signature_hash = old.signature_hash[0] ? old.signature_hash : NULL,
                         .issuer = old.issuer[0] ? old.issuer : NULL,
                         .org_id = old.org_id,
                         .validity_years = old.validity_years,
                         .auto_renew = old.auto_renew,
                         .renewal_of_order_id = link ? old.id : 0,
                         .dcv_method = old.dcv_method[0] ? old.dcv_method : NULL};
    int rc = svc_order_create(s, &in, out, err);
    free(sans);
    store_order_clear(&old);
    return rc;
}

/* Acts as the ordering user of order `ref` (auto-renew runs "under the ordering user"). */
static int become_user(cm_svc *s, int64_t account_id, int64_t user_id, cm_err *err)
{
    cm_user u;
    if (store_user_get(s->st, account_id, user_id, &u, err) != 0)
        return -1;
    if (strcmp(u.status, "active") != 0)
        return cm_err_set(err, "user_state", "the ordering user %lld is disabled",
                          (long long)user_id);
    memset(&s->caller, 0, sizeof s->caller);
    s->caller.account_id = account_id;
    s->caller.user_id = user_id;
    s->caller.role = role_parse(u.role);
    return 0;
}

/* Records the attempt (and, on failure, the reason in the order's note) and mails the contact. */
static void auto_renew_done(cm_svc *s, int64_t account_id, int64_t order_id, int64_t new_id,
                            const cm_err *why, int64_t now)
{
    cm_err e;
    cm_order o;
    memset(&o, 0, sizeof o);
    if (store_begin(s->st, &e) != 0)
        return;
    if (store_order_get(s->st, account_id, order_id, &o, &e) != 0 ||
        store_order_auto_renew_tried(s->st, account_id, order_id, now, &e) != 0)
        goto fail;
    if (why != NULL) {
        /* A long reason is cut: the note is for people, the audit keeps the code. */
        if (snprintf(o.note, sizeof o.note, "auto-renew failed: %s: %.400s", why->code,
                     why->msg) < 0)
            o.note[0] = '\0';
        if (store_order_update(s->st, &o, &e) != 0)
            goto fail;
    }
    char detail[200];
    snprintf(detail, sizeof detail, "{\"renewal_order_id\":%lld,\"code\":\"%s\"}",
             (long long)new_id, why != NULL ? why->code : "");
    if (svc_notify_auto_renew(s, &o, new_id, why, &e) != 0 ||
        svc_audit(s, account_id, why ? "order.auto_renew_failed" : "order.auto_renew", "order",
                  order_id, detail, &e) != 0 ||
        store_commit(s->st, &e) != 0)
        goto fail;
    store_order_clear(&o);
    return;
fail:
    log_msg(LOG_WARN, "event=auto_renew_record_failed order=%lld code=%s", (long long)order_id,
            e.code);
    store_order_clear(&o);
    store_rollback(s->st);
}

static int auto_renew_duplicates(cm_svc *s, int64_t now, size_t max, int *renewed, cm_err *err);

int svc_auto_renew_due(cm_svc *s, int64_t now, size_t max, int *renewed, cm_err *err)
{
    cm_ref *due = NULL;
    size_t n = 0;
    cm_caller saved = s->caller;
    *renewed = 0;
    if (store_orders_auto_renew_due(s->st, now, max, &due, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        cm_order o;
        cm_err e;
        memset(&o, 0, sizeof o);
        if (store_order_get(s->st, due[i].account_id, due[i].id, &o, &e) != 0)
            continue;
        int64_t user = o.user_id;
        store_order_clear(&o);
        cm_order_result res;
        memset(&res, 0, sizeof res);
        int rc = become_user(s, due[i].account_id, user, &e);
        if (rc == 0)
            rc = svc_order_renew(s, due[i].id, NULL, &res, &e);
        int64_t new_id = rc == 0 ? res.order.id : 0;
        order_result_clear(&res);
        /* Recorded as the ordering user (when that user could act). */
        auto_renew_done(s, due[i].account_id, due[i].id, new_id, rc == 0 ? NULL : &e, now);
        s->caller = saved;
        log_msg(rc == 0 ? LOG_INFO : LOG_WARN, "event=auto_renew order=%lld renewal=%lld code=%s",
                (long long)due[i].id, (long long)new_id, rc == 0 ? "ok" : e.code);
        if (rc == 0)
            (*renewed)++;
    }
    free(due);
    return auto_renew_duplicates(s, now, max, renewed, err);
}

/* R-D15 for auto-renew: a duplicate of an auto-renewed order is replaced by a duplicate of the
 * latest matching renewal, made from the duplicate's own CSR (its key never left its server; a
 * renewal is another order, so R-D6 allows the key there). When no matching renewal is issued
 * yet it waits (the order's own auto-renew places it); a refusal (R-D13 without skip_approval,
 * R-D4 …) is logged and the expiry reminders tell the contact. */
static int auto_renew_duplicates(cm_svc *s, int64_t now, size_t max, int *renewed, cm_err *err)
{
    cm_ref *due = NULL;
    size_t n = 0;
    cm_caller saved = s->caller;
    char *csr = malloc(REQUEST_CSR_MAX);
    if (csr == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    if (store_dups_auto_renew_due(s->st, now, max, &due, &n, err) != 0) {
        free(csr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        cm_cert_row c;
        cm_order o;
        cm_err e;
        cm_issued res;
        int64_t match = 0;
        memset(&o, 0, sizeof o);
        memset(&c, 0, sizeof c);
        memset(&res, 0, sizeof res);
        int rc = -1;
        if (store_cert_get(s->st, due[i].account_id, due[i].id, &c, &e) != 0 ||
            store_order_get(s->st, due[i].account_id, c.order_id, &o, &e) != 0 ||
            store_cert_get_csr(s->st, due[i].account_id, due[i].id, csr, REQUEST_CSR_MAX,
                               &e) != 0 ||
            become_user(s, due[i].account_id, o.user_id, &e) != 0 ||
            svc_latest_matching_renewal(s, &o, &match, &e) != 0)
            goto next;
        if (match == 0) {
            rc = 0; /* not renewed yet, or not by a matching order: wait */
            goto next;
        }
        cm_dup_input in = {.csr = csr,
                           .server_platform = c.server_platform,
                           .origin = ORIGIN_AUTO_RENEW,
                           .n_hosts = 1};
        rc = svc_duplicate_create(s, match, &in, &res, &e);
    next:
        if (rc == 0 && match != 0) {
            (*renewed)++;
            log_msg(LOG_INFO, "event=auto_renew_duplicate certificate=%lld order=%lld new=%lld",
                    (long long)due[i].id, (long long)match, (long long)res.certificate_id);
        } else if (rc != 0) {
            log_msg(LOG_WARN, "event=auto_renew_duplicate certificate=%lld code=%s",
                    (long long)due[i].id, e.code);
        }
        /* Tried: again in a day when nothing replaced it. */
        if (match != 0 || rc != 0) {
            cm_err e2;
            if (store_begin(s->st, &e2) != 0 ||
                store_cert_renewed(s->st, due[i].account_id, due[i].id,
                                   rc == 0 ? res.certificate_id : 0, now, &e2) != 0 ||
                store_commit(s->st, &e2) != 0)
                store_rollback(s->st);
        }
        issued_clear(&res);
        store_cert_clear(&c);
        store_order_clear(&o);
        s->caller = saved;
    }
    free(due);
    free(csr);
    return 0;
}

int svc_expiry_remind(cm_svc *s, int64_t now, size_t max, int *sent, cm_err *err)
{
    cm_ref *due = NULL;
    int *stage = NULL;
    size_t n = 0;
    *sent = 0;
    if (store_certs_reminder_due(s->st, now, max, &due, &stage, &n, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        cm_cert_row c;
        cm_order o;
        cm_err e;
        memset(&o, 0, sizeof o);
        memset(&c, 0, sizeof c);
        if (store_begin(s->st, &e) != 0) {
            *err = e;
            rc = -1;
            break;
        }
        if (store_cert_get(s->st, due[i].account_id, due[i].id, &c, &e) != 0 ||
            store_order_get(s->st, due[i].account_id, c.order_id, &o, &e) != 0 ||
            svc_notify_expiry(s, &o, &c, stage[i], &e) != 0 ||
            store_cert_set_reminded(s->st, due[i].account_id, due[i].id, stage[i], &e) != 0 ||
            store_commit(s->st, &e) != 0) {
            store_rollback(s->st);
            log_msg(LOG_WARN, "event=expiry_remind_failed certificate=%lld code=%s",
                    (long long)due[i].id, e.code);
        } else {
            (*sent)++;
        }
        store_cert_clear(&c);
        store_order_clear(&o);
    }
    free(due);
    free(stage);
    return rc;
}
