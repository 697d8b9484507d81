/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): find the IPC objects a crashed ipcx program left behind.
//
// A child creates a POSIX shared memory object and dies by SIGKILL before it can remove
// it. A dry-run clean lists it as stale (ipcx's own, its creator dead, nothing mapped);
// the program then removes exactly that object by kind and name.
//
// Build: c++ -std=c++17 inspect.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main() try {
    std::string name = "/ipcx-example-cpp-" + std::to_string(getpid());
    int ready[2];
    if (pipe(ready) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {  // creates the object, then "crashes" while holding it
        std::error_code ec;
        ipcx::shm s = ipcx::shm::open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, {}, ec);
        if (!ec) s.set_size(4096, ec);
        if (ec || write(ready[1], "x", 1) != 1) _exit(1);
        pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1) return 1;
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(ready[0]);
    close(ready[1]);

    bool found = false;
    ipcx::object_list list = ipcx::inspect::clean({}, IPCX_INSPECT_DRY_RUN);  // what would go?
    for (size_t i = 0; i < list.count(); i++) {
        ipcx_object_info o = list.at(i);  // o.name lives as long as the list
        if (o.kind == IPCX_OBJECT_POSIX_SHM && name == o.name) {
            std::printf("stale %s %s: %llu bytes, creator %d %s, %lld attached\n",
                        ipcx::object_kind_name(o.kind), o.name,
                        static_cast<unsigned long long>(o.bytes), static_cast<int>(o.creator_pid),
                        o.creator_alive ? "alive" : "dead", static_cast<long long>(o.attached));
            found = true;
        }
    }
    // Remove exactly that one (never an object ipcx did not create, without
    // IPCX_INSPECT_FOREIGN).
    ipcx::inspect::remove(IPCX_OBJECT_POSIX_SHM, name);
    std::printf("removed %s\n", name.c_str());
    return found ? 0 : 1;
} catch (const ipcx::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
