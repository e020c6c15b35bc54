/* GET /api/v1/admin/audit/verify  — walks every database's keyed chain (the
 *                                   directory's and each bank shard's) and
 *                                   checks its signed checkpoints (province
 *                                   admin only)
 * GET /api/v1/admin/audit/records — the newest records of the scope from
 *                                   every chain, merged newest first
 *                                   [?bank=CODE][&before=CURSOR][&limit=N]
 *
 * The chains hold records of every bank, so only the province may verify
 * them. Records are listed per scope: a bank admin's bank, a branch
 * manager's branch (records whose target is one of its tellers or their
 * devices, and the business records made in the branch); a bank's
 * business records are in the shards it lived in, so every database is
 * read, filtered by the scope. Paging across chains:
 * "next" is the cursor of the following page (identity/audit.h). */
#include "app/app.h"
#include "data/tenant.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <errno.h>
#include <stdlib.h>

#define LIST_DEFAULT 100

/* The newest verified checkpoint, or null. */
static json_t *last_checkpoint(const struct audit_report *rep)
{
    if (!rep->last.seq)
        return json_null();
    return json_pack("{s:I,s:s,s:I}", "seq", (json_int_t)rep->last.seq, "hash", rep->last.hash,
                     "ts", (json_int_t)rep->last.ts);
}

/* One chain's report; the directory's members are the answer's own. */
static json_t *report_json(int rc, const struct audit_report *rep)
{
    return json_pack("{s:b,s:I,s:I,s:s,s:s,s:b,s:I,s:I,s:I,s:o}", "intact", rc == ID_OK, "records",
                     (json_int_t)rep->records, "first_bad", (json_int_t)rep->first_bad, "head",
                     rep->head, "reason", rep->reason, "legacy", rep->legacy, "checkpoints",
                     (json_int_t)rep->checkpoints, "file_checkpoints",
                     (json_int_t)rep->file_checkpoints, "unshipped", (json_int_t)rep->unshipped,
                     "last_checkpoint", last_checkpoint(rep));
}

/* Verifies every chain: the answer is main's report with "intact" for all
 * of them, "shards" (each shard's report with its "name") and "broken"
 * (the names of the chains not intact). A status other than a report
 * (STORE_BUSY, ...) is returned as such. */
static int verify_all(const struct audit_chains *cs, json_t **out)
{
    json_t *ans = NULL, *shards = json_array(), *broken = json_array();
    struct audit_report rep;
    bool all = true;
    int rc = ID_OK;
    for (size_t i = 0; i < cs->n; i++) {
        int vrc = audit_verify_chain(&cs->v[i], NULL, &rep);
        if (vrc != ID_OK && vrc != ID_CORRUPT && vrc != ID_BAD_INPUT) {
            rc = vrc;
            break;
        }
        json_t *one = report_json(vrc, &rep);
        if (vrc != ID_OK) {
            all = false;
            json_array_append_new(broken, json_string(cs->v[i].name));
        }
        if (i == 0) {
            ans = one;
        } else {
            json_object_set_new(one, "name", json_string(cs->v[i].name));
            json_array_append_new(shards, one);
        }
    }
    if (rc == ID_OK && ans) {
        json_object_set_new(ans, "intact", json_boolean(all));
        json_object_set(ans, "shards", shards);
        json_object_set(ans, "broken", broken);
        *out = ans;
    } else {
        json_decref(ans);
    }
    json_decref(shards);
    json_decref(broken);
    return rc;
}

void h_admin_audit_verify(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct audit_chains cs = {0};
    json_t *ans = NULL;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    /* audit_verify takes a connection of its own: give ours back first, a
     * pool of one would otherwise wait for itself. It checks the database's
     * checkpoints and those of the chain's checkpoint file. */
    store_release(ar.conn);
    ar.conn = NULL;
    int rc = audit_chains_collect(ar.app->shards, ar.app->cfg.data_dir, &cs);
    if (rc == ID_OK)
        rc = verify_all(&cs, &ans);
    if (rc == ID_OK)
        http_json(resp, 200, ans);
    else if (rc == STORE_BUSY)
        http_error(resp, ZE_UNAVAILABLE, NULL);
    else
        http_error(resp, ZE_INTERNAL, NULL);
out:
    audit_chains_free(&cs);
    admin_close(&ar);
}

/* A decimal argument in lo..hi, def when absent; -1 when malformed. */
static int64_t num_arg(const struct http_request *req, const char *name, int64_t def, int64_t lo,
                       int64_t hi)
{
    const char *s = admin_query(req, name);
    if (!s)
        return def;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return v;
}

static int add_row(const char *chain, const struct audit_record *r, void *arg)
{
    json_t *detail = json_loads(r->detail, 0, NULL);
    json_array_append_new(arg, json_pack("{s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:o}", "chain", chain, "seq",
                                         (json_int_t)r->seq, "ts", (json_int_t)r->ts, "bank_id",
                                         (json_int_t)r->bank_id, "actor", r->actor, "event",
                                         r->event, "target", r->target, "detail",
                                         detail ? detail : json_object()));
    return 0;
}

void h_admin_audit_records(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct audit_chains cs = {0};
    int64_t bank_id = 0;
    char *next = malloc(AUDIT_CURSOR_MAX);
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar)) {
        free(next);
        return;
    }
    int64_t limit = num_arg(req, "limit", LIST_DEFAULT, 1, AUDIT_LIST_MAX);
    json_t *list = json_array();
    int rc = limit < 0 ? ID_BAD_INPUT : next ? admin_list_bank(&ar, &bank_id) : STORE_NOMEM;
    if (rc == ID_OK)
        rc = audit_chains_collect(ar.app->shards, ar.app->cfg.data_dir, &cs);
    if (rc == ID_OK) /* the directory's chain on our connection, the shards' on their own */
        rc = audit_list_chains(&cs, ar.conn, bank_id, admin_list_branch(&ar),
                               admin_query(req, "before"), (int)limit, add_row, list, next,
                               AUDIT_CURSOR_MAX);
    if (rc == ID_OK)
        http_json(resp, 200,
                  json_pack("{s:O,s:o}", "records", list, "next",
                            *next ? json_string(next) : json_null()));
    else
        admin_fail(&ar, rc, "list audit records");
    json_decref(list);
    audit_chains_free(&cs);
    free(next);
    admin_close(&ar);
}
