/* ticket.c — activation tickets (see ticket.h). */
#include "identity/ticket.h"

#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/device.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#define ALPHABET_LEN 31
#define CONTEXT_MAX 48
#define ACTOR_MAX (4 + DEV_HEX_LEN + 1)

/* Sealed size of the code (9 bytes) after padding. */
#define CODE_SEALED_MAX (KEK_OVERHEAD + 16)

void ticket_wipe(struct ticket *t)
{
    secmem_wipe(t, sizeof *t);
}

/* Runs a prepared statement that returns no rows; ID_OK or the store status. */
static int run(struct store_stmt *s, int rc)
{
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

/* ---- activation codes ------------------------------------------------------ */

/* 8 characters from the alphabet, unbiased (rejection sampling), as XXXX-XXXX. */
static int new_code(char code[ACT_CODE_LEN + 1])
{
    uint8_t buf[32];
    int n = 0, rc = ID_OK;
    while (n < 8 && rc == ID_OK) {
        if (secmem_random(buf, sizeof buf) != 0) {
            rc = ID_ERR;
            break;
        }
        for (size_t i = 0; i < sizeof buf && n < 8; i++)
            if (buf[i] < 256 - 256 % ALPHABET_LEN) {
                code[n < 4 ? n : n + 1] = ALPHABET[buf[i] % ALPHABET_LEN];
                n++;
            }
    }
    code[4] = '-';
    code[ACT_CODE_LEN] = '\0';
    secmem_wipe(buf, sizeof buf);
    return rc;
}

static void code_context(int64_t teller_id, char ctx[CONTEXT_MAX])
{
    snprintf(ctx, CONTEXT_MAX, "act|%lld", (long long)teller_id);
}

/* F = SM3("ZY1 act" || tlr || "|" || code), per spec/secure-channel.md. */
static int binding_factor(const char *tlr, const char *code, uint8_t f[SM3_LEN])
{
    sm_part parts[] = {{.p = "ZY1 act", .n = 7},
                       {.p = tlr, .n = strlen(tlr)},
                       {.p = "|", .n = 1},
                       {.p = code, .n = strlen(code)}};
    return sm3_digest(parts, 4, f) == SM_OK ? ID_OK : ID_ERR;
}

/* Ends the teller's issued tickets with status to; *n how many. A
 * cancelled ticket is stored 'superseded' too (the table's CHECK, migration
 * 2, knows no other way for a live ticket to end without use); its audit
 * record (activation.cancelled) tells the two apart. */
static int end_issued(struct store_conn *c, int64_t teller_id, const char *to, int64_t *n)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE activation_tickets SET status = ? "
                           "WHERE teller_id = ? AND status = 'issued'",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, to);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, teller_id);
    rc = run(s, rc);
    *n = rc == ID_OK ? store_changes(c) : 0;
    return rc;
}

static int supersede(struct store_conn *c, int64_t teller_id, int64_t *n)
{
    return end_issued(c, teller_id, "superseded", n);
}

int activation_cancel(struct store_conn *c, const char *actor, const char *teller_code,
                      int64_t *cancelled)
{
    struct teller t;
    if (!c || !actor || !cancelled)
        return ID_BAD_INPUT;
    *cancelled = 0;
    int rc = teller_find(c, teller_code, &t);
    if (rc == ID_OK)
        rc = end_issued(c, t.id, "superseded", cancelled);
    if (rc == ID_OK)
        rc = audit_appendf(c, t.bank_id, actor, "activation.cancelled", t.code, "{s:I}",
                           "cancelled", (json_int_t)*cancelled);
    return rc;
}

static int insert_ticket(struct store_conn *c, const struct teller *t, const uint8_t *sealed,
                         size_t n, int64_t now, int64_t expires)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO activation_tickets (bank_id, teller_id, code_enc, "
                           "expires_at, attempts, status, created_at) "
                           "VALUES (?, ?, ?, ?, 0, 'issued', ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, t->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, t->id);
    if (rc == STORE_OK)
        rc = store_bind_blob(s, 3, sealed, n);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, expires);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, now);
    return run(s, rc);
}

int activation_issue(struct store_conn *c, const struct kek *k, const char *actor,
                     const char *teller_code, char code_out[ACT_CODE_LEN + 1], int64_t *expires_ms)
{
    struct teller t;
    char code[ACT_CODE_LEN + 1], ctx[CONTEXT_MAX];
    uint8_t sealed[CODE_SEALED_MAX];
    size_t sealed_len = 0;
    int64_t superseded = 0, now = clock_wall_ms(), expires = now + ACT_TTL_MS;
    if (!c || !k || !code_out || !expires_ms)
        return ID_BAD_INPUT;
    int rc = teller_find(c, teller_code, &t);
    if (rc == ID_OK && !t.active)
        rc = ID_DISABLED;
    if (rc == ID_OK) {
        code_context(t.id, ctx);
        rc = new_code(code);
    }
    if (rc == ID_OK)
        rc = kek_seal(k, ctx, (const uint8_t *)code, ACT_CODE_LEN, sealed, sizeof sealed,
                      &sealed_len);
    if (rc == ID_OK)
        rc = supersede(c, t.id, &superseded);
    if (rc == ID_OK)
        rc = insert_ticket(c, &t, sealed, sealed_len, now, expires);
    if (rc == ID_OK)
        rc = audit_appendf(c, t.bank_id, actor, "activation.issued", t.code, "{s:I, s:I}",
                           "expires_at", (json_int_t)expires, "superseded", (json_int_t)superseded);
    if (rc == ID_OK) {
        memcpy(code_out, code, sizeof code);
        *expires_ms = expires;
    }
    secmem_wipe(code, sizeof code);
    return rc;
}

/* ---- looking a ticket up ----------------------------------------------------- */

/* The newest ticket of the teller, whatever its state; the code not opened. */
static int latest_ticket(struct store_conn *c, const struct teller *t, struct ticket *out,
                         char status[16], uint8_t *sealed, size_t *sealed_len)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "SELECT id, expires_at, attempts, status, code_enc "
                           "FROM activation_tickets WHERE teller_id = ? ORDER BY id DESC LIMIT 1",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, t->id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        out->id = store_col_int64(s, 0);
        out->expires_at = store_col_int64(s, 1);
        int64_t a = store_col_int64(s, 2);
        out->attempts = a < 0 || a > ACT_MAX_ATTEMPTS ? ACT_MAX_ATTEMPTS : (int)a;
        size_t n = 0;
        const void *blob = store_col_blob(s, 4, &n);
        rc = id_copy(status, 16, store_col_text(s, 3)) && blob && n <= CODE_SEALED_MAX ? ID_OK
                                                                                       : ID_CORRUPT;
        if (rc == ID_OK) {
            memcpy(sealed, blob, n);
            *sealed_len = n;
        }
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (s)
        store_finish(s);
    return rc;
}

/* Opens the sealed code into out->code and derives F. */
static int open_code(const struct kek *k, const uint8_t *sealed, size_t n, struct ticket *out)
{
    char ctx[CONTEXT_MAX];
    uint8_t plain[CODE_SEALED_MAX];
    size_t len = 0;
    code_context(out->teller_id, ctx);
    int rc = kek_open(k, ctx, sealed, n, plain, sizeof plain, &len);
    if (rc == ID_OK && len != ACT_CODE_LEN)
        rc = ID_CORRUPT;
    if (rc == ID_OK) {
        memcpy(out->code, plain, ACT_CODE_LEN);
        out->code[ACT_CODE_LEN] = '\0';
        rc = binding_factor(out->teller_code, out->code, out->f);
    }
    if (rc == ID_CORRUPT)
        log_error("activation.corrupt", "the activation code of teller %s does not open",
                  out->teller_code);
    secmem_wipe(plain, sizeof plain);
    return rc;
}

int activation_lookup(struct store_conn *c, const struct kek *k, const char *teller_code,
                      struct ticket *out)
{
    struct teller t;
    char status[16];
    uint8_t sealed[CODE_SEALED_MAX];
    size_t n = 0;
    if (!c || !k || !out)
        return ID_BAD_INPUT;
    memset(out, 0, sizeof *out);
    int rc = teller_find(c, teller_code, &t);
    if (rc == ID_OK && !t.active)
        rc = ID_NOT_FOUND;
    if (rc == ID_OK)
        rc = latest_ticket(c, &t, out, status, sealed, &n);
    if (rc != ID_OK)
        goto out;
    out->bank_id = t.bank_id;
    out->teller_id = t.id;
    memcpy(out->teller_code, t.code, sizeof t.code);
    memcpy(out->bank_code, t.bank_code, sizeof t.bank_code);
    if (strcmp(status, "locked") == 0 || out->attempts >= ACT_MAX_ATTEMPTS)
        rc = ID_LOCKED;
    else if (strcmp(status, "issued") != 0)
        rc = ID_NOT_FOUND;
    else if (clock_wall_ms() >= out->expires_at)
        rc = ID_EXPIRED;
    else
        rc = open_code(k, sealed, n, out);
out:
    if (rc != ID_OK)
        ticket_wipe(out);
    return rc;
}

/* ---- failures ------------------------------------------------------------------ */

/* attempts + 1 on a live ticket; reads back attempts, bank and teller code. */
static int bump_attempts(struct store_conn *c, int64_t id, int *attempts, int64_t *bank_id,
                         char tlr[TELLER_CODE_MAX + 1])
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE activation_tickets SET attempts = attempts + 1 "
                           "WHERE id = ? AND status = 'issued'",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    rc = run(s, rc);
    if (rc == ID_OK && store_changes(c) != 1)
        return ID_NOT_FOUND;
    if (rc == ID_OK)
        rc = store_prepare(c,
                           "SELECT a.attempts, a.bank_id, t.code FROM activation_tickets a "
                           "JOIN tellers t ON t.id = a.teller_id WHERE a.id = ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        int64_t a = store_col_int64(s, 0);
        *attempts = a > ACT_MAX_ATTEMPTS ? ACT_MAX_ATTEMPTS : (int)a;
        *bank_id = store_col_int64(s, 1);
        rc = id_copy(tlr, TELLER_CODE_MAX + 1, store_col_text(s, 2)) ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (s)
        store_finish(s);
    return rc;
}

static int lock_ticket(struct store_conn *c, int64_t id)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "UPDATE activation_tickets SET status = 'locked' WHERE id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    return run(s, rc);
}

/* The failure's writes, inside the transaction activation_fail opened.
 * A store_run callback: the outcome (ID_LOCKED) goes to *result and the
 * writes commit; a store status rolls them back. */
struct failure {
    int64_t id;
    const char *dev;
    int result;                    /* ID_OK, or ID_LOCKED: this failure locked it */
    int attempts;                  /* failures counted so far */
    char tlr[TELLER_CODE_MAX + 1]; /* the ticket's teller */
};

static int count_failure(struct store_conn *c, void *arg)
{
    struct failure *fl = arg;
    char actor[ACTOR_MAX];
    int64_t bank_id = 0;
    fl->result = ID_OK;
    fl->attempts = 0;
    snprintf(actor, sizeof actor, "%s%s", fl->dev ? "dev:" : "",
             fl->dev ? fl->dev : "unauthenticated");
    int rc = bump_attempts(c, fl->id, &fl->attempts, &bank_id, fl->tlr);
    if (rc == ID_OK)
        rc = audit_appendf(c, bank_id, actor, "activation.failed", fl->tlr, "{s:I, s:i}", "ticket",
                           (json_int_t)fl->id, "attempts", fl->attempts);
    if (rc != ID_OK || fl->attempts < ACT_MAX_ATTEMPTS)
        return rc;
    rc = lock_ticket(c, fl->id);
    if (rc == ID_OK)
        rc = audit_appendf(c, bank_id, "system", "activation.locked", fl->tlr, "{s:I}", "ticket",
                           (json_int_t)fl->id);
    if (rc == ID_OK)
        fl->result = ID_LOCKED;
    return rc;
}

int activation_fail(struct store_conn *c, int64_t ticket_id, const char *dev_hex)
{
    struct failure fl = {.id = ticket_id, .dev = dev_hex, .result = ID_OK};
    if (!c || (dev_hex && !device_valid_dev(dev_hex)))
        return ID_BAD_INPUT;
    int rc = store_run(c, "activation.fail", count_failure, &fl);
    if (rc == ID_OK && fl.result == ID_LOCKED)
        log_warn("activation.locked", "activation ticket of teller %s locked after %d failures",
                 fl.tlr, fl.attempts);
    return rc == ID_OK ? fl.result : rc;
}

/* ---- using ---------------------------------------------------------------------- */

int ticket_consume(struct store_conn *c, const struct ticket *t, const char *dev_hex)
{
    struct store_stmt *s = NULL;
    char actor[ACTOR_MAX];
    int64_t now = clock_wall_ms();
    if (!c || !t || !device_valid_dev(dev_hex))
        return ID_BAD_INPUT;
    int rc = store_prepare(c,
                           "UPDATE activation_tickets SET status = 'used', used_at = ?, dev = ? "
                           "WHERE id = ? AND teller_id = ? AND status = 'issued' "
                           "AND expires_at > ? AND attempts < ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, dev_hex);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, t->id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, t->teller_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 6, ACT_MAX_ATTEMPTS);
    rc = run(s, rc);
    if (rc == ID_OK && store_changes(c) != 1)
        rc = now >= t->expires_at ? ID_EXPIRED : ID_NOT_FOUND;
    snprintf(actor, sizeof actor, "dev:%s", dev_hex);
    if (rc == ID_OK)
        rc = audit_appendf(c, t->bank_id, actor, "activation.used", t->teller_code, "{s:I, s:s}",
                           "ticket", (json_int_t)t->id, "dev", dev_hex);
    return rc;
}
