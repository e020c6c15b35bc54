/* biz_db — one write statement of a business table in one call: prepared
 * through the tenant scope (data/tenant.h: the bank's placeholder is bound
 * by tenant_prepare), the other placeholders bound in order from a list of
 * values, stepped to its end. For the inserts and updates of the *_db.c
 * modules, which would otherwise repeat prepare / bind / step per column.
 *
 *   rc = BDB_EXEC(tc, "INSERT INTO t (bank_id, id, name) VALUES (?, ?, ?)", 1,
 *                 BDB_I(id), BDB_S(name));
 *
 * bank_idx is the bank's placeholder (1..n+1); the values go to the others,
 * first to last. Returns 0 after the statement's last row (STORE_DONE), or
 * the store status (STORE_CONSTRAINT, STORE_BUSY, STORE_ERR, ...). */
#ifndef ZHANYE_BIZ_DB_H
#define ZHANYE_BIZ_DB_H

#include "data/tenant.h"

#include <stddef.h>
#include <stdint.h>

enum bdb_type { BDB_INT, BDB_TEXT, BDB_BLOB, BDB_NULL };

struct bdb_val {
    enum bdb_type type;
    int64_t i;
    const char *s;
    const void *b;
    size_t n;
};

#define BDB_I(v) ((struct bdb_val){.type = BDB_INT, .i = (v)})
/* Text; NULL binds NULL. */
#define BDB_S(v) ((struct bdb_val){.type = BDB_TEXT, .s = (v)})

/* Text, with NULL or "" bound as NULL. */
static inline struct bdb_val BDB_S_OPT(const char *v) {
    return v && v[0] ? BDB_S(v) : (struct bdb_val){.type = BDB_NULL};
}

/* The integer when has, else NULL. */
static inline struct bdb_val
BDB_I_OPT(int has, int64_t v) {
    return has ? BDB_I(v) : (struct bdb_val){.type = BDB_NULL};
}

/* A blob of n bytes; a NULL p binds NULL. */
static inline struct bdb_val
BDB_B(const void *p, size_t n) {
    return p ? (struct bdb_val){.type = BDB_BLOB, .b = p, .n = n}
             : (struct bdb_val){.type = BDB_NULL};
}

int bdb_exec(struct tenant_conn *tc, const char *sql, int bank_idx, const struct bdb_val *v,
             size_t n);

#define BDB_EXEC(tc, sql, bank_idx, ...)                                                           \
    bdb_exec((tc), (sql), (bank_idx), (const struct bdb_val[]){__VA_ARGS__},                       \
             sizeof((const struct bdb_val[]){__VA_ARGS__}) / sizeof(struct bdb_val))

#endif
