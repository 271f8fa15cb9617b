/* keygen.c — a new key and its CSR for the client commands' --generate-key. The key stays in
 * memory that is wiped when freed (a secure-memory BIO, OPENSSL_cleanse) until the caller writes
 * it to a 0600 file; nothing here writes or sends it. */
#include "pki/keygen.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/internal.h"

/* A host name, wildcard or IP address text: the characters such names have, 1–253 bytes. */
static int name_text_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '*' || c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

/* One GENERAL_NAME for `s`: an IP address when it parses as one, else a DNS name. Caller
 * frees. */
static GENERAL_NAME *general_name(const char *s)
{
    unsigned char ip[16];
    int iplen = 0;
    if (inet_pton(AF_INET, s, ip) == 1)
        iplen = 4;
    else if (inet_pton(AF_INET6, s, ip) == 1)
        iplen = 16;
    GENERAL_NAME *gn = GENERAL_NAME_new();
    if (gn == NULL)
        return NULL;
    if (iplen > 0) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
        if (o == NULL || !ASN1_OCTET_STRING_set(o, ip, iplen)) {
            ASN1_OCTET_STRING_free(o);
            GENERAL_NAME_free(gn);
            return NULL;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, o);
    } else {
        ASN1_IA5STRING *d = ASN1_IA5STRING_new();
        if (d == NULL || !ASN1_STRING_set(d, s, (int)strlen(s))) {
            ASN1_IA5STRING_free(d);
            GENERAL_NAME_free(gn);
            return NULL;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, d);
    }
    return gn;
}

/* Adds the subjectAltName request extension. Returns 1 or 0 (OpenSSL error queue set). */
static int add_sans(X509_REQ *req, const char *const *sans, size_t n_sans)
{
    int ok = 0;
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    if (gens == NULL || exts == NULL)
        goto out;
    for (size_t i = 0; i < n_sans; i++) {
        GENERAL_NAME *gn = general_name(sans[i]);
        if (gn == NULL || !sk_GENERAL_NAME_push(gens, gn)) {
            GENERAL_NAME_free(gn);
            goto out;
        }
    }
    if (!X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) ||
        !X509_REQ_add_extensions(req, exts))
        goto out;
    ok = 1;
out:
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok;
}

/* A malloc'd, NUL-terminated copy of a memory BIO's contents; NULL when empty or out of
 * memory. */
static char *bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n <= 0 || data == NULL)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    return s;
}

int keygen_make(const char *type, int bits, const char *cn, const char *const *sans, size_t n_sans,
                char **key_pem, char **csr_pem, cm_err *err)
{
    int rc = -1;
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    X509_NAME *subj = NULL;
    BIO *kb = NULL, *cb = NULL;
    char e[200];
    const char *call = NULL;
    *key_pem = NULL;
    *csr_pem = NULL;

    int rsa = 0;
    if (type == NULL || strcmp(type, "ec") == 0) {
        if (bits != 0 && bits != 256)
            return cm_err_set(err, "field_invalid",
                              "an EC key is P-256 (256 bits); leave the size out or use rsa");
    } else if (strcmp(type, "rsa") == 0) {
        rsa = 1;
        if (bits == 0)
            bits = 2048;
        if (bits != 2048 && bits != 3072 && bits != 4096)
            return cm_err_set(err, "field_invalid", "an RSA key has 2048, 3072 or 4096 bits");
    } else {
        return cm_err_set(err, "field_invalid", "key type \"%.32s\" is unknown; use ec or rsa",
                          type);
    }
    if (n_sans > KEYGEN_MAX_NAMES)
        return cm_err_set(err, "field_invalid", "more than %d names", KEYGEN_MAX_NAMES);
    for (size_t i = 0; i < n_sans; i++)
        if (!name_text_ok(sans[i]))
            return cm_err_set(err, "field_invalid",
                              "\"%.80s\" is not a host name, wildcard or IP address", sans[i]);
    int use_cn = cn != NULL && cn[0] != '\0' && strlen(cn) <= 64;
    if (use_cn && !name_text_ok(cn))
        return cm_err_set(err, "field_invalid",
                          "\"%.80s\" is not a host name, wildcard or IP address", cn);

    call = rsa ? "EVP_RSA_gen" : "EVP_EC_gen";
    key = rsa ? EVP_RSA_gen((unsigned)bits) : EVP_EC_gen("P-256");
    if (key == NULL)
        goto fail;
    call = "X509_REQ_new";
    if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
        !X509_REQ_set_pubkey(req, key))
        goto fail;
    call = "X509_NAME_add_entry_by_txt";
    if (use_cn) {
        if ((subj = X509_NAME_new()) == NULL ||
            !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) ||
            !X509_REQ_set_subject_name(req, subj))
            goto fail;
    }
    call = "X509_REQ_add_extensions";
    if (n_sans > 0 && !add_sans(req, sans, n_sans))
        goto fail;
    call = "X509_REQ_sign";
    if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
        goto fail;
    call = "PEM_write_bio_PrivateKey";
    /* The key's PEM goes through secure memory: BIO_free wipes it. */
    if ((kb = BIO_new(BIO_s_secmem())) == NULL ||
        !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL))
        goto fail;
    call = "PEM_write_bio_X509_REQ";
    if ((cb = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_REQ(cb, req))
        goto fail;
    if ((*key_pem = bio_text(kb)) == NULL || (*csr_pem = bio_text(cb)) == NULL) {
        keygen_secret_free(*key_pem);
        free(*csr_pem);
        *key_pem = *csr_pem = NULL;
        cm_err_set(err, "out_of_memory", "out of memory making the key");
        goto out;
    }
    rc = 0;
    goto out;
fail:
    cm_err_set(err, "keygen_failed", "making the %s key and CSR failed in %s: %s",
               rsa ? "RSA" : "EC", call, ossl_err_text(e, sizeof e));
out:
    BIO_free(kb);
    BIO_free(cb);
    X509_NAME_free(subj);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}

void keygen_secret_free(char *secret)
{
    if (secret == NULL)
        return;
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
}
