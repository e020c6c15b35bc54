/* nonce_db.c — durable anti-replay records and their batch writer (see nonce_db.h). */
#include "channel/nonce_db.h"

#include "channel/idem.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PURGE_EVERY_MS 30000
#define DEV_HEX 32
#define NONCE_HEX (2 * NONCE_LEN)
#define ANSWER_TX_MAX 32   /* tx_answers.tx */
#define ANSWER_CSEQ_MAX 64 /* tx_answers.cseq */

int nonce_db_insert(struct store_conn *c, const char *dev, const uint8_t nonce[NONCE_LEN],
                    int64_t expires_ms)
{
    char hex[NONCE_HEX + 1];
    hex_encode(nonce, NONCE_LEN, hex, sizeof hex);
    struct store_stmt *s = NULL;
    int rc =
        store_prepare(c, "INSERT INTO replay_nonces (dev, nonce, expires_at) VALUES (?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, dev);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, hex);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, expires_ms);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int nonce_db_reads_from(struct store *st, int64_t now_ms, int64_t *from_ms)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t until = 0;
    *from_ms = now_ms;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_prepare(c, "SELECT reads_until FROM replay_epoch WHERE id = 1", &s);
    if (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        until = store_col_int64(s, 0);
        rc = STORE_OK;
    } else if (rc == STORE_DONE) {
        rc = STORE_OK; /* no row: nothing was vouched for */
    }
    store_finish(s);
    store_release(c);
    if (rc == STORE_OK && until >= now_ms)
        *from_ms = until + 1;
    return rc;
}

int nonce_db_restore(struct store *st, struct nonce_store *ns, int64_t keep_ms, int64_t now_ms,
                     int64_t *loaded)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = 0;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_prepare(c,
                           "SELECT dev, nonce, expires_at FROM replay_nonces WHERE expires_at > ? "
                           "ORDER BY expires_at",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now_ms);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        uint8_t dev[NONCE_DEV_LEN], nonce[NONCE_LEN];
        const char *dh = store_col_text(s, 0), *nh = store_col_text(s, 1);
        rc = STORE_OK;
        if (!dh || !nh || hex_decode(dh, strlen(dh), dev, sizeof dev) != NONCE_DEV_LEN ||
            hex_decode(nh, strlen(nh), nonce, sizeof nonce) != NONCE_LEN)
            continue; /* not ours to judge: a malformed row protects nothing */
        /* nonce_record keeps a pair keep_ms from "now": replay the insertion time. */
        if (nonce_record(ns, dev, nonce, store_col_int64(s, 2) - keep_ms) == NONCE_ERR)
            rc = STORE_NOMEM;
        else
            n++;
    }
    store_finish(s);
    store_release(c);
    if (loaded)
        *loaded = n;
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* ---- the journal ----------------------------------------------------------- */

struct jentry {
    char dev[DEV_HEX + 1];
    uint8_t nonce[NONCE_LEN];
    int64_t expires_ms;
};

/* A queued answer (struct journal_answer, copied). */
struct janswer {
    struct store *st;
    int64_t bank_id;
    char dev[DEV_HEX + 1];
    char tx[ANSWER_TX_MAX + 1];
    char cseq[ANSWER_CSEQ_MAX + 1];
    uint8_t *sealed;
    size_t len;
    int64_t created_ms;
};

struct nonce_journal {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* work queued, or stop */
    pthread_cond_t flushed; /* a batch was written */
    struct jentry *q;       /* queue being filled, NONCE_JOURNAL_MAX */
    struct jentry *batch;   /* batch being written */
    size_t n;
    struct janswer *aq;     /* answers being queued, NONCE_JOURNAL_ANSWERS_MAX */
    struct janswer *abatch; /* answers being written: still found by lookups */
    size_t an, abn;
    _Atomic int64_t vouched; /* the latest nonce_journal_vouch */
    int64_t vouch_written;   /* the latest written to replay_epoch (journal thread) */
    uint64_t queued_seq;     /* pairs and answers ever queued */
    uint64_t written_seq;    /* pairs and answers ever taken into a finished batch */
    bool stop;
    int64_t next_purge;
};

/* What one transaction of a batch writes: the pairs (on the journal's own
 * store only), and the answers whose store is st. */
struct batch_arg {
    const struct jentry *e;
    size_t n;
    const struct janswer *a;
    size_t an;
    const struct store *st;
    int64_t vouch; /* > 0: the latest vouched accept time, for replay_epoch */
};

static int write_vouch(struct store_conn *c, int64_t at)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "UPDATE replay_epoch SET reads_until = ? WHERE id = 1 AND reads_until < ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, at);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, at);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

static int write_batch(struct store_conn *c, void *arg)
{
    const struct batch_arg *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        int rc = nonce_db_insert(c, b->e[i].dev, b->e[i].nonce, b->e[i].expires_ms);
        /* Already there: another node or a synchronous insert got it first. */
        if (rc != STORE_OK && rc != STORE_CONSTRAINT)
            return rc;
    }
    for (size_t i = 0; i < b->an; i++) {
        const struct janswer *x = &b->a[i];
        if (x->st != b->st)
            continue;
        int rc = idem_put(c, x->bank_id, x->dev, x->tx, x->cseq, x->sealed, x->len, x->created_ms);
        /* Stored already (another node's duplicate): the first one stands. */
        if (rc != STORE_OK && rc != STORE_CONSTRAINT)
            return rc;
    }
    return b->vouch > 0 ? write_vouch(c, b->vouch) : STORE_OK;
}

/* The answers of the batch stored on other databases than the journal's:
 * one transaction per database. */
static void write_answers_elsewhere(struct nonce_journal *j, size_t an)
{
    for (size_t i = 0; i < an; i++) {
        struct store *st = j->abatch[i].st;
        bool first = st != j->st;
        for (size_t k = 0; k < i && first; k++)
            first = j->abatch[k].st != st;
        if (!first)
            continue;
        struct store_conn *c = NULL;
        struct batch_arg b = {.a = j->abatch, .an = an, .st = st};
        int rc = store_acquire(st, &c);
        if (rc == STORE_OK)
            rc = store_run(c, "answer_journal", write_batch, &b);
        if (rc != STORE_OK)
            log_error("nonce.journal", "cannot store read-only answers: %s: %s", store_rc_name(rc),
                      c ? store_errmsg(c) : store_errmsg(NULL));
        store_release(c);
    }
}

static int purge(struct store_conn *c, void *arg)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "DELETE FROM replay_nonces WHERE expires_at < ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, *(const int64_t *)arg);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* Writes one batch (and purges when due) on a pooled connection. */
static void write_out(struct nonce_journal *j, size_t n, size_t an)
{
    struct store_conn *c = NULL;
    int64_t now = clock_wall_ms();
    bool purge_due = now >= j->next_purge;
    int64_t vouch = atomic_load_explicit(&j->vouched, memory_order_relaxed);
    write_answers_elsewhere(j, an);
    if (vouch <= j->vouch_written)
        vouch = 0;
    if (!n && !an && !vouch && !purge_due)
        return;
    int rc = store_acquire(j->st, &c);
    struct batch_arg b = {
        .e = j->batch, .n = n, .a = j->abatch, .an = an, .st = j->st, .vouch = vouch};
    if (rc == STORE_OK && (n || an || vouch))
        rc = store_run(c, "nonce_journal", write_batch, &b);
    if (rc == STORE_OK && vouch)
        j->vouch_written = vouch;
    if (rc == STORE_OK && purge_due) {
        j->next_purge = now + PURGE_EVERY_MS;
        rc = store_run(c, "nonce_purge", purge, &now);
    }
    if (rc != STORE_OK)
        log_error("nonce.journal", "cannot write %zu anti-replay records: %s: %s", n,
                  store_rc_name(rc), c ? store_errmsg(c) : store_errmsg(NULL));
    store_release(c);
}

static void *journal_main(void *arg)
{
    struct nonce_journal *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        if (!j->n && !j->an && !j->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1; /* wake now and then: the purge, the vouched time */
            pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        }
        if ((j->n || j->an) && !j->stop) {
            /* Let a batch gather: one transaction for many requests. */
            pthread_mutex_unlock(&j->mu);
            struct timespec nap = {0, NONCE_JOURNAL_FLUSH_MS * 1000000L};
            nanosleep(&nap, NULL);
            pthread_mutex_lock(&j->mu);
        }
        size_t n = j->n, an = j->an;
        struct jentry *full = j->q;
        j->q = j->batch;
        j->batch = full;
        j->n = 0;
        struct janswer *afull = j->aq;
        j->aq = j->abatch;
        j->abatch = afull;
        j->abn = an;
        j->an = 0;
        bool stop = j->stop;
        pthread_mutex_unlock(&j->mu);
        write_out(j, n, an);
        pthread_mutex_lock(&j->mu);
        for (size_t i = 0; i < an; i++)
            free(j->abatch[i].sealed);
        j->abn = 0;
        j->written_seq += n + an;
        pthread_cond_broadcast(&j->flushed);
        if (stop && !j->n && !j->an)
            break;
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int nonce_journal_open(struct store *st, struct nonce_journal **out)
{
    struct nonce_journal *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->st = st;
    j->q = calloc(NONCE_JOURNAL_MAX, sizeof *j->q);
    j->batch = calloc(NONCE_JOURNAL_MAX, sizeof *j->batch);
    j->aq = calloc(NONCE_JOURNAL_ANSWERS_MAX, sizeof *j->aq);
    j->abatch = calloc(NONCE_JOURNAL_ANSWERS_MAX, sizeof *j->abatch);
    j->next_purge = clock_wall_ms();
    if (!j->q || !j->batch || !j->aq || !j->abatch || pthread_mutex_init(&j->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&j->cv, NULL) != 0 || pthread_cond_init(&j->flushed, NULL) != 0 ||
        thread_start(&j->thread, NULL, journal_main, j, "zhanye-nonce") != 0)
        goto fail; /* a cond that did init is leaked: only at startup, then exit */
    *out = j;
    return 0;
fail:
    free(j->q);
    free(j->batch);
    free(j->aq);
    free(j->abatch);
    free(j);
    return -1;
}

void nonce_journal_vouch(struct nonce_journal *j, int64_t accepted_ms)
{
    if (!j)
        return;
    int64_t v = atomic_load_explicit(&j->vouched, memory_order_relaxed);
    while (v < accepted_ms &&
           !atomic_compare_exchange_weak_explicit(&j->vouched, &v, accepted_ms,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

int nonce_journal_add(struct nonce_journal *j, const char *dev, const uint8_t nonce[NONCE_LEN],
                      int64_t expires_ms)
{
    if (!j || strlen(dev) != DEV_HEX)
        return -1;
    pthread_mutex_lock(&j->mu);
    int rc = -1;
    if (!j->stop && j->n < NONCE_JOURNAL_MAX) {
        struct jentry *e = &j->q[j->n++];
        memcpy(e->dev, dev, DEV_HEX + 1);
        memcpy(e->nonce, nonce, NONCE_LEN);
        e->expires_ms = expires_ms;
        j->queued_seq++;
        if (j->n == 1)
            pthread_cond_signal(&j->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

/* Under mu: the queued answer of (dev, tx, cseq) made at or after since_ms. */
static const struct janswer *answer_find(const struct nonce_journal *j, const char *dev,
                                         const char *tx, const char *cseq, int64_t since_ms)
{
    const struct janswer *lists[2] = {j->aq, j->abatch};
    const size_t counts[2] = {j->an, j->abn};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const struct janswer *x = &lists[l][i];
            if (x->created_ms >= since_ms && strcmp(x->cseq, cseq) == 0 &&
                strcmp(x->dev, dev) == 0 && strcmp(x->tx, tx) == 0)
                return x;
        }
    return NULL;
}

/* A malloc'd copy of x's sealed answer: true, or false (out of memory). */
static bool answer_copy(const struct janswer *x, uint8_t **out, size_t *len)
{
    *out = malloc(x->len);
    if (!*out)
        return false;
    memcpy(*out, x->sealed, x->len);
    *len = x->len;
    return true;
}

int nonce_journal_answer_get(struct nonce_journal *j, const char *dev, const char *tx,
                             const char *cseq, int64_t since_ms, uint8_t **sealed, size_t *len)
{
    *sealed = NULL;
    *len = 0;
    if (!j)
        return 0;
    pthread_mutex_lock(&j->mu);
    const struct janswer *x = answer_find(j, dev, tx, cseq, since_ms);
    bool found = x && answer_copy(x, sealed, len);
    pthread_mutex_unlock(&j->mu);
    return found ? 1 : 0;
}

int nonce_journal_answer_put(struct nonce_journal *j, const struct journal_answer *a,
                             int64_t since_ms, uint8_t **winner, size_t *winner_len)
{
    *winner = NULL;
    *winner_len = 0;
    if (!j || strlen(a->dev) != DEV_HEX || strlen(a->tx) > ANSWER_TX_MAX ||
        strlen(a->cseq) > ANSWER_CSEQ_MAX || !a->sealed)
        return -1;
    uint8_t *copy = malloc(a->len);
    if (!copy)
        return -1;
    memcpy(copy, a->sealed, a->len);
    pthread_mutex_lock(&j->mu);
    int rc = -1;
    const struct janswer *x = answer_find(j, a->dev, a->tx, a->cseq, since_ms);
    if (x) {
        rc = answer_copy(x, winner, winner_len) ? 1 : -1;
    } else if (!j->stop && j->an < NONCE_JOURNAL_ANSWERS_MAX) {
        struct janswer *e = &j->aq[j->an++];
        *e = (struct janswer){.st = a->st,
                              .bank_id = a->bank_id,
                              .sealed = copy,
                              .len = a->len,
                              .created_ms = a->created_ms};
        memcpy(e->dev, a->dev, DEV_HEX + 1);
        snprintf(e->tx, sizeof e->tx, "%s", a->tx);
        snprintf(e->cseq, sizeof e->cseq, "%s", a->cseq);
        copy = NULL;
        j->queued_seq++;
        if (j->an == 1 && !j->n)
            pthread_cond_signal(&j->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&j->mu);
    free(copy);
    return rc;
}

void nonce_journal_flush(struct nonce_journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    uint64_t want = j->queued_seq;
    pthread_cond_signal(&j->cv);
    while (j->written_seq < want)
        pthread_cond_wait(&j->flushed, &j->mu);
    pthread_mutex_unlock(&j->mu);
}

void nonce_journal_close(struct nonce_journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->flushed);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j->q);
    free(j->batch);
    free(j->aq);
    free(j->abatch);
    free(j);
}
