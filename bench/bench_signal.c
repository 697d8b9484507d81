/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Real-time signal benchmark: ipcx against raw sigqueue/sigwaitinfo and raw signalfd, in
 * the same run.
 *
 * Round trip: the parent queues SIGRTMIN+1 with a payload (a sequence number) to the
 * child, the child takes it and queues it back, the parent takes it and checks the
 * payload. Both processes keep the signal blocked (the only correct way to take signals
 * synchronously). Receivers:
 *   - raw sigwaitinfo       sigqueue + sigwaitinfo
 *   - ipcx wait             ipcx_signal_queue + ipcx_signal_wait(IPCX_FOREVER)
 *   - raw signalfd          sigqueue + read(signalfd)
 *   - ipcx signalfd         ipcx_signal_queue + ipcx_signalfd_recv(IPCX_FOREVER)
 * Each ipcx variant is compared with its raw counterpart (ratio = median of per-run
 * ipcx/raw), placements cross-core (parent CPU0, child CPU1) and same-core (both CPU0),
 * runs alternating so that drift hits all variants alike.
 *
 *   bench_signal [runs]        (default 7)
 */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "bench.h"
#include "ipcx.h"

enum variant { RAW, IPCX, RAW_SFD, IPCX_SFD, NVAR };
static const char *variant_name[NVAR] = {"raw sigwaitinfo", "ipcx wait", "raw signalfd", "ipcx signalfd"};

static int g_sig;           /* SIGRTMIN+1 */
static sigset_t g_set;      /* {g_sig} for the raw calls */
static ipcx_sigset g_iset;  /* {g_sig} for ipcx */

/* One process's receiving side. */
struct rx {
    int sfd;
    ipcx_signalfd *r;
};

static void rx_open(enum variant v, struct rx *x) {
    x->sfd = -1;
    x->r = NULL;
    if (v == RAW_SFD && (x->sfd = signalfd(-1, &g_set, SFD_CLOEXEC)) < 0) b_die("signalfd");
    if (v == IPCX_SFD && ipcx_signalfd_create(g_iset, NULL, &x->r)) b_die(ipcx_last_error());
}

static void rx_close(struct rx *x) {
    if (x->sfd >= 0) close(x->sfd);
    ipcx_signalfd_close(x->r);
}

/* Take one signal; returns its int payload. */
static int rx_take(enum variant v, struct rx *x) {
    switch (v) {
    case RAW: {
        siginfo_t si;
        while (sigwaitinfo(&g_set, &si) < 0)
            if (errno != EINTR) b_die("sigwaitinfo");
        return si.si_value.sival_int;
    }
    case RAW_SFD: {
        struct signalfd_siginfo ssi;
        ssize_t n;
        while ((n = read(x->sfd, &ssi, sizeof ssi)) < 0)
            if (errno != EINTR) b_die("read(signalfd)");
        if (n != sizeof ssi) b_die("short signalfd read");
        return ssi.ssi_int;
    }
    case IPCX: {
        ipcx_siginfo info = {.size = sizeof info};
        if (ipcx_signal_wait(g_iset, IPCX_FOREVER, &info)) b_die(ipcx_last_error());
        return info.value.as_int;
    }
    default: {
        ipcx_siginfo info = {.size = sizeof info};
        if (ipcx_signalfd_recv(x->r, IPCX_FOREVER, &info)) b_die(ipcx_last_error());
        return info.value.as_int;
    }
    }
}

static void tx(enum variant v, pid_t to, int value) {
    if (v == RAW || v == RAW_SFD) {
        union sigval sv = {.sival_int = value};
        if (sigqueue(to, g_sig, sv) != 0) b_die("sigqueue");
    } else {
        ipcx_sigval sv = {.as_int = value};
        if (ipcx_signal_queue(to, g_sig, sv)) b_die(ipcx_last_error());
    }
}

/* Mean round trip in ns over `iters` ping-pongs. */
static double round_trip(enum variant v, int child_cpu, int iters) {
    pid_t parent = getpid();
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        struct rx x;
        rx_open(v, &x);
        for (;;) {
            int val = rx_take(v, &x);
            if (val < 0) break;
            tx(v, parent, val);
        }
        rx_close(&x);
        _exit(0);
    }
    struct rx x;
    rx_open(v, &x);
    for (int i = 0; i < iters / 10 + 10; i++) { /* warm-up */
        tx(v, p, i);
        if (rx_take(v, &x) != i) b_die("echo");
    }
    int64_t t0 = b_now_ns();
    for (int i = 0; i < iters; i++) {
        tx(v, p, i);
        if (rx_take(v, &x) != i) b_die("sequence");
    }
    double per = (double)(b_now_ns() - t0) / iters;
    tx(v, p, -1);
    rx_close(&x);
    b_wait(p);
    return per;
}

static void report(struct b_series s[NVAR], enum variant v, enum variant raw) {
    printf("  %-18s", variant_name[v]);
    b_print_series("us", &s[v]);
    if (v != raw) {
        double lo, hi, r = b_ratio(&s[v], &s[raw], &lo, &hi);
        printf("   ratio to %s %.3fx (%.3f-%.3f) [target <= 1.05]", variant_name[raw], r, lo, hi);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 7;
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_sig = SIGRTMIN + 1;
    sigemptyset(&g_set);
    sigaddset(&g_set, g_sig);
    g_iset = (ipcx_sigset)1 << (g_sig - 1);
    /* Blocked in this process before any child exists: every child inherits the mask. */
    if (ipcx_signal_block(g_iset, NULL)) b_die(ipcx_last_error());
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("ipcx %s real-time signal benchmark: SIGRTMIN+1 with payload, round trip, %d runs per "
           "figure, median (min-max), ratio = median of per-run ipcx/raw\n",
           ipcx_version(), runs);
    b_pin(0);
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        int iters = place == 0 ? 2000 : 20000;
        printf("\n%s (parent CPU0, child CPU%d), %d round trips per run\n",
               place == 0 ? "cross-core" : "same-core", child_cpu, iters);
        struct b_series rt[NVAR];
        memset(rt, 0, sizeof rt);
        for (int r = 0; r < runs; r++)
            for (int v = 0; v < NVAR; v++) b_add(&rt[v], round_trip(v, child_cpu, iters) / 1000.0);
        report(rt, RAW, RAW);
        report(rt, IPCX, RAW);
        report(rt, RAW_SFD, RAW_SFD);
        report(rt, IPCX_SFD, RAW_SFD);
    }
    return 0;
}
