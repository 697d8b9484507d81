/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: shared-memory rings. The seed: shared memory is the fastest IPC because
 * processes read and write the same physical memory, but it brings no synchronisation of
 * its own. An ipcx ring is shared memory plus that synchronisation: a queue of whole
 * messages, written and read in place, that sleeps only when it must. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tour.h"

void tour_ring(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "named ring by name in child, 1000 msgs in order, zero-copy, EOF, RT");
    char name[64];
    snprintf(name, sizeof name, "/ipcx-tour-ring-%d", (int)getpid());
    ipcx_ring *w, *in, *out, *back;
    int s = ipcx_ring_open(name, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &w);
    if (s) {
        tour_fail_status(row, "ipcx_ring_open", s);
        return;
    }
    s = ipcx_ring_pair(0, NULL, &out, &back); /* replies, over fork */
    if (s) {
        tour_fail_status(row, "ipcx_ring_pair", s);
        ipcx_ring_close(w);
        ipcx_ring_remove(name);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* The child opens the named ring by its name and echoes every message. */
        ipcx_ring_close(w);
        ipcx_ring_close(back);
        if (ipcx_ring_open(name, IPCX_OPEN_READ, NULL, &in)) _exit(2);
        int bad = 0;
        for (;;) {
            const void *m;
            size_t len;
            int r = ipcx_ring_borrow(in, 10000, &m, &len); /* read in place */
            if (r == IPCX_ERR_CLOSED) break;               /* the producer closed */
            void *d;
            if (r || ipcx_ring_reserve(out, len, 10000, &d)) { bad = 1; break; }
            memcpy(d, m, len); /* write in place */
            if (ipcx_ring_commit(out, len) || ipcx_ring_release(in)) { bad = 1; break; }
        }
        ipcx_ring_close(in);
        ipcx_ring_close(out);
        _exit(bad);
    }
    ipcx_ring_close(out);
    static int64_t samples[TOUR_ROUNDS];
    char msg[2048], got[2048];
    for (int i = 0; i < 1000 + TOUR_ROUNDS && row->ok; i++) {
        size_t n = i < 1000 ? (size_t)(i * 7) % sizeof msg + 1 : 64, len = sizeof got;
        memset(msg, 'a' + i % 26, n);
        memcpy(msg, &i, sizeof i < n ? sizeof i : n);
        int64_t t0 = tour_now_ns();
        s = ipcx_ring_send(w, msg, n, 10000);
        if (s == IPCX_OK) s = ipcx_ring_recv(back, got, &len, 10000);
        if (i >= 1000) samples[i - 1000] = tour_now_ns() - t0;
        if (s) tour_fail_status(row, "round trip", s);
        else if (len != n || memcmp(got, msg, n)) tour_fail(row, "message %d came back wrong", i);
    }
    ipcx_ring_close(w); /* the child then sees IPCX_ERR_CLOSED */
    size_t len = sizeof got;
    if (row->ok && ipcx_ring_recv(back, got, &len, 10000) != IPCX_ERR_CLOSED)
        tour_fail(row, "no end of stream after the child left");
    ipcx_ring_close(back);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "echo child failed");
    ipcx_ring_remove(name);
    if (row->ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
}
