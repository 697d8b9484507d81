/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Socket benchmark: ipcx against raw send/recv, in the same run.
 *
 * For each placement (parent and child on different CPUs, then both on one CPU) and each
 * kind (Unix stream pair, Unix datagram pair, TCP over 127.0.0.1):
 *   - round trip of a 64-byte message (parent sends, child echoes), mean per run;
 *   - one-way throughput of 64 B and 64 KiB messages (child sends, parent receives and
 *     checks a sequence number in every message).
 * Raw: blocking send(MSG_NOSIGNAL)/recv on plain sockets (TCP_NODELAY on both TCP ends,
 * as ipcx sets it); streams read a message with a loop until its size, datagrams with one
 * recv. ipcx: ipcx_sock_send/ipcx_sock_recv with IPCX_FOREVER and default options (framed
 * on streams: a 4-byte header per message). Runs alternate raw/ipcx so drift hits both
 * alike; the table gives medians over the runs with min-max, and the ratio to raw (median
 * of per-run ratios).
 *
 *   bench_sock [runs]        (default 7)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "bench.h"
#include "ipcx.h"

enum kind { USTREAM, UDGRAM, TCP, NKIND };
static const char *kind_name[NKIND] = {"Unix stream", "Unix dgram", "TCP loopback"};
enum variant { RAW, IPCX, NVAR };
static const char *variant_name[NVAR] = {"raw", "ipcx"};

/* One side's connection, in whichever form the variant uses. */
struct end {
    int fd;
    ipcx_sock *s;
};

/* What exists before fork: a pair (Unix) or a listener (TCP). */
struct setup {
    struct end a, b;          /* pair ends: the parent keeps a, the child b */
    int lfd;                  /* raw TCP listener */
    ipcx_sock_listener *l;    /* ipcx TCP listener */
    char addr[IPCX_SOCK_ADDR_MAX];
    struct sockaddr_in sin;
};

static void nodelay(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) b_die("TCP_NODELAY");
}

static void prepare(enum kind k, enum variant v, struct setup *st) {
    memset(st, 0, sizeof *st);
    if (k != TCP) {
        int type = k == USTREAM ? SOCK_STREAM : SOCK_DGRAM;
        if (v == RAW) {
            int sv[2];
            if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv)) b_die("socketpair");
            st->a.fd = sv[0], st->b.fd = sv[1];
        } else if (ipcx_sock_pair(k == USTREAM ? IPCX_SOCK_STREAM : IPCX_SOCK_DGRAM, NULL, &st->a.s, &st->b.s)) {
            b_die(ipcx_last_error());
        }
        return;
    }
    if (v == RAW) {
        st->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        st->sin.sin_family = AF_INET;
        st->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t l = sizeof st->sin;
        if (bind(st->lfd, (struct sockaddr *)&st->sin, sizeof st->sin) || listen(st->lfd, 8) ||
            getsockname(st->lfd, (struct sockaddr *)&st->sin, &l))
            b_die("raw TCP listener");
    } else {
        size_t len = sizeof st->addr;
        if (ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &st->l) ||
            ipcx_sock_listener_address(st->l, st->addr, &len))
            b_die(ipcx_last_error());
    }
}

/* After fork: this side's end (`parent` keeps a / accepts, the child b / connects). */
static struct end open_side(enum kind k, enum variant v, struct setup *st, int parent) {
    struct end e = {-1, NULL};
    if (k != TCP) {
        struct end mine = parent ? st->a : st->b, other = parent ? st->b : st->a;
        if (v == RAW) close(other.fd);
        else ipcx_sock_close(other.s);
        return mine;
    }
    if (v == RAW) {
        if (parent) {
            e.fd = accept4(st->lfd, NULL, NULL, SOCK_CLOEXEC);
        } else {
            e.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (connect(e.fd, (struct sockaddr *)&st->sin, sizeof st->sin)) b_die("connect");
        }
        if (e.fd < 0) b_die("accept");
        nodelay(e.fd);
        close(st->lfd);
    } else {
        int s = parent ? ipcx_sock_accept(st->l, 10000, &e.s) : ipcx_sock_connect_tcp(st->addr, NULL, 10000, &e.s);
        if (s) b_die(ipcx_last_error());
        ipcx_sock_listener_close(st->l);
    }
    return e;
}

static void close_end(enum variant v, struct end *e) {
    if (v == RAW) close(e->fd);
    else ipcx_sock_close(e->s);
}

static void send_msg(enum kind k, enum variant v, struct end *e, const void *buf, size_t n) {
    if (v == IPCX) {
        if (ipcx_sock_send(e->s, buf, n, IPCX_FOREVER)) b_die(ipcx_last_error());
        return;
    }
    const char *p = buf;
    while (n) {
        ssize_t w = send(e->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0 || (k == UDGRAM && (size_t)w != n)) b_die("send");
        p += w;
        n -= (size_t)w;
    }
}

static void recv_msg(enum kind k, enum variant v, struct end *e, void *buf, size_t n) {
    if (v == IPCX) {
        size_t len = n;
        if (ipcx_sock_recv(e->s, buf, &len, IPCX_FOREVER) || len != n) b_die(ipcx_last_error());
        return;
    }
    char *p = buf;
    while (n) {
        ssize_t r = recv(e->fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || (k == UDGRAM && (size_t)r != n)) b_die("recv");
        p += r;
        n -= (size_t)r;
    }
}

/* Mean round trip in ns over `iters` 64-byte ping-pongs. */
static double round_trip(enum kind k, enum variant v, int child_cpu, int iters) {
    struct setup st;
    prepare(k, v, &st);
    int warm = iters / 10 + 10;
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        struct end e = open_side(k, v, &st, 0);
        char buf[64];
        for (int i = 0; i < warm + iters; i++) {
            recv_msg(k, v, &e, buf, 64);
            send_msg(k, v, &e, buf, 64);
        }
        close_end(v, &e);
        _exit(0);
    }
    struct end e = open_side(k, v, &st, 1);
    char buf[64] = {0};
    for (int i = 0; i < warm; i++) {
        send_msg(k, v, &e, buf, 64);
        recv_msg(k, v, &e, buf, 64);
    }
    int64_t t0 = b_now_ns();
    for (int i = 0; i < iters; i++) {
        send_msg(k, v, &e, buf, 64);
        recv_msg(k, v, &e, buf, 64);
    }
    double per = (double)(b_now_ns() - t0) / iters;
    close_end(v, &e);
    b_wait(p);
    return per;
}

/* One-way throughput in messages per second (child sends `count` messages of `size`). */
static double throughput(enum kind k, enum variant v, int child_cpu, size_t size, int count) {
    struct setup st;
    prepare(k, v, &st);
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        struct end e = open_side(k, v, &st, 0);
        char *buf = calloc(1, size);
        char go;
        recv_msg(k, v, &e, &go, 1);
        for (int i = 0; i < count; i++) {
            memcpy(buf, &i, sizeof i);
            send_msg(k, v, &e, buf, size);
        }
        recv_msg(k, v, &e, &go, 1); /* wait for the parent before closing */
        close_end(v, &e);
        free(buf);
        _exit(0);
    }
    struct end e = open_side(k, v, &st, 1);
    char *buf = calloc(1, size);
    int64_t t0 = b_now_ns();
    send_msg(k, v, &e, "g", 1);
    for (int i = 0; i < count; i++) {
        recv_msg(k, v, &e, buf, size);
        int seq;
        memcpy(&seq, buf, sizeof seq);
        if (seq != i) b_die("sequence");
    }
    double rate = count / ((double)(b_now_ns() - t0) / 1e9);
    send_msg(k, v, &e, "g", 1);
    close_end(v, &e);
    b_wait(p);
    free(buf);
    return rate;
}

static void report(const char *what, const char *unit, struct b_series s[NVAR], int lower_is_better) {
    b_report(what, unit, s, NVAR, variant_name, lower_is_better, NULL);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 7;
    setvbuf(stdout, NULL, _IOLBF, 0);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("ipcx %s socket benchmark: %d runs per figure, median (min-max), ratio = median of per-run ipcx/raw\n",
           ipcx_version(), runs);
    b_pin(0);
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("\n%s (parent CPU0, child CPU%d)\n", place == 0 ? "cross-core" : "same-core", child_cpu);
        for (int k = 0; k < NKIND; k++) {
            struct b_series rt[NVAR] = {0}, t64[NVAR] = {0}, t64k[NVAR] = {0};
            int rt_iters = place == 0 ? 2000 : 20000;
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < NVAR; v++) b_add(&rt[v], round_trip(k, v, child_cpu, rt_iters) / 1000.0);
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < NVAR; v++) b_add(&t64[v], throughput(k, v, child_cpu, 64, 200000) / 1e6);
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < NVAR; v++)
                    b_add(&t64k[v], throughput(k, v, child_cpu, 65536, 2000) * 65536 / 1e9);
            char what[64];
            snprintf(what, sizeof what, "%s round trip 64 B", kind_name[k]);
            report(what, "us", rt, 1);
            snprintf(what, sizeof what, "%s throughput 64 B", kind_name[k]);
            report(what, "Mmsg/s", t64, 0);
            snprintf(what, sizeof what, "%s throughput 64 KiB", kind_name[k]);
            report(what, "GB/s", t64k, 0);
        }
    }
    return 0;
}
