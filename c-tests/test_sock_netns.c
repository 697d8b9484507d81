/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The seed's cross-host case: TCP and UDP between two "hosts", two network namespaces
 * joined by a veth pair (10.77.0.1 and 10.77.0.2, fd77::1 and fd77::2). A server runs in
 * one namespace, a client in the other (setns(2) in forked children); all traffic stays
 * inside those namespaces.
 *
 * Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and ip(8) from iproute2: without them the
 * program prints SKIP and exits 77, which ctest reports as skipped. CI runs as root, so
 * it runs there. Namespaces are removed even when the case fails or is killed: a watcher
 * process removes them when the case's end of a pipe closes. */
#include "test.h"

#include "netns.h"

static struct netns_pair net;

static void enter(const char *ns) {
    T_ASSERTF(netns_enter(ns) == 0, "setns into %s: %s", ns, strerror(errno));
}

static void reverse(char *dst, const char *src, size_t n) {
    for (size_t k = 0; k < n; k++) dst[k] = src[n - 1 - k];
}

#define ROUNDS 200

/* Server side of one TCP connection: echo reversed until the client closes. */
static void serve_tcp(ipcx_sock_listener *l, const char *client_prefix) {
    ipcx_sock *c;
    T_OK(ipcx_sock_accept(l, 10000, &c));
    char peer[IPCX_SOCK_ADDR_MAX];
    size_t plen = sizeof peer;
    T_OK(ipcx_sock_peer_address(c, peer, &plen));
    T_ASSERTF(strncmp(peer, client_prefix, strlen(client_prefix)) == 0, "peer %s", peer);
    static char buf[70000], rev[70000];
    for (;;) {
        size_t len = sizeof buf;
        int s = ipcx_sock_recv(c, buf, &len, 10000);
        if (s == IPCX_ERR_CLOSED) break;
        T_OK(s);
        reverse(rev, buf, len);
        T_OK(ipcx_sock_send(c, rev, len, 10000));
    }
    T_OK(ipcx_sock_close(c));
}

static void client_tcp(const char *server, const char *me_prefix) {
    ipcx_sock *s;
    T_OK(ipcx_sock_connect_tcp(server, NULL, 10000, &s));
    char me[IPCX_SOCK_ADDR_MAX];
    size_t mlen = sizeof me;
    T_OK(ipcx_sock_local_address(s, me, &mlen));
    T_ASSERTF(strncmp(me, me_prefix, strlen(me_prefix)) == 0, "local address %s", me);
    static char msg[65536], buf[65536];
    for (int i = 0; i < ROUNDS; i++) {
        size_t n = i == ROUNDS - 1 ? sizeof msg : 1 + (size_t)(i * 131) % 3000;
        for (size_t k = 0; k < n; k++) msg[k] = (char)(i + k * 3);
        T_OK(ipcx_sock_send(s, msg, n, 10000));
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(s, buf, &len, 10000));
        T_EQ_INT(len, n);
        for (size_t k = 0; k < n; k++) T_ASSERT(buf[k] == msg[n - 1 - k]);
    }
    T_OK(ipcx_sock_close(s));
}

T_CASE(tcp_and_udp_between_two_network_namespaces) {
    char err[200];
    T_ASSERTF(netns_pair_create(&net, "t", err, sizeof err) == 0, "%s", err);
    /* Nothing of it is visible from here. */
    T_ASSERT(netns_run("ip link show %s", net.veth_a) != 0);

    int ready[2];
    T_ASSERT(pipe2(ready, O_CLOEXEC) == 0);
    pid_t server = t_fork();
    if (server == 0) {
        netns_child(&net); /* only the case itself keeps the namespaces alive */
        close(ready[0]);
        enter(net.a);
        ipcx_sock_listener *l4, *l6;
        ipcx_sock *u;
        T_OK(ipcx_sock_listen_tcp("10.77.0.1:7070", NULL, &l4));
        T_OK(ipcx_sock_listen_tcp("[fd77::1]:7071", NULL, &l6));
        T_OK(ipcx_sock_bind_udp("10.77.0.1:7072", NULL, &u));
        T_ASSERT(write(ready[1], "r", 1) == 1);
        close(ready[1]);
        serve_tcp(l4, "10.77.0.2:");
        serve_tcp(l6, "[fd77::2]:");
        for (int i = 0; i < 20; i++) {
            char buf[2048], rev[2048], from[IPCX_SOCK_ADDR_MAX];
            size_t len = sizeof buf, flen = sizeof from;
            T_OK(ipcx_sock_recvfrom(u, buf, &len, from, &flen, 10000));
            T_ASSERTF(strncmp(from, "10.77.0.2:", 10) == 0, "datagram from %s", from);
            reverse(rev, buf, len);
            T_OK(ipcx_sock_sendto(u, rev, len, from, 10000));
        }
        T_OK(ipcx_sock_close(u));
        T_OK(ipcx_sock_listener_close(l4));
        T_OK(ipcx_sock_listener_close(l6));
        _exit(0);
    }
    close(ready[1]);
    pid_t client = t_fork();
    if (client == 0) {
        netns_child(&net);
        enter(net.b);
        char r;
        T_ASSERT(read(ready[0], &r, 1) == 1); /* the server is listening */
        close(ready[0]);
        /* Another host: its loopback is not the server's. */
        ipcx_sock *s;
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_tcp("127.0.0.1:7070", NULL, 2000, &s));
        client_tcp("10.77.0.1:7070", "10.77.0.2:");
        client_tcp("[fd77::1]:7071", "[fd77::2]:");
        ipcx_sock *u;
        T_OK(ipcx_sock_connect_udp("10.77.0.1:7072", NULL, &u));
        for (int i = 0; i < 20; i++) {
            char msg[1400], buf[1400];
            size_t n = 1 + (size_t)i * 70;
            for (size_t k = 0; k < n; k++) msg[k] = (char)(i * 5 + k);
            T_OK(ipcx_sock_send(u, msg, n, 10000));
            size_t len = sizeof buf;
            /* UDP may drop: a lost datagram would show as a timeout here, not a hang. */
            T_OK(ipcx_sock_recv(u, buf, &len, 10000));
            T_EQ_INT(len, n);
            T_ASSERT(buf[0] == msg[n - 1]);
        }
        T_OK(ipcx_sock_close(u));
        _exit(0);
    }
    close(ready[0]);
    int st_client = t_wait(client, 40000);
    int st_server = t_wait(server, 10000);
    netns_pair_destroy(&net);
    T_ASSERTF(WIFEXITED(st_client) && WEXITSTATUS(st_client) == 0, "client failed");
    T_ASSERTF(WIFEXITED(st_server) && WEXITSTATUS(st_server) == 0, "server failed");
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", net.a);
    T_ASSERT(access(path, F_OK) != 0); /* nothing left behind */
}

int main(int argc, char **argv) {
    char why[160];
    if (!netns_available(why, sizeof why)) {
        printf("SKIP: two-namespace TCP/UDP test: %s\n", why);
        return 77;
    }
    static const struct t_entry cases[] = {T_ENTRY(tcp_and_udp_between_two_network_namespaces)};
    return t_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
