/* audit_list.c — reading records back: one chain (audit_list) and every
 * chain merged, with a cursor across chains (audit_list_chains; audit.h).
 *
 * The merge holds one statement per chain open, each reading its chain
 * newest first (seq descending, on the (bank_id, seq) index), at most
 * limit + 1 rows: a chain whose rows were all taken had no more. Each step
 * takes the newest of the chains' current records. */
#include "identity/audit.h"

#include "identity/audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_COLS "SELECT seq, ts, bank_id, actor, event, target, detail FROM audit_log "
#define LIST_TAIL "AND (seq < ? OR ? = 0) ORDER BY seq DESC LIMIT ?"

/* The query for the scope and its first free parameter. */
static const char *list_sql(int64_t bank_id, int64_t branch_id, int *next)
{
    if (bank_id == 0) {
        *next = 1;
        return LIST_COLS "WHERE 1 = 1 " LIST_TAIL;
    }
    *next = branch_id ? 6 : 2;
    /* A branch's: its tellers and devices as targets (the identity records,
     * in the directory's chain), or a business record made in the branch
     * (audit_tenant's detail, compact with sorted keys, has the top-level
     * member "branch_id":N followed by ',' or '}'; '!' escapes '_'). */
    return branch_id ? LIST_COLS
               "WHERE bank_id = ? AND (target IN (SELECT code FROM tellers WHERE branch_id = ?) "
               "OR target IN (SELECT d.dev FROM devices d JOIN tellers t ON t.id = d.teller_id "
               "WHERE t.branch_id = ?) OR detail LIKE ? ESCAPE '!' OR detail LIKE ? ESCAPE "
               "'!') " LIST_TAIL
                     : LIST_COLS "WHERE bank_id = ? " LIST_TAIL;
}

static const char *col(struct store_stmt *s, int i)
{
    const char *t = store_col_text(s, i);
    return t ? t : "";
}

static int bind_list(struct store_stmt *s, int64_t bank_id, int64_t branch_id, int next,
                     int64_t before_seq, int limit)
{
    int rc = bank_id ? store_bind_int64(s, 1, bank_id) : STORE_OK;
    if (rc == STORE_OK && branch_id)
        rc = store_bind_int64(s, 2, branch_id);
    if (rc == STORE_OK && branch_id)
        rc = store_bind_int64(s, 3, branch_id);
    for (int k = 0; rc == STORE_OK && branch_id && k < 2; k++) {
        char like[48];
        snprintf(like, sizeof like, "%%\"branch!_id\":%" PRId64 "%c%%", branch_id, k ? '}' : ',');
        rc = store_bind_text(s, 4 + k, like);
    }
    if (rc == STORE_OK)
        rc = store_bind_int64(s, next, before_seq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, next + 1, before_seq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, next + 2, limit);
    return rc;
}

static bool scope_ok(int64_t bank_id, int64_t branch_id, int limit)
{
    return bank_id >= 0 && branch_id >= 0 && (!branch_id || bank_id) && limit >= 1 &&
           limit <= AUDIT_LIST_MAX;
}

/* The scope's records of seq < before_seq (0: all), newest first, at most rows. */
static int open_list(struct store_conn *c, int64_t bank_id, int64_t branch_id, int64_t before_seq,
                     int rows, struct store_stmt **out)
{
    int next = 1;
    *out = NULL;
    int rc = store_prepare(c, list_sql(bank_id, branch_id, &next), out);
    if (rc == STORE_OK)
        rc = bind_list(*out, bank_id, branch_id, next, before_seq, rows);
    return rc;
}

static void read_record(struct store_stmt *s, struct audit_record *r)
{
    *r = (struct audit_record){store_col_int64(s, 0),
                               store_col_int64(s, 1),
                               store_col_int64(s, 2),
                               col(s, 3),
                               col(s, 4),
                               col(s, 5),
                               col(s, 6)};
}

int audit_list(struct store_conn *c, int64_t bank_id, int64_t branch_id, int64_t before_seq,
               int limit, int (*fn)(const struct audit_record *r, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    if (!c || !fn || !scope_ok(bank_id, branch_id, limit) || before_seq < 0)
        return ID_BAD_INPUT;
    int rc = open_list(c, bank_id, branch_id, before_seq, limit, &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        struct audit_record r;
        read_record(s, &r);
        rc = fn(&r, arg);
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (s)
        store_finish(s);
    return rc;
}

/* ---- every chain, merged ------------------------------------------------- */

/* One chain's stream. */
struct src {
    const struct audit_chain *ch;
    struct store_conn *c;
    bool own;              /* c was acquired here */
    bool active;           /* may hold records for this page */
    int64_t before;        /* its bound from the cursor; 0: from the newest */
    struct store_stmt *s;  /* open while active */
    bool has;              /* cur is its next record, not yet taken */
    struct audit_record r; /* cur, strings copied: */
    char *actor, *event, *target, *detail;
    int64_t last_taken; /* seq of the last record taken from it; 0: none */
};

static void drop_cur(struct src *x)
{
    free(x->actor);
    free(x->event);
    free(x->target);
    free(x->detail);
    x->actor = x->event = x->target = x->detail = NULL;
    x->has = false;
}

/* The stream's next record into cur; has false at its end. */
static int advance(struct src *x)
{
    drop_cur(x);
    int rc = store_step(x->s);
    if (rc == STORE_DONE)
        return ID_OK;
    if (rc != STORE_ROW)
        return rc;
    read_record(x->s, &x->r);
    x->actor = strdup(x->r.actor);
    x->event = strdup(x->r.event);
    x->target = strdup(x->r.target);
    x->detail = strdup(x->r.detail);
    if (!x->actor || !x->event || !x->target || !x->detail) {
        drop_cur(x);
        return STORE_NOMEM;
    }
    x->r.actor = x->actor;
    x->r.event = x->event;
    x->r.target = x->target;
    x->r.detail = x->detail;
    x->has = true;
    return ID_OK;
}

static struct src *find_src(struct src *v, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i].ch->name) == len && memcmp(v[i].ch->name, name, len) == 0)
            return &v[i];
    return NULL;
}

/* A decimal seq >= 1 of exactly len bytes; -1 if malformed. */
static int64_t parse_seq(const char *s, size_t len)
{
    char buf[24], *end = NULL;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    return errno || *end || v < 1 ? -1 : (int64_t)v;
}

/* Marks the streams the cursor names, with their bounds. */
static int parse_cursor(const char *before, struct src *v, size_t n)
{
    if (!before || !*before) {
        for (size_t i = 0; i < n; i++)
            v[i].active = true;
        return ID_OK;
    }
    if (!strchr(before, ':')) { /* the single database form: main's seq */
        struct src *m = find_src(v, n, AUDIT_CHAIN_MAIN, strlen(AUDIT_CHAIN_MAIN));
        int64_t seq = parse_seq(before, strlen(before));
        if (!m || seq < 1)
            return ID_BAD_INPUT;
        m->active = true;
        m->before = seq;
        return ID_OK;
    }
    for (const char *p = before;;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon)
            return ID_BAD_INPUT;
        struct src *x = find_src(v, n, p, (size_t)(colon - p));
        int64_t seq = parse_seq(colon + 1, (size_t)(end - colon - 1));
        if (!x || x->active || seq < 1)
            return ID_BAD_INPUT;
        x->active = true;
        x->before = seq;
        if (!comma)
            return ID_OK;
        p = comma + 1;
    }
}

/* The cursor after this page into next; "" if no stream has more. */
static int write_cursor(const struct src *v, size_t n, char *next, size_t cap)
{
    size_t len = 0;
    next[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!v[i].active || !v[i].has)
            continue; /* every row it had was taken: fewer than the page's + 1 */
        int64_t bound = v[i].last_taken ? v[i].last_taken : v[i].r.seq + 1;
        int k =
            snprintf(next + len, cap - len, "%s%s:%" PRId64, len ? "," : "", v[i].ch->name, bound);
        if (k < 0 || (size_t)k >= cap - len)
            return ID_BAD_INPUT;
        len += (size_t)k;
    }
    return ID_OK;
}

/* The stream with the newest current record, or NULL when all have ended. */
static struct src *newest(struct src *v, size_t n)
{
    struct src *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i].active && v[i].has && (!best || v[i].r.ts > best->r.ts))
            best = &v[i];
    return best;
}

static int open_streams(struct src *v, size_t n, struct store_conn *held, int64_t bank_id,
                        int64_t branch_id, int limit)
{
    int rc = ID_OK;
    for (size_t i = 0; i < n && rc == ID_OK; i++) {
        struct src *x = &v[i];
        if (!x->active)
            continue;
        if (i == 0 && held) {
            x->c = held;
        } else {
            rc = store_acquire(x->ch->st, &x->c);
            x->own = rc == STORE_OK;
            if (rc != STORE_OK)
                break;
        }
        rc = open_list(x->c, bank_id, branch_id, x->before, limit + 1, &x->s);
        if (rc == STORE_OK)
            rc = advance(x);
    }
    return rc;
}

static void close_streams(struct src *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        drop_cur(&v[i]);
        if (v[i].s)
            store_finish(v[i].s);
        if (v[i].own)
            store_release(v[i].c);
    }
}

int audit_list_chains(const struct audit_chains *cs, struct store_conn *held, int64_t bank_id,
                      int64_t branch_id, const char *before, int limit,
                      int (*fn)(const char *chain, const struct audit_record *r, void *arg),
                      void *arg, char *next, size_t nextcap)
{
    if (!cs || !cs->n || cs->n > AUDIT_CHAINS_MAX || !fn || !next || nextcap < AUDIT_CURSOR_MAX ||
        !scope_ok(bank_id, branch_id, limit))
        return ID_BAD_INPUT;
    next[0] = '\0';
    struct src *v = calloc(cs->n, sizeof *v);
    if (!v)
        return STORE_NOMEM;
    for (size_t i = 0; i < cs->n; i++)
        v[i].ch = &cs->v[i];
    int rc = parse_cursor(before, v, cs->n);
    if (rc == ID_OK)
        rc = open_streams(v, cs->n, held, bank_id, branch_id, limit);
    for (int taken = 0; rc == ID_OK && taken < limit; taken++) {
        struct src *x = newest(v, cs->n);
        if (!x)
            break;
        rc = fn(x->ch->name, &x->r, arg);
        if (rc == 0) {
            x->last_taken = x->r.seq;
            rc = advance(x);
        }
    }
    if (rc == ID_OK)
        rc = write_cursor(v, cs->n, next, nextcap);
    close_streams(v, cs->n);
    free(v);
    return rc;
}
