/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Tiny test harness for the ipcx C tests (header-only).
 *
 * - Each case runs in its own forked process with a time limit, so a crash, a hang or a
 *   failed assertion ends that case only.
 * - Assertions print the expression, the status name, ipcx_strerror() and
 *   ipcx_last_error().
 * - Resources a case creates (paths, POSIX names, System V ids) are registered in a
 *   table shared by every process of the run (anonymous shared memory), and the runner
 *   removes them after each case whatever happened, so nothing is left behind even when
 *   an assertion fails or a child is killed.
 * - Each case checks that it ends with the descriptors it started with.
 *
 * Usage:
 *   T_CASE(name) { ... }
 *   T_MAIN(T_ENTRY(name), ...)
 *   ./test [case-name]
 */
#ifndef IPCX_TEST_H
#define IPCX_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "ipcx.h"

/* ---------------------------------------------------------------- reporting */

static int t_in_child;          /* set in processes forked by a case */
static const char *t_case_name; /* the running case */

static const char *t_status_name(int s) { return ipcx_status_name(s); }

static void t_fail_exit(void) {
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

static void t_failf(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void t_failf(const char *file, int line, const char *fmt, ...) {
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

#define T_ASSERT(cond)                                                              \
    do {                                                                            \
        if (!(cond)) T_FAIL("assertion failed: %s (errno %d: %s)", #cond, errno,    \
                            strerror(errno));                                       \
    } while (0)

#define T_ASSERTF(cond, ...)                                                        \
    do {                                                                            \
        if (!(cond)) T_FAIL(__VA_ARGS__);                                           \
    } while (0)

/* The call must return IPCX_OK. */
#define T_OK(call)                                                                  \
    do {                                                                            \
        int t_s_ = (int)(call);                                                     \
        if (t_s_ != IPCX_OK)                                                        \
            T_FAIL("%s returned %s (%s): %s", #call, t_status_name(t_s_),           \
                   ipcx_strerror(t_s_), ipcx_last_error());                         \
    } while (0)

/* The call must fail with `code`, and leave a last-error message naming the function. */
#define T_ERR(code, call)                                                           \
    do {                                                                            \
        int t_s_ = (int)(call);                                                     \
        if (t_s_ != (int)(code))                                                    \
            T_FAIL("%s returned %s, expected %s; last error: %s", #call,            \
                   t_status_name(t_s_), t_status_name((int)(code)),                 \
                   ipcx_last_error());                                              \
        if (strncmp(ipcx_last_error(), "ipcx_", 5) != 0)                            \
            T_FAIL("%s: last error does not name the function: \"%s\"", #call,     \
                   ipcx_last_error());                                              \
    } while (0)

#define T_EQ_INT(a, b)                                                              \
    do {                                                                            \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                     \
        if (t_a_ != t_b_) T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a_, t_b_);     \
    } while (0)

/* The last error message must contain `needle`. */
#define T_LAST_ERROR_HAS(needle)                                                    \
    do {                                                                            \
        if (!strstr(ipcx_last_error(), (needle)))                                   \
            T_FAIL("last error \"%s\" does not contain \"%s\"", ipcx_last_error(),  \
                   (needle));                                                       \
    } while (0)

/* ---------------------------------------------------------------- time */

static inline int64_t t_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline double t_now_ms(void) { return (double)t_now_ns() / 1e6; }

/* Generous upper slack for "not grossly late" checks: this VM stalls. */
#ifndef T_LATE_SLACK_MS
#define T_LATE_SLACK_MS 1500.0
#endif

/* `call` must fail with `code` after at least `ms` milliseconds and not grossly late. */
#define T_TIMES_OUT(code, ms, call)                                                 \
    do {                                                                            \
        double t_t0_ = t_now_ms();                                                  \
        T_ERR((code), (call));                                                      \
        double t_el_ = t_now_ms() - t_t0_;                                          \
        if (t_el_ < (double)(ms))                                                   \
            T_FAIL("%s returned after %.3f ms, before its %d ms deadline", #call,   \
                   t_el_, (int)(ms));                                               \
        if (t_el_ > (double)(ms) + T_LATE_SLACK_MS)                                 \
            T_FAIL("%s returned after %.3f ms, grossly late for %d ms", #call,      \
                   t_el_, (int)(ms));                                               \
    } while (0)

/* ---------------------------------------------------------------- resources */

enum t_kind {
    T_RES_PATH = 1,  /* file, FIFO or socket file: unlink */
    T_RES_SHM,       /* POSIX shm name: shm_unlink */
    T_RES_MQ,        /* POSIX mq name: mq_unlink */
    T_RES_SEM,       /* POSIX named semaphore: sem_unlink */
    T_RES_SYSV_MSQ,  /* System V message queue id: msgctl(IPC_RMID) */
    T_RES_SYSV_SHM,  /* System V segment id: shmctl(IPC_RMID) */
    T_RES_SYSV_SEM,  /* System V semaphore set id: semctl(IPC_RMID) */
    T_RES_DIR,       /* empty directory: rmdir (after everything else) */
};

struct t_res {
    int kind;
    long id;
    char name[320];
};

#define T_MAX_RES 1024
struct t_shared {
    atomic_int count;
    atomic_int seq;
    struct t_res res[T_MAX_RES];
};

static struct t_shared *t_sh;
static pid_t t_runner_pid;

static void t_track(int kind, const char *name, long id) {
    int i = atomic_fetch_add(&t_sh->count, 1);
    if (i >= T_MAX_RES) T_FAIL("too many tracked resources");
    t_sh->res[i].kind = kind;
    t_sh->res[i].id = id;
    /* A loop rather than strnlen: gcc's -Wstringop-overread judges strnlen's bound against
     * the caller's (smaller) buffer once inlined. */
    size_t n = 0;
    while (name && n < sizeof t_sh->res[i].name - 1 && name[n]) {
        t_sh->res[i].name[n] = name[n];
        n++;
    }
    t_sh->res[i].name[n] = 0;
}

static inline void t_track_path(const char *p) { t_track(T_RES_PATH, p, 0); }
static inline void t_track_dir(const char *p) { t_track(T_RES_DIR, p, 0); }
static inline void t_track_shm(const char *n) { t_track(T_RES_SHM, n, 0); }
static inline void t_track_mq(const char *n) { t_track(T_RES_MQ, n, 0); }
static inline void t_track_sem(const char *n) { t_track(T_RES_SEM, n, 0); }
static inline void t_track_sysv_msq(long id) { t_track(T_RES_SYSV_MSQ, NULL, id); }
static inline void t_track_sysv_shm(long id) { t_track(T_RES_SYSV_SHM, NULL, id); }
static inline void t_track_sysv_sem(long id) { t_track(T_RES_SYSV_SEM, NULL, id); }

/* Remove every tracked resource that still exists; returns how many were left over. */
static int t_cleanup(void) {
    int left = 0, n = atomic_load(&t_sh->count);
    if (n > T_MAX_RES) n = T_MAX_RES;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = n - 1; i >= 0; i--) {
            struct t_res *r = &t_sh->res[i];
            int rc = -1;
            if ((r->kind == T_RES_DIR) != (pass == 1)) continue;
            switch (r->kind) {
            case T_RES_PATH: rc = unlink(r->name); break;
            case T_RES_DIR: rc = rmdir(r->name); break;
            case T_RES_SHM: rc = shm_unlink(r->name); break;
            case T_RES_MQ: rc = mq_unlink(r->name); break;
            case T_RES_SEM: rc = sem_unlink(r->name); break;
            case T_RES_SYSV_MSQ: rc = msgctl((int)r->id, IPC_RMID, NULL); break;
            case T_RES_SYSV_SHM: rc = shmctl((int)r->id, IPC_RMID, NULL); break;
            case T_RES_SYSV_SEM: rc = semctl((int)r->id, 0, IPC_RMID); break;
            default: break;
            }
            if (rc == 0) {
                left++;
                fprintf(stderr, "  cleanup: removed leftover %s%s (id %ld)\n",
                        r->kind == T_RES_PATH ? "path " : "", r->name, r->id);
            }
            r->kind = 0;
        }
    }
    atomic_store(&t_sh->count, 0);
    if (left) {
        /* Objects ipcx created and this cleanup removed behind its back leave their
         * provenance records: forget the records whose objects vanished. */
        ipcx_object_list *l = NULL;
        if (ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_RECORDS_ONLY, &l) == IPCX_OK)
            ipcx_object_list_close(l);
    }
    return left;
}

/* A unique path in /tmp for this run, tracked for cleanup. */
static inline const char *t_path(char *buf, size_t len, const char *tag) {
    snprintf(buf, len, "/tmp/ipcx-t-%d-%d-%s", (int)t_runner_pid,
             atomic_fetch_add(&t_sh->seq, 1), tag);
    t_track_path(buf);
    return buf;
}

/* The prefix of a named semaphore's file in /dev/shm: glibc stores "/name" as
 * /dev/shm/sem.name, musl as /dev/shm/name. */
#ifdef __GLIBC__
#define T_SEM_FILE_PREFIX "sem."
#else
#define T_SEM_FILE_PREFIX ""
#endif

/* The provenance record on the inode of the /dev/shm file `prefix` + `name` without its
 * "/" (a shared memory object or ring: prefix ""; a named semaphore: T_SEM_FILE_PREFIX),
 * NUL-terminated in `text`: 1 when it has one, 0 when not. */
static inline int t_inode_record(const char *prefix, const char *name, char *text, size_t len) {
    char p[600];
    snprintf(p, sizeof p, "/dev/shm/%s%s", prefix, name + 1);
    ssize_t n = lgetxattr(p, "user.ipcx.record", text, len - 1);
    text[n > 0 ? n : 0] = 0;
    return n > 0;
}

/* Create the POSIX shared memory object `name` through ipcx with mode `mode` (exclusively)
 * and close it. */
static inline void t_shm_create_mode(const char *name, uint32_t mode) {
    ipcx_options *o;
    ipcx_shm *s;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, mode));
    T_OK(ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &s));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_shm_close(s));
}

/* A unique POSIX IPC name ("/ipcx-t-..."); the caller tracks it with the right kind. */
static inline const char *t_posix_name(char *buf, size_t len, const char *tag) {
    snprintf(buf, len, "/ipcx-t-%d-%d-%s", (int)t_runner_pid,
             atomic_fetch_add(&t_sh->seq, 1), tag);
    return buf;
}

/* ---------------------------------------------------------------- descriptors */

static inline int t_fd_count(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory stream itself */
}

/* ---------------------------------------------------------------- processes */

/* Fork; in the child, failures exit the child only. */
static inline pid_t t_fork(void) {
    fflush(stdout);
    fflush(stderr);
    pid_t p = fork();
    T_ASSERT(p >= 0);
    if (p == 0) t_in_child = 1;
    return p;
}

/* Wait for `pid` for at most `timeout_ms`; returns its wait status (killed on timeout,
 * which is a failure). */
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

/* Wait for `pid` and require a clean exit(0). */
static inline void t_wait_ok(pid_t pid, int timeout_ms) {
    int st = t_wait(pid, timeout_ms);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        T_FAIL("child %d failed (%s %d)", (int)pid,
               WIFEXITED(st) ? "exit status" : "signal",
               WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* The directory of the running test binary (to exec helper programs next to it). */
static inline const char *t_exe_dir(void) {
    static char dir[4096];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    T_ASSERT(n > 0);
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    return dir;
}

/* ---------------------------------------------------------------- runner */

struct t_entry {
    const char *name;
    void (*fn)(void);
};

#define T_CASE(name) static void name(void)
#define T_ENTRY(name) {#name, name}

#ifndef T_CASE_TIMEOUT_MS
#define T_CASE_TIMEOUT_MS 60000
#endif

static int t_run(const struct t_entry *cases, size_t n, int argc, char **argv) {
    int failed = 0, ran = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_runner_pid = getpid();
    t_sh = mmap(NULL, sizeof *t_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (t_sh == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        ran++;
        double t0 = t_now_ms();
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            t_case_name = cases[i].name;
            int before = t_fd_count();
            cases[i].fn();
            int after = t_fd_count();
            if (after != before)
                T_FAIL("descriptor leak: %d open before the case, %d after", before, after);
            fflush(stdout);
            _exit(0);
        }
        int st = 0, timed_out = 0;
        for (;;) {
            pid_t r = waitpid(pid, &st, WNOHANG);
            if (r == pid) break;
            if (t_now_ms() - t0 > T_CASE_TIMEOUT_MS) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                timed_out = 1;
                break;
            }
            usleep(500);
        }
        /* Kill anything the case left running in its process group? Cases wait for their
         * children; a leftover would be a bug reported by the child's own failure. */
        int leftovers = t_cleanup();
        int ok = !timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (ok && leftovers) {
            fprintf(stderr, "FAIL [%s] left %d resource(s) behind\n", cases[i].name, leftovers);
            ok = 0;
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

#define T_MAIN(...)                                                                 \
    int main(int argc, char **argv) {                                               \
        static const struct t_entry t_cases_[] = {__VA_ARGS__};                     \
        return t_run(t_cases_, sizeof t_cases_ / sizeof t_cases_[0], argc, argv);   \
    }

#endif /* IPCX_TEST_H */
