/* admin_bank.c — a bank's business data for the back office (see admin_bank.h). */
#include "http/admin_bank.h"

#include "app/app.h"
#include "data/shard.h"
#include "foundation/errcode.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <stdio.h>
#include <string.h>

static struct scope scope_of(const struct admin_req *ar, int64_t bank_id)
{
    const struct admin_session *w = &ar->who;
    return (struct scope){bank_id, w->role == ROLE_BRANCH_MANAGER ? w->branch_id : 0, w->teller_id,
                          w->role};
}

int admin_bank_read(struct admin_req *ar, int64_t bank_id, admin_bank_fn fn, void *arg)
{
    struct scope sc = scope_of(ar, bank_id);
    struct store *st = shards_route(ar->app->shards, bank_id, NULL);
    struct store_conn *c = st == ar->app->store ? ar->conn : NULL, *reader = NULL;
    struct tenant_conn *tc = NULL;
    int rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    store_read_conn(c, &reader); /* a replica that has what the primary had now */
    rc = tenant_open_readonly(reader, &sc, &tc);
    if (rc == STORE_OK)
        rc = fn(tc, arg);
    tenant_close(tc);
    store_release_read(c, reader);
    if (c != ar->conn)
        store_release(c);
    return rc;
}

struct txn {
    struct admin_req *ar;
    int64_t bank_id;
    admin_bank_fn fn;
    void *arg;
};

enum { MOVING = 90 }; /* positive: store_run rolls back */

/* store_run callback on the bank's shard. */
static int txn_cb(struct store_conn *c, void *arg)
{
    struct txn *x = arg;
    int rc = shard_fence(c, x->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE)
        return MOVING;
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = scope_of(x->ar, x->bank_id);
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, &sc, &tc);
    if (rc == STORE_OK)
        rc = x->fn(tc, x->arg);
    tenant_close(tc);
    return rc;
}

int admin_bank_txn(struct admin_req *ar, int64_t bank_id, const char *name, admin_bank_fn fn,
                   void *arg)
{
    struct txn x = {ar, bank_id, fn, arg};
    struct store *st = shards_route(ar->app->shards, bank_id, NULL);
    struct store_conn *c = st == ar->app->store ? ar->conn : NULL;
    int rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, name, txn_cb, &x);
    if (c && c != ar->conn)
        store_release(c);
    return rc == MOVING ? STORE_BUSY : rc;
}

struct ids {
    struct admin_req *ar;
    int64_t *ids;
    size_t n;
};

static int add_bank(const struct bank *b, void *arg)
{
    struct ids *x = arg;
    if (b->kind != ORG_BANK || !admin_sees_bank(x->ar, b->id) || x->n == ADMIN_BANKS_MAX)
        return 0;
    x->ids[x->n++] = b->id;
    return 0;
}

int admin_bank_ids(struct admin_req *ar, int64_t ids[ADMIN_BANKS_MAX], size_t *n)
{
    int64_t one = 0;
    *n = 0;
    int rc = admin_list_bank(ar, &one);
    if (rc != ID_OK)
        return rc;
    if (one) {
        ids[(*n)++] = one;
        return ID_OK;
    }
    struct ids x = {ar, ids, 0};
    rc = org_list_banks(ar->conn, add_bank, &x);
    *n = x.n;
    return rc;
}

bool admin_bank_one(struct admin_req *ar, int64_t *bank_id)
{
    int rc = admin_list_bank(ar, bank_id);
    if (rc != ID_OK) {
        admin_fail(ar, rc, "find bank");
        return false;
    }
    if (*bank_id == 0) {
        http_error(ar->resp, ZE_BAD_REQUEST, "bank: 须指定银行");
        return false;
    }
    return true;
}

void admin_bank_names(struct admin_req *ar, int64_t bank_id, char code[ORG_CODE_MAX + 1],
                      char name[ORG_NAME_MAX + 1])
{
    struct bank b;
    code[0] = name[0] = '\0';
    if (org_find_bank_id(ar->conn, bank_id, &b) == ID_OK) {
        snprintf(code, ORG_CODE_MAX + 1, "%s", b.code);
        snprintf(name, ORG_NAME_MAX + 1, "%s", b.name);
    }
}

void admin_bank_teller(struct admin_req *ar, int64_t teller_id, char code[TELLER_CODE_MAX + 1],
                       char name[TELLER_NAME_MAX + 1])
{
    struct teller t;
    code[0] = name[0] = '\0';
    if (teller_id > 0 && teller_find_id(ar->conn, teller_id, &t) == ID_OK) {
        snprintf(code, TELLER_CODE_MAX + 1, "%s", t.code);
        snprintf(name, TELLER_NAME_MAX + 1, "%s", t.name);
    }
}

void admin_bank_branch(struct admin_req *ar, int64_t branch_id, char code[ORG_CODE_MAX + 1],
                       char name[ORG_NAME_MAX + 1])
{
    struct branch b;
    code[0] = name[0] = '\0';
    if (branch_id > 0 && org_find_branch_id(ar->conn, branch_id, &b) == ID_OK) {
        snprintf(code, ORG_CODE_MAX + 1, "%s", b.code);
        snprintf(name, ORG_NAME_MAX + 1, "%s", b.name);
    }
}

bool admin_bank_row_visible(const struct admin_req *ar, int64_t branch_id)
{
    return ar->who.role != ROLE_BRANCH_MANAGER || branch_id == ar->who.branch_id;
}
