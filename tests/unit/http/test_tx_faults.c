/* Fault loops over the ZY1 pipeline (tests/support/faultloop.h), in
 * process: a real data directory made by `zhanye init --demo`, a real
 * struct app opened on it (app_open), real sealed envelopes from
 * libzhanye-client, and h_tx() itself, the function the server runs on an
 * executor thread for POST /api/v1/tx/{TX}. Only the app's store is
 * swapped for one opened through the test-only "fault" backend (and its
 * serial-number generator reopened on it), which is why this runs in
 * process rather than against `zhanye serve`: the production binary has no
 * fault backend and no way to select one.
 *
 * For DEVICE_ACTIVATE, LOGIN, a replayed LOGIN, LOGOUT and PASSWORD_CHANGE,
 * each with a cseq (so the stored idempotent answer is part of every run):
 * at every N the answer must be the fault-free one or a plain failure
 * ("internal", "unavailable"), never a business verdict; a failure leaves
 * the database as it was and the audit chain intact; the next try works. */
#include "app/app.h"
#include "data/store_fault.h"
#include "faultloop.h"
#include "foundation/clock.h"
#include "foundation/secmem.h"
#include "http/handlers.h"
#include "http/server.h"
#include "identity/device.h"
#include "identity/ticket.h"
#include "testd.h"
#include "zyc.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define NEW_PW "Field@5678"
#define TELLER "demo01"
#define TABLET_DEV "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define CLIENT_IP "10.0.0.1"
#define ACTIVATE_DATA "{\"device\":{\"model\":\"Pad\",\"os\":\"Android 14\",\"app\":\"1.0\"}}"

struct pctx {
    struct testd d;
    struct app a;
    bool app_open;
    zyc_state tablet;
    char code[ACT_CODE_LEN + 1]; /* DEVICE_ACTIVATE's activation code */
    char sid[ZY1_SID_MAX + 1];   /* the tablet's session */
    /* The request the loop sends: */
    const char *tx;
    const char *data;
    const char *cseq;
    const char *const *keep; /* members of the answer's data compared by value */
    int opens;               /* of the fault store, by the loop */
};

/* ---- one request through h_tx -------------------------------------------- */

struct answer {
    long status;
    char code[64]; /* the sealed answer's code, or the plain error's */
    json_t *data;  /* the sealed answer's data (NULL for a plain error) */
};

static void answer_free(struct answer *r)
{
    json_decref(r->data);
    r->data = NULL;
}

/* Seals {"sid"?, "cseq"?, "data"} for tx, runs h_tx, opens the answer. */
static void call_tx(struct pctx *x, const char *tx, const char *data, const char *cseq,
                    struct answer *out)
{
    zy1_call call;
    char *body = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    json_t *p = json_pack("{s:o}", "data", json_loads(data ? data : "{}", 0, NULL));
    assert_non_null(p);
    if (x->sid[0] && strcmp(tx, "LOGIN") != 0 && strcmp(tx, ZY1_ACTIVATE_TX) != 0)
        json_object_set_new(p, "sid", json_string(x->sid));
    if (cseq)
        json_object_set_new(p, "cseq", json_string(cseq));
    char *payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    assert_non_null(payload);
    bool act = strcmp(tx, ZY1_ACTIVATE_TX) == 0;
    assert_int_equal(zyc_seal(&x->tablet, tx, act ? x->code : NULL, payload, strlen(payload),
                              clock_wall_ms(), &call, &body, &len),
                     ZY1_OK);
    free(payload);

    struct http_request req = {
        .method = "POST",
        .url = "/api/v1/tx/",
        .route = "/api/v1/tx/{TX}",
        .arg = tx,
        .body = body,
        .body_len = len,
        .client_ip = CLIENT_IP,
        .t0_ns = clock_mono_ns(),
        .app = &x->a,
    };
    struct http_response resp = {0};
    h_tx(&req, &resp);
    out->status = resp.status;
    char *pt = NULL;
    size_t ptlen = 0;
    json_t *j = NULL;
    if (resp.status == 200 &&
        zyc_open(&call, resp.body, resp.body_len, &pt, &ptlen, NULL) == ZY1_OK) {
        j = json_loads(pt, 0, NULL);
        out->data = json_incref(json_object_get(j, "data"));
        const char *c = json_string_value(json_object_get(j, "code"));
        snprintf(out->code, sizeof out->code, "%s", c ? c : "?");
    } else if (resp.body) {
        j = json_loadb(resp.body, resp.body_len, 0, NULL);
        const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
        snprintf(out->code, sizeof out->code, "%s", c ? c : "?");
    }
    json_decref(j);
    if (pt)
        secmem_wipe(pt, ptlen);
    free(pt);
    free(resp.body);
    free(body);
    zy1_call_wipe(&call);
}

/* ---- the loop's operation --------------------------------------------------- */

static int open_app_store(struct faultloop *fl, void *p)
{
    struct pctx *x = p;
    char srv[SEQ_LEN + 1];
    x->a.store = fl->st;
    /* The first serial reserves a block (a write of its own): done here,
     * outside the runs, as a running server has long done it. A failed
     * request consumes a serial too, so serials do not compare between
     * runs: consecutive opens start one apart, which makes the two
     * fault-free runs differ there. */
    if (seq_open(x->a.store, x->a.cfg.server.node_id, 1000, &x->a.seq) != STORE_OK)
        return -1;
    for (int i = 0; i <= x->opens % 2; i++)
        if (seq_next(x->a.seq, "srv", srv) != STORE_OK)
            return -1;
    x->opens++;
    return 0;
}

static void close_app_store(struct faultloop *fl, void *p)
{
    struct pctx *x = p;
    seq_close(x->a.seq);
    x->a.seq = NULL;
    x->a.store = NULL;
}

static int run_tx(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct pctx *x = p;
    struct answer r;
    call_tx(x, x->tx, x->data, x->cseq, &r);
    int n = snprintf(out, cap, "%ld %s", r.status, r.code);
    /* Keys of the answer's data, and the values of the stable ones. */
    const char *key;
    json_t *v;
    json_object_foreach(r.data, key, v)
    {
        bool keep = false;
        for (const char *const *k = x->keep; k && *k && !keep; k++)
            keep = strcmp(*k, key) == 0;
        char *val = keep ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        if (n >= 0 && (size_t)n < cap)
            n += snprintf(out + n, cap - (size_t)n, " %s%s%s", key, val ? "=" : "", val ? val : "");
        free(val);
    }
    answer_free(&r);
    if (r.status == 200 && strcmp(r.code, "OK") == 0)
        return FAULTOP_OK;
    if ((r.status == 200 || r.status == 500) && strcmp(r.code, "internal") == 0)
        return FAULTOP_FAILED;
    /* A busy database: plain 503 before step 10, sealed after it. */
    if ((r.status == 200 || r.status == 503) && strcmp(r.code, "unavailable") == 0)
        return FAULTOP_FAILED;
    return FAULTOP_WRONG;
}

/* ---- fixture ------------------------------------------------------------------ */

static int setup(void **state)
{
    char err[256];
    struct pctx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    *state = x;
    /* No cache of device and session records: every run starts from a fresh
     * copy of the database file, which a cache would not see. */
    if (testd_init(&x->d, "[identity]\ncache_ttl_ms = 0") != 0)
        return -1;
    if (app_open(&x->a, x->d.dir, err, sizeof err) != APP_OK) {
        fprintf(stderr, "app_open: %s\n", err);
        return -1;
    }
    x->app_open = true;
    const struct keyring_entry *k = &x->a.keys.keys[0];
    if (zyc_state_init(&x->tablet, "http://in-process", k->kid, k->pub_b64, TELLER) != ZYC_OK)
        return -1;
    memcpy(x->tablet.dev, TABLET_DEV, sizeof x->tablet.dev);
    return 0;
}

static int teardown(void **state)
{
    struct pctx *x = *state;
    clock_set_offset_ms(0);
    if (x->app_open)
        app_close(&x->a);
    testd_cleanup(&x->d);
    zyc_state_wipe(&x->tablet);
    secmem_wipe(x, sizeof *x);
    free(x);
    return 0;
}

struct issue_arg {
    const struct kek *kek;
    char code[ACT_CODE_LEN + 1];
    int64_t expires;
};

static int issue_cb(struct store_conn *c, void *p)
{
    struct issue_arg *a = p;
    a->code[0] = '\0';
    return activation_issue(c, a->kek, "test", TELLER, a->code, &a->expires);
}

/* A fresh activation code for TELLER into x->code, on the app's store. */
static void issue_code(struct pctx *x)
{
    struct store_conn *c = NULL;
    struct issue_arg a = {.kek = &x->a.kek};
    assert_int_equal(store_acquire(x->a.store, &c), STORE_OK);
    assert_int_equal(store_run(c, "test.issue", issue_cb, &a), ID_OK);
    store_release(c);
    memcpy(x->code, a.code, sizeof x->code);
    secmem_wipe(a.code, sizeof a.code);
}

/* The tablet activated through the pipeline itself, DS kept. */
static void activate_tablet(struct pctx *x)
{
    struct answer r;
    issue_code(x);
    call_tx(x, ZY1_ACTIVATE_TX, ACTIVATE_DATA, NULL, &r);
    assert_string_equal(r.code, "OK");
    const char *ds = json_string_value(json_object_get(r.data, "device_secret"));
    assert_non_null(ds);
    assert_int_equal(zyc_state_set_device_secret(&x->tablet, ds), ZYC_OK);
    answer_free(&r);
}

static void login_tablet(struct pctx *x)
{
    struct answer r;
    call_tx(x, "LOGIN", "{\"teller\":\"" TELLER "\",\"password\":\"" PW "\"}", NULL, &r);
    assert_string_equal(r.code, "OK");
    const char *sid = json_string_value(json_object_get(r.data, "sid"));
    assert_non_null(sid);
    snprintf(x->sid, sizeof x->sid, "%s", sid);
    answer_free(&r);
}

/* Hands the app's database to the loop and runs it. A handler with its
 * own transactions (LOGIN, PASSWORD_CHANGE) commits its work before the
 * pipeline stores its answer in tx_answers, in one more transaction: when
 * that fails, the answer is still sent (the work is committed) and just
 * not stored for a retry. */
static void loop(struct pctx *x, const char *name, bool own_transaction)
{
    struct faultloop fl;
    /* No batch journal: its thread would spend store calls at random
     * points of the count; without it the pipeline records every nonce
     * itself, in the counted calls. */
    nonce_journal_close(x->a.journal);
    x->a.journal = NULL;
    seq_close(x->a.seq);
    x->a.seq = NULL;
    store_close(x->a.store);
    x->a.store = NULL;
    assert_int_equal(faultloop_init(&fl, x->a.cfg.store.path, 2), 0);
    const struct faultop op = {.name = name,
                               .run = run_tx,
                               .open = open_app_store,
                               .close = close_app_store,
                               .answer_table = own_transaction ? "tx_answers" : NULL};
    faultloop_run(&fl, &op, x);
    print_message(
        "%s: %ld store calls, %ld runs with a fault, %ld succeeded despite a one-shot busy, %ld "
        "answered without storing the answer\n",
        name, fl.calls, fl.runs, fl.retried, fl.unanswered);
    assert_true(own_transaction || fl.unanswered == 0);
    assert_true(fl.calls > 0 && fl.runs >= 4 * fl.calls);
    faultloop_done(&fl);
}

/* ---- the transactions ----------------------------------------------------------- */

static void test_device_activate(void **state)
{
    struct pctx *x = *state;
    static const char *const keep[] = {"teller", "bank", NULL};
    issue_code(x);
    x->tx = ZY1_ACTIVATE_TX;
    x->data = ACTIVATE_DATA;
    x->cseq = "act-1";
    x->keep = keep;
    loop(x, "DEVICE_ACTIVATE", false);
}

static void test_login(void **state)
{
    struct pctx *x = *state;
    static const char *const keep[] = {"teller", "idle_timeout_s", NULL};
    activate_tablet(x);
    login_tablet(x); /* the session the new login ends (single sign-on) */
    x->tx = "LOGIN";
    x->data = "{\"teller\":\"" TELLER "\",\"password\":\"" PW "\"}";
    x->cseq = "login-1";
    x->keep = keep;
    loop(x, "LOGIN", true);
}

/* A retry of an answered LOGIN (same cseq) gets the stored answer, the same
 * sid, and runs nothing again: a failing lookup of the stored answer must
 * not pass for "not answered yet". */
static void test_login_replayed(void **state)
{
    struct pctx *x = *state;
    static const char *const keep[] = {"teller", "idle_timeout_s", "sid", NULL};
    struct answer r;
    activate_tablet(x);
    x->tx = "LOGIN";
    x->data = "{\"teller\":\"" TELLER "\",\"password\":\"" PW "\"}";
    x->cseq = "login-1";
    x->keep = keep;
    call_tx(x, x->tx, x->data, x->cseq, &r);
    assert_string_equal(r.code, "OK");
    answer_free(&r);
    loop(x, "LOGIN replayed", true);
}

static void test_logout(void **state)
{
    struct pctx *x = *state;
    activate_tablet(x);
    login_tablet(x);
    x->tx = "LOGOUT";
    x->data = "{}";
    x->cseq = "logout-1";
    loop(x, "LOGOUT", false);
}

/* PASSWORD_CHANGE ends the teller's other tablet sessions (and console
 * ones) in the change's transaction: the template has one more, older. */
static void test_password_change(void **state)
{
    struct pctx *x = *state;
    struct store_conn *c = NULL;
    activate_tablet(x);
    login_tablet(x);
    assert_int_equal(store_acquire(x->a.store, &c), STORE_OK);
    assert_int_equal(
        store_exec(c, "INSERT INTO sessions (sid, bank_id, teller_id, dev, created_at, last_seen, "
                      "idle_ms, expires_at) SELECT '" TABLET_DEV TABLET_DEV
                      "', bank_id, id, '" TABLET_DEV
                      "', 1, 1, 600000, 9000000000000 FROM tellers WHERE code = '" TELLER "'"),
        STORE_OK);
    store_release(c);
    x->tx = "PASSWORD_CHANGE";
    x->data = "{\"old_password\":\"" PW "\",\"new_password\":\"" NEW_PW "\"}";
    x->cseq = "pw-1";
    loop(x, "PASSWORD_CHANGE", true);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_device_activate), T(test_login),           T(test_login_replayed),
        T(test_logout),          T(test_password_change),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
