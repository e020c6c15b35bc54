/* fuzz_state — the client's device-state reader (zyc_state_load) on
 * arbitrary file contents. Each input is written to a private file in a
 * scratch directory (tmpfs when there is one: /dev/shm) and loaded from
 * there, as the reader insists on a regular file of mode 0600.
 * Contracts checked:
 *   - a load that fails leaves the state wiped (all zero);
 *   - what the strict reader accepts is JSON: jansson reads the same file as
 *     an object of exactly the members the state was filled from;
 *   - a loaded state is valid (what zyc_state_save accepts), and saving it
 *     and loading it back gives the same state byte for byte. */
#include "foundation/codec.h"
#include "zyc.h"

#include <jansson.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static char dir[64], in_path[96], out_path[96];

static void cleanup(void)
{
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
}

static void init_once(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/zhanye-fuzz-state.XXXXXX", base);
    if (!mkdtemp(dir))
        abort();
    snprintf(in_path, sizeof in_path, "%s/in.json", dir);
    snprintf(out_path, sizeof out_path, "%s/out.json", dir);
    atexit(cleanup);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    close(fd);
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool member_is(json_t *o, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && strcmp(v, want) == 0;
}

/* The same file through jansson: the same members, nothing else. */
static void check_as_json(const uint8_t *data, size_t size, const zyc_state *st)
{
    json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    CHECK(json_is_object(o));
    CHECK(member_is(o, "format", "zhanye-device-1") && member_is(o, "url", st->url) &&
          member_is(o, "kid", st->kid) && member_is(o, "pub", st->pub_b64) &&
          member_is(o, "dev", st->dev));
    json_t *tlr = json_object_get(o, "tlr"), *ds = json_object_get(o, "ds");
    CHECK(!tlr || member_is(o, "tlr", st->tlr));
    CHECK(tlr || !st->tlr[0]);
    CHECK(!ds == !st->has_ds);
    if (ds) {
        uint8_t raw[ZYC_DS_LEN];
        CHECK(json_is_string(ds) && b64_decode(json_string_value(ds), json_string_length(ds), raw,
                                               sizeof raw) == ZYC_DS_LEN);
        CHECK(memcmp(raw, st->ds, sizeof raw) == 0);
    }
    CHECK(json_object_size(o) == 5u + (tlr != NULL) + (ds != NULL));
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zyc_state st, again;
    if (!dir[0])
        init_once();
    write_file(in_path, data, size);
    memset(&st, 0xA5, sizeof st);
    zyc_status rc = zyc_state_load(in_path, &st);
    if (rc != ZYC_OK) {
        CHECK(rc == ZYC_BAD_FILE);
        CHECK(all_zero(&st, sizeof st));
        return 0;
    }
    CHECK(memchr(st.url, '\0', sizeof st.url) && memchr(st.kid, '\0', sizeof st.kid) &&
          memchr(st.tlr, '\0', sizeof st.tlr) && strlen(st.dev) == ZY1_DEV_LEN &&
          strlen(st.pub_b64) == ZYC_PUB_B64_LEN);
    CHECK(st.has_ds || all_zero(st.ds, sizeof st.ds));
    check_as_json(data, size, &st);
    CHECK(zyc_state_save(&st, out_path) == ZYC_OK);
    memset(&again, 0x5A, sizeof again);
    CHECK(zyc_state_load(out_path, &again) == ZYC_OK);
    CHECK(memcmp(&st, &again, sizeof st) == 0);
    zyc_state_wipe(&st);
    zyc_state_wipe(&again);
    return 0;
}
