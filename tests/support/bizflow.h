/* bizflow — test support: the inputs a tablet sends for each step of the
 * debit card opening (business/wf_debit.c), as its peripherals would
 * produce them: the ID-card reader's fields and photo, the live face, the
 * card reader's card number (Luhn-valid), the PIN pad's PIN block (ISO
 * 9564 format 0 + eight 0xFF, SM4-ECB under the core simulator's default
 * zone PIN key), the signature pad's strokes and image. */
#ifndef ZHANYE_TEST_BIZFLOW_H
#define ZHANYE_TEST_BIZFLOW_H

#include <stddef.h>

/* The debit card's steps, in order. */
extern const char *const BIZFLOW_STEPS[];
extern const size_t BIZFLOW_NSTEPS;

/* A new 19-digit Luhn-valid card number (seq makes it unique in a test run). */
void bizflow_new_card(int seq, char pan[20]);
/* The PIN block of pin for card pan, 32 hex characters. */
void bizflow_pin_block(const char *pan, const char *pin, char hex[33]);
/* The input (JSON text, malloc'd) of step for the person (id_no, name) and
 * card; the PIN step uses PIN "147258". "{}" for a step without input. */
char *bizflow_input(const char *step, const char *id_no, const char *name, const char *card);
/* The signature step's input: strokes and a real PNG (malloc'd; NULL out of memory). */
char *bizflow_signature_input(void);

#endif
