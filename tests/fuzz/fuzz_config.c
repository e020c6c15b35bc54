/* fuzz_config — the INI loader (config_load) on arbitrary file contents,
 * written per input to a scratch file (tmpfs when there is one: /dev/shm).
 * Contracts checked:
 *   - a failed load frees everything and says "FILE:LINE: what" (or
 *     "FILE: cannot read") on one line, LINE being a line of the file;
 *   - nothing is cut: a file with a line longer than inih's line buffer or
 *     with a NUL byte (either would end a value early) does not load;
 *   - a loaded config holds NUL-terminated strings, paths resolved against
 *     the data directory, a level, no negative number (no key allows one),
 *     and named sections [flow.NAME] / [egress.NAME] whose values
 *     config_named_get returns;
 *   - the named sections written back as INI load again to the same values. */
#include "foundation/config.h"

#include <fcntl.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define DATA_DIR "/zhanye-data"

static char dir[64], in_path[96], out_path[96];
static struct config cfg, cfg2;

static void cleanup(void)
{
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
}

static void init_once(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/zhanye-fuzz-config.XXXXXX", base);
    if (!mkdtemp(dir))
        abort();
    snprintf(in_path, sizeof in_path, "%s/in.conf", dir);
    snprintf(out_path, sizeof out_path, "%s/out.conf", dir);
    atexit(cleanup);
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static bool resolved(const char *path, size_t cap)
{
    return terminated(path, cap) && path[0] == '/';
}

/* Lines in the file, and whether one is too long for inih or holds a NUL. */
static int count_lines(const uint8_t *data, size_t size, bool *cut)
{
    int lines = 1;
    size_t len = 0;
    *cut = false;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n') {
            lines++;
            len = 0;
            continue;
        }
        if (data[i] == '\0' || ++len > INI_MAX_LINE - 1)
            *cut = true;
    }
    return lines;
}

/* "FILE:LINE: what" or "FILE: cannot read: ...", one line. */
static void check_error(const char *err, const char *file, int lines)
{
    size_t fl = strlen(file);
    CHECK(strncmp(err, file, fl) == 0 && err[fl] == ':' && !strchr(err, '\n'));
    const char *p = err + fl + 1;
    if (*p == ' ')
        return;
    size_t digits = strspn(p, "0123456789");
    CHECK(digits > 0 && p[digits] == ':');
    long line = strtol(p, NULL, 10);
    CHECK(line >= 1 && line <= lines);
}

static void check_loaded(const struct config *c)
{
    CHECK(terminated(c->server.listen, sizeof c->server.listen) && strchr(c->server.listen, ':'));
    CHECK(resolved(c->server.conf_dir, sizeof c->server.conf_dir));
    CHECK(resolved(c->log.path, sizeof c->log.path));
    CHECK(resolved(c->store.path, sizeof c->store.path));
    CHECK(resolved(c->channel.key_dir, sizeof c->channel.key_dir));
    CHECK(terminated(c->store.backend, sizeof c->store.backend));
    CHECK(terminated(c->channel.keys, sizeof c->channel.keys) && c->channel.keys[0]);
    CHECK(c->log.level >= 0 && c->log.level <= 3);
    CHECK(c->server.threads >= 0 && c->server.body_limit >= 0 && c->server.request_timeout_s >= 0 &&
          c->server.connection_limit >= 0 && c->server.node_id >= 0 &&
          c->server.drain_timeout_s >= 0 && c->log.ring_lines >= 0 && c->store.pool_size >= 0 &&
          c->store.busy_timeout_ms >= 0 && c->channel.window_ms >= 0 &&
          c->identity.idle_timeout_s >= 0 && c->identity.absolute_timeout_s >= 0 &&
          c->identity.max_devices >= 0 && c->identity.max_failures >= 0 &&
          c->identity.lock_minutes >= 0);
    CHECK(c->nnamed >= 0 && c->nnamed <= CONFIG_MAX_NAMED);
    for (int i = 0; i < c->nnamed; i++) {
        const struct config_named *s = &c->named[i];
        CHECK(terminated(s->area, sizeof s->area) && terminated(s->name, sizeof s->name));
        CHECK(strcmp(s->area, "flow") == 0 || strcmp(s->area, "egress") == 0);
        CHECK(s->name[0] && strspn(s->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-") == strlen(s->name));
        for (int j = 0; j < CONFIG_NAMED_KEYS && s->keys[j]; j++) {
            CHECK(s->vals[j] && config_named_get(c, s->area, s->name, s->keys[j]) == s->vals[j]);
            for (int k = 0; k < j; k++)
                CHECK(strcmp(s->keys[k], s->keys[j]) != 0);
        }
    }
}

/* The named sections as INI text; loading it must give them back. */
static void check_named_round_trip(const struct config *c)
{
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    CHECK(text);
    for (int i = 0; i < c->nnamed; i++) {
        const struct config_named *s = &c->named[i];
        for (int j = -1; j < CONFIG_NAMED_KEYS && (j < 0 || s->keys[j]); j++) {
            size_t need = (j < 0 ? 64 : strlen(s->keys[j]) + strlen(s->vals[j])) + 8;
            if (len + need >= cap) {
                cap = (len + need) * 2;
                char *bigger = realloc(text, cap);
                CHECK(bigger);
                text = bigger;
            }
            len += (size_t)(j < 0 ? snprintf(text + len, cap - len, "[%s.%s]\n", s->area, s->name)
                                  : snprintf(text + len, cap - len, "%s = %s\n", s->keys[j],
                                             s->vals[j]));
        }
    }
    write_file(out_path, text, len);
    free(text);
    char err[512];
    CHECK(config_load(&cfg2, DATA_DIR, out_path, err, sizeof err) == 0);
    CHECK(cfg2.nnamed == c->nnamed);
    for (int i = 0; i < c->nnamed; i++) {
        const struct config_named *s = &c->named[i];
        for (int j = 0; j < CONFIG_NAMED_KEYS && s->keys[j]; j++) {
            const char *v = config_named_get(&cfg2, s->area, s->name, s->keys[j]);
            CHECK(v && strcmp(v, s->vals[j]) == 0);
        }
    }
    config_free(&cfg2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!dir[0])
        init_once();
    bool cut;
    int lines = count_lines(data, size, &cut);
    write_file(in_path, data, size);
    if (config_load(&cfg, DATA_DIR, in_path, err, sizeof err) != 0) {
        CHECK(cfg.nnamed == 0);
        check_error(err, in_path, lines);
        return 0;
    }
    CHECK(!cut);
    check_loaded(&cfg);
    check_named_round_trip(&cfg);
    config_free(&cfg);
    return 0;
}
