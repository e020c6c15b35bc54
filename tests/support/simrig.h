/* simrig — test support: the simulators a test needs (support/simproc.h),
 * started together under one temporary directory, and the daemon's
 * [egress.*] sections that point at them.
 *
 * Usage: set each simproc's .mode (and .ftp for a core that serves its
 * journal files), simrig_start, build the daemon's configuration with
 * simrig_egress, testd_init, simrig_daemon_files, testd_start; at the end
 * simrig_stop. */
#ifndef ZHANYE_TEST_SIMRIG_H
#define ZHANYE_TEST_SIMRIG_H

#include <stddef.h>

struct simproc;
struct testd;

struct simrig {
    struct simproc *sims;
    size_t n;
    char dir[64]; /* /tmp/zt_<tag>_<pid> */
};

/* Starts sims[0..n) under /tmp/zt_<tag>_<pid>. 0, or -1 (the simulator
 * that did not start is named on stderr). */
int simrig_start(struct simrig *r, const char *tag, struct simproc *sims, size_t n);

/* Appends to conf (a NUL-terminated string in a buffer of cap bytes) one
 * [egress.MODE] section per simulator: its address by protocol (core
 * tcp://, paperless ftp:// with its login, the others http://),
 * call_timeout_ms, no retries and a breaker that does not open within a
 * test; a core with .ftp also gets [egress.core_files]. 0, or -1 when conf
 * is too small. */
int simrig_egress(const struct simrig *r, int call_timeout_ms, char *conf, size_t cap);

/* What the daemon's data directory needs for those sections: the source
 * tree's conf/ (routes and mappings) linked in, and the FTP systems'
 * password files (0600). After testd_init, before testd_start. 0 or -1. */
int simrig_daemon_files(const struct simrig *r, const struct testd *d);

/* Stops every simulator and removes the directory; -1 if any of them did
 * not exit cleanly (its own ASan report fails the test). */
int simrig_stop(struct simrig *r);

#endif
