/* listener.h — the HTTPS listener's own certificate, issued from the private hierarchy. */
#ifndef CM_PKI_LISTENER_H
#define CM_PKI_LISTENER_H

#include "pki/pki.h"

/* Makes a fresh ECDSA P-256 key and a private_ssl_plus certificate for "localhost",
 * 127.0.0.1 and ::1 (plus `extra_name` when not NULL/empty) from the private ECDSA CA, with
 * `org` (the CA operator's organisation) in its subject, and
 * writes DIR/ca/listener.key (PKCS#8, unencrypted, 0600) and DIR/ca/listener.crt (leaf then
 * issuing CA, PEM). Never overwrites: an existing file → `file_exists`. */
int listener_cert_make(cm_pki *pki, const cm_config *cfg, const cm_org *org,
                       const char *extra_name, cm_err *err);

#endif
