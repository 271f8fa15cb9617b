#include "util/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Process-wide test seam; 0 means "use the system clock". */
static int64_t fixed_now;

int64_t clock_now(void)
{
    if (fixed_now != 0)
        return fixed_now;
    return (int64_t)time(NULL);
}

void clock_set_fixed(int64_t t)
{
    fixed_now = t;
}

int clock_parse_iso(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (end == NULL)
        return -1;
    if (*end == 'T' || *end == ' ') {
        end = strptime(end + 1, "%H:%M:%S", &tm);
        if (end == NULL)
            return -1;
        if (*end == 'Z')
            end++;
    }
    if (*end != '\0')
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

void clock_format_iso(int64_t t, char *buf, unsigned long bufsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
