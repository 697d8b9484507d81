/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour rows: semaphores and process-shared locks. The seed: a semaphore is a counter that
 * only the atomic P (wait) and V (post) operations change; it carries no data but guards
 * the resources that do (shared memory); named semaphores serve unrelated processes,
 * unnamed ones live in memory the processes share (sem_init's second argument), and
 * shared memory is typically paired with a semaphore or a mutex. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tour.h"

/* Round trips through two semaphores: the parent posts `ping` and waits on `pong`; the
 * child (`child_side`) does the reverse, adding 1 to the shared value each time. */
struct pingpong {
    ipcx_sem *ping, *pong;
    volatile long *value;
};

static int sem_rounds(struct tour_row *row, struct pingpong *pp, int64_t *samples) {
    for (int i = 0; i < TOUR_ROUNDS; i++) {
        *pp->value = 2 * i;
        int64_t t0 = tour_now_ns();
        int s = ipcx_sem_post(pp->ping);
        if (s == IPCX_OK) s = ipcx_sem_wait(pp->pong, 10000);
        samples[i] = tour_now_ns() - t0;
        if (s) return tour_fail_status(row, "ping-pong", s);
        if (*pp->value != 2 * i + 1) return tour_fail(row, "round %d: the child's update is missing", i);
    }
    return 1;
}

static void sem_child_side(struct pingpong *pp) {
    for (int i = 0; i < TOUR_ROUNDS; i++) {
        if (ipcx_sem_wait(pp->ping, 10000) != IPCX_OK) _exit(1);
        (*pp->value)++;
        if (ipcx_sem_post(pp->pong) != IPCX_OK) _exit(1);
    }
}

/* The counting semantics: three V, value 3, three P, then a P that would block. */
static int counts(struct tour_row *row, ipcx_sem *s) {
    int32_t v = -1;
    for (int i = 0; i < 3; i++)
        if (ipcx_sem_post(s)) return tour_fail(row, "post: %s", ipcx_last_error());
    if (ipcx_sem_value(s, &v) || v != 3) return tour_fail(row, "value after 3 posts: %d", (int)v);
    for (int i = 0; i < 3; i++)
        if (ipcx_sem_wait(s, IPCX_NOWAIT)) return tour_fail(row, "wait: %s", ipcx_last_error());
    if (ipcx_sem_wait(s, IPCX_NOWAIT) != IPCX_ERR_TIMEOUT) return tour_fail(row, "P on 0 did not block");
    return 1;
}

void tour_sem_named(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "open by name in child, P/V counting, try-wait, unlink, 2-sem RT");
    char ping[64], pong[64];
    snprintf(ping, sizeof ping, "/ipcx-tour-%d-ping", (int)getpid());
    snprintf(pong, sizeof pong, "/ipcx-tour-%d-pong", (int)getpid());
    ipcx_region *r = NULL;
    struct pingpong pp = {0};
    int s = ipcx_region_create(4096, &r);
    if (s == IPCX_OK) s = ipcx_sem_open(ping, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                        &pp.ping);
    if (s == IPCX_OK) s = ipcx_sem_open(pong, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                        &pp.pong);
    if (s) {
        tour_fail_status(row, "ipcx_sem_open", s);
        goto out;
    }
    void *base;
    ipcx_region_base(r, &base, NULL);
    pp.value = base;
    if (!counts(row, pp.ping)) goto out;
    pid_t pid = fork();
    if (pid == 0) {
        /* The child opens both semaphores by name, as an unrelated process would. */
        struct pingpong mine = {NULL, NULL, pp.value};
        if (ipcx_sem_open(ping, 0, 0, NULL, &mine.ping) || ipcx_sem_open(pong, 0, 0, NULL, &mine.pong))
            _exit(1);
        sem_child_side(&mine);
        _exit(0);
    }
    static int64_t samples[TOUR_ROUNDS];
    int ok = sem_rounds(row, &pp, samples);
    if (!tour_wait_child(pid, 10000) && ok) ok = tour_fail(row, "child failed");
    if (ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
out:
    ipcx_sem_close(pp.ping);
    ipcx_sem_close(pp.pong);
    ipcx_sem_remove(ping);
    ipcx_sem_remove(pong);
    ipcx_region_close(r);
}

void tour_sem_unnamed(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "pshared sem in a region across fork, P/V, thread-only copy, RT");
    ipcx_region *r = NULL;
    struct pingpong pp = {0};
    ipcx_sem *priv = NULL;
    int s = ipcx_region_create(4096, &r);
    if (s == IPCX_OK) s = ipcx_sem_init(r, 0, 0, &pp.ping);
    if (s == IPCX_OK) s = ipcx_sem_init(r, IPCX_SEM_SIZE, 0, &pp.pong);
    if (s == IPCX_OK) s = ipcx_sem_create(0, &priv);
    if (s) {
        tour_fail_status(row, "ipcx_sem_init", s);
        goto out;
    }
    void *base;
    ipcx_region_base(r, &base, NULL);
    pp.value = (volatile long *)((char *)base + 2 * IPCX_SEM_SIZE);
    if (!counts(row, pp.ping)) goto out;
    pid_t pid = fork();
    if (pid == 0) {
        /* A thread-only (pshared = 0) semaphore is private memory: the child's post stays
         * in the child's copy. The shared ones connect the two processes. */
        if (ipcx_sem_post(priv)) _exit(1);
        sem_child_side(&pp);
        _exit(0);
    }
    static int64_t samples[TOUR_ROUNDS];
    int ok = sem_rounds(row, &pp, samples);
    if (!tour_wait_child(pid, 10000) && ok) ok = tour_fail(row, "child failed");
    int32_t v = -1;
    if (ok && (ipcx_sem_value(priv, &v) || v != 0)) ok = tour_fail(row, "thread-only semaphore was shared");
    if (ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
out:
    ipcx_sem_destroy(pp.ping);
    ipcx_sem_destroy(pp.pong);
    ipcx_sem_close(pp.ping);
    ipcx_sem_close(pp.pong);
    ipcx_sem_close(priv);
    ipcx_region_close(r);
}

void tour_semset(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "set of 2, atomic ops, SEM_UNDO after SIGKILL, removal wakes, RT");
    ipcx_semset *set = NULL;
    int s = ipcx_semset_open(IPCX_KEY_PRIVATE, 2, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                             IPCX_NOWAIT, &set);
    if (s) {
        tour_fail_status(row, "ipcx_semset_open", s);
        return;
    }
    static int64_t samples[TOUR_ROUNDS];
    int ok = 1;
    /* Ping-pong: the parent does V(0) P(1), the child P(0) V(1). */
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < TOUR_ROUNDS; i++)
            if (ipcx_semset_p(set, 0, 0, 10000) || ipcx_semset_v(set, 1, 0)) _exit(1);
        _exit(0);
    }
    for (int i = 0; i < TOUR_ROUNDS && ok; i++) {
        int64_t t0 = tour_now_ns();
        s = ipcx_semset_v(set, 0, 0);
        if (s == IPCX_OK) s = ipcx_semset_p(set, 1, 0, 10000);
        samples[i] = tour_now_ns() - t0;
        if (s) ok = tour_fail_status(row, "ping-pong", s);
    }
    if (!tour_wait_child(pid, 10000) && ok) ok = tour_fail(row, "child failed");
    /* Both at once or neither: P(0) and P(1) together while only 0 is available. */
    ipcx_semop both[2] = {{0, -1, 0}, {1, -1, 0}};
    int32_t v0 = -1;
    if (ok && (ipcx_semset_v(set, 0, 0) || ipcx_semset_op(set, both, 2, IPCX_NOWAIT) != IPCX_ERR_TIMEOUT ||
               ipcx_semset_get(set, 0, &v0) || v0 != 1))
        ok = tour_fail(row, "operations were not applied atomically");
    /* A child takes semaphore 0 with SEM_UNDO and is killed: the kernel gives it back. */
    if (ok) {
        pid = fork();
        if (pid == 0) {
            if (ipcx_semset_p(set, 0, IPCX_SEMSET_UNDO, 10000)) _exit(1);
            ipcx_semset_v(set, 1, 0);
            pause();
            _exit(1);
        }
        if (ipcx_semset_p(set, 1, 0, 10000)) ok = tour_fail(row, "child did not take the semaphore");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (ok && (ipcx_semset_get(set, 0, &v0) || v0 != 1)) ok = tour_fail(row, "SEM_UNDO did not restore the value");
    }
    /* Removal wakes a waiter with IPCX_ERR_REMOVED. */
    if (ok) {
        pid = fork();
        if (pid == 0) _exit(ipcx_semset_p(set, 1, 0, 10000) == IPCX_ERR_REMOVED ? 0 : 1);
        uint32_t n = 0;
        for (int i = 0; i < 5000 && n == 0; i++) {
            ipcx_semset_waiters(set, 1, &n, NULL);
            if (n == 0) usleep(1000);
        }
        ipcx_semset_remove(set);
        if (!tour_wait_child(pid, 10000)) ok = tour_fail(row, "a waiter was not woken by the removal");
    }
    ipcx_semset_remove(set);
    ipcx_semset_close(set);
    if (ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
}

/* Shared state of the mutex + condition variable row. */
struct turn {
    volatile int turn; /* 0: the parent's, 1: the child's */
    volatile long value;
};

void tour_mutex_cond(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "robust lock, cond wait/signal turns, owner-died + consistent, RT");
    ipcx_region *r = NULL;
    ipcx_mutex *m = NULL;
    ipcx_cond *c = NULL;
    int s = ipcx_region_create(4096, &r);
    if (s == IPCX_OK) s = ipcx_mutex_init(r, 0, NULL, &m);
    if (s == IPCX_OK) s = ipcx_cond_init(r, IPCX_MUTEX_SIZE, &c);
    if (s) {
        tour_fail_status(row, "init", s);
        goto out;
    }
    void *base;
    ipcx_region_base(r, &base, NULL);
    struct turn *t = (struct turn *)((char *)base + 256);
    static int64_t samples[TOUR_ROUNDS];
    int ok = 1;
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < TOUR_ROUNDS; i++) {
            if (ipcx_mutex_lock(m, 10000)) _exit(1);
            while (t->turn != 1)
                if (ipcx_cond_wait(c, m, 10000)) _exit(1);
            t->value++;
            t->turn = 0;
            ipcx_cond_signal(c);
            ipcx_mutex_unlock(m);
        }
        _exit(0);
    }
    for (int i = 0; i < TOUR_ROUNDS && ok; i++) {
        int64_t t0 = tour_now_ns();
        s = ipcx_mutex_lock(m, 10000);
        if (s) {
            ok = tour_fail_status(row, "lock", s);
            break;
        }
        t->turn = 1;
        ipcx_cond_signal(c);
        while (t->turn != 0 && s == IPCX_OK) s = ipcx_cond_wait(c, m, 10000);
        long v = t->value;
        ipcx_mutex_unlock(m);
        samples[i] = tour_now_ns() - t0;
        if (s) ok = tour_fail_status(row, "cond wait", s);
        else if (v != i + 1) ok = tour_fail(row, "round %d: value %ld", i, v);
    }
    if (!tour_wait_child(pid, 10000) && ok) ok = tour_fail(row, "child failed");
    /* The owner dies holding the mutex: the next locker is told, repairs, marks it consistent. */
    if (ok) {
        pid = fork();
        if (pid == 0) {
            ipcx_mutex_lock(m, 10000);
            t->value = -1; /* half-updated */
            raise(SIGKILL);
            _exit(1);
        }
        waitpid(pid, NULL, 0);
        s = ipcx_mutex_lock(m, 10000);
        if (s != IPCX_ERR_OWNER_DEAD) ok = tour_fail(row, "expected owner-dead, got %s", ipcx_strerror(s));
        else {
            t->value = TOUR_ROUNDS; /* repair */
            if (ipcx_mutex_consistent(m) || ipcx_mutex_unlock(m) || ipcx_mutex_lock(m, 0) || ipcx_mutex_unlock(m))
                ok = tour_fail(row, "recovery failed: %s", ipcx_last_error());
        }
    }
    if (ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
out:
    ipcx_cond_destroy(c);
    ipcx_mutex_destroy(m);
    ipcx_cond_close(c);
    ipcx_mutex_close(m);
    ipcx_region_close(r);
}
