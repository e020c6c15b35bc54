/* Unit tests for identity/audit: the keyed chain holds, and an attacker
 * with the sqlite3 shell (and without the key files) who updates, deletes,
 * inserts or rehashes records, cuts the tail or forges or deletes
 * checkpoints is caught; the key files; the upgrade of an unkeyed chain.
 * The tampering goes through the SQLite C API on the file, not the store. */
#include "identity/audit.h"

#include "channel/sm.h"
#include "foundation/codec.h"
#include "identity/audit_checkpoint.h"

#include "idtest.h"

#include <sqlite3.h>
#include <sys/stat.h>

static void raw_exec(struct fx *f, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void append_n(struct fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        char target[16];
        snprintf(target, sizeof target, "t%d", i);
        assert_int_equal(TX(f, audit_appendf(f->c, 1, ACTOR, "test.event", target, "{s:i, s:s}",
                                             "n", i, "note", "备注")),
                         ID_OK);
    }
}

/* ---- what an attacker with the database (and without the keys) can do ---- */

#define LABEL_V1 "zhanye audit v1\n" /* the unkeyed chain of databases before the key */
#define LABEL_V2 "zhanye audit v2\n" /* the keyed chain's label */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* The chain formula with fields "<len>:<bytes>": HMAC-SM3 under key, or SM3 when key is NULL. */
static void chain_hash(const uint8_t *key, const char *label, const uint8_t prev[SM3_LEN],
                       int64_t seq, int64_t ts, int64_t bank, const char *actor, const char *event,
                       const char *target, const char *detail, uint8_t out[SM3_LEN])
{
    char nums[3][24], heads[7][24];
    snprintf(nums[0], sizeof nums[0], "%lld", (long long)seq);
    snprintf(nums[1], sizeof nums[1], "%lld", (long long)ts);
    snprintf(nums[2], sizeof nums[2], "%lld", (long long)bank);
    const char *fields[7] = {nums[0], nums[1], nums[2], actor, event, target, detail};
    sm_part parts[16] = {{prev, SM3_LEN}, {label, strlen(label)}};
    for (int i = 0; i < 7; i++) {
        int h = snprintf(heads[i], sizeof heads[i], "%zu:", strlen(fields[i]));
        parts[2 + 2 * i] = (sm_part){heads[i], (size_t)h};
        parts[3 + 2 * i] = (sm_part){fields[i], strlen(fields[i])};
    }
    if (key)
        assert_int_equal(sm_hmac(key, AUDIT_KEY_LEN, parts, 16, out), SM_OK);
    else
        assert_int_equal(sm3_digest(parts, 16, out), SM_OK);
}

/* Recomputes prev_hash and hash of every record from seq `from` on with
 * plain SM3 and label, as someone without the key would, through the
 * SQLite C API on the file. */
static void sm3_rehash_from(struct fx *f, int64_t from, const char *label)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL, *u = NULL;
    uint8_t prev[SM3_LEN] = {0}, h[SM3_LEN];
    char hex[AUDIT_HASH_HEX + 1];
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, ts, bank_id, actor, event, target, detail, "
                                        "prev_hash FROM audit_log WHERE seq >= ? ORDER BY seq",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", -1, &u,
                           NULL),
        SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_bind_int64(q, 1, from);
    bool first = true;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (first) /* the kept record before `from` links as it did */
            hex_decode((const char *)sqlite3_column_text(q, 7), AUDIT_HASH_HEX, prev, SM3_LEN);
        first = false;
        chain_hash(NULL, label, prev, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                   sqlite3_column_int64(q, 2), (const char *)sqlite3_column_text(q, 3),
                   (const char *)sqlite3_column_text(q, 4), (const char *)sqlite3_column_text(q, 5),
                   (const char *)sqlite3_column_text(q, 6), h);
        hex_encode(prev, SM3_LEN, hex, sizeof hex);
        sqlite3_bind_text(u, 1, hex, -1, SQLITE_TRANSIENT);
        hex_encode(h, SM3_LEN, hex, sizeof hex);
        sqlite3_bind_text(u, 2, hex, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 3, sqlite3_column_int64(q, 0));
        assert_int_equal(sqlite3_step(u), SQLITE_DONE);
        sqlite3_reset(u);
        memcpy(prev, h, SM3_LEN);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    sqlite3_close(db);
}

/* n records as a database from before the key holds them: SM3, label v1. */
static void make_legacy(struct fx *f, int n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    uint8_t prev[SM3_LEN] = {0}, h[SM3_LEN];
    char prev_hex[AUDIT_HASH_HEX + 1], hex[AUDIT_HASH_HEX + 1], target[16], detail[32];
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO audit_log (seq, ts, bank_id, actor, event, "
                                        "target, detail, prev_hash, hash) VALUES (?, ?, 1, "
                                        "'cli:root', 'teller.added', ?, ?, ?, ?)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    for (int i = 1; i <= n; i++) {
        int64_t ts = 1700000000000 + i;
        snprintf(target, sizeof target, "old%d", i);
        snprintf(detail, sizeof detail, "{\"n\":%d}", i);
        chain_hash(NULL, LABEL_V1, prev, i, ts, 1, "cli:root", "teller.added", target, detail, h);
        hex_encode(prev, SM3_LEN, prev_hex, sizeof prev_hex);
        hex_encode(h, SM3_LEN, hex, sizeof hex);
        sqlite3_bind_int64(ins, 1, i);
        sqlite3_bind_int64(ins, 2, ts);
        sqlite3_bind_text(ins, 3, target, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 4, detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 5, prev_hex, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 6, hex, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        memcpy(prev, h, SM3_LEN);
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
}

/* One text value from parameterless SQL, copied into out. */
static void q_text(struct fx *f, const char *sql, char *out, size_t cap)
{
    struct store_stmt *s = NULL;
    assert_int_equal(store_prepare(f->c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    snprintf(out, cap, "%s", store_col_text(s, 0) ? store_col_text(s, 0) : "");
    store_finish(s);
}

/* The audit context again, with another checkpoint_every. */
static void reopen(struct fx *f, int64_t every)
{
    char err[512];
    struct audit_options o = {
        .key_dir = f->keys, .checkpoint_file = f->cpfile, .checkpoint_every = every};
    audit_close();
    if (audit_open(&o, err, sizeof err) != ID_OK)
        fail_msg("audit_open: %s", err);
}

/* n records, each in its own transaction, taking a due checkpoint after each
 * (what a CLI command does when it closes). */
static void append_checkpointed(struct fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "test.event", "t", NULL)), ID_OK);
        assert_int_equal(audit_checkpoint_if_due(f->st), ID_OK);
    }
}

static int64_t file_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    int64_t n = 0;
    for (int ch; fp && (ch = fgetc(fp)) != EOF;)
        n += ch == '\n';
    if (fp)
        fclose(fp);
    return fp ? n : -1;
}

static void copy_file(const char *from, const char *to)
{
    char buf[8192];
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    assert_non_null(in);
    assert_non_null(out);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void expect_bad(struct fx *f, const char *file, int64_t seq, const char *why)
{
    struct audit_report r;
    int rc = audit_verify(f->st, file, &r);
    if (rc != ID_CORRUPT || r.first_bad != seq || (why && !strstr(r.reason, why)))
        fail_msg("audit_verify: %s, first_bad %lld, want corrupt at %lld (%s): %s", id_rc_name(rc),
                 (long long)r.first_bad, (long long)seq, why ? why : "", r.reason);
}

static void test_intact(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.records, 0);
    assert_string_equal(r.head, "0000000000000000000000000000000000000000000000000000000000000000");
    append_n(f, 5);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.records, 5);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(q_int(f, "SELECT MIN(seq) FROM audit_log"), 1);
    assert_int_equal(q_int(f, "SELECT MAX(seq) FROM audit_log"), 5);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log a JOIN audit_log b "
                              "ON b.seq = a.seq + 1 WHERE b.prev_hash = a.hash"),
                     4);
}

static void test_detects_update(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    raw_exec(f, "UPDATE audit_log SET detail = '{\"n\":99,\"note\":\"x\"}' WHERE seq = 3");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 3);
    assert_int_equal(r.records, 2);
    assert_non_null(strstr(r.reason, "altered"));
}

static void test_detects_rehashed_update(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    /* Even with the record's own hash replaced, the next record's link breaks. */
    raw_exec(f, "UPDATE audit_log SET actor = 'someone', "
                "hash = '1111111111111111111111111111111111111111111111111111111111111111' "
                "WHERE seq = 2");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 2);
    raw_exec(f, "UPDATE audit_log SET prev_hash = "
                "'2222222222222222222222222222222222222222222222222222222222222222' WHERE seq = 1");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 1);
}

static void test_detects_delete(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    raw_exec(f, "DELETE FROM audit_log WHERE seq = 4");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 4);
    assert_non_null(strstr(r.reason, "missing"));
}

static void test_detects_delete_and_renumber(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    /* Closing the gap does not help: record 3's successor no longer links. */
    raw_exec(f, "DELETE FROM audit_log WHERE seq = 3; "
                "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 3);
}

static void test_detects_insert(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 3);
    raw_exec(f, "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, "
                "prev_hash, hash) SELECT 4, ts, bank_id, 'cli:root', 'teller.added', 'ghost', "
                "'{}', hash, '3333333333333333333333333333333333333333333333333333333333333333' "
                "FROM audit_log WHERE seq = 3");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 4);
    assert_int_equal(r.records, 3);
}

static void test_detects_insert_between(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 4);
    /* A fractional seq sorts between 2 and 3. */
    raw_exec(f, "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, "
                "prev_hash, hash) SELECT 2.5, ts, bank_id, actor, event, target, detail, "
                "prev_hash, hash FROM audit_log WHERE seq = 3");
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 3);
    assert_int_equal(r.records, 2);
}

static void test_rolls_back_with_the_write(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 2);
    assert_int_equal(store_begin(f->c), STORE_OK);
    assert_int_equal(audit_append(f->c, 1, ACTOR, "test.gone", "", NULL), ID_OK);
    assert_int_equal(store_rollback(f->c), STORE_OK);
    append_n(f, 1);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.records, 3);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'test.gone'"), 0);
}

static void test_input(void **state)
{
    struct fx *f = *state;
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "e", "t", "{\"b\":1,\"a\":[2,3]}")), ID_OK);
    struct store_stmt *s = NULL;
    assert_int_equal(store_prepare(f->c, "SELECT detail FROM audit_log WHERE seq = 1", &s),
                     STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    assert_string_equal(store_col_text(s, 0), "{\"a\":[2,3],\"b\":1}");
    store_finish(s);
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "e", "t", "[1]")), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "e", "t", "{bad")), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 1, "a\nb", "e", "t", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 1, "", "e", "t", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, -1, ACTOR, "e", "t", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 0, ACTOR, "platform.event", "", NULL)), ID_OK);
}

struct seen {
    int n;
    int64_t last_seq;
    int64_t bank_id; /* -1: any */
    bool ordered;
};

static int see(const struct audit_record *r, void *arg)
{
    struct seen *s = arg;
    if (s->bank_id >= 0)
        assert_int_equal(r->bank_id, s->bank_id);
    s->ordered = s->ordered && (s->last_seq == 0 || r->seq < s->last_seq);
    s->last_seq = r->seq;
    assert_non_null(r->detail);
    s->n++;
    return 0;
}

static void test_list(void **state)
{
    struct fx *f = *state;
    int64_t b01 = bank_id(f, "B01"), b02 = bank_id(f, "B02");
    int64_t total = q_int(f, "SELECT COUNT(*) FROM audit_log");
    struct seen all = {0, 0, -1, true}, one = {0, 0, b01, true}, page = {0, 0, -1, true};
    assert_int_equal(audit_list(f->c, 0, 0, 0, AUDIT_LIST_MAX, see, &all), ID_OK);
    assert_int_equal(all.n, total);
    assert_true(all.ordered);
    assert_int_equal(audit_list(f->c, b01, 0, 0, 100, see, &one), ID_OK);
    assert_true(one.n > 0 && one.n < total);
    assert_int_equal(audit_list(f->c, 0, 0, 5, 2, see, &page), ID_OK);
    assert_int_equal(page.n, 2);
    assert_int_equal(page.last_seq, 3);
    /* A branch: the records about its tellers (demo03 is B02's branch 01). */
    struct teller t;
    struct seen br = {0, 0, b02, true};
    assert_int_equal(teller_find(f->c, "demo03", &t), ID_OK);
    assert_int_equal(audit_list(f->c, b02, t.branch_id, 0, 100, see, &br), ID_OK);
    assert_int_equal(br.n, 2); /* teller.added: demo03, and mgr02 of the same branch */
    assert_int_equal(audit_list(f->c, 0, t.branch_id, 0, 100, see, &br), ID_BAD_INPUT);
    assert_int_equal(audit_list(f->c, 0, 0, 0, 0, see, &br), ID_BAD_INPUT);
    assert_int_equal(audit_list(f->c, 0, 0, 0, AUDIT_LIST_MAX + 1, see, &br), ID_BAD_INPUT);
}

static void test_demo_chain(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.records, q_int(f, "SELECT COUNT(*) FROM audit_log"));
    assert_true(r.records >= 14);
}

/* ---- the key ----------------------------------------------------------------------- */

/* Each hash is HMAC-SM3 under keys/audit.key, computed here from the file's
 * 64 hex digits: not the plain SM3 of the old chain. */
static void test_hash_is_keyed(void **state)
{
    struct fx *f = *state;
    char path[200], text[80], stored[AUDIT_HASH_HEX + 1], want[AUDIT_HASH_HEX + 1], ts[24];
    uint8_t key[AUDIT_KEY_LEN], zero[SM3_LEN] = {0}, h[SM3_LEN];
    snprintf(path, sizeof path, "%s/%s", f->keys, AUDIT_KEY_FILE);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(text, sizeof text, fp));
    fclose(fp);
    assert_int_equal(hex_decode(text, 2 * AUDIT_KEY_LEN, key, sizeof key), AUDIT_KEY_LEN);
    assert_int_equal(TX(f, audit_append(f->c, 0, ACTOR, "test.keyed", "x", "{\"a\":1}")), ID_OK);
    q_text(f, "SELECT hash FROM audit_log WHERE seq = 1", stored, sizeof stored);
    q_text(f, "SELECT ts FROM audit_log WHERE seq = 1", ts, sizeof ts);
    chain_hash(key, LABEL_V2, zero, 1, strtoll(ts, NULL, 10), 0, ACTOR, "test.keyed", "x",
               "{\"a\":1}", h);
    hex_encode(h, SM3_LEN, want, sizeof want);
    assert_string_equal(stored, want);
    chain_hash(NULL, LABEL_V1, zero, 1, strtoll(ts, NULL, 10), 0, ACTOR, "test.keyed", "x",
               "{\"a\":1}", h);
    hex_encode(h, SM3_LEN, want, sizeof want);
    assert_string_not_equal(stored, want);
}

/* The attack the key is for: change a record, then recompute it and every
 * later hash with plain SM3 (old label or new): the old code's verify passed this. */
static void test_detects_sm3_rehash(void **state)
{
    struct fx *f = *state;
    static const char *const labels[] = {LABEL_V1, LABEL_V2};
    for (int i = 0; i < 2; i++) {
        struct audit_report r;
        append_n(f, 5);
        raw_exec(f, "UPDATE audit_log SET detail = '{\"n\":99,\"note\":\"x\"}' WHERE seq = 3");
        sm3_rehash_from(f, 3, labels[i]);
        expect_bad(f, NULL, 3, "without the key");
        assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
        assert_int_equal(r.records, 2);
        /* Rehashing the whole chain does not pass either: it is read as an
         * unkeyed log, which a keyed data directory never holds. */
        sm3_rehash_from(f, 1, LABEL_V1);
        expect_bad(f, NULL, 1, "replaced");
        raw_exec(f, "DELETE FROM audit_log");
    }
}

static void test_key_missing_or_unsafe(void **state)
{
    struct fx *f = *state;
    char key[200], moved[220], err[512];
    struct audit_options o = {
        .key_dir = f->keys, .checkpoint_file = f->cpfile, .checkpoint_every = 1000};
    snprintf(key, sizeof key, "%s/%s", f->keys, AUDIT_KEY_FILE);
    snprintf(moved, sizeof moved, "%s.moved", key);
    audit_close();
    /* Without the context no record is written, keyed or not. */
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "test.event", "", NULL)), ID_ERR);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log"), 0);
    assert_int_equal(rename(key, moved), 0);
    assert_int_equal(audit_open(&o, err, sizeof err), ID_NOT_FOUND);
    assert_non_null(strstr(err, "audit.key: missing"));
    assert_false(audit_is_open());
    o.verify_only = true; /* a verifier needs it as much */
    assert_int_equal(audit_open(&o, err, sizeof err), ID_NOT_FOUND);
    assert_non_null(strstr(err, "audit.key: missing"));
    assert_false(audit_is_open());
    o.verify_only = false;
    assert_int_equal(rename(moved, key), 0);
    assert_int_equal(chmod(key, 0644), 0);
    assert_int_equal(audit_open(&o, err, sizeof err), ID_BAD_INPUT);
    assert_non_null(strstr(err, "0600"));
    assert_int_equal(chmod(key, 0600), 0);
    /* A public file that is not the signing key's half. */
    char pub[200], saved[220];
    snprintf(pub, sizeof pub, "%s/%s", f->keys, AUDIT_PUB_FILE);
    snprintf(saved, sizeof saved, "%s.saved", pub);
    assert_int_equal(rename(pub, saved), 0);
    FILE *fp = fopen(pub, "w");
    assert_non_null(fp);
    fprintf(fp, "%s\n",
            "04745f9bfca4ad1b3783a396c71a44855d759a660b4681d6702dba2e895e23260360e6dbf5cdd25a8d5b43"
            "51dac82d60a3ab2a4b3a8aecebc90a8dd5e439c7a85c");
    fclose(fp);
    assert_int_equal(audit_open(&o, err, sizeof err), ID_BAD_INPUT);
    assert_non_null(strstr(err, "not the public half"));
    assert_int_equal(rename(saved, pub), 0);
    /* A verifier needs no private key. */
    char sign[200], hidden[220];
    snprintf(sign, sizeof sign, "%s/%s", f->keys, AUDIT_SIGN_FILE);
    snprintf(hidden, sizeof hidden, "%s.hidden", sign);
    assert_int_equal(rename(sign, hidden), 0);
    o.verify_only = true;
    assert_int_equal(audit_open(&o, err, sizeof err), ID_OK);
    audit_close();
    o.verify_only = false;
    assert_int_equal(audit_open(&o, err, sizeof err), ID_NOT_FOUND);
    assert_int_equal(rename(hidden, sign), 0);
    assert_int_equal(audit_open(&o, err, sizeof err), ID_OK);
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "test.event", "", NULL)), ID_OK);
    /* The files are created once and never overwritten. */
    assert_int_equal(audit_keys_create(f->keys, err, sizeof err), ID_EXISTS);
}

/* Another key (the file replaced, or the wrong backup restored): start-up refuses. */
static void test_wrong_key_refused(void **state)
{
    struct fx *f = *state;
    char key[200], err[512];
    struct audit_upgrade up;
    append_n(f, 3);
    snprintf(key, sizeof key, "%s/%s", f->keys, AUDIT_KEY_FILE);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(audit_keys_create(f->keys, err, sizeof err), ID_OK);
    reopen(f, 1000);
    assert_int_equal(audit_prepare(f->st, ACTOR, &up, err, sizeof err), ID_CORRUPT);
    assert_non_null(strstr(err, "does not verify under the audit key"));
    expect_bad(f, NULL, 1, "without the key");
}

/* ---- checkpoints --------------------------------------------------------------------- */

static void test_checkpoint_every_n(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    reopen(f, 4);
    append_checkpointed(f, 9);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_checkpoints"), 2);
    assert_int_equal(q_int(f, "SELECT MIN(seq) FROM audit_checkpoints"), 4);
    assert_int_equal(q_int(f, "SELECT MAX(seq) FROM audit_checkpoints"), 8);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_checkpoints c JOIN audit_log l "
                              "ON l.seq = c.seq WHERE l.hash = c.hash"),
                     2);
    assert_int_equal(file_lines(f->cpfile), 2);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.records, 9);
    assert_int_equal(r.checkpoints, 2);
    assert_int_equal(r.file_checkpoints, 2);
    assert_int_equal(r.unshipped, 0);
    assert_int_equal(r.last.seq, 8);
    assert_true(r.last.ts > 0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE seq = 8 AND hash = "
                              "(SELECT hash FROM audit_checkpoints WHERE seq = 8)"),
                     1);
    /* Nothing new: no second checkpoint of the same head. */
    struct audit_checkpoint cp;
    append_n(f, 3); /* seq 10..12, 12 due, but nobody takes it */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_checkpoints"), 2);
    assert_int_equal(audit_checkpoint(f->st, &cp), ID_OK);
    assert_int_equal(cp.seq, 12);
    assert_int_equal(audit_checkpoint(f->st, &cp), ID_EXISTS);
    assert_int_equal(cp.seq, 12);
    assert_int_equal(audit_checkpoint_if_due(f->st), ID_OK); /* the due mark: same head */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_checkpoints"), 3);
    assert_int_equal(file_lines(f->cpfile), 3);
}

/* ---- chains of several databases ---------------------------------------------------- */

static int append_txn(struct store_conn *c, void *arg)
{
    return audit_append(c, *(int64_t *)arg, ACTOR, "test.shard", "t", NULL);
}

/* A second database, "s1", beside the fixture's (main). */
static struct store *open_s1(struct fx *f)
{
    char path[192];
    snprintf(path, sizeof path, "%s/s1.db", f->dir);
    struct store_config cfg = {
        .backend = "sqlite", .path = path, .pool_size = 2, .busy_timeout_ms = 5000};
    struct store *st = NULL;
    assert_int_equal(store_open(&cfg, &st), STORE_OK);
    assert_int_equal(store_migrate(st), STORE_OK);
    return st;
}

static void append_on(struct store *st, int64_t bank, int n)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(store_run(c, "test.append", append_txn, &bank), ID_OK);
    store_release(c);
}

struct seen_chains {
    char key[64][24]; /* "chain:seq" */
    int64_t ts[64];
    size_t n;
};

static int see_chain(const char *chain, const struct audit_record *r, void *arg)
{
    struct seen_chains *v = arg;
    assert_true(v->n < 64);
    v->ts[v->n] = r->ts;
    snprintf(v->key[v->n++], sizeof v->key[0], "%s:%lld", chain, (long long)r->seq);
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Records of two chains, merged and paged: each once, even with s1's clock
 * set back (higher seq, older ts); every malformed cursor is refused. */
static void test_list_chains(void **state)
{
    struct fx *f = *state;
    struct store *s1 = open_s1(f);
    struct audit_chain v[2] = {{.name = AUDIT_CHAIN_MAIN, .st = f->st}, {.name = "s1", .st = s1}};
    struct audit_chains cs = {.n = 2, .v = v};
    append_on(f->st, 1, 3);
    append_on(s1, 1, 4);
    clock_set_offset_ms(-3600 * 1000);
    append_on(s1, 1, 2); /* s1's seq 5, 6: an hour older than its seq 4 */
    append_on(f->st, 2, 1);
    clock_set_offset_ms(0);
    char next[AUDIT_CURSOR_MAX], before[AUDIT_CURSOR_MAX];

    struct seen_chains all = {0};
    assert_int_equal(
        audit_list_chains(&cs, f->c, 0, 0, NULL, 100, see_chain, &all, next, sizeof next), ID_OK);
    assert_int_equal(all.n, 10);
    assert_string_equal(next, "");
    /* Each chain in its own order (seq descending): main's head first, its
     * clock was set back too. */
    assert_string_equal(all.key[0], "main:4");

    struct seen_chains paged = {0};
    before[0] = '\0';
    for (int pages = 0; pages < 20; pages++) {
        size_t had = paged.n;
        assert_int_equal(
            audit_list_chains(&cs, f->c, 0, 0, before, 3, see_chain, &paged, next, sizeof next),
            ID_OK);
        assert_true(paged.n - had <= 3);
        if (!*next)
            break;
        snprintf(before, sizeof before, "%s", next);
    }
    assert_int_equal(paged.n, all.n);
    qsort(all.key, all.n, sizeof all.key[0], by_key);
    qsort(paged.key, paged.n, sizeof paged.key[0], by_key);
    for (size_t i = 0; i < all.n; i++)
        assert_string_equal(all.key[i], paged.key[i]);

    /* Bank 2: main's one record; the scope holds in every chain. */
    struct seen_chains b2 = {0};
    assert_int_equal(
        audit_list_chains(&cs, f->c, 2, 0, NULL, 10, see_chain, &b2, next, sizeof next), ID_OK);
    assert_int_equal(b2.n, 1);
    assert_string_equal(b2.key[0], "main:4");
    /* A plain SEQ is main's; a cursor names each chain at most once. */
    struct seen_chains one = {0};
    assert_int_equal(
        audit_list_chains(&cs, f->c, 0, 0, "3", 10, see_chain, &one, next, sizeof next), ID_OK);
    assert_int_equal(one.n, 2);
    assert_string_equal(one.key[0], "main:2");
    static const char *const bad[] = {"0",         "x",           "main:0",  "main:x",
                                      "main:",     ":3",          "s9:3",    "main:3,",
                                      "s1:2,s1:3", "main:3;s1:2", "main:-1", "s1:3:4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct seen_chains none = {0};
        if (audit_list_chains(&cs, f->c, 0, 0, bad[i], 10, see_chain, &none, next, sizeof next) !=
            ID_BAD_INPUT)
            fail_msg("cursor \"%s\" accepted", bad[i]);
    }
    store_close(s1);
}

/* Each chain verified and checkpointed on its own, into its own file. */
static void test_chains_checkpointed_apart(void **state)
{
    struct fx *f = *state;
    struct store *s1 = open_s1(f);
    struct audit_chain v[2] = {{.name = AUDIT_CHAIN_MAIN, .st = f->st}, {.name = "s1", .st = s1}};
    assert_int_equal(audit_checkpoint_path_of(f->dir, "s1", v[1].file, sizeof v[1].file), 0);
    assert_non_null(strstr(v[1].file, "/audit-checkpoints-s1.jsonl"));
    struct audit_chains cs = {.n = 2, .v = v};
    append_on(f->st, 1, 2);
    append_on(s1, 1, 5);
    assert_int_equal(audit_checkpoint_all(&cs), ID_OK);
    struct audit_report r;
    assert_int_equal(audit_verify_chain(&v[1], NULL, &r), ID_OK);
    assert_int_equal(r.records, 5);
    assert_int_equal(r.last.seq, 5);
    assert_int_equal(r.file_checkpoints, 1);
    assert_int_equal(audit_verify_chain(&v[0], NULL, &r), ID_OK);
    assert_int_equal(r.last.seq, 2);
    assert_int_equal(r.file_checkpoints, 1); /* the context's file */
    assert_int_equal(file_lines(v[1].file), 1);
    assert_int_equal(file_lines(f->cpfile), 1);
    /* s1's tail cut below its checkpoint: found in s1, main intact. */
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(s1, &c), STORE_OK);
    assert_int_equal(store_exec(c, "DELETE FROM audit_log WHERE seq >= 4"), STORE_OK);
    store_release(c);
    assert_int_equal(audit_verify_chain(&v[1], NULL, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 4);
    assert_int_equal(audit_verify_chain(&v[0], NULL, &r), ID_OK);
    store_close(s1);
}

/* The server's thread takes what comes due, in a transaction of its own. */
static void test_checkpointer_thread(void **state)
{
    struct fx *f = *state;
    reopen(f, 5);
    struct audit_chain ch = {.name = AUDIT_CHAIN_MAIN, .st = f->st}; /* file: the context's */
    struct audit_chains cs = {.n = 1, .v = &ch};
    assert_int_equal(audit_checkpointer_start(&cs), 0);
    append_n(f, 12);
    for (int i = 0;
         i < 500 && q_int(f, "SELECT COUNT(*) FROM audit_checkpoints WHERE seq >= 10") == 0; i++)
        usleep(10000);
    assert_true(audit_checkpointer_stop());
    assert_false(audit_checkpointer_stop());
    assert_true(q_int(f, "SELECT MAX(seq) FROM audit_checkpoints") >= 10);
    assert_int_equal(file_lines(f->cpfile), q_int(f, "SELECT COUNT(*) FROM audit_checkpoints"));
}

static void test_empty_log_checkpoint(void **state)
{
    struct fx *f = *state;
    struct audit_checkpoint cp;
    struct audit_report r;
    assert_int_equal(audit_checkpoint(f->st, &cp), ID_NOT_FOUND);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.last.seq, 0);
    assert_int_equal(r.file_checkpoints, 0);
}

/* A crash between commit and file, or in the middle of a line: the next
 * checkpoint puts the file right (only committed checkpoints, each once). */
static void test_checkpoint_file_heals(void **state)
{
    struct fx *f = *state;
    struct audit_checkpoint cp;
    struct audit_report r;
    reopen(f, 3);
    append_checkpointed(f, 7); /* checkpoints 3 and 6 */
    assert_int_equal(file_lines(f->cpfile), 2);
    /* The lines lost (committed, never written): the next checkpoint ships them too. */
    assert_int_equal(truncate(f->cpfile, 0), 0);
    assert_int_equal(audit_checkpoint(f->st, &cp), ID_OK);
    assert_int_equal(cp.seq, 7);
    assert_int_equal(file_lines(f->cpfile), 3);
    /* A line cut short: refused by verify, dropped by the next append. */
    FILE *fp = fopen(f->cpfile, "a");
    assert_non_null(fp);
    fputs("{\"seq\":8,\"ts\":17", fp);
    fclose(fp);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_BAD_INPUT); /* not a checkpoint line */
    assert_int_equal(audit_checkpoint(f->st, &cp), ID_EXISTS);     /* ships, drops the stub */
    assert_int_equal(file_lines(f->cpfile), 3);                    /* 3, 6 and 7, once each */
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.file_checkpoints, 3);
    assert_int_equal(r.last.seq, 7);
}

/* Cutting the tail down to, or below, a checkpoint is found. */
static void test_truncated_below_checkpoint(void **state)
{
    struct fx *f = *state;
    reopen(f, 3);
    append_checkpointed(f, 7); /* checkpoints 3 and 6 */
    raw_exec(f, "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq >= 3");
    raw_exec(f, "DELETE FROM audit_log WHERE seq >= 6");
    expect_bad(f, NULL, 6, "tail was cut off");
    raw_exec(f, "DELETE FROM audit_log WHERE seq >= 3");
    expect_bad(f, NULL, 3, "checkpoint 6");
    /* ... also once the attacker deleted the database's checkpoints: the file keeps them. */
    raw_exec(f, "DELETE FROM audit_checkpoints");
    expect_bad(f, NULL, 3, "missing");
    raw_exec(f, "INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
    expect_bad(f, NULL, 3, "missing from the database");
}

/* Checkpoints deleted from the database are found against a shipped copy of the file. */
static void test_checkpoint_deleted_shipped_file(void **state)
{
    struct fx *f = *state;
    char shipped[200];
    struct audit_report r;
    reopen(f, 3);
    append_checkpointed(f, 7);
    snprintf(shipped, sizeof shipped, "%s/shipped.jsonl", f->dir);
    copy_file(f->cpfile, shipped);
    assert_int_equal(audit_verify(f->st, shipped, &r), ID_OK);
    assert_int_equal(r.file_checkpoints, 2);
    raw_exec(f, "DELETE FROM audit_checkpoints WHERE seq = 6");
    expect_bad(f, shipped, 6, "missing from the database (deleted)");
    /* Cut below it as well: the cut is what is reported first. */
    raw_exec(f, "DELETE FROM audit_log WHERE seq >= 5");
    expect_bad(f, shipped, 5, "tail was cut off");
    /* A file named must exist; a malformed one is refused with its line. */
    char missing[220];
    snprintf(missing, sizeof missing, "%s/none.jsonl", f->dir);
    assert_int_equal(audit_verify(f->st, missing, &r), ID_NOT_FOUND);
    FILE *fp = fopen(shipped, "a");
    fputs("{\"seq\":9}\n", fp);
    fclose(fp);
    assert_int_equal(audit_verify(f->st, shipped, &r), ID_BAD_INPUT);
    assert_non_null(strstr(r.reason, ":3: not a checkpoint line"));
}

static void test_forged_checkpoint(void **state)
{
    struct fx *f = *state;
    reopen(f, 3);
    append_checkpointed(f, 7);
    char sig[AUDIT_SIG_HEX + 1], sql[512];
    q_text(f, "SELECT sig FROM audit_checkpoints WHERE seq = 6", sig, sizeof sig);
    /* One hex digit of the signature. */
    char bad[AUDIT_SIG_HEX + 1];
    memcpy(bad, sig, sizeof sig);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    snprintf(sql, sizeof sql, "UPDATE audit_checkpoints SET sig = '%s' WHERE seq = 6", bad);
    raw_exec(f, sql);
    expect_bad(f, NULL, 6, "signature does not verify");
    snprintf(sql, sizeof sql, "UPDATE audit_checkpoints SET sig = '%s' WHERE seq = 6", sig);
    raw_exec(f, sql);
    /* Another seq under a genuine signature. */
    raw_exec(f, "UPDATE audit_checkpoints SET seq = 7 WHERE seq = 6");
    expect_bad(f, NULL, 6, "missing from the database");
    raw_exec(f, "UPDATE audit_checkpoints SET seq = 6 WHERE seq = 7");
    /* A checkpoint signed by the attacker's own SM2 key. */
    sm2_key *k = NULL;
    uint8_t der[SM2_SIG_MAX];
    size_t n = 0;
    char hash[AUDIT_HASH_HEX + 1], msg[200], hex[AUDIT_SIG_HEX + 1];
    q_text(f, "SELECT hash FROM audit_log WHERE seq = 7", hash, sizeof hash);
    snprintf(msg, sizeof msg, "zhanye audit checkpoint v1|7|%s|1767225600000", hash);
    sm_part p = {msg, strlen(msg)};
    assert_int_equal(sm2_key_generate(&k), SM_OK);
    assert_int_equal(sm2_sign(k, &p, 1, der, sizeof der, &n), SM_OK);
    sm2_key_free(k);
    hex_encode(der, n, hex, sizeof hex);
    snprintf(sql, sizeof sql,
             "INSERT INTO audit_checkpoints (seq, ts, hash, sig) VALUES (7, 1767225600000, '%s', "
             "'%s')",
             hash, hex);
    raw_exec(f, sql);
    expect_bad(f, NULL, 7, "signature does not verify");
    /* Forged rows are never copied into the file, nor signed over. */
    struct audit_checkpoint cp;
    assert_int_equal(audit_checkpoint(f->st, &cp), ID_CORRUPT);
    assert_int_equal(file_lines(f->cpfile), 2);
}

/* ---- the upgrade of a database from before the key ------------------------------------ */

static void test_legacy_rekeyed(void **state)
{
    struct fx *f = *state;
    struct audit_upgrade up;
    struct audit_report r;
    char err[512], legacy_head[AUDIT_HASH_HEX + 1], detail[64];
    make_legacy(f, 5);
    assert_int_equal(unlink(f->cpfile), 0); /* data directories from before had none */
    q_text(f, "SELECT hash FROM audit_log WHERE seq = 5", legacy_head, sizeof legacy_head);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_true(r.legacy);
    assert_int_equal(r.records, 5);
    assert_int_equal(audit_prepare(f->st, ACTOR, &up, err, sizeof err), ID_OK);
    assert_int_equal(up.rekeyed, 5);
    assert_string_equal(up.legacy_head, legacy_head);
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_false(r.legacy);
    assert_int_equal(r.records, 6);
    assert_int_equal(r.last.seq, 6);
    assert_int_equal(file_lines(f->cpfile), 1);
    q_text(f, "SELECT event FROM audit_log WHERE seq = 6", detail, sizeof detail);
    assert_string_equal(detail, "audit.rekeyed");
    q_text(f, "SELECT detail FROM audit_log WHERE seq = 6", err, sizeof err);
    assert_non_null(strstr(err, "\"records\":5"));
    assert_non_null(strstr(err, legacy_head));
    /* The records themselves are untouched; only their hashes changed. */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE seq <= 5 AND actor = "
                              "'cli:root' AND target = 'old' || seq"),
                     5);
    q_text(f, "SELECT hash FROM audit_log WHERE seq = 5", detail, sizeof detail);
    assert_string_not_equal(detail, legacy_head);
    /* Once only. */
    assert_int_equal(audit_prepare(f->st, ACTOR, &up, err, sizeof err), ID_OK);
    assert_int_equal(up.rekeyed, 0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log"), 6);
}

static void test_legacy_broken_refused(void **state)
{
    struct fx *f = *state;
    struct audit_upgrade up;
    char err[512];
    make_legacy(f, 5);
    assert_int_equal(unlink(f->cpfile), 0);
    raw_exec(f, "UPDATE audit_log SET target = 'someone' WHERE seq = 3");
    assert_int_equal(audit_prepare(f->st, ACTOR, &up, err, sizeof err), ID_CORRUPT);
    assert_non_null(strstr(err, "broken at record 3"));
    assert_int_equal(up.rekeyed, 0);
    /* Nothing was re-chained, nothing appended, no checkpoint, no file. */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log"), 5);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_checkpoints"), 0);
    assert_int_equal(access(f->cpfile, F_OK), -1);
    struct audit_report r;
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_CORRUPT);
    assert_true(r.legacy);
    assert_int_equal(r.first_bad, 3);
}

/* An unkeyed log in a data directory that was keyed: replaced, never blessed. */
static void test_legacy_in_keyed_directory_refused(void **state)
{
    struct fx *f = *state;
    struct audit_upgrade up;
    char err[512];
    make_legacy(f, 4); /* the checkpoint file `init` created is there */
    assert_int_equal(audit_prepare(f->st, ACTOR, &up, err, sizeof err), ID_CORRUPT);
    assert_non_null(strstr(err, "the log was replaced"));
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log"), 4);
    expect_bad(f, NULL, 1, "replaced");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intact, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_update, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_rehashed_update, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_delete, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_delete_and_renumber, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_insert, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_insert_between, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rolls_back_with_the_write, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_input, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_demo_chain, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_hash_is_keyed, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_sm3_rehash, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_key_missing_or_unsafe, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_refused, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_every_n, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpointer_thread, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_chains, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_chains_checkpointed_apart, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_empty_log_checkpoint, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_file_heals, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_below_checkpoint, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_deleted_shipped_file, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_forged_checkpoint, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_rekeyed, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_broken_refused, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_in_keyed_directory_refused, fx_setup_empty,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
