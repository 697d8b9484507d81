/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): a semaphore as a lock across fork, and a robust mutex whose owner dies.
//
// Four children add to one counter in an anonymous shared region, each increment between
// P and V on a semaphore placed in the same region. Then a child dies (SIGKILL) holding a
// robust mutex: the next lock() returns ipcx::lock_result::owner_dead (a result, never an
// exception: the caller holds the lock), the data is repaired and the mutex marked
// consistent. Last, a System V semaphore taken with SEM_UNDO is given back by the kernel
// when its holder is killed.
//
// Build: c++ -std=c++17 sem.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

using namespace std::chrono_literals;

// Region layout: slots of the published sizes, then the data.
constexpr size_t SEM_AT = 0, MUTEX_AT = IPCX_SEM_SIZE, DATA_AT = IPCX_SEM_SIZE + IPCX_MUTEX_SIZE;

int main() try {
    ipcx::region r = ipcx::region::create(4096);
    auto *counter = reinterpret_cast<volatile long *>(static_cast<char *>(r.base().data()) + DATA_AT);

    ipcx::sem sem = ipcx::sem::init(r, SEM_AT, 1);  // value 1: a lock
    for (int c = 0; c < 4; c++) {
        if (fork() == 0) {  // children inherit the region and the handle
            std::error_code ec;
            for (int i = 0; i < 10000 && !ec; i++) {
                sem.wait(5s, ec);  // P
                if (ec) break;
                *counter = *counter + 1;
                sem.post(ec);  // V
            }
            _exit(ec ? 1 : 0);
        }
    }
    while (wait(nullptr) > 0) {
    }
    std::printf("counter = %ld (expected 40000)\n", *counter);
    sem.destroy();  // the semaphore; the object closes the handle

    ipcx::mutex m = ipcx::mutex::init(r, MUTEX_AT);
    if (fork() == 0) {
        (void)m.lock(ipcx::forever);
        *counter = -1;   // halfway through an update...
        raise(SIGKILL);  // ...and gone
    }
    wait(nullptr);
    if (m.lock(5s) == ipcx::lock_result::owner_dead) {
        std::printf("previous owner died: repairing\n");
        *counter = 40000;
        m.consistent();  // without this, unlock makes the mutex unusable
    }
    m.unlock();

    ipcx::semset set = ipcx::semset::open(IPCX_KEY_PRIVATE, 1, {1},
                                          IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, {}, ipcx::nowait);
    pid_t pid = fork();
    if (pid == 0) {
        std::error_code ec;
        set.p(0, IPCX_SEMSET_UNDO, 5s, ec);
        pause();  // killed while holding it
    }
    while (set.get_value(0) != 0) usleep(1000);  // taken
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    int32_t v = set.get_value(0);
    std::printf("System V semaphore after its holder was killed: %d (SEM_UNDO gave it back)\n", v);
    set.remove();  // System V sets outlive processes
    long final = v == 1 ? *counter : -1;
    std::printf("counter = %ld after recovery\n", final);
    m.destroy();
    return final == 40000 ? 0 : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
