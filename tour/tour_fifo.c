/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: FIFOs. The seed: a named pipe has a path in the filesystem, so processes
 * that share nothing else can open it; data comes out first in, first out. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tour.h"

void tour_fifo(struct tour_row *row) {
    char to[128], from[128];
    snprintf(to, sizeof to, "/tmp/ipcx-tour-%d-to", (int)getpid());
    snprintf(from, sizeof from, "/tmp/ipcx-tour-%d-from", (int)getpid());
    snprintf(row->checked, sizeof row->checked,
             "path in FS, open by name after fork, FIFO order, EOF, 2-FIFO echo RT");
    int s = ipcx_fifo_make(to, NULL);
    if (s == IPCX_OK) s = ipcx_fifo_make(from, NULL);
    if (s) {
        tour_fail_status(row, "ipcx_fifo_make", s);
        ipcx_fifo_remove(to);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* The child only knows the paths: it opens them itself. */
        ipcx_pipe *in, *out;
        if (ipcx_fifo_open(to, IPCX_OPEN_READ, NULL, 10000, &in) ||
            ipcx_fifo_open(from, IPCX_OPEN_WRITE, NULL, 10000, &out))
            _exit(1);
        char buf[64];
        for (;;) {
            size_t len = sizeof buf;
            s = ipcx_pipe_recv(in, buf, &len, 10000);
            if (s == IPCX_ERR_CLOSED) break; /* the parent closed its write end */
            if (s || ipcx_pipe_send(out, buf, len, 10000)) _exit(1);
        }
        ipcx_pipe_close(in);
        ipcx_pipe_close(out);
        _exit(0);
    }
    ipcx_pipe *out = NULL, *in = NULL;
    s = ipcx_fifo_open(to, IPCX_OPEN_WRITE, NULL, 10000, &out);
    if (s == IPCX_OK) s = ipcx_fifo_open(from, IPCX_OPEN_READ, NULL, 10000, &in);
    static int64_t samples[TOUR_ROUNDS];
    for (int i = 0; i < TOUR_ROUNDS && s == IPCX_OK; i++) {
        char msg[64];
        memset(msg, 0, sizeof msg);
        snprintf(msg, sizeof msg, "message %d", i);
        char buf[64];
        size_t len = sizeof buf;
        int64_t t0 = tour_now_ns();
        s = ipcx_pipe_send(out, msg, 64, 10000);
        if (s == IPCX_OK) s = ipcx_pipe_recv(in, buf, &len, 10000);
        samples[i] = tour_now_ns() - t0;
        if (s == IPCX_OK && (len != 64 || strcmp(buf, msg) != 0)) {
            tour_fail(row, "echo %d out of order or corrupted", i);
            s = -1;
        }
    }
    if (s > 0) tour_fail_status(row, "FIFO exchange", s);
    ipcx_pipe_close(out);
    ipcx_pipe_close(in);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "child did not see EOF or failed");
    if (ipcx_fifo_remove(to) || ipcx_fifo_remove(from)) tour_fail_status(row, "ipcx_fifo_remove", IPCX_ERR_SYSTEM);
    if (row->ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
}
