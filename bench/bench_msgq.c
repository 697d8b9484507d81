/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Message queue benchmark: ipcx against raw msgsnd/msgrcv and mq_send/mq_receive, in
 * the same run.
 *
 * For each placement (parent CPU0 and child CPU1, then both on CPU0) and each kind
 * (System V, POSIX):
 *   - round trip of a 64-byte message (System V: one queue, request type 1, reply
 *     type 2; POSIX: a request queue and a reply queue);
 *   - one-way throughput of 64 B and 8 KiB messages (the largest default size: msgmax
 *     and msgsize_max are 8192), child sends, parent receives and checks a sequence
 *     number in every message. Queues have the default limits (System V 16 KiB
 *     msg_qbytes; POSIX depth 10), so senders block on a full queue.
 * Variants: raw (the system calls, blocking), ipcx (IPCX_FOREVER: the same calls),
 * ipcx-timed (a 10 s timeout on every call: System V polls with IPC_NOWAIT and a
 * 50 us..2 ms backoff; POSIX tries with an epoch deadline and waits with ppoll).
 * Runs alternate raw/ipcx/ipcx-timed; medians over runs, min-max, ratio to raw.
 *
 * Then the cost of timed waits: wake-up latency after a message arrives while the
 * receiver waits (blocking vs timed), and what a timed wait on an empty queue costs per
 * second (wake-ups counted as voluntary context switches, CPU time).
 *
 *   bench_msgq [runs]        (default 7)
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bench.h"
#include "ipcx.h"

enum kind { SYSV, POSIX };
enum variant { RAW, IPCX, IPCX_TIMED, NVAR };
static const char *const variant_name[NVAR] = {"raw", "ipcx", "ipcx-timed"};
#define BIG 8192
#define TIMED_MS 10000

struct rawmsg {
    long mtype;
    char mtext[BIG];
};

/* One benchmark's queues, in the form the variant uses. */
struct qs {
    enum kind k;
    enum variant v;
    int id;                 /* System V: one queue */
    ipcx_msgq *sq;
    char name[2][64];       /* POSIX: [0] parent->child, [1] child->parent */
    mqd_t mq[2];
    ipcx_mq *pq[2];
};

static int64_t tmo(enum variant v) { return v == IPCX_TIMED ? TIMED_MS : IPCX_FOREVER; }

static void setup(struct qs *q, enum kind k, enum variant v, size_t msgsize) {
    memset(q, 0, sizeof *q);
    q->k = k;
    q->v = v;
    if (k == SYSV) {
        q->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (q->id < 0) b_die("msgget");
        if (v != RAW && ipcx_msgq_open_id(q->id, &q->sq)) b_die(ipcx_last_error());
        return;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(q->name[i], sizeof q->name[i], "/ipcx-bench-%d-%d", (int)getpid(), i);
        mq_unlink(q->name[i]);
        struct mq_attr a;
        memset(&a, 0, sizeof a);
        a.mq_maxmsg = 10;
        a.mq_msgsize = (long)msgsize;
        q->mq[i] = mq_open(q->name[i], O_RDWR | O_CREAT | O_EXCL, 0600, &a);
        if (q->mq[i] < 0) b_die("mq_open");
        if (v != RAW) {
            mq_close(q->mq[i]);
            if (ipcx_mq_open(q->name[i], IPCX_OPEN_READ | IPCX_OPEN_WRITE, NULL, &q->pq[i])) b_die(ipcx_last_error());
        }
    }
}

static void teardown(struct qs *q, int remove) {
    if (q->k == SYSV) {
        if (q->sq) ipcx_msgq_close(q->sq);
        if (remove) msgctl(q->id, IPC_RMID, NULL);
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (q->v == RAW) mq_close(q->mq[i]);
        else ipcx_mq_close(q->pq[i]);
        if (remove) mq_unlink(q->name[i]);
    }
}

/* Send `n` bytes of `buf` on direction `dir` (0: parent->child, 1: back). System V:
 * the direction is the type (1 or 2); the raw sender builds the message in place. */
static void send_msg(struct qs *q, int dir, struct rawmsg *m, size_t n) {
    if (q->k == SYSV) {
        if (q->v == RAW) {
            m->mtype = dir + 1;
            while (msgsnd(q->id, m, n, 0) < 0)
                if (errno != EINTR) b_die("msgsnd");
        } else if (ipcx_msgq_send(q->sq, m->mtext, n, dir + 1, tmo(q->v))) {
            b_die(ipcx_last_error());
        }
        return;
    }
    if (q->v == RAW) {
        while (mq_send(q->mq[dir], m->mtext, n, 0) < 0)
            if (errno != EINTR) b_die("mq_send");
    } else if (ipcx_mq_send(q->pq[dir], m->mtext, n, 0, tmo(q->v))) {
        b_die(ipcx_last_error());
    }
}

/* Receive one message on direction `dir` into m->mtext (capacity cap); its length. */
static size_t recv_msg(struct qs *q, int dir, struct rawmsg *m, size_t cap) {
    if (q->k == SYSV) {
        if (q->v == RAW) {
            ssize_t n;
            while ((n = msgrcv(q->id, m, cap, dir + 1, 0)) < 0)
                if (errno != EINTR) b_die("msgrcv");
            return (size_t)n;
        }
        size_t len = cap;
        if (ipcx_msgq_recv(q->sq, m->mtext, &len, dir + 1, 0, tmo(q->v),
                           NULL)) b_die(ipcx_last_error());
        return len;
    }
    if (q->v == RAW) {
        ssize_t n;
        while ((n = mq_receive(q->mq[dir], m->mtext, cap, NULL)) < 0)
            if (errno != EINTR) b_die("mq_receive");
        return (size_t)n;
    }
    size_t len = cap;
    if (ipcx_mq_recv(q->pq[dir], m->mtext, &len, tmo(q->v), NULL)) b_die(ipcx_last_error());
    return len;
}

static struct rawmsg msg;

/* Mean round trip in ns over `iters` 64-byte ping-pongs. */
static double round_trip_ns(int kind, int variant, int child_cpu, int iters) {
    enum kind k = (enum kind)kind;
    enum variant v = (enum variant)variant;
    struct qs q;
    setup(&q, k, v, 64);
    size_t cap = k == POSIX ? 64 : sizeof msg.mtext;
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        for (;;) {
            size_t n = recv_msg(&q, 0, &msg, cap);
            if (n == 1) break; /* stop */
            send_msg(&q, 1, &msg, n);
        }
        teardown(&q, 0);
        _exit(0);
    }
    memset(msg.mtext, 'x', 64);
    for (int i = 0; i < iters / 10 + 10; i++) { /* warm-up */
        send_msg(&q, 0, &msg, 64);
        recv_msg(&q, 1, &msg, cap);
    }
    int64_t t0 = b_now_ns();
    for (int i = 0; i < iters; i++) {
        send_msg(&q, 0, &msg, 64);
        if (recv_msg(&q, 1, &msg, cap) != 64) b_die("echo");
    }
    double per = (double)(b_now_ns() - t0) / iters;
    send_msg(&q, 0, &msg, 1);
    b_wait(p);
    teardown(&q, 1);
    return per;
}

/* One-way throughput in messages per second: the child sends `count` messages of
 * `size` bytes (a sequence number first), the parent receives and checks them. */
static double throughput_rate(int kind, int variant, int child_cpu, size_t size, int count) {
    enum kind k = (enum kind)kind;
    enum variant v = (enum variant)variant;
    struct qs q;
    setup(&q, k, v, size);
    int go[2];
    if (pipe(go)) b_die("pipe");
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 1) b_die("go");
        memset(msg.mtext, 'y', size);
        for (int i = 0; i < count; i++) {
            memcpy(msg.mtext, &i, sizeof i);
            send_msg(&q, 0, &msg, size);
        }
        close(go[0]);
        teardown(&q, 0);
        _exit(0);
    }
    close(go[0]);
    size_t cap = k == POSIX ? size : sizeof msg.mtext;
    int64_t t0 = b_now_ns();
    if (write(go[1], "g", 1) != 1) b_die("go");
    for (int i = 0; i < count; i++) {
        if (recv_msg(&q, 0, &msg, cap) != size) b_die("size");
        int seq;
        memcpy(&seq, msg.mtext, sizeof seq);
        if (seq != i) b_die("sequence");
    }
    double rate = count / ((double)(b_now_ns() - t0) / 1e9);
    close(go[1]);
    b_wait(p);
    teardown(&q, 1);
    return rate;
}

/* Wake-up latency: the parent waits in a receive (blocking or timed); the child sleeps
 * 2..10 ms, stamps the time and sends. Median latency in us over `samples`. */
static double wake_latency(enum kind k, enum variant v, int samples, double *worst) {
    struct qs q;
    setup(&q, k, v, 64);
    size_t cap = k == POSIX ? 64 : sizeof msg.mtext;
    pid_t p = fork();
    if (p == 0) {
        b_pin(1);
        for (int i = 0; i < samples; i++) {
            usleep(2000 + (unsigned)(i * 2654435761u % 8000));
            int64_t now = b_now_ns();
            memcpy(msg.mtext, &now, sizeof now);
            send_msg(&q, 0, &msg, 64);
        }
        teardown(&q, 0);
        _exit(0);
    }
    double lat[64];
    *worst = 0;
    for (int i = 0; i < samples; i++) {
        recv_msg(&q, 0, &msg, cap);
        int64_t sent;
        memcpy(&sent, msg.mtext, sizeof sent);
        lat[i] = (double)(b_now_ns() - sent) / 1000.0;
        if (lat[i] > *worst) *worst = lat[i];
    }
    b_wait(p);
    teardown(&q, 1);
    return b_median(lat, samples);
}

/* What a timed wait on an empty queue costs: wake-ups per second and CPU us per second. */
static void wait_cost(enum kind k, int ms, double *wakeups, double *cpu_us) {
    struct qs q;
    setup(&q, k, IPCX, 64);
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    int s;
    size_t len = k == POSIX ? 64 : sizeof msg.mtext;
    if (k == SYSV) s = ipcx_msgq_recv(q.sq, msg.mtext, &len, 1, 0, ms, NULL);
    else s = ipcx_mq_recv(q.pq[0], msg.mtext, &len, ms, NULL);
    getrusage(RUSAGE_SELF, &b);
    if (s != IPCX_ERR_TIMEOUT) b_die("timed wait");
    *wakeups = (double)(b.ru_nvcsw - a.ru_nvcsw) * 1000.0 / ms;
    double cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec + b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1e6 +
                 (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec + b.ru_stime.tv_usec - a.ru_stime.tv_usec);
    *cpu_us = cpu * 1000.0 / ms;
    teardown(&q, 1);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 7;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ipcx %s message queue benchmark: %d runs per figure, median (min-max), ratio = median of per-run x/raw\n",
           ipcx_version(), runs);
    static const char *const kinds[] = {"System V", "POSIX"};
    static const int target[NVAR] = {0, 1, 0}; /* the timed variant has no target */
    const struct b_suite suite = {kinds, 2, variant_name, NVAR, target, round_trip_ns, throughput_rate,
                                  100000, BIG, 20000, "8 KiB"};
    b_run_suite(&suite, runs);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu >= 2) {
        printf("\ntimed waits (receiver CPU0 waits, sender CPU1 sends after 2-10 ms; %d runs of 30)\n", runs);
        for (int k = SYSV; k <= POSIX; k++) {
            const char *kn = k == SYSV ? "System V" : "POSIX";
            struct b_series lat[2] = {0}, worst[2] = {0}, wake = {0}, cpu = {0};
            for (int r = 0; r < runs; r++) {
                for (int v = IPCX; v <= IPCX_TIMED; v++) {
                    double w;
                    b_add(&lat[v - IPCX], wake_latency(k, v, 30, &w));
                    b_add(&worst[v - IPCX], w);
                }
                double wk, cu;
                wait_cost(k, 500, &wk, &cu);
                b_add(&wake, wk);
                b_add(&cpu, cu);
            }
            for (int v = IPCX; v <= IPCX_TIMED; v++) {
                printf("  %-8s wake-up latency %-6s", kn, v == IPCX ? "block" : "timed");
                b_print_series("us", &lat[v - IPCX]);
                printf("   worst ");
                b_print_series("us", &worst[v - IPCX]);
                printf("\n");
            }
            printf("  %-8s empty-queue timed wait: wake-ups/s ", kn);
            b_print_series("", &wake);
            printf("  CPU ");
            b_print_series("us/s", &cpu);
            printf("\n");
        }
    }
    return 0;
}
