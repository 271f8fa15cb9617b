#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(const char *path, size_t max, unsigned char **out, size_t *len, cm_err *err)
{
    int rc = -1;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cm_err_set(err, "file_unreadable", "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory reading %s", path);
        goto out;
    }
    size_t n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        cm_err_set(err, "file_unreadable", "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (n > max) {
        cm_err_set(err, "file_too_large", "%s is larger than %zu bytes", path, max);
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, int replace,
                      cm_err *err)
{
    char tmp[4096];
    int fd = -1, rc = -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return cm_err_set(err, "path_too_long", "path too long: %s", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        cm_err_set(err, "file_unwritable", "cannot create a file beside %s: %s", path,
                   strerror(errno));
        return -1;
    }
    if (fchmod(fd, (mode_t)mode) != 0) {
        cm_err_set(err, "file_unwritable", "chmod %s: %s", tmp, strerror(errno));
        goto out;
    }
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            cm_err_set(err, "file_unwritable", "write %s: %s", tmp, strerror(errno));
            goto out;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        cm_err_set(err, "file_unwritable", "fsync %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (replace) {
        if (rename(tmp, path) != 0) {
            cm_err_set(err, "file_unwritable", "rename to %s: %s", path, strerror(errno));
            goto out;
        }
    } else {
        /* link(2) fails with EEXIST instead of replacing: the never-overwrite guarantee. */
        if (link(tmp, path) != 0) {
            if (errno == EEXIST)
                cm_err_set(err, "file_exists", "%s already exists; refusing to overwrite it",
                           path);
            else
                cm_err_set(err, "file_unwritable", "link %s: %s", path, strerror(errno));
            goto out;
        }
        unlink(tmp);
    }
    tmp[0] = '\0';
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        unlink(tmp);
    return rc;
}

int random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
