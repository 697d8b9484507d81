/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx::chan across fork: unnamed pairs, named transports with several senders, the
// receiver's descriptor drained with nowait in the std::error_code form, stat().
#include "test.hpp"

#include <poll.h>

// One sender in a child; the receiver counts every message, then sees the sender go.
static void pair_round_trip(const char *address) {
    ipcx::chan_pair p = ipcx::chan::pair(address);
    ipcx::chan &tx = p.send, &rx = p.recv;
    pid_t pid = t_child([&] {
        rx.close();
        for (int i = 0; i < 100; i++) tx.send(std::to_string(i), 5s);
    });
    tx.close();
    char buf[16];
    for (int i = 0; i < 100; i++) {
        size_t n = rx.recv(buf, 5s);
        T_ASSERT(std::string_view(buf, n) == std::to_string(i));
    }
    T_THROWS(ipcx::errc::closed, rx.recv(buf, 5s));
    t_wait_ok(pid);
}

T_CASE(send_many_over_a_pair) {
    ipcx::chan_pair p = ipcx::chan::pair("unix:");
    ipcx::chan &tx = p.send, &rx = p.recv;
    ipcx_iov msgs[] = {{"one", 3}, {"two", 3}, {"three", 5}};
    pid_t pid = t_child([&] {
        char buf[16];
        for (const char *w : {"one", "two", "three"}) {
            size_t n = rx.recv(buf, 5s);
            T_ASSERT(std::string_view(buf, n) == w);
        }
    });
    T_EQ(tx.send_many(msgs, 3, 5s), 3u);
    std::error_code ec;
    T_EQ(rx.send_many(msgs, 3, 5s, ec), 0u);  // a receiver does not send
    T_EC(ipcx::errc::invalid, ec);
    t_wait_ok(pid);
}

T_CASE(pairs_across_fork) {
    pair_round_trip("pipe:");
    pair_round_trip("unix:");
    pair_round_trip("shm:");
}

// A receiver at `address`, three senders in children opening the address stat() gives.
static void named_round_trip(const std::string &address, uint32_t transport) {
    ipcx::chan rx = ipcx::chan::open(address, IPCX_OPEN_READ | IPCX_CHAN_MULTI_SENDER, {},
                                     ipcx::nowait);
    ipcx_chan_info info = rx.stat();
    T_EQ(info.transport, transport);
    T_EQ(info.role, IPCX_OPEN_READ);
    T_ASSERT(info.created && info.address != nullptr);
    std::string sender_address = info.address;
    pid_t pids[3];
    for (int s = 0; s < 3; s++) {
        pids[s] = t_child([&, s] {
            rx.close();  // a child's close of an inherited receiver removes nothing
            ipcx::chan tx = ipcx::chan::open(sender_address,
                                             IPCX_OPEN_WRITE | IPCX_CHAN_MULTI_SENDER, {}, 5s);
            T_EQ(tx.stat().role, IPCX_OPEN_WRITE);
            for (int i = 0; i < 20; i++) tx.send(std::to_string(s * 100 + i), 5s);
        });
    }
    int fd = rx.fd();
    int got = 0, seen[3] = {0, 0, 0};
    char buf[8192];
    while (got < 60) {
        struct pollfd p = {fd, POLLIN, 0};
        T_ASSERT(poll(&p, 1, 5000) == 1);
        for (;;) {  // edge-triggered use: drain until nowait times out
            std::error_code ec;
            size_t n = rx.recv(buf, ipcx::nowait, ec);
            if (ec == ipcx::errc::timeout || ec == ipcx::errc::closed) break;
            T_EC_OK(ec);
            int v = std::stoi(std::string(buf, n));
            T_EQ(v % 100, seen[v / 100]);  // each sender's order holds
            seen[v / 100]++;
            got++;
        }
    }
    for (pid_t pid : pids) t_wait_ok(pid);
}

T_CASE(named_transports_many_senders) {
    named_round_trip("unix:" + t_path("chan"), IPCX_CHAN_UNIX);
    named_round_trip("unix:@" + t_posix_name("chan").substr(1), IPCX_CHAN_UNIX_ABSTRACT);
    named_round_trip("tcp:127.0.0.1:0", IPCX_CHAN_TCP);
    std::string mq = t_posix_name("chan");
    t_track_mq(mq);
    named_round_trip("mq:" + mq, IPCX_CHAN_MQ);
    std::string shm = t_posix_name("chan");
    t_track_shm(shm);
    named_round_trip("shm:" + shm, IPCX_CHAN_SHM);
}

T_CASE(chan_errors_both_forms) {
    std::string path = t_path("nothing");
    T_TIMES_OUT(100, ipcx::chan::open("fifo:" + path, IPCX_OPEN_WRITE, {}, 100ms));
    std::error_code ec;
    auto c = ipcx::chan::open("fifo:" + path, IPCX_OPEN_WRITE | IPCX_CHAN_NO_CREATE, {},
                              ipcx::nowait, ec);
    T_EC(ipcx::errc::invalid, ec);  // NO_CREATE is for receivers
    T_ASSERT(!c);
    T_THROWS(ipcx::errc::invalid, ipcx::chan::open("unix-abstract:x", IPCX_OPEN_READ, {}, 0ms));
    T_THROWS(ipcx::errc::invalid, ipcx::chan::pair("tcp:127.0.0.1:0"));  // named: use open
    ipcx::chan_pair p = ipcx::chan::pair("pipe:", 0, ipcx::options::create().set_max_message(8));
    T_THROWS(ipcx::errc::too_big, p.send.send("123456789", 1s));
    T_ASSERT(p.send.fd() >= 0);  // a sender's descriptor polls writable when there is room
    T_EQ(p.send.fd_events(), IPCX_CHAN_POLL_OUT);
    T_EQ(p.recv.fd_events(), IPCX_CHAN_POLL_IN);
    p.send.flush(ipcx::nowait);  // nothing kept
    T_THROWS(ipcx::errc::invalid, p.recv.flush(ipcx::nowait));  // receivers do not send
    {
        ipcx::chan_pair ring = ipcx::chan::pair("shm:");
        T_ASSERT(ring.send.fd() >= 0);  // the ring's room descriptor: readable when room
        T_EQ(ring.send.fd_events(), IPCX_CHAN_POLL_IN);
    }
    p.send.send("12345678", 1s);
    char small[2];
    size_t n = p.recv.recv(small, 1s, ec);
    T_EC(ipcx::errc::too_big, ec);
    T_EQ(n, 8);
    char buf[8];
    T_EQ(p.recv.recv(buf, 1s), 8);
}

T_MAIN(T_ENTRY(pairs_across_fork), T_ENTRY(send_many_over_a_pair), T_ENTRY(named_transports_many_senders),
       T_ENTRY(chan_errors_both_forms))
