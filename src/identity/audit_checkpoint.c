/* audit_checkpoint.c — signing, storing and shipping checkpoints, and the
 * server's checkpointer thread (see audit_checkpoint.h). */
#include "identity/audit_checkpoint.h"

#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/text.h"
#include "foundation/thread.h"
#include "identity/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MSG_LABEL "zhanye audit checkpoint v1"
#define LINE_MAX_LEN 512 /* a line is about 300 bytes */
#define RETRY_MS 1000

int audit_checkpoint_file_create(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? ID_EXISTS : ID_ERR;
    int rc = fsync(fd) == 0 ? ID_OK : ID_ERR;
    if (close(fd) != 0)
        rc = ID_ERR;
    return rc;
}

/* ---- the signed text ------------------------------------------------------ */

/* "zhanye audit checkpoint v1|<seq>|<hash>|<ts>" into buf. */
static size_t message(const struct audit_checkpoint *cp, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, MSG_LABEL "|%" PRId64 "|%s|%" PRId64, cp->seq, cp->hash, cp->ts);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static bool valid_fields(const struct audit_checkpoint *cp)
{
    size_t sl = strlen(cp->sig);
    return cp->seq > 0 && cp->ts >= 0 && strlen(cp->hash) == AUDIT_HASH_HEX &&
           is_lower_hex(cp->hash, AUDIT_HASH_HEX) && sl >= 2 && sl <= AUDIT_SIG_HEX &&
           sl % 2 == 0 && is_lower_hex(cp->sig, sl);
}

bool audit_checkpoint_sig_ok(const struct audit_checkpoint *cp)
{
    const struct audit_ctx *x = audit_ctx();
    char msg[160];
    uint8_t sig[SM2_SIG_MAX];
    size_t n;
    if (!x || !cp || !valid_fields(cp) || !(n = message(cp, msg, sizeof msg)))
        return false;
    long sl = hex_decode(cp->sig, strlen(cp->sig), sig, sizeof sig);
    sm_part p = {msg, n};
    return sl > 0 && sm2_verify(x->pub, &p, 1, sig, (size_t)sl) == SM_OK;
}

static int sign(const struct audit_ctx *x, struct audit_checkpoint *cp)
{
    char msg[160];
    uint8_t sig[SM2_SIG_MAX];
    size_t n = message(cp, msg, sizeof msg), sl = 0;
    sm_part p = {msg, n};
    if (!n || sm2_sign(x->sign, &p, 1, sig, sizeof sig, &sl) != SM_OK)
        return ID_ERR;
    hex_encode(sig, sl, cp->sig, sizeof cp->sig);
    return ID_OK;
}

/* ---- in the database ------------------------------------------------------ */

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void read_cp(struct store_stmt *s, struct audit_checkpoint *cp)
{
    cp->seq = store_col_int64(s, 0);
    cp->ts = store_col_int64(s, 1);
    copy_text(cp->hash, sizeof cp->hash, store_col_text(s, 2));
    copy_text(cp->sig, sizeof cp->sig, store_col_text(s, 3));
}

/* The checkpoint at seq; ID_NOT_FOUND if there is none. */
static int cp_at(struct store_conn *c, int64_t seq, struct audit_checkpoint *cp)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT seq, ts, hash, sig FROM audit_checkpoints WHERE seq = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, seq);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        read_cp(s, cp);
        rc = ID_OK;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    store_finish(s);
    return rc;
}

int64_t audit_checkpoint_count(struct store_conn *c)
{
    struct store_stmt *s = NULL;
    int64_t n = STORE_ERR;
    int rc = store_prepare(c, "SELECT COUNT(*) FROM audit_checkpoints", &s);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        n = store_col_int64(s, 0);
    else if (rc < 0)
        n = rc;
    store_finish(s);
    return n;
}

static int insert_cp(struct store_conn *c, const struct audit_checkpoint *cp)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "INSERT INTO audit_checkpoints (seq, ts, hash, sig) VALUES (?, ?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, cp->seq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, cp->ts);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, cp->hash);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, cp->sig);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* seq and hash of the head; ID_CORRUPT if it does not verify under the key. */
static int head_cp(struct store_conn *c, struct audit_checkpoint *cp)
{
    struct store_stmt *s = NULL;
    struct audit_row row;
    int rc =
        store_prepare(c, "SELECT " AUDIT_ROW_COLS " FROM audit_log ORDER BY seq DESC LIMIT 1", &s);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        audit_row_read(s, &row);
        cp->seq = row.r.seq;
        copy_text(cp->hash, sizeof cp->hash, row.hash_hex);
        rc = audit_row_verifies(AUDIT_KEYED, &row) ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    store_finish(s);
    return rc;
}

/* The highest seq of a checkpoint at or below head (0: none) into *seq. */
static int last_cp_seq(struct store_conn *c, int64_t head, int64_t *seq)
{
    struct store_stmt *s = NULL;
    *seq = 0;
    int rc = store_prepare(c, "SELECT MAX(seq) FROM audit_checkpoints WHERE seq <= ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, head);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        *seq = store_col_is_null(s, 0) ? 0 : store_col_int64(s, 0);
        rc = STORE_OK;
    }
    store_finish(s);
    return rc;
}

struct cp_job {
    struct audit_checkpoint cp;
    bool if_crossed; /* only if the chain reached a multiple of every since its last one */
};

/* store_run callback: arg is the struct cp_job. Only rows at the head's
 * own seq matter: one planted at a future seq cannot stop checkpoints
 * (audit_verify reports it). */
static int checkpoint_txn(struct store_conn *c, void *arg)
{
    struct cp_job *job = arg;
    struct audit_checkpoint *cp = &job->cp, old;
    memset(cp, 0, sizeof *cp);
    int rc = head_cp(c, cp);
    if (rc != ID_OK)
        return rc;
    if (job->if_crossed) {
        int64_t last = 0, every = audit_ctx()->every > 0 ? audit_ctx()->every : 1;
        rc = last_cp_seq(c, cp->seq, &last);
        if (rc != STORE_OK)
            return rc;
        if (cp->seq / every <= last / every)
            return ID_EXISTS; /* not due in this chain */
    }
    rc = cp_at(c, cp->seq, &old);
    if (rc == ID_OK) { /* signed already, unless that row is forged or of a cut chain */
        if (!audit_checkpoint_sig_ok(&old) || strcmp(old.hash, cp->hash) != 0)
            return ID_CORRUPT;
        *cp = old;
        return ID_EXISTS;
    }
    if (rc != ID_NOT_FOUND)
        return rc;
    cp->ts = clock_wall_ms();
    rc = sign(audit_ctx(), cp);
    return rc == ID_OK ? insert_cp(c, cp) : rc;
}

/* ---- the file ------------------------------------------------------------- */

static int parse_line(const char *line, size_t n, struct audit_checkpoint *cp)
{
    json_error_t jerr;
    json_t *j = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    json_int_t seq = 0, ts = -1;
    const char *hash = NULL, *sig = NULL;
    int rc = ID_BAD_INPUT;
    memset(cp, 0, sizeof *cp);
    if (j && json_object_size(j) == 4 &&
        json_unpack(j, "{s:I,s:I,s:s,s:s}", "seq", &seq, "ts", &ts, "hash", &hash, "sig", &sig) ==
            0 &&
        strlen(hash) < sizeof cp->hash && strlen(sig) < sizeof cp->sig) {
        cp->seq = seq;
        cp->ts = ts;
        copy_text(cp->hash, sizeof cp->hash, hash);
        copy_text(cp->sig, sizeof cp->sig, sig);
        rc = valid_fields(cp) ? ID_OK : ID_BAD_INPUT;
    }
    json_decref(j);
    return rc;
}

int audit_checkpoint_read_file(const char *path,
                               int (*fn)(const struct audit_checkpoint *cp, int line, void *arg),
                               void *arg, int *bad_line)
{
    char buf[LINE_MAX_LEN + 2];
    struct audit_checkpoint cp;
    int line = 0, rc = ID_OK;
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? ID_NOT_FOUND : ID_ERR;
    while (rc == ID_OK && fgets(buf, sizeof buf, f)) {
        size_t n = strlen(buf);
        line++;
        if (n == 0 || buf[n - 1] != '\n' || parse_line(buf, n - 1, &cp) != ID_OK) {
            rc = ID_BAD_INPUT; /* too long, cut short, or not a checkpoint */
            if (bad_line)
                *bad_line = line;
            break;
        }
        rc = fn(&cp, line, arg);
    }
    if (rc == ID_OK && ferror(f))
        rc = ID_ERR;
    fclose(f);
    return rc;
}

/* The seq of the file's last complete line (0 if none). A last line cut
 * short by a crash is truncated away: its checkpoint is shipped again. */
static int file_tail(int fd, int64_t *seq)
{
    char buf[LINE_MAX_LEN * 2 + 1];
    struct stat st;
    struct audit_checkpoint cp;
    *seq = 0;
    if (fstat(fd, &st) != 0)
        return ID_ERR;
    off_t off = st.st_size > (off_t)(sizeof buf - 1) ? st.st_size - (off_t)(sizeof buf - 1) : 0;
    ssize_t n = st.st_size ? pread(fd, buf, (size_t)(st.st_size - off), off) : 0;
    if (n < 0 || n != st.st_size - off)
        return ID_ERR;
    buf[n] = '\0';
    char *end = n ? strrchr(buf, '\n') : NULL;
    if (n && (!end || end != buf + n - 1)) {
        if (!end && off > 0)
            return ID_BAD_INPUT; /* a line longer than ours can be */
        off_t keep = end ? off + (end - buf) + 1 : 0;
        log_warn("audit.checkpoint_file", "dropping a last line cut short (%lld bytes)",
                 (long long)(st.st_size - keep));
        if (ftruncate(fd, keep) != 0)
            return ID_ERR;
    }
    if (!end)
        return ID_OK;
    *end = '\0';
    char *start = strrchr(buf, '\n');
    start = start ? start + 1 : buf;
    if (start == buf && off > 0)
        return ID_BAD_INPUT;
    if (parse_line(start, strlen(start), &cp) != ID_OK)
        return ID_BAD_INPUT;
    *seq = cp.seq;
    return ID_OK;
}

static int write_line(int fd, const struct audit_checkpoint *cp)
{
    char line[LINE_MAX_LEN];
    int n = snprintf(line, sizeof line,
                     "{\"seq\":%" PRId64 ",\"ts\":%" PRId64 ",\"hash\":\"%s\",\"sig\":\"%s\"}\n",
                     cp->seq, cp->ts, cp->hash, cp->sig);
    if (n < 0 || (size_t)n >= sizeof line || !valid_fields(cp))
        return ID_BAD_INPUT;
    return write_all(fd, line, (size_t)n) == 0 ? ID_OK : ID_ERR; /* O_APPEND: one write */
}

/* Appends every database checkpoint newer than the file's last line. */
static int ship(struct store_conn *c, const char *path)
{
    struct store_stmt *s = NULL;
    struct audit_checkpoint cp;
    int64_t last = 0;
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return ID_ERR;
    int rc = flock(fd, LOCK_EX) == 0 ? file_tail(fd, &last) : ID_ERR;
    if (rc == ID_OK)
        rc = store_prepare(
            c, "SELECT seq, ts, hash, sig FROM audit_checkpoints WHERE seq > ? ORDER BY seq", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, last);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        read_cp(s, &cp);
        if (audit_checkpoint_sig_ok(&cp))
            rc = write_line(fd, &cp);
        else /* planted in the database: never copied into the file */
            log_error("audit.checkpoint_file",
                      "database checkpoint %" PRId64 " has no valid signature: not shipped",
                      cp.seq);
    }
    store_finish(s);
    if (rc == STORE_DONE)
        rc = fsync(fd) == 0 ? ID_OK : ID_ERR;
    if (close(fd) != 0 && rc == ID_OK) /* also releases the lock */
        rc = ID_ERR;
    return rc;
}

/* ---- making one ----------------------------------------------------------- */

/* Signs ch's head (if_crossed: only when due in it), then ships. */
static int checkpoint_one(const struct audit_chain *ch, bool if_crossed,
                          struct audit_checkpoint *out)
{
    const struct audit_ctx *x = audit_ctx();
    struct store_conn *c = NULL;
    struct cp_job job = {.if_crossed = if_crossed};
    if (!x || !x->sign || !ch || !ch->st)
        return ID_ERR;
    const char *file = ch->file[0] ? ch->file : x->checkpoint_file;
    int rc = store_acquire(ch->st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "audit.checkpoint", checkpoint_txn, &job);
    if (rc == ID_CORRUPT)
        log_error("audit.checkpoint",
                  "chain %s: record %" PRId64 " does not verify under the audit key, or the "
                  "database's checkpoint at it is not its own: not signed; run zhanye audit "
                  "verify",
                  ch->name, job.cp.seq);
    else if (rc < 0)
        log_error("audit.checkpoint", "chain %s: %s: %s", ch->name, store_rc_name(rc),
                  store_errmsg(c));
    if (rc == ID_OK)
        log_info("audit.checkpoint", "chain %s: signed seq %" PRId64 " hash %s", ch->name,
                 job.cp.seq, job.cp.hash);
    if (rc == ID_OK || rc == ID_EXISTS) {
        int src = ship(c, file);
        if (src != ID_OK) {
            log_error("audit.checkpoint_file", "%s: not written (%s); the next checkpoint ships it",
                      file, src == ID_BAD_INPUT ? "malformed" : id_rc_name(src));
            rc = ID_ERR;
        }
    }
    store_release(c);
    if (out)
        *out = job.cp;
    return rc;
}

int audit_checkpoint_chain(const struct audit_chain *ch, struct audit_checkpoint *out)
{
    return checkpoint_one(ch, false, out);
}

int audit_checkpoint(struct store *st, struct audit_checkpoint *out)
{
    struct audit_chain ch = {.name = AUDIT_CHAIN_MAIN, .st = st}; /* file: the context's */
    return checkpoint_one(&ch, false, out);
}

int audit_checkpoint_all(const struct audit_chains *cs)
{
    int first = ID_OK;
    for (size_t i = 0; cs && i < cs->n; i++) {
        int rc = checkpoint_one(&cs->v[i], false, NULL); /* logs its failures */
        if (rc != ID_OK && rc != ID_EXISTS && rc != ID_NOT_FOUND && first == ID_OK)
            first = rc;
    }
    return first;
}

/* ---- when: the due mark and the thread ------------------------------------ */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool due, stop, running;
    uint64_t due_epoch; /* the context the due mark was made in */
    pthread_t th;
    struct audit_chains chains; /* the thread's own copy */
} T = {.mu = PTHREAD_MUTEX_INITIALIZER};

void audit_checkpoint_note(int64_t seq)
{
    const struct audit_ctx *x = audit_ctx();
    if (!x || x->every < 1 || seq % x->every != 0)
        return;
    pthread_mutex_lock(&T.mu);
    T.due = true;
    T.due_epoch = x->epoch;
    if (T.running)
        pthread_cond_signal(&T.cv);
    pthread_mutex_unlock(&T.mu);
}

/* A due mark made under a context since closed went with it. */
static bool due_now(void)
{
    const struct audit_ctx *x = audit_ctx();
    return T.due && x && x->epoch == T.due_epoch;
}

static bool take_due(void)
{
    pthread_mutex_lock(&T.mu);
    bool due = due_now();
    T.due = false;
    pthread_mutex_unlock(&T.mu);
    return due;
}

int audit_checkpoint_if_due(struct store *st)
{
    int rc = take_due() ? audit_checkpoint(st, NULL) : ID_OK;
    return rc == ID_EXISTS || rc == ID_NOT_FOUND ? ID_OK : rc;
}

static void *checkpointer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&T.mu);
    while (!T.stop) {
        if (!due_now()) {
            T.due = false;
            pthread_cond_wait(&T.cv, &T.mu);
            continue;
        }
        T.due = false;
        pthread_mutex_unlock(&T.mu);
        /* The mark does not say which chain reached a multiple: each chain
         * that did since its last checkpoint is signed. */
        bool busy = false;
        for (size_t i = 0; i < T.chains.n; i++) /* logs its failures */
            busy |= checkpoint_one(&T.chains.v[i], true, NULL) == STORE_BUSY;
        pthread_mutex_lock(&T.mu);
        bool retry = busy; /* the rest waits for the next due mark */
        if (retry && !T.stop) {
            T.due = true;
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += RETRY_MS / 1000;
            pthread_cond_timedwait(&T.cv, &T.mu, &until);
        }
    }
    pthread_mutex_unlock(&T.mu);
    return NULL;
}

int audit_checkpointer_start(const struct audit_chains *cs)
{
    pthread_condattr_t ca;
    if (!cs || !cs->n || !audit_ctx() || T.running)
        return -1;
    T.chains.v = malloc(cs->n * sizeof *T.chains.v);
    if (!T.chains.v)
        return -1;
    memcpy(T.chains.v, cs->v, cs->n * sizeof *T.chains.v);
    T.chains.n = cs->n;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int err = pthread_cond_init(&T.cv, &ca);
    pthread_condattr_destroy(&ca);
    if (err) {
        audit_chains_free(&T.chains);
        return -1;
    }
    T.stop = false;
    /* Signals stay with the main thread's sigwait(). */
    err = thread_start(&T.th, NULL, checkpointer_main, NULL, "zhanye-audit");
    if (err) {
        pthread_cond_destroy(&T.cv);
        audit_chains_free(&T.chains);
        return -1;
    }
    pthread_mutex_lock(&T.mu);
    T.running = true;
    pthread_mutex_unlock(&T.mu);
    return 0;
}

bool audit_checkpointer_stop(void)
{
    pthread_mutex_lock(&T.mu);
    bool was = T.running;
    T.stop = true;
    if (was)
        pthread_cond_signal(&T.cv);
    pthread_mutex_unlock(&T.mu);
    if (!was)
        return false;
    pthread_join(T.th, NULL);
    pthread_mutex_lock(&T.mu);
    T.running = false;
    pthread_mutex_unlock(&T.mu);
    pthread_cond_destroy(&T.cv);
    audit_chains_free(&T.chains);
    return true;
}
