/* org.c — banks and branches (see org.h). */
#include "identity/org.h"

#include "foundation/clock.h"
#include "identity/audit.h"

#include <string.h>

#define BANK_COLS "id, parent_id, kind, status, created_at, code, name"
#define BRANCH_COLS "id, bank_id, status, created_at, code, name"

bool org_valid_code(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 if it is malformed,
 * overlong, a surrogate, beyond U+10FFFF or a control character. */
static size_t utf8_char(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (n == 0 || n > avail)
        return 0;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
        return 0;
    return n;
}

bool org_valid_name(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_char((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* ---- reading rows -------------------------------------------------------- */

static int read_bank(struct store_stmt *s, struct bank *out)
{
    memset(out, 0, sizeof *out);
    out->id = store_col_int64(s, 0);
    out->parent_id = store_col_int64(s, 1);
    const char *kind = store_col_text(s, 2), *status = store_col_text(s, 3);
    out->kind = kind && strcmp(kind, "province") == 0 ? ORG_PROVINCE : ORG_BANK;
    out->active = status && strcmp(status, "active") == 0;
    out->created_at = store_col_int64(s, 4);
    if (!id_copy(out->code, sizeof out->code, store_col_text(s, 5)) ||
        !id_copy(out->name, sizeof out->name, store_col_text(s, 6)))
        return ID_CORRUPT;
    return ID_OK;
}

static int read_branch(struct store_stmt *s, struct branch *out)
{
    memset(out, 0, sizeof *out);
    out->id = store_col_int64(s, 0);
    out->bank_id = store_col_int64(s, 1);
    const char *status = store_col_text(s, 2);
    out->active = status && strcmp(status, "active") == 0;
    out->created_at = store_col_int64(s, 3);
    if (!id_copy(out->code, sizeof out->code, store_col_text(s, 4)) ||
        !id_copy(out->name, sizeof out->name, store_col_text(s, 5)))
        return ID_CORRUPT;
    return ID_OK;
}

/* Runs a prepared one-row query: ID_OK with *out filled, or ID_NOT_FOUND. */
static int one_bank(struct store_stmt *s, int rc, struct bank *out)
{
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        rc = read_bank(s, out);
    else if (rc == STORE_DONE)
        rc = ID_NOT_FOUND;
    if (s)
        store_finish(s);
    return rc;
}

static int one_branch(struct store_stmt *s, int rc, struct branch *out)
{
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        rc = read_branch(s, out);
    else if (rc == STORE_DONE)
        rc = ID_NOT_FOUND;
    if (s)
        store_finish(s);
    return rc;
}

int org_find_bank(struct store_conn *c, const char *code, struct bank *out)
{
    if (!org_valid_code(code, ORG_CODE_MAX) || !out)
        return ID_BAD_INPUT;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT " BANK_COLS " FROM banks WHERE code = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, code);
    return one_bank(s, rc, out);
}

int org_find_bank_id(struct store_conn *c, int64_t id, struct bank *out)
{
    if (!out)
        return ID_BAD_INPUT;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT " BANK_COLS " FROM banks WHERE id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    return one_bank(s, rc, out);
}

static int find_province(struct store_conn *c, struct bank *out)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT " BANK_COLS " FROM banks WHERE kind = 'province'", &s);
    return one_bank(s, rc, out);
}

int org_find_branch(struct store_conn *c, int64_t bank_id, const char *code, struct branch *out)
{
    if (!org_valid_code(code, ORG_CODE_MAX) || !out)
        return ID_BAD_INPUT;
    struct store_stmt *s = NULL;
    int rc =
        store_prepare(c, "SELECT " BRANCH_COLS " FROM branches WHERE bank_id = ? AND code = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, code);
    return one_branch(s, rc, out);
}

int org_find_branch_id(struct store_conn *c, int64_t id, struct branch *out)
{
    if (!out)
        return ID_BAD_INPUT;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT " BRANCH_COLS " FROM branches WHERE id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    return one_branch(s, rc, out);
}

/* ---- adding -------------------------------------------------------------- */

static int insert_bank(struct store_conn *c, const char *code, const char *name, int kind,
                       int64_t parent_id, int64_t *id)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO banks (code, name, kind, parent_id, status, created_at) "
                           "VALUES (?, ?, ?, ?, 'active', ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, code);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, name);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, kind == ORG_PROVINCE ? "province" : "bank");
    if (rc == STORE_OK)
        rc = parent_id ? store_bind_int64(s, 4, parent_id) : store_bind_null(s, 4);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, clock_wall_ms());
    return id_insert_finish(c, s, rc, id);
}

/* Common checks and the insert of a province or bank row, with its audit record. */
static int add_bank_row(struct store_conn *c, const char *actor, const char *code, const char *name,
                        int kind, int64_t *id_out)
{
    struct bank found;
    int64_t parent = 0, id = 0;
    if (!c || !org_valid_code(code, ORG_CODE_MAX) || !org_valid_name(name, ORG_NAME_MAX))
        return ID_BAD_INPUT;
    int rc = find_province(c, &found);
    if (kind == ORG_PROVINCE && rc == ID_OK)
        return ID_EXISTS;
    if (kind == ORG_BANK && rc != ID_OK)
        return rc;
    parent = kind == ORG_BANK ? found.id : 0;
    rc = org_find_bank(c, code, &found);
    if (rc == ID_OK)
        return ID_EXISTS;
    if (rc != ID_NOT_FOUND)
        return rc;
    rc = insert_bank(c, code, name, kind, parent, &id);
    if (rc == ID_OK)
        rc = audit_appendf(c, id, actor,
                           kind == ORG_PROVINCE ? "org.province_added" : "org.bank_added", code,
                           "{s:s}", "name", name);
    if (rc == ID_OK && id_out)
        *id_out = id;
    return rc;
}

int org_add_province(struct store_conn *c, const char *actor, const char *code, const char *name,
                     int64_t *id_out)
{
    return add_bank_row(c, actor, code, name, ORG_PROVINCE, id_out);
}

int org_add_bank(struct store_conn *c, const char *actor, const char *code, const char *name,
                 int64_t *id_out)
{
    return add_bank_row(c, actor, code, name, ORG_BANK, id_out);
}

static int insert_branch(struct store_conn *c, int64_t bank_id, const char *code, const char *name,
                         int64_t *id)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO branches (bank_id, code, name, status, created_at) "
                           "VALUES (?, ?, ?, 'active', ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, code);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, name);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, clock_wall_ms());
    return id_insert_finish(c, s, rc, id);
}

int org_add_branch(struct store_conn *c, const char *actor, int64_t bank_id, const char *code,
                   const char *name, int64_t *id_out)
{
    struct bank b;
    struct branch found;
    int64_t id = 0;
    if (!c || !org_valid_code(code, ORG_CODE_MAX) || !org_valid_name(name, ORG_NAME_MAX))
        return ID_BAD_INPUT;
    int rc = org_find_bank_id(c, bank_id, &b);
    if (rc != ID_OK)
        return rc;
    if (b.kind != ORG_BANK)
        return ID_CONFLICT;
    rc = org_find_branch(c, bank_id, code, &found);
    if (rc == ID_OK)
        return ID_EXISTS;
    if (rc != ID_NOT_FOUND)
        return rc;
    rc = insert_branch(c, bank_id, code, name, &id);
    if (rc == ID_OK)
        rc = audit_appendf(c, bank_id, actor, "org.branch_added", code, "{s:s, s:s}", "bank",
                           b.code, "name", name);
    if (rc == ID_OK && id_out)
        *id_out = id;
    return rc;
}

/* ---- listing -------------------------------------------------------------- */

int org_list_banks(struct store_conn *c, int (*fn)(const struct bank *b, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    struct bank b;
    if (!c || !fn)
        return ID_BAD_INPUT;
    int rc = store_prepare(c,
                           "SELECT " BANK_COLS " FROM banks "
                           "ORDER BY CASE WHEN kind = 'province' THEN 0 ELSE 1 END, code",
                           &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        rc = read_bank(s, &b);
        if (rc == ID_OK)
            rc = fn(&b, arg);
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (s)
        store_finish(s);
    return rc;
}

int org_list_branches(struct store_conn *c, int64_t bank_id,
                      int (*fn)(const struct branch *b, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    struct branch br;
    if (!c || !fn)
        return ID_BAD_INPUT;
    int rc = store_prepare(c,
                           "SELECT " BRANCH_COLS " FROM branches "
                           "WHERE bank_id = ? OR ? = 0 ORDER BY bank_id, code",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, bank_id);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        rc = read_branch(s, &br);
        if (rc == ID_OK)
            rc = fn(&br, arg);
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (s)
        store_finish(s);
    return rc;
}
