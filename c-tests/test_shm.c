/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Shared memory: every kind of region (anonymous, System V, POSIX, file) across fork and
 * between unrelated processes (c-tests/shm_peer.c), System V removal semantics, SIGBUS
 * safety of the bounded copies, a 256 MiB region, bad inputs, nothing left behind.
 *
 * Hand-offs go through ipcx pipes (or FIFOs for unrelated processes): one process writes a
 * record, then says "record ready"; the other reads it only after that message. */
#include <grp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "shm_pattern.h"
#include "test.h"
#include "valgrind_env.h"

/* ------------------------------------------------------------------ helpers */

static pid_t spawn_peer(char *const argv[]) {
    pid_t p = t_fork();
    if (p == 0) {
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/shm_peer", t_exe_dir());
        execv(exe, argv);
        _exit(127);
    }
    return p;
}

static mode_t perm_of(const char *path) {
    struct stat st;
    T_ASSERT(stat(path, &st) == 0);
    return st.st_mode & 07777;
}

/* Check a region's kind, writability and size (ipcx_region_stat agrees with
 * ipcx_region_base). */
static void expect_region(ipcx_region *r, uint32_t kind, bool writable, size_t size) {
    ipcx_region_info info = {.size = sizeof info};
    info.writable = !writable;
    T_OK(ipcx_region_stat(r, &info));
    T_EQ_INT(info.size, sizeof info);
    T_EQ_INT(info.kind, kind);
    T_EQ_INT(info.writable, writable);
    T_EQ_INT(info.len, size);
    void *base = NULL;
    size_t sz = 0;
    T_OK(ipcx_region_base(r, &base, &sz));
    T_EQ_INT(sz, size);
    T_ASSERT(base == info.base && base != NULL);
}

/* Write a record of `n` bytes made with `seed` at `off`. */
static void put_record(ipcx_region *r, size_t off, size_t n, unsigned seed) {
    unsigned char *buf = malloc(n);
    T_ASSERT(buf != NULL);
    shm_pattern(buf, n, seed);
    T_OK(ipcx_region_write(r, off, buf, n));
    free(buf);
}

/* Check the record at `off`, through the bounded copy and through the raw pointer. */
static void check_record(ipcx_region *r, size_t off, size_t n, unsigned seed) {
    unsigned char *got = malloc(n), *want = malloc(n);
    T_ASSERT(got != NULL && want != NULL);
    void *base;
    T_OK(ipcx_region_base(r, &base, NULL));
    shm_pattern(want, n, seed);
    T_OK(ipcx_region_read(r, off, got, n));
    T_ASSERTF(memcmp(got, want, n) == 0, "record at %zu (seed %u) differs (bounded copy)", off, seed);
    T_ASSERTF(memcmp((unsigned char *)base + off, want, n) == 0, "record at %zu differs (pointer)", off);
    free(got);
    free(want);
}

/* The hand-off notes: say `note`, or wait (30 s at most) until exactly `note` arrives. */
static void say(ipcx_pipe *p, const char *note) { T_OK(ipcx_pipe_send(p, note, strlen(note), 10000)); }

static void wait_for(ipcx_pipe *p, const char *note) {
    char buf[64];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(p, buf, &len, 30000));
    T_ASSERTF(len == strlen(note) && memcmp(buf, note, len) == 0, "got \"%.*s\", expected \"%s\"",
              (int)len, buf, note);
}

/* The seed's pattern across fork, for a region of any kind: the child writes a record and
 * says "record ready"; the parent checks it, writes its answer after it and says so; the
 * child checks the answer. */
static void handoff_across_fork(ipcx_region *r) {
    ipcx_pipe *a_rd, *a_wr, *b_rd, *b_wr;
    T_OK(ipcx_pipe_pair(0, NULL, &a_rd, &a_wr)); /* child -> parent */
    T_OK(ipcx_pipe_pair(0, NULL, &b_rd, &b_wr)); /* parent -> child */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_pipe_close(a_rd));
        T_OK(ipcx_pipe_close(b_wr));
        put_record(r, 100, 3000, 7);
        say(a_wr, "record ready");
        wait_for(b_rd, "answer ready");
        check_record(r, 3100, 3000, 8);
        T_OK(ipcx_pipe_close(a_wr));
        T_OK(ipcx_pipe_close(b_rd));
        T_OK(ipcx_region_close(r)); /* the child's own copy */
        _exit(0);
    }
    T_OK(ipcx_pipe_close(a_wr));
    T_OK(ipcx_pipe_close(b_rd));
    wait_for(a_rd, "record ready");
    check_record(r, 100, 3000, 7);
    put_record(r, 3100, 3000, 8);
    say(b_wr, "answer ready");
    t_wait_ok(p, 20000);
    T_OK(ipcx_pipe_close(a_rd));
    T_OK(ipcx_pipe_close(b_wr));
}

/* Hand records back and forth with a separately started shm_peer that mapped the same
 * object by name: `rounds` records of growing size. */
static void handoff_with_peer(ipcx_region *r, const char *kind, const char *name, int rounds) {
    char to[256], from[256];
    t_path(to, sizeof to, "to");
    t_path(from, sizeof from, "from");
    T_OK(ipcx_fifo_make(to, NULL));
    T_OK(ipcx_fifo_make(from, NULL));
    char *argv[] = {"shm_peer", (char *)kind, (char *)name, to, from, NULL};
    pid_t p = spawn_peer(argv);
    ipcx_pipe *w, *rd;
    T_OK(ipcx_fifo_open(to, IPCX_OPEN_WRITE, NULL, 10000, &w));
    T_OK(ipcx_fifo_open(from, IPCX_OPEN_READ, NULL, 10000, &rd));
    size_t off = 0;
    for (int i = 0; i < rounds; i++) {
        size_t n = (size_t)1 << (i % 13); /* 1 B .. 4 KiB */
        unsigned seed = 1000 + (unsigned)i * 2;
        put_record(r, off, n, seed);
        char msg[128];
        size_t len = (size_t)snprintf(msg, sizeof msg, "rec %zu %zu %u", off, n, seed);
        T_OK(ipcx_pipe_send(w, msg, len, 10000)); /* "record ready" */
        len = sizeof msg - 1;
        T_OK(ipcx_pipe_recv(rd, msg, &len, 10000));
        msg[len] = 0;
        char want[128];
        snprintf(want, sizeof want, "ok %zu %zu %u", off + n, n, seed + 1);
        T_ASSERTF(strcmp(msg, want) == 0, "peer said \"%s\", expected \"%s\"", msg, want);
        check_record(r, off + n, n, seed + 1);
        off = (off + 2 * n + 64) % 8192;
    }
    say(w, "bye");
    T_OK(ipcx_pipe_close(w));
    T_OK(ipcx_pipe_close(rd));
    t_wait_ok(p, 20000);
    T_OK(ipcx_fifo_remove(to));
    T_OK(ipcx_fifo_remove(from));
}

static unsigned long long read_ull(const char *path) {
    FILE *f = fopen(path, "r");
    T_ASSERT(f != NULL);
    unsigned long long v = 0;
    T_ASSERT(fscanf(f, "%llu", &v) == 1);
    fclose(f);
    return v;
}

/* In a forked child: touch `p` directly, which must kill the child with SIGBUS. */
static void expect_sigbus_on_touch(volatile unsigned char *p) {
    pid_t k = t_fork();
    if (k == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGBUS, SIG_DFL); /* sanitizers install their own handler */
        (void)*p;
        _exit(0);
    }
    int st = t_wait(k, 10000);
    T_ASSERTF(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "raw access was not killed by SIGBUS (status %#x)", st);
}

/* Root only: switch this (forked) process to `uid`/`uid` for good. */
static void become(uid_t uid) {
    T_ASSERT(setgroups(0, NULL) == 0);
    T_ASSERT(setresgid(uid, uid, uid) == 0);
    T_ASSERT(setresuid(uid, uid, uid) == 0);
    T_ASSERT(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
}

#define NOBODY 65534u

/* A name of exactly `IPCX_SHM_NAME_MAX` bytes (a slash and 255), unique to this run:
 * `buf` needs IPCX_SHM_NAME_MAX + 2 bytes (the NUL, and one more for the too-long case). */
static const char *longest_name(char *buf, const char *tag) {
    t_posix_name(buf, IPCX_SHM_NAME_MAX + 1, tag);
    size_t n = strlen(buf);
    memset(buf + n, 'x', IPCX_SHM_NAME_MAX - n);
    buf[IPCX_SHM_NAME_MAX] = 0;
    return buf;
}

/* ------------------------------------------------------------------ anonymous */

T_CASE(anonymous_region_shared_across_fork) {
    ipcx_region *r;
    T_OK(ipcx_region_create(1 << 20, &r));
    expect_region(r, IPCX_REGION_ANONYMOUS, true, 1 << 20);
    void *base = NULL;
    size_t size = 0;
    T_OK(ipcx_region_base(r, &base, &size));
    T_ASSERT(base != NULL && size == 1 << 20);
    T_ASSERT(((unsigned char *)base)[12345] == 0); /* zero-filled */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        /* The child writes through the raw pointer and with a bounded copy. */
        memset(base, 0xAB, 4096);
        T_OK(ipcx_region_write(r, size - 5, "tail!", 5));
        say(wr, "done"); /* the hand-off */
        T_OK(ipcx_region_close(r));
        _exit(0);
    }
    wait_for(rd, "done");
    char buf[8];
    T_ASSERT(((unsigned char *)base)[0] == 0xAB && ((unsigned char *)base)[4095] == 0xAB);
    T_OK(ipcx_region_read(r, size - 5, buf, 5));
    T_ASSERT(memcmp(buf, "tail!", 5) == 0);
    t_wait_ok(p, 10000);
    handoff_across_fork(r);
    /* msync on an anonymous mapping is accepted and harmless. */
    T_OK(ipcx_region_sync(r, 0, size, 0));
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    T_OK(ipcx_region_close(r));
}

T_CASE(region_bad_input) {
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_region_create(0, &r));
    T_ASSERT(r == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_region_create((size_t)-1, &r));
    /* valgrind refuses a mapping beyond its address space with EINVAL, not ENOMEM. A
     * 32-bit process may well get any size up to SSIZE_MAX. */
    if (!t_under_valgrind() && sizeof(size_t) == 8) {
        T_ERR(IPCX_ERR_LIMIT, ipcx_region_create((size_t)(UINT64_C(1) << 62), &r));
        T_LAST_ERROR_HAS("not enough memory");
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_region_create(4096, NULL));
    T_OK(ipcx_region_create(4096, &r));
    char buf[16] = {0};
    /* Out-of-bounds copies, including offsets that would overflow. */
    T_ERR(IPCX_ERR_INVALID, ipcx_region_write(r, 4090, buf, 7));
    T_LAST_ERROR_HAS("outside the 4096-byte region");
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, 4097, buf, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, (size_t)-1, buf, 2));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_write(r, 0, NULL, 3));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, 0, NULL, 3));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_write(r, 0, buf, (size_t)-1));
    T_OK(ipcx_region_write(r, 4096, NULL, 0)); /* empty copy at the end is fine */
    T_ERR(IPCX_ERR_INVALID, ipcx_region_base(NULL, NULL, NULL));
    T_OK(ipcx_region_base(r, NULL, NULL));
    /* sync: range and flags. */
    T_ERR(IPCX_ERR_INVALID, ipcx_region_sync(r, 4000, 200, 0));
    T_LAST_ERROR_HAS("outside the 4096-byte region");
    T_ERR(IPCX_ERR_INVALID, ipcx_region_sync(r, 0, 10, 0x80));
    T_LAST_ERROR_HAS("IPCX_REGION_SYNC_ASYNC");
    T_OK(ipcx_region_sync(r, 10, 0, 0));
    T_OK(ipcx_region_sync(r, 10, 100, IPCX_REGION_SYNC_ASYNC));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_sync(NULL, 0, 1, 0));
    /* stat: the info struct is required and must say its size; a NULL region is refused
     * with the failure values written. */
    ipcx_region_info info = {.size = sizeof info};
    T_ERR(IPCX_ERR_INVALID, ipcx_region_stat(r, NULL));
    info.size = 0;
    info.kind = 77;
    T_ERR(IPCX_ERR_INVALID, ipcx_region_stat(r, &info));
    T_LAST_ERROR_HAS("size");
    T_ASSERT(info.size == 0 && info.kind == 77); /* nothing written */
    info.size = sizeof info - 1;
    T_ERR(IPCX_ERR_INVALID, ipcx_region_stat(r, &info));
    info = (ipcx_region_info){.size = sizeof info, .kind = 99, .writable = true, .len = 5};
    T_ERR(IPCX_ERR_INVALID, ipcx_region_stat(NULL, &info));
    T_ASSERT(info.kind == 0 && !info.writable && info.len == 0 && info.base == NULL);
    T_EQ_INT(info.size, sizeof info);
    /* A caller built against a larger (future) struct: only the known bytes are written,
     * and size says how many. */
    struct {
        ipcx_region_info known;
        uint64_t future;
    } big;
    memset(&big, 0x5a, sizeof big);
    big.known.size = sizeof big;
    T_OK(ipcx_region_stat(r, &big.known));
    T_EQ_INT(big.known.size, sizeof(ipcx_region_info));
    T_EQ_INT(big.known.kind, IPCX_REGION_ANONYMOUS);
    T_EQ_INT(big.future, 0x5a5a5a5a5a5a5a5aull);
    /* Closed regions. */
    T_OK(ipcx_region_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_read(r, 0, buf, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_write(r, 0, buf, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_base(r, NULL, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_sync(r, 0, 1, 0));
    info = (ipcx_region_info){.size = sizeof info, .kind = 99};
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_stat(r, &info));
    T_EQ_INT(info.kind, 0);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_set_checked_copies(r, false));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_close(r));
    T_OK(ipcx_region_close(NULL));
}

/* A region is a thread-safe handle: threads copy, stat and sync through one handle at once
 * (never IPCX_ERR_IN_USE), and a close racing them lets the calls inside finish: later
 * calls get IPCX_ERR_BAD_HANDLE, nothing crashes. */
struct region_worker {
    ipcx_region *r;
    int index, after_close;
    atomic_int *closed;
    int bad_status;
};

static void *region_worker(void *p) {
    struct region_worker *w = p;
    unsigned char buf[64], mine[64];
    memset(mine, w->index + 1, sizeof mine);
    for (int i = 0; i < 20000; i++) {
        int closed = atomic_load(w->closed);
        int s1 = ipcx_region_write(w->r, (size_t)w->index * 64, mine, sizeof mine);
        int s2 = ipcx_region_read(w->r, (size_t)w->index * 64, buf, sizeof buf);
        ipcx_region_info info = {.size = sizeof info};
        int s3 = ipcx_region_stat(w->r, &info);
        int s4 = ipcx_region_sync(w->r, 0, 64, IPCX_REGION_SYNC_ASYNC);
        int s[4] = {s1, s2, s3, s4};
        for (int k = 0; k < 4; k++) {
            if (s[k] == IPCX_OK) continue;
            if (s[k] == IPCX_ERR_BAD_HANDLE && atomic_load(w->closed)) {
                w->after_close = 1;
                continue;
            }
            w->bad_status = s[k];
            return NULL;
        }
        if (s2 == IPCX_OK && memcmp(buf, mine, sizeof buf) != 0) {
            w->bad_status = -1;
            return NULL;
        }
        if (closed && w->after_close) break;
    }
    return NULL;
}

T_CASE(region_is_a_thread_safe_handle) {
    ipcx_region *r;
    T_OK(ipcx_region_create(4096, &r));
    atomic_int closed = 0;
    struct region_worker w[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        w[k] = (struct region_worker){.r = r, .index = k, .closed = &closed};
        T_ASSERT(pthread_create(&th[k], NULL, region_worker, &w[k]) == 0);
    }
    usleep(20000);
    atomic_store(&closed, 1);
    T_OK(ipcx_region_close(r)); /* while the workers are busy: it waits for nobody */
    for (int k = 0; k < 4; k++) {
        T_ASSERT(pthread_join(th[k], NULL) == 0);
        T_ASSERTF(w[k].bad_status == 0, "worker %d got %s", k, t_status_name(w[k].bad_status));
    }
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_close(r));
}

/* ------------------------------------------------------------------ System V */

/* Create a segment and track it at once. */
static ipcx_shm_segment *new_segment(int32_t key, size_t size, uint32_t flags, const ipcx_options *o) {
    ipcx_shm_segment *s = NULL;
    T_OK(ipcx_shm_segment_open(key, size, flags, o, &s));
    int id = -1;
    T_OK(ipcx_shm_segment_id(s, &id));
    T_ASSERT(id >= 0);
    t_track_sysv_shm(id);
    return s;
}

/* A fresh file (tracked) and its System V key for `proj`; the caller unlinks the file. */
static int32_t key_file(char *path, size_t len, int proj) {
    t_path(path, len, "key");
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    close(fd);
    int32_t key = 0;
    T_OK(ipcx_sysv_key(path, proj, &key));
    T_ASSERT(key != 0);
    return key;
}

T_CASE(sysv_private_segment_across_fork) {
    time_t t0 = time(NULL);
    ipcx_shm_segment *s = new_segment(IPCX_KEY_PRIVATE, 10000, IPCX_OPEN_CREATE, NULL);
    int id;
    T_OK(ipcx_shm_segment_id(s, &id));
    ipcx_shm_segment_info i = {.size = sizeof i};
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.id, id);
    T_EQ_INT(i.key, 0);
    T_EQ_INT(i.size, sizeof i);
    T_EQ_INT(i.segment_size, 10000); /* the size asked for, not rounded to pages */
    T_EQ_INT(i.attach_count, 0);
    T_EQ_INT(i.creator_pid, getpid());
    T_EQ_INT(i.mode, 0600);
    T_EQ_INT(i.uid, geteuid());
    T_EQ_INT(i.creator_uid, geteuid());
    T_EQ_INT(i.attach_time, 0);
    T_ASSERT(i.change_time >= t0 - 1 && i.change_time <= time(NULL) + 1);
    T_ASSERT(!i.removed);

    ipcx_region *r;
    T_OK(ipcx_shm_segment_map(s, 0, &r));
    expect_region(r, IPCX_REGION_SYSV, true, 10000);
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.attach_count, 1);
    T_EQ_INT(i.last_pid, getpid());
    T_ASSERT(i.attach_time >= t0 - 1);
    /* A second attachment of the same segment is another view of the same memory. */
    ipcx_region *r2;
    T_OK(ipcx_shm_segment_map(s, IPCX_OPEN_READ, &r2));
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.attach_count, 2);
    T_OK(ipcx_region_write(r, 9990, "0123456789", 10));
    char buf[32];
    T_OK(ipcx_region_read(r2, 9990, buf, 10));
    T_ASSERT(memcmp(buf, "0123456789", 10) == 0);
    T_OK(ipcx_region_close(r2)); /* detach */
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.attach_count, 1);
    T_ASSERT(i.detach_time >= t0 - 1);

    /* Across fork: the child inherits the attachment (the count grows) and the handle. */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_shm_segment_info ci = {.size = sizeof ci};
        T_OK(ipcx_shm_segment_stat(s, &ci));
        T_EQ_INT(ci.attach_count, 2);
        ipcx_region *own;
        T_OK(ipcx_shm_segment_map(s, 0, &own)); /* the child may attach too */
        put_record(own, 0, 4000, 3);
        T_OK(ipcx_region_close(own));
        say(wr, "record ready");
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_segment_close(s));
        _exit(0);
    }
    wait_for(rd, "record ready");
    check_record(r, 0, 4000, 3);
    t_wait_ok(p, 10000);
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.attach_count, 1); /* the child's copies are detached */
    T_EQ_INT(i.last_pid, p);
    handoff_across_fork(r);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_segment_remove(s));
    T_OK(ipcx_shm_segment_close(s));
}

T_CASE(sysv_keys_modes_and_read_only) {
    char path[256];
    int32_t key = key_file(path, sizeof path, 'x'), key2 = 0;
    T_OK(ipcx_sysv_key(path, 'x', &key2));
    T_ASSERT(key != 0 && key == key2);
    T_OK(ipcx_sysv_key(path, 'y', &key2));
    T_ASSERT(key2 != key);

    /* The mode is applied exactly, whatever the umask. */
    umask(077);
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0640));
    ipcx_shm_segment *s = new_segment(key, 8192, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o);
    ipcx_shm_segment *t = (ipcx_shm_segment *)1;
    T_ERR(IPCX_ERR_EXISTS, ipcx_shm_segment_open(key, 8192, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &t));
    T_ASSERT(t == NULL);
    T_LAST_ERROR_HAS("already exists");
    T_OK(ipcx_options_close(o));
    ipcx_shm_segment_info i = {.size = sizeof i};
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.mode, 0640);
    T_EQ_INT(i.key, key);
    int id, id2;
    T_OK(ipcx_shm_segment_id(s, &id));

    /* Opening by key: any size up to the segment's; CREATE without EXCLUSIVE opens it. */
    T_OK(ipcx_shm_segment_open(key, 0, 0, NULL, &t));
    T_OK(ipcx_shm_segment_id(t, &id2));
    T_EQ_INT(id2, id);
    T_OK(ipcx_shm_segment_close(t));
    T_OK(ipcx_shm_segment_open(key, 100, IPCX_OPEN_CREATE, NULL, &t));
    T_OK(ipcx_shm_segment_id(t, &id2));
    T_EQ_INT(id2, id);
    T_OK(ipcx_shm_segment_close(t));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(key, 8193, 0, NULL, &t));
    T_LAST_ERROR_HAS("is only 8192 bytes");

    ipcx_region *r;
    T_OK(ipcx_shm_segment_map(s, 0, &r));
    put_record(r, 0, 8192, 11);
    /* A child opens it by key, another handle by id, and attaches read-only. */
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_shm_segment *c, *c2;
        T_OK(ipcx_shm_segment_open(key, 0, 0, NULL, &c));
        T_OK(ipcx_shm_segment_open_id(id, &c2));
        ipcx_region *ro;
        T_OK(ipcx_shm_segment_map(c2, IPCX_OPEN_READ, &ro));
        expect_region(ro, IPCX_REGION_SYSV, false, 8192);
        check_record(ro, 0, 8192, 11);
        T_ERR(IPCX_ERR_PERMISSION, ipcx_region_write(ro, 0, "x", 1));
        T_LAST_ERROR_HAS("read-only");
        T_OK(ipcx_region_close(ro));
        T_OK(ipcx_shm_segment_close(c));
        T_OK(ipcx_shm_segment_close(c2));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_segment_remove(s));
    /* The key is gone at once. */
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_segment_open(key, 0, 0, NULL, &t));
    T_LAST_ERROR_HAS("no segment has this key");
    T_OK(ipcx_shm_segment_close(s));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(sysv_remove_while_attached) {
    char path[256];
    int32_t key = key_file(path, sizeof path, 1);
    ipcx_shm_segment *s = new_segment(key, 1 << 16, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL);
    int id;
    T_OK(ipcx_shm_segment_id(s, &id));
    ipcx_shm_segment *other; /* a second handle on the same segment */
    T_OK(ipcx_shm_segment_open_id(id, &other));
    ipcx_region *r;
    T_OK(ipcx_shm_segment_map(s, 0, &r));
    put_record(r, 0, 1000, 21);
    T_OK(ipcx_shm_segment_remove(s));
    /* Removed elsewhere (the segment lives on, marked, while attached): REMOVED here too. */
    T_ERR(IPCX_ERR_REMOVED, ipcx_shm_segment_remove(other));
    T_LAST_ERROR_HAS("already removed");
    T_OK(ipcx_shm_segment_close(other));

    /* Marked: no key, removed flag, still attached. */
    ipcx_shm_segment_info i = {.size = sizeof i};
    T_OK(ipcx_shm_segment_stat(s, &i));
    T_ASSERT(i.removed);
    T_EQ_INT(i.key, 0);
    T_EQ_INT(i.attach_count, 1);
    ipcx_shm_segment *t = (ipcx_shm_segment *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_segment_open(key, 0, 0, NULL, &t));
    T_ASSERT(t == NULL);
    /* No new attachments, through this handle or another one. */
    ipcx_region *r2 = (ipcx_region *)1;
    T_ERR(IPCX_ERR_REMOVED, ipcx_shm_segment_map(s, 0, &r2));
    T_ASSERT(r2 == NULL);
    T_ERR(IPCX_ERR_REMOVED, ipcx_shm_segment_open_id(id, &t));
    T_LAST_ERROR_HAS("was removed");
    T_ERR(IPCX_ERR_REMOVED, ipcx_shm_segment_remove(s));
    /* The key can be taken by a new segment meanwhile. */
    ipcx_shm_segment *fresh = new_segment(key, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL);
    int fresh_id;
    T_OK(ipcx_shm_segment_id(fresh, &fresh_id));
    T_ASSERT(fresh_id != id);
    T_OK(ipcx_shm_segment_remove(fresh));
    T_OK(ipcx_shm_segment_close(fresh));

    /* The existing attachment stays valid, in this process and in a forked child. */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        check_record(r, 0, 1000, 21);
        put_record(r, 1000, 1000, 22);
        say(wr, "record ready");
        T_OK(ipcx_region_close(r));
        _exit(0);
    }
    wait_for(rd, "record ready");
    check_record(r, 1000, 1000, 22);
    t_wait_ok(p, 10000);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    /* The last detach destroys it: the id is gone too. */
    T_OK(ipcx_region_close(r));
    T_ERR(IPCX_ERR_REMOVED, ipcx_shm_segment_stat(s, &i));
    T_LAST_ERROR_HAS("no longer exists");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_segment_open_id(id, &t));
    T_OK(ipcx_shm_segment_close(s));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(sysv_unrelated_process) {
    char path[256];
    int32_t key = key_file(path, sizeof path, 7);
    ipcx_shm_segment *s = new_segment(key, 16384, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL);
    ipcx_region *r;
    T_OK(ipcx_shm_segment_map(s, 0, &r));
    char keytext[32];
    snprintf(keytext, sizeof keytext, "%d", (int)key);
    handoff_with_peer(r, "sysv", keytext, 40);
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_segment_remove(s));
    T_OK(ipcx_shm_segment_close(s));
    T_ASSERT(unlink(path) == 0);
}

/* The permission rule of the System V families: opening a segment, by key or by id, checks
 * no permission; the kernel checks attaching (read for read-only, read and write for
 * read-write) and stat (read). A process running as nobody against segments of root. */
T_CASE(sysv_open_checks_no_permission) {
    if (geteuid() != 0) {
        printf("  (skipped: needs root to switch users)\n");
        return;
    }
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    char path[256];
    int32_t key = key_file(path, sizeof path, 'p');
    T_OK(ipcx_options_set_mode(o, 0600));
    ipcx_shm_segment *keyed = new_segment(key, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o);
    ipcx_shm_segment *priv = new_segment(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, o);
    T_OK(ipcx_options_set_mode(o, 0644));
    ipcx_shm_segment *readable = new_segment(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, o);
    T_OK(ipcx_options_set_mode(o, 0622));
    ipcx_shm_segment *writable = new_segment(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, o);
    T_OK(ipcx_options_close(o));
    int32_t id_priv, id_readable, id_writable;
    T_OK(ipcx_shm_segment_id(priv, &id_priv));
    T_OK(ipcx_shm_segment_id(readable, &id_readable));
    T_OK(ipcx_shm_segment_id(writable, &id_writable));
    pid_t p = t_fork();
    if (p == 0) {
        become(NOBODY);
        ipcx_shm_segment *g;
        ipcx_region *r = NULL;
        ipcx_shm_segment_info i = {.size = sizeof i};
        /* 0600, by key (with and without CREATE) and by id: opened; nothing else. */
        T_OK(ipcx_shm_segment_open(key, 0, 0, NULL, &g));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_map(g, IPCX_OPEN_READ, &r));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_stat(g, &i));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_remove(g));
        T_OK(ipcx_shm_segment_close(g));
        T_OK(ipcx_shm_segment_open(key, 4096, IPCX_OPEN_CREATE, NULL, &g));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_map(g, 0, &r));
        T_OK(ipcx_shm_segment_close(g));
        T_OK(ipcx_shm_segment_open_id(id_priv, &g));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_map(g, IPCX_OPEN_READ, &r));
        T_ASSERT(r == NULL);
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_stat(g, &i));
        T_OK(ipcx_shm_segment_close(g));
        /* 0644: read-only attach and stat; not read-write. */
        T_OK(ipcx_shm_segment_open_id(id_readable, &g));
        T_OK(ipcx_shm_segment_stat(g, &i));
        T_EQ_INT(i.mode, 0644);
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_map(g, 0, &r));
        T_OK(ipcx_shm_segment_map(g, IPCX_OPEN_READ, &r));
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_segment_close(g));
        /* 0622: write without read allows no attachment and no stat, but the open. */
        T_OK(ipcx_shm_segment_open_id(id_writable, &g));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_map(g, 0, &r));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_map(g, IPCX_OPEN_READ, &r));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_segment_stat(g, &i));
        T_OK(ipcx_shm_segment_close(g));
        _exit(0);
    }
    t_wait_ok(p, 20000);
    ipcx_shm_segment *all[] = {keyed, priv, readable, writable};
    for (size_t k = 0; k < 4; k++) {
        T_OK(ipcx_shm_segment_remove(all[k]));
        T_OK(ipcx_shm_segment_close(all[k]));
    }
    T_ASSERT(unlink(path) == 0);
}

T_CASE(sysv_bad_input) {
    ipcx_shm_segment *s = (ipcx_shm_segment *)1;
    /* Sizes: zero, above SHMMAX (the limit and its value in the message), more memory than
     * there is, above SSIZE_MAX. */
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 0, IPCX_OPEN_CREATE, NULL, &s));
    T_ASSERT(s == NULL);
    T_LAST_ERROR_HAS("SHMMIN");
    char want[96];
    snprintf(want, sizeof want, "/proc/sys/kernel/shmmax (%llu)", read_ull("/proc/sys/kernel/shmmax"));
    T_LAST_ERROR_HAS(want);
    if (sizeof(size_t) == 8) {
        T_ERR(IPCX_ERR_LIMIT, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, (size_t)-1, IPCX_OPEN_CREATE, NULL, &s));
        T_LAST_ERROR_HAS(want);
    } else { /* no 32-bit size is above a 64-bit kernel's SHMMAX; SIZE_MAX is above SSIZE_MAX */
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, (size_t)-1, IPCX_OPEN_CREATE, NULL, &s));
        T_LAST_ERROR_HAS("SSIZE_MAX");
    }
    if (sizeof(size_t) == 8) { /* (a 32-bit size fits in memory) */
        T_ERR(IPCX_ERR_LIMIT, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, (size_t)(UINT64_C(1) << 40), IPCX_OPEN_CREATE, NULL, &s));
        T_LAST_ERROR_HAS("not enough memory");
        T_LAST_ERROR_HAS("overcommit_memory");
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, (size_t)SSIZE_MAX + 5, IPCX_OPEN_CREATE, NULL, &s));
    T_LAST_ERROR_HAS("SSIZE_MAX");
    /* Keys and flags. */
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, 0, NULL, &s));
    T_LAST_ERROR_HAS("key IPCX_KEY_PRIVATE always makes a new segment, so it needs IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(0x7ea1ab1e, 4096, IPCX_OPEN_EXCLUSIVE, NULL, &s));
    T_LAST_ERROR_HAS("needs IPCX_OPEN_CREATE");
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(0x7ea1ab1e, 4096, IPCX_OPEN_READ, NULL, &s));
    T_LAST_ERROR_HAS("unknown flags");
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE and IPCX_OPEN_EXCLUSIVE"); /* the accepted flags */
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(0x7ea1ab1e, 4096, 0x100, NULL, &s));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_segment_open(0x7ea1ab1e, 0, 0, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, NULL, NULL));
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, o, &s));
    T_LAST_ERROR_HAS("max_message");
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, o, &s));
    /* Ids. */
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open_id(-1, &s));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_segment_open_id(0x7ffffff0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_open_id(0, NULL));
    /* ftok. */
    int32_t key = 5;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sysv_key("/tmp/ipcx-t-definitely-missing", 1, &key));
    T_ASSERT(key == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("/tmp", 0, &key));
    T_LAST_ERROR_HAS("proj_id");
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("/tmp", 256, &key));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("", 1, &key));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key(NULL, 1, &key));
    T_ERR(IPCX_ERR_INVALID, ipcx_sysv_key("/tmp", 1, NULL));

    /* Calls on a live segment with bad arguments, then on a closed one. */
    s = new_segment(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, NULL);
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_map(s, IPCX_OPEN_CREATE, &r));
    T_ASSERT(r == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_map(s, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_map(NULL, 0, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_map(s, 0x40000, &r));
    T_LAST_ERROR_HAS("IPCX_OPEN_READ and IPCX_OPEN_WRITE");
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_stat(s, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_stat(NULL, NULL));
    {
        /* The info struct must say its size: 0 or too small is refused, untouched. */
        ipcx_shm_segment_info z = {.size = 0, .attach_count = 42};
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_stat(s, &z));
        T_LAST_ERROR_HAS("size");
        T_ASSERT(z.size == 0 && z.attach_count == 42);
        z.size = 8;
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_stat(s, &z));
        T_ASSERT(z.attach_count == 42);
        /* A failure with a good size writes the failure values. */
        z.size = sizeof z;
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_stat(NULL, &z));
        T_ASSERT(z.attach_count == 0 && z.id == 0 && z.size == sizeof z);
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_id(s, NULL));
    int id = 5;
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_id(NULL, &id));
    T_ASSERT(id == -1);
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_segment_remove(NULL));
    /* A handle of another type is refused. */
    T_OK(ipcx_region_create(4096, &r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_remove((ipcx_shm_segment *)r));
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_segment_remove(s));
    T_OK(ipcx_shm_segment_close(s));
    ipcx_shm_segment_info i = {.size = sizeof i, .segment_size = 7};
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_map(s, 0, &r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_stat(s, &i));
    T_EQ_INT(i.segment_size, 0);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_id(s, &id));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_remove(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_segment_close(s));
    T_OK(ipcx_shm_segment_close(NULL));
}

/* ------------------------------------------------------------------ POSIX */

static ipcx_shm *new_posix(char *name, size_t len, const char *tag, const ipcx_options *o) {
    t_posix_name(name, len, tag);
    ipcx_shm *s = NULL;
    T_OK(ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &s));
    t_track_shm(name);
    return s;
}

T_CASE(posix_object_across_fork) {
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "fork", NULL);
    size_t size = 99;
    T_OK(ipcx_shm_size(s, &size));
    T_EQ_INT(size, 0);
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_map(s, 0, &r)); /* empty */
    T_ASSERT(r == NULL);
    T_LAST_ERROR_HAS("ipcx_shm_set_size");
    T_OK(ipcx_shm_set_size(s, 65536));
    T_OK(ipcx_shm_size(s, &size));
    T_EQ_INT(size, 65536);
    T_OK(ipcx_shm_map(s, 0, &r));
    expect_region(r, IPCX_REGION_POSIX, true, 65536);
    void *base;
    T_OK(ipcx_region_base(r, &base, NULL));
    T_ASSERT(((unsigned char *)base)[65535] == 0);

    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        /* The child maps it again by name, writes a record, and grows the object. */
        ipcx_shm *c;
        ipcx_region *cr;
        T_OK(ipcx_shm_open(name, 0, NULL, &c));
        T_OK(ipcx_shm_map(c, 0, &cr));
        put_record(cr, 20000, 6000, 31);
        T_OK(ipcx_shm_set_size(c, 131072));
        say(wr, "record ready");
        T_OK(ipcx_region_close(cr));
        T_OK(ipcx_shm_close(c));
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_close(s));
        _exit(0);
    }
    wait_for(rd, "record ready");
    check_record(r, 20000, 6000, 31);
    T_OK(ipcx_shm_size(s, &size));
    T_EQ_INT(size, 131072); /* what the other process set */
    expect_region(r, IPCX_REGION_POSIX, true, 65536); /* a region keeps its length */
    t_wait_ok(p, 10000);
    handoff_across_fork(r);
    /* Unlink: the name goes, the memory stays for those who have it. */
    T_OK(ipcx_shm_remove(name));
    ipcx_shm *t = (ipcx_shm *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_open(name, 0, NULL, &t));
    T_ASSERT(t == NULL);
    check_record(r, 20000, 6000, 31);
    T_OK(ipcx_shm_close(s)); /* close the descriptor: the region lives on */
    check_record(r, 20000, 6000, 31);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    T_OK(ipcx_region_close(r));
}

T_CASE(posix_modes_names_and_read_only) {
    umask(077);
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0640));
    char name[128], dev[160];
    ipcx_shm *s = new_posix(name, sizeof name, "mode", o);
    snprintf(dev, sizeof dev, "/dev/shm%s", name);
    T_EQ_INT(perm_of(dev), 0640); /* exactly, despite the umask */
    ipcx_shm *t = (ipcx_shm *)1;
    T_ERR(IPCX_ERR_EXISTS, ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &t));
    T_ASSERT(t == NULL);
    T_LAST_ERROR_HAS(name);
    /* CREATE without EXCLUSIVE opens the existing object and leaves its mode alone. */
    T_OK(ipcx_options_set_mode(o, 0600));
    T_OK(ipcx_shm_open(name, IPCX_OPEN_CREATE, o, &t));
    T_EQ_INT(perm_of(dev), 0640);
    T_OK(ipcx_shm_close(t));
    T_OK(ipcx_shm_set_size(s, 4096));
    ipcx_region *rw;
    T_OK(ipcx_shm_map(s, 0, &rw));
    T_OK(ipcx_region_write(rw, 0, "hello", 5));

    /* A read-only handle: read-only maps only, no resizing. */
    ipcx_shm *ro;
    T_OK(ipcx_shm_open(name, IPCX_OPEN_READ, NULL, &ro));
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_map(ro, 0, &r));
    T_ASSERT(r == NULL);
    T_LAST_ERROR_HAS("IPCX_OPEN_READ");
    T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_set_size(ro, 8192));
    T_OK(ipcx_shm_map(ro, IPCX_OPEN_READ, &r));
    expect_region(r, IPCX_REGION_POSIX, false, 4096);
    char buf[5];
    T_OK(ipcx_region_read(r, 0, buf, 5));
    T_ASSERT(memcmp(buf, "hello", 5) == 0);
    T_ERR(IPCX_ERR_PERMISSION, ipcx_region_write(r, 0, "x", 1));
    T_LAST_ERROR_HAS("read-only");
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_close(ro));
    T_OK(ipcx_region_close(rw));

    /* Bad names. */
    const char *bad[] = {"noslash", "/a/b", "/", "", "/.", "/.."};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(bad[k], IPCX_OPEN_CREATE, NULL, &t));
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_remove(bad[k]));
    }
    char longname[300];
    longname[0] = '/';
    memset(longname + 1, 'n', sizeof longname - 2);
    longname[sizeof longname - 1] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(longname, IPCX_OPEN_CREATE, NULL, &t));
    T_LAST_ERROR_HAS("/nnnnnnnn"); /* the message names the name */
    T_LAST_ERROR_HAS("the limit is 256");
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(NULL, 0, NULL, &t));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_remove(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(name, 0, NULL, NULL));
    /* Flags and options. */
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(name, 0x40, NULL, &t));
    T_LAST_ERROR_HAS("unknown flags");
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_READ and IPCX_OPEN_WRITE");
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(name, IPCX_OPEN_NONBLOCK, NULL, &t));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(name, IPCX_OPEN_EXCLUSIVE, NULL, &t));
    T_OK(ipcx_options_set_capacity(o, 100));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(name, 0, o, &t));
    T_LAST_ERROR_HAS("capacity");
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_map(s, 0x40, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_map(s, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_size(s, NULL));
    size_t size = 7;
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_size(NULL, &size));
    T_ASSERT(size == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_map(NULL, 0, &r));
    T_ASSERT(r == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_set_size(s, (size_t)-1));
    T_ERR(IPCX_ERR_INVALID, ipcx_shm_set_size(NULL, 1));
    /* Missing objects. */
    char missing[128];
    t_posix_name(missing, sizeof missing, "missing");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_open(missing, 0, NULL, &t));
    T_LAST_ERROR_HAS("does not exist");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_shm_remove(missing));
    /* Closed handles. */
    T_OK(ipcx_shm_remove(name));
    T_OK(ipcx_shm_close(s));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_size(s, &size));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_set_size(s, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_map(s, 0, &r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_shm_close(s));
    T_OK(ipcx_shm_close(NULL));
}

/* Names as long as the kernel allows (a slash and 255 bytes, as Python's posix_ipc makes
 * them) work both ways between ipcx and the raw calls; one byte more is refused, naming the
 * name. The names are too long for the harness's resource table, so the body runs in a
 * child and this process removes them whatever happened. */
T_CASE(posix_names_of_the_kernels_length) {
    T_EQ_INT(IPCX_SHM_NAME_MAX, 256);
    char by_ipcx[IPCX_SHM_NAME_MAX + 2], by_raw[IPCX_SHM_NAME_MAX + 2];
    longest_name(by_ipcx, "shmmax-a");
    longest_name(by_raw, "shmmax-b");
    T_EQ_INT(strlen(by_ipcx), 256);
    pid_t p = t_fork();
    if (p == 0) {
        /* Created through ipcx, opened by the raw call. */
        ipcx_shm *s;
        T_OK(ipcx_shm_open(by_ipcx, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s));
        T_OK(ipcx_shm_set_size(s, 4096));
        ipcx_region *r;
        T_OK(ipcx_shm_map(s, 0, &r));
        T_OK(ipcx_region_write(r, 0, "long", 4));
        int fd = shm_open(by_ipcx, O_RDONLY, 0);
        T_ASSERT(fd >= 0);
        char b[4];
        T_ASSERT(pread(fd, b, 4, 0) == 4 && memcmp(b, "long", 4) == 0);
        close(fd);
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_close(s));
        /* Created by the raw call, opened through ipcx. */
        fd = shm_open(by_raw, O_RDWR | O_CREAT | O_EXCL, 0600);
        T_ASSERT(fd >= 0);
        T_ASSERT(ftruncate(fd, 4096) == 0 && pwrite(fd, "raw!", 4, 10) == 4);
        close(fd);
        T_OK(ipcx_shm_open(by_raw, 0, NULL, &s));
        size_t size = 0;
        T_OK(ipcx_shm_size(s, &size));
        T_EQ_INT(size, 4096);
        T_OK(ipcx_shm_map(s, IPCX_OPEN_READ, &r));
        T_OK(ipcx_region_read(r, 10, b, 4));
        T_ASSERT(memcmp(b, "raw!", 4) == 0);
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_close(s));
        /* One byte more: refused, and the message names the name. */
        char longer[IPCX_SHM_NAME_MAX + 2];
        memcpy(longer, by_ipcx, IPCX_SHM_NAME_MAX);
        longer[IPCX_SHM_NAME_MAX] = 'y';
        longer[IPCX_SHM_NAME_MAX + 1] = 0;
        s = (ipcx_shm *)1;
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_open(longer, IPCX_OPEN_CREATE, NULL, &s));
        T_ASSERT(s == NULL);
        T_LAST_ERROR_HAS(longer);
        T_LAST_ERROR_HAS("257 bytes long, the limit is 256");
        T_ERR(IPCX_ERR_INVALID, ipcx_shm_remove(longer));
        T_LAST_ERROR_HAS(longer);
        /* Removal by the other side. ipcx's record of the object it created is on the
         * object's inode (mode 0600): the raw call takes it along, nothing is left behind. */
        char rec[4200];
        T_ASSERT(t_inode_record("", by_ipcx, rec, sizeof rec));
        T_ASSERT(shm_unlink(by_ipcx) == 0);
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, by_ipcx, 0));
        T_ASSERT(!strstr(ipcx_last_error(), "left behind"));
        T_OK(ipcx_shm_remove(by_raw));
        _exit(0);
    }
    int st = t_wait(p, 20000);
    int left = (shm_unlink(by_ipcx) == 0) + (shm_unlink(by_raw) == 0);
    T_ASSERTF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status %#x)", st);
    T_EQ_INT(left, 0);
}

/* Memory is always readable: IPCX_OPEN_READ alone is read-only, anything else (0,
 * IPCX_OPEN_WRITE, or both) read-write, for every kind that maps. */
T_CASE(read_and_write_flags_give_read_write) {
    const uint32_t rw[] = {0, IPCX_OPEN_WRITE, IPCX_OPEN_READ | IPCX_OPEN_WRITE};
    char name[128];
    t_posix_name(name, sizeof name, "rwflags");
    t_track_shm(name);
    ipcx_shm *s;
    T_OK(ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE | IPCX_OPEN_READ | IPCX_OPEN_WRITE,
                       NULL, &s));
    T_OK(ipcx_shm_set_size(s, 4096)); /* read-write: it may be resized */
    for (size_t k = 0; k < 3; k++) {
        ipcx_shm *h;
        T_OK(ipcx_shm_open(name, rw[k], NULL, &h));
        T_OK(ipcx_shm_set_size(h, 4096));
        ipcx_region *r;
        T_OK(ipcx_shm_map(h, rw[k], &r));
        expect_region(r, IPCX_REGION_POSIX, true, 4096);
        T_OK(ipcx_region_write(r, 0, "w", 1));
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_map(h, IPCX_OPEN_READ, &r));
        expect_region(r, IPCX_REGION_POSIX, false, 4096);
        T_OK(ipcx_region_close(r));
        T_OK(ipcx_shm_close(h));
    }
    ipcx_shm *ro;
    T_OK(ipcx_shm_open(name, IPCX_OPEN_READ, NULL, &ro));
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_map(ro, IPCX_OPEN_READ | IPCX_OPEN_WRITE, &r));
    T_ASSERT(r == NULL);
    T_ERR(IPCX_ERR_PERMISSION, ipcx_shm_set_size(ro, 8192));
    T_OK(ipcx_shm_close(ro));
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_shm_remove(name));

    /* Segments. */
    ipcx_shm_segment *g = new_segment(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, NULL);
    for (size_t k = 0; k < 3; k++) {
        T_OK(ipcx_shm_segment_map(g, rw[k], &r));
        expect_region(r, IPCX_REGION_SYSV, true, 4096);
        T_OK(ipcx_region_write(r, 0, "w", 1));
        T_OK(ipcx_region_close(r));
    }
    T_OK(ipcx_shm_segment_map(g, IPCX_OPEN_READ, &r));
    expect_region(r, IPCX_REGION_SYSV, false, 4096);
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_segment_remove(g));
    T_OK(ipcx_shm_segment_close(g));

    /* Files: read-write may extend with CREATE; read-only may not. */
    char path[256];
    t_path(path, sizeof path, "rwflags");
    for (size_t k = 0; k < 3; k++) {
        T_OK(ipcx_file_map(path, 4096 * (k + 1), IPCX_OPEN_CREATE | rw[k], NULL, &r));
        expect_region(r, IPCX_REGION_FILE, true, 4096 * (k + 1));
        T_OK(ipcx_region_write(r, 0, "w", 1));
        T_OK(ipcx_region_close(r));
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 5 * 4096, IPCX_OPEN_CREATE | IPCX_OPEN_READ, NULL,
                                          &r));
    T_OK(ipcx_file_map(path, 0, IPCX_OPEN_READ, NULL, &r));
    expect_region(r, IPCX_REGION_FILE, false, 3 * 4096);
    T_OK(ipcx_region_close(r));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(posix_limits) {
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "limits", NULL);
    T_OK(ipcx_shm_set_size(s, 4096));
    /* More than /dev/shm holds: refused now (with the space left), not SIGBUS later. (A
     * 32-bit size may fit in /dev/shm.) */
    if (sizeof(size_t) == 8) {
        T_ERR(IPCX_ERR_LIMIT, ipcx_shm_set_size(s, (size_t)(UINT64_C(1) << 42)));
        T_LAST_ERROR_HAS("/dev/shm is full");
        T_LAST_ERROR_HAS("bytes free of");
    }
    size_t size;
    T_OK(ipcx_shm_size(s, &size));
    T_EQ_INT(size, 4096); /* unchanged */
    /* Above this process's RLIMIT_FSIZE: refused before the kernel sends SIGXFSZ. */
    pid_t p = t_fork();
    if (p == 0) {
        struct rlimit fs = {1 << 20, RLIM_INFINITY};
        T_ASSERT(setrlimit(RLIMIT_FSIZE, &fs) == 0);
        T_ERR(IPCX_ERR_LIMIT, ipcx_shm_set_size(s, 2 << 20));
        T_LAST_ERROR_HAS("RLIMIT_FSIZE (1048576");
        T_OK(ipcx_shm_set_size(s, 1 << 20));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_OK(ipcx_shm_size(s, &size));
    T_EQ_INT(size, 1 << 20);
    /* Shrinking is allowed (it is the other processes' problem: see the SIGBUS cases). */
    T_OK(ipcx_shm_set_size(s, 100));
    T_OK(ipcx_shm_size(s, &size));
    T_EQ_INT(size, 100);
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_shm_remove(name));
}

T_CASE(posix_unrelated_process) {
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "peer", NULL);
    T_OK(ipcx_shm_set_size(s, 16384));
    ipcx_region *r;
    T_OK(ipcx_shm_map(s, 0, &r));
    T_OK(ipcx_shm_close(s));
    handoff_with_peer(r, "posix", name, 40);
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_remove(name));
}

/* ------------------------------------------------------------------ files */

T_CASE(file_mapping_across_fork) {
    umask(077);
    char path[256];
    t_path(path, sizeof path, "map");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0640));
    ipcx_region *r;
    T_OK(ipcx_file_map(path, 3 * 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &r));
    T_OK(ipcx_options_close(o));
    T_EQ_INT(perm_of(path), 0640);
    struct stat st;
    T_ASSERT(stat(path, &st) == 0 && st.st_size == 3 * 4096);
    expect_region(r, IPCX_REGION_FILE, true, 3 * 4096);
    /* CREATE on the existing file with a smaller size maps a prefix; never shrinks it. */
    ipcx_region *prefix;
    T_OK(ipcx_file_map(path, 100, IPCX_OPEN_CREATE, NULL, &prefix));
    expect_region(prefix, IPCX_REGION_FILE, true, 100);
    T_ASSERT(stat(path, &st) == 0 && st.st_size == 3 * 4096);
    T_EQ_INT(perm_of(path), 0640);
    T_OK(ipcx_region_write(prefix, 0, "prefix", 6));
    char b6[6];
    T_OK(ipcx_region_read(r, 0, b6, 6));
    T_ASSERT(memcmp(b6, "prefix", 6) == 0);
    T_OK(ipcx_region_close(prefix));

    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        /* The child maps the whole file by path (size 0) and writes a record, flushed. */
        ipcx_region *cr;
        T_OK(ipcx_file_map(path, 0, 0, NULL, &cr));
        expect_region(cr, IPCX_REGION_FILE, true, 3 * 4096);
        put_record(cr, 7000, 5000, 41);
        T_OK(ipcx_region_sync(cr, 7000, 5000, 0));
        say(wr, "record ready");
        T_OK(ipcx_region_close(cr));
        T_OK(ipcx_region_close(r));
        _exit(0);
    }
    wait_for(rd, "record ready");
    check_record(r, 7000, 5000, 41);
    /* The bytes are in the file: read(2) sees them. */
    unsigned char from_file[5000], want[5000];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    T_ASSERT(fd >= 0);
    T_ASSERT(pread(fd, from_file, sizeof from_file, 7000) == (ssize_t)sizeof from_file);
    shm_pattern(want, sizeof want, 41);
    T_ASSERT(memcmp(from_file, want, sizeof want) == 0);
    t_wait_ok(p, 10000);
    handoff_across_fork(r);
    T_OK(ipcx_region_sync(r, 0, 3 * 4096, IPCX_REGION_SYNC_ASYNC));
    T_OK(ipcx_region_sync(r, 1, 3 * 4096 - 1, 0));
    T_ASSERT(pread(fd, from_file, 3000, 3100) == 3000);
    shm_pattern(want, 3000, 8); /* the answer handoff_across_fork wrote */
    T_ASSERT(memcmp(from_file, want, 3000) == 0);
    close(fd);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    T_OK(ipcx_region_close(r));
    /* Read-only mappings. */
    T_OK(ipcx_file_map(path, 0, IPCX_OPEN_READ, NULL, &r));
    expect_region(r, IPCX_REGION_FILE, false, 3 * 4096);
    check_record(r, 7000, 5000, 41);
    T_ERR(IPCX_ERR_PERMISSION, ipcx_region_write(r, 0, "x", 1));
    T_OK(ipcx_region_close(r));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(file_mapping_unrelated_process) {
    char path[256];
    t_path(path, sizeof path, "peer");
    ipcx_region *r;
    T_OK(ipcx_file_map(path, 16384, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &r));
    handoff_with_peer(r, "file", path, 40);
    T_OK(ipcx_region_close(r));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(file_mapping_bad_input) {
    char path[256], dir[256], fifo[256];
    t_path(path, sizeof path, "bad");
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_file_map(path, 4096, 0, NULL, &r));
    T_ASSERT(r == NULL);
    T_LAST_ERROR_HAS("does not exist");
    /* A file shorter than asked: refused without CREATE (touching past the end is SIGBUS). */
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 0, 0, NULL, &r));
    T_LAST_ERROR_HAS("empty");
    T_ASSERT(write(fd, "abc", 3) == 3);
    close(fd);
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, 0, NULL, &r));
    T_LAST_ERROR_HAS("shorter than the 4096");
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_READ, NULL, &r));
    T_ERR(IPCX_ERR_EXISTS, ipcx_file_map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                                         &r));
    T_OK(ipcx_file_map(path, 0, 0, NULL, &r)); /* the 3 bytes it has */
    expect_region(r, IPCX_REGION_FILE, true, 3);
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, 0, (char[4]){0}, 4));
    T_OK(ipcx_region_close(r));
    T_ASSERT(unlink(path) == 0);
    /* A failed call removes the file it created. */
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_READ, NULL, &r));
    T_ASSERT(access(path, F_OK) != 0 && errno == ENOENT);
    /* Not regular files: a directory, and a FIFO (which must not block the open). */
    t_path(dir, sizeof dir, "dir");
    T_ASSERT(mkdir(dir, 0700) == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(dir, 0, IPCX_OPEN_READ, NULL, &r));
    T_ASSERT(rmdir(dir) == 0);
    t_path(fifo, sizeof fifo, "fifo");
    T_ASSERT(mkfifo(fifo, 0600) == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(fifo, 4096, 0, NULL, &r));
    T_LAST_ERROR_HAS("not a regular file");
    T_ASSERT(unlink(fifo) == 0);
    /* Arguments. */
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map("", 4096, IPCX_OPEN_CREATE, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(NULL, 4096, IPCX_OPEN_CREATE, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, IPCX_OPEN_CREATE, NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, 0x40, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, IPCX_OPEN_EXCLUSIVE, NULL, &r));
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, (size_t)-1, IPCX_OPEN_CREATE, NULL, &r));
    T_LAST_ERROR_HAS("SSIZE_MAX");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_atomic(o, true));
    T_ERR(IPCX_ERR_INVALID, ipcx_file_map(path, 4096, IPCX_OPEN_CREATE, o, &r));
    T_LAST_ERROR_HAS("atomic");
    T_OK(ipcx_options_close(o));
    T_ASSERT(access(path, F_OK) != 0); /* none of these created it */
}

/* ------------------------------------------------------------------ SIGBUS safety */

/* `r` maps three pages; another process cut the object to `keep` bytes (0 or 4096). */
static void copies_fail_safely(ipcx_region *r, size_t keep) {
    unsigned char buf[256] = {0};
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 8192, buf, 64));
    T_LAST_ERROR_HAS("SIGBUS");
    T_LAST_ERROR_HAS("truncated");
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_write(r, 8192, buf, 64));
    if (keep) {
        /* Straddling the new end: the part before it is copied, then the error. */
        T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 4000, buf, 200));
        T_LAST_ERROR_HAS("96 bytes were copied");
        T_OK(ipcx_region_read(r, 0, buf, 64)); /* what is left still works */
        T_ASSERT(memcmp(buf, "still here", 10) == 0);
        T_OK(ipcx_region_write(r, 100, "ok", 2));
    }
    /* The same access through the raw pointer kills with SIGBUS (shown in a child). */
    void *base;
    T_OK(ipcx_region_base(r, &base, NULL));
    expect_sigbus_on_touch((unsigned char *)base + 8192);
}

T_CASE(truncated_file_copies_fail_safely) {
    char path[256];
    t_path(path, sizeof path, "trunc");
    ipcx_region *r;
    T_OK(ipcx_file_map(path, 3 * 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &r));
    T_OK(ipcx_region_write(r, 0, "still here", 10));
    T_OK(ipcx_region_read(r, 8192, (char[64]){0}, 64));
    pid_t p = t_fork();
    if (p == 0) { /* another process shrinks the file */
        T_ASSERT(truncate(path, 4096) == 0);
        _exit(0);
    }
    t_wait_ok(p, 10000);
    copies_fail_safely(r, 4096);
    T_OK(ipcx_region_close(r));
    T_ASSERT(unlink(path) == 0);
}

T_CASE(unchecked_copies_are_plain_memcpy_and_fault_like_raw_access) {
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "unchecked", NULL);
    T_OK(ipcx_shm_set_size(s, 2 * 4096));
    ipcx_region *r;
    T_OK(ipcx_shm_map(s, 0, &r));
    T_OK(ipcx_region_set_checked_copies(r, false));
    T_OK(ipcx_region_write(r, 4096, "fast", 4));
    char buf[8] = {0};
    T_OK(ipcx_region_read(r, 4096, buf, 4));
    T_ASSERT(memcmp(buf, "fast", 4) == 0);
    /* Shrunk behind its back, an unchecked copy faults exactly as raw access would. */
    T_OK(ipcx_shm_set_size(s, 4096));
    pid_t p = t_fork();
    if (p == 0) {
        signal(SIGBUS, SIG_DFL); /* sanitizers install their own handler */
        ipcx_region_read(r, 4096, buf, 4);
        _exit(0); /* not reached */
    }
    int st = t_wait(p, 10000);
    T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
    /* Checked again: the same copy is an error, not a fault. */
    T_OK(ipcx_region_set_checked_copies(r, true));
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 4096, buf, 4));
    /* Kinds that cannot shrink ignore the setting. */
    ipcx_region *a;
    T_OK(ipcx_region_create(4096, &a));
    T_OK(ipcx_region_set_checked_copies(a, true));
    T_OK(ipcx_region_write(a, 0, "x", 1));
    T_OK(ipcx_region_close(a));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_set_checked_copies(NULL, false));
    T_OK(ipcx_region_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_set_checked_copies(r, false));
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_shm_remove(name));
}

T_CASE(truncated_posix_copies_fail_safely) {
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "trunc", NULL);
    T_OK(ipcx_shm_set_size(s, 3 * 4096));
    ipcx_region *r;
    T_OK(ipcx_shm_map(s, 0, &r));
    T_OK(ipcx_region_write(r, 0, "still here", 10));
    pid_t p = t_fork();
    if (p == 0) { /* another process shrinks the object to one page */
        T_OK(ipcx_shm_set_size(s, 4096));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    copies_fail_safely(r, 4096);
    /* ... and then to nothing. */
    T_OK(ipcx_shm_set_size(s, 0));
    copies_fail_safely(r, 0);
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 0, (char[8]){0}, 8));
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_shm_remove(name));
}

/* ------------------------------------------------------------------ the fault trap */

static void exit_42(int sig, siginfo_t *si, void *ctx) {
    (void)sig, (void)si, (void)ctx;
    _exit(42);
}

/* The checks of copies_fail_safely with the trap installed (the raw-touch check is the
 * caller's: with the trap, a SIGBUS outside ipcx goes to the handler before it). */
static void trapped_copies_fail_safely(ipcx_region *r) {
    unsigned char buf[256] = {0};
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 8192, buf, 64));
    T_LAST_ERROR_HAS("truncated");
    T_LAST_ERROR_HAS("caught by the fault trap"); /* the fast path, not the system call */
    /* valgrind's rep movsb counts the faulting byte as copied: exact counts only natively. */
    if (!t_under_valgrind()) T_LAST_ERROR_HAS("0 bytes were copied");
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_write(r, 8192, buf, 64));
    T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 4000, buf, 200));
    if (!t_under_valgrind()) T_LAST_ERROR_HAS("96 bytes were copied");
    T_ASSERT(memcmp(buf, "tail", 4) == 0); /* the 96 bytes before the end arrived */
    T_OK(ipcx_region_read(r, 0, buf, 64));
    T_ASSERT(memcmp(buf, "still here", 10) == 0);
    T_OK(ipcx_region_write(r, 100, "ok", 2));
}

T_CASE(fault_trap_keeps_checked_copies_safe_and_passes_other_faults_on) {
#if !defined(__x86_64__) && !defined(__aarch64__)
    /* No copy routine for this processor: refused, and checked copies keep the system
     * call (the other SIGBUS cases above cover them). */
    T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_region_trap_install(0));
    T_LAST_ERROR_HAS("no trapping copy routine");
    T_OK(ipcx_region_trap_remove()); /* nothing installed: nothing to do */
    return;
#endif
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "trap", NULL);
    T_OK(ipcx_shm_set_size(s, 3 * 4096));
    ipcx_region *r;
    T_OK(ipcx_shm_map(s, 0, &r));
    T_OK(ipcx_region_write(r, 0, "still here", 10));
    T_OK(ipcx_region_write(r, 4000, "tail", 4));
    void *base;
    T_OK(ipcx_region_base(r, &base, NULL));

    /* A program handler installed before the trap still gets the faults that are not
     * ipcx's; ipcx's own copies are recovered. */
    pid_t p = t_fork();
    if (p == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = exit_42;
        sa.sa_flags = SA_SIGINFO;
        T_ASSERT(sigaction(SIGBUS, &sa, NULL) == 0);
        T_ERR(IPCX_ERR_INVALID, ipcx_region_trap_install(1));
        T_LAST_ERROR_HAS("unknown flags");
        T_OK(ipcx_region_trap_install(0));
        T_OK(ipcx_region_trap_install(0)); /* twice is harmless */
        unsigned char big[3 * 4096];
        T_OK(ipcx_region_read(r, 0, big, sizeof big)); /* intact: plain copies */
        T_OK(ipcx_shm_set_size(s, 4096));             /* the object shrinks */
        trapped_copies_fail_safely(r);
        ((volatile unsigned char *)base)[8192] = 1; /* a raw touch: the program's handler */
        _exit(0);                                   /* not reached */
    }
    int st = t_wait(p, 10000);
    T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 42);

    /* With no handler before it, a fault outside ipcx kills with SIGBUS as without the
     * trap. */
    p = t_fork();
    if (p == 0) {
        signal(SIGBUS, SIG_DFL); /* sanitizers install their own handler */
        T_OK(ipcx_region_trap_install(0));
        trapped_copies_fail_safely(r);
        ((volatile unsigned char *)base)[8192] = 1;
        _exit(0); /* not reached */
    }
    st = t_wait(p, 10000);
    T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);

    /* Removing restores the action before; a handler installed after the trap is left
     * alone. */
    p = t_fork();
    if (p == 0) {
        signal(SIGBUS, SIG_DFL);
        T_OK(ipcx_region_trap_remove()); /* not installed: nothing to do */
        T_OK(ipcx_region_trap_install(0));
        struct sigaction cur;
        T_ASSERT(sigaction(SIGBUS, NULL, &cur) == 0 && cur.sa_handler != SIG_DFL);
        T_OK(ipcx_region_trap_remove());
        T_ASSERT(sigaction(SIGBUS, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL);
        /* Without the trap, checked copies are safe the slow way. */
        T_ERR(IPCX_ERR_REMOVED, ipcx_region_read(r, 8192, (char[8]){0}, 8));
        T_ASSERT(strstr(ipcx_last_error(), "fault trap") == NULL);
        T_OK(ipcx_region_trap_install(0));
        struct sigaction mine;
        memset(&mine, 0, sizeof mine);
        mine.sa_sigaction = exit_42;
        mine.sa_flags = SA_SIGINFO;
        T_ASSERT(sigaction(SIGBUS, &mine, NULL) == 0);
        T_ERR(IPCX_ERR_IN_USE, ipcx_region_trap_remove());
        T_LAST_ERROR_HAS("another SIGBUS handler");
        T_ASSERT(sigaction(SIGBUS, NULL, &cur) == 0 && cur.sa_sigaction == exit_42);
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_OK(ipcx_region_close(r));
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_shm_remove(name));
}

/* ------------------------------------------------------------------ 256 MiB */

#define BIG ((size_t)t_scaled(256) << 20) /* 256 MiB; 25 MiB under valgrind */
#define CHUNK ((size_t)1 << 20)

/* The child writes the whole region (1 MiB bounded copies, each chunk its own pattern);
 * the parent, told "written", reads all of it back in one bounded copy and compares every
 * byte, then checks it again through the pointer. */
static void big_region(ipcx_region *r) {
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_pair(0, NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        unsigned char *chunk = malloc(CHUNK);
        T_ASSERT(chunk != NULL);
        for (size_t off = 0; off < BIG; off += CHUNK) {
            shm_pattern(chunk, CHUNK, off / CHUNK + 500);
            T_OK(ipcx_region_write(r, off, chunk, CHUNK));
        }
        free(chunk);
        say(wr, "written");
        T_OK(ipcx_region_close(r));
        _exit(0);
    }
    wait_for(rd, "written");
    unsigned char *all = malloc(BIG), *want = malloc(CHUNK);
    T_ASSERT(all != NULL && want != NULL);
    T_OK(ipcx_region_read(r, 0, all, BIG));
    void *base;
    T_OK(ipcx_region_base(r, &base, NULL));
    for (size_t off = 0; off < BIG; off += CHUNK) {
        shm_pattern(want, CHUNK, off / CHUNK + 500);
        T_ASSERTF(memcmp(all + off, want, CHUNK) == 0, "bytes differ in the MiB at %zu", off);
        T_ASSERTF(memcmp((unsigned char *)base + off, want, CHUNK) == 0, "pointer view differs at %zu", off);
    }
    free(all);
    free(want);
    t_wait_ok(p, 50000);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
}

T_CASE(region_256_mib_written_by_child_verified_by_parent) {
    /* Anonymous (plain memcpy copies) and POSIX (fault-safe copies). */
    ipcx_region *r;
    T_OK(ipcx_region_create(BIG, &r));
    big_region(r);
    T_OK(ipcx_region_close(r));
    char name[128];
    ipcx_shm *s = new_posix(name, sizeof name, "big", NULL);
    T_OK(ipcx_shm_set_size(s, BIG));
    T_OK(ipcx_shm_map(s, 0, &r));
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_shm_remove(name)); /* nothing left even if the case dies */
    big_region(r);
    T_OK(ipcx_region_close(r));
}

T_MAIN(T_ENTRY(anonymous_region_shared_across_fork), T_ENTRY(region_bad_input),
       T_ENTRY(region_is_a_thread_safe_handle),
       T_ENTRY(sysv_private_segment_across_fork), T_ENTRY(sysv_keys_modes_and_read_only),
       T_ENTRY(sysv_remove_while_attached), T_ENTRY(sysv_unrelated_process),
       T_ENTRY(sysv_open_checks_no_permission), T_ENTRY(sysv_bad_input),
       T_ENTRY(posix_object_across_fork), T_ENTRY(posix_modes_names_and_read_only),
       T_ENTRY(posix_names_of_the_kernels_length), T_ENTRY(read_and_write_flags_give_read_write),
       T_ENTRY(posix_limits),
       T_ENTRY(posix_unrelated_process), T_ENTRY(file_mapping_across_fork),
       T_ENTRY(file_mapping_unrelated_process), T_ENTRY(file_mapping_bad_input),
       T_ENTRY(truncated_file_copies_fail_safely), T_ENTRY(truncated_posix_copies_fail_safely),
       T_ENTRY(unchecked_copies_are_plain_memcpy_and_fault_like_raw_access),
       T_ENTRY(fault_trap_keeps_checked_copies_safe_and_passes_other_faults_on),
       T_ENTRY(region_256_mib_written_by_child_verified_by_parent))
