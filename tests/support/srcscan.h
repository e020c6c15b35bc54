/* srcscan — test support for the lints over the source tree: read files,
 * blank comments (and string literals), walk a folder's C files.
 *
 * Blanking keeps every offset and newline, so a finding's line number is
 * the file's. */
#ifndef ZHANYE_SRCSCAN_H
#define ZHANYE_SRCSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The whole file, NUL-terminated (malloc'd), or NULL. */
char *srcscan_slurp(const char *path);
/* A copy of text (malloc'd; NULL when out of memory) with comments blanked,
 * and with the contents of string and character literals blanked too when
 * literals is true (the quotes stay). */
char *srcscan_blank(const char *text, bool literals);
/* Line number (from 1) of offset i in text. */
int srcscan_line(const char *text, size_t i);
/* True if text[i..] starts the identifier id as a whole word. */
bool srcscan_word_at(const char *text, size_t i, const char *id);

/* Called for each .c and .h file: rel is its path from the root
 * ("src/data/seq.c"), text its contents. */
typedef void (*srcscan_fn)(const char *rel, const char *text, void *arg);
/* Calls fn for every .c/.h file under root/rel, recursively, in a stable
 * order. Returns the number of files, or -1 if a folder or file could not
 * be read. */
int srcscan_walk(const char *root, const char *rel, srcscan_fn fn, void *arg);
/* $ZHANYE_SRC, or "." when unset. */
const char *srcscan_root(void);

#endif
