/* curl_once.c — one curl_global_init per process. curl_global_init is not thread-safe in every
 * libcurl build, and the mail jobs and the DCV checks may start on different threads at once. */
#include "net/curl_once.h"

#include <pthread.h>

#include <curl/curl.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT; /* written once, under curl_once */

static void curl_init_run(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int net_curl_init(void)
{
    if (pthread_once(&curl_once, curl_init_run) != 0)
        return -1;
    return curl_init_rc == CURLE_OK ? 0 : -1;
}
