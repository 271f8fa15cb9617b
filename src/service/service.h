/* service.h — the use cases of certmint (DESIGN.md §2 "service/"). Every entry point (REST,
 * console, ACME, jobs, CLI admin commands) calls these functions, so each rule is enforced in
 * exactly one place.
 *
 * Shape of every use case: take a cm_svc (configuration, engine, one store connection, the
 * caller), check the caller's rights, validate input, do any network checks (DNS, HTTP) BEFORE
 * opening the transaction, then store_begin → load → ask core/ for the decision → pki/ to sign →
 * write rows, the audit event and any outbox mail → store_commit. On any error: rollback, and
 * the error says what to do. A certificate is committed before it is returned.
 *
 * Error codes map to HTTP statuses in src/http/errmap.c; use the generic ones where they fit:
 * `forbidden` (403: the role may not do this), `<noun>_not_found` (404; also for rows of other
 * accounts), `field_invalid`/`field_required` (400), `<noun>_state` (409: e.g. an order that is
 * not pending cannot be cancelled), `validation_required` (409). */
#ifndef CM_SERVICE_SERVICE_H
#define CM_SERVICE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/product.h"
#include "pki/pki.h"
#include "service/caller.h"
#include "store/store.h"
#include "util/config.h"
#include "util/err.h"

typedef struct cm_svc {
    const cm_config *cfg;
    cm_pki *pki;    /* NULL in commands that never sign */
    cm_store *st;   /* one connection owned by this thread for the call */
    cm_caller caller;
} cm_svc;

/* ---- common (svc_common.c) ---- */

/* Appends an audit event for the caller inside the open transaction. `detail` is a JSON object
 * text (NULL = "{}"), never a secret. */
int svc_audit(cm_svc *s, int64_t account_id, const char *action, const char *object_type,
              int64_t object_id, const char *detail, cm_err *err);

/* An audit detail object as compact JSON text with sorted keys; takes `o`. Caller frees; NULL
 * when out of memory (svc_audit then writes "{}"). */
char *svc_detail(json_t *o);

/* Composes a mail (net/mail.h) and queues it in the outbox with a delivery job, inside the
 * open transaction. Attachments optional (PEM chain of an issued certificate, …). */
struct cm_mail;
int svc_mail_queue(cm_svc *s, int64_t account_id, const struct cm_mail *m, cm_err *err);

/* Delivers outbox mail `mail_id` (the mail job): over SMTP or into the spool, then marks it sent;
 * a mail already sent is not sent again (delivery is at least once: should the store fail after
 * the server accepted it, a retry sends it again). `last_attempt` marks the row failed when
 * delivery fails. */
int svc_mail_deliver(cm_svc *s, int64_t mail_id, int64_t now, bool last_attempt, cm_err *err);

/* Rights: 0 when the caller is an operator (operator_ok) or has one of the roles (a
 * ROLE_NONE-terminated list), else `forbidden` naming what is needed. */
int svc_require(const cm_svc *s, bool operator_ok, const cm_role *roles, cm_err *err);
bool svc_is_admin(const cm_svc *s);           /* administrator */
bool svc_is_approver(const cm_svc *s);        /* administrator or manager (R-O1) */

/* A new random value for DCV: 32 lower-case hex characters (128 bits). */
void svc_random_value(char out[33]);

/* Reuse periods (R-O3, COMPLIANCE §1.1). */
#define DCV_VALUE_LIFETIME (30 * 86400)      /* a random value is good for 30 days */
#define DCV_REUSE_SECONDS (199 * 86400)      /* OV/EV domain validation reuse */
#define ORG_VALIDATION_DEFAULT_DAYS 398

/* ---- authentication, accounts, users, keys, settings, audit (svc_account.c) ---- */

/* Maps an X-DC-DEVKEY value to a caller: looks the key up by its prefix, compares the SHA-256
 * of the whole key in constant time, refuses revoked keys and disabled users.
 * Errors: `unauthorized` (the message never echoes the key). */
int svc_authenticate(cm_store *st, const char *devkey, cm_caller *out, cm_err *err);

/* Creates an API key for a user (account_id/user_id 0 and op = true: an operator key) and
 * writes the plaintext key once into `plain` (≥ API_KEY_SIZE bytes, svc_account.h). The store
 * keeps only its hash. Its own transaction, with the audit event. */
int svc_key_make(cm_svc *s, int64_t account_id, int64_t user_id, bool op, const char *name,
                 cm_apikey *out, char *plain, size_t plainsz, cm_err *err);

/* Creates an account with its first administrator and that administrator's API key
 * (operator only, or internal callers with caller.operator set: `certmint init`). Its own
 * transaction. */
int svc_account_create(cm_svc *s, const char *name, const cm_user *admin, cm_account *acct,
                       cm_user *admin_out, char *admin_key, size_t keysz, cm_err *err);

/* ---- organisations and domains (svc_org.c, svc_domain.c) ---- */

/* True when `name` ("www.example.com", "*.example.com", an IP) is covered by a domain of the
 * account whose DCV is current at `now` (valid_until > now). *domain_id receives the covering
 * domain's id, or 0. */
int svc_domain_covers(cm_svc *s, int64_t account_id, const char *name, int64_t now,
                      bool *covered, int64_t *domain_id, cm_err *err);

/* Makes sure a domain row exists for the registrable domain of `name` (so the user can validate
 * it), creating one with the dns-txt-token method and a fresh random value when missing.
 * Inside the open transaction. */
int svc_domain_ensure(cm_svc *s, int64_t account_id, const char *name, cm_err *err);

/* ---- orders, requests, certificates, revocation (svc_order.c, svc_cert.c) ---- */

/* Re-evaluates the account's orders in status `pending` after a validation changed (a domain
 * validated, an organisation vetted): issues those whose every condition is now met. Runs its
 * own transactions; errors of one order are logged, not returned. */
int svc_orders_reevaluate(cm_svc *s, int64_t account_id, cm_err *err);

#endif
