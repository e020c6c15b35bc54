/* vrec_process.c — a finished call's tracks sealed (see vrec_process.h). */
#include "business/vrec_process.h"

#include "business/vrec_seal.h"
#include "foundation/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_TRACKS 16
#define FILE_MAX (VREC_SPOOL_MAX + 320) /* a file in the spool, or recordings_dir/<rel> */

void vrec_spool_dir(const char *recordings_dir, int64_t bank_id, const char *call_id, char *out,
                    size_t cap)
{
    snprintf(out, cap, "%s/spool/%" PRId64 "-%s", recordings_dir, bank_id, call_id);
}

int vrec_mkdir(const char *path)
{
    char tmp[FILE_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

void vrec_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[FILE_MAX];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p)
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

struct track {
    char name[256]; /* the .mjr file */
    bool audio;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct track *)a)->name, ((const struct track *)b)->name);
}

/* The .mjr files of spool, audio and video only, by name. */
static int list_tracks(const char *spool, struct track *t, int max)
{
    DIR *d = opendir(spool);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t len = strlen(de->d_name);
        if (len < 5 || len >= sizeof t[n].name || strcmp(de->d_name + len - 4, ".mjr") != 0)
            continue;
        bool audio = strstr(de->d_name, "-audio") != NULL;
        if (!audio && !strstr(de->d_name, "-video"))
            continue;
        snprintf(t[n].name, sizeof t[n].name, "%s", de->d_name);
        t[n].audio = audio;
        n++;
    }
    closedir(d);
    qsort(t, (size_t)n, sizeof *t, by_name);
    return n;
}

/* janus-pp-rec src dst; 0 when it exits 0 and dst is not empty. */
static int pp_rec(const struct vrec_env *e, const char *src, const char *dst)
{
    const char *prog = e->pp_rec && e->pp_rec[0] ? e->pp_rec : "janus-pp-rec";
    char *argv[] = {(char *)prog, "-o", "-d", "1", (char *)src, (char *)dst, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        log_error("vrec.pp_rec", "cannot run %s: %s", prog, strerror(rc));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct stat st;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stat(dst, &st) != 0 || st.st_size < 1) {
        log_error("vrec.pp_rec", "%s failed on %s", prog, src);
        return -1;
    }
    return 0;
}

/* Processes, seals and hashes the tracks of spool into row (files, sm3,
 * size, state, error). */
void vrec_process(const struct vrec_env *e, int64_t bank_id, const char *spool, struct vdb_row *row,
                  int *ntracks)
{
    struct track t[MAX_TRACKS];
    int n = list_tracks(spool, t, MAX_TRACKS);
    char bankdir[PATH_MAX + 32];
    snprintf(bankdir, sizeof bankdir, "%s/%" PRId64, e->recordings_dir, bank_id);
    json_t *files = json_array();
    char *manifest = NULL;
    size_t mlen = 0;
    FILE *mf = open_memstream(&manifest, &mlen);
    int done = 0;
    bool failed = !files || !mf || (n > 0 && vrec_mkdir(bankdir) != 0);
    for (int i = 0; i < n && !failed; i++) {
        char src[FILE_MAX], clear[FILE_MAX], dst[FILE_MAX], rel[256], ctx[128], sm3[65],
            msg[FILE_MAX + 64];
        const char *ext = t[i].audio ? "opus" : "webm";
        int64_t size = 0;
        snprintf(rel, sizeof rel, "%" PRId64 "/%" PRId64 "-%d.%s.zyv", bank_id, row->id, done, ext);
        snprintf(ctx, sizeof ctx, "vrec|%" PRId64 "|%" PRId64 "|%d", bank_id, row->id, done);
        if (snprintf(src, sizeof src, "%s/%s", spool, t[i].name) >= (int)sizeof src ||
            snprintf(clear, sizeof clear, "%s/track-%d.%s", spool, done, ext) >=
                (int)sizeof clear ||
            snprintf(dst, sizeof dst, "%s/%s", e->recordings_dir, rel) >= (int)sizeof dst) {
            snprintf(row->error, sizeof row->error, "path");
            failed = true;
            break;
        }
        if (pp_rec(e, src, clear) != 0) {
            /* a track with no media decodable (e.g. a publisher that left at once) is skipped */
            unlink(clear);
            continue;
        }
        if (vrec_seal_file(e->kek, ctx, clear, dst, sm3, &size, msg, sizeof msg) != 0) {
            log_error("vrec.seal", "recording %" PRId64 ": %s", row->id, msg);
            snprintf(row->error, sizeof row->error, "seal");
            failed = true;
        } else {
            json_array_append_new(files, json_pack("{s:i, s:s, s:s, s:s, s:I, s:s}", "n", done,
                                                   "kind", t[i].audio ? "audio" : "video", "mime",
                                                   t[i].audio ? "audio/ogg" : "video/webm", "sm3",
                                                   sm3, "size", (json_int_t)size, "path", rel));
            fprintf(mf, "%s %s %" PRId64 "\n", t[i].audio ? "audio" : "video", sm3, size);
            row->size += size;
            done++;
        }
        unlink(clear);
    }
    if (mf)
        fclose(mf);
    if (!failed && done > 0) {
        uint8_t dig[32];
        unsigned dl = 0;
        if (EVP_Digest(manifest, mlen, dig, &dl, EVP_sm3(), NULL) == 1 && dl == 32) {
            for (int i = 0; i < 32; i++)
                snprintf(row->sm3 + 2 * i, 3, "%02x", dig[i]);
        } else {
            failed = true;
            snprintf(row->error, sizeof row->error, "hash");
        }
    }
    free(manifest);
    snprintf(row->state, sizeof row->state, "%s",
             failed ? VDB_FAILED : (done > 0 ? VDB_STORED : VDB_EMPTY));
    if (failed && !row->error[0])
        snprintf(row->error, sizeof row->error, "process");
    if (failed) {
        /* sealed tracks of a failed recording are not kept half */
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f)
        {
            char p[FILE_MAX];
            snprintf(p, sizeof p, "%s/%s", e->recordings_dir,
                     json_string_value(json_object_get(f, "path")));
            unlink(p);
        }
        json_array_clear(files);
        row->size = 0;
        row->sm3[0] = 0;
        done = 0;
    }
    free(row->files);
    row->files = files ? json_dumps(files, JSON_COMPACT) : NULL;
    json_decref(files);
    *ntracks = done;
}
