/* Shared helpers of the benchmark programs: pinning, clocks, medians, result table.
 *
 * Every figure is a ratio of ipcx against the raw system calls measured in the same run,
 * seconds apart, over several alternating runs (this machine's speed drifts minute to
 * minute): the table shows the median of the per-run values and the min-max. */
#ifndef IPCX_BENCH_H
#define IPCX_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
/* Print one measure: a line per variant (variant 0 is the raw reference) with the median
 * and min-max, and for the others the ratio to raw against the target. */
static inline void b_report(const char *what, const char *unit, struct b_series *s, int nvar,
                            const char *const *names, int lower_is_better) {
    for (int v = 0; v < nvar; v++) {
        printf("  %-34s %-13s", what, names[v]);
        b_print_series(unit, &s[v]);
        if (v != 0) {
            double lo, hi, r = b_ratio(&s[v], &s[0], &lo, &hi);
            printf("   ratio %.3fx (%.3f-%.3f)%s", r, lo, hi,
                   lower_is_better ? " [target <= 1.05]" : " [target >= 0.95]");
        }
        printf("\n");
    }
}

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

#define B_MAX_RUNS 32

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

/* Print one measure: a line per variant (variant 0 is the raw reference) with the median
 * and min-max, and for the others the ratio to raw against the target. */
static inline void b_report(const char *what, const char *unit, struct b_series *s, int nvar,
                            const char *const *names, int lower_is_better) {
    for (int v = 0; v < nvar; v++) {
        printf("  %-34s %-13s", what, names[v]);
        b_print_series(unit, &s[v]);
        if (v != 0) {
            double lo, hi, r = b_ratio(&s[v], &s[0], &lo, &hi);
            printf("   ratio %.3fx (%.3f-%.3f)%s", r, lo, hi,
                   lower_is_better ? " [target <= 1.05]" : " [target >= 0.95]");
        }
        printf("\n");
    }
}

#endif
