/* devsim — zhanye-devsim, the simulators of the back-clip peripherals.
 *
 *   zhanye-devsim MODE --pty-link PATH --control 127.0.0.1:PORT [options]
 *
 * Each mode plays one device on a pseudo-terminal (posix_openpt; the slave's
 * name is symlinked at PATH, which the bridge opens as its serial port) and
 * is scripted by tests through a small HTTP API on 127.0.0.1:PORT:
 *   POST /script {..}  merges the members into the script (a null member
 *                      removes it); the mode reads what it needs, below
 *   POST /reset        empties the script
 *   GET  /state        {"commands":N, ...the mode's own state}
 * Members every mode honours: "stall": true (commands are read and never
 * answered), "corrupt": N (the next N frames sent have a wrong CRC).
 * The pads' modes (devsim_pin.c, devsim_sig.c, devsim_finger.c) speak the
 * framing of client/bridge/pad_frame.h. SIGTERM or SIGINT ends the process
 * (exit 0) and removes PATH. */
#ifndef ZHANYE_DEVSIM_H
#define ZHANYE_DEVSIM_H

#include "bridge/pad_frame.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct devsim;

/* Handles one well-formed command frame (on the main thread). */
typedef void (*devsim_handler)(struct devsim *d, const struct pad_frame *f);

/* One entry of the dispatch table of devsim_main.c. */
struct devsim_mode {
    const char *mode;
    int (*main_fn)(int argc, char **argv);
    const char *usage;
};

/* Parses the options (argv[0] is the mode; "--NAME VALUE" pairs), opens
 * the pty, starts the control API and serves frames with h until a signal.
 * The process's exit code. */
int devsim_pad_run(int argc, char **argv, devsim_handler h);

/* The value of option --name, or NULL. */
const char *devsim_opt(struct devsim *d, const char *name);

/* Sends one frame to the host (corrupted while the script's "corrupt"
 * count lasts). */
void devsim_send(struct devsim *d, uint8_t seq, uint8_t cmd, const uint8_t *data, size_t n);
/* Reply to f: status byte, then data. */
void devsim_reply(struct devsim *d, const struct pad_frame *f, uint8_t status, const uint8_t *data,
                  size_t n);

/* A copy of the script member key (caller decrefs), or NULL. */
json_t *devsim_script_get(struct devsim *d, const char *key);
/* Whether member key is true, removing it (one-shot actions like "cancel"). */
bool devsim_script_take(struct devsim *d, const char *key);
/* Waits up to ms for any of the members keys[] (NULL-terminated) to be
 * present; whether one is. */
bool devsim_wait_for(struct devsim *d, long ms, const char *const keys[]);
/* Sets member key of GET /state (takes the reference). */
void devsim_state_set(struct devsim *d, const char *key, json_t *v);

int devsim_pin_main(int argc, char **argv);
int devsim_sig_main(int argc, char **argv);
int devsim_finger_main(int argc, char **argv);
/* The ID-card reader (devsim_idcard.c): the SAM frames of
 * client/bridge/idcard_frame.h, its own control API (docs/peripherals.md). */
int devsim_idcard_main(int argc, char **argv);
/* The bank card on vpcd (devsim_card.c): a PBOC card over the vpicc protocol. */
int devsim_card_main(int argc, char **argv);

#endif
