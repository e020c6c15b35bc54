/* The bank card reader (client/bridge/dev_card.h) against a virtual PBOC card:
 * a private pcscd (foreground, own socket via PCSCLITE_CSOCK_NAME, own
 * reader.conf.d naming Debian's vsmartcard vpcd driver on a private port)
 * and `zhanye-devsim card --vpcd 127.0.0.1:PORT` as the card. Starting the
 * emulator inserts the card, its exit removes it. */
#include "dev_card.h"
#include "pcscrig.h"
#include "proc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/zycardXXXXXX";
static char log_path[300];
static pid_t pcscd_pid = -1;
static const char *devsim;
static char vpcd_addr[64];
static pid_t card_pid = -1; /* the emulator of the current test, if any */

#define READER PCSCRIG_READER

static int setup_all(void **state)
{
    (void)state;
    devsim = getenv("ZHANYE_DEVSIM_BIN");
    if (!devsim || !mkdtemp(dir))
        return -1;
    return pcscrig_start(dir, &pcscd_pid, vpcd_addr, sizeof vpcd_addr, log_path, sizeof log_path);
}

static int teardown_all(void **state)
{
    (void)state;
    pcscrig_stop(pcscd_pid);
    if (!getenv("CARD_KEEP"))
        proc_rm_rf(dir);
    return 0;
}

/* Inserts a card: the emulator with extra arguments (NULL-terminated). */
static pid_t insert(const char *extra, ...)
{
    char *argv[16] = {(char *)devsim, "card", "--vpcd", vpcd_addr};
    int n = 4;
    va_list ap;
    va_start(ap, extra);
    for (const char *a = extra; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char lg[350];
    snprintf(lg, sizeof lg, "%s/devsim.log", dir);
    pid_t pid = proc_spawn(argv, lg, true);
    assert_true(pid > 0);
    card_pid = pid;
    return pid;
}

/* Removes the card and waits until the reader has seen it go. */
static void removal(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    card_pid = -1;
    enum card_presence st = CARD_STATE_UNKNOWN;
    assert_int_equal(card_wait(READER, 0, &st, NULL, 0), CARD_OK);
    if (st == CARD_STATE_PRESENT)
        assert_int_equal(card_wait(READER, 15000, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_EMPTY);
}

static void test_reads_debit_card(void **state)
{
    (void)state;
    pid_t pid = insert(NULL);
    struct card_info ci;
    char err[128];
    int rc = card_read(NULL, 15000, &ci, err, sizeof err);
    assert_int_equal(rc, CARD_OK);
    assert_string_equal(err, "");
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.expiry, "3112");
    assert_string_equal(ci.seq, "01");
    assert_string_equal(ci.aid, "A000000333010101");
    assert_string_equal(ci.name, "ZHANG/SAN");
    assert_string_equal(ci.label, "PBOC DEBIT");
    assert_int_equal(ci.source, CARD_SRC_IC);
    removal(pid);
}

static void test_credit_card_other_values(void **state)
{
    (void)state;
    /* The credit AID listed first by the card, but debit has priority 2:
     * the card's priority order (87) decides; here credit is priority 1. */
    pid_t pid = insert("--aids", "A000000333010102,A000000333010101", "--pan",
                       "6225880000000000002", "--expiry", "2807", "--seq", "02", NULL);
    struct card_info ci;
    assert_int_equal(card_read(READER, 15000, &ci, NULL, 0), CARD_OK);
    assert_string_equal(ci.pan, "6225880000000000002");
    assert_string_equal(ci.expiry, "2807");
    assert_string_equal(ci.seq, "02");
    assert_string_equal(ci.aid, "A000000333010102");
    removal(pid);
}

static void test_track2_only_card(void **state)
{
    (void)state;
    pid_t pid = insert("--fault", "no5a", NULL);
    struct card_info ci;
    assert_int_equal(card_read(NULL, 15000, &ci, NULL, 0), CARD_OK);
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.expiry, "3112");
    removal(pid);
}

static void test_chained_responses(void **state)
{
    (void)state;
    pid_t pid = insert("--fault", "chain", NULL);
    struct card_info ci;
    assert_int_equal(card_read(NULL, 15000, &ci, NULL, 0), CARD_OK);
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.seq, "01");
    removal(pid);
}

static void test_luhn_failure_is_bad_card(void **state)
{
    (void)state;
    pid_t pid = insert("--fault", "luhn", NULL);
    struct card_info ci;
    char err[128];
    int rc = card_read(NULL, 15000, &ci, err, sizeof err);
    assert_int_equal(rc, CARD_ERR_BAD_CARD);
    assert_string_equal(card_err_name(rc), "bad_card");
    assert_string_equal(err, card_err_message(CARD_ERR_BAD_CARD));
    assert_string_equal(ci.pan, "");
    removal(pid);
}

static void test_no_card(void **state)
{
    (void)state;
    struct card_info ci;
    char err[128];
    int rc = card_read(NULL, 1000, &ci, err, sizeof err);
    assert_int_equal(rc, CARD_ERR_NO_CARD);
    assert_string_equal(card_err_name(rc), "no_card");
    assert_string_equal(err, "未检测到银行卡，请插入银行卡");
}

static void test_removed_mid_read(void **state)
{
    (void)state;
    pid_t pid = insert("--fault", "remove", NULL);
    struct card_info ci;
    char err[128];
    int rc = card_read(NULL, 15000, &ci, err, sizeof err);
    assert_int_equal(rc, CARD_ERR_REMOVED);
    assert_string_equal(card_err_name(rc), "removed");
    assert_string_equal(ci.pan, "");
    waitpid(pid, NULL, 0);
    removal(pid);
}

static void test_unknown_reader_is_absent(void **state)
{
    (void)state;
    struct card_info ci;
    assert_int_equal(card_read("No Such Reader 00 00", 100, &ci, NULL, 0), CARD_ERR_ABSENT);
    enum card_presence st = CARD_STATE_UNKNOWN;
    assert_int_equal(card_wait("No Such Reader 00 00", 100, &st, NULL, 0), CARD_ERR_ABSENT);
}

static void test_wait_sees_insertion_and_removal(void **state)
{
    (void)state;
    enum card_presence st = CARD_STATE_UNKNOWN;
    assert_int_equal(card_wait(NULL, 0, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_EMPTY);
    /* Nothing happens: a timeout, the state kept. */
    assert_int_equal(card_wait(NULL, 300, &st, NULL, 0), CARD_ERR_TIMEOUT);
    assert_int_equal(st, CARD_STATE_EMPTY);
    /* The card goes in while card_wait blocks. */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        proc_sleep_ms(500);
        execl(devsim, devsim, "card", "--vpcd", vpcd_addr, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(card_wait(NULL, 15000, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_PRESENT);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    assert_int_equal(card_wait(NULL, 15000, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_EMPTY);
}

/* One command on the emulator's control port; its answer ("ok"/"error"). */
static void control(int fd, const char *cmd, const char *want)
{
    char line[64], ans[16] = "";
    snprintf(line, sizeof line, "%s\n", cmd);
    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    size_t n = 0;
    while (n < sizeof ans - 1 && read(fd, ans + n, 1) == 1 && ans[n] != '\n')
        n++;
    ans[n] = '\0';
    assert_string_equal(ans, want);
}

static void test_control_port_drives_the_card(void **state)
{
    (void)state;
    int cport = proc_pick_port();
    assert_true(cport > 0);
    char caddr[64];
    snprintf(caddr, sizeof caddr, "127.0.0.1:%d", cport);
    pid_t pid = insert("--control", caddr, NULL);
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cport)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            close(fd);
            fd = -1;
            proc_sleep_ms(100);
        }
    }
    assert_true(fd >= 0);
    /* Started with --control, the card is not in the reader yet. */
    enum card_presence st = CARD_STATE_UNKNOWN;
    assert_int_equal(card_wait(READER, 0, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_EMPTY);
    control(fd, "pan 6225880000000000002", "ok");
    control(fd, "insert", "ok");
    assert_int_equal(card_wait(READER, 15000, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_PRESENT);
    struct card_info ci;
    assert_int_equal(card_read(READER, 15000, &ci, NULL, 0), CARD_OK);
    assert_string_equal(ci.pan, "6225880000000000002");
    control(fd, "remove", "ok");
    assert_int_equal(card_wait(READER, 15000, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_EMPTY);
    /* A fault set between two insertions applies to the next one. */
    control(fd, "fault luhn", "ok");
    control(fd, "bogus", "error");
    control(fd, "insert", "ok");
    assert_int_equal(card_read(READER, 15000, &ci, NULL, 0), CARD_ERR_BAD_CARD);
    control(fd, "quit", "ok");
    close(fd);
    waitpid(pid, NULL, 0);
    card_pid = -1;
    st = CARD_STATE_PRESENT; /* quit pulls the card */
    assert_int_equal(card_wait(READER, 15000, &st, NULL, 0), CARD_OK);
    assert_int_equal(st, CARD_STATE_EMPTY);
}

static void test_script_drives_the_card(void **state)
{
    (void)state;
    char path[350];
    snprintf(path, sizeof path, "%s/card.script", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a track-2-only card, sequence 07\nfault no5a\nseq 07\ninsert\nsleep 60000\n"
          "remove\n",
          f);
    fclose(f);
    pid_t pid = insert("--script", path, NULL);
    struct card_info ci;
    assert_int_equal(card_read(READER, 15000, &ci, NULL, 0), CARD_OK);
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.seq, "07");
    removal(pid);
}

/* A failed test must not leave its card in the reader for the next one. */
static int pull_card(void **state)
{
    (void)state;
    if (card_pid > 0) {
        kill(card_pid, SIGTERM);
        waitpid(card_pid, NULL, 0);
        card_pid = -1;
        enum card_presence st = CARD_STATE_PRESENT;
        card_wait(READER, 15000, &st, NULL, 0);
    }
    return 0;
}

int main(void)
{
    char why[200];
    if (pcscrig_probe(why, sizeof why) != 0) {
        fprintf(stderr, "skipped: %s\n", why);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reads_debit_card, pull_card),
        cmocka_unit_test_teardown(test_credit_card_other_values, pull_card),
        cmocka_unit_test_teardown(test_track2_only_card, pull_card),
        cmocka_unit_test_teardown(test_chained_responses, pull_card),
        cmocka_unit_test_teardown(test_luhn_failure_is_bad_card, pull_card),
        cmocka_unit_test_teardown(test_no_card, pull_card),
        cmocka_unit_test_teardown(test_removed_mid_read, pull_card),
        cmocka_unit_test_teardown(test_unknown_reader_is_absent, pull_card),
        cmocka_unit_test_teardown(test_wait_sees_insertion_and_removal, pull_card),
        cmocka_unit_test_teardown(test_control_port_drives_the_card, pull_card),
        cmocka_unit_test_teardown(test_script_drives_the_card, pull_card),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
