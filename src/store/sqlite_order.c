/* sqlite_order.c — orders with their names, and requests (approvals), in the SQLite backend. */
#include "store/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* An order has at most this many names (a multi-domain order's SAN cap is far below). */
#define MAX_ORDER_NAMES 1000

/* ---- orders ---- */

/* Without csr: lists never carry it. ORDER_COLS_CSR adds it as the last column. */
#define ORDER_COLS                                                                                 \
    "id, account_id, user_id, product, org_id, status, common_name, validity_years, "              \
    "coverage_end, signature_hash, server_platform, auto_renew, renewal_of_order_id, "             \
    "renewed_by_order_id, dcv_method, dcv_value, dcv_value_expires, issuer, created_at, "          \
    "updated_at, issued_at, note"
#define ORDER_COLS_CSR ORDER_COLS ", csr"

static void order_row(sqlite3_stmt *s, void *out)
{
    cm_order *o = out;
    memset(o, 0, sizeof *o);
    o->id = c_int(s, 0);
    o->account_id = c_int(s, 1);
    o->user_id = c_int(s, 2);
    c_text(s, 3, o->product, sizeof o->product);
    o->org_id = c_int(s, 4);
    c_text(s, 5, o->status, sizeof o->status);
    c_text(s, 6, o->common_name, sizeof o->common_name);
    o->validity_years = (int)c_int(s, 7);
    o->coverage_end = c_int(s, 8);
    c_text(s, 9, o->signature_hash, sizeof o->signature_hash);
    o->server_platform = (int)c_int(s, 10);
    o->auto_renew = c_int(s, 11) != 0;
    o->renewal_of_order_id = c_int(s, 12);
    o->renewed_by_order_id = c_int(s, 13);
    c_text(s, 14, o->dcv_method, sizeof o->dcv_method);
    c_text(s, 15, o->dcv_value, sizeof o->dcv_value);
    o->dcv_value_expires = c_int(s, 16);
    c_text(s, 17, o->issuer, sizeof o->issuer);
    o->created_at = c_int(s, 18);
    o->updated_at = c_int(s, 19);
    o->issued_at = c_int(s, 20);
    c_text(s, 21, o->note, sizeof o->note);
}

static void order_row_csr(sqlite3_stmt *s, void *out)
{
    cm_order *o = out;
    order_row(s, out);
    c_text(s, 22, o->csr, sizeof o->csr);
}

void store_order_clear(cm_order *o)
{
    if (o == NULL)
        return;
    free(o->names);
    o->names = NULL;
    o->n_names = 0;
}

void store_order_free_list(cm_order *list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        store_order_clear(&list[i]);
    free(list);
}

/* Replaces the names of order `id` with o->names. */
static int names_write(cm_store *st, int64_t id, const cm_order *o, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *del = NULL, *ins = NULL;
    if (o->n_names > MAX_ORDER_NAMES) {
        cm_err_set(err, "field_invalid", "an order has at most %d names", MAX_ORDER_NAMES);
        goto out;
    }
    del = q_get(st, "DELETE FROM order_names WHERE order_id = ?1", err);
    if (del == NULL)
        goto out;
    b_int(del, 1, id);
    if (q_exec(st, del, "replacing an order's names", NULL, err) != 0)
        goto out;
    ins = q_get(st,
                "INSERT INTO order_names (order_id, position, name, dcv_status, validated_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
                err);
    if (ins == NULL)
        goto out;
    for (size_t i = 0; i < o->n_names; i++) {
        const cm_order_name *nm = &o->names[i];
        sqlite3_reset(ins);
        b_int(ins, 1, id);
        b_int(ins, 2, (int64_t)i);
        b_text(ins, 3, nm->name);
        b_text(ins, 4, nm->dcv_status);
        b_int(ins, 5, nm->validated_at);
        if (q_exec(st, ins, "writing an order's names", NULL, err) != 0)
            goto out;
    }
    ret = 0;
out:
    q_put(st, del);
    q_put(st, ins);
    return ret;
}

static int names_read(cm_store *st, cm_order *o, cm_err *err)
{
    int ret = -1, rc;
    cm_order_name *arr = NULL;
    size_t cap = 0, count = 0;
    sqlite3_stmt *s = q_get(st,
                            "SELECT name, dcv_status, validated_at FROM order_names "
                            "WHERE order_id = ?1 ORDER BY position",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, o->id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (st_grow((void **)&arr, &cap, count, sizeof *arr, MAX_ORDER_NAMES) != 0) {
            cm_err_set(err, "store_error", "order %" PRId64 " has too many names", o->id);
            goto out;
        }
        cm_order_name *nm = &arr[count++];
        memset(nm, 0, sizeof *nm);
        c_text(s, 0, nm->name, sizeof nm->name);
        c_text(s, 1, nm->dcv_status, sizeof nm->dcv_status);
        nm->validated_at = c_int(s, 2);
    }
    if (rc != SQLITE_DONE) {
        st_fail(st, rc, "reading an order's names", NULL, err);
        goto out;
    }
    o->names = arr;
    o->n_names = count;
    arr = NULL;
    ret = 0;
out:
    q_put(st, s);
    free(arr);
    return ret;
}

int store_order_insert(cm_store *st, cm_order *o, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = NULL;
    bool own = false, began = false;
    int64_t id = 0;
    if (tx_begin(st, &own, err) != 0)
        goto out;
    began = true;
    s = q_get(st,
              "INSERT INTO orders (account_id, user_id, product, org_id, status, common_name, "
              "validity_years, coverage_end, csr, signature_hash, server_platform, auto_renew, "
              "renewal_of_order_id, renewed_by_order_id, dcv_method, dcv_value, "
              "dcv_value_expires, issuer, created_at, updated_at, issued_at, note) VALUES (?1, "
              "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
              "?20, ?21, ?22)",
              err);
    if (s == NULL)
        goto out;
    b_int(s, 1, o->account_id);
    b_ref(s, 2, o->user_id);
    b_text(s, 3, o->product);
    b_ref(s, 4, o->org_id);
    b_text(s, 5, o->status);
    b_text(s, 6, o->common_name);
    b_int(s, 7, o->validity_years);
    b_int(s, 8, o->coverage_end);
    b_text(s, 9, o->csr);
    b_text(s, 10, o->signature_hash);
    b_int(s, 11, o->server_platform);
    b_bool(s, 12, o->auto_renew);
    b_ref(s, 13, o->renewal_of_order_id);
    b_ref(s, 14, o->renewed_by_order_id);
    b_text(s, 15, o->dcv_method);
    b_text(s, 16, o->dcv_value);
    b_int(s, 17, o->dcv_value_expires);
    b_text(s, 18, o->issuer);
    b_int(s, 19, o->created_at);
    b_int(s, 20, o->updated_at);
    b_int(s, 21, o->issued_at);
    b_text(s, 22, o->note);
    if (q_exec(st, s, "inserting an order", NULL, err) != 0)
        goto out;
    id = sqlite3_last_insert_rowid(st->db);
    if (names_write(st, id, o, err) != 0)
        goto out;
    ret = 0;
out:
    q_put(st, s);
    if (began && tx_end(st, own, ret == 0, err) != 0)
        ret = -1;
    if (ret == 0)
        o->id = id;
    return ret;
}

int store_order_get(cm_store *st, int64_t account_id, int64_t id, cm_order *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "order %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s =
        q_get(st, "SELECT " ORDER_COLS_CSR " FROM orders WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, order_row_csr, out, "order_not_found", nf, "reading an order", err);
    q_put(st, s);
    if (ret == 0 && names_read(st, out, err) != 0)
        ret = -1;
    return ret;
}

/* Fixed at insert and never written here: account, user, product, organisation, validity_years,
 * created_at. Everything else is the order's changing state. */
int store_order_update(cm_store *st, const cm_order *o, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = NULL;
    bool own = false, began = false;
    if (tx_begin(st, &own, err) != 0)
        goto out;
    began = true;
    s = q_get(st,
              "UPDATE orders SET status = ?3, common_name = ?4, csr = ?5, signature_hash = ?6, "
              "server_platform = ?7, auto_renew = ?8, coverage_end = ?9, "
              "renewal_of_order_id = ?10, renewed_by_order_id = ?11, dcv_method = ?12, "
              "dcv_value = ?13, dcv_value_expires = ?14, issuer = ?15, note = ?16, "
              "issued_at = ?17, updated_at = ?18 "
              "WHERE account_id = ?1 AND id = ?2",
              err);
    if (s == NULL)
        goto out;
    b_int(s, 1, o->account_id);
    b_int(s, 2, o->id);
    b_text(s, 3, o->status);
    b_text(s, 4, o->common_name);
    b_text(s, 5, o->csr);
    b_text(s, 6, o->signature_hash);
    b_int(s, 7, o->server_platform);
    b_bool(s, 8, o->auto_renew);
    b_int(s, 9, o->coverage_end);
    b_ref(s, 10, o->renewal_of_order_id);
    b_ref(s, 11, o->renewed_by_order_id);
    b_text(s, 12, o->dcv_method);
    b_text(s, 13, o->dcv_value);
    b_int(s, 14, o->dcv_value_expires);
    b_text(s, 15, o->issuer);
    b_text(s, 16, o->note);
    b_int(s, 17, o->issued_at);
    b_int(s, 18, o->updated_at);
    if (q_exec(st, s, "updating an order", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "order_not_found", "order %" PRId64 " does not exist in this account",
                   o->id);
        goto out;
    }
    if (names_write(st, o->id, o, err) != 0)
        goto out;
    ret = 0;
out:
    q_put(st, s);
    if (began && tx_end(st, own, ret == 0, err) != 0)
        ret = -1;
    return ret;
}

static const st_col order_sorts[] = {{"id", "id", LC_INT},
                                     {"created_at", "created_at", LC_INT},
                                     {"status", "status", LC_TEXT},
                                     {"common_name", "common_name", LC_TEXT},
                                     {"product", "product", LC_TEXT},
                                     {"issued_at", "issued_at", LC_INT},
                                     {0}};
static const st_col order_filters[] = {{"status", "status", LC_TEXT},
                                       {"product", "product", LC_TEXT},
                                       {"common_name", "common_name", LC_TEXT},
                                       {"org_id", "org_id", LC_REF},
                                       {0}};

int store_order_list(cm_store *st, int64_t account_id, int64_t user_id, const cm_list_opts *o,
                     cm_order **out, size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = ORDER_COLS,
                 .from = "orders",
                 .sorts = order_sorts,
                 .filters = order_filters,
                 .scope = {"account_id = ?", "user_id = ?"},
                 .scope_val = {account_id, user_id},
                 .n_scope = user_id > 0 ? 2 : 1,
                 .fast_filter = "status",
                 .fast_count = "SELECT COALESCE(SUM(n), 0) FROM order_counts WHERE account_id = ?1",
                 .fast_count_f = "SELECT COALESCE(SUM(n), 0) FROM order_counts "
                                 "WHERE account_id = ?1 AND status = ?2"};
    return st_list_run(st, &l, o, sizeof **out, order_row, (void **)out, n, total, err);
}

/* ---- requests ---- */

#define REQUEST_COLS                                                                               \
    "id, account_id, order_id, type, status, requester_id, processor_id, comments, "               \
    "processor_comment, certificate_id, revocation_reason, created_at, processed_at"

static void request_row(sqlite3_stmt *s, void *out)
{
    cm_request *r = out;
    memset(r, 0, sizeof *r);
    r->id = c_int(s, 0);
    r->account_id = c_int(s, 1);
    r->order_id = c_int(s, 2);
    c_text(s, 3, r->type, sizeof r->type);
    c_text(s, 4, r->status, sizeof r->status);
    r->requester_id = c_int(s, 5);
    r->processor_id = c_int(s, 6);
    c_text(s, 7, r->comments, sizeof r->comments);
    c_text(s, 8, r->processor_comment, sizeof r->processor_comment);
    r->certificate_id = c_int(s, 9);
    r->revocation_reason = (int)c_int(s, 10);
    r->created_at = c_int(s, 11);
    r->processed_at = c_int(s, 12);
}

int store_request_insert(cm_store *st, cm_request *r, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO requests (account_id, order_id, type, status, "
                            "requester_id, processor_id, comments, processor_comment, "
                            "certificate_id, revocation_reason, created_at, processed_at) VALUES "
                            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, r->account_id);
    b_ref(s, 2, r->order_id);
    b_text(s, 3, r->type);
    b_text(s, 4, r->status[0] != '\0' ? r->status : "pending");
    b_ref(s, 5, r->requester_id);
    b_ref(s, 6, r->processor_id);
    b_text(s, 7, r->comments);
    b_text(s, 8, r->processor_comment);
    b_ref(s, 9, r->certificate_id);
    b_int(s, 10, r->revocation_reason);
    b_int(s, 11, r->created_at);
    b_int(s, 12, r->processed_at);
    if (q_exec(st, s, "inserting a request", NULL, err) != 0)
        goto out;
    r->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_request_get(cm_store *st, int64_t account_id, int64_t id, cm_request *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "request %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s =
        q_get(st, "SELECT " REQUEST_COLS " FROM requests WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, request_row, out, "request_not_found", nf, "reading a request", err);
    q_put(st, s);
    return ret;
}

int store_request_set_csr(cm_store *st, int64_t account_id, int64_t id, const char *csr,
                          cm_err *err)
{
    sqlite3_stmt *s =
        q_get(st, "UPDATE requests SET csr = ?3 WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    b_text(s, 3, csr);
    int ret = q_exec(st, s, "storing a request's CSR", NULL, err);
    q_put(st, s);
    return ret;
}

int store_request_get_csr(cm_store *st, int64_t account_id, int64_t id, char *out,
                          size_t outsz, cm_err *err)
{
    return q_text_by_id(st, "SELECT csr FROM requests WHERE account_id = ?1 AND id = ?2",
                        account_id, id, out, outsz, "request_not_found", "a request's CSR", err);
}

int store_request_update(cm_store *st, const cm_request *r, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "UPDATE requests SET status = ?3, processor_id = ?4, "
                            "processor_comment = ?5, processed_at = ?6 "
                            "WHERE account_id = ?1 AND id = ?2",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, r->account_id);
    b_int(s, 2, r->id);
    b_text(s, 3, r->status);
    b_ref(s, 4, r->processor_id);
    b_text(s, 5, r->processor_comment);
    b_int(s, 6, r->processed_at);
    if (q_exec(st, s, "updating a request", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "request_not_found", "request %" PRId64 " does not exist in this account",
                   r->id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

static const st_col request_sorts[] = {{"id", "id", LC_INT},
                                       {"created_at", "created_at", LC_INT},
                                       {"status", "status", LC_TEXT},
                                       {"type", "type", LC_TEXT},
                                       {0}};
static const st_col request_filters[] = {{"status", "status", LC_TEXT},
                                         {"type", "type", LC_TEXT},
                                         {"order_id", "order_id", LC_REF},
                                         {0}};

int store_request_list(cm_store *st, int64_t account_id, int64_t user_id, const cm_list_opts *o,
                       cm_request **out, size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = REQUEST_COLS,
                 .from = "requests",
                 .sorts = request_sorts,
                 .filters = request_filters,
                 /* A user sees their own requests and the EV approvals waiting for them as a
                  * verified EV-approver contact of the order's organisation (one '?'). */
                 .scope = {"account_id = ?",
                           "EXISTS (SELECT 1 FROM (SELECT ? AS u) WHERE requests.requester_id = u "
                           "OR (requests.type = 'ev_approval' AND EXISTS (SELECT 1 FROM orders o "
                           "JOIN org_contacts c ON c.org_id = o.org_id WHERE o.id = "
                           "requests.order_id AND c.user_id = u AND c.ev_approver = 1)))"},
                 .scope_val = {account_id, user_id},
                 .n_scope = user_id > 0 ? 2 : 1};
    return st_list_run(st, &l, o, sizeof **out, request_row, (void **)out, n, total, err);
}
