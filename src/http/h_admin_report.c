/* GET /api/v1/admin/reports/customers — customers per bank in the
 * administrator's scope, read from every database the scope's banks live
 * in (bank shards, data/shard.h) and merged:
 *   {"banks": [{"code", "name", "shard", "persons", "businesses"}],
 *    "total": {"persons", "businesses"}, "databases": N}
 * A province administrator reads every shard; a bank administrator their
 * bank's; a branch manager their branch's customers. Counts only: no
 * customer's data leaves the shard. */
#include "app/app.h"
#include "business/customer_report.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "http/admin.h"
#include "http/handlers.h"

#include <stdlib.h>

#define MAX_BANKS 4096

struct tallies {
    struct admin_req *ar;
    struct customer_tally t[MAX_BANKS];
    size_t n;
    int databases;
};

static int add_tally(const struct customer_tally *t, void *arg)
{
    struct tallies *all = arg;
    for (size_t i = 0; i < all->n; i++)
        if (all->t[i].bank_id == t->bank_id) {
            all->t[i].persons += t->persons;
            all->t[i].businesses += t->businesses;
            return 0;
        }
    if (all->n == MAX_BANKS)
        return STORE_ERR;
    all->t[all->n++] = *t;
    return 0;
}

/* One database: its tallies for the administrator's scope. */
static int read_db(const char *name, struct store *st, void *arg)
{
    (void)name;
    struct tallies *all = arg;
    const struct admin_session *w = &all->ar->who;
    struct scope sc = {w->bank_id, w->branch_id, w->teller_id, w->role};
    struct store_conn *c = NULL, *reader = NULL;
    struct tenant_conn *tc = NULL;
    int rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    store_read_conn(c, &reader); /* a replica that has what the primary had now */
    rc = tenant_open(reader, &sc, &tc);
    if (rc == STORE_OK)
        rc = customer_report(tc, add_tally, all);
    tenant_close(tc);
    store_release_read(c, reader);
    store_release(c);
    all->databases++;
    return rc;
}

struct rows {
    struct tallies *all;
    json_t *list;
    int64_t persons, businesses;
};

static int bank_row(const struct bank *b, void *arg)
{
    struct rows *r = arg;
    struct tallies *all = r->all;
    if (b->kind != ORG_BANK || !admin_sees_bank(all->ar, b->id))
        return 0;
    struct customer_tally t = {.bank_id = b->id};
    for (size_t i = 0; i < all->n; i++)
        if (all->t[i].bank_id == b->id)
            t = all->t[i];
    char shard[SHARD_NAME_MAX + 1];
    shards_route(all->ar->app->shards, b->id, shard);
    r->persons += t.persons;
    r->businesses += t.businesses;
    return json_array_append_new(r->list, json_pack("{s:s, s:s, s:s, s:I, s:I}", "code", b->code,
                                                    "name", b->name, "shard", shard, "persons",
                                                    (json_int_t)t.persons, "businesses",
                                                    (json_int_t)t.businesses));
}

void h_admin_report_customers(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open_report(req, resp, &ar))
        return;
    struct tallies *all = calloc(1, sizeof *all);
    struct rows r = {.all = all, .list = json_array()};
    int rc = all && r.list ? STORE_OK : STORE_NOMEM;
    if (rc == STORE_OK) {
        all->ar = &ar;
        struct shards *sh = ar.app->shards;
        rc = ar.who.role == ROLE_PROVINCE_ADMIN
                 ? shards_each(sh, read_db, all)
                 : read_db(NULL, shards_route(sh, ar.who.bank_id, NULL), all);
    }
    if (rc == STORE_OK)
        rc = org_list_banks(ar.conn, bank_row, &r);
    if (rc == STORE_OK)
        http_json(resp, 200,
                  json_pack("{s:O, s:{s:I, s:I}, s:i}", "banks", r.list, "total", "persons",
                            (json_int_t)r.persons, "businesses", (json_int_t)r.businesses,
                            "databases", all->databases));
    else
        admin_fail(&ar, rc, "report customers");
    json_decref(r.list);
    free(all);
    admin_close(&ar);
}
