/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins: POSIX message queues and System V message queues. */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ POSIX */

/* Small queues: RLIMIT_MSGQUEUE (800 KiB for every POSIX queue of the user) is shared. */
#define MQ_DEPTH 10
#define MQ_MSGSIZE 1024

static int mq_setup(st_run *r, int side) {
    (void)side;
    st_unique(r->name, sizeof r->name, "/", "mq");
    ipcx_options *o;
    ipcx_options_create(&o);
    ipcx_options_set_max_messages(o, MQ_DEPTH);
    ipcx_options_set_max_message(o, MQ_MSGSIZE);
    ipcx_mq *q;
    int s = ipcx_mq_open(r->name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
                         o, &q);
    ipcx_options_close(o);
    if (s == IPCX_OK) st_res_add(r, ST_RES_MQ, r->name, 0);
    r->h[0] = q;
    return s;
}

static void mq_drop(st_run *r) {
    if (r->h[0]) ipcx_mq_close(r->h[0]);
    r->h[0] = NULL;
}

/* Producers open the queue by name (the consumer keeps the handle setup made). */
static void mq_prune(st_run *r, int side) {
    if (side == ST_SIDE_PRODUCER) mq_drop(r);
}

static int mq_tx_open(st_run *r, int id, void **tx) {
    (void)id;
    ipcx_mq *q;
    int s = ipcx_mq_open(r->name, IPCX_OPEN_WRITE, NULL, &q);
    *tx = q;
    return s;
}

static int mq_rx_open(st_run *r, void **rx) {
    *rx = r->h[0];
    r->h[0] = NULL;
    return IPCX_OK;
}

static int mq_send(void *tx, const void *buf, size_t len, int64_t t) {
    return ipcx_mq_send(tx, buf, len, 0, t);
}
static int mq_recv(void *rx, void *buf, size_t *len, int64_t t) {
    return ipcx_mq_recv(rx, buf, len, t, NULL);
}
static void mq_close(void *h) { ipcx_mq_close(h); }

/* After the crash the queue works for new peers: the survivor's own end, plus a new one. */
static int mq_reuse(st_run *r, void *h, int side) {
    ipcx_mq *other;
    int s = ipcx_mq_open(r->name, side == ST_SIDE_CONSUMER ? IPCX_OPEN_WRITE : IPCX_OPEN_READ, NULL, &other);
    if (s != IPCX_OK) return s;
    ipcx_mq *tx = side == ST_SIDE_CONSUMER ? other : h, *rx = side == ST_SIDE_CONSUMER ? h : other;
    static char buf[MQ_MSGSIZE];
    size_t len;
    if (side == ST_SIDE_PRODUCER) { /* the queue is full of the dead consumer's backlog */
        do len = sizeof buf;
        while ((s = ipcx_mq_recv(rx, buf, &len, IPCX_NOWAIT, NULL)) == IPCX_OK);
    }
    s = ipcx_mq_send(tx, "again", 5, 0, 2000);
    if (s == IPCX_OK) {
        len = sizeof buf;
        s = ipcx_mq_recv(rx, buf, &len, 2000, NULL);
        if (s == IPCX_OK && (len != 5 || memcmp(buf, "again", 5))) s = IPCX_ERR_PROTOCOL;
    }
    ipcx_mq_close(other);
    return s;
}

static void mq_cleanup(st_run *r) {
    mq_drop(r);
    ipcx_mq_remove(r->name);
}

const struct st_mech st_posix_mq = {
    .name = "POSIX mq",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = MQ_MSGSIZE,
    .crash_max_len = MQ_MSGSIZE,
    .rx_final = IPCX_ERR_TIMEOUT,
    .tx_final = IPCX_ERR_TIMEOUT,
    .notes = "depth 10 x 1 KiB; a queue cannot tell that a peer died: the survivor's "
             "defined status is its timeout (100 ms) once the queue is empty (or full)",
    .setup = mq_setup,
    .prune = mq_prune,
    .tx_open = mq_tx_open,
    .tx_send = mq_send,
    .tx_close = mq_close,
    .rx_open = mq_rx_open,
    .rx_recv = mq_recv,
    .rx_close = mq_close,
    .reuse = mq_reuse,
    .cleanup = mq_cleanup,
};

/* ------------------------------------------------------------------ System V */

#define MSQ_MAX 1024

struct msq_end {
    ipcx_msgq *q;
    long type;   /* send: the message type; receive: the msgrcv selector */
    int typed;   /* the types row: a received message's type must be its producer + 1 */
};

static int msq_setup(st_run *r, int side) {
    (void)side;
    ipcx_msgq *q;
    int s = ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q);
    if (s != IPCX_OK) return s;
    int32_t id;
    ipcx_msgq_id(q, &id);
    r->id = id;
    st_res_add(r, ST_RES_MSQ, "", id);
    r->h[0] = q;
    return IPCX_OK;
}

static void msq_drop(st_run *r) {
    if (r->h[0]) ipcx_msgq_close(r->h[0]);
    r->h[0] = NULL;
}

static void msq_prune(st_run *r, int side) {
    if (side == ST_SIDE_PRODUCER) msq_drop(r);
}

static int msq_open_end(st_run *r, int id, void **out, int rx) {
    struct msq_end *e = calloc(1, sizeof *e);
    int s = IPCX_OK;
    if (rx && r->h[0]) {
        e->q = r->h[0];
        r->h[0] = NULL;
    } else {
        s = ipcx_msgq_open_id((int32_t)r->id, &e->q); /* as an unrelated process would */
    }
    e->typed = r->m == &st_sysv_msq_types;
    /* Types row: producer i sends type i + 1; the consumer takes the lowest type first
     * (msgtyp = -8), so every type is a channel of its own and none starves for good. */
    if (rx) e->type = e->typed ? -ST_MAX_PRODUCERS : 0;
    else e->type = e->typed ? id + 1 : 1;
    *out = e;
    if (s != IPCX_OK) free(e), *out = NULL;
    return s;
}

static int msq_tx_open(st_run *r, int id, void **tx) { return msq_open_end(r, id, tx, 0); }
static int msq_rx_open(st_run *r, void **rx) { return msq_open_end(r, 0, rx, 1); }

static int msq_send(void *tx, const void *buf, size_t len, int64_t t) {
    struct msq_end *e = tx;
    return ipcx_msgq_send(e->q, buf, len, e->type, t);
}

static int msq_recv(void *rx, void *buf, size_t *len, int64_t t) {
    struct msq_end *e = rx;
    long got = 0;
    int s = ipcx_msgq_recv(e->q, buf, len, e->type, 0, t, &got);
    if (s == IPCX_OK && e->typed && *len >= sizeof(struct st_hdr)) {
        struct st_hdr h;
        memcpy(&h, buf, sizeof h);
        if (got != (long)h.producer + 1) ((uint8_t *)buf)[0] ^= 0xff; /* count it as corrupt */
    }
    return s;
}

static void msq_close(void *h) {
    struct msq_end *e = h;
    ipcx_msgq_close(e->q);
    free(e);
}

static int msq_reuse(st_run *r, void *h, int side) {
    struct msq_end *mine = h;
    ipcx_msgq *q;
    int s = ipcx_msgq_open_id((int32_t)r->id, &q);
    if (s != IPCX_OK) return s;
    static char buf[MSQ_MAX];
    size_t len;
    if (side == ST_SIDE_PRODUCER) { /* drain the dead consumer's backlog */
        do len = sizeof buf;
        while ((s = ipcx_msgq_recv(q, buf, &len, 0, 0, IPCX_NOWAIT, NULL)) == IPCX_OK);
    }
    s = ipcx_msgq_send(side == ST_SIDE_CONSUMER ? q : mine->q, "again", 5, 7, 2000);
    if (s == IPCX_OK) {
        len = sizeof buf;
        s = ipcx_msgq_recv(side == ST_SIDE_CONSUMER ? mine->q : q, buf, &len, 7, 0, 2000, NULL);
        if (s == IPCX_OK && len != 5) s = IPCX_ERR_PROTOCOL;
    }
    ipcx_msgq_close(q);
    return s;
}

static void msq_cleanup(st_run *r) {
    ipcx_msgq *q = r->h[0];
    r->h[0] = NULL;
    if (q || ipcx_msgq_open_id((int32_t)r->id, &q) == IPCX_OK) {
        ipcx_msgq_remove(q);
        ipcx_msgq_close(q);
    }
}

#define MSQ_COMMON                                                                   \
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = MSQ_MAX,                 \
    .crash_max_len = MSQ_MAX, .rx_final = IPCX_ERR_TIMEOUT,                           \
    .tx_final = IPCX_ERR_TIMEOUT, .setup = msq_setup, .prune = msq_prune,           \
    .tx_open = msq_tx_open, .tx_send = msq_send, .tx_close = msq_close,             \
    .rx_open = msq_rx_open, .rx_recv = msq_recv, .rx_close = msq_close,             \
    .reuse = msq_reuse, .cleanup = msq_cleanup

const struct st_mech st_sysv_msq = {
    .name = "SysV msq",
    .notes = "one type; default byte limit (msgmnb); peers open the queue by id; a queue "
             "cannot tell that a peer died: the defined status is the survivor's timeout",
    MSQ_COMMON,
};

const struct st_mech st_sysv_msq_types = {
    .name = "SysV msq, 8 types",
    .notes = "producer i sends type i+1, the consumer receives lowest type first (-8); the "
             "type of every message is checked against its producer",
    MSQ_COMMON,
};
