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

struct issue_args {
    const struct kek *kek;
    const char *actor, *teller;
    char code[ACT_CODE_LEN + 1]; /* out: a secret, wiped by the caller */
    int64_t expires;             /* out */
};

/* store_run callback: the new code (replacing an unused earlier one). */
static int issue_txn(struct store_conn *c, void *arg)
{
    struct issue_args *a = arg;
    a->expires = 0;
    return activation_issue(c, a->kek, a->actor, a->teller, a->code, &a->expires);
}

static int issue(struct cli_admin *d, const char *teller)
{
    char actor[64], until[32] = "?";
    struct issue_args a = {
        .kek = &d->kek, .actor = cli_admin_actor(actor, sizeof actor), .teller = teller};
    int rc = cli_admin_run(d, "cli.activation_issue", issue_txn, &a, teller);
    if (rc == ID_OK) {
        time_t t = (time_t)(a.expires / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(until, sizeof until, "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("activation code for teller %s, valid until %s:\n%s\n", teller, until, a.code);
        fflush(stdout);
    }
    secmem_wipe(a.code, sizeof a.code);
    return rc == ID_OK ? EXIT_OK : EXIT_FAIL;
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
