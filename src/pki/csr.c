/* csr.c — CSR intake: bounded, PEM or DER, self-signature verified, key policy applied.
 * Only the public key is used from a CSR; its subject and requested extensions are ignored.
 *
 * Why not d2i_X509_REQ: in OpenSSL 3.0 it decodes the public key through OSSL_DECODER, and
 * building a decoder context costs more than the ECDSA verify and sign of an issuance together
 * (callgrind: ~1.4M instructions per CSR, and X509_set_pubkey re-encodes and decodes it again for
 * ~2.2M more). So the PKCS#10 structure is walked with OpenSSL's own DER readers
 * (ASN1_get_object, d2i_X509_ALGOR, d2i_ASN1_BIT_STRING, d2i_ASN1_INTEGER), the key is imported
 * with EVP_PKEY_fromdata, the signature is verified over the exact CertificationRequestInfo
 * bytes, and the raw SubjectPublicKeyInfo is kept so the certificate can carry it unchanged. */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/internal.h"

struct cm_csr {
    EVP_PKEY *key;
    unsigned char *spki; /* SubjectPublicKeyInfo DER */
    size_t spki_len;
    X509_ALGOR *key_alg;      /* algorithm of the SPKI */
    ASN1_BIT_STRING *key_bits; /* subjectPublicKey */
    cm_keyinfo info;
    char alg_name[32];
};

/* One DER element: tag, class, content [p, p+len), and where it ends. */
typedef struct der_elem {
    const unsigned char *start, *content, *end;
    long len;
    int tag, cls, constructed;
} der_elem;

/* Reads one element in [p, end). Definite lengths only (DER). Returns 0 or -1. */
static int der_next(const unsigned char *p, const unsigned char *end, der_elem *e)
{
    const unsigned char *q = p;
    if (p >= end)
        return -1;
    int r = ASN1_get_object(&q, &e->len, &e->tag, &e->cls, (long)(end - p));
    if ((r & 0x80) || r == 0x21) /* error, or indefinite length */
        return -1;
    e->constructed = r & V_ASN1_CONSTRUCTED;
    e->start = p;
    e->content = q;
    e->end = q + e->len;
    return 0;
}

static int expect(const unsigned char *p, const unsigned char *end, int tag, int cls, int cons,
                  der_elem *e)
{
    if (der_next(p, end, e) != 0 || e->tag != tag || e->cls != cls ||
        (e->constructed != 0) != (cons != 0))
        return -1;
    return 0;
}

/* Imports an EC public point on a named curve. Caller frees. */
static EVP_PKEY *import_ec(const char *group, const ASN1_BIT_STRING *bits)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                          (void *)(uintptr_t)ASN1_STRING_get0_data(bits),
                                          (size_t)ASN1_STRING_length(bits)),
        OSSL_PARAM_construct_end()};
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        k = NULL;
    EVP_PKEY_CTX_free(ctx);
    return k;
}

/* Parses RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } and imports it.
 * Fills the RSA facts of `k` even when the import fails. Caller frees the result. */
static EVP_PKEY *import_rsa(const ASN1_BIT_STRING *bits, cm_keyinfo *k)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    ASN1_INTEGER *ai_n = NULL, *ai_e = NULL;
    BIGNUM *n = NULL, *e = NULL;
    const unsigned char *p = ASN1_STRING_get0_data(bits);
    const unsigned char *end = p + ASN1_STRING_length(bits);
    der_elem seq;
    if (expect(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &seq) != 0 || seq.end != end)
        goto out;
    p = seq.content;
    if ((ai_n = d2i_ASN1_INTEGER(NULL, &p, seq.end - p)) == NULL ||
        (ai_e = d2i_ASN1_INTEGER(NULL, &p, seq.end - p)) == NULL || p != seq.end ||
        (n = ASN1_INTEGER_to_BN(ai_n, NULL)) == NULL ||
        (e = ASN1_INTEGER_to_BN(ai_e, NULL)) == NULL || BN_is_negative(n) || BN_is_negative(e))
        goto out;
    k->bits = BN_num_bits(n);
    k->exp_odd = BN_is_odd(e);
    k->exp_bits = BN_num_bits(e);
    k->exp_small = k->exp_bits <= 32 ? BN_get_word(e) : 0;
    if (k->bits > KEYPOLICY_RSA_MAX_BITS || k->bits < 512)
        goto out; /* the key policy refuses it; do no work on it */
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        key = NULL;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    ASN1_INTEGER_free(ai_n);
    ASN1_INTEGER_free(ai_e);
    BN_free(n);
    BN_free(e);
    return key;
}

/* Reads the SubjectPublicKeyInfo at [p, end): fills c->info, and c->key for accepted types. */
static int read_spki(cm_csr *c, const der_elem *spki, cm_err *err)
{
    const unsigned char *p = spki->content;
    cm_keyinfo *k = &c->info;
    if ((c->key_alg = d2i_X509_ALGOR(NULL, &p, spki->end - p)) == NULL ||
        (c->key_bits = d2i_ASN1_BIT_STRING(NULL, &p, spki->end - p)) == NULL || p != spki->end ||
        (c->key_bits->flags & 0x07) != 0)
        return cm_err_set(err, "csr_malformed", "the CSR's public key is malformed");
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    const ASN1_OBJECT *alg = NULL;
    X509_ALGOR_get0(&alg, &ptype, &pval, c->key_alg);
    int nid = OBJ_obj2nid(alg);
    switch (nid) {
    case NID_X9_62_id_ecPublicKey: {
        k->type = KEY_EC;
        k->alg_name = "EC";
        int curve = ptype == V_ASN1_OBJECT ? OBJ_obj2nid(pval) : NID_undef;
        const char *group = curve == NID_X9_62_prime256v1 ? "P-256"
                            : curve == NID_secp384r1      ? "P-384"
                            : curve == NID_secp521r1      ? "P-521"
                                                          : NULL;
        k->curve = group;
        if (group == NULL && curve != NID_undef) {
            snprintf(c->alg_name, sizeof c->alg_name, "%s", OBJ_nid2sn(curve));
            k->curve = c->alg_name;
        }
        k->bits = curve == NID_X9_62_prime256v1 ? 256 : curve == NID_secp384r1 ? 384 : 0;
        if (keypolicy_check(k, err) != 0)
            return -1;
        c->key = import_ec(group, c->key_bits);
        break;
    }
    case NID_rsaEncryption:
        k->type = KEY_RSA;
        k->alg_name = "RSA";
        if (ptype != V_ASN1_NULL)
            return cm_err_set(err, "csr_malformed", "an RSA key's algorithm needs NULL parameters");
        c->key = import_rsa(c->key_bits, k);
        if (keypolicy_check(k, err) != 0)
            return -1;
        break;
    case NID_rsassaPss:
        k->type = KEY_RSA;
        k->alg_name = "RSA-PSS";
        k->rsa_pss = true;
        return keypolicy_check(k, err);
    default:
        k->type = KEY_OTHER;
        snprintf(c->alg_name, sizeof c->alg_name, "%s",
                 nid == NID_ED25519 ? "Ed25519"
                 : nid == NID_ED448 ? "Ed448"
                 : nid == NID_dsa   ? "DSA"
                 : nid != NID_undef ? OBJ_nid2sn(nid)
                                    : "This kind of");
        k->alg_name = c->alg_name;
        return keypolicy_check(k, err);
    }
    if (c->key == NULL)
        return cm_err_set(err, "csr_malformed", "the CSR's %s public key is invalid",
                          k->alg_name);
    return 0;
}

/* Verifies the CSR's signature (algorithm matching the key) over the request info bytes. */
static int verify_sig(cm_csr *c, const unsigned char *info, size_t info_len,
                      const X509_ALGOR *sig_alg, const ASN1_BIT_STRING *sig, cm_err *err)
{
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, sig_alg);
    int md_nid = NID_undef, pk_nid = NID_undef;
    if (!OBJ_find_sigid_algs(OBJ_obj2nid(obj), &md_nid, &pk_nid) ||
        pk_nid != (c->info.type == KEY_EC ? NID_X9_62_id_ecPublicKey : NID_rsaEncryption))
        return cm_err_set(err, "csr_signature_invalid",
                          "the CSR's signature algorithm does not fit its key; sign it with "
                          "ECDSA or RSA PKCS#1 v1.5 and SHA-256");
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = md != NULL && ctx != NULL && (sig->flags & 0x07) == 0 &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, c->key) == 1 &&
             EVP_DigestVerify(ctx, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
                              info, info_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return cm_err_set(err, "csr_signature_invalid",
                          "the CSR's signature does not match its public key; the CSR was "
                          "altered or signed with another key");
    return 0;
}

/* Walks CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature } in DER. */
static int parse_der(cm_csr *c, const unsigned char *der, size_t len, cm_err *err)
{
    const unsigned char *end = der + len, *p;
    der_elem outer, info, el, spki;
    X509_ALGOR *sig_alg = NULL;
    ASN1_BIT_STRING *sig = NULL;
    ASN1_INTEGER *version = NULL;
    int rc = -1;
    if (expect(der, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &outer) != 0 ||
        outer.end != end ||
        expect(outer.content, outer.end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &info) != 0)
        goto malformed;
    p = info.content;
    if ((version = d2i_ASN1_INTEGER(NULL, &p, info.end - p)) == NULL ||
        ASN1_INTEGER_get(version) != 0 ||
        expect(p, info.end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &el) != 0 || /* subject */
        expect(el.end, info.end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &spki) != 0)
        goto malformed;
    if (spki.end != info.end &&
        (expect(spki.end, info.end, 0, V_ASN1_CONTEXT_SPECIFIC, 1, &el) != 0 ||
         el.end != info.end)) /* attributes [0] */
        goto malformed;
    p = info.end;
    if ((sig_alg = d2i_X509_ALGOR(NULL, &p, outer.end - p)) == NULL ||
        (sig = d2i_ASN1_BIT_STRING(NULL, &p, outer.end - p)) == NULL || p != outer.end)
        goto malformed;
    if (read_spki(c, &spki, err) != 0)
        goto out;
    if (verify_sig(c, info.start, (size_t)(info.end - info.start), sig_alg, sig, err) != 0)
        goto out;
    c->spki_len = (size_t)(spki.end - spki.start);
    if ((c->spki = malloc(c->spki_len)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    memcpy(c->spki, spki.start, c->spki_len);
    rc = 0;
    goto out;
malformed:
    cm_err_set(err, "csr_malformed",
               "the CSR could not be parsed as a DER or PEM PKCS#10 request; generate it with "
               "e.g. `openssl req -new -key server.key -out server.csr`");
out:
    X509_ALGOR_free(sig_alg);
    ASN1_BIT_STRING_free(sig);
    ASN1_INTEGER_free(version);
    return rc;
}

int csr_parse(const unsigned char *data, size_t len, cm_csr **out, cm_err *err)
{
    cm_csr *c = NULL;
    unsigned char *der = NULL;
    char *name = NULL, *header = NULL;
    long der_len = 0;
    int rc = -1;
    if (len == 0)
        return cm_err_set(err, "csr_malformed", "the CSR is empty");
    if (len > CSR_MAX_BYTES)
        return cm_err_set(err, "csr_too_large", "the CSR is larger than %d bytes",
                          CSR_MAX_BYTES);
    if ((c = calloc(1, sizeof *c)) == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        int ok = b != NULL && PEM_read_bio(b, &name, &header, &der, &der_len) == 1;
        BIO_free(b);
        if (!ok || (strcmp(name, "CERTIFICATE REQUEST") != 0 &&
                    strcmp(name, "NEW CERTIFICATE REQUEST") != 0)) {
            cm_err_set(err, "csr_malformed",
                       "the PEM text is not a CERTIFICATE REQUEST; generate one with e.g. "
                       "`openssl req -new -key server.key -out server.csr`");
            goto out;
        }
        if (parse_der(c, der, (size_t)der_len, err) != 0)
            goto out;
    } else if (parse_der(c, data, len, err) != 0) {
        goto out;
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    csr_free(c);
    ERR_clear_error();
    return rc;
}

void csr_free(cm_csr *c)
{
    if (c == NULL)
        return;
    EVP_PKEY_free(c->key);
    X509_ALGOR_free(c->key_alg);
    ASN1_BIT_STRING_free(c->key_bits);
    free(c->spki);
    free(c);
}

const cm_keyinfo *csr_keyinfo(const cm_csr *c)
{
    return &c->info;
}

void csr_spki_sha256(const cm_csr *c, unsigned char out[32])
{
    unsigned int olen = 32;
    if (EVP_Digest(c->spki, c->spki_len, out, &olen, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

EVP_PKEY *csr_pkey(const cm_csr *c)
{
    return c->key;
}

int csr_set_cert_key(const cm_csr *c, X509 *x)
{
    const ASN1_OBJECT *alg = NULL;
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    X509_ALGOR_get0(&alg, &ptype, &pval, c->key_alg);
    ASN1_OBJECT *alg_copy = OBJ_dup(alg);
    void *pval_copy = ptype == V_ASN1_OBJECT ? (void *)OBJ_dup(pval) : NULL;
    int len = ASN1_STRING_length(c->key_bits);
    unsigned char *bits = OPENSSL_memdup(ASN1_STRING_get0_data(c->key_bits), (size_t)len);
    if (alg_copy == NULL || (ptype == V_ASN1_OBJECT && pval_copy == NULL) || bits == NULL ||
        !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), alg_copy, ptype, pval_copy, bits, len)) {
        ASN1_OBJECT_free(alg_copy);
        ASN1_OBJECT_free(pval_copy);
        OPENSSL_free(bits);
        return 0;
    }
    return 1;
}
