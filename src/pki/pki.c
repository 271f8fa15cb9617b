/* pki.c — opening a data directory's issuing engine: the public CA certificates for the front
 * end, and the signer that holds the keys. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "pki/internal.h"

const pki_issuer pki_issuers[PKI_N_ISSUERS] = {
    {"public-ecdsa", true, true},
    {"public-rsa", true, false},
    {"private-ecdsa", false, true},
    {"private-rsa", false, false},
};

const cm_ca_pub *pki_find_ca(const cm_pki *pki, const char *id)
{
    for (size_t i = 0; i < PKI_N_ISSUERS; i++)
        if (strcmp(pki->cas[i].id, id) == 0)
            return &pki->cas[i];
    return NULL;
}

/* Loads one issuing CA's certificate and root; fills the URLs its certificates carry. */
static int load_ca_pub(const cm_config *cfg, cm_ca_pub *ca, cm_err *err)
{
    char path[1200], root_id[48];
    snprintf(root_id, sizeof root_id, "%s-root", ca->id);
    if (ca_path(cfg, ca->id, "crt", path, sizeof path) != 0 ||
        (ca->cert = ca_read_cert(path, err)) == NULL)
        return -1;
    if (ca_path(cfg, root_id, "crt", path, sizeof path) != 0 ||
        (ca->root = ca_read_cert(path, err)) == NULL)
        return -1;
    ca->der = NULL;
    ca->root_der = NULL;
    ca->der_len = i2d_X509(ca->cert, &ca->der);
    ca->root_len = i2d_X509(ca->root, &ca->root_der);
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(ca->cert);
    if (ca->der_len <= 0 || ca->root_len <= 0 || skid == NULL ||
        (ca->skid = ASN1_OCTET_STRING_dup(skid)) == NULL)
        return cm_err_set(err, "ca_unreadable", "CA %s has no subject key identifier", ca->id);
    snprintf(ca->crl_url, sizeof ca->crl_url, "%s/crl/%s.crl", cfg->public_url, ca->id);
    snprintf(ca->issuer_url, sizeof ca->issuer_url, "%s/ca/%s.crt", cfg->public_url, ca->id);
    return 0;
}

int pki_open(const cm_config *cfg, cm_pki **out, cm_err *err)
{
    cm_pki *pki = calloc(1, sizeof *pki);
    if (pki == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    pki->cfg = *cfg;
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        cm_ca_pub *ca = &pki->cas[i];
        ca->id = pki_issuers[i].id;
        ca->public_hier = pki_issuers[i].public_hier;
        ca->ec = pki_issuers[i].ec;
        if (load_ca_pub(cfg, ca, err) != 0)
            goto fail;
    }
    if (profile_prepare(pki, err) != 0 || signer_open(cfg, &pki->signer, err) != 0)
        goto fail;
    *out = pki;
    return 0;
fail:
    pki_close(pki);
    return -1;
}

void pki_close(cm_pki *pki)
{
    if (pki == NULL)
        return;
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        cm_ca_pub *ca = &pki->cas[i];
        X509_free(ca->cert);
        X509_free(ca->root);
        OPENSSL_free(ca->der);
        OPENSSL_free(ca->root_der);
        ASN1_OCTET_STRING_free(ca->skid);
    }
    profile_release(pki);
    signer_close(pki->signer);
    free(pki);
}

const unsigned char *pki_ca_der(const cm_pki *pki, const char *ca_id, size_t *len)
{
    const cm_ca_pub *ca = pki_find_ca(pki, ca_id);
    if (ca == NULL)
        return NULL;
    *len = (size_t)ca->der_len;
    return ca->der;
}

const unsigned char *pki_root_der(const cm_pki *pki, const char *ca_id, size_t *len)
{
    const cm_ca_pub *ca = pki_find_ca(pki, ca_id);
    if (ca == NULL)
        return NULL;
    *len = (size_t)ca->root_len;
    return ca->root_der;
}

const char *pki_issuer_id(const cm_product *p, cm_issuer_kind k)
{
    for (size_t i = 0; i < PKI_N_ISSUERS; i++)
        if (pki_issuers[i].public_hier == (p->hierarchy == HIER_PUBLIC) &&
            pki_issuers[i].ec == (k == ISSUER_ECDSA))
            return pki_issuers[i].id;
    return NULL; /* not reached: the table holds every combination */
}
