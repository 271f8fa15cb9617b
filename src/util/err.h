/* err.h — the one error value of certmint: a stable snake_case code and a human message.
 *
 * Functions that can fail take a `cm_err *` last and return 0 on success, -1 on failure after
 * filling it. The code is for scripts (and later the HTTP layer); the message is for people and
 * says what was wrong and what to do instead. */
#ifndef CM_UTIL_ERR_H
#define CM_UTIL_ERR_H

#include <stdbool.h>

typedef struct cm_err {
    char code[48];
    char msg[512];
} cm_err;

/* Sets code and a printf-style message; always returns -1 so callers can `return cm_err_set(…)`.
 * `e` may be NULL. */
int cm_err_set(cm_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context ("reading ca.key: …"); returns -1. */
int cm_err_prefix(cm_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears an error value. */
void cm_err_clear(cm_err *e);

/* True when an error was set. */
bool cm_err_isset(const cm_err *e);

#endif
