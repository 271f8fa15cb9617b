/* job_mail.c — the `mail` job: delivers one outbox row (store.h cm_mail_row) with
 * net/mail.h, over SMTP or into the spool directory.
 *
 * Idempotent: a row already `sent` is done without delivering again. Delivery is at least
 * once: should the store fail after the SMTP server accepted the mail, the retry sends it again
 * (a duplicate mail beats a lost one). */
#include "jobs/jobs.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/mail.h"

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
    cm_mail_row m;
    cm_err serr;
    int64_t id = 0;
    int rc = -1;
    memset(&m, 0, sizeof m);
    if (mail_id_of(c->job, &id, err) != 0)
        goto out;
    if (store_mail_get(c->st, id, &m, err) != 0)
        goto out;
    if (strcmp(m.status, "sent") == 0) { /* delivered by an earlier run: nothing to do */
        rc = 0;
        goto out;
    }
    if (mail_deliver(c->o->cfg, c->o->cfg->mail_from, m.to_addr, m.message, m.message_len, err) !=
        0) {
        /* After the last attempt the outbox row shows the failure too (the job row keeps the
         * error text). A failure to record it changes nothing for the job: it fails anyway. */
        cm_err_clear(&serr);
        if (c->job->attempts >= c->job->max_attempts &&
            store_mail_set_status(c->st, id, "failed", 0, &serr) != 0)
            cm_err_prefix(err, "(marking mail %lld failed: %s) ", (long long)id, serr.code);
        goto out;
    }
    if (store_mail_set_status(c->st, id, "sent", c->now, err) != 0) {
        cm_err_prefix(err, "mail %lld was delivered but not marked sent: ", (long long)id);
        goto out;
    }
    rc = 0;
out:
    free(m.message);
    return rc;
}
