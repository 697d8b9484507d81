/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): sockets.
//
// A Unix stream listener at a path: a child connects by name and asks; the parent
// answers, checks who is calling (the kernel's credentials) and hands the child an open
// descriptor, which arrives owned by an ipcx::unique_fd. Then the same conversation over
// TCP on a port the kernel picks.
//
// Build: c++ -std=c++17 sock.cpp $(pkg-config --cflags --libs ipcx)
#include <ipcx.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

static int client(const std::string &path, const std::string &tcp) {
    char buf[64];
    ipcx::sock s = ipcx::sock::connect_unix(path, 0, {}, 5s);
    s.send("what time is it?", 5s);
    ipcx::fds_message m = s.recv_fds(buf, 1, 5s);
    std::printf("client: \"%.*s\" and %zu descriptor(s)\n", static_cast<int>(m.size), buf,
                m.fds.size());
    std::fflush(stdout);
    if (m.fds.size() == 1) {
        const char line[] = "client: written through the descriptor I was given\n";
        if (write(m.fds[0].get(), line, sizeof line - 1) < 0) return 1;
    }  // m.fds closes it
    ipcx::sock t = ipcx::sock::connect_tcp(tcp, {}, 5s);
    t.send("and over TCP?", 5s);
    std::printf("client: \"%.*s\"\n", static_cast<int>(t.recv(buf, 5s)), buf);
    std::fflush(stdout);
    return 0;
}

int main() try {
    std::string path = "/tmp/ipcx-example-cpp-" + std::to_string(getpid()) + ".sock";
    ipcx::sock_listener unix_l = ipcx::sock_listener::listen_unix(path);  // mode 0600
    ipcx::sock_listener tcp_l = ipcx::sock_listener::listen_tcp("127.0.0.1:0");
    std::string tcp = tcp_l.address();  // the port the kernel chose
    pid_t pid = fork();
    if (pid == 0) {
        int rc = 1;
        try {
            rc = client(path, tcp);
        } catch (const ipcx::error &e) {
            std::fprintf(stderr, "client: %s\n", e.what());
        }
        _exit(rc);
    }
    char buf[64];
    ipcx::sock c = unix_l.accept(5s);
    ipcx::credentials who = c.peer_credentials();
    std::printf("server: \"%.*s\" from pid %d (uid %u)\n", static_cast<int>(c.recv(buf, 5s)), buf,
                static_cast<int>(who.pid), who.uid);
    int out = STDOUT_FILENO;
    c.send_fds("here is stdout", ipcx::span<const int>(&out, 1), 5s);  // the caller keeps its own
    ipcx::sock t = tcp_l.accept(5s);
    size_t n = t.recv(buf, 5s);
    std::printf("server: \"%.*s\" from %s\n", static_cast<int>(n), buf, t.peer_address().c_str());
    t.send("yes", 5s);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
} catch (const ipcx::error &e) {  // the listener removes its socket file when it goes
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
