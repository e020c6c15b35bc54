/* migrations — the numbered schema changes store_migrate() applies.
 *
 * The list is append-only: a released migration is never edited or
 * renumbered, since databases in the field record it as applied. Versions
 * are strictly ascending; names fit VARCHAR(100). Each migration's SQL may
 * hold several statements and must use the subset that also runs on
 * MariaDB (see data/store.h). */
#ifndef ZHANYE_MIGRATIONS_H
#define ZHANYE_MIGRATIONS_H

#include <stddef.h>

struct migration {
    int version;      /* > 0, strictly ascending through the list */
    const char *name; /* short label recorded in schema_migrations */
    const char *sql;  /* one or more statements, no parameters */
};

/* The whole list in ascending order; *count receives its length. */
const struct migration *migrations_list(size_t *count);
/* The business tables (each has a bank_id column) that live in a bank's
 * shard and move with it, NULL-terminated; *count receives how many. */
const char *const *migrations_bank_tables(size_t *count);

#endif
