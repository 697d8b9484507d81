/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * ipcx_stress: load and crash trials for every ipcx mechanism.
 *
 *   ipcx_stress [--short] [--producers P] [--messages N] [--trials T] [--only a,b]
 *               [--seed S] [--no-namespace] [--load-only] [--crash-only] [--list]
 *
 * Load: for each message-carrying mechanism, P producers (default 8; one for single-producer
 * mechanisms, which send P x N) send N messages each (default 100,000) into one consumer;
 * every message carries its producer id, a sequence number and a checksum, and the
 * consumer counts what was lost, duplicated, out of order (where order is promised) and
 * corrupted.
 *
 * Crash trials: for every mechanism, T trials (default 1000) in which one side (the
 * victim) is killed with SIGKILL at a random moment of its operations; the other side (the
 * survivor) must reach the mechanism's defined status within 2 s, locks must be
 * recoverable, and nothing may be left behind: no System V object, no /dev/shm entry, no
 * POSIX queue, no FIFO or socket file, no descriptor in the survivor.
 *
 * Process layout of a trial: the driver forks the survivor, which sets up and forks the
 * victim; the driver waits until the victim has started, sleeps a random delay (0-100 us,
 * 0-2 ms or 0-20 ms) and kills it, then waits for the survivor's verdict (a hang is killed
 * after 10 s and counted). Everything runs in a private IPC namespace with private
 * /dev/shm and /tmp (when the process may unshare: root), so that the before/after
 * comparisons see only this run's objects and nothing can leak onto the host.
 *
 * Exit status: 0 when no trial hung or leaked and no message was lost (where the mechanism
 * promises delivery), duplicated, corrupted or reordered (where it promises order).
 */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ configuration */

static struct {
    int producers;
    uint32_t messages;
    int trials;
    const char *only;
    uint64_t seed;
    int namespaces; /* 1: private IPC namespace, /dev/shm and /tmp */
    int load, crash;
    int verbose;
} cfg = {8, 100000, 1000, NULL, 0, 1, 1, 1, 0};

static char run_dir[128];
static char mq_dir[128]; /* where the mqueue filesystem is mounted ("" if not) */

const char *st_dir(void) { return run_dir; }

static const struct st_mech *const base_mechs[] = {
    &st_pipe,        &st_fifo,        &st_posix_mq,       &st_sysv_msq,   &st_sysv_msq_types,
    &st_unix_stream, &st_unix_dgram,  &st_unix_seqpacket, &st_tcp,       &st_udp,
    &st_ring_spsc,   &st_ring_mpmc,   &st_mutex,          &st_cond,      &st_sem_named,
    &st_sem_unnamed, &st_semset_undo, &st_shm_posix,      &st_shm_sysv,  &st_rt_signal,
};

/* ------------------------------------------------------------------ results */

struct result {
    const struct st_mech *m;
    int ran_load;
    uint64_t messages, lost, dup, ooo, corrupt;
    double load_s;
    int trials, hangs, leaks, errors;
    double worst_ms;
    uint64_t owner_dead, units_lost, torn;
    char first_problem[320];
};

static void problem(struct result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct result *res, const char *fmt, ...) {
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "  %s: %s\n", res->m->name, buf);
    if (!res->first_problem[0]) snprintf(res->first_problem, sizeof res->first_problem, "%s", buf);
}

/* ------------------------------------------------------------------ snapshots */

struct list {
    char **v;
    int n;
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_add(struct list *l, const char *s) {
    l->v = realloc(l->v, sizeof(char *) * (size_t)(l->n + 1));
    l->v[l->n++] = strdup(s);
}

static void list_free(struct list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Entries of a directory (names containing `filter` if not NULL). */
static void list_dir(struct list *l, const char *tag, const char *path, const char *filter) {
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (filter && !strstr(e->d_name, filter)) continue;
        char buf[512];
        snprintf(buf, sizeof buf, "%s %s", tag, e->d_name);
        list_add(l, buf);
    }
    closedir(d);
}

/* System V objects of one kind (their ids, from /proc/sysvipc). */
static void list_sysv(struct list *l, const char *kind) {
    char path[64];
    snprintf(path, sizeof path, "/proc/sysvipc/%s", kind);
    FILE *f = fopen(path, "re");
    if (!f) return;
    char line[512];
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        long key, id;
        if (sscanf(line, "%ld %ld", &key, &id) != 2) continue;
        char buf[96];
        snprintf(buf, sizeof buf, "sysv-%s id %ld (key %ld)", kind, id, key);
        list_add(l, buf);
    }
    fclose(f);
}

static void snapshot(struct list *l) {
    l->v = NULL;
    l->n = 0;
    if (cfg.namespaces) {
        /* A private namespace: everything in it is ours. */
        list_sysv(l, "msg");
        list_sysv(l, "shm");
        list_sysv(l, "sem");
        list_dir(l, "/dev/shm", "/dev/shm", NULL);
        if (mq_dir[0]) list_dir(l, "mqueue", mq_dir, NULL);
    } else {
        /* Shared with the host: only names of this process count; System V objects and
         * POSIX queues are checked by the ids and names the trial registered. */
        char mine[64];
        snprintf(mine, sizeof mine, "ipcx-stress-%d-", (int)getpid());
        list_dir(l, "/dev/shm", "/dev/shm", mine);
    }
    list_dir(l, run_dir, run_dir, NULL);
    if (l->n) qsort(l->v, (size_t)l->n, sizeof(char *), cmp_str);
}

/* Objects registered by a run that still exist (shared-host mode). */
static int registered_left(struct st_shared *sh, struct result *res) {
    int left = 0, n = atomic_load(&sh->nres);
    for (int i = 0; i < n && i < ST_MAX_RES; i++) {
        struct st_res *r = &sh->res[i];
        int exists = 0;
        switch (r->kind) {
        case ST_RES_MSQ: {
            struct msqid_ds ds;
            exists = msgctl((int)r->id, IPC_STAT, &ds) == 0;
            break;
        }
        case ST_RES_SEG: {
            struct shmid_ds ds;
            exists = shmctl((int)r->id, IPC_STAT, &ds) == 0;
            break;
        }
        case ST_RES_SEMSET: exists = semctl((int)r->id, 0, GETVAL) >= 0 || errno != EINVAL; break;
        case ST_RES_MQ: {
            mqd_t q = mq_open(r->name, O_RDONLY);
            exists = q != (mqd_t)-1;
            if (exists) mq_close(q);
            break;
        }
        default: break;
        }
        if (exists) {
            problem(res, "left behind: %s (id %ld)", r->name[0] ? r->name : "System V object", r->id);
            left++;
        }
    }
    return left;
}

/* Entries of `after` not in `before`: leaks. */
static int compare(const struct list *before, const struct list *after, struct result *res,
                   const char *when) {
    int leaks = 0;
    for (int i = 0; i < after->n; i++) {
        if (before->n &&
            bsearch(&after->v[i], before->v, (size_t)before->n, sizeof(char *), cmp_str))
            continue;
        if (leaks < 3) problem(res, "%s: left behind: %s", when, after->v[i]);
        leaks++;
    }
    return leaks;
}

/* ------------------------------------------------------------------ processes */

static struct st_shared *shared;

static void reset_shared(void) { memset(shared, 0, sizeof *shared); }

/* Wait for `pid` until `deadline_ns` (0: forever); returns 1 if it exited (status in *st). */
static int wait_until(pid_t pid, int64_t deadline_ns, int *st) {
    for (;;) {
        pid_t r = waitpid(pid, st, WNOHANG);
        if (r == pid) return 1;
        if (r < 0 && errno != EINTR) return 1;
        if (deadline_ns && st_now_ns() > deadline_ns) return 0;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static void kill_and_reap(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
}

/* ------------------------------------------------------------------ load */

static int send_all(st_run *r, int id) {
    const struct st_mech *m = r->m;
    void *tx;
    int s = m->tx_open(r, id, &tx);
    if (s != IPCX_OK) {
        fprintf(stderr, "stress: %s: producer %d: open: %s: %s\n", m->name, id, ipcx_status_name(s),
                ipcx_last_error());
        return s;
    }
    static uint8_t buf[ST_MAX_LEN];
    for (uint32_t seq = 0; seq <= r->messages; seq++) {
        int end = seq == r->messages;
        size_t len = end ? ST_MIN_LEN : st_msg_len(id, seq, m->max_len);
        st_msg_build(buf, len, id, seq, end ? ST_END : 0);
        s = m->tx_send(tx, buf, len, 30000);
        if (s != IPCX_OK) {
            fprintf(stderr, "stress: %s: producer %d: send %u: %s: %s\n", m->name, id, seq,
                    ipcx_status_name(s), ipcx_last_error());
            break;
        }
        if (!end) atomic_fetch_add(&r->sh->sent_ok[id], 1);
    }
    m->tx_close(tx);
    return s;
}

/* The consumer process of a load run (forks the producers). */
static void load_consumer(st_run *r) {
    const struct st_mech *m = r->m;
    struct st_shared *sh = r->sh;
    int fd0 = st_fd_count();
    int s = m->setup(r, ST_SIDE_CONSUMER);
    if (s != IPCX_OK) {
        st_fail(r, "setup: %s: %s", ipcx_status_name(s), ipcx_last_error());
        _exit(0);
    }
    pid_t pids[ST_MAX_PRODUCERS];
    for (int i = 0; i < r->producers; i++) {
        fflush(NULL);
        pids[i] = fork();
        if (pids[i] == 0) {
            m->prune(r, ST_SIDE_PRODUCER);
            int rc = send_all(r, i);
            atomic_store(&sh->producer_status[i], rc);
            _exit(rc == IPCX_OK ? 0 : 1);
        }
    }
    m->prune(r, ST_SIDE_CONSUMER);
    void *rx;
    struct st_tally t;
    st_tally_init(&t, r->producers, m->caps & ST_ORDERED);
    s = m->rx_open(r, &rx);
    if (s != IPCX_OK) {
        st_fail(r, "consumer: open: %s: %s", ipcx_status_name(s), ipcx_last_error());
        for (int i = 0; i < r->producers; i++) kill_and_reap(pids[i]);
        m->cleanup(r);
        _exit(0);
    }
    static uint8_t buf[ST_MAX_LEN + 64];
    int alive = r->producers;
    int64_t last_msg = st_now_ns();
    for (;;) {
        size_t len = sizeof buf;
        s = m->rx_recv(rx, buf, &len, 200);
        if (s == IPCX_OK) {
            st_tally_add(&t, buf, len);
            last_msg = st_now_ns();
            sh->out.messages = t.received;
            if (t.ends == (uint64_t)r->producers) break;
            continue;
        }
        if (s == IPCX_ERR_CLOSED && t.ends == (uint64_t)r->producers) break;
        if (s != IPCX_ERR_TIMEOUT && s != IPCX_ERR_CLOSED) {
            st_fail(r, "consumer: receive: %s: %s", ipcx_status_name(s), ipcx_last_error());
            break;
        }
        /* Quiet, or CLOSED: no producer attached right now (one that attaches by name may
         * still come: a ring reports CLOSED between the last producer's detach and the
         * next one's attach). Stop once every producer has exited (a lossy mechanism may
         * have lost its end marker), or declare a hang after 60 s without a message. */
        if (s == IPCX_ERR_CLOSED) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        for (int i = 0; i < r->producers; i++) {
            int st;
            if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
                pids[i] = -1;
                alive--;
            }
        }
        if (alive == 0) break;
        if (st_ms_since(last_msg) > 60000) {
            sh->out.hang = 1;
            st_fail(r, "no message for 60 s with %d producer(s) alive", alive);
            break;
        }
    }
    for (int i = 0; i < r->producers; i++) {
        if (pids[i] <= 0) continue;
        int st;
        if (!wait_until(pids[i], st_now_ns() + 60 * 1000000000LL, &st)) {
            sh->out.hang = 1;
            st_fail(r, "producer %d did not finish", i);
            kill_and_reap(pids[i]);
        }
    }
    m->rx_close(rx);
    for (int i = 0; i < r->producers; i++) {
        int ps = atomic_load(&sh->producer_status[i]);
        if (ps != IPCX_OK) st_fail(r, "producer %d ended with %s", i, ipcx_status_name(ps));
    }
    uint64_t sent = 0, distinct = 0;
    for (int i = 0; i < r->producers; i++) {
        sent += atomic_load(&sh->sent_ok[i]);
        distinct += t.p[i].distinct;
    }
    sh->out.messages = t.received - t.ends;
    sh->out.lost = sent > distinct ? sent - distinct : 0;
    sh->out.dup = t.dup;
    sh->out.ooo = t.ooo;
    sh->out.corrupt = t.corrupt;
    st_tally_free(&t);
    m->cleanup(r);
    sh->out.fd_leak = st_fd_count() - fd0;
    sh->out.done = 1;
    _exit(0);
}

static void run_load(const struct st_mech *m, struct result *res) {
    reset_shared();
    st_run r = {0};
    r.m = m;
    r.sh = shared;
    r.trial = -1;
    r.kind = ST_KIND_LOAD;
    r.producers = (m->caps & ST_MULTI) ? cfg.producers : 1;
    r.messages = (m->caps & ST_MULTI) ? cfg.messages : cfg.messages * (uint32_t)cfg.producers;
    r.rng = cfg.seed ^ 0x5bd1e995u;
    snprintf(r.dir, sizeof r.dir, "%s", run_dir);
    struct list before, after;
    snapshot(&before);
    int64_t t0 = st_now_ns();
    fflush(NULL);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0); /* the consumer and its producers: a hang kills them all */
        load_consumer(&r);
    }
    setpgid(c, c);
    /* Watch progress: a consumer that receives nothing for 120 s is hung. */
    uint64_t last = 0;
    int64_t last_t = st_now_ns();
    int st;
    for (;;) {
        if (wait_until(c, st_now_ns() + 1000000000LL, &st)) break;
        uint64_t now = shared->out.messages;
        if (now != last) {
            last = now;
            last_t = st_now_ns();
        } else if (st_ms_since(last_t) > 120000) {
            kill(-c, SIGKILL);
            kill_and_reap(c);
            shared->out.hang = 1;
            problem(res, "load: the consumer made no progress for 120 s: killed");
            break;
        }
    }
    res->load_s = st_ms_since(t0) / 1000.0;
    if (!shared->out.done) {
        st_res_remove_all(shared);
        if (!shared->out.hang) problem(res, "load: the consumer did not finish (status %#x)", st);
        if (shared->out.error) problem(res, "load: %s", shared->out.note);
        res->errors++;
    } else if (shared->out.error) {
        problem(res, "load: %s", shared->out.note);
        res->errors++;
    }
    if (shared->out.lost && !(m->caps & ST_LOSSY))
        problem(res, "load: %llu message(s) lost", (unsigned long long)shared->out.lost);
    if (shared->out.dup || shared->out.corrupt || ((m->caps & ST_ORDERED) && shared->out.ooo))
        problem(res, "load: %llu duplicated, %llu corrupted, %llu out of order",
                (unsigned long long)shared->out.dup, (unsigned long long)shared->out.corrupt,
                (unsigned long long)shared->out.ooo);
    res->ran_load = 1;
    res->messages += shared->out.messages;
    res->lost += shared->out.lost;
    res->dup += shared->out.dup;
    res->ooo += shared->out.ooo;
    res->corrupt += shared->out.corrupt;
    res->hangs += shared->out.hang;
    if (shared->out.fd_leak) {
        problem(res, "load: %d descriptor(s) leaked by the consumer", shared->out.fd_leak);
        res->leaks++;
    }
    snapshot(&after);
    int l = compare(&before, &after, res, "load");
    if (!cfg.namespaces) l += registered_left(shared, res);
    if (l) {
        res->leaks += l;
        st_res_remove_all(shared);
    }
    list_free(&before);
    list_free(&after);
}

/* ------------------------------------------------------------------ crash trials */

static void generic_victim(st_run *r) {
    const struct st_mech *m = r->m;
    static uint8_t buf[ST_MAX_LEN + 64];
    if (r->kind == ST_KIND_KILL_PRODUCER) {
        m->prune(r, ST_SIDE_PRODUCER);
        void *tx;
        int s = m->tx_open(r, 0, &tx);
        if (s != IPCX_OK) st_victim_failed(r, s, "producer open");
        st_victim_started(r);
        for (uint32_t seq = 0;; seq++) {
            size_t len = st_msg_len(0, seq, m->crash_max_len);
            st_msg_build(buf, len, 0, seq, 0);
            s = m->tx_send(tx, buf, len, IPCX_FOREVER);
            if (s != IPCX_OK) st_victim_failed(r, s, "send");
            atomic_fetch_add(&r->sh->sent_ok[0], 1);
        }
    }
    m->prune(r, ST_SIDE_CONSUMER);
    void *rx;
    int s = m->rx_open(r, &rx);
    if (s != IPCX_OK) st_victim_failed(r, s, "consumer open");
    for (int i = 0; i < 5000 && !atomic_load(&r->sh->peer_ready); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    st_victim_started(r);
    for (;;) {
        size_t len = sizeof buf;
        s = m->rx_recv(rx, buf, &len, IPCX_FOREVER);
        if (s != IPCX_OK) st_victim_failed(r, s, "receive");
    }
}

/* What a survivor does with a non-OK status: 1 = the trial ends, 0 = keep going. */
static int judge(st_run *r, int s, int final, const char *what) {
    double k = st_since_kill_ms(r);
    if (k < 0) {
        if (s == IPCX_ERR_TIMEOUT) return 0; /* the victim is just slow */
        if (atomic_load(&r->sh->victim_status)) {
            st_fail(r, "the victim failed before the kill (see above)");
        } else {
            st_fail(r, "%s returned %s before the victim was killed: %s", what,
                    ipcx_status_name(s), ipcx_last_error());
        }
        r->sh->out.final_status = s;
        return 1;
    }
    if (s == final) {
        r->sh->out.final_status = s;
        r->sh->out.recovery_ms = k;
        return 1;
    }
    if (s == IPCX_ERR_TIMEOUT) {
        if (k > 2000) {
            r->sh->out.hang = 1;
            r->sh->out.recovery_ms = k;
            st_fail(r, "%s: still %s %.0f ms after the kill (expected %s)", what,
                    ipcx_status_name(s), k, ipcx_status_name(final));
            return 1;
        }
        return 0;
    }
    r->sh->out.final_status = s;
    r->sh->out.recovery_ms = k;
    st_fail(r, "%s after the kill: %s, expected %s: %s", what, ipcx_status_name(s),
            ipcx_status_name(final), ipcx_last_error());
    return 1;
}

/* After the survivor reached its defined status: a new peer uses the object again. */
static void try_reuse(st_run *r, void *h, int side) {
    if (!r->m->reuse || r->sh->out.error) return;
    st_wait_victim(r);
    int rs = r->m->reuse(r, h, side);
    if (rs != IPCX_OK)
        st_fail(r, "a new %s after the crash: %s: %s",
                side == ST_SIDE_CONSUMER ? "producer" : "consumer", ipcx_status_name(rs),
                ipcx_last_error());
}

static void generic_survivor(st_run *r) {
    const struct st_mech *m = r->m;
    struct st_shared *sh = r->sh;
    static uint8_t buf[ST_MAX_LEN + 64];
    if (r->kind == ST_KIND_KILL_PRODUCER) {
        m->prune(r, ST_SIDE_CONSUMER);
        void *rx;
        int s = m->rx_open(r, &rx);
        if (s != IPCX_OK) {
            judge(r, s, -1, "consumer open");
            return;
        }
        struct st_tally t;
        st_tally_init(&t, 1, m->caps & ST_ORDERED);
        for (;;) {
            size_t len = sizeof buf;
            s = m->rx_recv(rx, buf, &len, 100);
            if (s == IPCX_OK) {
                st_tally_add(&t, buf, len);
                continue;
            }
            if (judge(r, s, m->rx_final, "receive")) break;
        }
        try_reuse(r, rx, ST_SIDE_CONSUMER);
        m->rx_close(rx);
        uint64_t sent = atomic_load(&sh->sent_ok[0]), got = t.p[0].distinct;
        sh->out.messages = t.received;
        sh->out.lost = sent > got ? sent - got : 0;
        sh->out.dup = t.dup;
        sh->out.ooo = t.ooo;
        sh->out.corrupt = t.corrupt;
        if (got > sent + 1) st_fail(r, "received %llu messages, %llu were sent",
                                    (unsigned long long)got, (unsigned long long)sent);
        /* Reliable and ordered: what arrived is exactly the first messages. */
        if ((m->caps & ST_ORDERED) && !(m->caps & ST_LOSSY) && t.p[0].highest + 1 != (int64_t)got)
            st_fail(r, "gap: highest sequence %lld with %llu distinct messages",
                    (long long)t.p[0].highest, (unsigned long long)got);
        st_tally_free(&t);
        return;
    }
    m->prune(r, ST_SIDE_PRODUCER);
    void *tx;
    int s = m->tx_open(r, 0, &tx);
    if (s != IPCX_OK) {
        judge(r, s, -1, "producer open");
        return;
    }
    atomic_store(&sh->peer_ready, 1);
    for (uint32_t seq = 0;;) {
        size_t len = st_msg_len(0, seq, m->crash_max_len);
        st_msg_build(buf, len, 0, seq, 0);
        s = m->tx_send(tx, buf, len, 100);
        if (s == IPCX_OK) {
            seq++;
            double k = st_since_kill_ms(r);
            if (k > 2000) { /* sends keep succeeding: the death is never reported */
                sh->out.hang = 1;
                sh->out.recovery_ms = k;
                st_fail(r, "send still succeeds %.0f ms after the kill", k);
                break;
            }
            continue;
        }
        if (judge(r, s, m->tx_final, "send")) break;
    }
    try_reuse(r, tx, ST_SIDE_PRODUCER);
    m->tx_close(tx);
}

/* The survivor process of one trial (forks the victim). */
static void trial_survivor(st_run *r) {
    const struct st_mech *m = r->m;
    struct st_shared *sh = r->sh;
    int fd0 = st_fd_count();
    int side = r->kind == ST_KIND_KILL_PRODUCER ? ST_SIDE_CONSUMER
             : r->kind == ST_KIND_KILL_CONSUMER ? ST_SIDE_PRODUCER
                                                : 0;
    int s = m->setup(r, side);
    if (s != IPCX_OK) {
        st_fail(r, "setup: %s: %s", ipcx_status_name(s), ipcx_last_error());
        _exit(0);
    }
    fflush(NULL);
    pid_t v = fork();
    if (v == 0) {
        atomic_store(&sh->victim_pid, (int)getpid());
        if (m->victim) m->victim(r);
        else generic_victim(r);
        _exit(0); /* not reached */
    }
    if (m->survivor) m->survivor(r);
    else generic_survivor(r);
    /* The victim must be dead now; if the survivor stopped before the kill (a failed
     * check), end the victim here. */
    int st;
    if (!atomic_load(&sh->kill_ns)) {
        atomic_store(&sh->kill_begun, 1);
        kill(v, SIGKILL);
        atomic_store(&sh->kill_ns, st_now_ns());
    }
    if (!r->victim_reaped && !wait_until(v, st_now_ns() + 10 * 1000000000LL, &st)) {
        st_fail(r, "the victim outlived its SIGKILL by 10 s");
        kill_and_reap(v);
    }
    m->cleanup(r);
    sh->out.fd_leak = st_fd_count() - fd0;
    sh->out.done = 1;
    _exit(0);
}

static unsigned kill_delay_us(uint64_t *rng) {
    uint64_t x = st_rand(rng);
    switch (x & 3) {
    case 0: return (unsigned)((x >> 8) % 100);
    case 3: return (unsigned)((x >> 8) % 20000);
    default: return (unsigned)((x >> 8) % 2000);
    }
}

static void run_trial(const struct st_mech *m, int trial, int kind, struct result *res) {
    reset_shared();
    st_run r = {0};
    r.m = m;
    r.sh = shared;
    r.trial = trial;
    r.kind = kind;
    r.producers = 1;
    r.rng = cfg.seed + 0x9e3779b97f4a7c15ull * (uint64_t)(trial + 1);
    snprintf(r.dir, sizeof r.dir, "%s", run_dir);
    struct list before, after;
    snapshot(&before);
    fflush(NULL);
    pid_t s = fork();
    if (s == 0) {
        setpgid(0, 0); /* the trial's processes form a group: a hang kills them all */
        trial_survivor(&r);
    }
    setpgid(s, s);
    int st = 0, exited = 0;
    /* Wait for the victim to start (or the survivor to give up). */
    int64_t give_up = st_now_ns() + 20 * 1000000000LL;
    while (!atomic_load(&shared->started_ns)) {
        pid_t w = waitpid(s, &st, WNOHANG);
        if (w == s) {
            exited = 1;
            break;
        }
        if (st_now_ns() > give_up) break;
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    pid_t v = atomic_load(&shared->victim_pid);
    if (!exited && atomic_load(&shared->started_ns)) {
        unsigned us = kill_delay_us(&r.rng);
        if (us) {
            struct timespec ts = {0, (long)us * 1000};
            nanosleep(&ts, NULL);
        }
        /* The kill first, then its time: stored before, a driver preempted between the
         * two let the survivor count as "after the kill" what the still running victim
         * did (under load: a victim that took the lock again, then died holding it).
         * kill_begun tells a survivor that sees the kill's effect before its time is
         * stored to wait for the time rather than call it "before the kill". */
        atomic_store(&shared->kill_begun, 1);
        kill(v, SIGKILL);
        atomic_store(&shared->kill_ns, st_now_ns());
    }
    res->trials++;
    if (!exited && !wait_until(s, st_now_ns() + 10 * 1000000000LL, &st)) {
        kill(-s, SIGKILL); /* the survivor, the victim and any helper they forked */
        kill_and_reap(s);
        if (v > 0) kill(v, SIGKILL); /* reparented: init reaps it */
        res->hangs++;
        problem(res, "trial %d (%s): the survivor did not finish within 10 s of the kill: killed",
                trial, kind == ST_KIND_KILL_PRODUCER ? "producer killed"
                       : kind == ST_KIND_KILL_CONSUMER ? "consumer killed" : "victim killed");
        st_res_remove_all(shared);
        list_free(&before);
        return;
    }
    struct st_shared *sh = shared;
    const char *what = kind == ST_KIND_KILL_PRODUCER ? "producer killed"
                     : kind == ST_KIND_KILL_CONSUMER ? "consumer killed" : "victim killed";
    if (!sh->out.done) {
        res->errors++;
        problem(res, "trial %d (%s): the survivor died (status %#x)%s%s", trial, what, st,
                sh->out.error ? ": " : "", sh->out.error ? sh->out.note : "");
        st_res_remove_all(shared);
    } else {
        if (sh->out.hang) res->hangs++;
        else if (sh->out.error) res->errors++;
        if (sh->out.error && (res->hangs + res->errors) <= 5)
            problem(res, "trial %d (%s): %s", trial, what, sh->out.note);
        if (sh->out.recovery_ms > res->worst_ms) res->worst_ms = sh->out.recovery_ms;
        if (sh->out.fd_leak) {
            res->leaks++;
            problem(res, "trial %d (%s): %d descriptor(s) leaked by the survivor", trial, what,
                    sh->out.fd_leak);
        }
    }
    res->messages += sh->out.messages;
    res->lost += sh->out.lost;
    res->dup += sh->out.dup;
    res->ooo += sh->out.ooo;
    res->corrupt += sh->out.corrupt;
    res->owner_dead += sh->out.owner_dead;
    res->units_lost += sh->out.units_lost;
    res->torn += sh->out.torn;
    snapshot(&after);
    char when[64];
    snprintf(when, sizeof when, "trial %d (%s)", trial, what);
    int l = compare(&before, &after, res, when);
    if (!cfg.namespaces) l += registered_left(shared, res);
    if (l) {
        res->leaks += l;
        st_res_remove_all(shared);
    }
    list_free(&before);
    list_free(&after);
}

static void run_crash(const struct st_mech *m, struct result *res) {
    for (int i = 0; i < cfg.trials; i++) {
        int kind = ST_KIND_CUSTOM;
        if (m->caps & ST_MESSAGES) {
            kind = (i & 1) && !(m->caps & ST_NO_KILL_CONSUMER) ? ST_KIND_KILL_CONSUMER
                                                                 : ST_KIND_KILL_PRODUCER;
        }
        run_trial(m, i, kind, res);
        if (cfg.verbose && (i + 1) % 100 == 0)
            fprintf(stderr, "  %s: %d trials\n", m->name, i + 1);
    }
}

/* ------------------------------------------------------------------ namespaces */

static void setup_namespaces(void) {
    if (cfg.namespaces) {
        if (unshare(CLONE_NEWIPC | CLONE_NEWNS) != 0) {
            printf("note: unshare(CLONE_NEWIPC | CLONE_NEWNS) failed (%s): running on the "
                   "host's namespaces; leaks are checked by name and id\n", strerror(errno));
            cfg.namespaces = 0;
        } else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
                   mount("ipcx-stress", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
                         "size=512m,mode=1777") != 0 ||
                   mount("ipcx-stress", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
                         "size=64m,mode=1777") != 0) {
            /* The IPC namespace is private anyway; files go to the host's /tmp. */
            printf("note: private mounts failed (%s): /dev/shm and /tmp are the host's\n",
                   strerror(errno));
            cfg.namespaces = 0;
        } else {
            snprintf(mq_dir, sizeof mq_dir, "/tmp/mqueue");
            if (mkdir(mq_dir, 0700) != 0 || mount("mqueue", mq_dir, "mqueue", 0, NULL) != 0)
                mq_dir[0] = 0;
            snprintf(run_dir, sizeof run_dir, "/tmp/ipcx-stress");
        }
    }
    if (!cfg.namespaces) snprintf(run_dir, sizeof run_dir, "/tmp/ipcx-stress-%d", (int)getpid());
    if (mkdir(run_dir, 0700) != 0 && errno != EEXIST) {
        perror(run_dir);
        exit(2);
    }
}

/* ------------------------------------------------------------------ main */

static int selected(const char *name) {
    if (!cfg.only) return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", cfg.only);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        if (strstr(name, tok)) return 1;
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: ipcx_stress [--short] [--producers P] [--messages N] [--trials T]\n"
            "                   [--only name,...] [--seed S] [--no-namespace]\n"
            "                   [--load-only] [--crash-only] [--verbose] [--list]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--short")) {
            cfg.messages = 2000;
            cfg.trials = 20;
        } else if (!strcmp(a, "--producers") && v) {
            cfg.producers = atoi(v), i++;
        } else if (!strcmp(a, "--messages") && v) {
            cfg.messages = (uint32_t)strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--trials") && v) {
            cfg.trials = atoi(v), i++;
        } else if (!strcmp(a, "--only") && v) {
            cfg.only = v, i++;
        } else if (!strcmp(a, "--seed") && v) {
            cfg.seed = strtoull(v, NULL, 0), i++;
        } else if (!strcmp(a, "--no-namespace")) {
            cfg.namespaces = 0;
        } else if (!strcmp(a, "--load-only")) {
            cfg.crash = 0;
        } else if (!strcmp(a, "--crash-only")) {
            cfg.load = 0;
        } else if (!strcmp(a, "--verbose")) {
            cfg.verbose = 1;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else {
            usage();
        }
    }
    if (cfg.producers < 1 || cfg.producers > ST_MAX_PRODUCERS || cfg.messages < 1 ||
        cfg.trials < 0)
        usage();
    if (!cfg.seed) cfg.seed = (uint64_t)st_now_ns() ^ ((uint64_t)getpid() << 32);

    const struct st_mech *mechs[64];
    size_t nm = 0;
    for (size_t i = 0; i < sizeof base_mechs / sizeof base_mechs[0]; i++) mechs[nm++] = base_mechs[i];
#ifdef IPCX_HAVE_CHAN
    for (size_t i = 0; i < st_chan_row_count && nm < 64; i++) mechs[nm++] = &st_chan_rows[i];
#endif
    if (list) {
        for (size_t i = 0; i < nm; i++) printf("%s\n", mechs[i]->name);
        return 0;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    setup_namespaces();
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    printf("ipcx stress: %d producers x %u messages, %d crash trials per mechanism, seed %#llx, %s\n",
           cfg.producers, cfg.messages, cfg.trials, (unsigned long long)cfg.seed,
           cfg.namespaces ? "private IPC namespace, /dev/shm and /tmp" : "host namespaces");

    struct result res[64];
    memset(res, 0, sizeof res);
    int64_t t_all = st_now_ns();
    size_t nres = 0;
    for (size_t i = 0; i < nm; i++) {
        const struct st_mech *m = mechs[i];
        if (!selected(m->name)) continue;
        struct result *rr = &res[nres++];
        rr->m = m;
        int64_t t0 = st_now_ns();
        if (cfg.load && (m->caps & ST_MESSAGES)) run_load(m, rr);
        if (cfg.crash && cfg.trials) run_crash(m, rr);
        printf("  %-22s done in %.1f s\n", m->name, st_ms_since(t0) / 1000.0);
    }
    double total_s = st_ms_since(t_all) / 1000.0;

    /* The table. */
    int bad = 0;
    printf("\n%-22s %7s %10s %8s %6s %6s %7s %6s %6s %6s %10s\n", "mechanism", "trials",
           "messages", "lost", "dup", "order", "corrupt", "hangs", "leaks", "errors",
           "worst ms");
    for (size_t i = 0; i < nres; i++) {
        struct result *rr = &res[i];
        const struct st_mech *m = rr->m;
        int lossy = m->caps & ST_LOSSY;
        char lost[32];
        snprintf(lost, sizeof lost, "%llu%s", (unsigned long long)rr->lost,
                 lossy && rr->lost ? "*" : "");
        printf("%-22s %7d %10llu %8s %6llu %6llu %7llu %6d %6d %6d %10.1f\n", m->name,
               rr->trials, (unsigned long long)rr->messages, lost, (unsigned long long)rr->dup,
               (unsigned long long)rr->ooo, (unsigned long long)rr->corrupt, rr->hangs,
               rr->leaks, rr->errors, rr->worst_ms);
        int fail = rr->hangs || rr->leaks || rr->errors || rr->dup || rr->corrupt ||
                   (!lossy && rr->lost) || ((m->caps & ST_ORDERED) && !lossy && rr->ooo);
        bad |= fail;
    }
    printf("\n");
    for (size_t i = 0; i < nres; i++) {
        struct result *rr = &res[i];
        char extra[256] = "";
        size_t o = 0;
        if (rr->ran_load)
            o += (size_t)snprintf(extra + o, sizeof extra - o, "load %.1f s; ", rr->load_s);
        if (rr->owner_dead)
            o += (size_t)snprintf(extra + o, sizeof extra - o, "owner died in %llu trials (repaired); ",
                                  (unsigned long long)rr->owner_dead);
        if (rr->units_lost)
            o += (size_t)snprintf(extra + o, sizeof extra - o,
                                  "victim died holding the semaphore in %llu trials (unit re-posted); ",
                                  (unsigned long long)rr->units_lost);
        if (rr->torn)
            o += (size_t)snprintf(extra + o, sizeof extra - o, "%llu records torn by the kill; ",
                                  (unsigned long long)rr->torn);
        if (rr->m->notes) o += (size_t)snprintf(extra + o, sizeof extra - o, "%s", rr->m->notes);
        printf("  %-22s %s\n", rr->m->name, extra);
        if (rr->first_problem[0]) printf("  %-22s FIRST PROBLEM: %s\n", "", rr->first_problem);
    }
    printf("\n* UDP may lose datagrams (the kernel drops them when the receiver's buffer is full):\n"
           "  reported, not a failure. Order is checked where the mechanism promises it.\n");
    printf("total %.1f s: %s\n", total_s, bad ? "FAILED" : "ok");
    if (!cfg.namespaces) rmdir(run_dir);
    return bad ? 1 : 0;
}
