/* sqlite_account.c — accounts, users and API keys in the SQLite backend. */
#include "store/internal.h"

#include <inttypes.h>
#include <string.h>

/* ---- accounts ---- */

#define ACCOUNT_COLS                                                                               \
    "id, name, created_at, allow_duplicates, skip_approval, reissue_revoke_delay_hours,"           \
    " renewal_window_days, auto_renew_days"

static void account_row(sqlite3_stmt *s, void *out)
{
    cm_account *a = out;
    memset(a, 0, sizeof *a);
    a->id = c_int(s, 0);
    c_text(s, 1, a->name, sizeof a->name);
    a->created_at = c_int(s, 2);
    a->allow_duplicates = c_int(s, 3) != 0;
    a->skip_approval = c_int(s, 4) != 0;
    a->reissue_revoke_delay_hours = (int)c_int(s, 5);
    a->renewal_window_days = (int)c_int(s, 6);
    a->auto_renew_days = (int)c_int(s, 7);
}

int store_account_insert(cm_store *st, cm_account *a, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO accounts (name, created_at, allow_duplicates, "
                            "skip_approval, reissue_revoke_delay_hours, renewal_window_days, "
                            "auto_renew_days) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            err);
    if (s == NULL)
        goto out;
    b_text(s, 1, a->name);
    b_int(s, 2, a->created_at);
    b_bool(s, 3, a->allow_duplicates);
    b_bool(s, 4, a->skip_approval);
    b_int(s, 5, a->reissue_revoke_delay_hours);
    b_int(s, 6, a->renewal_window_days);
    b_int(s, 7, a->auto_renew_days);
    if (q_exec(st, s, "inserting an account", NULL, err) != 0)
        goto out;
    a->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_account_get(cm_store *st, int64_t id, cm_account *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "account %" PRId64 " does not exist", id);
    sqlite3_stmt *s = q_get(st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, id);
    int ret = q_one(st, s, account_row, out, "account_not_found", nf, "reading an account", err);
    q_put(st, s);
    return ret;
}

int store_account_update(cm_store *st, const cm_account *a, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "UPDATE accounts SET allow_duplicates = ?2, skip_approval = ?3, "
                            "reissue_revoke_delay_hours = ?4, renewal_window_days = ?5, "
                            "auto_renew_days = ?6 WHERE id = ?1",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, a->id);
    b_bool(s, 2, a->allow_duplicates);
    b_bool(s, 3, a->skip_approval);
    b_int(s, 4, a->reissue_revoke_delay_hours);
    b_int(s, 5, a->renewal_window_days);
    b_int(s, 6, a->auto_renew_days);
    if (q_exec(st, s, "updating account settings", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "account_not_found", "account %" PRId64 " does not exist", a->id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

static const st_col account_sorts[] = {
    {"id", "id", LC_INT}, {"name", "name", LC_TEXT}, {"created_at", "created_at", LC_INT}, {0}};
static const st_col account_filters[] = {{"name", "name", LC_TEXT}, {0}};

int store_account_list(cm_store *st, const cm_list_opts *o, cm_account **out, size_t *n,
                       int64_t *total, cm_err *err)
{
    st_list l = {.cols = ACCOUNT_COLS,
                 .from = "accounts",
                 .sorts = account_sorts,
                 .filters = account_filters};
    return st_list_run(st, &l, o, sizeof **out, account_row, (void **)out, n, total, err);
}

/* ---- users ---- */

#define USER_COLS                                                                                  \
    "id, account_id, email, first_name, last_name, role, password_hash, status, created_at"

static void user_row(sqlite3_stmt *s, void *out)
{
    cm_user *u = out;
    memset(u, 0, sizeof *u);
    u->id = c_int(s, 0);
    u->account_id = c_int(s, 1);
    c_text(s, 2, u->email, sizeof u->email);
    c_text(s, 3, u->first_name, sizeof u->first_name);
    c_text(s, 4, u->last_name, sizeof u->last_name);
    c_text(s, 5, u->role, sizeof u->role);
    c_text(s, 6, u->password_hash, sizeof u->password_hash);
    c_text(s, 7, u->status, sizeof u->status);
    u->created_at = c_int(s, 8);
}

int store_user_insert(cm_store *st, cm_user *u, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO users (account_id, email, first_name, last_name, role, "
                            "password_hash, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                            "?7, ?8)",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, u->account_id);
    b_text(s, 2, u->email);
    b_text(s, 3, u->first_name);
    b_text(s, 4, u->last_name);
    b_text(s, 5, u->role);
    b_text(s, 6, u->password_hash);
    b_text(s, 7, u->status[0] != '\0' ? u->status : "active");
    b_int(s, 8, u->created_at);
    if (q_exec(st, s, "inserting a user",
               "a user with this email already exists in the account; use another email", err) != 0)
        goto out;
    u->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_user_get(cm_store *st, int64_t account_id, int64_t id, cm_user *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "user %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s =
        q_get(st, "SELECT " USER_COLS " FROM users WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, user_row, out, "user_not_found", nf, "reading a user", err);
    q_put(st, s);
    return ret;
}

int store_user_get_by_email(cm_store *st, int64_t account_id, const char *email, cm_user *out,
                            cm_err *err)
{
    sqlite3_stmt *s =
        q_get(st, "SELECT " USER_COLS " FROM users WHERE account_id = ?1 AND email = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_text(s, 2, email);
    int ret = q_one(st, s, user_row, out, "user_not_found",
                    "no user with this email in this account", "reading a user", err);
    q_put(st, s);
    return ret;
}

static const st_col user_sorts[] = {{"id", "id", LC_INT},
                                    {"email", "email", LC_TEXT},
                                    {"last_name", "last_name", LC_TEXT},
                                    {"created_at", "created_at", LC_INT},
                                    {0}};
static const st_col user_filters[] = {
    {"role", "role", LC_TEXT}, {"status", "status", LC_TEXT}, {"email", "email", LC_TEXT}, {0}};

int store_user_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_user **out,
                    size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = USER_COLS,
                 .from = "users",
                 .sorts = user_sorts,
                 .filters = user_filters,
                 .scope = {"account_id = ?"},
                 .scope_val = {account_id},
                 .n_scope = 1};
    return st_list_run(st, &l, o, sizeof **out, user_row, (void **)out, n, total, err);
}

/* ---- API keys ---- */

#define APIKEY_COLS "id, account_id, user_id, operator, name, prefix, hash, created_at, revoked_at"

static void apikey_row(sqlite3_stmt *s, void *out)
{
    cm_apikey *k = out;
    memset(k, 0, sizeof *k);
    k->id = c_int(s, 0);
    k->account_id = c_int(s, 1);
    k->user_id = c_int(s, 2);
    k->operator = c_int(s, 3) != 0;
    c_text(s, 4, k->name, sizeof k->name);
    c_text(s, 5, k->prefix, sizeof k->prefix);
    c_blob32(s, 6, k->hash);
    k->created_at = c_int(s, 7);
    k->revoked_at = c_int(s, 8);
}

int store_apikey_insert(cm_store *st, cm_apikey *k, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO api_keys (account_id, user_id, operator, name, prefix, "
                            "hash, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            err);
    if (s == NULL)
        goto out;
    b_ref(s, 1, k->account_id);
    b_ref(s, 2, k->user_id);
    b_bool(s, 3, k->operator);
    b_text(s, 4, k->name);
    b_text(s, 5, k->prefix);
    b_blob(s, 6, k->hash, sizeof k->hash);
    b_int(s, 7, k->created_at);
    b_int(s, 8, k->revoked_at);
    if (q_exec(st, s, "inserting an API key", "an API key with this prefix already exists", err) !=
        0)
        goto out;
    k->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_apikey_by_prefix(cm_store *st, const char *prefix, cm_apikey *out, cm_err *err)
{
    sqlite3_stmt *s = q_get(st, "SELECT " APIKEY_COLS " FROM api_keys WHERE prefix = ?1", err);
    if (s == NULL)
        return -1;
    b_text(s, 1, prefix);
    int ret = q_one(st, s, apikey_row, out, "apikey_not_found", "no API key with this prefix",
                    "reading an API key", err);
    q_put(st, s);
    return ret;
}

int store_apikey_get(cm_store *st, int64_t account_id, int64_t id, cm_apikey *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "API key %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s =
        q_get(st, "SELECT " APIKEY_COLS " FROM api_keys WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, apikey_row, out, "apikey_not_found", nf, "reading an API key", err);
    q_put(st, s);
    return ret;
}

int store_apikey_revoke(cm_store *st, int64_t account_id, int64_t id, int64_t now, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "UPDATE api_keys SET revoked_at = ?3 WHERE account_id = ?1 AND "
                            "id = ?2 AND revoked_at = 0",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    b_int(s, 3, now);
    if (q_exec(st, s, "revoking an API key", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "apikey_not_found",
                   "API key %" PRId64 " does not exist in this account or is already revoked", id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

static const st_col apikey_sorts[] = {
    {"id", "id", LC_INT}, {"name", "name", LC_TEXT}, {"created_at", "created_at", LC_INT}, {0}};
static const st_col apikey_filters[] = {{"user_id", "user_id", LC_REF}, {0}};

int store_apikey_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_apikey **out,
                      size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = APIKEY_COLS,
                 .from = "api_keys",
                 .sorts = apikey_sorts,
                 .filters = apikey_filters,
                 .scope = {"account_id = ?"},
                 .scope_val = {account_id},
                 .n_scope = 1};
    return st_list_run(st, &l, o, sizeof **out, apikey_row, (void **)out, n, total, err);
}
