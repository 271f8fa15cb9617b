/* test_org.c — the organisation fields an OV or EV subject needs (BR §7.1.2.7.4, EVG §7.1.4.2):
 * required fields, lengths, placeholders, business categories, and the O value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/org.h"
#include "util/str.h"

static cm_org good_ev(void)
{
    cm_org o;
    memset(&o, 0, sizeof o);
    str_copy(o.name, sizeof o.name, "Example Widgets Ltd");
    str_copy(o.city, sizeof o.city, "London");
    str_copy(o.state, sizeof o.state, "Greater London");
    str_copy(o.country, sizeof o.country, "GB");
    str_copy(o.jurisdiction_country, sizeof o.jurisdiction_country, "GB");
    str_copy(o.business_category, sizeof o.business_category, "Private Organization");
    str_copy(o.registration_number, sizeof o.registration_number, "01234567");
    return o;
}

static void expect_invalid(const cm_org *o, cm_validation v)
{
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(org_check(o, v, &err), -1);
    assert_string_equal(err.code, "org_invalid");
}

static void test_good_ov_and_ev_orgs_pass(void **s)
{
    (void)s;
    cm_org o = good_ev();
    cm_err err;
    assert_int_equal(org_check(&o, VAL_OV, &err), 0);
    assert_int_equal(org_check(&o, VAL_EV, &err), 0);
}

static void test_dv_needs_no_org(void **s)
{
    (void)s;
    cm_err err;
    assert_int_equal(org_check(NULL, VAL_DV, &err), 0);
}

static void test_ov_without_org_is_refused(void **s)
{
    (void)s;
    cm_err err;
    assert_int_equal(org_check(NULL, VAL_OV, &err), -1);
    assert_string_equal(err.code, "org_required");
}

static void test_missing_or_bad_fields_are_refused(void **s)
{
    (void)s;
    cm_org o = good_ev();
    o.name[0] = '\0';
    expect_invalid(&o, VAL_OV);
    o = good_ev();
    str_copy(o.country, sizeof o.country, "gb");
    expect_invalid(&o, VAL_OV);
    o = good_ev();
    str_copy(o.country, sizeof o.country, "GBR");
    expect_invalid(&o, VAL_OV);
    o = good_ev();
    o.city[0] = o.state[0] = '\0';
    expect_invalid(&o, VAL_OV);
    o = good_ev();
    memset(o.name, 'a', 65);
    o.name[65] = '\0';
    expect_invalid(&o, VAL_OV);
}

static void test_placeholders_are_refused(void **s)
{
    (void)s;
    const char *bad[] = {"N/A", ".", "-", "  ", "none"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cm_org o = good_ev();
        str_copy(o.city, sizeof o.city, bad[i]);
        expect_invalid(&o, VAL_OV);
    }
}

static void test_ev_needs_category_jurisdiction_and_number(void **s)
{
    (void)s;
    cm_org o = good_ev();
    str_copy(o.business_category, sizeof o.business_category, "Company");
    expect_invalid(&o, VAL_EV);
    o = good_ev();
    o.jurisdiction_country[0] = '\0';
    expect_invalid(&o, VAL_EV);
    o = good_ev();
    o.registration_number[0] = '\0';
    expect_invalid(&o, VAL_EV);
    o = good_ev();
    str_copy(o.registration_number, sizeof o.registration_number, "12#34");
    expect_invalid(&o, VAL_EV);
    o = good_ev();
    str_copy(o.jurisdiction_city, sizeof o.jurisdiction_city, "London");
    expect_invalid(&o, VAL_EV);
}

static void test_country_must_be_an_iso_3166_code(void **s)
{
    (void)s;
    static const char *const good[] = {"GB", "US", "DE", "NL", "ZW", "AD", "XX"};
    static const char *const bad[] = {"UK", "EU", "ZZ", "AA", "gb", "G", "GBR", ""};
    cm_err err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cm_org o = good_ev();
        str_copy(o.country, sizeof o.country, good[i]);
        str_copy(o.jurisdiction_country, sizeof o.jurisdiction_country, good[i]);
        assert_int_equal(org_check(&o, VAL_EV, &err), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cm_org o = good_ev();
        str_copy(o.country, sizeof o.country, bad[i]);
        assert_int_equal(org_check(&o, VAL_OV, &err), -1);
        assert_string_equal(err.code, "org_invalid");
        o = good_ev();
        str_copy(o.jurisdiction_country, sizeof o.jurisdiction_country, bad[i]);
        assert_int_equal(org_check(&o, VAL_EV, &err), -1);
    }
}

static void test_subject_o_uses_dba_format_when_it_fits(void **s)
{
    (void)s;
    cm_org o = good_ev();
    char buf[80];
    org_subject_o(&o, buf, sizeof buf);
    assert_string_equal(buf, "Example Widgets Ltd");
    str_copy(o.assumed_name, sizeof o.assumed_name, "Widgets");
    org_subject_o(&o, buf, sizeof buf);
    assert_string_equal(buf, "Widgets (Example Widgets Ltd)");
    str_copy(o.assumed_name, sizeof o.assumed_name,
             "A Very Long Trading Name That Will Not Fit With The Legal One");
    org_subject_o(&o, buf, sizeof buf);
    assert_string_equal(buf, "Example Widgets Ltd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_ov_and_ev_orgs_pass),
        cmocka_unit_test(test_dv_needs_no_org),
        cmocka_unit_test(test_ov_without_org_is_refused),
        cmocka_unit_test(test_missing_or_bad_fields_are_refused),
        cmocka_unit_test(test_placeholders_are_refused),
        cmocka_unit_test(test_ev_needs_category_jurisdiction_and_number),
        cmocka_unit_test(test_subject_o_uses_dba_format_when_it_fits),
        cmocka_unit_test(test_country_must_be_an_iso_3166_code),
    };
    return cmocka_run_group_tests_name("org", tests, NULL, NULL);
}
