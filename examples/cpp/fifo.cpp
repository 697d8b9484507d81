/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): a named pipe (FIFO) between processes that share only its path.
//
// The server creates the FIFO and reads; clients open it by name and write. Messages of
// up to IPCX_FIFO_ATOMIC_MAX bytes from several clients never interleave; atomic mode
// (an options object) makes the library refuse larger ones.
//
// Build: c++ -std=c++17 fifo.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

int main() try {
    std::string path = "/tmp/ipcx-example-cpp-" + std::to_string(getpid()) + ".fifo";
    // Create (mode 0600) and read; KEEP_OPEN: no end of file between clients.
    ipcx::pipe server = ipcx::fifo::open(
        path, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_FIFO_KEEP_OPEN, {}, ipcx::nowait);
    auto atomic = ipcx::options::create().set_atomic(true);
    for (int c = 0; c < 3; c++) {
        if (fork() == 0) {  // a client: knows nothing but the path
            std::error_code ec;
            ipcx::pipe w = ipcx::fifo::open(path, IPCX_OPEN_WRITE, atomic, 5s, ec);
            if (!ec) w.send("hello from client " + std::to_string(c), 5s, ec);
            if (ec) std::fprintf(stderr, "client %d: %s\n", c, ipcx::last_error());
            _exit(ec ? 1 : 0);  // the descriptors close with the process
        }
    }
    for (int i = 0; i < 3; i++) {
        char buf[IPCX_FIFO_ATOMIC_MAX];
        size_t n = server.recv(buf, 5s);
        std::printf("server got: %.*s\n", static_cast<int>(n), buf);
    }
    int failed = 0, st;
    while (wait(&st) > 0) failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    server.close();
    ipcx::fifo::remove(path);  // only ever removes a FIFO
    return failed;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
