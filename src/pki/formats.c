/* formats.c — renders a certificate and its chain in the download formats (DESIGN.md §5):
 * PEM bundles, DER, PKCS#7 certs-only and zips. Everything is built in memory: OpenSSL memory
 * BIOs for PEM, i2d for DER/PKCS#7, and a libzip buffer source for the zips. */
#include "pki/formats.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <zip.h>

#include "util/log.h"
#include "util/str.h"

/* Longest basename kept for a zip member; longer ones fall back to the default stem. */
#define BASENAME_MAX     100
#define BASENAME_DEFAULT "certificate"
/* Largest zip we expect: three PEM certificates are a few KiB. */
#define ZIP_MAX_BYTES (1024 * 1024)

#define CT_PEM "application/x-pem-file"
#define CT_DER "application/pkix-cert"
#define CT_P7B "application/pkcs7-mime"
#define CT_ZIP "application/zip"

/* Which certificates of the chain a PEM bundle or zip holds. */
enum { PART_LEAF = 1, PART_ISSUER = 2, PART_ROOT = 4 };

typedef enum { KIND_PEM, KIND_DER, KIND_P7B, KIND_ZIP } fmt_kind;

typedef struct fmt_def {
    const char *name;
    fmt_kind kind;
    int parts;
    const char *zip_ext; /* member extension for zips ("crt", "pem"); NULL otherwise */
} fmt_def;

static const fmt_def formats[] = {
    {"pem_all", KIND_PEM, PART_LEAF | PART_ISSUER | PART_ROOT, NULL},
    {"pem_noroot", KIND_PEM, PART_LEAF | PART_ISSUER, NULL},
    {"pem_nointermediate", KIND_PEM, PART_LEAF | PART_ROOT, NULL},
    {"der", KIND_DER, PART_LEAF, NULL},
    {"p7b", KIND_P7B, PART_LEAF | PART_ISSUER | PART_ROOT, NULL},
    {"default", KIND_ZIP, PART_LEAF | PART_ISSUER | PART_ROOT, "crt"},
    {"default_pem", KIND_ZIP, PART_LEAF | PART_ISSUER | PART_ROOT, "pem"},
    {"apache", KIND_ZIP, PART_LEAF | PART_ISSUER, "crt"},
};

#define FORMAT_LIST                                                                                \
    "pem_all, pem_noroot, pem_nointermediate, der, p7b, default, default_pem, apache"

/* Drains the OpenSSL error queue into the log so the failing call's reasons are not lost. */
static void log_openssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        log_msg(LOG_ERROR, "event=format_render call=%s openssl=\"%s\"", what, buf);
    }
}

/* Names the failing OpenSSL call in err, drains the queue into the log; returns -1. */
static int ossl_fail(cm_err *err, const char *call)
{
    log_openssl_errors(call);
    return cm_err_set(err, "format_failed", "%s failed while rendering the certificate", call);
}

/* Looks a format up by name; NULL when unknown. */
static const fmt_def *format_find(const char *format)
{
    if (format == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, format) == 0)
            return &formats[i];
    return NULL;
}

/* True when `format` names one of the formats table entries. */
int format_known(const char *format)
{
    return format_find(format) != NULL;
}

/* Frees a blob's data and empties it; safe on an already freed or zeroed blob. */
void blob_free(cm_blob *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* Makes the leaf's file stem from the chain's name: "*" becomes "star", "." and ":" become "_"
 * ("*.example.com" → "star_example_com"). The result must be made only of [A-Za-z0-9_-] and
 * fit; otherwise buf receives "certificate". Callers may pass anything. */
static void sanitize_basename(const char *name, char *buf, size_t bufsz)
{
    char stem[BASENAME_MAX + 2];
    size_t j = 0;
    for (const char *p = name != NULL ? name : ""; *p && j < BASENAME_MAX + 1; p++) {
        if (*p == '*') {
            size_t k = 0;
            while ("star"[k] && j < BASENAME_MAX + 1)
                stem[j++] = "star"[k++];
        } else {
            stem[j++] = (*p == '.' || *p == ':') ? '_' : *p;
        }
    }
    stem[j] = '\0';
    const char *in = stem;
    bool ok = !str_empty(in) && strlen(in) <= BASENAME_MAX && strlen(in) < bufsz;
    for (const char *p = in; ok && *p; p++) {
        char c = *p;
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    }
    if (str_copy(buf, bufsz, ok ? in : BASENAME_DEFAULT) != 0)
        str_copy(buf, bufsz, BASENAME_DEFAULT);
}

/* Parses one DER certificate, refusing trailing bytes. Returns the X509 (caller frees) or NULL
 * after setting err; `what` names the certificate in the message. */
static X509 *parse_der(const unsigned char *der, size_t len, const char *what, cm_err *err)
{
    if (der == NULL || len == 0 || len > LONG_MAX) {
        cm_err_set(err, "format_failed", "the %s certificate is missing from the chain", what);
        return NULL;
    }
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        ossl_fail(err, "d2i_X509");
        return NULL;
    }
    if (p != der + len) {
        X509_free(x);
        cm_err_set(err, "format_failed", "the %s certificate has trailing bytes after its DER",
                   what);
        return NULL;
    }
    return x;
}

/* Copies len bytes into a new malloc'd buffer in *out. Returns 0 or -1 (err set). */
static int dup_bytes(const void *data, size_t len, unsigned char **out, cm_err *err)
{
    unsigned char *b = malloc(len > 0 ? len : 1);
    if (b == NULL)
        return cm_err_set(err, "format_failed", "out of memory (%zu bytes)", len);
    if (len > 0)
        memcpy(b, data, len);
    *out = b;
    return 0;
}

/* Appends the PEM of one DER certificate to bio. Returns 0 or -1 (err set). */
static int pem_append(BIO *bio, const unsigned char *der, size_t len, const char *what, cm_err *err)
{
    /* The DER is written as it is (no decode and re-encode: OpenSSL 3's decoders cost more than
     * the rest of a download); it must be one whole DER SEQUENCE. */
    const unsigned char *p = der;
    long body = 0;
    int tag = 0, cls = 0;
    if (der == NULL || len == 0 || len > LONG_MAX)
        return cm_err_set(err, "format_failed", "the %s certificate is missing from the chain",
                          what);
    int r = ASN1_get_object(&p, &body, &tag, &cls, (long)len);
    if ((r & 0x80) != 0 || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL ||
        (size_t)(p - der) + (size_t)body != len)
        return cm_err_set(err, "format_failed", "the %s certificate is not one DER SEQUENCE",
                          what);
    if (PEM_write_bio(bio, "CERTIFICATE", "", der, (long)len) <= 0)
        return ossl_fail(err, "PEM_write_bio");
    return 0;
}

/* Renders the parts of the chain selected by `parts` as concatenated PEM, leaf first, into a
 * malloc'd buffer (*out, *out_len; caller frees). Returns 0 or -1 (err set). */
static int render_pem(const cm_chain *chain, int parts, unsigned char **out, size_t *out_len,
                      cm_err *err)
{
    int rc = -1;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        ossl_fail(err, "BIO_new");
        goto out;
    }
    if ((parts & PART_LEAF) && pem_append(bio, chain->leaf, chain->leaf_len, "leaf", err) != 0)
        goto out;
    if ((parts & PART_ISSUER) &&
        pem_append(bio, chain->issuer, chain->issuer_len, "issuing CA", err) != 0)
        goto out;
    if ((parts & PART_ROOT) && pem_append(bio, chain->root, chain->root_len, "root", err) != 0)
        goto out;
    char *mem = NULL;
    long n = BIO_get_mem_data(bio, &mem);
    if (n <= 0 || mem == NULL) {
        ossl_fail(err, "BIO_get_mem_data");
        goto out;
    }
    if (dup_bytes(mem, (size_t)n, out, err) != 0)
        goto out;
    *out_len = (size_t)n;
    rc = 0;
out:
    BIO_free(bio);
    return rc;
}

/* Renders a PKCS#7 signed-data, certificates-only structure (no signers, no content) holding
 * leaf, issuing CA and root, as DER in a malloc'd buffer (caller frees). Returns 0 or -1. */
static int render_p7b(const cm_chain *chain, unsigned char **out, size_t *out_len, cm_err *err)
{
    int rc = -1;
    PKCS7 *p7 = NULL;
    X509 *certs[3] = {NULL, NULL, NULL};
    unsigned char *buf = NULL;

    if ((certs[0] = parse_der(chain->leaf, chain->leaf_len, "leaf", err)) == NULL ||
        (certs[1] = parse_der(chain->issuer, chain->issuer_len, "issuing CA", err)) == NULL ||
        (certs[2] = parse_der(chain->root, chain->root_len, "root", err)) == NULL)
        goto out;

    if ((p7 = PKCS7_new()) == NULL) {
        ossl_fail(err, "PKCS7_new");
        goto out;
    }
    /* Like `openssl crl2pkcs7 -nocrl`: signed-data v1 whose encapsulated content is of type
     * data with the content itself absent. */
    if (PKCS7_set_type(p7, NID_pkcs7_signed) != 1) {
        ossl_fail(err, "PKCS7_set_type");
        goto out;
    }
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    for (size_t i = 0; i < 3; i++) {
        if (PKCS7_add_certificate(p7, certs[i]) != 1) { /* takes its own reference */
            ossl_fail(err, "PKCS7_add_certificate");
            goto out;
        }
    }
    int n = i2d_PKCS7(p7, NULL);
    if (n <= 0) {
        ossl_fail(err, "i2d_PKCS7");
        goto out;
    }
    if ((buf = malloc((size_t)n)) == NULL) {
        cm_err_set(err, "format_failed", "out of memory (%d bytes)", n);
        goto out;
    }
    unsigned char *p = buf;
    if (i2d_PKCS7(p7, &p) != n) {
        ossl_fail(err, "i2d_PKCS7");
        goto out;
    }
    *out = buf;
    *out_len = (size_t)n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    PKCS7_free(p7);
    for (size_t i = 0; i < 3; i++)
        X509_free(certs[i]);
    return rc;
}

/* Sets err from a libzip error naming the failing call; returns -1. */
static int zip_fail(cm_err *err, const char *call, zip_error_t *ze)
{
    return cm_err_set(err, "format_failed", "%s failed while building the zip: %s", call,
                      zip_error_strerror(ze));
}

/* Adds one member with the given name and bytes to the archive. The bytes must stay valid
 * until zip_close. Returns 0 or -1 (err set). */
static int zip_add_member(zip_t *za, const char *name, const unsigned char *data, size_t len,
                          cm_err *err)
{
    zip_source_t *s = zip_source_buffer(za, data, len, 0);
    if (s == NULL)
        return zip_fail(err, "zip_source_buffer", zip_get_error(za));
    if (zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(s); /* not taken over on failure */
        return zip_fail(err, "zip_file_add", zip_get_error(za));
    }
    return 0;
}

/* Renders a zip of PEM files: `<basename>.<ext>`, `CertmintCA.<ext>` and, when the root is
 * among the parts, `TrustedRoot.<ext>`. The archive is written to an in-memory libzip source
 * and read back into a malloc'd buffer (caller frees). Returns 0 or -1 (err set). */
static int render_zip(const cm_chain *chain, const fmt_def *f, unsigned char **out, size_t *out_len,
                      cm_err *err)
{
    int rc = -1;
    unsigned char *pem[3] = {NULL, NULL, NULL};
    size_t pem_len[3] = {0, 0, 0};
    const int part[3] = {PART_LEAF, PART_ISSUER, PART_ROOT};
    char stem[BASENAME_MAX + 1];
    char name[3][BASENAME_MAX + 16];
    zip_error_t ze;
    zip_source_t *src = NULL;
    zip_t *za = NULL;
    bool src_open = false;
    unsigned char *buf = NULL;

    zip_error_init(&ze);
    sanitize_basename(chain->basename, stem, sizeof stem);
    const char *stems[3] = {stem, "CertmintCA", "TrustedRoot"};
    for (size_t i = 0; i < 3; i++) {
        if (!(f->parts & part[i]))
            continue;
        int w = snprintf(name[i], sizeof name[i], "%s.%s", stems[i], f->zip_ext);
        if (w < 0 || (size_t)w >= sizeof name[i]) {
            cm_err_set(err, "format_failed", "zip member name too long");
            goto out;
        }
        if (render_pem(chain, part[i], &pem[i], &pem_len[i], err) != 0)
            goto out;
    }

    if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL) {
        zip_fail(err, "zip_source_buffer_create", &ze);
        goto out;
    }
    if ((za = zip_open_from_source(src, ZIP_CREATE | ZIP_TRUNCATE, &ze)) == NULL) {
        zip_fail(err, "zip_open_from_source", &ze);
        goto out; /* src is still ours */
    }
    /* The archive now owns src; keep a reference so the bytes survive zip_close. */
    zip_source_keep(src);
    for (size_t i = 0; i < 3; i++) {
        if (pem[i] != NULL && zip_add_member(za, name[i], pem[i], pem_len[i], err) != 0)
            goto out;
    }
    if (zip_close(za) != 0) {
        zip_fail(err, "zip_close", zip_get_error(za));
        goto out;
    }
    za = NULL;

    zip_stat_t st;
    if (zip_source_open(src) != 0) {
        zip_fail(err, "zip_source_open", zip_source_error(src));
        goto out;
    }
    src_open = true;
    if (zip_source_stat(src, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || st.size == 0 ||
        st.size > ZIP_MAX_BYTES) {
        zip_fail(err, "zip_source_stat", zip_source_error(src));
        goto out;
    }
    if ((buf = malloc((size_t)st.size)) == NULL) {
        cm_err_set(err, "format_failed", "out of memory (%llu bytes)", (unsigned long long)st.size);
        goto out;
    }
    zip_int64_t got = zip_source_read(src, buf, st.size);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        zip_fail(err, "zip_source_read", zip_source_error(src));
        goto out;
    }
    *out = buf;
    *out_len = (size_t)st.size;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (src_open)
        zip_source_close(src);
    if (za != NULL)
        zip_discard(za); /* drops the archive's reference to src */
    if (src != NULL)
        zip_source_free(src);
    zip_error_fini(&ze);
    for (size_t i = 0; i < 3; i++)
        free(pem[i]);
    return rc;
}

/* Renders the chain in `format` into *out (caller frees with blob_free). On failure *out is
 * zeroed and err holds `format_unknown` or `format_failed`. */
int format_render(const char *format, const cm_chain *chain, cm_blob *out, cm_err *err)
{
    int rc = -1;
    unsigned char *data = NULL;
    size_t len = 0;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    const fmt_def *f = format_find(format);
    if (f == NULL) {
        /* Echo the name only when it is short and printable; it comes from the user. */
        bool echo = format != NULL && strlen(format) <= 32;
        for (const char *p = format; echo && *p; p++)
            echo = *p >= 0x21 && *p <= 0x7e;
        if (echo)
            return cm_err_set(err, "format_unknown",
                              "unknown format \"%s\"; use one of " FORMAT_LIST, format);
        return cm_err_set(err, "format_unknown", "unknown format; use one of " FORMAT_LIST);
    }
    if (chain == NULL || out == NULL)
        return cm_err_set(err, "format_failed", "no certificate to render");

    switch (f->kind) {
    case KIND_PEM:
        if (render_pem(chain, f->parts, &data, &len, err) != 0)
            goto out;
        out->content_type = CT_PEM;
        out->ext = "pem";
        break;
    case KIND_DER: {
        /* Parse it once so a broken leaf fails here rather than in the user's tools. */
        X509 *x = parse_der(chain->leaf, chain->leaf_len, "leaf", err);
        if (x == NULL)
            goto out;
        X509_free(x);
        if (dup_bytes(chain->leaf, chain->leaf_len, &data, err) != 0)
            goto out;
        len = chain->leaf_len;
        out->content_type = CT_DER;
        out->ext = "der";
        break;
    }
    case KIND_P7B:
        if (render_p7b(chain, &data, &len, err) != 0)
            goto out;
        out->content_type = CT_P7B;
        out->ext = "p7b";
        break;
    case KIND_ZIP:
        if (render_zip(chain, f, &data, &len, err) != 0)
            goto out;
        out->content_type = CT_ZIP;
        out->ext = "zip";
        break;
    }
    out->data = data;
    out->len = len;
    data = NULL;
    rc = 0;
out:
    free(data);
    if (rc != 0 && out != NULL)
        memset(out, 0, sizeof *out);
    return rc;
}
