#include "faultloop.h"

#include "data/store_fault.h"
#include "dbsnap.h"
#include "foundation/clock.h"
#include "identity/audit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define REF2_SHIFT_MS (2 * 60 * 1000) /* the second reference run's clock */
#define OUTCOME_MAX 512

struct mode {
    const char *name;
    int status;
    bool persistent;
};

static const struct mode modes[] = {
    {.name = "error once", .status = STORE_ERR, .persistent = false},
    {.name = "busy once", .status = STORE_BUSY, .persistent = false},
    {.name = "busy for ever", .status = STORE_BUSY, .persistent = true},
    {.name = "out of memory for ever", .status = STORE_NOMEM, .persistent = true},
};

void faultloop_clock(int64_t t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    clock_set_offset_ms(t - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
}

int faultloop_init(struct faultloop *fl, const char *db_path, int pool)
{
    struct faultloop z = {.pool = pool > 0 ? pool : 2};
    *fl = z;
    if ((size_t)snprintf(fl->db, sizeof fl->db, "%s", db_path) >= sizeof fl->db)
        return -1;
    snprintf(fl->tmpl, sizeof fl->tmpl, "%s.tmpl", db_path);
    fl->t0 = clock_wall_ms();
    return dbsnap_copy_db(fl->db, fl->tmpl);
}

void faultloop_done(struct faultloop *fl)
{
    unlink(fl->tmpl);
}

static void close_store(struct faultloop *fl, const struct faultop *op, void *ctx)
{
    if (!fl->st)
        return;
    if (op->close)
        op->close(fl, ctx);
    store_close(fl->st);
    fl->st = NULL;
}

/* A fresh copy of the template on a fault store, the clock at t. */
static void fresh(struct faultloop *fl, const struct faultop *op, void *ctx, int64_t t)
{
    close_store(fl, op, ctx);
    store_fault_disarm();
    if (dbsnap_copy_db(fl->tmpl, fl->db) != 0)
        fail_msg("%s: cannot restore %s from its template", op->name, fl->db);
    struct store_config cfg = {.backend = STORE_FAULT_BACKEND,
                               .path = fl->db,
                               .pool_size = fl->pool,
                               .busy_timeout_ms = 1000};
    if (store_open(&cfg, &fl->st) != STORE_OK)
        fail_msg("%s: opening the fault store: %s", op->name, store_errmsg(NULL));
    faultloop_clock(t);
    if (op->open && op->open(fl, ctx) != 0)
        fail_msg("%s: the test's open hook failed", op->name);
    faultloop_clock(t);
    fl->stmts0 = store_fault_open_statements();
}

static struct dbsnap *snap(const struct faultloop *fl, const char *op)
{
    struct dbsnap *s = dbsnap_take(fl->db);
    if (!s)
        fail_msg("%s: cannot dump %s", op, fl->db);
    return s;
}

/* The checks every run ends with: no transaction or statement left behind,
 * the audit chain intact. */
static void check_clean(const struct faultloop *fl, const char *what)
{
    struct audit_report rep;
    long open = store_fault_open_statements() - fl->stmts0;
    store_fault_disarm();
    if (open != 0)
        fail_msg("%s: %ld statement(s) left unfinished", what, open);
    if (!dbsnap_unlocked(fl->db))
        fail_msg("%s: a transaction was left open (the write lock is held)", what);
    int rc = audit_verify(fl->st, NULL, &rep);
    if (rc != 0)
        fail_msg("%s: audit_verify %d: record %lld: %s", what, rc, (long long)rep.first_bad,
                 rep.reason);
}

struct refs {
    char outcome[OUTCOME_MAX];
    struct dbsnap *r1, *r2;
};

/* A run that succeeded must look like the fault-free runs. */
static void check_like_ref(const struct faultloop *fl, const struct refs *ref, const char *outcome,
                           const char *what)
{
    char why[600];
    if (strcmp(outcome, ref->outcome) != 0)
        fail_msg("%s: outcome \"%s\", fault-free \"%s\"", what, outcome, ref->outcome);
    struct dbsnap *after = snap(fl, what);
    bool like = dbsnap_like(after, ref->r1, ref->r2, why, sizeof why);
    dbsnap_free(after);
    if (!like)
        fail_msg("%s: the database differs from the fault-free run's: %s", what, why);
}

/* A failed run of an operation whose answer is stored apart may leave its
 * claim on the cseq pending when the database failed for good: dropping it
 * failed too, and it goes stale by itself (channel/idem.h). Everything else
 * exactly as before. */
static bool claim_left(const struct dbsnap *after, const struct dbsnap *before, const char *table)
{
    char why[600];
    return dbsnap_like_but(after, before, before, after, table, why, sizeof why) &&
           dbsnap_rows(after, table) == dbsnap_rows(before, table) + 1 &&
           dbsnap_count(after, table, "state", "'pending'") ==
               dbsnap_count(before, table, "state", "'pending'") + 1;
}

/* A run that succeeded without storing its answer: the fault-free outcome,
 * and its database but for table, which is as it was before or holds the
 * request's claim still pending (channel/idem.h: storing the answer failed,
 * and so did dropping the claim). */
static bool unanswered(const struct faultloop *fl, const struct refs *ref,
                       const struct dbsnap *before, const char *table, const char *outcome)
{
    char why[600];
    struct dbsnap *after = snap(fl, "unanswered");
    bool like = strcmp(outcome, ref->outcome) == 0 &&
                !dbsnap_like(after, ref->r1, ref->r2, why, sizeof why) &&
                (dbsnap_like_but(after, ref->r1, ref->r2, before, table, why, sizeof why) ||
                 (dbsnap_like_but(after, ref->r1, ref->r2, after, table, why, sizeof why) &&
                  dbsnap_rows(after, table) == dbsnap_rows(before, table) + 1 &&
                  dbsnap_count(after, table, "state", "'pending'") == 1));
    dbsnap_free(after);
    return like;
}

static void reference(struct faultloop *fl, const struct faultop *op, void *ctx, struct refs *ref)
{
    char out2[OUTCOME_MAX] = "", why[600];
    fresh(fl, op, ctx, fl->t0);
    store_fault_arm(0, STORE_OK, false);
    if (op->run(fl, ctx, ref->outcome, sizeof ref->outcome) != 0)
        fail_msg("%s: fails without any fault: %s", op->name, ref->outcome);
    fl->calls = store_fault_calls();
    check_clean(fl, op->name);
    ref->r1 = snap(fl, op->name);
    fresh(fl, op, ctx, fl->t0 + REF2_SHIFT_MS);
    store_fault_arm(0, STORE_OK, false);
    if (op->run(fl, ctx, out2, sizeof out2) != 0)
        fail_msg("%s: the second fault-free run fails", op->name);
    if (strcmp(out2, ref->outcome) != 0)
        fail_msg("%s: two fault-free runs differ: \"%s\" and \"%s\"", op->name, ref->outcome, out2);
    check_clean(fl, op->name);
    ref->r2 = snap(fl, op->name);
    if (!dbsnap_like(ref->r2, ref->r1, ref->r2, why, sizeof why))
        fail_msg("%s: %s", op->name, why);
}

/* One run with the fault at call n; returns true when it met the fault. */
static bool one(struct faultloop *fl, const struct faultop *op, void *ctx, const struct mode *m,
                long n, const struct refs *ref)
{
    char out[OUTCOME_MAX] = "", where[320], what[512], why[600];
    fresh(fl, op, ctx, fl->t0);
    struct dbsnap *before = snap(fl, op->name);
    store_fault_arm(n, m->status, m->persistent);
    int rc = op->run(fl, ctx, out, sizeof out);
    long hits = store_fault_hits();
    bool in_txn = store_fault_hit_in_txn();
    store_fault_describe(where, sizeof where);
    store_fault_disarm();
    snprintf(what, sizeof what, "%s, %s, N=%ld (%s)", op->name, m->name, n,
             hits ? where : "not reached");
    check_clean(fl, what);
    if (rc == FAULTOP_WRONG)
        fail_msg("%s: the store's failure came out as \"%s\"", what, out);
    if (!hits) {
        if (n != fl->calls + 1)
            fail_msg("%s: the fault-free run made %ld calls", what, fl->calls);
        if (rc != 0)
            fail_msg("%s: fails without meeting the fault", what);
        check_like_ref(fl, ref, out, what);
        dbsnap_free(before);
        return false;
    }
    fl->runs++;
    if (rc == 0 && op->answer_table && unanswered(fl, ref, before, op->answer_table, out)) {
        fl->unanswered++;
    } else if (rc == 0) {
        check_like_ref(fl, ref, out, what);
        if (m->status == STORE_BUSY && !m->persistent)
            fl->retried++;
    } else {
        struct dbsnap *after = snap(fl, what);
        bool same = dbsnap_equal(after, before, why, sizeof why) ||
                    (op->answer_table && claim_left(after, before, op->answer_table));
        dbsnap_free(after);
        if (!same)
            fail_msg("%s: the failed run left the database changed: %s", what, why);
        if (op->retried && in_txn && m->status == STORE_BUSY && !m->persistent)
            fail_msg("%s: a one-shot busy inside store_run was not retried", what);
        /* The same process, connections and caches: the next try works. */
        faultloop_clock(fl->t0);
        store_fault_arm(0, STORE_OK, false);
        snprintf(what + strlen(what), sizeof what - strlen(what), ", then again without fault");
        if (op->run(fl, ctx, out, sizeof out) != 0)
            fail_msg("%s: fails: %s", what, out);
        check_clean(fl, what);
        check_like_ref(fl, ref, out, what);
    }
    dbsnap_free(before);
    return true;
}

void faultloop_run(struct faultloop *fl, const struct faultop *op, void *ctx)
{
    struct refs ref = {.outcome = ""};
    fl->runs = fl->retried = fl->unanswered = 0;
    reference(fl, op, ctx, &ref);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        for (long n = 1; one(fl, op, ctx, &modes[i], n, &ref); n++)
            ;
    close_store(fl, op, ctx);
    dbsnap_copy_db(fl->tmpl, fl->db);
    dbsnap_free(ref.r1);
    dbsnap_free(ref.r2);
    clock_set_offset_ms(0);
}
