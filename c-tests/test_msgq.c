/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Message queues across fork: System V (keys, types as independent channels, msgrcv's
 * type rules, too-small buffers, timeouts by polling, stat, byte limit, removal while
 * blocked) and POSIX (names, depth and size limits, priorities, timeouts on the
 * monotonic clock, non-blocking mode, the pollable descriptor, arrival notification).
 * Every queue is tracked for cleanup right after it is created. */
#include "test.h"

#include <sys/ioctl.h>
#include "valgrind_env.h"

#include <limits.h>
#include <poll.h>

/* ---------------------------------------------------------------- helpers */

static int has_cap_sys_resource(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long eff = 0;
    T_ASSERT(f);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1) break;
    fclose(f);
    return (eff >> 24) & 1; /* CAP_SYS_RESOURCE */
}

static long proc_long(const char *path) {
    FILE *f = fopen(path, "r");
    long v = -1;
    T_ASSERT(f);
    T_ASSERT(fscanf(f, "%ld", &v) == 1);
    fclose(f);
    return v;
}

static ipcx_msgq *track_msgq(ipcx_msgq *q) {
    int32_t id = -1;
    T_OK(ipcx_msgq_id(q, &id));
    t_track_sysv_msq(id);
    return q;
}

/* A new private System V queue, tracked. */
static ipcx_msgq *new_private(const ipcx_options *o) {
    ipcx_msgq *q = NULL;
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, o, &q));
    return track_msgq(q);
}

static ipcx_msgq_info stat_of(ipcx_msgq *q) {
    ipcx_msgq_info i = {.size = sizeof i};
    T_OK(ipcx_msgq_stat(q, &i));
    return i;
}

/* Options with a POSIX queue's depth and message size (kept small: RLIMIT_MSGQUEUE is
 * shared by every test of the machine). */
static ipcx_options *mq_opts(size_t depth, size_t size) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    if (depth) T_OK(ipcx_options_set_max_messages(o, depth));
    if (size) T_OK(ipcx_options_set_max_message(o, size));
    return o;
}

/* Create a POSIX queue `name` (tracked) with depth and size, opened for both. */
static ipcx_mq *new_mq(char *name, size_t cap, const char *tag, size_t depth, size_t size,
                       uint32_t extra) {
    t_posix_name(name, cap, tag);
    t_track_mq(name);
    ipcx_options *o = mq_opts(depth, size);
    ipcx_mq *q = NULL;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE | extra,
                      o, &q));
    T_OK(ipcx_options_close(o));
    return q;
}

static ipcx_mq_info attr_of(ipcx_mq *q) {
    ipcx_mq_info a = {.size = sizeof a};
    T_OK(ipcx_mq_stat(q, &a));
    return a;
}

#define PRODUCERS 4
struct seqmsg {
    int producer;
    int seq;
    char pad[24];
};

static int poll_in(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, ms);
    T_ASSERT(n >= 0);
    return n > 0 && (p.revents & POLLIN);
}

static volatile sig_atomic_t got_sig;
static void on_sig(int s) {
    (void)s;
    got_sig++;
}

/* A handler without SA_RESTART for SIGUSR1, and a child that sends it to us every 20 ms
 * for 1.2 s. */
static pid_t signal_storm(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigemptyset(&sa.sa_mask);
    T_ASSERT(sigaction(SIGUSR1, &sa, NULL) == 0);
    pid_t parent = getpid();
    pid_t p = t_fork();
    if (p == 0) {
        for (int i = 0; i < 60; i++) {
            usleep(20000);
            kill(parent, SIGUSR1);
        }
        _exit(0);
    }
    return p;
}

/* One message of the many-producers tests: whole, from a known producer whose tag (type
 * or priority) matches, and next in that producer's order. */
static void check_next(int *next, const struct seqmsg *m, size_t len, long tag, long tag_base) {
    T_ASSERT(len == sizeof *m && m->producer >= 0 && m->producer < PRODUCERS);
    T_EQ_INT(tag, m->producer + tag_base);
    T_ASSERTF(m->seq == next[m->producer], "producer %d: got %d, expected %d", m->producer,
              m->seq, next[m->producer]);
    next[m->producer]++;
}

/* ================================================================ System V */

T_CASE(sysv_keys_and_open_flags) {
    char path[256], missing[300];
    t_path(path, sizeof path, "key");
    FILE *f = fopen(path, "w");
    T_ASSERT(f);
    fclose(f);
    int32_t k1 = 0, k2 = 0, k3 = 0;
    T_OK(ipcx_sysv_key(path, 'q', &k1));
    T_EQ_INT(k1, ftok(path, 'q')); /* the same key a C program gets */
    T_OK(ipcx_sysv_key(path, 'q', &k2));
    T_EQ_INT(k1, k2);
    T_OK(ipcx_sysv_key(path, 'r', &k3));
    T_ASSERT(k3 != k1);
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key(path, 0, &k3));
    T_LAST_ERROR_HAS("project id");
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key(path, 256, &k3));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key(NULL, 1, &k3));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("", 1, &k3));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key(path, 1, NULL));
    snprintf(missing, sizeof missing, "%s-missing", path);
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sysv_key(missing, 1, &k3));
    T_LAST_ERROR_HAS("ftok");

    /* Open-existing of a key nobody has. */
    ipcx_msgq *q = (ipcx_msgq *)1, *q2 = (ipcx_msgq *)1, *q3, *q4;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_msgq_open(k1, 0, NULL, &q));
    T_ASSERT(q == NULL);
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE");
    /* Create-exclusive with a mode, under a umask that would remove bits from it. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0640));
    mode_t old = umask(077);
    T_OK(ipcx_msgq_open(k1, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q));
    umask(old);
    track_msgq(q);
    int32_t id = -1, id2 = -1;
    T_OK(ipcx_msgq_id(q, &id));
    T_EQ_INT(msgget(k1, 0), id);
    ipcx_msgq_info info = stat_of(q);
    T_EQ_INT(info.mode, 0640);
    T_EQ_INT(info.key, k1);
    T_EQ_INT(info.id, id);
    T_EQ_INT(info.uid, getuid());
    T_EQ_INT(info.creator_uid, getuid());
    T_EQ_INT(info.max_bytes, proc_long("/proc/sys/kernel/msgmnb"));
    T_ERR(IPCX_ERR_EXISTS, ipcx_msgq_open(k1, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &q2));
    T_ASSERT(q2 == NULL);
    /* CREATE without EXCLUSIVE opens the existing queue and keeps its mode. */
    T_OK(ipcx_msgq_open(k1, IPCX_OPEN_CREATE, NULL, &q2));
    T_OK(ipcx_msgq_id(q2, &id2));
    T_EQ_INT(id2, id);
    T_EQ_INT(stat_of(q2).mode, 0640);
    T_OK(ipcx_msgq_open(k1, 0, NULL, &q3));
    /* What one handle sends, another receives. */
    T_OK(ipcx_msgq_send(q2, "via key", 7, 1, 1000));
    char buf[32];
    size_t len = sizeof buf;
    long t = 0;
    T_OK(ipcx_msgq_recv(q3, buf, &len, 0, 0, 1000, &t));
    T_ASSERT(len == 7 && memcmp(buf, "via key", 7) == 0 && t == 1);
    /* By id, as an unrelated process would. */
    T_OK(ipcx_msgq_open_id(id, &q4));
    T_OK(ipcx_msgq_send(q4, "by id", 5, 2, 1000));
    len = sizeof buf;
    T_OK(ipcx_msgq_recv(q, buf, &len, 2, 0, 1000, NULL));
    T_EQ_INT(len, 5);
    ipcx_msgq *q5 = (ipcx_msgq *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open_id(-1, &q5));
    T_ASSERT(q5 == NULL);
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_msgq_open_id(INT32_MAX, &q5));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open_id(id, NULL));
    /* Flags and options. */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open(k1, IPCX_OPEN_EXCLUSIVE, NULL, &q5));
    T_LAST_ERROR_HAS("IPCX_OPEN_EXCLUSIVE needs IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open(k1, 0x80, NULL, &q5));
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE and IPCX_OPEN_EXCLUSIVE"); /* the flags it takes */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open(k1, IPCX_OPEN_READ, NULL, &q5));
    /* The private key always makes a new queue: it needs IPCX_OPEN_CREATE (0.1 created
     * one without it). */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open(IPCX_KEY_PRIVATE, 0, NULL, &q5));
    T_LAST_ERROR_HAS("key IPCX_KEY_PRIVATE always makes a new message queue, so it needs "
                     "IPCX_OPEN_CREATE");
    T_ASSERT(q5 == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open(k1, IPCX_OPEN_CREATE, NULL, NULL));
    T_OK(ipcx_options_set_max_messages(o, 4));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_open(k1, IPCX_OPEN_CREATE, o, &q5));
    T_LAST_ERROR_HAS("max_messages");
    T_OK(ipcx_options_close(o));
    /* The default mode is 0600 exactly, whatever the umask. */
    old = umask(0);
    ipcx_msgq *p = new_private(NULL);
    umask(old);
    T_EQ_INT(stat_of(p).mode, 0600);
    T_EQ_INT(stat_of(p).key, IPCX_KEY_PRIVATE);
    /* Two private opens are two queues. */
    ipcx_msgq *p2 = new_private(NULL);
    int32_t pid1, pid2;
    T_OK(ipcx_msgq_id(p, &pid1));
    T_OK(ipcx_msgq_id(p2, &pid2));
    T_ASSERT(pid1 != pid2);
    T_OK(ipcx_msgq_remove(p));
    T_OK(ipcx_msgq_remove(p2));
    T_OK(ipcx_msgq_close(p));
    T_OK(ipcx_msgq_close(p2));
    /* Removal reaches every handle of the queue. */
    T_OK(ipcx_msgq_remove(q));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_send(q3, "x", 1, 1, 0));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_remove(q2));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_msgq_open(k1, 0, NULL, &q5));
    T_OK(ipcx_msgq_close(q));
    T_OK(ipcx_msgq_close(q2));
    T_OK(ipcx_msgq_close(q3));
    T_OK(ipcx_msgq_close(q4));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(sysv_receive_type_rules) {
    ipcx_msgq *q = new_private(NULL);
    const struct {
        long type;
        const char *text;
    } sent[] = {{5, "a"}, {3, "b"}, {7, "c"}, {3, "d"}, {1, "e"}, {9, "f"}, {2, "g"}};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        T_OK(ipcx_msgq_send(q, sent[i].text, 1, sent[i].type, IPCX_NOWAIT));
    const struct {
        long mtype;
        uint32_t flags;
        long want_type;
        char want;
    } steps[] = {
        {3, 0, 3, 'b'},                 /* > 0: the first of that type */
        {-4, 0, 1, 'e'},                /* < 0: the lowest type <= 4 ... */
        {-4, 0, 2, 'g'},                /* ... then the next lowest */
        {-4, 0, 3, 'd'},
        {5, IPCX_MSGQ_EXCEPT, 7, 'c'},  /* the first whose type is not 5 */
        {0, 0, 5, 'a'},                 /* 0: the first in the queue */
        {LONG_MIN, 0, 9, 'f'},          /* LONG_MIN means any type, lowest first */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char c = 0;
        size_t len = 1;
        long t = -1;
        T_OK(ipcx_msgq_recv(q, &c, &len, steps[i].mtype, steps[i].flags, IPCX_NOWAIT, &t));
        T_ASSERTF(c == steps[i].want && t == steps[i].want_type && len == 1,
                  "step %zu: got '%c' type %ld, want '%c' type %ld", i, c, t, steps[i].want,
                  steps[i].want_type);
    }
    char c;
    size_t len = 1;
    long t = 99;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_msgq_recv(q, &c, &len, 0, 0, IPCX_NOWAIT, &t));
    T_EQ_INT(t, 0); /* cleared on error */
    /* A type that is absent leaves the others alone. */
    T_OK(ipcx_msgq_send(q, "z", 1, 4, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_msgq_recv(q, &c, &len, 6, 0, IPCX_NOWAIT, NULL));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_msgq_recv(q, &c, &len, 4, IPCX_MSGQ_EXCEPT, IPCX_NOWAIT, NULL));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_msgq_recv(q, &c, &len, -3, 0, IPCX_NOWAIT, NULL));
    T_EQ_INT(stat_of(q).messages, 1);
    /* EXCEPT needs a type to exclude. */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, &c, &len, 0, IPCX_MSGQ_EXCEPT, IPCX_NOWAIT, NULL));
    T_LAST_ERROR_HAS("IPCX_MSGQ_EXCEPT");
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, &c, &len, -2, IPCX_MSGQ_EXCEPT, IPCX_NOWAIT, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, &c, &len, 0, 4, IPCX_NOWAIT, NULL));
    T_OK(ipcx_msgq_recv(q, &c, &len, 4, 0, IPCX_NOWAIT, NULL));
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

#define CHANNEL_MSGS 200

/* The seed: each type is an independent channel. Three readers each take only their
 * own type; while one channel is busy the others wait, and a message of a type nobody
 * reads stays queued. Readers report back on types 101..103 of the same queue. */
T_CASE(sysv_types_are_independent_channels) {
    ipcx_msgq *q = new_private(NULL);
    pid_t kids[3];
    for (int k = 1; k <= 3; k++) {
        kids[k - 1] = t_fork();
        if (kids[k - 1] == 0) {
            /* Reader 1 blocks in msgrcv (IPCX_FOREVER; the parent's t_wait bounds it);
             * readers 2 and 3 wait with a timeout (the polling path). */
            int64_t tmo = k == 1 ? IPCX_FOREVER : 20000;
            for (int i = 0; i < CHANNEL_MSGS; i++) {
                int v[2] = {-1, -1};
                size_t len = sizeof v;
                long t = 0;
                T_OK(ipcx_msgq_recv(q, v, &len, k, 0, tmo, &t));
                T_ASSERTF(t == k && len == sizeof v && v[0] == k && v[1] == i,
                          "reader %d got type %ld value (%d, %d) at %d", k, t, v[0], v[1], i);
            }
            T_OK(ipcx_msgq_send(q, "done", 4, 100 + k, 10000));
            T_OK(ipcx_msgq_close(q));
            _exit(0);
        }
    }
    usleep(50000); /* let the readers block */
    /* Channel 3 only, plus a message of a type nobody reads. */
    T_OK(ipcx_msgq_send(q, "nobody", 6, 50, 10000));
    for (int i = 0; i < CHANNEL_MSGS; i++) {
        int v[2] = {3, i};
        T_OK(ipcx_msgq_send(q, v, sizeof v, 3, 10000));
    }
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_msgq_recv(q, buf, &len, 103, 0, 20000, NULL));
    /* Readers 1 and 2 are still waiting: they took nothing, not even type 50. */
    int st;
    T_EQ_INT(waitpid(kids[0], &st, WNOHANG), 0);
    T_EQ_INT(waitpid(kids[1], &st, WNOHANG), 0);
    ipcx_msgq_info info = stat_of(q);
    T_EQ_INT(info.messages, 1);
    T_EQ_INT(info.bytes, 6);
    t_wait_ok(kids[2], 10000);
    /* Channels 1 and 2 interleaved: each reader gets its own, in order. */
    for (int i = 0; i < CHANNEL_MSGS; i++)
        for (int k = 1; k <= 2; k++) {
            int v[2] = {k, i};
            T_OK(ipcx_msgq_send(q, v, sizeof v, k, 10000));
        }
    for (int k = 1; k <= 2; k++) {
        len = sizeof buf;
        T_OK(ipcx_msgq_recv(q, buf, &len, 100 + k, 0, 20000, NULL));
        t_wait_ok(kids[k - 1], 10000);
    }
    len = sizeof buf;
    long t = 0;
    T_OK(ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, &t));
    T_ASSERT(t == 50 && len == 6 && memcmp(buf, "nobody", 6) == 0);
    T_EQ_INT(stat_of(q).messages, 0);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

T_CASE(sysv_producer_consumer_across_fork) {
    ipcx_msgq *q = new_private(NULL);
    int64_t before = (int64_t)time(NULL);
    pid_t p = t_fork();
    if (p == 0) {
        unsigned char buf[512];
        for (int i = 0; i < 1000; i++) {
            size_t n = (size_t)(i * 37) % sizeof buf;
            for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)(i + k);
            T_OK(ipcx_msgq_send(q, buf, n, (i % 3) + 1, 10000));
        }
        T_OK(ipcx_msgq_close(q));
        _exit(0);
    }
    unsigned char buf[512];
    for (int i = 0; i < 1000; i++) {
        size_t len = sizeof buf;
        long t = 0;
        T_OK(ipcx_msgq_recv(q, buf, &len, 0, 0, 10000, &t));
        T_EQ_INT(len, (size_t)(i * 37) % sizeof buf);
        T_EQ_INT(t, (i % 3) + 1);
        for (size_t k = 0; k < len; k++) T_ASSERT(buf[k] == (unsigned char)(i + k));
    }
    t_wait_ok(p, 20000);
    ipcx_msgq_info info = stat_of(q);
    T_EQ_INT(info.messages, 0);
    T_EQ_INT(info.bytes, 0);
    T_EQ_INT(info.last_send_pid, p);
    T_EQ_INT(info.last_recv_pid, getpid());
    T_ASSERT(info.last_send_time >= before && info.last_send_time <= (int64_t)time(NULL));
    T_ASSERT(info.last_recv_time >= info.last_send_time - 1);
    T_ASSERT(info.change_time >= before - 1);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

#define PER_PRODUCER 10000

/* 4 producers x 10k messages into one queue whose 16 KiB byte limit holds 512 of them:
 * producers wait on a full queue all the time. Nothing lost, nothing duplicated,
 * per-producer order kept. Producers 0-1 block (IPCX_FOREVER), 2-3 wait with a
 * timeout (the polling path). */
T_CASE(sysv_four_producers_ten_thousand_each) {
    ipcx_msgq *q = new_private(NULL);
    pid_t kids[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        kids[p] = t_fork();
        if (kids[p] == 0) {
            struct seqmsg m;
            memset(&m, 0, sizeof m);
            m.producer = p;
            for (int i = 0; i < PER_PRODUCER; i++) {
                m.seq = i;
                T_OK(ipcx_msgq_send(q, &m, sizeof m, p + 1, p < 2 ? IPCX_FOREVER : 20000));
            }
            T_OK(ipcx_msgq_close(q));
            _exit(0);
        }
    }
    int next[PRODUCERS] = {0};
    for (int n = 0; n < PRODUCERS * PER_PRODUCER; n++) {
        struct seqmsg m;
        size_t len = sizeof m;
        long t = 0;
        T_OK(ipcx_msgq_recv(q, &m, &len, 0, 0, 20000, &t));
        check_next(next, &m, len, t, 1);
    }
    for (int p = 0; p < PRODUCERS; p++) {
        T_EQ_INT(next[p], PER_PRODUCER);
        t_wait_ok(kids[p], 20000);
    }
    T_EQ_INT(stat_of(q).messages, 0);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

T_CASE(sysv_too_small_buffer_keeps_the_message) {
    ipcx_msgq *q = new_private(NULL);
    unsigned char big[300], buf[300];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 3);
    T_OK(ipcx_msgq_send(q, big, 100, 1, IPCX_NOWAIT));
    size_t len = 10;
    long t = 7;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, &t));
    T_EQ_INT(len, 100); /* the size needed */
    T_EQ_INT(t, 0);
    T_LAST_ERROR_HAS("stays queued");
    /* Even a blocking receive reports it at once. */
    len = 10;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_recv(q, buf, &len, 1, 0, IPCX_FOREVER, NULL));
    T_EQ_INT(len, 100);
    ipcx_msgq_info info = stat_of(q);
    T_EQ_INT(info.messages, 1);
    T_EQ_INT(info.bytes, 100);
    T_OK(ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, NULL));
    T_ASSERT(len == 100 && memcmp(buf, big, 100) == 0);
    /* The size is that of the message the selector chooses, not of the first one. */
    T_OK(ipcx_msgq_send(q, "small", 5, 1, IPCX_NOWAIT));
    T_OK(ipcx_msgq_send(q, big, 300, 2, IPCX_NOWAIT));
    T_OK(ipcx_msgq_send(q, big, 200, 3, IPCX_NOWAIT));
    len = 10;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_recv(q, buf, &len, 2, 0, IPCX_NOWAIT, NULL));
    T_EQ_INT(len, 300);
    len = 10;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_recv(q, buf, &len, 1, IPCX_MSGQ_EXCEPT, IPCX_NOWAIT, NULL));
    T_EQ_INT(len, 300);
    len = 10;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_recv(q, buf, &len, 3, 0, IPCX_NOWAIT, NULL));
    T_EQ_INT(len, 200);
    len = 10;
    T_OK(ipcx_msgq_recv(q, buf, &len, -5, 0, IPCX_NOWAIT, &t)); /* the small one fits */
    T_ASSERT(len == 5 && t == 1 && memcmp(buf, "small", 5) == 0);
    /* Truncation only when asked: the rest of the message is dropped. */
    len = 10;
    T_OK(ipcx_msgq_recv(q, buf, &len, 0, IPCX_MSGQ_TRUNCATE, IPCX_NOWAIT, &t));
    T_ASSERT(len == 10 && t == 2 && memcmp(buf, big, 10) == 0);
    len = 0;
    T_OK(ipcx_msgq_recv(q, NULL, &len, 3, IPCX_MSGQ_TRUNCATE, IPCX_NOWAIT, &t));
    T_ASSERT(len == 0 && t == 3);
    T_EQ_INT(stat_of(q).messages, 0);
    /* Zero-length messages are messages. */
    T_OK(ipcx_msgq_send(q, NULL, 0, 4, IPCX_NOWAIT));
    T_OK(ipcx_msgq_send(q, "12345", 5, 4, IPCX_NOWAIT));
    len = 0;
    T_OK(ipcx_msgq_recv(q, NULL, &len, 4, 0, IPCX_NOWAIT, &t));
    T_ASSERT(len == 0 && t == 4);
    len = 0;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_recv(q, NULL, &len, 4, 0, IPCX_NOWAIT, NULL));
    T_EQ_INT(len, 5);
    T_EQ_INT(stat_of(q).messages, 1);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

T_CASE(sysv_timeouts_and_a_full_queue) {
    ipcx_msgq *q = new_private(NULL);
    char buf[64] = {0}; /* sent below: initialised (memcheck) */
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, NULL));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_msgq_recv(q, buf, &len, 0, 0, 200, NULL));
    T_LAST_ERROR_HAS("no message of the requested type");
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 30, ipcx_msgq_recv(q, buf, &len, 5, 0, 30, NULL));
    /* A message that arrives while a timed receive waits is taken within a few ms. */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(150000);
        T_OK(ipcx_msgq_send(q, "late", 4, 1, 1000));
        _exit(0);
    }
    double t0 = t_now_ms();
    len = sizeof buf;
    T_OK(ipcx_msgq_recv(q, buf, &len, 1, 0, 5000, NULL));
    double el = t_now_ms() - t0;
    T_ASSERTF(el >= 100 && el < 1000, "timed receive took %.1f ms", el);
    t_wait_ok(p, 10000);
    /* A full queue: the byte limit is 64, two 32-byte messages fill it. */
    T_OK(ipcx_msgq_set_max_bytes(q, 64));
    int sent = 0;
    while (ipcx_msgq_send(q, buf, 32, 1, IPCX_NOWAIT) == IPCX_OK) sent++;
    T_EQ_INT(sent, 2);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_msgq_send(q, buf, 32, 1, IPCX_NOWAIT));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_msgq_send(q, buf, 32, 1, 150));
    T_LAST_ERROR_HAS("full");
    /* Room that appears while a timed send waits is used. */
    p = t_fork();
    if (p == 0) {
        usleep(150000);
        size_t l = sizeof buf;
        T_OK(ipcx_msgq_recv(q, buf, &l, 0, 0, 1000, NULL));
        _exit(0);
    }
    t0 = t_now_ms();
    T_OK(ipcx_msgq_send(q, buf, 32, 1, 5000));
    el = t_now_ms() - t0;
    T_ASSERTF(el >= 100 && el < 1000, "timed send took %.1f ms", el);
    t_wait_ok(p, 10000);
    T_EQ_INT(stat_of(q).messages, 2);
    /* Larger than the byte limit: could never be sent, so refused at once. */
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_send(q, buf, 65, 1, IPCX_FOREVER));
    T_LAST_ERROR_HAS("msg_qbytes (64");
    /* Larger than msgmax. */
    size_t msgmax = 0, msgmnb = 0;
    T_OK(ipcx_msgq_limits(&msgmax, &msgmnb, NULL));
    T_ASSERT(msgmax <= msgmnb);
    char *huge = calloc(1, msgmax + 1);
    T_ASSERT(huge);
    T_OK(ipcx_msgq_set_max_bytes(q, msgmnb));
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_msgq_send(q, huge, msgmax + 1, 1, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("/proc/sys/kernel/msgmax (");
    for (int i = 0; i < 2; i++) {
        len = sizeof buf;
        T_OK(ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, NULL));
        T_EQ_INT(len, 32);
    }
    T_OK(ipcx_msgq_send(q, huge, msgmax, 1, IPCX_NOWAIT)); /* exactly msgmax is fine */
    len = msgmax;
    T_OK(ipcx_msgq_recv(q, huge, &len, 0, 0, IPCX_NOWAIT, NULL));
    T_EQ_INT(len, msgmax);
    free(huge);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

/* Removing a queue wakes everyone blocked on it with IPCX_ERR_REMOVED: a reader blocked
 * in msgrcv (EIDRM), a reader waiting with a timeout (polling: EINVAL once the id is
 * gone), a writer blocked on a full queue. */
T_CASE(sysv_removed_while_blocked) {
    ipcx_msgq *q = new_private(NULL);
    T_OK(ipcx_msgq_set_max_bytes(q, 16));
    T_OK(ipcx_msgq_send(q, "0123456789abcdef", 16, 9, IPCX_NOWAIT)); /* full */
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            char buf[32];
            size_t len = sizeof buf;
            double t0 = t_now_ms();
            if (k == 0) T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_recv(q, buf, &len, 1, 0, IPCX_FOREVER,
                                                               NULL));
            if (k == 1) T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_recv(q, buf, &len, 1, 0, 30000, NULL));
            if (k == 2) T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_send(q, "x", 1, 2, IPCX_FOREVER));
            T_LAST_ERROR_HAS("removed");
            T_ASSERT(t_now_ms() - t0 >= 150); /* it really waited */
            T_OK(ipcx_msgq_close(q));
            _exit(0);
        }
    }
    usleep(250000);
    for (int k = 0; k < 3; k++) {
        int st;
        T_EQ_INT(waitpid(kids[k], &st, WNOHANG), 0); /* all still blocked */
    }
    T_OK(ipcx_msgq_remove(q));
    for (int k = 0; k < 3; k++) t_wait_ok(kids[k], 10000);
    char buf[32];
    size_t len = sizeof buf;
    ipcx_msgq_info info = {.size = sizeof info};
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_FOREVER, NULL));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_recv(q, buf, &len, 0, 0, 100, NULL));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_send(q, "x", 1, 1, 100));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_stat(q, &info));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_set_max_bytes(q, 100));
    T_ERR(IPCX_ERR_REMOVED, ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

T_CASE(sysv_stat_limits_and_byte_limit) {
    size_t msgmax = 0, msgmnb = 0, msgmni = 0;
    T_OK(ipcx_msgq_limits(&msgmax, &msgmnb, &msgmni));
    T_EQ_INT(msgmax, proc_long("/proc/sys/kernel/msgmax"));
    T_EQ_INT(msgmnb, proc_long("/proc/sys/kernel/msgmnb"));
    T_EQ_INT(msgmni, proc_long("/proc/sys/kernel/msgmni"));
    T_OK(ipcx_msgq_limits(NULL, NULL, NULL));
    ipcx_msgq *q = new_private(NULL);
    T_OK(ipcx_msgq_set_max_bytes(q, 1000));
    T_EQ_INT(stat_of(q).max_bytes, 1000);
    T_OK(ipcx_msgq_set_max_bytes(q, msgmnb)); /* back up to msgmnb is allowed */
    T_EQ_INT(stat_of(q).max_bytes, msgmnb);
    if (!has_cap_sys_resource()) {
        T_ERR(IPCX_ERR_LIMIT, ipcx_msgq_set_max_bytes(q, msgmnb + 1));
        T_LAST_ERROR_HAS("/proc/sys/kernel/msgmnb (");
        T_LAST_ERROR_HAS("CAP_SYS_RESOURCE");
        T_EQ_INT(stat_of(q).max_bytes, msgmnb);
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_set_max_bytes(q, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_stat(q, NULL));
    /* The capacity option sets the byte limit of a queue this call creates. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 2048));
    ipcx_msgq *c = new_private(o);
    T_EQ_INT(stat_of(c).max_bytes, 2048);
    if (!has_cap_sys_resource()) {
        T_OK(ipcx_options_set_capacity(o, msgmnb * 2));
        ipcx_msgq *c2 = (ipcx_msgq *)1;
        T_ERR(IPCX_ERR_LIMIT, ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, o, &c2));
        T_ASSERT(c2 == NULL); /* and the queue it created was removed again */
        T_LAST_ERROR_HAS("msgmnb");
    }
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_msgq_remove(c));
    T_OK(ipcx_msgq_close(c));
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

T_CASE(sysv_signals_interrupt_only_when_asked) {
    ipcx_msgq *q = new_private(NULL);
    pid_t p = signal_storm();
    char buf[8];
    size_t len = sizeof buf;
    /* Default: a timed wait rides out the signals and ends at its deadline. */
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_msgq_recv(q, buf, &len, 0, 0, 300, NULL));
    T_ASSERT(got_sig > 0);
    ipcx_thread_set_interruptible(true);
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_FOREVER, NULL));
    T_EQ_INT(ipcx_last_errno(), EINTR);
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_msgq_recv(q, buf, &len, 0, 0, 5000, NULL));
    ipcx_thread_set_interruptible(false);
    t_wait_ok(p, 10000);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
}

/* Root passes every permission check (CAP_IPC_OWNER): a child that becomes "nobody"
 * meets the queues' modes. */
static int become_nobody(void) { return setgid(65534) == 0 && setuid(65534) == 0; }

T_CASE(permissions_are_enforced) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0622)); /* others may write, not read */
    ipcx_msgq *q = new_private(o);
    ipcx_msgq *closed = new_private(NULL); /* 0600 */
    /* A queue with a key, 0600: opening it by key checks nothing either. */
    int32_t key = (int32_t)(0x3a000000 | (getpid() & 0xffffff));
    ipcx_msgq *keyed;
    T_OK(ipcx_msgq_open(key, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &keyed));
    track_msgq(keyed);
    int32_t id, closed_id;
    T_OK(ipcx_msgq_id(q, &id));
    T_OK(ipcx_msgq_id(closed, &closed_id));
    char name[128];
    ipcx_mq *mq = new_mq(name, sizeof name, "perm", 2, 16, 0); /* 0600 */
    pid_t p = t_fork();
    if (p == 0) {
        if (!become_nobody()) _exit(3); /* not root: nothing to test */
        ipcx_msgq *w, *c;
        char buf[16];
        size_t len = sizeof buf;
        ipcx_msgq_info info = {.size = sizeof info};
        T_OK(ipcx_msgq_open_id(id, &w)); /* write-only access still opens */
        T_OK(ipcx_msgq_send(w, "from nobody", 11, 1, 1000));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_recv(w, buf, &len, 0, 0, 0, NULL));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_stat(w, &info));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_set_max_bytes(w, 100));
        T_LAST_ERROR_HAS("owner");
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_remove(w));
        T_OK(ipcx_msgq_open_id(closed_id, &c));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_send(c, "x", 1, 1, 0));
        T_OK(ipcx_msgq_close(c));
        T_OK(ipcx_msgq_open(key, 0, NULL, &c));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_send(c, "x", 1, 1, 0));
        len = sizeof buf;
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_recv(c, buf, &len, 0, 0, 0, NULL));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_msgq_stat(c, &info));
        T_OK(ipcx_msgq_close(c));
        T_OK(ipcx_msgq_open(key, IPCX_OPEN_CREATE, NULL, &c));
        T_OK(ipcx_msgq_close(c));
        T_ERR(IPCX_ERR_EXISTS, ipcx_msgq_open(key, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                              &c));
        T_OK(ipcx_msgq_close(w));
        ipcx_mq *m = (ipcx_mq *)1;
        T_ERR(IPCX_ERR_PERMISSION, ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &m));
        T_ASSERT(m == NULL);
        T_ERR(IPCX_ERR_PERMISSION, ipcx_mq_remove(name));
        _exit(0);
    }
    int st = t_wait(p, 10000);
    T_ASSERTF(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3), "child failed");
    char buf[16];
    size_t len = sizeof buf;
    if (WEXITSTATUS(st) == 3) {
        printf("  (not root: permission checks not exercised)\n");
    } else {
        T_OK(ipcx_msgq_recv(q, buf, &len, 0, 0, 0, NULL));
        T_ASSERT(len == 11 && memcmp(buf, "from nobody", 11) == 0);
        T_EQ_INT(stat_of(q).last_send_pid, p);
    }
    T_EQ_INT(attr_of(mq).messages, 0);
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_remove(closed));
    T_OK(ipcx_msgq_remove(keyed));
    T_OK(ipcx_msgq_close(q));
    T_OK(ipcx_msgq_close(closed));
    T_OK(ipcx_msgq_close(keyed));
    T_OK(ipcx_mq_close(mq));
    T_OK(ipcx_mq_remove(name));
}

T_CASE(sysv_bad_input) {
    ipcx_msgq *q = new_private(NULL);
    char buf[16];
    size_t len = sizeof buf;
    int32_t id;
    ipcx_msgq_info info = {.size = sizeof info};
    /* Types must be > 0 on send. */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, "x", 1, 0, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("type > 0");
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, "x", 1, -3, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, NULL, 5, 1, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, buf, (size_t)SSIZE_MAX + 1, 1, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, "x", 1, 1, -2));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, buf, NULL, 0, 0, IPCX_NOWAIT, NULL));
    len = 5;
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, NULL, &len, 0, 0, IPCX_NOWAIT, NULL));
    len = (size_t)SSIZE_MAX + 1;
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, NULL));
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(q, buf, &len, 0, 0, -7, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_id(q, NULL));
    /* The info struct must say its size (0: forgotten); nothing is written then. */
    ipcx_msgq_info z = {.size = 0, .messages = 42};
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_stat(q, &z));
    T_LAST_ERROR_HAS("size");
    T_ASSERT(z.size == 0 && z.messages == 42);
    z.size = sizeof z - 8;
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_stat(q, &z));
    T_ASSERT(z.messages == 42);
    T_OK(ipcx_msgq_send(q, "1", 1, 1, 0));
    z.size = sizeof z;
    T_OK(ipcx_msgq_stat(q, &z));
    T_ASSERT(z.size == sizeof z && z.messages == 1);
    len = sizeof buf;
    T_OK(ipcx_msgq_recv(q, buf, &len, 0, 0, 0, NULL));
    /* NULL handles. */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(NULL, "x", 1, 1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_recv(NULL, buf, &len, 0, 0, 0, NULL));
    info.messages = 9;
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_stat(NULL, &info));
    T_EQ_INT(info.messages, 0); /* the failure values */
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_id(NULL, &id));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_set_max_bytes(NULL, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_remove(NULL));
    T_OK(ipcx_msgq_close(NULL));
    /* A handle of another type. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_send((ipcx_msgq *)o, "x", 1, 1, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_close((ipcx_msgq *)o));
    T_OK(ipcx_options_close(o));
    /* Closed handles, double close. */
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_close(q));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_send(q, "x", 1, 1, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_recv(q, buf, &len, 0, 0, 0, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_stat(q, &info));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_id(q, &id));
    T_EQ_INT(id, -1);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_set_max_bytes(q, 100));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_remove(q));
}

/* ================================================================ POSIX */

T_CASE(posix_names_flags_and_unlink) {
    const char *bad[] = {"", "noslash", "/", "/a/b", "/.", "/..", "//x"};
    ipcx_mq *q = (ipcx_mq *)1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(bad[i], IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, &q));
        T_ASSERT(q == NULL);
        T_ERR(IPCX_ERR_INVALID, ipcx_mq_remove(bad[i]));
    }
    char longname[400];
    longname[0] = '/';
    memset(longname + 1, 'x', 300);
    longname[301] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(longname, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, &q));
    T_LAST_ERROR_HAS("long");
    T_LAST_ERROR_HAS(longname); /* the message names the name */
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(NULL, IPCX_OPEN_READ, NULL, &q));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_remove(NULL));

    char name[128];
    t_posix_name(name, sizeof name, "names");
    t_track_mq(name);
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mq_open(name, IPCX_OPEN_READ, NULL, &q));
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mq_remove(name));
    ipcx_options *o = mq_opts(2, 32);
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_READ, o, &q)); /* sizes need CREATE */
    T_LAST_ERROR_HAS("only when creating");
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_CREATE, o, &q)); /* no direction */
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_EXCLUSIVE, NULL, &q));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_READ | 64, NULL, &q));
    T_LAST_ERROR_HAS("IPCX_OPEN_NONBLOCK"); /* the flags it takes */
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_READ | 0x10000, NULL, &q));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, NULL));
    ipcx_options *bad_opt;
    T_OK(ipcx_options_create(&bad_opt));
    T_OK(ipcx_options_set_capacity(bad_opt, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE, bad_opt, &q));
    T_LAST_ERROR_HAS("capacity");
    T_OK(ipcx_options_close(bad_opt));

    ipcx_mq *w, *r;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &w));
    T_ERR(IPCX_ERR_EXISTS, ipcx_mq_open(name, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q));
    T_ASSERT(q == NULL);
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, &r)); /* opens the existing one */
    T_EQ_INT(attr_of(r).message_size, 32);
    T_OK(ipcx_options_close(o));
    /* Unlinked: open handles keep working, the name is gone. */
    T_OK(ipcx_mq_remove(name));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mq_remove(name));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mq_open(name, IPCX_OPEN_READ, NULL, &q));
    T_OK(ipcx_mq_send(w, "still", 5, 1, 1000));
    char buf[32];
    size_t len = sizeof buf;
    T_OK(ipcx_mq_recv(r, buf, &len, 1000, NULL));
    T_ASSERT(len == 5 && memcmp(buf, "still", 5) == 0);
    /* Direction is enforced. */
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_send(r, "x", 1, 0, 0));
    T_LAST_ERROR_HAS("not opened for writing");
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_recv(w, buf, &len, 0, NULL));
    T_LAST_ERROR_HAS("not opened for reading");
    T_OK(ipcx_mq_close(w));
    T_OK(ipcx_mq_close(r));
}

/* Names as long as the kernel allows (a slash and 255 bytes, as Python's posix_ipc makes
 * them) work both ways between ipcx and mq_open; one byte more is refused, naming the name.
 * The names are too long for the harness's resource table: the body runs in a child and
 * this process removes them whatever happened. */
T_CASE(posix_names_of_the_kernels_length) {
    T_EQ_INT(IPCX_MQ_NAME_MAX, 256);
    char by_ipcx[IPCX_MQ_NAME_MAX + 2], by_raw[IPCX_MQ_NAME_MAX + 2];
    const char *tags[2] = {"mqmax-a", "mqmax-b"};
    char *names[2] = {by_ipcx, by_raw};
    for (int k = 0; k < 2; k++) {
        t_posix_name(names[k], IPCX_MQ_NAME_MAX + 1, tags[k]);
        size_t n = strlen(names[k]);
        memset(names[k] + n, 'q', IPCX_MQ_NAME_MAX - n);
        names[k][IPCX_MQ_NAME_MAX] = 0;
    }
    pid_t p = t_fork();
    if (p == 0) {
        struct mq_attr at = {.mq_maxmsg = 2, .mq_msgsize = 16};
        /* Created through ipcx, opened by mq_open. */
        ipcx_options *o = mq_opts(2, 16);
        ipcx_mq *q;
        T_OK(ipcx_mq_open(by_ipcx, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q));
        T_OK(ipcx_options_close(o));
        T_OK(ipcx_mq_send(q, "long", 4, 1, 0));
        mqd_t raw = mq_open(by_ipcx, O_RDONLY);
        T_ASSERT(raw != (mqd_t)-1);
        char buf[16];
        T_ASSERT(mq_receive(raw, buf, sizeof buf, NULL) == 4 && memcmp(buf, "long", 4) == 0);
        mq_close(raw);
        T_OK(ipcx_mq_close(q));
        /* Created by mq_open, opened through ipcx. */
        raw = mq_open(by_raw, O_WRONLY | O_CREAT | O_EXCL, 0600, &at);
        T_ASSERT(raw != (mqd_t)-1);
        T_ASSERT(mq_send(raw, "raw!", 4, 3) == 0);
        mq_close(raw);
        T_OK(ipcx_mq_open(by_raw, IPCX_OPEN_READ, NULL, &q));
        size_t len = sizeof buf;
        uint32_t prio = 0;
        T_OK(ipcx_mq_recv(q, buf, &len, 0, &prio));
        T_ASSERT(len == 4 && memcmp(buf, "raw!", 4) == 0 && prio == 3);
        T_OK(ipcx_mq_close(q));
        /* One byte more: refused, naming the name. */
        char longer[IPCX_MQ_NAME_MAX + 2];
        memcpy(longer, by_ipcx, IPCX_MQ_NAME_MAX);
        longer[IPCX_MQ_NAME_MAX] = 'z';
        longer[IPCX_MQ_NAME_MAX + 1] = 0;
        q = (ipcx_mq *)1;
        T_ERR(IPCX_ERR_INVALID, ipcx_mq_open(longer, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, &q));
        T_ASSERT(q == NULL);
        T_LAST_ERROR_HAS(longer);
        T_LAST_ERROR_HAS("257 bytes long, the limit is 256");
        T_ERR(IPCX_ERR_INVALID, ipcx_mq_remove(longer));
        /* Removal by the other side. The raw call leaves ipcx's record of the object it
         * created behind; a removal through the inspect API says so and forgets it. */
        T_ASSERT(mq_unlink(by_ipcx) == 0);
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_remove(IPCX_OBJECT_POSIX_MQ, by_ipcx, 0));
        T_LAST_ERROR_HAS("its ipcx record, left behind, was removed");
        T_OK(ipcx_mq_remove(by_raw));
        _exit(0);
    }
    int st = t_wait(p, 20000);
    int left = (mq_unlink(by_ipcx) == 0) + (mq_unlink(by_raw) == 0);
    T_ASSERTF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status %#x)", st);
    T_EQ_INT(left, 0);
}

T_CASE(posix_attributes_mode_and_limits) {
    char name[128];
    t_posix_name(name, sizeof name, "attr");
    t_track_mq(name);
    ipcx_options *o = mq_opts(4, 128);
    T_OK(ipcx_options_set_mode(o, 0640));
    mode_t old = umask(077);
    ipcx_mq *q;
    T_OK(ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, o, &q));
    umask(old);
    T_OK(ipcx_options_close(o));
    ipcx_mq_info a = attr_of(q);
    T_ASSERT(a.max_messages == 4 && a.message_size == 128 && a.messages == 0 && !a.nonblocking);
    int fd = -1;
    T_OK(ipcx_mq_fd(q, &fd));
    struct stat st;
    T_ASSERT(fstat(fd, &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0640); /* exactly, despite the umask */
    T_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    T_OK(ipcx_mq_send(q, "m", 1, 0, 0));
    T_EQ_INT(attr_of(q).messages, 1);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));

    /* Default mode 0600; a depth alone takes the default message size, and the reverse. */
    ipcx_mq *d = new_mq(name, sizeof name, "dflt", 2, 0, 0);
    T_OK(ipcx_mq_fd(d, &fd));
    T_ASSERT(fstat(fd, &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0600);
    a = attr_of(d);
    T_EQ_INT(a.max_messages, 2);
    T_EQ_INT(a.message_size, proc_long("/proc/sys/fs/mqueue/msgsize_default"));
    T_OK(ipcx_mq_close(d));
    T_OK(ipcx_mq_remove(name));
    d = new_mq(name, sizeof name, "dflt2", 0, 64, 0);
    a = attr_of(d);
    T_EQ_INT(a.max_messages, proc_long("/proc/sys/fs/mqueue/msg_default"));
    T_EQ_INT(a.message_size, 64);
    T_OK(ipcx_mq_close(d));
    T_OK(ipcx_mq_remove(name));

    /* Above the system limits: a clear error naming the file and its value. */
    if (!has_cap_sys_resource()) {
        char want[128];
        long msg_max = proc_long("/proc/sys/fs/mqueue/msg_max");
        long size_max = proc_long("/proc/sys/fs/mqueue/msgsize_max");
        t_posix_name(name, sizeof name, "limit");
        t_track_mq(name);
        o = mq_opts((size_t)msg_max + 1, 16);
        q = (ipcx_mq *)1;
        T_ERR(IPCX_ERR_LIMIT, ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &q));
        T_ASSERT(q == NULL);
        snprintf(want, sizeof want, "/proc/sys/fs/mqueue/msg_max (%ld)", msg_max);
        T_LAST_ERROR_HAS(want);
        T_OK(ipcx_options_close(o));
        o = mq_opts(2, (size_t)size_max + 1);
        T_ERR(IPCX_ERR_LIMIT, ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE, o, &q));
        snprintf(want, sizeof want, "/proc/sys/fs/mqueue/msgsize_max (%ld)", size_max);
        T_LAST_ERROR_HAS(want);
        T_OK(ipcx_options_close(o));
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mq_remove(name)); /* nothing was created */
    }
    ipcx_options *z;
    T_OK(ipcx_options_create(&z));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_max_messages(z, 0));
    T_OK(ipcx_options_close(z));
}

T_CASE(posix_priorities) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "prio", 8, 16, 0);
    const struct {
        unsigned prio;
        const char *text;
    } sent[] = {{1, "a"}, {5, "b"}, {3, "c"}, {5, "d"}, {0, "e"}, {IPCX_MQ_PRIO_MAX - 1, "f"}};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        T_OK(ipcx_mq_send(q, sent[i].text, 1, sent[i].prio, IPCX_NOWAIT));
    const char *order = "fbdcae";
    const unsigned prios[] = {IPCX_MQ_PRIO_MAX - 1, 5, 5, 3, 1, 0};
    for (int i = 0; i < 6; i++) {
        char buf[16];
        size_t len = sizeof buf;
        uint32_t prio = 12345;
        T_OK(ipcx_mq_recv(q, buf, &len, IPCX_NOWAIT, &prio));
        T_ASSERTF(len == 1 && buf[0] == order[i] && prio == prios[i], "got '%c' prio %u at %d",
                  buf[0], prio, i);
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_send(q, "x", 1, IPCX_MQ_PRIO_MAX, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("MQ_PRIO_MAX");
    T_EQ_INT(attr_of(q).messages, 0);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

T_CASE(posix_producer_consumer_across_fork) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "pc", 4, 256, 0);
    pid_t p = t_fork();
    if (p == 0) {
        /* The inherited handle for half, a fresh open by name for the rest. */
        ipcx_mq *w;
        T_OK(ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &w));
        unsigned char buf[256];
        for (int i = 0; i < 1000; i++) {
            size_t n = (size_t)(i * 41) % 257;
            for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)(i ^ k);
            T_OK(ipcx_mq_send(i % 2 ? w : q, buf, n, 0, 10000));
        }
        T_OK(ipcx_mq_close(w));
        T_OK(ipcx_mq_close(q));
        _exit(0);
    }
    unsigned char buf[256];
    for (int i = 0; i < 1000; i++) {
        size_t len = sizeof buf;
        T_OK(ipcx_mq_recv(q, buf, &len, 10000, NULL));
        T_EQ_INT(len, (size_t)(i * 41) % 257);
        for (size_t k = 0; k < len; k++) T_ASSERT(buf[k] == (unsigned char)(i ^ k));
    }
    t_wait_ok(p, 20000);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

/* 4 producers x 10k messages through a queue 8 deep: producers wait on a full queue all
 * the time. Producers 0-1 block (IPCX_FOREVER), 2-3 wait with a timeout (ppoll). */
T_CASE(posix_four_producers_ten_thousand_each) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "four", 8, sizeof(struct seqmsg), 0);
    pid_t kids[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        kids[p] = t_fork();
        if (kids[p] == 0) {
            ipcx_mq *w;
            T_OK(ipcx_mq_close(q));
            T_OK(ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &w));
            struct seqmsg m;
            memset(&m, 0, sizeof m);
            m.producer = p;
            for (int i = 0; i < PER_PRODUCER; i++) {
                m.seq = i;
                T_OK(ipcx_mq_send(w, &m, sizeof m, (unsigned)p, p < 2 ? IPCX_FOREVER : 20000));
            }
            T_OK(ipcx_mq_close(w));
            _exit(0);
        }
    }
    int next[PRODUCERS] = {0};
    for (int n = 0; n < PRODUCERS * PER_PRODUCER; n++) {
        struct seqmsg m;
        size_t len = sizeof m;
        uint32_t prio = 99;
        T_OK(ipcx_mq_recv(q, &m, &len, 20000, &prio));
        check_next(next, &m, len, prio, 0);
    }
    for (int p = 0; p < PRODUCERS; p++) {
        T_EQ_INT(next[p], PER_PRODUCER);
        t_wait_ok(kids[p], 20000);
    }
    T_EQ_INT(attr_of(q).messages, 0);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

T_CASE(posix_timeouts_full_queue_and_small_buffers) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "tmo", 2, 64, 0);
    char buf[64];
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_mq_recv(q, buf, &len, IPCX_NOWAIT, NULL));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_mq_recv(q, buf, &len, 200, NULL));
    T_LAST_ERROR_HAS("the queue is empty");
    /* A message that arrives during a timed receive wakes it at once. */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(150000);
        T_OK(ipcx_mq_send(q, "late", 4, 2, 1000));
        _exit(0);
    }
    double t0 = t_now_ms();
    uint32_t prio = 0;
    T_OK(ipcx_mq_recv(q, buf, &len, 5000, &prio));
    double el = t_now_ms() - t0;
    T_ASSERTF(el >= 100 && el < 1000, "timed receive took %.1f ms", el);
    T_ASSERT(len == 4 && prio == 2);
    t_wait_ok(p, 10000);
    /* Full: two messages fill a queue of depth 2. */
    T_OK(ipcx_mq_send(q, "1", 1, 0, IPCX_NOWAIT));
    T_OK(ipcx_mq_send(q, "2", 1, 0, IPCX_NOWAIT));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_mq_send(q, "3", 1, 0, IPCX_NOWAIT));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_mq_send(q, "3", 1, 0, 150));
    T_LAST_ERROR_HAS("the queue is full");
    p = t_fork();
    if (p == 0) {
        usleep(150000);
        size_t l = sizeof buf;
        T_OK(ipcx_mq_recv(q, buf, &l, 1000, NULL));
        _exit(0);
    }
    t0 = t_now_ms();
    T_OK(ipcx_mq_send(q, "3", 1, 0, 5000));
    el = t_now_ms() - t0;
    T_ASSERTF(el >= 100 && el < 1000, "timed send took %.1f ms", el);
    t_wait_ok(p, 10000);
    T_EQ_INT(attr_of(q).messages, 2);
    /* A receive buffer must hold the queue's message size (a POSIX rule). */
    len = 63;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_mq_recv(q, buf, &len, IPCX_FOREVER, &prio));
    T_EQ_INT(len, 64);
    T_EQ_INT(prio, 0);
    T_LAST_ERROR_HAS("mq_msgsize");
    T_EQ_INT(attr_of(q).messages, 2); /* nothing consumed */
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_mq_send(q, buf, 65, 0, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("mq_msgsize (64)");
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, 0, NULL));
    T_OK(ipcx_mq_send(q, NULL, 0, 0, 0)); /* zero-length messages are valid */
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, 0, NULL));
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, 0, NULL));
    T_EQ_INT(len, 0);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

T_CASE(posix_nonblocking_mode) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "nb", 1, 16, IPCX_OPEN_NONBLOCK);
    T_ASSERT(attr_of(q).nonblocking);
    char buf[16];
    size_t len = sizeof buf;
    /* Non-blocking mode ignores the timeout, as mq_timedreceive does. */
    double t0 = t_now_ms();
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_mq_recv(q, buf, &len, 2000, NULL));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_mq_recv(q, buf, &len, IPCX_FOREVER, NULL));
    T_LAST_ERROR_HAS("non-blocking");
    T_OK(ipcx_mq_send(q, "a", 1, 0, IPCX_FOREVER));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_mq_send(q, "b", 1, 0, 2000));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_mq_send(q, "b", 1, 0, IPCX_FOREVER));
    T_ASSERT(t_now_ms() - t0 < 500);
    /* The mode lives in the open file description: a forked child sharing it sees a
     * change its parent makes. */
    T_OK(ipcx_mq_set_nonblocking(q, false));
    T_ASSERT(!attr_of(q).nonblocking);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_mq_send(q, "b", 1, 0, 100));
    pid_t p = t_fork();
    if (p == 0) {
        T_ASSERT(!attr_of(q).nonblocking);
        usleep(200000); /* the parent switches it on meanwhile */
        T_ASSERT(attr_of(q).nonblocking);
        T_OK(ipcx_mq_close(q));
        _exit(0);
    }
    usleep(50000);
    T_OK(ipcx_mq_set_nonblocking(q, true));
    t_wait_ok(p, 10000);
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, IPCX_NOWAIT, NULL));
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

T_CASE(posix_descriptor_is_pollable) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "poll", 1, 16, 0);
    int fd = -1;
    T_OK(ipcx_mq_fd(q, &fd));
    T_ASSERT(fd >= 0);
    T_ASSERT(!poll_in(fd, 0));
    struct pollfd out = {fd, POLLOUT, 0};
    T_EQ_INT(poll(&out, 1, 0), 1); /* room */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(100000);
        T_OK(ipcx_mq_send(q, "ping", 4, 0, 1000));
        _exit(0);
    }
    T_ASSERT(poll_in(fd, 5000));
    out.revents = 0;
    T_EQ_INT(poll(&out, 1, 0), 0); /* full now */
    char buf[16];
    size_t len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, IPCX_NOWAIT, NULL));
    T_ASSERT(len == 4 && memcmp(buf, "ping", 4) == 0);
    t_wait_ok(p, 10000);
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_fd(q, NULL));
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

/* Event loops switch the descriptors they watch to non-blocking (libuv's uv_poll_init and
 * Boost.Asio's waits: ioctl FIONBIO). The descriptor ipcx_mq_fd lends has an open file
 * description of its own: the switch leaves the queue's mode alone, so timed calls still
 * wait, in this process and in a forked child, while the descriptor still tells when a
 * message is there. */
T_CASE(posix_descriptor_switched_to_nonblocking_by_a_loop) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "fionbio", 1, 16, 0);
    int fd = -1, again = -1;
    T_OK(ipcx_mq_fd(q, &fd));
    T_OK(ipcx_mq_fd(q, &again));
    T_EQ_INT(again, fd); /* one descriptor per handle */
    T_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int on = 1;
    T_ASSERT(ioctl(fd, FIONBIO, &on) == 0);
    T_ASSERT(fcntl(fd, F_GETFL) & O_NONBLOCK);
    T_ASSERT(!attr_of(q).nonblocking);
    char buf[16];
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_mq_recv(q, buf, &len, 150, NULL));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_mq_send(q, "a", 1, 0, 1000));
        /* Full: the child's timed send waits too. */
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_mq_send(q, "b", 1, 0, 150));
        _exit(0);
    }
    T_ASSERT(poll_in(fd, 5000));
    t_wait_ok(p, 10000);
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, IPCX_NOWAIT, NULL));
    T_ASSERT(len == 1 && buf[0] == 'a');
    /* ipcx's own non-blocking mode is still the queue's, and still reaches every call. */
    T_OK(ipcx_mq_set_nonblocking(q, true));
    double t0 = t_now_ms();
    len = sizeof buf;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_mq_recv(q, buf, &len, 2000, NULL));
    T_ASSERT(t_now_ms() - t0 < 1000);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

/* Arrival notification as a readable descriptor: one-shot, only on an empty queue,
 * one registered process at a time, cancellable. */
T_CASE(posix_notification_descriptor) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "notify", 4, 16, 0);
    int nfd = -1, nfd2 = -1;
    T_OK(ipcx_mq_notify(q, &nfd));
    T_ASSERT(nfd >= 0);
    T_ASSERT(fcntl(nfd, F_GETFD) & FD_CLOEXEC);
    T_ASSERT(!poll_in(nfd, 0));
    T_OK(ipcx_mq_notify(q, &nfd2)); /* armed already: nothing changes */
    T_EQ_INT(nfd2, nfd);
    /* Another process cannot register while we are, and a child cannot use the
     * notification of a handle it inherited. */
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_mq *c;
        int cfd;
        T_ERR(IPCX_ERR_INVALID, ipcx_mq_notify(q, &cfd));
        T_LAST_ERROR_HAS("inherited across fork");
        T_ERR(IPCX_ERR_INVALID, ipcx_mq_notify_cancel(q));
        T_OK(ipcx_mq_open(name, IPCX_OPEN_WRITE, NULL, &c));
        T_ERR(IPCX_ERR_IN_USE, ipcx_mq_notify(c, &cfd));
        T_EQ_INT(cfd, -1);
        usleep(100000);
        T_OK(ipcx_mq_send(c, "first", 5, 0, 1000)); /* arrives on an empty queue */
        T_OK(ipcx_mq_close(c));
        _exit(0);
    }
    T_ASSERT(poll_in(nfd, 5000));
    t_wait_ok(p, 10000);
    /* Re-arm first (this consumes the event), then drain. */
    T_OK(ipcx_mq_notify(q, &nfd2));
    T_EQ_INT(nfd2, nfd);
    T_ASSERT(!poll_in(nfd, 0));
    /* The queue is not empty: a second message does not notify. */
    T_OK(ipcx_mq_send(q, "second", 6, 0, 0));
    T_ASSERT(!poll_in(nfd, 100));
    char buf[16];
    size_t len;
    int got = 0;
    for (;;) {
        len = sizeof buf;
        int s = ipcx_mq_recv(q, buf, &len, IPCX_NOWAIT, NULL);
        if (s == IPCX_ERR_TIMEOUT) break;
        T_OK(s);
        got++;
    }
    T_EQ_INT(got, 2);
    /* Empty again and still armed: the next message notifies. */
    T_OK(ipcx_mq_send(q, "third", 5, 0, 0));
    T_ASSERT(poll_in(nfd, 5000));
    /* Fired, so disarmed: cancel has nothing to cancel but consumes the event. */
    T_OK(ipcx_mq_notify_cancel(q));
    T_ASSERT(!poll_in(nfd, 0));
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, 0, NULL));
    /* Cancelled while armed: no event, and another process may register. */
    T_OK(ipcx_mq_notify(q, &nfd));
    T_OK(ipcx_mq_notify_cancel(q));
    T_OK(ipcx_mq_send(q, "fourth", 6, 0, 0));
    T_ASSERT(!poll_in(nfd, 100));
    p = t_fork();
    if (p == 0) {
        ipcx_mq *c;
        int cfd;
        T_OK(ipcx_mq_open(name, IPCX_OPEN_READ, NULL, &c));
        T_OK(ipcx_mq_notify(c, &cfd));
        T_OK(ipcx_mq_close(c)); /* closing cancels it */
        _exit(0);
    }
    t_wait_ok(p, 10000);
    len = sizeof buf;
    T_OK(ipcx_mq_recv(q, buf, &len, 0, NULL));
    T_OK(ipcx_mq_notify(q, &nfd)); /* free again after the child closed */
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_notify(q, NULL));
    T_OK(ipcx_mq_close(q)); /* closes the notification descriptor too */
    T_OK(ipcx_mq_remove(name));
}

T_CASE(posix_signals_interrupt_only_when_asked) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "sig", 1, 16, 0);
    pid_t p = signal_storm();
    char buf[16];
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_mq_recv(q, buf, &len, 300, NULL));
    T_ASSERT(got_sig > 0);
    ipcx_thread_set_interruptible(true);
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_mq_recv(q, buf, &len, IPCX_FOREVER, NULL));
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_mq_recv(q, buf, &len, 5000, NULL));
    ipcx_thread_set_interruptible(false);
    t_wait_ok(p, 10000);
    T_OK(ipcx_mq_close(q));
    T_OK(ipcx_mq_remove(name));
}

T_CASE(posix_bad_input) {
    char name[128];
    ipcx_mq *q = new_mq(name, sizeof name, "bad", 1, 16, 0);
    char buf[16];
    size_t len = sizeof buf;
    ipcx_mq_info a = {.size = sizeof a};
    int fd;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_send(q, NULL, 3, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_send(q, buf, (size_t)SSIZE_MAX + 1, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_send(q, "x", 1, 0, -2));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_recv(q, buf, NULL, 0, NULL));
    len = 16;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_recv(q, NULL, &len, 0, NULL));
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_recv(q, buf, &len, -9, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_stat(q, NULL));
    ipcx_mq_info z = {.size = 0, .message_size = 42};
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_stat(q, &z));
    T_LAST_ERROR_HAS("size");
    T_ASSERT(z.size == 0 && z.message_size == 42);
    z.size = 4;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_stat(q, &z));
    T_ASSERT(z.message_size == 42);
    /* NULL handles. */
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_send(NULL, "x", 1, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_recv(NULL, buf, &len, 0, NULL));
    a.max_messages = 5;
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_stat(NULL, &a));
    T_EQ_INT(a.max_messages, 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_set_nonblocking(NULL, true));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_fd(NULL, &fd));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_notify(NULL, &fd));
    T_ERR(IPCX_ERR_INVALID, ipcx_mq_notify_cancel(NULL));
    T_OK(ipcx_mq_close(NULL));
    /* A System V handle is not a POSIX one, and the reverse. */
    ipcx_msgq *sv = new_private(NULL);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_send((ipcx_mq *)sv, "x", 1, 0, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_msgq_send((ipcx_msgq *)q, "x", 1, 1, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_close((ipcx_mq *)sv));
    T_OK(ipcx_msgq_remove(sv));
    T_OK(ipcx_msgq_close(sv));
    /* Closed handles, double close. */
    T_OK(ipcx_mq_close(q));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_close(q));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_send(q, "x", 1, 0, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_recv(q, buf, &len, 0, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_stat(q, &a));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_set_nonblocking(q, false));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_fd(q, &fd));
    T_EQ_INT(fd, -1);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_notify(q, &fd));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mq_notify_cancel(q));
    T_OK(ipcx_mq_remove(name));
}

T_MAIN(T_ENTRY(sysv_keys_and_open_flags), T_ENTRY(sysv_receive_type_rules),
       T_ENTRY(sysv_types_are_independent_channels), T_ENTRY(sysv_producer_consumer_across_fork),
       T_ENTRY(sysv_four_producers_ten_thousand_each), T_ENTRY(sysv_too_small_buffer_keeps_the_message),
       T_ENTRY(sysv_timeouts_and_a_full_queue), T_ENTRY(sysv_removed_while_blocked),
       T_ENTRY(sysv_stat_limits_and_byte_limit), T_ENTRY(sysv_signals_interrupt_only_when_asked),
       T_ENTRY(sysv_bad_input), T_ENTRY(permissions_are_enforced),
       T_ENTRY(posix_names_flags_and_unlink), T_ENTRY(posix_names_of_the_kernels_length),
       T_ENTRY(posix_attributes_mode_and_limits), T_ENTRY(posix_priorities),
       T_ENTRY(posix_producer_consumer_across_fork), T_ENTRY(posix_four_producers_ten_thousand_each),
       T_ENTRY(posix_timeouts_full_queue_and_small_buffers), T_ENTRY(posix_nonblocking_mode),
       T_ENTRY(posix_descriptor_is_pollable),
       T_ENTRY(posix_descriptor_switched_to_nonblocking_by_a_loop), T_ENTRY(posix_notification_descriptor),
       T_ENTRY(posix_signals_interrupt_only_when_asked), T_ENTRY(posix_bad_input))
