/* video_turn (business/video_turn.h): the TURN REST API credential against
 * a vector computed independently (Python's hmac/hashlib), its refusals, the
 * ICE servers built from the URL list, and the secret file's creation and
 * checks. */
#include "business/video_turn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define SECRET "0123456789abcdef-secret"

static void credential_vector(void **state)
{
    (void)state;
    char user[VIDEO_USER_MAX + 1], cred[VIDEO_CRED_MAX + 1];
    assert_int_equal(video_turn_cred(SECRET, "42", 1700000000, 600, user, cred), VT_OK);
    assert_string_equal(user, "1700000600:42");
    /* base64(HMAC-SHA1("0123456789abcdef-secret", "1700000600:42")) */
    assert_string_equal(cred, "svIwti+CDZWka5EW2N2lnjpqrKg=");
}

static void credential_refusals(void **state)
{
    (void)state;
    char user[VIDEO_USER_MAX + 1], cred[VIDEO_CRED_MAX + 1];
    assert_int_equal(video_turn_cred("", "42", 1, 600, user, cred), VT_ERR);
    assert_int_equal(video_turn_cred(SECRET, "", 1, 600, user, cred), VT_ERR);
    assert_int_equal(video_turn_cred(SECRET, "a:b", 1, 600, user, cred), VT_ERR);
    assert_int_equal(video_turn_cred(SECRET, "42", 1, 0, user, cred), VT_ERR);
    assert_string_equal(user, "");
    assert_string_equal(cred, "");
}

static void ice_servers(void **state)
{
    (void)state;
    struct video_env env = {.secret = SECRET, .ttl_s = 600};
    json_t *ice = video_ice_servers(&env, "42", 1700000000);
    assert_non_null(ice);
    assert_int_equal(json_array_size(ice), 0); /* no URLs: none */
    json_decref(ice);
    snprintf(env.urls, sizeof env.urls, "%s",
             "stun:t.example:3478, turn:t.example:3478?transport=udp,turns:t.example:5349");
    ice = video_ice_servers(&env, "42", 1700000000);
    assert_int_equal(json_array_size(ice), 2);
    json_t *stun = json_array_get(ice, 0), *turn = json_array_get(ice, 1);
    assert_int_equal(json_array_size(json_object_get(stun, "urls")), 1);
    assert_null(json_object_get(stun, "username"));
    assert_int_equal(json_array_size(json_object_get(turn, "urls")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(turn, "urls"), 1)),
                        "turns:t.example:5349");
    assert_string_equal(json_string_value(json_object_get(turn, "username")), "1700000600:42");
    assert_string_equal(json_string_value(json_object_get(turn, "credential")),
                        "svIwti+CDZWka5EW2N2lnjpqrKg=");
    json_decref(ice);
}

static void secret_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/zyturnXXXXXX", path[64], got[VIDEO_SECRET_MAX + 1], again[sizeof got];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/turn.secret", dir);
    assert_int_equal(video_secret_load(path, got), VT_ERR); /* missing */
    assert_int_equal(video_secret_create(path), VT_OK);
    assert_int_equal(video_secret_create(path), VT_EXISTS); /* never overwritten */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(video_secret_load(path, got), VT_OK);
    assert_int_equal(strlen(got), 64);
    assert_int_equal(video_secret_load(path, again), VT_OK);
    assert_string_equal(got, again);
    assert_int_equal(chmod(path, 0644), 0); /* readable by others: refused */
    assert_int_equal(video_secret_load(path, got), VT_ERR);
    assert_string_equal(got, "");
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credential_vector),
        cmocka_unit_test(credential_refusals),
        cmocka_unit_test(ice_servers),
        cmocka_unit_test(secret_file),
    };
    return cmocka_run_group_tests_name("video_turn", tests, NULL, NULL);
}
