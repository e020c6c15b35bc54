/* audit_verify.c — the whole chain against the key and every checkpoint
 * (see audit_verify in audit.h).
 *
 * Every fault found is noted with the seq it concerns; the report names the
 * lowest. The checks: each checkpoint (database and file) carries a valid
 * signature; each of the file's is also in the database, unchanged; the
 * chain verifies record by record under the key; at each checkpoint's seq
 * the chain holds the signed hash; and no checkpoint lies beyond the
 * chain's end (a cut tail).
 *
 * Order matters under a running server: the file is read first, then the
 * database's checkpoints, then the chain, each later read seeing at least
 * what the earlier one saw committed (a line is only written after its row
 * committed; a checkpoint only signs committed records), so appends and
 * checkpoints made meanwhile never look like tampering. */
#include "identity/audit_checkpoint.h"
#include "identity/audit_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct cp_list {
    struct audit_checkpoint *v;
    bool *ok; /* signature verified */
    size_t n, cap;
};

struct bad {
    int64_t seq;
    char reason[512];
};

struct vstate {
    struct cp_list db, file;
    size_t next_db, next_file; /* walk position in each list */
    const char *file_name;
    struct bad bad;
    struct audit_report *rep;
};

static void note(struct bad *b, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(struct bad *b, int64_t seq, const char *fmt, ...)
{
    if (b->seq != 0 && seq >= b->seq)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->reason, sizeof b->reason, fmt, ap);
    va_end(ap);
    b->seq = seq;
}

/* "2026-01-01T08:00:00Z" */
static const char *when(int64_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, 32, "%" PRId64 " ms", ms);
    return buf;
}

static int push(struct cp_list *l, const struct audit_checkpoint *cp)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct audit_checkpoint *v = realloc(l->v, cap * sizeof *v);
        if (v)
            l->v = v;
        bool *ok = v ? realloc(l->ok, cap * sizeof *ok) : NULL;
        if (ok)
            l->ok = ok;
        if (!v || !ok)
            return STORE_NOMEM;
        l->cap = cap;
    }
    l->v[l->n] = *cp;
    l->ok[l->n++] = false; /* see verdicts() */
    return ID_OK;
}

/* Each checkpoint's signature, once the list is in its final order. */
static void verdicts(struct cp_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->ok[i] = audit_checkpoint_sig_ok(&l->v[i]);
}

static void list_free(struct cp_list *l)
{
    free(l->v);
    free(l->ok);
}

static int push_line(const struct audit_checkpoint *cp, int line, void *arg)
{
    (void)line;
    return push(arg, cp);
}

static int load_db(struct store_conn *c, struct cp_list *l)
{
    struct store_stmt *s = NULL;
    struct audit_checkpoint cp;
    int rc = store_prepare(c, "SELECT seq, ts, hash, sig FROM audit_checkpoints ORDER BY seq", &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        const char *h = store_col_text(s, 2), *g = store_col_text(s, 3);
        memset(&cp, 0, sizeof cp);
        cp.seq = store_col_int64(s, 0);
        cp.ts = store_col_int64(s, 1);
        snprintf(cp.hash, sizeof cp.hash, "%s", h ? h : "");
        snprintf(cp.sig, sizeof cp.sig, "%s", g ? g : "");
        rc = push(l, &cp);
    }
    store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

static int by_seq(const void *a, const void *b)
{
    const struct audit_checkpoint *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static const struct audit_checkpoint *find(const struct cp_list *l, int64_t seq)
{
    struct audit_checkpoint key = {.seq = seq};
    return l->n ? bsearch(&key, l->v, l->n, sizeof key, by_seq) : NULL;
}

/* Signatures, and the file's checkpoints against the database's. */
static void check_lists(struct vstate *vs)
{
    for (size_t i = 0; i < vs->db.n; i++)
        if (!vs->db.ok[i])
            note(&vs->bad, vs->db.v[i].seq,
                 "checkpoint %" PRId64 " in the database: its signature does not verify under "
                 "the audit public key (forged or altered)",
                 vs->db.v[i].seq);
    for (size_t i = 0; i < vs->file.n; i++) {
        const struct audit_checkpoint *f = &vs->file.v[i], *d = find(&vs->db, f->seq);
        if (!vs->file.ok[i])
            note(&vs->bad, f->seq,
                 "checkpoint %" PRId64 " of %s: its signature does not verify under the audit "
                 "public key",
                 f->seq, vs->file_name);
        else if (!d)
            note(&vs->bad, f->seq,
                 "checkpoint %" PRId64 " of %s is missing from the database (deleted)", f->seq,
                 vs->file_name);
        else if (d->ts != f->ts || strcmp(d->hash, f->hash) || strcmp(d->sig, f->sig))
            note(&vs->bad, f->seq,
                 "checkpoint %" PRId64 " of %s differs from the database's (replaced)", f->seq,
                 vs->file_name);
    }
}

/* The list's valid checkpoints at seq must name hash_hex; 0 or ID_CORRUPT. */
static int match(struct vstate *vs, struct cp_list *l, size_t *next, int64_t seq,
                 const char *hash_hex)
{
    char t[32];
    for (; *next < l->n && l->v[*next].seq <= seq; (*next)++) {
        const struct audit_checkpoint *cp = &l->v[*next];
        if (cp->seq != seq || !l->ok[*next])
            continue;
        if (strcmp(cp->hash, hash_hex) != 0) {
            note(&vs->bad, seq,
                 "record %" PRId64 " is not the one checkpoint %" PRId64 " signed on %s (the "
                 "chain was rewritten)",
                 seq, cp->seq, when(cp->ts, t));
            return ID_CORRUPT;
        }
        if (cp->seq > vs->rep->last.seq) {
            vs->rep->last.seq = cp->seq;
            vs->rep->last.ts = cp->ts;
            memcpy(vs->rep->last.hash, cp->hash, sizeof cp->hash);
        }
    }
    return 0;
}

static int at_record(int64_t seq, const char *hash_hex, void *arg)
{
    struct vstate *vs = arg;
    int rc = match(vs, &vs->db, &vs->next_db, seq, hash_hex);
    return rc ? rc : match(vs, &vs->file, &vs->next_file, seq, hash_hex);
}

/* The newest valid checkpoint of either list beyond the chain's end. */
static void check_tail(struct vstate *vs, int64_t records)
{
    const struct audit_checkpoint *beyond = NULL;
    const struct cp_list *lists[2] = {&vs->db, &vs->file};
    char t[32];
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < lists[k]->n; i++)
            if (lists[k]->ok[i] && lists[k]->v[i].seq > records &&
                (!beyond || lists[k]->v[i].seq > beyond->seq))
                beyond = &lists[k]->v[i];
    if (beyond)
        note(&vs->bad, records + 1,
             "missing: the chain ends at record %" PRId64 " but checkpoint %" PRId64
             " signed on %s covers %" PRId64 " records (the tail was cut off)",
             records, beyond->seq, when(beyond->ts, t), beyond->seq);
}

static int64_t unshipped(const struct vstate *vs)
{
    int64_t last = 0, n = 0;
    for (size_t i = 0; i < vs->file.n; i++)
        if (vs->file.v[i].seq > last)
            last = vs->file.v[i].seq;
    for (size_t i = 0; i < vs->db.n; i++)
        n += vs->db.ok[i] && vs->db.v[i].seq > last;
    return n;
}

/* The chain and the checkpoints on c; the file's were loaded already. */
static int check(struct store_conn *c, struct vstate *vs, bool file_exists)
{
    struct audit_report *rep = vs->rep;
    enum audit_mode mode = AUDIT_KEYED;
    int64_t first = 0;
    int rc = audit_end_mode(c, true, &first, &mode);
    if (rc != ID_OK && rc != ID_NOT_FOUND && rc != ID_CORRUPT)
        return rc;
    rep->legacy = rc == ID_OK && mode == AUDIT_LEGACY;
    if ((rc = load_db(c, &vs->db)) != ID_OK)
        return rc;
    verdicts(&vs->db);
    for (size_t i = 0; i < vs->db.n; i++)
        rep->checkpoints += vs->db.ok[i];
    check_lists(vs);
    rc = audit_walk(c, rep->legacy ? AUDIT_LEGACY : AUDIT_KEYED, rep, at_record, vs);
    if (rc < 0)
        return rc;
    if (rc == ID_CORRUPT && rep->first_bad)
        note(&vs->bad, rep->first_bad, "%s", rep->reason);
    if (rc == ID_OK)
        check_tail(vs, rep->records);
    if (rep->legacy && (vs->db.n || file_exists))
        note(&vs->bad, 1,
             "the chain is unkeyed (from before keyed audit) but this data directory has "
             "checkpoints: the keyed log was replaced");
    rep->unshipped = file_exists ? unshipped(vs) : 0;
    return ID_OK;
}

/* The chain of st against file (NULL: the context's), which must exist if required. */
static int verify(struct store *st, const char *file, bool required, struct audit_report *rep)
{
    const struct audit_ctx *x = audit_ctx();
    struct vstate vs = {.rep = rep};
    struct store_conn *c = NULL;
    int bad_line = 0;
    if (!st || !rep)
        return ID_ERR;
    memset(rep, 0, sizeof *rep);
    memset(rep->head, '0', AUDIT_HASH_HEX);
    rep->file_checkpoints = -1;
    if (!x) {
        snprintf(rep->reason, sizeof rep->reason, "the audit key is not loaded");
        return ID_ERR;
    }
    vs.file_name = file ? file : x->checkpoint_file;
    int rc = audit_checkpoint_read_file(vs.file_name, push_line, &vs.file, &bad_line);
    bool file_exists = rc != ID_NOT_FOUND;
    if (rc == ID_NOT_FOUND && !required)
        rc = ID_OK; /* the data directory's own file is optional */
    if (rc != ID_OK) {
        if (rc == ID_BAD_INPUT)
            snprintf(rep->reason, sizeof rep->reason, "%s:%d: not a checkpoint line", vs.file_name,
                     bad_line);
        else
            snprintf(rep->reason, sizeof rep->reason, "%s: cannot be read%s", vs.file_name,
                     rc == ID_NOT_FOUND ? " (no such file)" : "");
        list_free(&vs.file);
        return rc;
    }
    if (file_exists)
        rep->file_checkpoints = (int64_t)vs.file.n;
    if (vs.file.n)
        qsort(vs.file.v, vs.file.n, sizeof *vs.file.v, by_seq);
    verdicts(&vs.file);
    rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = check(c, &vs, file_exists);
    if (rc < 0)
        snprintf(rep->reason, sizeof rep->reason, "reading the audit log: %s: %s",
                 store_rc_name(rc), store_errmsg(c));
    else if (vs.bad.seq) {
        rep->first_bad = vs.bad.seq;
        memcpy(rep->reason, vs.bad.reason, sizeof rep->reason);
        rc = ID_CORRUPT;
    } else {
        rep->first_bad = 0;
        rep->reason[0] = '\0';
        rc = ID_OK;
    }
    store_release(c);
    list_free(&vs.db);
    list_free(&vs.file);
    return rc;
}

int audit_verify(struct store *st, const char *checkpoint_file, struct audit_report *rep)
{
    return verify(st, checkpoint_file, checkpoint_file != NULL, rep);
}

int audit_verify_chain(const struct audit_chain *ch, const char *copy, struct audit_report *rep)
{
    if (!ch)
        return ID_ERR;
    if (copy)
        return verify(ch->st, copy, true, rep);
    return verify(ch->st, ch->file[0] ? ch->file : NULL, false, rep); /* "": the context's */
}
