/* str.h — bounded string helpers; the replacements for the banned strcpy/strcat/atoi family. */
#ifndef CM_UTIL_STR_H
#define CM_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Copies src into dst (size bytes, always NUL-terminated). Returns 0, or -1 if src did not fit
 * (dst then holds a truncated copy). */
int str_copy(char *dst, size_t size, const char *src);

/* Parses a whole base-10 integer in [min, max]. Returns 0, or -1 on junk, overflow or range. */
int str_to_long(const char *s, long min, long max, long *out);

/* ASCII lower-casing in place. */
void str_lower(char *s);

/* True when s is NULL or empty. */
bool str_empty(const char *s);

/* Constant-time comparison of two equal-length buffers; true when equal. */
bool str_ct_equal(const void *a, const void *b, size_t n);

#endif
