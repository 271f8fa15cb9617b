/* test_keypolicy.c — which subscriber keys are accepted (BR §6.1.5) and which signature hashes
 * each issuer may use (R-D9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/keypolicy.h"

static cm_keyinfo rsa(int bits, unsigned long e)
{
    cm_keyinfo k = {.type = KEY_RSA, .alg_name = "RSA", .bits = bits, .exp_odd = (e & 1) != 0,
                    .exp_bits = 17, .exp_small = e};
    if (e == 3)
        k.exp_bits = 2;
    return k;
}

static cm_keyinfo ec(const char *curve)
{
    cm_keyinfo k = {.type = KEY_EC, .alg_name = "EC", .bits = 256, .curve = curve};
    return k;
}

static void expect(const cm_keyinfo *k, int ok)
{
    cm_err err;
    cm_err_clear(&err);
    int rc = keypolicy_check(k, &err);
    if (ok) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_string_equal(err.code, "key_rejected");
        assert_true(err.msg[0] != '\0');
    }
}

static void test_rsa_2048_3072_4096_accepted(void **s)
{
    (void)s;
    cm_keyinfo a = rsa(2048, 65537), b = rsa(3072, 65537), c = rsa(4096, 65537),
               d = rsa(8192, 65537), e3 = rsa(2048, 3);
    expect(&a, 1);
    expect(&b, 1);
    expect(&c, 1);
    expect(&d, 1);
    expect(&e3, 1);
}

static void test_rsa_too_small_or_odd_size_refused(void **s)
{
    (void)s;
    cm_keyinfo a = rsa(1024, 65537), b = rsa(2047, 65537), c = rsa(2056 + 4, 65537),
               d = rsa(8200, 65537);
    expect(&a, 0);
    expect(&b, 0);
    expect(&c, 0);
    expect(&d, 0);
}

static void test_rsa_bad_exponents_refused(void **s)
{
    (void)s;
    cm_keyinfo even = rsa(2048, 65536), one = rsa(2048, 1), huge = rsa(2048, 65537),
               pss = rsa(2048, 65537);
    one.exp_bits = 1;
    huge.exp_bits = 257;
    huge.exp_small = 0;
    pss.rsa_pss = true;
    expect(&even, 0);
    expect(&one, 0);
    expect(&huge, 0);
    expect(&pss, 0);
}

static void test_ec_p256_p384_accepted_others_refused(void **s)
{
    (void)s;
    cm_keyinfo a = ec("P-256"), b = ec("P-384"), c = ec("P-521"), d = ec("secp256k1"),
               e = ec(NULL);
    expect(&a, 1);
    expect(&b, 1);
    expect(&c, 0);
    expect(&d, 0);
    expect(&e, 0);
}

static void test_other_algorithms_refused(void **s)
{
    (void)s;
    cm_keyinfo ed = {.type = KEY_OTHER, .alg_name = "Ed25519"};
    cm_keyinfo dsa = {.type = KEY_OTHER, .alg_name = "DSA"};
    expect(&ed, 0);
    expect(&dsa, 0);
}

static void test_ecdsa_issuer_signs_sha256_only(void **s)
{
    (void)s;
    cm_err err;
    assert_int_equal(sighash_check(true, "sha256", &err), 0);
    assert_int_equal(sighash_check(true, NULL, &err), 0);
    assert_int_equal(sighash_check(true, "sha384", &err), -1);
    assert_string_equal(err.code, "hash_not_allowed");
    assert_int_equal(sighash_check(true, "sha512", &err), -1);
}

static void test_rsa_issuer_signs_any_sha2(void **s)
{
    (void)s;
    cm_err err;
    assert_int_equal(sighash_check(false, "sha256", &err), 0);
    assert_int_equal(sighash_check(false, "sha384", &err), 0);
    assert_int_equal(sighash_check(false, "sha512", &err), 0);
    assert_int_equal(sighash_check(false, "sha1", &err), -1);
    assert_int_equal(sighash_check(false, "md5", &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_2048_3072_4096_accepted),
        cmocka_unit_test(test_rsa_too_small_or_odd_size_refused),
        cmocka_unit_test(test_rsa_bad_exponents_refused),
        cmocka_unit_test(test_ec_p256_p384_accepted_others_refused),
        cmocka_unit_test(test_other_algorithms_refused),
        cmocka_unit_test(test_ecdsa_issuer_signs_sha256_only),
        cmocka_unit_test(test_rsa_issuer_signs_any_sha2),
    };
    return cmocka_run_group_tests_name("keypolicy", tests, NULL, NULL);
}
