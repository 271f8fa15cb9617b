/* pool.c — a bump allocator over a list of blocks, plus a LIFO list of cleanups. Small
 * allocations share blocks that double in size up to BLOCK_MAX; larger ones get a block of their
 * own, so one big body never makes every later block big. */
#include "util/pool.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN   (4u * 1024u)
#define BLOCK_MAX   (64u * 1024u)
#define ALLOC_LIMIT ((size_t)1 << 30)
#define ALIGN       alignof(max_align_t)

typedef struct block {
    struct block *next;
    size_t size, used; /* bytes of data[] */
    alignas(max_align_t) unsigned char data[];
} block;

typedef struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *arg;
} deferred;

struct cm_pool {
    block *head; /* the block being filled; others follow */
    size_t next_size;
    deferred *defers; /* most recent first */
};

cm_pool *pool_new(void)
{
    cm_pool *p = calloc(1, sizeof *p);
    if (p != NULL)
        p->next_size = BLOCK_MIN;
    return p;
}

static block *block_new(size_t size)
{
    block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void *pool_alloc(cm_pool *p, size_t n)
{
    if (p == NULL || n > ALLOC_LIMIT)
        return NULL;
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    block *b = p->head;
    if (b == NULL || b->size - b->used < need) {
        if (need > BLOCK_MAX / 4) {
            /* A dedicated block, linked after the head so the head keeps filling. */
            block *big = block_new(need);
            if (big == NULL)
                return NULL;
            big->used = need;
            if (b == NULL) {
                p->head = big;
            } else {
                big->next = b->next;
                b->next = big;
            }
            memset(big->data, 0, need);
            return big->data;
        }
        size_t size = p->next_size;
        if (size < need)
            size = need;
        b = block_new(size);
        if (b == NULL)
            return NULL;
        b->next = p->head;
        p->head = b;
        if (p->next_size < BLOCK_MAX)
            p->next_size *= 2;
    }
    void *r = b->data + b->used;
    b->used += need;
    memset(r, 0, need);
    return r;
}

char *pool_strndup(cm_pool *p, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    size_t len = strnlen(s, n);
    char *r = pool_alloc(p, len + 1);
    if (r != NULL)
        memcpy(r, s, len); /* pool_alloc zeroed the terminator */
    return r;
}

char *pool_strdup(cm_pool *p, const char *s)
{
    return s == NULL ? NULL : pool_strndup(p, s, strlen(s));
}

char *pool_printf(cm_pool *p, const char *fmt, ...)
{
    char *r = NULL;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0)
        goto out;
    r = pool_alloc(p, (size_t)n + 1);
    if (r != NULL && vsnprintf(r, (size_t)n + 1, fmt, ap2) != n)
        r = NULL; /* the arguments changed under us; the bytes stay in the pool */
out:
    va_end(ap2);
    va_end(ap);
    return r;
}

int pool_defer(cm_pool *p, void (*fn)(void *), void *arg)
{
    if (p == NULL || fn == NULL)
        return -1;
    deferred *d = malloc(sizeof *d);
    if (d == NULL)
        return -1;
    d->fn = fn;
    d->arg = arg;
    d->next = p->defers;
    p->defers = d;
    return 0;
}

void pool_free(cm_pool *p)
{
    if (p == NULL)
        return;
    /* Cleanups first: they may still read pool memory. A cleanup that defers more work is
     * served too, since the list is re-read until empty. */
    while (p->defers != NULL) {
        deferred *d = p->defers;
        p->defers = d->next;
        d->fn(d->arg);
        free(d);
    }
    block *b = p->head;
    while (b != NULL) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(p);
}
