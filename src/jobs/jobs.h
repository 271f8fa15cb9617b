/* jobs.h — background work leased from the store's jobs table (DESIGN.md §2 "jobs/"): worker
 * threads lease due jobs and dispatch them by kind (mail outbox delivery, CRL refresh); one
 * scheduler thread queues the periodic ones. Safe with several nodes: a job is owned by whoever
 * holds its lease, and every handler is idempotent (a job may run again after a crash).
 *
 * Kinds handled here:
 *   mail         {"mail_id":N}  deliver one outbox row (job_mail.c)
 *   crl_refresh  {}             re-sign the CRL of every issuing CA (job_crl.c)
 *   dcv_recheck  {}             look again at pending DCV (job_dcv.c; every
 *                               dcv_recheck_interval seconds)
 *   revoke_pending {}           revoke certificates whose post-reissue delay passed
 *                               (job_lifecycle.c; queued for the moment it is due)
 *   lifecycle    {}             the same, auto-renew and expiry reminders (job_lifecycle.c;
 *                               queued by the scheduler every pass)
 * A job of any other kind fails at once (`job_kind_unknown`). */
#ifndef CM_JOBS_JOBS_H
#define CM_JOBS_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "pki/pki.h"
#include "store/store.h"
#include "util/config.h"
#include "util/err.h"

/* ---- retry policy and periods ---- */

#define JOBS_BACKOFF_FIRST    30          /* seconds before the second attempt */
#define JOBS_BACKOFF_MAX      3600        /* backoff cap: 30 s × 2^(attempts-1), at most 1 h */
#define JOBS_SCHEDULE_EVERY   60          /* seconds between two scheduler passes */
#define JOBS_CRL_MAX_AGE      (3 * 86400) /* a CRL older than this is re-signed */
#define JOBS_CRL_MAX_ATTEMPTS 10
#define JOBS_CRL_UNIQUE_KEY   "crl_refresh"

/* ---- the runner (runner.c) ---- */

typedef struct cm_jobs cm_jobs;

typedef struct cm_jobs_opts {
    const cm_config *cfg;
    cm_pki *pki;
    cm_store_pool *stores; /* needs at least one connection per worker thread (+1 scheduler) */
    int threads;           /* worker threads, 1..64, e.g. 2 */
    int poll_ms;           /* idle sleep between lease attempts, 10..60000, e.g. 500 */
    int lease_secs;        /* 10..86400, e.g. 120; longer than any one job may take */
} cm_jobs_opts;

/* Starts the workers and the scheduler (which checks the CRLs at once, then every minute).
 * The options are copied; cfg, pki and stores must outlive the runner. Errors:
 * `field_invalid` (bad option), `jobs_start_failed` (a thread could not be created).
 * Caller stops and frees with jobs_stop. */
int jobs_start(const cm_jobs_opts *o, cm_jobs **out, cm_err *err);

/* Stops taking new jobs, lets running ones finish (bounded by their own timeouts: SMTP
 * MAIL_SMTP_TIMEOUT, the signer's), joins the threads and frees `j`. NULL is ignored. */
void jobs_stop(cm_jobs *j);

/* Runs every job due now once, in the calling thread, with one connection from o->stores
 * (o->threads and o->poll_ms are not used). For tests. *ran receives
 * the number of jobs run, successful or not: a job that fails is retried later as usual and
 * does not make this function fail. Returns -1 only when the store fails. */
int jobs_run_due(const cm_jobs_opts *o, int *ran, cm_err *err);

/* One scheduler pass at `now`: queues a `crl_refresh` (unique key) when any issuing CA has a
 * dirty CRL, no CRL yet, or a CRL whose thisUpdate is more than JOBS_CRL_MAX_AGE before now.
 * *queued (may be NULL) tells whether it did. Opens its own transaction on `st`. */
int jobs_schedule_once(cm_store *st, int64_t now, bool *queued, cm_err *err);

/* Queues a CRL refresh of every issuing CA at run_at (unique key "crl_refresh": a no-op while
 * one is queued or running), e.g. after a revocation; inside the caller's open transaction. */
int jobs_enqueue_crl_refresh(cm_store *st, int64_t run_at, cm_err *err);

/* ---- handlers, one per kind (called by runner.c's dispatch table) ---- */

/* Everything a handler gets: the runner's options, the worker's own store connection (no
 * transaction open), the leased job (attempts already counts this run) and "now". A handler
 * returns 0 when the job is done, or -1 with `err` set (the runner retries it with backoff,
 * or gives up after max_attempts). Handlers are idempotent. */
typedef struct cm_job_ctx {
    const cm_jobs_opts *o;
    cm_store *st;
    const cm_job *job;
    int64_t now;
} cm_job_ctx;

int job_mail_run(const cm_job_ctx *c, cm_err *err);
int job_crl_refresh_run(const cm_job_ctx *c, cm_err *err);
int job_dcv_recheck_run(const cm_job_ctx *c, cm_err *err);

int job_revoke_pending_run(const cm_job_ctx *c, cm_err *err);
int job_lifecycle_run(const cm_job_ctx *c, cm_err *err);
/* At most this many certificates or orders per lifecycle task per run. */
#define JOBS_LIFECYCLE_BATCH 200

/* At most this many pending domains (and as many DV orders) per DCV re-check. */
#define JOBS_DCV_BATCH 100

#endif
