/* job_dcv.c — the `dcv_recheck` job: looks again at pending domain-control validations
 * (service/svc_dcv.c does the work, like every state change). */
#include "jobs/jobs.h"
#include "service/order.h"
#include "util/log.h"

int job_dcv_recheck_run(const cm_job_ctx *c, cm_err *err)
{
    cm_svc svc = {.cfg = c->o->cfg, .pki = c->o->pki, .st = c->st};
    int checked = 0, validated = 0;
    if (svc_dcv_recheck(&svc, c->now, JOBS_DCV_BATCH, &checked, &validated, err) != 0)
        return -1;
    if (checked > 0)
        log_msg(LOG_INFO, "event=dcv_recheck checked=%d validated=%d", checked, validated);
    return 0;
}
