/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx::mq (POSIX queues) and ipcx::msgq (System V queues) across fork: priorities,
// types, stat structs with their size set by the wrapper, notification, removal.
#include "test.hpp"

#include <poll.h>

T_CASE(mq_priorities_across_fork) {
    std::string name = t_posix_name("mq");
    t_track_mq(name);
    auto o = ipcx::options::create().set_max_messages(8).set_max_message(64);
    ipcx::mq q = ipcx::mq::open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o);
    ipcx_mq_info info = q.stat();
    T_EQ(info.size, sizeof info);
    T_ASSERT(info.max_messages == 8 && info.message_size == 64 && info.messages == 0);
    pid_t pid = t_child([&] {
        q.close();
        ipcx::mq w = ipcx::mq::open(name, IPCX_OPEN_WRITE);  // by name, as an unrelated process
        w.send("low", 1, 5s);
        w.send("high", 9, 5s);
        w.send("mid", 5, 5s);
    });
    t_wait_ok(pid);
    char buf[64];
    const char *order[] = {"high", "mid", "low"};
    uint32_t prio[] = {9, 5, 1};
    for (int i = 0; i < 3; i++) {
        ipcx::mq_message m = q.recv(buf, 5s);
        T_ASSERT(std::string_view(buf, m.size) == order[i]);
        T_EQ(m.priority, prio[i]);
    }
    T_TIMES_OUT(50, q.recv(buf, 50ms));
    std::error_code ec;
    ipcx::mq_message m = q.recv(ipcx::mutable_bytes(buf, 8), ipcx::nowait, ec);
    T_EC(ipcx::errc::too_big, ec);  // below the message size: the size needed
    T_EQ(m.size, 64);
    ipcx::mq::remove(name);
    T_THROWS(ipcx::errc::not_found, ipcx::mq::remove(name));
}

T_CASE(mq_descriptors_and_notification) {
    std::string name = t_posix_name("mqn");
    t_track_mq(name);
    ipcx::mq q = ipcx::mq::open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE);
    ipcx::mq::remove(name);  // the queue lives while open
    struct pollfd out = {q.fd(), POLLOUT, 0};
    T_EQ(poll(&out, 1, 1000), 1);  // room
    int nfd = q.notify();
    pid_t pid = t_child([&] {
        std::error_code ec;
        (void)q.notify(ec);  // the parent's registration: not the child's to take
        T_EC(ipcx::errc::invalid, ec);
        q.send("ping", 0, 5s);  // an inherited handle sends
    });
    struct pollfd in = {nfd, POLLIN, 0};
    T_EQ(poll(&in, 1, 5000), 1);  // fired: a message on the empty queue
    T_EQ(q.notify(), nfd);        // re-arm first (consumes the event), then drain
    char buf[8192];
    ipcx::mq_message m = q.recv(buf, ipcx::nowait);
    T_ASSERT(std::string_view(buf, m.size) == "ping");
    t_wait_ok(pid);
    q.notify_cancel();
    // Non-blocking mode: an empty queue fails at once, whatever the timeout.
    q.set_nonblocking(true);
    T_ASSERT(q.stat().nonblocking);
    double t0 = t_now_ms();
    T_THROWS(ipcx::errc::timeout, q.recv(buf, 5s));
    T_ASSERT(t_now_ms() - t0 < 1000);
}

T_CASE(msgq_types_across_fork) {
    ipcx::msgq q = ipcx::msgq::open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE);
    int32_t id = q.id();
    t_track_sysv_msq(id);
    pid_t pid = t_child([&] {
        q.close();
        ipcx::msgq c = ipcx::msgq::open_id(id);  // as an unrelated process would
        c.send("type two", 2, 5s);
        c.send("type one", 1, 5s);
    });
    t_wait_ok(pid);
    char buf[32];
    ipcx::msgq_message m = q.recv(buf, 1, 0, 5s);  // a reader of type 1 never sees type 2
    T_ASSERT(std::string_view(buf, m.size) == "type one" && m.type == 1);
    m = q.recv(buf, 0, 0, 5s);
    T_ASSERT(std::string_view(buf, m.size) == "type two" && m.type == 2);
    T_TIMES_OUT(30, q.recv(buf, 0, 0, 30ms));
    q.send("0123456789", 3, 1s);
    std::error_code ec;
    m = q.recv(ipcx::mutable_bytes(buf, 4), 3, 0, ipcx::nowait, ec);
    T_EC(ipcx::errc::too_big, ec);
    T_EQ(m.size, 10);
    m = q.recv(ipcx::mutable_bytes(buf, 4), 3, IPCX_MSGQ_TRUNCATE, ipcx::nowait);
    T_EQ(m.size, 4);
    ipcx_msgq_info info = q.stat();
    T_EQ(info.size, sizeof info);
    T_ASSERT(info.id == id && info.messages == 0 && info.mode == 0600);
    ipcx::msgq_limits lim = ipcx::msgq::limits();
    T_ASSERT(lim.msgmax > 0 && lim.msgmnb > 0 && lim.msgmni > 0);
    q.set_max_bytes(1024);
    T_EQ(q.stat().max_bytes, 1024);
    T_THROWS(ipcx::errc::invalid, q.send("x", 0, 1s));  // mtype must be > 0
    q.remove();  // System V queues outlive their handles
}

T_CASE(msgq_removal_wakes_a_waiter) {
    ipcx::msgq q = ipcx::msgq::open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE);
    t_track_sysv_msq(q.id());
    pid_t pid = t_child([&] {
        char buf[8];
        T_THROWS(ipcx::errc::removed, q.recv(buf, 0, 0, ipcx::forever));
    });
    usleep(50 * 1000);
    q.remove();  // the handle stays open
    t_wait_ok(pid);
    std::error_code ec;
    q.remove(ec);
    T_EC(ipcx::errc::removed, ec);
    T_THROWS(ipcx::errc::not_found, ipcx::msgq::open(0x7ffffff1, 0));
}

T_MAIN(T_ENTRY(mq_priorities_across_fork), T_ENTRY(mq_descriptors_and_notification),
       T_ENTRY(msgq_types_across_fork), T_ENTRY(msgq_removal_wakes_a_waiter))
