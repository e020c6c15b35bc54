/* teller.c — teller accounts, Argon2id passwords and lockout (see teller.h). */
#include "identity/teller.h"

#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/audit.h"

#include <argon2.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SALT_LEN 16
#define TAG_LEN 32
#define HASH_MAX TELLER_HASH_MAX
#define ACTOR_MAX (8 + TELLER_CODE_MAX + 1)

#define TELLER_SELECT                                                                              \
    "SELECT t.id, t.bank_id, COALESCE(t.branch_id, 0), " TELLER_ROLE_COL ", t.status, "            \
    "t.failed_logins, t.locked_until, t.pw_changed_at, t.created_at, t.code, t.name, b.code, "     \
    "COALESCE(br.code, ''), t.pw_hash, t.console_failed_logins, t.console_locked_until "           \
    "FROM tellers t JOIN banks b ON b.id = t.bank_id " TELLER_ROLE_JOIN                            \
    "LEFT JOIN branches br ON br.id = t.branch_id "

bool teller_password_ok(const char *pw)
{
    if (!pw)
        return false;
    size_t n = strnlen(pw, TELLER_PW_MAX + 1);
    return n >= TELLER_PW_MIN && n <= TELLER_PW_MAX;
}

/* ---- hashing -------------------------------------------------------------- */

static int hash_password(const char *pw, char out[HASH_MAX])
{
    uint8_t salt[SALT_LEN];
    if (secmem_random(salt, sizeof salt) != 0)
        return ID_ERR;
    int rc = argon2id_hash_encoded(TELLER_ARGON2_T, TELLER_ARGON2_M_KIB, TELLER_ARGON2_P, pw,
                                   strlen(pw), salt, sizeof salt, TAG_LEN, out, HASH_MAX);
    if (rc != ARGON2_OK)
        log_error("teller.hash_failed", "argon2id: %s", argon2_error_message(rc));
    return rc == ARGON2_OK ? ID_OK : ID_ERR;
}

/* A hash of nothing anyone knows, so an unknown code costs a real verify. */
static char dummy_hash[HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    uint8_t pw[32];
    if (secmem_random(pw, sizeof pw) == 0 &&
        argon2id_hash_encoded(TELLER_ARGON2_T, TELLER_ARGON2_M_KIB, TELLER_ARGON2_P, pw, sizeof pw,
                              pw, SALT_LEN, TAG_LEN, dummy_hash, sizeof dummy_hash) != ARGON2_OK)
        dummy_hash[0] = '\0';
    secmem_wipe(pw, sizeof pw);
}

static void dummy_verify(const char *pw)
{
    pthread_once(&dummy_once, make_dummy);
    if (dummy_hash[0])
        argon2id_verify(dummy_hash, pw, strlen(pw));
}

/* ID_OK, ID_BAD_PASSWORD, or ID_CORRUPT for an unreadable stored hash. */
static int check_hash(const char *hash, const char *pw)
{
    int rc = argon2id_verify(hash, pw, strlen(pw));
    if (rc == ARGON2_OK)
        return ID_OK;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return ID_BAD_PASSWORD;
    log_error("teller.hash_unreadable", "argon2id_verify: %s", argon2_error_message(rc));
    return ID_CORRUPT;
}

/* ---- reading --------------------------------------------------------------- */

static int clamp_count(int64_t n)
{
    return n < 0 || n > 1000000 ? 1000000 : (int)n;
}

static int read_teller(struct store_stmt *s, struct teller *out, char *hash)
{
    memset(out, 0, sizeof *out);
    out->id = store_col_int64(s, 0);
    out->bank_id = store_col_int64(s, 1);
    out->branch_id = store_col_int64(s, 2);
    out->role = role_parse(store_col_text(s, 3));
    const char *status = store_col_text(s, 4);
    out->active = status && strcmp(status, "active") == 0;
    out->failed_logins = clamp_count(store_col_int64(s, 5));
    out->locked_until = store_col_int64(s, 6);
    out->console_failed_logins = clamp_count(store_col_int64(s, 14));
    out->console_locked_until = store_col_int64(s, 15);
    out->pw_changed_at = store_col_int64(s, 7);
    out->created_at = store_col_int64(s, 8);
    bool ok = id_copy(out->code, sizeof out->code, store_col_text(s, 9)) &&
              id_copy(out->name, sizeof out->name, store_col_text(s, 10)) &&
              id_copy(out->bank_code, sizeof out->bank_code, store_col_text(s, 11)) &&
              id_copy(out->branch_code, sizeof out->branch_code, store_col_text(s, 12)) &&
              (!hash || id_copy(hash, HASH_MAX, store_col_text(s, 13)));
    return ok && out->role != ROLE_NONE ? ID_OK : ID_CORRUPT;
}

/* One teller by code (by_code) or id; hash (HASH_MAX bytes) may be NULL. */
static int find(struct store_conn *c, const char *code, int64_t id, struct teller *out, char *hash)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, code ? TELLER_SELECT "WHERE t.code = ?" : TELLER_SELECT "WHERE t.id = ?", &s);
    if (rc == STORE_OK)
        rc = code ? store_bind_text(s, 1, code) : store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        rc = read_teller(s, out, hash);
    else if (rc == STORE_DONE)
        rc = ID_NOT_FOUND;
    if (s)
        store_finish(s);
    return rc;
}

int teller_find(struct store_conn *c, const char *code, struct teller *out)
{
    if (!c || !out || !org_valid_code(code, TELLER_CODE_MAX))
        return ID_BAD_INPUT;
    return find(c, code, 0, out, NULL);
}

int teller_find_id(struct store_conn *c, int64_t id, struct teller *out)
{
    if (!c || !out)
        return ID_BAD_INPUT;
    return find(c, NULL, id, out, NULL);
}

int teller_list(struct store_conn *c, int64_t bank_id, int64_t branch_id,
                int (*fn)(const struct teller *t, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    struct teller t;
    if (!c || !fn || bank_id < 0 || branch_id < 0)
        return ID_BAD_INPUT;
    int rc = store_prepare(c,
                           TELLER_SELECT "WHERE (t.bank_id = ? OR ? = 0) AND "
                                         "(t.branch_id = ? OR ? = 0) ORDER BY b.code, t.code",
                           &s);
    if (rc == STORE_OK)
        rc = id_bind_list_filter(s, bank_id, branch_id);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        rc = read_teller(s, &t, NULL);
        if (rc == ID_OK)
            rc = fn(&t, arg);
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (s)
        store_finish(s);
    return rc;
}

/* The end of channel ch's lock (ms; 0 or past: not locked). */
static int64_t lock_end(const struct teller *t, enum teller_channel ch)
{
    return ch == TELLER_CONSOLE ? t->console_locked_until : t->locked_until;
}

bool teller_locked_on(const struct teller *t, enum teller_channel ch, int64_t now_ms)
{
    return t && now_ms < lock_end(t, ch);
}

bool teller_locked(const struct teller *t, int64_t now_ms)
{
    return teller_locked_on(t, TELLER_TABLET, now_ms) ||
           teller_locked_on(t, TELLER_CONSOLE, now_ms);
}

/* ---- adding ---------------------------------------------------------------- */

/* The bank and branch exist, fit together and fit the role. */
static int check_placement(struct store_conn *c, const struct teller_new *t)
{
    struct bank b;
    struct branch br;
    int rc = org_find_bank_id(c, t->bank_id, &b);
    if (rc != ID_OK)
        return rc;
    bool in_province = b.kind == ORG_PROVINCE;
    if (in_province != (t->role == ROLE_PROVINCE_ADMIN))
        return ID_CONFLICT;
    if (t->branch_id == 0)
        return t->role == ROLE_CLIENT_MANAGER || t->role == ROLE_BRANCH_MANAGER ? ID_BAD_INPUT
                                                                                : ID_OK;
    rc = org_find_branch_id(c, t->branch_id, &br);
    if (rc == ID_OK && br.bank_id != t->bank_id)
        rc = ID_CONFLICT;
    return rc;
}

/* The video_agent role's row (data/tenant.h ROLE_VIDEO_AGENT). */
static int insert_agent(struct store_conn *c, int64_t id, int64_t bank_id, int64_t now)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "INSERT INTO video_agents (teller_id, bank_id, created_at) VALUES (?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, now);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

static int insert_teller(struct store_conn *c, const struct teller_new *t, const char *hash,
                         int64_t *id)
{
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    int rc = store_prepare(c,
                           "INSERT INTO tellers (bank_id, branch_id, code, name, role, pw_hash, "
                           "failed_logins, locked_until, console_failed_logins, "
                           "console_locked_until, pw_changed_at, status, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?, 'active', ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, t->bank_id);
    if (rc == STORE_OK)
        rc = t->branch_id ? store_bind_int64(s, 2, t->branch_id) : store_bind_null(s, 2);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, t->code);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, t->name);
    if (rc == STORE_OK)
        rc = store_bind_text(
            s, 5, role_name(t->role == ROLE_VIDEO_AGENT ? ROLE_CLIENT_MANAGER : t->role));
    if (rc == STORE_OK)
        rc = store_bind_text(s, 6, hash);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 8, now);
    rc = id_insert_finish(c, s, rc, id);
    if (rc == ID_OK && t->role == ROLE_VIDEO_AGENT)
        rc = insert_agent(c, *id, t->bank_id, now);
    return rc;
}

int teller_add(struct store_conn *c, const char *actor, const struct teller_new *t, int64_t *id_out)
{
    char hash[HASH_MAX];
    struct teller existing;
    int64_t id = 0;
    if (!c || !t || !org_valid_code(t->code, TELLER_CODE_MAX) ||
        !org_valid_name(t->name, TELLER_NAME_MAX) || !role_name(t->role) ||
        !teller_password_ok(t->password) || t->branch_id < 0)
        return ID_BAD_INPUT;
    int rc = find(c, t->code, 0, &existing, NULL);
    if (rc == ID_OK)
        return ID_EXISTS;
    if (rc != ID_NOT_FOUND)
        return rc;
    rc = check_placement(c, t);
    if (rc == ID_OK)
        rc = hash_password(t->password, hash);
    if (rc == ID_OK)
        rc = insert_teller(c, t, hash, &id);
    if (rc == ID_OK)
        rc = audit_appendf(c, t->bank_id, actor, "teller.added", t->code, "{s:s, s:I}", "role",
                           role_name(t->role), "branch_id", (json_int_t)t->branch_id);
    if (rc == ID_OK && id_out)
        *id_out = id;
    secmem_wipe(hash, sizeof hash);
    return rc;
}

/* ---- verifying -------------------------------------------------------------- */

/* What differs between the channels: their columns, and whether an answer
 * may tell the teller's state before the password is known. SQL of count
 * and reset binds (now, id) and changes nothing while the channel is locked
 * or the teller disabled; lock binds (until, id). */
static const struct channel {
    const char *name; /* in logs */
    /* "channel" in the audit details of login.failed and teller.locked;
     * NULL: none, the tablets' records stay as they always were */
    const char *audit_tag;
    bool state_first; /* disabled / locked answered before the password */
    const char *count;
    const char *reset;
    const char *lock;
} channels[TELLER_CHANNELS] = {
    [TELLER_TABLET] =
        {
            .name = "tablet",
            .state_first = true,
            .count = "UPDATE tellers SET failed_logins = failed_logins + 1 "
                     "WHERE locked_until <= ? AND id = ? AND status = 'active'",
            .reset = "UPDATE tellers SET failed_logins = 0, locked_until = 0 "
                     "WHERE locked_until <= ? AND id = ? AND status = 'active'",
            .lock = "UPDATE tellers SET failed_logins = 0, locked_until = ? WHERE id = ?",
        },
    [TELLER_CONSOLE] =
        {
            .name = "console",
            .audit_tag = "console",
            .state_first = false,
            .count = "UPDATE tellers SET console_failed_logins = console_failed_logins + 1 "
                     "WHERE console_locked_until <= ? AND id = ? AND status = 'active'",
            .reset = "UPDATE tellers SET console_failed_logins = 0, console_locked_until = 0 "
                     "WHERE console_locked_until <= ? AND id = ? AND status = 'active'",
            .lock = "UPDATE tellers SET console_failed_logins = 0, console_locked_until = ? "
                    "WHERE id = ?",
        },
};

static const struct lockout default_policy = {TELLER_MAX_FAILURES, TELLER_LOCK_MS};

static bool channel_ok(enum teller_channel ch)
{
    return ch == TELLER_TABLET || ch == TELLER_CONSOLE;
}

static bool policy_ok(const struct lockout *pol)
{
    return pol->max_failures >= 1 && pol->lock_ms >= 0;
}

/* The failure count of channel ch. */
static int failures_on(const struct teller *t, enum teller_channel ch)
{
    return ch == TELLER_CONSOLE ? t->console_failed_logins : t->failed_logins;
}

/* "teller:<code>": the teller acting on their own account. */
static const char *self_actor(const struct teller *t, char buf[ACTOR_MAX])
{
    snprintf(buf, ACTOR_MAX, "teller:%s", t->code);
    return buf;
}

/* Runs one statement on the teller row: sql takes (value, id). */
static int update_row(struct store_conn *c, const char *sql, int64_t value, int64_t id)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, value);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

/* One verification's outcome, recorded by outcome_txn. */
struct outcome {
    enum teller_channel channel;
    const struct teller *t; /* as loaded before Argon2 */
    const struct lockout *pol;
    bool right; /* the password was right */
    /* written by outcome_txn (reset at each call) */
    int result;          /* ID_OK, ID_BAD_PASSWORD, ID_LOCKED or ID_DISABLED */
    int failures;        /* the count that locked the channel, for the log */
    int64_t until;       /* the lock this attempt set; 0: none */
    struct teller after; /* the row as this transaction leaves it (before a new lock) */
};

/* store_run callback: the conditional count (or reset), read back under the
 * write lock; a failure that reaches the limit locks the channel. A locked
 * channel or a disabled teller is left untouched. */
static int outcome_txn(struct store_conn *c, void *arg)
{
    struct outcome *o = arg;
    const struct channel *ch = &channels[o->channel];
    char actor[ACTOR_MAX];
    int64_t now = clock_wall_ms();
    o->result = ID_ERR;
    o->failures = 0;
    o->until = 0;
    int rc = update_row(c, o->right ? ch->reset : ch->count, now, o->t->id);
    if (rc == ID_OK)
        rc = find(c, NULL, o->t->id, &o->after, NULL);
    if (rc != ID_OK)
        return rc;
    if (!o->after.active || teller_locked_on(&o->after, o->channel, now)) {
        /* the UPDATE matched no row: nothing counted, no lock lifted */
        o->result = o->after.active ? ID_LOCKED : ID_DISABLED;
        return STORE_OK;
    }
    if (o->right) {
        o->result = ID_OK;
        return STORE_OK;
    }
    int n = failures_on(&o->after, o->channel);
    if (n < o->pol->max_failures) {
        o->result = ID_BAD_PASSWORD;
        return audit_appendf(c, o->t->bank_id, self_actor(o->t, actor), "login.failed", o->t->code,
                             "{s:s*, s:i}", "channel", ch->audit_tag, "failures", n);
    }
    o->result = ID_LOCKED;
    o->failures = n;
    o->until = now + o->pol->lock_ms;
    rc = update_row(c, ch->lock, o->until, o->t->id);
    if (rc == ID_OK)
        rc = audit_appendf(c, o->t->bank_id, "system", "teller.locked", o->t->code,
                           "{s:s*, s:i, s:I}", "channel", ch->audit_tag, "failures", n, "until",
                           (json_int_t)o->until);
    return rc;
}

int teller_attempt_load(struct store_conn *c, enum teller_channel ch, const char *code,
                        const char *password, struct teller_attempt *a)
{
    if (!a)
        return ID_BAD_INPUT;
    memset(a, 0, sizeof *a);
    a->channel = ch;
    a->verdict = ID_ERR;
    a->state = ID_BAD_INPUT; /* a final answer, not a failed read */
    if (!c || !channel_ok(ch) || !password ||
        strnlen(password, TELLER_PW_MAX + 1) > TELLER_PW_MAX ||
        !org_valid_code(code, TELLER_CODE_MAX))
        return ID_OK;
    int rc = find(c, code, 0, &a->t, a->hash);
    a->state = rc;
    if (rc == ID_NOT_FOUND)
        return ID_OK;
    if (rc != ID_OK)
        return rc;
    if (channels[ch].state_first && !a->t.active)
        a->state = ID_DISABLED;
    else if (channels[ch].state_first && teller_locked_on(&a->t, ch, clock_wall_ms()))
        a->state = ID_LOCKED;
    return ID_OK;
}

void teller_attempt_check(struct teller_attempt *a, const char *password)
{
    if (!a)
        return;
    if (password && a->state == ID_NOT_FOUND) {
        dummy_verify(password);
        a->verdict = ID_BAD_PASSWORD;
    } else if (password && a->state == ID_OK) {
        a->verdict = check_hash(a->hash, password);
    }
    secmem_wipe(a->hash, sizeof a->hash);
}

int teller_attempt_record(struct store_conn *c, struct teller_attempt *a,
                          const struct lockout *policy, struct teller *out)
{
    const struct lockout *pol = policy ? policy : &default_policy;
    if (!a)
        return ID_BAD_INPUT;
    if (a->state != ID_OK)
        return a->state;
    if (!c || !policy_ok(pol))
        return ID_BAD_INPUT;
    if (a->verdict != ID_OK && a->verdict != ID_BAD_PASSWORD)
        return a->verdict; /* ID_CORRUPT, or ID_ERR: never checked */
    const struct channel *ch = &channels[a->channel];
    struct outcome o = {
        .channel = a->channel, .t = &a->t, .pol = pol, .right = a->verdict == ID_OK};
    if (o.right) {
        /* The usual login: read again after Argon2, the channel is clean and
         * there is nothing to write (no write lock taken). A lock set after
         * this read is later than this login. */
        int rc = find(c, NULL, a->t.id, &o.after, NULL);
        if (rc != ID_OK)
            return rc;
        if (o.after.active && failures_on(&o.after, a->channel) == 0 &&
            lock_end(&o.after, a->channel) == 0) {
            if (out)
                *out = o.after;
            return ID_OK;
        }
    }
    int rc = store_run(c, "teller.outcome", outcome_txn, &o);
    if (rc != STORE_OK)
        return rc;
    if (o.until)
        log_warn("teller.locked", "teller %s locked on the %s channel after %d failed passwords",
                 a->t.code, ch->name, o.failures);
    if (o.result == ID_OK && out)
        *out = o.after;
    if (!o.right && !ch->state_first)
        return ID_BAD_PASSWORD; /* a wrong password tells nothing more */
    return o.result;
}

void teller_attempt_wipe(struct teller_attempt *a)
{
    if (a)
        secmem_wipe(a, sizeof *a);
}

int teller_verify(struct store_conn *c, enum teller_channel ch, const char *code,
                  const char *password, const struct lockout *policy, struct teller *out)
{
    struct teller_attempt a;
    if (policy && !policy_ok(policy))
        return ID_BAD_INPUT; /* before any work */
    int rc = teller_attempt_load(c, ch, code, password, &a);
    if (rc == ID_OK) {
        teller_attempt_check(&a, password);
        rc = teller_attempt_record(c, &a, policy, out);
    }
    teller_attempt_wipe(&a);
    return rc;
}

int teller_verify_password(struct store_conn *c, const char *code, const char *password,
                           const struct lockout *policy, struct teller *out)
{
    return teller_verify(c, TELLER_TABLET, code, password, policy, out);
}

/* ---- changing ----------------------------------------------------------------- */

/* A new hash for t; clears both channels' counts and locks. guarded: only
 * while t is active and its tablet channel unlocked (a password change must
 * not lift a lock set since its verification), else ID_LOCKED / ID_DISABLED. */
struct new_hash {
    const struct teller *t;
    const char *actor;
    const char *hash;
    const char *event;
    bool guarded;
    const struct teller_pw_also *also; /* NULL: nothing more */
};

static int write_hash(struct store_conn *c, void *arg)
{
    const struct new_hash *h = arg;
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    int rc = store_prepare(c,
                           h->guarded
                               ? "UPDATE tellers SET pw_hash = ?, pw_changed_at = ?, "
                                 "failed_logins = 0, locked_until = 0, console_failed_logins = 0, "
                                 "console_locked_until = 0 WHERE id = ? AND locked_until <= ? "
                                 "AND status = 'active'"
                               : "UPDATE tellers SET pw_hash = ?, pw_changed_at = ?, "
                                 "failed_logins = 0, locked_until = 0, console_failed_logins = 0, "
                                 "console_locked_until = 0 WHERE id = ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, h->hash);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, h->t->id);
    if (rc == STORE_OK && h->guarded)
        rc = store_bind_int64(s, 4, now);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    if (rc != STORE_DONE)
        return rc;
    if (store_changes(c) != 1) { /* the hash always differs (new salt): 0 means no match */
        struct teller t;
        rc = find(c, NULL, h->t->id, &t, NULL);
        return rc != ID_OK ? rc : t.active ? ID_LOCKED : ID_DISABLED;
    }
    rc = audit_append(c, h->t->bank_id, h->actor, h->event, h->t->code, NULL);
    if (rc == ID_OK && h->also && h->also->fn)
        rc = h->also->fn(c, h->t, h->also->arg);
    return rc;
}

int teller_change_password(struct store_conn *c, const char *code, const char *old_pw,
                           const char *new_pw, const struct lockout *policy,
                           const struct teller_pw_also *also)
{
    struct teller t;
    char actor[ACTOR_MAX];
    char hash[HASH_MAX];
    if (!teller_password_ok(new_pw) || !old_pw || strcmp(old_pw, new_pw) == 0)
        return ID_BAD_INPUT;
    int rc = teller_verify(c, TELLER_TABLET, code, old_pw, policy, &t);
    if (rc == ID_OK)
        rc = hash_password(new_pw, hash); /* Argon2 before the transaction */
    if (rc == ID_OK) {
        struct new_hash h = {.t = &t,
                             .actor = self_actor(&t, actor),
                             .hash = hash,
                             .event = "teller.password_changed",
                             .guarded = true,
                             .also = also};
        rc = store_run(c, "teller.password_change", write_hash, &h);
    }
    secmem_wipe(hash, sizeof hash);
    return rc;
}

int teller_reset_password(struct store_conn *c, const char *actor, const char *code,
                          const char *new_pw)
{
    struct teller t;
    char hash[HASH_MAX];
    if (!teller_password_ok(new_pw))
        return ID_BAD_INPUT;
    int rc = teller_find(c, code, &t);
    if (rc == ID_OK)
        rc = hash_password(new_pw, hash);
    if (rc == ID_OK) {
        struct new_hash h = {
            .t = &t, .actor = actor, .hash = hash, .event = "teller.password_reset"};
        rc = write_hash(c, &h);
    }
    secmem_wipe(hash, sizeof hash);
    return rc;
}

int teller_set_active(struct store_conn *c, const char *actor, const char *code, bool active)
{
    struct teller t;
    int rc = teller_find(c, code, &t);
    if (rc == ID_OK)
        rc = update_row(c,
                        active ? "UPDATE tellers SET status = 'active', failed_logins = ?, "
                                 "console_failed_logins = 0 WHERE id = ?"
                               : "UPDATE tellers SET status = 'disabled', failed_logins = ?, "
                                 "console_failed_logins = 0 WHERE id = ?",
                        0, t.id);
    if (rc == ID_OK) /* cached devices and sessions carry the teller's status */
        store_mark_changed(c, STORE_TAG_IDENTITY);
    if (rc == ID_OK)
        rc = audit_append(c, t.bank_id, actor, active ? "teller.enabled" : "teller.disabled",
                          t.code, NULL);
    return rc;
}
