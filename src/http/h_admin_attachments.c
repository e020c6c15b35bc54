/* GET /api/v1/admin/attachments/get?id=&bank= — an attachment's content for
 * the back office (docs/api.md §2.3): 200 with the content's own mime type
 * (image/jpeg, image/png, application/pdf; the type the server found in its
 * bytes at upload, never the client's word), audited attach.viewed in the
 * bank's shard (target attachment:<id>, {"found", "channel":"console"}).
 *
 * The bank: ?bank= or one's own (a province admin must name it: 400). A
 * branch manager gets the attachments uploaded in their branch (the row's
 * branch_id). Anything else, an upload under way and a missing id: 404
 * not_found. */
#include "app/app.h"
#include "business/attach_read.h"
#include "foundation/secmem.h"
#include "http/admin_bank.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct view {
    struct admin_req *ar;
    int64_t id;
    bool found;
    uint8_t *bytes;
    size_t n;
    char mime[32];
};

static void drop(struct view *v)
{
    if (v->bytes) {
        secmem_wipe(v->bytes, v->n);
        free(v->bytes);
    }
    v->bytes = NULL;
    v->n = 0;
}

static int view_txn(struct tenant_conn *tc, void *arg)
{
    struct view *v = arg;
    struct adb_row r;
    char target[40];
    drop(v);
    memset(&r, 0, sizeof r);
    int rc = attach_read(tc, &v->ar->app->kek, v->id, &r, &v->bytes);
    v->found = rc == ADB_OK && admin_bank_row_visible(v->ar, r.branch_id);
    if (rc == ADB_OK) {
        v->n = (size_t)r.size;
        snprintf(v->mime, sizeof v->mime, "%s", r.mime);
        adb_row_free(&r);
        if (!v->found)
            drop(v);
    } else if (rc != ADB_NONE) {
        return rc;
    }
    snprintf(target, sizeof target, "attachment:%lld", (long long)v->id);
    rc = audit_tenantf(tc, v->ar->actor, "attach.viewed", v->found ? target : "attachment:-",
                       "{s:b, s:s}", "found", v->found, "channel", "console");
    return rc == ID_OK ? STORE_OK : rc;
}

void h_admin_attachment_get(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *id = admin_query(req, "id");
    struct view v = {.ar = &ar, .id = id ? atoll(id) : 0};
    int64_t bank = 0;
    if (!admin_bank_one(&ar, &bank))
        goto out;
    int rc = v.id > 0 ? admin_bank_txn(&ar, bank, "admin.attach_view", view_txn, &v) : STORE_OK;
    if (rc == STORE_OK && v.found && v.bytes) {
        /* the mime type is one of attach_check's three, a static string for the answer */
        const char *type = strcmp(v.mime, "image/png") == 0    ? "image/png"
                           : strcmp(v.mime, "image/jpeg") == 0 ? "image/jpeg"
                                                               : "application/pdf";
        http_text(resp, 200, type, (char *)v.bytes, v.n);
        v.bytes = NULL; /* the response's now */
    } else if (rc == STORE_OK) {
        http_error(resp, ZE_NOT_FOUND, NULL);
    } else {
        admin_fail(&ar, rc, "view an attachment");
    }
out:
    drop(&v);
    admin_close(&ar);
}
