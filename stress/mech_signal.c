/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-in: queued real-time signals carrying a sequence number (sigqueue) from a
 * victim that is killed while sending; the survivor takes them with ipcx_signal_wait.
 * Real-time signals are queued in order, each with its payload, and stay queued after
 * their sender died: nothing sent may be lost. */
#include "stress.h"

#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* At most this many signals in flight, so that the run never takes a large share of the
 * per-user RLIMIT_SIGPENDING other programs rely on. */
#define IN_FLIGHT 64

static int sig_of(void) { return ipcx_signal_rtmin() + 4; }

/* sent_ok[0]: sent by the victim; sent_ok[1]: taken by the survivor. */
static int sig_setup(st_run *r, int side) {
    (void)side;
    (void)r;
    ipcx_sigset set = 0;
    ipcx_sigset_add(&set, sig_of());
    return ipcx_signal_block(set, NULL); /* in the survivor process only */
}

static void sig_prune(st_run *r, int side) {
    (void)r;
    (void)side;
}

static void sig_victim(st_run *r) {
    pid_t to = getppid();
    st_victim_started(r);
    for (uint32_t seq = 0;;) {
        if (atomic_load(&r->sh->sent_ok[0]) - atomic_load(&r->sh->sent_ok[1]) >= IN_FLIGHT) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
            continue;
        }
        ipcx_sigval v = {.as_int = (int)seq};
        int s = ipcx_signal_queue(to, sig_of(), v);
        if (s == IPCX_ERR_LIMIT) continue; /* the user's queue is full: retry */
        if (s != IPCX_OK) st_victim_failed(r, s, "ipcx_signal_queue");
        atomic_fetch_add(&r->sh->sent_ok[0], 1);
        seq++;
    }
}

static void sig_survivor(st_run *r) {
    struct st_shared *sh = r->sh;
    ipcx_sigset set = 0;
    ipcx_sigset_add(&set, sig_of());
    pid_t victim = 0;
    uint64_t expect = 0;
    for (;;) {
        ipcx_siginfo info = {.size = sizeof info};
        int s = ipcx_signal_wait(set, 100, &info);
        if (s == IPCX_OK) {
            if (!victim) victim = atomic_load(&sh->victim_pid);
            sh->out.messages++;
            atomic_fetch_add(&sh->sent_ok[1], 1);
            if (info.signo != sig_of() || info.code != SI_QUEUE || info.pid != victim)
                sh->out.corrupt++;
            else if ((uint64_t)(uint32_t)info.value.as_int < expect) sh->out.dup++;
            else if ((uint64_t)(uint32_t)info.value.as_int > expect) sh->out.ooo++, expect = (uint32_t)info.value.as_int + 1;
            else expect++;
            continue;
        }
        double k = st_since_kill_ms(r);
        if (s != IPCX_ERR_TIMEOUT) {
            st_fail(r, "ipcx_signal_wait: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        if (k < 0) continue;
        sh->out.final_status = s;
        sh->out.recovery_ms = k;
        break;
    }
    uint64_t sent = atomic_load(&sh->sent_ok[0]);
    sh->out.lost = sent > expect ? sent - expect : 0;
    if (expect > sent + 1) st_fail(r, "%llu signals taken, %llu sent", (unsigned long long)expect,
                                   (unsigned long long)sent);
}

static void sig_cleanup(st_run *r) { (void)r; }

const struct st_mech st_rt_signal = {
    .name = "RT signals",
    .notes = "sigqueue with a sequence payload (at most 64 in flight), taken with "
             "ipcx_signal_wait; queued signals of the dead sender are all delivered, in order",
    .setup = sig_setup,
    .prune = sig_prune,
    .victim = sig_victim,
    .survivor = sig_survivor,
    .cleanup = sig_cleanup,
};
