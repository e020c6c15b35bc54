/* pcscrig — see pcscrig.h. */
#include "pcscrig.h"

#include "dev_card.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int pcscrig_probe(char *why, size_t cap)
{
    const char *ns = geteuid() == 0 ? "unshare --mount --propagation private true"
                                    : "unshare --map-root-user --mount --propagation private true";
    char cmd[160];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1", ns);
    if (access(PCSCRIG_DRIVER, R_OK) != 0)
        snprintf(why, cap, "no vpcd driver %s (package vsmartcard-vpcd)", PCSCRIG_DRIVER);
    else if (system("command -v pcscd >/dev/null 2>&1") != 0)
        snprintf(why, cap, "no pcscd (package pcscd)");
    else if (system(cmd) != 0)
        snprintf(why, cap, "no mount namespace here (`%s` refused)", ns);
    else
        return 0;
    return -1;
}

int pcscrig_start(const char *dir, pid_t *pid, char *vpcd_addr, size_t addr_cap, char *log_path,
                  size_t log_cap)
{
    char conf[350], run[350], sock[400];
    *pid = -1;
    if (access(PCSCRIG_DRIVER, R_OK) != 0)
        return -1;
    snprintf(conf, sizeof conf, "%s/reader.conf.d", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    if (mkdir(conf, 0700) != 0 || mkdir(run, 0755) != 0)
        return -1;
    /* pcscd 1.9 always serves /run/pcscd/pcscd.comm (only the client reads
     * PCSCLITE_CSOCK_NAME): run it in a mount namespace of its own where
     * /run/pcscd is our directory, and point the client at the socket there. */
    snprintf(sock, sizeof sock, "%s/pcscd.comm", run);
    setenv("PCSCLITE_CSOCK_NAME", sock, 1);
    snprintf(log_path, log_cap, "%s/pcscd.log", dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        /* vpcd listens on PORT for slot 0 and PORT+1 for slot 1. */
        int p = proc_pick_port();
        if (p <= 0 || p > 65000)
            continue;
        char path[400];
        snprintf(path, sizeof path, "%s/vpcd", conf);
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        fprintf(f,
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:%d\nLIBPATH %s\n"
                "CHANNELID %d\n",
                p, PCSCRIG_DRIVER, p);
        fclose(f);
        char *argv[] = {"unshare",
                        geteuid() == 0 ? "--mount" : "--map-root-user",
                        "--mount",
                        "--propagation",
                        "private",
                        "sh",
                        "-c",
                        "mkdir -p /run/pcscd && mount --bind \"$0\" /run/pcscd && "
                        "exec pcscd --foreground --info --config \"$1\"",
                        run,
                        conf,
                        NULL};
        long from = proc_file_size(log_path);
        *pid = proc_spawn(argv, log_path, true);
        if (*pid < 0)
            return -1;
        for (int i = 0; i < 100; i++) {
            if (proc_log_has(log_path, from, "daemon ready")) {
                /* Slot 0 must be there (its port may have been taken). */
                enum card_presence st = CARD_STATE_UNKNOWN;
                if (card_wait(PCSCRIG_READER, 0, &st, NULL, 0) != CARD_OK)
                    break;
                snprintf(vpcd_addr, addr_cap, "127.0.0.1:%d", p);
                return 0;
            }
            if (!proc_alive(*pid))
                break;
            proc_sleep_ms(100);
        }
        proc_print_tail("pcscd", log_path, from);
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = -1;
    }
    return -1;
}

void pcscrig_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}
