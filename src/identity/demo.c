/* demo.c — seeds the demonstration organisation (see demo.h). */
#include "identity/demo.h"

#include "foundation/log.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <stddef.h>
#include <string.h>

#define ACTOR "system:demo"

struct demo_branch {
    const char *code, *name;
};

struct demo_bank {
    const char *code, *name;
    struct demo_branch branches[2];
    const char *admin, *admin_name;
    const char *officers[2], *officer_names[2]; /* one per branch */
    const char *manager, *manager_name;         /* branch manager of the first branch */
};

static const struct demo_bank banks[] = {
    {"B01",
     "青山农商银行",
     {{"01", "城关支行"}, {"02", "河东支行"}},
     "admin01",
     "青山管理员",
     {"demo01", "demo02"},
     {"张晓明", "李春燕"},
     "mgr01",
     "城关支行行长"},
    {"B02",
     "绿水农信社",
     {{"01", "南湖支行"}, {"02", "北岭支行"}},
     "admin02",
     "绿水管理员",
     {"demo03", "demo04"},
     {"王建国", "赵丽华"},
     "mgr02",
     "南湖支行行长"},
};

static int add_teller(struct store_conn *c, int64_t bank_id, int64_t branch_id, const char *code,
                      const char *name, int role, const char *password)
{
    struct teller_new t = {bank_id, branch_id, code, name, role, password};
    return teller_add(c, ACTOR, &t, NULL);
}

static int seed_bank(struct store_conn *c, const struct demo_bank *b, const char *password)
{
    int64_t bank_id = 0, branch_id = 0;
    int rc = org_add_bank(c, ACTOR, b->code, b->name, &bank_id);
    if (rc == ID_OK)
        rc = add_teller(c, bank_id, 0, b->admin, b->admin_name, ROLE_BANK_ADMIN, password);
    for (int i = 0; i < 2 && rc == ID_OK; i++) {
        rc =
            org_add_branch(c, ACTOR, bank_id, b->branches[i].code, b->branches[i].name, &branch_id);
        if (rc == ID_OK)
            rc = add_teller(c, bank_id, branch_id, b->officers[i], b->officer_names[i],
                            ROLE_CLIENT_MANAGER, password);
    }
    return rc;
}

/* The bank's branch manager, in its first branch. */
static int seed_manager(struct store_conn *c, const struct demo_bank *b, const char *password)
{
    struct bank bank;
    struct branch branch;
    int rc = org_find_bank(c, b->code, &bank);
    if (rc == ID_OK)
        rc = org_find_branch(c, bank.id, b->branches[0].code, &branch);
    if (rc == ID_OK)
        rc = add_teller(c, bank.id, branch.id, b->manager, b->manager_name, ROLE_BRANCH_MANAGER,
                        password);
    return rc;
}

/* The bank's remote video agent (ROLE_VIDEO_AGENT), bank-wide. */
static int seed_agent(struct store_conn *c, const struct demo_bank *b, size_t i,
                      const char *password)
{
    static const char *const CODES[] = {"agent01", "agent02"};
    static const char *const NAMES[] = {"青山远程坐席", "绿水远程坐席"};
    struct bank bank;
    int rc = org_find_bank(c, b->code, &bank);
    if (rc == ID_OK)
        rc = add_teller(c, bank.id, 0, CODES[i], NAMES[i], ROLE_VIDEO_AGENT, password);
    return rc;
}

/* The store_run callback: arg is the password. */
static int seed(struct store_conn *c, void *arg)
{
    const char *password = arg;
    int64_t province = 0;
    int rc = org_add_province(c, ACTOR, "P00", "省联社", &province);
    if (rc == ID_OK)
        rc = add_teller(c, province, 0, "prov01", "省联社管理员", ROLE_PROVINCE_ADMIN, password);
    for (size_t i = 0; i < sizeof banks / sizeof banks[0] && rc == ID_OK; i++)
        rc = seed_bank(c, &banks[i], password);
    /* The branch managers last, so that the other tellers keep the ids they
     * had before the demo had managers. */
    for (size_t i = 0; i < sizeof banks / sizeof banks[0] && rc == ID_OK; i++)
        rc = seed_manager(c, &banks[i], password);
    /* Then one remote video agent per bank (agent01 B01, agent02 B02). */
    for (size_t i = 0; i < sizeof banks / sizeof banks[0] && rc == ID_OK; i++)
        rc = seed_agent(c, &banks[i], i, password);
    return rc;
}

int demo_seed(struct store *st, const struct kek *k, const char *password)
{
    (void)k;
    struct store_conn *c = NULL;
    if (!st || !teller_password_ok(password))
        return ID_BAD_INPUT;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "demo.seed", seed, (void *)password);
    if (rc != ID_OK)
        log_error("demo.seed_failed", "%s: %s", id_rc_name(rc),
                  rc < 0 ? store_errmsg(c) : "see the status");
    store_release(c);
    return rc;
}
