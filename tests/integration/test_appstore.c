/* The app store (docs/api.md §1.21e, §2.3 "App store") on the real daemon
 * with real ZY1 envelopes and the real console API:
 *   - only a province admin uploads (a bank admin 403, no session 401, a
 *     JSON body 415, bad metadata 400, a body over [appstore]
 *     max_package_bytes 413); the upload is hashed and signed by the
 *     server (the client library verifies it under the pinned key),
 *     audited, listed;
 *   - APP_LATEST offers the newest package targeted at the device's bank
 *     or branch, never another bank's; forced below min_version; a rollout
 *     answers each device the same every time, as the bucket function
 *     says; a non-compliant device still gets its answer;
 *   - a download token opens its package only, not another, not once
 *     expired or altered; Range gives 206 with Content-Range, a range past
 *     the end 416, HEAD the size; a withdrawn package is offered to no one
 *     and downloads 404;
 *   - `zhanye call app-latest --out` downloads, is cut, resumes with Range
 *     and verifies the whole; altered bytes or signature are refused. */
#include "appstore/dltoken.h"
#include "appstore/rollout.h"
#include "channel/sm.h"
#include "console.h"
#include "data/store.h"
#include "foundation/codec.h"
#include "identity/kek.h"
#include "tablet.h"
#include "testd.h"
#include "zyc_pkg.h"

#include <curl/curl.h>
#include <limits.h>
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

#define PW "Demo@1234"
#define BIG (300 * 1024)
#define DL 60000 /* under the 64K limit of the test's config */

static struct testd D;
static struct tablet T1; /* demo01, B01/01 */
static struct tablet T3; /* demo03, B02/01 */
static struct console PROV, BANK;
static struct store *DB;
static uint8_t PKG[BIG];

#define REPORT(rooted)                                                                             \
    "{\"os\":\"Android "                                                                           \
    "12\",\"app_version\":\"1.0.0\",\"apps\":[],\"security\":{\"rooted\":" rooted                  \
    ",\"usb_debug\":false,\"screen_lock\":true,\"encrypted\":true},"                               \
    "\"network\":{\"wifi_ssid\":\"BANK\"}}"

/* ---- HTTP helpers ----------------------------------------------------------------- */

struct got {
    char *body;
    size_t len;
    char content_range[96];
    char content_length[32];
};

static size_t on_body(char *d, size_t size, size_t nmemb, void *user)
{
    struct got *g = user;
    size_t n = size * nmemb;
    char *p = realloc(g->body, g->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + g->len, d, n);
    g->len += n;
    p[g->len] = '\0';
    g->body = p;
    return n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0)
        return;
    const char *v = line + k;
    size_t vn = n - k;
    while (vn && (*v == ' '))
        v++, vn--;
    while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n'))
        vn--;
    snprintf(out, cap, "%.*s", (int)vn, v);
}

static size_t on_header(char *d, size_t size, size_t nmemb, void *user)
{
    struct got *g = user;
    size_t n = size * nmemb;
    header_value(d, n, "Content-Range:", g->content_range, sizeof g->content_range);
    header_value(d, n, "Content-Length:", g->content_length, sizeof g->content_length);
    return n;
}

/* One request: method, D.base + path, up to two header lines, a body. */
static long request(const char *method, const char *path, const char *h1, const char *h2,
                    const void *body, size_t len, struct got *g)
{
    char url[1024];
    long status = 0;
    memset(g, 0, sizeof *g);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (h1)
        h = curl_slist_append(h, h1);
    if (h2)
        h = curl_slist_append(h, h2);
    snprintf(url, sizeof url, "%s%s", D.base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void got_free(struct got *g)
{
    free(g->body);
    g->body = NULL;
}

/* POST the bytes as a package with the console's session; the answer's JSON into *out. */
static long upload_as(struct console *c, const char *query, const void *bytes, size_t n,
                      const char *ctype, json_t **out)
{
    char path[1024], cookie[128], csrf[128], hdr[160];
    struct got g;
    snprintf(path, sizeof path, "/api/v1/admin/store/packages?%s", query);
    snprintf(cookie, sizeof cookie, "Cookie: zs=%s", c->cookie);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", c->csrf);
    /* curl takes one list of headers: the cookie and CSRF token in one call. */
    char both[300];
    snprintf(both, sizeof both, "%s", cookie);
    snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
    CURL *cu = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    h = curl_slist_append(h, both);
    h = curl_slist_append(h, csrf);
    h = curl_slist_append(h, hdr);
    char url[1100];
    long status = 0;
    memset(&g, 0, sizeof g);
    snprintf(url, sizeof url, "%s%s", D.base, path);
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDS, bytes);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    if (curl_easy_perform(cu) == CURLE_OK)
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(cu);
    if (out)
        *out = g.body ? json_loads(g.body, 0, NULL) : NULL;
    got_free(&g);
    return status;
}

/* Uploads PKG[0..n) (first byte set to tag, so each package differs) as
 * a province admin; the new package's id. */
static int64_t upload(const char *query, size_t n, uint8_t tag)
{
    json_t *a = NULL;
    PKG[0] = tag;
    long st = upload_as(&PROV, query, PKG, n, "application/octet-stream", &a);
    if (st != 201) {
        char *t = json_dumps(a, JSON_COMPACT);
        fail_msg("upload %s: %ld %s", query, st, t ? t : "");
    }
    int64_t id = json_integer_value(json_object_get(json_object_get(a, "package"), "id"));
    json_decref(a);
    assert_true(id > 0);
    return id;
}

static json_t *latest(struct tablet *t, const char *app, const char *version)
{
    char data[256];
    long st = 0;
    snprintf(data, sizeof data, "{\"app\":\"%s\",\"version\":\"%s\"}", app, version);
    json_t *a = tablet_call(t, "APP_LATEST", data, NULL, &st, NULL);
    if (!a)
        fail_msg("APP_LATEST: no sealed answer (%ld)", st);
    if (strcmp(answer_code(a), "OK") != 0)
        fail_msg("APP_LATEST: %s", answer_code(a));
    return a;
}

static json_t *data_of(json_t *a)
{
    return json_object_get(a, "data");
}

static bool offered(struct tablet *t, const char *app, const char *version, int64_t *id)
{
    json_t *a = latest(t, app, version);
    bool up = json_is_true(json_object_get(data_of(a), "update"));
    if (id)
        *id = json_integer_value(json_object_get(json_object_get(data_of(a), "package"), "id"));
    json_decref(a);
    return up;
}

static int64_t audit_count(const char *event)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELECT COUNT(*) FROM audit_log WHERE event = ?", &s),
                     STORE_OK);
    store_bind_text(s, 1, event);
    if (store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_upload_rules(void **state)
{
    (void)state;
    json_t *a = NULL;
    /* a bank admin may not upload */
    assert_int_equal(upload_as(&BANK, "app=t.up&kind=h5&version=1.0.0", PKG, 1000,
                               "application/octet-stream", &a),
                     403);
    assert_string_equal(console_err(a), "forbidden");
    json_decref(a);
    /* no session */
    struct console anon = {.d = &D};
    assert_int_equal(upload_as(&anon, "app=t.up&kind=h5&version=1.0.0", PKG, 1000,
                               "application/octet-stream", &a),
                     401);
    json_decref(a);
    /* the body is the package, not JSON */
    assert_int_equal(
        upload_as(&PROV, "app=t.up&kind=h5&version=1.0.0", "{}", 2, "application/json", &a), 415);
    json_decref(a);
    /* bad metadata */
    const char *bad[] = {"app=T&kind=h5&version=1.0.0",
                         "app=t.up&kind=zip&version=1.0.0",
                         "app=t.up&kind=h5&version=1.0.x",
                         "app=t.up&kind=h5&version=1.0.0&min_version=2.0.0",
                         "app=t.up&kind=h5&version=1.0.0&rollout=101",
                         "app=t.up&kind=h5&version=1.0.0&banks=B99",
                         "app=t.up&kind=h5&version=1.0.0&branches=B01",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        long st = upload_as(&PROV, bad[i], PKG, 1000, "application/octet-stream", &a);
        if (st != 400)
            fail_msg("%s: %ld, not 400", bad[i], st);
        assert_string_equal(console_err(a), "bad_request");
        json_decref(a);
    }
    /* over [appstore] max_package_bytes (64K here): 413 before the body */
    assert_int_equal(upload_as(&PROV, "app=t.up&kind=h5&version=1.0.0", PKG, BIG,
                               "application/octet-stream", &a),
                     413);
    json_decref(a);

    /* a good one: hashed and signed by the server, under the pinned key */
    int64_t before = audit_count("store.package_added");
    PKG[0] = 1;
    assert_int_equal(upload_as(&PROV, "app=t.up&kind=apk&version=1.2.3&notes=%E4%BF%AE%E5%A4%8D",
                               PKG, 50000, "application/octet-stream", &a),
                     201);
    json_t *p = json_object_get(a, "package");
    uint8_t h[SM3_LEN];
    char hex[65];
    sm_part part = {PKG, 50000};
    assert_int_equal(sm3_digest(&part, 1, h), SM_OK);
    hex_encode(h, SM3_LEN, hex, sizeof hex);
    assert_string_equal(json_string_value(json_object_get(p, "sm3")), hex);
    assert_int_equal(json_integer_value(json_object_get(p, "size")), 50000);
    assert_string_equal(json_string_value(json_object_get(p, "notes")), "修复");
    assert_string_equal(json_string_value(json_object_get(p, "target")), "all");
    assert_int_equal(json_integer_value(json_object_get(p, "rollout_percent")), 100);
    assert_int_equal(zyc_pkg_verify_mem(T1.st.pub_b64, PKG, 50000, hex,
                                        json_string_value(json_object_get(p, "signature"))),
                     ZYC_PKG_OK);
    assert_int_equal(audit_count("store.package_added"), before + 1);
    char kept[PATH_MAX + 80];
    snprintf(kept, sizeof kept, "%s/store/%s", D.dir, hex);
    assert_int_equal(access(kept, F_OK), 0); /* content-addressed under the data directory */
    /* the same version again: 409 exists, and its bytes are not kept */
    json_decref(a);
    PKG[0] = 99;
    assert_int_equal(upload_as(&PROV, "app=t.up&kind=apk&version=1.2.3", PKG, 1000,
                               "application/octet-stream", &a),
                     409);
    json_decref(a);
    char orphan[PATH_MAX + 80];
    sm_part refused = {PKG, 1000};
    assert_int_equal(sm3_digest(&refused, 1, h), SM_OK);
    hex_encode(h, SM3_LEN, hex, sizeof hex);
    snprintf(orphan, sizeof orphan, "%s/store/%s", D.dir, hex);
    assert_int_equal(access(orphan, F_OK), -1);
    /* listed */
    assert_int_equal(console_get(&PROV, "/api/v1/admin/store/packages", &a), 200);
    assert_true(json_array_size(json_object_get(a, "packages")) >= 1);
    json_decref(a);
    assert_int_equal(console_get(&BANK, "/api/v1/admin/store/packages", &a), 403);
    json_decref(a);
}

static void test_targets_and_isolation(void **state)
{
    (void)state;
    upload("app=t.iso&kind=h5&version=2.0.0&banks=B02", 1000, 2);
    assert_false(offered(&T1, "t.iso", "1.0.0", NULL)); /* B01 never sees B02's package */
    assert_true(offered(&T3, "t.iso", "1.0.0", NULL));
    json_t *a = latest(&T1, "t.iso", "1.0.0");
    assert_true(json_is_null(json_object_get(data_of(a), "package")));
    json_decref(a);
    /* a branch target: B01's branch 02 only, then B01's branch 01 */
    upload("app=t.br&kind=h5&version=1.1.0&branches=B01/02", 1000, 3);
    assert_false(offered(&T1, "t.br", "1.0.0", NULL));
    assert_false(offered(&T3, "t.br", "1.0.0", NULL));
    int64_t id = upload("app=t.br&kind=h5&version=1.0.5&branches=B01/01,B02/02", 1000, 4);
    int64_t got = 0;
    assert_true(offered(&T1, "t.br", "1.0.0", &got));
    assert_int_equal(got, id); /* the newest that targets it, not the newer of branch 02 */
    assert_false(offered(&T3, "t.br", "1.0.0", NULL));
    /* the newest wins; the device's own version or above: no update */
    int64_t v3 = upload("app=t.iso&kind=h5&version=3.0.0", 1000, 5);
    assert_true(offered(&T1, "t.iso", "2.5", &got));
    assert_int_equal(got, v3);
    assert_false(offered(&T1, "t.iso", "3.0.0", NULL));
    assert_false(offered(&T1, "t.none", "1.0.0", NULL));
    /* a bad version */
    long st = 0;
    a = tablet_call(&T1, "APP_LATEST", "{\"app\":\"t.iso\",\"version\":\"v1\"}", NULL, &st, NULL);
    assert_non_null(a);
    assert_string_equal(answer_code(a), "bad_request");
    json_decref(a);
}

static void test_forced(void **state)
{
    (void)state;
    upload("app=t.force&kind=apk&version=3.0.0&min_version=2.0.0", 1000, 6);
    json_t *a = latest(&T1, "t.force", "1.5.0");
    assert_true(json_is_true(json_object_get(data_of(a), "update")));
    assert_true(json_is_true(json_object_get(data_of(a), "forced")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(data_of(a), "package"), "min_version")),
        "2.0.0");
    json_decref(a);
    a = latest(&T1, "t.force", "2.0.0");
    assert_true(json_is_true(json_object_get(data_of(a), "update")));
    assert_false(json_is_true(json_object_get(data_of(a), "forced")));
    json_decref(a);
    a = latest(&T1, "t.force", "3.0.0");
    assert_false(json_is_true(json_object_get(data_of(a), "update")));
    assert_false(json_is_true(json_object_get(data_of(a), "forced")));
    json_decref(a);
}

static void test_rollout(void **state)
{
    (void)state;
    int64_t id = upload("app=t.roll&kind=h5&version=1.0.0&rollout=30", 1000, 7);
    struct tablet *ts[] = {&T1, &T3};
    for (int i = 0; i < 2; i++) {
        bool want = pkg_rollout_includes(id, ts[i]->st.dev, 30);
        for (int k = 0; k < 3; k++) /* the same device, the same answer */
            assert_int_equal(offered(ts[i], "t.roll", "0.1.0", NULL), want);
    }
    upload("app=t.none0&kind=h5&version=1.0.0&rollout=0", 1000, 8);
    assert_false(offered(&T1, "t.none0", "0.1.0", NULL));
    assert_false(offered(&T3, "t.none0", "0.1.0", NULL));
}

static void test_noncompliant_device_still_updates(void **state)
{
    (void)state;
    upload("app=t.mdm&kind=h5&version=1.0.0", 1000, 9);
    long st = 0;
    json_t *a = tablet_call(&T3, "DEVICE_CHECKIN", REPORT("true"), NULL, &st, NULL);
    assert_non_null(a);
    assert_false(json_is_true(json_object_get(data_of(a), "compliant")));
    json_decref(a);
    a = tablet_call(&T3, "CUSTOMER_SEARCH", "{\"name\":\"张\"}", NULL, &st, NULL);
    assert_non_null(a);
    assert_string_equal(answer_code(a), "device_noncompliant");
    json_decref(a);
    assert_true(offered(&T3, "t.mdm", "0.1.0", NULL)); /* the store stays open */
    a = tablet_call(&T3, "DEVICE_CHECKIN", REPORT("false"), NULL, &st, NULL);
    assert_true(json_is_true(json_object_get(data_of(a), "compliant")));
    json_decref(a);
}

static const char *pkg_url(json_t *a)
{
    return json_string_value(json_object_get(json_object_get(data_of(a), "package"), "url"));
}

static void test_download(void **state)
{
    (void)state;
    int64_t ida = upload("app=t.dl&kind=apk&version=1.0.0", DL, 10);
    int64_t idb = upload("app=t.dl2&kind=apk&version=1.0.0", 1000, 11);
    json_t *a = latest(&T1, "t.dl", "0.1.0");
    const char *url = pkg_url(a);
    assert_non_null(url);
    struct got g;
    /* the whole */
    assert_int_equal(request("GET", url, NULL, NULL, NULL, 0, &g), 200);
    assert_int_equal(g.len, DL);
    PKG[0] = 10;
    assert_memory_equal(g.body, PKG, DL);
    got_free(&g);
    /* one range: 206 with Content-Range */
    assert_int_equal(request("GET", url, "Range: bytes=100-199", NULL, NULL, 0, &g), 206);
    assert_int_equal(g.len, 100);
    assert_memory_equal(g.body, PKG + 100, 100);
    char want[96];
    snprintf(want, sizeof want, "bytes 100-199/%d", DL);
    assert_string_equal(g.content_range, want);
    got_free(&g);
    assert_int_equal(request("GET", url, "Range: bytes=-10", NULL, NULL, 0, &g), 206);
    assert_memory_equal(g.body, PKG + DL - 10, 10);
    got_free(&g);
    /* past the end: 416 with the size */
    char range[64];
    snprintf(range, sizeof range, "Range: bytes=%d-", DL);
    assert_int_equal(request("GET", url, range, NULL, NULL, 0, &g), 416);
    snprintf(want, sizeof want, "bytes */%d", DL);
    assert_string_equal(g.content_range, want);
    got_free(&g);
    /* HEAD: the size, no body */
    assert_int_equal(request("HEAD", url, NULL, NULL, NULL, 0, &g), 200);
    assert_int_equal(atoi(g.content_length), DL);
    assert_int_equal(g.len, 0);
    got_free(&g);

    /* A's token on B's path */
    const char *tok = strstr(url, "token=");
    assert_non_null(tok);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/store/packages/%lld?%s", (long long)idb, tok);
    assert_int_equal(request("GET", path, NULL, NULL, NULL, 0, &g), 403);
    assert_non_null(strstr(g.body, "store_token_invalid"));
    got_free(&g);
    /* no token, an altered one */
    snprintf(path, sizeof path, "/api/v1/store/packages/%lld", (long long)ida);
    assert_int_equal(request("GET", path, NULL, NULL, NULL, 0, &g), 403);
    got_free(&g);
    snprintf(path, sizeof path, "%s", url);
    path[strlen(path) - 1] = path[strlen(path) - 1] == '0' ? '1' : '0';
    assert_int_equal(request("GET", path, NULL, NULL, NULL, 0, &g), 403);
    got_free(&g);
    /* expired: minted with the daemon's own key (from its KEK), in the past */
    char kp[PATH_MAX + 32], keys[PATH_MAX + 8], t[DLTOKEN_MAX + 1];
    struct kek k;
    uint8_t key[DLTOKEN_KEY_LEN];
    snprintf(keys, sizeof keys, "%s/keys", D.dir);
    assert_int_equal(kek_path(keys, kp, sizeof kp), 0);
    assert_int_equal(kek_load(kp, &k), 0);
    assert_int_equal(dltoken_key_derive(k.mac, key), 0);
    kek_wipe(&k);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(dltoken_mint(key, ida, T1.st.dev, now - 5, t), 0);
    snprintf(path, sizeof path, "/api/v1/store/packages/%lld?token=%s", (long long)ida, t);
    assert_int_equal(request("GET", path, NULL, NULL, NULL, 0, &g), 403);
    got_free(&g);
    assert_int_equal(dltoken_mint(key, ida, T1.st.dev, now + 60, t), 0); /* the same key: live */
    snprintf(path, sizeof path, "/api/v1/store/packages/%lld?token=%s", (long long)ida, t);
    assert_int_equal(request("GET", path, "Range: bytes=0-0", NULL, NULL, 0, &g), 206);
    got_free(&g);

    /* withdrawn: offered to no one, and the live token downloads nothing */
    char body[64];
    json_t *w = NULL;
    int64_t before = audit_count("store.package_withdrawn");
    snprintf(body, sizeof body, "{\"id\":%lld}", (long long)ida);
    assert_int_equal(console_post(&BANK, "/api/v1/admin/store/packages/withdraw", body, &w), 403);
    json_decref(w);
    assert_int_equal(console_post(&PROV, "/api/v1/admin/store/packages/withdraw", body, &w), 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(w, "package"), "state")),
                        "withdrawn");
    json_decref(w);
    assert_int_equal(console_post(&PROV, "/api/v1/admin/store/packages/withdraw", body, &w), 409);
    json_decref(w);
    assert_int_equal(audit_count("store.package_withdrawn"), before + 1);
    assert_false(offered(&T1, "t.dl", "0.1.0", NULL));
    assert_int_equal(request("GET", url, NULL, NULL, NULL, 0, &g), 404);
    got_free(&g);
    json_decref(a);
}

/* ---- the reference client: zhanye call ---------------------------------------------- */

static void cli_device(const char *state)
{
    char code[32], *out = NULL, data[128];
    assert_int_equal(tablet_issue_code(&D, "demo02", code, sizeof code), 0);
    assert_int_equal(run_zhanye(NULL, NULL, "call", "--state", state, "--server", D.base,
                                "--activate", code, "--teller", "demo02", NULL),
                     0);
    snprintf(data, sizeof data, "{\"teller\":\"demo02\",\"password\":\"%s\"}", PW);
    assert_int_equal(
        run_zhanye(&out, NULL, "call", "--state", state, "LOGIN", "--data", data, NULL), 0);
    free(out);
}

static void test_cli_resume_and_verify(void **state)
{
    (void)state;
    char st[PATH_MAX + 32], file[PATH_MAX + 32], *out = NULL, *err = NULL;
    snprintf(st, sizeof st, "%s/cli-device.json", D.dir);
    snprintf(file, sizeof file, "%s/cli-package.apk", D.dir);
    cli_device(st);
    upload("app=t.cli&kind=apk&version=2.0.0", 60000, 12);
    PKG[0] = 12;
    /* cut after 20000 bytes: exit 1, what came is kept */
    assert_int_equal(run_zhanye(&out, &err, "call", "--state", st, "app-latest", "--app", "t.cli",
                                "--version", "1.0.0", "--out", file, "--stop-after", "20000", NULL),
                     1);
    free(out);
    free(err);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_size, 20000);
    /* again: resumed at 20000 with Range, the whole verified */
    int rc = run_zhanye(&out, &err, "call", "--state", st, "app-latest", "--app", "t.cli",
                        "--version", "1.0.0", "--out", file, NULL);
    if (rc != 0 || !strstr(out, "download: resumed at 20000") || !strstr(out, "verified:"))
        fail_msg("resume: exit %d\n%s\n%s", rc, out ? out : "", err ? err : "");
    json_t *ans = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    free(out);
    free(err);
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    static uint8_t back[60000];
    assert_int_equal(fread(back, 1, sizeof back, f), sizeof back);
    fclose(f);
    assert_memory_equal(back, PKG, sizeof back);

    json_t *p = json_object_get(data_of(ans), "package");
    const char *sm3 = json_string_value(json_object_get(p, "sm3"));
    const char *sig = json_string_value(json_object_get(p, "signature"));
    assert_non_null(sm3);
    assert_non_null(sig);
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", st, "app-verify", "--file", file,
                                "--sm3", sm3, "--signature", sig, NULL),
                     0);
    free(out);
    /* the signature altered: refused */
    char bad[160];
    snprintf(bad, sizeof bad, "%s", sig);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", st, "app-verify", "--file", file,
                                "--sm3", sm3, "--signature", bad, NULL),
                     1);
    assert_non_null(strstr(out, "refused"));
    free(out);
    /* one byte of the package altered: refused */
    f = fopen(file, "r+b");
    fseek(f, 30000, SEEK_SET);
    fputc(back[30000] ^ 0x01, f);
    fclose(f);
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", st, "app-verify", "--file", file,
                                "--sm3", sm3, "--signature", sig, NULL),
                     1);
    assert_non_null(strstr(out, "refused"));
    free(out);
    json_decref(ans);
}

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, "[appstore]\nmax_package_bytes = 64K\n") || testd_start(&D) ||
        testd_store_open(&D, &DB))
        return -1;
    for (size_t i = 0; i < sizeof PKG; i++)
        PKG[i] = (uint8_t)(i * 131 + (i >> 8));
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    if (console_login(&PROV, &D, "prov01", PW) != 200 ||
        console_login(&BANK, &D, "admin01", PW) != 200)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    store_close(DB);
    testd_stop(&D);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_rules),
        cmocka_unit_test(test_targets_and_isolation),
        cmocka_unit_test(test_forced),
        cmocka_unit_test(test_rollout),
        cmocka_unit_test(test_noncompliant_device_still_updates),
        cmocka_unit_test(test_download),
        cmocka_unit_test(test_cli_resume_and_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
