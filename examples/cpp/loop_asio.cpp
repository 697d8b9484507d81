/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Example (C++): Boost.Asio io_contexts drive a channel sender and a channel receiver,
// and both ends of a ring, through posix::stream_descriptor::async_wait.
//
// The same exchange as loop_epoll.c: the parent sends MESSAGES messages to a forked echo
// process over one channel and receives the echoes over another. async_wait(wait_read)
// on the receiver's descriptor: receive with ipcx::nowait until errc::timeout.
// An async_wait on the sender's, only while it waits for room (back-pressure: the echo
// process starts late), for the event chan::fd_events() gives: wait_write, or wait_read
// for a shm: sender, whose descriptor is the ring's room descriptor. With nothing more to
// send, flush until it succeeds. Only async_wait is used: the descriptors stay the
// channels' (Asio never reads or writes them, and release() keeps it from closing them).
//
// Then a ring across fork, an io_context in each process: async_wait(wait_read) on the
// producer's ring::fd() (its room descriptor: readable when room may be there) and on the
// consumer's (readable when a message may be there; the consumer starts late, so the
// ring fills).
//
//   example_cpp_loop_asio              (pipe:, unix: and shm: pairs, and a ring)
//   example_cpp_loop_asio shm:         (one of them; "ring" for the ring)
//
// Build: c++ -std=c++17 loop_asio.cpp $(pkg-config --cflags --libs ipcx) -pthread
#include <ipcx.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;
namespace asio = boost::asio;

constexpr int MESSAGES = 300;
constexpr size_t SIZE = 4000;

[[noreturn]] static void echo(ipcx::chan &in, ipcx::chan &out) {
    usleep(20000);  // start late: the parent meets back-pressure
    static std::array<char, SIZE> buf;
    std::error_code ec;
    for (;;) {
        size_t n = in.recv(buf, 5s, ec);
        if (ec) break;
        out.send(ipcx::bytes(buf.data(), n), 5s, ec);
        if (ec) break;
    }
    if (ec != ipcx::errc::closed) std::fprintf(stderr, "echo: %s\n", ipcx::last_error());
    in.close();
    out.close();
    _exit(ec == ipcx::errc::closed ? 0 : 1);
}

class loop {
public:
    loop(asio::io_context &io, ipcx::chan &tx, ipcx::chan &rx)
        : tx_(tx),
          rx_(rx),
          txd_(io, tx.fd()),
          rxd_(io, rx.fd()),
          guard_(io, 5s),
          tx_wait_(tx.fd_events() == IPCX_CHAN_POLL_IN
                       ? asio::posix::stream_descriptor::wait_read
                       : asio::posix::stream_descriptor::wait_write) {}

    ~loop() {
        // The descriptors are the channels': keep Asio from closing them.
        if (txd_.is_open()) (void)txd_.release();
        (void)rxd_.release();
    }

    void start() {
        guard_.async_wait([this](const boost::system::error_code &e) {
            if (!e) fail("nothing happened for 5 s");
        });
        wait_readable();
        pump();
    }

    bool ok() const { return ok_ && received_ == MESSAGES; }
    int received() const { return received_; }
    int waits() const { return waits_; }
    const char *tx_wait() const {
        return tx_wait_ == asio::posix::stream_descriptor::wait_read ? "wait_read" : "wait_write";
    }

private:
    void fail(const char *why) {
        std::fprintf(stderr, "%s: %s\n", why, ipcx::last_error());
        ok_ = false;
        stop();
    }

    void stop() {
        guard_.cancel();
        rxd_.cancel();
        if (txd_.is_open()) txd_.cancel();
    }

    // Send while there is room; then wait for writability, or stop watching.
    void pump() {
        std::error_code ec;
        for (; sent_ < MESSAGES; sent_++) {
            msg_.fill(static_cast<char>('a' + sent_ % 26));
            tx_.send(msg_, ipcx::nowait, ec);
            if (ec) break;
        }
        if (!ec && !flushed_) {
            tx_.flush(ipcx::nowait, ec);  // the rest of the last message
            flushed_ = !ec;
        }
        if (ec == ipcx::errc::timeout) {
            waits_++;
            txd_.async_wait(tx_wait_, [this](const boost::system::error_code &e) {
                if (!e) pump();
            });
        } else if (ec) {
            fail("send");
        }
    }

    void wait_readable() {
        rxd_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const boost::system::error_code &e) {
                            if (!e) on_readable();
                        });
    }

    void on_readable() {
        for (;;) {
            std::error_code ec;
            size_t n = rx_.recv(got_, ipcx::nowait, ec);
            if (ec == ipcx::errc::timeout) return wait_readable();
            if (ec == ipcx::errc::closed) return stop();  // the echo process is gone
            if (ec || n != SIZE || got_[0] != 'a' + received_ % 26) return fail("receive");
            if (++received_ == MESSAGES) {
                // Every message came back: close the sender so that the echo process ends.
                (void)txd_.release();
                tx_.close();
            }
        }
    }

    ipcx::chan &tx_, &rx_;
    asio::posix::stream_descriptor txd_, rxd_;
    asio::steady_timer guard_;
    asio::posix::stream_descriptor::wait_type tx_wait_;
    std::array<char, SIZE> msg_{}, got_{};
    int sent_ = 0, received_ = 0, waits_ = 0;
    bool flushed_ = false, ok_ = true;
};

static bool run(const std::string &kind) {
    auto o = ipcx::options::create().set_capacity(16384);  // back-pressure soon
    ipcx::chan_pair out = ipcx::chan::pair(kind, 0, o);
    ipcx::chan_pair back = ipcx::chan::pair(kind, 0, o);
    pid_t pid = fork();
    if (pid == 0) {
        out.send.close();
        back.recv.close();
        echo(out.recv, back.send);
    }
    out.recv.close();
    back.send.close();
    bool ok;
    int received, waits;
    const char *how;
    {
        asio::io_context io;
        loop l(io, out.send, back.recv);
        l.start();
        io.run();
        ok = l.ok();
        received = l.received();
        waits = l.waits();
        how = l.tx_wait();
    }
    out.send.close();  // (when the loop stopped early)
    int st = 0;
    waitpid(pid, &st, 0);
    std::printf("%-6s %d messages of %zu bytes sent and echoed through a Boost.Asio "
                "io_context; the sender waited for room (%s) %d times\n",
                kind.c_str(), received, SIZE, how, waits);
    return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// ------------------------------------------------------------------ a ring

// One end of a ring and its io_context: the producer sends until the ring is full (that
// send arms the room descriptor) and waits for it to be readable; the consumer receives
// until nothing is left (that receive re-arms its descriptor) and waits likewise. Asio
// registers descriptors edge-triggered: both only wait after a call said errc::timeout.
class ring_end {
public:
    ring_end(asio::io_context &io, ipcx::ring &r) : r_(r), fd_(io, r.fd()), guard_(io, 5s) {}
    ~ring_end() { (void)fd_.release(); }  // the ring's descriptor

    bool run_producer(asio::io_context &io) { return run(io, [this] { produce(); }); }
    bool run_consumer(asio::io_context &io) { return run(io, [this] { consume(); }); }
    int count() const { return n_; }
    int waits() const { return waits_; }

private:
    template <class F> bool run(asio::io_context &io, F first) {
        guard_.async_wait([this](const boost::system::error_code &e) {
            if (!e) done(false, "nothing happened for 5 s");
        });
        first();
        io.run();
        return ok_;
    }

    void done(bool ok, const char *why = "") {
        if (!ok) std::fprintf(stderr, "ring: %s: %s\n", why, ipcx::last_error());
        ok_ = ok;
        guard_.cancel();
        fd_.cancel();
    }

    template <class F> void wait(F next) {
        waits_++;
        fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                       [this, next](const boost::system::error_code &e) {
                           if (!e) (this->*next)();
                       });
    }

    void produce() {
        std::error_code ec;
        for (; n_ < MESSAGES; n_++) {
            buf_.fill(static_cast<char>('a' + n_ % 26));
            r_.send(buf_, ipcx::nowait, ec);
            if (ec == ipcx::errc::timeout) return wait(&ring_end::produce);  // full
            if (ec) return done(false, "send");
        }
        done(true);  // everything sent
    }

    void consume() {
        for (;;) {
            std::error_code ec;
            size_t len = r_.recv(buf_, ipcx::nowait, ec);
            if (ec == ipcx::errc::timeout) return wait(&ring_end::consume);  // empty
            if (ec == ipcx::errc::closed) return done(n_ == MESSAGES, "producer gone early");
            if (ec || len != SIZE || buf_[0] != 'a' + n_ % 26) return done(false, "receive");
            n_++;
        }
    }

    ipcx::ring &r_;
    asio::posix::stream_descriptor fd_;
    asio::steady_timer guard_;
    std::array<char, SIZE> buf_{};
    int n_ = 0, waits_ = 0;
    bool ok_ = false;
};

static bool ring() {
    ipcx::ring_pair p = ipcx::ring::pair(0, ipcx::options::create().set_capacity(16384));
    pid_t pid = fork();
    if (pid == 0) {
        p.producer.close();
        usleep(20000);  // start late: the producer meets a full ring
        bool ok;
        {
            asio::io_context io;  // after fork: this process's own
            ring_end c(io, p.consumer);
            ok = c.run_consumer(io);
        }
        p.consumer.close();
        _exit(ok ? 0 : 1);  // every message, in order, then closed
    }
    p.consumer.close();
    bool ok;
    int sent, waits;
    {
        asio::io_context io;
        ring_end e(io, p.producer);
        ok = e.run_producer(io);
        sent = e.count();
        waits = e.waits();
    }
    p.producer.close();  // the consumer takes what is left, then sees closed
    int st = 0;
    waitpid(pid, &st, 0);
    std::printf("ring:  %d messages of %zu bytes from an io_context to another; the producer "
                "waited for room %d times\n",
                sent, SIZE, waits);
    return ok && sent == MESSAGES && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv) {
    try {
        if (argc > 1) return (std::string(argv[1]) == "ring" ? ring() : run(argv[1])) ? 0 : 1;
        bool a = run("pipe:"), b = run("unix:"), c = run("shm:"), d = ring();
        return a && b && c && d ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
