/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: anonymous pipes. The seed: a pipe is half-duplex and links related processes;
 * the parent creates it, forks, and each side closes the end it does not use. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tour.h"

/* One direction: `writer_is_parent` chooses who writes. Returns 1 if the child was happy. */
static int one_way(struct tour_row *row, int writer_is_parent) {
    ipcx_pipe *r, *w;
    int s = ipcx_pipe_pair(0, NULL, &r, &w);
    if (s) return tour_fail_status(row, "ipcx_pipe_pair", s);
    pid_t pid = fork();
    if (pid < 0) return tour_fail(row, "fork failed");
    int i_write = (pid == 0) != writer_is_parent;
    if (i_write) {
        ipcx_pipe_close(r);
        int bad = 0;
        for (int i = 0; i < 100 && !bad; i++) bad = ipcx_pipe_send(w, &i, sizeof i, 5000) != IPCX_OK;
        ipcx_pipe_close(w);
        if (pid == 0) _exit(bad);
        if (bad) return tour_fail(row, "parent could not send");
        return tour_wait_child(pid, 10000) ? 1 : tour_fail(row, "child reader saw wrong data or no EOF");
    }
    ipcx_pipe_close(w);
    int bad = 0;
    for (int i = 0; i < 100 && !bad; i++) {
        int v = -1;
        size_t len = sizeof v;
        bad = ipcx_pipe_recv(r, &v, &len, 5000) != IPCX_OK || len != sizeof v || v != i;
    }
    int v;
    size_t len = sizeof v;
    /* The writer closed: end of file is its own status. */
    if (!bad) bad = ipcx_pipe_recv(r, &v, &len, 5000) != IPCX_ERR_CLOSED;
    ipcx_pipe_close(r);
    if (pid == 0) _exit(bad);
    if (bad) {
        tour_wait_child(pid, 10000);
        return tour_fail(row, "parent reader saw wrong data or no EOF");
    }
    return tour_wait_child(pid, 10000) ? 1 : tour_fail(row, "child writer failed");
}

void tour_pipe(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "half-duplex both ways, 100 msgs in order, EOF on close, duplex RT");
    if (!one_way(row, 1) || !one_way(row, 0)) return;
    /* Round trip over a full-duplex pair (two pipes). */
    ipcx_pipe *a, *b;
    int s = ipcx_pipe_pair(IPCX_PIPE_DUPLEX, NULL, &a, &b);
    if (s) {
        tour_fail_status(row, "ipcx_pipe_pair", s);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_pipe_close(a);
        char buf[64];
        for (;;) {
            size_t len = sizeof buf;
            if (ipcx_pipe_recv(b, buf, &len, 10000) != IPCX_OK) break;
            if (ipcx_pipe_send(b, buf, len, 10000) != IPCX_OK) _exit(1);
        }
        ipcx_pipe_close(b);
        _exit(0);
    }
    ipcx_pipe_close(b);
    static int64_t samples[TOUR_ROUNDS];
    char msg[64] = "ping";
    for (int i = 0; i < TOUR_ROUNDS; i++) {
        size_t len = sizeof msg;
        int64_t t0 = tour_now_ns();
        s = ipcx_pipe_send(a, msg, 64, 10000);
        if (s == IPCX_OK) s = ipcx_pipe_recv(a, msg, &len, 10000);
        samples[i] = tour_now_ns() - t0;
        if (s != IPCX_OK || len != 64) {
            tour_fail_status(row, "duplex round trip", s);
            break;
        }
    }
    ipcx_pipe_close(a);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "echo child failed");
    if (row->ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
}
