/* test_revocation.c — CRLs (crl_make) and the OCSP responder core (ocsp_respond), checked with
 * OpenSSL's own parsers and verifiers and with the `openssl crl` / `openssl ocsp` tools:
 * a CRL is v2 with the CA subject as issuer byte for byte, AKI = the CA's SKI, the CRLNumber
 * given, reason codes (none for unspecified), serials equal to the certificates', nextUpdate
 * within 10 days, and a signature that verifies with the CA; certificateHold, unknown CAs, bad
 * serials and long windows are refused, and the signer process refuses a CRL it must not sign.
 * OCSP: good, revoked (time, reason) and unknown answers for SHA-1 and SHA-256 CertIDs, signed
 * by the issuing CA (responderID byKey, no certificates), nonce echoed, 4-day validity, verified
 * by OCSP_basic_verify against the chain; malformedRequest, unauthorized and tryLater answers;
 * the signer refuses CertIDs of another CA and over-long windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/internal.h"
#include "util/clock.h"

#define N_LEAVES 4

typedef struct fixture {
    char dir[64];
    cm_config cfg;
    cm_pki *pki;
    X509 *leaf[N_LEAVES]; /* public-ecdsa ×2, public-rsa, private-ecdsa */
    char serial[N_LEAVES][41];
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

/* Issues a DV (public) or private certificate through the whole engine. */
static X509 *issue(fixture *f, const char *product, cm_issuer_kind kind, char serial[41])
{
    int csr_len = 0;
    unsigned char *csr_der = make_csr(&csr_len);
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    cm_err err;
    cm_name name;
    const cm_product *p = product_find(product);
    cm_name_policy pol = product_name_policy(p);
    assert_int_equal(csr_parse(csr_der, (size_t)csr_len, &csr, &err), 0);
    assert_int_equal(name_normalize(p->hierarchy == HIER_PUBLIC ? "www.example.com" : "db.internal",
                                    &pol, &name, &err),
                     0);
    cm_org org;
    memset(&org, 0, sizeof org);
    snprintf(org.name, sizeof org.name, "Example Ltd");
    snprintf(org.city, sizeof org.city, "London");
    snprintf(org.country, sizeof org.country, "GB");
    cm_issue_req req = {.product = p,
                        .names = &name,
                        .n_names = 1,
                        .cn_index = 0,
                        .org = p->validation == VAL_DV ? NULL : &org,
                        .issuer = kind};
    if (cert_issue(f->pki, csr, &req, &cert, &err) != 0)
        fail_msg("cert_issue: %s: %s", err.code, err.msg);
    size_t len = 0;
    const unsigned char *der = cert_der(cert, &len);
    X509 *x = d2i_X509(NULL, &der, (long)len);
    assert_non_null(x);
    cert_serial_hex(cert, serial, 41);
    cert_free(cert);
    csr_free(csr);
    OPENSSL_free(csr_der);
    return x;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/certmint-revocation-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
    config_defaults(&f->cfg);
    cm_err err;
    assert_int_equal(config_set(&f->cfg, "dir", f->dir, &err), 0);
    cm_init_opts o = {"certmint test", "XX", 2048, 2048};
    assert_int_equal(ca_init(&f->cfg, &o, &err), 0);
    assert_int_equal(pki_open(&f->cfg, &f->pki, &err), 0);
    f->leaf[0] = issue(f, "ssl_dv_geotrust", ISSUER_ECDSA, f->serial[0]);
    f->leaf[1] = issue(f, "ssl_dv_geotrust", ISSUER_ECDSA, f->serial[1]);
    f->leaf[2] = issue(f, "ssl_dv_geotrust", ISSUER_RSA, f->serial[2]);
    f->leaf[3] = issue(f, "private_ssl_plus", ISSUER_ECDSA, f->serial[3]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    for (int i = 0; i < N_LEAVES; i++)
        X509_free(f->leaf[i]);
    pki_close(f->pki);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Writes bytes to DIR/name; returns the path in buf. */
static const char *put_file(fixture *f, const char *name, const void *data, size_t len, char *buf,
                            size_t bufsz)
{
    snprintf(buf, bufsz, "%s/%s", f->dir, name);
    FILE *fp = fopen(buf, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

static void put_pem(fixture *f, const char *name, X509 *x, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s/%s", f->dir, name);
    FILE *fp = fopen(buf, "w");
    assert_non_null(fp);
    assert_true(PEM_write_X509(fp, x));
    assert_int_equal(fclose(fp), 0);
}

/* Runs a shell command; returns its exit status and its output (stdout and stderr). */
static int run(const char *cmd, char *out, size_t outsz)
{
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outsz - 1, p);
    out[n] = '\0';
    return pclose(p);
}

/* Fails with the whole text when `needle` is not in it. */
static void expect_in(const char *out, const char *needle)
{
    if (strstr(out, needle) == NULL)
        fail_msg("\"%s\" not in:\n%s", needle, out);
}

/* run(), failing the test with the tool's output when it does not succeed. */
static void run_ok(const char *cmd, char *out, size_t outsz)
{
    if (run(cmd, out, outsz) != 0)
        fail_msg("%s failed:\n%s", cmd, out);
}

static int64_t time_of(const ASN1_TIME *t)
{
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
    return (int64_t)timegm(&tm);
}

/* ---- CRLs ---- */

static X509_CRL *make_crl(fixture *f, const char *ca, const cm_revoked_entry *e, size_t n,
                          uint64_t number, int64_t tu, int64_t nu, unsigned char **der, size_t *len)
{
    cm_err err;
    cm_err_clear(&err);
    int rc = crl_make(f->pki, ca, e, n, number, tu, nu, der, len, &err);
    if (rc != 0)
        fail_msg("crl_make: %s: %s", err.code, err.msg);
    const unsigned char *p = *der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)*len);
    assert_non_null(crl);
    assert_ptr_equal(p, *der + *len);
    return crl;
}

/* Checks one CA's CRL field by field, then with `openssl crl`. */
static void check_crl_of(fixture *f, const char *ca_id, int leaf, int sig_nid)
{
    const cm_ca_pub *ca = pki_find_ca(f->pki, ca_id);
    int64_t now = clock_now();
    cm_revoked_entry e[4] = {
        {"", now - 3600, 0},
        {"5a0102030405060708090a0b0c0d0e0f", now - 7200, 1},
        {"4b0102030405060708090a0b0c0d0e0f", now - 60, 4},
        {"7f01", now - 120, 9},
    };
    snprintf(e[0].serial_hex, sizeof e[0].serial_hex, "%s", f->serial[leaf]);
    unsigned char *der = NULL;
    size_t len = 0;
    X509_CRL *crl = make_crl(f, ca_id, e, 4, 42, now, now + 7 * 86400, &der, &len);
    /* v2; issuer byte-identical to the CA subject. */
    assert_int_equal(X509_CRL_get_version(crl), 1);
    unsigned char *a = NULL, *b = NULL;
    int la = i2d_X509_NAME(X509_CRL_get_issuer(crl), &a);
    int lb = i2d_X509_NAME(X509_get_subject_name(ca->cert), &b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, (size_t)la);
    OPENSSL_free(a);
    OPENSSL_free(b);
    /* AKI = the CA's SKI (key identifier only); CRLNumber. */
    int crit = 0;
    AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
    assert_non_null(aki);
    assert_int_equal(crit, 0);
    assert_null(aki->issuer);
    assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(ca->cert)), 0);
    AUTHORITY_KEYID_free(aki);
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
    uint64_t n = 0;
    assert_non_null(num);
    assert_int_equal(ASN1_INTEGER_get_uint64(&n, num), 1);
    assert_int_equal(n, 42);
    ASN1_INTEGER_free(num);
    /* thisUpdate, nextUpdate ≤ 10 days later. */
    assert_int_equal(time_of(X509_CRL_get0_lastUpdate(crl)), now);
    assert_int_equal(time_of(X509_CRL_get0_nextUpdate(crl)), now + 7 * 86400);
    /* Entries: serials, dates, reasons (none for unspecified). */
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    assert_int_equal(sk_X509_REVOKED_num(revs), 4);
    for (int i = 0; i < 4; i++) {
        X509_REVOKED *r = NULL;
        char hex[48];
        snprintf(hex, sizeof hex, "0x%.40s", e[i].serial_hex);
        ASN1_INTEGER *want = s2i_ASN1_INTEGER(NULL, hex);
        assert_non_null(want);
        assert_int_equal(X509_CRL_get0_by_serial(crl, &r, want), 1);
        ASN1_INTEGER_free(want);
        assert_int_equal(time_of(X509_REVOKED_get0_revocationDate(r)), e[i].revoked_at);
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
        if (e[i].reason == 0) {
            assert_null(reason);
        } else {
            assert_non_null(reason);
            assert_int_equal(ASN1_ENUMERATED_get(reason), e[i].reason);
        }
        ASN1_ENUMERATED_free(reason);
    }
    /* The revoked certificate's serial bytes are those of the certificate. */
    X509_REVOKED *r = NULL;
    assert_int_equal(X509_CRL_get0_by_cert(crl, &r, f->leaf[leaf]), 1);
    const ASN1_INTEGER *cs = X509_get0_serialNumber(f->leaf[leaf]);
    const ASN1_INTEGER *rs = X509_REVOKED_get0_serialNumber(r);
    assert_int_equal(ASN1_STRING_length(cs), ASN1_STRING_length(rs));
    assert_memory_equal(ASN1_STRING_get0_data(cs), ASN1_STRING_get0_data(rs),
                        (size_t)ASN1_STRING_length(cs));
    /* Signed by the CA with the expected algorithm. */
    assert_int_equal(X509_CRL_get_signature_nid(crl), sig_nid);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca->cert)), 1);
    /* And as the openssl tool reads it. */
    char crl_path[128], ca_path[128], cmd[512], out[8192];
    put_file(f, "test.crl", der, len, crl_path, sizeof crl_path);
    put_pem(f, "ca.pem", ca->cert, ca_path, sizeof ca_path);
    snprintf(cmd, sizeof cmd, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout -text",
             crl_path, ca_path);
    run_ok(cmd, out, sizeof out);
    expect_in(out, "verify OK");
    expect_in(out, "Version 2 (0x1)");
    expect_in(out, "X509v3 CRL Number");
    expect_in(out, "Key Compromise");
    expect_in(out, "Privilege Withdrawn");
    assert_null(strstr(out, "Certificate Hold"));
    X509_CRL_free(crl);
    free(der);
}

static void test_crl_is_a_signed_v2_crl_with_aki_number_and_reasons(void **state)
{
    fixture *f = *state;
    check_crl_of(f, "public-ecdsa", 0, NID_ecdsa_with_SHA256);
    check_crl_of(f, "public-rsa", 2, NID_sha256WithRSAEncryption);
    check_crl_of(f, "private-ecdsa", 3, NID_ecdsa_with_SHA256);
}

static void test_crl_with_no_entries(void **state)
{
    fixture *f = *state;
    int64_t now = clock_now();
    unsigned char *der = NULL;
    size_t len = 0;
    X509_CRL *crl = make_crl(f, "private-rsa", NULL, 0, 1, now, now + 10 * 86400, &der, &len);
    assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0); /* absent */
    const cm_ca_pub *ca = pki_find_ca(f->pki, "private-rsa");
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca->cert)), 1);
    X509_CRL_free(crl);
    free(der);
}

static void expect_crl_error(fixture *f, const char *ca, const cm_revoked_entry *e, size_t n,
                             int64_t tu, int64_t nu, const char *code)
{
    unsigned char *der = NULL;
    size_t len = 0;
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(crl_make(f->pki, ca, e, n, 7, tu, nu, &der, &len, &err), -1);
    assert_string_equal(err.code, code);
    assert_null(der);
}

/* Thousands of entries fit in one CRL; past the signer's message size it says so and the
 * signer keeps serving. */
static void test_crl_size_limit(void **state)
{
    fixture *f = *state;
    int64_t now = clock_now();
    size_t n = 8000;
    cm_revoked_entry *e = calloc(n, sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < n; i++) {
        snprintf(e[i].serial_hex, sizeof e[i].serial_hex, "%08zx0102030405060708090a0b0c", i + 1);
        e[i].serial_hex[0] = '4';
        e[i].revoked_at = now - (int64_t)i;
        e[i].reason = 4;
    }
    unsigned char *der = NULL;
    size_t len = 0;
    X509_CRL *crl = make_crl(f, "public-ecdsa", e, 4000, 9, now, now + 86400, &der, &len);
    assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 4000);
    X509_CRL_free(crl);
    free(der);
    der = NULL;
    expect_crl_error(f, "public-ecdsa", e, n, now, now + 86400, "signer_message_too_large");
    assert_true(pki_signer_healthy(f->pki));
    free(e);
}

static void test_crl_refuses_hold_unknown_ca_bad_serial_and_long_window(void **state)
{
    fixture *f = *state;
    int64_t now = clock_now();
    cm_revoked_entry e = {"", now, 6};
    snprintf(e.serial_hex, sizeof e.serial_hex, "%s", f->serial[0]);
    expect_crl_error(f, "public-ecdsa", &e, 1, now, now + 86400, "crl_reason_invalid");
    e.reason = 2; /* cACompromise: not for subscriber CRLs (BR §7.2.2) */
    expect_crl_error(f, "public-ecdsa", &e, 1, now, now + 86400, "crl_reason_invalid");
    e.reason = 8; /* removeFromCRL */
    expect_crl_error(f, "public-ecdsa", &e, 1, now, now + 86400, "crl_reason_invalid");
    e.reason = 1;
    expect_crl_error(f, "public-ecdsa-root", &e, 1, now, now + 86400, "ca_unknown");
    expect_crl_error(f, "nope", &e, 1, now, now + 86400, "ca_unknown");
    expect_crl_error(f, "public-ecdsa", &e, 1, now, now + 10 * 86400 + 1, "crl_dates_invalid");
    expect_crl_error(f, "public-ecdsa", &e, 1, now, now, "crl_dates_invalid");
    static const char *bad[] = {"", "00", "ZZ", "abc", "8001", "0001", "ABCD", "12 34"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(e.serial_hex, sizeof e.serial_hex, "%s", bad[i]);
        expect_crl_error(f, "public-ecdsa", &e, 1, now, now + 86400, "crl_serial_invalid");
    }
}

/* A CRL built by hand, to show what the signer process itself refuses. */
static X509_CRL *raw_crl(X509 *issuer, int64_t tu, int64_t nu, int reason)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)tu), *n = ASN1_TIME_set(NULL, (time_t)nu);
    assert_true(X509_CRL_set_version(crl, 1));
    assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)));
    assert_true(X509_CRL_set1_lastUpdate(crl, t));
    assert_true(X509_CRL_set1_nextUpdate(crl, n));
    if (reason >= 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_ENUMERATED *code = ASN1_ENUMERATED_new();
        assert_true(ASN1_INTEGER_set(sn, 0x4242));
        assert_true(X509_REVOKED_set_serialNumber(r, sn));
        assert_true(X509_REVOKED_set_revocationDate(r, t));
        assert_true(ASN1_ENUMERATED_set(code, reason));
        assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, code, 0, 0), 1);
        assert_true(X509_CRL_add0_revoked(crl, r));
        ASN1_INTEGER_free(sn);
        ASN1_ENUMERATED_free(code);
    }
    ASN1_TIME_free(t);
    ASN1_TIME_free(n);
    return crl;
}

static void test_signer_refuses_crls_it_must_not_sign(void **state)
{
    fixture *f = *state;
    int64_t now = clock_now();
    const cm_ca_pub *ec = pki_find_ca(f->pki, "public-ecdsa");
    const cm_ca_pub *rsa = pki_find_ca(f->pki, "public-rsa");
    struct {
        const char *ca;
        X509_CRL *crl;
    } cases[] = {
        {"public-ecdsa", raw_crl(ec->cert, now, now + 11 * 86400, -1)}, /* > 10 days */
        {"public-ecdsa", raw_crl(ec->cert, now, now - 60, -1)},         /* ends first */
        {"public-ecdsa", raw_crl(rsa->cert, now, now + 86400, -1)},     /* other issuer */
        {"public-ecdsa", raw_crl(ec->cert, now, now + 86400, 6)},       /* certificateHold */
        {"public-ecdsa-root", raw_crl(ec->cert, now, now + 86400, -1)}, /* no such CA */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_err err;
        cm_err_clear(&err);
        assert_int_equal(signer_sign_crl(f->pki->signer, cases[i].ca, "sha256", cases[i].crl, &err),
                         -1);
        assert_string_equal(err.code, "signer_refused");
        X509_CRL_free(cases[i].crl);
    }
    /* A good one signs in place. */
    X509_CRL *crl = raw_crl(ec->cert, now, now + 86400, 1);
    cm_err err;
    assert_int_equal(signer_sign_crl(f->pki->signer, "public-ecdsa", "sha256", crl, &err), 0);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ec->cert)), 1);
    X509_CRL_free(crl);
}

/* ---- OCSP ---- */

typedef struct lookup_table {
    int fail; /* answer -1 (a store error) */
    int calls;
    struct {
        const char *serial;
        cm_ocsp_status status;
        int64_t when;
        int reason;
    } rows[4];
    size_t n;
} lookup_table;

static int lookup(void *arg, const char *ca_id, const char *serial_hex, cm_ocsp_status *status,
                  int64_t *revoked_at, int *reason)
{
    lookup_table *t = arg;
    t->calls++;
    if (t->fail)
        return -1;
    assert_non_null(ca_id);
    *status = OCSP_CERT_UNKNOWN;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].serial, serial_hex) == 0) {
            *status = t->rows[i].status;
            *revoked_at = t->rows[i].when;
            *reason = t->rows[i].reason;
        }
    return 0;
}

/* Builds a DER OCSP request for the given CertIDs (taken over) with an optional nonce. */
static unsigned char *make_request(OCSP_CERTID **ids, size_t n, int nonce, OCSP_REQUEST **keep,
                                   size_t *len)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    unsigned char *der = NULL;
    assert_non_null(req);
    for (size_t i = 0; i < n; i++)
        assert_non_null(OCSP_request_add0_id(req, ids[i]));
    if (nonce)
        assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
    int l = i2d_OCSP_REQUEST(req, &der);
    assert_true(l > 0);
    *len = (size_t)l;
    if (keep != NULL)
        *keep = req;
    else
        OCSP_REQUEST_free(req);
    return der;
}

/* Answers `req` and returns the response status; *bs gets the basic response if any. */
static int respond(fixture *f, const unsigned char *req, size_t len, lookup_table *t,
                   OCSP_BASICRESP **bs, unsigned char **der_out, size_t *der_len)
{
    unsigned char *resp = NULL;
    size_t rlen = 0;
    cm_err err;
    cm_err_clear(&err);
    if (ocsp_respond(f->pki, req, len, lookup, t, &resp, &rlen, &err) != 0)
        fail_msg("ocsp_respond: %s: %s", err.code, err.msg);
    const unsigned char *p = resp;
    OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)rlen);
    assert_non_null(r);
    int status = OCSP_response_status(r);
    if (bs != NULL)
        *bs = status == OCSP_RESPONSE_STATUS_SUCCESSFUL ? OCSP_response_get1_basic(r) : NULL;
    OCSP_RESPONSE_free(r);
    if (der_out != NULL) {
        *der_out = resp;
        *der_len = rlen;
    } else {
        free(resp);
    }
    return status;
}

/* Verifies a basic response against the issuing CA and its root. */
static void verify_basic(fixture *f, OCSP_BASICRESP *bs, const char *ca_id)
{
    const cm_ca_pub *ca = pki_find_ca(f->pki, ca_id);
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *certs = sk_X509_new_null();
    assert_true(X509_STORE_add_cert(store, ca->root));
    assert_true(sk_X509_push(certs, ca->cert));
    assert_int_equal(OCSP_basic_verify(bs, certs, store, 0), 1);
    /* Signed by the CA itself: responderID byKey, no certificates carried. */
    const ASN1_OCTET_STRING *keyid = NULL;
    const X509_NAME *name = NULL;
    assert_int_equal(OCSP_resp_get0_id(bs, &keyid, &name), 1);
    assert_non_null(keyid);
    assert_null(name);
    unsigned char sha1[20];
    unsigned int l = 0;
    assert_true(X509_pubkey_digest(ca->cert, EVP_sha1(), sha1, &l));
    assert_int_equal(ASN1_STRING_length(keyid), 20);
    assert_memory_equal(ASN1_STRING_get0_data(keyid), sha1, 20);
    assert_true(sk_X509_num(OCSP_resp_get0_certs(bs)) <= 0); /* absent */
    assert_int_equal(OCSP_resp_get0_signer(bs, &(X509 *){NULL}, certs), 1);
    sk_X509_free(certs);
    X509_STORE_free(store);
}

/* Checks one answer of a response. */
static void expect_status(OCSP_BASICRESP *bs, OCSP_CERTID *id, int status, int reason,
                          int64_t revoked_at)
{
    int st = -1, rs = -2;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    assert_int_equal(OCSP_resp_find_status(bs, id, &st, &rs, &rev, &thisupd, &nextupd), 1);
    assert_int_equal(st, status);
    if (status == V_OCSP_CERTSTATUS_REVOKED) { /* the reason is only read for revoked */
        assert_int_equal(rs, reason);
        assert_int_equal(time_of(rev), revoked_at);
    }
    int64_t tu = time_of(thisupd), nu = time_of(nextupd);
    assert_true(tu <= clock_now() && tu > clock_now() - 60);
    assert_int_equal(nu - tu, 4 * 86400);
    assert_int_equal(OCSP_check_validity(thisupd, nextupd, 300, -1), 1);
}

static void test_ocsp_answers_good_revoked_and_unknown(void **state)
{
    fixture *f = *state;
    const cm_ca_pub *ca = pki_find_ca(f->pki, "public-ecdsa");
    int64_t when = clock_now() - 86400;
    lookup_table t = {.n = 2};
    t.rows[0].serial = f->serial[0];
    t.rows[0].status = OCSP_CERT_GOOD;
    t.rows[1].serial = f->serial[1];
    t.rows[1].status = OCSP_CERT_REVOKED;
    t.rows[1].when = when;
    t.rows[1].reason = 1;
    /* Three CertIDs (SHA-1): good, revoked, and a serial the store never saw. */
    X509 *stranger = X509_dup(f->leaf[0]);
    ASN1_INTEGER_set(X509_get_serialNumber(stranger), 0x1234567);
    OCSP_CERTID *ids[3] = {OCSP_cert_to_id(NULL, f->leaf[0], ca->cert),
                           OCSP_cert_to_id(NULL, f->leaf[1], ca->cert),
                           OCSP_cert_to_id(NULL, stranger, ca->cert)};
    OCSP_CERTID *keep[3];
    for (int i = 0; i < 3; i++)
        keep[i] = OCSP_CERTID_dup(ids[i]);
    OCSP_REQUEST *req = NULL;
    size_t len = 0;
    unsigned char *der = make_request(ids, 3, 1, &req, &len);
    OCSP_BASICRESP *bs = NULL;
    unsigned char *resp = NULL;
    size_t rlen = 0;
    assert_int_equal(respond(f, der, len, &t, &bs, &resp, &rlen), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    assert_int_equal(t.calls, 3);
    verify_basic(f, bs, "public-ecdsa");
    assert_int_equal(OCSP_check_nonce(req, bs), 1);
    assert_int_equal(OCSP_resp_count(bs), 3);
    expect_status(bs, keep[0], V_OCSP_CERTSTATUS_GOOD, -1, 0);
    expect_status(bs, keep[1], V_OCSP_CERTSTATUS_REVOKED, 1, when);
    expect_status(bs, keep[2], V_OCSP_CERTSTATUS_UNKNOWN, -1, 0);
    /* The openssl client verifies it against the root and reads the status. */
    char leaf[128], leaf2[128], inter[128], root[128], rpath[128], cmd[1024], out[8192];
    put_pem(f, "leaf.pem", f->leaf[0], leaf, sizeof leaf);
    put_pem(f, "leaf2.pem", f->leaf[1], leaf2, sizeof leaf2);
    put_pem(f, "int.pem", ca->cert, inter, sizeof inter);
    put_pem(f, "root.pem", ca->root, root, sizeof root);
    put_file(f, "resp.der", resp, rlen, rpath, sizeof rpath);
    /* -no_nonce: with -cert the tool makes a request of its own, with another nonce. */
    snprintf(cmd, sizeof cmd,
             "openssl ocsp -issuer '%s' -cert '%s' -cert '%s' -respin '%s' -CAfile '%s' "
             "-no_nonce -resp_text",
             inter, leaf, leaf2, rpath, root);
    run_ok(cmd, out, sizeof out);
    expect_in(out, "Response verify OK");
    expect_in(out, "leaf.pem: good");
    expect_in(out, "leaf2.pem: revoked");
    expect_in(out, "Revocation Reason: keyCompromise");
    expect_in(out, "Responder Id");
    /* With the request itself, the tool checks the nonce it carried. */
    char qpath[128];
    put_file(f, "req.der", der, len, qpath, sizeof qpath);
    snprintf(cmd, sizeof cmd, "openssl ocsp -reqin '%s' -respin '%s' -CAfile '%s' -VAfile '%s'",
             qpath, rpath, root, inter);
    run_ok(cmd, out, sizeof out);
    expect_in(out, "Response verify OK");
    assert_null(strstr(out, "Nonce"));
    for (int i = 0; i < 3; i++)
        OCSP_CERTID_free(keep[i]);
    OCSP_BASICRESP_free(bs);
    OCSP_REQUEST_free(req);
    OPENSSL_free(der);
    free(resp);
    X509_free(stranger);
}

static void test_ocsp_sha256_certid_rsa_ca_without_nonce(void **state)
{
    fixture *f = *state;
    const cm_ca_pub *ca = pki_find_ca(f->pki, "public-rsa");
    lookup_table t = {.n = 1};
    t.rows[0].serial = f->serial[2];
    t.rows[0].status = OCSP_CERT_REVOKED;
    t.rows[0].when = clock_now() - 10;
    t.rows[0].reason = 0; /* unspecified: no reason in the answer, as in the CRL */
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha256(), f->leaf[2], ca->cert);
    OCSP_CERTID *keep = OCSP_CERTID_dup(id);
    OCSP_REQUEST *req = NULL;
    size_t len = 0;
    unsigned char *der = make_request(&id, 1, 0, &req, &len);
    OCSP_BASICRESP *bs = NULL;
    unsigned char *resp = NULL;
    size_t rlen = 0;
    assert_int_equal(respond(f, der, len, &t, &bs, &resp, &rlen), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    verify_basic(f, bs, "public-rsa");
    assert_int_equal(OCSP_check_nonce(req, bs), 2); /* none asked, none given */
    /* The openssl client as an operator would run it on a saved response. */
    char leaf[128], inter[128], root[128], rpath[128], cmd[1024], out[8192];
    put_pem(f, "leaf.pem", f->leaf[2], leaf, sizeof leaf);
    put_pem(f, "int.pem", ca->cert, inter, sizeof inter);
    put_pem(f, "root.pem", ca->root, root, sizeof root);
    put_file(f, "resp.der", resp, rlen, rpath, sizeof rpath);
    snprintf(cmd, sizeof cmd,
             "openssl ocsp -sha256 -issuer '%s' -cert '%s' -respin '%s' -CAfile '%s' -resp_text",
             inter, leaf, rpath, root);
    run_ok(cmd, out, sizeof out);
    expect_in(out, "Response verify OK");
    expect_in(out, "leaf.pem: revoked");
    free(resp);
    expect_status(bs, keep, V_OCSP_CERTSTATUS_REVOKED, -1, t.rows[0].when);
    const ASN1_OBJECT *alg = NULL;
    X509_ALGOR_get0(&alg, NULL, NULL, OCSP_resp_get0_tbs_sigalg(bs));
    assert_int_equal(OBJ_obj2nid(alg), NID_sha256WithRSAEncryption);
    OCSP_CERTID_free(keep);
    OCSP_BASICRESP_free(bs);
    OCSP_REQUEST_free(req);
    OPENSSL_free(der);
}

static void test_ocsp_error_answers(void **state)
{
    fixture *f = *state;
    const cm_ca_pub *ec = pki_find_ca(f->pki, "public-ecdsa");
    const cm_ca_pub *rsa = pki_find_ca(f->pki, "public-rsa");
    lookup_table t = {.n = 0};
    size_t len = 0;
    /* Not DER, empty, trailing bytes. */
    assert_int_equal(respond(f, (const unsigned char *)"junk", 4, &t, NULL, NULL, NULL),
                     OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    assert_int_equal(respond(f, (const unsigned char *)"", 0, &t, NULL, NULL, NULL),
                     OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, f->leaf[0], ec->cert);
    unsigned char *der = make_request(&id, 1, 1, NULL, &len);
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(respond(f, longer, len + 1, &t, NULL, NULL, NULL),
                     OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    free(longer);
    /* A store error: tryLater. */
    t.fail = 1;
    assert_int_equal(respond(f, der, len, &t, NULL, NULL, NULL), OCSP_RESPONSE_STATUS_TRYLATER);
    t.fail = 0;
    OPENSSL_free(der);
    /* An issuer that is not an issuing CA (the root), and two CAs in one request. */
    id = OCSP_cert_to_id(NULL, ec->cert, ec->root);
    der = make_request(&id, 1, 0, NULL, &len);
    assert_int_equal(respond(f, der, len, &t, NULL, NULL, NULL), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
    OPENSSL_free(der);
    OCSP_CERTID *two[2] = {OCSP_cert_to_id(NULL, f->leaf[0], ec->cert),
                           OCSP_cert_to_id(NULL, f->leaf[2], rsa->cert)};
    der = make_request(two, 2, 0, NULL, &len);
    assert_int_equal(respond(f, der, len, &t, NULL, NULL, NULL), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
    OPENSSL_free(der);
    /* More single requests than answered. */
    OCSP_CERTID *many[OCSP_MAX_SINGLE + 1];
    for (int i = 0; i <= OCSP_MAX_SINGLE; i++)
        many[i] = OCSP_cert_to_id(NULL, f->leaf[0], ec->cert);
    der = make_request(many, OCSP_MAX_SINGLE + 1, 0, NULL, &len);
    t.calls = 0;
    assert_int_equal(respond(f, der, len, &t, NULL, NULL, NULL),
                     OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    assert_int_equal(t.calls, 0);
    OPENSSL_free(der);
    /* Exactly the maximum is answered, every one. */
    for (int i = 0; i < OCSP_MAX_SINGLE; i++)
        many[i] = OCSP_cert_to_id(NULL, f->leaf[0], ec->cert);
    der = make_request(many, OCSP_MAX_SINGLE, 0, NULL, &len);
    OCSP_BASICRESP *bs = NULL;
    assert_int_equal(respond(f, der, len, &t, &bs, NULL, NULL), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    assert_int_equal(OCSP_resp_count(bs), OCSP_MAX_SINGLE);
    OCSP_BASICRESP_free(bs);
    OPENSSL_free(der);
}

static void test_signer_refuses_ocsp_it_must_not_sign(void **state)
{
    fixture *f = *state;
    const cm_ca_pub *rsa = pki_find_ca(f->pki, "public-rsa");
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, f->leaf[2], rsa->cert);
    unsigned char *der = NULL;
    int len = i2d_OCSP_CERTID(id, &der);
    signer_ocsp_single one = {der, (size_t)len, V_OCSP_CERTSTATUS_GOOD, -1, 0};
    int64_t now = clock_now();
    OCSP_BASICRESP *bs = NULL;
    cm_err err;
    /* Another CA's certificate; a window over 10 days; a stale thisUpdate; certificateHold. */
    assert_int_equal(signer_sign_ocsp(f->pki->signer, "public-ecdsa", "sha256", &one, 1, now,
                                      now + 86400, NULL, 0, &bs, &err),
                     -1);
    assert_string_equal(err.code, "signer_refused");
    assert_int_equal(signer_sign_ocsp(f->pki->signer, "public-rsa", "sha256", &one, 1, now,
                                      now + 10 * 86400 + 1, NULL, 0, &bs, &err),
                     -1);
    assert_string_equal(err.code, "signer_refused");
    assert_int_equal(signer_sign_ocsp(f->pki->signer, "public-rsa", "sha256", &one, 1, now - 86400,
                                      now + 86400, NULL, 0, &bs, &err),
                     -1);
    assert_string_equal(err.code, "signer_refused");
    signer_ocsp_single held = {der, (size_t)len, V_OCSP_CERTSTATUS_REVOKED, 6, now};
    assert_int_equal(signer_sign_ocsp(f->pki->signer, "public-rsa", "sha256", &held, 1, now,
                                      now + 86400, NULL, 0, &bs, &err),
                     -1);
    assert_string_equal(err.code, "signer_refused");
    /* The same answer for its own CA is signed. */
    assert_int_equal(signer_sign_ocsp(f->pki->signer, "public-rsa", "sha256", &one, 1, now,
                                      now + 86400, NULL, 0, &bs, &err),
                     0);
    verify_basic(f, bs, "public-rsa");
    OCSP_BASICRESP_free(bs);
    OPENSSL_free(der);
    OCSP_CERTID_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crl_is_a_signed_v2_crl_with_aki_number_and_reasons),
        cmocka_unit_test(test_crl_with_no_entries),
        cmocka_unit_test(test_crl_refuses_hold_unknown_ca_bad_serial_and_long_window),
        cmocka_unit_test(test_crl_size_limit),
        cmocka_unit_test(test_signer_refuses_crls_it_must_not_sign),
        cmocka_unit_test(test_ocsp_answers_good_revoked_and_unknown),
        cmocka_unit_test(test_ocsp_sha256_certid_rsa_ca_without_nonce),
        cmocka_unit_test(test_ocsp_error_answers),
        cmocka_unit_test(test_signer_refuses_ocsp_it_must_not_sign),
    };
    return cmocka_run_group_tests_name("revocation", tests, setup, teardown);
}
