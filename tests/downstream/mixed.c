/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* libipcx.a beside another Rust static library (other/): both keep their own Rust runtime;
 * only ipcx_* is global in libipcx.a, so the link has no duplicate symbols. */
#include <ipcx.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

uint64_t other_rust_sum(uint32_t n);

int main(void) {
    if (other_rust_sum(10) != 55 || other_rust_sum(0) != 0) {
        fprintf(stderr, "the other Rust library failed\n");
        return 1;
    }
    ipcx_pipe *r, *w;
    char buf[16];
    size_t len = sizeof buf;
    if (ipcx_pipe_pair(0, NULL, &r, &w) != IPCX_OK || ipcx_pipe_send(w, "mixed", 5, 1000) != IPCX_OK ||
        ipcx_pipe_recv(r, buf, &len, 1000) != IPCX_OK || len != 5 || memcmp(buf, "mixed", 5) != 0) {
        fprintf(stderr, "ipcx failed: %s\n", ipcx_last_error());
        return 1;
    }
    ipcx_pipe_close(r);
    ipcx_pipe_close(w);
    /* A bad argument: ipcx reports it, nothing unwinds across the boundary. */
    if (ipcx_pipe_send(NULL, "x", 1, 0) == IPCX_OK) return 1;
    printf("ipcx %s beside another Rust static library: ok\n", ipcx_version());
    return 0;
}
