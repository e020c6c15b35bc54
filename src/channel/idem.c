#include "channel/idem.h"

#include <stdlib.h>
#include <string.h>

int idem_get(struct store_conn *c, const char *dev, const char *tx, const char *cseq, char **reply)
{
    struct store_stmt *s;
    int rc =
        store_prepare(c, "SELECT reply FROM tx_replies WHERE dev = ? AND tx = ? AND cseq = ?", &s);
    if (rc != STORE_OK)
        return rc;
    /* A failed bind must fail the lookup, not find nothing. */
    rc = store_bind_text(s, 1, dev);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, tx);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, cseq);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        const char *r = store_col_text(s, 0);
        *reply = strdup(r ? r : "");
        if (!*reply)
            rc = STORE_NOMEM;
    }
    store_finish(s);
    return rc;
}

int idem_put(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
             const char *cseq, const char *reply, int64_t now_ms)
{
    struct store_stmt *s;
    int rc = store_prepare(c,
                           "INSERT INTO tx_replies (dev, tx, cseq, bank_id, reply, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           &s);
    if (rc != STORE_OK)
        return rc;
    rc = store_bind_text(s, 1, dev);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, tx);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, cseq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, reply);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 6, now_ms);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}
