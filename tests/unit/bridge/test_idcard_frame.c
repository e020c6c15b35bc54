/* idcard_frame: the GA/T 467 SAM frames and the ID card's text record,
 * on frames built by hand byte for byte (the worked examples of
 * docs/peripherals.md), every malformed kind, every prefix of a valid
 * frame, and the UCS-2LE text record's fields and checks. */
#include "idcard_frame.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The worked example: find card, its success reply, and "no card". */
static const uint8_t FIND_CMD[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22};
static const uint8_t SELECT_CMD[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x02, 0x21};
static const uint8_t READ_CMD[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x30, 0x01, 0x32};
static const uint8_t FIND_OK[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x08, 0x00,
                                  0x00, 0x9F, 0x00, 0x00, 0x00, 0x00, 0x97};
static const uint8_t NO_CARD[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x80, 0x84};

static void commands_byte_for_byte(void **state)
{
    (void)state;
    uint8_t f[16];
    assert_int_equal(idf_build_command(IDC_FIND, f, sizeof f), 10);
    assert_memory_equal(f, FIND_CMD, 10);
    assert_int_equal(idf_build_command(IDC_SELECT, f, sizeof f), 10);
    assert_memory_equal(f, SELECT_CMD, 10);
    assert_int_equal(idf_build_command(IDC_READ, f, sizeof f), 10);
    assert_memory_equal(f, READ_CMD, 10);
    assert_int_equal(idf_build_command(IDC_READ, f, 9), -1);
    uint16_t cmd = 0;
    assert_int_equal(idf_parse_command(READ_CMD, sizeof READ_CMD, &cmd), IDF_OK);
    assert_int_equal(cmd, 0x3001);
}

static void replies_by_hand(void **state)
{
    (void)state;
    struct idf_reply r;
    size_t need = 0;
    assert_int_equal(idf_parse_reply(FIND_OK, sizeof FIND_OK, &r, &need), IDF_OK);
    assert_int_equal(r.sw, IDSW_FOUND);
    assert_int_equal(r.data_len, 4);
    assert_int_equal(idf_check_reply(IDC_FIND, &r), IDF_OK);
    assert_int_equal(idf_parse_reply(NO_CARD, sizeof NO_CARD, &r, &need), IDF_OK);
    assert_int_equal(r.sw, IDSW_NO_CARD);
    assert_int_equal(r.data_len, 0);
    /* the builder makes the same bytes */
    uint8_t f[32];
    const uint8_t zero[4] = {0};
    assert_int_equal(idf_build_reply(IDSW_FOUND, zero, 4, f, sizeof f), (int)sizeof FIND_OK);
    assert_memory_equal(f, FIND_OK, sizeof FIND_OK);
}

static void malformed_kinds(void **state)
{
    (void)state;
    struct idf_reply r;
    uint8_t f[32];
    memcpy(f, FIND_OK, sizeof FIND_OK);
    f[14] ^= 1;
    assert_int_equal(idf_parse_reply(f, sizeof FIND_OK, &r, NULL), IDF_CHECKSUM);
    memcpy(f, FIND_OK, sizeof FIND_OK);
    f[4] = 0x68;
    assert_int_equal(idf_parse_reply(f, sizeof FIND_OK, &r, NULL), IDF_PREAMBLE);
    memcpy(f, FIND_OK, sizeof FIND_OK);
    f[5] = 0xFF;
    assert_int_equal(idf_parse_reply(f, sizeof FIND_OK, &r, NULL), IDF_OVERSIZE);
    /* LEN 3: a reply needs at least the status and the checksum */
    const uint8_t short_len[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x00, 0x00, 0x03};
    assert_int_equal(idf_parse_reply(short_len, sizeof short_len, &r, NULL), IDF_LENGTH);
    const uint8_t len2[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02, 0x00, 0x02};
    assert_int_equal(idf_parse_reply(len2, sizeof len2, &r, NULL), IDF_LENGTH);
    /* an unknown status, checksum right */
    const uint8_t st[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0xE7, 0xE3};
    assert_int_equal(idf_parse_reply(st, sizeof st, &r, NULL), IDF_STATUS);
    const uint8_t sw1[] = {0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x01, 0x00, 0x90, 0x95};
    assert_int_equal(idf_parse_reply(sw1, sizeof sw1, &r, NULL), IDF_STATUS);
    /* trailing bytes */
    memcpy(f, FIND_OK, sizeof FIND_OK);
    f[sizeof FIND_OK] = 0;
    assert_int_equal(idf_parse_reply(f, sizeof FIND_OK + 1, &r, NULL), IDF_TRAILING);
    /* a find success with 2 bytes of data, consistent otherwise */
    int n = idf_build_reply(IDSW_FOUND, (const uint8_t *)"\0\0", 2, f, sizeof f);
    assert_int_equal(idf_parse_reply(f, (size_t)n, &r, NULL), IDF_OK);
    assert_int_equal(idf_check_reply(IDC_FIND, &r), IDF_LENGTH);
}

static void every_prefix_is_truncated(void **state)
{
    (void)state;
    struct idf_reply r;
    for (size_t k = 0; k < sizeof FIND_OK; k++) {
        size_t need = 0;
        assert_int_equal(idf_parse_reply(FIND_OK, k, &r, &need), IDF_TRUNCATED);
        assert_int_equal(need, k < IDF_HEADER_LEN ? IDF_HEADER_LEN : sizeof FIND_OK);
    }
    size_t total = 0;
    assert_int_equal(idf_frame_total(FIND_OK, 7, &total), IDF_OK);
    assert_int_equal(total, sizeof FIND_OK);
}

static struct idcard_info demo(void)
{
    struct idcard_info in = {
        .name = "张三",
        .sex_code = "1",
        .nation_code = "01",
        .birth = "19900307",
        .address = "北京市东城区景山前街4号",
        .id_no = "110101199003070011",
        .issuer = "北京市公安局东城分局",
        .valid_from = "20200101",
        .valid_to = "20400101",
    };
    return in;
}

static void text_record(void **state)
{
    (void)state;
    struct idcard_info in = demo(), out;
    uint8_t t[IDF_TEXT_LEN];
    assert_int_equal(idcard_text_encode(&in, t), 0);
    /* 张 U+5F20, 三 U+4E09, then spaces; sex "1" at byte 30; nation "01" at 32 */
    const uint8_t name[] = {0x20, 0x5F, 0x09, 0x4E, 0x20, 0x00};
    assert_memory_equal(t, name, sizeof name);
    assert_int_equal(t[30], '1');
    assert_int_equal(t[31], 0);
    assert_int_equal(t[32], '0');
    assert_int_equal(t[34], '1');
    assert_int_equal(t[254], 0x20);
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_OK);
    assert_string_equal(out.name, "张三");
    assert_string_equal(out.sex, "男");
    assert_string_equal(out.nation, "汉");
    assert_string_equal(out.birth, "19900307");
    assert_string_equal(out.address, "北京市东城区景山前街4号");
    assert_string_equal(out.id_no, "110101199003070011");
    assert_string_equal(out.issuer, "北京市公安局东城分局");
    assert_string_equal(out.valid_from, "20200101");
    assert_string_equal(out.valid_to, "20400101");

    /* a woman of the Mongol nation, a long-term card, check character X */
    in = demo();
    strcpy(in.name, "乌云其木格");
    strcpy(in.sex_code, "2");
    strcpy(in.nation_code, "02");
    strcpy(in.id_no, "11010519491231002X");
    strcpy(in.valid_to, "长期");
    assert_int_equal(idcard_text_encode(&in, t), 0);
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_OK);
    assert_string_equal(out.sex, "女");
    assert_string_equal(out.nation, "蒙古");
    assert_string_equal(out.valid_to, "长期");
    assert_string_equal(out.name, "乌云其木格");
}

static void text_refusals(void **state)
{
    (void)state;
    struct idcard_info in, out;
    uint8_t t[IDF_TEXT_LEN] = {0};
    assert_int_equal(idcard_text_decode(t, 255, &out), IDT_LENGTH);
    in = demo();
    strcpy(in.sex_code, "3");
    assert_int_equal(idcard_text_encode(&in, t), 0);
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_SEX);
    in = demo();
    strcpy(in.nation_code, "57");
    assert_int_equal(idcard_text_encode(&in, t), 0);
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_NATION);
    in = demo();
    strcpy(in.id_no, "110101199003070012");
    assert_int_equal(idcard_text_encode(&in, t), 0);
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_ID_NO);
    in = demo();
    strcpy(in.birth, "1990037");
    assert_int_equal(idcard_text_encode(&in, t), 0);
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_DATE);
    in = demo();
    assert_int_equal(idcard_text_encode(&in, t), 0);
    t[1] = 0xD8; /* a surrogate in the name */
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_CHARS);
    assert_int_equal(idcard_text_encode(&in, t), 0);
    t[0] = 0;
    t[1] = 0; /* an interior NUL */
    assert_int_equal(idcard_text_decode(t, sizeof t, &out), IDT_CHARS);
    /* a name too long for its 15 characters */
    in = demo();
    strcpy(in.name, "一二三四五六七八九十一二三四五六");
    assert_int_equal(idcard_text_encode(&in, t), -1);
}

static void nations(void **state)
{
    (void)state;
    for (int c = 1; c <= 56; c++)
        assert_non_null(idcard_nation_name(c));
    assert_string_equal(idcard_nation_name(56), "基诺");
    assert_string_equal(idcard_nation_name(97), "其他");
    assert_string_equal(idcard_nation_name(98), "外国血统中国籍人士");
    assert_null(idcard_nation_name(0));
    assert_null(idcard_nation_name(57));
    assert_null(idcard_nation_name(96));
    assert_null(idcard_nation_name(99));
    assert_null(idcard_nation_name(-1));
    assert_true(idcard_id_no_valid("11010519491231002X"));
    assert_false(idcard_id_no_valid("11010519491231002x"));
    assert_false(idcard_id_no_valid("1101051949123100"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commands_byte_for_byte),
        cmocka_unit_test(replies_by_hand),
        cmocka_unit_test(malformed_kinds),
        cmocka_unit_test(every_prefix_is_truncated),
        cmocka_unit_test(text_record),
        cmocka_unit_test(text_refusals),
        cmocka_unit_test(nations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
