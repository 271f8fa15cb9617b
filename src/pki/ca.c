/* ca.c — creating a data directory's CA hierarchies (certmint init) and reading CA files.
 *
 * Each hierarchy (public, private) has an ECDSA chain (P-384 root → P-256 issuing CA) and an RSA
 * chain (RSA-4096 root → RSA-3072 issuing CA), following the BR CA profiles (§7.1.2.1 root,
 * §7.1.2.6 TLS subordinate CA). Keys are written as PKCS#8 encrypted with AES-256-CBC under a
 * PBKDF2-HMAC-SHA256 key. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/internal.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/str.h"

#define PBKDF2_ITERATIONS 200000
#define ROOT_YEARS 25
#define ISSUING_YEARS 10

const char *ossl_err_text(char *buf, size_t bufsz)
{
    unsigned long first = ERR_peek_error();
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        char line[256];
        ERR_error_string_n(e, line, sizeof line);
        log_msg(LOG_DEBUG, "event=openssl_error detail=\"%s\"", line);
    }
    if (first == 0)
        snprintf(buf, bufsz, "unknown OpenSSL error");
    else
        ERR_error_string_n(first, buf, bufsz);
    return buf;
}

const EVP_MD *pki_md(const char *hash)
{
    /* EVP_get_digestbyname returns static legacy objects: no fetch, nothing to free. */
    if (strcmp(hash, "sha256") == 0)
        return EVP_sha256();
    if (strcmp(hash, "sha384") == 0)
        return EVP_sha384();
    if (strcmp(hash, "sha512") == 0)
        return EVP_sha512();
    return NULL;
}

int ca_path(const cm_config *cfg, const char *id, const char *ext, char *buf, size_t bufsz)
{
    int n = snprintf(buf, bufsz, "%s/ca/%s.%s", cfg->dir, id, ext);
    return n > 0 && (size_t)n < bufsz ? 0 : -1;
}

X509 *ca_read_cert(const char *path, cm_err *err)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (x == NULL) {
        char e[200];
        cm_err_set(err, "ca_unreadable",
                   "cannot read CA certificate %s (%s); was `certmint init` run for this "
                   "directory?",
                   path, ossl_err_text(e, sizeof e));
    }
    BIO_free(b);
    return x;
}

int ca_passphrase(const cm_config *cfg, char *buf, size_t bufsz, cm_err *err)
{
    const char *env = getenv("CERTMINT_CA_PASSPHRASE");
    if (env != NULL && env[0] != '\0') {
        if (str_copy(buf, bufsz, env) != 0)
            return cm_err_set(err, "passphrase_invalid", "CERTMINT_CA_PASSPHRASE is too long");
        return 0;
    }
    char path[1200];
    unsigned char *data = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/ca/passphrase", cfg->dir);
    if (file_read_all(path, bufsz - 1, &data, &len, err) != 0)
        return cm_err_prefix(err, "no CERTMINT_CA_PASSPHRASE and no passphrase file");
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    memcpy(buf, data, len + 1);
    OPENSSL_cleanse(data, len);
    free(data);
    if (len < 16)
        return cm_err_set(err, "passphrase_invalid", "%s holds fewer than 16 characters", path);
    return 0;
}

/* Generates a key: "ec:P-256", "ec:P-384" or "rsa:BITS". Caller frees. */
static EVP_PKEY *gen_key(const char *spec, cm_err *err)
{
    EVP_PKEY *k = NULL;
    if (strncmp(spec, "ec:", 3) == 0)
        k = EVP_EC_gen(spec + 3);
    else
        k = EVP_RSA_gen((unsigned)strtoul(spec + 4, NULL, 10));
    if (k == NULL) {
        char e[200];
        cm_err_set(err, "keygen_failed", "generating a %s key failed: %s", spec,
                   ossl_err_text(e, sizeof e));
    }
    return k;
}

/* Adds an extension given in OpenSSL's config syntax, with issuer and subject context. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value, cm_err *err)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL || !X509_add_ext(x, ext, -1)) {
        char e[200];
        X509_EXTENSION_free(ext);
        return cm_err_set(err, "ca_build_failed", "extension %s=%s: %s", OBJ_nid2sn(nid), value,
                          ossl_err_text(e, sizeof e));
    }
    X509_EXTENSION_free(ext);
    return 0;
}

typedef struct ca_spec {
    const char *id;      /* file stem */
    const char *keyspec; /* gen_key spec */
    const char *cn;      /* common name suffix */
    const char *parent;  /* NULL for a root */
    const char *hash;
} ca_spec;

/* Builds and signs one CA certificate. `parent`/`parent_key` are NULL for a self-signed root. */
static X509 *make_ca_cert(const cm_config *cfg, const cm_init_opts *o, const ca_spec *spec,
                          EVP_PKEY *key, X509 *parent, EVP_PKEY *parent_key, cm_err *err)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *bn = BN_new();
    unsigned char serial[16];
    char cn[160], url[700];
    bool ok = false;
    if (x == NULL || name == NULL || bn == NULL || RAND_bytes(serial, sizeof serial) != 1) {
        cm_err_set(err, "ca_build_failed", "out of memory or randomness");
        goto out;
    }
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
    snprintf(cn, sizeof cn, "%s %s", o->ca_org, spec->cn);
    if (!X509_set_version(x, 2) || !BN_bin2bn(serial, sizeof serial, bn) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_NAME_add_entry_by_NID(name, NID_countryName, V_ASN1_PRINTABLESTRING,
                                    (const unsigned char *)o->ca_country, -1, -1, 0) ||
        !X509_NAME_add_entry_by_NID(name, NID_organizationName, V_ASN1_UTF8STRING,
                                    (const unsigned char *)o->ca_org, -1, -1, 0) ||
        !X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, parent != NULL ? X509_get_subject_name(parent) : name) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)clock_now()) ||
        !ASN1_TIME_set(X509_getm_notAfter(x),
                       (time_t)(clock_now() + (int64_t)(parent ? ISSUING_YEARS : ROOT_YEARS) *
                                                  365 * 86400)) ||
        !X509_set_pubkey(x, key)) {
        char e[200];
        cm_err_set(err, "ca_build_failed", "building %s: %s", spec->id,
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    X509 *iss = parent != NULL ? parent : x;
    if (add_ext(x, iss, NID_basic_constraints,
                parent ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE", err) ||
        add_ext(x, iss, NID_key_usage,
                parent ? "critical,digitalSignature,keyCertSign,cRLSign"
                       : "critical,keyCertSign,cRLSign",
                err) ||
        add_ext(x, iss, NID_subject_key_identifier, "hash", err) ||
        add_ext(x, iss, NID_authority_key_identifier, "keyid:always", err))
        goto out;
    if (parent != NULL) {
        /* TLS subordinate CA (BR §7.1.2.6): EKU serverAuth, policies, links to its root. */
        snprintf(url, sizeof url, "caIssuers;URI:%s/ca/%s.crt", cfg->public_url, spec->parent);
        X509_EXTENSION *pol = ext_policy("2.5.29.32.0"); /* anyPolicy: an affiliated CA */
        int added = pol != NULL && X509_add_ext(x, pol, -1);
        X509_EXTENSION_free(pol);
        if (!added) {
            cm_err_set(err, "ca_build_failed", "adding the policy of %s", spec->id);
            goto out;
        }
        if (add_ext(x, iss, NID_ext_key_usage, "serverAuth", err) ||
            add_ext(x, iss, NID_info_access, url, err))
            goto out;
        snprintf(url, sizeof url, "URI:%s/crl/%s.crl", cfg->public_url, spec->parent);
        if (add_ext(x, iss, NID_crl_distribution_points, url, err))
            goto out;
    }
    if (X509_sign(x, parent_key != NULL ? parent_key : key, pki_md(spec->hash)) <= 0) {
        char e[200];
        cm_err_set(err, "ca_build_failed", "signing %s: %s", spec->id,
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    ok = true;
out:
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* Writes `key` as encrypted PKCS#8 PEM (0600) and `cert` as PEM (0644) into `dir`. */
static int write_pair(const char *dir, const char *id, EVP_PKEY *key, X509 *cert,
                      const char *pass, cm_err *err)
{
    int rc = -1;
    char path[1200];
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8(key);
    X509_ALGOR *pbe = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), PBKDF2_ITERATIONS, NULL, 0, NULL,
                                        NID_hmacWithSHA256);
    X509_SIG *p8 = NULL;
    if (kb == NULL || cb == NULL || p8inf == NULL || pbe == NULL)
        goto fail;
    p8 = PKCS8_set0_pbe(pass, (int)strlen(pass), p8inf, pbe);
    if (p8 == NULL)
        goto fail;
    pbe = NULL; /* owned by p8 now */
    if (!PEM_write_bio_PKCS8(kb, p8) || !PEM_write_bio_X509(cb, cert))
        goto fail;
    char *data;
    long len = BIO_get_mem_data(kb, &data);
    snprintf(path, sizeof path, "%s/%s.key", dir, id);
    if (file_write_atomic(path, data, (size_t)len, 0600, 0, err) != 0)
        goto out;
    len = BIO_get_mem_data(cb, &data);
    snprintf(path, sizeof path, "%s/%s.crt", dir, id);
    if (file_write_atomic(path, data, (size_t)len, 0644, 0, err) != 0)
        goto out;
    rc = 0;
    goto out;
fail : {
    char e[200];
    cm_err_set(err, "ca_build_failed", "encrypting the %s key: %s", id,
               ossl_err_text(e, sizeof e));
}
out:
    X509_SIG_free(p8);
    X509_ALGOR_free(pbe);
    PKCS8_PRIV_KEY_INFO_free(p8inf); /* PKCS8_set0_pbe copies it */
    BIO_free(kb);
    BIO_free(cb);
    return rc;
}

/* Removes the files of a half-built temporary CA directory. */
static void remove_tree(const char *dir)
{
    static const char *const stems[] = {
        "public-ecdsa-root",  "public-ecdsa",  "public-rsa-root",  "public-rsa",
        "private-ecdsa-root", "private-ecdsa", "private-rsa-root", "private-rsa"};
    char path[1200];
    for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.key", dir, stems[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.crt", dir, stems[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/passphrase", dir);
    unlink(path);
    rmdir(dir);
}

int ca_init(const cm_config *cfg, const cm_init_opts *o, cm_err *err)
{
    int rc = -1;
    char tmp[1100], final[1100], pass[256];
    tmp[0] = '\0';
    snprintf(final, sizeof final, "%s/ca", cfg->dir);
    if (mkdir(cfg->dir, 0700) != 0 && errno != EEXIST)
        return cm_err_set(err, "dir_unwritable", "cannot create %s: %s", cfg->dir,
                          strerror(errno));
    if (access(final, F_OK) == 0)
        return cm_err_set(err, "already_initialised",
                          "%s already holds a CA; certmint init never overwrites one (use "
                          "another --dir)",
                          cfg->dir);
    snprintf(tmp, sizeof tmp, "%s/.ca-init-XXXXXX", cfg->dir);
    if (mkdtemp(tmp) == NULL) {
        cm_err_set(err, "dir_unwritable", "cannot create a directory in %s: %s", cfg->dir,
                   strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    const char *env = getenv("CERTMINT_CA_PASSPHRASE");
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) < 16 || str_copy(pass, sizeof pass, env) != 0) {
            cm_err_set(err, "passphrase_invalid",
                       "CERTMINT_CA_PASSPHRASE must hold 16 to 255 characters");
            goto out;
        }
    } else {
        unsigned char raw[32];
        static const char hex[] = "0123456789abcdef";
        if (random_bytes(raw, sizeof raw) != 0) {
            cm_err_set(err, "keygen_failed", "no randomness for the passphrase");
            goto out;
        }
        for (size_t i = 0; i < sizeof raw; i++) {
            pass[2 * i] = hex[raw[i] >> 4];
            pass[2 * i + 1] = hex[raw[i] & 15];
        }
        pass[64] = '\0';
        OPENSSL_cleanse(raw, sizeof raw);
        char path[1200];
        snprintf(path, sizeof path, "%s/passphrase", tmp);
        if (file_write_atomic(path, pass, 64, 0600, 0, err) != 0)
            goto out;
    }
    char rsa_root[32], rsa_issuing[32];
    snprintf(rsa_root, sizeof rsa_root, "rsa:%d", o->rsa_root_bits);
    snprintf(rsa_issuing, sizeof rsa_issuing, "rsa:%d", o->rsa_issuing_bits);
    const ca_spec specs[] = {
        {"public-ecdsa-root", "ec:P-384", "Public ECDSA Root R1", NULL, "sha384"},
        {"public-ecdsa", "ec:P-256", "Public ECDSA Issuing CA 1", "public-ecdsa-root", "sha384"},
        {"public-rsa-root", rsa_root, "Public RSA Root R1", NULL, "sha256"},
        {"public-rsa", rsa_issuing, "Public RSA Issuing CA 1", "public-rsa-root", "sha256"},
        {"private-ecdsa-root", "ec:P-384", "Private ECDSA Root R1", NULL, "sha384"},
        {"private-ecdsa", "ec:P-256", "Private ECDSA Issuing CA 1", "private-ecdsa-root",
         "sha384"},
        {"private-rsa-root", rsa_root, "Private RSA Root R1", NULL, "sha256"},
        {"private-rsa", rsa_issuing, "Private RSA Issuing CA 1", "private-rsa-root", "sha256"},
    };
    /* Specs come in root, issuing pairs: the root of each pair signs the next entry. */
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i += 2) {
        EVP_PKEY *rk = gen_key(specs[i].keyspec, err), *ik = NULL;
        X509 *rc_ = NULL, *ic = NULL;
        int ok = rk != NULL && (ik = gen_key(specs[i + 1].keyspec, err)) != NULL &&
                 (rc_ = make_ca_cert(cfg, o, &specs[i], rk, NULL, NULL, err)) != NULL &&
                 (ic = make_ca_cert(cfg, o, &specs[i + 1], ik, rc_, rk, err)) != NULL &&
                 write_pair(tmp, specs[i].id, rk, rc_, pass, err) == 0 &&
                 write_pair(tmp, specs[i + 1].id, ik, ic, pass, err) == 0;
        EVP_PKEY_free(rk);
        EVP_PKEY_free(ik);
        X509_free(rc_);
        X509_free(ic);
        if (!ok)
            goto out;
        log_msg(LOG_INFO, "event=ca_created id=%s", specs[i + 1].id);
    }
    /* All or nothing: the finished directory appears under its name in one step. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY)
            cm_err_set(err, "already_initialised", "%s already holds a CA", cfg->dir);
        else
            cm_err_set(err, "dir_unwritable", "cannot move the CA into %s: %s", final,
                       strerror(errno));
        goto out;
    }
    chmod(final, 0700);
    tmp[0] = '\0';
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof pass);
    if (tmp[0] != '\0')
        remove_tree(tmp);
    return rc;
}

/* ---- Root CRLs ----
 * Each issuing CA certificate points at <public_url>/crl/<root-id>.crl, so each root needs a
 * CRL of its own (BR §4.9.7: a CA's CRL is re-issued at least every 12 months). The root keys
 * stay out of the signer process and the server: this code decrypts the root key itself, from
 * the command line (init, `certmint ca root-crl`), and writes DIR/ca/<root-id>.crl for the
 * server to hand out as a file. */

static const char *const root_ids[] = {"public-ecdsa-root", "public-rsa-root",
                                       "private-ecdsa-root", "private-rsa-root"};

bool ca_root_id_known(const char *id)
{
    for (size_t i = 0; id != NULL && i < sizeof root_ids / sizeof root_ids[0]; i++)
        if (strcmp(id, root_ids[i]) == 0)
            return true;
    return false;
}

/* Loads one encrypted PEM private key with `pass`. Returns the key (caller frees) or NULL. */
static EVP_PKEY *root_key_load(const char *path, const char *pass, cm_err *err)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)(uintptr_t)pass)
                            : NULL;
    if (k == NULL) {
        char e[200];
        cm_err_set(err, "ca_key_unreadable",
                   "cannot decrypt %s (%s): is CERTMINT_CA_PASSPHRASE (or DIR/ca/passphrase) "
                   "the passphrase given at `certmint init`?",
                   path, ossl_err_text(e, sizeof e));
    }
    BIO_free(b);
    return k;
}

/* The CRLNumber of the CRL at `path` into *number: 0 when there is no file yet. A file that is
 * there but unreadable or without a number is an error: starting again at 1 would let the
 * number go backwards for relying parties that cached the old CRL. */
static int root_crl_last_number(const char *path, uint64_t *number, cm_err *err)
{
    int rc = -1;
    unsigned char *data = NULL;
    size_t len = 0;
    X509_CRL *crl = NULL;
    ASN1_INTEGER *num = NULL;
    *number = 0;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    if (file_read_all(path, CA_ROOT_CRL_MAX_BYTES, &data, &len, err) != 0)
        goto out;
    const unsigned char *p = data;
    if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL || p != data + len ||
        (num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) == NULL ||
        ASN1_INTEGER_get_uint64(number, num) != 1 || *number == UINT64_MAX) {
        char e[200];
        cm_err_set(err, "crl_unreadable",
                   "%s is not a DER CRL with a CRL number (%s); restore it from a backup, or "
                   "move it away to start again at number 1",
                   path, ossl_err_text(e, sizeof e));
        goto out;
    }
    rc = 0;
out:
    ASN1_INTEGER_free(num);
    X509_CRL_free(crl);
    free(data);
    return rc;
}

/* The digest the root certificate itself is signed with (sha384 for the P-384 roots, sha256 for
 * the RSA roots, as ca_init chose), so the CRL and the certificate agree. NULL for anything
 * else (never SHA-1). */
static const EVP_MD *root_md(const X509 *root)
{
    int md_nid = NID_undef, pk_nid = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(root), &md_nid, &pk_nid))
        return NULL;
    if (md_nid == NID_sha256)
        return pki_md("sha256");
    if (md_nid == NID_sha384)
        return pki_md("sha384");
    if (md_nid == NID_sha512)
        return pki_md("sha512");
    return NULL;
}

int ca_root_crl_make(const cm_config *cfg, const char *root_id, int days, cm_err *err)
{
    int rc = -1;
    char path[1200], pass[256];
    X509 *root = NULL;
    EVP_PKEY *key = NULL;
    X509_CRL *crl = NULL;
    AUTHORITY_KEYID *akid = NULL;
    ASN1_INTEGER *num = NULL;
    ASN1_TIME *tu = NULL, *nu = NULL;
    unsigned char *der = NULL;
    uint64_t number = 0;
    pass[0] = '\0';
    if (!ca_root_id_known(root_id))
        return cm_err_set(err, "ca_unknown",
                          "\"%s\" is not a root of certmint (public-ecdsa-root, public-rsa-root, "
                          "private-ecdsa-root, private-rsa-root)",
                          root_id != NULL ? root_id : "");
    if (days == 0)
        days = CA_ROOT_CRL_DEFAULT_DAYS;
    if (days < 1 || days > CA_ROOT_CRL_MAX_DAYS)
        return cm_err_set(err, "crl_dates_invalid",
                          "a root CRL is valid for 1 to %d days (BR §4.9.7: at most 12 months)",
                          CA_ROOT_CRL_MAX_DAYS);
    if (ca_path(cfg, root_id, "crt", path, sizeof path) != 0 ||
        (root = ca_read_cert(path, err)) == NULL)
        goto out;
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(root);
    const EVP_MD *md = root_md(root);
    if (skid == NULL || md == NULL) {
        cm_err_set(err, "ca_unreadable",
                   "%s has no subject key identifier or an unexpected signature algorithm; it "
                   "was not made by `certmint init`",
                   path);
        goto out;
    }
    if (ca_passphrase(cfg, pass, sizeof pass, err) != 0 ||
        ca_path(cfg, root_id, "key", path, sizeof path) != 0 ||
        (key = root_key_load(path, pass, err)) == NULL)
        goto out;
    if (X509_check_private_key(root, key) != 1) {
        char e[200];
        cm_err_set(err, "ca_key_unreadable", "the key of %s does not match its certificate: %s",
                   root_id, ossl_err_text(e, sizeof e));
        goto out;
    }
    if (ca_path(cfg, root_id, "crl", path, sizeof path) != 0) {
        cm_err_set(err, "path_too_long", "the data directory path is too long");
        goto out;
    }
    if (root_crl_last_number(path, &number, err) != 0)
        goto out;
    number++;
    /* No entries: certmint never revokes its own issuing CAs yet, so a root's CRL lists
     * nothing. Revoking an issuing CA would add its serial here. */
    int64_t now = clock_now();
    tu = ASN1_TIME_set(NULL, (time_t)now);
    nu = ASN1_TIME_set(NULL, (time_t)(now + (int64_t)days * 86400));
    num = ASN1_INTEGER_new();
    akid = AUTHORITY_KEYID_new();
    crl = X509_CRL_new();
    if (tu == NULL || nu == NULL || num == NULL || akid == NULL || crl == NULL ||
        (akid->keyid = ASN1_OCTET_STRING_dup(skid)) == NULL ||
        !ASN1_INTEGER_set_uint64(num, number) || !X509_CRL_set_version(crl, 1) || /* v2 */
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(root)) ||
        !X509_CRL_set1_lastUpdate(crl, tu) || !X509_CRL_set1_nextUpdate(crl, nu) ||
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
        char e[200];
        cm_err_set(err, "out_of_memory", "building the CRL of %s: %s", root_id,
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    if (X509_CRL_sign(crl, key, md) <= 0 || X509_CRL_verify(crl, X509_get0_pubkey(root)) != 1) {
        char e[200];
        cm_err_set(err, "signing_failed", "signing the CRL of %s: %s", root_id,
                   ossl_err_text(e, sizeof e));
        goto out;
    }
    int len = i2d_X509_CRL(crl, &der);
    if (len <= 0) {
        cm_err_set(err, "out_of_memory", "encoding the CRL of %s failed", root_id);
        goto out;
    }
    if (file_write_atomic(path, der, (size_t)len, 0644, 1, err) != 0)
        goto out;
    log_msg(LOG_INFO, "event=root_crl_made id=%s number=%llu next_update=%lld", root_id,
            (unsigned long long)number, (long long)(now + (int64_t)days * 86400));
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof pass);
    OPENSSL_free(der);
    X509_CRL_free(crl);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    EVP_PKEY_free(key);
    X509_free(root);
    return rc;
}

int ca_root_crls_make(const cm_config *cfg, int days, cm_err *err)
{
    for (size_t i = 0; i < sizeof root_ids / sizeof root_ids[0]; i++)
        if (ca_root_crl_make(cfg, root_ids[i], days, err) != 0)
            return -1;
    return 0;
}
