/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: libuv loops drive a channel sender and a channel receiver, and both ends of a
 * ring (uv_poll_t).
 *
 * The same exchange as loop_epoll.c, written the libuv way: the parent sends MESSAGES
 * messages to a forked echo process over one channel and receives the echoes over
 * another; one uv_poll_t watches the receiver's descriptor (UV_READABLE: receive with
 * IPCX_NOWAIT until IPCX_ERR_TIMEOUT), another the sender's (started only while the
 * sender waits for room: back-pressure, since the echo process starts late), for the
 * event ipcx_chan_stat gives in fd_events: UV_WRITABLE, or UV_READABLE for a shm: sender,
 * whose descriptor is the ring's room descriptor. With nothing more to send,
 * ipcx_chan_flush until IPCX_OK. The descriptors stay the channels' (uv_poll_t never
 * reads, writes or closes them).
 *
 * Then a ring across fork, a libuv loop in each process: the producer's ipcx_ring_fd
 * (its room descriptor: UV_READABLE when room may be there) and the consumer's
 * (UV_READABLE when a message may be there; the consumer starts late, so the ring
 * fills).
 *
 *   example_loop_libuv              (pipe:, unix: and shm: pairs, and a ring)
 *   example_loop_libuv shm:         (one of them; "ring" for the ring)
 *
 * Build: cc loop_libuv.c $(pkg-config --cflags --libs ipcx libuv)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define MESSAGES 300
#define SIZE 4000

struct app {
    ipcx_chan *tx, *rx;
    int tx_events; /* UV_WRITABLE, or UV_READABLE for a shm: sender */
    uv_poll_t tx_poll, rx_poll;
    uv_timer_t guard; /* ends a loop that would hang */
    int sent, received, waits, flushed, ok;
    char msg[SIZE], got[SIZE];
};

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

static void stop(struct app *a, int ok) {
    a->ok = a->ok && ok;
    if (!ok) fprintf(stderr, "%s\n", ipcx_last_error());
    uv_poll_stop(&a->rx_poll);
    uv_timer_stop(&a->guard);
    if (a->tx) uv_poll_stop(&a->tx_poll);
}

static void on_writable(uv_poll_t *h, int status, int events);

/* Send while there is room; then wait for UV_WRITABLE, or stop watching. */
static void pump(struct app *a) {
    int want_out = 0;
    while (a->sent < MESSAGES) {
        memset(a->msg, 'a' + a->sent % 26, sizeof a->msg);
        int s = ipcx_chan_send(a->tx, a->msg, sizeof a->msg, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) {
            a->waits++;
            want_out = 1;
            break;
        }
        if (s != IPCX_OK) return stop(a, 0);
        a->sent++;
    }
    if (a->sent == MESSAGES && !a->flushed) {
        int s = ipcx_chan_flush(a->tx, IPCX_NOWAIT);
        if (s == IPCX_OK)
            a->flushed = 1;
        else if (s == IPCX_ERR_TIMEOUT)
            want_out = 1;
        else
            return stop(a, 0);
    }
    if (want_out)
        uv_poll_start(&a->tx_poll, a->tx_events, on_writable);
    else
        uv_poll_stop(&a->tx_poll);
}

static void on_writable(uv_poll_t *h, int status, int events) {
    (void)events;
    struct app *a = h->data;
    if (status < 0) return stop(a, 0);
    pump(a);
}

static void on_readable(uv_poll_t *h, int status, int events) {
    (void)events;
    struct app *a = h->data;
    if (status < 0) return stop(a, 0);
    for (;;) {
        size_t len = sizeof a->got;
        int s = ipcx_chan_recv(a->rx, a->got, &len, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) return;
        if (s == IPCX_ERR_CLOSED) return stop(a, a->received == MESSAGES); /* echo gone */
        if (s != IPCX_OK || len != SIZE || a->got[0] != 'a' + a->received % 26)
            return stop(a, 0);
        if (++a->received == MESSAGES) {
            /* Every message came back: close the sender so that the echo process ends. */
            uv_poll_stop(&a->tx_poll);
            uv_close((uv_handle_t *)&a->tx_poll, NULL);
            ipcx_chan_close(a->tx);
            a->tx = NULL;
        }
    }
}

static void on_guard(uv_timer_t *t) {
    struct app *a = t->data;
    fprintf(stderr, "nothing happened for 5 s\n");
    stop(a, 0);
}

static int run(const char *kind) {
    static struct app a;
    memset(&a, 0, sizeof a);
    a.ok = 1;
    ipcx_options *o = NULL;
    ipcx_chan *rx, *to_parent;
    ipcx_options_create(&o);
    ipcx_options_set_capacity(o, 16384); /* small kernel buffers: back-pressure soon */
    if (ipcx_chan_pair(kind, 0, o, &a.tx, &rx) || ipcx_chan_pair(kind, 0, o, &to_parent, &a.rx)) {
        fprintf(stderr, "%s: %s\n", kind, ipcx_last_error());
        return 1;
    }
    ipcx_options_close(o);
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_chan_close(a.tx);
        ipcx_chan_close(a.rx);
        echo(rx, to_parent);
    }
    ipcx_chan_close(rx);
    ipcx_chan_close(to_parent);

    uv_loop_t loop;
    uv_loop_init(&loop);
    int txfd, rxfd;
    ipcx_chan_fd(a.tx, &txfd);
    ipcx_chan_fd(a.rx, &rxfd);
    ipcx_chan_info info = {.size = sizeof info};
    ipcx_chan_stat(a.tx, &info);
    a.tx_events = info.fd_events == IPCX_CHAN_POLL_IN ? UV_READABLE : UV_WRITABLE;
    uv_poll_init(&loop, &a.tx_poll, txfd);
    uv_poll_init(&loop, &a.rx_poll, rxfd);
    uv_timer_init(&loop, &a.guard);
    a.tx_poll.data = a.rx_poll.data = a.guard.data = &a;
    uv_poll_start(&a.rx_poll, UV_READABLE, on_readable);
    uv_timer_start(&a.guard, on_guard, 5000, 0);
    pump(&a);
    uv_run(&loop, UV_RUN_DEFAULT);

    if (a.tx) uv_close((uv_handle_t *)&a.tx_poll, NULL);
    uv_close((uv_handle_t *)&a.rx_poll, NULL);
    uv_close((uv_handle_t *)&a.guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks */
    uv_loop_close(&loop);
    int st = 0;
    ipcx_chan_close(a.tx); /* (when the loop stopped early) */
    waitpid(pid, &st, 0);
    int ok = a.ok && a.received == MESSAGES && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("%-6s %d messages of %d bytes sent and echoed through a libuv loop; the sender "
           "waited for room (%s) %d times\n",
           kind, a.received, SIZE, a.tx_events == UV_READABLE ? "UV_READABLE" : "UV_WRITABLE",
           a.waits);
    ipcx_chan_close(a.rx);
    return ok ? 0 : 1;
}

/* ------------------------------------------------------------------ a ring */

/* One end of a ring and its loop: the producer's or the consumer's. */
struct ring_end {
    ipcx_ring *r;
    uv_poll_t poll;
    uv_timer_t guard;
    int n, wakeups, ok;
    char buf[SIZE];
};

static void ring_stop(struct ring_end *e, int ok) {
    e->ok = e->ok && ok;
    if (!ok) fprintf(stderr, "ring: after %d messages: %s\n", e->n, ipcx_last_error());
    uv_poll_stop(&e->poll);
    uv_timer_stop(&e->guard);
}

/* The producer: its room descriptor is readable when room may be there. Send until the
 * ring is full (that send arms the descriptor), then wait. */
static void on_room(uv_poll_t *h, int status, int events) {
    (void)events;
    struct ring_end *e = h->data;
    if (status < 0) return ring_stop(e, 0);
    e->wakeups++;
    while (e->n < MESSAGES) {
        memset(e->buf, 'a' + e->n % 26, SIZE);
        int s = ipcx_ring_send(e->r, e->buf, SIZE, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) return; /* full, or room for less: wait again */
        if (s != IPCX_OK) return ring_stop(e, 0);
        e->n++;
    }
    ring_stop(e, 1); /* everything sent: stop watching */
}

/* The consumer: readable when a message may be there; receive until nothing is left. */
static void on_message(uv_poll_t *h, int status, int events) {
    (void)events;
    struct ring_end *e = h->data;
    if (status < 0) return ring_stop(e, 0);
    e->wakeups++;
    for (;;) {
        size_t len = sizeof e->buf;
        int s = ipcx_ring_recv(e->r, e->buf, &len, IPCX_NOWAIT);
        if (s == IPCX_ERR_TIMEOUT) return;
        if (s == IPCX_ERR_CLOSED) return ring_stop(e, e->n == MESSAGES); /* producer gone */
        if (s != IPCX_OK || len != SIZE || e->buf[0] != 'a' + e->n % 26) return ring_stop(e, 0);
        e->n++;
    }
}

static void ring_guard(uv_timer_t *t) {
    fprintf(stderr, "ring: nothing happened for 5 s\n");
    ring_stop(t->data, 0);
}

/* Run one end's loop until it stops; 1 when it did its part. */
static int ring_loop(struct ring_end *e, uv_poll_cb cb) {
    int fd;
    if (ipcx_ring_fd(e->r, &fd) != IPCX_OK) { /* after fork: in the process that polls */
        fprintf(stderr, "ring: %s\n", ipcx_last_error());
        return 0;
    }
    e->ok = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_poll_init(&loop, &e->poll, fd);
    uv_timer_init(&loop, &e->guard);
    e->poll.data = e->guard.data = e;
    uv_poll_start(&e->poll, UV_READABLE, cb);
    uv_timer_start(&e->guard, ring_guard, 5000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&e->poll, NULL); /* before the ring handle closes */
    uv_close((uv_handle_t *)&e->guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return e->ok;
}

static int ring(void) {
    static struct ring_end prod, cons;
    ipcx_options *o = NULL;
    ipcx_options_create(&o);
    ipcx_options_set_capacity(o, 16384);
    if (ipcx_ring_pair(0, o, &prod.r, &cons.r)) {
        fprintf(stderr, "ring: %s\n", ipcx_last_error());
        return 1;
    }
    ipcx_options_close(o);
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_ring_close(prod.r);
        usleep(20000); /* start late: the producer meets a full ring */
        int ok = ring_loop(&cons, on_message);
        ipcx_ring_close(cons.r);
        _exit(ok ? 0 : 1); /* every message, in order, then CLOSED */
    }
    ipcx_ring_close(cons.r);
    int ok = ring_loop(&prod, on_room);
    ipcx_ring_close(prod.r); /* the consumer takes what is left, then sees CLOSED */
    int st = 0;
    waitpid(pid, &st, 0);
    ok = ok && prod.n == MESSAGES && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("ring:  %d messages of %d bytes from a libuv loop to another; the producer's room "
           "descriptor woke it %d times\n",
           prod.n, SIZE, prod.wakeups);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1) return strcmp(argv[1], "ring") == 0 ? ring() : run(argv[1]);
    return run("pipe:") | run("unix:") | run("shm:") | ring();
}
