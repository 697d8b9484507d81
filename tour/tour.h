/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The tour: one row per mechanism, each exercised across fork. */
#ifndef IPCX_TOUR_H
#define IPCX_TOUR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcx.h"

struct tour_row {
    const char *mechanism; /* e.g. "pipe" */
    char checked[160];     /* what the row verified, in a few words */
    int ok;                /* 1 if every check passed */
    double median_rt_us;   /* median round trip in microseconds, < 0 if not measured */
    char detail[200];      /* failure detail (or a note) */
};

/* Row functions fill `row`; they must not exit and must clean up after themselves. */
typedef void (*tour_fn)(struct tour_row *row);

/* Helpers (tour_util.c). */
int64_t tour_now_ns(void);
double tour_median_us(int64_t *samples_ns, size_t n);
/* Fail the row with a printf-style detail; returns 0 so rows can `return tour_fail(...)`. */
int tour_fail(struct tour_row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fail the row from an ipcx status, with ipcx_last_error(). */
int tour_fail_status(struct tour_row *row, const char *what, int status);
/* Wait for a child for at most timeout_ms; returns 1 if it exited with status 0. */
int tour_wait_child(pid_t pid, int timeout_ms);

/* Number of timed round trips per row. */
#define TOUR_ROUNDS 2000

/* Rows (one file each). */
void tour_signal_dispositions(struct tour_row *row);
void tour_signal_queueing(struct tour_row *row);
void tour_pipe(struct tour_row *row);
void tour_fifo(struct tour_row *row);
void tour_sysv_msgq(struct tour_row *row);
void tour_posix_mq(struct tour_row *row);
void tour_sysv_shm(struct tour_row *row);
void tour_posix_shm(struct tour_row *row);
void tour_file_mapping(struct tour_row *row);
void tour_anonymous_mapping(struct tour_row *row);
void tour_sem_named(struct tour_row *row);
void tour_sem_unnamed(struct tour_row *row);
void tour_semset(struct tour_row *row);
void tour_mutex_cond(struct tour_row *row);
void tour_unix_socket(struct tour_row *row);
void tour_tcp(struct tour_row *row);
void tour_udp(struct tour_row *row);
void tour_ring(struct tour_row *row);
void tour_chan(struct tour_row *row);
void tour_nng_across_hosts(struct tour_row *row);
void tour_zmq_across_hosts(struct tour_row *row);
void tour_inspect(struct tour_row *row);

#endif
