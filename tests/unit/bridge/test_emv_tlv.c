/* emv_tlv and the PBOC flow of dev_card over a transport replaying a
 * transcript recorded by hand from a UnionPay debit card (the exchange that
 * zhanye-devsim card plays; PAN 6217000010001234569, expiry 3112, seq 01). */
#include "dev_card.h"
#include "emv_tlv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*h) {
        if (*h == ' ') {
            h++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(h, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

/* --- BER-TLV --- */

static void test_tlv_basic_and_long_forms(void **state)
{
    (void)state;
    uint8_t b[400];
    size_t n = unhex("00 FF 5A 02 12 34 5F24 03 311231 9F38 00 70 81 02 AABB", b, sizeof b);
    size_t off = 0;
    struct tlv t;
    assert_int_equal(tlv_next(b, n, &off, &t), 1); /* padding skipped */
    assert_int_equal(t.tag, 0x5A);
    assert_int_equal(t.len, 2);
    assert_false(t.constructed);
    assert_int_equal(tlv_next(b, n, &off, &t), 1);
    assert_int_equal(t.tag, 0x5F24);
    assert_int_equal(t.val[0], 0x31);
    assert_int_equal(tlv_next(b, n, &off, &t), 1);
    assert_int_equal(t.tag, 0x9F38);
    assert_int_equal(t.len, 0);
    assert_int_equal(tlv_next(b, n, &off, &t), 1);
    assert_int_equal(t.tag, 0x70);
    assert_true(t.constructed);
    assert_int_equal(t.len, 2);
    assert_int_equal(tlv_next(b, n, &off, &t), 0);

    /* 82 two-byte length. */
    memset(b, 0xAB, sizeof b);
    b[0] = 0x70, b[1] = 0x82, b[2] = 0x01, b[3] = 0x00;
    off = 0;
    assert_int_equal(tlv_next(b, 4 + 256, &off, &t), 1);
    assert_int_equal(t.len, 256);
    assert_int_equal(off, 260);
}

static void test_tlv_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "5A 05 1234",        /* length past the end */
        "5F",                /* truncated tag */
        "5A",                /* no length */
        "70 80 00 00",       /* indefinite length */
        "70 81",             /* truncated long length */
        "70 84 00000001 00", /* 4-byte length form */
        "9F FF FF 01 00",    /* tag longer than 3 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t b[32];
        size_t n = unhex(bad[i], b, sizeof b), off = 0;
        struct tlv t;
        assert_int_equal(tlv_next(b, n, &off, &t), -1);
    }
}

static void test_tlv_find_nested(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = unhex("6F 0C 84 02 AABB A5 06 88 01 01 50 01 41", b, sizeof b);
    struct tlv t;
    assert_int_equal(tlv_find(b, n, 0x88, &t), 1);
    assert_int_equal(t.val[0], 1);
    assert_int_equal(tlv_find(b, n, 0x9F38, &t), 0);
    uint8_t sfi = 0;
    assert_int_equal(emv_pse_sfi(b, n, &sfi), 0);
    assert_int_equal(sfi, 1);
    n = unhex("6F 07 84 02 AABB A5 01 88", b, sizeof b); /* truncated inside */
    assert_int_equal(emv_pse_sfi(b, n, &sfi), CARD_ERR_BAD_CARD);
    n = unhex("6F 05 A5 03 88 01 1F", b, sizeof b); /* SFI 31 */
    assert_int_equal(emv_pse_sfi(b, n, &sfi), CARD_ERR_BAD_CARD);
}

/* --- selection --- */

static void test_directory_and_priority(void **state)
{
    (void)state;
    uint8_t b[128];
    /* debit priority 2, an unknown AID, credit priority 1, debit again. */
    size_t n = unhex("70 37"
                     " 61 0D 4F 08 A000000333010101 87 01 02"
                     " 61 0B 4F 06 F00000000001 87 01 01"
                     " 61 0D 4F 08 A000000333010102 87 01 01"
                     " 61 0A 4F 08 A000000333010101",
                     b, sizeof b);
    struct emv_app_list list = {.n = 0};
    assert_int_equal(emv_dir_record(b, n, &list), 0);
    assert_int_equal(list.n, 2);
    emv_apps_order(&list);
    assert_int_equal(list.app[0].aid[7], 0x02);
    assert_int_equal(list.app[1].aid[7], 0x01);
    assert_int_equal(emv_dir_record(b, 10, &list), CARD_ERR_BAD_CARD);

    uint8_t qc[8];
    unhex("A000000333010103", qc, sizeof qc);
    assert_true(emv_aid_known(qc, 8));
    qc[7] = 0x77;
    assert_false(emv_aid_known(qc, 8));
}

static void test_pdol_filled_with_terminal_data(void **state)
{
    (void)state;
    uint8_t pdol[64], out[160], want[64];
    size_t pl = unhex("9F66 04 9F02 06 9F1A 02 95 05 5F2A 02 9A 03 9C 01 9F37 04 DF60 02", pdol,
                      sizeof pdol);
    const uint8_t un[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    struct emv_terminal t;
    emv_terminal_defaults(&t, 2026, 11, 30, un);
    size_t ol = 0;
    assert_int_equal(emv_pdol_data(pdol, pl, &t, out, sizeof out, &ol), 0);
    size_t wl = unhex("83 1D 26000080 000000000000 0156 0000000000 0156 261130 00 DEADBEEF 0000",
                      want, sizeof want);
    assert_int_equal(ol, wl);
    assert_memory_equal(out, want, wl);
    /* No PDOL: empty data object. */
    assert_int_equal(emv_pdol_data(NULL, 0, &t, out, sizeof out, &ol), 0);
    assert_int_equal(ol, 2);
    assert_int_equal(out[1], 0);
    /* A PDOL cut after a tag. */
    assert_int_equal(emv_pdol_data(pdol, 2, &t, out, sizeof out, &ol), CARD_ERR_BAD_CARD);
}

static void test_gpo_formats_and_afl(void **state)
{
    (void)state;
    uint8_t b[64];
    const uint8_t *afl;
    size_t al;
    size_t n = unhex("77 0E 82 02 7C00 94 08 10010100 18010200", b, sizeof b);
    assert_int_equal(emv_gpo_afl(b, n, &afl, &al), 0);
    assert_int_equal(al, 8);
    assert_int_equal(afl[4], 0x18);
    n = unhex("80 06 7C00 08010100", b, sizeof b);
    assert_int_equal(emv_gpo_afl(b, n, &afl, &al), 0);
    assert_int_equal(al, 4);
    static const char *const bad[] = {
        "80 05 7C00 080101",    /* AFL not a multiple of 4 */
        "80 06 7C00 00010100",  /* SFI 0 */
        "80 06 7C00 08020100",  /* first > last */
        "80 06 7C00 08000100",  /* record 0 */
        "77 06 94 04 08010100", /* no AIP */
        "6F 06 94 04 08010100", /* wrong template */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = unhex(bad[i], b, sizeof b);
        assert_int_equal(emv_gpo_afl(b, n, &afl, &al), CARD_ERR_BAD_CARD);
    }
}

/* --- records --- */

static int records(const char *const *recs, size_t n, struct card_info *ci)
{
    char pan57[20] = "", exp57[5] = "";
    memset(ci, 0, sizeof *ci);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[128];
        size_t l = unhex(recs[i], b, sizeof b);
        int rc = emv_record(b, l, ci, pan57, exp57);
        if (rc)
            return rc;
    }
    return emv_finish(ci, pan57, exp57);
}

static void test_record_fields(void **state)
{
    (void)state;
    struct card_info ci;
    const char *const full[] = {
        "70 20 57 12 6217000010001234569D31122200000000 0F 5F20 09 5A48414E472F53414E",
        "70 16 5A 0A 6217000010001234569F 5F24 03 311231 5F34 01 01",
    };
    assert_int_equal(records(full, 2, &ci), 0);
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.expiry, "3112");
    assert_string_equal(ci.seq, "01");
    assert_string_equal(ci.name, "ZHANG/SAN");

    /* Track-2 equivalent only: number and expiry from 57. */
    const char *const t2only[] = {"70 14 57 12 6217000010001234569D31122200000000 0F"};
    assert_int_equal(records(t2only, 1, &ci), 0);
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.expiry, "3112");
    assert_string_equal(ci.seq, "");

    /* Luhn failure (last digit 0). */
    const char *const luhn[] = {"70 12 5A 0A 6217000010001234560F 5F24 03 311231"};
    assert_int_equal(records(luhn, 1, &ci), CARD_ERR_BAD_CARD);
    /* 5A and 57 disagree. */
    const char *const differ[] = {
        "70 14 57 12 6217000010001234569D31122200000000 0F",
        "70 12 5A 0A 6225880000000000002F 5F24 03 311231",
    };
    assert_int_equal(records(differ, 2, &ci), CARD_ERR_BAD_CARD);
    /* No PAN at all. */
    const char *const nopan[] = {"70 06 5F24 03 311231"};
    assert_int_equal(records(nopan, 1, &ci), CARD_ERR_BAD_CARD);
    /* Month 13, non-BCD PAN digit, 57 without separator. */
    const char *const m13[] = {"70 12 5A 0A 6217000010001234569F 5F24 03 311331"};
    assert_int_equal(records(m13, 1, &ci), CARD_ERR_BAD_CARD);
    const char *const nibble[] = {"70 12 5A 0A 62170000100012345A9F 5F24 03 311231"};
    assert_int_equal(records(nibble, 1, &ci), CARD_ERR_BAD_CARD);
    const char *const nosep[] = {"70 0C 57 0A 62170000100012345693"};
    assert_int_equal(records(nosep, 1, &ci), CARD_ERR_BAD_CARD);
}

static void test_luhn(void **state)
{
    (void)state;
    assert_true(luhn_ok("79927398713"));
    assert_false(luhn_ok("79927398710"));
    assert_true(luhn_ok("6217000010001234569"));
    assert_false(luhn_ok("6217000010001234568"));
    assert_false(luhn_ok("62170000100012345a9"));
    assert_false(luhn_ok(""));
    assert_false(luhn_ok("62170000100012345690")); /* 20 digits */
}

static void test_track2(void **state)
{
    (void)state;
    struct card_info ci;
    assert_int_equal(card_from_track2(";6217000010001234569=31122200000000?", &ci), CARD_OK);
    assert_string_equal(ci.pan, "6217000010001234569");
    assert_string_equal(ci.expiry, "3112");
    assert_int_equal(ci.source, CARD_SRC_MSR);
    assert_string_equal(ci.aid, "");
    assert_int_equal(card_from_track2("6217000010001234569D3112220", &ci), CARD_OK);
    assert_int_equal(card_from_track2(";6217000010001234569=3112?7", &ci), CARD_OK);
    static const char *const bad[] = {
        ";6217000010001234568=31122200000000?", /* Luhn */
        ";621700001000=3112?",                  /* 12 digits, Luhn fails too */
        ";6217000010001234569?",                /* no separator */
        ";6217000010001234569=311?",            /* short expiry */
        ";6217000010001234569=3113220?",        /* month 13 */
        ";62170000100=3112?",                   /* PAN too short */
        ";6217000010001234569=3112220?xyz",     /* junk after the sentinel */
        ";6217000010001234569=31A2220?",        /* non-digit */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(card_from_track2(bad[i], &ci), CARD_ERR_BAD_CARD);
        assert_string_equal(ci.pan, "");
    }
}

static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(card_err_name(CARD_ERR_ABSENT), "absent");
    assert_string_equal(card_err_name(CARD_ERR_NO_CARD), "no_card");
    assert_string_equal(card_err_name(CARD_ERR_TIMEOUT), "timeout");
    assert_string_equal(card_err_name(CARD_ERR_BAD_CARD), "bad_card");
    assert_string_equal(card_err_name(CARD_ERR_UNSUPPORTED), "unsupported");
    assert_string_equal(card_err_name(CARD_ERR_IO), "io");
    assert_string_equal(card_err_name(CARD_ERR_REMOVED), "removed");
    assert_string_equal(card_err_name(99), "io");
    for (int c = CARD_ERR_ABSENT; c <= CARD_ERR_REMOVED; c++)
        assert_true((unsigned char)card_err_message(c)[0] >= 0xE4); /* Chinese */
}

/* --- the flow over a replayed transcript --- */

struct step {
    const char *cmd; /* expected command (prefix: GPO's date and UN vary) */
    const char *resp;
};

struct replay {
    const struct step *steps;
    size_t n, at;
    int fail_at; /* step that reports CARD_ERR_REMOVED, -1 none */
};

static int replay_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
    struct replay *rp = ctx;
    assert_true(rp->at < rp->n);
    if ((int)rp->at == rp->fail_at)
        return CARD_ERR_REMOVED;
    const struct step *s = &rp->steps[rp->at++];
    uint8_t want[300];
    size_t wl = unhex(s->cmd, want, sizeof want);
    assert_true(clen >= wl);
    assert_memory_equal(c, want, wl);
    *rlen = unhex(s->resp, r, *rlen);
    return CARD_OK;
}

#define SEL_PSE "00A404000E 315041592E5359532E4444463031 00"
#define PSE_FCI "6F1A 840E315041592E5359532E4444463031 A508 880101 5F2D027A68"
#define DIR_REC "701B 6119 4F08A000000333010101 500A50424F43204445424954 870101"
#define SEL_APP "00A4040008 A000000333010101 00"
#define APP_FCI                                                                                    \
    "6F36 8408A000000333010101 A52A 500A50424F43204445424954 870101"                               \
    " 9F3818 9F6604 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704"
#define GPO "80A8000023 8321 26000080 000000000000 000000000000 0156 0000000000 0156"
#define GPO_RESP "770E 82027C00 9408 10010100 18010200"
#define REC_2_1                                                                                    \
    "7027 5712 6217000010001234569D31122200000000 0F 5F2009 5A48414E472F53414E 9F1F04 30303030"
#define REC_3_1 "7021 5A0A 6217000010001234569F 5F2403 311231 5F2503 210101 5F340101 5F28020156"
#define REC_3_2 "7010 9F0D05 0000000000 9F0E05 0000000000"

static const struct step debit[] = {
    {.cmd = SEL_PSE, .resp = PSE_FCI " 9000"},      {.cmd = "00B2010C00", .resp = DIR_REC " 9000"},
    {.cmd = "00B2020C00", .resp = "6A83"},          {.cmd = SEL_APP, .resp = APP_FCI " 9000"},
    {.cmd = GPO, .resp = GPO_RESP " 9000"},         {.cmd = "00B2011400", .resp = REC_2_1 " 9000"},
    {.cmd = "00B2011C00", .resp = REC_3_1 " 9000"}, {.cmd = "00B2021C00", .resp = REC_3_2 " 9000"},
};

/* The same card answering 61xx (use GET RESPONSE) and 6Cxx (wrong Le). */
static const struct step chained[] = {
    {.cmd = SEL_PSE, .resp = "611C"},
    {.cmd = "00C000001C", .resp = PSE_FCI " 9000"},
    {.cmd = "00B2010C00", .resp = "6C1D"},
    {.cmd = "00B2010C1D", .resp = DIR_REC " 9000"},
    {.cmd = "00B2020C00", .resp = "6A83"},
    {.cmd = SEL_APP, .resp = "6138"},
    {.cmd = "00C0000038", .resp = APP_FCI " 9000"},
    {.cmd = GPO, .resp = "6110"},
    {.cmd = "00C0000010", .resp = GPO_RESP " 9000"},
    {.cmd = "00B2011400", .resp = REC_2_1 " 9000"},
    {.cmd = "00B2011C00", .resp = "6C23"},
    {.cmd = "00B2011C23", .resp = REC_3_1 " 9000"},
    {.cmd = "00B2021C00", .resp = REC_3_2 " 9000"},
};

/* No PSE: the list of AIDs is probed; only debit answers. */
static const struct step no_pse[] = {
    {.cmd = SEL_PSE, .resp = "6A82"},
    {.cmd = SEL_APP, .resp = APP_FCI " 9000"},
    {.cmd = "00A4040008 A000000333010102", .resp = "6A82"},
    {.cmd = "00A4040008 A000000333010103", .resp = "6A82"},
    {.cmd = "00A4040008 A000000333010106", .resp = "6A82"},
    {.cmd = "00A4040007 A0000000031010", .resp = "6A82"},
    {.cmd = "00A4040007 A0000000041010", .resp = "6A82"},
    {.cmd = "00A4040007 A0000000651010", .resp = "6A82"},
    {.cmd = "00A4040006 A00000002501", .resp = "6A82"},
    {.cmd = "00A4040007 A0000001523010", .resp = "6A82"},
    {.cmd = SEL_APP, .resp = APP_FCI " 9000"},
    {.cmd = GPO, .resp = GPO_RESP " 9000"},
    {.cmd = "00B2011400", .resp = REC_2_1 " 9000"},
    {.cmd = "00B2011C00", .resp = REC_3_1 " 9000"},
    {.cmd = "00B2021C00", .resp = REC_3_2 " 9000"},
};

static int run(const struct step *steps, size_t n, int fail_at, struct card_info *ci, char *err,
               size_t errcap)
{
    struct replay rp = {.steps = steps, .n = n, .at = 0, .fail_at = fail_at};
    const struct card_transport t = {.transmit = replay_transmit, .ctx = &rp};
    int rc = card_read_transport(&t, ci, err, errcap);
    if (rc == CARD_OK)
        assert_int_equal(rp.at, n); /* every recorded exchange used */
    return rc;
}

static void assert_debit(const struct card_info *ci)
{
    assert_string_equal(ci->pan, "6217000010001234569");
    assert_string_equal(ci->expiry, "3112");
    assert_string_equal(ci->seq, "01");
    assert_string_equal(ci->aid, "A000000333010101");
    assert_string_equal(ci->label, "PBOC DEBIT");
    assert_int_equal(ci->source, CARD_SRC_IC);
}

static void test_flow_transcript(void **state)
{
    (void)state;
    struct card_info ci;
    char err[64] = "x";
    assert_int_equal(run(debit, 8, -1, &ci, err, sizeof err), CARD_OK);
    assert_string_equal(err, "");
    assert_debit(&ci);
}

static void test_flow_chained(void **state)
{
    (void)state;
    struct card_info ci;
    assert_int_equal(run(chained, sizeof chained / sizeof chained[0], -1, &ci, NULL, 0), CARD_OK);
    assert_debit(&ci);
}

static void test_flow_without_pse(void **state)
{
    (void)state;
    struct card_info ci;
    assert_int_equal(run(no_pse, sizeof no_pse / sizeof no_pse[0], -1, &ci, NULL, 0), CARD_OK);
    assert_debit(&ci);
}

static void test_flow_removed(void **state)
{
    (void)state;
    struct card_info ci;
    char err[96];
    assert_int_equal(run(debit, 8, 6, &ci, err, sizeof err), CARD_ERR_REMOVED);
    assert_string_equal(err, card_err_message(CARD_ERR_REMOVED));
    assert_string_equal(ci.pan, "");
}

static void test_flow_refusals(void **state)
{
    (void)state;
    struct card_info ci;
    /* GPO refused by the only application: unsupported. */
    const struct step gpo_no[] = {
        debit[0], debit[1], debit[2], debit[3], {.cmd = GPO, .resp = "6985"},
    };
    assert_int_equal(run(gpo_no, 5, -1, &ci, NULL, 0), CARD_ERR_UNSUPPORTED);
    /* A record that is not a 70 template: bad card. */
    const struct step bad_rec[] = {
        debit[0], debit[1], debit[2],
        debit[3], debit[4], {.cmd = "00B2011400", .resp = "6F00 9000"},
    };
    assert_int_equal(run(bad_rec, 6, -1, &ci, NULL, 0), CARD_ERR_BAD_CARD);
    /* A record the AFL names but the card lacks. */
    const struct step missing[] = {
        debit[0], debit[1], debit[2], debit[3], debit[4], {.cmd = "00B2011400", .resp = "6A83"},
    };
    assert_int_equal(run(missing, 6, -1, &ci, NULL, 0), CARD_ERR_BAD_CARD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlv_basic_and_long_forms),
        cmocka_unit_test(test_tlv_malformed),
        cmocka_unit_test(test_tlv_find_nested),
        cmocka_unit_test(test_directory_and_priority),
        cmocka_unit_test(test_pdol_filled_with_terminal_data),
        cmocka_unit_test(test_gpo_formats_and_afl),
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_luhn),
        cmocka_unit_test(test_track2),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_flow_transcript),
        cmocka_unit_test(test_flow_chained),
        cmocka_unit_test(test_flow_without_pse),
        cmocka_unit_test(test_flow_removed),
        cmocka_unit_test(test_flow_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
