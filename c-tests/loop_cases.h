/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The event-loop test matrix (loop_cases.c): every waitable object of docs/event-loops.md,
 * both directions, driven by one event loop per process. The cases are written once
 * against this small backend interface; loop_epoll.c, loop_libuv.c and
 * cpp-tests/loop_asio.cpp each define loop_backend() and link with loop_cases.c, which
 * holds main (c-tests/test.h's T_MAIN). */
#ifndef IPCX_LOOP_CASES_H
#define IPCX_LOOP_CASES_H

#ifdef __cplusplus
extern "C" {
#endif

/* Events, as a watch asks for them and a callback receives them (the values of POLLIN and
 * POLLOUT, as ipcx_chan_info.fd_events gives them). LOOP_ERR: an error or hang-up the
 * loop reported on the descriptor (whatever it was watched for). */
#define LOOP_IN 0x001
#define LOOP_OUT 0x004
#define LOOP_ERR 0x008

typedef void (*loop_cb)(void *arg, int revents);

struct loop_backend {
    const char *name;
    /* A loop for this process (created after fork). NULL: failed. */
    void *(*create)(void);
    /* Destroy it; every descriptor is unwatched first. */
    void (*destroy)(void *loop);
    /* Watch `fd` (lent: never closed, read or written) for `events` (LOOP_IN, LOOP_OUT,
     * both, or 0: registered, waiting for nothing yet); `cb(arg, revents)` runs from
     * run_once. One watch per descriptor. 0 or -1. */
    int (*watch)(void *loop, int fd, int events, loop_cb cb, void *arg);
    /* Change what `fd` is watched for. 0 or -1. */
    int (*modify)(void *loop, int fd, int events);
    /* Stop watching `fd` (before the handle that lent it closes). 0 or -1. */
    int (*unwatch)(void *loop, int fd);
    /* Wait at most `timeout_ms` for events and run the callbacks that are due; returns
     * how many ran (0: none in time), -1 on a failure of the loop. */
    int (*run_once)(void *loop, int timeout_ms);
};

/* Defined by each backend. */
const struct loop_backend *loop_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* IPCX_LOOP_CASES_H */
