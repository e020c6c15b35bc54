/* The workflow engine end to end (business/wf.h): the core, ID-check and
 * face simulators started as processes (zhanye-sim), a real daemon whose
 * [egress.*] sections point at them, and real ZY1 envelopes.
 *
 *  - a debit card opened end to end: every step over BIZ_STEP, the
 *    business completed and counted; core holds exactly one account and the
 *    card the reader read, bound to it, with the PIN set; our records hold
 *    the customer; BIZ_GET and BIZ_LIST show it;
 *  - a network drop at every step: the same cseq again answers the stored
 *    answer, a new cseq for the same step answers its recorded result; and
 *    the remote success lost before our commit (the core does the work and
 *    the reply never comes) leaves nothing recorded here, and the step
 *    resumed with the same serial ends with exactly one account and card;
 *  - every downstream step failing (the simulators' fault API): a system
 *    failure or a stall records nothing and the step resumes with the same
 *    serial; a refusal records a failed attempt and a retry with new input
 *    goes through on the next serial; core and our records always agree;
 *  - BIZ_CANCEL after the card: the card unbound and the account closed in
 *    core (their journal rows reversed); a compensation that fails leaves
 *    `cancelling`, and BIZ_CANCEL again finishes it; a cancel after the
 *    account's reply was lost closes that account too (the compensation
 *    names the lost call's serial), and one before the call ever arrived
 *    leaves core a reversed mark that refuses it;
 *  - the PIN block is nowhere in the data directory (database, log, stored
 *    answers) after the flow;
 *  - order, kinds and input: a step out of order, an unknown business,
 *    an unknown kind, a card number failing Luhn. */
#include "data/store.h"
#include "bizflow.h"
#include "simproc.h"
#include "simrig.h"
#include "tablet.h"
#include "testd.h"
#include "vissue.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ID_ZS "11010519491231002X" /* 王秀英: created in core by the first business */
#define ID_LS "440106197512254416" /* 赵六: created in core by the end-to-end test */
#define PIN "147258"

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct store *DB;
enum { CORE, IDCHECK, FACE, NSIMS };
static struct simproc SIMS[NSIMS] = {{.mode = "core"}, {.mode = "idcheck"}, {.mode = "face"}};
static struct simrig RIG;
static int CARD_SEQ;
static char LAST_PIN_BLOCK[33];

/* ---- helpers -------------------------------------------------------------------- */

static json_t *call(const char *tx, const char *data, const char *cseq)
{
    return tablet_must(&T1, tx, data, cseq);
}

/* ---- the core simulator's database ------------------------------------------------ */

static int64_t core_int(const char *fmt, ...)
{
    char q[512], path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/core.db", SIMS[CORE].dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("core.db: %s: %s", q, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int64_t db_int(const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

/* The business's core requests of tx code that succeeded. */
static int64_t journal_ok(const char *biz_no, const char *code)
{
    return core_int("SELECT COUNT(*) FROM journal WHERE serial LIKE '%s%%' AND tx_code = '%s' "
                    "AND rc = '0000'",
                    biz_no, code);
}

/* 200101 sent to the core simulator by hand with serial: its rc. */
static void core_open_account(const char *serial, char rc[5])
{
    char req[96], reply[6 + 200];
    snprintf(req, sizeof req, "%06d200101ZHYE%-20.20s%-16sCNYSAV001", 55, serial,
             "C000000000000001");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)SIMS[CORE].port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(send(fd, req, 61, 0), 61);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof reply && (n = recv(fd, reply + got, sizeof reply - got, 0)) > 0)
        got += (size_t)n;
    close(fd);
    assert_true(got >= 6 + 30);
    memcpy(rc, reply + 6 + 26, 4);
    rc[4] = '\0';
}

/* ---- the flow ------------------------------------------------------------------- */

struct biz {
    int64_t id;
    char no[16];
    char id_no[19];
    char name[32];
    char card[20];
};

static void start(struct biz *b, const char *id_no, const char *name)
{
    json_t *a = call("BIZ_START", "{\"kind\":\"debit_card\"}", NULL);
    answer_expect(a, "OK");
    b->id = json_integer_value(json_object_get(answer_data(a), "biz_id"));
    snprintf(b->no, sizeof b->no, "%s", answer_str(a, "biz_no"));
    assert_string_equal(answer_str(a, "next_step"), "idcard");
    assert_int_equal(strlen(b->no), 14);
    json_decref(a);
    snprintf(b->id_no, sizeof b->id_no, "%s", id_no);
    snprintf(b->name, sizeof b->name, "%s", name);
    bizflow_new_card(++CARD_SEQ, b->card);
}

/* BIZ_STEP with input (JSON text), cseq may be NULL. */
static json_t *step_cseq(const struct biz *b, const char *name, const char *input, const char *cseq)
{
    size_t n = strlen(input) + 128;
    char *data = malloc(n);
    snprintf(data, n, "{\"biz_id\":%lld,\"step\":\"%s\",\"input\":%s}", (long long)b->id, name,
             input);
    json_t *a = call("BIZ_STEP", data, cseq);
    free(data);
    return a;
}

/* The input of step name for business b (malloc'd JSON text), as its
 * peripherals give it (support/bizflow.h); the PIN block is kept for the
 * greps that prove it is stored nowhere. */
static char *input_of(struct biz *b, const char *name)
{
    if (strcmp(name, "pin") == 0)
        bizflow_pin_block(b->card, PIN, LAST_PIN_BLOCK);
    char *in = bizflow_input(name, b->id_no, b->name, b->card);
    assert_non_null(in);
    return in;
}

#define STEPS BIZFLOW_STEPS
#define NSTEPS BIZFLOW_NSTEPS

static json_t *step(struct biz *b, const char *name)
{
    char *in = input_of(b, name);
    json_t *a = step_cseq(b, name, in, NULL);
    free(in);
    return a;
}

static void step_ok(struct biz *b, const char *name)
{
    json_t *a = step(b, name);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "step"), name);
    json_decref(a);
}

/* BIZ_GET: the state and attempt of step name. */
static void step_state(const struct biz *b, const char *name, char *state, size_t cap, int *attempt)
{
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
    json_t *a = call("BIZ_GET", data, NULL);
    answer_expect(a, "OK");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(answer_data(a), "steps"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "step")), name) == 0) {
            snprintf(state, cap, "%s", json_string_value(json_object_get(s, "state")));
            *attempt = (int)json_integer_value(json_object_get(s, "attempt"));
        }
    }
    json_decref(a);
}

static void expect_step(const struct biz *b, const char *name, const char *want, int attempt)
{
    char st[16] = "";
    int at = -1;
    step_state(b, name, st, sizeof st, &at);
    if (strcmp(st, want) != 0 || at != attempt)
        fail_msg("step %s: want %s/%d, got %s/%d", name, want, attempt, st, at);
}

static const char *biz_status(const struct biz *b, char *out, size_t cap)
{
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
    json_t *a = call("BIZ_GET", data, NULL);
    answer_expect(a, "OK");
    snprintf(out, cap, "%s", answer_str(a, "status"));
    json_decref(a);
    return out;
}

/* Core and our records agree: the account core opened for b (0 or 1)
 * is the one we recorded, and so is the card. */
static void agree(const struct biz *b)
{
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
    json_t *a = call("BIZ_GET", data, NULL);
    json_t *steps = json_object_get(answer_data(a), "steps");
    json_t *acct = json_array_get(steps, 4), *card = json_array_get(steps, 5);
    bool acct_done = strcmp(json_string_value(json_object_get(acct, "state")), "done") == 0;
    bool card_done = strcmp(json_string_value(json_object_get(card, "state")), "done") == 0;
    assert_int_equal(journal_ok(b->no, "200101"), acct_done ? 1 : 0);
    assert_int_equal(journal_ok(b->no, "200203"), card_done ? 1 : 0);
    if (acct_done) {
        const char *no =
            json_string_value(json_object_get(json_object_get(acct, "result"), "account_no"));
        assert_int_equal(core_int("SELECT COUNT(*) FROM journal WHERE serial LIKE '%s%%' AND "
                                  "tx_code = '200101' AND key2 = '%s'",
                                  b->no, no),
                         1);
    }
    if (card_done)
        assert_int_equal(core_int("SELECT COUNT(*) FROM card WHERE card_no = '%s'", b->card), 1);
    json_decref(a);
}

static void run_all(struct biz *b)
{
    for (size_t i = 0; i < NSTEPS; i++)
        step_ok(b, STEPS[i]);
}

/* ---- the tests -------------------------------------------------------------------- */

static void debit_card_end_to_end(void **state)
{
    (void)state;
    struct biz b;
    int64_t accounts = core_int("SELECT COUNT(*) FROM account");
    int64_t perf = db_int("SELECT COALESCE(SUM(qty), 0) FROM perf_counters WHERE metric = "
                          "'business:debit_card' AND period_kind = 'd' AND teller_id <> 0");
    start(&b, ID_LS, "赵六");
    json_t *a = NULL;
    for (size_t i = 0; i < NSTEPS; i++) {
        a = step(&b, STEPS[i]);
        answer_expect(a, "OK");
        if (i + 1 < NSTEPS) {
            assert_string_equal(answer_str(a, "status"), "open");
            assert_string_equal(answer_str(a, "next_step"), STEPS[i + 1]);
            json_decref(a);
        }
    }
    assert_string_equal(answer_str(a, "status"), "completed");
    assert_true(json_is_null(json_object_get(answer_data(a), "next_step")));
    json_decref(a);
    /* core: one new customer (赵六 was not there), one account, this card bound, PIN set */
    assert_int_equal(core_int("SELECT COUNT(*) FROM customer WHERE id_no = '%s'", ID_LS), 1);
    assert_int_equal(core_int("SELECT COUNT(*) FROM account"), accounts + 1);
    assert_int_equal(core_int("SELECT COUNT(*) FROM card c JOIN account a ON a.account_no = "
                              "c.account_no JOIN customer u ON u.cust_no = a.cust_no WHERE "
                              "c.card_no = '%s' AND u.id_no = '%s' AND c.pin_hash IS NOT NULL",
                              b.card, ID_LS),
                     1);
    assert_int_equal(journal_ok(b.no, "100102"), 1);
    agree(&b);
    /* ours: the customer, the business completed and counted once */
    assert_int_equal(db_int("SELECT COUNT(*) FROM customers WHERE id_masked LIKE '440106%'"), 1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM biz WHERE status = 'completed'") >= 1, 1);
    assert_int_equal(db_int("SELECT COALESCE(SUM(qty), 0) FROM perf_counters WHERE metric = "
                            "'business:debit_card' AND period_kind = 'd' AND teller_id <> 0"),
                     perf + 1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'biz.completed'") >= 1,
                     1);
    /* a step again after completion: its recorded result */
    a = step(&b, "account");
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "replayed")));
    json_decref(a);
    /* BIZ_LIST: mine, completed */
    a = call("BIZ_LIST", "{\"status\":\"completed\",\"kind\":\"debit_card\"}", NULL);
    answer_expect(a, "OK");
    json_t *first = json_array_get(json_object_get(answer_data(a), "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "biz_id")), b.id);
    json_decref(a);
    /* The PIN block: in no file of the data directory (database, log, stored answers). */
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "grep -rqia '%s' '%s'", LAST_PIN_BLOCK, D.dir);
    assert_int_not_equal(system(cmd), 0);
    if (!testd_mariadb()) { /* the same grep finds what is there: the business number */
        snprintf(cmd, sizeof cmd, "grep -rqa '%s' '%s'", b.no, D.dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* Each step sent twice with its cseq (the first answer "lost"), then with a
 * new cseq: one result. The account and card steps also lose the core's
 * reply after the work (malformed "close"). Exactly one account and card. */
static void network_drop_at_every_step(void **state)
{
    (void)state;
    struct biz b;
    int64_t accounts = core_int("SELECT COUNT(*) FROM account");
    start(&b, ID_ZS, "王秀英");
    for (size_t i = 0; i < NSTEPS; i++) {
        const char *name = STEPS[i];
        char *in = input_of(&b, name);
        bool core_step =
            strcmp(name, "account") == 0 || strcmp(name, "card") == 0 || strcmp(name, "pin") == 0;
        if (core_step) {
            /* core does it, its reply never arrives: nothing recorded here */
            simproc_fault(&SIMS[CORE], "{\"malformed\":\"close\"}");
            json_t *lost = step_cseq(&b, name, in, NULL);
            answer_expect(lost, "downstream_unavailable");
            json_decref(lost);
            simproc_fault(&SIMS[CORE], "{}");
            expect_step(&b, name, "pending", 0);
        }
        char cseq[32];
        snprintf(cseq, sizeof cseq, "drop-%lld-%zu", (long long)b.id, i);
        json_t *a1 = step_cseq(&b, name, in, cseq);
        answer_expect(a1, "OK");
        json_t *a2 = step_cseq(&b, name, in, cseq); /* the same cseq: the stored answer */
        answer_expect(a2, "OK");
        assert_true(json_equal(json_object_get(a1, "data"), json_object_get(a2, "data")));
        char cseq2[40];
        snprintf(cseq2, sizeof cseq2, "%s-b", cseq);
        json_t *a3 = step_cseq(&b, name, in, cseq2); /* a new cseq: the recorded result */
        answer_expect(a3, "OK");
        assert_true(json_is_true(json_object_get(answer_data(a3), "replayed")));
        assert_true(json_equal(json_object_get(answer_data(a1), "result"),
                               json_object_get(answer_data(a3), "result")));
        json_decref(a1);
        json_decref(a2);
        json_decref(a3);
        free(in);
        agree(&b);
    }
    char st[16];
    assert_string_equal(biz_status(&b, st, sizeof st), "completed");
    assert_int_equal(core_int("SELECT COUNT(*) FROM account"), accounts + 1);
    assert_int_equal(journal_ok(b.no, "200101"), 1);
    assert_int_equal(journal_ok(b.no, "200203"), 1);
    assert_int_equal(journal_ok(b.no, "200202"), 1);
}

/* Every downstream step: a system failure and a stall record nothing (the
 * same serial next time); the step then goes through. */
static void downstream_failures_record_nothing(void **state)
{
    (void)state;
    struct biz b;
    start(&b, ID_ZS, "王秀英");
    for (size_t i = 0; i < NSTEPS; i++) {
        const char *name = STEPS[i];
        int sim = strcmp(name, "idcheck") == 0 ? IDCHECK
                  : strcmp(name, "face") == 0  ? FACE
                  : i >= 3 && i <= 6           ? CORE
                                               : -1;
        if (sim >= 0) {
            simproc_fault(&SIMS[sim], "{\"error_rate\":1}");
            json_t *a = step(&b, name);
            answer_expect(a, "downstream_unavailable");
            json_decref(a);
            simproc_fault(&SIMS[sim], "{\"stall\":true}");
            a = step(&b, name);
            answer_expect(a, "downstream_unavailable");
            json_decref(a);
            simproc_fault(&SIMS[sim], "{}");
            expect_step(&b, name, "pending", 0);
            agree(&b);
        }
        step_ok(&b, name);
        expect_step(&b, name, "done", 0);
        agree(&b);
    }
}

/* Refusals are recorded; the retry with new input takes the next serial. */
static void refusals_are_recorded_and_retried(void **state)
{
    (void)state;
    struct biz b, other;
    start(&b, ID_ZS, "王秀英");
    for (size_t i = 0; i < 2; i++)
        step_ok(&b, STEPS[i]);
    /* face: another person's photo scores low: a failed check, recorded */
    json_t *a = step_cseq(&b, "face", "{\"image\":\"RkFDRTpzb21lYm9keSBlbHNl\"}", NULL);
    answer_expect(a, "biz_check_failed");
    assert_int_equal(json_integer_value(json_object_get(answer_data(a), "attempt")), 1);
    json_decref(a);
    expect_step(&b, "face", "failed", 1);
    step_ok(&b, "face");
    expect_step(&b, "face", "done", 1);
    step_ok(&b, "customer");
    step_ok(&b, "account");
    /* card: a number bound already (another business's) is refused by core */
    start(&other, ID_ZS, "王秀英");
    run_all(&other);
    char in[64];
    snprintf(in, sizeof in, "{\"card_no\":\"%s\"}", other.card);
    a = step_cseq(&b, "card", in, NULL);
    answer_expect(a, "downstream_refused");
    assert_string_equal(answer_str(a, "system_code"), "2006");
    json_decref(a);
    expect_step(&b, "card", "failed", 1);
    agree(&b);
    step_ok(&b, "card"); /* its own card, serial attempt 001 */
    assert_int_equal(core_int("SELECT COUNT(*) FROM journal WHERE serial = '%s05F000' AND rc = "
                              "'2006'",
                              b.no),
                     1);
    assert_int_equal(core_int("SELECT COUNT(*) FROM journal WHERE serial = '%s05F001' AND rc = "
                              "'0000'",
                              b.no),
                     1);
    agree(&b);
}

static void cancel_after_card_compensates(void **state)
{
    (void)state;
    struct biz b;
    start(&b, ID_ZS, "王秀英");
    for (size_t i = 0; i < 6; i++)
        step_ok(&b, STEPS[i]);
    char data[64], st[16];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b.id);
    /* core failing: the compensations do not go through: cancelling */
    simproc_fault(&SIMS[CORE], "{\"error_rate\":1}");
    json_t *a = call("BIZ_CANCEL", data, NULL);
    answer_expect(a, "downstream_unavailable");
    assert_string_equal(answer_str(a, "status"), "cancelling");
    json_decref(a);
    simproc_fault(&SIMS[CORE], "{}");
    assert_int_equal(core_int("SELECT COUNT(*) FROM card WHERE card_no = '%s'", b.card), 1);
    a = step(&b, "pin");
    answer_expect(a, "biz_closed");
    json_decref(a);
    /* again: resumed and finished */
    a = call("BIZ_CANCEL", data, NULL);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), "cancelled");
    json_t *comp = json_object_get(answer_data(a), "compensated");
    assert_int_equal(json_array_size(comp), 2);
    json_decref(a);
    assert_string_equal(biz_status(&b, st, sizeof st), "cancelled");
    assert_int_equal(core_int("SELECT COUNT(*) FROM card WHERE card_no = '%s'", b.card), 0);
    assert_int_equal(core_int("SELECT COUNT(*) FROM account a JOIN journal j ON j.key2 = "
                              "a.account_no WHERE j.serial LIKE '%s%%' AND j.tx_code = '200101' "
                              "AND a.status = 'closed' AND j.status = 'reversed'",
                              b.no),
                     1);
    assert_int_equal(core_int("SELECT COUNT(*) FROM journal WHERE serial LIKE '%s%%' AND "
                              "tx_code = '200203' AND status = 'reversed'",
                              b.no),
                     1);
    expect_step(&b, "card", "compensated", 0);
    expect_step(&b, "account", "compensated", 0);
    a = call("BIZ_CANCEL", data, NULL);
    answer_expect(a, "biz_closed");
    json_decref(a);
}

/* The account opened in core, its reply lost (nothing recorded here), then
 * the business cancelled: the compensation names the lost call's serial,
 * so core closes that account: no account in core without its record. */
static void cancel_undoes_a_lost_call(void **state)
{
    (void)state;
    struct biz b;
    start(&b, ID_ZS, "王秀英");
    for (size_t i = 0; i < 4; i++)
        step_ok(&b, STEPS[i]);
    simproc_fault(&SIMS[CORE], "{\"malformed\":\"close\"}");
    json_t *a = step(&b, "account");
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    simproc_fault(&SIMS[CORE], "{}");
    expect_step(&b, "account", "pending", 0);
    assert_int_equal(journal_ok(b.no, "200101"), 1); /* core did it */
    char data[64], st[16];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b.id);
    a = call("BIZ_CANCEL", data, NULL);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), "cancelled");
    json_decref(a);
    assert_string_equal(biz_status(&b, st, sizeof st), "cancelled");
    assert_int_equal(core_int("SELECT COUNT(*) FROM account a JOIN journal j ON j.key2 = "
                              "a.account_no WHERE j.serial = '%s04F000' AND a.status = 'closed' "
                              "AND j.status = 'reversed'",
                              b.no),
                     1);
    /* a business cancelled before its call arrived: the late call is refused */
    struct biz c;
    start(&c, ID_ZS, "王秀英");
    for (size_t i = 0; i < 4; i++)
        step_ok(&c, STEPS[i]);
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)c.id);
    a = call("BIZ_CANCEL", data, NULL);
    answer_expect(a, "OK");
    json_decref(a);
    assert_int_equal(core_int("SELECT COUNT(*) FROM journal WHERE serial = '%s04F000' AND "
                              "status = 'reversed' AND reply IS NULL",
                              c.no),
                     1);
    a = step(&c, "account");
    answer_expect(a, "biz_closed");
    json_decref(a);
    /* the call arriving late (as a stalled network would deliver it) */
    char serial[32], rc[5];
    snprintf(serial, sizeof serial, "%s04F000", c.no);
    core_open_account(serial, rc);
    assert_string_equal(rc, "2009");
    assert_int_equal(journal_ok(c.no, "200101"), 0);
}

static void order_kinds_and_input(void **state)
{
    (void)state;
    struct biz b;
    start(&b, ID_ZS, "王秀英");
    json_t *a = step(&b, "account");
    answer_expect(a, "biz_step_out_of_order");
    assert_string_equal(answer_str(a, "next_step"), "idcard");
    json_decref(a);
    a = step_cseq(&b, "idcard", "{\"name\":\"张三\",\"id_no\":\"110101199003077579\"}", NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    for (size_t i = 0; i < 5; i++)
        step_ok(&b, STEPS[i]);
    a = step_cseq(&b, "card", "{\"card_no\":\"6228480000000000001\"}", NULL);
    answer_expect(a, "bad_request"); /* Luhn: nothing recorded, core never asked */
    json_decref(a);
    expect_step(&b, "card", "pending", 0);
    step_ok(&b, "card");
    step_ok(&b, "pin");
    /* a PNG whose header is right but which does not decode: refused at the
     * signature, never at the voucher it could not be drawn on */
    a = step_cseq(&b, "signature",
                  "{\"strokes\":[[[1,1,0.5,0]]],\"image\":\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\"}",
                  NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    expect_step(&b, "signature", "pending", 0);
    a = call("BIZ_GET", "{\"biz_id\":999999}", NULL);
    answer_expect(a, "biz_not_found");
    json_decref(a);
    a = call("BIZ_START", "{\"kind\":\"mortgage\"}", NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
}

/* ---- setup -------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    char conf[2048] = "[log]\nlevel = debug\n";
    if (simrig_start(&RIG, "biz", SIMS, NSIMS) != 0 ||
        simrig_egress(&RIG, 1500, conf, sizeof conf) != 0 || testd_init(&D, conf) != 0 ||
        simrig_daemon_files(&RIG, &D) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    store_close(DB);
    testd_cleanup(&D);
    return simrig_stop(&RIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debit_card_end_to_end),
        cmocka_unit_test(network_drop_at_every_step),
        cmocka_unit_test(downstream_failures_record_nothing),
        cmocka_unit_test(refusals_are_recorded_and_retried),
        cmocka_unit_test(cancel_after_card_compensates),
        cmocka_unit_test(cancel_undoes_a_lost_call),
        cmocka_unit_test(order_kinds_and_input),
    };
    return cmocka_run_group_tests_name("biz", tests, setup, teardown);
}
