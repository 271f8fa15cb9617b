/* lint.c — the pre-issuance linter (BR §4.3.1.2) over OpenSSL certificates.
 *
 * Each check reads one part of the certificate and reports findings under the row number of the
 * checklist in COMPLIANCE.md ("Issued-certificate rules"). The validation type and whether the
 * certificate is public come from its reserved CA/B Forum policy OID; without one it is linted
 * as a private-hierarchy certificate (no validity cap, internal names and reserved IPs allowed, no
 * DV/OV/EV subject rules). Only small AlgorithmIdentifiers are re-encoded, to compare them byte
 * for byte with the DER the BR prescribes; messages are formatted only for findings. Row 9 (weak
 * and compromised keys) needs blocklists and is not checked here. */
#include "pki/lint_int.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <idn2.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/names.h"
#include "core/validity.h"

#define DAY          INT64_C(86400)
#define SIGN_SKEW    (48 * 3600)         /* row 5: ±48 h around the signing operation */
#define SHORT_LIVED  (7 * DAY)           /* row 19: short-lived certificates need no CRLDP */
#define T_2027_03_15 INT64_C(1805068800) /* row 22: Chrome wants serverAuth only from here */
#define ALG_MAX      80                  /* longest AlgorithmIdentifier compared */
#define SHOW_MAX     80                  /* how much of a bad value a message repeats */
#define INPUT_MAX    (1024 * 1024)       /* largest certificate or file accepted */
#define NELEM(a)     (sizeof(a) / sizeof((a)[0]))

typedef char show_buf[SHOW_MAX + 4];

/* ---- DER constants (BR §7.1.3, §7.1.6.1; EVG §9.8.2), compared as bytes ---- */
// clang-format off

/* OID contents (no tag or length) of the reserved policies and of cabfOrganizationIdentifier. */
static const unsigned char oid_dv[] = {0x67, 0x81, 0x0c, 0x01, 0x02, 0x01}; /* 2.23.140.1.2.1 */
static const unsigned char oid_ov[] = {0x67, 0x81, 0x0c, 0x01, 0x02, 0x02}; /* 2.23.140.1.2.2 */
static const unsigned char oid_iv[] = {0x67, 0x81, 0x0c, 0x01, 0x02, 0x03}; /* 2.23.140.1.2.3 */
static const unsigned char oid_ev[] = {0x67, 0x81, 0x0c, 0x01, 0x01};       /* 2.23.140.1.1 */
static const unsigned char oid_cabf_orgid[] = {0x67, 0x81, 0x0c, 0x03, 0x01}; /* 2.23.140.3.1 */

/* SubjectPublicKeyInfo AlgorithmIdentifiers (§7.1.3.1). */
static const unsigned char spki_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                         0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
static const unsigned char spki_p256[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                          0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                          0x03, 0x01, 0x07};
static const unsigned char spki_p384[] = {0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                          0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char spki_p521[] = {0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                          0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};

/* Signature AlgorithmIdentifiers (§7.1.3.2): PKCS#1 v1.5; RSASSA-PSS with MGF1 of the same hash
 * and a salt as long as the hash; ECDSA without parameters. */
#define RSA_PKCS1(h) {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, h, \
                      0x05, 0x00}
#define RSA_PSS(h, salt)                                                                        \
    {0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,  \
     0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, h,     \
     0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,  \
     0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, h,     \
     0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, salt}
#define ECDSA(h) {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, h}
static const unsigned char sig_rsa256[] = RSA_PKCS1(0x0b), sig_rsa384[] = RSA_PKCS1(0x0c),
                           sig_rsa512[] = RSA_PKCS1(0x0d), sig_pss256[] = RSA_PSS(0x01, 0x20),
                           sig_pss384[] = RSA_PSS(0x02, 0x30), sig_pss512[] = RSA_PSS(0x03, 0x40),
                           sig_ec256[] = ECDSA(0x02), sig_ec384[] = ECDSA(0x03),
                           sig_ec512[] = ECDSA(0x04);

typedef enum { LK_OTHER, LK_RSA, LK_P256, LK_P384, LK_P521 } lint_key;
typedef enum { PROF_PRIVATE, PROF_DV, PROF_OV, PROF_EV, PROF_IV } lint_prof;

typedef struct der_entry {
    const unsigned char *der;
    size_t len;
    int value; /* lint_key or lint_prof */
    const char *name;
} der_entry;

#define ENTRY(a, v, n) {a, sizeof a, v, n}
static const der_entry spki_algs[] = { /* in lint_key order */
    ENTRY(spki_rsa, LK_RSA, "RSA"), ENTRY(spki_p256, LK_P256, "EC P-256"),
    ENTRY(spki_p384, LK_P384, "EC P-384"), ENTRY(spki_p521, LK_P521, "EC P-521")};
/* value: the issuing key the algorithm needs (any RSA key, or the curve that fixes the hash). */
static const der_entry sig_algs[] = {
    ENTRY(sig_rsa256, LK_RSA, "sha256WithRSAEncryption"),
    ENTRY(sig_rsa384, LK_RSA, "sha384WithRSAEncryption"),
    ENTRY(sig_rsa512, LK_RSA, "sha512WithRSAEncryption"),
    ENTRY(sig_pss256, LK_RSA, "RSASSA-PSS-SHA256"), ENTRY(sig_pss384, LK_RSA, "RSASSA-PSS-SHA384"),
    ENTRY(sig_pss512, LK_RSA, "RSASSA-PSS-SHA512"), ENTRY(sig_ec256, LK_P256, "ecdsa-with-SHA256"),
    ENTRY(sig_ec384, LK_P384, "ecdsa-with-SHA384"), ENTRY(sig_ec512, LK_P521, "ecdsa-with-SHA512")};
static const der_entry reserved_policies[] = {
    ENTRY(oid_dv, PROF_DV, "DV"), ENTRY(oid_ov, PROF_OV, "OV"), ENTRY(oid_iv, PROF_IV, "IV"),
    ENTRY(oid_ev, PROF_EV, "EV")};

/* Extensions of the profile; any other is reported, and refused when critical. */
enum { X_SAN, X_KU, X_EKU, X_BC, X_AKI, X_SKI, X_AIA, X_CRLDP, X_CP, X_NC, X_SCT, X_POISON,
       X_CABF, X_COUNT };
static const struct {
    int nid;
    const char *name;
} ext_kinds[X_COUNT] = {
    [X_SAN] = {NID_subject_alt_name, "subjectAltName"}, [X_KU] = {NID_key_usage, "keyUsage"},
    [X_EKU] = {NID_ext_key_usage, "extKeyUsage"},
    [X_BC] = {NID_basic_constraints, "basicConstraints"},
    [X_AKI] = {NID_authority_key_identifier, "authorityKeyIdentifier"},
    [X_SKI] = {NID_subject_key_identifier, "subjectKeyIdentifier"},
    [X_AIA] = {NID_info_access, "authorityInformationAccess"},
    [X_CRLDP] = {NID_crl_distribution_points, "cRLDistributionPoints"},
    [X_CP] = {NID_certificate_policies, "certificatePolicies"},
    [X_NC] = {NID_name_constraints, "nameConstraints"}, [X_SCT] = {NID_ct_precert_scts, "SCTs"},
    [X_POISON] = {NID_ct_precert_poison, "poison"}, [X_CABF] = {NID_undef, "cabfOrgId"}};

/* Subject attributes: BR §7.1.4.2 order (0: outside the table, any place), most characters,
 * the row for encoding and length findings, flags, and per DV/OV/EV the row of a finding when
 * present (positive: error, negative: warning "not recommended", 0: allowed). */
enum { A_DC, A_JL, A_JST, A_JC, A_BUS, A_SN, A_OI, A_C, A_ST, A_L, A_PC, A_STREET, A_O, A_SUR,
       A_GIVEN, A_OU, A_CN, A_COUNT };
#define AF_PRINTABLE 1u /* PrintableString only */
#define AF_REPEAT    2u /* may appear more than once */
#define AF_IA5       4u /* IA5String allowed too */
#define AF_COUNTRY   8u /* two upper-case letters */
static const struct attr_rule {
    int nid, rank, max, row;
    unsigned flags;
    int present[3]; /* DV, OV, EV */
} attr_rules[A_COUNT] = {
    [A_DC] = {NID_domainComponent, 1, 63, 26, AF_REPEAT | AF_IA5, {27, 0, 33}},
    [A_JL] = {NID_jurisdictionLocalityName, 0, 128, 30, 0, {30, -30, 0}},
    [A_JST] = {NID_jurisdictionStateOrProvinceName, 0, 128, 30, 0, {30, -30, 0}},
    [A_JC] = {NID_jurisdictionCountryName, 0, 0, 30, AF_PRINTABLE | AF_COUNTRY, {30, -30, 0}},
    [A_BUS] = {NID_businessCategory, 0, 128, 29, 0, {29, -29, 0}},
    [A_SN] = {NID_serialNumber, 0, 64, 31, AF_PRINTABLE, {31, -31, 0}},
    [A_OI] = {NID_organizationIdentifier, 0, 0, 32, 0, {27, -32, 0}},
    [A_C] = {NID_countryName, 2, 0, 26, AF_PRINTABLE | AF_COUNTRY, {0, 0, 0}},
    [A_ST] = {NID_stateOrProvinceName, 3, 128, 26, 0, {27, 0, 0}},
    [A_L] = {NID_localityName, 4, 128, 26, 0, {27, 0, 0}},
    [A_PC] = {NID_postalCode, 5, 40, 26, 0, {27, 0, 0}},
    [A_STREET] = {NID_streetAddress, 6, 128, 26, AF_REPEAT, {27, 0, 0}},
    [A_O] = {NID_organizationName, 7, 64, 26, 0, {27, 0, 0}},
    [A_SUR] = {NID_surname, 8, 0, 26, 0, {27, 28, 28}},
    [A_GIVEN] = {NID_givenName, 9, 0, 26, 0, {27, 28, 28}},
    [A_OU] = {NID_organizationalUnitName, 10, 64, 26, 0, {27, 28, 28}},
    [A_CN] = {NID_commonName, 11, 64, 16, 0, {0, 0, 0}}};
// clang-format on

/* Everything one run of lint_cert knows. */
typedef struct lint_state {
    const X509 *x;
    const cm_lint_ctx *ctx;
    cm_lint_report *rep;
    X509_EXTENSION *ext[X_COUNT]; /* first occurrence of each known extension (owned by x) */
    lint_prof prof;
    bool is_public;
    lint_key key;
    bool times_ok;
    int64_t nb, na;
    bool has_ocsp;
    GENERAL_NAMES *san; /* decoded SAN, freed at the end of lint_cert */
} lint_state;

#define ERR(st, rule, ...)    lint_add((st)->rep, rule, LINT_ERROR, __VA_ARGS__)
#define WARN(st, rule, ...)   lint_add((st)->rep, rule, LINT_WARN, __VA_ARGS__)
#define NOTICE(st, rule, ...) lint_add((st)->rep, rule, LINT_NOTICE, __VA_ARGS__)

/* ---- Small helpers ---- */

/* Copies up to SHOW_MAX bytes of s into buf for a message: bytes outside printable ASCII and the
 * quote become '?', a cut is marked "...". Returns buf. */
static const char *show(const unsigned char *s, size_t n, show_buf buf)
{
    size_t i = 0;
    for (; i < n && i < SHOW_MAX; i++)
        buf[i] = (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '"') ? '?' : (char)s[i];
    if (i < n) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* show() for an ASN1_STRING. */
static const char *show_str(const ASN1_STRING *s, show_buf buf)
{
    return show(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), buf);
}

/* The short name, else the dotted text, of an OID for messages. Returns a static name or buf. */
static const char *oid_name(const ASN1_OBJECT *o, show_buf buf)
{
    int nid = OBJ_obj2nid(o);
    if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
        return OBJ_nid2sn(nid);
    if (OBJ_obj2txt(buf, (int)sizeof(show_buf), o, 1) <= 0)
        snprintf(buf, sizeof(show_buf), "?");
    return buf;
}

/* True when the OID's content octets equal der[0..len). */
static bool oid_is(const ASN1_OBJECT *o, const unsigned char *der, size_t len)
{
    return o != NULL && (size_t)OBJ_length(o) == len && memcmp(OBJ_get0_data(o), der, len) == 0;
}

/* The entry of table t (n entries) whose DER equals der[0..len); NULL when none. */
static const der_entry *der_find(const der_entry *t, size_t n, const unsigned char *der, int len)
{
    for (size_t i = 0; len > 0 && i < n; i++)
        if (t[i].len == (size_t)len && memcmp(t[i].der, der, t[i].len) == 0)
            return &t[i];
    return NULL;
}

/* Encodes a (small) AlgorithmIdentifier into buf[ALG_MAX]. Returns its length, or -1. */
static int alg_der(const X509_ALGOR *a, unsigned char *buf)
{
    int n = a != NULL ? i2d_X509_ALGOR(a, NULL) : -1;
    if (n <= 0 || n > ALG_MAX)
        return -1;
    unsigned char *p = buf;
    return i2d_X509_ALGOR(a, &p);
}

/* The kind of x's public key, from the exact bytes of its SPKI AlgorithmIdentifier; *oid (when
 * oid is not NULL) receives the algorithm OID, owned by x. */
static lint_key spki_kind(const X509 *x, ASN1_OBJECT **oid)
{
    X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
    X509_ALGOR *alg = NULL;
    unsigned char buf[ALG_MAX];
    if (pub == NULL || !X509_PUBKEY_get0_param(oid, NULL, NULL, &alg, pub))
        return LK_OTHER;
    const der_entry *e = der_find(spki_algs, NELEM(spki_algs), buf, alg_der(alg, buf));
    return e != NULL ? (lint_key)e->value : LK_OTHER;
}

/* True when the string is an http:// URL (or https:// when allowed) with something after it. */
static bool http_url(const ASN1_STRING *s, bool https_ok)
{
    const char *d = (const char *)ASN1_STRING_get0_data(s);
    size_t n = (size_t)ASN1_STRING_length(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)d[i] <= 0x20 || (unsigned char)d[i] >= 0x7f)
            return false;
    return (n > 7 && strncasecmp(d, "http://", 7) == 0) ||
           (https_ok && n > 8 && strncasecmp(d, "https://", 8) == 0);
}

/* Characters in a UTF-8 string; -1 when it is not valid UTF-8 (overlong forms, surrogates and
 * code points above U+10FFFF included). */
static long utf8_chars(const unsigned char *p, size_t n)
{
    long chars = 0;
    for (size_t i = 0; i < n; chars++) {
        unsigned char c = p[i];
        size_t k = c < 0x80 ? 0 : c < 0xc2 ? 9 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf5 ? 3 : 9;
        if (k == 9 || k >= n - i)
            return -1;
        unsigned long cp = k == 0 ? c : (unsigned long)(c & (0x3f >> k));
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return -1;
        i += k + 1;
    }
    return chars;
}

/* True when every byte is in the PrintableString alphabet (X.680 §41.4). */
static bool printable(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
              (p[i] >= '0' && p[i] <= '9') || (p[i] != 0 && strchr(" '()+,-./:=?", p[i]))))
            return false;
    return true;
}

/* True when a subject value says nothing: empty, only dots, hyphens and spaces, or a stock
 * placeholder such as "N/A" (BR §7.1.4.2). */
static bool placeholder(const unsigned char *p, size_t n)
{
    static const char *const stock[] = {"n/a",  "na",      "n.a.",           "none",
                                        "null", "unknown", "not applicable", "tbd"};
    size_t filler = 0;
    while (filler < n && (p[filler] == '.' || p[filler] == '-' || p[filler] == ' '))
        filler++;
    for (size_t i = 0; i < NELEM(stock) && filler < n; i++)
        if (strlen(stock[i]) == n && strncasecmp((const char *)p, stock[i], n) == 0)
            return true;
    return filler == n;
}

/* Decodes known extension k; NULL when absent, or when malformed (reported under `rule`).
 * Caller frees with the type's free function. */
static void *ext_get(lint_state *st, int k, int rule)
{
    if (st->ext[k] == NULL)
        return NULL;
    void *v = X509V3_EXT_d2i(st->ext[k]);
    if (v == NULL)
        ERR(st, rule, "the %s extension is malformed", ext_kinds[k].name);
    return v;
}

/* True when known extension k is present and marked critical. */
static bool ext_critical(const lint_state *st, int k)
{
    return st->ext[k] != NULL && X509_EXTENSION_get_critical(st->ext[k]) > 0;
}

/* Presence and criticality of known extension k under row `rule`: an error when it is absent
 * but `required`, or when its critical flag differs from `critical`. True when present. */
static bool ext_expect(lint_state *st, int k, int rule, bool required, bool critical)
{
    if (st->ext[k] == NULL) {
        if (required)
            ERR(st, rule, "there is no %s extension", ext_kinds[k].name);
        return false;
    }
    if (ext_critical(st, k) != critical)
        ERR(st, rule, "%s must %sbe critical", ext_kinds[k].name, critical ? "" : "not ");
    return true;
}

/* ---- Rows 1–8: fields, dates, key and signature ---- */

/* Row 1 (v3) and row 2 (serial: positive, below 2^159, ≥ 64 bits, DER-minimal). */
static void check_version_serial(lint_state *st)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(st->x);
    const unsigned char *d = ASN1_STRING_get0_data(sn);
    size_t n = (size_t)ASN1_STRING_length(sn), i = 0;
    if (X509_get_version(st->x) != X509_VERSION_3)
        ERR(st, 1, "the certificate is version %ld, not X.509 v3", X509_get_version(st->x) + 1);
    if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER) {
        ERR(st, 2, "the serial number is negative; it must be greater than 0");
        return;
    }
    if (n > 1 && d[0] == 0)
        ERR(st, 2, "the serial number is not DER-minimal (a needless leading zero octet)");
    while (i < n && d[i] == 0)
        i++;
    if (i == n) {
        ERR(st, 2, "the serial number is 0; it must be greater than 0");
        return;
    }
    size_t bits = (n - i) * 8;
    for (unsigned char top = d[i]; !(top & 0x80); top = (unsigned char)(top << 1))
        bits--;
    if (bits > 159)
        ERR(st, 2, "the serial number has %zu bits; it must be less than 2^159", bits);
    if (n - i < 8)
        ERR(st, 2, "the serial number is shorter than 8 octets; use ≥ 64 bits from a CSPRNG");
}

/* Row 3: the issuer name is a byte-for-byte copy of the issuing CA's subject. */
static void check_issuer(lint_state *st)
{
    const unsigned char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    if (st->ctx->issuer == NULL) {
        NOTICE(st, 3, "no issuer certificate given: the issuer name was not compared");
        return;
    }
    if (!X509_NAME_get0_der(X509_get_issuer_name(st->x), &a, &la) ||
        !X509_NAME_get0_der(X509_get_subject_name(st->ctx->issuer), &b, &lb) || la != lb ||
        memcmp(a, b, la) != 0)
        ERR(st, 3, "the issuer name is not a byte-for-byte copy of the issuing CA's subject");
}

/* Row 4: signature and signatureAlgorithm identical and one of the BR encodings, fitting the
 * issuing key (the ECDSA hash is fixed by its curve); no SHA-1. */
static void check_signature(lint_state *st)
{
    const X509_ALGOR *inner = X509_get0_tbs_sigalg(st->x), *outer = NULL;
    const ASN1_OBJECT *oid = NULL;
    unsigned char a[ALG_MAX], b[ALG_MAX];
    int md = NID_undef, pk = NID_undef;
    show_buf s;
    if (st->ctx->tbs_only)
        return;
    X509_get0_signature(NULL, &outer, st->x);
    int la = alg_der(inner, a), lb = alg_der(outer, b);
    if (la < 0 || lb < 0 || la != lb || memcmp(a, b, (size_t)la) != 0)
        ERR(st, 4, "tbsCertificate.signature and signatureAlgorithm are not byte-identical");
    const der_entry *e = der_find(sig_algs, NELEM(sig_algs), a, la);
    X509_ALGOR_get0(&oid, NULL, NULL, inner);
    if (e == NULL && OBJ_find_sigid_algs(OBJ_obj2nid(oid), &md, &pk) && md == NID_sha1)
        ERR(st, 4, "the signature algorithm %s uses SHA-1, which is forbidden", oid_name(oid, s));
    else if (e == NULL)
        ERR(st, 4, "the signature AlgorithmIdentifier (%s) is not an encoding BR §7.1.3.2 allows",
            oid_name(oid, s));
    if (e == NULL || (st->ctx->issuer == NULL && e->value == LK_RSA))
        return;
    if (st->ctx->issuer == NULL) {
        NOTICE(st, 4, "no issuer certificate given: the %s curve was not checked", e->name);
        return;
    }
    lint_key ik = spki_kind(st->ctx->issuer, NULL);
    if (ik != (lint_key)e->value)
        ERR(st, 4,
            "%s does not fit the issuing CA's %s key (ECDSA: P-256/SHA-256, "
            "P-384/SHA-384, P-521/SHA-512)",
            e->name, ik == LK_OTHER ? "unsupported" : spki_algs[ik - 1].name);
}

/* Row 7 for one date: UTCTime before 2050, GeneralizedTime from 2050, both with seconds and Z.
 * Returns true and the time in *out when it is usable. */
static bool check_time(lint_state *st, const ASN1_TIME *t, const char *which, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
        ERR(st, 7, "%s is missing or not a valid time", which);
        return false;
    }
    *out = (int64_t)timegm(&tm);
    int len = ASN1_STRING_length(t), type = ASN1_STRING_type(t);
    const unsigned char *d = ASN1_STRING_get0_data(t);
    if (type == V_ASN1_UTCTIME && (len != 13 || d[12] != 'Z'))
        ERR(st, 7, "%s is not a UTCTime of the form YYMMDDHHMMSSZ", which);
    else if (type == V_ASN1_GENERALIZEDTIME && (len != 15 || d[14] != 'Z'))
        ERR(st, 7, "%s is not a GeneralizedTime of the form YYYYMMDDHHMMSSZ", which);
    else if (type == V_ASN1_GENERALIZEDTIME && tm.tm_year + 1900 < 2050)
        ERR(st, 7, "%s is a GeneralizedTime before 2050; use UTCTime", which);
    return true; /* a UTCTime cannot reach 2050, so the converse needs no check */
}

/* Rows 5–7: notBefore near the signing time; the SC-081 validity cap for public certificates. */
static void check_times(lint_state *st)
{
    bool a = check_time(st, X509_get0_notBefore(st->x), "notBefore", &st->nb);
    if (!check_time(st, X509_get0_notAfter(st->x), "notAfter", &st->na) || !a)
        return;
    int64_t skew = st->nb - st->ctx->signing_time;
    if (st->ctx->signing_time != 0 && (skew > SIGN_SKEW || skew < -SIGN_SKEW))
        ERR(st, 5, "notBefore is %lld hours %s the signing time; at most 48 are allowed",
            (long long)((skew < 0 ? -skew : skew) / 3600), skew < 0 ? "before" : "after");
    if (st->na < st->nb) {
        ERR(st, 6, "notAfter lies before notBefore");
        return;
    }
    st->times_ok = true;
    int64_t days = (st->na - st->nb + 1 + DAY - 1) / DAY; /* both ends count */
    int max = validity_public_max_days(st->nb);
    if (st->is_public && days > max)
        ERR(st, 6, "the validity period is %lld days; at most %d are allowed when issued then",
            (long long)days, max);
    else if (st->is_public && days == max)
        WARN(st, 6, "the validity is the full %d days allowed; issue %d by default", max, max - 1);
}

/* Row 8: RSA ≥ 2048 bits, a multiple of 8, odd e ≥ 3; or EC P-256/384/521; SPKI bytes exact. */
static void check_key(lint_state *st)
{
    ASN1_OBJECT *oid = NULL;
    BIGNUM *e = NULL;
    show_buf s;
    st->key = spki_kind(st->x, &oid);
    int nid = oid != NULL ? OBJ_obj2nid(oid) : NID_undef;
    if (st->key == LK_OTHER && nid == NID_rsassaPss)
        ERR(st, 8, "the key is an RSA-PSS key; only an rsaEncryption SPKI is allowed");
    else if (st->key == LK_OTHER && nid == NID_rsaEncryption)
        ERR(st, 8, "the rsaEncryption AlgorithmIdentifier lacks its exact NULL parameter");
    else if (st->key == LK_OTHER && nid == NID_X9_62_id_ecPublicKey)
        ERR(st, 8, "the EC key is not on a named P-256, P-384 or P-521 curve");
    else if (st->key == LK_OTHER)
        ERR(st, 8, "%s keys are not allowed in TLS server certificates",
            oid != NULL ? oid_name(oid, s) : "unreadable");
    if (st->key != LK_RSA)
        return;
    EVP_PKEY *pk = st->ctx->subject_key != NULL ? st->ctx->subject_key : X509_get0_pubkey(st->x);
    if (pk == NULL || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
        ERR(st, 8, "the RSA public key cannot be read");
        return;
    }
    int bits = EVP_PKEY_get_bits(pk);
    if (bits < 2048 || bits % 8 != 0)
        ERR(st, 8, "the RSA modulus has %d bits; use ≥ 2048 and a multiple of 8", bits);
    if (!BN_is_odd(e) || BN_num_bits(e) < 2)
        ERR(st, 8, "the RSA public exponent must be odd and at least 3");
    else if (BN_num_bits(e) > 256 || BN_get_word(e) < 65537)
        WARN(st, 8, "the RSA public exponent should lie between 2^16+1 and 2^256-1");
    BN_free(e);
}

/* ---- Rows 10–16: subjectAltName and commonName ---- */

/* Row 12 for one name without its "*.": LDH or P-labels, no underscore, no trailing dot, labels
 * of 1..63 octets, a top-level label that is not all digits. Returns NULL, or what is wrong. */
static const char *label_problem(const unsigned char *p, size_t n)
{
    size_t start = 0;
    bool digits = true;
    if (n > 0 && p[n - 1] == '.')
        return "ends with a dot";
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            unsigned char c = p[i];
            digits = digits && c >= '0' && c <= '9';
            if (c == '-' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
                continue;
            return c == '_' ? "has an underscore" : "has a character not allowed in DNS names";
        }
        const unsigned char *l = p + start;
        size_t len = i - start;
        char label[64];
        uint32_t *u = NULL;
        if (len == 0 || len > 63)
            return len == 0 ? "has an empty label" : "has a label longer than 63 octets";
        if (l[0] == '-' || l[len - 1] == '-')
            return "has a label that starts or ends with a hyphen";
        if (len >= 4 && l[2] == '-' && l[3] == '-') { /* only xn-- with valid Punycode */
            memcpy(label, l, len);
            label[len] = '\0';
            bool ok = strncasecmp(label, "xn", 2) == 0 &&
                      idn2_to_unicode_8z4z(label, &u, 0) == IDN2_OK && u != NULL && u[0] != 0;
            idn2_free(u);
            if (!ok)
                return "has \"--\" at positions 3-4 of a label that is not valid Punycode";
        }
        if (i == n && digits)
            return "has an all-numeric top-level label";
        start = i + 1;
        digits = true;
    }
    return NULL;
}

/* Rows 12, 13 and 15 for one dNSName. The syntax is checked here; what is left (public
 * suffixes, internal names, reverse zones) is names.c's policy, so issuance and lint agree. */
static void check_dns_name(lint_state *st, const ASN1_STRING *s)
{
    const unsigned char *p = ASN1_STRING_get0_data(s);
    size_t n = (size_t)ASN1_STRING_length(s), i = 0;
    char name[NAME_MAX_LEN + 1];
    const char *why = NULL;
    show_buf q;
    cm_name out;
    cm_err err;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f)
        i++;
    bool wild = n >= 2 && p[0] == '*' && p[1] == '.';
    bool stray = n > 0 && memchr(p + wild, '*', n - wild) != NULL; /* a star not as "*." */
    if (n == 0 || n > NAME_MAX_LEN)
        why = "is empty or longer than 253 octets";
    else if (i < n)
        why = "is not printable ASCII (IDNs go as xn-- A-labels)";
    else
        why = label_problem(p + 2 * wild, n - 2 * wild);
    if (why != NULL && !stray) {
        ERR(st, 12, "the dNSName \"%s\" %s", show_str(s, q), why);
        return;
    }
    if (stray || (wild && st->prof == PROF_EV)) {
        ERR(st, 15, "the dNSName \"%s\" %s", show_str(s, q),
            wild && st->prof == PROF_EV ? "is a wildcard, which EV certificates may not carry"
                                        : "has a '*' that is not the whole left-most label");
        return;
    }
    cm_name_policy base = {.public_names = false, .allow_wildcard = false};
    if (wild) { /* the part under the star: only the public suffix list can refuse it now */
        memcpy(name, p + 2, n - 2);
        name[n - 2] = '\0';
        if (name_normalize(name, &base, &out, &err) != 0) {
            ERR(st, 15, "the wildcard \"%s\" sits on a public suffix, not a registrable domain",
                show_str(s, q));
            return;
        }
    }
    memcpy(name, p, n);
    name[n] = '\0';
    cm_name_policy pol = {.public_names = st->is_public, .allow_wildcard = true};
    if (name_normalize(name, &pol, &out, &err) != 0)
        ERR(st, 13, "%s", err.msg);
}

/* Row 10 (an iPAddress is 4 or 16 octets) and row 14 (no reserved addresses when public). */
static void check_ip(lint_state *st, const ASN1_OCTET_STRING *ip)
{
    const unsigned char *d = ASN1_STRING_get0_data(ip);
    int n = ASN1_STRING_length(ip);
    char text[INET6_ADDRSTRLEN];
    if (n != 4 && n != 16)
        ERR(st, 10, "an iPAddress entry has %d octets; 4 or 16 are allowed", n);
    else if (st->is_public && name_ip_reserved(d, (size_t)n))
        ERR(st, 14, "the iPAddress %s is reserved; public certificates may not carry it",
            inet_ntop(n == 4 ? AF_INET : AF_INET6, d, text, sizeof text) ? text : "?");
}

/* Rows 10–15: SAN present with dNSName/iPAddress only (EV: dNSName only), critical iff the
 * subject is empty, and each name checked. Keeps the decoded SAN for row 16. */
static void check_san(lint_state *st)
{
    static const char *const kinds[] = {"otherName",   "rfc822Name",    "dNSName",
                                        "x400Address", "directoryName", "ediPartyName",
                                        "URI",         "iPAddress",     "registeredID"};
    bool empty_subject = X509_NAME_entry_count(X509_get_subject_name(st->x)) == 0;
    int names = 0;
    if (st->ext[X_SAN] == NULL) {
        ERR(st, 10, "there is no subjectAltName extension");
        return;
    }
    if (ext_critical(st, X_SAN) != empty_subject)
        ERR(st, 11, "subjectAltName must %sbe critical when the subject is %sempty",
            empty_subject ? "" : "not ", empty_subject ? "" : "not ");
    if ((st->san = ext_get(st, X_SAN, 10)) == NULL)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(st->san); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(st->san, i);
        if (g->type == GEN_DNS)
            check_dns_name(st, g->d.dNSName);
        else if (g->type == GEN_IPADD && st->prof == PROF_EV)
            ERR(st, 10, "an EV certificate's SAN holds an iPAddress; EV names hosts only");
        else if (g->type == GEN_IPADD)
            check_ip(st, g->d.iPAddress);
        else
            ERR(st, 10, "the SAN holds a %s; only dNSName and iPAddress are allowed",
                g->type >= 0 && g->type <= GEN_RID ? kinds[g->type] : "name of unknown type");
        names += g->type == GEN_DNS || (g->type == GEN_IPADD && st->prof != PROF_EV);
    }
    if (names == 0)
        ERR(st, 10, "the SAN holds no dNSName or iPAddress");
}

/* Row 16: the CN is a character-for-character copy of a SAN value (IPs in RFC 5952 / dotted
 * text). */
static bool san_has(const lint_state *st, const ASN1_STRING *cn)
{
    const unsigned char *c = ASN1_STRING_get0_data(cn);
    size_t n = (size_t)ASN1_STRING_length(cn);
    char text[INET6_ADDRSTRLEN];
    for (int i = 0; st->san != NULL && i < sk_GENERAL_NAME_num(st->san); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(st->san, i);
        const ASN1_STRING *v = g->type == GEN_DNS ? g->d.dNSName : NULL;
        int len = g->type == GEN_IPADD ? ASN1_STRING_length(g->d.iPAddress) : 0;
        if (v != NULL && (size_t)ASN1_STRING_length(v) == n &&
            memcmp(ASN1_STRING_get0_data(v), c, n) == 0)
            return true;
        if ((len == 4 || len == 16) &&
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), text,
                      sizeof text) != NULL &&
            strlen(text) == n && memcmp(text, c, n) == 0)
            return true;
    }
    return false;
}

/* ---- Rows 26–33: the subject ---- */

/* Encoding, length and content of one attribute value (row 26 and the attribute's own row). */
static void check_value(lint_state *st, const struct attr_rule *r, const ASN1_STRING *v)
{
    const unsigned char *d = ASN1_STRING_get0_data(v);
    size_t n = (size_t)ASN1_STRING_length(v);
    int type = ASN1_STRING_type(v);
    long chars = (long)n;
    const char *name = OBJ_nid2sn(r->nid);
    show_buf q;
    bool ia5 = type == V_ASN1_IA5STRING && (r->flags & AF_IA5);
    if ((type == V_ASN1_PRINTABLESTRING || ia5) && !printable(d, n))
        ERR(st, r->row, "%s \"%s\" holds characters outside PrintableString", name, show(d, n, q));
    else if (type != V_ASN1_PRINTABLESTRING && (r->flags & AF_PRINTABLE))
        ERR(st, r->row, "%s must be a PrintableString, not a %s", name, ASN1_tag2str(type));
    else if (type == V_ASN1_UTF8STRING && (chars = utf8_chars(d, n)) < 0)
        ERR(st, 26, "%s is not valid UTF-8", name);
    else if (type != V_ASN1_PRINTABLESTRING && type != V_ASN1_UTF8STRING && !ia5)
        ERR(st, 26, "%s is a %s; use UTF8String or PrintableString", name, ASN1_tag2str(type));
    if (r->max > 0 && chars > r->max)
        ERR(st, r->row, "%s is %ld characters long; at most %d are allowed", name, chars, r->max);
    if ((r->flags & AF_COUNTRY) && (n != 2 || d[0] < 'A' || d[0] > 'Z' || d[1] < 'A' || d[1] > 'Z'))
        ERR(st, r->row, "%s \"%s\" is not a two-letter ISO 3166-1 code", name, show(d, n, q));
    else if (placeholder(d, n))
        ERR(st, 26, "%s \"%s\" is empty or a placeholder; leave it out instead", name,
            show(d, n, q));
}

/* Row 32: the cabfOrganizationIdentifier extension (EVG §9.8.2) spells the subject's
 * organizationIdentifier: scheme (3) country (2) ["+" state] "-" reference. */
static bool orgid_matches(X509_EXTENSION *ext, const ASN1_STRING *oi)
{
    static const int want[4] = {V_ASN1_PRINTABLESTRING, V_ASN1_PRINTABLESTRING, 0,
                                V_ASN1_UTF8STRING};
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(ext);
    const unsigned char *p = ASN1_STRING_get0_data(os), *end = p + ASN1_STRING_length(os);
    const unsigned char *part[4] = {NULL, NULL, NULL, NULL}, *v = ASN1_STRING_get0_data(oi);
    long len, plen[4] = {0, 0, 0, 0}, n = ASN1_STRING_length(oi), at = 5;
    int tag, cls;
    if (ASN1_get_object(&p, &len, &tag, &cls, end - p) != V_ASN1_CONSTRUCTED ||
        tag != V_ASN1_SEQUENCE || p + len != end)
        return false;
    for (int i = 0; i < 4 && p < end; i++) {
        if (ASN1_get_object(&p, &len, &tag, &cls, end - p) & 0x80)
            return false;
        if (i == 2 && !(cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0))
            i = 3; /* no registrationStateOrProvince */
        if (i != 2 && (cls != V_ASN1_UNIVERSAL || tag != want[i]))
            return false;
        part[i] = p, plen[i] = len;
        p += len;
    }
    if (p != end || plen[0] != 3 || plen[1] != 2 || part[3] == NULL || n < 6 ||
        memcmp(v, part[0], 3) != 0 || memcmp(v + 3, part[1], 2) != 0)
        return false;
    if (part[2] != NULL) {
        if (n < at + 1 + plen[2] || v[at] != '+' || memcmp(v + at + 1, part[2], plen[2]) != 0)
            return false;
        at += 1 + plen[2];
    }
    return n == at + 1 + plen[3] && v[at] == '-' && memcmp(v + at + 1, part[3], plen[3]) == 0;
}

/* Rows 27–33: what the subject of each validation type must and must not hold. */
static void check_subject_type(lint_state *st, const unsigned *count, const ASN1_STRING *bus,
                               const ASN1_STRING *oi)
{
    static const char *const categories[] = {"Private Organization", "Government Entity",
                                             "Business Entity", "Non-Commercial Entity"};
    static const char *const prof_name[] = {"", "DV", "OV", "EV"};
    lint_prof p = st->prof;
    bool ev = p == PROF_EV, org = p == PROF_OV || ev;
    for (int a = 0; a < A_COUNT && p >= PROF_DV && p <= PROF_EV; a++) {
        int row = attr_rules[a].present[p - PROF_DV];
        if (count[a] && row != 0)
            lint_add(st->rep, row < 0 ? -row : row, row < 0 ? LINT_WARN : LINT_ERROR,
                     "%s is %s in %s subjects", OBJ_nid2sn(attr_rules[a].nid),
                     row < 0 ? "not recommended" : "not allowed", prof_name[p]);
    }
    if (org && (!count[A_O] || !count[A_C] || (!count[A_ST] && !count[A_L])))
        ERR(st, 28, "an %s subject must hold O, C, and ST or L", prof_name[p]);
    size_t i = 0, n = bus != NULL ? (size_t)ASN1_STRING_length(bus) : 0;
    while (
        bus != NULL && i < NELEM(categories) &&
        !(strlen(categories[i]) == n && memcmp(categories[i], ASN1_STRING_get0_data(bus), n) == 0))
        i++;
    if (ev && (bus == NULL || i == NELEM(categories)))
        ERR(st, 29,
            "an EV subject must hold businessCategory \"Private Organization\", "
            "\"Government Entity\", \"Business Entity\" or \"Non-Commercial Entity\"");
    if ((ev && !count[A_JC]) || (p != PROF_DV && !count[A_JC] && (count[A_JST] || count[A_JL])))
        ERR(st, 30, "jurisdictionC is missing (EV, or jurisdiction ST or L given)");
    if (ev && !count[A_SN])
        ERR(st, 31, "an EV subject must hold serialNumber (registration number or YYYY-MM-DD)");
    if (oi != NULL && st->ext[X_CABF] == NULL)
        ERR(st, 32, "organizationIdentifier needs the cabfOrganizationIdentifier extension");
    else if (oi != NULL && !orgid_matches(st->ext[X_CABF], oi))
        ERR(st, 32, "cabfOrganizationIdentifier is malformed or differs from the subject's");
    else if (oi == NULL && st->ext[X_CABF] != NULL)
        WARN(st, 32, "cabfOrganizationIdentifier is present without an organizationIdentifier");
}

/* Rows 16 and 26–33: one attribute per RDN in BR order, encodings and lengths, no placeholders,
 * the CN a copy of a SAN value, and the attributes each validation type allows. */
static void check_subject(lint_state *st)
{
    const X509_NAME *nm = X509_get_subject_name(st->x);
    unsigned count[A_COUNT] = {0};
    const ASN1_STRING *first[A_COUNT] = {NULL};
    int prev_set = -1, last_rank = 0, last = 0;
    bool multi = false, disorder = false;
    show_buf s;
    for (int i = 0; i < X509_NAME_entry_count(nm); i++) {
        const X509_NAME_ENTRY *ne = X509_NAME_get_entry(nm, i);
        int set = X509_NAME_ENTRY_set(ne), nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));
        if (set == prev_set && !multi)
            ERR(st, 26, "the subject has an RDN with more than one attribute");
        multi |= set == prev_set;
        prev_set = set;
        int a = 0;
        while (a < A_COUNT && attr_rules[a].nid != nid)
            a++;
        if (a == A_COUNT) {
            lint_add(st->rep, 33,
                     st->prof == PROF_DV || st->prof == PROF_EV ? LINT_ERROR : LINT_WARN,
                     "the subject attribute %s is not one the BR and EVG list",
                     oid_name(X509_NAME_ENTRY_get_object(ne), s));
            continue;
        }
        const struct attr_rule *r = &attr_rules[a];
        if (++count[a] == 2 && !(r->flags & AF_REPEAT))
            ERR(st, a == A_CN ? 16 : 26, "the subject holds %s more than once", OBJ_nid2sn(nid));
        if (r->rank > 0 && r->rank < last_rank && !disorder)
            ERR(st, 26,
                "%s comes after %s; the BR order is DC, C, ST, L, postalCode, street, O, "
                "SN, GN, OU, CN",
                OBJ_nid2sn(nid), OBJ_nid2sn(attr_rules[last].nid));
        disorder |= r->rank > 0 && r->rank < last_rank; /* reported once */
        if (r->rank > last_rank)
            last_rank = r->rank, last = a;
        check_value(st, r, X509_NAME_ENTRY_get_data(ne));
        if (first[a] == NULL)
            first[a] = X509_NAME_ENTRY_get_data(ne);
    }
    if (first[A_CN] != NULL && !san_has(st, first[A_CN]))
        ERR(st, 16, "the commonName \"%s\" is not a character-for-character copy of a SAN value",
            show_str(first[A_CN], s));
    check_subject_type(st, count, first[A_BUS], first[A_OI]);
}

/* ---- Rows 17–25: extensions ---- */

/* The X_ index of a known extension, X_COUNT for any other. */
static int ext_kind(const ASN1_OBJECT *o)
{
    int nid = OBJ_obj2nid(o), k = 0;
    if (nid == NID_undef)
        return oid_is(o, oid_cabf_orgid, sizeof oid_cabf_orgid) ? X_CABF : X_COUNT;
    while (k < X_COUNT && ext_kinds[k].nid != nid)
        k++;
    return k;
}

/* Row 25: no duplicate, unknown critical or forbidden extensions, no unique IDs; SKI not
 * recommended. Records the first occurrence of each known extension for the other rows. */
static void collect_extensions(lint_state *st)
{
    const STACK_OF(X509_EXTENSION) *exts = X509_get0_extensions(st->x);
    const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
    show_buf s;
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
        const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
        bool dup = false;
        for (int j = 0; j < i && !dup; j++)
            dup = OBJ_cmp(o, X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, j))) == 0;
        int k = ext_kind(o);
        if (dup)
            ERR(st, 25, "the %s extension appears more than once", oid_name(o, s));
        else if (k < X_COUNT)
            st->ext[k] = e;
        else if (X509_EXTENSION_get_critical(e) > 0)
            ERR(st, 25, "the critical extension %s is not part of the profile", oid_name(o, s));
        else
            NOTICE(st, 25, "the extension %s is not part of the profile", oid_name(o, s));
    }
    if (st->ext[X_NC] != NULL)
        ERR(st, 25, "a subscriber certificate may not carry nameConstraints");
    if (st->ext[X_SKI] != NULL)
        WARN(st, 25, "subjectKeyIdentifier is not recommended in subscriber certificates");
    X509_get0_uids(st->x, &iuid, &suid);
    if (iuid != NULL || suid != NULL)
        ERR(st, 25, "issuerUniqueID and subjectUniqueID must be absent");
}

/* Row 20: certificatePolicies non-critical with exactly one reserved OID (first), no anyPolicy,
 * only id-qt-cps qualifiers. Sets the validation type and whether the certificate is public. */
static void check_policies(lint_state *st)
{
    int reserved = 0;
    show_buf s;
    ext_expect(st, X_CP, 20, false, false);
    CERTIFICATEPOLICIES *cp = ext_get(st, X_CP, 20);
    for (int i = 0; cp != NULL && i < sk_POLICYINFO_num(cp); i++) {
        const POLICYINFO *pi = sk_POLICYINFO_value(cp, i);
        const der_entry *r = NULL;
        for (size_t k = 0; k < NELEM(reserved_policies) && r == NULL; k++)
            if (oid_is(pi->policyid, reserved_policies[k].der, reserved_policies[k].len))
                r = &reserved_policies[k];
        if (OBJ_obj2nid(pi->policyid) == NID_any_policy)
            ERR(st, 20, "certificatePolicies holds anyPolicy, which is forbidden");
        if (r != NULL && ++reserved == 1)
            st->prof = (lint_prof)r->value;
        if (r != NULL && reserved == 1 && i != 0)
            WARN(st, 20, "the reserved %s policy OID should come first", r->name);
        for (int j = 0; j < sk_POLICYQUALINFO_num(pi->qualifiers); j++) {
            const POLICYQUALINFO *qi = sk_POLICYQUALINFO_value(pi->qualifiers, j);
            if (OBJ_obj2nid(qi->pqualid) != NID_id_qt_cps)
                ERR(st, 20, "the policy qualifier %s is not allowed; only id-qt-cps",
                    oid_name(qi->pqualid, s));
            else if (!http_url(qi->d.cpsuri, true))
                ERR(st, 20, "the CPS qualifier is not an http(s) URL");
        }
    }
    bool readable = st->ext[X_CP] == NULL || cp != NULL;
    CERTIFICATEPOLICIES_free(cp);
    st->is_public = reserved > 0;
    if (reserved > 1)
        ERR(st, 20,
            "certificatePolicies holds %d reserved CA/B Forum OIDs; exactly one is "
            "allowed",
            reserved);
    else if (reserved == 0 && readable)
        NOTICE(st, 20,
               "no reserved CA/B Forum policy OID: linted as a private-hierarchy "
               "certificate (no validity cap, internal names allowed, no DV/OV/EV rules)");
}

/* Row 17: AIA present, non-critical, only OCSP and caIssuers with http:// URLs, caIssuers
 * present. Records whether there is an OCSP URL for row 19. */
static void check_aia(lint_state *st)
{
    bool ca = false;
    show_buf s;
    AUTHORITY_INFO_ACCESS *aia = NULL;
    if (!ext_expect(st, X_AIA, 17, true, false) || !(aia = ext_get(st, X_AIA, 17)))
        return;
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        int nid = OBJ_obj2nid(ad->method);
        st->has_ocsp |= nid == NID_ad_OCSP;
        ca |= nid == NID_ad_ca_issuers;
        if (nid != NID_ad_OCSP && nid != NID_ad_ca_issuers)
            ERR(st, 17, "the access method %s is not allowed; only OCSP and caIssuers",
                oid_name(ad->method, s));
        else if (ad->location->type != GEN_URI ||
                 !http_url(ad->location->d.uniformResourceIdentifier, false))
            ERR(st, 17, "the %s location is not an http:// URL",
                nid == NID_ad_OCSP ? "OCSP" : "caIssuers");
    }
    if (!ca)
        ERR(st, 17, "authorityInformationAccess has no caIssuers URL");
    AUTHORITY_INFO_ACCESS_free(aia);
}

/* Row 18: AKI non-critical with keyIdentifier only, equal to the issuer's SKI. */
static void check_aki(lint_state *st)
{
    AUTHORITY_KEYID *aki = NULL;
    if (!ext_expect(st, X_AKI, 18, true, false) || !(aki = ext_get(st, X_AKI, 18)))
        return;
    if (aki->keyid == NULL || aki->issuer != NULL || aki->serial != NULL)
        ERR(st, 18, "authorityKeyIdentifier must hold a keyIdentifier and nothing else");
    if (st->ctx->issuer == NULL) {
        NOTICE(st, 18, "no issuer certificate given: the AKI was not compared with its SKI");
    } else if (aki->keyid != NULL) {
        ASN1_OCTET_STRING *ski =
            X509_get_ext_d2i(st->ctx->issuer, NID_subject_key_identifier, NULL, NULL);
        if (ski == NULL)
            WARN(st, 18, "the issuing CA has no subjectKeyIdentifier to compare the AKI with");
        else if (ASN1_OCTET_STRING_cmp(ski, aki->keyid) != 0)
            ERR(st, 18, "the AKI keyIdentifier differs from the issuing CA's SKI");
        ASN1_OCTET_STRING_free(ski);
    }
    AUTHORITY_KEYID_free(aki);
}

/* Row 19: CRLDP with http fullName URIs, no reasons or cRLIssuer; required unless the AIA has
 * an OCSP URL or the certificate is short-lived (≤ 7 days). */
static void check_crldp(lint_state *st)
{
    bool short_lived = st->times_ok && st->na - st->nb + 1 <= SHORT_LIVED;
    STACK_OF(DIST_POINT) *dps = NULL;
    if (!ext_expect(st, X_CRLDP, 19, !st->has_ocsp && !short_lived, false) ||
        !(dps = ext_get(st, X_CRLDP, 19)))
        return;
    int n = sk_DIST_POINT_num(dps);
    if (n != 1)
        lint_add(st->rep, 19, n == 0 ? LINT_ERROR : LINT_WARN,
                 "cRLDistributionPoints holds %d distribution points; one is expected", n);
    for (int i = 0; i < n; i++) {
        const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        GENERAL_NAMES *full =
            dp->distpoint != NULL && dp->distpoint->type == 0 ? dp->distpoint->name.fullname : NULL;
        bool http = sk_GENERAL_NAME_num(full) > 0;
        for (int j = 0; j < sk_GENERAL_NAME_num(full); j++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(full, j);
            http = http && g->type == GEN_URI && http_url(g->d.uniformResourceIdentifier, false);
        }
        if (dp->reasons != NULL || dp->CRLissuer != NULL)
            ERR(st, 19, "a distribution point holds reasons or cRLIssuer, which are forbidden");
        if (!http)
            ERR(st, 19, "a distribution point is not a fullName of http:// URLs");
    }
    CRL_DIST_POINTS_free(dps);
}

/* Rows 21 and 22: EKU non-critical with serverAuth and nothing forbidden; serverAuth only
 * (Chrome: a warning before 2027-03-15, an error from then on, by notBefore). */
static void check_eku(lint_state *st)
{
    bool server = false, other = false;
    show_buf s;
    EXTENDED_KEY_USAGE *eku = NULL;
    if (!ext_expect(st, X_EKU, 21, true, false) || !(eku = ext_get(st, X_EKU, 21)))
        return;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
        int nid = OBJ_obj2nid(o);
        server |= nid == NID_server_auth;
        if (nid == NID_code_sign || nid == NID_email_protect || nid == NID_time_stamp ||
            nid == NID_OCSP_sign || nid == NID_anyExtendedKeyUsage || nid == NID_ct_precert_signer)
            ERR(st, 21, "extKeyUsage holds %s, which is forbidden", oid_name(o, s));
        else if (nid != NID_server_auth && !other)
            lint_add(st->rep, 22, st->times_ok && st->nb >= T_2027_03_15 ? LINT_ERROR : LINT_WARN,
                     "extKeyUsage holds %s besides serverAuth; from 2027-03-15 Chrome requires "
                     "serverAuth only",
                     oid_name(o, s));
        other |= nid != NID_server_auth;
    }
    if (!server)
        ERR(st, 21, "extKeyUsage does not hold serverAuth");
    EXTENDED_KEY_USAGE_free(eku);
}

/* Row 23: keyUsage critical; RSA: digitalSignature and/or keyEncipherment; EC: digitalSignature
 * (keyAgreement allowed); never keyCertSign, cRLSign or nonRepudiation. */
static void check_ku(lint_state *st)
{
    static const char *const bit[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                      "dataEncipherment", "keyAgreement",   "keyCertSign",
                                      "cRLSign",          "encipherOnly",   "decipherOnly",
                                      "an undefined bit"};
    ASN1_BIT_STRING *ku = NULL;
    unsigned set = 0;
    if (!ext_expect(st, X_KU, 23, true, true) || !(ku = ext_get(st, X_KU, 23)))
        return;
    for (int i = 0; i < ASN1_STRING_length(ku) * 8; i++)
        if (ASN1_BIT_STRING_get_bit(ku, i))
            set |= 1u << (i < 9 ? i : 9);
    /* bit i is 1 << i; for keys row 8 refuses, only the CA bits and the like are reported */
    unsigned allowed = st->key == LK_RSA ? 0x0d : st->key == LK_OTHER ? 0x1d : 0x11;
    for (int i = 0; i < 10; i++)
        if ((set & ~allowed) & (1u << i))
            ERR(st, 23, "keyUsage holds %s, which this subscriber certificate may not have",
                bit[i]);
    if ((set & 0x08) && st->key == LK_RSA)
        WARN(st, 23, "keyUsage dataEncipherment is not recommended");
    if (set == 0 || (st->key >= LK_P256 && !(set & 1)))
        ERR(st, 23, "keyUsage must hold digitalSignature%s",
            st->key == LK_RSA ? " or keyEncipherment" : "");
    ASN1_BIT_STRING_free(ku);
}

/* Row 24: basicConstraints absent, or critical with cA FALSE and no pathLenConstraint. */
static void check_bc(lint_state *st)
{
    BASIC_CONSTRAINTS *bc = NULL;
    if (!ext_expect(st, X_BC, 24, false, true) || !(bc = ext_get(st, X_BC, 24)))
        return;
    if (bc->ca)
        ERR(st, 24, "basicConstraints says cA TRUE: a subscriber certificate is never a CA");
    if (bc->pathlen != NULL)
        ERR(st, 24, "basicConstraints holds a pathLenConstraint");
    BASIC_CONSTRAINTS_free(bc);
}

/* ---- Entry points ---- */

void lint_add(cm_lint_report *rep, int rule, cm_lint_level level, const char *fmt, ...)
{
    if (level == LINT_ERROR)
        rep->errors++;
    else if (level == LINT_WARN)
        rep->warnings++;
    if (rep->n >= LINT_MAX_FINDINGS)
        return; /* counted, not kept: the counters stay right */
    cm_lint_finding *f = &rep->items[rep->n++];
    f->rule = rule;
    f->level = level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof f->msg, fmt, ap); /* a long message is cut, which is fine */
    va_end(ap);
}

void lint_cert(const X509 *cert, const cm_lint_ctx *ctx, cm_lint_report *rep)
{
    static const cm_lint_ctx none = {.issuer = NULL};
    lint_state st;
    memset(&st, 0, sizeof st);
    st.x = cert;
    st.ctx = ctx != NULL ? ctx : &none;
    st.rep = rep;
    ERR_set_mark(); /* decoding failures are findings, not the caller's error queue */
    collect_extensions(&st);
    check_policies(&st); /* first: sets the validation type and whether it is public */
    check_version_serial(&st);
    check_issuer(&st);
    check_signature(&st);
    check_times(&st);
    check_key(&st);
    check_san(&st);
    check_subject(&st);
    check_aia(&st);
    check_aki(&st);
    check_crldp(&st);
    check_eku(&st);
    check_ku(&st);
    check_bc(&st);
    GENERAL_NAMES_free(st.san);
    ERR_pop_to_mark();
}

const char *lint_level_name(cm_lint_level l)
{
    switch (l) {
    case LINT_ERROR:
        return "error";
    case LINT_WARN:
        return "warning";
    case LINT_NOTICE:
        return "notice";
    }
    return "?";
}

/* Parses exactly `len` bytes of DER as a certificate; NULL when that fails. Caller frees. */
static X509 *parse_der(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    if (der == NULL || len == 0 || len > INPUT_MAX)
        return NULL;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

int lint_der(const unsigned char *der, size_t len, const unsigned char *issuer_der,
             size_t issuer_len, int64_t signing_time, cm_lint_report *rep)
{
    int rc = -1;
    X509 *x = NULL, *issuer = NULL;
    memset(rep, 0, sizeof *rep);
    ERR_set_mark();
    if ((x = parse_der(der, len)) == NULL ||
        (issuer_der != NULL && (issuer = parse_der(issuer_der, issuer_len)) == NULL))
        goto out;
    cm_lint_ctx ctx = {.issuer = issuer, .signing_time = signing_time, .tbs_only = false};
    lint_cert(x, &ctx, rep);
    rc = 0;
out:
    X509_free(x);
    X509_free(issuer);
    ERR_pop_to_mark();
    return rc;
}

int lint_decode_certs(const unsigned char *data, size_t len, cm_lint_der *out, size_t max,
                      size_t *n, cm_err *err)
{
    BIO *bio = NULL;
    int rc = -1;
    *n = 0;
    if (len > INPUT_MAX)
        return cm_err_set(err, "cert_too_large", "the input is larger than %d bytes", INPUT_MAX);
    if (memmem(data, len, "-----BEGIN ", 11) == NULL) { /* DER: one certificate */
        if (len == 0 || max == 0)
            return cm_err_set(err, "cert_malformed", "the input is empty");
        if ((out[0].der = malloc(len)) == NULL)
            return cm_err_set(err, "out_of_memory", "out of memory");
        memcpy(out[0].der, data, len);
        out[0].len = len;
        *n = 1;
        return 0;
    }
    ERR_set_mark();
    if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    bool oom = false;
    while (*n < max && !oom) {
        char *name = NULL, *header = NULL;
        unsigned char *body = NULL;
        long blen = 0;
        if (PEM_read_bio(bio, &name, &header, &body, &blen) != 1)
            break; /* no more blocks */
        bool cert = strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0;
        if (cert && blen > 0 && !(oom = (out[*n].der = malloc((size_t)blen)) == NULL)) {
            memcpy(out[*n].der, body, (size_t)blen);
            out[(*n)++].len = (size_t)blen;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(body);
    }
    if (oom)
        cm_err_set(err, "out_of_memory", "out of memory");
    else if (*n == 0)
        cm_err_set(err, "cert_malformed", "the PEM input holds no CERTIFICATE block");
    else
        rc = 0;
out:
    for (size_t i = 0; rc != 0 && i < *n; i++)
        free(out[i].der);
    if (rc != 0)
        *n = 0;
    BIO_free(bio);
    ERR_pop_to_mark();
    return rc;
}
