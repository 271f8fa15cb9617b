/* test_signer.c — the signer process. Its hard limits: it re-signs a good certificate, and
 * refuses a CA certificate, a CA key usage, a foreign issuer, an over-long or back-dated
 * validity, a public certificate without exactly one CA/B policy, a private one with a policy, a
 * hash its key may not use, and an unknown CA — whatever the caller built. Also: CA keys stay
 * encrypted at rest and a wrong passphrase is refused; malformed messages get an error reply
 * and leave the signer serving; a killed signer makes calls fail with `signer_unavailable`
 * (healthy = false) and is reaped on close; only the child opens the key files (fanotify); the
 * child runs confined (no_new_privs, seccomp, no descriptors left, RLIMIT_NOFILE 0); threads
 * may sign at once; and a clock pinned before the engine opens holds in the signer too. */
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
    pki_close(pki);
    assert_true(gone(pid));
}

static void test_close_reaps_a_healthy_signer(void **state)
{
    fixture *f = *state;
    cm_pki *pki = NULL;
    cm_err err;
    assert_int_equal(pki_open(&f->cfg, &pki, &err), 0);
    int pid = signer_pid(pki->signer);
    assert_false(gone(pid));
    pki_close(pki);
    assert_true(gone(pid));
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
    int child = signer_pid(pki->signer);
    int by_parent = 0, by_child = 0;
    unsigned char buf[8192] __attribute__((aligned(8)));
    ssize_t n;
    while ((n = read(fan, buf, sizeof buf)) > 0) {
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)(void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            by_parent += m->pid == getpid();
            by_child += m->pid == child;
            if (m->fd >= 0)
                close(m->fd);
        }
    }
    close(fan);
    assert_int_equal(by_parent, 0);
    assert_int_equal(by_child, PKI_N_ISSUERS);
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

static void test_signer_child_is_confined(void **state)
{
    fixture *f = *state;
    int pid = signer_pid(f->pki->signer);
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
        cmocka_unit_test(test_only_the_signer_opens_the_key_files),
        cmocka_unit_test(test_signer_child_is_confined),
        cmocka_unit_test(test_threads_sign_at_once),
        cmocka_unit_test(test_signer_inherits_a_pinned_clock),
    };
    return cmocka_run_group_tests_name("signer", tests, setup, teardown);
}
