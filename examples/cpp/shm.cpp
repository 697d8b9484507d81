/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): POSIX shared memory with the hand-off made explicit.
//
// The writer creates "/name", sizes it, maps it as a region and places two
// process-shared semaphores next to the record they guard: "free" (1) and "ready" (0).
// The reader is a child that opens the object by name, as an unrelated program would,
// and attaches to the semaphores. The writer waits for "free", writes, posts "ready";
// the reader waits for "ready", reads, posts "free".
//
// Then the other two kinds of shared memory, over fork, with the child's exit as the
// hand-off: a System V segment (private key, attached in both processes) and a file
// mapped shared by both.
//
// Build: c++ -std=c++17 shm.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
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

// A child writes `text` at offset 0 of `r` and exits; the parent reads it after the exit.
static bool child_writes(ipcx::region &r, const char *text) {
    pid_t pid = fork();
    if (pid == 0) {
        int rc = 0;
        try {
            r.write(0, ipcx::bytes(text, std::strlen(text) + 1));
        } catch (const ipcx::error &e) {
            std::fprintf(stderr, "child: %s\n", e.what());
            rc = 1;
        }
        _exit(rc);
    }
    int status;
    waitpid(pid, &status, 0);
    char got[64] = {};
    r.read(0, ipcx::mutable_bytes(got, sizeof got - 1));
    std::printf("parent read: %s\n", got);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && std::strcmp(got, text) == 0;
}

static bool segment_and_file() {
    // System V: a private segment; a forked child shares the attachment.
    ipcx::shm_segment seg = ipcx::shm_segment::open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE);
    ipcx::region sr = seg.map(0);
    seg.remove();  // marked now, destroyed with its last attachment
    bool ok = child_writes(sr, "through a System V segment");
    // A file mapped shared: created 0600 and sized by the call.
    std::string path = "/tmp/ipcx-example-cpp-shm-" + std::to_string(getpid());
    ipcx::region fr = ipcx::file::map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
    ok = child_writes(fr, "through a mapped file") && ok;
    unlink(path.c_str());
    return ok;
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
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    return segment_and_file() ? 0 : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
