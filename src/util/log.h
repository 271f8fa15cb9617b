/* log.h — one line per event, key=value, to stderr. Never pass secrets. */
#ifndef CM_UTIL_LOG_H
#define CM_UTIL_LOG_H

enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the most verbose level printed (LOG_INFO by default). */
void log_set_level(int level);

/* Prints "ts=… level=… " followed by the formatted key=value pairs. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
