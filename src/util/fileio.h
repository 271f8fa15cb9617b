/* fileio.h — bounded reads and atomic, never-overwriting writes. */
#ifndef CM_UTIL_FILEIO_H
#define CM_UTIL_FILEIO_H

#include <stddef.h>

#include "util/err.h"

/* Reads a whole file of at most `max` bytes. On success *out is a NUL-terminated malloc'd buffer
 * (caller frees) and *len its length without the NUL. Larger files fail with `file_too_large`. */
int file_read_all(const char *path, size_t max, unsigned char **out, size_t *len, cm_err *err);

/* Writes data to `path` atomically with permissions `mode`: a temporary file in the same
 * directory is written, fsynced and then linked into place, so a reader sees either nothing or
 * the whole file. With `replace` false an existing file is never overwritten (fails with
 * `file_exists`); with `replace` true it is renamed over. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, int replace,
                      cm_err *err);

/* Writes `len` random bytes from the kernel CSPRNG (getrandom). Returns 0 or -1. */
int random_bytes(void *buf, size_t len);

#endif
