/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): signals between parent and child.
//
// 1. The parent catches SIGUSR1. The handler may only do async-signal-safe work: it pokes
//    a notifier through the C function on the raw handle (no C++ call is
//    async-signal-safe); the main code waits on the notifier and does the real work.
// 2. With SIGRTMIN+1 blocked, the child queues three signals with payloads; the parent
//    takes them in order from a signalfd receiver.
//
// Build: c++ -std=c++17 signal.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

using namespace std::chrono_literals;

static std::atomic<ipcx_notifier *> wake{nullptr};

extern "C" void on_usr1(int, void *, void *) {
    if (ipcx_notifier *n = wake.load()) ipcx_notifier_poke(n);  // async-signal-safe
}

int main() try {
    const int rt1 = ipcx::signal::rtmin() + 1;
    ipcx::notifier n = ipcx::notifier::create();
    wake = n.get();
    ipcx_signal_disposition old = ipcx::signal::catch_(SIGUSR1, on_usr1, IPCX_SIGNAL_RESTART);
    // Block before forking (the child inherits the mask) and before the receiver.
    ipcx::signal::block(ipcx::sigset{rt1});
    ipcx::signalfd rx = ipcx::signalfd::create(ipcx::sigset{rt1});

    pid_t pid = fork();
    if (pid == 0) {  // the child: notify, then three payloads
        std::error_code ec;
        ipcx::signal::send(getppid(), SIGUSR1, ec);
        for (int i = 1; i <= 3 && !ec; i++) {
            ipcx_sigval v{};
            v.as_int = i * 100;
            ipcx::signal::queue(getppid(), rt1, v, ec);
        }
        _exit(ec ? 1 : 0);
    }
    std::printf("parent: SIGUSR1 caught (%llu poke)\n",
                static_cast<unsigned long long>(n.wait(5s)));
    for (int i = 0; i < 3; i++) {  // in order, each with its payload
        ipcx_siginfo info = rx.recv(5s);
        std::printf("parent: SIGRTMIN+%d from pid %d, payload %d\n",
                    info.signo - ipcx::signal::rtmin(), static_cast<int>(info.pid),
                    info.value.as_int);
    }
    ipcx::signal::set_disposition(SIGUSR1, old);  // restore, then the notifier may go
    wake = nullptr;
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
