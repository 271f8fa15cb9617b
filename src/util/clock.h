/* clock.h — the one source of "now". Every rule that depends on time reads it here, so unit tests
 * can pin it (clock_set_fixed) and libfaketime can move it from outside (it reads time(2)). */
#ifndef CM_UTIL_CLOCK_H
#define CM_UTIL_CLOCK_H

#include <stdint.h>

/* Seconds since the epoch, UTC. */
int64_t clock_now(void);

/* Pins the clock to `t` (tests only); 0 returns to the system clock. */
void clock_set_fixed(int64_t t);

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" as UTC. Returns 0 or -1. */
int clock_parse_iso(const char *s, int64_t *out);

/* Formats `t` as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void clock_format_iso(int64_t t, char *buf, unsigned long bufsz);

#endif
