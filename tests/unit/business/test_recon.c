/* The reconciliation module (business/recon.h) on hand-made inputs: the
 * journal file's parser (a good file; each kind of damage refused with its
 * reason), the expectations drawn from a business's step rows, and the
 * comparison with each kind of difference (core_only, local_only, status,
 * rc), matches, masking and the order of the lines. */
#include "business/recon.h"
#include "channel/sm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A journal file of day with the D lines body (each ending in LF), its
 * header count and trailer (count, SM3 of body) as given or right. */
static char *file_of(const char *day, const char *body, long hcount, long tcount, bool bad_sm3)
{
    long n = 0;
    for (const char *p = body; *p; p++)
        n += *p == '\n';
    uint8_t md[SM3_LEN];
    char hex[2 * SM3_LEN + 1];
    sm_part part = {.p = body, .n = strlen(body)};
    assert_int_equal(sm3_digest(&part, 1, md), SM_OK);
    for (int i = 0; i < SM3_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (bad_sm3)
        hex[0] = hex[0] == '0' ? '1' : '0';
    size_t cap = strlen(body) + 256;
    char *f = malloc(cap);
    snprintf(f, cap, "H|%s|%ld\n%sT|%ld|%s\n", day, hcount < 0 ? n : hcount, body,
             tcount < 0 ? n : tcount, hex);
    return f;
}

#define S_ACC "0000100000000704F000"
#define S_ACC_C "0000100000000704C000"
#define S_CARD "0000100000000705F000"
#define S_CARD_C "0000100000000705C000"
#define S_PIN "0000100000000706F000"
#define S_LOST "0000100000000804F000"

static const char BODY[] =
    "D|" S_ACC "|200101|101010|C000000000000101|6217000000000000101|0000|reversed\n"
    "D|" S_ACC_C "|200102|101011|" S_ACC "|6217000000000000101|0000|normal\n"
    "D|" S_CARD "|200203|101012|6217000000000000101|6228480000000000018|0000|normal\n"
    "D|" S_PIN "|200202|101013|||2003|normal\n";

static int parse_text(const char *text, struct recon_journal *j, char *err, size_t cap)
{
    return recon_parse((const uint8_t *)text, strlen(text), j, err, cap);
}

static void parses_a_good_file(void **state)
{
    (void)state;
    char *f = file_of("20261130", BODY, -1, -1, false), err[128];
    struct recon_journal j;
    assert_int_equal(parse_text(f, &j, err, sizeof err), RECON_OK);
    assert_string_equal(j.date, "20261130");
    assert_int_equal(j.n, 4);
    assert_string_equal(j.lines[0].serial, S_ACC_C); /* sorted by serial */
    assert_string_equal(j.lines[1].serial, S_ACC);
    assert_string_equal(j.lines[1].status, "reversed");
    assert_string_equal(j.lines[1].time, "101010");
    assert_string_equal(j.lines[3].rc, "2003");
    assert_string_equal(j.lines[3].key1, "");
    recon_journal_free(&j);
    free(f);
    f = file_of("20261130", "", -1, -1, false); /* an empty day */
    assert_int_equal(parse_text(f, &j, err, sizeof err), RECON_OK);
    assert_int_equal(j.n, 0);
    recon_journal_free(&j);
    free(f);
}

static void expect_bad(const char *text, const char *reason)
{
    struct recon_journal j;
    char err[128];
    assert_int_equal(parse_text(text, &j, err, sizeof err), RECON_BAD);
    if (!strstr(err, reason))
        fail_msg("want \"%s\", got \"%s\"", reason, err);
    assert_null(j.lines);
    assert_int_equal(j.n, 0);
}

static void refuses_damaged_files(void **state)
{
    (void)state;
    char *f = file_of("20261130", BODY, -1, -1, true);
    expect_bad(f, "SM3");
    free(f);
    f = file_of("20261130", BODY, 5, 5, false);
    expect_bad(f, "fewer lines");
    free(f);
    f = file_of("20261130", BODY, 3, 3, false);
    expect_bad(f, "more lines");
    free(f);
    f = file_of("20261130", BODY, -1, 3, false);
    expect_bad(f, "trailer's count");
    free(f);
    f = file_of("20261399", BODY, -1, -1, false);
    expect_bad(f, "header");
    free(f);
    /* a line altered after the trailer was computed */
    f = file_of("20261130", BODY, -1, -1, false);
    char *p = strstr(f, "reversed");
    memcpy(p, "normal|x", 8);
    expect_bad(f, "malformed line");
    p = strstr(f, "normal|x");
    memcpy(p, "reversed", 8);
    p = strstr(f, "|2003|");
    p[1] = '0';
    expect_bad(f, "SM3");
    free(f);
    /* data after the trailer; no final LF; a repeated serial; empty */
    f = file_of("20261130", BODY, -1, -1, false);
    size_t n = strlen(f);
    char *g = malloc(n + 8);
    snprintf(g, n + 8, "%sX\n", f);
    expect_bad(g, "after the trailer");
    f[n - 1] = '\0';
    expect_bad(f, "trailer");
    free(f);
    free(g);
    f = file_of("20261130", "D|A1|200101|000000|||0000|normal\nD|A1|200101|000000|||0000|normal\n",
                -1, -1, false);
    expect_bad(f, "twice");
    free(f);
    expect_bad("", "header");
    expect_bad("H|20261130|0\n", "trailer");
}

static void serial_parse(void **state)
{
    (void)state;
    int64_t bank = 0, id = 0;
    assert_true(recon_serial_parse(S_LOST, &bank, &id));
    assert_int_equal(bank, 1);
    assert_int_equal(id, 8);
    assert_false(recon_serial_parse("0000100000000804X000", &bank, &id));
    assert_false(recon_serial_parse("000010000000080F000", &bank, &id));
    assert_false(recon_serial_parse("SER-1", &bank, &id));
}

/* ---- expectations from a business's rows ---- */

static bool core_only_steps(const char *step, void *arg)
{
    (void)arg;
    return strcmp(step, "id_check") != 0 && strcmp(step, "face_compare") != 0;
}

static void expectations_of_a_business(void **state)
{
    (void)state;
    const struct wf_kind *k = wf_kind_find("debit_card");
    assert_non_null(k);
    struct wdb_biz b = {.id = 7};
    wf_biz_no(1, 7, b.biz_no);
    struct wdb_step st[WF_MAX_STEPS] = {0};
    for (int i = 0; i < 4; i++) {
        st[i].ran = true;
        snprintf(st[i].state, sizeof st[i].state, "done");
    }
    st[3].out = json_pack("{s:b}", "core_created", 0); /* core knew the customer */
    st[4] = (struct wdb_step){.ran = true, .state = "compensated", .attempt = 1};
    st[5] = (struct wdb_step){.ran = true, .state = "failed", .attempt = 2};
    struct recon_locals l = {0};
    assert_int_equal(recon_business(k, &b, st, core_only_steps, NULL, &l), RECON_OK);
    /* idcheck and face: not core's; customer: nothing created; account:
     * attempt 0 refused, attempt 1 compensated + its undo; card: 2 refused */
    assert_int_equal(l.n, 5);
    assert_string_equal(l.v[0].serial, "0000100000000704F000");
    assert_int_equal(l.v[0].expect, RECON_REFUSED);
    assert_string_equal(l.v[1].serial, "0000100000000704F001");
    assert_int_equal(l.v[1].expect, RECON_COMPENSATED);
    assert_string_equal(l.v[1].what, "debit_card/account");
    assert_string_equal(l.v[2].serial, "0000100000000704C001");
    assert_int_equal(l.v[2].expect, RECON_UNDO);
    assert_int_equal(l.v[3].expect, RECON_REFUSED);
    assert_string_equal(l.v[4].serial, "0000100000000705F001");
    json_decref(st[3].out);
    st[3].out = NULL; /* now created in core: expected */
    l.n = 0;
    assert_int_equal(recon_business(k, &b, st, core_only_steps, NULL, &l), RECON_OK);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.v[0].serial, "0000100000000703F000");
    assert_int_equal(l.v[0].expect, RECON_DONE);
    recon_locals_free(&l);
}

/* ---- the comparison ---- */

struct lines {
    char text[16][256];
    int n;
};

static void collect(const char *line, void *arg)
{
    struct lines *o = arg;
    assert_true(o->n < 16);
    snprintf(o->text[o->n++], sizeof o->text[0], "%s", line);
}

static struct recon_line L(const char *serial, const char *code, const char *rc, const char *status,
                           const char *key2) {
    struct recon_line l = {0};
    snprintf(l.serial, sizeof l.serial, "%s", serial);
    snprintf(l.tx_code, sizeof l.tx_code, "%s", code);
    snprintf(l.time, sizeof l.time, "101010");
    snprintf(l.rc, sizeof l.rc, "%s", rc);
    snprintf(l.status, sizeof l.status, "%s", status);
    snprintf(l.key1, sizeof l.key1, "C000000000000101");
    snprintf(l.key2, sizeof l.key2, "%s", key2);
    return l;
}

static struct recon_local
X(const char *serial, enum recon_expect e) {
    struct recon_local x = {.expect = e};
    snprintf(x.serial, sizeof x.serial, "%s", serial);
    snprintf(x.what, sizeof x.what, "debit_card/account");
    return x;
}

static void
every_kind_of_difference(void **state)
{
    (void)state;
    struct recon_line lines[] = {
        L("00001000000009"
          "04F000",
          "200101", "0000", "normal", "6217000000000000909"), /* core_only */
        L("00001000000001"
          "04F000",
          "200101", "0000", "normal", "6217000000000000101"), /* match */
        L("00001000000002"
          "04F000",
          "200101", "0000", "reversed", ""), /* status: done */
        L("00001000000003"
          "04F000",
          "200101", "0000", "normal", ""), /* status: compensated */
        L("00001000000004"
          "04F000",
          "200101", "2005", "normal", ""), /* rc: done */
        L("00001000000005"
          "04F000",
          "200101", "0000", "normal", ""), /* rc: refused */
        L("00001000000006"
          "04C000",
          "200102", "2008", "normal", ""), /* rc: undo */
        L("00001000000007"
          "04F000",
          "200101", "----", "reversed", ""), /* match: compensated */
        L("00001000000007"
          "04C000",
          "200102", "0000", "normal", ""), /* match: undo */
        L("00001000000008"
          "04F000",
          "200101", "2005", "normal", ""), /* match: refused */
    };
    struct recon_local locals[] = {
        X("00001000000001"
          "04F000",
          RECON_DONE),
        X("00001000000001"
          "04F000",
          RECON_DONE), /* repeated: once */
        X("00001000000002"
          "04F000",
          RECON_DONE),
        X("00001000000003"
          "04F000",
          RECON_COMPENSATED),
        X("00001000000004"
          "04F000",
          RECON_DONE),
        X("00001000000005"
          "04F000",
          RECON_REFUSED),
        X("00001000000006"
          "04C000",
          RECON_UNDO),
        X("00001000000007"
          "04F000",
          RECON_COMPENSATED),
        X("00001000000007"
          "04C000",
          RECON_UNDO),
        X("00001000000008"
          "04F000",
          RECON_REFUSED),
        X("00001000000010"
          "04F000",
          RECON_DONE), /* local_only */
        X("00001000000011"
          "04F000",
          RECON_REFUSED), /* absent refusal: nothing */
        X("00001000000012"
          "04C000",
          RECON_UNDO), /* local_only */
    };
    struct lines o = {0};
    struct recon_counts c;
    assert_int_equal(recon_compare(lines, sizeof lines / sizeof lines[0], locals,
                                   sizeof locals / sizeof locals[0], NULL, NULL, collect, &o, &c),
                     RECON_OK);
    static const char *const WANT[] = {
        "status 0000100000000204F000 local=done core=reversed",
        "status 0000100000000304F000 local=compensated core=normal",
        "rc 0000100000000404F000 local=done core=2005",
        "rc 0000100000000504F000 local=failed core=0000",
        "rc 0000100000000604C000 local=undo core=2008",
        "core_only 0000100000000904F000 200101 rc=0000 status=normal key1=C000000000000101 "
        "key2=6217***********0909",
        "local_only 0000100000001004F000 debit_card/account expect=done",
        "local_only 0000100000001204C000 debit_card/account expect=undo",
    };
    assert_int_equal(o.n, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(o.text[i], WANT[i]);
    assert_int_equal(c.differences, 8);
    assert_int_equal(c.matched, 4);
}

static bool only_bank_2(const struct recon_line *l, void *arg)
{
    (void)arg;
    int64_t b, id;
    return recon_serial_parse(l->serial, &b, &id) && b == 2;
}

static void kept_lines_only_and_empty_inputs(void **state)
{
    (void)state;
    struct recon_line lines[] = {
        L("00001000000001"
          "04F000",
          "200101", "0000", "normal", ""),
        L("00002000000001"
          "04F000",
          "200101", "0000", "normal", ""),
    };
    struct recon_local x = X("00002000000001"
                             "04F000",
                             RECON_DONE);
    struct lines o = {0};
    struct recon_counts c;
    assert_int_equal(recon_compare(lines, 2, &x, 1, only_bank_2, NULL, collect, &o, &c), RECON_OK);
    assert_int_equal(o.n, 0);
    assert_int_equal(c.matched, 1);
    assert_int_equal(c.differences, 0);
    assert_int_equal(recon_compare(NULL, 0, NULL, 0, NULL, NULL, collect, &o, &c), RECON_OK);
    assert_int_equal(c.matched + c.differences, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_good_file),
        cmocka_unit_test(refuses_damaged_files),
        cmocka_unit_test(serial_parse),
        cmocka_unit_test(expectations_of_a_business),
        cmocka_unit_test(every_kind_of_difference),
        cmocka_unit_test(kept_lines_only_and_empty_inputs),
    };
    return cmocka_run_group_tests_name("recon", tests, NULL, NULL);
}
