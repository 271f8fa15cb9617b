/* test_accounts.c — the account slice of service/ against a real SQLite store in a throwaway
 * directory: role names, rights checks (svc_require), DCV random values, API keys (format,
 * authentication by prefix + hash, tampered/short/revoked keys refused, no plaintext in the
 * store), account creation all-or-nothing, users, settings bounds and their audit detail, the
 * audit trail with its actors and a chain that verifies, and the mail outbox (svc_mail_queue). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/mail.h"
#include "pki/digest.h"
#include "service/svc_account.h"
#include "util/fileio.h"
#include "util/str.h"

typedef struct fx {
    char dir[64];
    cm_config cfg;
    cm_store *st;
    cm_svc op; /* an internal operator caller, as `certmint init` has */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cm-test-accounts-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    config_defaults(&f->cfg);
    assert_int_equal(str_copy(f->cfg.dir, sizeof f->cfg.dir, f->dir), 0);
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(store_open(&f->cfg, true, &f->st, &err), 0);
    f->op.cfg = &f->cfg;
    f->op.st = f->st;
    f->op.caller.operator= true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A service context acting as `c`. */
static cm_svc as(const fx *f, const cm_caller *c)
{
    cm_svc s = f->op;
    s.caller = *c;
    return s;
}

static void assert_key_format(const char *k)
{
    assert_int_equal(strlen(k), API_KEY_LEN);
    assert_memory_equal(k, "cm_", 3);
    assert_int_equal(k[15], '_');
    for (size_t i = 3; i < API_KEY_LEN; i++)
        if (i != 15)
            assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", k[i]));
}

/* Creates an account "name" whose administrator is admin@<domain>; returns its admin caller. */
static cm_caller make_account(fx *f, const char *name, const char *domain, char key[API_KEY_SIZE],
                              cm_account *acct)
{
    cm_user admin, out;
    memset(&admin, 0, sizeof admin);
    snprintf(admin.email, sizeof admin.email, "Admin@%s", domain);
    str_copy(admin.first_name, sizeof admin.first_name, "Ada");
    str_copy(admin.last_name, sizeof admin.last_name, "Admin");
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(svc_account_create(&f->op, name, &admin, acct, &out, key, API_KEY_SIZE, &err),
                     0);
    assert_string_equal(out.role, "administrator");
    assert_string_equal(out.status, "active");
    assert_true(strncmp(out.email, "admin@", 6) == 0); /* lower-cased */
    assert_key_format(key);
    cm_caller c;
    assert_int_equal(svc_authenticate(f->st, key, &c, &err), 0);
    assert_false(c.operator);
    assert_int_equal(c.account_id, acct->id);
    assert_int_equal(c.user_id, out.id);
    assert_int_equal(c.role, ROLE_ADMINISTRATOR);
    assert_true(c.key_id > 0);
    return c;
}

static int64_t count_accounts(fx *f)
{
    cm_list_opts o = {.limit = 1000};
    cm_account *l = NULL;
    size_t n = 0;
    int64_t total = -1;
    cm_err err;
    assert_int_equal(store_account_list(f->st, &o, &l, &n, &total, &err), 0);
    free(l);
    return total;
}

/* ---- roles and rights ---- */

static void test_role_names_round_trip(void **state)
{
    (void)state;
    for (cm_role r = ROLE_ADMINISTRATOR; r <= ROLE_LIMITED_USER; r++)
        assert_int_equal(role_parse(role_name(r)), r);
    assert_string_equal(role_name(ROLE_STANDARD_USER), "standard_user");
    assert_null(role_name(ROLE_NONE));
    assert_int_equal(role_parse("Administrator"), ROLE_NONE);
    assert_int_equal(role_parse("operator"), ROLE_NONE);
    assert_int_equal(role_parse(""), ROLE_NONE);
    assert_int_equal(role_parse(NULL), ROLE_NONE);
}

static void test_require_names_what_is_needed(void **state)
{
    (void)state;
    static const cm_role approvers[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_NONE};
    cm_svc s;
    memset(&s, 0, sizeof s);
    cm_err err;
    cm_err_clear(&err);
    s.caller.role = ROLE_MANAGER;
    assert_int_equal(svc_require(&s, false, approvers, &err), 0);
    assert_true(svc_is_approver(&s));
    assert_false(svc_is_admin(&s));
    s.caller.role = ROLE_STANDARD_USER;
    assert_int_equal(svc_require(&s, true, approvers, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_non_null(strstr(err.msg, "administrator or manager"));
    assert_false(svc_is_approver(&s));
    s.caller.operator= true;
    s.caller.role = ROLE_NONE;
    assert_int_equal(svc_require(&s, true, approvers, &err), 0);
    assert_int_equal(svc_require(&s, false, approvers, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_false(svc_is_admin(&s));
    s.caller.operator= false; /* an internal caller with no role */
    assert_int_equal(svc_require(&s, true, approvers, &err), -1);
}

static void test_random_values_are_hex_and_differ(void **state)
{
    (void)state;
    char a[33], b[33];
    svc_random_value(a);
    svc_random_value(b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
}

/* ---- keys and authentication ---- */

static void test_operator_key_authenticates_and_is_stored_hashed(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_err_clear(&err);
    char key[API_KEY_SIZE];
    cm_apikey k;
    assert_int_equal(svc_key_make(&f->op, 0, 0, true, "ops", &k, key, sizeof key, &err), 0);
    assert_key_format(key);
    assert_true(k.operator);
    assert_memory_equal(k.prefix, key, 15);
    assert_int_equal(strlen(k.prefix), 15);
    unsigned char h[32];
    sha256(key, strlen(key), h);
    assert_memory_equal(k.hash, h, 32);

    cm_caller c;
    assert_int_equal(svc_authenticate(f->st, key, &c, &err), 0);
    assert_true(c.operator);
    assert_int_equal(c.key_id, k.id);
    assert_int_equal(c.account_id, 0);

    /* the database file holds neither the key nor its secret part */
    char path[128];
    snprintf(path, sizeof path, "%s/certmint.db", f->dir);
    unsigned char *db = NULL;
    size_t len = 0;
    assert_int_equal(file_read_all(path, 64u << 20, &db, &len, &err), 0);
    assert_null(memmem(db, len, key + 16, API_KEY_LEN - 16));
    free(db);

    /* tampered, truncated, lengthened, upper-cased, empty */
    char bad[API_KEY_SIZE + 1];
    memcpy(bad, key, sizeof key);
    bad[API_KEY_LEN - 1] = bad[API_KEY_LEN - 1] == 'a' ? 'b' : 'a';
    assert_int_equal(svc_authenticate(f->st, bad, &c, &err), -1);
    assert_string_equal(err.code, "unauthorized");
    assert_null(strstr(err.msg, key + 3));
    assert_false(c.operator);
    memcpy(bad, key, sizeof key);
    bad[API_KEY_LEN - 1] = '\0';
    assert_int_equal(svc_authenticate(f->st, bad, &c, &err), -1);
    memcpy(bad, key, API_KEY_LEN);
    bad[API_KEY_LEN] = 'a';
    bad[API_KEY_LEN + 1] = '\0';
    assert_int_equal(svc_authenticate(f->st, bad, &c, &err), -1);
    memcpy(bad, key, sizeof key);
    bad[5] = (char)(bad[5] - 32);
    assert_int_equal(svc_authenticate(f->st, bad, &c, &err), -1);
    assert_int_equal(svc_authenticate(f->st, "", &c, &err), -1);
    assert_int_equal(svc_authenticate(f->st, NULL, &c, &err), -1);
    assert_string_equal(err.code, "unauthorized");

    /* an account user may not mint operator keys; a short buffer is refused */
    cm_caller user = {.account_id = 1, .user_id = 1, .role = ROLE_ADMINISTRATOR};
    cm_svc us = as(f, &user);
    assert_int_equal(svc_key_make(&us, 0, 0, true, "x", &k, key, sizeof key, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_int_equal(svc_key_make(&f->op, 0, 0, true, "x", &k, key, 40, &err), -1);
}

static void test_account_create_and_keys_of_users(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_err_clear(&err);
    char akey[API_KEY_SIZE], bkey[API_KEY_SIZE];
    cm_account a, b;
    cm_caller admin = make_account(f, "Example A", "a.example.com", akey, &a);
    cm_caller badmin = make_account(f, "Example B", "b.example.net", bkey, &b);
    assert_true(a.allow_duplicates && !a.skip_approval);
    assert_int_equal(a.reissue_revoke_delay_hours, 72);
    assert_int_equal(a.renewal_window_days, 90);
    assert_int_equal(a.auto_renew_days, 30);

    /* the administrator adds a standard user and gives them a key */
    cm_svc s = as(f, &admin);
    cm_user u;
    memset(&u, 0, sizeof u);
    str_copy(u.email, sizeof u.email, "sam@a.example.com");
    str_copy(u.first_name, sizeof u.first_name, "Sam");
    str_copy(u.last_name, sizeof u.last_name, "O'Brien");
    str_copy(u.role, sizeof u.role, "standard_user");
    assert_int_equal(svc_user_create(&s, &u, &err), 0);
    assert_int_equal(u.account_id, a.id);
    cm_user dup = u;
    assert_int_equal(svc_user_create(&s, &dup, &err), -1);
    assert_string_equal(err.code, "user_exists");

    char ukey[API_KEY_SIZE];
    cm_apikey uk;
    assert_int_equal(svc_key_create(&s, u.id, "laptop", &uk, ukey, sizeof ukey, &err), 0);
    cm_caller sam;
    assert_int_equal(svc_authenticate(f->st, ukey, &sam, &err), 0);
    assert_int_equal(sam.role, ROLE_STANDARD_USER);
    assert_int_equal(sam.user_id, u.id);

    /* Sam: not for others, not users, not settings; own keys only */
    cm_svc ss = as(f, &sam);
    char k2[API_KEY_SIZE];
    cm_apikey kk;
    assert_int_equal(svc_key_create(&ss, admin.user_id, "x", &kk, k2, sizeof k2, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_string_equal(k2, "");
    cm_user v = u;
    str_copy(v.email, sizeof v.email, "v@a.example.com");
    assert_int_equal(svc_user_create(&ss, &v, &err), -1);
    assert_string_equal(err.code, "forbidden");
    cm_list_opts o = {.limit = 100};
    cm_apikey *keys = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(svc_key_list(&ss, &o, &keys, &n, &total, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_int_equal(keys[0].id, uk.id);
    free(keys);
    assert_int_equal(svc_key_revoke(&ss, admin.key_id, &err), -1);
    assert_string_equal(err.code, "forbidden");

    /* B's administrator cannot see or touch A's rows */
    cm_svc bs = as(f, &badmin);
    cm_user got;
    assert_int_equal(svc_user_get(&bs, u.id, &got, &err), -1);
    assert_string_equal(err.code, "user_not_found");
    assert_int_equal(svc_key_revoke(&bs, uk.id, &err), -1);
    assert_string_equal(err.code, "key_not_found");
    assert_int_equal(svc_key_create(&bs, u.id, "x", &kk, k2, sizeof k2, &err), -1);
    assert_string_equal(err.code, "user_not_found");
    assert_int_equal(svc_authenticate(f->st, ukey, &sam, &err), 0);

    /* revoked keys stop working, once */
    assert_int_equal(svc_key_revoke(&ss, uk.id, &err), 0);
    assert_int_equal(svc_authenticate(f->st, ukey, &sam, &err), -1);
    assert_string_equal(err.code, "unauthorized");
    assert_non_null(strstr(err.msg, "revoked"));
    assert_int_equal(svc_key_revoke(&s, uk.id, &err), -1);
    assert_string_equal(err.code, "key_state");
}

static void test_account_create_is_all_or_nothing(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_err_clear(&err);
    int64_t before = count_accounts(f);
    cm_user admin, out;
    memset(&admin, 0, sizeof admin);
    str_copy(admin.email, sizeof admin.email, "not an address");
    str_copy(admin.first_name, sizeof admin.first_name, "A");
    str_copy(admin.last_name, sizeof admin.last_name, "B");
    cm_account acct;
    char key[API_KEY_SIZE];
    assert_int_equal(svc_account_create(&f->op, "X", &admin, &acct, &out, key, sizeof key, &err),
                     -1);
    assert_string_equal(err.code, "field_invalid");
    assert_non_null(strstr(err.msg, "admin"));
    assert_string_equal(key, "");
    str_copy(admin.email, sizeof admin.email, "ok@example.com");
    assert_int_equal(svc_account_create(&f->op, "   ", &admin, &acct, &out, key, sizeof key, &err),
                     -1);
    assert_int_equal(
        svc_account_create(&f->op, "Bell\a", &admin, &acct, &out, key, sizeof key, &err), -1);
    cm_caller user = {.account_id = 1, .user_id = 1, .role = ROLE_ADMINISTRATOR};
    cm_svc us = as(f, &user);
    assert_int_equal(svc_account_create(&us, "X", &admin, &acct, &out, key, sizeof key, &err), -1);
    assert_string_equal(err.code, "forbidden");
    assert_int_equal(count_accounts(f), before);
}

static void test_settings_bounds_and_audit_trail(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_err_clear(&err);
    char key[API_KEY_SIZE];
    cm_account a;
    cm_caller admin = make_account(f, "Example C", "c.example.org", key, &a);
    cm_svc s = as(f, &admin);

    cm_settings_patch p;
    svc_settings_patch_init(&p);
    cm_account got;
    assert_int_equal(svc_settings_update(&s, &p, &got, &err), -1);
    assert_string_equal(err.code, "field_required");
    int *fields[] = {&p.reissue_revoke_delay_hours,
                     &p.reissue_revoke_delay_hours,
                     &p.renewal_window_days,
                     &p.renewal_window_days,
                     &p.auto_renew_days,
                     &p.auto_renew_days,
                     &p.renewal_window_days,
                     &p.allow_duplicates};
    int values[] = {721, -1, 0, 366, 0, 91, 29, 2};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        svc_settings_patch_init(&p);
        *fields[i] = values[i];
        assert_int_equal(svc_settings_update(&s, &p, &got, &err), -1);
        assert_string_equal(err.code, "field_invalid");
    }
    cm_account now;
    assert_int_equal(svc_settings_get(&s, &now, &err), 0);
    assert_int_equal(now.renewal_window_days, 90);
    assert_int_equal(now.reissue_revoke_delay_hours, 72);

    svc_settings_patch_init(&p);
    p.skip_approval = 1;
    p.reissue_revoke_delay_hours = 0;
    p.renewal_window_days = 90; /* unchanged: not in the detail */
    assert_int_equal(svc_settings_update(&s, &p, &got, &err), 0);
    assert_true(got.skip_approval);
    assert_int_equal(got.reissue_revoke_delay_hours, 0);
    assert_int_equal(svc_settings_get(&s, &now, &err), 0);
    assert_true(now.skip_approval && now.allow_duplicates);

    /* the account's trail: created by the operator, then the administrator's change */
    cm_list_opts o = {.limit = 100};
    cm_audit *ev = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(svc_audit_list(&s, &o, &ev, &n, &total, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].action, "user.create");
    assert_true(ev[0].operator);
    assert_int_equal(ev[0].object_id, admin.user_id);
    assert_string_equal(ev[1].action, "key.create");
    assert_int_equal(ev[1].object_id, admin.key_id);
    assert_null(strstr(ev[1].detail, key + 16));
    assert_string_equal(ev[2].action, "settings.update");
    assert_int_equal(ev[2].user_id, admin.user_id);
    assert_int_equal(ev[2].key_id, admin.key_id);
    assert_false(ev[2].operator);
    assert_string_equal(ev[2].detail, "{\"skip_approval\":{\"from\":false,\"to\":true},"
                                      "\"reissue_revoke_delay_hours\":{\"from\":72,\"to\":0}}");
    free(ev);

    /* the operator's trail holds the account's creation */
    ev = NULL;
    assert_int_equal(svc_audit_list(&f->op, &o, &ev, &n, &total, &err), 0);
    bool seen = false;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ev[i].account_id, 0);
        if (strcmp(ev[i].action, "account.create") == 0 && ev[i].object_id == a.id)
            seen = true;
    }
    free(ev);
    assert_true(seen);

    int64_t bad_id = -1, checked = 0;
    assert_int_equal(store_audit_verify(f->st, &bad_id, &checked, &err), 0);
    assert_int_equal(bad_id, 0);
    assert_true(checked >= 4);
}

static void test_mail_queue_writes_outbox_and_job(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_err_clear(&err);
    int64_t q0 = 0, r0 = 0, f0 = 0, q1 = 0, r1 = 0, f1 = 0;
    assert_int_equal(store_job_counts(f->st, &q0, &r0, &f0, &err), 0);
    cm_mail m = {.from = "ca@example.com",
                 .to = "ops@example.net",
                 .subject = "Your certificate",
                 .text = "Hello.\n"};
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(svc_mail_queue(&f->op, 0, &m, &err), 0);
    assert_int_equal(store_commit(f->st, &err), 0);
    assert_int_equal(store_job_counts(f->st, &q1, &r1, &f1, &err), 0);
    assert_int_equal(q1, q0 + 1);

    cm_job j;
    bool got = false;
    assert_int_equal(store_job_lease(f->st, INT64_MAX / 2, 60, &j, &got, &err), 0);
    assert_true(got);
    assert_string_equal(j.kind, "mail");
    assert_int_equal(j.max_attempts, 8);
    long id = 0;
    assert_int_equal(sscanf(j.payload, "{\"mail_id\":%ld}", &id), 1);
    cm_mail_row row;
    assert_int_equal(store_mail_get(f->st, id, &row, &err), 0);
    assert_string_equal(row.to_addr, "ops@example.net");
    assert_string_equal(row.status, "queued");
    assert_non_null(memmem(row.message, row.message_len, "Subject: Your certificate", 25));
    free(row.message);

    /* a header injection is refused and queues nothing */
    m.to = "ops@example.net\r\nBcc: x@example.com";
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(svc_mail_queue(&f->op, 0, &m, &err), -1);
    assert_string_equal(err.code, "mail_invalid");
    store_rollback(f->st);
    int64_t q2 = 0;
    assert_int_equal(store_job_counts(f->st, &q2, &r1, &f1, &err), 0);
    assert_int_equal(q2, q0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_names_round_trip),
        cmocka_unit_test(test_require_names_what_is_needed),
        cmocka_unit_test(test_random_values_are_hex_and_differ),
        cmocka_unit_test_setup_teardown(test_operator_key_authenticates_and_is_stored_hashed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_account_create_and_keys_of_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_create_is_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_bounds_and_audit_trail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_queue_writes_outbox_and_job, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
