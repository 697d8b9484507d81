/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A separate program that reaches a socket by name only: the "unrelated process" of the
 * socket tests (started with fork + exec, so it shares nothing but the name).
 *
 *   sock_peer echo <name> <type> <count>
 *       connect to the Unix socket <name> (a path or "@abstract"; type 1 stream, 3
 *       seqpacket), send "pid uid gid" of this process, then receive <count> messages and
 *       send each back reversed.
 *   sock_peer dgram <name> <count>
 *       bind a Unix datagram socket to an automatic name, send "hello" to <name>, then
 *       answer <count> datagrams to their sender, reversed.
 * Exit status 0 on success; messages on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcx.h"

#define CHECK(call)                                                                   \
    do {                                                                              \
        int s_ = (call);                                                              \
        if (s_ != IPCX_OK) {                                                          \
            fprintf(stderr, "sock_peer %d: %s: %s: %s\n", (int)getpid(), #call,       \
                    ipcx_strerror(s_), ipcx_last_error());                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static void reverse(char *dst, const char *src, size_t n) {
    for (size_t k = 0; k < n; k++) dst[k] = src[n - 1 - k];
}

static int echo(const char *name, uint32_t type, int count) {
    ipcx_sock *s;
    CHECK(ipcx_sock_connect_unix(name, type, NULL, 10000, &s));
    char buf[4096], rev[4096];
    int n = snprintf(buf, sizeof buf, "%d %u %u", (int)getpid(), (unsigned)getuid(), (unsigned)getgid());
    CHECK(ipcx_sock_send(s, buf, (size_t)n, 10000));
    for (int i = 0; i < count; i++) {
        size_t len = sizeof buf;
        CHECK(ipcx_sock_recv(s, buf, &len, 10000));
        reverse(rev, buf, len);
        CHECK(ipcx_sock_send(s, rev, len, 10000));
    }
    CHECK(ipcx_sock_close(s));
    return 0;
}

static int dgram(const char *name, int count) {
    ipcx_sock *s;
    CHECK(ipcx_sock_bind_unix(NULL, NULL, &s));
    CHECK(ipcx_sock_sendto(s, "hello", 5, name, 10000));
    char buf[4096], rev[4096], from[IPCX_SOCK_ADDR_MAX];
    for (int i = 0; i < count; i++) {
        size_t len = sizeof buf, flen = sizeof from;
        CHECK(ipcx_sock_recvfrom(s, buf, &len, from, &flen, 10000));
        reverse(rev, buf, len);
        CHECK(ipcx_sock_sendto(s, rev, len, from, 10000));
    }
    CHECK(ipcx_sock_close(s));
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "echo") == 0) return echo(argv[2], (uint32_t)strtoul(argv[3], NULL, 0), atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "dgram") == 0) return dgram(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: sock_peer echo NAME TYPE-FLAGS N | dgram NAME N\n");
    return 2;
}
