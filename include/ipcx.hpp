/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// ipcx.hpp: the C++17 API of ipcx, header-only, on top of the C ABI of ipcx.h.
//
// docs/cpp.md is the page; the rules in one breath:
//  - one move-only owning class per handle type (ipcx::pipe owns an ipcx_pipe *): the
//    destructor calls the family's _close and never throws; close() returns its status;
//    get() and release() hand the raw handle to C code, and an explicit constructor
//    adopts one. A default-constructed or moved-from object holds no handle: calls on it
//    get the C library's answer to NULL (errc::invalid), closing it does nothing.
//  - every member or function is one C call (ipcx::pipe::send is ipcx_pipe_send), so the C
//    semantics hold unchanged: fork, timeouts, ownership, thread safety, flags (the C
//    constants, IPCX_OPEN_READ ...), and the doc comments of ipcx.h apply word for word.
//  - errors: every function throws ipcx::error (a std::system_error carrying the code in
//    ipcx::category() and the thread's ipcx_last_error() text), and has an overload
//    taking `std::error_code &ec` last that reports instead of throwing, as in
//    std::filesystem. Those overloads are noexcept unless they take a name or return a
//    string or a vector (a copy may need memory: they may then throw std::bad_alloc, and
//    nothing else). Three statuses that come with something the caller now holds are
//    results, never thrown: IPCX_ERR_OWNER_DEAD (the mutex is held), a condition
//    variable's IPCX_ERR_TIMEOUT (the mutex is held again) and ipcx_sock_recv_fds's
//    IPCX_ERR_LIMIT (the message and some descriptors were delivered).
//  - timeouts are ipcx::timeout: any std::chrono::duration (rounded up to whole
//    milliseconds, negative = no wait), ipcx::forever or ipcx::nowait.
//  - buffers are ipcx::bytes / ipcx::mutable_bytes (pointer and length, made from
//    (ptr, len) or any contiguous container); names are std::string_view, copied with a
//    NUL for the C call.
//
// Needs C++17. Link with ipcx::ipcx (CMake) or `pkg-config --libs ipcx`, as for ipcx.h.
#ifndef IPCX_HPP
#define IPCX_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "ipcx.hpp needs C++17 (-std=c++17); C programs include ipcx.h"
#endif

#include "ipcx.h"

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define IPCX_CXX_EXCEPTIONS 1
#else
#define IPCX_CXX_EXCEPTIONS 0
#endif

namespace ipcx {

// ===================================================================== errors

// The status codes of ipcx_status as an error-code enum (IPCX_ERR_TIMEOUT is
// errc::timeout). `ec == ipcx::errc::timeout` compares a std::error_code with one.
enum class errc : int {
    invalid = IPCX_ERR_INVALID,
    timeout = IPCX_ERR_TIMEOUT,
    closed = IPCX_ERR_CLOSED,
    interrupted = IPCX_ERR_INTERRUPTED,
    not_found = IPCX_ERR_NOT_FOUND,
    exists = IPCX_ERR_EXISTS,
    permission = IPCX_ERR_PERMISSION,
    limit = IPCX_ERR_LIMIT,
    removed = IPCX_ERR_REMOVED,
    too_big = IPCX_ERR_TOO_BIG,
    unsupported = IPCX_ERR_UNSUPPORTED,
    system = IPCX_ERR_SYSTEM,
    bad_handle = IPCX_ERR_BAD_HANDLE,
    protocol = IPCX_ERR_PROTOCOL,
    in_use = IPCX_ERR_IN_USE,
    owner_dead = IPCX_ERR_OWNER_DEAD,
    not_recoverable = IPCX_ERR_NOT_RECOVERABLE,
    internal = IPCX_ERR_INTERNAL,
};

namespace detail {

class category_impl final : public std::error_category {
public:
    const char *name() const noexcept override { return "ipcx"; }
    std::string message(int code) const override { return ipcx_strerror(code); }
    // The portable condition where one matches exactly, so that
    // `ec == std::errc::timed_out` holds for errc::timeout. closed, limit, system and
    // internal have no single std::errc and stay ipcx's own.
    std::error_condition default_error_condition(int code) const noexcept override {
        switch (code) {
        case IPCX_ERR_INVALID: return std::errc::invalid_argument;
        case IPCX_ERR_TIMEOUT: return std::errc::timed_out;
        case IPCX_ERR_INTERRUPTED: return std::errc::interrupted;
        case IPCX_ERR_NOT_FOUND: return std::errc::no_such_file_or_directory;
        case IPCX_ERR_EXISTS: return std::errc::file_exists;
        case IPCX_ERR_PERMISSION: return std::errc::permission_denied;
        case IPCX_ERR_REMOVED: return std::errc::identifier_removed;
        case IPCX_ERR_TOO_BIG: return std::errc::message_size;
        case IPCX_ERR_UNSUPPORTED: return std::errc::not_supported;
        case IPCX_ERR_BAD_HANDLE: return std::errc::bad_file_descriptor;
        case IPCX_ERR_PROTOCOL: return std::errc::protocol_error;
        case IPCX_ERR_IN_USE: return std::errc::device_or_resource_busy;
        case IPCX_ERR_OWNER_DEAD: return std::errc::owner_dead;
        case IPCX_ERR_NOT_RECOVERABLE: return std::errc::state_not_recoverable;
        default: return std::error_condition(code, *this);
        }
    }
};

// The wrapper's own message, when it refused an argument before any C call (a name with
// a NUL byte in it, an array shorter than its count); reset by every call made through
// the wrapper that reaches C. (A C function called directly, on `get()`, does not reset
// it: read ipcx_last_error() after those.)
inline thread_local const char *own_error = nullptr;

}  // namespace detail

// The error category of ipcx status codes: name "ipcx", messages from ipcx_strerror.
inline const std::error_category &category() noexcept {
    static const detail::category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
    return std::error_code(static_cast<int>(e), category());
}

// The detail of the last failure on the calling thread: ipcx_last_error() (which function,
// on what, why, the errno text), or the wrapper's own message when it refused an argument
// without calling C. Like errno: read it right after a call of this API reported an
// error. After a C function called directly (on `get()`), read ipcx_last_error(): this
// API does not see such calls, so its own message of an earlier refusal would remain.
inline const char *last_error() noexcept {
    return detail::own_error ? detail::own_error : ipcx_last_error();
}

// The errno behind the last failure on the calling thread (ipcx_last_errno), 0 when ipcx
// detected the problem itself.
inline int last_errno() noexcept { return detail::own_error ? 0 : ipcx_last_errno(); }

// The enumerator's name of a code ("IPCX_ERR_TIMEOUT"), for logs (ipcx_status_name);
// "IPCX_OK" for no error, "IPCX_UNKNOWN" for a code of another category.
inline const char *status_name(const std::error_code &ec) noexcept {
    if (!ec) return "IPCX_OK";
    return ec.category() == category() ? ipcx_status_name(ec.value()) : "IPCX_UNKNOWN";
}

// What every throwing function throws: the code (category() or, never from ipcx itself,
// another) and the thread's last-error text at the moment of the failure.
// what() is "<detail>: <ipcx_strerror text>".
class error : public std::system_error {
public:
    error(std::error_code ec, const char *detail, int sys_errno)
        : std::system_error(detail && *detail ? std::system_error(ec, detail)
                                              : std::system_error(ec)),
          detail_(std::make_shared<const std::string>(detail ? detail : "")),
          errno_(sys_errno) {}
    // ipcx_last_error() as it was when the call failed ("ipcx_fifo_open: open(...): ...").
    const std::string &detail() const noexcept { return *detail_; }
    // ipcx_last_errno() as it was (0 when ipcx detected the problem itself).
    int sys_errno() const noexcept { return errno_; }

private:
    std::shared_ptr<const std::string> detail_;  // shared: copying an exception never throws
    int errno_;
};

namespace detail {

// Store a C status in `ec` (cleared on success); true on success.
inline bool assign(std::error_code &ec, ipcx_status s) noexcept {
    own_error = nullptr;  // a C call was made: its outcome is the latest
    if (s == IPCX_OK) {
        ec.clear();
        return true;
    }
    ec.assign(static_cast<int>(s), category());
    return false;
}

// The wrapper refuses an argument itself (no C call was made).
inline void refuse(std::error_code &ec, const char *why) noexcept {
    own_error = why;
    ec.assign(IPCX_ERR_INVALID, category());
}

[[noreturn]] inline void throw_error(const std::error_code &ec) {
#if IPCX_CXX_EXCEPTIONS
    throw error(ec, last_error(), last_errno());
#else
    std::fprintf(stderr, "ipcx: %s: %s (built without exceptions)\n", last_error(),
                 ec.message().c_str());
    std::abort();
#endif
}

// The throwing form of every call: the ec form, then this. Nothing runs between the C
// call and the read of its last-error text.
inline void throw_if(const std::error_code &ec) {
    if (ec) throw_error(ec);
}

}  // namespace detail

}  // namespace ipcx

template <>
struct std::is_error_code_enum<ipcx::errc> : std::true_type {};

namespace ipcx {

// ===================================================================== timeouts

// A relative timeout on the monotonic clock, as every blocking C call takes it.
// Made from any std::chrono::duration: rounded UP to whole milliseconds (so a call never
// reports a timeout before the duration passed: 1us waits 1 ms), a zero or negative
// duration never blocks (as std::condition_variable::wait_for), one too large for an
// int64_t of milliseconds waits without limit. ipcx::forever and ipcx::nowait are the
// C library's IPCX_FOREVER and IPCX_NOWAIT; from_ms() passes a C value through untouched.
class timeout {
public:
    template <class Rep, class Period>
    constexpr timeout(std::chrono::duration<Rep, Period> d) noexcept : ms_(to_ms(d)) {}

    static constexpr timeout from_ms(int64_t ms) noexcept { return timeout(raw{}, ms); }
    // The C value: -1 forever, 0 no wait, else milliseconds.
    constexpr int64_t ms() const noexcept { return ms_; }
    constexpr bool is_forever() const noexcept { return ms_ == -1; }

    friend constexpr bool operator==(timeout a, timeout b) noexcept { return a.ms_ == b.ms_; }
    friend constexpr bool operator!=(timeout a, timeout b) noexcept { return a.ms_ != b.ms_; }

private:
    struct raw {};
    constexpr timeout(raw, int64_t ms) noexcept : ms_(ms) {}

    template <class Rep, class Period>
    static constexpr int64_t to_ms(std::chrono::duration<Rep, Period> d) noexcept {
        using ms_ld = std::chrono::duration<long double, std::milli>;
        const long double v = std::chrono::duration_cast<ms_ld>(d).count();
        if (!(v > 0)) return 0;  // zero, negative, NaN: do not block
        if (v >= 9.2e18L) return std::numeric_limits<int64_t>::max();  // saturates to forever
        if constexpr (!std::chrono::treat_as_floating_point<Rep>::value) {
            // Exact, in integers that cannot overflow: count = q * D + r with r < D, so
            // ceil(count * N / D) = q * N + ceil(r * N / D) (q * N is below the result,
            // itself below 9.2e18). std::chrono::ceil would multiply count by N first.
            using R = std::ratio_divide<Period, std::milli>;
            constexpr uintmax_t N = static_cast<uintmax_t>(R::num);
            constexpr uintmax_t D = static_cast<uintmax_t>(R::den);
            const uintmax_t c = static_cast<uintmax_t>(d.count());  // > 0 here
            const uintmax_t q = c / D, r = c % D;
            if (r <= (std::numeric_limits<uintmax_t>::max() - (D - 1)) / N)
                return static_cast<int64_t>(q * N + (r * N + D - 1) / D);
        }
        int64_t i = static_cast<int64_t>(v);
        return static_cast<long double>(i) < v ? i + 1 : i;
    }

    int64_t ms_;
};

// Wait without limit (IPCX_FOREVER, -1; spelled out here because the C macro's cast
// trips -Wold-style-cast).
inline constexpr timeout forever = timeout::from_ms(-1);
// Do not block: fail with errc::timeout if the call would (IPCX_NOWAIT, 0).
inline constexpr timeout nowait = timeout::from_ms(0);

// ===================================================================== buffers

namespace detail {

template <class C>
using data_t = decltype(std::data(std::declval<C &>()));
template <class C>
using size_ok_t = decltype(std::size(std::declval<C &>()));

template <class C, class = void>
struct contiguous : std::false_type {};
template <class C>
struct contiguous<C, std::void_t<data_t<C>, size_ok_t<C>>>
    : std::bool_constant<std::is_pointer_v<data_t<C>>> {};

template <class C>
using elem_t = std::remove_pointer_t<data_t<C>>;

// A contiguous container of trivially copyable elements; a char array is text (see
// bytes(const char *)), not a container (arrays of signed or unsigned char, uint8_t, are
// bytes).
template <class C>
constexpr bool bytes_source() {
    if constexpr (!contiguous<C>::value) {
        return false;
    } else {
        using E = elem_t<C>;
        return std::is_trivially_copyable_v<E> &&
               !(std::is_array_v<std::remove_reference_t<C>> &&
                 std::is_same_v<std::remove_cv_t<E>, char>);
    }
}

template <class C>
constexpr bool mutable_bytes_source() {
    if constexpr (!contiguous<C>::value) {
        return false;
    } else {
        using E = elem_t<C>;
        return std::is_trivially_copyable_v<E> && !std::is_const_v<E>;
    }
}

}  // namespace detail

// A read-only byte buffer: what a send takes. Made from a pointer and a length, a
// NUL-terminated string (without its NUL: `send("hello")` sends 5 bytes), a
// std::string_view, or any contiguous container of trivially copyable elements
// (std::string, std::vector, std::array, std::span, arrays other than plain char arrays:
// `uint8_t data[4]` is 4 bytes, `char text[] = "hi"` is text),
// whose bytes it covers. It does not own the bytes: they must outlive the call.
//
// Why a view type and not templates on containers: one non-template overload per
// operation keeps the throwing and std::error_code forms side by side without overload
// ambiguity, accepts C buffers and C++ containers alike, and is what std::span<const
// std::byte> will replace in C++20 (a std::span converts to it already).
class bytes {
public:
    constexpr bytes() noexcept = default;
    constexpr bytes(const void *data, size_t size) noexcept : data_(data), size_(size) {}
    bytes(const char *text) noexcept : data_(text), size_(text ? std::strlen(text) : 0) {}
    constexpr bytes(std::string_view s) noexcept : data_(s.data()), size_(s.size()) {}
    template <class C, std::enable_if_t<detail::bytes_source<const C>(), int> = 0>
    constexpr bytes(const C &c) noexcept
        : data_(std::data(c)), size_(std::size(c) * sizeof(detail::elem_t<const C>)) {}

    constexpr const void *data() const noexcept { return data_; }
    constexpr size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    std::string_view as_string_view() const noexcept {
        return std::string_view(static_cast<const char *>(data_), size_);
    }

private:
    const void *data_ = nullptr;
    size_t size_ = 0;
};

// A writable byte buffer: what a receive fills. Made from a pointer and a capacity, or
// any non-const contiguous container of trivially copyable elements (char arrays
// included: `char buf[256]` is 256 bytes). Converts to bytes.
class mutable_bytes {
public:
    constexpr mutable_bytes() noexcept = default;
    constexpr mutable_bytes(void *data, size_t size) noexcept : data_(data), size_(size) {}
    template <class C, std::enable_if_t<detail::mutable_bytes_source<C>(), int> = 0>
    constexpr mutable_bytes(C &c) noexcept
        : data_(std::data(c)), size_(std::size(c) * sizeof(detail::elem_t<C>)) {}

    constexpr void *data() const noexcept { return data_; }
    constexpr size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr operator bytes() const noexcept { return bytes(data_, size_); }
    // The first n bytes (n at most size()).
    constexpr mutable_bytes first(size_t n) const noexcept {
        return mutable_bytes(data_, n < size_ ? n : size_);
    }
    std::string_view as_string_view() const noexcept {
        return std::string_view(static_cast<const char *>(data_), size_);
    }

private:
    void *data_ = nullptr;
    size_t size_ = 0;
};

// A view of a typed array for the C calls that take one (semaphore operations and values,
// descriptors to pass, directories to scan): made from (ptr, count), a contiguous
// container, or a braced list for span<const T> (`set.op({{0, -1, 0}}, 1s)`).
template <class T>
class span {
public:
    constexpr span() noexcept = default;
    constexpr span(T *data, size_t size) noexcept : data_(data), size_(size) {}
    template <class C,
              std::enable_if_t<detail::contiguous<C>::value &&
                                   std::is_convertible_v<detail::elem_t<C> (*)[], T (*)[]>,
                               int> = 0>
    constexpr span(C &c) noexcept : data_(std::data(c)), size_(std::size(c)) {}
    template <class C,
              std::enable_if_t<std::is_const_v<T> && detail::contiguous<const C>::value &&
                                   std::is_convertible_v<detail::elem_t<const C> (*)[], T (*)[]>,
                               int> = 0>
    constexpr span(const C &c) noexcept : data_(std::data(c)), size_(std::size(c)) {}
    // A braced list, for the call it is passed to (as C++26's std::span): its array lives
    // until the end of the full expression, so never keep such a span in a variable.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
    template <class U = T, std::enable_if_t<std::is_const_v<U>, int> = 0>
    constexpr span(std::initializer_list<std::remove_const_t<U>> il) noexcept
        : data_(il.begin()), size_(il.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

    constexpr T *data() const noexcept { return data_; }
    constexpr size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }
    constexpr T &operator[](size_t i) const noexcept { return data_[i]; }

private:
    T *data_ = nullptr;
    size_t size_ = 0;
};

namespace detail {

// A name as the C API takes it: NUL-terminated. Short names (the common case) are copied
// into the object, longer ones into a std::string. A name with a NUL byte in it cannot
// reach C intact and is refused (errc::invalid) before any C call.
class c_name {
public:
    c_name(std::string_view s, std::error_code &ec) {
        if (s.find('\0') != std::string_view::npos) {
            refuse(ec, "ipcx C++ API: a name, path or address contains a NUL byte");
            return;
        }
        if (s.size() < sizeof small_) {
            std::memcpy(small_, s.data(), s.size());
            small_[s.size()] = '\0';
            ptr_ = small_;
        } else {
            big_.assign(s.data(), s.size());
            ptr_ = big_.c_str();
        }
    }
    c_name(const c_name &) = delete;
    c_name &operator=(const c_name &) = delete;
    explicit operator bool() const noexcept { return ptr_ != nullptr; }
    const char *get() const noexcept { return ptr_; }

private:
    char small_[256];
    std::string big_;
    const char *ptr_ = nullptr;
};

// The owning base of every handle class: T is the C handle type, Close its _close.
template <class T, ipcx_status (*Close)(T *)>
class handle {
public:
    using native_type = T;

    constexpr handle() noexcept = default;
    // Adopt a handle a C function made: this object now closes it.
    explicit handle(T *adopt) noexcept : h_(adopt) {}
    handle(handle &&other) noexcept : h_(other.release()) {}
    handle &operator=(handle &&other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    handle(const handle &) = delete;
    handle &operator=(const handle &) = delete;
    ~handle() {
        if (h_) (void)Close(h_);
    }

    // The raw handle, still owned by this object (for C calls).
    T *get() const noexcept { return h_; }
    // Give the raw handle up: the caller closes it with the C _close.
    [[nodiscard]] T *release() noexcept { return std::exchange(h_, nullptr); }
    // Close the handle now (the family's _close) and report its status: the destructor
    // does the same silently. An empty object gives success. The handle is given up
    // unless the C library kept it open (ipcx_mutex_close's IPCX_ERR_IN_USE: a thread
    // of this process holds the mutex), so that the destructor tries again.
    std::error_code close() noexcept {
        std::error_code ec;
        if (detail::assign(ec, Close(h_)) || ec != errc::in_use) h_ = nullptr;
        return ec;
    }
    // Close the held handle (status ignored, as in the destructor) and hold `adopt`.
    void reset(T *adopt = nullptr) noexcept {
        T *old = std::exchange(h_, adopt);
        if (old) (void)Close(old);
    }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    T *h_ = nullptr;
};

}  // namespace detail

// An owned file descriptor (the descriptors ipcx::sock::recv_fds hands over): closed by
// the destructor. Descriptors that stay a handle's (fd(), fds()) are plain ints.
class unique_fd {
public:
    constexpr unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd &&o) noexcept : fd_(o.release()) {}
    unique_fd &operator=(unique_fd &&o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    unique_fd(const unique_fd &) = delete;
    unique_fd &operator=(const unique_fd &) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        int old = std::exchange(fd_, fd);
        if (old >= 0) (void)::close(old);
    }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// ===================================================================== library

// The library's version ("0.2.0"); compare with IPCX_VERSION_STRING.
inline const char *version() noexcept { return ipcx_version(); }

// ipcx_thread_set_interruptible: whether a signal handler interrupts this thread's
// blocking calls (errc::interrupted) or they resume for the time that remains.
inline void thread_set_interruptible(bool on) noexcept { ipcx_thread_set_interruptible(on); }

// ===================================================================== options

// Creation options (ipcx_options), thread-safe. options::create() makes one; an empty
// options object (`{}`) passes NULL, the defaults. Setters chain:
//   auto o = ipcx::options::create().set_mode(0640).set_capacity(1 << 20);
class options : public detail::handle<ipcx_options, ipcx_options_close> {
public:
    using handle::handle;

    [[nodiscard]] static options create() {
        std::error_code ec;
        options o = create(ec);
        detail::throw_if(ec);
        return o;
    }
    [[nodiscard]] static options create(std::error_code &ec) noexcept {
        ipcx_options *o = nullptr;
        detail::assign(ec, ipcx_options_create(&o));
        return options(o);
    }

#define IPCX_CXX_SETTER(name, type, cexpr)                                                 \
    options &name(type v) & {                                                              \
        std::error_code ec;                                                                \
        name(v, ec);                                                                       \
        detail::throw_if(ec);                                                              \
        return *this;                                                                      \
    }                                                                                      \
    options name(type v) && {                                                              \
        name(v);                                                                           \
        return std::move(*this);                                                           \
    }                                                                                      \
    void name(type v, std::error_code &ec) noexcept { detail::assign(ec, cexpr); }

    // Permission bits of the objects created with these options (ipcx_options_set_mode).
    IPCX_CXX_SETTER(set_mode, uint32_t, ipcx_options_set_mode(get(), v))
    // ipcx_options_set_max_message.
    IPCX_CXX_SETTER(set_max_message, size_t, ipcx_options_set_max_message(get(), v))
    // ipcx_options_set_capacity.
    IPCX_CXX_SETTER(set_capacity, size_t, ipcx_options_set_capacity(get(), v))
    // ipcx_options_set_max_messages.
    IPCX_CXX_SETTER(set_max_messages, size_t, ipcx_options_set_max_messages(get(), v))
    // ipcx_options_set_atomic.
    IPCX_CXX_SETTER(set_atomic, bool, ipcx_options_set_atomic(get(), v))
    // ipcx_options_set_sigpipe_guard.
    IPCX_CXX_SETTER(set_sigpipe_guard, bool, ipcx_options_set_sigpipe_guard(get(), v))
    // ipcx_options_set_keepalive: 0 s turns keepalive off. A value outside 0..UINT32_MAX
    // seconds reaches C as UINT32_MAX, which it refuses (errc::invalid).
    IPCX_CXX_SETTER(set_keepalive, std::chrono::seconds,
                    ipcx_options_set_keepalive(get(), keepalive_seconds(v)))
    // ipcx_options_set_spin: how long a waiting ring call spins before it sleeps;
    // ipcx::spin_forever (nanoseconds::max()) is IPCX_SPIN_FOREVER, a negative value 0.
    IPCX_CXX_SETTER(set_spin, std::chrono::nanoseconds, ipcx_options_set_spin(get(), spin_ns(v)))
    // ipcx_options_set_allowed_uids: admit only these users as peers of channel ends over
    // Unix sockets (`set_allowed_uids({1000, 1001})`, or any contiguous container).
    IPCX_CXX_SETTER(set_allowed_uids, span<const uint32_t>,
                    ipcx_options_set_allowed_uids(get(), v.data(), v.size()))
    // ipcx_options_set_allowed_gids: admit only members of these groups.
    IPCX_CXX_SETTER(set_allowed_gids, span<const uint32_t>,
                    ipcx_options_set_allowed_gids(get(), v.data(), v.size()))
#undef IPCX_CXX_SETTER

    // ipcx_options_set_allowed_networks: admit only TCP peers from these CIDR networks
    // ("10.0.0.0/8, fd00::/8"). A list with a NUL byte in it is refused (errc::invalid).
    options &set_allowed_networks(std::string_view networks) & {
        std::error_code ec;
        set_allowed_networks(networks, ec);
        detail::throw_if(ec);
        return *this;
    }
    options set_allowed_networks(std::string_view networks) && {
        set_allowed_networks(networks);
        return std::move(*this);
    }
    void set_allowed_networks(std::string_view networks, std::error_code &ec) {
        detail::c_name n(networks, ec);
        if (n) detail::assign(ec, ipcx_options_set_allowed_networks(get(), n.get()));
    }

private:
    static uint32_t keepalive_seconds(std::chrono::seconds s) noexcept {
        return s.count() < 0 || s.count() > static_cast<long long>(UINT32_MAX)
                   ? UINT32_MAX
                   : static_cast<uint32_t>(s.count());
    }
    static uint64_t spin_ns(std::chrono::nanoseconds d) noexcept {
        if (d == std::chrono::nanoseconds::max()) return IPCX_SPIN_FOREVER;
        return d.count() < 0 ? 0 : static_cast<uint64_t>(d.count());
    }
};

// options::set_spin(spin_forever): spin without ever sleeping (IPCX_SPIN_FOREVER).
inline constexpr std::chrono::nanoseconds spin_forever = std::chrono::nanoseconds::max();

// ===================================================================== shared memory

// A mapped region (ipcx_region): anonymous, a System V segment, a POSIX object or a file.
// Thread-safe. The memory is not synchronised: pair it with a semaphore or a lock.
class region : public detail::handle<ipcx_region, ipcx_region_close> {
public:
    using handle::handle;

    // ipcx_region_create: `size` bytes of anonymous shared memory, shared with children
    // forked afterwards.
    [[nodiscard]] static region create(size_t size) {
        std::error_code ec;
        region r = create(size, ec);
        detail::throw_if(ec);
        return r;
    }
    [[nodiscard]] static region create(size_t size, std::error_code &ec) noexcept {
        ipcx_region *r = nullptr;
        detail::assign(ec, ipcx_region_create(size, &r));
        return region(r);
    }

    // ipcx_region_base: the mapping in this process (data() the base, size() the length),
    // valid until the region is closed.
    [[nodiscard]] mutable_bytes base() const {
        std::error_code ec;
        mutable_bytes b = base(ec);
        detail::throw_if(ec);
        return b;
    }
    [[nodiscard]] mutable_bytes base(std::error_code &ec) const noexcept {
        void *p = nullptr;
        size_t n = 0;
        detail::assign(ec, ipcx_region_base(get(), &p, &n));
        return mutable_bytes(p, n);
    }

    // ipcx_region_write: copy `data` into the region at `offset`, bounds-checked.
    void write(size_t offset, bytes data) {
        std::error_code ec;
        write(offset, data, ec);
        detail::throw_if(ec);
    }
    void write(size_t offset, bytes data, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_region_write(get(), offset, data.data(), data.size()));
    }

    // ipcx_region_read: fill `out` from the region at `offset`, bounds-checked.
    void read(size_t offset, mutable_bytes out) const {
        std::error_code ec;
        read(offset, out, ec);
        detail::throw_if(ec);
    }
    void read(size_t offset, mutable_bytes out, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_region_read(get(), offset, out.data(), out.size()));
    }

    // ipcx_region_sync: write [offset, offset + len) back to the file (msync); flags 0 or
    // IPCX_REGION_SYNC_ASYNC.
    void sync(size_t offset, size_t len, uint32_t flags) {
        std::error_code ec;
        sync(offset, len, flags, ec);
        detail::throw_if(ec);
    }
    void sync(size_t offset, size_t len, uint32_t flags, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_region_sync(get(), offset, len, flags));
    }

    // ipcx_region_stat (its size field set here).
    [[nodiscard]] ipcx_region_info stat() const {
        std::error_code ec;
        ipcx_region_info i = stat(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_region_info stat(std::error_code &ec) const noexcept {
        ipcx_region_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_region_stat(get(), &i));
        return i;
    }

    // ipcx_region_set_checked_copies.
    void set_checked_copies(bool checked) {
        std::error_code ec;
        set_checked_copies(checked, ec);
        detail::throw_if(ec);
    }
    void set_checked_copies(bool checked, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_region_set_checked_copies(get(), checked));
    }
};

// ipcx_region_trap_install / ipcx_region_trap_remove: the process-wide SIGBUS trap that
// makes checked copies run at memory speed (docs/shm.md, "SIGBUS").
inline void region_trap_install(uint32_t flags, std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_region_trap_install(flags));
}
inline void region_trap_install(uint32_t flags = 0) {
    std::error_code ec;
    region_trap_install(flags, ec);
    detail::throw_if(ec);
}
inline void region_trap_remove(std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_region_trap_remove());
}
inline void region_trap_remove() {
    std::error_code ec;
    region_trap_remove(ec);
    detail::throw_if(ec);
}

// Mapped files (the C family `file`).
namespace file {

// ipcx_file_map: map `size` bytes of the file at `path` shared (0: the whole file).
[[nodiscard]] inline region map(std::string_view path, size_t size, uint32_t flags,
                                const options &opts, std::error_code &ec) {
    detail::c_name p(path, ec);
    if (!p) return region();
    ipcx_region *r = nullptr;
    detail::assign(ec, ipcx_file_map(p.get(), size, flags, opts.get(), &r));
    return region(r);
}
[[nodiscard]] inline region map(std::string_view path, size_t size, uint32_t flags,
                                const options &opts = {}) {
    std::error_code ec;
    region r = map(path, size, flags, opts, ec);
    detail::throw_if(ec);
    return r;
}

}  // namespace file

// A POSIX shared memory object (ipcx_shm, its descriptor). One thread at a time.
class shm : public detail::handle<ipcx_shm, ipcx_shm_close> {
public:
    using handle::handle;

    // ipcx_shm_open: "/name"; flags IPCX_OPEN_CREATE, _EXCLUSIVE, _READ, _WRITE.
    [[nodiscard]] static shm open(std::string_view name, uint32_t flags, const options &opts,
                                  std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return shm();
        ipcx_shm *s = nullptr;
        detail::assign(ec, ipcx_shm_open(n.get(), flags, opts.get(), &s));
        return shm(s);
    }
    [[nodiscard]] static shm open(std::string_view name, uint32_t flags,
                                  const options &opts = {}) {
        std::error_code ec;
        shm s = open(name, flags, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_shm_remove: remove the name.
    static void remove(std::string_view name, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (n) detail::assign(ec, ipcx_shm_remove(n.get()));
    }
    static void remove(std::string_view name) {
        std::error_code ec;
        remove(name, ec);
        detail::throw_if(ec);
    }

    // ipcx_shm_set_size.
    void set_size(size_t size) {
        std::error_code ec;
        set_size(size, ec);
        detail::throw_if(ec);
    }
    void set_size(size_t size, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_shm_set_size(get(), size));
    }

    // ipcx_shm_size: the object's current size.
    [[nodiscard]] size_t size() const {
        std::error_code ec;
        size_t n = size(ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t size(std::error_code &ec) const noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_shm_size(get(), &n));
        return n;
    }

    // ipcx_shm_map: the whole object as a region (independent of this handle).
    [[nodiscard]] region map(uint32_t flags) const {
        std::error_code ec;
        region r = map(flags, ec);
        detail::throw_if(ec);
        return r;
    }
    [[nodiscard]] region map(uint32_t flags, std::error_code &ec) const noexcept {
        ipcx_region *r = nullptr;
        detail::assign(ec, ipcx_shm_map(get(), flags, &r));
        return region(r);
    }
};

// A System V shared memory segment (ipcx_shm_segment). One thread at a time. Closing it
// frees the handle only: the segment stays until remove().
class shm_segment : public detail::handle<ipcx_shm_segment, ipcx_shm_segment_close> {
public:
    using handle::handle;

    // ipcx_shm_segment_open: by key (IPCX_KEY_PRIVATE: a new one, with IPCX_OPEN_CREATE).
    [[nodiscard]] static shm_segment open(int32_t key, size_t size, uint32_t flags,
                                          const options &opts, std::error_code &ec) noexcept {
        ipcx_shm_segment *s = nullptr;
        detail::assign(ec, ipcx_shm_segment_open(key, size, flags, opts.get(), &s));
        return shm_segment(s);
    }
    [[nodiscard]] static shm_segment open(int32_t key, size_t size, uint32_t flags,
                                          const options &opts = {}) {
        std::error_code ec;
        shm_segment s = open(key, size, flags, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_shm_segment_open_id.
    [[nodiscard]] static shm_segment open_id(int32_t id, std::error_code &ec) noexcept {
        ipcx_shm_segment *s = nullptr;
        detail::assign(ec, ipcx_shm_segment_open_id(id, &s));
        return shm_segment(s);
    }
    [[nodiscard]] static shm_segment open_id(int32_t id) {
        std::error_code ec;
        shm_segment s = open_id(id, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_shm_segment_id.
    [[nodiscard]] int32_t id() const {
        std::error_code ec;
        int32_t i = id(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] int32_t id(std::error_code &ec) const noexcept {
        int32_t i = -1;
        detail::assign(ec, ipcx_shm_segment_id(get(), &i));
        return i;
    }

    // ipcx_shm_segment_map: attach (shmat); closing the region detaches.
    [[nodiscard]] region map(uint32_t flags) const {
        std::error_code ec;
        region r = map(flags, ec);
        detail::throw_if(ec);
        return r;
    }
    [[nodiscard]] region map(uint32_t flags, std::error_code &ec) const noexcept {
        ipcx_region *r = nullptr;
        detail::assign(ec, ipcx_shm_segment_map(get(), flags, &r));
        return region(r);
    }

    // ipcx_shm_segment_stat (its size field set here).
    [[nodiscard]] ipcx_shm_segment_info stat() const {
        std::error_code ec;
        ipcx_shm_segment_info i = stat(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_shm_segment_info stat(std::error_code &ec) const noexcept {
        ipcx_shm_segment_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_shm_segment_stat(get(), &i));
        return i;
    }

    // ipcx_shm_segment_remove (IPC_RMID); the handle stays open.
    void remove() {
        std::error_code ec;
        remove(ec);
        detail::throw_if(ec);
    }
    void remove(std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_shm_segment_remove(get()));
    }
};

// ===================================================================== semaphores, locks

// A POSIX semaphore (ipcx_sem): named, unnamed in shared memory, or thread-only.
// Thread-safe.
class sem : public detail::handle<ipcx_sem, ipcx_sem_close> {
public:
    using handle::handle;

    // ipcx_sem_open: a named semaphore; `value` is its initial value if this call creates
    // it.
    [[nodiscard]] static sem open(std::string_view name, int64_t value, uint32_t flags,
                                  const options &opts, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return sem();
        ipcx_sem *s = nullptr;
        detail::assign(ec, ipcx_sem_open(n.get(), value, flags, opts.get(), &s));
        return sem(s);
    }
    [[nodiscard]] static sem open(std::string_view name, int64_t value, uint32_t flags,
                                  const options &opts = {}) {
        std::error_code ec;
        sem s = open(name, value, flags, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sem_remove: remove a named semaphore's name.
    static void remove(std::string_view name, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (n) detail::assign(ec, ipcx_sem_remove(n.get()));
    }
    static void remove(std::string_view name) {
        std::error_code ec;
        remove(name, ec);
        detail::throw_if(ec);
    }

    // ipcx_sem_init: an unnamed semaphore at `offset` of `r` (once, in one process).
    [[nodiscard]] static sem init(const region &r, size_t offset, int64_t value,
                                  std::error_code &ec) noexcept {
        ipcx_sem *s = nullptr;
        detail::assign(ec, ipcx_sem_init(r.get(), offset, value, &s));
        return sem(s);
    }
    [[nodiscard]] static sem init(const region &r, size_t offset, int64_t value) {
        std::error_code ec;
        sem s = init(r, offset, value, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sem_init_at: at an address of a shared mapping the caller made.
    [[nodiscard]] static sem init_at(void *addr, int64_t value, std::error_code &ec) noexcept {
        ipcx_sem *s = nullptr;
        detail::assign(ec, ipcx_sem_init_at(addr, value, &s));
        return sem(s);
    }
    [[nodiscard]] static sem init_at(void *addr, int64_t value) {
        std::error_code ec;
        sem s = init_at(addr, value, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sem_attach: the semaphore another process initialised at `offset` of `r`.
    [[nodiscard]] static sem attach(const region &r, size_t offset, std::error_code &ec) noexcept {
        ipcx_sem *s = nullptr;
        detail::assign(ec, ipcx_sem_attach(r.get(), offset, &s));
        return sem(s);
    }
    [[nodiscard]] static sem attach(const region &r, size_t offset) {
        std::error_code ec;
        sem s = attach(r, offset, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sem_attach_at.
    [[nodiscard]] static sem attach_at(void *addr, std::error_code &ec) noexcept {
        ipcx_sem *s = nullptr;
        detail::assign(ec, ipcx_sem_attach_at(addr, &s));
        return sem(s);
    }
    [[nodiscard]] static sem attach_at(void *addr) {
        std::error_code ec;
        sem s = attach_at(addr, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sem_create: a thread-only semaphore.
    [[nodiscard]] static sem create(int64_t value, std::error_code &ec) noexcept {
        ipcx_sem *s = nullptr;
        detail::assign(ec, ipcx_sem_create(value, &s));
        return sem(s);
    }
    [[nodiscard]] static sem create(int64_t value) {
        std::error_code ec;
        sem s = create(value, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sem_wait (P).
    void wait(timeout t) const {
        std::error_code ec;
        wait(t, ec);
        detail::throw_if(ec);
    }
    void wait(timeout t, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_sem_wait(get(), t.ms()));
    }

    // ipcx_sem_post (V).
    void post() const {
        std::error_code ec;
        post(ec);
        detail::throw_if(ec);
    }
    void post(std::error_code &ec) const noexcept { detail::assign(ec, ipcx_sem_post(get())); }

    // ipcx_sem_value.
    [[nodiscard]] int32_t value() const {
        std::error_code ec;
        int32_t v = value(ec);
        detail::throw_if(ec);
        return v;
    }
    [[nodiscard]] int32_t value(std::error_code &ec) const noexcept {
        int32_t v = 0;
        detail::assign(ec, ipcx_sem_value(get(), &v));
        return v;
    }

    // ipcx_sem_destroy: destroy an unnamed semaphore; the handle stays open.
    void destroy() {
        std::error_code ec;
        destroy(ec);
        detail::throw_if(ec);
    }
    void destroy(std::error_code &ec) noexcept { detail::assign(ec, ipcx_sem_destroy(get())); }
};

// ipcx::semset::id(): the set's id and size.
struct semset_id {
    int32_t id = -1;
    uint32_t nsems = 0;
};

// ipcx::semset::waiters(): processes waiting for an increase and for zero.
struct semset_waiters {
    uint32_t ncnt = 0;
    uint32_t zcnt = 0;
};

// A System V semaphore set (ipcx_semset). Thread-safe.
class semset : public detail::handle<ipcx_semset, ipcx_semset_close> {
public:
    using handle::handle;

    // ipcx_semset_open. `values`: empty (NULL: all 0) or exactly `nsems` initial values
    // (a different count is refused with errc::invalid before the C call, which would
    // read `nsems` values).
    [[nodiscard]] static semset open(int32_t key, uint32_t nsems, span<const int32_t> values,
                                     uint32_t flags, const options &opts, timeout t,
                                     std::error_code &ec) noexcept {
        if (!values.empty() && values.size() != nsems) {
            detail::refuse(ec, "ipcx C++ API: ipcx::semset::open: values must be empty or "
                               "hold exactly nsems values");
            return semset();
        }
        ipcx_semset *s = nullptr;
        detail::assign(ec, ipcx_semset_open(key, nsems, values.empty() ? nullptr : values.data(),
                                            flags, opts.get(), t.ms(), &s));
        return semset(s);
    }
    [[nodiscard]] static semset open(int32_t key, uint32_t nsems, span<const int32_t> values,
                                     uint32_t flags, const options &opts, timeout t) {
        std::error_code ec;
        semset s = open(key, nsems, values, flags, opts, t, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_semset_id.
    [[nodiscard]] semset_id id() const {
        std::error_code ec;
        semset_id i = id(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] semset_id id(std::error_code &ec) const noexcept {
        semset_id i;
        detail::assign(ec, ipcx_semset_id(get(), &i.id, &i.nsems));
        return i;
    }

    // ipcx_semset_op: the operations atomically.
    void op(span<const ipcx_semop> ops, timeout t) const {
        std::error_code ec;
        op(ops, t, ec);
        detail::throw_if(ec);
    }
    void op(span<const ipcx_semop> ops, timeout t, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_semset_op(get(), ops.data(), ops.size(), t.ms()));
    }

    // ipcx_semset_p: P on one semaphore; flags 0 or IPCX_SEMSET_UNDO.
    void p(uint32_t index, uint32_t flags, timeout t) const {
        std::error_code ec;
        p(index, flags, t, ec);
        detail::throw_if(ec);
    }
    void p(uint32_t index, uint32_t flags, timeout t, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_semset_p(get(), index, flags, t.ms()));
    }

    // ipcx_semset_v: V on one semaphore.
    void v(uint32_t index, uint32_t flags) const {
        std::error_code ec;
        v(index, flags, ec);
        detail::throw_if(ec);
    }
    void v(uint32_t index, uint32_t flags, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_semset_v(get(), index, flags));
    }

    // ipcx_semset_set (SETVAL). (set_value and get_value, since get() is the raw handle.)
    void set_value(uint32_t index, int32_t value) const {
        std::error_code ec;
        set_value(index, value, ec);
        detail::throw_if(ec);
    }
    void set_value(uint32_t index, int32_t value, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_semset_set(get(), index, value));
    }

    // ipcx_semset_get (GETVAL).
    [[nodiscard]] int32_t get_value(uint32_t index) const {
        std::error_code ec;
        int32_t v = get_value(index, ec);
        detail::throw_if(ec);
        return v;
    }
    [[nodiscard]] int32_t get_value(uint32_t index, std::error_code &ec) const noexcept {
        int32_t v = 0;
        detail::assign(ec, ipcx_semset_get(get(), index, &v));
        return v;
    }

    // ipcx_semset_set_all (SETALL): one value per semaphore.
    void set_all(span<const int32_t> values) const {
        std::error_code ec;
        set_all(values, ec);
        detail::throw_if(ec);
    }
    void set_all(span<const int32_t> values, std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_semset_set_all(get(), values.data(), values.size()));
    }

    // ipcx_semset_get_all (GETALL) into `out`: the number written (with errc::too_big, in
    // the std::error_code form, the number needed).
    size_t get_all(span<int32_t> out) const {
        std::error_code ec;
        size_t n = get_all(out, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t get_all(span<int32_t> out, std::error_code &ec) const noexcept {
        size_t n = out.size();
        detail::assign(ec, ipcx_semset_get_all(get(), out.data(), &n));
        return n;
    }

    // ipcx_semset_waiters (GETNCNT, GETZCNT).
    [[nodiscard]] semset_waiters waiters(uint32_t index) const {
        std::error_code ec;
        semset_waiters w = waiters(index, ec);
        detail::throw_if(ec);
        return w;
    }
    [[nodiscard]] semset_waiters waiters(uint32_t index, std::error_code &ec) const noexcept {
        semset_waiters w;
        detail::assign(ec, ipcx_semset_waiters(get(), index, &w.ncnt, &w.zcnt));
        return w;
    }

    // ipcx_semset_pid (GETPID).
    [[nodiscard]] int32_t pid(uint32_t index) const {
        std::error_code ec;
        int32_t p = pid(index, ec);
        detail::throw_if(ec);
        return p;
    }
    [[nodiscard]] int32_t pid(uint32_t index, std::error_code &ec) const noexcept {
        int32_t p = 0;
        detail::assign(ec, ipcx_semset_pid(get(), index, &p));
        return p;
    }

    // ipcx_semset_remove (IPC_RMID); the handle stays open.
    void remove() {
        std::error_code ec;
        remove(ec);
        detail::throw_if(ec);
    }
    void remove(std::error_code &ec) noexcept { detail::assign(ec, ipcx_semset_remove(get())); }
};

// What mutex::lock returns: the lock is held in both cases; owner_dead says its previous
// owner died holding it (repair the data, then mutex::consistent()).
enum class lock_result { acquired, owner_dead };

// What cond::wait returns: in every case the mutex is held again.
enum class wait_result { signalled, timeout, owner_dead };

// A robust, process-shared, error-checking mutex in shared memory (ipcx_mutex).
// Thread-safe.
//
// Not a std::mutex look-alike on purpose: std::lock_guard would discard lock()'s
// owner_dead outcome, and unlocking without repairing makes the mutex unusable for
// every process. lock() returns it instead (never thrown: the lock is held).
class mutex : public detail::handle<ipcx_mutex, ipcx_mutex_close> {
public:
    using handle::handle;

    // ipcx_mutex_init: at `offset` of `r`, once, in one process.
    [[nodiscard]] static mutex init(const region &r, size_t offset, const options &opts,
                                    std::error_code &ec) noexcept {
        ipcx_mutex *m = nullptr;
        detail::assign(ec, ipcx_mutex_init(r.get(), offset, opts.get(), &m));
        return mutex(m);
    }
    [[nodiscard]] static mutex init(const region &r, size_t offset, const options &opts = {}) {
        std::error_code ec;
        mutex m = init(r, offset, opts, ec);
        detail::throw_if(ec);
        return m;
    }

    // ipcx_mutex_init_at.
    [[nodiscard]] static mutex init_at(void *addr, const options &opts,
                                       std::error_code &ec) noexcept {
        ipcx_mutex *m = nullptr;
        detail::assign(ec, ipcx_mutex_init_at(addr, opts.get(), &m));
        return mutex(m);
    }
    [[nodiscard]] static mutex init_at(void *addr, const options &opts = {}) {
        std::error_code ec;
        mutex m = init_at(addr, opts, ec);
        detail::throw_if(ec);
        return m;
    }

    // ipcx_mutex_attach.
    [[nodiscard]] static mutex attach(const region &r, size_t offset,
                                      std::error_code &ec) noexcept {
        ipcx_mutex *m = nullptr;
        detail::assign(ec, ipcx_mutex_attach(r.get(), offset, &m));
        return mutex(m);
    }
    [[nodiscard]] static mutex attach(const region &r, size_t offset) {
        std::error_code ec;
        mutex m = attach(r, offset, ec);
        detail::throw_if(ec);
        return m;
    }

    // ipcx_mutex_attach_at.
    [[nodiscard]] static mutex attach_at(void *addr, std::error_code &ec) noexcept {
        ipcx_mutex *m = nullptr;
        detail::assign(ec, ipcx_mutex_attach_at(addr, &m));
        return mutex(m);
    }
    [[nodiscard]] static mutex attach_at(void *addr) {
        std::error_code ec;
        mutex m = attach_at(addr, ec);
        detail::throw_if(ec);
        return m;
    }

    // ipcx_mutex_lock: nowait is the try-lock. The throwing form throws for every failure
    // but IPCX_ERR_OWNER_DEAD, which it returns (the lock is held); the std::error_code
    // form sets ec to it as well.
    [[nodiscard]] lock_result lock(timeout t) const {
        std::error_code ec;
        lock_result r = lock(t, ec);
        if (ec != errc::owner_dead) detail::throw_if(ec);
        return r;
    }
    [[nodiscard]] lock_result lock(timeout t, std::error_code &ec) const noexcept {
        ipcx_status s = ipcx_mutex_lock(get(), t.ms());
        detail::assign(ec, s);
        return s == IPCX_ERR_OWNER_DEAD ? lock_result::owner_dead : lock_result::acquired;
    }

    // ipcx_mutex_unlock.
    void unlock() const {
        std::error_code ec;
        unlock(ec);
        detail::throw_if(ec);
    }
    void unlock(std::error_code &ec) const noexcept { detail::assign(ec, ipcx_mutex_unlock(get())); }

    // ipcx_mutex_consistent: after owner_dead, the data is repaired.
    void consistent() const {
        std::error_code ec;
        consistent(ec);
        detail::throw_if(ec);
    }
    void consistent(std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_mutex_consistent(get()));
    }

    // ipcx_mutex_destroy; the handle stays open.
    void destroy() {
        std::error_code ec;
        destroy(ec);
        detail::throw_if(ec);
    }
    void destroy(std::error_code &ec) noexcept { detail::assign(ec, ipcx_mutex_destroy(get())); }
};

// A process-shared condition variable in shared memory (ipcx_cond). Thread-safe.
class cond : public detail::handle<ipcx_cond, ipcx_cond_close> {
public:
    using handle::handle;

    // ipcx_cond_init.
    [[nodiscard]] static cond init(const region &r, size_t offset, std::error_code &ec) noexcept {
        ipcx_cond *c = nullptr;
        detail::assign(ec, ipcx_cond_init(r.get(), offset, &c));
        return cond(c);
    }
    [[nodiscard]] static cond init(const region &r, size_t offset) {
        std::error_code ec;
        cond c = init(r, offset, ec);
        detail::throw_if(ec);
        return c;
    }

    // ipcx_cond_init_at.
    [[nodiscard]] static cond init_at(void *addr, std::error_code &ec) noexcept {
        ipcx_cond *c = nullptr;
        detail::assign(ec, ipcx_cond_init_at(addr, &c));
        return cond(c);
    }
    [[nodiscard]] static cond init_at(void *addr) {
        std::error_code ec;
        cond c = init_at(addr, ec);
        detail::throw_if(ec);
        return c;
    }

    // ipcx_cond_attach.
    [[nodiscard]] static cond attach(const region &r, size_t offset,
                                     std::error_code &ec) noexcept {
        ipcx_cond *c = nullptr;
        detail::assign(ec, ipcx_cond_attach(r.get(), offset, &c));
        return cond(c);
    }
    [[nodiscard]] static cond attach(const region &r, size_t offset) {
        std::error_code ec;
        cond c = attach(r, offset, ec);
        detail::throw_if(ec);
        return c;
    }

    // ipcx_cond_attach_at.
    [[nodiscard]] static cond attach_at(void *addr, std::error_code &ec) noexcept {
        ipcx_cond *c = nullptr;
        detail::assign(ec, ipcx_cond_attach_at(addr, &c));
        return cond(c);
    }
    [[nodiscard]] static cond attach_at(void *addr) {
        std::error_code ec;
        cond c = attach_at(addr, ec);
        detail::throw_if(ec);
        return c;
    }

    // ipcx_cond_wait: release `m`, wait, take `m` back. The throwing form returns
    // wait_result::timeout and ::owner_dead (the mutex is held) and throws for the
    // failures after which it is not (errc::permission, not_recoverable, removed, ...).
    [[nodiscard]] wait_result wait(const mutex &m, timeout t) const {
        std::error_code ec;
        wait_result r = wait(m, t, ec);
        if (r == wait_result::signalled) detail::throw_if(ec);
        return r;
    }
    [[nodiscard]] wait_result wait(const mutex &m, timeout t, std::error_code &ec) const noexcept {
        ipcx_status s = ipcx_cond_wait(get(), m.get(), t.ms());
        detail::assign(ec, s);
        return s == IPCX_ERR_TIMEOUT      ? wait_result::timeout
               : s == IPCX_ERR_OWNER_DEAD ? wait_result::owner_dead
                                          : wait_result::signalled;
    }

    // ipcx_cond_signal.
    void signal() const {
        std::error_code ec;
        signal(ec);
        detail::throw_if(ec);
    }
    void signal(std::error_code &ec) const noexcept { detail::assign(ec, ipcx_cond_signal(get())); }

    // ipcx_cond_broadcast.
    void broadcast() const {
        std::error_code ec;
        broadcast(ec);
        detail::throw_if(ec);
    }
    void broadcast(std::error_code &ec) const noexcept {
        detail::assign(ec, ipcx_cond_broadcast(get()));
    }

    // ipcx_cond_destroy; the handle stays open.
    void destroy() {
        std::error_code ec;
        destroy(ec);
        detail::throw_if(ec);
    }
    void destroy(std::error_code &ec) noexcept { detail::assign(ec, ipcx_cond_destroy(get())); }
};

// ===================================================================== pipes and FIFOs

class pipe;

// ipcx::pipe::pair(): the two ends (for IPCX_PIPE_DUPLEX, `read` and `write` are just
// the two ends: each reads and writes).
struct pipe_pair;

// ipcx::pipe::fds(): the descriptors to poll, -1 where the end has no such direction.
// They stay the handle's: never close, read or write them.
struct pipe_fds {
    int read = -1;
    int write = -1;
};

// One end of a pipe or FIFO (ipcx_pipe). One thread at a time.
class pipe : public detail::handle<ipcx_pipe, ipcx_pipe_close> {
public:
    using handle::handle;

    // ipcx_pipe_pair: flags 0 or IPCX_PIPE_DUPLEX.
    [[nodiscard]] static pipe_pair pair(uint32_t flags, const options &opts,
                                        std::error_code &ec) noexcept;
    [[nodiscard]] static pipe_pair pair(uint32_t flags = 0, const options &opts = {});

    // ipcx_pipe_adopt: a handle of pipe or FIFO descriptors the program has (-1 for none).
    // On success the handle owns them (close-on-exec from then on); on failure the caller
    // keeps them. flags: 0.
    [[nodiscard]] static pipe adopt(int read_fd, int write_fd, uint32_t flags,
                                    const options &opts, std::error_code &ec) noexcept {
        ipcx_pipe *p = nullptr;
        detail::assign(ec, ipcx_pipe_adopt(read_fd, write_fd, flags, opts.get(), &p));
        return pipe(p);
    }
    [[nodiscard]] static pipe adopt(int read_fd, int write_fd, uint32_t flags = 0,
                                    const options &opts = {}) {
        std::error_code ec;
        pipe p = adopt(read_fd, write_fd, flags, opts, ec);
        detail::throw_if(ec);
        return p;
    }

    // ipcx_pipe_send: one framed message.
    void send(bytes msg, timeout t) {
        std::error_code ec;
        send(msg, t, ec);
        detail::throw_if(ec);
    }
    void send(bytes msg, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_pipe_send(get(), msg.data(), msg.size(), t.ms()));
    }

    // ipcx_pipe_send_many: several messages in one call (as many per system call as fit); how
    // many were accepted, the first ones of `msgs`, also when it fails.
    size_t send_many(const ipcx_iov *msgs, size_t count, timeout t) {
        std::error_code ec;
        size_t n = send_many(msgs, count, t, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t send_many(const ipcx_iov *msgs, size_t count, timeout t,
                     std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_pipe_send_many(get(), msgs, count, t.ms(), &n));
        return n;
    }

    // ipcx_pipe_recv: one message into `buf`; its length (with errc::too_big, in the
    // std::error_code form, the size needed).
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t) {
        std::error_code ec;
        size_t n = recv(buf, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        size_t n = buf.size();
        detail::assign(ec, ipcx_pipe_recv(get(), buf.data(), &n, t.ms()));
        return n;
    }

    // ipcx_pipe_write: raw bytes, all of them; the count written (also on error in the
    // std::error_code form).
    size_t write(bytes data, timeout t) {
        std::error_code ec;
        size_t n = write(data, t, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t write(bytes data, timeout t, std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_pipe_write(get(), data.data(), data.size(), t.ms(), &n));
        return n;
    }

    // ipcx_pipe_read: raw bytes, 1 to buf.size(); the count.
    [[nodiscard]] size_t read(mutable_bytes buf, timeout t) {
        std::error_code ec;
        size_t n = read(buf, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t read(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_pipe_read(get(), buf.data(), buf.size(), t.ms(), &n));
        return n;
    }

    // ipcx_pipe_flush: wait until the tail of a send that timed out midway is written.
    void flush(timeout t) {
        std::error_code ec;
        flush(t, ec);
        detail::throw_if(ec);
    }
    void flush(timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_pipe_flush(get(), t.ms()));
    }

    // ipcx_pipe_capacity: the kernel buffer size.
    [[nodiscard]] size_t capacity() const {
        std::error_code ec;
        size_t n = capacity(ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t capacity(std::error_code &ec) const noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_pipe_capacity(get(), &n));
        return n;
    }

    // ipcx_pipe_set_capacity: the size the kernel chose.
    size_t set_capacity(size_t bytes_wanted) {
        std::error_code ec;
        size_t n = set_capacity(bytes_wanted, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t set_capacity(size_t bytes_wanted, std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_pipe_set_capacity(get(), bytes_wanted, &n));
        return n;
    }

    // ipcx_pipe_fds.
    [[nodiscard]] pipe_fds fds() const {
        std::error_code ec;
        pipe_fds f = fds(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] pipe_fds fds(std::error_code &ec) const noexcept {
        pipe_fds f;
        detail::assign(ec, ipcx_pipe_fds(get(), &f.read, &f.write));
        return f;
    }
};

struct pipe_pair {
    pipe read;
    pipe write;
};

inline pipe_pair pipe::pair(uint32_t flags, const options &opts, std::error_code &ec) noexcept {
    ipcx_pipe *r = nullptr, *w = nullptr;
    detail::assign(ec, ipcx_pipe_pair(flags, opts.get(), &r, &w));
    return pipe_pair{pipe(r), pipe(w)};
}
inline pipe_pair pipe::pair(uint32_t flags, const options &opts) {
    std::error_code ec;
    pipe_pair p = pair(flags, opts, ec);
    detail::throw_if(ec);
    return p;
}

// FIFOs (the C family `fifo`): named pipes whose ends are ipcx::pipe.
namespace fifo {

// ipcx_fifo_make: mkfifo, without opening it.
inline void make(std::string_view path, const options &opts, std::error_code &ec) {
    detail::c_name p(path, ec);
    if (p) detail::assign(ec, ipcx_fifo_make(p.get(), opts.get()));
}
inline void make(std::string_view path, const options &opts = {}) {
    std::error_code ec;
    make(path, opts, ec);
    detail::throw_if(ec);
}

// ipcx_fifo_open: exactly one of IPCX_OPEN_READ / IPCX_OPEN_WRITE, maybe IPCX_OPEN_CREATE,
// _EXCLUSIVE, IPCX_FIFO_KEEP_OPEN; a writer waits up to `t` for a reader.
[[nodiscard]] inline pipe open(std::string_view path, uint32_t flags, const options &opts,
                               timeout t, std::error_code &ec) {
    detail::c_name p(path, ec);
    if (!p) return pipe();
    ipcx_pipe *e = nullptr;
    detail::assign(ec, ipcx_fifo_open(p.get(), flags, opts.get(), t.ms(), &e));
    return pipe(e);
}
[[nodiscard]] inline pipe open(std::string_view path, uint32_t flags, const options &opts,
                               timeout t) {
    std::error_code ec;
    pipe e = open(path, flags, opts, t, ec);
    detail::throw_if(ec);
    return e;
}

// ipcx_fifo_remove: only a FIFO is removed.
inline void remove(std::string_view path, std::error_code &ec) {
    detail::c_name p(path, ec);
    if (p) detail::assign(ec, ipcx_fifo_remove(p.get()));
}
inline void remove(std::string_view path) {
    std::error_code ec;
    remove(path, ec);
    detail::throw_if(ec);
}

}  // namespace fifo

// ===================================================================== sockets

class sock;
struct sock_pair;

// ipcx::sock::recvfrom(): the datagram's length and its sender's address.
struct datagram {
    size_t size = 0;
    std::string from;
};

// ipcx::sock::recv_fds(): the message's length and the descriptors that came with it,
// owned by the caller. `truncated`: descriptors were cut (IPCX_ERR_LIMIT: more than
// max_fds came, or the process is at RLIMIT_NOFILE); the message and `fds` were delivered
// all the same, so the throwing form does not throw for it.
struct fds_message {
    size_t size = 0;
    std::vector<unique_fd> fds;
    bool truncated = false;
};

// ipcx::sock::peer_credentials() (SO_PEERCRED).
struct credentials {
    int32_t pid = -1;
    uint32_t uid = static_cast<uint32_t>(-1);
    uint32_t gid = static_cast<uint32_t>(-1);
};

namespace detail {

// A text out-buffer call of the socket family: IPCX_SOCK_ADDR_MAX bytes always suffice,
// so it is one call.
template <class F>
std::string address_text(F &&call, std::error_code &ec) {
    char buf[IPCX_SOCK_ADDR_MAX];
    size_t len = sizeof buf;
    if (!assign(ec, call(buf, &len))) return std::string();
    return std::string(buf, len);
}

}  // namespace detail

// A connected or datagram socket (ipcx_sock). One thread at a time.
class sock : public detail::handle<ipcx_sock, ipcx_sock_close> {
public:
    using handle::handle;

    // ipcx_sock_pair: flags IPCX_SOCK_STREAM (or 0), _DGRAM or _SEQPACKET.
    [[nodiscard]] static sock_pair pair(uint32_t flags, const options &opts,
                                        std::error_code &ec) noexcept;
    [[nodiscard]] static sock_pair pair(uint32_t flags = 0, const options &opts = {});

    // ipcx_sock_adopt: a handle of a connected, accepted or datagram socket the program
    // has. On success the handle owns it (close-on-exec, blocking: ipcx manages it); on
    // failure the caller keeps it. flags: 0 (its own type) or the type expected.
    [[nodiscard]] static sock adopt(int fd, uint32_t flags, const options &opts,
                                    std::error_code &ec) noexcept {
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_adopt(fd, flags, opts.get(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock adopt(int fd, uint32_t flags = 0, const options &opts = {}) {
        std::error_code ec;
        sock s = adopt(fd, flags, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_connect_unix: a path or "@abstract".
    [[nodiscard]] static sock connect_unix(std::string_view name, uint32_t flags,
                                           const options &opts, timeout t, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return sock();
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_connect_unix(n.get(), flags, opts.get(), t.ms(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock connect_unix(std::string_view name, uint32_t flags,
                                           const options &opts, timeout t) {
        std::error_code ec;
        sock s = connect_unix(name, flags, opts, t, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_bind_unix: a datagram socket bound to a path or "@abstract".
    [[nodiscard]] static sock bind_unix(std::string_view name, const options &opts,
                                        std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return sock();
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_bind_unix(n.get(), opts.get(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock bind_unix(std::string_view name, const options &opts = {}) {
        std::error_code ec;
        sock s = bind_unix(name, opts, ec);
        detail::throw_if(ec);
        return s;
    }
    // ipcx_sock_bind_unix with a NULL name: an automatic abstract name.
    [[nodiscard]] static sock bind_unix_auto(const options &opts, std::error_code &ec) noexcept {
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_bind_unix(nullptr, opts.get(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock bind_unix_auto(const options &opts = {}) {
        std::error_code ec;
        sock s = bind_unix_auto(opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_connect_tcp_start: a numeric "a.b.c.d:port" or "[v6]:port"; the socket comes
    // back connecting: wait until fd() is writable, then connect_finish().
    [[nodiscard]] static sock connect_tcp_start(std::string_view address, const options &opts,
                                                std::error_code &ec) {
        detail::c_name a(address, ec);
        if (!a) return sock();
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_connect_tcp_start(a.get(), opts.get(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock connect_tcp_start(std::string_view address,
                                                const options &opts = {}) {
        std::error_code ec;
        sock s = connect_tcp_start(address, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_connect_finish: errc::timeout while the handshake is in progress.
    void connect_finish() {
        std::error_code ec;
        connect_finish(ec);
        detail::throw_if(ec);
    }
    void connect_finish(std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sock_connect_finish(get()));
    }

    // ipcx_sock_connect_tcp: "host:port" or "[v6]:port".
    [[nodiscard]] static sock connect_tcp(std::string_view address, const options &opts,
                                          timeout t, std::error_code &ec) {
        detail::c_name a(address, ec);
        if (!a) return sock();
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_connect_tcp(a.get(), opts.get(), t.ms(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock connect_tcp(std::string_view address, const options &opts,
                                          timeout t) {
        std::error_code ec;
        sock s = connect_tcp(address, opts, t, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_bind_udp.
    [[nodiscard]] static sock bind_udp(std::string_view address, const options &opts,
                                       std::error_code &ec) {
        detail::c_name a(address, ec);
        if (!a) return sock();
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_bind_udp(a.get(), opts.get(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock bind_udp(std::string_view address, const options &opts = {}) {
        std::error_code ec;
        sock s = bind_udp(address, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_connect_udp.
    [[nodiscard]] static sock connect_udp(std::string_view address, const options &opts,
                                          std::error_code &ec) {
        detail::c_name a(address, ec);
        if (!a) return sock();
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_connect_udp(a.get(), opts.get(), &s));
        return sock(s);
    }
    [[nodiscard]] static sock connect_udp(std::string_view address, const options &opts = {}) {
        std::error_code ec;
        sock s = connect_udp(address, opts, ec);
        detail::throw_if(ec);
        return s;
    }

    // ipcx_sock_send: one message (framed on streams).
    void send(bytes msg, timeout t) {
        std::error_code ec;
        send(msg, t, ec);
        detail::throw_if(ec);
    }
    void send(bytes msg, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sock_send(get(), msg.data(), msg.size(), t.ms()));
    }

    // ipcx_sock_recv: one message; its length (errc::too_big: the size needed).
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t) {
        std::error_code ec;
        size_t n = recv(buf, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        size_t n = buf.size();
        detail::assign(ec, ipcx_sock_recv(get(), buf.data(), &n, t.ms()));
        return n;
    }

    // ipcx_sock_write: raw bytes, all of them; the count written.
    size_t write(bytes data, timeout t) {
        std::error_code ec;
        size_t n = write(data, t, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t write(bytes data, timeout t, std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_sock_write(get(), data.data(), data.size(), t.ms(), &n));
        return n;
    }

    // ipcx_sock_read: raw bytes, 1 to buf.size().
    [[nodiscard]] size_t read(mutable_bytes buf, timeout t) {
        std::error_code ec;
        size_t n = read(buf, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t read(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_sock_read(get(), buf.data(), buf.size(), t.ms(), &n));
        return n;
    }

    // ipcx_sock_flush.
    void flush(timeout t) {
        std::error_code ec;
        flush(t, ec);
        detail::throw_if(ec);
    }
    void flush(timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sock_flush(get(), t.ms()));
    }

    // ipcx_sock_shutdown: IPCX_SOCK_SHUT_RD, _WR or _RDWR.
    void shutdown(uint32_t how) {
        std::error_code ec;
        shutdown(how, ec);
        detail::throw_if(ec);
    }
    void shutdown(uint32_t how, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sock_shutdown(get(), how));
    }

    // ipcx_sock_fd: the descriptor to poll (the handle's).
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_sock_fd(get(), &f));
        return f;
    }

    // ipcx_sock_sendto: one datagram to `to`.
    void sendto(bytes msg, std::string_view to, timeout t) {
        std::error_code ec;
        sendto(msg, to, t, ec);
        detail::throw_if(ec);
    }
    void sendto(bytes msg, std::string_view to, timeout t, std::error_code &ec) {
        detail::c_name a(to, ec);
        if (a) detail::assign(ec, ipcx_sock_sendto(get(), msg.data(), msg.size(), a.get(), t.ms()));
    }

    // ipcx_sock_recvfrom: one datagram and its sender (an IPCX_SOCK_ADDR_MAX buffer,
    // which always suffices); errc::too_big: .size is the size needed.
    [[nodiscard]] datagram recvfrom(mutable_bytes buf, timeout t) {
        std::error_code ec;
        datagram d = recvfrom(buf, t, ec);
        detail::throw_if(ec);
        return d;
    }
    [[nodiscard]] datagram recvfrom(mutable_bytes buf, timeout t, std::error_code &ec) {
        char from[IPCX_SOCK_ADDR_MAX];
        size_t from_len = sizeof from;
        datagram d;
        d.size = buf.size();
        ipcx_status s = ipcx_sock_recvfrom(get(), buf.data(), &d.size, from, &from_len, t.ms());
        if (detail::assign(ec, s)) d.from.assign(from, from_len);
        return d;
    }

    // ipcx_sock_send_fds: one message with descriptors (the caller keeps its own).
    void send_fds(bytes msg, span<const int> fds, timeout t) {
        std::error_code ec;
        send_fds(msg, fds, t, ec);
        detail::throw_if(ec);
    }
    void send_fds(bytes msg, span<const int> fds, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sock_send_fds(get(), msg.data(), msg.size(), fds.data(),
                                              fds.size(), t.ms()));
    }

    // ipcx_sock_recv_fds: one message and up to `max_fds` descriptors (at most
    // IPCX_SOCK_FDS_MAX), each owned by a unique_fd. The vector's room is reserved before
    // the call, so a descriptor handed over is never lost to an allocation failure.
    [[nodiscard]] fds_message recv_fds(mutable_bytes buf, size_t max_fds, timeout t) {
        std::error_code ec;
        fds_message m = recv_fds(buf, max_fds, t, ec);
        if (ec != errc::limit) detail::throw_if(ec);
        return m;
    }
    [[nodiscard]] fds_message recv_fds(mutable_bytes buf, size_t max_fds, timeout t,
                                       std::error_code &ec) {
        fds_message m;
        int raw[IPCX_SOCK_FDS_MAX];
        size_t nfds = max_fds < IPCX_SOCK_FDS_MAX ? max_fds : IPCX_SOCK_FDS_MAX;
        m.fds.reserve(nfds);
        m.size = buf.size();
        ipcx_status s = ipcx_sock_recv_fds(get(), buf.data(), &m.size, raw, &nfds, t.ms());
        detail::assign(ec, s);
        if (s == IPCX_OK || s == IPCX_ERR_LIMIT) {
            for (size_t i = 0; i < nfds; i++) m.fds.emplace_back(raw[i]);
            m.truncated = s == IPCX_ERR_LIMIT;
        }
        return m;
    }

    // ipcx_sock_peer_credentials.
    [[nodiscard]] credentials peer_credentials() const {
        std::error_code ec;
        credentials c = peer_credentials(ec);
        detail::throw_if(ec);
        return c;
    }
    [[nodiscard]] credentials peer_credentials(std::error_code &ec) const noexcept {
        credentials c;
        detail::assign(ec, ipcx_sock_peer_credentials(get(), &c.pid, &c.uid, &c.gid));
        return c;
    }

    // ipcx_sock_local_address: "/path", "@name", "" (unnamed), "127.0.0.1:4000", ...
    [[nodiscard]] std::string local_address() const {
        std::error_code ec;
        std::string a = local_address(ec);
        detail::throw_if(ec);
        return a;
    }
    [[nodiscard]] std::string local_address(std::error_code &ec) const {
        return detail::address_text(
            [this](char *b, size_t *l) { return ipcx_sock_local_address(get(), b, l); }, ec);
    }

    // ipcx_sock_peer_address.
    [[nodiscard]] std::string peer_address() const {
        std::error_code ec;
        std::string a = peer_address(ec);
        detail::throw_if(ec);
        return a;
    }
    [[nodiscard]] std::string peer_address(std::error_code &ec) const {
        return detail::address_text(
            [this](char *b, size_t *l) { return ipcx_sock_peer_address(get(), b, l); }, ec);
    }

    // ipcx_sock_set_nodelay (TCP).
    void set_nodelay(bool on) {
        std::error_code ec;
        set_nodelay(on, ec);
        detail::throw_if(ec);
    }
    void set_nodelay(bool on, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sock_set_nodelay(get(), on));
    }
};

struct sock_pair {
    sock a;
    sock b;
};

inline sock_pair sock::pair(uint32_t flags, const options &opts, std::error_code &ec) noexcept {
    ipcx_sock *a = nullptr, *b = nullptr;
    detail::assign(ec, ipcx_sock_pair(flags, opts.get(), &a, &b));
    return sock_pair{sock(a), sock(b)};
}
inline sock_pair sock::pair(uint32_t flags, const options &opts) {
    std::error_code ec;
    sock_pair p = pair(flags, opts, ec);
    detail::throw_if(ec);
    return p;
}

// A listening socket (ipcx_sock_listener). One thread at a time.
class sock_listener : public detail::handle<ipcx_sock_listener, ipcx_sock_listener_close> {
public:
    using handle::handle;

    // ipcx_sock_listen_unix: a path or "@abstract"; flags IPCX_SOCK_STREAM or _SEQPACKET.
    [[nodiscard]] static sock_listener listen_unix(std::string_view name, uint32_t flags,
                                                   const options &opts, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return sock_listener();
        ipcx_sock_listener *l = nullptr;
        detail::assign(ec, ipcx_sock_listen_unix(n.get(), flags, opts.get(), &l));
        return sock_listener(l);
    }
    [[nodiscard]] static sock_listener listen_unix(std::string_view name, uint32_t flags = 0,
                                                   const options &opts = {}) {
        std::error_code ec;
        sock_listener l = listen_unix(name, flags, opts, ec);
        detail::throw_if(ec);
        return l;
    }

    // ipcx_sock_listen_tcp: "host:port", "[v6]:port" or ":port" (0: any free port).
    [[nodiscard]] static sock_listener listen_tcp(std::string_view address, const options &opts,
                                                  std::error_code &ec) {
        detail::c_name a(address, ec);
        if (!a) return sock_listener();
        ipcx_sock_listener *l = nullptr;
        detail::assign(ec, ipcx_sock_listen_tcp(a.get(), opts.get(), &l));
        return sock_listener(l);
    }
    [[nodiscard]] static sock_listener listen_tcp(std::string_view address,
                                                  const options &opts = {}) {
        std::error_code ec;
        sock_listener l = listen_tcp(address, opts, ec);
        detail::throw_if(ec);
        return l;
    }

    // ipcx_sock_accept.
    [[nodiscard]] sock accept(timeout t) {
        std::error_code ec;
        sock s = accept(t, ec);
        detail::throw_if(ec);
        return s;
    }
    [[nodiscard]] sock accept(timeout t, std::error_code &ec) noexcept {
        ipcx_sock *s = nullptr;
        detail::assign(ec, ipcx_sock_accept(get(), t.ms(), &s));
        return sock(s);
    }

    // ipcx_sock_listener_fd.
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_sock_listener_fd(get(), &f));
        return f;
    }

    // ipcx_sock_listener_address: with the real port after listening on port 0.
    [[nodiscard]] std::string address() const {
        std::error_code ec;
        std::string a = address(ec);
        detail::throw_if(ec);
        return a;
    }
    [[nodiscard]] std::string address(std::error_code &ec) const {
        return detail::address_text(
            [this](char *b, size_t *l) { return ipcx_sock_listener_address(get(), b, l); }, ec);
    }
};

// ===================================================================== channels

struct chan_pair;

// One end of a channel (ipcx_chan): a sender or the receiver. One thread at a time.
class chan : public detail::handle<ipcx_chan, ipcx_chan_close> {
public:
    using handle::handle;

    // ipcx_chan_open: "fifo:/p", "unix:/p", "unix:@n", "tcp:h:p", "mq:/n",
    // "sysvmq:k[/t]", "shm:/n"; flags IPCX_OPEN_WRITE (a sender) or IPCX_OPEN_READ (the
    // receiver), maybe IPCX_CHAN_NO_CREATE, _KEEP, _MULTI_SENDER; senders may add
    // IPCX_OPEN_NONBLOCK (an open that never waits, for event loops).
    [[nodiscard]] static chan open(std::string_view address, uint32_t flags, const options &opts,
                                   timeout t, std::error_code &ec) {
        detail::c_name a(address, ec);
        if (!a) return chan();
        ipcx_chan *c = nullptr;
        detail::assign(ec, ipcx_chan_open(a.get(), flags, opts.get(), t.ms(), &c));
        return chan(c);
    }
    [[nodiscard]] static chan open(std::string_view address, uint32_t flags, const options &opts,
                                   timeout t) {
        std::error_code ec;
        chan c = open(address, flags, opts, t, ec);
        detail::throw_if(ec);
        return c;
    }

    // ipcx_chan_pair: "pipe:", "unix:" or "shm:", to share across fork.
    [[nodiscard]] static chan_pair pair(std::string_view address, uint32_t flags,
                                        const options &opts, std::error_code &ec);
    [[nodiscard]] static chan_pair pair(std::string_view address, uint32_t flags = 0,
                                        const options &opts = {});

    // ipcx_chan_send.
    void send(bytes msg, timeout t) {
        std::error_code ec;
        send(msg, t, ec);
        detail::throw_if(ec);
    }
    void send(bytes msg, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_chan_send(get(), msg.data(), msg.size(), t.ms()));
    }

    // ipcx_chan_send_many: several messages in one call (as many per system call as fit); how
    // many were accepted, the first ones of `msgs`, also when it fails.
    size_t send_many(const ipcx_iov *msgs, size_t count, timeout t) {
        std::error_code ec;
        size_t n = send_many(msgs, count, t, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t send_many(const ipcx_iov *msgs, size_t count, timeout t,
                     std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_chan_send_many(get(), msgs, count, t.ms(), &n));
        return n;
    }

    // ipcx_chan_flush: write out the rest of a message a send accepted (an event loop's
    // last step before close; errc::timeout: some is left, wait for writability).
    void flush(timeout t) {
        std::error_code ec;
        flush(t, ec);
        detail::throw_if(ec);
    }
    void flush(timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_chan_flush(get(), t.ms()));
    }

    // ipcx_chan_recv: one message; its length (errc::too_big: the size needed).
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t) {
        std::error_code ec;
        size_t n = recv(buf, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        size_t n = buf.size();
        detail::assign(ec, ipcx_chan_recv(get(), buf.data(), &n, t.ms()));
        return n;
    }

    // ipcx_chan_fd: a receiver's descriptor (readable; edge-triggered use: drain with
    // nowait) or a sender's (writable when a send with nowait makes progress; a shm:
    // sender's is the ring's room descriptor, readable instead: see fd_events()).
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_chan_fd(get(), &f));
        return f;
    }

    // The event to watch on fd(): IPCX_CHAN_POLL_IN (asio wait_read, UV_READABLE) or
    // IPCX_CHAN_POLL_OUT (wait_write, UV_WRITABLE); 0 without a descriptor. One
    // ipcx_chan_stat, its fd_events field.
    [[nodiscard]] uint32_t fd_events() const { return stat().fd_events; }
    [[nodiscard]] uint32_t fd_events(std::error_code &ec) const noexcept {
        return stat(ec).fd_events;
    }

    // ipcx_chan_stat (its size field set here); the strings are the handle's.
    [[nodiscard]] ipcx_chan_info stat() const {
        std::error_code ec;
        ipcx_chan_info i = stat(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_chan_info stat(std::error_code &ec) const noexcept {
        ipcx_chan_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_chan_stat(get(), &i));
        return i;
    }
};

struct chan_pair {
    chan send;
    chan recv;
};

inline chan_pair chan::pair(std::string_view address, uint32_t flags, const options &opts,
                            std::error_code &ec) {
    detail::c_name a(address, ec);
    if (!a) return chan_pair{};
    ipcx_chan *s = nullptr, *r = nullptr;
    detail::assign(ec, ipcx_chan_pair(a.get(), flags, opts.get(), &s, &r));
    return chan_pair{chan(s), chan(r)};
}
inline chan_pair chan::pair(std::string_view address, uint32_t flags, const options &opts) {
    std::error_code ec;
    chan_pair p = pair(address, flags, opts, ec);
    detail::throw_if(ec);
    return p;
}

// ===================================================================== message queues

// ipcx::mq::recv(): the message's length (errc::too_big: the size needed) and priority.
struct mq_message {
    size_t size = 0;
    uint32_t priority = 0;
};

// A POSIX message queue (ipcx_mq). One thread at a time.
class mq : public detail::handle<ipcx_mq, ipcx_mq_close> {
public:
    using handle::handle;

    // ipcx_mq_open: "/name"; IPCX_OPEN_READ and/or _WRITE, maybe _CREATE, _EXCLUSIVE,
    // _NONBLOCK.
    [[nodiscard]] static mq open(std::string_view name, uint32_t flags, const options &opts,
                                 std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return mq();
        ipcx_mq *q = nullptr;
        detail::assign(ec, ipcx_mq_open(n.get(), flags, opts.get(), &q));
        return mq(q);
    }
    [[nodiscard]] static mq open(std::string_view name, uint32_t flags, const options &opts = {}) {
        std::error_code ec;
        mq q = open(name, flags, opts, ec);
        detail::throw_if(ec);
        return q;
    }

    // ipcx_mq_remove: remove the name.
    static void remove(std::string_view name, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (n) detail::assign(ec, ipcx_mq_remove(n.get()));
    }
    static void remove(std::string_view name) {
        std::error_code ec;
        remove(name, ec);
        detail::throw_if(ec);
    }

    // ipcx_mq_send: priority 0 .. IPCX_MQ_PRIO_MAX - 1.
    void send(bytes msg, uint32_t priority, timeout t) {
        std::error_code ec;
        send(msg, priority, t, ec);
        detail::throw_if(ec);
    }
    void send(bytes msg, uint32_t priority, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_mq_send(get(), msg.data(), msg.size(), priority, t.ms()));
    }

    // ipcx_mq_recv: `buf` at least the queue's message size (stat().message_size).
    [[nodiscard]] mq_message recv(mutable_bytes buf, timeout t) {
        std::error_code ec;
        mq_message m = recv(buf, t, ec);
        detail::throw_if(ec);
        return m;
    }
    [[nodiscard]] mq_message recv(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        mq_message m;
        m.size = buf.size();
        detail::assign(ec, ipcx_mq_recv(get(), buf.data(), &m.size, t.ms(), &m.priority));
        return m;
    }

    // ipcx_mq_stat (its size field set here).
    [[nodiscard]] ipcx_mq_info stat() const {
        std::error_code ec;
        ipcx_mq_info i = stat(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_mq_info stat(std::error_code &ec) const noexcept {
        ipcx_mq_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_mq_stat(get(), &i));
        return i;
    }

    // ipcx_mq_set_nonblocking.
    void set_nonblocking(bool on) {
        std::error_code ec;
        set_nonblocking(on, ec);
        detail::throw_if(ec);
    }
    void set_nonblocking(bool on, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_mq_set_nonblocking(get(), on));
    }

    // ipcx_mq_fd: the queue descriptor to poll (the handle's).
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_mq_fd(get(), &f));
        return f;
    }

    // ipcx_mq_notify: arm arrival notification; the descriptor that fires (the handle's).
    int notify() {
        std::error_code ec;
        int f = notify(ec);
        detail::throw_if(ec);
        return f;
    }
    int notify(std::error_code &ec) noexcept {
        int f = -1;
        detail::assign(ec, ipcx_mq_notify(get(), &f));
        return f;
    }

    // ipcx_mq_notify_cancel.
    void notify_cancel() {
        std::error_code ec;
        notify_cancel(ec);
        detail::throw_if(ec);
    }
    void notify_cancel(std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_mq_notify_cancel(get()));
    }
};

// ipcx::msgq::recv(): the message's length (errc::too_big: the size needed) and type.
struct msgq_message {
    size_t size = 0;
    long type = 0;
};

// ipcx::msgq::limits(): msgmax, msgmnb, msgmni.
struct msgq_limits {
    size_t msgmax = 0;
    size_t msgmnb = 0;
    size_t msgmni = 0;
};

// A System V message queue (ipcx_msgq). One thread at a time. Closing it frees the
// handle only: the queue stays until remove().
class msgq : public detail::handle<ipcx_msgq, ipcx_msgq_close> {
public:
    using handle::handle;

    // ipcx_msgq_open: by key (IPCX_KEY_PRIVATE: a new one, with IPCX_OPEN_CREATE).
    [[nodiscard]] static msgq open(int32_t key, uint32_t flags, const options &opts,
                                   std::error_code &ec) noexcept {
        ipcx_msgq *q = nullptr;
        detail::assign(ec, ipcx_msgq_open(key, flags, opts.get(), &q));
        return msgq(q);
    }
    [[nodiscard]] static msgq open(int32_t key, uint32_t flags, const options &opts = {}) {
        std::error_code ec;
        msgq q = open(key, flags, opts, ec);
        detail::throw_if(ec);
        return q;
    }

    // ipcx_msgq_open_id.
    [[nodiscard]] static msgq open_id(int32_t id, std::error_code &ec) noexcept {
        ipcx_msgq *q = nullptr;
        detail::assign(ec, ipcx_msgq_open_id(id, &q));
        return msgq(q);
    }
    [[nodiscard]] static msgq open_id(int32_t id) {
        std::error_code ec;
        msgq q = open_id(id, ec);
        detail::throw_if(ec);
        return q;
    }

    // ipcx_msgq_limits.
    [[nodiscard]] static msgq_limits limits(std::error_code &ec) noexcept {
        msgq_limits l;
        detail::assign(ec, ipcx_msgq_limits(&l.msgmax, &l.msgmnb, &l.msgmni));
        return l;
    }
    [[nodiscard]] static msgq_limits limits() {
        std::error_code ec;
        msgq_limits l = limits(ec);
        detail::throw_if(ec);
        return l;
    }

    // ipcx_msgq_id.
    [[nodiscard]] int32_t id() const {
        std::error_code ec;
        int32_t i = id(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] int32_t id(std::error_code &ec) const noexcept {
        int32_t i = -1;
        detail::assign(ec, ipcx_msgq_id(get(), &i));
        return i;
    }

    // ipcx_msgq_send: `mtype` > 0.
    void send(bytes msg, long mtype, timeout t) {
        std::error_code ec;
        send(msg, mtype, t, ec);
        detail::throw_if(ec);
    }
    void send(bytes msg, long mtype, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_msgq_send(get(), msg.data(), msg.size(), mtype, t.ms()));
    }

    // ipcx_msgq_recv: chosen by `mtype` as msgrcv(2) does; flags 0, IPCX_MSGQ_EXCEPT,
    // IPCX_MSGQ_TRUNCATE.
    [[nodiscard]] msgq_message recv(mutable_bytes buf, long mtype, uint32_t flags, timeout t) {
        std::error_code ec;
        msgq_message m = recv(buf, mtype, flags, t, ec);
        detail::throw_if(ec);
        return m;
    }
    [[nodiscard]] msgq_message recv(mutable_bytes buf, long mtype, uint32_t flags, timeout t,
                                    std::error_code &ec) noexcept {
        msgq_message m;
        m.size = buf.size();
        detail::assign(ec, ipcx_msgq_recv(get(), buf.data(), &m.size, mtype, flags, t.ms(),
                                          &m.type));
        return m;
    }

    // ipcx_msgq_stat (its size field set here).
    [[nodiscard]] ipcx_msgq_info stat() const {
        std::error_code ec;
        ipcx_msgq_info i = stat(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_msgq_info stat(std::error_code &ec) const noexcept {
        ipcx_msgq_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_msgq_stat(get(), &i));
        return i;
    }

    // ipcx_msgq_set_max_bytes (msg_qbytes).
    void set_max_bytes(size_t max_bytes) {
        std::error_code ec;
        set_max_bytes(max_bytes, ec);
        detail::throw_if(ec);
    }
    void set_max_bytes(size_t max_bytes, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_msgq_set_max_bytes(get(), max_bytes));
    }

    // ipcx_msgq_remove (IPC_RMID); the handle stays open.
    void remove() {
        std::error_code ec;
        remove(ec);
        detail::throw_if(ec);
    }
    void remove(std::error_code &ec) noexcept { detail::assign(ec, ipcx_msgq_remove(get())); }
};

// ===================================================================== rings

struct ring_pair;

// One end of a shared-memory ring (ipcx_ring): a producer or a consumer. One thread at a
// time.
class ring : public detail::handle<ipcx_ring, ipcx_ring_close> {
public:
    using handle::handle;

    class reservation;
    class borrowed;

    // ipcx_ring_open: "/name"; IPCX_OPEN_WRITE (producer) or _READ (consumer), maybe
    // _CREATE, _EXCLUSIVE, IPCX_RING_MPMC.
    [[nodiscard]] static ring open(std::string_view name, uint32_t flags, const options &opts,
                                   std::error_code &ec) {
        detail::c_name n(name, ec);
        if (!n) return ring();
        ipcx_ring *r = nullptr;
        detail::assign(ec, ipcx_ring_open(n.get(), flags, opts.get(), &r));
        return ring(r);
    }
    [[nodiscard]] static ring open(std::string_view name, uint32_t flags,
                                   const options &opts = {}) {
        std::error_code ec;
        ring r = open(name, flags, opts, ec);
        detail::throw_if(ec);
        return r;
    }

    // ipcx_ring_pair: an anonymous ring over fork; flags 0 or IPCX_RING_MPMC.
    [[nodiscard]] static ring_pair pair(uint32_t flags, const options &opts,
                                        std::error_code &ec) noexcept;
    [[nodiscard]] static ring_pair pair(uint32_t flags = 0, const options &opts = {});

    // ipcx_ring_remove: remove a named ring.
    static void remove(std::string_view name, std::error_code &ec) {
        detail::c_name n(name, ec);
        if (n) detail::assign(ec, ipcx_ring_remove(n.get()));
    }
    static void remove(std::string_view name) {
        std::error_code ec;
        remove(name, ec);
        detail::throw_if(ec);
    }

    // ipcx_ring_send (producer).
    void send(bytes msg, timeout t) {
        std::error_code ec;
        send(msg, t, ec);
        detail::throw_if(ec);
    }
    void send(bytes msg, timeout t, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_ring_send(get(), msg.data(), msg.size(), t.ms()));
    }

    // ipcx_ring_recv (consumer): its length (errc::too_big: the size needed).
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t) {
        std::error_code ec;
        size_t n = recv(buf, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t recv(mutable_bytes buf, timeout t, std::error_code &ec) noexcept {
        size_t n = buf.size();
        detail::assign(ec, ipcx_ring_recv(get(), buf.data(), &n, t.ms()));
        return n;
    }

    // ipcx_ring_send_many (producer): several messages in one call, each published as it
    // is written; how many were published, the first ones of `msgs`, also when it fails.
    size_t send_many(const ipcx_iov *msgs, size_t count, timeout t) {
        std::error_code ec;
        size_t n = send_many(msgs, count, t, ec);
        detail::throw_if(ec);
        return n;
    }
    size_t send_many(const ipcx_iov *msgs, size_t count, timeout t,
                     std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_ring_send_many(get(), msgs, count, t.ms(), &n));
        return n;
    }

    // ipcx_ring_recv_many (consumer): the next message and those queued behind it that fit,
    // copied into `buf` (each at an 8-byte multiple offset); `out[i]` says where message i
    // lies in `buf`. How many (at least 1); with errc::too_big, in the std::error_code form,
    // out[0].len is the size the next message needs.
    [[nodiscard]] size_t recv_many(mutable_bytes buf, ipcx_iov *out, size_t max_count, timeout t) {
        std::error_code ec;
        size_t n = recv_many(buf, out, max_count, t, ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t recv_many(mutable_bytes buf, ipcx_iov *out, size_t max_count, timeout t,
                                   std::error_code &ec) noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_ring_recv_many(get(), buf.data(), buf.size(), out, max_count,
                                               t.ms(), &n));
        return n;
    }

    // ipcx_ring_reserve (zero-copy send): room for up to `len` bytes, in place. The
    // reservation commits or aborts it; its destructor aborts it if neither was done.
    [[nodiscard]] reservation reserve(size_t len, timeout t);
    [[nodiscard]] reservation reserve(size_t len, timeout t, std::error_code &ec) noexcept;

    // ipcx_ring_borrow (zero-copy receive): the next message, in place, until the
    // borrowed object releases it (release(), or its destructor).
    [[nodiscard]] borrowed borrow(timeout t);
    [[nodiscard]] borrowed borrow(timeout t, std::error_code &ec) noexcept;

    // ipcx_ring_fd: the descriptor to poll for reading (the handle's): a consumer's when a
    // message may be there, a producer's when room may be.
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_ring_fd(get(), &f));
        return f;
    }

    // ipcx_ring_stat (its size field set here).
    [[nodiscard]] ipcx_ring_info stat() const {
        std::error_code ec;
        ipcx_ring_info i = stat(ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_ring_info stat(std::error_code &ec) const noexcept {
        ipcx_ring_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_ring_stat(get(), &i));
        return i;
    }
};

// A message reserved in a ring (ipcx_ring_reserve). Move-only. It refers to the ring by
// its handle value, so it stays safe if the ring is closed first (closing aborts the
// reservation; a later commit() then reports errc::bad_handle).
class ring::reservation {
public:
    reservation() noexcept = default;
    reservation(reservation &&o) noexcept
        : r_(std::exchange(o.r_, nullptr)), data_(std::exchange(o.data_, mutable_bytes())) {}
    reservation &operator=(reservation &&o) noexcept {
        if (this != &o) {
            abort_silently();
            r_ = std::exchange(o.r_, nullptr);
            data_ = std::exchange(o.data_, mutable_bytes());
        }
        return *this;
    }
    reservation(const reservation &) = delete;
    reservation &operator=(const reservation &) = delete;
    ~reservation() { abort_silently(); }

    // Where to write the message: data() and size() as reserved.
    mutable_bytes data() const noexcept { return data_; }
    explicit operator bool() const noexcept { return r_ != nullptr; }

    // ipcx_ring_commit: publish the first `len` bytes.
    void commit(size_t len) {
        std::error_code ec;
        commit(len, ec);
        detail::throw_if(ec);
    }
    void commit(size_t len, std::error_code &ec) noexcept {
        // Given up once published, or once the ring is gone or corrupted; the C library
        // keeps the reservation after errc::invalid (len above it) and errc::in_use, and
        // so does this object.
        if (detail::assign(ec, ipcx_ring_commit(r_, len)) || ec == errc::bad_handle ||
            ec == errc::protocol)
            done();
    }

    // ipcx_ring_abort: publish nothing.
    void abort() {
        std::error_code ec;
        abort(ec);
        detail::throw_if(ec);
    }
    void abort(std::error_code &ec) noexcept {
        if (detail::assign(ec, ipcx_ring_abort(r_)) || ec != errc::in_use) done();
    }

private:
    friend class ring;
    reservation(ipcx_ring *r, void *p, size_t n) noexcept : r_(r), data_(p, n) {}
    void done() noexcept {
        r_ = nullptr;
        data_ = mutable_bytes();
    }
    void abort_silently() noexcept {
        if (r_) (void)ipcx_ring_abort(r_);
        done();
    }

    ipcx_ring *r_ = nullptr;
    mutable_bytes data_;
};

// A message borrowed from a ring (ipcx_ring_borrow). Move-only; released by release() or
// the destructor. Like reservation, safe if the ring is closed first.
class ring::borrowed {
public:
    borrowed() noexcept = default;
    borrowed(borrowed &&o) noexcept
        : r_(std::exchange(o.r_, nullptr)), data_(std::exchange(o.data_, bytes())) {}
    borrowed &operator=(borrowed &&o) noexcept {
        if (this != &o) {
            release_silently();
            r_ = std::exchange(o.r_, nullptr);
            data_ = std::exchange(o.data_, bytes());
        }
        return *this;
    }
    borrowed(const borrowed &) = delete;
    borrowed &operator=(const borrowed &) = delete;
    ~borrowed() { release_silently(); }

    // The message, in the ring's memory (the producer can write it: copy before
    // validating if it is not trusted).
    bytes data() const noexcept { return data_; }
    explicit operator bool() const noexcept { return r_ != nullptr; }

    // ipcx_ring_release: the message is consumed.
    void release() {
        std::error_code ec;
        release(ec);
        detail::throw_if(ec);
    }
    void release(std::error_code &ec) noexcept {
        if (detail::assign(ec, ipcx_ring_release(r_)) || ec != errc::in_use) {
            r_ = nullptr;
            data_ = bytes();
        }
    }

private:
    friend class ring;
    borrowed(ipcx_ring *r, const void *p, size_t n) noexcept : r_(r), data_(p, n) {}
    void release_silently() noexcept {
        if (r_) (void)ipcx_ring_release(r_);
        r_ = nullptr;
        data_ = bytes();
    }

    ipcx_ring *r_ = nullptr;
    bytes data_;
};

inline ring::reservation ring::reserve(size_t len, timeout t, std::error_code &ec) noexcept {
    void *p = nullptr;
    if (!detail::assign(ec, ipcx_ring_reserve(get(), len, t.ms(), &p))) return reservation();
    return reservation(get(), p, len);
}
inline ring::reservation ring::reserve(size_t len, timeout t) {
    std::error_code ec;
    reservation r = reserve(len, t, ec);
    detail::throw_if(ec);
    return r;
}
inline ring::borrowed ring::borrow(timeout t, std::error_code &ec) noexcept {
    const void *p = nullptr;
    size_t n = 0;
    if (!detail::assign(ec, ipcx_ring_borrow(get(), t.ms(), &p, &n))) return borrowed();
    return borrowed(get(), p, n);
}
inline ring::borrowed ring::borrow(timeout t) {
    std::error_code ec;
    borrowed b = borrow(t, ec);
    detail::throw_if(ec);
    return b;
}

struct ring_pair {
    ring producer;
    ring consumer;
};

inline ring_pair ring::pair(uint32_t flags, const options &opts, std::error_code &ec) noexcept {
    ipcx_ring *p = nullptr, *c = nullptr;
    detail::assign(ec, ipcx_ring_pair(flags, opts.get(), &p, &c));
    return ring_pair{ring(p), ring(c)};
}
inline ring_pair ring::pair(uint32_t flags, const options &opts) {
    std::error_code ec;
    ring_pair p = pair(flags, opts, ec);
    detail::throw_if(ec);
    return p;
}

// ===================================================================== signals

// A set of signals (ipcx_sigset: bit n - 1 for signal n). A value type.
class sigset {
public:
    constexpr sigset() noexcept = default;
    constexpr explicit sigset(ipcx_sigset bits) noexcept : bits_(bits) {}
    // The signals listed (ipcx_sigset_add for each; throws for a refused number).
    sigset(std::initializer_list<int> signos) {
        for (int s : signos) add(s);
    }
    // Every signal (the mask functions drop those that cannot be blocked).
    static constexpr sigset all() noexcept { return sigset(~ipcx_sigset(0)); }

    // ipcx_sigset_add.
    sigset &add(int signo) {
        std::error_code ec;
        add(signo, ec);
        detail::throw_if(ec);
        return *this;
    }
    void add(int signo, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sigset_add(&bits_, signo));
    }
    // ipcx_sigset_del.
    sigset &del(int signo) {
        std::error_code ec;
        del(signo, ec);
        detail::throw_if(ec);
        return *this;
    }
    void del(int signo, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_sigset_del(&bits_, signo));
    }
    // ipcx_sigset_has (async-signal-safe).
    bool has(int signo) const noexcept { return ipcx_sigset_has(bits_, signo); }

    constexpr ipcx_sigset bits() const noexcept { return bits_; }
    constexpr bool empty() const noexcept { return bits_ == 0; }
    friend constexpr bool operator==(sigset a, sigset b) noexcept { return a.bits_ == b.bits_; }
    friend constexpr bool operator!=(sigset a, sigset b) noexcept { return a.bits_ != b.bits_; }

private:
    ipcx_sigset bits_ = 0;
};

// Signals (the C family `signal`): dispositions, masks, sending and waiting. Every
// function that changes a disposition returns the previous one. (`default_` and
// `catch_`: `default` and `catch` are C++ keywords.)
namespace detail {
inline ipcx_signal_disposition empty_disposition() noexcept {
    ipcx_signal_disposition d{};
    d.size = sizeof d;
    return d;
}
inline ipcx_siginfo empty_siginfo() noexcept {
    ipcx_siginfo i{};
    i.size = sizeof i;
    return i;
}
}  // namespace detail

namespace signal {

// SIGRTMIN and SIGRTMAX (async-signal-safe).
inline int rtmin() noexcept { return ipcx_signal_rtmin(); }
inline int rtmax() noexcept { return ipcx_signal_rtmax(); }

// ipcx_signal_ignore.
inline ipcx_signal_disposition ignore(int signo, std::error_code &ec) noexcept {
    ipcx_signal_disposition old = detail::empty_disposition();
    detail::assign(ec, ipcx_signal_ignore(signo, &old));
    return old;
}
inline ipcx_signal_disposition ignore(int signo) {
    std::error_code ec;
    ipcx_signal_disposition r = ignore(signo, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_default.
inline ipcx_signal_disposition default_(int signo, std::error_code &ec) noexcept {
    ipcx_signal_disposition old = detail::empty_disposition();
    detail::assign(ec, ipcx_signal_default(signo, &old));
    return old;
}
inline ipcx_signal_disposition default_(int signo) {
    std::error_code ec;
    ipcx_signal_disposition r = default_(signo, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_catch: the handler may only call async-signal-safe functions (see
// ipcx_signal_handler in ipcx.h: no C++ API call qualifies; call ipcx_notifier_poke).
inline ipcx_signal_disposition catch_(int signo, ipcx_signal_handler handler, uint32_t flags,
                                      std::error_code &ec) noexcept {
    ipcx_signal_disposition old = detail::empty_disposition();
    detail::assign(ec, ipcx_signal_catch(signo, handler, flags, &old));
    return old;
}
inline ipcx_signal_disposition catch_(int signo, ipcx_signal_handler handler, uint32_t flags) {
    std::error_code ec;
    ipcx_signal_disposition r = catch_(signo, handler, flags, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_get_disposition.
inline ipcx_signal_disposition get_disposition(int signo, std::error_code &ec) noexcept {
    ipcx_signal_disposition d = detail::empty_disposition();
    detail::assign(ec, ipcx_signal_get_disposition(signo, &d));
    return d;
}
inline ipcx_signal_disposition get_disposition(int signo) {
    std::error_code ec;
    ipcx_signal_disposition r = get_disposition(signo, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_set_disposition: install `d` exactly (its size field is set here, on a
// copy); returns the previous one.
inline ipcx_signal_disposition set_disposition(int signo, const ipcx_signal_disposition &d,
                                               std::error_code &ec) noexcept {
    ipcx_signal_disposition in = d;
    in.size = sizeof in;
    ipcx_signal_disposition old = detail::empty_disposition();
    detail::assign(ec, ipcx_signal_set_disposition(signo, &in, &old));
    return old;
}
inline ipcx_signal_disposition set_disposition(int signo, const ipcx_signal_disposition &d) {
    std::error_code ec;
    ipcx_signal_disposition r = set_disposition(signo, d, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_block (this thread; returns the previous mask).
inline sigset block(sigset set, std::error_code &ec) noexcept {
    ipcx_sigset old = 0;
    detail::assign(ec, ipcx_signal_block(set.bits(), &old));
    return sigset(old);
}
inline sigset block(sigset set) {
    std::error_code ec;
    sigset r = block(set, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_unblock.
inline sigset unblock(sigset set, std::error_code &ec) noexcept {
    ipcx_sigset old = 0;
    detail::assign(ec, ipcx_signal_unblock(set.bits(), &old));
    return sigset(old);
}
inline sigset unblock(sigset set) {
    std::error_code ec;
    sigset r = unblock(set, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_set_mask.
inline sigset set_mask(sigset set, std::error_code &ec) noexcept {
    ipcx_sigset old = 0;
    detail::assign(ec, ipcx_signal_set_mask(set.bits(), &old));
    return sigset(old);
}
inline sigset set_mask(sigset set) {
    std::error_code ec;
    sigset r = set_mask(set, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_get_mask.
inline sigset get_mask(std::error_code &ec) noexcept {
    ipcx_sigset s = 0;
    detail::assign(ec, ipcx_signal_get_mask(&s));
    return sigset(s);
}
inline sigset get_mask() {
    std::error_code ec;
    sigset r = get_mask(ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_pending.
inline sigset pending(std::error_code &ec) noexcept {
    ipcx_sigset s = 0;
    detail::assign(ec, ipcx_signal_pending(&s));
    return sigset(s);
}
inline sigset pending() {
    std::error_code ec;
    sigset r = pending(ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_wait: take one signal of `set` (blocked in every thread).
inline ipcx_siginfo wait(sigset set, timeout t, std::error_code &ec) noexcept {
    ipcx_siginfo i = detail::empty_siginfo();
    detail::assign(ec, ipcx_signal_wait(set.bits(), t.ms(), &i));
    return i;
}
inline ipcx_siginfo wait(sigset set, timeout t) {
    std::error_code ec;
    ipcx_siginfo r = wait(set, t, ec);
    detail::throw_if(ec);
    return r;
}

// ipcx_signal_send (kill).
inline void send(int32_t pid, int signo, std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_signal_send(pid, signo));
}
inline void send(int32_t pid, int signo) {
    std::error_code ec;
    send(pid, signo, ec);
    detail::throw_if(ec);
}

// ipcx_signal_send_group (killpg).
inline void send_group(int32_t pgid, int signo, std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_signal_send_group(pgid, signo));
}
inline void send_group(int32_t pgid, int signo) {
    std::error_code ec;
    send_group(pgid, signo, ec);
    detail::throw_if(ec);
}

// ipcx_signal_send_thread (tgkill).
inline void send_thread(int32_t tgid, int32_t tid, int signo, std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_signal_send_thread(tgid, tid, signo));
}
inline void send_thread(int32_t tgid, int32_t tid, int signo) {
    std::error_code ec;
    send_thread(tgid, tid, signo, ec);
    detail::throw_if(ec);
}

// ipcx_signal_queue (sigqueue, with a payload).
inline void queue(int32_t pid, int signo, ipcx_sigval value, std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_signal_queue(pid, signo, value));
}
inline void queue(int32_t pid, int signo, ipcx_sigval value) {
    std::error_code ec;
    queue(pid, signo, value, ec);
    detail::throw_if(ec);
}

// ipcx_signal_queue_thread.
inline void queue_thread(int32_t tgid, int32_t tid, int signo, ipcx_sigval value,
                         std::error_code &ec) noexcept {
    detail::assign(ec, ipcx_signal_queue_thread(tgid, tid, signo, value));
}
inline void queue_thread(int32_t tgid, int32_t tid, int signo, ipcx_sigval value) {
    std::error_code ec;
    queue_thread(tgid, tid, signo, value, ec);
    detail::throw_if(ec);
}

}  // namespace signal

// A pollable signal receiver (ipcx_signalfd). One thread at a time.
class signalfd : public detail::handle<ipcx_signalfd, ipcx_signalfd_close> {
public:
    using handle::handle;

    // ipcx_signalfd_create: every signal of `set` blocked in the calling thread.
    [[nodiscard]] static signalfd create(sigset set, const options &opts,
                                         std::error_code &ec) noexcept {
        ipcx_signalfd *r = nullptr;
        detail::assign(ec, ipcx_signalfd_create(set.bits(), opts.get(), &r));
        return signalfd(r);
    }
    [[nodiscard]] static signalfd create(sigset set, const options &opts = {}) {
        std::error_code ec;
        signalfd r = create(set, opts, ec);
        detail::throw_if(ec);
        return r;
    }

    // ipcx_signalfd_recv: take one signal.
    [[nodiscard]] ipcx_siginfo recv(timeout t) {
        std::error_code ec;
        ipcx_siginfo i = recv(t, ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_siginfo recv(timeout t, std::error_code &ec) noexcept {
        ipcx_siginfo i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_signalfd_recv(get(), t.ms(), &i));
        return i;
    }

    // ipcx_signalfd_update: replace the set.
    void update(sigset set) {
        std::error_code ec;
        update(set, ec);
        detail::throw_if(ec);
    }
    void update(sigset set, std::error_code &ec) noexcept {
        detail::assign(ec, ipcx_signalfd_update(get(), set.bits()));
    }

    // ipcx_signalfd_fd: the descriptor to poll (the receiver's).
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_signalfd_fd(get(), &f));
        return f;
    }
};

// A notifier (ipcx_notifier): the way out of a signal handler. Thread-safe.
//
// In a handler, call the C function on the raw handle, `ipcx_notifier_poke(n.get())`
// (async-signal-safe); poke() below is for threads: its error reporting (a
// std::error_code, the category's first use, a thread-local) is not async-signal-safe.
class notifier : public detail::handle<ipcx_notifier, ipcx_notifier_close> {
public:
    using handle::handle;

    // ipcx_notifier_create.
    [[nodiscard]] static notifier create(const options &opts, std::error_code &ec) noexcept {
        ipcx_notifier *n = nullptr;
        detail::assign(ec, ipcx_notifier_create(opts.get(), &n));
        return notifier(n);
    }
    [[nodiscard]] static notifier create(const options &opts = {}) {
        std::error_code ec;
        notifier n = create(opts, ec);
        detail::throw_if(ec);
        return n;
    }

    // ipcx_notifier_poke.
    void poke() const {
        std::error_code ec;
        poke(ec);
        detail::throw_if(ec);
    }
    void poke(std::error_code &ec) const noexcept { detail::assign(ec, ipcx_notifier_poke(get())); }

    // ipcx_notifier_wait: the pokes consumed (at least 1).
    uint64_t wait(timeout t) const {
        std::error_code ec;
        uint64_t n = wait(t, ec);
        detail::throw_if(ec);
        return n;
    }
    uint64_t wait(timeout t, std::error_code &ec) const noexcept {
        uint64_t n = 0;
        detail::assign(ec, ipcx_notifier_wait(get(), t.ms(), &n));
        return n;
    }

    // ipcx_notifier_fd: readable while pokes are pending (the notifier's).
    [[nodiscard]] int fd() const {
        std::error_code ec;
        int f = fd(ec);
        detail::throw_if(ec);
        return f;
    }
    [[nodiscard]] int fd(std::error_code &ec) const noexcept {
        int f = -1;
        detail::assign(ec, ipcx_notifier_fd(get(), &f));
        return f;
    }
};

// ===================================================================== inspection

// A snapshot list of IPC objects (ipcx_object_list), from ipcx::inspect::list or
// ::clean. Thread-safe. The names in its entries and its warnings live as long as it.
class object_list : public detail::handle<ipcx_object_list, ipcx_object_list_close> {
public:
    using handle::handle;

    // ipcx_object_list_count.
    [[nodiscard]] size_t count() const {
        std::error_code ec;
        size_t n = count(ec);
        detail::throw_if(ec);
        return n;
    }
    [[nodiscard]] size_t count(std::error_code &ec) const noexcept {
        size_t n = 0;
        detail::assign(ec, ipcx_object_list_count(get(), &n));
        return n;
    }

    // ipcx_object_list_get (its size field set here): entry `index` < count(). (at(),
    // since get() is the raw handle.)
    [[nodiscard]] ipcx_object_info at(size_t index) const {
        std::error_code ec;
        ipcx_object_info i = at(index, ec);
        detail::throw_if(ec);
        return i;
    }
    [[nodiscard]] ipcx_object_info at(size_t index, std::error_code &ec) const noexcept {
        ipcx_object_info i{};
        i.size = sizeof i;
        detail::assign(ec, ipcx_object_list_get(get(), index, &i));
        return i;
    }

    // ipcx_object_list_warnings: one per line, "" when none.
    [[nodiscard]] std::string_view warnings() const {
        std::error_code ec;
        std::string_view w = warnings(ec);
        detail::throw_if(ec);
        return w;
    }
    [[nodiscard]] std::string_view warnings(std::error_code &ec) const noexcept {
        const char *t = nullptr;
        detail::assign(ec, ipcx_object_list_warnings(get(), &t));
        return t ? std::string_view(t) : std::string_view();
    }
};

// Inspection and cleanup of IPC objects (the C family `inspect`; docs/inspect.md).
namespace detail {
// The directories of ipcx::inspect as NUL-terminated strings and the array of pointers C
// takes.
struct c_dirs {
    std::vector<std::string> copies;
    std::vector<const char *> ptrs;
    bool ok = true;
    c_dirs(span<const std::string_view> dirs, std::error_code &ec) {
        copies.reserve(dirs.size());
        ptrs.reserve(dirs.size());
        for (std::string_view d : dirs) {
            if (d.find('\0') != std::string_view::npos) {
                refuse(ec, "ipcx C++ API: a name, path or address contains a NUL byte");
                ok = false;
                return;
            }
            copies.emplace_back(d);
            ptrs.push_back(copies.back().c_str());
        }
    }
};
}  // namespace detail

namespace inspect {

// ipcx_inspect_list: flags 0 or IPCX_INSPECT_ALL; `dirs` scanned for other programs'
// FIFOs and socket files (`{}` for none).
[[nodiscard]] inline object_list list(span<const std::string_view> dirs, uint32_t flags,
                                      std::error_code &ec) {
    detail::c_dirs d(dirs, ec);
    if (!d.ok) return object_list();
    ipcx_object_list *l = nullptr;
    detail::assign(ec, ipcx_inspect_list(d.ptrs.data(), d.ptrs.size(), flags, &l));
    return object_list(l);
}
[[nodiscard]] inline object_list list(span<const std::string_view> dirs = {},
                                      uint32_t flags = 0) {
    std::error_code ec;
    object_list l = list(dirs, flags, ec);
    detail::throw_if(ec);
    return l;
}

// ipcx_inspect_clean: flags 0, IPCX_INSPECT_DRY_RUN, IPCX_INSPECT_RECORDS_ONLY.
[[nodiscard]] inline object_list clean(span<const std::string_view> dirs, uint32_t flags,
                                       std::error_code &ec) {
    detail::c_dirs d(dirs, ec);
    if (!d.ok) return object_list();
    ipcx_object_list *l = nullptr;
    detail::assign(ec, ipcx_inspect_clean(d.ptrs.data(), d.ptrs.size(), flags, &l));
    return object_list(l);
}
[[nodiscard]] inline object_list clean(span<const std::string_view> dirs = {},
                                       uint32_t flags = 0) {
    std::error_code ec;
    object_list l = clean(dirs, flags, ec);
    detail::throw_if(ec);
    return l;
}

// ipcx_inspect_remove: one object by kind (IPCX_OBJECT_*) and exact name; flags 0 or
// IPCX_INSPECT_FOREIGN.
inline void remove(uint32_t kind, std::string_view name, uint32_t flags, std::error_code &ec) {
    detail::c_name n(name, ec);
    if (n) detail::assign(ec, ipcx_inspect_remove(kind, n.get(), flags));
}
inline void remove(uint32_t kind, std::string_view name, uint32_t flags = 0) {
    std::error_code ec;
    remove(kind, name, flags, ec);
    detail::throw_if(ec);
}

}  // namespace inspect

// ipcx_object_kind_name: "sysv-msq", ..., "unknown" (static, never fails).
inline const char *object_kind_name(uint32_t kind) noexcept { return ipcx_object_kind_name(kind); }

// ipcx_object_kind_from_name.
[[nodiscard]] inline uint32_t object_kind_from_name(std::string_view name, std::error_code &ec) {
    detail::c_name n(name, ec);
    uint32_t k = 0;
    if (n) detail::assign(ec, ipcx_object_kind_from_name(n.get(), &k));
    return k;
}
[[nodiscard]] inline uint32_t object_kind_from_name(std::string_view name) {
    std::error_code ec;
    uint32_t k = object_kind_from_name(name, ec);
    detail::throw_if(ec);
    return k;
}

// ===================================================================== System V keys

namespace sysv {

// ipcx_sysv_key (ftok): the key of an existing file and a project id 1..255.
[[nodiscard]] inline int32_t key(std::string_view path, int proj_id, std::error_code &ec) {
    detail::c_name p(path, ec);
    int32_t k = 0;
    if (p) detail::assign(ec, ipcx_sysv_key(p.get(), proj_id, &k));
    return k;
}
[[nodiscard]] inline int32_t key(std::string_view path, int proj_id) {
    std::error_code ec;
    int32_t k = key(path, proj_id, ec);
    detail::throw_if(ec);
    return k;
}

}  // namespace sysv

}  // namespace ipcx

#undef IPCX_CXX_EXCEPTIONS

#endif  // IPCX_HPP
