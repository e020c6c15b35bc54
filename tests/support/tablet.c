#include "tablet.h"

#include "foundation/clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int tablet_issue_code(const struct testd *d, const char *teller, char *code, size_t cap)
{
    char *out = NULL, *err = NULL;
    int rc =
        run_zhanye(&out, &err, "activation", "issue", "--data", d->dir, "--teller", teller, NULL);
    if (rc != 0 || !out) {
        fprintf(stderr, "tablet: activation issue failed (%d): %s\n", rc, err ? err : "");
        free(out);
        free(err);
        return -1;
    }
    /* The code is alone on the last line. */
    size_t n = strlen(out);
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    rc = strlen(last) < cap ? 0 : -1;
    if (rc == 0)
        strcpy(code, last);
    free(out);
    free(err);
    return rc;
}

int tablet_new(struct tablet *t, const struct testd *d, const char *teller)
{
    memset(t, 0, sizeof *t);
    t->http = zyc_http_new();
    if (!t->http)
        return -1;
    char url[128], *resp = NULL;
    size_t len;
    long status = 0;
    snprintf(url, sizeof url, "%s/api/v1/pubkey", d->base);
    if (zyc_http_do(t->http, url, NULL, 0, &status, &resp, &len) != 0 || status != 200)
        return -1;
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    json_t *k = json_array_get(json_object_get(j, "keys"), 0);
    int rc = zyc_state_init(&t->st, d->base, json_string_value(json_object_get(k, "kid")),
                            json_string_value(json_object_get(k, "pub")), teller) == ZYC_OK
                 ? 0
                 : -1;
    json_decref(j);
    return rc;
}

int tablet_seal(struct tablet *t, const char *tx, const char *code, const char *payload,
                zy1_call *call, char **body, size_t *len)
{
    return zyc_seal(&t->st, tx, code, payload, strlen(payload), clock_wall_ms(), call, body, len) ==
                   ZY1_OK
               ? 0
               : -1;
}

int tablet_post(struct tablet *t, const char *tx, const char *body, size_t len, long *status,
                char **resp)
{
    char url[ZYC_URL_MAX + 64];
    size_t rlen;
    snprintf(url, sizeof url, "%s/api/v1/tx/%s", t->st.url, tx);
    return zyc_http_do(t->http, url, body, len, status, resp, &rlen);
}

json_t *tablet_open(const zy1_call *call, const char *resp)
{
    char *pt = NULL;
    size_t n;
    if (zyc_open(call, resp, strlen(resp), &pt, &n, NULL) != ZY1_OK)
        return NULL;
    json_t *j = json_loads(pt, 0, NULL);
    free(pt);
    return j;
}

const char *answer_code(json_t *answer)
{
    const char *c = json_string_value(json_object_get(answer, "code"));
    return c ? c : "";
}

static json_t *call_raw(struct tablet *t, const char *tx, const char *code, const char *payload,
                        long *status, json_t **plain)
{
    zy1_call call;
    char *body = NULL, *resp = NULL;
    size_t len;
    json_t *ans = NULL;
    *status = 0;
    if (plain)
        *plain = NULL;
    if (tablet_seal(t, tx, code, payload, &call, &body, &len) != 0)
        goto out;
    if (tablet_post(t, tx, body, len, status, &resp) != 0)
        goto out;
    if (*status == 200)
        ans = tablet_open(&call, resp);
    else if (plain)
        *plain = json_loads(resp, 0, NULL);
out:
    zy1_call_wipe(&call);
    free(body);
    free(resp);
    return ans;
}

json_t *tablet_call(struct tablet *t, const char *tx, const char *data, const char *cseq,
                    long *status, json_t **plain)
{
    json_error_t e;
    json_t *p = json_pack("{s:o}", "data", data ? json_loads(data, 0, &e) : json_object());
    if (!p)
        return NULL;
    if (t->sid[0] && strcmp(tx, "LOGIN") != 0)
        json_object_set_new(p, "sid", json_string(t->sid));
    if (cseq)
        json_object_set_new(p, "cseq", json_string(cseq));
    char *payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    json_t *ans = payload ? call_raw(t, tx, NULL, payload, status, plain) : NULL;
    free(payload);
    return ans;
}

int tablet_reactivate(struct tablet *t, const char *teller, const char *code, char *answer,
                      size_t cap)
{
    long status;
    json_t *plain = NULL;
    if (snprintf(t->st.tlr, sizeof t->st.tlr, "%s", teller) >= (int)sizeof t->st.tlr)
        return -1;
    json_t *ans =
        call_raw(t, ZY1_ACTIVATE_TX, code,
                 "{\"data\":{\"device\":{\"model\":\"T\",\"os\":\"linux\",\"app\":\"1\"}}}",
                 &status, &plain);
    const char *ds =
        json_string_value(json_object_get(json_object_get(ans, "data"), "device_secret"));
    if (answer && cap) {
        const char *c =
            ans ? answer_code(ans)
                : json_string_value(json_object_get(json_object_get(plain, "error"), "code"));
        snprintf(answer, cap, "%s", c ? c : "");
    }
    int rc = ds && strcmp(answer_code(ans), "OK") == 0 &&
                     zyc_state_set_device_secret(&t->st, ds) == ZYC_OK
                 ? 0
                 : -1;
    json_decref(ans);
    json_decref(plain);
    return rc;
}

int tablet_activate_code(struct tablet *t, const struct testd *d, const char *teller,
                         const char *code, char *answer, size_t cap)
{
    if (tablet_new(t, d, teller) != 0)
        return -1;
    return tablet_reactivate(t, teller, code, answer, cap);
}

int tablet_activate(struct tablet *t, const struct testd *d, const char *teller)
{
    char code[32];
    if (tablet_issue_code(d, teller, code, sizeof code) != 0)
        return -1;
    return tablet_activate_code(t, d, teller, code, NULL, 0);
}

int tablet_login(struct tablet *t, const char *teller, const char *password)
{
    char data[256];
    long status;
    snprintf(data, sizeof data, "{\"teller\":\"%s\",\"password\":\"%s\"}", teller, password);
    json_t *ans = tablet_call(t, "LOGIN", data, NULL, &status, NULL);
    const char *sid = json_string_value(json_object_get(json_object_get(ans, "data"), "sid"));
    int rc = -1;
    if (sid && strcmp(answer_code(ans), "OK") == 0 && strlen(sid) < sizeof t->sid) {
        strcpy(t->sid, sid);
        rc = 0;
    }
    json_decref(ans);
    return rc;
}

void tablet_free(struct tablet *t)
{
    zyc_http_free(t->http);
    zyc_state_wipe(&t->st);
    memset(t, 0, sizeof *t);
}

json_t *tablet_must(struct tablet *t, const char *tx, const char *data, const char *cseq)
{
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, tx, data, cseq, &st, &plain);
    if (!a) {
        char *p = json_dumps(plain, JSON_COMPACT);
        fail_msg("%s %.200s: no sealed answer (%ld %s)", tx, data ? data : "", st, p ? p : "");
    }
    json_decref(plain);
    return a;
}

void answer_expect(json_t *answer, const char *code)
{
    if (strcmp(answer_code(answer), code) != 0) {
        char *t = json_dumps(answer, JSON_COMPACT);
        if (t && strlen(t) > 600)
            t[600] = '\0';
        fail_msg("want %s, got %s", code, t ? t : "(null)");
    }
}

json_t *answer_data(json_t *answer)
{
    return json_object_get(answer, "data");
}

const char *answer_str(json_t *answer, const char *key)
{
    return json_string_value(json_object_get(answer_data(answer), key));
}
