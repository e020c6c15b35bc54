/* Unit tests for identity/ticket, device and binding: activation tickets
 * (format, F, expiry, lock after 5 failures, supersession), binding with the
 * DS sealed at rest, one device per teller, revoke/unbind/re-activation
 * ending sessions, and the one-way dependencies between these modules. */
#include "foundation/codec.h"
#include "foundation/secmem.h"

#include "idtest.h"

#include <sqlite3.h>

#define HOUR_MS (3600LL * 1000)

static void issue(struct fx *f, const char *tlr, char code[ACT_CODE_LEN + 1])
{
    int64_t exp = 0;
    int64_t before = clock_wall_ms();
    assert_int_equal(TX(f, activation_issue(f->c, &f->kek, ACTOR, tlr, code, &exp)), ID_OK);
    assert_true(exp >= before + ACT_TTL_MS && exp <= clock_wall_ms() + ACT_TTL_MS);
}

static void test_code_format(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1];
    for (int n = 0; n < 20; n++) {
        issue(f, "demo01", code);
        assert_int_equal(strlen(code), 9);
        assert_int_equal(code[4], '-');
        for (int i = 0; i < 9; i++)
            if (i != 4)
                assert_non_null(strchr("23456789ABCDEFGHJKMNPQRSTUVWXYZ", code[i]));
    }
    /* Sealed at rest: the code is nowhere in the table. */
    char sql[160];
    snprintf(
        sql, sizeof sql,
        "SELECT COUNT(*) FROM activation_tickets WHERE instr(code_enc, CAST('%s' AS BLOB)) > 0",
        code);
    assert_int_equal(q_int(f, sql), 0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM activation_tickets WHERE status = 'issued'"),
                     1);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM activation_tickets WHERE status = "
                              "'superseded'"),
                     19);
    char unused[ACT_CODE_LEN + 1];
    int64_t exp;
    assert_int_equal(TX(f, activation_issue(f->c, &f->kek, ACTOR, "nobody", unused, &exp)),
                     ID_NOT_FOUND);
}

static void test_lookup_and_f(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1], old[ACT_CODE_LEN + 1];
    struct ticket t;
    issue(f, "demo01", old);
    issue(f, "demo01", code);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo01", &t), ID_OK);
    assert_string_equal(t.code, code); /* the newest; the older one is superseded */
    assert_string_equal(t.teller_code, "demo01");
    assert_string_equal(t.bank_code, "B01");
    uint8_t want[SM3_LEN];
    sm_part parts[] = {{"ZY1 act", 7}, {"demo01", 6}, {"|", 1}, {code, 9}};
    assert_int_equal(sm3_digest(parts, 4, want), SM_OK);
    assert_memory_equal(t.f, want, SM3_LEN);

    /* The spec's vector: put its code into the ticket, sealed as the server seals. */
    uint8_t sealed[128], vec[SM3_LEN];
    size_t n = 0;
    char ctx[32];
    snprintf(ctx, sizeof ctx, "act|%lld", (long long)t.teller_id);
    assert_int_equal(
        kek_seal(&f->kek, ctx, (const uint8_t *)"K7QX-9PRM", 9, sealed, sizeof sealed, &n), ID_OK);
    struct store_stmt *s = NULL;
    assert_int_equal(
        store_prepare(f->c, "UPDATE activation_tickets SET code_enc = ? WHERE id = ?", &s),
        STORE_OK);
    store_bind_blob(s, 1, sealed, n);
    store_bind_int64(s, 2, t.id);
    assert_int_equal(store_step(s), STORE_DONE);
    store_finish(s);
    ticket_wipe(&t);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo01", &t), ID_OK);
    assert_int_equal(
        hex_decode("f923210eacf235ce2b76eb370831d0962e1d7e5320203d2e68016912c374e357", 64, vec, 32),
        32);
    assert_memory_equal(t.f, vec, SM3_LEN);

    assert_int_equal(activation_lookup(f->c, &f->kek, "demo02", &t), ID_NOT_FOUND);
    assert_int_equal(activation_lookup(f->c, &f->kek, "nobody", &t), ID_NOT_FOUND);
    /* A ticket sealed for another teller does not open here. */
    assert_int_equal(store_exec(f->c, "UPDATE activation_tickets SET teller_id = teller_id + 1 "
                                      "WHERE status = 'issued'"),
                     STORE_OK);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo02", &t), ID_CORRUPT);
}

static void test_expiry(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1];
    struct ticket t;
    issue(f, "demo03", code);
    clock_set_offset_ms(24 * HOUR_MS - 2000);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo03", &t), ID_OK);
    ticket_wipe(&t);
    clock_set_offset_ms(24 * HOUR_MS + 1000);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo03", &t), ID_EXPIRED);
    /* A new code works again. */
    issue(f, "demo03", code);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo03", &t), ID_OK);
    ticket_wipe(&t);
}

static void test_expired_ticket_cannot_activate(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1];
    struct ticket t;
    uint8_t ds[DS_LEN];
    issue(f, "demo03", code);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo03", &t), ID_OK);
    clock_set_offset_ms(25 * HOUR_MS);
    assert_int_equal(TX(f, binding_activate(f->c, &f->kek, &t, DEV_A, "m", "o", "a", "", 1, ds)),
                     ID_EXPIRED);
    ticket_wipe(&t);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM devices"), 0);
}

static void test_failures_lock(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1];
    struct ticket t;
    issue(f, "demo04", code);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo04", &t), ID_OK);
    int64_t id = t.id;
    ticket_wipe(&t);
    for (int i = 1; i < ACT_MAX_ATTEMPTS; i++) {
        assert_int_equal(activation_fail(f->c, id, DEV_A), ID_OK);
        assert_int_equal(activation_lookup(f->c, &f->kek, "demo04", &t), ID_OK);
        assert_int_equal(t.attempts, i);
        ticket_wipe(&t);
    }
    assert_int_equal(activation_fail(f->c, id, NULL), ID_LOCKED);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo04", &t), ID_LOCKED);
    assert_int_equal(activation_fail(f->c, id, DEV_A), ID_NOT_FOUND);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'activation.failed'"),
                     5);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'activation.locked'"),
                     1);
    /* A fresh code replaces the locked ticket. */
    issue(f, "demo04", code);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo04", &t), ID_OK);
    ticket_wipe(&t);
}

static void test_activate_and_ds_round_trip(void **state)
{
    struct fx *f = *state;
    uint8_t ds[DS_LEN], zero[DS_LEN] = {0};
    struct device d;
    assert_int_equal(activate(f, "demo01", DEV_A, 1, ds), ID_OK);
    assert_memory_not_equal(ds, zero, DS_LEN);
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_A, &d), ID_OK);
    assert_int_equal(d.status, DEVICE_ACTIVE);
    assert_true(d.has_ds);
    assert_memory_equal(d.ds, ds, DS_LEN);
    assert_string_equal(d.teller_code, "demo01");
    assert_string_equal(d.bank_code, "B01");
    assert_string_equal(d.model, "Pad");
    assert_string_equal(d.last_addr, "10.0.0.1");
    device_wipe(&d);

    /* At rest the DS is sealed: not the plaintext, and 1+16+48+32 bytes. */
    struct store_stmt *s = NULL;
    size_t n = 0;
    assert_int_equal(store_prepare(f->c, "SELECT ds_enc FROM devices WHERE dev = ?", &s), STORE_OK);
    store_bind_text(s, 1, DEV_A);
    assert_int_equal(store_step(s), STORE_ROW);
    const uint8_t *blob = store_col_blob(s, 0, &n);
    assert_int_equal(n, kek_sealed_len(DS_LEN));
    assert_null(memmem(blob, n, ds, DS_LEN));
    assert_null(memmem(blob, n, ds, 8));
    store_finish(s);

    /* The ticket is used: neither looked up nor usable again. */
    struct ticket t;
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo01", &t), ID_NOT_FOUND);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM activation_tickets WHERE status = 'used' "
                              "AND dev = '" DEV_A "'"),
                     1);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event IN "
                              "('activation.used', 'device.activated')"),
                     2);

    /* Another KEK cannot open it. */
    struct kek other;
    char path[160];
    snprintf(path, sizeof path, "%s/other", f->dir);
    assert_int_equal(kek_create(path), ID_OK);
    snprintf(path, sizeof path, "%s/other/kek", f->dir);
    assert_int_equal(kek_load(path, &other), ID_OK);
    assert_int_equal(device_lookup(f->c, &other, DEV_A, &d), ID_CORRUPT);
    kek_wipe(&other);
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_B, &d), ID_NOT_FOUND);
    assert_int_equal(device_lookup(f->c, &f->kek, "ABC", &d), ID_BAD_INPUT);
}

static void test_ticket_used_once(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1];
    struct ticket t;
    uint8_t ds[DS_LEN];
    issue(f, "demo02", code);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo02", &t), ID_OK);
    assert_int_equal(TX(f, binding_activate(f->c, &f->kek, &t, DEV_A, "m", "o", "a", "", 1, ds)),
                     ID_OK);
    assert_int_equal(TX(f, binding_activate(f->c, &f->kek, &t, DEV_B, "m", "o", "a", "", 1, ds)),
                     ID_NOT_FOUND);
    assert_int_equal(TX(f, binding_activate(f->c, &f->kek, &t, "XYZ", "m", "o", "a", "", 1, ds)),
                     ID_BAD_INPUT);
    ticket_wipe(&t);
}

static void test_one_device_per_teller(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct device d;
    struct session s;
    assert_int_equal(activate(f, "demo01", DEV_A, 1, NULL), ID_OK);
    assert_int_equal(login(f, "demo01", DEV_A, 600, 3600, sid), ID_OK);
    clock_set_offset_ms(1000); /* B is the newer */
    assert_int_equal(activate(f, "demo01", DEV_B, 0, NULL), ID_OK);
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_A, &d), ID_DISABLED);
    assert_int_equal(d.status, DEVICE_REVOKED);
    assert_false(d.has_ds);
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_B, &d), ID_OK);
    device_wipe(&d);
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "device_revoked");
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM devices WHERE ds_enc IS NULL"), 1);

    /* With max_devices 2, a third keeps the newest two. */
    clock_set_offset_ms(2000);
    assert_int_equal(activate(f, "demo01", DEV_A, 2, NULL), ID_OK);
    clock_set_offset_ms(3000);
    assert_int_equal(activate(f, "demo01", DEV_C, 2, NULL), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM devices WHERE status = 'active'"), 2);
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_B, &d), ID_DISABLED);
}

static void test_dev_of_another_teller(void **state)
{
    struct fx *f = *state;
    assert_int_equal(activate(f, "demo01", DEV_A, 1, NULL), ID_OK);
    assert_int_equal(activate(f, "demo02", DEV_A, 1, NULL), ID_CONFLICT);
    /* The refusal rolled back: demo02's ticket is still live. */
    struct ticket t;
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo02", &t), ID_OK);
    ticket_wipe(&t);
    assert_int_equal(TX(f, binding_unbind(f->c, ACTOR, DEV_A)), ID_OK);
    assert_int_equal(activate(f, "demo02", DEV_A, 1, NULL), ID_OK);
    struct device d;
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_A, &d), ID_OK);
    assert_string_equal(d.teller_code, "demo02");
    device_wipe(&d);
}

/* Tenant isolation: a device row of another bank is never taken over, in
 * any status, and the refusal writes nothing (the ticket stays live even
 * when the caller commits, as the DEVICE_ACTIVATE handler does). */
static void test_dev_of_another_bank(void **state)
{
    struct fx *f = *state;
    char code[ACT_CODE_LEN + 1];
    int64_t exp = 0;
    struct ticket t;
    uint8_t ds[DS_LEN];
    assert_int_equal(activate(f, "demo01", DEV_A, 1, NULL), ID_OK);
    assert_int_equal(TX(f, binding_unbind(f->c, ACTOR, DEV_A)), ID_OK);
    assert_int_equal(TX(f, activation_issue(f->c, &f->kek, ACTOR, "demo03", code, &exp)), ID_OK);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo03", &t), ID_OK);
    assert_int_equal(store_begin(f->c), STORE_OK);
    assert_int_equal(
        binding_activate(f->c, &f->kek, &t, DEV_A, "Pad", "Android", "1", "10.0.0.1", 1, ds),
        ID_CONFLICT);
    assert_int_equal(store_commit(f->c), STORE_OK);
    ticket_wipe(&t);
    assert_int_equal(activation_lookup(f->c, &f->kek, "demo03", &t), ID_OK);
    ticket_wipe(&t);
    struct device d;
    assert_int_equal(device_get(f->c, DEV_A, &d), ID_OK);
    assert_int_equal(d.bank_id, bank_id(f, "B01"));
    assert_int_equal(d.status, DEVICE_UNBOUND);
    assert_string_equal(d.teller_code, "demo01");
    assert_false(d.has_ds);
    /* The same bank may rebind it. */
    assert_int_equal(activate(f, "demo02", DEV_A, 1, NULL), ID_OK);
}

static int count_branch(const struct device *d, void *arg)
{
    assert_true(d->branch_id > 0);
    (*(int *)arg)++;
    return 0;
}

static void test_get_and_list_branch(void **state)
{
    struct fx *f = *state;
    struct device d;
    struct teller t;
    int n = 0;
    assert_int_equal(activate(f, "demo01", DEV_A, 1, NULL), ID_OK);
    assert_int_equal(activate(f, "demo02", DEV_B, 1, NULL), ID_OK);
    assert_int_equal(device_get(f->c, DEV_C, &d), ID_NOT_FOUND);
    assert_int_equal(device_get(f->c, "nothex", &d), ID_BAD_INPUT);
    assert_int_equal(device_get(f->c, DEV_A, &d), ID_OK);
    assert_int_equal(teller_find(f->c, "demo01", &t), ID_OK);
    assert_int_equal(d.branch_id, t.branch_id);
    assert_false(d.has_ds);
    assert_int_equal(device_list_branch(f->c, t.bank_id, t.branch_id, count_branch, &n), ID_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(device_list_branch(f->c, t.bank_id, 0, count_branch, &n), ID_OK);
    assert_int_equal(n, 2);
}

static void test_revoke_ends_sessions(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    struct device d;
    assert_int_equal(activate(f, "demo03", DEV_C, 1, NULL), ID_OK);
    assert_int_equal(login(f, "demo03", DEV_C, 600, 3600, sid), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_OK);
    assert_int_equal(TX(f, binding_revoke(f->c, ACTOR, DEV_C)), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "device_revoked");
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_C, &d), ID_DISABLED);
    assert_int_equal(d.status, DEVICE_REVOKED);
    assert_true(d.revoked_at > 0);
    assert_int_equal(TX(f, binding_revoke(f->c, ACTOR, DEV_C)), ID_DISABLED);
    assert_int_equal(TX(f, binding_unbind(f->c, ACTOR, DEV_A)), ID_NOT_FOUND);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'device.revoked' "
                              "AND target = '" DEV_C "' AND actor = 'test'"),
                     1);
    /* A new code reactivates a revoked tablet. */
    assert_int_equal(activate(f, "demo03", DEV_C, 1, NULL), ID_OK);
}

/* Unbinding and re-activating end the device's sessions too, each with its
 * reason, and the audit records count what they ended. */
static void test_unbind_and_reactivate_end_sessions(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    assert_int_equal(activate(f, "demo03", DEV_C, 1, NULL), ID_OK);
    assert_int_equal(login(f, "demo03", DEV_C, 600, 3600, sid), ID_OK);
    assert_int_equal(TX(f, binding_unbind(f->c, ACTOR, DEV_C)), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "device_unbound");
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'device.unbound' AND "
                              "target = '" DEV_C "' AND instr(detail, '\"sessions_ended\":1')"),
                     1);
    assert_int_equal(TX(f, binding_unbind(f->c, ACTOR, DEV_C)), ID_DISABLED);

    /* Re-activation of the device the teller holds: the old DS's session ends. */
    assert_int_equal(activate(f, "demo03", DEV_C, 1, NULL), ID_OK);
    assert_int_equal(login(f, "demo03", DEV_C, 600, 3600, sid), ID_OK);
    assert_int_equal(activate(f, "demo03", DEV_C, 1, NULL), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "device_reactivated");

    /* A replaced device: revoked with reason "replaced", its session counted. */
    assert_int_equal(login(f, "demo03", DEV_C, 600, 3600, sid), ID_OK);
    clock_set_offset_ms(1000);
    assert_int_equal(activate(f, "demo03", DEV_B, 1, NULL), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "device_revoked");
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'device.revoked' AND "
                              "target = '" DEV_C "' AND instr(detail, '\"reason\":\"replaced\"') "
                              "AND instr(detail, '\"sessions_ended\":1')"),
                     1);
}

/* The seams of the identity layer: device.c owns the devices table and
 * knows nothing of sessions or tickets; ticket.c nothing of sessions;
 * session.c asks device.c rather than reading the devices table. */
static bool file_has(const char *rel, const char *needle)
{
    char path[512];
    const char *root = getenv("ZHANYE_SRC");
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char text[64 * 1024];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    return strstr(text, needle) != NULL;
}

static void test_dependencies_go_one_way(void **state)
{
    (void)state;
    assert_false(file_has("src/identity/device.c", "identity/session.h"));
    assert_false(file_has("src/identity/device.c", "identity/ticket.h"));
    assert_false(file_has("src/identity/device.c", "session_"));
    assert_false(file_has("src/identity/device.c", "activation_tickets"));
    assert_false(file_has("src/identity/ticket.c", "identity/session.h"));
    assert_false(file_has("src/identity/device.h", "identity/session.h"));
    assert_false(file_has("src/identity/session.c", "FROM devices"));
    assert_false(file_has("src/identity/session_store.c", "devices"));
}

static int count_dev(const struct device *d, void *arg)
{
    (void)d;
    (*(int *)arg)++;
    return 0;
}

static void test_list_and_touch(void **state)
{
    struct fx *f = *state;
    int n = 0;
    assert_int_equal(activate(f, "demo01", DEV_A, 1, NULL), ID_OK);
    assert_int_equal(activate(f, "demo03", DEV_B, 1, NULL), ID_OK);
    assert_int_equal(device_list(f->c, 0, count_dev, &n), ID_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(device_list(f->c, bank_id(f, "B02"), count_dev, &n), ID_OK);
    assert_int_equal(n, 1);
    clock_set_offset_ms(2 * DEVICE_TOUCH_MS);
    assert_int_equal(device_touch(f->c, DEV_A, "10.9.9.9"), ID_OK);
    struct device d;
    assert_int_equal(device_lookup(f->c, &f->kek, DEV_A, &d), ID_OK);
    assert_string_equal(d.last_addr, "10.9.9.9");
    assert_true(d.last_seen >= clock_wall_ms() - 1000);
    device_wipe(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_code_format, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lookup_and_f, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expired_ticket_cannot_activate, fx_setup_demo,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_failures_lock, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_activate_and_ds_round_trip, fx_setup_demo,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ticket_used_once, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_one_device_per_teller, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dev_of_another_teller, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dev_of_another_bank, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_get_and_list_branch, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_revoke_ends_sessions, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unbind_and_reactivate_end_sessions, fx_setup_demo,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_and_touch, fx_setup_demo, fx_teardown),
        cmocka_unit_test(test_dependencies_go_one_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
