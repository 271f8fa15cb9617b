/* store.h — persistence behind one interface (DESIGN.md §2, §4). Only src/store/ holds SQL.
 *
 * A cm_store is one connection, used by one thread at a time (each HTTP worker and each job
 * worker owns one; see store_pool_*). Business code opens a transaction with store_begin, calls
 * the noun functions below, and ends with store_commit or store_rollback.
 *
 * Conventions of every function here:
 * - returns 0 on success, -1 with `err` set; errors: `<noun>_not_found` when a get finds no
 *   row (404), `conflict` for a unique-key clash, `store_busy` when the database stayed locked
 *   past the busy timeout, `store_error` for anything else (the SQLite message is logged, not
 *   returned to users);
 * - every lookup of account data takes the account id and filters by it, so a row of another
 *   account is simply "not found";
 * - times are UTC seconds (int64_t); 0 means "none";
 * - structs are filled by value; list results are malloc'd arrays the caller frees with the
 *   matching *_free_list function (or free() where noted).
 */
#ifndef CM_STORE_STORE_H
#define CM_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/org.h"
#include "util/config.h"
#include "util/err.h"

typedef struct cm_store cm_store;

/* ---- connection, migrations, transactions ---- */

/* Opens the database of `cfg` (cfg->db, or DIR/certmint.db when empty) with WAL, foreign keys
 * on, synchronous=FULL and a busy timeout, and runs the pending migrations when `migrate` is
 * true (else refuses a database whose schema is older than the code: `store_needs_migration`).
 * Caller frees with store_close. */
int store_open(const cm_config *cfg, bool migrate, cm_store **out, cm_err *err);
void store_close(cm_store *st);

/* Runs the pending numbered migrations, each in its own transaction. *from and *to receive
 * the schema versions before and after (either may be NULL). */
int store_migrate(cm_store *st, int *from, int *to, cm_err *err);

/* The schema version of the open database, and the newest the code knows. */
int store_schema_version(cm_store *st);
int store_schema_latest(void);

/* BEGIN IMMEDIATE (a write transaction), COMMIT (durable when it returns: synchronous=FULL),
 * ROLLBACK (never fails; safe to call when no transaction is open). */
int store_begin(cm_store *st, cm_err *err);
int store_commit(cm_store *st, cm_err *err);
void store_rollback(cm_store *st);

/* A small pool of connections shared by threads: store_pool_get blocks until one is free.
 * Caller frees the pool with store_pool_close after every connection is back.
 * The pool's write transactions commit as a group (DESIGN.md §4): they queue on one in-process
 * lock instead of SQLite's busy handler, and each store_commit returns once an fsync of the
 * journal — possibly one shared with concurrent commits — made it durable. */
typedef struct cm_store_pool cm_store_pool;
int store_pool_open(const cm_config *cfg, int size, cm_store_pool **out, cm_err *err);
cm_store *store_pool_get(cm_store_pool *p);
void store_pool_put(cm_store_pool *p, cm_store *st);
void store_pool_close(cm_store_pool *p);
/* Write transactions the pool committed, and the fsyncs that made them durable. */
void store_pool_stats(cm_store_pool *p, uint64_t *commits, uint64_t *syncs);

/* ---- lists ---- */

/* Paging, sorting and filtering of list queries. `sort` and filter names are checked against
 * each list's own allowed columns (documented at each function); an unknown one gives
 * `field_invalid`. */
typedef struct cm_list_opts {
    int64_t offset;
    int64_t limit; /* 1..1000 */
    const char *sort; /* column name without '-', or NULL for the default (id) */
    bool desc;
    const char *filter_names[8];
    const char *filter_values[8];
    size_t n_filters;
} cm_list_opts;

/* ---- accounts ---- */

typedef struct cm_account {
    int64_t id;
    char name[256];
    int64_t created_at;
    /* settings (DESIGN.md §5 account settings) */
    bool allow_duplicates;          /* R-D2, default true */
    bool skip_approval;             /* R-O2, default false */
    int reissue_revoke_delay_hours; /* R-O4, default 72 */
    int renewal_window_days;        /* R-O5, default 90 */
    int auto_renew_days;            /* R-O5, default 30 */
} cm_account;

/* Inserts `a` (id ignored) and sets a->id. */
int store_account_insert(cm_store *st, cm_account *a, cm_err *err);
int store_account_get(cm_store *st, int64_t id, cm_account *out, cm_err *err);
/* Updates the settings fields of account a->id. */
int store_account_update(cm_store *st, const cm_account *a, cm_err *err);
/* sort: id, name, created_at. filters: name. */
int store_account_list(cm_store *st, const cm_list_opts *o, cm_account **out, size_t *n,
                       int64_t *total, cm_err *err);

/* ---- users ---- */

typedef struct cm_user {
    int64_t id;
    int64_t account_id;
    char email[256];
    char first_name[128];
    char last_name[128];
    char role[32];           /* administrator, manager, standard_user, limited_user */
    char password_hash[256]; /* argon2id encoded, or "" (no console login yet) */
    char status[16];         /* active, disabled */
    int64_t created_at;
} cm_user;

/* Unique per account: (account_id, email) → `conflict`. */
int store_user_insert(cm_store *st, cm_user *u, cm_err *err);
int store_user_get(cm_store *st, int64_t account_id, int64_t id, cm_user *out, cm_err *err);
int store_user_get_by_email(cm_store *st, int64_t account_id, const char *email, cm_user *out,
                            cm_err *err);
/* sort: id, email, last_name, created_at. filters: role, status, email. */
int store_user_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_user **out,
                    size_t *n, int64_t *total, cm_err *err);

/* ---- API keys (stored hashed: SHA-256 of the whole key; looked up by its public prefix) ---- */

typedef struct cm_apikey {
    int64_t id;
    int64_t account_id; /* 0 for operator keys */
    int64_t user_id;    /* 0 for operator keys */
    bool operator;
    char name[128];
    char prefix[24];    /* the public, unique lookup part of the key */
    unsigned char hash[32];
    int64_t created_at;
    int64_t revoked_at; /* 0 while usable */
} cm_apikey;

int store_apikey_insert(cm_store *st, cm_apikey *k, cm_err *err);
/* Any key (usable or revoked) by prefix; `apikey_not_found`. Not scoped: authentication. */
int store_apikey_by_prefix(cm_store *st, const char *prefix, cm_apikey *out, cm_err *err);
int store_apikey_get(cm_store *st, int64_t account_id, int64_t id, cm_apikey *out, cm_err *err);
/* Sets revoked_at = now on a usable key of the account. */
int store_apikey_revoke(cm_store *st, int64_t account_id, int64_t id, int64_t now, cm_err *err);
/* sort: id, name, created_at. filters: user_id. Scoped to the account. */
int store_apikey_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_apikey **out,
                      size_t *n, int64_t *total, cm_err *err);

/* ---- organisations, their OV/EV records and verified contacts ---- */

typedef struct cm_org_row {
    int64_t id;
    int64_t account_id;
    cm_org org;
    int64_t created_at;
    int64_t ov_valid_until; /* 0 = never validated; the latest record's expiry */
    int64_t ev_valid_until;
    int64_t ov_validated_at;
    int64_t ev_validated_at;
} cm_org_row;

/* Inserts the organisation (validation fields ignored). */
int store_org_insert(cm_store *st, cm_org_row *o, cm_err *err);
/* Loads it with its latest OV and EV validation records. */
int store_org_get(cm_store *st, int64_t account_id, int64_t id, cm_org_row *out, cm_err *err);
/* sort: id, name, created_at. filters: name, country. */
int store_org_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_org_row **out,
                   size_t *n, int64_t *total, cm_err *err);
/* Records an operator's vetting: type "ov" or "ev", validated now, valid until. */
int store_org_validation_add(cm_store *st, int64_t account_id, int64_t org_id, const char *type,
                             int64_t validated_at, int64_t valid_until, cm_err *err);

typedef struct cm_contact {
    int64_t org_id;
    int64_t user_id;
    bool ev_approver;
    int64_t created_at;
} cm_contact;

/* Inserts or replaces the contact (org and user must be of the account). */
int store_contact_put(cm_store *st, int64_t account_id, const cm_contact *c, cm_err *err);
/* `contact_not_found` when the user is no contact of the organisation. */
int store_contact_get(cm_store *st, int64_t account_id, int64_t org_id, int64_t user_id,
                      cm_contact *out, cm_err *err);
/* All contacts of an organisation; caller frees *out. */
int store_contact_list(cm_store *st, int64_t account_id, int64_t org_id, cm_contact **out,
                       size_t *n, cm_err *err);

/* ---- domains and their DCV ---- */

typedef struct cm_domain {
    int64_t id;
    int64_t account_id;
    char name[256];          /* normalised A-label, no wildcard */
    int64_t org_id;          /* 0 = none */
    char dcv_method[24];     /* dns-txt-token, dns-cname-token, http-token, email */
    char dcv_value[80];      /* the random value the owner publishes */
    int64_t dcv_value_expires;
    char dcv_email[256];     /* email method: the address the code went to */
    int64_t validated_at;    /* 0 = never */
    int64_t valid_until;     /* validated_at + reuse period */
    int64_t created_at;
} cm_domain;

int store_domain_insert(cm_store *st, cm_domain *d, cm_err *err);
int store_domain_get(cm_store *st, int64_t account_id, int64_t id, cm_domain *out, cm_err *err);
int store_domain_get_by_name(cm_store *st, int64_t account_id, const char *name, cm_domain *out,
                             cm_err *err);
/* Writes the DCV fields (method, value, expiry, email, validated_at, valid_until) of d->id. */
int store_domain_update_dcv(cm_store *st, const cm_domain *d, cm_err *err);
/* sort: id, name, created_at, valid_until. filters: name, org_id. */
int store_domain_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_domain **out,
                      size_t *n, int64_t *total, cm_err *err);

/* ---- orders and their names ---- */

typedef struct cm_order_name {
    char name[256];          /* normalised; "*.example.com" for wildcards */
    char dcv_status[16];     /* DV orders: pending, valid; else "" */
    int64_t validated_at;
} cm_order_name;

typedef struct cm_order {
    int64_t id;
    int64_t account_id;
    int64_t user_id;         /* who ordered */
    char product[48];
    int64_t org_id;          /* 0 for DV */
    char status[24];         /* needs_approval, pending, issued, reissue_pending, rejected,
                                canceled, revoked, expired */
    char common_name[256];
    cm_order_name *names;    /* malloc'd; free with store_order_clear; names[0..n_names) */
    size_t n_names;
    int validity_years;      /* coverage, 1..6 */
    int64_t coverage_end;    /* set at first issuance: issued_at + years */
    char csr[16384];         /* PEM CSR of the pending request */
    char signature_hash[16];
    int server_platform;
    bool auto_renew;
    int64_t renewal_of_order_id;
    int64_t renewed_by_order_id;
    char dcv_method[24];     /* DV orders */
    char dcv_value[80];
    int64_t dcv_value_expires;
    char issuer[16];         /* "ecdsa" or "rsa": which issuing CA key type */
    int64_t created_at;
    int64_t updated_at;
    int64_t issued_at;
    char note[512];          /* cancellation / rejection note */
} cm_order;

/* Frees the names of an order (the struct itself is the caller's). */
void store_order_clear(cm_order *o);
/* Inserts the order with its names and sets o->id. */
int store_order_insert(cm_store *st, cm_order *o, cm_err *err);
/* Loads the order with its names; caller calls store_order_clear. */
int store_order_get(cm_store *st, int64_t account_id, int64_t id, cm_order *out, cm_err *err);
/* Writes every mutable column of o->id (status, csr, names, dcv, coverage, renewal links,
 * note, issued_at, updated_at). */
int store_order_update(cm_store *st, const cm_order *o, cm_err *err);
/* Lists without names and without csr (n_names = 0, names = NULL). user_id > 0 restricts to
 * that user's orders (limited users). sort: id, created_at, status, common_name, product,
 * issued_at. filters: status, product, common_name, org_id. Caller frees with
 * store_order_free_list. */
int store_order_list(cm_store *st, int64_t account_id, int64_t user_id, const cm_list_opts *o,
                     cm_order **out, size_t *n, int64_t *total, cm_err *err);
void store_order_free_list(cm_order *list, size_t n);

/* ---- requests (approvals) ---- */

typedef struct cm_request {
    int64_t id;
    int64_t account_id;
    int64_t order_id;
    char type[24];           /* new_request, reissue, renewal, revoke, ev_approval (R-O2: a
                                verified contact's approval of an EV order) */
    char status[16];         /* pending, approved, rejected */
    int64_t requester_id;    /* user */
    int64_t processor_id;    /* user who approved or rejected, 0 */
    char comments[1024];
    char processor_comment[1024];
    int64_t certificate_id;  /* revoke requests of one certificate; 0 = the whole order */
    int revocation_reason;
    int64_t created_at;
    int64_t processed_at;
} cm_request;

int store_request_insert(cm_store *st, cm_request *r, cm_err *err);
int store_request_get(cm_store *st, int64_t account_id, int64_t id, cm_request *out,
                      cm_err *err);
/* The CSR a reissue request carries until it is issued (at most REQUEST_CSR_MAX - 1 bytes). */
#define REQUEST_CSR_MAX 16384
int store_request_set_csr(cm_store *st, int64_t account_id, int64_t id, const char *csr,
                          cm_err *err);
/* Copies the request's CSR ("" when none) into out. */
int store_request_get_csr(cm_store *st, int64_t account_id, int64_t id, char *out,
                          size_t outsz, cm_err *err);
/* Writes status, processor, processor_comment, processed_at of r->id. */
int store_request_update(cm_store *st, const cm_request *r, cm_err *err);
/* user_id > 0 restricts to that user's requests and the `ev_approval` requests of orders whose
 * organisation has the user as a verified EV-approver contact. sort: id, created_at, status, type.
 * filters: status, type, order_id. */
int store_request_list(cm_store *st, int64_t account_id, int64_t user_id, const cm_list_opts *o,
                       cm_request **out, size_t *n, int64_t *total, cm_err *err);

/* ---- certificates ---- */

typedef struct cm_cert_row {
    int64_t id;
    int64_t account_id;
    int64_t order_id;
    char kind[16];           /* original, reissue, duplicate */
    char status[24];         /* issued, revocation_pending, revoked, expired */
    char ca_id[24];          /* issuing CA id */
    char serial[41];         /* lower-case hex */
    unsigned char spki_sha256[32];
    char common_name[256];
    char names[8192];        /* the SANs, comma-separated, in certificate order */
    int64_t not_before, not_after;
    int server_platform;
    char signature_hash[16];
    int64_t request_id;      /* 0 */
    int64_t user_id;         /* who asked */
    int64_t created_at;
    int64_t revoked_at;
    int revocation_reason;
    int64_t revoke_after;    /* revocation_pending: when the job revokes it */
    char origin[12];         /* manual, agent, acme, auto_renew ("" = manual on insert) */
    int reminded_days;       /* the last expiry reminder sent: 30, 7, 1; 0 none */
    int64_t successor_id;    /* the duplicate auto-renew issued in its place (R-D15), 0 */
    const char *csr;         /* insert only: the CSR it was issued from (store_cert_get_csr) */
    unsigned char *der;      /* malloc'd by get; free with store_cert_clear */
    size_t der_len;
} cm_cert_row;

void store_cert_clear(cm_cert_row *c);
/* Inserts the certificate (with its DER) and sets c->id. (ca_id, serial) unique. */
int store_cert_insert(cm_store *st, cm_cert_row *c, cm_err *err);
/* With DER; caller calls store_cert_clear. */
int store_cert_get(cm_store *st, int64_t account_id, int64_t id, cm_cert_row *out, cm_err *err);
/* Unscoped, without DER: for OCSP and CRLs. `certificate_not_found`. */
int store_cert_by_serial(cm_store *st, const char *ca_id, const char *serial, cm_cert_row *out,
                         cm_err *err);
/* Every certificate of an order, newest first, without DER. Caller frees *out. */
int store_cert_list_by_order(cm_store *st, int64_t account_id, int64_t order_id,
                             cm_cert_row **out, size_t *n, cm_err *err);
/* True (*found) when a certificate of the order, or a revoked one of the account, has this key
 * (R-D6). */
int store_cert_spki_used(cm_store *st, int64_t account_id, int64_t order_id,
                         const unsigned char spki[32], bool *found, cm_err *err);
/* True (*found) when any certificate of any account with this key was revoked for key
 * compromise (reason 1): BR §6.1.1.3 forbids certifying it again. Unscoped on purpose. */
int store_cert_spki_compromised(cm_store *st, const unsigned char spki[32], bool *found,
                                cm_err *err);
/* Writes status, revoked_at, revocation_reason, revoke_after of c->id. */
int store_cert_update_status(cm_store *st, const cm_cert_row *c, cm_err *err);
/* The order's current certificate: its latest original or reissue (any status), without DER.
 * `certificate_not_found` when it has none. */
int store_cert_current(cm_store *st, int64_t account_id, int64_t order_id, cm_cert_row *out,
                       cm_err *err);
/* Copies the CSR certificate `id` was issued from ("" for none) into out (outsz bytes). */
int store_cert_get_csr(cm_store *st, int64_t account_id, int64_t id, char *out, size_t outsz,
                       cm_err *err);
/* Auto-renew of a duplicate (R-D15): records the attempt at `now` and, when successor > 0, the
 * certificate that replaced it. */
int store_cert_renewed(cm_store *st, int64_t account_id, int64_t id, int64_t successor,
                       int64_t now, cm_err *err);
/* Records the expiry reminder stage (30, 7, 1) sent for certificate `id`. */
int store_cert_set_reminded(cm_store *st, int64_t account_id, int64_t id, int days, cm_err *err);
/* Revoked certificates of an issuing CA for its CRL (serial, revoked_at, reason), oldest first,
 * excluding those expired more than `expired_before` ago is NOT done: all are listed.
 * Caller frees *out. */
int store_cert_list_revoked(cm_store *st, const char *ca_id, cm_cert_row **out, size_t *n,
                            cm_err *err);

/* Marks live certificates whose notAfter passed as `expired`, then issued orders whose coverage
 * ended or that have no live certificate left. *n_certs, *n_orders: rows changed. Inside the
 * caller's transaction (a savepoint). */
int store_expire(cm_store *st, int64_t now, int64_t *n_certs, int64_t *n_orders, cm_err *err);

/* A row of some account, for jobs that work across accounts. */
typedef struct cm_ref {
    int64_t account_id;
    int64_t id;
} cm_ref;

/* Unscoped, for the DCV re-check job: domains not currently validated whose random value is
 * still good and whose method the network can check (the token methods), and DV orders in status
 * pending with a live random value; oldest first, at most `max` each. Caller frees *out. */
int store_dcv_pending_domains(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                              cm_err *err);
int store_dcv_pending_orders(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                             cm_err *err);
/* Unscoped, for the lifecycle jobs (sqlite_operator.c), oldest first, at most `max`:
 * - certificates in status revocation_pending whose revoke_after ≤ now;
 * - issued orders with auto_renew on, not yet renewed, whose latest original or reissue
 *   certificate ends within their account's auto_renew_days of now (or within a third of its
 *   validity, when that is less), and that auto-renew did not try in the last day
 *   (auto_renew_tried_at);
 * - live certificates (status issued) that end within 30 days and have not had the reminder of
 *   their stage (30, 7, 1 days before the end) — originals and reissues of orders not yet
 *   renewed, duplicates that auto-renew did not replace: *out[i].id is the certificate,
 *   stage[i] the stage due (caller frees both). */
int store_cert_revocations_due(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                               cm_err *err);
int store_orders_auto_renew_due(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                                cm_err *err);
int store_certs_reminder_due(cm_store *st, int64_t now, size_t max, cm_ref **out, int **stage,
                             size_t *n, cm_err *err);
/* Unscoped, for auto-renew (R-D15): live duplicates without a successor of auto_renew orders that
 * a newer order renewed, ending within their account's auto_renew_days (or a third of their
 * validity), not tried in the last day. */
int store_dups_auto_renew_due(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                              cm_err *err);
/* Records that auto-renew tried order `id` at `now`. */
int store_order_auto_renew_tried(cm_store *st, int64_t account_id, int64_t id, int64_t now,
                                 cm_err *err);
/* The order that renewed nothing yet in the chain starting at `order_id`: follows
 * renewed_by_order_id (at most 100 steps) and fills *ids with the chain after order_id, oldest
 * first (caller frees; NULL when none). */
int store_order_renewal_chain(cm_store *st, int64_t account_id, int64_t order_id, int64_t **ids,
                              size_t *n, cm_err *err);

/* Unscoped, for email confirmation (no API key): DV orders waiting for validation by email whose
 * code starts with `prefix` (at most 16). Caller frees *out. */
int store_dcv_code_orders(cm_store *st, const char *prefix, cm_ref **out, size_t *n,
                          cm_err *err);

/* ---- CRLs ---- */

typedef struct cm_crl_row {
    char ca_id[24];
    uint64_t number;         /* last CRLNumber used */
    int64_t this_update, next_update;
    bool dirty;              /* a revocation since this CRL was made */
    unsigned char *der;      /* malloc'd; free() */
    size_t der_len;
} cm_crl_row;

/* `crl_not_found` when none was made yet. */
int store_crl_get(cm_store *st, const char *ca_id, cm_crl_row *out, cm_err *err);
/* Inserts or replaces the CRL of c->ca_id (dirty cleared). */
int store_crl_put(cm_store *st, const cm_crl_row *c, cm_err *err);
/* Marks the CRL of ca_id out of date (creates the row with number 0 when missing). */
int store_crl_mark_dirty(cm_store *st, const char *ca_id, cm_err *err);

/* ---- jobs (leased by workers) and the mail outbox ---- */

typedef struct cm_job {
    int64_t id;
    char kind[32];           /* mail, crl_refresh, dcv_recheck, revoke_pending, … */
    char payload[2048];      /* JSON text */
    char unique_key[128];    /* "" or a key: enqueueing a second queued job with it is a no-op */
    int64_t run_at;
    int attempts;
    int max_attempts;
    char status[16];         /* queued, running, done, failed */
    char last_error[512];
    int64_t lease_until;
} cm_job;

/* Enqueues a job (status queued). With a unique_key, an existing queued or running job of the
 * same key makes this a no-op (j->id set to that job). */
int store_job_enqueue(cm_store *st, cm_job *j, cm_err *err);
/* Takes the oldest due job (run_at ≤ now, queued, or running with an expired lease), marks it
 * running with lease_until = now + lease_secs, attempts + 1, and fills *out. *got = false when
 * none is due. Its own transaction. */
int store_job_lease(cm_store *st, int64_t now, int lease_secs, cm_job *out, bool *got,
                    cm_err *err);
/* Marks the job done. */
int store_job_done(cm_store *st, int64_t id, cm_err *err);
/* Records the error; re-queues at retry_at, or marks failed when attempts ≥ max_attempts. */
int store_job_retry(cm_store *st, int64_t id, const char *error, int64_t retry_at, cm_err *err);
/* Marks the job failed at once with the error: for errors no retry can mend (an unknown kind,
 * a mail that cannot be composed). */
int store_job_fail(cm_store *st, int64_t id, const char *error, cm_err *err);
/* Counts jobs by status (for /health and tests). */
int store_job_counts(cm_store *st, int64_t *queued, int64_t *running, int64_t *failed,
                     cm_err *err);

typedef struct cm_mail_row {
    int64_t id;
    int64_t account_id;      /* 0 = operator mail */
    char to_addr[256];
    char subject[256];
    char status[16];         /* queued, sent, failed */
    int64_t created_at, sent_at;
    unsigned char *message;  /* the composed RFC 5322 bytes; malloc'd by get, free() */
    size_t message_len;
} cm_mail_row;

/* Inserts the mail (status queued) and sets m->id. */
int store_mail_insert(cm_store *st, cm_mail_row *m, cm_err *err);
/* Unscoped (the mail job). */
int store_mail_get(cm_store *st, int64_t id, cm_mail_row *out, cm_err *err);
int store_mail_set_status(cm_store *st, int64_t id, const char *status, int64_t sent_at,
                          cm_err *err);

/* ---- audit events, chained by hash ---- */

typedef struct cm_audit {
    int64_t id;
    int64_t account_id;      /* 0 = operator-level event */
    int64_t at;
    int64_t user_id;         /* actor, 0 */
    int64_t key_id;          /* actor's key, 0 */
    bool operator;
    char action[48];         /* order.create, order.approve, certificate.issue, … */
    char object_type[24];    /* order, certificate, request, domain, … */
    int64_t object_id;
    char detail[2048];       /* JSON object text, never a secret */
    unsigned char prev_hash[32];
    unsigned char hash[32];  /* SHA-256 over prev_hash and every other column */
} cm_audit;

/* Appends an event: fills prev_hash from the last event (all zero for the first), computes
 * hash, sets e->id. Must run inside the transaction of the change it records. */
int store_audit_append(cm_store *st, cm_audit *e, cm_err *err);
/* sort: id, at, action. filters: action, object_type, object_id. */
int store_audit_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_audit **out,
                     size_t *n, int64_t *total, cm_err *err);
/* Walks the whole chain; *bad_id = 0 when every row links and hashes correctly, else the
 * first row that does not. *checked = rows walked. */
int store_audit_verify(cm_store *st, int64_t *bad_id, int64_t *checked, cm_err *err);

/* ---- operator lookups (unscoped; src/store/sqlite_operator.c) ---- */

/* An organisation of any account (the operator vets organisations of every account), with its
 * latest OV and EV records as store_org_get; out->account_id tells whose. */
int store_org_get_any(cm_store *st, int64_t id, cm_org_row *out, cm_err *err);

/* Domains of any account whose DCV method is `method` and whose random value starts with
 * `prefix` (email confirmation codes: the caller compares the whole value in constant time).
 * At most 16 rows; *out is malloc'd (NULL when none), the caller frees it with free(). */
int store_domain_by_code_any(cm_store *st, const char *method, const char *prefix,
                             cm_domain **out, size_t *n, cm_err *err);

#endif
