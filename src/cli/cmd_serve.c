/* zhanye serve --data DIR [--listen HOST:PORT] [--web DIR] [--check-config]
 *
 * --web DIR (else [web] root; empty: none) serves the built web apps
 * (http/static.h): DIR missing or unreadable is exit 2, naming it, also with
 * --check-config.
 * Serves until SIGTERM or SIGINT, then refuses what waits in flow control's
 * queues, stops accepting, drains in-flight requests, flushes the log and
 * closes the database. SIGHUP reloads the flow-control rules from zhanye.conf
 * (a bad file keeps the old ones) and
 * the web apps' files (an unreadable root keeps the old ones). Signals are taken synchronously with
 * sigwait() in the main thread, so no handler runs on a request thread;
 * they are blocked from the start, so a SIGTERM during start-up is a clean
 * stop once the server is up, never a kill. */
#include "app/app.h"
#include "cli/cli.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "http/handlers.h"
#include "http/static.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int64_t log_drops_gauge(void)
{
    return (int64_t)log_drops();
}

/* SIGTERM, SIGINT and SIGHUP blocked in the main thread from the start,
 * before app_open starts a thread, and taken by sigwait() in serve(): one
 * that comes while the server is still starting waits for it, and the stop
 * is the usual drain. (Every thread is started with all signals blocked
 * besides, foundation/thread.h.) */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int serve(struct app *a, const char *listen, struct static_site *web,
                 const sigset_t *wait_for)
{
    sigset_t set = *wait_for;
    metrics_describe("zhanye_log_dropped_lines", "gauge", "log lines dropped on a full ring");
    metrics_gauge_fn("zhanye_log_dropped_lines", NULL, log_drops_gauge);

    char err[512];
    if (app_flow_open(a, http_server_flow_hooks(), err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye serve: %s\n", err);
        return EXIT_USAGE;
    }
    size_t nroutes;
    const struct http_route *routes = routes_table(&nroutes);
    /* The app store's packages, and the spool their uploads arrive in
     * (the same file system, so a finished upload is renamed into place). */
    char spool[PATH_MAX];
    if (snprintf(spool, sizeof spool, "%s/store", a->cfg.data_dir) >= (int)sizeof spool ||
        (mkdir(spool, 0700) != 0 && errno != EEXIST)) {
        fprintf(stderr, "zhanye serve: cannot create %s\n", spool);
        return EXIT_FAIL;
    }
    struct http_server_config hc = {
        .listen = listen ? listen : a->cfg.server.listen,
        .threads = a->cfg.server.threads,
        .workers = a->cfg.server.workers,
        .body_limit = a->cfg.server.body_limit,
        .admin_body_limit = a->cfg.server.admin_body_limit,
        .file_body_limit = a->cfg.appstore.max_package_bytes,
        .spool_dir = spool,
        .buffer_limit = a->cfg.server.buffer_limit,
        .request_timeout_s = a->cfg.server.request_timeout_s,
        .connection_limit = a->cfg.server.connection_limit,
        .flow = a->flow,
        .metrics_allow = a->cfg.server.metrics_allow,
        .trusted_proxies = a->cfg.server.trusted_proxies,
        .public_url = a->cfg.server.public_url,
        .web = web,
    };
    struct http_server *srv;
    if (http_server_start(&hc, routes, nroutes, a, &srv) != 0) {
        fprintf(stderr, "zhanye serve: cannot listen on %s\n", hc.listen);
        return EXIT_FAIL;
    }
    char host[64];
    snprintf(host, sizeof host, "%s", hc.listen);
    host[strcspn(host, ":")] = '\0';
    log_info("server.start", "listening on %s:%d", host, http_server_port(srv));
    printf("zhanye: listening on http://%s:%d\n", host, http_server_port(srv));
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            log_info("server.reload", "SIGHUP received: reloading flow-control rules");
            (void)app_flow_reload(a, err, sizeof err); /* logs the outcome */
            if (web && static_reload(web, err, sizeof err) == 0)
                log_info("web.reload", "%zu files of the web apps loaded", static_count(web));
            else if (web)
                log_warn("web.reload", "kept the old files: %s", err);
            continue;
        }
        log_info("server.stop", "signal %d: draining %lld in-flight requests", sig,
                 (long long)http_server_in_flight(srv));
        break;
    }
    http_server_stop(srv, a->cfg.server.drain_timeout_s);
    log_info("server.stop", "stopped");
    return EXIT_OK;
}

/* The web apps of --web DIR, else [web] root; none when both are empty.
 * Their manifests are signed with the server's first live key (the one
 * tablets pin), once the keys are loaded (not for --check-config).
 * 0, or -1 with err naming the root. */
static int open_web(const struct app *a, const char *root, struct static_site **out, char *err,
                    size_t errcap)
{
    *out = NULL;
    if (!root || !*root)
        root = a->cfg.web.root;
    if (!*root)
        return 0;
    const struct sm2_key *key = a->keys.n > 0 ? a->keys.keys[0].key : NULL;
    return static_open_signed(root, key, out, err, errcap);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"check-config", no_argument, NULL, 'c'},
        {"web", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *listen = NULL, *web_root = NULL;
    bool check = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'c':
            check = true;
            break;
        case 'w':
            web_root = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!data || optind != argc)
        goto usage;

    struct app a;
    char err[512];
    struct static_site *web = NULL;
    if (check) {
        int rc = app_load_config(&a, data, err, sizeof err);
        if (rc == APP_OK && open_web(&a, web_root, &web, err, sizeof err) != 0) {
            config_free(&a.cfg);
            rc = APP_ERR_CONFIG;
        }
        if (rc == APP_OK) {
            static_free(web);
            printf("zhanye serve: %s/zhanye.conf is valid\n", data);
            config_free(&a.cfg);
            return EXIT_OK;
        }
        fprintf(stderr, "zhanye serve: %s\n", err);
        return EXIT_USAGE;
    }
    sigset_t set;
    block_signals(&set);
    int rc = app_open(&a, data, err, sizeof err);
    if (rc == APP_OK && open_web(&a, web_root, &web, err, sizeof err) != 0) {
        app_close(&a);
        rc = APP_ERR_CONFIG;
    } else if (rc == APP_OK && (rc = app_deliver_start(&a, err, sizeof err)) != APP_OK) {
        app_close(&a);
    }
    if (rc != APP_OK) {
        static_free(web);
        fprintf(stderr, "zhanye serve: %s\n", err);
        return rc == APP_ERR_CONFIG ? EXIT_USAGE : EXIT_FAIL;
    }
    if (web)
        log_info("web.load", "%zu files of the web apps loaded", static_count(web));
    rc = serve(&a, listen, web, &set);
    app_close(&a);
    static_free(web);
    metrics_shutdown();
    return rc;
usage:
    fprintf(stderr,
            "usage: zhanye serve --data DIR [--listen HOST:PORT] [--web DIR] [--check-config]\n");
    return EXIT_USAGE;
}
