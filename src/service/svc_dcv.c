/* svc_dcv.c — the DCV re-check: validations the owner has published but not yet asked certmint
 * to check are found by looking again now and then, so an order issues without a second call. */
#include <stdlib.h>
#include <string.h>

#include "service/order.h"
#include "service/svc_domain.h"
#include "util/log.h"

/* The caller a re-check acts as: the account's own administrator role, no user (audit events
 * show user 0: the system). */
static void as_account(cm_svc *s, int64_t account_id)
{
    memset(&s->caller, 0, sizeof s->caller);
    s->caller.account_id = account_id;
    s->caller.role = ROLE_ADMINISTRATOR;
}

int svc_dcv_recheck(cm_svc *s, int64_t now, size_t max, int *checked, int *validated,
                    cm_err *err)
{
    cm_ref *doms = NULL, *ords = NULL;
    size_t nd = 0, no = 0;
    cm_caller saved = s->caller;
    *checked = *validated = 0;
    if (store_dcv_pending_domains(s->st, now, max, &doms, &nd, err) != 0 ||
        store_dcv_pending_orders(s->st, now, max, &ords, &no, err) != 0) {
        free(doms);
        return -1;
    }
    for (size_t i = 0; i < nd; i++) {
        cm_domain d;
        cm_err e;
        as_account(s, doms[i].account_id);
        (*checked)++;
        /* A failure is the normal case (not published yet): nothing to report. */
        if (svc_domain_validate(s, doms[i].id, &d, &e) == 0)
            (*validated)++;
        else if (strcmp(e.code, "store_busy") == 0 || strcmp(e.code, "store_error") == 0)
            log_msg(LOG_WARN, "event=dcv_recheck_failed domain=%lld error=%s",
                    (long long)doms[i].id, e.code);
    }
    for (size_t i = 0; i < no; i++) {
        int64_t cert = 0;
        cm_err e;
        as_account(s, ords[i].account_id);
        (*checked)++;
        if (svc_order_check_dcv(s, ords[i].id, &cert, &e) == 0 && cert > 0)
            (*validated)++;
    }
    s->caller = saved;
    free(doms);
    free(ords);
    return 0;
}

int svc_dcv_email_confirm(cm_svc *s, const char *code, cm_email_confirmed *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    if (svc_domain_email_confirm(s, code, &out->domain, err) == 0)
        return 0;
    if (strcmp(err->code, "dcv_code_invalid") != 0)
        return -1;
    /* Not a domain's code: perhaps a DV order's (its names validate by email too). */
    bool found = false;
    cm_err oerr;
    if (svc_order_email_confirm(s, code, &out->order_id, &found, &oerr) != 0) {
        *err = oerr;
        return -1;
    }
    if (!found)
        return -1; /* err still says dcv_code_invalid */
    out->order = true;
    return 0;
}
