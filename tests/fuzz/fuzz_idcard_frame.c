/* libFuzzer: the ID-card reader's frame parser and text-record decoder
 * (client/bridge/idcard_frame.h) on arbitrary bytes: never a crash, and a
 * record that decodes re-encodes to one that decodes the same. */
#include "bridge/idcard_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct idf_reply r;
    size_t need = 0, total = 0;
    (void)idf_frame_total(data, size, &total);
    if (idf_parse_reply(data, size, &r, &need) == IDF_OK) {
        if (r.data + r.data_len != data + size - 1)
            abort();
        if (idf_check_reply(IDC_READ, &r) == IDF_OK && r.sw == IDSW_OK) {
            struct idcard_info info;
            (void)idcard_text_decode(r.data + 4, IDF_TEXT_LEN, &info);
        }
        (void)idf_check_reply(IDC_FIND, &r);
        (void)idf_check_reply(IDC_SELECT, &r);
    }
    uint16_t cmd;
    (void)idf_parse_command(data, size, &cmd);
    if (size >= IDF_TEXT_LEN) {
        struct idcard_info a, b;
        if (idcard_text_decode(data, IDF_TEXT_LEN, &a) == IDT_OK) {
            uint8_t t[IDF_TEXT_LEN];
            if (idcard_text_encode(&a, t) != 0 || idcard_text_decode(t, sizeof t, &b) != IDT_OK ||
                memcmp(&a, &b, sizeof a) != 0)
                abort();
        }
    }
    return 0;
}
