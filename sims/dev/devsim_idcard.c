/* zhanye-devsim idcard --pty-link PATH [--control 127.0.0.1:PORT] [--watch-pid PID]
 *
 * An ID-card reader (GA/T 467 SAM frames, client/bridge/idcard_frame.h) on
 * a pseudo-terminal whose slave is symlinked at PATH. Ready line:
 *   zhanye-devsim idcard: pty /dev/pts/N link PATH control http://127.0.0.1:PORT
 *
 * Control (HTTP on 127.0.0.1, JSON):
 *   POST   /card   {"name","sex_code","nation_code","birth","address","id_no",
 *                   "issuer","valid_from","valid_to","photo_b64"}: places a
 *                  card; missing fields take the demo card's (张三, ...), the
 *                  photo defaults to bytes (i*7+3) & 0xFF. 400 if a field
 *                  does not fit its slot.
 *   DELETE /card   removes the card
 *   POST   /fault  {"corrupt":"checksum|length|truncate|status|preamble|oversize",
 *                   "on":"find|select|read|any" (default any),
 *                   "stall":bool, "delay_ms":N}: replaces the fault state
 *                  ({} clears it). corrupt is one-shot: the next reply to a
 *                  command matching "on" is spoilt, later ones are not.
 *                  stall: commands are read and never answered.
 *                  delay_ms: each reply waits that long.
 *   GET    /stats  {"commands","find","select","read","card","corrupted"}
 * Reader side: find 20 01 -> 9F + 4 zero bytes (card) / 80; select 20 02
 * -> 90 + 8 zero bytes / 81; read 30 01 -> 90 + lengths, text, photo / 41;
 * another command -> 21; a command frame with a bad checksum -> 10. */
#include "devsim.h"

#include "idcard_frame.h"

#include "foundation/codec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const struct idcard_info DEMO = {
    .name = "张三",
    .sex_code = "1",
    .nation_code = "01",
    .birth = "19900307",
    .address = "北京市东城区景山前街4号",
    .id_no = "110101199003070011",
    .issuer = "北京市公安局东城分局",
    .valid_from = "20200101",
    .valid_to = "20400101",
};

struct sim {
    pthread_mutex_t mu;
    bool card;
    uint8_t text[IDF_TEXT_LEN];
    uint8_t photo[IDF_PHOTO_LEN];
    char corrupt[16];
    char on[8];
    bool stall;
    int delay_ms;
    long commands, n_find, n_select, n_read, corrupted;
};

static struct sim S = {.mu = PTHREAD_MUTEX_INITIALIZER};
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- control ---- */

static const char *str_or(json_t *o, const char *k, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : dflt;
}

static int set_card(json_t *o)
{
    struct idcard_info in;
    memset(&in, 0, sizeof in);
    struct {
        const char *key;
        const char *dflt;
        char *dst;
        size_t cap;
    } f[] = {
        {"name", DEMO.name, in.name, sizeof in.name},
        {"sex_code", DEMO.sex_code, in.sex_code, sizeof in.sex_code},
        {"nation_code", DEMO.nation_code, in.nation_code, sizeof in.nation_code},
        {"birth", DEMO.birth, in.birth, sizeof in.birth},
        {"address", DEMO.address, in.address, sizeof in.address},
        {"id_no", DEMO.id_no, in.id_no, sizeof in.id_no},
        {"issuer", DEMO.issuer, in.issuer, sizeof in.issuer},
        {"valid_from", DEMO.valid_from, in.valid_from, sizeof in.valid_from},
        {"valid_to", DEMO.valid_to, in.valid_to, sizeof in.valid_to},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const char *v = str_or(o, f[i].key, f[i].dflt);
        if (strlen(v) >= f[i].cap)
            return -1;
        memcpy(f[i].dst, v, strlen(v) + 1);
    }
    uint8_t text[IDF_TEXT_LEN], photo[IDF_PHOTO_LEN];
    if (idcard_text_encode(&in, text) != 0)
        return -1;
    const char *pb = json_string_value(json_object_get(o, "photo_b64"));
    if (pb) {
        if (b64_decode(pb, strlen(pb), photo, sizeof photo) != IDF_PHOTO_LEN)
            return -1;
    } else {
        for (size_t i = 0; i < sizeof photo; i++)
            photo[i] = (uint8_t)((i * 7 + 3) & 0xFF);
    }
    pthread_mutex_lock(&S.mu);
    memcpy(S.text, text, sizeof text);
    memcpy(S.photo, photo, sizeof photo);
    S.card = true;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

static int set_fault(json_t *o)
{
    const char *c = str_or(o, "corrupt", "");
    const char *on = str_or(o, "on", "any");
    static const char *const kinds[] = {"",       "checksum", "length",  "truncate",
                                        "status", "preamble", "oversize"};
    bool ok = false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        ok = ok || strcmp(c, kinds[i]) == 0;
    if (!ok ||
        (strcmp(on, "any") && strcmp(on, "find") && strcmp(on, "select") && strcmp(on, "read")))
        return -1;
    json_int_t delay = json_integer_value(json_object_get(o, "delay_ms"));
    if (delay < 0 || delay > 60000)
        return -1;
    pthread_mutex_lock(&S.mu);
    snprintf(S.corrupt, sizeof S.corrupt, "%s", c);
    snprintf(S.on, sizeof S.on, "%s", on);
    S.stall = json_is_true(json_object_get(o, "stall"));
    S.delay_ms = (int)delay;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, json_t *body)
{
    char *t = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!t)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(t), t, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

struct upload {
    char buf[8192];
    size_t len;
};

static enum MHD_Result on_control(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    struct upload *u = *con_cls;
    if (!u) {
        u = calloc(1, sizeof *u);
        *con_cls = u;
        return u ? MHD_YES : MHD_NO;
    }
    if (*size) {
        size_t n = *size < sizeof u->buf - 1 - u->len ? *size : sizeof u->buf - 1 - u->len;
        memcpy(u->buf + u->len, data, n);
        u->len += n;
        *size = 0;
        return MHD_YES;
    }
    json_t *body = u->len ? json_loadb(u->buf, u->len, 0, NULL) : json_object();
    enum MHD_Result rc;
    if (!json_is_object(body)) {
        rc = reply(c, 400, json_pack("{s:s}", "error", "bad json"));
    } else if (strcmp(url, "/card") == 0 && strcmp(method, "POST") == 0) {
        rc = set_card(body) == 0 ? reply(c, 200, json_pack("{s:b}", "ok", 1))
                                 : reply(c, 400, json_pack("{s:s}", "error", "bad card"));
    } else if (strcmp(url, "/card") == 0 && strcmp(method, "DELETE") == 0) {
        pthread_mutex_lock(&S.mu);
        S.card = false;
        pthread_mutex_unlock(&S.mu);
        rc = reply(c, 200, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(url, "/fault") == 0 && strcmp(method, "POST") == 0) {
        rc = set_fault(body) == 0 ? reply(c, 200, json_pack("{s:b}", "ok", 1))
                                  : reply(c, 400, json_pack("{s:s}", "error", "bad fault"));
    } else if (strcmp(url, "/stats") == 0 && strcmp(method, "GET") == 0) {
        pthread_mutex_lock(&S.mu);
        json_t *st =
            json_pack("{s:I,s:I,s:I,s:I,s:b,s:I}", "commands", (json_int_t)S.commands, "find",
                      (json_int_t)S.n_find, "select", (json_int_t)S.n_select, "read",
                      (json_int_t)S.n_read, "card", S.card, "corrupted", (json_int_t)S.corrupted);
        pthread_mutex_unlock(&S.mu);
        rc = reply(c, 200, st);
    } else {
        rc = reply(c, 404, json_pack("{s:s}", "error", "not found"));
    }
    json_decref(body);
    return rc;
}

static void on_control_done(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

/* ---- reader side ---- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, 100);
            if (stop_flag)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static const char *cmd_name(uint16_t cmd)
{
    return cmd == IDC_FIND ? "find" : cmd == IDC_SELECT ? "select" : cmd == IDC_READ ? "read" : "";
}

/* Spoils frame f[0..*n) (cap bytes) in place as kind says. */
static void spoil(const char *kind, uint8_t *f, size_t *n, size_t cap)
{
    if (strcmp(kind, "checksum") == 0) {
        f[*n - 1] ^= 0x5A;
    } else if (strcmp(kind, "length") == 0) {
        /* a consistent frame whose data is 2 bytes short (or 2 long) */
        size_t dl = *n - IDF_HEADER_LEN - 4;
        uint8_t sw = f[IDF_HEADER_LEN + 2];
        uint8_t data[IDF_MAX_LEN];
        memcpy(data, f + IDF_HEADER_LEN + 3, dl);
        size_t nl = dl >= 2 ? dl - 2 : dl + 2;
        if (nl > dl)
            memset(data + dl, 0, nl - dl);
        *n = (size_t)idf_build_reply(sw, data, nl, f, cap);
    } else if (strcmp(kind, "truncate") == 0) {
        *n = *n / 2;
    } else if (strcmp(kind, "status") == 0) {
        f[IDF_HEADER_LEN + 2] = 0xE7;
        uint8_t x = 0;
        for (size_t i = 5; i + 1 < *n; i++)
            x ^= f[i];
        f[*n - 1] = x;
    } else if (strcmp(kind, "preamble") == 0) {
        f[4] = 0x68;
    } else if (strcmp(kind, "oversize") == 0) {
        f[5] = 0xFF;
        f[6] = 0xFF;
    }
}

static void answer(int fd, uint16_t cmd, bool bad_checksum)
{
    static uint8_t out[IDF_FRAME_MAX];
    uint8_t data[IDF_READ_DATA_LEN];
    size_t dl = 0;
    uint8_t sw;
    pthread_mutex_lock(&S.mu);
    S.commands++;
    bool stall = S.stall;
    int delay = S.delay_ms;
    if (bad_checksum) {
        sw = IDSW_RX_CHECKSUM;
    } else if (cmd == IDC_FIND) {
        S.n_find++;
        sw = S.card ? IDSW_FOUND : IDSW_NO_CARD;
        if (S.card) {
            memset(data, 0, 4);
            dl = 4;
        }
    } else if (cmd == IDC_SELECT) {
        S.n_select++;
        sw = S.card ? IDSW_OK : IDSW_SELECT_FAILED;
        if (S.card) {
            memset(data, 0, 8);
            dl = 8;
        }
    } else if (cmd == IDC_READ) {
        S.n_read++;
        sw = S.card ? IDSW_OK : IDSW_READ_FAILED;
        if (S.card) {
            data[0] = IDF_TEXT_LEN >> 8;
            data[1] = IDF_TEXT_LEN & 0xFF;
            data[2] = IDF_PHOTO_LEN >> 8;
            data[3] = IDF_PHOTO_LEN & 0xFF;
            memcpy(data + 4, S.text, IDF_TEXT_LEN);
            memcpy(data + 4 + IDF_TEXT_LEN, S.photo, IDF_PHOTO_LEN);
            dl = IDF_READ_DATA_LEN;
        }
    } else {
        sw = IDSW_UNKNOWN_CMD;
    }
    char kind[16] = "";
    if (S.corrupt[0] && (strcmp(S.on, "any") == 0 || strcmp(S.on, cmd_name(cmd)) == 0)) {
        snprintf(kind, sizeof kind, "%s", S.corrupt);
        S.corrupt[0] = '\0';
        S.corrupted++;
    }
    pthread_mutex_unlock(&S.mu);
    if (stall)
        return;
    if (delay > 0)
        sleep_ms(delay);
    int n = idf_build_reply(sw, data, dl, out, sizeof out);
    if (n < 0)
        return;
    size_t len = (size_t)n;
    if (kind[0])
        spoil(kind, out, &len, sizeof out);
    write_all(fd, out, len);
}

/* Consumes complete command frames from buf[0..*len), resyncing on the
 * preamble past garbage. */
static void serve_bytes(int fd, uint8_t *buf, size_t *len)
{
    for (;;) {
        size_t i = 0;
        while (i < *len && buf[i] != 0xAA)
            i++;
        if (i) {
            memmove(buf, buf + i, *len - i);
            *len -= i;
        }
        if (*len < IDF_HEADER_LEN + 3)
            return;
        uint16_t cmd = 0;
        enum idf_rc rc = idf_parse_command(buf, IDF_HEADER_LEN + 3, &cmd);
        if (rc == IDF_PREAMBLE || rc == IDF_LENGTH || rc == IDF_OVERSIZE) {
            memmove(buf, buf + 1, *len - 1); /* not a frame start: skip a byte */
            *len -= 1;
            continue;
        }
        answer(fd, cmd, rc == IDF_CHECKSUM);
        memmove(buf, buf + IDF_HEADER_LEN + 3, *len - (IDF_HEADER_LEN + 3));
        *len -= IDF_HEADER_LEN + 3;
    }
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    if (!colon || strncmp(s, "127.0.0.1", (size_t)(colon - s)) != 0 || colon - s != 9)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)p);
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

int devsim_idcard_main(int argc, char **argv)
{
    const char *link_path = NULL, *control = "127.0.0.1:0";
    long watch = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pty-link") == 0)
            link_path = argv[i + 1];
        else if (strcmp(argv[i], "--control") == 0)
            control = argv[i + 1];
        else if (strcmp(argv[i], "--watch-pid") == 0)
            watch = strtol(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "zhanye-devsim idcard: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    struct sockaddr_in sa;
    if (!link_path || parse_listen(control, &sa) != 0) {
        fprintf(stderr, "usage: zhanye-devsim idcard --pty-link PATH [--control 127.0.0.1:PORT]"
                        " [--watch-pid PID]\n");
        return 2;
    }
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        perror("zhanye-devsim idcard: posix_openpt");
        return 1;
    }
    const char *slave = ptsname(m);
    char slave_path[128];
    snprintf(slave_path, sizeof slave_path, "%s", slave ? slave : "");
    /* Our own slave descriptor: raw mode from the start, and the master
     * never sees EIO while the bridge has the port closed. */
    int s = open(slave_path, O_RDWR | O_NOCTTY);
    struct termios t;
    if (s < 0 || tcgetattr(s, &t) != 0) {
        perror("zhanye-devsim idcard: slave");
        return 1;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    tcsetattr(s, TCSANOW, &t);
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    unlink(link_path);
    if (symlink(slave_path, link_path) != 0) {
        perror("zhanye-devsim idcard: symlink");
        return 1;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t sl = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        perror("zhanye-devsim idcard: control");
        unlink(link_path);
        return 1;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
        NULL, on_control, NULL, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_NOTIFY_COMPLETED,
        on_control_done, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "zhanye-devsim idcard: control server did not start\n");
        unlink(link_path);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("zhanye-devsim idcard: pty %s link %s control http://127.0.0.1:%d\n", slave_path,
           link_path, ntohs(sa.sin_port));
    fflush(stdout);

    uint8_t buf[4096];
    size_t len = 0;
    while (!stop_flag) {
        if (watch > 0 && kill((pid_t)watch, 0) != 0 && errno == ESRCH)
            break;
        struct pollfd pf = {.fd = m, .events = POLLIN};
        int r = poll(&pf, 1, 100);
        if (r <= 0)
            continue;
        ssize_t n = read(m, buf + len, sizeof buf - len);
        if (n <= 0)
            continue;
        len += (size_t)n;
        serve_bytes(m, buf, &len);
        if (len == sizeof buf)
            len = 0; /* garbage only */
    }
    MHD_stop_daemon(d);
    unlink(link_path);
    close(s);
    close(m);
    return 0;
}
