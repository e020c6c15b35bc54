/* proc — test support: the child processes of the private servers that
 * tests start (support/mariadb.h, support/redis.h): spawning them, free
 * ports, their logs, and sweeping what killed test processes left behind.
 * Test code only; nothing here is thread-safe beyond what libc is. */
#ifndef ZHANYE_TEST_PROC_H
#define ZHANYE_TEST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in milliseconds. */
double proc_now_ms(void);
/* Sleeps ms milliseconds, through signals. */
void proc_sleep_ms(long ms);
/* A port on 127.0.0.1 that was free a moment ago (bound to port 0 and
 * released): callers retry when a server then finds it taken. -1 on failure. */
int proc_pick_port(void);
/* fork + exec of argv (argv[0] looked up in PATH), stdout and stderr
 * appended to log, stdin from /dev/null, no other descriptor inherited.
 * With die_with_parent the child gets SIGKILL when the calling thread ends.
 * The child's pid, or -1. */
pid_t proc_spawn(char *const argv[], const char *log, bool die_with_parent);
/* Size of path in bytes; 0 when it does not exist. */
long proc_file_size(const char *path);
/* The last bytes of path from byte from on, to stderr, each line of the
 * frame prefixed with tag. */
void proc_print_tail(const char *tag, const char *path, long from);
/* True if path holds needle after byte from. */
bool proc_log_has(const char *path, long from, const char *needle);
/* Waits up to 10 s for a line of log holding needle; copies it (with its
 * newline, cut to cap) to line. 0, or -1 after printing log's tail to
 * stderr prefixed with tag. */
int proc_wait_line(const char *tag, const char *log, const char *needle, char *line, size_t cap);
/* SIGTERM to pid and waits for it: 0 when it exited with status 0 (or pid
 * <= 0: nothing to stop), -1 otherwise. */
int proc_stop(pid_t pid);
/* rm -rf dir (no symlinks followed out of it). */
void proc_rm_rf(const char *dir);
/* Whether pid is a live process (a zombie is not). */
bool proc_alive(long pid);
/* Removes /tmp/PREFIXxxxxxx directories of this user whose pidfile names a
 * process that is gone. */
void proc_sweep_stale(const char *prefix, const char *pidfile);

#endif
