/* test_signer.c — the signer seam's hard limits: it re-signs a good certificate, and refuses a
 * CA certificate, a CA key usage, a foreign issuer, an over-long or back-dated validity, a public
 * certificate without exactly one CA/B policy, a private one with a policy, a hash its key may
 * not use, and an unknown CA — whatever the caller built. Also: CA keys stay encrypted at rest
 * and a wrong passphrase is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/internal.h"
#include "util/clock.h"

typedef struct fixture {
    char dir[64];
    cm_config cfg;
    cm_pki *pki;
    unsigned char *csr_der;
    int csr_len;
} fixture;

/* A fresh P-256 key and CSR (DER). */
static unsigned char *make_csr(int *len)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    unsigned char *der = NULL;
    assert_non_null(k);
    assert_true(X509_REQ_set_pubkey(req, k));
    assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
    *len = i2d_X509_REQ(req, &der);
    assert_true(*len > 0);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    return der;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/certmint-signer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
    config_defaults(&f->cfg);
    cm_err err;
    assert_int_equal(config_set(&f->cfg, "dir", f->dir, &err), 0);
    cm_init_opts o = {"certmint test", "XX", 2048, 2048};
    assert_int_equal(ca_init(&f->cfg, &o, &err), 0);
    assert_int_equal(pki_open(&f->cfg, &f->pki, &err), 0);
    f->csr_der = make_csr(&f->csr_len);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    pki_close(f->pki);
    OPENSSL_free(f->csr_der);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Issues a good certificate of `product` through the whole engine and returns it parsed. */
static X509 *issued(fixture *f, const char *product, cm_issuer_kind kind)
{
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    cm_err err;
    cm_name name;
    const cm_product *p = product_find(product);
    cm_name_policy pol = product_name_policy(p);
    cm_org org;
    memset(&org, 0, sizeof org);
    snprintf(org.name, sizeof org.name, "Example Ltd");
    snprintf(org.city, sizeof org.city, "London");
    snprintf(org.country, sizeof org.country, "GB");
    assert_int_equal(csr_parse(f->csr_der, (size_t)f->csr_len, &csr, &err), 0);
    assert_int_equal(name_normalize(p->hierarchy == HIER_PUBLIC ? "www.example.com"
                                                               : "db.internal",
                                    &pol, &name, &err),
                     0);
    cm_issue_req req = {.product = p, .names = &name, .n_names = 1, .cn_index = 0,
                        .org = p->validation == VAL_DV ? NULL : &org, .issuer = kind};
    assert_int_equal(cert_issue(f->pki, csr, &req, &cert, &err), 0);
    size_t len = 0;
    const unsigned char *der = cert_der(cert, &len);
    X509 *x = d2i_X509(NULL, &der, (long)len);
    assert_non_null(x);
    cert_free(cert);
    csr_free(csr);
    return x;
}

static void replace_ext(X509 *x, int nid, int crit, void *value)
{
    int at = X509_get_ext_by_NID(x, nid, -1);
    if (at >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, at));
    if (value != NULL)
        assert_int_equal(X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT), 1);
}

static void expect_refused(fixture *f, const char *ca, const char *hash, X509 *x)
{
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(signer_sign_cert(f->pki->signer, ca, hash, x, &err), -1);
    assert_string_equal(err.code, "signer_refused");
    X509_free(x);
}

static void test_signer_signs_a_good_certificate_again(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    cm_err err;
    assert_int_equal(signer_sign_cert(f->pki->signer, "public-ecdsa", "sha256", x, &err), 0);
    const cm_ca_pub *ca = pki_find_ca(f->pki, "public-ecdsa");
    assert_int_equal(X509_verify(x, X509_get0_pubkey(ca->cert)), 1);
    X509_free(x);
}

static void test_signer_refuses_ca_true(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    bc->ca = 0xff;
    replace_ext(x, NID_basic_constraints, 1, bc);
    BASIC_CONSTRAINTS_free(bc);
    expect_refused(f, "public-ecdsa", "sha256", x);
}

static void test_signer_refuses_cert_sign_key_usage(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set_bit(ku, 0, 1);
    ASN1_BIT_STRING_set_bit(ku, 5, 1); /* keyCertSign */
    replace_ext(x, NID_key_usage, 1, ku);
    ASN1_BIT_STRING_free(ku);
    expect_refused(f, "public-ecdsa", "sha256", x);
}

static void test_signer_refuses_foreign_issuer(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Evil CA", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    X509_NAME_free(n);
    expect_refused(f, "public-ecdsa", "sha256", x);
    /* The right subject, but the other CA's key. */
    expect_refused(f, "public-rsa", "sha256", issued(f, "ssl_dv_geotrust", ISSUER_ECDSA));
}

static void test_signer_refuses_over_long_validity(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    int64_t nb = clock_now();
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + 201 * 86400 - 1));
    expect_refused(f, "public-ecdsa", "sha256", x);
    x = issued(f, "private_ssl_plus", ISSUER_ECDSA);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + 398 * 86400));
    expect_refused(f, "private-ecdsa", "sha256", x);
}

static void test_signer_refuses_backdated_not_before(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    int64_t nb = clock_now() - 3 * 86400;
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + 30 * 86400));
    expect_refused(f, "public-ecdsa", "sha256", x);
}

static void test_signer_refuses_unknown_profile(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    replace_ext(x, NID_certificate_policies, 0, NULL);
    expect_refused(f, "public-ecdsa", "sha256", x);
    /* A private certificate must not claim a CA/B Forum policy. */
    x = issued(f, "private_ssl_plus", ISSUER_ECDSA);
    X509_EXTENSION *pol = ext_policy(OID_POLICY_OV);
    X509_add_ext(x, pol, -1);
    X509_EXTENSION_free(pol);
    expect_refused(f, "private-ecdsa", "sha256", x);
}

static void test_signer_refuses_hash_the_key_may_not_use(void **state)
{
    fixture *f = *state;
    expect_refused(f, "public-ecdsa", "sha384", issued(f, "ssl_dv_geotrust", ISSUER_ECDSA));
    expect_refused(f, "public-rsa", "sha1", issued(f, "ssl_dv_geotrust", ISSUER_RSA));
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_RSA);
    cm_err err;
    assert_int_equal(signer_sign_cert(f->pki->signer, "public-rsa", "sha512", x, &err), 0);
    X509_free(x);
}

static void test_signer_refuses_unknown_ca(void **state)
{
    fixture *f = *state;
    expect_refused(f, "public-ecdsa-root", "sha256", issued(f, "ssl_dv_geotrust", ISSUER_ECDSA));
}

static void test_ca_keys_are_encrypted_and_need_the_passphrase(void **state)
{
    fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/ca/public-ecdsa.key", f->dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[128];
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_string_equal(line, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
    setenv("CERTMINT_CA_PASSPHRASE", "not-the-right-passphrase-000", 1);
    cm_pki *other = NULL;
    cm_err err;
    assert_int_equal(pki_open(&f->cfg, &other, &err), -1);
    assert_string_equal(err.code, "ca_key_unreadable");
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signer_signs_a_good_certificate_again),
        cmocka_unit_test(test_signer_refuses_ca_true),
        cmocka_unit_test(test_signer_refuses_cert_sign_key_usage),
        cmocka_unit_test(test_signer_refuses_foreign_issuer),
        cmocka_unit_test(test_signer_refuses_over_long_validity),
        cmocka_unit_test(test_signer_refuses_backdated_not_before),
        cmocka_unit_test(test_signer_refuses_unknown_profile),
        cmocka_unit_test(test_signer_refuses_hash_the_key_may_not_use),
        cmocka_unit_test(test_signer_refuses_unknown_ca),
        cmocka_unit_test(test_ca_keys_are_encrypted_and_need_the_passphrase),
    };
    return cmocka_run_group_tests_name("signer", tests, setup, teardown);
}
