/* test_jobs.c — the jobs runner (src/jobs/) against a real SQLite store and a real CA: a mail
 * job spools its outbox row and marks it sent (and a row already sent is not delivered again);
 * a mail to an unreachable SMTP server is retried with exponential backoff and fails after
 * max_attempts; a job of an unknown kind fails; crl_refresh signs the CRLs of the four issuing
 * CAs (signature checked with OpenSSL against each CA certificate) with a revoked serial and
 * CRLNumbers that increase across runs and restarts; the first request makes a missing CRL; the
 * scheduler queues a refresh when a CRL is missing, dirty or old; two worker threads deliver 50
 * queued mails exactly once each. The clock is moved with clock_set_fixed. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "jobs/jobs.h"
#include "service/order.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/str.h"

#define POOL_SIZE 4 /* two workers, the scheduler, the test itself */

/* One CA hierarchy and one engine for the whole group (opening the signer decrypts every CA
 * key: seconds under ASan); each test copies the hierarchy into a fresh data directory. */
static char ca_template[64];
static cm_pki *group_pki;

typedef struct fixture {
    char dir[64];
    cm_config cfg;
    cm_store_pool *pool;
    cm_pki *pki;
    cm_jobs_opts opts;
} fixture;

/* The CRL to serve, through the service (as GET /crl/{ca}.crl asks for it). */
static int crl_current(fixture *f, cm_store *st, const char *ca_id, cm_crl_row *row, cm_err *err)
{
    cm_svc svc = {.cfg = &f->cfg, .pki = f->pki, .st = st};
    return svc_crl_current(&svc, ca_id, row, err);
}

static void rm_rf(const char *dir)
{
    char cmd[256];
    assert_true(snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd);
    assert_int_equal(system(cmd), 0);
}

/* A copy of the group's CA hierarchy into a fresh data directory. */
static void copy_ca(const char *dir)
{
    char cmd[256];
    assert_true(snprintf(cmd, sizeof cmd, "cp -a '%s/ca' '%s/ca'", ca_template, dir) <
                (int)sizeof cmd);
    assert_int_equal(system(cmd), 0);
}

static int group_setup(void **state)
{
    (void)state;
    cm_config cfg;
    cm_err err;
    snprintf(ca_template, sizeof ca_template, "/tmp/certmint-jobs-ca-XXXXXX");
    assert_non_null(mkdtemp(ca_template));
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "dir", ca_template, &err), 0);
    cm_init_opts o = {"certmint test", "XX", 2048, 2048};
    assert_int_equal(ca_init(&cfg, &o, &err), 0);
    assert_int_equal(pki_open(&cfg, &group_pki, &err), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pki_close(group_pki);
    rm_rf(ca_template);
    return 0;
}

static void open_stores(fixture *f)
{
    cm_err err;
    cm_store *st = NULL;
    assert_int_equal(store_open(&f->cfg, true, &st, &err), 0);
    store_close(st);
    assert_int_equal(store_pool_open(&f->cfg, POOL_SIZE, &f->pool, &err), 0);
    f->opts.stores = f->pool;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cm_err err;
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/certmint-jobs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    copy_ca(f->dir);
    config_defaults(&f->cfg);
    assert_int_equal(config_set(&f->cfg, "dir", f->dir, &err), 0);
    open_stores(f);
    f->pki = group_pki;
    f->opts = (cm_jobs_opts){.cfg = &f->cfg,
                             .pki = f->pki,
                             .stores = f->pool,
                             .threads = 2,
                             .poll_ms = 20,
                             .lease_secs = 120};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    clock_set_fixed(0);
    store_pool_close(f->pool);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* Queues mail number `seq` (its body carries "X-Seq: <seq>") with a delivery job. */
static int64_t queue_mail(fixture *f, int seq, int max_attempts)
{
    cm_err err;
    char msg[512];
    cm_mail_row m;
    cm_job j;
    cm_store *st = store_pool_get(f->pool);
    int n = snprintf(msg, sizeof msg,
                     "From: certmint@localhost\r\nTo: user%d@example.com\r\nSubject: test %d\r\n"
                     "X-Seq: %d\r\n\r\nbody %d\r\n",
                     seq, seq, seq, seq);
    memset(&m, 0, sizeof m);
    memset(&j, 0, sizeof j);
    snprintf(m.to_addr, sizeof m.to_addr, "user%d@example.com", seq);
    snprintf(m.subject, sizeof m.subject, "test %d", seq);
    m.created_at = clock_now();
    m.message = (unsigned char *)msg;
    m.message_len = (size_t)n;
    assert_int_equal(store_begin(st, &err), 0);
    assert_int_equal(store_mail_insert(st, &m, &err), 0);
    str_copy(j.kind, sizeof j.kind, "mail");
    snprintf(j.payload, sizeof j.payload, "{\"mail_id\":%lld}", (long long)m.id);
    j.run_at = clock_now();
    j.max_attempts = max_attempts;
    assert_int_equal(store_job_enqueue(st, &j, &err), 0);
    assert_int_equal(store_commit(st, &err), 0);
    store_pool_put(f->pool, st);
    return m.id;
}

static void mail_status(fixture *f, int64_t id, char *buf, size_t bufsz)
{
    cm_err err;
    cm_mail_row m;
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_mail_get(st, id, &m, &err), 0);
    str_copy(buf, bufsz, m.status);
    free(m.message);
    store_pool_put(f->pool, st);
}

static void job_counts(fixture *f, int64_t *queued, int64_t *running, int64_t *failed)
{
    cm_err err;
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_job_counts(st, queued, running, failed, &err), 0);
    store_pool_put(f->pool, st);
}

static int run_due(fixture *f, const cm_jobs_opts *o)
{
    cm_err err;
    int ran = -1;
    (void)f;
    assert_int_equal(jobs_run_due(o, &ran, &err), 0);
    return ran;
}

/* Counts the spooled .eml files; with `seen` (n entries), counts each X-Seq number found. */
static int count_spool(fixture *f, int *seen, int n)
{
    char dir[256], path[600];
    int count = 0;
    snprintf(dir, sizeof dir, "%s/spool/mail", f->dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".eml") != 0 ||
            strstr(e->d_name, ".tmp-") != NULL)
            continue;
        count++;
        if (seen == NULL)
            continue;
        unsigned char *data = NULL;
        size_t dlen = 0;
        cm_err err;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(file_read_all(path, 65536, &data, &dlen, &err), 0);
        const char *x = strstr((const char *)data, "X-Seq: ");
        assert_non_null(x);
        long v = strtol(x + 7, NULL, 10);
        assert_true(v >= 0 && v < n);
        seen[v]++;
        free(data);
    }
    closedir(d);
    return count;
}

/* ---- mail ---- */

static void test_mail_job_spools_and_marks_sent(void **state)
{
    fixture *f = *state;
    char status[16];
    int64_t q, r, fl;
    int64_t id = queue_mail(f, 0, 8);
    assert_int_equal(run_due(f, &f->opts), 1);
    assert_int_equal(count_spool(f, NULL, 0), 1);
    mail_status(f, id, status, sizeof status);
    assert_string_equal(status, "sent");
    job_counts(f, &q, &r, &fl);
    assert_true(q == 0 && r == 0 && fl == 0); /* the job is done */
    assert_int_equal(run_due(f, &f->opts), 0);
    assert_int_equal(count_spool(f, NULL, 0), 1);
}

static void test_mail_job_of_a_sent_row_delivers_nothing(void **state)
{
    fixture *f = *state;
    cm_err err;
    int64_t q, r, fl;
    int64_t id = queue_mail(f, 0, 8);
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_mail_set_status(st, id, "sent", clock_now(), &err), 0);
    store_pool_put(f->pool, st);
    assert_int_equal(run_due(f, &f->opts), 1);
    assert_int_equal(count_spool(f, NULL, 0), 0);
    job_counts(f, &q, &r, &fl);
    assert_true(q == 0 && r == 0 && fl == 0);
}

static void test_mail_to_unreachable_smtp_backs_off_then_fails(void **state)
{
    fixture *f = *state;
    cm_err err;
    cm_config cfg = f->cfg;
    cm_jobs_opts o = f->opts;
    char status[16];
    int64_t q, r, fl;
    int64_t t = clock_now();
    assert_int_equal(config_set(&cfg, "smtp_url", "smtp://127.0.0.1:1", &err), 0);
    o.cfg = &cfg;
    clock_set_fixed(t);
    int64_t id = queue_mail(f, 0, 3);

    assert_int_equal(run_due(f, &o), 1); /* attempt 1 fails: next in 30 s */
    mail_status(f, id, status, sizeof status);
    assert_string_equal(status, "queued");
    job_counts(f, &q, &r, &fl);
    assert_true(q == 1 && fl == 0);
    clock_set_fixed(t + 29);
    assert_int_equal(run_due(f, &o), 0);
    clock_set_fixed(t + 30);
    assert_int_equal(run_due(f, &o), 1); /* attempt 2 fails: next in 60 s */
    clock_set_fixed(t + 30 + 59);
    assert_int_equal(run_due(f, &o), 0);
    clock_set_fixed(t + 30 + 60);
    assert_int_equal(run_due(f, &o), 1); /* attempt 3 of 3: failed for good */
    mail_status(f, id, status, sizeof status);
    assert_string_equal(status, "failed");
    job_counts(f, &q, &r, &fl);
    assert_true(q == 0 && r == 0 && fl == 1);
    clock_set_fixed(t + 86400);
    assert_int_equal(run_due(f, &o), 0);
    assert_int_equal(count_spool(f, NULL, 0), 0);
}

/* ---- dispatch ---- */

static void test_job_of_unknown_kind_fails(void **state)
{
    fixture *f = *state;
    cm_err err;
    cm_job j;
    int64_t q, r, fl;
    memset(&j, 0, sizeof j);
    str_copy(j.kind, sizeof j.kind, "no_such_kind");
    str_copy(j.payload, sizeof j.payload, "{}");
    j.run_at = clock_now();
    j.max_attempts = 5; /* fails at the first attempt anyway: no retry can mend it */
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_job_enqueue(st, &j, &err), 0);
    store_pool_put(f->pool, st);
    assert_int_equal(run_due(f, &f->opts), 1);
    job_counts(f, &q, &r, &fl);
    assert_true(q == 0 && r == 0 && fl == 1);
}

/* ---- CRLs ---- */

static const char *const cas[] = {"public-ecdsa", "public-rsa", "private-ecdsa", "private-rsa"};

/* Inserts a revoked certificate row of `ca_id` (account and order to hang it on) and writes
 * its serial into `serial`. */
static void insert_revoked(fixture *f, const char *ca_id, int reason, char serial[41])
{
    cm_err err;
    cm_account a;
    cm_order o;
    cm_order_name nm;
    cm_cert_row c;
    unsigned char rnd[16], der[3] = {0x30, 0x01, 0x00};
    memset(&a, 0, sizeof a);
    memset(&o, 0, sizeof o);
    memset(&nm, 0, sizeof nm);
    memset(&c, 0, sizeof c);
    assert_int_equal(random_bytes(rnd, sizeof rnd), 0);
    rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x10); /* positive, no leading zero */
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(serial + 2 * i, 3, "%02x", rnd[i]);
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_begin(st, &err), 0);
    str_copy(a.name, sizeof a.name, "Example");
    a.created_at = clock_now();
    assert_int_equal(store_account_insert(st, &a, &err), 0);
    o.account_id = a.id;
    str_copy(o.product, sizeof o.product, "ssl_plus");
    str_copy(o.status, sizeof o.status, "revoked");
    str_copy(o.common_name, sizeof o.common_name, "www.example.com");
    str_copy(nm.name, sizeof nm.name, "www.example.com");
    o.names = &nm;
    o.n_names = 1;
    o.validity_years = 1;
    str_copy(o.issuer, sizeof o.issuer, "ecdsa");
    o.created_at = clock_now();
    assert_int_equal(store_order_insert(st, &o, &err), 0);
    c.account_id = a.id;
    c.order_id = o.id;
    str_copy(c.kind, sizeof c.kind, "original");
    str_copy(c.status, sizeof c.status, "revoked");
    str_copy(c.ca_id, sizeof c.ca_id, ca_id);
    str_copy(c.serial, sizeof c.serial, serial);
    memcpy(c.spki_sha256, rnd, 16);
    c.not_before = clock_now() - 86400;
    c.not_after = clock_now() + 86400 * 90;
    c.revoked_at = clock_now() - 100;
    c.revocation_reason = reason;
    c.der = der;
    c.der_len = sizeof der;
    assert_int_equal(store_cert_insert(st, &c, &err), 0);
    assert_int_equal(store_crl_mark_dirty(st, ca_id, &err), 0);
    assert_int_equal(store_commit(st, &err), 0);
    store_pool_put(f->pool, st);
}

/* Loads the stored CRL of `ca_id`, checks it against the CA certificate (issuer, signature,
 * CRLNumber = `number`, validity window) and returns how many entries it has; with `serial`,
 * also that this serial is listed with `reason`. */
static int check_crl(fixture *f, const char *ca_id, uint64_t number, int64_t now,
                     const char *serial, int reason)
{
    cm_err err;
    cm_crl_row row;
    size_t ca_len = 0;
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_crl_get(st, ca_id, &row, &err), 0);
    store_pool_put(f->pool, st);
    assert_int_equal(row.number, number);
    assert_false(row.dirty);
    assert_int_equal(row.this_update, now);
    assert_int_equal(row.next_update, now + 7 * 86400);

    const unsigned char *p = row.der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)row.der_len);
    assert_non_null(crl);
    const unsigned char *cp = pki_ca_der(f->pki, ca_id, &ca_len);
    assert_non_null(cp);
    X509 *ca = d2i_X509(NULL, &cp, (long)ca_len);
    assert_non_null(ca);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)), 0);
    assert_int_equal(X509_CRL_get_version(crl), 1); /* v2 */
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    assert_non_null(num);
    assert_int_equal(ASN1_INTEGER_get(num), (long)number);
    ASN1_INTEGER_free(num);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)now), 0);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), (time_t)now + 7 * 86400),
                     0);
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    int n = revs != NULL ? sk_X509_REVOKED_num(revs) : 0; /* no entries: the field is absent */
    if (serial != NULL) {
        BIGNUM *bn = NULL;
        X509_REVOKED *rev = NULL;
        assert_true(BN_hex2bn(&bn, serial) > 0);
        ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
        assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, ai), 1);
        ASN1_ENUMERATED *r = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
        assert_non_null(r);
        assert_int_equal(ASN1_ENUMERATED_get(r), reason);
        ASN1_ENUMERATED_free(r);
        ASN1_INTEGER_free(ai);
        BN_free(bn);
    }
    X509_free(ca);
    X509_CRL_free(crl);
    free(row.der);
    return n;
}

static void enqueue_refresh(fixture *f)
{
    cm_err err;
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(store_begin(st, &err), 0);
    assert_int_equal(jobs_enqueue_crl_refresh(st, clock_now(), &err), 0);
    assert_int_equal(jobs_enqueue_crl_refresh(st, clock_now(), &err), 0); /* unique: no-op */
    assert_int_equal(store_commit(st, &err), 0);
    store_pool_put(f->pool, st);
}

static void test_crl_refresh_signs_every_ca_with_increasing_numbers(void **state)
{
    fixture *f = *state;
    char serial[41];
    int64_t t = clock_now();
    clock_set_fixed(t);
    insert_revoked(f, "public-ecdsa", 1, serial);

    enqueue_refresh(f);
    assert_int_equal(run_due(f, &f->opts), 1); /* the second enqueue was a no-op */
    assert_int_equal(check_crl(f, "public-ecdsa", 1, t, serial, 1), 1);
    for (size_t i = 1; i < 4; i++)
        assert_int_equal(check_crl(f, cas[i], 1, t, NULL, 0), 0);

    clock_set_fixed(t + 60);
    enqueue_refresh(f);
    assert_int_equal(run_due(f, &f->opts), 1);
    for (size_t i = 0; i < 4; i++)
        check_crl(f, cas[i], 2, t + 60, i == 0 ? serial : NULL, 1);

    /* A restart (new connections; the number lives in the store only): it continues. */
    store_pool_close(f->pool);
    open_stores(f);
    clock_set_fixed(t + 120);
    enqueue_refresh(f);
    assert_int_equal(run_due(f, &f->opts), 1);
    for (size_t i = 0; i < 4; i++)
        check_crl(f, cas[i], 3, t + 120, i == 0 ? serial : NULL, 1);
}

static void test_crl_current_makes_a_missing_crl_once(void **state)
{
    fixture *f = *state;
    cm_err err;
    cm_crl_row row;
    char serial[41];
    int64_t t = clock_now();
    clock_set_fixed(t);
    insert_revoked(f, "private-rsa", 4, serial); /* also leaves a dirty row without a CRL */
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(crl_current(f, st, "private-rsa", &row, &err), 0);
    assert_int_equal(row.number, 1);
    assert_non_null(row.der);
    free(row.der);
    clock_set_fixed(t + 10); /* served again, not re-made */
    assert_int_equal(crl_current(f, st, "private-rsa", &row, &err), 0);
    assert_int_equal(row.number, 1);
    assert_int_equal(row.this_update, t);
    free(row.der);
    assert_int_equal(crl_current(f, st, "private-rsa-root", &row, &err), -1);
    assert_string_equal(err.code, "ca_unknown");
    assert_int_equal(crl_current(f, st, "../x", &row, &err), -1);
    assert_string_equal(err.code, "ca_unknown");
    store_pool_put(f->pool, st);
    assert_int_equal(check_crl(f, "private-rsa", 1, t, serial, 4), 1);
    /* Past its nextUpdate the stored CRL is not served: a new one is made. */
    clock_set_fixed(t + 7 * 86400);
    st = store_pool_get(f->pool);
    assert_int_equal(crl_current(f, st, "private-rsa", &row, &err), 0);
    assert_int_equal(row.number, 2);
    free(row.der);
    store_pool_put(f->pool, st);
}

static void test_scheduler_queues_refresh_when_crl_missing_dirty_or_old(void **state)
{
    fixture *f = *state;
    cm_err err;
    bool queued = true;
    int64_t t = clock_now();
    clock_set_fixed(t);
    cm_store *st = store_pool_get(f->pool);
    assert_int_equal(jobs_schedule_once(st, t, &queued, &err), 0);
    assert_true(queued); /* no CRL yet */
    store_pool_put(f->pool, st);
    assert_int_equal(run_due(f, &f->opts), 1);

    st = store_pool_get(f->pool);
    assert_int_equal(jobs_schedule_once(st, t + 60, &queued, &err), 0);
    assert_false(queued); /* all fresh */
    assert_int_equal(jobs_schedule_once(st, t + 3 * 86400, &queued, &err), 0);
    assert_false(queued); /* exactly three days old: not yet */
    assert_int_equal(store_crl_mark_dirty(st, "private-ecdsa", &err), 0);
    assert_int_equal(jobs_schedule_once(st, t + 60, &queued, &err), 0);
    assert_true(queued); /* a revocation */
    assert_int_equal(jobs_schedule_once(st, t + 60, &queued, &err), 0);
    store_pool_put(f->pool, st);
    clock_set_fixed(t + 60);
    assert_int_equal(run_due(f, &f->opts), 1); /* one job: the unique key held */

    st = store_pool_get(f->pool);
    assert_int_equal(jobs_schedule_once(st, t + 120, &queued, &err), 0);
    assert_false(queued);
    assert_int_equal(jobs_schedule_once(st, t + 60 + 3 * 86400, &queued, &err), 0);
    assert_false(queued);
    assert_int_equal(jobs_schedule_once(st, t + 60 + 3 * 86400 + 1, &queued, &err), 0);
    assert_true(queued); /* the CRLs (made at t + 60) are over three days old */
    store_pool_put(f->pool, st);
    clock_set_fixed(t + 60 + 3 * 86400 + 1);
    assert_int_equal(run_due(f, &f->opts), 1);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(check_crl(f, cas[i], 3, t + 60 + 3 * 86400 + 1, NULL, 0), 0);
}

/* ---- threads ---- */

static void test_two_workers_deliver_50_mails_exactly_once(void **state)
{
    fixture *f = *state;
    cm_err err;
    cm_jobs *jobs = NULL;
    int seen[50] = {0};
    int64_t ids[50], q = 1, r = 1, fl = 0;
    char status[16];
    for (int i = 0; i < 50; i++)
        ids[i] = queue_mail(f, i, 8);
    assert_int_equal(jobs_start(&f->opts, &jobs, &err), 0);
    for (int waited = 0; waited < 60000 && (q > 0 || r > 0); waited += 50) {
        usleep(50 * 1000);
        job_counts(f, &q, &r, &fl);
    }
    jobs_stop(jobs);
    assert_true(q == 0 && r == 0 && fl == 0);
    assert_int_equal(count_spool(f, seen, 50), 50);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(seen[i], 1);
        mail_status(f, ids[i], status, sizeof status);
        assert_string_equal(status, "sent");
    }
}

static void test_jobs_start_refuses_bad_options(void **state)
{
    fixture *f = *state;
    cm_err err;
    cm_jobs *jobs = (cm_jobs *)1;
    cm_jobs_opts o = f->opts;
    o.threads = 0;
    assert_int_equal(jobs_start(&o, &jobs, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    assert_null(jobs);
    o = f->opts;
    o.lease_secs = 1;
    assert_int_equal(jobs_start(&o, &jobs, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    jobs_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mail_job_spools_and_marks_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_job_of_a_sent_row_delivers_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mail_to_unreachable_smtp_backs_off_then_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_job_of_unknown_kind_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_refresh_signs_every_ca_with_increasing_numbers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_current_makes_a_missing_crl_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduler_queues_refresh_when_crl_missing_dirty_or_old,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_workers_deliver_50_mails_exactly_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_jobs_start_refuses_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests_name("jobs", tests, group_setup, group_teardown);
}
