/* simproc — test support: one zhanye-sim process (a simulator of one of the
 * bank's other systems, sims/sim.h) on free loopback ports, and its admin
 * API for faults and statistics. The binary is $ZHANYE_SIM_BIN; the process
 * watches the test's pid, so it goes when the test dies. */
#ifndef ZHANYE_TEST_SIMPROC_H
#define ZHANYE_TEST_SIMPROC_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct simproc {
    const char *mode; /* "core", "idcheck", ... "grid", "cis" */
    pid_t pid;
    int port;       /* the service port */
    char admin[64]; /* http://127.0.0.1:PORT */
    char dir[128];  /* its --data directory */
    bool ftp;       /* core: also serve the journal files over FTP (--ftp) */
    int ftp_port;   /* their port, once started */
};

/* Starts s->mode with data directory workdir/<mode>; waits until both ports
 * listen (20 s at most). 0, or -1. */
int simproc_start(struct simproc *s, const char *workdir);
/* SIGTERM and wait; -1 unless it exited 0 (so a simulator's own ASan report
 * fails the test). Not running: 0. */
int simproc_stop(struct simproc *s);
/* An admin request; the JSON answer (asserted: 200 and JSON). */
json_t *simproc_admin(struct simproc *s, const char *method, const char *path, const char *body);
/* POST /admin/fault with fault (a JSON object; "{}" clears every fault). */
void simproc_fault(struct simproc *s, const char *fault);
/* Clears the faults and zeroes the counters. */
void simproc_reset(struct simproc *s);
/* One member of GET /admin/stats ("requests", ...). */
long long simproc_stat(struct simproc *s, const char *key);

#endif
