/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The tour of Linux IPC through ipcx: for each mechanism of the seed document, fork,
 * exchange messages, check the semantics the seed describes, and print one row:
 * mechanism, what was checked, ok/FAILED, median round trip.
 *
 * Run it with:  cmake --workflow --preset tour
 */
#include <stdio.h>
#include <string.h>

#include "tour.h"

static const struct {
    const char *name;
    tour_fn fn;
} rows[] = {
    /* In the order of the seed document. */
    {"signals: dispositions", tour_signal_dispositions},
    {"signals: standard vs real-time", tour_signal_queueing},
    {"POSIX semaphore (named)", tour_sem_named},
    {"POSIX semaphore (unnamed, in shared memory)", tour_sem_unnamed},
    {"System V semaphore set (P/V)", tour_semset},
    {"robust mutex + condition variable", tour_mutex_cond},
    {"pipe", tour_pipe},
    {"FIFO (named pipe)", tour_fifo},
    {"System V message queue", tour_sysv_msgq},
    {"POSIX message queue", tour_posix_mq},
    {"System V shared memory", tour_sysv_shm},
    {"POSIX shared memory", tour_posix_shm},
    {"shared file mapping", tour_file_mapping},
    {"anonymous shared mapping", tour_anonymous_mapping},
    {"shared-memory ring", tour_ring},
    {"Unix domain socket", tour_unix_socket},
    {"TCP across hosts", tour_tcp},
    {"UDP across hosts", tour_udp},
    {"one channel, every transport", tour_chan},
    {"channel to nng across hosts", tour_nng_across_hosts},
    {"channel to ZeroMQ across hosts", tour_zmq_across_hosts},
    {"stale-object inspection", tour_inspect},
};

static void dashes(int n) {
    for (int i = 0; i < n; i++) putchar('-');
}

int main(void) {
    int failed = 0, w = (int)strlen("mechanism");
    size_t n = sizeof rows / sizeof rows[0];
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(rows[i].name) > w) w = (int)strlen(rows[i].name);
    printf("ipcx %s tour: every mechanism across fork\n\n", ipcx_version());
    printf("%-*s | %-66s | %-6s | %s\n", w, "mechanism", "checked", "result", "median RT");
    dashes(w);
    printf("-+-");
    dashes(66);
    printf("-+-");
    dashes(6);
    printf("-+-");
    dashes(10);
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        struct tour_row row;
        memset(&row, 0, sizeof row);
        row.mechanism = rows[i].name;
        row.ok = 1;
        row.median_rt_us = -1;
        rows[i].fn(&row);
        char rt[32] = "-";
        if (row.median_rt_us >= 0) snprintf(rt, sizeof rt, "%.1f us", row.median_rt_us);
        printf("%-*s | %-66s | %-6s | %s\n", w, row.mechanism, row.checked, row.ok ? "ok" : "FAILED", rt);
        if (!row.ok) {
            printf("%*s   -> %s\n", w, "", row.detail);
            failed++;
        } else if (row.detail[0]) {
            printf("%*s   (%s)\n", w, "", row.detail);
        }
    }
    printf("\n%d row(s), %d failed\n", (int)n, failed);
    return failed ? 1 : 0;
}
