/* tx — the transaction registry: every ZY1 transaction declared once.
 *
 * A struct tx_def names the TX code, its handler, whether it needs a
 * logged-in session (spec step 13), whether it writes, and its input
 * schema: the members `data` may have, their types and limits. The
 * pipeline (http/h_tx.c) validates `data` against the schema before the
 * handler runs, so a handler sees only well-formed input; unknown members
 * are refused. Handlers run inside one database transaction together with
 * their audit records and the stored idempotent answer; what they need from
 * the bank's other systems is fetched before it, by the TX's prepare
 * function (see struct tx_def). */
#ifndef ZHANYE_TX_H
#define ZHANYE_TX_H

#include "data/store.h"
#include "foundation/errcode.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* TXF_NUMBER: an integer or a real (a GPS coordinate). */
enum tx_ftype { TXF_STRING, TXF_INT, TXF_BOOL, TXF_OBJECT, TXF_ARRAY, TXF_NUMBER };

struct tx_field {
    const char *name;
    enum tx_ftype type;
    bool required;
    size_t max; /* strings: bytes; arrays: items; ints: 0 = any */
};

struct tenant_conn;
struct kek;
struct identity_policy;
struct egress;
struct sm2_key;
struct video_env;
struct vrec_env;

/* What every handler may use besides the request: explicit inputs, set once
 * by the composition root (app/), so that no handler reaches into the
 * process's configuration or anything above its own layer. */
struct tx_env {
    const struct kek *kek;                  /* seals secrets at rest (identity/kek.h) */
    const struct identity_policy *identity; /* timeouts, device cap, lockout (identity.h) */
    int64_t attach_max_bytes; /* [business] attach_max_bytes (business/attach.h); 0: default */
    int face_threshold;       /* [business] face_threshold (business/wf.h); 0: default */
    /* The bank's other systems (egress/egress.h): for a TX's prepare
     * function only, never inside a transaction; may be NULL. */
    struct egress *egress;
    /* Signs the electronic vouchers (business/voucher_sign.h: its own SM2
     * key, DATA/keys/voucher-sign.key); NULL where vouchers are not issued. */
    const struct sm2_key *voucher_key;
    /* Remote video calls (business/video_turn.h): the TURN secret and URLs,
     * the credentials' lifetime, the reconnect window; NULL: no video. */
    const struct video_env *video;
    /* The app store's download tokens (appstore/dltoken.h): the key
     * (DLTOKEN_KEY_LEN bytes, derived from the KEK; NULL: APP_LATEST answers
     * `internal`) and how long a token lives ([appstore] token_ttl_s). */
    const uint8_t *store_token_key;
    int store_token_ttl_s;
    /* Recorded calls (business/vrec.h): Janus, the recordings' folder, the
     * KEK; for a TX's prepare function only (it talks to Janus); NULL: no
     * recording. */
    const struct vrec_env *vrec;
};

/* What a handler gets and gives back.
 *
 * A handler runs inside the request's database transaction (store_run, see
 * data/store.h for the callback contract: it may be called again after a
 * busy database, so it writes only to the database and to its ctx), unless
 * its tx_def says read_only (no transaction: it must not write) or
 * own_transaction (it runs its own store_run calls).
 *
 * Business transactions (src/business/) read and write ONLY through
 * `tenant`: the session's bank scope bound into every statement
 * (data/tenant.h). `conn` is the platform-level door for the identity
 * layer's own transactions (devices, sessions, passwords) and must not
 * appear in business code; tests/unit/identity/test_tenant.c scans
 * src/business/ for it. */
struct tx_ctx {
    const struct tx_env *env;
    struct store_conn *conn;    /* inside the request's transaction; identity layer only */
    struct tenant_conn *tenant; /* the same connection, bank-scoped; NULL without a session */
    const char *tx;
    const char *dev; /* 32 hex */
    const char *tlr; /* DEVICE_ACTIVATE: the envelope's tlr */
    const char *client_ip;
    int64_t bank_id; /* of the device's teller (the ticket's for DEVICE_ACTIVATE) */
    int64_t teller_id;
    int64_t branch_id; /* of the session's teller; 0 without a session */
    int role;          /* of the session's teller (data/tenant.h); 0 without one */
    const char *sid;   /* the session token, when one was presented */
    /* The session's teller as the session check read it (codes, name, and
     * the role's name as shown: video_agent for a video agent): all NULL
     * without a session. What SESSION_INFO answers, with no database read. */
    struct tx_teller {
        const char *code, *name, *role, *bank, *branch;
    } teller;
    /* The names of the session's bank and branch (identity/org.h), resolved
     * by the pipeline for a TX whose tx_def says org_names (prepare and fn
     * both get them); "" or NULL when unknown or not asked for. */
    const char *bank_name;
    const char *branch_name;
    const void *ticket; /* DEVICE_ACTIVATE: the activation ticket (identity/device.h) */
    json_t *in;         /* payload.data, validated against the schema; wiped after */
    /* What the TX's prepare function fetched (see struct tx_def), for fn:
     * NULL when it fetched nothing or was not run. Owned by the pipeline,
     * wiped and freed after the request; fn only reads it. */
    json_t *fetched;
    /* outputs */
    const char *code; /* "OK" unless the handler sets an error (tx_fail) */
    /* An identity effect on this request's device that the pipeline runs on
     * the directory once the handler's transaction has committed (a business
     * TX works on its bank's shard and cannot reach the directory's devices
     * and sessions): TX_AFTER_NONE unless the handler sets it. Not run again
     * for a retry answered from its stored answer. */
    enum tx_after {
        TX_AFTER_NONE = 0,
        TX_AFTER_LOCK,   /* end the device's sessions (binding_lock) */
        TX_AFTER_UNBIND, /* unbind the device (binding_unbind) */
    } after;
    char message[256];
    json_t *out; /* the answer's data object; created empty; its strings are wiped after */
};

enum tx_result {
    TX_COMMIT = 0,   /* commit the transaction (also for business errors in ctx->code) */
    TX_ROLLBACK = 1, /* internal failure: roll back, answer "internal" */
};

typedef enum tx_result (*tx_fn)(struct tx_ctx *c);

struct tx_def {
    const char *code;
    tx_fn fn;
    bool needs_session;
    /* The handler opens its own transactions: it records failed attempts
     * (passwords) that must persist whatever happens next. Its idempotent
     * answer is then stored right after it, in a transaction of its own;
     * if that fails, the answer is still sent (the work is committed) and a
     * retry of the cseq runs the handler again. */
    bool own_transaction;
    /* Reads only: without a cseq it runs outside any transaction, so it
     * never takes the database's write lock (SQLite serialises writers). */
    bool read_only;
    /* A business transaction: it works on the bank's business data, so the
     * pipeline runs it on the bank's shard (data/shard.h) with its fence
     * checked, and its stored answers move with the bank. Identity
     * transactions (false) run on the directory. */
    bool bank_data;
    /* The handler (and prepare) need the session's bank and branch names
     * (tx_ctx bank_name, branch_name): the pipeline looks them up in the
     * directory (org_names, identity/org.h, cached) before prepare. */
    bool org_names;
    /* A business TX that the device-management gate leaves open
     * (DEVICE_CHECKIN: a refused device must be able to recover). Every
     * other bank_data TX runs the gate first (business/mdm_policy.h). */
    bool mdm_open;
    /* Optional: the part of the work that calls the bank's other systems
     * (env->egress), run BEFORE the database transaction and without it, so
     * that a slow remote call never holds a shard's writer lock.
     *
     * Contract: it runs at most once per request, after steps 1-13 and the
     * input schema, and before fn; its ctx has conn NULL, out NULL, the
     * session's ids, in, and fetched NULL. tenant is NULL, except for a
     * bank_data TX with a session: then it is a READ-ONLY scope on the
     * bank's shard (data/tenant.h), OUTSIDE any transaction (autocommit
     * reads; no writer lock is held, none may be taken: it is opened with
     * tenant_open_readonly, which refuses every statement but a SELECT and
     * every audit record), with the shard's fence checked before it runs
     * (the bank is here or being copied, as for a read-only TX) and after
     * (a bank that moved away meanwhile answers `unavailable`). What it
     * reads may change before fn runs: fn reads it again in its
     * transaction and decides.
     * It decides nothing about the answer: it leaves what it learned in
     * c->fetched (a new reference it creates; the pipeline wipes and frees
     * it) and returns TX_COMMIT; fn, in the transaction as usual, reads
     * c->fetched and answers (fn may run more than once, on the same
     * fetched). Its code and message are ignored. TX_ROLLBACK (out of
     * memory) answers `internal` without running fn. It must bound its
     * own time (an egress step has a deadline). A retry of a cseq whose
     * answer is stored in the database or Redis is answered from there
     * without prepare; only a concurrent duplicate, racing the first, may
     * run prepare a second time (its result is then not used). Only for a
     * TX that is neither read_only nor own_transaction. */
    tx_fn prepare;
    const struct tx_field *fields;
    size_t nfields;
};

/* Every registered TX (app/tx_table.c), and lookup by code. */
const struct tx_def *tx_find(const char *code);
const struct tx_def *const *tx_all(size_t *n);

/* Checks data against def's schema; -1 with err naming the member otherwise. */
int tx_validate(const struct tx_def *def, json_t *data, char *err, size_t errcap);
/* Sets the error e on the context: its code, and the table's message
 * (foundation/errcode.h). The answer is sealed (HTTP 200). */
void tx_fail(struct tx_ctx *c, enum ze e);
/* The same with a message of its own (printf-style), for a message that
 * needs a detail (the bounds of a weak password, the member a bad_request
 * names); the table's message is the default, this the override. */
void tx_failf(struct tx_ctx *c, enum ze e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
