/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour rows: sockets. The seed: a socket is an IPC mechanism that, unlike the others, also
 * links processes on different hosts.
 *
 * - Unix domain socket: a listener at a path, a forked child that connects by that path,
 *   the kernel's record of who connected (credentials), a descriptor handed over, and
 *   message boundaries kept by datagram and seqpacket pairs.
 * - TCP / UDP across hosts: two network namespaces joined by a veth pair stand for two
 *   hosts (server 10.77.0.1, client 10.77.0.2, each a forked process in its namespace);
 *   without the privilege to make namespaces, loopback, said in a note. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "tour.h"

static int64_t samples[TOUR_ROUNDS];

/* ------------------------------------------------------------------ Unix */

static int unix_pairs(struct tour_row *row) {
    uint32_t kinds[2] = {IPCX_SOCK_DGRAM, IPCX_SOCK_SEQPACKET};
    for (int k = 0; k < 2; k++) {
        ipcx_sock *a, *b;
        int s = ipcx_sock_pair(kinds[k], NULL, &a, &b);
        if (s) return tour_fail_status(row, "ipcx_sock_pair", s);
        pid_t pid = fork();
        if (pid == 0) {
            ipcx_sock_close(b);
            int bad = 0;
            for (int i = 1; i <= 3 && !bad; i++) bad = ipcx_sock_send(a, "abc", (size_t)i, 5000) != IPCX_OK;
            ipcx_sock_close(a);
            _exit(bad);
        }
        ipcx_sock_close(a);
        int bad = 0;
        for (int i = 1; i <= 3 && !bad; i++) { /* three sends, three messages */
            char buf[8];
            size_t len = sizeof buf;
            bad = ipcx_sock_recv(b, buf, &len, 5000) != IPCX_OK || len != (size_t)i;
        }
        ipcx_sock_close(b);
        if (!tour_wait_child(pid, 10000) || bad) return tour_fail(row, "message boundaries not kept");
    }
    return 1;
}

void tour_unix_socket(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "connect by path after fork, peer creds, fd passing, boundaries");
    if (!unix_pairs(row)) return;
    char path[128];
    snprintf(path, sizeof path, "/tmp/ipcx-tour-%d-sock", (int)getpid());
    ipcx_sock_listener *l;
    int s = ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l);
    if (s) {
        tour_fail_status(row, "ipcx_sock_listen_unix", s);
        return;
    }
    int p[2];
    if (pipe(p) != 0) {
        ipcx_sock_listener_close(l);
        tour_fail(row, "pipe failed");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* The child knows the path only: it connects, takes a pipe end, echoes. */
        ipcx_sock_listener_close(l);
        close(p[0]);
        close(p[1]);
        ipcx_sock *c;
        if (ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 5000, &c)) _exit(1);
        int fd[1] = {-1};
        size_t nfds = 1;
        char buf[64];
        size_t len = sizeof buf;
        if (ipcx_sock_recv_fds(c, buf, &len, fd, &nfds, 5000) || nfds != 1) _exit(2);
        if (write(fd[0], "via passed fd", 13) != 13) _exit(3);
        close(fd[0]);
        for (;;) {
            len = sizeof buf;
            s = ipcx_sock_recv(c, buf, &len, 10000);
            if (s == IPCX_ERR_CLOSED) break;
            if (s || ipcx_sock_send(c, buf, len, 10000)) _exit(4);
        }
        ipcx_sock_close(c);
        _exit(0);
    }
    ipcx_sock *c = NULL;
    s = ipcx_sock_accept(l, 5000, &c);
    ipcx_sock_listener_close(l); /* removes the socket file */
    if (s) {
        close(p[0]);
        close(p[1]);
        tour_fail_status(row, "ipcx_sock_accept", s);
        tour_wait_child(pid, 10000);
        return;
    }
    int32_t cpid = -1;
    s = ipcx_sock_peer_credentials(c, &cpid, NULL, NULL);
    if (s == IPCX_OK && cpid != pid) tour_fail(row, "credentials name pid %d, the child is %d", cpid, (int)pid);
    if (s) tour_fail_status(row, "ipcx_sock_peer_credentials", s);
    if (row->ok && (s = ipcx_sock_send_fds(c, "pipe", 4, &p[1], 1, 5000)))
        tour_fail_status(row, "ipcx_sock_send_fds", s);
    close(p[1]);
    char got[32] = {0};
    if (row->ok && (read(p[0], got, sizeof got - 1) != 13 || strcmp(got, "via passed fd") != 0))
        tour_fail(row, "the child did not write through the passed descriptor");
    close(p[0]);
    char msg[64] = "ping";
    for (int i = 0; i < TOUR_ROUNDS && row->ok; i++) {
        size_t len = sizeof msg;
        int64_t t0 = tour_now_ns();
        s = ipcx_sock_send(c, msg, 64, 10000);
        if (s == IPCX_OK) s = ipcx_sock_recv(c, msg, &len, 10000);
        samples[i] = tour_now_ns() - t0;
        if (s != IPCX_OK || len != 64) tour_fail_status(row, "round trip", s);
    }
    ipcx_sock_close(c);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "child failed");
    if (access(path, F_OK) == 0 && row->ok) tour_fail(row, "socket file %s left behind", path);
    if (row->ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
}

/* ------------------------------------------------------------------ two hosts */

struct hosts {
    int netns;
    struct netns_pair net;
    const char *server_ip, *client_ip; /* address forms as ipcx prints them */
};

static int hosts_up(struct tour_row *row, struct hosts *h, const char *tag, int v6) {
    char why[160];
    h->netns = netns_available(why, sizeof why);
    if (h->netns) {
        char err[200];
        if (netns_pair_create(&h->net, tag, err, sizeof err) != 0) return tour_fail(row, "%s", err);
        h->server_ip = v6 ? "[fd77::1]" : "10.77.0.1";
        h->client_ip = v6 ? "[fd77::2]" : "10.77.0.2";
        snprintf(row->detail, sizeof row->detail,
                 "server %s and client %s: two network namespaces joined by a veth pair",
                 h->server_ip, h->client_ip);
    } else {
        h->server_ip = h->client_ip = v6 ? "[::1]" : "127.0.0.1";
        snprintf(row->detail, sizeof row->detail, "over loopback: %s", why);
    }
    return 1;
}

static void hosts_down(struct hosts *h) {
    if (h->netns) netns_pair_destroy(&h->net);
}

/* Fork a process on host A (server) or B (client). */
static pid_t on_host(struct hosts *h, int client) {
    pid_t p = fork();
    if (p == 0 && h->netns) {
        netns_child(&h->net);
        if (netns_enter(client ? h->net.b : h->net.a) != 0) _exit(90);
    }
    return p;
}

static int prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* The client side: RT samples, then the median to the parent through `out`. */
static void client_done(int out, int ok) {
    double med = ok ? tour_median_us(samples, TOUR_ROUNDS) : -1;
    if (write(out, &med, sizeof med) != sizeof med) _exit(91);
    close(out);
    _exit(ok ? 0 : 1);
}

static void run_hosts(struct tour_row *row, struct hosts *h, void (*server)(struct hosts *, int),
                      void (*client)(struct hosts *, int, int)) {
    int addr[2], res[2];
    if (pipe(addr) || pipe(res)) {
        tour_fail(row, "pipe failed");
        return;
    }
    pid_t sp = on_host(h, 0);
    if (sp == 0) {
        close(addr[0]);
        close(res[0]);
        close(res[1]);
        server(h, addr[1]);
    }
    close(addr[1]);
    pid_t cp = on_host(h, 1);
    if (cp == 0) {
        close(res[0]);
        client(h, addr[0], res[1]);
    }
    close(addr[0]);
    close(res[1]);
    double med = -1;
    struct pollfd pfd = {res[0], POLLIN, 0};
    if (poll(&pfd, 1, 30000) != 1 || read(res[0], &med, sizeof med) != sizeof med) med = -1;
    close(res[0]);
    int cok = tour_wait_child(cp, 10000), sok = tour_wait_child(sp, 10000);
    if (!cok || med < 0) tour_fail(row, "client failed (%s)", row->detail);
    else if (!sok) tour_fail(row, "server failed (%s)", row->detail);
    else row->median_rt_us = med;
}

/* Send the listener's or socket's address to the client. */
static void tell(int fd, const char *addr) {
    size_t n = strlen(addr) + 1;
    if (write(fd, addr, n) != (ssize_t)n) _exit(92);
    close(fd);
}

static void hear(int fd, char *addr, size_t cap) {
    ssize_t n = read(fd, addr, cap - 1);
    if (n <= 0) _exit(93);
    addr[n] = 0;
    close(fd);
}

static void tcp_server(struct hosts *h, int out) {
    char addr[IPCX_SOCK_ADDR_MAX];
    snprintf(addr, sizeof addr, "%s:0", h->server_ip);
    ipcx_sock_listener *l;
    if (ipcx_sock_listen_tcp(addr, NULL, &l)) _exit(10);
    size_t len = sizeof addr;
    if (ipcx_sock_listener_address(l, addr, &len)) _exit(11);
    tell(out, addr);
    ipcx_sock *c;
    if (ipcx_sock_accept(l, 10000, &c)) _exit(12);
    len = sizeof addr;
    if (ipcx_sock_peer_address(c, addr, &len) || !prefix(addr, h->client_ip)) _exit(13);
    static char buf[1 << 18];
    for (;;) {
        len = sizeof buf;
        int s = ipcx_sock_recv(c, buf, &len, 10000);
        if (s == IPCX_ERR_CLOSED) break; /* the client shut down its side */
        if (s || ipcx_sock_send(c, buf, len, 10000)) _exit(14);
    }
    ipcx_sock_close(c);
    ipcx_sock_listener_close(l);
    _exit(0);
}

static void tcp_client(struct hosts *h, int in, int out) {
    char addr[IPCX_SOCK_ADDR_MAX];
    hear(in, addr, sizeof addr);
    ipcx_sock *s;
    if (ipcx_sock_connect_tcp(addr, NULL, 10000, &s)) client_done(out, 0);
    size_t len = sizeof addr;
    if (ipcx_sock_local_address(s, addr, &len) || !prefix(addr, h->client_ip)) client_done(out, 0);
    static char msg[1 << 18], buf[1 << 18];
    for (int i = 0; i < 8; i++) { /* framed messages up to 256 KiB arrive whole */
        size_t n = (size_t)1 << (i * 2 + 3);
        memset(msg, 'a' + i, n);
        len = sizeof buf;
        if (ipcx_sock_send(s, msg, n, 10000) || ipcx_sock_recv(s, buf, &len, 10000) || len != n ||
            memcmp(buf, msg, n) != 0)
            client_done(out, 0);
    }
    for (int i = 0; i < TOUR_ROUNDS; i++) {
        len = sizeof buf;
        int64_t t0 = tour_now_ns();
        int st = ipcx_sock_send(s, msg, 64, 10000);
        if (st == IPCX_OK) st = ipcx_sock_recv(s, buf, &len, 10000);
        samples[i] = tour_now_ns() - t0;
        if (st || len != 64) client_done(out, 0);
    }
    /* Half-close: the server reads end of file, answers by closing: we read it too. */
    len = sizeof buf;
    if (ipcx_sock_shutdown(s, IPCX_SOCK_SHUT_WR) || ipcx_sock_recv(s, buf, &len, 10000) != IPCX_ERR_CLOSED)
        client_done(out, 0);
    ipcx_sock_close(s);
    client_done(out, 1);
}

void tour_tcp(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "server and client on 2 hosts, framed msgs to 256 KiB, half-close");
    struct hosts h;
    if (!hosts_up(row, &h, "tcp", 0)) return;
    run_hosts(row, &h, tcp_server, tcp_client);
    hosts_down(&h);
}

static void udp_server(struct hosts *h, int out) {
    char addr[IPCX_SOCK_ADDR_MAX], from[IPCX_SOCK_ADDR_MAX];
    snprintf(addr, sizeof addr, "%s:0", h->server_ip);
    ipcx_sock *u;
    if (ipcx_sock_bind_udp(addr, NULL, &u)) _exit(20);
    size_t len = sizeof addr;
    if (ipcx_sock_local_address(u, addr, &len)) _exit(21);
    tell(out, addr);
    char buf[2048];
    for (;;) {
        len = sizeof buf;
        size_t flen = sizeof from;
        if (ipcx_sock_recvfrom(u, buf, &len, from, &flen, 10000)) _exit(22);
        if (!prefix(from, h->client_ip)) _exit(23);
        if (len == 0) break; /* the end marker */
        if (ipcx_sock_sendto(u, buf, len, from, 10000)) _exit(24);
    }
    ipcx_sock_close(u);
    _exit(0);
}

static void udp_client(struct hosts *h, int in, int out) {
    (void)h;
    char addr[IPCX_SOCK_ADDR_MAX];
    hear(in, addr, sizeof addr);
    ipcx_sock *u;
    if (ipcx_sock_connect_udp(addr, NULL, &u)) client_done(out, 0);
    char msg[1400], buf[2048];
    for (int i = 1; i <= 20; i++) { /* each datagram arrives whole, alone */
        size_t len = sizeof buf, n = (size_t)i * 70;
        memset(msg, 'a' + i, n);
        if (ipcx_sock_send(u, msg, n, 5000) || ipcx_sock_recv(u, buf, &len, 5000) || len != n)
            client_done(out, 0);
    }
    for (int i = 0; i < TOUR_ROUNDS; i++) {
        size_t len = sizeof buf;
        int64_t t0 = tour_now_ns();
        int st = ipcx_sock_send(u, msg, 64, 5000);
        if (st == IPCX_OK) st = ipcx_sock_recv(u, buf, &len, 5000);
        samples[i] = tour_now_ns() - t0;
        if (st || len != 64) client_done(out, 0);
    }
    ipcx_sock_send(u, NULL, 0, 5000);
    ipcx_sock_close(u);
    client_done(out, 1);
}

void tour_udp(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "datagrams between 2 hosts (IPv6), boundaries, sender address");
    struct hosts h;
    if (!hosts_up(row, &h, "udp", 1)) return;
    run_hosts(row, &h, udp_server, udp_client);
    hosts_down(&h);
}
