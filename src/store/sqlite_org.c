/* sqlite_org.c — organisations with their OV/EV records and verified contacts, and domains with
 * their DCV, in the SQLite backend. */
#include "store/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- organisations ---- */

/* The latest record of each type (the operator's newest vetting wins, even a shorter one). */
#define ORG_VAL(col, type)                                                                         \
    "(SELECT " col " FROM org_validations v WHERE v.org_id = organizations.id AND v.type = '" type \
    "' ORDER BY v.id DESC LIMIT 1)"

#define ORG_COLS                                                                                   \
    "id, account_id, name, assumed_name, address, address2, city, state, zip, country, "           \
    "telephone, jurisdiction_country, jurisdiction_state, jurisdiction_city, "                     \
    "business_category, registration_number, created_at, " ORG_VAL(                                \
        "valid_until", "ov") ", " ORG_VAL("valid_until",                                           \
                                          "ev") ", " ORG_VAL("validated_at",                       \
                                                             "ov") ", " ORG_VAL("validated_at",    \
                                                                                "ev")

static void org_row(sqlite3_stmt *s, void *out)
{
    cm_org_row *r = out;
    memset(r, 0, sizeof *r);
    r->id = c_int(s, 0);
    r->account_id = c_int(s, 1);
    c_text(s, 2, r->org.name, sizeof r->org.name);
    c_text(s, 3, r->org.assumed_name, sizeof r->org.assumed_name);
    c_text(s, 4, r->org.address, sizeof r->org.address);
    c_text(s, 5, r->org.address2, sizeof r->org.address2);
    c_text(s, 6, r->org.city, sizeof r->org.city);
    c_text(s, 7, r->org.state, sizeof r->org.state);
    c_text(s, 8, r->org.zip, sizeof r->org.zip);
    c_text(s, 9, r->org.country, sizeof r->org.country);
    c_text(s, 10, r->org.telephone, sizeof r->org.telephone);
    c_text(s, 11, r->org.jurisdiction_country, sizeof r->org.jurisdiction_country);
    c_text(s, 12, r->org.jurisdiction_state, sizeof r->org.jurisdiction_state);
    c_text(s, 13, r->org.jurisdiction_city, sizeof r->org.jurisdiction_city);
    c_text(s, 14, r->org.business_category, sizeof r->org.business_category);
    c_text(s, 15, r->org.registration_number, sizeof r->org.registration_number);
    r->created_at = c_int(s, 16);
    r->ov_valid_until = c_int(s, 17);
    r->ev_valid_until = c_int(s, 18);
    r->ov_validated_at = c_int(s, 19);
    r->ev_validated_at = c_int(s, 20);
}

int store_org_insert(cm_store *st, cm_org_row *o, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO organizations (account_id, name, assumed_name, address, "
                            "address2, city, state, zip, country, telephone, jurisdiction_country, "
                            "jurisdiction_state, jurisdiction_city, business_category, "
                            "registration_number, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                            err);
    if (s == NULL)
        goto out;
    const cm_org *g = &o->org;
    b_int(s, 1, o->account_id);
    b_text(s, 2, g->name);
    b_text(s, 3, g->assumed_name);
    b_text(s, 4, g->address);
    b_text(s, 5, g->address2);
    b_text(s, 6, g->city);
    b_text(s, 7, g->state);
    b_text(s, 8, g->zip);
    b_text(s, 9, g->country);
    b_text(s, 10, g->telephone);
    b_text(s, 11, g->jurisdiction_country);
    b_text(s, 12, g->jurisdiction_state);
    b_text(s, 13, g->jurisdiction_city);
    b_text(s, 14, g->business_category);
    b_text(s, 15, g->registration_number);
    b_int(s, 16, o->created_at);
    if (q_exec(st, s, "inserting an organization", NULL, err) != 0)
        goto out;
    o->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_org_get(cm_store *st, int64_t account_id, int64_t id, cm_org_row *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "organization %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s =
        q_get(st, "SELECT " ORG_COLS " FROM organizations WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, org_row, out, "org_not_found", nf, "reading an organization", err);
    q_put(st, s);
    return ret;
}

static const st_col org_sorts[] = {
    {"id", "id", LC_INT}, {"name", "name", LC_TEXT}, {"created_at", "created_at", LC_INT}, {0}};
static const st_col org_filters[] = {
    {"name", "name", LC_TEXT}, {"country", "country", LC_TEXT}, {0}};

int store_org_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_org_row **out,
                   size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = ORG_COLS,
                 .from = "organizations",
                 .sorts = org_sorts,
                 .filters = org_filters,
                 .scope = {"account_id = ?"},
                 .scope_val = {account_id},
                 .n_scope = 1};
    return st_list_run(st, &l, o, sizeof **out, org_row, (void **)out, n, total, err);
}

/* `org_not_found` unless organisation `org_id` belongs to the account. */
static int org_exists(cm_store *st, int64_t account_id, int64_t org_id, cm_err *err)
{
    sqlite3_stmt *s =
        q_get(st, "SELECT 1 FROM organizations WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, org_id);
    int ret = 0, rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        ret = cm_err_set(err, "org_not_found",
                         "organization %" PRId64 " does not exist in this account", org_id);
    else if (rc != SQLITE_ROW)
        ret = st_fail(st, rc, "reading an organization", NULL, err);
    q_put(st, s);
    return ret;
}

static int user_exists(cm_store *st, int64_t account_id, int64_t user_id, cm_err *err)
{
    sqlite3_stmt *s = q_get(st, "SELECT 1 FROM users WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, user_id);
    int ret = 0, rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        ret = cm_err_set(err, "user_not_found", "user %" PRId64 " does not exist in this account",
                         user_id);
    else if (rc != SQLITE_ROW)
        ret = st_fail(st, rc, "reading a user", NULL, err);
    q_put(st, s);
    return ret;
}

int store_org_validation_add(cm_store *st, int64_t account_id, int64_t org_id, const char *type,
                             int64_t validated_at, int64_t valid_until, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = NULL;
    bool own = false, began = false;
    if (tx_begin(st, &own, err) != 0)
        goto out;
    began = true;
    if (org_exists(st, account_id, org_id, err) != 0)
        goto out;
    s = q_get(st,
              "INSERT INTO org_validations (account_id, org_id, type, validated_at, valid_until) "
              "VALUES (?1, ?2, ?3, ?4, ?5)",
              err);
    if (s == NULL)
        goto out;
    b_int(s, 1, account_id);
    b_int(s, 2, org_id);
    b_text(s, 3, type);
    b_int(s, 4, validated_at);
    b_int(s, 5, valid_until);
    if (q_exec(st, s, "recording an organization validation", NULL, err) != 0)
        goto out;
    ret = 0;
out:
    q_put(st, s);
    if (began && tx_end(st, own, ret == 0, err) != 0)
        ret = -1;
    return ret;
}

/* ---- verified contacts ---- */

static void contact_row(sqlite3_stmt *s, void *out)
{
    cm_contact *c = out;
    memset(c, 0, sizeof *c);
    c->org_id = c_int(s, 0);
    c->user_id = c_int(s, 1);
    c->ev_approver = c_int(s, 2) != 0;
    c->created_at = c_int(s, 3);
}

int store_contact_put(cm_store *st, int64_t account_id, const cm_contact *c, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = NULL;
    bool own = false, began = false;
    if (tx_begin(st, &own, err) != 0)
        goto out;
    began = true;
    if (org_exists(st, account_id, c->org_id, err) != 0 ||
        user_exists(st, account_id, c->user_id, err) != 0)
        goto out;
    s = q_get(st,
              "INSERT INTO org_contacts (account_id, org_id, user_id, ev_approver, created_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (org_id, user_id) DO UPDATE SET "
              "ev_approver = excluded.ev_approver",
              err);
    if (s == NULL)
        goto out;
    b_int(s, 1, account_id);
    b_int(s, 2, c->org_id);
    b_int(s, 3, c->user_id);
    b_bool(s, 4, c->ev_approver);
    b_int(s, 5, c->created_at);
    if (q_exec(st, s, "recording a verified contact", NULL, err) != 0)
        goto out;
    ret = 0;
out:
    q_put(st, s);
    if (began && tx_end(st, own, ret == 0, err) != 0)
        ret = -1;
    return ret;
}

int store_contact_get(cm_store *st, int64_t account_id, int64_t org_id, int64_t user_id,
                      cm_contact *out, cm_err *err)
{
    char nf[128];
    snprintf(nf, sizeof nf, "user %" PRId64 " is no verified contact of organization %" PRId64,
             user_id, org_id);
    sqlite3_stmt *s = q_get(st,
                            "SELECT org_id, user_id, ev_approver, created_at FROM org_contacts "
                            "WHERE account_id = ?1 AND org_id = ?2 AND user_id = ?3",
                            err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, org_id);
    b_int(s, 3, user_id);
    int ret = q_one(st, s, contact_row, out, "contact_not_found", nf, "reading a contact", err);
    q_put(st, s);
    return ret;
}

int store_contact_list(cm_store *st, int64_t account_id, int64_t org_id, cm_contact **out,
                       size_t *n, cm_err *err)
{
    int ret = -1, rc;
    cm_contact *arr = NULL;
    size_t cap = 0, count = 0;
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = q_get(st,
                            "SELECT org_id, user_id, ev_approver, created_at FROM org_contacts "
                            "WHERE account_id = ?1 AND org_id = ?2 ORDER BY user_id",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, account_id);
    b_int(s, 2, org_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (st_grow((void **)&arr, &cap, count, sizeof *arr, 100000) != 0) {
            cm_err_set(err, "store_error", "out of memory reading contacts");
            goto out;
        }
        contact_row(s, &arr[count++]);
    }
    if (rc != SQLITE_DONE) {
        st_fail(st, rc, "listing contacts", NULL, err);
        goto out;
    }
    *out = arr;
    *n = count;
    arr = NULL;
    ret = 0;
out:
    q_put(st, s);
    free(arr);
    return ret;
}

/* ---- domains ---- */

#define DOMAIN_COLS                                                                                \
    "id, account_id, name, org_id, dcv_method, dcv_value, dcv_value_expires, dcv_email, "          \
    "validated_at, valid_until, created_at"

static void domain_row(sqlite3_stmt *s, void *out)
{
    cm_domain *d = out;
    memset(d, 0, sizeof *d);
    d->id = c_int(s, 0);
    d->account_id = c_int(s, 1);
    c_text(s, 2, d->name, sizeof d->name);
    d->org_id = c_int(s, 3);
    c_text(s, 4, d->dcv_method, sizeof d->dcv_method);
    c_text(s, 5, d->dcv_value, sizeof d->dcv_value);
    d->dcv_value_expires = c_int(s, 6);
    c_text(s, 7, d->dcv_email, sizeof d->dcv_email);
    d->validated_at = c_int(s, 8);
    d->valid_until = c_int(s, 9);
    d->created_at = c_int(s, 10);
}

int store_domain_insert(cm_store *st, cm_domain *d, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO domains (account_id, name, org_id, dcv_method, dcv_value, "
                            "dcv_value_expires, dcv_email, validated_at, valid_until, created_at) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, d->account_id);
    b_text(s, 2, d->name);
    b_ref(s, 3, d->org_id);
    b_text(s, 4, d->dcv_method);
    b_text(s, 5, d->dcv_value);
    b_int(s, 6, d->dcv_value_expires);
    b_text(s, 7, d->dcv_email);
    b_int(s, 8, d->validated_at);
    b_int(s, 9, d->valid_until);
    b_int(s, 10, d->created_at);
    if (q_exec(st, s, "inserting a domain", "this domain is already registered in the account",
               err) != 0)
        goto out;
    d->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_domain_get(cm_store *st, int64_t account_id, int64_t id, cm_domain *out, cm_err *err)
{
    char nf[96];
    snprintf(nf, sizeof nf, "domain %" PRId64 " does not exist in this account", id);
    sqlite3_stmt *s =
        q_get(st, "SELECT " DOMAIN_COLS " FROM domains WHERE account_id = ?1 AND id = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, domain_row, out, "domain_not_found", nf, "reading a domain", err);
    q_put(st, s);
    return ret;
}

int store_domain_get_by_name(cm_store *st, int64_t account_id, const char *name, cm_domain *out,
                             cm_err *err)
{
    sqlite3_stmt *s =
        q_get(st, "SELECT " DOMAIN_COLS " FROM domains WHERE account_id = ?1 AND name = ?2", err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_text(s, 2, name);
    int ret = q_one(st, s, domain_row, out, "domain_not_found",
                    "this domain is not registered in the account; add it first",
                    "reading a domain", err);
    q_put(st, s);
    return ret;
}

int store_domain_update_dcv(cm_store *st, const cm_domain *d, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "UPDATE domains SET dcv_method = ?3, dcv_value = ?4, "
                            "dcv_value_expires = ?5, dcv_email = ?6, validated_at = ?7, "
                            "valid_until = ?8 WHERE account_id = ?1 AND id = ?2",
                            err);
    if (s == NULL)
        goto out;
    b_int(s, 1, d->account_id);
    b_int(s, 2, d->id);
    b_text(s, 3, d->dcv_method);
    b_text(s, 4, d->dcv_value);
    b_int(s, 5, d->dcv_value_expires);
    b_text(s, 6, d->dcv_email);
    b_int(s, 7, d->validated_at);
    b_int(s, 8, d->valid_until);
    if (q_exec(st, s, "updating a domain's DCV", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "domain_not_found", "domain %" PRId64 " does not exist in this account",
                   d->id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

static const st_col domain_sorts[] = {{"id", "id", LC_INT},
                                      {"name", "name", LC_TEXT},
                                      {"created_at", "created_at", LC_INT},
                                      {"valid_until", "valid_until", LC_INT},
                                      {0}};
static const st_col domain_filters[] = {
    {"name", "name", LC_TEXT}, {"org_id", "org_id", LC_REF}, {0}};

int store_domain_list(cm_store *st, int64_t account_id, const cm_list_opts *o, cm_domain **out,
                      size_t *n, int64_t *total, cm_err *err)
{
    st_list l = {.cols = DOMAIN_COLS,
                 .from = "domains",
                 .sorts = domain_sorts,
                 .filters = domain_filters,
                 .scope = {"account_id = ?"},
                 .scope_val = {account_id},
                 .n_scope = 1};
    return st_list_run(st, &l, o, sizeof **out, domain_row, (void **)out, n, total, err);
}
