/* names.h — normalising and checking the names a certificate may carry (BR §7.1.2.7.12,
 * §3.2.2.6, §4.2.2). Names always come from the order, never from a CSR. */
#ifndef CM_CORE_NAMES_H
#define CM_CORE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* An A-label name is at most 253 octets; an IPv6 text form at most 45. */
#define NAME_MAX_LEN 253

typedef enum { NAME_DNS, NAME_WILDCARD, NAME_IPV4, NAME_IPV6 } cm_name_type;

typedef struct cm_name {
    cm_name_type type;
    char text[NAME_MAX_LEN + 1]; /* normalised: lower-case A-labels, or canonical IP text */
    unsigned char ip[16];        /* NAME_IPV4: 4 bytes; NAME_IPV6: 16 bytes */
} cm_name;

typedef struct cm_name_policy {
    bool public_names;   /* public hierarchy: no internal names, no reserved IPs */
    bool allow_wildcard; /* the product allows wildcard names */
    bool allow_ip;       /* the product allows IP addresses (EV does not) */
} cm_name_policy;

/* Normalises one name given by a person or script and checks it against `pol`.
 * - DNS names: trimmed of nothing (surrounding space is an error), lower-cased, IDN U-labels
 *   converted to A-labels (IDNA2008 via libidn2); A-labels must be valid Punycode; labels are
 *   LDH (letters, digits, hyphen; no leading or trailing hyphen; "--" in positions 3–4 only for
 *   "xn--"), at most 63 octets, the whole at most 253; no underscore, no trailing dot, no empty
 *   label; the top-level label is not all digits.
 * - Wildcards: only "*." as the whole left-most label, over at least a registrable domain —
 *   never over a public suffix (libpsl: "*.co.uk", "*.com" are refused).
 * - A name that is itself a public suffix ("co.uk") is refused.
 * - Public names: the top-level domain must be an ICANN suffix (no internal names such as
 *   "localhost", "server.local", "host.internal", "corp"); nothing under in-addr.arpa/ip6.arpa;
 *   no reserved IPv4/IPv6 addresses (IANA special-purpose registries).
 * - IPs: IPv4 dotted quad, IPv6 in RFC 5952 text form on output.
 * Errors (code `name_invalid`, message quoting the name and saying why). */
int name_normalize(const char *in, const cm_name_policy *pol, cm_name *out, cm_err *err);

/* True when `wildcard` ("*.example.com") covers `name` ("mail.example.com"): exactly one label
 * in place of the star. */
bool name_wildcard_covers(const char *wildcard, const char *name);

/* True when the IPv4 (len 4) or IPv6 (len 16) address is in an IANA special-purpose block that
 * may not appear in a publicly-trusted certificate. */
bool name_ip_reserved(const unsigned char *ip, size_t len);

#endif
