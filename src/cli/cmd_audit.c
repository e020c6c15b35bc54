/* zhanye audit verify --data DIR [--checkpoints FILE]
 * zhanye audit checkpoint --data DIR
 * zhanye audit pubkey --data DIR
 * zhanye audit keygen --data DIR
 *
 * verify walks the keyed chain and checks every signed checkpoint, of the
 * database and of the checkpoint file (the data directory's own, or FILE:
 * a copy shipped elsewhere, which also catches checkpoints deleted from the
 * database). Exit 0 with "audit chain intact: N records", the head and the
 * last checkpoint; exit 1 with "audit chain BROKEN at record S: <reason>"
 * naming the lowest bad seq (altered, inserted, deleted, rehashed without
 * the key, tail cut below a checkpoint, forged or deleted checkpoint).
 * checkpoint signs the head now; pubkey prints the checkpoint public key
 * (130 hex digits) for a verifier elsewhere; keygen creates the missing
 * audit key files, for a data directory from before keyed audit. */
#include "cli/cli_admin.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define USAGE                                                                                      \
    "usage: zhanye audit verify --data DIR [--checkpoints FILE]\n"                                 \
    "       zhanye audit checkpoint --data DIR\n"                                                  \
    "       zhanye audit pubkey --data DIR\n"                                                      \
    "       zhanye audit keygen --data DIR\n"

static const char *when(int64_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, 32, "%" PRId64, ms);
    return buf;
}

static void print_checkpoints(const struct audit_report *rep, const char *file)
{
    char t[32];
    if (rep->last.seq)
        printf("last checkpoint: seq %" PRId64 " hash %s at %s\n", rep->last.seq, rep->last.hash,
               when(rep->last.ts, t));
    else
        printf("last checkpoint: none\n");
    printf("checkpoints: %" PRId64 " in the database", rep->checkpoints);
    if (rep->file_checkpoints >= 0)
        printf(", %" PRId64 " in %s (%" PRId64 " not yet in it)\n", rep->file_checkpoints,
               file ? file : AUDIT_CHECKPOINT_FILE, rep->unshipped);
    else
        printf(", no checkpoint file\n");
}

static int verify(const char *data, const char *file)
{
    struct cli_admin d;
    struct audit_report rep;
    int rc = cli_admin_open_verify("audit", data, &d);
    if (rc != EXIT_OK)
        goto out;
    store_release(d.conn); /* audit_verify takes its own connection */
    d.conn = NULL;
    int vrc = audit_verify(d.app.store, file, &rep);
    if (vrc == ID_OK && rep.legacy) {
        printf("audit chain intact but UNKEYED (written before keyed audit): %" PRId64
               " records\nthe next `zhanye serve` or administration command re-chains it under "
               "the audit key\n",
               rep.records);
    } else if (vrc == ID_OK) {
        printf("audit chain intact: %" PRId64 " records\nhead: seq %" PRId64 " hash %s\n",
               rep.records, rep.records, rep.head);
        print_checkpoints(&rep, file);
    } else if (vrc == ID_CORRUPT) {
        printf("audit chain BROKEN at record %" PRId64 ": %s\n", rep.first_bad, rep.reason);
        print_checkpoints(&rep, file);
        rc = EXIT_FAIL;
    } else {
        fprintf(stderr, "zhanye audit: %s\n", rep.reason);
        rc = EXIT_FAIL;
    }
out:
    cli_admin_close(&d);
    return rc;
}

static int checkpoint(const char *data)
{
    struct cli_admin d;
    struct audit_checkpoint cp;
    char t[32];
    int rc = cli_admin_open("audit", data, false, &d);
    if (rc != EXIT_OK)
        goto out;
    store_release(d.conn); /* audit_checkpoint takes its own connection */
    d.conn = NULL;
    int crc = audit_checkpoint(d.app.store, &cp);
    if (crc == ID_OK)
        printf("checkpoint: seq %" PRId64 " hash %s at %s\n", cp.seq, cp.hash, when(cp.ts, t));
    else if (crc == ID_EXISTS)
        printf("no record since the last checkpoint: seq %" PRId64 " hash %s at %s\n", cp.seq,
               cp.hash, when(cp.ts, t));
    else if (crc == ID_NOT_FOUND)
        printf("the audit log is empty: nothing to sign\n");
    else {
        fprintf(stderr, "zhanye audit: checkpoint failed: %s%s\n", id_rc_name(crc),
                crc == ID_CORRUPT ? " (the chain's head does not verify: run zhanye audit verify)"
                                  : "");
        rc = EXIT_FAIL;
    }
out:
    cli_admin_close(&d);
    return rc;
}

/* pubkey and keygen need the configuration only. */
static int keys(const char *data, bool create)
{
    struct app a;
    struct audit_options o;
    char err[768], file[PATH_MAX], pub[AUDIT_PUB_HEX + 1];
    if (app_load_config(&a, data, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye audit: %s\n", err);
        return EXIT_USAGE;
    }
    int rc = ID_OK;
    if (create) {
        rc = audit_keys_create(a.cfg.channel.key_dir, err, sizeof err);
        if (rc == ID_OK || rc == ID_EXISTS)
            printf("zhanye: audit keys in %s%s\n", a.cfg.channel.key_dir,
                   rc == ID_OK ? " (created what was missing)" : " (all there already)");
        rc = rc == ID_EXISTS ? ID_OK : rc;
    } else {
        rc = cli_admin_audit_options(&a, true, &o, file, sizeof file) == 0
                 ? audit_open(&o, err, sizeof err)
                 : ID_BAD_INPUT;
        if (rc == ID_OK && audit_pubkey_hex(pub) == ID_OK)
            printf("%s\n", pub);
        audit_close();
    }
    if (rc != ID_OK)
        fprintf(stderr, "zhanye audit: %s\n", err);
    config_free(&a.cfg);
    return rc == ID_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"checkpoints", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *file = NULL;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            file = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (argc < 2 || !data || optind != argc - 1)
        goto usage;
    const char *sub = argv[1];
    if (strcmp(sub, "verify") == 0)
        return verify(data, file);
    if (file)
        goto usage;
    if (strcmp(sub, "checkpoint") == 0)
        return checkpoint(data);
    if (strcmp(sub, "pubkey") == 0)
        return keys(data, false);
    if (strcmp(sub, "keygen") == 0)
        return keys(data, true);
usage:
    fprintf(stderr, USAGE);
    return EXIT_USAGE;
}
