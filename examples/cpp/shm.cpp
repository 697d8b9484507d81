/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): POSIX shared memory with the hand-off made explicit.
//
// The writer creates "/name", sizes it, maps it as a region and places two
// process-shared semaphores next to the record they guard: "free" (1) and "ready" (0).
// The reader is a child that opens the object by name, as an unrelated program would,
// and attaches to the semaphores. The writer waits for "free", writes, posts "ready";
// the reader waits for "ready", reads, posts "free".
//
// Build: c++ -std=c++17 shm.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

struct record {
    int seq;
    char text[60];
};

// Layout: [sem ready][sem free][record]
constexpr size_t READY = 0, FREE = IPCX_SEM_SIZE, DATA = 2 * IPCX_SEM_SIZE;

static int reader(const std::string &name) {
    ipcx::shm s = ipcx::shm::open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE);
    ipcx::region r = s.map(0);
    ipcx::sem ready = ipcx::sem::attach(r, READY), free_ = ipcx::sem::attach(r, FREE);
    for (int i = 0; i < 3; i++) {
        ready.wait(5s);
        record rec;
        r.read(DATA, ipcx::mutable_bytes(&rec, sizeof rec));
        std::printf("reader: #%d %s\n", rec.seq, rec.text);
        free_.post();
    }
    std::fflush(stdout);
    return 0;
}

int main() try {
    std::string name = "/ipcx-example-cpp-shm-" + std::to_string(getpid());
    ipcx::shm s = ipcx::shm::open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);  // mode 0600
    s.set_size(DATA + sizeof(record));
    ipcx::region r = s.map(0);
    ipcx::sem ready = ipcx::sem::init(r, READY, 0), free_ = ipcx::sem::init(r, FREE, 1);
    pid_t pid = fork();
    if (pid == 0) {
        int rc = 1;
        try {
            rc = reader(name);
        } catch (const ipcx::error &e) {
            std::fprintf(stderr, "reader: %s\n", e.what());
        }
        _exit(rc);
    }
    for (int i = 0; i < 3; i++) {
        free_.wait(5s);
        record rec{i, {}};
        std::snprintf(rec.text, sizeof rec.text, "written by %d", static_cast<int>(getpid()));
        r.write(DATA, ipcx::bytes(&rec, sizeof rec));
        ready.post();
    }
    int status;
    waitpid(pid, &status, 0);
    ready.destroy();
    free_.destroy();
    ipcx::shm::remove(name);  // the memory goes with the last mapping
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
