/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: the seed's pipe between parent and child.
 *
 * The parent creates the pipe, forks, and each side closes the end it does not use:
 * the parent writes, the child reads. A pipe is half-duplex and only links related
 * processes. Messages keep their boundaries (ipcx frames them); end of file is
 * IPCX_ERR_CLOSED once the writer has closed.
 *
 * Build: cc pipe.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    ipcx_pipe *rd, *wr;
    if (ipcx_pipe_pair(0, NULL, &rd, &wr) != IPCX_OK) {
        fprintf(stderr, "pipe: %s\n", ipcx_last_error());
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {                 /* child: the reader */
        ipcx_pipe_close(wr);        /* close the write end, or EOF never comes */
        char buf[256];
        for (;;) {
            size_t len = sizeof buf - 1;
            int s = ipcx_pipe_recv(rd, buf, &len, 5000 /* ms */);
            if (s == IPCX_ERR_CLOSED) break; /* the parent closed its end */
            if (s != IPCX_OK) {
                fprintf(stderr, "child: %s\n", ipcx_last_error());
                _exit(1);
            }
            buf[len] = 0;
            printf("child got: %s\n", buf);
        }
        ipcx_pipe_close(rd);
        _exit(0);
    }
    ipcx_pipe_close(rd);            /* parent: the writer */
    const char *lines[] = {"hello", "from", "the parent"};
    for (int i = 0; i < 3; i++)
        if (ipcx_pipe_send(wr, lines[i], strlen(lines[i]), IPCX_FOREVER) != IPCX_OK)
            fprintf(stderr, "parent: %s\n", ipcx_last_error());
    ipcx_pipe_close(wr);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
