/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The event-loop matrix (loop_cases.c) on a plain epoll loop, level-triggered, as
 * docs/event-loops.md "Per loop" says: the receive descriptor registered for EPOLLIN, the
 * send descriptor registered with no events and switched with EPOLL_CTL_MOD to the event
 * ipcx names only while a send waits. */
#include "loop_cases.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_FDS 64

struct watch {
    int fd; /* -1: free */
    loop_cb cb;
    void *arg;
};

struct eloop {
    int ep;
    struct watch w[MAX_FDS];
};

static uint32_t to_epoll(int events) {
    return (events & LOOP_IN ? EPOLLIN : 0) | (events & LOOP_OUT ? EPOLLOUT : 0);
}

static void *e_create(void) {
    struct eloop *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        free(l);
        return NULL;
    }
    for (int i = 0; i < MAX_FDS; i++) l->w[i].fd = -1;
    return l;
}

static void e_destroy(void *p) {
    struct eloop *l = p;
    if (!l) return;
    for (int i = 0; i < MAX_FDS; i++)
        if (l->w[i].fd >= 0) epoll_ctl(l->ep, EPOLL_CTL_DEL, l->w[i].fd, NULL);
    close(l->ep);
    free(l);
}

static struct watch *find(struct eloop *l, int fd) {
    for (int i = 0; i < MAX_FDS; i++)
        if (l->w[i].fd == fd) return &l->w[i];
    return NULL;
}

static int e_watch(void *p, int fd, int events, loop_cb cb, void *arg) {
    struct eloop *l = p;
    if (find(l, fd)) return -1; /* one watch per descriptor */
    struct watch *w = find(l, -1);
    if (!w) return -1;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = w};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) return -1;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    return 0;
}

static int e_modify(void *p, int fd, int events) {
    struct eloop *l = p;
    struct watch *w = find(l, fd);
    if (!w) return -1;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = w};
    return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

static int e_unwatch(void *p, int fd) {
    struct eloop *l = p;
    struct watch *w = find(l, fd);
    if (!w) return -1;
    w->fd = -1;
    return epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
}

static int e_run_once(void *p, int timeout_ms) {
    struct eloop *l = p;
    struct epoll_event ev[MAX_FDS];
    int n = epoll_wait(l->ep, ev, MAX_FDS, timeout_ms);
    if (n < 0) return -1;
    int ran = 0;
    for (int i = 0; i < n; i++) {
        struct watch *w = ev[i].data.ptr;
        if (w->fd < 0) continue; /* unwatched by an earlier callback of this round */
        int re = (ev[i].events & EPOLLIN ? LOOP_IN : 0) | (ev[i].events & EPOLLOUT ? LOOP_OUT : 0) |
                 (ev[i].events & (EPOLLERR | EPOLLHUP) ? LOOP_ERR : 0);
        w->cb(w->arg, re);
        ran++;
    }
    return ran;
}

static const struct loop_backend epoll_backend = {
    "epoll", e_create, e_destroy, e_watch, e_modify, e_unwatch, e_run_once,
};

const struct loop_backend *loop_backend(void) { return &epoll_backend; }
