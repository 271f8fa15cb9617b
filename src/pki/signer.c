/* signer.c — the signer seam: the only code in certmint that holds CA private keys.
 *
 * Today it runs in-process; the interface is message-shaped (CA id + unsigned object in, signed
 * object out) so that it can move into its own process without changing callers. Before it signs
 * it re-checks hard limits itself, like a last lint: a bug elsewhere must not be able to make it
 * sign a CA certificate or an over-long one. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/keypolicy.h"
#include "core/validity.h"
#include "pki/internal.h"
#include "util/clock.h"
#include "util/log.h"

typedef struct signer_key {
    const char *id;
    bool public_hier;
    bool ec;
    X509_NAME *subject; /* the CA's subject, to compare with the issuer of what it signs */
    EVP_PKEY *key;
} signer_key;

struct cm_signer {
    signer_key keys[PKI_N_ISSUERS];
    long private_max_days;
};

static const signer_key *find_key(const cm_signer *s, const char *id)
{
    for (size_t i = 0; i < PKI_N_ISSUERS; i++)
        if (s->keys[i].id != NULL && strcmp(s->keys[i].id, id) == 0)
            return &s->keys[i];
    return NULL;
}

/* Loads one encrypted PEM private key. Returns the key (caller frees) or NULL. */
static EVP_PKEY *load_key(const char *path, const char *pass, cm_err *err)
{
    EVP_PKEY *k = NULL;
    BIO *b = BIO_new_file(path, "r");
    if (b == NULL) {
        char e[200];
        cm_err_set(err, "ca_key_unreadable", "cannot open %s: %s", path,
                   ossl_err_text(e, sizeof e));
        return NULL;
    }
    k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)(uintptr_t)pass);
    if (k == NULL) {
        char e[200];
        cm_err_set(err, "ca_key_unreadable",
                   "cannot decrypt %s (wrong CERTMINT_CA_PASSPHRASE?): %s", path,
                   ossl_err_text(e, sizeof e));
    }
    BIO_free(b);
    return k;
}

int signer_open(const cm_config *cfg, cm_signer **out, cm_err *err)
{
    int rc = -1;
    X509 *cert = NULL;
    char pass[256];
    cm_signer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    s->private_max_days = cfg->private_max_days;
    if (ca_passphrase(cfg, pass, sizeof pass, err) != 0)
        goto out;
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        char path[1200];
        signer_key *k = &s->keys[i];
        k->id = pki_issuers[i].id;
        k->public_hier = pki_issuers[i].public_hier;
        k->ec = pki_issuers[i].ec;
        if (ca_path(cfg, k->id, "crt", path, sizeof path) != 0 ||
            (cert = ca_read_cert(path, err)) == NULL)
            goto out;
        k->subject = X509_NAME_dup(X509_get_subject_name(cert));
        X509_free(cert);
        cert = NULL;
        if (ca_path(cfg, k->id, "key", path, sizeof path) != 0 ||
            (k->key = load_key(path, pass, err)) == NULL)
            goto out;
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof pass);
    X509_free(cert);
    signer_close(s);
    return rc;
}

void signer_close(cm_signer *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        X509_NAME_free(s->keys[i].subject);
        EVP_PKEY_free(s->keys[i].key);
    }
    free(s);
}

/* Seconds from a to b, or a very large value when a time cannot be read. */
static int64_t time_diff(const ASN1_TIME *a, const ASN1_TIME *b)
{
    int days = 0, secs = 0;
    if (!ASN1_TIME_diff(&days, &secs, a, b))
        return INT64_MAX;
    return (int64_t)days * 86400 + secs;
}

/* The profile check: public CAs sign exactly one reserved policy OID; private CAs none. */
static int check_profile(const signer_key *k, X509 *x, cm_err *err)
{
    int crit = 0;
    CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
    int n = pol != NULL ? sk_POLICYINFO_num(pol) : 0;
    int rc = 0;
    if (k->public_hier) {
        char oid[64] = "";
        if (n == 1)
            OBJ_obj2txt(oid, sizeof oid, sk_POLICYINFO_value(pol, 0)->policyid, 1);
        if (n != 1 || (strcmp(oid, OID_POLICY_DV) != 0 && strcmp(oid, OID_POLICY_OV) != 0 &&
                       strcmp(oid, OID_POLICY_EV) != 0))
            rc = cm_err_set(err, "signer_refused",
                            "the signer refuses: not a known DV, OV or EV profile");
    } else if (n != 0) {
        rc = cm_err_set(err, "signer_refused",
                        "the signer refuses: private certificates carry no CA/B policy");
    }
    CERTIFICATEPOLICIES_free(pol);
    return rc;
}

int signer_sign_cert(cm_signer *s, const char *ca_id, const char *hash, X509 *x, cm_err *err)
{
    const signer_key *k = find_key(s, ca_id);
    if (k == NULL)
        return cm_err_set(err, "signer_refused", "the signer has no CA \"%s\"", ca_id);
    /* Never a CA: basicConstraints must be absent or cA=FALSE, and no CA key usage. */
    int crit = 0;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    bool is_ca = bc != NULL && bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    if (is_ca || (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0)
        return cm_err_set(err, "signer_refused", "the signer refuses to sign a CA certificate");
    if (X509_NAME_cmp(X509_get_issuer_name(x), k->subject) != 0)
        return cm_err_set(err, "signer_refused", "the issuer name is not %s's subject", ca_id);
    /* notBefore within 48 h of now, and the validity cap of the hierarchy. */
    ASN1_TIME *now = ASN1_TIME_set(NULL, (time_t)clock_now());
    if (now == NULL)
        return cm_err_set(err, "signing_failed", "out of memory");
    int64_t skew = time_diff(now, X509_get0_notBefore(x));
    int64_t life = time_diff(X509_get0_notBefore(x), X509_get0_notAfter(x));
    ASN1_TIME_free(now);
    if (skew > 48 * 3600 || skew < -48 * 3600)
        return cm_err_set(err, "signer_refused", "notBefore is more than 48 hours from now");
    long cap = k->public_hier ? validity_public_max_days(clock_now()) : s->private_max_days;
    if (life < 0 || life + 1 > (int64_t)cap * 86400)
        return cm_err_set(err, "signer_refused",
                          "the validity exceeds the %ld-day cap of this hierarchy", cap);
    if (check_profile(k, x, err) != 0)
        return -1;
    if (hash == NULL)
        hash = "sha256";
    /* The same rule as intake (core/keypolicy.h), applied again at the last step. */
    const EVP_MD *md = pki_md(hash);
    if (md == NULL || sighash_check(k->ec, hash, NULL) != 0)
        return cm_err_set(err, "signer_refused", "hash %s is not allowed for %s", hash, ca_id);
    if (X509_sign(x, k->key, md) <= 0) {
        char e[200];
        return cm_err_set(err, "signing_failed", "X509_sign failed: %s",
                          ossl_err_text(e, sizeof e));
    }
    return 0;
}

int signer_sign_crl(cm_signer *s, const char *ca_id, const char *hash, X509_CRL *crl,
                    cm_err *err)
{
    const signer_key *k = find_key(s, ca_id);
    if (k == NULL)
        return cm_err_set(err, "signer_refused", "the signer has no CA \"%s\"", ca_id);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), k->subject) != 0)
        return cm_err_set(err, "signer_refused", "the CRL issuer is not %s's subject", ca_id);
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    if (next == NULL || time_diff(X509_CRL_get0_lastUpdate(crl), next) > 10 * 86400)
        return cm_err_set(err, "signer_refused", "a CRL's nextUpdate must be within 10 days");
    const EVP_MD *md = pki_md(hash != NULL ? hash : "sha256");
    if (md == NULL || X509_CRL_sign(crl, k->key, md) <= 0) {
        char e[200];
        return cm_err_set(err, "signing_failed", "X509_CRL_sign failed: %s",
                          ossl_err_text(e, sizeof e));
    }
    return 0;
}
