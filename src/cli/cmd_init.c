/* zhanye init --data DIR [--demo | --demo-org] [--demo-password P]
 *
 * Creates the data directory with a documented zhanye.conf, the database
 * (all migrations applied), the server keys, the KEK, the audit keys and
 * the (empty) audit checkpoint file and, with --demo, the demo organisation
 * (identity/demo.h), the demo banks' business data (app/demo_business.h:
 * customers, tags, visits, feedback) and a first audit checkpoint; with
 * --demo-org the organisation only (the test suite's and the benchmarks'
 * starting point). Key files that exist are kept. It never overwrites an
 * existing database: re-running init is refused. */
#include "app/app.h"
#include "app/demo_business.h"
#include "business/voucher_sign.h"
#include "channel/keyring.h"
#include "cli/cli.h"
#include "foundation/log.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"
#include "identity/demo.h"
#include "identity/kek.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* store_run callback: STORE_CONSTRAINT when the database holds banks already. */
static int check_empty(struct store_conn *c, void *arg)
{
    (void)arg;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT COUNT(*) FROM banks", &s);
    if (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW)
        rc = store_col_int64(s, 0) > 0 ? STORE_CONSTRAINT : STORE_OK;
    store_finish(s);
    return rc;
}

/* A new database (a server database must hold no banks yet). */
static int create_database(struct app *a)
{
    char err[PATH_MAX + 512], name[PATH_MAX + 80];
    if (app_store_open(a, 1, true, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye init: %s\n", err);
        return -1;
    }
    struct store_conn *c = NULL;
    int rc = store_acquire(a->store, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "init_check_empty", check_empty, NULL);
    store_release(c);
    if (rc == STORE_OK)
        return 0;
    fprintf(stderr, "zhanye init: %s: %s\n", app_store_name(&a->cfg, name, sizeof name),
            rc == STORE_CONSTRAINT
                ? "already initialised (it holds banks); refusing to overwrite it"
                : store_errmsg(NULL));
    return -1;
}

/* A first server key for every configured kid that has no key file yet. */
static int create_keys(struct app *a)
{
    char kids[sizeof a->cfg.channel.keys], err[512], path[PATH_MAX];
    snprintf(kids, sizeof kids, "%s", a->cfg.channel.keys);
    for (char *save = NULL, *kid = strtok_r(kids, ", ", &save); kid;
         kid = strtok_r(NULL, ", ", &save)) {
        if (keyring_path(a->cfg.channel.key_dir, kid, path, sizeof path) == 0 &&
            access(path, F_OK) == 0)
            continue;
        if (keyring_generate(a->cfg.channel.key_dir, kid, err, sizeof err) != 0) {
            fprintf(stderr, "zhanye init: %s\n", err);
            return -1;
        }
        printf("zhanye: created server key %s (%s)\n", kid, path);
    }
    return 0;
}

/* ---- identity (owned by the identity layer) ---------------------------- */

/* The audit keys (kept if they exist), the checkpoint file that marks the
 * data directory as keyed from the start, and the audit context for the
 * demo organisation's records (identity/audit.h). */
static int create_audit(struct app *a)
{
    char err[768], file[PATH_MAX];
    int rc = audit_keys_create(a->cfg.channel.key_dir, err, sizeof err);
    if (rc != ID_OK && rc != ID_EXISTS) {
        fprintf(stderr, "zhanye init: audit keys: %s\n", err);
        return -1;
    }
    if (rc == ID_OK)
        printf("zhanye: created audit keys in %s (%s, %s, %s)\n", a->cfg.channel.key_dir,
               AUDIT_KEY_FILE, AUDIT_SIGN_FILE, AUDIT_PUB_FILE);
    struct audit_options o;
    if (audit_checkpoint_path(a->cfg.data_dir, file, sizeof file) != 0 ||
        ((rc = audit_checkpoint_file_create(file)) != ID_OK && rc != ID_EXISTS)) {
        fprintf(stderr, "zhanye init: cannot create %s: %s\n", file, strerror(errno));
        return -1;
    }
    o = (struct audit_options){.key_dir = a->cfg.channel.key_dir,
                               .checkpoint_file = file,
                               .checkpoint_every = a->cfg.audit.checkpoint_every};
    if (audit_open(&o, err, sizeof err) != ID_OK) {
        fprintf(stderr, "zhanye init: audit key: %s\n", err);
        return -1;
    }
    return 0;
}

/* The KEK that seals device secrets and activation codes (kept if it
 * exists) and, with --demo, the demo organisation (identity/demo.h). */
/* What --demo and --demo-org ask for. */
enum { DEMO_NONE = 0, DEMO_ORG, DEMO_FULL };

static int create_identity(struct app *a, int demo, const char *demo_password)
{
    char path[PATH_MAX];
    struct kek k;
    if (create_audit(a) != 0)
        return -1;
    int rc = kek_create(a->cfg.channel.key_dir);
    if (rc != ID_OK && rc != ID_EXISTS) {
        fprintf(stderr, "zhanye init: cannot create the key-encryption key in %s: %s\n",
                a->cfg.channel.key_dir, strerror(errno));
        return -1;
    }
    if (kek_path(a->cfg.channel.key_dir, path, sizeof path) != 0 || kek_load(path, &k) != ID_OK) {
        fprintf(stderr, "zhanye init: cannot read the key-encryption key %s\n", path);
        return -1;
    }
    if (rc == ID_OK)
        printf("zhanye: created key-encryption key %s\n", path);
    int vrc = vsign_key_create(a->cfg.channel.key_dir);
    if (vrc == VS_ERR) {
        fprintf(stderr, "zhanye init: cannot create the voucher signing key in %s\n",
                a->cfg.channel.key_dir);
        kek_wipe(&k);
        return -1;
    }
    if (vrc == VS_OK)
        printf("zhanye: created voucher signing key %s/%s\n", a->cfg.channel.key_dir,
               VOUCHER_KEY_FILE);
    rc = demo ? demo_seed(a->store, &k, demo_password) : ID_OK;
    if (rc != ID_OK)
        fprintf(stderr, "zhanye init: demo organisation: %s\n", id_rc_name(rc));
    char why[256];
    if (rc == ID_OK && demo == DEMO_FULL && demo_business_seed(a, &k, why, sizeof why) != 0) {
        fprintf(stderr, "zhanye init: demo business data: %s\n", why);
        rc = ID_ERR;
    }
    kek_wipe(&k);
    if (rc == ID_OK && demo && (rc = audit_checkpoint(a->store, NULL)) != ID_OK)
        fprintf(stderr, "zhanye init: first audit checkpoint: %s\n", id_rc_name(rc));
    return rc == ID_OK ? 0 : -1;
}

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"demo", no_argument, NULL, 'D'},
        {"demo-org", no_argument, NULL, 'O'},
        {"demo-password", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *demo_password = "Zhanye@2026";
    int demo = DEMO_NONE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'D':
            demo = DEMO_FULL;
            break;
        case 'O':
            demo = DEMO_ORG;
            break;
        case 'p':
            demo_password = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!data || optind != argc)
        goto usage;

    char conf[PATH_MAX], err[512];
    if (mkdir_p(data) != 0 || app_config_path(data, conf, sizeof conf) != 0) {
        fprintf(stderr, "zhanye init: cannot create %s: %s\n", data, strerror(errno));
        return EXIT_FAIL;
    }
    if (access(conf, F_OK) != 0 && config_write_default(conf) != 0) {
        fprintf(stderr, "zhanye init: cannot write %s: %s\n", conf, strerror(errno));
        return EXIT_FAIL;
    }
    struct app a;
    if (app_load_config(&a, data, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye init: %s\n", err);
        return EXIT_USAGE;
    }
    int rc = EXIT_FAIL;
    bool mariadb = strcmp(a.cfg.store.backend, "mariadb") == 0;
    char name[PATH_MAX + 80];
    app_store_name(&a.cfg, name, sizeof name);
    if (!mariadb && access(a.cfg.store.path, F_OK) == 0) {
        fprintf(stderr, "zhanye init: %s already exists; refusing to overwrite it\n",
                a.cfg.store.path);
        goto out;
    }
    if (create_keys(&a) != 0 || create_database(&a) != 0 ||
        create_identity(&a, demo, demo_password) != 0)
        goto out;
    printf("zhanye: initialised %s (database %s)\n", data, name);
    if (demo)
        printf("zhanye: demo password %s\n", demo_password);
    rc = EXIT_OK;
out:
    audit_close();
    app_store_close(&a);
    config_free(&a.cfg);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye init --data DIR [--demo | --demo-org] [--demo-password P]\n");
    return EXIT_USAGE;
}
