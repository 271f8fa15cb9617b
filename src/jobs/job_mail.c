/* job_mail.c — the `mail` job: delivers one outbox row through service/svc_common.c
 * (svc_mail_deliver). */
#include "jobs/jobs.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "service/service.h"

/* Reads {"mail_id":N} (N > 0) from a job payload. */
static int mail_id_of(const cm_job *j, int64_t *id, cm_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(j->payload, strnlen(j->payload, sizeof j->payload), 0, &jerr);
    int rc = -1;
    json_t *v = root != NULL ? json_object_get(root, "mail_id") : NULL;
    if (v == NULL || !json_is_integer(v) || json_integer_value(v) <= 0) {
        cm_err_set(err, "job_payload_invalid",
                   "the mail job's payload is not {\"mail_id\":N}; queue mail with "
                   "svc_mail_queue");
        goto out;
    }
    *id = (int64_t)json_integer_value(v);
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int job_mail_run(const cm_job_ctx *c, cm_err *err)
{
    int64_t id = 0;
    if (mail_id_of(c->job, &id, err) != 0)
        return -1;
    cm_svc svc = {.cfg = c->o->cfg, .pki = c->o->pki, .st = c->st, .caller = {.operator = true}};
    return svc_mail_deliver(&svc, id, c->now, c->job->attempts >= c->job->max_attempts, err);
}
