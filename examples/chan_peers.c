/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: a channel whose other end is a ZeroMQ or nng program.
 *
 * An ipcx receiver on "zmq+tcp:..." is a ZeroMQ PULL socket: any ZeroMQ PUSH socket
 * (libzmq, pyzmq, cppzmq, JeroMQ) can connect and send to it; on "nng+tcp:..." or
 * "nng+ipc:/path" it is an nng/nanomsg PULL socket. An ipcx sender is a PUSH socket.
 *
 *   example_chan_peers
 *       A receiver on zmq+tcp:127.0.0.1:<any port> that admits 127.0.0.1 only, and two
 *       producers (forked ipcx senders: on the wire they are exactly what a ZeroMQ PUSH
 *       socket sends, so nothing else needs to be installed); then the same over
 *       nng+ipc:, where ipcx listens and an nng program would connect.
 *
 *   example_chan_peers zmq+tcp:127.0.0.1:5555
 *       Receive from real programs for 30 s, e.g.
 *         python3 -c 'import zmq; s = zmq.Context().socket(zmq.PUSH);
 *                     s.connect("tcp://127.0.0.1:5555"); s.send(b"hello from pyzmq")'
 *       or, with "nng+ipc:/tmp/jobs.sock":
 *         python3 -c 'import pynng; s = pynng.Push0(dial="ipc:///tmp/jobs.sock");
 *                     s.send(b"hello from pynng")'
 *
 * Build: cc chan_peers.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Receive until `expect` messages came (0: until 30 s pass without one). */
static int receive(ipcx_chan *rx, int expect) {
    int got = 0;
    for (;;) {
        char buf[4096];
        size_t len = sizeof buf;
        int s = ipcx_chan_recv(rx, buf, &len, expect ? 5000 : 30000);
        if (s == IPCX_ERR_CLOSED) { /* every sender so far has left */
            if (expect && got < expect) {
                usleep(1000);
                continue;
            }
            break;
        }
        if (s == IPCX_ERR_PROTOCOL) { /* a peer we cannot talk to, or a multipart message */
            fprintf(stderr, "  refused: %s\n", ipcx_last_error());
            continue;
        }
        if (s) {
            if (s != IPCX_ERR_TIMEOUT || expect) fprintf(stderr, "%s\n", ipcx_last_error());
            break;
        }
        printf("  \"%.*s\"\n", (int)len, buf);
        if (++got == expect) break;
    }
    return got;
}

static int demo(const char *address, const char *url_form) {
    ipcx_options *o;
    ipcx_options_create(&o);
    /* Who may send: TCP peers from these networks, Unix peers of these users. */
    if (strstr(address, "+tcp:")) {
        ipcx_options_set_allowed_networks(o, "127.0.0.1, ::1");
    } else {
        uint32_t me = (uint32_t)getuid();
        ipcx_options_set_allowed_uids(o, &me, 1);
    }
    ipcx_chan *rx;
    if (ipcx_chan_open(address, IPCX_OPEN_READ, o, 0, &rx)) {
        fprintf(stderr, "%s: %s\n", address, ipcx_last_error());
        ipcx_options_close(o);
        return 1;
    }
    ipcx_options_close(o);
    ipcx_chan_info info = {.size = sizeof info};
    ipcx_chan_stat(rx, &info); /* info.address: the port it got */
    printf("%s (a %s program would connect to %s%s)\n", info.address, url_form,
           strstr(info.address, "+tcp:") ? "tcp://" : "ipc://", strchr(info.address, ':') + 1);
    for (int p = 0; p < 2; p++) {
        if (fork() == 0) {
            ipcx_chan *tx;
            int s = ipcx_chan_open(info.address, IPCX_OPEN_WRITE, NULL, 5000, &tx);
            for (int i = 0; i < 3 && s == IPCX_OK; i++) {
                char msg[64];
                int n = snprintf(msg, sizeof msg, "producer %d, message %d", p, i);
                s = ipcx_chan_send(tx, msg, (size_t)n, 5000);
            }
            if (s) fprintf(stderr, "producer %d: %s\n", p, ipcx_last_error());
            ipcx_chan_close(tx);
            _exit(s == IPCX_OK ? 0 : 1);
        }
    }
    int got = receive(rx, 6), bad = 0;
    for (int p = 0; p < 2; p++) {
        int st;
        wait(&st);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    ipcx_chan_close(rx); /* removes the socket file of nng+ipc:/path */
    return got == 6 && !bad ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        ipcx_chan *rx;
        if (ipcx_chan_open(argv[1], IPCX_OPEN_READ, NULL, 0, &rx)) {
            fprintf(stderr, "%s: %s\n", argv[1], ipcx_last_error());
            return 1;
        }
        printf("receiving on %s for 30 s after the last message\n", argv[1]);
        receive(rx, 0);
        ipcx_chan_close(rx);
        return 0;
    }
    char ipc[128];
    snprintf(ipc, sizeof ipc, "nng+ipc:/tmp/ipcx-example-peers-%d.sock", (int)getpid());
    int rc = demo("zmq+tcp:127.0.0.1:0", "ZeroMQ PUSH");
    rc |= demo(ipc, "nng PUSH");
    return rc;
}
