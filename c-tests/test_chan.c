/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Channels (ipcx_chan_*): one test body per property, run over every transport, the
 * other libraries' wire protocols included (nng+...:, zmq+...:, with ipcx on both ends;
 * test_chan_peers.c runs them against the real libraries).
 *
 * Each case loops over the transport table below; every named object a receiver creates
 * is tracked (paths by t_path, POSIX names before creation, System V ids right after),
 * so nothing is left behind even when an assertion fails. */
#include "test.h"

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

enum {
    TP_PIPE,
    TP_FIFO,
    TP_UNIX,
    TP_ABSTRACT,
    TP_TCP,
    TP_MQ,
    TP_SYSVMQ,
    TP_SHM,
    TP_NNG_TCP,
    TP_NNG_IPC,
    TP_ZMQ_TCP,
    TP_ZMQ_IPC,
    TP_N
};

struct tp {
    const char *scheme;
    uint32_t id;       /* IPCX_CHAN_* */
    int pair_only;     /* pipe: */
    int tells_recv;    /* the receiver gets CLOSED when every sender is gone */
    int tells_send;    /* a sender gets CLOSED when the receiver is gone */
    int persistent;    /* a crashed receiver leaves its object (recovered by the next) */
    int can_poll;      /* ipcx_chan_fd works on the receiver */
};

static const struct tp TP[TP_N] = {
    [TP_PIPE] = {"pipe", IPCX_CHAN_PIPE, 1, 1, 1, 0, 1},
    [TP_FIFO] = {"fifo", IPCX_CHAN_FIFO, 0, 1, 1, 1, 1},
    [TP_UNIX] = {"unix", IPCX_CHAN_UNIX, 0, 1, 1, 1, 1},
    [TP_ABSTRACT] = {"unix", IPCX_CHAN_UNIX_ABSTRACT, 0, 1, 1, 0, 1}, /* unix:@name */
    [TP_TCP] = {"tcp", IPCX_CHAN_TCP, 0, 1, 1, 0, 1},
    [TP_MQ] = {"mq", IPCX_CHAN_MQ, 0, 0, 0, 1, 1},
    [TP_SYSVMQ] = {"sysvmq", IPCX_CHAN_SYSVMQ, 0, 0, 0, 1, 0},
    [TP_SHM] = {"shm", IPCX_CHAN_SHM, 0, 1, 1, 1, 1},
    [TP_NNG_TCP] = {"nng+tcp", IPCX_CHAN_NNG_TCP, 0, 1, 1, 0, 1},
    [TP_NNG_IPC] = {"nng+ipc", IPCX_CHAN_NNG_IPC, 0, 1, 1, 1, 1},
    [TP_ZMQ_TCP] = {"zmq+tcp", IPCX_CHAN_ZMQ_TCP, 0, 1, 1, 0, 1},
    [TP_ZMQ_IPC] = {"zmq+ipc", IPCX_CHAN_ZMQ_IPC, 0, 1, 1, 1, 1},
};

/* A transport of another library's wire protocol. */
static int is_peer(int t) { return t >= TP_NNG_TCP; }
/* A stream of bytes (the sizes of socket buffers apply). */
static int is_stream(int t) { return t <= TP_TCP || is_peer(t); }
/* A sender has a descriptor to poll (for writability; shm:, the ring's room descriptor,
 * for readability). */
static int sender_can_poll(int t) { return t != TP_SYSVMQ; }
/* The event a sender's descriptor is watched for (ipcx_chan_info.fd_events). */
static uint32_t sender_events(int t) {
    return t == TP_SHM ? IPCX_CHAN_POLL_IN : sender_can_poll(t) ? IPCX_CHAN_POLL_OUT : 0;
}
/* A socket file at a path. */
static int has_socket_file(int t) { return t == TP_UNIX || t == TP_NNG_IPC || t == TP_ZMQ_IPC; }

#define ADDR_MAX 512

/* A fresh address for transport `t` (tracked where it names an object). */
static const char *mkaddr(int t, char *buf, const char *tag) {
    char n[300];
    switch (t) {
    case TP_PIPE: snprintf(buf, ADDR_MAX, "pipe:"); break;
    case TP_FIFO: snprintf(buf, ADDR_MAX, "fifo:%s", t_path(n, sizeof n, tag)); break;
    case TP_UNIX: snprintf(buf, ADDR_MAX, "unix:%s", t_path(n, sizeof n, tag)); break;
    case TP_ABSTRACT:
        snprintf(buf, ADDR_MAX, "unix:@ipcx-t-%d-%d-%s", (int)t_runner_pid,
                 atomic_fetch_add(&t_sh->seq, 1), tag);
        break;
    case TP_TCP: snprintf(buf, ADDR_MAX, "tcp:127.0.0.1:0"); break;
    case TP_MQ:
        t_posix_name(n, sizeof n, tag);
        t_track_mq(n);
        snprintf(buf, ADDR_MAX, "mq:%s", n);
        break;
    case TP_SYSVMQ:
        snprintf(buf, ADDR_MAX, "sysvmq:0x%x/%d",
                 0x1c700000u | (((unsigned)t_runner_pid & 0xfff) << 8) |
                     ((unsigned)atomic_fetch_add(&t_sh->seq, 1) & 0xff),
                 1 + (int)(t_runner_pid % 7));
        break;
    case TP_SHM:
        t_posix_name(n, sizeof n, tag);
        t_track_shm(n);
        snprintf(buf, ADDR_MAX, "shm:%s", n);
        break;
    case TP_NNG_TCP:
    case TP_ZMQ_TCP: snprintf(buf, ADDR_MAX, "%s:127.0.0.1:0", TP[t].scheme); break;
    case TP_NNG_IPC:
    case TP_ZMQ_IPC:
        snprintf(buf, ADDR_MAX, "%s:%s", TP[t].scheme, t_path(n, sizeof n, tag));
        break;
    }
    return buf;
}

/* Small sizes, so queues stay within the shared per-user limits. */
static ipcx_options *mkopts(int t, size_t max_message) {
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    if (max_message) T_OK(ipcx_options_set_max_message(o, max_message));
    if (t == TP_MQ) {
        if (!max_message) T_OK(ipcx_options_set_max_message(o, 256));
        T_OK(ipcx_options_set_max_messages(o, 10));
    }
    if (t == TP_SHM) T_OK(ipcx_options_set_capacity(o, 64 * 1024));
    return o;
}

/* Open the receiver at `addr` (created), track what it created; the address senders
 * open goes to `send_addr`. */
static ipcx_chan *open_recv(int t, const char *addr, uint32_t flags, const ipcx_options *o,
                            char *send_addr) {
    ipcx_chan *r = NULL;
    T_OK(ipcx_chan_open(addr, IPCX_OPEN_READ | flags, o, 0, &r));
    T_ASSERT(r != NULL);
    ipcx_chan_info d = {.size = sizeof d};
    T_OK(ipcx_chan_stat(r, &d));
    if (t == TP_SYSVMQ) {
        T_ASSERT(d.sysv_id >= 0);
        t_track_sysv_msq(d.sysv_id);
    }
    if (send_addr) snprintf(send_addr, ADDR_MAX, "%s", d.address);
    return r;
}

static ipcx_chan *open_send_o(const char *addr, uint32_t flags, const ipcx_options *o) {
    ipcx_chan *s = NULL;
    T_OK(ipcx_chan_open(addr, IPCX_OPEN_WRITE | flags, o, 5000, &s));
    T_ASSERT(s != NULL);
    return s;
}

static ipcx_chan *open_send(const char *addr, uint32_t flags) {
    ipcx_chan *s = NULL;
    T_OK(ipcx_chan_open(addr, IPCX_OPEN_WRITE | flags, NULL, 5000, &s));
    T_ASSERT(s != NULL);
    return s;
}

/* A shared counter for children to rendezvous. */
static atomic_int *shared_int(void) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    T_ASSERT(p != MAP_FAILED);
    return p;
}

static void fill(unsigned char *b, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed * 31 + i);
}

/* ---------------------------------------------------------------- ping-pong */

#define ROUNDS 200

/* The child: receives on `in`, echoes on `out`, ROUNDS times; then sees how the parent's
 * close shows. */
static void echo_loop(int t, ipcx_chan *in, ipcx_chan *out) {
    unsigned char buf[1024];
    for (int i = 0; i < ROUNDS; i++) {
        size_t len = sizeof buf;
        T_OK(ipcx_chan_recv(in, buf, &len, 10000));
        T_OK(ipcx_chan_send(out, buf, len, 10000));
    }
    size_t len = sizeof buf;
    if (TP[t].tells_recv)
        T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(in, buf, &len, 5000));
    else
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 50, ipcx_chan_recv(in, buf, &len, 50));
}

static void pinger(int t, ipcx_chan *out, ipcx_chan *in) {
    unsigned char msg[1024], got[1024];
    size_t cap = t == TP_MQ ? 256 : sizeof msg;
    for (int i = 0; i < ROUNDS; i++) {
        size_t n = (size_t)(i * 37) % (cap + 1);
        fill(msg, n, (unsigned)i);
        T_OK(ipcx_chan_send(out, msg, n, 10000));
        size_t len = sizeof got;
        T_OK(ipcx_chan_recv(in, got, &len, 10000));
        T_EQ_INT(len, n);
        T_ASSERT(memcmp(got, msg, n) == 0);
    }
}

/* The operator's way to remove a queue a crashed receiver left: by id, with ipcx's record
 * of it (a raw IPC_RMID would leave the record behind). */
static void remove_sysv_queue(int id) {
    char idstr[32];
    snprintf(idstr, sizeof idstr, "%d", id);
    T_OK(ipcx_inspect_remove(IPCX_OBJECT_SYSV_MSQ, idstr, 0));
}

T_CASE(ping_pong) {
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX], b[ADDR_MAX];
        if (TP[t].pair_only) {
            ipcx_chan *s1, *r1, *s2, *r2;
            T_OK(ipcx_chan_pair("pipe:", 0, NULL, &s1, &r1));
            T_OK(ipcx_chan_pair("pipe:", 0, NULL, &s2, &r2));
            pid_t p = t_fork();
            if (p == 0) {
                T_OK(ipcx_chan_close(s1));
                T_OK(ipcx_chan_close(r2));
                echo_loop(t, r1, s2);
                T_OK(ipcx_chan_close(r1));
                T_OK(ipcx_chan_close(s2));
                _exit(0);
            }
            T_OK(ipcx_chan_close(r1));
            T_OK(ipcx_chan_close(s2));
            pinger(t, s1, r2);
            T_OK(ipcx_chan_close(s1));
            size_t len = 8;
            char x[8];
            T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(r2, x, &len, 5000));
            T_OK(ipcx_chan_close(r2));
            t_wait_ok(p, 30000);
            continue;
        }
        /* The parent's receiver at A; the child makes its own at B and sends B's address
         * as its first message (the FIFO server's per-client reply channel). */
        ipcx_options *o = mkopts(t, 0);
        char send_a[ADDR_MAX];
        ipcx_chan *ra = open_recv(t, mkaddr(t, a, "pa"), 0, o, send_a);
        mkaddr(t, b, "pb");
        pid_t p = t_fork();
        if (p == 0) {
            T_OK(ipcx_chan_close(ra));
            char send_b[ADDR_MAX];
            ipcx_chan *rb = open_recv(t, b, 0, o, send_b);
            ipcx_chan *sa = open_send(send_a, 0);
            T_OK(ipcx_chan_send(sa, send_b, strlen(send_b), 5000));
            echo_loop(t, rb, sa);
            T_OK(ipcx_chan_close(sa));
            T_OK(ipcx_chan_close(rb));
            T_OK(ipcx_options_close(o));
            _exit(0);
        }
        char reply[ADDR_MAX] = {0};
        size_t len = sizeof reply - 1;
        T_OK(ipcx_chan_recv(ra, reply, &len, 10000));
        reply[len] = 0;
        ipcx_chan *sb = open_send(reply, 0);
        pinger(t, sb, ra);
        T_OK(ipcx_chan_close(sb));
        if (TP[t].tells_recv) {
            char x[8];
            len = sizeof x;
            T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(ra, x, &len, 5000));
        }
        t_wait_ok(p, 30000);
        T_OK(ipcx_chan_close(ra));
        T_OK(ipcx_options_close(o));
    }
}

/* ---------------------------------------------------------------- fan-in */

#define PRODUCERS 4
#define PER_PRODUCER 10000

T_CASE(four_producers_nothing_lost_in_order) {
    atomic_int *ready = shared_int();
    for (int t = 0; t < TP_N; t++) {
        if (TP[t].pair_only) continue;
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        ipcx_chan *r = open_recv(t, mkaddr(t, a, "fan"), IPCX_CHAN_MULTI_SENDER, o, sa);
        atomic_store(ready, 0);
        pid_t kids[PRODUCERS];
        for (int k = 0; k < PRODUCERS; k++) {
            kids[k] = t_fork();
            if (kids[k] == 0) {
                T_OK(ipcx_chan_close(r));
                ipcx_chan *s = open_send(sa, IPCX_CHAN_MULTI_SENDER);
                atomic_fetch_add(ready, 1);
                while (atomic_load(ready) < PRODUCERS) usleep(500);
                for (uint32_t i = 0; i < PER_PRODUCER; i++) {
                    uint32_t m[4] = {(uint32_t)k, i, ~i, 0x5a5a5a5a};
                    T_OK(ipcx_chan_send(s, m, sizeof m, 20000));
                }
                T_OK(ipcx_chan_close(s));
                _exit(0);
            }
        }
        uint32_t next[PRODUCERS] = {0};
        for (int n = 0; n < PRODUCERS * PER_PRODUCER; n++) {
            uint32_t m[8];
            size_t len = sizeof m;
            T_OK(ipcx_chan_recv(r, m, &len, 20000));
            T_EQ_INT(len, 16);
            T_ASSERTF(m[0] < PRODUCERS, "%s: producer %u", a, m[0]);
            T_ASSERTF(m[1] == next[m[0]], "%s: producer %u sent %u, expected %u", a, m[0],
                      m[1], next[m[0]]);
            T_ASSERT(m[2] == ~m[1] && m[3] == 0x5a5a5a5a);
            next[m[0]]++;
        }
        for (int k = 0; k < PRODUCERS; k++) t_wait_ok(kids[k], 30000);
        uint32_t m[8];
        size_t len = sizeof m;
        if (TP[t].tells_recv)
            T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(r, m, &len, 5000));
        else
            T_TIMES_OUT(IPCX_ERR_TIMEOUT, 50, ipcx_chan_recv(r, m, &len, 50));
        T_OK(ipcx_chan_close(r));
        T_OK(ipcx_options_close(o));
    }
    munmap(ready, 4096);
}

/* ---------------------------------------------------------------- timeouts */

T_CASE(timeouts_never_early) {
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        if (is_stream(t)) T_OK(ipcx_options_set_capacity(o, 16384));
        ipcx_chan *r, *s;
        if (TP[t].pair_only) {
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        } else {
            r = open_recv(t, mkaddr(t, a, "tmo"), 0, o, sa);
            s = open_send(sa, 0);
        }
        unsigned char msg[200], got[256];
        size_t len = sizeof got;
        /* Nothing sent: the receive times out (a connected sender is silent). */
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_chan_recv(r, got, &len, 100));
        /* Fill the channel, then a send times out. */
        int sent = 0;
        for (;;) {
            fill(msg, sizeof msg, (unsigned)sent);
            int st = ipcx_chan_send(s, msg, sizeof msg, IPCX_NOWAIT);
            if (st == IPCX_ERR_TIMEOUT) break;
            T_OK(st);
            T_ASSERTF(++sent < 1000000, "%s: never full", TP[t].scheme);
        }
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_chan_send(s, msg, sizeof msg, 100));
        /* Every accepted message arrives whole and in order. Over a stream, the last
         * one may have been accepted with its tail kept by the sender (written first by
         * the next send): receive all but it, send one more, then receive both. */
        for (int i = 0; i <= sent; i++) {
            if (i == sent - 1) {
                fill(msg, sizeof msg, (unsigned)sent);
                T_OK(ipcx_chan_send(s, msg, sizeof msg, 5000));
            }
            len = sizeof got;
            T_OK(ipcx_chan_recv(r, got, &len, 5000));
            T_EQ_INT(len, sizeof msg);
            fill(msg, sizeof msg, (unsigned)i);
            T_ASSERTF(memcmp(got, msg, len) == 0, "%s: message %d", TP[t].scheme, i);
        }
        len = sizeof got;
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, got, &len, IPCX_NOWAIT));
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_chan_close(r));
        if (!TP[t].pair_only) {
            /* Nothing at the address any more: a sender's open times out. */
            if (t != TP_TCP && t != TP_NNG_TCP && t != TP_ZMQ_TCP) {
                ipcx_chan *x = (ipcx_chan *)1;
                T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100,
                            ipcx_chan_open(sa, IPCX_OPEN_WRITE, NULL, 100, &x));
                T_ASSERT(x == NULL);
                T_LAST_ERROR_HAS("nothing to open");
            }
            /* A NO_CREATE receiver waits for the object, then times out. */
            if (TP[t].persistent && !has_socket_file(t)) {
                ipcx_chan *x = (ipcx_chan *)1;
                T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100,
                            ipcx_chan_open(a, IPCX_OPEN_READ | IPCX_CHAN_NO_CREATE, NULL,
                                           100, &x));
                T_ASSERT(x == NULL);
            }
        }
        T_OK(ipcx_options_close(o));
    }
}

/* ---------------------------------------------------------------- peers killed */

/* Status and time of the first failing call after the kill. */
static void expect_after_kill(const char *what, int tells, int st, double t_kill) {
    double el = t_now_ms() - t_kill;
    int want = tells ? IPCX_ERR_CLOSED : IPCX_ERR_TIMEOUT;
    T_ASSERTF(st == want, "%s: %s after the peer was killed, expected %s (%s)", what,
              t_status_name(st), t_status_name(want), ipcx_last_error());
    T_ASSERTF(el < 2000.0, "%s: %s only %.0f ms after the kill", what, t_status_name(st), el);
}

T_CASE(sender_killed_midstream) {
    atomic_int *sent = shared_int();
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        ipcx_chan *r, *s = NULL;
        if (TP[t].pair_only)
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        else
            r = open_recv(t, mkaddr(t, a, "sk"), 0, o, sa);
        atomic_store(sent, 0);
        pid_t p = t_fork();
        if (p == 0) {
            if (!s) s = open_send(sa, 0);
            uint32_t m[4] = {0};
            for (uint32_t i = 0;; i++) {
                m[0] = i;
                int st = ipcx_chan_send(s, m, sizeof m, 1000);
                if (st == IPCX_OK) atomic_fetch_add(sent, 1);
                else if (st != IPCX_ERR_TIMEOUT) T_OK(st);
            }
        }
        if (s) T_OK(ipcx_chan_close(s));
        /* Receive until the sender has sent a few hundred, then kill it mid-stream. */
        uint32_t m[8], expect = 0;
        size_t len;
        while (atomic_load(sent) < 300) {
            len = sizeof m;
            T_OK(ipcx_chan_recv(r, m, &len, 5000));
            T_EQ_INT(m[0], expect++);
        }
        kill(p, SIGKILL);
        int wst = t_wait(p, 5000);
        T_ASSERT(WIFSIGNALED(wst));
        double t0 = t_now_ms();
        int st;
        for (;;) {
            len = sizeof m;
            st = ipcx_chan_recv(r, m, &len, 500);
            if (st != IPCX_OK) break;
            T_EQ_INT(m[0], expect++); /* what was sent before the kill, in order */
        }
        expect_after_kill(a, TP[t].tells_recv, st, t0);
        T_ASSERT(expect >= 300);
        T_OK(ipcx_chan_close(r));
        T_OK(ipcx_options_close(o));
    }
    munmap(sent, 4096);
}

struct rk_shared {
    atomic_int ready;
    char addr[ADDR_MAX];
};

T_CASE(receiver_killed_midstream) {
    struct rk_shared *sh = (struct rk_shared *)shared_int();
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        ipcx_chan *s = NULL, *r = NULL;
        if (TP[t].pair_only)
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        else
            mkaddr(t, a, "rk");
        atomic_store(&sh->ready, 0);
        pid_t p = t_fork();
        if (p == 0) {
            if (s) T_OK(ipcx_chan_close(s));
            if (!r) r = open_recv(t, a, 0, o, sh->addr);
            atomic_store(&sh->ready, 1);
            for (;;) {
                uint32_t m[8];
                size_t len = sizeof m;
                int st = ipcx_chan_recv(r, m, &len, 1000);
                if (st != IPCX_OK && st != IPCX_ERR_TIMEOUT && st != IPCX_ERR_CLOSED) T_OK(st);
                /* Slowly, so the channel fills up after the kill. */
                usleep(100);
            }
        }
        if (r) T_OK(ipcx_chan_close(r));
        while (!atomic_load(&sh->ready)) usleep(500);
        if (!s) s = open_send(sh->addr, 0);
        uint32_t m[4] = {0};
        for (int i = 0; i < 20; i++) T_OK(ipcx_chan_send(s, m, sizeof m, 5000));
        kill(p, SIGKILL);
        int wst = t_wait(p, 5000);
        T_ASSERT(WIFSIGNALED(wst));
        double t0 = t_now_ms();
        int st;
        for (int i = 0;; i++) {
            st = ipcx_chan_send(s, m, sizeof m, 200);
            if (st != IPCX_OK) break;
            T_ASSERTF(i < 10000000, "%s: sends never fail", TP[t].scheme);
        }
        expect_after_kill(TP[t].scheme, TP[t].tells_send, st, t0);
        T_OK(ipcx_chan_close(s));
        /* What persists: a restarted receiver adopts the object and removes it on close. */
        if (TP[t].persistent) {
            ipcx_chan *again = open_recv(t, a, 0, o, NULL);
            ipcx_chan_info d = {.size = sizeof d};
            T_OK(ipcx_chan_stat(again, &d));
            /* A System V queue may carry other channels (types): only its creator
             * removes it; after a crash, `ipcx rm sysv-msq ID` (ipcx_inspect_remove) does. */
            T_EQ_INT(d.created, t != TP_SYSVMQ);
            int id = d.sysv_id;
            T_OK(ipcx_chan_close(again));
            if (t == TP_SYSVMQ) remove_sysv_queue(id);
        }
        T_OK(ipcx_options_close(o));
    }
    munmap(sh, 4096);
}

/* ---------------------------------------------------------------- addresses */

T_CASE(malformed_addresses_say_what_was_expected) {
    static const struct {
        const char *addr, *want;
    } bad[] = {
        {"", "expected pipe:, fifo:/path, unix:/path, unix:@name, tcp:host:port, "
             "mq:/name, sysvmq:key[/type], shm:/name"},
        {"nocolon", "no scheme"},
        {"fifo2:/tmp/x", "unknown scheme \"fifo2\""},
        {"fifo2:/tmp/x", "expected pipe:"},
        {"pipe:x", "a pipe has no name"},
        {"fifo:", "expected fifo:/path"},
        /* One spelling of abstract names: unix:@name, as in the socket functions. */
        {"unix-abstract:x", "write unix:@name"},
        {"unix-abstract:x", "\"unix:@x\""},
        {"unix-abstract:@x", "\"unix:@x\""}, /* 0.1 bound "@@x" silently */
        {"unix:@", "expected unix:@name"},
        {"unix:@@x", "two '@'"},
        {"tcp:", "expected tcp:host:port"},
        {"tcp:127.0.0.1", "port"},
        {"tcp:127.0.0.1:99999", "port"},
        {"mq:noslash", "expected mq:/name"},
        {"mq:/a/b", "expected mq:/name"},
        {"sysvmq:", "expected sysvmq:key[/type]"},
        {"sysvmq:0", "IPC_PRIVATE"},
        {"sysvmq:zz", "bad key"},
        {"sysvmq:0x1g", "bad key"},
        {"sysvmq:12/0", "bad type"},
        {"sysvmq:12/-1", "bad type"},
        {"sysvmq:12/x", "bad type"},
        {"shm:/a/b", "expected shm:/name"},
        {"shm:x", "expected shm:/name"},
        {"x:", "nng+tcp:host:port, nng+ipc:/path, zmq+tcp:host:port, zmq+ipc:/path"},
        {"nng+tcp:", "expected nng+tcp:host:port"},
        {"zmq+tcp:127.0.0.1", "port"},
        {"nng+ipc:", "expected nng+ipc:/path or nng+ipc:@name"},
        {"zmq+ipc:@", "expected zmq+ipc:/path or zmq+ipc:@name"},
        {"zmq+ipc:@@x", "two '@'"},
        /* Their URLs are spelled the ipcx way; the message says how. */
        {"zmq+tcp:tcp://127.0.0.1:5555", "without its URL prefix"},
        {"nng+ipc:abstract://x", "abstract://name are nng+tcp:host:port, nng+ipc:/path and "
                                 "nng+ipc:@name"},
        {"zmq+ipc:ipc:///tmp/x", "zmq+ipc:/path"},
        {"nng+inproc:x", "unknown scheme \"nng+inproc\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipcx_chan *c = (ipcx_chan *)1;
        T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(bad[i].addr, IPCX_OPEN_READ, NULL, 0, &c));
        T_ASSERT(c == NULL);
        T_LAST_ERROR_HAS(bad[i].want);
        c = (ipcx_chan *)1;
        T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(bad[i].addr, IPCX_OPEN_WRITE, NULL, 0, &c));
        T_ASSERT(c == NULL);
    }
    char longp[700];
    memset(longp, 'x', sizeof longp);
    memcpy(longp, "unix:/", 6);
    longp[200] = 0;
    ipcx_chan *c, *d;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(longp, IPCX_OPEN_READ, NULL, 0, &c));
    T_LAST_ERROR_HAS("sun_path");
    /* Unnamed addresses are for pairs, named ones for open. */
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("pipe:", IPCX_OPEN_READ, NULL, 0, &c));
    T_LAST_ERROR_HAS("ipcx_chan_pair");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("shm:", IPCX_OPEN_WRITE, NULL, 0, &c));
    T_LAST_ERROR_HAS("ipcx_chan_pair");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("unix:", IPCX_OPEN_WRITE, NULL, 0, &c));
    T_LAST_ERROR_HAS("socket pair");
    c = d = (ipcx_chan *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair("fifo:/tmp/x", 0, NULL, &c, &d));
    T_ASSERT(c == NULL && d == NULL);
    T_LAST_ERROR_HAS("ipcx_chan_open");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair("pipe2:", 0, NULL, &c, &d));
    T_LAST_ERROR_HAS("unknown scheme");
    /* A tcp: host that does not resolve. */
    T_ERR(IPCX_ERR_NOT_FOUND,
          ipcx_chan_open("tcp:no-such-host.invalid:1", IPCX_OPEN_WRITE, NULL, 100, &c));
}

/* ---------------------------------------------------------------- options */

T_CASE(options_a_transport_cannot_honour) {
    static const struct {
        int t;
        const char *opt;
    } cases[] = {
        {TP_PIPE, "spin"},      {TP_FIFO, "max_messages"}, {TP_UNIX, "keepalive"},
        {TP_ABSTRACT, "mode"},  {TP_TCP, "mode"},          {TP_MQ, "capacity"},
        {TP_SYSVMQ, "spin"},    {TP_SHM, "keepalive"},     {TP_FIFO, "atomic"},
        {TP_PIPE, "mode"},      {TP_NNG_TCP, "mode"},      {TP_ZMQ_IPC, "spin"},
        {TP_NNG_IPC, "keepalive"}, {TP_ZMQ_TCP, "allowed_uids"}, {TP_TCP, "allowed_gids"},
        {TP_UNIX, "allowed_networks"}, {TP_NNG_IPC, "allowed_networks"},
        {TP_MQ, "allowed_uids"}, {TP_FIFO, "allowed_networks"}, {TP_PIPE, "allowed_uids"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int t = cases[i].t;
        ipcx_options *o = NULL;
        T_OK(ipcx_options_create(&o));
        const char *n = cases[i].opt;
        if (!strcmp(n, "spin")) T_OK(ipcx_options_set_spin(o, 100));
        if (!strcmp(n, "max_messages")) T_OK(ipcx_options_set_max_messages(o, 4));
        if (!strcmp(n, "keepalive")) T_OK(ipcx_options_set_keepalive(o, 5));
        if (!strcmp(n, "mode")) T_OK(ipcx_options_set_mode(o, 0600));
        if (!strcmp(n, "capacity")) T_OK(ipcx_options_set_capacity(o, 8192));
        if (!strcmp(n, "atomic")) T_OK(ipcx_options_set_atomic(o, true));
        uint32_t id = 1234;
        if (!strcmp(n, "allowed_uids")) T_OK(ipcx_options_set_allowed_uids(o, &id, 1));
        if (!strcmp(n, "allowed_gids")) T_OK(ipcx_options_set_allowed_gids(o, &id, 1));
        if (!strcmp(n, "allowed_networks")) T_OK(ipcx_options_set_allowed_networks(o, "::1"));
        char a[ADDR_MAX], want[64];
        ipcx_chan *c = (ipcx_chan *)1, *d = (ipcx_chan *)1;
        if (TP[t].pair_only) {
            T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair("pipe:", 0, o, &c, &d));
            T_ASSERT(c == NULL && d == NULL);
        } else {
            T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(mkaddr(t, a, "opt"), IPCX_OPEN_READ, o, 0, &c));
            T_ASSERT(c == NULL);
        }
        snprintf(want, sizeof want, "option '%s' is not supported by %s:", n, TP[t].scheme);
        T_LAST_ERROR_HAS(want);
        T_LAST_ERROR_HAS("supported: ");
        T_OK(ipcx_options_close(o));
    }
    /* Sizes a transport cannot carry. */
    ipcx_options *o = NULL;
    ipcx_chan *c = NULL;
    char a[ADDR_MAX];
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 5000));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(mkaddr(TP_FIFO, a, "big"), IPCX_OPEN_READ, o, 0, &c));
    T_LAST_ERROR_HAS("4092");
    T_LAST_ERROR_HAS("PIPE_BUF");
    T_OK(ipcx_options_set_max_message(o, 1 << 20));
    T_ERR(IPCX_ERR_LIMIT, ipcx_chan_open(mkaddr(TP_SYSVMQ, a, "big"), IPCX_OPEN_READ, o, 0, &c));
    T_LAST_ERROR_HAS("msgmax");
    T_OK(ipcx_options_close(o));
}

/* ---------------------------------------------------------------- sizes */

T_CASE(message_sizes_and_too_big) {
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_options *o = mkopts(t, 1000);
        ipcx_chan *r, *s;
        if (TP[t].pair_only) {
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        } else {
            r = open_recv(t, mkaddr(t, a, "sz"), 0, o, sa);
            s = open_send_o(sa, 0, o);
        }
        ipcx_chan_info d = {.size = sizeof d};
        T_OK(ipcx_chan_stat(s, &d));
        T_EQ_INT(d.max_message, 1000);
        unsigned char msg[1001], got[1001];
        /* A receive before the first send: over zmq+ the receiver then answers the
         * handshake, which a ZeroMQ sender's first message waits for. */
        size_t l0 = sizeof got;
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, got, &l0, IPCX_NOWAIT));
        fill(msg, sizeof msg, 7);
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_chan_send(s, msg, 1001, 1000));
        T_OK(ipcx_chan_send(s, msg, 1000, 1000));
        T_OK(ipcx_chan_send(s, NULL, 0, 1000));
        T_OK(ipcx_chan_send(s, msg, 1, 1000));
        /* Too small a buffer: the size needed, and the message stays queued. */
        size_t len = 10;
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_chan_recv(r, got, &len, 1000));
        T_EQ_INT(len, 1000);
        len = sizeof got;
        T_OK(ipcx_chan_recv(r, got, &len, 1000));
        T_EQ_INT(len, 1000);
        T_ASSERT(memcmp(got, msg, 1000) == 0);
        len = sizeof got;
        T_OK(ipcx_chan_recv(r, got, &len, 1000));
        T_EQ_INT(len, 0);
        len = 0;
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_chan_recv(r, NULL, &len, 1000));
        T_EQ_INT(len, 1);
        len = 1;
        T_OK(ipcx_chan_recv(r, got, &len, 1000));
        T_EQ_INT(len, 1);
        T_EQ_INT(got[0], msg[0]);
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_chan_close(r));
        T_OK(ipcx_options_close(o));
    }
}

/* ---------------------------------------------------------------- info and fd */

T_CASE(info_and_poll_descriptor) {
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        ipcx_chan *r, *s;
        if (TP[t].pair_only) {
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        } else {
            r = open_recv(t, mkaddr(t, a, "inf"), 0, o, sa);
            s = open_send(sa, 0);
        }
        ipcx_chan_info ri = {.size = sizeof ri}, si = {.size = sizeof si};
        T_OK(ipcx_chan_stat(r, &ri));
        T_OK(ipcx_chan_stat(s, &si));
        T_EQ_INT(ri.transport, TP[t].id);
        T_EQ_INT(si.transport, TP[t].id);
        T_EQ_INT(ri.role, IPCX_OPEN_READ);
        T_EQ_INT(si.role, IPCX_OPEN_WRITE);
        T_EQ_INT(ri.created, !TP[t].pair_only);
        T_EQ_INT(si.created, 0);
        T_EQ_INT(!!(ri.caps & IPCX_CHAN_CAP_POLL), TP[t].can_poll);
        T_EQ_INT(!!(si.caps & IPCX_CHAN_CAP_POLL), sender_can_poll(t));
        T_EQ_INT(ri.fd_events, TP[t].can_poll ? IPCX_CHAN_POLL_IN : 0);
        T_EQ_INT(si.fd_events, sender_events(t));
        T_EQ_INT(!!(ri.caps & IPCX_CHAN_CAP_PEER_CLOSED), TP[t].tells_recv);
        T_EQ_INT(!!(ri.caps & IPCX_CHAN_CAP_MULTI_SENDER), t != TP_PIPE && t != TP_SHM);
        T_EQ_INT(!!(ri.caps & IPCX_CHAN_CAP_PERSISTENT),
                 t == TP_MQ || t == TP_SYSVMQ || t == TP_SHM);
        T_ASSERT(ri.max_message > 0 && ri.max_message == si.max_message);
        T_EQ_INT(ri.sysv_id >= 0, t == TP_SYSVMQ);
        T_ASSERT(strncmp(ri.address, TP[t].scheme, strlen(TP[t].scheme)) == 0);
        if (t == TP_ABSTRACT) T_ASSERT(strcmp(ri.address, a) == 0); /* "unix:@name" */
        if (t == TP_TCP || t == TP_NNG_TCP || t == TP_ZMQ_TCP)
            T_ASSERT(strcmp(ri.address, a) != 0); /* the port the receiver got */
        if (t == TP_FIFO || t == TP_MQ || t == TP_SHM || has_socket_file(t))
            T_ASSERT(strcmp(ri.object, strchr(a, ':') + 1) == 0);
        else
            T_ASSERT(strcmp(ri.object, "") == 0);
        /* The descriptor: readable once a message is there. */
        int fd = 0;
        if (!TP[t].can_poll) {
            T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_chan_fd(r, &fd));
            T_EQ_INT(fd, -1);
            T_LAST_ERROR_HAS("no descriptor");
        } else {
            T_OK(ipcx_chan_fd(r, &fd));
            T_ASSERT(fd >= 0);
            /* A sender connecting makes a socket receiver readable: a receive takes the
             * connection in, then nothing is readable until a message comes. */
            char b0[8];
            size_t l0 = sizeof b0;
            T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, b0, &l0, IPCX_NOWAIT));
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            T_ASSERTF(poll(&pf, 1, 0) == 0, "%s: readable at once (revents %#x)", a,
                      pf.revents);
            T_OK(ipcx_chan_send(s, "ping", 4, 1000));
            T_EQ_INT(poll(&pf, 1, 5000), 1);
            T_ASSERT(pf.revents & POLLIN);
            char buf[8];
            size_t len = sizeof buf;
            T_OK(ipcx_chan_recv(r, buf, &len, IPCX_NOWAIT));
            T_EQ_INT(len, 4);
            T_ASSERT(memcmp(buf, "ping", 4) == 0);
        }
        /* The sender's: ready for its events (writable; shm: readable) while there is
         * room. */
        fd = 0;
        if (sender_can_poll(t)) {
            T_OK(ipcx_chan_fd(s, &fd));
            T_ASSERT(fd >= 0);
            struct pollfd pf = {.fd = fd, .events = (short)si.fd_events};
            T_EQ_INT(poll(&pf, 1, 5000), 1);
            T_ASSERT(pf.revents & si.fd_events);
        } else {
            T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_chan_fd(s, &fd));
            T_EQ_INT(fd, -1);
            T_LAST_ERROR_HAS("no descriptor");
            T_LAST_ERROR_HAS("IPCX_NOWAIT");
        }
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_chan_close(r));
        T_OK(ipcx_options_close(o));
    }
}

/* ---------------------------------------------------------------- sender writability */

#define BP_MSG 1000 /* a message of the back-pressure test (mq: 200) */
#define BP_MAX 1000000

/* Whether `fd` is ready for `events` (POLLIN or POLLOUT) within the timeout. */
static int ready(int fd, uint32_t events, int timeout_ms) {
    struct pollfd pf = {.fd = fd, .events = (short)events};
    int n = poll(&pf, 1, timeout_ms);
    T_ASSERT(n >= 0);
    return n == 1 && (pf.revents & (short)events);
}

static int writable(int fd, int timeout_ms) { return ready(fd, POLLOUT, timeout_ms); }

/* The events a sender's descriptor is watched for, as ipcx_chan_stat says. */
static uint32_t fd_events(const ipcx_chan *c) {
    ipcx_chan_info i = {.size = sizeof i};
    T_OK(ipcx_chan_stat(c, &i));
    return i.fd_events;
}

/* A sender's descriptor polls ready (writable; shm: readable, the ring's room descriptor)
 * when there is room, not ready once a send with IPCX_NOWAIT finds none, and ready again
 * when the receiver drains; nothing is lost or cut on the way. The sender is a forked
 * child; the receiver is the parent. */
T_CASE(sender_fd_tracks_back_pressure) {
    for (int t = 0; t < TP_N; t++) {
        if (!sender_can_poll(t)) continue;
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        /* Small kernel buffers: back-pressure comes after a few hundred messages. */
        if (is_stream(t)) T_OK(ipcx_options_set_capacity(o, 64 * 1024));
        ipcx_chan *r = NULL, *s = NULL;
        if (TP[t].pair_only) {
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        } else {
            r = open_recv(t, mkaddr(t, a, "bp"), 0, o, sa);
        }
        size_t msg_len = t == TP_MQ ? 200 : BP_MSG;
        atomic_int *filled = shared_int();
        atomic_store(filled, -1);
        pid_t p = t_fork();
        if (p == 0) {
            if (TP[t].pair_only)
                T_OK(ipcx_chan_close(r));
            else
                s = open_send_o(sa, 0, o);
            /* One message with a timeout first (zmq+: waits for the handshake). */
            T_OK(ipcx_chan_send(s, "warm", 4, 5000));
            int fd = -1;
            T_OK(ipcx_chan_fd(s, &fd));
            uint32_t ev = fd_events(s);
            T_EQ_INT(ev, sender_events(t));
            T_ASSERTF(ready(fd, ev, 5000), "%s: a fresh sender is not ready", TP[t].scheme);
            /* Fill only once the receiver has taken "warm": it takes nothing more until
             * the channel is full, so the room seen below is the room left. */
            double until = t_now_ms() + 10000;
            while (atomic_load(filled) != -2) {
                T_ASSERTF(t_now_ms() < until, "%s: the receiver did not take the first message",
                          TP[t].scheme);
                usleep(1000);
            }
            unsigned char msg[BP_MSG];
            int n = 0, st = IPCX_OK;
            for (; n < BP_MAX; n++) {
                memset(msg, n & 0xff, sizeof msg);
                st = ipcx_chan_send(s, msg, msg_len, IPCX_NOWAIT);
                if (st != IPCX_OK) break;
            }
            T_ASSERTF(st == IPCX_ERR_TIMEOUT, "%s after %d sends: %s", TP[t].scheme, n,
                      ipcx_last_error());
            T_ASSERT(n > 0);
            T_ASSERTF(!ready(fd, ev, 0), "%s: ready after a send found no room (%d sent)",
                      TP[t].scheme, n);
            atomic_store(filled, n);
            /* The receiver drains: ready again, and the refused message goes now. */
            T_ASSERTF(ready(fd, ev, 10000), "%s: not ready after the receiver drained",
                      TP[t].scheme);
            T_OK(ipcx_chan_send(s, msg, msg_len, IPCX_NOWAIT));
            T_OK(ipcx_chan_send(s, "end", 3, 10000));
            T_OK(ipcx_chan_close(s));
            _exit(0);
        }
        if (TP[t].pair_only) T_OK(ipcx_chan_close(s));
        unsigned char buf[BP_MSG];
        size_t len = sizeof buf;
        T_OK(ipcx_chan_recv(r, buf, &len, 10000));
        T_EQ_INT(len, 4);
        atomic_store(filled, -2); /* the sender may fill the channel now */
        double end = t_now_ms() + 10000;
        while (atomic_load(filled) < 0) {
            T_ASSERTF(t_now_ms() < end, "%s: the sender never filled the channel",
                      TP[t].scheme);
            usleep(1000); /* nothing is received meanwhile: the buffers stay full */
        }
        int n = atomic_load(filled);
        /* Every message in order, whole, then the one refused and sent again, then end. */
        for (int i = 0; i <= n; i++) {
            len = sizeof buf;
            T_OK(ipcx_chan_recv(r, buf, &len, 10000));
            T_EQ_INT(len, msg_len);
            int want = (i < n ? i : n) & 0xff;
            T_ASSERTF(buf[0] == want && buf[msg_len - 1] == want, "%s: message %d of %d",
                      TP[t].scheme, i, n);
        }
        len = sizeof buf;
        T_OK(ipcx_chan_recv(r, buf, &len, 10000));
        T_EQ_INT(len, 3);
        t_wait_ok(p, 20000);
        T_OK(ipcx_chan_close(r));
        T_OK(ipcx_options_close(o));
        munmap(filled, 4096);
    }
}

/* A shm: sender's descriptor is the ring's room descriptor, watched for reading
 * (fd_events IPCX_CHAN_POLL_IN, never writable): not ready while the ring is full after a
 * send found no room, ready once the receiver (a forked child, which created the ring)
 * took messages, and the refused send then goes through. (One message taken makes it
 * ready too, but a message of the same size may still not fit where the ring wraps.) */
#define ROOM_TAKEN 4 /* enough for a message to fit again, even where it would wrap */

static void await_step(atomic_int *step, int want, const char *what) {
    double until = t_now_ms() + 10000;
    while (atomic_load(step) != want) {
        T_ASSERTF(t_now_ms() < until, "%s", what);
        usleep(1000);
    }
}

T_CASE(shm_sender_room_descriptor) {
    char a[ADDR_MAX];
    ipcx_options *o = mkopts(TP_SHM, 0);
    mkaddr(TP_SHM, a, "room");
    atomic_int *step = shared_int();
    atomic_store(step, 0);
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_chan *r = open_recv(TP_SHM, a, 0, o, NULL);
        atomic_store(step, 1);
        await_step(step, 2, "the sender did not fill the ring");
        unsigned char buf[BP_MSG];
        size_t len;
        for (int i = 0; i < ROOM_TAKEN; i++) { /* "some" */
            len = sizeof buf;
            T_OK(ipcx_chan_recv(r, buf, &len, 5000));
            T_EQ_INT(len, BP_MSG);
            T_EQ_INT(buf[0], i);
        }
        atomic_store(step, 3);
        await_step(step, 4, "the sender did not send again");
        /* The rest in order, then the one that was refused and sent again. */
        int n = atomic_load(step + 1);
        for (int i = ROOM_TAKEN; i <= n; i++) {
            len = sizeof buf;
            T_OK(ipcx_chan_recv(r, buf, &len, 5000));
            T_EQ_INT(len, BP_MSG);
            T_ASSERTF(buf[0] == (i & 0xff) && buf[BP_MSG - 1] == (i & 0xff), "message %d of %d",
                      i, n);
        }
        len = sizeof buf;
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, buf, &len, IPCX_NOWAIT));
        T_OK(ipcx_chan_close(r));
        _exit(0);
    }
    await_step(step, 1, "the receiver did not open");
    ipcx_chan *s = open_send(a, 0);
    ipcx_chan_info si = {.size = sizeof si};
    T_OK(ipcx_chan_stat(s, &si));
    T_ASSERT(si.caps & IPCX_CHAN_CAP_POLL);
    T_EQ_INT(si.fd_events, IPCX_CHAN_POLL_IN);
    int fd = -1, again = -1;
    T_OK(ipcx_chan_fd(s, &fd)); /* asked for before the ring fills: armed by the sends */
    T_ASSERT(fd >= 0);
    T_OK(ipcx_chan_fd(s, &again));
    T_EQ_INT(again, fd);
    T_ASSERT(ready(fd, POLLIN, 1000)); /* room now */
    unsigned char msg[BP_MSG];
    int n = 0, st = IPCX_OK;
    for (; n < BP_MAX; n++) {
        memset(msg, n & 0xff, sizeof msg);
        st = ipcx_chan_send(s, msg, sizeof msg, IPCX_NOWAIT);
        if (st != IPCX_OK) break;
    }
    T_ERR(IPCX_ERR_TIMEOUT, st);
    T_ASSERT(n > 2 * ROOM_TAKEN);
    /* Full: not ready, for reading or writing, until the receiver takes something. */
    T_ASSERT(!ready(fd, POLLIN, 100));
    T_ASSERT(!ready(fd, POLLOUT, 0));
    memset(msg, n & 0xff, sizeof msg);
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_send(s, msg, sizeof msg, IPCX_NOWAIT)); /* re-arms */
    T_ASSERT(!ready(fd, POLLIN, 0));
    atomic_store(step + 1, n);
    atomic_store(step, 2);
    await_step(step, 3, "the receiver took nothing");
    T_ASSERTF(ready(fd, POLLIN, 5000), "not readable after the receiver took a message");
    T_OK(ipcx_chan_send(s, msg, sizeof msg, IPCX_NOWAIT));
    atomic_store(step, 4);
    t_wait_ok(p, 20000);
    /* Bad input. */
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_fd(s, NULL));
    fd = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_fd(NULL, &fd));
    T_EQ_INT(fd, -1);
    T_OK(ipcx_chan_close(s));
    fd = 0;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_fd(s, &fd));
    T_EQ_INT(fd, -1);
    T_OK(ipcx_options_close(o));
    munmap(step, 4096);
}

/* A send with IPCX_NOWAIT whose message only partly fits a byte stream: accepted, its rest
 * kept; ipcx_chan_flush writes the rest (an event loop's way to finish before close). */
T_CASE(flush_writes_what_a_send_kept) {
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 4096)); /* one page */
    ipcx_chan *s = NULL, *r = NULL;
    T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
    T_OK(ipcx_options_close(o));
    static unsigned char big[20000];
    fill(big, sizeof big, 7);
    T_OK(ipcx_chan_flush(s, IPCX_NOWAIT)); /* nothing kept */
    T_OK(ipcx_chan_send(s, big, sizeof big, IPCX_NOWAIT)); /* its first bytes fit */
    int fd = -1;
    T_OK(ipcx_chan_fd(s, &fd));
    T_ASSERT(!writable(fd, 0));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_flush(s, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_send(s, "x", 1, IPCX_NOWAIT)); /* the rest goes first */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_chan_close(s));
        static unsigned char got[sizeof big];
        size_t len = sizeof got;
        T_OK(ipcx_chan_recv(r, got, &len, 10000));
        T_EQ_INT(len, sizeof big);
        T_ASSERT(memcmp(got, big, sizeof big) == 0);
        len = sizeof got;
        T_OK(ipcx_chan_recv(r, got, &len, 10000)); /* "x" was refused: "y" is next */
        T_EQ_INT(len, 1);
        T_ASSERT(got[0] == 'y');
        len = sizeof got;
        T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(r, got, &len, 10000));
        T_OK(ipcx_chan_close(r));
        _exit(0);
    }
    T_OK(ipcx_chan_close(r));
    T_OK(ipcx_chan_flush(s, 10000));
    T_OK(ipcx_chan_send(s, "y", 1, 10000));
    T_OK(ipcx_chan_flush(s, IPCX_NOWAIT));
    /* Bad input. */
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_flush(NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_flush(s, -7));
    T_OK(ipcx_chan_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_flush(s, 0));
    t_wait_ok(p, 20000);
    T_OK(ipcx_chan_pair("unix:", 0, NULL, &s, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_flush(r, 0));
    T_LAST_ERROR_HAS("receiver end");
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
    /* A tail kept for a receiver that is gone: CLOSED once, and dropped with it. */
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 4096));
    T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_chan_send(s, big, sizeof big, IPCX_NOWAIT)); /* its first bytes fit */
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_flush(s, IPCX_NOWAIT));
    T_OK(ipcx_chan_close(r));
    T_ERR(IPCX_ERR_CLOSED, ipcx_chan_flush(s, 1000));
    T_LAST_ERROR_HAS("closed");
    T_OK(ipcx_chan_flush(s, IPCX_NOWAIT)); /* nothing is left */
    T_ERR(IPCX_ERR_CLOSED, ipcx_chan_send(s, "z", 1, 1000));
    T_OK(ipcx_chan_close(s));
}

/* IPCX_OPEN_NONBLOCK: a tcp: sender opens at once, its connect going on in the background;
 * its descriptor becomes writable when it is done; a refused connect shows at the sends. */
T_CASE(sender_opens_without_waiting) {
    char a[ADDR_MAX], sa[ADDR_MAX];
    ipcx_chan *r = open_recv(TP_TCP, mkaddr(TP_TCP, a, "nb"), 0, NULL, sa);
    ipcx_chan *s = NULL;
    T_OK(ipcx_chan_open(sa, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, 0, &s));
    int fd = -1;
    T_OK(ipcx_chan_fd(s, &fd));
    T_ASSERT(writable(fd, 5000)); /* connected */
    T_OK(ipcx_chan_send(s, "hi", 2, IPCX_NOWAIT));
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_chan_recv(r, buf, &len, 5000));
    T_EQ_INT(len, 2);
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r)); /* nobody listens at sa any more */
    s = NULL;
    int st = ipcx_chan_open(sa, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, 0, &s);
    if (st == IPCX_OK) { /* refused later: the sends say so */
        T_OK(ipcx_chan_fd(s, &fd));
        (void)writable(fd, 5000); /* done: connected or refused */
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_chan_send(s, "x", 1, 5000));
        T_LAST_ERROR_HAS("nobody is listening");
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_chan_send(s, "x", 1, 0));
        T_OK(ipcx_chan_close(s));
    } else {
        T_ERR(IPCX_ERR_NOT_FOUND, st);
        T_ASSERT(s == NULL);
    }
    /* unix: connects at once; with no receiver there, NOT_FOUND at once. */
    r = open_recv(TP_UNIX, mkaddr(TP_UNIX, a, "nb"), 0, NULL, sa);
    T_OK(ipcx_chan_open(sa, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, 0, &s));
    T_OK(ipcx_chan_send(s, "yo", 2, IPCX_NOWAIT));
    len = sizeof buf;
    T_OK(ipcx_chan_recv(r, buf, &len, 5000));
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_chan_open(sa, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL,
                                             5000, &s));
    /* Refused: receivers, other transports, tcp: names, allowed_networks. */
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("tcp:127.0.0.1:0", IPCX_OPEN_READ | IPCX_OPEN_NONBLOCK,
                                           NULL, 0, &s));
    T_LAST_ERROR_HAS("IPCX_OPEN_NONBLOCK applies to senders");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("tcp:localhost:9", IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK,
                                           NULL, 0, &s));
    T_LAST_ERROR_HAS("numeric address");
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_allowed_networks(o, "127.0.0.0/8"));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("tcp:127.0.0.1:9", IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK,
                                           o, 0, &s));
    T_ASSERT(s == NULL);
    T_OK(ipcx_options_close(o));
}

/* IPCX_OPEN_NONBLOCK where the kernel has no event for "the object is ready" (fifo: with
 * no reader, mq:, sysvmq:, shm: not created yet): the open fails at once with
 * IPCX_ERR_TIMEOUT saying to retry from a timer, whatever its timeout; once the receiver
 * is there, it opens at once and sends. */
T_CASE(nonblocking_open_without_an_event_fails_at_once) {
    const int ts[] = {TP_FIFO, TP_MQ, TP_SYSVMQ, TP_SHM};
    for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
        int t = ts[k];
        char a[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        mkaddr(t, a, "nbo");
        ipcx_chan *s = (ipcx_chan *)&s;
        double t0 = t_now_ms();
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_open(a, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, o, 5000, &s));
        T_ASSERTF(t_now_ms() - t0 < 500, "%s: waited %.0f ms", a, t_now_ms() - t0);
        T_ASSERT(s == NULL);
        T_LAST_ERROR_HAS("retry the open from a timer");
        if (t == TP_FIFO) { /* there, without a reader: the same */
            T_OK(ipcx_fifo_make(strchr(a, ':') + 1, NULL));
            T_ERR(IPCX_ERR_TIMEOUT,
                  ipcx_chan_open(a, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, o, 5000, &s));
            T_LAST_ERROR_HAS("no process has the FIFO open for reading");
            T_LAST_ERROR_HAS("a reader opening the FIFO");
        }
        /* The receiver (a forked child) comes later; the sender retries the open from a
         * "timer" (every 2 ms), each try returning at once, then sends. */
        pid_t p = t_fork();
        if (p == 0) {
            usleep(30000);
            ipcx_chan *r = open_recv(t, a, 0, o, NULL);
            char buf[8];
            size_t len = sizeof buf;
            T_OK(ipcx_chan_recv(r, buf, &len, 10000));
            T_ASSERT(len == 2 && memcmp(buf, "nb", 2) == 0);
            T_OK(ipcx_chan_close(r));
            _exit(0);
        }
        double until = t_now_ms() + 10000;
        int tries = 0, st;
        for (;;) {
            t0 = t_now_ms();
            st = ipcx_chan_open(a, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, o, 5000, &s);
            T_ASSERTF(t_now_ms() - t0 < 500, "%s: a try waited %.0f ms", a, t_now_ms() - t0);
            tries++;
            if (st != IPCX_ERR_TIMEOUT) break;
            T_ASSERTF(t_now_ms() < until, "%s: the receiver never came", a);
            usleep(2000);
        }
        T_OK(st);
        T_ASSERT(tries > 1);
        T_OK(ipcx_chan_send(s, "nb", 2, IPCX_NOWAIT));
        t_wait_ok(p, 20000);
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_options_close(o));
    }
}

/* IPCX_OPEN_NONBLOCK for nng+ and zmq+ senders that dial: the open returns at once (over
 * TCP the connect and the greeting go on in the background); the descriptor becomes
 * writable; sends before the handshake is answered say TIMEOUT with IPCX_NOWAIT; nothing
 * is lost. Nobody listening: the sends say NOT_FOUND (TCP) or the open does (IPC). */
T_CASE(peer_senders_open_without_waiting) {
    const int ts[] = {TP_NNG_TCP, TP_NNG_IPC, TP_ZMQ_TCP, TP_ZMQ_IPC};
    for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
        int t = ts[k];
        char a[ADDR_MAX], sa[ADDR_MAX];
        ipcx_chan *r = open_recv(t, mkaddr(t, a, "nbp"), 0, NULL, sa);
        ipcx_chan *s = NULL;
        double t0 = t_now_ms();
        T_OK(ipcx_chan_open(sa, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, 5000, &s));
        T_ASSERT(t_now_ms() - t0 < 500);
        T_EQ_INT(fd_events(s), IPCX_CHAN_POLL_OUT);
        int fd = -1;
        T_OK(ipcx_chan_fd(s, &fd));
        T_ASSERTF(ready(fd, POLLOUT, 5000), "%s: never connected", sa);
        /* The loop's way: send with IPCX_NOWAIT; the receiver, receiving, answers. */
        double until = t_now_ms() + 5000;
        int st;
        char buf[8];
        size_t len;
        while ((st = ipcx_chan_send(s, "hi", 2, IPCX_NOWAIT)) == IPCX_ERR_TIMEOUT) {
            T_ASSERTF(t_now_ms() < until, "%s: the first send never went", sa);
            len = sizeof buf;
            T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, buf, &len, 1));
        }
        T_OK(st);
        T_OK(ipcx_chan_send(s, "ho", 2, IPCX_NOWAIT));
        T_OK(ipcx_chan_flush(s, 5000));
        len = sizeof buf;
        T_OK(ipcx_chan_recv(r, buf, &len, 5000));
        T_ASSERT(len == 2 && memcmp(buf, "hi", 2) == 0);
        len = sizeof buf;
        T_OK(ipcx_chan_recv(r, buf, &len, 5000));
        T_ASSERT(len == 2 && memcmp(buf, "ho", 2) == 0);
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_chan_close(r)); /* nobody listens at sa any more */
        s = NULL;
        st = ipcx_chan_open(sa, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, 5000, &s);
        if (t == TP_NNG_IPC || t == TP_ZMQ_IPC) {
            T_ERR(IPCX_ERR_NOT_FOUND, st); /* a Unix connect fails at once */
            T_ASSERT(s == NULL);
        } else if (st == IPCX_OK) { /* refused in the background: every send says so */
            T_OK(ipcx_chan_fd(s, &fd));
            (void)ready(fd, POLLOUT, 5000);
            T_ERR(IPCX_ERR_NOT_FOUND, ipcx_chan_send(s, "x", 1, 5000));
            T_ERR(IPCX_ERR_NOT_FOUND, ipcx_chan_send(s, "x", 1, IPCX_NOWAIT));
            T_OK(ipcx_chan_close(s));
        } else {
            T_ERR(IPCX_ERR_NOT_FOUND, st);
        }
    }
    /* TCP takes numeric addresses only, and no allowed_networks; a sender that listens
     * never waits anyway. */
    ipcx_chan *s = NULL;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("zmq+tcp:localhost:9",
                                           IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, 0, &s));
    T_LAST_ERROR_HAS("numeric address");
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_allowed_networks(o, "127.0.0.0/8"));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("nng+tcp:127.0.0.1:9",
                                           IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, o, 0, &s));
    T_LAST_ERROR_HAS("allowed_networks");
    T_ASSERT(s == NULL);
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_chan_open("nng+tcp:127.0.0.1:0",
                        IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK | IPCX_CHAN_LISTEN, NULL, 0, &s));
    T_OK(ipcx_chan_close(s));
}

/* ---------------------------------------------------------------- what close removes */

static int object_exists(int t, const char *addr) {
    const char *n = strchr(addr, ':') + 1;
    struct stat st;
    switch (t) {
    case TP_FIFO:
    case TP_UNIX: return lstat(n, &st) == 0;
    case TP_MQ: {
        mqd_t q = mq_open(n, O_RDONLY);
        if (q == (mqd_t)-1) return 0;
        mq_close(q);
        return 1;
    }
    case TP_SHM: {
        int fd = shm_open(n, O_RDONLY, 0);
        if (fd < 0) return 0;
        close(fd);
        return 1;
    }
    case TP_SYSVMQ: return msgget((key_t)strtoul(n, NULL, 0), 0) >= 0;
    }
    return 0;
}

T_CASE(close_removes_keep_keeps_no_create_adopts) {
    static const int named[] = {TP_FIFO, TP_UNIX, TP_MQ, TP_SYSVMQ, TP_SHM};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        int t = named[i];
        char a[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        /* Plain receiver: close removes; a forked child closing its copy does not. */
        ipcx_chan *r = open_recv(t, mkaddr(t, a, "rm"), 0, o, NULL);
        T_ASSERT(object_exists(t, a));
        pid_t p = t_fork();
        if (p == 0) {
            T_OK(ipcx_chan_close(r));
            _exit(0);
        }
        t_wait_ok(p, 10000);
        T_ASSERT(object_exists(t, a));
        T_OK(ipcx_chan_close(r));
        T_ASSERTF(!object_exists(t, a), "%s still exists after close", a);
        /* KEEP: the object and (for queues and rings) its messages stay; a NO_CREATE
         * receiver opens it without owning it; a plain receiver adopts and removes it. */
        r = open_recv(t, a, IPCX_CHAN_KEEP, o, NULL);
        int keeps_msgs = t == TP_MQ || t == TP_SYSVMQ || t == TP_SHM;
        if (keeps_msgs) {
            ipcx_chan *s = open_send(a, 0);
            T_OK(ipcx_chan_send(s, "kept", 4, 1000));
            T_OK(ipcx_chan_close(s));
        }
        T_OK(ipcx_chan_close(r));
        /* A socket file is useless without its listener: KEEP does not apply. */
        T_ASSERTF(object_exists(t, a) == (t != TP_UNIX), "%s: KEEP close", a);
        if (t != TP_UNIX) {
            ipcx_chan *nc = NULL;
            T_OK(ipcx_chan_open(a, IPCX_OPEN_READ | IPCX_CHAN_NO_CREATE, NULL, 1000, &nc));
            ipcx_chan_info d = {.size = sizeof d};
            T_OK(ipcx_chan_stat(nc, &d));
            T_EQ_INT(d.created, 0);
            if (keeps_msgs) {
                char buf[8];
                size_t len = sizeof buf;
                T_OK(ipcx_chan_recv(nc, buf, &len, 1000));
                T_EQ_INT(len, 4);
                T_ASSERT(memcmp(buf, "kept", 4) == 0);
            }
            T_OK(ipcx_chan_close(nc));
            T_ASSERT(object_exists(t, a));
        } else {
            ipcx_chan *nc = (ipcx_chan *)1;
            T_ERR(IPCX_ERR_INVALID,
                  ipcx_chan_open(a, IPCX_OPEN_READ | IPCX_CHAN_NO_CREATE, NULL, 0, &nc));
            T_ASSERT(nc == NULL);
        }
        r = open_recv(t, a, 0, o, NULL);
        ipcx_chan_info d = {.size = sizeof d};
        T_OK(ipcx_chan_stat(r, &d));
        T_OK(ipcx_chan_close(r));
        if (t == TP_SYSVMQ) { /* adopted, not owned: its other types may be in use */
            T_ASSERT(object_exists(t, a));
            remove_sysv_queue(d.sysv_id);
        }
        T_ASSERT(!object_exists(t, a));
        if (t == TP_FIFO || t == TP_UNIX) {
            /* Replaced behind the receiver's back: the other file stays, and so does no
             * record of ours (it named our inode, which is gone). */
            const char *path = strchr(a, ':') + 1;
            r = open_recv(t, a, 0, o, NULL);
            T_ASSERT(unlink(path) == 0);
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            T_ASSERT(fd >= 0);
            close(fd);
            T_OK(ipcx_chan_close(r));
            T_ASSERT(object_exists(t, a)); /* not ours: left alone */
            ipcx_object_list *l = NULL;
            T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
            size_t cnt = 0;
            T_OK(ipcx_object_list_count(l, &cnt));
            for (size_t k = 0; k < cnt; k++) {
                ipcx_object_info oi = {.size = sizeof oi};
                T_OK(ipcx_object_list_get(l, k, &oi));
                T_ASSERTF(strcmp(oi.name, path) != 0, "%s: a record of the replaced file stays",
                          path);
            }
            T_OK(ipcx_object_list_close(l));
            T_ASSERT(unlink(path) == 0);
        }
        T_OK(ipcx_options_close(o));
    }
}

/* ---------------------------------------------------------------- bad input */

T_CASE(bad_input) {
    ipcx_chan *s = NULL, *r = NULL, *c = (ipcx_chan *)1, *d = (ipcx_chan *)1;
    char buf[16];
    size_t len = sizeof buf;
    int fd = 0;
    ipcx_chan_info info = {.size = sizeof info};
    /* NULL arguments. */
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(NULL, IPCX_OPEN_READ, NULL, 0, &c));
    T_ASSERT(c == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("mq:/x", IPCX_OPEN_READ, NULL, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair(NULL, 0, NULL, &c, &d));
    T_ASSERT(c == NULL && d == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair("pipe:", 0, NULL, NULL, &d));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair("pipe:", 0, NULL, &c, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send(NULL, "x", 1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_recv(NULL, buf, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_fd(NULL, &fd));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_stat(NULL, &info));
    T_OK(ipcx_chan_close(NULL));
    /* Flags. */
    char a[ADDR_MAX];
    mkaddr(TP_MQ, a, "flags");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(a, 0, NULL, 0, &c));
    T_LAST_ERROR_HAS("exactly one of IPCX_OPEN_WRITE and IPCX_OPEN_READ");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(a, IPCX_OPEN_WRITE | IPCX_OPEN_READ, NULL, 0, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(a, IPCX_OPEN_READ | 0x100, NULL, 0, &c));
    T_LAST_ERROR_HAS("unknown flags 0x100");
    T_LAST_ERROR_HAS("IPCX_CHAN_MULTI_SENDER");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(a, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, 0, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_pair("pipe:", IPCX_OPEN_READ, NULL, &c, &d));
    T_ASSERT(c == NULL && d == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(a, IPCX_OPEN_WRITE | IPCX_CHAN_KEEP, NULL, 0, &c));
    T_LAST_ERROR_HAS("apply to receivers");
    T_ERR(IPCX_ERR_INVALID,
          ipcx_chan_open("tcp:127.0.0.1:0", IPCX_OPEN_READ | IPCX_CHAN_NO_CREATE, NULL, 0, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open(a, IPCX_OPEN_READ, NULL, -5, &c));
    T_ASSERT(c == NULL);
    /* Closed options. */
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_pair("pipe:", 0, o, &c, &d));
    /* Wrong roles, NULL buffers. */
    T_OK(ipcx_chan_pair("pipe:", 0, NULL, &s, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send(r, "x", 1, 0));
    T_LAST_ERROR_HAS("receiver end");
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_recv(s, buf, &len, 0));
    T_LAST_ERROR_HAS("sender end");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send(s, NULL, 4, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_recv(r, buf, NULL, 0));
    len = 4;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_recv(r, NULL, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_fd(r, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_fd(s, NULL));
    T_LAST_ERROR_HAS("out_fd");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_stat(r, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send(s, "x", 1, -7));
    /* Closed handles; double close. */
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_send(s, "x", 1, 0));
    len = sizeof buf;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_recv(r, buf, &len, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_fd(r, &fd));
    T_EQ_INT(fd, -1);
    fd = 0;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_fd(s, &fd));
    T_EQ_INT(fd, -1);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_stat(r, &info));
    T_ASSERT(info.address == NULL && info.sysv_id == -1);
    T_EQ_INT(info.size, sizeof info);
    /* A handle of another kind. */
    ipcx_options *o2 = NULL;
    T_OK(ipcx_options_create(&o2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_chan_send((ipcx_chan *)o2, "x", 1, 0));
    T_OK(ipcx_options_close(o2));
    /* An object of another kind at a FIFO's path. */
    char p[300], fa[ADDR_MAX];
    t_path(p, sizeof p, "plain");
    int f = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    T_ASSERT(f >= 0);
    close(f);
    snprintf(fa, sizeof fa, "fifo:%s", p);
    T_ERR(IPCX_ERR_EXISTS, ipcx_chan_open(fa, IPCX_OPEN_READ, NULL, 0, &c));
    T_LAST_ERROR_HAS("not a FIFO");
    T_ASSERT(c == NULL);
    T_ERR(IPCX_ERR_EXISTS, ipcx_chan_open(fa, IPCX_OPEN_READ | IPCX_CHAN_NO_CREATE, NULL, 0, &c));
    T_ERR(IPCX_ERR_EXISTS, ipcx_chan_open(fa, IPCX_OPEN_WRITE, NULL, 1000, &c));
    snprintf(fa, sizeof fa, "unix:%s", p); /* and at a socket's path */
    T_ERR(IPCX_ERR_EXISTS, ipcx_chan_open(fa, IPCX_OPEN_READ, NULL, 0, &c));
    T_ERR(IPCX_ERR_EXISTS, ipcx_chan_open(fa, IPCX_OPEN_WRITE, NULL, 1000, &c));
    T_ASSERT(access(p, F_OK) == 0); /* not removed: ipcx did not create it */
    T_ASSERT(unlink(p) == 0);
}

/* A receiver that is not the only one: shm: refuses a second consumer. */
T_CASE(second_receiver_on_a_ring_is_in_use) {
    char a[ADDR_MAX];
    ipcx_options *o = mkopts(TP_SHM, 0);
    ipcx_chan *r = open_recv(TP_SHM, mkaddr(TP_SHM, a, "two"), 0, o, NULL), *r2 = NULL;
    T_ERR(IPCX_ERR_IN_USE, ipcx_chan_open(a, IPCX_OPEN_READ, o, 0, &r2));
    T_ASSERT(r2 == NULL);
    /* An SPSC ring takes one sender; MULTI_SENDER senders need an MPMC ring. */
    ipcx_chan *s = open_send(a, 0), *s2 = NULL;
    T_ERR(IPCX_ERR_IN_USE, ipcx_chan_open(a, IPCX_OPEN_WRITE, NULL, 0, &s2));
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
    T_OK(ipcx_options_close(o));
}

/* System V: the type is the sub-channel; several channels share one queue. */
T_CASE(sysvmq_types_are_sub_channels) {
    char a1[ADDR_MAX], a2[ADDR_MAX];
    mkaddr(TP_SYSVMQ, a1, "t");
    snprintf(a2, sizeof a2, "%.*s/2", (int)(strchr(a1, '/') - a1), a1);
    snprintf(strchr(a1, '/'), 3, "/1");
    ipcx_chan *r1 = open_recv(TP_SYSVMQ, a1, 0, NULL, NULL), *r2 = NULL;
    T_OK(ipcx_chan_open(a2, IPCX_OPEN_READ, NULL, 0, &r2));
    ipcx_chan_info d1 = {.size = sizeof d1}, d2 = {.size = sizeof d2};
    T_OK(ipcx_chan_stat(r1, &d1));
    T_OK(ipcx_chan_stat(r2, &d2));
    T_EQ_INT(d1.sysv_id, d2.sysv_id);
    T_ASSERT(d1.created && !d2.created);
    ipcx_chan *s1 = open_send(a1, 0), *s2 = open_send(a2, 0);
    T_OK(ipcx_chan_send(s2, "two", 3, 1000));
    T_OK(ipcx_chan_send(s1, "one", 3, 1000));
    char b[8];
    size_t len = sizeof b;
    T_OK(ipcx_chan_recv(r1, b, &len, 1000));
    T_ASSERT(len == 3 && !memcmp(b, "one", 3));
    len = sizeof b;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 50, ipcx_chan_recv(r1, b, &len, 50));
    len = sizeof b;
    T_OK(ipcx_chan_recv(r2, b, &len, 1000));
    T_ASSERT(len == 3 && !memcmp(b, "two", 3));
    T_OK(ipcx_chan_close(r2));
    T_ASSERT(object_exists(TP_SYSVMQ, a1));
    T_OK(ipcx_chan_close(r1)); /* the creator removes the queue */
    T_ASSERT(!object_exists(TP_SYSVMQ, a1));
    /* The other sub-channel's sender learns it. */
    T_ERR(IPCX_ERR_CLOSED, ipcx_chan_send(s2, "x", 1, 1000));
    T_LAST_ERROR_HAS("removed its queue");
    T_OK(ipcx_chan_close(s1));
    T_OK(ipcx_chan_close(s2));
}

/* Unnamed channels for fork: both ends at once, for each kind of pair. */
T_CASE(pairs_over_fork) {
    static const char *const kinds[] = {"pipe:", "unix:", "shm:"};
    static const uint32_t ids[] = {IPCX_CHAN_PIPE, IPCX_CHAN_UNIX, IPCX_CHAN_SHM};
    for (int k = 0; k < 3; k++) {
        ipcx_chan *s, *r;
        T_OK(ipcx_chan_pair(kinds[k], 0, NULL, &s, &r));
        ipcx_chan_info ds = {.size = sizeof ds}, dr = {.size = sizeof dr};
        T_OK(ipcx_chan_stat(s, &ds));
        T_OK(ipcx_chan_stat(r, &dr));
        T_EQ_INT(ds.transport, ids[k]);
        T_EQ_INT(ds.role, IPCX_OPEN_WRITE);
        T_EQ_INT(dr.role, IPCX_OPEN_READ);
        T_ASSERT(!ds.created && !dr.created);
        T_ASSERT(strcmp(dr.address, kinds[k]) == 0 && strcmp(dr.object, "") == 0);
        T_EQ_INT(dr.caps & IPCX_CHAN_CAP_MULTI_SENDER, 0);
        pid_t p = t_fork();
        if (p == 0) {
            T_OK(ipcx_chan_close(r));
            for (uint32_t i = 0; i < 1000; i++) T_OK(ipcx_chan_send(s, &i, sizeof i, 10000));
            T_OK(ipcx_chan_close(s));
            _exit(0);
        }
        T_OK(ipcx_chan_close(s));
        for (uint32_t i = 0; i < 1000; i++) {
            uint32_t v = 0;
            size_t len = sizeof v;
            T_OK(ipcx_chan_recv(r, &v, &len, 10000));
            T_EQ_INT(len, sizeof v);
            T_EQ_INT(v, i);
        }
        uint32_t v;
        size_t len = sizeof v;
        T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(r, &v, &len, 5000));
        T_LAST_ERROR_HAS("ipcx_chan_recv");
        t_wait_ok(p, 10000);
        T_OK(ipcx_chan_close(r));
    }
    /* The sender learns that the receiver is gone. */
    for (int k = 0; k < 3; k++) {
        ipcx_chan *s, *r;
        T_OK(ipcx_chan_pair(kinds[k], 0, NULL, &s, &r));
        T_OK(ipcx_chan_close(r));
        int st = IPCX_OK;
        for (int i = 0; i < 100000 && st == IPCX_OK; i++) st = ipcx_chan_send(s, "x", 1, 1000);
        T_ASSERTF(st == IPCX_ERR_CLOSED, "%s: %s", kinds[k], ipcx_last_error());
        T_OK(ipcx_chan_close(s));
    }
}

/* ---------------------------------------------------------------- 0.2 rules */

T_CASE(stat_fills_what_the_caller_has_room_for) {
    ipcx_chan *s, *r;
    T_OK(ipcx_chan_pair("pipe:", 0, NULL, &s, &r));
    /* A size the caller did not set, or below the 0.2 struct: refused, nothing written. */
    ipcx_chan_info info;
    memset(&info, 0x55, sizeof info);
    info.size = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_stat(r, &info));
    T_LAST_ERROR_HAS("size");
    T_EQ_INT(info.size, 0);
    T_EQ_INT(info.transport, 0x55555555);
    info.size = offsetof(ipcx_chan_info, refused) - 1;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_stat(r, &info));
    T_EQ_INT(info.transport, 0x55555555);
    /* A caller built against 0.2.0, whose struct ended before `refused` (appended since):
     * the fields it has, and nothing past them. */
    info.size = offsetof(ipcx_chan_info, refused);
    T_OK(ipcx_chan_stat(r, &info));
    T_EQ_INT(info.size, offsetof(ipcx_chan_info, refused));
    T_EQ_INT(info.transport, IPCX_CHAN_PIPE);
    T_ASSERT(info.refused == 0x5555555555555555ull);
    /* A caller built against a later, larger struct: the library writes the fields it
     * knows, says how many bytes, and leaves the rest alone. */
    struct {
        ipcx_chan_info i;
        uint64_t later;
    } big;
    memset(&big, 0x55, sizeof big);
    big.i.size = sizeof big;
    T_OK(ipcx_chan_stat(r, &big.i));
    T_EQ_INT(big.i.size, sizeof(ipcx_chan_info));
    T_ASSERT(big.later == 0x5555555555555555ull);
    T_EQ_INT(big.i.role, IPCX_OPEN_READ);
    T_EQ_INT(big.i.transport, IPCX_CHAN_PIPE);
    T_EQ_INT(big.i.refused, 0);
    T_EQ_INT(big.i.fd_events, IPCX_CHAN_POLL_IN);
    T_ASSERT(strcmp(big.i.address, "pipe:") == 0);
    /* A caller whose struct ends before `fd_events` (appended after `refused`). */
    memset(&info, 0x55, sizeof info);
    info.size = offsetof(ipcx_chan_info, fd_events);
    T_OK(ipcx_chan_stat(r, &info));
    T_EQ_INT(info.size, offsetof(ipcx_chan_info, fd_events));
    T_EQ_INT(info.refused, 0);
    T_EQ_INT(info.fd_events, 0x55555555);
    /* The exact size. */
    ipcx_chan_info si = {.size = sizeof si};
    T_OK(ipcx_chan_stat(s, &si));
    T_EQ_INT(si.size, sizeof si);
    T_EQ_INT(si.role, IPCX_OPEN_WRITE);
    T_EQ_INT(si.fd_events, IPCX_CHAN_POLL_OUT);
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
}

/* A fifo: receiver that has just seen every sender leave keeps what a new sender writes
 * right after: senders come and go one after another while the receiver keeps receiving
 * (CLOSED between them), and every message arrives, in order. */
T_CASE(fifo_messages_after_every_sender_left_are_kept) {
    char a[ADDR_MAX];
    ipcx_chan *r = open_recv(TP_FIFO, mkaddr(TP_FIFO, a, "relay"), 0, NULL, NULL);
    enum { SENDERS = 300 };
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_chan_close(r));
        for (uint32_t i = 0; i < SENDERS; i++) {
            ipcx_chan *s = open_send(a, 0);
            T_OK(ipcx_chan_send(s, &i, sizeof i, 5000));
            T_OK(ipcx_chan_close(s));
        }
        _exit(0);
    }
    uint32_t next = 0;
    int closed = 0;
    double t0 = t_now_ms();
    while (next < SENDERS && t_now_ms() - t0 < 30000) {
        uint32_t m;
        size_t len = sizeof m;
        ipcx_status st = ipcx_chan_recv(r, &m, &len, 1000);
        if (st == IPCX_ERR_CLOSED || st == IPCX_ERR_TIMEOUT) {
            closed += st == IPCX_ERR_CLOSED;
            continue;
        }
        T_OK(st);
        T_EQ_INT(len, sizeof m);
        T_ASSERTF(m == next, "message %u arrived, %u expected (messages lost)", m, next);
        next++;
    }
    T_EQ_INT(next, SENDERS);
    t_wait_ok(p, 30000);
    printf("  (%d CLOSED between senders)\n", closed);
    T_OK(ipcx_chan_close(r));
}

T_CASE(fifo_receiver_recovers_from_a_stray_writer) {
    char a[ADDR_MAX], buf[4096];
    size_t len;
    ipcx_chan *r = open_recv(TP_FIFO, mkaddr(TP_FIFO, a, "stray"), 0, NULL, NULL);
    const char *path = a + strlen("fifo:");
    ipcx_chan *s = open_send(a, 0);
    T_OK(ipcx_chan_send(s, "before", 6, 1000));
    len = sizeof buf;
    T_OK(ipcx_chan_recv(r, buf, &len, 1000));
    T_ASSERT(len == 6 && memcmp(buf, "before", 6) == 0);
    /* A stray writer: raw bytes that are no frame (their "length" is far above 4092). */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    T_ASSERT(fd >= 0);
    T_ASSERT(write(fd, "garbage!", 8) == 8);
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_chan_recv(r, buf, &len, 1000));
    T_LAST_ERROR_HAS("discarded");
    /* Reported once: the next messages of well-behaved senders are received. */
    T_OK(ipcx_chan_send(s, "after", 5, 1000));
    len = sizeof buf;
    T_OK(ipcx_chan_recv(r, buf, &len, 1000));
    T_ASSERT(len == 5 && memcmp(buf, "after", 5) == 0);
    /* An oversized frame: a header announcing more than a fifo: channel carries, with
     * part of its body. */
    unsigned char hdr[4] = {0, 0, 0x20, 0}; /* 8192 */
    T_ASSERT(write(fd, hdr, 4) == 4);
    memset(buf, 'z', 100);
    T_ASSERT(write(fd, buf, 100) == 100);
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_chan_recv(r, buf, &len, 1000));
    T_LAST_ERROR_HAS("8192");
    ipcx_chan *s2 = open_send(a, 0);
    T_OK(ipcx_chan_send(s2, "second sender", 13, 1000));
    T_OK(ipcx_chan_send(s, "first sender", 12, 1000));
    len = sizeof buf;
    T_OK(ipcx_chan_recv(r, buf, &len, 1000));
    T_ASSERT(len == 13 && memcmp(buf, "second sender", 13) == 0);
    len = sizeof buf;
    T_OK(ipcx_chan_recv(r, buf, &len, 1000));
    T_ASSERT(len == 12 && memcmp(buf, "first sender", 12) == 0);
    /* A stray write too short for a header, then every writer leaves: end of file, and
     * the stray bytes are dropped with it; a later sender is received. */
    T_ASSERT(write(fd, "xy", 2) == 2);
    close(fd);
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(s2));
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_chan_recv(r, buf, &len, 1000));
    s = open_send(a, 0);
    T_OK(ipcx_chan_send(s, "later", 5, 1000));
    len = 16; /* a small buffer: the other receive path */
    T_OK(ipcx_chan_recv(r, buf, &len, 1000));
    T_ASSERT(len == 5 && memcmp(buf, "later", 5) == 0);
    /* The same with a small receive buffer. */
    fd = open(path, O_WRONLY | O_CLOEXEC);
    T_ASSERT(fd >= 0);
    T_ASSERT(write(fd, "\xff\xff\xff\xff junk", 9) == 9);
    close(fd);
    len = 16;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_chan_recv(r, buf, &len, 1000));
    T_OK(ipcx_chan_send(s, "again", 5, 1000));
    len = 16;
    T_OK(ipcx_chan_recv(r, buf, &len, 1000));
    T_ASSERT(len == 5 && memcmp(buf, "again", 5) == 0);
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
}

/* ---------------------------------------------------------------- other libraries' wires */

static uint64_t refused_count(const ipcx_chan *c) {
    ipcx_chan_info d = {.size = sizeof d};
    T_OK(ipcx_chan_stat(c, &d));
    return d.refused;
}

/* The roles of the nng+ and zmq+ transports: a receiver that listens (the default) or
 * dials a listening sender; a sender that dials (the default) or listens and hands each
 * message to one of the receivers connected to it. */
T_CASE(peer_roles_and_flags) {
    ipcx_chan *c = (ipcx_chan *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("nng+tcp:127.0.0.1:0",
                                           IPCX_OPEN_READ | IPCX_CHAN_LISTEN | IPCX_CHAN_DIAL,
                                           NULL, 0, &c));
    T_LAST_ERROR_HAS("at most one of IPCX_CHAN_LISTEN and IPCX_CHAN_DIAL");
    T_ASSERT(c == NULL);
    T_ERR(IPCX_ERR_INVALID,
          ipcx_chan_open("tcp:127.0.0.1:0", IPCX_OPEN_READ | IPCX_CHAN_DIAL, NULL, 0, &c));
    T_LAST_ERROR_HAS("apply to the other libraries' transports");
    T_ERR(IPCX_ERR_INVALID,
          ipcx_chan_open("unix:@x", IPCX_OPEN_WRITE | IPCX_CHAN_LISTEN, NULL, 0, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_open("zmq+tcp:127.0.0.1:0",
                                           IPCX_OPEN_READ | IPCX_CHAN_NO_CREATE, NULL, 0, &c));
    T_LAST_ERROR_HAS("IPCX_CHAN_NO_CREATE does not apply to zmq+tcp:");
    for (int t = TP_NNG_TCP; t < TP_N; t++) {
        char a[ADDR_MAX], at[ADDR_MAX], buf[64];
        size_t len;
        /* The defaults, made explicit. */
        ipcx_chan *r = open_recv(t, mkaddr(t, a, "role"), IPCX_CHAN_LISTEN, NULL, at);
        ipcx_chan *s = open_send(at, IPCX_CHAN_DIAL);
        ipcx_chan_info d = {.size = sizeof d};
        T_OK(ipcx_chan_stat(s, &d));
        T_EQ_INT(d.transport, TP[t].id);
        T_EQ_INT(d.role, IPCX_OPEN_WRITE);
        T_EQ_INT(d.caps,
                 IPCX_CHAN_CAP_POLL | IPCX_CHAN_CAP_PEER_CLOSED | IPCX_CHAN_CAP_MULTI_SENDER);
        len = sizeof buf;
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, buf, &len, IPCX_NOWAIT));
        T_OK(ipcx_chan_send(s, "x", 1, 5000));
        len = sizeof buf;
        T_OK(ipcx_chan_recv(r, buf, &len, 5000));
        T_ASSERT(len == 1 && buf[0] == 'x');
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_chan_close(r));
        /* A receiver that dials waits for a listening sender, then times out. */
        if (has_socket_file(t)) {
            c = (ipcx_chan *)1;
            T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100,
                        ipcx_chan_open(a, IPCX_OPEN_READ | IPCX_CHAN_DIAL, NULL, 100, &c));
            T_ASSERT(c == NULL);
            T_LAST_ERROR_HAS("nothing to open");
        }
        /* A sender that listens, two receivers that dial it: each message goes to one of
         * them, in turn; each one's messages are in order. */
        s = NULL;
        T_OK(ipcx_chan_open(mkaddr(t, a, "fanout"), IPCX_OPEN_WRITE | IPCX_CHAN_LISTEN, NULL, 0,
                            &s));
        d.size = sizeof d;
        T_OK(ipcx_chan_stat(s, &d));
        T_EQ_INT(d.role, IPCX_OPEN_WRITE);
        T_EQ_INT(d.caps, 0); /* never CLOSED: with no receiver, a send waits */
        T_EQ_INT(d.created, 1);
        int fd = 0;
        T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_chan_fd(s, &fd));
        T_EQ_INT(fd, -1);
        T_LAST_ERROR_HAS("IPCX_CHAN_LISTEN");
        snprintf(at, sizeof at, "%s", d.address);
        ipcx_chan *r1 = NULL, *r2 = NULL;
        T_OK(ipcx_chan_open(at, IPCX_OPEN_READ | IPCX_CHAN_DIAL, NULL, 5000, &r1));
        T_OK(ipcx_chan_open(at, IPCX_OPEN_READ | IPCX_CHAN_DIAL, NULL, 5000, &r2));
        ipcx_chan_info dr = {.size = sizeof dr};
        T_OK(ipcx_chan_stat(r1, &dr));
        T_EQ_INT(dr.caps, IPCX_CHAN_CAP_POLL | IPCX_CHAN_CAP_PEER_CLOSED);
        T_EQ_INT(dr.created, 0);
        for (uint32_t i = 0; i < 100; i++) T_OK(ipcx_chan_send(s, &i, sizeof i, 5000));
        int got[2] = {0, 0};
        ipcx_chan *rs[2] = {r1, r2};
        for (int k = 0; k < 2; k++) {
            int64_t last = -1;
            for (;;) {
                uint32_t v;
                len = sizeof v;
                int st = ipcx_chan_recv(rs[k], &v, &len, 200);
                if (st == IPCX_ERR_TIMEOUT) break;
                T_OK(st);
                T_ASSERT((int64_t)v > last);
                last = v;
                got[k]++;
            }
        }
        T_ASSERTF(got[0] + got[1] == 100 && got[0] > 0 && got[1] > 0, "%s: %d + %d", a, got[0],
                  got[1]);
        /* One receiver leaves: the other takes everything; none left: a send times out. */
        T_OK(ipcx_chan_close(r1));
        for (uint32_t i = 0; i < 10; i++) T_OK(ipcx_chan_send(s, &i, sizeof i, 5000));
        for (uint32_t i = 0; i < 10; i++) {
            uint32_t v;
            len = sizeof v;
            T_OK(ipcx_chan_recv(r2, &v, &len, 5000));
            T_EQ_INT(v, i);
        }
        T_OK(ipcx_chan_close(r2));
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_chan_send(s, "y", 1, 100));
        T_LAST_ERROR_HAS("no receiver is connected");
        T_OK(ipcx_chan_close(s));
    }
}

/* A raw connection to `addr` (tcp: "scheme:host:port", ipc: "scheme:/path"). */
static int raw_connect(const char *addr) {
    const char *rest = strchr(addr, ':') + 1;
    int fd;
    if (strstr(addr, "+ipc:")) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        snprintf(un.sun_path, sizeof un.sun_path, "%s", rest);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        T_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof un) == 0);
    } else {
        struct sockaddr_in in = {.sin_family = AF_INET};
        in.sin_addr.s_addr = htonl(0x7f000001);
        in.sin_port = htons((uint16_t)atoi(strrchr(rest, ':') + 1));
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        T_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&in, sizeof in) == 0);
    }
    return fd;
}

/* What a PUSH peer sends first: SP's header, or ZMTP's greeting and READY. */
static size_t raw_hello(int t, unsigned char *out) {
    if (t == TP_NNG_TCP || t == TP_NNG_IPC) {
        static const unsigned char sp[8] = {0, 'S', 'P', 0, 0, 0x50, 0, 0};
        memcpy(out, sp, 8);
        return 8;
    }
    memset(out, 0, 64);
    out[0] = 0xff;
    out[9] = 0x7f;
    out[10] = 3;
    out[11] = 1;
    memcpy(out + 12, "NULL", 4);
    static const unsigned char ready[] = {4, 26, 5, 'R', 'E', 'A', 'D', 'Y', 11, 'S', 'o', 'c',
                                          'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 4,
                                          'P', 'U', 'S', 'H'};
    memcpy(out + 64, ready, sizeof ready);
    return 64 + sizeof ready;
}

/* The header of a message of `len` bytes (`more`: ZMTP's MORE flag). */
static size_t raw_header(int t, uint64_t len, int more, unsigned char *out) {
    size_t n = 0;
    if (t == TP_NNG_IPC) out[n++] = 1;
    if (t == TP_ZMQ_TCP || t == TP_ZMQ_IPC) out[n++] = (unsigned char)(2 | (more ? 1 : 0));
    for (int i = 7; i >= 0; i--) out[n++] = (unsigned char)(len >> (i * 8));
    return n;
}

/* Receive until `want` arrives (an error with `needle`, or a message `msg`), skipping
 * the well-behaved sender's messages `keep` (counted in *kept). */
static void recv_until(ipcx_chan *r, int want, const char *needle, const char *keep,
                       int *kept) {
    char buf[256];
    for (;;) {
        size_t len = sizeof buf;
        int st = ipcx_chan_recv(r, buf, &len, 5000);
        if (st == IPCX_OK && len == strlen(keep) && !memcmp(buf, keep, len)) {
            (*kept)++;
            continue;
        }
        T_ASSERTF(st == want, "%s: %s", t_status_name(st), ipcx_last_error());
        if (want == IPCX_OK)
            T_ASSERT(len == strlen(needle) && !memcmp(buf, needle, len));
        else
            T_LAST_ERROR_HAS(needle);
        return;
    }
}

/* A hostile peer: a length of 2^63 is refused before anything is allocated or read and
 * its connection dropped; a stranger is refused on its first bytes; the well-behaved
 * sender beside them is unaffected. */
T_CASE(peer_hostile_input_is_refused) {
    for (int t = TP_NNG_TCP; t < TP_N; t++) {
        char a[ADDR_MAX], at[ADDR_MAX];
        unsigned char hello[128], hdr[16];
        int kept = 0;
        ipcx_chan *r = open_recv(t, mkaddr(t, a, "hostile"), 0, NULL, at);
        ipcx_chan *s = open_send(at, 0);
        char x[8];
        size_t len = sizeof x;
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, x, &len, IPCX_NOWAIT));
        T_OK(ipcx_chan_send(s, "good", 4, 5000));
        int fd = raw_connect(at);
        size_t n = raw_hello(t, hello);
        size_t h = raw_header(t, 1ull << 63, 0, hdr);
        T_ASSERT(write(fd, hello, n) == (ssize_t)n && write(fd, hdr, h) == (ssize_t)h);
        recv_until(r, IPCX_ERR_PROTOCOL, "9223372036854775808-byte message", "good", &kept);
        T_OK(ipcx_chan_send(s, "good", 4, 5000));
        close(fd);
        /* Strangers. */
        fd = raw_connect(at);
        T_ASSERT(write(fd, "GET / HTTP/1.1\r\n\r\n", 18) == 18);
        recv_until(r, IPCX_ERR_PROTOCOL, t == TP_NNG_TCP || t == TP_NNG_IPC ?
                   "not an SP header" : "not a ZMTP 3 greeting", "good", &kept);
        close(fd);
        if (t == TP_ZMQ_TCP || t == TP_ZMQ_IPC) {
            /* Parts adding up to more than the maximum: refused, the connection dropped. */
            fd = raw_connect(at);
            T_ASSERT(write(fd, hello, n) == (ssize_t)n);
            for (int i = 0; i < 2; i++) {
                h = raw_header(t, 600 * 1024, 1, hdr);
                T_ASSERT(write(fd, hdr, h) == (ssize_t)h);
                static char part[600 * 1024];
                size_t off = 0;
                while (off < sizeof part) {
                    struct pollfd pf = {.fd = fd, .events = POLLOUT};
                    poll(&pf, 1, 10);
                    ssize_t w = send(fd, part + off, sizeof part - off, MSG_DONTWAIT);
                    if (w > 0) off += (size_t)w;
                    else if (i == 1) break; /* the receiver gave up on it */
                    else { /* let it read */
                        size_t l2 = sizeof x;
                        int st = ipcx_chan_recv(r, x, &l2, 10);
                        if (st == IPCX_OK) kept++;
                    }
                }
            }
            recv_until(r, IPCX_ERR_PROTOCOL, "parts adding up to more than the maximum", "good",
                       &kept);
            close(fd);
        }
        T_OK(ipcx_chan_send(s, "after", 5, 5000));
        recv_until(r, IPCX_OK, "after", "good", &kept);
        T_EQ_INT(kept, 2);
        T_OK(ipcx_chan_close(s));
        T_OK(ipcx_chan_close(r));
    }
}

/* Who may send: receivers over sockets admit senders by user and group (Unix) or by
 * network (TCP); a refused connection is closed at once, counted, never read. A sender
 * may restrict its receiver the same way: its open fails. */
T_CASE(who_may_send) {
    ipcx_options *o = NULL;
    uint32_t me = getuid(), other = getuid() + 1000, gid = getgid(), none = 0xffffffffu;
    /* Bad input. */
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_uids(NULL, &me, 1));
    T_OK(ipcx_options_create(&o));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_uids(o, NULL, 1));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_uids(o, &me, 0));
    T_LAST_ERROR_HAS("empty");
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_gids(o, &none, 1));
    T_LAST_ERROR_HAS("(uid_t)-1");
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_networks(o, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_networks(o, " , "));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_networks(o, "10.0.0.0/8, 10.0.0.0/33"));
    T_LAST_ERROR_HAS("\"10.0.0.0/33\"");
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_allowed_networks(o, "300.1.1.1"));
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_allowed_uids(o, &me, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_allowed_networks(o, "::1"));
    /* Unix sockets, TCP, and the wire protocols of other libraries. */
    static const int ts[] = {TP_UNIX, TP_ABSTRACT, TP_TCP, TP_NNG_IPC, TP_ZMQ_TCP};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        int t = ts[i], tcp = t == TP_TCP || t == TP_ZMQ_TCP;
        for (int admit = 0; admit < 2; admit++) {
            char a[ADDR_MAX], at[ADDR_MAX], buf[16];
            T_OK(ipcx_options_create(&o));
            if (tcp)
                T_OK(ipcx_options_set_allowed_networks(o, admit ? "10.0.0.0/8 127.0.0.1 ::1"
                                                                : "10.0.0.0/8, fd00::/8"));
            else if (admit)
                T_OK(ipcx_options_set_allowed_gids(o, &gid, 1));
            else
                T_OK(ipcx_options_set_allowed_uids(o, &other, 1));
            ipcx_chan *r = open_recv(t, mkaddr(t, a, "who"), 0, o, at);
            ipcx_chan *s = open_send(at, 0);
            size_t len = sizeof buf;
            T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, buf, &len, IPCX_NOWAIT));
            T_EQ_INT(refused_count(r), admit ? 0 : 1);
            int st = ipcx_chan_send(s, "hi", 2, 1000);
            if (admit) {
                T_OK(st);
                len = sizeof buf;
                T_OK(ipcx_chan_recv(r, buf, &len, 5000));
                T_ASSERT(len == 2 && !memcmp(buf, "hi", 2));
            } else {
                /* Closed before anything was read: the sender learns it. */
                for (int k = 0; k < 100000 && st == IPCX_OK; k++)
                    st = ipcx_chan_send(s, "hi", 2, 1000);
                T_ASSERTF(st == IPCX_ERR_CLOSED, "%s: %s", a, ipcx_last_error());
                len = sizeof buf;
                T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, buf, &len, 100));
            }
            T_OK(ipcx_chan_close(s));
            T_OK(ipcx_chan_close(r));
            /* The sender's side: the receiver it reached must be allowed. */
            r = open_recv(t, mkaddr(t, a, "who2"), 0, NULL, at);
            ipcx_chan *s2 = (ipcx_chan *)1;
            if (admit) {
                T_OK(ipcx_chan_open(at, IPCX_OPEN_WRITE, o, 5000, &s2));
                T_OK(ipcx_chan_close(s2));
            } else {
                T_ERR(IPCX_ERR_PERMISSION, ipcx_chan_open(at, IPCX_OPEN_WRITE, o, 5000, &s2));
                T_ASSERT(s2 == NULL);
                T_LAST_ERROR_HAS(tcp ? "not in an allowed network" : "not an allowed user");
            }
            T_OK(ipcx_chan_close(r));
            T_OK(ipcx_options_close(o));
        }
    }
    (void)me;
}

/* ---------------------------------------------------------------- vectored sends */

static size_t cm_len(uint32_t i) { return i % 31 == 0 ? 0 : 4 + (i * 7) % 200; }
static void cm_fill(uint32_t i, unsigned char *m) {
    size_t n = cm_len(i);
    if (n >= 4) memcpy(m, &i, 4);
    for (size_t k = 4; k < n; k++) m[k] = (unsigned char)(i ^ k);
}

#define CM_TOTAL 1500u

/* ipcx_chan_send_many over every transport: each message arrives whole, once, in order,
 * batches of 1 to 500 messages; then the receiver dies and a sender that can tell gets
 * IPCX_ERR_CLOSED with the count of messages accepted before. */
T_CASE(send_many_whole_and_in_order_over_every_transport) {
    struct rk_shared *sh = (struct rk_shared *)shared_int();
    static unsigned char store[CM_TOTAL][204];
    static ipcx_iov v[CM_TOTAL];
    for (uint32_t i = 0; i < CM_TOTAL; i++) {
        cm_fill(i, store[i]);
        v[i].buf = store[i];
        v[i].len = cm_len(i);
    }
    for (int t = 0; t < TP_N; t++) {
        char a[ADDR_MAX];
        ipcx_options *o = mkopts(t, 0);
        ipcx_chan *s = NULL, *r = NULL;
        if (TP[t].pair_only)
            T_OK(ipcx_chan_pair("pipe:", 0, o, &s, &r));
        else
            mkaddr(t, a, "many");
        atomic_store(&sh->ready, 0);
        pid_t p = t_fork();
        if (p == 0) {
            if (s) T_OK(ipcx_chan_close(s));
            if (!r) r = open_recv(t, a, 0, o, sh->addr);
            atomic_store(&sh->ready, 1);
            unsigned char m[256];
            for (uint32_t i = 0; i < CM_TOTAL; i++) {
                size_t len = sizeof m;
                T_OK(ipcx_chan_recv(r, m, &len, 20000));
                T_ASSERTF(len == cm_len(i), "%s: message %u: %zu bytes, expected %zu",
                          TP[t].scheme, i, len, cm_len(i));
                uint32_t seq = i;
                if (len >= 4) memcpy(&seq, m, 4);
                T_ASSERTF(seq == i, "%s: message %u arrived as %u", TP[t].scheme, i, seq);
                T_ASSERT(memcmp(m, store[i], len) == 0);
            }
            _exit(0); /* the receiver dies (a persistent object stays: removed below) */
        }
        if (r) T_OK(ipcx_chan_close(r));
        while (!atomic_load(&sh->ready)) usleep(500);
        if (!s) s = open_send(sh->addr, 0);
        {
            /* One message too big in a batch: nothing is sent, not even the ones before
             * it (the receiver would see message 0 twice). */
            ipcx_chan_info info = {.size = sizeof info};
            T_OK(ipcx_chan_stat(s, &info));
            unsigned char *big = calloc(1, info.max_message + 1);
            T_ASSERT(big != NULL);
            ipcx_iov bad[3] = {v[0], v[1], {big, info.max_message + 1}};
            size_t sent = 99999;
            int st = ipcx_chan_send_many(s, bad, 3, 1000, &sent);
            free(big);
            T_ERR(IPCX_ERR_TOO_BIG, st);
            T_EQ_INT(sent, 0);
            T_LAST_ERROR_HAS("bytes");
        }
        uint32_t next = 0;
        for (size_t b = 1; next < CM_TOTAL; b = b * 4 + 1) {
            size_t n = b > CM_TOTAL - next ? CM_TOTAL - next : b, sent = 99999;
            T_OK(ipcx_chan_send_many(s, v + next, n, 20000, &sent));
            T_EQ_INT(sent, n);
            next += (uint32_t)n;
        }
        T_OK(ipcx_chan_flush(s, 20000));
        t_wait_ok(p, 30000);
        if (TP[t].tells_send && is_stream(t)) {
            /* Messages into a channel whose receiver is gone: CLOSED, not a signal;
             * out_sent counts what was written before it said so. */
            size_t sent = 99999;
            int st = IPCX_OK;
            for (int k = 0; k < 1000 && st == IPCX_OK; k++)
                st = ipcx_chan_send_many(s, v, CM_TOTAL, 5000, &sent);
            T_ERR(IPCX_ERR_CLOSED, st);
            T_ASSERT(sent < CM_TOTAL);
        }
        T_OK(ipcx_chan_close(s));
        if (TP[t].persistent) { /* what the dead receiver left: adopt and remove it */
            ipcx_chan *again = open_recv(t, a, 0, o, NULL);
            ipcx_chan_info d = {.size = sizeof d};
            T_OK(ipcx_chan_stat(again, &d));
            int id = d.sysv_id;
            T_OK(ipcx_chan_close(again));
            if (t == TP_SYSVMQ) remove_sysv_queue(id);
        }
        T_OK(ipcx_options_close(o));
    }
    munmap(sh, 4096);
}

T_CASE(send_many_bad_input) {
    ipcx_chan *s, *r;
    T_OK(ipcx_chan_pair("pipe:", 0, NULL, &s, &r));
    char m[8] = "message";
    ipcx_iov v[2] = {{m, sizeof m}, {NULL, 3}};
    size_t sent = 7;
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send_many(s, v, 2, 1000, &sent));
    T_EQ_INT(sent, 0);
    T_LAST_ERROR_HAS("msgs");
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send_many(s, NULL, 1, 1000, &sent));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send_many(r, v, 1, 1000, &sent)); /* a receiver */
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send_many(s, v, 1, -5, &sent));
    T_ERR(IPCX_ERR_INVALID, ipcx_chan_send_many(NULL, v, 1, 1000, &sent));
    size_t len = sizeof m;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_chan_recv(r, m, &len, IPCX_NOWAIT)); /* nothing was sent */
    T_OK(ipcx_chan_send_many(s, NULL, 0, 1000, &sent));
    T_EQ_INT(sent, 0);
    T_OK(ipcx_chan_send_many(s, v, 1, 1000, NULL));
    len = sizeof m;
    T_OK(ipcx_chan_recv(r, m, &len, 1000));
    T_EQ_INT(len, sizeof m);
    T_OK(ipcx_chan_close(s));
    T_OK(ipcx_chan_close(r));
}

T_MAIN(T_ENTRY(ping_pong), T_ENTRY(pairs_over_fork), T_ENTRY(four_producers_nothing_lost_in_order),
       T_ENTRY(timeouts_never_early), T_ENTRY(sender_killed_midstream),
       T_ENTRY(receiver_killed_midstream), T_ENTRY(malformed_addresses_say_what_was_expected),
       T_ENTRY(options_a_transport_cannot_honour), T_ENTRY(message_sizes_and_too_big),
       T_ENTRY(info_and_poll_descriptor), T_ENTRY(sender_fd_tracks_back_pressure),
       T_ENTRY(shm_sender_room_descriptor),
       T_ENTRY(flush_writes_what_a_send_kept), T_ENTRY(sender_opens_without_waiting),
       T_ENTRY(nonblocking_open_without_an_event_fails_at_once),
       T_ENTRY(peer_senders_open_without_waiting),
       T_ENTRY(close_removes_keep_keeps_no_create_adopts),
       T_ENTRY(bad_input), T_ENTRY(second_receiver_on_a_ring_is_in_use),
       T_ENTRY(sysvmq_types_are_sub_channels), T_ENTRY(stat_fills_what_the_caller_has_room_for),
       T_ENTRY(fifo_messages_after_every_sender_left_are_kept),
       T_ENTRY(fifo_receiver_recovers_from_a_stray_writer), T_ENTRY(peer_roles_and_flags),
       T_ENTRY(peer_hostile_input_is_refused), T_ENTRY(who_may_send),
       T_ENTRY(send_many_whole_and_in_order_over_every_transport), T_ENTRY(send_many_bad_input))
