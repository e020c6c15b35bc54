/* zhanye purge --data DIR [--days N]
 *
 * Deletes what no one needs after N days (default 30): tablet and console
 * sessions that ended or expired, and stored idempotent answers (a tablet
 * retries a submission within minutes, not weeks), in the directory and in
 * every bank shard (data/shard.h). Attachment uploads begun more than a day
 * ago and never ended, whatever N, are abandoned (business/attach_db.h):
 * their chunks and links deleted, the row kept as 'abandoned'. The audit
 * log is never purged. Meant for a nightly cron job; the purge itself is
 * audited. */
#include "cli/cli_admin.h"
#include "data/shard.h"
#include "foundation/clock.h"
#include "identity/audit.h"
#include "identity/identity.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each statement's parameters are all the cutoff time. */
static const struct {
    const char *sql;
    int nparams;
} PURGES[] = {
    {"DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR expires_at < ?", 2},
    {"DELETE FROM admin_sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR expires_at < ?",
     2},
    {"DELETE FROM tx_answers WHERE created_at < ?", 1},
};

static int purge_one(struct store_conn *c, int i, int64_t cutoff, int64_t *deleted)
{
    struct store_stmt *s;
    int rc = store_prepare(c, PURGES[i].sql, &s);
    if (rc != STORE_OK)
        return rc;
    for (int p = 1; p <= PURGES[i].nparams; p++)
        store_bind_int64(s, p, cutoff);
    rc = store_step(s);
    store_finish(s);
    *deleted = store_changes(c);
    return rc == STORE_DONE ? STORE_OK : rc;
}

#define UPLOAD_DAY_MS 86400000LL

/* Abandons the uploads begun before cutoff (in every shard, main too):
 * chunks and links first, then the rows' state. *n: uploads abandoned. */
static int purge_uploads(struct store_conn *c, int64_t cutoff, int64_t *n)
{
    static const char *const sql[] = {
        "DELETE FROM attach_chunks WHERE EXISTS (SELECT 1 FROM attachments a WHERE a.bank_id = "
        "attach_chunks.bank_id AND a.id = attach_chunks.attachment_id AND a.state = 'uploading' "
        "AND a.created_at < ?)",
        "DELETE FROM attach_links WHERE EXISTS (SELECT 1 FROM attachments a WHERE a.bank_id = "
        "attach_links.bank_id AND a.id = attach_links.attachment_id AND a.state = 'uploading' "
        "AND a.created_at < ?)",
        "UPDATE attachments SET state = 'abandoned' WHERE state = 'uploading' AND created_at < ?",
    };
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < sizeof sql / sizeof sql[0]; i++) {
        struct store_stmt *s;
        rc = store_prepare(c, sql[i], &s);
        if (rc != STORE_OK)
            return rc;
        store_bind_int64(s, 1, cutoff);
        rc = store_step(s);
        store_finish(s);
        rc = rc == STORE_DONE ? STORE_OK : rc;
    }
    *n = rc == STORE_OK ? store_changes(c) : 0;
    return rc;
}

struct purge_args {
    const char *actor;
    long days;
    int64_t cutoff;
    int64_t upload_cutoff;                       /* attachment uploads: a day */
    int64_t n[sizeof PURGES / sizeof PURGES[0]]; /* out: rows deleted per statement */
    int64_t in_shards;                           /* out: stored answers deleted in shards */
    int64_t shard_n;                             /* the one shard's, last attempt */
    int64_t uploads;                             /* out: uploads abandoned, main */
    int64_t uploads_in_shards;                   /* out: the same in shards */
    int64_t shard_uploads;                       /* the one shard's, last attempt */
};

/* store_run callback on a shard: its stored answers. */
static int purge_shard_txn(struct store_conn *c, void *arg)
{
    struct purge_args *a = arg;
    a->shard_n = a->shard_uploads = 0;
    int rc = purge_one(c, 2, a->cutoff, &a->shard_n);
    return rc == STORE_OK ? purge_uploads(c, a->upload_cutoff, &a->shard_uploads) : rc;
}

static int purge_shard(const char *name, struct store *st, void *arg)
{
    if (strcmp(name, SHARD_MAIN) == 0)
        return STORE_OK; /* the directory: purge_txn */
    struct store_conn *c = NULL;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK) {
        rc = store_run(c, "cli.purge_shard", purge_shard_txn, arg);
        if (rc == STORE_OK) {
            ((struct purge_args *)arg)->in_shards += ((struct purge_args *)arg)->shard_n;
            ((struct purge_args *)arg)->uploads_in_shards +=
                ((struct purge_args *)arg)->shard_uploads;
        } else
            fprintf(stderr, "zhanye purge: shard %s: %s\n", name, store_errmsg(c));
        store_release(c);
    }
    return rc;
}

/* store_run callback: every purge and its audit record. */
static int purge_txn(struct store_conn *c, void *arg)
{
    struct purge_args *a = arg;
    int rc = ID_OK;
    memset(a->n, 0, sizeof a->n);
    for (int i = 0; rc == ID_OK && i < (int)(sizeof PURGES / sizeof PURGES[0]); i++)
        rc = purge_one(c, i, a->cutoff, &a->n[i]);
    if (rc == ID_OK)
        rc = purge_uploads(c, a->upload_cutoff, &a->uploads);
    if (rc == ID_OK)
        rc = audit_appendf(c, 0, a->actor, "data.purged", "", "{s:i,s:I,s:I,s:I,s:I,s:I}", "days",
                           (int)a->days, "sessions", (json_int_t)a->n[0], "admin_sessions",
                           (json_int_t)a->n[1], "tx_answers", (json_int_t)a->n[2],
                           "tx_answers_in_shards", (json_int_t)a->in_shards, "abandoned_uploads",
                           (json_int_t)(a->uploads + a->uploads_in_shards));
    return rc;
}

int cmd_purge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"days", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL;
    long days = 30;
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'n':
            days = strtol(optarg, &end, 10);
            if (*end || days < 1 || days > 3650)
                goto usage;
            break;
        default:
            goto usage;
        }
    }
    if (!data || optind != argc)
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("purge", data, false, &d);
    char actor[64];
    struct purge_args p = {.actor = cli_admin_actor(actor, sizeof actor),
                           .days = days,
                           .cutoff = clock_wall_ms() - (int64_t)days * 86400000,
                           .upload_cutoff = clock_wall_ms() - UPLOAD_DAY_MS};
    if (rc == EXIT_OK)
        rc = shards_each(d.app.shards, purge_shard, &p) == STORE_OK ? EXIT_OK : EXIT_FAIL;
    if (rc == EXIT_OK)
        rc = cli_admin_run(&d, "cli.purge", purge_txn, &p, "purge") == ID_OK ? EXIT_OK : EXIT_FAIL;
    if (rc == EXIT_OK)
        printf("purged older than %ld days: %lld sessions, %lld console sessions, %lld stored "
               "answers (%lld of them in bank shards); %lld abandoned uploads\n",
               days, (long long)p.n[0], (long long)p.n[1], (long long)(p.n[2] + p.in_shards),
               (long long)p.in_shards, (long long)(p.uploads + p.uploads_in_shards));
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye purge --data DIR [--days N]   (N 1..3650, default 30)\n");
    return EXIT_USAGE;
}
