/* svc_account.h — the use cases of accounts, users, API keys, account settings and the audit log
 * that only the REST layer calls (the cross-slice ones — svc_authenticate, svc_key_make,
 * svc_account_create — are in service.h). Rights follow R-O1: the operator manages accounts;
 * administrators manage users, keys and settings; administrators and managers read the audit
 * log and every user; the others see themselves and their own keys. Rows of other accounts are
 * "not found". */
#ifndef CM_SERVICE_SVC_ACCOUNT_H
#define CM_SERVICE_SVC_ACCOUNT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "service/service.h"

/* Length of an API key "cm_" + 12-character prefix + "_" + 52-character secret (base32,
 * 260 bits), and the buffer that holds one with its NUL. */
#define API_KEY_LEN  68
#define API_KEY_SIZE (API_KEY_LEN + 1)

/* ---- accounts (operator) ---- */

/* One account with its settings; `account_not_found`. */
int svc_account_get(cm_svc *s, int64_t id, cm_account *out, cm_err *err);
/* A page of accounts; *out is malloc'd, caller frees with free(). */
int svc_account_list(cm_svc *s, const cm_list_opts *o, cm_account **out, size_t *n, int64_t *total,
                     cm_err *err);

/* ---- users ---- */

/* Creates a user of the caller's account (administrators only) from u->email, first_name,
 * last_name and role; sets u->id and the other columns. Errors: `field_invalid`,
 * `user_exists` (409: the e-mail address is taken in this account). */
int svc_user_create(cm_svc *s, cm_user *u, cm_err *err);
/* A user of the caller's account: administrators and managers any, others only themselves
 * (`forbidden`). `user_not_found`. */
int svc_user_get(cm_svc *s, int64_t id, cm_user *out, cm_err *err);
/* A page of users: administrators and managers see all of the account, others only
 * themselves. *out is malloc'd, caller frees with free(). */
int svc_user_list(cm_svc *s, const cm_list_opts *o, cm_user **out, size_t *n, int64_t *total,
                  cm_err *err);

/* ---- API keys ---- */

/* POST /key: a key for user `user_id` of the caller's account — administrators for any user,
 * everyone for themselves. The plaintext key is written once into `plain` (≥ API_KEY_SIZE
 * bytes); the store keeps its prefix and SHA-256 only. */
int svc_key_create(cm_svc *s, int64_t user_id, const char *name, cm_apikey *out, char *plain,
                   size_t plainsz, cm_err *err);
/* A page of keys without secrets: administrators see the account's, others their own.
 * *out is malloc'd, caller frees with free(). */
int svc_key_list(cm_svc *s, const cm_list_opts *o, cm_apikey **out, size_t *n, int64_t *total,
                 cm_err *err);
/* Revokes key `id` of the caller's account (administrators any, others their own).
 * `key_not_found`, `key_state` (already revoked). */
int svc_key_revoke(cm_svc *s, int64_t id, cm_err *err);

/* ---- settings ---- */

/* A partial update of the account settings: a field left at SETTING_KEEP is not changed. */
#define SETTING_KEEP INT_MIN
typedef struct cm_settings_patch {
    int allow_duplicates; /* 0, 1 or SETTING_KEEP */
    int skip_approval;
    int reissue_revoke_delay_hours; /* 0..720 */
    int renewal_window_days;        /* 1..365 */
    int auto_renew_days;            /* 1..90, and not more than renewal_window_days */
} cm_settings_patch;

/* A patch that changes nothing (every field SETTING_KEEP). */
void svc_settings_patch_init(cm_settings_patch *p);
/* The caller's account with its settings (every user of the account). */
int svc_settings_get(cm_svc *s, cm_account *out, cm_err *err);
/* Applies `p` (administrators only) and returns the account as stored. */
int svc_settings_update(cm_svc *s, const cm_settings_patch *p, cm_account *out, cm_err *err);

/* ---- audit log ---- */

/* A page of audit events: administrators and managers get their account's, the operator the
 * operator-level events (account 0). *out is malloc'd, caller frees with free(). */
int svc_audit_list(cm_svc *s, const cm_list_opts *o, cm_audit **out, size_t *n, int64_t *total,
                   cm_err *err);

#endif
