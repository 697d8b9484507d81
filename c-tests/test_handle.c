/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Handles (docs/conventions.md, "Handles"): a handle is an identifier checked against a
 * table with a generation, pinned for each call. A stale handle, a double close, a handle of
 * another type, garbage, and a close racing calls on other threads all give a defined status,
 * never undefined behaviour; what a racing close releases is released once, after the last
 * call, and nothing leaks (the harness checks the descriptors of every case). */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
#include <sys/single_threaded.h>
#endif

#include "test.h"
#include "valgrind_env.h"

/* The scenario that was unsound in 0.1: a freed handle's address given to the next handle,
 * and the stale copy accepted (it then freed the new object). */
T_CASE(stale_handle_after_reuse) {
    ipcx_options *a, *b;
    T_OK(ipcx_options_create(&a));
    ipcx_options *stale = a;
    T_OK(ipcx_options_close(a));
    T_OK(ipcx_options_create(&b));
    T_ASSERT(b != stale);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_mode(stale, 0640));
    T_LAST_ERROR_HAS("closed");
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_close(stale));
    /* The new object survived both. */
    T_OK(ipcx_options_set_mode(b, 0640));
    T_OK(ipcx_options_close(b));
    T_OK(ipcx_options_create(&b));
    T_OK(ipcx_options_set_capacity(b, 65536));
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, b, &r, &w));
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
    T_OK(ipcx_options_close(b));

    /* Many generations through the same slots: every stale value stays refused. */
    ipcx_options *old[64];
    for (int i = 0; i < 64; i++) {
        T_OK(ipcx_options_create(&old[i]));
        T_OK(ipcx_options_close(old[i]));
    }
    ipcx_options *live[64];
    for (int i = 0; i < 64; i++) T_OK(ipcx_options_create(&live[i]));
    for (int i = 0; i < 64; i++) {
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_mode(old[i], 0600));
        for (int j = 0; j < 64; j++) T_ASSERT(old[i] != live[j]);
    }
    for (int i = 0; i < 64; i++) T_OK(ipcx_options_close(live[i]));
}

T_CASE(double_close_frees_once) {
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    T_OK(ipcx_pipe_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_send(r, "x", 1, IPCX_NOWAIT));
    /* The other end is untouched and sees its reader gone. */
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send(w, "x", 1, IPCX_NOWAIT));
    T_OK(ipcx_pipe_close(w));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close(w));
    /* Closing NULL is a no-op, for every type. */
    T_OK(ipcx_pipe_close(NULL));
    T_OK(ipcx_options_close(NULL));
    T_OK(ipcx_sem_close(NULL));
}

T_CASE(wrong_type_and_garbage) {
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    /* A live handle of another type. */
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_close((ipcx_sock *)r));
    T_LAST_ERROR_HAS("not an ipcx_sock");
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_mode((ipcx_options *)w, 0600));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_post((ipcx_sem *)w));
    /* Values ipcx never gave out: small numbers, all ones, a real heap address. */
    void *heap = malloc(64);
    T_ASSERT(heap);
    /* A live handle with one generation bit flipped (the generation sits above the slot
     * index: bits 32-55 of a 64-bit handle, 20-31 of a 32-bit one). */
    const unsigned gen_bit = sizeof(uintptr_t) == 8 ? 40 : 28;
    void *garbage[] = {(void *)1, (void *)0x1234, (void *)~(uintptr_t)0, heap,
                       (void *)((uintptr_t)r ^ ((uintptr_t)1 << gen_bit))};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_send((ipcx_pipe *)garbage[i], "x", 1, 0));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close((ipcx_pipe *)garbage[i]));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_post((ipcx_sem *)garbage[i]));
    }
    free(heap);
    /* NULL is an invalid argument, not a bad handle. */
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_send(NULL, "x", 1, 0));
    /* Both ends still work. */
    T_OK(ipcx_pipe_send(w, "ok", 2, IPCX_NOWAIT));
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, IPCX_NOWAIT));
    T_EQ_INT(len, 2);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

/* ------------------------------------------------------------------ races */

struct racer {
    ipcx_sem *sem;
    ipcx_pipe *pipe;
    atomic_int *go;
    long ok, bad, busy, other;
};

static void *sem_racer(void *arg) {
    struct racer *r = arg;
    while (!atomic_load(r->go)) sched_yield();
    for (;;) {
        int s = ipcx_sem_post(r->sem);
        if (s == IPCX_OK) s = ipcx_sem_wait(r->sem, IPCX_NOWAIT);
        if (s == IPCX_OK || s == IPCX_ERR_TIMEOUT) r->ok++;
        else if (s == IPCX_ERR_BAD_HANDLE) {
            r->bad++;
            return NULL;
        } else {
            r->other++;
            return NULL;
        }
    }
}

static void *pipe_racer(void *arg) {
    struct racer *r = arg;
    while (!atomic_load(r->go)) sched_yield();
    for (;;) {
        int rd = -2, wr = -2;
        int s = ipcx_pipe_fds(r->pipe, &rd, &wr);
        if (s == IPCX_OK) {
            if (rd < 0) {
                r->other++;
                return NULL;
            }
            r->ok++;
        } else if (s == IPCX_ERR_IN_USE)
            r->busy++;
        else if (s == IPCX_ERR_BAD_HANDLE) {
            r->bad++;
            return NULL;
        } else {
            r->other++;
            return NULL;
        }
    }
}

/* A thread-safe handle: four threads post and wait while the main thread closes it. Every
 * call either runs on a live semaphore or is refused; all four end with BAD_HANDLE. */
T_CASE(close_racing_four_threads_thread_safe_handle) {
    for (long round = 0; round < t_scaled(50); round++) {
        ipcx_sem *s;
        T_OK(ipcx_sem_create(0, &s));
        atomic_int go = 0;
        struct racer rs[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            rs[i] = (struct racer){.sem = s, .go = &go};
            T_ASSERT(pthread_create(&th[i], NULL, sem_racer, &rs[i]) == 0);
        }
        atomic_store(&go, 1);
        usleep((useconds_t)(round % 5) * 200);
        T_OK(ipcx_sem_close(s));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_close(s));
        for (int i = 0; i < 4; i++) {
            T_ASSERT(pthread_join(th[i], NULL) == 0);
            T_ASSERTF(rs[i].other == 0, "thread %d got an unexpected status", i);
            T_ASSERTF(rs[i].bad == 1, "thread %d did not end with BAD_HANDLE", i);
        }
    }
}

/* A one-thread handle: concurrent calls are refused with IN_USE instead of racing; a close
 * racing them releases the pipe (its descriptors: the harness counts them) after the last
 * call returns. */
T_CASE(close_racing_four_threads_one_thread_handle) {
    long busy = 0;
    for (long round = 0; round < t_scaled(50); round++) {
        ipcx_pipe *r, *w;
        T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
        atomic_int go = 0;
        struct racer rs[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            rs[i] = (struct racer){.pipe = r, .go = &go};
            T_ASSERT(pthread_create(&th[i], NULL, pipe_racer, &rs[i]) == 0);
        }
        atomic_store(&go, 1);
        usleep((useconds_t)(round % 5) * 200);
        T_OK(ipcx_pipe_close(r));
        for (int i = 0; i < 4; i++) {
            T_ASSERT(pthread_join(th[i], NULL) == 0);
            T_ASSERTF(rs[i].other == 0, "thread %d got an unexpected status", i);
            T_ASSERTF(rs[i].bad == 1, "thread %d did not end with BAD_HANDLE", i);
            busy += rs[i].busy;
        }
        /* The read end is gone for good: the writer sees no reader. */
        T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send(w, "x", 1, IPCX_NOWAIT));
        T_OK(ipcx_pipe_close(w));
    }
    printf("# %ld calls refused with IPCX_ERR_IN_USE\n", busy);
}

/* Time limits grow under valgrind, which runs threads one at a time and slowly. */
static int64_t slowdown(void) { return t_under_valgrind() ? 10 : 1; }

struct blocked {
    ipcx_pipe *p;
    int status;
};

static void *blocked_recv(void *arg) {
    struct blocked *b = arg;
    char buf[16];
    size_t len = sizeof buf;
    /* The main thread's probing call may hold the handle at the moment this one starts
     * (slow under emulation): then this one gets IN_USE; try again. */
    do b->status = ipcx_pipe_recv(b->p, buf, &len, 3000 * slowdown());
    while (b->status == IPCX_ERR_IN_USE);
    return NULL;
}

/* A call inside a one-thread handle makes a second call fail at once with IN_USE; closing it
 * meanwhile lets the first call finish, then releases the pipe. */
T_CASE(in_use_and_close_while_a_call_blocks) {
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    struct blocked b = {.p = r, .status = -1};
    pthread_t th;
    T_ASSERT(pthread_create(&th, NULL, blocked_recv, &b) == 0);
    int s;
    double t0 = t_now_ms();
    /* Until the other thread is inside its receive, the call may still get in (it blocks up
     * to 3 s there, so keep trying for at most 2 s, yielding the CPU between tries). */
    for (;;) {
        int fd;
        s = ipcx_pipe_fds(r, &fd, NULL);
        if (s != IPCX_OK || t_now_ms() - t0 > 2000.0 * (double)slowdown()) break;
        usleep(1000);
    }
    T_EQ_INT(s, IPCX_ERR_IN_USE);
    T_LAST_ERROR_HAS("one thread at a time");
    T_OK(ipcx_pipe_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close(r));
    /* The blocked receive is still inside the pipe: a message reaches it. */
    T_OK(ipcx_pipe_send(w, "late", 4, 1000));
    T_ASSERT(pthread_join(th, NULL) == 0);
    T_EQ_INT(b.status, IPCX_OK);
    /* Now the read end is released. */
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_send(w, "x", 1, IPCX_NOWAIT));
    T_OK(ipcx_pipe_close(w));
}

/* A signal handler that calls on a handle whose call its thread is inside gets IN_USE, also
 * in a process of one thread, where the busy flag is taken without a locked instruction
 * (glibc 2.32 and later); one that calls outside any call gets through, and the flag is
 * free again after the interrupted call. */
static ipcx_pipe *reentered;
static volatile sig_atomic_t reentry_status = -1;
static void reenter(int sig) {
    (void)sig;
    int fd;
    reentry_status = ipcx_pipe_fds(reentered, &fd, NULL);
}

T_CASE(in_use_from_a_signal_handler_on_the_same_thread) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
    printf("# one thread (glibc's __libc_single_threaded): %d\n", (int)__libc_single_threaded);
#endif
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    reentered = r;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reenter;
    sigemptyset(&sa.sa_mask);
    T_ASSERT(sigaction(SIGALRM, &sa, &old) == 0);
    /* Outside any call. */
    T_ASSERT(raise(SIGALRM) == 0);
    T_EQ_INT(reentry_status, IPCX_OK);
    /* During a receive that waits (EINTR is retried against its deadline). */
    reentry_status = -1;
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 100000}};
    T_ASSERT(setitimer(ITIMER_REAL, &it, NULL) == 0);
    char buf[8];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_pipe_recv(r, buf, &len, 500 * slowdown()));
    T_EQ_INT(reentry_status, IPCX_ERR_IN_USE);
    /* The flag is free again: the handler and the thread both get in. */
    T_ASSERT(raise(SIGALRM) == 0);
    T_EQ_INT(reentry_status, IPCX_OK);
    T_OK(ipcx_pipe_send(w, "x", 1, 1000));
    len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 1000));
    T_EQ_INT(len, 1);
    T_ASSERT(sigaction(SIGALRM, &old, NULL) == 0);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

/* Handles are valid in a forked child (same ids), and closing there does not affect the
 * parent's copy. */
T_CASE(handles_across_fork) {
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    pid_t pid = t_fork();
    if (pid == 0) {
        T_OK(ipcx_pipe_close(r));
        T_OK(ipcx_pipe_send(w, "child", 5, 2000));
        T_OK(ipcx_pipe_close(w));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close(w));
        _exit(0);
    }
    T_OK(ipcx_pipe_close(w));
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 5000));
    T_EQ_INT(len, 5);
    t_wait_ok(pid, 5000);
    T_OK(ipcx_pipe_close(r));
}

/* Many live handles: each one found, each one closed once. */
T_CASE(many_live_handles) {
    enum { N = 100000 };
    ipcx_options **o = calloc(N, sizeof *o);
    T_ASSERT(o);
    for (int i = 0; i < N; i++) T_OK(ipcx_options_create(&o[i]));
    for (int i = 0; i < N; i += 997) T_OK(ipcx_options_set_mode(o[i], 0600));
    for (int i = 0; i < N; i++) T_OK(ipcx_options_close(o[i]));
    for (int i = 0; i < N; i += 997) T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_close(o[i]));
    free(o);
}

T_MAIN(T_ENTRY(stale_handle_after_reuse), T_ENTRY(double_close_frees_once),
       T_ENTRY(wrong_type_and_garbage), T_ENTRY(close_racing_four_threads_thread_safe_handle),
       T_ENTRY(close_racing_four_threads_one_thread_handle),
       T_ENTRY(in_use_and_close_while_a_call_blocks),
       T_ENTRY(in_use_from_a_signal_handler_on_the_same_thread), T_ENTRY(handles_across_fork),
       T_ENTRY(many_live_handles))
