/* idtest — fixture of the identity unit tests: a fresh data directory with
 * a migrated SQLite database, a KEK, the audit keys and the audit context
 * open on them (identity/audit.h), and (fx_setup_demo) the demo
 * organisation, all in /tmp; the wall clock is reset after each test. */
#ifndef ZHANYE_IDTEST_H
#define ZHANYE_IDTEST_H

#include "data/store.h"
#include "foundation/clock.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"
#include "identity/binding.h"
#include "identity/demo.h"
#include "identity/device.h"
#include "identity/kek.h"
#include "identity/org.h"
#include "identity/session.h"
#include "identity/teller.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ACTOR "test"
#define DEV_A "5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0e"
#define DEV_B "0123456789abcdef0123456789abcdef"
#define DEV_C "fedcba9876543210fedcba9876543210"

struct fx {
    char dir[64];
    char db[128];
    char keys[128];
    char cpfile[160]; /* the audit checkpoint file */
    struct store *st;
    struct store_conn *c;
    struct kek kek;
};

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int fx_setup(void **state, int demo)
{
    char kek_file[160];
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/zhanye-id-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/zhanye.db", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys", f->dir);
    snprintf(f->cpfile, sizeof f->cpfile, "%s/%s", f->dir, AUDIT_CHECKPOINT_FILE);
    struct store_config cfg = {
        .backend = "sqlite", .path = f->db, .pool_size = 2, .busy_timeout_ms = 5000};
    struct audit_options ao = {
        .key_dir = f->keys, .checkpoint_file = f->cpfile, .checkpoint_every = 1000};
    char err[512] = "";
    int ok = store_open(&cfg, &f->st) == STORE_OK && store_migrate(f->st) == STORE_OK &&
             kek_create(f->keys) == ID_OK && kek_path(f->keys, kek_file, sizeof kek_file) == 0 &&
             kek_load(kek_file, &f->kek) == ID_OK &&
             audit_keys_create(f->keys, err, sizeof err) == ID_OK &&
             audit_checkpoint_file_create(f->cpfile) == ID_OK &&
             audit_open(&ao, err, sizeof err) == ID_OK &&
             (!demo || demo_seed(f->st, &f->kek, PW) == ID_OK) &&
             store_acquire(f->st, &f->c) == STORE_OK;
    *state = f;
    if (!ok)
        fprintf(stderr, "setup: %s %s\n", store_errmsg(NULL), err);
    return ok ? 0 : -1;
}

static inline int fx_setup_demo(void **state)
{
    return fx_setup(state, 1);
}

static inline int fx_setup_empty(void **state)
{
    return fx_setup(state, 0);
}

static inline int fx_teardown(void **state)
{
    struct fx *f = *state;
    clock_set_offset_ms(0);
    store_release(f->c);
    audit_checkpointer_stop();
    store_close(f->st);
    audit_close();
    kek_wipe(&f->kek);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Commits when rc is ID_OK, else rolls back; returns rc. Use as
 * tx_end(f, tx_begin(f) ? call : STORE_ERR) via the TX macro. */
static inline int tx_end(struct fx *f, int rc)
{
    if (rc == ID_OK)
        rc = store_commit(f->c);
    else
        store_rollback(f->c);
    return rc;
}

#define TX(f, call) tx_end((f), store_begin((f)->c) == STORE_OK ? (call) : STORE_ERR)

/* One integer from parameterless SQL on the fixture's connection. */
static inline int64_t q_int(struct fx *f, const char *sql)
{
    struct store_stmt *s = NULL;
    assert_int_equal(store_prepare(f->c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    return v;
}

static inline int64_t bank_id(struct fx *f, const char *code)
{
    struct bank b;
    assert_int_equal(org_find_bank(f->c, code, &b), ID_OK);
    return b.id;
}

/* Issues a ticket for tlr and activates dev with it; DS into ds (may be NULL). */
static inline int activate(struct fx *f, const char *tlr, const char *dev, int max_devices,
                           uint8_t ds[DS_LEN])
{
    char code[ACT_CODE_LEN + 1];
    int64_t exp = 0;
    struct ticket t;
    uint8_t tmp[DS_LEN];
    assert_int_equal(TX(f, activation_issue(f->c, &f->kek, ACTOR, tlr, code, &exp)), ID_OK);
    assert_int_equal(activation_lookup(f->c, &f->kek, tlr, &t), ID_OK);
    int rc = TX(f, binding_activate(f->c, &f->kek, &t, dev, "Pad", "Android 14", "1.0", "10.0.0.1",
                                    max_devices, ds ? ds : tmp));
    ticket_wipe(&t);
    return rc;
}

/* Logs tlr in on dev (password PW) and creates a session; the token into sid. */
static inline int login(struct fx *f, const char *tlr, const char *dev, int idle_s, int abs_s,
                        char sid[SESSION_TOKEN_LEN + 1])
{
    struct teller t;
    int rc = teller_verify_password(f->c, tlr, PW, NULL, &t);
    if (rc != ID_OK)
        return rc;
    return TX(f, session_create(f->c, &t, dev, idle_s, abs_s, sid));
}

#endif
