/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A separate program that maps shared memory by name only: the "unrelated process" of the
 * shared memory tests (started with fork + exec, so it shares nothing but the names).
 *
 *   shm_peer posix <name> <in-fifo> <out-fifo>
 *   shm_peer file  <path> <in-fifo> <out-fifo>
 *   shm_peer sysv  <key>  <in-fifo> <out-fifo>
 *
 * It maps the existing object (POSIX object, file, or System V segment by key), then serves
 * record hand-offs: each message "rec <offset> <len> <seed>" on <in-fifo> says a record is
 * ready in the region; the peer checks it (bounded copy and raw pointer), writes a reply
 * record of the same length right after it with seed + 1, and answers
 * "ok <offset + len> <len> <seed + 1>" on <out-fifo>. "bye" ends it.
 * Exit status 0 on success; messages on stderr otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcx.h"
#include "shm_pattern.h"

#define CHECK(call)                                                                   \
    do {                                                                              \
        int s_ = (call);                                                              \
        if (s_ != IPCX_OK) {                                                          \
            fprintf(stderr, "shm_peer %d: %s: %s: %s\n", (int)getpid(), #call,        \
                    ipcx_strerror(s_), ipcx_last_error());                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static int fail(const char *what) {
    fprintf(stderr, "shm_peer %d: %s\n", (int)getpid(), what);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: shm_peer posix|file|sysv NAME IN-FIFO OUT-FIFO\n");
        return 2;
    }
    const char *kind = argv[1], *name = argv[2];
    ipcx_region *r = NULL;
    ipcx_shm *shm = NULL;
    ipcx_shm_segment *seg = NULL;
    uint32_t want_kind;
    if (strcmp(kind, "posix") == 0) {
        CHECK(ipcx_shm_open(name, 0, NULL, &shm));
        CHECK(ipcx_shm_map(shm, 0, &r));
        CHECK(ipcx_shm_close(shm)); /* the mapping outlives the descriptor */
        want_kind = IPCX_REGION_POSIX;
    } else if (strcmp(kind, "file") == 0) {
        CHECK(ipcx_file_map(name, 0, 0, NULL, &r)); /* the whole existing file */
        want_kind = IPCX_REGION_FILE;
    } else if (strcmp(kind, "sysv") == 0) {
        CHECK(ipcx_shm_segment_open((int32_t)strtol(name, NULL, 0), 0, 0, NULL, &seg));
        CHECK(ipcx_shm_segment_map(seg, 0, &r));
        CHECK(ipcx_shm_segment_close(seg)); /* the attachment outlives the handle */
        want_kind = IPCX_REGION_SYSV;
    } else {
        return fail("unknown kind");
    }
    ipcx_region_info info = {.size = sizeof info};
    CHECK(ipcx_region_stat(r, &info));
    if (info.kind != want_kind || !info.writable) return fail("wrong region kind");
    void *base;
    size_t size;
    CHECK(ipcx_region_base(r, &base, &size));
    if (info.base != base || info.len != size) return fail("stat and base disagree");

    ipcx_pipe *in, *out;
    CHECK(ipcx_fifo_open(argv[3], IPCX_OPEN_READ, NULL, 10000, &in));
    CHECK(ipcx_fifo_open(argv[4], IPCX_OPEN_WRITE, NULL, 10000, &out));
    static unsigned char buf[1 << 20], want[1 << 20];
    for (;;) {
        char msg[128];
        size_t len = sizeof msg - 1;
        CHECK(ipcx_pipe_recv(in, msg, &len, 20000));
        msg[len] = 0;
        if (strcmp(msg, "bye") == 0) break;
        size_t off, n;
        unsigned seed;
        if (sscanf(msg, "rec %zu %zu %u", &off, &n, &seed) != 3 || n > sizeof buf) return fail(msg);
        /* The record the other process wrote: through the bounded copy and the pointer. */
        CHECK(ipcx_region_read(r, off, buf, n));
        shm_pattern(want, n, seed);
        if (memcmp(buf, want, n) != 0) return fail("record differs (bounded copy)");
        if (memcmp((unsigned char *)base + off, want, n) != 0) return fail("record differs (pointer)");
        /* The reply, right after it. */
        shm_pattern(want, n, seed + 1);
        CHECK(ipcx_region_write(r, off + n, want, n));
        len = (size_t)snprintf(msg, sizeof msg, "ok %zu %zu %u", off + n, n, seed + 1);
        CHECK(ipcx_pipe_send(out, msg, len, 10000));
    }
    CHECK(ipcx_pipe_close(in));
    CHECK(ipcx_pipe_close(out));
    CHECK(ipcx_region_close(r));
    return 0;
}
