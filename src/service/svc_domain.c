/* svc_domain.c — domains and their domain-control validation. The contract is in
 * svc_domain.h (and svc_domain_covers/svc_domain_ensure in service.h). Network checks run before
 * any transaction; the transaction then re-loads the domain and writes (service.h). */
#include "service/svc_domain.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/names.h"
#include "core/registrable.h"
#include "net/dcv.h"
#include "net/mail.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

const char *const dcv_email_locals[DCV_EMAIL_COUNT] = {"admin", "administrator", "webmaster",
                                                       "hostmaster", "postmaster"};

static const cm_role dom_writers[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_NONE};
static const cm_role dom_readers[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_STANDARD_USER,
                                      ROLE_LIMITED_USER, ROLE_NONE};

static const char *const dcv_methods[] = {"dns-txt-token", "dns-cname-token", "http-token",
                                          "email"};

#define DCV_CODE_LEN    32 /* svc_random_value: 32 hex characters */
#define DCV_CODE_PREFIX 8  /* looked up by this much, compared whole in constant time */

static bool is_not_found(const cm_err *err)
{
    size_t n = strlen(err->code);
    return n >= 10 && strcmp(err->code + n - 10, "_not_found") == 0;
}

static int domain_not_found(int64_t id, cm_err *err)
{
    return cm_err_set(err, "domain_not_found",
                      "domain %lld was not found in this account; list them with GET /domain",
                      (long long)id);
}

static int method_check(const char *m, cm_err *err)
{
    for (size_t i = 0; i < sizeof dcv_methods / sizeof dcv_methods[0]; i++)
        if (strcmp(m, dcv_methods[i]) == 0)
            return 0;
    return cm_err_set(err, "dcv_method_invalid",
                      "dcv_method must be one of dns-txt-token, dns-cname-token, http-token, "
                      "email");
}

/* The email method writes to <local>@<name>: every such address must be a usable one. */
static int email_check(const char *method, const char *name, cm_err *err)
{
    if (strcmp(method, "email") != 0)
        return 0;
    for (size_t i = 0; i < DCV_EMAIL_COUNT; i++) {
        char to[320];
        snprintf(to, sizeof to, "%s@%s", dcv_email_locals[i], name);
        if (!mail_address_ok(to))
            return cm_err_set(err, "dcv_method_invalid",
                              "%s cannot receive the validation mail (the address is too long "
                              "or unusable); choose dns-txt-token, dns-cname-token or "
                              "http-token",
                              to);
    }
    return 0;
}

const char *svc_domain_status(const cm_domain *d, int64_t now)
{
    if (d->valid_until > now)
        return "active";
    return d->validated_at ? "expired" : "pending";
}

void svc_domain_token(const cm_svc *s, const cm_domain *d, cm_dcv_token *t)
{
    memset(t, 0, sizeof *t);
    if (str_empty(d->dcv_value))
        return;
    t->present = true;
    t->expires = d->dcv_value_expires;
    if (strcmp(d->dcv_method, "email") == 0) {
        t->email = true;
        for (size_t i = 0; i < DCV_EMAIL_COUNT; i++)
            snprintf(t->emails[i], sizeof t->emails[i], "%s@%s", dcv_email_locals[i], d->name);
        return;
    }
    str_copy(t->token, sizeof t->token, d->dcv_value);
    if (strcmp(d->dcv_method, "dns-cname-token") == 0) {
        str_copy(t->verification_value, sizeof t->verification_value, s->cfg->dcv_cname_target);
        snprintf(t->record_name, sizeof t->record_name, "%s.%s", d->dcv_value, d->name);
    } else {
        str_copy(t->verification_value, sizeof t->verification_value, d->dcv_value);
        if (strcmp(d->dcv_method, "http-token") == 0)
            snprintf(t->http_url, sizeof t->http_url,
                     "http://%s/.well-known/pki-validation/fileauth.txt", d->name);
        else
            snprintf(t->record_name, sizeof t->record_name, "_dnsauth.%s", d->name);
    }
}

/* A fresh random value for `method`, good for DCV_VALUE_LIFETIME from now. */
static void new_value(cm_domain *d, const char *method, int64_t now)
{
    char v[33];
    svc_random_value(v);
    str_copy(d->dcv_method, sizeof d->dcv_method, method);
    str_copy(d->dcv_value, sizeof d->dcv_value, v);
    d->dcv_value_expires = now + DCV_VALUE_LIFETIME;
    d->dcv_email[0] = '\0';
    if (strcmp(method, "email") == 0) {
        /* The addresses the code went to, when they fit the column (they are derived from
         * the name anyway). */
        char list[sizeof d->dcv_email];
        size_t off = 0;
        bool fits = true;
        for (size_t i = 0; i < DCV_EMAIL_COUNT && fits; i++) {
            int k = snprintf(list + off, sizeof list - off, "%s%s@%s", i ? "," : "",
                             dcv_email_locals[i], d->name);
            fits = k > 0 && (size_t)k < sizeof list - off;
            off += fits ? (size_t)k : 0;
        }
        if (fits)
            str_copy(d->dcv_email, sizeof d->dcv_email, list);
    }
}

int svc_dcv_email_queue(cm_svc *s, int64_t account_id, const char *domain, const char *code,
                        int64_t expires, cm_err *err)
{
    char when[32], subject[320], text[3072];
    clock_format_iso(expires, when, sizeof when);
    int k = snprintf(subject, sizeof subject, "Confirm control of %s", domain);
    if (k < 0 || (size_t)k >= sizeof subject)
        return cm_err_set(err, "internal_error", "mail subject too long");
    k = snprintf(text, sizeof text,
                 "Hello,\n\n"
                 "certmint was asked to validate control of the domain %s so that certificates "
                 "can be issued for it. This mail went to the administrative addresses of the "
                 "domain: admin@, administrator@, webmaster@, hostmaster@ and postmaster@%s.\n\n"
                 "Your one-time confirmation code:\n\n"
                 "    %s\n\n"
                 "To confirm, send the code to certmint before %s:\n\n"
                 "    curl -X POST -H 'Content-Type: application/json' \\\n"
                 "      -d '{\"code\":\"%s\"}' %s/services/v2/dcv/email/confirm\n\n"
                 "The code works once. If you did not expect this mail, do not confirm: nothing "
                 "is validated without the code.\n",
                 domain, domain, code, when, code, s->cfg->public_url);
    if (k < 0 || (size_t)k >= sizeof text)
        return cm_err_set(err, "internal_error", "mail text too long");
    for (size_t i = 0; i < DCV_EMAIL_COUNT; i++) {
        char to[320];
        snprintf(to, sizeof to, "%s@%s", dcv_email_locals[i], domain);
        cm_mail m = {.from = s->cfg->mail_from, .to = to, .subject = subject, .text = text};
        if (svc_mail_queue(s, account_id, &m, err) != 0)
            return -1;
    }
    return 0;
}

/* Queues the domain's code to each administrative address (inside the open transaction). */
static int queue_email(cm_svc *s, const cm_domain *d, cm_err *err)
{
    return svc_dcv_email_queue(s, d->account_id, d->name, d->dcv_value, d->dcv_value_expires,
                               err);
}

int svc_domain_create(cm_svc *s, const char *name, int64_t org_id, const char *method,
                      cm_domain *out, cm_err *err)
{
    /* Wildcards and addresses pass normalisation so that the refusal below can say what a
     * domain is (the product-worded messages of core/names.c would not fit here). */
    const cm_name_policy pol = {.public_names = true, .allow_wildcard = true, .allow_ip = true};
    int rc = -1;
    bool open = false;
    char *detail = NULL;
    cm_name nm;
    cm_domain d, old;
    memset(&d, 0, sizeof d);

    if (svc_require(s, false, dom_writers, err) != 0)
        goto out;
    if (method == NULL)
        method = "dns-txt-token";
    if (method_check(method, err) != 0)
        goto out;
    if (name_normalize(name, &pol, &nm, err) != 0)
        goto out;
    if (nm.type != NAME_DNS) {
        cm_err_set(err, "name_invalid",
                   "\"%s\" is %s; register the domain name itself (e.g. example.com: it also "
                   "covers its subdomains and *.example.com)",
                   nm.text, nm.type == NAME_WILDCARD ? "a wildcard" : "an IP address");
        goto out;
    }
    if (email_check(method, nm.text, err) != 0)
        goto out;
    const int64_t now = clock_now();
    d.account_id = s->caller.account_id;
    str_copy(d.name, sizeof d.name, nm.text);
    d.org_id = org_id;
    d.created_at = now;
    new_value(&d, method, now);

    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (org_id != 0) {
        cm_org_row org;
        if (store_org_get(s->st, d.account_id, org_id, &org, err) != 0) {
            if (is_not_found(err))
                cm_err_set(err, "organization_not_found",
                           "organization %lld was not found in this account; list them with "
                           "GET /organization",
                           (long long)org_id);
            goto out;
        }
    }
    if (store_domain_get_by_name(s->st, d.account_id, d.name, &old, err) == 0) {
        cm_err_set(err, "domain_exists",
                   "the account already has domain %s (id %lld); validate that one with PUT "
                   "/domain/%lld/dcv/method",
                   d.name, (long long)old.id, (long long)old.id);
        goto out;
    }
    if (!is_not_found(err))
        goto out;
    cm_err_clear(err);
    if (store_domain_insert(s->st, &d, err) != 0) {
        if (strcmp(err->code, "conflict") == 0)
            cm_err_set(err, "domain_exists", "the account already has domain %s", d.name);
        goto out;
    }
    if (strcmp(method, "email") == 0 && queue_email(s, &d, err) != 0)
        goto out;
    detail = svc_detail(json_pack("{s:s, s:s, s:I}", "name", d.name, "dcv_method", method,
                                   "org_id", (json_int_t)org_id));
    if (svc_audit(s, d.account_id, "domain.create", "domain", d.id, detail, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;
    *out = d;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    free(detail);
    return rc;
}

int svc_domain_get(cm_svc *s, int64_t id, cm_domain *out, cm_err *err)
{
    if (svc_require(s, false, dom_readers, err) != 0)
        return -1;
    if (store_domain_get(s->st, s->caller.account_id, id, out, err) != 0)
        return is_not_found(err) ? domain_not_found(id, err) : -1;
    return 0;
}

int svc_domain_list(cm_svc *s, const cm_list_opts *o, cm_domain **out, size_t *n, int64_t *total,
                    cm_err *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (svc_require(s, false, dom_readers, err) != 0)
        return -1;
    return store_domain_list(s->st, s->caller.account_id, o, out, n, total, err);
}

int svc_domain_set_method(cm_svc *s, int64_t id, const char *method, cm_domain *out, cm_err *err)
{
    int rc = -1;
    bool open = false;
    char *detail = NULL;
    cm_domain d;

    if (svc_require(s, false, dom_writers, err) != 0)
        goto out;
    if (method_check(method, err) != 0)
        goto out;
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_domain_get(s->st, s->caller.account_id, id, &d, err) != 0) {
        if (is_not_found(err))
            domain_not_found(id, err);
        goto out;
    }
    if (email_check(method, d.name, err) != 0)
        goto out;
    /* A current validation stays current: only the proof for the next one changes. */
    new_value(&d, method, clock_now());
    if (store_domain_update_dcv(s->st, &d, err) != 0)
        goto out;
    if (strcmp(method, "email") == 0 && queue_email(s, &d, err) != 0)
        goto out;
    detail = svc_detail(json_pack("{s:s}", "dcv_method", method));
    if (svc_audit(s, d.account_id, "domain.dcv_method", "domain", d.id, detail, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;
    *out = d;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    free(detail);
    return rc;
}

/* Records a passed validation of `d` at `now` inside the open transaction. */
static int record_validated(cm_svc *s, cm_domain *d, int64_t now, const char *method, cm_err *err)
{
    d->validated_at = now;
    d->valid_until = now + DCV_REUSE_SECONDS;
    if (store_domain_update_dcv(s->st, d, err) != 0)
        return -1;
    char *detail = svc_detail(
        json_pack("{s:s, s:I}", "dcv_method", method, "valid_until", (json_int_t)d->valid_until));
    int rc = svc_audit(s, d->account_id, "domain.validate", "domain", d->id, detail, err);
    free(detail);
    return rc;
}

/* After a committed validation: orders that waited for it may now be issued. Their failures
 * are logged by the orders code, not returned to this request. */
static void reevaluate(cm_svc *s, int64_t account_id)
{
    cm_err e;
    cm_err_clear(&e);
    if (svc_orders_reevaluate(s, account_id, &e) != 0)
        log_msg(LOG_WARN, "event=orders_reevaluate account=%lld code=%s", (long long)account_id,
                e.code);
}

int svc_domain_validate(cm_svc *s, int64_t id, cm_domain *out, cm_err *err)
{
    int rc = -1;
    bool open = false;
    cm_domain d, again;

    if (svc_require(s, false, dom_writers, err) != 0)
        goto out;
    if (store_domain_get(s->st, s->caller.account_id, id, &d, err) != 0) {
        if (is_not_found(err))
            domain_not_found(id, err);
        goto out;
    }
    if (strcmp(d.dcv_method, "email") == 0) {
        cm_err_set(err, "domain_state",
                   "domain %s uses email validation: confirm with the code from the mail "
                   "(POST /dcv/email/confirm), or choose a token method with PUT "
                   "/domain/%lld/dcv/method",
                   d.name, (long long)id);
        goto out;
    }
    if (str_empty(d.dcv_value)) {
        cm_err_set(err, "domain_state",
                   "domain %s has no random value to check; set one with PUT "
                   "/domain/%lld/dcv/method",
                   d.name, (long long)id);
        goto out;
    }
    if (d.dcv_value_expires <= clock_now()) {
        cm_err_set(err, "dcv_value_expired",
                   "the random value of %s has expired (they last %d days); get a new one with "
                   "PUT /domain/%lld/dcv/method and publish it",
                   d.name, DCV_VALUE_LIFETIME / 86400, (long long)id);
        goto out;
    }
    /* The network check, outside any transaction. */
    if (dcv_check(s->cfg, d.dcv_method, d.name, d.dcv_value, err) != 0)
        goto out;

    const int64_t now = clock_now();
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_domain_get(s->st, s->caller.account_id, id, &again, err) != 0) {
        if (is_not_found(err))
            domain_not_found(id, err);
        goto out;
    }
    if (strcmp(again.dcv_method, d.dcv_method) != 0 || strcmp(again.dcv_value, d.dcv_value) != 0) {
        cm_err_set(err, "domain_state",
                   "the DCV method of %s changed while it was being checked; publish the new "
                   "value and check again",
                   d.name);
        goto out;
    }
    if (record_validated(s, &again, now, again.dcv_method, err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;
    *out = again;
    reevaluate(s, again.account_id);
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    return rc;
}

int svc_domain_email_confirm(cm_svc *s, const char *code, cm_domain *out, cm_err *err)
{
    int rc = -1;
    bool open = false;
    cm_domain *cand = NULL;
    size_t n = 0;
    char want[DCV_CODE_LEN + 1];

    /* Codes are lower-case hex; anything else cannot match. */
    if (str_copy(want, sizeof want, code) != 0 || strlen(want) != DCV_CODE_LEN)
        goto bad;
    for (char *p = want; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (!isxdigit((unsigned char)*p))
            goto bad;
    }
    const int64_t now = clock_now();
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    char prefix[DCV_CODE_PREFIX + 1];
    memcpy(prefix, want, DCV_CODE_PREFIX);
    prefix[DCV_CODE_PREFIX] = '\0';
    if (store_domain_by_code_any(s->st, "email", prefix, &cand, &n, err) != 0)
        goto out;
    /* Compare every candidate in full and in constant time; the lookup by prefix leaks at most
     * that a prefix exists. */
    size_t hit = n;
    for (size_t i = 0; i < n; i++) {
        char have[DCV_CODE_LEN + 1] = {0};
        str_copy(have, sizeof have, cand[i].dcv_value);
        bool eq =
            str_ct_equal(have, want, DCV_CODE_LEN) && strlen(cand[i].dcv_value) == DCV_CODE_LEN;
        if (eq && hit == n)
            hit = i;
    }
    if (hit == n || cand[hit].dcv_value_expires <= now)
        goto bad;
    cm_domain d = cand[hit];
    d.dcv_value[0] = '\0'; /* one-time */
    d.dcv_value_expires = 0;
    if (record_validated(s, &d, now, "email", err) != 0)
        goto out;
    if (store_commit(s->st, err) != 0)
        goto out;
    open = false;
    *out = d;
    reevaluate(s, d.account_id);
    rc = 0;
    goto out;
bad:
    cm_err_set(err, "dcv_code_invalid",
               "this confirmation code is unknown, was already used or has expired; ask the "
               "account to send a new one (PUT /domain/{id}/dcv/method with email)");
out:
    if (open)
        store_rollback(s->st);
    free(cand);
    return rc;
}

/* True when `name` looks like an IP address (core/names.c has normalised it already). */
static bool is_ip(const char *name)
{
    if (strchr(name, ':') != NULL)
        return true;
    for (const char *p = name; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.')
            return false;
    return true;
}

int svc_domain_covers(cm_svc *s, int64_t account_id, const char *name, int64_t now, bool *covered,
                      int64_t *domain_id, cm_err *err)
{
    *covered = false;
    *domain_id = 0;
    const char *p = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
    if (is_ip(p))
        return 0;
    /* The name itself, then each parent with at least two labels; the most specific current
     * domain wins. */
    for (; p != NULL && strchr(p, '.') != NULL; p = strchr(p, '.') + 1) {
        cm_domain d;
        if (store_domain_get_by_name(s->st, account_id, p, &d, err) != 0) {
            if (!is_not_found(err))
                return -1;
            cm_err_clear(err);
            continue;
        }
        if (d.valid_until > now) {
            *covered = true;
            *domain_id = d.id;
            return 0;
        }
    }
    return 0;
}

int svc_domain_ensure(cm_svc *s, int64_t account_id, const char *name, cm_err *err)
{
    int rc = -1;
    char *detail = NULL;
    const char *p = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
    if (is_ip(p))
        return 0; /* addresses are not validated through a domain */
    /* A row for the name or any parent is something the user can validate already. */
    for (const char *q = p; q != NULL && strchr(q, '.') != NULL; q = strchr(q, '.') + 1) {
        cm_domain d;
        if (store_domain_get_by_name(s->st, account_id, q, &d, err) == 0)
            return 0;
        if (!is_not_found(err))
            return -1;
        cm_err_clear(err);
    }
    cm_domain d;
    memset(&d, 0, sizeof d);
    if (name_registrable(p, d.name, sizeof d.name, err) != 0) {
        if (strcmp(err->code, "name_invalid") != 0)
            return -1;
        /* An internal name of a private product has no registrable domain to validate. */
        cm_err_clear(err);
        return 0;
    }
    const int64_t now = clock_now();
    d.account_id = account_id;
    d.created_at = now;
    new_value(&d, "dns-txt-token", now);
    if (store_domain_insert(s->st, &d, err) != 0)
        goto out;
    detail = svc_detail(
        json_pack("{s:s, s:s, s:s}", "name", d.name, "dcv_method", d.dcv_method, "via", "order"));
    if (svc_audit(s, account_id, "domain.create", "domain", d.id, detail, err) != 0)
        goto out;
    rc = 0;
out:
    free(detail);
    return rc;
}
