/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx::sock and ipcx::sock_listener across fork: pairs, Unix and TCP listeners,
// datagrams with their sender, descriptor passing into unique_fd owners (truncation
// included), addresses as strings, shutdown, errors in both forms.
#include "test.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

T_CASE(pair_echo_across_fork) {
    ipcx::sock_pair p = ipcx::sock::pair();
    ipcx::sock &a = p.a, &b = p.b;
    pid_t pid = t_child([&] {
        a.close();
        char buf[64];
        for (;;) {
            std::error_code ec;
            size_t n = b.recv(buf, 5s, ec);
            if (ec == ipcx::errc::closed) break;
            T_EC_OK(ec);
            b.send(ipcx::bytes(buf, n), 5s);
        }
    });
    b.close();
    char buf[64];
    for (std::string m : {std::string("hello"), std::string(), std::string(60, 'z')}) {
        a.send(m, 5s);
        T_ASSERT(std::string_view(buf, a.recv(buf, 5s)) == m);
    }
    ipcx::credentials c = a.peer_credentials();
    T_EQ(c.pid, getpid());  // the process that made the pair
    T_EQ(c.uid, getuid());
    T_ASSERT(a.local_address().empty());  // an unnamed Unix socket
    T_ASSERT(a.fd() >= 0);
    a.close();
    t_wait_ok(pid);
}

T_CASE(descriptors_change_hands) {
    ipcx::sock_pair p = ipcx::sock::pair();
    ipcx::sock &a = p.a, &b = p.b;
    int fds[2];
    T_ASSERT(::pipe(fds) == 0);
    pid_t pid = t_child([&] {
        a.close();
        char buf[16];
        ipcx::fds_message m = b.recv_fds(buf, 4, 5s);
        T_ASSERT(std::string_view(buf, m.size) == "take this" && !m.truncated);
        T_EQ(m.fds.size(), 1);
        // The received descriptor is the pipe's write end: write through it.
        T_EQ(::write(m.fds[0].get(), "via fd", 6), 6);
        // Three descriptors, room for one: the message and one arrive (errc::limit is a
        // result here, not an exception); the others are closed by ipcx, this one by
        // its unique_fd.
        m = b.recv_fds(buf, 1, 5s);
        T_ASSERT(m.truncated && m.fds.size() == 1 && m.size == 5);
        std::error_code ec;
        m = b.recv_fds(buf, 1, 5s, ec);
        T_EC(ipcx::errc::limit, ec);
        T_ASSERT(m.truncated && m.fds.size() == 1);
    });  // the child's unique_fds close here
    b.close();
    a.send_fds("take this", ipcx::span<const int>(&fds[1], 1), 5s);
    int three[3] = {fds[0], fds[1], fds[0]};
    a.send_fds("three", three, 5s);
    a.send_fds("again", three, 5s);
    char buf[8];
    T_EQ(::read(fds[0], buf, sizeof buf), 6);
    T_ASSERT(std::memcmp(buf, "via fd", 6) == 0);
    t_wait_ok(pid);
    close(fds[0]);
    close(fds[1]);
    std::error_code ec;
    a.send_fds("none", {}, 1s, ec);  // at least one descriptor
    T_EC(ipcx::errc::invalid, ec);
}

T_CASE(unix_listener_across_fork) {
    std::string path = t_path("sock");
    ipcx::sock_listener l = ipcx::sock_listener::listen_unix(path);
    T_ASSERT(l.address() == path);
    T_ASSERT(l.fd() >= 0);
    T_TIMES_OUT(50, l.accept(50ms));
    T_THROWS(ipcx::errc::in_use, ipcx::sock_listener::listen_unix(path));  // a live socket
    pid_t pid = t_child([&] {
        l.close();  // the child's copy: the file stays (the parent created it)
        ipcx::sock s = ipcx::sock::connect_unix(path, 0, {}, 5s);
        T_ASSERT(s.peer_address() == path);
        s.send("from the child", 5s);
        char buf[32];
        T_ASSERT(std::string_view(buf, s.recv(buf, 5s)) == "answer");
    });
    ipcx::sock c = l.accept(5s);
    char buf[32];
    T_ASSERT(std::string_view(buf, c.recv(buf, 5s)) == "from the child");
    c.send("answer", 5s);
    t_wait_ok(pid);
    l.close();  // removes the socket file it created
    T_ASSERT(access(path.c_str(), F_OK) != 0);
    T_THROWS(ipcx::errc::not_found, ipcx::sock::connect_unix(path, 0, {}, 1s));
    // The seqpacket type through the flags.
    std::string abstract = "@" + t_posix_name("seq").substr(1);
    ipcx::sock_listener sl = ipcx::sock_listener::listen_unix(abstract, IPCX_SOCK_SEQPACKET);
    ipcx::sock sc = ipcx::sock::connect_unix(abstract, IPCX_SOCK_SEQPACKET, {}, 1s);
    ipcx::sock ss = sl.accept(1s);
    T_THROWS(ipcx::errc::invalid, sc.send("", 1s));  // no empty seqpacket record
}

T_CASE(tcp_across_fork) {
    ipcx::sock_listener l = ipcx::sock_listener::listen_tcp("127.0.0.1:0");
    std::string addr = l.address();
    T_ASSERT(addr.rfind("127.0.0.1:", 0) == 0 && addr != "127.0.0.1:0");
    pid_t pid = t_child([&] {
        l.close();
        ipcx::sock s = ipcx::sock::connect_tcp(addr, {}, 5s);
        s.set_nodelay(false);
        T_EQ(s.write("raw bytes", 5s), 9);
        s.shutdown(IPCX_SOCK_SHUT_WR);  // the peer reads end of file
        char buf[8];
        T_THROWS(ipcx::errc::closed, s.read(buf, 5s));
    });
    ipcx::sock c = l.accept(5s);
    T_ASSERT(c.local_address() == addr);
    std::string got;
    char buf[4];
    for (;;) {
        std::error_code ec;
        size_t n = c.read(buf, 5s, ec);
        if (ec == ipcx::errc::closed) break;
        T_EC_OK(ec);
        got.append(buf, n);
    }
    T_ASSERT(got == "raw bytes");
    c.close();
    t_wait_ok(pid);
    T_THROWS(ipcx::errc::invalid, ipcx::sock::connect_tcp("no port", {}, 1s));
}

T_CASE(datagrams_with_their_sender) {
    ipcx::sock rx = ipcx::sock::bind_udp("127.0.0.1:0");
    std::string to = rx.local_address();
    pid_t pid = t_child([&] {
        rx.close();
        ipcx::sock tx = ipcx::sock::bind_udp("127.0.0.1:0");
        tx.sendto("datagram", to, 5s);
        ipcx::sock cu = ipcx::sock::connect_udp(to);
        cu.send("connected", 5s);
    });
    char buf[16];
    ipcx::datagram d = rx.recvfrom(buf, 5s);
    T_ASSERT(std::string_view(buf, d.size) == "datagram");
    T_ASSERT(d.from.rfind("127.0.0.1:", 0) == 0);
    d = rx.recvfrom(buf, 5s);
    T_ASSERT(std::string_view(buf, d.size) == "connected");
    t_wait_ok(pid);
    // Unix datagrams: a named socket and one with an automatic abstract name.
    std::string path = t_path("dgram");
    ipcx::sock named = ipcx::sock::bind_unix(path);
    ipcx::sock anon = ipcx::sock::bind_unix_auto();
    std::string anon_name = anon.local_address();
    T_ASSERT(!anon_name.empty() && anon_name[0] == '@');
    anon.sendto("hi", path, 1s);
    d = named.recvfrom(buf, 1s);
    T_ASSERT(std::string_view(buf, d.size) == "hi" && d.from == anon_name);
    named.sendto("back", d.from, 1s);
    T_ASSERT(std::string_view(buf, anon.recv(buf, 1s)) == "back");
    // Too big: nothing consumed, the size needed in the std::error_code form.
    anon.sendto("0123456789", path, 1s);
    std::error_code ec;
    d = named.recvfrom(ipcx::mutable_bytes(buf, 4), 1s, ec);
    T_EC(ipcx::errc::too_big, ec);
    T_EQ(d.size, 10);
    d = named.recvfrom(buf, 1s);
    T_EQ(d.size, 10);
    T_THROWS(ipcx::errc::not_found, anon.sendto("x", path + ".none", 1s));
}

// ipcx::sock::adopt: the ends of a raw socketpair become owning handles across fork.
T_CASE(adopt_raw_socketpair_across_fork) {
    int sv[2];
    T_ASSERT(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    pid_t pid = t_child([&] {
        ::close(sv[0]);
        ipcx::sock c = ipcx::sock::adopt(sv[1], IPCX_SOCK_STREAM);
        char buf[16];
        size_t n = c.recv(buf, 5s);
        c.send(std::string_view(buf, n), 5s);
    });
    ::close(sv[1]);
    std::error_code ec;
    ipcx::sock bad = ipcx::sock::adopt(sv[0], IPCX_SOCK_DGRAM, {}, ec);  // it is a stream
    T_EC(ipcx::errc::invalid, ec);
    T_ASSERT(!bad);
    ipcx::sock s = ipcx::sock::adopt(sv[0]);
    T_EQ(s.fd(), sv[0]);
    s.send("echo", 5s);
    char buf[16];
    size_t n = s.recv(buf, 5s);
    T_ASSERT(std::string_view(buf, n) == "echo");
    t_wait_ok(pid);
}

// ipcx::sock::connect_tcp_start, a poll for writability, connect_finish: a TCP connect that
// never blocks the caller.
T_CASE(connect_tcp_start_then_finish) {
    ipcx::sock_listener l = ipcx::sock_listener::listen_tcp("127.0.0.1:0");
    std::string addr = l.address();
    ipcx::sock s = ipcx::sock::connect_tcp_start(addr);
    T_THROWS(ipcx::errc::invalid, s.send("early", 1s));  // not finished yet
    pollfd pf{};
    pf.fd = s.fd();
    pf.events = POLLOUT;
    T_EQ(poll(&pf, 1, 5000), 1);
    s.connect_finish();
    ipcx::sock c = l.accept(5s);
    s.send("hi", 5s);
    char buf[8];
    T_EQ(c.recv(buf, 5s), 2);
    std::error_code ec;
    ipcx::sock n = ipcx::sock::connect_tcp_start("localhost:1", {}, ec);
    T_EC(ipcx::errc::invalid, ec);  // names are refused: the resolver cannot be bounded
    T_ASSERT(!n);
}

T_MAIN(T_ENTRY(pair_echo_across_fork), T_ENTRY(descriptors_change_hands),
       T_ENTRY(unix_listener_across_fork), T_ENTRY(tcp_across_fork),
       T_ENTRY(datagrams_with_their_sender), T_ENTRY(adopt_raw_socketpair_across_fork),
       T_ENTRY(connect_tcp_start_then_finish))
