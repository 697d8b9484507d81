/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour rows: a channel whose other end is another library's program on another host.
 * Included by tour_peer_nng.c and tour_peer_zmq.c, each defining PEER_SCHEME ("nng" or
 * "zmq"), TOUR_PEER_ROW (the row function) and, when the library was found at build
 * time, PEER_NNG or PEER_ZMQ.
 *
 * Host A (10.77.0.1) runs ipcx: a receiver on <lib>+tcp: that admits host B only, and a
 * sender. Host B (10.77.0.2) runs the library: a PULL socket that listens and a PUSH
 * socket that connects to A, echoing each message back. Request/reply is two channels,
 * as everywhere in ipcx. Two network namespaces joined by a veth pair stand for the two
 * hosts (c-tests/netns.h, as the TCP row); without the privilege to make them, loopback,
 * said in a note. Without the library, host B runs ipcx speaking the same wire, said in
 * the note too. */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "tour.h"

#if defined(PEER_NNG) || defined(PEER_ZMQ)
#include "peer_lib.h"
#define PEER_LIB 1
#else
#define PEER_LIB 0
#endif

#define PEER_ROUNDS (TOUR_ROUNDS / 2)
#define PEER_BIG (256 * 1024)

struct peer_shared {
    atomic_int a_ready, b_ready;
    double median;
    char a_addr[320], b_addr[320];
};

static void peer_wait(atomic_int *f) {
    for (int i = 0; i < 20000 && !atomic_load(f); i++) usleep(500);
}

/* Host B: echo what arrives on its listening receiver to A's receiver. */
static void peer_host_b(struct peer_shared *sh, const char *me) {
    static char buf[PEER_BIG];
    char at[256];
    snprintf(at, sizeof at, PEER_SCHEME "+tcp:%s:0", me);
#if PEER_LIB
    struct peer pull, push;
    if (peer_open(&pull, 0, PEER_BIG) || peer_listen(&pull, at)) _exit(20);
    snprintf(sh->b_addr, sizeof sh->b_addr, "%s", pull.bound);
    atomic_store(&sh->b_ready, 1);
    peer_wait(&sh->a_ready);
    if (peer_open(&push, 1, PEER_BIG) || peer_dial(&push, sh->a_addr)) _exit(21);
    for (;;) {
        long n = peer_recv(&pull, buf, sizeof buf, 10000);
        if (n < 0) _exit(22);
        if (peer_send(&push, buf, (size_t)n, 10000)) _exit(23);
        if (n == 4 && !memcmp(buf, "done", 4)) break;
    }
    peer_close(&push); /* sends what is queued */
    peer_close(&pull);
#else
    ipcx_chan *in, *out;
    if (ipcx_chan_open(at, IPCX_OPEN_READ, NULL, 0, &in)) _exit(20);
    ipcx_chan_info d = {.size = sizeof d};
    ipcx_chan_stat(in, &d);
    snprintf(sh->b_addr, sizeof sh->b_addr, "%s", d.address);
    atomic_store(&sh->b_ready, 1);
    peer_wait(&sh->a_ready);
    if (ipcx_chan_open(sh->a_addr, IPCX_OPEN_WRITE, NULL, 10000, &out)) _exit(21);
    for (;;) {
        size_t n = sizeof buf;
        if (ipcx_chan_recv(in, buf, &n, 10000)) _exit(22);
        if (ipcx_chan_send(out, buf, n, 10000)) _exit(23);
        if (n == 4 && !memcmp(buf, "done", 4)) break;
    }
    ipcx_chan_close(out);
    ipcx_chan_close(in);
#endif
    _exit(0);
}

/* Host A: the ipcx side; the median round trip goes to sh->median. */
static void peer_host_a(struct peer_shared *sh, const char *me, const char *other) {
    static char msg[PEER_BIG], got[PEER_BIG];
    static int64_t samples[PEER_ROUNDS];
    char at[256], allowed[64];
    snprintf(at, sizeof at, PEER_SCHEME "+tcp:%s:0", me);
    snprintf(allowed, sizeof allowed, "%s", other);
    ipcx_options *o;
    ipcx_chan *in, *out;
    if (ipcx_options_create(&o) || ipcx_options_set_allowed_networks(o, allowed)) _exit(10);
    if (ipcx_chan_open(at, IPCX_OPEN_READ, o, 0, &in)) _exit(11);
    ipcx_chan_info d = {.size = sizeof d};
    ipcx_chan_stat(in, &d);
    snprintf(sh->a_addr, sizeof sh->a_addr, "%s", d.address);
    atomic_store(&sh->a_ready, 1);
    peer_wait(&sh->b_ready);
    if (ipcx_chan_open(sh->b_addr, IPCX_OPEN_WRITE, NULL, 10000, &out)) _exit(12);
    for (int i = 0; i < 8; i++) { /* messages up to 256 KiB arrive whole */
        size_t n = (size_t)4 << (i * 2), len = sizeof got;
        memset(msg, 'a' + i, n);
        if (ipcx_chan_send(out, msg, n, 10000) || ipcx_chan_recv(in, got, &len, 10000) ||
            len != n || memcmp(got, msg, n))
            _exit(13);
    }
    for (int i = 0; i < 100 + PEER_ROUNDS; i++) {
        size_t len = sizeof got;
        memcpy(msg, &i, sizeof i);
        int64_t t0 = tour_now_ns();
        if (ipcx_chan_send(out, msg, 64, 10000) || ipcx_chan_recv(in, got, &len, 10000) ||
            len != 64 || memcmp(got, msg, 64))
            _exit(14);
        if (i >= 100) samples[i - 100] = tour_now_ns() - t0;
    }
    size_t len = sizeof got;
    if (ipcx_chan_send(out, "done", 4, 10000) || ipcx_chan_recv(in, got, &len, 10000)) _exit(15);
    sh->median = tour_median_us(samples, PEER_ROUNDS);
    ipcx_chan_close(out);
    ipcx_chan_close(in);
    ipcx_options_close(o);
    _exit(0);
}

void TOUR_PEER_ROW(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "%s PUSH/PULL on host B, ipcx on A (admits B only), to 256 KiB",
             PEER_SCHEME);
    char why[160];
    struct netns_pair net;
    int ns = netns_available(why, sizeof why);
    const char *a_ip = "127.0.0.1", *b_ip = "127.0.0.1";
    if (ns) {
        char err[200];
        if (netns_pair_create(&net, PEER_SCHEME, err, sizeof err) != 0) {
            tour_fail(row, "%s", err);
            return;
        }
        a_ip = "10.77.0.1";
        b_ip = "10.77.0.2";
    }
    struct peer_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        tour_fail(row, "mmap failed");
        if (ns) netns_pair_destroy(&net);
        return;
    }
    memset(sh, 0, sizeof *sh);
    sh->median = -1;
    pid_t b = fork();
    if (b == 0) {
        if (ns) {
            netns_child(&net);
            if (netns_enter(net.b) != 0) _exit(90);
        }
        peer_host_b(sh, b_ip);
    }
    pid_t a = fork();
    if (a == 0) {
        if (ns) {
            netns_child(&net);
            if (netns_enter(net.a) != 0) _exit(90);
        }
        peer_host_a(sh, a_ip, b_ip);
    }
    int aok = tour_wait_child(a, 30000), bok = tour_wait_child(b, 10000);
    if (!aok || sh->median < 0) tour_fail(row, "host A (ipcx) failed");
    else if (!bok) tour_fail(row, "host B (%s) failed", PEER_LIB ? PEER_SCHEME : "ipcx");
    else row->median_rt_us = sh->median;
    if (row->ok) {
        const char *where = ns ? "two network namespaces" : "over loopback";
        const char *lib = PEER_LIB ? "the real library on host B"
                                   : "library not found at build time: ipcx on B speaks its wire";
        snprintf(row->detail, sizeof row->detail, "%s; %s", where, lib);
    }
    munmap(sh, sizeof *sh);
    if (ns) netns_pair_destroy(&net);
}
