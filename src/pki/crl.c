/* crl.c — certificate revocation lists (BR §7.2, COMPLIANCE.md §1.6 and row 39).
 *
 * A full CRL v2 per issuing CA: the CA's subject as issuer (copied byte for byte), AKI with the
 * CA's key identifier, a CRLNumber the caller keeps increasing, and one entry per revoked
 * certificate whose serial holds the very bytes the certificate carries. Reasons follow RFC 5280
 * with the BR's subset; unspecified leaves the extension out; certificateHold never appears.
 * The signer process signs it and checks the same limits once more. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "pki/internal.h"

#define CRL_MAX_SPAN (10 * 86400)

/* BR §7.2.2: reasonCode 1, 3, 4, 5 or 9; 0 (unspecified) means no extension. */
static bool reason_allowed(int r)
{
    return r == CRL_REASON_UNSPECIFIED || r == CRL_REASON_KEY_COMPROMISE ||
           r == CRL_REASON_AFFILIATION_CHANGED || r == CRL_REASON_SUPERSEDED ||
           r == CRL_REASON_CESSATION_OF_OPERATION || r == CRL_REASON_PRIVILEGE_WITHDRAWN;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The serial bytes of a lower-case hex serial as cert_serial_hex writes it: 1 to 20 bytes,
 * positive and minimal (so the INTEGER content equals the certificate's). Returns the byte
 * count, or -1. */
static int serial_bytes(const char *hex, unsigned char out[20])
{
    size_t len = strnlen(hex, 41);
    if (len == 0 || len > 40 || len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    int n = (int)(len / 2);
    if (out[0] >= 0x80 || (out[0] == 0 && (n == 1 || out[1] < 0x80)))
        return -1;
    return n;
}

/* One revoked entry. Returns the entry (caller frees) or NULL with err set. */
static X509_REVOKED *make_entry(const cm_revoked_entry *e, cm_err *err)
{
    unsigned char serial[20];
    int n = serial_bytes(e->serial_hex, serial);
    if (n < 0) {
        cm_err_set(err, "crl_serial_invalid",
                   "\"%.40s\" is not a certificate serial (lower-case hex, as certmint writes it)",
                   e->serial_hex);
        return NULL;
    }
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)e->revoked_at);
    ASN1_ENUMERATED *code = NULL;
    int ok = r != NULL && sn != NULL && when != NULL && ASN1_STRING_set(sn, serial, n) &&
             X509_REVOKED_set_serialNumber(r, sn) && X509_REVOKED_set_revocationDate(r, when);
    if (ok && e->reason != CRL_REASON_UNSPECIFIED)
        ok = (code = ASN1_ENUMERATED_new()) != NULL && ASN1_ENUMERATED_set(code, e->reason) &&
             X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, code, 0, 0) == 1;
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(when);
    ASN1_ENUMERATED_free(code);
    if (!ok) {
        char m[200];
        cm_err_set(err, "out_of_memory", "building a CRL entry: %s", ossl_err_text(m, sizeof m));
        X509_REVOKED_free(r);
        return NULL;
    }
    return r;
}

/* The CRL's own fields and extensions, before the entries. Returns 1 or 0 (OpenSSL style). */
static int crl_fields(X509_CRL *crl, const cm_ca_pub *ca, uint64_t number, int64_t this_update,
                      int64_t next_update)
{
    ASN1_TIME *tu = ASN1_TIME_set(NULL, (time_t)this_update);
    ASN1_TIME *nu = ASN1_TIME_set(NULL, (time_t)next_update);
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    int ok = tu != NULL && nu != NULL && num != NULL && ASN1_INTEGER_set_uint64(num, number) &&
             X509_CRL_set_version(crl, 1) && /* v2 */
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) &&
             X509_CRL_set1_lastUpdate(crl, tu) && X509_CRL_set1_nextUpdate(crl, nu) &&
             X509_CRL_add_ext(crl, ca->ext_aki, -1) &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_INTEGER_free(num);
    return ok;
}

int crl_make(cm_pki *pki, const char *ca_id, const cm_revoked_entry *entries, size_t n,
             uint64_t number, int64_t this_update, int64_t next_update, unsigned char **der,
             size_t *der_len, cm_err *err)
{
    int rc = -1;
    X509_CRL *crl = NULL;
    unsigned char *enc = NULL;
    const cm_ca_pub *ca = ca_id != NULL ? pki_find_ca(pki, ca_id) : NULL;
    if (ca == NULL)
        return cm_err_set(err, "ca_unknown", "no issuing CA \"%s\"; CRLs are per issuing CA",
                          ca_id != NULL ? ca_id : "");
    if (next_update <= this_update || next_update - this_update > CRL_MAX_SPAN)
        return cm_err_set(err, "crl_dates_invalid",
                          "nextUpdate must come after thisUpdate and at most 10 days later");
    for (size_t i = 0; i < n; i++)
        if (!reason_allowed(entries[i].reason))
            return cm_err_set(err, "crl_reason_invalid",
                              "revocation reason %d is not allowed in a CRL (use 0, 1, 3, 4, 5 "
                              "or 9; never certificateHold)",
                              entries[i].reason);
    if ((crl = X509_CRL_new()) == NULL || !crl_fields(crl, ca, number, this_update, next_update)) {
        char m[200];
        cm_err_set(err, "out_of_memory", "building the CRL: %s", ossl_err_text(m, sizeof m));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *r = make_entry(&entries[i], err);
        if (r == NULL)
            goto out;
        if (!X509_CRL_add0_revoked(crl, r)) {
            X509_REVOKED_free(r);
            cm_err_set(err, "out_of_memory", "out of memory");
            goto out;
        }
    }
    if (!X509_CRL_sort(crl)) {
        cm_err_set(err, "out_of_memory", "sorting the CRL failed");
        goto out;
    }
    if (signer_sign_crl(pki->signer, ca->id, "sha256", crl, err) != 0)
        goto out;
    int len = i2d_X509_CRL(crl, NULL);
    unsigned char *p = NULL;
    if (len <= 0 || (enc = malloc((size_t)len)) == NULL) {
        cm_err_set(err, "out_of_memory", "encoding the CRL failed");
        goto out;
    }
    p = enc;
    if (i2d_X509_CRL(crl, &p) != len) {
        cm_err_set(err, "signing_failed", "encoding the CRL failed");
        goto out;
    }
    *der = enc;
    *der_len = (size_t)len;
    enc = NULL;
    rc = 0;
out:
    free(enc);
    X509_CRL_free(crl);
    return rc;
}
