/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// The event-loop matrix (c-tests/loop_cases.c) on Boost.Asio, as docs/event-loops.md
// "Per loop" says: a posix::stream_descriptor per descriptor, async_wait(wait_read) /
// async_wait(wait_write) only (never async_read_some, never non_blocking(true)),
// release() before the stream_descriptor is destroyed and before the ipcx handle closes.
// Asio registers descriptors edge-triggered: a wait is started again only after the
// callback, which drains until IPCX_ERR_TIMEOUT (loop_cases.c's callbacks do).
#include "loop_cases.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>

namespace asio = boost::asio;
using descriptor = asio::posix::stream_descriptor;

namespace {

struct watch {
    watch(asio::io_context &io, int fd_) : d(io, fd_), fd(fd_) {}
    descriptor d;
    int fd;
    int events = 0;
    loop_cb cb = nullptr;
    void *arg = nullptr;
    bool read_pending = false, write_pending = false, gone = false;
};

struct aloop {
    asio::io_context io;
    std::map<int, std::shared_ptr<watch>> w;
    int ran = 0;
};

void arm(aloop *l, const std::shared_ptr<watch> &w);

// A wait finished: run the callback if the direction is still wanted, then wait again.
void finished(aloop *l, const std::shared_ptr<watch> &w, const boost::system::error_code &ec,
              int dir) {
    if (dir == LOOP_IN)
        w->read_pending = false;
    else
        w->write_pending = false;
    if (w->gone || ec == asio::error::operation_aborted) return;
    if (!(w->events & dir)) return;  // no longer wanted (modified meanwhile)
    l->ran++;
    w->cb(w->arg, ec ? (dir | LOOP_ERR) : dir);
    if (!w->gone) arm(l, w);
}

void arm(aloop *l, const std::shared_ptr<watch> &w) {
    if ((w->events & LOOP_IN) && !w->read_pending) {
        w->read_pending = true;
        w->d.async_wait(descriptor::wait_read, [l, w](const boost::system::error_code &ec) {
            finished(l, w, ec, LOOP_IN);
        });
    }
    if ((w->events & LOOP_OUT) && !w->write_pending) {
        w->write_pending = true;
        w->d.async_wait(descriptor::wait_write, [l, w](const boost::system::error_code &ec) {
            finished(l, w, ec, LOOP_OUT);
        });
    }
}

void *a_create() {
    try {
        return new aloop;
    } catch (...) {
        return nullptr;
    }
}

int a_watch(void *p, int fd, int events, loop_cb cb, void *arg) {
    auto *l = static_cast<aloop *>(p);
    if (l->w.count(fd)) return -1;
    try {
        auto w = std::make_shared<watch>(l->io, fd);
        w->events = events;
        w->cb = cb;
        w->arg = arg;
        l->w[fd] = w;
        arm(l, w);
        return 0;
    } catch (...) {
        return -1;
    }
}

int a_modify(void *p, int fd, int events) {
    auto *l = static_cast<aloop *>(p);
    auto it = l->w.find(fd);
    if (it == l->w.end()) return -1;
    it->second->events = events;
    arm(l, it->second);
    return 0;
}

// release(): the descriptor is the ipcx handle's. The waits still pending complete with
// operation_aborted on a later turn (or in destroy) and do nothing.
int a_unwatch(void *p, int fd) {
    auto *l = static_cast<aloop *>(p);
    auto it = l->w.find(fd);
    if (it == l->w.end()) return -1;
    it->second->gone = true;
    boost::system::error_code ec;
    it->second->d.cancel(ec);
    (void)it->second->d.release();
    l->w.erase(it);
    return 0;
}

void a_destroy(void *p) {
    auto *l = static_cast<aloop *>(p);
    if (!l) return;
    while (!l->w.empty()) a_unwatch(l, l->w.begin()->first);
    l->io.restart();
    l->io.poll();  // the aborted waits: they drop their references to the watches
    delete l;
}

int a_run_once(void *p, int timeout_ms) {
    auto *l = static_cast<aloop *>(p);
    l->ran = 0;
    try {
        if (l->io.stopped()) l->io.restart();
        auto t0 = std::chrono::steady_clock::now();
        if (l->io.run_one_for(std::chrono::milliseconds(timeout_ms)) > 0) {
            // The other handlers that are due, a bounded number: a wait started again by
            // a handler may be due at once (poll() would run it, and the next, forever).
            for (int i = 0; i < 64 && l->io.poll_one() > 0; i++) {
            }
        } else {
            // Nothing to wait for at all: sleep out the timeout rather than spin.
            auto left = std::chrono::milliseconds(timeout_ms) - (std::chrono::steady_clock::now() - t0);
            if (left.count() > 0)
                usleep(static_cast<useconds_t>(
                    std::chrono::duration_cast<std::chrono::microseconds>(left).count()));
        }
    } catch (...) {
        return -1;
    }
    return l->ran;
}

const struct loop_backend asio_backend = {
    "asio", a_create, a_destroy, a_watch, a_modify, a_unwatch, a_run_once,
};

}  // namespace

extern "C" const struct loop_backend *loop_backend(void) { return &asio_backend; }
