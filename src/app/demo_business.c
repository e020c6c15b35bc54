/* The demo banks' business data, written by the transaction handlers
 * themselves (app/demo_business.h). */
#include "app/demo_business.h"

#include "business/customer.h"
#include "business/customer_id.h"
#include "business/recommend.h"
#include "business/visit.h"
#include "business/biz.h"
#include "business/perf.h"
#include "business/voucher_pdf.h"
#include "business/voucher_sign.h"
#include "business/wf.h"
#include "business/wf_db.h"
#include "business/wf_voucher.h"
#include "foundation/log.h"
#include "foundation/mask.h"
#include "identity/audit.h"
#include "channel/tx.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const SURNAMES[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                                       "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗"};
static const char *const GIVEN[] = {"秀英", "建国", "志强", "玉梅", "春燕", "海涛", "丽娟",
                                    "国华", "桂兰", "明",   "伟",   "芳",   "军",   "洋",
                                    "勇",   "艳",   "杰",   "娜",   "涛",   "超",   "淑珍"};
static const char *const TOWNS[] = {"城关镇", "河东乡", "柳林镇", "石桥镇", "南湖乡", "北岭镇"};
static const char *const VILLAGES[] = {"幸福村", "前进村", "红旗村", "新民村", "和平村", "光明村"};
static const char *const OCCUPATIONS[] = {"farmer",  "migrant_worker", "self_employed", "employee",
                                          "teacher", "retired",        "farmer",        "other"};
static const char *const INCOME[] = {"below_30k", "30k_100k", "30k_100k", "100k_300k", "300k_1m"};
static const char *const HELD[] = {"deposit", "debit_card", "mobile_banking", "loan", "insurance"};
static const char *const REGIONS[] = {"330102", "330106", "520102", "110105"};
static const char *const OUTCOMES[] = {"met", "interested", "not_home", "done", "refused"};
static const char *const BUSINESSES[] = {"农家乐", "种植专业合作社", "农资经营部", "养殖场",
                                         "五金店"};
static const char *const INDUSTRIES[] = {"A01", "A03", "F52", "H62", "C13"};

/* The demo's generator: deterministic, so every init makes the same data. */
static unsigned next(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

#define PICK(a, s) ((a)[next(s) % (sizeof(a) / sizeof((a)[0]))])

static int32_t today_of(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* A valid resident ID number: region, birth date, sequence, and the one
 * check character the validator accepts. */
static int make_id_no(unsigned *s, int32_t today, char out[CID_LEN + 1])
{
    static const char CHECK[] = "0123456789X";
    char id[CID_LEN + 1];
    snprintf(id, sizeof id, "%s%04u%02u%02u%03u0", PICK(REGIONS, s), 1950 + next(s) % 50,
             1 + next(s) % 12, 1 + next(s) % 28, next(s) % 1000);
    for (size_t i = 0; i < sizeof CHECK - 1; i++) {
        id[17] = CHECK[i];
        if (cid_resident(id, today, out) == CID_OK)
            return 0;
    }
    return -1;
}

/* A valid unified social credit code: the check character found the same way. */
static int make_uscc(unsigned *s, char out[CID_LEN + 1])
{
    static const char CHECK[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    char c[CID_LEN + 1];
    snprintf(c, sizeof c, "9233%02u%02u%04u%05u0", 1 + next(s) % 90, next(s) % 100, next(s) % 10000,
             next(s) % 100000);
    for (size_t i = 0; i < sizeof CHECK - 1; i++) {
        c[17] = CHECK[i];
        if (cid_uscc(c, out) == CID_OK)
            return 0;
    }
    return -1;
}

static json_t *person(unsigned *s, int32_t today, int n)
{
    char id[CID_LEN + 1], name[32], phone[16], addr[128];
    if (make_id_no(s, today, id) != 0)
        return NULL;
    snprintf(name, sizeof name, "%s%s", PICK(SURNAMES, s), PICK(GIVEN, s));
    snprintf(phone, sizeof phone, "1%u%09u", 3 + next(s) % 7, next(s) * 30011u % 1000000000u);
    snprintf(addr, sizeof addr, "青山县%s%s%u组%u号", PICK(TOWNS, s), PICK(VILLAGES, s),
             1 + next(s) % 9, 1 + next(s) % 60);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "person", "name", name,
                            "id_no", id, "phone", phone, "address", addr, "occupation",
                            PICK(OCCUPATIONS, s), "income_band", PICK(INCOME, s));
    if (!rec)
        return NULL;
    if (n % 2 == 0) {
        char spouse[32];
        snprintf(spouse, sizeof spouse, "%s%s", PICK(SURNAMES, s), PICK(GIVEN, s));
        json_object_set_new(rec, "household",
                            json_pack("[{s:s, s:s}]", "name", spouse, "relation", "spouse"));
    }
    json_object_set_new(rec, "assets",
                        json_pack("[{s:s, s:I}]", "type", n % 3 ? "land" : "deposit", "value",
                                  (json_int_t)(10000 + next(s) % 90 * 1000)));
    if (n % 3 == 0)
        json_object_set_new(rec, "products", json_pack("[s]", PICK(HELD, s)));
    return rec;
}

static json_t *business(unsigned *s, int n)
{
    char uscc[CID_LEN + 1], name[96], boss[32];
    if (make_uscc(s, uscc) != 0)
        return NULL;
    snprintf(name, sizeof name, "青山县%s%s", PICK(VILLAGES, s), BUSINESSES[n % 5]);
    snprintf(boss, sizeof boss, "%s%s", PICK(SURNAMES, s), PICK(GIVEN, s));
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:I}", "kind", "business", "name", name, "uscc",
                     uscc, "legal_person", "name", boss, "industry", INDUSTRIES[n % 5], "turnover",
                     (json_int_t)(200000 + next(s) % 500 * 10000));
}

/* ---- running a handler as a tablet's request would ----------------------------- */

struct call {
    const struct tx_def *def;
    const struct tx_env *env;
    const struct teller *t;
    json_t *in;
    int64_t customer_id; /* out: CUSTOMER_CREATE's */
    char code[32];       /* out: the answer's code */
};

static int call_txn(struct store_conn *c, void *arg)
{
    struct call *k = arg;
    struct scope sc = {k->t->bank_id, k->t->branch_id, k->t->id, k->t->role};
    struct tenant_conn *tc = NULL;
    int rc = tenant_open(c, &sc, &tc);
    if (rc != STORE_OK)
        return rc;
    struct tx_ctx x = {
        .env = k->env,
        .conn = c,
        .tenant = tc,
        .tx = k->def->code,
        .dev = "demo",
        .bank_id = k->t->bank_id,
        .teller_id = k->t->id,
        .branch_id = k->t->branch_id,
        .role = k->t->role,
        .in = k->in,
        .code = "OK",
        .out = json_object(),
    };
    rc = x.out && k->def->fn(&x) == TX_COMMIT ? STORE_OK : STORE_ERR;
    snprintf(k->code, sizeof k->code, "%s", x.code);
    k->customer_id = json_integer_value(json_object_get(x.out, "customer_id"));
    json_decref(x.out);
    tenant_close(tc);
    return rc;
}

/* Runs def with in (taken) for teller t on its bank's shard. */
static int run(struct app *a, const struct tx_env *env, const struct teller *t,
               const struct tx_def *def, json_t *in, struct call *k)
{
    *k = (struct call){.def = def, .env = env, .t = t, .in = in};
    struct store_conn *c = NULL;
    int rc = in ? store_acquire(shards_route(a->shards, t->bank_id, NULL), &c) : STORE_NOMEM;
    if (rc == STORE_OK)
        rc = store_run(c, "demo.seed", call_txn, k);
    if (c)
        store_release(c);
    json_decref(in);
    return rc == STORE_OK && strcmp(k->code, "OK") == 0 ? 0 : -1;
}

/* One client manager's customers, visits and feedback. */
static int seed_teller(struct app *a, const struct tx_env *env, const struct teller *t, unsigned *s,
                       int32_t today, char *err, size_t errcap)
{
    for (int n = 0; n < DEMO_CUSTOMERS_PER_TELLER; n++) {
        struct call k;
        json_t *rec = n % 6 == 5 ? business(s, n) : person(s, today, n);
        if (run(a, env, t, &TX_CUSTOMER_CREATE, rec, &k) != 0) {
            if (strcmp(k.code, ze_code(ZE_CUSTOMER_EXISTS)) == 0)
                continue; /* the generator drew a number twice */
            snprintf(err, errcap, "demo customer of %s: %s", t->code, k.code);
            return -1;
        }
        int64_t id = k.customer_id;
        if (n % 2 == 0) {
            json_t *in = json_pack("{s:I, s:f, s:f, s:s, s:s}", "customer_id", (json_int_t)id,
                                   "lat", 30.25 + (double)(next(s) % 100) / 1000.0, "lon",
                                   120.15 + (double)(next(s) % 100) / 1000.0, "outcome",
                                   OUTCOMES[n / 2 % 5], "notes", "走访了解家庭经营和资金需求");
            if (n % 4 == 0 && in)
                json_object_set_new(
                    in, "open_lead",
                    json_pack("{s:s, s:s}", "product", "loan", "note", "春耕备货有资金需求"));
            if (run(a, env, t, &TX_VISIT_CHECKIN, in, &k) != 0) {
                snprintf(err, errcap, "demo visit of %s: %s", t->code, k.code);
                return -1;
            }
        }
        if (n % 3 == 1) { /* shown the ranking, then answered */
            json_t *list = json_pack("{s:I}", "customer_id", (json_int_t)id);
            if (run(a, env, t, &TX_RECOMMEND_LIST, list, &k) != 0) {
                snprintf(err, errcap, "demo recommendations of %s: %s", t->code, k.code);
                return -1;
            }
            json_t *in = json_pack("{s:I, s:s, s:s}", "customer_id", (json_int_t)id, "product",
                                   n % 2 ? "mobile_banking" : "debit_card", "verdict",
                                   n % 5 == 1 ? "declined" : "accepted");
            if (run(a, env, t, &TX_RECOMMEND_FEEDBACK, in, &k) != 0) {
                snprintf(err, errcap, "demo feedback of %s: %s", t->code, k.code);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- completed businesses with their vouchers -------------------------------------------- */

/* The customer's signature as a signature pad gives it: a small PNG (64 x 20, a stroke). */
static const char SIGNATURE_PNG_B64[] =
    "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAUCAAAAAAYHWTjAAAAcUlEQVR42r2UWw6AMAgE5zh7/wv6iKkW7QPQuJ+wswktLc"
    "tL8V+ANuUDdCoVIKNwgKEeEcRHtwUSR2dqTPlJGSX4uoEUx+sx6LtG/NXGM+cogY51ipcxaN6VPPzho0HIy+9WmuuuzHNO"
    "4bdNDNNf/Egr4JR4OTB4/8EAAAAASUVORK5CYII=";

/* One demo step: its name and the out it answered (JSON text; "%s" in it
 * is replaced by a number unique to the business). */
struct demo_step {
    const char *name;
    const char *out;
};

/* The results of each kind's own steps (the steps are the kind's table,
 * business/wf.h; the shared ones, wf_common.h, get the outs below). */
#define DEMO_OWN_MAX 4
struct demo_kind {
    const char *kind;
    struct demo_step own[DEMO_OWN_MAX];
};

static const struct demo_kind DEMO_KINDS[] = {
    {.kind = "debit_card",
     .own = {{.name = "account", .out = "{\"account_no\":\"62284800%s1\"}"},
             {.name = "card", .out = "{\"card_no\":\"6228480%s00017\"}"},
             {.name = "pin", .out = "{\"pin_set\":true}"}}},
    {.kind = "ebank",
     .own = {{.name = "products",
              .out = "{\"products\":[\"手机银行\",\"网上银行\",\"短信通知\"],"
                     "\"per_tx_limit\":\"5000.00\",\"daily_limit\":\"20000.00\"}"},
             {.name = "sign", .out = "{\"ebank_id\":\"EB%s\",\"status\":\"已签约\"}"}}},
    {.kind = "loan",
     .own = {{.name = "application",
              .out = "{\"amount\":5000000,\"term_months\":12,\"purpose\":\"春耕备货\","
                     "\"attachments\":2}"},
             {.name = "prescreen", .out = "{\"decision\":\"pass\",\"limit\":8000000}"},
             {.name = "submit", .out = "{\"application_no\":\"LA%s\",\"status\":\"受理\"}"}}},
    {.kind = "credit_card",
     .own = {{.name = "apply",
              .out = "{\"application_no\":\"CA%s\",\"product\":\"丰收信用卡(金卡)\"}"},
             {.name = "form", .out = "{\"form_bytes\":20480}"},
             {.name = "sign", .out = "{\"status\":\"已面签\"}"}}},
    {.kind = "social_card",
     .own = {{.name = "apply", .out = "{\"application_no\":\"SA%s\",\"status\":\"已申领\"}"},
             {.name = "activate",
              .out = "{\"card_no\":\"621700******%s\",\"status\":\"已激活\"}"}}},
    {.kind = "agency",
     .own = {{.name = "agency",
              .out = "{\"agency_code\":\"水费代扣\",\"payer_no\":\"SF%s\","
                     "\"contract_no\":\"AG%s\"}"}}},
};

struct demo_biz {
    const struct tx_env *env;
    const struct teller *t;
    const struct demo_kind *dk;
    int64_t customer_id;
    const char *name, *id_no;
    unsigned uniq;
    int64_t now;
    char voucher_id[VOUCHER_ID_MAX + 1];
};

/* out of one demo step, its "%s" replaced by the business's number. */
static json_t *demo_out(const char *text, unsigned uniq)
{
    char buf[512], num[16];
    size_t n = 0;
    snprintf(num, sizeof num, "%08u", uniq);
    for (const char *p = text; *p && n + sizeof num < sizeof buf; p++) {
        if (p[0] == '%' && p[1] == 's') {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", num);
            p++;
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
    return json_loads(buf, 0, NULL);
}

static void biz_target_demo(char *out, size_t cap, int64_t id)
{
    snprintf(out, cap, "biz:%" PRId64, id);
}

/* {"name", "out", "keep"?} of one step of d's business, NULL if the demo has none for it. */
static json_t *demo_step_of(const struct demo_biz *d, const char *name, const char *mname,
                            const char *masked)
{
    if (strcmp(name, "idcard") == 0)
        return json_pack("{s:s,s:{s:s,s:s},s:{s:s,s:s}}", "name", name, "out", "name", mname,
                         "id_no", masked, "keep", "name", d->name, "id_no", d->id_no);
    if (strcmp(name, "idcheck") == 0)
        return json_pack("{s:s,s:{s:s,s:b}}", "name", name, "out", "result", "match",
                         "photo_returned", 1);
    if (strcmp(name, "face") == 0)
        return json_pack("{s:s,s:{s:f,s:i,s:b}}", "name", name, "out", "score", 92.5, "threshold",
                         80, "liveness", 1);
    if (strcmp(name, "customer") == 0)
        return json_pack("{s:s,s:{s:I,s:b}}", "name", name, "out", "customer_id",
                         (json_int_t)d->customer_id, "created", 1);
    if (strcmp(name, "signature") == 0)
        return json_pack("{s:s,s:{s:i,s:i},s:{s:s}}", "name", name, "out", "strokes", 3,
                         "image_bytes", 170, "keep", "image", SIGNATURE_PNG_B64);
    const char *text = strcmp(name, "account") == 0 ? "{\"account_no\":\"62284800%s1\"}" : NULL;
    for (size_t i = 0; !text && i < DEMO_OWN_MAX && d->dk->own[i].name; i++)
        if (strcmp(d->dk->own[i].name, name) == 0)
            text = d->dk->own[i].out;
    json_t *o = text ? demo_out(text, d->uniq) : NULL;
    return o ? json_pack("{s:s,s:o}", "name", name, "out", o) : NULL;
}

/* Writes one completed business through the engine's storage (wf_db.h)
 * and issues its voucher with the engine's own voucher step. */
static int demo_biz_txn(struct store_conn *c, void *arg)
{
    struct demo_biz *d = arg;
    struct scope sc = {d->t->bank_id, d->t->branch_id, d->t->id, d->t->role};
    struct tenant_conn *tc = NULL;
    int rc = tenant_open(c, &sc, &tc);
    if (rc != STORE_OK)
        return rc;
    struct wdb_biz b = {.customer_id = d->customer_id,
                        .branch_id = d->t->branch_id,
                        .teller_id = d->t->id,
                        .created_at = d->now,
                        .updated_at = d->now};
    snprintf(b.kind, sizeof b.kind, "%s", d->dk->kind);
    snprintf(b.status, sizeof b.status, "open");
    json_t *state = json_object(), *outs = json_object(), *steps = json_array();
    char masked[32], mname[64], target[40];
    if ((rc = wdb_insert(tc, &b)) != WDB_OK || !state || !outs || !steps ||
        mask_id_no(d->id_no, masked, sizeof masked) < 0 ||
        mask_name(d->name, mname, sizeof mname) < 0) {
        rc = rc == WDB_OK ? STORE_ERR : rc;
        goto out;
    }
    /* every step of the kind's table but the voucher, as the engine would have done it */
    const struct wf_kind *k = wf_kind_find(d->dk->kind);
    for (size_t i = 0; k && i + 1 < k->nsteps && rc == WDB_OK; i++) {
        json_t *one = demo_step_of(d, k->steps[i].name, mname, masked);
        if (!one) {
            log_error("demo.step", "no demo result for step %s of %s", k->steps[i].name,
                      d->dk->kind);
            rc = STORE_ERR;
        } else {
            json_array_append_new(steps, one);
        }
    }
    if (!k || rc != WDB_OK) {
        rc = STORE_ERR;
        goto out;
    }
    size_t i;
    json_t *one;
    json_array_foreach(steps, i, one)
    {
        const char *name = json_string_value(json_object_get(one, "name"));
        json_t *o = json_object_get(one, "out"), *kp = json_object_get(one, "keep");
        struct wdb_step st = {.out = o, .keep = kp ? kp : json_object(), .updated_at = d->now};
        snprintf(st.state, sizeof st.state, "done");
        rc = st.keep ? wdb_step_put(tc, d->env->kek, &b, (int)i, name, &st) : STORE_NOMEM;
        if (!kp)
            json_decref(st.keep);
        if (rc != WDB_OK)
            goto out;
        json_object_set(outs, name, o);
        if (kp)
            json_object_set(state, name, kp);
    }
    /* the voucher step, as the engine runs it */
    struct tx_ctx x = {.env = d->env,
                       .conn = c,
                       .tenant = tc,
                       .tx = "BIZ_STEP",
                       .dev = "demo",
                       .bank_id = d->t->bank_id,
                       .teller_id = d->t->id,
                       .branch_id = d->t->branch_id,
                       .role = d->t->role,
                       .code = "OK"};
    struct wf_call w = {.env = d->env,
                        .tx = &x,
                        .input = NULL,
                        .state = state,
                        .outs = outs,
                        .kind = d->dk->kind,
                        .biz_id = b.id,
                        .customer_id = d->customer_id};
    /* its two phases in a row: demo data is seeded once, no request waits on this shard */
    json_t *vout = json_object(), *vkeep = json_object(), *made = NULL;
    int wrc = vout && vkeep ? wf_voucher_prepare(&w, &made) : WF_ERR;
    if (wrc == WF_OK)
        wrc = wf_voucher_apply(&w, made, vout, vkeep);
    biz_drop(made);
    struct wdb_step vs = {.out = vout, .keep = vkeep, .updated_at = d->now};
    snprintf(vs.state, sizeof vs.state, "done");
    rc = wrc == WF_OK
             ? wdb_step_put(tc, d->env->kek, &b, (int)json_array_size(steps), WF_VOUCHER_STEP, &vs)
             : STORE_ERR;
    snprintf(d->voucher_id, sizeof d->voucher_id, "%s",
             wrc == WF_OK ? json_string_value(json_object_get(vout, "voucher_id")) : "");
    json_decref(vout);
    json_decref(vkeep);
    if (rc != WDB_OK)
        goto out;
    b.next_step = (int)json_array_size(steps) + 1;
    snprintf(b.status, sizeof b.status, "completed");
    biz_target_demo(target, sizeof target, b.id);
    rc = wdb_update(tc, &b);
    if (rc == WDB_OK)
        rc = audit_tenantf(tc, "dev:demo", "biz.completed", target, "{s:s,s:s}", "kind", b.kind,
                           "status", b.status) == ID_OK
                 ? STORE_OK
                 : STORE_ERR;
    if (rc == STORE_OK) /* counted as the engine counts a completed business (perf.h) */
        rc = perf_business(tc, b.kind, k->amount ? k->amount(state) : 0, d->now);
out:
    json_decref(state);
    json_decref(outs);
    json_decref(steps);
    tenant_close(tc);
    return rc;
}

/* One completed business of each kind for teller t, each for a new
 * customer (created by CUSTOMER_CREATE), with its voucher issued and its
 * delivery pending. */
static int seed_vouchers(struct app *a, const struct tx_env *env, const struct teller *t,
                         unsigned *s, int32_t today, char *err, size_t errcap)
{
    for (size_t i = 0; i < sizeof DEMO_KINDS / sizeof DEMO_KINDS[0]; i++) {
        struct call k;
        json_t *rec = person(s, today, (int)i);
        char name[32] = "", id_no[CID_LEN + 1] = "";
        if (rec) {
            snprintf(name, sizeof name, "%s", json_string_value(json_object_get(rec, "name")));
            snprintf(id_no, sizeof id_no, "%s", json_string_value(json_object_get(rec, "id_no")));
        }
        if (run(a, env, t, &TX_CUSTOMER_CREATE, rec, &k) != 0) {
            if (strcmp(k.code, ze_code(ZE_CUSTOMER_EXISTS)) == 0)
                continue;
            snprintf(err, errcap, "demo business customer of %s: %s", t->code, k.code);
            return -1;
        }
        struct demo_biz d = {.env = env,
                             .t = t,
                             .dk = &DEMO_KINDS[i],
                             .customer_id = k.customer_id,
                             .name = name,
                             .id_no = id_no,
                             .uniq = (unsigned)(t->id * 100 + (int64_t)i),
                             .now = clock_wall_ms()};
        struct store_conn *c = NULL;
        int rc = store_acquire(shards_route(a->shards, t->bank_id, NULL), &c);
        if (rc == STORE_OK)
            rc = store_run(c, "demo.business", demo_biz_txn, &d);
        if (c)
            store_release(c);
        if (rc != STORE_OK) {
            snprintf(err, errcap, "demo business %s of %s: %s", DEMO_KINDS[i].kind, t->code,
                     store_errmsg(NULL));
            return -1;
        }
    }
    return 0;
}

int demo_business_seed(struct app *a, const struct kek *k, char *err, size_t errcap)
{
    static const char *const MANAGERS[] = {"demo01", "demo02", "demo03", "demo04"};
    struct tx_env env = {.kek = k};
    int32_t today = today_of();
    unsigned seed = 20261130u;
    struct store_conn *c = NULL;
    if (store_acquire(a->store, &c) != STORE_OK) {
        snprintf(err, errcap, "the directory: %s", store_errmsg(NULL));
        return -1;
    }
    struct teller t[4];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 4; i++)
        if (teller_find(c, MANAGERS[i], &t[i]) != ID_OK) {
            snprintf(err, errcap, "no demo teller %s", MANAGERS[i]);
            rc = -1;
        }
    store_release(c);
    for (size_t i = 0; rc == 0 && i < 4; i++)
        rc = seed_teller(a, &env, &t[i], &seed, today, err, errcap);
    /* completed businesses of every kind with their vouchers: demo01 (B01), demo03 (B02) */
    sm2_key *vkey = NULL;
    if (rc == 0 && vsign_key_load(a->cfg.channel.key_dir, &vkey) != VS_OK) {
        snprintf(err, errcap, "the voucher signing key in %s", a->cfg.channel.key_dir);
        rc = -1;
    }
    env.voucher_key = vkey;
    unsigned vseed = 20261201u;
    for (size_t i = 0; rc == 0 && i < 4; i += 2)
        rc = seed_vouchers(a, &env, &t[i], &vseed, today, err, errcap);
    sm2_key_free(vkey);
    vpdf_cleanup(); /* the renderer's fonts: this thread was the only one to render */
    return rc;
}
