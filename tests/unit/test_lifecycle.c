/* test_lifecycle.c — the life of an issued order (DESIGN.md §3.2 R-D1 … R-D15, §3.3 R-O4, R-O5).
 * Part 1, the pure rules of core/lifecycle.h, table-driven: dup_check (DV and products without
 * duplicates, the account switch, every order status and an ended coverage, stale validation
 * named in the message, the EV contact, automation and skip_approval, one host per automation
 * request; the first refusal wins), dup_names (default copy; flex removal, reorder, SAN into CN;
 * non-flex refusals; names a wildcard product may add), dup_not_after (default and its caps,
 * earlier and later ends, past or too close ends, automation, a date-only end on the last day),
 * reissue_removed_names, cert_carries_any (exact labels only), renewal_check (every status, an
 * order already renewed, the window and its exact edge) and renewal_matches.
 * Part 2, the service functions with a real CA (signer process), a real SQLite store in a
 * throwaway directory, an account, an OV-vetted organisation and private_ssl_plus orders issued
 * at once: R-D13 and R-D14 through svc_duplicate_create, R-D15 through svc_duplicate_renew
 * (a matching renewal, the latest of a chain, no renewal, a renewal with other names), and R-O4's
 * revocation of certificates that lose a name through svc_revoke_pending_due with a fixed clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/lifecycle.h"
#include "core/names.h"
#include "core/platform.h"
#include "core/product.h"
#include "pki/keygen.h"
#include "service/lifecycle.h"
#include "service/svc_account.h"
#include "service/svc_org.h"
#include "util/clock.h"
#include "util/str.h"

#define DAY  86400
#define HOUR 3600

/* Fails with the error when `rc` is not 0. */
#define OK(call, err)                                                                              \
    do {                                                                                           \
        if ((call) != 0)                                                                           \
            fail_msg("%s: %s: %s", #call, (err).code, (err).msg);                                  \
    } while (0)

/* Fails unless the message contains `needle`. */
static void expect_in(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("\"%s\" not in \"%s\"", needle, text);
}

/* Expects `rc` to be -1 with error code `code`. */
static void expect_err(int rc, const cm_err *err, const char *code)
{
    if (rc != -1 || strcmp(err->code, code) != 0)
        fail_msg("expected %s, got rc %d code \"%s\" (%s)", code, rc, rc ? err->code : "",
                 rc ? err->msg : "");
}

/* ==== part 1: the pure rules ==== */

/* Normalised names from texts, with a policy that lets every kind through (the rules under
 * test do not look at the policy). */
static void names_of(const char *const *texts, size_t n, cm_name *out)
{
    cm_name_policy pol = {.public_names = false, .allow_wildcard = true, .allow_ip = true};
    cm_err err;
    for (size_t i = 0; i < n; i++)
        if (name_normalize(texts[i], &pol, &out[i], &err) != 0)
            fail_msg("name_normalize(%s): %s", texts[i], err.msg);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Facts that pass every rule: an issued OV order, everything current, a manual request. */
static cm_dup_facts good_facts(void)
{
    cm_dup_facts f = {.product = product_find("ssl_plus"),
                      .allow_duplicates = true,
                      .skip_approval = false,
                      .order_status = "issued",
                      .coverage_end = 2000000000,
                      .validation_current = true,
                      .stale_what = NULL,
                      .requester_ev_contact = false,
                      .origin = ORIGIN_MANUAL,
                      .n_hosts = 1,
                      .now = 1800000000};
    return f;
}

static void check_facts(const cm_dup_facts *f, const char *code)
{
    cm_err err;
    cm_err_clear(&err);
    int rc = dup_check(f, &err);
    if (code == NULL) {
        if (rc != 0)
            fail_msg("dup_check refused: %s: %s", err.code, err.msg);
    } else {
        expect_err(rc, &err, code);
        assert_true(strlen(err.msg) > 0);
    }
}

static void test_dup_check_passes_an_issued_current_ov_order(void **state)
{
    (void)state;
    cm_dup_facts f = good_facts();
    check_facts(&f, NULL);
}

static void test_dup_check_refuses_dv_and_products_without_duplicates(void **state)
{
    (void)state;
    cm_err err;
    cm_dup_facts f = good_facts();
    f.product = product_find("ssl_dv_geotrust");
    assert_non_null(f.product);
    assert_int_equal(dup_check(&f, &err), -1);
    assert_string_equal(err.code, "duplicate_not_allowed_for_dv");
    expect_in(err.msg, "reissue");
    /* A non-DV product whose catalogue row has no duplicates, and no product at all. */
    cm_product nodup = *product_find("ssl_plus");
    nodup.duplicates = false;
    f.product = &nodup;
    check_facts(&f, "duplicate_not_allowed_for_dv");
    f.product = NULL;
    check_facts(&f, "duplicate_not_allowed_for_dv");
    /* Every non-DV product of the catalogue has duplicates. */
    size_t n = 0;
    const cm_product *all = product_all(&n);
    for (size_t i = 0; i < n; i++) {
        f = good_facts();
        f.product = &all[i];
        f.requester_ev_contact = true;
        check_facts(&f, all[i].validation == VAL_DV ? "duplicate_not_allowed_for_dv" : NULL);
    }
}

static void test_dup_check_refuses_when_account_disables_duplicates(void **state)
{
    (void)state;
    cm_err err;
    cm_dup_facts f = good_facts();
    f.allow_duplicates = false;
    assert_int_equal(dup_check(&f, &err), -1);
    assert_string_equal(err.code, "duplicates_disabled");
    expect_in(err.msg, "allow_duplicates");
}

static void test_dup_check_refuses_every_status_but_issued(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        const char *code;
    } rows[] = {
        {"issued", NULL},
        {"needs_approval", "duplicate_order_state"},
        {"pending", "duplicate_order_state"},
        {"reissue_pending", "duplicate_order_state"},
        {"rejected", "duplicate_order_state"},
        {"canceled", "duplicate_order_state"},
        {"revoked", "duplicate_order_state"},
        {"expired", "duplicate_order_state"},
        {"", "duplicate_order_state"},
        {NULL, "duplicate_order_state"},
    };
    for (size_t i = 0; i < N(rows); i++) {
        cm_dup_facts f = good_facts();
        f.order_status = rows[i].status;
        check_facts(&f, rows[i].code);
    }
    /* The message says what is going on. */
    cm_err err;
    cm_dup_facts f = good_facts();
    f.order_status = "reissue_pending";
    assert_int_equal(dup_check(&f, &err), -1);
    expect_in(err.msg, "reissue");
    expect_in(err.msg, "pending");
    f.order_status = "revoked";
    assert_int_equal(dup_check(&f, &err), -1);
    expect_in(err.msg, "revoked");
}

static void test_dup_check_refuses_an_order_whose_coverage_ended(void **state)
{
    (void)state;
    cm_err err;
    cm_dup_facts f = good_facts();
    f.coverage_end = f.now;
    assert_int_equal(dup_check(&f, &err), -1);
    assert_string_equal(err.code, "duplicate_order_state");
    expect_in(err.msg, "coverage");
    f.coverage_end = f.now - DAY;
    check_facts(&f, "duplicate_order_state");
    f.coverage_end = f.now + 1;
    check_facts(&f, NULL);
    f.coverage_end = 0; /* not known: not judged here */
    check_facts(&f, NULL);
}

static void test_dup_check_refuses_stale_validation_naming_it(void **state)
{
    (void)state;
    cm_err err;
    cm_dup_facts f = good_facts();
    f.validation_current = false;
    f.stale_what = "domain control validation of www.example.com";
    assert_int_equal(dup_check(&f, &err), -1);
    assert_string_equal(err.code, "duplicate_validation_stale");
    expect_in(err.msg, "domain control validation of www.example.com");
    expect_in(err.msg, "reissue");
    f.stale_what = NULL;
    assert_int_equal(dup_check(&f, &err), -1);
    assert_string_equal(err.code, "duplicate_validation_stale");
    expect_in(err.msg, "validation");
}

static void test_dup_check_ev_needs_a_verified_ev_contact(void **state)
{
    (void)state;
    cm_dup_facts f = good_facts();
    f.product = product_find("ssl_ev_plus");
    f.requester_ev_contact = false;
    check_facts(&f, "duplicate_ev_contact_required");
    f.product = product_find("ssl_ev_basic");
    check_facts(&f, "duplicate_ev_contact_required");
    f.requester_ev_contact = true;
    check_facts(&f, NULL);
    /* OV does not ask for it. */
    f.product = product_find("ssl_basic");
    f.requester_ev_contact = false;
    check_facts(&f, NULL);
}

static void test_dup_check_automation_needs_skip_approval_manual_does_not(void **state)
{
    (void)state;
    static const struct {
        cm_origin origin;
        bool skip;
        const char *code;
    } rows[] = {
        {ORIGIN_MANUAL, false, NULL},
        {ORIGIN_MANUAL, true, NULL},
        {ORIGIN_AGENT, false, "duplicate_automation_needs_skip_approval"},
        {ORIGIN_AGENT, true, NULL},
        {ORIGIN_ACME, false, "duplicate_automation_needs_skip_approval"},
        {ORIGIN_ACME, true, NULL},
        {ORIGIN_AUTO_RENEW, false, "duplicate_automation_needs_skip_approval"},
        {ORIGIN_AUTO_RENEW, true, NULL},
    };
    for (size_t i = 0; i < N(rows); i++) {
        cm_dup_facts f = good_facts();
        f.origin = rows[i].origin;
        f.skip_approval = rows[i].skip;
        check_facts(&f, rows[i].code);
    }
    assert_false(origin_is_automation(ORIGIN_MANUAL));
    assert_true(origin_is_automation(ORIGIN_AGENT));
    assert_true(origin_is_automation(ORIGIN_ACME));
    assert_true(origin_is_automation(ORIGIN_AUTO_RENEW));
    assert_string_equal(origin_name(ORIGIN_MANUAL), "manual");
    assert_string_equal(origin_name(ORIGIN_AGENT), "agent");
    assert_string_equal(origin_name(ORIGIN_ACME), "acme");
    assert_string_equal(origin_name(ORIGIN_AUTO_RENEW), "auto_renew");
}

static void test_dup_check_automation_is_one_host_per_request(void **state)
{
    (void)state;
    static const struct {
        cm_origin origin;
        size_t hosts;
        const char *code;
    } rows[] = {
        {ORIGIN_AGENT, 0, "duplicate_bulk_not_supported"},
        {ORIGIN_AGENT, 1, NULL},
        {ORIGIN_AGENT, 2, "duplicate_bulk_not_supported"},
        {ORIGIN_ACME, 2, "duplicate_bulk_not_supported"},
        {ORIGIN_AUTO_RENEW, 2, "duplicate_bulk_not_supported"},
        {ORIGIN_MANUAL, 0, NULL},
        {ORIGIN_MANUAL, 1, NULL},
        {ORIGIN_MANUAL, 2, NULL},
    };
    for (size_t i = 0; i < N(rows); i++) {
        cm_dup_facts f = good_facts();
        f.skip_approval = true;
        f.origin = rows[i].origin;
        f.n_hosts = rows[i].hosts;
        check_facts(&f, rows[i].code);
    }
}

static void test_dup_check_first_refusal_wins(void **state)
{
    (void)state;
    cm_dup_facts f = good_facts();
    /* Everything wrong at once: R-D1 answers. */
    f.product = product_find("ssl_dv_geotrust");
    f.allow_duplicates = false;
    f.order_status = "revoked";
    f.validation_current = false;
    f.origin = ORIGIN_AGENT;
    f.n_hosts = 2;
    check_facts(&f, "duplicate_not_allowed_for_dv");
    f.product = product_find("ssl_ev_plus");
    check_facts(&f, "duplicates_disabled");
    f.allow_duplicates = true;
    check_facts(&f, "duplicate_order_state");
    f.order_status = "issued";
    check_facts(&f, "duplicate_validation_stale");
    f.validation_current = true;
    check_facts(&f, "duplicate_ev_contact_required");
    f.requester_ev_contact = true;
    check_facts(&f, "duplicate_automation_needs_skip_approval");
    f.skip_approval = true;
    check_facts(&f, "duplicate_bulk_not_supported");
    f.n_hosts = 1;
    check_facts(&f, NULL);
}

/* Runs dup_names on texts; returns rc and fills `got` (texts joined by ",") on success. */
static int run_dup_names(const char *product, const char *const *cur, size_t n_cur,
                         const char *const *req, size_t n_req, char *got, size_t gotsz, cm_err *err)
{
    const cm_product *p = product_find(product);
    cm_name c[8], r[8], *out = NULL;
    size_t n_out = 0;
    assert_non_null(p);
    assert_true(n_cur <= 8 && n_req <= 8);
    names_of(cur, n_cur, c);
    names_of(req, n_req, r);
    cm_err_clear(err);
    int rc = dup_names(p, c, n_cur, r, n_req, &out, &n_out, err);
    got[0] = '\0';
    if (rc == 0) {
        size_t used = 0;
        for (size_t i = 0; i < n_out; i++) {
            int w = snprintf(got + used, gotsz - used, "%s%s", i ? "," : "", out[i].text);
            assert_true(w > 0 && (size_t)w < gotsz - used);
            used += (size_t)w;
        }
        free(out);
    } else {
        assert_null(out);
    }
    return rc;
}

static const char *const ov3[] = {"www.example.com", "example.com", "mail.example.com"};

static void test_dup_names_default_is_a_copy_of_the_current_certificate(void **state)
{
    (void)state;
    char got[512];
    cm_err err;
    OK(run_dup_names("ssl_plus", ov3, 3, NULL, 0, got, sizeof got, &err), err);
    assert_string_equal(got, "www.example.com,example.com,mail.example.com");
    OK(run_dup_names("ssl_basic", ov3, 3, NULL, 0, got, sizeof got, &err), err);
    assert_string_equal(got, "www.example.com,example.com,mail.example.com");
    /* Nothing to copy and nothing asked. */
    expect_err(run_dup_names("ssl_plus", ov3, 0, NULL, 0, got, sizeof got, &err), &err,
               "names_required");
}

static void test_dup_names_flex_may_remove_reorder_and_promote_a_san(void **state)
{
    (void)state;
    char got[512];
    cm_err err;
    static const char *const removed[] = {"www.example.com", "example.com"};
    OK(run_dup_names("ssl_basic", ov3, 3, removed, 2, got, sizeof got, &err), err);
    assert_string_equal(got, "www.example.com,example.com");
    static const char *const reordered[] = {"www.example.com", "mail.example.com", "example.com"};
    OK(run_dup_names("ssl_basic", ov3, 3, reordered, 3, got, sizeof got, &err), err);
    assert_string_equal(got, "www.example.com,mail.example.com,example.com");
    static const char *const promoted[] = {"mail.example.com", "www.example.com"};
    OK(run_dup_names("ssl_securesite_flex", ov3, 3, promoted, 2, got, sizeof got, &err), err);
    assert_string_equal(got, "mail.example.com,www.example.com");
    /* Flex removes; it does not add. */
    static const char *const added[] = {"www.example.com", "shop.example.com"};
    expect_err(run_dup_names("ssl_basic", ov3, 3, added, 2, got, sizeof got, &err), &err,
               "duplicate_name_not_allowed");
    expect_in(err.msg, "shop.example.com");
    expect_in(err.msg, "reissue");
}

static void test_dup_names_non_flex_keeps_every_name_and_the_common_name(void **state)
{
    (void)state;
    char got[512];
    cm_err err;
    static const char *const removed[] = {"www.example.com", "example.com"};
    static const char *const cn_changed[] = {"example.com", "www.example.com", "mail.example.com"};
    static const char *const sans_reordered[] = {"www.example.com", "mail.example.com",
                                                 "example.com"};
    static const char *const added[] = {"www.example.com", "example.com", "mail.example.com",
                                        "shop.example.com"};
    static const char *const products[] = {"ssl_plus", "ssl_multi_domain", "ssl_ev_plus",
                                           "private_ssl_plus"};
    for (size_t i = 0; i < N(products); i++) {
        expect_err(run_dup_names(products[i], ov3, 3, removed, 2, got, sizeof got, &err), &err,
                   "duplicate_customization_not_flex");
        expect_in(err.msg, "www.example.com");
        expect_err(run_dup_names(products[i], ov3, 3, cn_changed, 3, got, sizeof got, &err), &err,
                   "duplicate_customization_not_flex");
        expect_err(run_dup_names(products[i], ov3, 3, added, 4, got, sizeof got, &err), &err,
                   "duplicate_name_not_allowed");
        expect_in(err.msg, "shop.example.com");
        /* The same names with the same common name is no customisation. */
        OK(run_dup_names(products[i], ov3, 3, sans_reordered, 3, got, sizeof got, &err), err);
        assert_string_equal(got, "www.example.com,mail.example.com,example.com");
    }
}

static void test_dup_names_wildcard_products_may_add_a_covered_subdomain(void **state)
{
    (void)state;
    char got[512];
    cm_err err;
    static const char *const cur[] = {"*.example.com", "example.com"};
    static const char *const ok[] = {"*.example.com", "example.com", "mail.example.com"};
    static const char *const deep[] = {"*.example.com", "example.com", "a.b.example.com"};
    static const char *const other[] = {"*.example.com", "example.com", "mail.example.org"};
    static const char *const ip[] = {"*.example.com", "example.com", "192.0.2.7"};
    static const char *const drop[] = {"*.example.com", "mail.example.com"};
    static const char *const products[] = {"ssl_wildcard", "private_ssl_wildcard"};
    for (size_t i = 0; i < N(products); i++) {
        OK(run_dup_names(products[i], cur, 2, ok, 3, got, sizeof got, &err), err);
        assert_string_equal(got, "*.example.com,example.com,mail.example.com");
        expect_err(run_dup_names(products[i], cur, 2, deep, 3, got, sizeof got, &err), &err,
                   "duplicate_name_not_allowed");
        expect_in(err.msg, "a.b.example.com");
        expect_err(run_dup_names(products[i], cur, 2, other, 3, got, sizeof got, &err), &err,
                   "duplicate_name_not_allowed");
        expect_in(err.msg, "mail.example.org");
        expect_err(run_dup_names(products[i], cur, 2, ip, 3, got, sizeof got, &err), &err,
                   "duplicate_name_not_allowed");
        expect_in(err.msg, "192.0.2.7");
        /* Not flex: adding a covered name does not allow removing another. */
        expect_err(run_dup_names(products[i], cur, 2, drop, 2, got, sizeof got, &err), &err,
                   "duplicate_customization_not_flex");
    }
    /* The wildcard's own base is not covered by it. */
    static const char *const only_wild[] = {"*.example.com"};
    static const char *const base[] = {"*.example.com", "example.com"};
    expect_err(run_dup_names("ssl_wildcard", only_wild, 1, base, 2, got, sizeof got, &err), &err,
               "duplicate_name_not_allowed");
    /* A flex product with a wildcard among its names adds nothing. */
    expect_err(run_dup_names("ssl_basic", cur, 2, ok, 3, got, sizeof got, &err), &err,
               "duplicate_name_not_allowed");
}

/* A fixed "now" and day boundaries for the validity rules. */
#define T_NOW ((int64_t)1800000000) /* 2027-01-15T08:00:00Z */

static void test_dup_not_after_defaults_to_the_copied_end_within_coverage_and_cap(void **state)
{
    (void)state;
    static const struct {
        int64_t copied, coverage, cap, want;
    } rows[] = {
        {T_NOW + 100 * DAY, T_NOW + 200 * DAY, T_NOW + 150 * DAY, T_NOW + 100 * DAY},
        {T_NOW + 100 * DAY, T_NOW + 50 * DAY, T_NOW + 150 * DAY, T_NOW + 50 * DAY},
        {T_NOW + 100 * DAY, T_NOW + 200 * DAY, T_NOW + 30 * DAY, T_NOW + 30 * DAY},
        {T_NOW + 100 * DAY, T_NOW + 20 * DAY, T_NOW + 30 * DAY, T_NOW + 20 * DAY},
        {T_NOW + 100 * DAY, 0, 0, T_NOW + 100 * DAY},
    };
    for (size_t i = 0; i < N(rows); i++) {
        int64_t out = 0;
        cm_err err;
        OK(dup_not_after(rows[i].copied, rows[i].coverage, rows[i].cap, 0, ORIGIN_MANUAL, T_NOW,
                         &out, &err),
           err);
        assert_int_equal(out, rows[i].want);
    }
    /* Nothing left to copy. */
    int64_t out = 0;
    cm_err err;
    expect_err(dup_not_after(T_NOW, 0, 0, 0, ORIGIN_MANUAL, T_NOW, &out, &err), &err,
               "duplicate_order_state");
}

static void test_dup_not_after_may_be_earlier_never_later(void **state)
{
    (void)state;
    int64_t copied = T_NOW + 100 * DAY, out = 0;
    cm_err err;
    OK(dup_not_after(copied, 0, 0, T_NOW + 10 * DAY, ORIGIN_MANUAL, T_NOW, &out, &err), err);
    assert_int_equal(out, T_NOW + 10 * DAY);
    OK(dup_not_after(copied, 0, 0, copied, ORIGIN_MANUAL, T_NOW, &out, &err), err);
    assert_int_equal(out, copied);
    expect_err(dup_not_after(copied, 0, 0, copied + 1, ORIGIN_MANUAL, T_NOW, &out, &err), &err,
               "duplicate_validity_too_long");
    char d[32];
    clock_format_iso(copied, d, sizeof d);
    expect_in(err.msg, d);
    /* Later than the coverage (which caps the default) is later too. */
    expect_err(dup_not_after(copied, T_NOW + 50 * DAY, 0, T_NOW + 60 * DAY, ORIGIN_MANUAL, T_NOW,
                             &out, &err),
               &err, "duplicate_validity_too_long");
    clock_format_iso(T_NOW + 50 * DAY, d, sizeof d);
    expect_in(err.msg, d);
    expect_err(dup_not_after(copied, 0, T_NOW + 40 * DAY, T_NOW + 41 * DAY, ORIGIN_MANUAL, T_NOW,
                             &out, &err),
               &err, "duplicate_validity_too_long");
}

static void test_dup_not_after_refuses_past_or_within_an_hour(void **state)
{
    (void)state;
    int64_t copied = T_NOW + 100 * DAY, out = 0;
    cm_err err;
    static const int64_t bad[] = {T_NOW - DAY, T_NOW - 1, T_NOW, T_NOW + 60, T_NOW + HOUR};
    for (size_t i = 0; i < N(bad); i++) {
        out = 0;
        expect_err(dup_not_after(copied, 0, 0, bad[i], ORIGIN_MANUAL, T_NOW, &out, &err), &err,
                   "field_invalid");
        expect_in(err.msg, "valid_till");
        assert_int_equal(out, 0);
    }
    OK(dup_not_after(copied, 0, 0, T_NOW + HOUR + 1, ORIGIN_MANUAL, T_NOW, &out, &err), err);
    assert_int_equal(out, T_NOW + HOUR + 1);
}

static void test_dup_not_after_automation_ignores_the_requested_end(void **state)
{
    (void)state;
    int64_t copied = T_NOW + 100 * DAY;
    static const cm_origin auto_origins[] = {ORIGIN_AGENT, ORIGIN_ACME, ORIGIN_AUTO_RENEW};
    static const int64_t asked[] = {T_NOW + 10 * DAY, T_NOW + 300 * DAY, T_NOW - DAY};
    for (size_t i = 0; i < N(auto_origins); i++)
        for (size_t j = 0; j < N(asked); j++) {
            int64_t out = 0;
            cm_err err;
            OK(dup_not_after(copied, T_NOW + 200 * DAY, 0, asked[j], auto_origins[i], T_NOW, &out,
                             &err),
               err);
            assert_int_equal(out, copied);
        }
}

static void test_dup_not_after_date_only_on_the_last_day_means_its_end(void **state)
{
    (void)state;
    /* The copied certificate ends at noon of a day; "that day" is 23:59:59 of it. */
    int64_t day0 = (T_NOW / DAY + 100) * DAY;
    int64_t copied = day0 + 12 * HOUR, out = 0;
    cm_err err;
    OK(dup_not_after(copied, 0, 0, day0 + DAY - 1, ORIGIN_MANUAL, T_NOW, &out, &err), err);
    assert_int_equal(out, copied);
    /* The next day is later. */
    expect_err(dup_not_after(copied, 0, 0, day0 + 2 * DAY - 1, ORIGIN_MANUAL, T_NOW, &out, &err),
               &err, "duplicate_validity_too_long");
    /* Only a date-only value: a time on the last day after the end is later. */
    expect_err(dup_not_after(copied, 0, 0, day0 + DAY - 2, ORIGIN_MANUAL, T_NOW, &out, &err), &err,
               "duplicate_validity_too_long");
    /* The day before is simply earlier. */
    OK(dup_not_after(copied, 0, 0, day0 - 1, ORIGIN_MANUAL, T_NOW, &out, &err), err);
    assert_int_equal(out, day0 - 1);
    /* The same holds for the capped end (coverage ending at 06:00 on that day). */
    OK(dup_not_after(copied + 30 * DAY, day0 + 6 * HOUR, 0, day0 + DAY - 1, ORIGIN_MANUAL, T_NOW,
                     &out, &err),
       err);
    assert_int_equal(out, day0 + 6 * HOUR);
}

static void test_reissue_removed_names_lists_old_names_not_kept(void **state)
{
    (void)state;
    static const char *const old_t[] = {"a.example.com", "b.example.com", "c.example.com"};
    static const char *const new_t[] = {"c.example.com", "a.example.com", "d.example.com"};
    cm_name old[3], nw[3];
    size_t *removed = NULL, n = 99;
    cm_err err;
    names_of(old_t, 3, old);
    names_of(new_t, 3, nw);
    OK(reissue_removed_names(old, 3, nw, 3, &removed, &n, &err), err);
    assert_int_equal(n, 1);
    assert_non_null(removed);
    assert_int_equal(removed[0], 1);
    free(removed);
    /* All removed. */
    OK(reissue_removed_names(old, 3, nw + 2, 1, &removed, &n, &err), err);
    assert_int_equal(n, 3);
    assert_int_equal(removed[0], 0);
    assert_int_equal(removed[1], 1);
    assert_int_equal(removed[2], 2);
    free(removed);
    /* Only added or reordered: nothing removed. */
    static const char *const more_t[] = {"c.example.com", "b.example.com", "a.example.com",
                                         "e.example.com"};
    cm_name more[4];
    names_of(more_t, 4, more);
    removed = &n; /* must be reset */
    OK(reissue_removed_names(old, 3, more, 4, &removed, &n, &err), err);
    assert_int_equal(n, 0);
    assert_null(removed);
}

static void test_cert_carries_any_matches_whole_names_only(void **state)
{
    (void)state;
    static const struct {
        const char *cert;
        const char *removed;
        bool want;
    } rows[] = {
        {"www.example.com", "example.com", false},
        {"example.com", "www.example.com", false},
        {"www.example.com,example.co", "example.com", false},
        {"example.com.au", "example.com", false},
        {"www.example.com,mail.example.com", "example.com", false},
        {"example.com", "example.com", true},
        {"www.example.com,example.com", "example.com", true},
        {"example.com,www.example.com", "example.com", true},
        {"a.example.com,example.com,b.example.com", "example.com", true},
        {"*.example.com", "example.com", false},
        {"*.example.com,x.example.com", "*.example.com", true},
        {"", "example.com", false},
    };
    for (size_t i = 0; i < N(rows); i++) {
        const char *rm[1] = {rows[i].removed};
        if (cert_carries_any(rows[i].cert, rm, 1) != rows[i].want)
            fail_msg("cert_carries_any(\"%s\", \"%s\") != %d", rows[i].cert, rows[i].removed,
                     rows[i].want);
    }
    const char *two[2] = {"x.example.com", "mail.example.com"};
    assert_true(cert_carries_any("www.example.com,mail.example.com", two, 2));
    assert_false(cert_carries_any("www.example.com,mail.example.com", two, 0));
}

static void test_renewal_check_accepts_issued_and_expired_only(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        const char *code;
    } rows[] = {
        {"issued", NULL},
        {"expired", NULL},
        {"needs_approval", "renewal_order_state"},
        {"pending", "renewal_order_state"},
        {"reissue_pending", "renewal_order_state"},
        {"rejected", "renewal_order_state"},
        {"canceled", "renewal_order_state"},
        {"revoked", "renewal_order_state"},
    };
    for (size_t i = 0; i < N(rows); i++) {
        cm_err err;
        cm_err_clear(&err);
        int rc = renewal_check(rows[i].status, 0, T_NOW + 10 * DAY, 90, T_NOW, &err);
        if (rows[i].code == NULL) {
            if (rc != 0)
                fail_msg("%s: %s", rows[i].status, err.msg);
        } else {
            expect_err(rc, &err, rows[i].code);
            expect_in(err.msg, rows[i].status);
        }
    }
}

static void test_renewal_check_refuses_an_order_already_renewed(void **state)
{
    (void)state;
    cm_err err;
    expect_err(renewal_check("issued", 4242, T_NOW + 10 * DAY, 90, T_NOW, &err), &err,
               "order_already_renewed");
    expect_in(err.msg, "4242");
    expect_err(renewal_check("expired", 7, T_NOW - DAY, 90, T_NOW, &err), &err,
               "order_already_renewed");
}

static void test_renewal_check_window_opens_exactly_window_days_before_the_end(void **state)
{
    (void)state;
    cm_err err;
    int64_t end = T_NOW + 120 * DAY;
    int64_t opens = end - 90 * DAY;
    char d[32];
    clock_format_iso(opens, d, sizeof d);
    expect_err(renewal_check("issued", 0, end, 90, T_NOW, &err), &err, "renewal_window_closed");
    expect_in(err.msg, d);
    expect_in(err.msg, "90 days");
    expect_err(renewal_check("issued", 0, end, 90, opens - 1, &err), &err, "renewal_window_closed");
    OK(renewal_check("issued", 0, end, 90, opens, &err), err);
    OK(renewal_check("issued", 0, end, 90, opens + 1, &err), err);
    /* Another window size moves the edge. */
    expect_err(renewal_check("issued", 0, end, 30, opens, &err), &err, "renewal_window_closed");
    OK(renewal_check("issued", 0, end, 30, end - 30 * DAY, &err), err);
    /* After the end (an expired order) the window is open. */
    OK(renewal_check("expired", 0, end, 90, end + DAY, &err), err);
    /* No certificate known: nothing to wait for. */
    OK(renewal_check("issued", 0, 0, 90, T_NOW, &err), err);
}

static void test_renewal_matches_product_org_and_names_in_any_order(void **state)
{
    (void)state;
    const char *a[] = {"www.example.com", "example.com", "mail.example.com"};
    const char *b[] = {"mail.example.com", "www.example.com", "example.com"};
    const char *fewer[] = {"www.example.com", "example.com"};
    const char *other[] = {"www.example.com", "example.com", "shop.example.com"};
    assert_true(renewal_matches("ssl_plus", 3, a, 3, "ssl_plus", 3, b, 3));
    assert_true(renewal_matches("ssl_plus", 3, a, 3, "ssl_plus", 3, a, 3));
    assert_false(renewal_matches("ssl_plus", 3, a, 3, "ssl_multi_domain", 3, b, 3));
    assert_false(renewal_matches("ssl_plus", 3, a, 3, "ssl_plus", 4, b, 3));
    assert_false(renewal_matches("ssl_plus", 3, a, 3, "ssl_plus", 3, fewer, 2));
    assert_false(renewal_matches("ssl_plus", 3, fewer, 2, "ssl_plus", 3, a, 3));
    assert_false(renewal_matches("ssl_plus", 3, a, 3, "ssl_plus", 3, other, 3));
}

/* ==== part 2: the service functions ==== */

/* One CA hierarchy and one signer for the whole group (pki_open forks the signer: before any
 * thread); each test copies the hierarchy into a fresh data directory with its own store. */
static char ca_template[64];
static cm_pki *group_pki;

/* Private certificates of this group last 60 days, so the 90-day renewal window is open at
 * once (the signer's own configuration decides the default validity). */
#define PRIVATE_DAYS "60"

typedef struct fx {
    char dir[64];
    cm_config cfg;
    cm_store *st;
    cm_svc op;  /* the operator (vets organisations) */
    cm_svc adm; /* the account's administrator */
    int64_t account_id;
    int64_t org_id;
    int64_t now; /* the fixed clock, within seconds of the signer's real time */
} fx;

static void rm_rf(const char *dir)
{
    char cmd[256];
    assert_true(snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd);
    assert_int_equal(system(cmd), 0);
}

static int group_setup(void **state)
{
    (void)state;
    cm_config cfg;
    cm_err err;
    snprintf(ca_template, sizeof ca_template, "/tmp/certmint-lifecycle-ca-XXXXXX");
    assert_non_null(mkdtemp(ca_template));
    setenv("CERTMINT_CA_PASSPHRASE", "unit-test-passphrase-0123456789", 1);
    config_defaults(&cfg);
    OK(config_set(&cfg, "dir", ca_template, &err), err);
    OK(config_set(&cfg, "private_max_days", PRIVATE_DAYS, &err), err);
    cm_init_opts o = {"certmint test", "XX", 2048, 2048};
    OK(ca_init(&cfg, &o, &err), err);
    OK(pki_open(&cfg, &group_pki, &err), err);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pki_close(group_pki);
    rm_rf(ca_template);
    return 0;
}

static void set_skip_approval(fx *f, bool on)
{
    cm_account a;
    cm_err err;
    OK(store_account_get(f->st, f->account_id, &a, &err), err);
    a.skip_approval = on;
    OK(store_account_update(f->st, &a, &err), err);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    cm_err err;
    char cmd[256];
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/certmint-lifecycle-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_true(snprintf(cmd, sizeof cmd, "cp -a '%s/ca' '%s/ca'", ca_template, f->dir) <
                (int)sizeof cmd);
    assert_int_equal(system(cmd), 0);
    config_defaults(&f->cfg);
    OK(config_set(&f->cfg, "dir", f->dir, &err), err);
    OK(config_set(&f->cfg, "private_max_days", PRIVATE_DAYS, &err), err);
    OK(store_open(&f->cfg, true, &f->st, &err), err);
    f->now = (int64_t)time(NULL);
    clock_set_fixed(f->now);
    f->op = (cm_svc){.cfg = &f->cfg, .pki = group_pki, .st = f->st};
    f->op.caller.operator= true;

    cm_user admin, admin_out;
    cm_account acct;
    char key[API_KEY_SIZE];
    memset(&admin, 0, sizeof admin);
    str_copy(admin.email, sizeof admin.email, "admin@example.com");
    str_copy(admin.first_name, sizeof admin.first_name, "Ada");
    str_copy(admin.last_name, sizeof admin.last_name, "Admin");
    OK(svc_account_create(&f->op, "Lifecycle Ltd", &admin, &acct, &admin_out, key, sizeof key,
                          &err),
       err);
    f->account_id = acct.id;
    f->adm = f->op;
    f->adm.caller =
        (cm_caller){.account_id = acct.id, .user_id = admin_out.id, .role = ROLE_ADMINISTRATOR};

    cm_org org;
    memset(&org, 0, sizeof org);
    str_copy(org.name, sizeof org.name, "Lifecycle Ltd");
    str_copy(org.city, sizeof org.city, "London");
    str_copy(org.country, sizeof org.country, "GB");
    OK(svc_org_create(&f->adm, &org, &f->org_id, &err), err);
    cm_org_vetting v = {.type = VAL_OV, .valid_until = 0};
    cm_org_row row;
    cm_contact *contacts = NULL;
    size_t nc = 0;
    OK(svc_org_validate(&f->op, f->org_id, &v, 1, &row, &contacts, &nc, &err), err);
    free(contacts);
    assert_true(row.ov_valid_until > f->now);
    set_skip_approval(f, true);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    clock_set_fixed(0);
    store_close(f->st);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* A fresh P-256 key's CSR (PEM); caller frees. */
static char *new_csr(void)
{
    char *key = NULL, *csr = NULL;
    cm_err err;
    OK(keygen_make("ec", 0, NULL, NULL, 0, &key, &csr, &err), err);
    keygen_secret_free(key);
    return csr;
}

/* Places a private_ssl_plus order for `names` (the first is the common name) as the
 * administrator; it must issue at once. Returns the order id; *cert_id its certificate. */
static int64_t place_order(fx *f, const char *const *names, size_t n, int64_t *cert_id)
{
    cm_order_result res;
    cm_err err;
    char *csr = new_csr();
    cm_order_input in = {.product = "private_ssl_plus",
                         .common_name = names[0],
                         .dns_names = names + 1,
                         .n_dns_names = n - 1,
                         .csr = csr,
                         .server_platform = PLATFORM_OTHER,
                         .org_id = f->org_id,
                         .validity_years = 1};
    OK(svc_order_create(&f->adm, &in, &res, &err), err);
    free(csr);
    assert_string_equal(res.order.status, "issued");
    assert_true(res.certificate_id > 0);
    int64_t id = res.order.id;
    if (cert_id != NULL)
        *cert_id = res.certificate_id;
    order_result_clear(&res);
    return id;
}

/* Renews order `id` with a fresh CSR; it must issue at once. Returns the new order's id. */
static int64_t renew_order(fx *f, int64_t id)
{
    cm_order_result res;
    cm_err err;
    char *csr = new_csr();
    OK(svc_order_renew(&f->adm, id, csr, &res, &err), err);
    free(csr);
    assert_string_equal(res.order.status, "issued");
    assert_true(res.certificate_id > 0);
    assert_int_equal(res.order.renewal_of_order_id, id);
    int64_t nid = res.order.id;
    order_result_clear(&res);
    return nid;
}

static cm_order get_order(fx *f, int64_t id)
{
    cm_order o;
    cm_err err;
    memset(&o, 0, sizeof o);
    OK(store_order_get(f->st, f->account_id, id, &o, &err), err);
    return o;
}

static cm_cert_row get_cert(fx *f, int64_t id)
{
    cm_cert_row c;
    cm_err err;
    OK(store_cert_get(f->st, f->account_id, id, &c, &err), err);
    store_cert_clear(&c);
    return c;
}

static size_t count_certs(fx *f, int64_t order_id)
{
    cm_cert_row *list = NULL;
    size_t n = 0;
    cm_err err;
    OK(store_cert_list_by_order(f->st, f->account_id, order_id, &list, &n, &err), err);
    free(list);
    return n;
}

/* A duplicate of order `order_id` with the default names and end, from `origin`. */
static int duplicate(fx *f, int64_t order_id, cm_origin origin, size_t n_hosts, cm_issued *out,
                     cm_err *err)
{
    char *csr = new_csr();
    cm_dup_input in = {
        .csr = csr, .server_platform = PLATFORM_OTHER, .origin = origin, .n_hosts = n_hosts};
    cm_err_clear(err);
    int rc = svc_duplicate_create(&f->adm, order_id, &in, out, err);
    free(csr);
    return rc;
}

static const char *const two_names[] = {"app.corp.internal", "api.corp.internal"};

static void test_duplicate_by_automation_needs_skip_approval(void **state)
{
    fx *f = *state;
    cm_issued out;
    cm_err err;
    int64_t a = place_order(f, two_names, 2, NULL);
    set_skip_approval(f, false);
    size_t before = count_certs(f, a);
    expect_err(duplicate(f, a, ORIGIN_AGENT, 1, &out, &err), &err,
               "duplicate_automation_needs_skip_approval");
    expect_err(duplicate(f, a, ORIGIN_ACME, 1, &out, &err), &err,
               "duplicate_automation_needs_skip_approval");
    assert_int_equal(count_certs(f, a), before);
    /* A manual duplicate works without it. */
    OK(duplicate(f, a, ORIGIN_MANUAL, 0, &out, &err), err);
    assert_int_equal(out.order_id, a);
    assert_true(out.certificate_id > 0);
    assert_non_null(out.chain_pem);
    assert_string_equal(out.cert.kind, "duplicate");
    assert_string_equal(get_cert(f, out.certificate_id).origin, "manual");
    issued_clear(&out);
    assert_int_equal(count_certs(f, a), before + 1);
    /* With skip_approval on, an agent's duplicate is issued and says where it came from. */
    set_skip_approval(f, true);
    OK(duplicate(f, a, ORIGIN_AGENT, 1, &out, &err), err);
    cm_cert_row c = get_cert(f, out.certificate_id);
    assert_string_equal(c.origin, "agent");
    assert_string_equal(c.kind, "duplicate");
    assert_string_equal(c.status, "issued");
    assert_int_equal(c.order_id, a);
    assert_string_equal(c.names, "app.corp.internal,api.corp.internal");
    issued_clear(&out);
    assert_int_equal(count_certs(f, a), before + 2);
    /* The original is untouched (R-D11). */
    cm_order o = get_order(f, a);
    assert_string_equal(o.status, "issued");
    store_order_clear(&o);
}

static void test_duplicate_bulk_by_automation_is_refused_and_writes_nothing(void **state)
{
    fx *f = *state;
    cm_issued out;
    cm_err err;
    int64_t a = place_order(f, two_names, 2, NULL);
    size_t before = count_certs(f, a);
    expect_err(duplicate(f, a, ORIGIN_AGENT, 2, &out, &err), &err, "duplicate_bulk_not_supported");
    assert_int_equal(out.certificate_id, 0);
    assert_null(out.chain_pem);
    assert_int_equal(count_certs(f, a), before);
    /* One host is fine, and 0 counts as one. */
    OK(duplicate(f, a, ORIGIN_AGENT, 0, &out, &err), err);
    issued_clear(&out);
    assert_int_equal(count_certs(f, a), before + 1);
}

/* svc_duplicate_renew of certificate `cert_id` with a fresh CSR as an agent. */
static int renew_duplicate(fx *f, int64_t cert_id, cm_issued *out, int64_t *renewed, cm_err *err)
{
    char *csr = new_csr();
    cm_err_clear(err);
    int rc = svc_duplicate_renew(&f->adm, cert_id, csr, ORIGIN_AGENT, out, renewed, err);
    free(csr);
    return rc;
}

static void test_renewing_a_duplicate_duplicates_the_matching_renewal(void **state)
{
    fx *f = *state;
    cm_issued d, out;
    cm_err err;
    int64_t a = place_order(f, two_names, 2, NULL);
    OK(duplicate(f, a, ORIGIN_MANUAL, 1, &d, &err), err);
    issued_clear(&d);
    int64_t b = renew_order(f, a);
    cm_order oa = get_order(f, a), ob = get_order(f, b);
    assert_int_equal(oa.renewed_by_order_id, b);
    assert_int_equal(ob.renewal_of_order_id, a);
    assert_string_equal(ob.status, "issued");
    store_order_clear(&oa);
    store_order_clear(&ob);
    size_t certs_b = count_certs(f, b);
    int64_t renewed = -1;
    OK(renew_duplicate(f, d.certificate_id, &out, &renewed, &err), err);
    assert_int_equal(renewed, 0);
    assert_int_equal(out.order_id, b);
    assert_true(out.certificate_id > 0);
    cm_cert_row c = get_cert(f, out.certificate_id);
    assert_string_equal(c.kind, "duplicate");
    assert_int_equal(c.order_id, b);
    assert_string_equal(c.origin, "agent");
    issued_clear(&out);
    assert_int_equal(count_certs(f, b), certs_b + 1);
    /* No new order: B is still the last renewal of A, and B is not renewed. */
    ob = get_order(f, b);
    assert_int_equal(ob.renewed_by_order_id, 0);
    store_order_clear(&ob);
}

static void test_renewing_a_duplicate_follows_the_chain_to_the_latest_renewal(void **state)
{
    fx *f = *state;
    cm_issued d, out;
    cm_err err;
    int64_t a = place_order(f, two_names, 2, NULL);
    OK(duplicate(f, a, ORIGIN_MANUAL, 1, &d, &err), err);
    issued_clear(&d);
    int64_t b = renew_order(f, a);
    int64_t b2 = renew_order(f, b);
    int64_t renewed = -1;
    OK(renew_duplicate(f, d.certificate_id, &out, &renewed, &err), err);
    assert_int_equal(renewed, 0);
    assert_int_equal(out.order_id, b2);
    cm_cert_row c = get_cert(f, out.certificate_id);
    assert_string_equal(c.kind, "duplicate");
    assert_int_equal(c.order_id, b2);
    issued_clear(&out);
}

static void test_renewing_a_duplicate_without_renewal_renews_its_order(void **state)
{
    fx *f = *state;
    cm_issued d, out;
    cm_err err;
    int64_t c = place_order(f, two_names, 2, NULL);
    OK(duplicate(f, c, ORIGIN_MANUAL, 1, &d, &err), err);
    issued_clear(&d);
    int64_t renewed = 0;
    OK(renew_duplicate(f, d.certificate_id, &out, &renewed, &err), err);
    assert_true(renewed != 0);
    assert_true(renewed != c);
    assert_int_equal(out.order_id, renewed);
    assert_true(out.certificate_id > 0); /* skip_approval: issued at once */
    issued_clear(&out);
    cm_order oc = get_order(f, c), on = get_order(f, renewed);
    assert_int_equal(oc.renewed_by_order_id, renewed);
    assert_int_equal(on.renewal_of_order_id, c);
    assert_string_equal(on.product, "private_ssl_plus");
    assert_int_equal(on.org_id, f->org_id);
    assert_int_equal(on.n_names, 2);
    store_order_clear(&oc);
    store_order_clear(&on);
}

static void test_renewing_a_duplicate_whose_renewal_has_other_names_renews_normally(void **state)
{
    fx *f = *state;
    cm_issued d, out;
    cm_err err;
    int64_t c = place_order(f, two_names, 2, NULL);
    OK(duplicate(f, c, ORIGIN_MANUAL, 1, &d, &err), err);
    issued_clear(&d);
    /* C is renewed by an order with other names: no match. */
    static const char *const other_names[] = {"app.corp.internal", "web.corp.internal"};
    char *csr = new_csr();
    cm_order_input in = {.product = "private_ssl_plus",
                         .common_name = other_names[0],
                         .dns_names = other_names + 1,
                         .n_dns_names = 1,
                         .csr = csr,
                         .server_platform = PLATFORM_OTHER,
                         .org_id = f->org_id,
                         .validity_years = 1,
                         .renewal_of_order_id = c};
    cm_order_result res;
    OK(svc_order_create(&f->adm, &in, &res, &err), err);
    free(csr);
    assert_string_equal(res.order.status, "issued");
    int64_t other = res.order.id;
    order_result_clear(&res);
    size_t certs_other = count_certs(f, other);
    int64_t renewed = 0;
    OK(renew_duplicate(f, d.certificate_id, &out, &renewed, &err), err);
    /* Renewed normally: a new order (not a duplicate on the non-matching renewal) with the
     * duplicate's order's names. */
    assert_true(renewed != 0);
    assert_true(renewed != other && renewed != c);
    assert_int_equal(out.order_id, renewed);
    issued_clear(&out);
    assert_int_equal(count_certs(f, other), certs_other);
    cm_order on = get_order(f, renewed);
    assert_int_equal(on.n_names, 2);
    assert_string_equal(on.names[0].name, "app.corp.internal");
    assert_string_equal(on.names[1].name, "api.corp.internal");
    store_order_clear(&on);
}

static void test_reissue_removing_a_name_revokes_the_old_certificate_after_72_hours(void **state)
{
    fx *f = *state;
    cm_err err;
    int64_t old_cert = 0;
    int64_t a = place_order(f, two_names, 2, &old_cert);
    /* Reissue without api.corp.internal: issued at once (skip_approval, private: no DCV). */
    char *csr = new_csr();
    static const char *const none[] = {NULL};
    cm_reissue_input in = {.csr = csr,
                           .server_platform = PLATFORM_OTHER,
                           .common_name = "app.corp.internal",
                           .dns_names = none,
                           .n_dns_names = 0};
    cm_reissue_result r;
    OK(svc_reissue_create(&f->adm, a, &in, &r, &err), err);
    free(csr);
    assert_string_equal(r.order_status, "issued");
    int64_t new_cert = r.issued.certificate_id;
    assert_true(new_cert > 0 && new_cert != old_cert);
    issued_clear(&r.issued);
    cm_cert_row oc = get_cert(f, old_cert), nc = get_cert(f, new_cert);
    assert_string_equal(oc.status, "revocation_pending");
    assert_int_equal(oc.revoke_after, f->now + 72 * HOUR);
    assert_string_equal(nc.status, "issued");
    assert_string_equal(nc.kind, "reissue");
    assert_string_equal(nc.names, "app.corp.internal");

    /* The job does nothing before the delay has passed. */
    cm_svc job = {.cfg = &f->cfg, .pki = group_pki, .st = f->st};
    int revoked = -1;
    OK(svc_revoke_pending_due(&job, f->now, 100, &revoked, &err), err);
    assert_int_equal(revoked, 0);
    clock_set_fixed(f->now + 72 * HOUR - 1);
    OK(svc_revoke_pending_due(&job, f->now + 72 * HOUR - 1, 100, &revoked, &err), err);
    assert_int_equal(revoked, 0);
    assert_string_equal(get_cert(f, old_cert).status, "revocation_pending");

    /* After it: exactly the old certificate, superseded; the new one stays. */
    int64_t later = f->now + 72 * HOUR + 1;
    clock_set_fixed(later);
    OK(svc_revoke_pending_due(&job, later, 100, &revoked, &err), err);
    assert_int_equal(revoked, 1);
    oc = get_cert(f, old_cert);
    nc = get_cert(f, new_cert);
    assert_string_equal(oc.status, "revoked");
    assert_int_equal(oc.revocation_reason, 4); /* superseded, RFC 5280 */
    assert_int_equal(oc.revoked_at, later);
    assert_string_equal(nc.status, "issued");
    assert_int_equal(nc.revoked_at, 0);
    cm_order o = get_order(f, a);
    assert_string_equal(o.status, "issued");
    store_order_clear(&o);
    /* Run again: nothing left. */
    OK(svc_revoke_pending_due(&job, later + HOUR, 100, &revoked, &err), err);
    assert_int_equal(revoked, 0);
    clock_set_fixed(f->now);
}

static void test_reissue_marks_duplicates_carrying_a_removed_name_too(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_issued d;
    int64_t old_cert = 0;
    static const char *const three[] = {"app.corp.internal", "api.corp.internal",
                                        "db.corp.internal"};
    int64_t a = place_order(f, three, 3, &old_cert);
    OK(duplicate(f, a, ORIGIN_MANUAL, 1, &d, &err), err);
    int64_t dup_cert = d.certificate_id;
    issued_clear(&d);
    /* Adding a name removes nothing and revokes nothing. */
    char *csr = new_csr();
    static const char *const plus[] = {"api.corp.internal", "db.corp.internal",
                                       "new.corp.internal"};
    cm_reissue_input in = {.csr = csr,
                           .server_platform = PLATFORM_OTHER,
                           .common_name = "app.corp.internal",
                           .dns_names = plus,
                           .n_dns_names = 3};
    cm_reissue_result r;
    OK(svc_reissue_create(&f->adm, a, &in, &r, &err), err);
    free(csr);
    assert_string_equal(r.order_status, "issued");
    int64_t reissue1 = r.issued.certificate_id;
    issued_clear(&r.issued);
    assert_string_equal(get_cert(f, old_cert).status, "issued");
    assert_string_equal(get_cert(f, dup_cert).status, "issued");
    /* Removing db.corp.internal: every live certificate carrying it waits for revocation. */
    csr = new_csr();
    static const char *const less[] = {"api.corp.internal", "new.corp.internal"};
    in = (cm_reissue_input){.csr = csr,
                            .server_platform = PLATFORM_OTHER,
                            .common_name = "app.corp.internal",
                            .dns_names = less,
                            .n_dns_names = 2};
    OK(svc_reissue_create(&f->adm, a, &in, &r, &err), err);
    free(csr);
    int64_t reissue2 = r.issued.certificate_id;
    assert_true(reissue2 > 0);
    issued_clear(&r.issued);
    assert_string_equal(get_cert(f, old_cert).status, "revocation_pending");
    assert_string_equal(get_cert(f, dup_cert).status, "revocation_pending");
    assert_string_equal(get_cert(f, reissue1).status, "revocation_pending");
    assert_string_equal(get_cert(f, reissue2).status, "issued");
    cm_svc job = {.cfg = &f->cfg, .pki = group_pki, .st = f->st};
    int revoked = 0;
    int64_t later = f->now + 72 * HOUR + 1;
    clock_set_fixed(later);
    OK(svc_revoke_pending_due(&job, later, 100, &revoked, &err), err);
    assert_int_equal(revoked, 3);
    assert_string_equal(get_cert(f, dup_cert).status, "revoked");
    assert_string_equal(get_cert(f, reissue2).status, "issued");
    clock_set_fixed(f->now);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_dup_check_passes_an_issued_current_ov_order),
        cmocka_unit_test(test_dup_check_refuses_dv_and_products_without_duplicates),
        cmocka_unit_test(test_dup_check_refuses_when_account_disables_duplicates),
        cmocka_unit_test(test_dup_check_refuses_every_status_but_issued),
        cmocka_unit_test(test_dup_check_refuses_an_order_whose_coverage_ended),
        cmocka_unit_test(test_dup_check_refuses_stale_validation_naming_it),
        cmocka_unit_test(test_dup_check_ev_needs_a_verified_ev_contact),
        cmocka_unit_test(test_dup_check_automation_needs_skip_approval_manual_does_not),
        cmocka_unit_test(test_dup_check_automation_is_one_host_per_request),
        cmocka_unit_test(test_dup_check_first_refusal_wins),
        cmocka_unit_test(test_dup_names_default_is_a_copy_of_the_current_certificate),
        cmocka_unit_test(test_dup_names_flex_may_remove_reorder_and_promote_a_san),
        cmocka_unit_test(test_dup_names_non_flex_keeps_every_name_and_the_common_name),
        cmocka_unit_test(test_dup_names_wildcard_products_may_add_a_covered_subdomain),
        cmocka_unit_test(test_dup_not_after_defaults_to_the_copied_end_within_coverage_and_cap),
        cmocka_unit_test(test_dup_not_after_may_be_earlier_never_later),
        cmocka_unit_test(test_dup_not_after_refuses_past_or_within_an_hour),
        cmocka_unit_test(test_dup_not_after_automation_ignores_the_requested_end),
        cmocka_unit_test(test_dup_not_after_date_only_on_the_last_day_means_its_end),
        cmocka_unit_test(test_reissue_removed_names_lists_old_names_not_kept),
        cmocka_unit_test(test_cert_carries_any_matches_whole_names_only),
        cmocka_unit_test(test_renewal_check_accepts_issued_and_expired_only),
        cmocka_unit_test(test_renewal_check_refuses_an_order_already_renewed),
        cmocka_unit_test(test_renewal_check_window_opens_exactly_window_days_before_the_end),
        cmocka_unit_test(test_renewal_matches_product_org_and_names_in_any_order),
    };
#define SVC_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest service[] = {
        SVC_TEST(test_duplicate_by_automation_needs_skip_approval),
        SVC_TEST(test_duplicate_bulk_by_automation_is_refused_and_writes_nothing),
        SVC_TEST(test_renewing_a_duplicate_duplicates_the_matching_renewal),
        SVC_TEST(test_renewing_a_duplicate_follows_the_chain_to_the_latest_renewal),
        SVC_TEST(test_renewing_a_duplicate_without_renewal_renews_its_order),
        SVC_TEST(test_renewing_a_duplicate_whose_renewal_has_other_names_renews_normally),
        SVC_TEST(test_reissue_removing_a_name_revokes_the_old_certificate_after_72_hours),
        SVC_TEST(test_reissue_marks_duplicates_carrying_a_removed_name_too),
    };
    int failed = cmocka_run_group_tests_name("lifecycle rules", pure, NULL, NULL);
    failed +=
        cmocka_run_group_tests_name("lifecycle service", service, group_setup, group_teardown);
    return failed;
}
