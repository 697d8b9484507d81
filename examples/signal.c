/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: signals between parent and child.
 *
 * 1. Catch: the parent catches SIGUSR1. The handler does the only kind of work a handler
 *    may do (async-signal-safe): it pokes an ipcx_notifier. The parent's main code waits
 *    on the notifier and does the real work outside the handler.
 * 2. Real-time signals: with SIGRTMIN+1 blocked, the child queues three signals, each
 *    with a payload; the parent takes them in order with a pollable signalfd receiver.
 *    (Three SIGUSR1s sent while blocked would arrive as one: standard signals coalesce.)
 *
 * Build: cc signal.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static ipcx_notifier *wake;

static void on_usr1(int signo, void *info, void *context) {
    (void)signo, (void)info, (void)context;
    ipcx_notifier_poke(wake);       /* async-signal-safe: one write, no lock */
}

int main(void) {
    const int rt1 = ipcx_signal_rtmin() + 1;
    const ipcx_sigset rt_set = (ipcx_sigset)1 << (rt1 - 1);
    ipcx_signal_disposition old = {.size = sizeof old};
    ipcx_signalfd *rx;
    /* Block SIGRTMIN+1 before forking (the child inherits the mask) and before creating
     * the receiver: a signalfd only sees signals that are blocked in every thread. */
    if (ipcx_notifier_create(NULL, &wake) != IPCX_OK ||
        ipcx_signal_catch(SIGUSR1, on_usr1, IPCX_SIGNAL_RESTART, &old) != IPCX_OK ||
        ipcx_signal_block(rt_set, NULL) != IPCX_OK ||
        ipcx_signalfd_create(rt_set, NULL, &rx) != IPCX_OK) {
        fprintf(stderr, "setup: %s\n", ipcx_last_error());
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {                 /* child: notify, then send three payloads */
        ipcx_signal_send(getppid(), SIGUSR1);
        for (int i = 1; i <= 3; i++) {
            ipcx_sigval v = {.as_int = i * 100};
            if (ipcx_signal_queue(getppid(), rt1, v) != IPCX_OK)
                fprintf(stderr, "child: %s\n", ipcx_last_error());
        }
        _exit(0);
    }
    int failed = 0;
    uint64_t pokes = 0;
    if (ipcx_notifier_wait(wake, 5000 /* ms */, &pokes) == IPCX_OK)
        printf("parent: SIGUSR1 caught (%llu poke)\n", (unsigned long long)pokes);
    else
        failed = fprintf(stderr, "parent: %s\n", ipcx_last_error());
    for (int i = 0; i < 3 && !failed; i++) {   /* in order, each with its payload */
        ipcx_siginfo info = {.size = sizeof info};
        if (ipcx_signalfd_recv(rx, 5000, &info) != IPCX_OK) {
            failed = fprintf(stderr, "parent: %s\n", ipcx_last_error());
            break;
        }
        printf("parent: SIGRTMIN+%d from pid %d, payload %d\n", info.signo - ipcx_signal_rtmin(),
               (int)info.pid, info.value.as_int);
    }
    ipcx_signal_set_disposition(SIGUSR1, &old, NULL); /* restore, then close */
    ipcx_signalfd_close(rx);
    ipcx_notifier_close(wake);
    int status;
    waitpid(pid, &status, 0);
    return failed || !WIFEXITED(status) ? 1 : WEXITSTATUS(status);
}
