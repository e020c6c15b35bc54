/* The core-banking simulator: fixed-length records over short TCP
 * connections (6-digit ASCII length prefix; see src/egress/conn_tcp.h),
 * state in SQLite (DATA/core.db, demo customers seeded on first start).
 *
 * Its message layouts are written here from the "bank's specification",
 * independently of conf/mappings/core_*.json, so a mapping that drifts
 * from the spec fails the integration tests instead of agreeing with
 * itself. Header of every request: tx_code(6) channel(4) serial(20); of
 * every reply: tx_code(6) serial(20) rc(4) msg(60, GBK). A reply whose rc
 * is not 0000 is the header alone. rc 9999 is the system's own failure.
 *
 * PIN blocks: SM4-ECB under the zone PIN key (--zpk) of 16 bytes: the ISO
 * 9564-1 format 0 block (PIN field XOR PAN field, 8 bytes) followed by
 * eight 0xFF bytes; 32 hex characters on the wire. Only a salted hash of
 * the PIN is stored.
 *
 * Malformed-reply faults ("malformed"): prefix (length prefix not digits),
 * short (prefix promises more than is sent), layout (an OK reply of the
 * wrong length), encoding (invalid GBK in msg), close (no reply at all,
 * AFTER the work was done: the outcome is unknown to the caller).
 *
 * The journal (table journal): every request of a transaction that changes
 * something is recorded by its serial with its tx code, the bank's date,
 * its key fields (key1: the customer or account it works on, key2: the
 * number it produced or bound), its rc, its status (normal, or reversed
 * once a compensation undid it) and its reply. A request whose serial is
 * in the journal is answered with the recorded reply and does nothing
 * (idempotent by serial), so a caller that lost a reply resends the same
 * serial safely. A system failure (rc 9999) is not recorded. Compensations
 * (close_account 200102, unbind_card 200204, unsign_ebank 300103,
 * agency_cancel 300202) name the serial of the
 * request they undo: that row turns reversed; when no such request has
 * arrived yet, a reversed row without a reply is left for it, and the late
 * request is then refused (2009) instead of done. `zhanye reconcile`
 * reads the table through the daily journal files (below). */
#include "sim.h"

#include "egress/conn_tcp.h"
#include "channel/sm.h"
#include "egress/fixlen.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- layouts (the core system's specification) ---- */

#define T(n, o, l)                                                                                 \
    {                                                                                              \
        .name = n, .offset = o, .length = l                                                        \
    }
#define G(n, o, l)                                                                                 \
    {                                                                                              \
        .name = n, .offset = o, .length = l, .enc = FIXLEN_GBK                                     \
    }
#define A(n, o, l)                                                                                 \
    {                                                                                              \
        .name = n, .offset = o, .length = l, .type = FIXLEN_AMOUNT, .align = FIXLEN_RIGHT,         \
        .scale = 2                                                                                 \
    }
#define REQ_HDR T("tx_code", 0, 6), T("channel", 6, 4), T("serial", 10, 20)
#define RESP_HDR T("tx_code", 0, 6), T("serial", 6, 20), T("rc", 26, 4), G("msg", 30, 60)
#define LAYOUT(name, len, arr)                                                                     \
    {                                                                                              \
        name, len, sizeof arr / sizeof arr[0], arr                                                 \
    }

static struct fixlen_field f_req_hdr[] = {REQ_HDR};
static struct fixlen_field f_resp_hdr[] = {RESP_HDR};
static const struct fixlen_layout L_REQ_HDR = LAYOUT("request header", 30, f_req_hdr);
static const struct fixlen_layout L_RESP_HDR = LAYOUT("reply header", 90, f_resp_hdr);

static struct fixlen_field f_cq_req[] = {REQ_HDR, T("id_type", 30, 2), T("id_no", 32, 18)};
static struct fixlen_field f_cq_resp[] = {RESP_HDR, T("cust_no", 90, 16), G("name", 106, 60),
                                          T("mobile", 166, 11), T("status", 177, 1)};
static struct fixlen_field f_cc_req[] = {
    REQ_HDR,           T("id_type", 30, 2),  T("id_no", 32, 18),
    G("name", 50, 60), T("mobile", 110, 11), G("address", 121, 120)};
static struct fixlen_field f_cc_resp[] = {RESP_HDR, T("cust_no", 90, 16)};
static struct fixlen_field f_oa_req[] = {REQ_HDR, T("cust_no", 30, 16), T("currency", 46, 3),
                                         T("product", 49, 6)};
static struct fixlen_field f_oa_resp[] = {RESP_HDR, T("account_no", 90, 19)};
static struct fixlen_field f_ic_req[] = {REQ_HDR, T("account_no", 30, 19),
                                         T("card_product", 49, 6)};
static struct fixlen_field f_ic_resp[] = {RESP_HDR, T("card_no", 90, 19)};
static struct fixlen_field f_ca_req[] = {REQ_HDR, T("orig_serial", 30, 20)};
static struct fixlen_field f_bc_req[] = {REQ_HDR, T("account_no", 30, 19), T("card_no", 49, 19),
                                         T("card_product", 68, 6)};
static struct fixlen_field f_bc_resp[] = {RESP_HDR, T("card_no", 90, 19)};
static struct fixlen_field f_sp_req[] = {REQ_HDR, T("card_no", 30, 19), T("pin_block", 49, 32)};
static struct fixlen_field f_bal_req[] = {REQ_HDR, T("account_no", 30, 19)};
static struct fixlen_field f_bal_resp[] = {RESP_HDR, T("currency", 90, 3), A("balance", 93, 18),
                                           A("available", 111, 18)};
static struct fixlen_field f_eb_req[] = {REQ_HDR, T("cust_no", 30, 16), T("mobile", 46, 11),
                                         T("level", 57, 1)};
static struct fixlen_field f_eb_resp[] = {RESP_HDR, T("ebank_id", 90, 20)};
static struct fixlen_field f_ag_req[] = {REQ_HDR, T("account_no", 30, 19), T("agency_code", 49, 6),
                                         T("payer_no", 55, 30), G("payer_name", 85, 60)};
static struct fixlen_field f_ag_resp[] = {RESP_HDR, T("contract_no", 90, 20)};

struct core;
struct outcome {
    char rc[5];
    char msg[64];
};
typedef void (*tx_fn)(struct core *c, json_t *in, json_t *out, struct outcome *o);

struct core_tx {
    const char *code;
    struct fixlen_layout req, resp;
    tx_fn fn;
    bool journal; /* changes something: recorded, and answered once per serial */
};

/* What a journalled request worked on (key1) and produced (key2). */
struct journal_keys {
    char key1[40], key2[40];
};

/* ---- state ---- */

#define MAX_CONNS 1024

struct core {
    struct sim *s;
    int lfd;
    pthread_t acceptor;
    pthread_mutex_t mu; /* conns and db */
    int fds[MAX_CONNS];
    int nconns;
    sqlite3 *db;
    uint8_t zpk[16];
    struct journal_keys keys; /* of the request being served (under mu) */
    struct sim files;         /* --ftp: the journal files' FTP server (files.port fixed once) */
    struct sim_ftp *ftp;
};

static void set_rc(struct outcome *o, const char *rc, const char *msg)
{
    snprintf(o->rc, sizeof o->rc, "%s", rc);
    snprintf(o->msg, sizeof o->msg, "%s", msg);
}

static const char *jstr(json_t *in, const char *k)
{
    const char *v = json_string_value(json_object_get(in, k));
    return v ? v : "";
}

/* Runs one statement with text parameters; returns the first column of the
 * first row (malloc'd) in *first if asked. SQLITE_DONE/ROW -> 0. */
static int sql(struct core *c, char **first, const char *q, int n, ...)
{
    sqlite3_stmt *st;
    if (first)
        *first = NULL;
    if (sqlite3_prepare_v2(c->db, q, -1, &st, NULL) != SQLITE_OK)
        return -1;
    va_list ap;
    va_start(ap, n);
    for (int i = 1; i <= n; i++)
        sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    va_end(ap);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && first && sqlite3_column_text(st, 0))
        *first = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The next number of a named sequence, as decimal text of width w. */
static void next_no(struct core *c, const char *name, int w, char *out, size_t cap)
{
    char *v = NULL;
    sql(c, NULL, "UPDATE counter SET value = value + 1 WHERE name = ?", 1, name);
    sql(c, &v, "SELECT value FROM counter WHERE name = ?", 1, name);
    snprintf(out, cap, "%0*lld", w, v ? atoll(v) : 0LL);
    free(v);
}

static char luhn_digit(const char *digits)
{
    int sum = 0;
    size_t n = strlen(digits);
    for (size_t i = 0; i < n; i++) {
        int d = digits[n - 1 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return (char)('0' + (10 - sum % 10) % 10);
}

/* ---- transactions ---- */

static void tx_customer_query(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(c->db,
                       "SELECT cust_no, name, mobile, status FROM customer WHERE id_type = ? AND "
                       "id_no = ?",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, jstr(in, "id_type"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, jstr(in, "id_no"), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        static const char *const COLS[] = {"cust_no", "name", "mobile", "status"};
        for (int i = 0; i < 4; i++)
            json_object_set_new(out, COLS[i],
                                json_string((const char *)sqlite3_column_text(st, i)));
    } else {
        set_rc(o, "1001", "客户不存在");
    }
    sqlite3_finalize(st);
}

static void tx_customer_create(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *have = NULL, no[32], cust[40];
    sql(c, &have, "SELECT cust_no FROM customer WHERE id_no = ?", 1, jstr(in, "id_no"));
    if (have) {
        free(have);
        set_rc(o, "1002", "客户已存在");
        return;
    }
    if (!jstr(in, "name")[0] || strlen(jstr(in, "id_no")) < 15) {
        set_rc(o, "1003", "客户信息不完整");
        return;
    }
    next_no(c, "customer", 15, no, sizeof no);
    snprintf(cust, sizeof cust, "C%s", no);
    sql(c, NULL,
        "INSERT INTO customer(cust_no, id_type, id_no, name, mobile, address, status) "
        "VALUES (?, ?, ?, ?, ?, ?, '1')",
        6, cust, jstr(in, "id_type"), jstr(in, "id_no"), jstr(in, "name"), jstr(in, "mobile"),
        jstr(in, "address"));
    json_object_set_new(out, "cust_no", json_string(cust));
}

static bool customer_exists(struct core *c, const char *cust_no)
{
    char *v = NULL;
    sql(c, &v, "SELECT cust_no FROM customer WHERE cust_no = ?", 1, cust_no);
    free(v);
    return v != NULL;
}

static void tx_open_account(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char no[32], acct[40];
    if (!customer_exists(c, jstr(in, "cust_no"))) {
        set_rc(o, "1001", "客户不存在");
        return;
    }
    if (strcmp(jstr(in, "currency"), "CNY") != 0) {
        set_rc(o, "2005", "币种不支持");
        return;
    }
    next_no(c, "account", 15, no, sizeof no);
    snprintf(acct, sizeof acct, "6217%s", no);
    snprintf(c->keys.key1, sizeof c->keys.key1, "%s", jstr(in, "cust_no"));
    snprintf(c->keys.key2, sizeof c->keys.key2, "%s", acct);
    sql(c, NULL,
        "INSERT INTO account(account_no, cust_no, currency, product, balance) "
        "VALUES (?, ?, ?, ?, 0)",
        4, acct, jstr(in, "cust_no"), jstr(in, "currency"), jstr(in, "product"));
    json_object_set_new(out, "account_no", json_string(acct));
}

static void tx_issue_card(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *acct = NULL, *card = NULL, no[32], pan[40];
    sql(c, &acct, "SELECT account_no FROM account WHERE account_no = ?", 1, jstr(in, "account_no"));
    sql(c, &card, "SELECT card_no FROM card WHERE account_no = ?", 1, jstr(in, "account_no"));
    if (!acct)
        set_rc(o, "2001", "账户不存在");
    else if (card)
        set_rc(o, "2002", "账户已绑定卡");
    else {
        next_no(c, "card", 12, no, sizeof no);
        snprintf(pan, sizeof pan, "622202%s", no);
        size_t n = strlen(pan);
        pan[n] = luhn_digit(pan);
        pan[n + 1] = '\0';
        sql(c, NULL, "INSERT INTO card(card_no, account_no, product) VALUES (?, ?, ?)", 3, pan,
            acct, jstr(in, "card_product"));
        json_object_set_new(out, "card_no", json_string(pan));
    }
    free(acct);
    free(card);
}

/* Decrypts and checks a format-0 PIN block; 0 and the PIN in pin[13], or -1. */
static int pin_from_block(const struct core *c, const char *card_no, const char *hex, char pin[13])
{
    uint8_t ct[16], pt[32];
    int n1 = 0, n2 = 0;
    size_t cl = strlen(card_no);
    if (strlen(hex) != 32 || cl < 13)
        return -1;
    for (int i = 0; i < 16; i++)
        if (sscanf(hex + 2 * i, "%2hhx", &ct[i]) != 1)
            return -1;
    EVP_CIPHER *sm4 = EVP_CIPHER_fetch(NULL, "SM4-ECB", NULL);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int ok = sm4 && x && EVP_DecryptInit_ex2(x, sm4, c->zpk, NULL, NULL) &&
             EVP_CIPHER_CTX_set_padding(x, 0) && EVP_DecryptUpdate(x, pt, &n1, ct, 16) &&
             EVP_DecryptFinal_ex(x, pt + n1, &n2) && n1 + n2 == 16;
    EVP_CIPHER_CTX_free(x);
    EVP_CIPHER_free(sm4);
    uint8_t panf[8] = {0};
    for (int i = 0; i < 12; i++) { /* the 12 PAN digits before the check digit */
        int d = card_no[cl - 13 + (size_t)i] - '0';
        panf[2 + i / 2] |= (uint8_t)(i % 2 ? d : d << 4);
    }
    for (int i = 0; ok && i < 8; i++)
        ok = pt[8 + i] == 0xFF;
    for (int i = 0; ok && i < 8; i++)
        pt[i] ^= panf[i];
    int len = pt[0] & 0x0F;
    ok = ok && (pt[0] >> 4) == 0 && len >= 4 && len <= 12;
    for (int i = 0; ok && i < 14; i++) {
        int nib = (pt[1 + i / 2] >> (i % 2 ? 0 : 4)) & 0x0F;
        ok = i < len ? nib <= 9 : nib == 0x0F;
        if (ok && i < len)
            pin[i] = (char)('0' + nib);
    }
    if (ok)
        pin[len] = '\0';
    return ok ? 0 : -1;
}

static void tx_set_pin(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *card = NULL, pin[13];
    sql(c, &card, "SELECT card_no FROM card WHERE card_no = ?", 1, jstr(in, "card_no"));
    if (!card) {
        set_rc(o, "2004", "卡不存在");
        return;
    }
    if (pin_from_block(c, card, jstr(in, "pin_block"), pin) != 0) {
        set_rc(o, "2003", "PIN块无效");
    } else {
        uint8_t md[32];
        unsigned mdl = 0;
        char salted[64], hex[65];
        snprintf(salted, sizeof salted, "%s:%s", card, pin);
        EVP_Digest(salted, strlen(salted), md, &mdl, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        sql(c, NULL, "UPDATE card SET pin_hash = ? WHERE card_no = ?", 2, hex, card);
        OPENSSL_cleanse(pin, sizeof pin);
        OPENSSL_cleanse(salted, sizeof salted);
    }
    free(card);
}

static void tx_balance(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(c->db, "SELECT currency, balance FROM account WHERE account_no = ?", -1, &st,
                       NULL);
    sqlite3_bind_text(st, 1, jstr(in, "account_no"), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        long long cents = sqlite3_column_int64(st, 1);
        char amt[32];
        snprintf(amt, sizeof amt, "%lld.%02lld", cents / 100, cents % 100);
        json_object_set_new(out, "currency", json_string((const char *)sqlite3_column_text(st, 0)));
        json_object_set_new(out, "balance", json_string(amt));
        json_object_set_new(out, "available", json_string(amt));
    } else {
        set_rc(o, "2001", "账户不存在");
    }
    sqlite3_finalize(st);
}

static void tx_sign_ebank(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *have = NULL, no[32], id[40];
    if (!customer_exists(c, jstr(in, "cust_no"))) {
        set_rc(o, "1001", "客户不存在");
        return;
    }
    sql(c, &have, "SELECT ebank_id FROM ebank WHERE cust_no = ?", 1, jstr(in, "cust_no"));
    if (have) {
        free(have);
        set_rc(o, "3001", "已签约网上银行");
        return;
    }
    next_no(c, "ebank", 18, no, sizeof no);
    snprintf(id, sizeof id, "EB%s", no);
    sql(c, NULL, "INSERT INTO ebank(cust_no, ebank_id, mobile, level) VALUES (?, ?, ?, ?)", 4,
        jstr(in, "cust_no"), id, jstr(in, "mobile"), jstr(in, "level"));
    json_object_set_new(out, "ebank_id", json_string(id));
}

static void tx_agency_signup(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *acct = NULL, no[32], id[40];
    sql(c, &acct, "SELECT account_no FROM account WHERE account_no = ?", 1, jstr(in, "account_no"));
    if (!acct) {
        set_rc(o, "2001", "账户不存在");
        return;
    }
    next_no(c, "agency", 18, no, sizeof no);
    snprintf(id, sizeof id, "AG%s", no);
    sql(c, NULL,
        "INSERT INTO agency(contract_no, account_no, agency_code, payer_no, payer_name) "
        "VALUES (?, ?, ?, ?, ?)",
        5, id, acct, jstr(in, "agency_code"), jstr(in, "payer_no"), jstr(in, "payer_name"));
    json_object_set_new(out, "contract_no", json_string(id));
    snprintf(c->keys.key1, sizeof c->keys.key1, "%s", acct);
    snprintf(c->keys.key2, sizeof c->keys.key2, "%s", id);
    free(acct);
}

/* The journal row of serial: its tx code and status into the buffers; 0,
 * or -1 when there is none. */
static int journal_of(struct core *c, const char *serial, char code[8], char status[12],
                      char key2[40])
{
    sqlite3_stmt *st;
    int found = -1;
    if (sqlite3_prepare_v2(c->db, "SELECT tx_code, status, key2, rc FROM journal WHERE serial = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(code, 8, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(status, 12, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(key2, 40, "%s",
                 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
        /* a refused request did nothing: nothing to undo */
        if (strcmp((const char *)sqlite3_column_text(st, 3), "0000") != 0)
            snprintf(status, 12, "%s", "refused");
        found = 0;
    }
    sqlite3_finalize(st);
    return found;
}

/* A compensation of the request orig (of tx code want): undo applies it
 * to the key2 that request produced. Reversed once; a later copy is OK. */
static void reverse(struct core *c, json_t *in, struct outcome *o, const char *want,
                    void (*undo)(struct core *c, const char *key2))
{
    const char *orig = jstr(in, "orig_serial");
    char code[8], status[12], key2[40];
    snprintf(c->keys.key1, sizeof c->keys.key1, "%s", orig);
    if (!orig[0]) {
        set_rc(o, "9002", "报文格式错误");
    } else if (journal_of(c, orig, code, status, key2) != 0) {
        /* not arrived (yet): it is refused if it ever does */
        sql(c, NULL,
            "INSERT INTO journal(serial, tx_code, day, key1, key2, rc, status, reply) "
            "VALUES (?, ?, date('now', '+8 hours'), '', '', '----', 'reversed', NULL)",
            2, orig, want);
    } else if (strcmp(code, want) != 0) {
        set_rc(o, "2008", "原交易不符");
    } else if (strcmp(status, "normal") == 0) {
        undo(c, key2);
        snprintf(c->keys.key2, sizeof c->keys.key2, "%s", key2);
        sql(c, NULL, "UPDATE journal SET status = 'reversed' WHERE serial = ?", 1, orig);
    }
}

static void close_acct(struct core *c, const char *account_no)
{
    sql(c, NULL, "UPDATE account SET status = 'closed' WHERE account_no = ?", 1, account_no);
}

static void unbind(struct core *c, const char *card_no)
{
    sql(c, NULL, "DELETE FROM card WHERE card_no = ?", 1, card_no);
}

static void tx_close_account(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    (void)out;
    reverse(c, in, o, "200101", close_acct);
}

static void tx_unbind_card(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    (void)out;
    reverse(c, in, o, "200203", unbind);
}

static bool luhn_ok(const char *pan)
{
    size_t n = strlen(pan);
    char body[32];
    if (n < 13 || n > 19 || strspn(pan, "0123456789") != n)
        return false;
    memcpy(body, pan, n - 1);
    body[n - 1] = '\0';
    return luhn_digit(body) == pan[n - 1];
}

/* Binds the card the bank's card reader read to an open account. */
static void tx_bind_card(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *acct = NULL, *have = NULL, *used = NULL;
    const char *pan = jstr(in, "card_no");
    sql(c, &acct,
        "SELECT account_no FROM account WHERE account_no = ? AND "
        "COALESCE(status, 'normal') = 'normal'",
        1, jstr(in, "account_no"));
    sql(c, &have, "SELECT card_no FROM card WHERE account_no = ?", 1, jstr(in, "account_no"));
    sql(c, &used, "SELECT card_no FROM card WHERE card_no = ?", 1, pan);
    if (!acct)
        set_rc(o, "2001", "账户不存在");
    else if (!luhn_ok(pan))
        set_rc(o, "2007", "卡号校验错误");
    else if (used)
        set_rc(o, "2006", "卡号已被使用");
    else if (have)
        set_rc(o, "2002", "账户已绑定卡");
    else {
        sql(c, NULL, "INSERT INTO card(card_no, account_no, product) VALUES (?, ?, ?)", 3, pan,
            acct, jstr(in, "card_product"));
        json_object_set_new(out, "card_no", json_string(pan));
        snprintf(c->keys.key1, sizeof c->keys.key1, "%s", acct);
        snprintf(c->keys.key2, sizeof c->keys.key2, "%s", pan);
    }
    free(acct);
    free(have);
    free(used);
}

/* ---- e-banking with products and limits, agency cancellation (the
 * workflow's ebank and agency kinds, business/wf_ebank.c, wf_agency.c) ----
 * 300102 sign_ebank2: cust_no, mobile, account_no (the customer's own,
 * open: else 2001), products (3 flags Y/N: mobile, internet, SMS; not all
 * N: 3003), per_tx_fen and daily_fen (decimal fen: positive, per-tx at
 * most daily, daily at most 100 000 000: else 3002); one e-banking
 * contract per customer (3001) -> ebank_id; journalled (key1 the customer,
 * key2 the ebank_id). 300103 unsign_ebank {orig_serial}: undoes a 300102
 * (the contract removed, its products row cancelled). 300202
 * agency_cancel {orig_serial}: undoes a 300201 (the contract removed). */

static struct fixlen_field f_eb2_req[] = {REQ_HDR,
                                          T("cust_no", 30, 16),
                                          T("mobile", 46, 11),
                                          T("account_no", 57, 19),
                                          T("products", 76, 3),
                                          T("per_tx_fen", 79, 15),
                                          T("daily_fen", 94, 15)};

static const char EBANK2_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS ebank_product(ebank_id TEXT PRIMARY KEY, cust_no TEXT, "
    "account_no TEXT, products TEXT, per_tx INTEGER, daily INTEGER, status TEXT)";

/* Decimal fen text: its value, or -1. */
static long long fen_of(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 15 && strspn(s, "0123456789") == n ? atoll(s) : -1;
}

static void tx_sign_ebank2(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    char *acct = NULL, *have = NULL, no[32], id[40];
    const char *cust = jstr(in, "cust_no"), *prods = jstr(in, "products");
    long long tx = fen_of(jstr(in, "per_tx_fen")), day = fen_of(jstr(in, "daily_fen"));
    sqlite3_exec(c->db, EBANK2_SCHEMA, NULL, NULL, NULL);
    sql(c, &acct,
        "SELECT account_no FROM account WHERE account_no = ? AND cust_no = ? AND "
        "COALESCE(status, 'normal') = 'normal'",
        2, jstr(in, "account_no"), cust);
    sql(c, &have, "SELECT ebank_id FROM ebank WHERE cust_no = ?", 1, cust);
    if (!customer_exists(c, cust))
        set_rc(o, "1001", "客户不存在");
    else if (!acct)
        set_rc(o, "2001", "账户不存在");
    else if (strlen(prods) != 3 || strspn(prods, "YN") != 3 || strcmp(prods, "NNN") == 0)
        set_rc(o, "3003", "签约产品无效");
    else if (tx <= 0 || day <= 0 || tx > day || day > 100000000LL)
        set_rc(o, "3002", "限额不合规");
    else if (have)
        set_rc(o, "3001", "已签约网上银行");
    else {
        char stx[24], sday[24];
        next_no(c, "ebank", 18, no, sizeof no);
        snprintf(id, sizeof id, "EB%s", no);
        snprintf(stx, sizeof stx, "%lld", tx);
        snprintf(sday, sizeof sday, "%lld", day);
        sql(c, NULL, "INSERT INTO ebank(cust_no, ebank_id, mobile, level) VALUES (?, ?, ?, '2')", 3,
            cust, id, jstr(in, "mobile"));
        sql(c, NULL,
            "INSERT INTO ebank_product(ebank_id, cust_no, account_no, products, per_tx, daily, "
            "status) VALUES (?, ?, ?, ?, ?, ?, 'normal')",
            6, id, cust, acct, prods, stx, sday);
        json_object_set_new(out, "ebank_id", json_string(id));
        snprintf(c->keys.key1, sizeof c->keys.key1, "%s", cust);
        snprintf(c->keys.key2, sizeof c->keys.key2, "%s", id);
    }
    free(acct);
    free(have);
}

static void unsign_eb(struct core *c, const char *ebank_id)
{
    sqlite3_exec(c->db, EBANK2_SCHEMA, NULL, NULL, NULL);
    sql(c, NULL, "DELETE FROM ebank WHERE ebank_id = ?", 1, ebank_id);
    sql(c, NULL, "UPDATE ebank_product SET status = 'cancelled' WHERE ebank_id = ?", 1, ebank_id);
}

static void tx_unsign_ebank(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    (void)out;
    reverse(c, in, o, "300102", unsign_eb);
}

static void agency_undo(struct core *c, const char *contract_no)
{
    sql(c, NULL, "DELETE FROM agency WHERE contract_no = ?", 1, contract_no);
}

static void tx_agency_cancel(struct core *c, json_t *in, json_t *out, struct outcome *o)
{
    (void)out;
    reverse(c, in, o, "300201", agency_undo);
}

static const struct core_tx TXS[] = {
    {"100101", LAYOUT("customer query", 50, f_cq_req),
     LAYOUT("customer query reply", 178, f_cq_resp), tx_customer_query, false},
    {"100102", LAYOUT("customer create", 241, f_cc_req),
     LAYOUT("customer create reply", 106, f_cc_resp), tx_customer_create, true},
    {"200101", LAYOUT("open account", 55, f_oa_req), LAYOUT("open account reply", 109, f_oa_resp),
     tx_open_account, true},
    {"200102", LAYOUT("close account", 50, f_ca_req), LAYOUT("close account reply", 90, f_resp_hdr),
     tx_close_account, true},
    {"200201", LAYOUT("issue card", 55, f_ic_req), LAYOUT("issue card reply", 109, f_ic_resp),
     tx_issue_card, true},
    {"200202", LAYOUT("set pin", 81, f_sp_req), LAYOUT("set pin reply", 90, f_resp_hdr), tx_set_pin,
     true},
    {"200203", LAYOUT("bind card", 74, f_bc_req), LAYOUT("bind card reply", 109, f_bc_resp),
     tx_bind_card, true},
    {"200204", LAYOUT("unbind card", 50, f_ca_req), LAYOUT("unbind card reply", 90, f_resp_hdr),
     tx_unbind_card, true},
    {"200301", LAYOUT("balance", 49, f_bal_req), LAYOUT("balance reply", 129, f_bal_resp),
     tx_balance, false},
    {"300101", LAYOUT("sign e-banking", 58, f_eb_req),
     LAYOUT("sign e-banking reply", 110, f_eb_resp), tx_sign_ebank, true},
    {"300201", LAYOUT("agency sign-up", 145, f_ag_req),
     LAYOUT("agency sign-up reply", 110, f_ag_resp), tx_agency_signup, true},
    {"300102", LAYOUT("sign e-banking with products", 109, f_eb2_req),
     LAYOUT("sign e-banking with products reply", 110, f_eb_resp), tx_sign_ebank2, true},
    {"300103", LAYOUT("unsign e-banking", 50, f_ca_req),
     LAYOUT("unsign e-banking reply", 90, f_resp_hdr), tx_unsign_ebank, true},
    {"300202", LAYOUT("agency cancel", 50, f_ca_req), LAYOUT("agency cancel reply", 90, f_resp_hdr),
     tx_agency_cancel, true},
};

/* ---- database ---- */

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS customer(cust_no TEXT PRIMARY KEY, id_type TEXT, id_no TEXT "
    "UNIQUE, name TEXT, mobile TEXT, address TEXT, status TEXT);"
    "CREATE TABLE IF NOT EXISTS account(account_no TEXT PRIMARY KEY, cust_no TEXT, currency "
    "TEXT, product TEXT, balance INTEGER);"
    "CREATE TABLE IF NOT EXISTS card(card_no TEXT PRIMARY KEY, account_no TEXT UNIQUE, product "
    "TEXT, pin_hash TEXT);"
    "CREATE TABLE IF NOT EXISTS ebank(cust_no TEXT PRIMARY KEY, ebank_id TEXT, mobile TEXT, "
    "level TEXT);"
    "CREATE TABLE IF NOT EXISTS agency(contract_no TEXT PRIMARY KEY, account_no TEXT, "
    "agency_code TEXT, payer_no TEXT, payer_name TEXT);"
    "CREATE TABLE IF NOT EXISTS counter(name TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS journal(serial TEXT PRIMARY KEY, tx_code TEXT, day TEXT, key1 "
    "TEXT, key2 TEXT, rc TEXT, status TEXT, reply BLOB);"
    "INSERT OR IGNORE INTO counter VALUES ('customer', 100), ('account', 100), ('card', 100), "
    "('ebank', 100), ('agency', 100);"
    /* Demo identities, the same as the ID-check simulator's. */
    "INSERT OR IGNORE INTO customer VALUES "
    "('C000000000000001', '01', '110101199003077578', '张三', '13800138000', '北京市东城区', '1'),"
    "('C000000000000002', '01', '310104198807163222', '欧阳娜娜', '13900139000', '上海市徐汇区', "
    "'1'),"
    "('C000000000000003', '01', '440106197512254411', '李四', '13700137000', '广州市天河区', '1');"
    "INSERT OR IGNORE INTO account(account_no, cust_no, currency, product, balance) VALUES "
    "('6217000000000000011', 'C000000000000001', 'CNY', 'SAV001', 1234567),"
    "('6217000000000000022', 'C000000000000002', 'CNY', 'SAV001', 50000000);";

/* account.status (normal, closed): added to a database made before it. */
static bool account_status(struct core *c)
{
    sqlite3_stmt *st;
    bool have = false;
    if (sqlite3_prepare_v2(c->db, "SELECT name FROM pragma_table_info('account')", -1, &st, NULL) !=
        SQLITE_OK)
        return false;
    while (sqlite3_step(st) == SQLITE_ROW)
        have = have || strcmp((const char *)sqlite3_column_text(st, 0), "status") == 0;
    sqlite3_finalize(st);
    return have || sqlite3_exec(c->db, "ALTER TABLE account ADD COLUMN status TEXT", NULL, NULL,
                                NULL) == SQLITE_OK;
}

static int open_db(struct core *c)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/core.db", c->s->data_dir);
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK || !account_status(c)) {
        fprintf(stderr, "zhanye-sim core: %s: %s\n", path, sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    return 0;
}

/* ---- the daily journal files (对账文件), served over FTP (--ftp) ----
 *
 * For every business date (China time) with journal rows, the file
 * DATA/core-files/journal-YYYYMMDD.txt (format: src/business/recon.h):
 *   H|YYYYMMDD|COUNT
 *   D|SERIAL|TXCODE|HHMMSS|KEY1|KEY2|RC|STATUS     (by serial)
 *   T|COUNT|SM3 of the D lines (lowercase hex)
 * Triggers mark a date dirty whenever one of its rows is added or changes
 * status (a compensation may reverse a row of an earlier date), and the
 * dirty dates' files are rewritten (a hidden temporary file, renamed)
 * right after each journalled request, before its reply is sent, and at
 * start; so a file is always whole and current when it is fetched. A date
 * without rows has no file. The time HHMMSS (China time) is when the row
 * was recorded (a column "at" set by a trigger; rows made before it have
 * 000000). The FTP server (sim_ftp.c, the same login as the paperless
 * platform) serves DATA/core-files/ read and write (a test may put a
 * damaged file there); it goes down and up with the core's service port
 * (refuse, restart). */

static const char JOURNAL_EXPORT_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS journal_dirty(day TEXT PRIMARY KEY);"
    "CREATE TRIGGER IF NOT EXISTS journal_added AFTER INSERT ON journal BEGIN "
    "UPDATE journal SET at = strftime('%H%M%S', 'now', '+8 hours') WHERE serial = NEW.serial; "
    "INSERT OR IGNORE INTO journal_dirty VALUES (replace(NEW.day, '-', '')); END;"
    "CREATE TRIGGER IF NOT EXISTS journal_changed AFTER UPDATE OF status, rc ON journal BEGIN "
    "INSERT OR IGNORE INTO journal_dirty VALUES (replace(NEW.day, '-', '')); END;"
    "INSERT OR IGNORE INTO journal_dirty SELECT DISTINCT replace(day, '-', '') FROM journal;";

static int journal_export_schema(struct core *c)
{
    sqlite3_stmt *st;
    bool have = false;
    if (sqlite3_prepare_v2(c->db, "SELECT name FROM pragma_table_info('journal')", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW)
        have = have || strcmp((const char *)sqlite3_column_text(st, 0), "at") == 0;
    sqlite3_finalize(st);
    if (!have && sqlite3_exec(c->db, "ALTER TABLE journal ADD COLUMN at TEXT", NULL, NULL, NULL) !=
                     SQLITE_OK)
        return -1;
    return sqlite3_exec(c->db, JOURNAL_EXPORT_SCHEMA, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* A field as written: what the file's grammar allows, else "-". */
static const char *jfield(sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    if (!v)
        return "";
    return strspn(v, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") == strlen(v)
               ? v
               : "-";
}

/* Rewrites the file of day (YYYYMMDD). Under c->mu. */
static int journal_export_day(struct core *c, const char *day)
{
    sqlite3_stmt *st;
    char path[PATH_MAX + 64], tmp[PATH_MAX + 64], *body = NULL;
    size_t blen = 0, count = 0;
    FILE *mem = open_memstream(&body, &blen);
    if (!mem || sqlite3_prepare_v2(c->db,
                                   "SELECT serial, tx_code, COALESCE(at, '000000'), key1, key2, "
                                   "rc, status FROM journal WHERE replace(day, '-', '') = ? "
                                   "ORDER BY serial",
                                   -1, &st, NULL) != SQLITE_OK) {
        if (mem)
            fclose(mem);
        free(body);
        return -1;
    }
    sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(mem, "D|%s|%s|%s|%s|%s|%s|%s\n", jfield(st, 0), jfield(st, 1), jfield(st, 2),
                jfield(st, 3), jfield(st, 4), jfield(st, 5), jfield(st, 6));
        count++;
    }
    sqlite3_finalize(st);
    if (fclose(mem) != 0) {
        free(body);
        return -1;
    }
    uint8_t md[SM3_LEN];
    char hex[2 * SM3_LEN + 1];
    sm_part part = {.p = body, .n = blen};
    sm3_digest(&part, 1, md);
    for (int i = 0; i < SM3_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(path, sizeof path, "%s/core-files/journal-%s.txt", c->s->data_dir, day);
    snprintf(tmp, sizeof tmp, "%s/core-files/.journal-%s.tmp", c->s->data_dir, day);
    FILE *f = fopen(tmp, "w");
    int rc = f ? 0 : -1;
    if (f) {
        fprintf(f, "H|%s|%zu\n", day, count);
        fwrite(body, 1, blen, f);
        fprintf(f, "T|%zu|%s\n", count, hex);
        rc = fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
    }
    free(body);
    return rc;
}

/* Rewrites the file of every dirty date. Under c->mu (or before serving). */
static void journal_export(struct core *c)
{
    sqlite3_stmt *st;
    char days[32][9];
    int n = 0;
    if (!c->ftp || sqlite3_prepare_v2(c->db, "SELECT day FROM journal_dirty LIMIT 32", -1, &st,
                                      NULL) != SQLITE_OK)
        return;
    while (n < 32 && sqlite3_step(st) == SQLITE_ROW)
        snprintf(days[n++], sizeof days[0], "%.8s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++)
        if (journal_export_day(c, days[i]) == 0)
            sql(c, NULL, "DELETE FROM journal_dirty WHERE day = ?", 1, days[i]);
}

/* Starts the journal files' FTP server when --ftp was given (port 0 picks
 * one, kept for restarts). 0, or -1. */
static int journal_files_start(struct core *c)
{
    struct sim *s = c->s, *f = &c->files;
    char dir[PATH_MAX + 32];
    if (!s->ftp_listen[0])
        return 0;
    if (!f->mode) {
        f->mode = "core-files";
        const char *colon = strrchr(s->ftp_listen, ':');
        if (!colon || (size_t)(colon - s->ftp_listen) >= sizeof f->host)
            return -1;
        snprintf(f->host, sizeof f->host, "%.*s", (int)(colon - s->ftp_listen), s->ftp_listen);
        f->port = atoi(colon + 1);
        pthread_mutex_init(&f->mu, NULL);
        pthread_mutex_init(&f->ctl, NULL);
    }
    snprintf(dir, sizeof dir, "%s/core-files", s->data_dir);
    mkdir(dir, 0700);
    atomic_store(&f->stopping, false);
    if (journal_export_schema(c) != 0 || sim_ftp_start(f, dir, false, &c->ftp) != 0)
        return -1;
    s->ftp_port = f->port;
    journal_export(c);
    return 0;
}

static void journal_files_stop(struct core *c)
{
    if (!c->ftp)
        return;
    atomic_store(&c->files.stopping, true);
    sim_ftp_stop(c->ftp);
}

/* ---- one request ---- */

static const struct core_tx *find_tx(const char *code)
{
    for (size_t i = 0; i < sizeof TXS / sizeof TXS[0]; i++)
        if (strcmp(TXS[i].code, code) == 0)
            return &TXS[i];
    return NULL;
}

/* The recorded reply of serial into out: its length; 0 when there is none.
 * A reversed row without a reply (its compensation came first) answers
 * 2009 into o and returns -1. Under c->mu. */
static long replayed(struct core *c, const char *serial, char *out, struct outcome *o)
{
    sqlite3_stmt *st;
    long n = 0;
    if (!serial[0] || sqlite3_prepare_v2(c->db, "SELECT reply FROM journal WHERE serial = ?", -1,
                                         &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(st, 0);
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            set_rc(o, "2009", "交易已冲正");
            n = -1;
        } else if (len > 0 && len <= 512) {
            memcpy(out, sqlite3_column_blob(st, 0), (size_t)len);
            n = len;
        }
    }
    sqlite3_finalize(st);
    return n;
}

/* Records a journalled request's outcome and reply. Under c->mu. */
static void journal_add(struct core *c, const struct core_tx *tx, const char *serial,
                        const char *rc, const char *reply, size_t n)
{
    sqlite3_stmt *st;
    if (!serial[0] || sqlite3_prepare_v2(c->db,
                                         "INSERT OR IGNORE INTO journal(serial, tx_code, day, "
                                         "key1, key2, rc, status, reply) VALUES (?, ?, "
                                         "strftime('%Y%m%d', 'now', '+8 hours'), ?, ?, ?, "
                                         "'normal', ?)",
                                         -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, tx->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->keys.key1, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, c->keys.key2, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, rc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 6, reply, (int)n, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* Encodes the reply of tx (or of an unknown code) into out. */
static size_t encode_reply(const struct core_tx *tx, json_t *hdr, json_t *res,
                           const struct outcome *o, char *out)
{
    json_object_set_new(res, "tx_code", json_string(tx ? tx->code : jstr(hdr, "tx_code")));
    json_object_set_new(res, "serial", json_string(jstr(hdr, "serial")));
    json_object_set_new(res, "rc", json_string(o->rc));
    json_object_set_new(res, "msg", json_string(o->msg));
    const struct fixlen_layout *l = strcmp(o->rc, "0000") == 0 ? &tx->resp : &L_RESP_HDR;
    return fixlen_encode(l, res, (uint8_t *)out, 512, NULL) == 0 ? l->length : 0;
}

/* Builds the reply record into out (cap >= 512). Returns its length. */
static size_t build_reply(struct core *c, const char *req, size_t len, const struct sim_fault *f,
                          char *out)
{
    struct outcome o = {"0000", "成功"};
    json_t *hdr = NULL, *in = NULL, *res = json_object();
    size_t n = 0;
    fixlen_decode(&L_REQ_HDR, (const uint8_t *)req, len < 30 ? len : 30, true, &hdr, NULL);
    const struct core_tx *tx = find_tx(jstr(hdr, "tx_code"));
    if (!tx)
        set_rc(&o, "9001", "交易码不存在");
    else if (fixlen_decode(&tx->req, (const uint8_t *)req, len, false, &in, NULL))
        set_rc(&o, "9002", "报文格式错误");
    else if (sim_draw_error(c->s, f)) {
        atomic_fetch_add(&c->s->errors_injected, 1);
        set_rc(&o, "9999", "系统繁忙");
    } else {
        const char *serial = jstr(hdr, "serial");
        pthread_mutex_lock(&c->mu);
        long seen = tx->journal ? replayed(c, serial, out, &o) : 0;
        if (seen == 0) {
            memset(&c->keys, 0, sizeof c->keys);
            tx->fn(c, in, res, &o);
            n = encode_reply(tx, hdr, res, &o, out);
            if (tx->journal && n > 0)
                journal_add(c, tx, serial, o.rc, out, n);
            if (tx->journal)
                journal_export(c);
        } else if (seen > 0) {
            n = (size_t)seen;
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (n == 0)
        n = encode_reply(tx, hdr, res, &o, out);
    json_decref(hdr);
    json_decref(in);
    json_decref(res);
    return n;
}

/* Rewrites a good reply frame (prefix + body in buf) into a malformed one. */
static size_t malform(const char *kind, char *buf, size_t n)
{
    if (strcmp(kind, "prefix") == 0)
        memcpy(buf, "12AB56", 6);
    else if (strcmp(kind, "short") == 0)
        return 6 + (n - 6) / 3; /* prefix promises the whole body; a third is sent */
    else if (strcmp(kind, "layout") == 0) {
        char p[TCP_FRAME_DIGITS + 1];
        tcp_frame_prefix(n - 6 - 10, p);
        memcpy(buf, p, 6);
        return n - 10;
    } else if (strcmp(kind, "encoding") == 0)
        memcpy(buf + 6 + 30, "\xFF\xFF\xFF\xFF", 4);
    else if (strcmp(kind, "close") == 0)
        return 0;
    return n;
}

/* ---- connections ---- */

struct conn {
    struct core *c;
    int fd;
};

static int read_full(int fd, char *p, size_t n, int timeout_ms)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Stalls until the fault is cleared; false when the peer gave up meanwhile. */
static bool stall(struct sim *s, int fd)
{
    atomic_fetch_add(&s->stalls, 1);
    while (sim_stalled(s)) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        char ch;
        if (poll(&pf, 1, 10) > 0 && recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
            return false;
    }
    return !atomic_load(&s->stopping);
}

/* Serves one request on the connection; false when nothing is to be sent. */
static bool serve(struct core *c, int fd, char *frame, size_t *flen)
{
    char hdr[6], *req = NULL;
    size_t len;
    struct sim_fault f;
    bool ok = read_full(fd, hdr, 6, 10000) == 0 && tcp_frame_parse(hdr, &len) == 0 && len <= 4096;
    if (ok && (req = malloc(len + 1)) && read_full(fd, req, len, 10000) == 0) {
        atomic_fetch_add(&c->s->requests, 1);
        sim_fault_get(c->s, &f);
        ok = !f.stall || stall(c->s, fd);
        if (ok)
            sim_sleep_ms(c->s, f.latency_ms);
        size_t n = ok ? build_reply(c, req, len, &f, frame + 6) : 0;
        ok = n > 0;
        if (ok) {
            char prefix[TCP_FRAME_DIGITS + 1];
            tcp_frame_prefix(n, prefix);
            memcpy(frame, prefix, TCP_FRAME_DIGITS);
            *flen = f.malformed[0] ? malform(f.malformed, frame, n + 6) : n + 6;
            if (f.malformed[0])
                atomic_fetch_add(&c->s->malformed_sent, 1);
        }
    } else {
        ok = false;
    }
    free(req);
    return ok && *flen > 0;
}

static void untrack(struct core *c, int fd)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->nconns; i++)
        if (c->fds[i] == fd) {
            c->fds[i] = c->fds[--c->nconns];
            break;
        }
    pthread_mutex_unlock(&c->mu);
}

static void *conn_main(void *arg)
{
    struct conn *cn = arg;
    struct core *c = cn->c;
    int fd = cn->fd;
    free(cn);
    char frame[6 + 512 + 1];
    size_t flen = 0;
    sim_count_up(&c->s->in_flight);
    bool send_it = serve(c, fd, frame, &flen);
    /* Counted down before the reply leaves: once the client has it, it may
     * connect again, and this connection must no longer count. */
    sim_count_down(&c->s->in_flight);
    sim_count_down(&c->s->conns);
    if (send_it)
        send(fd, frame, flen, MSG_NOSIGNAL);
    untrack(c, fd);
    shutdown(fd, SHUT_WR);
    close(fd);
    return NULL;
}

static void start_conn(struct core *c, int fd)
{
    struct conn *cn = malloc(sizeof *cn);
    pthread_t th;
    pthread_attr_t at;
    pthread_mutex_lock(&c->mu);
    bool room = cn && c->nconns < MAX_CONNS;
    if (room)
        c->fds[c->nconns++] = fd;
    pthread_mutex_unlock(&c->mu);
    if (!room) {
        free(cn);
        close(fd);
        return;
    }
    sim_count_up(&c->s->conns);
    *cn = (struct conn){c, fd};
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, conn_main, cn) != 0) {
        sim_count_down(&c->s->conns);
        untrack(c, fd);
        close(fd);
        free(cn);
    }
    pthread_attr_destroy(&at);
}

static void *accept_main(void *arg)
{
    struct core *c = arg;
    while (!atomic_load(&c->s->stopping)) {
        struct pollfd pf = {.fd = c->lfd, .events = POLLIN};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            start_conn(c, fd);
    }
    return NULL;
}

static int hex_key(const char *hex, uint8_t key[16])
{
    if (strlen(hex) != 32)
        return -1;
    for (int i = 0; i < 16; i++)
        if (sscanf(hex + 2 * i, "%2hhx", &key[i]) != 1)
            return -1;
    return 0;
}

static int core_start(struct sim *s)
{
    struct core *c = s->state;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return -1;
        c->s = s;
        pthread_mutex_init(&c->mu, NULL);
        s->state = c;
    }
    if (hex_key(s->zpk_hex, c->zpk) || open_db(c))
        return -1;
    if (journal_files_start(c) != 0) {
        fprintf(stderr, "zhanye-sim core: cannot serve the journal files on %s\n", s->ftp_listen);
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    c->lfd = sim_listen(s->host, &s->port);
    if (c->lfd < 0 || pthread_create(&c->acceptor, NULL, accept_main, c) != 0) {
        if (c->lfd >= 0)
            close(c->lfd);
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    return 0;
}

static void core_stop(struct sim *s)
{
    struct core *c = s->state;
    journal_files_stop(c);
    pthread_join(c->acceptor, NULL);
    close(c->lfd);
    c->lfd = -1;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        int n = c->nconns;
        for (int i = 0; i < n; i++)
            shutdown(c->fds[i], SHUT_RDWR);
        pthread_mutex_unlock(&c->mu);
        if (n == 0)
            break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 5000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&c->mu);
    sqlite3_close(c->db);
    c->db = NULL;
    pthread_mutex_unlock(&c->mu);
}

const struct sim_service SIM_CORE = {core_start, core_stop};
