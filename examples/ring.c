/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: a shared-memory ring between two processes.
 *
 * The parent creates a named ring (POSIX shared memory, "/name") as the producer; the
 * child opens it by name as the consumer, as an unrelated program would. Messages keep
 * their boundaries and order. The producer sends three messages in one call
 * (ipcx_ring_send_many) and writes one in place (zero-copy); the consumer waits with
 * poll() on the ring's descriptor, then takes what is queued without blocking, several
 * messages per call (ipcx_ring_recv_many). When the producer closes, the consumer gets
 * IPCX_ERR_CLOSED.
 *
 * Build: cc ring.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int consumer(const char *name) {
    ipcx_ring *r;
    if (ipcx_ring_open(name, IPCX_OPEN_READ, NULL, &r) != IPCX_OK) {
        fprintf(stderr, "child: %s\n", ipcx_last_error());
        return 1;
    }
    int fd;
    ipcx_ring_fd(r, &fd); /* readable when a message may be there */
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return 1;
        char buf[1024];
        ipcx_iov msg[8]; /* where each message landed in buf */
        size_t n;
        int s;
        /* Drain without blocking; IPCX_ERR_TIMEOUT re-arms the descriptor. */
        while ((s = ipcx_ring_recv_many(r, buf, sizeof buf, msg, 8, IPCX_NOWAIT, &n)) == IPCX_OK)
            for (size_t i = 0; i < n; i++)
                printf("child got: %.*s\n", (int)msg[i].len, (const char *)msg[i].buf);
        if (s == IPCX_ERR_CLOSED) break; /* the producer is gone and the ring is empty */
        if (s != IPCX_ERR_TIMEOUT) {
            fprintf(stderr, "child: %s\n", ipcx_last_error());
            return 1;
        }
    }
    ipcx_ring_close(r);
    fflush(stdout); /* the child leaves with _exit */
    return 0;
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipcx-example-ring-%d", (int)getpid());
    ipcx_ring *w;
    /* Create it exclusively: 1 MiB by default, mode 0600 (see ipcx_options_set_capacity). */
    if (ipcx_ring_open(name, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &w) != IPCX_OK) {
        fprintf(stderr, "ring: %s\n", ipcx_last_error());
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_ring_close(w); /* the child only consumes */
        _exit(consumer(name));
    }
    const char *lines[] = {"hello", "from", "the parent"};
    ipcx_iov batch[3];
    for (int i = 0; i < 3; i++) batch[i] = (ipcx_iov){lines[i], strlen(lines[i])};
    size_t sent; /* how many went, also when the timeout ends the call partway */
    if (ipcx_ring_send_many(w, batch, 3, 5000 /* ms */, &sent) != IPCX_OK)
        fprintf(stderr, "parent: %zu sent: %s\n", sent, ipcx_last_error());
    /* Zero-copy: reserve room, write in place, commit the length actually used. */
    void *p;
    if (ipcx_ring_reserve(w, 64, 5000, &p) == IPCX_OK) {
        int n = snprintf(p, 64, "written in place by %d", (int)getpid());
        ipcx_ring_commit(w, (size_t)n);
    }
    ipcx_ring_close(w);    /* the consumer sees IPCX_ERR_CLOSED after the last message */
    int status;
    waitpid(pid, &status, 0);
    ipcx_ring_remove(name); /* a named ring stays until unlinked, like a file */
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
