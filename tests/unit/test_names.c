/* test_names.c — exercises src/core/names.c: normalising certificate names (IDN to A-labels,
 * lower-casing, canonical IP text), the dNSName syntax rules of BR §7.1.2.7.12 (LDH, lengths,
 * underscores, trailing dot, hyphens, Punycode), wildcards and public suffixes (BR §3.2.2.6),
 * internal names, reverse-lookup zones and reserved IPs (BR §4.2.2) under public and private
 * policies, plus name_wildcard_covers and name_ip_reserved directly. Checklist rows 12-15. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/names.h"

enum { PUB, PRIV, EV };

static const cm_name_policy policies[] = {
    [PUB] = {.public_names = true, .allow_wildcard = true, .allow_ip = true},
    [PRIV] = {.public_names = false, .allow_wildcard = true, .allow_ip = true},
    [EV] = {.public_names = true, .allow_wildcard = false, .allow_ip = false},
};

/* Built by setup: names at and just over the length limits. */
static char label63[128], label64[128], total253[300], total254[300], input1025[1100];
static char label63_want[128], total253_want[300];

typedef struct row {
    const char *in;
    int pol;
    bool ok;
    const char *want; /* ok: the normalised text; failure: a fragment of the message */
    cm_name_type type;
} row;

static const row rows[] = {
    /* plain DNS names, lower-cased */
    {"example.com", PUB, true, "example.com", NAME_DNS},
    {"WWW.Example.COM", PUB, true, "www.example.com", NAME_DNS},
    {"mail.example.co.uk", PUB, true, "mail.example.co.uk", NAME_DNS},
    {"a-b.example.com", PUB, true, "a-b.example.com", NAME_DNS},
    {"123.example.com", PUB, true, "123.example.com", NAME_DNS},
    {"example.com", EV, true, "example.com", NAME_DNS},
    /* IDN: U-labels become A-labels; A-labels must be valid Punycode */
    {"bücher.example", PRIV, true, "xn--bcher-kva.example", NAME_DNS},
    {"bücher.de", PUB, true, "xn--bcher-kva.de", NAME_DNS},
    {"BÜCHER.de", PUB, true, "xn--bcher-kva.de", NAME_DNS},
    {"straße.de", PUB, true, "xn--strae-oqa.de", NAME_DNS},
    {"例え.jp", PUB, true, "xn--r8jz45g.jp", NAME_DNS},
    {"пример.рф", PUB, true, "xn--e1afmkfd.xn--p1ai", NAME_DNS},
    {"xn--bcher-kva.de", PUB, true, "xn--bcher-kva.de", NAME_DNS},
    {"XN--BCHER-KVA.DE", PUB, true, "xn--bcher-kva.de", NAME_DNS},
    {"xn--zz--.example.com", PUB, false, "ends with a hyphen", NAME_DNS},
    {"xn--zz.example.com", PUB, false, "not valid Punycode", NAME_DNS},
    {"xn--a.example.com", PUB, false, "not valid Punycode", NAME_DNS},
    {"xn--99999999999999.example.com", PUB, false, "not valid Punycode", NAME_DNS},
    {"\xf0\x9f\x98\x80.example.com", PUB, false, "not a valid internationalised name", NAME_DNS},
    {"\xff\xfe.example.com", PUB, false, "not a valid internationalised name", NAME_DNS},
    {"bü_cher.de", PUB, false, "underscore", NAME_DNS},
    /* LDH syntax */
    {"_dmarc.example.com", PUB, false, "contains an underscore", NAME_DNS},
    {"a_b.example.com", PRIV, false, "contains an underscore", NAME_DNS},
    {"example.com.", PUB, false, "ends with a dot", NAME_DNS},
    {"-a.example.com", PUB, false, "starts with a hyphen", NAME_DNS},
    {"a-.example.com", PUB, false, "ends with a hyphen", NAME_DNS},
    {"ab--cd.example.com", PUB, false, "third and fourth", NAME_DNS},
    {"ab--cd.internal", PRIV, false, "third and fourth", NAME_DNS},
    {"a..example.com", PUB, false, "two dots in a row", NAME_DNS},
    {".example.com", PUB, false, "leading dot", NAME_DNS},
    {"exa!mple.com", PUB, false, "contains '!'", NAME_DNS},
    {"example.123", PUB, false, "all digits", NAME_DNS},
    {"host.123", PRIV, false, "all digits", NAME_DNS},
    /* surrounding space, inner space, control characters, empty */
    {" example.com", PUB, false, "surrounding space", NAME_DNS},
    {"example.com ", PUB, false, "surrounding space", NAME_DNS},
    {"example.com\n", PRIV, false, "surrounding space", NAME_DNS},
    {"exa mple.com", PUB, false, "contains a space", NAME_DNS},
    {"exa\tmple.com", PUB, false, "control character", NAME_DNS},
    {"exa\x7fmple.com", PUB, false, "control character", NAME_DNS},
    {"", PUB, false, "empty", NAME_DNS},
    {".", PUB, false, "ends with a dot", NAME_DNS},
    {"\xc2\xad", PRIV, false, "is empty once IDNA mapping", NAME_DNS}, /* soft hyphen only */
    /* lengths */
    {label63, PUB, true, label63_want, NAME_DNS},
    {label64, PUB, false, "at most 63", NAME_DNS},
    {total253, PUB, true, total253_want, NAME_DNS},
    {total254, PUB, false, "at most 253", NAME_DNS},
    {input1025, PUB, false, "longer than 1024 bytes", NAME_DNS},
    /* wildcards */
    {"*.example.com", PUB, true, "*.example.com", NAME_WILDCARD},
    {"*.EXAMPLE.com", PUB, true, "*.example.com", NAME_WILDCARD},
    {"*.example.co.uk", PUB, true, "*.example.co.uk", NAME_WILDCARD},
    {"*.bücher.de", PUB, true, "*.xn--bcher-kva.de", NAME_WILDCARD},
    {"*.local", PRIV, true, "*.local", NAME_WILDCARD},
    {"a.*.example.com", PUB, false, "wrong place", NAME_DNS},
    {"*a.example.com", PUB, false, "wrong place", NAME_DNS},
    {"a*.example.com", PUB, false, "wrong place", NAME_DNS},
    {"*.*.example.com", PUB, false, "wrong place", NAME_DNS},
    {"*", PUB, false, "only a star", NAME_DNS},
    {"*.", PUB, false, "ends with a dot", NAME_DNS},
    {"*.com", PUB, false, "public suffix", NAME_DNS},
    {"*.co.uk", PUB, false, "public suffix", NAME_DNS},
    {"*.co.uk", PRIV, false, "public suffix", NAME_DNS},
    {"*.github.io", PUB, false, "public suffix", NAME_DNS},
    {"*.example.com", EV, false, "no wildcard names", NAME_DNS},
    {"*.local", PUB, false, "internal name", NAME_DNS},
    {"*._tcp.example.com", PUB, false, "underscore", NAME_DNS},
    {"\xef\xbc\x8a.example.com", PUB, false, "star-like character", NAME_DNS}, /* U+FF0A */
    {"ｅｘａｍｐｌｅ。com", PUB, true, "example.com", NAME_DNS}, /* TR46 width and dot mapping */
    /* names that are public suffixes */
    {"co.uk", PUB, false, "is a public suffix", NAME_DNS},
    {"com", PUB, false, "is a public suffix", NAME_DNS},
    {"COM", PRIV, false, "is a public suffix", NAME_DNS},
    {"github.io", PUB, false, "is a public suffix", NAME_DNS},
    /* internal names: refused on public, accepted on private */
    {"localhost", PUB, false, "internal name", NAME_DNS},
    {"localhost", PRIV, true, "localhost", NAME_DNS},
    {"server.local", PUB, false, "internal name", NAME_DNS},
    {"server.local", PRIV, true, "server.local", NAME_DNS},
    {"host.internal", PUB, false, "internal name", NAME_DNS},
    {"host.internal", PRIV, true, "host.internal", NAME_DNS},
    {"db.internal", PRIV, true, "db.internal", NAME_DNS},
    {"corp", PUB, false, "internal name", NAME_DNS},
    {"CORP", PRIV, true, "corp", NAME_DNS},
    {"www.example", PUB, false, "internal name", NAME_DNS},
    {"printer.home.arpa", PUB, false, "special-use", NAME_DNS},
    {"hidden.onion", PUB, false, "special-use", NAME_DNS},
    /* reverse-lookup zones */
    {"1.2.0.192.in-addr.arpa", PUB, false, "reverse-lookup", NAME_DNS},
    {"in-addr.arpa", PUB, false, "reverse-lookup", NAME_DNS},
    {"b.a.9.8.ip6.arpa", PUB, false, "reverse-lookup", NAME_DNS},
    {"1.2.0.192.in-addr.arpa", PRIV, true, "1.2.0.192.in-addr.arpa", NAME_DNS},
    /* IPv4 */
    {"1.1.1.1", PUB, true, "1.1.1.1", NAME_IPV4},
    {"8.8.8.8", PUB, true, "8.8.8.8", NAME_IPV4},
    {"10.0.0.1", PUB, false, "reserved address", NAME_IPV4},
    {"10.0.0.1", PRIV, true, "10.0.0.1", NAME_IPV4},
    {"127.0.0.1", PUB, false, "reserved address", NAME_IPV4},
    {"192.168.1.1", PUB, false, "reserved address", NAME_IPV4},
    {"100.64.0.1", PUB, false, "reserved address", NAME_IPV4},
    {"169.254.1.1", PUB, false, "reserved address", NAME_IPV4},
    {"198.51.100.7", PUB, false, "reserved address", NAME_IPV4},
    {"224.0.0.1", PUB, false, "reserved address", NAME_IPV4},
    {"255.255.255.255", PUB, false, "reserved address", NAME_IPV4},
    {"1.1.1.1", EV, false, "this product names hosts only", NAME_IPV4},
    {"256.1.1.1", PUB, false, "looks like an IPv4 address", NAME_DNS},
    {"1.2.3.4.5", PUB, false, "looks like an IPv4 address", NAME_DNS},
    {"1.2.3", PUB, false, "looks like an IPv4 address", NAME_DNS},
    {"01.2.3.4", PUB, false, "looks like an IPv4 address", NAME_DNS},
    {"1.2.3.4.", PRIV, false, "looks like an IPv4 address", NAME_DNS},
    /* IPv6, written back in RFC 5952 form */
    {"2606:4700:0:0:0:0:0:1111", PUB, true, "2606:4700::1111", NAME_IPV6},
    {"2606:4700:0000:0000:0000:0000:0000:1111", PUB, true, "2606:4700::1111", NAME_IPV6},
    {"2001:4860:4860:0:0:0:0:8888", PUB, true, "2001:4860:4860::8888", NAME_IPV6},
    {"2606:4700::ABCD", PUB, true, "2606:4700::abcd", NAME_IPV6},
    {"::1", PUB, false, "reserved address", NAME_IPV6},
    {"::1", PRIV, true, "::1", NAME_IPV6},
    {"fe80::1", PUB, false, "reserved address", NAME_IPV6},
    {"fd00::1", PUB, false, "reserved address", NAME_IPV6},
    {"2001:db8::1", PUB, false, "reserved address", NAME_IPV6},
    {"2001:DB8:0:0:0:0:0:1", PRIV, true, "2001:db8::1", NAME_IPV6},
    {"::ffff:8.8.8.8", PUB, false, "reserved address", NAME_IPV6},
    {"2606:4700::1111", EV, false, "this product names hosts only", NAME_IPV6},
    {"[2606:4700::1111]", PUB, false, "brackets", NAME_DNS},
    {"fe80::1%eth0", PRIV, false, "zone index", NAME_DNS},
    {"1::2::3", PUB, false, "not a valid IPv6 address", NAME_DNS},
    {"example.com:443", PUB, false, "not a valid IPv6 address", NAME_DNS},
};

static void fill(char *dst, char c, size_t n)
{
    memset(dst, c, n);
    dst[n] = '\0';
}

/* Builds the length-limit names: labels of 63/64 octets, names of 253/254 octets, 1025 bytes. */
static int setup_lengths(void **state)
{
    (void)state;
    char a63[64], b63[64], c63[64], d57[64], d58[64];
    fill(a63, 'a', 63);
    fill(b63, 'b', 63);
    fill(c63, 'c', 63);
    fill(d57, 'd', 57);
    fill(d58, 'd', 58);
    snprintf(label63, sizeof label63, "%s.example.com", a63);
    snprintf(label63_want, sizeof label63_want, "%s", label63);
    snprintf(label64, sizeof label64, "a%s.example.com", a63);
    snprintf(total253, sizeof total253, "%s.%s.%s.%s.com", a63, b63, c63, d57);
    snprintf(total253_want, sizeof total253_want, "%s", total253);
    snprintf(total254, sizeof total254, "%s.%s.%s.%s.com", a63, b63, c63, d58);
    fill(input1025, 'a', 1025);
    assert_int_equal(strlen(label63), 63 + 12);
    assert_int_equal(strlen(total253), 253);
    assert_int_equal(strlen(total254), 254);
    return 0;
}

static void test_name_table_accepts_and_refuses_as_listed(void **state)
{
    (void)state;
    size_t n = sizeof rows / sizeof rows[0];
    assert_true(n >= 60);
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        cm_name out;
        cm_err err = {0};
        int rc = name_normalize(r->in, &policies[r->pol], &out, &err);
        if (r->ok) {
            if (rc != 0)
                print_error("row %zu \"%s\": unexpected error: %s\n", i, r->in, err.msg);
            assert_int_equal(rc, 0);
            assert_string_equal(out.text, r->want);
            assert_int_equal(out.type, r->type);
            assert_false(cm_err_isset(&err));
        } else {
            if (rc == 0)
                print_error("row %zu \"%s\": accepted as \"%s\"\n", i,
                            r->in != NULL ? r->in : "(null)", out.text);
            assert_int_equal(rc, -1);
            assert_string_equal(err.code, "name_invalid");
            if (strstr(err.msg, r->want) == NULL)
                print_error("row %zu \"%s\": message \"%s\" lacks \"%s\"\n", i,
                            r->in != NULL ? r->in : "(null)", err.msg,
                            r->want != NULL ? r->want : "(null)");
            assert_non_null(strstr(err.msg, r->want));
            assert_string_equal(out.text, ""); /* nothing half-normalised leaks out */
        }
    }
}

static void test_ip_bytes_filled_for_addresses(void **state)
{
    (void)state;
    cm_name out;
    cm_err err = {0};
    assert_int_equal(name_normalize("203.0.113.9", &policies[PRIV], &out, &err), 0);
    assert_memory_equal(out.ip, "\xcb\x00\x71\x09", 4);
    assert_int_equal(name_normalize("2606:4700::1111", &policies[PUB], &out, &err), 0);
    assert_memory_equal(out.ip, "\x26\x06\x47\x00\0\0\0\0\0\0\0\0\0\0\x11\x11", 16);
}

static void test_error_message_quotes_name_and_says_why(void **state)
{
    (void)state;
    cm_name out;
    cm_err err = {0};
    assert_int_equal(name_normalize("_dmarc.example.com", &policies[PUB], &out, &err), -1);
    assert_non_null(strstr(err.msg, "\"_dmarc.example.com\" contains an underscore, which is "
                                    "not allowed in certificate names"));
}

static void test_error_message_hides_control_chars_and_cuts_long_names(void **state)
{
    (void)state;
    cm_name out;
    cm_err err = {0};
    assert_int_equal(name_normalize("a\tb\x1b[31m.example.com", &policies[PUB], &out, &err), -1);
    assert_null(strchr(err.msg, '\t'));
    assert_null(strchr(err.msg, '\x1b'));
    assert_int_equal(name_normalize(input1025, &policies[PUB], &out, &err), -1);
    assert_non_null(strstr(err.msg, "..."));
    assert_true(strlen(err.msg) < 300);
}

static void test_null_arguments_refused(void **state)
{
    (void)state;
    cm_name out;
    cm_err err = {0};
    assert_int_equal(name_normalize(NULL, &policies[PUB], &out, &err), -1);
    assert_int_equal(name_normalize("example.com", NULL, &out, &err), -1);
    assert_int_equal(name_normalize("example.com", &policies[PUB], NULL, &err), -1);
    assert_int_equal(name_normalize("example.com", &policies[PUB], &out, NULL), 0);
    assert_int_equal(name_normalize("a_b.example.com", &policies[PUB], &out, NULL), -1);
}

static void test_wildcard_covers_exactly_one_label(void **state)
{
    (void)state;
    assert_true(name_wildcard_covers("*.example.com", "mail.example.com"));
    assert_true(name_wildcard_covers("*.example.com", "MAIL.Example.COM"));
    assert_true(name_wildcard_covers("*.example.com", "xn--bcher-kva.example.com"));
    assert_false(name_wildcard_covers("*.example.com", "a.b.example.com"));
    assert_false(name_wildcard_covers("*.example.com", "example.com"));
    assert_false(name_wildcard_covers("*.example.com", ".example.com"));
    assert_false(name_wildcard_covers("*.example.com", "mail.badexample.com"));
    assert_false(name_wildcard_covers("*.example.com", "mail.example.org"));
    assert_false(name_wildcard_covers("*.example.com", "mail.example.com."));
}

static void test_wildcard_covers_nothing_when_malformed(void **state)
{
    (void)state;
    assert_false(name_wildcard_covers("*.example.com", "*.example.com"));
    assert_false(name_wildcard_covers("example.com", "mail.example.com"));
    assert_false(name_wildcard_covers("*example.com", "mail.example.com"));
    assert_false(name_wildcard_covers("a.*.example.com", "a.b.example.com"));
    assert_false(name_wildcard_covers("*.*.example.com", "a.b.example.com"));
    assert_false(name_wildcard_covers("*.", "a."));
    assert_false(name_wildcard_covers("*", "a"));
    assert_false(name_wildcard_covers(NULL, "a.example.com"));
    assert_false(name_wildcard_covers("*.example.com", NULL));
    assert_false(name_wildcard_covers("*.example.com", input1025));
}

static bool v4_reserved(const char *s)
{
    unsigned char b[4];
    assert_int_equal(inet_pton(AF_INET, s, b), 1);
    return name_ip_reserved(b, 4);
}

static bool v6_reserved(const char *s)
{
    unsigned char b[16];
    assert_int_equal(inet_pton(AF_INET6, s, b), 1);
    return name_ip_reserved(b, 16);
}

static void test_ipv4_reserved_blocks_and_their_edges(void **state)
{
    (void)state;
    assert_false(v4_reserved("8.8.8.8"));
    assert_false(v4_reserved("1.1.1.1"));
    assert_true(v4_reserved("0.0.0.0"));
    assert_true(v4_reserved("10.255.255.255"));
    assert_false(v4_reserved("11.0.0.0"));
    assert_true(v4_reserved("100.127.255.255"));
    assert_false(v4_reserved("100.128.0.0"));
    assert_false(v4_reserved("100.63.255.255"));
    assert_true(v4_reserved("172.31.255.255"));
    assert_false(v4_reserved("172.32.0.0"));
    assert_true(v4_reserved("192.0.0.9"));
    assert_true(v4_reserved("192.0.2.1"));
    assert_true(v4_reserved("192.88.99.1"));
    assert_true(v4_reserved("198.19.255.255"));
    assert_false(v4_reserved("198.20.0.0"));
    assert_true(v4_reserved("203.0.113.9"));
    assert_true(v4_reserved("239.255.255.255"));
    assert_true(v4_reserved("255.255.255.255"));
    assert_false(v4_reserved("223.255.255.255"));
}

static void test_ipv6_reserved_blocks_and_their_edges(void **state)
{
    (void)state;
    assert_false(v6_reserved("2606:4700::1111"));
    assert_false(v6_reserved("2001:4860:4860::8888"));
    assert_true(v6_reserved("::"));
    assert_true(v6_reserved("::1"));
    assert_true(v6_reserved("::ffff:8.8.8.8"));
    assert_true(v6_reserved("64:ff9b::808:808"));
    assert_true(v6_reserved("2001:1ff:ffff::1"));
    assert_false(v6_reserved("2001:200::1"));
    assert_true(v6_reserved("2001:db8:ffff::1"));
    assert_false(v6_reserved("2001:db9::1"));
    assert_true(v6_reserved("2002::1"));
    assert_true(v6_reserved("3fff:fff::1"));
    assert_false(v6_reserved("3fff:1000::1"));
    assert_true(v6_reserved("fc00::1"));
    assert_true(v6_reserved("fe80::1"));
    assert_true(v6_reserved("ff02::1"));
    assert_true(v6_reserved("4000::1")); /* outside 2000::/3 */
}

static void test_ip_reserved_fails_closed_on_bad_length(void **state)
{
    (void)state;
    unsigned char b[16] = {8, 8, 8, 8};
    assert_true(name_ip_reserved(b, 5));
    assert_true(name_ip_reserved(b, 0));
    assert_true(name_ip_reserved(NULL, 4));
}

static void *normalize_in_thread(void *arg)
{
    (void)arg;
    cm_name out;
    cm_err err = {0};
    for (int i = 0; i < 50; i++)
        if (name_normalize("*.example.co.uk", &policies[PUB], &out, &err) != 0 ||
            name_normalize("*.co.uk", &policies[PUB], &out, &err) == 0)
            return (void *)1;
    return NULL;
}

static void test_concurrent_callers_share_one_suffix_list(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, normalize_in_thread, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *res = NULL;
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_null(res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_table_accepts_and_refuses_as_listed),
        cmocka_unit_test(test_ip_bytes_filled_for_addresses),
        cmocka_unit_test(test_error_message_quotes_name_and_says_why),
        cmocka_unit_test(test_error_message_hides_control_chars_and_cuts_long_names),
        cmocka_unit_test(test_null_arguments_refused),
        cmocka_unit_test(test_wildcard_covers_exactly_one_label),
        cmocka_unit_test(test_wildcard_covers_nothing_when_malformed),
        cmocka_unit_test(test_ipv4_reserved_blocks_and_their_edges),
        cmocka_unit_test(test_ipv6_reserved_blocks_and_their_edges),
        cmocka_unit_test(test_ip_reserved_fails_closed_on_bad_length),
        cmocka_unit_test(test_concurrent_callers_share_one_suffix_list),
    };
    return cmocka_run_group_tests(tests, setup_lengths, NULL);
}
