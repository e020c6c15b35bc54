/* vissue — test support: issues an electronic voucher the way the workflow
 * engine's last step does (business/voucher.h voucher_issue inside a
 * store_run on the bank's database), without the engine, on the database
 * of a test daemon's data directory. Nothing is imitated: the real KEK and
 * voucher signing key of the data directory, the real audit chain.
 *
 * vissue_open loads DIR/keys' KEK and voucher key and opens the process's
 * audit context on DIR (once per process); vissue issues one voucher of
 * kind for (bank, branch, teller, customer) with the given serial, the
 * customer's name and ID number, two fields and a signature PNG drawn with
 * cairo; 0 with id_out, -1 (said on stderr). */
#ifndef ZHANYE_TEST_VISSUE_H
#define ZHANYE_TEST_VISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

int vissue_open(const char *data_dir);
void vissue_close(void);
/* Bank, branch and teller ids of a teller code in the directory st. */
int vissue_teller(struct store *st, const char *teller, int64_t *bank_id, int64_t *branch_id,
                  int64_t *teller_id);
int vissue(struct store *st, int64_t bank_id, int64_t branch_id, int64_t teller_id,
           const char *kind, const char *serial, int64_t customer_id, int64_t now_ms,
           char id_out[48]);
/* The workflow's two phases: voucher_render outside any transaction (the
 * same input as vissue), then voucher_store in a store_run; with alter, one
 * byte of the rendered PDF is flipped between them. voucher_render's code
 * when it refuses, else voucher_store's (VCH_OK, VCH_EXISTS with id_out,
 * VCH_BAD_INPUT, ...); a negative store status. */
int vissue_split(struct store *st, int64_t bank_id, int64_t branch_id, int64_t teller_id,
                 const char *kind, const char *serial, int64_t customer_id, int64_t now_ms,
                 bool alter, char id_out[48]);
/* A signature-like PNG (w x h) drawn with cairo; *png malloc'd. */
int vissue_png(int w, int h, uint8_t **png, size_t *n);

#endif
