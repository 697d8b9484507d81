/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A separate program that talks to FIFOs by path only: the "unrelated process" of the
 * FIFO tests (started with fork + exec, so it shares nothing but the path).
 *
 *   fifo_peer echo <in-fifo> <out-fifo> <count>
 *       receive <count> messages from <in-fifo>, send each back on <out-fifo> reversed.
 *   fifo_peer client <server-fifo> <reply-fifo> <id> <count>
 *       create <reply-fifo>; send <count> requests "<id> <seq> <payload>" (payload up to
 *       IPCX_FIFO_ATOMIC_MAX bytes, atomic mode) to <server-fifo>; check each reply; unlink.
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
            fprintf(stderr, "fifo_peer %d: %s: %s: %s\n", (int)getpid(), #call,       \
                    ipcx_strerror(s_), ipcx_last_error());                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static int echo(const char *in, const char *out, int count) {
    ipcx_pipe *r, *w;
    CHECK(ipcx_fifo_open(in, IPCX_OPEN_READ, NULL, 10000, &r));
    CHECK(ipcx_fifo_open(out, IPCX_OPEN_WRITE, NULL, 10000, &w));
    char buf[4096], rev[4096];
    for (int i = 0; i < count; i++) {
        size_t len = sizeof buf;
        CHECK(ipcx_pipe_recv(r, buf, &len, 10000));
        for (size_t k = 0; k < len; k++) rev[k] = buf[len - 1 - k];
        CHECK(ipcx_pipe_send(w, rev, len, 10000));
    }
    CHECK(ipcx_pipe_close(r));
    CHECK(ipcx_pipe_close(w));
    return 0;
}

/* Payload byte k of request (id, seq). */
static char payload_byte(int id, int seq, size_t k) { return (char)('a' + (id * 7 + seq * 3 + k) % 26); }

static int client(const char *server, const char *reply, int id, int count) {
    ipcx_options *o;
    CHECK(ipcx_options_create(&o));
    CHECK(ipcx_options_set_atomic(o, true));
    CHECK(ipcx_fifo_make(reply, NULL));
    ipcx_pipe *w, *r;
    CHECK(ipcx_fifo_open(reply, IPCX_OPEN_READ, NULL, 10000, &r));
    CHECK(ipcx_fifo_open(server, IPCX_OPEN_WRITE, o, 10000, &w));
    CHECK(ipcx_options_close(o));
    static char msg[IPCX_FIFO_ATOMIC_MAX], buf[64];
    for (int seq = 0; seq < count; seq++) {
        int head = snprintf(msg, sizeof msg, "%d %d %s ", id, seq, reply);
        size_t len = (size_t)head + (size_t)((seq * 977 + id * 131) % (IPCX_FIFO_ATOMIC_MAX - head));
        for (size_t k = (size_t)head; k < len; k++) msg[k] = payload_byte(id, seq, k);
        CHECK(ipcx_pipe_send(w, msg, len, 10000));
        size_t rl = sizeof buf;
        CHECK(ipcx_pipe_recv(r, buf, &rl, 10000));
        char want[64];
        snprintf(want, sizeof want, "ok %d %d %zu", id, seq, len);
        if (rl != strlen(want) || memcmp(buf, want, rl) != 0) {
            fprintf(stderr, "client %d: reply %.*s, expected %s\n", id, (int)rl, buf, want);
            return 1;
        }
    }
    CHECK(ipcx_pipe_close(w));
    CHECK(ipcx_pipe_close(r));
    CHECK(ipcx_fifo_remove(reply));
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "echo") == 0) return echo(argv[2], argv[3], atoi(argv[4]));
    if (argc == 6 && strcmp(argv[1], "client") == 0)
        return client(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: fifo_peer echo IN OUT N | client SERVER REPLY ID N\n");
    return 2;
}
