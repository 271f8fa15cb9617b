/* runner.c — the jobs runner: worker threads that lease due jobs from the store and dispatch
 * them by kind through one table, and a scheduler thread that queues periodic work.
 *
 * A worker holds a store connection from the pool only while it leases and runs a job, never
 * while it sleeps. A job that fails is re-queued with exponential backoff (30 s × 2^(attempts-1),
 * at most 1 h) and its error text, and fails for good after max_attempts; the store's lease
 * makes a job that was running on a crashed worker or node due again once the lease expires,
 * which is why every handler is idempotent. One log line per job run. */
#include "jobs/jobs.h"
#include "service/order.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

/* ---- the dispatch table ---- */

typedef int (*job_fn)(const cm_job_ctx *c, cm_err *err);

typedef struct job_kind {
    const char *kind;
    job_fn run;
} job_kind;

static const job_kind kinds[] = {
    {"mail", job_mail_run},
    {"crl_refresh", job_crl_refresh_run},
    {"dcv_recheck", job_dcv_recheck_run},
    {"revoke_pending", job_revoke_pending_run},
    {"lifecycle", job_lifecycle_run},
};

static const job_kind *kind_find(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

/* ---- one job ---- */

/* Seconds before the next attempt after `attempts` runs: 30, 60, 120, … capped at 1 h. */
static int64_t backoff_secs(int attempts)
{
    int64_t s = JOBS_BACKOFF_FIRST;
    for (int i = 1; i < attempts && s < JOBS_BACKOFF_MAX; i++)
        s *= 2;
    return s < JOBS_BACKOFF_MAX ? s : JOBS_BACKOFF_MAX;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A copy of a store text safe to print as a log value: [A-Za-z0-9_.-] kept, the rest '?'. */
static void log_safe(const char *s, char *buf, size_t bufsz)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < bufsz; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        buf[i] = ok ? ch : '?';
    }
    buf[i] = '\0';
}

/* Leases the oldest due job on `st` and runs it to its outcome (done, retry, failed).
 * *got = false when no job was due. Returns -1 only when the store failed to lease or to
 * record the outcome (then the lease expires and the job runs again). */
static int run_one(const cm_jobs_opts *o, cm_store *st, bool *got, cm_err *err)
{
    cm_job job;
    cm_err jerr, serr;
    char text[sizeof job.last_error], kind[sizeof job.kind];
    int64_t now = clock_now();
    const char *outcome = "done";
    int rc = -1;

    memset(&job, 0, sizeof job);
    *got = false;
    if (store_job_lease(st, now, o->lease_secs, &job, got, err) != 0)
        return -1;
    if (!*got)
        return 0;
    int64_t t0 = mono_ms();
    cm_err_clear(&jerr);
    cm_err_clear(&serr);
    const job_kind *k = kind_find(job.kind);
    int jrc;
    if (k == NULL) {
        jrc = cm_err_set(&jerr, "job_kind_unknown",
                         "no handler for jobs of this kind; this node runs mail and "
                         "crl_refresh jobs only");
    } else {
        cm_job_ctx c = {.o = o, .st = st, .job = &job, .now = now};
        jrc = k->run(&c, &jerr);
    }
    if (jrc == 0) {
        if (store_job_done(st, job.id, &serr) != 0)
            goto out;
    } else {
        /* Errors no retry can mend fail the job at once; the rest back off and retry. */
        bool permanent = strcmp(jerr.code, "job_kind_unknown") == 0 ||
                         strcmp(jerr.code, "mail_invalid") == 0;
        outcome = permanent || job.attempts >= job.max_attempts ? "failed" : "retry";
        /* The error text goes to the jobs table: codes and messages never carry secrets
         * (mail.c redacts SMTP credentials). */
        if (snprintf(text, sizeof text, "%s: %s", jerr.code, jerr.msg) >= (int)sizeof text)
            text[sizeof text - 2] = '~'; /* mark the cut; the column is bounded */
        if ((permanent ? store_job_fail(st, job.id, text, &serr)
                       : store_job_retry(st, job.id, text, now + backoff_secs(job.attempts),
                                         &serr)) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        outcome = "unrecorded";
        if (err != NULL)
            *err = serr;
    }
    log_safe(job.kind, kind, sizeof kind);
    log_msg(jrc == 0 && rc == 0 ? LOG_INFO : LOG_WARN,
            "event=job id=%lld kind=%s attempt=%d/%d outcome=%s ms=%lld%s%s", (long long)job.id,
            kind, job.attempts, job.max_attempts, outcome, (long long)(mono_ms() - t0),
            jrc != 0 ? " error=" : "", jrc != 0 ? jerr.code : "");
    return rc;
}

static int opts_check(const cm_jobs_opts *o, bool threaded, cm_err *err)
{
    if (o == NULL || o->cfg == NULL || o->stores == NULL)
        return cm_err_set(err, "field_invalid",
                          "the jobs runner needs a configuration and a store pool");
    if (o->lease_secs < 10 || o->lease_secs > 86400)
        return cm_err_set(err, "field_invalid", "lease_secs must be 10..86400, not %d",
                          o->lease_secs);
    if (threaded && (o->threads < 1 || o->threads > 64))
        return cm_err_set(err, "field_invalid", "jobs threads must be 1..64, not %d", o->threads);
    if (threaded && (o->poll_ms < 10 || o->poll_ms > 60000))
        return cm_err_set(err, "field_invalid", "jobs poll_ms must be 10..60000, not %d",
                          o->poll_ms);
    return 0;
}

int jobs_run_due(const cm_jobs_opts *o, int *ran, cm_err *err)
{
    int64_t queued = 0, running = 0, failed = 0;
    int rc = -1;
    *ran = 0;
    if (opts_check(o, false, err) != 0)
        return -1;
    cm_store *st = store_pool_get(o->stores);
    /* Every job due now is among those queued or running now; stopping after that many runs
     * keeps a job that is retried quickly (or queued meanwhile) from running twice here. */
    if (store_job_counts(st, &queued, &running, &failed, err) != 0)
        goto out;
    for (int64_t i = 0; i < queued + running; i++) {
        bool got = false;
        if (run_one(o, st, &got, err) != 0)
            goto out;
        if (!got)
            break;
        (*ran)++;
    }
    rc = 0;
out:
    store_pool_put(o->stores, st);
    return rc;
}

/* ---- scheduling ---- */

int jobs_enqueue_crl_refresh(cm_store *st, int64_t run_at, cm_err *err)
{
    cm_job j;
    memset(&j, 0, sizeof j);
    str_copy(j.kind, sizeof j.kind, "crl_refresh");
    str_copy(j.payload, sizeof j.payload, "{}");
    str_copy(j.unique_key, sizeof j.unique_key, JOBS_CRL_UNIQUE_KEY);
    j.run_at = run_at;
    j.max_attempts = JOBS_CRL_MAX_ATTEMPTS;
    return store_job_enqueue(st, &j, err);
}

int jobs_schedule_once(cm_store *st, int64_t now, bool *queued, cm_err *err)
{
    size_t n = 0;
    const char *const *ids = svc_crl_ca_ids(&n);
    bool need = false;
    cm_err gerr;
    if (queued != NULL)
        *queued = false;
    for (size_t i = 0; i < n && !need; i++) {
        cm_crl_row c;
        memset(&c, 0, sizeof c);
        cm_err_clear(&gerr);
        if (store_crl_get(st, ids[i], &c, &gerr) != 0) {
            if (strcmp(gerr.code, "crl_not_found") != 0) {
                if (err != NULL)
                    *err = gerr;
                return -1;
            }
            need = true;
            continue;
        }
        need = c.dirty || c.der == NULL || c.this_update < now - JOBS_CRL_MAX_AGE ||
               c.next_update <= now;
        free(c.der);
    }
    if (!need)
        return 0;
    if (store_begin(st, err) != 0)
        return -1;
    if (jobs_enqueue_crl_refresh(st, now, err) != 0 || store_commit(st, err) != 0) {
        store_rollback(st);
        return -1;
    }
    if (queued != NULL)
        *queued = true;
    return 0;
}

/* ---- threads ---- */

struct cm_jobs {
    cm_jobs_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* broadcast by jobs_stop */
    bool stopping;
    pthread_t *workers;
    int n_workers; /* started */
    pthread_t sched;
    bool sched_started;
};

static bool is_stopping(cm_jobs *j)
{
    pthread_mutex_lock(&j->mu);
    bool s = j->stopping;
    pthread_mutex_unlock(&j->mu);
    return s;
}

/* Sleeps `ms` milliseconds, or less when jobs_stop is called meanwhile. */
static void nap(cm_jobs *j, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->mu);
    while (!j->stopping)
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&j->mu);
}

static void *worker_main(void *arg)
{
    cm_jobs *j = arg;
    while (!is_stopping(j)) {
        cm_err err;
        bool got = false;
        cm_err_clear(&err);
        cm_store *st = store_pool_get(j->o.stores);
        int rc = run_one(&j->o, st, &got, &err);
        store_pool_put(j->o.stores, st);
        if (rc != 0)
            log_msg(LOG_WARN, "event=jobs_store_failed error=%s", err.code);
        if (rc != 0 || !got)
            nap(j, j->o.poll_ms);
    }
    return NULL;
}

/* Queues a periodic job of `kind` (one at a time: its kind is its unique key). */
static int enqueue_periodic(cm_store *st, const char *kind, int64_t now, cm_err *err)
{
    cm_job job;
    memset(&job, 0, sizeof job);
    str_copy(job.kind, sizeof job.kind, kind);
    str_copy(job.payload, sizeof job.payload, "{}");
    str_copy(job.unique_key, sizeof job.unique_key, kind);
    job.run_at = now;
    job.max_attempts = 3;
    if (store_begin(st, err) != 0)
        return -1;
    if (store_job_enqueue(st, &job, err) != 0 || store_commit(st, err) != 0) {
        store_rollback(st);
        return -1;
    }
    return 0;
}

static void *sched_main(void *arg)
{
    cm_jobs *j = arg;
    int64_t last_dcv = 0;
    long every = j->o.cfg->dcv_recheck_interval > 0 ? j->o.cfg->dcv_recheck_interval : 300;
    while (!is_stopping(j)) {
        cm_err err;
        bool queued = false;
        cm_err_clear(&err);
        cm_store *st = store_pool_get(j->o.stores);
        if (jobs_schedule_once(st, clock_now(), &queued, &err) != 0)
            log_msg(LOG_WARN, "event=jobs_schedule_failed error=%s", err.code);
        else if (queued)
            log_msg(LOG_INFO, "event=jobs_scheduled kind=crl_refresh");
        /* Expiry is a state change: it goes through service/ like every other. */
        cm_svc svc = {.cfg = j->o.cfg, .pki = j->o.pki, .st = st, .caller = {.operator = true}};
        if (svc_expire(&svc, clock_now(), &err) != 0)
            log_msg(LOG_WARN, "event=expiry_failed error=%s", err.code);
        int64_t now = clock_now();
        if (now - last_dcv >= every || now < last_dcv) {
            if (enqueue_periodic(st, "dcv_recheck", now, &err) != 0)
                log_msg(LOG_WARN, "event=jobs_schedule_failed kind=dcv_recheck error=%s",
                        err.code);
            last_dcv = now;
        }
        /* Delayed revocations, auto-renew, expiry reminders: cheap indexed queries. */
        if (enqueue_periodic(st, "lifecycle", now, &err) != 0)
            log_msg(LOG_WARN, "event=jobs_schedule_failed kind=lifecycle error=%s", err.code);
        store_pool_put(j->o.stores, st);
        nap(j, (int64_t)(every < JOBS_SCHEDULE_EVERY ? every : JOBS_SCHEDULE_EVERY) * 1000);
    }
    return NULL;
}

int jobs_start(const cm_jobs_opts *o, cm_jobs **out, cm_err *err)
{
    cm_jobs *j = NULL;
    pthread_condattr_t ca;
    bool have_ca = false;
    int rc = -1;
    *out = NULL;
    if (opts_check(o, true, err) != 0)
        return -1;
    j = calloc(1, sizeof *j);
    if (j == NULL)
        return cm_err_set(err, "out_of_memory", "no memory for the jobs runner");
    j->o = *o;
    j->workers = calloc((size_t)o->threads, sizeof *j->workers);
    if (j->workers == NULL || pthread_mutex_init(&j->mu, NULL) != 0) {
        free(j->workers);
        free(j);
        return cm_err_set(err, "out_of_memory", "no memory for the jobs runner");
    }
    /* Naps count on the monotonic clock, so a moved wall clock neither stalls nor spins. */
    have_ca = pthread_condattr_init(&ca) == 0;
    if (!have_ca || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&j->cv, &ca) != 0) {
        if (have_ca)
            pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&j->mu);
        free(j->workers);
        free(j);
        return cm_err_set(err, "jobs_start_failed", "cannot set up the jobs runner's clock");
    }
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < o->threads; i++) {
        if (pthread_create(&j->workers[i], NULL, worker_main, j) != 0) {
            cm_err_set(err, "jobs_start_failed", "cannot start jobs worker thread %d of %d", i + 1,
                       o->threads);
            goto out;
        }
        j->n_workers++;
    }
    if (pthread_create(&j->sched, NULL, sched_main, j) != 0) {
        cm_err_set(err, "jobs_start_failed", "cannot start the jobs scheduler thread");
        goto out;
    }
    j->sched_started = true;
    log_msg(LOG_INFO, "event=jobs_started threads=%d poll_ms=%d lease_secs=%d", o->threads,
            o->poll_ms, o->lease_secs);
    *out = j;
    j = NULL;
    rc = 0;
out:
    jobs_stop(j); /* the threads started before a failure */
    return rc;
}

void jobs_stop(cm_jobs *j)
{
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->n_workers; i++)
        pthread_join(j->workers[i], NULL);
    if (j->sched_started)
        pthread_join(j->sched, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j->workers);
    free(j);
}
