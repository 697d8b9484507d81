/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Shared-memory rings: SPSC and MPMC, anonymous over fork and named between unrelated
 * processes; zero-copy; timeouts; peers killed mid-stream; stale rings; a process that
 * scribbles over the shared memory; the poll descriptor; bad input. */
#include "test.h"
#include "valgrind_env.h"

#include <poll.h>
#include <pthread.h>

/* ---------------------------------------------------------------- helpers */

static ipcx_options *ring_opts(size_t cap, uint64_t spin) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    if (cap) T_OK(ipcx_options_set_capacity(o, cap));
    T_OK(ipcx_options_set_spin(o, spin));
    return o;
}

static void anon(ipcx_ring **p, ipcx_ring **c, size_t cap, uint32_t flags, uint64_t spin) {
    ipcx_options *o = ring_opts(cap, spin);
    T_OK(ipcx_ring_pair(flags, o, p, c));
    T_OK(ipcx_options_close(o));
}

/* Create a named ring and track its name at once. */
static ipcx_ring *create_named(const char *name, uint32_t flags, ipcx_options *o) {
    ipcx_ring *r;
    T_OK(ipcx_ring_open(name, flags | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &r));
    t_track_shm(name);
    return r;
}

static void pattern(unsigned char *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(seed * 31u + i * 7u);
}
static int pattern_ok(const unsigned char *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (buf[i] != (unsigned char)(seed * 31u + i * 7u)) return 0;
    return 1;
}

static pid_t spawn_peer(char *const argv[]) {
    pid_t p = t_fork();
    if (p == 0) {
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/ring_peer", t_exe_dir());
        execv(exe, argv);
        _exit(127);
    }
    return p;
}

static int shm_exists(const char *name) {
    char path[300];
    snprintf(path, sizeof path, "/dev/shm%s", name);
    return access(path, F_OK) == 0;
}

/* A one-byte handshake over a raw pipe. */
static void sig_send(int fd) { T_ASSERT(write(fd, "x", 1) == 1); }
static void sig_wait(int fd) {
    char c;
    struct pollfd p = {fd, POLLIN, 0};
    T_ASSERT(poll(&p, 1, 20000) == 1);
    T_ASSERT(read(fd, &c, 1) == 1);
}

/* ---------------------------------------------------------------- cases */

/* Ping-pong over two anonymous rings, in the three waiting modes. */
static void ping_pong(uint64_t spin, int rounds) {
    ipcx_ring *p1, *c1, *p2, *c2;
    anon(&p1, &c1, 0, 0, spin);
    anon(&p2, &c2, 0, 0, spin);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(p1));
        T_OK(ipcx_ring_close(c2));
        unsigned char buf[512];
        for (;;) {
            size_t len = sizeof buf;
            int s = ipcx_ring_recv(c1, buf, &len, 10000);
            if (s == IPCX_ERR_CLOSED) break;
            T_OK(s);
            buf[0]++;
            T_OK(ipcx_ring_send(p2, buf, len, 10000));
        }
        T_OK(ipcx_ring_close(c1));
        T_OK(ipcx_ring_close(p2));
        _exit(0);
    }
    T_OK(ipcx_ring_close(c1));
    T_OK(ipcx_ring_close(p2));
    unsigned char buf[512];
    for (int i = 0; i < rounds; i++) {
        size_t n = (size_t)(i * 13) % 500 + 1, len = sizeof buf;
        pattern(buf, n, (unsigned)i);
        T_OK(ipcx_ring_send(p1, buf, n, 10000));
        T_OK(ipcx_ring_recv(c2, buf, &len, 10000));
        T_EQ_INT(len, n);
        T_EQ_INT(buf[0], (unsigned char)((unsigned char)(i * 31) + 1));
        for (size_t k = 1; k < n; k++)
            T_ASSERTF(buf[k] == (unsigned char)(i * 31u + k * 7u), "message %d byte %zu", i, k);
    }
    T_OK(ipcx_ring_close(p1)); /* the child sees IPCX_ERR_CLOSED and leaves */
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(c2, buf, &len, 10000));
    T_LAST_ERROR_HAS("every producer closed or died");
    T_OK(ipcx_ring_close(c2));
    t_wait_ok(pid, 20000);
}

T_CASE(anonymous_ping_pong_spin_then_sleep) { ping_pong(20000, 5000); }
T_CASE(anonymous_ping_pong_blocking) { ping_pong(0, 1000); }
T_CASE(anonymous_ping_pong_busy_polling) { ping_pong(IPCX_SPIN_FOREVER, 5000); }

/* One million messages of varying sizes, every one sequence-checked. */
T_CASE(spsc_one_million_messages_sequence_checked) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 16, 0, 20000);
    const unsigned N = 1000000;
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(c));
        unsigned char buf[256];
        for (unsigned i = 0; i < N; i++) {
            size_t n = 4 + i % 120;
            memcpy(buf, &i, 4);
            memset(buf + 4, (int)(i & 0xff), n - 4);
            T_OK(ipcx_ring_send(p, buf, n, 10000));
        }
        T_OK(ipcx_ring_close(p));
        _exit(0);
    }
    T_OK(ipcx_ring_close(p));
    unsigned char buf[256];
    for (unsigned i = 0; i < N; i++) {
        size_t len = sizeof buf;
        T_OK(ipcx_ring_recv(c, buf, &len, 10000));
        unsigned seq;
        memcpy(&seq, buf, 4);
        T_ASSERTF(seq == i && len == 4 + i % 120, "message %u: seq %u len %zu", i, seq, len);
        if (len > 4) T_ASSERTF(buf[len - 1] == (unsigned char)(i & 0xff), "message %u payload", i);
    }
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(c, buf, &len, 10000));
    T_OK(ipcx_ring_close(c));
    t_wait_ok(pid, 30000);
}

/* Batches across fork: a child sends 20k messages of 0..200 bytes with
 * ipcx_ring_send_many in batches of 1..40 through a 4 KiB ring (wraps, pads, waits for
 * room); the parent takes them with ipcx_ring_recv_many into a 700-byte buffer. Every
 * message arrives once, in order, whole, at an 8-byte multiple offset of the buffer; the
 * batches the receiver sees are no larger than asked for and fit the buffer. */
T_CASE(batches_across_fork) {
    ipcx_ring *p, *c;
    anon(&p, &c, 4096, 0, 20000);
    const unsigned N = 20000;
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(c));
        static unsigned char store[40][208];
        ipcx_iov iov[40];
        unsigned i = 0, batch = 0;
        while (i < N) {
            unsigned k = 1 + batch++ % 40;
            if (k > N - i) k = N - i;
            for (unsigned j = 0; j < k; j++) {
                unsigned seq = i + j;
                size_t n = seq % 5 == 0 ? 0 : 4 + seq % 197;
                if (n) {
                    memcpy(store[j], &seq, 4);
                    pattern(store[j] + 4, n - 4, seq);
                }
                iov[j].buf = n ? store[j] : NULL;
                iov[j].len = n;
            }
            size_t sent = 99;
            T_OK(ipcx_ring_send_many(p, iov, k, 10000, &sent));
            T_EQ_INT(sent, k);
            i += k;
        }
        T_OK(ipcx_ring_close(p));
        _exit(0);
    }
    T_OK(ipcx_ring_close(p));
    _Alignas(8) unsigned char buf[700];
    ipcx_iov m[16];
    unsigned i = 0, calls = 0, most = 0;
    while (i < N) {
        size_t want = 1 + calls++ % 16, got = 99;
        T_OK(ipcx_ring_recv_many(c, buf, sizeof buf, m, want, 10000, &got));
        T_ASSERTF(got >= 1 && got <= want, "got %zu of at most %zu", got, want);
        if (got > most) most = (unsigned)got;
        size_t end = 0;
        for (size_t j = 0; j < got; j++, i++) {
            size_t n = i % 5 == 0 ? 0 : 4 + i % 197;
            T_ASSERTF(m[j].len == n, "message %u: length %zu, sent %zu", i, m[j].len, n);
            size_t off = (size_t)((const unsigned char *)m[j].buf - buf);
            T_ASSERTF(off % 8 == 0 && off >= end && off + n <= sizeof buf, "message %u at offset %zu", i,
                      off);
            end = off + n;
            if (n) {
                unsigned seq;
                memcpy(&seq, m[j].buf, 4);
                T_ASSERTF(seq == i, "message %u: sequence %u", i, seq);
                T_ASSERTF(pattern_ok((const unsigned char *)m[j].buf + 4, n - 4, seq), "message %u payload", i);
            }
        }
    }
    printf("# %u calls, at most %u messages in one\n", calls, most);
    T_ASSERT(most > 1);
    size_t got = 99;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv_many(c, buf, sizeof buf, m, 16, 10000, &got));
    T_EQ_INT(got, 0);
    T_OK(ipcx_ring_close(c));
    t_wait_ok(pid, 30000);
}

/* The batch calls' edges: sizes checked before anything is sent, a timeout partway says how
 * many went, a message that does not fit stays queued, and bad arguments are refused with
 * nothing sent or taken. */
T_CASE(batch_edges_and_bad_input) {
    ipcx_ring *p, *c;
    anon(&p, &c, 4096, 0, 0);
    static unsigned char big[3000], msg[1000];
    memset(msg, 'm', sizeof msg);
    ipcx_iov iov[10];
    for (int i = 0; i < 10; i++) iov[i] = (ipcx_iov){msg, 100};
    size_t sent = 99, got = 99;
    /* A too-big message anywhere: nothing is sent. */
    iov[3] = (ipcx_iov){big, sizeof big};
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_ring_send_many(p, iov, 10, 0, &sent));
    T_EQ_INT(sent, 0);
    iov[3] = (ipcx_iov){NULL, 5};
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send_many(p, iov, 10, 0, &sent));
    T_EQ_INT(sent, 0);
    iov[3] = (ipcx_iov){msg, 100};
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send_many(p, NULL, 2, 0, &sent));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send_many(c, iov, 1, 0, &sent));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send_many(p, iov, 1, -7, &sent));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_send_many((ipcx_ring *)8, iov, 1, 0, &sent));
    T_OK(ipcx_ring_send_many(p, NULL, 0, 0, &sent));
    T_EQ_INT(sent, 0);
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_ring_recv_many(c, msg, sizeof msg, iov, 10, 0, &got));
    T_EQ_INT(got, 0);
    /* Full partway: 1000-byte messages into 4 KiB; NOWAIT and a short timeout both say how
     * many went, and exactly those arrive. */
    for (int i = 0; i < 10; i++) iov[i] = (ipcx_iov){msg, sizeof msg};
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_ring_send_many(p, iov, 10, 0, &sent));
    T_ASSERTF(sent >= 1 && sent < 10, "sent %zu", sent);
    size_t first = sent;
    double t0 = t_now_ms();
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_ring_send_many(p, iov, 10, 100, &sent));
    T_ASSERT(t_now_ms() - t0 >= 100.0);
    T_EQ_INT(sent, 0);
    /* Receiving: a buffer for one and a half messages takes one; the next stays. */
    static _Alignas(8) unsigned char out[4096];
    ipcx_iov m[8];
    T_OK(ipcx_ring_recv_many(c, out, 1500, m, 8, 0, &got));
    T_EQ_INT(got, 1);
    T_ASSERT(m[0].buf == out && m[0].len == sizeof msg);
    /* The first message larger than the buffer: TOO_BIG, the size needed, still queued. */
    got = 99;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_ring_recv_many(c, out, 999, m, 8, 0, &got));
    T_ASSERT(got == 0 && m[0].buf == NULL && m[0].len == sizeof msg);
    /* Bad arguments take nothing. */
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv_many(c, out, sizeof out, NULL, 8, 0, &got));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv_many(c, out, sizeof out, m, 0, 0, &got));
    T_LAST_ERROR_HAS("max_count");
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv_many(c, NULL, 10, m, 8, 0, &got));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv_many(p, out, sizeof out, m, 8, 0, &got));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv_many(c, out, sizeof out, m, 8, -7, &got));
    const void *bp;
    size_t bl;
    T_OK(ipcx_ring_borrow(c, 0, &bp, &bl));
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_recv_many(c, out, sizeof out, m, 8, 0, &got));
    T_OK(ipcx_ring_release(c));
    /* What is left: first - 2 messages (one taken, one borrowed), all in one call. */
    T_OK(ipcx_ring_recv_many(c, out, sizeof out, m, 8, 0, &got));
    T_EQ_INT(got, first - 2);
    for (size_t j = 0; j < got; j++)
        T_ASSERT(m[j].len == sizeof msg && ((const unsigned char *)m[j].buf)[999] == 'm');
    T_OK(ipcx_ring_close(p));
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv_many(c, out, sizeof out, m, 8, 0, &got));
    T_OK(ipcx_ring_close(c));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_recv_many(c, out, sizeof out, m, 8, 0, &got));
}

/* Four producer processes x 10k messages into one consumer: nothing lost, per-producer
 * order kept, end of stream once every producer is gone. */
T_CASE(mpmc_four_producers_one_consumer) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 15, IPCX_RING_MPMC, 20000);
    enum { P = 4, N = 10000 };
    pid_t kids[P];
    for (int k = 0; k < P; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            T_OK(ipcx_ring_close(c));
            unsigned char buf[128];
            for (int i = 0; i < N; i++) {
                size_t n = 8 + (size_t)(i % 100);
                int hdr[2] = {k, i};
                memcpy(buf, hdr, 8);
                memset(buf + 8, k * 16 + i % 16, n - 8);
                if (i % 3 == 0) { /* mix zero-copy and copying sends */
                    void *w;
                    T_OK(ipcx_ring_reserve(p, n, 10000, &w));
                    memcpy(w, buf, n);
                    T_OK(ipcx_ring_commit(p, n));
                } else {
                    T_OK(ipcx_ring_send(p, buf, n, 10000));
                }
            }
            T_OK(ipcx_ring_close(p));
            _exit(0);
        }
    }
    T_OK(ipcx_ring_close(p)); /* the children hold the producer side now */
    int next[P] = {0};
    unsigned char buf[128];
    for (int got = 0; got < P * N; got++) {
        size_t len = sizeof buf;
        T_OK(ipcx_ring_recv(c, buf, &len, 10000));
        int hdr[2];
        memcpy(hdr, buf, 8);
        T_ASSERTF(hdr[0] >= 0 && hdr[0] < P, "producer id %d", hdr[0]);
        T_ASSERTF(hdr[1] == next[hdr[0]], "producer %d: message %d, expected %d", hdr[0],
                  hdr[1], next[hdr[0]]);
        T_EQ_INT(len, 8 + hdr[1] % 100);
        if (len > 8) T_EQ_INT(buf[len - 1], (unsigned char)(hdr[0] * 16 + hdr[1] % 16));
        next[hdr[0]]++;
    }
    for (int k = 0; k < P; k++) T_EQ_INT(next[k], N);
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(c, buf, &len, 10000));
    ipcx_ring_info info = {.size = sizeof info};
    T_OK(ipcx_ring_stat(c, &info));
    T_EQ_INT(info.flags, IPCX_OPEN_READ | IPCX_RING_MPMC);
    T_OK(ipcx_ring_close(c));
    for (int k = 0; k < P; k++) t_wait_ok(kids[k], 30000);
}

/* Three producer processes send batches of 1..24 into a small MPMC ring (a batch often
 * waits for room midway): a batch arrives whole and contiguous, never with another
 * producer's messages inside it, and every producer's messages arrive in order. */
T_CASE(mpmc_batches_are_never_interleaved) {
    ipcx_ring *p, *c;
    anon(&p, &c, 4096, IPCX_RING_MPMC, 20000);
    enum { P = 3, N = 6000 };
    pid_t kids[P];
    for (int k = 0; k < P; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            T_OK(ipcx_ring_close(c));
            static int store[24][4];
            ipcx_iov iov[24];
            int i = 0, b = 0;
            while (i < N) {
                int len = 1 + (b++ * 7 + k) % 24;
                if (len > N - i) len = N - i;
                for (int j = 0; j < len; j++) {
                    int m[4] = {k, i + j, j, len};
                    memcpy(store[j], m, sizeof m);
                    iov[j].buf = store[j];
                    iov[j].len = sizeof m;
                }
                size_t sent = 0;
                T_OK(ipcx_ring_send_many(p, iov, (size_t)len, 10000, &sent));
                T_EQ_INT(sent, len);
                i += len;
            }
            T_OK(ipcx_ring_close(p));
            _exit(0);
        }
    }
    T_OK(ipcx_ring_close(p));
    int next[P] = {0}, prev[4] = {-1, -1, -1, -1};
    for (int got = 0; got < P * N; got++) {
        int m[4];
        size_t len = sizeof m;
        T_OK(ipcx_ring_recv(c, m, &len, 10000));
        T_EQ_INT(len, sizeof m);
        T_ASSERTF(m[0] >= 0 && m[0] < P, "producer id %d", m[0]);
        T_ASSERTF(m[1] == next[m[0]], "producer %d: message %d, expected %d", m[0], m[1],
                  next[m[0]]);
        if (m[2] > 0)
            T_ASSERTF(prev[0] == m[0] && prev[2] == m[2] - 1 && prev[3] == m[3],
                      "message %d of producer %d's batch of %d came after producer %d's "
                      "message %d of %d",
                      m[2], m[0], m[3], prev[0], prev[2], prev[3]);
        else
            T_ASSERTF(prev[0] < 0 || prev[2] == prev[3] - 1,
                      "producer %d's batch started inside producer %d's (message %d of %d)",
                      m[0], prev[0], prev[2], prev[3]);
        memcpy(prev, m, sizeof m);
        next[m[0]]++;
    }
    int m[4];
    size_t len = sizeof m;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(c, m, &len, 10000));
    T_OK(ipcx_ring_close(c));
    for (int k = 0; k < P; k++) t_wait_ok(kids[k], 30000);
}

/* Two consumers share an MPMC ring: each message is delivered exactly once. */
T_CASE(mpmc_two_consumers_share_the_stream) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, IPCX_RING_MPMC, 20000);
    int fds[2];
    T_ASSERT(pipe(fds) == 0);
    enum { N = 20000 };
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            T_OK(ipcx_ring_close(p));
            close(fds[0]);
            int v, count = 0;
            long long sum = 0;
            for (;;) {
                size_t len = sizeof v;
                int s = ipcx_ring_recv(c, &v, &len, 10000);
                if (s == IPCX_ERR_CLOSED) break;
                T_OK(s);
                sum += v;
                count++;
            }
            T_OK(ipcx_ring_close(c));
            long long out[2] = {count, sum};
            T_ASSERT(write(fds[1], out, sizeof out) == sizeof out);
            _exit(0);
        }
    }
    close(fds[1]);
    T_OK(ipcx_ring_close(c));
    for (int i = 0; i < N; i++) T_OK(ipcx_ring_send(p, &i, sizeof i, 10000));
    T_OK(ipcx_ring_close(p));
    long long count = 0, sum = 0;
    for (int k = 0; k < 2; k++) {
        long long in[2];
        T_ASSERT(read(fds[0], in, sizeof in) == sizeof in);
        count += in[0];
        sum += in[1];
        t_wait_ok(kids[k], 30000);
    }
    close(fds[0]);
    T_EQ_INT(count, N);
    T_EQ_INT(sum, (long long)N * (N - 1) / 2);
}

/* Named rings between unrelated processes (a separate program started with exec). */
T_CASE(named_rings_between_unrelated_processes) {
    char a[128], b[128];
    t_posix_name(a, sizeof a, "ring-a");
    t_posix_name(b, sizeof b, "ring-b");
    mode_t old = umask(077);
    ipcx_options *o = ring_opts(1 << 18, 20000);
    T_OK(ipcx_options_set_mode(o, 0640));
    ipcx_ring *w = create_named(a, IPCX_OPEN_WRITE, o);
    ipcx_ring *r = create_named(b, IPCX_OPEN_READ, NULL);
    umask(old);
    T_OK(ipcx_options_close(o));
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm%s", a);
    T_ASSERT(stat(path, &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0640); /* exactly, whatever the umask */
    snprintf(path, sizeof path, "/dev/shm%s", b);
    T_ASSERT(stat(path, &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0600); /* the default */
    enum { N = 300 };
    char count[16];
    snprintf(count, sizeof count, "%d", N);
    pid_t peer = spawn_peer((char *const[]){"ring_peer", "echo", a, b, count, NULL});
    static unsigned char buf[65536], got[65536];
    for (unsigned i = 0; i < N; i++) {
        size_t n = i == 7 ? 65536 : (i * 211) % 5000, len = sizeof got;
        pattern(buf, n, i);
        T_OK(ipcx_ring_send(w, buf, n, 10000));
        T_OK(ipcx_ring_recv(r, got, &len, 10000));
        T_EQ_INT(len, n);
        for (size_t k = 0; k < n; k++)
            T_ASSERTF(got[k] == buf[n - 1 - k], "message %u byte %zu", i, k);
    }
    t_wait_ok(peer, 20000);
    size_t len = sizeof got;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(r, got, &len, 10000)); /* the peer closed */
    T_OK(ipcx_ring_close(w));
    T_OK(ipcx_ring_close(r));
    /* The rings persist until unlinked; unlink removes exactly them. */
    T_ASSERT(shm_exists(a) && shm_exists(b));
    T_OK(ipcx_ring_remove(a));
    T_OK(ipcx_ring_remove(b));
    T_ASSERT(!shm_exists(a) && !shm_exists(b));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_ring_remove(a));
}

/* Messages survive their producer: a named ring is a persistent queue. */
T_CASE(named_ring_keeps_messages_after_producer_closes) {
    char n[128];
    t_posix_name(n, sizeof n, "keep");
    ipcx_ring *w = create_named(n, IPCX_OPEN_WRITE, NULL);
    for (int i = 0; i < 3; i++) T_OK(ipcx_ring_send(w, &i, sizeof i, 0));
    T_OK(ipcx_ring_close(w));
    ipcx_ring *r;
    T_OK(ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &r));
    for (int i = 0; i < 3; i++) {
        int v;
        size_t len = sizeof v;
        T_OK(ipcx_ring_recv(r, &v, &len, 0));
        T_EQ_INT(v, i);
    }
    int v;
    size_t len = sizeof v;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(r, &v, &len, 0));
    /* A new producer makes it live again. */
    T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &w));
    len = sizeof v;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 50, ipcx_ring_recv(r, &v, &len, 50));
    T_OK(ipcx_ring_close(w));
    T_OK(ipcx_ring_close(r));
    T_OK(ipcx_ring_remove(n));
}

T_CASE(timeouts) {
    ipcx_ring *p, *c;
    anon(&p, &c, 4096, 0, 20000);
    char buf[2048] = {0};
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_ring_recv(c, buf, &len, IPCX_NOWAIT));
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_ring_recv(c, buf, &len, 150));
    T_LAST_ERROR_HAS("timed out");
    const void *bp;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_ring_borrow(c, 100, &bp, &len));
    T_ASSERT(bp == NULL && len == 0);
    /* Fill: then sends time out. */
    while (ipcx_ring_send(p, buf, 1000, IPCX_NOWAIT) == IPCX_OK) {}
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_ring_send(p, buf, 1000, 150));
    void *wp;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_ring_reserve(p, 1000, 100, &wp));
    T_ASSERT(wp == NULL);
    /* Spin forever still honours the timeout. */
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
    anon(&p, &c, 4096, 0, IPCX_SPIN_FOREVER);
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_ring_recv(c, buf, &len, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv(c, buf, &len, -2));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send(p, buf, 1, -5));
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
    /* MPMC: waiting for the side lock also honours the timeout. */
    anon(&p, &c, 4096, IPCX_RING_MPMC, 0);
    int up[2], down[2];
    T_ASSERT(pipe(up) == 0 && pipe(down) == 0);
    pid_t pid = t_fork();
    if (pid == 0) { /* hold the producers' lock with a reservation */
        T_OK(ipcx_ring_reserve(p, 10, 1000, &wp));
        sig_send(up[1]);
        sig_wait(down[0]);
        T_OK(ipcx_ring_abort(p));
        T_OK(ipcx_ring_close(p));
        T_OK(ipcx_ring_close(c));
        _exit(0);
    }
    sig_wait(up[0]);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_ring_send(p, buf, 10, 150));
    T_LAST_ERROR_HAS("producer lock");
    sig_send(down[1]);
    t_wait_ok(pid, 10000);
    T_OK(ipcx_ring_send(p, buf, 10, 1000));
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
}

/* The producer is killed mid-stream: the consumer drains what was published, then gets
 * IPCX_ERR_CLOSED within 2 s, whatever its timeout. */
T_CASE(producer_killed_mid_stream) {
    for (int forever = 0; forever < 2; forever++) {
        ipcx_ring *p, *c;
        anon(&p, &c, 1 << 16, 0, forever ? 0 : 20000);
        pid_t pid = t_fork();
        if (pid == 0) {
            T_OK(ipcx_ring_close(c));
            for (unsigned i = 0;; i++) T_OK(ipcx_ring_send(p, &i, sizeof i, IPCX_FOREVER));
        }
        T_OK(ipcx_ring_close(p)); /* or the parent's copy keeps the producer side alive */
        unsigned v, expect = 0;
        size_t len;
        for (; expect < 50000; expect++) {
            len = sizeof v;
            T_OK(ipcx_ring_recv(c, &v, &len, 10000));
            T_EQ_INT(v, expect);
        }
        T_ASSERT(kill(pid, SIGKILL) == 0);
        double t0 = t_now_ms();
        int s;
        for (;;) {
            len = sizeof v;
            s = ipcx_ring_recv(c, &v, &len, forever ? IPCX_FOREVER : 30000);
            if (s != IPCX_OK) break;
            T_EQ_INT(v, expect); /* everything published is delivered, in order */
            expect++;
        }
        T_ERR(IPCX_ERR_CLOSED, s);
        double dt = t_now_ms() - t0;
        T_ASSERTF(dt < 2000, "CLOSED after %.0f ms", dt);
        T_OK(ipcx_ring_close(c));
        int st;
        T_ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    }
}

/* The consumer is killed: a producer waiting for room gets IPCX_ERR_CLOSED within 2 s. */
T_CASE(consumer_killed_mid_stream) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, 0, 0);
    int fds[2];
    T_ASSERT(pipe(fds) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(p));
        char buf[256];
        for (int i = 0; i < 1000; i++) {
            size_t len = sizeof buf;
            T_OK(ipcx_ring_recv(c, buf, &len, 10000));
        }
        sig_send(fds[1]);
        for (;;) pause(); /* stop reading and wait to be killed */
    }
    T_OK(ipcx_ring_close(c));
    char buf[200] = {0};
    int i = 0;
    for (; i < 1000; i++) T_OK(ipcx_ring_send(p, buf, sizeof buf, 10000));
    sig_wait(fds[0]);
    T_ASSERT(kill(pid, SIGKILL) == 0);
    double t0 = t_now_ms();
    int s;
    while ((s = ipcx_ring_send(p, buf, sizeof buf, IPCX_FOREVER)) == IPCX_OK) {}
    T_ERR(IPCX_ERR_CLOSED, s);
    T_LAST_ERROR_HAS("the consumer closed or died");
    double dt = t_now_ms() - t0;
    T_ASSERTF(dt < 2000, "CLOSED after %.0f ms", dt);
    int st;
    T_ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    close(fds[0]);
    close(fds[1]);
    T_OK(ipcx_ring_close(p));
}

/* An MPMC producer killed while it holds the producers' lock (an open reservation): the
 * other producers take the lock over, nothing half-written is delivered. */
T_CASE(mpmc_producer_killed_holding_the_lock) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, IPCX_RING_MPMC, 20000);
    int fds[2];
    T_ASSERT(pipe(fds) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(c));
        T_OK(ipcx_ring_send(p, "before", 6, 1000));
        void *w;
        T_OK(ipcx_ring_reserve(p, 100, 1000, &w));
        memset(w, 'X', 100); /* written, never committed */
        sig_send(fds[1]);
        for (;;) pause();
    }
    sig_wait(fds[0]);
    T_ASSERT(kill(pid, SIGKILL) == 0);
    int st;
    T_ASSERT(waitpid(pid, &st, 0) == pid);
    double t0 = t_now_ms();
    T_OK(ipcx_ring_send(p, "after", 5, 5000));
    T_ASSERTF(t_now_ms() - t0 < 2000, "lock taken over after %.0f ms", t_now_ms() - t0);
    char buf[128];
    size_t len = sizeof buf;
    T_OK(ipcx_ring_recv(c, buf, &len, 1000));
    T_ASSERT(len == 6 && memcmp(buf, "before", 6) == 0);
    len = sizeof buf;
    T_OK(ipcx_ring_recv(c, buf, &len, 1000));
    T_ASSERT(len == 5 && memcmp(buf, "after", 5) == 0);
    len = sizeof buf;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_ring_recv(c, buf, &len, 0));
    close(fds[0]);
    close(fds[1]);
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
}

/* A named ring whose processes died: the next open recovers it (complete messages kept);
 * a live side is never taken over; a ring with a broken header is re-initialised when
 * nobody is attached. */
T_CASE(stale_ring_recovery) {
    char n[128];
    t_posix_name(n, sizeof n, "stale");
    ipcx_ring *r = create_named(n, IPCX_OPEN_WRITE, NULL); /* no consumer yet */
    T_OK(ipcx_ring_close(r));
    int out[2];
    T_ASSERT(pipe(out) == 0);
    pid_t peer = t_fork();
    if (peer == 0) { /* the producer reports "ready" on its stdout once it has sent */
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/ring_peer", t_exe_dir());
        dup2(out[1], 1);
        execv(exe, (char *const[]){"ring_peer", "produce", n, "3", NULL});
        _exit(127);
    }
    close(out[1]);
    sig_wait(out[0]);
    close(out[0]);
    char buf[64];
    /* While the producer lives, a second SPSC producer is refused: never steal. */
    ipcx_ring *w = (ipcx_ring *)1;
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &w));
    T_LAST_ERROR_HAS("live producer");
    T_ASSERT(w == NULL);
    T_ASSERT(kill(peer, SIGKILL) == 0);
    int st;
    T_ASSERT(waitpid(peer, &st, 0) == peer && WIFSIGNALED(st));
    /* Both sides dead now. A new producer and consumer recover the ring. */
    T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, NULL, &w));
    T_OK(ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &r));
    T_OK(ipcx_ring_send(w, "new", 3, 1000));
    const char *want[] = {"0", "1", "2", "new"};
    for (int i = 0; i < 4; i++) {
        size_t len = sizeof buf;
        T_OK(ipcx_ring_recv(r, buf, &len, 1000));
        T_ASSERTF(len == strlen(want[i]) && memcmp(buf, want[i], len) == 0, "message %d", i);
    }
    T_OK(ipcx_ring_close(w));
    T_OK(ipcx_ring_close(r));
    /* Corrupt the header of the idle ring (its capacity field): opening reports it if
     * someone is attached, re-initialises it otherwise. */
    int fd = shm_open(n, O_RDWR, 0);
    T_ASSERT(fd >= 0);
    uint64_t bogus = 12345;
    T_ASSERT(pwrite(fd, &bogus, 8, 24) == 8); /* Ident.capacity */
    close(fd);
    T_OK(ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &r));
    T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &w));
    T_OK(ipcx_ring_send(w, "fresh", 5, 1000));
    size_t len = sizeof buf;
    T_OK(ipcx_ring_recv(r, buf, &len, 1000));
    T_ASSERT(len == 5 && memcmp(buf, "fresh", 5) == 0);
    fd = shm_open(n, O_RDWR, 0);
    T_ASSERT(pwrite(fd, &bogus, 8, 24) == 8);
    close(fd);
    ipcx_ring *third;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_open(n, IPCX_OPEN_READ | IPCX_RING_MPMC, NULL, &third));
    T_LAST_ERROR_HAS("corrupted ring header");
    T_OK(ipcx_ring_close(w));
    T_OK(ipcx_ring_close(r));
    T_OK(ipcx_ring_remove(n));
}

/* ipcx never modifies or removes a shared-memory object that is not an ipcx ring. */
T_CASE(never_touches_what_is_not_a_ring) {
    char n[128];
    t_posix_name(n, sizeof n, "foreign");
    int fd = shm_open(n, O_RDWR | O_CREAT | O_EXCL, 0600);
    T_ASSERT(fd >= 0);
    t_track_shm(n);
    static char junk[1 << 16];
    memset(junk, 'j', sizeof junk);
    T_ASSERT(write(fd, junk, sizeof junk) == sizeof junk);
    ipcx_ring *r = (ipcx_ring *)1;
    T_ERR(IPCX_ERR_EXISTS, ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, NULL, &r));
    T_LAST_ERROR_HAS("not an ipcx ring");
    T_ASSERT(r == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_remove(n));
    T_LAST_ERROR_HAS("not removed");
    T_ERR(IPCX_ERR_EXISTS, ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &r));
    char back[16];
    T_ASSERT(pread(fd, back, sizeof back, 100) == sizeof back && back[0] == 'j' && back[15] == 'j');
    struct stat st;
    T_ASSERT(fstat(fd, &st) == 0 && st.st_size == sizeof junk);
    /* An empty object (someone else is still creating it, or gave up). */
    T_ASSERT(ftruncate(fd, 0) == 0);
    double t0 = t_now_ms();
    T_ERR(IPCX_ERR_EXISTS, ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &r));
    T_LAST_ERROR_HAS("is empty");
    T_ASSERT(t_now_ms() - t0 >= 1900);
    T_ASSERT(fstat(fd, &st) == 0 && st.st_size == 0);
    close(fd);
    T_ASSERT(shm_unlink(n) == 0);

    /* A record of a ring ipcx created under the name proves nothing about another object
     * that has the name now. */
    t_posix_name(n, sizeof n, "foreign-after");
    ipcx_options *o = ring_opts(1 << 16, 0);
    T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &r));
    t_track_shm(n);
    T_OK(ipcx_ring_close(r));
    T_ASSERT(shm_unlink(n) == 0); /* behind ipcx's back (its record went with its inode) */
    fd = shm_open(n, O_RDWR | O_CREAT | O_EXCL, 0600);
    T_ASSERT(fd >= 0);
    T_ASSERT(ftruncate(fd, 0) == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_remove(n));
    T_LAST_ERROR_HAS("no provenance record");
    T_ASSERT(shm_unlink(n) == 0);
    close(fd);
    /* A ring made again under the name has a record again; removing it forgets it. */
    T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &r));
    T_OK(ipcx_ring_close(r));
    T_OK(ipcx_ring_remove(n));
    T_OK(ipcx_options_close(o));
}

/* A process scribbles random bytes over the ring (header and data) while the consumer
 * reads: the consumer reports corruption or end of stream, and never crashes or hangs.
 * Also run under AddressSanitizer (the asan preset). */
T_CASE(scribbler_cannot_crash_the_reader) {
    int protocol = 0;
    for (int round = 0; round < 4; round++) {
        char n[128];
        t_posix_name(n, sizeof n, "scribble");
        ipcx_options *o = ring_opts(1 << 16, 20000);
        ipcx_ring *r = create_named(n, IPCX_OPEN_READ, o), *w;
        T_OK(ipcx_options_close(o));
        T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &w));
        pid_t prod = t_fork();
        if (prod == 0) { /* a producer that sends for 1.5 s, whatever happens */
            T_OK(ipcx_ring_close(r));
            unsigned char buf[3000];
            double end = t_now_ms() + 1500;
            for (unsigned i = 0; t_now_ms() < end; i++) {
                pattern(buf, sizeof buf, i);
                int s = ipcx_ring_send(w, buf, (i * 37) % sizeof buf, 50);
                if (s != IPCX_OK && s != IPCX_ERR_TIMEOUT) break; /* PROTOCOL or CLOSED */
            }
            ipcx_ring_close(w);
            _exit(0);
        }
        T_OK(ipcx_ring_close(w));
        char ms[16], seed[16];
        snprintf(ms, sizeof ms, "%d", 1000);
        snprintf(seed, sizeof seed, "%d", round + 1);
        usleep(50000);
        pid_t scr = spawn_peer((char *const[]){"ring_peer", "scribble", n, ms, seed, NULL});
        static unsigned char buf[1 << 16];
        int s, received = 0;
        double t0 = t_now_ms();
        for (;;) {
            size_t len = sizeof buf;
            s = ipcx_ring_recv(r, buf, &len, 200);
            if (s == IPCX_OK) {
                T_ASSERT(len <= sizeof buf);
                received++;
                continue;
            }
            if (s == IPCX_ERR_TIMEOUT || s == IPCX_ERR_TOO_BIG) continue;
            break;
        }
        T_ASSERTF(s == IPCX_ERR_PROTOCOL || s == IPCX_ERR_CLOSED, "reader ended with %s: %s",
                  t_status_name(s), ipcx_last_error());
        if (s == IPCX_ERR_PROTOCOL) {
            protocol++;
            size_t len = sizeof buf; /* sticky */
            T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_recv(r, buf, &len, 0));
        }
        T_ASSERTF(t_now_ms() - t0 < 20000, "reader took %.0f ms", t_now_ms() - t0);
        t_wait_ok(scr, 10000);
        t_wait_ok(prod, 20000); /* the producer did not crash either */
        T_OK(ipcx_ring_close(r));
        /* ipcx_ring_remove refuses it if the scribbler destroyed the magic (it can no
         * longer be told from a foreign object): remove it directly. */
        T_ASSERT(shm_unlink(n) == 0);
        /* Its provenance record was on its inode: nothing of it is left. */
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_remove(IPCX_OBJECT_RING, n, 0));
        T_ASSERT(!strstr(ipcx_last_error(), "left behind"));
        printf("  round %d: %d messages, then %s\n", round, received, t_status_name(s));
    }
    T_ASSERTF(protocol > 0, "the scribbler never made the reader report corruption");
}

/* The poll descriptor: readable when a message is there (or the producers are gone). */
T_CASE(poll_descriptor) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, 0, 20000);
    int fd = -2;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_fd(c, NULL));
    T_OK(ipcx_ring_fd(c, &fd));
    T_ASSERT(fd >= 0);
    int fd2;
    T_OK(ipcx_ring_fd(c, &fd2)); /* the same descriptor again */
    T_EQ_INT(fd2, fd);
    T_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    struct pollfd pf = {fd, POLLIN, 0};
    T_EQ_INT(poll(&pf, 1, 100), 0); /* empty: not readable */
    int fds[2];
    T_ASSERT(pipe(fds) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(c));
        for (int round = 0; round < 3; round++) {
            sig_wait(fds[0]);
            for (int i = 0; i < 5; i++) T_OK(ipcx_ring_send(p, &i, sizeof i, 1000));
        }
        sig_wait(fds[0]);
        for (;;) pause(); /* killed */
    }
    T_OK(ipcx_ring_close(p));
    for (int round = 0; round < 3; round++) {
        sig_send(fds[1]);
        pf.revents = 0;
        T_EQ_INT(poll(&pf, 1, 5000), 1);
        T_ASSERT(pf.revents & POLLIN);
        usleep(50000); /* let all five arrive */
        int got = 0, v, s;
        size_t len;
        for (;;) { /* drain with IPCX_NOWAIT until TIMEOUT: that re-arms */
            len = sizeof v;
            s = ipcx_ring_recv(c, &v, &len, IPCX_NOWAIT);
            if (s != IPCX_OK) break;
            T_EQ_INT(v, got);
            got++;
        }
        T_ERR(IPCX_ERR_TIMEOUT, s);
        T_EQ_INT(got, 5);
        pf.revents = 0;
        T_EQ_INT(poll(&pf, 1, 50), 0); /* drained and re-armed: quiet again */
    }
    /* The producer dies: the descriptor becomes readable, the receive says CLOSED. */
    sig_send(fds[1]);
    usleep(20000);
    T_ASSERT(kill(pid, SIGKILL) == 0);
    double t0 = t_now_ms();
    pf.revents = 0;
    /* Through a pidfd of the producer: valgrind does not support pidfd_open, so there
     * only the receive reports the death. */
    if (!t_under_valgrind()) {
        T_EQ_INT(poll(&pf, 1, 5000), 1);
        T_ASSERTF(t_now_ms() - t0 < 2000, "readable after %.0f ms", t_now_ms() - t0);
    }
    int v;
    size_t len = sizeof v;
    int s;
    while ((s = ipcx_ring_recv(c, &v, &len, 2000)) == IPCX_ERR_TIMEOUT) {}
    T_ERR(IPCX_ERR_CLOSED, s);
    int st;
    T_ASSERT(waitpid(pid, &st, 0) == pid);
    close(fds[0]);
    close(fds[1]);
    T_OK(ipcx_ring_close(c));
}

/* A producer's descriptor: readable when room may be there (or the consumer is gone);
 * a send that finds the ring full re-arms it. */
T_CASE(producer_room_descriptor) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, 0, 20000);
    int fd = -2;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_fd(p, NULL));
    T_OK(ipcx_ring_fd(p, &fd));
    T_ASSERT(fd >= 0);
    T_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    struct pollfd pf = {fd, POLLIN, 0};
    T_EQ_INT(poll(&pf, 1, 1000), 1); /* an empty ring has room */
    static char msg[1000];
    memset(msg, 'r', sizeof msg);
    int n = 0, s;
    while ((s = ipcx_ring_send(p, msg, sizeof msg, IPCX_NOWAIT)) == IPCX_OK) n++;
    T_ERR(IPCX_ERR_TIMEOUT, s); /* full: that re-arms */
    T_ASSERT(n > 0);
    pf.revents = 0;
    T_EQ_INT(poll(&pf, 1, 50), 0); /* full and armed: quiet */
    int fds[2], back[2];
    T_ASSERT(pipe(fds) == 0 && pipe(back) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(p));
        sig_wait(fds[0]);
        char b[sizeof msg];
        for (int i = 0; i < 3; i++) { /* frees room for at least one message */
            size_t len = sizeof b;
            T_OK(ipcx_ring_recv(c, b, &len, 5000));
        }
        sig_send(back[1]);
        sig_wait(fds[0]);
        for (;;) pause(); /* killed */
    }
    T_OK(ipcx_ring_close(c));
    sig_send(fds[1]);
    sig_wait(back[0]); /* the consumer took three messages */
    pf.revents = 0;
    T_EQ_INT(poll(&pf, 1, 5000), 1); /* room: readable */
    T_ASSERT(pf.revents & POLLIN);
    int more = 0;
    while ((s = ipcx_ring_send(p, msg, sizeof msg, IPCX_NOWAIT)) == IPCX_OK) more++;
    T_ERR(IPCX_ERR_TIMEOUT, s);
    T_ASSERT(more >= 1);
    pf.revents = 0;
    T_EQ_INT(poll(&pf, 1, 50), 0); /* full again, re-armed */
    /* The consumer dies: the descriptor becomes readable, the send says CLOSED. */
    sig_send(fds[1]);
    usleep(20000);
    T_ASSERT(kill(pid, SIGKILL) == 0);
    double t0 = t_now_ms();
    pf.revents = 0;
    if (!t_under_valgrind()) {
        T_EQ_INT(poll(&pf, 1, 5000), 1);
        T_ASSERTF(t_now_ms() - t0 < 2000, "readable after %.0f ms", t_now_ms() - t0);
    }
    while ((s = ipcx_ring_send(p, msg, sizeof msg, 2000)) == IPCX_ERR_TIMEOUT) {}
    T_ERR(IPCX_ERR_CLOSED, s);
    int st;
    T_ASSERT(waitpid(pid, &st, 0) == pid);
    close(fds[0]);
    close(fds[1]);
    close(back[0]);
    close(back[1]);
    T_OK(ipcx_ring_close(p));
}

/* A close by a process that lives on makes the other side's poll descriptor readable,
 * and the call then says CLOSED. The closing end releases its liveness lock before it
 * tells the peers, so a peer woken by the close never finds the closed end still alive
 * and waits for a wake-up that will not come (it was a race: several rounds, both
 * directions, anonymous and named rings). */
/* How the other end goes: its process closes it, exits without closing it (never having
 * used it: no record of the ring names that process), or is killed. */
enum { GOES_CLOSE, GOES_EXIT, GOES_KILLED };

static void close_wakes_the_poller(int named, int consumer_polls, int how) {
    ipcx_ring *p, *c;
    char n[128];
    ipcx_options *o = ring_opts(1 << 14, 0);
    if (named) {
        t_posix_name(n, sizeof n, "cw");
        p = create_named(n, IPCX_OPEN_WRITE, o);
        T_OK(ipcx_ring_open(n, IPCX_OPEN_READ, o, &c));
    } else {
        T_OK(ipcx_ring_pair(0, o, &p, &c));
    }
    T_OK(ipcx_options_close(o));
    static char msg[1000];
    int s;
    if (!consumer_polls) { /* a full ring: the producer waits for room */
        while ((s = ipcx_ring_send(p, msg, sizeof msg, IPCX_NOWAIT)) == IPCX_OK) {}
        T_ERR(IPCX_ERR_TIMEOUT, s);
    }
    ipcx_ring *poller = consumer_polls ? c : p, *closer = consumer_polls ? p : c;
    int fd = -1;
    T_OK(ipcx_ring_fd(poller, &fd));
    struct pollfd pf = {fd, POLLIN, 0};
    if (!consumer_polls) {
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_ring_send(p, msg, sizeof msg, IPCX_NOWAIT)); /* arms */
    } else {
        size_t len = sizeof msg;
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_ring_recv(c, msg, &len, IPCX_NOWAIT)); /* arms */
    }
    T_EQ_INT(poll(&pf, 1, 0), 0);
    int fds[2];
    T_ASSERT(pipe(fds) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        close(fds[1]);
        T_OK(ipcx_ring_close(poller));
        sig_wait(fds[0]);
        if (how == GOES_EXIT) _exit(0);
        if (how == GOES_CLOSE) T_OK(ipcx_ring_close(closer));
        /* Alive (only the close can tell) until the parent closes the pipe, or dies; killed
         * here with GOES_KILLED. */
        char x;
        struct pollfd hup = {fds[0], POLLIN, 0};
        T_ASSERT(poll(&hup, 1, 20000) == 1 && read(fds[0], &x, 1) == 0);
        _exit(0);
    }
    close(fds[0]);
    T_OK(ipcx_ring_close(closer)); /* the child's copy keeps the end attached */
    sig_send(fds[1]);
    if (how == GOES_KILLED) {
        usleep(20000);
        kill(pid, SIGKILL);
    }
    static const char *goes[] = {"closed", "exited without closing", "was killed"};
    for (int wakes = 0;; wakes++) {
        pf.revents = 0;
        T_ASSERTF(poll(&pf, 1, 5000) == 1,
                  "%s %s: not readable after the %s's process %s (%d wake-ups)",
                  named ? "named" : "anonymous", consumer_polls ? "consumer" : "producer",
                  consumer_polls ? "producer" : "consumer", goes[how], wakes);
        T_ASSERTF(wakes < 100, "%s %s: woken %d times without news", named ? "named" : "anonymous",
                  consumer_polls ? "consumer" : "producer", wakes);
        if (consumer_polls) {
            size_t len = sizeof msg;
            s = ipcx_ring_recv(c, msg, &len, IPCX_NOWAIT);
        } else {
            s = ipcx_ring_send(p, msg, sizeof msg, IPCX_NOWAIT);
        }
        if (s != IPCX_ERR_TIMEOUT) break; /* woken early (the parent's close): armed again */
    }
    T_ERR(IPCX_ERR_CLOSED, s);
    close(fds[1]); /* the child may go */
    if (how == GOES_KILLED) {
        int st = t_wait(pid, 20000);
        T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    } else {
        t_wait_ok(pid, 20000);
    }
    T_OK(ipcx_ring_close(poller));
    if (named) T_OK(ipcx_ring_remove(n));
}

T_CASE(poll_descriptor_wakes_on_close) {
    for (int round = 0; round < 10; round++) {
        close_wakes_the_poller(0, 1, GOES_CLOSE);
        close_wakes_the_poller(0, 0, GOES_CLOSE);
        close_wakes_the_poller(1, 1, GOES_CLOSE);
        close_wakes_the_poller(1, 0, GOES_CLOSE);
    }
}

/* The same when the other end's process goes without a close, having never used its end
 * (it died before its first call): nothing names that process, but the last close of its
 * end's open file description, at its death, wakes the descriptor. */
T_CASE(poll_descriptor_wakes_on_death_of_an_unused_end) {
    for (int round = 0; round < 3; round++)
        for (int how = GOES_EXIT; how <= GOES_KILLED; how++) {
            close_wakes_the_poller(0, 1, how);
            close_wakes_the_poller(0, 0, how);
            close_wakes_the_poller(1, 1, how);
            close_wakes_the_poller(1, 0, how);
        }
}

/* Zero-copy: reserve/commit/abort, borrow/release, ownership on close. */
T_CASE(zero_copy_and_ownership) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, 0, 20000);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(c));
        void *w;
        T_OK(ipcx_ring_reserve(p, 1000, 1000, &w));
        T_ASSERT(((uintptr_t)w & 7) == 0);
        pattern(w, 600, 1);
        T_OK(ipcx_ring_commit(p, 600)); /* shorter than reserved */
        T_OK(ipcx_ring_reserve(p, 50, 1000, &w));
        memset(w, 'A', 50);
        T_OK(ipcx_ring_abort(p)); /* never delivered */
        T_OK(ipcx_ring_reserve(p, 0, 1000, &w));
        T_OK(ipcx_ring_commit(p, 0)); /* an empty message */
        T_OK(ipcx_ring_send(p, "x", 1, 1000));
        T_OK(ipcx_ring_reserve(p, 20, 1000, &w)); /* closed with a reservation: aborted */
        memset(w, 'B', 20);
        T_OK(ipcx_ring_close(p));
        _exit(0);
    }
    T_OK(ipcx_ring_close(p));
    const void *m;
    size_t len;
    T_OK(ipcx_ring_borrow(c, 5000, &m, &len));
    T_EQ_INT(len, 600);
    T_ASSERT(pattern_ok(m, 600, 1));
    const void *m2;
    size_t len2;
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_borrow(c, 0, &m2, &len2)); /* one at a time */
    char small[4];
    size_t sl = sizeof small;
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_recv(c, small, &sl, 0));
    T_OK(ipcx_ring_release(c));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_release(c)); /* nothing borrowed */
    T_OK(ipcx_ring_borrow(c, 5000, &m, &len));
    T_EQ_INT(len, 0);
    T_OK(ipcx_ring_release(c));
    t_wait_ok(pid, 10000);
    /* "x" is next; borrow it and close: the borrow is released (consumed). */
    T_OK(ipcx_ring_borrow(c, 1000, &m, &len));
    T_ASSERT(len == 1 && *(const char *)m == 'x');
    T_OK(ipcx_ring_close(c));
}

/* An SPSC end used by two processes at once is refused; after the first closes its copy,
 * the other may use it. */
T_CASE(spsc_end_is_used_by_one_process_at_a_time) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 14, 0, 20000);
    T_OK(ipcx_ring_send(p, "parent", 6, 0)); /* the parent uses the producer end */
    int up[2], down[2];
    T_ASSERT(pipe(up) == 0 && pipe(down) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_ring_close(c));
        T_ERR(IPCX_ERR_IN_USE, ipcx_ring_send(p, "child", 5, 0));
        T_LAST_ERROR_HAS("uses this producer end");
        sig_send(up[1]);
        sig_wait(down[0]);
        T_OK(ipcx_ring_send(p, "child", 5, 1000)); /* the parent has closed its copy */
        T_OK(ipcx_ring_close(p));
        _exit(0);
    }
    sig_wait(up[0]);
    T_OK(ipcx_ring_close(p));
    sig_send(down[1]);
    char buf[16];
    size_t len = sizeof buf;
    T_OK(ipcx_ring_recv(c, buf, &len, 5000));
    T_ASSERT(len == 6 && memcmp(buf, "parent", 6) == 0);
    len = sizeof buf;
    T_OK(ipcx_ring_recv(c, buf, &len, 5000));
    T_ASSERT(len == 5 && memcmp(buf, "child", 5) == 0);
    t_wait_ok(pid, 10000);
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(c, buf, &len, 5000));
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    T_OK(ipcx_ring_close(c));
}

T_CASE(info_capacity_and_limits) {
    ipcx_ring *p, *c;
    ipcx_options *o = ring_opts(5000, 0);
    T_OK(ipcx_ring_pair(0, o, &p, &c));
    ipcx_ring_info info = {.size = sizeof info};
    T_OK(ipcx_ring_stat(p, &info));
    T_EQ_INT(info.size, sizeof info);
    T_EQ_INT(info.capacity, 8192); /* rounded up to a power of two */
    T_EQ_INT(info.max_message, 8192 / 2 - 16);
    T_EQ_INT(info.flags, IPCX_OPEN_WRITE);
    size_t max = info.max_message;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    T_OK(ipcx_ring_stat(c, &info));
    T_EQ_INT(info.flags, IPCX_OPEN_READ);
    /* The size field: unset is refused and nothing is written; a caller built against a
     * larger (newer) struct gets this library's size back and its extra bytes untouched. */
    struct {
        ipcx_ring_info info;
        uint64_t extra;
    } big_info;
    memset(&big_info, 0x5a, sizeof big_info);
    big_info.info.size = sizeof big_info;
    T_OK(ipcx_ring_stat(c, &big_info.info));
    T_EQ_INT(big_info.info.size, sizeof(ipcx_ring_info));
    T_EQ_INT(big_info.info.capacity, 8192);
    T_EQ_INT(big_info.extra, 0x5a5a5a5a5a5a5a5aULL);
    memset(&info, 0x5a, sizeof info);
    info.size = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_stat(c, &info));
    T_LAST_ERROR_HAS("size");
    T_EQ_INT(info.size, 0);
    T_EQ_INT(info.flags, 0x5a5a5a5a);
    info.size = sizeof info - 1;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_stat(c, &info));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_stat(c, NULL));
    /* The largest message goes through, wherever the indices stand; one more byte is
     * refused. */
    static unsigned char big[8192];
    for (int i = 0; i < 10; i++) {
        size_t n = i % 2 ? max : (size_t)(i * 333);
        pattern(big, n, (unsigned)i);
        T_OK(ipcx_ring_send(p, big, n, 0));
        size_t len = sizeof big;
        T_OK(ipcx_ring_recv(c, big, &len, 0));
        T_EQ_INT(len, n);
        T_ASSERT(pattern_ok(big, n, (unsigned)i));
    }
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_ring_send(p, big, max + 1, 0));
    T_LAST_ERROR_HAS("maximum");
    void *w;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_ring_reserve(p, max + 1, 0, &w));
    T_ASSERT(w == NULL);
    /* A receive buffer too small: the size needed, the message stays. */
    T_OK(ipcx_ring_send(p, big, 100, 0));
    size_t len = 10;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_ring_recv(c, big, &len, 0));
    T_EQ_INT(len, 100);
    len = 100;
    T_OK(ipcx_ring_recv(c, big, &len, 0));
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
    /* Capacity limits and max_message. */
    T_OK(ipcx_options_set_capacity(o, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(0, o, &p, &c));
    T_LAST_ERROR_HAS("out of range");
    T_ASSERT(p == NULL && c == NULL);
    T_OK(ipcx_options_set_capacity(o, (size_t)IPCX_RING_MAX_CAPACITY + 1));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(0, o, &p, &c));
    T_OK(ipcx_options_set_capacity(o, IPCX_RING_MIN_CAPACITY));
    T_OK(ipcx_options_set_max_message(o, IPCX_RING_MIN_CAPACITY / 2));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(0, o, &p, &c));
    T_LAST_ERROR_HAS("capacity/2 - 16");
    T_OK(ipcx_options_set_max_message(o, 100));
    T_OK(ipcx_ring_pair(0, o, &p, &c));
    info.size = sizeof info;
    T_OK(ipcx_ring_stat(p, &info));
    T_EQ_INT(info.capacity, IPCX_RING_MIN_CAPACITY);
    T_EQ_INT(info.max_message, 100);
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_ring_send(p, big, 101, 0));
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_capacity(o, 0));
    T_OK(ipcx_options_close(o));
}

/* An anonymous ring's memory is sealed: a process that holds the memfd (every forked
 * child does, and anyone who opens /proc/PID/fd/N) cannot shrink or grow it, so the
 * other end never meets SIGBUS; the ring keeps working. */
T_CASE(anonymous_ring_cannot_be_truncated) {
    ipcx_ring *p, *c;
    anon(&p, &c, 1 << 16, 0, 0);
    T_OK(ipcx_ring_send(p, "before", 6, 0));
    int up[2], down[2];
    T_ASSERT(pipe(up) == 0 && pipe(down) == 0);
    pid_t pid = t_fork();
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        /* Every descriptor of the ring's memfd, inherited or reopened by path. */
        int found = 0;
        DIR *d = opendir("/proc/self/fd");
        T_ASSERT(d != NULL);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char link[300], target[256];
            snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
            ssize_t k = readlink(link, target, sizeof target - 1);
            if (k <= 0) continue;
            target[k] = 0;
            if (!strstr(target, "memfd:ipcx-ring")) continue;
            int fd = atoi(e->d_name);
            struct stat st;
            T_ASSERT(fstat(fd, &st) == 0 && st.st_size > 0);
            int seals = fcntl(fd, F_GET_SEALS);
            T_ASSERT((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
                     (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
            errno = 0;
            T_ASSERT(ftruncate(fd, 0) < 0 && errno == EPERM);
            T_ASSERT(ftruncate(fd, st.st_size / 2) < 0 && errno == EPERM);
            T_ASSERT(ftruncate(fd, st.st_size * 2) < 0 && errno == EPERM);
            T_ASSERT(fcntl(fd, F_ADD_SEALS, 0) < 0 && errno == EPERM); /* sealed for good */
            int again = open(link, O_RDWR | O_CLOEXEC);
            T_ASSERT(again >= 0);
            T_ASSERT(ftruncate(again, 0) < 0 && errno == EPERM);
            close(again);
            T_ASSERT(fstat(fd, &st) == 0 && st.st_size > 0);
            found++;
        }
        closedir(d);
        T_ASSERT(found >= 1);
        T_OK(ipcx_ring_close(c));
        sig_wait(down[0]); /* the parent closed its producer end: ours to use now */
        close(down[0]);
        T_OK(ipcx_ring_send(p, "after", 5, 5000)); /* the child produces afterwards */
        T_OK(ipcx_ring_close(p));
        sig_send(up[1]);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    T_OK(ipcx_ring_close(p));
    sig_send(down[1]);
    close(down[1]);
    sig_wait(up[0]);
    close(up[0]);
    char buf[16];
    size_t len = sizeof buf;
    T_OK(ipcx_ring_recv(c, buf, &len, 5000));
    T_ASSERT(len == 6 && memcmp(buf, "before", 6) == 0);
    len = sizeof buf;
    T_OK(ipcx_ring_recv(c, buf, &len, 5000));
    T_ASSERT(len == 5 && memcmp(buf, "after", 5) == 0);
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_ring_recv(c, buf, &len, 5000));
    T_OK(ipcx_ring_close(c));
    t_wait_ok(pid, 20000);
}

/* Shrink a named ring's object from another process after `delay_ms`: `size` bytes. */
static pid_t truncate_later(const char *name, int delay_ms, off_t size) {
    pid_t pid = t_fork();
    if (pid == 0) {
        usleep((useconds_t)delay_ms * 1000);
        int fd = shm_open(name, O_RDWR, 0);
        T_ASSERT(fd >= 0);
        T_ASSERT(ftruncate(fd, size) == 0);
        close(fd);
        _exit(0);
    }
    return pid;
}

/* A named ring's object cannot be sealed (/dev/shm refuses seals to objects not made by
 * memfd_create), so a process with write access can shrink it. What ipcx guarantees
 * (docs/ring.md, "Who can break a ring"): a call waiting in the kernel when it happens
 * returns IPCX_ERR_PROTOCOL (sticky) instead of touching the lost memory; the handle can
 * still be described and closed; the next open reports the object as not a ring. Run
 * for a sleeping consumer (the creator), a producer waiting for room, and an MPMC
 * consumer waiting for its side's lock. */
T_CASE(named_ring_truncated_is_reported) {
    char n[128];
    char buf[64];
    size_t len;
    /* The creator, a consumer, asleep in a receive. */
    t_posix_name(n, sizeof n, "trunc-c");
    ipcx_options *o = ring_opts(1 << 16, 0);
    ipcx_ring *c = create_named(n, IPCX_OPEN_READ, o);
    pid_t pid = truncate_later(n, 300, 0);
    double t0 = t_now_ms();
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_recv(c, buf, &len, 20000));
    T_LAST_ERROR_HAS("truncated");
    T_ASSERT(t_now_ms() - t0 < 5000);
    t_wait_ok(pid, 10000);
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_recv(c, buf, &len, 0)); /* sticky */
    int fd;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_fd(c, &fd));
    ipcx_ring_info info = {.size = sizeof info};
    T_OK(ipcx_ring_stat(c, &info));
    T_EQ_INT(info.flags, IPCX_OPEN_READ);
    T_OK(ipcx_ring_close(c));
    /* Empty now, but its provenance record names this very object: removed. */
    T_OK(ipcx_ring_remove(n));
    T_ASSERT(shm_unlink(n) < 0 && errno == ENOENT);

    /* A producer waiting for room; afterwards, opening the name finds no ring. */
    t_posix_name(n, sizeof n, "trunc-p");
    ipcx_ring *p = create_named(n, IPCX_OPEN_WRITE, o);
    static unsigned char chunk[1024];
    while (ipcx_ring_send(p, chunk, sizeof chunk, 0) == IPCX_OK) {
    }
    pid = truncate_later(n, 300, 4096);
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_send(p, chunk, sizeof chunk, 20000));
    T_LAST_ERROR_HAS("truncated to 4096 bytes");
    t_wait_ok(pid, 10000);
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_send(p, chunk, 1, 0));
    ipcx_ring *again = (ipcx_ring *)1;
    T_ERR(IPCX_ERR_EXISTS, ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &again));
    T_LAST_ERROR_HAS("not an ipcx ring");
    T_ASSERT(again == NULL);
    /* Not a ring any more, but its provenance record names this very object: removed. */
    T_OK(ipcx_ring_remove(n));
    T_OK(ipcx_ring_close(p));
    T_ASSERT(shm_unlink(n) < 0 && errno == ENOENT);

    /* An MPMC consumer waiting for the consumers' lock, which another consumer holds
     * (a borrowed message). */
    t_posix_name(n, sizeof n, "trunc-m");
    ipcx_ring *mp = create_named(n, IPCX_OPEN_WRITE | IPCX_RING_MPMC, o);
    ipcx_ring *c1, *c2;
    T_OK(ipcx_ring_open(n, IPCX_OPEN_READ | IPCX_RING_MPMC, NULL, &c1));
    T_OK(ipcx_ring_open(n, IPCX_OPEN_READ | IPCX_RING_MPMC, NULL, &c2));
    T_OK(ipcx_ring_send(mp, "m", 1, 0));
    const void *m;
    T_OK(ipcx_ring_borrow(c1, 0, &m, &len));
    pid = truncate_later(n, 300, 0);
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_recv(c2, buf, &len, 20000));
    T_LAST_ERROR_HAS("truncated");
    t_wait_ok(pid, 10000);
    T_OK(ipcx_ring_close(c1)); /* holds a borrowed message in memory that is gone */
    T_OK(ipcx_ring_close(c2));
    T_OK(ipcx_ring_close(mp));
    T_OK(ipcx_ring_remove(n)); /* truncated, but its record names this very object */
    T_ASSERT(shm_unlink(n) < 0 && errno == ENOENT);
    T_OK(ipcx_options_close(o));
}

struct in_use_arg {
    ipcx_ring *c;
    int status;
};

static void *recv_in_thread(void *p) {
    struct in_use_arg *a = p;
    char buf[8];
    size_t len = sizeof buf;
    a->status = ipcx_ring_recv(a->c, buf, &len, 1000);
    return NULL;
}

/* A ring handle is used by one thread at a time: a call made while another thread is
 * inside a call on it returns IPCX_ERR_IN_USE at once; between calls, any thread may use
 * it. */
T_CASE(one_thread_at_a_time) {
    ipcx_ring *p, *c;
    anon(&p, &c, 0, 0, 0);
    struct in_use_arg a = {c, -1};
    pthread_t th;
    T_ASSERT(pthread_create(&th, NULL, recv_in_thread, &a) == 0);
    usleep(200 * 1000); /* the thread is asleep inside ipcx_ring_recv */
    char buf[8];
    size_t len = sizeof buf;
    double t0 = t_now_ms();
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_recv(c, buf, &len, 5000));
    T_LAST_ERROR_HAS("another thread");
    T_ASSERT(t_now_ms() - t0 < 100); /* at once */
    int fd;
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_fd(c, &fd));
    ipcx_ring_info info = {.size = sizeof info};
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_stat(c, &info));
    T_OK(ipcx_ring_send(p, "x", 1, 0)); /* the other end is another handle */
    T_ASSERT(pthread_join(th, NULL) == 0);
    T_EQ_INT(a.status, IPCX_OK);
    T_OK(ipcx_ring_stat(c, &info)); /* between calls: free again */
    T_OK(ipcx_ring_close(p));
    T_OK(ipcx_ring_close(c));
}

T_CASE(bad_input) {
    ipcx_ring *r = (ipcx_ring *)1, *p, *c;
    char n[128];
    t_posix_name(n, sizeof n, "bad");
    char buf[16];
    size_t len = sizeof buf;
    /* Names. */
    const char *bad_names[] = {"", "/", "noslash", "/a/b", "/..", NULL};
    for (int i = 0; bad_names[i]; i++) {
        T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(bad_names[i], IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, NULL, &r));
        T_ASSERT(r == NULL);
        T_ERR(IPCX_ERR_INVALID, ipcx_ring_remove(bad_names[i]));
    }
    char longname[400];
    longname[0] = '/';
    memset(longname + 1, 'x', 300);
    longname[301] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(longname, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, NULL, &r));
    /* The limit is the kernel's: a slash and 255 bytes; one more byte is refused, and the
     * message names the name. */
    char maxname[IPCX_RING_NAME_MAX + 2];
    snprintf(maxname, sizeof maxname, "%s-", n);
    memset(maxname + strlen(maxname), 'm', IPCX_RING_NAME_MAX + 1 - strlen(maxname));
    maxname[IPCX_RING_NAME_MAX + 1] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(maxname, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, NULL, &r));
    T_LAST_ERROR_HAS(maxname + 1);
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_remove(maxname));
    maxname[IPCX_RING_NAME_MAX] = 0;
    T_EQ_INT(strlen(maxname), IPCX_RING_NAME_MAX);
    ipcx_ring *longest = create_named(maxname, IPCX_OPEN_WRITE, NULL);
    T_ASSERT(shm_exists(maxname));
    T_OK(ipcx_ring_open(maxname, IPCX_OPEN_READ, NULL, &r));
    T_OK(ipcx_ring_send(longest, "x", 1, 0));
    len = sizeof buf;
    T_OK(ipcx_ring_recv(r, buf, &len, 0));
    T_OK(ipcx_ring_close(r));
    T_OK(ipcx_ring_close(longest));
    T_OK(ipcx_ring_remove(maxname));
    T_ASSERT(!shm_exists(maxname));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(NULL, IPCX_OPEN_WRITE, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_remove(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, NULL));
    /* Flags. */
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_CREATE, NULL, &r));
    T_LAST_ERROR_HAS("exactly one of");
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE | 0x100, NULL, &r));
    T_LAST_ERROR_HAS("IPCX_RING_MPMC");
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_NONBLOCK, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE | 0x80000000u, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_EXCLUSIVE, NULL, &r));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &r));
    T_ASSERT(!shm_exists(n));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(IPCX_OPEN_READ, NULL, &p, &c));
    T_LAST_ERROR_HAS("IPCX_RING_MPMC");
    T_ASSERT(p == NULL && c == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(IPCX_RING_MPMC << 1, NULL, &p, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(0, NULL, NULL, &c));
    T_ASSERT(c == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(0, NULL, &p, NULL));
    /* Options a ring does not use, and a mode for an anonymous ring. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_sigpipe_guard(o, false));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, o, &r));
    T_LAST_ERROR_HAS("sigpipe_guard");
    T_ASSERT(!shm_exists(n));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0600));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_pair(0, o, &p, &c));
    T_LAST_ERROR_HAS("mode");
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_pair(0, o, &p, &c)); /* destroyed */
    /* Existing rings: EXCL, mismatched options, second SPSC consumer. */
    ipcx_ring *w = create_named(n, IPCX_OPEN_WRITE, NULL);
    T_ERR(IPCX_ERR_EXISTS, ipcx_ring_open(n, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &r));
    o = ring_opts(1 << 12, 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_READ, o, &r));
    T_LAST_ERROR_HAS("capacity");
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_open(n, IPCX_OPEN_READ | IPCX_RING_MPMC, NULL, &r));
    T_OK(ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &r));
    ipcx_ring *r2;
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_open(n, IPCX_OPEN_READ, NULL, &r2));
    /* Wrong roles, NULL buffers, NULL out-parameters. */
    len = sizeof buf;
    void *wp;
    const void *rp;
    int fd;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send(r, "x", 1, 0));
    T_LAST_ERROR_HAS("needs a producer handle");
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_reserve(r, 1, 0, &wp));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_commit(r, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_abort(r));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv(w, buf, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_borrow(w, 0, &rp, &len));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_release(w));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send(w, NULL, 5, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send(w, buf, (size_t)-1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv(r, buf, NULL, 0));
    len = 5;
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_recv(r, NULL, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_reserve(w, 1, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_borrow(r, 0, NULL, &len));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_borrow(r, 0, &rp, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_commit(w, 0)); /* nothing reserved */
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_abort(w));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_release(r));
    T_OK(ipcx_ring_reserve(w, 8, 0, &wp));
    T_ERR(IPCX_ERR_IN_USE, ipcx_ring_send(w, "x", 1, 0)); /* a reservation is open */
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_commit(w, 9));
    T_LAST_ERROR_HAS("larger than the 8 bytes reserved");
    T_OK(ipcx_ring_commit(w, 8));
    T_OK(ipcx_ring_send(w, NULL, 0, 0)); /* an empty message is a message */
    len = sizeof buf;
    T_OK(ipcx_ring_recv(r, buf, &len, 0));
    T_EQ_INT(len, 8);
    len = 0;
    T_OK(ipcx_ring_recv(r, NULL, &len, 0));
    T_EQ_INT(len, 0);
    /* NULL handles and closed handles, for every function. */
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_send(NULL, "x", 1, 0));
    ipcx_ring_info info = {.size = sizeof info};
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_stat(NULL, &info));
    T_ERR(IPCX_ERR_INVALID, ipcx_ring_fd(NULL, &fd));
    T_EQ_INT(fd, -1);
    T_OK(ipcx_ring_close(NULL));
    T_OK(ipcx_ring_close(w));
    T_OK(ipcx_ring_close(r));
    len = sizeof buf;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_send(w, "x", 1, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_recv(r, buf, &len, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_reserve(w, 1, 0, &wp));
    T_ASSERT(wp == NULL);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_commit(w, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_abort(w));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_borrow(r, 0, &rp, &len));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_release(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_fd(r, &fd));
    info.capacity = 77;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_stat(r, &info));
    T_EQ_INT(info.capacity, 0);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_ring_close(r)); /* double close */
    T_OK(ipcx_ring_remove(n));
}

T_MAIN(T_ENTRY(anonymous_ping_pong_spin_then_sleep), T_ENTRY(anonymous_ping_pong_blocking),
       T_ENTRY(anonymous_ping_pong_busy_polling),
       T_ENTRY(spsc_one_million_messages_sequence_checked), T_ENTRY(batches_across_fork),
       T_ENTRY(batch_edges_and_bad_input),
       T_ENTRY(mpmc_four_producers_one_consumer),
       T_ENTRY(mpmc_batches_are_never_interleaved), T_ENTRY(mpmc_two_consumers_share_the_stream),
       T_ENTRY(named_rings_between_unrelated_processes),
       T_ENTRY(named_ring_keeps_messages_after_producer_closes), T_ENTRY(timeouts),
       T_ENTRY(producer_killed_mid_stream), T_ENTRY(consumer_killed_mid_stream),
       T_ENTRY(mpmc_producer_killed_holding_the_lock), T_ENTRY(stale_ring_recovery),
       T_ENTRY(never_touches_what_is_not_a_ring), T_ENTRY(scribbler_cannot_crash_the_reader),
       T_ENTRY(poll_descriptor), T_ENTRY(producer_room_descriptor),
       T_ENTRY(poll_descriptor_wakes_on_close), T_ENTRY(poll_descriptor_wakes_on_death_of_an_unused_end),
       T_ENTRY(zero_copy_and_ownership),
       T_ENTRY(spsc_end_is_used_by_one_process_at_a_time), T_ENTRY(info_capacity_and_limits),
       T_ENTRY(anonymous_ring_cannot_be_truncated), T_ENTRY(named_ring_truncated_is_reported),
       T_ENTRY(one_thread_at_a_time), T_ENTRY(bad_input))
