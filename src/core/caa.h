/* caa.h — the CAA decision of RFC 8659 over one RRset (BR §3.2.2.8), as a pure rule: no DNS
 * here. net/dcv.c finds the relevant RRset by climbing the DNS tree and asks caa_decide. */
#ifndef CM_CORE_CAA_H
#define CM_CORE_CAA_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The Issuer Critical flag (RFC 8659 §4.1): a property the CA does not understand forbids. */
#define CAA_FLAG_CRITICAL 128u

/* One CAA resource record: flags, tag and value as on the wire (value bytes that are NUL are
 * replaced by 0x7f, which the grammar never allows, so such a value stays malformed). */
typedef struct cm_caa_rr {
    unsigned flags;
    char tag[32];
    char value[512];
    bool truncated; /* tag or value longer than the buffers: the record authorises no CA */
} cm_caa_rr;

/* Decides whether this CA (`identities`: comma-separated issuer domain names, e.g.
 * "certmint.test,ca.example.org") may issue for a name whose relevant CAA RRset is `rrs`
 * (RFC 8659 §4):
 * - a property with the critical flag and a tag certmint does not understand forbids issuance
 *   (understood: issue, issuewild, iodef, and issuemail/issuevmc/contactemail/contactphone,
 *   which say nothing about TLS certificates);
 * - for a wildcard name the `issuewild` records are used when any exist, else `issue`; for
 *   other names `issue` only;
 * - no such record → permitted;
 * - otherwise permitted when at least one of them names an identity (issuer domain name before
 *   ';', compared case-insensitively). An empty issuer (";") authorises no one; parameters
 *   after ';' are checked against the RFC grammar and otherwise ignored; a malformed value
 *   authorises no one.
 * Tags compare case-insensitively. Returns 0 permitted; -1 with `caa_forbidden` and a message
 * naming the record(s) and saying what to add. */
int caa_decide(const cm_caa_rr *rrs, size_t n, bool wildcard, const char *identities, cm_err *err);

/* The same, with `owner` (the name the RRset was found at) named in the message ("CAA record
 * at example.com (0 issue \"x\") …"). `owner` may be NULL. */
int caa_decide_at(const char *owner, const cm_caa_rr *rrs, size_t n, bool wildcard,
                  const char *identities, cm_err *err);

/* Parses an issue/issuewild value per the RFC 8659 §4.2 grammar. On success returns 0 and sets
 * *dom / *dom_len to the issuer domain name inside `value` (*dom_len 0 when empty, as in ";");
 * returns -1 when the value is malformed. */
int caa_parse_issue_value(const char *value, const char **dom, size_t *dom_len);

#endif
