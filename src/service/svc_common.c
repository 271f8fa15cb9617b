/* svc_common.c — what every use case shares: the audit event, the mail outbox, rights checks and
 * DCV random values (service.h "common"). */
#include "service/service.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/mail.h"
#include "pki/digest.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/str.h"

#define MAIL_JOB_ATTEMPTS 8

int svc_audit(cm_svc *s, int64_t account_id, const char *action, const char *object_type,
              int64_t object_id, const char *detail, cm_err *err)
{
    cm_audit e;
    memset(&e, 0, sizeof e);
    e.account_id = account_id;
    e.at = clock_now();
    e.user_id = s->caller.user_id;
    e.key_id = s->caller.key_id;
    e.operator= s->caller.operator;
    e.object_id = object_id;
    if (str_copy(e.action, sizeof e.action, action) != 0 ||
        str_copy(e.object_type, sizeof e.object_type, object_type) != 0)
        return cm_err_set(err, "internal_error", "audit action or object type is too long");
    /* A detail too long for the row is a bug of the caller (it is built from bounded fields),
     * never silently truncated: a cut JSON text would not parse back. */
    if (str_copy(e.detail, sizeof e.detail, detail != NULL ? detail : "{}") != 0)
        return cm_err_set(err, "internal_error", "audit detail of %s is too long", action);
    return store_audit_append(s->st, &e, err);
}

int svc_mail_queue(cm_svc *s, int64_t account_id, const struct cm_mail *m, cm_err *err)
{
    int rc = -1;
    unsigned char *msg = NULL;
    size_t len = 0;
    if (mail_compose(m, &msg, &len, err) != 0)
        goto out;

    cm_mail_row row;
    memset(&row, 0, sizeof row);
    row.account_id = account_id;
    if (str_copy(row.to_addr, sizeof row.to_addr, m->to) != 0) {
        cm_err_set(err, "mail_invalid", "the recipient address is longer than %zu bytes",
                   sizeof row.to_addr - 1);
        goto out;
    }
    /* The subject column is for people browsing the outbox; the message keeps the whole one. */
    (void)str_copy(row.subject, sizeof row.subject, m->subject != NULL ? m->subject : "");
    str_copy(row.status, sizeof row.status, "queued");
    row.created_at = clock_now();
    row.message = msg;
    row.message_len = len;
    if (store_mail_insert(s->st, &row, err) != 0)
        goto out;

    cm_job j;
    memset(&j, 0, sizeof j);
    str_copy(j.kind, sizeof j.kind, "mail");
    snprintf(j.payload, sizeof j.payload, "{\"mail_id\":%" PRId64 "}", row.id);
    j.run_at = row.created_at;
    j.max_attempts = MAIL_JOB_ATTEMPTS;
    str_copy(j.status, sizeof j.status, "queued");
    if (store_job_enqueue(s->st, &j, err) != 0)
        goto out;
    rc = 0;
out:
    free(msg);
    return rc;
}

int svc_require(const cm_svc *s, bool operator_ok, const cm_role *roles, cm_err *err)
{
    const cm_caller *c = &s->caller;
    if (c->operator) {
        if (operator_ok)
            return 0;
        return cm_err_set(err, "forbidden",
                          "operator keys cannot do this; use an API key of a user of the "
                          "account");
    }
    char need[128] = "";
    size_t used = 0;
    size_t n = 0;
    for (const cm_role *r = roles; r != NULL && *r != ROLE_NONE; r++, n++) {
        if (c->role == *r)
            return 0;
        int w =
            snprintf(need + used, sizeof need - used, "%s%s", n > 0 ? " or " : "", role_name(*r));
        if (w > 0 && (size_t)w < sizeof need - used)
            used += (size_t)w;
    }
    if (n == 0)
        return cm_err_set(err, "forbidden", "only the operator may do this");
    return cm_err_set(err, "forbidden",
                      "this needs the %s role%s; ask an administrator of the account", need,
                      operator_ok ? " or an operator key" : "");
}

bool svc_is_admin(const cm_svc *s)
{
    return !s->caller.operator&& s->caller.role == ROLE_ADMINISTRATOR;
}

bool svc_is_approver(const cm_svc *s)
{
    return !s->caller.operator&&(s->caller.role == ROLE_ADMINISTRATOR ||
                                 s->caller.role == ROLE_MANAGER);
}

void svc_random_value(char out[33])
{
    unsigned char b[16];
    /* getrandom(2) does not fail once the kernel pool is initialised; a CA that cannot get
     * randomness must not go on handing out predictable values. */
    if (random_bytes(b, sizeof b) != 0) {
        log_msg(LOG_ERROR, "event=random_failed what=dcv_value");
        abort();
    }
    hex_encode(b, sizeof b, out);
}

char *svc_detail(json_t *o)
{
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

int svc_mail_deliver(cm_svc *s, int64_t mail_id, int64_t now, bool last_attempt, cm_err *err)
{
    cm_mail_row m;
    cm_err serr;
    int rc = -1;
    memset(&m, 0, sizeof m);
    if (store_mail_get(s->st, mail_id, &m, err) != 0)
        goto out;
    if (strcmp(m.status, "sent") == 0) { /* delivered by an earlier run: nothing to do */
        rc = 0;
        goto out;
    }
    if (mail_deliver(s->cfg, s->cfg->mail_from, m.to_addr, m.message, m.message_len, err) != 0) {
        /* After the last attempt the outbox row shows the failure too (the job row keeps the
         * error text). A failure to record it changes nothing: the delivery failed anyway. */
        cm_err_clear(&serr);
        if (last_attempt && store_mail_set_status(s->st, mail_id, "failed", 0, &serr) != 0)
            cm_err_prefix(err, "(marking mail %lld failed: %s) ", (long long)mail_id, serr.code);
        goto out;
    }
    if (store_mail_set_status(s->st, mail_id, "sent", now, err) != 0) {
        cm_err_prefix(err, "mail %lld was delivered but not marked sent: ", (long long)mail_id);
        goto out;
    }
    rc = 0;
out:
    free(m.message);
    return rc;
}
