#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cm_err_set(cm_err *e, const char *code, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    snprintf(e->code, sizeof e->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int cm_err_prefix(cm_err *e, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    char head[256], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    if (snprintf(e->msg, sizeof e->msg, "%s: %s", head, old) >= (int)sizeof e->msg)
        e->msg[sizeof e->msg - 1] = '\0'; /* truncated messages are still messages */
    return -1;
}

void cm_err_clear(cm_err *e)
{
    if (e != NULL) {
        e->code[0] = '\0';
        e->msg[0] = '\0';
    }
}

bool cm_err_isset(const cm_err *e)
{
    return e != NULL && e->code[0] != '\0';
}
