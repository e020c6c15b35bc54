/* seq — global business serial numbers.
 *
 * A serial is "YYYYMMDD" + node id (2 digits) + counter (10 digits), 20
 * characters, e.g. 20261126010000000042. Serials of one name from one node
 * are strictly increasing, also across restarts and if the wall clock steps
 * back (the date part never goes below the last one issued): counters are
 * reserved from the database in blocks, and a restart starts after the last
 * reserved block, never reusing a number. Thread-safe. A Redis backend
 * comes later behind the same functions.
 *
 * The date is the server's local date from clock_wall_ms() (tests move it
 * with clock_set_offset_ms()). The counter runs on across days and never
 * wraps: past 9999999999 seq_next fails with STORE_ERR. A block refill
 * acquires its own store connection and writes, so do not call seq_next
 * while this thread holds a store connection: with the pool exhausted it
 * would wait forever, and on SQLite an open transaction of this thread
 * would hold the write lock the refill waits for (STORE_BUSY). */
#ifndef ZHANYE_SEQ_H
#define ZHANYE_SEQ_H

#include "data/store.h"

#define SEQ_LEN 20

struct seq;

/* node_id 0..99; block = counters reserved per database write (e.g. 1000). */
int seq_open(struct store *st, int node_id, int block, struct seq **out);
void seq_close(struct seq *q);
/* Writes the next serial of the named sequence ("srv", "voucher", ...; 1..32
 * bytes) into out. Returns STORE_OK or a store status; details in
 * store_errmsg(NULL). */
int seq_next(struct seq *q, const char *name, char out[SEQ_LEN + 1]);

#endif
