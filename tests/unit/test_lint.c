/* test_lint.c — the pre-issuance linter (src/pki/lint.c, rows 1–8 and 10–33 of the checklist in
 * COMPLIANCE.md).
 *
 * A test CA (EC P-256 issuing key with an SKI; an RSA one for RSA signatures) and DV, OV and EV
 * leaf certificates are built here with OpenSSL in exactly the profile COMPLIANCE.md describes:
 * SAN with the CN as first entry, AKI keyid only, AIA caIssuers http, CRLDP http, one reserved
 * policy OID, EKU serverAuth only, KU critical digitalSignature, BC critical CA:FALSE, no SKI, a
 * 16-byte positive serial, notBefore = "now" and 199 days of validity. The good certificates must
 * lint without errors or warnings; then each row is broken in turn and the linter must report that
 * row at the right level. Time is pinned: "now" and the signing time are 2026-11-23T12:00:00Z
 * unless a test moves both. Also covered: lint_der's input handling, lint_decode_certs (PEM chains
 * and DER), the report's capacity and the level names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "pki/lint.h"
#include "pki/lint_int.h"

#define DAY          INT64_C(86400)
#define T_NOW        INT64_C(1795435200) /* 2026-11-23T12:00:00Z */
#define T_2027_03_20 INT64_C(1805544000) /* after Chrome's serverAuth-only date */
#define T_2027_03_14 INT64_C(1805025600) /* the day before it */
#define T_2026_03_10 INT64_C(1773144000) /* before SC-081's first step */
#define T_2050       INT64_C(2524608000) /* 2050-01-01T00:00:00Z */

#define POL_DV "2.23.140.1.2.1"
#define POL_OV "2.23.140.1.2.2"
#define POL_EV "2.23.140.1.1"

typedef enum { DV, OV, EV, PRIVATE } leaf_type;

/* Keys and CAs shared by every test, made once in setup. */
static EVP_PKEY *ca_key, *rsa_ca_key, *leaf_ec, *leaf_rsa;
static X509 *ca, *rsa_ca;
static CONF *conf;
static X509 *cur_issuer; /* the issuer extensions are built against */
static cm_lint_report rep;

/* Extension sections for the tests that need more than a one-line value. */
static const char conf_text[] = "[cps_pol]\n"
                                "policyIdentifier = " POL_DV "\n"
                                "CPS.1 = http://cps.example.net/cps\n"
                                "[notice_pol]\n"
                                "policyIdentifier = " POL_DV "\n"
                                "userNotice.1 = @notice\n"
                                "[notice]\n"
                                "explicitText = \"hello\"\n"
                                "[dp_reasons]\n"
                                "fullname = URI:http://crl.example.net/issuing.crl\n"
                                "reasons = keyCompromise\n";

/* ---- Building certificates ---- */

/* Makes a key: "EC" with a curve name, "RSA" with bits, or "ED25519". Fails the test on error. */
static EVP_PKEY *keygen(const char *type, const char *curve, size_t bits)
{
    EVP_PKEY *k = NULL;
    if (strcmp(type, "EC") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    else if (strcmp(type, "ED25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, type, bits);
    assert_non_null(k);
    return k;
}

/* Replaces extension `name` of x with `value` (OpenSSL config syntax, sections from conf_text);
 * a NULL value only removes it. */
static void ext_set(X509 *x, const char *name, const char *value)
{
    X509V3_CTX ctx;
    int nid = OBJ_txt2nid(name), i;
    while (nid != NID_undef && (i = X509_get_ext_by_NID(x, nid, -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, i));
    if (value == NULL)
        return;
    X509V3_set_ctx(&ctx, cur_issuer, x, NULL, NULL, 0);
    X509V3_set_nconf(&ctx, conf);
    X509_EXTENSION *e = X509V3_EXT_nconf(conf, &ctx, name, value);
    assert_non_null(e);
    assert_true(X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
}

/* Sets the subject from name/value pairs ending in NULL. Types: C, jurisdictionC and
 * serialNumber PrintableString, DC and emailAddress IA5String, the rest UTF8String; a name
 * prefix "~" forces UTF8String, "!" BMPString, and "+" adds to the previous RDN. */
static void subject_set(X509 *x, const char *const *kv)
{
    X509_NAME *nm = X509_NAME_new();
    assert_non_null(nm);
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        const char *f = kv[i];
        int set = 0, type = V_ASN1_UTF8STRING;
        if (*f == '+')
            set = -1, f++;
        if (*f == '~')
            f++;
        else if (*f == '!')
            type = V_ASN1_BMPSTRING, f++;
        else if (!strcmp(f, "C") || !strcmp(f, "jurisdictionC") || !strcmp(f, "serialNumber"))
            type = V_ASN1_PRINTABLESTRING;
        else if (!strcmp(f, "DC") || !strcmp(f, "emailAddress"))
            type = V_ASN1_IA5STRING;
        assert_true(
            X509_NAME_add_entry_by_txt(nm, f, type, (const unsigned char *)kv[i + 1], -1, -1, set));
    }
    assert_true(X509_set_subject_name(x, nm));
    X509_NAME_free(nm);
}

#define SUBJECT(x, ...) subject_set(x, (const char *const[]){__VA_ARGS__, NULL})

/* Sets both dates. */
static void times_set(X509 *x, int64_t nb, int64_t na)
{
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na));
}

/* Sets the serial from raw content octets. */
static void serial_set(X509 *x, const unsigned char *b, int len)
{
    assert_true(ASN1_STRING_set(X509_get_serialNumber(x), b, len));
}

/* A good leaf of type t for the public key `pub`, issued by `issuer`, in the COMPLIANCE.md
 * profile. Caller frees. */
static X509 *leaf_for(leaf_type t, X509 *issuer, EVP_PKEY *pub)
{
    static const unsigned char serial[16] = {0x4a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                             0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    X509 *x = X509_new();
    assert_non_null(x);
    cur_issuer = issuer;
    assert_true(X509_set_version(x, X509_VERSION_3));
    serial_set(x, serial, sizeof serial);
    assert_true(X509_set_issuer_name(x, X509_get_subject_name(issuer)));
    times_set(x, T_NOW, T_NOW + 199 * DAY - 1);
    if (t == DV)
        SUBJECT(x, "CN", "www.example.com");
    else if (t == EV)
        SUBJECT(x, "jurisdictionC", "US", "businessCategory", "Private Organization",
                "serialNumber", "1234567", "C", "US", "ST", "California", "L", "San Francisco", "O",
                "Example Inc.", "CN", "www.example.com");
    else
        SUBJECT(x, "C", "US", "ST", "California", "L", "San Francisco", "O", "Example Inc.", "CN",
                "www.example.com");
    assert_true(X509_set_pubkey(x, pub));
    ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:example.com");
    ext_set(x, "authorityKeyIdentifier", "keyid:always");
    ext_set(x, "authorityInfoAccess", "caIssuers;URI:http://ca.example.net/issuing.crt");
    ext_set(x, "crlDistributionPoints", "URI:http://crl.example.net/issuing.crl");
    if (t != PRIVATE)
        ext_set(x, "certificatePolicies", t == DV ? POL_DV : t == OV ? POL_OV : POL_EV);
    ext_set(x, "extendedKeyUsage", "serverAuth");
    ext_set(x, "keyUsage", "critical,digitalSignature");
    ext_set(x, "basicConstraints", "critical,CA:FALSE");
    return x;
}

/* A good EC P-256 leaf of type t from the EC test CA. Caller frees. */
static X509 *leaf(leaf_type t)
{
    return leaf_for(t, ca, leaf_ec);
}

/* A self-signed test CA with an SKI. Caller frees. */
static X509 *make_ca(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    assert_non_null(x);
    cur_issuer = x;
    assert_true(X509_set_version(x, X509_VERSION_3));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567890L));
    SUBJECT(x, "C", "US", "O", "certmint test", "CN", cn);
    assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
    times_set(x, T_NOW - 365 * DAY, T_NOW + 3650 * DAY);
    assert_true(X509_set_pubkey(x, key));
    ext_set(x, "basicConstraints", "critical,CA:TRUE");
    ext_set(x, "keyUsage", "critical,keyCertSign,cRLSign");
    ext_set(x, "subjectKeyIdentifier", "hash");
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

/* DER of x; caller frees with OPENSSL_free. */
static unsigned char *der_of(const X509 *x, int *len)
{
    unsigned char *der = NULL;
    *len = i2d_X509(x, &der);
    assert_true(*len > 0);
    return der;
}

/* ---- Running the linter ---- */

/* Signs x with `key` and `md` (NULL md for Ed25519), encodes it and lints the DER against
 * `issuer` (or none) at `when`. Returns the shared report. */
static const cm_lint_report *run_full(X509 *x, EVP_PKEY *key, const EVP_MD *md, X509 *issuer,
                                      int64_t when)
{
    int len = 0, ilen = 0;
    assert_true(X509_sign(x, key, md) > 0);
    unsigned char *der = der_of(x, &len), *ider = issuer != NULL ? der_of(issuer, &ilen) : NULL;
    assert_int_equal(lint_der(der, (size_t)len, ider, (size_t)ilen, when, &rep), 0);
    OPENSSL_free(der);
    OPENSSL_free(ider);
    return &rep;
}

/* Signs x with the EC test CA and lints it at T_NOW. */
static const cm_lint_report *run(X509 *x)
{
    return run_full(x, ca_key, EVP_sha256(), ca, T_NOW);
}

/* Lints x unsigned, as issuance does before signing (tbs_only), at `when`. */
static const cm_lint_report *run_tbs(X509 *x, int64_t when)
{
    cm_lint_ctx ctx = {.issuer = ca, .signing_time = when, .tbs_only = true};
    memset(&rep, 0, sizeof rep);
    lint_cert(x, &ctx, &rep);
    return &rep;
}

/* Prints the findings (shown when an assertion fails). */
static void dump(const cm_lint_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        print_message("  rule %d: %s: %s\n", r->items[i].rule, lint_level_name(r->items[i].level),
                      r->items[i].msg);
}

/* True when r holds a finding of `rule` at `level`. */
static bool has(const cm_lint_report *r, int rule, cm_lint_level level)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].rule == rule && r->items[i].level == level)
            return true;
    return false;
}

/* Fails unless r holds a finding of `rule` at `level`. */
static void expect(const cm_lint_report *r, int rule, cm_lint_level level)
{
    if (!has(r, rule, level)) {
        dump(r);
        fail_msg("expected a %s under rule %d", lint_level_name(level), rule);
    }
}

/* Fails when r holds any finding of `rule` at error or warning level. */
static void expect_none(const cm_lint_report *r, int rule)
{
    if (has(r, rule, LINT_ERROR) || has(r, rule, LINT_WARN)) {
        dump(r);
        fail_msg("expected no error or warning under rule %d", rule);
    }
}

/* Fails unless r has no errors and no warnings. */
static void expect_clean(const cm_lint_report *r)
{
    if (r->errors != 0 || r->warnings != 0) {
        dump(r);
        fail_msg("expected a clean report, got %zu errors, %zu warnings", r->errors, r->warnings);
    }
}

/* Builds a good leaf of type t, applies `mutate`, lints the signed result and expects `rule` at
 * `level`. */
#define BREAKS(t, rule, level, mutate)                                                             \
    do {                                                                                           \
        X509 *x = leaf(t);                                                                         \
        mutate;                                                                                    \
        expect(run(x), rule, level);                                                               \
        X509_free(x);                                                                              \
    } while (0)

/* ---- The good certificates ---- */

static void test_good_dv_cert_lints_clean(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    const cm_lint_report *r = run(x);
    expect_clean(r);
    assert_int_equal(r->n, 0); /* not even a notice */
    X509_free(x);
}

static void test_good_ov_cert_lints_clean(void **state)
{
    (void)state;
    X509 *x = leaf(OV);
    expect_clean(run(x));
    X509_free(x);
}

static void test_good_ev_cert_lints_clean(void **state)
{
    (void)state;
    X509 *x = leaf(EV);
    expect_clean(run(x));
    X509_free(x);
}

static void test_good_tbs_lints_clean_before_signing(void **state)
{
    (void)state;
    for (leaf_type t = DV; t <= EV; t++) {
        X509 *x = leaf(t);
        expect_clean(run_tbs(x, T_NOW));
        X509_free(x);
    }
}

static void test_good_rsa_leaf_from_rsa_ca_lints_clean(void **state)
{
    (void)state;
    X509 *x = leaf_for(OV, rsa_ca, leaf_rsa);
    ext_set(x, "keyUsage", "critical,digitalSignature,keyEncipherment");
    expect_clean(run_full(x, rsa_ca_key, EVP_sha384(), rsa_ca, T_NOW));
    X509_free(x);
}

static void test_p384_leaf_key_accepted(void **state)
{
    (void)state;
    EVP_PKEY *k = keygen("EC", "P-384", 0);
    X509 *x = leaf_for(DV, ca, k);
    expect_clean(run(x));
    X509_free(x);
    EVP_PKEY_free(k);
}

/* ---- Rows 1–3 ---- */

static void test_version_2_refused(void **state)
{
    (void)state;
    BREAKS(DV, 1, LINT_ERROR, X509_set_version(x, X509_VERSION_2));
}

static void test_serial_one_refused(void **state)
{
    (void)state;
    BREAKS(DV, 2, LINT_ERROR, ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
}

static void test_serial_zero_refused(void **state)
{
    (void)state;
    BREAKS(DV, 2, LINT_ERROR, ASN1_INTEGER_set(X509_get_serialNumber(x), 0));
}

static void test_negative_serial_refused(void **state)
{
    (void)state;
    BREAKS(DV, 2, LINT_ERROR, ASN1_INTEGER_set(X509_get_serialNumber(x), -123456789L));
}

static void test_serial_of_2_to_the_159_refused(void **state)
{
    (void)state;
    unsigned char big[20] = {0x80}; /* exactly 2^159 */
    BREAKS(DV, 2, LINT_ERROR, serial_set(x, big, sizeof big));
}

static void test_serial_just_below_2_to_the_159_accepted(void **state)
{
    (void)state;
    unsigned char big[20];
    memset(big, 0xff, sizeof big);
    big[0] = 0x7f;
    X509 *x = leaf(DV);
    serial_set(x, big, sizeof big);
    expect_none(run(x), 2);
    X509_free(x);
}

static void test_serial_of_seven_octets_refused(void **state)
{
    (void)state;
    static const unsigned char seven[7] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
    BREAKS(DV, 2, LINT_ERROR, serial_set(x, seven, sizeof seven));
}

static void test_non_minimal_serial_refused_before_signing(void **state)
{
    (void)state;
    /* d2i refuses such an INTEGER, so only the unsigned path can see it */
    static const unsigned char padded[17] = {0x00, 0x4a, 1,  2,  3,  4,  5,  6, 7,
                                             8,    9,    10, 11, 12, 13, 14, 15};
    X509 *x = leaf(DV);
    serial_set(x, padded, sizeof padded);
    expect(run_tbs(x, T_NOW), 2, LINT_ERROR);
    X509_free(x);
}

static void test_issuer_name_encoded_differently_refused(void **state)
{
    (void)state;
    /* same text as the CA's subject, but CN as PrintableString: not byte-for-byte */
    X509_NAME *nm = X509_NAME_new();
    assert_non_null(nm);
    X509_NAME_add_entry_by_txt(nm, "C", V_ASN1_PRINTABLESTRING, (const unsigned char *)"US", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(nm, "O", V_ASN1_UTF8STRING, (const unsigned char *)"certmint test",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", V_ASN1_PRINTABLESTRING,
                               (const unsigned char *)"certmint Test ECC Issuing CA", -1, -1, 0);
    BREAKS(DV, 3, LINT_ERROR, X509_set_issuer_name(x, nm));
    X509_NAME_free(nm);
}

static void test_without_issuer_only_notices_for_issuer_rows(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    const cm_lint_report *r = run_full(x, ca_key, EVP_sha256(), NULL, T_NOW);
    expect_clean(r);
    expect(r, 3, LINT_NOTICE);
    expect(r, 4, LINT_NOTICE);
    expect(r, 18, LINT_NOTICE);
    X509_free(x);
}

/* ---- Row 4: signatures ---- */

static void test_sha1_signature_refused(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    expect(run_full(x, ca_key, EVP_sha1(), ca, T_NOW), 4, LINT_ERROR);
    X509_free(x);
}

static void test_sha384_with_p256_issuer_refused(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    expect(run_full(x, ca_key, EVP_sha384(), ca, T_NOW), 4, LINT_ERROR);
    X509_free(x);
}

static void test_ecdsa_signature_under_rsa_issuer_refused(void **state)
{
    (void)state;
    X509 *x = leaf_for(DV, rsa_ca, leaf_ec);
    expect(run_full(x, ca_key, EVP_sha256(), rsa_ca, T_NOW), 4, LINT_ERROR);
    X509_free(x);
}

static void test_signature_fields_that_differ_refused(void **state)
{
    (void)state;
    static const unsigned char ecdsa256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                             0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    int len = 0, ilen = 0;
    X509 *x = leaf(DV);
    assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
    unsigned char *der = der_of(x, &len), *ider = der_of(ca, &ilen), *last = NULL;
    for (unsigned char *p = der; p + sizeof ecdsa256 <= der + len; p++)
        if (memcmp(p, ecdsa256, sizeof ecdsa256) == 0)
            last = p;
    assert_non_null(last);
    if (last != NULL) /* the outer signatureAlgorithm now says SHA-384 */
        last[sizeof ecdsa256 - 1] = 0x03;
    assert_int_equal(lint_der(der, (size_t)len, ider, (size_t)ilen, T_NOW, &rep), 0);
    expect(&rep, 4, LINT_ERROR);
    OPENSSL_free(der);
    OPENSSL_free(ider);
    X509_free(x);
}

/* Signs x with the RSA CA using RSASSA-PSS, SHA-256 and the given salt length. */
static void sign_pss(X509 *x, int saltlen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_non_null(mctx);
    assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, rsa_ca_key), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0);
    assert_true(X509_sign_ctx(x, mctx) > 0);
    EVP_MD_CTX_free(mctx);
}

/* Lints x, already signed, against the RSA CA. */
static const cm_lint_report *run_signed_rsa(X509 *x)
{
    int len = 0, ilen = 0;
    unsigned char *der = der_of(x, &len), *ider = der_of(rsa_ca, &ilen);
    assert_int_equal(lint_der(der, (size_t)len, ider, (size_t)ilen, T_NOW, &rep), 0);
    OPENSSL_free(der);
    OPENSSL_free(ider);
    return &rep;
}

static void test_pss_signature_with_br_parameters_accepted(void **state)
{
    (void)state;
    X509 *x = leaf_for(DV, rsa_ca, leaf_ec);
    sign_pss(x, 32);
    expect_clean(run_signed_rsa(x));
    X509_free(x);
}

static void test_pss_signature_with_wrong_salt_refused(void **state)
{
    (void)state;
    X509 *x = leaf_for(DV, rsa_ca, leaf_ec);
    sign_pss(x, 20);
    expect(run_signed_rsa(x), 4, LINT_ERROR);
    X509_free(x);
}

static void test_tbs_only_skips_signature_row(void **state)
{
    (void)state;
    X509 *x = leaf(DV); /* never signed: its signature fields are empty */
    const cm_lint_report *r = run_tbs(x, T_NOW);
    assert_false(has(r, 4, LINT_ERROR) || has(r, 4, LINT_NOTICE));
    X509_free(x);
}

/* ---- Rows 5–7: dates ---- */

static void test_not_before_three_days_before_signing_refused(void **state)
{
    (void)state;
    BREAKS(DV, 5, LINT_ERROR, times_set(x, T_NOW - 3 * DAY, T_NOW - 3 * DAY + 199 * DAY - 1));
}

static void test_not_before_three_days_after_signing_refused(void **state)
{
    (void)state;
    BREAKS(DV, 5, LINT_ERROR, times_set(x, T_NOW + 3 * DAY, T_NOW + 3 * DAY + 199 * DAY - 1));
}

static void test_not_before_47_hours_back_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    times_set(x, T_NOW - 47 * 3600, T_NOW - 47 * 3600 + 199 * DAY - 1);
    expect_clean(run(x));
    X509_free(x);
}

static void test_201_day_validity_refused(void **state)
{
    (void)state;
    BREAKS(DV, 6, LINT_ERROR, times_set(x, T_NOW, T_NOW + 201 * DAY - 1));
}

static void test_200_days_and_a_second_counts_as_201_days(void **state)
{
    (void)state;
    BREAKS(DV, 6, LINT_ERROR, times_set(x, T_NOW, T_NOW + 200 * DAY));
}

static void test_200_day_validity_warns_as_the_maximum(void **state)
{
    (void)state;
    X509 *x = leaf(OV);
    times_set(x, T_NOW, T_NOW + 200 * DAY - 1);
    const cm_lint_report *r = run(x);
    expect(r, 6, LINT_WARN);
    assert_int_equal(r->errors, 0);
    X509_free(x);
}

static void test_101_days_from_2027_03_15_refused(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    times_set(x, T_2027_03_20, T_2027_03_20 + 101 * DAY - 1);
    expect(run_full(x, ca_key, EVP_sha256(), ca, T_2027_03_20), 6, LINT_ERROR);
    X509_free(x);
}

static void test_397_days_before_2026_03_15_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    times_set(x, T_2026_03_10, T_2026_03_10 + 397 * DAY - 1);
    expect_clean(run_full(x, ca_key, EVP_sha256(), ca, T_2026_03_10));
    X509_free(x);
}

static void test_private_cert_without_policy_is_not_public(void **state)
{
    (void)state;
    X509 *x = leaf(PRIVATE);
    times_set(x, T_NOW, T_NOW + 500 * DAY - 1);
    SUBJECT(x, "C", "US", "O", "Example Inc.", "CN", "build.corp");
    ext_set(x, "subjectAltName", "DNS:build.corp,DNS:localhost,IP:10.0.0.1");
    const cm_lint_report *r = run(x);
    assert_int_equal(r->errors, 0);
    expect_none(r, 6);
    expect_none(r, 13);
    expect_none(r, 14);
    expect(r, 20, LINT_NOTICE);
    X509_free(x);
}

static void test_generalized_time_before_2050_refused(void **state)
{
    (void)state;
    BREAKS(DV, 7, LINT_ERROR,
           ASN1_GENERALIZEDTIME_set(X509_getm_notAfter(x), (time_t)(T_NOW + 199 * DAY - 1)));
}

static void test_generalized_time_from_2050_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(PRIVATE);
    times_set(x, T_NOW, T_2050);
    assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(x)), V_ASN1_GENERALIZEDTIME);
    expect_none(run(x), 7);
    X509_free(x);
}

static void test_utc_time_without_seconds_refused(void **state)
{
    (void)state;
    BREAKS(DV, 7, LINT_ERROR,
           assert_true(ASN1_TIME_set_string(X509_getm_notBefore(x), "2611231200Z")));
}

/* ---- Row 8: keys ---- */

/* Builds a DV leaf for `key`, lints it and expects row 8 at `level`; frees the key. */
static void expect_key(EVP_PKEY *key, cm_lint_level level)
{
    X509 *x = leaf_for(DV, ca, key);
    expect(run(x), 8, level);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void test_rsa_1024_key_refused(void **state)
{
    (void)state;
    expect_key(keygen("RSA", NULL, 1024), LINT_ERROR);
}

static void test_rsa_modulus_not_multiple_of_8_refused(void **state)
{
    (void)state;
    expect_key(keygen("RSA", NULL, 2052), LINT_ERROR);
}

/* An RSA key of `type` ("RSA" or "RSA-PSS"), 2048 bits, public exponent e. Caller frees. */
static EVP_PKEY *rsa_keygen(const char *type, unsigned long e)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    BIGNUM *bn = BN_new();
    assert_true(c != NULL && bn != NULL && BN_set_word(bn, e));
    assert_int_equal(EVP_PKEY_keygen_init(c), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) > 0);
    assert_true(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn) > 0);
    assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
    BN_free(bn);
    EVP_PKEY_CTX_free(c);
    return k;
}

static void test_rsa_exponent_3_warns(void **state)
{
    (void)state;
    expect_key(rsa_keygen("RSA", 3), LINT_WARN);
}

static void test_ed25519_key_refused(void **state)
{
    (void)state;
    expect_key(keygen("ED25519", NULL, 0), LINT_ERROR);
}

static void test_secp256k1_key_refused(void **state)
{
    (void)state;
    expect_key(keygen("EC", "secp256k1", 0), LINT_ERROR);
}

static void test_rsa_pss_spki_refused(void **state)
{
    (void)state;
    expect_key(rsa_keygen("RSA-PSS", 65537), LINT_ERROR);
}

/* ---- Rows 10–16: names ---- */

static void test_missing_san_refused(void **state)
{
    (void)state;
    BREAKS(DV, 10, LINT_ERROR, ext_set(x, "subjectAltName", NULL));
}

static void test_san_with_email_refused(void **state)
{
    (void)state;
    BREAKS(DV, 10, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,email:ops@example.com"));
}

static void test_san_with_only_a_uri_refused(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    SUBJECT(x, "C", "US");
    ext_set(x, "subjectAltName", "URI:http://www.example.com/");
    const cm_lint_report *r = run(x);
    expect(r, 10, LINT_ERROR);
    assert_true(r->errors >= 2); /* the URI, and no dNSName or iPAddress at all */
    X509_free(x);
}

static void test_ev_san_with_ip_refused(void **state)
{
    (void)state;
    BREAKS(EV, 10, LINT_ERROR, ext_set(x, "subjectAltName", "DNS:www.example.com,IP:8.8.8.8"));
}

static void test_critical_san_with_subject_refused(void **state)
{
    (void)state;
    BREAKS(DV, 11, LINT_ERROR,
           ext_set(x, "subjectAltName", "critical,DNS:www.example.com,DNS:example.com"));
}

static void test_empty_subject_needs_critical_san(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    X509_NAME *empty = X509_NAME_new();
    assert_true(X509_set_subject_name(x, empty));
    X509_NAME_free(empty);
    expect(run(x), 11, LINT_ERROR);
    ext_set(x, "subjectAltName", "critical,DNS:www.example.com,DNS:example.com");
    expect_clean(run(x));
    X509_free(x);
}

static void test_underscore_in_dns_name_refused(void **state)
{
    (void)state;
    BREAKS(DV, 12, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:my_host.example.com"));
}

static void test_trailing_dot_refused(void **state)
{
    (void)state;
    BREAKS(DV, 12, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:example.com."));
}

static void test_label_of_64_octets_refused(void **state)
{
    (void)state;
    char san[200];
    snprintf(san, sizeof san, "DNS:www.example.com,DNS:%064d.example.com", 0);
    BREAKS(DV, 12, LINT_ERROR, ext_set(x, "subjectAltName", san));
}

static void test_invalid_punycode_refused(void **state)
{
    (void)state;
    BREAKS(DV, 12, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:xn--zz-zz.example.com"));
}

static void test_hyphens_in_positions_3_and_4_refused(void **state)
{
    (void)state;
    BREAKS(DV, 12, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:ab--cd.example.com"));
}

static void test_u_label_refused(void **state)
{
    (void)state;
    BREAKS(DV, 12, LINT_ERROR,
           ext_set(x, "subjectAltName",
                   "DNS:www.example.com,DNS:b\xc3\xbc"
                   "cher.example.com"));
}

static void test_valid_punycode_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:xn--bcher-kva.example.com");
    expect_clean(run(x));
    X509_free(x);
}

static void test_reverse_zone_name_refused(void **state)
{
    (void)state;
    BREAKS(DV, 13, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:1.2.0.192.in-addr.arpa"));
}

static void test_internal_name_refused_on_public_cert(void **state)
{
    (void)state;
    BREAKS(OV, 13, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:server.local"));
}

static void test_reserved_ip_refused_on_public_cert(void **state)
{
    (void)state;
    BREAKS(OV, 14, LINT_ERROR, ext_set(x, "subjectAltName", "DNS:www.example.com,IP:10.0.0.1"));
}

static void test_reserved_ipv6_refused_on_public_cert(void **state)
{
    (void)state;
    BREAKS(OV, 14, LINT_ERROR, ext_set(x, "subjectAltName", "DNS:www.example.com,IP:2001:db8::1"));
}

static void test_public_ip_with_ip_cn_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    SUBJECT(x, "CN", "2606:4700:4700::1111");
    ext_set(x, "subjectAltName", "IP:2606:4700:4700::1111,DNS:www.example.com,IP:8.8.8.8");
    expect_clean(run(x));
    X509_free(x);
}

static void test_wildcard_over_public_suffix_refused(void **state)
{
    (void)state;
    BREAKS(OV, 15, LINT_ERROR, ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:*.co.uk"));
}

static void test_wildcard_not_a_whole_left_label_refused(void **state)
{
    (void)state;
    BREAKS(OV, 15, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:w*.example.com"));
}

static void test_wildcard_on_ev_refused(void **state)
{
    (void)state;
    BREAKS(EV, 15, LINT_ERROR,
           ext_set(x, "subjectAltName", "DNS:www.example.com,DNS:*.example.com"));
}

static void test_wildcard_on_ov_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(OV);
    SUBJECT(x, "C", "US", "ST", "California", "O", "Example Inc.", "CN", "*.example.com");
    ext_set(x, "subjectAltName", "DNS:*.example.com,DNS:example.com");
    expect_clean(run(x));
    X509_free(x);
}

static void test_cn_not_in_san_refused(void **state)
{
    (void)state;
    BREAKS(DV, 16, LINT_ERROR, SUBJECT(x, "CN", "mail.example.com"));
}

static void test_cn_differing_in_case_refused(void **state)
{
    (void)state;
    BREAKS(DV, 16, LINT_ERROR, SUBJECT(x, "CN", "WWW.example.com"));
}

static void test_two_common_names_refused(void **state)
{
    (void)state;
    BREAKS(DV, 16, LINT_ERROR, SUBJECT(x, "CN", "www.example.com", "CN", "example.com"));
}

static void test_common_name_over_64_characters_refused(void **state)
{
    (void)state;
    char name[100], san[140];
    snprintf(name, sizeof name, "%060d.example.com", 7);
    snprintf(san, sizeof san, "DNS:%s", name);
    BREAKS(DV, 16, LINT_ERROR, (SUBJECT(x, "CN", name), ext_set(x, "subjectAltName", san)));
}

/* ---- Rows 17–19: AIA, AKI, CRLDP ---- */

static void test_missing_aia_refused(void **state)
{
    (void)state;
    BREAKS(DV, 17, LINT_ERROR, ext_set(x, "authorityInfoAccess", NULL));
}

static void test_aia_without_ca_issuers_refused(void **state)
{
    (void)state;
    BREAKS(DV, 17, LINT_ERROR,
           ext_set(x, "authorityInfoAccess", "OCSP;URI:http://ocsp.example.net/"));
}

static void test_aia_with_https_refused(void **state)
{
    (void)state;
    BREAKS(DV, 17, LINT_ERROR,
           ext_set(x, "authorityInfoAccess", "caIssuers;URI:https://ca.example.net/ca.crt"));
}

static void test_critical_aia_refused(void **state)
{
    (void)state;
    BREAKS(DV, 17, LINT_ERROR,
           ext_set(x, "authorityInfoAccess", "critical,caIssuers;URI:http://ca.example.net/c"));
}

static void test_missing_aki_refused(void **state)
{
    (void)state;
    BREAKS(DV, 18, LINT_ERROR, ext_set(x, "authorityKeyIdentifier", NULL));
}

static void test_aki_with_issuer_and_serial_refused(void **state)
{
    (void)state;
    BREAKS(DV, 18, LINT_ERROR, ext_set(x, "authorityKeyIdentifier", "keyid:always,issuer:always"));
}

static void test_aki_not_matching_issuer_ski_refused(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    cur_issuer = rsa_ca;
    ext_set(x, "authorityKeyIdentifier", "keyid:always");
    expect(run(x), 18, LINT_ERROR);
    X509_free(x);
}

static void test_crldp_with_https_refused(void **state)
{
    (void)state;
    BREAKS(DV, 19, LINT_ERROR,
           ext_set(x, "crlDistributionPoints", "URI:https://crl.example.net/issuing.crl"));
}

static void test_crldp_with_reasons_refused(void **state)
{
    (void)state;
    BREAKS(DV, 19, LINT_ERROR, ext_set(x, "crlDistributionPoints", "dp_reasons"));
}

static void test_missing_crldp_without_ocsp_refused(void **state)
{
    (void)state;
    BREAKS(DV, 19, LINT_ERROR, ext_set(x, "crlDistributionPoints", NULL));
}

static void test_missing_crldp_with_ocsp_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "crlDistributionPoints", NULL);
    ext_set(x, "authorityInfoAccess",
            "OCSP;URI:http://ocsp.example.net/,caIssuers;URI:http://ca.example.net/ca.crt");
    expect_clean(run(x));
    X509_free(x);
}

static void test_missing_crldp_on_short_lived_cert_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "crlDistributionPoints", NULL);
    times_set(x, T_NOW, T_NOW + 7 * DAY - 1);
    expect_clean(run(x));
    X509_free(x);
}

/* ---- Row 20: policies ---- */

static void test_two_reserved_policy_oids_refused(void **state)
{
    (void)state;
    BREAKS(DV, 20, LINT_ERROR, ext_set(x, "certificatePolicies", POL_DV "," POL_OV));
}

static void test_any_policy_refused(void **state)
{
    (void)state;
    BREAKS(DV, 20, LINT_ERROR, ext_set(x, "certificatePolicies", POL_DV ",2.5.29.32.0"));
}

static void test_critical_policies_refused(void **state)
{
    (void)state;
    BREAKS(DV, 20, LINT_ERROR, ext_set(x, "certificatePolicies", "critical," POL_DV));
}

static void test_user_notice_qualifier_refused(void **state)
{
    (void)state;
    BREAKS(DV, 20, LINT_ERROR, ext_set(x, "certificatePolicies", "@notice_pol"));
}

static void test_cps_qualifier_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "certificatePolicies", "@cps_pol");
    expect_clean(run(x));
    X509_free(x);
}

static void test_reserved_oid_not_first_warns(void **state)
{
    (void)state;
    BREAKS(DV, 20, LINT_WARN, ext_set(x, "certificatePolicies", "1.3.6.1.4.1.99999.1," POL_DV));
}

/* ---- Rows 21–25: EKU, KU, BC and the rest of the extensions ---- */

static void test_missing_eku_refused(void **state)
{
    (void)state;
    BREAKS(DV, 21, LINT_ERROR, ext_set(x, "extendedKeyUsage", NULL));
}

static void test_eku_with_code_signing_refused(void **state)
{
    (void)state;
    BREAKS(DV, 21, LINT_ERROR, ext_set(x, "extendedKeyUsage", "serverAuth,codeSigning"));
}

static void test_eku_without_server_auth_refused(void **state)
{
    (void)state;
    BREAKS(DV, 21, LINT_ERROR, ext_set(x, "extendedKeyUsage", "clientAuth"));
}

static void test_critical_eku_refused(void **state)
{
    (void)state;
    BREAKS(DV, 21, LINT_ERROR, ext_set(x, "extendedKeyUsage", "critical,serverAuth"));
}

static void test_client_auth_warns_before_2027_03_15(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "extendedKeyUsage", "serverAuth,clientAuth");
    times_set(x, T_2027_03_14, T_2027_03_14 + 199 * DAY - 1);
    const cm_lint_report *r = run_full(x, ca_key, EVP_sha256(), ca, T_2027_03_14);
    expect(r, 22, LINT_WARN);
    assert_int_equal(r->errors, 0);
    X509_free(x);
}

static void test_client_auth_refused_from_2027_03_15(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "extendedKeyUsage", "serverAuth,clientAuth");
    times_set(x, T_2027_03_20, T_2027_03_20 + 99 * DAY - 1);
    const cm_lint_report *r = run_full(x, ca_key, EVP_sha256(), ca, T_2027_03_20);
    expect(r, 22, LINT_ERROR);
    assert_int_equal(r->errors, 1);
    X509_free(x);
}

static void test_ku_with_key_cert_sign_refused(void **state)
{
    (void)state;
    BREAKS(DV, 23, LINT_ERROR, ext_set(x, "keyUsage", "critical,digitalSignature,keyCertSign"));
}

static void test_non_critical_ku_refused(void **state)
{
    (void)state;
    BREAKS(DV, 23, LINT_ERROR, ext_set(x, "keyUsage", "digitalSignature"));
}

static void test_missing_ku_refused(void **state)
{
    (void)state;
    BREAKS(DV, 23, LINT_ERROR, ext_set(x, "keyUsage", NULL));
}

static void test_ec_ku_without_digital_signature_refused(void **state)
{
    (void)state;
    BREAKS(DV, 23, LINT_ERROR, ext_set(x, "keyUsage", "critical,keyAgreement"));
}

static void test_ec_ku_with_key_encipherment_refused(void **state)
{
    (void)state;
    BREAKS(DV, 23, LINT_ERROR, ext_set(x, "keyUsage", "critical,digitalSignature,keyEncipherment"));
}

static void test_rsa_ku_with_non_repudiation_refused(void **state)
{
    (void)state;
    X509 *x = leaf_for(DV, ca, leaf_rsa);
    ext_set(x, "keyUsage", "critical,digitalSignature,nonRepudiation");
    expect(run(x), 23, LINT_ERROR);
    X509_free(x);
}

static void test_bc_ca_true_refused(void **state)
{
    (void)state;
    BREAKS(DV, 24, LINT_ERROR, ext_set(x, "basicConstraints", "critical,CA:TRUE"));
}

static void test_non_critical_bc_refused(void **state)
{
    (void)state;
    BREAKS(DV, 24, LINT_ERROR, ext_set(x, "basicConstraints", "CA:FALSE"));
}

static void test_bc_with_path_length_refused(void **state)
{
    (void)state;
    BREAKS(DV, 24, LINT_ERROR, ext_set(x, "basicConstraints", "critical,CA:FALSE,pathlen:0"));
}

static void test_absent_bc_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "basicConstraints", NULL);
    expect_clean(run(x));
    X509_free(x);
}

static void test_ski_present_warns(void **state)
{
    (void)state;
    BREAKS(DV, 25, LINT_WARN, ext_set(x, "subjectKeyIdentifier", "hash"));
}

static void test_name_constraints_refused(void **state)
{
    (void)state;
    BREAKS(DV, 25, LINT_ERROR, ext_set(x, "nameConstraints", "critical,permitted;DNS:example.com"));
}

static void test_duplicate_extension_refused(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    X509_EXTENSION *e = X509_get_ext(x, X509_get_ext_by_NID(x, NID_ext_key_usage, -1));
    assert_true(X509_add_ext(x, e, -1));
    expect(run(x), 25, LINT_ERROR);
    X509_free(x);
}

static void test_unknown_critical_extension_refused(void **state)
{
    (void)state;
    BREAKS(DV, 25, LINT_ERROR, ext_set(x, "1.3.6.1.4.1.99999.7", "critical,DER:05:00"));
}

static void test_unknown_extension_gives_notice(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    ext_set(x, "1.3.6.1.4.1.99999.7", "DER:05:00");
    const cm_lint_report *r = run(x);
    expect_clean(r);
    expect(r, 25, LINT_NOTICE);
    X509_free(x);
}

/* ---- Rows 26–33: subjects ---- */

static void test_multi_valued_rdn_refused(void **state)
{
    (void)state;
    BREAKS(OV, 26, LINT_ERROR,
           SUBJECT(x, "C", "US", "ST", "California", "+L", "San Francisco", "O", "Example Inc.",
                   "CN", "www.example.com"));
}

static void test_subject_out_of_br_order_refused(void **state)
{
    (void)state;
    BREAKS(
        OV, 26, LINT_ERROR,
        SUBJECT(x, "CN", "www.example.com", "O", "Example Inc.", "L", "San Francisco", "C", "US"));
}

static void test_country_as_utf8_refused(void **state)
{
    (void)state;
    BREAKS(
        OV, 26, LINT_ERROR,
        SUBJECT(x, "~C", "US", "L", "San Francisco", "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_three_letter_country_refused(void **state)
{
    (void)state;
    BREAKS(
        OV, 26, LINT_ERROR,
        SUBJECT(x, "C", "USA", "L", "San Francisco", "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_placeholder_locality_refused(void **state)
{
    (void)state;
    BREAKS(OV, 26, LINT_ERROR,
           SUBJECT(x, "C", "US", "ST", "California", "L", "N/A", "O", "Example Inc.", "CN",
                   "www.example.com"));
}

static void test_dash_only_state_refused(void **state)
{
    (void)state;
    BREAKS(OV, 26, LINT_ERROR,
           SUBJECT(x, "C", "US", "ST", "-", "L", "San Francisco", "O", "Example Inc.", "CN",
                   "www.example.com"));
}

static void test_organization_over_64_characters_refused(void **state)
{
    (void)state;
    char o[80];
    memset(o, 'a', 65);
    o[65] = '\0';
    BREAKS(OV, 26, LINT_ERROR,
           SUBJECT(x, "C", "US", "L", "San Francisco", "O", o, "CN", "www.example.com"));
}

static void test_bmpstring_attribute_refused(void **state)
{
    (void)state;
    BREAKS(
        OV, 26, LINT_ERROR,
        SUBJECT(x, "C", "US", "L", "San Francisco", "!O", "Example Inc.", "CN", "www.example.com"));
}

static void test_organization_in_dv_subject_refused(void **state)
{
    (void)state;
    BREAKS(DV, 27, LINT_ERROR, SUBJECT(x, "C", "US", "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_country_in_dv_subject_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    SUBJECT(x, "C", "US", "CN", "www.example.com");
    expect_clean(run(x));
    X509_free(x);
}

static void test_ou_in_ov_subject_refused(void **state)
{
    (void)state;
    BREAKS(OV, 28, LINT_ERROR,
           SUBJECT(x, "C", "US", "L", "San Francisco", "O", "Example Inc.", "OU", "IT", "CN",
                   "www.example.com"));
}

static void test_ov_without_state_or_locality_refused(void **state)
{
    (void)state;
    BREAKS(OV, 28, LINT_ERROR, SUBJECT(x, "C", "US", "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_ev_without_organization_refused(void **state)
{
    (void)state;
    BREAKS(EV, 28, LINT_ERROR,
           SUBJECT(x, "jurisdictionC", "US", "businessCategory", "Private Organization",
                   "serialNumber", "1234567", "C", "US", "L", "San Francisco", "CN",
                   "www.example.com"));
}

static void test_ev_business_category_unknown_refused(void **state)
{
    (void)state;
    BREAKS(EV, 29, LINT_ERROR,
           SUBJECT(x, "jurisdictionC", "US", "businessCategory", "Startup", "serialNumber",
                   "1234567", "C", "US", "L", "San Francisco", "O", "Example Inc.", "CN",
                   "www.example.com"));
}

static void test_business_category_in_dv_refused(void **state)
{
    (void)state;
    BREAKS(DV, 29, LINT_ERROR,
           SUBJECT(x, "businessCategory", "Private Organization", "CN", "www.example.com"));
}

static void test_business_category_in_ov_warns(void **state)
{
    (void)state;
    BREAKS(OV, 29, LINT_WARN,
           SUBJECT(x, "businessCategory", "Private Organization", "C", "US", "L", "San Francisco",
                   "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_ev_without_jurisdiction_country_refused(void **state)
{
    (void)state;
    BREAKS(EV, 30, LINT_ERROR,
           SUBJECT(x, "businessCategory", "Private Organization", "serialNumber", "1234567", "C",
                   "US", "L", "San Francisco", "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_jurisdiction_country_as_utf8_refused(void **state)
{
    (void)state;
    BREAKS(EV, 30, LINT_ERROR,
           SUBJECT(x, "~jurisdictionC", "US", "businessCategory", "Private Organization",
                   "serialNumber", "1234567", "C", "US", "L", "San Francisco", "O", "Example Inc.",
                   "CN", "www.example.com"));
}

static void test_jurisdiction_country_in_dv_refused(void **state)
{
    (void)state;
    BREAKS(DV, 30, LINT_ERROR, SUBJECT(x, "jurisdictionC", "US", "CN", "www.example.com"));
}

static void test_ev_without_serial_number_refused(void **state)
{
    (void)state;
    BREAKS(EV, 31, LINT_ERROR,
           SUBJECT(x, "jurisdictionC", "US", "businessCategory", "Private Organization", "C", "US",
                   "L", "San Francisco", "O", "Example Inc.", "CN", "www.example.com"));
}

static void test_ev_serial_number_as_utf8_refused(void **state)
{
    (void)state;
    BREAKS(EV, 31, LINT_ERROR,
           SUBJECT(x, "jurisdictionC", "US", "businessCategory", "Private Organization",
                   "~serialNumber", "1234567", "C", "US", "L", "San Francisco", "O", "Example Inc.",
                   "CN", "www.example.com"));
}

static void test_serial_number_in_dv_refused(void **state)
{
    (void)state;
    BREAKS(DV, 31, LINT_ERROR, SUBJECT(x, "serialNumber", "1234567", "CN", "www.example.com"));
}

/* The EV subject with an organizationIdentifier. */
#define EV_WITH_ORGID                                                                              \
    SUBJECT(x, "jurisdictionC", "GB", "businessCategory", "Private Organization", "serialNumber",  \
            "12345678", "organizationIdentifier", "NTRGB-12345678", "C", "GB", "L", "London", "O", \
            "Example Ltd", "CN", "www.example.com")
/* cabfOrganizationIdentifier {"NTR", "GB", "12345678"} and one saying "87654321". */
#define CABF_NTRGB "DER:30:13:13:03:4e:54:52:13:02:47:42:0c:08:31:32:33:34:35:36:37:38"
#define CABF_OTHER "DER:30:13:13:03:4e:54:52:13:02:47:42:0c:08:38:37:36:35:34:33:32:31"

static void test_org_identifier_without_cabf_extension_refused(void **state)
{
    (void)state;
    BREAKS(EV, 32, LINT_ERROR, EV_WITH_ORGID);
}

static void test_org_identifier_with_matching_cabf_extension_accepted(void **state)
{
    (void)state;
    X509 *x = leaf(EV);
    EV_WITH_ORGID;
    ext_set(x, "2.23.140.3.1", CABF_NTRGB);
    expect_clean(run(x));
    X509_free(x);
}

static void test_cabf_extension_differing_from_org_identifier_refused(void **state)
{
    (void)state;
    BREAKS(EV, 32, LINT_ERROR, (EV_WITH_ORGID, ext_set(x, "2.23.140.3.1", CABF_OTHER)));
}

static void test_unlisted_attribute_in_dv_refused(void **state)
{
    (void)state;
    BREAKS(DV, 33, LINT_ERROR,
           SUBJECT(x, "emailAddress", "ops@example.com", "CN", "www.example.com"));
}

static void test_unlisted_attribute_in_ov_warns(void **state)
{
    (void)state;
    X509 *x = leaf(OV);
    SUBJECT(x, "C", "US", "L", "San Francisco", "O", "Example Inc.", "title", "Web", "CN",
            "www.example.com");
    const cm_lint_report *r = run(x);
    expect(r, 33, LINT_WARN);
    assert_int_equal(r->errors, 0);
    X509_free(x);
}

static void test_domain_component_in_ev_refused(void **state)
{
    (void)state;
    BREAKS(EV, 33, LINT_ERROR,
           SUBJECT(x, "DC", "com", "jurisdictionC", "US", "businessCategory",
                   "Private Organization", "serialNumber", "1234567", "C", "US", "L",
                   "San Francisco", "O", "Example Inc.", "CN", "www.example.com"));
}

/* ---- Inputs and the report ---- */

static void test_lint_der_refuses_garbage(void **state)
{
    (void)state;
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01, 0xff};
    assert_int_equal(lint_der(junk, sizeof junk, NULL, 0, T_NOW, &rep), -1);
    assert_int_equal(lint_der(junk, 0, NULL, 0, T_NOW, &rep), -1);
}

static void test_lint_der_refuses_trailing_bytes_and_bad_issuer(void **state)
{
    (void)state;
    int len = 0;
    X509 *x = leaf(DV);
    assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
    unsigned char *der = der_of(x, &len);
    unsigned char *longer = malloc((size_t)len + 1);
    assert_non_null(longer);
    memcpy(longer, der, (size_t)len);
    longer[len] = 0;
    assert_int_equal(lint_der(longer, (size_t)len + 1, NULL, 0, T_NOW, &rep), -1);
    assert_int_equal(lint_der(der, (size_t)len, longer, 3, T_NOW, &rep), -1);
    assert_int_equal(lint_der(der, (size_t)len, NULL, 0, T_NOW, &rep), 0);
    free(longer);
    OPENSSL_free(der);
    X509_free(x);
}

static void test_decode_certs_reads_a_pem_chain_in_order(void **state)
{
    (void)state;
    X509 *x = leaf(DV);
    BIO *b = BIO_new(BIO_s_mem());
    cm_lint_der out[2];
    size_t n = 0;
    char *pem = NULL;
    int len = 0, clen = 0;
    cm_err err;
    assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
    assert_true(BIO_puts(b, "leaf certificate\n") > 0);
    assert_true(PEM_write_bio_X509(b, x) && PEM_write_bio_X509(b, ca));
    long plen = BIO_get_mem_data(b, &pem);
    assert_int_equal(lint_decode_certs((const unsigned char *)pem, (size_t)plen, out, 2, &n, &err),
                     0);
    assert_int_equal(n, 2);
    unsigned char *der = der_of(x, &len), *cder = der_of(ca, &clen);
    assert_int_equal(out[0].len, len);
    assert_memory_equal(out[0].der, der, (size_t)len);
    assert_int_equal(out[1].len, clen);
    assert_memory_equal(out[1].der, cder, (size_t)clen);
    free(out[0].der);
    free(out[1].der);
    OPENSSL_free(der);
    OPENSSL_free(cder);
    BIO_free(b);
    X509_free(x);
}

static void test_decode_certs_passes_der_through(void **state)
{
    (void)state;
    int len = 0;
    cm_lint_der out[2];
    size_t n = 0;
    cm_err err;
    unsigned char *der = der_of(ca, &len);
    assert_int_equal(lint_decode_certs(der, (size_t)len, out, 2, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(out[0].der, der, (size_t)len);
    free(out[0].der);
    OPENSSL_free(der);
}

static void test_decode_certs_refuses_pem_without_a_certificate(void **state)
{
    (void)state;
    static const char key[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    cm_lint_der out[2];
    size_t n = 5;
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(lint_decode_certs((const unsigned char *)key, strlen(key), out, 2, &n, &err),
                     -1);
    assert_int_equal(n, 0);
    assert_string_equal(err.code, "cert_malformed");
}

static void test_report_counts_past_its_capacity(void **state)
{
    (void)state;
    cm_lint_report r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < LINT_MAX_FINDINGS + 6; i++)
        lint_add(&r, 26, i % 2 ? LINT_WARN : LINT_ERROR, "finding %d", i);
    assert_int_equal(r.n, LINT_MAX_FINDINGS);
    assert_int_equal(r.errors + r.warnings, LINT_MAX_FINDINGS + 6);
    assert_string_equal(r.items[3].msg, "finding 3");
}

static void test_level_names(void **state)
{
    (void)state;
    assert_string_equal(lint_level_name(LINT_ERROR), "error");
    assert_string_equal(lint_level_name(LINT_WARN), "warning");
    assert_string_equal(lint_level_name(LINT_NOTICE), "notice");
}

/* ---- Setup ---- */

static int setup(void **state)
{
    (void)state;
    BIO *b = BIO_new_mem_buf(conf_text, -1);
    long line = 0;
    conf = NCONF_new(NULL);
    if (b == NULL || conf == NULL || NCONF_load_bio(conf, b, &line) <= 0)
        return -1;
    BIO_free(b);
    ca_key = keygen("EC", "P-256", 0);
    rsa_ca_key = keygen("RSA", NULL, 2048);
    leaf_ec = keygen("EC", "P-256", 0);
    leaf_rsa = keygen("RSA", NULL, 2048);
    ca = make_ca(ca_key, "certmint Test ECC Issuing CA");
    rsa_ca = make_ca(rsa_ca_key, "certmint Test RSA Issuing CA");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    X509_free(ca);
    X509_free(rsa_ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(rsa_ca_key);
    EVP_PKEY_free(leaf_ec);
    EVP_PKEY_free(leaf_rsa);
    NCONF_free(conf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_dv_cert_lints_clean),
        cmocka_unit_test(test_good_ov_cert_lints_clean),
        cmocka_unit_test(test_good_ev_cert_lints_clean),
        cmocka_unit_test(test_good_tbs_lints_clean_before_signing),
        cmocka_unit_test(test_good_rsa_leaf_from_rsa_ca_lints_clean),
        cmocka_unit_test(test_p384_leaf_key_accepted),
        cmocka_unit_test(test_version_2_refused),
        cmocka_unit_test(test_serial_one_refused),
        cmocka_unit_test(test_serial_zero_refused),
        cmocka_unit_test(test_negative_serial_refused),
        cmocka_unit_test(test_serial_of_2_to_the_159_refused),
        cmocka_unit_test(test_serial_just_below_2_to_the_159_accepted),
        cmocka_unit_test(test_serial_of_seven_octets_refused),
        cmocka_unit_test(test_non_minimal_serial_refused_before_signing),
        cmocka_unit_test(test_issuer_name_encoded_differently_refused),
        cmocka_unit_test(test_without_issuer_only_notices_for_issuer_rows),
        cmocka_unit_test(test_sha1_signature_refused),
        cmocka_unit_test(test_sha384_with_p256_issuer_refused),
        cmocka_unit_test(test_ecdsa_signature_under_rsa_issuer_refused),
        cmocka_unit_test(test_signature_fields_that_differ_refused),
        cmocka_unit_test(test_pss_signature_with_br_parameters_accepted),
        cmocka_unit_test(test_pss_signature_with_wrong_salt_refused),
        cmocka_unit_test(test_tbs_only_skips_signature_row),
        cmocka_unit_test(test_not_before_three_days_before_signing_refused),
        cmocka_unit_test(test_not_before_three_days_after_signing_refused),
        cmocka_unit_test(test_not_before_47_hours_back_accepted),
        cmocka_unit_test(test_201_day_validity_refused),
        cmocka_unit_test(test_200_days_and_a_second_counts_as_201_days),
        cmocka_unit_test(test_200_day_validity_warns_as_the_maximum),
        cmocka_unit_test(test_101_days_from_2027_03_15_refused),
        cmocka_unit_test(test_397_days_before_2026_03_15_accepted),
        cmocka_unit_test(test_private_cert_without_policy_is_not_public),
        cmocka_unit_test(test_generalized_time_before_2050_refused),
        cmocka_unit_test(test_generalized_time_from_2050_accepted),
        cmocka_unit_test(test_utc_time_without_seconds_refused),
        cmocka_unit_test(test_rsa_1024_key_refused),
        cmocka_unit_test(test_rsa_modulus_not_multiple_of_8_refused),
        cmocka_unit_test(test_rsa_exponent_3_warns),
        cmocka_unit_test(test_ed25519_key_refused),
        cmocka_unit_test(test_secp256k1_key_refused),
        cmocka_unit_test(test_rsa_pss_spki_refused),
        cmocka_unit_test(test_missing_san_refused),
        cmocka_unit_test(test_san_with_email_refused),
        cmocka_unit_test(test_san_with_only_a_uri_refused),
        cmocka_unit_test(test_ev_san_with_ip_refused),
        cmocka_unit_test(test_critical_san_with_subject_refused),
        cmocka_unit_test(test_empty_subject_needs_critical_san),
        cmocka_unit_test(test_underscore_in_dns_name_refused),
        cmocka_unit_test(test_trailing_dot_refused),
        cmocka_unit_test(test_label_of_64_octets_refused),
        cmocka_unit_test(test_invalid_punycode_refused),
        cmocka_unit_test(test_hyphens_in_positions_3_and_4_refused),
        cmocka_unit_test(test_u_label_refused),
        cmocka_unit_test(test_valid_punycode_accepted),
        cmocka_unit_test(test_reverse_zone_name_refused),
        cmocka_unit_test(test_internal_name_refused_on_public_cert),
        cmocka_unit_test(test_reserved_ip_refused_on_public_cert),
        cmocka_unit_test(test_reserved_ipv6_refused_on_public_cert),
        cmocka_unit_test(test_public_ip_with_ip_cn_accepted),
        cmocka_unit_test(test_wildcard_over_public_suffix_refused),
        cmocka_unit_test(test_wildcard_not_a_whole_left_label_refused),
        cmocka_unit_test(test_wildcard_on_ev_refused),
        cmocka_unit_test(test_wildcard_on_ov_accepted),
        cmocka_unit_test(test_cn_not_in_san_refused),
        cmocka_unit_test(test_cn_differing_in_case_refused),
        cmocka_unit_test(test_two_common_names_refused),
        cmocka_unit_test(test_common_name_over_64_characters_refused),
        cmocka_unit_test(test_missing_aia_refused),
        cmocka_unit_test(test_aia_without_ca_issuers_refused),
        cmocka_unit_test(test_aia_with_https_refused),
        cmocka_unit_test(test_critical_aia_refused),
        cmocka_unit_test(test_missing_aki_refused),
        cmocka_unit_test(test_aki_with_issuer_and_serial_refused),
        cmocka_unit_test(test_aki_not_matching_issuer_ski_refused),
        cmocka_unit_test(test_crldp_with_https_refused),
        cmocka_unit_test(test_crldp_with_reasons_refused),
        cmocka_unit_test(test_missing_crldp_without_ocsp_refused),
        cmocka_unit_test(test_missing_crldp_with_ocsp_accepted),
        cmocka_unit_test(test_missing_crldp_on_short_lived_cert_accepted),
        cmocka_unit_test(test_two_reserved_policy_oids_refused),
        cmocka_unit_test(test_any_policy_refused),
        cmocka_unit_test(test_critical_policies_refused),
        cmocka_unit_test(test_user_notice_qualifier_refused),
        cmocka_unit_test(test_cps_qualifier_accepted),
        cmocka_unit_test(test_reserved_oid_not_first_warns),
        cmocka_unit_test(test_missing_eku_refused),
        cmocka_unit_test(test_eku_with_code_signing_refused),
        cmocka_unit_test(test_eku_without_server_auth_refused),
        cmocka_unit_test(test_critical_eku_refused),
        cmocka_unit_test(test_client_auth_warns_before_2027_03_15),
        cmocka_unit_test(test_client_auth_refused_from_2027_03_15),
        cmocka_unit_test(test_ku_with_key_cert_sign_refused),
        cmocka_unit_test(test_non_critical_ku_refused),
        cmocka_unit_test(test_missing_ku_refused),
        cmocka_unit_test(test_ec_ku_without_digital_signature_refused),
        cmocka_unit_test(test_ec_ku_with_key_encipherment_refused),
        cmocka_unit_test(test_rsa_ku_with_non_repudiation_refused),
        cmocka_unit_test(test_bc_ca_true_refused),
        cmocka_unit_test(test_non_critical_bc_refused),
        cmocka_unit_test(test_bc_with_path_length_refused),
        cmocka_unit_test(test_absent_bc_accepted),
        cmocka_unit_test(test_ski_present_warns),
        cmocka_unit_test(test_name_constraints_refused),
        cmocka_unit_test(test_duplicate_extension_refused),
        cmocka_unit_test(test_unknown_critical_extension_refused),
        cmocka_unit_test(test_unknown_extension_gives_notice),
        cmocka_unit_test(test_multi_valued_rdn_refused),
        cmocka_unit_test(test_subject_out_of_br_order_refused),
        cmocka_unit_test(test_country_as_utf8_refused),
        cmocka_unit_test(test_three_letter_country_refused),
        cmocka_unit_test(test_placeholder_locality_refused),
        cmocka_unit_test(test_dash_only_state_refused),
        cmocka_unit_test(test_organization_over_64_characters_refused),
        cmocka_unit_test(test_bmpstring_attribute_refused),
        cmocka_unit_test(test_organization_in_dv_subject_refused),
        cmocka_unit_test(test_country_in_dv_subject_accepted),
        cmocka_unit_test(test_ou_in_ov_subject_refused),
        cmocka_unit_test(test_ov_without_state_or_locality_refused),
        cmocka_unit_test(test_ev_without_organization_refused),
        cmocka_unit_test(test_ev_business_category_unknown_refused),
        cmocka_unit_test(test_business_category_in_dv_refused),
        cmocka_unit_test(test_business_category_in_ov_warns),
        cmocka_unit_test(test_ev_without_jurisdiction_country_refused),
        cmocka_unit_test(test_jurisdiction_country_as_utf8_refused),
        cmocka_unit_test(test_jurisdiction_country_in_dv_refused),
        cmocka_unit_test(test_ev_without_serial_number_refused),
        cmocka_unit_test(test_ev_serial_number_as_utf8_refused),
        cmocka_unit_test(test_serial_number_in_dv_refused),
        cmocka_unit_test(test_org_identifier_without_cabf_extension_refused),
        cmocka_unit_test(test_org_identifier_with_matching_cabf_extension_accepted),
        cmocka_unit_test(test_cabf_extension_differing_from_org_identifier_refused),
        cmocka_unit_test(test_unlisted_attribute_in_dv_refused),
        cmocka_unit_test(test_unlisted_attribute_in_ov_warns),
        cmocka_unit_test(test_domain_component_in_ev_refused),
        cmocka_unit_test(test_lint_der_refuses_garbage),
        cmocka_unit_test(test_lint_der_refuses_trailing_bytes_and_bad_issuer),
        cmocka_unit_test(test_decode_certs_reads_a_pem_chain_in_order),
        cmocka_unit_test(test_decode_certs_passes_der_through),
        cmocka_unit_test(test_decode_certs_refuses_pem_without_a_certificate),
        cmocka_unit_test(test_report_counts_past_its_capacity),
        cmocka_unit_test(test_level_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
