/* job_crl.c — the `crl_refresh` job: every issuing CA's CRL made again (service/svc_crl.c does
 * the work, like every state change). */
#include "jobs/jobs.h"
#include "service/order.h"

int job_crl_refresh_run(const cm_job_ctx *c, cm_err *err)
{
    cm_svc svc = {.cfg = c->o->cfg, .pki = c->o->pki, .st = c->st, .caller = {.operator = true}};
    return svc_crl_refresh_all(&svc, c->now, err);
}
