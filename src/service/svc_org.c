/* svc_org.c — organisations: create, read, list, operator vetting (OV/EV), verified contacts.
 * The contract is in svc_org.h; the rules of the fields are core/org.h's. */
#include "service/svc_org.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

static const cm_role org_writers[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_NONE};
static const cm_role org_admins[] = {ROLE_ADMINISTRATOR, ROLE_NONE};
static const cm_role org_readers[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_STANDARD_USER,
                                      ROLE_LIMITED_USER, ROLE_NONE};

/* The store says "<noun>_not_found"; the API speaks of organizations. */
static int org_not_found(int64_t id, cm_err *err)
{
    return cm_err_set(err, "organization_not_found",
                      "organization %lld was not found in this account; list them with "
                      "GET /organization",
                      (long long)id);
}

static bool is_not_found(const cm_err *err)
{
    size_t n = strlen(err->code);
    return n >= 10 && strcmp(err->code + n - 10, "_not_found") == 0;
}

static bool has_ev_fields(const cm_org *o)
{
    return !str_empty(o->jurisdiction_country) || !str_empty(o->jurisdiction_state) ||
           !str_empty(o->jurisdiction_city) || !str_empty(o->business_category) ||
           !str_empty(o->registration_number);
}

int svc_org_create(cm_svc *s, const cm_org *org, int64_t *id, cm_err *err)
{
    int rc = -1;
    bool open = false;
    char *detail = NULL;
    cm_org_row row;
    memset(&row, 0, sizeof row);

    if (svc_require(s, false, org_writers, err) != 0)
        goto out;
    if (org_check(org, VAL_OV, err) != 0)
        goto out;
    if (has_ev_fields(org) && org_check(org, VAL_EV, err) != 0) {
        cm_err_prefix(err, "EV fields were given but are incomplete");
        goto out;
    }
    row.account_id = s->caller.account_id;
    row.org = *org;
    row.created_at = clock_now();
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_org_insert(s->st, &row, err) != 0)
        goto out;
    detail = svc_detail(json_pack("{s:s, s:s}", "name", org->name, "country", org->country));
    if (svc_audit(s, row.account_id, "org.create", "organization", row.id, detail, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;
    *id = row.id;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    free(detail);
    return rc;
}

/* Loads an organisation of `account_id` with its contacts (no rights check). */
static int org_load(cm_svc *s, int64_t account_id, int64_t id, cm_org_row *out,
                    cm_contact **contacts, size_t *n, cm_err *err)
{
    *contacts = NULL;
    *n = 0;
    if (store_org_get(s->st, account_id, id, out, err) != 0)
        return is_not_found(err) ? org_not_found(id, err) : -1;
    return store_contact_list(s->st, account_id, id, contacts, n, err);
}

int svc_org_get(cm_svc *s, int64_t id, cm_org_row *out, cm_contact **contacts, size_t *n,
                cm_err *err)
{
    *contacts = NULL;
    *n = 0;
    if (svc_require(s, false, org_readers, err) != 0)
        return -1;
    return org_load(s, s->caller.account_id, id, out, contacts, n, err);
}

int svc_org_list(cm_svc *s, const cm_list_opts *o, cm_org_row **out, size_t *n, int64_t *total,
                 cm_err *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (svc_require(s, false, org_readers, err) != 0)
        return -1;
    return store_org_list(s->st, s->caller.account_id, o, out, n, total, err);
}

/* Checks the vetting records against the organisation before anything is written. */
static int vetting_check(const cm_org_row *row, const cm_org_vetting *v, size_t nv, int64_t now,
                         int64_t until[], cm_err *err)
{
    const int64_t max = now + (int64_t)ORG_VALIDATION_DEFAULT_DAYS * 86400;
    bool seen[3] = {false, false, false};
    if (nv == 0)
        return cm_err_set(err, "field_required",
                          "validations must hold at least one record, e.g. "
                          "[{\"type\":\"ov\"}]");
    for (size_t i = 0; i < nv; i++) {
        const char *t = validation_name(v[i].type);
        if (v[i].type != VAL_OV && v[i].type != VAL_EV)
            return cm_err_set(err, "field_invalid",
                              "validations[%zu].type must be \"ov\" or \"ev\"", i);
        if (seen[v[i].type])
            return cm_err_set(err, "field_invalid",
                              "validations lists type \"%s\" twice; give each type once", t);
        seen[v[i].type] = true;
        until[i] = v[i].valid_until ? v[i].valid_until : max;
        if (until[i] <= now)
            return cm_err_set(err, "field_invalid",
                              "validations[%zu].valid_until lies in the past; give a date "
                              "after today",
                              i);
        if (until[i] > max)
            return cm_err_set(err, "field_invalid",
                              "validations[%zu].valid_until is more than %d days ahead; a "
                              "vetting record lasts at most %d days",
                              i, ORG_VALIDATION_DEFAULT_DAYS, ORG_VALIDATION_DEFAULT_DAYS);
        if (v[i].type == VAL_EV && org_check(&row->org, VAL_EV, err) != 0)
            return cm_err_prefix(err, "EV vetting needs the EV fields of the organization "
                                      "(create it again with them)");
    }
    return 0;
}

int svc_org_validate(cm_svc *s, int64_t id, const cm_org_vetting *v, size_t nv, cm_org_row *out,
                     cm_contact **contacts, size_t *n, cm_err *err)
{
    int rc = -1;
    bool open = false;
    char *detail = NULL;
    json_t *arr = NULL;
    int64_t until[2];
    cm_org_row row;
    memset(&row, 0, sizeof row);
    *contacts = NULL;
    *n = 0;

    if (!s->caller.operator) {
        cm_err_set(err, "forbidden",
                   "only the operator vets organizations; use an operator API key");
        goto out;
    }
    if (nv > 2) {
        cm_err_set(err, "field_invalid", "validations holds at most one \"ov\" and one \"ev\"");
        goto out;
    }
    const int64_t now = clock_now();
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_org_get_any(s->st, id, &row, err) != 0) {
        if (is_not_found(err))
            org_not_found(id, err);
        goto out;
    }
    if (vetting_check(&row, v, nv, now, until, err) != 0)
        goto out;
    arr = json_array();
    for (size_t i = 0; i < nv; i++) {
        const char *t = validation_name(v[i].type);
        if (store_org_validation_add(s->st, row.account_id, id, t, now, until[i], err) != 0)
            goto out;
        json_array_append_new(
            arr, json_pack("{s:s, s:I}", "type", t, "valid_until", (json_int_t)until[i]));
    }
    detail = svc_detail(json_pack("{s:O}", "validations", arr));
    if (svc_audit(s, row.account_id, "org.validate", "organization", id, detail, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;

    /* The vetting is committed; an order that waited for it may now be issued. Its failures
     * are the orders' own business (logged there), not this request's. */
    cm_err rerr = {{0}, {0}};
    if (svc_orders_reevaluate(s, row.account_id, &rerr) != 0)
        log_msg(LOG_WARN, "event=orders_reevaluate account=%lld code=%s", (long long)row.account_id,
                rerr.code);
    rc = org_load(s, row.account_id, id, out, contacts, n, err);
out:
    if (open)
        store_rollback(s->st);
    json_decref(arr);
    free(detail);
    return rc;
}

int svc_org_contact_add(cm_svc *s, int64_t org_id, int64_t user_id, bool ev_approver,
                        cm_contact *out, bool *created, cm_err *err)
{
    int rc = -1;
    bool open = false;
    char *detail = NULL;
    cm_org_row row;
    cm_user user;
    cm_contact old;
    const int64_t acct = s->caller.account_id;

    if (svc_require(s, false, org_admins, err) != 0)
        goto out;
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_org_get(s->st, acct, org_id, &row, err) != 0) {
        if (is_not_found(err))
            org_not_found(org_id, err);
        goto out;
    }
    if (store_user_get(s->st, acct, user_id, &user, err) != 0) {
        if (is_not_found(err))
            cm_err_set(err, "user_not_found",
                       "user %lld was not found in this account; list them with GET /user",
                       (long long)user_id);
        goto out;
    }
    if (strcmp(user.status, "active") != 0) {
        cm_err_set(err, "user_state",
                   "user %lld is %s; only an active user can be a verified contact",
                   (long long)user_id, user.status);
        goto out;
    }
    *created = true;
    if (store_contact_get(s->st, acct, org_id, user_id, &old, err) == 0) {
        *created = false;
    } else if (!is_not_found(err)) {
        goto out;
    }
    cm_err_clear(err);
    memset(out, 0, sizeof *out);
    out->org_id = org_id;
    out->user_id = user_id;
    out->ev_approver = ev_approver;
    out->created_at = *created ? clock_now() : old.created_at;
    if (store_contact_put(s->st, acct, out, err) != 0)
        goto out;
    detail = svc_detail(
        json_pack("{s:I, s:b}", "user_id", (json_int_t)user_id, "ev_approver", ev_approver));
    if (svc_audit(s, acct, "org.contact", "organization", org_id, detail, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    free(detail);
    return rc;
}

bool svc_org_valid(const cm_org_row *o, cm_validation v, int64_t now)
{
    if (v == VAL_DV)
        return true;
    if (o->ev_valid_until > now)
        return true;
    return v == VAL_OV && o->ov_valid_until > now;
}
