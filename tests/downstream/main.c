/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A minimal consumer: a pipe across fork, through the installed header and library. */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    ipcx_pipe *r, *w;
    if (ipcx_pipe_pair(0, NULL, &r, &w) != IPCX_OK) return 1;
    pid_t p = fork();
    if (p == 0) {
        ipcx_pipe_close(r);
        int s = ipcx_pipe_send(w, "downstream", 10, 5000);
        ipcx_pipe_close(w);
        _exit(s == IPCX_OK ? 0 : 1);
    }
    ipcx_pipe_close(w);
    char buf[32];
    size_t len = sizeof buf;
    int s = ipcx_pipe_recv(r, buf, &len, 5000);
    ipcx_pipe_close(r);
    int st = 0;
    waitpid(p, &st, 0);
    if (s != IPCX_OK || len != 10 || memcmp(buf, "downstream", 10) != 0 || st != 0) {
        fprintf(stderr, "consumer failed: %s\n", ipcx_last_error());
        return 1;
    }
    printf("ipcx %s: ok\n", ipcx_version());
    return 0;
}
