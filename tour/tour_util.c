/* SPDX-License-Identifier: MIT OR Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tour.h"

int64_t tour_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double tour_median_us(int64_t *s, size_t n) {
    if (n == 0) return -1;
    qsort(s, n, sizeof *s, cmp64);
    return (double)s[n / 2] / 1000.0;
}

int tour_fail(struct tour_row *row, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->detail, sizeof row->detail, fmt, ap);
    va_end(ap);
    row->ok = 0;
    return 0;
}

int tour_fail_status(struct tour_row *row, const char *what, int status) {
    return tour_fail(row, "%s: %s: %s", what, ipcx_strerror(status), ipcx_last_error());
}

int tour_wait_child(pid_t pid, int timeout_ms) {
    int st = 0;
    int64_t end = tour_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (r < 0 && errno != EINTR) return 0;
        if (tour_now_ns() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return 0;
        }
        usleep(1000);
    }
}
