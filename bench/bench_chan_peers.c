/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Channels over other libraries' wire protocols (nng+ipc:, nng+tcp:, zmq+ipc:, zmq+tcp:)
 * against the native library doing the same transfer, in the same run.
 *
 * For each protocol and placement (parent CPU0 / child CPU1, then both on CPU0):
 *   - round trip of a 64-byte message (request/reply over two PUSH/PULL channels, the
 *     parent timing): native (the library at both ends), ipcx <-> library (the parent
 *     is ipcx, the child the library), ipcx at both ends;
 *   - one-way throughput of 64 B and of 64 KiB messages (the child sends, the parent
 *     receives and checks a sequence number in every message): library -> library
 *     (native), ipcx -> library, library -> ipcx, ipcx -> ipcx.
 * The receiving side listens and the sending side connects; sockets use the libraries'
 * defaults but for nng's send buffer (1000 messages, like ZeroMQ's send high-water
 * mark: nng's default of 0 makes every send wait for its pipe), and ipcx channels theirs.
 * Ratios are to native, per run, then the median (min-max) over the runs.
 *
 *   bench_chan_peers [runs] [filter]   (default 3 runs; filter: e.g. "zmq+tcp")
 *
 * Built with ZeroMQ and nng when they were found at build time (cmake/peers.cmake);
 * without one, its protocols are measured ipcx <-> ipcx only, and the program says so. */
#include <stdatomic.h>
#include <sys/mman.h>

#include "bench.h"
#include "ipcx.h"

#ifdef IPCX_BENCH_ZMQ
#include <zmq.h>
#endif
#ifdef IPCX_BENCH_NNG
#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#endif

enum { K_NNG_IPC, K_NNG_TCP, K_ZMQ_IPC, K_ZMQ_TCP, NK };
static const char *const kind_name[NK] = {"nng+ipc", "nng+tcp", "zmq+ipc", "zmq+tcp"};
static int is_nng(int k) { return k <= K_NNG_TCP; }
static int is_tcp(int k) { return k == K_NNG_TCP || k == K_ZMQ_TCP; }

enum { IPCX, LIB };

static int lib_available(int k) {
#ifdef IPCX_BENCH_NNG
    if (is_nng(k)) return 1;
#endif
#ifdef IPCX_BENCH_ZMQ
    if (!is_nng(k)) return 1;
#endif
    (void)k;
    return 0;
}

#define BIG (64 * 1024)

/* ---------------------------------------------------------------- one end */

struct ep {
    int impl, kind;
    ipcx_chan *c;
#ifdef IPCX_BENCH_ZMQ
    void *zctx, *zs;
#endif
#ifdef IPCX_BENCH_NNG
    nng_socket ns;
#endif
};

/* The library's URL for an ipcx address. */
static void url_of(const char *addr, char *url, size_t n) {
    const char *rest = strchr(addr, ':') + 1;
    snprintf(url, n, "%s://%s", strstr(addr, "+tcp:") ? "tcp" : "ipc", rest);
}

/* Open `e` listening at `addr` (a receiver); the address to connect to goes to `bound`. */
static void ep_listen(struct ep *e, int impl, int kind, const char *addr, char *bound, size_t n) {
    memset(e, 0, sizeof *e);
    e->impl = impl;
    e->kind = kind;
    if (impl == IPCX) {
        if (ipcx_chan_open(addr, IPCX_OPEN_READ, NULL, 0, &e->c)) b_die(ipcx_last_error());
        ipcx_chan_info d = {.size = sizeof d};
        ipcx_chan_stat(e->c, &d);
        snprintf(bound, n, "%s", d.address);
        return;
    }
    char url[300];
    url_of(addr, url, sizeof url);
#ifdef IPCX_BENCH_NNG
    if (is_nng(kind)) {
        nng_listener l;
        if (nng_pull0_open(&e->ns) || nng_listen(e->ns, url, &l, 0)) b_die("nng listen");
        snprintf(bound, n, "%s", addr);
        if (is_tcp(kind)) {
            nng_sockaddr sa;
            if (nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa)) b_die("nng address");
            snprintf(bound, n, "nng+tcp:127.0.0.1:%u", (unsigned)ntohs(sa.s_in.sa_port));
        }
        return;
    }
#endif
#ifdef IPCX_BENCH_ZMQ
    e->zctx = zmq_ctx_new();
    e->zs = zmq_socket(e->zctx, ZMQ_PULL);
    if (is_tcp(kind)) strcpy(strrchr(url, ':'), ":*");
    if (zmq_bind(e->zs, url)) b_die("zmq_bind");
    snprintf(bound, n, "%s", addr);
    if (is_tcp(kind)) {
        char ep[200];
        size_t len = sizeof ep;
        zmq_getsockopt(e->zs, ZMQ_LAST_ENDPOINT, ep, &len);
        snprintf(bound, n, "zmq+tcp:%s", ep + strlen("tcp://"));
    }
    return;
#endif
    b_die("no library");
}

/* Open `e` connected to `addr` (a sender). */
static void ep_dial(struct ep *e, int impl, int kind, const char *addr) {
    memset(e, 0, sizeof *e);
    e->impl = impl;
    e->kind = kind;
    if (impl == IPCX) {
        if (ipcx_chan_open(addr, IPCX_OPEN_WRITE, NULL, 10000, &e->c)) b_die(ipcx_last_error());
        return;
    }
    char url[300];
    url_of(addr, url, sizeof url);
#ifdef IPCX_BENCH_NNG
    if (is_nng(kind)) {
        if (nng_push0_open(&e->ns) || nng_socket_set_int(e->ns, NNG_OPT_SENDBUF, 1000) ||
            nng_dial(e->ns, url, NULL, 0))
            b_die("nng dial");
        return;
    }
#endif
#ifdef IPCX_BENCH_ZMQ
    e->zctx = zmq_ctx_new();
    e->zs = zmq_socket(e->zctx, ZMQ_PUSH);
    if (zmq_connect(e->zs, url)) b_die("zmq_connect");
    return;
#endif
    b_die("no library");
}

static void ep_send(struct ep *e, const void *buf, size_t len) {
    if (e->impl == IPCX) {
        if (ipcx_chan_send(e->c, buf, len, IPCX_FOREVER)) b_die(ipcx_last_error());
        return;
    }
#ifdef IPCX_BENCH_NNG
    if (is_nng(e->kind)) {
        if (nng_send(e->ns, (void *)buf, len, 0)) b_die("nng_send");
        return;
    }
#endif
#ifdef IPCX_BENCH_ZMQ
    if (zmq_send(e->zs, buf, len, 0) != (int)len) b_die("zmq_send");
#endif
}

static size_t ep_recv(struct ep *e, void *buf, size_t cap) {
    if (e->impl == IPCX) {
        size_t len = cap;
        if (ipcx_chan_recv(e->c, buf, &len, IPCX_FOREVER)) b_die(ipcx_last_error());
        return len;
    }
#ifdef IPCX_BENCH_NNG
    if (is_nng(e->kind)) {
        size_t len = cap;
        if (nng_recv(e->ns, buf, &len, 0)) b_die("nng_recv");
        return len;
    }
#endif
#ifdef IPCX_BENCH_ZMQ
    int n = zmq_recv(e->zs, buf, cap, 0);
    if (n < 0) b_die("zmq_recv");
    return (size_t)n;
#endif
    return 0;
}

static void ep_close(struct ep *e) {
    if (e->impl == IPCX) {
        ipcx_chan_close(e->c);
        return;
    }
#ifdef IPCX_BENCH_NNG
    if (is_nng(e->kind)) {
        nng_close(e->ns);
        return;
    }
#endif
#ifdef IPCX_BENCH_ZMQ
    int zero = 0;
    zmq_setsockopt(e->zs, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(e->zs);
    zmq_ctx_term(e->zctx);
#endif
}

/* ---------------------------------------------------------------- one run */

struct shared {
    atomic_int a_ready, b_ready, done;
    char a_addr[320], b_addr[320];
    double result;
};
static struct shared *sh;

static void wait_flag(atomic_int *f) {
    while (!atomic_load(f)) usleep(200);
}

/* The address side `side` listens at; `run` names the measurement's process (the
 * parent of both sides), so that both sides and the cleanup agree. */
static void fresh_addr(int kind, char side, pid_t run, char *out, size_t n) {
    if (is_tcp(kind))
        snprintf(out, n, "%s:127.0.0.1:0", kind_name[kind]);
    else
        snprintf(out, n, "%s:/tmp/ipcx-bench-peers-%d-%c", kind_name[kind], (int)run, side);
}

/* The socket files a library left (ZeroMQ does not remove its own). */
static void remove_files(int kind) {
    for (char side = 'a'; side <= 'b' && !is_tcp(kind); side++) {
        char addr[320];
        fresh_addr(kind, side, getpid(), addr, sizeof addr);
        unlink(strchr(addr, ':') + 1);
    }
}

/* A round trip of 64 bytes: the parent (impl a) sends, the child (impl b) echoes; ns. */
static double round_trip(int kind, int a, int b, int child_cpu, int iters) {
    memset(sh, 0, sizeof *sh);
    pid_t run = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        b_pin(child_cpu);
        struct ep in, out;
        char addr[320], buf[64];
        fresh_addr(kind, 'b', run, addr, sizeof addr);
        ep_listen(&in, b, kind, addr, sh->b_addr, sizeof sh->b_addr);
        atomic_store(&sh->b_ready, 1);
        wait_flag(&sh->a_ready);
        ep_dial(&out, b, kind, sh->a_addr);
        for (int i = 0; i < iters + 100; i++) {
            size_t n = ep_recv(&in, buf, sizeof buf);
            ep_send(&out, buf, n);
        }
        wait_flag(&sh->done);
        ep_close(&out);
        ep_close(&in);
        _exit(0);
    }
    struct ep in, out;
    char addr[320], buf[64] = {0};
    fresh_addr(kind, 'a', run, addr, sizeof addr);
    ep_listen(&in, a, kind, addr, sh->a_addr, sizeof sh->a_addr);
    atomic_store(&sh->a_ready, 1);
    wait_flag(&sh->b_ready);
    ep_dial(&out, a, kind, sh->b_addr);
    static int64_t s[100000];
    for (int i = 0; i < iters + 100; i++) {
        memcpy(buf, &i, sizeof i);
        int64_t t0 = b_now_ns();
        ep_send(&out, buf, 64);
        ep_recv(&in, buf, sizeof buf);
        if (i >= 100) s[i - 100] = b_now_ns() - t0;
    }
    atomic_store(&sh->done, 1);
    b_wait(pid);
    ep_close(&out);
    ep_close(&in);
    remove_files(kind);
    double d[100000];
    for (int i = 0; i < iters; i++) d[i] = (double)s[i];
    return b_median(d, iters);
}

/* One-way throughput: the child (impl b) sends `count` messages of `size` bytes, the
 * parent (impl a) receives them; messages per second. */
static double throughput(int kind, int a, int b, int child_cpu, size_t size, int count) {
    memset(sh, 0, sizeof *sh);
    struct ep in;
    char addr[320];
    fresh_addr(kind, 'a', getpid(), addr, sizeof addr);
    pid_t pid = fork();
    if (pid == 0) {
        b_pin(child_cpu);
        static char buf[BIG];
        struct ep out;
        memset(buf, 'x', sizeof buf);
        wait_flag(&sh->a_ready);
        ep_dial(&out, b, kind, sh->a_addr);
        for (int i = 0; i < count; i++) {
            memcpy(buf, &i, sizeof i);
            ep_send(&out, buf, size);
        }
        wait_flag(&sh->done); /* nng drops what it has not written when closed */
        ep_close(&out);
        _exit(0);
    }
    ep_listen(&in, a, kind, addr, sh->a_addr, sizeof sh->a_addr);
    atomic_store(&sh->a_ready, 1);
    static char buf[BIG];
    int64_t t0 = 0;
    for (int i = 0; i < count; i++) {
        size_t n = ep_recv(&in, buf, sizeof buf);
        if (i == 0) t0 = b_now_ns();
        int seq;
        memcpy(&seq, buf, sizeof seq);
        if (n != size || seq != i) b_die("sequence");
    }
    double rate = (count - 1) / ((double)(b_now_ns() - t0) / 1e9);
    atomic_store(&sh->done, 1);
    b_wait(pid);
    ep_close(&in);
    remove_files(kind);
    return rate;
}

/* Each measurement in a process of its own: nng and ZeroMQ start threads and must not
 * be initialised in a process that forks again. */
static double isolated(int rt, int kind, int a, int b, int child_cpu, size_t size, int count) {
    static struct shared *res;
    if (!res) {
        res = mmap(NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (res == MAP_FAILED || sh == MAP_FAILED) b_die("mmap");
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        res->result = rt ? round_trip(kind, a, b, child_cpu, count) / 1000.0
                         : throughput(kind, a, b, child_cpu, size, count);
        _exit(0);
    }
    b_wait(pid);
    return res->result;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    const char *filter = argc > 2 ? argv[2] : NULL;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 3;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("bench_chan_peers: ipcx channels on other libraries' wires against the libraries "
           "themselves; %d run(s), medians (min-max), ratios to native per run\n",
           runs);
#ifndef IPCX_BENCH_ZMQ
    printf("ZeroMQ: not found at build time (libzmq3-dev): zmq+ measured ipcx <-> ipcx only\n");
#endif
#ifndef IPCX_BENCH_NNG
    printf("nng: not found at build time (libnng-dev): nng+ measured ipcx <-> ipcx only\n");
#endif
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    b_pin(0);
    /* Round trips: {parent, child}; throughput: {receiver (parent), sender (child)}. */
    static const int rt_v[3][2] = {{LIB, LIB}, {IPCX, LIB}, {IPCX, IPCX}};
    static const char *const rt_names[3] = {"native", "ipcx<->lib", "ipcx<->ipcx"};
    static const int tp_v[4][2] = {{LIB, LIB}, {LIB, IPCX}, {IPCX, LIB}, {IPCX, IPCX}};
    static const char *const tp_names[4] = {"lib->lib", "ipcx->lib", "lib->ipcx", "ipcx->ipcx"};
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("\n%s (parent CPU0, child CPU%d)\n", place == 0 ? "cross-core" : "same-core",
               child_cpu);
        for (int k = 0; k < NK; k++) {
            if (filter && !strstr(kind_name[k], filter)) continue;
            int lib = lib_available(k);
            int v0 = lib ? 0 : 2, t0v = lib ? 0 : 3; /* without the library: ipcx only */
            struct b_series rt[3] = {0}, small[4] = {0}, big[4] = {0};
            for (int r = 0; r < runs; r++) {
                for (int v = v0; v < 3; v++)
                    b_add(&rt[v - v0], isolated(1, k, rt_v[v][0], rt_v[v][1], child_cpu, 64,
                                                place == 0 ? 2000 : 5000));
                for (int v = t0v; v < 4; v++) {
                    b_add(&small[v - t0v], isolated(0, k, tp_v[v][0], tp_v[v][1], child_cpu, 64,
                                                    20000));
                    b_add(&big[v - t0v], isolated(0, k, tp_v[v][0], tp_v[v][1], child_cpu, BIG,
                                                  1000) * BIG / 1e9);
                }
            }
            char what[64];
            int none[4] = {0};
            snprintf(what, sizeof what, "%s RT 64 B median", kind_name[k]);
            b_report(what, "us", rt, 3 - v0, rt_names + v0, 1, none);
            for (int i = 0; i < 4 - t0v; i++)
                for (int j = 0; j < small[i].n; j++) small[i].v[j] /= 1e6;
            snprintf(what, sizeof what, "%s tput 64 B", kind_name[k]);
            b_report(what, "Mmsg/s", small, 4 - t0v, tp_names + t0v, 0, none);
            snprintf(what, sizeof what, "%s tput 64 KiB", kind_name[k]);
            b_report(what, "GB/s", big, 4 - t0v, tp_names + t0v, 0, none);
        }
    }
    return 0;
}
