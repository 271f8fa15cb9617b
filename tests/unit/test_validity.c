/* test_validity.c — the SC-081 validity schedule (BR §6.3.2) either side of each date, the
 * default of one day under the cap, the private cap, and the inclusive notAfter arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/validity.h"
#include "util/clock.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    assert_int_equal(clock_parse_iso(iso, &t), 0);
    return t;
}

static void test_cap_is_398_days_before_2026_03_15(void **s)
{
    (void)s;
    assert_int_equal(validity_public_max_days(at("2026-03-14T23:59:59Z")), 398);
}

static void test_cap_is_200_days_from_2026_03_15(void **s)
{
    (void)s;
    assert_int_equal(validity_public_max_days(at("2026-03-15T00:00:00Z")), 200);
    assert_int_equal(validity_public_max_days(at("2026-11-23")), 200);
    assert_int_equal(validity_public_max_days(at("2027-03-14T23:59:59Z")), 200);
}

static void test_cap_is_100_days_from_2027_03_15(void **s)
{
    (void)s;
    assert_int_equal(validity_public_max_days(at("2027-03-15T00:00:00Z")), 100);
    assert_int_equal(validity_public_max_days(at("2029-03-14T23:59:59Z")), 100);
}

static void test_cap_is_47_days_from_2029_03_15(void **s)
{
    (void)s;
    assert_int_equal(validity_public_max_days(at("2029-03-15T00:00:00Z")), 47);
    assert_int_equal(validity_public_max_days(at("2035-01-01")), 47);
}

static void test_default_is_one_day_under_the_cap(void **s)
{
    (void)s;
    assert_int_equal(validity_public_default_days(at("2026-11-23")), 199);
    assert_int_equal(validity_public_default_days(at("2027-03-15")), 99);
    assert_int_equal(validity_public_default_days(at("2029-03-15")), 46);
}

static void test_public_request_over_cap_is_refused(void **s)
{
    (void)s;
    const cm_product *p = product_find("ssl_plus");
    cm_err err;
    int days = 0;
    assert_int_equal(validity_decide(p, at("2026-11-23"), 201, 397, &days, &err), -1);
    assert_string_equal(err.code, "validity_too_long");
    assert_int_equal(validity_decide(p, at("2026-11-23"), 200, 397, &days, &err), 0);
    assert_int_equal(days, 200);
    assert_int_equal(validity_decide(p, at("2027-03-15"), 101, 397, &days, &err), -1);
    assert_int_equal(validity_decide(p, at("2027-03-14"), 101, 397, &days, &err), 0);
}

static void test_default_request_gets_default_days(void **s)
{
    (void)s;
    cm_err err;
    int days = 0;
    assert_int_equal(
        validity_decide(product_find("ssl_dv_geotrust"), at("2026-11-23"), 0, 397, &days, &err),
        0);
    assert_int_equal(days, 199);
}

static void test_private_products_follow_the_operator_cap(void **s)
{
    (void)s;
    const cm_product *p = product_find("private_ssl_plus");
    cm_err err;
    int days = 0;
    assert_int_equal(validity_decide(p, at("2029-06-01"), 300, 397, &days, &err), 0);
    assert_int_equal(days, 300);
    assert_int_equal(validity_decide(p, at("2026-11-23"), 398, 397, &days, &err), -1);
    assert_string_equal(err.code, "validity_too_long");
    assert_int_equal(validity_decide(p, at("2026-11-23"), 0, 90, &days, &err), 0);
    assert_int_equal(days, 90);
}

static void test_negative_request_is_invalid(void **s)
{
    (void)s;
    cm_err err;
    int days = 0;
    assert_int_equal(
        validity_decide(product_find("ssl_plus"), at("2026-11-23"), -1, 397, &days, &err), -1);
    assert_string_equal(err.code, "validity_invalid");
}

static void test_not_after_counts_both_ends(void **s)
{
    (void)s;
    int64_t nb = at("2026-11-23");
    int64_t na = validity_not_after(nb, 200);
    assert_int_equal(na - nb + 1, 200 * 86400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_is_398_days_before_2026_03_15),
        cmocka_unit_test(test_cap_is_200_days_from_2026_03_15),
        cmocka_unit_test(test_cap_is_100_days_from_2027_03_15),
        cmocka_unit_test(test_cap_is_47_days_from_2029_03_15),
        cmocka_unit_test(test_default_is_one_day_under_the_cap),
        cmocka_unit_test(test_public_request_over_cap_is_refused),
        cmocka_unit_test(test_default_request_gets_default_days),
        cmocka_unit_test(test_private_products_follow_the_operator_cap),
        cmocka_unit_test(test_negative_request_is_invalid),
        cmocka_unit_test(test_not_after_counts_both_ends),
    };
    return cmocka_run_group_tests_name("validity", tests, NULL, NULL);
}
