/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins for the channel layer (ipcx_chan_*, issue 9): one row per transport, made
 * from an address string. Built with -DIPCX_HAVE_CHAN (stress/CMakeLists.txt adds this file
 * and the definition once include/ipcx.h declares ipcx_chan_open); without it this file is
 * not compiled.
 *
 * Every row works the same way: the consumer opens the receiver (IPCX_OPEN_READ, which
 * creates the object) and publishes the address a sender can open (ipcx_chan_stat: for
 * tcp:127.0.0.1:0 the port it got); producers wait for it and open IPCX_OPEN_WRITE. After a
 * crash of the receiver the object stays (the documented behaviour); the survivor's
 * cleanup opens a new receiver on the same address, which adopts and on close removes it.
 * To add a transport, add a row to `rows` below: a name, an address template ("%s" is
 * replaced by a unique name), the defined statuses, and the capability bits. */
#include "stress.h"

#ifdef IPCX_HAVE_CHAN

#include <stdio.h>
#include <string.h>
#include <time.h>

struct chan_row {
    const char *tmpl;   /* address; "%s": a unique name (a path under the run dir for files) */
    int file;           /* the name is a path under the run directory */
    uint32_t flags;     /* extra open flags (IPCX_CHAN_MULTI_SENDER) */
};

/* Indexed like st_chan_rows. */
static const struct chan_row row_info[] = {
    {"fifo:%s", 1, 0},
    {"unix:%s", 1, 0},
    {"unix:@%s", 0, 0},
    {"tcp:127.0.0.1:0", 0, 0},
    {"mq:/%s", 0, 0},
    {"sysvmq:%s/1", 0, 0},
    {"shm:/%s", 0, IPCX_CHAN_MULTI_SENDER},
};

static const struct chan_row *info_of(const st_run *r) {
    return &row_info[r->m - st_chan_rows];
}

/* r->name: the address the consumer opens. */
static int chan_setup(st_run *r, int side) {
    (void)side;
    const struct chan_row *ri = info_of(r);
    char base[96];
    st_unique(base, sizeof base, "", "chan");
    char obj[160];
    if (ri->file) snprintf(obj, sizeof obj, "%.60s/%s", r->dir, base);
    else if (strstr(ri->tmpl, "sysvmq"))
        snprintf(obj, sizeof obj, "%#x", (unsigned)(0x15c00000u ^ (uint32_t)st_now_ns()) | 1u);
    else snprintf(obj, sizeof obj, "%s", base);
    snprintf(r->name, sizeof r->name, ri->tmpl, obj);
    return IPCX_OK;
}

static void chan_prune(st_run *r, int side) {
    (void)r;
    (void)side;
}

static int wait_published(st_run *r) {
    for (int i = 0; i < 5000 && !atomic_load(&r->sh->published); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&r->sh->published) ? IPCX_OK : IPCX_ERR_TIMEOUT;
}

static int chan_tx_open(st_run *r, int id, void **tx) {
    (void)id;
    *tx = NULL;
    int s = wait_published(r);
    if (s != IPCX_OK) return s;
    ipcx_chan *c;
    s = ipcx_chan_open(r->sh->address, IPCX_OPEN_WRITE | info_of(r)->flags, NULL, 5000, &c);
    *tx = c;
    return s;
}

static int chan_rx_open(st_run *r, void **rx) {
    ipcx_chan *c;
    int s = ipcx_chan_open(r->name, IPCX_OPEN_READ | info_of(r)->flags, NULL, 5000, &c);
    *rx = c;
    if (s != IPCX_OK) return s;
    ipcx_chan_info d = {.size = sizeof d};
    s = ipcx_chan_stat(c, &d);
    if (s != IPCX_OK) return s;
    snprintf(r->sh->address, sizeof r->sh->address, "%s", d.address);
    if (d.sysv_id >= 0) st_res_add(r, ST_RES_MSQ, "", d.sysv_id);
    else if (d.object && d.object[0] == '/' && !info_of(r)->file)
        st_res_add(r, strstr(r->name, "mq:") == r->name ? ST_RES_MQ : ST_RES_SHM, d.object, 0);
    else if (d.object && d.object[0]) st_res_add(r, ST_RES_PATH, d.object, 0);
    atomic_store(&r->sh->published, 1);
    return IPCX_OK;
}

static int chan_send(void *tx, const void *buf, size_t len, int64_t t) {
    return ipcx_chan_send(tx, buf, len, t);
}
static int chan_recv(void *rx, void *buf, size_t *len, int64_t t) {
    return ipcx_chan_recv(rx, buf, len, t);
}
static void chan_close(void *h) { ipcx_chan_close(h); }

/* After the crash a new peer opens the same address and one message goes through. A
 * receiver that died left its object: the new receiver adopts it (and removes it when the
 * survivor's cleanup closes it). */
static int chan_reuse(st_run *r, void *h, int side) {
    ipcx_chan *other = NULL;
    int s;
    static char buf[65536];
    size_t len;
    if (side == ST_SIDE_CONSUMER) {
        s = ipcx_chan_open(r->sh->address, IPCX_OPEN_WRITE | info_of(r)->flags, NULL, 2000, &other);
        if (s != IPCX_OK) return s;
        s = ipcx_chan_send(other, "again", 5, 2000);
        if (s == IPCX_OK) {
            do {
                len = sizeof buf;
                s = ipcx_chan_recv(h, buf, &len, 2000);
            } while (s == IPCX_OK && len != 5);
        }
        ipcx_chan_close(other);
        return s;
    }
    s = ipcx_chan_open(r->name, IPCX_OPEN_READ | info_of(r)->flags, NULL, 2000, &other);
    if (s != IPCX_OK) return s;
    r->h[1] = other; /* closed (and its object removed) by the cleanup */
    r->id = 1;       /* adopted */
    return IPCX_OK;
}

static void chan_cleanup(st_run *r) {
    if (r->h[1]) ipcx_chan_close(r->h[1]);
    r->h[1] = NULL;
    /* sysvmq: a new receiver does not adopt a queue it did not create (its other types
     * may be other channels): the application removes it, here by the id registered. */
    if (strstr(r->name, "sysvmq:") == r->name && r->kind == ST_KIND_KILL_CONSUMER) {
        st_res_remove_all(r->sh);
        return;
    }
    /* A receiver killed before it closed left its object: adopt and remove it. */
    if (atomic_load(&r->sh->published) && r->kind == ST_KIND_KILL_CONSUMER && !r->id) {
        ipcx_chan *c;
        if (ipcx_chan_open(r->name, IPCX_OPEN_READ | info_of(r)->flags, NULL, 1000, &c) == IPCX_OK)
            ipcx_chan_close(c);
    }
}

#define CHAN_COMMON                                                                    \
    .setup = chan_setup, .prune = chan_prune, .tx_open = chan_tx_open,                \
    .tx_send = chan_send, .tx_close = chan_close, .rx_open = chan_rx_open,            \
    .rx_recv = chan_recv, .rx_close = chan_close, .reuse = chan_reuse,                \
    .cleanup = chan_cleanup

const struct st_mech st_chan_rows[] = {
    {.name = "chan fifo:", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = 4092,
     .crash_max_len = 4092, .rx_final = IPCX_ERR_CLOSED, .tx_final = IPCX_ERR_CLOSED,
     .notes = "channel over a FIFO", CHAN_COMMON},
    {.name = "chan unix:", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = 4096,
     .crash_max_len = 65536, .rx_final = IPCX_ERR_CLOSED, .tx_final = IPCX_ERR_CLOSED,
     .notes = "channel over a Unix stream socket", CHAN_COMMON},
    {.name = "chan unix:@", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
     .max_len = 4096, .crash_max_len = 65536, .rx_final = IPCX_ERR_CLOSED,
     .tx_final = IPCX_ERR_CLOSED, .notes = "channel over an abstract Unix socket", CHAN_COMMON},
    {.name = "chan tcp:", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = 4096,
     .crash_max_len = 65536, .rx_final = IPCX_ERR_CLOSED, .tx_final = IPCX_ERR_CLOSED,
     .notes = "channel over TCP loopback (port 0, published by the receiver)", CHAN_COMMON},
    {.name = "chan mq:", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = 1024,
     .crash_max_len = 1024, .rx_final = IPCX_ERR_TIMEOUT, .tx_final = IPCX_ERR_TIMEOUT,
     .notes = "channel over a POSIX queue (timeouts are the defined status)", CHAN_COMMON},
    {.name = "chan sysvmq:", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = 1024,
     .crash_max_len = 1024, .rx_final = IPCX_ERR_TIMEOUT, .tx_final = IPCX_ERR_TIMEOUT,
     .notes = "channel over a System V queue, type 1; a dead receiver's queue is not "
              "adopted by the next one (documented): the driver removes it by id",
     CHAN_COMMON},
    {.name = "chan shm:", .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED, .max_len = 4096,
     .crash_max_len = 8192, .rx_final = IPCX_ERR_CLOSED, .tx_final = IPCX_ERR_CLOSED,
     .notes = "channel over a shared-memory ring, MULTI_SENDER", CHAN_COMMON},
};
const size_t st_chan_row_count = sizeof st_chan_rows / sizeof st_chan_rows[0];

#endif
