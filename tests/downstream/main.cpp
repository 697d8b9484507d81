/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// A minimal C++ consumer: a pipe across fork through the installed ipcx.hpp, reached
// through the same ipcx::ipcx target (or pkg-config) as ipcx.h.
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main() try {
    using namespace std::chrono_literals;
    auto [r, w] = ipcx::pipe::pair();
    pid_t p = fork();
    if (p == 0) {
        r.close();
        std::error_code ec;
        w.send("downstream", 5s, ec);
        _exit(ec ? 1 : 0);
    }
    w.close();
    char buf[32];
    size_t len = r.recv(buf, 5s);
    int st = 0;
    waitpid(p, &st, 0);
    if (std::string_view(buf, len) != "downstream" || st != 0) return 1;
    std::printf("ipcx %s (C++): ok\n", ipcx::version());
    return 0;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "consumer failed: %s\n", e.what());
    return 1;
}
