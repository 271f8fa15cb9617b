/* svc_order.c — orders: placing them (R-O2), their DCV for DV products (R-O3), cancelling
 * (R-O7), and issuance once every validation is current. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/approval.h"
#include "core/platform.h"
#include "core/registrable.h"
#include "core/validity.h"
#include "net/dcv.h"
#include "net/mail.h"
#include "service/lifecycle.h"
#include "service/order.h"
#include "service/svc_internal.h"
#include "service/svc_domain.h"
#include "service/svc_org.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

#define YEAR_SECONDS (365 * 86400)

void order_result_clear(cm_order_result *r)
{
    store_order_clear(&r->order);
    free(r->chain_pem);
    r->chain_pem = NULL;
}

/* Loads an order of the caller's account; limited users see only their own. */
int svc_require_issuer(cm_svc *s, cm_err *err)
{
    if (svc_require(s, false, SVC_ANY_USER, err) != 0)
        return -1;
    if (s->pki == NULL || !pki_signer_healthy(s->pki))
        return cm_err_set(err, "signer_unavailable",
                          "the signer process is down: certmint cannot issue now; the operator "
                          "must restart `certmint serve`");
    return 0;
}

int svc_load_order(cm_svc *s, int64_t id, cm_order *o, cm_err *err)
{
    memset(o, 0, sizeof *o);
    if (store_order_get(s->st, s->caller.account_id, id, o, err) != 0)
        return -1;
    if (s->caller.role == ROLE_LIMITED_USER && o->user_id != s->caller.user_id) {
        store_order_clear(o);
        return cm_err_set(err, "order_not_found", "order %lld not found", (long long)id);
    }
    return 0;
}

const cm_role SVC_ANY_USER[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_STANDARD_USER,
                                ROLE_LIMITED_USER, ROLE_NONE};

/* Normalises the common name and SANs of an order: the common name first, then the other
 * names in the order given, each once (a SAN equal to the common name is skipped). *out is
 * malloc'd, caller frees. */
int svc_build_names(const cm_product *p, const char *cn, const char *const *dns, size_t n,
                    cm_name **out, size_t *nout, cm_err *err)
{
    if (n + 1 > CERT_MAX_NAMES)
        return cm_err_set(err, "too_many_names", "an order carries at most %d names",
                          CERT_MAX_NAMES);
    cm_name_policy pol = product_name_policy(p);
    cm_name *v = calloc(n + 1, sizeof *v);
    if (v == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    size_t k = 0;
    if (name_normalize(cn, &pol, &v[k], err) != 0) {
        free(v);
        return cm_err_prefix(err, "common_name");
    }
    k++;
    for (size_t i = 0; i < n; i++) {
        if (name_normalize(dns[i], &pol, &v[k], err) != 0) {
            free(v);
            return cm_err_prefix(err, "dns_names[%zu]", i);
        }
        if (strcmp(v[k].text, v[0].text) == 0)
            continue;
        k++;
    }
    if (product_check_names(p, v, k, 0, err) != 0) {
        free(v);
        return -1;
    }
    *out = v;
    *nout = k;
    return 0;
}

/* The base domain DCV looks at for a name: the registrable domain (validating it covers every
 * name under it, BR 3.2.2.4 "Authorization Domain Name"). */
static int dcv_base(const char *name, char *out, size_t outsz, cm_err *err)
{
    return name_registrable(name, out, outsz, err);
}

/* True when `name` is an IP address (no CAA, no DCV by these methods). */
bool svc_is_ip(const char *name)
{
    return strchr(name, ':') != NULL || (name[0] >= '0' && name[0] <= '9' &&
                                         strspn(name, "0123456789.") == strlen(name));
}

/* BR §6.1.1.3: a key revoked for compromise is never certified again, in any account. */
int svc_check_key_not_compromised(cm_svc *s, const cm_csr *csr, cm_err *err)
{
    unsigned char spki[32];
    bool bad = false;
    csr_spki_sha256(csr, spki);
    if (store_cert_spki_compromised(s->st, spki, &bad, err) != 0)
        return -1;
    if (bad)
        return cm_err_set(err, "key_compromised",
                          "this public key belongs to a certificate revoked for key compromise; "
                          "generate a new key and CSR");
    return 0;
}

/* CAA for every DNS name of a public product (BR 3.2.2.8). Network: never in a transaction. */
int svc_check_caa(cm_svc *s, const cm_product *p, const cm_order_name *names, size_t n,
                  cm_err *err)
{
    if (p->hierarchy != HIER_PUBLIC)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *nm = names[i].name;
        if (svc_is_ip(nm))
            continue;
        bool wild = strncmp(nm, "*.", 2) == 0;
        if (caa_check(s->cfg, wild ? nm + 2 : nm, wild, err) != 0)
            return -1;
    }
    return 0;
}

/* The statuses in which an order waits for validation before a certificate is issued: a new
 * order (pending) and a reissue (reissue_pending). */
static bool issuable_status(const char *st)
{
    return strcmp(st, "pending") == 0 || strcmp(st, "reissue_pending") == 0;
}

int svc_check_caa_names(cm_svc *s, const cm_product *p, const cm_name *names, size_t n,
                        cm_err *err)
{
    cm_order_name *v = calloc(n ? n : 1, sizeof *v);
    if (v == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    for (size_t i = 0; i < n; i++)
        str_copy(v[i].name, sizeof v[i].name, names[i].text);
    int rc = svc_check_caa(s, p, v, n, err);
    free(v);
    return rc;
}

/* What an order still waits for; NULL when nothing (issuable). Malloc'd text. */
static char *waiting_for(cm_svc *s, const cm_order *o, cm_err *err)
{
    const cm_product *p = product_find(o->product);
    int64_t now = clock_now();
    char buf[1024];
    if (p == NULL)
        return strdup("an unknown product");
    if (strcmp(o->status, "reissue_pending") == 0) {
        cm_request *open = NULL;
        size_t nopen = 0;
        if (svc_order_open_requests(s, o->account_id, o->id, &open, &nopen, err) != 0)
            return strdup("its requests, which cannot be read");
        bool ev = false;
        for (size_t i = 0; i < nopen; i++)
            ev = ev || strcmp(open[i].type, "ev_approval") == 0;
        free(open);
        if (nopen > 0)
            return strdup(ev ? "a verified EV contact's approval of its reissue"
                             : "approval of its reissue request");
    }
    if (p->validation != VAL_DV) {
        cm_org_row org;
        if (store_org_get(s->st, o->account_id, o->org_id, &org, err) != 0)
            return strdup("its organisation, which cannot be read");
        if (!svc_org_valid(&org, p->validation, now)) {
            snprintf(buf, sizeof buf, "%s validation of organisation %lld by the operator",
                     p->validation == VAL_EV ? "EV" : "OV", (long long)o->org_id);
            return strdup(buf);
        }
    }
    for (size_t i = 0; i < o->n_names && product_needs_dcv(p); i++) {
        const char *nm = o->names[i].name;
        if (p->validation == VAL_DV) {
            if (strcmp(o->names[i].dcv_status, "valid") != 0) {
                if (strcmp(o->dcv_method, "email") == 0)
                    snprintf(buf, sizeof buf, "domain control validation of %s: the code mailed "
                             "to the domain's administrative addresses, confirmed at POST "
                             "/services/v2/dcv/email/confirm", nm);
                else
                    snprintf(buf, sizeof buf, "domain control validation of %s (PUT "
                             "/order/certificate/%lld/check-dcv once the random value is "
                             "published)", nm, (long long)o->id);
                return strdup(buf);
            }
            continue;
        }
        if (svc_is_ip(nm))
            continue;
        bool covered = false;
        int64_t dom = 0;
        if (svc_domain_covers(s, o->account_id, nm, now, &covered, &dom, err) != 0)
            return strdup("domain validation, which cannot be read");
        if (!covered) {
            snprintf(buf, sizeof buf, "domain control validation of a domain covering %s", nm);
            return strdup(buf);
        }
    }
    return NULL;
}

char *svc_order_waiting_for(cm_svc *s, const cm_order *o)
{
    cm_err err;
    if (!issuable_status(o->status) && strcmp(o->status, "needs_approval") != 0)
        return NULL;
    if (strcmp(o->status, "needs_approval") == 0)
        return strdup("approval of its request");
    return waiting_for(s, o, &err);
}

int svc_cert_sign(cm_svc *s, const cm_order *o, const issue_spec *sp, cm_cert **out,
                  unsigned char spki[32], cm_err *err)
{
    int rc = -1;
    const cm_product *p = product_find(o->product);
    cm_csr *csr = NULL;
    cm_org_row org;
    *out = NULL;
    if (p == NULL)
        return cm_err_set(err, "product_unknown", "unknown product %s", o->product);
    int64_t now = clock_now();
    if (p->validation != VAL_DV &&
        store_org_get(s->st, o->account_id, o->org_id, &org, err) != 0)
        goto out;
    const cm_csr *use = sp->csr;
    if (use == NULL) {
        if (csr_parse((const unsigned char *)sp->csr_pem, strlen(sp->csr_pem), &csr, err) != 0)
            goto out;
        use = csr;
    }
    if (svc_check_key_not_compromised(s, use, err) != 0)
        goto out;
    const char *hash = (sp->hash != NULL && sp->hash[0] != '\0') ? sp->hash : NULL;
    cm_issue_req req = {
        .product = p,
        .names = sp->names,
        .n_names = sp->n_names,
        .cn_index = 0,
        .org = p->validation != VAL_DV ? &org.org : NULL,
        .issuer = strcmp(o->issuer, "rsa") == 0 ? ISSUER_RSA : ISSUER_ECDSA,
        .hash = hash,
        .not_after = sp->not_after,
    };
    /* By default the certificate ends at the product's default or the order's coverage, the
     * earlier. */
    long cap_days = p->hierarchy == HIER_PUBLIC ? validity_public_default_days(now)
                                                : s->cfg->private_max_days;
    if (req.not_after == 0 && now + (int64_t)cap_days * 86400 > o->coverage_end)
        req.not_after = o->coverage_end;
    if (cert_issue(s->pki, use, &req, out, err) != 0)
        goto out;
    csr_spki_sha256(use, spki);
    rc = 0;
out:
    csr_free(csr);
    return rc;
}

int svc_cert_record(cm_svc *s, const cm_order *o, const issue_spec *sp, const cm_cert *cert,
                    const unsigned char spki[32], int64_t *cert_id, char **chain_pem,
                    cm_cert_row *row_out, cm_err *err)
{
    int rc = -1;
    const cm_name *names = sp->names;
    size_t n = sp->n_names;
    cm_cert_row row;
    char *pem = NULL;
    memset(&row, 0, sizeof row);
    int64_t now = clock_now();
    size_t der_len = 0;
    const unsigned char *der = cert_der(cert, &der_len);
    const char *hash = (sp->hash != NULL && sp->hash[0] != '\0') ? sp->hash : "sha256";
    row.account_id = o->account_id;
    row.order_id = o->id;
    str_copy(row.kind, sizeof row.kind, sp->kind);
    str_copy(row.status, sizeof row.status, "issued");
    str_copy(row.ca_id, sizeof row.ca_id, cert_issuer_id(cert));
    cert_serial_hex(cert, row.serial, sizeof row.serial);
    memcpy(row.spki_sha256, spki, sizeof row.spki_sha256);
    str_copy(row.common_name, sizeof row.common_name, names[0].text);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(row.names + used, sizeof row.names - used, "%s%s", i ? "," : "",
                         names[i].text);
        if (w < 0 || (size_t)w >= sizeof row.names - used)
            break;
        used += (size_t)w;
    }
    row.not_before = cert_not_before(cert);
    row.not_after = cert_not_after(cert);
    row.server_platform = sp->server_platform;
    str_copy(row.signature_hash, sizeof row.signature_hash, hash);
    row.request_id = sp->request_id;
    row.user_id = sp->user_id;
    row.created_at = now;
    str_copy(row.origin, sizeof row.origin, origin_name(sp->origin));
    row.csr = sp->csr_pem;
    if ((row.der = malloc(der_len)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    memcpy(row.der, der, der_len);
    row.der_len = der_len;
    if (store_cert_insert(s->st, &row, err) != 0)
        goto out;
    char detail[512];
    snprintf(detail, sizeof detail,
             "{\"order_id\":%lld,\"kind\":\"%s\",\"serial\":\"%s\",\"ca\":\"%s\","
             "\"origin\":\"%s\"}",
             (long long)o->id, sp->kind, row.serial, row.ca_id, row.origin);
    if (svc_audit(s, o->account_id, "certificate.issue", "certificate", row.id, detail, err) != 0)
        goto out;
    /* The chain the answer and the mail carry: leaf then issuing CA, PEM. */
    cm_chain ch;
    if (svc_cert_chain(s, &row, &ch, err) != 0)
        goto out;
    ch.leaf = der;
    ch.leaf_len = der_len;
    cm_blob blob = {0};
    if (format_render("pem_noroot", &ch, &blob, err) != 0)
        goto out;
    pem = malloc(blob.len + 1);
    if (pem == NULL) {
        blob_free(&blob);
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    memcpy(pem, blob.data, blob.len);
    pem[blob.len] = '\0';
    blob_free(&blob);
    if (svc_notify_issued(s, o, &row, pem, err) != 0)
        goto out;
    *cert_id = row.id;
    if (chain_pem != NULL) {
        *chain_pem = pem;
        pem = NULL;
    }
    if (row_out != NULL) {
        *row_out = row;
        row_out->der = NULL;
        row_out->der_len = 0;
    }
    rc = 0;
out:
    free(pem);
    store_cert_clear(&row);
    return rc;
}

int svc_issue_cert(cm_svc *s, const cm_order *o, const issue_spec *sp, int64_t *cert_id,
                   char **chain_pem, cm_err *err)
{
    cm_cert *cert = NULL;
    unsigned char spki[32];
    int rc = svc_cert_sign(s, o, sp, &cert, spki, err);
    if (rc == 0)
        rc = svc_cert_record(s, o, sp, cert, spki, cert_id, chain_pem, NULL, err);
    cert_free(cert);
    return rc;
}

/* Issues the original certificate of order `o` (pending, every validation current) inside the
 * open transaction, from the order's names, CSR, hash and platform, and marks the order issued
 * (its coverage starts now). */
static int issue_order(cm_svc *s, cm_order *o, int64_t *cert_id, char **chain_pem, cm_err *err)
{
    const cm_product *p = product_find(o->product);
    cm_name *names = NULL;
    size_t n = 0;
    int64_t now = clock_now();
    if (p == NULL)
        return cm_err_set(err, "product_unknown", "unknown product %s", o->product);
    const char **texts = calloc(o->n_names ? o->n_names : 1, sizeof *texts);
    if (texts == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    for (size_t i = 1; i < o->n_names; i++)
        texts[i - 1] = o->names[i].name;
    int rc = svc_build_names(p, o->names[0].name, texts, o->n_names - 1, &names, &n, err);
    free(texts);
    if (rc != 0)
        return -1;
    if (o->coverage_end == 0)
        o->coverage_end = now + (int64_t)o->validity_years * YEAR_SECONDS;
    issue_spec sp = {.kind = "original", .names = names, .n_names = n, .csr_pem = o->csr,
                     .hash = o->signature_hash, .server_platform = o->server_platform,
                     .user_id = o->user_id};
    rc = svc_issue_cert(s, o, &sp, cert_id, chain_pem, err);
    free(names);
    if (rc != 0)
        return -1;
    str_copy(o->status, sizeof o->status, "issued");
    o->issued_at = now;
    o->updated_at = now;
    o->note[0] = '\0';
    return store_order_update(s->st, o, err);
}

/* Sets the order's note (why issuance is blocked) in its own transaction. */
static void note_blocked(cm_svc *s, int64_t account_id, int64_t order_id, const cm_err *why)
{
    cm_err e;
    cm_order o;
    memset(&o, 0, sizeof o);
    if (store_begin(s->st, &e) != 0)
        return;
    if (store_order_get(s->st, account_id, order_id, &o, &e) == 0) {
        /* A long reason is cut: the note is for people, the audit keeps the code. */
        if (snprintf(o.note, sizeof o.note, "issuance blocked: %s: %s", why->code, why->msg) < 0)
            o.note[0] = '\0';
        o.updated_at = clock_now();
        char detail[700];
        snprintf(detail, sizeof detail, "{\"code\":\"%s\"}", why->code);
        if (store_order_update(s->st, &o, &e) == 0 &&
            svc_audit(s, account_id, "order.issue_blocked", "order", order_id, detail, &e) == 0 &&
            store_commit(s->st, &e) == 0) {
            store_order_clear(&o);
            return;
        }
    }
    store_order_clear(&o);
    store_rollback(s->st);
}

/* Issues order `order_id` when it is pending and nothing is missing; CAA is checked first,
 * outside the transaction, and the state is checked again inside it. */
int svc_try_issue(cm_svc *s, int64_t account_id, int64_t order_id, int64_t *cert_id,
                  char **chain_pem, cm_err *err)
{
    cm_order o;
    memset(&o, 0, sizeof o);
    *cert_id = 0;
    if (store_order_get(s->st, account_id, order_id, &o, err) != 0)
        return -1;
    const cm_product *p = product_find(o.product);
    char *missing = NULL;
    if (!issuable_status(o.status) || p == NULL || (missing = waiting_for(s, &o, err)) != NULL) {
        free(missing);
        store_order_clear(&o);
        return 0;
    }
    int rc = svc_check_caa(s, p, o.names, o.n_names, err);
    store_order_clear(&o);
    if (rc != 0) {
        note_blocked(s, account_id, order_id, err);
        return -1;
    }
    if (store_begin(s->st, err) != 0)
        return -1;
    if (store_order_get(s->st, account_id, order_id, &o, err) != 0)
        goto fail;
    if (!issuable_status(o.status) || (missing = waiting_for(s, &o, err)) != NULL) {
        free(missing); /* changed meanwhile: another thread issued it or it was cancelled */
        store_order_clear(&o);
        store_rollback(s->st);
        return 0;
    }
    int irc = strcmp(o.status, "reissue_pending") == 0
                  ? svc_reissue_issue(s, &o, cert_id, chain_pem, err)
                  : issue_order(s, &o, cert_id, chain_pem, err);
    if (irc != 0 || store_commit(s->st, err) != 0)
        goto fail;
    store_order_clear(&o);
    return 0;
fail:
    store_order_clear(&o);
    store_rollback(s->st);
    *cert_id = 0;
    if (chain_pem != NULL) {
        free(*chain_pem);
        *chain_pem = NULL;
    }
    return -1;
}

int svc_order_try_issue(cm_svc *s, int64_t account_id, int64_t order_id, int64_t *cert_id,
                        cm_err *err)
{
    return svc_try_issue(s, account_id, order_id, cert_id, NULL, err);
}

static bool dcv_method_ok(const char *m)
{
    return strcmp(m, "dns-txt-token") == 0 || strcmp(m, "dns-cname-token") == 0 ||
           strcmp(m, "http-token") == 0 || strcmp(m, "email") == 0;
}

/* Email DCV of a DV order: one code goes to the administrative addresses of one registrable
 * domain, so every name of the order must lie under the same one (into base). */
static int email_base(const cm_order *o, char *base, size_t basesz, cm_err *err)
{
    base[0] = '\0';
    for (size_t i = 0; i < o->n_names; i++) {
        char b[256];
        if (svc_is_ip(o->names[i].name))
            return cm_err_set(err, "field_invalid", "email validation cannot prove control of "
                              "the IP address %s; use http-token", o->names[i].name);
        if (dcv_base(o->names[i].name, b, sizeof b, err) != 0)
            return -1;
        if (base[0] == '\0')
            str_copy(base, basesz, b);
        else if (strcmp(base, b) != 0)
            return cm_err_set(err, "field_invalid",
                              "email validation covers one registrable domain per order, and "
                              "this order has names under %s and %s; use a token method or one "
                              "order per domain", base, b);
    }
    return 0;
}

/* Sends the order's code by mail when its method is email (inside the open transaction). */
static int order_email_send(cm_svc *s, const cm_order *o, cm_err *err)
{
    char base[256];
    if (strcmp(o->dcv_method, "email") != 0)
        return 0;
    if (email_base(o, base, sizeof base, err) != 0)
        return -1;
    return svc_dcv_email_queue(s, o->account_id, base, o->dcv_value, o->dcv_value_expires, err);
}

/* R-O5: the old order records which order renewed it (inside the open transaction; checked
 * again there, so two concurrent renewals cannot both link). */
static int link_renewal(cm_svc *s, int64_t old_id, int64_t new_id, cm_err *err)
{
    cm_order old;
    memset(&old, 0, sizeof old);
    if (store_order_get(s->st, s->caller.account_id, old_id, &old, err) != 0)
        return -1;
    int rc = -1;
    if (old.renewed_by_order_id != 0) {
        cm_err_set(err, "order_already_renewed",
                   "the order was already renewed by order %lld; renew that one",
                   (long long)old.renewed_by_order_id);
        goto out;
    }
    old.renewed_by_order_id = new_id;
    old.updated_at = clock_now();
    char detail[64];
    snprintf(detail, sizeof detail, "{\"renewed_by_order_id\":%lld}", (long long)new_id);
    if (store_order_update(s->st, &old, err) != 0 ||
        svc_audit(s, old.account_id, "order.renewed", "order", old_id, detail, err) != 0)
        goto out;
    rc = 0;
out:
    store_order_clear(&old);
    return rc;
}

int svc_order_create(cm_svc *s, const cm_order_input *in, cm_order_result *out, cm_err *err)
{
    int rc = -1;
    cm_name *names = NULL;
    size_t n = 0;
    cm_csr *csr = NULL;
    cm_order *o = &out->order;
    memset(out, 0, sizeof *out);
    if (svc_require_issuer(s, err) != 0)
        return -1;
    const cm_product *p = product_find(in->product);
    if (p == NULL)
        return cm_err_set(err, "product_unknown",
                          "unknown product \"%s\"; GET /services/v2/product lists them",
                          in->product);
    if (in->common_name == NULL || in->common_name[0] == '\0')
        return cm_err_set(err, "field_required", "certificate.common_name is required");
    if (in->csr == NULL || in->csr[0] == '\0')
        return cm_err_set(err, "field_required", "certificate.csr is required");
    if (strlen(in->csr) >= sizeof o->csr)
        return cm_err_set(err, "csr_too_large", "the CSR is longer than %zu bytes",
                          sizeof o->csr - 1);
    int years = in->validity_years ? in->validity_years : 1;
    if (years < 1 || years > 6)
        return cm_err_set(err, "field_invalid", "order_validity.years must be 1 to 6");
    if (in->server_platform != PLATFORM_OTHER && platform_find(in->server_platform) == NULL)
        return cm_err_set(err, "field_invalid",
                          "server_platform.id %d is unknown; GET /services/v2/server-platform "
                          "lists them", in->server_platform);
    const char *method = in->dcv_method ? in->dcv_method : "dns-txt-token";
    if (p->validation == VAL_DV && !dcv_method_ok(method))
        return cm_err_set(err, "field_invalid",
                          "dcv_method must be dns-txt-token, dns-cname-token, http-token or "
                          "email");
    if (svc_build_names(p, in->common_name, in->dns_names, in->n_dns_names, &names, &n, err) != 0)
        return -1;
    if (csr_parse((const unsigned char *)in->csr, strlen(in->csr), &csr, err) != 0 ||
        svc_check_key_not_compromised(s, csr, err) != 0)
        goto out;
    const char *issuer = in->issuer;
    if (issuer == NULL)
        issuer = csr_keyinfo(csr)->type == KEY_RSA ? "rsa" : "ecdsa";
    if (strcmp(issuer, "ecdsa") != 0 && strcmp(issuer, "rsa") != 0) {
        cm_err_set(err, "field_invalid", "issuer must be ecdsa or rsa");
        goto out;
    }
    if (sighash_check(strcmp(issuer, "ecdsa") == 0, in->signature_hash, err) != 0) {
        cm_err_prefix(err, "signature_hash (use an RSA issuer for sha384/sha512)");
        goto out;
    }
    int64_t now = clock_now();
    bool requester_ev = false;
    cm_account acct;
    if (store_account_get(s->st, s->caller.account_id, &acct, err) != 0)
        goto out;
    if (p->validation != VAL_DV) {
        cm_org_row org;
        if (in->org_id <= 0) {
            cm_err_set(err, "organization_required",
                       "%s is an %s product: give organization.id", p->id,
                       validation_name(p->validation));
            goto out;
        }
        if (store_org_get(s->st, s->caller.account_id, in->org_id, &org, err) != 0) {
            if (strcmp(err->code, "org_not_found") == 0)
                cm_err_set(err, "organization_not_found",
                           "organization %lld does not exist in this account; list them with "
                           "GET /services/v2/organization", (long long)in->org_id);
            goto out;
        }
        if (org_check(&org.org, p->validation, err) != 0)
            goto out;
        if (p->validation == VAL_EV) {
            cm_contact c;
            cm_err e2;
            requester_ev = store_contact_get(s->st, s->caller.account_id, in->org_id,
                                             s->caller.user_id, &c, &e2) == 0 &&
                           c.ev_approver;
        }
    }
    if (in->renewal_of_order_id > 0) {
        cm_order old;
        memset(&old, 0, sizeof old);
        if (svc_load_order(s, in->renewal_of_order_id, &old, err) != 0) {
            cm_err_prefix(err, "renewal_of_order_id");
            goto out;
        }
        int allowed = svc_renewal_allowed(s, &old, p, err);
        store_order_clear(&old);
        if (allowed != 0)
            goto out;
    }
    /* Fill the order. */
    o->account_id = s->caller.account_id;
    o->user_id = s->caller.user_id;
    str_copy(o->product, sizeof o->product, p->id);
    o->org_id = p->validation == VAL_DV ? 0 : in->org_id;
    str_copy(o->common_name, sizeof o->common_name, names[0].text);
    o->names = calloc(n, sizeof *o->names);
    if (o->names == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    o->n_names = n;
    for (size_t i = 0; i < n; i++) {
        str_copy(o->names[i].name, sizeof o->names[i].name, names[i].text);
        if (p->validation == VAL_DV)
            str_copy(o->names[i].dcv_status, sizeof o->names[i].dcv_status, "pending");
    }
    o->validity_years = years;
    str_copy(o->csr, sizeof o->csr, in->csr);
    str_copy(o->signature_hash, sizeof o->signature_hash,
             in->signature_hash ? in->signature_hash : "sha256");
    o->server_platform = in->server_platform;
    o->auto_renew = in->auto_renew;
    o->renewal_of_order_id = in->renewal_of_order_id;
    str_copy(o->issuer, sizeof o->issuer, issuer);
    if (p->validation == VAL_DV) {
        str_copy(o->dcv_method, sizeof o->dcv_method, method);
        svc_random_value(o->dcv_value);
        o->dcv_value_expires = now + DCV_VALUE_LIFETIME;
    }
    o->created_at = o->updated_at = now;
    if (p->validation == VAL_DV && strcmp(method, "email") == 0) {
        char base[256];
        if (email_base(o, base, sizeof base, err) != 0)
            goto out;
    }
    cm_approval_need need = approval_needed(acct.skip_approval, s->caller.role,
                                            p->validation == VAL_EV, requester_ev);
    str_copy(o->status, sizeof o->status,
             (need.manager || need.ev_contact) ? "needs_approval" : "pending");
    /* CAA before anything is written (network, outside the transaction); again at issuance. */
    if (svc_check_caa(s, p, o->names, o->n_names, err) != 0)
        goto out;
    if (store_begin(s->st, err) != 0)
        goto out;
    if (store_order_insert(s->st, o, err) != 0)
        goto fail;
    if (in->renewal_of_order_id > 0 && link_renewal(s, in->renewal_of_order_id, o->id, err) != 0)
        goto fail;
    if (need.manager || need.ev_contact) {
        cm_request r;
        memset(&r, 0, sizeof r);
        r.account_id = o->account_id;
        r.order_id = o->id;
        str_copy(r.type, sizeof r.type,
                 need.manager ? (in->renewal_of_order_id ? "renewal" : "new_request")
                              : "ev_approval");
        str_copy(r.status, sizeof r.status, "pending");
        r.requester_id = s->caller.user_id;
        if (in->comments != NULL)
            str_copy(r.comments, sizeof r.comments, in->comments);
        r.created_at = now;
        if (store_request_insert(s->st, &r, err) != 0)
            goto fail;
        out->request_id = r.id;
        str_copy(out->request_status, sizeof out->request_status, "pending");
    }
    if (p->validation != VAL_DV && product_needs_dcv(p))
        for (size_t i = 0; i < n; i++)
            if (!svc_is_ip(o->names[i].name) &&
                svc_domain_ensure(s, o->account_id, o->names[i].name, err) != 0)
                goto fail;
    if (order_email_send(s, o, err) != 0)
        goto fail;
    char detail[600];
    snprintf(detail, sizeof detail, "{\"product\":\"%s\",\"common_name\":\"%s\",\"status\":\"%s\"}",
             p->id, o->common_name, o->status);
    if (svc_audit(s, o->account_id, "order.create", "order", o->id, detail, err) != 0)
        goto fail;
    if (store_commit(s->st, err) != 0)
        goto fail;
    /* Issue at once when nothing waits. An issuance failure leaves the order pending, with
     * the reason in its note; the order itself was placed. */
    if (strcmp(o->status, "pending") == 0) {
        cm_err ierr;
        if (svc_try_issue(s, o->account_id, o->id, &out->certificate_id, &out->chain_pem, &ierr) !=
            0)
            log_msg(LOG_WARN, "event=issue_failed order=%lld code=%s", (long long)o->id,
                    ierr.code);
        cm_order fresh;
        memset(&fresh, 0, sizeof fresh);
        if (store_order_get(s->st, o->account_id, o->id, &fresh, err) == 0) {
            store_order_clear(o);
            *o = fresh;
        }
    }
    rc = 0;
    goto out;
fail:
    store_rollback(s->st);
out:
    if (rc != 0)
        order_result_clear(out);
    free(names);
    csr_free(csr);
    return rc;
}

int svc_order_get(cm_svc *s, int64_t id, cm_order *out, cm_err *err)
{
    if (svc_require(s, false, SVC_ANY_USER, err) != 0)
        return -1;
    return svc_load_order(s, id, out, err);
}

int svc_order_list(cm_svc *s, const cm_list_opts *o, cm_order **out, size_t *n, int64_t *total,
                   cm_err *err)
{
    if (svc_require(s, false, SVC_ANY_USER, err) != 0)
        return -1;
    int64_t only = s->caller.role == ROLE_LIMITED_USER ? s->caller.user_id : 0;
    return store_order_list(s->st, s->caller.account_id, only, o, out, n, total, err);
}

int svc_order_cancel(cm_svc *s, int64_t id, const char *note, cm_err *err)
{
    cm_order o;
    if (svc_require(s, false, SVC_ANY_USER, err) != 0)
        return -1;
    if (store_begin(s->st, err) != 0)
        return -1;
    if (svc_load_order(s, id, &o, err) != 0)
        goto fail_noclear;
    /* Users may cancel their own orders; approvers any order of the account. */
    if (!svc_is_approver(s) && o.user_id != s->caller.user_id) {
        cm_err_set(err, "forbidden", "only the requester, an administrator or a manager may "
                   "cancel this order");
        goto fail;
    }
    const char *to;
    if (strcmp(o.status, "needs_approval") == 0 || strcmp(o.status, "pending") == 0)
        to = "canceled";
    else if (strcmp(o.status, "reissue_pending") == 0) {
        to = "issued";
        if (svc_order_restore_current(s, &o, err) != 0)
            goto fail;
    }
    else {
        cm_err_set(err, "order_state", "order %lld is %s; only orders that are pending or wait "
                   "for approval can be cancelled (revoke an issued order instead)",
                   (long long)id, o.status);
        goto fail;
    }
    /* Open requests of the order are closed as rejected. */
    cm_list_opts lo = {.limit = 1000, .filter_names = {"order_id", "status"}, .n_filters = 2};
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    lo.filter_values[0] = idtext;
    lo.filter_values[1] = "pending";
    cm_request *reqs = NULL;
    size_t nr = 0;
    int64_t total = 0;
    if (store_request_list(s->st, s->caller.account_id, 0, &lo, &reqs, &nr, &total, err) != 0)
        goto fail;
    int64_t now = clock_now();
    for (size_t i = 0; i < nr; i++) {
        if (strcmp(reqs[i].type, "revoke") == 0)
            continue;
        str_copy(reqs[i].status, sizeof reqs[i].status, "rejected");
        reqs[i].processor_id = s->caller.user_id;
        str_copy(reqs[i].processor_comment, sizeof reqs[i].processor_comment,
                 "the order was cancelled");
        reqs[i].processed_at = now;
        if (store_request_update(s->st, &reqs[i], err) != 0) {
            free(reqs);
            goto fail;
        }
    }
    free(reqs);
    str_copy(o.status, sizeof o.status, to);
    if (strcmp(to, "canceled") == 0 && svc_renewal_unlink(s, &o, err) != 0)
        goto fail;
    if (note != NULL)
        str_copy(o.note, sizeof o.note, note);
    o.updated_at = now;
    if (store_order_update(s->st, &o, err) != 0 ||
        svc_audit(s, o.account_id, "order.cancel", "order", id, NULL, err) != 0 ||
        store_commit(s->st, err) != 0)
        goto fail;
    store_order_clear(&o);
    return 0;
fail:
    store_order_clear(&o);
fail_noclear:
    store_rollback(s->st);
    return -1;
}

int svc_order_certificates(cm_svc *s, int64_t id, cm_cert_row **out, size_t *n, cm_err *err)
{
    cm_order o;
    if (svc_require(s, false, SVC_ANY_USER, err) != 0 || svc_load_order(s, id, &o, err) != 0)
        return -1;
    store_order_clear(&o);
    return store_cert_list_by_order(s->st, s->caller.account_id, id, out, n, err);
}

int svc_order_dcv_method(cm_svc *s, int64_t id, const char *method, cm_err *err)
{
    cm_order o;
    if (svc_require(s, false, SVC_ANY_USER, err) != 0)
        return -1;
    if (method == NULL || !dcv_method_ok(method))
        return cm_err_set(err, "field_invalid", "dcv_method must be dns-txt-token, "
                          "dns-cname-token, http-token or email");
    if (store_begin(s->st, err) != 0)
        return -1;
    if (svc_load_order(s, id, &o, err) != 0) {
        store_rollback(s->st);
        return -1;
    }
    const cm_product *p = product_find(o.product);
    if (p == NULL || p->validation != VAL_DV) {
        cm_err_set(err, "order_state", "order %lld is not a DV order: validate its domains with "
                   "PUT /domain/{id}/dcv/validate-token", (long long)id);
        goto fail;
    }
    if (!issuable_status(o.status) && strcmp(o.status, "needs_approval") != 0) {
        cm_err_set(err, "order_state", "order %lld is %s: nothing to validate", (long long)id,
                   o.status);
        goto fail;
    }
    str_copy(o.dcv_method, sizeof o.dcv_method, method);
    svc_random_value(o.dcv_value);
    o.dcv_value_expires = clock_now() + DCV_VALUE_LIFETIME;
    o.updated_at = clock_now();
    if (order_email_send(s, &o, err) != 0)
        goto fail;
    char detail[100];
    snprintf(detail, sizeof detail, "{\"dcv_method\":\"%s\"}", method);
    if (store_order_update(s->st, &o, err) != 0 ||
        svc_audit(s, o.account_id, "order.dcv_method", "order", id, detail, err) != 0 ||
        store_commit(s->st, err) != 0)
        goto fail;
    store_order_clear(&o);
    return 0;
fail:
    store_order_clear(&o);
    store_rollback(s->st);
    return -1;
}

int svc_order_check_dcv(cm_svc *s, int64_t id, int64_t *issued_cert, cm_err *err)
{
    cm_order o;
    *issued_cert = 0;
    if (svc_require(s, false, SVC_ANY_USER, err) != 0 || svc_load_order(s, id, &o, err) != 0)
        return -1;
    const cm_product *p = product_find(o.product);
    if (p == NULL || p->validation != VAL_DV) {
        store_order_clear(&o);
        return cm_err_set(err, "order_state", "order %lld is not a DV order: validate its "
                          "domains with PUT /domain/{id}/dcv/validate-token", (long long)id);
    }
    if (!issuable_status(o.status) && strcmp(o.status, "needs_approval") != 0) {
        store_order_clear(&o);
        return cm_err_set(err, "order_state", "order %lld is %s: nothing to validate",
                          (long long)id, o.status);
    }
    if (strcmp(o.dcv_method, "email") == 0) {
        store_order_clear(&o);
        return cm_err_set(err, "order_state", "order %lld validates by email: confirm with the "
                          "code from the mail (POST /services/v2/dcv/email/confirm), or choose a "
                          "token method with PUT /order/certificate/%lld/dcv-method",
                          (long long)id, (long long)id);
    }
    if (o.dcv_value_expires <= clock_now()) {
        store_order_clear(&o);
        return cm_err_set(err, "dcv_value_expired", "the random value of order %lld expired; "
                          "choose the method again with PUT /order/certificate/%lld/dcv-method "
                          "to get a new one", (long long)id, (long long)id);
    }
    /* Network checks first, outside any transaction: one per registrable domain. */
    bool *ok = calloc(o.n_names ? o.n_names : 1, sizeof *ok);
    cm_err first;
    bool any_ok = false, any_fail = false;
    cm_err_clear(&first);
    if (ok == NULL) {
        store_order_clear(&o);
        return cm_err_set(err, "out_of_memory", "out of memory");
    }
    for (size_t i = 0; i < o.n_names; i++) {
        if (strcmp(o.names[i].dcv_status, "valid") == 0) {
            ok[i] = true;
            continue;
        }
        char base[256];
        cm_err e;
        bool done = false;
        if (dcv_base(o.names[i].name, base, sizeof base, &e) == 0) {
            /* A base already checked for an earlier name counts for this one. */
            for (size_t j = 0; j < i && !done; j++) {
                char b2[256];
                cm_err e2;
                if (ok[j] && dcv_base(o.names[j].name, b2, sizeof b2, &e2) == 0 &&
                    strcmp(base, b2) == 0)
                    done = true;
            }
            if (!done && dcv_check(s->cfg, o.dcv_method, base, o.dcv_value, &e) == 0)
                done = true;
        }
        ok[i] = done;
        if (done)
            any_ok = true;
        else {
            any_fail = true;
            if (!cm_err_isset(&first))
                first = e;
        }
    }
    int64_t order_id = o.id, account_id = o.account_id;
    store_order_clear(&o);
    if (any_ok) {
        if (store_begin(s->st, err) != 0) {
            free(ok);
            return -1;
        }
        if (store_order_get(s->st, account_id, order_id, &o, err) != 0) {
            store_rollback(s->st);
            free(ok);
            return -1;
        }
        int64_t now = clock_now();
        for (size_t i = 0; i < o.n_names; i++)
            if (ok[i] && strcmp(o.names[i].dcv_status, "valid") != 0) {
                str_copy(o.names[i].dcv_status, sizeof o.names[i].dcv_status, "valid");
                o.names[i].validated_at = now;
            }
        o.updated_at = now;
        int rc = store_order_update(s->st, &o, err) != 0 ||
                 svc_audit(s, account_id, "order.dcv_validate", "order", order_id, NULL, err) !=
                     0 ||
                 store_commit(s->st, err) != 0;
        store_order_clear(&o);
        if (rc) {
            store_rollback(s->st);
            free(ok);
            return -1;
        }
    }
    free(ok);
    if (!any_ok && any_fail) {
        *err = first;
        return -1;
    }
    if (!any_fail)
        return svc_try_issue(s, account_id, order_id, issued_cert, NULL, err);
    return 0;
}

static int reevaluate_status(cm_svc *s, int64_t account_id, const char *status, cm_err *err);

int svc_orders_reevaluate(cm_svc *s, int64_t account_id, cm_err *err)
{
    static const char *const waiting[] = {"pending", "reissue_pending"};
    for (size_t w = 0; w < 2; w++)
        if (reevaluate_status(s, account_id, waiting[w], err) != 0)
            return -1;
    return 0;
}

/* Tries to issue every order of the account in `status`. */
static int reevaluate_status(cm_svc *s, int64_t account_id, const char *status, cm_err *err)
{
    cm_list_opts lo = {.limit = 1000, .filter_names = {"status"}, .filter_values = {status},
                       .n_filters = 1};
    for (int64_t offset = 0;; offset += lo.limit) {
        cm_order *list = NULL;
        size_t n = 0;
        int64_t total = 0;
        lo.offset = offset;
        if (store_order_list(s->st, account_id, 0, &lo, &list, &n, &total, err) != 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            int64_t cert = 0;
            cm_err e;
            if (svc_try_issue(s, account_id, list[i].id, &cert, NULL, &e) != 0)
                log_msg(LOG_WARN, "event=issue_failed order=%lld code=%s",
                        (long long)list[i].id, e.code);
        }
        store_order_free_list(list, n);
        if (n < (size_t)lo.limit)
            break;
    }
    return 0;
}

int svc_order_email_confirm(cm_svc *s, const char *code, int64_t *order_id, bool *found,
                            cm_err *err)
{
    char want[33];
    cm_ref *cand = NULL;
    size_t n = 0;
    cm_order o;
    memset(&o, 0, sizeof o);
    *found = false;
    *order_id = 0;
    /* Codes are 32 lower-case hex characters; anything else matches no order. */
    if (str_copy(want, sizeof want, code) != 0 || strlen(want) != 32)
        return 0;
    for (char *p = want; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (!isxdigit((unsigned char)*p))
            return 0;
    }
    char prefix[9];
    memcpy(prefix, want, 8);
    prefix[8] = '\0';
    int64_t now = clock_now();
    if (store_begin(s->st, err) != 0)
        return -1;
    if (store_dcv_code_orders(s->st, prefix, &cand, &n, err) != 0)
        goto fail;
    /* Every candidate is compared whole, in constant time. */
    for (size_t i = 0; i < n && !*found; i++) {
        store_order_clear(&o);
        if (store_order_get(s->st, cand[i].account_id, cand[i].id, &o, err) != 0)
            goto fail;
        *found = strlen(o.dcv_value) == 32 && str_ct_equal(o.dcv_value, want, 32) &&
                 o.dcv_value_expires > now;
    }
    if (!*found) {
        free(cand);
        store_order_clear(&o);
        store_rollback(s->st);
        return 0;
    }
    for (size_t i = 0; i < o.n_names; i++)
        if (strcmp(o.names[i].dcv_status, "valid") != 0) {
            str_copy(o.names[i].dcv_status, sizeof o.names[i].dcv_status, "valid");
            o.names[i].validated_at = now;
        }
    o.dcv_value[0] = '\0'; /* one-time */
    o.dcv_value_expires = 0;
    o.updated_at = now;
    if (store_order_update(s->st, &o, err) != 0 ||
        svc_audit(s, o.account_id, "order.dcv_validate", "order", o.id,
                  "{\"dcv_method\":\"email\"}", err) != 0 ||
        store_commit(s->st, err) != 0)
        goto fail;
    *order_id = o.id;
    int64_t account_id = o.account_id, cert = 0;
    free(cand);
    store_order_clear(&o);
    cm_err e;
    /* Confirmed; issuance may still wait (approval) or fail (CAA): the order note says why. */
    if (svc_try_issue(s, account_id, *order_id, &cert, NULL, &e) != 0)
        log_msg(LOG_WARN, "event=issue_failed order=%lld code=%s", (long long)*order_id, e.code);
    return 0;
fail:
    free(cand);
    store_order_clear(&o);
    store_rollback(s->st);
    return -1;
}
