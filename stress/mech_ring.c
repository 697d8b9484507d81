/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins: named shared-memory rings, SPSC and MPMC. */
#include "stress.h"

#include <stdlib.h>
#include <string.h>

/* h[0]: the consumer end setup opened (it created the ring), h[1]: the producer end. */

static uint32_t mpmc(const st_run *r) { return r->m == &st_ring_mpmc ? IPCX_RING_MPMC : 0; }

static int ring_setup(st_run *r, int side) {
    st_unique(r->name, sizeof r->name, "/", "ring");
    ipcx_options *o;
    ipcx_options_create(&o);
    /* Crash trials: a small ring fills at once, so kills land while a side waits. */
    ipcx_options_set_capacity(o, r->kind == ST_KIND_LOAD ? (1u << 20) : (1u << 16));
    uint32_t role = side == ST_SIDE_PRODUCER ? IPCX_OPEN_WRITE : IPCX_OPEN_READ;
    ipcx_ring *h;
    int s = ipcx_ring_open(r->name, role | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE | mpmc(r), o, &h);
    ipcx_options_close(o);
    if (s == IPCX_OK) st_res_add(r, ST_RES_SHM, r->name, 0);
    r->h[side == ST_SIDE_PRODUCER ? 1 : 0] = h;
    return s;
}

static void drop(st_run *r, int i) {
    if (r->h[i]) ipcx_ring_close(r->h[i]);
    r->h[i] = NULL;
}

/* A process keeps only the end of its side (an inherited SPSC end must be closed). */
static void ring_prune(st_run *r, int side) { drop(r, side == ST_SIDE_PRODUCER ? 0 : 1); }

/* Ends alternate between copying and zero-copy calls. */
struct end {
    ipcx_ring *r;
    unsigned n;
};

static int open_end(st_run *r, int i, uint32_t role, void **out) {
    struct end *e = calloc(1, sizeof *e);
    int s = IPCX_OK;
    if (r->h[i]) {
        e->r = r->h[i];
        r->h[i] = NULL;
    } else {
        s = ipcx_ring_open(r->name, role | mpmc(r), NULL, &e->r);
    }
    if (s != IPCX_OK) free(e), e = NULL;
    *out = e;
    return s;
}

static int ring_tx_open(st_run *r, int id, void **tx) {
    (void)id;
    return open_end(r, 1, IPCX_OPEN_WRITE, tx);
}

static int ring_rx_open(st_run *r, void **rx) { return open_end(r, 0, IPCX_OPEN_READ, rx); }

static int ring_send(void *tx, const void *buf, size_t len, int64_t t) {
    struct end *e = tx;
    if (++e->n & 1) return ipcx_ring_send(e->r, buf, len, t);
    void *p;
    int s = ipcx_ring_reserve(e->r, len, t, &p);
    if (s != IPCX_OK) return s;
    memcpy(p, buf, len);
    return ipcx_ring_commit(e->r, len);
}

static int ring_recv(void *rx, void *buf, size_t *len, int64_t t) {
    struct end *e = rx;
    if (++e->n & 1) return ipcx_ring_recv(e->r, buf, len, t);
    const void *p;
    size_t n;
    int s = ipcx_ring_borrow(e->r, t, &p, &n);
    if (s != IPCX_OK) return s;
    if (n > *len) {
        ipcx_ring_release(e->r);
        return IPCX_ERR_TOO_BIG;
    }
    memcpy(buf, p, n);
    *len = n;
    return ipcx_ring_release(e->r);
}

static void end_close(void *h) {
    struct end *e = h;
    ipcx_ring_close(e->r);
    free(e);
}

/* After the crash, a new peer attaches to the ring by name (the dead one's attachment is
 * recovered) and a message goes through. */
static int ring_reuse(st_run *r, void *h, int side) {
    struct end *mine = h;
    ipcx_ring *other;
    uint32_t role = side == ST_SIDE_CONSUMER ? IPCX_OPEN_WRITE : IPCX_OPEN_READ;
    int s = ipcx_ring_open(r->name, role | mpmc(r), NULL, &other);
    if (s != IPCX_OK) return s;
    ipcx_ring *tx = side == ST_SIDE_CONSUMER ? other : mine->r;
    ipcx_ring *rx = side == ST_SIDE_CONSUMER ? mine->r : other;
    static char buf[1 << 16];
    size_t len;
    if (side == ST_SIDE_PRODUCER) { /* the backlog the dead consumer left */
        do len = sizeof buf;
        while ((s = ipcx_ring_recv(rx, buf, &len, IPCX_NOWAIT)) == IPCX_OK);
    }
    s = ipcx_ring_send(tx, "again", 5, 2000);
    if (s == IPCX_OK) {
        len = sizeof buf;
        s = ipcx_ring_recv(rx, buf, &len, 2000);
        if (s == IPCX_OK && (len != 5 || memcmp(buf, "again", 5))) s = IPCX_ERR_PROTOCOL;
    }
    ipcx_ring_close(other);
    return s;
}

static void ring_cleanup(st_run *r) {
    drop(r, 0);
    drop(r, 1);
    ipcx_ring_remove(r->name);
}

#define RING_COMMON                                                                   \
    .max_len = 4096, .crash_max_len = 8192, .rx_final = IPCX_ERR_CLOSED,              \
    .tx_final = IPCX_ERR_CLOSED, .setup = ring_setup, .prune = ring_prune,           \
    .tx_open = ring_tx_open, .tx_send = ring_send, .tx_close = end_close,            \
    .rx_open = ring_rx_open, .rx_recv = ring_recv, .rx_close = end_close,            \
    .reuse = ring_reuse, .cleanup = ring_cleanup

const struct st_mech st_ring_spsc = {
    .name = "ring SPSC",
    .caps = ST_MESSAGES | ST_ORDERED,
    .notes = "one producer sends all 8 x N messages; sends alternate copy and "
             "reserve/commit, receives recv and borrow/release; after each crash a new "
             "peer attaches by name",
    RING_COMMON,
};

const struct st_mech st_ring_mpmc = {
    .name = "ring MPMC",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .notes = "8 producers attach by name; victims die holding the producers' lock when "
             "killed inside reserve/commit",
    RING_COMMON,
};
