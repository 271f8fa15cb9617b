/* svc_domain.h — domain use cases (DESIGN.md §5 "domains, DCV", R-O3): register a domain,
 * choose its DCV method, prove control (dns-txt-token, dns-cname-token, http-token over the
 * network; email by a one-time code from a mail to the domain's administrative addresses).
 * svc_domain_covers and svc_domain_ensure (order issuance) are in service.h. */
#ifndef CM_SERVICE_SVC_DOMAIN_H
#define CM_SERVICE_SVC_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/service.h"
#include "store/store.h"
#include "util/err.h"

/* The mailboxes the email method writes to (BR 3.2.2.4.4), as "<local>@<domain>". */
#define DCV_EMAIL_COUNT 5
extern const char *const dcv_email_locals[DCV_EMAIL_COUNT];

/* What the owner must publish, as the API shows it (dcv_token). */
typedef struct cm_dcv_token {
    bool present;                 /* false: no random value is set (e.g. after email) */
    bool email;                   /* email method: addresses only, never the code */
    char token[80];               /* token methods: the random value */
    char verification_value[256]; /* TXT/HTTP: the value; CNAME: the target to point at */
    char record_name[340];        /* where: "_dnsauth.example.com", "<value>.example.com" */
    char http_url[320];           /* http-token: the URL that must serve the value */
    char emails[DCV_EMAIL_COUNT][320];
    int64_t expires; /* expiration_date of the random value */
} cm_dcv_token;

/* "pending" (never validated), "active" (valid_until > now) or "expired". Static string. */
const char *svc_domain_status(const cm_domain *d, int64_t now);

/* Fills *t from the domain's method and value (cfg->dcv_cname_target for the CNAME method). */
void svc_domain_token(const cm_svc *s, const cm_domain *d, cm_dcv_token *t);

/* Registers a domain in the caller's account (administrators and managers): `name` is
 * normalised with the public name policy (no wildcard, no IP); `org_id` 0 or an organisation of
 * the account; `method` NULL for dns-txt-token. Makes a random value good for
 * DCV_VALUE_LIFETIME; for `email` queues the mails at once. Audit domain.create. Errors:
 * `forbidden`, `name_invalid`, `dcv_method_invalid`, `organization_not_found`, `domain_exists`
 * (409: the account already has it). */
int svc_domain_create(cm_svc *s, const char *name, int64_t org_id, const char *method,
                      cm_domain *out, cm_err *err);

/* One domain of the caller's account (every role). Errors: `forbidden`, `domain_not_found`. */
int svc_domain_get(cm_svc *s, int64_t id, cm_domain *out, cm_err *err);

/* The caller's domains (every role). sort: id, name, created_at, valid_until; filters: name,
 * org_id. *out is malloc'd; the caller frees it with free(). */
int svc_domain_list(cm_svc *s, const cm_list_opts *o, cm_domain **out, size_t *n, int64_t *total,
                    cm_err *err);

/* Sets the DCV method with a new random value that expires in DCV_VALUE_LIFETIME
 * (administrators and managers); a current validation stays current. For `email` queues one
 * mail with the code to each of dcv_email_locals @ the domain. Audit domain.dcv_method.
 * Errors: `forbidden`, `domain_not_found`, `dcv_method_invalid`. */
int svc_domain_set_method(cm_svc *s, int64_t id, const char *method, cm_domain *out, cm_err *err);

/* Runs the network check of the domain's token method (net/dcv.h) BEFORE any transaction, then
 * records validated_at = now, valid_until = now + DCV_REUSE_SECONDS (audit domain.validate) and
 * re-evaluates the account's pending orders (administrators and managers). Errors:
 * `forbidden`, `domain_not_found`, `domain_state` (email method: confirm the mailed code
 * instead; the method changed meanwhile), `dcv_value_expired`, and dcv_check's codes
 * (`dcv_txt_not_found`, `dcv_cname_not_found`, `dcv_http_not_found`, `http_fetch_failed`,
 * `http_redirect_refused`, `dns_failed`) with its message; the store is unchanged then. */
int svc_domain_validate(cm_svc *s, int64_t id, cm_domain *out, cm_err *err);

/* Confirms email DCV with the code a mail carried. No caller is needed (the recipient is the
 * domain's administrator, not a user): the domain is found by the code across accounts,
 * compared in constant time; the code must not have expired and works once (it is cleared).
 * Audit domain.validate in the domain's account, then its pending orders are re-evaluated.
 * Errors: `dcv_code_invalid` (404) for an unknown, used or expired code. */
int svc_domain_email_confirm(cm_svc *s, const char *code, cm_domain *out, cm_err *err);

/* Queues one mail with `code` to each administrative address of `domain` (admin@,
 * administrator@, webmaster@, hostmaster@, postmaster@), saying how to confirm and until when;
 * inside the open transaction. Domains and DV orders both validate by email this way. */
int svc_dcv_email_queue(cm_svc *s, int64_t account_id, const char *domain, const char *code,
                        int64_t expires, cm_err *err);

#endif
