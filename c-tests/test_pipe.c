/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Anonymous pipes across fork: half-duplex, duplex, bytes and messages, EOF, SIGPIPE,
 * timeouts, capacity, hostile lengths, bad input. */
#include "test.h"

#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>

static void make_pipe(ipcx_pipe **r, ipcx_pipe **w) { T_OK(ipcx_pipe_pair(0, NULL, r, w)); }

/* Fill `buf` with a pattern derived from (seed, i) so the reader can check every byte. */
static void pattern(unsigned char *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(seed * 31u + i * 7u);
}
static int pattern_ok(const unsigned char *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (buf[i] != (unsigned char)(seed * 31u + i * 7u)) return 0;
    return 1;
}

T_CASE(half_duplex_parent_writes_child_reads) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(w)); /* the reader closes its write end */
        unsigned char buf[2048];
        for (unsigned i = 0; i < 500; i++) {
            size_t len = sizeof buf;
            T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
            T_EQ_INT(len, (i * 13) % 2000);
            T_ASSERTF(pattern_ok(buf, len, i), "message %u corrupted", i);
        }
        size_t len = sizeof buf;
        T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, buf, &len, 10000)); /* EOF: writer gone */
        T_OK(ipcx_pipe_close(r));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(r)); /* the writer closes its read end */
    unsigned char buf[2048];
    for (unsigned i = 0; i < 500; i++) {
        size_t n = (i * 13) % 2000;
        pattern(buf, n, i);
        T_OK(ipcx_pipe_send(w, buf, n, 10000));
    }
    T_OK(ipcx_pipe_close(w));
    t_wait_ok(p, 20000);
}

T_CASE(half_duplex_child_writes_parent_reads_bytes) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    const size_t total = 4u << 20;
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        unsigned char *buf = malloc(total);
        T_ASSERT(buf);
        pattern(buf, total, 5);
        size_t off = 0;
        while (off < total) { /* uneven chunks */
            size_t n = total - off < 7919 ? total - off : 7919, wr = 0;
            T_OK(ipcx_pipe_write(w, buf + off, n, 10000, &wr));
            T_EQ_INT(wr, n);
            off += n;
        }
        free(buf);
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    unsigned char *got = malloc(total);
    T_ASSERT(got);
    size_t off = 0, n = 0;
    while (off < total) {
        T_OK(ipcx_pipe_read(r, got + off, total - off, 10000, &n));
        T_ASSERT(n > 0);
        off += n;
    }
    T_ASSERT(pattern_ok(got, total, 5));
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_read(r, got, 16, 10000, &n));
    T_EQ_INT(n, 0);
    free(got);
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 20000);
}

T_CASE(duplex_ping_pong) {
    ipcx_pipe *a, *b;
    T_OK(ipcx_pipe_pair(IPCX_PIPE_DUPLEX, NULL, &a, &b));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(a));
        char buf[64];
        for (;;) {
            size_t len = sizeof buf;
            int s = ipcx_pipe_recv(b, buf, &len, 10000);
            if (s == IPCX_ERR_CLOSED) break;
            T_OK(s);
            buf[0]++;
            T_OK(ipcx_pipe_send(b, buf, len, 10000));
        }
        T_OK(ipcx_pipe_close(b));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(b));
    for (int i = 0; i < 2000; i++) {
        char buf[64] = {(char)i};
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_send(a, buf, 17, 10000));
        T_OK(ipcx_pipe_recv(a, buf, &len, 10000));
        T_EQ_INT(len, 17);
        T_EQ_INT(buf[0], (char)(i + 1));
    }
    T_OK(ipcx_pipe_close(a));
    t_wait_ok(p, 20000);
}

T_CASE(large_and_empty_messages) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 16u << 20));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    const size_t big = 8u << 20;
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        unsigned char *buf = malloc(big);
        T_ASSERT(buf);
        pattern(buf, big, 9);
        T_OK(ipcx_pipe_send(w, NULL, 0, 10000)); /* an empty message is a message */
        T_OK(ipcx_pipe_send(w, buf, big, 30000));
        T_OK(ipcx_pipe_send(w, "", 0, 10000));
        free(buf);
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    unsigned char *got = malloc(big);
    size_t len = big;
    T_OK(ipcx_pipe_recv(r, got, &len, 10000));
    T_EQ_INT(len, 0);
    len = big;
    T_OK(ipcx_pipe_recv(r, got, &len, 30000));
    T_EQ_INT(len, big);
    T_ASSERT(pattern_ok(got, big, 9));
    len = 0;
    T_OK(ipcx_pipe_recv(r, NULL, &len, 10000)); /* zero-capacity buffer fits an empty message */
    T_EQ_INT(len, 0);
    free(got);
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 30000);
}

T_CASE(small_buffer_gets_too_big_and_keeps_message) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        T_OK(ipcx_pipe_send(w, "hello, world", 12, 10000));
        T_OK(ipcx_pipe_send(w, "next", 4, 10000));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    char buf[32];
    size_t len = 5;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_pipe_recv(r, buf, &len, 10000));
    T_EQ_INT(len, 12); /* the size needed */
    T_LAST_ERROR_HAS("12 bytes");
    len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
    T_ASSERT(len == 12 && memcmp(buf, "hello, world", 12) == 0);
    len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
    T_ASSERT(len == 4 && memcmp(buf, "next", 4) == 0);
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 10000);
}

T_CASE(hostile_length_is_refused_without_allocation) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 1024));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        /* A raw frame header announcing 4 GiB - 1 bytes, then a few bytes. */
        unsigned char hostile[8] = {0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4};
        size_t n;
        T_OK(ipcx_pipe_write(w, hostile, sizeof hostile, 10000, &n));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    char buf[64];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_pipe_recv(r, buf, &len, 10000));
    T_LAST_ERROR_HAS("4294967295");
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_pipe_recv(r, buf, &len, 10000)); /* sticky */
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 10000);
}

T_CASE(send_above_max_message_is_refused) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 100));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    char buf[101] = {0};
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_pipe_send(w, buf, 101, 1000));
    T_LAST_ERROR_HAS("maximum message size of 100");
    T_OK(ipcx_pipe_send(w, buf, 100, 1000));
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 1000));
    T_EQ_INT(len, 100);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

T_CASE(write_to_closed_reader_is_closed_not_sigpipe) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(w));
        T_OK(ipcx_pipe_close(r)); /* the reader goes away */
        _exit(0);
    }
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 10000);
    sigset_t before, after, pending;
    sigprocmask(SIG_SETMASK, NULL, &before);
    /* SIGPIPE has its default disposition (it would kill us). */
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    T_ASSERT(sa.sa_handler == SIG_DFL);
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send(w, "x", 1, 1000));
    size_t n = 99;
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_write(w, "xyz", 3, 1000, &n));
    T_EQ_INT(n, 0);
    /* Still alive; the mask is restored and no SIGPIPE is left pending. */
    sigprocmask(SIG_SETMASK, NULL, &after);
    T_ASSERT(sigismember(&after, SIGPIPE) == sigismember(&before, SIGPIPE));
    sigpending(&pending);
    T_ASSERT(!sigismember(&pending, SIGPIPE));
    /* If the caller blocks SIGPIPE itself, it stays blocked. */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigprocmask(SIG_BLOCK, &s, NULL);
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send(w, "x", 1, 1000));
    sigprocmask(SIG_SETMASK, NULL, &after);
    T_ASSERT(sigismember(&after, SIGPIPE));
    T_OK(ipcx_pipe_close(w));
}

T_CASE(timeouts_on_empty_and_full_pipes) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    char buf[128];
    size_t len = sizeof buf, n = 0;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT));
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_pipe_recv(r, buf, &len, 150));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_pipe_read(r, buf, sizeof buf, 100, &n));
    /* Fill the pipe with bytes, then a write times out and reports its progress. */
    size_t cap = 0;
    T_OK(ipcx_pipe_capacity(w, &cap));
    char *fill = calloc(1, cap + 4096);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_pipe_write(w, fill, cap + 4096, 100, &n));
    T_EQ_INT(n, cap);
    /* A full pipe: a message send times out without being accepted. */
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 120, ipcx_pipe_send(w, "m", 1, 120));
    free(fill);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

T_CASE(receive_resumes_after_timeout_mid_message) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        /* Write a 1000-byte frame in two halves, 300 ms apart, as raw bytes. */
        unsigned char frame[1004] = {0, 0, 0x03, 0xE8};
        pattern(frame + 4, 1000, 3);
        size_t n;
        T_OK(ipcx_pipe_write(w, frame, 502, 10000, &n));
        usleep(300000);
        T_OK(ipcx_pipe_write(w, frame + 502, 502, 10000, &n));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    unsigned char buf[1000];
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_pipe_recv(r, buf, &len, 100)); /* half a message */
    len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
    T_EQ_INT(len, 1000);
    T_ASSERT(pattern_ok(buf, 1000, 3));
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 10000);
}

T_CASE(send_timing_out_midway_is_accepted_whole) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    size_t actual = 0;
    T_OK(ipcx_pipe_set_capacity(w, 4096, &actual));
    const size_t big = 100000;
    unsigned char *msg = malloc(big);
    pattern(msg, big, 4);
    /* Nobody reads yet: the first 4 KiB go out, the rest waits in the backlog. */
    T_OK(ipcx_pipe_send(w, msg, big, 50));
    /* The backlog blocks the next message until it drains: not accepted. */
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_pipe_send(w, "second", 6, 20));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_pipe_flush(w, 20));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(w));
        unsigned char *got = malloc(big);
        size_t len = big;
        T_OK(ipcx_pipe_recv(r, got, &len, 10000));
        T_EQ_INT(len, big);
        T_ASSERT(pattern_ok(got, big, 4));
        len = big;
        T_OK(ipcx_pipe_recv(r, got, &len, 10000));
        T_ASSERT(len == 6 && memcmp(got, "second", 6) == 0);
        free(got);
        T_OK(ipcx_pipe_close(r));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_flush(w, 10000));
    T_OK(ipcx_pipe_send(w, "second", 6, 10000));
    T_OK(ipcx_pipe_close(w));
    free(msg);
    t_wait_ok(p, 20000);
}

T_CASE(capacity_get_set_and_limits) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    size_t cap = 0, actual = 0;
    T_OK(ipcx_pipe_capacity(r, &cap));
    T_EQ_INT(cap, 65536);
    T_OK(ipcx_pipe_set_capacity(w, 100000, &actual));
    T_EQ_INT(actual, 131072); /* rounded up to a power-of-two number of pages */
    T_OK(ipcx_pipe_capacity(r, &cap));
    T_EQ_INT(cap, 131072);
    /* Above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE: a limit, with its value. */
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    long max = 0;
    T_ASSERT(f && fscanf(f, "%ld", &max) == 1);
    fclose(f);
    char want[32];
    snprintf(want, sizeof want, "(%ld)", max);
    int s = ipcx_pipe_set_capacity(w, (size_t)max * 4, &actual);
    if (s == IPCX_ERR_LIMIT) {
        T_LAST_ERROR_HAS("pipe-max-size");
        T_LAST_ERROR_HAS(want);
    } else {
        T_OK(s); /* a process with CAP_SYS_RESOURCE may exceed it */
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_set_capacity(w, 0, NULL));
    /* Shrinking below the data already in the pipe is refused. */
    T_OK(ipcx_pipe_set_capacity(w, 65536, NULL));
    char *fill = calloc(1, 65536);
    size_t n;
    T_OK(ipcx_pipe_write(w, fill, 65536, 1000, &n));
    T_ERR(IPCX_ERR_IN_USE, ipcx_pipe_set_capacity(w, 4096, NULL));
    free(fill);
    /* Capacity given at creation. */
    ipcx_options *o;
    ipcx_pipe *r2, *w2;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 1 << 20));
    T_OK(ipcx_pipe_pair(0, o, &r2, &w2));
    T_OK(ipcx_pipe_capacity(w2, &cap));
    T_EQ_INT(cap, 1 << 20);
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_pipe_close(r2));
    T_OK(ipcx_pipe_close(w2));
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

T_CASE(descriptors_are_pollable_and_cloexec) {
    ipcx_pipe *r, *w, *a, *b;
    make_pipe(&r, &w);
    T_OK(ipcx_pipe_pair(IPCX_PIPE_DUPLEX, NULL, &a, &b));
    int rfd = 0, wfd = 0;
    T_OK(ipcx_pipe_fds(r, &rfd, &wfd));
    T_ASSERT(rfd >= 0 && wfd == -1);
    T_OK(ipcx_pipe_fds(w, &rfd, &wfd));
    T_ASSERT(rfd == -1 && wfd >= 0);
    T_OK(ipcx_pipe_fds(a, &rfd, NULL));
    T_OK(ipcx_pipe_fds(a, NULL, &wfd));
    T_ASSERT(rfd >= 0 && wfd >= 0);
    T_ASSERT(fcntl(rfd, F_GETFD) & FD_CLOEXEC);
    T_ASSERT(fcntl(wfd, F_GETFD) & FD_CLOEXEC);
    int r_fd;
    T_OK(ipcx_pipe_fds(r, &r_fd, NULL));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        usleep(100000);
        T_OK(ipcx_pipe_send(w, "ping", 4, 1000));
        T_OK(ipcx_pipe_close(w));
        T_OK(ipcx_pipe_close(a));
        T_OK(ipcx_pipe_close(b));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    struct pollfd pfd = {r_fd, POLLIN, 0};
    T_EQ_INT(poll(&pfd, 1, 0), 0);
    T_EQ_INT(poll(&pfd, 1, 10000), 1);
    T_ASSERT(pfd.revents & POLLIN);
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT));
    T_EQ_INT(len, 4);
    t_wait_ok(p, 10000);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(a));
    T_OK(ipcx_pipe_close(b));
}

/* The read descriptor is edge-style: one receive may take several messages from the
 * kernel (read ahead), so after a wake-up the reader receives with IPCX_NOWAIT until
 * IPCX_ERR_TIMEOUT. Also: a large message after small ones, received into a large
 * buffer (its header arrives with the small messages' read, its body with another). */
T_CASE(poll_then_drain_until_timeout) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    enum { BIG_LEN = 3000 * 4 }; /* above the 4 KiB read-ahead */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        static char big[BIG_LEN];
        for (int i = 0; i < BIG_LEN; i++) big[i] = (char)(i * 7);
        for (int i = 0; i < 5; i++) T_OK(ipcx_pipe_send(w, &i, sizeof i, 5000));
        T_OK(ipcx_pipe_send(w, big, sizeof big, 5000));
        T_OK(ipcx_pipe_send(w, "end", 3, 5000));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    t_wait_ok(p, 10000); /* everything is in the pipe before the first receive */
    int rfd = -1;
    T_OK(ipcx_pipe_fds(r, &rfd, NULL));
    struct pollfd pfd = {rfd, POLLIN, 0};
    T_EQ_INT(poll(&pfd, 1, 10000), 1);
    static char buf[64 * 1024];
    int got = 0;
    for (;;) {
        size_t len = sizeof buf;
        int s = ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT || s == IPCX_ERR_CLOSED) break;
        T_OK(s);
        if (got < 5) {
            T_EQ_INT(len, sizeof got);
            int v;
            memcpy(&v, buf, sizeof v);
            T_EQ_INT(v, got);
        } else if (got == 5) {
            T_EQ_INT(len, BIG_LEN);
            for (int i = 0; i < BIG_LEN; i++) T_ASSERTF(buf[i] == (char)(i * 7), "byte %d", i);
        } else {
            T_EQ_INT(len, 3);
            T_ASSERT(memcmp(buf, "end", 3) == 0);
        }
        got++;
    }
    T_EQ_INT(got, 7);
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT));
    T_OK(ipcx_pipe_close(r));
}

T_CASE(bad_input) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    char buf[16];
    size_t len = sizeof buf, n;
    /* NULL handles and out-parameters. */
    ipcx_pipe *x = (ipcx_pipe *)1, *y = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(0, NULL, NULL, &y));
    T_ASSERT(y == NULL); /* out-handles are NULL after a failure */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(IPCX_PIPE_DUPLEX, NULL, &x, NULL));
    T_ASSERT(x == NULL);
    x = y = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(IPCX_PIPE_DUPLEX << 1, NULL, &x, &y)); /* unknown */
    T_LAST_ERROR_HAS("IPCX_PIPE_DUPLEX");
    T_ASSERT(x == NULL && y == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(IPCX_OPEN_READ, NULL, &x, &y)); /* an open flag */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send(NULL, "x", 1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_recv(NULL, buf, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_read(NULL, buf, 1, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_write(NULL, buf, 1, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_flush(NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_capacity(NULL, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_capacity(r, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_set_capacity(NULL, 4096, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_fds(NULL, NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_recv(r, buf, NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_read(r, buf, 1, 0, NULL));
    /* NULL buffers with a length; zero lengths in byte mode; oversized lengths. */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send(w, NULL, 5, 0));
    len = 5;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_recv(r, NULL, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_write(w, NULL, 5, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_write(w, buf, 0, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_read(r, buf, 0, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_write(w, buf, (size_t)-1, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send(w, buf, (size_t)-1, 0));
    /* The wrong direction. */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send(r, "x", 1, 0));
    T_LAST_ERROR_HAS("not open for writing");
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_recv(w, buf, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_read(w, buf, 1, 0, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_write(r, buf, 1, 0, &n));
    /* Invalid timeouts. */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send(w, "x", 1, -2));
    T_LAST_ERROR_HAS("timeout");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_recv(r, buf, &len, INT64_MIN));
    /* Closed handles and double close. */
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
    len = sizeof buf;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_send(w, "x", 1, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_recv(r, buf, &len, 0));
    /* Out-parameters hold their failure values. */
    n = 9;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_read(r, buf, 1, 0, &n));
    T_EQ_INT(n, 0);
    n = 9;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_write(w, buf, 1, 0, &n));
    T_EQ_INT(n, 0);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_flush(w, 0));
    n = 9;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_capacity(r, &n));
    T_EQ_INT(n, 0);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_set_capacity(w, 4096, NULL));
    n = 9;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_set_capacity(w, 4096, &n));
    T_EQ_INT(n, 0);
    int rfd = 3, wfd = 3;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_fds(r, &rfd, &wfd));
    T_ASSERT(rfd == -1 && wfd == -1);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_fds(r, NULL, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(NULL));
    /* Bad input never changes the child's ability to use fresh pipes after fork. */
    pid_t p = t_fork();
    if (p == 0) {
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close(w));
        _exit(0);
    }
    t_wait_ok(p, 10000);
}

T_CASE(sigpipe_guard_can_be_turned_off_by_callers_who_ignore_sigpipe) {
    /* With SIG_IGN the kernel returns EPIPE without a signal: the guard is not needed. */
    signal(SIGPIPE, SIG_IGN);
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_sigpipe_guard(o, false));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_pipe_close(r));
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send(w, "x", 1, 100));
    T_OK(ipcx_pipe_close(w));
}

/* A receive blocked in one thread; the handle is one-thread: other calls get IN_USE. */
struct blocked {
    ipcx_pipe *r;
    int status;
    size_t len;
};

static void *blocked_recv(void *p) {
    struct blocked *b = p;
    char buf[8];
    b->len = sizeof buf;
    b->status = ipcx_pipe_recv(b->r, buf, &b->len, 20000);
    return NULL;
}

T_CASE(one_thread_at_a_time_others_get_in_use) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    struct blocked b = {r, -1, 0};
    pthread_t th;
    T_ASSERT(pthread_create(&th, NULL, blocked_recv, &b) == 0);
    /* As soon as the thread is inside its receive, a call on the same handle is refused
     * at once instead of racing it. */
    int rfd = 5, wfd = 5, s = IPCX_OK;
    for (int i = 0; i < 4000 && (s = ipcx_pipe_fds(r, &rfd, &wfd)) == IPCX_OK; i++) usleep(500);
    T_ERR(IPCX_ERR_IN_USE, s);
    T_LAST_ERROR_HAS("ipcx_pipe_fds");
    T_ASSERT(rfd == -1 && wfd == -1); /* the failure values */
    size_t cap = 7;
    double t0 = t_now_ms();
    T_ERR(IPCX_ERR_IN_USE, ipcx_pipe_capacity(r, &cap));
    T_EQ_INT(cap, 0);
    char buf[8];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_IN_USE, ipcx_pipe_recv(r, buf, &len, 5000));
    T_ASSERT(t_now_ms() - t0 < 2500); /* refused at once, not after waiting */
    /* The write end is another handle: free. Its message ends the blocked receive. */
    T_OK(ipcx_pipe_send(w, "go", 2, 1000));
    T_ASSERT(pthread_join(th, NULL) == 0);
    T_OK(b.status);
    T_EQ_INT(b.len, 2);
    /* Between calls the handle is free again, for any thread. */
    T_OK(ipcx_pipe_fds(r, &rfd, &wfd));
    T_ASSERT(rfd >= 0 && wfd == -1);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

/* ---------------------------------------------------------------- adopting descriptors */

static int fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

/* A pipe made with pipe(2): the child adopts the read end, the parent the write end. */
T_CASE(adopt_pipe_ends_across_fork) {
    int pf[2];
    T_ASSERT(pipe(pf) == 0); /* no O_CLOEXEC: adopting sets it */
    pid_t p = t_fork();
    if (p == 0) {
        close(pf[1]);
        ipcx_pipe *r = NULL;
        T_OK(ipcx_pipe_adopt(pf[0], -1, 0, NULL, &r));
        char buf[32];
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
        T_EQ_INT(len, 5);
        T_ASSERT(memcmp(buf, "hello", 5) == 0);
        len = sizeof buf;
        T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, buf, &len, 10000));
        T_OK(ipcx_pipe_close(r));
        T_ASSERT(!fd_is_open(pf[0]));
        _exit(0);
    }
    close(pf[0]);
    ipcx_pipe *w = NULL;
    T_OK(ipcx_pipe_adopt(-1, pf[1], 0, NULL, &w));
    T_ASSERT(fcntl(pf[1], F_GETFD) & FD_CLOEXEC);
    int rfd = 0, wfd = 0;
    T_OK(ipcx_pipe_fds(w, &rfd, &wfd));
    T_EQ_INT(rfd, -1);
    T_EQ_INT(wfd, pf[1]); /* handed back out, borrowed */
    char b[4];
    size_t bl = sizeof b;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_recv(w, b, &bl, 0)); /* a write end only */
    T_OK(ipcx_pipe_send(w, "hello", 5, 10000));
    T_OK(ipcx_pipe_close(w));
    T_ASSERT(!fd_is_open(pf[1]));
    t_wait_ok(p, 10000);
}

/* Two pipes adopted as one duplex end on each side, across fork. */
T_CASE(adopt_two_pipes_as_duplex_ends) {
    int a[2], b[2];
    T_ASSERT(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC | O_NONBLOCK) == 0);
    pid_t p = t_fork();
    if (p == 0) {
        close(a[1]);
        close(b[0]);
        ipcx_pipe *c = NULL;
        T_OK(ipcx_pipe_adopt(a[0], b[1], 0, NULL, &c));
        char buf[16];
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_recv(c, buf, &len, 10000));
        T_OK(ipcx_pipe_send(c, buf, len, 10000));
        T_OK(ipcx_pipe_close(c));
        _exit(0);
    }
    close(a[0]);
    close(b[1]);
    ipcx_pipe *c = NULL;
    T_OK(ipcx_pipe_adopt(b[0], a[1], 0, NULL, &c));
    T_OK(ipcx_pipe_send(c, "echo", 4, 10000));
    char buf[16];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(c, buf, &len, 10000)); /* b[0] was non-blocking: still waits */
    T_EQ_INT(len, 4);
    T_ASSERT(memcmp(buf, "echo", 4) == 0);
    t_wait_ok(p, 10000);
    T_OK(ipcx_pipe_close(c));
}

T_CASE(adopt_bad_input) {
    ipcx_pipe *x = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(-1, -1, 0, NULL, &x));
    T_ASSERT(x == NULL);
    T_LAST_ERROR_HAS("at least one");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(-5, -1, 0, NULL, &x));
    T_LAST_ERROR_HAS("read_fd is -5");
    /* A regular file: refused, still the caller's. */
    FILE *f = tmpfile();
    T_ASSERT(f != NULL);
    x = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(fileno(f), -1, 0, NULL, &x));
    T_ASSERT(x == NULL);
    T_LAST_ERROR_HAS("regular file");
    T_LAST_ERROR_HAS("ipcx_pipe_adopt");
    T_ASSERT(fd_is_open(fileno(f)));
    fclose(f);
    int pf[2];
    T_ASSERT(pipe2(pf, O_CLOEXEC) == 0);
    /* A closed descriptor. */
    int closed = dup(pf[0]);
    T_ASSERT(closed >= 0);
    close(closed);
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(closed, -1, 0, NULL, &x));
    T_LAST_ERROR_HAS("not an open descriptor");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(-1, closed, 0, NULL, &x));
    T_LAST_ERROR_HAS("write_fd");
    /* The wrong direction; the same descriptor twice. */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(pf[1], -1, 0, NULL, &x));
    T_LAST_ERROR_HAS("not open for reading");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(-1, pf[0], 0, NULL, &x));
    T_LAST_ERROR_HAS("not open for writing");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(pf[0], pf[0], 0, NULL, &x));
    /* Unknown flags, NULL out, an option pipes do not take here. */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(pf[0], -1, 0x10000, NULL, &x));
    T_LAST_ERROR_HAS("unknown flags 0x10000");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(pf[0], -1, 0, NULL, NULL));
    T_LAST_ERROR_HAS("out_pipe");
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 65536));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(pf[0], -1, 0, o, &x));
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_adopt(pf[0], -1, 0, o, &x));
    T_ASSERT(x == NULL);
    /* A socket is not a pipe. */
    int sv[2];
    T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_adopt(sv[0], -1, 0, NULL, &x));
    T_LAST_ERROR_HAS("ipcx_sock_adopt");
    close(sv[0]);
    close(sv[1]);
    T_ASSERT(fd_is_open(pf[0]) && fd_is_open(pf[1]));
    close(pf[0]);
    close(pf[1]);
}

/* ---------------------------------------------------------------- vectored sends */

/* Message i of a send_many test: its length and its bytes (seq in the first 4, then a
 * pattern), so that the receiver checks order, boundaries and content. */
static size_t sm_len(uint32_t i) { return i % 97 == 0 ? 0 : i % 13 == 0 ? 70000 : 4 + (i * 7) % 300; }
static void sm_fill(uint32_t i, unsigned char *m) {
    size_t n = sm_len(i);
    if (n >= 4) memcpy(m, &i, 4);
    for (size_t k = 4; k < n; k++) m[k] = (unsigned char)(i + k);
}
static void sm_check(uint32_t i, const unsigned char *m, size_t len) {
    T_ASSERTF(len == sm_len(i), "message %u: %zu bytes, expected %zu", i, len, sm_len(i));
    uint32_t seq = i;
    if (len >= 4) memcpy(&seq, m, 4);
    T_ASSERTF(seq == i, "message %u arrived as %u", i, seq);
    for (size_t k = 4; k < len; k++)
        if (m[k] != (unsigned char)(i + k)) T_FAIL("message %u: byte %zu differs", i, k);
}
/* `count` messages from `first` on as an ipcx_iov array (the bytes in one allocation). */
static ipcx_iov *sm_batch(uint32_t first, size_t count, unsigned char **store) {
    size_t total = 0;
    for (size_t k = 0; k < count; k++) total += sm_len(first + (uint32_t)k);
    *store = malloc(total + 1);
    ipcx_iov *v = calloc(count, sizeof *v);
    T_ASSERT(*store && v);
    size_t at = 0;
    for (size_t k = 0; k < count; k++) {
        uint32_t i = first + (uint32_t)k;
        sm_fill(i, *store + at);
        v[k].buf = sm_len(i) ? *store + at : NULL;
        v[k].len = sm_len(i);
        at += sm_len(i);
    }
    return v;
}

#define SM_TOTAL 3000u

T_CASE(send_many_keeps_order_and_boundaries) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 1u << 20));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(r));
        /* Batches of 1, 2, ... 700 messages: some above the pipe's capacity (the writes
         * are cut and resumed), empty ones, 70000-byte ones. */
        uint32_t next = 0;
        for (size_t b = 1; next < SM_TOTAL; b = b * 3 + 1) {
            size_t n = b > SM_TOTAL - next ? SM_TOTAL - next : b;
            unsigned char *store;
            ipcx_iov *v = sm_batch(next, n, &store);
            size_t sent = 99999;
            T_OK(ipcx_pipe_send_many(w, v, n, 20000, &sent));
            T_EQ_INT(sent, n);
            next += (uint32_t)n;
            free(v);
            free(store);
        }
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    unsigned char *buf = malloc(1u << 20);
    for (uint32_t i = 0; i < SM_TOTAL; i++) {
        size_t len = 1u << 20;
        T_OK(ipcx_pipe_recv(r, buf, &len, 20000));
        sm_check(i, buf, len);
    }
    size_t len = 1u << 20;
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, buf, &len, 10000));
    free(buf);
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 30000);
}

T_CASE(send_many_on_a_full_pipe_accepts_a_prefix) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 1u << 20));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    unsigned char *store;
    ipcx_iov *v = sm_batch(0, SM_TOTAL, &store);
    /* Nobody reads yet: the pipe takes a prefix, the last message of it maybe cut (its
     * tail is kept), and the call says how many it accepted. */
    size_t sent = 0;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_pipe_send_many(w, v, SM_TOTAL, IPCX_NOWAIT, &sent));
    T_ASSERTF(sent > 0 && sent < SM_TOTAL, "accepted %zu of %u", sent, SM_TOTAL);
    size_t first = sent;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_pipe_send_many(w, v + first, SM_TOTAL - first, 100, &sent));
    T_EQ_INT(sent, 0); /* the kept tail does not fit either: nothing more */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(w));
        unsigned char *buf = malloc(1u << 20);
        for (uint32_t i = 0; i < SM_TOTAL; i++) {
            size_t len = 1u << 20;
            T_OK(ipcx_pipe_recv(r, buf, &len, 20000));
            sm_check(i, buf, len);
        }
        size_t len = 1u << 20;
        T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, buf, &len, 10000));
        free(buf);
        T_OK(ipcx_pipe_close(r));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(r));
    /* The rest, once the reader drains: every message exactly once, in order. */
    T_OK(ipcx_pipe_send_many(w, v + first, SM_TOTAL - first, 20000, &sent));
    T_EQ_INT(sent, SM_TOTAL - first);
    T_OK(ipcx_pipe_close(w));
    t_wait_ok(p, 30000);
    free(v);
    free(store);
}

T_CASE(send_many_to_a_reader_that_dies_is_closed_not_sigpipe) {
    ipcx_pipe *r, *w;
    make_pipe(&r, &w);
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(w));
        unsigned char buf[512];
        for (uint32_t i = 0; i < 10; i++) {
            size_t len = sizeof buf;
            T_OK(ipcx_pipe_recv(r, buf, &len, 20000));
            sm_check(i, buf, len);
        }
        _exit(0); /* dies with the pipe full of unread messages */
    }
    T_OK(ipcx_pipe_close(r));
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    T_ASSERT(sa.sa_handler == SIG_DFL);
    /* Small messages only (the reader's buffer): 0..12, 14..25, ... */
    enum { N = 200000 };
    ipcx_iov *v = calloc(N, sizeof *v);
    unsigned char (*m)[512] = calloc(N, 512);
    uint32_t n = 0;
    for (uint32_t i = 0; n < N; i++) {
        if (sm_len(i) > 512) break;
        sm_fill(i, m[n]);
        v[n].buf = m[n];
        v[n].len = sm_len(i);
        n++;
        if (i == 12) break; /* message 13 is a big one: stop before it */
    }
    /* Then many copies of a small message, until the reader is gone. */
    for (; n < N; n++) v[n] = v[1];
    size_t sent = 0;
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send_many(w, v, N, 20000, &sent));
    T_ASSERTF(sent >= 10 && sent < N, "%zu accepted", sent);
    t_wait_ok(p, 10000);
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send_many(w, v, 3, 1000, &sent));
    T_EQ_INT(sent, 0);
    sigset_t pending;
    sigpending(&pending);
    T_ASSERT(!sigismember(&pending, SIGPIPE));
    free(v);
    free(m);
    T_OK(ipcx_pipe_close(w));
}

/* A send without a timeout blocks on the full pipe; the last reader then leaves without
 * reading: the kernel returns the bytes written so far and raises SIGPIPE all the same.
 * The guard consumes it: CLOSED, no death, nothing pending. Every blocking write call. */
T_CASE(blocked_send_whose_reader_leaves_is_closed_not_sigpipe) {
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    T_ASSERT(sa.sa_handler == SIG_DFL);
    static unsigned char big[200000];
    for (int call = 0; call < 4; call++) {
        ipcx_pipe *r, *w;
        make_pipe(&r, &w);
        pid_t p = t_fork();
        if (p == 0) {
            T_OK(ipcx_pipe_close(w));
            usleep(100000); /* the writer is blocked by now */
            _exit(0);       /* leaves without reading */
        }
        T_OK(ipcx_pipe_close(r));
        int st;
        size_t n = 0;
        ipcx_iov v[2] = {{big, sizeof big}, {big, 10}};
        switch (call) {
        case 0: st = ipcx_pipe_send(w, big, sizeof big, IPCX_FOREVER); break;
        case 1: st = ipcx_pipe_send_many(w, v, 2, IPCX_FOREVER, &n); break;
        case 2: st = ipcx_pipe_write(w, big, sizeof big, IPCX_FOREVER, &n); break;
        default:
            st = ipcx_pipe_send(w, big, sizeof big, 50); /* accepted, its tail kept */
            T_ASSERT(st == IPCX_OK || st == IPCX_ERR_TIMEOUT);
            st = ipcx_pipe_flush(w, IPCX_FOREVER);
            break;
        }
        T_ERR(IPCX_ERR_CLOSED, st);
        t_wait_ok(p, 10000);
        sigset_t pending;
        sigpending(&pending);
        T_ASSERTF(!sigismember(&pending, SIGPIPE), "call %d left a SIGPIPE pending", call);
        T_OK(ipcx_pipe_close(w));
    }
}

T_CASE(send_many_checks_sizes_and_arguments_first) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 100));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, o, &r, &w));
    T_OK(ipcx_options_close(o));
    char small[10] = "abcdefghi", big[101] = {0};
    ipcx_iov v[3] = {{small, sizeof small}, {big, sizeof big}, {small, 1}};
    size_t sent = 99;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_pipe_send_many(w, v, 3, 1000, &sent));
    T_EQ_INT(sent, 0);
    T_LAST_ERROR_HAS("100");
    /* Nothing was written, not even the message before the big one. */
    char buf[128];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT));
    sent = 99;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send_many(w, NULL, 2, 1000, &sent));
    T_EQ_INT(sent, 0);
    ipcx_iov bad[2] = {{small, 2}, {NULL, 5}};
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send_many(w, bad, 2, 1000, &sent));
    T_LAST_ERROR_HAS("msgs");
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send_many(NULL, v, 1, 1000, &sent));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send_many(w, v, 1, -7, &sent));
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send_many(r, v, 1, 1000, &sent)); /* a read end */
    len = sizeof buf;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT));
    /* Nothing to send; empty messages; no out_sent. */
    T_OK(ipcx_pipe_send_many(w, NULL, 0, 1000, &sent));
    T_EQ_INT(sent, 0);
    ipcx_iov empties[2] = {{NULL, 0}, {small, 0}};
    T_OK(ipcx_pipe_send_many(w, empties, 2, 1000, NULL));
    for (int k = 0; k < 2; k++) {
        len = sizeof buf;
        T_OK(ipcx_pipe_recv(r, buf, &len, 1000));
        T_EQ_INT(len, 0);
    }
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

T_MAIN(T_ENTRY(half_duplex_parent_writes_child_reads),
       T_ENTRY(half_duplex_child_writes_parent_reads_bytes), T_ENTRY(duplex_ping_pong),
       T_ENTRY(large_and_empty_messages), T_ENTRY(small_buffer_gets_too_big_and_keeps_message),
       T_ENTRY(hostile_length_is_refused_without_allocation),
       T_ENTRY(send_above_max_message_is_refused),
       T_ENTRY(write_to_closed_reader_is_closed_not_sigpipe),
       T_ENTRY(blocked_send_whose_reader_leaves_is_closed_not_sigpipe),
       T_ENTRY(timeouts_on_empty_and_full_pipes),
       T_ENTRY(receive_resumes_after_timeout_mid_message),
       T_ENTRY(send_timing_out_midway_is_accepted_whole), T_ENTRY(capacity_get_set_and_limits),
       T_ENTRY(descriptors_are_pollable_and_cloexec), T_ENTRY(poll_then_drain_until_timeout),
       T_ENTRY(bad_input),
       T_ENTRY(sigpipe_guard_can_be_turned_off_by_callers_who_ignore_sigpipe),
       T_ENTRY(one_thread_at_a_time_others_get_in_use), T_ENTRY(adopt_pipe_ends_across_fork),
       T_ENTRY(adopt_two_pipes_as_duplex_ends), T_ENTRY(adopt_bad_input),
       T_ENTRY(send_many_keeps_order_and_boundaries),
       T_ENTRY(send_many_on_a_full_pipe_accepts_a_prefix),
       T_ENTRY(send_many_to_a_reader_that_dies_is_closed_not_sigpipe),
       T_ENTRY(send_many_checks_sizes_and_arguments_first))
