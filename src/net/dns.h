/* dns.h — the DNS lookups of domain validation and CAA, through glibc's libresolv.
 *
 * Every call uses its own resolver state (safe from any thread): the server of the
 * `dns_server` setting ("address:port", IPv6 in brackets), or the system resolver of
 * /etc/resolv.conf when it is empty; 2 s per try, 2 tries, UDP with TCP when the answer is
 * truncated; answers are bounded to 64 KiB. Names are A-labels (letters, digits, '-', '_', '.';
 * a trailing dot is ignored). CNAMEs in an answer are followed (up to 8) from the asked name, so
 * the records returned are those of the name it is an alias for.
 * Errors: `dns_failed` — no answer (timeout, connection refused), SERVFAIL/REFUSED or another
 * error code, a malformed or oversized answer, or an unusable name; the message names the
 * query, the server and what went wrong. NXDOMAIN and NODATA are not errors (empty results). */
#ifndef CM_NET_DNS_H
#define CM_NET_DNS_H

#include <stddef.h>

#include "core/caa.h"
#include "util/config.h"
#include "util/err.h"

/* Largest DNS answer accepted, UDP or TCP. */
#define DNS_ANSWER_MAX 65536

/* Text records */

/* TXT strings at `name`: one string per record, its character-strings concatenated (records
 * holding a NUL byte are skipped). *out is an array of malloc'd strings (NULL when *n is 0);
 * the caller frees it with dns_free_list. NXDOMAIN/NODATA → 0 with *n = 0. */
int dns_txt(const cm_config *cfg, const char *name, char ***out, size_t *n, cm_err *err);

/* Aliases */

/* The CNAME target of `name` (lower-case, no trailing dot) into out (outsz bytes), or "" when
 * there is none. Errors: `dns_failed`, also when the target does not fit in outsz. */
int dns_cname(const cm_config *cfg, const char *name, char *out, size_t outsz, cm_err *err);

/* Certification authority authorisation */

/* CAA records at exactly `name` (no climbing here; net/dcv.h caa_check climbs). *out is a
 * malloc'd array (NULL when *n is 0); the caller frees it with free(). Tags or values longer
 * than cm_caa_rr's buffers are cut and marked `truncated`. */
int dns_caa(const cm_config *cfg, const char *name, cm_caa_rr **out, size_t *n, cm_err *err);

/* Addresses */

/* The IPv4 (A) and IPv6 (AAAA) addresses of `name` as text ("192.0.2.1", "2001:db8::1"), A
 * first. *out as for dns_txt; the caller frees it with dns_free_list. */
int dns_addrs(const cm_config *cfg, const char *name, char ***out, size_t *n, cm_err *err);

/* Frees a list returned by dns_txt or dns_addrs (NULL is fine). */
void dns_free_list(char **list, size_t n);

#endif
