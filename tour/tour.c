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
    {"pipe", tour_pipe},
    {"FIFO (named pipe)", tour_fifo},
    /* Shared memory section (after "shared memory" once that row exists). */
    {"shared-memory ring", tour_ring},
};

int main(void) {
    int failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ipcx %s tour: every mechanism across fork\n\n", ipcx_version());
    printf("%-26s | %-64s | %-6s | %s\n", "mechanism", "checked", "result", "median RT");
    printf("%.26s-+-%.64s-+-%.6s-+-%s\n", "------------------------------------------",
           "----------------------------------------------------------------------------",
           "--------", "----------");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tour_row row;
        memset(&row, 0, sizeof row);
        row.mechanism = rows[i].name;
        row.ok = 1;
        row.median_rt_us = -1;
        rows[i].fn(&row);
        char rt[32] = "-";
        if (row.median_rt_us >= 0) snprintf(rt, sizeof rt, "%.1f us", row.median_rt_us);
        printf("%-26s | %-64s | %-6s | %s\n", row.mechanism, row.checked, row.ok ? "ok" : "FAILED", rt);
        if (!row.ok) {
            printf("%26s   -> %s\n", "", row.detail);
            failed++;
        } else if (row.detail[0]) {
            printf("%26s   (%s)\n", "", row.detail);
        }
    }
    printf("\n%d mechanism(s), %d failed\n", (int)(sizeof rows / sizeof rows[0]), failed);
    return failed ? 1 : 0;
}
