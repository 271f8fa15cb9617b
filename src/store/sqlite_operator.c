/* sqlite_operator.c — the unscoped lookups of store.h ("operator lookups"): rows found across
 * accounts, for the operator's vetting and for email DCV codes that arrive without an API key.
 * Each finds the owning account first and then reads the row through the scoped function, so
 * there is one mapping of every row. */
#include "store/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CODE_CANDIDATES_MAX 16

int store_org_get_any(cm_store *st, int64_t id, cm_org_row *out, cm_err *err)
{
    sqlite3_stmt *s = q_get(st, "SELECT account_id FROM organizations WHERE id = ?1", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, id);
    int ret = -1, rc = sqlite3_step(s);
    int64_t account_id = 0;
    if (rc == SQLITE_ROW) {
        account_id = c_int(s, 0);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        cm_err_set(err, "org_not_found", "organization %" PRId64 " does not exist", id);
    } else {
        st_fail(st, rc, "reading an organization", NULL, err);
    }
    q_put(st, s);
    if (ret != 0)
        return -1;
    return store_org_get(st, account_id, id, out, err);
}

int store_domain_by_code_any(cm_store *st, const char *method, const char *prefix, cm_domain **out,
                             size_t *n, cm_err *err)
{
    int ret = -1, rc = SQLITE_DONE;
    int64_t acct[CODE_CANDIDATES_MAX], ids[CODE_CANDIDATES_MAX];
    size_t count = 0;
    cm_domain *arr = NULL;
    *out = NULL;
    *n = 0;
    /* substr() rather than LIKE: the prefix is data, never a pattern. */
    sqlite3_stmt *s = q_get(st,
                            "SELECT account_id, id FROM domains WHERE dcv_method = ?1 AND "
                            "dcv_value <> '' AND substr(dcv_value, 1, length(?2)) = ?2 "
                            "ORDER BY id LIMIT 16",
                            err);
    if (s == NULL)
        goto out;
    b_text(s, 1, method);
    b_text(s, 2, prefix);
    while (count < CODE_CANDIDATES_MAX && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        acct[count] = c_int(s, 0);
        ids[count] = c_int(s, 1);
        count++;
    }
    if (count < CODE_CANDIDATES_MAX && rc != SQLITE_DONE) {
        st_fail(st, rc, "looking up a DCV code", NULL, err);
        goto out;
    }
    q_put(st, s);
    s = NULL;
    if (count > 0) {
        arr = calloc(count, sizeof *arr);
        if (arr == NULL) {
            cm_err_set(err, "store_error", "out of memory reading domains");
            goto out;
        }
    }
    for (size_t i = 0; i < count; i++)
        if (store_domain_get(st, acct[i], ids[i], &arr[i], err) != 0)
            goto out;
    *out = arr;
    *n = count;
    arr = NULL;
    ret = 0;
out:
    q_put(st, s);
    free(arr);
    return ret;
}

/* Runs `sql` (?1 = now, ?2 = max) and collects (account_id, id) pairs, and with `extra` (not
 * NULL) a third integer column into a malloc'd array. Caller frees *out and *extra. */
static int refs_extra(cm_store *st, const char *sql, int64_t now, size_t max, cm_ref **out,
                      int **extra, size_t *n, const char *what, cm_err *err)
{
    int ret = -1, rc = SQLITE_DONE;
    size_t count = 0;
    cm_ref *arr = NULL;
    int *ext = NULL;
    sqlite3_stmt *s = NULL;
    *out = NULL;
    *n = 0;
    if (extra != NULL)
        *extra = NULL;
    if (max == 0)
        return 0;
    if ((arr = calloc(max, sizeof *arr)) == NULL ||
        (extra != NULL && (ext = calloc(max, sizeof *ext)) == NULL)) {
        cm_err_set(err, "store_error", "out of memory");
        goto out;
    }
    if ((s = q_get(st, sql, err)) == NULL)
        goto out;
    b_int(s, 1, now);
    b_int(s, 2, (int64_t)max);
    while (count < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        arr[count].account_id = c_int(s, 0);
        arr[count].id = c_int(s, 1);
        if (ext != NULL)
            ext[count] = (int)c_int(s, 2);
        count++;
    }
    if (count < max && rc != SQLITE_DONE) {
        st_fail(st, rc, what, NULL, err);
        goto out;
    }
    *out = arr;
    *n = count;
    arr = NULL;
    if (extra != NULL) {
        *extra = ext;
        ext = NULL;
    }
    ret = 0;
out:
    q_put(st, s);
    free(arr);
    free(ext);
    return ret;
}

static int refs(cm_store *st, const char *sql, int64_t now, size_t max, cm_ref **out, size_t *n,
                cm_err *err)
{
    return refs_extra(st, sql, now, max, out, NULL, n, "listing due work", err);
}

int store_dcv_pending_domains(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                              cm_err *err)
{
    return refs(st,
                "SELECT account_id, id FROM domains WHERE valid_until <= ?1 AND dcv_value <> '' "
                "AND dcv_value_expires > ?1 AND (dcv_method = 'dns-txt-token' OR dcv_method = "
                "'dns-cname-token' OR dcv_method = 'http-token') ORDER BY id LIMIT ?2",
                now, max, out, n, err);
}

int store_dcv_pending_orders(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                             cm_err *err)
{
    return refs(st,
                "SELECT account_id, id FROM orders WHERE status IN ('pending', 'reissue_pending') "
                "AND dcv_value <> '' "
                "AND dcv_value_expires > ?1 AND dcv_method <> 'email' ORDER BY id LIMIT ?2",
                now, max, out, n, err);
}

int store_dcv_code_orders(cm_store *st, const char *prefix, cm_ref **out, size_t *n,
                          cm_err *err)
{
    int ret = -1, rc = SQLITE_DONE;
    size_t count = 0;
    cm_ref *arr = calloc(CODE_CANDIDATES_MAX, sizeof *arr);
    *out = NULL;
    *n = 0;
    if (arr == NULL)
        return cm_err_set(err, "store_error", "out of memory");
    /* substr() rather than LIKE: the prefix is data, never a pattern. */
    sqlite3_stmt *s = q_get(st,
                            "SELECT account_id, id FROM orders WHERE dcv_method = 'email' AND "
                            "status IN ('pending', 'needs_approval', 'reissue_pending') AND "
                            "dcv_value <> '' AND substr(dcv_value, 1, length(?1)) = ?1 "
                            "ORDER BY id LIMIT 16",
                            err);
    if (s == NULL)
        goto out;
    b_text(s, 1, prefix);
    while (count < CODE_CANDIDATES_MAX && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        arr[count].account_id = c_int(s, 0);
        arr[count].id = c_int(s, 1);
        count++;
    }
    if (count < CODE_CANDIDATES_MAX && rc != SQLITE_DONE) {
        st_fail(st, rc, "looking up a DCV code", NULL, err);
        goto out;
    }
    *out = arr;
    *n = count;
    arr = NULL;
    ret = 0;
out:
    q_put(st, s);
    free(arr);
    return ret;
}

/* ---- the lifecycle jobs ---- */

int store_cert_revocations_due(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                               cm_err *err)
{
    return refs(st,
                "SELECT account_id, id FROM certificates WHERE status = 'revocation_pending' "
                "AND revoke_after <= ?1 ORDER BY revoke_after, id LIMIT ?2",
                now, max, out, n, err);
}

int store_orders_auto_renew_due(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                                cm_err *err)
{
    /* Due: the current certificate ends within the account's auto_renew_days, or within a third
     * of its own validity when that is shorter — so that a certificate shorter than
     * auto_renew_days is not renewed again the moment its renewal issues. */
    return refs(st,
                "SELECT o.account_id, o.id FROM orders o JOIN accounts a ON a.id = o.account_id "
                "JOIN certificates c ON c.account_id = o.account_id AND c.id = (SELECT max(id) "
                "FROM certificates WHERE order_id = o.id AND kind IN ('original', 'reissue')) "
                "WHERE o.status = 'issued' AND o.auto_renew = 1 AND "
                "o.renewed_by_order_id IS NULL AND o.auto_renew_tried_at <= ?1 - 86400 AND "
                "c.status = 'issued' AND c.not_after - ?1 <= "
                "min(a.auto_renew_days * 86400, (c.not_after - c.not_before) / 3) "
                "ORDER BY o.id LIMIT ?2",
                now, max, out, n, err);
}

int store_dups_auto_renew_due(cm_store *st, int64_t now, size_t max, cm_ref **out, size_t *n,
                              cm_err *err)
{
    return refs(st,
                "SELECT c.account_id, c.id FROM certificates c JOIN orders o ON "
                "o.account_id = c.account_id AND o.id = c.order_id JOIN accounts a ON "
                "a.id = c.account_id WHERE c.kind = 'duplicate' AND c.status = 'issued' AND "
                "c.successor_id IS NULL AND c.csr <> '' AND c.renew_tried_at <= ?1 - 86400 AND "
                "o.auto_renew = 1 AND o.renewed_by_order_id IS NOT NULL AND c.not_after - ?1 <= "
                "min(a.auto_renew_days * 86400, (c.not_after - c.not_before) / 3) "
                "ORDER BY c.id LIMIT ?2",
                now, max, out, n, err);
}

int store_certs_reminder_due(cm_store *st, int64_t now, size_t max, cm_ref **out, int **stage,
                             size_t *n, cm_err *err)
{
    /* The stage due is the smallest of 30, 7, 1 days the end is within; a reminder is due when
     * none was sent yet or the last one was of a larger stage. */
    return refs_extra(
        st,
        "SELECT account_id, id, stage FROM (SELECT c.account_id, c.id, c.reminded_days, "
        "CASE WHEN c.not_after - ?1 <= 86400 THEN 1 WHEN c.not_after - ?1 <= 7 * 86400 THEN 7 "
        "ELSE 30 END AS stage FROM certificates c JOIN orders o ON o.account_id = c.account_id "
        "AND o.id = c.order_id WHERE c.status = 'issued' AND c.not_after > ?1 AND "
        "c.not_after <= ?1 + 30 * 86400 AND c.successor_id IS NULL AND "
        "(c.kind = 'duplicate' OR o.renewed_by_order_id IS NULL)) "
        "WHERE reminded_days = 0 OR reminded_days > stage ORDER BY id LIMIT ?2",
        now, max, out, stage, n, "listing certificates due for a reminder", err);
}

int store_order_auto_renew_tried(cm_store *st, int64_t account_id, int64_t id, int64_t now,
                                 cm_err *err)
{
    sqlite3_stmt *s = q_get(
        st, "UPDATE orders SET auto_renew_tried_at = ?3 WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    b_int(s, 3, now);
    int ret = q_exec(st, s, "recording an auto-renew attempt", NULL, err);
    q_put(st, s);
    return ret;
}

#define RENEWAL_CHAIN_MAX 100

int store_order_renewal_chain(cm_store *st, int64_t account_id, int64_t order_id, int64_t **ids,
                              size_t *n, cm_err *err)
{
    int ret = -1;
    int64_t *v = NULL;
    size_t k = 0;
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *s = q_get(st,
                            "SELECT renewed_by_order_id FROM orders WHERE account_id = ?1 AND "
                            "id = ?2",
                            err);
    if (s == NULL)
        return -1;
    if ((v = calloc(RENEWAL_CHAIN_MAX, sizeof *v)) == NULL) {
        cm_err_set(err, "store_error", "out of memory");
        goto out;
    }
    for (int64_t cur = order_id; k < RENEWAL_CHAIN_MAX;) {
        sqlite3_reset(s);
        b_int(s, 1, account_id);
        b_int(s, 2, cur);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            st_fail(st, rc, "following renewals", NULL, err);
            goto out;
        }
        int64_t next = c_int(s, 0);
        if (next <= 0)
            break;
        v[k++] = next;
        cur = next;
    }
    if (k > 0) {
        *ids = v;
        *n = k;
        v = NULL;
    }
    ret = 0;
out:
    q_put(st, s);
    free(v);
    return ret;
}
