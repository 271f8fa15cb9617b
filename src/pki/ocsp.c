/* ocsp.c — the OCSP responder core (RFC 6960, RFC 5019 profile; COMPLIANCE.md §1.6).
 *
 * Each issuing CA answers for its own certificates with its own key (no delegated responder
 * certificate): responderID byKey, no certificates in the response, thisUpdate now, nextUpdate
 * four days later (BR §4.9.10: between 8 hours and 10 days). A serial the store does not know is
 * `unknown`, never `good`. Parsing the request and asking the store happen here, in the front
 * end; the signer process builds and signs the BasicOCSPResponse and checks that every CertID
 * names the CA whose key it uses. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "pki/internal.h"
#include "util/clock.h"
#include "util/log.h"

#define OCSP_VALIDITY  (4 * 86400)
#define OCSP_NONCE_MAX 130 /* DER of the nonce value: RFC 8954 allows 1..32 octets */

/* A response without a body (malformedRequest, unauthorized, tryLater). */
static OCSP_RESPONSE *status_only(int status)
{
    return OCSP_response_create(status, NULL);
}

/* The issuing CA a CertID names, by the hash algorithm the CertID uses; NULL when none. */
static const cm_ca_pub *find_issuer(const cm_pki *pki, OCSP_CERTID *cid)
{
    ASN1_OBJECT *alg = NULL;
    if (!OCSP_id_get0_info(NULL, &alg, NULL, NULL, cid))
        return NULL;
    int nid = OBJ_obj2nid(alg);
    const EVP_MD *md = nid == NID_sha1 ? EVP_sha1() : nid == NID_sha256 ? EVP_sha256() : NULL;
    if (md == NULL)
        return NULL;
    for (size_t i = 0; i < PKI_N_ISSUERS; i++) {
        OCSP_CERTID *mine = OCSP_cert_to_id(md, NULL, pki->cas[i].cert);
        int same = mine != NULL && OCSP_id_issuer_cmp(mine, cid) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return &pki->cas[i];
    }
    return NULL;
}

/* The serial of a CertID as cert_serial_hex writes it; false for a serial certmint never
 * issues (negative, empty or longer than 20 bytes). */
static bool serial_hex(OCSP_CERTID *cid, char out[41])
{
    ASN1_INTEGER *sn = NULL;
    static const char hex[] = "0123456789abcdef";
    if (!OCSP_id_get0_info(NULL, NULL, NULL, &sn, cid) || sn == NULL ||
        ASN1_STRING_type(sn) != V_ASN1_INTEGER)
        return false;
    int len = ASN1_STRING_length(sn);
    const unsigned char *p = ASN1_STRING_get0_data(sn);
    if (len <= 0 || len > 20)
        return false;
    for (int i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * len] = '\0';
    return true;
}

/* What the request asks, and the answers so far. */
typedef struct ocsp_job {
    const cm_ca_pub *ca;
    size_t n;
    signer_ocsp_single singles[OCSP_MAX_SINGLE];
    unsigned char *ids[OCSP_MAX_SINGLE]; /* DER of each CertID (OPENSSL_malloc'd) */
    unsigned char *nonce;                /* DER of the nonce extension, or NULL */
    int nonce_len;
} ocsp_job;

static void job_free(ocsp_job *j)
{
    for (size_t i = 0; i < j->n; i++)
        OPENSSL_free(j->ids[i]);
    OPENSSL_free(j->nonce);
}

/* Reads the single requests and the nonce. Returns an OCSP response status: SUCCESSFUL to go
 * on, MALFORMEDREQUEST or UNAUTHORIZED to answer that; -1 when out of memory. */
static int read_request(const cm_pki *pki, OCSP_REQUEST *req, ocsp_job *j)
{
    int n = OCSP_request_onereq_count(req);
    if (n <= 0 || n > OCSP_MAX_SINGLE)
        return OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
    for (int i = 0; i < n; i++) {
        OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
        const cm_ca_pub *ca = cid != NULL ? find_issuer(pki, cid) : NULL;
        /* One response is signed by one CA: every CertID must name the same one. */
        if (ca == NULL || (j->ca != NULL && ca != j->ca))
            return OCSP_RESPONSE_STATUS_UNAUTHORIZED;
        j->ca = ca;
        int len = i2d_OCSP_CERTID(cid, &j->ids[i]);
        if (len <= 0)
            return -1;
        j->singles[i].certid = j->ids[i];
        j->singles[i].certid_len = (size_t)len;
        j->n = (size_t)i + 1;
    }
    int at = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
    if (at >= 0) {
        X509_EXTENSION *ext = OCSP_REQUEST_get_ext(req, at);
        if (ASN1_STRING_length(X509_EXTENSION_get_data(ext)) > OCSP_NONCE_MAX ||
            OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, at) >= 0)
            return OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
        if ((j->nonce_len = i2d_X509_EXTENSION(ext, &j->nonce)) <= 0)
            return -1;
    }
    return OCSP_RESPONSE_STATUS_SUCCESSFUL;
}

/* Asks the store about each serial. Returns 0, or -1 on a store error. */
static int look_up(ocsp_job *j, OCSP_REQUEST *req, ocsp_lookup_fn lookup, void *arg)
{
    for (size_t i = 0; i < j->n; i++) {
        signer_ocsp_single *s = &j->singles[i];
        OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, (int)i));
        char serial[41];
        cm_ocsp_status st = OCSP_CERT_UNKNOWN;
        int64_t when = 0;
        int reason = 0;
        s->status = V_OCSP_CERTSTATUS_UNKNOWN;
        s->reason = -1;
        s->revoked_at = 0;
        if (!serial_hex(cid, serial))
            continue; /* not a serial certmint issues: unknown */
        if (lookup(arg, j->ca->id, serial, &st, &when, &reason) != 0)
            return -1;
        if (st == OCSP_CERT_GOOD) {
            s->status = V_OCSP_CERTSTATUS_GOOD;
        } else if (st == OCSP_CERT_REVOKED) {
            s->status = V_OCSP_CERTSTATUS_REVOKED;
            s->revoked_at = when;
            /* As in the CRL: unspecified is left out, and never certificateHold. */
            s->reason = reason > 0 && reason <= CRL_REASON_AA_COMPROMISE &&
                                reason != CRL_REASON_CERTIFICATE_HOLD && reason != 7
                            ? reason
                            : -1;
        }
    }
    return 0;
}

/* DER of `r` into a malloc'd buffer (the caller frees with free). */
static int encode(OCSP_RESPONSE *r, unsigned char **resp, size_t *resp_len, cm_err *err)
{
    unsigned char *der = NULL;
    int len = r != NULL ? i2d_OCSP_RESPONSE(r, &der) : -1;
    if (len <= 0 || (*resp = malloc((size_t)len)) == NULL) {
        OPENSSL_free(der);
        return cm_err_set(err, "out_of_memory", "encoding the OCSP response failed");
    }
    memcpy(*resp, der, (size_t)len);
    *resp_len = (size_t)len;
    OPENSSL_free(der);
    return 0;
}

int ocsp_respond(cm_pki *pki, const unsigned char *req, size_t req_len, ocsp_lookup_fn lookup,
                 void *arg, unsigned char **resp, size_t *resp_len, cm_err *err)
{
    int rc = -1, status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
    OCSP_REQUEST *r = NULL;
    OCSP_BASICRESP *bs = NULL;
    OCSP_RESPONSE *out = NULL;
    ocsp_job job;
    memset(&job, 0, sizeof job);
    if (req != NULL && req_len > 0 && req_len <= OCSP_REQ_MAX_BYTES) {
        const unsigned char *p = req;
        r = d2i_OCSP_REQUEST(NULL, &p, (long)req_len);
        if (r != NULL && p != req + req_len) {
            OCSP_REQUEST_free(r);
            r = NULL;
        }
    }
    ERR_clear_error();
    if (r != NULL)
        status = read_request(pki, r, &job);
    if (status == OCSP_RESPONSE_STATUS_SUCCESSFUL && look_up(&job, r, lookup, arg) != 0) {
        log_msg(LOG_WARN, "event=ocsp_lookup_failed ca=%s", job.ca->id);
        status = OCSP_RESPONSE_STATUS_TRYLATER;
    }
    if (status < 0) {
        cm_err_set(err, "out_of_memory", "out of memory reading the OCSP request");
        goto out;
    }
    if (status == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        int64_t now = clock_now();
        if (signer_sign_ocsp(pki->signer, job.ca->id, "sha256", job.singles, job.n, now,
                             now + OCSP_VALIDITY, job.nonce, (size_t)job.nonce_len, &bs, err) != 0)
            goto out;
        out = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    } else {
        out = status_only(status);
    }
    if (encode(out, resp, resp_len, err) != 0)
        goto out;
    rc = 0;
out:
    job_free(&job);
    OCSP_RESPONSE_free(out);
    OCSP_BASICRESP_free(bs);
    OCSP_REQUEST_free(r);
    return rc;
}
