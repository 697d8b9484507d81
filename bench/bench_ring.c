/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Shared-memory ring benchmark: ipcx rings against raw rings written here in plain C,
 * in the same run.
 *
 * For each placement (parent CPU0 / child CPU1, then both on CPU0) and message size
 * (64 B, 64 KiB):
 *   - round trip (parent sends, child echoes): median and p99 per run, rdtsc-timed;
 *   - one-way throughput (child sends, parent receives and checks a sequence number in
 *     every message).
 * Variants:
 *   raw spin   a minimal SPSC ring of fixed slots (one message per slot, cached indices,
 *              acquire/release), busy-polling. With 64 KiB slots (memcpy in, memcpy out)
 *              it is the cross-core copy bound of a copying transport;
 *   raw futex  the same ring, sleeping on a futex and waking the other side on every
 *              message (the naive blocking ring);
 *   ipcx spin  ipcx_ring with IPCX_SPIN_FOREVER (busy polling), copying send/recv and
 *              zero-copy reserve/commit + borrow/release; "batched" (throughput only):
 *              ipcx_ring_send_many of 32 messages (4 of 64 KiB) a call and
 *              ipcx_ring_recv_many of up to as many, still copying; "MPMC, batched":
 *              the same over an IPCX_RING_MPMC ring (one producer and one consumer:
 *              the cost of the producers' and consumers' locks, taken once a batch);
 *   ipcx block ipcx_ring with spin 0 (sleeps at once), copying and zero-copy.
 *   iceoryx2   (cross-core only) an iceoryx2 0.10 publish/subscribe pair, busy polling, run
 *              in the same pass right after the ring variants of each run by the program
 *              bench/iceoryx2 (built by the bench configuration, IPCX_BENCH_PEERS=ON, or
 *              named by the environment variable IPCX_BENCH_ICEORYX2); same message counts
 *              and ring capacity; its sender copies the message in, its receiver reads in
 *              place. Rows: its figures with the ratio to the raw spin ring, then
 *              "iceoryx2 vs ring": iceoryx2 / ipcx spin (RT: how many times slower it is;
 *              throughput: the fraction of the ring's rate).
 * Runs alternate over the variants so drift hits all alike; the table gives the median
 * over runs (min-max) and the ratio to the raw reference (median of per-run ratios).
 *
 *   bench_ring [runs] [filter]     (default 3 runs; filter: only the variants whose name
 *                                   contains one of its '|'-separated parts, e.g.
 *                                   "raw futex|ipcx block"; for strace -c -f)
 *   bench_ring oneway VARIANT COUNT  one cross-core one-way run of COUNT 64 B messages with
 *                                   the markers of bench.h (bench/syscalls.py)
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bench.h"
#include "ipcx.h"

enum variant {
    RAW_SPIN,
    IPCX_SPIN_COPY,
    IPCX_SPIN_ZC,
    IPCX_SPIN_MANY,
    IPCX_SPIN_MPMC_MANY,
    RAW_FUTEX,
    IPCX_BLOCK_COPY,
    IPCX_BLOCK_ZC,
    NVAR
};
static const char *vname[NVAR] = {"raw spin ring",      "ipcx spin, copy",          "ipcx spin, zero-copy",
                                  "ipcx spin, batched", "ipcx spin MPMC, batched", "raw futex ring",
                                  "ipcx block, copy",   "ipcx block, zero-copy"};
static int is_raw(int v) { return v == RAW_SPIN || v == RAW_FUTEX; }
static int blocking(int v) { return v >= RAW_FUTEX; }
static int zerocopy(int v) { return v == IPCX_SPIN_ZC || v == IPCX_BLOCK_ZC; }
static int batched(int v) { return v == IPCX_SPIN_MANY || v == IPCX_SPIN_MPMC_MANY; }
static const char *filter;
static int failed; /* a peer that should have been measured was not: exit 1 */
/* The filter is a list of alternatives separated by '|' ("raw futex|ipcx block"). */
static int selected(int v) {
    if (!filter) return 1;
    char f[256];
    snprintf(f, sizeof f, "%s", filter);
    for (char *save = NULL, *t = strtok_r(f, "|", &save); t; t = strtok_r(NULL, "|", &save))
        if (strstr(vname[v], t)) return 1;
    return 0;
}

/* ---------------------------------------------------------------- iceoryx2 */

/* The iceoryx2 program: the environment's IPCX_BENCH_ICEORYX2, else the one the bench
 * configuration built; NULL when neither. */
static const char *ice_exe(void) {
    const char *e = getenv("IPCX_BENCH_ICEORYX2");
    if (e && *e) return e;
#ifdef IPCX_BENCH_ICEORYX2
    return IPCX_BENCH_ICEORYX2;
#else
    return NULL;
#endif
}
static int ice_selected(void) {
    if (!filter) return 1;
    char f[256];
    snprintf(f, sizeof f, "%s", filter);
    for (char *save = NULL, *t = strtok_r(f, "|", &save); t; t = strtok_r(NULL, "|", &save))
        if (strstr("iceoryx2", t)) return 1;
    return 0;
}
/* One iceoryx2 run: "rt" (sets *med, *p99 in us) or "thr" (returns messages per second).
 * Returns -1 (and says why) when it failed. */
static double ice_run(const char *mode, size_t size, int count, int child_cpu, double *med, double *p99) {
    char cmd[1024], line[256];
    snprintf(cmd, sizeof cmd, "'%s' %s %zu %d %d", ice_exe(), mode, size, count, child_cpu);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    double r = -1;
    while (fgets(line, sizeof line, f)) {
        char *m = strstr(line, "median_us="), *q = strstr(line, "p99_us="), *t = strstr(line, "msg_per_s=");
        if (m && q && med && p99) {
            *med = atof(m + 10);
            *p99 = atof(q + 7);
            r = 0;
        }
        if (t) r = atof(t + 10);
    }
    if (pclose(f) != 0) r = -1;
    if (r < 0) {
        printf("  iceoryx2 %s %zu B: FAILED (%s); see its message above\n", mode, size, cmd);
        failed = 1;
    }
    return r;
}

/* ---------------------------------------------------------------- clock */

static double ns_per_tick = 1.0;
static inline uint64_t ticks(void) {
#if defined(__x86_64__)
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#else
    return (uint64_t)b_now_ns();
#endif
}
static void calibrate(void) {
    int64_t n0 = b_now_ns();
    uint64_t t0 = ticks();
    while (b_now_ns() - n0 < 50000000) {}
    ns_per_tick = (double)(b_now_ns() - n0) / (double)(ticks() - t0);
}

/* ---------------------------------------------------------------- the raw rings */

#define RAW_BYTES (1u << 20) /* same data capacity as the ipcx rings */
struct raw_ring {
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) _Atomic uint64_t head;
    _Alignas(64) _Atomic uint32_t data_seq;  /* futex: bumped per message */
    _Alignas(64) _Atomic uint32_t space_seq; /* futex: bumped per release */
    _Alignas(64) unsigned char slots[RAW_BYTES];
};
struct raw_end {
    struct raw_ring *r;
    size_t slot;   /* slot size = message size */
    uint64_t n;    /* slots */
    uint64_t pos;  /* tail (producer) or head (consumer) */
    uint64_t seen; /* cached head (producer) or tail (consumer) */
    int futex;
};

static long futex(_Atomic uint32_t *w, int op, uint32_t v) {
    return syscall(SYS_futex, (uint32_t *)w, op, v, NULL, NULL, 0);
}

static inline void *raw_reserve(struct raw_end *e) {
    while (e->pos - e->seen >= e->n) {
        uint32_t s = atomic_load_explicit(&e->r->space_seq, memory_order_acquire);
        e->seen = atomic_load_explicit(&e->r->head, memory_order_acquire);
        if (e->pos - e->seen < e->n) break;
        if (e->futex) futex(&e->r->space_seq, FUTEX_WAIT, s);
        else __builtin_ia32_pause();
    }
    return e->r->slots + (e->pos % e->n) * e->slot;
}
static inline void raw_commit(struct raw_end *e) {
    atomic_store_explicit(&e->r->tail, ++e->pos, memory_order_release);
    if (e->futex) { /* naive: wake on every message */
        atomic_fetch_add(&e->r->data_seq, 1);
        futex(&e->r->data_seq, FUTEX_WAKE, 1);
    }
}
static inline const void *raw_peek(struct raw_end *e) {
    while (e->seen == e->pos) {
        uint32_t s = atomic_load_explicit(&e->r->data_seq, memory_order_acquire);
        e->seen = atomic_load_explicit(&e->r->tail, memory_order_acquire);
        if (e->seen != e->pos) break;
        if (e->futex) futex(&e->r->data_seq, FUTEX_WAIT, s);
        else __builtin_ia32_pause();
    }
    return e->r->slots + (e->pos % e->n) * e->slot;
}
static inline void raw_done(struct raw_end *e) {
    atomic_store_explicit(&e->r->head, ++e->pos, memory_order_release);
    if (e->futex) {
        atomic_fetch_add(&e->r->space_seq, 1);
        futex(&e->r->space_seq, FUTEX_WAKE, 1);
    }
}

/* ---------------------------------------------------------------- one direction */

struct chan {
    struct raw_ring *raw;
    ipcx_ring *p, *c;
};

static void chan_make(struct chan *ch, int v) {
    memset(ch, 0, sizeof *ch);
    if (is_raw(v)) {
        ch->raw = mmap(NULL, sizeof *ch->raw, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (ch->raw == MAP_FAILED) b_die("mmap");
        return;
    }
    ipcx_options *o;
    if (ipcx_options_create(&o) || ipcx_options_set_capacity(o, RAW_BYTES) ||
        ipcx_options_set_spin(o, blocking(v) ? 0 : IPCX_SPIN_FOREVER) ||
        ipcx_ring_pair(v == IPCX_SPIN_MPMC_MANY ? IPCX_RING_MPMC : 0, o, &ch->p, &ch->c))
        b_die(ipcx_last_error());
    ipcx_options_close(o);
}
static void chan_free(struct chan *ch) {
    if (ch->raw) munmap(ch->raw, sizeof *ch->raw);
    ipcx_ring_close(ch->p);
    ipcx_ring_close(ch->c);
}
static struct raw_end raw_end(struct chan *ch, int v, size_t size) {
    struct raw_end e = {ch->raw, size, RAW_BYTES / size, 0, 0, v == RAW_FUTEX};
    return e;
}

/* Send `size` bytes from src (its first 8 bytes replaced by seq). */
static inline void put(int v, struct chan *ch, struct raw_end *e, const unsigned char *src, size_t size, uint64_t seq) {
    unsigned char *d;
    if (is_raw(v)) {
        d = raw_reserve(e);
        memcpy(d, src, size);
        memcpy(d, &seq, 8);
        raw_commit(e);
    } else if (zerocopy(v)) {
        if (ipcx_ring_reserve(ch->p, size, IPCX_FOREVER, (void **)&d)) b_die(ipcx_last_error());
        memcpy(d, src, size);
        memcpy(d, &seq, 8);
        if (ipcx_ring_commit(ch->p, size)) b_die(ipcx_last_error());
    } else {
        memcpy((unsigned char *)src, &seq, 8);
        if (ipcx_ring_send(ch->p, src, size, IPCX_FOREVER)) b_die(ipcx_last_error());
    }
}

/* Receive one message: copying variants copy it into dst; returns its seq. */
static inline uint64_t get(int v, struct chan *ch, struct raw_end *e, unsigned char *dst, size_t size) {
    uint64_t seq;
    if (is_raw(v)) {
        const unsigned char *s = raw_peek(e);
        memcpy(dst, s, size);
        raw_done(e);
        memcpy(&seq, dst, 8);
    } else if (zerocopy(v)) {
        const void *s;
        size_t len;
        if (ipcx_ring_borrow(ch->c, IPCX_FOREVER, &s, &len) || len != size) b_die(ipcx_last_error());
        memcpy(&seq, s, 8);
        if (ipcx_ring_release(ch->c)) b_die(ipcx_last_error());
    } else {
        size_t len = size;
        if (ipcx_ring_recv(ch->c, dst, &len, IPCX_FOREVER) || len != size) b_die(ipcx_last_error());
        memcpy(&seq, dst, 8);
    }
    return seq;
}

/* Echo one message from `in` to `out` (the round-trip child). */
static inline void echo(int v, struct chan *in, struct raw_end *ie, struct chan *out, struct raw_end *oe,
                        unsigned char *buf, size_t size) {
    if (zerocopy(v)) { /* in place: borrowed bytes straight into the reservation */
        const void *s;
        void *d;
        size_t len;
        if (ipcx_ring_borrow(in->c, IPCX_FOREVER, &s, &len)) b_die(ipcx_last_error());
        if (ipcx_ring_reserve(out->p, len, IPCX_FOREVER, &d)) b_die(ipcx_last_error());
        memcpy(d, s, len);
        if (ipcx_ring_commit(out->p, len) || ipcx_ring_release(in->c)) b_die(ipcx_last_error());
        return;
    }
    uint64_t seq = get(v, in, ie, buf, size);
    put(v, out, oe, buf, size, seq);
}

/* ---------------------------------------------------------------- measurements */

static int cmpu64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Round trips: median and p99 in microseconds. */
static void round_trip(int v, size_t size, int child_cpu, int iters, double *med, double *p99) {
    struct chan a, b;
    chan_make(&a, v);
    chan_make(&b, v);
    int warm = iters / 10 + 10;
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        ipcx_ring_close(a.p), a.p = NULL;
        ipcx_ring_close(b.c), b.c = NULL;
        struct raw_end ie = raw_end(&a, v, size), oe = raw_end(&b, v, size);
        unsigned char *buf = calloc(1, size);
        for (int i = 0; i < warm + iters; i++) echo(v, &a, &ie, &b, &oe, buf, size);
        free(buf);
        chan_free(&a);
        chan_free(&b);
        _exit(0);
    }
    ipcx_ring_close(a.c), a.c = NULL;
    ipcx_ring_close(b.p), b.p = NULL;
    struct raw_end oe = raw_end(&a, v, size), ie = raw_end(&b, v, size);
    unsigned char *src = calloc(1, size), *dst = calloc(1, size);
    uint64_t *t = calloc((size_t)iters, sizeof *t);
    for (int i = 0; i < warm + iters; i++) {
        uint64_t t0 = ticks();
        put(v, &a, &oe, src, size, (uint64_t)i);
        if (get(v, &b, &ie, dst, size) != (uint64_t)i) b_die("echo sequence");
        if (i >= warm) t[i - warm] = ticks() - t0;
    }
    b_wait(p);
    qsort(t, (size_t)iters, sizeof *t, cmpu64);
    *med = (double)t[iters / 2] * ns_per_tick / 1000.0;
    *p99 = (double)t[iters * 99 / 100] * ns_per_tick / 1000.0;
    free(t);
    free(src);
    free(dst);
    chan_free(&a);
    chan_free(&b);
}

/* Messages per ipcx_ring_send_many / at most per ipcx_ring_recv_many (batched variant). */
static int batch_of(size_t size) { return size <= 4096 ? 32 : 4; }

/* The batched variant's sender: `count` messages of `size` bytes, sequence-stamped, in
 * batches of batch_of(size). */
static void put_many(struct chan *ch, size_t size, int count) {
    int batch = batch_of(size);
    unsigned char *src = calloc((size_t)batch, size);
    ipcx_iov iov[32];
    for (int i = 0; i < count; i += batch) {
        int n = count - i < batch ? count - i : batch;
        for (int k = 0; k < n; k++) {
            uint64_t seq = (uint64_t)(i + k);
            memcpy(src + (size_t)k * size, &seq, 8);
            iov[k].buf = src + (size_t)k * size;
            iov[k].len = size;
        }
        size_t sent;
        if (ipcx_ring_send_many(ch->p, iov, (size_t)n, IPCX_FOREVER, &sent)) b_die(ipcx_last_error());
    }
    free(src);
}

/* The batched variant's receiver: messages from `first` until `count`, each sequence
 * checked. */
static void get_many(struct chan *ch, size_t size, int first, int count) {
    int batch = batch_of(size);
    size_t cap = (size_t)batch * ((size + 7) & ~(size_t)7);
    unsigned char *dst = aligned_alloc(8, cap);
    ipcx_iov m[32];
    for (int i = first; i < count;) {
        size_t n;
        size_t want = (size_t)(count - i) < (size_t)batch ? (size_t)(count - i) : (size_t)batch;
        if (ipcx_ring_recv_many(ch->c, dst, cap, m, want, IPCX_FOREVER, &n)) b_die(ipcx_last_error());
        for (size_t k = 0; k < n; k++, i++) {
            uint64_t seq;
            memcpy(&seq, m[k].buf, 8);
            if (m[k].len != size || seq != (uint64_t)i) b_die("sequence");
        }
    }
    free(dst);
}

/* One-way throughput in messages per second; every message's sequence is checked. */
static double throughput(int v, size_t size, int child_cpu, int count) {
    struct chan a;
    chan_make(&a, v);
    pid_t p = fork();
    if (p == 0) {
        b_pin(child_cpu);
        ipcx_ring_close(a.c), a.c = NULL;
        struct raw_end e = raw_end(&a, v, size);
        unsigned char *src = calloc(1, size);
        b_mark(1);
        if (batched(v))
            put_many(&a, size, count);
        else
            for (int i = 0; i < count; i++) put(v, &a, &e, src, size, (uint64_t)i);
        b_mark(0);
        free(src);
        chan_free(&a);
        _exit(0);
    }
    ipcx_ring_close(a.p), a.p = NULL;
    struct raw_end e = raw_end(&a, v, size);
    unsigned char *dst = calloc(1, size);
    if (get(batched(v) ? IPCX_SPIN_COPY : v, &a, &e, dst, size) != 0) b_die("sequence");
    int64_t t0 = b_now_ns(); /* from the first message on */
    b_mark(1);
    if (batched(v))
        get_many(&a, size, 1, count);
    else
        for (int i = 1; i < count; i++)
            if (get(v, &a, &e, dst, size) != (uint64_t)i) b_die("sequence");
    b_mark(0);
    double rate = (count - 1) / ((double)(b_now_ns() - t0) / 1e9);
    b_wait(p);
    free(dst);
    chan_free(&a);
    return rate;
}

/* ---------------------------------------------------------------- report */

static void row(const char *what, int v, struct b_series *s, const char *unit, struct b_series *ref,
                const char *target) {
    if (s->n == 0) return;
    printf("  %-22s %-22s", what, vname[v]);
    b_print_series(unit, s);
    if (ref && ref->n) {
        double lo, hi, r = b_ratio(s, ref, &lo, &hi);
        printf("   %.3fx (%.3f-%.3f) %s", r, lo, hi, target);
    }
    printf("\n");
}

static void ice_row(const char *what, struct b_series *s, const char *unit, struct b_series *ref, const char *target) {
    printf("  %-22s %-22s", what, "iceoryx2 busy poll");
    b_print_series(unit, s);
    if (ref && ref->n) {
        double lo, hi, r = b_ratio(s, ref, &lo, &hi);
        printf("   %.3fx (%.3f-%.3f) %s", r, lo, hi, target);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 3;
    filter = argc > 2 ? argv[2] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "oneway") == 0) {
        int v = -1, count = argc > 3 ? atoi(argv[3]) : 0;
        for (int i = 0; argc > 2 && i < NVAR; i++)
            if (strcmp(vname[i], argv[2]) == 0) v = i;
        if (v < 0 || count < 2) {
            fprintf(stderr, "usage: bench_ring oneway VARIANT COUNT (VARIANT as printed)\n");
            return 2;
        }
        b_marks = 1;
        b_pin(0);
        printf("oneway %s: %d messages of 64 B, %.2f Mmsg/s\n", vname[v], count, throughput(v, 64, 1, count) / 1e6);
        return 0;
    }
    calibrate();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("ipcx %s shared-memory ring benchmark: %d runs per figure, median (min-max); ratio = median of\n"
           "per-run ratios to the raw reference named in brackets; RT = round trip, p99 = median of per-run p99\n",
           ipcx_version(), runs);
    int ice = ice_selected() && ncpu >= 2;
    if (ice && !ice_exe()) {
        printf("iceoryx2: not built in this configuration (the bench preset builds it: IPCX_BENCH_PEERS=ON), skipped\n");
        ice = 0;
    } else if (ice && access(ice_exe(), X_OK) != 0) {
        printf("\n*** iceoryx2: NOT MEASURED: %s is missing: its cargo build failed", ice_exe());
#ifdef IPCX_BENCH_ICEORYX2_LOG
        printf(" (log: %s)", IPCX_BENCH_ICEORYX2_LOG);
#endif
        printf(" ***\n\n");
        failed = 1;
        ice = 0;
    } else if (ice) {
        printf("iceoryx2: %s, cross-core, right after the rings in every run\n", ice_exe());
    }
    b_pin(0);
    const size_t sizes[2] = {64, 65536};
    for (int place = 0; place < 2; place++) {
        int child_cpu = place == 0 ? 1 : 0;
        if (place == 0 && ncpu < 2) continue;
        printf("\n%s (parent CPU0, child CPU%d)%s\n", place == 0 ? "cross-core" : "same-core", child_cpu,
               place ? "; spinning on one CPU waits for the scheduler to switch (figures in ms territory)" : "");
        for (int z = 0; z < 2; z++) {
            size_t size = sizes[z];
            struct b_series rt[NVAR] = {0}, p99[NVAR] = {0}, thr[NVAR] = {0};
            struct b_series irt = {0}, ip99 = {0}, ithr = {0}; /* iceoryx2 */
            for (int r = 0; r < runs; r++) {
                for (int v = 0; v < NVAR; v++) {
                    if (!selected(v) || batched(v)) continue; /* a batch of one: copy */
                    int spin_same = place == 1 && !blocking(v);
                    int iters = spin_same ? 40 : blocking(v) ? 2000 : (z ? 4000 : 20000);
                    double m, q;
                    round_trip(v, size, child_cpu, iters, &m, &q);
                    b_add(&rt[v], m);
                    b_add(&p99[v], q);
                }
                for (int v = 0; v < NVAR; v++) {
                    if (!selected(v)) continue;
                    int spin_same = place == 1 && !blocking(v);
                    int count = z ? (spin_same ? 400 : 20000) : (spin_same ? 200000 : blocking(v) ? 200000 : 1000000);
                    double t = throughput(v, size, child_cpu, count);
                    b_add(&thr[v], z ? t * (double)size / 1e9 : t / 1e6);
                }
                if (ice && place == 0) { /* same counts as the spinning rings */
                    double m, q;
                    if (ice_run("rt", size, z ? 4000 : 20000, child_cpu, &m, &q) >= 0) {
                        b_add(&irt, m);
                        b_add(&ip99, q);
                    }
                    double t = ice_run("thr", size, z ? 20000 : 1000000, child_cpu, NULL, NULL);
                    if (t >= 0) b_add(&ithr, z ? t * (double)size / 1e9 : t / 1e6);
                }
            }
            char what[64];
            const char *tu = z ? "GB/s" : "Mmsg/s";
            printf(" %s messages\n", z ? "64 KiB" : "64 B");
            snprintf(what, sizeof what, "RT median");
            row(what, RAW_SPIN, &rt[RAW_SPIN], "us", NULL, "");
            row(what, IPCX_SPIN_COPY, &rt[IPCX_SPIN_COPY], "us", &rt[RAW_SPIN], "[raw spin; target <= 1.2]");
            row(what, IPCX_SPIN_ZC, &rt[IPCX_SPIN_ZC], "us", &rt[RAW_SPIN], "[raw spin; target <= 1.2]");
            row(what, RAW_FUTEX, &rt[RAW_FUTEX], "us", NULL, "");
            row(what, IPCX_BLOCK_COPY, &rt[IPCX_BLOCK_COPY], "us", &rt[RAW_FUTEX], "[raw futex; target <= 1.1]");
            row(what, IPCX_BLOCK_ZC, &rt[IPCX_BLOCK_ZC], "us", &rt[RAW_FUTEX], "[raw futex; target <= 1.1]");
            for (int v = 0; v < NVAR; v++)
                if (!batched(v))
                    row("RT p99", v, &p99[v], "us", is_raw(v) ? NULL : &p99[v < RAW_FUTEX ? RAW_SPIN : RAW_FUTEX], v < RAW_FUTEX ? "[raw spin]" : "[raw futex]");
            const char *spin_t = z ? "[copy bound; target >= 0.9]" : "[raw spin; target >= 0.8]";
            row("throughput", RAW_SPIN, &thr[RAW_SPIN], tu, NULL, z ? "(= the copy bound)" : "");
            row("throughput", IPCX_SPIN_COPY, &thr[IPCX_SPIN_COPY], tu, &thr[RAW_SPIN], spin_t);
            row("throughput", IPCX_SPIN_ZC, &thr[IPCX_SPIN_ZC], tu, &thr[RAW_SPIN], spin_t);
            row("throughput", IPCX_SPIN_MANY, &thr[IPCX_SPIN_MANY], tu, &thr[RAW_SPIN], spin_t);
            row("throughput", IPCX_SPIN_MPMC_MANY, &thr[IPCX_SPIN_MPMC_MANY], tu, &thr[RAW_SPIN], spin_t);
            row("MPMC vs SPSC batches", IPCX_SPIN_MPMC_MANY, &thr[IPCX_SPIN_MPMC_MANY], tu, &thr[IPCX_SPIN_MANY],
                "[ipcx spin, batched]");
            row("throughput", RAW_FUTEX, &thr[RAW_FUTEX], tu, NULL, "");
            row("throughput", IPCX_BLOCK_COPY, &thr[IPCX_BLOCK_COPY], tu, &thr[RAW_FUTEX],
                z ? "[raw futex]" : "[naive futex; target >= 1.5]");
            row("throughput", IPCX_BLOCK_ZC, &thr[IPCX_BLOCK_ZC], tu, &thr[RAW_FUTEX],
                z ? "[raw futex]" : "[naive futex; target >= 1.5]");
            row("zero-copy vs copy", IPCX_SPIN_ZC, &thr[IPCX_SPIN_ZC], tu, &thr[IPCX_SPIN_COPY], "[spin copy; target >= 1.0]");
            row("zero-copy vs copy", IPCX_BLOCK_ZC, &thr[IPCX_BLOCK_ZC], tu, &thr[IPCX_BLOCK_COPY], "[block copy; target >= 1.0]");
            if (irt.n == runs && ithr.n == runs) {
                ice_row("RT median", &irt, "us", &rt[RAW_SPIN], "[raw spin]");
                ice_row("RT p99", &ip99, "us", &p99[RAW_SPIN], "[raw spin]");
                ice_row("throughput", &ithr, tu, &thr[RAW_SPIN], "[raw spin]");
                ice_row("iceoryx2 vs ring RT", &irt, "us", &rt[IPCX_SPIN_COPY], "[ipcx spin, copy: N x the ring]");
                ice_row("iceoryx2 vs ring RT", &irt, "us", &rt[IPCX_SPIN_ZC], "[ipcx spin, zero-copy]");
                ice_row("iceoryx2 vs ring tput", &ithr, tu, &thr[IPCX_SPIN_COPY], "[ipcx spin, copy: fraction]");
                ice_row("iceoryx2 vs ring tput", &ithr, tu, &thr[IPCX_SPIN_ZC], "[ipcx spin, zero-copy]");
            }
        }
    }
    if (failed) printf("\n*** a peer was not measured (see above): failing ***\n");
    return failed;
}
