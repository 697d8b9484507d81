/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: a named pipe (FIFO) between processes that share only its path.
 *
 * The server creates the FIFO and reads; clients open it by name and write. Messages of
 * up to IPCX_FIFO_ATOMIC_MAX bytes from several clients never interleave; atomic mode
 * makes the library refuse larger ones.
 *
 * Build: cc fifo.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/ipcx-example-%d.fifo", (int)getpid());
    ipcx_pipe *server;
    /* Create (mode 0600) and open for reading; KEEP_OPEN: no EOF between clients. */
    if (ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_FIFO_KEEP_OPEN, NULL, 0,
                       &server) != IPCX_OK) {
        fprintf(stderr, "%s\n", ipcx_last_error());
        return 1;
    }
    ipcx_options *atomic;
    ipcx_options_create(&atomic);
    ipcx_options_set_atomic(atomic, true);
    for (int c = 0; c < 3; c++) {
        if (fork() == 0) { /* a client: knows nothing but the path */
            ipcx_pipe *w;
            char msg[64];
            int n = snprintf(msg, sizeof msg, "hello from client %d", c);
            int s = ipcx_fifo_open(path, IPCX_OPEN_WRITE, atomic, 5000, &w);
            if (s == IPCX_OK) s = ipcx_pipe_send(w, msg, (size_t)n, 5000);
            ipcx_pipe_close(w);
            _exit(s == IPCX_OK ? 0 : 1);
        }
    }
    for (int i = 0; i < 3; i++) {
        char buf[IPCX_FIFO_ATOMIC_MAX + 1];
        size_t len = sizeof buf - 1;
        if (ipcx_pipe_recv(server, buf, &len, 5000) != IPCX_OK) {
            fprintf(stderr, "%s\n", ipcx_last_error());
            break;
        }
        buf[len] = 0;
        printf("server got: %s\n", buf);
    }
    int failed = 0, st;
    while (wait(&st) > 0) failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    ipcx_options_close(atomic);
    ipcx_pipe_close(server);
    ipcx_fifo_remove(path); /* only ever removes a FIFO */
    return failed;
}
