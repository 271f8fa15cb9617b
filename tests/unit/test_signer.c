/* test_signer.c — the signer process. Its hard limits: it re-signs a good certificate, and
 * refuses a CA certificate, a CA key usage, a foreign issuer, an over-long or back-dated
 * validity, a public certificate without exactly one CA/B policy, a private one with a policy, a
 * hash its key may not use, and an unknown CA — whatever the caller built. Also: CA keys stay
 * encrypted at rest and a wrong passphrase is refused; malformed messages get an error reply
 * and leave the signer serving; a killed signer makes calls fail with `signer_unavailable`
 * (healthy = false) and is reaped on close; only the child opens the key files (fanotify); the
 * child runs confined (no_new_privs, seccomp, no descriptors left, RLIMIT_NOFILE 0); threads
 * may sign at once; and a clock pinned before the engine opens holds in the signer too.
 * Lanes (several signer children): `signer_lanes` sets their number (0 = one per core), every
 * lane is confined and loads the keys itself, two threads sign at the same time through two
 * lanes (one lane stopped with SIGSTOP holds one signature back, not the other), and killing
 * any one lane makes the whole signer unavailable, kills the others and is reaped on close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/fanotify.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/internal.h"
#include "pki/signer_proto.h"
#include "util/clock.h"

typedef struct fixture {
    char dir[64];
    cm_config cfg;
    cm_pki *pki;
    unsigned char *csr_der;
    int csr_len;
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

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/certmint-signer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
    config_defaults(&f->cfg);
    cm_err err;
    assert_int_equal(config_set(&f->cfg, "dir", f->dir, &err), 0);
    cm_init_opts o = {"certmint test", "XX", 2048, 2048};
    assert_int_equal(ca_init(&f->cfg, &o, &err), 0);
    assert_int_equal(pki_open(&f->cfg, &f->pki, &err), 0);
    f->csr_der = make_csr(&f->csr_len);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    pki_close(f->pki);
    OPENSSL_free(f->csr_der);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Issues a good certificate of `product` through the whole engine and returns it parsed. */
static X509 *issued(fixture *f, const char *product, cm_issuer_kind kind)
{
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    cm_err err;
    cm_name name;
    const cm_product *p = product_find(product);
    cm_name_policy pol = product_name_policy(p);
    cm_org org;
    memset(&org, 0, sizeof org);
    snprintf(org.name, sizeof org.name, "Example Ltd");
    snprintf(org.city, sizeof org.city, "London");
    snprintf(org.country, sizeof org.country, "GB");
    assert_int_equal(csr_parse(f->csr_der, (size_t)f->csr_len, &csr, &err), 0);
    assert_int_equal(name_normalize(p->hierarchy == HIER_PUBLIC ? "www.example.com"
                                                               : "db.internal",
                                    &pol, &name, &err),
                     0);
    cm_issue_req req = {.product = p, .names = &name, .n_names = 1, .cn_index = 0,
                        .org = p->validation == VAL_DV ? NULL : &org, .issuer = kind};
    assert_int_equal(cert_issue(f->pki, csr, &req, &cert, &err), 0);
    size_t len = 0;
    const unsigned char *der = cert_der(cert, &len);
    X509 *x = d2i_X509(NULL, &der, (long)len);
    assert_non_null(x);
    cert_free(cert);
    csr_free(csr);
    return x;
}

static void replace_ext(X509 *x, int nid, int crit, void *value)
{
    int at = X509_get_ext_by_NID(x, nid, -1);
    if (at >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, at));
    if (value != NULL)
        assert_int_equal(X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT), 1);
}

static void expect_refused(fixture *f, const char *ca, const char *hash, X509 *x)
{
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(signer_sign_cert(f->pki->signer, ca, hash, x, &err), -1);
    assert_string_equal(err.code, "signer_refused");
    X509_free(x);
}

static void test_signer_signs_a_good_certificate_again(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    cm_err err;
    assert_int_equal(signer_sign_cert(f->pki->signer, "public-ecdsa", "sha256", x, &err), 0);
    const cm_ca_pub *ca = pki_find_ca(f->pki, "public-ecdsa");
    assert_int_equal(X509_verify(x, X509_get0_pubkey(ca->cert)), 1);
    X509_free(x);
}

static void test_signer_refuses_ca_true(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    bc->ca = 0xff;
    replace_ext(x, NID_basic_constraints, 1, bc);
    BASIC_CONSTRAINTS_free(bc);
    expect_refused(f, "public-ecdsa", "sha256", x);
}

static void test_signer_refuses_cert_sign_key_usage(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set_bit(ku, 0, 1);
    ASN1_BIT_STRING_set_bit(ku, 5, 1); /* keyCertSign */
    replace_ext(x, NID_key_usage, 1, ku);
    ASN1_BIT_STRING_free(ku);
    expect_refused(f, "public-ecdsa", "sha256", x);
}

static void test_signer_refuses_foreign_issuer(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Evil CA", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    X509_NAME_free(n);
    expect_refused(f, "public-ecdsa", "sha256", x);
    /* The right subject, but the other CA's key. */
    expect_refused(f, "public-rsa", "sha256", issued(f, "ssl_dv_geotrust", ISSUER_ECDSA));
}

static void test_signer_refuses_over_long_validity(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    int64_t nb = clock_now();
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + 201 * 86400 - 1));
    expect_refused(f, "public-ecdsa", "sha256", x);
    x = issued(f, "private_ssl_plus", ISSUER_ECDSA);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + 398 * 86400));
    expect_refused(f, "private-ecdsa", "sha256", x);
}

static void test_signer_refuses_backdated_not_before(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    int64_t nb = clock_now() - 3 * 86400;
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + 30 * 86400));
    expect_refused(f, "public-ecdsa", "sha256", x);
}

static void test_signer_refuses_unknown_profile(void **state)
{
    fixture *f = *state;
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    replace_ext(x, NID_certificate_policies, 0, NULL);
    expect_refused(f, "public-ecdsa", "sha256", x);
    /* A private certificate must not claim a CA/B Forum policy. */
    x = issued(f, "private_ssl_plus", ISSUER_ECDSA);
    X509_EXTENSION *pol = ext_policy(OID_POLICY_OV);
    X509_add_ext(x, pol, -1);
    X509_EXTENSION_free(pol);
    expect_refused(f, "private-ecdsa", "sha256", x);
}

static void test_signer_refuses_hash_the_key_may_not_use(void **state)
{
    fixture *f = *state;
    expect_refused(f, "public-ecdsa", "sha384", issued(f, "ssl_dv_geotrust", ISSUER_ECDSA));
    expect_refused(f, "public-rsa", "sha1", issued(f, "ssl_dv_geotrust", ISSUER_RSA));
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_RSA);
    cm_err err;
    assert_int_equal(signer_sign_cert(f->pki->signer, "public-rsa", "sha512", x, &err), 0);
    X509_free(x);
}

static void test_signer_refuses_unknown_ca(void **state)
{
    fixture *f = *state;
    expect_refused(f, "public-ecdsa-root", "sha256", issued(f, "ssl_dv_geotrust", ISSUER_ECDSA));
}

static void test_ca_keys_are_encrypted_and_need_the_passphrase(void **state)
{
    fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/ca/public-ecdsa.key", f->dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[128];
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_string_equal(line, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
    setenv("CERTMINT_CA_PASSPHRASE", "not-the-right-passphrase-000", 1);
    cm_pki *other = NULL;
    cm_err err;
    assert_int_equal(pki_open(&f->cfg, &other, &err), -1);
    assert_string_equal(err.code, "ca_key_unreadable");
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
}

/* Sends a raw message and expects an error reply with `code`. */
static void expect_error_reply(fixture *f, const void *msg, size_t len, const char *code)
{
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(signer_send_raw(f->pki->signer, msg, len, &err), -1);
    assert_string_equal(err.code, code);
}

static void test_signer_answers_malformed_messages_with_an_error(void **state)
{
    fixture *f = *state;
    sp_buf b;
    cm_err err;
    expect_error_reply(f, "hello", 5, "signer_bad_message");
    /* A good header whose payload length lies. */
    sp_begin(&b, SP_PING);
    assert_int_equal(sp_end(&b, &err), 0);
    b.p[11] = 4;
    expect_error_reply(f, b.p, b.len, "signer_bad_message");
    b.p[11] = 0;
    b.p[5] = 9; /* unknown version */
    expect_error_reply(f, b.p, b.len, "signer_bad_message");
    sp_buf_free(&b);
    /* SIGN_CERT with a field missing; a field that overruns the message. */
    sp_begin(&b, SP_SIGN_CERT);
    sp_put_str(&b, "public-ecdsa");
    sp_put_str(&b, "sha256");
    assert_int_equal(sp_end(&b, &err), 0);
    expect_error_reply(f, b.p, b.len, "signer_bad_message");
    b.p[SP_HDR_LEN + 3] = 200;
    expect_error_reply(f, b.p, b.len, "signer_bad_message");
    sp_buf_free(&b);
    /* The right shape around junk, a non-printable CA id, and a reply type sent as a request. */
    sp_begin(&b, SP_SIGN_CERT);
    sp_put_str(&b, "public-ecdsa");
    sp_put_str(&b, "sha256");
    sp_put(&b, "\x30\x03\x02\x01\x01", 5);
    assert_int_equal(sp_end(&b, &err), 0);
    expect_error_reply(f, b.p, b.len, "signer_refused");
    sp_buf_free(&b);
    sp_begin(&b, SP_SIGN_CRL);
    sp_put(&b, "pub\x01ic", 6);
    sp_put_str(&b, "sha256");
    sp_put(&b, "\x30\x00", 2);
    assert_int_equal(sp_end(&b, &err), 0);
    expect_error_reply(f, b.p, b.len, "signer_bad_message");
    sp_buf_free(&b);
    sp_begin(&b, SP_OK);
    sp_put(&b, "", 0);
    assert_int_equal(sp_end(&b, &err), 0);
    expect_error_reply(f, b.p, b.len, "signer_bad_message");
    sp_buf_free(&b);
    /* Larger than any message may be. */
    size_t big = SP_MAX_MSG + 4096;
    unsigned char *junk = calloc(1, big);
    assert_non_null(junk);
    memcpy(junk, "CMSG", 4);
    expect_error_reply(f, junk, big, "signer_bad_message");
    free(junk);
    /* The signer still serves. */
    assert_true(pki_signer_healthy(f->pki));
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    assert_int_equal(signer_sign_cert(f->pki->signer, "public-ecdsa", "sha256", x, &err), 0);
    X509_free(x);
}

/* True once `pid` no longer exists (reaped, not a zombie). */
static bool gone(int pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

static void test_killed_signer_is_unavailable_and_reaped(void **state)
{
    fixture *f = *state;
    cm_pki *pki = NULL;
    cm_err err;
    assert_int_equal(pki_open(&f->cfg, &pki, &err), 0);
    assert_true(pki_signer_healthy(pki));
    int pid = signer_pid(pki->signer);
    assert_true(pid > 0 && pid != getpid());
    assert_int_equal(kill(pid, SIGKILL), 0);
    bool healthy = true;
    for (int i = 0; i < 200 && healthy; i++) {
        healthy = pki_signer_healthy(pki);
        if (healthy)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    assert_false(healthy);
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    cm_err_clear(&err);
    assert_int_equal(signer_sign_cert(pki->signer, "public-ecdsa", "sha256", x, &err), -1);
    assert_string_equal(err.code, "signer_unavailable");
    X509_free(x);
    /* Through the engine as well: cert_issue fails cleanly, no SIGPIPE. */
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    cm_name name;
    const cm_product *p = product_find("ssl_dv_geotrust");
    cm_name_policy pol = product_name_policy(p);
    assert_int_equal(csr_parse(f->csr_der, (size_t)f->csr_len, &csr, &err), 0);
    assert_int_equal(name_normalize("www.example.com", &pol, &name, &err), 0);
    cm_issue_req req = {
        .product = p, .names = &name, .n_names = 1, .cn_index = 0, .issuer = ISSUER_ECDSA};
    assert_int_equal(cert_issue(pki, csr, &req, &cert, &err), -1);
    assert_string_equal(err.code, "signer_unavailable");
    assert_null(cert);
    csr_free(csr);
    int pids[16];
    size_t n = pki_signer_lanes(pki);
    assert_true(n >= 1 && n <= 16);
    for (size_t i = 0; i < n; i++)
        pids[i] = pki_signer_pid(pki, i);
    pki_close(pki);
    for (size_t i = 0; i < n; i++)
        assert_true(gone(pids[i]));
}

/* An engine with `lanes` signer lanes (caller closes). */
static cm_pki *open_with_lanes(fixture *f, const char *lanes)
{
    cm_config cfg = f->cfg;
    cm_pki *pki = NULL;
    cm_err err;
    assert_int_equal(config_set(&cfg, "signer_lanes", lanes, &err), 0);
    assert_int_equal(pki_open(&cfg, &pki, &err), 0);
    return pki;
}

static void test_close_reaps_a_healthy_signer(void **state)
{
    fixture *f = *state;
    cm_pki *pki = open_with_lanes(f, "3");
    int pids[3];
    assert_int_equal(pki_signer_lanes(pki), 3);
    for (size_t i = 0; i < 3; i++) {
        pids[i] = pki_signer_pid(pki, i);
        assert_false(gone(pids[i]));
    }
    assert_int_equal(pki_signer_pid(pki, 3), -1);
    pki_close(pki);
    for (size_t i = 0; i < 3; i++)
        assert_true(gone(pids[i]));
}

static void test_lane_count_follows_the_config(void **state)
{
    fixture *f = *state;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cores < 1 ? 1 : cores > 16 ? 16 : (size_t)cores;
    assert_int_equal(pki_signer_lanes(f->pki), want); /* the default, 0: one per core */
    cm_pki *pki = open_with_lanes(f, "1");
    assert_int_equal(pki_signer_lanes(pki), 1);
    assert_int_equal(pki_signer_pid(pki, 0), signer_pid(pki->signer));
    pki_close(pki);
    cm_config cfg = f->cfg;
    cm_err err;
    assert_int_equal(config_set(&cfg, "signer_lanes", "17", &err), -1);
    assert_int_equal(config_set(&cfg, "signer_lanes", "-1", &err), -1);
    /* Every lane is a child of its own that signs. */
    pki = open_with_lanes(f, "4");
    for (size_t i = 0; i < 4; i++) {
        assert_true(pki_signer_pid(pki, i) > 0);
        for (size_t k = 0; k < i; k++)
            assert_int_not_equal(pki_signer_pid(pki, i), pki_signer_pid(pki, k));
    }
    assert_true(signer_healthy(pki->signer)); /* a PING through every lane */
    const cm_ca_pub *ca = pki_find_ca(pki, "public-ecdsa");
    for (int i = 0; i < 8; i++) {
        X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
        assert_int_equal(signer_sign_cert(pki->signer, "public-ecdsa", "sha256", x, &err), 0);
        assert_int_equal(X509_verify(x, X509_get0_pubkey(ca->cert)), 1);
        X509_free(x);
    }
    pki_close(pki);
}

/* Waits up to 5 s for pki_signer_healthy to turn false; returns its last value. */
static bool wait_unhealthy(const cm_pki *pki)
{
    bool healthy = true;
    for (int i = 0; i < 500 && healthy; i++) {
        healthy = pki_signer_healthy(pki);
        if (healthy)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return healthy;
}

/* True once `pid`, a child of ours not yet reaped, has exited (a zombie). */
static bool exited(int pid)
{
    char v[64];
    for (int i = 0; i < 500; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *fp = fopen(path, "r");
        if (fp == NULL)
            return true;
        int got = fscanf(fp, "%*d %*s %63s", v);
        fclose(fp);
        if (got == 1 && v[0] == 'Z')
            return true;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return false;
}

static void test_killing_any_lane_makes_the_signer_unavailable(void **state)
{
    fixture *f = *state;
    cm_pki *pki = open_with_lanes(f, "3");
    cm_err err;
    int pids[3];
    for (size_t i = 0; i < 3; i++)
        pids[i] = pki_signer_pid(pki, i);
    assert_true(pki_signer_healthy(pki));
    assert_int_equal(kill(pids[2], SIGKILL), 0); /* the last lane, not the one signer_pid names */
    assert_false(wait_unhealthy(pki));
    /* Every call fails, whichever lane it would take; OCSP and CRLs alike. */
    for (int i = 0; i < 6; i++) {
        X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
        cm_err_clear(&err);
        assert_int_equal(signer_sign_cert(pki->signer, "public-ecdsa", "sha256", x, &err), -1);
        assert_string_equal(err.code, "signer_unavailable");
        X509_free(x);
    }
    unsigned char *der = NULL;
    size_t der_len = 0;
    int64_t now = clock_now();
    cm_err_clear(&err);
    assert_int_equal(crl_make(pki, "public-ecdsa", NULL, 0, 1, now, now + 86400, &der, &der_len,
                              &err),
                     -1);
    assert_string_equal(err.code, "signer_unavailable");
    assert_null(der);
    assert_false(signer_healthy(pki->signer));
    /* The other lanes were killed once the loss was seen. */
    assert_true(exited(pids[0]));
    assert_true(exited(pids[1]));
    assert_false(pki_signer_healthy(pki));
    pki_close(pki);
    for (size_t i = 0; i < 3; i++)
        assert_true(gone(pids[i]));
}

static void test_only_the_signer_opens_the_key_files(void **state)
{
    fixture *f = *state;
    int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
    if (fan < 0)
        skip(); /* needs CAP_SYS_ADMIN; the suite runs as root */
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/ca/%s.key", f->dir, pki_issuers[i].id);
        assert_int_equal(fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, path), 0);
    }
    cm_pki *pki = NULL;
    cm_err err;
    assert_int_equal(pki_open(&f->cfg, &pki, &err), 0);
    size_t lanes = pki_signer_lanes(pki);
    int by_parent = 0, by_child = 0, by_lane[16] = {0};
    unsigned char buf[8192] __attribute__((aligned(8)));
    ssize_t n;
    while ((n = read(fan, buf, sizeof buf)) > 0) {
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)(void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            by_parent += m->pid == getpid();
            for (size_t i = 0; i < lanes; i++)
                if (m->pid == pki_signer_pid(pki, i)) {
                    by_child++;
                    by_lane[i]++;
                }
            if (m->fd >= 0)
                close(m->fd);
        }
    }
    close(fan);
    assert_int_equal(by_parent, 0);
    assert_int_equal(by_child, PKI_N_ISSUERS * (int)lanes); /* each lane loads its own keys */
    for (size_t i = 0; i < lanes; i++)
        assert_int_equal(by_lane[i], PKI_N_ISSUERS);
    assert_true(pki_signer_healthy(pki));
    pki_close(pki);
}

/* The value of "Key:" in /proc/PID/FILE, or "" when absent. */
static void proc_field(int pid, const char *file, const char *key, char *out, size_t outsz)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    FILE *fp = fopen(path, "r");
    out[0] = '\0';
    assert_non_null(fp);
    while (fgets(line, sizeof line, fp) != NULL)
        if (strncmp(line, key, strlen(key)) == 0) {
            const char *v = line + strlen(key);
            v += strspn(v, " \t:");
            snprintf(out, outsz, "%.*s", (int)strcspn(v, "\n"), v);
            break;
        }
    fclose(fp);
}

/* One lane's child: no_new_privs, seccomp, zero limits, only its socket left open. */
static void check_confined(int pid)
{
    char v[128];
    proc_field(pid, "status", "NoNewPrivs", v, sizeof v);
    assert_string_equal(v, "1");
    proc_field(pid, "status", "Seccomp", v, sizeof v);
    assert_string_equal(v, "2"); /* a filter is installed */
    proc_field(pid, "limits", "Max open files", v, sizeof v);
    assert_int_equal(strtol(v, NULL, 10), 0);
    proc_field(pid, "limits", "Max file size", v, sizeof v);
    assert_int_equal(strtol(v, NULL, 10), 0);
    proc_field(pid, "limits", "Max core file size", v, sizeof v);
    assert_int_equal(strtol(v, NULL, 10), 0);
    if (geteuid() == 0) { /* a non-dumpable process's fd directory is root's */
        char path[64];
        int fds = 0;
        snprintf(path, sizeof path, "/proc/%d/fd", pid);
        DIR *d = opendir(path);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.') {
                long fd = strtol(de->d_name, NULL, 10);
                assert_true(fd >= 0 && fd <= 3); /* stdin, stdout, stderr, the socket */
                fds++;
            }
        closedir(d);
        assert_int_equal(fds, 4);
    }
}

static void test_signer_child_is_confined(void **state)
{
    fixture *f = *state;
    assert_true(pki_signer_lanes(f->pki) >= 1);
    for (size_t i = 0; i < pki_signer_lanes(f->pki); i++)
        check_confined(pki_signer_pid(f->pki, i));
    cm_pki *pki = open_with_lanes(f, "3"); /* whatever the number of cores */
    for (size_t i = 0; i < 3; i++)
        check_confined(pki_signer_pid(pki, i));
    pki_close(pki);
}

typedef struct signing_thread {
    fixture *f;
    int ok;
} signing_thread;

/* Issues 10 certificates and counts those that verify with the CA key. */
static void *sign_many(void *arg)
{
    signing_thread *t = arg;
    const cm_product *p = product_find("ssl_dv_geotrust");
    cm_name_policy pol = product_name_policy(p);
    const cm_ca_pub *ca = pki_find_ca(t->f->pki, "public-ecdsa");
    cm_name name;
    cm_err err;
    if (name_normalize("www.example.com", &pol, &name, &err) != 0)
        return NULL;
    for (int i = 0; i < 10; i++) {
        cm_csr *csr = NULL;
        cm_cert *cert = NULL;
        cm_issue_req req = {
            .product = p, .names = &name, .n_names = 1, .cn_index = 0, .issuer = ISSUER_ECDSA};
        if (csr_parse(t->f->csr_der, (size_t)t->f->csr_len, &csr, &err) == 0 &&
            cert_issue(t->f->pki, csr, &req, &cert, &err) == 0) {
            size_t len = 0;
            const unsigned char *der = cert_der(cert, &len);
            X509 *x = d2i_X509(NULL, &der, (long)len);
            t->ok += x != NULL && X509_verify(x, X509_get0_pubkey(ca->cert)) == 1;
            X509_free(x);
        }
        cert_free(cert);
        csr_free(csr);
    }
    return NULL;
}

static void test_threads_sign_at_once(void **state)
{
    fixture *f = *state;
    pthread_t th[4];
    signing_thread t[4];
    for (int i = 0; i < 4; i++) {
        t[i].f = f;
        t[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, sign_many, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(t[i].ok, 10);
    }
}

typedef struct lane_thread {
    cm_pki *pki;
    X509 *x;
    int rc;
    atomic_int done;
} lane_thread;

/* Has the signer sign t->x once. */
static void *sign_once(void *arg)
{
    lane_thread *t = arg;
    cm_err err;
    t->rc = signer_sign_cert(t->pki->signer, "public-ecdsa", "sha256", t->x, &err);
    atomic_store(&t->done, 1);
    return NULL;
}

static int count_done(lane_thread *t)
{
    return atomic_load(&t[0].done) + atomic_load(&t[1].done);
}

static void pause_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000 * 1000}, NULL);
}

/* Two lanes, both children stopped (SIGSTOP): two threads each send a certificate, and each
 * waits on a lane of its own. Resuming lane 0 alone lets exactly one signature through (were
 * the second thread queued behind the first on one lane, both would pass); resuming lane 1
 * lets the other through. Both signatures verify. */
static void test_two_threads_sign_through_two_lanes_at_once(void **state)
{
    fixture *f = *state;
    cm_pki *pki = open_with_lanes(f, "2");
    const cm_ca_pub *ca = pki_find_ca(pki, "public-ecdsa");
    int pid0 = pki_signer_pid(pki, 0), pid1 = pki_signer_pid(pki, 1);
    pthread_t th[2];
    lane_thread t[2];
    for (int i = 0; i < 2; i++) {
        t[i].pki = pki;
        t[i].x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
        t[i].rc = 1;
        atomic_init(&t[i].done, 0);
        /* Drop the fixture's signature: it must come back from this engine's lanes. */
        const ASN1_BIT_STRING *sig = NULL;
        X509_get0_signature(&sig, NULL, t[i].x);
        ASN1_BIT_STRING_set((ASN1_BIT_STRING *)(uintptr_t)sig, (unsigned char *)"x", 1);
        assert_int_not_equal(X509_verify(t[i].x, X509_get0_pubkey(ca->cert)), 1);
    }
    assert_int_equal(kill(pid0, SIGSTOP), 0);
    assert_int_equal(kill(pid1, SIGSTOP), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, sign_once, &t[i]), 0);
    pause_ms(400); /* both threads have taken a lane and sent */
    assert_int_equal(count_done(t), 0);
    assert_int_equal(kill(pid0, SIGCONT), 0);
    for (int i = 0; i < 500 && count_done(t) == 0; i++)
        pause_ms(10);
    pause_ms(300);
    int after_lane0 = count_done(t);
    assert_int_equal(kill(pid1, SIGCONT), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(after_lane0, 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(t[i].rc, 0);
        assert_int_equal(X509_verify(t[i].x, X509_get0_pubkey(ca->cert)), 1);
        X509_free(t[i].x);
    }
    assert_true(pki_signer_healthy(pki));
    pki_close(pki);
}

/* A clock pinned before the engine opens is the signer's clock too (the child is a fork). */
static void test_signer_inherits_a_pinned_clock(void **state)
{
    fixture *f = *state;
    cm_pki *pki = NULL;
    cm_err err;
    int64_t later = clock_now() + 120 * 86400; /* far outside the signer's 48-hour window */
    clock_set_fixed(later);
    int rc = pki_open(&f->cfg, &pki, &err);
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    cm_name name;
    const cm_product *p = product_find("ssl_dv_geotrust");
    cm_name_policy pol = product_name_policy(p);
    cm_issue_req req = {.product = p, .names = &name, .n_names = 1, .cn_index = 0,
                        .issuer = ISSUER_ECDSA};
    if (rc == 0 && csr_parse(f->csr_der, (size_t)f->csr_len, &csr, &err) == 0 &&
        name_normalize("www.example.com", &pol, &name, &err) == 0)
        rc = cert_issue(pki, csr, &req, &cert, &err);
    clock_set_fixed(0);
    assert_int_equal(rc, 0);
    assert_int_equal(cert_not_before(cert), later);
    cert_free(cert);
    csr_free(csr);
    /* The fixture's signer was forked with the real clock: it refuses that notBefore. */
    X509 *x = issued(f, "ssl_dv_geotrust", ISSUER_ECDSA);
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)later);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(later + 30 * 86400));
    expect_refused(f, "public-ecdsa", "sha256", x);
    pki_close(pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signer_signs_a_good_certificate_again),
        cmocka_unit_test(test_signer_refuses_ca_true),
        cmocka_unit_test(test_signer_refuses_cert_sign_key_usage),
        cmocka_unit_test(test_signer_refuses_foreign_issuer),
        cmocka_unit_test(test_signer_refuses_over_long_validity),
        cmocka_unit_test(test_signer_refuses_backdated_not_before),
        cmocka_unit_test(test_signer_refuses_unknown_profile),
        cmocka_unit_test(test_signer_refuses_hash_the_key_may_not_use),
        cmocka_unit_test(test_signer_refuses_unknown_ca),
        cmocka_unit_test(test_ca_keys_are_encrypted_and_need_the_passphrase),
        cmocka_unit_test(test_signer_answers_malformed_messages_with_an_error),
        cmocka_unit_test(test_killed_signer_is_unavailable_and_reaped),
        cmocka_unit_test(test_close_reaps_a_healthy_signer),
        cmocka_unit_test(test_lane_count_follows_the_config),
        cmocka_unit_test(test_killing_any_lane_makes_the_signer_unavailable),
        cmocka_unit_test(test_only_the_signer_opens_the_key_files),
        cmocka_unit_test(test_signer_child_is_confined),
        cmocka_unit_test(test_threads_sign_at_once),
        cmocka_unit_test(test_two_threads_sign_through_two_lanes_at_once),
        cmocka_unit_test(test_signer_inherits_a_pinned_clock),
    };
    return cmocka_run_group_tests_name("signer", tests, setup, teardown);
}
