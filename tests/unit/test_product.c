/* test_product.c — the product catalogue of DESIGN.md §3.1 and profile selection: validation
 * type, hierarchy, wildcard and IP policy per product. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/product.h"

static void test_catalogue_has_the_ten_products(void **s)
{
    (void)s;
    size_t n = 0;
    const cm_product *all = product_all(&n);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(product_find(all[i].id), &all[i]);
}

static void test_unknown_product_is_null(void **s)
{
    (void)s;
    assert_null(product_find("ssl_gold"));
    assert_null(product_find(""));
    assert_null(product_find(NULL));
}

static void test_profile_selection_by_product(void **s)
{
    (void)s;
    assert_int_equal(product_find("ssl_dv_geotrust")->validation, VAL_DV);
    assert_int_equal(product_find("ssl_basic")->validation, VAL_OV);
    assert_int_equal(product_find("ssl_plus")->validation, VAL_OV);
    assert_int_equal(product_find("ssl_wildcard")->validation, VAL_OV);
    assert_int_equal(product_find("ssl_ev_basic")->validation, VAL_EV);
    assert_int_equal(product_find("ssl_ev_plus")->validation, VAL_EV);
    assert_int_equal(product_find("private_ssl_plus")->hierarchy, HIER_PRIVATE);
    assert_int_equal(product_find("ssl_multi_domain")->hierarchy, HIER_PUBLIC);
    assert_string_equal(validation_name(VAL_EV), "ev");
}

static void test_dv_has_no_duplicates_others_do(void **s)
{
    (void)s;
    size_t n = 0;
    const cm_product *all = product_all(&n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(all[i].duplicates, all[i].validation != VAL_DV);
}

static void test_only_wildcard_products_add_names_to_duplicates(void **s)
{
    (void)s;
    assert_true(product_find("ssl_wildcard")->duplicate_add_names);
    assert_true(product_find("private_ssl_wildcard")->duplicate_add_names);
    assert_false(product_find("ssl_basic")->duplicate_add_names);
    assert_false(product_find("ssl_plus")->duplicate_add_names);
}

static void test_name_policy_per_product(void **s)
{
    (void)s;
    cm_name_policy ev = product_name_policy(product_find("ssl_ev_plus"));
    assert_false(ev.allow_wildcard);
    assert_false(ev.allow_ip);
    assert_true(ev.public_names);
    cm_name_policy wc = product_name_policy(product_find("ssl_wildcard"));
    assert_true(wc.allow_wildcard);
    cm_name_policy flex = product_name_policy(product_find("ssl_basic"));
    assert_true(flex.allow_wildcard);
    assert_true(flex.allow_ip);
    cm_name_policy plus = product_name_policy(product_find("ssl_plus"));
    assert_false(plus.allow_wildcard);
    cm_name_policy priv = product_name_policy(product_find("private_ssl_plus"));
    assert_false(priv.public_names);
}

/* Normalises `texts` with every kind of name allowed, so the product rule decides. */
static void names_of(const char *const *texts, size_t n, cm_name *out)
{
    cm_name_policy any = {.public_names = true, .allow_wildcard = true, .allow_ip = true};
    cm_err err;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(name_normalize(texts[i], &any, &out[i], &err), 0);
}

static void expect_names(const char *product, const char *const *texts, size_t n, size_t cn,
                         const char *code)
{
    cm_name names[4];
    cm_err err;
    cm_err_clear(&err);
    names_of(texts, n, names);
    int rc = product_check_names(product_find(product), names, n, cn, &err);
    if (code == NULL) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_string_equal(err.code, code);
    }
}

static void test_name_sets_per_product(void **s)
{
    (void)s;
    const char *const good[] = {"www.example.com", "example.com"};
    const char *const wild[] = {"*.example.com", "example.com"};
    const char *const ip[] = {"www.example.com", "8.8.8.8"};
    const char *const twice[] = {"www.example.com", "www.example.com"};
    const char *const long_cn[] = {
        "a-very-long-host-name-that-goes-on.and-on-and-on-past-sixty-four.example.com"};
    expect_names("ssl_plus", good, 2, 0, NULL);
    expect_names("ssl_plus", good, 2, SIZE_MAX, NULL);
    expect_names("ssl_wildcard", wild, 2, 0, NULL);
    expect_names("ssl_basic", wild, 2, 0, NULL);
    expect_names("ssl_plus", wild, 2, 0, "name_invalid");
    expect_names("ssl_ev_plus", wild, 2, 0, "name_invalid");
    expect_names("ssl_plus", ip, 2, 0, NULL);
    expect_names("ssl_ev_basic", ip, 2, 0, "name_invalid");
    expect_names("ssl_plus", twice, 2, 0, "name_invalid");
    expect_names("ssl_plus", long_cn, 1, 0, "name_invalid");
    expect_names("ssl_plus", long_cn, 1, SIZE_MAX, NULL);
    expect_names("ssl_plus", good, 2, 2, "name_invalid");
    expect_names("ssl_plus", good, 0, SIZE_MAX, "names_required");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_has_the_ten_products),
        cmocka_unit_test(test_unknown_product_is_null),
        cmocka_unit_test(test_profile_selection_by_product),
        cmocka_unit_test(test_dv_has_no_duplicates_others_do),
        cmocka_unit_test(test_only_wildcard_products_add_names_to_duplicates),
        cmocka_unit_test(test_name_policy_per_product),
        cmocka_unit_test(test_name_sets_per_product),
    };
    return cmocka_run_group_tests_name("product", tests, NULL, NULL);
}
