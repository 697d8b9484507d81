/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A separate program for the ring tests: the "unrelated process" (started with fork +
 * exec, it shares nothing but the ring's name) and the scribbler.
 *
 *   ring_peer echo <in-ring> <out-ring> <count>
 *       open <in-ring> as consumer and <out-ring> as producer; receive <count> messages and
 *       send each back reversed.
 *   ring_peer produce <ring> <count>
 *       open <ring> as producer, send <count> messages "<seq>", then wait to be killed.
 *   ring_peer scribble <ring> <ms> <seed>
 *       map the ring's shared memory directly (no ipcx) and write random bytes over it,
 *       header and data, for <ms> milliseconds.
 * Exit status 0 on success; messages on stderr otherwise.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipcx.h"

#define CHECK(call)                                                                   \
    do {                                                                              \
        int s_ = (call);                                                              \
        if (s_ != IPCX_OK) {                                                          \
            fprintf(stderr, "ring_peer %d: %s: %s: %s\n", (int)getpid(), #call,       \
                    ipcx_strerror(s_), ipcx_last_error());                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static int echo(const char *in, const char *out, int count) {
    ipcx_ring *r, *w;
    CHECK(ipcx_ring_open(in, IPCX_OPEN_READ, NULL, &r));
    CHECK(ipcx_ring_open(out, IPCX_OPEN_WRITE, NULL, &w));
    static char buf[65536], rev[65536];
    for (int i = 0; i < count; i++) {
        size_t len = sizeof buf;
        CHECK(ipcx_ring_recv(r, buf, &len, 10000));
        for (size_t k = 0; k < len; k++) rev[k] = buf[len - 1 - k];
        CHECK(ipcx_ring_send(w, rev, len, 10000));
    }
    CHECK(ipcx_ring_close(r));
    CHECK(ipcx_ring_close(w));
    return 0;
}

static int produce(const char *name, int count) {
    ipcx_ring *w;
    CHECK(ipcx_ring_open(name, IPCX_OPEN_WRITE, NULL, &w));
    for (int i = 0; i < count; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "%d", i);
        CHECK(ipcx_ring_send(w, msg, (size_t)n, 10000));
    }
    printf("ready\n"); /* tells the test the messages are in */
    fflush(stdout);
    for (;;) pause(); /* the test kills us: the ring must survive a dead producer */
}

static int scribble(const char *name, int ms, unsigned seed) {
    int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0) {
        perror("scribble: shm_open");
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 8192) {
        fprintf(stderr, "scribble: bad size\n");
        return 1;
    }
    size_t len = (size_t)st.st_size;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        perror("scribble: mmap");
        return 1;
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t x = seed * 2654435761u + 1;
    for (long n = 0;; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        /* Mostly the header page and the first data pages (where the indices and the
         * records in flight are), sometimes anywhere. */
        size_t span = (n % 4 == 0) ? len : (len < 65536 ? len : 65536);
        size_t off = (size_t)(x >> 20) % (span - 8);
        uint64_t v = x * 0x9E3779B97F4A7C15ull;
        switch (n % 3) {
        case 0: memcpy(p + off, &v, 8); break;           /* random word */
        case 1: p[off] = (unsigned char)v; break;       /* random byte */
        default: memset(p + (off & ~(size_t)7), 0xff, 8); /* all ones */
        }
        if (n % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms) break;
        }
    }
    munmap(p, len);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "echo") == 0) return echo(argv[2], argv[3], atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "produce") == 0) return produce(argv[2], atoi(argv[3]));
    if (argc == 5 && strcmp(argv[1], "scribble") == 0)
        return scribble(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]));
    fprintf(stderr, "usage: ring_peer echo IN OUT N | produce RING N | scribble RING MS SEED\n");
    return 2;
}
