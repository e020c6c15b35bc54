/* recon — the reconciliation of the day's businesses (business/wf.h) with
 * the core system's daily journal file (对账文件), with explicit inputs
 * only (no database, no network), so it is unit-tested and fuzzed; the
 * command that feeds it is `zhanye reconcile` (cli/cmd_reconcile.c).
 *
 * The journal file `journal-YYYYMMDD.txt` (written by the core simulator,
 * sims/sim_core.c; docs/operations.md): ASCII, lines ending in LF, fields
 * separated by '|':
 *   H|YYYYMMDD|COUNT                                        header
 *   D|SERIAL|TXCODE|HHMMSS|KEY1|KEY2|RC|STATUS              COUNT lines
 *   T|COUNT|SM3                                             trailer
 * COUNT is decimal (at most RECON_LINES_MAX); SM3 is the lowercase hex SM3
 * of every D line, each with its LF, in file order. SERIAL 1..32, TXCODE 6,
 * HHMMSS 6 digits, KEY1/KEY2 0..40, RC 4 characters of [0-9A-Za-z-];
 * STATUS "normal" or "reversed". A serial appears once.
 *
 * What we expect of core, per downstream serial of a business step to core
 * (wf.h: biz_no + step + 'F'/'C' + attempt), from the step's row:
 *   RECON_DONE         a done step's forward call: rc 0000, normal
 *   RECON_COMPENSATED  a compensated step's forward call: reversed, or
 *                      refused (rc not 0000: nothing was done); absent is
 *                      a difference (core records a reversal even of a
 *                      call that never reached it)
 *   RECON_UNDO         the compensation call itself: rc 0000
 *   RECON_REFUSED      an attempt recorded as failed: rc not 0000, or
 *                      absent (neither is counted); rc 0000 is a difference
 *                      (core did what we recorded as failed)
 *
 * Differences, one line each, by serial (key fields masked, mask.h):
 *   core_only SERIAL TXCODE rc=RC status=STATUS key1=K1 key2=K2
 *   local_only SERIAL WHAT expect=done|compensated|undo
 *   status SERIAL local=done core=reversed | local=compensated core=normal
 *   rc SERIAL local=done|undo|failed core=RC
 * WHAT is the caller's label (e.g. "debit_card/account"). */
#ifndef ZHANYE_BUSINESS_RECON_H
#define ZHANYE_BUSINESS_RECON_H

#include "business/wf_db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum recon_rc { RECON_OK = 0, RECON_BAD = 1, RECON_ERR = -1 };

#define RECON_LINES_MAX 1000000
#define RECON_SERIAL_MAX 32
#define RECON_KEY_MAX 40
#define RECON_WHAT_MAX 48

struct recon_line {
    char serial[RECON_SERIAL_MAX + 1];
    char tx_code[7];
    char time[7];
    char key1[RECON_KEY_MAX + 1], key2[RECON_KEY_MAX + 1];
    char rc[5];
    char status[9]; /* normal, reversed */
};

struct recon_journal {
    char date[9]; /* YYYYMMDD of the header */
    size_t n;
    struct recon_line *lines;
};

/* Parses and checks a journal file (n bytes at p): the header, every line,
 * the count, the trailer's SM3, no repeated serial, nothing after the
 * trailer. RECON_OK (j filled; recon_journal_free after), RECON_BAD with
 * the reason in err (English, one line, no data from the file beyond a
 * line number), RECON_ERR (out of memory). j is left empty unless OK. */
int recon_parse(const uint8_t *p, size_t n, struct recon_journal *j, char *err, size_t errcap);
void recon_journal_free(struct recon_journal *j);

enum recon_expect { RECON_DONE, RECON_COMPENSATED, RECON_UNDO, RECON_REFUSED };

struct recon_local {
    char serial[RECON_SERIAL_MAX + 1];
    enum recon_expect expect;
    char what[RECON_WHAT_MAX + 1];
};

/* A growing list of expectations. */
struct recon_locals {
    struct recon_local *v;
    size_t n, cap;
};
/* RECON_OK or RECON_ERR (out of memory). */
int recon_locals_add(struct recon_locals *l, const char *serial, enum recon_expect e,
                     const char *what);
void recon_locals_free(struct recon_locals *l);

/* The expectations of business b of kind k with its step rows: for every
 * step with a serial whose egress step is core's (is_core(step name of
 * the egress route)): its failed attempts (RECON_REFUSED), a done step's
 * last attempt (RECON_DONE; none when its out says "core_created": false,
 * i.e. core already had the customer and nothing was created), a
 * compensated step's last attempt (RECON_COMPENSATED) and, when its undo
 * is core's, the compensation (RECON_UNDO). RECON_OK or RECON_ERR. */
int recon_business(const struct wf_kind *k, const struct wdb_biz *b,
                   const struct wdb_step steps[WF_MAX_STEPS],
                   bool (*is_core)(const char *egress_step, void *arg), void *arg,
                   struct recon_locals *out);

/* True when serial is a workflow serial (wf.h: 14 digits, 2 digits, 'F'
 * or 'C', 3 digits); then *bank_id and *biz_id are set from its biz_no. */
bool recon_serial_parse(const char *serial, int64_t *bank_id, int64_t *biz_id);

struct recon_counts {
    long matched, differences;
};

/* Compares the journal's lines with the expectations (neither modified;
 * either may be in any order; a serial repeated in locals counts once).
 * Every difference is handed to emit (one line, no LF) in serial order.
 * Journal lines for which keep(line, arg) is false are ignored (keep NULL:
 * all kept). RECON_OK or RECON_ERR (out of memory). */
int recon_compare(const struct recon_line *lines, size_t n, const struct recon_local *locals,
                  size_t m, bool (*keep)(const struct recon_line *l, void *arg), void *keep_arg,
                  void (*emit)(const char *line, void *arg), void *emit_arg,
                  struct recon_counts *out);

#endif
