/* listener.c — the certificate of certmint's own HTTPS listener. The key is made here and the
 * certificate goes through the same engine (cert_issue: profile, lint, signer) as any other. */
#include "pki/listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/product.h"
#include "pki/internal.h"
#include "util/fileio.h"

/* A CSR for `key`, self-signed, with an empty subject: names come from the request, never the
 * CSR. Returns DER (caller frees) or NULL. */
static unsigned char *make_csr(EVP_PKEY *key, int *len)
{
    unsigned char *der = NULL;
    X509_REQ *req = X509_REQ_new();
    if (req != NULL && X509_REQ_set_version(req, 0) && X509_REQ_set_pubkey(req, key) &&
        X509_REQ_sign(req, key, EVP_sha256()) > 0)
        *len = i2d_X509_REQ(req, &der);
    X509_REQ_free(req);
    return der;
}

/* PEM text of one DER certificate appended to a memory BIO. */
static int pem_cert(BIO *b, const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int ok = x != NULL && PEM_write_bio_X509(b, x);
    X509_free(x);
    return ok ? 0 : -1;
}

int listener_cert_make(cm_pki *pki, const cm_config *cfg, const cm_org *org,
                       const char *extra_name, cm_err *err)
{
    int rc = -1, csr_len = 0;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    unsigned char *csr_der = NULL;
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    char e[200], path[1200];
    const char *texts[4] = {"localhost", "127.0.0.1", "::1", extra_name};
    size_t n_texts = (extra_name != NULL && extra_name[0] != '\0') ? 4 : 3;
    cm_name names[4];
    const cm_product *p = product_find("private_ssl_plus");
    cm_name_policy pol = product_name_policy(p);

    if (key == NULL || kb == NULL || cb == NULL) {
        cm_err_set(err, "listener_failed", "making the listener key failed: %s",
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    for (size_t i = 0; i < n_texts; i++)
        if (name_normalize(texts[i], &pol, &names[i], err) != 0)
            goto out;
    if ((csr_der = make_csr(key, &csr_len)) == NULL || csr_len <= 0) {
        cm_err_set(err, "listener_failed", "making the listener CSR failed: %s",
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    if (csr_parse(csr_der, (size_t)csr_len, &csr, err) != 0)
        goto out;
    cm_issue_req req = {.product = p, .names = names, .n_names = n_texts, .cn_index = 0,
                        .org = org, .issuer = ISSUER_ECDSA};
    if (cert_issue(pki, csr, &req, &cert, err) != 0)
        goto out;
    size_t leaf_len = 0, ca_len = 0;
    const unsigned char *leaf = cert_der(cert, &leaf_len);
    const unsigned char *ca = pki_ca_der(pki, cert_issuer_id(cert), &ca_len);
    if (pem_cert(cb, leaf, leaf_len) != 0 || ca == NULL || pem_cert(cb, ca, ca_len) != 0 ||
        !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL)) {
        cm_err_set(err, "listener_failed", "encoding the listener files failed: %s",
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    char *data = NULL;
    long n = BIO_get_mem_data(kb, &data);
    if (ca_path(cfg, "listener", "key", path, sizeof path) != 0 ||
        file_write_atomic(path, data, (size_t)n, 0600, 0, err) != 0)
        goto out;
    n = BIO_get_mem_data(cb, &data);
    if (ca_path(cfg, "listener", "crt", path, sizeof path) != 0 ||
        file_write_atomic(path, data, (size_t)n, 0644, 0, err) != 0)
        goto out;
    rc = 0;
out:
    cert_free(cert);
    csr_free(csr);
    OPENSSL_free(csr_der);
    BIO_free(kb);
    BIO_free(cb);
    EVP_PKEY_free(key);
    return rc;
}
