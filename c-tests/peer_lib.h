/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The other end of the interop channels: the real nng (PEER_NNG) or ZeroMQ (PEER_ZMQ)
 * library behind one small API, for test_chan_peers.c and the tour (header-only).
 *
 * Both libraries start threads: use them only in a process that does not fork again
 * (nng aborts in a child forked after it started). Every function returns 0 or a
 * negative value, printing the library's error to stderr. */
#ifndef IPCX_PEER_LIB_H
#define IPCX_PEER_LIB_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(PEER_NNG)
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#define PEER_NAME "nng"
#elif defined(PEER_ZMQ)
#include <zmq.h>
#define PEER_NAME "zmq"
#else
#error "define PEER_NNG or PEER_ZMQ"
#endif

/* Set to keep the library's errors off stderr (a sender that expects to be refused). */
static int peer_quiet;

struct peer {
#if defined(PEER_NNG)
    nng_socket s;
    nng_listener l;
#else
    void *ctx, *s;
#endif
    char bound[320]; /* after peer_listen: the ipcx address of the bound endpoint */
};

/* The library's endpoint URL for an ipcx address ("nng+tcp:h:p" -> "tcp://h:p";
 * "nng+ipc:/p" -> "ipc:///p"; "nng+ipc:@n" -> "abstract://n"; "zmq+ipc:@n" ->
 * "ipc://@n"). */
static inline void peer_url(const char *addr, char *url, size_t n) {
    const char *rest = strchr(addr, ':') + 1;
    if (strstr(addr, "+tcp:")) {
        snprintf(url, n, "tcp://%s", rest);
    } else if (rest[0] == '@') {
#if defined(PEER_NNG)
        snprintf(url, n, "abstract://%s", rest + 1);
#else
        snprintf(url, n, "ipc://%s", rest);
#endif
    } else {
        snprintf(url, n, "ipc://%s", rest);
    }
}

static inline int peer_fail(const char *what) {
#if defined(PEER_NNG)
    (void)what;
    return -1;
#else
    if (!peer_quiet) fprintf(stderr, "%s: %s\n", what, zmq_strerror(zmq_errno()));
    return -1;
#endif
}

#if defined(PEER_NNG)
static inline int peer_nng(int rv, const char *what) {
    if (rv && !peer_quiet) fprintf(stderr, "%s: %s\n", what, nng_strerror(rv));
    return rv ? -1 : 0;
}
#endif

/* Open a PUSH (push != 0) or PULL socket. Messages up to `max` bytes are received. */
static inline int peer_open(struct peer *p, int push, size_t max) {
    memset(p, 0, sizeof *p);
#if defined(PEER_NNG)
    if (peer_nng(push ? nng_push0_open(&p->s) : nng_pull0_open(&p->s), "nng_*0_open")) return -1;
    nng_socket_set_size(p->s, NNG_OPT_RECVMAXSZ, max);
    nng_socket_set_ms(p->s, NNG_OPT_RECONNMINT, 10);
    return 0;
#else
    p->ctx = zmq_ctx_new();
    p->s = zmq_socket(p->ctx, push ? ZMQ_PUSH : ZMQ_PULL);
    if (!p->s) return peer_fail("zmq_socket");
    int64_t m = (int64_t)max;
    int one = 1, ivl = 10;
    zmq_setsockopt(p->s, ZMQ_MAXMSGSIZE, &m, sizeof m);
    zmq_setsockopt(p->s, ZMQ_IPV6, &one, sizeof one);
    zmq_setsockopt(p->s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    return 0;
#endif
}

/* Set a zmq integer option (no-op for nng). */
static inline void peer_zmq_int(struct peer *p, int opt, int v) {
#if defined(PEER_ZMQ)
    zmq_setsockopt(p->s, opt, &v, sizeof v);
#else
    (void)p, (void)opt, (void)v;
#endif
}

/* Connect to the ipcx address `addr` (retrying in the background until it is there). */
static inline int peer_dial(struct peer *p, const char *addr) {
    char url[300];
    peer_url(addr, url, sizeof url);
#if defined(PEER_NNG)
    return peer_nng(nng_dial(p->s, url, NULL, NNG_FLAG_NONBLOCK), url);
#else
    return zmq_connect(p->s, url) ? peer_fail(url) : 0;
#endif
}

/* Listen at the ipcx address `addr` (tcp port 0: any; the address to open is then in
 * p->bound). */
static inline int peer_listen(struct peer *p, const char *addr) {
    char url[300];
    snprintf(p->bound, sizeof p->bound, "%s", addr);
    peer_url(addr, url, sizeof url);
    int tcp = strstr(addr, "+tcp:") != NULL;
#if defined(PEER_NNG)
    if (peer_nng(nng_listen(p->s, url, &p->l, 0), url)) return -1;
    if (tcp) {
        nng_sockaddr sa;
        if (peer_nng(nng_listener_get_addr(p->l, NNG_OPT_LOCADDR, &sa), "local address"))
            return -1;
        char host[200];
        snprintf(host, sizeof host, "%s", strchr(addr, ':') + 1);
        *strrchr(host, ':') = 0;
        uint16_t port = sa.s_family == NNG_AF_INET6 ? sa.s_in6.sa_port : sa.s_in.sa_port;
        snprintf(p->bound, sizeof p->bound, "nng+tcp:%s:%u", host, (unsigned)ntohs(port));
    }
    return 0;
#else
    if (tcp) {
        char *colon = strrchr(url, ':');
        if (!strcmp(colon, ":0")) strcpy(colon, ":*");
    }
    if (zmq_bind(p->s, url)) return peer_fail(url);
    if (tcp) {
        char ep[200];
        size_t n = sizeof ep;
        if (zmq_getsockopt(p->s, ZMQ_LAST_ENDPOINT, ep, &n)) return peer_fail("endpoint");
        snprintf(p->bound, sizeof p->bound, "zmq+tcp:%s", ep + strlen("tcp://"));
    }
    return 0;
#endif
}

/* Send one message (waiting for a connected peer, up to `ms`). */
static inline int peer_send(struct peer *p, const void *buf, size_t len, int ms) {
#if defined(PEER_NNG)
    nng_socket_set_ms(p->s, NNG_OPT_SENDTIMEO, ms);
    return peer_nng(nng_send(p->s, (void *)buf, len, 0), "nng_send");
#else
    zmq_setsockopt(p->s, ZMQ_SNDTIMEO, &ms, sizeof ms);
    return zmq_send(p->s, buf, len, 0) == (int)len ? 0 : peer_fail("zmq_send");
#endif
}

#if defined(PEER_ZMQ)
/* A ZeroMQ message in several parts. */
static inline int peer_send_parts(struct peer *p, const char *const *parts, int n) {
    for (int i = 0; i < n; i++)
        if (zmq_send(p->s, parts[i], strlen(parts[i]), i < n - 1 ? ZMQ_SNDMORE : 0) < 0)
            return peer_fail("zmq_send");
    return 0;
}
#endif

/* Receive one message into buf (capacity cap), up to `ms`: its length, or -1. */
static inline long peer_recv(struct peer *p, void *buf, size_t cap, int ms) {
#if defined(PEER_NNG)
    nng_socket_set_ms(p->s, NNG_OPT_RECVTIMEO, ms);
    size_t n = cap;
    int rv = nng_recv(p->s, buf, &n, 0);
    if (rv) {
        fprintf(stderr, "nng_recv: %s\n", nng_strerror(rv));
        return -1;
    }
    return (long)n;
#else
    zmq_setsockopt(p->s, ZMQ_RCVTIMEO, &ms, sizeof ms);
    int n = zmq_recv(p->s, buf, cap, 0);
    if (n < 0) return peer_fail("zmq_recv");
    return n > (int)cap ? -1 : n;
#endif
}

static inline void peer_close(struct peer *p) {
#if defined(PEER_NNG)
    nng_close(p->s);
#else
    zmq_close(p->s); /* the default linger: zmq_ctx_term sends what is queued */
    zmq_ctx_term(p->ctx);
#endif
}

#endif
