/* platform.c — the server platform list of GET /server-platform. */
#include "core/platform.h"

static const cm_platform platforms[] = {
    {-1, "Other", "pem_all"},
    {2, "Apache", "apache"},
    {45, "nginx", "pem_noroot"},
    {14, "Microsoft IIS", "p7b"},
    {24, "Tomcat", "p7b"},
    {15, "HAProxy", "pem_noroot"},
    {31, "Amazon Web Services", "pem_noroot"},
    {3, "Citrix NetScaler", "default_pem"},
};

const cm_platform *platform_find(int id)
{
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
        if (platforms[i].id == id)
            return &platforms[i];
    return 0;
}

const cm_platform *platform_all(size_t *n)
{
    *n = sizeof platforms / sizeof platforms[0];
    return platforms;
}
