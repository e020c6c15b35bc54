/* teller — staff accounts (柜员): passwords, lockout, roles.
 *
 * A teller code ([A-Za-z0-9_-]{1,32}) is unique in the whole deployment,
 * because ZY1 envelopes name a teller without a bank. Client and branch
 * managers belong to a branch of a bank; a bank admin to a bank (branch
 * optional); a province admin to the province row.
 *
 * Passwords: 8..128 bytes, stored as Argon2id encoded strings (libargon2,
 * t=2 passes, m=19456 KiB, p=1, 16-byte random salt, 32-byte tag: the OWASP
 * baseline, tens of milliseconds per hash on one core). Callers wipe their password
 * buffers; nothing here logs or stores a password.
 *
 * Lockout: after `max_failures` consecutive wrong passwords (default 5) the
 * teller is locked for `lock_ms` (default 15 min); while locked every
 * attempt is ID_LOCKED without checking the password, and when the lock
 * runs out the count starts again from zero. A correct password resets it.
 * An unknown code costs a dummy Argon2 verification, so response time does
 * not reveal which codes exist.
 *
 * teller_verify_password and teller_change_password run their own
 * transaction (a failure must be recorded even if the request fails):
 * call them outside one. The Argon2 work happens before the transaction,
 * not under the database write lock. Other writes run in the caller's
 * transaction. Every write and every failure is audited. */
#ifndef ZHANYE_TELLER_H
#define ZHANYE_TELLER_H

#include "data/store.h"
#include "data/tenant.h"
#include "identity/identity.h"
#include "identity/org.h"

#include <stdbool.h>
#include <stdint.h>

#define TELLER_CODE_MAX 32
#define TELLER_NAME_MAX 100
#define TELLER_PW_MIN 8
#define TELLER_PW_MAX 128
#define TELLER_MAX_FAILURES 5
#define TELLER_LOCK_MS (15 * 60 * 1000)
#define TELLER_ARGON2_T 2
#define TELLER_ARGON2_M_KIB 19456
#define TELLER_ARGON2_P 1

struct teller {
    int64_t id;
    int64_t bank_id;
    int64_t branch_id; /* 0: none */
    int role;          /* enum role (data/tenant.h) */
    bool active;       /* false: disabled */
    int failed_logins;
    int64_t locked_until; /* ms; 0 or past: not locked */
    int64_t pw_changed_at;
    int64_t created_at;
    char code[TELLER_CODE_MAX + 1];
    char name[TELLER_NAME_MAX + 1];
    char bank_code[ORG_CODE_MAX + 1];
    char branch_code[ORG_CODE_MAX + 1]; /* "" without a branch */
};

struct teller_new {
    int64_t bank_id;
    int64_t branch_id; /* 0: none */
    const char *code;
    const char *name;
    int role;
    const char *password;
};

struct lockout {
    int max_failures; /* >= 1 */
    int64_t lock_ms;  /* >= 0 */
};

/* Adds a teller. ID_EXISTS if the code is taken anywhere, ID_NOT_FOUND for
 * an unknown bank or branch, ID_CONFLICT if the branch is another bank's or
 * the role does not fit the bank (province_admin only in the province, the
 * others only in a bank), ID_BAD_INPUT for a malformed code, name, role or
 * password or a manager without a branch. */
int teller_add(struct store_conn *c, const char *actor, const struct teller_new *t,
               int64_t *id_out);
int teller_find(struct store_conn *c, const char *code, struct teller *out);
int teller_find_id(struct store_conn *c, int64_t id, struct teller *out);
/* The tellers of bank_id (0: every bank) and, within it, of branch_id (0:
 * the whole bank, with or without a branch), by bank code and teller code.
 * fn returns non-zero to stop early (that value is returned). */
int teller_list(struct store_conn *c, int64_t bank_id, int64_t branch_id,
                int (*fn)(const struct teller *t, void *arg), void *arg);
/* True when the teller is locked now. */
bool teller_locked(const struct teller *t, int64_t now_ms);

/* ID_OK (out filled), ID_NOT_FOUND, ID_BAD_PASSWORD, ID_LOCKED (also for the
 * failure that locks it), ID_DISABLED, ID_BAD_INPUT. policy NULL: defaults.
 * Own transaction. */
int teller_verify_password(struct store_conn *c, const char *code, const char *password,
                           const struct lockout *policy, struct teller *out);
/* Verifies old_pw exactly as teller_verify_password (failures count), then
 * sets new_pw. ID_BAD_INPUT if new_pw breaks the policy or equals old_pw
 * (checked first, so a bad new password costs no attempt). Own transaction. */
int teller_change_password(struct store_conn *c, const char *code, const char *old_pw,
                           const char *new_pw, const struct lockout *policy);
/* An administrator sets a new password; clears any lock. Caller's transaction. */
int teller_reset_password(struct store_conn *c, const char *actor, const char *code,
                          const char *new_pw);
/* Enables or disables a teller. Caller's transaction. */
int teller_set_active(struct store_conn *c, const char *actor, const char *code, bool active);

/* True if pw meets the policy (length TELLER_PW_MIN..TELLER_PW_MAX). */
bool teller_password_ok(const char *pw);

#endif
