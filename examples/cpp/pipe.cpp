/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): a pipe between parent and child.
//
// The parent makes the pipe, forks, and each side closes the end it does not use: the
// parent writes, the child reads until end of file. The objects close their handles when
// they go out of scope; errors are exceptions (ipcx::error) unless a std::error_code is
// passed, which the child does to treat end of file as the normal end of its loop.
//
// Build: c++ -std=c++17 pipe.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

using namespace std::chrono_literals;

int main() try {
    auto [rd, wr] = ipcx::pipe::pair();
    pid_t pid = fork();
    if (pid == 0) {  // the child reads
        wr.close();  // or end of file never comes
        char buf[256];
        for (;;) {
            std::error_code ec;
            size_t n = rd.recv(buf, 5s, ec);
            if (ec == ipcx::errc::closed) break;  // the parent closed its end
            if (ec) {
                std::fprintf(stderr, "child: %s\n", ipcx::last_error());
                _exit(1);
            }
            std::printf("child got: %.*s\n", static_cast<int>(n), buf);
        }
        std::fflush(stdout);
        _exit(0);
    }
    rd.close();  // the parent writes
    for (const char *line : {"hello", "from", "the parent"}) wr.send(line, ipcx::forever);
    wr.close();
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());  // "ipcx_pipe_send: ...: <description>"
    return 1;
}
