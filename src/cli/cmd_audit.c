/* zhanye audit verify --data DIR
 *
 * Walks the audit hash chain. Exit 0 with "audit chain intact: N records"
 * (and the head, to note down elsewhere: that is what proves later that the
 * tail was not cut off), exit 1 naming the first altered, inserted or
 * deleted record. */
#include "cli/cli_admin.h"
#include "identity/audit.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (argc < 2 || strcmp(argv[1], "verify") != 0 || !data || optind != argc - 1)
        goto usage;
    struct cli_admin d;
    struct audit_report rep;
    int rc = cli_admin_open("audit", data, false, &d);
    if (rc != EXIT_OK)
        goto out;
    store_release(d.conn); /* audit_verify takes its own connection */
    d.conn = NULL;
    int vrc = audit_verify(d.app.store, &rep);
    if (vrc == ID_OK) {
        printf("audit chain intact: %" PRId64 " records\nhead: seq %" PRId64 " hash %s\n",
               rep.records, rep.records, rep.head);
    } else if (vrc == ID_CORRUPT) {
        printf("audit chain BROKEN at record %" PRId64 ": %s\n", rep.first_bad, rep.reason);
        rc = EXIT_FAIL;
    } else {
        fprintf(stderr, "zhanye audit: %s\n", rep.reason);
        rc = EXIT_FAIL;
    }
out:
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye audit verify --data DIR\n");
    return EXIT_USAGE;
}
