/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Shared helpers of the benchmark programs: pinning, clocks, medians, result table.
 *
 * Every figure is a ratio of ipcx against the raw system calls measured in the same run,
 * seconds apart, over several alternating runs (this machine's speed drifts minute to
 * minute): the table shows the median of the per-run values and the min-max. */
#ifndef IPCX_BENCH_H
#define IPCX_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline int64_t b_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void b_pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (sched_setaffinity(0, sizeof s, &s) != 0) perror("sched_setaffinity");
}

static int b_cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n doubles (sorts in place). */
static inline double b_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, b_cmpd);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void b_die(const char *what) {
    fprintf(stderr, "bench: %s failed\n", what);
    exit(1);
}

static inline void b_wait(pid_t p) {
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) b_die("child");
}

/* One-way mode, for counting system calls per message (bench/syscalls.py runs the
 * programs under strace): `bench_x oneway KIND VARIANT COUNT` runs one cross-core one-way
 * transfer of COUNT 64-byte messages and brackets each side's message loop with two
 * marker calls, access("/ipcx-bench-mark/begin") and access("/ipcx-bench-mark/end"), so
 * that the trace shows exactly the calls of the loop. Nothing is marked otherwise. */
static int b_marks;
static inline void b_mark(int begin) {
    if (b_marks) (void)access(begin ? "/ipcx-bench-mark/begin" : "/ipcx-bench-mark/end", F_OK);
}

#define B_MAX_RUNS 32
#define B_MAX_VARIANTS 8

/* One measured quantity: per-run values for the raw reference and for each variant. */
struct b_series {
    double v[B_MAX_RUNS];
    int n;
};

static inline void b_add(struct b_series *s, double x) {
    if (s->n < B_MAX_RUNS) s->v[s->n++] = x;
}

/* Print "median (min-max)" of a series. */
static inline void b_print_series(const char *unit, struct b_series *s) {
    double c[B_MAX_RUNS];
    memcpy(c, s->v, sizeof(double) * (size_t)s->n);
    double med = b_median(c, s->n);
    printf("%10.2f %-5s (%.2f-%.2f)", med, unit, c[0], c[s->n - 1]);
}

/* Ratio series: per-run variant/raw, then the median of the ratios. */
static inline double b_ratio(const struct b_series *var, const struct b_series *raw, double *lo, double *hi) {
    double r[B_MAX_RUNS];
    int n = var->n < raw->n ? var->n : raw->n;
    for (int i = 0; i < n; i++) r[i] = var->v[i] / raw->v[i];
    double med = b_median(r, n);
    *lo = r[0];
    *hi = r[n - 1];
    return med;
}

/* Print one measure: a row per variant (s[0] is the raw reference) with its median and
 * min-max, and for the others the ratio to raw. `target` (may be NULL: all) says which
 * variants have a target: <= 1.05 when lower is better, >= 0.95 otherwise. */
static inline void b_report(const char *what, const char *unit, struct b_series *s, int nvar,
                            const char *const *names, int lower_is_better, const int *target) {
    for (int v = 0; v < nvar; v++) {
        printf("  %-32s %-13s", what, names[v]);
        b_print_series(unit, &s[v]);
        if (v != 0) {
            double lo, hi, r = b_ratio(&s[v], &s[0], &lo, &hi);
            printf("   ratio %.3fx (%.3f-%.3f)%s", r, lo, hi,
                   target && !target[v]  ? ""
                   : lower_is_better     ? " [target <= 1.05]"
                                         : " [target >= 0.95]");
        }
        printf("\n");
    }
}

/* The standard suite every benchmark program runs: for each placement (parent on CPU0,
 * child on CPU1, then both on CPU0) and each kind, a 64-byte round trip, the one-way
 * throughput of 64-byte messages and of `big`-byte messages; runs alternate the
 * variants so drift hits all alike. The callbacks measure one run of one variant:
 * `round_trip` returns ns per round trip, `throughput` messages per second. */
struct b_suite {
    const char *const *kinds;    /* names of the kinds, e.g. {"pipe", "FIFO"} */
    int nkinds;
    const char *const *variants; /* variant 0 is the raw reference */
    int nvar;
    const int *target;           /* which variants have a target (NULL: all) */
    double (*round_trip)(int kind, int variant, int child_cpu, int iters);
    double (*throughput)(int kind, int variant, int child_cpu, size_t size, int count);
    int small_count;             /* 64-byte messages per throughput run */
    size_t big;                  /* the large message size */
    int big_count;               /* large messages per throughput run */
    const char *big_name;        /* e.g. "64 KiB" */
};

/* `oneway KIND VARIANT COUNT` (names as the tables print them) for a program built on
 * b_run_suite: runs that one transfer with the markers, returns 1; 0 without "oneway". */
static inline int b_oneway(const struct b_suite *s, int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "oneway") != 0) return 0;
    int k = -1, v = -1, count = argc > 4 ? atoi(argv[4]) : 0;
    for (int i = 0; argc > 3 && i < s->nkinds; i++)
        if (strcmp(s->kinds[i], argv[2]) == 0) k = i;
    for (int i = 0; argc > 3 && i < s->nvar; i++)
        if (strcmp(s->variants[i], argv[3]) == 0) v = i;
    if (k < 0 || v < 0 || count < 2) {
        fprintf(stderr, "usage: %s oneway KIND VARIANT COUNT (KIND, VARIANT as printed)\n", argv[0]);
        exit(2);
    }
    b_marks = 1;
    b_pin(0);
    double r = s->throughput(k, v, 1, 64, count);
    printf("oneway %s %s: %d messages of 64 B, %.2f Mmsg/s\n", argv[2], argv[3], count, r / 1e6);
    return 1;
}

static inline void b_run_suite(const struct b_suite *s, int runs) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    b_pin(0);
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("\n%s (parent CPU0, child CPU%d)\n", place == 0 ? "cross-core" : "same-core", child_cpu);
        for (int k = 0; k < s->nkinds; k++) {
            struct b_series rt[B_MAX_VARIANTS] = {0}, small[B_MAX_VARIANTS] = {0}, big[B_MAX_VARIANTS] = {0};
            int rt_iters = place == 0 ? 2000 : 20000;
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < s->nvar; v++) b_add(&rt[v], s->round_trip(k, v, child_cpu, rt_iters) / 1000.0);
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < s->nvar; v++)
                    b_add(&small[v], s->throughput(k, v, child_cpu, 64, s->small_count) / 1e6);
            for (int r = 0; r < runs; r++)
                for (int v = 0; v < s->nvar; v++)
                    b_add(&big[v], s->throughput(k, v, child_cpu, s->big, s->big_count) * (double)s->big / 1e9);
            char what[64];
            snprintf(what, sizeof what, "%s round trip 64 B", s->kinds[k]);
            b_report(what, "us", rt, s->nvar, s->variants, 1, s->target);
            snprintf(what, sizeof what, "%s throughput 64 B", s->kinds[k]);
            b_report(what, "Mmsg/s", small, s->nvar, s->variants, 0, s->target);
            snprintf(what, sizeof what, "%s throughput %s", s->kinds[k], s->big_name);
            b_report(what, "GB/s", big, s->nvar, s->variants, 0, s->target);
        }
    }
}

#endif
