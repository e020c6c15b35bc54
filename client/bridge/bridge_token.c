/* bridge_token — the pairing token file (bridge.h: bridge_token_load). */
#include "bridge.h"

#include "foundation/codec.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t cap, const char *path, const char *why)
{
    snprintf(err, cap, "token file %s: %s", path, why);
    return -1;
}

static int create_token(const char *path, char *out, size_t cap, char *err, size_t errcap)
{
    uint8_t raw[32];
    if (cap < 2 * sizeof raw + 1 || secmem_random(raw, sizeof raw) != 0)
        return fail(err, errcap, path, "no random token");
    hex_encode(raw, sizeof raw, out, cap);
    secmem_wipe(raw, sizeof raw);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errcap, path, strerror(errno));
    size_t n = strlen(out);
    bool ok = write(fd, out, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path);
        secmem_wipe(out, cap);
        return fail(err, errcap, path, "write failed");
    }
    return 0;
}

int bridge_token_load(const char *path, char *out, size_t cap, int *created, char *err,
                      size_t errcap)
{
    *created = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT)
            return fail(err, errcap, path, strerror(errno));
        if (create_token(path, out, cap, err, errcap) != 0)
            return -1;
        *created = 1;
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errcap, path, "not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return fail(err, errcap, path, "open to group or others (chmod 600 it)");
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return fail(err, errcap, path, "read failed");
    buf[n] = '\0';
    size_t len = strcspn(buf, "\r\n");
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    if (len < 16 || len + 1 > cap) {
        secmem_wipe(buf, sizeof buf);
        return fail(err, errcap, path, "token shorter than 16 characters or too long");
    }
    memcpy(out, buf, len);
    out[len] = '\0';
    secmem_wipe(buf, sizeof buf);
    return 0;
}
