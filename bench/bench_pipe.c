/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Pipe and FIFO benchmark: ipcx against raw read/write, in the same run.
 *
 * For each placement (parent and child on different CPUs, then both on one CPU) and each
 * kind (anonymous pipe, FIFO):
 *   - round trip of a 64-byte message (parent sends, child echoes), mean per run;
 *   - one-way throughput of 64 B and 64 KiB messages (child sends, parent receives and
 *     checks a sequence number in every message).
 * Variants: raw (blocking read/write on plain descriptors), ipcx (ipcx_pipe_send/recv,
 * default options), ipcx-noguard (SIGPIPE guard off: for callers that ignore SIGPIPE),
 * ipcx send_many (default options; the writer hands its messages to ipcx_pipe_send_many
 * in batches of 32, as a writer with messages queued would: one write and one guard for
 * many; a round-trip message goes as a batch of one, never delayed).
 * Runs alternate raw/ipcx/ipcx-noguard so drift hits all alike; the table gives medians
 * over the runs with min-max, and the ratio to raw (median of per-run ratios).
 *
 *   bench_pipe [runs]        (default 7)
 *   bench_pipe oneway pipe|FIFO raw|ipcx|ipcx-noguard|"ipcx send_many" COUNT   (bench/syscalls.py)
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "bench.h"
#include "ipcx.h"

enum kind { PIPE, FIFO };
enum variant { RAW, IPCX, IPCX_NOGUARD, IPCX_MANY, NVAR };
static const char *const variant_name[NVAR] = {"raw", "ipcx", "ipcx-noguard", "ipcx send_many"};
/* Messages per ipcx_pipe_send_many call in the throughput of "ipcx send_many". */
#define MANY 32

/* One direction of communication, in whichever form the variant uses. */
struct dir {
    int rfd, wfd;
    ipcx_pipe *r, *w;
};

static char fifo_a[128], fifo_b[128];

static void raw_write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) b_die("write");
        p += k;
        n -= (size_t)k;
    }
}

static int raw_read_all(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k == 0) return 0;
        if (k < 0) b_die("read");
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* Create the two directions (a: parent->child, b: child->parent) before fork. For
 * FIFOs, only the paths are created here; ends are opened after fork by each side. */
static void setup(enum kind k, enum variant v, struct dir *a, struct dir *b, ipcx_options *o) {
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    if (k == FIFO) {
        unlink(fifo_a);
        unlink(fifo_b);
        if (mkfifo(fifo_a, 0600) || mkfifo(fifo_b, 0600)) b_die("mkfifo");
        return;
    }
    if (v == RAW) {
        int p[2], q[2];
        if (pipe(p) || pipe(q)) b_die("pipe");
        a->rfd = p[0], a->wfd = p[1], b->rfd = q[0], b->wfd = q[1];
    } else {
        if (ipcx_pipe_pair(0, o, &a->r, &a->w) || ipcx_pipe_pair(0, o, &b->r, &b->w)) b_die("ipcx_pipe_pair");
    }
}

/* Open this side's ends: `parent` reads b and writes a. */
static void open_side(enum kind k, enum variant v, struct dir *a, struct dir *b, int parent, ipcx_options *o) {
    struct dir *in = parent ? b : a, *out = parent ? a : b;
    const char *in_path = parent ? fifo_b : fifo_a, *out_path = parent ? fifo_a : fifo_b;
    if (k == FIFO) {
        /* Open in an order that cannot deadlock: parent opens out first, child in first. */
        if (v == RAW) {
            if (parent) {
                out->wfd = open(out_path, O_WRONLY);
                in->rfd = open(in_path, O_RDONLY);
            } else {
                in->rfd = open(in_path, O_RDONLY);
                out->wfd = open(out_path, O_WRONLY);
            }
            if (in->rfd < 0 || out->wfd < 0) b_die("open fifo");
        } else {
            if (ipcx_fifo_open(in_path, IPCX_OPEN_READ, o, 10000, &in->r) ||
                ipcx_fifo_open(out_path, IPCX_OPEN_WRITE, o, 10000, &out->w))
                b_die("ipcx_fifo_open");
        }
        return;
    }
    /* Anonymous: close the ends this side does not use. */
    if (v == RAW) {
        close(in->wfd);
        close(out->rfd);
    } else {
        ipcx_pipe_close(in->w);
        ipcx_pipe_close(out->r);
    }
}

static void close_side(enum variant v, struct dir *in, struct dir *out) {
    if (v == RAW) {
        close(in->rfd);
        close(out->wfd);
    } else {
        ipcx_pipe_close(in->r);
        ipcx_pipe_close(out->w);
    }
}

static void send_msg(enum variant v, struct dir *d, const void *buf, size_t n) {
    if (v == RAW) raw_write_all(d->wfd, buf, n);
    else if (v == IPCX_MANY) { /* a lone message: a batch of one */
        ipcx_iov m = {buf, n};
        size_t sent;
        if (ipcx_pipe_send_many(d->w, &m, 1, IPCX_FOREVER, &sent)) b_die(ipcx_last_error());
    }
    else if (ipcx_pipe_send(d->w, buf, n, IPCX_FOREVER)) b_die(ipcx_last_error());
}

/* Receive one message of `n` bytes; 0 on end of file. */
static int recv_msg(enum variant v, struct dir *d, void *buf, size_t n) {
    if (v == RAW) return raw_read_all(d->rfd, buf, n);
    size_t len = n;
    int s = ipcx_pipe_recv(d->r, buf, &len, IPCX_FOREVER);
    if (s == IPCX_ERR_CLOSED) return 0;
    if (s || len != n) b_die(ipcx_last_error());
    return 1;
}

static ipcx_options *opts_for(enum variant v) {
    ipcx_options *o;
    if (ipcx_options_create(&o)) b_die("options");
    ipcx_options_set_max_message(o, 1 << 20);
    if (v == IPCX_NOGUARD) ipcx_options_set_sigpipe_guard(o, false);
    return o;
}

/* Mean round trip in ns over `iters` 64-byte ping-pongs. */
static double round_trip_ns(int kind, int variant, int child_cpu, int iters) {
    enum kind k = (enum kind)kind;
    enum variant v = (enum variant)variant;
    struct dir a, b;
    ipcx_options *o = opts_for(v);
    setup(k, v, &a, &b, o);
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        open_side(k, v, &a, &b, 0, o);
        char buf[64];
        while (recv_msg(v, &a, buf, 64)) send_msg(v, &b, buf, 64);
        close_side(v, &a, &b);
        _exit(0);
    }
    open_side(k, v, &a, &b, 1, o);
    char buf[64] = {0};
    for (int i = 0; i < iters / 10 + 10; i++) { /* warm-up */
        send_msg(v, &a, buf, 64);
        recv_msg(v, &b, buf, 64);
    }
    int64_t t0 = b_now_ns();
    for (int i = 0; i < iters; i++) {
        send_msg(v, &a, buf, 64);
        if (!recv_msg(v, &b, buf, 64)) b_die("echo");
    }
    double per = (double)(b_now_ns() - t0) / iters;
    close_side(v, &b, &a);
    b_wait(p);
    ipcx_options_close(o);
    return per;
}

/* One-way throughput in messages per second (child sends `count` messages of `size`). */
static double throughput_rate(int kind, int variant, int child_cpu, size_t size, int count) {
    enum kind k = (enum kind)kind;
    enum variant v = (enum variant)variant;
    struct dir a, b;
    ipcx_options *o = opts_for(v);
    setup(k, v, &a, &b, o);
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        open_side(k, v, &a, &b, 0, o);
        char *buf = calloc(1, size);
        char go;
        recv_msg(v, &a, &go, 1);
        b_mark(1);
        if (v == IPCX_MANY) { /* what the writer has queued, in batches of MANY */
            char *q = calloc(MANY, size);
            ipcx_iov m[MANY];
            for (int i = 0; i < count;) {
                int n = 0;
                for (; n < MANY && i < count; n++, i++) {
                    memcpy(q + (size_t)n * size, &i, sizeof i);
                    m[n].buf = q + (size_t)n * size;
                    m[n].len = size;
                }
                size_t sent;
                if (ipcx_pipe_send_many(b.w, m, (size_t)n, IPCX_FOREVER, &sent)) b_die(ipcx_last_error());
            }
            free(q);
        } else
            for (int i = 0; i < count; i++) {
                memcpy(buf, &i, sizeof i);
                send_msg(v, &b, buf, size);
            }
        b_mark(0);
        recv_msg(v, &a, &go, 1); /* wait for the parent before closing */
        close_side(v, &a, &b);
        free(buf);
        _exit(0);
    }
    open_side(k, v, &a, &b, 1, o);
    char *buf = calloc(1, size);
    int64_t t0 = b_now_ns();
    send_msg(v, &a, "g", 1);
    b_mark(1);
    for (int i = 0; i < count; i++) {
        if (!recv_msg(v, &b, buf, size)) b_die("short stream");
        int seq;
        memcpy(&seq, buf, sizeof seq);
        if (seq != i) b_die("sequence");
    }
    b_mark(0);
    double rate = count / ((double)(b_now_ns() - t0) / 1e9);
    send_msg(v, &a, "g", 1);
    close_side(v, &b, &a);
    b_wait(p);
    free(buf);
    ipcx_options_close(o);
    return rate;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 7;
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(fifo_a, sizeof fifo_a, "/tmp/ipcx-bench-%d-a", (int)getpid());
    snprintf(fifo_b, sizeof fifo_b, "/tmp/ipcx-bench-%d-b", (int)getpid());
    if (argc < 2 || strcmp(argv[1], "oneway") != 0)
        printf("ipcx %s pipe/FIFO benchmark: %d runs per figure, median (min-max), ratio = median of per-run "
               "ipcx/raw\n",
               ipcx_version(), runs);
    static const char *const kinds[] = {"pipe", "FIFO"};
    const struct b_suite suite = {kinds, 2, variant_name, NVAR, NULL, round_trip_ns, throughput_rate,
                                  200000, 65536, 2000, "64 KiB"};
    if (b_oneway(&suite, argc, argv)) {
        unlink(fifo_a);
        unlink(fifo_b);
        return 0;
    }
    b_run_suite(&suite, runs);
    unlink(fifo_a);
    unlink(fifo_b);
    return 0;
}
