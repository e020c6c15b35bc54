/* The HTTP/JSON simulators: networked ID check, face compare, credit card,
 * social-security card and loans, the grid platform (sim_grid.c) and the
 * customer information system (sim_cis.c) (one per process, by mode). Replies are
 * {"code":"0000","message":...,...}; a code other than 0000 is a business
 * refusal, HTTP 503 with code 9999 the system's own failure, HTTP 400 a
 * request it cannot read. libmicrohttpd runs a thread per connection, so
 * injected latency and stalls hold only their own connection.
 *
 * Demo identities (the same as the core simulator's customers):
 *   110101199003077578 张三, 310104198807163222 欧阳娜娜, 440106197512254411 李四;
 *   ID check also: 11010519491231002X 王秀英, 440106197512254416 赵六 (valid check
 *   characters, not in core until a workflow creates them)
 * Face: an image whose bytes are "FACE:" + the ID number scores 90..99,
 * any other image 10..49 (deterministic). "liveness" is false when the
 * request says "live": false or the image's bytes start with "SPOOF:" (a
 * photo of a photo), true otherwise.
 *
 * Loan pre-screen (POST /loan/prescreen {idNo,name,amount,termMonths,
 * purpose,collateral}) -> {decision,limit,reasons}, first rule that applies:
 *   decline: purpose not one of consumption, car, education, housing,
 *            renovation, business, agriculture ("purpose"); amount over
 *            5 000 000 ("amount")                              limit "0.00"
 *   refer:   amount over 500 000 with no collateral ("" or "none":
 *            "collateral"); term over 120 months ("term")       limit "500000.00"
 *   pass:    otherwise                                        limit = amount
 * Card signing (/card/sign) needs an application from /card/apply (2004),
 * faceToFace true (2005) and a 64-hex signedFormSm3 (400); status "signed".
 * Status (/card/status, /loan/status, /social/card/status): a record's
 * status by its number, or {idNo} -> count, that person's records not
 * cancelled. Cancellations (/card/cancel, /loan/cancel {applicationNo}, the loanNo of
 * /loan/apply; /social/card/cancel {cardNo}) set "cancelled" (2004 when
 * unknown; cancelling twice answers the same). Instead of the number, a
 * cancellation may name the serial of the apply request it undoes
 * ({serial, origSerial}, the workflow engine's compensations): the record
 * that request created is cancelled; a request never received is answered
 * 2009 if it arrives later. /social/card/apply also answers bankCardNo
 * (the card's bank function, Luhn-valid). /social/card/activate
 * {idNo,cardNo,bankCardNo?} needs the card of that ID number from
 * /social/card/apply (2004), not cancelled (2006), and bankCardNo, when
 * given, the one it answered (2007); status "active".
 *
 * Every endpoint is idempotent by request serial: a request with a
 * "serial" member already answered (same path) gets the first answer again
 * without the work being done twice (the last SERIAL_MAX serials are kept).
 *
 * Malformed-reply faults ("malformed"): json (not JSON), shape (a JSON
 * array), field (code 0000 but the result fields missing), type (result
 * fields of the wrong JSON type). */
#include "sim.h"

#include "foundation/codec.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_APPS 4096
#define SERIAL_MAX 4096

struct app_rec {
    char no[24];
    char status[16];
    char id_no[20];
    char pan[20]; /* social-security cards: the number of the bank function */
};

/* One answered request, by path and serial. */
struct answered {
    char url[40];
    char serial[41];
    unsigned status;
    char *text;
};

struct hstate {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    struct app_rec apps[MAX_APPS];
    int napps;
    unsigned seq;
    pthread_mutex_t serial_mu; /* held from lookup to store: a serial is worked once */
    struct answered done[SERIAL_MAX];
    int ndone, next_done;
};

struct body {
    char *p;
    size_t len;
    bool too_big;
};

static const struct {
    const char *id_no, *name;
} DEMO[] = {
    {"110101199003077578", "张三"},
    {"310104198807163222", "欧阳娜娜"},
    {"440106197512254411", "李四"},
    /* with valid GB 11643 check characters (the workflow's idcard step checks them) */
    {"11010519491231002X", "王秀英"},
    {"440106197512254416", "赵六"},
    /* people the CIS simulator knows too (sims/sim_cis.c): a new customer
     * prefilled from the CIS can then open a debit card */
    {"330102199001011234", "陈志强"},
    {"520102197805050024", "杨玉梅"},
};

static json_t *ok_reply(void)
{
    return json_pack("{s:s,s:s}", "code", "0000", "message", "成功");
}

static json_t *code_reply(const char *code, const char *msg)
{
    return json_pack("{s:s,s:s}", "code", code, "message", msg);
}

static const char *str(json_t *in, const char *k)
{
    return json_string_value(json_object_get(in, k));
}

static uint32_t fnv(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

/* ---- the systems ---- */

static json_t *idcheck(json_t *in, unsigned *status)
{
    const char *id = str(in, "idNo"), *name = str(in, "name");
    if (!id || !name) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    const char *result = "not_found";
    for (size_t i = 0; i < sizeof DEMO / sizeof DEMO[0]; i++)
        if (strcmp(DEMO[i].id_no, id) == 0)
            result = strcmp(DEMO[i].name, name) == 0 ? "match" : "mismatch";
    json_t *r = ok_reply();
    json_object_set_new(r, "result", json_string(result));
    return r;
}

static json_t *face(json_t *in, unsigned *status)
{
    const char *id = str(in, "idNo"), *img = str(in, "image");
    if (!id || !img) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    size_t n = strlen(img);
    uint8_t *raw = malloc(b64_decoded_max(n) + 1);
    long got = raw ? b64_decode(img, n, raw, b64_decoded_max(n) + 1) : -1;
    json_t *r;
    if (got <= 0) {
        r = code_reply("4001", "图像无效");
    } else {
        char want[64];
        snprintf(want, sizeof want, "FACE:%s", id);
        bool same = (size_t)got == strlen(want) && memcmp(raw, want, (size_t)got) == 0;
        uint32_t h = fnv(raw, (size_t)got);
        double score = same ? 90 + (h % 1000) / 100.0 : 10 + (h % 4000) / 100.0;
        bool live = !json_is_false(json_object_get(in, "live")) &&
                    !((size_t)got >= 6 && memcmp(raw, "SPOOF:", 6) == 0);
        r = ok_reply();
        json_object_set_new(r, "score", json_real(score));
        json_object_set_new(r, "liveness", json_boolean(live));
    }
    free(raw);
    return r;
}

static json_t *new_app(struct hstate *h, const char *prefix, const char *status, const char *key,
                       const char *id_no)
{
    char no[24];
    pthread_mutex_lock(&h->mu);
    snprintf(no, sizeof no, "%s%014u", prefix, ++h->seq);
    if (h->napps < MAX_APPS) {
        snprintf(h->apps[h->napps].no, sizeof h->apps[0].no, "%s", no);
        snprintf(h->apps[h->napps].status, sizeof h->apps[0].status, "%s", status);
        snprintf(h->apps[h->napps].id_no, sizeof h->apps[0].id_no, "%s", id_no ? id_no : "");
        h->napps++;
    }
    pthread_mutex_unlock(&h->mu);
    json_t *r = ok_reply();
    json_object_set_new(r, key, json_string(no));
    return r;
}

static json_t *card(struct hstate *h, const char *url, json_t *in, unsigned *status)
{
    if (strcmp(url, "/card/status") == 0) {
        const char *no = str(in, "applicationNo");
        json_t *r = code_reply("2004", "申请不存在");
        pthread_mutex_lock(&h->mu);
        for (int i = 0; no && i < h->napps; i++)
            if (strcmp(h->apps[i].no, no) == 0) {
                json_decref(r);
                r = ok_reply();
                json_object_set_new(r, "status", json_string(h->apps[i].status));
            }
        pthread_mutex_unlock(&h->mu);
        return r;
    }
    if (!str(in, "idNo") || !str(in, "name") || !str(in, "product")) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    if (strcmp(str(in, "product"), "GOLD") != 0 && strcmp(str(in, "product"), "PLAT") != 0)
        return code_reply("2001", "产品不存在");
    json_t *r = new_app(h, "CC", "approved", "applicationNo", str(in, "idNo"));
    json_object_set_new(r, "status", json_string("approved"));
    return r;
}

/* The bank function's card number of social-security card no: 623091 +
 * its 12-digit sequence + the Luhn digit. */
static void social_pan(const char *no, char pan[20])
{
    size_t n = strlen(no);
    snprintf(pan, 20, "623091%012d", atoi(n > 12 ? no + n - 12 : no));
    int sum = 0;
    for (int i = 0; i < 18; i++) {
        int d = pan[17 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    pan[18] = (char)('0' + (10 - sum % 10) % 10);
    pan[19] = '\0';
}

static json_t *social(struct hstate *h, json_t *in, unsigned *status)
{
    if (!str(in, "idNo") || !str(in, "name")) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    json_t *r = new_app(h, "SC", "issued", "socialCardNo", str(in, "idNo"));
    const char *no = str(r, "socialCardNo");
    char pan[20];
    social_pan(no ? no : "", pan);
    pthread_mutex_lock(&h->mu);
    for (int i = 0; no && i < h->napps; i++)
        if (strcmp(h->apps[i].no, no) == 0)
            snprintf(h->apps[i].pan, sizeof h->apps[i].pan, "%s", pan);
    pthread_mutex_unlock(&h->mu);
    json_object_set_new(r, "bankLinked", json_true());
    json_object_set_new(r, "bankCardNo", json_string(pan));
    return r;
}

static json_t *loan(struct hstate *h, json_t *in, unsigned *status)
{
    const char *amount = str(in, "amount");
    json_t *term = json_object_get(in, "termMonths");
    if (!str(in, "idNo") || !amount || !json_is_integer(term)) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    double a = atof(amount);
    if (a <= 0 || json_integer_value(term) < 1 || json_integer_value(term) > 360)
        return code_reply("3002", "金额或期限不合规");
    const char *st = a > 500000 ? "rejected" : "approved";
    json_t *r = new_app(h, "LN", st, "loanNo", str(in, "idNo"));
    json_object_set_new(r, "status", json_string(st));
    json_object_set_new(r, "rate", json_string("4.35"));
    return r;
}

/* Under h->mu: the record numbered no (with prefix), or NULL. */
static struct app_rec *find_app(struct hstate *h, const char *no, const char *prefix)
{
    for (int i = 0; no && i < h->napps; i++)
        if (strcmp(h->apps[i].no, no) == 0 && strncmp(no, prefix, 2) == 0)
            return &h->apps[i];
    return NULL;
}

/* Sets the status of record no ("cancelled", ...); 2004 when there is none. */
static json_t *set_app_status(struct hstate *h, const char *no, const char *prefix, const char *st,
                              unsigned *status)
{
    if (!no) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    pthread_mutex_lock(&h->mu);
    struct app_rec *a = find_app(h, no, prefix);
    if (a)
        snprintf(a->status, sizeof a->status, "%s", st);
    pthread_mutex_unlock(&h->mu);
    if (!a)
        return code_reply("2004", "申请不存在");
    json_t *r = ok_reply();
    json_object_set_new(r, "status", json_string(st));
    return r;
}

static char *answered_before(struct hstate *h, const char *url, const char *serial,
                             unsigned *status);
static void remember(struct hstate *h, const char *url, const char *serial, unsigned status,
                     const char *text);

/* A compensation naming the request it undoes by its serial (origSerial),
 * the workflow engine's way: the record that request created (member key
 * of its answer on apply_url) is set "cancelled"; a request answered with a
 * refusal created nothing; one never received is answered 2009 if it ever
 * arrives. Under serial_mu (the compensation carries its own serial). */
static json_t *cancel_by_serial(struct hstate *h, json_t *in, const char *apply_url,
                                const char *key, const char *prefix, unsigned *status)
{
    const char *orig = str(in, "origSerial"), *serial = str(in, "serial");
    if (!orig || !orig[0] || strlen(orig) >= sizeof h->done[0].serial || !serial || !serial[0] ||
        strlen(serial) >= sizeof h->done[0].serial) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    unsigned st = 0;
    char *text = answered_before(h, apply_url, orig, &st);
    if (!text) {
        remember(h, apply_url, orig, 200, "{\"code\":\"2009\",\"message\":\"交易已撤销\"}");
        json_t *r = ok_reply();
        json_object_set_new(r, "status", json_string("cancelled"));
        return r;
    }
    json_t *first = json_loads(text, 0, NULL);
    free(text);
    const char *code = str(first, "code"), *no = str(first, key);
    json_t *r;
    if (st != 200 || !code || strcmp(code, "0000") != 0 || !no) {
        r = ok_reply(); /* refused: nothing was created */
        json_object_set_new(r, "status", json_string("cancelled"));
    } else {
        r = set_app_status(h, no, prefix, "cancelled", status);
    }
    json_decref(first);
    return r;
}

/* /card/status, /loan/status, /social/card/status: {applicationNo or
 * cardNo} -> the record's status (2004 when unknown); {idNo} -> "count",
 * the records of that ID number not cancelled (how many live applications
 * or cards a person has: what the tests check). */
static json_t *app_query(struct hstate *h, const char *prefix, json_t *in)
{
    const char *no = str(in, "applicationNo") ? str(in, "applicationNo") : str(in, "cardNo"),
               *id = str(in, "idNo");
    json_t *r = NULL;
    int live = 0;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < h->napps; i++) {
        if (strncmp(h->apps[i].no, prefix, 2) != 0)
            continue;
        if (no && strcmp(h->apps[i].no, no) == 0 && !r) {
            r = ok_reply();
            json_object_set_new(r, "status", json_string(h->apps[i].status));
        }
        if (id && strcmp(h->apps[i].id_no, id) == 0 && strcmp(h->apps[i].status, "cancelled") != 0)
            live++;
    }
    pthread_mutex_unlock(&h->mu);
    if (id && !no) {
        r = ok_reply();
        json_object_set_new(r, "count", json_integer(live));
    }
    return r ? r : code_reply("2004", "申请不存在");
}

static bool is_hex64(const char *v)
{
    if (!v || strlen(v) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!strchr("0123456789abcdefABCDEF", v[i]))
            return false;
    return true;
}

static json_t *card_sign(struct hstate *h, json_t *in, unsigned *status)
{
    const char *no = str(in, "applicationNo");
    json_t *f2f = json_object_get(in, "faceToFace");
    if (!no || !is_hex64(str(in, "signedFormSm3")) || !json_is_boolean(f2f)) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    if (!json_is_true(f2f))
        return code_reply("2005", "信用卡须面签");
    pthread_mutex_lock(&h->mu);
    struct app_rec *a = find_app(h, no, "CC");
    bool cancelled = a && strcmp(a->status, "cancelled") == 0;
    if (a && !cancelled)
        snprintf(a->status, sizeof a->status, "signed");
    pthread_mutex_unlock(&h->mu);
    if (!a)
        return code_reply("2004", "申请不存在");
    if (cancelled)
        return code_reply("2006", "申请已撤销");
    json_t *r = ok_reply();
    json_object_set_new(r, "status", json_string("signed"));
    return r;
}

static json_t *social_activate(struct hstate *h, json_t *in, unsigned *status)
{
    const char *id = str(in, "idNo"), *no = str(in, "cardNo"), *pan = str(in, "bankCardNo");
    if (!id || !no) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    pthread_mutex_lock(&h->mu);
    struct app_rec *a = find_app(h, no, "SC");
    bool found = a && strcmp(a->id_no, id) == 0;
    bool cancelled = found && strcmp(a->status, "cancelled") == 0;
    bool same = found && (!pan || strcmp(a->pan, pan) == 0);
    if (found && !cancelled && same)
        snprintf(a->status, sizeof a->status, "active");
    pthread_mutex_unlock(&h->mu);
    if (!found)
        return code_reply("2004", "社保卡不存在");
    if (!same)
        return code_reply("2007", "卡号与申领的社保卡不符");
    if (cancelled)
        return code_reply("2006", "社保卡已注销");
    json_t *r = ok_reply();
    json_object_set_new(r, "status", json_string("active"));
    return r;
}

static json_t *loan_prescreen(json_t *in, unsigned *status)
{
    static const char *const PURPOSES[] = {"consumption", "car",      "education",  "housing",
                                           "renovation",  "business", "agriculture"};
    const char *amount = str(in, "amount"), *purpose = str(in, "purpose");
    const char *coll = str(in, "collateral");
    json_t *term = json_object_get(in, "termMonths");
    char *end = NULL;
    double a = amount ? strtod(amount, &end) : 0;
    if (!str(in, "idNo") || !str(in, "name") || !amount || !end || *end || !purpose ||
        !json_is_integer(term) || json_integer_value(term) < 1 || json_integer_value(term) > 360 ||
        !(a > 0)) {
        *status = 400;
        return code_reply("4000", "参数错误");
    }
    bool known = false;
    for (size_t i = 0; i < sizeof PURPOSES / sizeof PURPOSES[0]; i++)
        known |= strcmp(purpose, PURPOSES[i]) == 0;
    bool no_coll = !coll || !*coll || strcmp(coll, "none") == 0;
    const char *decision = "pass", *reason = NULL;
    char limit[32];
    snprintf(limit, sizeof limit, "%.2f", a);
    if (!known || a > 5000000) {
        decision = "decline";
        reason = !known ? "purpose" : "amount";
        snprintf(limit, sizeof limit, "0.00");
    } else if ((a > 500000 && no_coll) || json_integer_value(term) > 120) {
        decision = "refer";
        reason = a > 500000 && no_coll ? "collateral" : "term";
        snprintf(limit, sizeof limit, "500000.00");
    }
    json_t *r = ok_reply();
    json_object_set_new(r, "decision", json_string(decision));
    json_object_set_new(r, "limit", json_string(limit));
    json_object_set_new(r, "reasons", reason ? json_pack("[s]", reason) : json_array());
    return r;
}

static json_t *dispatch(struct sim *s, const char *url, json_t *in, unsigned *status)
{
    struct hstate *h = s->state;
    const char *m = s->mode;
    if (strcmp(m, "idcheck") == 0 && strcmp(url, "/idcheck/verify") == 0)
        return idcheck(in, status);
    if (strcmp(m, "face") == 0 && strcmp(url, "/face/compare") == 0)
        return face(in, status);
    if (strcmp(m, "card") == 0 && strcmp(url, "/card/status") == 0 && str(in, "idNo"))
        return app_query(h, "CC", in);
    if (strcmp(m, "card") == 0 &&
        (strcmp(url, "/card/apply") == 0 || strcmp(url, "/card/status") == 0))
        return card(h, url, in, status);
    if (strcmp(m, "social") == 0 && strcmp(url, "/social/card/status") == 0)
        return app_query(h, "SC", in);
    if (strcmp(m, "loan") == 0 && strcmp(url, "/loan/status") == 0)
        return app_query(h, "LN", in);
    if (strcmp(m, "card") == 0 && strcmp(url, "/card/sign") == 0)
        return card_sign(h, in, status);
    if (strcmp(m, "card") == 0 && strcmp(url, "/card/cancel") == 0)
        return str(in, "origSerial")
                   ? cancel_by_serial(h, in, "/card/apply", "applicationNo", "CC", status)
                   : set_app_status(h, str(in, "applicationNo"), "CC", "cancelled", status);
    if (strcmp(m, "social") == 0 && strcmp(url, "/social/card/apply") == 0)
        return social(h, in, status);
    if (strcmp(m, "social") == 0 && strcmp(url, "/social/card/activate") == 0)
        return social_activate(h, in, status);
    if (strcmp(m, "social") == 0 && strcmp(url, "/social/card/cancel") == 0)
        return str(in, "origSerial")
                   ? cancel_by_serial(h, in, "/social/card/apply", "socialCardNo", "SC", status)
                   : set_app_status(h, str(in, "cardNo"), "SC", "cancelled", status);
    if (strcmp(m, "loan") == 0 && strcmp(url, "/loan/apply") == 0)
        return loan(h, in, status);
    if (strcmp(m, "loan") == 0 && strcmp(url, "/loan/prescreen") == 0)
        return loan_prescreen(in, status);
    if (strcmp(m, "loan") == 0 && strcmp(url, "/loan/cancel") == 0)
        return str(in, "origSerial")
                   ? cancel_by_serial(h, in, "/loan/apply", "loanNo", "LN", status)
                   : set_app_status(h, str(in, "applicationNo"), "LN", "cancelled", status);
    if (strcmp(m, "grid") == 0 && strcmp(url, "/grid/cells") == 0)
        return sim_grid_cells(in, status);
    if (strcmp(m, "cis") == 0 && strcmp(url, "/cis/person") == 0)
        return sim_cis_person(in, status);
    *status = 404;
    return code_reply("4040", "接口不存在");
}

/* ---- faults ---- */

static char *malformed_body(const char *kind)
{
    if (strcmp(kind, "json") == 0)
        return strdup("{\"code\":\"0000\",\"mess");
    if (strcmp(kind, "shape") == 0)
        return strdup("[\"0000\"]");
    if (strcmp(kind, "field") == 0)
        return strdup("{\"code\":\"0000\",\"message\":\"成功\"}");
    return strdup("{\"code\":\"0000\",\"message\":\"成功\",\"result\":1,\"score\":\"high\","
                  "\"applicationNo\":1,\"status\":1,\"socialCardNo\":1,\"bankLinked\":\"yes\","
                  "\"loanNo\":1,\"rate\":4.35}");
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, char *text)
{
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Under serial_mu: a copy of the answer already given to serial on url, or NULL. */
static char *answered_before(struct hstate *h, const char *url, const char *serial,
                             unsigned *status)
{
    for (int i = 0; i < h->ndone; i++)
        if (strcmp(h->done[i].serial, serial) == 0 && strcmp(h->done[i].url, url) == 0) {
            *status = h->done[i].status;
            return strdup(h->done[i].text);
        }
    return NULL;
}

/* Under serial_mu: keeps the answer (the oldest goes when full). */
static void remember(struct hstate *h, const char *url, const char *serial, unsigned status,
                     const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return;
    struct answered *a = &h->done[h->next_done];
    free(a->text);
    snprintf(a->url, sizeof a->url, "%s", url);
    snprintf(a->serial, sizeof a->serial, "%s", serial);
    a->status = status;
    a->text = copy;
    h->next_done = (h->next_done + 1) % SERIAL_MAX;
    if (h->ndone < SERIAL_MAX)
        h->ndone++;
}

/* The reply to one complete request, fault injection first. */
static char *answer(struct sim *s, const char *url, struct body *b, unsigned *status)
{
    struct sim_fault f;
    sim_fault_get(s, &f);
    if (f.stall) {
        atomic_fetch_add(&s->stalls, 1);
        while (sim_stalled(s))
            sim_sleep_ms(s, 10);
        if (atomic_load(&s->stopping))
            return NULL;
    }
    sim_sleep_ms(s, f.latency_ms);
    if (f.malformed[0]) {
        atomic_fetch_add(&s->malformed_sent, 1);
        return malformed_body(f.malformed);
    }
    if (sim_draw_error(s, &f)) {
        atomic_fetch_add(&s->errors_injected, 1);
        *status = 503;
        return strdup("{\"code\":\"9999\",\"message\":\"系统繁忙\"}");
    }
    json_t *in = b->too_big ? NULL : json_loadb(b->p ? b->p : "", b->len, 0, NULL);
    const char *serial = json_is_object(in) ? str(in, "serial") : NULL;
    struct hstate *h = s->state;
    if (serial && (strlen(serial) == 0 || strlen(serial) >= sizeof h->done[0].serial ||
                   strlen(url) >= sizeof h->done[0].url))
        serial = NULL;
    if (serial)
        pthread_mutex_lock(&h->serial_mu);
    char *text = serial ? answered_before(h, url, serial, status) : NULL;
    if (!text) {
        json_t *out = json_is_object(in) ? dispatch(s, url, in, status) : NULL;
        if (!out) {
            *status = 400;
            out = code_reply("4000", "请求不是JSON对象");
        }
        text = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        if (serial && text)
            remember(h, url, serial, *status, text);
    }
    if (serial)
        pthread_mutex_unlock(&h->serial_mu);
    json_decref(in);
    return text;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct sim *s = cls;
    struct body *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        *con_cls = b;
        return b ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        char *p = b->len + *data_size <= (1u << 20) ? realloc(b->p, b->len + *data_size + 1) : NULL;
        if (p) {
            memcpy(p + b->len, data, *data_size);
            b->p = p;
            b->len += *data_size;
            p[b->len] = '\0';
        } else {
            b->too_big = true;
        }
        *data_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&s->requests, 1);
    sim_count_up(&s->in_flight);
    unsigned status = 200;
    char *text = strcmp(method, "POST") == 0
                     ? answer(s, url, b, &status)
                     : strdup("{\"code\":\"4050\",\"message\":\"POST only\"}");
    if (strcmp(method, "POST") != 0)
        status = 405;
    sim_count_down(&s->in_flight);
    return text ? send_text(c, status, text) : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct body *b = *con_cls;
    if (b) {
        free(b->p);
        free(b);
    }
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct sim *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        sim_count_up(&s->conns);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        sim_count_down(&s->conns);
}

static int http_start(struct sim *s)
{
    struct hstate *h = s->state;
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h)
            return -1;
        pthread_mutex_init(&h->mu, NULL);
        pthread_mutex_init(&h->serial_mu, NULL);
        s->state = h;
    }
    int fd = sim_listen(s->host, &s->port);
    if (fd < 0)
        return -1;
    h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!h->d) {
        close(fd);
        return -1;
    }
    return 0;
}

static void http_stop(struct sim *s)
{
    struct hstate *h = s->state;
    MHD_stop_daemon(h->d); /* closes the listening socket and every connection */
    h->d = NULL;
}

const struct sim_service SIM_HTTP = {http_start, http_stop};
