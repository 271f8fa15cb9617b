/* dcv.h — the domain-control validation methods of DESIGN.md R-O3 that need the network, and
 * the CAA check at issuance. Thread-safe (the server calls them from worker threads). */
#ifndef CM_NET_DCV_H
#define CM_NET_DCV_H

#include <stdbool.h>
#include <stddef.h>

#include "util/config.h"
#include "util/err.h"

/* Where the http-token file lives under http://<domain> (BR 3.2.2.4.18). */
#define DCV_HTTP_PATH "/.well-known/pki-validation/fileauth.txt"
/* The label prefixed to the domain for dns-txt-token. */
#define DCV_TXT_LABEL "_dnsauth"

/* Domain control */

/* Looks for the proof that whoever controls `domain` (an A-label name, no wildcard) published
 * `value` (the random value the service made: ≥ 112 bits, kept 30 days; printable ASCII
 * without spaces, at most 255 characters):
 *   dns-txt-token:   a TXT string at _dnsauth.<domain>, or else at <domain>, equal to `value`
 *                    after trimming spaces → else `dcv_txt_not_found`
 *   dns-cname-token: the CNAME at <value>.<domain> points at cfg->dcv_cname_target (case-
 *                    insensitive, trailing dot ignored; `value` must then be a DNS label)
 *                    → else `dcv_cname_not_found`
 *   http-token:      the body of http://<domain>/.well-known/pki-validation/fileauth.txt
 *                    (net/fetch.h rules) contains `value` → else `dcv_http_not_found`, or the
 *                    fetch's `http_fetch_failed` / `http_redirect_refused`
 * Returns 0 when the proof is found; -1 with a message that says what was looked up and what
 * was found. DNS errors: `dns_failed`. Other errors: `dcv_method_invalid` (unknown method, or
 * `email`, which is done by mail), `dcv_domain_invalid`, `dcv_value_invalid`. */
int dcv_check(const cm_config *cfg, const char *method, const char *domain, const char *value,
              cm_err *err);

/* The same; on success also says where the proof was found into `found` (found_size bytes,
 * e.g. "TXT record at _dnsauth.example.com"). `found` may be NULL. */
int dcv_check_detail(const cm_config *cfg, const char *method, const char *domain,
                     const char *value, char *found, size_t found_size, cm_err *err);

/* Certification authority authorisation */

/* CAA at issuance (RFC 8659; BR §3.2.2.8): for `name` (for "*.x" the base "x", and the name
 * counts as a wildcard), climbs from the name towards the TLD (the TLD included) until a name
 * has a CAA RRset, then asks core/caa.h caa_decide with cfg->caa_identities. CNAMEs are
 * followed by the lookup at each name. Returns 0 if issuance is permitted; -1 with
 * `caa_forbidden` (the message names the record and what to add) or `caa_lookup_failed` (a DNS
 * failure is a refusal: the message says which lookup failed). Also `dcv_domain_invalid`. */
int caa_check(const cm_config *cfg, const char *name, bool wildcard, cm_err *err);

/* The same; on success says into `found` which RRset decided, or that there was none. */
int caa_check_detail(const cm_config *cfg, const char *name, bool wildcard, char *found,
                     size_t found_size, cm_err *err);

#endif
