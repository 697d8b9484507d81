/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx::signal, ipcx::sigset, ipcx::signalfd and ipcx::notifier: masks, payloads,
// dispositions restored from what the changes returned, a signalfd fed across fork, a
// handler that pokes a notifier through the C function.
#include "test.hpp"

#include <poll.h>

#include <atomic>
#include <thread>

T_CASE(masks_payloads_and_wait) {
    int rt = ipcx::signal::rtmin() + 1;
    T_ASSERT(rt < ipcx::signal::rtmax());
    ipcx::sigset set{rt, SIGUSR2};
    ipcx::sigset old = ipcx::signal::block(set);
    T_ASSERT(ipcx::signal::get_mask().has(rt));
    ipcx_sigval v{};
    v.as_int = 42;
    ipcx::signal::queue(getpid(), rt, v);
    ipcx::signal::send(getpid(), SIGUSR2);
    ipcx::sigset pend = ipcx::signal::pending();
    T_ASSERT(pend.has(rt) && pend.has(SIGUSR2));
    ipcx_siginfo si = ipcx::signal::wait(ipcx::sigset{SIGUSR2}, 1s);
    T_ASSERT(si.size == sizeof si && si.signo == SIGUSR2 && si.pid == getpid());
    si = ipcx::signal::wait(set, 1s);
    T_ASSERT(si.signo == rt && si.value.as_int == 42 && si.code == SI_QUEUE);
    T_TIMES_OUT(30, ipcx::signal::wait(set, 30ms));
    std::error_code ec;
    (void)ipcx::signal::wait(ipcx::sigset(), ipcx::nowait, ec);  // an empty set
    T_EC(ipcx::errc::invalid, ec);
    ipcx::signal::set_mask(old);
    T_ASSERT(!ipcx::signal::get_mask().has(rt));
    T_THROWS(ipcx::errc::invalid, ipcx::signal::send(0, SIGUSR1));  // groups have their own call
    T_THROWS(ipcx::errc::invalid, ipcx::signal::queue_thread(getpid(), 0, rt, v));
    ipcx::signal::send(getpid(), 0);  // probes only
    ipcx::signal::send_group(0, 0);
    ipcx::signal::send_thread(getpid(), gettid(), 0);
}

T_CASE(signalfd_across_fork) {
    ipcx::sigset old = ipcx::signal::block(ipcx::sigset{SIGUSR1, SIGUSR2});
    ipcx::signalfd r = ipcx::signalfd::create(ipcx::sigset{SIGUSR1});
    pid_t parent = getpid();
    pid_t pid = t_child([&] {
        r.close();
        ipcx::signal::send(parent, SIGUSR1);
    });
    struct pollfd p = {r.fd(), POLLIN, 0};
    T_EQ(poll(&p, 1, 5000), 1);
    ipcx_siginfo si = r.recv(ipcx::nowait);
    T_ASSERT(si.size == sizeof si && si.signo == SIGUSR1 && si.pid == pid);
    t_wait_ok(pid);
    T_TIMES_OUT(20, r.recv(20ms));
    r.update(ipcx::sigset{SIGUSR2});
    ipcx::signal::send(getpid(), SIGUSR2);
    T_EQ(r.recv(1s).signo, SIGUSR2);
    std::error_code ec;
    r.update(ipcx::sigset{SIGTERM}, ec);  // not blocked: refused, the set kept
    T_EC(ipcx::errc::invalid, ec);
    T_THROWS(ipcx::errc::invalid, ipcx::signalfd::create(ipcx::sigset{SIGTERM}));
    r.close();
    ipcx::signal::set_mask(old);
}

// The handler reaches the notifier through its raw handle and the C function: the only
// async-signal-safe way (docs/cpp.md).
static std::atomic<ipcx_notifier *> g_notifier{nullptr};

extern "C" void poke_handler(int, void *, void *) {
    ipcx_notifier *n = g_notifier.load();
    if (n) (void)ipcx_notifier_poke(n);
}

T_CASE(handler_pokes_a_notifier) {
    ipcx::notifier n = ipcx::notifier::create();
    g_notifier.store(n.get());
    ipcx_signal_disposition old =
        ipcx::signal::catch_(SIGUSR1, poke_handler, IPCX_SIGNAL_RESTART);
    ipcx_signal_disposition now = ipcx::signal::get_disposition(SIGUSR1);
    T_ASSERT(now.action == IPCX_SIGNAL_CATCH && now.handler == poke_handler);
    std::thread waiter([&] {
        t_guard([&] { T_ASSERT(n.wait(5s) >= 1); });
    });
    ipcx::signal::send(getpid(), SIGUSR1);
    waiter.join();
    // From a thread, poke() is the C++ call.
    n.poke();
    n.poke();
    struct pollfd p = {n.fd(), POLLIN, 0};
    T_EQ(poll(&p, 1, 1000), 1);
    T_EQ(n.wait(ipcx::nowait), 2);
    T_TIMES_OUT(20, n.wait(20ms));
    // Restore what catch_ returned; ignore and default_ return what they replaced.
    ipcx::signal::set_disposition(SIGUSR1, old);
    T_EQ(ipcx::signal::get_disposition(SIGUSR1).action, old.action);
    ipcx_signal_disposition before = ipcx::signal::ignore(SIGUSR2);
    T_EQ(ipcx::signal::default_(SIGUSR2).action, IPCX_SIGNAL_IGNORE);
    ipcx::signal::set_disposition(SIGUSR2, before);
    T_THROWS(ipcx::errc::invalid, ipcx::signal::ignore(SIGKILL));
    std::error_code ec;
    (void)ipcx::signal::catch_(SIGUSR1, nullptr, 0, ec);
    T_EC(ipcx::errc::invalid, ec);
    g_notifier.store(nullptr);
}

T_CASE(notifier_across_fork) {
    ipcx::notifier n = ipcx::notifier::create();
    pid_t pid = t_child([&] {
        for (int i = 0; i < 3; i++) n.poke();  // the same counter as the parent's
    });
    t_wait_ok(pid);
    T_EQ(n.wait(5s), 3);
    std::error_code ec;
    T_EQ(n.wait(ipcx::nowait, ec), 0);
    T_EC(ipcx::errc::timeout, ec);
    ipcx_notifier *raw = n.get();
    n.close();
    T_EQ(ipcx_notifier_poke(raw), IPCX_ERR_BAD_HANDLE);  // a stale handle, never UB
}

T_MAIN(T_ENTRY(masks_payloads_and_wait), T_ENTRY(signalfd_across_fork),
       T_ENTRY(handler_pokes_a_notifier), T_ENTRY(notifier_across_fork))
