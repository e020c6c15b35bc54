/* zhanye activation issue --data DIR --teller T
 *
 * Issues a one-time activation code for teller T (valid 24 h; it replaces
 * any unused earlier code) and prints it ALONE on the last line of stdout,
 * for scripts. The code is a secret: hand it to the teller in person. */
#include "cli/cli_admin.h"
#include "foundation/secmem.h"
#include "identity/ticket.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int issue(struct cli_admin *d, const char *teller)
{
    char actor[64], code[ACT_CODE_LEN + 1], until[32] = "?";
    int64_t expires = 0;
    if (cli_admin_begin(d) != STORE_OK)
        return EXIT_FAIL;
    int rc = activation_issue(d->conn, &d->kek, cli_admin_actor(actor, sizeof actor), teller, code,
                              &expires);
    int exit_code = cli_admin_end(d, rc, teller);
    if (exit_code == EXIT_OK) {
        time_t t = (time_t)(expires / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(until, sizeof until, "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("activation code for teller %s, valid until %s:\n%s\n", teller, until, code);
        fflush(stdout);
    }
    secmem_wipe(code, sizeof code);
    return exit_code;
}

int cmd_activation(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"teller", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *teller = NULL;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 't':
            teller = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (argc < 2 || strcmp(argv[1], "issue") != 0 || !data || !teller || optind != argc - 1)
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("activation", data, true, &d);
    if (rc == EXIT_OK)
        rc = issue(&d, teller);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye activation issue --data DIR --teller T\n");
    return EXIT_USAGE;
}
