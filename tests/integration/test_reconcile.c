/* `zhanye reconcile` end to end (business/recon.h, cli/cmd_reconcile.c):
 * the core simulator as a process serving its daily journal files over FTP
 * (--ftp), the ID-check and face simulators, a real daemon, a tablet with
 * real ZY1 envelopes, the command run as a process on the daemon's data
 * directory, downloading the journal through the egress gateway
 * ([egress.core_files], route core_journal).
 *
 *  - a clean day: a debit card opened end to end -> every core call
 *    matched, 0 differences, exit 0, audited reconcile.run;
 *  - a debit card whose account reply is lost (the core opens the account,
 *    malformed "close") and not resumed -> core_only for that serial,
 *    exit 1; after the resume -> 0 differences again;
 *  - a business cancelled after its card: its account and card calls and
 *    their compensations matched (the forward rows reversed in core), 0
 *    differences;
 *  - a journal file with a bad trailer, or none for the date -> exit 2
 *    with the reason; bad arguments -> exit 2. */
#include "bizflow.h"
#include "data/store.h"
#include "simproc.h"
#include "simrig.h"
#include "tablet.h"
#include "testd.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ID_LS "440106197512254416" /* 赵六: created in core by the first business */

static struct testd D;
static struct tablet T1;
static struct store *DB;
enum { CORE, IDCHECK, FACE, NSIMS };
static struct simproc SIMS[NSIMS] = {
    {.mode = "core", .ftp = true}, {.mode = "idcheck"}, {.mode = "face"}};
static struct simrig RIG;
static char TODAY[11]; /* YYYY-MM-DD, China time */
static int CARD_SEQ;

struct biz {
    int64_t id;
    char no[16];
    char card[20];
};

static json_t *call(const char *tx, const char *data)
{
    return tablet_must(&T1, tx, data, NULL);
}

static void start(struct biz *b)
{
    json_t *a = call("BIZ_START", "{\"kind\":\"debit_card\"}");
    answer_expect(a, "OK");
    json_t *d = json_object_get(a, "data");
    b->id = json_integer_value(json_object_get(d, "biz_id"));
    snprintf(b->no, sizeof b->no, "%s", json_string_value(json_object_get(d, "biz_no")));
    json_decref(a);
    bizflow_new_card(++CARD_SEQ, b->card);
}

static json_t *step(const struct biz *b, const char *name)
{
    char *in = bizflow_input(name, ID_LS, "赵六", b->card);
    size_t n = strlen(in) + 128;
    char *data = malloc(n);
    snprintf(data, n, "{\"biz_id\":%lld,\"step\":\"%s\",\"input\":%s}", (long long)b->id, name, in);
    json_t *a = call("BIZ_STEP", data);
    free(data);
    free(in);
    return a;
}

static void steps_ok(const struct biz *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        json_t *a = step(b, BIZFLOW_STEPS[i]);
        answer_expect(a, "OK");
        json_decref(a);
    }
}

/* Runs zhanye reconcile for date; its exit status, stdout into *out. */
static int reconcile(const char *date, char **out, char **err)
{
    return run_zhanye(out, err, "reconcile", "--data", D.dir, "--date", date, NULL);
}

/* "N matched, M differences": N, and M into *diff. */
static long matched_of(const char *out, long *diff)
{
    const char *last = out, *p;
    while ((p = strstr(last, " matched, ")) && strstr(p + 1, " matched, "))
        last = p + 1;
    p = strstr(last, " matched, ");
    assert_non_null(p);
    const char *num = p;
    while (num > out && num[-1] >= '0' && num[-1] <= '9')
        num--;
    *diff = atol(p + strlen(" matched, "));
    return atol(num);
}

static int64_t audit_runs(void)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(
        store_prepare(c, "SELECT COUNT(*) FROM audit_log WHERE event = 'reconcile.run'", &s),
        STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

static void expect_clean(long *matched)
{
    char *out = NULL, *err = NULL;
    int rc = reconcile(TODAY, &out, &err);
    if (rc != 0)
        fail_msg("reconcile: exit %d\n%s%s", rc, out ? out : "", err ? err : "");
    long diff = -1;
    *matched = matched_of(out, &diff);
    assert_int_equal(diff, 0);
    free(out);
    free(err);
}

/* ---- tests ------------------------------------------------------------------------ */

/* A debit card opened end to end: its customer, account, card and PIN
 * calls all in the core's journal, all matched. */
static void clean_day(void **state)
{
    (void)state;
    long before = 0, after = 0;
    int64_t runs = audit_runs();
    struct biz b;
    start(&b);
    steps_ok(&b, 0, BIZFLOW_NSTEPS);
    expect_clean(&after);
    assert_true(after >= 4); /* customer (created in core), account, card, pin */
    assert_int_equal(audit_runs(), runs + 1);
    /* a second business (the customer now known to core: no create) adds 3 */
    expect_clean(&before);
    struct biz c;
    start(&c);
    steps_ok(&c, 0, BIZFLOW_NSTEPS);
    expect_clean(&after);
    assert_int_equal(after, before + 3);
}

/* The account opened in core, its reply lost, the step not resumed: core
 * did something we have no record of. Resumed: matched. */
static void lost_reply_is_core_only(void **state)
{
    (void)state;
    struct biz b;
    start(&b);
    steps_ok(&b, 0, 4);
    simproc_fault(&SIMS[CORE], "{\"malformed\":\"close\"}");
    json_t *a = step(&b, "account");
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    simproc_fault(&SIMS[CORE], "{}");

    char *out = NULL, *err = NULL, want[64];
    assert_int_equal(reconcile(TODAY, &out, &err), 1);
    snprintf(want, sizeof want, "core_only %s04F000 200101 rc=0000 status=normal", b.no);
    if (!strstr(out, want))
        fail_msg("no \"%s\" in:\n%s", want, out);
    long diff = 0;
    matched_of(out, &diff);
    assert_int_equal(diff, 1);
    free(out);
    free(err);

    steps_ok(&b, 4, BIZFLOW_NSTEPS); /* resumed with the same serial */
    long matched = 0;
    expect_clean(&matched);
}

/* Cancelled after its card: the account and card calls reversed in core,
 * their compensations done; all matched. */
static void cancelled_matches_reversed(void **state)
{
    (void)state;
    long before = 0, after = 0;
    expect_clean(&before);
    struct biz b;
    start(&b);
    steps_ok(&b, 0, 6);
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b.id);
    json_t *a = call("BIZ_CANCEL", data);
    answer_expect(a, "OK");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "data"), "status")),
                        "cancelled");
    json_decref(a);
    expect_clean(&after);
    /* account F (reversed) + C, card F (reversed) + C */
    assert_int_equal(after, before + 4);
}

/* A damaged journal file, or none: exit 2 and why. */
static void bad_journal_is_an_error(void **state)
{
    (void)state;
    char path[256], *out = NULL, *err = NULL;
    snprintf(path, sizeof path, "%s/core-files/journal-20010101.txt", SIMS[CORE].dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("H|20010101|1\n"
          "D|00001000000001"
          "04F000|200101|101010|C000000000000001|6217000000000000999|0000|normal\n"
          "T|1|0000000000000000000000000000000000000000000000000000000000000000\n",
          f);
    fclose(f);
    assert_int_equal(reconcile("2001-01-01", &out, &err), 2);
    if (!strstr(err, "SM3"))
        fail_msg("stderr: %s", err);
    assert_null(strstr(out ? out : "", "matched"));
    free(out);
    free(err);
    out = err = NULL;
    assert_int_equal(reconcile("2001-01-02", &out, &err), 2); /* no file for that day */
    if (!strstr(err, "unreachable"))
        fail_msg("stderr: %s", err);
    free(out);
    free(err);
    out = err = NULL;
    assert_int_equal(reconcile("2001-13-01", &out, &err), 2);
    free(out);
    free(err);
}

/* ---- setup -------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(TODAY, sizeof TODAY, "%Y-%m-%d", &tm);
    char conf[2048] = "[log]\nlevel = debug\n";
    if (simrig_start(&RIG, "recon", SIMS, NSIMS) != 0 ||
        simrig_egress(&RIG, 1500, conf, sizeof conf) != 0 || testd_init(&D, conf) != 0 ||
        simrig_daemon_files(&RIG, &D) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    store_close(DB);
    testd_cleanup(&D);
    return simrig_stop(&RIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_day),
        cmocka_unit_test(lost_reply_is_core_only),
        cmocka_unit_test(cancelled_matches_reversed),
        cmocka_unit_test(bad_journal_is_an_error),
    };
    return cmocka_run_group_tests_name("reconcile", tests, setup, teardown);
}
