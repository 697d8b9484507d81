/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: one epoll loop drives a channel sender and a channel receiver, never blocking.
 *
 * The parent sends MESSAGES messages to a forked echo process over one channel and
 * receives the echoes over another, from a single epoll loop:
 * - the receiver's descriptor (ipcx_chan_fd) is readable when a receive may progress:
 *   receive with IPCX_NOWAIT until IPCX_ERR_TIMEOUT;
 * - the sender's descriptor is ready when a send may progress: send with IPCX_NOWAIT
 *   until IPCX_ERR_TIMEOUT (back-pressure: the echo process starts late, so the channel
 *   fills), then wait for the event ipcx_chan_stat gives in fd_events (EPOLLOUT; for a
 *   shm: sender, whose descriptor is the ring's room descriptor, EPOLLIN) and send the
 *   same message again; with nothing more to send, ipcx_chan_flush until IPCX_OK (the
 *   rest of a message a send accepted).
 *
 * - a ring producer's room descriptor (ipcx_ring_fd) is readable when room may be there,
 *   a ring consumer's when a message may be.
 *
 *   example_loop_epoll              (pipe:, unix: and shm: pairs, and a ring)
 *   example_loop_epoll shm:         (one of them; "ring" for the ring)
 *
 * Build: cc loop_epoll.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define MESSAGES 300
#define SIZE 4000

/* The echo process: plain blocking calls. */
static void echo(ipcx_chan *in, ipcx_chan *out) {
    usleep(20000); /* start late: the parent meets back-pressure */
    static char buf[SIZE];
    int s;
    for (;;) {
        size_t len = sizeof buf;
        s = ipcx_chan_recv(in, buf, &len, 5000);
        if (s != IPCX_OK) break;
        s = ipcx_chan_send(out, buf, len, 5000);
        if (s != IPCX_OK) break;
    }
    if (s != IPCX_ERR_CLOSED) fprintf(stderr, "echo: %s\n", ipcx_last_error());
    ipcx_chan_close(in);
    ipcx_chan_close(out);
    _exit(s == IPCX_ERR_CLOSED ? 0 : 1);
}

static int watch(int ep, int op, int fd, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(ep, op, fd, &ev);
}

static int run(const char *kind) {
    ipcx_options *o = NULL;
    ipcx_chan *tx, *to_parent, *from_child, *rx;
    ipcx_options_create(&o);
    ipcx_options_set_capacity(o, 16384); /* small kernel buffers: back-pressure soon */
    if (ipcx_chan_pair(kind, 0, o, &tx, &rx) || ipcx_chan_pair(kind, 0, o, &to_parent,
                                                                &from_child)) {
        fprintf(stderr, "%s: %s\n", kind, ipcx_last_error());
        return 1;
    }
    ipcx_options_close(o);
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_chan_close(tx);
        ipcx_chan_close(from_child);
        echo(rx, to_parent);
    }
    ipcx_chan_close(rx);
    ipcx_chan_close(to_parent);

    int txfd, rxfd;
    ipcx_chan_fd(tx, &txfd);         /* ready for tx_events when a send may progress */
    ipcx_chan_fd(from_child, &rxfd); /* readable when a receive may progress */
    ipcx_chan_info info = {.size = sizeof info};
    ipcx_chan_stat(tx, &info);
    uint32_t tx_events = info.fd_events; /* EPOLLOUT; EPOLLIN for shm: (room descriptor) */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    watch(ep, EPOLL_CTL_ADD, rxfd, EPOLLIN);
    watch(ep, EPOLL_CTL_ADD, txfd, 0); /* EPOLLOUT only while the sender waits for room */

    static char msg[SIZE], got[SIZE];
    int sent = 0, received = 0, waits = 0, flushed = 0, closed = 0, ok = 1;
    while (ok && !closed) {
        /* Send while there is room. */
        int want_out = 0;
        while (sent < MESSAGES) {
            memset(msg, 'a' + sent % 26, sizeof msg);
            int s = ipcx_chan_send(tx, msg, sizeof msg, IPCX_NOWAIT);
            if (s == IPCX_ERR_TIMEOUT) { /* no room: wait, then send the same again */
                waits++;
                want_out = 1;
                break;
            }
            if (s != IPCX_OK) {
                ok = 0;
                break;
            }
            sent++;
        }
        if (sent == MESSAGES && !flushed) {
            int s = ipcx_chan_flush(tx, IPCX_NOWAIT); /* the rest of the last message */
            if (s == IPCX_OK) {
                flushed = 1;
            } else if (s == IPCX_ERR_TIMEOUT) {
                want_out = 1;
            } else {
                ok = 0;
            }
        }
        if (tx) watch(ep, EPOLL_CTL_MOD, txfd, want_out ? tx_events : 0);
        if (!ok) break;

        struct epoll_event ev[2];
        int n = epoll_wait(ep, ev, 2, 5000);
        if (n <= 0) {
            fprintf(stderr, "%s: nothing happened for 5 s\n", kind);
            ok = 0;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd != rxfd) continue; /* room: the loop's top sends */
            for (;;) {                           /* readable: receive until nothing is left */
                size_t len = sizeof got;
                int s = ipcx_chan_recv(from_child, got, &len, IPCX_NOWAIT);
                if (s == IPCX_ERR_TIMEOUT) break;
                if (s == IPCX_ERR_CLOSED) { /* the echo process is gone */
                    closed = 1;
                    break;
                }
                if (s != IPCX_OK || len != SIZE || got[0] != 'a' + received % 26) {
                    ok = 0;
                    break;
                }
                if (++received == MESSAGES) {
                    watch(ep, EPOLL_CTL_DEL, txfd, 0);
                    ipcx_chan_close(tx); /* every message came back: let the echo end */
                    tx = NULL;
                }
            }
        }
    }
    if (!ok) fprintf(stderr, "%s: %s\n", kind, ipcx_last_error());
    int st = 0;
    waitpid(pid, &st, 0);
    ok = ok && received == MESSAGES && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("%-6s %d messages of %d bytes sent and echoed through one epoll loop; the sender "
           "waited for room (%s) %d times\n",
           kind, received, SIZE, tx_events == EPOLLIN ? "EPOLLIN" : "EPOLLOUT", waits);
    close(ep);
    ipcx_chan_close(tx);
    ipcx_chan_close(from_child);
    return ok ? 0 : 1;
}

/* The same over a shared-memory ring, an epoll loop in each process: the consumer
 * (forked) is slow to start, so the ring fills; the producer's ipcx_ring_fd is its room
 * descriptor, an epoll descriptor: it polls READABLE (EPOLLIN) when room may be there;
 * the consumer's is readable when a message may be there (or the producer is gone). */
static int ring(void) {
    ipcx_options *o = NULL;
    ipcx_ring *p, *c;
    ipcx_options_create(&o);
    ipcx_options_set_capacity(o, 16384);
    if (ipcx_ring_pair(0, o, &p, &c)) {
        fprintf(stderr, "ring: %s\n", ipcx_last_error());
        return 1;
    }
    ipcx_options_close(o);
    pid_t pid = fork();
    if (pid == 0) { /* the consumer's loop: its descriptor is readable when a message may be */
        ipcx_ring_close(p);
        usleep(20000);
        static char buf[SIZE];
        int got = 0, s, fd;
        ipcx_ring_fd(c, &fd); /* after fork: in the process that polls */
        int cep = epoll_create1(EPOLL_CLOEXEC);
        watch(cep, EPOLL_CTL_ADD, fd, EPOLLIN);
        for (;;) {
            size_t len = sizeof buf;
            s = ipcx_ring_recv(c, buf, &len, IPCX_NOWAIT);
            if (s == IPCX_ERR_TIMEOUT) { /* empty: that re-armed the descriptor */
                struct epoll_event ev;
                if (epoll_wait(cep, &ev, 1, 5000) != 1) break;
                continue;
            }
            if (s != IPCX_OK || len != SIZE || buf[0] != 'a' + got % 26) break;
            got++;
        }
        close(cep);
        ipcx_ring_close(c);
        _exit(s == IPCX_ERR_CLOSED && got == MESSAGES ? 0 : 1); /* every message, in order */
    }
    ipcx_ring_close(c);
    int room;
    ipcx_ring_fd(p, &room);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    watch(ep, EPOLL_CTL_ADD, room, EPOLLIN);
    static char msg[SIZE];
    int sent = 0, waits = 0, ok = 1;
    while (ok && sent < MESSAGES) {
        memset(msg, 'a' + sent % 26, sizeof msg);
        int s = ipcx_ring_send(p, msg, sizeof msg, IPCX_NOWAIT);
        if (s == IPCX_OK) {
            sent++;
        } else if (s == IPCX_ERR_TIMEOUT) { /* full: that armed the room descriptor */
            struct epoll_event ev;
            waits++;
            if (epoll_wait(ep, &ev, 1, 5000) != 1) ok = 0;
        } else {
            ok = 0;
        }
    }
    if (!ok) fprintf(stderr, "ring: %s\n", ipcx_last_error());
    close(ep);
    ipcx_ring_close(p); /* the consumer takes what is left, then sees CLOSED */
    int st = 0;
    waitpid(pid, &st, 0);
    ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("ring:  %d messages of %d bytes from an epoll loop to another; the producer "
           "waited for room %d times\n",
           sent, SIZE, waits);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1) return strcmp(argv[1], "ring") == 0 ? ring() : run(argv[1]);
    return run("pipe:") | run("unix:") | run("shm:") | ring();
}
