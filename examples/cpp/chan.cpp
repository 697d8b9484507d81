/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): one channel API, every transport; changing transport is changing the
// string.
//
// A consumer opens the receiving end; three producers (forked, but they could be
// unrelated programs) open senders at the address stat() reports and send a few
// messages; the consumer receives them all.
//
//   example_cpp_chan                      (a few transports)
//   example_cpp_chan unix:/tmp/jobs.sock  (any address)
//
// Build: c++ -std=c++17 chan.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

constexpr int PRODUCERS = 3, MESSAGES = 5;

static bool run(const std::string &address) {
    // The receiver creates the object; MULTI_SENDER matters for shm: (a ring for several
    // producers), the other transports always allow it.
    ipcx::chan rx = ipcx::chan::open(address, IPCX_OPEN_READ | IPCX_CHAN_MULTI_SENDER, {},
                                     ipcx::nowait);
    std::string to = rx.stat().address;  // tcp:...:0 becomes the real port
    for (int p = 0; p < PRODUCERS; p++) {
        if (fork() == 0) {
            std::error_code ec;
            ipcx::chan tx =
                ipcx::chan::open(to, IPCX_OPEN_WRITE | IPCX_CHAN_MULTI_SENDER, {}, 5s, ec);
            for (int i = 0; i < MESSAGES && !ec; i++)
                tx.send("producer " + std::to_string(p) + ", message " + std::to_string(i), 5s, ec);
            if (ec) std::fprintf(stderr, "producer %d: %s\n", p, ipcx::last_error());
            _exit(ec ? 1 : 0);
        }
    }
    int got = 0, ended = 0;
    bool ok = true;
    char buf[8192];
    while (got < PRODUCERS * MESSAGES) {
        std::error_code ec;
        size_t n = rx.recv(buf, 5s, ec);
        if (ec == ipcx::errc::closed) {  // the producers so far all left
            // Stop once every producer has ended: one that failed sends nothing more.
            int st;
            for (; ended < PRODUCERS && waitpid(-1, &st, WNOHANG) > 0; ended++)
                ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
            if (ended == PRODUCERS) break;
            usleep(1000);
            continue;
        }
        if (ec) {
            std::fprintf(stderr, "%s: %s\n", address.c_str(), ipcx::last_error());
            ok = false;
            break;
        }
        if (got++ == 0)
            std::printf("%-32s first: \"%.*s\"", address.c_str(), static_cast<int>(n), buf);
    }
    for (int st; ended < PRODUCERS && wait(&st) > 0; ended++)
        ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    std::printf(", %d messages\n", got);
    return ok && got == PRODUCERS * MESSAGES;  // rx removes what it created
}

int main(int argc, char **argv) try {
    if (argc > 1) return run(argv[1]) ? 0 : 1;
    std::string pid = std::to_string(getpid());
    bool ok = true;
    for (const std::string &a : {"fifo:/tmp/ipcx-example-cpp-chan-" + pid,
                                 "unix:/tmp/ipcx-example-cpp-chan-" + pid + ".sock",
                                 std::string("tcp:127.0.0.1:0"), "mq:/ipcx-example-cpp-chan-" + pid,
                                 "shm:/ipcx-example-cpp-chan-" + pid})
        ok = run(a) && ok;
    return ok ? 0 : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
