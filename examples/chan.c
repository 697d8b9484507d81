/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: one channel API, every transport. Changing transport is changing the string.
 *
 * A consumer opens the receiving end at an address; three producers (forked, but they
 * could be unrelated programs) open senders at the same address and send a few messages;
 * the consumer receives them all and learns that every producer is gone (where the
 * transport can tell; message queues cannot, so it counts).
 *
 *   example_chan                      (a few transports)
 *   example_chan unix:/tmp/jobs.sock  (any address: fifo:/path, unix:/path,
 *                                      unix:@name, tcp:host:port, mq:/name,
 *                                      sysvmq:key[/type], shm:/name)
 *
 * Build: cc chan.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PRODUCERS 3
#define MESSAGES 5

static int run(const char *address) {
    ipcx_chan *rx;
    /* The receiver creates the object (FIFO, socket, queue, ring). MULTI_SENDER only
     * matters for shm: (a ring for several producers); the others always allow it. */
    if (ipcx_chan_open(address, IPCX_OPEN_READ | IPCX_CHAN_MULTI_SENDER, NULL, 0, &rx)) {
        fprintf(stderr, "%s: %s\n", address, ipcx_last_error());
        return 1;
    }
    ipcx_chan_info info = {.size = sizeof info};
    ipcx_chan_stat(rx, &info); /* info.address: what senders open (tcp:...:0 -> the port) */
    for (int p = 0; p < PRODUCERS; p++) {
        if (fork() == 0) {
            ipcx_chan *tx;
            /* Waits up to 5 s for the receiver's object to be there. */
            int s = ipcx_chan_open(info.address, IPCX_OPEN_WRITE | IPCX_CHAN_MULTI_SENDER, NULL,
                                   5000, &tx);
            for (int i = 0; i < MESSAGES && s == IPCX_OK; i++) {
                char msg[64];
                int n = snprintf(msg, sizeof msg, "producer %d, message %d", p, i);
                s = ipcx_chan_send(tx, msg, (size_t)n, 5000);
            }
            if (s) fprintf(stderr, "producer %d: %s\n", p, ipcx_last_error());
            ipcx_chan_close(tx);
            _exit(s == IPCX_OK ? 0 : 1);
        }
    }
    int got = 0, s = IPCX_OK, ended = 0, ok = 1;
    while (got < PRODUCERS * MESSAGES) {
        char buf[8192]; /* mq: a receive buffer as large as the queue's messages is best */
        size_t len = sizeof buf;
        s = ipcx_chan_recv(rx, buf, &len, 5000);
        if (s == IPCX_ERR_CLOSED) { /* the producers that came so far all left */
            /* Stop once every producer has ended: one that failed sends nothing more. */
            int st;
            for (; ended < PRODUCERS && waitpid(-1, &st, WNOHANG) > 0; ended++)
                ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
            if (ended == PRODUCERS) break;
            usleep(1000);
            continue;
        }
        if (s) break;
        if (got++ == 0) printf("%-28s first: \"%.*s\"", address, (int)len, buf);
    }
    ok = ok && got == PRODUCERS * MESSAGES;
    for (; ended < PRODUCERS; ended++) {
        int st;
        wait(&st);
        ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    if (ok) {
        /* Every producer is gone: CLOSED where the transport tells, else a timeout. */
        char buf[8192];
        size_t len = sizeof buf;
        s = ipcx_chan_recv(rx, buf, &len, 200);
        printf(", %d messages, then %s\n", got, s == IPCX_ERR_CLOSED ? "CLOSED" : "a timeout");
    } else {
        fprintf(stderr, "%s: %s\n", address, ipcx_last_error());
    }
    ipcx_chan_close(rx); /* removes what the receiver created */
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1) return run(argv[1]);
    char a[5][96];
    int pid = (int)getpid();
    snprintf(a[0], sizeof a[0], "fifo:/tmp/ipcx-example-chan-%d", pid);
    snprintf(a[1], sizeof a[1], "unix:/tmp/ipcx-example-chan-%d.sock", pid);
    snprintf(a[2], sizeof a[2], "tcp:127.0.0.1:0");
    snprintf(a[3], sizeof a[3], "mq:/ipcx-example-chan-%d", pid);
    snprintf(a[4], sizeof a[4], "shm:/ipcx-example-chan-%d", pid);
    int failed = 0;
    for (int i = 0; i < 5; i++) failed |= run(a[i]);
    return failed;
}
