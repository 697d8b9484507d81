/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// The harness of the C++ tests: c-tests/test.h in C++ (which C++17 cannot include: it
// uses <stdatomic.h>), with assertions for the two error forms of ipcx.hpp.
//
// - Each case runs in its own forked process with a time limit; an assertion that fails,
//   an exception that escapes, a crash or a hang ends that case only.
// - Assertions print the expression, the status name, the ipcx_strerror text and the
//   last-error text.
// - Resources a case creates (paths, POSIX names, System V ids) are registered in a table
//   shared by every process of the run and removed by the runner after each case,
//   whatever happened; a case that left one behind fails.
// - Each case checks that it ends with the descriptors it started with, and
//   T_HANDLE_CLOSED checks that an object closed the C handle it owned.
//
//   T_CASE(name) { ... }
//   T_MAIN(T_ENTRY(name), ...)
//   ./cpp_x [case-name]
#ifndef IPCX_CPP_TEST_HPP
#define IPCX_CPP_TEST_HPP

#include "ipcx.hpp"

#include <dirent.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

using namespace std::chrono_literals;

// ---------------------------------------------------------------- reporting

static bool t_in_child;
static const char *t_case_name;

[[noreturn]] static void t_fail_exit() {
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

[[noreturn]] __attribute__((format(printf, 3, 4))) static void t_failf(const char *file, int line,
                                                                         const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "FAIL %s:%d [%s%s] ", file, line, t_case_name ? t_case_name : "?",
            t_in_child ? ", child" : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    t_fail_exit();
}

#define T_FAIL(...) t_failf(__FILE__, __LINE__, __VA_ARGS__)

#define T_ASSERT(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) T_FAIL("assertion failed: %s (errno %d: %s)", #cond, errno,            \
                            strerror(errno));                                               \
    } while (0)

#define T_EQ(a, b)                                                                          \
    do {                                                                                    \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                             \
        if (t_a_ != t_b_) T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a_, t_b_);             \
    } while (0)

static const char *t_code_name(const std::error_code &ec) { return ipcx::status_name(ec); }

// `ec` (set by a call's std::error_code form) must be clear.
#define T_EC_OK(ec)                                                                         \
    do {                                                                                    \
        if (ec)                                                                             \
            T_FAIL("%s is %s (%s): %s", #ec, t_code_name(ec), ec.message().c_str(),         \
                   ipcx::last_error());                                                     \
    } while (0)

// `ec` must hold `want` (an ipcx::errc), and the last error must name a C function.
#define T_EC(want, ec)                                                                      \
    do {                                                                                    \
        if ((ec) != (want))                                                                 \
            T_FAIL("%s is %s, expected %s; last error: %s", #ec, t_code_name(ec),           \
                   t_code_name(ipcx::make_error_code(want)), ipcx::last_error());           \
        if (strncmp(ipcx::last_error(), "ipcx_", 5) != 0)                                   \
            T_FAIL("%s: last error does not name the function: \"%s\"", #ec,               \
                   ipcx::last_error());                                                     \
    } while (0)

// `expr` must throw ipcx::error with `want`, whose detail names the C function.
#define T_THROWS(want, expr)                                                                \
    do {                                                                                    \
        bool t_thrown_ = false;                                                             \
        try {                                                                               \
            (void)(expr);                                                                   \
        } catch (const ipcx::error &t_e_) {                                                 \
            t_thrown_ = true;                                                               \
            if (t_e_.code() != (want))                                                      \
                T_FAIL("%s threw %s, expected %s: %s", #expr, t_code_name(t_e_.code()),     \
                       t_code_name(ipcx::make_error_code(want)), t_e_.what());              \
            if (t_e_.detail().compare(0, 5, "ipcx_") != 0)                                  \
                T_FAIL("%s: detail does not name the function: \"%s\"", #expr,              \
                       t_e_.detail().c_str());                                              \
        }                                                                                   \
        if (!t_thrown_) T_FAIL("%s did not throw", #expr);                                  \
    } while (0)

// ---------------------------------------------------------------- time

static inline double t_now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#ifndef T_LATE_SLACK_MS
#define T_LATE_SLACK_MS 1500.0
#endif

// `expr` must throw errc::timeout after at least `ms` milliseconds, not grossly late.
#define T_TIMES_OUT(ms, expr)                                                               \
    do {                                                                                    \
        double t_t0_ = t_now_ms();                                                          \
        T_THROWS(ipcx::errc::timeout, expr);                                                \
        double t_el_ = t_now_ms() - t_t0_;                                                  \
        if (t_el_ < (double)(ms))                                                           \
            T_FAIL("%s timed out after %.3f ms, before its %d ms", #expr, t_el_, (int)(ms)); \
        if (t_el_ > (double)(ms) + T_LATE_SLACK_MS)                                         \
            T_FAIL("%s timed out after %.3f ms, grossly late for %d ms", #expr, t_el_,      \
                   (int)(ms));                                                              \
    } while (0)

// ---------------------------------------------------------------- handles

// An object closed the handle it owned: the raw value is refused by the C close
// (a stale handle is IPCX_ERR_BAD_HANDLE, never undefined behaviour).
#define T_HANDLE_CLOSED(close_fn, raw)                                                      \
    do {                                                                                    \
        int t_s_ = (int)close_fn(raw);                                                      \
        if (t_s_ != IPCX_ERR_BAD_HANDLE)                                                    \
            T_FAIL("%s(%s) returned %s: the handle was still open", #close_fn, #raw,        \
                   ipcx_status_name(t_s_));                                                 \
    } while (0)

// ---------------------------------------------------------------- resources

enum t_kind {
    T_RES_PATH = 1,
    T_RES_SHM,
    T_RES_MQ,
    T_RES_SEM,
    T_RES_SYSV_MSQ,
    T_RES_SYSV_SHM,
    T_RES_SYSV_SEM,
};

struct t_res {
    int kind;
    long id;
    char name[320];
};

#define T_MAX_RES 256
struct t_shared {
    std::atomic<int> count;
    std::atomic<int> seq;
    t_res res[T_MAX_RES];
};
static_assert(std::atomic<int>::is_always_lock_free, "the table is shared across fork");

static t_shared *t_sh;
static pid_t t_runner_pid;

static void t_track(int kind, const char *name, long id) {
    int i = t_sh->count.fetch_add(1);
    if (i >= T_MAX_RES) T_FAIL("too many tracked resources");
    t_sh->res[i].kind = kind;
    t_sh->res[i].id = id;
    snprintf(t_sh->res[i].name, sizeof t_sh->res[i].name, "%s", name ? name : "");
}

static inline void t_track_path(const std::string &p) { t_track(T_RES_PATH, p.c_str(), 0); }
static inline void t_track_shm(const std::string &n) { t_track(T_RES_SHM, n.c_str(), 0); }
static inline void t_track_mq(const std::string &n) { t_track(T_RES_MQ, n.c_str(), 0); }
static inline void t_track_sem(const std::string &n) { t_track(T_RES_SEM, n.c_str(), 0); }
static inline void t_track_sysv_msq(long id) { t_track(T_RES_SYSV_MSQ, nullptr, id); }
static inline void t_track_sysv_shm(long id) { t_track(T_RES_SYSV_SHM, nullptr, id); }
static inline void t_track_sysv_sem(long id) { t_track(T_RES_SYSV_SEM, nullptr, id); }

// Remove every tracked resource that still exists; how many were left over.
static int t_cleanup() {
    int left = 0, n = t_sh->count.load();
    if (n > T_MAX_RES) n = T_MAX_RES;
    for (int i = n - 1; i >= 0; i--) {
        t_res *r = &t_sh->res[i];
        int rc = -1;
        switch (r->kind) {
        case T_RES_PATH: rc = unlink(r->name); break;
        case T_RES_SHM: rc = shm_unlink(r->name); break;
        case T_RES_MQ: rc = mq_unlink(r->name); break;
        case T_RES_SEM: rc = sem_unlink(r->name); break;
        case T_RES_SYSV_MSQ: rc = msgctl((int)r->id, IPC_RMID, nullptr); break;
        case T_RES_SYSV_SHM: rc = shmctl((int)r->id, IPC_RMID, nullptr); break;
        case T_RES_SYSV_SEM: rc = semctl((int)r->id, 0, IPC_RMID); break;
        default: break;
        }
        if (rc == 0) {
            left++;
            fprintf(stderr, "  cleanup: removed leftover %s (id %ld)\n", r->name, r->id);
        }
        r->kind = 0;
    }
    t_sh->count.store(0);
    if (left) {
        // Objects ipcx created and this cleanup removed behind its back leave their
        // provenance records: forget the records whose objects vanished.
        ipcx_object_list *l = nullptr;
        if (ipcx_inspect_clean(nullptr, 0, IPCX_INSPECT_RECORDS_ONLY, &l) == IPCX_OK)
            ipcx_object_list_close(l);
    }
    return left;
}

// A unique path in /tmp for this run, tracked for cleanup.
static inline std::string t_path(const char *tag) {
    std::string p = "/tmp/ipcx-t-" + std::to_string((int)t_runner_pid) + "-" +
                    std::to_string(t_sh->seq.fetch_add(1)) + "-cpp-" + tag;
    t_track_path(p);
    return p;
}

// A unique POSIX name ("/ipcx-t-..."); the caller tracks it with the right kind.
static inline std::string t_posix_name(const char *tag) {
    return "/ipcx-t-" + std::to_string((int)t_runner_pid) + "-" +
           std::to_string(t_sh->seq.fetch_add(1)) + "-cpp-" + tag;
}

// ---------------------------------------------------------------- descriptors

static inline int t_fd_count() {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (struct dirent *e = readdir(d))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;  // the directory stream itself
}

// ---------------------------------------------------------------- processes

// Run `body` in the case's own catch-all: an escaping exception fails the process.
template <class F>
static void t_guard(F &&body) {
    try {
        body();
    } catch (const ipcx::error &e) {
        T_FAIL("ipcx::error escaped: %s [%s] (errno %d)", e.what(), t_code_name(e.code()),
               e.sys_errno());
    } catch (const std::exception &e) {
        T_FAIL("exception escaped: %s", e.what());
    } catch (...) {
        T_FAIL("unknown exception escaped");
    }
}

// Fork a child that runs `body` and exits 0 (1 on a failed assertion or an escaping
// exception). The child's own objects are destroyed when `body` returns; what it
// inherited stays as in C (close it in the child if the other process must see it go).
template <class F>
static pid_t t_child(F &&body) {
    fflush(stdout);
    fflush(stderr);
    pid_t p = fork();
    T_ASSERT(p >= 0);
    if (p == 0) {
        t_in_child = true;
        t_guard(body);
        fflush(stdout);
        _exit(0);
    }
    return p;
}

// Wait for `pid` for at most `timeout_ms`; its wait status (killed on timeout: a failure).
static inline int t_wait(pid_t pid, int timeout_ms) {
    int st = 0;
    double end = t_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0 && errno != EINTR) T_FAIL("waitpid(%d): %s", (int)pid, strerror(errno));
        if (t_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            T_FAIL("child %d did not finish within %d ms", (int)pid, timeout_ms);
        }
        usleep(1000);
    }
}

static inline void t_wait_ok(pid_t pid, int timeout_ms = 30000) {
    int st = t_wait(pid, timeout_ms);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        T_FAIL("child %d failed (%s %d)", (int)pid, WIFEXITED(st) ? "exit status" : "signal",
               WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

// ---------------------------------------------------------------- runner

struct t_entry {
    const char *name;
    void (*fn)();
};

#define T_CASE(name) static void name()
#define T_ENTRY(name) {#name, name}

#ifndef T_CASE_TIMEOUT_MS
#define T_CASE_TIMEOUT_MS 60000
#endif

static int t_run(const t_entry *cases, size_t n, int argc, char **argv) {
    int failed = 0, ran = 0;
    setvbuf(stdout, nullptr, _IOLBF, 0);
    t_runner_pid = getpid();
    void *m = mmap(nullptr, sizeof *t_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    t_sh = new (m) t_shared();
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        ran++;
        double t0 = t_now_ms();
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            t_case_name = cases[i].name;
            int before = t_fd_count();
            t_guard(cases[i].fn);
            int after = t_fd_count();
            if (after != before)
                T_FAIL("descriptor leak: %d open before the case, %d after", before, after);
            fflush(stdout);
            _exit(0);
        }
        int st = 0;
        bool timed_out = false;
        for (;;) {
            pid_t r = waitpid(pid, &st, WNOHANG);
            if (r == pid) break;
            if (t_now_ms() - t0 > T_CASE_TIMEOUT_MS) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                timed_out = true;
                break;
            }
            usleep(500);
        }
        int leftovers = t_cleanup();
        bool ok = !timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (ok && leftovers) {
            fprintf(stderr, "FAIL [%s] left %d resource(s) behind\n", cases[i].name, leftovers);
            ok = false;
        }
        printf("%s - %s (%.0f ms)%s\n", ok ? "ok" : "not ok", cases[i].name, t_now_ms() - t0,
               timed_out ? " TIMEOUT" : (WIFSIGNALED(st) ? " (killed by a signal)" : ""));
        if (!ok) failed++;
    }
    if (ran == 0) {
        fprintf(stderr, "no case named %s\n", argc > 1 ? argv[1] : "(none)");
        return 2;
    }
    printf("%d/%d passed\n", ran - failed, ran);
    return failed ? 1 : 0;
}

#define T_MAIN(...)                                                                         \
    int main(int argc, char **argv) {                                                       \
        static const t_entry t_cases_[] = {__VA_ARGS__};                                    \
        return t_run(t_cases_, sizeof t_cases_ / sizeof t_cases_[0], argc, argv);           \
    }

#endif  // IPCX_CPP_TEST_HPP
