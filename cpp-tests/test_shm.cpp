/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Shared memory and what lives in it, across fork: ipcx::region, ipcx::shm,
// ipcx::shm_segment, ipcx::file::map, ipcx::sem, ipcx::semset, ipcx::mutex (owner death
// returned, not thrown) and ipcx::cond (a timeout returned with the mutex held).
#include "test.hpp"

#include <atomic>
#include <csignal>

T_CASE(region_across_fork) {
    ipcx::region r = ipcx::region::create(4096);
    ipcx::mutable_bytes mem = r.base();
    T_ASSERT(mem.data() != nullptr && mem.size() == 4096);
    ipcx_region_info info = r.stat();
    T_ASSERT(info.size == sizeof info && info.kind == IPCX_REGION_ANONYMOUS && info.writable);
    pid_t pid = t_child([&] {
        r.write(100, "from the child");
        std::memcpy(static_cast<char *>(mem.data()) + 200, "raw", 3);
    });
    t_wait_ok(pid);
    char buf[14];
    r.read(100, buf);
    T_ASSERT(std::string_view(buf, 14) == "from the child");
    T_ASSERT(std::memcmp(static_cast<char *>(mem.data()) + 200, "raw", 3) == 0);
    T_THROWS(ipcx::errc::invalid, r.write(4090, "beyond the end"));
    std::error_code ec;
    r.read(4095, buf, ec);
    T_EC(ipcx::errc::invalid, ec);
    r.sync(0, 4096, 0);
    r.set_checked_copies(false);
}

T_CASE(posix_shm_across_fork) {
    std::string name = t_posix_name("shm");
    t_track_shm(name);
    ipcx::shm s = ipcx::shm::open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
    T_THROWS(ipcx::errc::exists, ipcx::shm::open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE));
    T_THROWS(ipcx::errc::invalid, s.map(0));  // empty: size it first
    s.set_size(8192);
    T_EQ(s.size(), 8192);
    ipcx::region r = s.map(IPCX_OPEN_READ | IPCX_OPEN_WRITE);
    s.close();  // the region is independent of the handle
    r.write(0, "posix");
    T_EQ(r.stat().kind, IPCX_REGION_POSIX);
    pid_t pid = t_child([&] {
        ipcx::shm ro = ipcx::shm::open(name, IPCX_OPEN_READ);  // by name
        ipcx::region v = ro.map(IPCX_OPEN_READ);
        T_ASSERT(!v.stat().writable);
        char buf[5];
        v.read(0, buf);
        T_ASSERT(std::string_view(buf, 5) == "posix");
        T_THROWS(ipcx::errc::permission, v.write(0, "x"));
        T_THROWS(ipcx::errc::permission, ro.set_size(1));
    });
    t_wait_ok(pid);
    ipcx::shm::remove(name);
    T_THROWS(ipcx::errc::not_found, ipcx::shm::remove(name));
}

T_CASE(sysv_segment_across_fork) {
    ipcx::shm_segment seg = ipcx::shm_segment::open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE);
    int32_t id = seg.id();
    t_track_sysv_shm(id);
    ipcx::region r = seg.map(0);
    T_EQ(r.stat().kind, IPCX_REGION_SYSV);
    ipcx_shm_segment_info info = seg.stat();
    T_ASSERT(info.size == sizeof info && info.id == id && info.segment_size == 4096);
    T_EQ(info.attach_count, 1);
    pid_t pid = t_child([&] {
        ipcx::shm_segment s2 = ipcx::shm_segment::open_id(id);
        ipcx::region r2 = s2.map(0);
        r2.write(0, "sysv");
    });
    t_wait_ok(pid);
    char buf[4];
    r.read(0, buf);
    T_ASSERT(std::string_view(buf, 4) == "sysv");
    seg.remove();
    T_ASSERT(seg.stat().removed);  // still attached here
    T_THROWS(ipcx::errc::removed, seg.map(0));
    std::error_code ec;
    seg.remove(ec);
    T_EC(ipcx::errc::removed, ec);
}

T_CASE(file_mapping) {
    std::string path = t_path("map");
    ipcx::region a = ipcx::file::map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
    a.write(10, "file bytes");
    a.sync(0, 4096, 0);
    ipcx::region b = ipcx::file::map(path, 0, IPCX_OPEN_READ);  // the whole file
    T_EQ(b.stat().len, 4096);
    T_EQ(b.stat().kind, IPCX_REGION_FILE);
    char buf[10];
    b.read(10, buf);
    T_ASSERT(std::string_view(buf, 10) == "file bytes");
    // Another process maps the same file by path and sees the same bytes.
    pid_t pid = t_child([&] {
        ipcx::region c = ipcx::file::map(path, 4096, IPCX_OPEN_READ | IPCX_OPEN_WRITE);
        char got[10];
        c.read(10, got);
        T_ASSERT(std::string_view(got, 10) == "file bytes");
        c.write(100, "child");
    });
    t_wait_ok(pid);
    a.read(100, ipcx::mutable_bytes(buf, 5));
    T_ASSERT(std::string_view(buf, 5) == "child");
    T_THROWS(ipcx::errc::exists, ipcx::file::map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE));
    T_ASSERT(unlink(path.c_str()) == 0);
    T_THROWS(ipcx::errc::not_found, ipcx::file::map(path, 0, IPCX_OPEN_READ));
}

T_CASE(semaphores_across_fork) {
    ipcx::region r = ipcx::region::create(4096);
    ipcx::sem s = ipcx::sem::init(r, 0, 1);
    T_THROWS(ipcx::errc::exists, ipcx::sem::init(r, 0, 1));
    auto *counter = static_cast<volatile long *>(
        static_cast<void *>(static_cast<char *>(r.base().data()) + 1024));
    pid_t pids[4];
    for (pid_t &p : pids) {
        p = t_child([&] {
            for (int i = 0; i < 2000; i++) {
                s.wait(5s);  // P
                *counter = *counter + 1;
                s.post();  // V
            }
        });
    }
    for (pid_t p : pids) t_wait_ok(p);
    T_EQ(*counter, 8000);
    T_EQ(s.value(), 1);
    ipcx::sem a = ipcx::sem::attach(r, 0);
    a.wait(ipcx::nowait);
    T_TIMES_OUT(50, s.wait(50ms));
    s.destroy();
    T_THROWS(ipcx::errc::removed, a.post());  // through any handle
    // Named and thread-only semaphores.
    std::string name = t_posix_name("sem");
    t_track_sem(name);
    ipcx::sem n = ipcx::sem::open(name, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
    pid_t pid = t_child([&] { ipcx::sem::open(name, 0, 0).post(); });
    n.wait(5s);
    t_wait_ok(pid);
    ipcx::sem::remove(name);
    ipcx::sem t = ipcx::sem::create(0);
    t.post();
    t.wait(ipcx::nowait);
    std::error_code ec;
    t.wait(ipcx::nowait, ec);
    T_EC(ipcx::errc::timeout, ec);
    (void)ipcx::sem::create(-1, ec);
    T_EC(ipcx::errc::invalid, ec);
}

T_CASE(semset_across_fork) {
    ipcx::semset set = ipcx::semset::open(IPCX_KEY_PRIVATE, 2, {1, 0},
                                          IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, {},
                                          ipcx::nowait);
    ipcx::semset_id sid = set.id();
    t_track_sysv_sem(sid.id);
    T_EQ(sid.nsems, 2);
    int32_t vals[2];
    T_EQ(set.get_all(vals), 2);
    T_ASSERT(vals[0] == 1 && vals[1] == 0);
    // A child takes semaphore 0 with SEM_UNDO and is killed holding it: the kernel gives
    // it back.
    pid_t pid = t_child([&] {
        set.p(0, IPCX_SEMSET_UNDO, 5s);
        set.v(1, 0);
        pause();
    });
    set.p(1, 0, 5s);  // the child holds 0 now
    T_EQ(set.get_value(0), 0);
    T_EQ(set.pid(0), pid);
    kill(pid, SIGKILL);
    t_wait(pid, 5000);
    T_EQ(set.get_value(0), 1);
    // Atomic operations: both or none.
    T_THROWS(ipcx::errc::timeout, set.op({{0, -1, 0}, {1, -1, 0}}, ipcx::nowait));
    T_EQ(set.get_value(0), 1);
    set.op({{0, -1, 0}, {1, 2, 0}}, ipcx::nowait);
    set.set_all({3, 4});
    set.set_value(0, 7);
    T_EQ(set.get_all(vals), 2);
    T_ASSERT(vals[0] == 7 && vals[1] == 4);
    ipcx::semset_waiters w = set.waiters(0);
    T_ASSERT(w.ncnt == 0 && w.zcnt == 0);
    std::error_code ec;
    int32_t one[1];
    T_EQ(set.get_all(one, ec), 2);  // too small: the count needed
    T_EC(ipcx::errc::too_big, ec);
    set.set_all({1}, ec);
    T_EC(ipcx::errc::invalid, ec);  // one value per semaphore
    set.remove();
    T_THROWS(ipcx::errc::removed, set.v(0, 0));
}

T_CASE(mutex_owner_death_is_a_result) {
    ipcx::region r = ipcx::region::create(4096);
    ipcx::mutex m = ipcx::mutex::init(r, 0);
    pid_t pid = t_child([&] {
        T_ASSERT(m.lock(5s) == ipcx::lock_result::acquired);
        raise(SIGKILL);  // dies holding it
    });
    t_wait(pid, 5000);
    // Not thrown: the lock is held.
    T_ASSERT(m.lock(5s) == ipcx::lock_result::owner_dead);
    m.consistent();
    m.unlock();
    T_THROWS(ipcx::errc::permission, m.unlock());  // not held: an error, not UB
    // The std::error_code form reports it as the C status, also with the lock held.
    pid = t_child([&] {
        ipcx::mutex a = ipcx::mutex::attach(r, 0);
        (void)a.lock(5s);
        raise(SIGKILL);
    });
    t_wait(pid, 5000);
    std::error_code ec;
    T_ASSERT(m.lock(5s, ec) == ipcx::lock_result::owner_dead);
    T_EC(ipcx::errc::owner_dead, ec);
    m.consistent();
    // Held by another process: the try-lock throws errc::timeout.
    std::atomic<int> *flag = new (static_cast<char *>(r.base().data()) + 2048) std::atomic<int>(0);
    m.unlock();
    pid = t_child([&] {
        (void)m.lock(5s);
        flag->store(1);
        while (flag->load() != 2) usleep(1000);
        m.unlock();
    });
    while (flag->load() != 1) usleep(1000);
    T_THROWS(ipcx::errc::timeout, m.lock(ipcx::nowait));
    T_TIMES_OUT(30, m.lock(30ms));
    flag->store(2);
    t_wait_ok(pid);
    T_ASSERT(m.lock(ipcx::nowait) == ipcx::lock_result::acquired);
    // Closing while this thread holds it: the C library keeps the handle (errc::in_use)
    // and so does the object.
    T_ASSERT(m.close() == ipcx::errc::in_use);
    T_ASSERT(static_cast<bool>(m));
    m.unlock();
    m.destroy();
    T_THROWS(ipcx::errc::removed, m.lock(ipcx::nowait));
}

T_CASE(cond_across_fork) {
    ipcx::region r = ipcx::region::create(4096);
    ipcx::mutex m = ipcx::mutex::init(r, 0);
    ipcx::cond c = ipcx::cond::init(r, IPCX_MUTEX_ALIGN);
    auto *ready = static_cast<volatile int *>(
        static_cast<void *>(static_cast<char *>(r.base().data()) + 1024));
    (void)m.lock(5s);
    pid_t pid = t_child([&] {
        ipcx::mutex cm = ipcx::mutex::attach(r, 0);
        ipcx::cond cc = ipcx::cond::attach(r, IPCX_MUTEX_ALIGN);
        (void)cm.lock(5s);
        *ready = 1;
        cc.signal();
        cm.unlock();
    });
    while (*ready == 0) T_ASSERT(c.wait(m, 5s) != ipcx::wait_result::timeout);
    // A timeout is a result: the mutex is held again.
    T_ASSERT(c.wait(m, 20ms) == ipcx::wait_result::timeout);
    m.unlock();  // held: no error
    t_wait_ok(pid);
    T_THROWS(ipcx::errc::permission, c.wait(m, 20ms));  // without the mutex: thrown
    c.broadcast();
    c.destroy();
    T_THROWS(ipcx::errc::removed, c.signal());
}

T_CASE(region_trap_keeps_checked_copies_safe) {
#if !defined(__x86_64__) && !defined(__aarch64__)
    T_THROWS(ipcx::errc::unsupported, ipcx::region_trap_install());  // no copy routine here
    return;
#endif
    std::string name = t_posix_name("trap");
    t_track_shm(name);
    ipcx::shm s = ipcx::shm::open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
    s.set_size(2 * 4096);
    ipcx::region r = s.map(IPCX_OPEN_READ | IPCX_OPEN_WRITE);
    r.write(4096, "second page");
    pid_t pid = t_child([&] {  // the trap is process-wide: install it in a child
        signal(SIGBUS, SIG_DFL);
        T_THROWS(ipcx::errc::invalid, ipcx::region_trap_install(1));
        ipcx::region_trap_install();
        char buf[11];
        r.read(4096, buf);
        T_ASSERT(std::string_view(buf, 11) == "second page");
        s.set_size(4096);  // the second page is gone
        T_THROWS(ipcx::errc::removed, r.read(4096, buf));
        std::error_code ec;
        r.write(4096, "x", ec);
        T_EC(ipcx::errc::removed, ec);
        ipcx::region_trap_remove();
    });
    t_wait_ok(pid);
    r.close();
    s.close();
    ipcx::shm::remove(name);
}

T_MAIN(T_ENTRY(region_across_fork), T_ENTRY(region_trap_keeps_checked_copies_safe), T_ENTRY(posix_shm_across_fork),
       T_ENTRY(sysv_segment_across_fork), T_ENTRY(file_mapping), T_ENTRY(semaphores_across_fork),
       T_ENTRY(semset_across_fork), T_ENTRY(mutex_owner_death_is_a_result),
       T_ENTRY(cond_across_fork))
