/* formats.h — the download formats of a certificate and its chain (DESIGN.md §5). */
#ifndef CM_PKI_FORMATS_H
#define CM_PKI_FORMATS_H

#include <stddef.h>

#include "util/err.h"

typedef struct cm_chain {
    const unsigned char *leaf; /* DER */
    size_t leaf_len;
    const unsigned char *issuer; /* DER of the issuing CA */
    size_t issuer_len;
    const unsigned char *root; /* DER of the root */
    size_t root_len;
    const char *basename; /* the certificate's main name, e.g. "*.example.com"; zips name the
                             leaf after it ("star_example_com.crt") */
} cm_chain;

typedef struct cm_blob {
    unsigned char *data; /* malloc'd; caller frees with blob_free */
    size_t len;
    const char *content_type; /* static string */
    const char *ext;          /* static file extension without the dot: "pem", "zip", … */
} cm_blob;

/* Renders the chain in `format`: "pem_all" (leaf, intermediate, root), "pem_noroot" (leaf,
 * intermediate), "pem_nointermediate" (leaf, root), "der" (leaf), "p7b" (PKCS#7 certs-only, DER,
 * all three), "default" (zip of leaf, intermediate and root as .crt PEM files), "default_pem"
 * (the same as .pem), "apache" (zip of leaf and intermediate .crt). Unknown format:
 * `format_unknown`. */
int format_render(const char *format, const cm_chain *chain, cm_blob *out, cm_err *err);
void blob_free(cm_blob *b);

/* True when `format` is one of the names above. */
int format_known(const char *format);

#endif
