/* internal.h — shared between the files of src/store/ (the SQLite backend) only.
 *
 * One cm_store is one sqlite3 connection opened NOMUTEX: one thread uses it at a time. Prepared
 * statements are cached per connection, keyed by their SQL text (q_get / q_put). Every noun file
 * reads the same way: q_get, bind, step, map the result, q_put. */
#ifndef CM_STORE_INTERNAL_H
#define CM_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/err.h"

/* Cached statements per connection: enough for every fixed query and the list variants in use;
 * past that, idle entries are evicted round-robin. */
#define ST_CACHE_MAX 192

typedef struct st_cached {
    char *sql; /* malloc'd copy of the text: the key */
    uint32_t hash;
    sqlite3_stmt *stmt;
    bool in_use;
} st_cached;

/* Group commit (DESIGN.md §4) for the connections of one pool: their write transactions take
 * `write_mu` (in-process writers queue on a mutex instead of SQLite's sleeping busy handler),
 * commit with synchronous=NORMAL (the WAL is written, not yet synced), and then wait until one
 * fsync of the WAL — by whichever committer leads — covers their commit. No store_commit
 * returns before its transaction is durable; concurrent commits share an fsync. */
typedef struct st_group {
    pthread_mutex_t write_mu;
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    uint64_t committed; /* commits written to the WAL (under sync_mu) */
    uint64_t durable;   /* commits known to be on disk */
    bool syncing;       /* a leader is in fsync */
    uint64_t syncs;     /* fsyncs done (store_pool_stats) */
    char wal_path[1040];
} st_group;

struct cm_store {
    sqlite3 *db;
    st_group *group;    /* NULL outside a pool: plain synchronous=FULL commits */
    bool writing;       /* holds group->write_mu */
    char path[1024];
    st_cached cache[ST_CACHE_MAX];
    size_t n_cache;
    size_t hand; /* eviction clock */
};

/* ---- migrations (sqlite_schema.c) ---- */

/* The SQL text of migration `version` (1 … st_migration_latest()), or NULL. Static. */
const char *st_migration_sql(int version);
int st_migration_latest(void);

/* ---- errors ---- */

/* Maps a SQLite result code to a cm_err and logs the SQLite message: busy/locked → store_busy;
 * unique or primary key → conflict (with `conflict_msg`, or a generic message when NULL);
 * check, not-null and foreign key → field_invalid; anything else → store_error. `what` names
 * the operation for the log ("inserting user"). Returns -1. */
int st_fail(cm_store *st, int rc, const char *what, const char *conflict_msg, cm_err *err);

/* ---- statements ---- */

/* A prepared statement for `sql`, reset and with no bindings, from the connection's cache (or
 * freshly prepared). NULL with `err` set on failure. Give it back with q_put. */
sqlite3_stmt *q_get(cm_store *st, const char *sql, cm_err *err);
/* Resets the statement and clears its bindings (cached) or finalizes it. NULL is ignored. */
void q_put(cm_store *st, sqlite3_stmt *s);

/* Runs a statement that returns no rows (or whose rows are ignored); 0 or -1 via st_fail. */
int q_exec(cm_store *st, sqlite3_stmt *s, const char *what, const char *conflict_msg, cm_err *err);

/* Runs plain SQL text with no parameters (pragmas, transactions, migrations). */
int st_exec(cm_store *st, const char *sql, const char *what, cm_err *err);

/* Steps `s` for one row and fills `out` with fn. No row gives `nf_code` with `nf_msg`. */
typedef void (*st_row_fn)(sqlite3_stmt *s, void *out);
int q_one(cm_store *st, sqlite3_stmt *s, st_row_fn fn, void *out, const char *nf_code,
          const char *nf_msg, const char *what, cm_err *err);

/* Runs `sql` (?1 = account_id, ?2 = id) and copies the first column of its row, as text, into
 * out (outsz bytes, truncated; NULL gives ""). No row: `nf_code`. */
int q_text_by_id(cm_store *st, const char *sql, int64_t account_id, int64_t id, char *out,
                 size_t outsz, const char *nf_code, const char *what, cm_err *err);

/* ---- transactions inside a store function ---- */

/* Makes a group of statements atomic: BEGIN IMMEDIATE when no transaction is open (then *own is
 * true), else a SAVEPOINT inside the caller's transaction. tx_end commits/releases when `ok`,
 * else rolls back to where tx_begin started. tx_end returns 0, or -1 when the commit failed. */
int tx_begin(cm_store *st, bool *own, cm_err *err);
int tx_end(cm_store *st, bool own, bool ok, cm_err *err);

/* ---- binding and reading columns ---- */

void b_text(sqlite3_stmt *s, int i, const char *v); /* bound SQLITE_STATIC: keep v alive */
void b_int(sqlite3_stmt *s, int i, int64_t v);
void b_ref(sqlite3_stmt *s, int i, int64_t v); /* 0 → NULL (an optional reference) */
void b_bool(sqlite3_stmt *s, int i, bool v);
void b_blob(sqlite3_stmt *s, int i, const void *p, size_t n);

void c_text(sqlite3_stmt *s, int i, char *buf, size_t size);  /* truncates; NULL → "" */
int64_t c_int(sqlite3_stmt *s, int i);                        /* NULL → 0 */
void c_blob32(sqlite3_stmt *s, int i, unsigned char out[32]); /* wrong length → zeros */
/* A malloc'd copy of a blob column (plus a NUL byte, not counted); *p = NULL for NULL. -1 when
 * out of memory. Caller frees. */
int c_blob_dup(sqlite3_stmt *s, int i, unsigned char **p, size_t *n);

/* ---- lists ---- */

typedef enum {
    LC_TEXT, /* compared as text, bound */
    LC_INT,  /* the filter value must be an integer */
    LC_REF,  /* like LC_INT; 0 means "none" (NULL) */
} st_coltype;

/* One sortable or filterable column: the public name and its SQL expression (from code only). */
typedef struct st_col {
    const char *name;
    const char *expr;
    st_coltype type;
} st_col;

#define ST_MAX_SCOPE 3

/* A list query: SELECT cols FROM from WHERE scope… AND filters… ORDER BY sort, id LIMIT OFFSET,
 * and the same WHERE for the COUNT. */
typedef struct st_list {
    const char *cols;
    const char *from;
    const st_col *sorts;             /* terminated by a NULL name; includes "id" */
    const st_col *filters;           /* terminated by a NULL name */
    const char *scope[ST_MAX_SCOPE]; /* fixed conditions, one '?' each */
    int64_t scope_val[ST_MAX_SCOPE];
    size_t n_scope;
    /* Optional counter table: when the scope has one condition and the only filter, if any, is
     * `fast_filter`, the total comes from `fast_count` (?1 = the scope value) or `fast_count_f`
     * (?1, ?2 = the filter value) instead of COUNT(*). */
    const char *fast_filter, *fast_count, *fast_count_f;
} st_list;

/* Checks the options against the list's whitelists (`field_invalid`), counts, and reads one
 * page: *out is a malloc'd array of *n elements of `elem` bytes each filled by fn (caller frees;
 * NULL when empty). */
int st_list_run(cm_store *st, const st_list *l, const cm_list_opts *o, size_t elem, st_row_fn fn,
                void **out, size_t *n, int64_t *total, cm_err *err);

/* Grows a malloc'd array for rows read one by one: *cap doubles (from 8) up to `max` elements.
 * -1 when out of memory or at `max`. */
int st_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max);

#endif
