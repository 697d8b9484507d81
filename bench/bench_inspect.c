/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Benchmark: what provenance records cost, and how long a listing takes.
 *
 * Records are written only when an object is created and deleted only when ipcx removes
 * it; sends, receives, maps and waits never touch them. So the cost to measure is a
 * create + remove cycle, ipcx (object + record) against the raw calls (object only),
 * alternating runs; and the time of one ipcx_inspect_list with N ipcx objects present.
 * No target: a record is a few system calls on tmpfs, paid once per object.
 *
 * Usage: bench_inspect [runs] (default 5). */
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include "bench.h"
#include "ipcx.h"

#define CYCLES 500

static char name[64];

/* ns per create + remove of a POSIX shared memory object. */
static double shm_cycle(int ipcx) {
    int64_t t0 = b_now_ns();
    for (int i = 0; i < CYCLES; i++) {
        if (ipcx) {
            ipcx_shm *s;
            if (ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s) ||
                ipcx_shm_close(s) || ipcx_shm_remove(name))
                b_die("ipcx shm cycle");
        } else {
            int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0 || fchmod(fd, 0600) != 0) b_die("shm_open");
            close(fd);
            if (shm_unlink(name) != 0) b_die("shm_unlink");
        }
    }
    return (double)(b_now_ns() - t0) / CYCLES;
}

/* ns per create + remove of a private System V queue. */
static double msq_cycle(int ipcx) {
    int64_t t0 = b_now_ns();
    for (int i = 0; i < CYCLES; i++) {
        if (ipcx) {
            ipcx_msgq *q;
            if (ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q) ||
                ipcx_msgq_remove(q) || ipcx_msgq_close(q))
                b_die("ipcx msq cycle");
        } else {
            int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
            if (id < 0 || msgctl(id, IPC_RMID, NULL) != 0) b_die("msgget");
        }
    }
    return (double)(b_now_ns() - t0) / CYCLES;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1 || runs > B_MAX_RUNS) runs = 5;
    setvbuf(stdout, NULL, _IOLBF, 0);
    b_pin(0);
    snprintf(name, sizeof name, "/ipcx-bench-%d", (int)getpid());
    printf("ipcx %s bench_inspect: %d runs x %d cycles, CPU0\n", ipcx_version(), runs, CYCLES);
    static const char *const names[] = {"raw", "ipcx"};
    static const int no_target[] = {0, 0};
    struct b_series shm[2] = {0}, msq[2] = {0};
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < 2; k++) {
            int v = (r + k) % 2; /* alternate which goes first */
            b_add(&shm[v], shm_cycle(v) / 1000.0);
            b_add(&msq[v], msq_cycle(v) / 1000.0);
        }
    }
    b_report("POSIX shm create+remove", "us", shm, 2, names, 1, no_target);
    b_report("System V msq create+remove", "us", msq, 2, names, 1, no_target);

    /* A listing with 100 ipcx objects of this process present (plus whatever else). */
    enum { N = 100 };
    ipcx_shm *objs[N];
    char nm[N][64];
    for (int i = 0; i < N; i++) {
        snprintf(nm[i], sizeof nm[i], "/ipcx-bench-%d-%d", (int)getpid(), i);
        if (ipcx_shm_open(nm[i], IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &objs[i]))
            b_die("ipcx_shm_open");
    }
    struct b_series list = {0};
    for (int r = 0; r < runs; r++) {
        int64_t t0 = b_now_ns();
        ipcx_object_list *l;
        if (ipcx_inspect_list(NULL, 0, 0, &l)) b_die("ipcx_inspect_list");
        b_add(&list, (double)(b_now_ns() - t0) / 1e6);
        ipcx_object_list_close(l);
    }
    printf("  %-32s %-13s", "ipcx_inspect_list, 100 objects", "ipcx");
    b_print_series("ms", &list);
    printf("\n");
    for (int i = 0; i < N; i++) {
        ipcx_shm_close(objs[i]);
        ipcx_shm_remove(nm[i]);
    }
    return 0;
}
