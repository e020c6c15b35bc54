/* mapping and route: the shipped conf/ loads; every loading error names the
 * file and the field; JSON and fixed-length conversions and their verdicts. */
#include "egress/egress.h"
#include "egress/mapping.h"
#include "egress/route.h"
#include "testd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/zhanye-map-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void shipped_conf_loads(void **state)
{
    char conf[512], path[600], err[512] = "";
    struct mapping_set set;
    struct route_table rt;
    src_path("conf", conf, sizeof conf);
    snprintf(path, sizeof path, "%s/mappings", conf);
    assert_int_equal(mapping_load_dir(path, &set, err, sizeof err), 0);
    assert_true(set.n >= 14);
    snprintf(path, sizeof path, "%s/routes.conf", conf);
    if (route_load(path, &set, &rt, err, sizeof err) != 0)
        fail_msg("%s", err);
    const struct route *r = route_find(&rt, "customer_query");
    assert_non_null(r);
    assert_string_equal(r->system, "core");
    assert_true(r->idempotent);
    assert_false(route_find(&rt, "open_account")->idempotent);
    assert_null(route_find(&rt, "no_such_step"));
    route_free(&rt);
    mapping_set_free(&set);
}

#define FIX_HEAD                                                                                   \
    "{\"format\":\"fixlen\",\"encoding\":\"gbk\",\"request\":{\"length\":10,\"fields\":["
#define FIX_RESP                                                                                   \
    "]},\"response\":{\"length\":14,\"fields\":[{\"name\":\"rc\",\"offset\":0,\"length\":4},"      \
    "{\"name\":\"msg\",\"offset\":4,\"length\":10}],\"status\":{\"field\":\"rc\",\"ok\":["         \
    "\"0000\"],\"fault\":[\"9999\"],\"message\":\"msg\"}}}"

static void expect_error(const char *name, const char *text, const char *want1, const char *want2)
{
    struct mapping m;
    char err[512] = "";
    const char *path = write_file(name, text);
    assert_int_equal(mapping_load_file(path, &m, err, sizeof err), -1);
    if (!strstr(err, name) || !strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("error '%s' should name %s, '%s' and '%s'", err, name, want1, want2 ? want2 : "");
}

static void mapping_errors_name_file_and_field(void **state)
{
    expect_error("a.json", FIX_HEAD "{\"name\":\"id_no\",\"offset\":0,\"lenght\":4}" FIX_RESP,
                 "request field 'id_no'", "unknown key 'lenght'");
    expect_error("b.json",
                 FIX_HEAD "{\"name\":\"a\",\"offset\":0,\"length\":6},"
                          "{\"name\":\"b\",\"offset\":5,\"length\":2}" FIX_RESP,
                 "field 'b'", "overlaps");
    expect_error("c.json",
                 FIX_HEAD "{\"name\":\"a\",\"offset\":0,\"length\":4,\"type\":\"money\"}" FIX_RESP,
                 "field 'a'", "'type'");
    expect_error("d.json", FIX_HEAD "{\"name\":\"a\",\"offset\":0,\"length\":4}" FIX_RESP "x",
                 "line 1", NULL);
    expect_error("e.json",
                 "{\"name\":\"other\",\"format\":\"json\",\"path\":\"/x\",\"request\":{\"fields\":"
                 "[{\"name\":\"a\"}]},\"response\":{\"fields\":[{\"name\":\"b\"}]}}",
                 "base name 'e'", NULL);
    expect_error("f.json",
                 "{\"format\":\"json\",\"path\":\"/x\",\"request\":{\"fields\":[{\"name\":\"a\"}]},"
                 "\"response\":{\"fields\":[{\"name\":\"b\"}],\"status\":{\"field\":\"code\","
                 "\"ok\":[\"0\"]}}}",
                 "status", "'code' is not a response field");
    expect_error("g.json",
                 "{\"format\":\"json\",\"path\":\"x\",\"request\":{\"fields\":[{\"name\":\"a\"}]},"
                 "\"response\":{\"fields\":[{\"name\":\"b\"}]}}",
                 "'path'", NULL);
    expect_error("h.json",
                 FIX_HEAD "{\"name\":\"n\",\"offset\":0,\"length\":4,\"type\":\"int\",\"encoding\":"
                          "\"gbk\"}" FIX_RESP,
                 "field 'n'", "ASCII");
    expect_error("i.json", "{\"format\":\"xml\"}", "'format'", NULL);
}

/* "secret": true on a request field: loaded (the shipped PIN mappings have
 * it on pin_block, and nothing else), refused in a response or with a
 * constant; the mapping knows it has one (the gateway then wipes the
 * encoded request); a conversion error on it names the field but nothing
 * of the value, not even its length. */
static void secret_fields(void **state)
{
    (void)state;
    char conf[512], path[600], err[512] = "";
    struct mapping_set set;
    src_path("conf", conf, sizeof conf);
    snprintf(path, sizeof path, "%s/mappings", conf);
    assert_int_equal(mapping_load_dir(path, &set, err, sizeof err), 0);
    const char *pin_maps[] = {"core_set_pin", "core_biz_set_pin"};
    for (size_t i = 0; i < 2; i++) {
        const struct mapping *m = mapping_find(&set, pin_maps[i]);
        assert_non_null(m);
        assert_true(m->secret);
        for (size_t f = 0; f < m->req_fix.nfields; f++)
            assert_int_equal(m->req_fix.fields[f].secret,
                             strcmp(m->req_fix.fields[f].name, "pin_block") == 0);
    }
    assert_false(mapping_find(&set, "core_customer_query")->secret);
    mapping_set_free(&set);

    expect_error("s1.json",
                 "{\"format\":\"fixlen\",\"encoding\":\"gbk\",\"request\":{\"length\":10,"
                 "\"fields\":[{\"name\":\"a\",\"offset\":0,\"length\":4}]},\"response\":{"
                 "\"length\":14,\"fields\":[{\"name\":\"rc\",\"offset\":0,\"length\":4,"
                 "\"secret\":true},{\"name\":\"msg\",\"offset\":4,\"length\":10}]}}",
                 "response field 'rc'", "'secret' is for request fields");
    expect_error("s2.json",
                 FIX_HEAD "{\"name\":\"p\",\"offset\":0,\"length\":4,\"const\":\"x\","
                          "\"secret\":true}" FIX_RESP,
                 "field 'p'", "takes its value from the input");
    expect_error("s3.json",
                 FIX_HEAD "{\"name\":\"p\",\"offset\":0,\"length\":4,\"secret\":1}" FIX_RESP,
                 "field 'p'", "true or false");

    struct mapping m;
    const char *p = write_file("pin.json", FIX_HEAD "{\"name\":\"card\",\"offset\":0,\"length\":2},"
                                                    "{\"name\":\"pin_block\",\"offset\":2,"
                                                    "\"length\":8,\"secret\":true}" FIX_RESP);
    assert_int_equal(mapping_load_file(p, &m, err, sizeof err), 0);
    assert_true(m.secret);
    assert_true(m.req_fix.fields[1].secret);
    assert_false(m.req_fix.fields[0].secret);
    /* too long for its field: refused, naming it, without its value or its length */
    json_t *in = json_pack("{s:s,s:s}", "card", "12", "pin_block", "9F3A7C11D2E4B5A6C");
    struct mapping_result r;
    char *out = NULL;
    size_t n = 0;
    assert_int_equal(mapping_encode(&m, in, "S1", &out, &n, &r), -1);
    assert_null(out);
    assert_string_equal(r.field, "pin_block");
    assert_non_null(strstr(r.message, "pin_block"));
    if (strstr(r.message, "9F3A7C11") || strstr(r.message, "17") || strstr(r.message, "bytes"))
        fail_msg("the error shows something of the secret value: %s", r.message);
    json_decref(in);
    mapping_free(&m);
}

static void json_mapping_converts_both_ways(void **state)
{
    struct mapping m;
    char err[512] = "";
    const char *path = write_file(
        "idcheck.json",
        "{\"format\":\"json\",\"path\":\"/v\",\"request\":{\"fields\":["
        "{\"name\":\"idNo\",\"json\":\"id_no\",\"type\":\"string\",\"max_length\":18},"
        "{\"name\":\"name\",\"type\":\"string\",\"max_length\":4},"
        "{\"name\":\"channel\",\"const\":\"ZHYE\"},{\"name\":\"reqId\",\"auto\":\"serial\"}]},"
        "\"response\":{\"fields\":[{\"name\":\"code\",\"skip\":true},"
        "{\"name\":\"msg\",\"required\":false,\"skip\":true},"
        "{\"name\":\"result\",\"type\":\"string\"}],"
        "\"status\":{\"field\":\"code\",\"ok\":[\"0000\"],\"fault\":[\"9999\"],\"message\":\"msg\"}"
        "}}");
    if (mapping_load_file(path, &m, err, sizeof err))
        fail_msg("%s", err);
    json_t *in = json_pack("{s:s,s:s,s:s}", "id_no", "110101199003077578", "name", "欧阳娜娜",
                           "extra", "dropped");
    char *out;
    size_t len;
    struct mapping_result r;
    assert_int_equal(mapping_encode(&m, in, "S1", &out, &len, &r), 0);
    json_t *sent = json_loadb(out, len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(sent, "idNo")), "110101199003077578");
    assert_string_equal(json_string_value(json_object_get(sent, "channel")), "ZHYE");
    assert_string_equal(json_string_value(json_object_get(sent, "reqId")), "S1");
    assert_null(json_object_get(sent, "extra"));
    json_decref(sent);
    free(out);
    json_object_set_new(in, "name", json_string("欧阳娜娜娜")); /* 5 characters in 4 */
    assert_int_equal(mapping_encode(&m, in, "S1", &out, &len, &r), -1);
    assert_string_equal(r.field, "name");
    json_object_del(in, "id_no");
    assert_int_equal(mapping_encode(&m, in, "S1", &out, &len, &r), -1);
    assert_string_equal(r.field, "idNo");
    assert_non_null(strstr(r.message, "json 'id_no'"));
    json_decref(in);

    static const struct {
        const char *reply;
        enum mapping_verdict v;
    } CASES[] = {
        {"{\"code\":\"0000\",\"result\":\"match\"}", MAPPING_REPLY_OK},
        {"{\"code\":\"1001\",\"msg\":\"不存在\"}", MAPPING_REPLY_BUSINESS},
        {"{\"code\":\"9999\",\"msg\":\"忙\"}", MAPPING_REPLY_FAULT},
        {"{\"code\":\"0000\"}", MAPPING_REPLY_MALFORMED},
        {"{\"code\":\"0000\",\"result\":7}", MAPPING_REPLY_MALFORMED},
        {"[1]", MAPPING_REPLY_MALFORMED},
        {"{\"code\":", MAPPING_REPLY_MALFORMED},
        {"{\"result\":\"match\"}", MAPPING_REPLY_MALFORMED},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        json_t *o;
        assert_int_equal(mapping_decode(&m, CASES[i].reply, strlen(CASES[i].reply), &o, &r),
                         CASES[i].v);
        if (CASES[i].v == MAPPING_REPLY_OK) {
            assert_string_equal(json_string_value(json_object_get(o, "result")), "match");
            assert_null(json_object_get(o, "code")); /* skipped */
        }
        if (CASES[i].v == MAPPING_REPLY_BUSINESS) {
            assert_string_equal(r.code, "1001");
            assert_string_equal(r.message, "不存在");
        }
        if (CASES[i].v >= MAPPING_REPLY_FAULT)
            assert_null(o);
        json_decref(o);
    }
    mapping_free(&m);
}

static void fixlen_mapping_accepts_header_only_refusals(void **state)
{
    struct mapping m;
    char err[512] = "";
    const char *path = write_file(
        "q.json", FIX_HEAD "{\"name\":\"code\",\"offset\":0,\"length\":4,\"const\":\"1001\"},"
                           "{\"name\":\"id\",\"offset\":4,\"length\":6}"
                           "]},\"response\":{\"length\":18,\"fields\":["
                           "{\"name\":\"rc\",\"offset\":0,\"length\":4,\"skip\":true},"
                           "{\"name\":\"msg\",\"offset\":4,\"length\":10},"
                           "{\"name\":\"name\",\"json\":\"cust_name\",\"offset\":14,\"length\":4}],"
                           "\"status\":{\"field\":\"rc\",\"ok\":[\"0000\"],\"message\":\"msg\"}}}");
    if (mapping_load_file(path, &m, err, sizeof err))
        fail_msg("%s", err);
    json_t *o;
    struct mapping_result r;
    char rec[32];
    memcpy(rec, "0000ok        \xD5\xC5\xC8\xFD", 18);
    assert_int_equal(mapping_decode(&m, rec, 18, &o, &r), MAPPING_REPLY_OK);
    assert_string_equal(json_string_value(json_object_get(o, "cust_name")), "张三");
    assert_null(json_object_get(o, "rc"));
    json_decref(o);
    memcpy(rec, "1001\xBF\xCD\xBB\xA7      ", 14); /* 客户 */
    assert_int_equal(mapping_decode(&m, rec, 14, &o, &r), MAPPING_REPLY_BUSINESS);
    assert_string_equal(r.message, "客户");
    json_decref(o);
    memcpy(rec, "0000ok        ", 14);
    assert_int_equal(mapping_decode(&m, rec, 14, &o, &r), MAPPING_REPLY_MALFORMED);
    assert_non_null(strstr(r.message, "14 bytes, the layout has 18"));
    assert_int_equal(mapping_decode(&m, rec, 2, &o, &r), MAPPING_REPLY_MALFORMED);
    mapping_free(&m);
}

static void route_errors_name_the_line(void **state)
{
    struct mapping_set set = {0};
    struct mapping m1;
    char err[512] = "";
    const char *mp =
        write_file("m1.json", FIX_HEAD "{\"name\":\"a\",\"offset\":0,\"length\":4}" FIX_RESP);
    if (mapping_load_file(mp, &m1, err, sizeof err))
        fail_msg("%s", err);
    set.n = 1;
    set.m = &m1;
    struct route_table rt;
    static const struct {
        const char *text, *want;
    } BAD[] = {
        {"[s1]\nsystem = core\nmapping = m1\nidempotnet = true\n", ":4: unknown key 'idempotnet'"},
        {"[s1]\nsystem = core\nmapping = nope\n", ":2: step [s1]: no mapping 'nope'"},
        {"[s1]\nsystem = core\nsystem = core\nmapping = m1\n", ":3: key 'system' given twice"},
        {"[s1]\nmapping = m1\n", "needs 'system' and 'mapping'"},
        {"[s1]\nsystem = core\nmapping = m1\nidempotent = yes\n", ":4: bad value"},
        {"system = core\n", "bad step name"},
        /* inih would cut this value at 199 bytes and read the rest as a comment. */
        {"[s1]\nsystem = core\nmapping = m1 ; "
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
         ":3: line longer than 199 bytes"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const char *rp = write_file("routes.conf", BAD[i].text);
        assert_int_equal(route_load(rp, &set, &rt, err, sizeof err), -1);
        if (!strstr(err, "routes.conf") || !strstr(err, BAD[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, BAD[i].want);
    }
    const char *rp = write_file("routes.conf", "[s1]\nsystem = core\nmapping = m1\n");
    assert_int_equal(route_load(rp, &set, &rt, err, sizeof err), 0);
    assert_int_equal(rt.n, 1);
    assert_ptr_equal(rt.r[0].mapping, &m1);
    route_free(&rt);
    /* A step without a mapping moves files. */
    rp = write_file("routes.conf", "[files]\nsystem = paperless\n");
    assert_int_equal(route_load(rp, &set, &rt, err, sizeof err), 0);
    assert_int_equal(rt.n, 1);
    assert_null(rt.r[0].mapping);
    route_free(&rt);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none.conf", dir);
    assert_int_equal(route_load(missing, &set, &rt, err, sizeof err), 0);
    assert_int_equal(rt.n, 0);
    mapping_free(&m1);
}

/* zhanye.conf's [egress.*] values and egress_open()'s own checks. */
static int open_with(const char *conf, char *err, size_t cap)
{
    static struct config cfg;
    const char *path = write_file("zhanye.conf", conf);
    if (config_load(&cfg, dir, path, err, cap) != 0)
        return -1;
    struct egress *eg = NULL;
    char confdir[512];
    int rc = egress_open(&cfg, src_path("conf", confdir, sizeof confdir), &eg, err, cap);
    egress_close(eg);
    config_free(&cfg);
    return rc;
}

static void egress_config_errors(void **state)
{
    static const struct {
        const char *conf, *want;
    } BAD[] = {
        {"[egress.core]\naddress = sftp://h:22\n", "bad value 'sftp://h:22' for key 'address'"},
        {"[egress.paperless]\naddress = ftp://h:21/inbox\n", "key 'address'"},
        {"[egress.core]\naddress = ftp://h:21\n", "[egress.core] is ftp; a step has a mapping"},
        {"[egress.paperless]\naddress = http://h:1\n",
         "step [voucher_deliver]: [egress.paperless] is http"},
        {"[egress.paperless]\naddress = ftp://h:21\npassword_file = /nonexistent/pw\n",
         "[egress.paperless] password_file /nonexistent/pw"},
        {"[egress.core]\naddress = tcp://h:1, http://h:2\n", "one scheme"},
        {"[egress.core]\naddress = tcp://h:1/path\n", "key 'address'"},
        {"[egress.core]\naddress = http://h\n", "key 'address'"},
        {"[egress.core]\naddress = tcp://h:1\nrequired = yes\n", "must be true or false"},
        {"[egress.core]\naddress = tcp://h:1\nbreaker_failure_rate = 101\n",
         "key 'breaker_failure_rate'"},
        {"[egress.core]\naddress = tcp://h:1\nmax_concurent = 3\n", "unknown key"},
        {"[egress.core]\nretries = 1\n", "[egress.core]: 'address' is required"},
        {"[egress.core]\naddress = tcp://h:1\nbreaker_window = 5\nbreaker_min_calls = 6\n",
         "breaker_min_calls must not exceed breaker_window"},
        {"[egress.core]\naddress = http://h:1\n", "mapping core_"},
        {"[egress.idcheck]\naddress = tcp://h:1\n", "mapping idcheck_verify is json"},
    };
    char err[512];
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        err[0] = '\0';
        assert_int_equal(open_with(BAD[i].conf, err, sizeof err), -1);
        if (!strstr(err, BAD[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, BAD[i].want);
    }
    assert_int_equal(open_with("[egress.core]\naddress = tcp://[::1]:7001, tcp://127.0.0.1:7002\n"
                               "[egress.face]\naddress = https://face.example.cn:443/api/\n",
                               err, sizeof err),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipped_conf_loads),
        cmocka_unit_test(mapping_errors_name_file_and_field),
        cmocka_unit_test(secret_fields),
        cmocka_unit_test(json_mapping_converts_both_ways),
        cmocka_unit_test(fixlen_mapping_accepts_header_only_refusals),
        cmocka_unit_test(route_errors_name_the_line),
        cmocka_unit_test(egress_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
