/* identity — status codes shared by every module of the identity layer.
 *
 * Functions of org, teller, kek, device, session, audit and demo return an
 * int that is ID_OK (0), a positive enum id_rc outcome the caller acts on
 * (wrong password, locked, expired, ...), or a negative enum store_rc
 * (STORE_ERR, STORE_BUSY, STORE_CONSTRAINT, STORE_NOMEM) passed through from
 * the store, details in store_errmsg(conn). ID_ERR is STORE_ERR's value and
 * also covers a failure of the crypto library, the RNG or the file system.
 *
 * Transactions. Every write function runs inside the transaction the caller
 * opened on the same connection (a store_run callback), and writes its
 * audit records there, so one request commits its rows, its audit trail and
 * its idempotent answer together. The exceptions record a failed
 * authentication attempt, which must persist whatever the request does next:
 * teller_verify_password, teller_change_password and activation_fail run
 * their own transaction and must be called OUTSIDE one (they fail with
 * STORE_ERR otherwise, never silently). */
#ifndef ZHANYE_IDENTITY_H
#define ZHANYE_IDENTITY_H

#include "data/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum id_rc {
    ID_ERR = -1, /* == STORE_ERR */
    ID_OK = 0,
    ID_NOT_FOUND = 1,    /* no such bank, branch, teller, ticket, device, session */
    ID_BAD_PASSWORD = 2, /* password wrong (the failure was counted) */
    ID_LOCKED = 3,       /* teller or ticket locked after too many failures */
    ID_DISABLED = 4,     /* teller disabled, device revoked or unbound */
    ID_EXPIRED = 5,      /* ticket or session past its lifetime */
    ID_INVALID = 6,      /* session ended or unknown (see the reason) */
    ID_EXISTS = 7,       /* the code is taken */
    ID_CONFLICT = 8,     /* device active for another teller; branch of another bank */
    ID_BAD_INPUT = 9,    /* an argument is malformed (code syntax, length, role) */
    ID_CORRUPT = 10,     /* stored data failed its integrity check (tampered or wrong KEK) */
};

/* The identity rules of a deployment ([identity] in zhanye.conf), handed to
 * the identity layer explicitly (tx_env) rather than read from the config. */
struct identity_policy {
    int idle_timeout_s;     /* a session ends after this long without a request */
    int absolute_timeout_s; /* ... and this long after login, whatever happens */
    int max_devices;        /* active tablets per teller */
    int max_failures;       /* wrong passwords before a lock */
    int64_t lock_ms;        /* how long a lock lasts */
};

/* Name of a status for logs and CLI messages ("not_found", "STORE_BUSY"...). */
static inline const char *id_rc_name(int rc)
{
    static const char *const names[] = {"ok",       "not_found", "bad_password", "locked",
                                        "disabled", "expired",   "invalid",      "exists",
                                        "conflict", "bad_input", "corrupt"};
    if (rc < 0)
        return store_rc_name(rc);
    return (size_t)rc < sizeof names / sizeof names[0] ? names[rc] : "unknown";
}

/* Copies the NUL-terminated src into dst[cap]; false (dst empty) if src is
 * NULL or does not fit: a value is never cut silently. */
static inline bool id_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap) : cap;
    if (n >= cap) {
        if (cap)
            dst[0] = '\0';
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

/* The end of an INSERT whose binds gave rc: steps it, finishes it, maps a
 * unique-key violation to ID_EXISTS and gives the new row's id. */
static inline int id_insert_finish(struct store_conn *c, struct store_stmt *s, int rc, int64_t *id)
{
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    if (rc == STORE_CONSTRAINT)
        return ID_EXISTS; /* also a concurrent add of the same code */
    if (rc != STORE_DONE)
        return rc;
    *id = store_last_insert_id(c);
    return ID_OK;
}

/* Binds the "(bank_id = ? OR ? = 0) AND (branch_id = ? OR ? = 0)" filter of
 * the list queries at parameters 1..4 (0 means all). */
static inline int id_bind_list_filter(struct store_stmt *s, int64_t bank_id, int64_t branch_id)
{
    int rc = STORE_OK;
    for (int i = 1; rc == STORE_OK && i <= 4; i++)
        rc = store_bind_int64(s, i, i <= 2 ? bank_id : branch_id);
    return rc;
}

#endif
