/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The event-loop matrix (loop_cases.c) on libuv, as docs/event-loops.md "Per loop" says:
 * one uv_poll_t per descriptor (an ipcx_sock's one descriptor gets one handle watching
 * UV_READABLE | UV_WRITABLE), UV_WRITABLE started only while a send waits (uv_poll_stop
 * when nothing is watched), and every poll handle stopped and closed (its close callback
 * run) before the ipcx handle that lent the descriptor closes. */
#include "loop_cases.h"

#include <stdlib.h>
#include <uv.h>

#define MAX_FDS 64

struct watch {
    uv_poll_t poll;
    int fd; /* -1: free */
    int closing;
    loop_cb cb;
    void *arg;
    struct uloop *l;
};

struct uloop {
    uv_loop_t loop;
    uv_timer_t timer; /* bounds run_once */
    int ran;
    struct watch *w[MAX_FDS];
};

static void *u_create(void) {
    struct uloop *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    if (uv_loop_init(&l->loop) != 0 || uv_timer_init(&l->loop, &l->timer) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

static void on_closed(uv_handle_t *h) {
    struct watch *w = h->data;
    free(w);
}

static struct watch **find(struct uloop *l, int fd) {
    for (int i = 0; i < MAX_FDS; i++)
        if (l->w[i] && l->w[i]->fd == fd) return &l->w[i];
    return NULL;
}

static void on_poll(uv_poll_t *h, int status, int events) {
    struct watch *w = h->data;
    int re = status < 0 ? LOOP_ERR
                        : (events & UV_READABLE ? LOOP_IN : 0) | (events & UV_WRITABLE ? LOOP_OUT : 0) |
                              (events & UV_DISCONNECT ? LOOP_ERR : 0);
    w->l->ran++;
    w->cb(w->arg, re);
}

static int start(struct watch *w, int events) {
    if (!events) return uv_poll_stop(&w->poll) == 0 ? 0 : -1;
    int ue = (events & LOOP_IN ? UV_READABLE : 0) | (events & LOOP_OUT ? UV_WRITABLE : 0);
    return uv_poll_start(&w->poll, ue, on_poll) == 0 ? 0 : -1;
}

static int u_watch(void *p, int fd, int events, loop_cb cb, void *arg) {
    struct uloop *l = p;
    if (find(l, fd)) return -1; /* one uv_poll_t per descriptor */
    int slot = -1;
    for (int i = 0; i < MAX_FDS && slot < 0; i++)
        if (!l->w[i]) slot = i;
    if (slot < 0) return -1;
    struct watch *w = calloc(1, sizeof *w);
    if (!w) return -1;
    if (uv_poll_init(&l->loop, &w->poll, fd) != 0) {
        free(w);
        return -1;
    }
    w->poll.data = w;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    w->l = l;
    l->w[slot] = w;
    return start(w, events);
}

static int u_modify(void *p, int fd, int events) {
    struct watch **w = find(p, fd);
    return w ? start(*w, events) : -1;
}

/* Stop and close the handle (uv_poll_stop takes the descriptor out of the loop's epoll
 * set at once; the close callback runs on the next turn, or in destroy). */
static int u_unwatch(void *p, int fd) {
    struct uloop *l = p;
    struct watch **slot = find(l, fd);
    if (!slot) return -1;
    struct watch *w = *slot;
    *slot = NULL;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_closed);
    return 0;
}

static void u_destroy(void *p) {
    struct uloop *l = p;
    if (!l) return;
    for (int i = 0; i < MAX_FDS; i++)
        if (l->w[i]) u_unwatch(l, l->w[i]->fd);
    uv_close((uv_handle_t *)&l->timer, NULL);
    uv_run(&l->loop, UV_RUN_DEFAULT); /* the close callbacks */
    uv_loop_close(&l->loop);
    free(l);
}

static void on_timer(uv_timer_t *t) { (void)t; }

static int u_run_once(void *p, int timeout_ms) {
    struct uloop *l = p;
    l->ran = 0;
    if (uv_timer_start(&l->timer, on_timer, (uint64_t)timeout_ms, 0) != 0) return -1;
    uv_run(&l->loop, UV_RUN_ONCE);
    uv_timer_stop(&l->timer);
    return l->ran;
}

/* libuv opens a pipe for the whole process at its first loop (its signal lock, kept until
 * exit): open it in the runner, before the cases fork, so that the descriptor count of
 * each case (c-tests/test.h) sees no leak. (libuv makes a new one in each forked child,
 * closing the inherited one.) */
__attribute__((constructor)) static void libuv_globals(void) {
    uv_loop_t l;
    if (uv_loop_init(&l) == 0) uv_loop_close(&l);
}

static const struct loop_backend libuv_backend = {
    "libuv", u_create, u_destroy, u_watch, u_modify, u_unwatch, u_run_once,
};

const struct loop_backend *loop_backend(void) { return &libuv_backend; }
