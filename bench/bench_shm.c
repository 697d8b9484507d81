/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Shared memory benchmark: ipcx against the raw operations, in the same run.
 *
 * 1. Copy bandwidth into and out of a shared region, for each kind (anonymous, System V,
 *    POSIX, file), for 64 B, 4 KiB, 1 MiB and 64 MiB copies: raw memcpy into/from the
 *    region's own mapping vs ipcx_region_write/ipcx_region_read. Anonymous and System V
 *    regions cannot shrink, so ipcx copies with memcpy after a bounds check; POSIX and file
 *    regions can be truncated by another process, so ipcx copies through
 *    process_vm_writev/readv (one system call, no SIGBUS): their ratio is the price of
 *    SIGBUS safety. Single process.
 * 2. Hand-off latency: the parent writes a 64-byte record into the region and notifies the
 *    child through a pipe; the child reads it, writes a reply record and notifies back
 *    (mean round trip per run). raw = memcpy + 1-byte write/read on pipe(2); ipcx =
 *    ipcx_region_write/read + ipcx_pipe_send/recv; ipcx-noguard = the same with the pipe's
 *    SIGPIPE guard off. For an anonymous region (memcpy path) and a POSIX one (safe path),
 *    cross-core (parent CPU0, child CPU1) and same-core (both CPU0).
 *
 * Runs alternate raw and ipcx so drift hits both alike; each figure is the median over the
 * runs (min-max), the ratio the median of per-run ratios.
 *
 *   bench_shm [runs]        (default 5)
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bench.h"
#include "ipcx.h"

#define BIG ((size_t)64 << 20)

enum kind { ANON, SYSV, POSIX, FILEMAP, NKIND };
static const char *kind_name[NKIND] = {"anonymous", "System V", "POSIX", "file"};

static char shm_name[64], file_path[128];
static ipcx_shm_segment *segment;

static void check(int s, const char *what) {
    if (s != IPCX_OK) {
        fprintf(stderr, "bench: %s: %s\n", what, ipcx_last_error());
        exit(1);
    }
}

/* A region of `size` bytes of kind `k`, every page touched once. */
static ipcx_region *make_region(enum kind k, size_t size) {
    ipcx_region *r = NULL;
    switch (k) {
    case ANON: check(ipcx_region_create(size, &r), "anonymous"); break;
    case SYSV:
        check(ipcx_shm_segment_open(IPCX_KEY_PRIVATE, size, IPCX_OPEN_CREATE, NULL, &segment), "shmget");
        check(ipcx_shm_segment_map(segment, 0, &r), "shmat");
        check(ipcx_shm_segment_remove(segment), "remove"); /* gone at the last detach */
        check(ipcx_shm_segment_close(segment), "close");
        break;
    case POSIX: {
        ipcx_shm *s;
        check(ipcx_shm_open(shm_name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s), "shm_open");
        check(ipcx_shm_remove(shm_name), "shm_unlink");
        check(ipcx_shm_set_size(s, size), "set_size");
        check(ipcx_shm_map(s, 0, &r), "map");
        check(ipcx_shm_close(s), "close");
        break;
    }
    case FILEMAP:
        check(ipcx_file_map(file_path, size, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                            &r), "file map");
        unlink(file_path);
        break;
    default: break;
    }
    void *base;
    check(ipcx_region_base(r, &base, NULL), "info");
    memset(base, 1, size);
    return r;
}

/* ------------------------------------------------------------------ bandwidth */

/* GB/s of `iters` copies of `n` bytes, into the region (`into`) or out of it. */
static double bandwidth(ipcx_region *r, unsigned char *buf, size_t n, long iters, int into, int use_ipcx) {
    void *base;
    ipcx_region_base(r, &base, NULL);
    int64_t t0 = b_now_ns();
    for (long i = 0; i < iters; i++) {
        if (use_ipcx) {
            int s = into ? ipcx_region_write(r, 0, buf, n) : ipcx_region_read(r, 0, buf, n);
            if (s) check(s, "copy");
        } else if (into) {
            memcpy(base, buf, n);
        } else {
            memcpy(buf, base, n);
        }
        __asm__ volatile("" ::: "memory");
    }
    return (double)n * (double)iters / (double)(b_now_ns() - t0);
}

static void report_pair(const char *what, const char *unit, struct b_series *raw, struct b_series *ipcx,
                        const char *target) {
    printf("  %-34s %-13s", what, "raw");
    b_print_series(unit, raw);
    printf("\n  %-34s %-13s", what, "ipcx");
    b_print_series(unit, ipcx);
    double lo, hi, r = b_ratio(ipcx, raw, &lo, &hi);
    printf("   ratio %.3fx (%.3f-%.3f)%s\n", r, lo, hi, target);
}

static void copy_bandwidth(int runs) {
    static const size_t sizes[] = {64, 4096, 1 << 20, BIG};
    static const long iters[] = {100000, 20000, 100, 3};
    unsigned char *buf = malloc(BIG);
    if (!buf) b_die("malloc");
    memset(buf, 2, BIG);
    printf("\ncopy bandwidth, single process (GB/s, higher is better)\n");
    for (int k = 0; k < NKIND; k++) {
        ipcx_region *r = make_region(k, BIG);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            for (int into = 1; into >= 0; into--) {
                struct b_series raw = {0}, ipcx = {0};
                /* Warm-up of at least 20 ms per figure (both ways): a shorter one left the
                 * first kind measured (anonymous) slower than the others at 64 B while the
                 * processor was still speeding up. */
                for (int64_t w0 = b_now_ns(); b_now_ns() - w0 < 20000000;) {
                    bandwidth(r, buf, sizes[si], iters[si] / 10 + 1, into, 1);
                    bandwidth(r, buf, sizes[si], iters[si] / 10 + 1, into, 0);
                }
                for (int run = 0; run < runs; run++) {
                    b_add(&raw, bandwidth(r, buf, sizes[si], iters[si], into, 0));
                    b_add(&ipcx, bandwidth(r, buf, sizes[si], iters[si], into, 1));
                }
                char what[96], sz[32];
                if (sizes[si] >= (1 << 20)) snprintf(sz, sizeof sz, "%zu MiB", sizes[si] >> 20);
                else if (sizes[si] >= 1024) snprintf(sz, sizeof sz, "%zu KiB", sizes[si] >> 10);
                else snprintf(sz, sizeof sz, "%zu B", sizes[si]);
                snprintf(what, sizeof what, "%s %s %s", kind_name[k], into ? "write" : "read", sz);
                report_pair(what, "GB/s", &raw, &ipcx, k == ANON || k == SYSV ? " [target >= 0.95]" : " [safe copy]");
                if (k == ANON || k == SYSV) continue;
                /* The same kind with fault-safe copies turned off (trusted peers). */
                struct b_series fast = {0};
                check(ipcx_region_set_checked_copies(r, false), "unchecked");
                for (int run = 0; run < runs; run++) b_add(&fast, bandwidth(r, buf, sizes[si], iters[si], into, 1));
                check(ipcx_region_set_checked_copies(r, true), "checked");
                double lo, hi, ratio = b_ratio(&fast, &raw, &lo, &hi);
                printf("  %-34s %-13s", what, "ipcx-unchecked");
                b_print_series("GB/s", &fast);
                printf("   ratio %.3fx (%.3f-%.3f) [target >= 0.95]\n", ratio, lo, hi);
                /* Checked, with the SIGBUS trap (ipcx_region_trap_install): safe and fast. */
                struct b_series trap = {0};
                check(ipcx_region_trap_install(0), "trap");
                for (int run = 0; run < runs; run++) b_add(&trap, bandwidth(r, buf, sizes[si], iters[si], into, 1));
                check(ipcx_region_trap_remove(), "trap remove");
                ratio = b_ratio(&trap, &raw, &lo, &hi);
                printf("  %-34s %-13s", what, "ipcx-trap");
                b_print_series("GB/s", &trap);
                printf("   ratio %.3fx (%.3f-%.3f) [target 4 KiB >= 0.8, 64 MiB >= 0.9]\n", ratio, lo, hi);
            }
        }
        check(ipcx_region_close(r), "close");
    }
    free(buf);
}

/* ------------------------------------------------------------------ hand-off */

enum variant { RAW, IPCX, IPCX_NOGUARD, NVAR };
static const char *variant_name[NVAR] = {"raw", "ipcx", "ipcx-noguard"};

/* Mean round trip in ns: record at 0 -> child, reply at 64 -> parent. */
static double handoff(enum kind k, enum variant v, int child_cpu, int iters) {
    ipcx_region *r = make_region(k, 4096);
    unsigned char *base;
    check(ipcx_region_base(r, (void **)&base, NULL), "info");
    int down[2], up[2];
    ipcx_pipe *a = NULL, *b = NULL;
    ipcx_options *o = NULL;
    if (v == RAW) {
        if (pipe(down) || pipe(up)) b_die("pipe");
    } else {
        check(ipcx_options_create(&o), "options");
        if (v == IPCX_NOGUARD) ipcx_options_set_sigpipe_guard(o, false);
        check(ipcx_pipe_pair(IPCX_PIPE_DUPLEX, o, &a, &b), "duplex");
    }
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        unsigned char rec[64];
        char note;
        if (v == RAW) {
            close(down[1]);
            close(up[0]);
            while (read(down[0], &note, 1) == 1) {
                memcpy(rec, base, 64);
                rec[0]++;
                memcpy(base + 64, rec, 64);
                if (write(up[1], "r", 1) != 1) _exit(1);
            }
        } else {
            ipcx_pipe_close(a);
            for (;;) {
                size_t len = 1;
                if (ipcx_pipe_recv(b, &note, &len, IPCX_FOREVER)) break;
                if (ipcx_region_read(r, 0, rec, 64)) _exit(1);
                rec[0]++;
                if (ipcx_region_write(r, 64, rec, 64) || ipcx_pipe_send(b, "r", 1, IPCX_FOREVER)) _exit(1);
            }
        }
        _exit(0);
    }
    unsigned char rec[64] = {0}, back[64];
    char note;
    if (v == RAW) {
        close(down[0]);
        close(up[1]);
    } else {
        ipcx_pipe_close(b);
    }
    int64_t t0 = 0;
    int warm = iters / 10 + 10;
    for (int i = 0; i < warm + iters; i++) {
        if (i == warm) t0 = b_now_ns();
        rec[0] = (unsigned char)i;
        if (v == RAW) {
            memcpy(base, rec, 64);
            if (write(down[1], "r", 1) != 1 || read(up[0], &note, 1) != 1) b_die("pipe round trip");
            memcpy(back, base + 64, 64);
        } else {
            size_t len = 1;
            check(ipcx_region_write(r, 0, rec, 64), "write");
            check(ipcx_pipe_send(a, "r", 1, IPCX_FOREVER), "send");
            check(ipcx_pipe_recv(a, &note, &len, IPCX_FOREVER), "recv");
            check(ipcx_region_read(r, 64, back, 64), "read");
        }
        if (back[0] != (unsigned char)(i + 1)) b_die("stale record");
    }
    double per = (double)(b_now_ns() - t0) / iters;
    if (v == RAW) {
        close(down[1]);
        close(up[0]);
    } else {
        ipcx_pipe_close(a);
        ipcx_options_close(o);
    }
    b_wait(p);
    ipcx_region_close(r);
    return per;
}

static void handoffs(int runs) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("\nhand-off round trip, 64 B record each way, note over a pipe (us, lower is better)\n");
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("%s (parent CPU0, child CPU%d)\n", place == 0 ? "cross-core" : "same-core", child_cpu);
        enum kind kinds[] = {ANON, POSIX};
        for (int ki = 0; ki < 2; ki++) {
            struct b_series s[NVAR] = {0};
            int iters = place == 0 ? 2000 : 20000;
            for (int run = 0; run < runs; run++)
                for (int v = 0; v < NVAR; v++) b_add(&s[v], handoff(kinds[ki], v, child_cpu, iters) / 1000.0);
            char what[64];
            snprintf(what, sizeof what, "%s hand-off", kind_name[kinds[ki]]);
            for (int v = 0; v < NVAR; v++) {
                printf("  %-34s %-13s", what, variant_name[v]);
                b_print_series("us", &s[v]);
                if (v != RAW) {
                    double lo, hi, r = b_ratio(&s[v], &s[RAW], &lo, &hi);
                    printf("   ratio %.3fx (%.3f-%.3f) [target <= 1.05]", r, lo, hi);
                }
                printf("\n");
            }
        }
    }
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 5;
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(shm_name, sizeof shm_name, "/ipcx-bench-%d", (int)getpid());
    snprintf(file_path, sizeof file_path, "/tmp/ipcx-bench-%d-map", (int)getpid());
    printf("ipcx %s shared memory benchmark: %d runs per figure, median (min-max), ratio = median of per-run ipcx/raw\n",
           ipcx_version(), runs);
    b_pin(0);
    copy_bandwidth(runs);
    handoffs(runs);
    return 0;
}
