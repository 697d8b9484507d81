/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins: Unix stream, datagram and seqpacket sockets, TCP and UDP on loopback. */
#include "stress.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* h[0]: the listener (stream, seqpacket, TCP) or the bound receiving socket (datagrams). */

static int is(const st_run *r, const struct st_mech *m) { return r->m == m; }

static uint32_t sock_type(const st_run *r) {
    if (is(r, &st_unix_dgram)) return IPCX_SOCK_DGRAM;
    if (is(r, &st_unix_seqpacket)) return IPCX_SOCK_SEQPACKET;
    return IPCX_SOCK_STREAM;
}

static int connected_type(const st_run *r) { return !is(r, &st_unix_dgram) && !is(r, &st_udp); }

/* The side that binds in a victim-consumer trial of a datagram socket is the victim
 * (an abstract name or a UDP port it publishes), so that its death is seen by the sender. */
static int victim_binds(const st_run *r) { return !connected_type(r) && r->kind == ST_KIND_KILL_CONSUMER; }

static int sock_setup(st_run *r, int side) {
    (void)side;
    char base[64];
    int s;
    if (victim_binds(r)) {
        if (is(r, &st_unix_dgram)) {
            st_unique(base, sizeof base, "", "dgram");
            snprintf(r->name, sizeof r->name, "@%s", base); /* abstract: no file */
        }
        return IPCX_OK;
    }
    if (is(r, &st_tcp) || is(r, &st_udp)) {
        ipcx_options *o = NULL;
        if (is(r, &st_udp)) { /* a larger receive buffer: fewer drops under 8 senders */
            ipcx_options_create(&o);
            ipcx_options_set_capacity(o, 4u << 20);
        }
        if (is(r, &st_tcp)) {
            ipcx_sock_listener *l;
            s = ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &l);
            r->h[0] = l;
            if (s == IPCX_OK) {
                size_t len = sizeof r->sh->address;
                s = ipcx_sock_listener_address(l, r->sh->address, &len);
            }
        } else {
            ipcx_sock *u;
            s = ipcx_sock_bind_udp("127.0.0.1:0", o, &u);
            r->h[0] = u;
            if (s == IPCX_OK) {
                size_t len = sizeof r->sh->address;
                s = ipcx_sock_local_address(u, r->sh->address, &len);
            }
        }
        ipcx_options_close(o);
        return s;
    }
    st_unique(base, sizeof base, "", "sock");
    snprintf(r->name, sizeof r->name, "%.60s/%s", r->dir, base);
    st_res_add(r, ST_RES_PATH, r->name, 0);
    if (is(r, &st_unix_dgram)) {
        ipcx_sock *b;
        s = ipcx_sock_bind_unix(r->name, NULL, &b);
        r->h[0] = b;
    } else {
        ipcx_sock_listener *l;
        s = ipcx_sock_listen_unix(r->name, sock_type(r), NULL, &l);
        r->h[0] = l;
    }
    return s;
}

static void drop_h0(st_run *r) {
    if (!r->h[0]) return;
    if (connected_type(r)) ipcx_sock_listener_close(r->h[0]);
    else ipcx_sock_close(r->h[0]);
    r->h[0] = NULL;
}

/* Producers drop the inherited listener or bound socket only once connected (see tx_open):
 * the process that made it removes its socket file when it closes it. */
static void sock_prune(st_run *r, int side) {
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

static int sock_tx_open(st_run *r, int id, void **tx) {
    (void)id;
    ipcx_sock *s = NULL;
    int rc;
    if (victim_binds(r) && (rc = wait_published(r)) != IPCX_OK) return rc;
    if (is(r, &st_tcp)) rc = ipcx_sock_connect_tcp(r->sh->address, NULL, 5000, &s);
    else if (is(r, &st_udp)) rc = ipcx_sock_connect_udp(r->sh->address, NULL, &s);
    else rc = ipcx_sock_connect_unix(r->name, sock_type(r), NULL, 5000, &s);
    drop_h0(r);
    *tx = s;
    return rc;
}

static int tx_send(void *tx, const void *buf, size_t len, int64_t t) {
    return ipcx_sock_send(tx, buf, len, t);
}
static void tx_close(void *tx) { ipcx_sock_close(tx); }

/* The consumer: every accepted connection (or the one bound socket), received from fairly:
 * each call tries the connections in turn without waiting (a handle may hold messages it
 * read ahead), then polls them all. */
struct mux {
    ipcx_sock *s[ST_MAX_PRODUCERS];
    int n, next;
};

static int sock_rx_open(st_run *r, void **rx) {
    struct mux *m = calloc(1, sizeof *m);
    *rx = m;
    int rc = IPCX_OK;
    if (victim_binds(r)) {
        ipcx_sock *b;
        rc = is(r, &st_udp) ? ipcx_sock_bind_udp("127.0.0.1:0", NULL, &b)
                            : ipcx_sock_bind_unix(r->name, NULL, &b);
        if (rc != IPCX_OK) return rc;
        if (is(r, &st_udp)) {
            size_t len = sizeof r->sh->address;
            rc = ipcx_sock_local_address(b, r->sh->address, &len);
        }
        atomic_store(&r->sh->published, 1);
        m->s[m->n++] = b;
        return rc;
    }
    if (!connected_type(r)) {
        m->s[m->n++] = r->h[0];
        r->h[0] = NULL;
        return IPCX_OK;
    }
    int want = r->kind == ST_KIND_LOAD ? r->producers : 1;
    for (int i = 0; i < want && rc == IPCX_OK; i++) {
        rc = ipcx_sock_accept(r->h[0], 20000, &m->s[m->n]);
        if (rc == IPCX_OK) m->n++;
    }
    drop_h0(r);
    return rc;
}

static int sock_rx_recv(void *rx, void *buf, size_t *len, int64_t t) {
    struct mux *m = rx;
    int64_t end = t > 0 ? st_now_ns() + t * 1000000 : 0;
    for (;;) {
        if (m->n == 0) return IPCX_ERR_CLOSED;
        for (int k = 0; k < m->n; k++) {
            int i = (m->next + k) % m->n;
            size_t l = *len;
            int s = ipcx_sock_recv(m->s[i], buf, &l, IPCX_NOWAIT);
            if (s == IPCX_ERR_TIMEOUT) continue;
            if (s == IPCX_ERR_CLOSED && m->n > 1) { /* one producer is done */
                ipcx_sock_close(m->s[i]);
                m->s[i] = m->s[--m->n];
                k = -1;
                continue;
            }
            if (s == IPCX_OK) {
                *len = l;
                m->next = i + 1;
            }
            return s;
        }
        if (t == 0) return IPCX_ERR_TIMEOUT;
        struct pollfd p[ST_MAX_PRODUCERS];
        for (int i = 0; i < m->n; i++) {
            ipcx_sock_fd(m->s[i], &p[i].fd);
            p[i].events = POLLIN;
        }
        int wait = -1;
        if (t > 0) {
            int64_t left = end - st_now_ns();
            if (left <= 0) return IPCX_ERR_TIMEOUT;
            wait = (int)((left + 999999) / 1000000);
        }
        poll(p, (nfds_t)m->n, wait);
    }
}

static void sock_rx_close(void *rx) {
    struct mux *m = rx;
    for (int i = 0; i < m->n; i++) ipcx_sock_close(m->s[i]);
    free(m);
}

static void sock_cleanup(st_run *r) { drop_h0(r); }

#define SOCK_COMMON                                                                   \
    .setup = sock_setup, .prune = sock_prune, .tx_open = sock_tx_open,               \
    .tx_send = tx_send, .tx_close = tx_close, .rx_open = sock_rx_open,              \
    .rx_recv = sock_rx_recv, .rx_close = sock_rx_close, .cleanup = sock_cleanup

const struct st_mech st_unix_stream = {
    .name = "Unix stream",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = 4096,
    .crash_max_len = 65536,
    .rx_final = IPCX_ERR_CLOSED,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "a listener on a path, one connection per producer, polled fairly",
    SOCK_COMMON,
};

const struct st_mech st_unix_seqpacket = {
    .name = "Unix seqpacket",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = 4096,
    .crash_max_len = 65536,
    .rx_final = IPCX_ERR_CLOSED,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "a listener on a path, one connection per producer",
    SOCK_COMMON,
};

const struct st_mech st_unix_dgram = {
    .name = "Unix dgram",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = 4096,
    .crash_max_len = 16384,
    .rx_final = IPCX_ERR_TIMEOUT,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "producers connect to the consumer's path; a receiver cannot tell that a "
             "sender died (defined status: its timeout); a sender whose receiver died gets "
             "CLOSED (the victim binds an abstract name then)",
    SOCK_COMMON,
};

const struct st_mech st_tcp = {
    .name = "TCP loopback",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED,
    .max_len = 4096,
    .crash_max_len = 65536,
    .rx_final = IPCX_ERR_CLOSED,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "127.0.0.1, one connection per producer",
    SOCK_COMMON,
};

const struct st_mech st_udp = {
    .name = "UDP loopback",
    .caps = ST_MESSAGES | ST_MULTI | ST_ORDERED | ST_LOSSY,
    .max_len = 1024,
    .crash_max_len = 1024,
    .rx_final = IPCX_ERR_TIMEOUT,
    .tx_final = IPCX_ERR_CLOSED,
    .notes = "may lose datagrams (not a failure); a connected sender learns of the "
             "receiver's death from the ICMP port-unreachable (CLOSED)",
    SOCK_COMMON,
};
