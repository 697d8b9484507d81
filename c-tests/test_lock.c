/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Robust process-shared mutexes and condition variables in shared memory: counting across
 * processes, owner death (SIGKILL) and recovery, not-recoverable state, unrelated
 * processes, timeouts, placement rules and every bad input. */
#include "sync_util.h"
#include "valgrind_env.h"

#include <pthread.h>

_Static_assert(IPCX_MUTEX_SIZE >= sizeof(pthread_mutex_t) + 8, "mutex slot");
_Static_assert(IPCX_COND_SIZE >= sizeof(pthread_cond_t) + 8, "cond slot");

#define WORKERS 4
#define ROUNDS ((int)t_scaled(100000)) /* 10000 under valgrind */

/* Layout of the test regions. */
#define M_OFF 0
#define C_OFF 64
#define DATA_OFF 256

struct shared {
    volatile long counter;
    volatile int ready, waiting, woken, half;
};

static struct shared *data_of(ipcx_region *r) { return (struct shared *)((char *)base_of(r) + DATA_OFF); }

/* A child that locks `m`, marks the data half-updated, and dies by SIGKILL holding it. */
static pid_t die_holding(ipcx_mutex *m, struct shared *d) {
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_mutex_lock(m, 10000));
        d->half = 1;
        raise(SIGKILL);
        _exit(2);
    }
    t_wait_killed(p);
    return p;
}

/* A region with a robust mutex at M_OFF and, if asked, a condition variable at C_OFF. */
struct fix {
    ipcx_region *r;
    ipcx_mutex *m;
    ipcx_cond *c;
    struct shared *d;
};

static struct fix fixture(int with_cond) {
    struct fix f = {0};
    T_OK(ipcx_region_create(4096, &f.r));
    f.d = data_of(f.r);
    T_OK(ipcx_mutex_init(f.r, M_OFF, NULL, &f.m));
    if (with_cond) T_OK(ipcx_cond_init(f.r, C_OFF, &f.c));
    return f;
}

/* Destroy `c` (if not NULL) and `m`, close their handles and the region. */
static void fixture_end(struct fix *f, ipcx_mutex *m, ipcx_cond *c) {
    if (c) {
        T_OK(ipcx_cond_destroy(c));
        T_OK(ipcx_cond_close(c));
    }
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_close(m));
    T_OK(ipcx_region_close(f->r));
}

/* ---------------------------------------------------------------- mutex */

struct thread_arg {
    ipcx_mutex *m;
    int status[3];
};

static void *other_thread(void *p) {
    struct thread_arg *a = p;
    a->status[0] = ipcx_mutex_unlock(a->m);             /* not the owner */
    a->status[1] = ipcx_mutex_lock(a->m, IPCX_NOWAIT);  /* held by the main thread */
    a->status[2] = ipcx_mutex_lock(a->m, 100);
    return NULL;
}

T_CASE(mutex_lock_unlock_and_errors) {
    struct fix f = fixture(0);
    ipcx_region *r = f.r;
    ipcx_mutex *m = f.m;
    /* Unlocking a mutex nobody holds: an error, not undefined behaviour. */
    T_ERR(IPCX_ERR_PERMISSION, ipcx_mutex_unlock(m));
    T_LAST_ERROR_HAS("does not hold it");
    T_OK(ipcx_mutex_lock(m, IPCX_FOREVER));
    /* Locking twice from one thread: an error, not a deadlock. */
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_lock(m, IPCX_FOREVER));
    T_LAST_ERROR_HAS("already holds it");
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_lock(m, 100));
    /* Not in the owner-died state. */
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_consistent(m));
    T_LAST_ERROR_HAS("not in the owner-died state");
    /* Another thread: cannot unlock, try-lock fails at once, timed lock times out. */
    struct thread_arg a = {m, {-1, -1, -1}};
    pthread_t th;
    T_ASSERT(pthread_create(&th, NULL, other_thread, &a) == 0);
    T_ASSERT(pthread_join(th, NULL) == 0);
    T_EQ_INT(a.status[0], IPCX_ERR_PERMISSION);
    T_EQ_INT(a.status[1], IPCX_ERR_TIMEOUT);
    T_EQ_INT(a.status[2], IPCX_ERR_TIMEOUT);
    /* Another process: the same, with the timeouts measured. */
    pid_t p = t_fork();
    if (p == 0) {
        T_ERR(IPCX_ERR_PERMISSION, ipcx_mutex_unlock(m));
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_mutex_lock(m, IPCX_NOWAIT));
        T_LAST_ERROR_HAS("held by another thread");
        T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_mutex_lock(m, 200));
        T_LAST_ERROR_HAS("timed out");
        /* Blocks until the parent unlocks. */
        T_OK(ipcx_mutex_lock(m, 10000));
        T_OK(ipcx_mutex_unlock(m));
        _exit(0);
    }
    usleep(400000);
    /* Closing or destroying a mutex this process holds is refused. */
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_close(m));
    T_LAST_ERROR_HAS("unlock it before closing");
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_unlock(m));
    t_wait_ok(p, 10000);
    T_OK(ipcx_mutex_lock(m, IPCX_NOWAIT));
    T_OK(ipcx_mutex_unlock(m));
    T_OK(ipcx_mutex_destroy(m));
    ipcx_mutex *gone = (ipcx_mutex *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mutex_attach(r, M_OFF, &gone));
    T_ASSERT(gone == NULL);
    T_OK(ipcx_mutex_close(m));
    T_OK(ipcx_region_close(r));
}

T_CASE(mutex_owner_death_and_recovery) {
    struct fix f = fixture(0);
    ipcx_mutex *m = f.m;
    struct shared *d = f.d;
    die_holding(m, d);
    T_ASSERT(d->half == 1);
    /* The next locker is told, and holds the lock. */
    T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_mutex_lock(m, 1000));
    T_LAST_ERROR_HAS("previous owner died");
    T_EQ_INT(ipcx_last_errno(), EOWNERDEAD);
    pid_t p = t_fork();
    if (p == 0) { /* really held: another process cannot take it */
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_mutex_lock(m, IPCX_NOWAIT));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    d->half = 0; /* repair */
    T_OK(ipcx_mutex_consistent(m));
    T_OK(ipcx_mutex_unlock(m));
    /* Usable again, by everyone. */
    p = t_fork();
    if (p == 0) {
        T_OK(ipcx_mutex_lock(m, 1000));
        T_OK(ipcx_mutex_unlock(m));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    /* Try-lock and timed lock report owner death too. */
    die_holding(m, d);
    T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_mutex_lock(m, IPCX_NOWAIT));
    T_OK(ipcx_mutex_consistent(m));
    T_OK(ipcx_mutex_unlock(m));
    die_holding(m, d);
    T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_mutex_lock(m, 500));
    T_OK(ipcx_mutex_consistent(m));
    T_OK(ipcx_mutex_unlock(m));
    fixture_end(&f, m, NULL);
}

T_CASE(mutex_not_recoverable_without_consistent) {
    struct fix f = fixture(0);
    ipcx_region *r = f.r;
    ipcx_mutex *m = f.m;
    struct shared *d = f.d;
    die_holding(m, d);
    T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_mutex_lock(m, 1000));
    T_OK(ipcx_mutex_unlock(m)); /* without ipcx_mutex_consistent */
    T_ERR(IPCX_ERR_NOT_RECOVERABLE, ipcx_mutex_lock(m, 1000));
    T_LAST_ERROR_HAS("never marked consistent");
    T_ERR(IPCX_ERR_NOT_RECOVERABLE, ipcx_mutex_lock(m, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_NOT_RECOVERABLE, ipcx_mutex_lock(m, IPCX_FOREVER));
    pid_t p = t_fork();
    if (p == 0) {
        T_ERR(IPCX_ERR_NOT_RECOVERABLE, ipcx_mutex_lock(m, 1000));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    /* The way out: destroy and initialise again. */
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_close(m));
    T_OK(ipcx_mutex_init(r, M_OFF, NULL, &m));
    T_OK(ipcx_mutex_lock(m, 1000));
    T_OK(ipcx_mutex_unlock(m));
    fixture_end(&f, m, NULL);
}

T_CASE(mutex_owner_death_wakes_a_blocked_locker) {
    struct fix f = fixture(0);
    ipcx_mutex *m = f.m;
    struct shared *d = f.d;
    pid_t holder = t_fork();
    if (holder == 0) {
        T_OK(ipcx_mutex_lock(m, 10000));
        d->ready = 1;
        sleep(30);
        _exit(2);
    }
    T_EVENTUALLY(d->ready);
    pid_t waiter = t_fork();
    if (waiter == 0) {
        d->waiting = 1;
        double t0 = t_now_ms();
        T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_mutex_lock(m, 20000)); /* blocked until the kill */
        T_ASSERT(t_now_ms() - t0 < 10000);
        T_OK(ipcx_mutex_consistent(m));
        T_OK(ipcx_mutex_unlock(m));
        _exit(0);
    }
    T_EVENTUALLY(d->waiting);
    usleep(100000);
    T_ASSERT(kill(holder, SIGKILL) == 0);
    t_wait_killed(holder);
    t_wait_ok(waiter, 10000);
    T_OK(ipcx_mutex_lock(m, IPCX_NOWAIT));
    T_OK(ipcx_mutex_unlock(m));
    fixture_end(&f, m, NULL);
}

T_CASE(counter_4x100k_robust_mutex) {
    struct fix f = fixture(0);
    ipcx_mutex *m = f.m;
    struct shared *d = f.d;
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = t_fork();
        if (pids[w] == 0) {
            for (int i = 0; i < ROUNDS; i++) {
                T_OK(ipcx_mutex_lock(m, 20000));
                d->counter++;
                T_OK(ipcx_mutex_unlock(m));
            }
            _exit(0);
        }
    }
    for (int w = 0; w < WORKERS; w++) t_wait_ok(pids[w], 50000);
    T_EQ_INT(d->counter, (long)WORKERS * ROUNDS);
    fixture_end(&f, m, NULL);
}

T_CASE(mutex_between_unrelated_processes) {
    /* The test and two separately started programs map the same file themselves and
     * share a mutex in it by address (no ipcx_region involved). */
    char path[256];
    char *mem = map_new_file(path, sizeof path, 4096);
    ipcx_mutex *m;
    T_OK(ipcx_mutex_init_at(mem + 128, NULL, &m));
    volatile long *counter = (volatile long *)(mem + 1024);
    char *argv[] = {"sync_peer", "mutex-count", path, "128", "1024", "50000", NULL};
    pid_t peers[2] = {spawn_peer(argv), spawn_peer(argv)};
    for (int i = 0; i < 50000; i++) {
        T_OK(ipcx_mutex_lock(m, 20000));
        (*counter)++;
        T_OK(ipcx_mutex_unlock(m));
    }
    t_wait_ok(peers[0], 50000);
    t_wait_ok(peers[1], 50000);
    T_EQ_INT(*counter, 150000);
    /* An unrelated holder killed with SIGKILL: the next locker is told. */
    volatile int *flag = (volatile int *)(mem + 2048);
    char *hold[] = {"sync_peer", "mutex-hold", path, "128", "2048", NULL};
    pid_t h = spawn_peer(hold);
    T_EVENTUALLY(*flag == 1);
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_mutex_lock(m, 50));
    T_ASSERT(kill(h, SIGKILL) == 0);
    t_wait_killed(h);
    T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_mutex_lock(m, 5000));
    T_OK(ipcx_mutex_consistent(m));
    T_OK(ipcx_mutex_unlock(m));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_close(m));
    T_ASSERT(munmap(mem, 4096) == 0);
    T_ASSERT(unlink(path) == 0);
}

T_CASE(mutex_placement_and_lifetime) {
    ipcx_region *r;
    T_OK(ipcx_region_create(8192, &r));
    ipcx_mutex *m = (ipcx_mutex *)1, *a;
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init(r, 32, NULL, &m));
    T_LAST_ERROR_HAS("not aligned to 64 bytes");
    T_ASSERT(m == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init(r, 8192, NULL, &m));
    T_LAST_ERROR_HAS("outside the 8192-byte region");
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init(r, (size_t)-64, NULL, &m));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach(r, 8, &m));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach(r, 1 << 20, &m));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_mutex_attach(r, 4096, &m));
    T_LAST_ERROR_HAS("no mutex is initialised there");
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init(NULL, 0, NULL, &m));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init(r, 0, NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach(NULL, 0, &m));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach(r, 0, NULL));
    /* No option applies to mutexes yet. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_mutex_init(r, 4096, o, &m)); /* an options object with nothing set is fine */
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_close(m));
    T_OK(ipcx_options_set_mode(o, 0600));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init(r, 4096, o, &m));
    T_LAST_ERROR_HAS("not supported by mutexes");
    void *base = NULL;
    T_OK(ipcx_region_base(r, &base, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init_at((char *)base + 4096, o, &m));
    T_OK(ipcx_options_close(o));
    /* Double init, kind mismatch. */
    T_OK(ipcx_mutex_init(r, 4096, NULL, &m));
    T_ERR(IPCX_ERR_EXISTS, ipcx_mutex_init(r, 4096, NULL, &a));
    ipcx_cond *c = (ipcx_cond *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_attach(r, 4096, &c));
    T_LAST_ERROR_HAS("a mutex is initialised there, not a condition variable");
    T_ASSERT(c == NULL);
    T_ERR(IPCX_ERR_EXISTS, ipcx_cond_init(r, 4096, &c));
    /* By address: alignment, shared memory only. */
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init_at(NULL, NULL, &a));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init_at((char *)base + 4, NULL, &a));
    static _Alignas(64) char private_mem[128];
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init_at(private_mem, NULL, &a));
    T_LAST_ERROR_HAS("not a shared mapping");
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach_at(private_mem, &a));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach_at(NULL, &a));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_attach_at(base, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_init_at(base, NULL, NULL));
    T_OK(ipcx_mutex_attach_at((char *)base + 4096, &a));
    /* The region closed before the handles: they keep working (closed late under
     * valgrind: see t_unmap_early in valgrind_env.h). */
    if (!t_under_valgrind()) T_OK(ipcx_region_close(r));
    T_OK(ipcx_mutex_lock(a, 1000));
    /* Two handles, one mutex: this thread holds it through either. */
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_lock(m, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_destroy(m));
    T_LAST_ERROR_HAS("it is locked");
    T_ERR(IPCX_ERR_IN_USE, ipcx_mutex_close(a));
#if defined(__GLIBC__) && UINTPTR_MAX == 0xffffffffu
    /* 32-bit glibc finds a robust mutex it unlocks by the address it was locked at: the
     * unlock goes through the handle that locked. */
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_unlock(m));
    T_LAST_ERROR_HAS("locked it through another handle");
    T_OK(ipcx_mutex_unlock(a));
#else
    T_OK(ipcx_mutex_unlock(m));
#endif
    T_OK(ipcx_mutex_close(a));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_close(m));
    if (t_under_valgrind()) T_OK(ipcx_region_close(r));
}

/* ---------------------------------------------------------------- condition variable */

T_CASE(cond_signal_broadcast_and_timeouts) {
    struct fix f = fixture(1);
    ipcx_region *r = f.r;
    ipcx_mutex *m = f.m;
    ipcx_cond *c = f.c;
    struct shared *d = f.d;
    /* Waiting without holding the mutex is an error, with timeout 0 too; timeout 0 with
     * the mutex held does not wait. */
    T_ERR(IPCX_ERR_PERMISSION, ipcx_cond_wait(c, m, 1000));
    T_LAST_ERROR_HAS("does not hold the mutex");
    T_ERR(IPCX_ERR_PERMISSION, ipcx_cond_wait(c, m, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("does not hold the mutex");
    /* A timed wait on the monotonic clock; the mutex is held again afterwards. */
    T_OK(ipcx_mutex_lock(m, 1000));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_cond_wait(c, m, 200));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_cond_wait(c, m, IPCX_NOWAIT));
    T_OK(ipcx_mutex_unlock(m)); /* still held after both */
    /* Signal: a waiting child wakes when the parent changes the condition. */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_mutex_lock(m, 10000));
        d->waiting++;
        while (!d->ready) T_OK(ipcx_cond_wait(c, m, 10000));
        d->woken++;
        T_OK(ipcx_mutex_unlock(m));
        _exit(0);
    }
    T_EVENTUALLY(d->waiting == 1);
    T_OK(ipcx_mutex_lock(m, 1000));
    d->ready = 1;
    T_OK(ipcx_cond_signal(c));
    T_OK(ipcx_mutex_unlock(m));
    t_wait_ok(p, 10000);
    T_EQ_INT(d->woken, 1);
    /* Broadcast: three waiting children (attached by offset, as another program would). */
    d->ready = 0;
    d->waiting = 0;
    d->woken = 0;
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            ipcx_mutex *mm;
            ipcx_cond *cc;
            T_OK(ipcx_mutex_attach(r, M_OFF, &mm));
            T_OK(ipcx_cond_attach(r, C_OFF, &cc));
            T_OK(ipcx_mutex_lock(mm, 10000));
            d->waiting++;
            while (!d->ready) T_OK(ipcx_cond_wait(cc, mm, 10000));
            d->woken++;
            T_OK(ipcx_mutex_unlock(mm));
            T_OK(ipcx_cond_close(cc));
            T_OK(ipcx_mutex_close(mm));
            _exit(0);
        }
    }
    for (;;) { /* until all three wait (they released the mutex inside the wait) */
        T_OK(ipcx_mutex_lock(m, 10000));
        int n = d->waiting;
        if (n == 3) break;
        T_OK(ipcx_mutex_unlock(m));
        usleep(1000);
    }
    d->ready = 1;
    T_OK(ipcx_cond_broadcast(c));
    T_OK(ipcx_mutex_unlock(m));
    for (int k = 0; k < 3; k++) t_wait_ok(kids[k], 10000);
    T_EQ_INT(d->woken, 3);
    T_OK(ipcx_cond_signal(c)); /* nobody waits: fine */
    T_OK(ipcx_cond_destroy(c));
    ipcx_cond *gone = (ipcx_cond *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_cond_attach(r, C_OFF, &gone));
    T_ASSERT(gone == NULL);
    T_OK(ipcx_cond_close(c));
    fixture_end(&f, m, NULL);
}

T_CASE(cond_wait_reports_owner_dead) {
    struct fix f = fixture(1);
    ipcx_mutex *m = f.m;
    ipcx_cond *c = f.c;
    struct shared *d = f.d;
    /* The child takes the mutex while the parent waits, signals, and dies holding it. */
    T_OK(ipcx_mutex_lock(m, 1000));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_mutex_lock(m, 10000)); /* granted once the parent waits */
        d->half = 1;
        T_OK(ipcx_cond_signal(c));
        raise(SIGKILL);
        _exit(2);
    }
    T_ERR(IPCX_ERR_OWNER_DEAD, ipcx_cond_wait(c, m, 10000));
    T_LAST_ERROR_HAS("previous owner died");
    t_wait_killed(p);
    T_ASSERT(d->half == 1);
    d->half = 0;
    T_OK(ipcx_mutex_consistent(m)); /* the waiter holds the mutex again */
    /* A timed wait whose deadline passes while a dead process holds the mutex: owner death
     * wins over the timeout, reported after the deadline. */
    p = t_fork();
    if (p == 0) {
        T_OK(ipcx_mutex_lock(m, 10000));
        raise(SIGKILL);
        _exit(2);
    }
    T_TIMES_OUT(IPCX_ERR_OWNER_DEAD, 300, ipcx_cond_wait(c, m, 300));
    t_wait_killed(p);
    T_OK(ipcx_mutex_consistent(m));
    T_OK(ipcx_mutex_unlock(m));
    fixture_end(&f, m, c);
}

/* Waiters killed inside ipcx_cond_wait (SIGKILL, as a crash would) leave the condition
 * variable usable: later signals and broadcasts return at once and wake live waiters. With
 * glibc's process-shared pthread_cond_t (2.36) the dead waiters' group references stay
 * counted and the next broadcast blocks for ever (found by stress/ipcx_stress). */
T_CASE(cond_survives_killed_waiters) {
    struct fix f = fixture(1);
    ipcx_mutex *m = f.m;
    ipcx_cond *c = f.c;
    struct shared *d = f.d;
    for (int round = 0; round < 4; round++) {
        /* Two waiters block (one untimed, one timed), then both are killed mid-wait. */
        pid_t w[2];
        d->waiting = 0;
        for (int i = 0; i < 2; i++) {
            w[i] = t_fork();
            if (w[i] == 0) {
                T_OK(ipcx_mutex_lock(m, 10000));
                d->waiting++;
                for (;;) ipcx_cond_wait(c, m, i ? 60000 : IPCX_FOREVER);
            }
        }
        for (int i = 0; i < 5000; i++) {
            T_OK(ipcx_mutex_lock(m, 10000));
            int n = d->waiting;
            T_OK(ipcx_mutex_unlock(m));
            if (n == 2) break;
            usleep(1000);
        }
        T_EQ_INT(d->waiting, 2);
        for (int i = 0; i < 2; i++) {
            kill(w[i], SIGKILL);
            t_wait_killed(w[i]);
        }
        /* Signal and broadcast in a child, so that a hang fails the case instead of
         * blocking it; then a live waiter is woken. */
        pid_t s = t_fork();
        if (s == 0) {
            T_OK(ipcx_cond_signal(c));
            T_OK(ipcx_cond_broadcast(c));
            T_OK(ipcx_cond_signal(c));
            _exit(0);
        }
        t_wait_ok(s, 5000);
        d->ready = 0;
        d->woken = 0;
        pid_t live = t_fork();
        if (live == 0) {
            T_OK(ipcx_mutex_lock(m, 10000));
            d->waiting = 100;
            for (int k = 0; !d->ready && k < 3; k++) T_OK(ipcx_cond_wait(c, m, 10000));
            T_ASSERT(d->ready);
            d->woken = 1;
            T_OK(ipcx_mutex_unlock(m));
            _exit(0);
        }
        for (int i = 0; i < 5000 && d->waiting != 100; i++) usleep(1000);
        T_OK(ipcx_mutex_lock(m, 10000));
        d->ready = 1;
        pid_t b = t_fork();
        if (b == 0) {
            T_OK(ipcx_cond_broadcast(c));
            _exit(0);
        }
        t_wait_ok(b, 5000);
        T_OK(ipcx_mutex_unlock(m));
        t_wait_ok(live, 5000);
        T_ASSERT(d->woken == 1);
    }
    fixture_end(&f, m, c);
}

T_CASE(cond_placement_by_address) {
    char path[256];
    char *mem = map_new_file(path, sizeof path, 4096);
    ipcx_cond *c = (ipcx_cond *)1, *c2;
    ipcx_mutex *m;
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_init_at(NULL, &c));
    T_ASSERT(c == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_init_at(mem + 16, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_init_at(mem, NULL));
    static _Alignas(64) char private_mem[128];
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_init_at(private_mem, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_attach_at(private_mem, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_attach_at(NULL, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_attach_at(mem, NULL));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_cond_attach_at(mem, &c));
    T_OK(ipcx_cond_init_at(mem, &c));
    T_ERR(IPCX_ERR_EXISTS, ipcx_cond_init_at(mem, &c2));
    T_OK(ipcx_cond_attach_at(mem, &c2));
    T_OK(ipcx_mutex_init_at(mem + 64, NULL, &m));
    T_ASSERT(t_unmap_early(mem, 4096) == 0); /* the handles keep their own mappings */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(100000);
        T_OK(ipcx_mutex_lock(m, 10000));
        T_OK(ipcx_cond_broadcast(c2));
        T_OK(ipcx_mutex_unlock(m));
        _exit(0);
    }
    T_OK(ipcx_mutex_lock(m, 1000));
    T_OK(ipcx_cond_wait(c, m, 10000)); /* (a spurious wake-up would also pass: fine) */
    T_OK(ipcx_mutex_unlock(m));
    t_wait_ok(p, 10000);
    T_OK(ipcx_cond_close(c2));
    T_OK(ipcx_cond_destroy(c));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_cond_close(c));
    T_OK(ipcx_mutex_close(m));
    t_unmap_late(mem, 4096);
    T_ASSERT(unlink(path) == 0);
}

/* _destroy destroys the object only: the handle stays open, every later call on it, or on
 * another handle to the object in any process, fails with IPCX_ERR_REMOVED (as for
 * semaphores, see test_sem.c), and _close releases it. */
T_CASE(destroy_keeps_the_handle_until_close) {
    struct fix f = fixture(1);
    ipcx_mutex *m = f.m, *m2;
    ipcx_cond *c = f.c, *c2;
    T_OK(ipcx_mutex_attach(f.r, M_OFF, &m2));
    T_OK(ipcx_cond_attach(f.r, C_OFF, &c2));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_cond_destroy(c));
    /* A forked child's handles see it too. */
    pid_t p = t_fork();
    if (p == 0) {
        T_ERR(IPCX_ERR_REMOVED, ipcx_mutex_lock(m2, IPCX_FOREVER)); /* fails, never blocks */
        T_ERR(IPCX_ERR_REMOVED, ipcx_cond_signal(c2));
        T_OK(ipcx_mutex_close(m2));
        T_OK(ipcx_cond_close(c2));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    ipcx_mutex *ms[] = {m, m2};
    ipcx_cond *cs[] = {c, c2};
    for (int k = 0; k < 2; k++) {
        T_ERR(IPCX_ERR_REMOVED, ipcx_mutex_lock(ms[k], IPCX_NOWAIT));
        T_LAST_ERROR_HAS("destroyed");
        T_ERR(IPCX_ERR_REMOVED, ipcx_mutex_lock(ms[k], 50));
        T_ERR(IPCX_ERR_REMOVED, ipcx_mutex_unlock(ms[k]));
        T_ERR(IPCX_ERR_REMOVED, ipcx_mutex_consistent(ms[k]));
        T_ERR(IPCX_ERR_REMOVED, ipcx_mutex_destroy(ms[k]));
        T_ERR(IPCX_ERR_REMOVED, ipcx_cond_signal(cs[k]));
        T_ERR(IPCX_ERR_REMOVED, ipcx_cond_broadcast(cs[k]));
        T_ERR(IPCX_ERR_REMOVED, ipcx_cond_wait(cs[k], ms[k], 50));
        T_ERR(IPCX_ERR_REMOVED, ipcx_cond_destroy(cs[k]));
        T_OK(ipcx_mutex_close(ms[k]));
        T_OK(ipcx_cond_close(cs[k]));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_lock(ms[k], 0));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_destroy(ms[k]));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_destroy(cs[k]));
    }
    /* The slots are free again: a new mutex and condition variable; a wait on a live
     * condition variable with a destroyed mutex fails the same way. */
    T_OK(ipcx_mutex_init(f.r, M_OFF, NULL, &m));
    T_OK(ipcx_cond_init(f.r, C_OFF, &c));
    T_OK(ipcx_mutex_init(f.r, 3 * 64, NULL, &m2));
    T_OK(ipcx_mutex_destroy(m2));
    T_ERR(IPCX_ERR_REMOVED, ipcx_cond_wait(c, m2, 50));
    T_OK(ipcx_mutex_close(m2));
    fixture_end(&f, m, c);
}

T_CASE(lock_closed_null_and_foreign_handles) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    ipcx_mutex *m;
    ipcx_cond *c;
    T_OK(ipcx_mutex_init(r, M_OFF, NULL, &m));
    T_OK(ipcx_cond_init(r, C_OFF, &c));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_lock(m, -2));
    T_OK(ipcx_mutex_lock(m, 1000));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_wait(c, m, -5));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_wait(c, NULL, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_wait(NULL, m, 100));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_wait(c, (ipcx_mutex *)c, 100));
    T_OK(ipcx_mutex_unlock(m));
    /* NULL handles. */
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_lock(NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_unlock(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_consistent(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_signal(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_broadcast(NULL));
    T_OK(ipcx_mutex_close(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_mutex_destroy(NULL)); /* only close takes NULL */
    T_OK(ipcx_cond_close(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_destroy(NULL));
    /* Foreign handles. */
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_lock((ipcx_mutex *)r, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_signal((ipcx_cond *)m));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_close((ipcx_mutex *)c));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_close((ipcx_cond *)m));
    /* Closed handles, double close. */
    ipcx_mutex *m2;
    ipcx_cond *c2;
    T_OK(ipcx_mutex_attach(r, M_OFF, &m2));
    T_OK(ipcx_cond_attach(r, C_OFF, &c2));
    T_OK(ipcx_mutex_close(m2));
    T_OK(ipcx_cond_close(c2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_close(m2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_destroy(m2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_lock(m2, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_unlock(m2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_consistent(m2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_close(c2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_destroy(c2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_signal(c2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_broadcast(c2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_wait(c2, m, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_wait(c, m2, 0));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_cond_destroy(c));
    T_OK(ipcx_mutex_close(m));
    T_OK(ipcx_cond_close(c));
    /* A closed region. */
    T_OK(ipcx_region_close(r));
    ipcx_mutex *x = (ipcx_mutex *)1;
    ipcx_cond *y = (ipcx_cond *)1;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_init(r, 0, NULL, &x));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_mutex_attach(r, 0, &x));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_init(r, 0, &y));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_cond_attach(r, 0, &y));
    T_ASSERT(x == NULL && y == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_init(NULL, 0, &y));
    T_ERR(IPCX_ERR_INVALID, ipcx_cond_attach(NULL, 0, &y));
}

T_MAIN(T_ENTRY(mutex_lock_unlock_and_errors), T_ENTRY(mutex_owner_death_and_recovery),
       T_ENTRY(mutex_not_recoverable_without_consistent),
       T_ENTRY(mutex_owner_death_wakes_a_blocked_locker), T_ENTRY(counter_4x100k_robust_mutex),
       T_ENTRY(mutex_between_unrelated_processes), T_ENTRY(mutex_placement_and_lifetime),
       T_ENTRY(cond_signal_broadcast_and_timeouts), T_ENTRY(cond_wait_reports_owner_dead),
       T_ENTRY(cond_survives_killed_waiters),
       T_ENTRY(cond_placement_by_address), T_ENTRY(destroy_keeps_the_handle_until_close),
       T_ENTRY(lock_closed_null_and_foreign_handles))
