/* fuzz_response — the client's side of a ZY1 answer on arbitrary bodies:
 * zy1_response_parse, then zy1_open_response for the call of the spec's
 * response vector (tx, request nonce, Renc/Rmac).
 *
 * A body that parses is also rebuilt with the MAC it should carry, so that
 * mutated iv/ct/ts get past the MAC check and reach decryption and padding.
 * Contracts checked:
 *   - a parsed response is consistent with its texts (sizes, ts > 0);
 *   - the raw body opens only if its MAC is right (the rebuilt body is then
 *     the same answer);
 *   - the rebuilt body parses, passes the MAC, and either opens or fails
 *     with ZY1_BAD_PAYLOAD; what opens seals back to the very same body
 *     with the same iv and ts (decryption loses nothing, accepts nothing
 *     that encryption would not write). */
#include "channel/zy1.h"
#include "foundation/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

/* spec/secure-channel-vectors.json: response.*, keys.Renc, keys.Rmac. Test data only. */
static const char TX[] = "CUSTOMER_QUERY";
static const char NONCE_B64[] = "ABEiM0RVZneImaq7zN3u/w==";
static const char RENC_HEX[] = "c43efc3f3996c2c50829c11904f84640";
static const char RMAC_HEX[] = "a174e39c4e82f0c5032a1aef8952c8708a986c15858007a2bc0714ad8267de45";

static zy1_call call;
static bool ready;

static void init_once(void)
{
    snprintf(call.tx, sizeof call.tx, "%s", TX);
    snprintf(call.nonce_b64, sizeof call.nonce_b64, "%s", NONCE_B64);
    if (hex_decode(RENC_HEX, 32, call.keys.renc, sizeof call.keys.renc) != 16 ||
        hex_decode(RMAC_HEX, 64, call.keys.rmac, sizeof call.keys.rmac) != 32)
        abort();
    ready = true;
}

/* The body the server would send for these texts: the parsed iv, ct and ts
 * with the MAC computed over them. */
static char *rebuild(const zy1_response *rsp)
{
    char *m = NULL, mac_b64[48];
    size_t mn = 0;
    uint8_t mac[ZY1_MAC_LEN];
    CHECK(zy1_response_mac_input(TX, NONCE_B64, rsp, &m, &mn) == ZY1_OK);
    sm_part part = {m, mn};
    CHECK(sm_hmac(call.keys.rmac, sizeof call.keys.rmac, &part, 1, mac) == SM_OK);
    free(m);
    CHECK(b64_encode(mac, sizeof mac, mac_b64, sizeof mac_b64) == 44);
    size_t cap = rsp->ct_b64.n + 200;
    char *body = malloc(cap);
    CHECK(body);
    int n =
        snprintf(body, cap, "{\"v\":1,\"ts\":%s,\"iv\":\"%.*s\",\"ct\":\"%.*s\",\"mac\":\"%s\"}",
                 rsp->ts_text, (int)rsp->iv_b64.n, rsp->iv_b64.p, (int)rsp->ct_b64.n, rsp->ct_b64.p,
                 mac_b64);
    CHECK(n > 0 && (size_t)n < cap);
    return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zy1_response rsp;
    char *pt = NULL;
    size_t pt_len = 0;
    int64_t ts = 0;
    if (!ready)
        init_once();

    zy1_status st = zy1_response_parse((const char *)data, size, &rsp);
    zy1_status opened = zy1_open_response(&call, (const char *)data, size, &pt, &pt_len, &ts);
    CHECK((opened == ZY1_OK) == (pt != NULL));
    if (st != ZY1_OK) {
        CHECK(opened == st);
        goto out;
    }
    CHECK(opened != ZY1_BAD_ENVELOPE);
    CHECK(rsp.ts > 0 && rsp.ct && rsp.ct_len > 0 && rsp.ct_len % 16 == 0);
    CHECK(rsp.iv_b64.n == 24 && rsp.mac_b64.n == 44);
    CHECK(rsp.ct_b64.n == b64_encoded_len(rsp.ct_len));

    char *body = rebuild(&rsp);
    char *pt2 = NULL;
    size_t pt2_len = 0;
    int64_t ts2 = 0;
    zy1_status st2 = zy1_open_response(&call, body, strlen(body), &pt2, &pt2_len, &ts2);
    CHECK(st2 == ZY1_OK || st2 == ZY1_BAD_PAYLOAD);
    if (opened == ZY1_OK)
        CHECK(st2 == ZY1_OK && ts == ts2 && pt_len == pt2_len && memcmp(pt, pt2, pt_len) == 0);
    if (st2 == ZY1_OK) {
        CHECK(ts2 == rsp.ts && pt2_len < rsp.ct_len && pt2[pt2_len] == '\0');
        char *sealed = NULL;
        size_t sealed_len = 0;
        CHECK(zy1_seal_response(&call.keys, TX, NONCE_B64, ts2, pt2, pt2_len, rsp.iv, &sealed,
                                &sealed_len) == ZY1_OK);
        CHECK(sealed_len == strlen(body) && memcmp(sealed, body, sealed_len) == 0);
        free(sealed);
    }
    free(pt2);
    free(body);
out:
    free(pt);
    zy1_response_free(&rsp);
    return 0;
}
