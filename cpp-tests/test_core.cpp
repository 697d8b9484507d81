/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// The C++ API's common parts: the error category and ipcx::error, both error forms,
// timeouts, byte views, names, options, and the ownership rules of every handle class
// (moves, self-move, moved-from objects, release/adopt, close(), no leak on an early
// return or an exception).
#include "test.hpp"
#include "../c-tests/valgrind_env.h"

#include <array>
#include <vector>

// ---------------------------------------------------------------- errors

T_CASE(category_and_codes) {
    const std::error_category &cat = ipcx::category();
    T_ASSERT(std::string(cat.name()) == "ipcx");
    T_ASSERT(&cat == &ipcx::category());
    for (int c = IPCX_ERR_INVALID; c <= IPCX_ERR_INTERNAL; c++) {
        std::error_code ec(c, cat);
        T_ASSERT(ec.message() == ipcx_strerror(c));
        T_ASSERT(std::string(ipcx::status_name(ec)) == ipcx_status_name(c));
        T_ASSERT(ec == static_cast<ipcx::errc>(c));
    }
    T_ASSERT(ipcx::make_error_code(ipcx::errc::timeout).value() == IPCX_ERR_TIMEOUT);
    std::error_code ec = ipcx::errc::closed;  // is_error_code_enum
    T_ASSERT(ec.category() == cat && ec.value() == IPCX_ERR_CLOSED);
    T_ASSERT(std::string(ipcx::status_name(std::error_code())) == "IPCX_OK");
    // Portable conditions where one matches exactly.
    T_ASSERT(std::error_code(ipcx::errc::timeout) == std::errc::timed_out);
    T_ASSERT(std::error_code(ipcx::errc::not_found) == std::errc::no_such_file_or_directory);
    T_ASSERT(std::error_code(ipcx::errc::exists) == std::errc::file_exists);
    T_ASSERT(std::error_code(ipcx::errc::permission) == std::errc::permission_denied);
    T_ASSERT(std::error_code(ipcx::errc::invalid) == std::errc::invalid_argument);
    T_ASSERT(std::error_code(ipcx::errc::owner_dead) == std::errc::owner_dead);
    T_ASSERT(std::error_code(ipcx::errc::closed) != std::errc::broken_pipe);
    T_ASSERT(std::error_code(ipcx::errc::closed) == ipcx::errc::closed);
    // Unknown codes are described, never a crash.
    T_ASSERT(!std::error_code(999, cat).message().empty());
}

T_CASE(throwing_form_carries_code_and_detail) {
    char buf[16];
    auto [rd, wr] = ipcx::pipe::pair();
    try {
        (void)rd.recv(buf, ipcx::nowait);
        T_FAIL("recv on an empty pipe did not throw");
    } catch (const std::system_error &e) {  // ipcx::error is a std::system_error
        const auto *ie = dynamic_cast<const ipcx::error *>(&e);
        T_ASSERT(ie != nullptr);
        T_ASSERT(e.code() == ipcx::errc::timeout);
        T_ASSERT(ie->detail().rfind("ipcx_pipe_recv", 0) == 0);
        T_ASSERT(ie->detail() == ipcx_last_error());
        T_ASSERT(std::string(e.what()).find(ie->detail()) != std::string::npos);
        T_EQ(ie->sys_errno(), ipcx_last_errno());
        ipcx::error copy = *ie;  // copying an exception never throws
        T_ASSERT(copy.detail() == ie->detail());
    }
    // An errno behind the failure is carried.
    try {
        (void)ipcx::sysv::key("/nonexistent/ipcx/path", 1);
        T_FAIL("ipcx::sysv::key did not throw");
    } catch (const ipcx::error &e) {
        T_ASSERT(e.code() == ipcx::errc::not_found);
        T_EQ(e.sys_errno(), ENOENT);
    }
}

T_CASE(error_code_form_never_throws) {
    char buf[16];
    auto [rd, wr] = ipcx::pipe::pair();
    std::error_code ec = ipcx::errc::internal;
    wr.send("x", ipcx::nowait, ec);
    T_EC_OK(ec);  // cleared on success
    T_EQ(rd.recv(buf, ipcx::nowait, ec), 1);
    T_EC_OK(ec);
    size_t n = rd.recv(buf, ipcx::nowait, ec);
    T_EC(ipcx::errc::timeout, ec);
    T_EQ(n, sizeof buf);  // the C out-value: *len unchanged
    T_ASSERT(std::string(ipcx::last_error()).rfind("ipcx_pipe_recv", 0) == 0);
    static_assert(noexcept(rd.recv(buf, ipcx::nowait, ec)));
    static_assert(noexcept(wr.send("x", ipcx::nowait, ec)));
    static_assert(!noexcept(wr.send("x", ipcx::nowait)));
    static_assert(noexcept(ipcx::pipe::pair(0, {}, ec)));
    // errc::too_big gives the size needed.
    wr.send("twelve bytes", 1s);
    n = rd.recv(ipcx::mutable_bytes(buf, 4), 1s, ec);
    T_EC(ipcx::errc::too_big, ec);
    T_EQ(n, 12);
    T_EQ(rd.recv(buf, 1s), 12);
}

T_CASE(names_with_a_nul_are_refused) {
    std::string_view bad("/ipcx-t-a\0b", 11);
    std::error_code ec;
    auto q = ipcx::mq::open(bad, IPCX_OPEN_READ | IPCX_OPEN_CREATE, {}, ec);
    T_ASSERT(ec == ipcx::errc::invalid && !q);
    T_ASSERT(std::strstr(ipcx::last_error(), "NUL") != nullptr);
    T_EQ(ipcx::last_errno(), 0);
    try {
        (void)ipcx::ring::open(bad, IPCX_OPEN_READ);
        T_FAIL("a name with a NUL was accepted");
    } catch (const ipcx::error &e) {
        T_ASSERT(e.code() == ipcx::errc::invalid);
        T_ASSERT(e.detail().find("NUL") != std::string::npos);
    }
    // The next C failure replaces the wrapper's message, made through the wrapper or
    // directly on get().
    char buf[4];
    auto [rd, wr] = ipcx::pipe::pair();
    (void)rd.recv(buf, ipcx::nowait, ec);
    T_EC(ipcx::errc::timeout, ec);
    T_ASSERT(std::strstr(ipcx::last_error(), "NUL") == nullptr);
    (void)ipcx::mq::open(bad, IPCX_OPEN_READ, {}, ec);
    T_ASSERT(std::strstr(ipcx::last_error(), "NUL") != nullptr);
    // A C function called directly: its detail is in ipcx_last_error() (this API does not
    // see the call); the next call through this API, even a successful one, resets it.
    size_t len = sizeof buf;
    T_EQ(ipcx_pipe_recv(rd.get(), buf, &len, IPCX_NOWAIT), IPCX_ERR_TIMEOUT);
    T_ASSERT(std::strstr(ipcx_last_error(), "ipcx_pipe_recv") != nullptr);
    wr.send("x", 1s);
    T_ASSERT(std::strstr(ipcx::last_error(), "ipcx_pipe_recv") != nullptr);
    T_EQ(rd.recv(buf, 1s), 1);
    // A long name (beyond the inline buffer) reaches C whole: C judges it.
    std::string longname = "/" + std::string(300, 'n');
    (void)ipcx::mq::open(longname, IPCX_OPEN_READ, {}, ec);
    T_EC(ipcx::errc::invalid, ec);
    T_ASSERT(std::strstr(ipcx::last_error(), "nnnn") != nullptr);
}

T_CASE(array_count_checked) {
    std::error_code ec;
    std::vector<int32_t> two{1, 2};
    auto s = ipcx::semset::open(IPCX_KEY_PRIVATE, 3, two, IPCX_OPEN_CREATE, {}, ipcx::nowait, ec);
    T_ASSERT(ec == ipcx::errc::invalid && !s);
    T_ASSERT(std::strstr(ipcx::last_error(), "nsems") != nullptr);
}

// ---------------------------------------------------------------- timeouts and buffers

T_CASE(timeouts) {
    static_assert(ipcx::timeout(0ms) == ipcx::nowait);
    static_assert(ipcx::timeout(-3s) == ipcx::nowait);
    static_assert(ipcx::timeout(1ns).ms() == 1);
    static_assert(ipcx::timeout(1001us).ms() == 2);
    static_assert(ipcx::timeout(std::chrono::minutes(2)).ms() == 120000);
    static_assert(ipcx::timeout(std::chrono::nanoseconds::max()).ms() == 9223372036855LL);
    static_assert(ipcx::timeout(std::chrono::hours::max()).ms() == INT64_MAX);
    static_assert(ipcx::timeout(std::chrono::duration<double>(0.25)).ms() == 250);
    // Periods that do not divide a millisecond: exact, and no overflow near the top.
    using samples = std::chrono::duration<int64_t, std::ratio<1, 44100>>;
    static_assert(ipcx::timeout(samples(44100)).ms() == 1000);
    static_assert(ipcx::timeout(samples(44101)).ms() == 1001);
    static_assert(ipcx::timeout(samples::max()).ms() == 209146758205323715LL);
    using thirds = std::chrono::duration<int64_t, std::ratio<1, 3>>;
    static_assert(ipcx::timeout(thirds(10000000000000000LL)).ms() == 3333333333333333334LL);
    static_assert(ipcx::forever.ms() == -1 && ipcx::nowait.ms() == 0);
    static_assert(ipcx::timeout::from_ms(-7).ms() == -7);
    // Never early: 1500 us waits 2 ms.
    auto [rd, wr] = ipcx::pipe::pair();
    char buf[4];
    T_TIMES_OUT(1.5, rd.recv(buf, 1500us));
    T_TIMES_OUT(100, rd.recv(buf, 100ms));
    // A C value below -1 reaches C, which refuses it.
    T_THROWS(ipcx::errc::invalid, rd.recv(buf, ipcx::timeout::from_ms(-2)));
}

T_CASE(byte_views) {
    ipcx::bytes lit = "hello";
    T_EQ(lit.size(), 5);  // a string literal is text: no NUL
    T_EQ(ipcx::bytes(static_cast<const char *>(nullptr)).size(), 0);
    std::string s = "abc";
    T_EQ(ipcx::bytes(s).size(), 3);
    std::vector<uint32_t> v{1, 2, 3};
    T_EQ(ipcx::bytes(v).size(), 12);
    std::array<uint16_t, 5> a{};
    T_EQ(ipcx::bytes(a).size(), 10);
    int ints[4] = {};
    T_EQ(ipcx::bytes(ints).size(), 16);
    uint8_t octets[4] = {1, 2, 3, 4};  // arrays of bytes are bytes; only char arrays are text
    T_EQ(ipcx::bytes(octets).size(), 4);
    unsigned char uc[3] = {};
    T_EQ(ipcx::bytes(uc).size(), 3);
    char hi[] = "hi";
    T_EQ(ipcx::bytes(hi).size(), 2);
    char buf[32];
    ipcx::mutable_bytes mb = buf;  // a char array as a buffer: all of it
    T_EQ(mb.size(), 32);
    T_EQ(mb.first(8).size(), 8);
    T_EQ(mb.first(99).size(), 32);
    static_assert(!std::is_convertible_v<const std::string &, ipcx::mutable_bytes>);
    static_assert(!std::is_convertible_v<std::vector<std::string>, ipcx::bytes>);
    // Round trip with containers on both sides.
    auto [rd, wr] = ipcx::pipe::pair();
    wr.send(v, 1s);
    std::vector<uint32_t> out(8);
    size_t n = rd.recv(out, 1s);
    T_EQ(n, 12);
    T_ASSERT(out[0] == 1 && out[1] == 2 && out[2] == 3);
    std::string text(16, '\0');
    wr.send(std::string_view("view"), 1s);
    text.resize(rd.recv(text, 1s));
    T_ASSERT(text == "view");
}

// ---------------------------------------------------------------- options

T_CASE(options_chain_and_errors) {
    auto o = ipcx::options::create().set_mode(0640).set_capacity(1 << 16).set_max_message(128);
    T_ASSERT(o);
    o.set_sigpipe_guard(false).set_atomic(true);
    T_THROWS(ipcx::errc::invalid, o.set_mode(01000));
    std::error_code ec;
    o.set_max_message(0, ec);
    T_EC(ipcx::errc::invalid, ec);
    o.set_keepalive(-1s, ec);  // reaches C as UINT32_MAX: refused by C
    T_EC(ipcx::errc::invalid, ec);
    o.set_keepalive(std::chrono::seconds(1LL << 33), ec);
    T_EC(ipcx::errc::invalid, ec);
    // Options are honoured: a pipe made with a 128-byte maximum refuses 129 bytes.
    auto p = ipcx::options::create().set_max_message(128);
    auto [rd, wr] = ipcx::pipe::pair(0, p);
    p.close();  // read by the call: may be closed afterwards
    T_THROWS(ipcx::errc::too_big, wr.send(std::string(129, 'x'), 1s));
    // Who may send, as in C.
    auto acl = ipcx::options::create().set_allowed_uids({0, 1000}).set_allowed_gids({0});
    std::vector<uint32_t> uids{static_cast<uint32_t>(getuid())};
    acl.set_allowed_uids(uids).set_allowed_networks("127.0.0.0/8, ::1");
    acl.set_allowed_uids(ipcx::span<const uint32_t>(), ec);  // an empty list: refused by C
    T_EC(ipcx::errc::invalid, ec);
    acl.set_allowed_networks("10.0.0.0/99", ec);
    T_EC(ipcx::errc::invalid, ec);
    T_ASSERT(std::strstr(ipcx::last_error(), "10.0.0.0/99") != nullptr);
    acl.set_allowed_networks(std::string_view("a\0b", 3), ec);  // refused before C
    T_ASSERT(ec == ipcx::errc::invalid);
    T_ASSERT(std::strstr(ipcx::last_error(), "NUL") != nullptr);
    // A chain on a temporary yields the options by value: a reference to it extends its
    // life (a chain that returned options&& would leave it dangling).
    const ipcx::options &kept = ipcx::options::create().set_capacity(1 << 16);
    T_ASSERT(kept.get() != nullptr);
    static_assert(std::is_same_v<decltype(ipcx::options::create().set_mode(0600)), ipcx::options>);
    // An empty options object is NULL: the defaults.
    auto [r2, w2] = ipcx::pipe::pair(0, ipcx::options());
    w2.send(std::string(129, 'x'), 1s);
    // A closed options object is a closed handle.
    auto c = ipcx::options::create();
    ipcx_options *raw = c.get();
    T_EQ(ipcx_options_close(raw), IPCX_OK);
    T_THROWS(ipcx::errc::bad_handle, ipcx::pipe::pair(0, c));
    T_ASSERT(c.close() == ipcx::errc::bad_handle);
    T_ASSERT(!c);
}

// ---------------------------------------------------------------- ownership

template <class H>
static void check_traits() {
    static_assert(!std::is_copy_constructible_v<H> && !std::is_copy_assignable_v<H>);
    static_assert(std::is_nothrow_move_constructible_v<H>);
    static_assert(std::is_nothrow_move_assignable_v<H>);
    static_assert(std::is_nothrow_destructible_v<H>);
    static_assert(std::is_nothrow_default_constructible_v<H>);
    static_assert(!std::is_convertible_v<typename H::native_type *, H>);  // adopting is explicit
}

// Every ownership rule, for one handle class: `make` makes a live object, `closefn` is
// the C close of its handle type.
template <class H, class Make>
static void check_ownership(Make make, ipcx_status (*closefn)(typename H::native_type *)) {
    check_traits<H>();
    H a = make();
    auto *raw = a.get();
    T_ASSERT(raw != nullptr && static_cast<bool>(a));
    // Move construction and assignment carry the handle; the source is empty.
    H b(std::move(a));
    T_ASSERT(!a && a.get() == nullptr && b.get() == raw);
    a = std::move(b);
    T_ASSERT(a.get() == raw && !b);
    // Self-move keeps it.
    H &alias = a;
    a = std::move(alias);
    T_ASSERT(a.get() == raw);
    // The destructor closes it; a moved-from object's destructor does nothing.
    { H c(std::move(a)); }
    T_HANDLE_CLOSED(closefn, raw);
    T_ASSERT(!a.close());  // closing an empty object: success, nothing done
    a.reset();
    // release() gives the handle up; the explicit constructor adopts it.
    H d = make();
    auto *r2 = d.release();
    T_ASSERT(!d && r2 != nullptr);
    H e(r2);
    T_ASSERT(e.get() == r2);
    // close() reports the C status and empties the object; again, it is a no-op.
    T_ASSERT(!e.close());
    T_ASSERT(!e && !e.close());
    T_HANDLE_CLOSED(closefn, r2);
    // Assigning over a live object closes what it held.
    H f = make(), g = make();
    auto *fr = f.get(), *gr = g.get();
    f = std::move(g);
    T_HANDLE_CLOSED(closefn, fr);
    T_ASSERT(f.get() == gr);
    // reset() closes and adopts.
    f.reset();
    T_HANDLE_CLOSED(closefn, gr);
    // A handle C code closed behind the object's back: close() reports it, never UB.
    H h = make();
    T_EQ(closefn(h.get()), IPCX_OK);
    T_ASSERT(h.close() == ipcx::errc::bad_handle);
    T_ASSERT(!h);
}

T_CASE(ownership_every_handle_type) {
    ipcx::signal::block(ipcx::sigset{SIGUSR1});
    check_ownership<ipcx::options>([] { return ipcx::options::create(); }, ipcx_options_close);
    check_ownership<ipcx::pipe>([] { return ipcx::pipe::pair().read; }, ipcx_pipe_close);
    check_ownership<ipcx::sock>([] { return ipcx::sock::pair().a; }, ipcx_sock_close);
    check_ownership<ipcx::sock_listener>(
        [] { return ipcx::sock_listener::listen_unix("@" + t_posix_name("lst").substr(1)); },
        ipcx_sock_listener_close);
    check_ownership<ipcx::chan>([] { return ipcx::chan::pair("pipe:").recv; }, ipcx_chan_close);
    check_ownership<ipcx::mq>(
        [] {
            std::string n = t_posix_name("mq");
            t_track_mq(n);
            auto q = ipcx::mq::open(n, IPCX_OPEN_READ | IPCX_OPEN_CREATE);
            ipcx::mq::remove(n);
            return q;
        },
        ipcx_mq_close);
    check_ownership<ipcx::msgq>(
        [] {
            auto q = ipcx::msgq::open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE);
            t_track_sysv_msq(q.id());
            q.remove();  // the handle stays open
            return q;
        },
        ipcx_msgq_close);
    check_ownership<ipcx::shm>(
        [] {
            std::string n = t_posix_name("shm");
            t_track_shm(n);
            auto s = ipcx::shm::open(n, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE);
            ipcx::shm::remove(n);
            return s;
        },
        ipcx_shm_close);
    check_ownership<ipcx::shm_segment>(
        [] {
            auto s = ipcx::shm_segment::open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE);
            t_track_sysv_shm(s.id());
            s.remove();
            return s;
        },
        ipcx_shm_segment_close);
    check_ownership<ipcx::region>([] { return ipcx::region::create(4096); }, ipcx_region_close);
    check_ownership<ipcx::ring>([] { return ipcx::ring::pair().producer; }, ipcx_ring_close);
    check_ownership<ipcx::sem>([] { return ipcx::sem::create(1); }, ipcx_sem_close);
    check_ownership<ipcx::semset>(
        [] {
            auto s = ipcx::semset::open(IPCX_KEY_PRIVATE, 1, {}, IPCX_OPEN_CREATE, {},
                                        ipcx::nowait);
            t_track_sysv_sem(s.id().id);
            s.remove();
            return s;
        },
        ipcx_semset_close);
    // A placed object's handle maps its page on its own, so the region may close first;
    // under valgrind, which does not emulate that mapping, the handle borrows the region's
    // (c-tests/valgrind_env.h), which is then kept until the end.
    static std::vector<ipcx::region> kept;
    auto placed = [](auto init) {
        ipcx::region r = ipcx::region::create(4096);
        auto h = init(r);
        if (t_under_valgrind()) kept.push_back(std::move(r));
        return h;
    };
    check_ownership<ipcx::mutex>(
        [&] { return placed([](const ipcx::region &r) { return ipcx::mutex::init(r, 0); }); },
        ipcx_mutex_close);
    check_ownership<ipcx::cond>(
        [&] { return placed([](const ipcx::region &r) { return ipcx::cond::init(r, 0); }); },
        ipcx_cond_close);
    check_ownership<ipcx::signalfd>([] { return ipcx::signalfd::create(ipcx::sigset{SIGUSR1}); },
                                    ipcx_signalfd_close);
    check_ownership<ipcx::notifier>([] { return ipcx::notifier::create(); }, ipcx_notifier_close);
    check_ownership<ipcx::object_list>([] { return ipcx::inspect::list(); },
                                       ipcx_object_list_close);
    ipcx::signal::unblock(ipcx::sigset{SIGUSR1});
}

T_CASE(empty_objects_get_the_null_answer) {
    ipcx::pipe p;
    ipcx::sem s;
    ipcx::region r;
    ipcx::chan c;
    char buf[4];
    T_THROWS(ipcx::errc::invalid, p.send("x", ipcx::nowait));
    T_THROWS(ipcx::errc::invalid, s.post());
    T_THROWS(ipcx::errc::invalid, r.base());
    T_THROWS(ipcx::errc::invalid, c.recv(buf, ipcx::nowait));
    std::error_code ec;
    (void)ipcx::sem::init(r, 0, 1, ec);  // an empty region argument is NULL too
    T_EC(ipcx::errc::invalid, ec);
}

static size_t throw_midway(ipcx_pipe **raw_read, ipcx_sock **raw_sock) {
    auto [rd, wr] = ipcx::pipe::pair();
    auto pair = ipcx::sock::pair();
    *raw_read = rd.get();
    *raw_sock = pair.a.get();
    char buf[8];
    return rd.recv(buf, ipcx::nowait);  // throws errc::timeout: everything above unwinds
}

static int return_early(ipcx_ring **raw) {
    auto [prod, cons] = ipcx::ring::pair();
    *raw = cons.get();
    std::error_code ec;
    char buf[8];
    (void)cons.recv(buf, ipcx::nowait, ec);
    if (ec) return -1;  // early return: both ends closed
    return 0;
}

T_CASE(no_leak_on_exception_or_early_return) {
    int before = t_fd_count();
    ipcx_pipe *rp = nullptr;
    ipcx_sock *sp = nullptr;
    T_THROWS(ipcx::errc::timeout, throw_midway(&rp, &sp));
    T_HANDLE_CLOSED(ipcx_pipe_close, rp);
    T_HANDLE_CLOSED(ipcx_sock_close, sp);
    T_EQ(t_fd_count(), before);
    ipcx_ring *rr = nullptr;
    T_EQ(return_early(&rr), -1);
    T_HANDLE_CLOSED(ipcx_ring_close, rr);
    T_EQ(t_fd_count(), before);
}

// ---------------------------------------------------------------- small families

T_CASE(library_and_keys) {
    T_ASSERT(std::string(ipcx::version()) == IPCX_VERSION_STRING);
    std::string path = t_path("key");
    FILE *f = fopen(path.c_str(), "w");
    T_ASSERT(f != nullptr);
    fclose(f);
    int32_t k1 = ipcx::sysv::key(path, 7), k2 = ipcx::sysv::key(path, 7);
    T_ASSERT(k1 == k2 && k1 != 0);
    std::error_code ec;
    (void)ipcx::sysv::key(path, 0, ec);
    T_EC(ipcx::errc::invalid, ec);
    T_ASSERT(unlink(path.c_str()) == 0);
    T_ASSERT(std::string(ipcx::object_kind_name(IPCX_OBJECT_FIFO)) == "fifo");
    T_EQ(ipcx::object_kind_from_name("ring"), IPCX_OBJECT_RING);
    T_THROWS(ipcx::errc::invalid, ipcx::object_kind_from_name("nonsense"));
}

T_CASE(sigsets) {
    ipcx::sigset s{SIGUSR1, SIGUSR2};
    T_ASSERT(s.has(SIGUSR1) && s.has(SIGUSR2) && !s.has(SIGINT));
    T_EQ(s.bits(), (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGUSR2 - 1)));
    s.del(SIGUSR1).add(SIGTERM);
    T_ASSERT(!s.has(SIGUSR1) && s.has(SIGTERM));
    T_THROWS(ipcx::errc::invalid, s.add(32));  // reserved by the C library
    std::error_code ec;
    s.add(0, ec);
    T_EC(ipcx::errc::invalid, ec);
    T_ASSERT(ipcx::sigset().empty() && ipcx::sigset::all().has(64));
}

T_CASE(inspect_lists_and_removes) {
    std::string n = t_posix_name("insp");
    t_track_mq(n);
    {
        // A child creates the queue and exits; the parent finds it in the list.
        t_wait_ok(t_child([&] { (void)ipcx::mq::open(n, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE); }));
        auto l = ipcx::inspect::list({}, 0);
        bool found = false;
        for (size_t i = 0; i < l.count(); i++) {
            ipcx_object_info o = l.at(i);
            if (o.kind == IPCX_OBJECT_POSIX_MQ && n == o.name) {
                T_ASSERT(o.size == sizeof o && (o.flags & IPCX_OBJECT_IPCX));
                found = true;
            }
        }
        T_ASSERT(found);
        (void)l.warnings();
        T_THROWS(ipcx::errc::invalid, l.at(l.count()));
        std::error_code ec;
        (void)ipcx::inspect::list({"/nonexistent-ipcx-dir"}, 0, ec);
        T_EC(ipcx::errc::not_found, ec);
        (void)ipcx::inspect::list({}, IPCX_INSPECT_DRY_RUN, ec);
        T_EC(ipcx::errc::invalid, ec);
        auto dry = ipcx::inspect::clean({}, IPCX_INSPECT_DRY_RUN);
        (void)dry.count();
    }
    ipcx::inspect::remove(IPCX_OBJECT_POSIX_MQ, n);
    T_THROWS(ipcx::errc::not_found, ipcx::mq::open(n, IPCX_OPEN_READ));
    T_THROWS(ipcx::errc::not_found, ipcx::inspect::remove(IPCX_OBJECT_POSIX_MQ, n));
}

T_MAIN(T_ENTRY(category_and_codes), T_ENTRY(throwing_form_carries_code_and_detail),
       T_ENTRY(error_code_form_never_throws), T_ENTRY(names_with_a_nul_are_refused),
       T_ENTRY(array_count_checked), T_ENTRY(timeouts), T_ENTRY(byte_views),
       T_ENTRY(options_chain_and_errors), T_ENTRY(ownership_every_handle_type),
       T_ENTRY(empty_objects_get_the_null_answer), T_ENTRY(no_leak_on_exception_or_early_return),
       T_ENTRY(library_and_keys), T_ENTRY(sigsets), T_ENTRY(inspect_lists_and_removes))
