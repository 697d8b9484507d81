/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour rows: signals. The seed: a signal is a software interrupt, the only asynchronous
 * IPC; a process answers it in one of three ways (ignore, catch, default action); signals
 * are reliable or unreliable, real-time or not, and POSIX real-time signals carry extra
 * information. Row 1 shows the three dispositions across fork; row 2 shows, live, that
 * standard signals coalesce while real-time ones queue in order with their payloads. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tour.h"

#define SIG(s) ((ipcx_sigset)1 << ((s) - 1))

static void sync_put(int fd) {
    char c = 'x';
    while (write(fd, &c, 1) < 0 && errno == EINTR) {}
}

static int sync_get(int fd, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    do r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    char c;
    return r == 1 && read(fd, &c, 1) == 1;
}

/* Wait for a child and return its raw wait status (-1 if it had to be killed). */
static int wait_status(pid_t pid, int timeout_ms) {
    int st = 0;
    int64_t end = tour_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if ((r < 0 && errno != EINTR) || tour_now_ns() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(1000);
    }
}

static ipcx_notifier *g_notifier;
static atomic_int g_caught;

/* The handler does only async-signal-safe work: count, and poke the notifier. */
static void on_usr1(int signo, void *info, void *ctx) {
    (void)signo, (void)info, (void)ctx;
    atomic_fetch_add(&g_caught, 1);
    ipcx_notifier_poke(g_notifier);
}

/* A child with `action` for SIGUSR1 gets one SIGUSR1; returns its wait status. */
static int one_disposition(struct tour_row *row, int action) {
    int ready[2];
    if (pipe(ready)) return tour_fail(row, "pipe failed");
    pid_t pid = fork();
    if (pid == 0) {
        int s = action == IPCX_SIGNAL_IGNORE ? ipcx_signal_ignore(SIGUSR1, NULL)
                                             : ipcx_signal_default(SIGUSR1, NULL);
        sync_put(ready[1]);
        if (s != IPCX_OK) _exit(2);
        usleep(300 * 1000); /* long enough for the signal to arrive */
        _exit(0);
    }
    int st = -1;
    if (sync_get(ready[0], 5000) && ipcx_signal_send(pid, SIGUSR1) == IPCX_OK) st = wait_status(pid, 5000);
    else wait_status(pid, 5000);
    close(ready[0]);
    close(ready[1]);
    return st;
}

void tour_signal_dispositions(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "ignore: child lives; default: dies of it; catch: 1 run per send");
    int st = one_disposition(row, IPCX_SIGNAL_IGNORE);
    if (!row->ok) return;
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        tour_fail(row, "a child ignoring SIGUSR1 did not survive it (status %#x)", st);
        return;
    }
    st = one_disposition(row, IPCX_SIGNAL_DEFAULT);
    if (!row->ok) return;
    if (st < 0 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGUSR1) {
        tour_fail(row, "a child with the default action was not killed by SIGUSR1 (status %#x)", st);
        return;
    }
    /* Catch: the parent sends SIGUSR1, the child's handler pokes a notifier, the child's
     * main loop wakes and answers with SIGUSR2, which the parent takes synchronously. */
    ipcx_sigset old;
    int s = ipcx_signal_block(SIG(SIGUSR2), &old); /* before fork: the child inherits it */
    if (s) {
        tour_fail_status(row, "ipcx_signal_block", s);
        return;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        int bad = ipcx_notifier_create(NULL, &g_notifier) != IPCX_OK ||
                  ipcx_signal_catch(SIGUSR1, on_usr1, IPCX_SIGNAL_RESTART, NULL) != IPCX_OK;
        if (!bad) bad = ipcx_signal_send(parent, SIGUSR2) != IPCX_OK; /* ready */
        for (int i = 0; i < TOUR_ROUNDS && !bad; i++) {
            uint64_t pokes = 0;
            bad = ipcx_notifier_wait(g_notifier, 5000, &pokes) != IPCX_OK || pokes != 1 ||
                  atomic_load(&g_caught) != i + 1 || ipcx_signal_send(parent, SIGUSR2) != IPCX_OK;
        }
        ipcx_notifier_close(g_notifier);
        _exit(bad);
    }
    static int64_t samples[TOUR_ROUNDS];
    ipcx_siginfo info = {.size = sizeof info};
    s = ipcx_signal_wait(SIG(SIGUSR2), 5000, &info);
    for (int i = 0; i < TOUR_ROUNDS && s == IPCX_OK; i++) {
        int64_t t0 = tour_now_ns();
        s = ipcx_signal_send(pid, SIGUSR1);
        if (s == IPCX_OK) s = ipcx_signal_wait(SIG(SIGUSR2), 5000, &info);
        samples[i] = tour_now_ns() - t0;
        if (s == IPCX_OK && info.pid != pid) s = IPCX_ERR_PROTOCOL;
    }
    if (s != IPCX_OK) tour_fail_status(row, "catch round trip", s);
    if (!tour_wait_child(pid, 10000) && row->ok)
        tour_fail(row, "the catching child saw a handler run other than once per signal");
    ipcx_signal_set_mask(old, NULL);
    if (row->ok) {
        row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
        snprintf(row->detail, sizeof row->detail,
                 "RT: SIGUSR1 -> handler -> notifier poke -> SIGUSR2 back, %d rounds", TOUR_ROUNDS);
    }
}

void tour_signal_queueing(struct tour_row *row) {
    enum { N = 1000 };
    const int rt1 = ipcx_signal_rtmin() + 1;
    const ipcx_sigset set = SIG(SIGUSR1) | SIG(rt1);
    ipcx_sigset old;
    int s = ipcx_signal_block(set, &old);
    if (s) {
        tour_fail_status(row, "ipcx_signal_block", s);
        return;
    }
    /* The child sends 1000 SIGUSR1 and 1000 SIGRTMIN+1 (payload = sequence number) while
     * the parent has both blocked. */
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        for (int i = 0; i < N && !bad; i++) {
            ipcx_sigval v = {.as_int = i};
            bad = ipcx_signal_send(getppid(), SIGUSR1) != IPCX_OK ||
                  ipcx_signal_queue(getppid(), rt1, v) != IPCX_OK;
        }
        _exit(bad);
    }
    if (!tour_wait_child(pid, 10000)) {
        tour_fail(row, "the sending child failed");
        ipcx_signal_set_mask(old, NULL);
        return;
    }
    int usr1 = 0, next = 0, disorder = 0;
    ipcx_siginfo info = {.size = sizeof info};
    while ((s = ipcx_signal_wait(set, IPCX_NOWAIT, &info)) == IPCX_OK) {
        if (info.signo == SIGUSR1) usr1++;
        else if (info.value.as_int == next && info.pid == pid) next++;
        else disorder++;
    }
    snprintf(row->checked, sizeof row->checked, "%d SIGUSR1 sent -> %d seen; %d SIGRTMIN+1 -> %d, in order",
             N, usr1, N, next);
    if (s != IPCX_ERR_TIMEOUT) tour_fail_status(row, "ipcx_signal_wait", s);
    else if (usr1 != 1 || next != N || disorder)
        tour_fail(row, "expected 1 SIGUSR1 and %d real-time signals in order (%d out of order)", N, disorder);
    if (!row->ok) {
        ipcx_signal_set_mask(old, NULL);
        return;
    }

    /* Round trip: a queued real-time signal with a payload each way. */
    pid = fork();
    if (pid == 0) {
        int bad = 0;
        for (;;) {
            ipcx_siginfo in = {.size = sizeof in};
            if (ipcx_signal_wait(SIG(rt1), 5000, &in) != IPCX_OK) _exit(1);
            if (in.value.as_int < 0) break;
            bad |= ipcx_signal_queue(getppid(), rt1, in.value) != IPCX_OK;
        }
        _exit(bad);
    }
    static int64_t samples[TOUR_ROUNDS];
    s = IPCX_OK;
    for (int i = 0; i < TOUR_ROUNDS && s == IPCX_OK; i++) {
        ipcx_sigval v = {.as_int = i};
        int64_t t0 = tour_now_ns();
        s = ipcx_signal_queue(pid, rt1, v);
        if (s == IPCX_OK) s = ipcx_signal_wait(SIG(rt1), 5000, &info);
        samples[i] = tour_now_ns() - t0;
        if (s == IPCX_OK && info.value.as_int != i) s = IPCX_ERR_PROTOCOL;
    }
    ipcx_sigval stop = {.as_int = -1};
    ipcx_signal_queue(pid, rt1, stop);
    if (s != IPCX_OK) tour_fail_status(row, "real-time round trip", s);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "the echo child failed");
    ipcx_signal_set_mask(old, NULL);
    if (row->ok) {
        row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
        snprintf(row->detail, sizeof row->detail,
                 "RT: ipcx_signal_queue + ipcx_signal_wait each way, payload checked");
    }
}
