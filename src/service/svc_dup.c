/* svc_dup.c — duplicate certificates (DESIGN.md R-D1 … R-D15): one order, many certificates,
 * each with its own key, issued at once and never touching the others. The rules are decided in
 * core/lifecycle.c; this file gathers the facts, signs outside the write transaction and
 * records inside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keypolicy.h"
#include "core/platform.h"
#include "core/validity.h"
#include "service/lifecycle.h"
#include "service/svc_internal.h"
#include "service/svc_org.h"
#include "util/clock.h"
#include "util/str.h"

void issued_clear(cm_issued *r)
{
    free(r->chain_pem);
    r->chain_pem = NULL;
}

int svc_current_cert(cm_svc *s, int64_t account_id, int64_t order_id, cm_cert_row *out,
                     cm_err *err)
{
    memset(out, 0, sizeof *out);
    return store_cert_current(s->st, account_id, order_id, out, err);
}

int svc_order_names(const cm_order *o, cm_name **out, size_t *n, cm_err *err)
{
    const cm_product *p = product_find(o->product);
    if (p == NULL)
        return cm_err_set(err, "product_unknown", "unknown product %s", o->product);
    if (o->n_names == 0)
        return cm_err_set(err, "names_required", "order %lld has no names", (long long)o->id);
    const char **texts = calloc(o->n_names, sizeof *texts);
    if (texts == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    for (size_t i = 1; i < o->n_names; i++)
        texts[i - 1] = o->names[i].name;
    int rc = svc_build_names(p, o->names[0].name, texts, o->n_names - 1, out, n, err);
    free(texts);
    return rc;
}

int svc_cert_names(const cm_product *p, const cm_cert_row *c, cm_name **out, size_t *n,
                   cm_err *err)
{
    /* At most CERT_MAX_NAMES names of at most 253 bytes each fit the row's 8 KiB list. */
    const char *texts[CERT_MAX_NAMES];
    char buf[sizeof c->names];
    size_t k = 0;
    str_copy(buf, sizeof buf, c->names);
    for (char *q = buf; *q != '\0' && k < CERT_MAX_NAMES;) {
        char *e = strchr(q, ',');
        texts[k++] = q;
        if (e == NULL)
            break;
        *e = '\0';
        q = e + 1;
    }
    if (k == 0)
        return cm_err_set(err, "names_required", "certificate %lld has no names",
                          (long long)c->id);
    /* The common name is listed among the SANs; build_names puts it first. */
    return svc_build_names(p, c->common_name, texts, k, out, n, err);
}

int svc_validation_current(cm_svc *s, const cm_order *o, const cm_name *names, size_t n,
                           int64_t now, char **what, cm_err *err)
{
    const cm_product *p = product_find(o->product);
    char buf[400];
    *what = NULL;
    if (p == NULL)
        return cm_err_set(err, "product_unknown", "unknown product %s", o->product);
    if (p->validation != VAL_DV) {
        cm_org_row org;
        if (store_org_get(s->st, o->account_id, o->org_id, &org, err) != 0)
            return -1;
        if (!svc_org_valid(&org, p->validation, now)) {
            snprintf(buf, sizeof buf, "the %s validation of organisation %lld",
                     p->validation == VAL_EV ? "EV" : "OV", (long long)o->org_id);
            *what = strdup(buf);
            return *what != NULL ? 0 : cm_err_set(err, "out_of_memory", "out of memory");
        }
    }
    if (p->validation == VAL_DV || !product_needs_dcv(p))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (names[i].type == NAME_IPV4 || names[i].type == NAME_IPV6)
            continue;
        bool covered = false;
        int64_t dom = 0;
        if (svc_domain_covers(s, o->account_id, names[i].text, now, &covered, &dom, err) != 0)
            return -1;
        if (!covered) {
            snprintf(buf, sizeof buf, "domain control validation of %s", names[i].text);
            *what = strdup(buf);
            return *what != NULL ? 0 : cm_err_set(err, "out_of_memory", "out of memory");
        }
    }
    return 0;
}

/* The latest end a certificate of `p` issued now may have. */
static int64_t cap_end(const cm_svc *s, const cm_product *p, int64_t now)
{
    int days = p->hierarchy == HIER_PUBLIC ? validity_public_max_days(now)
                                           : s->cfg->private_max_days;
    return validity_not_after(now, days);
}

/* R-D6: the key must not be on a certificate of the order nor on a revoked one of the account. */
static int check_key_fresh(cm_svc *s, int64_t account_id, int64_t order_id,
                           const unsigned char spki[32], cm_err *err)
{
    bool used = false;
    if (store_cert_spki_used(s->st, account_id, order_id, spki, &used, err) != 0)
        return -1;
    if (used)
        return cm_err_set(err, "duplicate_key_reused",
                          "this CSR's public key is already certified on this order or on a "
                          "revoked certificate of the account; each duplicate needs its own "
                          "key: generate a new key and CSR");
    return 0;
}

int svc_duplicate_create(cm_svc *s, int64_t order_id, const cm_dup_input *in, cm_issued *out,
                         cm_err *err)
{
    int rc = -1;
    cm_order o;
    cm_cert_row cur;
    cm_account acct;
    cm_name *cur_names = NULL, *req_names = NULL, *names = NULL;
    size_t n_cur = 0, n_req = 0, n = 0;
    char *stale = NULL;
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    unsigned char spki[32];
    bool in_tx = false;
    memset(&o, 0, sizeof o);
    memset(out, 0, sizeof *out);
    if (svc_require_issuer(s, err) != 0)
        return -1;
    if (in->csr == NULL || in->csr[0] == '\0')
        return cm_err_set(err, "field_required",
                          "certificate.csr is required: each duplicate has its own key (R-D6)");
    if (strlen(in->csr) >= sizeof o.csr)
        return cm_err_set(err, "csr_too_large", "the CSR is longer than %zu bytes",
                          sizeof o.csr - 1);
    if (in->server_platform != PLATFORM_OTHER && platform_find(in->server_platform) == NULL)
        return cm_err_set(err, "field_invalid",
                          "server_platform.id %d is unknown; GET /services/v2/server-platform "
                          "lists them", in->server_platform);
    if (svc_load_order(s, order_id, &o, err) != 0)
        return -1;
    const cm_product *p = product_find(o.product);
    int64_t now = clock_now();
    if (store_account_get(s->st, o.account_id, &acct, err) != 0)
        goto out;
    cm_dup_facts f = {.product = p,
                      .allow_duplicates = acct.allow_duplicates,
                      .skip_approval = acct.skip_approval,
                      .order_status = o.status,
                      .coverage_end = o.coverage_end,
                      .validation_current = true,
                      .requester_ev_contact = true,
                      .origin = in->origin,
                      .n_hosts = in->n_hosts ? in->n_hosts : 1,
                      .now = now};
    /* R-D1 … R-D3 first: their answers do not depend on names or validation. */
    if (dup_check(&f, err) != 0)
        goto out;
    if (svc_current_cert(s, o.account_id, o.id, &cur, err) != 0)
        goto out;
    if (svc_cert_names(p, &cur, &cur_names, &n_cur, err) != 0)
        goto out;
    if (in->common_name != NULL &&
        svc_build_names(p, in->common_name, in->dns_names, in->n_dns_names, &req_names, &n_req,
                        err) != 0)
        goto out;
    if (dup_names(p, cur_names, n_cur, req_names, n_req, &names, &n, err) != 0)
        goto out;
    if (svc_validation_current(s, &o, names, n, now, &stale, err) != 0)
        goto out;
    f.validation_current = stale == NULL;
    f.stale_what = stale;
    if (p->validation == VAL_EV) {
        cm_contact c;
        cm_err e2;
        f.requester_ev_contact = store_contact_get(s->st, o.account_id, o.org_id,
                                                   s->caller.user_id, &c, &e2) == 0 &&
                                 c.ev_approver;
    }
    if (dup_check(&f, err) != 0)
        goto out;
    if (sighash_check(strcmp(o.issuer, "rsa") != 0, in->signature_hash, err) != 0) {
        /* The order's issuing CA is fixed: a duplicate cannot choose another. */
        if (strcmp(o.issuer, "rsa") != 0 && in->signature_hash != NULL)
            cm_err_set(err, "hash_not_allowed",
                       "order %lld is signed by the ECDSA P-256 issuing CA, which signs with "
                       "sha256 only; ask for sha256 (or leave signature_hash out)",
                       (long long)o.id);
        goto out;
    }
    int64_t not_after = 0;
    if (dup_not_after(cur.not_after, o.coverage_end, cap_end(s, p, now), in->valid_till,
                      in->origin, now, &not_after, err) != 0)
        goto out;
    if (csr_parse((const unsigned char *)in->csr, strlen(in->csr), &csr, err) != 0)
        goto out;
    csr_spki_sha256(csr, spki);
    if (check_key_fresh(s, o.account_id, o.id, spki, err) != 0)
        goto out;
    /* CAA is checked again at every issuance (BR 3.2.2.8). */
    if (svc_check_caa_names(s, p, names, n, err) != 0)
        goto out;
    issue_spec sp = {.kind = "duplicate",
                     .names = names,
                     .n_names = n,
                     .csr_pem = in->csr,
                     .csr = csr,
                     .hash = in->signature_hash,
                     .server_platform = in->server_platform != PLATFORM_OTHER
                                            ? in->server_platform
                                            : cur.server_platform,
                     .not_after = not_after,
                     .user_id = s->caller.user_id,
                     .origin = in->origin};
    /* Sign with no lock held: concurrent duplicates sign in parallel. */
    if (svc_cert_sign(s, &o, &sp, &cert, spki, err) != 0)
        goto out;
    if (store_begin(s->st, err) != 0)
        goto out;
    in_tx = true;
    /* The state may have changed while signing: the order revoked, the key used by a
     * concurrent request. The signed certificate is then dropped, never returned. */
    cm_order now_o;
    memset(&now_o, 0, sizeof now_o);
    if (store_order_get(s->st, o.account_id, o.id, &now_o, err) != 0)
        goto out;
    f.order_status = now_o.status;
    int chk = dup_check(&f, err);
    store_order_clear(&now_o);
    if (chk != 0 || check_key_fresh(s, o.account_id, o.id, spki, err) != 0)
        goto out;
    if (svc_cert_record(s, &o, &sp, cert, spki, &out->certificate_id, &out->chain_pem,
                        &out->cert, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    in_tx = false;
    out->order_id = o.id;
    rc = 0;
out:
    if (in_tx)
        store_rollback(s->st);
    if (rc != 0)
        issued_clear(out);
    store_order_clear(&o);
    free(cur_names);
    free(req_names);
    free(names);
    free(stale);
    csr_free(csr);
    cert_free(cert);
    return rc;
}

int svc_duplicate_list(cm_svc *s, int64_t order_id, cm_cert_row **out, size_t *n, cm_err *err)
{
    cm_cert_row *all = NULL;
    size_t na = 0, k = 0;
    if (svc_order_certificates(s, order_id, &all, &na, err) != 0)
        return -1;
    for (size_t i = 0; i < na; i++)
        if (strcmp(all[i].kind, "duplicate") == 0)
            all[k++] = all[i];
    *out = all;
    *n = k;
    return 0;
}

/* Texts of an order's names, for renewal_matches. Caller frees. */
static const char **name_texts(const cm_order *o)
{
    const char **v = calloc(o->n_names ? o->n_names : 1, sizeof *v);
    for (size_t i = 0; v != NULL && i < o->n_names; i++)
        v[i] = o->names[i].name;
    return v;
}

int svc_latest_matching_renewal(cm_svc *s, const cm_order *o, int64_t *match, cm_err *err)
{
    int64_t *chain = NULL;
    size_t n_chain = 0;
    cm_order r;
    int rc = -1;
    memset(&r, 0, sizeof r);
    *match = 0;
    if (store_order_renewal_chain(s->st, o->account_id, o->id, &chain, &n_chain, err) != 0)
        return -1;
    const char **ta = name_texts(o);
    if (ta == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    for (size_t i = n_chain; i-- > 0 && *match == 0;) {
        store_order_clear(&r);
        if (store_order_get(s->st, o->account_id, chain[i], &r, err) != 0)
            goto out;
        const char **tb = name_texts(&r);
        if (tb == NULL) {
            cm_err_set(err, "out_of_memory", "out of memory");
            goto out;
        }
        if (strcmp(r.status, "issued") == 0 &&
            renewal_matches(o->product, o->org_id, ta, o->n_names, r.product, r.org_id, tb,
                            r.n_names))
            *match = r.id;
        free(tb);
    }
    rc = 0;
out:
    free(ta);
    free(chain);
    store_order_clear(&r);
    return rc;
}

int svc_duplicate_renew(cm_svc *s, int64_t cert_id, const char *csr, cm_origin origin,
                        cm_issued *out, int64_t *renewed_order, cm_err *err)
{
    cm_cert_row c;
    cm_order o;
    int64_t match = 0;
    int rc = -1;
    memset(&o, 0, sizeof o);
    memset(out, 0, sizeof *out);
    *renewed_order = 0;
    if (svc_cert_get(s, cert_id, &c, err) != 0)
        return -1;
    store_cert_clear(&c);
    if (svc_load_order(s, c.order_id, &o, err) != 0)
        return -1;
    /* The latest matching, issued renewal wins (R-D15). */
    if (svc_latest_matching_renewal(s, &o, &match, err) != 0)
        goto out;
    if (match != 0) {
        cm_dup_input in = {.csr = csr,
                           .server_platform = c.server_platform,
                           .origin = origin,
                           .n_hosts = 1};
        rc = svc_duplicate_create(s, match, &in, out, err);
        goto out;
    }
    /* No matching renewal: renew normally. When a renewal that does not match (other names,
     * product or organisation) already took the order's renewal link, the new order is a copy
     * of the duplicate's order without the link. */
    cm_order_result res;
    if (svc_order_renew_ex(s, o.id, csr, o.renewed_by_order_id == 0, &res, err) != 0)
        goto out;
    *renewed_order = res.order.id;
    out->order_id = res.order.id;
    out->certificate_id = res.certificate_id;
    out->chain_pem = res.chain_pem;
    res.chain_pem = NULL;
    order_result_clear(&res);
    rc = 0;
out:
    store_order_clear(&o);
    return rc;
}
