/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: sockets, the one IPC mechanism that also links processes on different hosts.
 *
 * A server listens, a forked client connects, sends a request and reads the reply. The
 * same calls serve a Unix domain socket (a path: local processes, with the kernel telling
 * the server who connected) and TCP (host:port: any host). On stream sockets ipcx frames
 * each message, so a message arrives whole.
 *
 * Build: cc sock.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *who) {
    fprintf(stderr, "%s: %s\n", who, ipcx_last_error());
    return 1;
}

/* The client: connect to `addr`, ask, print the answer. */
static int client(const char *addr, int tcp) {
    ipcx_sock *s;
    int st = tcp ? ipcx_sock_connect_tcp(addr, NULL, 5000 /* ms */, &s)
                 : ipcx_sock_connect_unix(addr, IPCX_SOCK_STREAM, NULL, 5000, &s);
    if (st != IPCX_OK) return fail("connect");
    const char *req = "hello, server";
    char buf[128];
    size_t len = sizeof buf - 1;
    if (ipcx_sock_send(s, req, strlen(req), 5000) != IPCX_OK ||
        ipcx_sock_recv(s, buf, &len, 5000) != IPCX_OK)
        return fail("client");
    buf[len] = 0;
    printf("client got: %s\n", buf);
    ipcx_sock_close(s);
    return 0;
}

/* The server: accept one connection, answer one request. */
static int serve(ipcx_sock_listener *l, int tcp) {
    char addr[IPCX_SOCK_ADDR_MAX];
    size_t alen = sizeof addr;
    ipcx_sock_listener_address(l, addr, &alen); /* the real port if we asked for port 0 */
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_sock_listener_close(l); /* the child does not accept */
        _exit(client(addr, tcp));
    }
    ipcx_sock *c;
    if (ipcx_sock_accept(l, 5000, &c) != IPCX_OK) return fail("accept");
    if (!tcp) { /* Unix sockets: the kernel says who is on the other end */
        int32_t cpid;
        uint32_t uid;
        if (ipcx_sock_peer_credentials(c, &cpid, &uid, NULL) == IPCX_OK)
            printf("server: connection from pid %d (uid %u) on %s\n", cpid, uid, addr);
    } else {
        char peer[IPCX_SOCK_ADDR_MAX];
        size_t plen = sizeof peer;
        ipcx_sock_peer_address(c, peer, &plen);
        printf("server: connection from %s on %s\n", peer, addr);
    }
    char buf[128];
    size_t len = sizeof buf;
    if (ipcx_sock_recv(c, buf, &len, 5000) != IPCX_OK) return fail("server recv");
    char reply[160];
    int n = snprintf(reply, sizeof reply, "you sent %zu bytes", len);
    if (ipcx_sock_send(c, reply, (size_t)n, 5000) != IPCX_OK) return fail("server send");
    ipcx_sock_close(c);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(void) {
    /* A Unix domain socket at a path (mode 0600; "@name" would be an abstract name, which
     * any process of the network namespace can reach). */
    char path[64];
    snprintf(path, sizeof path, "/tmp/ipcx-example-%d.sock", (int)getpid());
    ipcx_sock_listener *l;
    if (ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l) != IPCX_OK) return fail("listen");
    int rc = serve(l, 0);
    ipcx_sock_listener_close(l); /* also removes the socket file */
    if (rc) return rc;

    /* TCP: the same, across hosts (here over loopback; port 0 = any free port). */
    if (ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &l) != IPCX_OK) return fail("listen tcp");
    rc = serve(l, 1);
    ipcx_sock_listener_close(l);
    return rc;
}
