/* sim — shared parts of zhanye-sim, the simulators of the bank's other
 * systems (core banking over fixed-length TCP; ID check, face compare,
 * credit card, social-security card, loans, the grid platform and the
 * customer information system over HTTP/JSON; the paperless platform over
 * FTP).
 *
 * Each simulator runs as its own process with two ports: the service port
 * (what the platform's egress gateway calls) and an admin HTTP port for
 * fault injection and statistics:
 *   POST /admin/fault    {"latency_ms":N,"error_rate":0..1,"refuse":bool,
 *                         "stall":bool,"malformed":"KIND"} replaces the
 *                        whole fault state ({} clears every fault)
 *   GET  /admin/stats    connections now and peak, requests in flight now
 *                        and peak, requests, injected errors, restarts
 *   POST /admin/stats/reset   zeroes the counters (peaks restart from now)
 *   POST /admin/restart  {"down_ms":N}: the service port goes away (every
 *                        connection dropped, new ones refused) for N ms
 *                        (default 500), then comes back; state persists
 *
 * The core simulator with --ftp HOST:PORT also serves its daily journal
 * files (对账文件, journal-YYYYMMDD.txt, format in business/recon.h) over
 * FTP from DATA/core-files/, with the same login as the paperless platform
 * (sim_core.c).
 *
 * The paperless platform (无纸化平台, mode paperless, sim_ftp.c) is an FTP
 * server (passive mode, binary) on the service port serving the flat
 * directory DATA/paperless/inbox/; log in as user SIM_FTP_USER with
 * password SIM_FTP_PASS (fixed demo values: "zhanye" / "paperless-demo").
 * After each STOR of NAME it writes NAME.receipt ({"name","size","sm3",
 * "receipt_no","received_at"}) before answering 226; a NAME containing
 * BADRECEIPT gets a receipt whose sm3 is wrong, one containing NORECEIPT
 * none. Faults: stall and latency_ms hold every command after login,
 * error_rate answers transfer commands (STOR, RETR, LIST, NLST, DELE,
 * SIZE) 451, malformed "reply" answers PASV/EPSV without an address, malformed
 * "receipt" writes every receipt with a wrong sm3;
 * refuse and restart close the port and every connection. "requests"
 * counts commands after login.
 *
 * "connections" counts connections being served: from accept until the
 * reply is handed to the kernel (TCP), or from accept to close (HTTP,
 * where the platform keeps connections alive). Peaks are what tests
 * compare with the gateway's max_concurrent. */
#ifndef ZHANYE_SIM_H
#define ZHANYE_SIM_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct sim_fault {
    int latency_ms;
    double error_rate;
    bool refuse;
    bool stall;
    char malformed[16]; /* "" = none; kinds depend on the protocol */
};

struct sim_counter {
    _Atomic int64_t now, peak;
};

struct sim;

struct sim_service {
    int (*start)(struct sim *s); /* binds s->port (0 = pick one, then fixed) */
    void (*stop)(struct sim *s); /* drops every connection; returns when all are gone */
};

struct sim {
    const char *mode;
    char host[64];
    int port;
    char data_dir[PATH_MAX];
    char zpk_hex[33];    /* core: PIN-block key, SM4, hex */
    char ftp_listen[80]; /* core: --ftp HOST:PORT, the journal files' FTP server ("" = none) */
    int ftp_port;        /* core: its port once listening */
    const struct sim_service *svc;
    void *state; /* the service's own */
    bool running;

    pthread_mutex_t mu; /* fault */
    struct sim_fault fault;
    pthread_mutex_t ctl; /* start/stop/restart, serialised */

    struct sim_counter conns, in_flight;
    _Atomic int64_t requests, errors_injected, malformed_sent, stalls, restarts;
    _Atomic bool stopping; /* the service is stopping: stalls and sleeps end */
    _Atomic uint32_t rng;
};

void sim_fault_get(struct sim *s, struct sim_fault *out);
/* True when this request should fail (draws against error_rate). */
bool sim_draw_error(struct sim *s, const struct sim_fault *f);
void sim_count_up(struct sim_counter *c);
void sim_count_down(struct sim_counter *c);
/* Sleeps ms, waking early when the service stops. */
void sim_sleep_ms(struct sim *s, int ms);
/* True while the stall fault holds and the service runs. */
bool sim_stalled(struct sim *s);
/* A listening TCP socket on host:*port (port 0 picks one and writes it back). -1 on failure. */
int sim_listen(const char *host, int *port);

extern const struct sim_service SIM_CORE;
extern const struct sim_service SIM_HTTP;
extern const struct sim_service SIM_PAPERLESS;

/* The FTP server (sim_ftp.c), reusable by any simulator that serves files:
 * sim_ftp_start listens on s->host:s->port (port 0 picks one and writes it
 * back) and serves the existing directory root, writing delivery receipts
 * when receipts is true; *f is created on the first start (pass NULL) and
 * kept across restarts. sim_ftp_stop (with s->stopping set) drops every
 * connection and returns when all are gone. */
#define SIM_FTP_USER "zhanye"
#define SIM_FTP_PASS "paperless-demo"
struct sim_ftp;
int sim_ftp_start(struct sim *s, const char *root, bool receipts, struct sim_ftp **f);
void sim_ftp_stop(struct sim_ftp *f);

/* The grid platform (sim_grid.c): the reply to POST /grid/cells. */
struct json_t;
struct json_t *sim_grid_cells(struct json_t *in, unsigned *status);
/* The customer information system (sim_cis.c): the reply to POST /cis/person. */
struct json_t *sim_cis_person(struct json_t *in, unsigned *status);

#endif
