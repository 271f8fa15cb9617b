/* errmap.c — the one place where an error code becomes an HTTP status. One table, read top to
 * bottom: an entry is an exact code, a "prefix_*" or a "*_suffix"; the first match wins, so exact
 * exceptions go above the wildcard they escape. Codes nobody listed are the caller's fault: 400. */
#include "http/http.h"

#include <string.h>

static const struct {
    const char *code;
    int status;
} errmap[] = {
    /* 401 / 403 */
    {"unauthorized", 401},
    {"forbidden", 403},
    {"caa_forbidden", 422},   /* the domain's CAA names another CA, not a role problem */
    {"key_compromised", 422}, /* the CSR's key was revoked for compromise */
    {"ca_unknown", 500},      /* a certificate whose issuing CA is not loaded: the operator's */
    {"*_forbidden", 403},
    /* Domain-control validation (svc_domain.c): the proof was looked for and is not there, or
     * the domain's own web server failed — a fine request for a domain not ready yet (422);
     * the DNS server could not answer (502); an unknown, used or expired email code (404). */
    {"dcv_txt_not_found", 422},
    {"dcv_cname_not_found", 422},
    {"dcv_http_not_found", 422},
    {"http_fetch_failed", 422},
    {"dns_failed", 502},
    {"caa_lookup_failed", 502}, /* the domain's DNS did not answer: retry later */
    {"dcv_code_invalid", 404},
    /* Duplicates (R-D1 … R-D14): each refusal has its own code (docs/lifecycle.md). */
    {"duplicate_not_allowed_for_dv", 409},
    {"duplicates_disabled", 403},
    {"duplicate_validation_stale", 409},
    {"duplicate_ev_contact_required", 403},
    {"duplicate_key_reused", 422},
    {"duplicate_name_not_allowed", 422},
    {"duplicate_customization_not_flex", 422},
    {"duplicate_validity_too_long", 422},
    {"duplicate_automation_needs_skip_approval", 403},
    {"duplicate_bulk_not_supported", 422},
    /* Renewals (R-O5). */
    {"renewal_window_closed", 409},
    {"order_already_renewed", 409},
    {"renewal_product_mismatch", 422},
    /* 404 / 405 */
    {"not_found", 404},
    {"*_not_found", 404},
    {"method_not_allowed", 405},
    /* 409: the state of something forbids it now */
    {"conflict", 409},
    {"*_conflict", 409},
    {"*_state", 409},
    {"*_exists", 409}, /* user_exists, domain_exists: the thing is there already */
    {"already_initialised", 500}, /* init of the data directory, never a request's fault */
    {"already_*", 409},
    /* 413 / 414 / 415 / 429 */
    {"payload_too_large", 413},
    {"uri_too_long", 414},
    {"unsupported_media_type", 415},
    {"rate_limited", 429},
    {"signer_refused", 500}, /* a hard limit of the signer tripped: a bug, not the user */
    /* 422: well-formed requests that a rule of DESIGN.md §3 refuses */
    {"*_not_allowed", 422},
    {"*_not_validated", 422},
    {"*_expired", 422},
    {"*_refused", 422},
    /* 5xx: our side */
    {"internal_error", 500},
    {"out_of_memory", 503},
    {"store_busy", 503},
    {"store_error", 500},
    {"signer_unavailable", 503},
    {"*_unavailable", 503},
    {"*_failed", 500},
    {"*_unreadable", 500},
    {"*_unwritable", 500},
    /* 400: explicit for documentation; the default gives the same */
    {"invalid_json", 400},
    {"body_required", 400},
    {"field_required", 400},
    {"field_invalid", 400},
    {"field_unknown", 400},
    {"invalid_path", 400},
};

static bool code_matches(const char *pat, const char *code)
{
    size_t pl = strlen(pat), cl = strlen(code);
    if (pl > 0 && pat[0] == '*')
        return cl >= pl && memcmp(code + cl - (pl - 1), pat + 1, pl - 1) == 0;
    if (pl > 0 && pat[pl - 1] == '*')
        return cl >= pl && memcmp(code, pat, pl - 1) == 0;
    return strcmp(pat, code) == 0;
}

int http_status_for(const char *code)
{
    if (code == NULL || code[0] == '\0')
        return 500;
    for (size_t i = 0; i < sizeof errmap / sizeof errmap[0]; i++)
        if (code_matches(errmap[i].code, code))
            return errmap[i].status;
    return 400;
}
