/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins: anonymous pipes and FIFOs. */
#include "stress.h"

#include <stdio.h>

/* Handles: h[0] the read end, h[1] the write end (as setup made them). */

static void close_pipe(st_run *r, int i) {
    if (r->h[i]) ipcx_pipe_close(r->h[i]);
    r->h[i] = NULL;
}

static int tx_send(void *tx, const void *buf, size_t len, int64_t t) {
    return ipcx_pipe_send(tx, buf, len, t);
}
static void tx_close(void *tx) { ipcx_pipe_close(tx); }
static int rx_recv(void *rx, void *buf, size_t *len, int64_t t) {
    return ipcx_pipe_recv(rx, buf, len, t);
}
static void rx_close(void *rx) { ipcx_pipe_close(rx); }

/* ------------------------------------------------------------------ pipe */

/* One pipe shared by every producer: the write end is inherited across fork, so up to 8
 * processes write to it at once; messages up to IPCX_FIFO_ATOMIC_MAX arrive whole. */
static int pipe_setup(st_run *r, int side) {
    (void)side;
    ipcx_pipe *rd, *wr;
    int s = ipcx_pipe_pair(0, NULL, &rd, &wr);
    r->h[0] = rd;
    r->h[1] = wr;
    return s;
}

static void pipe_prune(st_run *r, int side) { close_pipe(r, side == ST_SIDE_PRODUCER ? 0 : 1); }

static int pipe_tx_open(st_run *r, int id, void **tx) {
    (void)id;
    *tx = r->h[1];
    r->h[1] = NULL;
    return IPCX_OK;
}

static int pipe_rx_open(st_run *r, void **rx) {
    *rx = r->h[0];
    r->h[0] = NULL;
    return IPCX_OK;
}

static void pipe_cleanup(st_run *r) {
    close_pipe(r, 0);
    close_pipe(r, 1);
}

const struct st_mech st_pipe = {
    .name = "pipe",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = IPCX_FIFO_ATOMIC_MAX,
    .crash_max_len = 65536,
    .rx_final = IPCX_ERR_CLOSED,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "8 producers share one write end (messages <= 4092 bytes are atomic); crash "
             "trials send up to 64 KiB, so kills land mid-message",
    .setup = pipe_setup,
    .prune = pipe_prune,
    .tx_open = pipe_tx_open,
    .tx_send = tx_send,
    .tx_close = tx_close,
    .rx_open = pipe_rx_open,
    .rx_recv = rx_recv,
    .rx_close = rx_close,
    .cleanup = pipe_cleanup,
};

/* ------------------------------------------------------------------ FIFO */

/* r->name: the FIFO's path. h[0]: the reader the setup side opened. */
static int fifo_setup(st_run *r, int side) {
    (void)side;
    char base[64];
    st_unique(base, sizeof base, "", "fifo");
    snprintf(r->name, sizeof r->name, "%.60s/%s", r->dir, base);
    int s = ipcx_fifo_make(r->name, NULL);
    if (s != IPCX_OK) return s;
    st_res_add(r, ST_RES_PATH, r->name, 0);
    /* The load keeps the reader open across writers coming and going; a crash trial must
     * see end of file once the victim writer is gone. */
    uint32_t flags = IPCX_OPEN_READ | (r->kind == ST_KIND_LOAD ? IPCX_FIFO_KEEP_OPEN : 0);
    ipcx_pipe *rd;
    s = ipcx_fifo_open(r->name, flags, NULL, IPCX_NOWAIT, &rd);
    r->h[0] = rd;
    return s;
}

static void fifo_prune(st_run *r, int side) {
    /* A producer keeps the inherited reader until its own writer is open (below), so that
     * its open never waits for a reader that is not there yet. */
    (void)r;
    (void)side;
}

static int fifo_tx_open(st_run *r, int id, void **tx) {
    (void)id;
    ipcx_options *o = NULL;
    if (r->kind == ST_KIND_LOAD) {
        /* Several writers: refuse anything the kernel would not write in one piece. */
        ipcx_options_create(&o);
        ipcx_options_set_atomic(o, true);
    }
    ipcx_pipe *wr;
    int s = ipcx_fifo_open(r->name, IPCX_OPEN_WRITE, o, 5000, &wr);
    ipcx_options_close(o);
    close_pipe(r, 0);
    *tx = wr;
    return s;
}

static int fifo_rx_open(st_run *r, void **rx) {
    *rx = r->h[0];
    r->h[0] = NULL;
    return *rx ? IPCX_OK : IPCX_ERR_INVALID;
}

/* A new writer can open the FIFO and be read after the victim's death. */
static int fifo_reuse(st_run *r, void *h, int side) {
    if (side != ST_SIDE_CONSUMER) return IPCX_OK; /* no reader left to reuse */
    ipcx_pipe *wr;
    int s = ipcx_fifo_open(r->name, IPCX_OPEN_WRITE, NULL, 2000, &wr);
    if (s != IPCX_OK) return s;
    s = ipcx_pipe_send(wr, "again", 5, 2000);
    ipcx_pipe_close(wr);
    if (s != IPCX_OK) return s;
    char buf[16];
    size_t len = sizeof buf;
    s = ipcx_pipe_recv(h, buf, &len, 2000);
    return s == IPCX_OK && len != 5 ? IPCX_ERR_PROTOCOL : s;
}

static void fifo_cleanup(st_run *r) {
    close_pipe(r, 0);
    ipcx_fifo_remove(r->name);
}

const struct st_mech st_fifo = {
    .name = "FIFO",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = IPCX_FIFO_ATOMIC_MAX,
    .crash_max_len = 65536,
    .rx_final = IPCX_ERR_CLOSED,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "8 writers open the FIFO in atomic mode; the reader uses IPCX_FIFO_KEEP_OPEN "
             "in the load, not in crash trials (end of file is the defined status)",
    .setup = fifo_setup,
    .prune = fifo_prune,
    .tx_open = fifo_tx_open,
    .tx_send = tx_send,
    .tx_close = tx_close,
    .rx_open = fifo_rx_open,
    .rx_recv = rx_recv,
    .rx_close = rx_close,
    .reuse = fifo_reuse,
    .cleanup = fifo_cleanup,
};
