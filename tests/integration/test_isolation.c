/* Tenant isolation, as a matrix: for every ZY1 transaction and every
 * management endpoint that reads or writes, a teller or administrator of
 * bank B01 names bank B02's ids (teller codes, device ids, branch codes,
 * the bank code, a live session token) and
 *   - gets exactly the answer that naming an id that exists nowhere gets
 *     (not_found on the console; on the channel the transaction's own
 *     "no such thing" answer), so nothing confirms that B02 has it;
 *   - leaves every row of B02 unchanged: a snapshot of all of B02's rows,
 *     every column, read through a store of the test's own on the daemon's
 *     database (SQLite or MariaDB), is compared before and after each request;
 *   - never sees a B02 value in an answer.
 * The same matrix runs for a branch manager against another branch of
 * their own bank.
 *
 * Adding a transaction or an endpoint is adding one row to ZY1_ROWS or
 * API_ROWS; the templates name the other side's ids as $TELLER, $DEV,
 * $BRANCH, $BANK and $SID, and its customer as $CUST (id), $IDNO, $PHONE
 * and $CNAME, its attachment as $ATT, an upload under way as $UPL and a
 * stored content's SM3 as $SM3. Customer and attachment ids are numbered
 * per bank: B02's named ones have ids above any B01 has while the rows
 * naming them run (the ATTACH_BEGIN rows that give B01 uploads come last). */
#include "channel/sm.h"
#include "channel/tx.h"
#include "console.h"
#include "data/store.h"
#include "foundation/codec.h"
#include "tablet.h"
#include "testd.h"
#include "vissue.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PW "Demo@1234"
/* An SM3 no content of either bank has. */
#define GHOST_SM3 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The ids one side of the matrix names. */
struct ids {
    const char *teller, *dev, *branch, *bank, *sid;
    const char *cust, *idno, *phone, *cname; /* a customer: id, ID number, phone, name */
    const char *task;                        /* a visit task's id */
    const char *att, *upl, *sm3;             /* a stored attachment, an upload, an SM3 */
    const char *vch;                         /* a voucher's id ("V<bank>-<n>") */
    const char *biz;                         /* a business (BIZ_*) */
    const char *call;                        /* a remote video call (VIDEO_*) */
};

static struct testd D;
static struct tablet T01;  /* demo01, B01/01: the asking tablet, logged in */
static struct tablet T02;  /* demo02, B01/02: the other branch's tablet */
static struct tablet T03;  /* demo03, B02/01: the other bank's tablet, logged in */
static struct console A01; /* admin01, bank admin of B01 */
static struct console BM1; /* bm01, branch manager of B01/01 */
static struct console A02; /* admin02: B02 has a live console session too */
static struct ids B02;     /* the other bank's ids */
static struct ids BR2;     /* the other branch's ids (B01/02) */
static struct ids GHOST;   /* ids that exist nowhere */
static struct store *DB;   /* the daemon's database, for the snapshots (testd_store_open) */

/* ---- the snapshot ---------------------------------------------------------------- */

static void append(char **buf, size_t *len, const char *s, size_t n)
{
    char *nb = realloc(*buf, *len + n + 1);
    assert_non_null(nb);
    memcpy(nb + *len, s, n);
    *len += n;
    nb[*len] = '\0';
    *buf = nb;
}

/* Columns of table, from the schema (the store API has no column count). */
static int table_cols(struct store_conn *c, const char *table)
{
    struct store_stmt *s = NULL;
    const char *sql = testd_mariadb() ? "SELECT COUNT(*) FROM information_schema.columns "
                                        "WHERE table_schema = DATABASE() AND table_name = ?"
                                      : "SELECT COUNT(*) FROM pragma_table_info(?)";
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_bind_text(s, 1, table), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int n = (int)store_col_int64(s, 0);
    store_finish(s);
    assert_true(n > 0);
    return n;
}

static void append_row(struct store_stmt *s, int ncols, char **buf, size_t *len)
{
    for (int i = 0; i < ncols; i++) {
        size_t n = 0;
        const unsigned char *v = store_col_blob(s, i, &n);
        /* one append per column: a voucher's sealed PDF is ~130 KiB */
        char *hex = malloc(2 * n + 1);
        assert_non_null(hex);
        for (size_t k = 0; v && k < n; k++)
            snprintf(hex + 2 * k, 3, "%02x", v[k]);
        append(buf, len, hex, v ? 2 * n : 0);
        free(hex);
        append(buf, len, i + 1 < ncols ? "|" : "\n", 1);
    }
}

/* Every row of the bank's, every column, in a stable order. */
static char *snapshot(const char *bank_code)
{
    static const struct {
        const char *table, *sql;
    } q[] = {
        {"banks", "SELECT * FROM banks WHERE id = ?"},
        {"branches", "SELECT * FROM branches WHERE bank_id = ? ORDER BY id"},
        {"tellers", "SELECT * FROM tellers WHERE bank_id = ? ORDER BY id"},
        {"devices", "SELECT * FROM devices WHERE bank_id = ? ORDER BY dev"},
        {"activation_tickets", "SELECT * FROM activation_tickets WHERE bank_id = ? ORDER BY id"},
        {"sessions", "SELECT * FROM sessions WHERE bank_id = ? ORDER BY sid"},
        {"admin_sessions", "SELECT * FROM admin_sessions WHERE bank_id = ? ORDER BY sid"},
        {"tx_answers", "SELECT * FROM tx_answers WHERE bank_id = ? ORDER BY dev, tx, cseq"},
        {"audit_log", "SELECT * FROM audit_log WHERE bank_id = ? ORDER BY seq"},
        {"customers", "SELECT * FROM customers WHERE bank_id = ? ORDER BY id"},
        {"customer_history",
         "SELECT * FROM customer_history WHERE bank_id = ? ORDER BY customer_id, version, field"},
        {"tag_defs", "SELECT * FROM tag_defs WHERE bank_id = ? ORDER BY code"},
        {"customer_tags",
         "SELECT * FROM customer_tags WHERE bank_id = ? ORDER BY customer_id, code"},
        {"products", "SELECT * FROM products WHERE bank_id = ? ORDER BY code"},
        {"recommend_feedback", "SELECT * FROM recommend_feedback WHERE bank_id = ? ORDER BY id"},
        {"recommend_stats",
         "SELECT * FROM recommend_stats WHERE bank_id = ? ORDER BY product, tag"},
        {"visit_tasks", "SELECT * FROM visit_tasks WHERE bank_id = ? ORDER BY id"},
        {"visits", "SELECT * FROM visits WHERE bank_id = ? ORDER BY id"},
        {"visit_leads", "SELECT * FROM visit_leads WHERE bank_id = ? ORDER BY id"},
        {"attachments", "SELECT * FROM attachments WHERE bank_id = ? ORDER BY id"},
        {"attach_chunks",
         "SELECT * FROM attach_chunks WHERE bank_id = ? ORDER BY attachment_id, idx"},
        {"attach_links", "SELECT * FROM attach_links WHERE bank_id = ? ORDER BY attachment_id, "
                         "link_kind, link_ref"},
        {"perf_counters", "SELECT * FROM perf_counters WHERE bank_id = ? ORDER BY branch_id, "
                          "teller_id, period_kind, period_start, metric"},
        {"vouchers", "SELECT * FROM vouchers WHERE bank_id = ? ORDER BY id"},
        {"biz", "SELECT * FROM biz WHERE bank_id = ? ORDER BY id"},
        {"biz_steps", "SELECT * FROM biz_steps WHERE bank_id = ? ORDER BY biz_id, idx"},
        {"video_calls", "SELECT * FROM video_calls WHERE bank_id = ? ORDER BY id"},
        {"video_signals", "SELECT * FROM video_signals WHERE bank_id = ? ORDER BY call_id, seq"},
    };
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELECT id FROM banks WHERE code = ?", &s), STORE_OK);
    store_bind_text(s, 1, bank_code);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t bank = store_col_int64(s, 0);
    store_finish(s);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        int ncols = table_cols(c, q[i].table);
        assert_int_equal(store_prepare(c, q[i].sql, &s), STORE_OK);
        store_bind_int64(s, 1, bank);
        append(&buf, &len, q[i].sql, strlen(q[i].sql));
        append(&buf, &len, "\n", 1);
        int rc;
        while ((rc = store_step(s)) == STORE_ROW)
            append_row(s, ncols, &buf, &len);
        assert_int_equal(rc, STORE_DONE);
        store_finish(s);
    }
    store_release(c);
    return buf;
}

/* The rows of one branch only (tellers, their devices and tickets). */
static char *branch_snapshot(const char *bank_code, const char *branch_code)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    char *buf = NULL;
    size_t len = 0;
    static const char sql[] =
        "SELECT t.*, d.*, a.* FROM tellers t JOIN branches br ON br.id = t.branch_id "
        "JOIN banks b ON b.id = br.bank_id LEFT JOIN devices d ON d.teller_id = t.id "
        "LEFT JOIN activation_tickets a ON a.teller_id = t.id "
        "WHERE b.code = ? AND br.code = ? ORDER BY t.id, d.dev, a.id";
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    int ncols =
        table_cols(c, "tellers") + table_cols(c, "devices") + table_cols(c, "activation_tickets");
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    store_bind_text(s, 1, bank_code);
    store_bind_text(s, 2, branch_code);
    append(&buf, &len, "", 0);
    int rc;
    while ((rc = store_step(s)) == STORE_ROW)
        append_row(s, ncols, &buf, &len);
    assert_int_equal(rc, STORE_DONE);
    store_finish(s);
    store_release(c);
    return buf;
}

/* ---- templates --------------------------------------------------------------- */

/* tmpl with $TELLER, $DEV, $BRANCH, $BANK, $SID replaced by ids'. */
static char *fill(const char *tmpl, const struct ids *ids)
{
    const struct {
        const char *key, *val;
    } subs[] = {{"$TELLER", ids->teller}, {"$DEV", ids->dev},     {"$BRANCH", ids->branch},
                {"$BANK", ids->bank},     {"$SID", ids->sid},     {"$CUST", ids->cust},
                {"$IDNO", ids->idno},     {"$PHONE", ids->phone}, {"$CNAME", ids->cname},
                {"$TASK", ids->task},     {"$ATT", ids->att},     {"$UPL", ids->upl},
                {"$SM3", ids->sm3},       {"$VCH", ids->vch},     {"$BIZ", ids->biz},
                {"$CALL", ids->call}};
    char *out = NULL;
    size_t len = 0;
    append(&out, &len, "", 0);
    for (const char *p = tmpl; p && *p;) {
        size_t i = 0;
        while (i < sizeof subs / sizeof subs[0] && strncmp(p, subs[i].key, strlen(subs[i].key)))
            i++;
        if (i < sizeof subs / sizeof subs[0]) {
            append(&out, &len, subs[i].val, strlen(subs[i].val));
            p += strlen(subs[i].key);
        } else {
            append(&out, &len, p++, 1);
        }
    }
    return out;
}

/* Fails if text shows any of the other side's values. */
static void shows_nothing_of(const char *what, const char *text, const struct ids *other,
                             const char *const *extra)
{
    const char *vals[] = {other->teller, other->dev, other->sid, other->vch, NULL};
    for (size_t i = 0; vals[i]; i++)
        if (text && strstr(text, vals[i]))
            fail_msg("%s: the answer shows %s: %s", what, vals[i], text);
    for (size_t i = 0; extra && extra[i]; i++)
        if (text && strstr(text, extra[i]))
            fail_msg("%s: the answer shows %s: %s", what, extra[i], text);
}

static const char *const B02_VALUES[] = {"\"B02\"", "demo03", "demo04", "admin02", "绿水", NULL};

/* ---- ZY1 ---------------------------------------------------------------------- */

enum via {
    VIA_DATA, /* the ids are in payload.data */
    VIA_SID,  /* payload.sid is $SID */
    VIA_TLR,  /* DEVICE_ACTIVATE: the envelope's tlr is $TELLER */
    VIA_DEV,  /* DEVICE_ACTIVATE with a live ticket of our own: the envelope's dev is $DEV */
};

struct zy1_row {
    const char *tx;
    enum via via;
    const char *data; /* template */
    const char *want; /* the answer's code (sealed or plain) */
    bool ghost;       /* the same answer for ids that exist nowhere */
};

static const struct zy1_row ZY1_ROWS[] = {
    {"SESSION_INFO", VIA_SID, NULL, "session_invalid", true},
    {"SESSION_INFO", VIA_DATA, "{\"teller\":\"$TELLER\"}", "bad_request", true},
    {"PASSWORD_CHANGE", VIA_SID, "{\"old_password\":\"" PW "\",\"new_password\":\"Other@12345\"}",
     "session_invalid", true},
    {"PASSWORD_CHANGE", VIA_DATA,
     "{\"teller\":\"$TELLER\",\"old_password\":\"" PW "\",\"new_password\":\"Other@12345\"}",
     "bad_request", true},
    {"LOGOUT", VIA_SID, NULL, "session_invalid", true},
    {"LOGOUT", VIA_DATA, "{\"sid\":\"$SID\"}", "bad_request", true},
    {"LOGIN", VIA_DATA, "{\"teller\":\"$TELLER\",\"password\":\"" PW "\"}", "device_not_bound",
     true},
    {"DEVICE_ACTIVATE", VIA_TLR, NULL, "device_unknown", true},
    /* An unknown dev is simply a new tablet: no ghost to compare with. */
    {"DEVICE_ACTIVATE", VIA_DEV, NULL, "device_conflict", false},
    /* Customers: another bank's customer is one that does not exist. */
    {"CUSTOMER_GET", VIA_DATA, "{\"customer_id\":$CUST}", "customer_not_found", true},
    {"CUSTOMER_GET", VIA_SID, "{\"customer_id\":$CUST}", "session_invalid", true},
    {"CUSTOMER_UPDATE", VIA_DATA,
     "{\"customer_id\":$CUST,\"version\":1,\"name\":\"改名\",\"phone\":\"$PHONE\"}",
     "customer_not_found", true},
    {"CUSTOMER_SEARCH", VIA_DATA, "{\"id_no\":\"$IDNO\"}", "OK", true},
    {"CUSTOMER_SEARCH", VIA_DATA, "{\"phone\":\"$PHONE\"}", "OK", true},
    {"CUSTOMER_SEARCH", VIA_DATA, "{\"name\":\"$CNAME\"}", "OK", true},
    /* Prefill: B02's customer is no customer of B01's (no customer_id,
     * checked in zy1_matrix); the CIS is not configured here: manual. */
    {"CUSTOMER_PREFILL", VIA_DATA, "{\"id_no\":\"$IDNO\"}", "OK", true},
    {"CUSTOMER_PREFILL", VIA_SID, "{\"id_no\":\"$IDNO\"}", "session_invalid", true},
    /* One customer per ID number per bank: B02's number is free in B01
     * (customer_exists would tell that B02 has it). */
    {"CUSTOMER_CREATE", VIA_DATA, "{\"kind\":\"person\",\"name\":\"隔离\",\"id_no\":\"$IDNO\"}",
     "OK", true},
    /* Tags and recommendations: B02's customer is one that does not exist;
     * B02's own catalog (a tag named 绿水...) never shows in B01's. */
    {"TAG_CATALOG", VIA_DATA, NULL, "OK", true},
    {"TAG_SET", VIA_DATA, "{\"customer_id\":$CUST,\"tag\":\"vip\"}", "customer_not_found", true},
    {"TAG_CLEAR", VIA_DATA, "{\"customer_id\":$CUST,\"tag\":\"green_vip\"}", "customer_not_found",
     true},
    {"TAG_LIST", VIA_DATA, "{\"customer_id\":$CUST}", "customer_not_found", true},
    {"RECOMMEND_LIST", VIA_DATA, "{\"customer_id\":$CUST}", "customer_not_found", true},
    {"RECOMMEND_FEEDBACK", VIA_DATA,
     "{\"customer_id\":$CUST,\"product\":\"loan\",\"verdict\":\"declined\"}", "customer_not_found",
     true},
    /* Visits: B02's task (assigned to demo03 by B02's branch manager) and
     * customer are ones that do not exist; the list shows none of B02's. */
    {"VISIT_CHECKIN", VIA_DATA,
     "{\"task_id\":$TASK,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\",\"notes\":\"x\"}",
     "visit_task_not_found", true},
    {"VISIT_CHECKIN", VIA_DATA,
     "{\"customer_id\":$CUST,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\",\"notes\":\"x\"}",
     "customer_not_found", true},
    {"VISIT_CHECKIN", VIA_SID,
     "{\"task_id\":$TASK,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\",\"notes\":\"x\"}",
     "session_invalid", true},
    {"VISIT_TASKS", VIA_DATA, "{}", "OK", true},
    {"VISIT_HISTORY", VIA_DATA, "{\"customer_id\":$CUST}", "customer_not_found", true},
    {"VISIT_HISTORY", VIA_SID, "{\"customer_id\":$CUST}", "session_invalid", true},
    /* Device management: another bank's session is none (B01's own policy
     * is shown to B01's device only: it_mdm). */
    {"DEVICE_CHECKIN", VIA_SID,
     "{\"os\":\"12\",\"app_version\":\"1.2.0\",\"security\":{\"rooted\":false}}", "session_invalid",
     true},
    /* The app store: another bank's session is none; B02's packages are
     * never offered to B01's device (it_appstore). */
    {"APP_LATEST", VIA_SID, "{\"app\":\"zhanye.tablet\",\"version\":\"1.0.0\"}", "session_invalid",
     true},
    {"APP_LATEST", VIA_DATA, "{\"app\":\"zhanye.tablet\",\"version\":\"1.0.0\"}", "OK", true},
    /* A command is this device's, of this bank, or none (ids per bank:
     * it_mdm acknowledges another device's and another bank's). */
    {"DEVICE_COMMAND_ACK", VIA_DATA, "{\"id\":1,\"result\":\"done\"}", "not_found", true},
    {"DEVICE_COMMAND_ACK", VIA_SID, "{\"id\":1,\"result\":\"done\"}", "session_invalid", true},
    /* Performance: B01's figures count none of B02's work (shows_nothing
     * and perf_counts_nothing_of_b02 below); another's session is none. */
    {"PERF_SUMMARY", VIA_DATA, "{\"period\":\"month\"}", "OK", true},
    {"PERF_SUMMARY", VIA_DATA, "{\"period\":\"day\",\"scope\":\"branch\"}", "forbidden", true},
    {"PERF_SUMMARY", VIA_SID, "{\"period\":\"day\"}", "session_invalid", true},
    {"VISIT_TASKS", VIA_SID, "{}", "session_invalid", true},
    /* Attachments: another bank's upload or attachment is one that does
     * not exist; its customer is no customer to link to. */
    {"ATTACH_GET", VIA_DATA, "{\"attachment_id\":$ATT}", "attach_not_found", true},
    {"ATTACH_GET", VIA_SID, "{\"attachment_id\":$ATT}", "session_invalid", true},
    {"ATTACH_STATUS", VIA_DATA, "{\"upload_id\":$UPL}", "attach_not_found", true},
    {"ATTACH_CHUNK", VIA_DATA, "{\"upload_id\":$UPL,\"index\":0,\"data\":\"JVBERi0x\"}",
     "attach_not_found", true},
    {"ATTACH_END", VIA_DATA, "{\"upload_id\":$UPL}", "attach_not_found", true},
    {"ATTACH_END", VIA_DATA, "{\"upload_id\":$ATT}", "attach_not_found", true},
    {"ATTACH_LIST", VIA_DATA, "{\"customer_id\":$CUST}", "OK", true},
    {"ATTACH_LIST", VIA_DATA, "{\"business\":\"ISO-B02\"}", "OK", true},
    {"ATTACH_BEGIN", VIA_DATA,
     "{\"kind\":\"document\",\"name\":\"iso.pdf\",\"size\":40,\"sm3\":\"" GHOST_SM3
     "\",\"link\":{\"customer_id\":$CUST}}",
     "customer_not_found", true},
    /* Vouchers: another bank's voucher is one that does not exist; B01's
     * list shows none of B02's (B01 has none: "items":[] ). */
    {"VOUCHER_GET", VIA_DATA, "{\"voucher_id\":\"$VCH\"}", "voucher_not_found", true},
    {"VOUCHER_GET", VIA_SID, "{\"voucher_id\":\"$VCH\"}", "session_invalid", true},
    {"VOUCHER_VERIFY", VIA_DATA, "{\"voucher_id\":\"$VCH\"}", "voucher_not_found", true},
    {"VOUCHER_LIST", VIA_DATA, "{}", "OK", true},
    {"VOUCHER_LIST", VIA_SID, "{}", "session_invalid", true},
    /* Business workflows: B02's business is one that does not exist; B01's
     * list shows none of B02's (B01 has none while the matrix runs). */
    {"BIZ_GET", VIA_DATA, "{\"biz_id\":$BIZ}", "biz_not_found", true},
    {"BIZ_GET", VIA_SID, "{\"biz_id\":$BIZ}", "session_invalid", true},
    {"BIZ_STEP", VIA_DATA,
     "{\"biz_id\":$BIZ,\"step\":\"customer\",\"input\":{\"mobile\":\"$PHONE\"}}", "biz_not_found",
     true},
    {"BIZ_STEP", VIA_SID, "{\"biz_id\":$BIZ,\"step\":\"idcard\",\"input\":{}}", "session_invalid",
     true},
    {"BIZ_CANCEL", VIA_DATA, "{\"biz_id\":$BIZ}", "biz_not_found", true},
    {"BIZ_LIST", VIA_DATA, "{}", "OK", true},
    {"BIZ_LIST", VIA_DATA, "{\"status\":\"open\",\"kind\":\"debit_card\"}", "OK", true},
    {"BIZ_START", VIA_SID, "{\"kind\":\"debit_card\"}", "session_invalid", true},
    /* Remote video: B02's call, customer and business are ones that do not
     * exist (B01 has no call while the matrix runs). */
    {"VIDEO_CALL_REQUEST", VIA_DATA, "{\"reason\":\"x\",\"customer_id\":$CUST}",
     "customer_not_found", true},
    {"VIDEO_CALL_REQUEST", VIA_DATA, "{\"reason\":\"x\",\"biz_id\":$BIZ}", "biz_not_found", true},
    {"VIDEO_CALL_REQUEST", VIA_SID, "{\"reason\":\"x\"}", "session_invalid", true},
    {"VIDEO_CALL_STATUS", VIA_DATA, "{\"call_id\":$CALL}", "video_call_not_found", true},
    {"VIDEO_CALL_STATUS", VIA_SID, "{\"call_id\":$CALL}", "session_invalid", true},
    {"VIDEO_SIGNAL", VIA_DATA, "{\"call_id\":$CALL,\"kind\":\"offer\",\"payload\":\"x\"}",
     "video_call_not_found", true},
    {"VIDEO_CALL_END", VIA_DATA, "{\"call_id\":$CALL}", "video_call_not_found", true},
    {"VIDEO_RECORD_JOIN", VIA_DATA, "{\"call_id\":$CALL,\"sdp\":\"v=0\"}", "video_call_not_found",
     true},
    {"VIDEO_RECORD_JOIN", VIA_SID, "{\"call_id\":$CALL,\"sdp\":\"v=0\"}", "session_invalid", true},
    /* Dedup never crosses banks: B02's content is new to B01 (an upload of
     * its own, not B02's attachment). Last: it gives B01 uploads. */
    {"ATTACH_BEGIN", VIA_DATA,
     "{\"kind\":\"document\",\"name\":\"iso.pdf\",\"size\":40,\"sm3\":\"$SM3\","
     "\"link\":{\"business\":\"ISO-B01\"}}",
     "OK", true},
};

/* The code of the plain error in j, or "". */
static const char *plain_code(json_t *j)
{
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    return c ? c : "";
}

static void call_tx(struct tablet *t, const char *tx, const char *data, char *code, size_t cap,
                    char **text)
{
    long st = 0;
    json_t *plain = NULL;
    json_t *ans = tablet_call(t, tx, data, NULL, &st, &plain);
    snprintf(code, cap, "%s", ans ? answer_code(ans) : plain_code(plain));
    *text = json_dumps(ans ? ans : plain, JSON_COMPACT);
    json_decref(ans);
    json_decref(plain);
}

/* DEVICE_ACTIVATE from a fresh tablet object whose dev may be forced. */
static void activate(const char *teller, const char *code, const char *dev, char *answer,
                     size_t cap)
{
    struct tablet t;
    assert_int_equal(tablet_new(&t, &D, teller), 0);
    if (dev)
        snprintf(t.st.dev, sizeof t.st.dev, "%s", dev);
    tablet_reactivate(&t, teller, code, answer, cap);
    tablet_free(&t);
}

/* Runs one row naming ids; code gets the answer's code, *text the answer. */
static void zy1_run(const struct zy1_row *row, const struct ids *ids, char *code, size_t cap,
                    char **text)
{
    char act[32];
    char *data = row->data ? fill(row->data, ids) : NULL;
    struct tablet t = T01;
    *text = NULL;
    switch (row->via) {
    case VIA_DATA:
        call_tx(&T01, row->tx, data, code, cap, text);
        break;
    case VIA_SID:
        snprintf(t.sid, sizeof t.sid, "%s", ids->sid);
        call_tx(&t, row->tx, data, code, cap, text);
        break;
    case VIA_TLR:
        activate(ids->teller, "ABCD-EFGH", NULL, code, cap);
        break;
    case VIA_DEV:
        assert_int_equal(tablet_issue_code(&D, "cm_iso", act, sizeof act), 0);
        activate("cm_iso", act, ids->dev, code, cap);
        /* Refused before anything was written: the ticket is still good. */
        if (ids == &B02) {
            char again[32];
            activate("cm_iso", act, NULL, again, sizeof again);
            assert_string_equal(again, "OK");
        }
        break;
    }
    free(data);
}

static void zy1_matrix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ZY1_ROWS / sizeof ZY1_ROWS[0]; i++) {
        const struct zy1_row *row = &ZY1_ROWS[i];
        char got[64], ghost[64];
        char *text = NULL, *gtext = NULL;
        char *before = snapshot("B02");
        zy1_run(row, &B02, got, sizeof got, &text);
        char *after = snapshot("B02");
        if (strcmp(got, row->want) != 0)
            fail_msg("%s row %zu naming B02: got %s, want %s", row->tx, i, got, row->want);
        if (strcmp(before, after) != 0)
            fail_msg("%s row %zu changed rows of B02", row->tx, i);
        shows_nothing_of(row->tx, text, &B02, B02_VALUES);
        if (text && (strstr(text, "\"items\":[{") || strstr(text, "\"stored\"")))
            fail_msg("%s row %zu: B02's customer found: %s", row->tx, i, text);
        if (text && strcmp(row->tx, "CUSTOMER_PREFILL") == 0 && strstr(text, "\"customer_id\""))
            fail_msg("%s row %zu: B02's customer named: %s", row->tx, i, text);
        if (row->ghost) {
            zy1_run(row, &GHOST, ghost, sizeof ghost, &gtext);
            if (strcmp(got, ghost) != 0)
                fail_msg("%s row %zu: B02's ids give %s, unknown ids %s", row->tx, i, got, ghost);
        }
        free(before);
        free(after);
        free(text);
        free(gtext);
    }
    /* The asking tablet's own session is untouched by all of it. */
    long st;
    json_t *a = tablet_call(&T01, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "OK");
    json_decref(a);
}

/* Every registered TX has at least one row: a new TX cannot be forgotten. */
static void zy1_rows_cover_every_tx(void **state)
{
    (void)state;
    size_t n = 0;
    const struct tx_def *const *all = tx_all(&n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < sizeof ZY1_ROWS / sizeof ZY1_ROWS[0]; k++)
            found = found || strcmp(ZY1_ROWS[k].tx, all[i]->code) == 0;
        if (!found)
            fail_msg("no isolation row for the transaction %s", all[i]->code);
    }
}

/* ---- the management API ------------------------------------------------------------ */

struct want {
    long status;
    const char *err;
};

enum matrix {
    BANK = 1,   /* naming another bank's ids */
    BRANCH = 2, /* a branch manager naming another branch's ids of the same bank */
};

struct api_row {
    const char *method, *path, *body; /* templates; body NULL for GET */
    struct want bank_admin;           /* admin01 naming B02's ids ({0}: not run) */
    struct want branch_manager;       /* bm01 naming B02's or B01/02's ids */
    int matrices;                     /* enum matrix bits */
};

#define NF                                                                                         \
    {                                                                                              \
        404, "not_found"                                                                           \
    }
#define FORBIDDEN                                                                                  \
    {                                                                                              \
        403, "forbidden"                                                                           \
    }

static const struct api_row API_ROWS[] = {
    {"GET", "/api/v1/admin/tellers?bank=$BANK", NULL, NF, NF, BANK},
    {"GET", "/api/v1/admin/branches?bank=$BANK", NULL, NF, NF, BANK},
    {"GET", "/api/v1/admin/devices?bank=$BANK", NULL, NF, NF, BANK},
    {"GET", "/api/v1/admin/audit/records?bank=$BANK", NULL, NF, NF, BANK},
    /* Branch managers add no branches at all: the same 403 whatever is named. */
    {"POST", "/api/v1/admin/branches", "{\"bank\":\"$BANK\",\"code\":\"77\",\"name\":\"x\"}", NF,
     FORBIDDEN, BANK},
    {"POST", "/api/v1/admin/tellers",
     "{\"bank\":\"$BANK\",\"branch\":\"$BRANCH\",\"code\":\"iso77\",\"name\":\"x\",\"role\":"
     "\"client_manager\",\"password\":\"" PW "\"}",
     NF, NF, BANK},
    /* Within the bank a bank admin may use any branch: branch matrix only. */
    {"POST",
     "/api/v1/admin/tellers",
     "{\"branch\":\"$BRANCH\",\"code\":\"iso78\",\"name\":\"x\",\"role\":\"client_manager\","
     "\"password\":\"" PW "\"}",
     {0, NULL},
     NF,
     BRANCH},
    {"POST", "/api/v1/admin/tellers/disable", "{\"teller\":\"$TELLER\"}", NF, NF, BANK | BRANCH},
    {"POST", "/api/v1/admin/tellers/enable", "{\"teller\":\"$TELLER\"}", NF, NF, BANK | BRANCH},
    {"POST", "/api/v1/admin/tellers/reset-password",
     "{\"teller\":\"$TELLER\",\"password\":\"Taken@12345\"}", NF, NF, BANK | BRANCH},
    {"POST", "/api/v1/admin/devices/revoke", "{\"dev\":\"$DEV\"}", NF, NF, BANK | BRANCH},
    {"POST", "/api/v1/admin/devices/unbind", "{\"dev\":\"$DEV\"}", NF, NF, BANK | BRANCH},
    {"POST", "/api/v1/admin/tickets", "{\"teller\":\"$TELLER\"}", NF, NF, BANK | BRANCH},
    /* The catalogs: a branch manager loads none (403 whatever is named). */
    {"GET", "/api/v1/admin/catalog?bank=$BANK", NULL, NF, NF, BANK},
    {"POST", "/api/v1/admin/catalog", "{\"bank\":\"$BANK\",\"tags\":[]}", NF, FORBIDDEN, BANK},
    /* Visit tasks: branch managers only (a bank admin is refused whatever is
     * named); another branch's or bank's client manager is nobody. */
    {"POST", "/api/v1/admin/visits/tasks", "{\"teller\":\"$TELLER\",\"customer_id\":1}", FORBIDDEN,
     NF, BANK | BRANCH},
    /* Performance: another bank is one that does not exist. */
    {"GET", "/api/v1/admin/reports/performance?period=day&bank=$BANK", NULL, NF, NF, BANK},
    /* B01's own client manager and B02's customer: no such customer. */
    {"POST",
     "/api/v1/admin/visits/tasks",
     "{\"teller\":\"demo01\",\"customer_id\":$CUST}",
     {0, NULL},
     {404, "customer_not_found"},
     BANK},
};

static long api_call(struct console *c, const struct api_row *row, const struct ids *ids,
                     json_t **out)
{
    char *path = fill(row->path, ids);
    char *body = row->body ? fill(row->body, ids) : NULL;
    long st = body ? console_post(c, path, body, out) : console_get(c, path, out);
    free(path);
    free(body);
    return st;
}

/* Runs the rows as one actor against other's ids; snap takes the other side's rows. */
static void api_matrix(struct console *c, const char *actor, enum matrix m, const struct ids *other,
                       char *(*snap)(void))
{
    for (size_t i = 0; i < sizeof API_ROWS / sizeof API_ROWS[0]; i++) {
        const struct api_row *row = &API_ROWS[i];
        const struct want *w =
            strcmp(actor, "admin01") == 0 ? &row->bank_admin : &row->branch_manager;
        if (!(row->matrices & m) || !w->status)
            continue;
        json_t *a = NULL, *g = NULL;
        char *before = snap();
        long st = api_call(c, row, other, &a);
        char *after = snap();
        long gst = api_call(c, row, &GHOST, &g);
        char *text = json_dumps(a, JSON_COMPACT);
        if (st != w->status || strcmp(console_err(a), w->err) != 0)
            fail_msg("%s %s %s as %s: got %ld %s, want %ld %s", row->method, row->path,
                     row->body ? row->body : "", actor, st, console_err(a), w->status, w->err);
        if (st != gst || strcmp(console_err(a), console_err(g)) != 0)
            fail_msg("%s %s as %s: the other side's ids give %ld, unknown ids %ld", row->method,
                     row->path, actor, st, gst);
        if (strcmp(before, after) != 0)
            fail_msg("%s %s as %s changed the other side's rows", row->method, row->path, actor);
        shows_nothing_of(row->path, text, other, NULL);
        free(text);
        free(before);
        free(after);
        json_decref(a);
        json_decref(g);
    }
}

static char *snap_b02(void)
{
    return snapshot("B02");
}

static char *snap_b01_02(void)
{
    return branch_snapshot("B01", "02");
}

static void api_matrix_bank_admin(void **state)
{
    (void)state;
    api_matrix(&A01, "admin01", BANK, &B02, snap_b02);
}

static void api_matrix_branch_manager(void **state)
{
    (void)state;
    api_matrix(&BM1, "bm01", BANK, &B02, snap_b02);
    /* ...and the other branch of the same bank is as foreign as another bank. */
    api_matrix(&BM1, "bm01", BRANCH, &BR2, snap_b01_02);
}

/* Lists and answers of B01 show nothing of B02. */
static void lists_show_nothing_of_b02(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "/api/v1/admin/banks",
        "/api/v1/admin/branches",
        "/api/v1/admin/tellers",
        "/api/v1/admin/devices",
        "/api/v1/admin/audit/records",
        "/api/v1/admin/me",
        "/api/v1/admin/audit/records?limit=500",
        "/api/v1/admin/reports/performance?period=month",
    };
    struct console *actors[] = {&A01, &BM1};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            json_t *a = NULL;
            assert_int_equal(console_get(actors[k], paths[i], &a), 200);
            char *text = json_dumps(a, JSON_COMPACT);
            shows_nothing_of(paths[i], text, &B02, B02_VALUES);
            if (actors[k] == &BM1)
                shows_nothing_of(paths[i], text, &BR2, NULL);
            free(text);
            json_decref(a);
        }
    long st;
    json_t *a = tablet_call(&T01, "SESSION_INFO", NULL, NULL, &st, NULL);
    char *text = json_dumps(a, JSON_COMPACT);
    shows_nothing_of("SESSION_INFO", text, &B02, B02_VALUES);
    free(text);
    json_decref(a);
    /* B02's own sessions are alive after everything above. */
    a = tablet_call(&T03, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "OK");
    json_decref(a);
    assert_int_equal(console_get(&A02, "/api/v1/admin/me", NULL), 200);
}

/* B01's own customers (all demo01's: the matrix's CUSTOMER_CREATE rows). */
static int64_t b01_customers(void)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c,
                                   "SELECT COUNT(*) FROM customers c JOIN banks b ON b.id = "
                                   "c.bank_id WHERE b.code = 'B01'",
                                   &s),
                     STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

static int64_t created_this_month(struct tablet *t)
{
    long st;
    json_t *a = tablet_call(t, "PERF_SUMMARY", "{\"period\":\"month\"}", NULL, &st, NULL);
    assert_string_equal(answer_code(a), "OK");
    int64_t n = json_integer_value(json_object_get(
        json_object_get(json_object_get(a, "data"), "current"), "customers_created"));
    json_decref(a);
    return n;
}

/* B01's figures count B01's work only; B02's five customers are B02's. */
static void perf_counts_nothing_of_b02(void **state)
{
    (void)state;
    assert_int_equal(created_this_month(&T01), b01_customers());
    assert_int_equal(created_this_month(&T03), 5);
    json_t *a = NULL;
    assert_int_equal(console_get(&A01, "/api/v1/admin/reports/performance?period=month", &a), 200);
    json_t *b = json_array_get(json_object_get(a, "banks"), 0);
    assert_int_equal(json_array_size(json_object_get(a, "banks")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(b, "current"), "customers_created")),
        b01_customers());
    json_decref(a);
}

/* ---- fixture ------------------------------------------------------------------------ */

static void console_login_or_die(struct console *c, const char *teller)
{
    if (console_login(c, &D, teller, PW) != 200)
        fail_msg("console login %s", teller);
}

/* B02's customers: the last one is named by the matrix. Its id (5) is above
 * any B01 has then (the CUSTOMER_CREATE row adds two to B01's none). */
#define B02_CUST "5"
#define B02_IDNO "330102199001011234"
#define B02_PHONE "13612345678"
#define B02_CNAME "绿水孙大娘"
#define GHOST_IDNO "11010519491231002X"
#define GHOST_PHONE "13599998888"
/* B02's attachments: an upload under way (1), a stored one (2). */
#define B02_UPL "1"
#define B02_ATT "2"
static char B02_SM3[65];
/* B02's voucher, issued as the workflow engine issues one (vissue.h). */
static char B02_VCH[48];
#define GHOST_VCH "V999-000001"

static int b02_voucher(void)
{
    int64_t bank = 0, branch = 0, teller = 0;
    if (vissue_open(D.dir) || vissue_teller(DB, "demo03", &bank, &branch, &teller))
        return -1;
    return vissue(DB, bank, branch, teller, "agency", "ISO-B02-V1", atoi(B02_CUST), 1796000000000LL,
                  B02_VCH);
}

/* One attachment of B02 linked to business ISO-B02; end: stored, else left
 * under way. Its id, or -1. */
static int64_t b02_attachment(const char *content, bool end, char sm3[65])
{
    uint8_t d[SM3_LEN];
    char b64[128], data[512];
    size_t n = strlen(content);
    sm_part part = {content, n};
    long st;
    if (sm3_digest(&part, 1, d) != SM_OK || hex_encode(d, sizeof d, sm3, 65) != 64 ||
        b64_encode((const uint8_t *)content, n, b64, sizeof b64) < 0)
        return -1;
    snprintf(data, sizeof data,
             "{\"kind\":\"document\",\"name\":\"绿水合同.pdf\",\"size\":%zu,\"sm3\":\"%s\","
             "\"link\":{\"business\":\"ISO-B02\"}}",
             n, sm3);
    json_t *a = tablet_call(&T03, "ATTACH_BEGIN", data, NULL, &st, NULL);
    int64_t id = json_integer_value(json_object_get(json_object_get(a, "data"), "upload_id"));
    bool ok = a && strcmp(answer_code(a), "OK") == 0;
    json_decref(a);
    snprintf(data, sizeof data, "{\"upload_id\":%lld,\"index\":0,\"data\":\"%s\"}", (long long)id,
             b64);
    a = ok ? tablet_call(&T03, "ATTACH_CHUNK", data, NULL, &st, NULL) : NULL;
    ok = a && strcmp(answer_code(a), "OK") == 0;
    json_decref(a);
    if (ok && end) {
        snprintf(data, sizeof data, "{\"upload_id\":%lld}", (long long)id);
        a = tablet_call(&T03, "ATTACH_END", data, NULL, &st, NULL);
        ok = a && strcmp(answer_code(a), "OK") == 0;
        json_decref(a);
    }
    return ok ? id : -1;
}

static int b02_customers(void)
{
    static const char *const ids[] = {"330102199104050017", "330102199104050025",
                                      "330102199104050033", "330102199002280014"};
    char data[256];
    long st;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(data, sizeof data, "{\"kind\":\"person\",\"name\":\"绿水%zu\",\"id_no\":\"%s\"}",
                 i, ids[i]);
        json_t *a = tablet_call(&T03, "CUSTOMER_CREATE", data, NULL, &st, NULL);
        bool ok = a && strcmp(answer_code(a), "OK") == 0;
        json_decref(a);
        if (!ok)
            return -1;
    }
    json_t *a = tablet_call(&T03, "CUSTOMER_CREATE",
                            "{\"kind\":\"person\",\"name\":\"" B02_CNAME "\",\"id_no\":\"" B02_IDNO
                            "\",\"phone\":\"" B02_PHONE "\"}",
                            NULL, &st, NULL);
    bool ok = a && strcmp(answer_code(a), "OK") == 0 &&
              json_integer_value(json_object_get(json_object_get(a, "data"), "customer_id")) ==
                  atoi(B02_CUST);
    json_decref(a);
    return ok ? 0 : -1;
}

/* B02's own catalog, and its customer tagged and given feedback. */
static int b02_catalog(void)
{
    long st;
    if (console_post(&A02, "/api/v1/admin/catalog",
                     "{\"tags\":[{\"code\":\"green_vip\",\"name\":\"绿水贵宾\",\"kind\":"
                     "\"manual\"},{\"code\":\"green_old\",\"name\":\"绿水长者\",\"kind\":"
                     "\"rule\",\"rule\":\"age >= 30\"}],\"products\":[{\"code\":\"loan\","
                     "\"name\":\"绿水贷\",\"category\":\"loan\",\"targets\":{\"green_old\":"
                     "50}}]}",
                     NULL) != 200)
        return -1;
    static const char *const calls[][2] = {
        {"TAG_SET", "{\"customer_id\":" B02_CUST ",\"tag\":\"green_vip\"}"},
        {"RECOMMEND_FEEDBACK",
         "{\"customer_id\":" B02_CUST ",\"product\":\"loan\",\"verdict\":\"declined\"}"},
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *a = tablet_call(&T03, calls[i][0], calls[i][1], NULL, &st, NULL);
        bool ok = a && strcmp(answer_code(a), "OK") == 0;
        json_decref(a);
        if (!ok)
            return -1;
    }
    return 0;
}

/* A business of B02's (demo03's): its id (1) is named by the matrix. */
#define B02_BIZ "1"

static int b02_business(void)
{
    long st = 0;
    json_t *a = tablet_call(&T03, "BIZ_START", "{\"kind\":\"debit_card\"}", NULL, &st, NULL);
    bool ok =
        a && strcmp(answer_code(a), "OK") == 0 &&
        json_integer_value(json_object_get(json_object_get(a, "data"), "biz_id")) == atoi(B02_BIZ);
    json_decref(a);
    return ok ? 0 : -1;
}

/* A visit task of B02's: demo03's, given by B02's branch manager. Its id
 * (1) is named by the matrix; B01 has no task while the matrix runs. */
#define B02_TASK "1"

static int b02_task(void)
{
    struct console a2 = {0}, bm2 = {0};
    if (console_login(&a2, &D, "admin02", PW) != 200 ||
        console_post(&a2, "/api/v1/admin/tellers",
                     "{\"branch\":\"01\",\"code\":\"bm02\",\"name\":\"南湖负责人\",\"role\":"
                     "\"branch_manager\",\"password\":\"" PW "\"}",
                     NULL) != 201 ||
        console_login(&bm2, &D, "bm02", PW) != 200)
        return -1;
    json_t *a = NULL;
    long st = console_post(
        &bm2, "/api/v1/admin/visits/tasks",
        "{\"teller\":\"demo03\",\"customer_id\":" B02_CUST ",\"lat\":30.2,\"lon\":120.1}", &a);
    bool ok = st == 201 && json_integer_value(json_object_get(json_object_get(a, "task"),
                                                              "task_id")) == atoi(B02_TASK);
    json_decref(a);
    return ok ? 0 : -1;
}

/* A remote video call of B02's (demo03's), waiting: its id (1) is named by the matrix. */
#define B02_CALL "1"

static int b02_call(void)
{
    long st = 0;
    json_t *a = tablet_call(&T03, "VIDEO_CALL_REQUEST", "{\"reason\":\"B02\"}", NULL, &st, NULL);
    bool ok = a && strcmp(answer_code(a), "OK") == 0 &&
              json_integer_value(json_object_get(json_object_get(a, "data"), "call_id")) ==
                  atoi(B02_CALL);
    json_decref(a);
    return ok ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    static char sid_ghost[65], dev_ghost[33];
    char code[32];
    if (testd_init(&D, NULL) || testd_start(&D))
        return -1;
    if (testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T01, &D, "demo01") || tablet_login(&T01, "demo01", PW) ||
        tablet_activate(&T02, &D, "demo02") || tablet_activate(&T03, &D, "demo03") ||
        tablet_login(&T03, "demo03", PW) || tablet_issue_code(&D, "demo04", code, sizeof code))
        return -1;
    console_login_or_die(&A01, "admin01");
    console_login_or_die(&A02, "admin02");
    if (console_post(&A01, "/api/v1/admin/tellers",
                     "{\"branch\":\"01\",\"code\":\"bm01\",\"name\":\"城关负责人\",\"role\":"
                     "\"branch_manager\",\"password\":\"" PW "\"}",
                     NULL) != 201 ||
        console_post(&A01, "/api/v1/admin/tellers",
                     "{\"branch\":\"01\",\"code\":\"cm_iso\",\"name\":\"隔离测试\",\"role\":"
                     "\"client_manager\",\"password\":\"" PW "\"}",
                     NULL) != 201)
        return -1;
    console_login_or_die(&BM1, "bm01");
    char upl_sm3[65];
    if (b02_customers() != 0 || b02_catalog() != 0 || b02_task() != 0 || b02_business() != 0 ||
        b02_attachment("%PDF-1.4\n% B02 under way\n", false, upl_sm3) != atoi(B02_UPL) ||
        b02_attachment("%PDF-1.4\n% B02 stored, 40 bytes long\n", true, B02_SM3) != atoi(B02_ATT) ||
        b02_voucher() != 0 || b02_call() != 0)
        return -1;
    snprintf(sid_ghost, sizeof sid_ghost, "%064d", 7);
    B02 = (struct ids){"demo03", T03.st.dev, "01",      "B02",    T03.sid, B02_CUST,
                       B02_IDNO, B02_PHONE,  B02_CNAME, B02_TASK, B02_ATT, B02_UPL,
                       B02_SM3,  B02_VCH,    B02_BIZ,   B02_CALL};
    /* demo02 has no session; its sid is one that exists nowhere either. */
    BR2 = (struct ids){"demo02",   T02.st.dev,  "02",       "B01",    sid_ghost, "999999",
                       GHOST_IDNO, GHOST_PHONE, "无此客户", "999999", "999999",  "999999",
                       GHOST_SM3,  GHOST_VCH,   "999999",   "999999"};
    snprintf(dev_ghost, sizeof dev_ghost, "%s", "0123456789abcdef0123456789abcdef");
    GHOST = (struct ids){"ghost99",  dev_ghost,   "99",       "B99",    sid_ghost, "999999",
                         GHOST_IDNO, GHOST_PHONE, "无此客户", "999999", "999999",  "999999",
                         GHOST_SM3,  GHOST_VCH,   "999999",   "999999"};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T01);
    tablet_free(&T02);
    tablet_free(&T03);
    vissue_close();
    store_close(DB);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zy1_rows_cover_every_tx),   cmocka_unit_test(zy1_matrix),
        cmocka_unit_test(api_matrix_bank_admin),     cmocka_unit_test(api_matrix_branch_manager),
        cmocka_unit_test(lists_show_nothing_of_b02), cmocka_unit_test(perf_counts_nothing_of_b02),
    };
    return cmocka_run_group_tests_name("isolation", tests, setup, teardown);
}
