/* bench_crypto — cost of the ZY1 server path against SM2 decryption alone.
 *
 * Prints two lines, in microseconds, medians over many iterations:
 *   sm2_decrypt_us  one SM2 decryption of a 32-byte S (sm2_decrypt)
 *   open_seal_us    one server-side open (unwrap, derive, MAC check, payload
 *                   decrypt and parse) plus sealing of a small response
 *   sm2_decrypt_us_all_cores  the CPU time of one SM2 decryption while
 *                   every core runs them (a thread per online core, each
 *                   timing its own CPU clock): what a decryption costs on a
 *                   machine as busy as a loaded server's, where the cores
 *                   share caches, memory bandwidth and the clock budget
 * The first two are measured interleaved so that noise from other processes
 * hits both alike. The envelope is parsed once, outside the timing: parsing
 * is step 2, before any cryptography. */
#include "channel/zy1.h"
#include "foundation/clock.h"
#include "foundation/secmem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 50
#define ITERATIONS 1500

static const char PAYLOAD[] = "{\"sid\":\"s-0001\",\"cseq\":\"c-0001\",\"data\":{\"n\":1}}";
static const char ANSWER[] =
    "{\"code\":\"OK\",\"message\":\"\",\"data\":{\"n\":1},\"srvseq\":\"20261124000000001\"}";

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double median_us(uint64_t *ns, size_t n)
{
    qsort(ns, n, sizeof *ns, cmp_u64);
    return (double)ns[n / 2] / 1000.0;
}

static int one_decrypt(const sm2_key *key, const zy1_envelope *env)
{
    uint8_t S[ZY1_S_LEN];
    size_t n = 0;
    int rc = sm2_decrypt(key, env->ek, env->ek_len, ZY1_S_LEN, S, sizeof S, &n) == SM_OK ? 0 : -1;
    secmem_wipe(S, sizeof S);
    return rc;
}

static int one_open_seal(const sm2_key *key, const zy1_envelope *env, const uint8_t F[32])
{
    zy1_keys k;
    zy1_payload p = {0};
    char *body = NULL;
    size_t len = 0;
    int rc = -1;
    if (zy1_authenticate(key, "LOGIN", env, F, &k) == ZY1_OK &&
        zy1_decrypt_payload(env, &k, &p) == ZY1_OK &&
        zy1_seal_response(&k, "LOGIN", env->nonce_b64.p, 1764000000456, ANSWER, sizeof ANSWER - 1,
                          NULL, &body, &len) == ZY1_OK)
        rc = 0;
    zy1_payload_free(&p);
    zy1_keys_wipe(&k);
    free(body);
    return rc;
}

/* One thread of the all-cores figure: its CPU time per decryption. */
struct core_run {
    const sm2_key *key;
    const zy1_envelope *env;
    double us;
    int rc;
};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *core_main(void *arg)
{
    struct core_run *r = arg;
    for (int i = 0; i < WARMUP && r->rc == 0; i++)
        r->rc = one_decrypt(r->key, r->env);
    uint64_t t0 = thread_cpu_ns();
    for (int i = 0; i < ITERATIONS && r->rc == 0; i++)
        r->rc = one_decrypt(r->key, r->env);
    r->us = (double)(thread_cpu_ns() - t0) / ITERATIONS / 1000.0;
    return NULL;
}

/* The mean over the threads, or -1. */
static double all_cores_us(const sm2_key *key, const zy1_envelope *env)
{
    enum { MAX_CORES = 64 };
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > MAX_CORES ? MAX_CORES : n;
    struct core_run runs[MAX_CORES];
    pthread_t th[MAX_CORES];
    long started = 0;
    for (; started < n; started++) {
        runs[started] = (struct core_run){.key = key, .env = env};
        if (pthread_create(&th[started], NULL, core_main, &runs[started]) != 0)
            break;
    }
    double sum = 0;
    int bad = started < n;
    for (long i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        sum += runs[i].us;
        bad |= runs[i].rc != 0;
    }
    return bad ? -1 : sum / (double)started;
}

/* A sealed LOGIN request to a fresh server key, parsed. */
static int make_request(sm2_key **server, zy1_envelope *env, uint8_t F[32])
{
    uint8_t pub[SM2_PUB_LEN];
    sm2_key *pk = NULL;
    zy1_call call;
    char *body = NULL;
    size_t len = 0;
    int rc = -1;
    if (sm2_key_generate(server) != SM_OK || sm2_key_export_pub(*server, pub) != SM_OK ||
        sm2_key_from_pub(pub, &pk) != SM_OK || secmem_random(F, 32) != 0)
        goto out;
    zy1_request_params rp = {.tx = "LOGIN",
                             .kid = "k1",
                             .dev = "5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0e",
                             .F = F,
                             .ts = 1764000000123};
    if (zy1_seal_request(pk, &rp, PAYLOAD, sizeof PAYLOAD - 1, &call, &body, &len) != ZY1_OK ||
        zy1_envelope_parse(body, len, env) != ZY1_OK)
        goto out;
    rc = 0;
out:
    zy1_call_wipe(&call);
    sm2_key_free(pk);
    free(body);
    return rc;
}

int main(void)
{
    static uint64_t t_dec[ITERATIONS], t_all[ITERATIONS];
    sm2_key *server = NULL;
    zy1_envelope env = {0};
    uint8_t F[32];
    int rc = 1;
    if (sm_init() != SM_OK || make_request(&server, &env, F) != 0) {
        fprintf(stderr, "bench_crypto: setup failed\n");
        goto out;
    }
    for (int i = 0; i < WARMUP; i++)
        if (one_decrypt(server, &env) != 0 || one_open_seal(server, &env, F) != 0)
            goto out;
    for (int i = 0; i < ITERATIONS; i++) {
        uint64_t t0 = clock_mono_ns();
        one_decrypt(server, &env);
        uint64_t t1 = clock_mono_ns();
        one_open_seal(server, &env, F);
        uint64_t t2 = clock_mono_ns();
        t_dec[i] = t1 - t0;
        t_all[i] = t2 - t1;
    }
    printf("sm2_decrypt_us %.1f\n", median_us(t_dec, ITERATIONS));
    printf("open_seal_us %.1f\n", median_us(t_all, ITERATIONS));
    double all = all_cores_us(server, &env);
    if (all < 0) {
        fprintf(stderr, "bench_crypto: the all-cores run failed\n");
        goto out;
    }
    printf("sm2_decrypt_us_all_cores %.1f\n", all);
    rc = 0;
out:
    zy1_envelope_free(&env);
    sm2_key_free(server);
    secmem_wipe(F, sizeof F);
    return rc;
}
