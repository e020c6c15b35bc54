/* The workflow engine's table checks and helpers (business/wf.h): every
 * declared kind is defined and passes wf_kind_check, and each rule of it
 * refuses a table that breaks it; Luhn; the business number and the
 * downstream serial's format. */
#include "business/wf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int apply_ok(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)w, (void)reply, (void)out, (void)keep;
    return WF_OK;
}

static int prepare_ok(struct wf_call *w, json_t **made)
{
    (void)w;
    *made = NULL;
    return WF_OK;
}

static int request_ok(struct wf_call *w, json_t *req)
{
    (void)w, (void)req;
    return WF_OK;
}

static void every_kind_declared_and_defined_ones_pass(void **state)
{
    (void)state;
    size_t n = 0;
    const struct wf_kind *const *all = wf_kinds(&n);
    static const char *const NAMES[] = {"debit_card",  "ebank",       "loan",
                                        "credit_card", "social_card", "agency"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_non_null(wf_kind_find(NAMES[i]));
    assert_null(wf_kind_find("mortgage"));
    char err[160];
    for (size_t i = 0; i < n; i++) { /* every kind is defined, and its table passes */
        assert_non_null(all[i]->steps);
        if (wf_kind_check(all[i], err, sizeof err) != 0)
            fail_msg("%s", err);
    }
    /* the shared steps lead every kind; the last is the voucher */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(wf_step_index(all[i], "idcard"), 0);
        assert_int_equal(wf_step_index(all[i], "idcheck"), 1);
        assert_int_equal(wf_step_index(all[i], "signature"), (int)all[i]->nsteps - 2);
        assert_int_equal(wf_step_index(all[i], "voucher"), (int)all[i]->nsteps - 1);
    }
    assert_int_equal(wf_step_index(&WF_LOAN, "prescreen"), 4);
    assert_int_equal(wf_step_index(&WF_SOCIAL_CARD, "activate"), 5);
    assert_non_null(WF_LOAN.amount);
    assert_null(WF_EBANK.amount);
    assert_int_equal(wf_step_index(&WF_DEBIT_CARD, "idcard"), 0);
    assert_int_equal(wf_step_index(&WF_DEBIT_CARD, "voucher"), (int)WF_DEBIT_CARD.nsteps - 1);
    assert_int_equal(wf_step_index(&WF_DEBIT_CARD, "nope"), -1);
}

/* One broken table per rule: each is refused with a reason. */
static void broken_tables_are_refused(void **state)
{
    (void)state;
    char err[160];
    const struct wf_step good[] = {
        {.name = "one", .egress = "x", .request = request_ok, .apply = apply_ok, .undo = "y"},
        {.name = "voucher", .prepare = prepare_ok, .apply = apply_ok},
    };
    struct wf_kind k = {.name = "test", .steps = good, .nsteps = 2};
    assert_int_equal(wf_kind_check(&k, err, sizeof err), 0);

    const struct wf_step dup[] = {{.name = "a", .apply = apply_ok},
                                  {.name = "a", .apply = apply_ok},
                                  {.name = "voucher", .apply = apply_ok}};
    const struct wf_step last[] = {{.name = "a", .apply = apply_ok}};
    const struct wf_step no_apply[] = {{.name = "a"}, {.name = "voucher", .apply = apply_ok}};
    const struct wf_step bad_name[] = {{.name = "Step1", .apply = apply_ok},
                                       {.name = "voucher", .apply = apply_ok}};
    const struct wf_step local_undo[] = {{.name = "a", .apply = apply_ok, .undo = "y"},
                                         {.name = "voucher", .apply = apply_ok}};
    const struct wf_step no_request[] = {{.name = "a", .egress = "x", .apply = apply_ok},
                                         {.name = "voucher", .apply = apply_ok}};
    /* the voucher's PDF is rendered before the transaction: a voucher step without a prepare,
     * or a prepare on an egress step, is refused */
    const struct wf_step unprepared_voucher[] = {{.name = "voucher", .apply = apply_ok}};
    const struct wf_step remote_prepare[] = {
        {.name = "a",
         .egress = "x",
         .request = request_ok,
         .prepare = prepare_ok,
         .apply = apply_ok},
        {.name = "voucher", .prepare = prepare_ok, .apply = apply_ok}};
    const struct wf_step remote_voucher[] = {
        {.name = "voucher", .egress = "x", .request = request_ok, .apply = apply_ok}};
    const struct {
        const struct wf_step *s;
        size_t n;
        const char *why;
    } bad[] = {
        {dup, 3, "twice"},
        {last, 1, "voucher"},
        {no_apply, 2, "apply"},
        {bad_name, 2, "name"},
        {local_undo, 2, "local step"},
        {no_request, 2, "request"},
        {remote_voucher, 1, "voucher"},
        {unprepared_voucher, 1, "with a prepare"},
        {remote_prepare, 2, "prepare on an egress step"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct wf_kind b = {.name = "test", .steps = bad[i].s, .nsteps = bad[i].n};
        err[0] = '\0';
        if (wf_kind_check(&b, err, sizeof err) != -1 || !strstr(err, bad[i].why))
            fail_msg("table %zu: want a refusal naming \"%s\", got \"%s\"", i, bad[i].why, err);
    }
    struct wf_kind none = {.name = "test"};
    assert_int_equal(wf_kind_check(&none, err, sizeof err), -1);
}

static void luhn(void **state)
{
    (void)state;
    assert_true(wf_luhn_ok("4111111111111111"));
    assert_true(wf_luhn_ok("6228480402564890018"));
    assert_false(wf_luhn_ok("4111111111111112"));
    assert_false(wf_luhn_ok("6228480402564890019"));
    assert_false(wf_luhn_ok("411111111111"));         /* 12 digits: too short */
    assert_false(wf_luhn_ok("41111111111111111111")); /* 20: too long */
    assert_false(wf_luhn_ok("4111 1111 1111 1111"));
    assert_false(wf_luhn_ok(""));
    assert_false(wf_luhn_ok(NULL));
}

static void numbers(void **state)
{
    (void)state;
    char no[WF_BIZ_NO_LEN + 1], serial[WF_SERIAL_LEN + 1];
    wf_biz_no(1, 42, no);
    assert_string_equal(no, "00001000000042");
    wf_serial(no, 4, 'F', 0, serial);
    assert_string_equal(serial, "0000100000004204F000");
    wf_serial(no, 5, 'C', 12, serial);
    assert_string_equal(serial, "0000100000004205C012");
    assert_true(wf_date_ok("20350101"));
    assert_false(wf_date_ok("20351301"));
    assert_false(wf_date_ok("2035011"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_declared_and_defined_ones_pass),
        cmocka_unit_test(broken_tables_are_refused),
        cmocka_unit_test(luhn),
        cmocka_unit_test(numbers),
    };
    return cmocka_run_group_tests_name("business_wf", tests, NULL, NULL);
}
