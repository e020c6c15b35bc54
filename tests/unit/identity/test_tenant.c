/* Unit tests for data/tenant: unscoped SQL is refused, and a bank-A scope
 * never reaches bank-B rows. */
#include "data/tenant.h"

#include "idtest.h"

#include <ctype.h>
#include <limits.h>
#include <sys/stat.h>

static void make_notes(struct fx *f)
{
    assert_int_equal(store_exec(f->c, "CREATE TABLE notes (id INTEGER PRIMARY KEY, "
                                      "bank_id BIGINT NOT NULL, body TEXT NOT NULL)"),
                     STORE_OK);
}

static struct tenant_conn *open_scope(struct fx *f, const char *bank, int role)
{
    struct tenant_conn *tc = NULL;
    struct scope sc = {bank_id(f, bank), 0, 1, role};
    assert_int_equal(tenant_open(f->c, &sc, &tc), STORE_OK);
    return tc;
}

static void test_roles(void **state)
{
    (void)state;
    assert_string_equal(role_name(ROLE_CLIENT_MANAGER), "client_manager");
    assert_string_equal(role_name(ROLE_PROVINCE_ADMIN), "province_admin");
    assert_null(role_name(ROLE_NONE));
    assert_null(role_name(99));
    assert_int_equal(role_parse("bank_admin"), ROLE_BANK_ADMIN);
    assert_int_equal(role_parse("branch_manager"), ROLE_BRANCH_MANAGER);
    assert_int_equal(role_parse("root"), ROLE_NONE);
    assert_int_equal(role_parse(NULL), ROLE_NONE);
}

static void test_refuses_unscoped(void **state)
{
    struct fx *f = *state;
    make_notes(f);
    static const char *const bad[] = {
        "SELECT * FROM tellers",
        "SELECT * FROM tellers WHERE code = ?",
        "SELECT * FROM tellers WHERE code = ? AND bank_id = ?",
        "SELECT * FROM tellers WHERE bank_id = ? OR 1 = 1",
        "SELECT * FROM tellers WHERE bank_id = ? AND code = 'x' OR 1 = 1",
        "SELECT code FROM tellers WHERE bank_id = ? UNION SELECT code FROM tellers",
        "SELECT * FROM tellers WHERE bank_id <= ?",
        "SELECT * FROM tellers WHERE bank_id == ?",
        "SELECT * FROM tellers WHERE xbank_id = ?",
        "SELECT * FROM tellers WHERE bank_id = 2",
        "SELECT * FROM tellers WHERE (bank_id = ?)",
        "SELECT (SELECT 1 FROM banks WHERE bank_id = ?) FROM tellers",
        "SELECT * FROM tellers WHERE bank_id = ?; DELETE FROM tellers",
        "SELECT * FROM tellers WHERE bank_id = ? -- trailing",
        "SELECT * FROM tellers WHERE bank_id = ? /* x */",
        "SELECT * FROM tellers WHERE bank_id = ?1",
        "SELECT * FROM tellers WHERE bank_id = :bank",
        "SELECT * FROM tellers WHERE \"bank_id\" = ?",
        "SELECT * FROM tellers WHERE bank_id = ? AND name = 'unterminated",
        "WITH x AS (SELECT 1) SELECT * FROM notes WHERE bank_id = ?",
        "DELETE FROM notes",
        "DELETE FROM notes WHERE id = ?",
        "UPDATE notes SET body = 'x'",
        "UPDATE notes SET bank_id = ? WHERE bank_id = ?",
        "UPDATE notes SET n.bank_id = 3 WHERE bank_id = ?",
        "INSERT INTO notes (body, bank_id) VALUES (?, ?)",
        "INSERT INTO notes (bank_id, body) VALUES (?, ?), (?, ?)",
        "INSERT INTO notes (bank_id, body) VALUES (3, ?)",
        "INSERT INTO notes (bank_id, body) SELECT bank_id, body FROM notes",
        "INSERT INTO notes VALUES (?, ?, ?)",
        "DROP TABLE notes",
        "PRAGMA foreign_keys = OFF",
        "",
    };
    struct tenant_conn *tc = open_scope(f, "B01", ROLE_BANK_ADMIN);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tenant_stmt *s = (struct tenant_stmt *)&s;
        if (tenant_prepare(tc, bad[i], &s) != STORE_ERR)
            fail_msg("accepted: %s", bad[i]);
        assert_null(s);
        assert_true(strlen(tenant_errmsg(tc)) > 10);
    }
    assert_int_equal(tenant_prepare(tc, NULL, NULL), STORE_ERR);
    tenant_close(tc);
}

static void test_accepts_scoped(void **state)
{
    struct fx *f = *state;
    make_notes(f);
    static const char *const good[] = {
        "select   code\n FROM tellers\tWHERE  bank_id=?  AND role = ? ORDER BY code",
        "SELECT t.code FROM tellers t WHERE t.bank_id = ? AND (t.role = ? OR t.role = ?)",
        "SELECT code FROM tellers WHERE bank_id = ? AND name <> 'a ? or b; -- '' c'",
        "SELECT COUNT(*) FROM notes WHERE bank_id = ? GROUP BY body LIMIT ?",
        "DELETE FROM notes WHERE bank_id = ? AND id = ?",
        "UPDATE notes SET body = ? WHERE bank_id = ? AND id = ?",
        "INSERT INTO notes (bank_id, body) VALUES (?, ?)",
        "INSERT INTO main.notes(bank_id,body)VALUES(?,upper(?))",
    };
    struct tenant_conn *tc = open_scope(f, "B01", ROLE_BANK_ADMIN);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct tenant_stmt *s = NULL;
        if (tenant_prepare(tc, good[i], &s) != STORE_OK)
            fail_msg("refused: %s: %s", good[i], tenant_errmsg(tc));
        tenant_finish(s);
    }
    tenant_close(tc);
}

/* Every table a statement names needs its own bank filter: a second table
 * sneaked in by a JOIN, a comma, a subquery or a derived table without one
 * is refused, as is a filter that does not bind it (under OR, BETWEEN,
 * NOT, an arithmetic tail, an equality with another column). */
static void test_refuses_unscoped_tables(void **state)
{
    struct fx *f = *state;
    make_notes(f);
    static const char *const bad[] = {
        "SELECT n.body FROM notes n JOIN tellers t ON t.id = n.id WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n LEFT JOIN tellers t ON t.id = n.id WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n JOIN tellers t ON t.bank_id = n.bank_id WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n, tellers t WHERE n.bank_id = ? AND t.id = n.id",
        "SELECT n.body FROM notes n JOIN tellers t ON t.id = n.id WHERE n.bank_id = ? AND "
        "bank_id = ?",
        "SELECT n.body FROM notes n JOIN tellers t ON t.id = n.id WHERE n.bank_id = ? AND "
        "(t.bank_id = ? OR 1 = 1)",
        "SELECT n.body FROM notes n JOIN tellers t ON t.bank_id = ? OR 1 = 1 WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n JOIN tellers t ON t.id BETWEEN 0 AND t.bank_id = ? "
        "WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n JOIN tellers t ON NOT t.bank_id = ? WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n JOIN tellers t ON t.bank_id = ? + 0 WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n JOIN tellers t ON n.bank_id = ? WHERE n.bank_id = ?",
        "SELECT body FROM notes WHERE bank_id = ? AND id IN (SELECT id FROM tellers)",
        "SELECT body FROM notes WHERE bank_id = ? AND id IN (SELECT id FROM tellers WHERE code = "
        "?)",
        "SELECT body FROM notes WHERE bank_id = ? AND EXISTS (SELECT 1 FROM tellers t WHERE "
        "t.id = notes.id AND notes.bank_id = ?)",
        "SELECT body FROM notes WHERE bank_id = ? AND id IN (SELECT t.id FROM tellers t "
        "JOIN banks b ON b.id = t.bank_id WHERE t.bank_id = ?)",
        "SELECT n.body, (SELECT COUNT(*) FROM tellers) FROM notes n WHERE n.bank_id = ?",
        "SELECT n.body, coalesce((SELECT MAX(id) FROM tellers), 0) FROM notes n "
        "WHERE n.bank_id = ?",
        "SELECT x.body FROM (SELECT body, bank_id FROM notes) x WHERE x.bank_id = ?",
        "SELECT n.body FROM notes n JOIN (tellers t JOIN banks b ON b.id = t.bank_id) "
        "ON t.id = n.id WHERE n.bank_id = ? AND t.bank_id = ? AND b.bank_id = ?",
        "SELECT body FROM notes, json_each(?) WHERE bank_id = ?",
        "UPDATE notes SET body = (SELECT name FROM tellers LIMIT 1) WHERE bank_id = ?",
        "UPDATE notes SET body = o.body FROM notes o WHERE notes.bank_id = ? AND o.id = 1",
        "DELETE FROM notes WHERE bank_id = ? AND id IN (SELECT n2.id FROM notes n2)",
        "INSERT INTO notes (bank_id, body) VALUES (?, (SELECT name FROM tellers LIMIT 1))",
    };
    struct tenant_conn *tc = open_scope(f, "B01", ROLE_BANK_ADMIN);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tenant_stmt *s = NULL;
        if (tenant_prepare(tc, bad[i], &s) != STORE_ERR)
            fail_msg("accepted: %s", bad[i]);
        assert_null(s);
    }
    static const char *const good[] = {
        "SELECT n.body, t.code FROM notes n JOIN tellers t ON t.bank_id = ? AND t.id = n.id "
        "WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n LEFT JOIN tellers t ON t.id = n.id AND t.bank_id = ? "
        "WHERE n.bank_id = ?",
        "SELECT n.body FROM notes n, tellers t WHERE n.bank_id = ? AND t.bank_id = ? AND "
        "t.id = n.id",
        "SELECT n.body FROM notes AS n INNER JOIN main.tellers AS t ON t.bank_id = ? "
        "WHERE n.bank_id = ? AND t.id BETWEEN 1 AND 9 AND (t.role = ? OR t.role = ?)",
        "SELECT body FROM notes WHERE bank_id = ? AND id IN (SELECT id FROM tellers WHERE "
        "bank_id = ? AND code = ?)",
        "SELECT n.body, (SELECT COUNT(*) FROM tellers t WHERE t.bank_id = ? AND t.id = n.id) "
        "FROM notes n WHERE n.bank_id = ?",
        "SELECT x.body FROM (SELECT body, bank_id FROM notes WHERE bank_id = ?) x "
        "WHERE x.bank_id = ?",
        "UPDATE notes SET body = (SELECT t.name FROM tellers t WHERE t.bank_id = ? LIMIT 1) "
        "WHERE bank_id = ? AND id = ?",
        "INSERT INTO notes (bank_id, body) VALUES (?, (SELECT name FROM tellers WHERE "
        "bank_id = ? LIMIT 1))",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct tenant_stmt *s = NULL;
        if (tenant_prepare(tc, good[i], &s) != STORE_OK)
            fail_msg("refused: %s: %s", good[i], tenant_errmsg(tc));
        tenant_finish(s);
    }
    tenant_close(tc);
}

/* Each table's placeholder is bound to the scope's bank by tenant_prepare
 * and cannot be rebound: a join cannot reach another bank's rows. */
static void test_join_isolation(void **state)
{
    struct fx *f = *state;
    struct tenant_conn *a = open_scope(f, "B01", ROLE_BANK_ADMIN);
    struct tenant_stmt *s = NULL;
    /* A second bank-scoped table beside tellers: one desk per teller. */
    assert_int_equal(store_exec(f->c, "CREATE TABLE desks (id INTEGER PRIMARY KEY, bank_id BIGINT "
                                      "NOT NULL, teller TEXT NOT NULL)"),
                     STORE_OK);
    assert_int_equal(store_exec(f->c, "INSERT INTO desks (bank_id, teller) SELECT bank_id, code "
                                      "FROM tellers"),
                     STORE_OK);
    const char *sql =
        "SELECT d.teller, t.code FROM desks d JOIN tellers t ON t.bank_id = ? AND t.code = ? "
        "WHERE d.bank_id = ? AND d.teller = t.code";
    assert_int_equal(tenant_prepare(a, sql, &s), STORE_OK);
    assert_int_equal(tenant_bind_int64(s, 1, bank_id(f, "B02")), STORE_ERR);
    assert_int_equal(tenant_bind_int64(s, 3, bank_id(f, "B02")), STORE_ERR);
    assert_int_equal(tenant_bind_text(s, 2, "demo01"), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_ROW);
    assert_string_equal(tenant_col_text(s, 1), "demo01");
    tenant_finish(s);
    /* A teller of B02 is not reachable through B01's scope. */
    assert_int_equal(tenant_prepare(a, sql, &s), STORE_OK);
    assert_int_equal(tenant_bind_text(s, 2, "demo03"), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_DONE);
    tenant_finish(s);
    tenant_close(a);
}

static int64_t insert_note(struct tenant_conn *tc, const char *body)
{
    struct tenant_stmt *s = NULL;
    assert_int_equal(tenant_prepare(tc, "INSERT INTO notes (bank_id, body) VALUES (?, ?)", &s),
                     STORE_OK);
    assert_int_equal(tenant_bind_text(s, 2, body), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_DONE);
    tenant_finish(s);
    return tenant_last_insert_id(tc);
}

/* Every note body the scope sees, concatenated in id order. */
static void scoped_bodies(struct tenant_conn *tc, char *out, size_t cap)
{
    struct tenant_stmt *s = NULL;
    out[0] = '\0';
    assert_int_equal(tenant_prepare(tc, "SELECT body FROM notes WHERE bank_id = ? ORDER BY id", &s),
                     STORE_OK);
    int rc;
    while ((rc = tenant_step(s)) == STORE_ROW) {
        strncat(out, tenant_col_text(s, 0), cap - strlen(out) - 1);
        strncat(out, ";", cap - strlen(out) - 1);
    }
    assert_int_equal(rc, STORE_DONE);
    tenant_finish(s);
}

static void test_isolation(void **state)
{
    struct fx *f = *state;
    char seen[256];
    make_notes(f);
    struct tenant_conn *a = open_scope(f, "B01", ROLE_CLIENT_MANAGER);
    struct tenant_conn *b = open_scope(f, "B02", ROLE_CLIENT_MANAGER);
    insert_note(a, "a1");
    int64_t b1 = insert_note(b, "b1");
    insert_note(a, "a2");

    scoped_bodies(a, seen, sizeof seen);
    assert_string_equal(seen, "a1;a2;");
    scoped_bodies(b, seen, sizeof seen);
    assert_string_equal(seen, "b1;");

    /* Bank A cannot touch B's row even by its id. */
    struct tenant_stmt *s = NULL;
    assert_int_equal(
        tenant_prepare(a, "UPDATE notes SET body = ? WHERE bank_id = ? AND id = ?", &s), STORE_OK);
    assert_int_equal(tenant_bind_text(s, 1, "hacked"), STORE_OK);
    assert_int_equal(tenant_bind_int64(s, 2, bank_id(f, "B02")), STORE_ERR); /* the scope's */
    assert_int_equal(tenant_bind_int64(s, 3, b1), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_DONE);
    assert_int_equal(tenant_changes(a), 0);
    tenant_finish(s);
    assert_int_equal(tenant_prepare(a, "DELETE FROM notes WHERE bank_id = ? AND id = ?", &s),
                     STORE_OK);
    assert_int_equal(tenant_bind_int64(s, 1, bank_id(f, "B02")), STORE_ERR); /* no rebinding */
    assert_int_equal(tenant_bind_int64(s, 2, b1), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_DONE);
    assert_int_equal(tenant_changes(a), 0);
    tenant_finish(s);
    scoped_bodies(b, seen, sizeof seen);
    assert_string_equal(seen, "b1;");

    /* Real tables: B01's scope lists only B01's tellers. */
    assert_int_equal(
        tenant_prepare(a, "SELECT code FROM tellers WHERE bank_id = ? ORDER BY code", &s),
        STORE_OK);
    seen[0] = '\0';
    while (tenant_step(s) == STORE_ROW) {
        strcat(seen, tenant_col_text(s, 0));
        strcat(seen, ";");
    }
    tenant_finish(s);
    assert_string_equal(seen, "admin01;agent01;demo01;demo02;mgr01;");
    tenant_close(a);
    tenant_close(b);
}

static void test_province(void **state)
{
    struct fx *f = *state;
    struct tenant_stmt *s = NULL;
    const char *all = "SELECT COUNT(*) FROM tellers";
    struct tenant_conn *cm = open_scope(f, "B01", ROLE_BANK_ADMIN);
    assert_int_equal(tenant_prepare_province(cm, all, &s), STORE_ERR);
    assert_non_null(strstr(tenant_errmsg(cm), "bank_admin"));
    tenant_close(cm);

    struct tenant_conn *p = open_scope(f, "P00", ROLE_PROVINCE_ADMIN);
    assert_int_equal(tenant_prepare_province(p, all, &s), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_ROW);
    assert_int_equal(tenant_col_int64(s, 0),
                     11); /* the demo: prov01, 2 admins, 2 managers, 4 officers, 2 agents */
    tenant_finish(s);
    assert_int_equal(tenant_prepare_province(p, "DELETE FROM tellers", &s), STORE_ERR);
    assert_int_equal(tenant_prepare_province(p, "SELECT 1; DELETE FROM tellers", &s), STORE_ERR);
    /* Its own scope is the province row: no bank's tellers but its own. */
    assert_int_equal(tenant_prepare(p, "SELECT COUNT(*) FROM tellers WHERE bank_id = ?", &s),
                     STORE_OK);
    assert_int_equal(tenant_step(s), STORE_ROW);
    assert_int_equal(tenant_col_int64(s, 0), 1);
    tenant_finish(s);
    tenant_close(p);
}

static void test_bad_scope(void **state)
{
    struct fx *f = *state;
    struct tenant_conn *tc = NULL;
    struct scope no_bank = {0, 0, 1, ROLE_CLIENT_MANAGER};
    struct scope no_role = {1, 0, 1, ROLE_NONE};
    assert_int_equal(tenant_open(f->c, &no_bank, &tc), STORE_ERR);
    assert_null(tc);
    assert_int_equal(tenant_open(f->c, &no_role, &tc), STORE_ERR);
    assert_int_equal(tenant_open(NULL, &no_bank, &tc), STORE_ERR);
    assert_null(tenant_scope(NULL));
}

/* ---- business code has no other door ------------------------------------------------- */

/* The first thing in text that reaches the database around the tenant
 * scope, or NULL: any store_* call or type, the tx_ctx's raw connection,
 * the store header, or a database library used directly. */
static const char *unscoped_use(const char *text)
{
    static const char *const words[] = {"store_", "sqlite3", "mysql_", "mariadb"};
    static const char *const literal[] = {"->conn", ".conn", "data/store.h"};
    for (size_t i = 0; i < sizeof literal / sizeof literal[0]; i++) {
        const char *p = strstr(text, literal[i]);
        size_t n = strlen(literal[i]);
        for (; p; p = strstr(p + 1, literal[i]))
            if (!(isalnum((unsigned char)p[n]) || p[n] == '_'))
                return literal[i];
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        for (const char *p = strstr(text, words[i]); p; p = strstr(p + 1, words[i]))
            if (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))
                return words[i];
    return NULL;
}

/* The prepare phase's scope: it reads, and refuses every write and every
 * audit record, before anything reaches the database. */
static void test_read_only(void **state)
{
    struct fx *f = *state;
    make_notes(f);
    struct tenant_conn *rw = open_scope(f, "B01", ROLE_CLIENT_MANAGER), *ro = NULL;
    struct scope sc = *tenant_scope(rw);
    assert_int_equal(tenant_open_readonly(f->c, &sc, &ro), STORE_OK);
    struct tenant_stmt *s = NULL;
    assert_int_equal(tenant_prepare(rw, "INSERT INTO notes (bank_id, body) VALUES (?, ?)", &s),
                     STORE_OK);
    assert_int_equal(tenant_bind_text(s, 2, "kept"), STORE_OK);
    assert_int_equal(tenant_step(s), STORE_DONE);
    tenant_finish(s);
    static const char *const writes[] = {
        "INSERT INTO notes (bank_id, body) VALUES (?, ?)",
        "UPDATE notes SET body = ? WHERE bank_id = ?",
        "DELETE FROM notes WHERE bank_id = ?",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        s = NULL;
        assert_int_equal(tenant_prepare(ro, writes[i], &s), STORE_ERR);
        assert_null(s);
        assert_non_null(strstr(tenant_errmsg(ro), "read-only"));
    }
    assert_int_equal(tenant_prepare(ro, "  select body FROM notes WHERE bank_id = ?", &s),
                     STORE_OK);
    assert_int_equal(tenant_step(s), STORE_ROW);
    assert_string_equal(tenant_col_text(s, 0), "kept");
    tenant_finish(s);
    assert_null(tenant_audit_conn(ro));
    assert_ptr_equal(tenant_audit_conn(rw), f->c);
    tenant_close(ro);
    tenant_close(rw);
}

static void test_scanner(void **state)
{
    (void)state;
    assert_non_null(unscoped_use("rc = store_prepare(c->conn, sql, &s);"));
    assert_non_null(unscoped_use("struct store_conn *c = ctx->conn;"));
    assert_non_null(unscoped_use("x = c.conn;"));
    assert_non_null(unscoped_use("#include \"data/store.h\""));
    assert_non_null(unscoped_use("sqlite3_exec(db, sql, 0, 0, 0);"));
    assert_null(
        unscoped_use("rc = tenant_prepare(c->tenant, sql, &s); restore_x(); c->connected;"));
    assert_null(unscoped_use("if (rc == STORE_ROW) tenant_step(s);"));
}

static char scan_hit[512];

static int scan_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    size_t n = strlen(path);
    if (flag != FTW_F || n < 3 || (strcmp(path + n - 2, ".c") && strcmp(path + n - 2, ".h")))
        return 0;
    FILE *fp = fopen(path, "r");
    char *text = calloc(1, (size_t)sb->st_size + 1);
    assert_non_null(fp);
    assert_non_null(text);
    size_t got = fread(text, 1, (size_t)sb->st_size, fp);
    fclose(fp);
    text[got] = '\0';
    const char *what = unscoped_use(text);
    if (what)
        snprintf(scan_hit, sizeof scan_hit, "%s uses %s", path, what);
    free(text);
    return what ? 1 : 0;
}

/* Business code (src/business/) reaches the database only through
 * tx_ctx.tenant: a scan of its sources, so a shortcut fails the build's
 * tests rather than waiting for review. */
static void test_business_sources_are_scoped(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    const char *root = getenv("ZHANYE_SRC");
    snprintf(dir, sizeof dir, "%s/src/business", root ? root : ".");
    assert_int_equal(access(dir, R_OK), 0);
    if (nftw(dir, scan_file, 8, FTW_PHYS) != 0)
        fail_msg("%s", scan_hit[0] ? scan_hit : "cannot read src/business");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup_teardown(test_refuses_unscoped, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_accepts_scoped, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_unscoped_tables, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_join_isolation, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_isolation, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_province, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_scope, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_only, fx_setup_demo, fx_teardown),
        cmocka_unit_test(test_scanner),
        cmocka_unit_test(test_business_sources_are_scoped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
