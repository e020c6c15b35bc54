/* idem.c — stored answers of ZY1 submissions (see idem.h). */
#include "channel/idem.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Claims this process abandoned (idem_abandon), newest last. */
#define ABANDONED_MAX 64
#define KEY_MAX (32 + 1 + 32 + 1 + 64 + 1)

static pthread_mutex_t abandoned_mu = PTHREAD_MUTEX_INITIALIZER;
static char abandoned[ABANDONED_MAX][KEY_MAX];
static unsigned abandoned_next;

static void claim_key(char out[KEY_MAX], const char *dev, const char *tx, const char *cseq)
{
    snprintf(out, KEY_MAX, "%s|%s|%s", dev, tx, cseq);
}

void idem_abandon(const char *dev, const char *tx, const char *cseq)
{
    pthread_mutex_lock(&abandoned_mu);
    claim_key(abandoned[abandoned_next++ % ABANDONED_MAX], dev, tx, cseq);
    pthread_mutex_unlock(&abandoned_mu);
}

/* True (and forgotten) if this process abandoned the claim. */
static bool take_abandoned(const char *dev, const char *tx, const char *cseq)
{
    char key[KEY_MAX];
    bool found = false;
    claim_key(key, dev, tx, cseq);
    pthread_mutex_lock(&abandoned_mu);
    for (int i = 0; i < ABANDONED_MAX && !found; i++)
        if (strcmp(abandoned[i], key) == 0) {
            abandoned[i][0] = '\0';
            found = true;
        }
    pthread_mutex_unlock(&abandoned_mu);
    return found;
}

/* Binds (dev, tx, cseq) at parameters first..first+2. */
static int bind_key(struct store_stmt *s, int first, const char *dev, const char *tx,
                    const char *cseq)
{
    int rc = store_bind_text(s, first, dev);
    if (rc == STORE_OK)
        rc = store_bind_text(s, first + 1, tx);
    if (rc == STORE_OK)
        rc = store_bind_text(s, first + 2, cseq);
    return rc;
}

int idem_get(struct store_conn *c, const char *dev, const char *tx, const char *cseq,
             uint8_t **answer, size_t *len)
{
    return idem_get_since(c, dev, tx, cseq, 0, answer, len);
}

int idem_get_since(struct store_conn *c, const char *dev, const char *tx, const char *cseq,
                   int64_t since_ms, uint8_t **answer, size_t *len)
{
    struct store_stmt *s = NULL;
    *answer = NULL;
    *len = 0;
    int rc = store_prepare(
        c, "SELECT state, answer, created_at FROM tx_answers WHERE dev = ? AND tx = ? AND cseq = ?",
        &s);
    if (rc == STORE_OK)
        rc = bind_key(s, 1, dev, tx, cseq);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW && store_col_int64(s, 2) < since_ms)
        rc = STORE_DONE; /* an earlier binding's: as if there were none */
    if (rc == STORE_ROW) {
        const char *state = store_col_text(s, 0);
        size_t n = 0;
        const void *blob = store_col_blob(s, 1, &n);
        if (!state || strcmp(state, "done") != 0 || !blob) {
            rc = IDEM_PENDING;
        } else if ((*answer = malloc(n)) != NULL) {
            memcpy(*answer, blob, n);
            *len = n;
            rc = IDEM_DONE;
        } else {
            rc = STORE_NOMEM;
        }
    }
    store_finish(s);
    return rc;
}

/* INSERT of a row in state ('done' with the answer, or 'pending' without). */
static int insert_row(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
                      const char *cseq, const uint8_t *answer, size_t len, int64_t now_ms)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO tx_answers (dev, tx, cseq, bank_id, state, answer, "
                           "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           &s);
    if (rc == STORE_OK)
        rc = bind_key(s, 1, dev, tx, cseq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, answer ? "done" : "pending");
    if (rc == STORE_OK)
        rc = answer ? store_bind_blob(s, 6, answer, len) : store_bind_null(s, 6);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, now_ms);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int idem_put(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
             const char *cseq, const uint8_t *answer, size_t len, int64_t now_ms)
{
    if (!answer)
        return STORE_ERR;
    return insert_row(c, bank_id, dev, tx, cseq, answer, len, now_ms);
}

/* Runs an UPDATE/DELETE whose WHERE ends with (dev, tx, cseq) at
 * parameters first..first+2; store_changes() then tells how many rows. */
static int keyed_write(struct store_stmt *s, int first, const char *dev, const char *tx,
                       const char *cseq)
{
    int rc = bind_key(s, first, dev, tx, cseq);
    if (rc == STORE_OK)
        rc = store_step(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int idem_claim(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
               const char *cseq, int64_t now_ms, int64_t stale_ms, uint8_t **answer, size_t *len)
{
    int rc = idem_get(c, dev, tx, cseq, answer, len);
    if (rc == STORE_DONE)
        return insert_row(c, bank_id, dev, tx, cseq, NULL, 0, now_ms) == STORE_OK ? IDEM_NEW
                                                                                  : STORE_ERR;
    if (rc != IDEM_PENDING)
        return rc;
    /* A claim whose holder has not finished within stale_ms died with it;
     * one this process abandoned is dead already, whatever its age. */
    bool dead = take_abandoned(dev, tx, cseq);
    struct store_stmt *s = NULL;
    rc = store_prepare(c,
                       "UPDATE tx_answers SET created_at = ? WHERE state = 'pending' AND "
                       "(created_at < ? OR ? = 1) AND dev = ? AND tx = ? AND cseq = ?",
                       &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now_ms);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, now_ms - stale_ms);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, dead);
    if (rc == STORE_OK)
        rc = keyed_write(s, 4, dev, tx, cseq);
    store_finish(s);
    if (rc != STORE_OK) {
        if (dead) /* not taken over this time: still ours to take */
            idem_abandon(dev, tx, cseq);
        return rc;
    }
    return store_changes(c) == 1 ? IDEM_NEW : IDEM_PENDING;
}

int idem_finish(struct store_conn *c, const char *dev, const char *tx, const char *cseq,
                const uint8_t *answer, size_t len)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE tx_answers SET state = 'done', answer = ? WHERE state = "
                           "'pending' AND dev = ? AND tx = ? AND cseq = ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_blob(s, 1, answer, len);
    if (rc == STORE_OK)
        rc = keyed_write(s, 2, dev, tx, cseq);
    store_finish(s);
    if (rc != STORE_OK)
        return rc;
    return store_changes(c) == 1 ? STORE_OK : STORE_DONE;
}

int idem_release(struct store_conn *c, const char *dev, const char *tx, const char *cseq)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "DELETE FROM tx_answers WHERE state = 'pending' AND dev = ? AND tx = ? "
                           "AND cseq = ?",
                           &s);
    if (rc == STORE_OK)
        rc = keyed_write(s, 1, dev, tx, cseq);
    store_finish(s);
    return rc;
}

int idem_drop_device(struct store_conn *c, const char *dev, int64_t *n)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "DELETE FROM tx_answers WHERE dev = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, dev);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    if (rc != STORE_DONE)
        return rc;
    if (n)
        *n = store_changes(c);
    return STORE_OK;
}
