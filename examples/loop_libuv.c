/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: a libuv loop drives a channel sender and a channel receiver (uv_poll_t).
 *
 * The same exchange as loop_epoll.c, written the libuv way: the parent sends MESSAGES
 * messages to a forked echo process over one channel and receives the echoes over
 * another; one uv_poll_t watches the receiver's descriptor (UV_READABLE: receive with
 * IPCX_NOWAIT until IPCX_ERR_TIMEOUT), another the sender's (UV_WRITABLE, started only
 * while the sender waits for room: back-pressure, since the echo process starts late).
 * With nothing more to send, ipcx_chan_flush until IPCX_OK. The descriptors stay the
 * channels' (uv_poll_t never reads, writes or closes them).
 *
 *   example_loop_libuv              (pipe: and unix: pairs)
 *   example_loop_libuv unix:        (one of them)
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
        uv_poll_start(&a->tx_poll, UV_WRITABLE, on_writable);
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
           "waited for writability %d times\n",
           kind, a.received, SIZE, a.waits);
    ipcx_chan_close(a.rx);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1) return run(argv[1]);
    return run("pipe:") | run("unix:");
}
