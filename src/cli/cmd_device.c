/* zhanye device list --data DIR [--bank B]
 * zhanye device revoke --data DIR --dev D
 * zhanye device unbind --data DIR --dev D
 *
 * revoke: the tablet is lost, stolen or compromised; unbind: it was handed
 * back. Either way it stops working at once and its sessions end; it can be
 * activated again only with a new activation code. */
#include "cli/cli_admin.h"
#include "identity/binding.h"
#include "identity/org.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void fmt_time(int64_t ms, char out[24])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm) || !strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 24, "-");
}

static int print_device(const struct device *dv, void *arg)
{
    char seen[24];
    (void)arg;
    fmt_time(dv->last_seen, seen);
    printf("%s %-8s %-6s %-10s %-20s %s %s/%s/%s\n", dv->dev, device_status_name(dv->status),
           dv->bank_code, dv->teller_code, seen, dv->last_addr[0] ? dv->last_addr : "-", dv->model,
           dv->os, dv->app);
    return 0;
}

static int list(struct cli_admin *d, const char *bank_code)
{
    struct bank b = {0};
    int rc = bank_code ? org_find_bank(d->conn, bank_code, &b) : ID_OK;
    if (rc == ID_OK) {
        printf("%-32s %-8s %-6s %-10s %-20s %s\n", "DEV", "STATUS", "BANK", "TELLER", "LAST_SEEN",
               "ADDR MODEL/OS/APP");
        rc = device_list(d->conn, b.id, print_device, NULL);
    }
    if (rc != ID_OK)
        fprintf(stderr, "zhanye device: %s: %s\n", bank_code ? bank_code : "listing",
                id_rc_name(rc));
    return rc == ID_OK ? EXIT_OK : EXIT_FAIL;
}

struct take_out_args {
    const char *actor, *dev;
    bool revoke;
};

/* store_run callback: revoke or unbind; its sessions end with it. */
static int take_out_txn(struct store_conn *c, void *arg)
{
    const struct take_out_args *a = arg;
    return a->revoke ? binding_revoke(c, a->actor, a->dev) : binding_unbind(c, a->actor, a->dev);
}

static int take_out(struct cli_admin *d, const char *dev, bool revoke)
{
    char actor[64];
    struct take_out_args a = {
        .actor = cli_admin_actor(actor, sizeof actor), .dev = dev, .revoke = revoke};
    int rc =
        store_run(d->conn, revoke ? "cli.device_revoke" : "cli.device_unbind", take_out_txn, &a);
    if (rc == ID_DISABLED)
        fprintf(stderr, "zhanye device: %s is not active\n", dev);
    if (rc != ID_OK) {
        fprintf(stderr, "zhanye device: %s: %s%s%s\n", dev, id_rc_name(rc), rc < 0 ? ": " : "",
                rc < 0 ? store_errmsg(d->conn) : "");
        return EXIT_FAIL;
    }
    printf("zhanye: device %s %s; its sessions have ended\n", dev, revoke ? "revoked" : "unbound");
    return EXIT_OK;
}

int cmd_device(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"bank", required_argument, NULL, 'b'},
        {"dev", required_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *bank = NULL, *dev = NULL;
    const char *sub = argc > 1 ? argv[1] : "";
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        case 'v':
            dev = optarg;
            break;
        default:
            goto usage;
        }
    }
    bool is_list = strcmp(sub, "list") == 0;
    bool is_out = strcmp(sub, "revoke") == 0 || strcmp(sub, "unbind") == 0;
    if (!data || optind != argc - 1 || !(is_list || is_out) || (is_list && dev) ||
        (is_out && (!dev || bank)))
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("device", data, false, &d);
    if (rc == EXIT_OK)
        rc = is_list ? list(&d, bank) : take_out(&d, dev, strcmp(sub, "revoke") == 0);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye device list --data DIR [--bank B]\n"
                    "       zhanye device revoke|unbind --data DIR --dev D\n");
    return EXIT_USAGE;
}
