/* zhanye voucher list|export|verify --data DIR — electronic vouchers
 * (business/voucher.h) from the command line.
 *
 *   list --data DIR [--bank CODE]      one voucher a line, its id first:
 *                                      "<id> <bank> <kind> <serial> customer
 *                                      <n> <China time> <bytes> <sm3>", every
 *                                      bank (or one), newest first per bank;
 *   export --data DIR --id ID --out FILE   the voucher's PDF as issued
 *                                      (mode 0600: it shows a customer);
 *                                      audited "voucher.exported";
 *   verify --data DIR FILE             exit 0 when FILE is, byte for byte, a
 *                                      voucher issued here with a valid
 *                                      signature; else exit 1 and one line
 *                                      saying why. Audited "voucher.verified".
 *
 * Each bank's vouchers are read on the bank's shard (data/shard.h) in a
 * transaction that checks the shard's fence; a bank being moved is said so
 * (run again later). Exit codes as cli.h. */
#include "business/voucher.h"
#include "business/voucher_db.h"
#include "business/voucher_out.h"
#include "cli/cli_admin.h"
#include "data/tenant.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE                                                                                      \
    "usage: zhanye voucher list --data DIR [--bank CODE]\n"                                        \
    "       zhanye voucher export --data DIR --id ID --out FILE\n"                                 \
    "       zhanye voucher verify --data DIR FILE\n"

#define FILE_MAX (64 * 1024 * 1024)

enum op { OP_LIST, OP_EXPORT, OP_VERIFY };

struct job {
    enum op op;
    int64_t bank_id;
    const char *bank_code;
    const struct kek *kek;
    const sm2_key *key;
    const char *actor;
    /* export */
    int64_t id;
    uint8_t *pdf;
    size_t n;
    /* verify: the file */
    const uint8_t *file;
    size_t file_len;
    char id_text[VOUCHER_ID_MAX + 1];
    /* outcomes */
    int found;
    enum vch_verdict verdict;
    int moving;
    int lines;
    json_t *delivery; /* list: {"<voucher id>": "delivered R…" | "pending 2" | "failed 10"} */
};

/* vout_each: the delivery of one voucher, as list shows it. */
static int note_delivery(const struct vout_row *r, void *arg)
{
    struct job *j = arg;
    char key[24], text[VOUT_RECEIPT_MAX + 40];
    snprintf(key, sizeof key, "%" PRId64, r->voucher_id);
    if (strcmp(r->status, "delivered") == 0)
        snprintf(text, sizeof text, "delivered %s", r->receipt_no);
    else
        snprintf(text, sizeof text, "%s %d", r->status, r->attempts);
    return json_object_set_new(j->delivery, key, json_string(text)) == 0 ? 0 : STORE_NOMEM;
}

static int print_row(const struct vcdb_row *r, void *arg)
{
    struct job *j = arg;
    char id[VOUCHER_ID_MAX + 1], when[20];
    vcdb_id_format(j->bank_id, r->id, id, sizeof id);
    vpdf_china_time(r->issued_at, when);
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, r->id);
    const char *dl = json_string_value(json_object_get(j->delivery, key));
    printf("%s %s %s %s customer %" PRId64 " %s %" PRId64 " %s delivery %s\n", id, j->bank_code,
           r->kind, r->serial, r->customer_id, when, r->size, r->sm3, dl ? dl : "none");
    j->lines++;
    return 0;
}

/* store_run callback on the bank's shard. */
static int job_txn(struct store_conn *c, void *arg)
{
    struct job *j = arg;
    char target[16 + VOUCHER_ID_MAX];
    j->moving = 0;
    j->lines = 0;
    free(j->pdf);
    j->pdf = NULL;
    int rc = shard_fence(c, j->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE) {
        j->moving = 1;
        return STORE_ERR;
    }
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = {.bank_id = j->bank_id, .role = ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    if ((rc = tenant_open(c, &sc, &tc)) != STORE_OK)
        return rc;
    switch (j->op) {
    case OP_LIST:
        json_decref(j->delivery);
        j->delivery = json_object();
        rc = j->delivery ? vout_each(tc, note_delivery, j) : STORE_NOMEM;
        if (rc == VOUT_OK)
            rc = vcdb_list(tc, 0, 1000000, print_row, j);
        json_decref(j->delivery);
        j->delivery = NULL;
        break;
    case OP_EXPORT:
        rc = voucher_open(tc, j->kek, j->key, j->id, NULL, &j->pdf, &j->n, &j->verdict);
        j->found = rc == VCH_OK;
        if (rc == VCH_NONE)
            rc = VCH_OK;
        snprintf(target, sizeof target, "voucher:%s", j->id_text);
        if (rc == VCH_OK && j->found)
            rc = audit_tenantf(tc, j->actor, "voucher.exported", target, "{s:s}", "verdict",
                               voucher_verdict_name(j->verdict));
        break;
    case OP_VERIFY:
        rc = voucher_check_pdf(tc, j->key, j->file, j->file_len, &j->verdict, j->id_text);
        snprintf(target, sizeof target, "voucher:%s", j->id_text[0] ? j->id_text : "-");
        if (rc == VCH_OK)
            rc = audit_tenantf(tc, j->actor, "voucher.verified", target, "{s:s}", "verdict",
                               voucher_verdict_name(j->verdict));
        break;
    }
    tenant_close(tc);
    return rc;
}

/* Runs j on its bank's shard. EXIT_OK or EXIT_FAIL (said). */
static int run_job(struct cli_admin *d, struct job *j)
{
    struct store *st = shards_route(d->app.shards, j->bank_id, NULL);
    struct store_conn *c = st == d->app.store ? d->conn : NULL;
    int rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "cli.voucher", job_txn, j);
    if (rc != STORE_OK)
        fprintf(stderr, "zhanye voucher: bank %s: %s\n", j->bank_code,
                j->moving ? "the bank is being moved to another shard; run again later"
                          : store_errmsg(c));
    if (c && c != d->conn)
        store_release(c);
    return rc == STORE_OK ? EXIT_OK : EXIT_FAIL;
}

/* The code of bank id into out; 0, or -1 if there is no such bank. */
static int bank_code_of(struct cli_admin *d, int64_t id, char *out, size_t cap)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(d->conn, "SELECT code FROM banks WHERE id = ? AND kind = 'bank'", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        snprintf(out, cap, "%s", store_col_text(s, 0));
    store_finish(s);
    return rc == STORE_ROW ? 0 : -1;
}

static int list(struct cli_admin *d, struct job *base, const char *only)
{
    struct store_stmt *s = NULL;
    int64_t ids[4096];
    char codes[4096][17];
    size_t n = 0;
    int rc =
        store_prepare(d->conn, "SELECT id, code FROM banks WHERE kind = 'bank' ORDER BY id", &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        const char *code = store_col_text(s, 1);
        if (n < sizeof ids / sizeof ids[0] && (!only || strcmp(only, code) == 0)) {
            ids[n] = store_col_int64(s, 0);
            snprintf(codes[n], sizeof codes[n], "%s", code);
            n++;
        }
        rc = STORE_OK;
    }
    store_finish(s);
    if (rc != STORE_DONE) {
        fprintf(stderr, "zhanye voucher: reading the banks: %s\n", store_errmsg(d->conn));
        return EXIT_FAIL;
    }
    if (only && !n) {
        fprintf(stderr, "zhanye voucher: no bank %s\n", only);
        return EXIT_FAIL;
    }
    int ex = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        struct job j = *base;
        j.bank_id = ids[i];
        j.bank_code = codes[i];
        if (run_job(d, &j) != EXIT_OK)
            ex = EXIT_FAIL;
    }
    return ex;
}

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > FILE_MAX) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint8_t *p = malloc((size_t)sb.st_size + 1);
    size_t off = 0;
    while (p && off < (size_t)sb.st_size) {
        ssize_t r = read(fd, p + off, (size_t)sb.st_size - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    if (p && off != (size_t)sb.st_size) {
        free(p);
        return NULL;
    }
    *n = off;
    return p;
}

static const char *reason(enum vch_verdict v)
{
    switch (v) {
    case VCH_INTACT:
        return "intact: SM3 as issued, signature verified";
    case VCH_NOT_ISSUED:
        return "not a voucher issued here";
    case VCH_SM3_DIFFERS:
        return "SM3 differs from the issued voucher";
    case VCH_BAD_SIGNATURE:
        return "the issued voucher's signature does not verify";
    case VCH_UNREADABLE:
        return "the stored voucher does not open under the KEK";
    }
    return "unknown";
}

static int export(struct cli_admin *d, struct job *j, const char *id, const char *out)
{
    char code[17];
    snprintf(j->id_text, sizeof j->id_text, "%s", id);
    if (vcdb_id_parse(id, &j->bank_id, &j->id) != 0 ||
        bank_code_of(d, j->bank_id, code, sizeof code) != 0) {
        fprintf(stderr, "zhanye voucher: no voucher %s\n", id);
        return EXIT_FAIL;
    }
    j->bank_code = code;
    int ex = run_job(d, j);
    if (ex != EXIT_OK)
        return ex;
    if (!j->found) {
        fprintf(stderr, "zhanye voucher: no voucher %s\n", id);
        return EXIT_FAIL;
    }
    if (!j->pdf) {
        fprintf(stderr, "zhanye voucher: voucher %s: %s\n", id, reason(j->verdict));
        return EXIT_FAIL;
    }
    if (write_file(out, j->pdf, j->n) != 0) {
        fprintf(stderr, "zhanye voucher: %s: %s\n", out, strerror(errno));
        ex = EXIT_FAIL;
    } else if (j->verdict != VCH_INTACT) {
        fprintf(stderr, "zhanye voucher: voucher %s written to %s, but: %s\n", id, out,
                reason(j->verdict));
        ex = EXIT_FAIL;
    } else {
        printf("voucher %s: %zu bytes written to %s\n", id, j->n, out);
    }
    free(j->pdf);
    j->pdf = NULL;
    return ex;
}

static int verify(struct cli_admin *d, struct job *j, const char *file)
{
    char claimed[VOUCHER_ID_MAX + 1], code[17];
    size_t n = 0;
    uint8_t *p = read_file(file, &n);
    if (!p) {
        fprintf(stderr, "zhanye voucher: %s: cannot be read (a regular file up to 64 MiB)\n", file);
        return EXIT_FAIL;
    }
    int64_t id = 0;
    if (vsign_find_id(p, n, claimed) != VS_OK || vcdb_id_parse(claimed, &j->bank_id, &id) != 0 ||
        bank_code_of(d, j->bank_id, code, sizeof code) != 0) {
        free(p);
        fprintf(stderr, "zhanye voucher: %s: not a voucher issued here\n", file);
        return EXIT_FAIL;
    }
    j->bank_code = code;
    j->file = p;
    j->file_len = n;
    int ex = run_job(d, j);
    free(p);
    if (ex != EXIT_OK)
        return ex;
    const char *who = j->id_text[0] ? j->id_text : claimed;
    if (j->verdict == VCH_INTACT) {
        printf("voucher %s: %s\n", who, reason(j->verdict));
        return EXIT_OK;
    }
    if (j->verdict == VCH_NOT_ISSUED)
        fprintf(stderr, "zhanye voucher: %s: %s\n", file, reason(j->verdict));
    else
        fprintf(stderr, "zhanye voucher: voucher %s: %s\n", who, reason(j->verdict));
    return EXIT_FAIL;
}

int cmd_voucher(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"id", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"bank", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2)
        goto usage;
    const char *sub = argv[1], *data = NULL, *id = NULL, *out = NULL, *bank = NULL;
    enum op op;
    if (strcmp(sub, "list") == 0)
        op = OP_LIST;
    else if (strcmp(sub, "export") == 0)
        op = OP_EXPORT;
    else if (strcmp(sub, "verify") == 0)
        op = OP_VERIFY;
    else
        goto usage;
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'i':
            id = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!data || (op == OP_EXPORT && (!id || !out || optind != argc)) ||
        (op == OP_VERIFY && optind != argc - 1) || (op == OP_LIST && optind != argc) ||
        (bank && op != OP_LIST))
        goto usage;
    struct cli_admin d;
    int ex = cli_admin_open("voucher", data, op == OP_EXPORT, &d);
    sm2_key *key = NULL;
    char actor[AUDIT_ACTOR_MAX + 1];
    if (ex == EXIT_OK && op != OP_LIST &&
        vsign_key_load(d.app.cfg.channel.key_dir, &key) != VS_OK) {
        fprintf(stderr, "zhanye voucher: %s/%s: missing or unsafe voucher signing key\n",
                d.app.cfg.channel.key_dir, VOUCHER_KEY_FILE);
        ex = EXIT_FAIL;
    }
    if (ex == EXIT_OK) {
        struct job j = {.op = op,
                        .kek = d.have_kek ? &d.kek : NULL,
                        .key = key,
                        .actor = cli_admin_actor(actor, sizeof actor)};
        ex = op == OP_LIST     ? list(&d, &j, bank)
             : op == OP_EXPORT ? export(&d, &j, id, out)
                               : verify(&d, &j, argv[optind]);
    }
    sm2_key_free(key);
    cli_admin_close(&d);
    return ex;
usage:
    fputs(USAGE, stderr);
    return EXIT_USAGE;
}
