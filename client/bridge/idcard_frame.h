/* idcard_frame — the SAM frame protocol of resident ID-card readers
 * (GA/T 467 as the readers speak it), and the card's text record. Pure
 * functions: no I/O, no allocation, no clock; every input is untrusted.
 *
 * Frame (both directions):
 *   AA AA AA 96 69   preamble
 *   LEN_HI LEN_LO    big-endian length of everything after it, checksum included
 *   body             command:  CMD PARA            (LEN = 3)
 *                    reply:    SW1 SW2 SW3 DATA... (LEN = 4 + data length)
 *   CHK              XOR of LEN_HI, LEN_LO and every body byte
 *
 * Commands: find card 20 01, select card 20 02, read text+photo 30 01.
 * Reply status (SW1 SW2 SW3; SW1 = SW2 = 00 always), see enum idcard_sw:
 *   90 success, 9F find-card success, 80 no card (find failed), 81 select
 *   failed, 41 read failed, 40 unknown card type, 31 card authentication
 *   failed, 32 card data checksum error, 33 card data length error,
 *   10 the reader got a frame with a bad checksum, 11 ... with a bad
 *   length, 21 unknown command, 23 unauthorised operation, 24 unknown
 *   error, 60 SAM self-test failed, 66 SAM not authorised, 91 no such
 *   item on the card. Any other status is a malformed frame (IDF_STATUS).
 *
 * Read reply data (status 90): text length (2, BE, = 256), photo length
 * (2, BE, = 1024), 256-byte text, 1024-byte photo (WLT, vendor-compressed,
 * passed on as it is). Find reply data (9F): 4 bytes; select reply (90):
 * 8 bytes. A success reply with other data lengths is IDF_LENGTH.
 *
 * Text record: UCS-2LE, fixed fields padded with spaces (bytes):
 *   name 30, sex 2, nation 4, birth 16, address 70, id_no 36, issuer 30,
 *   valid_from 16, valid_to 16, reserved 36 (= 256). */
#ifndef ZHANYE_IDCARD_FRAME_H
#define ZHANYE_IDCARD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define IDF_PREAMBLE_LEN 5
#define IDF_HEADER_LEN 7   /* preamble + length */
#define IDF_MAX_LEN 0x0600 /* largest LEN accepted (a read reply is 0x0508) */
#define IDF_TEXT_LEN 256
#define IDF_PHOTO_LEN 1024
#define IDF_READ_DATA_LEN (4 + IDF_TEXT_LEN + IDF_PHOTO_LEN)
#define IDF_FRAME_MAX (IDF_HEADER_LEN + IDF_MAX_LEN)

extern const uint8_t IDF_PREAMBLE_BYTES[IDF_PREAMBLE_LEN];

enum idcard_cmd {
    IDC_FIND = 0x2001,
    IDC_SELECT = 0x2002,
    IDC_READ = 0x3001,
};

enum idcard_sw {
    IDSW_OK = 0x90,
    IDSW_FOUND = 0x9F,
    IDSW_NO_CARD = 0x80,
    IDSW_SELECT_FAILED = 0x81,
    IDSW_READ_FAILED = 0x41,
    IDSW_CARD_TYPE = 0x40,
    IDSW_AUTH_FAILED = 0x31,
    IDSW_DATA_CHECKSUM = 0x32,
    IDSW_DATA_LENGTH = 0x33,
    IDSW_RX_CHECKSUM = 0x10,
    IDSW_RX_LENGTH = 0x11,
    IDSW_UNKNOWN_CMD = 0x21,
    IDSW_UNAUTHORISED = 0x23,
    IDSW_UNKNOWN_ERROR = 0x24,
    IDSW_SAM_SELFTEST = 0x60,
    IDSW_SAM_UNAUTHORISED = 0x66,
    IDSW_NO_ITEM = 0x91,
};

enum idf_rc {
    IDF_OK = 0,
    IDF_TRUNCATED, /* fewer bytes than the frame needs (see need) */
    IDF_PREAMBLE,  /* the first five bytes are not AA AA AA 96 69 */
    IDF_LENGTH,    /* LEN too small for the frame kind, or a data length the reply may not have */
    IDF_OVERSIZE,  /* LEN above IDF_MAX_LEN */
    IDF_CHECKSUM,  /* the XOR does not match */
    IDF_STATUS,    /* SW1 SW2 SW3 not in the table above */
    IDF_TRAILING,  /* bytes after the checksum in the buffer given */
};

/* "ok", "truncated", "preamble", ... (static). */
const char *idf_rc_name(enum idf_rc rc);

/* Writes the 10-byte command frame for cmd into out (cap >= 10). Returns 10,
 * or -1 if cap is too small. */
int idf_build_command(enum idcard_cmd cmd, uint8_t *out, size_t cap);

/* Builds a reply frame with status sw and data[0..n) into out. Returns the
 * frame length, or -1 (cap too small, or n + 4 > IDF_MAX_LEN). For the
 * simulator and tests. */
int idf_build_reply(uint8_t sw, const uint8_t *data, size_t n, uint8_t *out, size_t cap);

/* The total frame length announced by a buffer holding at least the 7-byte
 * header: IDF_OK with *total set, or IDF_TRUNCATED (fewer than 7 bytes),
 * IDF_PREAMBLE, IDF_OVERSIZE, IDF_LENGTH (LEN < 3). */
enum idf_rc idf_frame_total(const uint8_t *buf, size_t n, size_t *total);

struct idf_reply {
    uint8_t sw;          /* SW3 */
    const uint8_t *data; /* points into the buffer parsed */
    size_t data_len;
};

/* Parses exactly one reply frame buf[0..n). On IDF_OK fills *out. On
 * IDF_TRUNCATED *need (if not NULL) is the total length once known (7
 * before the header is complete). Checks, in order: preamble, LEN bounds,
 * completeness, trailing bytes, checksum, status. */
enum idf_rc idf_parse_reply(const uint8_t *buf, size_t n, struct idf_reply *out, size_t *need);

/* Parses one command frame (the simulator's side): *cmd is CMD << 8 | PARA. */
enum idf_rc idf_parse_command(const uint8_t *buf, size_t n, uint16_t *cmd);

/* Checks a success reply's data length for the command it answers, and for
 * a read reply the two embedded lengths: IDF_OK or IDF_LENGTH. Replies with
 * an error status are not checked (their data is ignored). */
enum idf_rc idf_check_reply(enum idcard_cmd cmd, const struct idf_reply *r);

/* ---- the text record ---- */

struct idcard_info {
    char name[64];    /* UTF-8, each CJK character 3 bytes: 15 chars -> 45 */
    char sex[8];      /* 男 | 女 */
    char sex_code[2]; /* "1" | "2" */
    char nation[40];  /* 汉, 蒙古, ..., 其他, 外国血统中国籍人士 */
    char nation_code[3];
    char birth[9];     /* YYYYMMDD */
    char address[112]; /* 35 chars */
    char id_no[19];
    char issuer[48];
    char valid_from[9];
    char valid_to[16]; /* YYYYMMDD or 长期 */
};

enum idt_rc {
    IDT_OK = 0,
    IDT_LENGTH, /* the record is not 256 bytes */
    IDT_CHARS,  /* a code unit that is a surrogate, a control character or an interior NUL */
    IDT_SEX,    /* sex code not 1 or 2 */
    IDT_NATION, /* nation code not in the table */
    IDT_DATE,   /* birth / valid_from not 8 digits, valid_to neither 8 digits nor 长期 */
    IDT_ID_NO,  /* id_no not 17 digits + digit/X, or its GB 11643 check character is wrong */
    IDT_EMPTY,  /* name or address empty */
};

const char *idt_rc_name(enum idt_rc rc);

/* Decodes the 256-byte UCS-2LE record: each field's trailing spaces (and
 * NULs) trimmed, converted to UTF-8, then checked. *out is zeroed first and
 * only meaningful on IDT_OK. */
enum idt_rc idcard_text_decode(const uint8_t *text, size_t n, struct idcard_info *out);

/* Encodes an info record's fields into the 256-byte UCS-2LE record (space
 * padded; for the simulator and tests). Fields are UTF-8 (BMP only); the
 * nation and sex are taken from nation_code and sex_code. 0, or -1 if a
 * field does not fit or is not valid UTF-8 of the BMP. */
int idcard_text_encode(const struct idcard_info *in, uint8_t out[IDF_TEXT_LEN]);

/* The name for a nation code 1..56, 97, 98; NULL otherwise. */
const char *idcard_nation_name(int code);

/* GB 11643 check of an 18-character ID number: 17 digits then the ISO 7064
 * MOD 11-2 check character (digit or uppercase X). 1 valid, 0 not. */
int idcard_id_no_valid(const char *id);

#endif
