/* devsim — zhanye-devsim, the simulators of the back-clip peripherals
 * (docs/peripherals.md). Each mode speaks its device's protocol on a
 * pseudo-terminal (or vpcd) and is scripted by tests through a control
 * channel: an HTTP admin on 127.0.0.1.
 *
 *   zhanye-devsim MODE [options]      (devsim_main.c: the mode table)
 *
 * Every mode prints one line once ready, starting "zhanye-devsim MODE:",
 * and runs until SIGTERM/SIGINT or until --watch-pid's process is gone. */
#ifndef ZHANYE_DEVSIM_H
#define ZHANYE_DEVSIM_H

/* Each mode's entry point: argv[0] is the mode name. Returns the exit code. */
int devsim_idcard_main(int argc, char **argv);

#endif
