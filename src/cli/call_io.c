/* call_io — the sealed round trip and the session token file that
 * `zhanye call` (cmd_call.c) and its device-management agent (call_agent.c)
 * share (call.h). */
#include "channel/zy1.h"
#include "cli/call.h"
#include "cli/cli.h"
#include "foundation/clock.h"
#include "zyc.h"
#include "zyc_http.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sid_path(const char *state, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s.sid", state);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int call_sid_load(const char *state, char *sid, size_t cap)
{
    char path[4096];
    sid[0] = '\0';
    if (sid_path(state, path, sizeof path))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(sid, (int)cap, f))
        sid[0] = '\0';
    sid[strcspn(sid, "\n")] = '\0';
    fclose(f);
    return 0;
}

int call_sid_save(const char *state, const char *sid)
{
    char path[4096];
    if (sid_path(state, path, sizeof path))
        return -1;
    if (!sid) {
        unlink(path);
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(sid);
    int rc = write(fd, sid, n) == (ssize_t)n ? 0 : -1;
    close(fd);
    return rc;
}

int call_exchange(struct zyc_http *h, zyc_state *st, const char *act_code, const char *tx,
                  const char *payload, json_t **answer)
{
    zy1_call call = {0};
    char *body = NULL, *resp = NULL, *pt = NULL, url[ZYC_URL_MAX + 64];
    size_t blen, rlen, ptlen;
    long status = 0;
    int rc = EXIT_FAIL;
    if (zyc_seal(st, tx, act_code, payload, strlen(payload), clock_wall_ms(), &call, &body,
                 &blen) != ZY1_OK) {
        fprintf(stderr, "zhanye call: cannot seal the request\n");
        goto out;
    }
    snprintf(url, sizeof url, "%s/api/v1/tx/%s", st->url, tx);
    if (zyc_http_do(h, url, body, blen, &status, &resp, &rlen) != 0) {
        fprintf(stderr, "zhanye call: %s: no answer\n", url);
        goto out;
    }
    if (status != 200) {
        printf("%s\n", resp);
        fprintf(stderr, "zhanye call: HTTP %ld\n", status);
        goto out;
    }
    if (zyc_open(&call, resp, rlen, &pt, &ptlen, NULL) != ZY1_OK) {
        fprintf(stderr, "zhanye call: the answer failed verification\n");
        goto out;
    }
    printf("%s\n", pt);
    *answer = json_loads(pt, 0, NULL);
    const char *code = json_string_value(json_object_get(*answer, "code"));
    rc = code && strcmp(code, "OK") == 0 ? EXIT_OK : EXIT_FAIL;
out:
    zy1_call_wipe(&call);
    free(body);
    free(resp);
    if (pt) {
        memset(pt, 0, ptlen);
        free(pt);
    }
    return rc;
}

int call_round_trip(struct zyc_http *h, zyc_state *st, const char *tx, const char *payload,
                    json_t **answer)
{
    return call_exchange(h, st, NULL, tx, payload, answer);
}
