/* svc_cert.c — certificates: info, chain, downloads, and revocation (R-O6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/approval.h"
#include "core/platform.h"
#include "service/order.h"
#include "util/clock.h"
#include "util/str.h"

static const cm_role ANY_USER[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_STANDARD_USER,
                                   ROLE_LIMITED_USER, ROLE_NONE};

static const struct {
    int code;
    const char *name;
} reasons[] = {
    /* RFC 5280 §5.3.1 codes the Baseline Requirements allow (§7.2.2); never certificateHold. */
    {0, "unspecified"},           {1, "key_compromise"},        {3, "affiliation_changed"},
    {4, "superseded"},            {5, "cessation_of_operation"}, {9, "privilege_withdrawn"},
};

int revocation_reason_code(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return 0;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(reasons[i].name, name) == 0)
            return reasons[i].code;
    return -1;
}

const char *revocation_reason_name(int code)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code)
            return reasons[i].name;
    return "unspecified";
}

/* The certificate's order must be visible to the caller (limited users: their own). */
static int check_order_visible(cm_svc *s, int64_t order_id, cm_err *err)
{
    cm_order o;
    if (svc_order_get(s, order_id, &o, err) != 0)
        return -1;
    store_order_clear(&o);
    return 0;
}

int svc_cert_get(cm_svc *s, int64_t id, cm_cert_row *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    if (svc_require(s, false, ANY_USER, err) != 0 ||
        store_cert_get(s->st, s->caller.account_id, id, out, err) != 0)
        return -1;
    if (s->caller.role == ROLE_LIMITED_USER &&
        check_order_visible(s, out->order_id, err) != 0) {
        store_cert_clear(out);
        return cm_err_set(err, "certificate_not_found", "certificate %lld not found",
                          (long long)id);
    }
    return 0;
}

int svc_cert_chain(cm_svc *s, const cm_cert_row *c, cm_chain *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    out->leaf = c->der;
    out->leaf_len = c->der_len;
    out->issuer = pki_ca_der(s->pki, c->ca_id, &out->issuer_len);
    out->root = pki_root_der(s->pki, c->ca_id, &out->root_len);
    out->basename = c->common_name;
    if (out->issuer == NULL || out->root == NULL)
        return cm_err_set(err, "ca_unknown", "the issuing CA %s of this certificate is not "
                          "loaded", c->ca_id);
    return 0;
}

int svc_cert_download(cm_svc *s, int64_t id, const char *format, cm_blob *out, char *name,
                      size_t namesz, cm_err *err)
{
    cm_cert_row c;
    cm_chain ch;
    if (svc_cert_get(s, id, &c, err) != 0)
        return -1;
    if (format == NULL) {
        const cm_platform *p = platform_find(c.server_platform);
        format = p != NULL ? p->format : "pem_all";
    }
    int rc = -1;
    if (!format_known(format)) {
        cm_err_set(err, "format_unknown", "unknown format; use one of pem_all, pem_noroot, "
                   "pem_nointermediate, p7b, der, default, default_pem, apache");
        goto out;
    }
    if (svc_cert_chain(s, &c, &ch, err) != 0 || format_render(format, &ch, out, err) != 0)
        goto out;
    /* A file name from the certificate's name: letters, digits, '-' and '_' only. */
    char stem[300];
    size_t k = 0;
    for (const char *p = c.common_name; *p != '\0' && k + 1 < sizeof stem; p++)
        stem[k++] = (*p == '*') ? 's' : ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                                         *p == '-')
                                            ? *p
                                            : '_';
    stem[k] = '\0';
    snprintf(name, namesz, "%s_%lld.%s", k ? stem : "certificate", (long long)id, out->ext);
    rc = 0;
out:
    store_cert_clear(&c);
    return rc;
}

/* Marks one certificate revoked, its CRL dirty, and audits it. */
static int revoke_one(cm_svc *s, cm_cert_row *c, int reason, int64_t now, cm_err *err)
{
    if (strcmp(c->status, "revoked") == 0)
        return 0;
    str_copy(c->status, sizeof c->status, "revoked");
    c->revoked_at = now;
    c->revocation_reason = reason;
    c->revoke_after = 0;
    char detail[200];
    snprintf(detail, sizeof detail, "{\"order_id\":%lld,\"serial\":\"%s\",\"reason\":\"%s\"}",
             (long long)c->order_id, c->serial, revocation_reason_name(reason));
    if (store_cert_update_status(s->st, c, err) != 0 ||
        store_crl_mark_dirty(s->st, c->ca_id, err) != 0 ||
        svc_audit(s, c->account_id, "certificate.revoke", "certificate", c->id, detail, err) != 0)
        return -1;
    return 0;
}

int svc_revoke_now(cm_svc *s, int64_t account_id, int64_t order_id, int64_t cert_id, int reason,
                   size_t *n_revoked, cm_err *err)
{
    cm_cert_row *list = NULL;
    size_t n = 0;
    int64_t now = clock_now();
    *n_revoked = 0;
    if (store_cert_list_by_order(s->st, account_id, order_id, &list, &n, err) != 0)
        return -1;
    size_t still_valid = 0;
    int rc = -1;
    bool found = cert_id == 0;
    for (size_t i = 0; i < n; i++) {
        if (cert_id == 0 || list[i].id == cert_id) {
            found = true;
            if (strcmp(list[i].status, "revoked") != 0) {
                if (revoke_one(s, &list[i], reason, now, err) != 0)
                    goto out;
                (*n_revoked)++;
            }
        } else if (strcmp(list[i].status, "revoked") != 0) {
            still_valid++;
        }
    }
    if (!found) {
        cm_err_set(err, "certificate_not_found", "certificate %lld not found",
                   (long long)cert_id);
        goto out;
    }
    /* Revoking the order, or its last valid certificate, revokes the order. */
    if (cert_id == 0 || still_valid == 0) {
        cm_order o;
        memset(&o, 0, sizeof o);
        if (store_order_get(s->st, account_id, order_id, &o, err) != 0)
            goto out;
        str_copy(o.status, sizeof o.status, "revoked");
        o.updated_at = now;
        int u = store_order_update(s->st, &o, err);
        store_order_clear(&o);
        if (u != 0 || svc_audit(s, account_id, "order.revoke", "order", order_id, NULL, err) != 0)
            goto out;
    }
    /* The CRLs are re-signed within a minute: a refresh job now (one at a time). */
    cm_job j;
    memset(&j, 0, sizeof j);
    str_copy(j.kind, sizeof j.kind, "crl_refresh");
    str_copy(j.payload, sizeof j.payload, "{}");
    str_copy(j.unique_key, sizeof j.unique_key, "crl_refresh");
    j.run_at = now;
    j.max_attempts = 10;
    if (store_job_enqueue(s->st, &j, err) != 0)
        goto out;
    rc = 0;
out:
    free(list);
    return rc;
}

int svc_revoke(cm_svc *s, int64_t order_id, int64_t cert_id, const char *reason,
               const char *comments, cm_revoke_result *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    if (svc_require(s, false, ANY_USER, err) != 0)
        return -1;
    int code = revocation_reason_code(reason);
    if (code < 0)
        return cm_err_set(err, "field_invalid",
                          "revocation_reason must be one of unspecified, key_compromise, "
                          "affiliation_changed, superseded, cessation_of_operation, "
                          "privilege_withdrawn");
    if (store_begin(s->st, err) != 0)
        return -1;
    if (cert_id != 0) {
        cm_cert_row c;
        if (svc_cert_get(s, cert_id, &c, err) != 0)
            goto fail;
        order_id = c.order_id;
        bool revoked = strcmp(c.status, "revoked") == 0;
        store_cert_clear(&c);
        if (revoked) {
            cm_err_set(err, "certificate_state", "certificate %lld is already revoked",
                       (long long)cert_id);
            goto fail;
        }
    }
    cm_order o;
    if (svc_order_get(s, order_id, &o, err) != 0)
        goto fail;
    bool issued = strcmp(o.status, "issued") == 0 || strcmp(o.status, "reissue_pending") == 0;
    int64_t account_id = o.account_id;
    store_order_clear(&o);
    if (!issued && cert_id == 0) {
        cm_err_set(err, "order_state", "order %lld has no issued certificate to revoke; cancel "
                   "it instead", (long long)order_id);
        goto fail;
    }
    if (!revocation_needs_approval(s->caller.role)) {
        if (svc_revoke_now(s, account_id, order_id, cert_id, code, &out->n_revoked, err) != 0)
            goto fail;
        out->revoked = true;
    } else {
        cm_request r;
        memset(&r, 0, sizeof r);
        r.account_id = account_id;
        r.order_id = order_id;
        str_copy(r.type, sizeof r.type, "revoke");
        str_copy(r.status, sizeof r.status, "pending");
        r.requester_id = s->caller.user_id;
        r.certificate_id = cert_id;
        r.revocation_reason = code;
        if (comments != NULL)
            str_copy(r.comments, sizeof r.comments, comments);
        r.created_at = clock_now();
        if (store_request_insert(s->st, &r, err) != 0 ||
            svc_audit(s, account_id, "revocation.request", "request", r.id, NULL, err) != 0)
            goto fail;
        out->request_id = r.id;
    }
    if (store_commit(s->st, err) != 0)
        goto fail;
    return 0;
fail:
    store_rollback(s->st);
    return -1;
}

int svc_expire(cm_svc *s, int64_t now, cm_err *err)
{
    int64_t nc = 0, no = 0;
    if (store_begin(s->st, err) != 0)
        return -1;
    if (store_expire(s->st, now, &nc, &no, err) != 0)
        goto fail;
    if (nc + no > 0) {
        char detail[120];
        snprintf(detail, sizeof detail, "{\"certificates\":%lld,\"orders\":%lld}",
                 (long long)nc, (long long)no);
        if (svc_audit(s, 0, "expiry.mark", "certificate", 0, detail, err) != 0)
            goto fail;
    }
    if (store_commit(s->st, err) == 0)
        return 0;
fail:
    store_rollback(s->st);
    return -1;
}
