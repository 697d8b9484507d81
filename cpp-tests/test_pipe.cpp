/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx::pipe and ipcx::fifo across fork: messages, raw bytes, duplex pairs, FIFOs by
// path, end of file and broken pipes in both error forms.
#include "test.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

// (The tests name pair members through references: C++17 lambdas cannot capture
// structured bindings.)
T_CASE(pair_round_trip_across_fork) {
    ipcx::pipe_pair p = ipcx::pipe::pair();
    ipcx::pipe &rd = p.read, &wr = p.write;
    pid_t pid = t_child([&] {
        wr.close();  // the child reads: its copy of the write end goes, or EOF never comes
        char buf[64];
        const char *want[] = {"one", "two", "three"};
        for (const char *w : want) {
            size_t n = rd.recv(buf, 5s);
            T_ASSERT(std::string_view(buf, n) == w);
        }
        T_THROWS(ipcx::errc::closed, rd.recv(buf, 5s));  // every writer gone
        std::error_code ec;
        (void)rd.recv(buf, 5s, ec);
        T_EC(ipcx::errc::closed, ec);
    });
    rd.close();
    for (const char *m : {"one", "two", "three"}) wr.send(m, 5s);
    wr.close();
    t_wait_ok(pid);
}

T_CASE(broken_pipe_is_closed_not_sigpipe) {
    auto [rd, wr] = ipcx::pipe::pair();
    rd.close();
    T_THROWS(ipcx::errc::closed, wr.send("x", 1s));
    std::error_code ec;
    (void)wr.write("raw", 1s, ec);
    T_EC(ipcx::errc::closed, ec);
}

T_CASE(raw_bytes_and_settings) {
    auto [rd, wr] = ipcx::pipe::pair();
    T_EQ(wr.write("abcdef", 1s), 6);
    char buf[4];
    size_t n = rd.read(buf, 1s);
    T_ASSERT(n >= 1 && n <= 4 && buf[0] == 'a');
    size_t cap = wr.capacity();
    T_ASSERT(cap >= 4096);
    size_t got = wr.set_capacity(2 * cap);
    T_ASSERT(got >= 2 * cap);
    T_EQ(wr.capacity(), got);
    ipcx::pipe_fds rf = rd.fds(), wf = wr.fds();
    T_ASSERT(rf.read >= 0 && rf.write == -1 && wf.read == -1 && wf.write >= 0);
    // The write end's descriptor is writable; the read end's readable (bytes left).
    struct pollfd p[2] = {{rf.read, POLLIN, 0}, {wf.write, POLLOUT, 0}};
    T_EQ(poll(p, 2, 1000), 2);
    wr.flush(1s);  // nothing pending: returns at once
    std::error_code ec;
    (void)wr.read(buf, ipcx::nowait, ec);  // not a read end
    T_EC(ipcx::errc::invalid, ec);
    (void)wr.write("", 1s, ec);  // raw writes need bytes
    T_EC(ipcx::errc::invalid, ec);
}

T_CASE(duplex_echo_across_fork) {
    ipcx::pipe_pair p = ipcx::pipe::pair(IPCX_PIPE_DUPLEX);
    ipcx::pipe &a = p.read, &b = p.write;
    pid_t pid = t_child([&] {
        a.close();
        char buf[32];
        for (;;) {
            std::error_code ec;
            size_t n = b.recv(buf, 5s, ec);
            if (ec == ipcx::errc::closed) break;
            T_EC_OK(ec);
            b.send(ipcx::bytes(buf, n), 5s);
        }
    });
    b.close();
    char buf[32];
    for (std::string m : {"ping", "pong", ""}) {
        a.send(m, 5s);
        size_t n = a.recv(buf, 5s);
        T_ASSERT(std::string_view(buf, n) == m);
    }
    a.close();
    t_wait_ok(pid);
}

T_CASE(fifo_by_path_across_fork) {
    std::string path = t_path("fifo");
    ipcx::fifo::make(path);
    T_THROWS(ipcx::errc::exists, ipcx::fifo::make(path));
    // A writer waits for a reader, never less than its timeout.
    T_TIMES_OUT(100, ipcx::fifo::open(path, IPCX_OPEN_WRITE, {}, 100ms));
    auto rd = ipcx::fifo::open(path, IPCX_OPEN_READ, {}, ipcx::nowait);
    pid_t pid = t_child([&] {
        rd.close();
        auto wr = ipcx::fifo::open(path, IPCX_OPEN_WRITE, {}, 5s);  // an unrelated writer would do the same
        for (int i = 0; i < 10; i++) wr.send(std::to_string(i), 5s);
    });  // wr closed here, in the child
    char buf[16];
    for (int i = 0; i < 10; i++) {
        size_t n = rd.recv(buf, 5s);
        T_ASSERT(std::string_view(buf, n) == std::to_string(i));
    }
    T_THROWS(ipcx::errc::closed, rd.recv(buf, 5s));
    t_wait_ok(pid);
    ipcx::fifo::remove(path);
    T_THROWS(ipcx::errc::not_found, ipcx::fifo::remove(path));
    std::error_code ec;
    auto none = ipcx::fifo::open(path, IPCX_OPEN_READ, {}, ipcx::nowait, ec);
    T_EC(ipcx::errc::not_found, ec);
    T_ASSERT(!none);
}

T_CASE(fifo_refuses_other_files) {
    std::string path = t_path("plain");
    FILE *f = fopen(path.c_str(), "w");
    T_ASSERT(f != nullptr);
    fclose(f);
    T_THROWS(ipcx::errc::exists, ipcx::fifo::remove(path));  // only a FIFO is removed
    T_THROWS(ipcx::errc::exists, ipcx::fifo::open(path, IPCX_OPEN_READ, {}, ipcx::nowait));
    T_ASSERT(unlink(path.c_str()) == 0);
    std::error_code ec;
    auto p = ipcx::fifo::open(path, IPCX_OPEN_READ | IPCX_OPEN_WRITE, {}, ipcx::nowait, ec);
    T_EC(ipcx::errc::invalid, ec);  // exactly one role
    T_ASSERT(!p);
}

// ipcx::pipe::adopt: raw pipe(2) ends become owning handles on each side of a fork.
T_CASE(adopt_raw_pipe_ends_across_fork) {
    int fds[2];
    T_ASSERT(::pipe(fds) == 0);
    pid_t pid = t_child([&] {
        ::close(fds[1]);
        ipcx::pipe rd = ipcx::pipe::adopt(fds[0], -1);
        char buf[16];
        size_t n = rd.recv(buf, 5s);
        T_ASSERT(std::string_view(buf, n) == "adopted");
    });
    ::close(fds[0]);
    {
        std::error_code ec;
        ipcx::pipe bad = ipcx::pipe::adopt(fds[1], -1, 0, {}, ec);  // a write end to read
        T_EC(ipcx::errc::invalid, ec);
        T_ASSERT(!bad);
        T_THROWS(ipcx::errc::invalid, ipcx::pipe::adopt(-1, -1));
    }
    ipcx::pipe wr = ipcx::pipe::adopt(-1, fds[1]);
    T_EQ(wr.fds().write, fds[1]);
    wr.send("adopted", 5s);
    wr.close();  // closes fds[1]: the child sees the end
    T_ASSERT(fcntl(fds[1], F_GETFD) < 0);
    t_wait_ok(pid);
}

T_CASE(send_many_across_fork) {
    ipcx::pipe_pair p = ipcx::pipe::pair();
    ipcx::pipe &rd = p.read, &wr = p.write;
    pid_t pid = t_child([&] {
        wr.close();
        char buf[64];
        for (const char *w : {"alpha", "", "gamma", "delta"}) {
            size_t n = rd.recv(buf, 5s);
            T_ASSERT(std::string_view(buf, n) == w);  // whole, separate, in order
        }
        T_THROWS(ipcx::errc::closed, rd.recv(buf, 5s));
    });
    rd.close();
    ipcx_iov msgs[] = {{"alpha", 5}, {nullptr, 0}, {"gamma", 5}};
    T_EQ(wr.send_many(msgs, 3, 5s), 3u);
    std::error_code ec;
    ipcx_iov bad[] = {{"delta", 5}, {nullptr, 3}};  // a NULL buffer with a length
    T_EQ(wr.send_many(bad, 2, 5s, ec), 0u);
    T_EC(ipcx::errc::invalid, ec);  // checked first: nothing was sent
    T_EQ(wr.send_many(bad, 1, 5s, ec), 1u);
    T_EC_OK(ec);
    wr.close();
    t_wait_ok(pid);
}

T_MAIN(T_ENTRY(pair_round_trip_across_fork), T_ENTRY(send_many_across_fork), T_ENTRY(broken_pipe_is_closed_not_sigpipe),
       T_ENTRY(raw_bytes_and_settings), T_ENTRY(duplex_echo_across_fork),
       T_ENTRY(fifo_by_path_across_fork), T_ENTRY(fifo_refuses_other_files),
       T_ENTRY(adopt_raw_pipe_ends_across_fork))
