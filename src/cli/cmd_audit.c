/* zhanye audit verify --data DIR [--checkpoints [SHARD=]FILE]...
 * zhanye audit checkpoint --data DIR
 * zhanye audit pubkey --data DIR
 * zhanye audit keygen --data DIR
 *
 * verify walks each database's keyed chain — the directory's ("main") and
 * every bank shard's (identity/audit.h "chains") — and checks every signed
 * checkpoint, of the database and of the chain's checkpoint file (the data
 * directory's own, or FILE: a copy shipped elsewhere, which also catches
 * checkpoints deleted from the database; FILE alone is main's, SHARD=FILE
 * a shard's). For main it prints "audit chain intact: N records", the head
 * and the last checkpoint, or "audit chain BROKEN at record S: <reason>"
 * naming the lowest bad seq (altered, inserted, deleted, rehashed without
 * the key, tail cut below a checkpoint, forged or deleted checkpoint); then
 * the same lines for each shard, prefixed "shard NAME: ", and with shards a
 * last line saying whether all chains are intact. Exit 0 only if every
 * chain is intact.
 * checkpoint signs each chain's head now; pubkey prints the checkpoint
 * public key (130 hex digits) for a verifier elsewhere; keygen creates the
 * missing audit key files, for a data directory from before keyed audit. */
#include "cli/cli_admin.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define USAGE                                                                                      \
    "usage: zhanye audit verify --data DIR [--checkpoints [SHARD=]FILE]...\n"                      \
    "       zhanye audit checkpoint --data DIR\n"                                                  \
    "       zhanye audit pubkey --data DIR\n"                                                      \
    "       zhanye audit keygen --data DIR\n"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

static const char *when(int64_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, 32, "%" PRId64, ms);
    return buf;
}

/* Checkpoint files given on the command line: NULL for main, or the shard's name. */
struct copies {
    int n;
    struct {
        const char *chain; /* NULL: main */
        size_t len;
        const char *file;
    } v[AUDIT_CHAINS_MAX];
};

/* The copy given for chain name, or NULL. */
static const char *copy_of(const struct copies *cp, const char *name)
{
    for (int i = 0; i < cp->n; i++) {
        const char *c = cp->v[i].chain;
        if (c ? strlen(name) == cp->v[i].len && strncmp(c, name, cp->v[i].len) == 0
              : strcmp(name, AUDIT_CHAIN_MAIN) == 0)
            return cp->v[i].file;
    }
    return NULL;
}

static void print_checkpoints(const char *pre, const struct audit_report *rep, const char *file)
{
    char t[32];
    if (rep->last.seq)
        printf("%slast checkpoint: seq %" PRId64 " hash %s at %s\n", pre, rep->last.seq,
               rep->last.hash, when(rep->last.ts, t));
    else
        printf("%slast checkpoint: none\n", pre);
    printf("%scheckpoints: %" PRId64 " in the database", pre, rep->checkpoints);
    if (rep->file_checkpoints >= 0)
        printf(", %" PRId64 " in %s (%" PRId64 " not yet in it)\n", rep->file_checkpoints, file,
               rep->unshipped);
    else
        printf(", no checkpoint file\n");
}

/* One chain's report; EXIT_OK if intact. */
static int verify_chain(const struct audit_chain *ch, const char *copy, bool main)
{
    struct audit_report rep;
    char pre[SHARD_NAME_MAX + 16] = "";
    if (!main)
        snprintf(pre, sizeof pre, "shard %s: ", ch->name);
    const char *file = copy ? copy : main ? AUDIT_CHECKPOINT_FILE : ch->file;
    int vrc = audit_verify_chain(ch, copy, &rep);
    if (vrc == ID_OK && rep.legacy) {
        printf("%saudit chain intact but UNKEYED (written before keyed audit): %" PRId64
               " records\n%sthe next `zhanye serve` or administration command re-chains it under "
               "the audit key\n",
               pre, rep.records, pre);
    } else if (vrc == ID_OK) {
        printf("%saudit chain intact: %" PRId64 " records\n%shead: seq %" PRId64 " hash %s\n", pre,
               rep.records, pre, rep.records, rep.head);
        print_checkpoints(pre, &rep, file);
    } else if (vrc == ID_CORRUPT) {
        printf("%saudit chain BROKEN at record %" PRId64 ": %s\n", pre, rep.first_bad, rep.reason);
        print_checkpoints(pre, &rep, file);
    } else {
        fprintf(stderr, "zhanye audit: %s%s\n", pre, rep.reason);
    }
    return vrc == ID_OK ? EXIT_OK : EXIT_FAIL;
}

static int verify(const char *data, const struct copies *cp)
{
    struct cli_admin d;
    struct audit_chains cs = {0};
    int rc = cli_admin_open_verify("audit", data, &d);
    if (rc != EXIT_OK)
        goto out;
    store_release(d.conn); /* audit_verify takes its own connection */
    d.conn = NULL;
    if (audit_chains_collect(d.app.shards, d.app.cfg.data_dir, &cs) != ID_OK) {
        fprintf(stderr, "zhanye audit: cannot list the databases' chains\n");
        rc = EXIT_FAIL;
        goto out;
    }
    for (int i = 0; i < cp->n; i++)
        if (cp->v[i].chain) {
            char name[SHARD_NAME_MAX + 1];
            snprintf(name, sizeof name, "%.*s", (int)cp->v[i].len, cp->v[i].chain);
            if (cp->v[i].len > SHARD_NAME_MAX || !audit_chains_find(&cs, name)) {
                fprintf(stderr, "zhanye audit: --checkpoints %.*s=: no such shard\n",
                        (int)cp->v[i].len, cp->v[i].chain);
                rc = EXIT_USAGE;
                goto out;
            }
        }
    int broken = 0;
    for (size_t i = 0; i < cs.n; i++)
        broken += verify_chain(&cs.v[i], copy_of(cp, cs.v[i].name), i == 0) != EXIT_OK;
    if (cs.n > 1) {
        if (broken)
            printf("%d of %zu audit chains NOT intact\n", broken, cs.n);
        else
            printf("all %zu audit chains intact (main and %zu shards)\n", cs.n, cs.n - 1);
    }
    rc = broken ? EXIT_FAIL : EXIT_OK;
out:
    audit_chains_free(&cs);
    cli_admin_close(&d);
    return rc;
}

/* One chain's checkpoint; EXIT_OK unless it failed. */
static int checkpoint_chain(const struct audit_chain *ch, bool main)
{
    struct audit_checkpoint cp;
    char t[32], pre[SHARD_NAME_MAX + 16] = "";
    if (!main)
        snprintf(pre, sizeof pre, "shard %s: ", ch->name);
    int crc = audit_checkpoint_chain(ch, &cp);
    if (crc == ID_OK)
        printf("%scheckpoint: seq %" PRId64 " hash %s at %s\n", pre, cp.seq, cp.hash,
               when(cp.ts, t));
    else if (crc == ID_EXISTS)
        printf("%sno record since the last checkpoint: seq %" PRId64 " hash %s at %s\n", pre,
               cp.seq, cp.hash, when(cp.ts, t));
    else if (crc == ID_NOT_FOUND)
        printf("%sthe audit log is empty: nothing to sign\n", pre);
    else {
        fprintf(stderr, "zhanye audit: %scheckpoint failed: %s%s\n", pre, id_rc_name(crc),
                crc == ID_CORRUPT ? " (the chain's head does not verify: run zhanye audit verify)"
                                  : "");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int checkpoint(const char *data)
{
    struct cli_admin d;
    struct audit_chains cs = {0};
    int rc = cli_admin_open("audit", data, false, &d);
    if (rc != EXIT_OK)
        goto out;
    store_release(d.conn); /* audit_checkpoint takes its own connection */
    d.conn = NULL;
    if (audit_chains_collect(d.app.shards, d.app.cfg.data_dir, &cs) != ID_OK) {
        fprintf(stderr, "zhanye audit: cannot list the databases' chains\n");
        rc = EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < cs.n; i++) /* every chain, even after one failed */
        if (checkpoint_chain(&cs.v[i], i == 0) != EXIT_OK)
            rc = EXIT_FAIL;
out:
    audit_chains_free(&cs);
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
    const char *data = NULL;
    struct copies cp = {0};
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'c': {
            if (cp.n == AUDIT_CHAINS_MAX)
                goto usage;
            const char *eq = strchr(optarg, '=');
            if (eq && (eq == optarg || strspn(optarg, NAME_CHARS) != (size_t)(eq - optarg)))
                eq = NULL; /* a path with '=' in it, not SHARD=FILE */
            cp.v[cp.n].chain = eq ? optarg : NULL;
            cp.v[cp.n].len = eq ? (size_t)(eq - optarg) : 0;
            cp.v[cp.n].file = eq ? eq + 1 : optarg;
            cp.n++;
            break;
        }
        default:
            goto usage;
        }
    }
    if (argc < 2 || !data || optind != argc - 1)
        goto usage;
    const char *sub = argv[1];
    if (strcmp(sub, "verify") == 0)
        return verify(data, &cp);
    if (cp.n)
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
