/* zhanye-bridge --listen 127.0.0.1:PORT --idcard-port PATH --token-file FILE
 *               [--pin-port PATH] [--pin-format iso0|sm4] [--sig-port PATH]
 *               [--finger-port PATH] [--card-reader NAME | --card]
 *               [--origin URL ...] [--baud N] [--timeout-ms N] [--poll-ms N]
 *               [--watch-pid PID]
 *
 * A pad whose option is absent is not registered (its routes are 404); one
 * whose port cannot be opened answers absent (dev_pads_http.h). The bank
 * card reader is registered with --card-reader NAME (a PC/SC reader) or
 * --card (the first reader), else not (dev_card_http.h).
 *
 * The peripherals daemon (bridge.h, docs/peripherals.md). Prints, once
 * serving:
 *   zhanye-bridge: listening on http://127.0.0.1:PORT token-file FILE
 * and runs until SIGTERM/SIGINT, or until the process --watch-pid names is
 * gone (so `make run` takes it down with the platform). Exit 2 on bad arguments, 1 when it cannot
 * start. */
#include "bridge.h"
#include "dev_card_http.h"
#include "dev_idcard.h"
#include "dev_pads_http.h"
#include "serial.h"

#include "foundation/secmem.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ORIGIN "http://127.0.0.1:8080"

static int usage(const char *why)
{
    fprintf(stderr,
            "zhanye-bridge: %s\n"
            "usage: zhanye-bridge --listen 127.0.0.1:PORT --idcard-port PATH --token-file FILE\n"
            "                     [--pin-port PATH] [--pin-format iso0|sm4] [--sig-port PATH]\n"
            "                     [--finger-port PATH] [--card-reader NAME | --card]\n"
            "                     [--origin URL ...] [--baud N] [--timeout-ms N] [--poll-ms N]\n"
            "                     [--watch-pid PID]\n",
            why);
    return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen = NULL, *idport = NULL, *token_file = NULL;
    const char *origins[BRIDGE_MAX_ORIGINS];
    size_t n_origins = 0;
    const char *pin_port = NULL, *sig_port = NULL, *finger_port = NULL;
    enum dev_pin_format pin_format = DEV_PIN_ISO0;
    int baud = 115200, timeout_ms = 5000, poll_ms = 500, watch = 0;
    const char *card_reader = NULL;
    bool card = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--card") == 0) {
            card = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage("missing value");
        const char *v = argv[++i];
        if (strcmp(a, "--listen") == 0)
            listen = v;
        else if (strcmp(a, "--idcard-port") == 0)
            idport = v;
        else if (strcmp(a, "--pin-port") == 0)
            pin_port = v;
        else if (strcmp(a, "--sig-port") == 0)
            sig_port = v;
        else if (strcmp(a, "--finger-port") == 0)
            finger_port = v;
        else if (strcmp(a, "--card-reader") == 0) {
            card_reader = v;
            card = true;
        } else if (strcmp(a, "--pin-format") == 0) {
            if (strcmp(v, "iso0") == 0)
                pin_format = DEV_PIN_ISO0;
            else if (strcmp(v, "sm4") == 0)
                pin_format = DEV_PIN_SM4_16;
            else
                return usage("--pin-format: iso0 or sm4");
        } else if (strcmp(a, "--token-file") == 0)
            token_file = v;
        else if (strcmp(a, "--origin") == 0) {
            if (n_origins >= BRIDGE_MAX_ORIGINS)
                return usage("too many --origin");
            origins[n_origins++] = v;
        } else if (strcmp(a, "--baud") == 0) {
            if (parse_int(v, 1, 4000000, &baud) != 0 || !serial_baud_ok(baud))
                return usage("--baud: one of 9600 19200 38400 57600 115200 230400 460800 921600");
        } else if (strcmp(a, "--timeout-ms") == 0) {
            if (parse_int(v, 50, 600000, &timeout_ms) != 0)
                return usage("--timeout-ms: 50..600000");
        } else if (strcmp(a, "--poll-ms") == 0) {
            if (parse_int(v, 0, 60000, &poll_ms) != 0)
                return usage("--poll-ms: 0 (off)..60000");
        } else if (strcmp(a, "--watch-pid") == 0) {
            if (parse_int(v, 1, 1 << 30, &watch) != 0)
                return usage("--watch-pid: a process id");
        } else
            return usage("unknown option");
    }
    if (!listen || !idport || !token_file)
        return usage("--listen, --idcard-port and --token-file are required");
    int port;
    if (bridge_parse_listen(listen, &port) != 0) {
        fprintf(stderr,
                "zhanye-bridge: --listen %s refused: the bridge serves on 127.0.0.1 only "
                "(write 127.0.0.1:PORT)\n",
                listen);
        return 2;
    }
    if (n_origins == 0)
        origins[n_origins++] = DEFAULT_ORIGIN;

    char token[128], err[512];
    int created = 0;
    if (bridge_token_load(token_file, token, sizeof token, &created, err, sizeof err) != 0) {
        fprintf(stderr, "zhanye-bridge: %s\n", err);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct bridge_config cfg = {
        .port = port,
        .token = token,
        .origins = origins,
        .n_origins = n_origins,
        .op_timeout_ms = timeout_ms,
    };
    struct bridge *br = bridge_new(&cfg);
    secmem_wipe(token, sizeof token);
    struct idcard_dev *idc = idcard_dev_new(idport, baud, poll_ms, timeout_ms);
    const char *pad_ports[3] = {pin_port, sig_port, finger_port};
    const struct bridge_device *pad_kinds[3] = {&PIN_DEVICE, &SIG_DEVICE, &FINGER_DEVICE};
    struct pad_dev *pads[3] = {NULL, NULL, NULL};
    int ok = br && idc && bridge_add(br, &IDCARD_DEVICE, idc) == 0;
    struct card_dev *cardd = NULL;
    if (ok && card)
        ok =
            (cardd = card_dev_new(card_reader)) != NULL && bridge_add(br, &CARD_DEVICE, cardd) == 0;
    for (int i = 0; i < 3 && ok; i++)
        if (pad_ports[i])
            ok = (pads[i] = pad_dev_new(pad_ports[i], pin_format)) != NULL &&
                 bridge_add(br, pad_kinds[i], pads[i]) == 0;
    if (!ok || bridge_start(br) != 0) {
        fprintf(stderr, "zhanye-bridge: cannot start\n");
        bridge_free(br);
        idcard_dev_free(idc);
        for (int i = 0; i < 3; i++)
            pad_dev_free(pads[i]);
        card_dev_free(cardd);
        return 1;
    }
    printf("zhanye-bridge: listening on http://127.0.0.1:%d token-file %s%s\n", bridge_port(br),
           token_file, created ? " (created)" : "");
    fflush(stdout);
    struct timespec tick = {.tv_sec = 1, .tv_nsec = 0};
    while (sigtimedwait(&set, NULL, &tick) < 0)
        if (watch > 0 && kill((pid_t)watch, 0) != 0 && errno == ESRCH)
            break;
    bridge_free(br);
    idcard_dev_free(idc);
    for (int i = 0; i < 3; i++)
        pad_dev_free(pads[i]);
    card_dev_free(cardd);
    return 0;
}
