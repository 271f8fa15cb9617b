/* sqlite_cert.c — certificates (DER kept as a BLOB) and CRLs in the SQLite backend. */
#include "store/internal.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- certificates ---- */

#define CERT_COLS                                                                                  \
    "id, account_id, order_id, kind, status, ca_id, serial, spki_sha256, common_name, names, "     \
    "not_before, not_after, server_platform, signature_hash, request_id, user_id, created_at, "    \
    "revoked_at, revocation_reason, revoke_after, origin, reminded_days, successor_id"

static void cert_row(sqlite3_stmt *s, void *out)
{
    cm_cert_row *c = out;
    memset(c, 0, sizeof *c);
    c->id = c_int(s, 0);
    c->account_id = c_int(s, 1);
    c->order_id = c_int(s, 2);
    c_text(s, 3, c->kind, sizeof c->kind);
    c_text(s, 4, c->status, sizeof c->status);
    c_text(s, 5, c->ca_id, sizeof c->ca_id);
    c_text(s, 6, c->serial, sizeof c->serial);
    c_blob32(s, 7, c->spki_sha256);
    c_text(s, 8, c->common_name, sizeof c->common_name);
    c_text(s, 9, c->names, sizeof c->names);
    c->not_before = c_int(s, 10);
    c->not_after = c_int(s, 11);
    c->server_platform = (int)c_int(s, 12);
    c_text(s, 13, c->signature_hash, sizeof c->signature_hash);
    c->request_id = c_int(s, 14);
    c->user_id = c_int(s, 15);
    c->created_at = c_int(s, 16);
    c->revoked_at = c_int(s, 17);
    c->revocation_reason = (int)c_int(s, 18);
    c->revoke_after = c_int(s, 19);
    c_text(s, 20, c->origin, sizeof c->origin);
    c->reminded_days = (int)c_int(s, 21);
    c->successor_id = c_int(s, 22);
}

void store_cert_clear(cm_cert_row *c)
{
    if (c == NULL)
        return;
    free(c->der);
    c->der = NULL;
    c->der_len = 0;
}

int store_cert_insert(cm_store *st, cm_cert_row *c, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO certificates (account_id, order_id, kind, status, ca_id, "
                            "serial, spki_sha256, common_name, names, not_before, not_after, "
                            "server_platform, signature_hash, request_id, user_id, created_at, "
                            "revoked_at, revocation_reason, revoke_after, der, origin, csr) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                            "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, c->account_id);
    b_int(s, 2, c->order_id);
    b_text(s, 3, c->kind);
    b_text(s, 4, c->status[0] != '\0' ? c->status : "issued");
    b_text(s, 5, c->ca_id);
    b_text(s, 6, c->serial);
    b_blob(s, 7, c->spki_sha256, sizeof c->spki_sha256);
    b_text(s, 8, c->common_name);
    b_text(s, 9, c->names);
    b_int(s, 10, c->not_before);
    b_int(s, 11, c->not_after);
    b_int(s, 12, c->server_platform);
    b_text(s, 13, c->signature_hash);
    b_ref(s, 14, c->request_id);
    b_ref(s, 15, c->user_id);
    b_int(s, 16, c->created_at);
    b_int(s, 17, c->revoked_at);
    b_int(s, 18, c->revocation_reason);
    b_int(s, 19, c->revoke_after);
    b_blob(s, 20, c->der, c->der_len);
    b_text(s, 21, c->origin[0] != '\0' ? c->origin : "manual");
    b_text(s, 22, c->csr != NULL ? c->csr : "");
    if (q_exec(st, s, "inserting a certificate",
               "a certificate with this serial number already exists for this CA", err) != 0)
        goto out;
    c->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

static void cert_row_der(sqlite3_stmt *s, void *out)
{
    cm_cert_row *c = out;
    cert_row(s, out);
    /* Out of memory leaves der NULL; store_cert_get reports it. */
    if (c_blob_dup(s, 23, &c->der, &c->der_len) != 0) {
        c->der = NULL;
        c->der_len = 0;
    }
}

int store_cert_get(cm_store *st, int64_t account_id, int64_t id, cm_cert_row *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "certificate %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s = q_get(
        st, "SELECT " CERT_COLS ", der FROM certificates WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret =
        q_one(st, s, cert_row_der, out, "certificate_not_found", nf, "reading a certificate", err);
    q_put(st, s);
    if (ret == 0 && out->der == NULL) {
        ret = cm_err_set(err, "store_error", "out of memory reading certificate %" PRId64, id);
        store_cert_clear(out);
    }
    return ret;
}

int store_cert_by_serial(cm_store *st, const char *ca_id, const char *serial, cm_cert_row *out,
                         cm_err *err)
{
    sqlite3_stmt *s =
        q_get(st, "SELECT " CERT_COLS " FROM certificates WHERE ca_id = ?1 AND serial = ?2", err);
    if (s == NULL)
        return -1;
    b_text(s, 1, ca_id);
    b_text(s, 2, serial);
    int ret =
        q_one(st, s, cert_row, out, "certificate_not_found",
              "no certificate with this serial number from this CA", "reading a certificate", err);
    q_put(st, s);
    return ret;
}

/* Reads every row of a prepared certificate query into a malloc'd array. */
static int cert_rows(cm_store *st, sqlite3_stmt *s, cm_cert_row **out, size_t *n, cm_err *err)
{
    int ret = -1, rc;
    cm_cert_row *arr = NULL;
    size_t cap = 0, count = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (st_grow((void **)&arr, &cap, count, sizeof *arr, SIZE_MAX / sizeof *arr) != 0) {
            cm_err_set(err, "store_error", "out of memory listing certificates");
            goto out;
        }
        cert_row(s, &arr[count++]);
    }
    if (rc != SQLITE_DONE) {
        st_fail(st, rc, "listing certificates", NULL, err);
        goto out;
    }
    *out = arr;
    *n = count;
    arr = NULL;
    ret = 0;
out:
    free(arr);
    return ret;
}

int store_cert_list_by_order(cm_store *st, int64_t account_id, int64_t order_id, cm_cert_row **out,
                             size_t *n, cm_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = q_get(st,
                            "SELECT " CERT_COLS " FROM certificates WHERE account_id = ?1 AND "
                            "order_id = ?2 ORDER BY id DESC",
                            err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, order_id);
    int ret = cert_rows(st, s, out, n, err);
    q_put(st, s);
    return ret;
}

int store_cert_spki_used(cm_store *st, int64_t account_id, int64_t order_id,
                         const unsigned char spki[32], bool *found, cm_err *err)
{
    int ret = -1;
    *found = false;
    sqlite3_stmt *s = q_get(st,
                            "SELECT EXISTS (SELECT 1 FROM certificates WHERE account_id = ?1 AND "
                            "spki_sha256 = ?3 AND (order_id = ?2 OR status = 'revoked'))",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, account_id);
    b_int(s, 2, order_id);
    b_blob(s, 3, spki, 32);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        st_fail(st, rc, "checking a public key", NULL, err);
        goto out;
    }
    *found = c_int(s, 0) != 0;
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_cert_spki_compromised(cm_store *st, const unsigned char spki[32], bool *found,
                                cm_err *err)
{
    int ret = -1;
    *found = false;
    sqlite3_stmt *s = q_get(st,
                            "SELECT EXISTS (SELECT 1 FROM certificates WHERE spki_sha256 = ?1 AND "
                            "revocation_reason = 1)",
                            err);
    if (s == NULL)
        goto out;
    b_blob(s, 1, spki, 32);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        st_fail(st, rc, "checking a public key", NULL, err);
        goto out;
    }
    *found = c_int(s, 0) != 0;
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_cert_update_status(cm_store *st, const cm_cert_row *c, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "UPDATE certificates SET status = ?3, revoked_at = ?4, "
                            "revocation_reason = ?5, revoke_after = ?6 "
                            "WHERE account_id = ?1 AND id = ?2",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, c->account_id);
    b_int(s, 2, c->id);
    b_text(s, 3, c->status);
    b_int(s, 4, c->revoked_at);
    b_int(s, 5, c->revocation_reason);
    b_int(s, 6, c->revoke_after);
    if (q_exec(st, s, "updating a certificate's status", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "certificate_not_found",
                   "certificate %" PRId64 " does not exist in this account", c->id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_cert_current(cm_store *st, int64_t account_id, int64_t order_id, cm_cert_row *out,
                       cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "order %" PRId64 " has no certificate", order_id);
    sqlite3_stmt *s = q_get(st,
                            /* max(id) over the (order_id, kind, id) index: an order's
                             * duplicates, however many, are never read */
                            "SELECT " CERT_COLS " FROM certificates WHERE account_id = ?1 AND "
                            "id = (SELECT max(id) FROM certificates WHERE order_id = ?2 AND "
                            "kind IN ('original', 'reissue'))",
                            err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, order_id);
    int ret = q_one(st, s, cert_row, out, "certificate_not_found", nf,
                    "reading the current certificate", err);
    q_put(st, s);
    return ret;
}

int store_cert_get_csr(cm_store *st, int64_t account_id, int64_t id, char *out, size_t outsz,
                       cm_err *err)
{
    return q_text_by_id(st, "SELECT csr FROM certificates WHERE account_id = ?1 AND id = ?2",
                        account_id, id, out, outsz, "certificate_not_found",
                        "a certificate's CSR", err);
}

int store_cert_renewed(cm_store *st, int64_t account_id, int64_t id, int64_t successor,
                       int64_t now, cm_err *err)
{
    sqlite3_stmt *s = q_get(st,
                            "UPDATE certificates SET renew_tried_at = ?4, successor_id = "
                            "CASE WHEN ?3 > 0 THEN ?3 ELSE successor_id END "
                            "WHERE account_id = ?1 AND id = ?2",
                            err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    b_int(s, 3, successor);
    b_int(s, 4, now);
    int ret = q_exec(st, s, "recording a duplicate's renewal", NULL, err);
    q_put(st, s);
    return ret;
}

int store_cert_set_reminded(cm_store *st, int64_t account_id, int64_t id, int days, cm_err *err)
{
    sqlite3_stmt *s = q_get(st,
                            "UPDATE certificates SET reminded_days = ?3 "
                            "WHERE account_id = ?1 AND id = ?2",
                            err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    b_int(s, 3, days);
    int ret = q_exec(st, s, "recording an expiry reminder", NULL, err);
    q_put(st, s);
    return ret;
}

int store_cert_list_revoked(cm_store *st, const char *ca_id, cm_cert_row **out, size_t *n,
                            cm_err *err)
{
    *out = NULL;
    *n = 0;
    /* `status = 'revoked'` literally, so the partial index certificates_revoked serves it. */
    sqlite3_stmt *s = q_get(st,
                            "SELECT " CERT_COLS " FROM certificates WHERE ca_id = ?1 AND "
                            "status = 'revoked' ORDER BY revoked_at, id",
                            err);
    if (s == NULL)
        return -1;
    b_text(s, 1, ca_id);
    int ret = cert_rows(st, s, out, n, err);
    q_put(st, s);
    return ret;
}

/* ---- CRLs ---- */

static void crl_row(sqlite3_stmt *s, void *out)
{
    cm_crl_row *c = out;
    memset(c, 0, sizeof *c);
    c_text(s, 0, c->ca_id, sizeof c->ca_id);
    c->number = (uint64_t)c_int(s, 1);
    c->this_update = c_int(s, 2);
    c->next_update = c_int(s, 3);
    c->dirty = c_int(s, 4) != 0;
    if (c_blob_dup(s, 5, &c->der, &c->der_len) != 0) {
        c->der = NULL;
        c->der_len = 0;
    }
}

int store_crl_get(cm_store *st, const char *ca_id, cm_crl_row *out, cm_err *err)
{
    /* A row made by store_crl_mark_dirty alone has no DER yet: no CRL was made. */
    sqlite3_stmt *s = q_get(st,
                            "SELECT ca_id, number, this_update, next_update, dirty, der FROM crls "
                            "WHERE ca_id = ?1 AND der IS NOT NULL",
                            err);
    if (s == NULL)
        return -1;
    b_text(s, 1, ca_id);
    int ret = q_one(st, s, crl_row, out, "crl_not_found", "no CRL was made for this CA yet",
                    "reading a CRL", err);
    q_put(st, s);
    if (ret == 0 && out->der == NULL)
        ret = cm_err_set(err, "store_error", "out of memory reading a CRL");
    return ret;
}

int store_crl_put(cm_store *st, const cm_crl_row *c, cm_err *err)
{
    int ret = -1;
    if (c->number > (uint64_t)INT64_MAX) {
        cm_err_set(err, "field_invalid", "CRL number is too large");
        return -1;
    }
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO crls (ca_id, number, this_update, next_update, dirty, "
                            "der) VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT (ca_id) DO UPDATE "
                            "SET number = excluded.number, this_update = excluded.this_update, "
                            "next_update = excluded.next_update, dirty = 0, der = excluded.der",
                            err);
    if (s == NULL)
        goto out;
    b_text(s, 1, c->ca_id);
    b_int(s, 2, (int64_t)c->number);
    b_int(s, 3, c->this_update);
    b_int(s, 4, c->next_update);
    b_blob(s, 5, c->der, c->der_len);
    if (q_exec(st, s, "storing a CRL", NULL, err) != 0)
        goto out;
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_crl_mark_dirty(cm_store *st, const char *ca_id, cm_err *err)
{
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO crls (ca_id, number, dirty) VALUES (?1, 0, 1) "
                            "ON CONFLICT (ca_id) DO UPDATE SET dirty = 1",
                            err);
    if (s == NULL)
        return -1;
    b_text(s, 1, ca_id);
    int ret = q_exec(st, s, "marking a CRL out of date", NULL, err);
    q_put(st, s);
    return ret;
}

int store_expire(cm_store *st, int64_t now, int64_t *n_certs, int64_t *n_orders, cm_err *err)
{
    *n_certs = *n_orders = 0;
    if (st_exec(st, "SAVEPOINT expire", "marking expiry", err) != 0)
        return -1;
    sqlite3_stmt *c = q_get(st,
                            "UPDATE certificates SET status = 'expired' WHERE (status = 'issued' "
                            "OR status = 'revocation_pending') AND not_after < ?1",
                            err);
    if (c == NULL)
        goto fail;
    b_int(c, 1, now);
    int rc = q_exec(st, c, "expiring certificates", NULL, err);
    q_put(st, c);
    if (rc != 0)
        goto fail;
    *n_certs = sqlite3_changes(st->db);
    /* An issued order expires when its coverage ended or no certificate of it is live. */
    sqlite3_stmt *o = q_get(st,
                            "UPDATE orders SET status = 'expired', updated_at = ?1 WHERE "
                            "status = 'issued' AND ((coverage_end > 0 AND coverage_end < ?1) OR "
                            "NOT EXISTS (SELECT 1 FROM certificates c WHERE c.order_id = "
                            "orders.id AND (c.status = 'issued' OR c.status = "
                            "'revocation_pending')))",
                            err);
    if (o == NULL)
        goto fail;
    b_int(o, 1, now);
    rc = q_exec(st, o, "expiring orders", NULL, err);
    q_put(st, o);
    if (rc != 0)
        goto fail;
    *n_orders = sqlite3_changes(st->db);
    return st_exec(st, "RELEASE expire", "marking expiry", err);
fail:
    sqlite3_exec(st->db, "ROLLBACK TO expire; RELEASE expire", NULL, NULL, NULL);
    return -1;
}
