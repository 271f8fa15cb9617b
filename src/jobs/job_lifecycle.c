/* job_lifecycle.c — the jobs of an issued order's life (service/svc_reissue.c, svc_renew.c do
 * the work): `revoke_pending` revokes certificates whose post-reissue delay has passed, and
 * `lifecycle` (queued by the scheduler every pass) does that too, renews auto-renew orders that
 * are due and sends the expiry reminders. */
#include "jobs/jobs.h"
#include "service/lifecycle.h"
#include "util/log.h"

int job_revoke_pending_run(const cm_job_ctx *c, cm_err *err)
{
    cm_svc svc = {.cfg = c->o->cfg, .pki = c->o->pki, .st = c->st};
    int revoked = 0;
    int rc = svc_revoke_pending_due(&svc, c->now, JOBS_LIFECYCLE_BATCH, &revoked, err);
    if (revoked > 0)
        log_msg(LOG_INFO, "event=revoke_pending revoked=%d", revoked);
    return rc;
}

int job_lifecycle_run(const cm_job_ctx *c, cm_err *err)
{
    cm_svc svc = {.cfg = c->o->cfg, .pki = c->o->pki, .st = c->st};
    int revoked = 0, renewed = 0, reminded = 0;
    if (svc_revoke_pending_due(&svc, c->now, JOBS_LIFECYCLE_BATCH, &revoked, err) != 0 ||
        svc_auto_renew_due(&svc, c->now, JOBS_LIFECYCLE_BATCH, &renewed, err) != 0 ||
        svc_expiry_remind(&svc, c->now, JOBS_LIFECYCLE_BATCH, &reminded, err) != 0)
        return -1;
    if (revoked + renewed + reminded > 0)
        log_msg(LOG_INFO, "event=lifecycle revoked=%d auto_renewed=%d reminded=%d", revoked,
                renewed, reminded);
    return 0;
}
