/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Fault injection (issue 10): full queues, a full /dev/shm, descriptor exhaustion, IPC
 * namespace limits, and signal storms. Every call must return its documented status, and
 * nothing already accepted may be lost or duplicated.
 *
 * The cases that change limits or mounts do so in a child: a private mount namespace with a
 * 64 KiB tmpfs on /dev/shm, a private IPC namespace whose /proc/sys/kernel limits the child
 * lowers, a lowered RLIMIT_NOFILE or RLIMIT_MSGQUEUE. Where unshare is not permitted (not
 * root) those cases print "# SKIP" with the reason and pass without checking.
 * RLIMIT_SIGPENDING (queued signals) is covered by c_signal (test_signal.c). */

#include "test.h"
#include "valgrind_env.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

/* ------------------------------------------------------------------ helpers */

/* Message `seq` of `len` bytes (len >= 8): the sequence number, then a pattern. */
static void msg_fill(uint8_t *b, size_t len, uint32_t seq) {
    memcpy(b, &seq, 4);
    uint32_t inv = ~seq;
    memcpy(b + 4, &inv, 4);
    for (size_t i = 8; i < len; i++) b[i] = (uint8_t)(seq + i);
}

/* The sequence number of a well-formed message, or -1. */
static int64_t msg_seq(const uint8_t *b, size_t len) {
    uint32_t seq, inv;
    if (len < 8) return -1;
    memcpy(&seq, b, 4);
    memcpy(&inv, b + 4, 4);
    if (inv != ~seq) return -1;
    for (size_t i = 8; i < len; i++)
        if (b[i] != (uint8_t)(seq + i)) return -1;
    return seq;
}

/* One queue under test: send and receive with a timeout. */
struct q {
    const char *what;
    void *tx, *rx;
    int (*send)(void *tx, const void *buf, size_t len, int64_t t);
    int (*recv)(void *rx, void *buf, size_t *len, int64_t t);
};

static int pipe_send_(void *h, const void *b, size_t n, int64_t t) { return ipcx_pipe_send(h, b, n, t); }
static int pipe_recv_(void *h, void *b, size_t *n, int64_t t) { return ipcx_pipe_recv(h, b, n, t); }
static int mq_send_(void *h, const void *b, size_t n, int64_t t) { return ipcx_mq_send(h, b, n, 0, t); }
static int mq_recv_(void *h, void *b, size_t *n, int64_t t) { return ipcx_mq_recv(h, b, n, t, NULL); }
static int msgq_send_(void *h, const void *b, size_t n, int64_t t) { return ipcx_msgq_send(h, b, n, 1, t); }
static int msgq_recv_(void *h, void *b, size_t *n, int64_t t) {
    return ipcx_msgq_recv(h, b, n, 0, 0, t, NULL);
}
static int ring_send_(void *h, const void *b, size_t n, int64_t t) { return ipcx_ring_send(h, b, n, t); }
static int ring_recv_(void *h, void *b, size_t *n, int64_t t) { return ipcx_ring_recv(h, b, n, t); }
static int sock_send_(void *h, const void *b, size_t n, int64_t t) { return ipcx_sock_send(h, b, n, t); }
static int sock_recv_(void *h, void *b, size_t *n, int64_t t) { return ipcx_sock_recv(h, b, n, t); }

/* Fill `q` with `len`-byte messages until it is full (IPCX_NOWAIT), check that a timed send
 * times out on time, then drain it: every accepted message arrives once, in order. */
static void fill_and_drain(const struct q *q, size_t len) {
    static uint8_t buf[8192];
    uint32_t n = 0;
    for (;;) {
        msg_fill(buf, len, n);
        int s = q->send(q->tx, buf, len, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) break;
        T_ASSERTF(s == IPCX_OK, "%s: send %u: %s: %s", q->what, n, t_status_name(s), ipcx_last_error());
        n++;
        T_ASSERTF(n < 100000, "%s: never full", q->what);
    }
    T_ASSERTF(n > 0, "%s: not one message accepted", q->what);
    msg_fill(buf, len, n);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, q->send(q->tx, buf, len, 150));
    T_ERR(IPCX_ERR_TIMEOUT, q->send(q->tx, buf, len, IPCX_NOWAIT));
    for (uint32_t i = 0; i < n; i++) {
        size_t got = sizeof buf;
        int s = q->recv(q->rx, buf, &got, 1000);
        T_ASSERTF(s == IPCX_OK, "%s: receive %u of %u: %s: %s", q->what, i, n, t_status_name(s),
                  ipcx_last_error());
        T_ASSERTF(got == len && msg_seq(buf, got) == i, "%s: message %u: %zu bytes, seq %lld",
                  q->what, i, got, (long long)msg_seq(buf, got));
    }
    size_t got = sizeof buf;
    T_ERR(IPCX_ERR_TIMEOUT, q->recv(q->rx, buf, &got, IPCX_NOWAIT));
    /* Room again: one more goes through. */
    msg_fill(buf, len, n);
    T_OK(q->send(q->tx, buf, len, 1000));
    got = sizeof buf;
    T_OK(q->recv(q->rx, buf, &got, 1000));
    T_ASSERT(msg_seq(buf, got) == n);
}

/* Run `fn` in a child that first enters private namespaces (`flags`); 0 if it ran, 1 if
 * unshare was not permitted (reported, the case passes). */
static int in_namespace(int flags, void (*fn)(void), const char *what) {
    int pfd[2];
    T_ASSERT(pipe(pfd) == 0);
    pid_t p = t_fork();
    if (p == 0) {
        close(pfd[0]);
        char ok = 1;
        if (unshare(flags) != 0) {
            ok = 0;
            T_ASSERT(write(pfd[1], &ok, 1) == 1);
            _exit(0);
        }
        T_ASSERT(write(pfd[1], &ok, 1) == 1);
        close(pfd[1]);
        fn();
        _exit(0);
    }
    close(pfd[1]);
    char ok = 0;
    T_ASSERT(read(pfd[0], &ok, 1) == 1);
    close(pfd[0]);
    t_wait_ok(p, 50000);
    if (!ok) {
        printf("# SKIP %s: unshare is not permitted here (needs root)\n", what);
        return 1;
    }
    return 0;
}

/* Write `value` to a /proc/sys file (in the child's own namespace). */
static void set_sysctl(const char *path, const char *value) {
    FILE *f = fopen(path, "we");
    T_ASSERTF(f != NULL, "%s: %s", path, strerror(errno));
    T_ASSERTF(fputs(value, f) >= 0 && fclose(f) == 0, "write %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------ full queues */

T_CASE(full_queues_time_out_and_keep_what_they_accepted) {
    /* Pipe: the kernel's 64 KiB buffer. */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    fill_and_drain(&(struct q){"pipe", wr, rd, pipe_send_, pipe_recv_}, 1000);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));

    /* POSIX mq: 4 messages of at most 128 bytes. */
    char name[96];
    t_posix_name(name, sizeof name, "mq");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 4));
    T_OK(ipcx_options_set_max_message(o, 128));
    ipcx_mq *mq;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &mq));
    t_track_mq(name);
    ipcx_options_close(o);
    fill_and_drain(&(struct q){"POSIX mq", mq, mq, mq_send_, mq_recv_}, 100);
    T_OK(ipcx_mq_close(mq));
    T_OK(ipcx_mq_remove(name));

    /* System V: the default byte limit (msgmnb) with 1000-byte messages. */
    ipcx_msgq *mg;
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &mg));
    int32_t id;
    T_OK(ipcx_msgq_id(mg, &id));
    t_track_sysv_msq(id);
    fill_and_drain(&(struct q){"System V msq", mg, mg, msgq_send_, msgq_recv_}, 1000);
    T_OK(ipcx_msgq_remove(mg));
    T_OK(ipcx_msgq_close(mg));

    /* Ring: the smallest capacity. */
    t_posix_name(name, sizeof name, "ring");
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, IPCX_RING_MIN_CAPACITY));
    ipcx_ring *rc, *rp;
    T_OK(ipcx_ring_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &rc));
    t_track_shm(name);
    ipcx_options_close(o);
    T_OK(ipcx_ring_open(name, IPCX_OPEN_WRITE, NULL, &rp));
    fill_and_drain(&(struct q){"ring", rp, rc, ring_send_, ring_recv_}, 100);
    T_OK(ipcx_ring_close(rp));
    T_OK(ipcx_ring_close(rc));
    T_OK(ipcx_ring_remove(name));

    /* A Unix stream socket pair: the socket buffers. */
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
    fill_and_drain(&(struct q){"Unix stream pair", a, b, sock_send_, sock_recv_}, 1000);
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
}

/* ------------------------------------------------------------------ ENOSPC on /dev/shm */

static void tiny_dev_shm(void) {
    T_ASSERTF(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private: %s", strerror(errno));
    T_ASSERTF(mount("ipcx-faults", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=1777") == 0,
              "mount a 64 KiB tmpfs on /dev/shm: %s", strerror(errno));
    /* A POSIX object: sizing it past the space left fails now, not with SIGBUS later. */
    ipcx_shm *shm;
    T_OK(ipcx_shm_open("/faults-shm", IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &shm));
    T_OK(ipcx_shm_set_size(shm, 16384));
    T_ERR(IPCX_ERR_LIMIT, ipcx_shm_set_size(shm, 1 << 20));
    T_LAST_ERROR_HAS("is full");
    size_t size = 0;
    T_OK(ipcx_shm_size(shm, &size));
    T_ASSERTF(size == 16384, "size %zu after the failed resize, expected 16384", size);
    /* What it holds is still usable. */
    ipcx_region *reg;
    T_OK(ipcx_shm_map(shm, 0, &reg));
    T_OK(ipcx_region_write(reg, 16384 - 5, "hello", 5));
    char buf[8] = {0};
    T_OK(ipcx_region_read(reg, 16384 - 5, buf, 5));
    T_ASSERT(!memcmp(buf, "hello", 5));
    T_OK(ipcx_region_close(reg));
    /* A ring larger than the space left: refused whole, no object left behind. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 1 << 20));
    ipcx_ring *r = (ipcx_ring *)1;
    T_ERR(IPCX_ERR_LIMIT, ipcx_ring_open("/faults-ring", IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &r));
    T_ASSERT(r == NULL);
    ipcx_options_close(o);
    T_ASSERTF(access("/dev/shm/faults-ring", F_OK) != 0, "a half-created ring was left in /dev/shm");
    /* A small ring still fits; then the space is gone for the next object's pages. */
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, IPCX_RING_MIN_CAPACITY));
    T_OK(ipcx_ring_open("/faults-ring", IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &r));
    ipcx_options_close(o);
    T_OK(ipcx_ring_close(r));
    T_OK(ipcx_ring_remove("/faults-ring"));
    T_OK(ipcx_shm_close(shm));
    T_OK(ipcx_shm_remove("/faults-shm"));
    DIR *d = opendir("/dev/shm");
    T_ASSERT(d != NULL);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    T_ASSERTF(n == 0, "%d entries left in the private /dev/shm", n);
}

T_CASE(enospc_on_a_64k_dev_shm_is_a_limit_not_sigbus) {
    in_namespace(CLONE_NEWNS, tiny_dev_shm, "ENOSPC on /dev/shm");
}

/* ------------------------------------------------------------------ EMFILE */

#define NOFILE_SLACK 6

static void lower_nofile(void) {
    struct rlimit rl;
    T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    int highest = 0;
    DIR *d = opendir("/proc/self/fd");
    T_ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (atoi(e->d_name) > highest) highest = atoi(e->d_name);
    closedir(d);
    rl.rlim_cur = (rlim_t)highest + 1 + NOFILE_SLACK;
    T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
}

static void emfile_child(const char *fifo, const char *sockpath) {
    lower_nofile();
    /* Pipes: two descriptors each. */
    ipcx_pipe *p[256]; /* (free numbers below the highest open one count too) */
    int n = 0, s;
    while (n < 254 && (s = ipcx_pipe_pair(0, NULL, &p[n], &p[n + 1])) == IPCX_OK) n += 2;
    T_EQ_INT(s, IPCX_ERR_LIMIT);
    T_LAST_ERROR_HAS("RLIMIT_NOFILE");
    T_ASSERT(n > 0);
    /* FIFO opens (one descriptor each: the last free one, if pipe2 left one). */
    while (n < 256 && (s = ipcx_fifo_open(fifo, IPCX_OPEN_READ, NULL, IPCX_NOWAIT, &p[n])) == IPCX_OK) n++;
    T_EQ_INT(s, IPCX_ERR_LIMIT);
    T_LAST_ERROR_HAS("RLIMIT_NOFILE");
    /* Sockets. */
    ipcx_sock *a, *b;
    T_ERR(IPCX_ERR_LIMIT, ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
    T_LAST_ERROR_HAS("RLIMIT_NOFILE");
    ipcx_sock_listener *l;
    T_ERR(IPCX_ERR_LIMIT, ipcx_sock_listen_unix(sockpath, IPCX_SOCK_STREAM, NULL, &l));
    T_LAST_ERROR_HAS("RLIMIT_NOFILE");
    /* Free four: a listener and a connection fit, the accepted one does not. */
    for (int i = 0; i < 4 && n > 0; i++) T_OK(ipcx_pipe_close(p[--n]));
    T_OK(ipcx_sock_listen_unix(sockpath, IPCX_SOCK_STREAM, NULL, &l));
    ipcx_sock *c;
    T_OK(ipcx_sock_connect_unix(sockpath, IPCX_SOCK_STREAM, NULL, 2000, &c));
    ipcx_pipe *x, *y;
    while (n < 254 && ipcx_pipe_pair(0, NULL, &x, &y) == IPCX_OK) p[n++] = x, p[n++] = y;
    while (n < 256 && ipcx_fifo_open(fifo, IPCX_OPEN_READ, NULL, IPCX_NOWAIT, &p[n]) == IPCX_OK) n++;
    ipcx_sock *acc;
    T_ERR(IPCX_ERR_LIMIT, ipcx_sock_accept(l, 1000, &acc));
    T_LAST_ERROR_HAS("RLIMIT_NOFILE");
    /* The connection waits in the backlog: accepted once a descriptor is free. */
    T_OK(ipcx_pipe_close(p[--n]));
    T_OK(ipcx_sock_accept(l, 1000, &acc));
    /* Receiving descriptors with none free: the message arrives, the descriptors do not. */
    T_OK(ipcx_sock_send_fds(c, "fds", 3, (int[]){0, 1}, 2, 1000));
    char buf[8];
    size_t len = sizeof buf;
    int fds[2] = {-1, -1};
    size_t nfds = 2;
    s = ipcx_sock_recv_fds(acc, buf, &len, fds, &nfds, 1000);
    T_EQ_INT(s, IPCX_ERR_LIMIT);
    T_LAST_ERROR_HAS("RLIMIT_NOFILE");
    T_ASSERT(fds[0] == -1 && fds[1] == -1);
    T_OK(ipcx_sock_close(acc));
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
    while (n > 0) T_OK(ipcx_pipe_close(p[--n]));
}

T_CASE(emfile_names_rlimit_nofile) {
    /* valgrind virtualises RLIMIT_NOFILE (its own descriptors sit above the limit, and
     * setrlimit below them is refused): nothing to test there. */
    if (t_under_valgrind()) return;
    char fifo[128], sockpath[128];
    t_path(fifo, sizeof fifo, "fifo");
    t_path(sockpath, sizeof sockpath, "sock");
    T_OK(ipcx_fifo_make(fifo, NULL));
    ipcx_pipe *w; /* keeps a writer so that readers open at once */
    ipcx_pipe *r0;
    T_OK(ipcx_fifo_open(fifo, IPCX_OPEN_READ, NULL, IPCX_NOWAIT, &r0));
    T_OK(ipcx_fifo_open(fifo, IPCX_OPEN_WRITE, NULL, 1000, &w));
    pid_t p = t_fork();
    if (p == 0) {
        emfile_child(fifo, sockpath);
        _exit(0);
    }
    t_wait_ok(p, 30000);
    /* POSIX message queues too (their own case: a queue name to track). */
    char name[96];
    t_posix_name(name, sizeof name, "mq");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 2));
    T_OK(ipcx_options_set_max_message(o, 64));
    ipcx_mq *q;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q));
    t_track_mq(name);
    ipcx_options_close(o);
    p = t_fork();
    if (p == 0) {
        lower_nofile();
        ipcx_mq *h[256];
        int n = 0, s = IPCX_OK;
        while (n < 256 && (s = ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &h[n])) == IPCX_OK) n++;
        T_EQ_INT(s, IPCX_ERR_LIMIT);
        T_LAST_ERROR_HAS("RLIMIT_NOFILE");
        while (n > 0) T_OK(ipcx_mq_close(h[--n]));
        _exit(0);
    }
    t_wait_ok(p, 30000);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
    T_OK(ipcx_pipe_close(w));
    T_OK(ipcx_pipe_close(r0));
    T_OK(ipcx_fifo_remove(fifo));
}

/* ------------------------------------------------------------------ IPC namespace limits */

static void ipc_limits(void) {
    /* System V queues: msgmni 2. */
    set_sysctl("/proc/sys/kernel/msgmni", "2");
    ipcx_msgq *q[3];
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q[0]));
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q[1]));
    T_ERR(IPCX_ERR_LIMIT, ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q[2]));
    T_LAST_ERROR_HAS("/proc/sys/kernel/msgmni");
    T_LAST_ERROR_HAS("2");
    for (int i = 0; i < 2; i++) {
        T_OK(ipcx_msgq_remove(q[i]));
        T_OK(ipcx_msgq_close(q[i]));
    }
    /* System V segments: shmmni 1. */
    set_sysctl("/proc/sys/kernel/shmmni", "1");
    ipcx_shm_segment *g[2];
    T_OK(ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, NULL, &g[0]));
    T_ERR(IPCX_ERR_LIMIT, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, NULL, &g[1]));
    T_LAST_ERROR_HAS("/proc/sys/kernel/shmmni");
    T_OK(ipcx_shm_segment_remove(g[0]));
    T_OK(ipcx_shm_segment_close(g[0]));
    /* System V semaphore sets: SEMMNI (field 4 of /proc/sys/kernel/sem) 1. */
    set_sysctl("/proc/sys/kernel/sem", "32000 1024000000 500 1");
    ipcx_semset *s[2];
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT, &s[0]));
    T_ERR(IPCX_ERR_LIMIT, ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT, &s[1]));
    T_LAST_ERROR_HAS("/proc/sys/kernel/sem");
    T_OK(ipcx_semset_remove(s[0]));
    T_OK(ipcx_semset_close(s[0]));
    /* POSIX queues: queues_max 1 (the mqueue namespace follows the IPC namespace). */
    set_sysctl("/proc/sys/fs/mqueue/queues_max", "1");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 2));
    T_OK(ipcx_options_set_max_message(o, 64));
    ipcx_mq *m[2];
    T_OK(ipcx_mq_open("/faults-a", IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &m[0]));
    T_ERR(IPCX_ERR_LIMIT, ipcx_mq_open("/faults-b", IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &m[1]));
    T_LAST_ERROR_HAS("queues_max");
    T_OK(ipcx_mq_close(m[0]));
    T_OK(ipcx_mq_remove("/faults-a"));
    /* RLIMIT_MSGQUEUE: bytes of every queue of the user. */
    struct rlimit rl = {1024, 1024};
    T_ASSERT(setrlimit(RLIMIT_MSGQUEUE, &rl) == 0);
    set_sysctl("/proc/sys/fs/mqueue/queues_max", "16");
    T_OK(ipcx_options_set_max_messages(o, 10));
    T_OK(ipcx_options_set_max_message(o, 1024));
    T_ERR(IPCX_ERR_LIMIT, ipcx_mq_open("/faults-c", IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &m[1]));
    T_LAST_ERROR_HAS("RLIMIT_MSGQUEUE");
    ipcx_options_close(o);
}

T_CASE(ipc_namespace_limits_are_named) {
    in_namespace(CLONE_NEWIPC, ipc_limits, "IPC namespace limits");
}

/* ------------------------------------------------------------------ EINTR storms */

static volatile sig_atomic_t hits;
static void on_usr1(int sig) {
    (void)sig;
    hits++;
}

/* A child that sends SIGUSR1 to `to` about every 100 us until `to` is gone. */
static pid_t storm(pid_t to) {
    pid_t p = t_fork();
    if (p == 0) {
        struct timespec ts = {0, 100000};
        while (kill(to, SIGUSR1) == 0) nanosleep(&ts, NULL);
        _exit(0);
    }
    return p;
}

static void stop_storm(pid_t p) {
    kill(p, SIGKILL);
    int st;
    waitpid(p, &st, 0);
}

#define STORM_MSGS 20000

/* A producer child: STORM_MSGS messages into `q` (blocking sends, themselves interrupted by
 * the storm aimed at them). */
static pid_t producer(const struct q *q, size_t len) {
    pid_t p = t_fork();
    if (p == 0) {
        pid_t s = storm(getpid());
        static uint8_t buf[1024];
        for (uint32_t i = 0; i < STORM_MSGS; i++) {
            msg_fill(buf, len, i);
            int rc = q->send(q->tx, buf, len, 10000);
            T_ASSERTF(rc == IPCX_OK, "%s: send %u: %s: %s", q->what, i, t_status_name(rc), ipcx_last_error());
        }
        stop_storm(s);
        _exit(0);
    }
    return p;
}

static void consume(const struct q *q, size_t len) {
    static uint8_t buf[2048];
    for (uint32_t i = 0; i < STORM_MSGS; i++) {
        size_t got = sizeof buf;
        int rc = q->recv(q->rx, buf, &got, 10000);
        T_ASSERTF(rc == IPCX_OK, "%s: receive %u: %s: %s", q->what, i, t_status_name(rc), ipcx_last_error());
        T_ASSERTF(got == len && msg_seq(buf, got) == i, "%s: message %u: seq %lld", q->what, i,
                  (long long)msg_seq(buf, got));
    }
}

T_CASE(eintr_storm_blocking_calls_resume_and_honour_timeouts) {
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    T_ASSERT(sigaction(SIGUSR1, &sa, &old) == 0);
    pid_t st = storm(getpid());
    char name[96], path[128];

    /* Timed waits on things that never come: never early. */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    char buf[2048] = {0}; /* sent below: initialised (memcheck) */
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_pipe_recv(rd, buf, &len, 300));
    ipcx_mq *mq;
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 4));
    T_OK(ipcx_options_set_max_message(o, 128));
    t_posix_name(name, sizeof name, "mq");
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &mq));
    t_track_mq(name);
    ipcx_options_close(o);
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_mq_recv(mq, buf, &len, 300, NULL));
    ipcx_msgq *mg;
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &mg));
    int32_t id;
    T_OK(ipcx_msgq_id(mg, &id));
    t_track_sysv_msq(id);
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_msgq_recv(mg, buf, &len, 0, 0, 300, NULL));
    ipcx_region *reg;
    T_OK(ipcx_region_create(4096, &reg));
    ipcx_sem *sem;
    T_OK(ipcx_sem_init(reg, 0, 0, &sem));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_sem_wait(sem, 300));
    ipcx_mutex *m;
    ipcx_cond *c;
    T_OK(ipcx_mutex_init(reg, 64, NULL, &m));
    T_OK(ipcx_cond_init(reg, 128, &c));
    T_OK(ipcx_mutex_lock(m, 1000));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_cond_wait(c, m, 300));
    pid_t h = t_fork();
    if (h == 0) { /* the mutex is held by the parent: a timed lock under the storm */
        pid_t s2 = storm(getpid());
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_mutex_lock(m, 300));
        stop_storm(s2);
        _exit(0);
    }
    t_wait_ok(h, 10000);
    T_OK(ipcx_mutex_unlock(m));
    const int32_t zero = 0;
    ipcx_semset *set;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, &zero, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT, &set));
    int32_t sid;
    T_OK(ipcx_semset_id(set, &sid, NULL));
    t_track_sysv_sem(sid);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_semset_p(set, 0, 0, 300));
    t_path(path, sizeof path, "sock");
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l));
    ipcx_sock *acc;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_sock_accept(l, 300, &acc));
    char fifo[128];
    t_path(fifo, sizeof fifo, "fifo");
    T_OK(ipcx_fifo_make(fifo, NULL));
    ipcx_pipe *fw;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_fifo_open(fifo, IPCX_OPEN_WRITE, NULL, 300, &fw));
    /* A ring: receive from an empty one, send into a full one. */
    char rname[96];
    t_posix_name(rname, sizeof rname, "ring");
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, IPCX_RING_MIN_CAPACITY));
    ipcx_ring *rc, *rp;
    T_OK(ipcx_ring_open(rname, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &rc));
    t_track_shm(rname);
    ipcx_options_close(o);
    T_OK(ipcx_ring_open(rname, IPCX_OPEN_WRITE, NULL, &rp));
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_ring_recv(rc, buf, &len, 300));
    while (ipcx_ring_send(rp, buf, 100, IPCX_NOWAIT) == IPCX_OK) {
    }
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_ring_send(rp, buf, 100, 300));
    T_OK(ipcx_ring_close(rp));
    T_OK(ipcx_ring_close(rc));
    T_OK(ipcx_ring_remove(rname));
    /* Full queues. */
    while (ipcx_mq_send(mq, buf, 100, 0, IPCX_NOWAIT) == IPCX_OK) {
    }
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_mq_send(mq, buf, 100, 0, 300));
    do len = sizeof buf;
    while (ipcx_mq_recv(mq, buf, &len, IPCX_NOWAIT, NULL) == IPCX_OK);
    while (ipcx_msgq_send(mg, buf, 1000, 1, IPCX_NOWAIT) == IPCX_OK) {
    }
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_msgq_send(mg, buf, 1000, 1, 300));
    do len = sizeof buf;
    while (ipcx_msgq_recv(mg, buf, &len, 0, 0, IPCX_NOWAIT, NULL) == IPCX_OK);
    /* Waiting for a blocked signal that never comes while handled ones arrive. */
    ipcx_sigset usr2 = 0, oldmask = 0;
    T_OK(ipcx_sigset_add(&usr2, SIGUSR2));
    T_OK(ipcx_signal_block(usr2, &oldmask));
    ipcx_siginfo si = {.size = sizeof si};
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_signal_wait(usr2, 300, &si));
    T_OK(ipcx_signal_unblock(usr2, NULL));
    /* A send on a full pipe. */
    static uint8_t big[1000];
    while (ipcx_pipe_send(wr, big, sizeof big, IPCX_NOWAIT) == IPCX_OK) {
    }
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_pipe_send(wr, big, sizeof big, 300));
    do len = sizeof buf;
    while (ipcx_pipe_recv(rd, buf, &len, IPCX_NOWAIT) == IPCX_OK);
    /* A connect that completes while interrupted, an accept that gets it. */
    ipcx_sock *cl;
    T_OK(ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 2000, &cl));
    T_OK(ipcx_sock_accept(l, 2000, &acc));

    /* A thread that asked to be interrupted is. */
    ipcx_thread_set_interruptible(true);
    len = sizeof buf;
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_pipe_recv(rd, buf, &len, 5000));
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_sem_wait(sem, 5000));
    T_OK(ipcx_mutex_lock(m, 1000));
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_cond_wait(c, m, 5000));
    T_LAST_ERROR_HAS("interrupted");
    T_OK(ipcx_mutex_unlock(m)); /* held again after the interrupted wait */
    ipcx_thread_set_interruptible(false);

    /* Data under the storm (both sides interrupted): nothing lost or duplicated. */
    struct q qs[] = {
        {"pipe", wr, rd, pipe_send_, pipe_recv_},
        {"POSIX mq", mq, mq, mq_send_, mq_recv_},
        {"System V msq", mg, mg, msgq_send_, msgq_recv_},
        {"Unix stream", cl, acc, sock_send_, sock_recv_},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        pid_t p = producer(&qs[i], 100);
        consume(&qs[i], 100);
        t_wait_ok(p, 30000);
    }
    T_ASSERTF(hits > 1000, "only %d signals arrived: no storm", (int)hits);

    stop_storm(st);
    T_ASSERT(sigaction(SIGUSR1, &old, NULL) == 0);
    T_OK(ipcx_fifo_remove(fifo));
    T_OK(ipcx_sock_close(cl));
    T_OK(ipcx_sock_close(acc));
    T_OK(ipcx_sock_listener_close(l));
    T_OK(ipcx_semset_remove(set));
    T_OK(ipcx_semset_close(set));
    T_OK(ipcx_cond_destroy(c));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_sem_destroy(sem));
    T_OK(ipcx_cond_close(c));
    T_OK(ipcx_mutex_close(m));
    T_OK(ipcx_sem_close(sem));
    T_OK(ipcx_region_close(reg));
    T_OK(ipcx_msgq_remove(mg));
    T_OK(ipcx_msgq_close(mg));
    T_OK(ipcx_mq_close(mq));
    T_OK(ipcx_mq_remove(name));
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
}

T_MAIN(T_ENTRY(full_queues_time_out_and_keep_what_they_accepted),
       T_ENTRY(enospc_on_a_64k_dev_shm_is_a_limit_not_sigbus), T_ENTRY(emfile_names_rlimit_nofile),
       T_ENTRY(ipc_namespace_limits_are_named),
       T_ENTRY(eintr_storm_blocking_calls_resume_and_honour_timeouts))
