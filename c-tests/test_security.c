/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Security checks (issue 10): every creating mechanism makes private objects (0600) that a
 * dropped-privilege process cannot open until the creator grants a mode; the provenance
 * record directory cannot be read, planted or forged by others; received descriptors
 * never leak; hostile peers (4 GiB frame lengths, ring indices past the end, message
 * types the kernel would refuse) get errors without allocations of that size. */
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test.h"

#define NOBODY 65534u
#define T_UID 61235u

static void become(uid_t uid) {
    T_ASSERT(setgroups(0, NULL) == 0);
    T_ASSERT(setresgid(uid, uid, uid) == 0);
    T_ASSERT(setresuid(uid, uid, uid) == 0);
    T_ASSERT(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
}

static int skip_unless_root(void) {
    if (geteuid() == 0) return 0;
    printf("  (skipped: needs root to switch users)\n");
    return 1;
}

/* ---------------------------------------------------------------- modes */

/* One object of each kind, created by root with `mode` (0: the default). */
struct objs {
    char fifo[256], sock[256], shm[64], mq[64], sem[64], ring[64];
    int msq, seg, semset_key;
    ipcx_sock_listener *l;
    ipcx_shm *shm_h;
    ipcx_mq *mq_h;
    ipcx_sem *sem_h;
    ipcx_ring *ring_h;
    ipcx_msgq *msq_h;
    ipcx_shm_segment *seg_h;
    ipcx_semset *set_h;
};

static void create_objs(struct objs *o, uint32_t mode, const char *tag) {
    ipcx_options *opt = NULL;
    T_OK(ipcx_options_create(&opt));
    if (mode) T_OK(ipcx_options_set_mode(opt, mode));
    t_path(o->fifo, sizeof o->fifo, tag);
    T_OK(ipcx_fifo_make(o->fifo, mode ? opt : NULL));
    t_path(o->sock, sizeof o->sock, tag);
    T_OK(ipcx_sock_listen_unix(o->sock, IPCX_SOCK_STREAM, mode ? opt : NULL, &o->l));
    t_posix_name(o->shm, sizeof o->shm, tag);
    t_track_shm(o->shm);
    T_OK(ipcx_shm_open(o->shm, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, mode ? opt : NULL, &o->shm_h));
    T_OK(ipcx_shm_set_size(o->shm_h, 4096));
    t_posix_name(o->sem, sizeof o->sem, tag);
    t_track_sem(o->sem);
    T_OK(ipcx_sem_open(o->sem, 0, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, mode ? opt : NULL, &o->sem_h));
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, mode ? opt : NULL, &o->msq_h));
    int32_t id;
    T_OK(ipcx_msgq_id(o->msq_h, &id));
    o->msq = id;
    t_track_sysv_msq(id);
    T_OK(ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, mode ? opt : NULL, &o->seg_h));
    T_OK(ipcx_shm_segment_id(o->seg_h, &o->seg));
    t_track_sysv_shm(o->seg);
    o->semset_key = 0x5ec00000 | ((getpid() & 0xfff) << 8) | (mode ? 1 : 0);
    T_OK(ipcx_semset_open(o->semset_key, 1, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, mode ? opt : NULL, IPCX_NOWAIT, &o->set_h));
    uint32_t nsems;
    T_OK(ipcx_semset_id(o->set_h, &id, &nsems));
    t_track_sysv_sem(id);
    /* The ring and the queue take more options: their own handle. */
    ipcx_options *ro;
    T_OK(ipcx_options_create(&ro));
    if (mode) T_OK(ipcx_options_set_mode(ro, mode));
    T_OK(ipcx_options_set_capacity(ro, IPCX_RING_MIN_CAPACITY));
    t_posix_name(o->ring, sizeof o->ring, tag);
    t_track_shm(o->ring);
    T_OK(ipcx_ring_open(o->ring, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, ro, &o->ring_h));
    T_OK(ipcx_options_close(ro));
    T_OK(ipcx_options_create(&ro));
    if (mode) T_OK(ipcx_options_set_mode(ro, mode));
    T_OK(ipcx_options_set_max_messages(ro, 2));
    T_OK(ipcx_options_set_max_message(ro, 32));
    t_posix_name(o->mq, sizeof o->mq, tag);
    t_track_mq(o->mq);
    T_OK(ipcx_mq_open(o->mq, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, ro, &o->mq_h));
    T_OK(ipcx_options_close(ro));
    T_OK(ipcx_options_close(opt));
}

static void destroy_objs(struct objs *o) {
    T_OK(ipcx_sock_listener_close(o->l));
    T_OK(ipcx_fifo_remove(o->fifo));
    T_OK(ipcx_shm_close(o->shm_h));
    T_OK(ipcx_shm_remove(o->shm));
    T_OK(ipcx_sem_close(o->sem_h));
    T_OK(ipcx_sem_remove(o->sem));
    T_OK(ipcx_msgq_remove(o->msq_h));
    T_OK(ipcx_msgq_close(o->msq_h));
    T_OK(ipcx_shm_segment_remove(o->seg_h));
    T_OK(ipcx_shm_segment_close(o->seg_h));
    T_OK(ipcx_semset_remove(o->set_h));
    T_OK(ipcx_semset_close(o->set_h));
    T_OK(ipcx_ring_close(o->ring_h));
    T_OK(ipcx_ring_remove(o->ring));
    T_OK(ipcx_mq_close(o->mq_h));
    T_OK(ipcx_mq_remove(o->mq));
}

/* In a process running as nobody: try every object; `open` says whether access is
 * expected. A denied access must be IPCX_ERR_PERMISSION. */
static void probe(const struct objs *o, int open) {
    int want = open ? IPCX_OK : IPCX_ERR_PERMISSION;
#define EXPECT(what, call)                                                                  \
    do {                                                                                    \
        int s_ = (call);                                                                    \
        T_ASSERTF(s_ == want, "%s: %s, expected %s (%s)", what, t_status_name(s_),          \
                  t_status_name(want), ipcx_last_error());                                  \
    } while (0)
    ipcx_pipe *p = NULL;
    EXPECT("fifo", ipcx_fifo_open(o->fifo, IPCX_OPEN_READ, NULL, 0, &p));
    if (p) T_OK(ipcx_pipe_close(p));
    ipcx_sock *c = NULL;
    EXPECT("socket", ipcx_sock_connect_unix(o->sock, IPCX_SOCK_STREAM, NULL, 2000, &c));
    if (c) T_OK(ipcx_sock_close(c));
    ipcx_shm *s = NULL;
    EXPECT("posix shm", ipcx_shm_open(o->shm, 0, NULL, &s));
    if (s) T_OK(ipcx_shm_close(s));
    ipcx_sem *sm = NULL;
    EXPECT("named semaphore", ipcx_sem_open(o->sem, 0, 0, NULL, &sm));
    if (sm) T_OK(ipcx_sem_close(sm));
    ipcx_mq *m = NULL;
    EXPECT("posix mq", ipcx_mq_open(o->mq, IPCX_OPEN_WRITE, NULL, &m));
    if (m) T_OK(ipcx_mq_close(m));
    ipcx_ring *r = NULL;
    EXPECT("ring", ipcx_ring_open(o->ring, IPCX_OPEN_READ, NULL, &r));
    if (r) T_OK(ipcx_ring_close(r));
    /* System V: opening by id checks nothing; each operation checks the mode. */
    ipcx_msgq *q;
    T_OK(ipcx_msgq_open_id(o->msq, &q));
    EXPECT("sysv msq", ipcx_msgq_send(q, "x", 1, 1, 0));
    T_OK(ipcx_msgq_close(q));
    ipcx_shm_segment *g = NULL;
    int sg = ipcx_shm_segment_open_id(o->seg, &g);
    if (sg == IPCX_OK) {
        ipcx_region *reg = NULL;
        EXPECT("sysv shm", ipcx_shm_segment_map(g, 0, &reg));
        if (reg) T_OK(ipcx_region_close(reg));
        T_OK(ipcx_shm_segment_close(g));
    } else {
        EXPECT("sysv shm", sg);
    }
    ipcx_semset *ss = NULL;
    int so = ipcx_semset_open(o->semset_key, 0, NULL, 0, NULL, 1000, &ss);
    if (so == IPCX_OK) {
        int32_t v;
        EXPECT("sysv sem", ipcx_semset_get(ss, 0, &v));
        T_OK(ipcx_semset_close(ss));
    } else {
        EXPECT("sysv sem", so);
    }
#undef EXPECT
}

T_CASE(objects_are_private_until_a_mode_is_granted) {
    if (skip_unless_root()) return;
    struct objs def, granted;
    create_objs(&def, 0, "priv");
    create_objs(&granted, 0666, "open");
    /* The modes, as created. */
    struct stat st;
    T_ASSERT(lstat(def.fifo, &st) == 0 && (st.st_mode & 07777) == 0600);
    T_ASSERT(lstat(def.sock, &st) == 0 && (st.st_mode & 07777) == 0600);
    T_ASSERT(lstat(granted.sock, &st) == 0 && (st.st_mode & 07777) == 0666);
    pid_t p = t_fork();
    if (p == 0) {
        become(NOBODY);
        probe(&def, 0);
        probe(&granted, 1);
        /* Nor can it read or write root's provenance records. */
        DIR *d = opendir("/dev/shm/.ipcx-0");
        T_ASSERT(d == NULL && errno == EACCES);
        T_ASSERT(open("/dev/shm/.ipcx-0/shm.forged", O_WRONLY | O_CREAT | O_EXCL, 0600) < 0);
        T_EQ_INT(errno, EACCES);
        _exit(0);
    }
    t_wait_ok(p, 30000);
    /* The records directory and its files are private. */
    T_ASSERT(lstat("/dev/shm/.ipcx-0", &st) == 0 && S_ISDIR(st.st_mode));
    T_EQ_INT(st.st_mode & 07777, 0700);
    char rec[400], text[4200];
    snprintf(rec, sizeof rec, "/dev/shm/.ipcx-0/shm.%s", granted.shm + 1);
    T_ASSERT(lstat(rec, &st) == 0 && S_ISREG(st.st_mode));
    T_EQ_INT(st.st_mode & 07777, 0600);
    T_ASSERT(!t_inode_record("", granted.shm, text, sizeof text));
    /* A private object's record is on its inode (nobody else may write either). */
    T_ASSERT(t_inode_record("", def.shm, text, sizeof text));
    snprintf(rec, sizeof rec, "/dev/shm/.ipcx-0/shm.%s", def.shm + 1);
    T_ASSERT(lstat(rec, &st) != 0 && errno == ENOENT);
    destroy_objs(&def);
    destroy_objs(&granted);
}

/* ---------------------------------------------------------------- the record directory */

static char rdir[64];

static void wipe(void) {
    struct stat st;
    if (lstat(rdir, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(rdir);
        return;
    }
    DIR *d = opendir(rdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(rdir);
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    T_ASSERT(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* As T_UID: create a POSIX shm object through ipcx (it must succeed), list, and require
 * `warning` among the warnings and the object not marked as ipcx's. Its group may write it,
 * so its record goes to the record directory (a record on its inode would not be trusted). */
static void create_and_expect_untrusted(const char *warning) {
    pid_t p = t_fork();
    if (p == 0) {
        become(T_UID);
        char n[64];
        t_posix_name(n, sizeof n, "untrusted");
        t_track_shm(n);
        t_shm_create_mode(n, 0660);
        ipcx_object_list *l;
        T_OK(ipcx_inspect_list(NULL, 0, IPCX_INSPECT_ALL, &l));
        const char *w;
        T_OK(ipcx_object_list_warnings(l, &w));
        T_ASSERTF(strstr(w, warning), "warnings \"%s\" lack \"%s\"", w, warning);
        size_t cnt;
        T_OK(ipcx_object_list_count(l, &cnt));
        int seen = 0;
        for (size_t i = 0; i < cnt; i++) {
            ipcx_object_info o = {.size = sizeof o};
            T_OK(ipcx_object_list_get(l, i, &o));
            if (strcmp(o.name, n) == 0 && !(o.flags & IPCX_OBJECT_VANISHED)) {
                seen = 1;
                T_EQ_INT(o.flags, 0);
            }
        }
        T_ASSERT(seen);
        T_OK(ipcx_object_list_close(l));
        T_ERR(IPCX_ERR_PERMISSION, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, n, 0));
        T_OK(ipcx_shm_remove(n));
        _exit(0);
    }
    t_wait_ok(p, 20000);
}

T_CASE(planted_record_directories_are_refused) {
    if (skip_unless_root()) return;
    snprintf(rdir, sizeof rdir, "/dev/shm/.ipcx-%u", T_UID);
    wipe();
    /* Another user made it, world-writable: not used, nothing written into it. */
    T_ASSERT(mkdir(rdir, 0777) == 0);
    T_ASSERT(chmod(rdir, 0777) == 0 && chown(rdir, NOBODY, NOBODY) == 0);
    create_and_expect_untrusted("owned by uid 65534");
    T_EQ_INT(entries(rdir), 0);
    wipe();
    /* Ours, but readable by others. */
    T_ASSERT(mkdir(rdir, 0755) == 0);
    T_ASSERT(chmod(rdir, 0755) == 0 && chown(rdir, T_UID, T_UID) == 0);
    create_and_expect_untrusted("has mode 0755");
    T_EQ_INT(entries(rdir), 0);
    wipe();
    /* A symbolic link to a directory the attacker reads: never followed. */
    char target[200];
    t_path(target, sizeof target, "planted");
    T_ASSERT(mkdir(target, 0777) == 0);
    T_ASSERT(chmod(target, 0777) == 0);
    T_ASSERT(symlink(target, rdir) == 0);
    T_ASSERT(lchown(rdir, NOBODY, NOBODY) == 0);
    create_and_expect_untrusted("not a directory");
    T_EQ_INT(entries(target), 0);
    wipe();
    T_ASSERT(rmdir(target) == 0);
}

T_CASE(forged_records_are_ignored) {
    if (skip_unless_root()) return;
    snprintf(rdir, sizeof rdir, "/dev/shm/.ipcx-%u", T_UID);
    wipe();
    /* A real object of T_UID, with a record file (its group may write it: a record on its
     * inode would not be trusted); then forged entries beside it. */
    static char name[64];
    t_posix_name(name, sizeof name, "forged");
    t_track_shm(name);
    pid_t p = t_fork();
    if (p == 0) {
        become(T_UID);
        t_shm_create_mode(name, 0660);
        _exit(0);
    }
    t_wait_ok(p, 20000);
    char rec[200], path[300];
    snprintf(rec, sizeof rec, "%s/shm.%s", rdir, name + 1);
    T_ASSERT(access(rec, F_OK) == 0);
    /* A symbolic link posing as a record. */
    snprintf(path, sizeof path, "%s/shm.link", rdir);
    T_ASSERT(symlink(rec, path) == 0 && lchown(path, T_UID, T_UID) == 0);
    /* A record owned by someone else (root). */
    snprintf(path, sizeof path, "%s/shm.rootowned", rdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    T_ASSERT(fd >= 0 && fchmod(fd, 0644) == 0);
    close(fd);
    /* Garbage, and a valid record under a file name it does not describe. */
    snprintf(path, sizeof path, "%s/shm.garbage", rdir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0 && write(fd, "\xff\xfe not a record", 16) == 16 && fchown(fd, T_UID, T_UID) == 0);
    close(fd);
    char text[4096];
    fd = open(rec, O_RDONLY | O_CLOEXEC);
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    T_ASSERT(n > 0);
    snprintf(path, sizeof path, "%s/shm.elsewhere", rdir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0 && write(fd, text, (size_t)n) == n && fchown(fd, T_UID, T_UID) == 0);
    close(fd);
    p = t_fork();
    if (p == 0) {
        become(T_UID);
        ipcx_object_list *l;
        T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
        const char *w;
        T_OK(ipcx_object_list_warnings(l, &w));
        T_ASSERTF(strstr(w, "shm.link is not trusted and was ignored: it is a symbolic link"), "%s", w);
        T_ASSERTF(strstr(w, "shm.rootowned is not trusted and was ignored: it is owned by uid 0"), "%s", w);
        T_ASSERTF(strstr(w, "shm.garbage is not trusted"), "%s", w);
        T_ASSERTF(strstr(w, "shm.elsewhere is not trusted and was ignored: its content describes"), "%s", w);
        /* The genuine record still counts: exactly one object, ipcx's. */
        size_t cnt;
        T_OK(ipcx_object_list_count(l, &cnt));
        T_EQ_INT(cnt, 1);
        ipcx_object_info o = {.size = sizeof o};
        T_OK(ipcx_object_list_get(l, 0, &o));
        T_EQ_INT(strcmp(o.name, name), 0);
        /* Ipcx's; not known to be stale: its group may write it, so processes this user
         * cannot see could have it open. */
        T_EQ_INT(o.flags, IPCX_OBJECT_IPCX);
        T_EQ_INT(o.creator_alive, 0);
        T_OK(ipcx_object_list_close(l));
        /* A hard link makes even the genuine record untrusted (two names, one file). */
        char hl[300];
        snprintf(hl, sizeof hl, "%s/shm.hardlink", rdir);
        T_ASSERT(link(rec, hl) == 0);
        T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
        T_OK(ipcx_object_list_warnings(l, &w));
        T_ASSERTF(strstr(w, "it has 2 links"), "%s", w);
        T_OK(ipcx_object_list_count(l, &cnt));
        T_EQ_INT(cnt, 0);
        T_OK(ipcx_object_list_close(l));
        /* Clean removes nothing it cannot trust. */
        T_OK(ipcx_inspect_clean(NULL, 0, 0, &l));
        T_OK(ipcx_object_list_count(l, &cnt));
        T_EQ_INT(cnt, 0);
        T_OK(ipcx_object_list_close(l));
        T_ASSERT(unlink(hl) == 0);
        T_OK(ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, name, 0));
        _exit(0);
    }
    t_wait_ok(p, 20000);
    wipe();
}

/* ---------------------------------------------------------------- descriptors */

T_CASE(received_descriptors_never_leak) {
    static const int kinds[] = {IPCX_SOCK_STREAM, IPCX_SOCK_SEQPACKET, IPCX_SOCK_DGRAM};
    for (int k = 0; k < 3; k++) {
        ipcx_sock *a, *b;
        T_OK(ipcx_sock_pair(kinds[k], NULL, &a, &b));
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int four[4] = {devnull, devnull, devnull, devnull};
        int base = t_fd_count();
        /* A receiver that did not ask for descriptors gets none. */
        T_OK(ipcx_sock_send_fds(a, "unasked", 7, four, 4, 5000));
        char buf[32];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(b, buf, &len, 5000)); /* the kernel discards them */
        T_EQ_INT(len, 7);
        T_EQ_INT(t_fd_count(), base);
        /* More than asked for: the extra ones are closed. */
        T_OK(ipcx_sock_send_fds(a, "four", 4, four, 4, 5000));
        int got[1] = {-1};
        size_t nfds = 1;
        len = sizeof buf;
        T_ERR(IPCX_ERR_LIMIT, ipcx_sock_recv_fds(b, buf, &len, got, &nfds, 5000));
        T_EQ_INT(nfds, 1);
        T_EQ_INT(t_fd_count(), base + 1);
        close(got[0]);
        T_EQ_INT(t_fd_count(), base);
        T_OK(ipcx_sock_close(a));
        T_OK(ipcx_sock_close(b));
        close(devnull);
    }
}

/* ---------------------------------------------------------------- hostile peers */

static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "re");
    T_ASSERT(f);
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') v = strtol(line + fl + 1, NULL, 10);
    fclose(f);
    return v;
}

#define RING_PROD_POS 64   /* offsetof(Header, prod.pos): the producers' tail */
#define RING_CONS_POS 128  /* offsetof(Header, cons.pos): the consumers' head */
#define RING_DATA_OFFSET 8192 /* where the data area starts (src/ring/layout.rs) */
#define RING_KIND_MSG 0x4d534701ull /* record kind of a message (high half of its header) */

T_CASE(hostile_peers) {
#if !defined(__SANITIZE_ADDRESS__)
    /* A 4 GiB allocation would fail (and abort) under this address-space limit. */
    struct rlimit as = {(rlim_t)(status_kb("VmSize") + 1024 * 1024) * 1024, RLIM_INFINITY};
    T_ASSERT(setrlimit(RLIMIT_AS, &as) == 0);
#endif
    long hwm0 = status_kb("VmHWM");
    static const unsigned char huge[4] = {0xff, 0xff, 0xff, 0xff};
    char buf[256];
    size_t len, wr;

    /* Pipe: a frame announcing 4 GiB - 1 bytes. */
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    T_OK(ipcx_pipe_write(w, huge, 4, 1000, &wr));
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_pipe_recv(r, buf, &len, 1000));
    T_LAST_ERROR_HAS("4294967295");
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));

    /* FIFO: the same from a raw writer. */
    char fifo[256];
    t_path(fifo, sizeof fifo, "hostile");
    T_OK(ipcx_fifo_make(fifo, NULL));
    T_OK(ipcx_fifo_open(fifo, IPCX_OPEN_READ, NULL, 0, &r));
    int raw = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    T_ASSERT(raw >= 0 && write(raw, huge, 4) == 4);
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_pipe_recv(r, buf, &len, 1000));
    close(raw);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_fifo_remove(fifo));

    /* Stream socket: the same. */
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
    T_OK(ipcx_sock_write(a, huge, 4, 1000, &wr));
    len = sizeof buf;
    T_ERR(IPCX_ERR_PROTOCOL, ipcx_sock_recv(b, buf, &len, 1000));
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));

    /* Ring: a producer index 4 GiB past the consumer's (found by the next producer that
     * attaches), then a record header announcing 4 GiB - 1 bytes (found by the consumer). */
    for (int round = 0; round < 2; round++) {
        char n[64];
        t_posix_name(n, sizeof n, "hostile-ring");
        t_track_shm(n);
        ipcx_options *o;
        T_OK(ipcx_options_create(&o));
        T_OK(ipcx_options_set_capacity(o, IPCX_RING_MIN_CAPACITY));
        ipcx_ring *c, *pr;
        T_OK(ipcx_ring_open(n, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &c));
        T_OK(ipcx_options_close(o));
        T_OK(ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &pr));
        T_OK(ipcx_ring_send(pr, "ok", 2, 1000));
        len = sizeof buf;
        T_OK(ipcx_ring_recv(c, buf, &len, 1000));
        int fd = shm_open(n, O_RDWR, 0);
        T_ASSERT(fd >= 0);
        size_t maplen = RING_DATA_OFFSET + IPCX_RING_MIN_CAPACITY;
        unsigned char *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        T_ASSERT(m != MAP_FAILED);
        close(fd);
        uint64_t head;
        memcpy(&head, m + RING_CONS_POS, 8);
        if (round == 0) {
            T_OK(ipcx_ring_close(pr));
            __atomic_store_n((uint64_t *)(void *)(m + RING_PROD_POS), head + (4ull << 30),
                             __ATOMIC_RELEASE);
            T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_open(n, IPCX_OPEN_WRITE, NULL, &pr));
            T_ASSERT(pr == NULL);
        } else {
            uint64_t word = (RING_KIND_MSG << 32) | 0xffffffffull;
            __atomic_store_n((uint64_t *)(void *)(m + RING_DATA_OFFSET +
                                                  (head & (IPCX_RING_MIN_CAPACITY - 1))),
                             word, __ATOMIC_RELEASE);
            len = sizeof buf;
            T_ERR(IPCX_ERR_PROTOCOL, ipcx_ring_recv(c, buf, &len, 1000));
        }
        T_LAST_ERROR_HAS("corrupted ring");
        munmap(m, maplen);
        T_OK(ipcx_ring_close(pr));
        T_OK(ipcx_ring_close(c));
        T_OK(ipcx_ring_remove(n));
    }

    /* System V queues: message types must be positive; the kernel refuses a raw peer's
     * zero or negative type too, so no receiver ever sees one. */
    ipcx_msgq *q;
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q));
    int32_t id;
    T_OK(ipcx_msgq_id(q, &id));
    t_track_sysv_msq(id);
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, "x", 1, -5, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_msgq_send(q, "x", 1, 0, 0));
    struct {
        long mtype;
        char text[1];
    } msg = {-5, {'x'}};
    T_ASSERT(msgsnd(id, &msg, 1, IPC_NOWAIT) < 0 && errno == EINVAL);
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));

    long grown = status_kb("VmHWM") - hwm0;
    printf("  peak RSS grew by %ld KiB\n", grown);
    T_ASSERTF(grown < 64 * 1024, "peak RSS grew by %ld KiB", grown);
}

T_MAIN(T_ENTRY(objects_are_private_until_a_mode_is_granted),
       T_ENTRY(planted_record_directories_are_refused), T_ENTRY(forged_records_are_ignored),
       T_ENTRY(received_descriptors_never_leak), T_ENTRY(hostile_peers))
