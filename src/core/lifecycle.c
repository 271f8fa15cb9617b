/* lifecycle.c — the rules of duplicates, reissues and renewals (DESIGN.md R-D, R-O4, R-O5). */
#include "core/lifecycle.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

const char *origin_name(cm_origin o)
{
    switch (o) {
    case ORIGIN_AGENT:
        return "agent";
    case ORIGIN_ACME:
        return "acme";
    case ORIGIN_AUTO_RENEW:
        return "auto_renew";
    case ORIGIN_MANUAL:
        break;
    }
    return "manual";
}

bool origin_is_automation(cm_origin o)
{
    return o != ORIGIN_MANUAL;
}

int dup_check(const cm_dup_facts *f, cm_err *err)
{
    const cm_product *p = f->product;
    if (p == NULL || p->validation == VAL_DV || !p->duplicates)
        return cm_err_set(err, "duplicate_not_allowed_for_dv",
                          "DV orders have no duplicates; reissue the certificate instead");
    if (!f->allow_duplicates)
        return cm_err_set(err, "duplicates_disabled",
                          "duplicates are turned off for this account; an administrator can turn "
                          "them on (PUT /services/v2/account/settings {\"allow_duplicates\":true})");
    const char *st = f->order_status != NULL ? f->order_status : "";
    if (strcmp(st, "issued") != 0) {
        if (strcmp(st, "reissue_pending") == 0)
            return cm_err_set(err, "duplicate_order_state",
                              "a reissue of this order is pending; duplicate once it is issued, "
                              "or cancel it");
        return cm_err_set(err, "duplicate_order_state",
                          "the order is %s; only issued orders have duplicates (renew or place a "
                          "new order instead)", st[0] ? st : "not issued");
    }
    if (f->coverage_end != 0 && f->coverage_end <= f->now)
        return cm_err_set(err, "duplicate_order_state",
                          "the order's coverage has ended; renew it instead");
    if (!f->validation_current)
        return cm_err_set(err, "duplicate_validation_stale",
                          "%s is not current, and a duplicate is issued at once with no "
                          "validation step; reissue the certificate instead (a reissue validates)",
                          f->stale_what ? f->stale_what : "validation");
    if (p->validation == VAL_EV && !f->requester_ev_contact)
        return cm_err_set(err, "duplicate_ev_contact_required",
                          "EV duplicates have no approval step, so only a verified contact who "
                          "may approve EV certificates for the organisation can request one; "
                          "reissue the certificate instead");
    if (origin_is_automation(f->origin)) {
        if (!f->skip_approval)
            return cm_err_set(err, "duplicate_automation_needs_skip_approval",
                              "automation may request duplicates only when the account skips "
                              "the approval step (skip_approval); request the duplicate by hand "
                              "instead");
        if (f->n_hosts != 1)
            return cm_err_set(err, "duplicate_bulk_not_supported",
                              "automation has no bulk duplicate: one host, one request");
    }
    return 0;
}

static bool in_set(const cm_name *v, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].text, text) == 0)
            return true;
    return false;
}

/* True when a wildcard among `cur` covers `name` (one label in place of the star). */
static bool wildcard_covered(const cm_name *cur, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (cur[i].type == NAME_WILDCARD && name_wildcard_covers(cur[i].text, name))
            return true;
    return false;
}

int dup_names(const cm_product *p, const cm_name *cur, size_t n_cur, const cm_name *req,
              size_t n_req, cm_name **out, size_t *n_out, cm_err *err)
{
    const cm_name *src = n_req > 0 ? req : cur;
    size_t n = n_req > 0 ? n_req : n_cur;
    if (n == 0)
        return cm_err_set(err, "names_required", "a duplicate needs at least one name");
    for (size_t i = 0; i < n; i++) {
        if (in_set(cur, n_cur, src[i].text))
            continue;
        if (!p->duplicate_add_names || src[i].type != NAME_DNS ||
            !wildcard_covered(cur, n_cur, src[i].text))
            return cm_err_set(err, "duplicate_name_not_allowed",
                              "%s is not on the order's current certificate%s; reissue the "
                              "certificate first to add it, then duplicate",
                              src[i].text,
                              p->duplicate_add_names ? " nor covered by one of its wildcards"
                                                     : "");
    }
    if (!p->flex && n_req > 0) {
        /* Not flex: every current name stays, with the same common name; wildcard products
         * may add covered names after them. */
        bool same_cn = strcmp(src[0].text, cur[0].text) == 0;
        bool keeps_all = true;
        for (size_t i = 0; i < n_cur && keeps_all; i++)
            keeps_all = in_set(src, n, cur[i].text);
        if (!same_cn || !keeps_all)
            return cm_err_set(err, "duplicate_customization_not_flex",
                              "%s is not a flex product: a duplicate keeps every name of the "
                              "certificate and its common name %s%s; order a flex product or "
                              "reissue to change the names",
                              p->name, cur[0].text,
                              p->duplicate_add_names ? " (it may add names its wildcard covers)"
                                                     : "");
    }
    cm_name *v = calloc(n, sizeof *v);
    if (v == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    memcpy(v, src, n * sizeof *v);
    *out = v;
    *n_out = n;
    return 0;
}

int dup_not_after(int64_t copied_not_after, int64_t coverage_end, int64_t cap_end,
                  int64_t requested, cm_origin origin, int64_t now, int64_t *out, cm_err *err)
{
    int64_t def = copied_not_after;
    if (coverage_end != 0 && coverage_end < def)
        def = coverage_end;
    if (cap_end != 0 && cap_end < def)
        def = cap_end;
    if (def <= now)
        return cm_err_set(err, "duplicate_order_state",
                          "the certificate to copy has no validity left; renew the order instead");
    if (requested == 0 || origin_is_automation(origin)) {
        *out = def;
        return 0;
    }
    if (requested <= now + 3600)
        return cm_err_set(err, "field_invalid",
                          "certificate.valid_till must be more than an hour from now");
    /* A date alone means the end of that day (23:59:59 UTC): on the copied certificate's last
     * day it means that certificate's end. */
    if (requested > def && requested % 86400 == 86399 && requested - def < 86400)
        requested = def;
    if (requested > def) {
        char d[32];
        clock_format_iso(def, d, sizeof d);
        return cm_err_set(err, "duplicate_validity_too_long",
                          "a duplicate may end earlier than the certificate it copies, never "
                          "later: give a valid_till no later than %s",
                          d);
    }
    *out = requested;
    return 0;
}

int reissue_removed_names(const cm_name *old, size_t n_old, const cm_name *new_names,
                          size_t n_new, size_t **removed, size_t *n_removed, cm_err *err)
{
    *removed = NULL;
    *n_removed = 0;
    size_t k = 0;
    for (size_t i = 0; i < n_old; i++)
        if (!in_set(new_names, n_new, old[i].text))
            k++;
    if (k == 0)
        return 0;
    size_t *v = calloc(k, sizeof *v);
    if (v == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    k = 0;
    for (size_t i = 0; i < n_old; i++)
        if (!in_set(new_names, n_new, old[i].text))
            v[k++] = i;
    *removed = v;
    *n_removed = k;
    return 0;
}

bool cert_carries_any(const char *cert_names, const char *const *removed, size_t n_removed)
{
    const char *p = cert_names;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        for (size_t i = 0; i < n_removed; i++)
            if (strlen(removed[i]) == len && strncmp(removed[i], p, len) == 0)
                return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

int renewal_check(const char *old_status, int64_t renewed_by, int64_t old_end, int window_days,
                  int64_t now, cm_err *err)
{
    if (strcmp(old_status, "issued") != 0 && strcmp(old_status, "expired") != 0)
        return cm_err_set(err, "renewal_order_state",
                          "order is %s; only issued or expired orders are renewed (place a new "
                          "order instead)", old_status);
    if (renewed_by != 0)
        return cm_err_set(err, "order_already_renewed",
                          "the order was already renewed by order %lld; renew that one",
                          (long long)renewed_by);
    int64_t opens = old_end - (int64_t)window_days * 86400;
    if (old_end != 0 && now < opens) {
        char d[32];
        clock_format_iso(opens, d, sizeof d);
        return cm_err_set(err, "renewal_window_closed",
                          "the renewal window opens %d days before the certificate ends, on %s; "
                          "renew then, or reissue or duplicate meanwhile",
                          window_days, d);
    }
    return 0;
}

static bool all_in(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++)
            found = strcmp(a[i], b[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

bool renewal_matches(const char *prod_a, int64_t org_a, const char *const *names_a, size_t n_a,
                     const char *prod_b, int64_t org_b, const char *const *names_b, size_t n_b)
{
    return strcmp(prod_a, prod_b) == 0 && org_a == org_b && all_in(names_a, n_a, names_b, n_b) &&
           all_in(names_b, n_b, names_a, n_a);
}
