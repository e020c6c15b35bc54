/* devsim_pin — the PIN pad simulator (devsim.h), playing both the pad's
 * secure module and the customer at its keyboard.
 *
 * Options: --master-key HEX (32 hex digits; default DEVSIM_DEMO_MASTER,
 * the demo value of docs/peripherals.md). The PIN key lives only in this
 * process, loaded by PAD_CMD_PIN_LOAD_KEY under the master key.
 * Script members: "pin": "DIGITS" (what the customer keys, then confirms;
 * kept for every later entry), "cancel": true (the customer presses cancel
 * at the next entry; one-shot). With neither, the customer does nothing
 * and the pad answers PAD_ST_TIMEOUT after the request's timeout.
 * State: "key_loaded": bool, "kcv": hex of the loaded key's check value. */
#include "devsim.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <openssl/crypto.h>
#include <string.h>

#define DEVSIM_DEMO_MASTER "0123456789ABCDEFFEDCBA9876543210"

static uint8_t master_key[16];
static uint8_t pin_key[16];
static bool have_pin_key;

/* Secrets are wiped with OPENSSL_cleanse (the pads do not link the core
 * library, where secmem_wipe lives). */
#define wipe OPENSSL_cleanse

/* SM4-ECB of one 16-byte block, either way. */
static int sm4_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16], int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = c && EVP_CipherInit_ex(c, EVP_sm4_ecb(), NULL, key, NULL, enc) == 1 &&
                      EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
                      EVP_CipherUpdate(c, out, &len, in, 16) == 1 && len == 16;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_key(const char *hex, uint8_t key[16])
{
    if (strlen(hex) != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        key[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

static void load_key(struct devsim *d, const struct pad_frame *f)
{
    if (f->len != 20) {
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
        return;
    }
    uint8_t key[16], zero[16] = {0}, kcv[16];
    if (sm4_ecb(master_key, f->data, key, 0) != 0 || sm4_ecb(key, zero, kcv, 1) != 0) {
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
        return;
    }
    if (CRYPTO_memcmp(kcv, f->data + 16, 4) != 0) {
        wipe(key, sizeof key);
        devsim_reply(d, f, PAD_ST_KEY_CHECK, NULL, 0);
        return;
    }
    memcpy(pin_key, key, 16);
    have_pin_key = true;
    wipe(key, sizeof key);
    char hex[9];
    snprintf(hex, sizeof hex, "%02X%02X%02X%02X", kcv[0], kcv[1], kcv[2], kcv[3]);
    devsim_state_set(d, "key_loaded", json_true());
    devsim_state_set(d, "kcv", json_string(hex));
    devsim_reply(d, f, PAD_ST_OK, kcv, 4);
}

static void nib(uint8_t *b, size_t i, int v)
{
    if (i % 2 == 0)
        b[i / 2] = (uint8_t)((b[i / 2] & 0x0F) | v << 4);
    else
        b[i / 2] = (uint8_t)((b[i / 2] & 0xF0) | v);
}

/* ISO 9564-1 format 0 + eight 0xFF, SM4-ECB. */
static int block_iso0(const char *pin, const char *pan, size_t plen, uint8_t out[16])
{
    uint8_t blk[16], pf[8], af[8] = {0};
    size_t n = strlen(pin);
    memset(pf, 0xFF, sizeof pf);
    nib(pf, 0, 0);
    nib(pf, 1, (int)n);
    for (size_t i = 0; i < n; i++)
        nib(pf, 2 + i, pin[i] - '0');
    /* The 12 rightmost digits of the PAN without its check digit. */
    const char *p12 = pan + plen - 13;
    for (size_t i = 0; i < 12; i++)
        nib(af, 4 + i, p12[i] - '0');
    for (int i = 0; i < 8; i++)
        blk[i] = pf[i] ^ af[i];
    memset(blk + 8, 0xFF, 8);
    int rc = sm4_ecb(pin_key, blk, out, 1);
    wipe(blk, sizeof blk);
    wipe(pf, sizeof pf);
    return rc;
}

/* ISO 9564-1 format 4 with SM4: C = E(K, E(K, PIN field) XOR PAN field). */
static int block_sm4_16(const char *pin, const char *pan, size_t plen, uint8_t out[16])
{
    uint8_t pf[16], af[16] = {0}, mid[16];
    size_t n = strlen(pin);
    nib(pf, 0, 4);
    nib(pf, 1, (int)n);
    for (size_t i = 0; i < n; i++)
        nib(pf, 2 + i, pin[i] - '0');
    for (size_t i = 2 + n; i < 16; i++)
        nib(pf, i, 0xA);
    if (RAND_bytes(pf + 8, 8) != 1)
        return -1;
    nib(af, 0, (int)(plen - 12));
    for (size_t i = 0; i < plen; i++)
        nib(af, 1 + i, pan[i] - '0');
    int rc = sm4_ecb(pin_key, pf, mid, 1);
    for (int i = 0; i < 16; i++)
        mid[i] ^= af[i];
    rc = rc || sm4_ecb(pin_key, mid, out, 1);
    wipe(pf, sizeof pf);
    wipe(mid, sizeof mid);
    return rc;
}

static void pin_block(struct devsim *d, const struct pad_frame *f)
{
    if (f->len < 4 + 12 || f->len > 4 + 19) {
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
        return;
    }
    int format = f->data[0], min = f->data[1], max = f->data[2], timeout_s = f->data[3];
    char pan[20];
    size_t plen = f->len - 4;
    memcpy(pan, f->data + 4, plen);
    pan[plen] = '\0';
    bool ok = (format == 0 || format == 1) && min >= 4 && max <= 12 && min <= max;
    for (size_t i = 0; i < plen; i++)
        ok = ok && pan[i] >= '0' && pan[i] <= '9';
    if (!ok) {
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
        return;
    }
    if (!have_pin_key) {
        devsim_reply(d, f, PAD_ST_NO_KEY, NULL, 0);
        return;
    }
    static const char *const keys[] = {"pin", "cancel", NULL};
    if (!devsim_wait_for(d, timeout_s * 1000L, keys)) {
        devsim_reply(d, f, PAD_ST_TIMEOUT, NULL, 0);
        return;
    }
    if (devsim_script_take(d, "cancel")) {
        devsim_reply(d, f, PAD_ST_CANCELLED, NULL, 0);
        return;
    }
    json_t *v = devsim_script_get(d, "pin");
    char pin[13] = {0};
    const char *s = json_string_value(v);
    size_t n = 0;
    /* The customer's keys: digits only; the pad takes no more than max. */
    for (; s && s[n] && n < (size_t)max && s[n] >= '0' && s[n] <= '9'; n++)
        pin[n] = s[n];
    json_decref(v);
    if (n < (size_t)min) {
        wipe(pin, sizeof pin);
        devsim_reply(d, f, PAD_ST_PIN_SHORT, NULL, 0);
        return;
    }
    uint8_t out[16];
    int rc = format == 0 ? block_iso0(pin, pan, plen, out) : block_sm4_16(pin, pan, plen, out);
    wipe(pin, sizeof pin);
    if (rc != 0)
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
    else
        devsim_reply(d, f, PAD_ST_OK, out, 16);
}

static void handle(struct devsim *d, const struct pad_frame *f)
{
    switch (f->cmd) {
    case PAD_CMD_PIN_LOAD_KEY:
        load_key(d, f);
        break;
    case PAD_CMD_PIN_BLOCK:
        pin_block(d, f);
        break;
    default: {
        uint8_t reason = 0xFF; /* unknown command */
        devsim_send(d, f->seq, PAD_CMD_NAK, &reason, 1);
    }
    }
}

int devsim_pin_main(int argc, char **argv)
{
    const char *mk = DEVSIM_DEMO_MASTER;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--master-key") == 0)
            mk = argv[i + 1];
    if (parse_key(mk, master_key) != 0) {
        fprintf(stderr, "devsim pin: --master-key needs 32 hex digits\n");
        return 2;
    }
    int rc = devsim_pad_run(argc, argv, handle);
    wipe(master_key, sizeof master_key);
    wipe(pin_key, sizeof pin_key);
    return rc;
}
