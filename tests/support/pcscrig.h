/* pcscrig — a private pcscd with Debian's vsmartcard vpcd driver for the
 * bank card tests (docs/peripherals.md "Test rig: pcscd + vpcd + emulator").
 *
 * pcscd runs in a mount namespace of its own (/run/pcscd bound to
 * DIR/run; `unshare --mount` as root, `--map-root-user` otherwise), with
 * DIR/reader.conf.d naming the vpcd driver on a free port; the process's
 * PCSCLITE_CSOCK_NAME is set to its socket (so this process and every child
 * it spawns talk to it). The reader is PCSCRIG_READER; a card is
 * `zhanye-devsim card --vpcd ADDR`. */
#ifndef ZHANYE_TEST_PCSCRIG_H
#define ZHANYE_TEST_PCSCRIG_H

#include <stddef.h>
#include <sys/types.h>

#define PCSCRIG_DRIVER "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
#define PCSCRIG_READER "Virtual PCD 00 00"

/* Whether this machine can run the rig: the vpcd driver, pcscd, and a
 * mount namespace (`unshare --mount`, which a container without
 * CAP_SYS_ADMIN refuses). 0, or -1 with the reason in why: the test then
 * exits 77 (meson's "skipped", shown as such), since nothing of ours is at
 * fault. */
int pcscrig_probe(char *why, size_t cap);

/* Starts pcscd under dir (an existing, empty directory; < 300 bytes) and
 * waits until its reader is there. On 0: *pid is pcscd's, vpcd_addr holds
 * "127.0.0.1:PORT" for the card emulator and log_path pcscd's log.
 * Returns 0, or -1 (no driver, pcscd would not start: tail printed). */
int pcscrig_start(const char *dir, pid_t *pid, char *vpcd_addr, size_t addr_cap, char *log_path,
                  size_t log_cap);

/* Stops pcscd (SIGTERM, waits). pid <= 0 is fine. */
void pcscrig_stop(pid_t pid);

#endif
