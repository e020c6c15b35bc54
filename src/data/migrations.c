/* migrations.c — the schema, one numbered step at a time.
 *
 * To add a migration, append one entry with the next version number. */
#include "data/migrations.h"

static const struct migration migrations[] = {
    {1, "seq_blocks",
     /* Serial counters reserved per (sequence name, node); see seq.c. */
     "CREATE TABLE seq_blocks ("
     "name VARCHAR(32) NOT NULL, "
     "node INTEGER NOT NULL, "
     "next_value BIGINT NOT NULL, "
     "last_day INTEGER NOT NULL, "
     "PRIMARY KEY (name, node))"},
};

const struct migration *migrations_list(size_t *count)
{
    *count = sizeof migrations / sizeof migrations[0];
    return migrations;
}
