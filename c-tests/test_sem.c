/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Semaphores: POSIX named, unnamed in shared memory and thread-only; System V sets.
 * Counting across processes, timeouts, signals, SEM_UNDO after SIGKILL, removal while
 * waiting, limits and every bad input. */
#include "sync_util.h"
#include "valgrind_env.h"

#include <limits.h> /* SEM_VALUE_MAX (musl declares it here only) */
#include <pthread.h>

_Static_assert(IPCX_SEM_VALUE_MAX == SEM_VALUE_MAX, "SEM_VALUE_MAX");
_Static_assert(IPCX_SEM_SIZE >= sizeof(sem_t) + 8, "slot size");
_Static_assert(IPCX_KEY_PRIVATE == IPC_PRIVATE, "IPC_PRIVATE");

#define WORKERS 4
#define ROUNDS ((int)t_scaled(100000)) /* 10000 under valgrind */

/* ---------------------------------------------------------------- helpers */

static mode_t sem_file_mode(const char *name) {
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/" T_SEM_FILE_PREFIX "%s", name + 1);
    T_ASSERT(stat(path, &st) == 0);
    return st.st_mode & 07777;
}

static volatile sig_atomic_t got_signal;
static void on_usr1(int sig) {
    (void)sig;
    got_signal = 1;
}

/* SIGUSR1 handler without SA_RESTART: blocking calls see EINTR. */
static void install_usr1(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    T_ASSERT(sigaction(SIGUSR1, &sa, NULL) == 0);
    got_signal = 0;
}

/* A child that sends SIGUSR1 to this process after `ms`. */
static pid_t signal_later(int ms) {
    pid_t target = getpid();
    pid_t p = t_fork();
    if (p == 0) {
        usleep((useconds_t)ms * 1000);
        kill(target, SIGUSR1);
        _exit(0);
    }
    return p;
}

static long sem_limit(int field) {
    long v[4] = {0};
    FILE *f = fopen("/proc/sys/kernel/sem", "r");
    T_ASSERT(f != NULL);
    T_ASSERT(fscanf(f, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) == 4);
    fclose(f);
    return v[field];
}

/* The semantics every shared semaphore has, checked across fork. `s` has value 0. */
static void exercise_shared(ipcx_sem *s) {
    int32_t v = -1;
    T_OK(ipcx_sem_value(s, &v));
    T_EQ_INT(v, 0);
    /* try-wait */
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_sem_wait(s, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("the value is 0");
    /* timed wait on the monotonic clock */
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_sem_wait(s, 200));
    T_LAST_ERROR_HAS("timed out");
    /* a post from another process wakes a waiter */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(100000);
        T_OK(ipcx_sem_post(s));
        _exit(0);
    }
    double t0 = t_now_ms();
    T_OK(ipcx_sem_wait(s, 10000));
    T_ASSERT(t_now_ms() - t0 >= 50);
    t_wait_ok(p, 10000);
    /* counting */
    for (int i = 0; i < 3; i++) T_OK(ipcx_sem_post(s));
    T_OK(ipcx_sem_value(s, &v));
    T_EQ_INT(v, 3);
    T_OK(ipcx_sem_wait(s, IPCX_FOREVER));
    T_OK(ipcx_sem_wait(s, IPCX_NOWAIT));
    T_OK(ipcx_sem_wait(s, 1000));
    T_OK(ipcx_sem_value(s, &v));
    T_EQ_INT(v, 0);
}

/* ---------------------------------------------------------------- POSIX named */

T_CASE(named_create_open_exclusive_unlink) {
    char name[128];
    t_posix_name(name, sizeof name, "sem");
    ipcx_sem *a = NULL, *b = (ipcx_sem *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_open(name, 0, 0, NULL, &b));
    T_LAST_ERROR_HAS("no semaphore has this name");
    T_ASSERT(b == NULL);
    T_OK(ipcx_sem_open(name, 2, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &a));
    t_track_sem(name);
    T_EQ_INT(sem_file_mode(name), 0600); /* default mode */
    T_ERR(IPCX_ERR_EXISTS, ipcx_sem_open(name, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &b));
    T_ASSERT(b == NULL);
    /* Open the existing one; CREATE without EXCL opens it too and keeps its value. */
    T_OK(ipcx_sem_open(name, 0, 0, NULL, &b));
    ipcx_sem *c;
    T_OK(ipcx_sem_open(name, 9, IPCX_OPEN_CREATE, NULL, &c));
    T_OK(ipcx_sem_wait(b, IPCX_NOWAIT));
    int32_t v = -1;
    T_OK(ipcx_sem_value(c, &v));
    T_EQ_INT(v, 1); /* one counter behind three handles */
    T_OK(ipcx_sem_wait(a, IPCX_NOWAIT));
    T_OK(ipcx_sem_close(c));
    /* Unlink removes the name; open handles keep working. */
    T_OK(ipcx_sem_remove(name));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_remove(name));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_open(name, 0, 0, NULL, &c));
    T_OK(ipcx_sem_post(a));
    T_OK(ipcx_sem_value(b, &v));
    T_EQ_INT(v, 1);
    /* A named semaphore is not destroyed: closed and unlinked. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_destroy(a));
    T_LAST_ERROR_HAS("ipcx_sem_remove");
    T_OK(ipcx_sem_close(a));
    T_OK(ipcx_sem_close(b));
    /* CREATE recreates: a new semaphore with the new value. */
    T_OK(ipcx_sem_open(name, 5, IPCX_OPEN_CREATE, NULL, &a));
    T_OK(ipcx_sem_value(a, &v));
    T_EQ_INT(v, 5);
    T_OK(ipcx_sem_close(a));
    T_OK(ipcx_sem_remove(name));
}

T_CASE(named_mode_is_applied_exactly) {
    char name[128];
    t_posix_name(name, sizeof name, "mode");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0664));
    mode_t old = umask(077);
    ipcx_sem *s;
    T_OK(ipcx_sem_open(name, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &s));
    t_track_sem(name);
    umask(old);
    T_EQ_INT(sem_file_mode(name), 0664);
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_sem_remove(name));
    /* Opening an existing semaphore leaves its mode alone. */
    T_OK(ipcx_options_set_mode(o, 0600));
    T_OK(ipcx_sem_open(name, 0, IPCX_OPEN_CREATE, NULL, &s));
    T_OK(ipcx_options_set_mode(o, 0666));
    ipcx_sem *t;
    T_OK(ipcx_sem_open(name, 0, IPCX_OPEN_CREATE, o, &t));
    T_EQ_INT(sem_file_mode(name), 0600);
    T_OK(ipcx_sem_close(t));
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_sem_remove(name));
    /* Options semaphores do not use are refused. */
    T_OK(ipcx_options_set_max_message(o, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(name, 0, IPCX_OPEN_CREATE, o, &s));
    T_LAST_ERROR_HAS("max_message");
    T_OK(ipcx_options_close(o));
}

T_CASE(named_semantics_across_fork) {
    char name[128];
    t_posix_name(name, sizeof name, "fork");
    ipcx_sem *s;
    T_OK(ipcx_sem_open(name, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s));
    t_track_sem(name);
    exercise_shared(s);
    /* A child opens it by name on its own. */
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_sem *mine;
        T_OK(ipcx_sem_open(name, 0, 0, NULL, &mine));
        T_OK(ipcx_sem_post(mine));
        T_OK(ipcx_sem_close(mine));
        T_OK(ipcx_sem_close(s));
        _exit(0);
    }
    T_OK(ipcx_sem_wait(s, 10000));
    t_wait_ok(p, 10000);
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_sem_remove(name));
}

T_CASE(named_names) {
    ipcx_sem *s = (ipcx_sem *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(NULL, 0, IPCX_OPEN_CREATE, NULL, &s));
    T_ASSERT(s == NULL);
    const char *bad[] = {"", "/", "noslash", "/a/b", "/.", "/..", "/ipcx-t-\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(bad[i], 0, IPCX_OPEN_CREATE, NULL, &s));
        T_ERR(IPCX_ERR_INVALID, ipcx_sem_remove(bad[i]));
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_remove(NULL));
    /* The longest name glibc can store ("/" + 251 bytes), and one byte more. */
    char name[IPCX_SEM_NAME_MAX + 2];
    int n = snprintf(name, sizeof name, "/ipcx-t-%d-", (int)getpid());
    memset(name + n, 'x', IPCX_SEM_NAME_MAX - (size_t)n);
    name[IPCX_SEM_NAME_MAX] = 0;
    T_OK(ipcx_sem_open(name, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s));
    t_track_sem(name);
    /* ... which the raw call opens, and the reverse. */
    sem_t *raw = sem_open(name, 0);
    T_ASSERT(raw != SEM_FAILED);
    T_ASSERT(sem_post(raw) == 0);
    T_OK(ipcx_sem_wait(s, IPCX_NOWAIT));
    sem_close(raw);
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_sem_remove(name));
    name[IPCX_SEM_NAME_MAX - 1] = 'y';
    raw = sem_open(name, O_CREAT | O_EXCL, 0600, 2);
    T_ASSERT(raw != SEM_FAILED);
    t_track_sem(name);
    sem_close(raw);
    T_OK(ipcx_sem_open(name, 0, 0, NULL, &s));
    int32_t v = 0;
    T_OK(ipcx_sem_value(s, &v));
    T_EQ_INT(v, 2);
    T_OK(ipcx_sem_close(s));
    T_ASSERT(sem_unlink(name) == 0);
    name[IPCX_SEM_NAME_MAX] = 'x';
    name[IPCX_SEM_NAME_MAX + 1] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(name, 0, IPCX_OPEN_CREATE, NULL, &s));
    T_LAST_ERROR_HAS("252");
    T_LAST_ERROR_HAS(name); /* the message names the name */
    t_track_sem(name); /* (in case glibc disagreed) */
#ifdef __GLIBC__
    T_ASSERT(sem_open(name, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED); /* glibc agrees */
#endif /* (musl takes 255 bytes: ipcx keeps the limit of glibc everywhere) */
    /* Flags. */
    char ok[128];
    t_posix_name(ok, sizeof ok, "flags");
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(ok, 0, IPCX_OPEN_EXCLUSIVE, NULL, &s));
    T_LAST_ERROR_HAS("IPCX_OPEN_EXCLUSIVE needs IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(ok, 0, 0x10, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(ok, 0, IPCX_OPEN_CREATE, NULL, NULL));
    char path[300];
    snprintf(path, sizeof path, "/dev/shm/" T_SEM_FILE_PREFIX "%s", ok + 1);
    T_ASSERT(access(path, F_OK) != 0); /* nothing was created by the failed calls */
}

/* ---------------------------------------------------------------- values and limits */

T_CASE(values_and_sem_value_max) {
    char name[128];
    t_posix_name(name, sizeof name, "max");
    ipcx_sem *s = (ipcx_sem *)1;
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    /* Negative initial values are invalid, above SEM_VALUE_MAX is a limit: every kind. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_open(name, -1, IPCX_OPEN_CREATE, NULL, &s));
    T_LAST_ERROR_HAS("negative");
    T_ASSERT(s == NULL);
    T_ERR(IPCX_ERR_LIMIT, ipcx_sem_open(name, (int64_t)IPCX_SEM_VALUE_MAX + 1, IPCX_OPEN_CREATE,
                                        NULL, &s));
    T_LAST_ERROR_HAS("SEM_VALUE_MAX (2147483647)");
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(r, 0, -1, &s));
    T_ERR(IPCX_ERR_LIMIT, ipcx_sem_init(r, 0, (int64_t)IPCX_SEM_VALUE_MAX + 1, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_create(-5, &s));
    T_ERR(IPCX_ERR_LIMIT, ipcx_sem_create(INT64_MAX, &s));
    T_ASSERT(s == NULL);
    /* A failed init leaves the slot free. */
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_attach(r, 0, &s));
    /* Posting past SEM_VALUE_MAX: the value stays, the error names the limit. */
    ipcx_sem *k[3];
    T_OK(ipcx_sem_open(name, IPCX_SEM_VALUE_MAX, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                       &k[0]));
    t_track_sem(name);
    T_OK(ipcx_sem_init(r, 0, IPCX_SEM_VALUE_MAX, &k[1]));
    T_OK(ipcx_sem_create(IPCX_SEM_VALUE_MAX, &k[2]));
    for (int i = 0; i < 3; i++) {
        int32_t v = 0;
        T_ERR(IPCX_ERR_LIMIT, ipcx_sem_post(k[i]));
        T_LAST_ERROR_HAS("SEM_VALUE_MAX (2147483647)");
        T_EQ_INT(ipcx_last_errno(), EOVERFLOW);
        T_OK(ipcx_sem_value(k[i], &v));
        T_EQ_INT(v, IPCX_SEM_VALUE_MAX);
        T_OK(ipcx_sem_wait(k[i], IPCX_NOWAIT));
        T_OK(ipcx_sem_post(k[i]));
    }
    T_OK(ipcx_sem_close(k[0]));
    T_OK(ipcx_sem_remove(name));
    T_OK(ipcx_sem_destroy(k[1]));
    T_OK(ipcx_sem_close(k[1]));
    T_OK(ipcx_sem_close(k[2]));
    T_OK(ipcx_region_close(r));
}

/* ---------------------------------------------------------------- unnamed, placed */

T_CASE(unnamed_in_region_across_fork) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    ipcx_sem *s;
    T_OK(ipcx_sem_init(r, 2 * IPCX_SEM_ALIGN, 0, &s));
    exercise_shared(s);
    /* The slot starts with a native sem_t: raw calls at the same address see it. */
    sem_t *raw = (sem_t *)((char *)base_of(r) + 2 * IPCX_SEM_ALIGN);
    T_OK(ipcx_sem_post(s));
    int rv = -1;
    T_ASSERT(sem_getvalue(raw, &rv) == 0 && rv == 1);
    T_ASSERT(sem_trywait(raw) == 0);
    /* Ping-pong between parent and child with two semaphores. */
    ipcx_sem *pong;
    T_OK(ipcx_sem_init(r, 3 * IPCX_SEM_ALIGN, 0, &pong));
    volatile int *data = (volatile int *)base_of(r);
    pid_t p = t_fork();
    if (p == 0) {
        for (int i = 0; i < 1000; i++) {
            T_OK(ipcx_sem_wait(s, 10000));
            T_EQ_INT(*data, 2 * i);
            *data = 2 * i + 1;
            T_OK(ipcx_sem_post(pong));
        }
        _exit(0);
    }
    for (int i = 0; i < 1000; i++) {
        *data = 2 * i;
        T_OK(ipcx_sem_post(s));
        T_OK(ipcx_sem_wait(pong, 10000));
        T_EQ_INT(*data, 2 * i + 1);
    }
    t_wait_ok(p, 20000);
    T_OK(ipcx_sem_destroy(pong));
    T_OK(ipcx_sem_destroy(s));
    T_OK(ipcx_sem_close(pong));
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_region_close(r));
}

T_CASE(unnamed_attach_destroy_and_region_lifetime) {
    ipcx_region *r;
    T_OK(ipcx_region_create(8192, &r));
    ipcx_sem *a, *b, *c = (ipcx_sem *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_attach(r, 4096, &c));
    T_LAST_ERROR_HAS("no semaphore is initialised there");
    T_ASSERT(c == NULL);
    T_OK(ipcx_sem_init(r, 4096, 1, &a));
    T_ERR(IPCX_ERR_EXISTS, ipcx_sem_init(r, 4096, 0, &c));
    T_LAST_ERROR_HAS("already initialised");
    T_ASSERT(c == NULL);
    T_OK(ipcx_sem_attach(r, 4096, &b));
    /* A child forked before the region is closed keeps using its handle after its own
     * region handle is gone, and so does the parent. */
    pid_t p = t_fork();
    if (p == 0) {
        if (!t_under_valgrind()) T_OK(ipcx_region_close(r)); /* see t_unmap_early */
        T_OK(ipcx_sem_wait(b, 10000));
        T_OK(ipcx_sem_post(b));
        T_OK(ipcx_sem_post(b));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    if (!t_under_valgrind()) /* see t_unmap_early (valgrind_env.h) */
        T_OK(ipcx_region_close(r)); /* the handles map the semaphore's page on their own */
    int32_t v = 0;
    T_OK(ipcx_sem_value(a, &v));
    T_EQ_INT(v, 2);
    T_OK(ipcx_sem_wait(b, IPCX_NOWAIT));
    T_OK(ipcx_sem_wait(a, IPCX_NOWAIT));
    /* Destroy through one handle: both handles stay open, and every call on either one
     * (destroy included) says the semaphore was destroyed, until they are closed. */
    T_OK(ipcx_sem_destroy(a));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_post(a));
    T_LAST_ERROR_HAS("destroyed");
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_destroy(b));
    T_LAST_ERROR_HAS("destroyed");
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_wait(b, IPCX_NOWAIT));
    T_OK(ipcx_sem_close(b));
    T_OK(ipcx_sem_close(a));
    if (t_under_valgrind()) T_OK(ipcx_region_close(r)); /* closed late under valgrind */
    /* A destroyed slot can be initialised again. */
    T_OK(ipcx_region_create(4096, &r));
    T_OK(ipcx_sem_init(r, 0, 0, &a));
    T_OK(ipcx_sem_destroy(a));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_attach(r, 0, &b)); /* nothing there any more */
    T_OK(ipcx_sem_close(a));
    T_OK(ipcx_sem_init(r, 0, 3, &a));
    T_OK(ipcx_sem_close(a)); /* close detaches: the semaphore stays */
    T_OK(ipcx_sem_attach(r, 0, &a));
    T_OK(ipcx_sem_value(a, &v));
    T_EQ_INT(v, 3);
    T_OK(ipcx_sem_destroy(a));
    T_OK(ipcx_sem_close(a));
    T_OK(ipcx_region_close(r));
}

/* _destroy destroys the object only: the handle stays open, every later call on it fails
 * with IPCX_ERR_REMOVED (the same for semaphores, mutexes and condition variables, see
 * test_lock.c), in this process and in others, and _close releases it. */
T_CASE(destroy_keeps_the_handle_until_close) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    ipcx_sem *s, *other;
    T_OK(ipcx_sem_init(r, 0, 1, &s));
    T_OK(ipcx_sem_attach(r, 0, &other));
    /* A forked child holds a handle too: it sees the destroy made by the parent. */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        char c;
        size_t len = 1;
        T_OK(ipcx_pipe_recv(rd, &c, &len, 10000)); /* "destroyed" */
        T_ERR(IPCX_ERR_REMOVED, ipcx_sem_post(other));
        T_ERR(IPCX_ERR_REMOVED, ipcx_sem_wait(other, 100));
        T_OK(ipcx_sem_close(other));
        T_OK(ipcx_sem_close(s));
        T_OK(ipcx_pipe_close(rd));
        T_OK(ipcx_pipe_close(wr));
        _exit(0);
    }
    T_OK(ipcx_sem_destroy(s));
    T_OK(ipcx_pipe_send(wr, "d", 1, 1000));
    t_wait_ok(p, 10000);
    int32_t v = 7;
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_wait(s, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_wait(s, IPCX_FOREVER)); /* fails, never blocks */
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_wait(s, 50));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_post(s));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_value(s, &v));
    T_EQ_INT(v, 0);
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_destroy(s));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_post(other));
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_sem_close(other));
    /* Closed: now the handles are gone. */
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_post(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_destroy(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_close(s));
    /* A thread-only semaphore: destroy destroys it, close frees it. */
    ipcx_sem *t;
    T_OK(ipcx_sem_create(2, &t));
    T_OK(ipcx_sem_destroy(t));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_wait(t, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_post(t));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_value(t, &v));
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_destroy(t));
    T_OK(ipcx_sem_close(t));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_post(t));
    /* A thread-only semaphore closed without a destroy is destroyed by the close. */
    T_OK(ipcx_sem_create(0, &t));
    T_OK(ipcx_sem_close(t));
    /* Bad input: NULL is an error for destroy (only close takes NULL), a named semaphore is
     * not destroyed. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_destroy(NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_destroy((ipcx_sem *)r));
    char name[128];
    t_posix_name(name, sizeof name, "destroy");
    t_track_sem(name);
    T_OK(ipcx_sem_open(name, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &t));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_destroy(t));
    T_LAST_ERROR_HAS("ipcx_sem_remove");
    T_OK(ipcx_sem_post(t)); /* still usable */
    T_OK(ipcx_sem_close(t));
    T_OK(ipcx_sem_remove(name));
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    T_OK(ipcx_region_close(r));
}

T_CASE(unnamed_placement_rules) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    ipcx_sem *s = (ipcx_sem *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(r, 8, 0, &s)); /* misaligned */
    T_LAST_ERROR_HAS("not aligned to 64 bytes");
    T_ASSERT(s == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(r, 4096 - 32, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(r, 4096, 0, &s)); /* out of the region */
    T_LAST_ERROR_HAS("outside the 4096-byte region");
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(r, (size_t)-64, 0, &s)); /* would overflow */
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach(r, 4, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach(r, 4096, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(NULL, 0, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach(NULL, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init(r, 0, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach(r, 0, NULL));
    /* Another kind of object in the slot. */
    ipcx_mutex *m;
    T_OK(ipcx_mutex_init(r, 0, NULL, &m));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach(r, 0, &s));
    T_LAST_ERROR_HAS("a mutex is initialised there, not a semaphore");
    T_ERR(IPCX_ERR_EXISTS, ipcx_sem_init(r, 0, 0, &s));
    T_OK(ipcx_mutex_destroy(m));
    T_OK(ipcx_mutex_close(m));
    /* By address: alignment, shared memory only, mapped memory only. */
    char *base = base_of(r);
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init_at(NULL, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init_at(base + 8, 0, &s));
    T_LAST_ERROR_HAS("not aligned");
    static _Alignas(64) char private_mem[256];
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init_at(private_mem, 0, &s));
    T_LAST_ERROR_HAS("not a shared mapping");
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach_at(private_mem, &s));
    char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    T_ASSERT(gone != MAP_FAILED);
    munmap(gone, 4096);
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach_at(gone, &s));
    T_LAST_ERROR_HAS("no memory is mapped");
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach_at(NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_attach_at(base, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_init_at(base, 0, NULL));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sem_attach_at(base + 128, &s));
    T_ASSERT(s == NULL);
    /* init_at and attach_at, in memory the test mapped itself, then unmapped. */
    char path[256];
    char *mem = map_new_file(path, sizeof path, 4096);
    ipcx_sem *a, *b;
    T_OK(ipcx_sem_init_at(mem + 64, 1, &a));
    T_OK(ipcx_sem_attach_at(mem + 64, &b));
    T_ASSERT(t_unmap_early(mem, 4096) == 0);
    T_OK(ipcx_sem_wait(b, IPCX_NOWAIT));
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_sem_wait(a, IPCX_NOWAIT));
    T_OK(ipcx_sem_close(b));
    T_OK(ipcx_sem_destroy(a));
    T_OK(ipcx_sem_close(a));
    t_unmap_late(mem, 4096);
    /* A file mapped from a read-only descriptor cannot hold a semaphore. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    T_ASSERT(fd >= 0);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    T_ASSERT(ro != MAP_FAILED);
    close(fd);
    T_ERR(IPCX_ERR_PERMISSION, ipcx_sem_init_at(ro, 0, &s));
    T_LAST_ERROR_HAS("cannot be written");
    T_ASSERT(s == NULL);
    munmap(ro, 4096);
    T_ASSERT(unlink(path) == 0);
    T_OK(ipcx_region_close(r));
}

/* ---------------------------------------------------------------- thread-only */

static void *poster(void *arg) {
    ipcx_sem **s = arg;
    for (int i = 0; i < 10000; i++) {
        if (ipcx_sem_wait(s[0], 10000) != IPCX_OK) return (void *)1;
        if (ipcx_sem_post(s[1]) != IPCX_OK) return (void *)1;
    }
    return NULL;
}

T_CASE(private_semaphore_between_threads) {
    ipcx_sem *s[2];
    T_OK(ipcx_sem_create(0, &s[0]));
    T_OK(ipcx_sem_create(0, &s[1]));
    pthread_t th;
    T_ASSERT(pthread_create(&th, NULL, poster, s) == 0);
    for (int i = 0; i < 10000; i++) {
        T_OK(ipcx_sem_post(s[0]));
        T_OK(ipcx_sem_wait(s[1], 10000));
    }
    void *ret = (void *)2;
    T_ASSERT(pthread_join(th, &ret) == 0 && ret == NULL);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_sem_wait(s[0], 100));
    /* Private memory: a forked child's posts stay in the child's copy. */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_sem_post(s[0]));
        int32_t v = 0;
        T_OK(ipcx_sem_value(s[0], &v));
        T_EQ_INT(v, 1);
        _exit(0);
    }
    t_wait_ok(p, 10000);
    int32_t v = -1;
    T_OK(ipcx_sem_value(s[0], &v));
    T_EQ_INT(v, 0);
    T_OK(ipcx_sem_destroy(s[0])); /* destroys it; the handle stays until closed */
    T_ERR(IPCX_ERR_REMOVED, ipcx_sem_post(s[0]));
    T_OK(ipcx_sem_close(s[0]));
    T_OK(ipcx_sem_close(s[1]));
}

/* ---------------------------------------------------------------- signals */

T_CASE(waits_resume_after_signals_unless_interruptible) {
    install_usr1();
    ipcx_sem *s;
    T_OK(ipcx_sem_create(0, &s));
    ipcx_semset *set;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                          IPCX_NOWAIT, &set));
    int32_t id;
    T_OK(ipcx_semset_id(set, &id, NULL));
    t_track_sysv_sem(id);
    /* Default: a signal does not end the wait early; the deadline holds. */
    pid_t p = signal_later(100);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 400, ipcx_sem_wait(s, 400));
    T_ASSERT(got_signal);
    t_wait_ok(p, 10000);
    got_signal = 0;
    p = signal_later(100);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 400, ipcx_semset_p(set, 0, 0, 400));
    T_ASSERT(got_signal);
    t_wait_ok(p, 10000);
    /* Interruptible: the signal ends the wait with IPCX_ERR_INTERRUPTED. */
    ipcx_thread_set_interruptible(true);
    got_signal = 0;
    p = signal_later(100);
    double t0 = t_now_ms();
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_sem_wait(s, 10000));
    T_ASSERT(got_signal && t_now_ms() - t0 < 5000);
    t_wait_ok(p, 10000);
    got_signal = 0;
    p = signal_later(100);
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_sem_wait(s, IPCX_FOREVER));
    t_wait_ok(p, 10000);
    got_signal = 0;
    p = signal_later(100);
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_semset_p(set, 0, 0, IPCX_FOREVER));
    t_wait_ok(p, 10000);
    got_signal = 0;
    p = signal_later(100);
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_semset_p(set, 0, 0, 10000));
    t_wait_ok(p, 10000);
    ipcx_thread_set_interruptible(false);
    T_OK(ipcx_semset_remove(set));
    T_OK(ipcx_semset_close(set));
    T_OK(ipcx_sem_close(s));
}

/* ---------------------------------------------------------------- counters */

/* WORKERS children each add 1 to *counter ROUNDS times between `lock` and `unlock`. */
#define COUNTER_CHILDREN(counter, lock, unlock)                                     \
    do {                                                                            \
        pid_t pids_[WORKERS];                                                       \
        for (int w_ = 0; w_ < WORKERS; w_++) {                                      \
            pids_[w_] = t_fork();                                                   \
            if (pids_[w_] == 0) {                                                   \
                for (int i_ = 0; i_ < ROUNDS; i_++) {                               \
                    T_OK(lock);                                                     \
                    (*(counter))++;                                                 \
                    T_OK(unlock);                                                   \
                }                                                                   \
                _exit(0);                                                           \
            }                                                                       \
        }                                                                           \
        for (int w_ = 0; w_ < WORKERS; w_++) t_wait_ok(pids_[w_], 50000);           \
    } while (0)

T_CASE(counter_4x100k_unnamed_sem) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    volatile long *counter = (volatile long *)((char *)base_of(r) + 512);
    ipcx_sem *s;
    T_OK(ipcx_sem_init(r, 0, 1, &s));
    COUNTER_CHILDREN(counter, ipcx_sem_wait(s, 20000), ipcx_sem_post(s));
    T_EQ_INT(*counter, (long)WORKERS * ROUNDS);
    int32_t v = 0;
    T_OK(ipcx_sem_value(s, &v));
    T_EQ_INT(v, 1);
    T_OK(ipcx_sem_destroy(s));
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_region_close(r));
}

T_CASE(counter_4x100k_named_sem_two_unrelated) {
    char name[128], path[256], off[32], count[32];
    t_posix_name(name, sizeof name, "count");
    char *mem = map_new_file(path, sizeof path, 4096);
    volatile long *counter = (volatile long *)(mem + 256);
    ipcx_sem *s;
    T_OK(ipcx_sem_open(name, 1, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s));
    t_track_sem(name);
    /* Two separately started programs open the name; two forked children use the handle. */
    snprintf(off, sizeof off, "%d", 256);
    snprintf(count, sizeof count, "%d", ROUNDS);
    char *argv[] = {"sync_peer", "sem-count", name, path, off, count, NULL};
    pid_t peers[2] = {spawn_peer(argv), spawn_peer(argv)};
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            for (int i = 0; i < ROUNDS; i++) {
                T_OK(ipcx_sem_wait(s, 20000));
                (*counter)++;
                T_OK(ipcx_sem_post(s));
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        t_wait_ok(peers[k], 50000);
        t_wait_ok(kids[k], 50000);
    }
    T_EQ_INT(*counter, (long)WORKERS * ROUNDS);
    T_OK(ipcx_sem_close(s));
    T_OK(ipcx_sem_remove(name));
    munmap(mem, 4096);
    T_ASSERT(unlink(path) == 0);
}

T_CASE(counter_4x100k_sysv_sem) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    volatile long *counter = (volatile long *)base_of(r);
    ipcx_semset *s;
    int32_t one = 1, id = -1;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, &one, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                          IPCX_NOWAIT, &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    COUNTER_CHILDREN(counter, ipcx_semset_p(s, 0, IPCX_SEMSET_UNDO, 20000),
                     ipcx_semset_v(s, 0, IPCX_SEMSET_UNDO));
    T_EQ_INT(*counter, (long)WORKERS * ROUNDS);
    int32_t v = 0;
    T_OK(ipcx_semset_get(s, 0, &v));
    T_EQ_INT(v, 1);
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
    T_OK(ipcx_region_close(r));
}

/* ---------------------------------------------------------------- System V */

T_CASE(semset_create_open_values) {
    char path[256];
    t_path(path, sizeof path, "key");
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    close(fd);
    int32_t key = -1, key2 = -1;
    T_OK(ipcx_sysv_key(path, 0x5e, &key));
    T_OK(ipcx_sysv_key(path, 0x5e, &key2));
    T_EQ_INT(key, key2);
    T_ASSERT(key != -1 && key != IPCX_KEY_PRIVATE);
    ipcx_semset *s = (ipcx_semset *)1, *o;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_semset_open(key, 0, NULL, 0, NULL, 0, &s));
    T_ASSERT(s == NULL);
    int32_t init[3] = {1, 2, 3};
    T_OK(ipcx_semset_open(key, 3, init, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT,
                          &s));
    int32_t id = -1;
    uint32_t nsems = 0;
    T_OK(ipcx_semset_id(s, &id, &nsems));
    t_track_sysv_sem(id);
    T_EQ_INT(nsems, 3);
    /* Default mode 0600 (System V ignores the umask). */
    struct semid_ds ds;
    T_ASSERT(semctl(id, 0, IPC_STAT, &ds) == 0);
    T_EQ_INT(ds.sem_perm.mode & 0777, 0600);
    T_ASSERT(ds.sem_otime != 0); /* marked initialised */
    T_ERR(IPCX_ERR_EXISTS, ipcx_semset_open(key, 3, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
                                            NULL, IPCX_NOWAIT, &o));
    T_LAST_ERROR_HAS("already exists");
    /* Another process opens it by key and sees the values. */
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_semset *mine;
        T_OK(ipcx_semset_open(key, 3, NULL, 0, NULL, 1000, &mine));
        int32_t all[3] = {0};
        size_t n = 3;
        T_OK(ipcx_semset_get_all(mine, all, &n));
        T_EQ_INT(n, 3);
        T_ASSERT(all[0] == 1 && all[1] == 2 && all[2] == 3);
        T_OK(ipcx_semset_v(mine, 2, 0));
        T_OK(ipcx_semset_close(mine));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    int32_t v = 0, pid = 0;
    T_OK(ipcx_semset_get(s, 2, &v));
    T_EQ_INT(v, 4);
    T_OK(ipcx_semset_pid(s, 2, &pid));
    T_EQ_INT(pid, p); /* GETPID: the last process that operated on it */
    T_OK(ipcx_semset_pid(s, 1, &pid));
    T_EQ_INT(pid, getpid()); /* the creator's SETALL (Linux records it) */
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 4, NULL, 0, NULL, 0, &o)); /* too few semaphores */
    T_LAST_ERROR_HAS("fewer than the 4");
    T_OK(ipcx_semset_open(key, 0, NULL, 0, NULL, 0, &o));
    /* set / get / set_all / get_all */
    T_OK(ipcx_semset_set(o, 1, 7));
    T_OK(ipcx_semset_get(s, 1, &v));
    T_EQ_INT(v, 7);
    int32_t all[4] = {9, 8, 7, -1};
    T_OK(ipcx_semset_set_all(s, all, 3));
    int32_t got[4] = {0, 0, 0, 42};
    size_t n = 4; /* a larger array is fine */
    T_OK(ipcx_semset_get_all(o, got, &n));
    T_EQ_INT(n, 3);
    T_ASSERT(got[0] == 9 && got[1] == 8 && got[2] == 7 && got[3] == 42);
    n = 2;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_semset_get_all(o, got, &n));
    T_EQ_INT(n, 3); /* the size needed */
    T_OK(ipcx_semset_close(o));
    T_OK(ipcx_semset_remove(s));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_semset_open(key, 0, NULL, 0, NULL, 0, &o));
    T_OK(ipcx_semset_close(s));
    /* An exact mode. */
    ipcx_options *opt;
    T_OK(ipcx_options_create(&opt));
    T_OK(ipcx_options_set_mode(opt, 0640));
    T_OK(ipcx_semset_open(key, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, opt, IPCX_NOWAIT,
                          &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    T_ASSERT(semctl(id, 0, IPC_STAT, &ds) == 0);
    T_EQ_INT(ds.sem_perm.mode & 0777, 0640);
    T_OK(ipcx_semset_get(s, 0, &v));
    T_EQ_INT(v, 0); /* NULL values: zeros */
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
    T_OK(ipcx_options_set_capacity(opt, 10));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
                                             opt, IPCX_NOWAIT, &s));
    T_LAST_ERROR_HAS("capacity");
    T_OK(ipcx_options_close(opt));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(semset_open_waits_for_initialisation) {
    /* A set made by a raw program: semget only, no operation yet. */
    int32_t key = (int32_t)(0x5e000000 | (getpid() & 0xffffff));
    int id = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
    T_ASSERT(id >= 0);
    t_track_sysv_sem(id);
    ipcx_semset *s = (ipcx_semset *)1;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_semset_open(key, 0, NULL, 0, NULL, IPCX_NOWAIT, &s));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_semset_open(key, 0, NULL, 0, NULL, 150, &s));
    T_LAST_ERROR_HAS("has not initialised it");
    T_ASSERT(s == NULL);
    /* Its creator's first operation makes it ready while we wait. */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(100000);
        struct sembuf op = {1, 1, 0};
        T_ASSERT(semop(id, &op, 1) == 0);
        _exit(0);
    }
    double t0 = t_now_ms();
    T_OK(ipcx_semset_open(key, 2, NULL, 0, NULL, 10000, &s));
    T_ASSERT(t_now_ms() - t0 >= 50);
    int32_t v = 0;
    T_OK(ipcx_semset_get(s, 1, &v));
    T_EQ_INT(v, 1);
    t_wait_ok(p, 10000);
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(IPCX_KEY_PRIVATE, 0, NULL, 0, NULL, 0, &s));
    T_LAST_ERROR_HAS("key IPCX_KEY_PRIVATE always makes a new semaphore set, so it needs "
                     "IPCX_OPEN_CREATE");
}

/* IPCX_OPEN_CREATE without IPCX_OPEN_EXCLUSIVE: creates the set if no set has the key (with
 * the values), else opens it as without the flag (values unused, at least nsems, and a wait
 * for an initialisation in progress). */
T_CASE(semset_open_create_opens_or_creates) {
    int32_t key = (int32_t)(0x5d000000 | (getpid() & 0xffffff));
    ipcx_semset *a, *b = (ipcx_semset *)1;
    int32_t init[2] = {4, 5}, other[2] = {9, 9}, id, id2, v = 0;
    uint32_t n = 0;
    T_OK(ipcx_semset_open(key, 2, init, IPCX_OPEN_CREATE, NULL, IPCX_NOWAIT, &a));
    T_OK(ipcx_semset_id(a, &id, &n));
    t_track_sysv_sem(id);
    T_EQ_INT(n, 2);
    T_OK(ipcx_semset_get(a, 1, &v));
    T_EQ_INT(v, 5);
    /* Again: the same set, its values untouched; fewer semaphores asked is fine, more not. */
    T_OK(ipcx_semset_open(key, 1, other, IPCX_OPEN_CREATE, NULL, IPCX_NOWAIT, &b));
    T_OK(ipcx_semset_id(b, &id2, &n));
    T_EQ_INT(id2, id);
    T_EQ_INT(n, 2);
    T_OK(ipcx_semset_get(b, 0, &v));
    T_EQ_INT(v, 4);
    T_OK(ipcx_semset_close(b));
    b = (ipcx_semset *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 3, NULL, IPCX_OPEN_CREATE, NULL, 0, &b));
    T_LAST_ERROR_HAS("fewer than the 3");
    T_ASSERT(b == NULL);
    /* Without CREATE the values are not even read (a bad pointer is harmless). */
    T_OK(ipcx_semset_open(key, 2, (const int32_t *)1, 0, NULL, IPCX_NOWAIT, &b));
    T_OK(ipcx_semset_close(b));
    /* With CREATE they are checked, even when the set exists. */
    int32_t bad[2] = {1, -1};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 2, bad, IPCX_OPEN_CREATE, NULL, 0, &b));
    T_OK(ipcx_semset_remove(a));
    T_OK(ipcx_semset_close(a));
    /* A set being initialised by its creator (a raw semget, no operation yet): CREATE
     * opens it and waits for the initialisation, never before its deadline. */
    int raw = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
    T_ASSERT(raw >= 0);
    t_track_sysv_sem(raw);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_semset_open(key, 2, init, IPCX_OPEN_CREATE, NULL, 100,
                                                        &b));
    T_ASSERT(b == NULL);
    pid_t p = t_fork();
    if (p == 0) {
        usleep(100000);
        struct sembuf op = {0, 3, 0};
        T_ASSERT(semop(raw, &op, 1) == 0);
        _exit(0);
    }
    T_OK(ipcx_semset_open(key, 2, init, IPCX_OPEN_CREATE, NULL, 10000, &b));
    T_OK(ipcx_semset_get(b, 0, &v));
    T_EQ_INT(v, 3); /* the creator's value, not ours */
    t_wait_ok(p, 10000);
    T_OK(ipcx_semset_remove(b));
    T_OK(ipcx_semset_close(b));
    /* The private key with CREATE: a new set every time. */
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL, IPCX_OPEN_CREATE, NULL, 0, &a));
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL, IPCX_OPEN_CREATE, NULL, 0, &b));
    T_OK(ipcx_semset_id(a, &id, NULL));
    t_track_sysv_sem(id);
    T_OK(ipcx_semset_id(b, &id2, NULL));
    t_track_sysv_sem(id2);
    T_ASSERT(id != id2);
    T_OK(ipcx_semset_remove(a));
    T_OK(ipcx_semset_remove(b));
    T_OK(ipcx_semset_close(a));
    T_OK(ipcx_semset_close(b));
    /* Flags. */
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 1, NULL, IPCX_OPEN_EXCLUSIVE, NULL, 0, &b));
    T_LAST_ERROR_HAS("IPCX_OPEN_EXCLUSIVE needs IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_READ, NULL,
                                             0, &b));
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE and IPCX_OPEN_EXCLUSIVE");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 1, NULL, IPCX_SEMSET_UNDO, NULL, 0, &b));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(key, 0, NULL, IPCX_OPEN_CREATE, NULL, 0, &b));
    T_LAST_ERROR_HAS("at least one semaphore");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_semset_open(key, 0, NULL, 0, NULL, 0, &b));
}

/* Opening a set checks no permission of its own, but waiting for its initialisation
 * reads its status: without read permission the open is IPCX_ERR_PERMISSION. What the
 * open lets through is checked by the kernel at each operation. */
T_CASE(semset_open_needs_read_permission_only) {
    if (!t_can_switch_users()) return;
    int32_t base = (int32_t)(0x5c000000 | ((getpid() & 0xfff) << 8));
    const uint32_t modes[] = {0600, 0644, 0622, 0666};
    ipcx_semset *set[4];
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    for (int k = 0; k < 4; k++) {
        T_OK(ipcx_options_set_mode(o, modes[k]));
        int32_t one = 1, id;
        T_OK(ipcx_semset_open(base + k, 1, &one, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, 0,
                              &set[k]));
        T_OK(ipcx_semset_id(set[k], &id, NULL));
        t_track_sysv_sem(id);
    }
    T_OK(ipcx_options_close(o));
    pid_t p = t_fork();
    if (p == 0) {
        t_become(T_NOBODY);
        ipcx_semset *s = (ipcx_semset *)1;
        int32_t v;
        /* 0600 and 0622: no read permission, no open (with or without CREATE). */
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_open(base + 0, 0, NULL, 0, NULL, 0, &s));
        T_ASSERT(s == NULL);
        T_LAST_ERROR_HAS("read");
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_open(base + 0, 1, NULL, IPCX_OPEN_CREATE, NULL, 0,
                                                    &s));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_open(base + 2, 0, NULL, 0, NULL, 0, &s));
        T_ERR(IPCX_ERR_EXISTS, ipcx_semset_open(base + 0, 1, NULL,
                                                IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, 0,
                                                &s));
        /* 0644: opened; reading works, changing is refused by the kernel. */
        T_OK(ipcx_semset_open(base + 1, 1, NULL, 0, NULL, 0, &s));
        T_OK(ipcx_semset_get(s, 0, &v));
        T_EQ_INT(v, 1);
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_v(s, 0, 0));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_set(s, 0, 3));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_remove(s));
        T_OK(ipcx_semset_close(s));
        /* 0666: everything but removal (owner or creator only). */
        T_OK(ipcx_semset_open(base + 3, 1, NULL, IPCX_OPEN_CREATE, NULL, 0, &s));
        T_OK(ipcx_semset_v(s, 0, 0));
        T_OK(ipcx_semset_p(s, 0, 0, 0));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_semset_remove(s));
        T_OK(ipcx_semset_close(s));
        _exit(0);
    }
    t_wait_ok(p, 20000);
    for (int k = 0; k < 4; k++) {
        T_OK(ipcx_semset_remove(set[k]));
        T_OK(ipcx_semset_close(set[k]));
    }
}

/* Empty arrays are checked like any count, never turned into a slice from a dangling
 * pointer (undefined behaviour a debug build of the library aborts on). */
T_CASE(semset_empty_and_misaligned_arrays) {
    ipcx_semset *s;
    int32_t id;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 2, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, 0,
                          &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    /* No operation: invalid, whatever the pointer. */
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, NULL, 0, 0));
    T_LAST_ERROR_HAS("no operations");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, (const ipcx_semop *)1, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, NULL, 0, IPCX_FOREVER));
    /* SETALL with no value: invalid (the set has 2). */
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(s, NULL, 0));
    T_LAST_ERROR_HAS("0 values given, the set has 2");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(s, (const int32_t *)2, 0));
    /* GETALL into no room: too big, with the count needed. */
    size_t n = 0;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_semset_get_all(s, NULL, &n));
    T_EQ_INT(n, 2);
    n = 0;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_semset_get_all(s, (int32_t *)3, &n));
    T_EQ_INT(n, 2);
    /* Misaligned arrays with a count: refused, not read. */
    _Alignas(8) char raw[64] = {0};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, (const ipcx_semop *)(raw + 1), 1, 0));
    T_LAST_ERROR_HAS("aligned");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(s, (const int32_t *)(raw + 2), 2));
    T_LAST_ERROR_HAS("aligned");
    n = 2;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get_all(s, (int32_t *)(raw + 1), &n));
    T_LAST_ERROR_HAS("aligned");
    T_EQ_INT(n, 2);
    /* Creation values: NULL with a count is zeros, a misaligned array is refused. */
    ipcx_semset *t = (ipcx_semset *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(IPCX_KEY_PRIVATE, 2, (const int32_t *)(raw + 1),
                                             IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, 0, &t));
    T_ASSERT(t == NULL);
    /* Nothing changed. */
    int32_t all[2] = {7, 7};
    n = 2;
    T_OK(ipcx_semset_get_all(s, all, &n));
    T_ASSERT(n == 2 && all[0] == 0 && all[1] == 0);
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
}

T_CASE(semset_atomic_ops_waiters_and_zero) {
    ipcx_semset *s;
    int32_t init[3] = {1, 0, 2}, id;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 3, init, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                          IPCX_NOWAIT, &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    /* All or nothing: sem 1 is 0, so taking from 0 and 1 together does nothing. */
    ipcx_semop both[2] = {{0, -1, 0}, {1, -1, 0}};
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_semset_op(s, both, 2, IPCX_NOWAIT));
    T_LAST_ERROR_HAS("would block");
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_semset_op(s, both, 2, 200));
    int32_t all[3];
    size_t n = 3;
    T_OK(ipcx_semset_get_all(s, all, &n));
    T_ASSERT(all[0] == 1 && all[1] == 0 && all[2] == 2);
    /* A child blocked on both is counted as waiting; one V on sem 1 lets it through. */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_semset_op(s, both, 2, 10000));
        _exit(0);
    }
    uint32_t ncnt = 0, zcnt = 0;
    T_EVENTUALLY(ipcx_semset_waiters(s, 1, &ncnt, &zcnt) == IPCX_OK && ncnt == 1);
    T_EQ_INT(zcnt, 0);
    T_OK(ipcx_semset_v(s, 1, 0));
    t_wait_ok(p, 10000);
    n = 3;
    T_OK(ipcx_semset_get_all(s, all, &n));
    T_ASSERT(all[0] == 0 && all[1] == 0 && all[2] == 2);
    /* Wait-for-zero: delta 0 blocks until the value is 0. */
    ipcx_semop zero = {2, 0, 0};
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_semset_op(s, &zero, 1, 100));
    p = t_fork();
    if (p == 0) {
        T_OK(ipcx_semset_op(s, &zero, 1, 10000));
        _exit(0);
    }
    T_EVENTUALLY(ipcx_semset_waiters(s, 2, &ncnt, &zcnt) == IPCX_OK && zcnt == 1);
    ipcx_semop take2 = {2, -2, 0};
    T_OK(ipcx_semset_op(s, &take2, 1, IPCX_NOWAIT));
    t_wait_ok(p, 10000);
    /* Large deltas and many operations (beyond ipcx's on-stack buffer). */
    ipcx_semop many[40];
    for (int i = 0; i < 40; i++) many[i] = (ipcx_semop){(uint32_t)(i / 2 % 3), i % 2 ? -1 : 1, 0};
    T_OK(ipcx_semset_op(s, many, 40, IPCX_NOWAIT));
    ipcx_semop big = {0, 32767, 0};
    T_OK(ipcx_semset_op(s, &big, 1, 0));
    T_ERR(IPCX_ERR_LIMIT, ipcx_semset_v(s, 0, 0));
    T_LAST_ERROR_HAS("SEMVMX (32767");
    big.delta = -32767;
    T_OK(ipcx_semset_op(s, &big, 1, 0));
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
}

T_CASE(semset_undo_after_sigkill) {
    ipcx_semset *s;
    int32_t init[2] = {1, 0}, id;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 2, init, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                          IPCX_NOWAIT, &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    /* A holds sem 0 with SEM_UNDO and is killed; B, blocked on it, gets it. */
    pid_t a = t_fork();
    if (a == 0) {
        T_OK(ipcx_semset_p(s, 0, IPCX_SEMSET_UNDO, 10000));
        T_OK(ipcx_semset_v(s, 1, 0)); /* "I hold it" */
        sleep(30);
        _exit(2);
    }
    T_OK(ipcx_semset_p(s, 1, 0, 10000));
    int32_t v = -1;
    T_OK(ipcx_semset_get(s, 0, &v));
    T_EQ_INT(v, 0);
    pid_t b = t_fork();
    if (b == 0) {
        T_OK(ipcx_semset_p(s, 0, IPCX_SEMSET_UNDO, 10000));
        _exit(0); /* exits holding it: SEM_UNDO releases it again */
    }
    uint32_t ncnt = 0;
    T_EVENTUALLY(ipcx_semset_waiters(s, 0, &ncnt, NULL) == IPCX_OK && ncnt == 1);
    T_ASSERT(kill(a, SIGKILL) == 0);
    int st = t_wait(a, 10000);
    T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    t_wait_ok(b, 10000);
    T_OK(ipcx_semset_get(s, 0, &v));
    T_EQ_INT(v, 1); /* restored twice: after A's death and after B's exit */
    /* The same with an unrelated program that opens the set by key. */
    int32_t key = (int32_t)(0x5f000000 | (getpid() & 0xffffff));
    ipcx_semset *k;
    int32_t three = 3;
    T_OK(ipcx_semset_open(key, 1, &three, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT,
                          &k));
    T_OK(ipcx_semset_id(k, &id, NULL));
    t_track_sysv_sem(id);
    char keys[32];
    snprintf(keys, sizeof keys, "%d", key);
    char *argv[] = {"sync_peer", "semset-hold", keys, "0", NULL};
    pid_t peer = spawn_peer(argv);
    T_EVENTUALLY(ipcx_semset_get(k, 0, &v) == IPCX_OK && v == 2);
    T_ASSERT(kill(peer, SIGKILL) == 0);
    t_wait(peer, 10000);
    T_OK(ipcx_semset_get(k, 0, &v));
    T_EQ_INT(v, 3);
    T_OK(ipcx_semset_remove(k));
    T_OK(ipcx_semset_close(k));
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
}

T_CASE(semset_removal_wakes_waiters) {
    ipcx_semset *s;
    int32_t id;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 2, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                          IPCX_NOWAIT, &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            if (k == 0) T_ERR(IPCX_ERR_REMOVED, ipcx_semset_p(s, 0, 0, 20000));
            else T_ERR(IPCX_ERR_REMOVED, ipcx_semset_p(s, 1, IPCX_SEMSET_UNDO, IPCX_FOREVER));
            T_LAST_ERROR_HAS("removed");
            _exit(0);
        }
    }
    uint32_t n0 = 0, n1 = 0;
    T_EVENTUALLY(ipcx_semset_waiters(s, 0, &n0, NULL) == IPCX_OK && n0 == 1 &&
                 ipcx_semset_waiters(s, 1, &n1, NULL) == IPCX_OK && n1 == 1);
    double t0 = t_now_ms();
    T_OK(ipcx_semset_remove(s));
    t_wait_ok(kids[0], 10000);
    t_wait_ok(kids[1], 10000);
    T_ASSERT(t_now_ms() - t0 < 5000);
    /* Every later call on the handle says so. */
    int32_t v;
    T_ERR(IPCX_ERR_REMOVED, ipcx_semset_get(s, 0, &v));
    T_ERR(IPCX_ERR_REMOVED, ipcx_semset_v(s, 0, 0));
    T_ERR(IPCX_ERR_REMOVED, ipcx_semset_p(s, 0, 0, 100));
    T_ERR(IPCX_ERR_REMOVED, ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
}

T_CASE(semset_limits_and_bad_input) {
    ipcx_semset *s = (ipcx_semset *)1;
    long semmsl = sem_limit(0), semopm = sem_limit(2);
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(IPCX_KEY_PRIVATE, 0, NULL,
                                             IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                             IPCX_NOWAIT, &s));
    T_ASSERT(s == NULL);
    T_ERR(IPCX_ERR_LIMIT, ipcx_semset_open(IPCX_KEY_PRIVATE, (uint32_t)semmsl + 1, NULL,
                                           IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT,
                                           &s));
    T_LAST_ERROR_HAS("SEMMSL");
    T_LAST_ERROR_HAS("/proc/sys/kernel/sem");
    int32_t bad[2] = {1, -1};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(IPCX_KEY_PRIVATE, 2, bad,
                                             IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                             IPCX_NOWAIT, &s));
    bad[1] = 32768;
    T_ERR(IPCX_ERR_LIMIT, ipcx_semset_open(IPCX_KEY_PRIVATE, 2, bad,
                                           IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT,
                                           &s));
    T_LAST_ERROR_HAS("SEMVMX");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL,
                                             IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                             IPCX_NOWAIT, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(12345, 0, NULL, 0, NULL, -2, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(IPCX_KEY_PRIVATE, 1, NULL, 0, NULL, 0, &s));
    T_LAST_ERROR_HAS("key IPCX_KEY_PRIVATE always makes a new semaphore set, so it needs "
                     "IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_open(12345, 0, NULL, 0, NULL, 0, NULL));
    int32_t id;
    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 2, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                          IPCX_NOWAIT, &s));
    T_OK(ipcx_semset_id(s, &id, NULL));
    t_track_sysv_sem(id);
    T_OK(ipcx_semset_id(s, NULL, NULL));
    /* Operations. */
    ipcx_semop op = {0, 1, 0};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, NULL, 1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, &op, 0, 0));
    T_LAST_ERROR_HAS("empty");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, &op, 1, -2));
    op.index = 2;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, &op, 1, 0));
    T_LAST_ERROR_HAS("index 2 is out of range");
    op = (ipcx_semop){0, 40000, 0};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, &op, 1, 0));
    T_LAST_ERROR_HAS("-32768..32767");
    op = (ipcx_semop){0, 1, 0x10};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(s, &op, 1, 0));
    T_LAST_ERROR_HAS("unknown flags");
    ipcx_semop *many = calloc((size_t)semopm + 1, sizeof *many);
    T_ASSERT(many != NULL);
    for (long i = 0; i <= semopm; i++) many[i] = (ipcx_semop){0, i % 2 ? -1 : 1, 0};
    T_ERR(IPCX_ERR_LIMIT, ipcx_semset_op(s, many, (size_t)semopm + 1, 0));
    T_LAST_ERROR_HAS("SEMOPM");
    free(many);
    int32_t v = -1;
    T_OK(ipcx_semset_get(s, 0, &v));
    T_EQ_INT(v, 0); /* nothing was applied */
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_p(s, 2, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_p(s, 0, 0x10, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_v(s, 5, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_v(s, 0, 2));
    /* Values. */
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set(s, 0, -1));
    T_ERR(IPCX_ERR_LIMIT, ipcx_semset_set(s, 0, 32768));
    T_LAST_ERROR_HAS("SEMVMX");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set(s, 2, 1));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get(s, 2, &v));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get(s, 0, NULL));
    int32_t vals[3] = {1, 2, 3};
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(s, vals, 3));
    T_LAST_ERROR_HAS("3 values given, the set has 2");
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(s, NULL, 2));
    vals[1] = -3;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(s, vals, 2));
    size_t n = 2;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get_all(s, vals, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get_all(s, NULL, &n));
    n = 0;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_semset_get_all(s, NULL, &n));
    T_EQ_INT(n, 2);
    uint32_t nc = 9, zc = 9;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_waiters(s, 2, &nc, &zc));
    T_ASSERT(nc == 0 && zc == 0);
    T_OK(ipcx_semset_waiters(s, 1, NULL, NULL));
    int32_t pid = 9;
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_pid(s, 2, &pid));
    T_ASSERT(pid == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_pid(s, 0, NULL));
    /* ftok keys. */
    int32_t key = 7;
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key(NULL, 1, &key));
    T_EQ_INT(key, 0); /* IPCX_KEY_PRIVATE: never a key ftok gives */
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("", 1, &key));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("/tmp", 0, &key));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("/tmp", 256, &key));
    T_LAST_ERROR_HAS("1..=255");
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("/tmp", 1, NULL));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sysv_key("/nonexistent-ipcx-dir/x", 1, &key));
    /* Closed, NULL and foreign handles. */
    T_OK(ipcx_semset_remove(s));
    T_OK(ipcx_semset_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_op(s, &op, 1, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_p(s, 0, 0, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_v(s, 0, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_set(s, 0, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_get(s, 0, &v));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_set_all(s, vals, 2));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_get_all(s, vals, &n));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_waiters(s, 0, NULL, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_pid(s, 0, &pid));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_id(s, &id, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_remove(s));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_p(NULL, 0, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_v(NULL, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_op(NULL, &op, 1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get(NULL, 0, &v));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set(NULL, 0, 1));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_set_all(NULL, vals, 2));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_get_all(NULL, vals, &n));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_waiters(NULL, 0, NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_pid(NULL, 0, &pid));
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_id(NULL, &id, NULL));
    T_EQ_INT(id, -1);
    T_ERR(IPCX_ERR_INVALID, ipcx_semset_remove(NULL));
    T_OK(ipcx_semset_close(NULL));
    ipcx_sem *sem;
    T_OK(ipcx_sem_create(0, &sem));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_v((ipcx_semset *)sem, 0, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_semset_close((ipcx_semset *)sem));
    T_OK(ipcx_sem_close(sem));
}

T_CASE(sem_closed_null_and_foreign_handles) {
    ipcx_sem *s;
    int32_t v = 7;
    T_OK(ipcx_sem_create(1, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_wait(s, -2));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_value(s, NULL));
    T_OK(ipcx_sem_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_destroy(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_wait(s, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_post(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_value(s, &v));
    T_EQ_INT(v, 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_wait(NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_post(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_value(NULL, &v));
    T_OK(ipcx_sem_close(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_destroy(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sem_create(0, NULL));
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_post((ipcx_sem *)r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_close((ipcx_sem *)r));
    T_OK(ipcx_region_close(r));
    ipcx_sem *x = (ipcx_sem *)1;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_init(r, 0, 0, &x)); /* closed region */
    T_ASSERT(x == NULL);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sem_attach(r, 0, &x));
}

T_MAIN(T_ENTRY(named_create_open_exclusive_unlink), T_ENTRY(named_mode_is_applied_exactly),
       T_ENTRY(named_semantics_across_fork), T_ENTRY(named_names),
       T_ENTRY(values_and_sem_value_max), T_ENTRY(unnamed_in_region_across_fork),
       T_ENTRY(unnamed_attach_destroy_and_region_lifetime),
       T_ENTRY(destroy_keeps_the_handle_until_close), T_ENTRY(unnamed_placement_rules),
       T_ENTRY(private_semaphore_between_threads),
       T_ENTRY(waits_resume_after_signals_unless_interruptible),
       T_ENTRY(counter_4x100k_unnamed_sem), T_ENTRY(counter_4x100k_named_sem_two_unrelated),
       T_ENTRY(counter_4x100k_sysv_sem), T_ENTRY(semset_create_open_values),
       T_ENTRY(semset_open_waits_for_initialisation),
       T_ENTRY(semset_open_create_opens_or_creates),
       T_ENTRY(semset_open_needs_read_permission_only),
       T_ENTRY(semset_empty_and_misaligned_arrays), T_ENTRY(semset_atomic_ops_waiters_and_zero),
       T_ENTRY(semset_undo_after_sigkill), T_ENTRY(semset_removal_wakes_waiters),
       T_ENTRY(semset_limits_and_bad_input), T_ENTRY(sem_closed_null_and_foreign_handles))
