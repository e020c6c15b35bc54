/* The demo banks' business data, written by the transaction handlers
 * themselves (app/demo_business.h). */
#include "app/demo_business.h"

#include "business/customer.h"
#include "business/customer_id.h"
#include "business/recommend.h"
#include "business/visit.h"
#include "channel/tx.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "identity/org.h"
#include "identity/teller.h"

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
    return rc;
}
