/* test_store.c — the SQLite store (src/store/, DESIGN.md §4) against a real database file in a
 * throwaway directory per test: migrations (idempotent, refused without migrate), every noun's
 * insert/get/update/list with paging, sorting, filters and totals, scoping by account, unique
 * conflicts, whitelisted sort/filter names and SQL metacharacters in values, R-D6's public-key
 * check, job leasing (retries, failure, unique keys, four threads at once, busy timeout), the
 * audit hash chain and its tamper detection through a raw sqlite3 handle, the connection pool
 * across threads, and rollback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/clock.h"
#include "util/str.h"

#define T0 1767225600 /* 2026-01-01 */

typedef struct fx {
    char dir[64];
    cm_config cfg;
    cm_store *st;
    int64_t a, b;        /* two accounts */
    int64_t ua, ua2, ub; /* users: two of A, one of B */
} fx;

static void rm_dir(const char *dir)
{
    static const char *files[] = {"certmint.db", "certmint.db-wal", "certmint.db-shm",
                                  "other.db",    "other.db-wal",    "other.db-shm"};
    char p[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static cm_list_opts opts(int64_t offset, int64_t limit, const char *sort, bool desc)
{
    cm_list_opts o;
    memset(&o, 0, sizeof o);
    o.offset = offset;
    o.limit = limit;
    o.sort = sort;
    o.desc = desc;
    return o;
}

static void add_filter(cm_list_opts *o, const char *name, const char *value)
{
    o->filter_names[o->n_filters] = name;
    o->filter_values[o->n_filters] = value;
    o->n_filters++;
}

static int64_t mk_account(cm_store *st, const char *name)
{
    cm_account a = {0};
    cm_err err;
    str_copy(a.name, sizeof a.name, name);
    a.created_at = T0;
    a.allow_duplicates = true;
    a.reissue_revoke_delay_hours = 72;
    a.renewal_window_days = 90;
    a.auto_renew_days = 30;
    assert_int_equal(store_account_insert(st, &a, &err), 0);
    assert_true(a.id > 0);
    return a.id;
}

static int64_t mk_user(cm_store *st, int64_t acct, const char *email, const char *role,
                       const char *last)
{
    cm_user u = {0};
    cm_err err;
    u.account_id = acct;
    str_copy(u.email, sizeof u.email, email);
    str_copy(u.role, sizeof u.role, role);
    str_copy(u.first_name, sizeof u.first_name, "Pat");
    str_copy(u.last_name, sizeof u.last_name, last);
    u.created_at = T0;
    assert_int_equal(store_user_insert(st, &u, &err), 0);
    return u.id;
}

static int64_t mk_org(cm_store *st, int64_t acct, const char *name, const char *country)
{
    cm_org_row o;
    cm_err err;
    memset(&o, 0, sizeof o);
    o.account_id = acct;
    str_copy(o.org.name, sizeof o.org.name, name);
    str_copy(o.org.country, sizeof o.org.country, country);
    str_copy(o.org.city, sizeof o.org.city, "Springfield");
    o.created_at = T0;
    assert_int_equal(store_org_insert(st, &o, &err), 0);
    return o.id;
}

static void order_init(cm_order *o, int64_t acct, int64_t user, const char *cn, const char *status,
                       const char *product)
{
    memset(o, 0, sizeof *o);
    o->account_id = acct;
    o->user_id = user;
    str_copy(o->product, sizeof o->product, product);
    str_copy(o->status, sizeof o->status, status);
    str_copy(o->common_name, sizeof o->common_name, cn);
    o->validity_years = 1;
    str_copy(o->signature_hash, sizeof o->signature_hash, "sha256");
    str_copy(o->issuer, sizeof o->issuer, "ecdsa");
    str_copy(o->csr, sizeof o->csr, "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n");
    o->created_at = T0;
    o->updated_at = T0;
}

static int64_t mk_order(cm_store *st, int64_t acct, int64_t user, const char *cn,
                        const char *status, const char *product)
{
    cm_order o;
    cm_err err;
    cm_order_name names[2];
    memset(names, 0, sizeof names);
    order_init(&o, acct, user, cn, status, product);
    str_copy(names[0].name, sizeof names[0].name, cn);
    snprintf(names[1].name, sizeof names[1].name, "www.%s", cn);
    o.names = names;
    o.n_names = 2;
    assert_int_equal(store_order_insert(st, &o, &err), 0);
    return o.id;
}

static void cert_init(cm_cert_row *c, int64_t acct, int64_t order, const char *ca,
                      const char *serial, unsigned char spki_byte, const char *status)
{
    static unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    memset(c, 0, sizeof *c);
    c->account_id = acct;
    c->order_id = order;
    str_copy(c->kind, sizeof c->kind, "original");
    str_copy(c->status, sizeof c->status, status);
    str_copy(c->ca_id, sizeof c->ca_id, ca);
    str_copy(c->serial, sizeof c->serial, serial);
    memset(c->spki_sha256, spki_byte, 32);
    str_copy(c->common_name, sizeof c->common_name, "example.com");
    str_copy(c->names, sizeof c->names, "example.com,www.example.com");
    c->not_before = T0;
    c->not_after = T0 + 86400 * 100;
    str_copy(c->signature_hash, sizeof c->signature_hash, "sha256");
    c->created_at = T0;
    c->der = der;
    c->der_len = sizeof der;
}

static int64_t mk_cert(cm_store *st, int64_t acct, int64_t order, const char *ca,
                       const char *serial, unsigned char spki_byte, const char *status)
{
    cm_cert_row c;
    cm_err err;
    cert_init(&c, acct, order, ca, serial, spki_byte, status);
    assert_int_equal(store_cert_insert(st, &c, &err), 0);
    return c.id;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    cm_err err;
    assert_non_null(f);
    str_copy(f->dir, sizeof f->dir, "/tmp/cm-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    config_defaults(&f->cfg);
    str_copy(f->cfg.dir, sizeof f->cfg.dir, f->dir);
    assert_int_equal(store_open(&f->cfg, true, &f->st, &err), 0);
    f->a = mk_account(f->st, "Account A");
    f->b = mk_account(f->st, "Account B");
    f->ua = mk_user(f->st, f->a, "alice@example.com", "administrator", "Zed");
    f->ua2 = mk_user(f->st, f->a, "bob@example.com", "limited_user", "Adams");
    f->ub = mk_user(f->st, f->b, "carol@example.net", "manager", "Mills");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    rm_dir(f->dir);
    free(f);
    clock_set_fixed(0);
    return 0;
}

/* ---- migrations ---- */

static void test_migrate_twice_is_idempotent_at_latest_version(void **state)
{
    fx *f = *state;
    cm_err err;
    int from = -1, to = -1;
    assert_true(store_schema_latest() >= 1);
    assert_int_equal(store_schema_version(f->st), store_schema_latest());
    assert_int_equal(store_migrate(f->st, &from, &to, &err), 0);
    assert_int_equal(from, store_schema_latest());
    assert_int_equal(to, store_schema_latest());
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(&f->cfg, true, &f->st, &err), 0);
    assert_int_equal(store_schema_version(f->st), store_schema_latest());
    /* The data survived the second migration run. */
    cm_account a;
    assert_int_equal(store_account_get(f->st, f->a, &a, &err), 0);
    assert_string_equal(a.name, "Account A");
    /* And a store opened without migrating works on a current schema. */
    cm_store *plain = NULL;
    assert_int_equal(store_open(&f->cfg, false, &plain, &err), 0);
    store_close(plain);
}

static void test_database_file_is_private(void **state)
{
    fx *f = *state;
    char p[128];
    struct stat sb;
    snprintf(p, sizeof p, "%s/certmint.db", f->dir);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_open_without_migrate_on_fresh_file_needs_migration(void **state)
{
    fx *f = *state;
    cm_config c = f->cfg;
    cm_store *st = NULL;
    cm_err err;
    char p[128];
    snprintf(c.db, sizeof c.db, "%s/other.db", f->dir);
    assert_int_equal(store_open(&c, false, &st, &err), -1);
    assert_string_equal(err.code, "store_needs_migration");
    assert_non_null(strstr(err.msg, "certmint migrate"));
    assert_null(st);
    /* An existing database at schema 0 is refused the same way. */
    snprintf(p, sizeof p, "%s/other.db", f->dir);
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(p, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(store_open(&c, false, &st, &err), -1);
    assert_string_equal(err.code, "store_needs_migration");
    /* A schema newer than the code is refused even with migrate. */
    assert_int_equal(sqlite3_open(p, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(store_open(&c, true, &st, &err), -1);
    assert_string_equal(err.code, "store_too_new");
}

/* ---- accounts ---- */

static void test_account_insert_get_update_list(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_account a, *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_account_get(f->st, f->a, &a, &err), 0);
    assert_true(a.allow_duplicates);
    assert_false(a.skip_approval);
    assert_int_equal(a.reissue_revoke_delay_hours, 72);
    a.skip_approval = true;
    a.allow_duplicates = false;
    a.renewal_window_days = 60;
    assert_int_equal(store_account_update(f->st, &a, &err), 0);
    assert_int_equal(store_account_get(f->st, f->a, &a, &err), 0);
    assert_true(a.skip_approval);
    assert_false(a.allow_duplicates);
    assert_int_equal(a.renewal_window_days, 60);
    a.id = 9999;
    assert_int_equal(store_account_update(f->st, &a, &err), -1);
    assert_string_equal(err.code, "account_not_found");
    assert_int_equal(store_account_get(f->st, 9999, &a, &err), -1);
    assert_string_equal(err.code, "account_not_found");

    mk_account(f->st, "Zulu");
    mk_account(f->st, "Alpha");
    cm_list_opts o = opts(0, 2, NULL, false);
    assert_int_equal(store_account_list(f->st, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 4);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, f->a);
    assert_int_equal(list[1].id, f->b);
    free(list);
    o = opts(2, 2, NULL, false);
    assert_int_equal(store_account_list(f->st, &o, &list, &n, &total, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "Zulu");
    free(list);
    o = opts(0, 10, "name", true);
    assert_int_equal(store_account_list(f->st, &o, &list, &n, &total, &err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(list[0].name, "Zulu");
    assert_string_equal(list[3].name, "Account A");
    free(list);
    o = opts(0, 10, "name", false);
    add_filter(&o, "name", "Alpha");
    assert_int_equal(store_account_list(f->st, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, "Alpha");
    free(list);
    /* Past the end: an empty page, the total still counted. */
    o = opts(100, 10, NULL, false);
    assert_int_equal(store_account_list(f->st, &o, &list, &n, &total, &err), 0);
    assert_int_equal(n, 0);
    assert_null(list);
    assert_int_equal(total, 4);
}

/* ---- users ---- */

static void test_user_insert_get_list_and_scoping(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_user u, *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_user_get(f->st, f->a, f->ua, &u, &err), 0);
    assert_string_equal(u.email, "alice@example.com");
    assert_string_equal(u.role, "administrator");
    assert_string_equal(u.status, "active");
    assert_int_equal(u.account_id, f->a);
    /* Another account's user is simply not found. */
    assert_int_equal(store_user_get(f->st, f->a, f->ub, &u, &err), -1);
    assert_string_equal(err.code, "user_not_found");
    assert_int_equal(store_user_get_by_email(f->st, f->a, "carol@example.net", &u, &err), -1);
    assert_string_equal(err.code, "user_not_found");
    assert_int_equal(store_user_get_by_email(f->st, f->b, "Carol@Example.NET", &u, &err), 0);
    assert_int_equal(u.id, f->ub);

    mk_user(f->st, f->a, "dave@example.com", "manager", "Brown");
    cm_list_opts o = opts(0, 10, "email", true);
    assert_int_equal(store_user_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 3);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].email, "dave@example.com");
    assert_string_equal(list[2].email, "alice@example.com");
    free(list);
    o = opts(0, 10, "last_name", false);
    assert_int_equal(store_user_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_string_equal(list[0].last_name, "Adams");
    assert_string_equal(list[2].last_name, "Zed");
    free(list);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "role", "limited_user");
    assert_int_equal(store_user_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, f->ua2);
    free(list);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "status", "active");
    add_filter(&o, "email", "bob@example.com");
    assert_int_equal(store_user_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, f->ua2);
    free(list);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "status", "disabled");
    assert_int_equal(store_user_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    free(list);
}

static void test_user_email_unique_per_account_and_role_checked(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_user u = {0};
    u.account_id = f->a;
    str_copy(u.email, sizeof u.email, "ALICE@example.com");
    str_copy(u.role, sizeof u.role, "manager");
    assert_int_equal(store_user_insert(f->st, &u, &err), -1);
    assert_string_equal(err.code, "conflict");
    /* The same address in another account is another user. */
    u.account_id = f->b;
    assert_int_equal(store_user_insert(f->st, &u, &err), 0);
    /* Roles are an enumeration. */
    u.account_id = f->a;
    str_copy(u.email, sizeof u.email, "eve@example.com");
    str_copy(u.role, sizeof u.role, "superuser");
    assert_int_equal(store_user_insert(f->st, &u, &err), -1);
    assert_string_equal(err.code, "field_invalid");
}

/* ---- API keys ---- */

static void test_apikey_insert_lookup_revoke_list(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_apikey k = {0}, got, *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    k.account_id = f->a;
    k.user_id = f->ua;
    str_copy(k.name, sizeof k.name, "ci");
    str_copy(k.prefix, sizeof k.prefix, "cmk_aaaa");
    memset(k.hash, 0xab, 32);
    k.created_at = T0;
    assert_int_equal(store_apikey_insert(f->st, &k, &err), 0);
    cm_apikey op = {0};
    op.operator = true;
    str_copy(op.prefix, sizeof op.prefix, "cmo_bbbb");
    memset(op.hash, 0xcd, 32);
    assert_int_equal(store_apikey_insert(f->st, &op, &err), 0);
    cm_apikey dup = k;
    assert_int_equal(store_apikey_insert(f->st, &dup, &err), -1);
    assert_string_equal(err.code, "conflict");
    /* A key cannot name a user of another account. */
    cm_apikey cross = k;
    str_copy(cross.prefix, sizeof cross.prefix, "cmk_cccc");
    cross.user_id = f->ub;
    assert_int_equal(store_apikey_insert(f->st, &cross, &err), -1);
    assert_string_equal(err.code, "field_invalid");

    assert_int_equal(store_apikey_by_prefix(f->st, "cmk_aaaa", &got, &err), 0);
    assert_int_equal(got.id, k.id);
    assert_memory_equal(got.hash, k.hash, 32);
    assert_int_equal(got.user_id, f->ua);
    assert_int_equal(store_apikey_by_prefix(f->st, "cmo_bbbb", &got, &err), 0);
    assert_true(got.operator);
    assert_int_equal(got.account_id, 0);
    assert_int_equal(store_apikey_by_prefix(f->st, "nope", &got, &err), -1);
    assert_string_equal(err.code, "apikey_not_found");
    assert_int_equal(store_apikey_get(f->st, f->b, k.id, &got, &err), -1);
    assert_string_equal(err.code, "apikey_not_found");
    assert_int_equal(store_apikey_revoke(f->st, f->b, k.id, T0 + 5, &err), -1);
    assert_string_equal(err.code, "apikey_not_found");
    assert_int_equal(store_apikey_revoke(f->st, f->a, k.id, T0 + 5, &err), 0);
    assert_int_equal(store_apikey_get(f->st, f->a, k.id, &got, &err), 0);
    assert_int_equal(got.revoked_at, T0 + 5);
    assert_int_equal(store_apikey_revoke(f->st, f->a, k.id, T0 + 6, &err), -1);

    cm_apikey k2 = k;
    str_copy(k2.prefix, sizeof k2.prefix, "cmk_dddd");
    k2.user_id = f->ua2;
    str_copy(k2.name, sizeof k2.name, "another");
    assert_int_equal(store_apikey_insert(f->st, &k2, &err), 0);
    cm_list_opts o = opts(0, 10, "name", false);
    assert_int_equal(store_apikey_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 2); /* the operator key belongs to no account */
    assert_string_equal(list[0].name, "another");
    free(list);
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)f->ua2);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "user_id", uid);
    assert_int_equal(store_apikey_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, k2.id);
    free(list);
}

/* ---- organisations and contacts ---- */

static void test_org_validations_contacts_and_list(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_org_row r, *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    int64_t o1 = mk_org(f->st, f->a, "Widgets Ltd", "GB");
    int64_t o2 = mk_org(f->st, f->a, "Acme Inc", "US");
    int64_t ob = mk_org(f->st, f->b, "Other Co", "US");
    assert_int_equal(store_org_get(f->st, f->a, o1, &r, &err), 0);
    assert_string_equal(r.org.name, "Widgets Ltd");
    assert_string_equal(r.org.city, "Springfield");
    assert_int_equal(r.ov_valid_until, 0);
    assert_int_equal(store_org_get(f->st, f->a, ob, &r, &err), -1);
    assert_string_equal(err.code, "org_not_found");

    assert_int_equal(store_org_validation_add(f->st, f->a, o1, "ov", T0, T0 + 1000, &err), 0);
    assert_int_equal(store_org_validation_add(f->st, f->a, o1, "ev", T0 + 1, T0 + 500, &err), 0);
    /* The newest OV record wins, even a shorter one. */
    assert_int_equal(store_org_validation_add(f->st, f->a, o1, "ov", T0 + 10, T0 + 800, &err), 0);
    assert_int_equal(store_org_validation_add(f->st, f->a, ob, "ov", T0, T0 + 5, &err), -1);
    assert_string_equal(err.code, "org_not_found");
    assert_int_equal(store_org_validation_add(f->st, f->a, o1, "dv", T0, T0 + 5, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    assert_int_equal(store_org_get(f->st, f->a, o1, &r, &err), 0);
    assert_int_equal(r.ov_valid_until, T0 + 800);
    assert_int_equal(r.ov_validated_at, T0 + 10);
    assert_int_equal(r.ev_valid_until, T0 + 500);
    assert_int_equal(r.ev_validated_at, T0 + 1);

    cm_list_opts o = opts(0, 10, "name", false);
    assert_int_equal(store_org_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 2);
    assert_int_equal(list[0].id, o2);
    assert_int_equal(list[1].id, o1);
    assert_int_equal(list[1].ov_valid_until, T0 + 800);
    free(list);
    o = opts(0, 10, NULL, true);
    add_filter(&o, "country", "US");
    assert_int_equal(store_org_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, o2);
    free(list);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "name", "Other Co");
    assert_int_equal(store_org_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    free(list);

    cm_contact c = {.org_id = o1, .user_id = f->ua, .ev_approver = false, .created_at = T0};
    cm_contact got, *cl = NULL;
    assert_int_equal(store_contact_get(f->st, f->a, o1, f->ua, &got, &err), -1);
    assert_string_equal(err.code, "contact_not_found");
    assert_int_equal(store_contact_put(f->st, f->a, &c, &err), 0);
    c.ev_approver = true;
    assert_int_equal(store_contact_put(f->st, f->a, &c, &err), 0); /* replaces */
    assert_int_equal(store_contact_get(f->st, f->a, o1, f->ua, &got, &err), 0);
    assert_true(got.ev_approver);
    c.user_id = f->ua2;
    c.ev_approver = false;
    assert_int_equal(store_contact_put(f->st, f->a, &c, &err), 0);
    assert_int_equal(store_contact_list(f->st, f->a, o1, &cl, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cl[0].user_id, f->ua);
    assert_true(cl[0].ev_approver);
    assert_false(cl[1].ev_approver);
    free(cl);
    /* Another account sees no contacts, and cannot make one with its user or organisation. */
    assert_int_equal(store_contact_list(f->st, f->b, o1, &cl, &n, &err), 0);
    assert_int_equal(n, 0);
    free(cl);
    assert_int_equal(store_contact_get(f->st, f->b, o1, f->ua, &got, &err), -1);
    assert_string_equal(err.code, "contact_not_found");
    c.user_id = f->ub;
    assert_int_equal(store_contact_put(f->st, f->a, &c, &err), -1);
    assert_string_equal(err.code, "user_not_found");
    c.org_id = ob;
    c.user_id = f->ua;
    assert_int_equal(store_contact_put(f->st, f->a, &c, &err), -1);
    assert_string_equal(err.code, "org_not_found");
}

/* ---- domains ---- */

static void test_domain_insert_dcv_list_and_unique_name(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_domain d = {0}, got, *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    int64_t org = mk_org(f->st, f->a, "Widgets Ltd", "GB");
    d.account_id = f->a;
    str_copy(d.name, sizeof d.name, "example.com");
    d.org_id = org;
    d.created_at = T0;
    assert_int_equal(store_domain_insert(f->st, &d, &err), 0);
    cm_domain d2 = d;
    str_copy(d2.name, sizeof d2.name, "example.org");
    d2.org_id = 0;
    assert_int_equal(store_domain_insert(f->st, &d2, &err), 0);
    cm_domain dup = d;
    assert_int_equal(store_domain_insert(f->st, &dup, &err), -1);
    assert_string_equal(err.code, "conflict");
    dup.account_id = f->b;
    dup.org_id = 0;
    assert_int_equal(store_domain_insert(f->st, &dup, &err), 0); /* other account: fine */
    /* A domain cannot point at another account's organisation. */
    cm_domain cross = d;
    str_copy(cross.name, sizeof cross.name, "example.net");
    cross.account_id = f->b;
    assert_int_equal(store_domain_insert(f->st, &cross, &err), -1);
    assert_string_equal(err.code, "field_invalid");

    d.dcv_value_expires = T0 + 30 * 86400;
    str_copy(d.dcv_method, sizeof d.dcv_method, "dns-txt-token");
    str_copy(d.dcv_value, sizeof d.dcv_value, "0123456789abcdef");
    d.validated_at = T0 + 100;
    d.valid_until = T0 + 100 + 199 * 86400;
    assert_int_equal(store_domain_update_dcv(f->st, &d, &err), 0);
    assert_int_equal(store_domain_get_by_name(f->st, f->a, "example.com", &got, &err), 0);
    assert_int_equal(got.id, d.id);
    assert_string_equal(got.dcv_method, "dns-txt-token");
    assert_string_equal(got.dcv_value, "0123456789abcdef");
    assert_int_equal(got.valid_until, d.valid_until);
    assert_int_equal(got.org_id, org);
    str_copy(d.dcv_method, sizeof d.dcv_method, "carrier-pigeon");
    assert_int_equal(store_domain_update_dcv(f->st, &d, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    cm_domain other = dup;
    other.account_id = f->a; /* B's domain id through account A */
    str_copy(other.dcv_method, sizeof other.dcv_method, "email");
    assert_int_equal(store_domain_update_dcv(f->st, &other, &err), -1);
    assert_string_equal(err.code, "domain_not_found");
    assert_int_equal(store_domain_get(f->st, f->a, dup.id, &got, &err), -1);
    assert_string_equal(err.code, "domain_not_found");
    assert_int_equal(store_domain_get_by_name(f->st, f->a, "example.net", &got, &err), -1);
    assert_string_equal(err.code, "domain_not_found");

    cm_list_opts o = opts(0, 10, "valid_until", true);
    assert_int_equal(store_domain_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 2);
    assert_int_equal(list[0].id, d.id);
    free(list);
    o = opts(0, 10, "name", true);
    assert_int_equal(store_domain_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_string_equal(list[0].name, "example.org");
    free(list);
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)org);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "org_id", oid);
    assert_int_equal(store_domain_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, d.id);
    free(list);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "org_id", "0"); /* no organisation */
    assert_int_equal(store_domain_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, d2.id);
    free(list);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "name", "example.org");
    assert_int_equal(store_domain_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    free(list);
}

/* ---- orders ---- */

static void test_order_insert_get_update_rewrites_names(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_order o, got;
    int64_t org = mk_org(f->st, f->a, "Widgets Ltd", "GB");
    int64_t id = mk_order(f->st, f->a, f->ua, "example.com", "needs_approval", "ssl_plus");
    assert_int_equal(store_order_get(f->st, f->a, id, &got, &err), 0);
    assert_int_equal(got.n_names, 2);
    assert_string_equal(got.names[0].name, "example.com");
    assert_string_equal(got.names[1].name, "www.example.com");
    assert_string_equal(got.status, "needs_approval");
    assert_non_null(strstr(got.csr, "BEGIN CERTIFICATE REQUEST"));
    assert_int_equal(got.user_id, f->ua);
    assert_int_equal(got.org_id, 0);

    cm_order_name names[3];
    memset(names, 0, sizeof names);
    str_copy(names[0].name, sizeof names[0].name, "*.example.com");
    str_copy(names[1].name, sizeof names[1].name, "example.com");
    str_copy(names[1].dcv_status, sizeof names[1].dcv_status, "valid");
    names[1].validated_at = T0 + 3;
    str_copy(names[2].name, sizeof names[2].name, "mail.example.com");
    str_copy(names[2].dcv_status, sizeof names[2].dcv_status, "pending");
    o = got;
    cm_order_name *old = got.names;
    o.names = names;
    o.n_names = 3;
    str_copy(o.status, sizeof o.status, "issued");
    o.issued_at = T0 + 50;
    o.coverage_end = T0 + 50 + 365 * 86400;
    o.updated_at = T0 + 50;
    str_copy(o.note, sizeof o.note, "approved by alice");
    o.csr[0] = '\0';
    assert_int_equal(store_order_update(f->st, &o, &err), 0);
    free(old);
    assert_int_equal(store_order_get(f->st, f->a, id, &got, &err), 0);
    assert_int_equal(got.n_names, 3);
    assert_string_equal(got.names[0].name, "*.example.com");
    assert_string_equal(got.names[1].dcv_status, "valid");
    assert_int_equal(got.names[1].validated_at, T0 + 3);
    assert_string_equal(got.names[2].name, "mail.example.com");
    assert_string_equal(got.status, "issued");
    assert_int_equal(got.issued_at, T0 + 50);
    assert_string_equal(got.note, "approved by alice");
    assert_string_equal(got.csr, "");
    store_order_clear(&got);
    assert_null(got.names);

    /* Renewal links, an organisation, and the order's status checked against the list. */
    cm_order r;
    order_init(&r, f->a, f->ua, "example.com", "needs_approval", "ssl_plus");
    r.org_id = org;
    r.renewal_of_order_id = id;
    assert_int_equal(store_order_insert(f->st, &r, &err), 0);
    assert_int_equal(store_order_get(f->st, f->a, r.id, &got, &err), 0);
    assert_int_equal(got.renewal_of_order_id, id);
    assert_int_equal(got.org_id, org);
    assert_int_equal(got.n_names, 0);
    store_order_clear(&got);
    str_copy(r.status, sizeof r.status, "bogus");
    assert_int_equal(store_order_update(f->st, &r, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    /* Scoping: B cannot read or write A's order, nor link to it. */
    assert_int_equal(store_order_get(f->st, f->b, id, &got, &err), -1);
    assert_string_equal(err.code, "order_not_found");
    o.account_id = f->b;
    o.n_names = 0;
    assert_int_equal(store_order_update(f->st, &o, &err), -1);
    assert_string_equal(err.code, "order_not_found");
    cm_order x;
    order_init(&x, f->b, f->ub, "example.net", "pending", "ssl_plus");
    x.renewal_of_order_id = id;
    assert_int_equal(store_order_insert(f->st, &x, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    order_init(&x, f->b, f->ua, "example.net", "pending", "ssl_plus"); /* A's user in B */
    assert_int_equal(store_order_insert(f->st, &x, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    /* The failed inserts left nothing behind. */
    cm_order *list = NULL;
    size_t n = 0;
    int64_t total = -1;
    cm_list_opts lo = opts(0, 10, NULL, false);
    assert_int_equal(store_order_list(f->st, f->b, 0, &lo, &list, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    store_order_free_list(list, n);
}

static void test_order_list_paging_sort_filters_and_user_scope(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_order *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    int64_t org = mk_org(f->st, f->a, "Widgets Ltd", "GB");
    static const char *statuses[] = {"issued", "pending", "issued", "needs_approval", "issued"};
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char cn[64];
        snprintf(cn, sizeof cn, "host%d.example.com", 4 - i);
        ids[i] = mk_order(f->st, f->a, i < 3 ? f->ua : f->ua2, cn, statuses[i],
                          i % 2 ? "ssl_wildcard" : "ssl_plus");
    }
    cm_order ov;
    order_init(&ov, f->a, f->ua, "org.example.com", "issued", "ssl_basic");
    ov.org_id = org;
    assert_int_equal(store_order_insert(f->st, &ov, &err), 0);
    mk_order(f->st, f->b, f->ub, "b.example.net", "issued", "ssl_plus");

    cm_list_opts o = opts(0, 2, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 6);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, ids[0]);
    assert_int_equal(list[1].id, ids[1]);
    assert_null(list[0].names);
    assert_int_equal(list[0].n_names, 0);
    assert_string_equal(list[0].csr, "");
    assert_string_equal(list[0].product, "ssl_plus");
    store_order_free_list(list, n);
    o = opts(4, 2, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, ids[4]);
    assert_int_equal(list[1].id, ov.id);
    store_order_free_list(list, n);
    o = opts(0, 10, NULL, true);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(list[0].id, ov.id);
    assert_int_equal(list[5].id, ids[0]);
    store_order_free_list(list, n);
    o = opts(0, 10, "common_name", false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_string_equal(list[0].common_name, "host0.example.com");
    assert_string_equal(list[5].common_name, "org.example.com");
    store_order_free_list(list, n);
    o = opts(0, 10, "status", true); /* ties broken by id, in the same direction */
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_string_equal(list[0].status, "pending");
    assert_string_equal(list[1].status, "needs_approval");
    assert_int_equal(list[2].id, ov.id);
    assert_int_equal(list[3].id, ids[4]);
    store_order_free_list(list, n);
    for (size_t s = 0; s < 3; s++) {
        static const char *sorts[] = {"created_at", "product", "issued_at"};
        o = opts(0, 10, sorts[s], false);
        assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
        assert_int_equal(n, 6);
        store_order_free_list(list, n);
    }
    o = opts(0, 10, NULL, false);
    add_filter(&o, "status", "issued");
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 4);
    store_order_free_list(list, n);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "status", "issued");
    add_filter(&o, "product", "ssl_plus");
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 3);
    assert_int_equal(list[0].id, ids[0]);
    assert_int_equal(list[1].id, ids[2]);
    assert_int_equal(list[2].id, ids[4]);
    store_order_free_list(list, n);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "common_name", "host3.example.com");
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, ids[1]);
    store_order_free_list(list, n);
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)org);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "org_id", oid);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, ov.id);
    store_order_free_list(list, n);
    /* A limited user sees only their own orders. */
    o = opts(0, 10, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, f->ua2, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 2);
    assert_int_equal(list[0].id, ids[3]);
    assert_int_equal(list[1].id, ids[4]);
    store_order_free_list(list, n);
    /* B sees only its own. */
    o = opts(0, 10, NULL, false);
    assert_int_equal(store_order_list(f->st, f->b, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    store_order_free_list(list, n);
}

/* ---- requests ---- */

static void test_request_insert_get_update_list(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_request r = {0}, got, *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    int64_t o1 = mk_order(f->st, f->a, f->ua, "example.com", "needs_approval", "ssl_plus");
    int64_t o2 = mk_order(f->st, f->a, f->ua2, "example.org", "issued", "ssl_plus");
    r.account_id = f->a;
    r.order_id = o1;
    str_copy(r.type, sizeof r.type, "new_request");
    r.requester_id = f->ua;
    str_copy(r.comments, sizeof r.comments, "please");
    r.created_at = T0;
    assert_int_equal(store_request_insert(f->st, &r, &err), 0);
    cm_request r2 = r;
    r2.order_id = o2;
    r2.requester_id = f->ua2;
    str_copy(r2.type, sizeof r2.type, "revoke");
    r2.revocation_reason = 1;
    assert_int_equal(store_request_insert(f->st, &r2, &err), 0);
    assert_int_equal(store_request_get(f->st, f->a, r.id, &got, &err), 0);
    assert_string_equal(got.status, "pending");
    assert_string_equal(got.comments, "please");
    assert_int_equal(got.order_id, o1);
    assert_int_equal(store_request_get(f->st, f->b, r.id, &got, &err), -1);
    assert_string_equal(err.code, "request_not_found");
    got.processor_id = f->ua;
    str_copy(got.status, sizeof got.status, "approved");
    str_copy(got.processor_comment, sizeof got.processor_comment, "ok");
    got.processed_at = T0 + 9;
    assert_int_equal(store_request_update(f->st, &got, &err), 0);
    assert_int_equal(store_request_get(f->st, f->a, r.id, &got, &err), 0);
    assert_string_equal(got.status, "approved");
    assert_int_equal(got.processor_id, f->ua);
    assert_int_equal(got.processed_at, T0 + 9);
    got.account_id = f->b;
    assert_int_equal(store_request_update(f->st, &got, &err), -1);
    assert_string_equal(err.code, "request_not_found");
    cm_request bad = r;
    str_copy(bad.type, sizeof bad.type, "bribe");
    assert_int_equal(store_request_insert(f->st, &bad, &err), -1);
    assert_string_equal(err.code, "field_invalid");

    cm_list_opts o = opts(0, 10, "type", true);
    assert_int_equal(store_request_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 2);
    assert_string_equal(list[0].type, "revoke");
    free(list);
    o = opts(0, 10, "status", false);
    add_filter(&o, "status", "pending");
    assert_int_equal(store_request_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, r2.id);
    free(list);
    o = opts(0, 10, "created_at", false);
    add_filter(&o, "type", "new_request");
    assert_int_equal(store_request_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, r.id);
    free(list);
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)o2);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "order_id", oid);
    assert_int_equal(store_request_list(f->st, f->a, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, r2.id);
    free(list);
    o = opts(0, 10, NULL, false);
    assert_int_equal(store_request_list(f->st, f->a, f->ua, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].id, r.id);
    free(list);
    assert_int_equal(store_request_list(f->st, f->b, 0, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    free(list);
}

/* ---- certificates and CRLs ---- */

static void test_cert_insert_get_serial_unique_and_history(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_cert_row got, *list = NULL;
    size_t n = 0;
    int64_t o1 = mk_order(f->st, f->a, f->ua, "example.com", "issued", "ssl_plus");
    int64_t c1 = mk_cert(f->st, f->a, o1, "public-ecdsa", "0a01", 1, "issued");
    int64_t c2 = mk_cert(f->st, f->a, o1, "public-ecdsa", "0a02", 2, "issued");
    /* The same serial from another CA is another certificate. */
    int64_t c3 = mk_cert(f->st, f->a, o1, "public-rsa", "0a01", 3, "issued");
    cm_cert_row dup;
    cert_init(&dup, f->a, o1, "public-ecdsa", "0a01", 4, "issued");
    assert_int_equal(store_cert_insert(f->st, &dup, &err), -1);
    assert_string_equal(err.code, "conflict");
    cert_init(&dup, f->a, o1, "public-ecdsa", "0a09", 4, "lost");
    assert_int_equal(store_cert_insert(f->st, &dup, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    cert_init(&dup, f->b, o1, "public-ecdsa", "0a0a", 4, "issued"); /* A's order under B */
    assert_int_equal(store_cert_insert(f->st, &dup, &err), -1);
    assert_string_equal(err.code, "field_invalid");

    assert_int_equal(store_cert_get(f->st, f->a, c2, &got, &err), 0);
    assert_string_equal(got.serial, "0a02");
    assert_string_equal(got.names, "example.com,www.example.com");
    assert_int_equal(got.der_len, 5);
    assert_int_equal(got.der[0], 0x30);
    assert_int_equal(got.spki_sha256[31], 2);
    store_cert_clear(&got);
    assert_null(got.der);
    assert_int_equal(store_cert_get(f->st, f->b, c2, &got, &err), -1);
    assert_string_equal(err.code, "certificate_not_found");
    assert_int_equal(store_cert_by_serial(f->st, "public-rsa", "0a01", &got, &err), 0);
    assert_int_equal(got.id, c3);
    assert_null(got.der);
    assert_int_equal(store_cert_by_serial(f->st, "public-rsa", "0a02", &got, &err), -1);
    assert_string_equal(err.code, "certificate_not_found");

    assert_int_equal(store_cert_list_by_order(f->st, f->a, o1, &list, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, c3); /* newest first */
    assert_int_equal(list[2].id, c1);
    assert_null(list[0].der);
    free(list);
    assert_int_equal(store_cert_list_by_order(f->st, f->b, o1, &list, &n, &err), 0);
    assert_int_equal(n, 0);
    free(list);

    assert_int_equal(store_cert_by_serial(f->st, "public-ecdsa", "0a01", &got, &err), 0);
    str_copy(got.status, sizeof got.status, "revocation_pending");
    got.revoke_after = T0 + 72 * 3600;
    assert_int_equal(store_cert_update_status(f->st, &got, &err), 0);
    got.id = c2;
    str_copy(got.status, sizeof got.status, "revoked");
    got.revoked_at = T0 + 10;
    got.revocation_reason = 1;
    got.revoke_after = 0;
    assert_int_equal(store_cert_update_status(f->st, &got, &err), 0);
    got.account_id = f->b;
    assert_int_equal(store_cert_update_status(f->st, &got, &err), -1);
    assert_string_equal(err.code, "certificate_not_found");
    assert_int_equal(store_cert_get(f->st, f->a, c1, &got, &err), 0);
    assert_string_equal(got.status, "revocation_pending");
    assert_int_equal(got.revoke_after, T0 + 72 * 3600);
    store_cert_clear(&got);
    assert_int_equal(store_cert_list_revoked(f->st, "public-ecdsa", &list, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].serial, "0a02");
    assert_int_equal(list[0].revoked_at, T0 + 10);
    assert_int_equal(list[0].revocation_reason, 1);
    free(list);
    assert_int_equal(store_cert_list_revoked(f->st, "public-rsa", &list, &n, &err), 0);
    assert_int_equal(n, 0);
    free(list);
}

static void test_spki_used_on_order_or_revoked_in_account(void **state)
{
    fx *f = *state;
    cm_err err;
    bool found = true;
    unsigned char k1[32], k2[32], k3[32];
    memset(k1, 1, 32);
    memset(k2, 2, 32);
    memset(k3, 3, 32);
    int64_t o1 = mk_order(f->st, f->a, f->ua, "example.com", "issued", "ssl_plus");
    int64_t o2 = mk_order(f->st, f->a, f->ua, "example.org", "issued", "ssl_plus");
    int64_t ob = mk_order(f->st, f->b, f->ub, "example.net", "issued", "ssl_plus");
    mk_cert(f->st, f->a, o1, "public-ecdsa", "01", 1, "issued");
    mk_cert(f->st, f->a, o2, "public-ecdsa", "02", 2, "revoked");
    mk_cert(f->st, f->b, ob, "public-ecdsa", "03", 3, "revoked");
    /* On the order itself: used. */
    assert_int_equal(store_cert_spki_used(f->st, f->a, o1, k1, &found, &err), 0);
    assert_true(found);
    /* Certified on another order of the account but not revoked: free to use. */
    assert_int_equal(store_cert_spki_used(f->st, f->a, o2, k1, &found, &err), 0);
    assert_false(found);
    /* Revoked anywhere in the account: used, from any order. */
    assert_int_equal(store_cert_spki_used(f->st, f->a, o1, k2, &found, &err), 0);
    assert_true(found);
    /* Revoked in another account: not this account's business. */
    assert_int_equal(store_cert_spki_used(f->st, f->a, o1, k3, &found, &err), 0);
    assert_false(found);
    assert_int_equal(store_cert_spki_used(f->st, f->b, ob, k3, &found, &err), 0);
    assert_true(found);
}

static void test_crl_get_put_and_dirty(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_crl_row c, got;
    unsigned char der[] = {0x30, 0x01, 0x00};
    assert_int_equal(store_crl_get(f->st, "public-ecdsa", &got, &err), -1);
    assert_string_equal(err.code, "crl_not_found");
    assert_int_equal(store_crl_mark_dirty(f->st, "public-ecdsa", &err), 0);
    assert_int_equal(store_crl_get(f->st, "public-ecdsa", &got, &err), -1);
    assert_string_equal(err.code, "crl_not_found");
    memset(&c, 0, sizeof c);
    str_copy(c.ca_id, sizeof c.ca_id, "public-ecdsa");
    c.number = 7;
    c.this_update = T0;
    c.next_update = T0 + 86400;
    c.der = der;
    c.der_len = sizeof der;
    assert_int_equal(store_crl_put(f->st, &c, &err), 0);
    assert_int_equal(store_crl_get(f->st, "public-ecdsa", &got, &err), 0);
    assert_int_equal(got.number, 7);
    assert_false(got.dirty);
    assert_int_equal(got.der_len, 3);
    assert_memory_equal(got.der, der, 3);
    assert_int_equal(got.next_update, T0 + 86400);
    free(got.der);
    assert_int_equal(store_crl_mark_dirty(f->st, "public-ecdsa", &err), 0);
    assert_int_equal(store_crl_get(f->st, "public-ecdsa", &got, &err), 0);
    assert_true(got.dirty);
    assert_int_equal(got.number, 7);
    free(got.der);
    c.number = 8;
    assert_int_equal(store_crl_put(f->st, &c, &err), 0);
    assert_int_equal(store_crl_get(f->st, "public-ecdsa", &got, &err), 0);
    assert_false(got.dirty);
    assert_int_equal(got.number, 8);
    free(got.der);
}

/* ---- jobs and mail ---- */

static int64_t enqueue(cm_store *st, const char *kind, const char *key, int64_t run_at, int max)
{
    cm_job j;
    cm_err err;
    memset(&j, 0, sizeof j);
    str_copy(j.kind, sizeof j.kind, kind);
    str_copy(j.payload, sizeof j.payload, "{\"x\":1}");
    str_copy(j.unique_key, sizeof j.unique_key, key);
    j.run_at = run_at;
    j.max_attempts = max;
    assert_int_equal(store_job_enqueue(st, &j, &err), 0);
    return j.id;
}

static void test_job_lease_retry_done_and_fail(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_job j;
    bool got = true;
    int64_t q, r, fl;
    int64_t a = enqueue(f->st, "mail", "", T0 + 10, 2);
    int64_t b = enqueue(f->st, "crl_refresh", "", T0 + 5, 3);
    assert_int_equal(store_job_lease(f->st, T0, 60, &j, &got, &err), 0);
    assert_false(got); /* nothing due yet */
    assert_int_equal(store_job_lease(f->st, T0 + 10, 60, &j, &got, &err), 0);
    assert_true(got);
    assert_int_equal(j.id, b); /* the oldest due first */
    assert_string_equal(j.status, "running");
    assert_int_equal(j.attempts, 1);
    assert_int_equal(j.lease_until, T0 + 70);
    assert_string_equal(j.payload, "{\"x\":1}");
    assert_int_equal(store_job_lease(f->st, T0 + 10, 60, &j, &got, &err), 0);
    assert_true(got);
    assert_int_equal(j.id, a);
    assert_int_equal(store_job_lease(f->st, T0 + 10, 60, &j, &got, &err), 0);
    assert_false(got); /* both leased */
    assert_int_equal(store_job_counts(f->st, &q, &r, &fl, &err), 0);
    assert_int_equal(q, 0);
    assert_int_equal(r, 2);
    assert_int_equal(store_job_done(f->st, b, &err), 0);
    /* a fails once: re-queued at retry_at with the error kept. */
    assert_int_equal(store_job_retry(f->st, a, "smtp: connection refused", T0 + 100, &err), 0);
    assert_int_equal(store_job_lease(f->st, T0 + 99, 60, &j, &got, &err), 0);
    assert_false(got);
    assert_int_equal(store_job_lease(f->st, T0 + 100, 60, &j, &got, &err), 0);
    assert_true(got);
    assert_int_equal(j.id, a);
    assert_int_equal(j.attempts, 2);
    assert_string_equal(j.last_error, "smtp: connection refused");
    /* Second failure reaches max_attempts = 2: failed for good. */
    assert_int_equal(store_job_retry(f->st, a, "smtp: still refused", T0 + 200, &err), 0);
    assert_int_equal(store_job_lease(f->st, T0 + 10000, 60, &j, &got, &err), 0);
    assert_false(got);
    assert_int_equal(store_job_counts(f->st, &q, &r, &fl, &err), 0);
    assert_int_equal(q, 0);
    assert_int_equal(r, 0);
    assert_int_equal(fl, 1);
    assert_int_equal(store_job_done(f->st, 424242, &err), -1);
    assert_string_equal(err.code, "job_not_found");
    assert_int_equal(store_job_retry(f->st, 424242, "x", T0, &err), -1);
    assert_string_equal(err.code, "job_not_found");
    /* An over-long error is cut, not refused. */
    char longerr[2000];
    memset(longerr, 'e', sizeof longerr - 1);
    longerr[sizeof longerr - 1] = '\0';
    int64_t c = enqueue(f->st, "mail", "", T0, 5);
    assert_int_equal(store_job_lease(f->st, T0, 60, &j, &got, &err), 0);
    assert_int_equal(j.id, c);
    assert_int_equal(store_job_retry(f->st, c, longerr, T0, &err), 0);
    assert_int_equal(store_job_lease(f->st, T0, 60, &j, &got, &err), 0);
    assert_int_equal(strlen(j.last_error), sizeof j.last_error - 1);
}

static void test_job_expired_lease_is_taken_again_then_fails(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_job j;
    bool got = false;
    int64_t q, r, fl;
    int64_t a = enqueue(f->st, "dcv_recheck", "", T0, 2);
    assert_int_equal(store_job_lease(f->st, T0, 30, &j, &got, &err), 0);
    assert_true(got);
    /* The worker dies; within the lease nobody else gets it, after it someone does. */
    assert_int_equal(store_job_lease(f->st, T0 + 29, 30, &j, &got, &err), 0);
    assert_false(got);
    assert_int_equal(store_job_lease(f->st, T0 + 30, 30, &j, &got, &err), 0);
    assert_true(got);
    assert_int_equal(j.id, a);
    assert_int_equal(j.attempts, 2);
    /* It dies again on its last attempt: failed, not leased a third time. */
    assert_int_equal(store_job_lease(f->st, T0 + 100, 30, &j, &got, &err), 0);
    assert_false(got);
    assert_int_equal(store_job_counts(f->st, &q, &r, &fl, &err), 0);
    assert_int_equal(fl, 1);
    assert_int_equal(r, 0);
}

static void test_job_unique_key_enqueue_is_noop_while_live(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_job j;
    bool got = false;
    int64_t q;
    int64_t a = enqueue(f->st, "crl_refresh", "crl:public-ecdsa", T0, 5);
    int64_t b = enqueue(f->st, "crl_refresh", "crl:public-ecdsa", T0 + 50, 5);
    assert_int_equal(a, b);
    int64_t other = enqueue(f->st, "crl_refresh", "crl:public-rsa", T0, 5);
    assert_true(other != a);
    assert_int_equal(store_job_counts(f->st, &q, NULL, NULL, &err), 0);
    assert_int_equal(q, 2);
    assert_int_equal(store_job_lease(f->st, T0, 60, &j, &got, &err), 0);
    assert_int_equal(j.id, a);
    /* Still a no-op while running. */
    assert_int_equal(enqueue(f->st, "crl_refresh", "crl:public-ecdsa", T0, 5), a);
    assert_int_equal(store_job_done(f->st, a, &err), 0);
    /* Once done, the key is free again. */
    int64_t c = enqueue(f->st, "crl_refresh", "crl:public-ecdsa", T0, 5);
    assert_true(c != a);
    /* Inside the caller's transaction, and rolled back with it. */
    assert_int_equal(store_begin(f->st, &err), 0);
    int64_t d = enqueue(f->st, "mail", "mail:1", T0, 5);
    assert_int_equal(enqueue(f->st, "mail", "mail:1", T0, 5), d);
    store_rollback(f->st);
    assert_int_equal(store_job_counts(f->st, &q, NULL, NULL, &err), 0);
    assert_int_equal(q, 2);
}

typedef struct lease_ctx {
    cm_config *cfg;
    int64_t ids[256];
    int n;
    int errors;
} lease_ctx;

static void *lease_worker(void *arg)
{
    lease_ctx *c = arg;
    cm_store *st = NULL;
    cm_err err;
    if (store_open(c->cfg, false, &st, &err) != 0) {
        c->errors++;
        return NULL;
    }
    for (;;) {
        cm_job j;
        bool got = false;
        if (store_job_lease(st, T0 + 1000, 300, &j, &got, &err) != 0) {
            c->errors++;
            break;
        }
        if (!got)
            break;
        if (c->n < 256)
            c->ids[c->n++] = j.id;
        if (store_job_done(st, j.id, &err) != 0)
            c->errors++;
    }
    store_close(st);
    return NULL;
}

static void test_jobs_four_threads_never_lease_the_same_job(void **state)
{
    fx *f = *state;
    cm_err err;
    enum { JOBS = 200, THREADS = 4 };
    assert_int_equal(store_begin(f->st, &err), 0);
    for (int i = 0; i < JOBS; i++)
        enqueue(f->st, "mail", "", T0 + i, 3);
    assert_int_equal(store_commit(f->st, &err), 0);
    static lease_ctx ctx[THREADS];
    pthread_t th[THREADS];
    memset(ctx, 0, sizeof ctx);
    for (int t = 0; t < THREADS; t++) {
        ctx[t].cfg = &f->cfg;
        assert_int_equal(pthread_create(&th[t], NULL, lease_worker, &ctx[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    static unsigned char seen[JOBS + 1];
    memset(seen, 0, sizeof seen);
    int total = 0;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(ctx[t].errors, 0);
        for (int i = 0; i < ctx[t].n; i++) {
            int64_t id = ctx[t].ids[i];
            assert_true(id >= 1 && id <= JOBS);
            assert_int_equal(seen[id], 0); /* never twice */
            seen[id] = 1;
            total++;
        }
    }
    assert_int_equal(total, JOBS);
    int64_t q = -1, r = -1, fl = -1;
    assert_int_equal(store_job_counts(f->st, &q, &r, &fl, &err), 0);
    assert_int_equal(q + r + fl, 0);
}

static void test_job_lease_reports_busy_past_the_timeout(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_store *other = NULL;
    cm_job j;
    bool got = true;
    enqueue(f->st, "mail", "", T0, 3);
    assert_int_equal(store_open(&f->cfg, false, &other, &err), 0);
    assert_int_equal(store_begin(other, &err), 0); /* holds the write lock */
    time_t start = time(NULL);
    assert_int_equal(store_job_lease(f->st, T0, 60, &j, &got, &err), -1);
    assert_string_equal(err.code, "store_busy");
    assert_false(got);
    assert_true(time(NULL) - start >= 4); /* it waited for the busy timeout first */
    store_rollback(other);
    assert_int_equal(store_job_lease(f->st, T0, 60, &j, &got, &err), 0);
    assert_true(got);
    store_close(other);
}

static void test_mail_insert_get_status(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_mail_row m, got;
    static char msg[] = "From: ca@example.com\r\nTo: a@example.com\r\n\r\nhello\r\n";
    memset(&m, 0, sizeof m);
    m.account_id = f->a;
    str_copy(m.to_addr, sizeof m.to_addr, "a@example.com");
    str_copy(m.subject, sizeof m.subject, "Your certificate");
    m.created_at = T0;
    m.message = (unsigned char *)msg;
    m.message_len = sizeof msg - 1;
    assert_int_equal(store_mail_insert(f->st, &m, &err), 0);
    assert_int_equal(store_mail_get(f->st, m.id, &got, &err), 0);
    assert_string_equal(got.status, "queued");
    assert_int_equal(got.message_len, sizeof msg - 1);
    assert_memory_equal(got.message, msg, sizeof msg - 1);
    assert_int_equal(got.account_id, f->a);
    free(got.message);
    assert_int_equal(store_mail_set_status(f->st, m.id, "sent", T0 + 3, &err), 0);
    assert_int_equal(store_mail_get(f->st, m.id, &got, &err), 0);
    assert_string_equal(got.status, "sent");
    assert_int_equal(got.sent_at, T0 + 3);
    free(got.message);
    assert_int_equal(store_mail_set_status(f->st, m.id, "lost", T0, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    assert_int_equal(store_mail_set_status(f->st, 999, "sent", T0, &err), -1);
    assert_string_equal(err.code, "mail_not_found");
    assert_int_equal(store_mail_get(f->st, 999, &got, &err), -1);
    assert_string_equal(err.code, "mail_not_found");
}

/* ---- audit ---- */

static void append_events(cm_store *st, int64_t a, int64_t b, int count)
{
    cm_err err;
    for (int i = 0; i < count; i++) {
        cm_audit e;
        memset(&e, 0, sizeof e);
        e.account_id = i % 3 == 2 ? b : a;
        e.at = T0 + i;
        e.user_id = 1;
        str_copy(e.action, sizeof e.action, i % 2 ? "order.approve" : "order.create");
        str_copy(e.object_type, sizeof e.object_type, "order");
        e.object_id = 100 + i;
        snprintf(e.detail, sizeof e.detail, "{\"n\":%d}", i);
        assert_int_equal(store_audit_append(st, &e, &err), 0);
        assert_int_equal(e.id, i + 1);
    }
}

static void raw_exec(const fx *f, const char *sql)
{
    char p[128];
    sqlite3 *raw = NULL;
    snprintf(p, sizeof p, "%s/certmint.db", f->dir);
    assert_int_equal(sqlite3_open(p, &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(raw, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "raw sql failed: %s\n", msg != NULL ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(raw);
    assert_int_equal(rc, SQLITE_OK);
}

static void test_audit_append_chain_verifies_and_lists(void **state)
{
    fx *f = *state;
    cm_err err;
    int64_t bad = -1, checked = -1;
    cm_audit *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(checked, 0);
    clock_set_fixed(T0 + 777);
    cm_audit first;
    memset(&first, 0, sizeof first);
    first.operator = true;
    str_copy(first.action, sizeof first.action, "account.create");
    assert_int_equal(store_audit_append(f->st, &first, &err), 0);
    assert_int_equal(first.at, T0 + 777); /* "now" when not given */
    static const unsigned char zero[32];
    assert_memory_equal(first.prev_hash, zero, 32);
    assert_memory_not_equal(first.hash, zero, 32);
    /* A second event links to the first. */
    cm_audit second;
    memset(&second, 0, sizeof second);
    second.account_id = f->a;
    str_copy(second.action, sizeof second.action, "user.create");
    assert_int_equal(store_audit_append(f->st, &second, &err), 0);
    assert_memory_equal(second.prev_hash, first.hash, 32);

    assert_int_equal(store_begin(f->st, &err), 0);
    for (int i = 0; i < 30; i++) {
        cm_audit e;
        memset(&e, 0, sizeof e);
        e.account_id = i % 3 == 2 ? f->b : f->a;
        e.at = T0 + i;
        str_copy(e.action, sizeof e.action, i % 2 ? "order.approve" : "order.create");
        str_copy(e.object_type, sizeof e.object_type, i < 10 ? "order" : "certificate");
        e.object_id = 100 + i;
        snprintf(e.detail, sizeof e.detail, "{\"n\":%d}", i);
        assert_int_equal(store_audit_append(f->st, &e, &err), 0);
    }
    assert_int_equal(store_commit(f->st, &err), 0);
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(checked, 32);

    cm_list_opts o = opts(0, 5, NULL, true);
    assert_int_equal(store_audit_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 21); /* 20 of the loop plus user.create */
    assert_int_equal(n, 5);
    assert_int_equal(list[0].id, 31); /* 32 is B's */
    assert_true(list[0].id > list[1].id);
    free(list);
    o = opts(0, 100, "action", false);
    add_filter(&o, "action", "order.approve");
    add_filter(&o, "object_type", "order");
    assert_int_equal(store_audit_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 4); /* i = 1, 3, 7, 9 (5 is B's) */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(list[i].account_id, f->a);
    free(list);
    o = opts(0, 10, "at", true);
    add_filter(&o, "object_id", "102");
    assert_int_equal(store_audit_list(f->st, f->b, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(list[0].detail, "{\"n\":2}");
    free(list);
    assert_int_equal(store_audit_list(f->st, f->a, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 0); /* B's event, seen from A */
    free(list);
}

static void test_audit_tampered_detail_is_reported(void **state)
{
    fx *f = *state;
    cm_err err;
    int64_t bad = -1, checked = 0;
    append_events(f->st, f->a, f->b, 12);
    /* The table refuses changes through SQL... */
    char p[128];
    sqlite3 *raw = NULL;
    snprintf(p, sizeof p, "%s/certmint.db", f->dir);
    assert_int_equal(sqlite3_open(p, &raw), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(raw, "UPDATE audit SET detail = 'x' WHERE id = 5", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(raw, "DELETE FROM audit WHERE id = 5", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(raw);
    /* ...but someone with the file can drop the guards; the chain still tells. */
    raw_exec(f, "DROP TRIGGER audit_no_update; "
                "UPDATE audit SET detail = '{\"n\":999}' WHERE id = 5");
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 5);
    assert_int_equal(checked, 12);
}

static void test_audit_tampered_prev_hash_is_reported(void **state)
{
    fx *f = *state;
    cm_err err;
    int64_t bad = -1, checked = 0;
    append_events(f->st, f->a, f->b, 8);
    raw_exec(f, "DROP TRIGGER audit_no_update; "
                "UPDATE audit SET prev_hash = zeroblob(32) WHERE id = 3");
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 3);
}

static void test_audit_rehashed_row_and_deleted_row_are_reported(void **state)
{
    fx *f = *state;
    cm_err err;
    int64_t bad = -1, checked = 0;
    append_events(f->st, f->a, f->b, 8);
    /* Changing a row and its own hash breaks the link from the next row. */
    raw_exec(f, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; "
                "UPDATE audit SET hash = zeroblob(32) WHERE id = 6");
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 6);
    raw_exec(f, "DELETE FROM audit WHERE id IN (6)");
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 7);
    assert_int_equal(checked, 7);
    /* A value that reads back the same through the struct (text "101x" in object_id reads as
     * 101) is still a change. */
    raw_exec(f, "DELETE FROM audit WHERE id > 5; UPDATE audit SET object_id = '101x' WHERE id = 2");
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(bad, 2);
}

/* ---- list options: whitelists and hostile values ---- */

static void test_unknown_sort_or_filter_or_limit_is_field_invalid(void **state)
{
    fx *f = *state;
    cm_err err;
    size_t n = 99;
    int64_t total = 99;
    cm_order *orders = NULL;
    cm_user *users = NULL;
    cm_audit *events = NULL;
    cm_list_opts o = opts(0, 10, "password_hash", false);
    assert_int_equal(store_user_list(f->st, f->a, &o, &users, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    assert_non_null(strstr(err.msg, "email")); /* says what is allowed */
    assert_null(users);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "password_hash", "x");
    assert_int_equal(store_user_list(f->st, f->a, &o, &users, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 10, NULL, false);
    add_filter(&o, "account_id", "2"); /* never a way out of the scope */
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 10, "detail", false);
    assert_int_equal(store_audit_list(f->st, f->a, &o, &events, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 0, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 1001, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(-1, 10, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 1000, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), 0);
    store_order_free_list(orders, n);
}

static void test_sql_metacharacters_find_nothing_and_break_nothing(void **state)
{
    fx *f = *state;
    cm_err err;
    size_t n = 0;
    int64_t total = 0;
    cm_order *orders = NULL;
    cm_user *users = NULL;
    static const char *evil = "x' OR 1=1 --";
    mk_order(f->st, f->a, f->ua, "example.com", "issued", "ssl_plus");
    cm_list_opts o = opts(0, 10, NULL, false);
    add_filter(&o, "status", evil);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    assert_int_equal(n, 0);
    store_order_free_list(orders, n);
    o = opts(0, 10, NULL, false);
    add_filter(&o, "email", "\"; DROP TABLE users; --");
    assert_int_equal(store_user_list(f->st, f->a, &o, &users, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    free(users);
    o = opts(0, 10, "id; DROP TABLE orders", false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 10, evil, true);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    o = opts(0, 10, NULL, false);
    add_filter(&o, "org_id", "1 OR 1=1");
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    cm_user u;
    assert_int_equal(store_user_get_by_email(f->st, f->a, evil, &u, &err), -1);
    assert_string_equal(err.code, "user_not_found");
    /* Everything is still there and still works. */
    o = opts(0, 10, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &o, &orders, &n, &total, &err), 0);
    assert_int_equal(total, 1);
    store_order_free_list(orders, n);
    assert_int_equal(store_user_list(f->st, f->a, &o, &users, &n, &total, &err), 0);
    assert_int_equal(total, 2);
    free(users);
    /* And such a value is stored and found as plain text. */
    int64_t id = mk_user(f->st, f->a, evil, "manager", "O'Brien");
    assert_int_equal(store_user_get_by_email(f->st, f->a, evil, &u, &err), 0);
    assert_int_equal(u.id, id);
    assert_string_equal(u.last_name, "O'Brien");
}

/* ---- lifecycle jobs ---- */

/* An issued auto-renew order of account `a` with one original certificate of `days` days from
 * T0. */
static int64_t auto_order(fx *f, const char *cn, int days, unsigned char spki)
{
    cm_order o;
    cm_err err;
    int64_t id = mk_order(f->st, f->a, f->ua, cn, "issued", "ssl_basic");
    memset(&o, 0, sizeof o);
    assert_int_equal(store_order_get(f->st, f->a, id, &o, &err), 0);
    o.auto_renew = true;
    assert_int_equal(store_order_update(f->st, &o, &err), 0);
    store_order_clear(&o);
    cm_cert_row c;
    char serial[41];
    snprintf(serial, sizeof serial, "5e%02x", spki);
    cert_init(&c, f->a, id, "public-ecdsa", serial, spki, "issued");
    c.not_after = T0 + (int64_t)days * 86400;
    assert_int_equal(store_cert_insert(f->st, &c, &err), 0);
    return id;
}

static bool due_has(fx *f, int64_t now, int64_t id)
{
    cm_ref *due = NULL;
    size_t n = 0;
    cm_err err;
    bool found = false;
    assert_int_equal(store_orders_auto_renew_due(f->st, now, 100, &due, &n, &err), 0);
    for (size_t i = 0; i < n; i++)
        found = found || (due[i].id == id && due[i].account_id == f->a);
    free(due);
    return found;
}

static void test_auto_renew_due_at_auto_renew_days_or_a_third_of_short_certificates(void **state)
{
    fx *f = *state;
    int64_t longer = auto_order(f, "long.example.com", 100, 0x51);
    int64_t shorter = auto_order(f, "short.example.com", 20, 0x52);
    /* 100 days: due 30 days (auto_renew_days) before the end, not before. */
    assert_false(due_has(f, T0 + 69 * 86400, longer));
    assert_true(due_has(f, T0 + 71 * 86400, longer));
    /* 20 days, shorter than auto_renew_days: due in its last third only, so that its renewal
     * (as short) is not renewed again the moment it issues. */
    assert_false(due_has(f, T0 + 86400, shorter));
    assert_false(due_has(f, T0 + 13 * 86400, shorter));
    assert_true(due_has(f, T0 + 14 * 86400, shorter));
    /* Tried within the last day: not again until a day passed. */
    cm_err err;
    assert_int_equal(store_order_auto_renew_tried(f->st, f->a, longer, T0 + 71 * 86400, &err),
                     0);
    assert_false(due_has(f, T0 + 71 * 86400 + 3600, longer));
    assert_true(due_has(f, T0 + 72 * 86400, longer));
}

/* ---- pool, transactions ---- */

typedef struct pool_ctx {
    cm_store_pool *pool;
    int id;
    int errors;
} pool_ctx;

static void *pool_worker(void *arg)
{
    pool_ctx *c = arg;
    cm_err err;
    for (int i = 0; i < 20; i++) {
        cm_store *st = store_pool_get(c->pool);
        cm_account a;
        memset(&a, 0, sizeof a);
        snprintf(a.name, sizeof a.name, "pool-%d-%d", c->id, i);
        a.reissue_revoke_delay_hours = 72;
        if (store_begin(st, &err) != 0 || store_account_insert(st, &a, &err) != 0 ||
            store_commit(st, &err) != 0) {
            c->errors++;
            store_rollback(st);
        }
        store_pool_put(c->pool, st);
    }
    return NULL;
}

static void test_pool_shared_by_threads(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_store_pool *pool = NULL;
    enum { THREADS = 6 };
    pthread_t th[THREADS];
    pool_ctx ctx[THREADS];
    assert_int_equal(store_pool_open(&f->cfg, 0, &pool, &err), -1);
    assert_int_equal(store_pool_open(&f->cfg, 2, &pool, &err), 0);
    for (int t = 0; t < THREADS; t++) {
        ctx[t] = (pool_ctx){.pool = pool, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, pool_worker, &ctx[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(ctx[t].errors, 0);
    /* Every commit was made durable, by no more fsyncs than commits (concurrent ones share). */
    uint64_t commits = 0, syncs = 0;
    store_pool_stats(pool, &commits, &syncs);
    assert_int_equal(commits, THREADS * 20);
    assert_true(syncs >= 1 && syncs <= commits);
    /* Every connection came back: both can be taken without blocking. */
    cm_store *s1 = store_pool_get(pool), *s2 = store_pool_get(pool);
    assert_true(s1 != s2);
    cm_account *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    cm_list_opts o = opts(0, 1, NULL, false);
    assert_int_equal(store_account_list(s1, &o, &list, &n, &total, &err), 0);
    assert_int_equal(total, 2 + THREADS * 20);
    free(list);
    /* A connection returned with an open transaction comes back clean. */
    assert_int_equal(store_begin(s2, &err), 0);
    store_pool_put(pool, s2);
    s2 = store_pool_get(pool);
    assert_int_equal(store_begin(s2, &err), 0);
    store_rollback(s2);
    store_pool_put(pool, s1);
    store_pool_put(pool, s2);
    store_pool_close(pool);
}

static void test_rollback_leaves_nothing(void **state)
{
    fx *f = *state;
    cm_err err;
    cm_account a;
    cm_order o;
    int64_t bad = -1, checked = -1;
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(store_begin(f->st, &err), -1); /* no nesting */
    int64_t acct = mk_account(f->st, "Temporary");
    int64_t user = mk_user(f->st, acct, "t@example.com", "administrator", "T");
    int64_t order = mk_order(f->st, acct, user, "example.com", "issued", "ssl_plus");
    mk_cert(f->st, acct, order, "public-ecdsa", "ff01", 9, "issued");
    cm_audit e;
    memset(&e, 0, sizeof e);
    e.account_id = acct;
    str_copy(e.action, sizeof e.action, "order.create");
    assert_int_equal(store_audit_append(f->st, &e, &err), 0);
    store_rollback(f->st);
    store_rollback(f->st); /* harmless without a transaction */
    assert_int_equal(store_account_get(f->st, acct, &a, &err), -1);
    assert_string_equal(err.code, "account_not_found");
    assert_int_equal(store_order_get(f->st, acct, order, &o, &err), -1);
    cm_cert_row c;
    assert_int_equal(store_cert_by_serial(f->st, "public-ecdsa", "ff01", &c, &err), -1);
    assert_int_equal(store_audit_verify(f->st, &bad, &checked, &err), 0);
    assert_int_equal(checked, 0);
    /* A failure inside a store function undoes only its own part of the transaction. */
    assert_int_equal(store_begin(f->st, &err), 0);
    int64_t kept = mk_account(f->st, "Kept");
    cm_order x;
    cm_order_name names[2];
    memset(names, 0, sizeof names);
    str_copy(names[0].name, sizeof names[0].name, "example.com");
    /* names[1] is empty: refused by the schema after the order row was written */
    order_init(&x, f->a, f->ua, "example.com", "issued", "ssl_plus");
    x.names = names;
    x.n_names = 2;
    assert_int_equal(store_order_insert(f->st, &x, &err), -1);
    assert_string_equal(err.code, "field_invalid");
    assert_int_equal(store_commit(f->st, &err), 0);
    assert_int_equal(store_account_get(f->st, kept, &a, &err), 0);
    cm_order *list = NULL;
    size_t n = 0;
    int64_t total = -1;
    cm_list_opts lo = opts(0, 10, NULL, false);
    assert_int_equal(store_order_list(f->st, f->a, 0, &lo, &list, &n, &total, &err), 0);
    assert_int_equal(total, 0);
    store_order_free_list(list, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_migrate_twice_is_idempotent_at_latest_version),
        T(test_database_file_is_private),
        T(test_open_without_migrate_on_fresh_file_needs_migration),
        T(test_account_insert_get_update_list),
        T(test_user_insert_get_list_and_scoping),
        T(test_user_email_unique_per_account_and_role_checked),
        T(test_apikey_insert_lookup_revoke_list),
        T(test_org_validations_contacts_and_list),
        T(test_domain_insert_dcv_list_and_unique_name),
        T(test_order_insert_get_update_rewrites_names),
        T(test_order_list_paging_sort_filters_and_user_scope),
        T(test_request_insert_get_update_list),
        T(test_cert_insert_get_serial_unique_and_history),
        T(test_spki_used_on_order_or_revoked_in_account),
        T(test_crl_get_put_and_dirty),
        T(test_job_lease_retry_done_and_fail),
        T(test_job_expired_lease_is_taken_again_then_fails),
        T(test_job_unique_key_enqueue_is_noop_while_live),
        T(test_jobs_four_threads_never_lease_the_same_job),
        T(test_job_lease_reports_busy_past_the_timeout),
        T(test_mail_insert_get_status),
        T(test_audit_append_chain_verifies_and_lists),
        T(test_audit_tampered_detail_is_reported),
        T(test_audit_tampered_prev_hash_is_reported),
        T(test_audit_rehashed_row_and_deleted_row_are_reported),
        T(test_unknown_sort_or_filter_or_limit_is_field_invalid),
        T(test_sql_metacharacters_find_nothing_and_break_nothing),
        T(test_auto_renew_due_at_auto_renew_days_or_a_third_of_short_certificates),
        T(test_pool_shared_by_threads),
        T(test_rollback_leaves_nothing),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
