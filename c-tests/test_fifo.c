/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* FIFOs: create/unlink safety, open timeouts, EOF rules, unrelated processes, and the
 * seed's server with several clients (atomic messages, per-client reply FIFOs). */
#include "test.h"

static pid_t spawn_peer(char *const argv[]) {
    pid_t p = t_fork();
    if (p == 0) {
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/fifo_peer", t_exe_dir());
        execv(exe, argv);
        _exit(127);
    }
    return p;
}

static mode_t mode_of(const char *path) {
    struct stat st;
    T_ASSERT(lstat(path, &st) == 0);
    return st.st_mode;
}

T_CASE(create_modes_and_unlink) {
    char path[256];
    t_path(path, sizeof path, "fifo");
    T_OK(ipcx_fifo_make(path, NULL));
    T_ASSERT(S_ISFIFO(mode_of(path)));
    T_EQ_INT(mode_of(path) & 0777, 0600); /* default mode */
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_make(path, NULL));
    T_LAST_ERROR_HAS("a FIFO already exists");
    T_OK(ipcx_fifo_remove(path));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_fifo_remove(path));
    /* The mode is applied exactly, whatever the umask. */
    mode_t old = umask(077);
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0644));
    T_OK(ipcx_fifo_make(path, o));
    umask(old);
    T_EQ_INT(mode_of(path) & 0777, 0644);
    T_OK(ipcx_fifo_remove(path));
    /* An option FIFO creation does not use is refused. */
    T_OK(ipcx_options_set_max_message(o, 10));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_make(path, o));
    T_OK(ipcx_options_close(o));
}

T_CASE(never_touches_what_is_not_a_fifo) {
    char path[256], dir[256];
    t_path(path, sizeof path, "regular");
    FILE *f = fopen(path, "w");
    T_ASSERT(f);
    fputs("precious", f);
    fclose(f);
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_make(path, NULL));
    T_LAST_ERROR_HAS("not a FIFO");
    T_LAST_ERROR_HAS("regular file"); /* the message names what is there */
    /* Something of another kind at the path: IPCX_ERR_EXISTS from every call. */
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_remove(path));
    T_LAST_ERROR_HAS("regular file");
    T_LAST_ERROR_HAS("left untouched");
    ipcx_pipe *p = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, 0, &p));
    T_LAST_ERROR_HAS("not a FIFO");
    T_ASSERT(p == NULL);
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, 0, &p));
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 0, &p));
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(path, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE, NULL, 0, &p));
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE |
                                                     IPCX_OPEN_EXCLUSIVE, NULL, 0, &p));
    struct stat st;
    T_ASSERT(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 8);
    T_ASSERT(unlink(path) == 0);
    t_path(dir, sizeof dir, "dir");
    T_ASSERT(mkdir(dir, 0700) == 0);
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_remove(dir));
    T_LAST_ERROR_HAS("directory");
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(dir, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, 0, &p));
    T_ASSERT(rmdir(dir) == 0);
    /* A symbolic link to nothing is something of another kind too. */
    char link[256];
    t_path(link, sizeof link, "dangling");
    T_ASSERT(symlink("/nonexistent/ipcx-nowhere", link) == 0);
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(link, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, 0, &p));
    T_LAST_ERROR_HAS("symbolic link");
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(link, IPCX_OPEN_WRITE, NULL, 0, &p));
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_make(link, NULL));
    T_LAST_ERROR_HAS("symbolic link");
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_remove(link));
    T_ASSERT(unlink(link) == 0);
}

T_CASE(parent_reads_child_writes) {
    char path[256];
    t_path(path, sizeof path, "fifo");
    T_OK(ipcx_fifo_make(path, NULL));
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_pipe *w;
        T_OK(ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, 10000, &w));
        for (int i = 0; i < 1000; i++) T_OK(ipcx_pipe_send(w, &i, sizeof i, 10000));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    ipcx_pipe *r;
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 10000, &r));
    for (int i = 0; i < 1000; i++) {
        int v = -1;
        size_t len = sizeof v;
        T_OK(ipcx_pipe_recv(r, &v, &len, 10000));
        T_EQ_INT(v, i);
    }
    int v;
    size_t len = sizeof v;
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, &v, &len, 10000));
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 20000);
    T_OK(ipcx_fifo_remove(path));
}

T_CASE(open_for_writing_honours_the_timeout) {
    char path[256];
    t_path(path, sizeof path, "fifo");
    T_OK(ipcx_fifo_make(path, NULL));
    ipcx_pipe *w = (ipcx_pipe *)1;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, IPCX_NOWAIT, &w));
    T_ASSERT(w == NULL);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, 200, &w));
    T_LAST_ERROR_HAS("no process has the FIFO open for reading");
    /* A reader that arrives later lets a waiting writer in. */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(150000);
        ipcx_pipe *r;
        T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 0, &r));
        char buf[8];
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
        T_OK(ipcx_pipe_close(r));
        _exit(0);
    }
    double t0 = t_now_ms();
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, 10000, &w));
    T_ASSERT(t_now_ms() - t0 >= 100);
    T_OK(ipcx_pipe_send(w, "hi", 2, 1000));
    T_OK(ipcx_pipe_close(w));
    t_wait_ok(p, 10000);
    T_OK(ipcx_fifo_remove(path));
}

T_CASE(reader_eof_only_after_a_writer_came_and_went) {
    char path[256];
    t_path(path, sizeof path, "fifo");
    ipcx_pipe *r;
    /* Opening for reading does not wait for a writer; CREATE makes the FIFO. */
    double t0 = t_now_ms();
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, 10000, &r));
    T_ASSERT(t_now_ms() - t0 < 1000);
    char buf[16];
    size_t len = sizeof buf;
    /* No writer yet: not end of file, just nothing to read. */
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_pipe_recv(r, buf, &len, 150));
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_pipe *w;
        T_OK(ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, 10000, &w));
        T_OK(ipcx_pipe_send(w, "one", 3, 1000));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
    T_EQ_INT(len, 3);
    t_wait_ok(p, 10000);
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_recv(r, buf, &len, 10000)); /* the writer left */
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_fifo_remove(path));
}

T_CASE(keep_open_reader_survives_writers_coming_and_going) {
    char path[256];
    t_path(path, sizeof path, "fifo");
    ipcx_pipe *r;
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_FIFO_KEEP_OPEN, NULL, 0, &r));
    for (int round = 0; round < 3; round++) {
        pid_t p = t_fork();
        if (p == 0) {
            ipcx_pipe *w;
            T_OK(ipcx_fifo_open(path, IPCX_OPEN_WRITE, NULL, 10000, &w));
            T_OK(ipcx_pipe_send(w, &round, sizeof round, 1000));
            T_OK(ipcx_pipe_close(w));
            _exit(0);
        }
        int v = -1;
        size_t len = sizeof v;
        T_OK(ipcx_pipe_recv(r, &v, &len, 10000));
        T_EQ_INT(v, round);
        t_wait_ok(p, 10000);
        len = sizeof v;
        /* Between clients: no end of file, just a timeout. */
        T_ERR(IPCX_ERR_TIMEOUT, ipcx_pipe_recv(r, &v, &len, 50));
    }
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_fifo_remove(path));
}

T_CASE(unrelated_process_echo) {
    char to[256], from[256];
    t_path(to, sizeof to, "to");
    t_path(from, sizeof from, "from");
    T_OK(ipcx_fifo_make(to, NULL));
    T_OK(ipcx_fifo_make(from, NULL));
    char *argv[] = {"fifo_peer", "echo", to, from, "200", NULL};
    pid_t p = spawn_peer(argv);
    ipcx_pipe *w, *r;
    T_OK(ipcx_fifo_open(to, IPCX_OPEN_WRITE, NULL, 10000, &w));
    T_OK(ipcx_fifo_open(from, IPCX_OPEN_READ, NULL, 10000, &r));
    for (int i = 0; i < 200; i++) {
        char msg[64], buf[64];
        int n = snprintf(msg, sizeof msg, "message %d", i);
        T_OK(ipcx_pipe_send(w, msg, (size_t)n, 10000));
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
        T_EQ_INT(len, n);
        for (int k = 0; k < n; k++) T_ASSERT(buf[k] == msg[n - 1 - k]);
    }
    T_OK(ipcx_pipe_close(w));
    T_OK(ipcx_pipe_close(r));
    t_wait_ok(p, 20000);
    T_OK(ipcx_fifo_remove(to));
    T_OK(ipcx_fifo_remove(from));
}

#define CLIENTS 8
#define REQUESTS 200

T_CASE(server_with_several_clients) {
    char server[256], reply[CLIENTS][256], id[CLIENTS][8];
    t_path(server, sizeof server, "server");
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_atomic(o, true));
    ipcx_pipe *in;
    T_OK(ipcx_fifo_open(server, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_FIFO_KEEP_OPEN, o, 0, &in));
    pid_t pids[CLIENTS];
    for (int c = 0; c < CLIENTS; c++) {
        t_path(reply[c], sizeof reply[c], "reply");
        snprintf(id[c], sizeof id[c], "%d", c);
        char *argv[] = {"fifo_peer", "client", server, reply[c], id[c], "200", NULL};
        pids[c] = spawn_peer(argv);
    }
    ipcx_pipe *out[CLIENTS] = {0};
    int next[CLIENTS] = {0};
    static char buf[IPCX_FIFO_ATOMIC_MAX];
    for (int m = 0; m < CLIENTS * REQUESTS; m++) {
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_recv(in, buf, &len, 20000));
        int c = -1, seq = -1, head = 0;
        char rpath[256];
        T_ASSERT(sscanf(buf, "%d %d %255s %n", &c, &seq, rpath, &head) == 3);
        T_ASSERT(c >= 0 && c < CLIENTS);
        T_EQ_INT(seq, next[c]); /* per-client order */
        next[c]++;
        /* Whole and never interleaved: every payload byte is the client's pattern. */
        for (size_t k = (size_t)head; k < len; k++)
            T_ASSERTF(buf[k] == (char)('a' + (c * 7 + seq * 3 + k) % 26),
                      "client %d request %d byte %zu interleaved", c, seq, k);
        if (!out[c]) T_OK(ipcx_fifo_open(rpath, IPCX_OPEN_WRITE, NULL, 10000, &out[c]));
        char ok[64];
        int n = snprintf(ok, sizeof ok, "ok %d %d %zu", c, seq, len);
        T_OK(ipcx_pipe_send(out[c], ok, (size_t)n, 10000));
    }
    for (int c = 0; c < CLIENTS; c++) {
        t_wait_ok(pids[c], 30000);
        T_EQ_INT(next[c], REQUESTS);
        T_OK(ipcx_pipe_close(out[c]));
    }
    /* Atomic mode refuses what could interleave. */
    ipcx_pipe *w;
    T_OK(ipcx_fifo_open(server, IPCX_OPEN_WRITE, o, 1000, &w));
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_pipe_send(w, buf, IPCX_FIFO_ATOMIC_MAX + 1, 1000));
    T_LAST_ERROR_HAS("PIPE_BUF");
    T_OK(ipcx_pipe_send(w, buf, IPCX_FIFO_ATOMIC_MAX, 1000));
    T_OK(ipcx_pipe_close(w));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_pipe_close(in));
    T_OK(ipcx_fifo_remove(server));
}

T_CASE(bad_input) {
    char path[256], longp[5000];
    t_path(path, sizeof path, "fifo");
    ipcx_pipe *p = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_make(NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_make("", NULL));
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_make(longp, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_make("/tmp/ipcx-t-\xff\xfe", NULL)); /* not UTF-8 */
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_fifo_make("/nonexistent-dir/x", NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_remove(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(NULL, IPCX_OPEN_READ, NULL, 0, &p));
    T_ASSERT(p == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 0, NULL));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 0, &p));
    T_OK(ipcx_fifo_make(path, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, 0, NULL, 0, &p));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_WRITE, NULL, 0, &p));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_WRITE | IPCX_FIFO_KEEP_OPEN, NULL, 0, &p));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_READ | 0x100, NULL, 0, &p));
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, -7, &p));
    /* Permission: a FIFO with no permissions (root bypasses modes, so only check as non-root). */
    if (geteuid() != 0) {
        T_ASSERT(chmod(path, 0) == 0);
        T_ERR(IPCX_ERR_PERMISSION, ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 0, &p));
    }
    /* A child sees the same errors. */
    pid_t c = t_fork();
    if (c == 0) {
        T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_make(path, NULL));
        _exit(0);
    }
    t_wait_ok(c, 10000);
    T_OK(ipcx_fifo_remove(path));
}

T_CASE(exclusive_creation) {
    char path[256];
    t_path(path, sizeof path, "excl");
    ipcx_pipe *r = (ipcx_pipe *)1, *r2 = (ipcx_pipe *)1;
    const uint32_t excl = IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE;
    T_OK(ipcx_fifo_open(path, excl, NULL, 0, &r));
    T_ASSERT(S_ISFIFO(mode_of(path)));
    T_EQ_INT(mode_of(path) & 0777, 0600);
    T_ERR(IPCX_ERR_EXISTS, ipcx_fifo_open(path, excl, NULL, 0, &r2));
    T_LAST_ERROR_HAS("a FIFO already exists");
    T_ASSERT(r2 == NULL);
    /* Without EXCLUSIVE the FIFO there is used. */
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE, NULL, 0, &r2));
    T_OK(ipcx_pipe_close(r2));
    /* EXCLUSIVE only makes a creation exclusive. */
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_EXCLUSIVE, NULL, 0, &r2));
    T_LAST_ERROR_HAS("IPCX_OPEN_CREATE");
    T_ASSERT(r2 == NULL);
    /* An open flag FIFOs have no use for is refused, naming those they take. */
    T_ERR(IPCX_ERR_INVALID, ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_NONBLOCK, NULL, 0, &r2));
    T_LAST_ERROR_HAS("IPCX_OPEN_EXCLUSIVE");
    T_LAST_ERROR_HAS("IPCX_FIFO_KEEP_OPEN");
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_fifo_remove(path));
    /* With a mode, applied exactly; a writer may create exclusively too. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0640));
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_pipe *w;
        T_OK(ipcx_fifo_open(path, IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o,
                            10000, &w)); /* waits for a reader */
        T_OK(ipcx_pipe_send(w, "made", 4, 1000));
        T_OK(ipcx_pipe_close(w));
        _exit(0);
    }
    struct stat st = {0};
    double t0 = t_now_ms();
    while (lstat(path, &st) != 0 && t_now_ms() - t0 < 10000) usleep(1000);
    T_EQ_INT(st.st_mode & 0777, 0640);
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ, NULL, 0, &r));
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(r, buf, &len, 10000));
    T_ASSERT(len == 4 && memcmp(buf, "made", 4) == 0);
    t_wait_ok(p, 10000);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_fifo_remove(path));
}

/* ipcx_pipe_send_many in atomic mode: several processes writing batches of messages into
 * one FIFO never interleave (each message is still one write of its own). */
T_CASE(send_many_in_atomic_mode_writers_never_interleave) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_atomic(o, true));
    char path[256];
    t_path(path, sizeof path, "many");
    ipcx_pipe *r, *w;
    T_OK(ipcx_fifo_open(path, IPCX_OPEN_READ | IPCX_OPEN_CREATE | IPCX_FIFO_KEEP_OPEN, o, 0, &r));
    enum { WRITERS = 3, PER = 2000, LEN = 1000 };
    pid_t kids[WRITERS];
    for (int k = 0; k < WRITERS; k++) {
        kids[k] = t_fork();
        if (kids[k] == 0) {
            T_OK(ipcx_pipe_close(r));
            T_OK(ipcx_fifo_open(path, IPCX_OPEN_WRITE, o, 5000, &w));
            static unsigned char m[50][LEN];
            ipcx_iov v[50];
            for (uint32_t i = 0; i < PER; i += 50) {
                for (uint32_t j = 0; j < 50; j++) {
                    uint32_t h[2] = {(uint32_t)k, i + j};
                    memset(m[j], 'a' + k, LEN);
                    memcpy(m[j], h, sizeof h);
                    v[j].buf = m[j];
                    v[j].len = LEN;
                }
                size_t sent = 0;
                T_OK(ipcx_pipe_send_many(w, v, 50, 20000, &sent));
                T_EQ_INT(sent, 50);
            }
            T_OK(ipcx_pipe_close(w));
            _exit(0);
        }
    }
    T_OK(ipcx_options_close(o));
    uint32_t next[WRITERS] = {0};
    unsigned char buf[LEN];
    for (int n = 0; n < WRITERS * PER; n++) {
        size_t len = sizeof buf;
        T_OK(ipcx_pipe_recv(r, buf, &len, 20000));
        T_EQ_INT(len, LEN);
        uint32_t h[2];
        memcpy(h, buf, sizeof h);
        T_ASSERT(h[0] < WRITERS);
        T_ASSERTF(h[1] == next[h[0]], "writer %u: %u, expected %u", h[0], h[1], next[h[0]]);
        next[h[0]]++;
        for (int b = 8; b < LEN; b++)
            if (buf[b] != 'a' + h[0]) T_FAIL("writer %u's message %u: byte %d is another's", h[0], h[1], b);
    }
    for (int k = 0; k < WRITERS; k++) t_wait_ok(kids[k], 30000);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_fifo_remove(path));
}

T_MAIN(T_ENTRY(create_modes_and_unlink), T_ENTRY(never_touches_what_is_not_a_fifo),
       T_ENTRY(parent_reads_child_writes), T_ENTRY(open_for_writing_honours_the_timeout),
       T_ENTRY(reader_eof_only_after_a_writer_came_and_went),
       T_ENTRY(keep_open_reader_survives_writers_coming_and_going),
       T_ENTRY(unrelated_process_echo), T_ENTRY(server_with_several_clients), T_ENTRY(bad_input),
       T_ENTRY(exclusive_creation),
       T_ENTRY(send_many_in_atomic_mode_writers_never_interleave))
