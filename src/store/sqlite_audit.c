/* sqlite_audit.c — the audit log, chained by hash, in the SQLite backend.
 *
 * hash = SHA-256(prev_hash ‖ field(id) ‖ field(account_id) ‖ field(at) ‖ field(user_id) ‖
 *                field(key_id) ‖ field(operator) ‖ field(action) ‖ field(object_type) ‖
 *                field(object_id) ‖ field(detail))
 * where field(x) is the 4-byte big-endian length of x's text followed by that text; integers are
 * their decimal text, operator is "0" or "1". The length prefixes make the serialisation
 * unambiguous ("ab","c" never hashes like "a","bc"). */
#include "store/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pki/digest.h"
#include "util/clock.h"

static void h_bytes(cm_sha256 *h, const void *p, size_t n)
{
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    sha256_update(h, len, sizeof len);
    sha256_update(h, p, n);
}

static void h_text(cm_sha256 *h, const char *s)
{
    h_bytes(h, s, strlen(s));
}

static void h_int(cm_sha256 *h, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    h_bytes(h, buf, (size_t)n);
}

/* The hash of `e` over e->prev_hash and every other column. -1 when the digest cannot start. */
static int audit_hash(const cm_audit *e, unsigned char out[32])
{
    cm_sha256 h;
    if (sha256_init(&h) != 0)
        return -1;
    sha256_update(&h, e->prev_hash, 32);
    h_int(&h, e->id);
    h_int(&h, e->account_id);
    h_int(&h, e->at);
    h_int(&h, e->user_id);
    h_int(&h, e->key_id);
    h_int(&h, e->operator ? 1 : 0);
    h_text(&h, e->action);
    h_text(&h, e->object_type);
    h_int(&h, e->object_id);
    h_text(&h, e->detail);
    sha256_final(&h, out);
    return 0;
}

#define AUDIT_COLS                                                                                 \
    "id, account_id, at, user_id, key_id, operator, action, object_type, object_id, detail, "      \
    "prev_hash, hash"

static void audit_row(sqlite3_stmt *s, void *out)
{
    cm_audit *e = out;
    memset(e, 0, sizeof *e);
    e->id = c_int(s, 0);
    e->account_id = c_int(s, 1);
    e->at = c_int(s, 2);
    e->user_id = c_int(s, 3);
    e->key_id = c_int(s, 4);
    e->operator = c_int(s, 5) != 0;
    c_text(s, 6, e->action, sizeof e->action);
    c_text(s, 7, e->object_type, sizeof e->object_type);
    e->object_id = c_int(s, 8);
    c_text(s, 9, e->detail, sizeof e->detail);
    c_blob32(s, 10, e->prev_hash);
    c_blob32(s, 11, e->hash);
}

int store_audit_append(cm_store *st, cm_audit *e, cm_err *err)
{
    int ret = -1, rc;
    sqlite3_stmt *last = NULL, *ins = NULL;
    bool own = false, began = false;
    cm_audit row = *e;
    /* Inside the caller's write transaction (store_begin is BEGIN IMMEDIATE) the chain's tail
     * cannot move under us; alone, tx_begin takes the write lock before reading it. */
    if (tx_begin(st, &own, err) != 0)
        goto out;
    began = true;
    last = q_get(st, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", err);
    if (last == NULL)
        goto out;
    rc = sqlite3_step(last);
    if (rc == SQLITE_ROW) {
        row.id = c_int(last, 0) + 1;
        c_blob32(last, 1, row.prev_hash);
    } else if (rc == SQLITE_DONE) {
        row.id = 1;
        memset(row.prev_hash, 0, sizeof row.prev_hash);
    } else {
        st_fail(st, rc, "reading the audit chain", NULL, err);
        goto out;
    }
    if (row.at == 0)
        row.at = clock_now();
    if (audit_hash(&row, row.hash) != 0) {
        cm_err_set(err, "store_error", "cannot compute an audit hash");
        goto out;
    }
    ins = q_get(st,
                "INSERT INTO audit (" AUDIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                "?10, ?11, ?12)",
                err);
    if (ins == NULL)
        goto out;
    b_int(ins, 1, row.id);
    b_int(ins, 2, row.account_id);
    b_int(ins, 3, row.at);
    b_int(ins, 4, row.user_id);
    b_int(ins, 5, row.key_id);
    b_bool(ins, 6, row.operator);
    b_text(ins, 7, row.action);
    b_text(ins, 8, row.object_type);
    b_int(ins, 9, row.object_id);
    b_text(ins, 10, row.detail);
    b_blob(ins, 11, row.prev_hash, 32);
    b_blob(ins, 12, row.hash, 32);
    if (q_exec(st, ins, "appending an audit event", NULL, err) != 0)
        goto out;
    ret = 0;
out:
    q_put(st, last);
    q_put(st, ins);
    if (began && tx_end(st, own, ret == 0, err) != 0)
        ret = -1;
    if (ret == 0) {
        e->id = row.id;
        e->at = row.at;
        memcpy(e->prev_hash, row.prev_hash, 32);
        memcpy(e->hash, row.hash, 32);
    }
    return ret;
}

static const st_col audit_sorts[] = {
    {"id", "id", LC_INT}, {"at", "at", LC_INT}, {"action", "action", LC_TEXT}, {0}};
static const st_col audit_filters[] = {{"action", "action", LC_TEXT},
                                       {"object_type", "object_type", LC_TEXT},
                                       {"object_id", "object_id", LC_INT},
                                       {0}};

int store_audit_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_audit **out,
                     size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = AUDIT_COLS,
                 .from = "audit",
                 .sorts = audit_sorts,
                 .filters = audit_filters,
                 .scope = {"account_id = ?"},
                 .scope_val = {account_id},
                 .n_scope = 1};
    return st_list_run(st, &l, o, sizeof **out, audit_row, (void **)out, n, total, err);
}

/* Checks one row as stored: every column is hashed from its stored text (SQLite writes an
 * INTEGER as the same decimal text audit_hash uses), so a value that the struct fields would
 * truncate or coerce (a longer detail, operator = 2, text in an integer column) cannot make a
 * tampered row look right. */
static int verify_row(sqlite3_stmt *s, const unsigned char prev[32], unsigned char hash[32],
                      bool *ok)
{
    cm_sha256 h;
    unsigned char stored_prev[32], stored_hash[32], calc[32];
    bool sizes_ok = sqlite3_column_bytes(s, 10) == 32 && sqlite3_column_bytes(s, 11) == 32;
    c_blob32(s, 10, stored_prev);
    c_blob32(s, 11, stored_hash);
    if (sha256_init(&h) != 0)
        return -1;
    sha256_update(&h, stored_prev, 32);
    for (int col = 0; col < 10; col++) {
        const unsigned char *t = sqlite3_column_text(s, col);
        int n = sqlite3_column_bytes(s, col);
        if (t == NULL) /* NULL is never stored by append: hash something no value hashes to */
            sha256_update(&h, "\xff\xff\xff\xff", 4);
        else
            h_bytes(&h, t, (size_t)n);
    }
    sha256_final(&h, calc);
    *ok = sizes_ok && memcmp(stored_prev, prev, 32) == 0 && memcmp(calc, stored_hash, 32) == 0;
    memcpy(hash, stored_hash, 32);
    return 0;
}

int store_audit_verify(cm_store *st, int64_t *bad_id, int64_t *checked, cm_err *err)
{
    int ret = -1, rc;
    unsigned char prev[32] = {0};
    int64_t bad = 0, count = 0;
    bool own_read = false;
    sqlite3_stmt *s = NULL;
    *bad_id = 0;
    *checked = 0;
    /* One snapshot for the whole walk, so appends meanwhile cannot look like a broken link. */
    if (sqlite3_get_autocommit(st->db) != 0) {
        if (st_exec(st, "BEGIN", "starting a read", err) != 0)
            goto out;
        own_read = true;
    }
    s = q_get(st, "SELECT " AUDIT_COLS " FROM audit ORDER BY id", err);
    if (s == NULL)
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        bool ok = false;
        unsigned char hash[32];
        int64_t id = c_int(s, 0);
        if (verify_row(s, prev, hash, &ok) != 0) {
            cm_err_set(err, "store_error", "cannot compute an audit hash");
            goto out;
        }
        count++;
        if (!ok && bad == 0)
            bad = id;
        memcpy(prev, hash, 32);
    }
    if (rc != SQLITE_DONE) {
        st_fail(st, rc, "walking the audit chain", NULL, err);
        goto out;
    }
    *bad_id = bad;
    *checked = count;
    ret = 0;
out:
    q_put(st, s);
    if (own_read)
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    return ret;
}
