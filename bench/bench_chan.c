/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Channel benchmark: every transport through the channel API (ipcx_chan_*), each next
 * to its raw equivalent measured seconds apart in the same run, and the peers (ZeroMQ
 * PUSH/PULL and nng push/pull over ipc://) when they were found at build time.
 *
 * For each placement (parent CPU0 / child CPU1, then both on CPU0) and transport:
 *   - round trip of a 64-byte message (parent sends on one channel, the child echoes on
 *     another): median and p99 of each run (the table: the median over runs, min-max);
 *   - one-way throughput of 64 B messages and of large ones (child sends, parent
 *     receives and checks a sequence number in every message).
 * Large is 64 KiB, except where the transport cannot carry it: fifo: 4092 B (a channel
 * FIFO is atomic: PIPE_BUF minus its 4-byte header), mq: and sysvmq: 8 KiB (this
 * machine's msgsize_max and msgmax).
 * References ("raw"): pipe(2) read/write; mkfifo + read/write; Unix stream socketpair
 * send/recv; TCP loopback send/recv (TCP_NODELAY); mq_send/mq_receive; msgsnd/msgrcv
 * (types 1 and 2 of one queue); for shm: the ipcx ring API itself (ipcx_ring_send/recv),
 * since the ring's own benchmark (bench_ring) compares it with raw C rings: this one
 * measures what the channel layer costs on top. Raw readers know the message size and
 * read exactly that; the channel frames streams with a 4-byte header. Channels use
 * IPCX_FOREVER and default options (mq: 10 x 8 KiB), as raw programs would.
 * pipe: and fifo: also run as "chan noguard" (sigpipe_guard false: no rt_sigprocmask
 * pair around each write, for programs that ignore or block SIGPIPE themselves).
 * pipe:, unix: and tcp: also run "chan send_many": the sender hands its 64 B messages to
 * ipcx_chan_send_many in batches of 32 (as a sender with messages queued would; one
 * system call for many), and sends each round-trip message as a batch of one (the lone
 * message is never delayed); its large messages go one by one.
 * unix: and tcp: also run "raw epoll+recv": the raw connection read after epoll_wait, as
 * a raw receiver serving several senders must, which is what the channel receiver does.
 * Peers: ZeroMQ and nng over ipc:// beside the ipcx unix: channel and the raw Unix stream
 * (their transport), all in the same run; ratios to raw, then the channel against each
 * peer. The bench configuration (IPCX_BENCH_PEERS=ON, `cmake --workflow --preset bench`)
 * refuses to configure without them; other configurations build without them and this
 * program says so. iceoryx2 runs beside the ring in bench_ring.
 *
 *   bench_chan [runs] [filter]    (default 3 runs; filter: only transports whose name
 *                                  contains it, e.g. "tcp")
 *   bench_chan oneway KIND VARIANT COUNT   one cross-core one-way run of COUNT 64 B messages
 *                                  (after 100 round trips) with the markers of bench.h
 *                                  (bench/syscalls.py); KIND, VARIANT as printed
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "bench.h"
#include "ipcx.h"

#ifdef IPCX_BENCH_ZMQ
#include <zmq.h>
#endif
#ifdef IPCX_BENCH_NNG
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#endif

enum kind { K_PIPE, K_FIFO, K_UNIX, K_TCP, K_MQ, K_SYSVMQ, K_SHM, K_PEERS, NK };
static const char *kind_name[NK] = {"pipe:", "fifo:", "unix:", "tcp:", "mq:", "sysvmq:", "shm:", "peers (ipc)"};
enum variant { RAW, CHAN, ZMQ, NNG, CHAN_NG, RAW_EP, CHAN_MANY, NV };

static int nvariants(int k) {
    if (k == K_PEERS) return 5;
    if (k == K_PIPE || k == K_UNIX || k == K_TCP) return 4;
    return k == K_FIFO ? 3 : 2;
}
static const char *variant_name(int k, int v) {
    if (k != K_PEERS && v == 3) return "chan send_many";
    if (k == K_SHM) return v == RAW ? "ring API" : "channel";
    if (k == K_PEERS)
        return v == RAW ? "raw unix" : v == 1 ? "ipcx unix:" : v == 2 ? "zmq push/pull" : v == 3 ? "nng push/pull" : "unix: send_many";
    if (k == K_UNIX || k == K_TCP) return v == RAW ? "raw" : v == 1 ? "channel" : "raw epoll+recv";
    return v == RAW ? "raw" : v == 1 ? "channel" : "chan noguard";
}
/* The variant a column measures: pipe:/fifo: add the channel without the SIGPIPE guard
 * (sigpipe_guard false: for programs that ignore or block SIGPIPE themselves); unix:/tcp:
 * add what a raw receiver serving several senders does (epoll_wait, then recv), which is
 * what the channel's receiver does. */
static int peer_variant(int k, int v) {
    if (k == K_PEERS && v > 1) return v == 2 ? ZMQ : v == 3 ? NNG : CHAN_MANY; /* v 1: the unix: channel */
    if ((k == K_UNIX || k == K_TCP) && v == 2) return RAW_EP;
    if (v == 3) return CHAN_MANY;
    return v == 2 ? CHAN_NG : v;
}
static ipcx_options *noguard;
static const ipcx_options *chan_opts(int v) { return v == CHAN_NG ? noguard : NULL; }
static int peer_available(int pv) {
#ifdef IPCX_BENCH_ZMQ
    if (pv == ZMQ) return 1;
#endif
#ifdef IPCX_BENCH_NNG
    if (pv == NNG) return 1;
#endif
    return pv == RAW || pv == CHAN || pv == CHAN_NG || pv == RAW_EP || pv == CHAN_MANY;
}

static size_t big_size(int k) {
    switch (k) {
    case K_FIFO: return 4092;
    case K_MQ:
    case K_SYSVMQ: return 8192;
    default: return 65536;
    }
}

#define MAXMSG 65536
/* Messages per ipcx_chan_send_many call in the 64 B throughput of "chan send_many". */
#define MANY 32

/* ---------------------------------------------------------------- one direction's end */

struct ep {
    int kind, var;
    int fd;
    int epfd; /* RAW_EP: an epoll set holding fd */
    mqd_t mq;
    int msqid;
    long mtype;
    ipcx_chan *ch;
    ipcx_ring *ring;
#ifdef IPCX_BENCH_ZMQ
    void *zs;
#endif
#ifdef IPCX_BENCH_NNG
    nng_socket ns;
#endif
};

static struct {
    long mtype;
    char mtext[MAXMSG];
} msgbuf;

static void ep_send(struct ep *e, const void *buf, size_t len) {
    switch (e->var) {
    case RAW_EP:
    case RAW:
        switch (e->kind) {
        case K_MQ:
            if (mq_send(e->mq, buf, len, 0)) b_die("mq_send");
            return;
        case K_SYSVMQ:
            msgbuf.mtype = e->mtype;
            memcpy(msgbuf.mtext, buf, len);
            if (msgsnd(e->msqid, &msgbuf, len, 0)) b_die("msgsnd");
            return;
        case K_SHM:
            if (ipcx_ring_send(e->ring, buf, len, IPCX_FOREVER)) b_die(ipcx_last_error());
            return;
        default:
            for (size_t done = 0; done < len;) {
                ssize_t n = e->kind == K_PIPE || e->kind == K_FIFO
                                ? write(e->fd, (const char *)buf + done, len - done)
                                : send(e->fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
                if (n <= 0) b_die("write");
                done += (size_t)n;
            }
            return;
        }
    case CHAN:
    case CHAN_NG:
        if (ipcx_chan_send(e->ch, buf, len, IPCX_FOREVER)) b_die(ipcx_last_error());
        return;
    case CHAN_MANY: { /* a lone message: a batch of one */
        ipcx_iov m = {buf, len};
        size_t sent;
        if (ipcx_chan_send_many(e->ch, &m, 1, IPCX_FOREVER, &sent)) b_die(ipcx_last_error());
        return;
    }
#ifdef IPCX_BENCH_ZMQ
    case ZMQ:
        if (zmq_send(e->zs, buf, len, 0) != (int)len) b_die("zmq_send");
        return;
#endif
#ifdef IPCX_BENCH_NNG
    case NNG:
        if (nng_send(e->ns, (void *)buf, len, 0)) b_die("nng_send");
        return;
#endif
    }
    b_die("variant");
}

/* Receive one message of `len` bytes into `buf` (MAXMSG bytes of room: message
 * transports get that capacity, raw stream readers read exactly `len`). */
static void ep_recv(struct ep *e, void *buf, size_t len) {
    size_t got = MAXMSG;
    switch (e->var) {
    case RAW_EP: {
        struct epoll_event ev;
        while (epoll_wait(e->epfd, &ev, 1, -1) != 1)
            if (errno != EINTR) b_die("epoll_wait");
    }
    /* fall through */
    case RAW:
        switch (e->kind) {
        case K_MQ: {
            ssize_t n = mq_receive(e->mq, buf, 8192, NULL);
            if (n < 0) b_die("mq_receive");
            got = (size_t)n;
            break;
        }
        case K_SYSVMQ: {
            ssize_t n = msgrcv(e->msqid, &msgbuf, MAXMSG, e->mtype, 0);
            if (n < 0) b_die("msgrcv");
            memcpy(buf, msgbuf.mtext, (size_t)n);
            got = (size_t)n;
            break;
        }
        case K_SHM:
            if (ipcx_ring_recv(e->ring, buf, &got, IPCX_FOREVER)) b_die(ipcx_last_error());
            break;
        default:
            for (size_t done = 0; done < len;) {
                ssize_t n = e->kind == K_PIPE || e->kind == K_FIFO
                                ? read(e->fd, (char *)buf + done, len - done)
                                : recv(e->fd, (char *)buf + done, len - done, 0);
                if (n <= 0) b_die("read");
                done += (size_t)n;
            }
            got = len;
        }
        break;
    case CHAN:
    case CHAN_NG:
    case CHAN_MANY:
        if (ipcx_chan_recv(e->ch, buf, &got, IPCX_FOREVER)) b_die(ipcx_last_error());
        break;
#ifdef IPCX_BENCH_ZMQ
    case ZMQ: {
        int n = zmq_recv(e->zs, buf, MAXMSG, 0);
        if (n < 0) b_die("zmq_recv");
        got = (size_t)n;
        break;
    }
#endif
#ifdef IPCX_BENCH_NNG
    case NNG:
        if (nng_recv(e->ns, buf, &got, 0)) b_die("nng_recv");
        break;
#endif
    }
    if (got != len) b_die("message size");
}

/* ---------------------------------------------------------------- setup */

/* What exists before fork. */
struct pre {
    int req[2], rep[2]; /* raw pipe/socketpair ends */
    char fifo_a[64], fifo_b[64];
    int lfd;
    struct sockaddr_in sin;
    mqd_t mq_a, mq_b;
    int msqid;
    ipcx_ring *ring_req_p, *ring_req_c, *ring_rep_p, *ring_rep_c;
    ipcx_chan *c_req_s, *c_req_r, *c_rep_s, *c_rep_r; /* pairs */
    ipcx_chan *parent_recv;                           /* named: the parent's receiver */
    char addr_a[128], addr_b[128], peer_a[128], peer_b[128];
};

static int seq_no;

static void pre_fork(int k, int v, struct pre *p) {
    memset(p, 0, sizeof *p);
    int pid = (int)getpid(), n = seq_no++;
    if (v == RAW || v == RAW_EP) {
        switch (k) {
        case K_PIPE:
            if (pipe2(p->req, O_CLOEXEC) || pipe2(p->rep, O_CLOEXEC)) b_die("pipe");
            break;
        case K_FIFO:
            snprintf(p->fifo_a, sizeof p->fifo_a, "/tmp/ipcx-bench-chan-%d-%d-a", pid, n);
            snprintf(p->fifo_b, sizeof p->fifo_b, "/tmp/ipcx-bench-chan-%d-%d-b", pid, n);
            if (mkfifo(p->fifo_a, 0600) || mkfifo(p->fifo_b, 0600)) b_die("mkfifo");
            break;
        case K_UNIX:
        case K_PEERS:
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->req) ||
                socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->rep))
                b_die("socketpair");
            break;
        case K_TCP: {
            p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            p->sin.sin_family = AF_INET;
            p->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            socklen_t l = sizeof p->sin;
            if (bind(p->lfd, (struct sockaddr *)&p->sin, sizeof p->sin) || listen(p->lfd, 8) ||
                getsockname(p->lfd, (struct sockaddr *)&p->sin, &l))
                b_die("TCP listener");
            break;
        }
        case K_MQ: {
            struct mq_attr a = {.mq_maxmsg = 10, .mq_msgsize = 8192};
            char na[64], nb[64];
            snprintf(na, sizeof na, "/ipcx-bench-chan-%d-%d-a", pid, n);
            snprintf(nb, sizeof nb, "/ipcx-bench-chan-%d-%d-b", pid, n);
            p->mq_a = mq_open(na, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
            p->mq_b = mq_open(nb, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
            mq_unlink(na);
            mq_unlink(nb);
            if (p->mq_a == (mqd_t)-1 || p->mq_b == (mqd_t)-1) b_die("mq_open");
            break;
        }
        case K_SYSVMQ:
            p->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
            if (p->msqid < 0) b_die("msgget");
            break;
        case K_SHM:
            if (ipcx_ring_pair(0, NULL, &p->ring_req_p, &p->ring_req_c) ||
                ipcx_ring_pair(0, NULL, &p->ring_rep_p, &p->ring_rep_c))
                b_die(ipcx_last_error());
            break;
        }
        return;
    }
    if (v == CHAN || v == CHAN_NG || v == CHAN_MANY) {
        if (k == K_PIPE || k == K_SHM) {
            const char *a = k == K_PIPE ? "pipe:" : "shm:";
            if (ipcx_chan_pair(a, 0, chan_opts(v), &p->c_req_s, &p->c_req_r) ||
                ipcx_chan_pair(a, 0, chan_opts(v), &p->c_rep_s, &p->c_rep_r))
                b_die(ipcx_last_error());
            return;
        }
        switch (k) {
        case K_FIFO:
            snprintf(p->addr_a, sizeof p->addr_a, "fifo:/tmp/ipcx-bench-chan-%d-%d-a", pid, n);
            snprintf(p->addr_b, sizeof p->addr_b, "fifo:/tmp/ipcx-bench-chan-%d-%d-b", pid, n);
            break;
        case K_UNIX:
        case K_PEERS:
            snprintf(p->addr_a, sizeof p->addr_a, "unix:/tmp/ipcx-bench-chan-%d-%d-a", pid, n);
            snprintf(p->addr_b, sizeof p->addr_b, "unix:/tmp/ipcx-bench-chan-%d-%d-b", pid, n);
            break;
        case K_TCP:
            snprintf(p->addr_a, sizeof p->addr_a, "tcp:127.0.0.1:0");
            snprintf(p->addr_b, sizeof p->addr_b, "tcp:127.0.0.1:0");
            break;
        case K_MQ:
            snprintf(p->addr_a, sizeof p->addr_a, "mq:/ipcx-bench-chan-%d-%d-a", pid, n);
            snprintf(p->addr_b, sizeof p->addr_b, "mq:/ipcx-bench-chan-%d-%d-b", pid, n);
            break;
        case K_SYSVMQ: {
            unsigned key = 0x1c900000u | (((unsigned)pid & 0xfff) << 8) | ((unsigned)n & 0xff);
            snprintf(p->addr_a, sizeof p->addr_a, "sysvmq:0x%x/1", key);
            snprintf(p->addr_b, sizeof p->addr_b, "sysvmq:0x%x/2", key);
            break;
        }
        }
        ipcx_chan_info d = {.size = sizeof d};
        if (ipcx_chan_open(p->addr_a, IPCX_OPEN_READ, NULL, 0, &p->parent_recv) ||
            ipcx_chan_stat(p->parent_recv, &d))
            b_die(ipcx_last_error());
        snprintf(p->addr_a, sizeof p->addr_a, "%s", d.address); /* tcp: the port */
        return;
    }
    snprintf(p->peer_a, sizeof p->peer_a, "ipc:///tmp/ipcx-bench-chan-%d-%d-a", pid, n);
    snprintf(p->peer_b, sizeof p->peer_b, "ipc:///tmp/ipcx-bench-chan-%d-%d-b", pid, n);
}

#ifdef IPCX_BENCH_ZMQ
static void *zctx;
#endif

/* After fork: this side's sender `tx` and receiver `rx`. The parent sends on "req" and
 * receives on "rep"; the child the other way round. */
static void attach(int k, int v, struct pre *p, int parent, struct ep *tx, struct ep *rx) {
    memset(tx, 0, sizeof *tx);
    memset(rx, 0, sizeof *rx);
    tx->kind = rx->kind = k;
    tx->var = rx->var = v;
    if (v == RAW_EP) {
        attach(k, RAW, p, parent, tx, rx);
        tx->var = rx->var = RAW_EP;
        struct epoll_event ev = {.events = EPOLLIN};
        rx->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (rx->epfd < 0 || epoll_ctl(rx->epfd, EPOLL_CTL_ADD, rx->fd, &ev)) b_die("epoll");
        return;
    }
    if (v == RAW) {
        switch (k) {
        case K_PIPE:
        case K_UNIX:
        case K_PEERS:
            /* pipe: [0] reads, [1] writes; socketpair: parent [0], child [1]. */
            if (k == K_PIPE) {
                tx->fd = parent ? p->req[1] : p->rep[1];
                rx->fd = parent ? p->rep[0] : p->req[0];
                close(parent ? p->req[0] : p->req[1]);
                close(parent ? p->rep[1] : p->rep[0]);
            } else {
                tx->fd = parent ? p->req[0] : p->rep[1];
                rx->fd = parent ? p->rep[0] : p->req[1];
                close(parent ? p->req[1] : p->req[0]);
                close(parent ? p->rep[1] : p->rep[0]);
            }
            break;
        case K_FIFO:
            if (parent) {
                tx->fd = open(p->fifo_a, O_WRONLY | O_CLOEXEC);
                rx->fd = open(p->fifo_b, O_RDONLY | O_CLOEXEC);
                unlink(p->fifo_a);
                unlink(p->fifo_b);
            } else {
                rx->fd = open(p->fifo_a, O_RDONLY | O_CLOEXEC);
                tx->fd = open(p->fifo_b, O_WRONLY | O_CLOEXEC);
            }
            if (tx->fd < 0 || rx->fd < 0) b_die("open FIFO");
            break;
        case K_TCP: {
            int fd, one = 1;
            if (parent) {
                fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
            } else {
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (connect(fd, (struct sockaddr *)&p->sin, sizeof p->sin)) b_die("connect");
            }
            if (fd < 0) b_die("accept");
            close(p->lfd);
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            tx->fd = rx->fd = fd;
            break;
        }
        case K_MQ:
            tx->mq = parent ? p->mq_a : p->mq_b;
            rx->mq = parent ? p->mq_b : p->mq_a;
            break;
        case K_SYSVMQ:
            tx->msqid = rx->msqid = p->msqid;
            tx->mtype = parent ? 1 : 2;
            rx->mtype = parent ? 2 : 1;
            break;
        case K_SHM:
            tx->ring = parent ? p->ring_req_p : p->ring_rep_p;
            rx->ring = parent ? p->ring_rep_c : p->ring_req_c;
            ipcx_ring_close(parent ? p->ring_req_c : p->ring_req_p);
            ipcx_ring_close(parent ? p->ring_rep_p : p->ring_rep_c);
            break;
        }
        return;
    }
    if (v == CHAN || v == CHAN_NG || v == CHAN_MANY) {
        if (k == K_PIPE || k == K_SHM) {
            tx->ch = parent ? p->c_req_s : p->c_rep_s;
            rx->ch = parent ? p->c_rep_r : p->c_req_r;
            ipcx_chan_close(parent ? p->c_req_r : p->c_req_s);
            ipcx_chan_close(parent ? p->c_rep_s : p->c_rep_r);
            return;
        }
        /* Named: the child makes its receiver and sends its address first. */
        char buf[256];
        if (parent) {
            rx->ch = p->parent_recv;
            size_t len = sizeof buf - 1;
            if (ipcx_chan_recv(rx->ch, buf, &len, 10000)) b_die(ipcx_last_error());
            buf[len] = 0;
            if (ipcx_chan_open(buf, IPCX_OPEN_WRITE, chan_opts(v), 10000, &tx->ch))
                b_die(ipcx_last_error());
        } else {
            ipcx_chan_info d = {.size = sizeof d};
            ipcx_chan_close(p->parent_recv); /* inherited: removes nothing */
            if (ipcx_chan_open(p->addr_b, IPCX_OPEN_READ, NULL, 0, &rx->ch) ||
                ipcx_chan_stat(rx->ch, &d) ||
                ipcx_chan_open(p->addr_a, IPCX_OPEN_WRITE, chan_opts(v), 10000, &tx->ch) ||
                ipcx_chan_send(tx->ch, d.address, strlen(d.address), 10000))
                b_die(ipcx_last_error());
        }
        return;
    }
    const char *mine = parent ? p->peer_b : p->peer_a, *theirs = parent ? p->peer_a : p->peer_b;
#ifdef IPCX_BENCH_ZMQ
    if (v == ZMQ) {
        zctx = zmq_ctx_new();
        rx->zs = zmq_socket(zctx, ZMQ_PULL);
        tx->zs = zmq_socket(zctx, ZMQ_PUSH);
        if (zmq_bind(rx->zs, mine) || zmq_connect(tx->zs, theirs)) b_die("zmq bind/connect");
        return;
    }
#endif
#ifdef IPCX_BENCH_NNG
    if (v == NNG) {
        /* Buffers like ZeroMQ's default queues (nng's default send buffer is 0). */
        if (nng_pull0_open(&rx->ns) || nng_push0_open(&tx->ns) ||
            nng_socket_set_int(tx->ns, NNG_OPT_SENDBUF, 1000) ||
            nng_socket_set_int(rx->ns, NNG_OPT_RECVBUF, 1000) || nng_listen(rx->ns, mine, NULL, 0) ||
            nng_dial(tx->ns, theirs, NULL, NNG_FLAG_NONBLOCK))
            b_die("nng open/listen/dial");
        return;
    }
#endif
    (void)mine;
    (void)theirs;
    b_die("peer not built");
}

static void detach(int v, struct ep *tx, struct ep *rx, struct pre *p, int parent) {
    switch (v) {
    case RAW_EP:
        close(rx->epfd);
        /* fall through */
    case RAW:
        switch (tx->kind) {
        case K_MQ:
            mq_close(p->mq_a);
            mq_close(p->mq_b);
            break;
        case K_SYSVMQ:
            if (parent) msgctl(p->msqid, IPC_RMID, NULL);
            break;
        case K_SHM:
            ipcx_ring_close(tx->ring);
            ipcx_ring_close(rx->ring);
            break;
        case K_TCP: close(tx->fd); break;
        default:
            close(tx->fd);
            close(rx->fd);
        }
        break;
    case CHAN:
    case CHAN_NG:
    case CHAN_MANY:
        ipcx_chan_close(tx->ch);
        ipcx_chan_close(rx->ch);
        break;
#ifdef IPCX_BENCH_ZMQ
    case ZMQ: {
        int zero = 0;
        zmq_setsockopt(tx->zs, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(rx->zs, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(tx->zs);
        zmq_close(rx->zs);
        zmq_ctx_term(zctx);
        unlink(strchr(parent ? p->peer_b : p->peer_a, '/') + 2);
        break;
    }
#endif
#ifdef IPCX_BENCH_NNG
    case NNG:
        nng_close(tx->ns);
        nng_close(rx->ns);
        unlink(strchr(parent ? p->peer_b : p->peer_a, '/') + 2);
        break;
#endif
    }
}

/* ---------------------------------------------------------------- one run */

struct result {
    double rt_med_us, rt_p99_us, small_mmsg, big_gbs;
};

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static struct result *shared_result;

static void run(int k, int v, int child_cpu, int rt_iters, int small_count, int big_count,
                struct result *out) {
    struct pre p;
    pre_fork(k, v, &p);
    static char buf[MAXMSG], got[MAXMSG];
    size_t big = big_size(k);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) b_die("fork");
    struct ep tx, rx;
    if (pid == 0) {
        b_pin(child_cpu);
        attach(k, v, &p, 0, &tx, &rx);
        for (int i = 0; i < rt_iters + 100; i++) {
            ep_recv(&rx, got, 64);
            ep_send(&tx, got, 64);
        }
        b_mark(1);
        if (v == CHAN_MANY) { /* what the sender has queued, in batches of MANY */
            static char q[MANY][64];
            ipcx_iov m[MANY];
            for (int i = 0; i < small_count;) {
                int n = 0;
                for (; n < MANY && i < small_count; n++, i++) {
                    memcpy(q[n], &i, sizeof i);
                    m[n].buf = q[n];
                    m[n].len = 64;
                }
                size_t sent;
                if (ipcx_chan_send_many(tx.ch, m, (size_t)n, IPCX_FOREVER, &sent)) b_die(ipcx_last_error());
            }
        } else
            for (int i = 0; i < small_count; i++) {
                memcpy(buf, &i, sizeof i);
                ep_send(&tx, buf, 64);
            }
        b_mark(0);
        for (int i = 0; i < big_count; i++) {
            memcpy(buf, &i, sizeof i);
            ep_send(&tx, buf, big);
        }
        ep_recv(&rx, got, 64); /* the parent is done: nothing is cut short */
        detach(v, &tx, &rx, &p, 0);
        _exit(0);
    }
    attach(k, v, &p, 1, &tx, &rx);
    static int64_t s[200000];
    memset(buf, 'x', 64);
    for (int i = 0; i < rt_iters + 100; i++) {
        int64_t t0 = b_now_ns();
        ep_send(&tx, buf, 64);
        ep_recv(&rx, got, 64);
        if (i >= 100) s[i - 100] = b_now_ns() - t0;
    }
    qsort(s, (size_t)rt_iters, sizeof s[0], cmp_i64);
    out->rt_med_us = (double)s[rt_iters / 2] / 1000.0;
    out->rt_p99_us = (double)s[rt_iters * 99 / 100] / 1000.0;
    int64_t t0 = 0;
    b_mark(1);
    for (int i = 0; i < small_count; i++) {
        ep_recv(&rx, got, 64);
        if (i == 0) t0 = b_now_ns();
        int n;
        memcpy(&n, got, sizeof n);
        if (n != i) b_die("sequence (64 B)");
    }
    b_mark(0);
    out->small_mmsg = (small_count - 1) / ((double)(b_now_ns() - t0) / 1e9) / 1e6;
    for (int i = 0; i < big_count; i++) {
        ep_recv(&rx, got, big);
        if (i == 0) t0 = b_now_ns();
        int n;
        memcpy(&n, got, sizeof n);
        if (n != i) b_die("sequence (large)");
    }
    out->big_gbs = (double)(big_count - 1) * (double)big / ((double)(b_now_ns() - t0));
    ep_send(&tx, buf, 64);
    b_wait(pid);
    detach(v, &tx, &rx, &p, 1);
}

/* Each run in a process of its own: nng and ZeroMQ start threads and must not be
 * initialised in a process that forks again (nng aborts: "not fork-reentrant safe"). */
static void run_isolated(int k, int v, int child_cpu, int rt_iters, int small_count,
                         int big_count, struct result *out) {
    if (!shared_result) {
        shared_result = mmap(NULL, sizeof *shared_result, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared_result == MAP_FAILED) b_die("mmap");
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) b_die("fork");
    if (pid == 0) {
        run(k, v, child_cpu, rt_iters, small_count, big_count, shared_result);
        _exit(0);
    }
    b_wait(pid);
    *out = *shared_result;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    const char *filter = argc > 2 ? argv[2] : NULL;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 3;
    if (ipcx_options_create(&noguard) || ipcx_options_set_sigpipe_guard(noguard, false))
        b_die(ipcx_last_error());
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "oneway") == 0) {
        int k = -1, v = -1, count = argc > 4 ? atoi(argv[4]) : 0;
        for (int i = 0; argc > 3 && i < NK; i++)
            if (strcmp(kind_name[i], argv[2]) == 0) k = i;
        for (int i = 0; k >= 0 && i < nvariants(k); i++)
            if (strcmp(variant_name(k, i), argv[3]) == 0) v = peer_variant(k, i);
        if (k < 0 || v < 0 || count < 2) {
            fprintf(stderr, "usage: bench_chan oneway KIND VARIANT COUNT (KIND, VARIANT as printed)\n");
            return 2;
        }
        struct result res;
        b_marks = 1;
        b_pin(0);
        run(k, v, 1, 0, count, 0, &res);
        printf("oneway %s %s: %d messages of 64 B, %.2f Mmsg/s\n", argv[2], argv[3], count, res.small_mmsg);
        return 0;
    }
    printf("bench_chan: channels (ipcx_chan_*) against raw calls; %d run(s), medians (min-max)\n", runs);
#ifndef IPCX_BENCH_ZMQ
    printf("ZeroMQ: not found at build time (libzmq3-dev), skipped\n");
#endif
#ifndef IPCX_BENCH_NNG
    printf("nng: not found at build time (libnng-dev), skipped\n");
#endif
    printf("iceoryx2: measured beside the ring by bench_ring (shared memory, not a stream)\n");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    b_pin(0);
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("\n%s (parent CPU0, child CPU%d)\n", place == 0 ? "cross-core" : "same-core", child_cpu);
        for (int k = 0; k < NK; k++) {
            if (filter && !strstr(kind_name[k], filter)) continue;
            int nv = nvariants(k);
            struct b_series rt[NV] = {0}, p99[NV] = {0}, small[NV] = {0}, big[NV] = {0};
            int have[NV] = {0};
            const char *names[NV];
            int vmap[NV], n = 0;
            for (int v = 0; v < nv; v++)
                if (peer_available(peer_variant(k, v))) {
                    vmap[n] = peer_variant(k, v);
                    names[n++] = variant_name(k, v);
                }
            if (n < 2) continue;
            int rt_iters = place == 0 ? 2000 : 5000;
            int small_count = k == K_MQ || k == K_SYSVMQ ? 20000 : 50000;
            int big_count = 2000;
            for (int r = 0; r < runs; r++)
                for (int i = 0; i < n; i++) {
                    struct result res;
                    run_isolated(k, vmap[i], child_cpu, rt_iters, small_count, big_count, &res);
                    b_add(&rt[i], res.rt_med_us);
                    b_add(&p99[i], res.rt_p99_us);
                    b_add(&small[i], res.small_mmsg);
                    b_add(&big[i], res.big_gbs);
                    have[i] = 1;
                }
            (void)have;
            int target[NV];
            for (int i = 0; i < n; i++) target[i] = k != K_PEERS && vmap[i] != RAW_EP;
            char what[64], bigname[32];
            snprintf(what, sizeof what, "%s RT 64 B median", kind_name[k]);
            b_report(what, "us", rt, n, names, 1, target);
            snprintf(what, sizeof what, "%s RT 64 B p99", kind_name[k]);
            int none[NV] = {0};
            b_report(what, "us", p99, n, names, 1, none);
            snprintf(what, sizeof what, "%s tput 64 B", kind_name[k]);
            b_report(what, "Mmsg/s", small, n, names, 0, target);
            size_t bs = big_size(k);
            if (bs >= 1024 && bs % 1024 == 0) snprintf(bigname, sizeof bigname, "%zu KiB", bs / 1024);
            else snprintf(bigname, sizeof bigname, "%zu B", bs);
            snprintf(what, sizeof what, "%s tput %s", kind_name[k], bigname);
            b_report(what, "GB/s", big, n, names, 0, target);
            if (k == K_PEERS) /* ipcx against each peer, per run: RT below 1 and throughput
                                  above 1 mean ipcx is ahead */
                for (int i = 0; i < n; i++) {
                    if (vmap[i] != ZMQ && vmap[i] != NNG) continue;
                    for (int c = 0; c < n; c++) {
                        if (vmap[c] != CHAN && vmap[c] != CHAN_MANY) continue;
                        double lo, hi, r;
                        r = b_ratio(&rt[c], &rt[i], &lo, &hi);
                        printf("  %-15s / %-14s RT %.3fx (%.3f-%.3f)", names[c], names[i], r, lo, hi);
                        r = b_ratio(&small[c], &small[i], &lo, &hi);
                        printf("  tput 64 B %.3fx (%.3f-%.3f)", r, lo, hi);
                        r = b_ratio(&big[c], &big[i], &lo, &hi);
                        printf("  tput 64 KiB %.3fx (%.3f-%.3f)\n", r, lo, hi);
                    }
                }
        }
    }
    return 0;
}
