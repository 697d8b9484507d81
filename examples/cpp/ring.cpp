/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): a shared-memory ring between two processes.
//
// The parent creates a named ring as the producer; the child opens it by name as the
// consumer, as an unrelated program would, waits with poll() on its descriptor and
// drains it without blocking (a timeout there is the normal end: the std::error_code
// form). One message is written in place through a reservation, which commits it (its
// destructor would abort it); the consumer reads one in place through a borrowed
// message, released when it goes out of scope.
//
// Build: c++ -std=c++17 ring.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

static int consumer(const std::string &name) {
    ipcx::ring r = ipcx::ring::open(name, IPCX_OPEN_READ);
    {
        ipcx::ring::borrowed first = r.borrow(5s);  // in place, zero-copy
        std::string_view text = first.data().as_string_view();
        std::printf("child borrowed: %.*s\n", static_cast<int>(text.size()), text.data());
    }  // released here
    for (;;) {
        struct pollfd p = {r.fd(), POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return 1;
        std::error_code ec;
        char buf[256];
        for (size_t n; n = r.recv(buf, ipcx::nowait, ec), !ec;)
            std::printf("child got: %.*s\n", static_cast<int>(n), buf);
        if (ec == ipcx::errc::closed) break;  // the producer is gone, the ring empty
        if (ec != ipcx::errc::timeout) {
            std::fprintf(stderr, "child: %s\n", ipcx::last_error());
            return 1;
        }
    }
    std::fflush(stdout);
    return 0;
}

int main() try {
    std::string name = "/ipcx-example-cpp-ring-" + std::to_string(getpid());
    ipcx::ring w = ipcx::ring::open(name, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
    pid_t pid = fork();
    if (pid == 0) {
        w.close();  // the child only consumes
        int rc = 1;
        try {
            rc = consumer(name);
        } catch (const ipcx::error &e) {
            std::fprintf(stderr, "child: %s\n", e.what());
        }
        _exit(rc);
    }
    {
        ipcx::ring::reservation res = w.reserve(64, 5s);  // room, written in place
        int n = std::snprintf(static_cast<char *>(res.data().data()), res.data().size(),
                              "written in place by %d", static_cast<int>(getpid()));
        res.commit(static_cast<size_t>(n));
    }
    for (const char *line : {"hello", "from", "the parent"}) w.send(line, 5s);
    w.close();  // the consumer sees errc::closed after the last message
    int status;
    waitpid(pid, &status, 0);
    ipcx::ring::remove(name);  // a named ring stays until removed, like a file
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
