/* call_agent.c — `zhanye call --checkin-loop`: the reference device agent
 * of device management (docs/api.md §1.21c-d); see call.h. */
#include "cli/call.h"
#include "cli/cli.h"
#include "foundation/errcode.h"
#include "foundation/secmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UPDATE_REFUSED "zhanye call 不能安装应用"

/* STATE + suffix into out. */
static int path_of(const char *state, const char *suffix, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s", state, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static json_t *pending_load(const char *state)
{
    char path[4096];
    json_t *a =
        path_of(state, ".acks", path, sizeof path) == 0 ? json_load_file(path, 0, NULL) : NULL;
    if (!json_is_array(a)) {
        json_decref(a);
        a = json_array();
    }
    return a;
}

static void pending_save(const char *state, json_t *acks)
{
    char path[4096];
    if (path_of(state, ".acks", path, sizeof path) != 0)
        return;
    if (json_array_size(acks) == 0)
        unlink(path);
    else if (json_dump_file(acks, path, JSON_COMPACT) != 0)
        fprintf(stderr, "zhanye call: cannot keep the pending acknowledgements in %s\n", path);
}

static void remove_file(const char *state, const char *suffix)
{
    char path[4096];
    if (path_of(state, suffix, path, sizeof path) == 0)
        unlink(path);
}

/* DEVICE_COMMAND_ACK of ack ({id, result, reason}); the answer's code
 * into code ("" when there was none). */
static void send_ack(struct zyc_http *h, zyc_state *st, const char *sid, const json_t *ack,
                     char *code, size_t cap)
{
    json_t *p = json_pack("{s:s, s:O}", "sid", sid, "data", ack), *ans = NULL;
    char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    code[0] = '\0';
    if (payload)
        call_round_trip(h, st, "DEVICE_COMMAND_ACK", payload, &ans);
    const char *c = json_string_value(json_object_get(ans, "code"));
    snprintf(code, cap, "%s", c ? c : "");
    printf("agent: ack %lld %s: %s\n", (long long)json_integer_value(json_object_get(ack, "id")),
           json_string_value(json_object_get(ack, "result")), code[0] ? code : "no answer");
    json_decref(ans);
    json_decref(p);
    free(payload);
}

/* The pending acknowledgements, sent once there is a session; those the
 * server answered (anything but session_invalid / no answer) are dropped. */
static void flush_pending(struct zyc_http *h, zyc_state *st, const char *state, const char *sid)
{
    json_t *acks = pending_load(state), *left = json_array();
    size_t i;
    json_t *ack;
    char code[48];
    json_array_foreach(acks, i, ack)
    {
        send_ack(h, st, sid, ack, code, sizeof code);
        if (!code[0] || strcmp(code, ze_code(ZE_SESSION_INVALID)) == 0 ||
            strcmp(code, ze_code(ZE_SESSION_EXPIRED)) == 0)
            json_array_append(left, ack);
    }
    pending_save(state, left);
    json_decref(left);
    json_decref(acks);
}

struct outcome {
    const char *result; /* done, failed */
    const char *reason;
    const char *step; /* what the agent did */
    bool pending;     /* the ack waits for the next login (lock) */
    bool unbind;      /* forget the device once acknowledged */
};

/* What an agent does for kind. */
static struct outcome execute(const char *state, const char *kind)
{
    if (strcmp(kind, "wipe") == 0) {
        remove_file(state, ".cache");
        return (struct outcome){"done", NULL, "its local cached state deleted", false, false};
    }
    if (strcmp(kind, "lock") == 0) {
        call_sid_save(state, NULL);
        return (struct outcome){"done", NULL,
                                "session dropped; the acknowledgement waits for the next login",
                                true, false};
    }
    if (strcmp(kind, "refresh_policy") == 0)
        return (struct outcome){"done", NULL, "checks in again next round", false, false};
    if (strcmp(kind, "update_app") == 0)
        return (struct outcome){"failed", UPDATE_REFUSED, "cannot install apps", false, false};
    if (strcmp(kind, "unbind") == 0)
        return (struct outcome){"done", NULL, "forgets the device after the acknowledgement", false,
                                true};
    return (struct outcome){"failed", "未知指令", "unknown kind", false, false};
}

/* The device forgets its secret and everything else. */
static void forget(const char *state)
{
    remove_file(state, "");
    remove_file(state, ".sid");
    remove_file(state, ".cache");
    remove_file(state, ".acks");
    printf("agent: device secret forgotten: activate again to use this device\n");
}

/* One command of a check-in's answer; true when the loop must stop. */
static bool command(struct zyc_http *h, zyc_state *st, const char *state, const char *sid,
                    const json_t *cmd, bool *locked)
{
    json_int_t id = json_integer_value(json_object_get(cmd, "id"));
    const char *kind = json_string_value(json_object_get(cmd, "kind"));
    struct outcome o = execute(state, kind ? kind : "");
    printf("agent: command %lld %s: %s\n", (long long)id, kind ? kind : "?", o.step);
    json_t *ack = json_pack("{s:I, s:s}", "id", id, "result", o.result);
    if (ack && o.reason)
        json_object_set_new(ack, "reason", json_string(o.reason));
    *locked = *locked || o.pending; /* no session left for the rest either */
    if (*locked) {
        json_t *acks = pending_load(state);
        json_array_append(acks, ack);
        pending_save(state, acks);
        json_decref(acks);
        json_decref(ack);
        return false;
    }
    char code[48];
    send_ack(h, st, sid, ack, code, sizeof code);
    json_decref(ack);
    if (o.unbind && strcmp(code, "OK") == 0) {
        forget(state);
        return true;
    }
    return false;
}

/* One round: pending acks, the check-in, its commands. EXIT_OK; EXIT_FAIL
 * (no session, a refused check-in); *stop when the device is gone. */
static int round_once(struct zyc_http *h, zyc_state *st, const char *state, const json_t *report,
                      bool *stop)
{
    char sid[ZY1_SID_MAX + 1];
    json_t *ans = NULL;
    call_sid_load(state, sid, sizeof sid);
    if (!sid[0]) {
        printf("agent: no session: log in first (zhanye call --state %s LOGIN ...)\n", state);
        return EXIT_FAIL;
    }
    flush_pending(h, st, state, sid);
    json_t *p = json_pack("{s:s, s:O}", "sid", sid, "data", report);
    char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    int rc = payload ? call_round_trip(h, st, "DEVICE_CHECKIN", payload, &ans) : EXIT_FAIL;
    json_t *data = json_object_get(ans, "data"), *cmds = json_object_get(data, "commands");
    if (rc != EXIT_OK) {
        const char *code = json_string_value(json_object_get(ans, "code"));
        printf("agent: checkin refused: %s\n", code ? code : "no answer");
    } else {
        printf("agent: checkin compliant=%s violations=%zu commands=%zu\n",
               json_is_true(json_object_get(data, "compliant")) ? "true" : "false",
               json_array_size(json_object_get(data, "violations")), json_array_size(cmds));
        size_t i;
        json_t *cmd;
        bool locked = false;
        json_array_foreach(cmds, i, cmd)
        {
            if (command(h, st, state, sid, cmd, &locked)) {
                *stop = true;
                break;
            }
        }
    }
    secmem_wipe(sid, sizeof sid);
    json_decref(ans);
    json_decref(p);
    free(payload);
    return rc;
}

int call_agent(struct zyc_http *h, const char *state_path, const char *server, int rounds,
               const char *report_path, int interval_ms)
{
    zyc_state st;
    json_error_t jerr;
    json_t *report = json_load_file(report_path, 0, &jerr);
    if (!json_is_object(report)) {
        fprintf(stderr, "zhanye call: --report %s: not a JSON object (%s)\n", report_path,
                jerr.text);
        json_decref(report);
        return EXIT_USAGE;
    }
    if (zyc_state_load(state_path, &st) != ZYC_OK) {
        fprintf(stderr, "zhanye call: %s: no usable device state (activate first)\n", state_path);
        json_decref(report);
        return EXIT_USAGE;
    }
    if (server)
        snprintf(st.url, sizeof st.url, "%s", server);
    int rc = EXIT_OK;
    bool stop = false;
    for (int i = 0; i < rounds && !stop; i++) {
        if (i > 0 && interval_ms > 0) {
            struct timespec nap = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
            nanosleep(&nap, NULL);
        }
        printf("agent: round %d\n", i + 1);
        if (round_once(h, &st, state_path, report, &stop) != EXIT_OK) {
            rc = EXIT_FAIL;
            break;
        }
    }
    fflush(stdout);
    zyc_state_wipe(&st);
    json_decref(report);
    return rc;
}
