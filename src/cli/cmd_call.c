/* zhanye call — a command-line tablet: activates, logs in and calls
 * transactions over ZY1, keeping its device state in a file.
 *
 *   zhanye call --state FILE --server URL --activate CODE --teller T
 *   zhanye call --state FILE LOGIN --data '{"teller":"demo01","password":"..."}'
 *   zhanye call --state FILE TX [--data JSON] [--cseq C]
 *   zhanye call --state FILE app-latest --app APP --version V [--out PKG [--stop-after N]]
 *   zhanye call --state FILE app-verify --file PKG --sm3 HEX --signature B64
 *
 * app-latest asks APP_LATEST what this device should install; with --out it
 * downloads the offered package into PKG, resuming what PKG already holds
 * (HTTP Range), and verifies it (client/zyc_pkg.h) against the server key
 * pinned at activation: a package that does not verify is deleted and the
 * exit status is 1. --stop-after N cuts the download after N bytes (exit 1,
 * PKG kept to resume), as a dropped connection would. app-verify checks a
 * file against an SM3 and signature with the pinned key.
 *
 *   zhanye call --state FILE --checkin-loop N --report REPORT.json [--interval-ms MS]
 *
 * --checkin-loop runs the device-management agent (call.h, call_agent.c):
 * N check-ins with the report, executing and acknowledging the commands
 * they deliver.
 *
 * CODE is taken as typed: case, spaces and dashes do not matter (ZY1
 * amendment 5, zyc_activation_code); one that cannot be a code the server
 * issued is refused (exit 2) before anything is sent.
 *
 * The session token lives beside the state in FILE.sid (mode 0600). The
 * answer's plaintext is printed on stdout; the exit status is 0 when its
 * code is OK, 1 otherwise, 2 for usage errors. */
#include "channel/zy1.h"
#include "cli/call.h"
#include "cli/cli.h"
#include "foundation/clock.h"
#include "foundation/secmem.h"
#include "zyc.h"
#include "zyc_http.h"
#include "zyc_pkg.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct call_opts {
    const char *state, *server, *activate, *teller, *tx, *data, *cseq, *report;
    int rounds, interval_ms;
    /* app-latest and app-verify */
    const char *app, *version, *out, *file, *sm3, *signature;
    long long stop_after;
};

/* The first live key of the server, to pin at activation. */
static int fetch_pubkey(struct zyc_http *h, const char *server, char *kid, size_t kcap, char *pub,
                        size_t pcap)
{
    char url[ZYC_URL_MAX + 32], *resp = NULL;
    size_t len;
    long status = 0;
    int rc = -1;
    snprintf(url, sizeof url, "%s/api/v1/pubkey", server);
    if (zyc_http_do(h, url, NULL, 0, &status, &resp, &len) != 0 || status != 200) {
        fprintf(stderr, "zhanye call: cannot fetch %s (HTTP %ld)\n", url, status);
        goto out;
    }
    json_t *j = json_loads(resp, 0, NULL);
    json_t *k = json_array_get(json_object_get(j, "keys"), 0);
    const char *kv = json_string_value(json_object_get(k, "kid"));
    const char *pv = json_string_value(json_object_get(k, "pub"));
    if (kv && pv && strlen(kv) < kcap && strlen(pv) < pcap) {
        strcpy(kid, kv);
        strcpy(pub, pv);
        rc = 0;
    }
    json_decref(j);
out:
    free(resp);
    return rc;
}

static char *build_payload(const struct call_opts *o, const char *sid)
{
    json_error_t jerr;
    json_t *data = o->data ? json_loads(o->data, 0, &jerr) : json_object();
    if (!json_is_object(data)) {
        fprintf(stderr, "zhanye call: --data must be a JSON object\n");
        json_decref(data);
        return NULL;
    }
    json_t *p = json_pack("{s:o}", "data", data);
    if (sid && *sid)
        json_object_set_new(p, "sid", json_string(sid));
    if (o->cseq)
        json_object_set_new(p, "cseq", json_string(o->cseq));
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return text;
}

static int do_activate(struct zyc_http *h, const struct call_opts *o)
{
    char kid[64], pub[128], code[ZYC_ACT_CODE_LEN + 1];
    zyc_state st;
    json_t *ans = NULL;
    int rc = EXIT_FAIL;
    /* Refused before anything is sent: a code the server cannot have issued. */
    bool code_ok = zyc_activation_code(o->activate, code) == ZYC_OK;
    secmem_wipe(code, sizeof code);
    if (!code_ok) {
        fprintf(stderr,
                "zhanye call: --activate: not an activation code: 8 characters of %s, as "
                "printed (XXXX-XXXX; case, spaces and dashes do not matter)\n",
                ZYC_ACT_ALPHABET);
        return EXIT_USAGE;
    }
    if (fetch_pubkey(h, o->server, kid, sizeof kid, pub, sizeof pub) != 0)
        return EXIT_FAIL;
    if (zyc_state_init(&st, o->server, kid, pub, o->teller) != ZYC_OK) {
        fprintf(stderr, "zhanye call: bad server, key or teller\n");
        return EXIT_USAGE;
    }
    const char *payload =
        "{\"data\":{\"device\":{\"model\":\"zhanye-cli\",\"os\":\"linux\",\"app\":\"" ZHANYE_VERSION
        "\"}}}";
    rc = call_exchange(h, &st, o->activate, ZY1_ACTIVATE_TX, payload, &ans);
    const char *ds =
        json_string_value(json_object_get(json_object_get(ans, "data"), "device_secret"));
    if (rc == EXIT_OK && (!ds || zyc_state_set_device_secret(&st, ds) != ZYC_OK ||
                          zyc_state_save(&st, o->state) != ZYC_OK)) {
        fprintf(stderr, "zhanye call: cannot keep the device secret in %s\n", o->state);
        rc = EXIT_FAIL;
    }
    json_decref(ans);
    zyc_state_wipe(&st);
    return rc;
}

static int do_call(struct zyc_http *h, const struct call_opts *o)
{
    zyc_state st;
    char sid[ZY1_SID_MAX + 1];
    json_t *ans = NULL;
    if (zyc_state_load(o->state, &st) != ZYC_OK) {
        fprintf(stderr, "zhanye call: %s: no usable device state (activate first)\n", o->state);
        return EXIT_USAGE;
    }
    if (o->server)
        snprintf(st.url, sizeof st.url, "%s", o->server);
    call_sid_load(o->state, sid, sizeof sid);
    bool login = strcmp(o->tx, "LOGIN") == 0;
    char *payload = build_payload(o, login ? NULL : sid);
    int rc = payload ? call_exchange(h, &st, NULL, o->tx, payload, &ans) : EXIT_USAGE;
    const char *nsid = json_string_value(json_object_get(json_object_get(ans, "data"), "sid"));
    if (rc == EXIT_OK && login && nsid)
        call_sid_save(o->state, nsid);
    if (rc == EXIT_OK && strcmp(o->tx, "LOGOUT") == 0)
        call_sid_save(o->state, NULL);
    json_decref(ans);
    free(payload);
    zyc_state_wipe(&st);
    return rc;
}

/* Downloads (resuming) and verifies the package an APP_LATEST answer offers. */
static int fetch_package(struct zyc_http *h, const zyc_state *st, const struct call_opts *o,
                         json_t *pkg)
{
    const char *path = json_string_value(json_object_get(pkg, "url"));
    const char *sm3 = json_string_value(json_object_get(pkg, "sm3"));
    const char *sig = json_string_value(json_object_get(pkg, "signature"));
    char url[ZYC_URL_MAX + 512];
    if (!path || !sm3 || !sig ||
        snprintf(url, sizeof url, "%s%s", st->url, path) >= (int)sizeof url) {
        fprintf(stderr, "zhanye call: the answer's package is malformed\n");
        return EXIT_FAIL;
    }
    long status = 0;
    int64_t from = 0;
    int rc = zyc_http_download(h, url, o->out, o->stop_after, &status, &from);
    if (status == 206)
        printf("download: resumed at %lld\n", (long long)from);
    else if (status == 200)
        printf("download: whole\n");
    if (rc != 0 || (status != 200 && status != 206 && status != 416)) {
        fprintf(stderr, "zhanye call: download %s (HTTP %ld); run again to resume\n",
                rc != 0 ? "interrupted" : "refused", status);
        return EXIT_FAIL;
    }
    zyc_pkg_status v = zyc_pkg_verify_file(st->pub_b64, o->out, sm3, sig);
    if (v != ZYC_PKG_OK) {
        printf("refused: %s\n", zyc_pkg_status_name(v));
        fprintf(stderr, "zhanye call: %s: not installed (%s)\n", o->out, zyc_pkg_status_name(v));
        unlink(o->out);
        return EXIT_FAIL;
    }
    printf("verified: %s\n", o->out);
    return EXIT_OK;
}

static int do_app_latest(struct zyc_http *h, const struct call_opts *o)
{
    zyc_state st;
    char sid[ZY1_SID_MAX + 1];
    json_t *ans = NULL;
    if (zyc_state_load(o->state, &st) != ZYC_OK) {
        fprintf(stderr, "zhanye call: %s: no usable device state (activate first)\n", o->state);
        return EXIT_USAGE;
    }
    if (o->server)
        snprintf(st.url, sizeof st.url, "%s", o->server);
    call_sid_load(o->state, sid, sizeof sid);
    json_t *p =
        json_pack("{s:{s:s,s:s},s:s}", "data", "app", o->app, "version", o->version, "sid", sid);
    char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    int rc = payload ? call_exchange(h, &st, NULL, "APP_LATEST", payload, &ans) : EXIT_FAIL;
    json_t *data = json_object_get(ans, "data");
    if (rc == EXIT_OK && o->out && json_is_true(json_object_get(data, "update")))
        rc = fetch_package(h, &st, o, json_object_get(data, "package"));
    json_decref(ans);
    free(payload);
    secmem_wipe(sid, sizeof sid);
    zyc_state_wipe(&st);
    return rc;
}

static int do_app_verify(const struct call_opts *o)
{
    zyc_state st;
    if (zyc_state_load(o->state, &st) != ZYC_OK) {
        fprintf(stderr, "zhanye call: %s: no usable device state (activate first)\n", o->state);
        return EXIT_USAGE;
    }
    zyc_pkg_status v = zyc_pkg_verify_file(st.pub_b64, o->file, o->sm3, o->signature);
    zyc_state_wipe(&st);
    printf("%s: %s\n", v == ZYC_PKG_OK ? "verified" : "refused", zyc_pkg_status_name(v));
    return v == ZYC_PKG_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_call(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"server", required_argument, NULL, 'u'},
        {"activate", required_argument, NULL, 'a'},
        {"teller", required_argument, NULL, 't'},
        {"data", required_argument, NULL, 'd'},
        {"cseq", required_argument, NULL, 'c'},
        {"checkin-loop", required_argument, NULL, 'l'},
        {"report", required_argument, NULL, 'r'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"app", required_argument, NULL, 'A'},
        {"version", required_argument, NULL, 'V'},
        {"out", required_argument, NULL, 'o'},
        {"stop-after", required_argument, NULL, 'S'},
        {"file", required_argument, NULL, 'f'},
        {"sm3", required_argument, NULL, 'h'},
        {"signature", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    struct call_opts o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.state = optarg;
            break;
        case 'u':
            o.server = optarg;
            break;
        case 'a':
            o.activate = optarg;
            break;
        case 't':
            o.teller = optarg;
            break;
        case 'd':
            o.data = optarg;
            break;
        case 'c':
            o.cseq = optarg;
            break;
        case 'A':
            o.app = optarg;
            break;
        case 'V':
            o.version = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'S':
            o.stop_after = atoll(optarg);
            break;
        case 'f':
            o.file = optarg;
            break;
        case 'h':
            o.sm3 = optarg;
            break;
        case 'g':
            o.signature = optarg;
            break;
        case 'l':
            o.rounds = atoi(optarg);
            if (o.rounds < 1)
                goto usage;
            break;
        case 'r':
            o.report = optarg;
            break;
        case 'i':
            o.interval_ms = atoi(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (optind < argc)
        o.tx = argv[optind++];
    bool agent = o.rounds > 0 || o.report;
    if (!o.state || optind != argc ||
        (agent        ? !o.report || o.rounds < 1 || o.tx || o.activate
         : o.activate ? !o.teller || !o.server || o.tx
                      : !o.tx))
        goto usage;
    bool latest = !agent && !o.activate && strcmp(o.tx, "app-latest") == 0;
    bool verify = !agent && !o.activate && strcmp(o.tx, "app-verify") == 0;
    if ((latest && (!o.app || !o.version)) || (verify && (!o.file || !o.sm3 || !o.signature)))
        goto usage;
    if (verify)
        return do_app_verify(&o);
    struct zyc_http *h = zyc_http_new();
    if (!h)
        return EXIT_FAIL;
    int rc = agent        ? call_agent(h, o.state, o.server, o.rounds, o.report, o.interval_ms)
             : o.activate ? do_activate(h, &o)
             : latest     ? do_app_latest(h, &o)
                          : do_call(h, &o);
    zyc_http_free(h);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye call --state FILE --server URL --activate CODE --teller T\n"
                    "       zhanye call --state FILE [--server URL] TX [--data JSON] [--cseq C]\n"
                    "       zhanye call --state FILE app-latest --app APP --version V [--out PKG "
                    "[--stop-after N]]\n"
                    "       zhanye call --state FILE app-verify --file PKG --sm3 HEX --signature "
                    "B64\n"

                    "       zhanye call --state FILE [--server URL] --checkin-loop N --report "
                    "REPORT.json [--interval-ms MS]\n");
    return EXIT_USAGE;
}
