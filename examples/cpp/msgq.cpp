/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): message queues.
//
// A POSIX queue orders by priority (highest first) and has a descriptor to poll; a System
// V queue carries independent channels by message type. Both outlive the processes that
// use them: the names and ids are removed explicitly.
//
// Build: c++ -std=c++17 msgq.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

int main() try {
    // POSIX: the child sends three messages by name, the parent receives by priority.
    std::string name = "/ipcx-example-cpp-" + std::to_string(getpid());
    auto o = ipcx::options::create().set_max_messages(8).set_max_message(128);
    ipcx::mq q = ipcx::mq::open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o);
    pid_t pid = fork();
    if (pid == 0) {
        std::error_code ec;
        ipcx::mq w = ipcx::mq::open(name, IPCX_OPEN_WRITE, {}, ec);
        for (auto [text, prio] : {std::pair{"routine", 1u}, {"urgent", 9u}, {"normal", 5u}})
            if (!ec) w.send(text, prio, 5s, ec);
        _exit(ec ? 1 : 0);
    }
    waitpid(pid, nullptr, 0);
    char buf[128];  // at least the queue's message size (q.stat().message_size)
    for (int i = 0; i < 3; i++) {
        ipcx::mq_message m = q.recv(buf, 5s);
        std::printf("mq: priority %u: %.*s\n", m.priority, static_cast<int>(m.size), buf);
    }
    ipcx::mq::remove(name);

    // System V: a private queue shared across fork; a reader of type 2 never sees type 1.
    ipcx::msgq sq = ipcx::msgq::open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE);
    pid = fork();
    if (pid == 0) {
        std::error_code ec;
        sq.send("for type 1", 1, 5s, ec);
        if (!ec) sq.send("for type 2", 2, 5s, ec);
        _exit(ec ? 1 : 0);
    }
    ipcx::msgq_message m = sq.recv(buf, 2, 0, 5s);
    std::printf("msgq: type %ld: %.*s\n", m.type, static_cast<int>(m.size), buf);
    m = sq.recv(buf, 0, 0, 5s);
    std::printf("msgq: type %ld: %.*s (%zu left)\n", m.type, static_cast<int>(m.size), buf,
                sq.stat().messages);
    waitpid(pid, nullptr, 0);
    sq.remove();  // System V queues stay in the kernel until removed
    return 0;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
