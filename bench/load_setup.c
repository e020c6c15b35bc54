/* zhanye-load, before the clock starts: devices of its own, then the pool of
 * sealed envelopes. Sealing costs the client two SM2 operations, more than
 * the server spends opening, so it is all done ahead, on every core. */
#include "foundation/clock.h"
#include "load.h"
#include "zyc_http.h"

#include <jansson.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SEAL_THREADS_MAX 64

const char *load_kind_name(enum load_kind k)
{
    switch (k) {
    case K_SESSION_INFO:
        return "SESSION_INFO";
    case K_SESSION_INFO_CSEQ:
        return "SESSION_INFO+cseq";
    default:
        return "LOGIN";
    }
}

/* --- the CLI ------------------------------------------------------------------ */

/* Runs argv; its stdout (malloc'd) into *out if out. Returns the exit status. */
static int run_cli(char *const argv[], char **out)
{
    int po[2];
    if (pipe(po) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    size_t cap = 4096, len = 0;
    char *buf = rc == 0 ? malloc(cap) : NULL;
    ssize_t n;
    while (buf && (n = read(po[0], buf + len, cap - len - 1)) > 0)
        len += (size_t)n; /* the CLI prints a few lines: 4 KiB is plenty */
    close(po[0]);
    if (buf)
        buf[len] = '\0';
    int st = -1;
    if (rc == 0 && waitpid(pid, &st, 0) == pid)
        st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (out)
        *out = buf;
    else
        free(buf);
    return rc == 0 ? st : -1;
}

/* teller add; an existing teller of that code is fine (a rerun). */
static int add_teller(const struct load_opts *o, const char *code)
{
    char *argv[] = {(char *)o->zhanye,
                    "teller",
                    "add",
                    "--data",
                    (char *)o->data,
                    "--bank",
                    "B01",
                    "--branch",
                    "01",
                    "--code",
                    (char *)code,
                    "--name",
                    "load",
                    "--role",
                    "client_manager",
                    "--password",
                    (char *)o->password,
                    NULL};
    int rc = run_cli(argv, NULL);
    if (rc != 0)
        fprintf(stderr, "zhanye-load: teller add %s: exit %d (kept going)\n", code, rc);
    return 0;
}

/* activation issue: the code is alone on the last line. */
static int issue_code(const struct load_opts *o, const char *teller, char *code, size_t cap)
{
    char *argv[] = {(char *)o->zhanye, "activation", "issue",        "--data",
                    (char *)o->data,   "--teller",   (char *)teller, NULL};
    char *out = NULL;
    int rc = run_cli(argv, &out);
    if (rc == 0 && out) {
        size_t n = strlen(out);
        while (n && out[n - 1] == '\n')
            out[--n] = '\0';
        const char *last = strrchr(out, '\n');
        last = last ? last + 1 : out;
        rc = strlen(last) < cap ? 0 : -1;
        if (rc == 0)
            snprintf(code, cap, "%s", last);
    }
    if (rc != 0)
        fprintf(stderr, "zhanye-load: activation issue for %s failed\n", teller);
    free(out);
    return rc == 0 ? 0 : -1;
}

/* --- ZY1 over zyc_http -------------------------------------------------------------- */

/* Seals, posts and opens one call; the answer's data member, or NULL. */
static json_t *call(struct zyc_http *h, const struct load_opts *o, const zyc_state *st,
                    const char *tx, const char *code, const char *payload)
{
    zy1_call c;
    char *body = NULL, *resp = NULL, *pt = NULL, url[256];
    size_t len, rlen, ptlen;
    long status = 0;
    json_t *ans = NULL, *data = NULL;
    snprintf(url, sizeof url, "%s/api/v1/tx/%s", o->url, tx);
    if (zyc_seal(st, tx, code, payload, strlen(payload), clock_wall_ms(), &c, &body, &len) ==
            ZY1_OK &&
        zyc_http_do(h, url, body, len, &status, &resp, &rlen) == 0 && status == 200 &&
        zyc_open(&c, resp, rlen, &pt, &ptlen, NULL) == ZY1_OK)
        ans = json_loadb(pt, ptlen, 0, NULL);
    const char *ac = json_string_value(json_object_get(ans, "code"));
    if (ac && strcmp(ac, "OK") == 0)
        data = json_incref(json_object_get(ans, "data"));
    else
        fprintf(stderr, "zhanye-load: %s: HTTP %ld %s\n", tx, status, ac ? ac : resp ? resp : "");
    json_decref(ans);
    zy1_call_wipe(&c);
    free(body);
    free(resp);
    free(pt);
    return data;
}

static int server_key(struct zyc_http *h, const struct load_opts *o, char *kid, size_t kcap,
                      char *pub, size_t pcap)
{
    char url[256], *resp = NULL;
    size_t len;
    long status = 0;
    snprintf(url, sizeof url, "%s/api/v1/pubkey", o->url);
    int rc = -1;
    if (zyc_http_do(h, url, NULL, 0, &status, &resp, &len) == 0 && status == 200) {
        json_t *j = json_loads(resp, 0, NULL);
        json_t *k = json_array_get(json_object_get(j, "keys"), 0);
        const char *jk = json_string_value(json_object_get(k, "kid"));
        const char *jp = json_string_value(json_object_get(k, "pub"));
        if (jk && jp && strlen(jk) < kcap && strlen(jp) < pcap) {
            snprintf(kid, kcap, "%s", jk);
            snprintf(pub, pcap, "%s", jp);
            rc = 0;
        }
        json_decref(j);
    }
    free(resp);
    if (rc)
        fprintf(stderr, "zhanye-load: no server key from %s\n", url);
    return rc;
}

static int activate(struct zyc_http *h, const struct load_opts *o, struct load_device *d)
{
    char code[32];
    if (issue_code(o, d->code, code, sizeof code) != 0)
        return -1;
    json_t *data = call(h, o, &d->st, ZY1_ACTIVATE_TX, code,
                        "{\"data\":{\"device\":{\"model\":\"zhanye-load\",\"os\":\"linux\","
                        "\"app\":\"1\"}}}");
    const char *ds = json_string_value(json_object_get(data, "device_secret"));
    int rc = ds && zyc_state_set_device_secret(&d->st, ds) == ZYC_OK ? 0 : -1;
    json_decref(data);
    return rc;
}

static int login(struct zyc_http *h, const struct load_opts *o, struct load_device *d)
{
    char payload[256];
    snprintf(payload, sizeof payload, "{\"data\":{\"teller\":\"%s\",\"password\":\"%s\"}}", d->code,
             o->password);
    json_t *data = call(h, o, &d->st, "LOGIN", NULL, payload);
    const char *sid = json_string_value(json_object_get(data, "sid"));
    int rc = sid && strlen(sid) < sizeof d->sid ? 0 : -1;
    if (rc == 0)
        snprintf(d->sid, sizeof d->sid, "%s", sid);
    json_decref(data);
    return rc;
}

int load_make_devices(const struct load_opts *o, struct load_device *devs, int n, int nlogin)
{
    char kid[ZY1_ID_MAX + 1], pub[ZYC_PUB_B64_LEN + 1];
    struct zyc_http *h = zyc_http_new();
    int rc = h ? server_key(h, o, kid, sizeof kid, pub, sizeof pub) : -1;
    for (int i = 0; rc == 0 && i < n + nlogin; i++) {
        struct load_device *d = &devs[i];
        snprintf(d->code, sizeof d->code, "%s%03d", o->prefix, i);
        if (add_teller(o, d->code) != 0 ||
            zyc_state_init(&d->st, o->url, kid, pub, d->code) != ZYC_OK || activate(h, o, d) != 0 ||
            login(h, o, d) != 0) {
            fprintf(stderr, "zhanye-load: device for teller %s failed\n", d->code);
            rc = -1;
        }
    }
    zyc_http_free(h);
    return rc;
}

/* --- the pool ---------------------------------------------------------------------- */

/* The kind of request i: smooth weighted round robin, so every stretch of
 * the pool has the mix's proportions. */
static void assign_kinds(const struct load_mix *m, struct load_req *reqs, size_t n)
{
    int64_t cur[LOAD_MAX_MIX] = {0}, total = 0;
    for (int k = 0; k < m->n; k++)
        total += m->weight[k];
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int k = 0; k < m->n; k++) {
            cur[k] += m->weight[k];
            if (cur[k] > cur[best])
                best = k;
        }
        cur[best] -= total;
        reqs[i].kind = m->kind[best];
    }
}

struct sealer {
    const struct load_opts *o;
    struct load_device *devs;
    int n, nlogin;
    struct load_req *reqs;
    size_t nreqs, first, step;
    int failed;
};

static int seal_one(const struct sealer *s, size_t i)
{
    struct load_req *r = &s->reqs[i];
    bool login = r->kind == K_LOGIN;
    struct load_device *d =
        login ? &s->devs[s->n + (int)(i % (size_t)s->nlogin)] : &s->devs[i % (size_t)s->n];
    const char *tx = login ? "LOGIN" : "SESSION_INFO";
    char payload[512], head[256], *body = NULL;
    size_t len = 0;
    if (login)
        snprintf(payload, sizeof payload, "{\"data\":{\"teller\":\"%s\",\"password\":\"%s\"}}",
                 d->code, s->o->password);
    else if (r->kind == K_SESSION_INFO_CSEQ)
        snprintf(payload, sizeof payload, "{\"sid\":\"%s\",\"cseq\":\"L%d-%zu\",\"data\":{}}",
                 d->sid, (int)getpid(), i);
    else
        snprintf(payload, sizeof payload, "{\"sid\":\"%s\",\"data\":{}}", d->sid);
    if (zyc_seal(&d->st, tx, NULL, payload, strlen(payload), clock_wall_ms(), &r->call, &body,
                 &len) != ZY1_OK)
        return -1;
    int hl = snprintf(head, sizeof head,
                      "POST /api/v1/tx/%s HTTP/1.1\r\nHost: %s:%d\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      tx, s->o->host, s->o->port, len);
    r->wire = hl > 0 && (size_t)hl < sizeof head ? malloc((size_t)hl + len) : NULL;
    if (r->wire) {
        memcpy(r->wire, head, (size_t)hl);
        memcpy(r->wire + hl, body, len);
        r->wire_len = (size_t)hl + len;
    }
    free(body);
    return r->wire ? 0 : -1;
}

static void *seal_main(void *arg)
{
    struct sealer *s = arg;
    for (size_t i = s->first; i < s->nreqs && !s->failed; i += s->step)
        if (seal_one(s, i) != 0)
            s->failed = 1;
    return NULL;
}

int load_seal_pool(const struct load_opts *o, struct load_device *devs, int n, int nlogin,
                   struct load_req **out)
{
    struct load_req *reqs = calloc(o->pool, sizeof *reqs);
    if (!reqs)
        return -1;
    assign_kinds(&o->mix, reqs, o->pool);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cores < 1 ? 1 : cores > SEAL_THREADS_MAX ? SEAL_THREADS_MAX : (size_t)cores;
    struct sealer s[SEAL_THREADS_MAX];
    pthread_t th[SEAL_THREADS_MAX];
    int failed = 0;
    for (size_t t = 0; t < nt; t++) {
        s[t] = (struct sealer){o, devs, n, nlogin, reqs, o->pool, t, nt, 0};
        if (pthread_create(&th[t], NULL, seal_main, &s[t]) != 0) {
            nt = t;
            failed = 1;
        }
    }
    for (size_t t = 0; t < nt; t++) {
        pthread_join(th[t], NULL);
        failed |= s[t].failed;
    }
    if (failed) {
        fprintf(stderr, "zhanye-load: sealing the pool failed\n");
        load_free_pool(reqs, o->pool);
        return -1;
    }
    *out = reqs;
    return 0;
}

void load_free_pool(struct load_req *reqs, size_t n)
{
    for (size_t i = 0; reqs && i < n; i++) {
        zy1_call_wipe(&reqs[i].call);
        free(reqs[i].wire);
    }
    free(reqs);
}
