/* fuzz_envelope — check step 2 on arbitrary bytes: the request and response
 * parsers must return a status, never crash, leak or read out of bounds,
 * and the common-form reader must agree with jansson on every body: the
 * same status and, when parsed, the same fields (channel/envelope.h). */
#include "channel/envelope.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_text(zy1_text a, zy1_text b)
{
    if ((a.p == NULL) != (b.p == NULL) || a.n != b.n || (a.p && memcmp(a.p, b.p, a.n) != 0) ||
        (a.p && a.p[a.n] != '\0'))
        __builtin_trap();
}

static void same_envelope(const zy1_envelope *a, const zy1_envelope *b)
{
    same_text(a->kid, b->kid);
    same_text(a->dev, b->dev);
    same_text(a->tlr, b->tlr);
    same_text(a->nonce_b64, b->nonce_b64);
    same_text(a->ek_b64, b->ek_b64);
    same_text(a->iv_b64, b->iv_b64);
    same_text(a->ct_b64, b->ct_b64);
    same_text(a->mac_b64, b->mac_b64);
    if (a->ts != b->ts || strcmp(a->ts_text, b->ts_text) != 0 ||
        memcmp(a->nonce, b->nonce, sizeof a->nonce) != 0 || a->ek_len != b->ek_len ||
        memcmp(a->ek, b->ek, a->ek_len) != 0 || a->ek_form != b->ek_form ||
        memcmp(a->iv, b->iv, sizeof a->iv) != 0 || a->ct_len != b->ct_len ||
        memcmp(a->ct, b->ct, a->ct_len) != 0 || memcmp(a->mac, b->mac, sizeof a->mac) != 0)
        __builtin_trap();
}

static void same_response(const zy1_response *a, const zy1_response *b)
{
    same_text(a->iv_b64, b->iv_b64);
    same_text(a->ct_b64, b->ct_b64);
    same_text(a->mac_b64, b->mac_b64);
    if (a->ts != b->ts || strcmp(a->ts_text, b->ts_text) != 0 ||
        memcmp(a->iv, b->iv, sizeof a->iv) != 0 || a->ct_len != b->ct_len ||
        memcmp(a->ct, b->ct, a->ct_len) != 0 || memcmp(a->mac, b->mac, sizeof a->mac) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zy1_envelope env, ref;
    zy1_response rsp, rref;
    zy1_status st = zy1_envelope_parse((const char *)data, size, &env);
    if (st != zy1_envelope_parse_jansson((const char *)data, size, &ref))
        __builtin_trap();
    if (st == ZY1_OK) {
        /* A parsed envelope is consistent with its own texts. */
        if (!env.ct || env.ct_len == 0 || env.ct_len % 16 || env.ek_len > ZY1_EK_MAX ||
            env.ek_form == SM2_CT_INVALID || env.ts <= 0)
            __builtin_trap();
        same_envelope(&env, &ref);
        (void)zy1_envelope_check_tx(&env, "DEVICE_ACTIVATE");
    }
    zy1_envelope_free(&env);
    zy1_envelope_free(&ref);
    st = zy1_response_parse((const char *)data, size, &rsp);
    if (st != zy1_response_parse_jansson((const char *)data, size, &rref))
        __builtin_trap();
    if (st == ZY1_OK)
        same_response(&rsp, &rref);
    zy1_response_free(&rsp);
    zy1_response_free(&rref);
    return 0;
}
