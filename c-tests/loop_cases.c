/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The event-loop matrix of docs/event-loops.md: every object with a descriptor, in each
 * direction that has one, driven by one event loop per process (created after fork) of
 * the backend this program is linked with (loop_backend(): epoll, libuv or Boost.Asio).
 *
 * A transfer case: the sending process floods with IPCX_NOWAIT until IPCX_ERR_TIMEOUT
 * (back-pressure, asserted), registers its send descriptor for the event ipcx names and
 * goes on only from the loop's callbacks, sending the refused message again, then
 * flushing until IPCX_OK before it closes. The receiving process starts only once the
 * sender said (an ipcx_notifier, watched by its loop) that it met back-pressure, and
 * receives only from readable callbacks, draining with IPCX_NOWAIT until
 * IPCX_ERR_TIMEOUT. Asserted: every message once, in order, with its exact content
 * (sequence number and pattern); the writable callback ran; the loop did not spin
 * (callbacks that made no progress stay under 10 per message); every process ends within
 * its deadline. */
#include "test.h"

#include "loop_cases.h"

#include <poll.h>
#include <stddef.h>

#define DEADLINE_MS 20000 /* per process */
#define SMALL 64
#define BIG (40 * 1024) /* above half the 64 KiB kernel buffers: kept partial messages */
#define FLOOD_MAX 1000000
#define EXTRA 64 /* messages sent after a second buffer's worth */

/* The backend this program is linked with. */
#define B (loop_backend())

/* ---------------------------------------------------------------- messages */

/* Message `seq` of `n` (>= 8) bytes: the sequence number, then a pattern of it. */
static void mk_msg(unsigned char *m, size_t n, uint32_t seq) {
    memcpy(m, &seq, sizeof seq);
    for (size_t i = sizeof seq; i < n; i++) m[i] = (unsigned char)(seq * 131u + i * 7u + 1u);
}

static void check_msg(const char *what, const unsigned char *m, size_t len, size_t n,
                      uint32_t seq) {
    uint32_t got;
    T_ASSERTF(len == n, "%s: message %u is %zu bytes, expected %zu", what, seq, len, n);
    memcpy(&got, m, sizeof got);
    T_ASSERTF(got == seq, "%s: message %u arrived where %u was expected", what, got, seq);
    for (size_t i = sizeof seq; i < n; i++)
        T_ASSERTF(m[i] == (unsigned char)(seq * 131u + i * 7u + 1u),
                  "%s: message %u differs at byte %zu", what, seq, i);
}

/* ---------------------------------------------------------------- the objects' calls */

struct ops {
    int (*send)(void *h, const void *b, size_t n, int64_t to);
    int (*recv)(void *h, void *b, size_t *n, int64_t to);
    int (*flush)(void *h, int64_t to); /* NULL: messages go whole */
};

static int chan_send(void *h, const void *b, size_t n, int64_t to) { return ipcx_chan_send(h, b, n, to); }
static int chan_recv(void *h, void *b, size_t *n, int64_t to) { return ipcx_chan_recv(h, b, n, to); }
static int chan_flush(void *h, int64_t to) { return ipcx_chan_flush(h, to); }
static const struct ops CHAN = {chan_send, chan_recv, chan_flush};

static int pipe_send(void *h, const void *b, size_t n, int64_t to) { return ipcx_pipe_send(h, b, n, to); }
static int pipe_recv(void *h, void *b, size_t *n, int64_t to) { return ipcx_pipe_recv(h, b, n, to); }
static int pipe_flush(void *h, int64_t to) { return ipcx_pipe_flush(h, to); }
static const struct ops PIPE = {pipe_send, pipe_recv, pipe_flush};

static int sock_send(void *h, const void *b, size_t n, int64_t to) { return ipcx_sock_send(h, b, n, to); }
static int sock_recv(void *h, void *b, size_t *n, int64_t to) { return ipcx_sock_recv(h, b, n, to); }
static int sock_flush(void *h, int64_t to) { return ipcx_sock_flush(h, to); }
static const struct ops SOCK = {sock_send, sock_recv, sock_flush};

static int pmq_send(void *h, const void *b, size_t n, int64_t to) { return ipcx_mq_send(h, b, n, 0, to); }
static int pmq_recv(void *h, void *b, size_t *n, int64_t to) { return ipcx_mq_recv(h, b, n, to, NULL); }
static const struct ops MQ = {pmq_send, pmq_recv, NULL};

static int ring_send(void *h, const void *b, size_t n, int64_t to) { return ipcx_ring_send(h, b, n, to); }
static int ring_recv(void *h, void *b, size_t *n, int64_t to) { return ipcx_ring_recv(h, b, n, to); }
static const struct ops RING = {ring_send, ring_recv, NULL};

/* ---------------------------------------------------------------- shared state */

/* Anonymous shared memory for what a notifier's poke announces: the number of messages
 * the sender will send (index: direction). */
struct shared {
    atomic_int total[2];
};

static struct shared *shared_new(void) {
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    T_ASSERT(s != MAP_FAILED);
    atomic_store(&s->total[0], 0);
    atomic_store(&s->total[1], 0);
    return s;
}

static int notifier_fd(const ipcx_notifier *n) {
    int fd = -1;
    T_OK(ipcx_notifier_fd(n, &fd));
    T_ASSERT(fd >= 0);
    return fd;
}

/* Take the pokes of a readable notifier: exactly `want`. */
static void take_pokes(const char *what, ipcx_notifier *n, uint64_t want) {
    uint64_t count = 0;
    T_OK(ipcx_notifier_wait(n, IPCX_NOWAIT, &count));
    T_ASSERTF(count == want, "%s: %llu pokes, expected %llu", what, (unsigned long long)count,
              (unsigned long long)want);
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_notifier_wait(n, IPCX_NOWAIT, &count));
}

struct poke_state {
    ipcx_notifier *n;
    uint64_t want, have; /* pokes expected so far, taken so far */
    int wakeups, idle, done;
};

/* Readable: take the pokes there are (a round's pokes may come over several wake-ups). */
static void on_poke(void *arg, int revents) {
    struct poke_state *s = arg;
    uint64_t count = 0;
    s->wakeups++;
    T_ASSERTF(revents & LOOP_IN, "notifier callback with events %#x", revents);
    int st = ipcx_notifier_wait(s->n, IPCX_NOWAIT, &count);
    if (st == IPCX_ERR_TIMEOUT) { /* a wake-up for nothing: the callers bound them */
        s->idle++;
        return;
    }
    T_OK(st);
    s->have += count;
    T_ASSERTF(s->have <= s->want, "notifier: %llu pokes, expected %llu",
              (unsigned long long)s->have, (unsigned long long)s->want);
    if (s->have == s->want) s->done = 1;
}

/* After a loop waited on an object's descriptor, a call with a timeout still waits for
 * it (the loop changed nothing of the object's own: docs/event-loops.md). */
#define WAITS_AFTER_LOOP(call)                                                      \
    do {                                                                            \
        double t0_ = t_now_ms();                                                    \
        int s_ = (call);                                                            \
        double el_ = t_now_ms() - t0_;                                              \
        T_ASSERTF(s_ == IPCX_ERR_TIMEOUT && el_ >= 100.0,                           \
                  "[%s] after the loop, %s returned %s after %.3f ms, expected "    \
                  "IPCX_ERR_TIMEOUT after 100 ms",                                  \
                  B->name, #call, ipcx_status_name(s_), el_);                       \
    } while (0)

static void on_nothing(void *arg, int revents) {
    T_FAIL("%s: readable with nothing to read (events %#x)", (const char *)arg, revents);
}

/* A loop of the backend waits 50 ms on a receive descriptor with nothing to receive (the
 * transfer's loop may never have waited on it, when the receiver kept up). */
static void idle_wait(int fd, const char *what) {
    void *L = B->create();
    T_ASSERT(L != NULL);
    T_ASSERT(B->watch(L, fd, LOOP_IN, on_nothing, (void *)what) == 0);
    T_EQ_INT(B->run_once(L, 50), 0);
    T_ASSERT(B->unwatch(L, fd) == 0);
    B->destroy(L);
}

/* Fork the other process of a case. The child is killed by SIGALRM if it outlives its
 * deadline (a parent that failed first does not wait for it). */
static pid_t loop_fork(void) {
    pid_t p = t_fork();
    if (p == 0) alarm(DEADLINE_MS / 1000 + 10);
    return p;
}

/* Run the loop until *done, within the process's deadline. */
static void run_until(void *L, const int *done, double end, const char *what) {
    while (!*done) {
        T_ASSERTF(t_now_ms() < end, "%s [%s]: not done within %d ms", what, B->name, DEADLINE_MS);
        T_ASSERTF(B->run_once(L, 100) >= 0, "%s [%s]: the loop failed", what, B->name);
    }
}

/* ---------------------------------------------------------------- the transfer engine */

enum { W_TX = 1, W_RX = 2, W_BP = 4, W_ACK = 8 };

struct eng;
struct fdw {
    struct eng *e;
    int fd, roles, events;
};

struct eng {
    const char *what;
    void *L;
    const struct ops *o;
    size_t size;
    unsigned char *msg, *buf;
    size_t bufcap;
    struct fdw w[4];
    int nw;
    double end;
    long cbs, idle, progress;
    /* sending (tx != NULL) */
    void *tx;
    int txfd, txev;
    int sent, total, flooded, waiting, flushed, out_cbs, tx_done;
    atomic_int *total_out;
    ipcx_notifier *bp_out;  /* poked once back-pressure is met */
    ipcx_notifier *ack_in;  /* warm-up: the receiver took message 0 */
    int acked;
    /* receiving (rx != NULL) */
    void *rx;
    int rxfd;
    int got, expect, total_in_known, closed, draining, warm_rx, rx_done, tells_close;
    atomic_int *total_in;
    ipcx_notifier *bp_in;
    ipcx_notifier *ack_out;
    size_t kept_over; /* a flood of more bytes than this kept part of its last message */
};

static int wanted(const struct eng *e, const struct fdw *w) {
    int ev = 0;
    if ((w->roles & W_RX) && !e->rx_done && (e->warm_rx || e->draining)) ev |= LOOP_IN;
    if ((w->roles & W_TX) && e->waiting) ev |= e->txev;
    if ((w->roles & W_BP) && !e->draining) ev |= LOOP_IN;
    if ((w->roles & W_ACK) && !e->acked) ev |= LOOP_IN;
    return ev;
}

/* Bring every watch in line with what the engine waits for. */
static void sync_watches(struct eng *e) {
    for (int i = 0; i < e->nw; i++) {
        int ev = wanted(e, &e->w[i]);
        if (ev != e->w[i].events) {
            T_ASSERTF(B->modify(e->L, e->w[i].fd, ev) == 0, "%s: modify", e->what);
            e->w[i].events = ev;
        }
    }
}

static void on_fd(void *arg, int revents);

static void add_watch(struct eng *e, int fd, int role) {
    for (int i = 0; i < e->nw; i++)
        if (e->w[i].fd == fd) { /* one watch per descriptor: an ipcx_sock's both ways */
            e->w[i].roles |= role;
            return;
        }
    struct fdw *w = &e->w[e->nw++];
    w->e = e;
    w->fd = fd;
    w->roles = role;
    w->events = 0;
    T_ASSERTF(B->watch(e->L, fd, 0, on_fd, w) == 0, "%s: watch", e->what);
}

/* Send until refused or done; then flush until IPCX_OK. */
static void pump(struct eng *e) {
    while (e->sent < e->total) {
        mk_msg(e->msg, e->size, (uint32_t)e->sent);
        int s = e->o->send(e->tx, e->msg, e->size, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) return; /* wait for the descriptor, send it again */
        T_ASSERTF(s == IPCX_OK, "%s: send of message %d: %s: %s", e->what, e->sent,
                  ipcx_status_name(s), ipcx_last_error());
        e->sent++;
        e->progress++;
    }
    if (e->o->flush) {
        int s = e->o->flush(e->tx, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) return;
        T_ASSERTF(s == IPCX_OK, "%s: flush: %s: %s", e->what, ipcx_status_name(s), ipcx_last_error());
    }
    e->flushed = 1;
    e->progress++;
    e->waiting = 0;
    e->tx_done = 1;
}

/* Flood with IPCX_NOWAIT until refused: back-pressure must come. Then wait for the
 * descriptor (the watch is armed before the receiver hears of it) and tell the receiver
 * how many messages there will be. */
static void flood(struct eng *e) {
    int first = e->sent;
    for (;;) {
        T_ASSERTF(e->sent < first + FLOOD_MAX, "%s: no back-pressure after %d messages", e->what,
                  FLOOD_MAX);
        mk_msg(e->msg, e->size, (uint32_t)e->sent);
        int s = e->o->send(e->tx, e->msg, e->size, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) break;
        T_ASSERTF(s == IPCX_OK, "%s: flood, message %d: %s: %s", e->what, e->sent,
                  ipcx_status_name(s), ipcx_last_error());
        e->sent++;
    }
    e->flooded = e->sent - first;
    T_ASSERTF(e->flooded > 0, "%s: the first send with IPCX_NOWAIT was refused", e->what);
    /* Accepted more than the kernel buffer holds: the last message was accepted with its
     * tail kept in the handle (written by the next send or flush). */
    T_ASSERTF((size_t)e->flooded * e->size > e->kept_over,
              "%s: %d messages accepted, %zu bytes: no message was kept in part", e->what,
              e->flooded, (size_t)e->flooded * e->size);
    e->total = e->sent + e->flooded + EXTRA; /* at least one more buffer's worth */
    e->waiting = 1;
    e->progress++;
    sync_watches(e);
    atomic_store(e->total_out, e->total);
    T_OK(ipcx_notifier_poke(e->bp_out));
}

/* Readable: receive with IPCX_NOWAIT until IPCX_ERR_TIMEOUT (or IPCX_ERR_CLOSED). */
static void drain(struct eng *e) {
    for (;;) {
        /* Every message came: a transport whose sender's close does not show (mq:, a
         * socket whose peer also waits for us) is done; the others wait for CLOSED. */
        if (e->total_in_known && e->got == e->expect && !e->tells_close) break;
        size_t len = e->bufcap;
        int s = e->o->recv(e->rx, e->buf, &len, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) break;
        if (s == IPCX_ERR_CLOSED) {
            T_ASSERTF(e->tells_close, "%s: IPCX_ERR_CLOSED from a transport that does not tell",
                      e->what);
            T_ASSERTF(e->total_in_known && e->got == e->expect,
                      "%s: IPCX_ERR_CLOSED after %d of %d messages", e->what, e->got,
                      e->total_in_known ? e->expect : -1);
            e->closed = 1;
            e->rx_done = 1;
            e->progress++;
            return;
        }
        T_ASSERTF(s == IPCX_OK, "%s: receive after %d messages: %s: %s", e->what, e->got,
                  ipcx_status_name(s), ipcx_last_error());
        T_ASSERTF(!e->total_in_known || e->got < e->expect, "%s: more than the %d messages sent",
                  e->what, e->expect);
        T_ASSERTF(!e->warm_rx || e->got == 0, "%s: a second message before back-pressure", e->what);
        check_msg(e->what, e->buf, len, e->size, (uint32_t)e->got);
        e->got++;
        e->progress++;
    }
    if (e->warm_rx && e->got == 1) { /* message 0 taken: the sender may flood now */
        e->warm_rx = 0;
        T_OK(ipcx_notifier_poke(e->ack_out));
    }
    if (e->total_in_known && e->got == e->expect && !e->tells_close) e->rx_done = 1;
}

static void on_fd(void *arg, int revents) {
    struct fdw *w = arg;
    struct eng *e = w->e;
    long before = e->progress;
    e->cbs++;
    if ((w->roles & W_BP) && !e->draining && (revents & (LOOP_IN | LOOP_ERR))) {
        take_pokes(e->what, e->bp_in, 1);
        e->expect = atomic_load(e->total_in);
        T_ASSERT(e->expect > 0);
        e->total_in_known = 1;
        e->draining = 1;
        e->progress++;
        drain(e); /* what is there already (an edge-triggered loop reports no edge for it) */
    }
    if ((w->roles & W_ACK) && !e->acked && (revents & (LOOP_IN | LOOP_ERR))) {
        take_pokes(e->what, e->ack_in, 1);
        e->acked = 1;
        flood(e);
    }
    if ((w->roles & W_RX) && !e->rx_done && (e->warm_rx || e->draining) &&
        (revents & (LOOP_IN | LOOP_ERR)))
        drain(e);
    if ((w->roles & W_TX) && e->waiting && (revents & (e->txev | LOOP_ERR))) {
        e->out_cbs++;
        pump(e);
    }
    if (e->progress == before) e->idle++;
    sync_watches(e);
}

struct eng_cfg {
    const char *what;
    const struct ops *o;
    size_t size;
    /* sending */
    void *tx;
    int txfd, txev;
    atomic_int *total_out;
    ipcx_notifier *bp_out, *ack_in; /* ack_in: warm-up (message 0 sent with a timeout first) */
    size_t kept_over;               /* the kernel buffer, where a flood must keep a tail */
    /* receiving */
    void *rx;
    int rxfd, tells_close;
    atomic_int *total_in;
    ipcx_notifier *bp_in, *ack_out;
};

/* Run one process's side(s) of a transfer in its own loop (created here, after fork),
 * then check what the callbacks saw. */
static void eng_run(const struct eng_cfg *c) {
    static struct eng e;
    memset(&e, 0, sizeof e);
    e.what = c->what;
    e.o = c->o;
    e.size = c->size;
    e.bufcap = c->size + 8192; /* a POSIX queue wants at least its message size */
    e.msg = malloc(c->size);
    e.buf = malloc(e.bufcap);
    T_ASSERT(e.msg && e.buf);
    e.end = t_now_ms() + DEADLINE_MS;
    e.L = B->create();
    T_ASSERTF(e.L != NULL, "%s: %s loop", c->what, B->name);
    e.tx = c->tx;
    e.txfd = c->txfd;
    e.txev = c->txev;
    e.total_out = c->total_out;
    e.bp_out = c->bp_out;
    e.ack_in = c->ack_in;
    e.kept_over = c->kept_over;
    e.rx = c->rx;
    e.rxfd = c->rxfd;
    e.tells_close = c->tells_close;
    e.total_in = c->total_in;
    e.bp_in = c->bp_in;
    e.ack_out = c->ack_out;
    e.acked = 1;
    if (e.rx) {
        e.warm_rx = c->ack_out != NULL;
        add_watch(&e, e.rxfd, W_RX);
        add_watch(&e, notifier_fd(e.bp_in), W_BP);
    }
    if (e.tx) {
        add_watch(&e, e.txfd, W_TX); /* no events until a send waits */
        if (e.ack_in) {
            /* Message 0 with a timeout: a zmq+ sender's first send waits for the
             * receiver's answer to the handshake (docs/event-loops.md). */
            mk_msg(e.msg, e.size, 0);
            T_OK(e.o->send(e.tx, e.msg, e.size, 10000));
            e.sent = 1;
            e.acked = 0;
            add_watch(&e, notifier_fd(e.ack_in), W_ACK);
        } else {
            flood(&e);
        }
    }
    sync_watches(&e);
    while (!((!e.tx || e.tx_done) && (!e.rx || e.rx_done))) {
        T_ASSERTF(t_now_ms() < e.end,
                  "%s [%s]: not done within %d ms: sent %d of %d (%d flooded, %d writable "
                  "callbacks, flushed %d), received %d of %d (draining %d, closed %d)",
                  e.what, B->name, DEADLINE_MS, e.sent, e.total, e.flooded, e.out_cbs,
                  e.flushed, e.got, e.expect, e.draining, e.closed);
        T_ASSERTF(B->run_once(e.L, 100) >= 0, "%s: the %s loop failed", e.what, B->name);
    }
    for (int i = 0; i < e.nw; i++) T_ASSERT(B->unwatch(e.L, e.w[i].fd) == 0);
    B->destroy(e.L);
    int msgs = (e.tx ? e.total : 0) + (e.rx ? e.got : 0);
    if (e.tx) {
        T_ASSERTF(e.out_cbs >= 1, "%s: the writable callback never ran", e.what);
        T_EQ_INT(e.sent, e.total);
        T_ASSERT(e.flushed);
    }
    if (e.rx) {
        T_EQ_INT(e.got, e.expect);
        if (e.tells_close) T_ASSERT(e.closed);
        else { /* nothing after the last message */
            size_t len = e.bufcap;
            int s = e.o->recv(e.rx, e.buf, &len, IPCX_NOWAIT);
            T_ASSERTF(s == IPCX_ERR_TIMEOUT || s == IPCX_ERR_CLOSED,
                      "%s: after the last message: %s", e.what, ipcx_status_name(s));
        }
    }
    T_ASSERTF(e.idle <= 10L * msgs, "%s [%s]: the loop spins: %ld of %ld callbacks made no "
              "progress for %d messages", e.what, B->name, e.idle, e.cbs, msgs);
    if (getenv("LOOP_VERBOSE"))
        fprintf(stderr, "  %s [%s, %s]: %d flooded, %d messages, %ld callbacks (%ld idle), "
                "%d writable\n", e.what, B->name, e.tx ? "send" : "recv", e.flooded,
                e.tx ? e.total : e.got, e.cbs, e.idle, e.out_cbs);
    free(e.msg);
    free(e.buf);
}

/* ---------------------------------------------------------------- channels */

/* The transports (as c-tests/test_chan.c forms their addresses). */
enum { TP_PIPE, TP_FIFO, TP_UNIX, TP_TCP, TP_MQ, TP_SHM, TP_NNG_IPC, TP_ZMQ_IPC };
static const struct {
    const char *scheme;
    int tells_recv;    /* the receiver gets IPCX_ERR_CLOSED once the sender is gone */
    int stream;        /* a byte stream: a send may keep part of a message */
    uint32_t send_ev;  /* the send side's fd_events, as docs/event-loops.md's table says */
} TP[] = {
    [TP_PIPE] = {"pipe", 1, 1, POLLOUT},   [TP_FIFO] = {"fifo", 1, 0, POLLOUT},
    [TP_UNIX] = {"unix", 1, 1, POLLOUT},   [TP_TCP] = {"tcp", 1, 1, POLLOUT},
    [TP_MQ] = {"mq", 0, 0, POLLOUT},       [TP_SHM] = {"shm", 1, 0, POLLIN},
    [TP_NNG_IPC] = {"nng+ipc", 1, 1, POLLOUT}, [TP_ZMQ_IPC] = {"zmq+ipc", 1, 1, POLLOUT},
};

#define ADDR_MAX 512

static const char *mkaddr(int t, char *buf, const char *tag) {
    char n[300];
    switch (t) {
    case TP_PIPE: snprintf(buf, ADDR_MAX, "pipe:"); break;
    case TP_TCP: snprintf(buf, ADDR_MAX, "tcp:127.0.0.1:0"); break;
    case TP_MQ:
        t_posix_name(n, sizeof n, tag);
        t_track_mq(n);
        snprintf(buf, ADDR_MAX, "mq:%s", n);
        break;
    case TP_SHM:
        t_posix_name(n, sizeof n, tag);
        t_track_shm(n);
        snprintf(buf, ADDR_MAX, "shm:%s", n);
        break;
    default: snprintf(buf, ADDR_MAX, "%s:%s", TP[t].scheme, t_path(n, sizeof n, tag)); break;
    }
    return buf;
}

static void chan_case(int t, size_t size) {
    char a[ADDR_MAX], sa[ADDR_MAX], what[64];
    snprintf(what, sizeof what, "%s: %zu B", TP[t].scheme, size);
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, size));
    if (t == TP_MQ) T_OK(ipcx_options_set_max_messages(o, 10));
    /* Small kernel buffers (a 64 KiB ring for shm:): back-pressure soon. */
    if (TP[t].stream || t == TP_SHM) T_OK(ipcx_options_set_capacity(o, 64 * 1024));
    struct shared *sh = shared_new();
    ipcx_notifier *bp = NULL, *ack = NULL;
    T_OK(ipcx_notifier_create(NULL, &bp));
    T_OK(ipcx_notifier_create(NULL, &ack));
    ipcx_chan *r = NULL, *s = NULL;
    if (t == TP_PIPE) {
        T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r)); /* before fork: inherited */
        snprintf(sa, sizeof sa, "pipe:");
    } else {
        T_OK(ipcx_chan_open(mkaddr(t, a, "loop"), IPCX_OPEN_READ, o, 0, &r));
        ipcx_chan_info ri = {.size = sizeof ri};
        T_OK(ipcx_chan_stat(r, &ri));
        snprintf(sa, sizeof sa, "%s", ri.address);
    }
    pid_t p = loop_fork();
    if (p == 0) { /* the sender */
        T_OK(ipcx_chan_close(r)); /* the inherited receiver (a child's close removes nothing) */
        if (!s) T_OK(ipcx_chan_open(sa, IPCX_OPEN_WRITE, o, 5000, &s));
        ipcx_chan_info si = {.size = sizeof si};
        T_OK(ipcx_chan_stat(s, &si));
        T_ASSERT(si.caps & IPCX_CHAN_CAP_POLL);
        T_ASSERTF(si.fd_events == TP[t].send_ev, "%s: sender fd_events %u, the table says %u",
                  what, si.fd_events, TP[t].send_ev);
        int fd = -1;
        T_OK(ipcx_chan_fd(s, &fd)); /* before the sends that fill it (shm:) */
        struct eng_cfg c = {.what = what, .o = &CHAN, .size = size, .tx = s, .txfd = fd,
                            .txev = (int)si.fd_events, .total_out = &sh->total[0],
                            .bp_out = bp, .ack_in = ack,
                            /* pipe: its 64 KiB (the capacity asked for) */
                            .kept_over = t == TP_PIPE && size == BIG ? 64 * 1024 : 0};
        eng_run(&c);
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_notifier_close(bp));
        T_OK(ipcx_notifier_close(ack));
        _exit(0);
    }
    if (s) T_OK(ipcx_chan_close(s));
    ipcx_chan_info ri = {.size = sizeof ri};
    T_OK(ipcx_chan_stat(r, &ri));
    T_ASSERT(ri.caps & IPCX_CHAN_CAP_POLL);
    T_EQ_INT(ri.fd_events, POLLIN);
    int fd = -1;
    T_OK(ipcx_chan_fd(r, &fd));
    struct eng_cfg c = {.what = what, .o = &CHAN, .size = size, .rx = r, .rxfd = fd,
                        .tells_close = TP[t].tells_recv, .total_in = &sh->total[0],
                        .bp_in = bp, .ack_out = ack};
    eng_run(&c);
    t_wait_ok(p, DEADLINE_MS + 5000);
    if (t == TP_MQ) {
        /* The flood (after message 0 was taken) filled the queue's 10 slots exactly. */
        T_EQ_INT(atomic_load(&sh->total[0]), 1 + 10 + 10 + EXTRA);
        unsigned char b[SMALL];
        size_t len = sizeof b;
        idle_wait(fd, what);
        WAITS_AFTER_LOOP(ipcx_chan_recv(r, b, &len, 100));
    }
    T_OK(ipcx_chan_close(r));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_notifier_close(bp));
    T_OK(ipcx_notifier_close(ack));
    munmap(sh, sizeof *sh);
}

T_CASE(chan_pipe) { chan_case(TP_PIPE, SMALL); }
T_CASE(chan_pipe_big) { chan_case(TP_PIPE, BIG); }
T_CASE(chan_fifo) { chan_case(TP_FIFO, SMALL); }
T_CASE(chan_unix) { chan_case(TP_UNIX, SMALL); }
T_CASE(chan_unix_big) { chan_case(TP_UNIX, BIG); }
T_CASE(chan_tcp) { chan_case(TP_TCP, SMALL); }
T_CASE(chan_mq) { chan_case(TP_MQ, SMALL); }
T_CASE(chan_shm) { chan_case(TP_SHM, SMALL); }
T_CASE(chan_nng_ipc) { chan_case(TP_NNG_IPC, SMALL); }
T_CASE(chan_zmq_ipc) { chan_case(TP_ZMQ_IPC, SMALL); }

/* ---------------------------------------------------------------- ipcx_pipe */

static void pipe_case(size_t size) {
    char what[64];
    snprintf(what, sizeof what, "ipcx_pipe: %zu B", size);
    struct shared *sh = shared_new();
    ipcx_notifier *bp = NULL;
    T_OK(ipcx_notifier_create(NULL, &bp));
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, size));
    ipcx_pipe *rd = NULL, *wr = NULL;
    T_OK(ipcx_pipe_pair(0, o, &rd, &wr));
    T_OK(ipcx_options_close(o));
    pid_t p = loop_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(rd));
        int rfd = 0, wfd = -1;
        T_OK(ipcx_pipe_fds(wr, &rfd, &wfd));
        T_EQ_INT(rfd, -1);
        size_t cap = 0;
        T_OK(ipcx_pipe_capacity(wr, &cap));
        struct eng_cfg c = {.what = what, .o = &PIPE, .size = size, .tx = wr, .txfd = wfd,
                            .txev = LOOP_OUT, .total_out = &sh->total[0], .bp_out = bp,
                            .kept_over = size == BIG ? cap : 0};
        eng_run(&c);
        T_OK(ipcx_pipe_close(wr));
        T_OK(ipcx_notifier_close(bp));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(wr));
    int rfd = -1, wfd = 0;
    T_OK(ipcx_pipe_fds(rd, &rfd, &wfd));
    T_EQ_INT(wfd, -1);
    struct eng_cfg c = {.what = what, .o = &PIPE, .size = size, .rx = rd, .rxfd = rfd,
                        .tells_close = 1, .total_in = &sh->total[0], .bp_in = bp};
    eng_run(&c);
    t_wait_ok(p, DEADLINE_MS + 5000);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_notifier_close(bp));
    munmap(sh, sizeof *sh);
}

T_CASE(pipe_pair) { pipe_case(SMALL); }
T_CASE(pipe_pair_big) { pipe_case(BIG); }

/* ---------------------------------------------------------------- ipcx_sock */

struct accept_state {
    ipcx_sock_listener *l;
    ipcx_sock *c;
    int done, cbs;
};

/* The listener's descriptor is readable: a connection waits; accept it with IPCX_NOWAIT,
 * and a second accept finds none. */
static void on_listener(void *arg, int revents) {
    struct accept_state *a = arg;
    a->cbs++;
    T_ASSERTF(revents & LOOP_IN, "listener callback with events %#x", revents);
    if (a->done) return;
    T_OK(ipcx_sock_accept(a->l, IPCX_NOWAIT, &a->c));
    ipcx_sock *none = NULL;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_sock_accept(a->l, IPCX_NOWAIT, &none));
    T_ASSERT(none == NULL);
    a->done = 1;
}

struct connect_state {
    ipcx_sock *s;
    int done, cbs;
};

/* The connecting socket's descriptor is writable: the connect is over. */
static void on_connected(void *arg, int revents) {
    struct connect_state *c = arg;
    c->cbs++;
    int s = ipcx_sock_connect_finish(c->s);
    if (s == IPCX_ERR_TIMEOUT) return; /* not yet */
    T_ASSERTF(s == IPCX_OK, "connect_finish (events %#x): %s: %s", revents, ipcx_status_name(s),
              ipcx_last_error());
    c->done = 1;
}

/* A TCP connection driven both ways on its one descriptor in each process: the listener's
 * descriptor wakes the parent's loop, which accepts with IPCX_NOWAIT; the child starts a
 * connect and finishes it when its descriptor is writable; then each side floods the
 * other, waits for writability, and drains what the other sent once told. */
T_CASE(sock_stream_both_ways) {
    const char *what = "ipcx_sock";
    struct shared *sh = shared_new();
    ipcx_notifier *bp_pc = NULL, *bp_cp = NULL; /* parent's back-pressure, child's */
    T_OK(ipcx_notifier_create(NULL, &bp_pc));
    T_OK(ipcx_notifier_create(NULL, &bp_cp));
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 64 * 1024));
    ipcx_sock_listener *l = NULL;
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", o, &l));
    char addr[IPCX_SOCK_ADDR_MAX];
    size_t alen = sizeof addr;
    T_OK(ipcx_sock_listener_address(l, addr, &alen));
    pid_t p = loop_fork();
    if (p == 0) {
        T_OK(ipcx_sock_listener_close(l));
        struct connect_state cs = {0};
        T_OK(ipcx_sock_connect_tcp_start(addr, o, &cs.s));
        int fd = -1;
        T_OK(ipcx_sock_fd(cs.s, &fd));
        void *L = B->create();
        T_ASSERT(L != NULL);
        T_ASSERT(B->watch(L, fd, LOOP_OUT, on_connected, &cs) == 0);
        run_until(L, &cs.done, t_now_ms() + DEADLINE_MS, "connect");
        T_ASSERT(B->unwatch(L, fd) == 0);
        B->destroy(L);
        struct eng_cfg c = {.what = what, .o = &SOCK, .size = SMALL, .tx = cs.s, .txfd = fd,
                            .txev = LOOP_OUT, .total_out = &sh->total[1], .bp_out = bp_cp,
                            .rx = cs.s, .rxfd = fd, .total_in = &sh->total[0], .bp_in = bp_pc};
        eng_run(&c);
        T_OK(ipcx_sock_close(cs.s));
        T_OK(ipcx_options_close(o));
        T_OK(ipcx_notifier_close(bp_pc));
        T_OK(ipcx_notifier_close(bp_cp));
        _exit(0);
    }
    struct accept_state as = {.l = l};
    int lfd = -1;
    T_OK(ipcx_sock_listener_fd(l, &lfd));
    void *L = B->create();
    T_ASSERT(L != NULL);
    T_ASSERT(B->watch(L, lfd, LOOP_IN, on_listener, &as) == 0);
    run_until(L, &as.done, t_now_ms() + DEADLINE_MS, "accept");
    T_EQ_INT(as.cbs, 1);
    T_ASSERT(B->unwatch(L, lfd) == 0);
    B->destroy(L);
    int fd = -1;
    T_OK(ipcx_sock_fd(as.c, &fd));
    struct eng_cfg c = {.what = what, .o = &SOCK, .size = SMALL, .tx = as.c, .txfd = fd,
                        .txev = LOOP_OUT, .total_out = &sh->total[0], .bp_out = bp_pc,
                        .rx = as.c, .rxfd = fd, .total_in = &sh->total[1], .bp_in = bp_cp};
    eng_run(&c);
    t_wait_ok(p, DEADLINE_MS + 5000);
    T_OK(ipcx_sock_close(as.c));
    T_OK(ipcx_sock_listener_close(l));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_notifier_close(bp_pc));
    T_OK(ipcx_notifier_close(bp_cp));
    munmap(sh, sizeof *sh);
}

/* ---------------------------------------------------------------- ipcx_mq */

/* A POSIX queue of 10 messages: the flood stops at exactly 10; ipcx_mq_fd is writable
 * when a slot is free and readable when a message is queued. */
T_CASE(mq_queue) {
    const char *what = "ipcx_mq";
    char name[128];
    t_posix_name(name, sizeof name, "loopmq");
    t_track_mq(name);
    struct shared *sh = shared_new();
    ipcx_notifier *bp = NULL;
    T_OK(ipcx_notifier_create(NULL, &bp));
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 10));
    T_OK(ipcx_options_set_max_message(o, SMALL));
    ipcx_mq *q = NULL;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q));
    T_OK(ipcx_options_close(o));
    pid_t p = loop_fork();
    if (p == 0) {
        T_OK(ipcx_mq_close(q));
        ipcx_mq *w = NULL;
        T_OK(ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &w));
        int fd = -1;
        T_OK(ipcx_mq_fd(w, &fd));
        struct eng_cfg c = {.what = what, .o = &MQ, .size = SMALL, .tx = w, .txfd = fd,
                            .txev = LOOP_OUT, .total_out = &sh->total[0], .bp_out = bp};
        eng_run(&c);
        T_OK(ipcx_mq_close(w));
        T_OK(ipcx_notifier_close(bp));
        _exit(0);
    }
    int fd = -1;
    T_OK(ipcx_mq_fd(q, &fd));
    struct eng_cfg c = {.what = what, .o = &MQ, .size = SMALL, .rx = q, .rxfd = fd,
                        .total_in = &sh->total[0], .bp_in = bp};
    eng_run(&c);
    t_wait_ok(p, DEADLINE_MS + 5000);
    /* The flood filled the queue's 10 slots exactly: total = 10 + 10 + EXTRA. */
    T_EQ_INT(atomic_load(&sh->total[0]), 20 + EXTRA);
    /* The loop only waited on the descriptor: the queue is still in blocking mode, and a
     * timed receive waits for its timeout (ipcx_mq_fd: switch non-blocking mode with
     * ipcx_mq_set_nonblocking only; docs/event-loops.md: never the loop's own). */
    idle_wait(fd, what);
    ipcx_mq_info info = {.size = sizeof info};
    T_OK(ipcx_mq_stat(q, &info));
    unsigned char buf[SMALL];
    size_t len = sizeof buf;
    double t0 = t_now_ms();
    int st = ipcx_mq_recv(q, buf, &len, 100, NULL);
    double el = t_now_ms() - t0;
    T_ASSERTF(st == IPCX_ERR_TIMEOUT && el >= 100.0,
              "[%s] after the loop, ipcx_mq_recv with a 100 ms timeout returned %s after %.3f ms "
              "(ipcx_mq_stat: nonblocking %d; the loop only waited on ipcx_mq_fd)",
              B->name, ipcx_status_name(st), el, (int)info.nonblocking);
    T_ASSERTF(!info.nonblocking, "[%s] the queue is in non-blocking mode after the loop", B->name);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
    T_OK(ipcx_notifier_close(bp));
    munmap(sh, sizeof *sh);
}

/* The other receive descriptor of a POSIX queue: ipcx_mq_notify's, readable when a
 * message arrives on the empty queue. Use as documented: when it is readable, call
 * ipcx_mq_notify again first (it consumes the event and re-arms), then drain. The sender
 * sends a round of messages (fewer than the queue holds) and waits, in its loop, for the
 * receiver's acknowledgement, so that every round arrives on an empty queue. */
#define MQN_ROUNDS 10
#define MQN_PER_ROUND 5

struct mqn_state {
    ipcx_mq *q;
    ipcx_notifier *ack;
    int fd, got, acked, wakeups, idle, done;
};

static void mqn_drain(struct mqn_state *s) {
    unsigned char buf[SMALL];
    for (;;) {
        size_t len = sizeof buf;
        int st = ipcx_mq_recv(s->q, buf, &len, IPCX_NOWAIT, NULL);
        if (st == IPCX_ERR_TIMEOUT) break;
        T_OK(st);
        check_msg("ipcx_mq_notify", buf, len, SMALL, (uint32_t)s->got);
        s->got++;
    }
    /* The queue is empty: acknowledge a complete round; the next arrives on it empty. */
    if (s->got / MQN_PER_ROUND > s->acked) {
        T_EQ_INT(s->got / MQN_PER_ROUND, s->acked + 1);
        s->acked++;
        T_OK(ipcx_notifier_poke(s->ack));
    }
    if (s->got == MQN_ROUNDS * MQN_PER_ROUND) s->done = 1;
}

static void on_mq_notify(void *arg, int revents) {
    struct mqn_state *s = arg;
    int before = s->got, fd = -1;
    s->wakeups++;
    T_ASSERTF(revents & LOOP_IN, "mq_notify callback with events %#x", revents);
    T_OK(ipcx_mq_notify(s->q, &fd)); /* first: consume the event and re-arm */
    T_EQ_INT(fd, s->fd);             /* the same descriptor for the life of the handle */
    mqn_drain(s);
    if (s->got == before) s->idle++;
}

T_CASE(mq_notify_descriptor) {
    char name[128];
    t_posix_name(name, sizeof name, "loopmqn");
    t_track_mq(name);
    ipcx_notifier *ack = NULL;
    T_OK(ipcx_notifier_create(NULL, &ack));
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 10));
    T_OK(ipcx_options_set_max_message(o, SMALL));
    ipcx_mq *q = NULL;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q));
    T_OK(ipcx_options_close(o));
    struct mqn_state s = {.q = q, .ack = ack};
    T_OK(ipcx_mq_notify(q, &s.fd)); /* registered before the sender exists */
    pid_t p = loop_fork();
    if (p == 0) {
        T_OK(ipcx_mq_close(q)); /* the inherited handle (the registration is the parent's) */
        ipcx_mq *w = NULL;
        T_OK(ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &w));
        void *L = B->create();
        T_ASSERT(L != NULL);
        struct poke_state ps = {.n = ack};
        int fd = notifier_fd(ack);
        T_ASSERT(B->watch(L, fd, LOOP_IN, on_poke, &ps) == 0);
        double end = t_now_ms() + DEADLINE_MS;
        unsigned char msg[SMALL];
        for (int round = 0; round < MQN_ROUNDS; round++) {
            for (int i = 0; i < MQN_PER_ROUND; i++) {
                mk_msg(msg, sizeof msg, (uint32_t)(round * MQN_PER_ROUND + i));
                T_OK(ipcx_mq_send(w, msg, sizeof msg, 0, 5000));
            }
            ps.want++;
            ps.done = 0;
            run_until(L, &ps.done, end, "mq_notify acknowledgement");
        }
        T_ASSERT(B->unwatch(L, fd) == 0);
        B->destroy(L);
        T_OK(ipcx_mq_close(w));
        T_OK(ipcx_notifier_close(ack));
        _exit(0);
    }
    void *L = B->create();
    T_ASSERT(L != NULL);
    mqn_drain(&s); /* messages already queued never notify: drain, then poll */
    T_ASSERT(B->watch(L, s.fd, LOOP_IN, on_mq_notify, &s) == 0);
    run_until(L, &s.done, t_now_ms() + DEADLINE_MS, "mq_notify");
    T_ASSERT(B->unwatch(L, s.fd) == 0);
    B->destroy(L);
    t_wait_ok(p, DEADLINE_MS + 5000);
    T_ASSERTF(s.wakeups >= MQN_ROUNDS - 1, "%d wake-ups for %d rounds", s.wakeups, MQN_ROUNDS);
    T_ASSERTF(s.idle <= 10 * MQN_ROUNDS, "mq_notify: %d wake-ups for nothing", s.idle);
    T_OK(ipcx_mq_notify_cancel(q));
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
    T_OK(ipcx_notifier_close(ack));
}

/* ---------------------------------------------------------------- ipcx_ring */

/* The producer's room descriptor (readable when room may be there) and the consumer's
 * notification descriptor, each asked for in the process that polls it. */
T_CASE(ring_pair) {
    const char *what = "ipcx_ring";
    struct shared *sh = shared_new();
    ipcx_notifier *bp = NULL;
    T_OK(ipcx_notifier_create(NULL, &bp));
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 16384));
    ipcx_ring *prod = NULL, *cons = NULL;
    T_OK(ipcx_ring_pair(0, o, &prod, &cons));
    T_OK(ipcx_options_close(o));
    pid_t p = loop_fork();
    if (p == 0) {
        T_OK(ipcx_ring_close(cons));
        int fd = -1;
        T_OK(ipcx_ring_fd(prod, &fd)); /* before the sends that fill the ring */
        struct eng_cfg c = {.what = what, .o = &RING, .size = SMALL, .tx = prod, .txfd = fd,
                            .txev = LOOP_IN, .total_out = &sh->total[0], .bp_out = bp};
        eng_run(&c);
        T_OK(ipcx_ring_close(prod));
        T_OK(ipcx_notifier_close(bp));
        _exit(0);
    }
    T_OK(ipcx_ring_close(prod));
    int fd = -1;
    T_OK(ipcx_ring_fd(cons, &fd));
    struct eng_cfg c = {.what = what, .o = &RING, .size = SMALL, .rx = cons, .rxfd = fd,
                        .tells_close = 1, .total_in = &sh->total[0], .bp_in = bp};
    eng_run(&c);
    t_wait_ok(p, DEADLINE_MS + 5000);
    T_OK(ipcx_ring_close(cons));
    T_OK(ipcx_notifier_close(bp));
    munmap(sh, sizeof *sh);
}

/* ---------------------------------------------------------------- ipcx_signalfd */

#define SIG_ROUNDS 5
#define SIG_PER_ROUND 8
#define SIGBIT(s) ((ipcx_sigset)1 << ((s) - 1))

struct sig_state {
    ipcx_signalfd *r;
    ipcx_notifier *ack;
    pid_t from;
    int signo, got, cbs, idle, done;
};

/* Readable: take every queued signal; each round's last one is acknowledged. */
static void on_signal(void *arg, int revents) {
    struct sig_state *s = arg;
    int before = s->got;
    s->cbs++;
    T_ASSERTF(revents & LOOP_IN, "signalfd callback with events %#x", revents);
    for (;;) {
        ipcx_siginfo info = {.size = sizeof info};
        int st = ipcx_signalfd_recv(s->r, IPCX_NOWAIT, &info);
        if (st == IPCX_ERR_TIMEOUT) break;
        T_OK(st);
        T_EQ_INT(info.signo, s->signo);
        T_EQ_INT(info.code, SI_QUEUE);
        T_EQ_INT(info.pid, s->from);
        T_EQ_INT(info.value.as_int, 1000 + s->got); /* the payload, in order */
        s->got++;
        if (s->got % SIG_PER_ROUND == 0) T_OK(ipcx_notifier_poke(s->ack));
    }
    if (s->got == before) s->idle++;
    if (s->got == SIG_ROUNDS * SIG_PER_ROUND) s->done = 1;
}

/* Real-time signals with payloads queued by the other process make the signalfd
 * readable; the receiver acknowledges each round through a notifier the sender's loop
 * watches, so every round starts with the receiver's loop idle. */
T_CASE(signalfd_queued) {
    const int signo = ipcx_signal_rtmin() + 3;
    ipcx_sigset old = 0;
    T_OK(ipcx_signal_block(SIGBIT(signo), &old)); /* before fork: nothing is lost */
    ipcx_notifier *ack = NULL;
    T_OK(ipcx_notifier_create(NULL, &ack));
    pid_t parent = getpid();
    pid_t p = loop_fork();
    if (p == 0) {
        void *L = B->create();
        T_ASSERT(L != NULL);
        struct poke_state ps = {.n = ack};
        int fd = notifier_fd(ack);
        T_ASSERT(B->watch(L, fd, LOOP_IN, on_poke, &ps) == 0);
        double end = t_now_ms() + DEADLINE_MS;
        for (int round = 0; round < SIG_ROUNDS; round++) {
            for (int i = 0; i < SIG_PER_ROUND; i++) {
                ipcx_sigval v = {.as_int = 1000 + round * SIG_PER_ROUND + i};
                T_OK(ipcx_signal_queue(parent, signo, v));
            }
            ps.want++;
            ps.done = 0;
            run_until(L, &ps.done, end, "signal acknowledgement");
        }
        T_EQ_INT(ps.have, SIG_ROUNDS);
        T_ASSERTF(ps.idle <= 10 * SIG_ROUNDS, "%d of %d wake-ups took no poke (%d pokes)", ps.idle,
                  ps.wakeups, SIG_ROUNDS);
        T_ASSERT(B->unwatch(L, fd) == 0);
        B->destroy(L);
        T_OK(ipcx_notifier_close(ack));
        _exit(0);
    }
    ipcx_signalfd *r = NULL;
    T_OK(ipcx_signalfd_create(SIGBIT(signo), NULL, &r));
    int fd = -1;
    T_OK(ipcx_signalfd_fd(r, &fd));
    struct sig_state s = {.r = r, .ack = ack, .from = p, .signo = signo};
    void *L = B->create();
    T_ASSERT(L != NULL);
    T_ASSERT(B->watch(L, fd, LOOP_IN, on_signal, &s) == 0);
    run_until(L, &s.done, t_now_ms() + DEADLINE_MS, "signals");
    T_ASSERT(B->unwatch(L, fd) == 0);
    B->destroy(L);
    T_ASSERTF(s.idle <= 10 * SIG_ROUNDS * SIG_PER_ROUND, "signalfd: %d idle callbacks", s.idle);
    t_wait_ok(p, DEADLINE_MS + 5000);
    ipcx_siginfo info = {.size = sizeof info};
    WAITS_AFTER_LOOP(ipcx_signalfd_recv(r, 100, &info));
    T_OK(ipcx_signalfd_close(r));
    T_OK(ipcx_notifier_close(ack));
    T_OK(ipcx_signal_set_mask(old, NULL));
}

/* ---------------------------------------------------------------- ipcx_notifier */

#define POKE_ROUNDS 20

/* Pokes from the other process wake the loop, one round at a time: the child pokes i
 * times in round i and waits, in its own loop, for the parent's answer. */
T_CASE(notifier_pokes) {
    ipcx_notifier *ping = NULL, *pong = NULL;
    T_OK(ipcx_notifier_create(NULL, &ping));
    T_OK(ipcx_notifier_create(NULL, &pong));
    pid_t p = loop_fork();
    if (p == 0) {
        void *L = B->create();
        T_ASSERT(L != NULL);
        struct poke_state ps = {.n = pong};
        int fd = notifier_fd(pong);
        T_ASSERT(B->watch(L, fd, LOOP_IN, on_poke, &ps) == 0);
        double end = t_now_ms() + DEADLINE_MS;
        for (int round = 1; round <= POKE_ROUNDS; round++) {
            for (int i = 0; i < round; i++) T_OK(ipcx_notifier_poke(ping));
            ps.want++;
            ps.done = 0;
            run_until(L, &ps.done, end, "pong");
        }
        T_EQ_INT(ps.have, POKE_ROUNDS);
        T_ASSERTF(ps.idle <= 10 * POKE_ROUNDS, "%d of %d wake-ups took no poke (%d pokes)", ps.idle,
                  ps.wakeups, POKE_ROUNDS);
        T_ASSERT(B->unwatch(L, fd) == 0);
        B->destroy(L);
        T_OK(ipcx_notifier_close(ping));
        T_OK(ipcx_notifier_close(pong));
        _exit(0);
    }
    void *L = B->create();
    T_ASSERT(L != NULL);
    struct poke_state ps = {.n = ping};
    int fd = notifier_fd(ping);
    T_ASSERT(B->watch(L, fd, LOOP_IN, on_poke, &ps) == 0);
    double end = t_now_ms() + DEADLINE_MS;
    for (int round = 1; round <= POKE_ROUNDS; round++) {
        ps.want += (uint64_t)round; /* the child pokes `round` times, then waits */
        ps.done = 0;
        run_until(L, &ps.done, end, "ping");
        T_OK(ipcx_notifier_poke(pong));
    }
    T_EQ_INT(ps.have, POKE_ROUNDS * (POKE_ROUNDS + 1) / 2);
    /* A round's pokes may wake the loop once each; wake-ups that took none stay few. */
    T_ASSERTF(ps.wakeups >= POKE_ROUNDS, "%d wake-ups for %d rounds", ps.wakeups, POKE_ROUNDS);
    T_ASSERTF(ps.idle <= 10 * POKE_ROUNDS * (POKE_ROUNDS + 1) / 2,
              "%d of %d wake-ups took no poke", ps.idle, ps.wakeups);
    uint64_t none = 0;
    WAITS_AFTER_LOOP(ipcx_notifier_wait(ping, 100, &none));
    T_ASSERT(B->unwatch(L, fd) == 0);
    B->destroy(L);
    t_wait_ok(p, DEADLINE_MS + 5000);
    T_OK(ipcx_notifier_close(ping));
    T_OK(ipcx_notifier_close(pong));
}

T_MAIN(T_ENTRY(chan_pipe), T_ENTRY(chan_pipe_big), T_ENTRY(chan_fifo), T_ENTRY(chan_unix),
       T_ENTRY(chan_unix_big), T_ENTRY(chan_tcp), T_ENTRY(chan_mq), T_ENTRY(chan_shm),
       T_ENTRY(chan_nng_ipc), T_ENTRY(chan_zmq_ipc), T_ENTRY(pipe_pair), T_ENTRY(pipe_pair_big),
       T_ENTRY(sock_stream_both_ways), T_ENTRY(mq_queue), T_ENTRY(mq_notify_descriptor), T_ENTRY(ring_pair),
       T_ENTRY(signalfd_queued), T_ENTRY(notifier_pokes))
