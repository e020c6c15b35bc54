/* dev_idcard — see dev_idcard.h. */
#include "dev_idcard.h"

#include "idcard_frame.h"
#include "serial.h"

#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct idcard_dev {
    char port[256];
    int baud;
    int poll_ms, poll_timeout_ms;
    pthread_mutex_t io; /* the port: one exchange at a time */
    int fd;             /* -1 while closed */
    atomic_int absent;  /* last open failed / hung up */
    struct bridge *br;
    pthread_t poller;
    bool polling;
    atomic_bool stopping;
    int present; /* poller's view: -1 unknown, 0, 1 */
    uint8_t buf[IDF_FRAME_MAX];
};

struct idcard_dev *idcard_dev_new(const char *port, int baud, int poll_ms, int poll_timeout_ms)
{
    if (!port || strlen(port) >= 256 || !serial_baud_ok(baud) || poll_ms < 0)
        return NULL;
    struct idcard_dev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    memcpy(d->port, port, strlen(port) + 1);
    d->baud = baud;
    d->poll_ms = poll_ms;
    d->poll_timeout_ms = poll_timeout_ms > 0 ? poll_timeout_ms : 1000;
    d->fd = -1;
    d->present = -1;
    pthread_mutex_init(&d->io, NULL);
    return d;
}

void idcard_dev_free(struct idcard_dev *d)
{
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    pthread_mutex_destroy(&d->io);
    secmem_wipe(d->buf, sizeof d->buf);
    free(d);
}

/* ---- one exchange (io held) ---- */

static enum bridge_err ensure_open(struct idcard_dev *d)
{
    if (d->fd >= 0)
        return BRIDGE_OK;
    d->fd = serial_open(d->port, d->baud);
    if (d->fd < 0) {
        if (!atomic_exchange(&d->absent, 1))
            log_warn("idcard.absent", "reader port %s: %s", d->port, strerror(errno));
        return BRIDGE_ABSENT;
    }
    if (atomic_exchange(&d->absent, 0))
        log_info("idcard.connected", "reader port %s open", d->port);
    return BRIDGE_OK;
}

static void hang_up(struct idcard_dev *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    atomic_store(&d->absent, 1);
}

static enum bridge_err bad_frame(struct idcard_dev *d, const char *why)
{
    log_warn("idcard.bad_frame", "reply frame: %s", why);
    serial_drain(d->fd, 50, 500);
    return BRIDGE_BAD_FRAME;
}

/* Reads until have >= want; the first byte may take until deadline, later
 * ones at most IDCARD_GAP_MS apart. OK, TIMEOUT (nothing at all), BAD_FRAME
 * (cut short), ABSENT (hang-up). */
static enum bridge_err read_to(struct idcard_dev *d, size_t *have, size_t want, long deadline)
{
    while (*have < want) {
        long until = deadline;
        if (*have > 0 && bridge_now_ms() + IDCARD_GAP_MS < deadline)
            until = bridge_now_ms() + IDCARD_GAP_MS;
        long r = serial_read_some(d->fd, d->buf + *have, want - *have, until);
        if (r < 0) {
            hang_up(d);
            return BRIDGE_ABSENT;
        }
        if (r == 0) {
            if (*have == 0 || bridge_now_ms() >= deadline)
                return *have == 0 ? BRIDGE_TIMEOUT : bad_frame(d, "truncated at the deadline");
            return bad_frame(d, "truncated");
        }
        *have += (size_t)r;
    }
    return BRIDGE_OK;
}

static enum bridge_err map_status(enum idcard_cmd cmd, uint8_t sw)
{
    switch (sw) {
    case IDSW_FOUND:
        return cmd == IDC_FIND ? BRIDGE_OK : BRIDGE_BAD_FRAME;
    case IDSW_OK:
        return cmd == IDC_FIND ? BRIDGE_BAD_FRAME : BRIDGE_OK;
    case IDSW_NO_CARD:
        return BRIDGE_NO_CARD;
    case IDSW_SELECT_FAILED:
    case IDSW_READ_FAILED:
    case IDSW_CARD_TYPE:
    case IDSW_AUTH_FAILED:
    case IDSW_DATA_CHECKSUM:
    case IDSW_DATA_LENGTH:
    case IDSW_NO_ITEM:
        return BRIDGE_READ_FAILED;
    case IDSW_RX_CHECKSUM:
    case IDSW_RX_LENGTH:
        return BRIDGE_BAD_FRAME;
    default:
        return BRIDGE_DEVICE;
    }
}

static enum bridge_err exchange(struct idcard_dev *d, enum idcard_cmd cmd, long deadline,
                                struct idf_reply *rep)
{
    enum bridge_err e = ensure_open(d);
    if (e != BRIDGE_OK)
        return e;
    tcflush(d->fd, TCIFLUSH);
    uint8_t cf[16];
    int cn = idf_build_command(cmd, cf, sizeof cf);
    if (serial_write_all(d->fd, cf, (size_t)cn, deadline) != 0) {
        if (errno == ETIMEDOUT)
            return BRIDGE_TIMEOUT;
        hang_up(d);
        return BRIDGE_ABSENT;
    }
    size_t have = 0, total = 0;
    /* the header, checked byte by byte so a wrong preamble stops at once */
    e = read_to(d, &have, IDF_HEADER_LEN, deadline);
    if (e != BRIDGE_OK)
        return e;
    enum idf_rc rc = idf_frame_total(d->buf, have, &total);
    if (rc != IDF_OK)
        return bad_frame(d, idf_rc_name(rc));
    e = read_to(d, &have, total, deadline);
    if (e != BRIDGE_OK)
        return e;
    rc = idf_parse_reply(d->buf, have, rep, NULL);
    if (rc == IDF_OK)
        rc = idf_check_reply(cmd, rep);
    if (rc != IDF_OK)
        return bad_frame(d, idf_rc_name(rc));
    e = map_status(cmd, rep->sw);
    if (e == BRIDGE_BAD_FRAME)
        log_warn("idcard.status", "status %02x to command %04x", rep->sw, (unsigned)cmd);
    return e;
}

static enum bridge_err lock_io(struct idcard_dev *d, long deadline)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long left = deadline - bridge_now_ms();
    if (left <= 0)
        return BRIDGE_TIMEOUT;
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_mutex_timedlock(&d->io, &ts) == 0 ? BRIDGE_OK : BRIDGE_TIMEOUT;
}

/* ---- GET /v1/idcard ---- */

static enum bridge_err read_card(struct idcard_dev *d, long deadline, json_t **out)
{
    struct idf_reply rep;
    enum bridge_err e = exchange(d, IDC_FIND, deadline, &rep);
    if (e == BRIDGE_OK)
        e = exchange(d, IDC_SELECT, deadline, &rep);
    if (e == BRIDGE_OK)
        e = exchange(d, IDC_READ, deadline, &rep);
    if (e != BRIDGE_OK)
        return e;
    struct idcard_info info;
    enum idt_rc tr = idcard_text_decode(rep.data + 4, IDF_TEXT_LEN, &info);
    if (tr != IDT_OK) {
        log_warn("idcard.bad_data", "text record: %s", idt_rc_name(tr));
        secmem_wipe(&info, sizeof info);
        return BRIDGE_BAD_DATA;
    }
    char photo[((IDF_PHOTO_LEN + 2) / 3) * 4 + 1];
    b64_encode(rep.data + 4 + IDF_TEXT_LEN, IDF_PHOTO_LEN, photo, sizeof photo);
    *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", info.name, "sex",
                     info.sex, "nation", info.nation, "birth", info.birth, "address", info.address,
                     "id_no", info.id_no, "issuer", info.issuer, "valid_from", info.valid_from,
                     "valid_to", info.valid_to, "photo_wlt", photo);
    secmem_wipe(&info, sizeof info);
    return *out ? BRIDGE_OK : BRIDGE_INTERNAL;
}

static enum bridge_err handle_read(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct idcard_dev *d = ctx;
    enum bridge_err e = lock_io(d, c->deadline_ms);
    if (e != BRIDGE_OK)
        return e;
    e = read_card(d, c->deadline_ms, out);
    secmem_wipe(d->buf, sizeof d->buf);
    pthread_mutex_unlock(&d->io);
    return e;
}

/* ---- the poller ---- */

static void *poll_main(void *arg)
{
    struct idcard_dev *d = arg;
    while (!atomic_load(&d->stopping)) {
        long next = bridge_now_ms() + d->poll_ms;
        if (pthread_mutex_trylock(&d->io) == 0) {
            struct idf_reply rep;
            enum bridge_err e = exchange(d, IDC_FIND, bridge_now_ms() + d->poll_timeout_ms, &rep);
            pthread_mutex_unlock(&d->io);
            int now = e == BRIDGE_OK ? 1 : e == BRIDGE_NO_CARD || e == BRIDGE_ABSENT ? 0 : -1;
            if (now >= 0 && now != d->present) {
                if (now == 1)
                    bridge_post_event(d->br, "idcard.present", json_pack("{s:b}", "present", 1));
                else if (d->present == 1)
                    bridge_post_event(d->br, "idcard.removed", json_pack("{s:b}", "present", 0));
                d->present = now;
            }
        }
        while (!atomic_load(&d->stopping) && bridge_now_ms() < next) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static int dev_open(void *ctx, struct bridge *br)
{
    struct idcard_dev *d = ctx;
    d->br = br;
    pthread_mutex_lock(&d->io);
    ensure_open(d); /* absent is a state, not a failure */
    pthread_mutex_unlock(&d->io);
    if (d->poll_ms > 0) {
        if (pthread_create(&d->poller, NULL, poll_main, d) != 0)
            return -1;
        d->polling = true;
    }
    return 0;
}

static void dev_close(void *ctx)
{
    struct idcard_dev *d = ctx;
    atomic_store(&d->stopping, true);
    if (d->polling) {
        pthread_join(d->poller, NULL);
        d->polling = false;
    }
    pthread_mutex_lock(&d->io);
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    pthread_mutex_unlock(&d->io);
}

static const char *dev_state(void *ctx)
{
    struct idcard_dev *d = ctx;
    return atomic_load(&d->absent) ? "absent" : "ready";
}

static const struct bridge_route IDCARD_ROUTES[] = {
    {.method = "GET", .path = "/v1/idcard", .handle = handle_read},
};

const struct bridge_device IDCARD_DEVICE = {
    .name = "idcard",
    .open = dev_open,
    .close = dev_close,
    .state = dev_state,
    .routes = IDCARD_ROUTES,
    .n_routes = sizeof IDCARD_ROUTES / sizeof IDCARD_ROUTES[0],
};
