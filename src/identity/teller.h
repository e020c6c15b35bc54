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
 * Lockout, per channel. A teller has two independent failure counters and
 * locks: the tablets' (TELLER_TABLET: ZY1 LOGIN and PASSWORD_CHANGE; columns
 * failed_logins, locked_until) and the web console's (TELLER_CONSOLE:
 * POST /api/v1/admin/login; console_failed_logins, console_locked_until).
 * A console lock never stops the tablet and a tablet lock never stops the
 * console. On each channel, after `max_failures` wrong passwords in a row
 * (default 5) the channel is locked for `lock_ms` (default 15 min); while it
 * is locked no failure is counted and a correct password neither logs in nor
 * lifts the lock; when the lock runs out the count starts again from zero.
 * A correct password on an unlocked channel resets that channel's count. A
 * new password (change or administrator's reset) clears both channels.
 *
 * Check and count are atomic: the outcome of a verification is recorded by
 * conditional statements in one store_run transaction that re-reads the lock
 * under the database write lock (UPDATE ... WHERE locked_until <= now, then
 * read back). However many attempts run in parallel, a channel counts at most
 * `max_failures` failures per lock period, and a correct password racing them
 * never lifts the lock they set (it is answered ID_LOCKED).
 *
 * What each channel answers (teller_verify / teller_attempt_record):
 *   TELLER_TABLET (the device is already bound to the teller, so the
 *   answers may tell the state): ID_DISABLED and then ID_LOCKED are
 *   answered before the password is checked (no Argon2, nothing counted);
 *   a wrong password is ID_BAD_PASSWORD, or ID_LOCKED for the failure that
 *   locks the channel (or when a parallel attempt locked it meanwhile).
 *   TELLER_CONSOLE (anyone may ask, so answers never tell that a code
 *   exists): the password is always checked (a dummy Argon2 for an unknown
 *   code). A wrong password is always ID_BAD_PASSWORD: also for the failure
 *   that locks the channel, and for a locked or a disabled teller (nothing
 *   counted then). Only with the correct password is a disabled teller told
 *   ID_DISABLED and then a locked one ID_LOCKED (the lock stays, nothing is
 *   counted). An unknown code is ID_NOT_FOUND, which callers answer exactly
 *   as ID_BAD_PASSWORD.
 * Both: an unknown code costs a dummy Argon2 verification, so response time
 * does not reveal which codes exist; ID_BAD_INPUT for a malformed code or an
 * over-long password (no Argon2: no teller can have such a code).
 *
 * Connections: teller_verify_password and teller_change_password keep one
 * connection through the whole check (the ZY1 pipeline holds its own).
 * Callers that must hold none during Argon2id (the console, where anyone can
 * send logins) use the three steps teller_attempt_load (short read),
 * teller_attempt_check (Argon2id, no database) and teller_attempt_record
 * (the outcome, own transaction), releasing the connection between them.
 *
 * teller_verify, teller_verify_password, teller_attempt_record and teller_change_password run their
 * own transactions through store_run (a failure must be recorded even if the
 * request fails): call them outside one (STORE_ERR otherwise). The Argon2
 * work happens before any transaction, never under the database write lock.
 * Other writes run in the caller's transaction. Every write and every
 * counted failure is audited (login.failed, teller.locked; the console's
 * carry "channel":"console" in their detail, the tablets' no channel). */
#ifndef ZHANYE_TELLER_H
#define ZHANYE_TELLER_H

#include "data/store.h"
#include "data/tenant.h"
#include "identity/identity.h"
#include "identity/org.h"

#include <stdbool.h>
#include <stdint.h>

/* The teller's role as the SQL of a SELECT over tellers t: the stored one,
 * or 'video_agent' for a teller in video_agents (data/tenant.h
 * ROLE_VIDEO_AGENT; migration 24). TELLER_ROLE_JOIN goes in its FROM. */
#define TELLER_ROLE_COL "CASE WHEN va.teller_id IS NULL THEN t.role ELSE 'video_agent' END"
#define TELLER_ROLE_JOIN "LEFT JOIN video_agents va ON va.teller_id = t.id "

#define TELLER_CODE_MAX 32
#define TELLER_NAME_MAX 100
#define TELLER_PW_MIN 8
#define TELLER_PW_MAX 128
#define TELLER_MAX_FAILURES 5
#define TELLER_LOCK_MS (15 * 60 * 1000)
#define TELLER_ARGON2_T 2
#define TELLER_ARGON2_M_KIB 19456
#define TELLER_ARGON2_P 1
#define TELLER_HASH_MAX 160 /* an encoded Argon2id hash with these parameters is ~97 bytes */

/* Where a password is checked: each channel has its own failure count and lock. */
enum teller_channel {
    TELLER_TABLET = 0,  /* ZY1 LOGIN and PASSWORD_CHANGE */
    TELLER_CONSOLE = 1, /* POST /api/v1/admin/login */
};
#define TELLER_CHANNELS 2

struct teller {
    int64_t id;
    int64_t bank_id;
    int64_t branch_id;    /* 0: none */
    int role;             /* enum role (data/tenant.h) */
    bool active;          /* false: disabled */
    int failed_logins;    /* tablet channel */
    int64_t locked_until; /* tablet channel, ms; 0 or past: not locked */
    int console_failed_logins;
    int64_t console_locked_until;
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
/* True when the teller is locked now on either channel (the console's list). */
bool teller_locked(const struct teller *t, int64_t now_ms);
/* True when channel ch of the teller is locked now. */
bool teller_locked_on(const struct teller *t, enum teller_channel ch, int64_t now_ms);

/* Checks a password on channel ch and records the outcome (see the top of
 * this file for what each channel answers): ID_OK (out filled, may be NULL),
 * ID_NOT_FOUND, ID_BAD_PASSWORD, ID_LOCKED, ID_DISABLED, ID_BAD_INPUT (also
 * for a bad policy or channel), ID_CORRUPT (unreadable stored hash) or a
 * negative store_rc. policy NULL: defaults. One connection throughout; own
 * transaction. */
int teller_verify(struct store_conn *c, enum teller_channel ch, const char *code,
                  const char *password, const struct lockout *policy, struct teller *out);
/* teller_verify on TELLER_TABLET. */
int teller_verify_password(struct store_conn *c, const char *code, const char *password,
                           const struct lockout *policy, struct teller *out);

/* teller_verify in three steps, for a caller that holds no connection while
 * Argon2id runs:
 *
 *   teller_attempt_load(c, ch, code, pw, &a);   connection held: one read
 *   teller_attempt_check(&a, pw);               no connection: Argon2id
 *   teller_attempt_record(c2, &a, policy, &t);  connection held: own transaction
 *   teller_attempt_wipe(&a);
 *
 * After load, a.state is ID_OK when a teller was read (a.t holds it as read;
 * the password is not known yet) and its outcome must be recorded; any other
 * value is already the final answer (ID_NOT_FOUND, ID_BAD_INPUT, and on the
 * tablet channel ID_DISABLED or ID_LOCKED), which record returns unchanged
 * without touching the database; check still runs the dummy Argon2 for an
 * unknown code. A caller may drop an attempt after check instead of
 * recording it (nothing is then counted). */
struct teller_attempt {
    enum teller_channel channel;
    int state;   /* see above */
    int verdict; /* set by check: ID_OK, ID_BAD_PASSWORD, ID_CORRUPT; ID_ERR before */
    struct teller t;
    char hash[TELLER_HASH_MAX]; /* the stored hash until check wipes it */
};

/* Reads the teller for an attempt on channel ch (a filled in any case).
 * Returns ID_OK, or ID_CORRUPT / a negative store_rc when the read failed
 * (also left in a->state). Runs no transaction. */
int teller_attempt_load(struct store_conn *c, enum teller_channel ch, const char *code,
                        const char *password, struct teller_attempt *a);
/* Runs Argon2id for a loaded attempt (the dummy one for an unknown code;
 * none when a->state is already a refusal) and wipes the stored hash. */
void teller_attempt_check(struct teller_attempt *a, const char *password);
/* Records a checked attempt's outcome in its own store_run transaction on c
 * (outside one) and returns the answer, as teller_verify. ID_ERR if a was
 * not checked. */
int teller_attempt_record(struct store_conn *c, struct teller_attempt *a,
                          const struct lockout *policy, struct teller *out);
/* Wipes the attempt (its teller and any hash left). */
void teller_attempt_wipe(struct teller_attempt *a);

/* What commits together with a password change: fn runs inside the
 * change's transaction, after the new hash is written and audited, with the
 * teller as verified. It follows the store_run callback contract
 * (data/store.h: it may run more than once, has no effect outside the
 * database); a status other than ID_OK rolls the whole change back and is
 * returned. */
struct teller_pw_also {
    int (*fn)(struct store_conn *c, const struct teller *t, void *arg);
    void *arg;
};

/* Verifies old_pw exactly as teller_verify_password (failures count on the
 * tablet channel), then sets new_pw (Argon2 before the transaction) and
 * clears both channels' counts and locks. ID_BAD_INPUT if new_pw breaks the
 * policy or equals old_pw (checked first, so a bad new password costs no
 * attempt); ID_LOCKED / ID_DISABLED also when the tablet channel was locked
 * or the teller disabled between the check and the write (nothing changed,
 * no lock lifted). Own transactions, two: the verification (its outcome
 * persists whatever follows), then one store_run with the new hash, its
 * audit record and also->fn (also may be NULL): either all of it commits
 * or none. */
int teller_change_password(struct store_conn *c, const char *code, const char *old_pw,
                           const char *new_pw, const struct lockout *policy,
                           const struct teller_pw_also *also);
/* An administrator sets a new password; clears both channels' counts and
 * locks. Caller's transaction. */
int teller_reset_password(struct store_conn *c, const char *actor, const char *code,
                          const char *new_pw);
/* Enables or disables a teller and zeroes both channels' failure counts
 * (locks stay). Caller's transaction. */
int teller_set_active(struct store_conn *c, const char *actor, const char *code, bool active);

/* True if pw meets the policy (length TELLER_PW_MIN..TELLER_PW_MAX). */
bool teller_password_ok(const char *pw);

#endif
