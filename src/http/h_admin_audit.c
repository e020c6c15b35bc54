/* GET /api/v1/admin/audit/verify  — walks the whole keyed chain and checks
 *                                   its signed checkpoints (province admin only)
 * GET /api/v1/admin/audit/records — the newest records of the scope
 *                                   [?bank=CODE][&before=SEQ][&limit=N]
 *
 * The chain is one for the whole platform, so only the province may verify
 * it (its report names records of every bank). Records are listed per
 * scope: a bank admin's bank, a branch manager's branch (records whose
 * target is one of its tellers or their devices). */
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

void h_admin_audit_verify(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct audit_report rep;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    /* audit_verify takes a connection of its own: give ours back first, a
     * pool of one would otherwise wait for itself. It checks the database's
     * checkpoints and those of the data directory's checkpoint file. */
    store_release(ar.conn);
    ar.conn = NULL;
    int rc = audit_verify(ar.app->store, NULL, &rep);
    if (rc == ID_OK || rc == ID_CORRUPT || rc == ID_BAD_INPUT)
        http_json(resp, 200,
                  json_pack("{s:b,s:I,s:I,s:s,s:s,s:b,s:I,s:I,s:I,s:o}", "intact", rc == ID_OK,
                            "records", (json_int_t)rep.records, "first_bad",
                            (json_int_t)rep.first_bad, "head", rep.head, "reason", rep.reason,
                            "legacy", rep.legacy, "checkpoints", (json_int_t)rep.checkpoints,
                            "file_checkpoints", (json_int_t)rep.file_checkpoints, "unshipped",
                            (json_int_t)rep.unshipped, "last_checkpoint", last_checkpoint(&rep)));
    else if (rc == STORE_BUSY)
        http_error(resp, ZE_UNAVAILABLE, NULL);
    else
        http_error(resp, ZE_INTERNAL, NULL);
out:
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

static int add_row(const struct audit_record *r, void *arg)
{
    json_t *detail = json_loads(r->detail, 0, NULL);
    json_array_append_new(arg, json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:o}", "seq", (json_int_t)r->seq,
                                         "ts", (json_int_t)r->ts, "bank_id", (json_int_t)r->bank_id,
                                         "actor", r->actor, "event", r->event, "target", r->target,
                                         "detail", detail ? detail : json_object()));
    return 0;
}

void h_admin_audit_records(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    int64_t bank_id = 0;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    int64_t before = num_arg(req, "before", 0, 1, INT64_MAX);
    int64_t limit = num_arg(req, "limit", LIST_DEFAULT, 1, AUDIT_LIST_MAX);
    json_t *list = json_array();
    int rc = before < 0 || limit < 0 ? ID_BAD_INPUT : admin_list_bank(&ar, &bank_id);
    if (rc == ID_OK)
        rc =
            audit_list(ar.conn, bank_id, admin_list_branch(&ar), before, (int)limit, add_row, list);
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:O}", "records", list));
    else
        admin_fail(&ar, rc, "list audit records");
    json_decref(list);
    admin_close(&ar);
}
