/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour rows: message queues. The seed: a message queue is a linked list of messages kept
 * in the kernel; each message has a type, and each type works as an independent
 * channel (System V: msgget, msgsnd, msgrcv, msgctl). POSIX queues choose by priority
 * instead, and their descriptor can be polled. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tour.h"

/* System V: a child echoes type 1 as type 2 over one queue while a type-7 message waits
 * untouched; the lowest-type rule; removal wakes the blocked child. */
void tour_sysv_msgq(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "types as channels, lowest-type rule, removal wakes reader, RT");
    ipcx_msgq *q;
    int s = ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q);
    if (s) {
        tour_fail_status(row, "ipcx_msgq_open", s);
        return;
    }
    /* msgrcv's type < 0 rule: the first of the lowest types <= |type|. */
    const long types[] = {5, 2, 4};
    for (int i = 0; i < 3 && row->ok; i++)
        if ((s = ipcx_msgq_send(q, &types[i], sizeof types[i], types[i], IPCX_NOWAIT)))
            tour_fail_status(row, "ipcx_msgq_send", s);
    const long want[] = {2, 4, 5};
    for (int i = 0; i < 3 && row->ok; i++) {
        long v = 0, t = 0;
        size_t len = sizeof v;
        s = ipcx_msgq_recv(q, &v, &len, i < 2 ? -4 : 0, 0, IPCX_NOWAIT, &t);
        if (s || t != want[i] || v != want[i]) tour_fail(row, "type rule: got type %ld, want %ld", t, want[i]);
    }
    /* A message on a channel nobody reads. */
    if (row->ok && (s = ipcx_msgq_send(q, "seven", 5, 7, IPCX_NOWAIT))) tour_fail_status(row, "send type 7", s);
    pid_t pid = row->ok ? fork() : -1;
    if (pid == 0) {
        /* Echo type 1 as type 2 until the queue is removed. */
        char buf[64];
        for (;;) {
            size_t len = sizeof buf;
            s = ipcx_msgq_recv(q, buf, &len, 1, 0, IPCX_FOREVER, NULL);
            if (s == IPCX_ERR_REMOVED) _exit(0);
            if (s || ipcx_msgq_send(q, buf, len, 2, IPCX_FOREVER)) {
                ipcx_msgq_remove(q); /* never leave the parent blocked */
                _exit(1);
            }
        }
    }
    static int64_t samples[TOUR_ROUNDS];
    char msg[64] = "ping";
    for (int i = 0; i < TOUR_ROUNDS && row->ok && pid > 0; i++) {
        size_t len = sizeof msg;
        long t = 0;
        int64_t t0 = tour_now_ns();
        s = ipcx_msgq_send(q, msg, 64, 1, IPCX_FOREVER);
        if (s == IPCX_OK) s = ipcx_msgq_recv(q, msg, &len, 2, 0, IPCX_FOREVER, &t);
        samples[i] = tour_now_ns() - t0;
        if (s != IPCX_OK || len != 64 || t != 2) tour_fail_status(row, "round trip", s);
    }
    ipcx_msgq_info info = {.size = sizeof info};
    if (row->ok && ((s = ipcx_msgq_stat(q, &info)) || info.messages != 1 || info.last_send_pid != pid ||
                    info.last_recv_pid != getpid()))
        tour_fail(row, "stat: %zu queued (want the type-7 message only), last sender %d, receiver %d",
                  info.messages, (int)info.last_send_pid, (int)info.last_recv_pid);
    ipcx_msgq_remove(q); /* wakes the child with IPCX_ERR_REMOVED */
    ipcx_msgq_close(q);
    if (pid > 0 && !tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "the blocked child was not woken by removal");
    if (row->ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
}

/* POSIX: requests on one queue, replies on another; priorities across fork, a timed
 * receive that ends at its deadline, the descriptor polled before each reply. */
void tour_posix_mq(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "priorities across fork, timeout >= deadline, poll fd, RT");
    char req_name[64], rep_name[64];
    snprintf(req_name, sizeof req_name, "/ipcx-tour-%d-req", (int)getpid());
    snprintf(rep_name, sizeof rep_name, "/ipcx-tour-%d-rep", (int)getpid());
    ipcx_options *o;
    ipcx_mq *req = NULL, *rep = NULL;
    int s = ipcx_options_create(&o);
    if (!s) s = ipcx_options_set_max_messages(o, 4);
    if (!s) s = ipcx_options_set_max_message(o, 64);
    uint32_t f = IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE;
    if (!s) s = ipcx_mq_open(req_name, f, o, &req);
    if (!s) s = ipcx_mq_open(rep_name, f, o, &rep);
    ipcx_options_close(o);
    if (s) {
        tour_fail_status(row, "ipcx_mq_open", s);
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        char buf[64];
        uint32_t prio;
        /* Three messages sent before we read: highest priority first. */
        for (int i = 0; i < 3; i++) {
            size_t len = sizeof buf;
            if (ipcx_mq_recv(req, buf, &len, 10000,
                             &prio) || prio != (uint32_t)(9 - 4 * i)) _exit(2);
        }
        for (;;) {
            size_t len = sizeof buf;
            if (ipcx_mq_recv(req, buf, &len, 10000, &prio)) _exit(1);
            if (prio == 31) _exit(0); /* the parent's "stop" */
            if (ipcx_mq_send(rep, buf, len, 0, 10000)) _exit(1);
        }
    }
    if (pid < 0) {
        tour_fail(row, "fork failed");
        goto out;
    }
    const uint32_t prios[] = {1, 9, 5};
    for (int i = 0; i < 3 && row->ok; i++)
        if ((s = ipcx_mq_send(req, "p", 1, prios[i], 10000))) tour_fail_status(row, "priority send", s);
    /* A timed receive on an empty queue: on the monotonic clock, never early. */
    char msg[64] = "ping";
    size_t len = sizeof msg;
    int64_t t0 = tour_now_ns();
    s = ipcx_mq_recv(rep, msg, &len, 50, NULL);
    if (row->ok && (s != IPCX_ERR_TIMEOUT || tour_now_ns() - t0 < 50000000))
        tour_fail(row, "a 50 ms timed receive returned %d after %.1f ms", s, (tour_now_ns() - t0) / 1e6);
    int fd = -1;
    if (row->ok && (s = ipcx_mq_fd(rep, &fd))) tour_fail_status(row, "ipcx_mq_fd", s);
    static int64_t samples[TOUR_ROUNDS];
    for (int i = 0; i < TOUR_ROUNDS && row->ok; i++) {
        len = sizeof msg;
        struct pollfd p = {fd, POLLIN, 0};
        t0 = tour_now_ns();
        s = ipcx_mq_send(req, msg, 64, 0, IPCX_FOREVER);
        if (s == IPCX_OK && i % 100 == 0) {
            int r;
            do r = poll(&p, 1, 30000);
            while (r < 0 && errno == EINTR);
            if (r != 1 || !(p.revents & POLLIN))
                tour_fail(row, "the reply did not make the descriptor readable (poll returned %d, "
                               "revents %#x, errno %d)", r, (unsigned)p.revents, errno);
        }
        if (s == IPCX_OK && row->ok) s = ipcx_mq_recv(rep, msg, &len, IPCX_FOREVER, NULL);
        samples[i] = tour_now_ns() - t0;
        if (row->ok && (s != IPCX_OK || len != 64)) tour_fail_status(row, "round trip", s);
    }
    ipcx_mq_send(req, "stop", 4, 31, 1000);
    if (!tour_wait_child(pid, 10000) && row->ok) tour_fail(row, "the child saw wrong priorities or failed");
    if (row->ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
out:
    ipcx_mq_close(req);
    ipcx_mq_close(rep);
    ipcx_mq_remove(req_name);
    ipcx_mq_remove(rep_name);
}
