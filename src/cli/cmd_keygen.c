/* zhanye keygen --data DIR --kid K
 *
 * Writes a new SM2 server key to key_dir/K.pem (mode 0600, never over an
 * existing file). It goes live when K is added to `[channel] keys` and the
 * server restarts; keep the old kid listed until every tablet has pinned
 * the new key. */
#include "app/app.h"
#include "channel/keyring.h"
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"kid", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *kid = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'k':
            kid = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!data || !kid || optind != argc)
        goto usage;
    struct app a;
    char err[512], path[PATH_MAX];
    if (app_load_config(&a, data, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye keygen: %s\n", err);
        return EXIT_USAGE;
    }
    int rc = keyring_generate(a.cfg.channel.key_dir, kid, err, sizeof err);
    if (rc == 0 && keyring_path(a.cfg.channel.key_dir, kid, path, sizeof path) == 0)
        printf("zhanye: wrote %s; add %s to [channel] keys to make it live\n", path, kid);
    else
        fprintf(stderr, "zhanye keygen: %s\n", err);
    config_free(&a.cfg);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
usage:
    fprintf(stderr, "usage: zhanye keygen --data DIR --kid K\n");
    return EXIT_USAGE;
}
