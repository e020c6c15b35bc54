/* fuzz_receipt — the delivery receipt of a file upload (egress/receipt.h) on
 * arbitrary bytes, checked against a fixed upload (name "V.pdf", 4 bytes
 * "%PDF" and their SM3). Contracts checked:
 *   - RECEIPT_OK comes with a receipt object, anything else with none and
 *     a field named;
 *   - OK only when the receipt's name, size and sm3 are exactly the
 *     upload's (sm3 compared without regard to case);
 *   - checking the same text twice gives the same verdict. */
#include "egress/receipt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char hex[65];
    if (!hex[0] && receipt_sm3_hex((const uint8_t *)"%PDF", 4, hex) != 0)
        __builtin_trap();
    json_t *out = NULL;
    char field[48], msg[256];
    field[0] = '\0';
    enum receipt_verdict v = receipt_check((const char *)data, size, "V.pdf", 4, hex, &out, field,
                                           sizeof field, msg, sizeof msg);
    if (v == RECEIPT_OK) {
        CHECK(json_is_object(out));
        CHECK(strcmp(json_string_value(json_object_get(out, "name")), "V.pdf") == 0);
        CHECK(json_integer_value(json_object_get(out, "size")) == 4);
        CHECK(strcasecmp(json_string_value(json_object_get(out, "sm3")), hex) == 0);
    } else {
        CHECK(out == NULL && field[0] != '\0');
    }
    json_t *again = NULL;
    CHECK(receipt_check((const char *)data, size, "V.pdf", 4, hex, &again, field, sizeof field, msg,
                        sizeof msg) == v);
    json_decref(out);
    json_decref(again);
    return 0;
}
