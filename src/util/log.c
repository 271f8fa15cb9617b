#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/clock.h"

static int max_level = LOG_INFO;

void log_set_level(int level)
{
    max_level = level;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (level > max_level || level < 0)
        return;
    char ts[32], line[2048];
    clock_format_iso(clock_now(), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ts=%s level=%s %s\n", ts, names[level], line);
}
