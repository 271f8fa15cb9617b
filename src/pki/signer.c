/* signer.c — the signer process: the only code in certmint that holds CA private keys.
 *
 * signer_open forks a child that alone reads the passphrase and the key files, decrypts the
 * keys, then confines itself (every other descriptor closed, no new files, no file writes, no
 * processes, not dumpable, no new privileges, a seccomp allow-list of the few system calls it
 * still needs) and serves requests over a SOCK_SEQPACKET socketpair until the front end closes
 * it (DESIGN.md §5 "Processes"; OpenSMTPD's ca.c). Messages are framed by signer_proto.c.
 *
 * Before it signs, the child re-checks hard limits itself, like a last lint: a bug in the front
 * end must not be able to make it sign a CA certificate, an over-long one, a CRL that claims
 * another issuer or an OCSP answer for another CA's certificates.
 *
 * The front end's side keeps no key: it sends the object to sign and takes back the signed one.
 * It runs several such children, "lanes" (config `signer_lanes`, 0 = one per online core, at
 * most SIGNER_MAX_LANES), each confined alike, with its own socketpair and its own mutex (a
 * child signs one request at a time): a call takes the first free lane, else waits for a busy
 * one chosen round robin, so as many threads as lanes sign at once. The work around the
 * signature — parsing, building, linting, encoding — stays parallel in the callers' threads.
 * The lanes are one unit: once any of them is lost, every call fails and the others are killed
 * (pki.h, pki_signer_healthy). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/keypolicy.h"
#include "core/validity.h"
#include "pki/internal.h"
#include "pki/signer_proto.h"
#include "util/clock.h"
#include "util/log.h"

#define READY_TIMEOUT_MS 120000 /* decrypting four keys (PBKDF2) under ASan or valgrind */
#define REPLY_TIMEOUT_MS 60000  /* one signature; a child that takes longer is killed */
#define CRL_MAX_NEXT     (10 * 86400)
#define OCSP_MAX_SKEW    3600 /* thisUpdate vs the signer's clock */
#define SOCK_FD          3    /* the child's socket after it closed everything else */
#define SIGNER_MAX_LANES 16   /* signer children; config `signer_lanes` caps there too */

/* ---------------------------------------------------------------------------------------- */
/* The child: keys, hard limits, signing.                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct signer_key {
    const char *id;
    bool public_hier;
    bool ec;
    X509 *cert;             /* the CA certificate: subject, responder id */
    unsigned char *subject; /* DER of its subject: the issuer of what it signs */
    int subject_len;
    EVP_PKEY *key;
    unsigned char name_sha1[20], key_sha1[20]; /* CertID hashes (RFC 6960 §4.1.1) */
    unsigned char name_sha256[32], key_sha256[32];
} signer_key;

typedef struct signer_child {
    signer_key keys[PKI_N_ISSUERS];
    long private_max_days;
} signer_child;

static const signer_key *find_key(const signer_child *c, const char *id)
{
    for (size_t i = 0; i < PKI_N_ISSUERS; i++)
        if (c->keys[i].id != NULL && strcmp(c->keys[i].id, id) == 0)
            return &c->keys[i];
    return NULL;
}

/* OpenSSL hands out some fields of an object it owns only as const (the algorithm of a
 * certificate, producedAt of an OCSP response) although they belong to the mutable object and
 * its own signing functions write them. Casting through uintptr_t says so on purpose. */
static void *mut(const void *p)
{
    return (void *)(uintptr_t)p;
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

/* The CertID hashes of a CA: its subject DER and its public key bits (RFC 6960 §4.1.1). */
static int key_hashes(signer_key *k)
{
    unsigned int len = 0;
    return X509_NAME_digest(X509_get_subject_name(k->cert), EVP_sha1(), k->name_sha1, &len) &&
           X509_pubkey_digest(k->cert, EVP_sha1(), k->key_sha1, &len) &&
           X509_NAME_digest(X509_get_subject_name(k->cert), EVP_sha256(), k->name_sha256, &len) &&
           X509_pubkey_digest(k->cert, EVP_sha256(), k->key_sha256, &len);
}

/* Reads the passphrase, the CA certificates and decrypts the keys. */
static int child_load(const cm_config *cfg, signer_child *c, cm_err *err)
{
    int rc = -1;
    char pass[256];
    c->private_max_days = cfg->private_max_days;
    if (ca_passphrase(cfg, pass, sizeof pass, err) != 0)
        goto out;
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        char path[1200];
        signer_key *k = &c->keys[i];
        k->id = pki_issuers[i].id;
        k->public_hier = pki_issuers[i].public_hier;
        k->ec = pki_issuers[i].ec;
        if (ca_path(cfg, k->id, "crt", path, sizeof path) != 0 ||
            (k->cert = ca_read_cert(path, err)) == NULL)
            goto out;
        if ((k->subject_len = i2d_X509_NAME(X509_get_subject_name(k->cert), &k->subject)) <= 0) {
            cm_err_set(err, "ca_unreadable", "cannot encode the subject of %s", k->id);
            goto out;
        }
        if (ca_path(cfg, k->id, "key", path, sizeof path) != 0 ||
            (k->key = load_key(path, pass, err)) == NULL)
            goto out;
        if (X509_check_private_key(k->cert, k->key) != 1 || !key_hashes(k)) {
            char e[200];
            cm_err_set(err, "ca_key_unreadable", "the key of %s does not match its certificate: %s",
                       k->id, ossl_err_text(e, sizeof e));
            goto out;
        }
    }
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof pass);
    return rc;
}

static void child_free(signer_child *c)
{
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        X509_free(c->keys[i].cert);
        OPENSSL_free(c->keys[i].subject);
        EVP_PKEY_free(c->keys[i].key);
    }
}

/* Signs a few bytes with every key so that whatever OpenSSL sets up lazily (the DRBG, the
 * fetched algorithms) is in place before the child loses the right to open files. */
static int child_warm_up(const signer_child *c, cm_err *err)
{
    static const unsigned char probe[] = "certmint signer warm-up";
    unsigned char sig[1024];
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t len = sizeof sig;
        int ok = ctx != NULL &&
                 EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, c->keys[i].key) == 1 &&
                 EVP_DigestSign(ctx, sig, &len, probe, sizeof probe) == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok) {
            char e[200];
            return cm_err_set(err, "signing_failed", "the %s key cannot sign: %s", c->keys[i].id,
                              ossl_err_text(e, sizeof e));
        }
    }
    return 0;
}

/* Seconds from a to b, or a very large value when a time cannot be read. */
static int64_t time_diff(const ASN1_TIME *a, const ASN1_TIME *b)
{
    int days = 0, secs = 0;
    if (a == NULL || b == NULL || !ASN1_TIME_diff(&days, &secs, a, b))
        return INT64_MAX;
    return (int64_t)days * 86400 + secs;
}

/* The hash for `k`: allowed by the key policy (core/keypolicy.h), and known. */
static const EVP_MD *child_md(const signer_key *k, const char *hash, cm_err *err)
{
    const EVP_MD *md = pki_md(hash);
    if (md == NULL || sighash_check(k->ec, hash, NULL) != 0) {
        cm_err_set(err, "signer_refused", "hash %s is not allowed for %s", hash, k->id);
        return NULL;
    }
    return md;
}

/* One DER element: tag, class, content [content, end), and where it starts. */
typedef struct der_elem {
    const unsigned char *start, *content, *end;
    long len;
    int tag, cls, constructed;
} der_elem;

/* Reads one element of the expected tag, class and form in [p, end) (definite lengths only). */
static int der_expect(const unsigned char *p, const unsigned char *end, int tag, int cls, int cons,
                      der_elem *e)
{
    const unsigned char *q = p;
    if (p >= end)
        return -1;
    int r = ASN1_get_object(&q, &e->len, &e->tag, &e->cls, (long)(end - p));
    if ((r & 0x80) || r == 0x21 || e->tag != tag || e->cls != cls ||
        ((r & V_ASN1_CONSTRUCTED) != 0) != (cons != 0))
        return -1;
    e->start = p;
    e->content = q;
    e->end = q + e->len;
    return 0;
}

/* What the signer reads of a TBSCertificate (RFC 5280 §4.1). Free with tbs_free. */
typedef struct tbs_view {
    X509_ALGOR *sigalg;
    const unsigned char *issuer; /* the issuer Name's DER, inside the message */
    size_t issuer_len;
    ASN1_TIME *not_before, *not_after;
    X509_EXTENSIONS *exts;
} tbs_view;

static void tbs_free(tbs_view *v)
{
    X509_ALGOR_free(v->sigalg);
    ASN1_TIME_free(v->not_before);
    ASN1_TIME_free(v->not_after);
    sk_X509_EXTENSION_pop_free(v->exts, X509_EXTENSION_free);
}

/* Walks a TBSCertificate with OpenSSL's DER readers. d2i_X509 is not used on purpose: in
 * OpenSSL 3.0 it decodes the subject's public key through OSSL_DECODER, which costs more than
 * the signature itself (see csr.c); the signer has no use for that key. Requires v3, a positive
 * serial of at most 20 bytes, no unique identifiers and an extensions field; subject and
 * SubjectPublicKeyInfo are only checked for shape. Returns 0 or -1. */
static int tbs_read(const unsigned char *p, size_t len, tbs_view *v)
{
    const unsigned char *end = p + len, *q = NULL;
    der_elem tbs, e;
    ASN1_INTEGER *ver = NULL;
    if (der_expect(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &tbs) != 0 || tbs.end != end)
        return -1;
    p = tbs.content;
    if (der_expect(p, end, 0, V_ASN1_CONTEXT_SPECIFIC, 1, &e) != 0) /* version [0] */
        return -1;
    q = e.content;
    ver = d2i_ASN1_INTEGER(NULL, &q, e.len);
    long version = ver != NULL && q == e.end ? ASN1_INTEGER_get(ver) : -1;
    ASN1_INTEGER_free(ver);
    if (version != 2)
        return -1;
    p = e.end;
    if (der_expect(p, end, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, 0, &e) != 0 || e.len < 1 ||
        e.len > 20 || (e.content[0] & 0x80) != 0)
        return -1;
    q = e.end;
    if ((v->sigalg = d2i_X509_ALGOR(NULL, &q, end - q)) == NULL)
        return -1;
    p = q;
    if (der_expect(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &e) != 0) /* issuer */
        return -1;
    v->issuer = e.start;
    v->issuer_len = (size_t)(e.end - e.start);
    p = e.end;
    if (der_expect(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &e) != 0) /* validity */
        return -1;
    q = e.content;
    if ((v->not_before = d2i_ASN1_TIME(NULL, &q, e.end - q)) == NULL ||
        (v->not_after = d2i_ASN1_TIME(NULL, &q, e.end - q)) == NULL || q != e.end)
        return -1;
    p = e.end;
    if (der_expect(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &e) != 0 ||   /* subject */
        der_expect(e.end, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &e) != 0) /* SPKI */
        return -1;
    p = e.end;
    if (der_expect(p, end, 3, V_ASN1_CONTEXT_SPECIFIC, 1, &e) != 0 || e.end != end)
        return -1;
    q = e.content;
    if ((v->exts = d2i_X509_EXTENSIONS(NULL, &q, e.len)) == NULL || q != e.end)
        return -1;
    return 0;
}

/* Extension `nid` of the certificate: *out is the decoded value or NULL when absent. Returns
 * -1 when it is present but malformed or repeated. */
static int tbs_ext(const tbs_view *v, int nid, void **out)
{
    int crit = 0;
    *out = X509V3_get_d2i(v->exts, nid, &crit, NULL);
    return *out == NULL && crit != -1 ? -1 : 0;
}

/* The profile check: public CAs sign exactly one reserved policy OID; private CAs none. */
static int check_profile(const signer_key *k, const tbs_view *v, cm_err *err)
{
    CERTIFICATEPOLICIES *pol = NULL;
    if (tbs_ext(v, NID_certificate_policies, (void **)&pol) != 0)
        return cm_err_set(err, "signer_refused", "the certificate policies are malformed");
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

/* Never a CA: basicConstraints absent or cA=FALSE, and a keyUsage without keyCertSign or
 * cRLSign (a certificate without keyUsage may do anything, so it is refused too). */
static int check_not_ca(const tbs_view *v, cm_err *err)
{
    BASIC_CONSTRAINTS *bc = NULL;
    ASN1_BIT_STRING *ku = NULL;
    int bad = tbs_ext(v, NID_basic_constraints, (void **)&bc) != 0 || (bc != NULL && bc->ca) ||
              tbs_ext(v, NID_key_usage, (void **)&ku) != 0 || ku == NULL ||
              ASN1_BIT_STRING_get_bit(ku, 5) || ASN1_BIT_STRING_get_bit(ku, 6);
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
    return bad ? cm_err_set(err, "signer_refused", "the signer refuses to sign a CA certificate")
               : 0;
}

/* The hard limits of a subscriber certificate. */
static int check_cert(const signer_child *c, const signer_key *k, const EVP_MD *md,
                      const tbs_view *v, cm_err *err)
{
    const ASN1_OBJECT *obj = NULL;
    int ptype = 0, want = NID_undef;
    X509_ALGOR_get0(&obj, &ptype, NULL, v->sigalg);
    if (!OBJ_find_sigid_by_algs(&want, EVP_MD_get_type(md), k->ec ? EVP_PKEY_EC : EVP_PKEY_RSA) ||
        OBJ_obj2nid(obj) != want || ptype != (k->ec ? V_ASN1_UNDEF : V_ASN1_NULL))
        return cm_err_set(err, "signer_refused",
                          "the certificate's signature algorithm is not %s's with %s", k->id,
                          EVP_MD_get0_name(md));
    if (check_not_ca(v, err) != 0)
        return -1;
    /* The issuer must be the CA's subject byte for byte (BR §7.1.4.1). */
    if (v->issuer_len != (size_t)k->subject_len ||
        memcmp(v->issuer, k->subject, v->issuer_len) != 0)
        return cm_err_set(err, "signer_refused", "the issuer name is not %s's subject", k->id);
    /* notBefore within 48 h of now, and the validity cap of the hierarchy. */
    int64_t now_s = clock_now();
    ASN1_TIME *now = ASN1_TIME_set(NULL, (time_t)now_s);
    if (now == NULL)
        return cm_err_set(err, "signing_failed", "out of memory");
    int64_t skew = time_diff(now, v->not_before);
    int64_t life = time_diff(v->not_before, v->not_after);
    ASN1_TIME_free(now);
    if (skew > 48 * 3600 || skew < -48 * 3600)
        return cm_err_set(err, "signer_refused", "notBefore is more than 48 hours from now");
    long cap = k->public_hier ? validity_public_max_days(now_s) : c->private_max_days;
    if (life < 0 || life + 1 > (int64_t)cap * 86400)
        return cm_err_set(err, "signer_refused",
                          "the validity exceeds the %ld-day cap of this hierarchy", cap);
    return check_profile(k, v, err);
}

/* SIGN_CERT {ca_id, hash, DER of the TBSCertificate}: checks it and signs those very bytes;
 * *out is the signatureValue. */
static int child_sign_cert(const signer_child *c, const sp_msg *m, unsigned char **out, int *len,
                           cm_err *err)
{
    int rc = -1;
    char ca[33], hash[17];
    tbs_view v;
    EVP_MD_CTX *ctx = NULL;
    const signer_key *k = NULL;
    const EVP_MD *md = NULL;
    size_t siglen = 0;
    memset(&v, 0, sizeof v);
    if (sp_get_str(m, 0, 32, ca, sizeof ca, err) != 0 ||
        sp_get_str(m, 1, 16, hash, sizeof hash, err) != 0)
        return -1;
    if ((k = find_key(c, ca)) == NULL)
        return cm_err_set(err, "signer_refused", "the signer has no CA \"%s\"", ca);
    if ((md = child_md(k, hash, err)) == NULL)
        return -1;
    if (tbs_read(m->f[2].p, m->f[2].len, &v) != 0) {
        cm_err_set(err, "signer_refused", "not a DER TBSCertificate of a v3 certificate");
        goto out;
    }
    if (check_cert(c, k, md, &v, err) != 0)
        goto out;
    if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit(ctx, NULL, md, NULL, k->key) != 1 ||
        EVP_DigestSign(ctx, NULL, &siglen, m->f[2].p, m->f[2].len) != 1 ||
        (*out = OPENSSL_malloc(siglen)) == NULL ||
        EVP_DigestSign(ctx, *out, &siglen, m->f[2].p, m->f[2].len) != 1) {
        char e[200];
        cm_err_set(err, "signing_failed", "signing the certificate failed: %s",
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    *len = (int)siglen;
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    tbs_free(&v);
    return rc;
}

/* The hard limits of a CRL: the CA's own name, v2, nextUpdate after thisUpdate and at most
 * 10 days later (BR §7.2), never certificateHold or removeFromCRL. */
static int check_crl(const signer_key *k, X509_CRL *crl, cm_err *err)
{
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(k->cert)) != 0)
        return cm_err_set(err, "signer_refused", "the CRL issuer is not %s's subject", k->id);
    if (X509_CRL_get_version(crl) != 1)
        return cm_err_set(err, "signer_refused", "a CRL must be version 2");
    int64_t span = time_diff(X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl));
    if (span <= 0 || span > CRL_MAX_NEXT)
        return cm_err_set(err, "signer_refused", "a CRL's nextUpdate must be within 10 days");
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
        int crit = 0;
        ASN1_ENUMERATED *r =
            X509_REVOKED_get_ext_d2i(sk_X509_REVOKED_value(revs, i), NID_crl_reason, &crit, NULL);
        long reason = r != NULL ? ASN1_ENUMERATED_get(r) : 0;
        ASN1_ENUMERATED_free(r);
        if (reason == CRL_REASON_CERTIFICATE_HOLD || reason == CRL_REASON_REMOVE_FROM_CRL)
            return cm_err_set(err, "signer_refused", "a CRL never holds certificateHold");
    }
    return 0;
}

/* SIGN_CRL {ca_id, hash, DER}. */
static int child_sign_crl(const signer_child *c, const sp_msg *m, unsigned char **out, int *len,
                          cm_err *err)
{
    int rc = -1;
    char ca[33], hash[17];
    X509_CRL *crl = NULL;
    const signer_key *k = NULL;
    const EVP_MD *md = NULL;
    if (sp_get_str(m, 0, 32, ca, sizeof ca, err) != 0 ||
        sp_get_str(m, 1, 16, hash, sizeof hash, err) != 0)
        return -1;
    if ((k = find_key(c, ca)) == NULL)
        return cm_err_set(err, "signer_refused", "the signer has no CA \"%s\"", ca);
    const unsigned char *p = m->f[2].p;
    crl = d2i_X509_CRL(NULL, &p, (long)m->f[2].len);
    if (crl == NULL || p != m->f[2].p + m->f[2].len) {
        char e[200];
        cm_err_set(err, "signer_refused", "not one DER CRL: %s", ossl_err_text(e, sizeof e));
        goto out;
    }
    if (check_crl(k, crl, err) != 0 || (md = child_md(k, hash, err)) == NULL)
        goto out;
    if (X509_CRL_sign(crl, k->key, md) <= 0 || (*len = i2d_X509_CRL(crl, out)) <= 0) {
        char e[200];
        cm_err_set(err, "signing_failed", "X509_CRL_sign failed: %s", ossl_err_text(e, sizeof e));
        goto out;
    }
    rc = 0;
out:
    X509_CRL_free(crl);
    return rc;
}

/* A CertID must name `k` as the issuer, hashed with SHA-1 or SHA-256. */
static int certid_is_of(const signer_key *k, const OCSP_CERTID *cid)
{
    ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
    ASN1_OBJECT *alg = NULL;
    ASN1_INTEGER *serial = NULL;
    if (!OCSP_id_get0_info(&nh, &alg, &kh, &serial, mut(cid)))
        return 0;
    int nid = OBJ_obj2nid(alg);
    const unsigned char *name = nid == NID_sha1 ? k->name_sha1 : k->name_sha256;
    const unsigned char *key = nid == NID_sha1 ? k->key_sha1 : k->key_sha256;
    int hlen = nid == NID_sha1 ? 20 : 32;
    if (nid != NID_sha1 && nid != NID_sha256)
        return 0;
    return ASN1_STRING_length(nh) == hlen && ASN1_STRING_length(kh) == hlen &&
           memcmp(ASN1_STRING_get0_data(nh), name, (size_t)hlen) == 0 &&
           memcmp(ASN1_STRING_get0_data(kh), key, (size_t)hlen) == 0;
}

/* Adds single response i (fields 5+2i, 6+2i) to bs. */
static int add_single(const signer_key *k, const sp_msg *m, size_t i, OCSP_BASICRESP *bs,
                      ASN1_TIME *thisupd, ASN1_TIME *nextupd, cm_err *err)
{
    int rc = -1;
    const sp_field *fid = &m->f[SP_OCSP_FIXED + 2 * i], *fst = &m->f[SP_OCSP_FIXED + 2 * i + 1];
    const unsigned char *p = fid->p;
    OCSP_CERTID *cid = d2i_OCSP_CERTID(NULL, &p, (long)fid->len);
    ASN1_TIME *revt = NULL;
    if (cid == NULL || p != fid->p + fid->len || fst->len != SP_OCSP_STATUS_LEN) {
        cm_err_set(err, "signer_refused", "single response %zu is malformed", i);
        goto out;
    }
    if (!certid_is_of(k, cid)) {
        cm_err_set(err, "signer_refused", "single response %zu is not about a certificate of %s", i,
                   k->id);
        goto out;
    }
    int status = fst->p[0], reason = fst->p[1] == 0xff ? OCSP_REVOKED_STATUS_NOSTATUS : fst->p[1];
    int64_t when = (int64_t)sp_load_u64(fst->p + 2);
    if (status != V_OCSP_CERTSTATUS_GOOD && status != V_OCSP_CERTSTATUS_REVOKED &&
        status != V_OCSP_CERTSTATUS_UNKNOWN) {
        cm_err_set(err, "signer_refused", "unknown certificate status %d", status);
        goto out;
    }
    if (status == V_OCSP_CERTSTATUS_REVOKED &&
        (reason > CRL_REASON_AA_COMPROMISE || reason == CRL_REASON_CERTIFICATE_HOLD ||
         reason == 7 || when <= 0 || (revt = ASN1_TIME_set(NULL, (time_t)when)) == NULL)) {
        cm_err_set(err, "signer_refused", "bad revocation reason or time in response %zu", i);
        goto out;
    }
    if (OCSP_basic_add1_status(bs, cid, status, reason, revt, thisupd, nextupd) == NULL) {
        char e[200];
        cm_err_set(err, "signing_failed", "OCSP_basic_add1_status: %s", ossl_err_text(e, sizeof e));
        goto out;
    }
    rc = 0;
out:
    ASN1_TIME_free(revt);
    OCSP_CERTID_free(cid);
    return rc;
}

/* Copies the request's nonce extension (field 4) into the response: only that extension,
 * at most 128 octets of nonce (RFC 8954 asks for 1..32). */
static int add_nonce(const sp_msg *m, OCSP_BASICRESP *bs, cm_err *err)
{
    const sp_field *f = &m->f[4];
    if (f->len == 0)
        return 0;
    const unsigned char *p = f->p;
    X509_EXTENSION *ext = d2i_X509_EXTENSION(NULL, &p, (long)f->len);
    int ok = ext != NULL && p == f->p + f->len &&
             OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_id_pkix_OCSP_Nonce &&
             ASN1_STRING_length(X509_EXTENSION_get_data(ext)) <= 130 &&
             OCSP_BASICRESP_add_ext(bs, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : cm_err_set(err, "signer_refused", "the nonce extension is malformed");
}

/* SIGN_OCSP {ca_id, hash, this_update, next_update, nonce, (CertID, status)…}: builds the
 * BasicOCSPResponse itself, signed by the CA's own key, responderID byKey, no certificates. */
static int child_sign_ocsp(const signer_child *c, const sp_msg *m, unsigned char **out, int *len,
                           cm_err *err)
{
    int rc = -1;
    char ca[33], hash[17];
    uint64_t tu = 0, nu = 0;
    OCSP_BASICRESP *bs = NULL;
    ASN1_TIME *thisupd = NULL, *nextupd = NULL;
    const signer_key *k = NULL;
    const EVP_MD *md = NULL;
    if (sp_get_str(m, 0, 32, ca, sizeof ca, err) != 0 ||
        sp_get_str(m, 1, 16, hash, sizeof hash, err) != 0 || sp_get_u64(m, 2, &tu, err) != 0 ||
        sp_get_u64(m, 3, &nu, err) != 0)
        return -1;
    if ((k = find_key(c, ca)) == NULL)
        return cm_err_set(err, "signer_refused", "the signer has no CA \"%s\"", ca);
    if ((md = child_md(k, hash, err)) == NULL)
        return -1;
    int64_t now = clock_now(), this_update = (int64_t)tu, next_update = (int64_t)nu;
    if (this_update < now - OCSP_MAX_SKEW || this_update > now + OCSP_MAX_SKEW ||
        next_update <= this_update || next_update - this_update > CRL_MAX_NEXT)
        return cm_err_set(err, "signer_refused",
                          "an OCSP response starts now and lasts at most 10 days");
    if ((bs = OCSP_BASICRESP_new()) == NULL ||
        (thisupd = ASN1_TIME_set(NULL, (time_t)this_update)) == NULL ||
        (nextupd = ASN1_TIME_set(NULL, (time_t)next_update)) == NULL) {
        cm_err_set(err, "signing_failed", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < (m->n - SP_OCSP_FIXED) / 2; i++)
        if (add_single(k, m, i, bs, thisupd, nextupd, err) != 0)
            goto out;
    if (add_nonce(m, bs, err) != 0)
        goto out;
    /* producedAt from the signer's clock (OCSP_NOTIME: OpenSSL would read time(2) itself). */
    if (!ASN1_GENERALIZEDTIME_set(mut(OCSP_resp_get0_produced_at(bs)), (time_t)now) ||
        !OCSP_basic_sign(bs, k->cert, k->key, md, NULL,
                         OCSP_NOCERTS | OCSP_RESPID_KEY | OCSP_NOTIME) ||
        (*len = i2d_OCSP_BASICRESP(bs, out)) <= 0) {
        char e[200];
        cm_err_set(err, "signing_failed", "OCSP_basic_sign failed: %s", ossl_err_text(e, sizeof e));
        goto out;
    }
    rc = 0;
out:
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    OCSP_BASICRESP_free(bs);
    return rc;
}

/* Answers one parsed request into `reply`. */
static int child_handle(const signer_child *c, const sp_msg *m, sp_buf *reply, cm_err *err)
{
    unsigned char *der = NULL;
    int len = 0, rc = -1;
    switch (m->type) {
    case SP_PING:
        rc = 0;
        break;
    case SP_SIGN_CERT:
        rc = child_sign_cert(c, m, &der, &len, err);
        break;
    case SP_SIGN_CRL:
        rc = child_sign_crl(c, m, &der, &len, err);
        break;
    case SP_SIGN_OCSP:
        rc = child_sign_ocsp(c, m, &der, &len, err);
        break;
    default:
        rc = cm_err_set(err, "signer_bad_message", "message type %u is not a request", m->type);
        break;
    }
    if (rc == 0) {
        sp_begin(reply, SP_OK);
        sp_put(reply, der, der != NULL ? (size_t)len : 0);
    }
    OPENSSL_free(der);
    return rc;
}

/* Serves requests until the front end closes its end (or dies). */
static void child_serve(const signer_child *c, int fd)
{
    unsigned char *buf = malloc(SP_MAX_MSG);
    if (buf == NULL)
        return;
    for (;;) {
        ssize_t n = recv(fd, buf, SP_MAX_MSG, MSG_TRUNC);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        sp_msg m;
        sp_buf reply = {NULL, 0, 0, 0};
        cm_err err;
        cm_err_clear(&err);
        int rc = (size_t)n > SP_MAX_MSG ? cm_err_set(&err, "signer_bad_message",
                                                     "a message exceeds %d bytes", SP_MAX_MSG)
                                        : sp_parse(buf, (size_t)n, &m, &err);
        if (rc == 0)
            rc = child_handle(c, &m, &reply, &err);
        if (rc == 0 && sp_end(&reply, &err) != 0)
            rc = -1;
        if (rc != 0) {
            sp_buf_free(&reply);
            sp_begin(&reply, SP_ERR);
            sp_put_str(&reply, err.code[0] != '\0' ? err.code : "signing_failed");
            sp_put_str(&reply, err.msg);
            sp_end(&reply, &err);
        }
        ERR_clear_error();
        ssize_t sent = reply.p != NULL ? send(fd, reply.p, reply.len, MSG_NOSIGNAL) : -1;
        sp_buf_free(&reply);
        if (sent < 0)
            break;
    }
    free(buf);
}

/* Keeps 0–2 (0 and 1 on /dev/null, 2 for crash reports) and the socket as SOCK_FD; closes
 * everything else the front end had open. */
static int child_fds(int fd)
{
    if (fd != SOCK_FD && dup2(fd, SOCK_FD) < 0)
        return -1;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
        return -1;
    if (fd == 2 || fcntl(2, F_GETFD) < 0)
        dup2(null, 2);
    if (syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0) != 0)
        for (int i = SOCK_FD + 1; i < 65536; i++)
            close(i);
    return SOCK_FD;
}

/* Handlers the front end installed are not the signer's: back to the defaults, except that a
 * ^C on the terminal is left to the front end, which then closes the socket. */
static void child_signals(void)
{
    static const int reset[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM};
    sigset_t none;
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        signal(reset[i], SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE 0: a write to a file fails instead of killing */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/* An allow-list of system calls: reading requests, writing replies and stderr, memory, time,
 * randomness and exiting. Anything else fails with EPERM (opening files, sockets, exec, fork,
 * ptrace, kill…); a foreign architecture or the x32 ABI kills the process. Returns 0, or -1
 * when the kernel has no seccomp (the rlimits and no_new_privs still hold). */
static int child_seccomp(void)
{
#ifdef SECCOMP_ARCH
    /* clang-format off */
    static const unsigned allowed[] = {
        __NR_read, __NR_write, __NR_writev, __NR_recvfrom, __NR_recvmsg, __NR_sendto,
        __NR_sendmsg, __NR_close, __NR_exit, __NR_exit_group, __NR_brk, __NR_mmap, __NR_munmap,
        __NR_mremap, __NR_madvise, __NR_mprotect, __NR_getrandom, __NR_futex,
        __NR_rt_sigreturn, __NR_rt_sigprocmask, __NR_rt_sigaction, __NR_sigaltstack,
        __NR_clock_gettime, __NR_gettimeofday, __NR_getpid, __NR_gettid, __NR_sched_yield,
        __NR_restart_syscall, __NR_fstat, __NR_newfstatat,
#ifdef __NR_time
        __NR_time,
#endif
    };
    /* clang-format on */
    enum { N = sizeof allowed / sizeof allowed[0] };
    struct sock_filter prog[N + 8];
    unsigned short at = 0;
    prog[at++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[at++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
    prog[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    prog[at++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    prog[at++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    prog[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
    for (unsigned i = 0; i < N; i++) /* jump over the rest of the list and the EPERM return */
        prog[at++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i],
                                                  (unsigned char)(N - i), 0);
    prog[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    prog[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog fprog = {.len = at, .filter = prog};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == 0 ? 0 : -1;
#else
    return -1;
#endif
}

/* Drops what the signer no longer needs once the keys are loaded. */
static int child_confine(cm_err *err)
{
    struct rlimit zero = {0, 0}, nofile = {0, 0};
    /* Valgrind only lets a process lower the soft descriptor limit; the seccomp filter keeps
     * it from raising it again. */
    if (setrlimit(RLIMIT_NOFILE, &zero) != 0 &&
        (getrlimit(RLIMIT_NOFILE, &nofile) != 0 ||
         setrlimit(RLIMIT_NOFILE, &(struct rlimit){0, nofile.rlim_max}) != 0))
        return cm_err_set(err, "signer_unavailable", "the signer cannot drop RLIMIT_NOFILE: %s",
                          strerror(errno));
    if (setrlimit(RLIMIT_CORE, &zero) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
        setrlimit(RLIMIT_FSIZE, &zero) != 0 || setrlimit(RLIMIT_NPROC, &zero) != 0 ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return cm_err_set(err, "signer_unavailable", "the signer cannot confine itself: %s",
                          strerror(errno));
    if (child_seccomp() != 0)
        log_msg(LOG_WARN, "event=signer_no_seccomp detail=\"%s\"", strerror(errno));
    return 0;
}

/* The child's whole life: never returns. */
__attribute__((noreturn)) static void child_main(const cm_config *cfg, int fd, pid_t parent)
{
    signer_child c;
    cm_err err;
    sp_buf reply = {NULL, 0, 0, 0};
    memset(&c, 0, sizeof c);
    cm_err_clear(&err);
    /* Die with the front end; it may already be gone. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
        _exit(1);
    child_signals();
    int rc = (fd = child_fds(fd)) < 0
                 ? cm_err_set(&err, "signer_unavailable", "cannot arrange descriptors")
                 : 0;
    if (rc == 0)
        rc = child_load(cfg, &c, &err);
    if (rc == 0)
        rc = child_warm_up(&c, &err);
    if (rc == 0)
        rc = child_confine(&err);
    sp_begin(&reply, rc == 0 ? SP_OK : SP_ERR);
    if (rc == 0) {
        sp_put(&reply, "", 0);
    } else {
        sp_put_str(&reply, err.code);
        sp_put_str(&reply, err.msg);
    }
    if (sp_end(&reply, &err) != 0 || send(fd, reply.p, reply.len, MSG_NOSIGNAL) < 0)
        rc = -1;
    sp_buf_free(&reply);
    if (rc == 0)
        child_serve(&c, fd);
    child_free(&c);
    /* _exit: the front end's atexit handlers and stdio buffers are not the child's. */
    _exit(rc == 0 ? 0 : 1);
}

/* ---------------------------------------------------------------------------------------- */
/* The front end's handle.                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* One lane: a signer child, its socket and the mutex that keeps one request at a time on it. */
typedef struct signer_lane {
    pthread_mutex_t lock;
    int fd;
    pid_t pid;
    unsigned char *rbuf; /* SP_MAX_MSG bytes for replies, used under lock */
} signer_lane;

struct cm_signer {
    signer_lane lanes[SIGNER_MAX_LANES];
    size_t n;         /* lanes set up (their mutex and buffer exist; fd, pid may be -1) */
    atomic_uint next; /* which busy lane the next call waits for when none is free */
    atomic_bool dead; /* a lane is gone or unusable: every call fails */
};

/* How many lanes: config `signer_lanes`, 0 meaning one per online core; 1..SIGNER_MAX_LANES. */
static size_t lanes_wanted(const cm_config *cfg)
{
    long n = cfg->signer_lanes;
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > SIGNER_MAX_LANES ? SIGNER_MAX_LANES : (size_t)n;
}

/* Marks the whole signer unusable because lane `l` failed: the signer is one unit, as it was
 * with one child, so that /health, new orders and OCSP agree (pki.h). Every lane's child is
 * killed: they are ours and not yet reaped, so each pid is still its own, and none is used
 * again. Logged once. */
static int mark_dead(cm_signer *s, const signer_lane *l, cm_err *err, const char *what)
{
    if (!atomic_exchange(&s->dead, true)) {
        log_msg(LOG_ERROR, "event=signer_lost lane=%zu pid=%d lanes=%zu detail=\"%s\"",
                (size_t)(l - s->lanes), (int)l->pid, s->n, what);
        for (size_t i = 0; i < s->n; i++)
            if (s->lanes[i].pid > 0)
                kill(s->lanes[i].pid, SIGKILL);
    }
    return cm_err_set(err, "signer_unavailable",
                      "the signer process is not running (%s); restart certmint", what);
}

/* The first lane whose child hung up its end of the socket (it died or was killed), or NULL
 * while every lane lives. One poll of every socket: cheap, no lock. */
static const signer_lane *lane_lost(const cm_signer *s)
{
    struct pollfd p[SIGNER_MAX_LANES];
    for (size_t i = 0; i < s->n; i++) {
        if (s->lanes[i].fd < 0)
            return &s->lanes[i];
        p[i] = (struct pollfd){.fd = s->lanes[i].fd, .events = 0};
    }
    int r;
    while ((r = poll(p, (nfds_t)s->n, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return &s->lanes[0];
    for (size_t i = 0; i < s->n && r > 0; i++)
        if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL))
            return &s->lanes[i];
    return NULL;
}

/* Copies an ERR reply's code and message into err (codes are snake_case, or replaced). */
static int reply_error(const sp_msg *m, cm_err *err)
{
    char code[sizeof err->code];
    cm_err tmp;
    if (sp_get_str(m, 0, sizeof code - 1, code, sizeof code, &tmp) != 0 ||
        strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(code))
        snprintf(code, sizeof code, "signing_failed");
    size_t len = m->f[1].len < sizeof err->msg - 1 ? m->f[1].len : sizeof err->msg - 1;
    char msg[sizeof err->msg];
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = m->f[1].p[i];
        msg[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    msg[len] = '\0';
    return cm_err_set(err, code, "%s", msg);
}

/* Waits for and reads one reply of lane `l` into l->rbuf. Returns its length, or -1 (signer
 * dead). */
static ssize_t read_reply(cm_signer *s, signer_lane *l, int timeout_ms, cm_err *err)
{
    struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
    int pr;
    while ((pr = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (pr <= 0)
        return mark_dead(s, l, err, pr == 0 ? "no answer in time" : strerror(errno));
    ssize_t n;
    while ((n = recv(l->fd, l->rbuf, SP_MAX_MSG, MSG_TRUNC)) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return mark_dead(s, l, err, n == 0 ? "the process exited" : strerror(errno));
    if ((size_t)n > SP_MAX_MSG)
        return mark_dead(s, l, err, "an oversized reply");
    return n;
}

/* Takes a lane for one request: the first free one counting from lane 0 (a lone caller keeps
 * to one warm child, as before lanes; alternating between children slowed bench/issue), else
 * waits for a busy one chosen round robin. Fails with `signer_unavailable` (and marks the
 * signer dead) once any lane is lost. Returns the lane, locked (release with lane_give), or
 * NULL. */
static signer_lane *lane_take(cm_signer *s, cm_err *err)
{
    const signer_lane *lost = NULL;
    if (atomic_load(&s->dead)) {
        cm_err_set(err, "signer_unavailable",
                   "the signer process is not running; restart certmint");
        return NULL;
    }
    if ((lost = lane_lost(s)) != NULL) {
        mark_dead(s, lost, err, "the process exited");
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        if (pthread_mutex_trylock(&s->lanes[i].lock) == 0)
            return &s->lanes[i];
    unsigned pick = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
    signer_lane *l = &s->lanes[pick % s->n];
    pthread_mutex_lock(&l->lock);
    return l;
}

static void lane_give(signer_lane *l)
{
    pthread_mutex_unlock(&l->lock);
}

/* One request and its reply on lane `l`, which the caller holds; *reply points into l->rbuf
 * until the lane is given back. Returns 0 for an OK reply, -1 with the signer's code for ERR,
 * or `signer_unavailable` (and the signer stays dead). */
static int roundtrip(cm_signer *s, signer_lane *l, const unsigned char *msg, size_t len,
                     sp_msg *reply, cm_err *err)
{
    if (atomic_load(&s->dead))
        return cm_err_set(err, "signer_unavailable",
                          "the signer process is not running; restart certmint");
    ssize_t n = send(l->fd, msg, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EMSGSIZE)
        return cm_err_set(err, "signer_message_too_large",
                          "the message for the signer is too large");
    if (n != (ssize_t)len)
        return mark_dead(s, l, err, n < 0 ? strerror(errno) : "a short send");
    if ((n = read_reply(s, l, REPLY_TIMEOUT_MS, err)) < 0)
        return -1;
    cm_err perr;
    if (sp_parse(l->rbuf, (size_t)n, reply, &perr) != 0 ||
        (reply->type != SP_OK && reply->type != SP_ERR))
        return cm_err_set(err, "signing_failed", "the signer's reply is malformed");
    return reply->type == SP_OK ? 0 : reply_error(reply, err);
}

/* Ends message b and sends it on lane l (held by the caller). */
static int call(cm_signer *s, signer_lane *l, sp_buf *b, sp_msg *reply, cm_err *err)
{
    if (sp_end(b, err) != 0)
        return -1;
    return roundtrip(s, l, b->p, b->len, reply, err);
}

/* Creates lane l's socket and forks its child; does not wait for it. */
static int lane_start(const cm_config *cfg, signer_lane *l, cm_err *err)
{
    int sv[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return cm_err_set(err, "signer_unavailable", "cannot create the signer's socket: %s",
                          strerror(errno));
    l->fd = sv[0];
    /* Room for one whole message per send (the kernel doubles and caps at wmem_max). */
    int sz = SP_MAX_MSG + 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        child_main(cfg, sv[1], parent); /* closes every other lane's socket too (child_fds) */
    }
    /* Closed at once, so no later lane's child inherits this one's end: when this child dies,
     * the front end's end hangs up. */
    close(sv[1]);
    if (pid < 0)
        return cm_err_set(err, "signer_unavailable", "cannot start the signer: %s",
                          strerror(errno));
    l->pid = pid;
    return 0;
}

/* Waits for lane l's child to say that its keys are loaded, or why they could not be. */
static int lane_ready(cm_signer *s, signer_lane *l, cm_err *err)
{
    ssize_t n = read_reply(s, l, READY_TIMEOUT_MS, err);
    sp_msg m;
    cm_err perr;
    if (n < 0)
        return cm_err_set(err, "signer_unavailable", "the signer exited while loading the CA keys");
    if (sp_parse(l->rbuf, (size_t)n, &m, &perr) != 0 || (m.type != SP_OK && m.type != SP_ERR))
        return cm_err_set(err, "signer_unavailable", "the signer's first message is malformed");
    if (m.type == SP_ERR)
        return reply_error(&m, err);
    return 0;
}

int signer_open(const cm_config *cfg, cm_signer **out, cm_err *err)
{
    int rc = -1;
    size_t want = lanes_wanted(cfg);
    cm_signer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    atomic_init(&s->next, 0);
    atomic_init(&s->dead, false);
    for (; s->n < want; s->n++) {
        signer_lane *l = &s->lanes[s->n];
        l->fd = -1;
        l->pid = -1;
        if (pthread_mutex_init(&l->lock, NULL) != 0) {
            cm_err_set(err, "out_of_memory", "cannot create a mutex");
            goto out;
        }
        if ((l->rbuf = malloc(SP_MAX_MSG)) == NULL) {
            s->n++; /* its mutex exists */
            cm_err_set(err, "out_of_memory", "out of memory");
            goto out;
        }
    }
    /* Every child first, then the answers: they decrypt the keys at the same time. */
    for (size_t i = 0; i < s->n; i++)
        if (lane_start(cfg, &s->lanes[i], err) != 0)
            goto out;
    for (size_t i = 0; i < s->n; i++)
        if (lane_ready(s, &s->lanes[i], err) != 0)
            goto out;
    *out = s;
    s = NULL;
    rc = 0;
out:
    signer_close(s);
    return rc;
}

void signer_close(cm_signer *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->lanes[i].fd >= 0)
            close(s->lanes[i].fd); /* the child reads EOF and exits */
    for (size_t i = 0; i < s->n; i++) {
        signer_lane *l = &s->lanes[i];
        if (l->pid > 0) {
            int st = 0;
            pid_t r = 0;
            for (int k = 0; k < 500 && (r = waitpid(l->pid, &st, WNOHANG)) == 0; k++) {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            if (r == 0) {
                kill(l->pid, SIGKILL);
                waitpid(l->pid, &st, 0);
            }
        }
        pthread_mutex_destroy(&l->lock);
        free(l->rbuf);
    }
    free(s);
}

bool signer_healthy(cm_signer *s)
{
    if (s == NULL)
        return false;
    bool ok = true;
    for (size_t i = 0; i < s->n && ok; i++) {
        sp_buf b;
        sp_msg reply;
        cm_err err;
        signer_lane *l = &s->lanes[i];
        sp_begin(&b, SP_PING);
        pthread_mutex_lock(&l->lock);
        ok = call(s, l, &b, &reply, &err) == 0 && !atomic_load(&s->dead);
        pthread_mutex_unlock(&l->lock);
        sp_buf_free(&b);
    }
    return ok;
}

bool pki_signer_healthy(const cm_pki *pki)
{
    /* Cheap and without a lock (GET /health, every new order): a child's end of its
     * socketpair hangs up when it dies or is killed. signer_healthy() makes round trips. */
    if (pki == NULL || pki->signer == NULL || pki->signer->n == 0 ||
        atomic_load(&pki->signer->dead))
        return false;
    return lane_lost(pki->signer) == NULL;
}

size_t pki_signer_lanes(const cm_pki *pki)
{
    return pki != NULL && pki->signer != NULL ? pki->signer->n : 0;
}

int pki_signer_pid(const cm_pki *pki, size_t lane)
{
    return pki != NULL && pki->signer != NULL && lane < pki->signer->n
               ? (int)pki->signer->lanes[lane].pid
               : -1;
}

int signer_pid(const cm_signer *s)
{
    return s != NULL && s->n > 0 ? (int)s->lanes[0].pid : -1;
}

int signer_send_raw(cm_signer *s, const void *msg, size_t len, cm_err *err)
{
    sp_msg reply;
    signer_lane *l = lane_take(s, err);
    if (l == NULL)
        return -1;
    int rc = roundtrip(s, l, msg, len, &reply, err);
    lane_give(l);
    return rc;
}

/* The kind of key of issuing CA `id` (true for ECDSA); ECDSA for an unknown id. */
static bool issuer_is_ec(const char *id)
{
    for (size_t i = 0; i < PKI_N_ISSUERS; i++)
        if (strcmp(pki_issuers[i].id, id) == 0)
            return pki_issuers[i].ec;
    return true;
}

/* Sets both signature algorithm fields of `x` to what the CA's key signs with for `hash`: an
 * unsigned certificate cannot be encoded without them, and the signer signs the TBS bytes as
 * they come (it checks that the algorithm is its own). An unknown hash leaves set fields alone
 * (the signer refuses it anyway). */
static int set_sig_alg(X509 *x, bool ec, const char *hash)
{
    const X509_ALGOR *tbs = X509_get0_tbs_sigalg(x), *outer = NULL;
    const ASN1_BIT_STRING *sig = NULL;
    const ASN1_OBJECT *obj = NULL;
    const EVP_MD *md = pki_md(hash);
    int nid = NID_undef, ptype = ec ? V_ASN1_UNDEF : V_ASN1_NULL;
    X509_get0_signature(&sig, &outer, x);
    X509_ALGOR_get0(&obj, NULL, NULL, tbs);
    if (md == NULL && OBJ_obj2nid(obj) != NID_undef)
        return 1;
    if (!OBJ_find_sigid_by_algs(&nid, md != NULL ? EVP_MD_get_type(md) : NID_sha256,
                                ec ? EVP_PKEY_EC : EVP_PKEY_RSA))
        return 0;
    return X509_ALGOR_set0(mut(tbs), OBJ_nid2obj(nid), ptype, NULL) &&
           X509_ALGOR_set0(mut(outer), OBJ_nid2obj(nid), ptype, NULL);
}

/* Puts the signer's signatureValue into the caller's certificate, whose TBS is the one that was
 * signed (as X509_sign leaves it: a bit string with no unused bits). */
static int install_signature(X509 *x, const sp_field *f, cm_err *err)
{
    const ASN1_BIT_STRING *sig = NULL;
    const X509_ALGOR *alg = NULL;
    X509_get0_signature(&sig, &alg, x);
    ASN1_BIT_STRING *s = mut(sig);
    if (f->len == 0 || f->len > 1024 || !ASN1_BIT_STRING_set(s, mut(f->p), (int)f->len))
        return cm_err_set(err, "signing_failed", "the signer's signature is unusable");
    s->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    s->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    return 0;
}

static int install_crl(X509_CRL *crl, const sp_field *f, cm_err *err)
{
    const unsigned char *p = f->p;
    X509_CRL *y = crl;
    if (!X509_CRL_up_ref(crl))
        return cm_err_set(err, "signing_failed", "X509_CRL_up_ref failed");
    if (d2i_X509_CRL(&y, &p, (long)f->len) == NULL)
        return cm_err_set(err, "signing_failed", "the signed CRL does not decode");
    X509_CRL_free(crl);
    if (p != f->p + f->len)
        return cm_err_set(err, "signing_failed", "trailing bytes after the signed CRL");
    return 0;
}

int signer_sign_cert(cm_signer *s, const char *ca_id, const char *hash, X509 *x, cm_err *err)
{
    int rc = -1, len = 0;
    unsigned char *tbs = NULL;
    sp_buf b = {NULL, 0, 0, 0};
    sp_msg reply;
    if (hash == NULL || hash[0] == '\0')
        hash = "sha256";
    /* i2d_re_X509_tbs, not a cached encoding: fields changed through X509_getm_* leave a decoded
     * certificate's cache in place, and the signer must see what the caller holds now. */
    if (!set_sig_alg(x, issuer_is_ec(ca_id), hash) || (len = i2d_re_X509_tbs(x, &tbs)) <= 0) {
        char e[200];
        return cm_err_set(err, "signing_failed", "encoding the certificate: %s",
                          ossl_err_text(e, sizeof e));
    }
    sp_begin(&b, SP_SIGN_CERT);
    sp_put_str(&b, ca_id);
    sp_put_str(&b, hash);
    sp_put(&b, tbs, (size_t)len);
    OPENSSL_free(tbs);
    signer_lane *l = lane_take(s, err);
    if (l != NULL && call(s, l, &b, &reply, err) == 0)
        rc = install_signature(x, &reply.f[0], err);
    if (l != NULL)
        lane_give(l); /* reply pointed into the lane's buffer: used up above */
    sp_buf_free(&b);
    return rc;
}

int signer_sign_crl(cm_signer *s, const char *ca_id, const char *hash, X509_CRL *crl, cm_err *err)
{
    int rc = -1, len = 0;
    unsigned char *der = NULL;
    sp_buf b = {NULL, 0, 0, 0};
    sp_msg reply;
    if (hash == NULL || hash[0] == '\0')
        hash = "sha256";
    /* No setter reaches an unsigned CRL's inner algorithm field, so the CRL is signed with a
     * throwaway key, which only makes it encodable: the signer checks it and signs it again
     * with the CA's key. */
    EVP_PKEY *scratch = EVP_EC_gen("P-256");
    int ok = scratch != NULL && X509_CRL_sign(crl, scratch, EVP_sha256()) > 0 &&
             (len = i2d_X509_CRL(crl, &der)) > 0;
    EVP_PKEY_free(scratch);
    if (!ok) {
        char e[200];
        return cm_err_set(err, "signing_failed", "encoding the CRL: %s",
                          ossl_err_text(e, sizeof e));
    }
    sp_begin(&b, SP_SIGN_CRL);
    sp_put_str(&b, ca_id);
    sp_put_str(&b, hash);
    sp_put(&b, der, (size_t)len);
    OPENSSL_free(der);
    signer_lane *l = lane_take(s, err);
    if (l != NULL && call(s, l, &b, &reply, err) == 0)
        rc = install_crl(crl, &reply.f[0], err);
    if (l != NULL)
        lane_give(l); /* reply pointed into the lane's buffer: used up above */
    sp_buf_free(&b);
    return rc;
}

int signer_sign_ocsp(cm_signer *s, const char *ca_id, const char *hash,
                     const signer_ocsp_single *singles, size_t n, int64_t this_update,
                     int64_t next_update, const unsigned char *nonce, size_t nonce_len,
                     OCSP_BASICRESP **out, cm_err *err)
{
    int rc = -1;
    sp_buf b = {NULL, 0, 0, 0};
    sp_msg reply;
    if (n == 0 || n > SP_OCSP_MAX_SINGLE)
        return cm_err_set(err, "signer_refused", "an OCSP response holds 1 to %d answers",
                          SP_OCSP_MAX_SINGLE);
    sp_begin(&b, SP_SIGN_OCSP);
    sp_put_str(&b, ca_id);
    sp_put_str(&b, hash != NULL && hash[0] != '\0' ? hash : "sha256");
    sp_put_u64(&b, (uint64_t)this_update);
    sp_put_u64(&b, (uint64_t)next_update);
    sp_put(&b, nonce, nonce != NULL ? nonce_len : 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char st[SP_OCSP_STATUS_LEN];
        st[0] = (unsigned char)singles[i].status;
        st[1] = singles[i].reason < 0 ? 0xff : (unsigned char)singles[i].reason;
        sp_store_u64(st + 2, (uint64_t)singles[i].revoked_at);
        sp_put(&b, singles[i].certid, singles[i].certid_len);
        sp_put(&b, st, sizeof st);
    }
    signer_lane *l = lane_take(s, err);
    if (l != NULL && call(s, l, &b, &reply, err) == 0) {
        const unsigned char *p = reply.f[0].p;
        *out = d2i_OCSP_BASICRESP(NULL, &p, (long)reply.f[0].len);
        if (*out == NULL)
            cm_err_set(err, "signing_failed", "the signed OCSP response does not decode");
        else
            rc = 0;
    }
    if (l != NULL)
        lane_give(l); /* reply pointed into the lane's buffer: used up above */
    sp_buf_free(&b);
    return rc;
}
