/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Provenance records, the inspect/cleanup API and the `ipcx` tool: records follow the
 * objects, listing finds every kind with its fields, a SIGKILLed creator's objects are
 * stale and `clean` removes exactly those, live and foreign objects are left alone, and
 * the tool's exit codes, table and JSON.
 *
 * Isolation: `clean` removes every stale ipcx object of the calling user, and other test
 * programs of this build (running in parallel, as root) create ipcx objects too. So every
 * case that creates or cleans objects runs in a child that has switched to a private uid
 * (T_UID, with PR_SET_DUMPABLE restored so its own processes can read each other's /proc
 * entries): it sees and cleans only its own record directory /dev/shm/.ipcx-T_UID. The
 * root parent removes that directory afterwards. */
#include <grp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test.h"

#define T_UID 61234u
#ifndef IPCX_CLI_PATH
#error "IPCX_CLI_PATH must name the ipcx tool"
#endif

/* ---------------------------------------------------------------- helpers */

static void become_user(uid_t uid) {
    T_ASSERT(setgroups(0, NULL) == 0);
    T_ASSERT(setresgid(uid, uid, uid) == 0);
    T_ASSERT(setresuid(uid, uid, uid) == 0);
    T_ASSERT(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
}

static const char *records_dir(void) {
    static char d[64];
    snprintf(d, sizeof d, "/dev/shm/.ipcx-%u", T_UID);
    return d;
}

/* The record directory is gone (removed with its last record); if it is there, list what
 * was left in it. */
static void assert_no_records_dir(void) {
    DIR *d = opendir(records_dir());
    if (d == NULL) {
        T_EQ_INT(errno, ENOENT);
        return;
    }
    struct dirent *de;
    int left = 0;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            printf("  left: %s\n", de->d_name);
            left++;
        }
    closedir(d);
    T_ASSERTF(false, "record directory %s is still there (%d entries)", records_dir(), left);
}

/* Remove the private user's record directory and what is in it (root). */
static void wipe_records(void) {
    DIR *d = opendir(records_dir());
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(records_dir());
}

/* Run `fn` in a child switched to T_UID; needs root (the cases are skipped otherwise). */
static int run_as_user(void (*fn)(void)) {
    if (geteuid() != 0) {
        printf("  (skipped: needs root to switch to a private uid)\n");
        return 0;
    }
    wipe_records();
    pid_t p = t_fork();
    if (p == 0) {
        become_user(T_UID);
        fn();
        fflush(stdout);
        _exit(0);
    }
    t_wait_ok(p, 50000);
    wipe_records();
    return 1;
}

/* Whether the record file `name` exists in the record directory; its text in `text`. */
static int record_text(const char *name, char *text, size_t len) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", records_dir(), name);
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, text, len - 1);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    return 1;
}

static int record_exists(const char *name) {
    char t[4200];
    return record_text(name, t, sizeof t);
}

/* The names of one object of each kind. */
struct names {
    char fifo[256], sock[256], shm[64], mq[64], sem[64], ring[64];
    int msq, seg, semset;
    pid_t creator;
};

/* The open handles that keep a live creator attached. */
struct held {
    ipcx_shm *shm;
    ipcx_region *shm_map, *seg_map;
    ipcx_mq *mq;
    ipcx_msgq *msq;
    ipcx_shm_segment *seg;
    ipcx_sem *sem;
    ipcx_semset *semset;
    ipcx_sock_listener *sock;
    ipcx_ring *ring;
};

/* Create one object of every kind with ipcx (mode 0600), tracked for cleanup. */
static void make_all(struct names *n, struct held *h, const char *tag) {
    char t[32];
    n->creator = getpid();
    snprintf(t, sizeof t, "%s-fifo", tag);
    t_path(n->fifo, sizeof n->fifo, t);
    T_OK(ipcx_fifo_make(n->fifo, NULL));
    snprintf(t, sizeof t, "%s-sock", tag);
    t_path(n->sock, sizeof n->sock, t);
    T_OK(ipcx_sock_listen_unix(n->sock, IPCX_SOCK_STREAM, NULL, &h->sock));

    t_posix_name(n->shm, sizeof n->shm, tag);
    t_track_shm(n->shm);
    T_OK(ipcx_shm_open(n->shm, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &h->shm));
    T_OK(ipcx_shm_set_size(h->shm, 8192));
    T_OK(ipcx_shm_map(h->shm, 0, &h->shm_map));

    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_messages(o, 2));
    T_OK(ipcx_options_set_max_message(o, 64));
    t_posix_name(n->mq, sizeof n->mq, tag);
    t_track_mq(n->mq);
    T_OK(ipcx_mq_open(n->mq, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o,
                      &h->mq));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_mq_send(h->mq, "hello", 5, 0, 0));

    t_posix_name(n->sem, sizeof n->sem, tag);
    t_track_sem(n->sem);
    T_OK(ipcx_sem_open(n->sem, 1, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &h->sem));

    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, IPCX_RING_MIN_CAPACITY));
    t_posix_name(n->ring, sizeof n->ring, tag);
    t_track_shm(n->ring);
    T_OK(ipcx_ring_open(n->ring, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &h->ring));
    T_OK(ipcx_options_close(o));

    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &h->msq));
    int32_t id;
    T_OK(ipcx_msgq_id(h->msq, &id));
    n->msq = id;
    t_track_sysv_msq(id);
    T_OK(ipcx_msgq_send(h->msq, "0123456789", 10, 1, 0));
    T_OK(ipcx_msgq_send(h->msq, "abcdefghij", 10, 2, 0));

    T_OK(ipcx_shm_segment_open(IPCX_KEY_PRIVATE, 4096, IPCX_OPEN_CREATE, NULL, &h->seg));
    int sid;
    T_OK(ipcx_shm_segment_id(h->seg, &sid));
    n->seg = sid;
    t_track_sysv_shm(sid);
    T_OK(ipcx_shm_segment_map(h->seg, 0, &h->seg_map));

    T_OK(ipcx_semset_open(IPCX_KEY_PRIVATE, 3, NULL, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, IPCX_NOWAIT, &h->semset));
    uint32_t nsems;
    T_OK(ipcx_semset_id(h->semset, &id, &nsems));
    n->semset = id;
    t_track_sysv_sem(id);
}

static void close_all(struct held *h) {
    T_OK(ipcx_region_close(h->shm_map));
    T_OK(ipcx_shm_close(h->shm));
    T_OK(ipcx_mq_close(h->mq));
    T_OK(ipcx_sem_close(h->sem));
    T_OK(ipcx_ring_close(h->ring));
    T_OK(ipcx_msgq_close(h->msq));
    T_OK(ipcx_region_close(h->seg_map));
    T_OK(ipcx_shm_segment_close(h->seg));
    T_OK(ipcx_semset_close(h->semset));
    T_OK(ipcx_sock_listener_close(h->sock));
}

/* Find the (non-vanished) entry of kind/name or kind/id in a list. */
static int find(const ipcx_object_list *l, uint32_t kind, const char *name, int id,
                ipcx_object_info *out) {
    size_t n = 0;
    T_OK(ipcx_object_list_count(l, &n));
    for (size_t i = 0; i < n; i++) {
        out->size = sizeof *out;
        T_OK(ipcx_object_list_get(l, i, out));
        if (out->kind != kind || (out->flags & IPCX_OBJECT_VANISHED)) continue;
        if (name ? strcmp(out->name, name) == 0 : out->id == id) return 1;
    }
    return 0;
}

/* The nine objects of `n` as (kind, name, id). */
struct ident {
    uint32_t kind;
    const char *name;
    int id;
};
static void idents(const struct names *n, struct ident out[9]) {
    struct ident v[9] = {
        {IPCX_OBJECT_FIFO, n->fifo, -1},      {IPCX_OBJECT_SOCKET, n->sock, -1},
        {IPCX_OBJECT_POSIX_SHM, n->shm, -1},  {IPCX_OBJECT_POSIX_MQ, n->mq, -1},
        {IPCX_OBJECT_POSIX_SEM, n->sem, -1},  {IPCX_OBJECT_RING, n->ring, -1},
        {IPCX_OBJECT_SYSV_MSQ, NULL, n->msq}, {IPCX_OBJECT_SYSV_SHM, NULL, n->seg},
        {IPCX_OBJECT_SYSV_SEM, NULL, n->semset},
    };
    memcpy(out, v, sizeof v);
}

/* Whether the object still exists (checked with raw calls). */
static int exists(const struct ident *x) {
    struct stat st;
    char p[300];
    switch (x->kind) {
    case IPCX_OBJECT_FIFO:
    case IPCX_OBJECT_SOCKET: return lstat(x->name, &st) == 0;
    case IPCX_OBJECT_POSIX_SHM:
    case IPCX_OBJECT_RING:
        snprintf(p, sizeof p, "/dev/shm%s", x->name);
        return lstat(p, &st) == 0;
    case IPCX_OBJECT_POSIX_SEM:
        snprintf(p, sizeof p, "/dev/shm/" T_SEM_FILE_PREFIX "%s", x->name + 1);
        return lstat(p, &st) == 0;
    case IPCX_OBJECT_POSIX_MQ: {
        mqd_t q = mq_open(x->name, O_RDONLY | O_NONBLOCK);
        if (q == (mqd_t)-1) return errno != ENOENT;
        mq_close(q);
        return 1;
    }
    case IPCX_OBJECT_SYSV_MSQ: {
        struct msqid_ds ds;
        return msgctl(x->id, IPC_STAT, &ds) == 0;
    }
    case IPCX_OBJECT_SYSV_SHM: {
        /* A removed segment still attached somewhere lingers, marked SHM_DEST. */
        struct shmid_ds ds;
        return shmctl(x->id, IPC_STAT, &ds) == 0 && !(ds.shm_perm.mode & SHM_DEST);
    }
    default: return semctl(x->id, 0, GETVAL) >= 0;
    }
}

/* Shared between a case and the children it kills. */
struct shared {
    struct names dead, live, foreign;
    atomic_int ready;
};

static struct shared *shared_map(void) {
    struct shared *s =
        mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    T_ASSERT(s != MAP_FAILED);
    memset(s, 0, sizeof *s);
    return s;
}

static void wait_ready(struct shared *s, int n) {
    double end = t_now_ms() + 20000;
    while (atomic_load(&s->ready) < n) {
        if (t_now_ms() > end) T_FAIL("children did not get ready");
        usleep(1000);
    }
}

/* Objects of every kind made with raw system calls (no record), mode 0600. */
static void make_foreign(struct names *n) {
    n->creator = getpid();
    t_path(n->fifo, sizeof n->fifo, "frn-fifo");
    T_ASSERT(mkfifo(n->fifo, 0600) == 0);
    t_path(n->sock, sizeof n->sock, "frn-sock");
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    T_ASSERT(strlen(n->sock) < sizeof a.sun_path);
    memcpy(a.sun_path, n->sock, strlen(n->sock) + 1);
    T_ASSERT(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    close(s);
    t_posix_name(n->shm, sizeof n->shm, "frn");
    t_track_shm(n->shm);
    int fd = shm_open(n->shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    T_ASSERT(fd >= 0);
    close(fd);
    struct mq_attr at = {.mq_maxmsg = 2, .mq_msgsize = 16};
    t_posix_name(n->mq, sizeof n->mq, "frn");
    t_track_mq(n->mq);
    mqd_t q = mq_open(n->mq, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
    T_ASSERT(q != (mqd_t)-1);
    mq_close(q);
    t_posix_name(n->sem, sizeof n->sem, "frn");
    t_track_sem(n->sem);
    sem_t *sm = sem_open(n->sem, O_CREAT | O_EXCL, 0600, 0);
    T_ASSERT(sm != SEM_FAILED);
    sem_close(sm);
    n->ring[0] = 0;
    n->msq = msgget(IPC_PRIVATE, 0600);
    T_ASSERT(n->msq >= 0);
    t_track_sysv_msq(n->msq);
    n->seg = shmget(IPC_PRIVATE, 4096, 0600);
    T_ASSERT(n->seg >= 0);
    t_track_sysv_shm(n->seg);
    n->semset = semget(IPC_PRIVATE, 1, 0600);
    T_ASSERT(n->semset >= 0);
    t_track_sysv_sem(n->semset);
}

static struct shared *S;

/* A child that creates one object of every kind into `n`, then waits to be killed. */
static pid_t spawn_creator(struct names *n, const char *tag) {
    int before = atomic_load(&S->ready);
    pid_t parent = getpid();
    pid_t p = t_fork();
    if (p == 0) {
        /* Killed with the process that made it, even when a failed assertion ends that
         * one before it kills this: a creator left pausing would keep the test's output
         * open, and ctest waiting. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        struct held h;
        make_all(n, &h, tag);
        atomic_fetch_add(&S->ready, 1);
        for (;;) pause();
    }
    wait_ready(S, before + 1);
    return p;
}

/* The name ipcx_inspect_remove takes for `x`: its name, or its id in decimal. */
static const char *ident_name(const struct ident *x, char *buf, size_t len) {
    if (x->name) return x->name;
    snprintf(buf, len, "%d", x->id);
    return buf;
}

/* Remove the objects of `n` through ipcx_inspect_remove (`flags` as given). */
static void remove_all(const struct names *n, uint32_t flags) {
    struct ident x[9];
    idents(n, x);
    for (int i = 0; i < 9; i++) {
        if (x[i].name && !x[i].name[0]) continue;
        char idbuf[32];
        const char *nm = ident_name(&x[i], idbuf, sizeof idbuf);
        ipcx_status s = ipcx_inspect_remove(x[i].kind, nm, flags);
        T_ASSERTF(s == IPCX_OK || s == IPCX_ERR_NOT_FOUND, "remove %s %s: %s",
                  ipcx_object_kind_name(x[i].kind), nm, ipcx_last_error());
    }
}

/* ---------------------------------------------------------------- records */

static void records_body(void) {
    struct names n;
    struct held h;
    make_all(&n, &h, "rec");
    /* The directory: a real directory of ours, 0700. */
    struct stat st;
    T_ASSERT(lstat(records_dir(), &st) == 0);
    T_ASSERT(S_ISDIR(st.st_mode));
    T_EQ_INT(st.st_mode & 07777, 0700);
    T_EQ_INT(st.st_uid, T_UID);
    char name[700], text[4200], want[128];
    /* Objects in /dev/shm that only their owner may write (shared memory, rings, named
     * semaphores) carry their record on the inode, with the creator and the inode. */
    T_ASSERT(t_inode_record("", n.shm, text, sizeof text));
    T_ASSERT(strncmp(text, "ipcx-record 1\nkind=posix-shm\n", 29) == 0);
    snprintf(want, sizeof want, "\nname=%s\n", n.shm);
    T_ASSERTF(strstr(text, want), "record lacks %s: %s", want, text);
    snprintf(want, sizeof want, "\npid=%d\n", (int)getpid());
    T_ASSERTF(strstr(text, want), "record lacks %s: %s", want, text);
    snprintf(want, sizeof want, "\nuid=%u\n", T_UID);
    T_ASSERT(strstr(text, want));
    char p[800];
    snprintf(p, sizeof p, "/dev/shm/%s", n.shm + 1);
    T_ASSERT(lstat(p, &st) == 0);
    snprintf(want, sizeof want, "\nino=%llu\n", (unsigned long long)st.st_ino);
    T_ASSERTF(strstr(text, want), "record lacks %s: %s", want, text);
    T_ASSERT(strstr(text, "\nstart=") && strstr(text, "\ncreated="));
    T_ASSERT(strstr(text, "\nversion="));
    snprintf(name, sizeof name, "shm.%s", n.shm + 1);
    T_ASSERT(!record_exists(name)); /* and no record file */
    T_ASSERT(t_inode_record("", n.ring, text, sizeof text) && strstr(text, "kind=ring\n"));
    snprintf(name, sizeof name, "shm.%s", n.ring + 1);
    T_ASSERT(!record_exists(name));
    T_ASSERT(t_inode_record(T_SEM_FILE_PREFIX, n.sem, text, sizeof text) &&
             strstr(text, "kind=posix-sem\n"));
    snprintf(name, sizeof name, "sem.%s", n.sem + 1);
    T_ASSERT(!record_exists(name));
    /* The others get one record file each, named by kind and identity, 0600, with the
     * creator. */
    snprintf(name, sizeof name, "mq.%s", n.mq + 1);
    T_ASSERT(record_text(name, text, sizeof text));
    T_ASSERT(strncmp(text, "ipcx-record 1\nkind=posix-mq\n", 28) == 0);
    snprintf(want, sizeof want, "\npid=%d\n", (int)getpid());
    T_ASSERTF(strstr(text, want), "record lacks %s: %s", want, text);
    snprintf(want, sizeof want, "\nuid=%u\n", T_UID);
    T_ASSERT(strstr(text, want));
    T_ASSERT(strstr(text, "\nstart=") && strstr(text, "\ncreated=") && strstr(text, "\nino="));
    snprintf(p, sizeof p, "%s/%s", records_dir(), name);
    T_ASSERT(lstat(p, &st) == 0);
    T_EQ_INT(st.st_mode & 07777, 0600);
    snprintf(name, sizeof name, "sysv-msq.%d", n.msq);
    T_ASSERT(record_text(name, text, sizeof text) && strstr(text, "kind=sysv-msq\n"));
    snprintf(name, sizeof name, "sysv-shm.%d", n.seg);
    T_ASSERT(record_exists(name));
    snprintf(name, sizeof name, "sysv-sem.%d", n.semset);
    T_ASSERT(record_exists(name));
    /* Paths are escaped: "/" becomes %2F. */
    char esc[600], *e = esc;
    for (const char *c = n.fifo; *c; c++) e += *c == '/' ? sprintf(e, "%%2F") : sprintf(e, "%c", *c);
    snprintf(name, sizeof name, "path.%s", esc);
    T_ASSERT(record_text(name, text, sizeof text) && strstr(text, "kind=fifo\n"));
    char fifo_rec[700];
    snprintf(fifo_rec, sizeof fifo_rec, "%s", name);
    e = esc;
    for (const char *c = n.sock; *c; c++) e += *c == '/' ? sprintf(e, "%%2F") : sprintf(e, "%c", *c);
    char sock_rec[700];
    snprintf(sock_rec, sizeof sock_rec, "path.%s", esc);
    T_ASSERT(record_text(sock_rec, text, sizeof text) && strstr(text, "kind=socket\n"));

    /* Removing through ipcx removes the record. */
    T_OK(ipcx_msgq_remove(h.msq));
    snprintf(name, sizeof name, "sysv-msq.%d", n.msq);
    T_ASSERT(!record_exists(name));
    T_OK(ipcx_shm_segment_remove(h.seg));
    snprintf(name, sizeof name, "sysv-shm.%d", n.seg);
    T_ASSERT(!record_exists(name));
    T_OK(ipcx_semset_remove(h.semset));
    snprintf(name, sizeof name, "sysv-sem.%d", n.semset);
    T_ASSERT(!record_exists(name));
    close_all(&h);
    T_ASSERT(!record_exists(sock_rec)); /* closing the listener removed its socket file */
    T_OK(ipcx_fifo_remove(n.fifo));
    T_ASSERT(!record_exists(fifo_rec));
    T_OK(ipcx_mq_remove(n.mq));
    snprintf(name, sizeof name, "mq.%s", n.mq + 1);
    T_ASSERT(!record_exists(name));
    /* Records on inodes go with their objects. */
    T_OK(ipcx_shm_remove(n.shm));
    T_OK(ipcx_ring_remove(n.ring));
    T_OK(ipcx_sem_remove(n.sem));
    /* Nothing is left: the directory went with its last record. */
    assert_no_records_dir();
}

T_CASE(records_follow_objects) { run_as_user(records_body); }

/* The warnings of a fresh listing (with IPCX_INSPECT_ALL), copied into `w`; whether the
 * listing flags the POSIX shared memory object `name` as ipcx's in `*flags`. */
static int list_shm(const char *name, uint32_t *flags, char *w, size_t wlen) {
    ipcx_object_list *l;
    ipcx_object_info o = {.size = sizeof o};
    T_OK(ipcx_inspect_list(NULL, 0, IPCX_INSPECT_ALL, &l));
    const char *ws;
    T_OK(ipcx_object_list_warnings(l, &ws));
    snprintf(w, wlen, "%s", ws);
    int found = find(l, IPCX_OBJECT_POSIX_SHM, name, -1, &o);
    *flags = found ? o.flags : 0;
    T_OK(ipcx_object_list_close(l));
    return found;
}

/* A record on an inode is trusted only as a record file is: the object must be the inode
 * it names, of the uid it names, and nobody but its owner may write it (or its record). An
 * object that group or others may write gets a record file instead. */
static void inode_records_body(void) {
    char a[64], b[64], c[64], g[64], pa[128], pb[128], pc[128], text[4200], w[8192];
    uint32_t flags;
    t_posix_name(a, sizeof a, "ino-a");
    t_posix_name(b, sizeof b, "ino-b");
    t_posix_name(c, sizeof c, "ino-c");
    t_posix_name(g, sizeof g, "ino-g");
    t_track_shm(a);
    t_track_shm(b);
    t_track_shm(c);
    t_track_shm(g);
    snprintf(pa, sizeof pa, "/dev/shm/%s", a + 1);
    snprintf(pb, sizeof pb, "/dev/shm/%s", b + 1);
    snprintf(pc, sizeof pc, "/dev/shm/%s", c + 1);
    ipcx_shm *s;
    T_OK(ipcx_shm_open(a, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s));
    T_OK(ipcx_shm_close(s));
    T_ASSERT(t_inode_record("", a, text, sizeof text));
    T_ASSERT(list_shm(a, &flags, w, sizeof w) && flags == IPCX_OBJECT_IPCX);

    /* A copy of the record on another object names another inode: ignored, with a warning. */
    int fd = shm_open(b, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    T_ASSERT(fsetxattr(fd, "user.ipcx.record", text, strlen(text), 0) == 0);
    close(fd);
    T_ASSERT(list_shm(b, &flags, w, sizeof w));
    T_EQ_INT(flags, 0);
    T_ASSERTF(strstr(w, pb) && strstr(w, "not trusted and was ignored: it describes another inode"),
              "%s", w);
    T_ERR(IPCX_ERR_PERMISSION, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, b, 0));
    /* Garbage. */
    fd = shm_open(c, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    T_ASSERT(fsetxattr(fd, "user.ipcx.record", "\xff garbage", 9, 0) == 0);
    close(fd);
    T_ASSERT(list_shm(c, &flags, w, sizeof w));
    T_EQ_INT(flags, 0);
    T_ASSERTF(strstr(w, pc) && strstr(w, "is not trusted and was ignored"), "%s", w);

    /* Writable by others, the genuine record is no longer trusted; private again, it is. */
    T_ASSERT(chmod(pa, 0666) == 0);
    T_ASSERT(list_shm(a, &flags, w, sizeof w));
    T_EQ_INT(flags, 0);
    T_ASSERTF(strstr(w, pa) && strstr(w, "mode 0666: group or others may write it"), "%s", w);
    T_ERR(IPCX_ERR_PERMISSION, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, a, 0));
    T_ASSERT(chmod(pa, 0600) == 0);
    T_ASSERT(list_shm(a, &flags, w, sizeof w) && flags == IPCX_OBJECT_IPCX);
    T_OK(ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, a, 0));
    T_ASSERT(access(pa, F_OK) != 0);

    /* Created for its group to write: a record file, recognised the same way. */
    t_shm_create_mode(g, 0660);
    T_ASSERT(!t_inode_record("", g, text, sizeof text));
    char name[128];
    snprintf(name, sizeof name, "shm.%s", g + 1);
    T_ASSERT(record_text(name, text, sizeof text) && strstr(text, "kind=posix-shm\n"));
    T_ASSERT(list_shm(g, &flags, w, sizeof w) && flags == IPCX_OBJECT_IPCX);
    T_OK(ipcx_shm_remove(g));
    T_ASSERT(!record_exists(name));

    T_ASSERT(shm_unlink(b) == 0 && shm_unlink(c) == 0);
    assert_no_records_dir();
}

T_CASE(inode_records_are_checked) { run_as_user(inode_records_body); }

/* The creator's pid in a record is the creating process's even when its parent wrote a
 * record before forking (the pid is cached in a page that fork wipes): a record on the
 * inode (POSIX shared memory) and a record file (System V queue), in parent and child. */
static void fork_pid_body(void) {
    char pa[64], ch[64];
    t_track_shm(t_posix_name(pa, sizeof pa, "forkpid-p"));
    t_track_shm(t_posix_name(ch, sizeof ch, "forkpid-c"));
    ipcx_shm *s;
    ipcx_msgq *q;
    T_OK(ipcx_shm_open(pa, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s));
    T_OK(ipcx_shm_close(s));
    T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q));
    int32_t pq = -1, cq = -1;
    T_OK(ipcx_msgq_id(q, &pq));
    t_track_sysv_msq(pq);
    int ids[2];
    T_ASSERT(pipe2(ids, O_CLOEXEC) == 0);
    pid_t c = t_fork();
    if (c == 0) {
        close(ids[0]);
        ipcx_shm *cs;
        ipcx_msgq *cm;
        T_OK(ipcx_shm_open(ch, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &cs));
        T_OK(ipcx_shm_close(cs));
        T_OK(ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &cm));
        int32_t id = -1;
        T_OK(ipcx_msgq_id(cm, &id));
        t_track_sysv_msq(id);
        T_ASSERT(write(ids[1], &id, sizeof id) == (ssize_t)sizeof id);
        T_OK(ipcx_msgq_close(cm));
        _exit(0);
    }
    close(ids[1]);
    T_ASSERT(read(ids[0], &cq, sizeof cq) == (ssize_t)sizeof cq);
    close(ids[0]);
    t_wait_ok(c, 20000);
    ipcx_object_list *l;
    T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
    ipcx_object_info o = {.size = sizeof o};
    T_ASSERT(find(l, IPCX_OBJECT_POSIX_SHM, pa, -1, &o));
    T_EQ_INT(o.creator_pid, getpid());
    T_ASSERT(find(l, IPCX_OBJECT_POSIX_SHM, ch, -1, &o));
    T_EQ_INT(o.creator_pid, c);
    T_ASSERT(find(l, IPCX_OBJECT_SYSV_MSQ, NULL, pq, &o));
    T_EQ_INT(o.creator_pid, getpid());
    T_ASSERT(find(l, IPCX_OBJECT_SYSV_MSQ, NULL, cq, &o));
    T_EQ_INT(o.creator_pid, c);
    T_OK(ipcx_object_list_close(l));
    T_OK(ipcx_shm_remove(pa));
    T_OK(ipcx_shm_remove(ch));
    T_OK(ipcx_msgq_remove(q));
    T_OK(ipcx_msgq_close(q));
    ipcx_msgq *cm;
    T_OK(ipcx_msgq_open_id(cq, &cm));
    T_OK(ipcx_msgq_remove(cm));
    T_OK(ipcx_msgq_close(cm));
    assert_no_records_dir();
}
T_CASE(records_name_the_creator_after_fork) { run_as_user(fork_pid_body); }

/* ---------------------------------------------------------------- listing */

static void list_body(void) {
    struct names n, f;
    struct held h;
    make_all(&n, &h, "lst");
    make_foreign(&f);
    ipcx_object_list *l = NULL;
    T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
    T_ASSERT(l != NULL);
    struct ident ids[9];
    idents(&n, ids);
    for (int i = 0; i < 9; i++) {
        ipcx_object_info o = {.size = sizeof o};
        T_ASSERTF(find(l, ids[i].kind, ids[i].name, ids[i].id, &o), "%s %s %d not listed",
                  ipcx_object_kind_name(ids[i].kind), ids[i].name ? ids[i].name : "", ids[i].id);
        T_ASSERTF(o.flags == IPCX_OBJECT_IPCX, "%s flags %u", ipcx_object_kind_name(o.kind), o.flags);
        T_EQ_INT(o.uid, T_UID);
        T_EQ_INT(o.mode, 0600);
        T_EQ_INT(o.creator_pid, getpid());
        T_EQ_INT(o.creator_alive, 1);
        T_ASSERTF(o.created > 0 && o.age >= 0 && o.age < 600, "created %lld age %lld",
                  (long long)o.created, (long long)o.age);
        /* Attached: the creator has each open or mapped; nobody has opened the FIFO. */
        T_ASSERTF(o.attached == (o.kind != IPCX_OBJECT_FIFO), "%s attached %lld",
                  ipcx_object_kind_name(o.kind), (long long)o.attached);
        if (ids[i].name) {
            T_EQ_INT(o.id, -1);
        } else {
            T_EQ_INT(o.id, ids[i].id);
            T_EQ_INT(o.key, 0);
            T_EQ_INT(o.name[0], 0);
        }
        switch (o.kind) {
        case IPCX_OBJECT_POSIX_SHM: T_EQ_INT(o.bytes, 8192); break;
        case IPCX_OBJECT_RING: T_ASSERT(o.bytes >= IPCX_RING_MIN_CAPACITY); break;
        case IPCX_OBJECT_SYSV_SHM: T_EQ_INT(o.bytes, 4096); break;
        case IPCX_OBJECT_SYSV_MSQ:
            T_EQ_INT(o.depth, 2);
            T_EQ_INT(o.bytes, 20);
            T_EQ_INT(o.last_pid, getpid());
            break;
        case IPCX_OBJECT_SYSV_SEM: T_EQ_INT(o.depth, 3); break;
        case IPCX_OBJECT_POSIX_MQ: T_EQ_INT(o.depth, 1); break;
        case IPCX_OBJECT_SOCKET: T_EQ_INT(o.attached, 1); break;
        default: break;
        }
    }
    /* Other programs' objects are not listed without IPCX_INSPECT_ALL... */
    ipcx_object_info o = {.size = sizeof o};
    T_ASSERT(!find(l, IPCX_OBJECT_POSIX_SHM, f.shm, -1, &o));
    T_ASSERT(!find(l, IPCX_OBJECT_SYSV_MSQ, NULL, f.msq, &o));
    T_OK(ipcx_object_list_close(l));
    /* ...and are, unmarked, with it (FIFOs and sockets only under a --dir). */
    const char *dirs[] = {"/tmp"};
    T_OK(ipcx_inspect_list(dirs, 1, IPCX_INSPECT_ALL, &l));
    struct ident fids[9];
    idents(&f, fids);
    for (int i = 0; i < 9; i++) {
        if (fids[i].kind == IPCX_OBJECT_RING) continue;
        if (fids[i].kind == IPCX_OBJECT_POSIX_MQ) continue; /* /dev/mqueue is not mounted */
#ifndef __GLIBC__
        /* musl names a semaphore's file like a shared memory object's: without a record it
         * is listed as one. */
        if (fids[i].kind == IPCX_OBJECT_POSIX_SEM) fids[i].kind = IPCX_OBJECT_POSIX_SHM;
#endif
        T_ASSERTF(find(l, fids[i].kind, fids[i].name, fids[i].id, &o), "foreign %s not listed",
                  ipcx_object_kind_name(fids[i].kind));
        T_EQ_INT(o.flags, 0);
        T_EQ_INT(o.uid, T_UID);
        if (o.kind != IPCX_OBJECT_SOCKET) T_EQ_INT(o.mode, 0600); /* bind applies the umask */
    }
    /* Ours are still marked, once each. */
    T_ASSERT(find(l, IPCX_OBJECT_FIFO, n.fifo, -1, &o) && o.flags == IPCX_OBJECT_IPCX);
    T_ASSERT(find(l, IPCX_OBJECT_RING, n.ring, -1, &o) && o.flags == IPCX_OBJECT_IPCX);
    T_ASSERT(!find(l, IPCX_OBJECT_POSIX_SHM, n.ring, -1, &o));
    const char *w = NULL;
    T_OK(ipcx_object_list_warnings(l, &w));
    T_ASSERT(w != NULL);
    T_OK(ipcx_object_list_close(l));
    /* A name that is not UTF-8 cannot be listed: a warning names it instead. */
    char bad[64];
    t_posix_name(bad, sizeof bad, "utf");
    strcat(bad, "\xff");
    t_track_shm(bad);
    int bfd = shm_open(bad, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(bfd >= 0);
    close(bfd);
    T_OK(ipcx_inspect_list(NULL, 0, IPCX_INSPECT_ALL, &l));
    T_OK(ipcx_object_list_warnings(l, &w));
    T_ASSERTF(strstr(w, "not valid UTF-8") && strstr(w, bad + 1 /* up to the bad byte */ ) == NULL,
              "%s", w);
    T_OK(ipcx_object_list_close(l));
    T_ASSERT(shm_unlink(bad) == 0);
    close_all(&h);
    remove_all(&n, 0);
    remove_all(&f, IPCX_INSPECT_FOREIGN);
}

T_CASE(list_finds_every_kind) { run_as_user(list_body); }

/* ---------------------------------------------------------------- staleness */

static void stale_body(void) {
    S = shared_map();
    /* A creator that is SIGKILLed holding every kind... */
    pid_t dead = spawn_creator(&S->dead, "dead");
    /* ...a creator that stays alive... */
    int gate[2];
    T_ASSERT(pipe2(gate, O_CLOEXEC) == 0);
    pid_t live = t_fork();
    if (live == 0) {
        close(gate[1]);
        struct held h;
        make_all(&S->live, &h, "live");
        atomic_fetch_add(&S->ready, 1);
        char c;
        (void)read(gate[0], &c, 1); /* until the parent closes the gate */
        close_all(&h);
        _exit(0);
    }
    close(gate[0]);
    /* ...and other programs' objects, whose creator exited. */
    pid_t frn = t_fork();
    if (frn == 0) {
        make_foreign(&S->foreign);
        _exit(0);
    }
    wait_ready(S, 2);
    t_wait_ok(frn, 20000);
    /* Someone alive keeps one of the dead creator's objects open and mapped: it is in use,
     * so it is not stale. */
    ipcx_shm *held_shm;
    ipcx_region *held_map;
    T_OK(ipcx_shm_open(S->dead.shm, 0, NULL, &held_shm));
    T_OK(ipcx_shm_map(held_shm, 0, &held_map));
    T_ASSERT(kill(dead, SIGKILL) == 0);
    int st = t_wait(dead, 20000);
    T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    struct ident d[9], lv[9], fr[9];
    idents(&S->dead, d);
    idents(&S->live, lv);
    idents(&S->foreign, fr);

    /* The listing marks the dead creator's objects stale, except the one in use. */
    ipcx_object_list *l;
    ipcx_object_info o = {.size = sizeof o};
    T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
    for (int i = 0; i < 9; i++) {
        T_ASSERTF(find(l, d[i].kind, d[i].name, d[i].id, &o), "%s not listed",
                  ipcx_object_kind_name(d[i].kind));
        T_EQ_INT(o.creator_pid, dead);
        T_EQ_INT(o.creator_alive, 0);
        if (d[i].kind == IPCX_OBJECT_POSIX_SHM) {
            T_ASSERTF(o.attached >= 1 && !(o.flags & IPCX_OBJECT_STALE), "held shm: att %lld flags %u",
                      (long long)o.attached, o.flags);
        } else {
            T_ASSERTF(o.flags == (IPCX_OBJECT_IPCX | IPCX_OBJECT_STALE), "%s flags %u attached %lld",
                      ipcx_object_kind_name(o.kind), o.flags, (long long)o.attached);
            T_EQ_INT(o.attached, 0);
        }
        T_ASSERT(find(l, lv[i].kind, lv[i].name, lv[i].id, &o));
        T_EQ_INT(o.flags, IPCX_OBJECT_IPCX);
        T_EQ_INT(o.creator_alive, 1);
    }
    T_OK(ipcx_object_list_close(l));

    /* Dry run: exactly the eight stale objects, nothing removed. */
    T_OK(ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_DRY_RUN, &l));
    size_t cnt;
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 8);
    for (int i = 0; i < 9; i++) {
        int want = d[i].kind != IPCX_OBJECT_POSIX_SHM;
        T_EQ_INT(find(l, d[i].kind, d[i].name, d[i].id, &o), want);
        if (want) T_EQ_INT(o.flags, IPCX_OBJECT_IPCX | IPCX_OBJECT_STALE);
        T_ASSERT(exists(&d[i]));
    }
    T_OK(ipcx_object_list_close(l));

    /* Clean: exactly those are removed, with their records. */
    T_OK(ipcx_inspect_clean(NULL, 0, 0, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 8);
    const char *w;
    T_OK(ipcx_object_list_warnings(l, &w));
    T_ASSERTF(w[0] == 0, "warnings: %s", w);
    for (int i = 0; i < 9; i++) {
        int want = d[i].kind != IPCX_OBJECT_POSIX_SHM;
        T_EQ_INT(find(l, d[i].kind, d[i].name, d[i].id, &o), want);
        if (want) T_EQ_INT(o.flags, IPCX_OBJECT_IPCX | IPCX_OBJECT_STALE | IPCX_OBJECT_REMOVED);
        T_EQ_INT(exists(&d[i]), !want);
        T_ASSERT(exists(&lv[i]));
        if (fr[i].kind != IPCX_OBJECT_RING) T_ASSERT(exists(&fr[i]));
    }
    T_OK(ipcx_object_list_close(l));
    char name[64];
    snprintf(name, sizeof name, "sysv-msq.%d", S->dead.msq);
    T_ASSERT(!record_exists(name));
    snprintf(name, sizeof name, "mq.%s", S->dead.mq + 1);
    T_ASSERT(!record_exists(name));
    char text[4200];
    T_ASSERT(t_inode_record("", S->dead.shm, text, sizeof text)); /* in use: kept */

    /* Once released, it is stale too; a second clean removes only it. */
    T_OK(ipcx_region_close(held_map));
    T_OK(ipcx_shm_close(held_shm));
    T_OK(ipcx_inspect_clean(NULL, 0, 0, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 1);
    T_ASSERT(find(l, IPCX_OBJECT_POSIX_SHM, S->dead.shm, -1, &o));
    T_ASSERT(o.flags & IPCX_OBJECT_REMOVED);
    T_OK(ipcx_object_list_close(l));
    T_ASSERT(!exists(&d[2]));

    /* Nothing else is stale; the live creator's objects are still there. */
    T_OK(ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_DRY_RUN, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 0);
    T_OK(ipcx_object_list_close(l));
    close(gate[1]);
    t_wait_ok(live, 20000);
    /* The live creator exited without removing its objects (closing its listener removed
     * the socket file): now they are stale. */
    T_OK(ipcx_inspect_clean(NULL, 0, 0, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 8);
    T_OK(ipcx_object_list_close(l));
    for (int i = 0; i < 9; i++) T_ASSERT(!exists(&lv[i]));
    /* The foreign objects remain: remove them explicitly (and untrack-free). */
    for (int i = 0; i < 9; i++) {
        if (fr[i].kind == IPCX_OBJECT_RING) continue;
        T_ASSERT(exists(&fr[i]));
        char idbuf[32];
        const char *nm = ident_name(&fr[i], idbuf, sizeof idbuf);
        T_OK(ipcx_inspect_remove(fr[i].kind, nm, IPCX_INSPECT_FOREIGN));
        T_ASSERT(!exists(&fr[i]));
    }
    munmap(S, sizeof *S);
}

T_CASE(sigkilled_creator_is_stale_and_cleaned) { run_as_user(stale_body); }

/* A stale ring that a peer truncated to 0 bytes: listed as ipcx and stale (its record
 * names this very object), and clean really removes it, with its record; a removal by
 * name does the same. */
static void truncated_ring_body(void) {
    char n[2][64];
    for (int k = 0; k < 2; k++) {
        t_posix_name(n[k], sizeof n[k], k ? "trunc-rm" : "trunc-clean");
        t_track_shm(n[k]);
        pid_t c = t_fork();
        if (c == 0) {
            ipcx_ring *r;
            T_OK(ipcx_ring_open(n[k], IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
                                NULL, &r));
            _exit(0); /* the creator is gone without removing it */
        }
        t_wait_ok(c, 20000);
        int fd = shm_open(n[k], O_RDWR, 0);
        T_ASSERT(fd >= 0);
        T_ASSERT(ftruncate(fd, 0) == 0);
        close(fd);
    }
    ipcx_object_list *l;
    ipcx_object_info o = {.size = sizeof o};
    size_t cnt;
    T_OK(ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_DRY_RUN, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 2);
    T_ASSERT(find(l, IPCX_OBJECT_RING, n[0], -1, &o));
    T_EQ_INT(o.flags, IPCX_OBJECT_IPCX | IPCX_OBJECT_STALE);
    T_OK(ipcx_object_list_close(l));

    T_OK(ipcx_inspect_remove(IPCX_OBJECT_RING, n[1], 0));
    T_ASSERT(shm_open(n[1], O_RDONLY, 0) < 0 && errno == ENOENT);

    T_OK(ipcx_inspect_clean(NULL, 0, 0, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 1);
    const char *w;
    T_OK(ipcx_object_list_warnings(l, &w));
    T_ASSERTF(w[0] == 0, "warnings: %s", w);
    T_ASSERT(find(l, IPCX_OBJECT_RING, n[0], -1, &o));
    T_EQ_INT(o.flags, IPCX_OBJECT_IPCX | IPCX_OBJECT_STALE | IPCX_OBJECT_REMOVED);
    T_OK(ipcx_object_list_close(l));
    T_ASSERT(shm_open(n[0], O_RDONLY, 0) < 0 && errno == ENOENT);
}

T_CASE(truncated_stale_ring_is_removed) { run_as_user(truncated_ring_body); }

/* Only the given directories' FIFOs and sockets are cleaned when directories are given. */
static void clean_dirs_body(void) {
    S = shared_map();
    char dir[200];
    t_path(dir, sizeof dir, "dir");
    T_ASSERT(mkdir(dir, 0700) == 0);
    pid_t c = t_fork();
    if (c == 0) {
        snprintf(S->dead.fifo, sizeof S->dead.fifo, "%s/in.fifo", dir);
        t_track_path(S->dead.fifo);
        T_OK(ipcx_fifo_make(S->dead.fifo, NULL));
        t_path(S->dead.sock, sizeof S->dead.sock, "out-fifo");
        T_OK(ipcx_fifo_make(S->dead.sock, NULL));
        _exit(0);
    }
    t_wait_ok(c, 20000);
    const char *dirs[] = {dir};
    ipcx_object_list *l;
    ipcx_object_info o = {.size = sizeof o};
    size_t cnt;
    T_OK(ipcx_inspect_clean(dirs, 1, 0, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 1);
    T_ASSERT(find(l, IPCX_OBJECT_FIFO, S->dead.fifo, -1, &o) && (o.flags & IPCX_OBJECT_REMOVED));
    T_OK(ipcx_object_list_close(l));
    struct stat st;
    T_ASSERT(lstat(S->dead.fifo, &st) < 0 && errno == ENOENT);
    T_ASSERT(lstat(S->dead.sock, &st) == 0);
    T_OK(ipcx_inspect_clean(NULL, 0, 0, &l));
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 1);
    T_OK(ipcx_object_list_close(l));
    T_ASSERT(lstat(S->dead.sock, &st) < 0 && errno == ENOENT);
    T_ASSERT(rmdir(dir) == 0);
    munmap(S, sizeof *S);
}

T_CASE(clean_limited_to_dirs) { run_as_user(clean_dirs_body); }

/* ---------------------------------------------------------------- removal */

static void remove_body(void) {
    struct names f;
    make_foreign(&f);
    struct ident fr[9];
    idents(&f, fr);
    for (int i = 0; i < 9; i++) {
        if (fr[i].kind == IPCX_OBJECT_RING) continue;
        char idbuf[32];
        const char *nm = ident_name(&fr[i], idbuf, sizeof idbuf);
        /* Not ipcx's: refused without the flag, the object untouched. */
        T_ERR(IPCX_ERR_PERMISSION, ipcx_inspect_remove(fr[i].kind, nm, 0));
        T_LAST_ERROR_HAS("not created by ipcx");
        T_ASSERT(exists(&fr[i]));
        T_OK(ipcx_inspect_remove(fr[i].kind, nm, IPCX_INSPECT_FOREIGN));
        T_ASSERT(!exists(&fr[i]));
        T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_remove(fr[i].kind, nm, IPCX_INSPECT_FOREIGN));
        T_LAST_ERROR_HAS("does not exist");
    }
    /* ipcx's own objects go without the flag, with their records. */
    struct names n;
    struct held h;
    make_all(&n, &h, "rm");
    struct ident ids[9];
    idents(&n, ids);
    for (int i = 0; i < 9; i++) {
        char idbuf[32];
        const char *nm = ident_name(&ids[i], idbuf, sizeof idbuf);
        T_OK(ipcx_inspect_remove(ids[i].kind, nm, 0));
        T_ASSERTF(!exists(&ids[i]), "%s %s still exists", ipcx_object_kind_name(ids[i].kind), nm);
    }
    close_all(&h);
    assert_no_records_dir();

    /* A regular file is never removed as a FIFO or a socket, even with the flag. */
    char reg[256];
    t_path(reg, sizeof reg, "regular");
    int fd = open(reg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    close(fd);
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_FIFO, reg, IPCX_INSPECT_FOREIGN));
    T_LAST_ERROR_HAS("is not a FIFO");
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_SOCKET, reg, IPCX_INSPECT_FOREIGN));
    struct stat st;
    T_ASSERT(lstat(reg, &st) == 0);
    T_ASSERT(unlink(reg) == 0);

    /* An ipcx POSIX shared-memory object named as a ring: the answer names its kind. */
    {
        char sn[64];
        ipcx_shm *so;
        t_posix_name(sn, sizeof sn, "notring");
        t_track_shm(sn);
        T_OK(ipcx_shm_open(sn, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &so));
        T_OK(ipcx_shm_close(so));
        T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_RING, sn, 0));
        T_LAST_ERROR_HAS("as a posix-shm object, not a ring");
        T_OK(ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, sn, 0));
    }

    /* A record does not make a look-alike ipcx's: an object removed behind ipcx's back and
     * re-created by another program under the same name is a different inode. */
    char nm[64];
    t_posix_name(nm, sizeof nm, "lookalike");
    t_track_shm(nm);
    t_shm_create_mode(nm, 0660); /* its group may write it: the record is a file */
    T_ASSERT(shm_unlink(nm) == 0);
    fd = shm_open(nm, O_RDWR | O_CREAT | O_EXCL, 0600);
    T_ASSERT(fd >= 0);
    close(fd);
    ipcx_object_list *l;
    ipcx_object_info o = {.size = sizeof o};
    T_OK(ipcx_inspect_list(NULL, 0, IPCX_INSPECT_ALL, &l));
    T_ASSERT(find(l, IPCX_OBJECT_POSIX_SHM, nm, -1, &o));
    T_EQ_INT(o.flags, 0); /* the object: foreign */
    T_OK(ipcx_object_list_close(l));
    T_ERR(IPCX_ERR_PERMISSION, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, nm, 0));
    /* The stale record is reported as vanished, and clean forgets only it. */
    T_OK(ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_RECORDS_ONLY, &l));
    size_t cnt;
    T_OK(ipcx_object_list_count(l, &cnt));
    T_EQ_INT(cnt, 1);
    T_OK(ipcx_object_list_get(l, 0, &o));
    T_EQ_INT(o.flags, IPCX_OBJECT_VANISHED | IPCX_OBJECT_REMOVED);
    T_EQ_INT(strcmp(o.name, nm), 0);
    T_OK(ipcx_object_list_close(l));
    T_ASSERT(shm_unlink(nm) == 0);
}

T_CASE(remove_one_object_foreign_only_on_request) { run_as_user(remove_body); }

/* ---------------------------------------------------------------- the list handle */

/* A list is a thread-safe handle: threads read it at once (never IPCX_ERR_IN_USE). The
 * names in ipcx_object_info point into the list: the same string on every get, whole
 * (a ring name of IPCX_RING_NAME_MAX bytes), valid until the list is closed. */
struct reader {
    const ipcx_object_list *l;
    const char *want;
    int bad;
};

static void *read_list(void *arg) {
    struct reader *r = arg;
    for (int round = 0; round < 2000; round++) {
        size_t n = 0;
        if (ipcx_object_list_count(r->l, &n) != IPCX_OK) r->bad++;
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
            ipcx_object_info o = {.size = sizeof o};
            if (ipcx_object_list_get(r->l, i, &o) != IPCX_OK) r->bad++;
            else if (strcmp(o.name, r->want) == 0) seen++;
        }
        const char *w = NULL;
        if (ipcx_object_list_warnings(r->l, &w) != IPCX_OK || !w) r->bad++;
        if (seen != 1) r->bad++;
    }
    return NULL;
}

static void list_threads_body(void) {
    char base[128], name[IPCX_RING_NAME_MAX + 1];
    t_posix_name(base, sizeof base, "lt-");
    snprintf(name, sizeof name, "%s", base);
    memset(name + strlen(name), 'n', IPCX_RING_NAME_MAX - strlen(name));
    name[IPCX_RING_NAME_MAX] = 0;
    t_track_shm(name);
    ipcx_ring *r;
    T_OK(ipcx_ring_open(name, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &r));
    ipcx_object_list *l;
    T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
    ipcx_object_info a = {.size = sizeof a}, b = {.size = sizeof b};
    T_ASSERT(find(l, IPCX_OBJECT_RING, name, -1, &a));
    T_EQ_INT(strlen(a.name), IPCX_RING_NAME_MAX);
    T_ASSERT(find(l, IPCX_OBJECT_RING, name, -1, &b));
    T_ASSERT(a.name == b.name); /* owned by the list, not copied */
    struct reader rd[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        rd[i] = (struct reader){l, name, 0};
        T_ASSERT(pthread_create(&th[i], NULL, read_list, &rd[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        T_ASSERT(pthread_join(th[i], NULL) == 0);
        T_EQ_INT(rd[i].bad, 0);
    }
    T_OK(ipcx_object_list_close(l));
    T_OK(ipcx_ring_close(r));
    /* The tool's removal takes ring names as long as the ring does. */
    T_OK(ipcx_inspect_remove(IPCX_OBJECT_RING, name, 0));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_ring_open(name, IPCX_OPEN_READ, NULL, &r));
    char toolong[IPCX_RING_NAME_MAX + 2];
    snprintf(toolong, sizeof toolong, "%sx", name);
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_RING, toolong, IPCX_INSPECT_FOREIGN));
}

T_CASE(list_is_thread_safe_and_owns_names) { run_as_user(list_threads_body); }

/* ---------------------------------------------------------------- bad input */

T_CASE(bad_input) {
    ipcx_object_list *l = (ipcx_object_list *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(NULL, 0, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(NULL, 0, 0x100, &l));
    T_ASSERT(l == NULL);
    T_LAST_ERROR_HAS("IPCX_INSPECT_ALL");
    /* Each function takes its own flags only. */
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(NULL, 0, IPCX_INSPECT_DRY_RUN, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(NULL, 0, IPCX_INSPECT_FOREIGN, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(NULL, 0, IPCX_OPEN_CREATE, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_ALL, &l));
    T_LAST_ERROR_HAS("IPCX_INSPECT_DRY_RUN and IPCX_INSPECT_RECORDS_ONLY");
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_FOREIGN | IPCX_INSPECT_DRY_RUN, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, "/ipcx-no-such", IPCX_INSPECT_ALL));
    T_LAST_ERROR_HAS("IPCX_INSPECT_FOREIGN");
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, "/ipcx-no-such", IPCX_INSPECT_DRY_RUN));
    l = (ipcx_object_list *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(NULL, 2, 0, &l));
    T_ASSERT(l == NULL);
    const char *many[65];
    for (int i = 0; i < 65; i++) many[i] = "/tmp";
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(many, 65, 0, &l));
    T_LAST_ERROR_HAS("64");
    const char *nodir[] = {"/nonexistent-ipcx-dir"};
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_list(nodir, 1, 0, &l));
    const char *file[] = {"/proc/self/stat"};
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(file, 1, 0, &l));
    T_LAST_ERROR_HAS("not a directory");
    const char *nul[] = {NULL};
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(nul, 1, 0, &l));
    const char *empty[] = {""};
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_list(empty, 1, 0, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_clean(NULL, 0, 0, NULL));
    l = (ipcx_object_list *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_clean(NULL, 0, 4, &l));
    T_ASSERT(l == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_clean(many, 65, IPCX_INSPECT_DRY_RUN, &l));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_clean(nodir, 1, IPCX_INSPECT_DRY_RUN, &l));

    /* Accessors. */
    T_OK(ipcx_inspect_list(NULL, 0, 0, &l));
    size_t n = 99;
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_count(NULL, &n));
    T_EQ_INT(n, 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_count(l, NULL));
    T_OK(ipcx_object_list_count(l, &n));
    ipcx_object_info o;
    memset(&o, 0x55, sizeof o);
    o.size = sizeof o;
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_get(l, n, &o));
    T_LAST_ERROR_HAS("out of range");
    T_EQ_INT(o.size, sizeof o);
    T_EQ_INT(o.kind, 0);
    T_ASSERT(o.name != NULL);
    T_EQ_INT(o.name[0], 0);
    T_EQ_INT(o.id, -1);
    T_EQ_INT(o.depth, -1);
    /* The size field: unset or below the 0.2 size is refused, and nothing is written. */
    memset(&o, 0x55, sizeof o);
    o.size = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_get(l, 0, &o));
    T_LAST_ERROR_HAS("out_info->size is 0");
    T_EQ_INT(o.size, 0);
    T_EQ_INT(o.kind, 0x55555555);
    o.size = sizeof o - 1;
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_get(l, 0, &o));
    o.size = sizeof o;
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_get(l, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_get(NULL, 0, &o));
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_get(l, (size_t)-1, &o));
    const char *w = "x";
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_warnings(NULL, &w));
    T_ASSERT(w == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_object_list_warnings(l, NULL));
    T_OK(ipcx_object_list_close(l));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_object_list_close(l));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_object_list_count(l, &n));
    o.kind = 9;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_object_list_get(l, 0, &o));
    T_EQ_INT(o.kind, 0);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_object_list_warnings(l, &w));
    T_OK(ipcx_object_list_close(NULL));

    /* Kind names. */
    static const char *names[] = {"sysv-msq", "sysv-shm", "sysv-sem", "posix-shm", "posix-mq",
                                  "posix-sem", "fifo", "socket", "ring"};
    for (uint32_t k = 1; k <= 9; k++) {
        T_EQ_INT(strcmp(ipcx_object_kind_name(k), names[k - 1]), 0);
        uint32_t back = 0;
        T_OK(ipcx_object_kind_from_name(names[k - 1], &back));
        T_EQ_INT(back, k);
    }
    T_EQ_INT(strcmp(ipcx_object_kind_name(0), "unknown"), 0);
    T_EQ_INT(strcmp(ipcx_object_kind_name(10), "unknown"), 0);
    uint32_t k = 7;
    T_ERR(IPCX_ERR_INVALID, ipcx_object_kind_from_name("nope", &k));
    T_EQ_INT(k, 0);
    T_LAST_ERROR_HAS("kinds: sysv-msq");
    T_ERR(IPCX_ERR_INVALID, ipcx_object_kind_from_name(NULL, &k));
    T_ERR(IPCX_ERR_INVALID, ipcx_object_kind_from_name("fifo", NULL));

    /* Removal arguments. */
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(0, "/x", 0));
    T_LAST_ERROR_HAS("unknown object kind");
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(10, "/x", 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, "/x", 2));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, "noslash", 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, "/a/b", 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_SYSV_SHM, "abc", 0));
    T_LAST_ERROR_HAS("named by their id");
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_SYSV_MSQ, "-1", IPCX_INSPECT_FOREIGN));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_FIFO, "relative/path", 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_inspect_remove(IPCX_OBJECT_FIFO, "", 0));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_remove(IPCX_OBJECT_POSIX_SEM, "/ipcx-no-such-sem", 0));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_inspect_remove(IPCX_OBJECT_SYSV_SEM, "2147483647", 0));
}

/* ---------------------------------------------------------------- the tool */

/* Run the tool (as the current user) with stdout and stderr into `out`; its exit status. */
static int run_cli(const char *out, char *const argv[]) {
    pid_t p = t_fork();
    if (p == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = t_wait(p, 30000);
    T_ASSERT(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static char *slurp(const char *path) {
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    T_ASSERT(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static void json_valid(const char *path) {
    char *argv[] = {"/usr/bin/python3", "-m", "json.tool", (char *)path, NULL};
    char out[256];
    t_path(out, sizeof out, "json-check");
    T_EQ_INT(run_cli(out, argv), 0);
    unlink(out);
}

#define CLI(...) ((char *[]){IPCX_CLI_PATH, __VA_ARGS__, NULL})

static void cli_body(void) {
    char out[256];
    t_path(out, sizeof out, "cli-out");
    T_EQ_INT(run_cli(out, CLI("--help")), 0);
    T_ASSERT(strstr(slurp(out), "usage: ipcx list"));
    T_EQ_INT(run_cli(out, CLI("--version")), 0);
    T_ASSERT(strstr(slurp(out), ipcx_version()));
    T_EQ_INT(run_cli(out, ((char *[]){IPCX_CLI_PATH, NULL})), 2);
    T_EQ_INT(run_cli(out, CLI("frobnicate")), 2);
    T_EQ_INT(run_cli(out, CLI("list", "--bogus")), 2);
    T_EQ_INT(run_cli(out, CLI("list", "--dir")), 2);
    T_EQ_INT(run_cli(out, CLI("list", "--dir", "/nonexistent-ipcx-dir")), 4);
    T_EQ_INT(run_cli(out, CLI("clean", "--all")), 2);
    T_EQ_INT(run_cli(out, CLI("rm", "posix-shm")), 2);
    T_EQ_INT(run_cli(out, CLI("rm", "nokind", "/x")), 2);
    T_ASSERT(strstr(slurp(out), "unknown object kind"));
    T_EQ_INT(run_cli(out, CLI("rm", "sysv-shm", "abc")), 2);
    T_EQ_INT(run_cli(out, CLI("rm", "posix-shm", "/ipcx-no-such-object")), 4);

    /* Empty: a message, valid JSON. */
    T_EQ_INT(run_cli(out, CLI("list")), 0);
    T_ASSERT(strstr(slurp(out), "no ipcx IPC objects found"));

    /* A creator killed with its objects; a foreign object. */
    S = shared_map();
    pid_t dead = spawn_creator(&S->dead, "cli");
    T_ASSERT(kill(dead, SIGKILL) == 0);
    t_wait(dead, 20000);
    char frn[64];
    t_posix_name(frn, sizeof frn, "cli-frn");
    t_track_shm(frn);
    int fd = shm_open(frn, O_RDWR | O_CREAT | O_EXCL, 0600);
    T_ASSERT(fd >= 0);
    close(fd);

    T_EQ_INT(run_cli(out, CLI("list")), 0);
    char *t = slurp(out);
    T_ASSERT(strstr(t, "TYPE") && strstr(t, "STATE"));
    T_ASSERTF(strstr(t, S->dead.shm) && strstr(t, "ipcx,stale"), "%s", t);
    T_ASSERT(!strstr(t, frn));
    T_EQ_INT(run_cli(out, CLI("list", "--all", "--dir", "/tmp")), 0);
    t = slurp(out);
    T_ASSERT(strstr(t, frn) && strstr(t, "foreign"));
    T_EQ_INT(run_cli(out, CLI("list", "--all", "--json", "--dir", "/tmp")), 0);
    t = slurp(out);
    T_ASSERT(strstr(t, "\"objects\"") && strstr(t, "\"stale\": true"));
    json_valid(out);

    T_EQ_INT(run_cli(out, CLI("clean", "--dry-run")), 0);
    t = slurp(out);
    T_ASSERTF(strstr(t, "9 object(s) would be removed"), "%s", t);
    T_ASSERT(exists(&(struct ident){IPCX_OBJECT_POSIX_SHM, S->dead.shm, -1}));
    T_EQ_INT(run_cli(out, CLI("clean", "--dry-run", "--json")), 0);
    json_valid(out);

    /* rm: foreign refused (3), then allowed with --foreign. */
    T_EQ_INT(run_cli(out, CLI("rm", "posix-shm", frn)), 3);
    T_ASSERT(strstr(slurp(out), "--foreign"));
    T_EQ_INT(run_cli(out, CLI("rm", "posix-shm", frn, "--foreign")), 0);
    T_ASSERT(!exists(&(struct ident){IPCX_OBJECT_POSIX_SHM, frn, -1}));
    /* rm of an ipcx object by id. */
    char id[32];
    snprintf(id, sizeof id, "%d", S->dead.msq);
    T_EQ_INT(run_cli(out, CLI("rm", "sysv-msq", id)), 0);
    T_ASSERT(strstr(slurp(out), "removed sysv-msq"));

    T_EQ_INT(run_cli(out, CLI("clean", "--json")), 0);
    t = slurp(out);
    T_ASSERT(strstr(t, "\"removed\": true"));
    json_valid(out);
    T_ASSERT(!exists(&(struct ident){IPCX_OBJECT_POSIX_SHM, S->dead.shm, -1}));
    T_EQ_INT(run_cli(out, CLI("clean")), 0);
    T_ASSERT(strstr(slurp(out), "0 object(s) removed"));
    T_EQ_INT(run_cli(out, CLI("clean", "--records-only")), 0);
    T_ASSERT(strstr(slurp(out), "0 record(s) of vanished objects forgotten"));
    T_EQ_INT(run_cli(out, CLI("list", "--dir")), 2); /* the directory is missing */
    T_EQ_INT(run_cli(out, CLI("list", "--json")), 0);
    json_valid(out);
    unlink(out);
    munmap(S, sizeof *S);
}

T_CASE(cli_exit_codes_table_json) { run_as_user(cli_body); }

T_MAIN(T_ENTRY(records_follow_objects), T_ENTRY(inode_records_are_checked),
       T_ENTRY(records_name_the_creator_after_fork),
       T_ENTRY(list_finds_every_kind),
       T_ENTRY(sigkilled_creator_is_stale_and_cleaned), T_ENTRY(truncated_stale_ring_is_removed),
       T_ENTRY(clean_limited_to_dirs),
       T_ENTRY(remove_one_object_foreign_only_on_request),
       T_ENTRY(list_is_thread_safe_and_owns_names), T_ENTRY(bad_input),
       T_ENTRY(cli_exit_codes_table_json))
