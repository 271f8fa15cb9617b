/* test_caa.c — exercises src/core/caa.c, the RFC 8659 decision over one CAA RRset (BR §3.2.2.8):
 * issue vs issuewild for wildcard and plain names, ";" (no one), parameters and their grammar,
 * case-insensitive issuer names and tags, several identities, critical unknown tags, ignored
 * iodef/unknown tags, malformed and truncated values, and the messages that name the record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/caa.h"

#define ME "certmint.test"

typedef struct rr_in {
    unsigned flags;
    const char *tag, *value;
} rr_in;

typedef struct row {
    const char *what;
    rr_in rr[4];
    size_t n;
    bool wildcard;
    const char *ids;
    bool ok;
    const char *msg; /* forbidden: a fragment the message must contain */
} row;

/* clang-format off */
static const row rows[] = {
    {"empty RRset permits", {{0}}, 0, false, ME, true, NULL},
    {"issue naming us", {{0, "issue", "certmint.test"}}, 1, false, ME, true, NULL},
    {"issue naming another CA", {{0, "issue", "other.example"}}, 1, false, ME, false,
     "(0 issue \"other.example\") does not authorise this CA (certmint.test); add 0 issue "
     "\"certmint.test\" or remove it"},
    {"issuer name is case-insensitive", {{0, "issue", "CertMint.TEST"}}, 1, false, ME, true, NULL},
    {"tag is case-insensitive", {{0, "ISSUE", "certmint.test"}}, 1, false, ME, true, NULL},
    {"tag case-insensitive also when forbidding", {{0, "Issue", "other.example"}}, 1, false, ME,
     false, "does not authorise"},
    {"semicolon alone forbids everyone", {{0, "issue", ";"}}, 1, false, ME, false,
     "(0 issue \";\")"},
    {"empty value forbids everyone", {{0, "issue", ""}}, 1, false, ME, false, "does not"},
    {"one of several issue records names us",
     {{0, "issue", "other.example"}, {0, "issue", "certmint.test"}}, 2, false, ME, true, NULL},
    {"';' record plus one naming us still permits",
     {{0, "issue", ";"}, {0, "issue", "certmint.test"}}, 2, false, ME, true, NULL},
    {"several records, none ours: all named",
     {{0, "issue", "a.example"}, {0, "issue", "b.example"}}, 2, false, ME, false,
     "records (0 issue \"a.example\", 0 issue \"b.example\") do not authorise"},
    {"second identity matches", {{0, "issue", "ca.example.org"}}, 1, false,
     "certmint.test, ca.example.org", true, NULL},
    {"identity with trailing dot", {{0, "issue", "certmint.test"}}, 1, false, "certmint.test.",
     true, NULL},
    {"no identity configured", {{0, "issue", "certmint.test"}}, 1, false, "", false,
     "no caa_identities configured"},
    {"suffix of an identity does not match", {{0, "issue", "mint.test"}}, 1, false, ME, false,
     "does not"},
    {"identity is not a substring match", {{0, "issue", "certmint.test.evil"}}, 1, false, ME,
     false, "does not"},
    {"parameters are ignored", {{0, "issue", "certmint.test; account=230123"}}, 1, false, ME, true,
     NULL},
    {"several parameters and spaces", {{0, "issue", "  certmint.test ;  a=1 ; b = 2  "}}, 1, false,
     ME, true, NULL},
    {"empty parameter value", {{0, "issue", "certmint.test; validationmethods="}}, 1, false, ME,
     true, NULL},
    {"hyphenated names and tags", {{0, "issue", "cert-mint.test; valid-ation=x"}}, 1, false,
     "cert-mint.test", true, NULL},
    {"malformed: parameter without '='", {{0, "issue", "certmint.test; account"}}, 1, false, ME,
     false, "is malformed"},
    {"malformed: trailing ';' after a parameter", {{0, "issue", "certmint.test; a=1;"}}, 1, false,
     ME, false, "is malformed"},
    {"malformed: space in the issuer", {{0, "issue", "certmint .test"}}, 1, false, ME, false,
     "does not authorise"},
    {"malformed: trailing dot on the issuer", {{0, "issue", "certmint.test."}}, 1, false, ME,
     false, "is malformed"},
    {"malformed: label ends with a hyphen", {{0, "issue", "certmint-.test"}}, 1, false,
     "certmint-.test", false, "does not"},
    {"malformed: space inside a parameter value", {{0, "issue", "certmint.test; a=b c"}}, 1, false,
     ME, false, "is malformed"},
    {"malformed: quote-like junk", {{0, "issue", "\"certmint.test\""}}, 1, false, ME, false,
     "is malformed"},
    {"malformed record beside a good one", {{0, "issue", "certmint.test; x"}, {0, "issue", ME}}, 2,
     false, ME, true, NULL},
    {"wildcard uses issuewild when present",
     {{0, "issue", "other.example"}, {0, "issuewild", "certmint.test"}}, 2, true, ME, true, NULL},
    {"wildcard refused by issuewild even if issue names us",
     {{0, "issue", "certmint.test"}, {0, "issuewild", "other.example"}}, 2, true, ME, false,
     "add 0 issuewild \"certmint.test\""},
    {"wildcard issuewild ';' forbids wildcards",
     {{0, "issue", "certmint.test"}, {0, "issuewild", ";"}}, 2, true, ME, false,
     "(0 issuewild \";\")"},
    {"wildcard falls back to issue", {{0, "issue", "certmint.test"}}, 1, true, ME, true, NULL},
    {"wildcard falls back to issue and is refused", {{0, "issue", "other.example"}}, 1, true, ME,
     false, "add 0 issue \"certmint.test\""},
    {"plain name ignores issuewild", {{0, "issuewild", "other.example"}}, 1, false, ME, true, NULL},
    {"plain name ignores issuewild, uses issue",
     {{0, "issuewild", "certmint.test"}, {0, "issue", "other.example"}}, 2, false, ME, false,
     "0 issue \"other.example\""},
    {"issuewild tag case-insensitive", {{0, "ISSUEWILD", "other.example"}}, 1, true, ME, false,
     "does not"},
    {"iodef only permits", {{0, "iodef", "mailto:security@example.com"}}, 1, false, ME, true, NULL},
    {"critical iodef is understood", {{128, "iodef", "mailto:x@example.com"}}, 1, false, ME, true,
     NULL},
    {"unknown non-critical tag ignored", {{0, "tbs", "whatever"}, {0, "issue", ME}}, 2, false, ME,
     true, NULL},
    {"unknown critical tag forbids", {{128, "unknowntag", ""}}, 1, false, ME, false,
     "(128 unknowntag \"\") marks a property certmint does not understand as critical"},
    {"unknown critical tag forbids even beside a match",
     {{0, "issue", ME}, {128, "tbs", "x"}}, 2, false, ME, false, "critical"},
    {"critical bit among other flag bits", {{129, "foo", "x"}, {0, "issue", ME}}, 2, false, ME,
     false, "critical"},
    {"reserved flag bits alone are not critical", {{1, "foo", "x"}, {0, "issue", ME}}, 2, false, ME,
     true, NULL},
    {"critical issue is understood", {{128, "issue", ME}}, 1, false, ME, true, NULL},
    {"critical issuemail is understood and ignored", {{128, "issuemail", "other.example"}}, 1,
     false, ME, true, NULL},
    {"issuemail does not count as issue", {{0, "issuemail", ME}, {0, "issue", "other.example"}}, 2,
     false, ME, false, "does not"},
};
/* clang-format on */

static void check_row(const row *r)
{
    cm_caa_rr rrs[4];
    cm_err err;
    memset(rrs, 0, sizeof rrs);
    cm_err_clear(&err);
    for (size_t i = 0; i < r->n; i++) {
        rrs[i].flags = r->rr[i].flags;
        snprintf(rrs[i].tag, sizeof rrs[i].tag, "%s", r->rr[i].tag);
        snprintf(rrs[i].value, sizeof rrs[i].value, "%s", r->rr[i].value);
    }
    int rc = caa_decide(rrs, r->n, r->wildcard, r->ids, &err);
    if ((rc == 0) != r->ok)
        fail_msg("%s: expected %s, got %s (%s)", r->what, r->ok ? "permitted" : "forbidden",
                 rc == 0 ? "permitted" : "forbidden", err.msg);
    if (!r->ok) {
        assert_string_equal(err.code, "caa_forbidden");
        if (strstr(err.msg, r->msg) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", r->what, err.msg, r->msg);
    }
}

static void test_decision_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_row(&rows[i]);
}

static void test_owner_is_named_in_the_message(void **state)
{
    (void)state;
    cm_caa_rr rr = {.flags = 0, .tag = "issue", .value = "other-ca.example"};
    cm_err err;
    assert_int_equal(caa_decide_at("example.com", &rr, 1, false, "certmint.test", &err), -1);
    assert_string_equal(err.code, "caa_forbidden");
    assert_string_equal(err.msg, "CAA record at example.com (0 issue \"other-ca.example\") does "
                                 "not authorise this CA (certmint.test); add 0 issue "
                                 "\"certmint.test\" or remove it");
}

static void test_truncated_value_authorises_no_one(void **state)
{
    (void)state;
    cm_caa_rr rr = {.flags = 0, .tag = "issue", .value = "certmint.test", .truncated = true};
    cm_err err;
    assert_int_equal(caa_decide(&rr, 1, false, "certmint.test", &err), -1);
    assert_non_null(strstr(err.msg, "malformed"));
    rr.truncated = false;
    assert_int_equal(caa_decide(&rr, 1, false, "certmint.test", &err), 0);
}

static void test_control_bytes_are_escaped_in_messages(void **state)
{
    (void)state;
    cm_caa_rr rr = {.flags = 0, .tag = "issue", .value = "a\"b\\c\x7f"};
    cm_err err;
    assert_int_equal(caa_decide(&rr, 1, false, "certmint.test", &err), -1);
    assert_non_null(strstr(err.msg, "\"a\\\"b\\\\c\\127\""));
}

static void test_long_lists_keep_the_message_bounded(void **state)
{
    (void)state;
    cm_caa_rr rrs[40];
    cm_err err;
    memset(rrs, 0, sizeof rrs);
    for (size_t i = 0; i < 40; i++) {
        snprintf(rrs[i].tag, sizeof rrs[i].tag, "issue");
        memset(rrs[i].value, 'a', sizeof rrs[i].value - 1);
    }
    assert_int_equal(caa_decide(rrs, 40, false, "certmint.test", &err), -1);
    assert_true(strlen(err.msg) < sizeof err.msg);
    assert_non_null(strstr(err.msg, "..."));
}

static void test_issue_value_parser(void **state)
{
    (void)state;
    const char *dom;
    size_t n;
    assert_int_equal(caa_parse_issue_value("  ca.example ; p=v", &dom, &n), 0);
    assert_int_equal(n, strlen("ca.example"));
    assert_memory_equal(dom, "ca.example", n);
    assert_int_equal(caa_parse_issue_value(";", &dom, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(caa_parse_issue_value("", &dom, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(caa_parse_issue_value("; p=v", &dom, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(caa_parse_issue_value("ca..example", &dom, &n), -1);
    assert_int_equal(caa_parse_issue_value("-ca.example", &dom, &n), -1);
    assert_int_equal(caa_parse_issue_value("ca.example;p=v;q=w", &dom, &n), 0);
    assert_int_equal(caa_parse_issue_value("ca.example; =v", &dom, &n), -1);
    assert_int_equal(caa_parse_issue_value("ca.example; p=v;;q=w", &dom, &n), -1);
    assert_int_equal(caa_parse_issue_value("ca.example\tx", &dom, &n), -1);
    assert_int_equal(caa_parse_issue_value("ca_x.example", &dom, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_owner_is_named_in_the_message),
        cmocka_unit_test(test_truncated_value_authorises_no_one),
        cmocka_unit_test(test_control_bytes_are_escaped_in_messages),
        cmocka_unit_test(test_long_lists_keep_the_message_bounded),
        cmocka_unit_test(test_issue_value_parser),
    };
    return cmocka_run_group_tests_name("caa", tests, NULL, NULL);
}
