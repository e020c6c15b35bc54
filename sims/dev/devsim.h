/* zhanye-devsim: simulators of the back-clip terminal's peripherals, one
 * mode per device (`zhanye-devsim MODE ARGS...`). Each mode's entry point
 * takes the arguments after MODE (argv[0] is the mode) and returns the
 * process exit code. */
#ifndef ZHANYE_DEVSIM_H
#define ZHANYE_DEVSIM_H

/* `card`: a PBOC bank card on a vsmartcard vpcd reader (devsim_card.c). */
int devsim_card_main(int argc, char **argv);

#endif
