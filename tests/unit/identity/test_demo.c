/* Unit tests for identity/demo and identity/org: the demo organisation
 * as documented, seeded once, every teller able to log in. */
#include "identity/audit.h"

#include "idtest.h"

static void test_seed(void **state)
{
    struct fx *f = *state;
    struct bank p, b;
    struct teller t;
    assert_int_equal(demo_seed(f->st, &f->kek, "short"), ID_BAD_INPUT);
    assert_int_equal(demo_seed(f->st, &f->kek, PW), ID_OK);
    assert_int_equal(org_find_bank(f->c, "P00", &p), ID_OK);
    assert_int_equal(p.kind, ORG_PROVINCE);
    assert_string_equal(p.name, "省联社");
    assert_int_equal(org_find_bank(f->c, "B01", &b), ID_OK);
    assert_int_equal(b.kind, ORG_BANK);
    assert_int_equal(b.parent_id, p.id);
    assert_string_equal(b.name, "青山农商银行");
    assert_int_equal(org_find_bank(f->c, "B02", &b), ID_OK);
    assert_string_equal(b.name, "绿水农信社");
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM branches"), 4);

    static const struct {
        const char *code, *bank, *branch;
        int role;
    } want[] = {
        {"demo01", "B01", "01", ROLE_CLIENT_MANAGER}, {"demo02", "B01", "02", ROLE_CLIENT_MANAGER},
        {"demo03", "B02", "01", ROLE_CLIENT_MANAGER}, {"demo04", "B02", "02", ROLE_CLIENT_MANAGER},
        {"admin01", "B01", "", ROLE_BANK_ADMIN},      {"admin02", "B02", "", ROLE_BANK_ADMIN},
        {"prov01", "P00", "", ROLE_PROVINCE_ADMIN},   {"mgr01", "B01", "01", ROLE_BRANCH_MANAGER},
        {"mgr02", "B02", "01", ROLE_BRANCH_MANAGER},  {"agent01", "B01", "", ROLE_VIDEO_AGENT},
        {"agent02", "B02", "", ROLE_VIDEO_AGENT},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(teller_verify_password(f->c, want[i].code, PW, NULL, &t), ID_OK);
        assert_string_equal(t.bank_code, want[i].bank);
        assert_string_equal(t.branch_code, want[i].branch);
        assert_int_equal(t.role, want[i].role);
    }
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM tellers"), 11);
    /* the agents are stored as client managers with their video_agents row */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM video_agents"), 2);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM tellers WHERE role = 'client_manager'"), 6);

    /* Once only; a refused second seed leaves nothing behind. */
    int64_t records = q_int(f, "SELECT COUNT(*) FROM audit_log");
    assert_int_equal(demo_seed(f->st, &f->kek, PW), ID_EXISTS);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM banks"), 3);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log"), records);
    struct audit_report r;
    assert_int_equal(audit_verify(f->st, NULL, &r), ID_OK);
    assert_int_equal(r.records, records);
}

static int count_bank(const struct bank *b, void *arg)
{
    char *s = arg;
    strcat(s, b->code);
    strcat(s, ";");
    return 0;
}

static int count_branch(const struct branch *b, void *arg)
{
    (void)b;
    (*(int *)arg)++;
    return 0;
}

static void test_org(void **state)
{
    struct fx *f = *state;
    char seen[64] = "";
    int64_t id = 0;
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "B09", "无省联社", &id)), ID_NOT_FOUND);
    assert_int_equal(TX(f, org_add_province(f->c, ACTOR, "P99", "省", &id)), ID_OK);
    assert_int_equal(TX(f, org_add_province(f->c, ACTOR, "P98", "第二个", &id)), ID_EXISTS);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "B09", "九号", &id)), ID_OK);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "B09", "重复", &id)), ID_EXISTS);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "P99", "重复", &id)), ID_EXISTS);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "B 1", "坏", &id)), ID_BAD_INPUT);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "B08", "", &id)), ID_BAD_INPUT);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "B08", "\xc3\x28", &id)), ID_BAD_INPUT);
    assert_int_equal(TX(f, org_add_bank(f->c, ACTOR, "A01", "甲", &id)), ID_OK);
    assert_int_equal(org_list_banks(f->c, count_bank, seen), ID_OK);
    assert_string_equal(seen, "P99;A01;B09;"); /* the province first */

    int64_t b09 = bank_id(f, "B09"), p99 = bank_id(f, "P99");
    assert_int_equal(TX(f, org_add_branch(f->c, ACTOR, b09, "01", "一", &id)), ID_OK);
    assert_int_equal(TX(f, org_add_branch(f->c, ACTOR, b09, "01", "一", &id)), ID_EXISTS);
    assert_int_equal(TX(f, org_add_branch(f->c, ACTOR, bank_id(f, "A01"), "01", "一", &id)), ID_OK);
    assert_int_equal(TX(f, org_add_branch(f->c, ACTOR, p99, "01", "一", &id)), ID_CONFLICT);
    assert_int_equal(TX(f, org_add_branch(f->c, ACTOR, 999, "01", "一", &id)), ID_NOT_FOUND);
    int n = 0;
    assert_int_equal(org_list_branches(f->c, 0, count_branch, &n), ID_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(org_list_branches(f->c, b09, count_branch, &n), ID_OK);
    assert_int_equal(n, 1);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event LIKE 'org.%'"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_org, fx_setup_empty, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
