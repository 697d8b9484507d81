/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Semaphore and lock benchmark: ipcx against the raw calls, in the same run.
 *
 * Primitives: POSIX unnamed semaphore in shared memory (sem_post/sem_wait), POSIX named
 * semaphore, System V semaphore (semop), robust process-shared error-checking mutex
 * (pthread_mutex_lock/unlock with the same attributes ipcx uses).
 * Measures, raw and ipcx alternating run by run:
 *   - uncontended: one process, V then P (or lock then unlock), ns per pair;
 *   - the uncontended unnamed-semaphore pair again with N = 0, 10,000 and 1,000,000 other
 *     live ipcx handles (options objects made before the timed loops, closed after): a
 *     handle lookup must cost the same however many handles are alive;
 *   - contended: two processes take and release the same semaphore or mutex around a shared
 *     counter (checked), ns per pair, both placements;
 *   - round trip: parent and child ping-pong through two semaphores (or a mutex + flag
 *     spin is not measured: the round trip of a lock has no meaning), us.
 * Placements: parent CPU0 and child CPU1 (cross-core), both on CPU0 (same-core).
 *
 *   bench_sync [runs]                 (default 7)
 *   bench_sync uncontended [runs]     only the uncontended cases (with the N-handles one)
 *   bench_sync calls <prim> <raw|ipcx> <n>
 *       only the uncontended loop, n pairs, no timing: for
 *       valgrind --tool=callgrind --toggle-collect=loop_* to count instructions per pair.
 *       <prim>: sem, named, sysv, mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/sem.h>

#include "bench.h"
#include "ipcx.h"

enum prim { SEM, NAMED, SYSV, MUTEX, NPRIM };
static const char *prim_name[NPRIM] = {"unnamed sem", "named sem", "System V sem", "robust mutex"};
enum variant { RAW, IPCX, NVAR };
static const char *variant_name[NVAR] = {"raw", "ipcx"};

/* One primitive in one variant: raw objects and ipcx handles side by side. The shared page
 * holds the raw objects, ipcx's slots and the counter. */
struct obj {
    enum prim p;
    enum variant v;
    char *shm;
    sem_t *rsem[2];
    int semid;
    pthread_mutex_t *rmutex;
    ipcx_region *region;
    ipcx_sem *isem[2];
    ipcx_semset *iset;
    ipcx_mutex *imutex;
    char names[2][64];
    volatile long *counter;
};

#define CHECK(call)                                                                       \
    do {                                                                                  \
        int s_ = (call);                                                                  \
        if (s_ != IPCX_OK) {                                                              \
            fprintf(stderr, "bench: %s: %s\n", #call, ipcx_last_error());                 \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

static void raw_mutex_init(pthread_mutex_t *m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    if (pthread_mutex_init(m, &a)) b_die("pthread_mutex_init");
    pthread_mutexattr_destroy(&a);
}

/* Semaphore 0 starts at `v0`, semaphore 1 at 0. */
static void setup(struct obj *o, enum prim p, enum variant v, int v0) {
    memset(o, 0, sizeof *o);
    o->p = p;
    o->v = v;
    CHECK(ipcx_region_create(4096, &o->region));
    void *base;
    CHECK(ipcx_region_base(o->region, &base, NULL));
    o->shm = base;
    o->counter = (volatile long *)(o->shm + 2048);
    for (int i = 0; i < 2; i++)
        snprintf(o->names[i], sizeof o->names[i], "/ipcx-bench-%d-%d", (int)getpid(), i);
    switch (p) {
    case SEM:
        if (v == RAW) {
            o->rsem[0] = (sem_t *)(o->shm + 0);
            o->rsem[1] = (sem_t *)(o->shm + 64);
            if (sem_init(o->rsem[0], 1, (unsigned)v0) || sem_init(o->rsem[1], 1, 0)) b_die("sem_init");
        } else {
            CHECK(ipcx_sem_init(o->region, 0, v0, &o->isem[0]));
            CHECK(ipcx_sem_init(o->region, 64, 0, &o->isem[1]));
        }
        break;
    case NAMED:
        for (int i = 0; i < 2; i++) {
            sem_unlink(o->names[i]);
            if (v == RAW) {
                o->rsem[i] = sem_open(o->names[i], O_CREAT | O_EXCL, 0600, i ? 0 : (unsigned)v0);
                if (o->rsem[i] == SEM_FAILED) b_die("sem_open");
            } else {
                CHECK(ipcx_sem_open(o->names[i], i ? 0 : v0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
                                    NULL, &o->isem[i]));
            }
        }
        break;
    case SYSV:
        if (v == RAW) {
            o->semid = semget(IPC_PRIVATE, 2, 0600);
            unsigned short vals[2] = {(unsigned short)v0, 0};
            if (o->semid < 0 || semctl(o->semid, 0, SETALL, vals) < 0) b_die("semget");
        } else {
            int32_t vals[2] = {v0, 0};
            CHECK(ipcx_semset_open(IPCX_KEY_PRIVATE, 2, vals, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
                                   NULL, IPCX_NOWAIT, &o->iset));
        }
        break;
    case MUTEX:
        if (v == RAW) {
            o->rmutex = (pthread_mutex_t *)(o->shm + 128);
            raw_mutex_init(o->rmutex);
        } else {
            CHECK(ipcx_mutex_init(o->region, 128, NULL, &o->imutex));
        }
        break;
    default:
        break;
    }
}

static void teardown(struct obj *o) {
    switch (o->p) {
    case SEM:
        if (o->v == IPCX) {
            CHECK(ipcx_sem_destroy(o->isem[0]));
            CHECK(ipcx_sem_destroy(o->isem[1]));
            CHECK(ipcx_sem_close(o->isem[0]));
            CHECK(ipcx_sem_close(o->isem[1]));
        }
        break;
    case NAMED:
        for (int i = 0; i < 2; i++) {
            if (o->v == RAW) sem_close(o->rsem[i]);
            else CHECK(ipcx_sem_close(o->isem[i]));
            /* What ipcx created, ipcx removes (which also forgets its provenance record). */
            if (o->v == RAW) sem_unlink(o->names[i]);
            else CHECK(ipcx_sem_remove(o->names[i]));
        }
        break;
    case SYSV:
        if (o->v == RAW) semctl(o->semid, 0, IPC_RMID);
        else {
            CHECK(ipcx_semset_remove(o->iset));
            CHECK(ipcx_semset_close(o->iset));
        }
        break;
    case MUTEX:
        if (o->v == IPCX) {
            CHECK(ipcx_mutex_destroy(o->imutex));
            CHECK(ipcx_mutex_close(o->imutex));
        }
        break;
    default:
        break;
    }
    CHECK(ipcx_region_close(o->region));
}

/* Take (P / lock) and give (V / unlock) semaphore or mutex `i`. */
static inline void take(struct obj *o, int i) {
    static struct sembuf down[2] = {{0, -1, 0}, {1, -1, 0}};
    switch (o->p) {
    case SEM:
    case NAMED:
        if (o->v == RAW) {
            while (sem_wait(o->rsem[i]) != 0)
                if (errno != EINTR) b_die("sem_wait");
        } else if (ipcx_sem_wait(o->isem[i], IPCX_FOREVER)) b_die(ipcx_last_error());
        break;
    case SYSV:
        if (o->v == RAW) {
            while (semop(o->semid, &down[i], 1) != 0)
                if (errno != EINTR) b_die("semop");
        } else if (ipcx_semset_p(o->iset, (uint32_t)i, 0, IPCX_FOREVER)) b_die(ipcx_last_error());
        break;
    case MUTEX:
        if (o->v == RAW) {
            if (pthread_mutex_lock(o->rmutex)) b_die("pthread_mutex_lock");
        } else if (ipcx_mutex_lock(o->imutex, IPCX_FOREVER)) b_die(ipcx_last_error());
        break;
    default:
        break;
    }
}

static inline void give(struct obj *o, int i) {
    static struct sembuf up[2] = {{0, 1, 0}, {1, 1, 0}};
    switch (o->p) {
    case SEM:
    case NAMED:
        if (o->v == RAW) {
            if (sem_post(o->rsem[i])) b_die("sem_post");
        } else if (ipcx_sem_post(o->isem[i])) b_die(ipcx_last_error());
        break;
    case SYSV:
        if (o->v == RAW) {
            if (semop(o->semid, &up[i], 1)) b_die("semop");
        } else if (ipcx_semset_v(o->iset, (uint32_t)i, 0)) b_die(ipcx_last_error());
        break;
    case MUTEX:
        if (o->v == RAW) {
            if (pthread_mutex_unlock(o->rmutex)) b_die("pthread_mutex_unlock");
        } else if (ipcx_mutex_unlock(o->imutex)) b_die(ipcx_last_error());
        break;
    default:
        break;
    }
}

/* The uncontended loops, one function per primitive and variant with the calls inlined, so
 * that callgrind can count exactly the instructions of a loop (--toggle-collect=loop_*). */
__attribute__((noinline)) static void loop_sem_raw(sem_t *s, long n) {
    for (long i = 0; i < n; i++) {
        sem_post(s);
        sem_wait(s);
    }
}
__attribute__((noinline)) static void loop_sem_ipcx(ipcx_sem *s, long n) {
    for (long i = 0; i < n; i++) {
        ipcx_sem_post(s);
        ipcx_sem_wait(s, IPCX_FOREVER);
    }
}
__attribute__((noinline)) static void loop_sysv_raw(int id, long n) {
    struct sembuf up = {0, 1, 0}, down = {0, -1, 0};
    for (long i = 0; i < n; i++) {
        semop(id, &up, 1);
        semop(id, &down, 1);
    }
}
__attribute__((noinline)) static void loop_sysv_ipcx(ipcx_semset *s, long n) {
    for (long i = 0; i < n; i++) {
        ipcx_semset_v(s, 0, 0);
        ipcx_semset_p(s, 0, 0, IPCX_FOREVER);
    }
}
__attribute__((noinline)) static void loop_mutex_raw(pthread_mutex_t *m, long n) {
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
    }
}
__attribute__((noinline)) static void loop_mutex_ipcx(ipcx_mutex *m, long n) {
    for (long i = 0; i < n; i++) {
        ipcx_mutex_lock(m, IPCX_FOREVER);
        ipcx_mutex_unlock(m);
    }
}

static void run_loop(struct obj *o, long n) {
    switch (o->p) {
    case SEM:
    case NAMED:
        if (o->v == RAW) loop_sem_raw(o->rsem[0], n);
        else loop_sem_ipcx(o->isem[0], n);
        break;
    case SYSV:
        if (o->v == RAW) loop_sysv_raw(o->semid, n);
        else loop_sysv_ipcx(o->iset, n);
        break;
    case MUTEX:
        if (o->v == RAW) loop_mutex_raw(o->rmutex, n);
        else loop_mutex_ipcx(o->imutex, n);
        break;
    default:
        break;
    }
}

static long pairs_for(enum prim p, long fast) { return p == SYSV ? fast / 10 : fast; }

/* ns per uncontended pair. */
static double uncontended(enum prim p, enum variant v) {
    struct obj o;
    setup(&o, p, v, 0);
    long n = pairs_for(p, 1000000);
    run_loop(&o, n / 10); /* warm-up */
    int64_t t0 = b_now_ns();
    run_loop(&o, n);
    double per = (double)(b_now_ns() - t0) / (double)n;
    teardown(&o);
    return per;
}

/* ns per pair, two processes taking the same semaphore/mutex around a shared counter. */
static double contended(enum prim p, enum variant v, int child_cpu) {
    struct obj o;
    setup(&o, p, v, 1);
    long n = pairs_for(p, 200000);
    volatile int *go = (volatile int *)(o.shm + 3072);
    pid_t pid = fork();
    if (pid == 0) {
        b_pin(child_cpu);
        while (!*go) {
        }
        for (long i = 0; i < n; i++) {
            take(&o, 0);
            (*o.counter)++;
            give(&o, 0);
        }
        _exit(0);
    }
    int64_t t0 = b_now_ns();
    *go = 1;
    for (long i = 0; i < n; i++) {
        take(&o, 0);
        (*o.counter)++;
        give(&o, 0);
    }
    b_wait(pid);
    double per = (double)(b_now_ns() - t0) / (double)(2 * n);
    if (*o.counter != 2 * n) b_die("counter (lost update)");
    teardown(&o);
    return per;
}

/* us per round trip: the parent gives semaphore 0 and takes 1; the child the reverse. */
static double round_trip(enum prim p, enum variant v, int child_cpu, int iters) {
    struct obj o;
    setup(&o, p, v, 0);
    pid_t pid = fork();
    if (pid == 0) {
        b_pin(child_cpu);
        for (int i = 0; i < iters + iters / 10; i++) {
            take(&o, 0);
            give(&o, 1);
        }
        _exit(0);
    }
    for (int i = 0; i < iters / 10; i++) {
        give(&o, 0);
        take(&o, 1);
    }
    int64_t t0 = b_now_ns();
    for (int i = 0; i < iters; i++) {
        give(&o, 0);
        take(&o, 1);
    }
    double per = (double)(b_now_ns() - t0) / iters / 1000.0;
    b_wait(pid);
    teardown(&o);
    return per;
}

/* The uncontended unnamed-semaphore pair with `n` other live handles: cheap ones (options
 * objects), made before the semaphores so that those get slots past them, and closed once
 * the runs are done. */
static void with_live_handles(long n, int runs, struct b_series s[NVAR]) {
    ipcx_options **h = n ? malloc((size_t)n * sizeof *h) : NULL;
    if (n && !h) b_die("malloc");
    for (long i = 0; i < n; i++) CHECK(ipcx_options_create(&h[i]));
    for (int r = 0; r < runs; r++)
        for (int v = 0; v < NVAR; v++) b_add(&s[v], uncontended(SEM, (enum variant)v));
    for (long i = 0; i < n; i++) CHECK(ipcx_options_close(h[i]));
    free(h);
}

static void report(const char *what, const char *unit, struct b_series s[NVAR]);

static void uncontended_cases(int runs) {
    printf("\nuncontended (one process on CPU0): one V + one P, or one lock + one unlock\n");
    for (int p = 0; p < NPRIM; p++) {
        struct b_series s[NVAR] = {0};
        for (int r = 0; r < runs; r++)
            for (int v = 0; v < NVAR; v++) b_add(&s[v], uncontended((enum prim)p, (enum variant)v));
        char what[64];
        snprintf(what, sizeof what, "%s pair", prim_name[p]);
        report(what, "ns", s);
    }
    printf("\nuncontended unnamed sem pair with N other live ipcx handles (one process on CPU0)\n");
    const long counts[] = {0, 10000, 1000000};
    for (int k = 0; k < 3; k++) {
        struct b_series s[NVAR] = {0};
        with_live_handles(counts[k], runs, s);
        char what[64];
        snprintf(what, sizeof what, "unnamed sem pair, N = %ld", counts[k]);
        report(what, "ns", s);
    }
}

static void report(const char *what, const char *unit, struct b_series s[NVAR]) {
    for (int v = 0; v < NVAR; v++) {
        printf("  %-40s %-5s", what, variant_name[v]);
        b_print_series(unit, &s[v]);
        if (v != RAW) {
            double lo, hi, r = b_ratio(&s[v], &s[RAW], &lo, &hi);
            printf("   ratio %.3fx (%.3f-%.3f) [target <= 1.05]", r, lo, hi);
        }
        printf("\n");
    }
}

static int calls_mode(int argc, char **argv) {
    if (argc != 5) return 2;
    enum prim p = NPRIM;
    const char *names[NPRIM] = {"sem", "named", "sysv", "mutex"};
    for (int i = 0; i < NPRIM; i++)
        if (strcmp(argv[2], names[i]) == 0) p = (enum prim)i;
    enum variant v = strcmp(argv[3], "ipcx") == 0 ? IPCX : RAW;
    if (p == NPRIM) return 2;
    struct obj o;
    setup(&o, p, v, 0);
    run_loop(&o, atol(argv[4]));
    teardown(&o);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "calls") == 0) return calls_mode(argc, argv);
    int only_uncontended = argc > 1 && strcmp(argv[1], "uncontended") == 0;
    if (only_uncontended) {
        argc--;
        argv++;
    }
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 7;
    setvbuf(stdout, NULL, _IOLBF, 0);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("ipcx %s semaphore/lock benchmark: %d runs per figure, median (min-max), ratio = median of per-run ipcx/raw\n",
           ipcx_version(), runs);
    b_pin(0);
    uncontended_cases(runs);
    if (only_uncontended) return 0;
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("\n%s (parent CPU0, child CPU%d)\n", place == 0 ? "cross-core" : "same-core", child_cpu);
        for (int p = 0; p < NPRIM; p++) {
            struct b_series s[NVAR] = {0};
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < NVAR; v++)
                    b_add(&s[v], contended((enum prim)p, (enum variant)v, child_cpu));
            char what[64];
            snprintf(what, sizeof what, "%s contended pair (2 procs)", prim_name[p]);
            report(what, "ns", s);
        }
        for (int p = 0; p < MUTEX; p++) {
            struct b_series s[NVAR] = {0};
            int iters = place == 0 ? 2000 : 20000;
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < NVAR; v++)
                    b_add(&s[v], round_trip((enum prim)p, (enum variant)v, child_cpu, iters));
            char what[64];
            snprintf(what, sizeof what, "%s round trip (2 sems)", prim_name[p]);
            report(what, "us", s);
        }
    }
    return 0;
}
