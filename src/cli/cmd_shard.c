/* zhanye shard list --data DIR
 * zhanye shard move --data DIR --bank CODE --to NAME
 *
 * Bank shards (data/shard.h): `list` prints where each bank's business data
 * lives; `move` copies one bank's business data to another shard, verifies
 * it table by table (row count and SM3 digest), switches the directory's
 * map and empties the old shard (data/shard_move.h). The bank's business
 * transactions are answered `unavailable` during the copy and go on by
 * themselves on every node afterwards. A move cut short is finished by
 * running the same command again. Both ends of a move are audited in the
 * directory (shard.move_started, shard.moved or shard.move_failed). */
#include "channel/tx.h"
#include "cli/cli_admin.h"
#include "data/migrations.h"
#include "data/shard_move.h"
#include "foundation/clock.h"
#include "identity/audit.h"
#include "identity/org.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- list ----------------------------------------------------------------- */

static int list_banks(struct cli_admin *d)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        d->conn, "SELECT id, code, name FROM banks WHERE kind = 'bank' ORDER BY code", &s);
    printf("%-16s %-12s %s\n", "BANK", "SHARD", "NAME");
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        char shard[SHARD_NAME_MAX + 1];
        shards_route(d->app.shards, store_col_int64(s, 0), shard);
        printf("%-16s %-12s %s\n", store_col_text(s, 1), shard, store_col_text(s, 2));
        rc = STORE_OK;
    }
    store_finish(s);
    if (rc != STORE_DONE) {
        fprintf(stderr, "zhanye shard: %s\n", store_errmsg(d->conn));
        return EXIT_FAIL;
    }
    printf("%d shard(s) besides %s\n", shards_count(d->app.shards), SHARD_MAIN);
    return EXIT_OK;
}

/* ---- move ----------------------------------------------------------------- */

/* The business tables, and the stored answers of business transactions
 * (their WHERE names every business transaction: 0 when where[cap] cannot
 * hold it). */
static size_t bank_tables(struct shard_table *t, char *where, size_t cap)
{
    size_t n = 0, nt = 0;
    const char *const *names = migrations_bank_tables(&nt);
    for (size_t i = 0; i < nt && n < SHARD_MOVE_TABLES - 1; i++)
        t[n++] = (struct shard_table){.name = names[i]};
    size_t ndefs = 0, len = (size_t)snprintf(where, cap, "tx IN (''");
    const struct tx_def *const *defs = tx_all(&ndefs);
    for (size_t i = 0; i < ndefs && len < cap; i++)
        if (defs[i]->bank_data)
            len += (size_t)snprintf(where + len, cap - len, ", '%s'", defs[i]->code);
    if (len < cap)
        len += (size_t)snprintf(where + len, cap - len, ")");
    if (len >= cap)
        return 0;
    t[n++] = (struct shard_table){.name = "tx_answers", .where = where};
    return n;
}

struct audit_args {
    const char *actor, *event, *bank, *from, *to, *why;
    int64_t bank_id;
    const struct shard_move_report *rep;
};

static int audit_txn(struct store_conn *c, void *arg)
{
    struct audit_args *a = arg;
    json_t *detail = json_pack("{s:s, s:s}", "from", a->from, "to", a->to);
    if (a->rep && detail) {
        json_t *tables = json_object();
        for (size_t i = 0; tables && i < a->rep->ntables; i++)
            json_object_set_new(tables, a->rep->table[i].name,
                                json_pack("{s:I, s:s}", "rows", (json_int_t)a->rep->table[i].rows,
                                          "sm3", a->rep->table[i].digest));
        json_object_set_new(detail, "tables", tables);
        json_object_set_new(detail, "resumed", json_boolean(a->rep->resumed));
    }
    if (a->why && detail)
        json_object_set_new(detail, "why", json_string(a->why));
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    int rc = text ? audit_append(c, a->bank_id, a->actor, a->event, a->bank, text) : ID_ERR;
    free(text);
    json_decref(detail);
    return rc;
}

static int move_bank(struct cli_admin *d, const char *code, const char *to)
{
    struct bank b;
    if (org_find_bank(d->conn, code, &b) != ID_OK || b.kind != ORG_BANK) {
        fprintf(stderr, "zhanye shard: no bank %s\n", code);
        return EXIT_FAIL;
    }
    if (!shards_store(d->app.shards, to)) {
        fprintf(stderr, "zhanye shard: no shard %s (the [shard.NAME] sections, or %s)\n", to,
                SHARD_MAIN);
        return EXIT_USAGE;
    }
    char from[SHARD_NAME_MAX + 1], where[4096], actor[64];
    struct shard_table tables[SHARD_MOVE_TABLES];
    size_t n = bank_tables(tables, where, sizeof where);
    if (n == 0) {
        fprintf(stderr, "zhanye shard: the business transactions' names do not fit in %zu bytes\n",
                sizeof where);
        return EXIT_FAIL;
    }
    shards_route(d->app.shards, b.id, from);
    struct audit_args aa = {.actor = cli_admin_actor(actor, sizeof actor),
                            .event = "shard.move_started",
                            .bank = b.code,
                            .bank_id = b.id,
                            .from = from,
                            .to = to};
    if (cli_admin_run(d, "cli.shard_audit", audit_txn, &aa, "record the move") != ID_OK)
        return EXIT_FAIL;
    struct shard_move_report rep;
    /* The move takes connections of its own; the directory's one is given back. */
    store_release(d->conn);
    d->conn = NULL;
    int rc = shard_move(d->app.shards, b.id, to, tables, n, clock_wall_ms(), &rep);
    char why[512];
    snprintf(why, sizeof why, "%s", rc == STORE_OK ? "" : store_errmsg(NULL));
    if (store_acquire(d->app.store, &d->conn) != STORE_OK) {
        fprintf(stderr, "zhanye shard: the directory: %s\n", store_errmsg(NULL));
        return EXIT_FAIL;
    }
    aa.event = rc == STORE_OK ? "shard.moved" : "shard.move_failed";
    aa.from = rc == STORE_OK ? rep.from : from;
    aa.rep = rc == STORE_OK ? &rep : NULL;
    aa.why = rc == STORE_OK ? NULL : why;
    if (cli_admin_run(d, "cli.shard_audit", audit_txn, &aa, "record the move") != ID_OK)
        return EXIT_FAIL;
    if (rc != STORE_OK) {
        fprintf(stderr, "zhanye shard: moving %s to %s: %s\n", b.code, to, why);
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < rep.ntables; i++)
        printf("  %-24s %10lld rows  sm3 %s\n", rep.table[i].name, (long long)rep.table[i].rows,
               rep.table[i].digest);
    printf("moved bank %s from %s to %s%s: %lld rows, verified\n", b.code, rep.from, rep.to,
           rep.resumed ? " (finished an interrupted move)" : "", (long long)rep.rows);
    return EXIT_OK;
}

int cmd_shard(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"bank", required_argument, NULL, 'b'},
        {"to", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *bank = NULL, *to = NULL;
    if (argc < 2)
        goto usage;
    const char *verb = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        case 't':
            to = optarg;
            break;
        default:
            goto usage;
        }
    }
    bool move = strcmp(verb, "move") == 0;
    if (!data || optind != argc || (!move && strcmp(verb, "list") != 0) || (move != (bank && to)))
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("shard", data, false, &d);
    if (rc == EXIT_OK)
        rc = move ? move_bank(&d, bank, to) : list_banks(&d);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye shard list --data DIR\n"
                    "       zhanye shard move --data DIR --bank CODE --to SHARD\n");
    return EXIT_USAGE;
}
