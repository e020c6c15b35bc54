/* fuzz_envelope — check step 2 on arbitrary bytes: the request and response
 * parsers must return a status, never crash, leak or read out of bounds. */
#include "channel/envelope.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zy1_envelope env;
    zy1_response rsp;
    if (zy1_envelope_parse((const char *)data, size, &env) == ZY1_OK) {
        /* A parsed envelope is consistent with its own texts. */
        if (!env.ct || env.ct_len == 0 || env.ct_len % 16 || env.ek_len > ZY1_EK_MAX ||
            env.ek_form == SM2_CT_INVALID || env.ts <= 0)
            __builtin_trap();
        (void)zy1_envelope_check_tx(&env, "DEVICE_ACTIVATE");
    }
    zy1_envelope_free(&env);
    (void)zy1_response_parse((const char *)data, size, &rsp);
    zy1_response_free(&rsp);
    return 0;
}
