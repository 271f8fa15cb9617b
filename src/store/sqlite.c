/* sqlite.c — the SQLite backend's connection: open with its pragmas, migrations, transactions,
 * the statement cache, error mapping, the connection pool and the list-query builder. */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"

#define BUSY_TIMEOUT_MS 5000

/* ---- errors ---- */

int st_fail(cm_store *st, int rc, const char *what, const char *conflict_msg, cm_err *err)
{
    const char *msg = st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        log_msg(LOG_WARN, "store=sqlite op=\"%s\" rc=%d msg=\"%s\"", what, rc, msg);
        return cm_err_set(err, "store_busy",
                          "the database stayed locked while %s; retry in a moment", what);
    case SQLITE_CONSTRAINT:
        break;
    default:
        log_msg(LOG_ERROR, "store=sqlite op=\"%s\" rc=%d msg=\"%s\"", what, rc, msg);
        return cm_err_set(err, "store_error",
                          "database error while %s; the server log has the details", what);
    }
    log_msg(LOG_DEBUG, "store=sqlite op=\"%s\" rc=%d msg=\"%s\"", what, rc, msg);
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return cm_err_set(err, "conflict", "%s",
                          conflict_msg != NULL ? conflict_msg
                                               : "a record with the same key already exists");
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return cm_err_set(err, "field_invalid",
                          "%s: a referenced record does not exist in this account", what);
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
        return cm_err_set(err, "field_invalid",
                          "%s: a value is missing or not one of the allowed values", what);
    default:
        log_msg(LOG_ERROR, "store=sqlite op=\"%s\" rc=%d msg=\"%s\"", what, rc, msg);
        return cm_err_set(err, "store_error",
                          "database error while %s; the server log has the details", what);
    }
}

/* ---- statements ---- */

static uint32_t sql_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static void cache_drop(st_cached *c)
{
    sqlite3_finalize(c->stmt);
    free(c->sql);
    memset(c, 0, sizeof *c);
}

sqlite3_stmt *q_get(cm_store *st, const char *sql, cm_err *err)
{
    uint32_t h = sql_hash(sql);
    for (size_t i = 0; i < st->n_cache; i++) {
        st_cached *c = &st->cache[i];
        if (c->hash == h && !c->in_use && c->sql != NULL && strcmp(c->sql, sql) == 0) {
            c->in_use = true;
            return c->stmt;
        }
    }
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK) {
        st_fail(st, rc, "preparing a query", NULL, err);
        return NULL;
    }
    st_cached *slot = NULL;
    if (st->n_cache < ST_CACHE_MAX) {
        slot = &st->cache[st->n_cache++];
    } else {
        for (size_t k = 0; k < ST_CACHE_MAX && slot == NULL; k++) {
            st_cached *c = &st->cache[st->hand];
            st->hand = (st->hand + 1) % ST_CACHE_MAX;
            if (!c->in_use) {
                cache_drop(c);
                slot = c;
            }
        }
    }
    if (slot == NULL)
        return s; /* every entry busy: an uncached statement, finalized by q_put */
    size_t len = strlen(sql);
    slot->sql = malloc(len + 1);
    if (slot->sql == NULL) {
        memset(slot, 0, sizeof *slot); /* an empty slot never matches (NULL sql) */
        return s;
    }
    memcpy(slot->sql, sql, len + 1);
    slot->hash = h;
    slot->stmt = s;
    slot->in_use = true;
    return s;
}

void q_put(cm_store *st, sqlite3_stmt *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < st->n_cache; i++) {
        if (st->cache[i].stmt == s) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            st->cache[i].in_use = false;
            return;
        }
    }
    sqlite3_finalize(s);
}

int q_exec(cm_store *st, sqlite3_stmt *s, const char *what, const char *conflict_msg, cm_err *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        return st_fail(st, rc, what, conflict_msg, err);
    return 0;
}

int st_exec(cm_store *st, const char *sql, const char *what, cm_err *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return st_fail(st, rc, what, NULL, err);
    return 0;
}

int q_one(cm_store *st, sqlite3_stmt *s, st_row_fn fn, void *out, const char *nf_code,
          const char *nf_msg, const char *what, cm_err *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        fn(s, out);
        return 0;
    }
    if (rc == SQLITE_DONE)
        return cm_err_set(err, nf_code, "%s", nf_msg);
    return st_fail(st, rc, what, NULL, err);
}

typedef struct text_out {
    char *buf;
    size_t size;
} text_out;

static void text_row(sqlite3_stmt *s, void *out)
{
    text_out *t = out;
    c_text(s, 0, t->buf, t->size);
}

int q_text_by_id(cm_store *st, const char *sql, int64_t account_id, int64_t id, char *out,
                 size_t outsz, const char *nf_code, const char *what, cm_err *err)
{
    text_out t = {out, outsz};
    if (outsz == 0)
        return cm_err_set(err, "store_error", "no room for %s", what);
    sqlite3_stmt *s = q_get(st, sql, err);
    if (s == NULL)
        return -1;
    b_int(s, 1, account_id);
    b_int(s, 2, id);
    int ret = q_one(st, s, text_row, &t, nf_code, "no such row in this account", what, err);
    q_put(st, s);
    return ret;
}

/* ---- transactions inside a store function ---- */

int tx_begin(cm_store *st, bool *own, cm_err *err)
{
    *own = sqlite3_get_autocommit(st->db) != 0;
    if (*own)
        return store_begin(st, err);
    return st_exec(st, "SAVEPOINT cm_tx", "starting a transaction", err);
}

int tx_end(cm_store *st, bool own, bool ok, cm_err *err)
{
    if (own) {
        if (!ok) {
            store_rollback(st);
            return 0;
        }
        return store_commit(st, err);
    }
    if (!ok) {
        sqlite3_exec(st->db, "ROLLBACK TO cm_tx; RELEASE cm_tx", NULL, NULL, NULL);
        return 0;
    }
    return st_exec(st, "RELEASE cm_tx", "releasing a savepoint", err);
}

/* ---- binding and reading ---- */

void b_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v != NULL ? v : "", -1, SQLITE_STATIC);
}

void b_int(sqlite3_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(s, i, v);
}

void b_ref(sqlite3_stmt *s, int i, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, v);
}

void b_bool(sqlite3_stmt *s, int i, bool v)
{
    sqlite3_bind_int(s, i, v ? 1 : 0);
}

void b_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
    if (p == NULL)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_blob64(s, i, p, n, SQLITE_STATIC);
}

void c_text(sqlite3_stmt *s, int i, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    if (t == NULL)
        buf[0] = '\0';
    else
        str_copy(buf, size, (const char *)t); /* longer than the field: truncated */
}

int64_t c_int(sqlite3_stmt *s, int i)
{
    return sqlite3_column_int64(s, i);
}

void c_blob32(sqlite3_stmt *s, int i, unsigned char out[32])
{
    const void *p = sqlite3_column_blob(s, i);
    if (p != NULL && sqlite3_column_bytes(s, i) == 32)
        memcpy(out, p, 32);
    else
        memset(out, 0, 32);
}

int c_blob_dup(sqlite3_stmt *s, int i, unsigned char **p, size_t *n)
{
    const void *src = sqlite3_column_blob(s, i);
    int len = sqlite3_column_bytes(s, i);
    *p = NULL;
    *n = 0;
    if (src == NULL || len <= 0)
        return 0;
    unsigned char *buf = malloc((size_t)len + 1);
    if (buf == NULL)
        return -1;
    memcpy(buf, src, (size_t)len);
    buf[len] = '\0';
    *p = buf;
    *n = (size_t)len;
    return 0;
}

int st_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
    if (n < *cap)
        return 0;
    if (n >= max)
        return -1;
    size_t ncap = *cap == 0 ? 8 : *cap * 2;
    if (ncap > max)
        ncap = max;
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* ---- connection and migrations ---- */

static int pragma_int(cm_store *st, const char *sql, int *out, cm_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK)
        return st_fail(st, rc, "reading the schema version", NULL, err);
    return 0;
}

int store_schema_version(cm_store *st)
{
    int v = -1;
    if (pragma_int(st, "PRAGMA user_version", &v, NULL) != 0)
        return -1;
    return v;
}

int store_schema_latest(void)
{
    return st_migration_latest();
}

int store_migrate(cm_store *st, int *from, int *to, cm_err *err)
{
    int ret = -1, cur = 0, start = 0, latest = st_migration_latest();
    bool open_tx = false;
    if (pragma_int(st, "PRAGMA user_version", &cur, err) != 0)
        goto out;
    start = cur;
    if (from != NULL)
        *from = cur;
    if (cur > latest) {
        cm_err_set(err, "store_too_new",
                   "the database has schema version %d but this certmint knows only %d; "
                   "upgrade certmint",
                   cur, latest);
        goto out;
    }
    for (int v = cur + 1; v <= latest; v++) {
        if (st_exec(st, "BEGIN IMMEDIATE", "starting a migration", err) != 0)
            goto out;
        open_tx = true;
        int now = 0;
        /* Another process may have migrated while we waited for the lock. */
        if (pragma_int(st, "PRAGMA user_version", &now, err) != 0)
            goto out;
        if (now < v) {
            char setv[64];
            snprintf(setv, sizeof setv, "PRAGMA user_version = %d", v);
            if (st_exec(st, st_migration_sql(v), "running a schema migration", err) != 0 ||
                st_exec(st, setv, "recording the schema version", err) != 0) {
                cm_err_prefix(err, "migration %d", v);
                goto out;
            }
        }
        if (st_exec(st, "COMMIT", "committing a migration", err) != 0)
            goto out;
        open_tx = false;
        if (now >= v)
            v = now; /* continue after what the other process did */
    }
    if (pragma_int(st, "PRAGMA user_version", &cur, err) != 0)
        goto out;
    if (to != NULL)
        *to = cur;
    if (cur < latest) {
        cm_err_set(err, "store_error", "the schema is at version %d after migrating, not %d", cur,
                   latest);
        goto out;
    }
    if (start != cur)
        log_msg(LOG_INFO, "store=sqlite migrated=1 from=%d to=%d", start, cur);
    ret = 0;
out:
    if (open_tx)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return ret;
}

static int set_pragmas(cm_store *st, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = NULL;
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        st_fail(st, rc, "switching to WAL mode", NULL, err);
        goto out;
    }
    const unsigned char *mode = sqlite3_column_text(s, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        cm_err_set(err, "store_error",
                   "%s: cannot use WAL mode (got \"%s\"); is it on a local "
                   "file system?",
                   st->path, mode != NULL ? (const char *)mode : "");
        goto out;
    }
    if (st_exec(st, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", "setting pragmas", err) != 0)
        goto out;
    ret = 0;
out:
    sqlite3_finalize(s);
    return ret;
}

int store_open(const cm_config *cfg, bool migrate, cm_store **out, cm_err *err)
{
    int ret = -1;
    cm_store *st = NULL;
    *out = NULL;
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        cm_err_set(err, "store_error", "out of memory opening the database");
        goto out;
    }
    int n = cfg->db[0] != '\0' ? snprintf(st->path, sizeof st->path, "%s", cfg->db)
                               : snprintf(st->path, sizeof st->path, "%s/certmint.db", cfg->dir);
    if (n < 0 || (size_t)n >= sizeof st->path) {
        cm_err_set(err, "config_invalid",
                   "the database path is too long; use a shorter --dir or db");
        goto out;
    }
    struct stat sb;
    if (stat(st->path, &sb) != 0) {
        if (!migrate) {
            cm_err_set(err, "store_needs_migration",
                       "%s does not exist yet; run `certmint migrate --dir DIR`", st->path);
            goto out;
        }
        /* Created here with 0600 so SQLite never makes it with the umask's mode; the -wal and
         * -shm files inherit this mode from it. */
        int fd = open(st->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            cm_err_set(err, "store_error", "cannot create %s: %s", st->path, strerror(errno));
            goto out;
        }
        if (fd >= 0)
            close(fd);
    }
    int rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        cm_err_set(err, "store_error", "cannot open the database %s: %s", st->path,
                   st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto out;
    }
    if (set_pragmas(st, err) != 0) {
        cm_err_prefix(err, "%s", st->path);
        goto out;
    }
    int version = 0;
    if (pragma_int(st, "PRAGMA user_version", &version, err) != 0) {
        cm_err_prefix(err, "%s (is it a certmint database?)", st->path);
        goto out;
    }
    if (version > st_migration_latest()) {
        cm_err_set(err, "store_too_new",
                   "%s has schema version %d but this certmint knows only %d; upgrade certmint",
                   st->path, version, st_migration_latest());
        goto out;
    }
    if (migrate) {
        if (store_migrate(st, NULL, NULL, err) != 0)
            goto out;
    } else if (version < st_migration_latest()) {
        cm_err_set(err, "store_needs_migration",
                   "the database schema is at version %d, this certmint needs %d; run "
                   "`certmint migrate --dir DIR`",
                   version, st_migration_latest());
        goto out;
    }
    *out = st;
    st = NULL;
    ret = 0;
out:
    store_close(st);
    return ret;
}

void store_close(cm_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_cache; i++)
        cache_drop(&st->cache[i]);
    if (st->db != NULL) {
        if (sqlite3_get_autocommit(st->db) == 0)
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(st->db);
    }
    free(st);
}

/* ---- transactions ---- */

int store_begin(cm_store *st, cm_err *err)
{
    if (sqlite3_get_autocommit(st->db) == 0)
        return cm_err_set(err, "store_error", "a transaction is already open on this connection");
    if (st->group == NULL)
        return st_exec(st, "BEGIN IMMEDIATE", "starting a transaction", err);
    pthread_mutex_lock(&st->group->write_mu);
    st->writing = true;
    if (st_exec(st, "PRAGMA synchronous=NORMAL", "starting a transaction", err) != 0 ||
        st_exec(st, "BEGIN IMMEDIATE", "starting a transaction", err) != 0) {
        store_rollback(st);
        return -1;
    }
    return 0;
}

/* Waits until commit number `seq` of the group is on disk: the first waiter fsyncs the WAL for
 * everyone who committed before it started; the others wait for that fsync (or lead the next). */
static int group_sync(st_group *g, uint64_t seq, cm_err *err)
{
    int ret = 0;
    pthread_mutex_lock(&g->sync_mu);
    while (g->durable < seq && ret == 0) {
        if (g->syncing) {
            pthread_cond_wait(&g->sync_cv, &g->sync_mu);
            continue;
        }
        g->syncing = true;
        uint64_t target = g->committed;
        pthread_mutex_unlock(&g->sync_mu);
        /* fsync flushes the file's pages whoever wrote them: SQLite's connections wrote the WAL
         * through their own descriptors. */
        int fd = open(g->wal_path, O_RDONLY | O_CLOEXEC);
        int rc = fd >= 0 ? fsync(fd) : -1;
        int e = errno;
        if (fd >= 0)
            close(fd);
        pthread_mutex_lock(&g->sync_mu);
        g->syncing = false;
        g->syncs += rc == 0;
        if (rc == 0 && target > g->durable)
            g->durable = target;
        else if (rc != 0)
            ret = cm_err_set(err, "store_error", "syncing the database journal: %s", strerror(e));
        pthread_cond_broadcast(&g->sync_cv);
    }
    pthread_mutex_unlock(&g->sync_mu);
    return ret;
}

int store_commit(cm_store *st, cm_err *err)
{
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        st_fail(st, rc, "committing", NULL, err);
        store_rollback(st);
        return -1;
    }
    if (st->group == NULL || !st->writing)
        return 0;
    st_group *g = st->group;
    pthread_mutex_lock(&g->sync_mu);
    uint64_t seq = ++g->committed;
    pthread_mutex_unlock(&g->sync_mu);
    sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    st->writing = false;
    pthread_mutex_unlock(&g->write_mu);
    return group_sync(g, seq, err);
}

void store_rollback(cm_store *st)
{
    if (st == NULL || st->db == NULL)
        return;
    if (sqlite3_get_autocommit(st->db) == 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    if (st->writing) {
        sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
        st->writing = false;
        pthread_mutex_unlock(&st->group->write_mu);
    }
}

/* ---- pool ---- */

struct cm_store_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    st_group group;
    int size;
    int n_free;
    cm_store **all;
    cm_store **free_list; /* a stack of the idle connections */
};

int store_pool_open(const cm_config *cfg, int size, cm_store_pool **out, cm_err *err)
{
    int ret = -1;
    cm_store_pool *p = NULL;
    *out = NULL;
    if (size < 1 || size > 1024) {
        cm_err_set(err, "field_invalid", "pool size %d is out of range 1..1024", size);
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->all = calloc((size_t)size, sizeof *p->all)) == NULL ||
        (p->free_list = calloc((size_t)size, sizeof *p->free_list)) == NULL) {
        cm_err_set(err, "store_error", "out of memory opening the connection pool");
        goto out;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->group.write_mu, NULL);
    pthread_mutex_init(&p->group.sync_mu, NULL);
    pthread_cond_init(&p->group.sync_cv, NULL);
    for (int i = 0; i < size; i++) {
        /* The schema must be current: the pool never migrates (`certmint migrate` does). */
        if (store_open(cfg, false, &p->all[i], err) != 0)
            goto out;
        p->all[i]->group = &p->group;
        if (i == 0 && snprintf(p->group.wal_path, sizeof p->group.wal_path, "%s-wal",
                               p->all[0]->path) >= (int)sizeof p->group.wal_path) {
            cm_err_set(err, "store_error", "the database path is too long");
            goto out;
        }
        p->free_list[i] = p->all[i];
        p->size = i + 1;
    }
    p->n_free = size;
    *out = p;
    p = NULL;
    ret = 0;
out:
    if (p != NULL && p->all != NULL && p->free_list != NULL)
        store_pool_close(p);
    else if (p != NULL) {
        free(p->all);
        free(p);
    }
    return ret;
}

cm_store *store_pool_get(cm_store_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->n_free == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    cm_store *st = p->free_list[--p->n_free];
    pthread_mutex_unlock(&p->mu);
    return st;
}

void store_pool_put(cm_store_pool *p, cm_store *st)
{
    if (st == NULL)
        return;
    store_rollback(st); /* a connection goes back clean, whatever the borrower left open */
    pthread_mutex_lock(&p->mu);
    p->free_list[p->n_free++] = st;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void store_pool_stats(cm_store_pool *p, uint64_t *commits, uint64_t *syncs)
{
    pthread_mutex_lock(&p->group.sync_mu);
    *commits = p->group.committed;
    *syncs = p->group.syncs;
    pthread_mutex_unlock(&p->group.sync_mu);
}

void store_pool_close(cm_store_pool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        store_close(p->all[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->group.sync_cv);
    pthread_mutex_destroy(&p->group.sync_mu);
    pthread_mutex_destroy(&p->group.write_mu);
    free(p->all);
    free(p->free_list);
    free(p);
}

/* ---- lists ---- */

/* Appends to a bounded buffer; -1 when it would not fit. */
static int ap(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ap(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, va);
    va_end(va);
    if (n < 0 || (size_t)n >= size - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

static const st_col *find_col(const st_col *cols, const char *name)
{
    for (const st_col *c = cols; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void col_names(const st_col *cols, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const st_col *c = cols; c->name != NULL; c++)
        if (ap(buf, size, &len, "%s%s", c == cols ? "" : ", ", c->name) != 0)
            break;
}

static int parse_i64(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 20)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

typedef struct fbind {
    bool is_int;
    bool skip; /* "IS NULL": nothing to bind */
    int64_t iv;
    const char *sv;
} fbind;

static void bind_where(sqlite3_stmt *s, const st_list *l, const fbind *fb, size_t nf, int *idx)
{
    for (size_t i = 0; i < l->n_scope; i++)
        b_int(s, (*idx)++, l->scope_val[i]);
    for (size_t i = 0; i < nf; i++) {
        if (fb[i].skip)
            continue;
        if (fb[i].is_int)
            b_int(s, (*idx)++, fb[i].iv);
        else
            b_text(s, (*idx)++, fb[i].sv);
    }
}

int st_list_run(cm_store *st, const st_list *l, const cm_list_opts *o, size_t elem, st_row_fn fn,
                void **out, size_t *n, int64_t *total, cm_err *err)
{
    int ret = -1;
    char where[1024], sql[4096], allowed[256];
    size_t wl = 0, sl = 0, cap = 0, count = 0;
    fbind fb[8];
    void *arr = NULL;
    sqlite3_stmt *cs = NULL, *ps = NULL;
    bool own_read = false;
    *out = NULL;
    *n = 0;
    *total = 0;

    if (o->limit < 1 || o->limit > 1000) {
        cm_err_set(err, "field_invalid", "limit must be between 1 and 1000, not %" PRId64,
                   o->limit);
        goto out;
    }
    if (o->offset < 0) {
        cm_err_set(err, "field_invalid", "offset must not be negative");
        goto out;
    }
    if (o->n_filters > 8) {
        cm_err_set(err, "field_invalid", "at most 8 filters may be given");
        goto out;
    }
    const char *sort_name = str_empty(o->sort) ? "id" : o->sort;
    const st_col *sc = find_col(l->sorts, sort_name);
    if (sc == NULL) {
        col_names(l->sorts, allowed, sizeof allowed);
        cm_err_set(err, "field_invalid", "cannot sort by \"%.64s\"; sort by one of: %s", sort_name,
                   allowed);
        goto out;
    }
    where[0] = '\0';
    if (ap(where, sizeof where, &wl, "1") != 0)
        goto toolong;
    for (size_t i = 0; i < l->n_scope; i++)
        if (ap(where, sizeof where, &wl, " AND %s", l->scope[i]) != 0)
            goto toolong;
    for (size_t i = 0; i < o->n_filters; i++) {
        const char *name = o->filter_names[i], *val = o->filter_values[i];
        const st_col *fc = name != NULL ? find_col(l->filters, name) : NULL;
        if (fc == NULL) {
            col_names(l->filters, allowed, sizeof allowed);
            cm_err_set(err, "field_invalid", "cannot filter by \"%.64s\"; filter by one of: %s",
                       name != NULL ? name : "", allowed[0] != '\0' ? allowed : "(none)");
            goto out;
        }
        if (val == NULL) {
            cm_err_set(err, "field_invalid", "filters[%s] needs a value", fc->name);
            goto out;
        }
        memset(&fb[i], 0, sizeof fb[i]);
        if (fc->type == LC_TEXT) {
            fb[i].sv = val;
        } else {
            if (parse_i64(val, &fb[i].iv) != 0) {
                cm_err_set(err, "field_invalid", "filters[%s] must be an integer", fc->name);
                goto out;
            }
            fb[i].is_int = true;
            fb[i].skip = fc->type == LC_REF && fb[i].iv == 0;
        }
        if (ap(where, sizeof where, &wl, fb[i].skip ? " AND %s IS NULL" : " AND %s = ?",
               fc->expr) != 0)
            goto toolong;
    }

    /* One snapshot for the count and the page when the caller has no transaction open. */
    if (sqlite3_get_autocommit(st->db) != 0) {
        if (st_exec(st, "BEGIN", "starting a read", err) != 0)
            goto out;
        own_read = true;
    }
    bool fast = l->fast_count != NULL && l->n_scope == 1 &&
                (o->n_filters == 0 ||
                 (o->n_filters == 1 && strcmp(o->filter_names[0], l->fast_filter) == 0));
    int idx = 1;
    if (fast) {
        if ((cs = q_get(st, o->n_filters ? l->fast_count_f : l->fast_count, err)) == NULL)
            goto out;
        b_int(cs, 1, l->scope_val[0]);
        if (o->n_filters)
            sqlite3_bind_text(cs, 2, o->filter_values[0], -1, SQLITE_STATIC);
    } else {
        if (ap(sql, sizeof sql, &sl, "SELECT COUNT(*) FROM %s WHERE %s", l->from, where) != 0)
            goto toolong;
        if ((cs = q_get(st, sql, err)) == NULL)
            goto out;
        bind_where(cs, l, fb, o->n_filters, &idx);
    }
    int rc = sqlite3_step(cs);
    if (rc != SQLITE_ROW) {
        st_fail(st, rc, "counting a list", NULL, err);
        goto out;
    }
    *total = c_int(cs, 0);

    const char *dir = o->desc ? "DESC" : "ASC";
    sl = 0;
    if (ap(sql, sizeof sql, &sl, "SELECT %s FROM %s WHERE %s ORDER BY %s %s", l->cols, l->from,
           where, sc->expr, dir) != 0)
        goto toolong;
    if (strcmp(sc->expr, "id") != 0 && ap(sql, sizeof sql, &sl, ", id %s", dir) != 0)
        goto toolong;
    if (ap(sql, sizeof sql, &sl, " LIMIT ? OFFSET ?") != 0)
        goto toolong;
    if ((ps = q_get(st, sql, err)) == NULL)
        goto out;
    idx = 1;
    bind_where(ps, l, fb, o->n_filters, &idx);
    b_int(ps, idx++, o->limit);
    b_int(ps, idx++, o->offset);
    while ((rc = sqlite3_step(ps)) == SQLITE_ROW) {
        if (st_grow(&arr, &cap, count, elem, (size_t)o->limit) != 0) {
            cm_err_set(err, "store_error", "out of memory reading a list");
            goto out;
        }
        void *item = (char *)arr + count * elem;
        memset(item, 0, elem);
        fn(ps, item);
        count++;
    }
    if (rc != SQLITE_DONE) {
        st_fail(st, rc, "reading a list", NULL, err);
        goto out;
    }
    *out = arr;
    *n = count;
    arr = NULL;
    ret = 0;
    goto out;
toolong:
    cm_err_set(err, "field_invalid", "the list query is too long; use fewer filters");
out:
    q_put(st, cs);
    q_put(st, ps);
    if (own_read)
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    free(arr);
    if (ret != 0)
        *total = 0;
    return ret;
}
