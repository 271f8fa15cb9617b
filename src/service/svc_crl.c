/* svc_crl.c — the CRLs of the issuing CAs (the `crl_refresh` job and the CRL of first request
 * both come here): each issuing CA's CRL is
 * recomputed from the store (every revoked certificate of that CA), signed by the signer
 * (pki.h crl_make) and stored with CRLNumber = last + 1.
 *
 * Each CA's CRL is made inside one write transaction that reads the last number and the
 * revoked certificates and stores the new CRL, so the number strictly increases even with
 * several workers, nodes or restarts, and a revocation committed before the transaction is in
 * the CRL while one committed after it marks the CRL dirty again (the scheduler then queues
 * the next refresh). Signing happens inside that transaction; it takes milliseconds. */
#include "service/order.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

static const char *const crl_cas[] = {"public-ecdsa", "public-rsa", "private-ecdsa", "private-rsa"};
#define N_CRL_CAS (sizeof crl_cas / sizeof crl_cas[0])

const char *const *svc_crl_ca_ids(size_t *n)
{
    *n = N_CRL_CAS;
    return crl_cas;
}

static bool crl_ca_known(const char *ca_id)
{
    for (size_t i = 0; i < N_CRL_CAS; i++)
        if (ca_id != NULL && strcmp(ca_id, crl_cas[i]) == 0)
            return true;
    return false;
}

static void err_copy(cm_err *dst, const cm_err *src)
{
    if (dst != NULL)
        *dst = *src;
}

/* Loads the stored CRL of ca_id into *out when it is one to serve at `now` (made, not past
 * its nextUpdate). Returns 1 when loaded (out->der is the caller's), 0 when there is none to
 * serve (*out zeroed), -1 on a store error. */
static int crl_load_usable(cm_store *st, const char *ca_id, int64_t now, cm_crl_row *out,
                           cm_err *err)
{
    cm_err gerr;
    cm_err_clear(&gerr);
    memset(out, 0, sizeof *out);
    if (store_crl_get(st, ca_id, out, &gerr) != 0) {
        memset(out, 0, sizeof *out);
        if (strcmp(gerr.code, "crl_not_found") == 0)
            return 0;
        err_copy(err, &gerr);
        return -1;
    }
    if (out->der != NULL && out->der_len > 0 && out->next_update > now)
        return 1;
    free(out->der);
    memset(out, 0, sizeof *out);
    return 0;
}

/* Makes and stores the next CRL of ca_id in one transaction. With only_if_unusable, first
 * checks inside that transaction whether a CRL to serve exists already (another thread or
 * node made it meanwhile) and then makes nothing. When `out` is not NULL it receives the CRL
 * now stored (out->der malloc'd, the caller's). */
static int crl_make_tx(cm_svc *s, const char *ca_id, int64_t now, bool only_if_unusable,
                       cm_crl_row *out, cm_err *err)
{
    cm_pki *pki = s->pki;
    cm_store *st = s->st;
    cm_crl_row last, row;
    cm_cert_row *revoked = NULL;
    cm_revoked_entry *entries = NULL;
    unsigned char *der = NULL;
    size_t n = 0, der_len = 0;
    bool open = false;
    int rc = -1;
    cm_err gerr;
    memset(&last, 0, sizeof last);
    memset(&row, 0, sizeof row);
    if (!crl_ca_known(ca_id)) {
        cm_err_set(err, "ca_unknown",
                   "no issuing CA is called \"%.40s\"; CRLs exist for public-ecdsa, public-rsa, "
                   "private-ecdsa and private-rsa",
                   ca_id != NULL ? ca_id : "");
        goto out;
    }
    if (store_begin(st, err) != 0)
        goto out;
    open = true;
    if (only_if_unusable) {
        int r = crl_load_usable(st, ca_id, now, &last, err);
        if (r < 0)
            goto out;
        if (r == 1) {
            if (out != NULL) {
                *out = last;
                last.der = NULL;
            }
            rc = 0;
            goto out;
        }
    }
    cm_err_clear(&gerr);
    if (store_crl_get(st, ca_id, &last, &gerr) != 0) {
        if (strcmp(gerr.code, "crl_not_found") != 0) {
            err_copy(err, &gerr);
            goto out;
        }
        memset(&last, 0, sizeof last); /* the first CRL of this CA: number 1 */
    }
    if (last.number >= (uint64_t)INT64_MAX) {
        cm_err_set(err, "crl_number_exhausted",
                   "the CRLNumber of %s reached its maximum; this needs an operator", ca_id);
        goto out;
    }
    if (store_cert_list_revoked(st, ca_id, &revoked, &n, err) != 0)
        goto out;
    if (n > 0) {
        entries = calloc(n, sizeof *entries);
        if (entries == NULL) {
            cm_err_set(err, "out_of_memory", "no memory for the %zu entries of a CRL", n);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        str_copy(entries[i].serial_hex, sizeof entries[i].serial_hex, revoked[i].serial);
        entries[i].revoked_at = revoked[i].revoked_at;
        entries[i].reason = revoked[i].revocation_reason;
    }
    if (crl_make(pki, ca_id, entries, n, last.number + 1, now, now + CRL_VALIDITY_SECONDS, &der,
                 &der_len, err) != 0) {
        cm_err_prefix(err, "making the CRL of %s: ", ca_id);
        goto out;
    }
    str_copy(row.ca_id, sizeof row.ca_id, ca_id);
    row.number = last.number + 1;
    row.this_update = now;
    row.next_update = now + CRL_VALIDITY_SECONDS;
    row.dirty = false;
    row.der = der;
    row.der_len = der_len;
    if (store_crl_put(st, &row, err) != 0 || store_commit(st, err) != 0)
        goto out;
    open = false;
    log_msg(LOG_INFO, "event=crl_made ca=%s number=%llu entries=%zu", ca_id,
            (unsigned long long)row.number, n);
    if (out != NULL) {
        *out = row;
        der = NULL; /* now the caller's */
    }
    rc = 0;
out:
    if (open)
        store_rollback(st);
    free(last.der);
    free(revoked);
    free(entries);
    free(der);
    return rc;
}

int svc_crl_make_one(cm_svc *s, const char *ca_id, int64_t now, cm_err *err)
{
    return crl_make_tx(s, ca_id, now, false, NULL, err);
}

int svc_crl_current(cm_svc *s, const char *ca_id, cm_crl_row *out, cm_err *err)
{
    int64_t now = clock_now();
    memset(out, 0, sizeof *out);
    if (!crl_ca_known(ca_id))
        return crl_make_tx(s, ca_id, now, true, out, err); /* sets ca_unknown */
    int r = crl_load_usable(s->st, ca_id, now, out, err); /* the usual case: no write lock */
    if (r != 0)
        return r < 0 ? -1 : 0;
    return crl_make_tx(s, ca_id, now, true, out, err);
}

int svc_crl_refresh_all(cm_svc *s, int64_t now, cm_err *err)
{
    int failed = 0;
    cm_err first, e;
    cm_err_clear(&first);
    for (size_t i = 0; i < N_CRL_CAS; i++) {
        cm_err_clear(&e);
        /* One CA failing (say, its signer refused) must not keep the others stale. */
        if (svc_crl_make_one(s, crl_cas[i], now, &e) != 0) {
            if (failed++ == 0)
                first = e;
        }
    }
    if (failed == 0)
        return 0;
    cm_err_set(err, first.code, "%d of %zu CRLs were not refreshed; first: %s", failed, N_CRL_CAS,
               first.msg);
    return -1;
}
