/* issue.c — building subscriber certificates (BR §7.1.2.7 profile, COMPLIANCE.md rows 1–33)
 * and issuing them through the linter and the signer.
 *
 * Everything in the certificate comes from the request and the CA; from the CSR only the public
 * key is taken. Extensions that never change (basicConstraints, keyUsage, EKU, policies, and per
 * CA the AKI, AIA and CRLDP) are encoded once in profile_prepare and copied per certificate. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/validity.h"
#include "pki/internal.h"
#include "pki/lint_int.h"
#include "util/clock.h"
#include "util/log.h"

struct cm_cert {
    unsigned char *der;
    size_t len;
    const char *ca_id;
    char serial[41];
    int64_t not_before, not_after;
};

/* Wraps an extension structure into an X509_EXTENSION. Takes nothing; caller frees result. */
static X509_EXTENSION *make_ext(int nid, int critical, void *value)
{
    return X509V3_EXT_i2d(nid, critical, value);
}

/* A GENERAL_NAME holding a URI. Caller frees. */
static GENERAL_NAME *uri_name(const char *uri)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    if (g == NULL || s == NULL || !ASN1_STRING_set(s, uri, (int)strlen(uri))) {
        GENERAL_NAME_free(g);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(g, GEN_URI, s);
    return g;
}

/* One AccessDescription (method NID, URI) appended to `aia`. Returns 0 or -1. */
static int add_access(AUTHORITY_INFO_ACCESS *aia, int method, const char *uri)
{
    ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
    GENERAL_NAME *g = uri_name(uri);
    if (ad == NULL || g == NULL || !sk_ACCESS_DESCRIPTION_push(aia, ad)) {
        ACCESS_DESCRIPTION_free(ad);
        GENERAL_NAME_free(g);
        return -1;
    }
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(method);
    GENERAL_NAME_free(ad->location);
    ad->location = g;
    return 0;
}

static X509_EXTENSION *build_aia(const cm_config *cfg, const cm_ca_pub *ca)
{
    X509_EXTENSION *ext = NULL;
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    if (aia != NULL && (cfg->ocsp_url[0] == '\0' || add_access(aia, NID_ad_OCSP, cfg->ocsp_url) == 0) &&
        add_access(aia, NID_ad_ca_issuers, ca->issuer_url) == 0)
        ext = make_ext(NID_info_access, 0, aia);
    AUTHORITY_INFO_ACCESS_free(aia);
    return ext;
}

static X509_EXTENSION *build_crldp(const cm_ca_pub *ca)
{
    X509_EXTENSION *ext = NULL;
    CRL_DIST_POINTS *cdp = sk_DIST_POINT_new_null();
    DIST_POINT *dp = DIST_POINT_new();
    GENERAL_NAME *g = uri_name(ca->crl_url);
    if (cdp == NULL || dp == NULL || g == NULL || !sk_DIST_POINT_push(cdp, dp)) {
        DIST_POINT_free(dp);
        goto out;
    }
    dp->distpoint = DIST_POINT_NAME_new();
    if (dp->distpoint == NULL || (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
        !sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g))
        goto out;
    g = NULL;
    dp->distpoint->type = 0; /* fullName */
    ext = make_ext(NID_crl_distribution_points, 0, cdp);
out:
    GENERAL_NAME_free(g);
    CRL_DIST_POINTS_free(cdp);
    return ext;
}

static X509_EXTENSION *build_aki(const cm_ca_pub *ca)
{
    X509_EXTENSION *ext = NULL;
    AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
    if (aki != NULL && (aki->keyid = ASN1_OCTET_STRING_dup(ca->skid)) != NULL)
        ext = make_ext(NID_authority_key_identifier, 0, aki);
    AUTHORITY_KEYID_free(aki);
    return ext;
}

static X509_EXTENSION *build_ku(bool rsa)
{
    X509_EXTENSION *ext = NULL;
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    /* Bit 0 digitalSignature; bit 2 keyEncipherment for RSA (BR §7.1.2.7.11). */
    if (ku != NULL && ASN1_BIT_STRING_set_bit(ku, 0, 1) && (!rsa || ASN1_BIT_STRING_set_bit(ku, 2, 1)))
        ext = make_ext(NID_key_usage, 1, ku);
    ASN1_BIT_STRING_free(ku);
    return ext;
}

X509_EXTENSION *ext_policy(const char *oid)
{
    X509_EXTENSION *ext = NULL;
    CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
    POLICYINFO *pi = POLICYINFO_new();
    if (pols == NULL || pi == NULL || !sk_POLICYINFO_push(pols, pi)) {
        POLICYINFO_free(pi);
        goto out;
    }
    ASN1_OBJECT_free(pi->policyid);
    if ((pi->policyid = OBJ_txt2obj(oid, 1)) != NULL)
        ext = make_ext(NID_certificate_policies, 0, pols);
out:
    CERTIFICATEPOLICIES_free(pols);
    return ext;
}

int profile_prepare(cm_pki *pki, cm_err *err)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
    if (bc != NULL) {
        bc->ca = 0;
        pki->ext_bc = make_ext(NID_basic_constraints, 1, bc);
    }
    if (eku != NULL && sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)))
        pki->ext_eku = make_ext(NID_ext_key_usage, 0, eku);
    BASIC_CONSTRAINTS_free(bc);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    pki->ext_ku_ec = build_ku(false);
    pki->ext_ku_rsa = build_ku(true);
    pki->ext_pol[VAL_DV] = ext_policy(OID_POLICY_DV);
    pki->ext_pol[VAL_OV] = ext_policy(OID_POLICY_OV);
    pki->ext_pol[VAL_EV] = ext_policy(OID_POLICY_EV);
    bool ok = pki->ext_bc && pki->ext_eku && pki->ext_ku_ec && pki->ext_ku_rsa &&
              pki->ext_pol[0] && pki->ext_pol[1] && pki->ext_pol[2];
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        cm_ca_pub *ca = &pki->cas[i];
        ca->ext_aki = build_aki(ca);
        ca->ext_aia = build_aia(&pki->cfg, ca);
        ca->ext_crldp = build_crldp(ca);
        ok = ok && ca->ext_aki && ca->ext_aia && ca->ext_crldp;
    }
    if (!ok) {
        char e[200];
        return cm_err_set(err, "profile_failed", "building certificate extensions: %s",
                          ossl_err_text(e, sizeof e));
    }
    return 0;
}

void profile_release(cm_pki *pki)
{
    X509_EXTENSION_free(pki->ext_bc);
    X509_EXTENSION_free(pki->ext_eku);
    X509_EXTENSION_free(pki->ext_ku_ec);
    X509_EXTENSION_free(pki->ext_ku_rsa);
    for (size_t i = 0; i < 3; i++)
        X509_EXTENSION_free(pki->ext_pol[i]);
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        X509_EXTENSION_free(pki->cas[i].ext_aki);
        X509_EXTENSION_free(pki->cas[i].ext_aia);
        X509_EXTENSION_free(pki->cas[i].ext_crldp);
    }
}

/* Appends one attribute as its own RDN; empty values are skipped. */
static int add_rdn(X509_NAME *n, int nid, int type, const char *v)
{
    if (v == NULL || v[0] == '\0')
        return 1;
    return X509_NAME_add_entry_by_NID(n, nid, type, (const unsigned char *)v, -1, -1, 0);
}

/* The subject by validation type (BR §7.1.2.7.2–.5, EVG §7.1.4.2), in BR order with the EV
 * attributes first. DV: CN only. */
static int build_subject(X509 *x, const cm_issue_req *r)
{
    X509_NAME *n = X509_NAME_new();
    int ok = n != NULL;
    const cm_org *o = r->org;
    if (ok && r->product->validation == VAL_EV)
        ok = add_rdn(n, NID_jurisdictionCountryName, V_ASN1_PRINTABLESTRING,
                     o->jurisdiction_country) &&
             add_rdn(n, NID_jurisdictionStateOrProvinceName, V_ASN1_UTF8STRING,
                     o->jurisdiction_state) &&
             add_rdn(n, NID_jurisdictionLocalityName, V_ASN1_UTF8STRING, o->jurisdiction_city) &&
             add_rdn(n, NID_businessCategory, V_ASN1_UTF8STRING, o->business_category) &&
             add_rdn(n, NID_serialNumber, V_ASN1_PRINTABLESTRING, o->registration_number);
    if (ok && r->product->validation != VAL_DV) {
        char oname[80];
        org_subject_o(o, oname, sizeof oname);
        ok = add_rdn(n, NID_countryName, V_ASN1_PRINTABLESTRING, o->country) &&
             add_rdn(n, NID_stateOrProvinceName, V_ASN1_UTF8STRING, o->state) &&
             add_rdn(n, NID_localityName, V_ASN1_UTF8STRING, o->city) &&
             add_rdn(n, NID_organizationName, V_ASN1_UTF8STRING, oname);
    }
    if (ok && r->cn_index != SIZE_MAX)
        ok = add_rdn(n, NID_commonName, V_ASN1_UTF8STRING, r->names[r->cn_index].text);
    ok = ok && X509_set_subject_name(x, n);
    X509_NAME_free(n);
    return ok;
}

/* The SAN with every name, in order; critical only when the subject is empty. */
static int add_san(X509 *x, const cm_issue_req *r)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    int ok = gens != NULL;
    for (size_t i = 0; ok && i < r->n_names; i++) {
        const cm_name *nm = &r->names[i];
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_STRING *s = NULL;
        bool ip = nm->type == NAME_IPV4 || nm->type == NAME_IPV6;
        if (g == NULL)
            ok = 0;
        else if (ip)
            ok = (s = ASN1_OCTET_STRING_new()) != NULL &&
                 ASN1_STRING_set(s, nm->ip, nm->type == NAME_IPV4 ? 4 : 16);
        else
            ok = (s = ASN1_IA5STRING_new()) != NULL &&
                 ASN1_STRING_set(s, nm->text, (int)strlen(nm->text));
        if (ok) {
            GENERAL_NAME_set0_value(g, ip ? GEN_IPADD : GEN_DNS, s);
            ok = sk_GENERAL_NAME_push(gens, g) > 0;
            if (!ok)
                GENERAL_NAME_free(g);
        } else {
            ASN1_STRING_free(s);
            GENERAL_NAME_free(g);
        }
    }
    int critical = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
    ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical, X509V3_ADD_DEFAULT) == 1;
    GENERAL_NAMES_free(gens);
    return ok;
}

/* The request's rules: names per product (core/product.h) and the organisation (core/org.h). */
static int check_request(const cm_issue_req *r, cm_err *err)
{
    if (r->product == NULL)
        return cm_err_set(err, "product_unknown", "no product given");
    if (product_check_names(r->product, r->names, r->n_names, r->cn_index, err) != 0)
        return -1;
    return org_check(r->org, r->product->validation, err);
}

/* Computes notBefore/notAfter for the request. */
static int decide_validity(const cm_pki *pki, const cm_issue_req *r, int64_t now, int64_t *nb,
                           int64_t *na, cm_err *err)
{
    int days = 0;
    *nb = now;
    if (r->not_after != 0) {
        if (r->not_after <= now)
            return cm_err_set(err, "validity_invalid", "the requested end lies in the past");
        long need = (long)((r->not_after - now + 1 + 86399) / 86400);
        if (validity_decide(r->product, now, need, (int)pki->cfg.private_max_days, &days,
                            err) != 0)
            return -1;
        *na = r->not_after;
        return 0;
    }
    if (validity_decide(r->product, now, r->days, (int)pki->cfg.private_max_days, &days, err) !=
        0)
        return -1;
    *na = validity_not_after(now, days);
    return 0;
}

/* Fills the certificate's fields and extensions. Returns 1 or 0 (OpenSSL style). */
static int build_tbs(cm_pki *pki, const cm_ca_pub *ca, const cm_csr *csr, const cm_issue_req *r,
                     int64_t nb, int64_t na, X509 *x, unsigned char serial[16])
{
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40); /* positive, always 16 bytes */
    bool rsa = csr_keyinfo(csr)->type == KEY_RSA;
    return X509_set_version(x, 2) &&
           ASN1_STRING_set(X509_get_serialNumber(x), serial, 16) &&
           X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) &&
           ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) &&
           ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) && build_subject(x, r) &&
           csr_set_cert_key(csr, x) && X509_add_ext(x, pki->ext_bc, -1) &&
           X509_add_ext(x, rsa ? pki->ext_ku_rsa : pki->ext_ku_ec, -1) &&
           X509_add_ext(x, pki->ext_eku, -1) && add_san(x, r) &&
           X509_add_ext(x, ca->ext_aki, -1) && X509_add_ext(x, ca->ext_aia, -1) &&
           X509_add_ext(x, ca->ext_crldp, -1) &&
           (!ca->public_hier || X509_add_ext(x, pki->ext_pol[r->product->validation], -1));
}

int cert_issue(cm_pki *pki, const cm_csr *csr, const cm_issue_req *r, cm_cert **out,
               cm_err *err)
{
    int rc = -1;
    X509 *x = NULL;
    cm_cert *c = NULL;
    unsigned char serial[16];
    int64_t now = clock_now(), nb = 0, na = 0;
    if (check_request(r, err) != 0)
        return -1;
    const char *ca_id = pki_issuer_id(r->product, r->issuer);
    const cm_ca_pub *ca = pki_find_ca(pki, ca_id);
    const char *hash = r->hash != NULL && r->hash[0] != '\0' ? r->hash : "sha256";
    if (ca == NULL)
        return cm_err_set(err, "issuer_unknown", "no issuing CA %s", ca_id);
    if (sighash_check(ca->ec, hash, err) != 0 ||
        decide_validity(pki, r, now, &nb, &na, err) != 0)
        return -1;
    if ((x = X509_new()) == NULL || RAND_bytes(serial, sizeof serial) != 1 ||
        !build_tbs(pki, ca, csr, r, nb, na, x, serial)) {
        char e[200];
        cm_err_set(err, "signing_failed", "building the certificate failed: %s",
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    /* Pre-issuance lint (BR §4.3.1.2): any error refuses the signature. */
    cm_lint_report rep;
    rep.n = rep.errors = rep.warnings = 0;
    cm_lint_ctx lctx = {.issuer = ca->cert, .signing_time = now, .tbs_only = true,
                        .subject_key = csr_pkey(csr)};
    lint_cert(x, &lctx, &rep);
    if (rep.errors > 0) {
        for (size_t i = 0; i < rep.n; i++)
            if (rep.items[i].level == LINT_ERROR) {
                cm_err_set(err, "lint_failed", "the pre-issuance linter refused: rule %d: %s",
                           rep.items[i].rule, rep.items[i].msg);
                break;
            }
        log_msg(LOG_WARN, "event=lint_refused ca=%s errors=%zu", ca_id, rep.errors);
        goto out;
    }
    if (signer_sign_cert(pki->signer, ca_id, hash, x, err) != 0)
        goto out;
    if ((c = calloc(1, sizeof *c)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    int len = i2d_X509(x, &c->der);
    if (len <= 0) {
        char e[200];
        cm_err_set(err, "signing_failed", "encoding the certificate: %s",
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    c->len = (size_t)len;
    c->ca_id = ca_id;
    c->not_before = nb;
    c->not_after = na;
    for (size_t i = 0; i < sizeof serial; i++)
        snprintf(c->serial + 2 * i, 3, "%02x", serial[i]);
    *out = c;
    c = NULL;
    rc = 0;
out:
    cert_free(c);
    X509_free(x);
    return rc;
}

void cert_free(cm_cert *c)
{
    if (c == NULL)
        return;
    OPENSSL_free(c->der);
    free(c);
}

const unsigned char *cert_der(const cm_cert *c, size_t *len)
{
    *len = c->len;
    return c->der;
}

const char *cert_issuer_id(const cm_cert *c)
{
    return c->ca_id;
}

void cert_serial_hex(const cm_cert *c, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s", c->serial);
}

int64_t cert_not_before(const cm_cert *c)
{
    return c->not_before;
}

int64_t cert_not_after(const cm_cert *c)
{
    return c->not_after;
}
