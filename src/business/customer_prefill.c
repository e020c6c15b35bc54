/* customer_prefill.c — CUSTOMER_PREFILL (see customer_prefill.h). */
#include "business/customer_prefill.h"
#include "business/biz.h"

#include "business/customer_db.h"
#include "business/customer_id.h"
#include "business/customer_profile.h"
#include "business/customer_seal.h"
#include "channel/zy1.h"
#include "data/tenant.h"
#include "egress/egress.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */
#define STEP "cis_person"
#define CIS_NOT_FOUND "1001" /* the CIS's business code for an unknown person */

#define MSG_MANUAL "客户信息系统暂不可用，请手工填写"
#define MSG_NOT_FOUND "客户信息系统中无此人信息，请手工填写"
#define MSG_EXISTS "该客户已在本行建档，请打开其客户档案"

/* The record's members the CIS may fill (customer_profile.h). */
static const char *const MEMBERS[] = {"name", "phone", "address", "occupation"};

/* The bank's date today as YYYYMMDD. */
static int32_t today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000 + BANK_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

/* data.id_no normalised into norm: CID_OK or what is wrong with it. */
static int id_of(const struct tx_ctx *c, char norm[CID_LEN + 1])
{
    return cid_resident(json_string_value(json_object_get(c->in, "id_no")), today(), norm);
}

/* ---- prepare: the CIS, before the transaction ------------------------------------ */

/* fetched = {"result": "found", "person": {...}} | {"result": "not_found"}
 *         | {"result": "unavailable"}; nothing for a bad id_no. */
static enum tx_result prepare_cis(struct tx_ctx *c)
{
    char norm[CID_LEN + 1];
    if (id_of(c, norm) != CID_OK)
        return TX_COMMIT; /* the handler answers bad_request */
    json_t *in = json_pack("{s:s}", "id_no", norm), *out = NULL;
    struct egress_error e = {0};
    enum egress_kind k = EGRESS_E_ROUTE;
    if (!in)
        return TX_ROLLBACK;
    if (c->env->egress)
        k = egress_call(c->env->egress, STEP, in, &out, &e);
    json_decref(in);
    if (k == EGRESS_OK) {
        c->fetched = json_pack("{s:s, s:o}", "result", "found", "person", out); /* takes out */
        out = NULL;
    } else if (k == EGRESS_E_BUSINESS && strcmp(e.code, CIS_NOT_FOUND) == 0) {
        c->fetched = json_pack("{s:s}", "result", "not_found");
    } else {
        /* Down, slow, breaker open, not configured, a reply we cannot read:
         * the manager fills the form by hand. e.message holds no customer data. */
        log_warn("customer.prefill", "CIS unavailable (%s): %s", egress_kind_name(k),
                 c->env->egress ? e.message : "no egress gateway");
        c->fetched = json_pack("{s:s}", "result", "unavailable");
    }
    if (out) {
        zy1_json_wipe(out);
        json_decref(out);
    }
    return c->fetched ? TX_COMMIT : TX_ROLLBACK;
}

/* ---- the handler, in the transaction --------------------------------------------- */

/* The CIS's person as the record's members: each value checked and
 * normalised by the record's own rules (cp_apply on a person with only that
 * member given); one that fails them is left out. NULL: out of memory. */
static json_t *fields_of(const json_t *person, const char *id_no)
{
    json_t *fields = json_object();
    for (size_t i = 0; fields && i < sizeof MEMBERS / sizeof MEMBERS[0]; i++) {
        json_t *v = json_object_get(person, MEMBERS[i]);
        if (!json_is_string(v) || json_string_length(v) == 0)
            continue;
        json_t *rec = json_pack("{s:s, s:s, s:s}", "kind", "person", "name", "-", "id_no", id_no);
        json_t *one = json_pack("{s:o}", MEMBERS[i], json_deep_copy(v)); /* fetched stays whole */
        struct cp_error err;
        int rc = rec && one ? cp_apply(rec, one, today(), &err) : CP_NOMEM;
        if (rc == CP_OK)
            json_object_set_new(fields, MEMBERS[i], /* a copy: rec's strings are wiped */
                                json_deep_copy(json_object_get(rec, MEMBERS[i])));
        else if (rc == CP_BAD)
            log_warn("customer.prefill", "the CIS's %s fails the record's rules: left out",
                     MEMBERS[i]);
        zy1_json_wipe(rec);
        zy1_json_wipe(one);
        json_decref(rec);
        json_decref(one);
        if (rc == CP_NOMEM) {
            json_decref(fields);
            fields = NULL;
        }
    }
    return fields;
}

/* The bank's customer with this ID number: its id, 0 for none, -1 on error. */
static int64_t existing(const struct tx_ctx *c, const char *id_no)
{
    char idx[CS_INDEX_HEX + 1];
    int64_t id = 0;
    if (cs_index(c->env->kek, tenant_scope(c->tenant)->bank_id, "person", id_no, idx) != CS_OK)
        return -1;
    int rc = cdb_find_index(c->tenant, idx, &id);
    return rc == CDB_OK ? id : rc == CDB_NONE ? 0 : -1;
}

static enum tx_result tx_prefill(struct tx_ctx *c)
{
    char norm[CID_LEN + 1];
    int crc = id_of(c, norm);
    if (crc != CID_OK) {
        tx_failf(c, ZE_BAD_REQUEST, "data.id_no: %s", cid_message(crc));
        return TX_COMMIT;
    }
    const char *result = json_string_value(json_object_get(c->fetched, "result"));
    if (!result)
        result = "unavailable"; /* not asked (the cseq raced its stored answer) */
    bool found = strcmp(result, "found") == 0, manual = strcmp(result, "unavailable") == 0;
    json_t *fields = found ? fields_of(json_object_get(c->fetched, "person"), norm) : json_object();
    int64_t id = existing(c, norm);
    if (!fields || id < 0) {
        json_decref(fields);
        return TX_ROLLBACK;
    }
    json_object_set_new(c->out, "found", json_boolean(found));
    json_object_set_new(c->out, "fields", fields);
    json_object_set_new(c->out, "manual", json_boolean(manual));
    if (id > 0)
        json_object_set_new(c->out, "customer_id", json_integer(id));
    const char *msg = id > 0 ? MSG_EXISTS : manual ? MSG_MANUAL : found ? NULL : MSG_NOT_FOUND;
    if (msg)
        json_object_set_new(c->out, "message", json_string(msg));
    char actor[AUDIT_ACTOR_MAX + 1], target[32] = "";
    biz_actor(c, actor);
    if (id > 0)
        biz_target(target, sizeof target, "customer", id);
    return audit_tenantf(c->tenant, actor, "customer.prefilled", target, "{s:s}", "result",
                         result) == ID_OK
               ? TX_COMMIT
               : TX_ROLLBACK;
}

static const struct tx_field F_PREFILL[] = {
    {.name = "id_no", .type = TXF_STRING, .required = true, .max = 32},
};

/* Not read_only: audited in its transaction. */
const struct tx_def TX_CUSTOMER_PREFILL = {.code = "CUSTOMER_PREFILL",
                                           .fn = tx_prefill,
                                           .prepare = prepare_cis,
                                           .needs_session = true,
                                           .bank_data = true,
                                           .fields = F_PREFILL,
                                           .nfields = sizeof F_PREFILL / sizeof F_PREFILL[0]};
