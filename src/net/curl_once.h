/* curl_once.h — libcurl's process-wide initialisation, done once for every module of src/net/
 * that uses libcurl (mail delivery, HTTP fetches for DCV). */
#ifndef CM_NET_CURL_ONCE_H
#define CM_NET_CURL_ONCE_H

/* Runs curl_global_init(CURL_GLOBAL_DEFAULT) exactly once per process (pthread_once), whichever
 * thread calls first; call it before the first curl_easy_init. Thread-safe. Returns 0, or -1
 * when that one initialisation failed (every later call returns -1 too). Nothing to free:
 * libcurl's global state lives until the process ends. */
int net_curl_init(void);

#endif
