/* visit_input and visit_grid's parser: every rule accepts what it should
 * and names the member it refuses. */
#include "business/visit_grid.h"
#include "business/visit_input.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define NOW 1780000000000LL

static void dates(void **state)
{
    (void)state;
    struct vi_error e = {0};
    int32_t d = 0;
    json_t *v = json_string("2028-02-29");
    assert_int_equal(vi_date(v, "date", &d, &e), VI_OK);
    assert_int_equal(d, 20280229);
    json_decref(v);
    char text[11];
    vi_day_text(20260105, text);
    assert_string_equal(text, "2026-01-05");
    static const char *const bad[] = {"2027-02-29", "2026-00-10", "2026-04-31", "1999-12-31",
                                      "2026-1-05",  "2026/01/05", "20260105",   "２０２６-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = json_string(bad[i]);
        assert_int_equal(vi_date(v, "date", &d, &e), VI_BAD);
        assert_string_equal(e.field, "date");
        json_decref(v);
    }
    v = json_integer(20260105);
    assert_int_equal(vi_date(v, "date", &d, &e), VI_BAD);
    json_decref(v);
}

/* vi_checkin on text: VI_OK, or the field it names in field. */
static int checkin(const char *text, char *field, struct vi_checkin *out)
{
    struct vi_error e = {0};
    json_t *in = json_loads(text, 0, NULL);
    assert_non_null(in);
    int rc = vi_checkin(in, NOW, out, &e);
    json_decref(in);
    snprintf(field, 64, "%s", e.field);
    return rc;
}

static void checkins(void **state)
{
    (void)state;
    struct vi_checkin c;
    char f[64];
    assert_int_equal(checkin("{\"task_id\":3,\"lat\":30.5,\"lon\":120.25,\"outcome\":\"done\","
                             "\"notes\":\"  办完  \",\"photos\":[\"a1\",\"sm3:ab-c.d_e\"],"
                             "\"open_lead\":{\"product\":\"agri_loan\"}}",
                             f, &c),
                     VI_OK);
    assert_int_equal(c.task_id, 3);
    assert_int_equal(c.at, NOW);
    assert_string_equal(c.outcome, "done");
    assert_string_equal(c.notes, "办完");
    assert_string_equal(c.next_step, "");
    assert_int_equal(json_array_size(c.photos), 2);
    assert_true(c.open_lead);
    assert_string_equal(c.product, "agri_loan");
    assert_string_equal(c.lead_note, "");
    vi_checkin_free(&c);
    /* Multi-line notes; at an hour ago; a customer only. */
    assert_int_equal(checkin("{\"customer_id\":9,\"lat\":-90,\"lon\":180,\"outcome\":\"met\","
                             "\"notes\":\"一\\n二\",\"at\":1779996400000}",
                             f, &c),
                     VI_OK);
    assert_int_equal(c.at, 1779996400000LL);
    assert_false(c.open_lead);
    vi_checkin_free(&c);
    static const struct {
        const char *text, *field;
    } bad[] = {
        {"{\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\"}", "task_id"},
        {"{\"task_id\":-2,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\"}", "task_id"},
        {"{\"customer_id\":0,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\"}",
         "customer_id"},
        {"{\"task_id\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\"}", "lat"},
        {"{\"task_id\":1,\"lat\":1,\"outcome\":\"met\",\"notes\":\"\"}", "lon"},
        {"{\"task_id\":1,\"lat\":90.5,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\"}", "lat"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":-180.1,\"outcome\":\"met\",\"notes\":\"\"}", "lon"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"at\":"
         "1780000300001}",
         "at"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"at\":"
         "1779395199999}",
         "at"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"MET\",\"notes\":\"\"}", "outcome"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\"}", "notes"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\\r\"}", "notes"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"photos\":[\"\"]}",
         "photos[0]"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"photos\":[\"a/"
         "b\"]}",
         "photos[0]"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"next_step\":"
         "\"a\\nb\"}",
         "next_step"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"open_lead\":{}}",
         "open_lead.product"},
        {"{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"\",\"open_lead\":"
         "{\"product\":\"abcdefghijklmnopqrstuvwxyz0123456\"}}",
         "open_lead.product"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (checkin(bad[i].text, f, &c) != VI_BAD || strcmp(f, bad[i].field) != 0)
            fail_msg("%s: want %s refused, got '%s'", bad[i].text, bad[i].field, f);
    }
    /* 2001 bytes of notes after trimming; 2000 is fine. */
    char big[2100];
    memset(big, 'x', sizeof big);
    snprintf(big, sizeof big,
             "{\"task_id\":1,\"lat\":1,\"lon\":1,\"outcome\":\"met\",\"notes\":\"");
    size_t n = strlen(big);
    memset(big + n, 'x', 2000);
    snprintf(big + n + 2000, sizeof big - n - 2000, "\"}");
    assert_int_equal(checkin(big, f, &c), VI_OK);
    vi_checkin_free(&c);
    memset(big + n, 'x', 2001);
    snprintf(big + n + 2001, sizeof big - n - 2001, "\"}");
    assert_int_equal(checkin(big, f, &c), VI_BAD);
    assert_string_equal(f, "notes");
}

#define GRID_OK                                                                                    \
    "{\"cells\":[{\"cellId\":\"B01-01-C1\",\"name\":\"河东网格1\",\"lat\":30.2,\"lon\":120.1," \
    "\"radiusM\":800,\"households\":[{\"householdId\":\"H0101\",\"name\":\"王建国\","           \
    "\"idMasked\":\"330102********1234\",\"address\":\"河东村1组2号\",\"lat\":30.201,"        \
    "\"lon\":120.101},{\"householdId\":\"H0102\",\"name\":\"李秀英\",\"lat\":30.2,"             \
    "\"lon\":120.1}],\"leads\":[{\"householdId\":\"H0101\",\"product\":\"deposit\","               \
    "\"score\":61.5},{\"householdId\":\"H0101\",\"product\":\"ebank\",\"score\":90}],"             \
    "\"extra\":true}]}"

static void grid(void **state)
{
    (void)state;
    struct vgrid *g = NULL;
    struct vi_error e = {0};
    assert_int_equal(vgrid_parse_text(GRID_OK, strlen(GRID_OK), &g, &e), VI_OK);
    assert_int_equal(g->ncells, 1);
    assert_string_equal(g->cells[0].ref, "B01-01-C1");
    assert_int_equal(g->cells[0].radius_m, 800);
    assert_int_equal(g->cells[0].nhouseholds, 2);
    assert_int_equal(g->cells[0].households[0].nleads, 2);
    assert_int_equal(g->cells[0].households[1].nleads, 0);
    assert_string_equal(g->cells[0].households[1].address, "");
    vgrid_free(g);
    static const struct {
        const char *from, *to, *field;
    } bad[] = {
        {"\"cellId\":\"B01-01-C1\"", "\"cellId\":\"B01 C1\"", "cells[0].cellId"},
        {"\"radiusM\":800", "\"radiusM\":0", "cells[0].radiusM"},
        {"\"radiusM\":800", "\"radiusM\":8.5", "cells[0].radiusM"},
        {"\"lat\":30.2,\"lon\":120.1,\"radiusM\"", "\"lat\":95,\"lon\":120.1,\"radiusM\"",
         "cells[0].lat"},
        {"\"name\":\"王建国\"", "\"name\":\"\"", "cells[0].households[0].name"},
        {"\"lon\":120.101}", "\"lon\":\"120\"}", "cells[0].households[0].lon"},
        {"\"householdId\":\"H0102\"", "\"householdId\":\"H0101\"",
         "cells[0].households[1].householdId"},
        {"\"idMasked\":\"330102********1234\"", "\"idMasked\":\"3301021234567890123456789\"",
         "cells[0].households[0].idMasked"},
        {"\"product\":\"deposit\"", "\"product\":\"Deposit\"", "cells[0].leads[0].product"},
        {"\"score\":90", "\"score\":101", "cells[0].leads[1].score"},
        {"{\"householdId\":\"H0101\",\"product\":\"ebank\"",
         "{\"householdId\":\"H9\",\"product\":\"ebank\"", "cells[0].leads[1].householdId"},
        {"\"leads\":[", "\"leads\":7,\"x\":[", "cells[0].leads"},
        {"{\"cells\":[", "{\"cells\":3,\"x\":[", "cells"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[2048];
        const char *at = strstr(GRID_OK, bad[i].from);
        assert_non_null(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - GRID_OK), GRID_OK, bad[i].to,
                 at + strlen(bad[i].from));
        g = NULL;
        int rc = vgrid_parse_text(text, strlen(text), &g, &e);
        if (rc != VI_BAD || strcmp(e.field, bad[i].field) != 0)
            fail_msg("%s: want %s refused, got %d '%s'", text, bad[i].field, rc,
                     rc == VI_BAD ? e.field : "");
        assert_null(g);
    }
    assert_int_equal(vgrid_parse_text("[]", 2, &g, &e), VI_BAD);
    assert_int_equal(vgrid_parse_text("{\"cells\":[]}", 12, &g, &e), VI_OK);
    assert_int_equal(g->ncells, 0);
    vgrid_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dates),
        cmocka_unit_test(checkins),
        cmocka_unit_test(grid),
    };
    return cmocka_run_group_tests_name("visit_input", tests, NULL, NULL);
}
