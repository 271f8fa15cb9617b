/* pool.h — per-request memory (DESIGN.md §2 "Memory"): everything a request allocates comes from
 * its pool and is released in one pool_free call after the response is sent. Objects of other
 * libraries (jansson, OpenSSL) are registered with pool_defer so they go at the same time.
 *
 * A pool belongs to one thread at a time: it has no lock. */
#ifndef CM_UTIL_POOL_H
#define CM_UTIL_POOL_H

#include <stddef.h>

typedef struct cm_pool cm_pool;

/* A new, empty pool; NULL when out of memory. The caller frees it with pool_free. */
cm_pool *pool_new(void);

/* `n` zeroed bytes aligned for any type, owned by the pool; NULL on OOM or when n is absurd
 * (> 1 GiB). n == 0 gives a valid unique pointer. */
void *pool_alloc(cm_pool *p, size_t n);

/* A copy of `s` owned by the pool; NULL on OOM. s == NULL gives NULL. */
char *pool_strdup(cm_pool *p, const char *s);

/* Like pool_strdup but copies at most `n` bytes of `s` and always terminates. */
char *pool_strndup(cm_pool *p, const char *s, size_t n);

/* A formatted string owned by the pool; NULL on OOM or a format error. */
char *pool_printf(cm_pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(arg) to run at pool_free, last registered first. Returns 0, or -1 on OOM; on -1
 * nothing is registered and the caller still owns `arg`. */
int pool_defer(cm_pool *p, void (*fn)(void *), void *arg);

/* Runs the deferred callbacks (LIFO), then releases every allocation and the pool itself.
 * NULL is a no-op. */
void pool_free(cm_pool *p);

#endif
