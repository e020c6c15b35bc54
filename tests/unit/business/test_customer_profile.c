/* customer_profile: a record's members, each with a bad value (the error
 * names the member's path), normalisation, removal, and the kind rules. */
#include "business/customer_profile.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define TODAY 20260315
#define PERSON "\"kind\":\"person\",\"name\":\"张三\",\"id_no\":\"11010519491231002X\""
#define BUSINESS "\"kind\":\"business\",\"name\":\"青山合作社\",\"uscc\":\"91350100M000100Y43\""

/* Applies the JSON text in to rec; returns the result, err filled. */
static int apply(json_t *rec, const char *in, struct cp_error *err)
{
    json_error_t jerr;
    json_t *j = json_loads(in, 0, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", in, jerr.text);
    int rc = cp_apply(rec, j, TODAY, err);
    json_decref(j);
    return rc;
}

static void person_normalised(void **state)
{
    (void)state;
    struct cp_error e;
    json_t *rec = json_object();
    assert_int_equal(apply(rec,
                           "{" PERSON ",\"id_no\":\"11010519491231002x\",\"phone\":\"13812345678\","
                           "\"address\":\"  青山县城关镇1号  \",\"household\":[{\"name\":\"李四\","
                           "\"relation\":\"spouse\",\"id_no\":\"330102199001011234\"}],"
                           "\"occupation\":\"farmer\",\"income_band\":\"30k_100k\","
                           "\"assets\":[{\"type\":\"land\",\"value\":120000}],"
                           "\"products\":[\"deposit\",\"debit_card\"]}",
                           &e),
                     CP_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "id_no")), "11010519491231002X");
    assert_string_equal(json_string_value(json_object_get(rec, "address")), "青山县城关镇1号");
    assert_int_equal(json_array_size(json_object_get(rec, "household")), 1);
    assert_true(cp_is_person(rec));
    /* "" and [] remove optional members; a required one cannot go. */
    assert_int_equal(apply(rec, "{\"address\":\"\",\"products\":[]}", &e), CP_OK);
    assert_null(json_object_get(rec, "address"));
    assert_null(json_object_get(rec, "products"));
    assert_int_equal(apply(rec, "{\"id_no\":\"\"}", &e), CP_BAD);
    assert_string_equal(e.field, "id_no");
    json_decref(rec);
}

static void business_record(void **state)
{
    (void)state;
    struct cp_error e;
    json_t *rec = json_object();
    assert_int_equal(apply(rec,
                           "{" BUSINESS ",\"uscc\":\"91350100m000100y43\",\"legal_person\":"
                           "{\"name\":\"王五\",\"phone\":\"13912345678\"},\"industry\":\"A01\","
                           "\"turnover\":5000000}",
                           &e),
                     CP_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "uscc")), "91350100M000100Y43");
    assert_false(cp_is_person(rec));
    /* A person's member on a business, and the kind cannot change. */
    assert_int_equal(apply(rec, "{\"occupation\":\"farmer\"}", &e), CP_BAD);
    assert_string_equal(e.field, "occupation");
    assert_int_equal(apply(rec, "{\"kind\":\"person\"}", &e), CP_BAD);
    assert_string_equal(e.field, "kind");
    json_decref(rec);
}

/* Every member with a bad value: the path named. */
static void bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *base, *member, *field;
    } cases[] = {
        {PERSON, "\"kind\":\"robot\"", "kind"},
        {PERSON, "\"name\":\"\"", "name"},
        {PERSON, "\"name\":\"a\\u0001b\"", "name"},
        {PERSON, "\"name\":7", "name"},
        {PERSON, "\"id_no\":\"110105194912310021\"", "id_no"},
        {PERSON, "\"id_no\":\"110105194902300021\"", "id_no"},
        {PERSON, "\"uscc\":\"91350100M000100Y43\"", "uscc"},
        {BUSINESS, "\"uscc\":\"91350100M000100Y44\"", "uscc"},
        {BUSINESS, "\"id_no\":\"11010519491231002X\"", "id_no"},
        {PERSON, "\"phone\":\"12345\"", "phone"},
        {PERSON, "\"address\":\"\\n\"", "address"},
        {PERSON, "\"household\":[{\"name\":\"李四\"}]", "household[0].relation"},
        {PERSON, "\"household\":[{\"name\":\"李四\",\"relation\":\"cousin\"}]",
         "household[0].relation"},
        {PERSON,
         "\"household\":[{\"name\":\"李四\",\"relation\":\"child\"},{\"name\":\"李五\","
         "\"relation\":\"child\",\"id_no\":\"123\"}]",
         "household[1].id_no"},
        {PERSON, "\"household\":[{\"name\":\"李四\",\"relation\":\"child\",\"age\":3}]",
         "household[0]"},
        {PERSON, "\"household\":{}", "household"},
        {PERSON, "\"occupation\":\"pirate\"", "occupation"},
        {PERSON, "\"income_band\":\"lots\"", "income_band"},
        {PERSON, "\"assets\":[{\"type\":\"gold\",\"value\":1}]", "assets[0].type"},
        {PERSON, "\"assets\":[{\"type\":\"land\",\"value\":-1}]", "assets[0].value"},
        {PERSON, "\"assets\":[{\"type\":\"land\"}]", "assets[0].value"},
        {PERSON, "\"products\":[\"Deposit\"]", "products[0]"},
        {PERSON, "\"products\":[\"loan\",\"loan\"]", "products[1]"},
        {BUSINESS, "\"legal_person\":{\"name\":\"\"}", "legal_person.name"},
        {BUSINESS, "\"legal_person\":{\"name\":\"王五\",\"id_no\":\"1\"}", "legal_person.id_no"},
        {BUSINESS, "\"industry\":\"Z99\"", "industry"},
        {BUSINESS, "\"industry\":\"A1\"", "industry"},
        {BUSINESS, "\"turnover\":-5", "turnover"},
        {BUSINESS, "\"turnover\":\"many\"", "turnover"},
        {PERSON, "\"colour\":\"red\"", "colour"},
    };
    char in[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cp_error e;
        json_t *rec = json_object();
        snprintf(in, sizeof in, "{%s,%s}", cases[i].base, cases[i].member);
        /* a later duplicate key replaces the base's */
        json_t *j = json_loads(in, 0, NULL);
        assert_non_null(j);
        int rc = cp_apply(rec, j, TODAY, &e);
        if (rc != CP_BAD || strcmp(e.field, cases[i].field) != 0)
            fail_msg("%s: got %d on %s (%s), want the field %s", in, rc, e.field, e.msg,
                     cases[i].field);
        assert_true((unsigned char)e.msg[0] >= 0x80); /* said in Chinese */
        json_decref(j);
        json_decref(rec);
    }
}

static void missing_required(void **state)
{
    (void)state;
    struct cp_error e;
    json_t *rec = json_object();
    assert_int_equal(apply(rec, "{\"kind\":\"person\",\"name\":\"张三\"}", &e), CP_BAD);
    assert_string_equal(e.field, "id_no");
    json_decref(rec);
    rec = json_object();
    assert_int_equal(apply(rec, "{\"name\":\"张三\"}", &e), CP_BAD);
    assert_string_equal(e.field, "kind");
    json_decref(rec);
}

static void name_prefix(void **state)
{
    (void)state;
    struct cp_error e;
    char out[CP_NAME_MAX + 1];
    json_t *v = json_string(" 张 ");
    assert_int_equal(cp_name(v, "name", out, sizeof out, &e), CP_OK);
    assert_string_equal(out, "张");
    json_decref(v);
    v = json_string("   ");
    assert_int_equal(cp_name(v, "name", out, sizeof out, &e), CP_BAD);
    assert_string_equal(e.field, "name");
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(person_normalised), cmocka_unit_test(business_record),
        cmocka_unit_test(bad_values),        cmocka_unit_test(missing_required),
        cmocka_unit_test(name_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
