/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx::ring across fork: copies, zero-copy through the reservation and borrowed
// guards (committed, aborted by a destructor, released by a destructor, safe after the
// ring is closed), named rings, the consumer's descriptor, stat().
#include "test.hpp"

#include <poll.h>

T_CASE(pair_across_fork) {
    ipcx::ring_pair p = ipcx::ring::pair();
    ipcx::ring &prod = p.producer, &cons = p.consumer;
    pid_t pid = t_child([&] {
        cons.close();
        for (uint32_t i = 0; i < 10000; i++) prod.send(ipcx::bytes(&i, sizeof i), 5s);
    });
    prod.close();
    for (uint32_t i = 0; i < 10000; i++) {
        uint32_t v = 0;
        T_EQ(cons.recv(ipcx::mutable_bytes(&v, sizeof v), 5s), sizeof v);
        T_EQ(v, i);
    }
    T_THROWS(ipcx::errc::closed, cons.recv(ipcx::mutable_bytes(), 5s));
    t_wait_ok(pid);
}

// Batches across fork: send_many in batches of 25, recv_many of up to 64 into one buffer;
// too_big with the size needed in the error_code form.
T_CASE(batches_across_fork) {
    ipcx::ring_pair p = ipcx::ring::pair();
    ipcx::ring &prod = p.producer, &cons = p.consumer;
    pid_t pid = t_child([&] {
        cons.close();
        uint64_t wide = 7;
        prod.send(ipcx::bytes(&wide, sizeof wide), 5s);
        uint32_t v[25];
        ipcx_iov iov[25];
        for (uint32_t i = 0; i < 10000; i += 25) {
            for (uint32_t k = 0; k < 25; k++) {
                v[k] = i + k;
                iov[k] = ipcx_iov{&v[k], sizeof v[k]};
            }
            T_EQ(prod.send_many(iov, 25, 5s), 25u);
        }
    });
    prod.close();
    alignas(8) unsigned char buf[512];
    ipcx_iov m[64];
    std::error_code ec;
    T_EQ(cons.recv_many(ipcx::mutable_bytes(buf, 4), m, 64, 5s, ec), 0u);
    T_ASSERT(ec == ipcx::errc::too_big && m[0].len == sizeof(uint64_t));
    int64_t next = -1;  // the wide message first, then 0..9999
    while (next < 10000) {
        size_t n = cons.recv_many(ipcx::mutable_bytes(buf, sizeof buf), m, 64, 5s);
        T_ASSERT(n >= 1 && n <= 64);
        for (size_t k = 0; k < n; k++, next++) {
            if (next < 0) {
                T_EQ(m[k].len, sizeof(uint64_t));
                continue;
            }
            uint32_t v;
            T_EQ(m[k].len, sizeof v);
            std::memcpy(&v, m[k].buf, sizeof v);
            T_EQ(int64_t(v), next);
        }
    }
    T_THROWS(ipcx::errc::closed, (void)cons.recv_many(ipcx::mutable_bytes(buf, sizeof buf), m, 64, 5s));
    t_wait_ok(pid);
}

T_CASE(zero_copy_guards) {
    ipcx::ring_pair p = ipcx::ring::pair();
    ipcx::ring &prod = p.producer, &cons = p.consumer;
    pid_t pid = t_child([&] {
        cons.close();
        {
            ipcx::ring::reservation r = prod.reserve(64, 5s);
            T_ASSERT(r && r.data().size() == 64);
            std::memcpy(r.data().data(), "in place", 8);
            r.commit(8);
            T_ASSERT(!r);
        }
        {
            ipcx::ring::reservation dropped = prod.reserve(16, 5s);
            std::memcpy(dropped.data().data(), "never seen", 10);
        }  // the destructor aborts it: nothing published
        {
            ipcx::ring::reservation r = prod.reserve(16, 5s);
            T_THROWS(ipcx::errc::in_use, prod.reserve(16, 5s));  // one per handle
            T_THROWS(ipcx::errc::invalid, r.commit(17));         // above it: kept
            ipcx::ring::reservation moved = std::move(r);
            std::memcpy(moved.data().data(), "moved", 5);
            moved.commit(5);
        }
        {
            ipcx::ring::reservation r = prod.reserve(4, 5s);
            r.abort();
            T_ASSERT(!r);
        }
        prod.send("last", 5s);
    });
    prod.close();
    const char *want[] = {"in place", "moved", "last"};
    for (const char *w : want) {
        ipcx::ring::borrowed b = cons.borrow(5s);
        T_ASSERT(b.data().as_string_view() == w);
        T_THROWS(ipcx::errc::in_use, cons.borrow(ipcx::nowait));  // one per handle
    }  // each released by its destructor
    T_THROWS(ipcx::errc::closed, cons.borrow(5s));
    t_wait_ok(pid);
}

T_CASE(guards_outlive_the_ring_safely) {
    ipcx::ring_pair p = ipcx::ring::pair();
    ipcx::ring::reservation r = p.producer.reserve(8, 1s);
    p.producer.close();  // aborts the reservation
    T_THROWS(ipcx::errc::bad_handle, r.commit(8));
    T_ASSERT(!r);
    ipcx::ring_pair q = ipcx::ring::pair();
    q.producer.send("x", 1s);
    ipcx::ring::borrowed b = q.consumer.borrow(1s);
    q.consumer.close();  // releases it
    std::error_code ec;
    b.release(ec);
    T_EC(ipcx::errc::bad_handle, ec);
    ipcx::ring::borrowed dangling = ipcx::ring::pair().consumer.borrow(ipcx::nowait, ec);
    T_EC(ipcx::errc::timeout, ec);
    T_ASSERT(!dangling);
}

T_CASE(named_ring_across_fork) {
    std::string name = t_posix_name("ring");
    t_track_shm(name);
    auto o = ipcx::options::create().set_capacity(1 << 14).set_spin(0ns);
    ipcx::ring cons = ipcx::ring::open(name, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o);
    ipcx_ring_info info = cons.stat();
    T_ASSERT(info.size == sizeof info && info.capacity == (1 << 14));
    T_EQ(info.flags, IPCX_OPEN_READ);
    int fd = cons.fd();
    pid_t pid = t_child([&] {
        cons.close();
        ipcx::ring prod = ipcx::ring::open(name, IPCX_OPEN_WRITE);  // by name
        for (int i = 0; i < 50; i++) prod.send(std::to_string(i), 5s);
    });
    int got = 0;
    char buf[64];
    while (got < 50) {
        struct pollfd pf = {fd, POLLIN, 0};
        T_ASSERT(poll(&pf, 1, 5000) == 1);
        for (;;) {
            std::error_code ec;
            size_t n = cons.recv(buf, ipcx::nowait, ec);
            if (ec == ipcx::errc::timeout || ec == ipcx::errc::closed) break;
            T_EC_OK(ec);
            T_ASSERT(std::string_view(buf, n) == std::to_string(got));
            got++;
        }
    }
    t_wait_ok(pid);
    ipcx::ring::remove(name);
    T_THROWS(ipcx::errc::not_found, ipcx::ring::remove(name));
    T_THROWS(ipcx::errc::invalid, ipcx::ring::open("no-slash", IPCX_OPEN_READ));
}

T_MAIN(T_ENTRY(pair_across_fork), T_ENTRY(batches_across_fork), T_ENTRY(zero_copy_guards),
       T_ENTRY(guards_outlive_the_ring_safely), T_ENTRY(named_ring_across_fork))
