/* sqlite_job.c — the jobs table (leased by workers on several connections) and the mail outbox,
 * in the SQLite backend. */
#include "store/internal.h"

#include <inttypes.h>
#include <string.h>

#define DEFAULT_MAX_ATTEMPTS 5

/* ---- jobs ---- */

#define JOB_COLS                                                                                   \
    "id, kind, payload, unique_key, run_at, attempts, max_attempts, status, last_error, "          \
    "lease_until"

static void job_row(sqlite3_stmt *s, void *out)
{
    cm_job *j = out;
    memset(j, 0, sizeof *j);
    j->id = c_int(s, 0);
    c_text(s, 1, j->kind, sizeof j->kind);
    c_text(s, 2, j->payload, sizeof j->payload);
    c_text(s, 3, j->unique_key, sizeof j->unique_key);
    j->run_at = c_int(s, 4);
    j->attempts = (int)c_int(s, 5);
    j->max_attempts = (int)c_int(s, 6);
    c_text(s, 7, j->status, sizeof j->status);
    c_text(s, 8, j->last_error, sizeof j->last_error);
    j->lease_until = c_int(s, 9);
}

int store_job_enqueue(cm_store *st, cm_job *j, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = NULL, *q = NULL;
    bool own = false, began = false;
    int64_t id = 0;
    int max = j->max_attempts > 0 ? j->max_attempts : DEFAULT_MAX_ATTEMPTS;
    if (tx_begin(st, &own, err) != 0)
        goto out;
    began = true;
    /* The partial unique index jobs_unique_key makes a second live job of a key a no-op. */
    s = q_get(st,
              "INSERT INTO jobs (kind, payload, unique_key, run_at, attempts, max_attempts, "
              "status, last_error, lease_until) VALUES (?1, ?2, ?3, ?4, 0, ?5, 'queued', '', 0) "
              "ON CONFLICT DO NOTHING",
              err);
    if (s == NULL)
        goto out;
    b_text(s, 1, j->kind);
    b_text(s, 2, j->payload);
    if (j->unique_key[0] != '\0')
        b_text(s, 3, j->unique_key);
    else
        sqlite3_bind_null(s, 3);
    b_int(s, 4, j->run_at);
    b_int(s, 5, max);
    if (q_exec(st, s, "enqueueing a job", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 1) {
        id = sqlite3_last_insert_rowid(st->db);
    } else {
        q = q_get(st,
                  "SELECT id FROM jobs WHERE unique_key = ?1 AND status IN ('queued', 'running')",
                  err);
        if (q == NULL)
            goto out;
        b_text(q, 1, j->unique_key);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
            if (rc == SQLITE_DONE)
                cm_err_set(err, "store_error", "job enqueue: no job inserted and none found");
            else
                st_fail(st, rc, "finding a job by key", NULL, err);
            goto out;
        }
        id = c_int(q, 0);
    }
    ret = 0;
out:
    q_put(st, s);
    q_put(st, q);
    if (began && tx_end(st, own, ret == 0, err) != 0)
        ret = -1;
    if (ret == 0)
        j->id = id;
    return ret;
}

int store_job_lease(cm_store *st, int64_t now, int lease_secs, cm_job *out, bool *got, cm_err *err)
{
    int ret = -1, rc;
    sqlite3_stmt *dead = NULL, *pick = NULL, *take = NULL;
    bool open_tx = false;
    int64_t id = 0;
    *got = false;
    if (sqlite3_get_autocommit(st->db) == 0) {
        cm_err_set(err, "store_error",
                   "store_job_lease runs its own transaction; call it "
                   "outside store_begin/store_commit");
        goto out;
    }
    /* BEGIN IMMEDIATE takes the write lock first: two connections never pick the same job. */
    if (store_begin(st, err) != 0)
        goto out;
    open_tx = true;
    /* A worker died holding the last attempt: the job fails rather than running forever. */
    dead = q_get(st,
                 "UPDATE jobs SET status = 'failed', lease_until = 0, last_error = 'the lease "
                 "expired on the last attempt' WHERE status = 'running' AND lease_until <= ?1 AND "
                 "attempts >= max_attempts",
                 err);
    if (dead == NULL)
        goto out;
    b_int(dead, 1, now);
    if (q_exec(st, dead, "failing expired jobs", NULL, err) != 0)
        goto out;
    pick = q_get(st,
                 "SELECT id, run_at FROM (SELECT id, run_at FROM jobs WHERE status = 'queued' "
                 "AND run_at <= ?1 ORDER BY run_at, id LIMIT 1) UNION ALL SELECT id, run_at FROM "
                 "(SELECT id, run_at FROM jobs WHERE status = 'running' AND lease_until <= ?1 "
                 "ORDER BY run_at, id LIMIT 1) ORDER BY 2, 1 LIMIT 1",
                 err);
    if (pick == NULL)
        goto out;
    b_int(pick, 1, now);
    rc = sqlite3_step(pick);
    if (rc == SQLITE_ROW) {
        id = c_int(pick, 0);
    } else if (rc != SQLITE_DONE) {
        st_fail(st, rc, "finding a due job", NULL, err);
        goto out;
    }
    if (id != 0) {
        take = q_get(st,
                     "UPDATE jobs SET status = 'running', lease_until = ?2, "
                     "attempts = attempts + 1 WHERE id = ?1 RETURNING " JOB_COLS,
                     err);
        if (take == NULL)
            goto out;
        b_int(take, 1, id);
        b_int(take, 2, now + lease_secs);
        rc = sqlite3_step(take);
        if (rc != SQLITE_ROW) {
            st_fail(st, rc, "leasing a job", NULL, err);
            goto out;
        }
        job_row(take, out);
        while ((rc = sqlite3_step(take)) == SQLITE_ROW)
            ;
        if (rc != SQLITE_DONE) {
            st_fail(st, rc, "leasing a job", NULL, err);
            goto out;
        }
    }
    q_put(st, dead);
    q_put(st, pick);
    q_put(st, take);
    dead = pick = take = NULL;
    open_tx = false;
    if (store_commit(st, err) != 0)
        goto out;
    *got = id != 0;
    ret = 0;
out:
    q_put(st, dead);
    q_put(st, pick);
    q_put(st, take);
    if (open_tx)
        store_rollback(st);
    return ret;
}

/* Length of at most `max` bytes of s, not cutting a UTF-8 sequence. */
static int utf8_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return (int)n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return (int)n;
}

/* Ends a run of job `id` with one UPDATE whose parameters are ?1 the id and, when the statement
 * has them, ?2 the error text (bounded) and ?3 the retry time. `job_not_found` when no row. */
static int job_end(cm_store *st, int64_t id, const char *sql, const char *error,
                   int64_t retry_at, const char *what, cm_err *err)
{
    int ret = -1;
    const char *e = error != NULL ? error : "";
    sqlite3_stmt *s = q_get(st, sql, err);
    if (s == NULL)
        goto out;
    int params = sqlite3_bind_parameter_count(s);
    b_int(s, 1, id);
    if (params >= 2)
        sqlite3_bind_text(s, 2, e, utf8_prefix(e, sizeof((cm_job *)0)->last_error - 1),
                          SQLITE_STATIC);
    if (params >= 3)
        b_int(s, 3, retry_at);
    if (q_exec(st, s, what, NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "job_not_found", "job %" PRId64 " does not exist", id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

int store_job_done(cm_store *st, int64_t id, cm_err *err)
{
    return job_end(st, id, "UPDATE jobs SET status = 'done', lease_until = 0 WHERE id = ?1", NULL,
                   0, "finishing a job", err);
}

int store_job_retry(cm_store *st, int64_t id, const char *error, int64_t retry_at, cm_err *err)
{
    return job_end(st, id,
                   "UPDATE jobs SET last_error = ?2, lease_until = 0, status = CASE WHEN "
                   "attempts >= max_attempts THEN 'failed' ELSE 'queued' END, run_at = "
                   "CASE WHEN attempts >= max_attempts THEN run_at ELSE ?3 END WHERE id = ?1",
                   error, retry_at, "rescheduling a job", err);
}

int store_job_fail(cm_store *st, int64_t id, const char *error, cm_err *err)
{
    return job_end(st, id,
                   "UPDATE jobs SET last_error = ?2, lease_until = 0, status = 'failed' "
                   "WHERE id = ?1",
                   error, 0, "failing a job", err);
}

int store_job_counts(cm_store *st, int64_t *queued, int64_t *running, int64_t *failed, cm_err *err)
{
    int ret = -1, rc;
    int64_t q = 0, r = 0, f = 0;
    sqlite3_stmt *s = q_get(st,
                            "SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', "
                            "'running', 'failed') GROUP BY status",
                            err);
    if (s == NULL)
        goto out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        int64_t c = c_int(s, 1);
        if (status == NULL)
            continue;
        if (strcmp(status, "queued") == 0)
            q = c;
        else if (strcmp(status, "running") == 0)
            r = c;
        else if (strcmp(status, "failed") == 0)
            f = c;
    }
    if (rc != SQLITE_DONE) {
        st_fail(st, rc, "counting jobs", NULL, err);
        goto out;
    }
    if (queued != NULL)
        *queued = q;
    if (running != NULL)
        *running = r;
    if (failed != NULL)
        *failed = f;
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

/* ---- mail outbox ---- */

int store_mail_insert(cm_store *st, cm_mail_row *m, cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st,
                            "INSERT INTO mail (account_id, to_addr, subject, status, created_at, "
                            "sent_at, message) VALUES (?1, ?2, ?3, 'queued', ?4, 0, ?5)",
                            err);
    if (s == NULL)
        goto out;
    b_ref(s, 1, m->account_id);
    b_text(s, 2, m->to_addr);
    b_text(s, 3, m->subject);
    b_int(s, 4, m->created_at);
    b_blob(s, 5, m->message != NULL ? (const void *)m->message : "", m->message_len);
    if (q_exec(st, s, "queueing a mail", NULL, err) != 0)
        goto out;
    m->id = sqlite3_last_insert_rowid(st->db);
    ret = 0;
out:
    q_put(st, s);
    return ret;
}

static void mail_row(sqlite3_stmt *s, void *out)
{
    cm_mail_row *m = out;
    memset(m, 0, sizeof *m);
    m->id = c_int(s, 0);
    m->account_id = c_int(s, 1);
    c_text(s, 2, m->to_addr, sizeof m->to_addr);
    c_text(s, 3, m->subject, sizeof m->subject);
    c_text(s, 4, m->status, sizeof m->status);
    m->created_at = c_int(s, 5);
    m->sent_at = c_int(s, 6);
    if (c_blob_dup(s, 7, &m->message, &m->message_len) != 0) {
        m->message = NULL;
        m->message_len = SIZE_MAX; /* marks "out of memory" for store_mail_get */
    }
}

int store_mail_get(cm_store *st, int64_t id, cm_mail_row *out, cm_err *err)
{
    char nf[64];
    snprintf(nf, sizeof nf, "mail %" PRId64 " does not exist", id);
    sqlite3_stmt *s = q_get(st,
                            "SELECT id, account_id, to_addr, subject, status, created_at, "
                            "sent_at, message FROM mail WHERE id = ?1",
                            err);
    if (s == NULL)
        return -1;
    b_int(s, 1, id);
    int ret = q_one(st, s, mail_row, out, "mail_not_found", nf, "reading a mail", err);
    q_put(st, s);
    if (ret == 0 && out->message_len == SIZE_MAX) {
        out->message_len = 0;
        ret = cm_err_set(err, "store_error", "out of memory reading mail %" PRId64, id);
    }
    return ret;
}

int store_mail_set_status(cm_store *st, int64_t id, const char *status, int64_t sent_at,
                          cm_err *err)
{
    int ret = -1;
    sqlite3_stmt *s = q_get(st, "UPDATE mail SET status = ?2, sent_at = ?3 WHERE id = ?1", err);
    if (s == NULL)
        goto out;
    b_int(s, 1, id);
    b_text(s, 2, status);
    b_int(s, 3, sent_at);
    if (q_exec(st, s, "updating a mail's status", NULL, err) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        cm_err_set(err, "mail_not_found", "mail %" PRId64 " does not exist", id);
        goto out;
    }
    ret = 0;
out:
    q_put(st, s);
    return ret;
}
