/* fuzz_open — the server's open path on arbitrary bodies: parse, unwrap with
 * the fixed key of the spec's test vectors, MAC check with the vectors' DS
 * (or activation F when the body carries tlr), payload decryption. Inputs
 * whose MAC fails are decrypted with the vector keys anyway, so that mutated
 * ct still reaches the padding and payload checks. */
#include "channel/zy1.h"
#include "foundation/codec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* spec/secure-channel-vectors.json: sm2.private_key_sec1_der_b64, keys.*,
 * activation.F. Test data only. */
static const char KEY_B64[] =
    "MHcCAQEEIDlFII97IUSxPzbjisbTn5WIk5NpKGC1GkL7ge9N98W4oAoGCCqBHM9VAYItoUQDQgAECfnfMR5UIaFQ3X0W"
    "HkvFxnIXn60YM/wHa7CP81bzUCDM6kkM4md1pS3G6nGMwapgCu0F+/NeCEpmMvYHLamtEw==";
static const char DS_HEX[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
static const char F_ACT_HEX[] = "f923210eacf235ce2b76eb370831d0962e1d7e5320203d2e68016912c374e357";
static const char KENC_HEX[] = "4796375cdf782cf54db34ef47bd9f0a0";

static sm2_key *key;
static uint8_t ds[32], f_act[32];
static zy1_keys vector_keys;

static void init_once(void)
{
    uint8_t der[256];
    long n = b64_decode(KEY_B64, strlen(KEY_B64), der, sizeof der);
    if (n <= 0 || sm2_key_load_der(der, (size_t)n, &key) != SM_OK ||
        hex_decode(DS_HEX, 64, ds, 32) != 32 || hex_decode(F_ACT_HEX, 64, f_act, 32) != 32 ||
        hex_decode(KENC_HEX, 32, vector_keys.kenc, 16) != 16)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zy1_envelope env;
    zy1_keys k;
    zy1_payload p = {0};
    if (!key)
        init_once();
    if (zy1_envelope_parse((const char *)data, size, &env) != ZY1_OK)
        goto out;
    const char *tx = env.tlr.p ? "DEVICE_ACTIVATE" : "CUSTOMER_QUERY";
    if (zy1_envelope_check_tx(&env, tx) != ZY1_OK)
        goto out;
    zy1_status st = zy1_authenticate(key, tx, &env, env.tlr.p ? f_act : ds, &k);
    (void)zy1_decrypt_payload(&env, st == ZY1_OK ? &k : &vector_keys, &p);
    zy1_keys_wipe(&k);
out:
    zy1_payload_free(&p);
    zy1_envelope_free(&env);
    return 0;
}
