/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: one channel API, every transport. The seed presents each mechanism with its
 * own calls; an ipcx channel sends whole messages one way over any of them, and the
 * transport is the address string. The same request/reply exchange (two channels: the
 * child sends the address of its reply channel as its first message, as the seed's FIFO
 * server gets a per-client FIFO) runs over each transport. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tour.h"

#define CHAN_ROUNDS (TOUR_ROUNDS / 4)

/* Echo child: its own receiver at `mine`, a sender to the parent at `parent`. */
static void chan_child(const char *mine, const char *parent) {
    ipcx_chan *in, *out;
    ipcx_chan_info d = {.size = sizeof d};
    if (ipcx_chan_open(mine, IPCX_OPEN_READ, NULL, 0, &in)) _exit(2);
    if (ipcx_chan_open(parent, IPCX_OPEN_WRITE, NULL, 10000, &out)) _exit(3);
    ipcx_chan_stat(in, &d);
    if (ipcx_chan_send(out, d.address, strlen(d.address), 10000)) _exit(4);
    static char buf[8192];
    for (;;) {
        size_t len = sizeof buf;
        int s = ipcx_chan_recv(in, buf, &len, 10000);
        if (s == IPCX_ERR_CLOSED) break; /* the parent closed its sender */
        if (s || ipcx_chan_send(out, buf, len, 10000)) _exit(5);
        if (len == 4 && !memcmp(buf, "done", 4)) break; /* queues cannot tell */
    }
    ipcx_chan_close(out);
    ipcx_chan_close(in);
    _exit(0);
}

/* One transport: returns the median round trip in µs, or -1 (row failed). */
static double chan_one(struct tour_row *row, const char *a, const char *b) {
    static int64_t samples[CHAN_ROUNDS];
    static char got[8192];
    ipcx_chan *in = NULL, *out = NULL, *cin = NULL, *cout = NULL;
    int pair = !strcmp(a, "pipe:");
    int s = pair ? ipcx_chan_pair(a, 0, NULL, &out, &cin) : ipcx_chan_open(a, IPCX_OPEN_READ, NULL, 0, &in);
    if (!s && pair) s = ipcx_chan_pair(a, 0, NULL, &cout, &in);
    if (s) {
        tour_fail_status(row, a, s);
        ipcx_chan_close(out);
        ipcx_chan_close(cin);
        return -1;
    }
    ipcx_chan_info d = {.size = sizeof d};
    ipcx_chan_stat(in, &d);
    char parent[256];
    snprintf(parent, sizeof parent, "%s", d.address);
    pid_t pid = fork();
    if (pid == 0) {
        if (!pair) {
            ipcx_chan_close(in);
            chan_child(b, parent);
        }
        ipcx_chan_close(out);
        ipcx_chan_close(in);
        for (;;) { /* the pipe: pair echo */
            size_t len = sizeof got;
            int r = ipcx_chan_recv(cin, got, &len, 10000);
            if (r == IPCX_ERR_CLOSED) _exit(0);
            if (r || ipcx_chan_send(cout, got, len, 10000)) _exit(5);
        }
    }
    ipcx_chan_close(cin);
    ipcx_chan_close(cout);
    if (!pair) {
        size_t len = sizeof got - 1;
        s = ipcx_chan_recv(in, got, &len, 10000);
        if (!s) {
            got[len] = 0;
            s = ipcx_chan_open(got, IPCX_OPEN_WRITE, NULL, 10000, &out);
        }
    }
    char msg[64];
    for (int i = 0; i < 100 + CHAN_ROUNDS && !s; i++) {
        memset(msg, 'a' + i % 26, sizeof msg);
        memcpy(msg, &i, sizeof i);
        size_t len = sizeof got;
        int64_t t0 = tour_now_ns();
        s = ipcx_chan_send(out, msg, sizeof msg, 10000);
        if (!s) s = ipcx_chan_recv(in, got, &len, 10000);
        if (i >= 100) samples[i - 100] = tour_now_ns() - t0;
        if (!s && (len != sizeof msg || memcmp(got, msg, len))) {
            tour_fail(row, "%s: message %d came back wrong", a, i);
            s = -1;
        }
    }
    if (s > 0) tour_fail_status(row, a, s);
    if (out && !s) ipcx_chan_send(out, "done", 4, 10000);
    ipcx_chan_close(out);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "%s: echo child failed", a);
    ipcx_chan_close(in); /* the receiver removes what it created */
    return s || !row->ok ? -1 : tour_median_us(samples, CHAN_ROUNDS);
}

void tour_chan(struct tour_row *row) {
    int pid = (int)getpid();
    char addr[8][2][128];
    const char *fmt[8] = {"pipe:", "fifo:/tmp/ipcx-tour-chan-%d-%c", "unix:/tmp/ipcx-tour-chan-%d-%c",
                          "unix:@ipcx-tour-chan-%d-%c", "tcp:127.0.0.1:0",
                          "mq:/ipcx-tour-chan-%d-%c", "sysvmq:%d/%c", "shm:/ipcx-tour-chan-%d-%c"};
    for (int t = 0; t < 8; t++)
        for (int k = 0; k < 2; k++) {
            if (t == 6)
                snprintf(addr[t][k], sizeof addr[t][k], "sysvmq:0x%x/%d",
                         0x1c800000 | (pid & 0xfffff) << 1 | k, 1);
            else
                snprintf(addr[t][k], sizeof addr[t][k], fmt[t], pid, k ? 'b' : 'a');
        }
    double fast = 1e18, slow = -1, meds[8];
    int nfast = 0, nslow = 0, done = 0;
    for (int t = 0; t < 8 && row->ok; t++) {
        meds[t] = chan_one(row, addr[t][0], addr[t][1]);
        if (meds[t] < 0) break;
        if (meds[t] < fast) fast = meds[t], nfast = t;
        if (meds[t] > slow) slow = meds[t], nslow = t;
        done++;
    }
    snprintf(row->checked, sizeof row->checked,
             "req/reply over %d transports, only the address differs, %d msgs", done,
             100 + CHAN_ROUNDS);
    if (!row->ok) return;
    /* The median of the per-transport medians; the extremes in the note. */
    int64_t m[8];
    for (int t = 0; t < 8; t++) m[t] = (int64_t)(meds[t] * 1000);
    row->median_rt_us = tour_median_us(m, 8);
    static const char *scheme[8] = {"pipe", "fifo", "unix", "unix:@",
                                    "tcp",  "mq",   "sysvmq", "shm"};
    snprintf(row->detail, sizeof row->detail, "fastest %s: %.1f us, slowest %s: %.1f us",
             scheme[nfast], fast, scheme[nslow], slow);
}
