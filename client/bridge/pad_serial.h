/* pad_serial — the serial link to one pad (PIN pad, signature pad,
 * fingerprint reader): a termios port in raw 8N1 mode and the pad_frame
 * framing over it, with sequence numbers and a timeout on every read.
 *
 * One link is used by one thread at a time (the bridge serialises the
 * operations of a device). Every function returns a pad_status. */
#ifndef ZHANYE_BRIDGE_PAD_SERIAL_H
#define ZHANYE_BRIDGE_PAD_SERIAL_H

#include "pad_frame.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PAD_OK = 0,
    PAD_EABSENT = 1,    /* the port cannot be opened, or went away (I/O error, hang-up) */
    PAD_ETIMEOUT = 2,   /* no complete reply within the timeout (pad stalled or silent) */
    PAD_EFRAME = 3,     /* a malformed frame, a NAK, or a reply that does not fit the command */
    PAD_ECANCELLED = 4, /* the customer pressed cancel */
    PAD_ENOINPUT = 5,   /* the customer did nothing within the pad's own timeout */
    PAD_ESHORT = 6,     /* PIN: shorter than the minimum */
    PAD_ENOFINGER = 7,  /* fingerprint: no finger on the sensor */
    PAD_EQUALITY = 8,   /* fingerprint: image too poor for a template */
    PAD_ENOKEY = 9,     /* PIN: no PIN key loaded in the pad */
    PAD_EKEYCHECK = 10, /* PIN: the key's check value did not match; key not loaded */
    PAD_EPARAM = 11,    /* a bad argument (caller), or the pad refused one */
    PAD_ENOMEM = 12,
} pad_status;

/* Stable English name of s ("timeout", "bad_frame", ...), for logs and the
 * bridge's error codes. */
const char *pad_status_name(pad_status s);
/* The pad_status of a reply's status byte (PAD_ST_*); unknown bytes are
 * PAD_EFRAME. */
pad_status pad_status_of(uint8_t st);

struct pad_link {
    int fd;
    uint8_t seq;                    /* of the last command sent */
    uint8_t buf[PAD_FRAME_MAX * 2]; /* bytes read and not yet decoded */
    size_t have;
    uint8_t frame[PAD_FRAME_MAX]; /* the frame last returned by pad_link_recv */
};

/* Opens path (a tty or pty) as 115200 8N1 raw, no flow control, and drops
 * pending input. PAD_OK, PAD_EABSENT (errno kept), PAD_EPARAM. */
pad_status pad_link_open(struct pad_link *l, const char *path);
void pad_link_close(struct pad_link *l);

/* Sends a command frame with the next sequence number (1..255 cycling,
 * never 0); drops unread input first. PAD_OK, PAD_EABSENT, PAD_EPARAM (n too large). */
pad_status pad_link_send(struct pad_link *l, uint8_t cmd, const uint8_t *data, size_t n);

/* Waits up to timeout_ms for the next frame of the current command (its SEQ
 * equal to l->seq; frames of older commands are skipped). *f points into
 * l->frame until the next call. A malformed frame (bad CRC, ETX, length,
 * garbage before STX) is PAD_EFRAME at once and the input is dropped; a
 * NAK is PAD_EFRAME. PAD_OK, PAD_ETIMEOUT, PAD_EFRAME, PAD_EABSENT. */
pad_status pad_link_recv(struct pad_link *l, int timeout_ms, struct pad_frame *f);

/* Sends cmd and waits for its reply (CMD | PAD_REPLY; any other frame of
 * the command, an event too, is PAD_EFRAME). On PAD_OK the reply has at least the
 * status byte and the status was PAD_ST_OK; a non-OK status is mapped by
 * pad_status_of. */
pad_status pad_link_call(struct pad_link *l, uint8_t cmd, const uint8_t *data, size_t n,
                         int timeout_ms, struct pad_frame *reply);

#endif
