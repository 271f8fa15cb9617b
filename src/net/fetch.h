/* fetch.h — the one HTTP GET of the http-token DCV method (BR §3.2.2.4.18), with libcurl.
 * Thread-safe: each call has its own handles. */
#ifndef CM_NET_FETCH_H
#define CM_NET_FETCH_H

#include <stddef.h>

#include "util/config.h"
#include "util/err.h"

#define FETCH_MAX_BODY      65536 /* bytes of body accepted; more is an error */
#define FETCH_MAX_REDIRECTS 5
#define FETCH_TIMEOUT_MS    10000 /* for the whole fetch, redirects included */

/* GETs `url` (http:// or https://) and returns its body when the final answer is 2xx.
 * Redirects are followed here, not by libcurl: only 301, 302, 307 and 308; only to http or
 * https URLs on the default ports (an explicit port must be 80 or 443); at most 5. The body
 * is capped at 64 KiB (more → error); 10 s for everything; the TLS certificate is not verified
 * on https (BR §3.2.2.4.18 allows it); proxies from the environment are not used.
 * Addresses: cfg->http_resolve items ("host:port:address", CURLOPT_RESOLVE) apply to every
 * hop; other names are resolved through cfg->dns_server when it is set (A and AAAA), else by
 * the system resolver.
 * On success *body is malloc'd and NUL-terminated (the caller frees it), *len its length
 * without the NUL. *status is the last HTTP status seen (0 when none), also on failure.
 * Errors: `http_fetch_failed` (the curl error, or the HTTP status, with the URL),
 * `http_redirect_refused` (which rule), `dns_failed` (resolving through dns_server). */
int http_fetch(const cm_config *cfg, const char *url, unsigned char **body, size_t *len,
               long *status, cm_err *err);

#endif
