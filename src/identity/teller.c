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
#define HASH_MAX 160 /* encoded Argon2id with these parameters is ~97 bytes */
#define ACTOR_MAX (8 + TELLER_CODE_MAX + 1)

#define TELLER_SELECT                                                                              \
    "SELECT t.id, t.bank_id, COALESCE(t.branch_id, 0), t.role, t.status, t.failed_logins, "        \
    "t.locked_until, t.pw_changed_at, t.created_at, t.code, t.name, b.code, "                      \
    "COALESCE(br.code, ''), t.pw_hash FROM tellers t JOIN banks b ON b.id = t.bank_id "            \
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

static int read_teller(struct store_stmt *s, struct teller *out, char *hash)
{
    memset(out, 0, sizeof *out);
    out->id = store_col_int64(s, 0);
    out->bank_id = store_col_int64(s, 1);
    out->branch_id = store_col_int64(s, 2);
    out->role = role_parse(store_col_text(s, 3));
    const char *status = store_col_text(s, 4);
    out->active = status && strcmp(status, "active") == 0;
    int64_t failed = store_col_int64(s, 5);
    out->failed_logins = failed < 0 || failed > 1000000 ? 1000000 : (int)failed;
    out->locked_until = store_col_int64(s, 6);
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

bool teller_locked(const struct teller *t, int64_t now_ms)
{
    return t && now_ms < t->locked_until;
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

static int insert_teller(struct store_conn *c, const struct teller_new *t, const char *hash,
                         int64_t *id)
{
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    int rc = store_prepare(c,
                           "INSERT INTO tellers (bank_id, branch_id, code, name, role, pw_hash, "
                           "failed_logins, locked_until, pw_changed_at, status, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, 'active', ?)",
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
        rc = store_bind_text(s, 5, role_name(t->role));
    if (rc == STORE_OK)
        rc = store_bind_text(s, 6, hash);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 8, now);
    return id_insert_finish(c, s, rc, id);
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

/* Counts one failure inside the open transaction; ID_BAD_PASSWORD, or
 * ID_LOCKED if it reached the limit and locked the teller. */
static int count_failure(struct store_conn *c, const struct teller *t, const struct lockout *pol)
{
    struct teller now_t;
    char actor[ACTOR_MAX];
    int rc = update_row(c, "UPDATE tellers SET failed_logins = failed_logins + ? WHERE id = ?", 1,
                        t->id);
    if (rc == ID_OK)
        rc = find(c, NULL, t->id, &now_t, NULL); /* the count as other attempts left it */
    if (rc != ID_OK)
        return rc;
    if (now_t.failed_logins < pol->max_failures) {
        rc = audit_appendf(c, t->bank_id, self_actor(t, actor), "login.failed", t->code, "{s:i}",
                           "failures", now_t.failed_logins);
        return rc == ID_OK ? ID_BAD_PASSWORD : rc;
    }
    int64_t until = clock_wall_ms() + pol->lock_ms;
    rc = update_row(c, "UPDATE tellers SET failed_logins = 0, locked_until = ? WHERE id = ?", until,
                    t->id);
    if (rc == ID_OK)
        rc = audit_appendf(c, t->bank_id, "system", "teller.locked", t->code, "{s:i, s:I}",
                           "failures", now_t.failed_logins, "until", (json_int_t)until);
    if (rc == ID_OK)
        log_warn("teller.locked", "teller %s locked after %d failed passwords", t->code,
                 now_t.failed_logins);
    return rc == ID_OK ? ID_LOCKED : rc;
}

/* Records the outcome of one verification in its own transaction. */
static int record_outcome(struct store_conn *c, const struct teller *t, int outcome,
                          const struct lockout *pol)
{
    bool clean = t->failed_logins == 0 && t->locked_until == 0;
    if (outcome == ID_OK && clean)
        return ID_OK; /* nothing to write: no write lock for an ordinary login */
    int rc = store_begin(c);
    if (rc != STORE_OK) {
        log_error("teller.tx", "cannot begin (is the caller inside a transaction?): %s",
                  store_errmsg(c));
        return rc;
    }
    if (outcome == ID_OK)
        rc = update_row(c, "UPDATE tellers SET failed_logins = ?, locked_until = 0 WHERE id = ?", 0,
                        t->id);
    else
        rc = count_failure(c, t, pol);
    int result = rc;
    if (rc >= 0)
        rc = store_commit(c);
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    return result == ID_OK ? outcome : result;
}

static const struct lockout default_policy = {TELLER_MAX_FAILURES, TELLER_LOCK_MS};

/* The shared core of verify and change: checks, Argon2 outside any
 * transaction, then the outcome recorded. */
static int verify(struct store_conn *c, const char *code, const char *pw, const struct lockout *pol,
                  struct teller *out)
{
    char hash[HASH_MAX];
    if (!pol)
        pol = &default_policy;
    if (!c || !out || !pw || strnlen(pw, TELLER_PW_MAX + 1) > TELLER_PW_MAX ||
        !org_valid_code(code, TELLER_CODE_MAX) || pol->max_failures < 1 || pol->lock_ms < 0)
        return ID_BAD_INPUT;
    int rc = find(c, code, 0, out, hash);
    if (rc == ID_NOT_FOUND)
        dummy_verify(pw);
    if (rc != ID_OK)
        goto out;
    if (!out->active) {
        rc = ID_DISABLED;
        goto out;
    }
    if (clock_wall_ms() < out->locked_until) {
        rc = ID_LOCKED;
        goto out;
    }
    rc = check_hash(hash, pw);
    if (rc == ID_OK || rc == ID_BAD_PASSWORD)
        rc = record_outcome(c, out, rc, pol);
out:
    secmem_wipe(hash, sizeof hash);
    return rc;
}

int teller_verify_password(struct store_conn *c, const char *code, const char *password,
                           const struct lockout *policy, struct teller *out)
{
    struct teller t;
    int rc = verify(c, code, password, policy, &t);
    if (rc == ID_OK && out)
        *out = t;
    return rc;
}

/* ---- changing ----------------------------------------------------------------- */

static int set_hash(struct store_conn *c, const char *actor, const struct teller *t, const char *pw,
                    const char *event)
{
    char hash[HASH_MAX];
    struct store_stmt *s = NULL;
    int rc = hash_password(pw, hash);
    if (rc == ID_OK)
        rc = store_prepare(c,
                           "UPDATE tellers SET pw_hash = ?, pw_changed_at = ?, failed_logins = 0, "
                           "locked_until = 0 WHERE id = ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, hash);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, t->id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    if (rc == STORE_DONE)
        rc = audit_append(c, t->bank_id, actor, event, t->code, NULL);
    secmem_wipe(hash, sizeof hash);
    return rc;
}

int teller_change_password(struct store_conn *c, const char *code, const char *old_pw,
                           const char *new_pw, const struct lockout *policy)
{
    struct teller t;
    char actor[ACTOR_MAX];
    if (!teller_password_ok(new_pw) || !old_pw || strcmp(old_pw, new_pw) == 0)
        return ID_BAD_INPUT;
    int rc = verify(c, code, old_pw, policy, &t);
    if (rc != ID_OK)
        return rc;
    rc = store_begin(c);
    if (rc == STORE_OK)
        rc = set_hash(c, self_actor(&t, actor), &t, new_pw, "teller.password_changed");
    if (rc == ID_OK)
        rc = store_commit(c);
    if (rc != ID_OK)
        store_rollback(c);
    return rc;
}

int teller_reset_password(struct store_conn *c, const char *actor, const char *code,
                          const char *new_pw)
{
    struct teller t;
    if (!teller_password_ok(new_pw))
        return ID_BAD_INPUT;
    int rc = teller_find(c, code, &t);
    if (rc == ID_OK)
        rc = set_hash(c, actor, &t, new_pw, "teller.password_reset");
    return rc;
}

int teller_set_active(struct store_conn *c, const char *actor, const char *code, bool active)
{
    struct teller t;
    int rc = teller_find(c, code, &t);
    if (rc == ID_OK)
        rc = update_row(c,
                        active ? "UPDATE tellers SET status = 'active', failed_logins = ? "
                                 "WHERE id = ?"
                               : "UPDATE tellers SET status = 'disabled', failed_logins = ? "
                                 "WHERE id = ?",
                        0, t.id);
    if (rc == ID_OK)
        rc = audit_append(c, t.bank_id, actor, active ? "teller.enabled" : "teller.disabled",
                          t.code, NULL);
    return rc;
}
