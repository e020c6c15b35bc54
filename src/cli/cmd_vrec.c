/* zhanye vrec start|join|keepalive|finish --data DIR --bank CODE --call ID
 * — a recorded call (双录, business/vrec.h, app/vrec_run.h) driven from the command line:
 * for operators checking the recording chain (Janus, janus-pp-rec, the
 * sealed store) and for the tests. The calls themselves use the C API.
 *
 *   start ... --biz NO --customer ID --consent-by WHO --consent-at MS
 *             --consent-version V    prints {"id","room","pin"}; without a
 *                                    complete consent: exit 1, vrec_no_consent
 *   join ... --display NAME          the SDP offer on stdin, the answer on stdout
 *   keepalive ...                    keeps the call's Janus session alive
 *   finish ...                       prints {"id","state","sm3","size",
 *                                    "duration_ms","tracks"}
 *
 * Failures print "zhanye vrec: <code>: <message>" (the error table's code).
 * Exit codes as cli.h. */
#include "app/vrec_run.h"
#include "cli/cli_admin.h"
#include "identity/org.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                                      \
    "usage: zhanye vrec start --data DIR --bank CODE --call ID --biz NO --customer ID\n"           \
    "                         [--consent-by WHO --consent-at MS --consent-version V]\n"            \
    "       zhanye vrec join --data DIR --bank CODE --call ID --display NAME  < offer.sdp\n"       \
    "       zhanye vrec keepalive|finish --data DIR --bank CODE --call ID\n"

#define SDP_MAX (256 * 1024)

static int fail(int rc)
{
    enum ze z = vrec_ze(rc);
    const char *detail = rc == VREC_EXISTS  ? "该通话已有双录记录"
                         : rc == VREC_NONE  ? "没有该通话的双录记录"
                         : rc == VREC_STATE ? "该通话的双录已结束"
                                            : NULL;
    fprintf(stderr, "zhanye vrec: %s: %s\n", ze_code(z), ze_message(z, detail));
    return rc == VREC_BAD_INPUT ? EXIT_USAGE : EXIT_FAIL;
}

static char *read_stdin(void)
{
    char *buf = malloc(SDP_MAX + 1);
    size_t n = buf ? fread(buf, 1, SDP_MAX, stdin) : 0;
    if (!buf || n == 0 || n == SDP_MAX) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

int cmd_vrec(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const char *op = argv[1];
    const char *data = NULL, *bank = NULL, *call = NULL, *biz = NULL, *by = NULL, *ver = NULL,
               *display = NULL;
    int64_t customer = 0, at = 0;
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},       {"bank", required_argument, 0, 'b'},
        {"call", required_argument, 0, 'c'},       {"biz", required_argument, 0, 'z'},
        {"customer", required_argument, 0, 'u'},   {"consent-by", required_argument, 0, 'y'},
        {"consent-at", required_argument, 0, 't'}, {"consent-version", required_argument, 0, 'v'},
        {"display", required_argument, 0, 'n'},    {0, 0, 0, 0},
    };
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        case 'c':
            call = optarg;
            break;
        case 'z':
            biz = optarg;
            break;
        case 'u':
            customer = atoll(optarg);
            break;
        case 'y':
            by = optarg;
            break;
        case 't':
            at = atoll(optarg);
            break;
        case 'v':
            ver = optarg;
            break;
        case 'n':
            display = optarg;
            break;
        default:
            fputs(USAGE, stderr);
            return EXIT_USAGE;
        }
    }
    bool start = strcmp(op, "start") == 0, join = strcmp(op, "join") == 0,
         keep = strcmp(op, "keepalive") == 0, finish = strcmp(op, "finish") == 0;
    if (!data || !bank || !call || !(start || join || keep || finish) ||
        (start && (!biz || customer < 1)) || (join && !display)) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    struct cli_admin d;
    int ex = cli_admin_open("vrec", data, true, &d);
    if (ex != EXIT_OK) {
        cli_admin_close(&d);
        return ex;
    }
    struct bank b;
    if (org_find_bank(d.conn, bank, &b) != ID_OK) {
        fprintf(stderr, "zhanye vrec: no bank %s\n", bank);
        cli_admin_close(&d);
        return EXIT_USAGE;
    }
    /* the connection goes back to the pool: vrec runs its own transactions */
    store_release(d.conn);
    d.conn = NULL;
    char actor[64];
    cli_admin_actor(actor, sizeof actor);
    struct vrec_env e;
    vrec_env_init(&e, &d.app.cfg, &d.kek);
    struct scope sc = {.bank_id = b.id, .role = ROLE_BANK_ADMIN};
    int rc;
    ex = EXIT_OK;
    if (start) {
        struct vrec_start_req r = {.call_id = call,
                                   .biz_no = biz,
                                   .customer_id = customer,
                                   .consent = {.by = by, .at_ms = at, .text_version = ver},
                                   .actor = actor};
        struct vrec_room room;
        rc = vrec_run_start(&e, d.app.shards, &sc, &r, &room);
        if (rc == VREC_OK)
            printf("{\"id\":%" PRId64 ",\"room\":%" PRIu64 ",\"pin\":\"%s\"}\n", room.id, room.room,
                   room.pin);
    } else if (join) {
        char *offer = read_stdin(), *answer = NULL;
        rc = offer ? vrec_run_join(&e, d.app.shards, &sc, call, display, offer, &answer, actor)
                   : VREC_BAD_INPUT;
        if (rc == VREC_OK)
            fputs(answer, stdout);
        free(offer);
        free(answer);
    } else if (keep) {
        rc = vrec_run_keepalive(&e, d.app.shards, &sc, call);
    } else {
        struct vrec_result res;
        rc = vrec_run_finish(&e, d.app.shards, &sc, call, actor, &res);
        if (rc == VREC_OK || res.id > 0)
            printf("{\"id\":%" PRId64 ",\"state\":\"%s\",\"sm3\":\"%s\",\"size\":%" PRId64
                   ",\"duration_ms\":%" PRId64 ",\"tracks\":%d}\n",
                   res.id, res.state, res.sm3, res.size, res.duration_ms, res.tracks);
    }
    if (rc != VREC_OK)
        ex = fail(rc);
    cli_admin_close(&d);
    return ex;
}
