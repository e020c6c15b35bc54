/* fuzz_pad_frame — the pads' frame codec (client/bridge/pad_frame.h).
 *
 * The input is read as a byte stream the way pad_link_recv and the device
 * simulators read it: decode at the front; on a frame, check that it lies
 * inside the input, re-encodes to the same bytes, and move past it; on an
 * error skip one byte; on "need more" stop. Every proper prefix of a frame
 * must be "need more". */
#include "bridge/pad_frame.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[PAD_FRAME_MAX];
    size_t off = 0;
    while (off < size) {
        struct pad_frame f;
        size_t used = 0;
        pad_frame_status st = pad_frame_decode(data + off, size - off, &f, &used);
        if (st == PAD_FRAME_NEED)
            break;
        if (st != PAD_FRAME_OK) {
            off++;
            continue;
        }
        if (used < PAD_FRAME_OVERHEAD || used > size - off || f.len != used - PAD_FRAME_OVERHEAD ||
            f.data != data + off + 5)
            abort();
        size_t n = pad_frame_encode(f.seq, f.cmd, f.data, f.len, out, sizeof out);
        if (n != used || memcmp(out, data + off, n) != 0)
            abort();
        struct pad_frame g;
        size_t u2 = 0;
        if (pad_frame_decode(data + off, used - 1, &g, &u2) != PAD_FRAME_NEED)
            abort();
        off += used;
    }
    return 0;
}
