/* The debit card's step inputs for the tests (support/bizflow.h). */
#include "bizflow.h"
#include "vissue.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const BIZFLOW_STEPS[] = {"idcard", "idcheck", "face",      "customer", "account",
                                     "card",   "pin",     "signature", "voucher"};
const size_t BIZFLOW_NSTEPS = sizeof BIZFLOW_STEPS / sizeof BIZFLOW_STEPS[0];

static void b64(const void *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

void bizflow_new_card(int seq, char pan[20])
{
    snprintf(pan, 19, "62285%013d", seq + (int)(getpid() % 100000) * 1000);
    int sum = 0;
    for (int i = 0; i < 18; i++) {
        int d = pan[17 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    pan[18] = (char)('0' + (10 - sum % 10) % 10);
    pan[19] = '\0';
}

void bizflow_pin_block(const char *pan, const char *pin, char hex[33])
{
    static const uint8_t ZPK[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                    0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10};
    uint8_t blk[16], ct[32];
    memset(blk, 0xFF, sizeof blk);
    size_t pl = strlen(pin), cl = strlen(pan);
    blk[0] = (uint8_t)pl;
    for (size_t i = 0; i < 14; i++) {
        uint8_t nib = i < pl ? (uint8_t)(pin[i] - '0') : 0x0F;
        blk[1 + i / 2] = (uint8_t)(i % 2 ? (blk[1 + i / 2] & 0xF0) | nib : (nib << 4) | 0x0F);
    }
    for (int i = 0; i < 12; i++) {
        uint8_t d = (uint8_t)(pan[cl - 13 + (size_t)i] - '0');
        blk[2 + i / 2] ^= (uint8_t)(i % 2 ? d : d << 4);
    }
    int n = 0, n2 = 0;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(x, EVP_sm4_ecb(), NULL, ZPK, NULL);
    EVP_CIPHER_CTX_set_padding(x, 0);
    EVP_EncryptUpdate(x, ct, &n, blk, 16);
    EVP_EncryptFinal_ex(x, ct + n, &n2);
    EVP_CIPHER_CTX_free(x);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02X", ct[i]);
}

char *bizflow_input(const char *step, const char *id_no, const char *name, const char *card)
{
    char *in = malloc(4096);
    if (!in)
        return NULL;
    if (strcmp(step, "idcard") == 0) {
        char photo[64];
        b64("WLT-PHOTO-BYTES-0123456789", 26, photo);
        snprintf(in, 4096,
                 "{\"name\":\"%s\",\"sex\":\"男\",\"nation\":\"汉\",\"birth\":\"%.8s\","
                 "\"address\":\"广州市天河区体育西路1号\",\"id_no\":\"%s\",\"issuer\":\"广州市"
                 "公安局天河分局\",\"valid_from\":\"20150101\",\"valid_to\":\"20350101\","
                 "\"photo_wlt\":\"%s\"}",
                 name, id_no + 6, id_no, photo);
    } else if (strcmp(step, "face") == 0) {
        char raw[64], img[128];
        snprintf(raw, sizeof raw, "FACE:%s", id_no);
        b64(raw, strlen(raw), img);
        snprintf(in, 4096, "{\"image\":\"%s\"}", img);
    } else if (strcmp(step, "customer") == 0) {
        snprintf(in, 4096, "{\"mobile\":\"13800138000\"}");
    } else if (strcmp(step, "card") == 0) {
        snprintf(in, 4096, "{\"card_no\":\"%s\"}", card);
    } else if (strcmp(step, "pin") == 0) {
        char hex[33];
        bizflow_pin_block(card, "147258", hex);
        snprintf(in, 4096, "{\"pin_block\":\"%s\"}", hex);
    } else if (strcmp(step, "signature") == 0) {
        free(in);
        in = bizflow_signature_input();
    } else {
        snprintf(in, 4096, "{}");
    }
    return in;
}

char *bizflow_signature_input(void)
{
    uint8_t *png = NULL; /* a real PNG: the signature step decodes it, the voucher draws it */
    size_t n = 0;
    if (vissue_png(120, 40, &png, &n) != 0)
        return NULL;
    size_t cap = 4 * ((n + 2) / 3) + 128;
    char *img = malloc(4 * ((n + 2) / 3) + 1), *in = malloc(cap);
    if (img && in) {
        b64(png, n, img);
        snprintf(in, cap,
                 "{\"strokes\":[[[10,10,0.5,0],[20,15,0.7,16]],[[30,30,0.4,40]]],"
                 "\"image\":\"%s\"}",
                 img);
    }
    free(png);
    free(img);
    if (!img) {
        free(in);
        return NULL;
    }
    return in;
}
