/* seq.c — serial numbers from counter blocks reserved in seq_blocks.
 *
 * The counter of a (name, node) never resets, not even on a new day: with
 * the date part never decreasing, a strictly increasing counter alone makes
 * the whole serial strictly increasing, whatever the clock does. Ten digits
 * give 10^10 serials per name and node; running out is an error, never a
 * wrap-around.
 *
 * The date used is persisted (last_day) before any serial carries it: a new
 * day forces a fresh reservation, so after a restart with the clock set back
 * the date part still starts from the newest date ever issued. */
#include "data/seq.h"

#include "data/store_backend.h"
#include "foundation/clock.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEQ_NAME_MAX 32           /* seq_blocks.name is VARCHAR(32) */
#define COUNTER_END 10000000000LL /* first value that needs 11 digits */
#define RESERVE_ATTEMPTS 2        /* see reserve() */

struct seq_name {
    char name[SEQ_NAME_MAX + 1];
    int day;       /* date part of the serials issued now (YYYYMMDD) */
    int64_t next;  /* next counter to hand out */
    int64_t limit; /* end of the reserved block, exclusive */
    struct seq_name *link;
};

/* One mutex for everything: a refill holds it across a database write, but
 * refills happen once per block, so the simplicity is worth the rare wait. */
struct seq {
    struct store *st;
    int node;
    int block;
    pthread_mutex_t mu;
    struct seq_name *names;
};

int seq_open(struct store *st, int node_id, int block, struct seq **out)
{
    if (!out)
        return STORE_ERR;
    *out = NULL;
    if (!st || node_id < 0 || node_id > 99 || block < 1) {
        store_be_error("seq_open: needs a store, node_id 0..99 and block >= 1");
        return STORE_ERR;
    }
    struct seq *q = calloc(1, sizeof *q);
    if (!q)
        return STORE_NOMEM;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        return STORE_ERR;
    }
    q->st = st;
    q->node = node_id;
    q->block = block;
    *out = q;
    return STORE_OK;
}

void seq_close(struct seq *q)
{
    if (!q)
        return;
    struct seq_name *e = q->names;
    while (e) {
        struct seq_name *next = e->link;
        free(e);
        e = next;
    }
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* The server's local calendar date as YYYYMMDD, from the platform clock so
 * tests (and skew handling) can move it with clock_set_offset_ms(). */
static int local_day(int *day)
{
    time_t t = (time_t)(clock_wall_ms() / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) {
        store_be_error("seq: local date unavailable or outside years 1..9999");
        return STORE_ERR;
    }
    *day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    return STORE_OK;
}

static int read_block(struct store_conn *c, const char *name, int node, bool *found, int64_t *next,
                      int *last_day)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "SELECT next_value, last_day FROM seq_blocks WHERE name = ? AND node = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, name);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, node);
    if (rc == STORE_OK)
        rc = store_step(s);
    *found = rc == STORE_ROW;
    if (rc == STORE_ROW) {
        *next = store_col_int64(s, 0);
        int64_t d = store_col_int64(s, 1);
        *last_day = d >= 0 && d <= 99991231 ? (int)d : 99999999;
    }
    if (rc == STORE_ROW || rc == STORE_DONE)
        rc = STORE_OK;
    store_finish(s);
    return rc;
}

static int write_block(struct store_conn *c, const char *name, int node, bool found, int64_t next,
                       int day)
{
    struct store_stmt *s = NULL;
    const char *sql =
        found ? "UPDATE seq_blocks SET next_value = ?, last_day = ? WHERE name = ? AND node = ?"
              : "INSERT INTO seq_blocks (next_value, last_day, name, node) VALUES (?, ?, ?, ?)";
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, next);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, day);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, name);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, node);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_DONE)
        rc = store_changes(c) == 1 ? STORE_OK : STORE_ERR;
    store_finish(s);
    return rc;
}

static int max3(int a, int b, int c)
{
    int m = a > b ? a : b;
    return m > c ? m : c;
}

/* What one reservation reads and decides; reserve_txn's arg. */
struct reserve_arg {
    const struct seq *q;
    const struct seq_name *e;
    int today;
    /* out, reset by every attempt: */
    int64_t next, limit;
    int day;
    bool exhausted; /* the counter ran out or the row is corrupt (message set) */
};

/* The store_run callback: read the row (the write lock is held from BEGIN,
 * so no other process can take the same numbers), take up to `block`
 * counters, persist the new start and the date. */
static int reserve_txn(struct store_conn *c, void *arg)
{
    struct reserve_arg *r = arg;
    bool found = false;
    int last_day = 0;
    r->next = 1;
    r->limit = 0;
    r->day = 0;
    r->exhausted = false;
    int rc = read_block(c, r->e->name, r->q->node, &found, &r->next, &last_day);
    if (rc != STORE_OK)
        return rc;
    if (r->next < 1 || r->next >= COUNTER_END || last_day > 99991231) {
        r->exhausted = true;
        store_be_error("seq %s node %d: counter exhausted or row corrupt (next_value %" PRId64
                       ", last_day %d)",
                       r->e->name, r->q->node, r->next, last_day);
        return STORE_ERR;
    }
    r->limit = r->next + r->q->block < COUNTER_END ? r->next + r->q->block : COUNTER_END;
    r->day = max3(r->today, last_day, r->e->day);
    return write_block(c, r->e->name, r->q->node, found, r->limit, r->day);
}

/* One reservation through store_run (which retries a busy database); the
 * block is taken into e only once it committed. */
static int reserve_once(struct seq *q, struct store_conn *c, struct seq_name *e, int today)
{
    struct reserve_arg r = {.q = q, .e = e, .today = today};
    int rc = store_run(c, "seq.reserve", reserve_txn, &r);
    if (rc == STORE_OK) {
        e->next = r.next;
        e->limit = r.limit;
        e->day = r.day;
    } else if (!r.exhausted) {
        store_be_error("seq %s node %d: reserving a block: %s: %s", e->name, q->node,
                       store_rc_name(rc), store_errmsg(c));
    }
    return rc;
}

/* A second attempt covers a backend without a write lock at BEGIN, where
 * two processes may both find no row and race to insert it: the loser gets
 * STORE_CONSTRAINT and, retrying, now finds the row. */
static int reserve(struct seq *q, struct seq_name *e, int today)
{
    struct store_conn *c = NULL;
    int rc = store_acquire(q->st, &c);
    for (int i = 0; rc == STORE_OK && i < RESERVE_ATTEMPTS; i++) {
        rc = reserve_once(q, c, e, today);
        if (rc != STORE_CONSTRAINT)
            break;
        rc = STORE_OK;
    }
    store_release(c);
    return rc;
}

static struct seq_name *find_name(struct seq *q, const char *name)
{
    for (struct seq_name *e = q->names; e; e = e->link)
        if (strcmp(e->name, name) == 0)
            return e;
    struct seq_name *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    memcpy(e->name, name, strlen(name) + 1);
    e->link = q->names;
    q->names = e;
    return e;
}

static int issue(struct seq *q, const char *name, char out[SEQ_LEN + 1])
{
    int today = 0;
    int rc = local_day(&today);
    if (rc != STORE_OK)
        return rc;
    struct seq_name *e = find_name(q, name);
    if (!e)
        return STORE_NOMEM;
    /* A new day is persisted before any serial carries it. */
    if (e->next >= e->limit || today > e->day)
        rc = reserve(q, e, today);
    if (rc != STORE_OK)
        return rc;
    char buf[SEQ_LEN + 8];
    int n = snprintf(buf, sizeof buf, "%08d%02d%010" PRId64, e->day, q->node, e->next);
    if (n != SEQ_LEN)
        return STORE_ERR;
    e->next++;
    memcpy(out, buf, SEQ_LEN + 1);
    return STORE_OK;
}

int seq_next(struct seq *q, const char *name, char out[SEQ_LEN + 1])
{
    if (!q || !name || !out)
        return STORE_ERR;
    size_t len = strnlen(name, SEQ_NAME_MAX + 1);
    if (len == 0 || len > SEQ_NAME_MAX) {
        store_be_error("seq_next: name must be 1..%d bytes", SEQ_NAME_MAX);
        return STORE_ERR;
    }
    pthread_mutex_lock(&q->mu);
    int rc = issue(q, name, out);
    pthread_mutex_unlock(&q->mu);
    return rc;
}
