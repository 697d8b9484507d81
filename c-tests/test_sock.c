/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Sockets across fork: Unix stream/datagram/seqpacket over pairs, paths and abstract
 * names; stale socket files; unrelated processes; descriptor passing and MSG_CTRUNC; peer
 * credentials; a server with 4 clients x 10k messages; TCP and UDP over IPv4 and IPv6
 * loopback; half-close and reset; timeouts; hostile input; bad input. */
#include "test.h"
#include "valgrind_env.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

static const uint32_t kinds[] = {IPCX_SOCK_STREAM, IPCX_SOCK_DGRAM, IPCX_SOCK_SEQPACKET};
static const char *kind_name(uint32_t k) {
    return k == IPCX_SOCK_STREAM ? "stream" : k == IPCX_SOCK_DGRAM ? "dgram" : "seqpacket";
}

static void pattern(unsigned char *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(seed * 31u + i * 7u);
}
static int pattern_ok(const unsigned char *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (buf[i] != (unsigned char)(seed * 31u + i * 7u)) return 0;
    return 1;
}

/* A unique abstract name "@ipcx-t-<runner>-<seq>-tag" (no file: nothing to track). */
static const char *t_abstract(char *buf, size_t len, const char *tag) {
    snprintf(buf, len, "@ipcx-t-%d-%d-%s", (int)t_runner_pid, atomic_fetch_add(&t_sh->seq, 1), tag);
    return buf;
}

static pid_t spawn_peer(char *const argv[]) {
    pid_t p = t_fork();
    if (p == 0) {
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/sock_peer", t_exe_dir());
        execv(exe, argv);
        _exit(127);
    }
    return p;
}

static int sockopt(ipcx_sock *s, int level, int opt) {
    int fd = -1, v = -1;
    socklen_t l = sizeof v;
    T_OK(ipcx_sock_fd(s, &fd));
    T_ASSERT(getsockopt(fd, level, opt, &v, &l) == 0);
    return v;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The text address of a listener. */
static void listener_addr(ipcx_sock_listener *l, char *buf, size_t cap) {
    size_t len = cap;
    T_OK(ipcx_sock_listener_address(l, buf, &len));
    T_EQ_INT(len, strlen(buf));
}

/* ------------------------------------------------------------------ pairs */

T_CASE(pair_every_type_across_fork) {
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint32_t kind = kinds[k];
        ipcx_sock *a, *b;
        T_OK(ipcx_sock_pair(kind, NULL, &a, &b));
        pid_t p = t_fork();
        if (p == 0) { /* echo: first byte + 1, until end */
            T_OK(ipcx_sock_close(a));
            unsigned char buf[4096];
            for (;;) {
                size_t len = sizeof buf;
                int s = ipcx_sock_recv(b, buf, &len, 10000);
                if (s == IPCX_ERR_CLOSED && kind != IPCX_SOCK_DGRAM) break;
                T_OK(s);
                if (kind == IPCX_SOCK_DGRAM && len == 0) break; /* the end marker */
                buf[0]++;
                T_OK(ipcx_sock_send(b, buf, len, 10000));
            }
            T_OK(ipcx_sock_close(b));
            _exit(0);
        }
        T_OK(ipcx_sock_close(b));
        unsigned char buf[4096], got[4096];
        for (unsigned i = 0; i < 300; i++) {
            size_t n = 1 + (i * 37) % 3000;
            pattern(buf, n, i);
            T_OK(ipcx_sock_send(a, buf, n, 10000));
            size_t len = sizeof got;
            T_OK(ipcx_sock_recv(a, got, &len, 10000));
            T_ASSERTF(len == n, "%s: message %u: %zu bytes, expected %zu", kind_name(kind), i, len, n);
            got[0]--;
            T_ASSERTF(pattern_ok(got, n, i), "%s: message %u corrupted", kind_name(kind), i);
        }
        /* Boundaries are kept: three messages sent back to back arrive as three. */
        for (unsigned i = 0; i < 3; i++) T_OK(ipcx_sock_send(a, buf, 10 + i, 10000));
        for (unsigned i = 0; i < 3; i++) {
            size_t len = sizeof got;
            T_OK(ipcx_sock_recv(a, got, &len, 10000));
            T_EQ_INT(len, 10 + i);
        }
        if (kind == IPCX_SOCK_DGRAM) T_OK(ipcx_sock_send(a, NULL, 0, 10000));
        T_OK(ipcx_sock_close(a));
        t_wait_ok(p, 20000);
    }
}

T_CASE(pair_fds_poll_and_nowait) {
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
    int fa = -1, fb = -1;
    T_OK(ipcx_sock_fd(a, &fa));
    T_OK(ipcx_sock_fd(b, &fb));
    T_ASSERT(fa >= 0 && fb >= 0 && fa != fb);
    T_ASSERT(fcntl(fa, F_GETFD) & FD_CLOEXEC);
    struct pollfd pfd = {fb, POLLIN, 0};
    T_EQ_INT(poll(&pfd, 1, 0), 0);
    char buf[64];
    size_t len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_sock_recv(b, buf, &len, IPCX_NOWAIT));
    len = sizeof buf;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_sock_recv(b, buf, &len, 150));
    T_OK(ipcx_sock_send(a, "x", 1, IPCX_NOWAIT));
    T_EQ_INT(poll(&pfd, 1, 5000), 1);
    T_ASSERT(pfd.revents & POLLIN);
    len = sizeof buf;
    T_OK(ipcx_sock_recv(b, buf, &len, IPCX_NOWAIT));
    T_EQ_INT(len, 1);
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
}

/* ------------------------------------------------------------------ paths and names */

T_CASE(unix_stream_over_a_path) {
    char path[256], addr[IPCX_SOCK_ADDR_MAX];
    t_path(path, sizeof path, "sock");
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l));
    struct stat st;
    T_ASSERT(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
    T_EQ_INT(st.st_mode & 0777, 0600); /* the default mode */
    listener_addr(l, addr, sizeof addr);
    T_ASSERT(strcmp(addr, path) == 0);
    ipcx_sock *c = (ipcx_sock *)1;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 120, ipcx_sock_accept(l, 120, &c));
    T_ASSERT(c == NULL);
    int lfd = -1;
    T_OK(ipcx_sock_listener_fd(l, &lfd));
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_sock *s;
        T_OK(ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 10000, &s));
        char a[IPCX_SOCK_ADDR_MAX];
        size_t alen = sizeof a;
        T_OK(ipcx_sock_peer_address(s, a, &alen));
        T_ASSERT(strcmp(a, path) == 0);
        alen = sizeof a;
        T_OK(ipcx_sock_local_address(s, a, &alen));
        T_EQ_INT(alen, 0); /* an unnamed client */
        for (int i = 0; i < 3; i++) T_OK(ipcx_sock_send(s, &i, sizeof i, 10000));
        char buf[16];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(s, buf, &len, 10000));
        T_ASSERT(len == 5 && memcmp(buf, "thank", 5) == 0);
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    struct pollfd pfd = {lfd, POLLIN, 0};
    T_EQ_INT(poll(&pfd, 1, 10000), 1); /* the listener's descriptor is pollable */
    T_OK(ipcx_sock_accept(l, 10000, &c));
    for (int i = 0; i < 3; i++) {
        int v = -1;
        size_t len = sizeof v;
        T_OK(ipcx_sock_recv(c, &v, &len, 10000));
        T_EQ_INT(v, i);
    }
    size_t alen = sizeof addr;
    T_OK(ipcx_sock_local_address(c, addr, &alen));
    T_ASSERT(strcmp(addr, path) == 0);
    T_OK(ipcx_sock_send(c, "thank", 5, 10000));
    char buf[8];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(c, buf, &len, 10000)); /* the client closed */
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
    T_ASSERT(!exists(path)); /* the listener removed its own file */
    /* A mode is applied exactly, whatever the umask. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0666));
    mode_t old = umask(077);
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_SEQPACKET, o, &l));
    umask(old);
    T_ASSERT(lstat(path, &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0666);
    T_OK(ipcx_sock_listener_close(l));
    T_OK(ipcx_options_close(o));
}

T_CASE(unix_seqpacket_over_an_abstract_name) {
    char name[128], addr[IPCX_SOCK_ADDR_MAX];
    t_abstract(name, sizeof name, "seq");
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(name, IPCX_SOCK_SEQPACKET, NULL, &l));
    listener_addr(l, addr, sizeof addr);
    T_ASSERT(strcmp(addr, name) == 0);
    /* A second listener on the same abstract name is refused. */
    ipcx_sock_listener *l2 = (ipcx_sock_listener *)1;
    T_ERR(IPCX_ERR_IN_USE, ipcx_sock_listen_unix(name, IPCX_SOCK_SEQPACKET, NULL, &l2));
    T_ASSERT(l2 == NULL);
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_sock_listener_close(l)); /* a child closing its copy changes nothing */
        ipcx_sock *s;
        T_OK(ipcx_sock_connect_unix(name, IPCX_SOCK_SEQPACKET, NULL, 10000, &s));
        char big[3000];
        pattern((unsigned char *)big, sizeof big, 3);
        T_OK(ipcx_sock_send(s, big, sizeof big, 10000));
        T_OK(ipcx_sock_send(s, "second", 6, 10000));
        T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(s, NULL, 0, 10000)); /* empty seqpacket */
        T_LAST_ERROR_HAS("end of file");
        T_OK(ipcx_sock_shutdown(s, IPCX_SOCK_SHUT_WR)); /* the server reads EOF */
        char buf[8];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(s, buf, &len, 10000)); /* still receives */
        T_ASSERT(len == 3 && memcmp(buf, "bye", 3) == 0);
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    ipcx_sock *c;
    T_OK(ipcx_sock_accept(l, 10000, &c));
    /* A record too large for the buffer: IPCX_ERR_TOO_BIG with the size, kept queued. */
    char small[100];
    size_t len = sizeof small;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recv(c, small, &len, 10000));
    T_EQ_INT(len, 3000);
    len = 2999;
    char big[3000];
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recv(c, big, &len, 10000));
    T_EQ_INT(len, 3000);
    len = sizeof big;
    T_OK(ipcx_sock_recv(c, big, &len, 10000));
    T_EQ_INT(len, 3000);
    T_ASSERT(pattern_ok((unsigned char *)big, 3000, 3));
    len = sizeof small;
    T_OK(ipcx_sock_recv(c, small, &len, 10000));
    T_ASSERT(len == 6 && memcmp(small, "second", 6) == 0);
    len = sizeof small;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(c, small, &len, 10000)); /* shut down for writing */
    T_OK(ipcx_sock_send(c, "bye", 3, 10000));
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
    /* Abstract names have no file and no mode. */
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0600));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(name, IPCX_SOCK_STREAM, o, &l));
    T_LAST_ERROR_HAS("abstract");
    T_OK(ipcx_options_close(o));
}

T_CASE(unix_datagrams_bind_sendto_recvfrom) {
    char path[256], from[IPCX_SOCK_ADDR_MAX];
    t_path(path, sizeof path, "dgram");
    ipcx_sock *srv;
    T_OK(ipcx_sock_bind_unix(path, NULL, &srv));
    T_ASSERT(exists(path));
    pid_t p = t_fork();
    if (p == 0) {
        /* An automatically named client: the server can answer it. */
        ipcx_sock *c;
        T_OK(ipcx_sock_bind_unix(NULL, NULL, &c));
        char me[IPCX_SOCK_ADDR_MAX];
        size_t mlen = sizeof me;
        T_OK(ipcx_sock_local_address(c, me, &mlen));
        T_ASSERT(me[0] == '@' && mlen > 1);
        T_OK(ipcx_sock_sendto(c, "ping", 4, path, 10000));
        char buf[16], f[IPCX_SOCK_ADDR_MAX];
        size_t len = sizeof buf, flen = sizeof f;
        T_OK(ipcx_sock_recvfrom(c, buf, &len, f, &flen, 10000));
        T_ASSERT(len == 4 && memcmp(buf, "pong", 4) == 0);
        T_ASSERT(strcmp(f, path) == 0);
        T_EQ_INT(flen, strlen(path)); /* the text length, without the NUL */
        T_OK(ipcx_sock_close(c));
        /* A connected datagram socket: send without an address. */
        T_OK(ipcx_sock_connect_unix(path, IPCX_SOCK_DGRAM, NULL, 10000, &c));
        T_OK(ipcx_sock_send(c, "again", 5, 10000));
        len = sizeof buf;
        T_OK(ipcx_sock_recv(c, buf, &len, 10000));
        T_ASSERT(len == 4 && memcmp(buf, "pong", 4) == 0);
        T_OK(ipcx_sock_send(c, "end", 3, 10000));
        T_OK(ipcx_sock_close(c));
        _exit(0);
    }
    for (int round = 0; round < 2; round++) {
        char buf[16];
        size_t len = sizeof buf, flen = sizeof from;
        T_OK(ipcx_sock_recvfrom(srv, buf, &len, from, &flen, 10000));
        T_EQ_INT(flen, strlen(from));
        if (round == 1) { /* the sender's address is optional: both NULL */
            T_OK(ipcx_sock_sendto(srv, "pong", 4, from, 10000));
            len = sizeof buf;
            T_OK(ipcx_sock_recvfrom(srv, buf, &len, NULL, NULL, 10000));
            T_ASSERT(len == 3 && memcmp(buf, "end", 3) == 0);
            break;
        }
        T_EQ_INT(len, round == 0 ? 4 : 5);
        T_ASSERT(from[0] == '@'); /* the client's automatic abstract name */
        T_OK(ipcx_sock_sendto(srv, "pong", 4, from, 10000));
    }
    t_wait_ok(p, 10000);
    /* Sending needs an address on an unconnected socket; nobody at a path. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(srv, "x", 1, 1000));
    T_LAST_ERROR_HAS("ipcx_sock_sendto");
    char nobody[256];
    t_path(nobody, sizeof nobody, "nobody");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_sendto(srv, "x", 1, nobody, 1000));
    /* from without from_len is refused before anything is received. */
    char buf[16], tiny[8];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recvfrom(srv, buf, &len, tiny, NULL, 0));
    T_LAST_ERROR_HAS("from_len");
    T_OK(ipcx_sock_close(srv));
    T_ASSERT(!exists(path));
}

T_CASE(records_too_big_kept_and_above_max_discarded) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 70000));
    for (int k = 1; k < 3; k++) { /* dgram, seqpacket */
        ipcx_sock *a, *b;
        T_OK(ipcx_sock_pair(kinds[k], o, &a, &b));
        static unsigned char big[70001], got[70001];
        pattern(big, sizeof big, 11);
        /* Sizes around the internal paths: small buffer, large buffer, exact. */
        size_t sizes[] = {1, 64, 4096, 4097, 65536, 70000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            T_OK(ipcx_sock_send(a, big, n, 10000));
            size_t len = n - 1;
            if (n > 1) {
                T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recv(b, got, &len, 10000));
                T_EQ_INT(len, n);
            }
            len = n;
            T_OK(ipcx_sock_recv(b, got, &len, 10000));
            T_EQ_INT(len, n);
            T_ASSERT(pattern_ok(got, n, 11));
        }
        /* The sender refuses what is above its maximum... */
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_send(a, big, 70001, 10000));
        T_LAST_ERROR_HAS("maximum message size");
        /* ...and a receiver discards a record above its own, reporting it. */
        ipcx_options *small;
        T_OK(ipcx_options_create(&small));
        T_OK(ipcx_options_set_max_message(small, 100));
        ipcx_sock *e, *f;
        T_OK(ipcx_sock_pair(kinds[k], small, &e, &f));
        T_OK(ipcx_options_close(small));
        int ef = -1;
        T_OK(ipcx_sock_fd(e, &ef));
        T_ASSERT(send(ef, big, 200, 0) == 200); /* a raw peer ignoring the limit */
        T_ASSERT(send(ef, big, 50, 0) == 50);
        size_t len = sizeof got;
        T_ERR(IPCX_ERR_PROTOCOL, ipcx_sock_recv(f, got, &len, 10000));
        T_LAST_ERROR_HAS("discarded");
        len = sizeof got;
        T_OK(ipcx_sock_recv(f, got, &len, 10000)); /* the next record is fine */
        T_EQ_INT(len, 50);
        T_OK(ipcx_sock_close(e));
        T_OK(ipcx_sock_close(f));
        T_OK(ipcx_sock_close(a));
        T_OK(ipcx_sock_close(b));
    }
    T_OK(ipcx_options_close(o));
}

/* ------------------------------------------------------------------ socket files */

/* A raw sockaddr_un for `path`. */
static struct sockaddr_un un_addr(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    T_ASSERT(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    return sa;
}

/* A socket file nobody answers on: bind a raw socket and close it. */
static void make_stale_socket(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = un_addr(path);
    T_ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
}

T_CASE(stale_socket_files_replaced_nothing_else_touched) {
    char path[256];
    t_path(path, sizeof path, "stale");
    /* A dead socket file is replaced. */
    make_stale_socket(path);
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l));
    /* A live socket is never taken: a stream listener, and a datagram socket. */
    ipcx_sock_listener *l2 = (ipcx_sock_listener *)1;
    T_ERR(IPCX_ERR_IN_USE, ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l2));
    T_LAST_ERROR_HAS("live socket");
    T_ASSERT(l2 == NULL);
    ipcx_sock *d = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_IN_USE, ipcx_sock_bind_unix(path, NULL, &d));
    T_ASSERT(d == NULL);
    /* The live listener was not disturbed: it still accepts. */
    ipcx_sock *c, *s;
    T_OK(ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 5000, &c));
    T_OK(ipcx_sock_accept(l, 5000, &s));
    ipcx_sock *x = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_TIMEOUT, ipcx_sock_accept(l, 0, &x)); /* the probe made no connection */
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_close(s));
    char dpath[256];
    t_path(dpath, sizeof dpath, "dg");
    T_OK(ipcx_sock_bind_unix(dpath, NULL, &d));
    T_ERR(IPCX_ERR_IN_USE, ipcx_sock_listen_unix(dpath, IPCX_SOCK_STREAM, NULL, &l2));
    T_OK(ipcx_sock_close(d));
    /* The listener removes its file only if it is still its own. */
    T_ASSERT(unlink(path) == 0);
    make_stale_socket(path); /* ext4 may even give it the same inode number */
    T_OK(ipcx_sock_listener_close(l));
    T_ASSERT(exists(path)); /* someone else's socket file: left alone */
    T_ASSERT(unlink(path) == 0);
    /* Any other file is never touched. */
    FILE *f = fopen(path, "w");
    T_ASSERT(f);
    fputs("precious", f);
    fclose(f);
    T_ERR(IPCX_ERR_EXISTS, ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l2));
    T_LAST_ERROR_HAS("not a socket");
    T_ERR(IPCX_ERR_EXISTS, ipcx_sock_bind_unix(path, NULL, &d));
    /* The same status from the calls that reach a path: something of another kind. */
    ipcx_sock *y = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_EXISTS, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 1000, &y));
    T_LAST_ERROR_HAS("not a socket");
    T_ASSERT(y == NULL);
    T_ERR(IPCX_ERR_EXISTS, ipcx_sock_connect_unix(path, IPCX_SOCK_DGRAM, NULL, 1000, &y));
    T_OK(ipcx_sock_bind_unix(NULL, NULL, &y));
    T_ERR(IPCX_ERR_EXISTS, ipcx_sock_sendto(y, "x", 1, path, 1000));
    T_OK(ipcx_sock_close(y));
    struct stat st;
    T_ASSERT(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 8);
    T_ASSERT(unlink(path) == 0);
    T_ASSERT(mkdir(path, 0700) == 0);
    T_ERR(IPCX_ERR_EXISTS, ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l2));
    T_ASSERT(rmdir(path) == 0);
    /* A child closing an inherited listener leaves the parent's file. */
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_sock_listener_close(l));
        T_ASSERT(exists(path));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_ASSERT(exists(path));
    T_OK(ipcx_sock_listener_close(l));
    T_ASSERT(!exists(path));
}

/* ------------------------------------------------------------------ unrelated processes */

static void echo_with_peer(const char *name, uint32_t type) {
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(name, type, NULL, &l));
    char typ[16];
    snprintf(typ, sizeof typ, "%u", (unsigned)type);
    char *argv[] = {"sock_peer", "echo", (char *)name, typ, "300", NULL};
    pid_t p = spawn_peer(argv);
    ipcx_sock *c;
    T_OK(ipcx_sock_accept(l, 10000, &c));
    char buf[4096];
    size_t len = sizeof buf - 1;
    T_OK(ipcx_sock_recv(c, buf, &len, 10000));
    buf[len] = 0;
    int pid = -1;
    unsigned uid = 1, gid = 1;
    T_ASSERT(sscanf(buf, "%d %u %u", &pid, &uid, &gid) == 3);
    T_EQ_INT(pid, p); /* exec keeps the pid */
    int32_t cpid;
    uint32_t cuid, cgid;
    T_OK(ipcx_sock_peer_credentials(c, &cpid, &cuid, &cgid));
    T_EQ_INT(cpid, p);
    T_EQ_INT(cuid, uid);
    T_EQ_INT(cgid, gid);
    for (int i = 0; i < 300; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof msg, "message %d to an unrelated process", i);
        T_OK(ipcx_sock_send(c, msg, (size_t)n, 10000));
        len = sizeof buf;
        T_OK(ipcx_sock_recv(c, buf, &len, 10000));
        T_EQ_INT(len, n);
        for (int k = 0; k < n; k++) T_ASSERT(buf[k] == msg[n - 1 - k]);
    }
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(c, buf, &len, 10000));
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
}

T_CASE(unrelated_process_over_a_path) {
    char path[256];
    t_path(path, sizeof path, "peer");
    echo_with_peer(path, IPCX_SOCK_STREAM);
    T_ASSERT(!exists(path));
    t_path(path, sizeof path, "peerseq");
    echo_with_peer(path, IPCX_SOCK_SEQPACKET);
}

T_CASE(unrelated_process_over_an_abstract_name) {
    char name[128];
    echo_with_peer(t_abstract(name, sizeof name, "peer"), IPCX_SOCK_STREAM);
    /* Datagrams: the peer binds an automatic name, we answer whoever sent. */
    t_abstract(name, sizeof name, "dg");
    ipcx_sock *s;
    T_OK(ipcx_sock_bind_unix(name, NULL, &s));
    char *argv[] = {"sock_peer", "dgram", name, "50", NULL};
    pid_t p = spawn_peer(argv);
    char buf[128], from[IPCX_SOCK_ADDR_MAX];
    size_t len = sizeof buf, flen = sizeof from;
    T_OK(ipcx_sock_recvfrom(s, buf, &len, from, &flen, 10000));
    T_ASSERT(len == 5 && memcmp(buf, "hello", 5) == 0 && from[0] == '@');
    for (int i = 0; i < 50; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "dgram %d", i);
        T_OK(ipcx_sock_sendto(s, msg, (size_t)n, from, 10000));
        char f2[IPCX_SOCK_ADDR_MAX];
        len = sizeof buf;
        size_t f2len = sizeof f2;
        T_OK(ipcx_sock_recvfrom(s, buf, &len, f2, &f2len, 10000));
        T_EQ_INT(len, n);
        T_ASSERT(strcmp(f2, from) == 0);
        T_ASSERT(buf[0] == msg[n - 1]);
    }
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(s));
}

/* ------------------------------------------------------------------ descriptors */

T_CASE(pass_a_pipe_end_the_receiver_uses) {
    for (int k = 0; k < 3; k++) {
        ipcx_sock *a, *b;
        T_OK(ipcx_sock_pair(kinds[k], NULL, &a, &b));
        int p[2];
        T_ASSERT(pipe(p) == 0);
        /* Also an ipcx pipe's write end. */
        ipcx_pipe *ir, *iw;
        T_OK(ipcx_pipe_pair(0, NULL, &ir, &iw));
        int iwfd = -1;
        T_OK(ipcx_pipe_fds(iw, NULL, &iwfd));
        pid_t c = t_fork();
        if (c == 0) {
            T_OK(ipcx_sock_close(a));
            close(p[0]);
            close(p[1]);
            T_OK(ipcx_pipe_close(ir));
            T_OK(ipcx_pipe_close(iw));
            int fds[4] = {-1, -1, -1, -1};
            size_t nfds = 4;
            char buf[64];
            size_t len = sizeof buf;
            T_OK(ipcx_sock_recv_fds(b, buf, &len, fds, &nfds, 10000));
            T_ASSERT(len == 4 && memcmp(buf, "take", 4) == 0);
            T_EQ_INT(nfds, 2);
            T_ASSERT(fcntl(fds[0], F_GETFD) & FD_CLOEXEC); /* close-on-exec */
            T_ASSERT(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
            T_ASSERT(write(fds[0], "through the passed pipe", 23) == 23);
            T_ASSERT(write(fds[1], "raw", 3) == 3);
            close(fds[0]);
            close(fds[1]);
            T_OK(ipcx_sock_close(b));
            _exit(0);
        }
        T_OK(ipcx_sock_close(b));
        int send[2] = {p[1], iwfd};
        T_OK(ipcx_sock_send_fds(a, "take", 4, send, 2, 10000));
        close(p[1]); /* now only the child's copy writes */
        T_OK(ipcx_pipe_close(iw));
        char got[64] = {0};
        size_t off = 0;
        ssize_t n;
        while ((n = read(p[0], got + off, sizeof got - 1 - off)) > 0) off += (size_t)n;
        T_EQ_INT(n, 0); /* end of file: the child closed the only write end left */
        T_ASSERT(strcmp(got, "through the passed pipe") == 0);
        size_t nr = 0;
        char raw[8];
        T_OK(ipcx_pipe_read(ir, raw, sizeof raw, 10000, &nr));
        T_ASSERT(nr == 3 && memcmp(raw, "raw", 3) == 0);
        T_ERR(IPCX_ERR_CLOSED, ipcx_pipe_read(ir, raw, sizeof raw, 10000, &nr));
        close(p[0]);
        T_OK(ipcx_pipe_close(ir));
        T_OK(ipcx_sock_close(a));
        t_wait_ok(c, 10000);
    }
}

/* On a stream, descriptors arrive with the message they were sent with, even when the
 * receiver reads several messages from the kernel at once. */
T_CASE(stream_descriptors_stay_with_their_message) {
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    T_ASSERT(devnull >= 0 && self >= 0);
    /* Messages 0..39: message i carries i % 4 descriptors (devnull, self, devnull). */
    for (int i = 0; i < 40; i++) {
        int fds[3] = {devnull, self, devnull};
        char msg[32];
        int n = snprintf(msg, sizeof msg, "message %d", i);
        if (i % 4) T_OK(ipcx_sock_send_fds(a, msg, (size_t)n, fds, (size_t)(i % 4), 10000));
        else T_OK(ipcx_sock_send(a, msg, (size_t)n, 10000));
    }
    struct stat nul, exe;
    T_ASSERT(fstat(devnull, &nul) == 0 && fstat(self, &exe) == 0);
    int before = t_fd_count();
    for (int i = 0; i < 40; i++) {
        int fds[4] = {-1, -1, -1, -1};
        size_t nfds = 4;
        char buf[4096];
        size_t len = sizeof buf; /* large: the receive may read ahead */
        T_OK(ipcx_sock_recv_fds(b, buf, &len, fds, &nfds, 10000));
        char want[32];
        int n = snprintf(want, sizeof want, "message %d", i);
        T_ASSERT(len == (size_t)n && memcmp(buf, want, len) == 0);
        T_ASSERTF(nfds == (size_t)(i % 4), "message %d: %zu descriptors", i, nfds);
        for (size_t k = 0; k < nfds; k++) {
            struct stat st;
            T_ASSERT(fstat(fds[k], &st) == 0);
            const struct stat *w = k == 1 ? &exe : &nul;
            T_ASSERT(st.st_ino == w->st_ino && st.st_dev == w->st_dev);
            close(fds[k]);
        }
    }
    T_EQ_INT(t_fd_count(), before); /* nothing leaked */
    /* A plain receive of a message with descriptors closes them. */
    int fds[1] = {devnull};
    T_OK(ipcx_sock_send_fds(a, "z", 1, fds, 1, 10000));
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_sock_recv(b, buf, &len, 10000));
    T_EQ_INT(t_fd_count(), before);
    /* An empty message cannot carry descriptors on a stream. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send_fds(a, NULL, 0, fds, 1, 10000));
    close(devnull);
    close(self);
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
}

T_CASE(descriptors_cut_are_reported_and_closed) {
    for (int k = 0; k < 3; k++) {
        ipcx_sock *a, *b;
        T_OK(ipcx_sock_pair(kinds[k], NULL, &a, &b));
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int five[5] = {devnull, devnull, devnull, devnull, devnull};
        /* More descriptors than the array holds: 2 handed over, 3 closed by ipcx. */
        T_OK(ipcx_sock_send_fds(a, "five", 4, five, 5, 10000));
        int before = t_fd_count();
        int got[2] = {-1, -1};
        size_t nfds = 2;
        char buf[16];
        size_t len = sizeof buf;
        T_ERR(IPCX_ERR_LIMIT, ipcx_sock_recv_fds(b, buf, &len, got, &nfds, 10000));
        T_LAST_ERROR_HAS("carried 5 descriptors");
        T_EQ_INT(len, 4); /* the message itself is delivered */
        T_EQ_INT(nfds, 2);
        T_EQ_INT(t_fd_count(), before + 2);
        close(got[0]);
        close(got[1]);
        /* The kernel cuts them (MSG_CTRUNC) at the descriptor limit: in a child whose
         * RLIMIT_NOFILE leaves room for exactly one more descriptor. */
        /* valgrind virtualises RLIMIT_NOFILE (its own descriptors sit above the limit):
         * the kernel does not cut there. */
        if (!t_under_valgrind()) {
            T_OK(ipcx_sock_send_fds(a, "three", 5, five, 3, 10000));
            pid_t p = t_fork();
            if (p == 0) {
                int lowest = dup(0);
                T_ASSERT(lowest >= 0);
                close(lowest);
                int highest = 0;
                for (int fd = 0; fd < 1024; fd++)
                    if (fcntl(fd, F_GETFD) >= 0) highest = fd;
                struct rlimit rl;
                T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
                /* Fill the holes below the highest descriptor, then allow one more. */
                int fill[1024], nf = 0;
                for (;;) {
                    int fd = dup(0);
                    if (fd > highest) {
                        close(fd);
                        break;
                    }
                    fill[nf++] = fd;
                }
                struct rlimit low = {(rlim_t)highest + 2, rl.rlim_max};
                T_ASSERT(setrlimit(RLIMIT_NOFILE, &low) == 0);
                int g[3] = {-1, -1, -1};
                size_t n = 3;
                len = sizeof buf;
                T_ERR(IPCX_ERR_LIMIT, ipcx_sock_recv_fds(b, buf, &len, g, &n, 10000));
                T_LAST_ERROR_HAS("MSG_CTRUNC");
                T_LAST_ERROR_HAS("RLIMIT_NOFILE");
                T_EQ_INT(len, 5);
                T_EQ_INT(n, 1);
                T_ASSERT(g[0] == highest + 1);
                _exit(0);
                (void)fill;
            }
            t_wait_ok(p, 10000);
        }
        /* A plain receive whose buffer is too small keeps the record with its
         * descriptors: the next receive with an array gets them. */
        int two[2] = {devnull, devnull};
        T_OK(ipcx_sock_send_fds(a, "m6-long", 7, two, 2, 10000));
        char small[2];
        len = sizeof small;
        before = t_fd_count();
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recv(b, small, &len, 10000));
        T_EQ_INT(len, 7);
        int g2[2] = {-1, -1};
        nfds = 2;
        len = sizeof buf;
        T_OK(ipcx_sock_recv_fds(b, buf, &len, g2, &nfds, 10000));
        T_EQ_INT(len, 7);
        T_EQ_INT(nfds, 2);
        T_ASSERT(fcntl(g2[0], F_GETFD) >= 0 && fcntl(g2[1], F_GETFD) >= 0);
        close(g2[0]);
        close(g2[1]);
        /* A plain receive that takes such a record closes its descriptors. */
        T_OK(ipcx_sock_send_fds(a, "m6-long", 7, two, 2, 10000));
        len = sizeof small;
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recv(b, small, &len, 10000));
        len = sizeof buf;
        T_OK(ipcx_sock_recv(b, buf, &len, 10000));
        T_EQ_INT(t_fd_count(), before);
        close(devnull);
        T_OK(ipcx_sock_close(a));
        T_OK(ipcx_sock_close(b));
    }
}

T_CASE(peer_credentials_of_the_sender) {
    char path[256];
    t_path(path, sizeof path, "cred");
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l));
    pid_t parent = getpid();
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_sock *s;
        T_OK(ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 10000, &s));
        int32_t pid;
        uint32_t uid, gid;
        T_OK(ipcx_sock_peer_credentials(s, &pid, &uid, &gid)); /* the listener's creator */
        T_EQ_INT(pid, parent);
        int32_t me[3] = {getpid(), (int32_t)getuid(), (int32_t)getgid()};
        T_OK(ipcx_sock_send(s, me, sizeof me, 10000));
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    ipcx_sock *c;
    T_OK(ipcx_sock_accept(l, 10000, &c));
    int32_t me[3];
    size_t len = sizeof me;
    T_OK(ipcx_sock_recv(c, me, &len, 10000));
    int32_t pid;
    uint32_t uid, gid;
    T_OK(ipcx_sock_peer_credentials(c, &pid, NULL, NULL));
    T_OK(ipcx_sock_peer_credentials(c, &pid, &uid, &gid));
    T_EQ_INT(pid, p);
    T_EQ_INT(pid, me[0]);
    T_EQ_INT(uid, getuid());
    T_EQ_INT(uid, (uint32_t)me[1]);
    T_EQ_INT(gid, (uint32_t)me[2]);
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
    /* A socket pair: both ends carry the creator's credentials. */
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_SEQPACKET, NULL, &a, &b));
    T_OK(ipcx_sock_peer_credentials(b, &pid, &uid, &gid));
    T_EQ_INT(pid, getpid());
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
    /* A connected datagram socket has none; TCP has none. */
    char dp[256];
    t_path(dp, sizeof dp, "dcred");
    ipcx_sock *d, *e;
    T_OK(ipcx_sock_bind_unix(dp, NULL, &d));
    T_OK(ipcx_sock_connect_unix(dp, IPCX_SOCK_DGRAM, NULL, 1000, &e));
    pid = 7;
    T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_sock_peer_credentials(e, &pid, &uid, &gid));
    T_EQ_INT(pid, -1);
    T_OK(ipcx_sock_close(e));
    T_OK(ipcx_sock_close(d));
    ipcx_sock_listener *tl;
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &tl));
    char addr[IPCX_SOCK_ADDR_MAX];
    listener_addr(tl, addr, sizeof addr);
    T_OK(ipcx_sock_connect_tcp(addr, NULL, 5000, &e));
    T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_sock_peer_credentials(e, &pid, &uid, &gid));
    int devnull = 0;
    T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_sock_send_fds(e, "x", 1, &devnull, 1, 1000));
    size_t n = 1;
    char b1[4];
    size_t blen = sizeof b1;
    T_ERR(IPCX_ERR_UNSUPPORTED, ipcx_sock_recv_fds(e, b1, &blen, &devnull, &n, 0));
    T_EQ_INT(n, 0);
    T_OK(ipcx_sock_close(e));
    T_OK(ipcx_sock_listener_close(tl));
}

/* ------------------------------------------------------------------ one server, 4 clients */

#define CLIENTS 4
#define PER_CLIENT 10000

T_CASE(four_clients_10k_messages_each_one_server) {
    char path[256];
    t_path(path, sizeof path, "srv");
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l));
    pid_t pids[CLIENTS];
    for (int c = 0; c < CLIENTS; c++) {
        pids[c] = t_fork();
        if (pids[c] == 0) {
            T_OK(ipcx_sock_listener_close(l));
            ipcx_sock *s;
            T_OK(ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 10000, &s));
            unsigned char msg[300];
            for (int seq = 0; seq < PER_CLIENT; seq++) {
                size_t n = 8 + (size_t)((seq * 13 + c * 7) % 290);
                memcpy(msg, &c, 4);
                memcpy(msg + 4, &seq, 4);
                pattern(msg + 8, n - 8, (unsigned)(c * 100000 + seq));
                T_OK(ipcx_sock_send(s, msg, n, 20000));
            }
            char ack[16];
            size_t len = sizeof ack;
            T_OK(ipcx_sock_recv(s, ack, &len, 30000)); /* the server's count */
            T_EQ_INT(len, sizeof(int));
            int total;
            memcpy(&total, ack, sizeof total);
            T_EQ_INT(total, PER_CLIENT);
            T_OK(ipcx_sock_close(s));
            _exit(0);
        }
    }
    ipcx_sock *conn[CLIENTS];
    struct pollfd pfd[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        T_OK(ipcx_sock_accept(l, 10000, &conn[i]));
        T_OK(ipcx_sock_fd(conn[i], &pfd[i].fd));
        pfd[i].events = POLLIN;
    }
    int next[CLIENTS] = {0}, owner[CLIENTS], done = 0;
    for (int i = 0; i < CLIENTS; i++) owner[i] = -1;
    long total = 0;
    while (done < CLIENTS) {
        int r = poll(pfd, CLIENTS, 20000);
        T_ASSERTF(r > 0, "poll timed out with %ld messages received", total);
        for (int i = 0; i < CLIENTS; i++) {
            if (!pfd[i].revents) continue;
            /* Drain: messages may already sit inside the handle. */
            for (;;) {
                unsigned char msg[300];
                size_t len = sizeof msg;
                int s = ipcx_sock_recv(conn[i], msg, &len, IPCX_NOWAIT);
                if (s == IPCX_ERR_TIMEOUT) break;
                T_OK(s);
                int c, seq;
                memcpy(&c, msg, 4);
                memcpy(&seq, msg + 4, 4);
                T_ASSERT(c >= 0 && c < CLIENTS);
                if (owner[i] < 0) owner[i] = c;
                T_EQ_INT(c, owner[i]);
                T_EQ_INT(seq, next[c]); /* per-client order */
                T_EQ_INT(len, 8 + (size_t)((seq * 13 + c * 7) % 290));
                T_ASSERT(pattern_ok(msg + 8, len - 8, (unsigned)(c * 100000 + seq)));
                next[c]++;
                total++;
                if (next[c] == PER_CLIENT) {
                    T_OK(ipcx_sock_send(conn[i], &next[c], sizeof(int), 10000));
                    pfd[i].fd = -1; /* done with this one */
                    done++;
                    break;
                }
            }
        }
    }
    T_EQ_INT(total, (long)CLIENTS * PER_CLIENT);
    for (int c = 0; c < CLIENTS; c++) {
        t_wait_ok(pids[c], 30000);
        T_EQ_INT(next[c], PER_CLIENT);
        T_OK(ipcx_sock_close(conn[c]));
    }
    T_OK(ipcx_sock_listener_close(l));
}

/* ------------------------------------------------------------------ TCP and UDP */

static void tcp_exchange(const char *listen_addr, const char *expect_prefix) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_max_message(o, 8u << 20));
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_tcp(listen_addr, o, &l));
    char addr[IPCX_SOCK_ADDR_MAX];
    listener_addr(l, addr, sizeof addr);
    T_ASSERTF(strncmp(addr, expect_prefix, strlen(expect_prefix)) == 0, "listener address %s", addr);
    T_ASSERT(strcmp(addr + strlen(expect_prefix), "0") != 0); /* a real port */
    const size_t big = 4u << 20;
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_sock *s;
        T_OK(ipcx_sock_connect_tcp(addr, o, 10000, &s));
        char a[IPCX_SOCK_ADDR_MAX];
        size_t alen = sizeof a;
        T_OK(ipcx_sock_peer_address(s, a, &alen));
        T_ASSERT(strcmp(a, addr) == 0);
        T_EQ_INT(sockopt(s, IPPROTO_TCP, TCP_NODELAY), 1); /* on by default */
        unsigned char *buf = malloc(big);
        T_ASSERT(buf);
        for (unsigned i = 0; i < 100; i++) {
            size_t n = (i * 997) % 5000;
            pattern(buf, n, i);
            T_OK(ipcx_sock_send(s, buf, n, 10000));
        }
        pattern(buf, big, 77); /* one large message: many partial writes */
        T_OK(ipcx_sock_send(s, buf, big, 30000));
        size_t wr = 0;
        T_OK(ipcx_sock_write(s, "raw bytes", 9, 10000, &wr));
        T_EQ_INT(wr, 9);
        free(buf);
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    ipcx_sock *c;
    T_OK(ipcx_sock_accept(l, 10000, &c));
    T_EQ_INT(sockopt(c, IPPROTO_TCP, TCP_NODELAY), 1);
    T_OK(ipcx_sock_set_nodelay(c, false));
    T_EQ_INT(sockopt(c, IPPROTO_TCP, TCP_NODELAY), 0);
    unsigned char *buf = malloc(big);
    T_ASSERT(buf);
    for (unsigned i = 0; i < 100; i++) {
        size_t len = big;
        T_OK(ipcx_sock_recv(c, buf, &len, 10000));
        T_EQ_INT(len, (i * 997) % 5000);
        T_ASSERT(pattern_ok(buf, len, i));
    }
    size_t len = big;
    T_OK(ipcx_sock_recv(c, buf, &len, 30000));
    T_EQ_INT(len, big);
    T_ASSERT(pattern_ok(buf, big, 77));
    char raw[16];
    size_t off = 0, n = 0;
    while (off < 9) {
        T_OK(ipcx_sock_read(c, raw + off, sizeof raw - off, 10000, &n));
        off += n;
    }
    T_ASSERT(off == 9 && memcmp(raw, "raw bytes", 9) == 0);
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_read(c, raw, sizeof raw, 10000, &n));
    T_EQ_INT(n, 0);
    free(buf);
    t_wait_ok(p, 30000);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
    T_OK(ipcx_options_close(o));
}

T_CASE(tcp_over_ipv4_and_ipv6_loopback) {
    tcp_exchange("127.0.0.1:0", "127.0.0.1:");
    tcp_exchange("[::1]:0", "[::1]:");
    /* Every local address (dual-stack), reached over IPv4 and by name. */
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_tcp(":0", NULL, &l));
    char addr[IPCX_SOCK_ADDR_MAX];
    listener_addr(l, addr, sizeof addr);
    T_ASSERTF(strncmp(addr, "[::]:", 5) == 0, "%s", addr);
    const char *port = strrchr(addr, ':') + 1;
    char to[64];
    const char *targets[] = {"127.0.0.1", "localhost", "[::1]"};
    for (int i = 0; i < 3; i++) {
        snprintf(to, sizeof to, "%s:%s", targets[i], port);
        ipcx_sock *s, *c;
        T_OK(ipcx_sock_connect_tcp(to, NULL, 5000, &s));
        T_OK(ipcx_sock_accept(l, 5000, &c));
        T_OK(ipcx_sock_send(s, to, strlen(to), 5000));
        char buf[64];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(c, buf, &len, 5000));
        T_ASSERT(len == strlen(to) && memcmp(buf, to, len) == 0);
        T_OK(ipcx_sock_close(s));
        T_OK(ipcx_sock_close(c));
    }
    T_OK(ipcx_sock_listener_close(l));
}

T_CASE(tcp_half_close_reset_and_no_sigpipe) {
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &l));
    char addr[IPCX_SOCK_ADDR_MAX];
    listener_addr(l, addr, sizeof addr);
    /* Half-close: the peer stops sending; we read EOF and can still send to it. */
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_sock *s;
        T_OK(ipcx_sock_connect_tcp(addr, NULL, 10000, &s));
        T_OK(ipcx_sock_send(s, "last", 4, 10000));
        T_OK(ipcx_sock_shutdown(s, IPCX_SOCK_SHUT_WR));
        T_ERR(IPCX_ERR_CLOSED, ipcx_sock_send(s, "more", 4, 10000)); /* no SIGPIPE */
        char buf[16];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(s, buf, &len, 10000));
        T_ASSERT(len == 5 && memcmp(buf, "reply", 5) == 0);
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    ipcx_sock *c;
    T_OK(ipcx_sock_accept(l, 10000, &c));
    char buf[16];
    size_t len = sizeof buf;
    T_OK(ipcx_sock_recv(c, buf, &len, 10000));
    T_EQ_INT(len, 4);
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(c, buf, &len, 10000));
    T_LAST_ERROR_HAS("end of file");
    T_OK(ipcx_sock_send(c, "reply", 5, 10000));
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(c));
    /* Reset: the peer aborts (SO_LINGER 0); receives and sends give IPCX_ERR_CLOSED, and
     * the process is not killed by SIGPIPE (the default action is in place here). */
    T_ASSERT(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    p = t_fork();
    if (p == 0) {
        ipcx_sock *s;
        T_OK(ipcx_sock_connect_tcp(addr, NULL, 10000, &s));
        T_OK(ipcx_sock_recv(s, buf, &len, 10000));
        int fd;
        T_OK(ipcx_sock_fd(s, &fd));
        struct linger lg = {1, 0};
        T_ASSERT(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    T_OK(ipcx_sock_accept(l, 10000, &c));
    T_OK(ipcx_sock_send(c, "go", 2, 10000));
    t_wait_ok(p, 10000);
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(c, buf, &len, 10000));
    T_LAST_ERROR_HAS("ECONNRESET");
    for (int i = 0; i < 3; i++) {
        int s = ipcx_sock_send(c, "after", 5, 1000);
        T_ASSERTF(s == IPCX_ERR_CLOSED, "send after reset: %s", ipcx_last_error());
    }
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
}

T_CASE(hostile_frame_lengths_refused) {
    /* Over a pair and over TCP: a raw peer announces 4 GiB - 1 bytes. */
    for (int tcp = 0; tcp < 2; tcp++) {
        ipcx_sock *a, *b;
        ipcx_sock_listener *l = NULL;
        if (tcp) {
            char addr[IPCX_SOCK_ADDR_MAX];
            T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &l));
            listener_addr(l, addr, sizeof addr);
            T_OK(ipcx_sock_connect_tcp(addr, NULL, 5000, &a));
            T_OK(ipcx_sock_accept(l, 5000, &b));
        } else {
            T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
        }
        unsigned char hdr[4] = {0xff, 0xff, 0xff, 0xff};
        size_t wr;
        T_OK(ipcx_sock_write(a, hdr, 4, 5000, &wr));
        char buf[64];
        size_t len = sizeof buf;
        T_ERR(IPCX_ERR_PROTOCOL, ipcx_sock_recv(b, buf, &len, 5000));
        T_LAST_ERROR_HAS("4294967295");
        len = sizeof buf;
        T_ERR(IPCX_ERR_PROTOCOL, ipcx_sock_recv(b, buf, &len, 5000)); /* sticky */
        /* A sender refuses a message above its maximum. */
        static char big[(1 << 20) + 1];
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_send(a, big, sizeof big, 5000));
        T_OK(ipcx_sock_close(a));
        T_OK(ipcx_sock_close(b));
        T_OK(ipcx_sock_listener_close(l));
    }
}

T_CASE(udp_datagrams_ipv4_and_ipv6) {
    const char *binds[] = {"127.0.0.1:0", "[::1]:0"};
    for (int i = 0; i < 2; i++) {
        ipcx_sock *srv;
        T_OK(ipcx_sock_bind_udp(binds[i], NULL, &srv));
        char addr[IPCX_SOCK_ADDR_MAX];
        size_t alen = sizeof addr;
        T_OK(ipcx_sock_local_address(srv, addr, &alen));
        pid_t p = t_fork();
        if (p == 0) {
            ipcx_sock *c;
            T_OK(ipcx_sock_connect_udp(addr, NULL, &c));
            for (int k = 0; k < 20; k++) {
                unsigned char msg[1400];
                size_t n = 1 + (size_t)k * 60;
                pattern(msg, n, (unsigned)k);
                T_OK(ipcx_sock_send(c, msg, n, 5000));
                char buf[16];
                size_t len = sizeof buf;
                T_OK(ipcx_sock_recv(c, buf, &len, 5000)); /* ack per datagram */
                T_EQ_INT(len, 3);
            }
            T_OK(ipcx_sock_close(c));
            _exit(0);
        }
        char from[IPCX_SOCK_ADDR_MAX];
        for (int k = 0; k < 20; k++) {
            unsigned char buf[2000];
            size_t len = sizeof buf, flen = sizeof from;
            T_OK(ipcx_sock_recvfrom(srv, buf, &len, from, &flen, 5000));
            T_EQ_INT(len, 1 + (size_t)k * 60);
            T_ASSERT(pattern_ok(buf, len, (unsigned)k));
            T_ASSERT(strncmp(from, i ? "[::1]:" : "127.0.0.1:", i ? 6 : 10) == 0);
            T_OK(ipcx_sock_sendto(srv, "ack", 3, from, 5000));
        }
        t_wait_ok(p, 10000);
        /* A datagram too large for the buffer stays queued; UDP's size limit is named. */
        ipcx_sock *c;
        T_OK(ipcx_sock_bind_udp(i ? "[::1]:0" : "127.0.0.1:0", NULL, &c));
        static unsigned char big[70000];
        pattern(big, 9000, 5);
        T_OK(ipcx_sock_sendto(c, big, 9000, addr, 5000));
        size_t len = 100, flen = sizeof from;
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recvfrom(srv, big + 10000, &len, from, &flen, 5000));
        T_EQ_INT(len, 9000);
        T_EQ_INT(flen, strlen(from)); /* the sender is told too */
        len = 9000;
        flen = sizeof from;
        T_OK(ipcx_sock_recvfrom(srv, big + 10000, &len, from, &flen, 5000));
        T_ASSERT(len == 9000 && pattern_ok(big + 10000, 9000, 5));
        /* Kept by a plain receive, the record still knows its sender. */
        char caddr[IPCX_SOCK_ADDR_MAX];
        size_t clen = sizeof caddr;
        T_OK(ipcx_sock_local_address(c, caddr, &clen));
        T_OK(ipcx_sock_sendto(c, big, 300, addr, 5000));
        len = 10;
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recv(srv, big + 10000, &len, 5000));
        T_EQ_INT(len, 300);
        len = 300;
        flen = sizeof from;
        T_OK(ipcx_sock_recvfrom(srv, big + 10000, &len, from, &flen, 5000));
        T_ASSERTF(strcmp(from, caddr) == 0, "sender %s, expected %s", from, caddr);
        T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_sendto(c, big, 66000, addr, 5000));
        T_LAST_ERROR_HAS("UDP");
        /* Raw bytes and shutdown-less streams do not apply to datagrams. */
        size_t wr = 1;
        T_ERR(IPCX_ERR_INVALID, ipcx_sock_write(c, "x", 1, 0, &wr));
        T_EQ_INT(wr, 0);
        T_OK(ipcx_sock_close(c));
        T_OK(ipcx_sock_close(srv));
    }
    /* Port in use. */
    ipcx_sock *u, *v = (ipcx_sock *)1;
    T_OK(ipcx_sock_bind_udp("127.0.0.1:0", NULL, &u));
    char addr[IPCX_SOCK_ADDR_MAX];
    size_t alen = sizeof addr;
    T_OK(ipcx_sock_local_address(u, addr, &alen));
    T_ERR(IPCX_ERR_IN_USE, ipcx_sock_bind_udp(addr, NULL, &v));
    T_ASSERT(v == NULL);
    T_OK(ipcx_sock_close(u));
}

/* ------------------------------------------------------------------ timeouts */

T_CASE(timeouts_never_early) {
    /* connect: a Unix listener whose backlog is full. */
    char path[256];
    t_path(path, sizeof path, "full");
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = un_addr(path);
    T_ASSERT(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 0) == 0);
    int fill[4], nfill = 0;
    for (; nfill < 4; nfill++) {
        fill[nfill] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (connect(fill[nfill], (struct sockaddr *)&sa, sizeof sa) != 0) {
            close(fill[nfill]);
            break;
        }
    }
    T_ASSERT(nfill >= 1);
    ipcx_sock *s = (ipcx_sock *)1;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 200, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 200, &s));
    T_LAST_ERROR_HAS("backlog");
    T_ASSERT(s == NULL);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 0, &s));
    for (int i = 0; i < nfill; i++) close(fill[i]);
    close(lfd);
    unlink(path);
    /* connect over TCP: a listener whose accept queue is full drops the handshake. */
    int tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    T_ASSERT(bind(tfd, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(tfd, 0) == 0);
    T_ASSERT(getsockname(tfd, (struct sockaddr *)&sin, &sl) == 0);
    int q[4], nq = 0;
    for (; nq < 3; nq++) { /* the first fills the queue; the others' handshakes are dropped */
        q[nq] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        T_ASSERT(connect(q[nq], (struct sockaddr *)&sin, sizeof sin) == 0 || errno == EINPROGRESS);
        usleep(20000);
    }
    char to[64];
    snprintf(to, sizeof to, "127.0.0.1:%d", ntohs(sin.sin_port));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_sock_connect_tcp(to, NULL, 300, &s));
    for (int i = 0; i < nq; i++) close(q[i]);
    close(tfd);
    /* send: a Unix datagram receiver whose queue is full (connected and by address). */
    char dp[256];
    t_path(dp, sizeof dp, "dfull");
    ipcx_sock *r, *w, *u;
    T_OK(ipcx_sock_bind_unix(dp, NULL, &r));
    T_OK(ipcx_sock_connect_unix(dp, IPCX_SOCK_DGRAM, NULL, 1000, &w));
    int sent = 0;
    while (ipcx_sock_send(w, "x", 1, IPCX_NOWAIT) == IPCX_OK) sent++;
    T_ASSERT(sent > 0);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_sock_send(w, "x", 1, 150));
    T_OK(ipcx_sock_bind_unix(NULL, NULL, &u));
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 150, ipcx_sock_sendto(u, "x", 1, dp, 150));
    /* A receiver frees room: a waiting send gets through. */
    pid_t p = t_fork();
    if (p == 0) {
        usleep(100000);
        char b[4];
        size_t len = sizeof b;
        T_OK(ipcx_sock_recv(r, b, &len, 1000));
        _exit(0);
    }
    T_OK(ipcx_sock_send(w, "y", 1, 10000));
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(u));
    T_OK(ipcx_sock_close(w));
    T_OK(ipcx_sock_close(r));
    /* send on a full stream: nothing accepted after a timeout; the stream stays whole. */
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &a, &b));
    static char chunk[1000];
    int n = 0;
    while (ipcx_sock_send(a, chunk, sizeof chunk, IPCX_NOWAIT) == IPCX_OK) n++;
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 100, ipcx_sock_send(a, chunk, sizeof chunk, 100));
    T_OK(ipcx_sock_flush(a, 1000));
    p = t_fork();
    if (p == 0) {
        T_OK(ipcx_sock_close(a));
        for (int i = 0; i < n; i++) {
            size_t len = sizeof chunk;
            T_OK(ipcx_sock_recv(b, chunk, &len, 10000));
            T_EQ_INT(len, sizeof chunk);
        }
        size_t len = sizeof chunk;
        T_OK(ipcx_sock_recv(b, chunk, &len, 10000)); /* the one sent after */
        T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(b, chunk, &len, 10000));
        _exit(0);
    }
    T_OK(ipcx_sock_close(b));
    T_OK(ipcx_sock_send(a, chunk, sizeof chunk, 10000));
    T_OK(ipcx_sock_close(a));
    t_wait_ok(p, 20000);
}

/* ------------------------------------------------------------------ options */

T_CASE(options_capacity_keepalive) {
    ipcx_options *o;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_capacity(o, 65536));
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(IPCX_SOCK_STREAM, o, &a, &b));
    T_ASSERT(sockopt(a, SOL_SOCKET, SO_SNDBUF) >= 65536);
    T_ASSERT(sockopt(b, SOL_SOCKET, SO_RCVBUF) >= 65536);
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
    T_OK(ipcx_options_set_capacity(o, 1u << 30));
    T_ERR(IPCX_ERR_LIMIT, ipcx_sock_pair(IPCX_SOCK_STREAM, o, &a, &b));
    T_LAST_ERROR_HAS("/proc/sys/net/core/");
    T_ASSERT(a == NULL && b == NULL);
    T_OK(ipcx_options_close(o));
    /* Keepalive: TCP only; on the connection and on the accepted side. */
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_keepalive(o, 7));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_keepalive(o, 40000));
    ipcx_sock_listener *l;
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", o, &l));
    char addr[IPCX_SOCK_ADDR_MAX];
    listener_addr(l, addr, sizeof addr);
    ipcx_sock *c, *s;
    T_OK(ipcx_sock_connect_tcp(addr, o, 5000, &c));
    T_OK(ipcx_sock_accept(l, 5000, &s));
    T_EQ_INT(sockopt(c, SOL_SOCKET, SO_KEEPALIVE), 1);
    T_EQ_INT(sockopt(c, IPPROTO_TCP, TCP_KEEPIDLE), 7);
    T_EQ_INT(sockopt(c, IPPROTO_TCP, TCP_KEEPINTVL), 7);
    T_EQ_INT(sockopt(s, SOL_SOCKET, SO_KEEPALIVE), 1);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_close(s));
    T_OK(ipcx_sock_listener_close(l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(IPCX_SOCK_STREAM, o, &a, &b));
    T_LAST_ERROR_HAS("keepalive");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_udp("127.0.0.1:0", o, &a));
    ipcx_pipe *pr, *pw;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(0, o, &pr, &pw)); /* pipes refuse it too */
    T_OK(ipcx_options_set_keepalive(o, 0)); /* explicitly off */
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", o, &l));
    listener_addr(l, addr, sizeof addr);
    T_OK(ipcx_sock_connect_tcp(addr, o, 5000, &c));
    T_EQ_INT(sockopt(c, SOL_SOCKET, SO_KEEPALIVE), 0);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_listener_close(l));
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_atomic(o, true));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(IPCX_SOCK_STREAM, o, &a, &b));
    T_LAST_ERROR_HAS("atomic");
    T_OK(ipcx_options_close(o));
}

/* ------------------------------------------------------------------ bad input */

T_CASE(bad_input) {
    ipcx_sock *s = (ipcx_sock *)1, *t = (ipcx_sock *)1;
    ipcx_sock_listener *l = (ipcx_sock_listener *)1;
    char longp[200], path[256];
    memset(longp, 'a', sizeof longp);
    longp[0] = '/';
    longp[108] = 0; /* 108 bytes: one more than sun_path holds with its NUL */
    /* Names. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(longp, IPCX_SOCK_STREAM, NULL, &l));
    T_LAST_ERROR_HAS("107");
    T_ASSERT(l == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_unix(longp, IPCX_SOCK_STREAM, NULL, 0, &s));
    T_ASSERT(s == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_unix(longp, NULL, &s));
    longp[0] = '@';
    longp[108] = 'a';
    longp[109] = 0; /* "@" + 108 */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(longp, IPCX_SOCK_STREAM, NULL, &l));
    T_LAST_ERROR_HAS("107");
    longp[108] = 0; /* "@" + 107: the longest abstract name */
    T_OK(ipcx_sock_listen_unix(longp, IPCX_SOCK_STREAM, NULL, &l));
    T_OK(ipcx_sock_listener_close(l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix("", IPCX_SOCK_STREAM, NULL, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix("@", IPCX_SOCK_STREAM, NULL, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(NULL, IPCX_SOCK_STREAM, NULL, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix("/tmp/ipcx-t-\xff", IPCX_SOCK_STREAM, NULL, &l));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_listen_unix("/nonexistent-dir/s", IPCX_SOCK_STREAM, NULL, &l));
    t_path(path, sizeof path, "bad");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 1000, &s));
    make_stale_socket(path);
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 1000, &s));
    T_LAST_ERROR_HAS("nobody is listening");
    unlink(path);
    /* Types are flags: none is a stream; several, or unknown bits, are refused. */
    T_OK(ipcx_sock_pair(0, NULL, &s, &t));
    size_t wr0 = 0;
    T_OK(ipcx_sock_write(s, "raw", 3, 1000, &wr0)); /* raw bytes: a stream */
    T_OK(ipcx_sock_close(s));
    T_OK(ipcx_sock_close(t));
    s = t = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(IPCX_SOCK_STREAM | IPCX_SOCK_DGRAM, NULL, &s, &t));
    T_LAST_ERROR_HAS("IPCX_SOCK_SEQPACKET");
    T_ASSERT(s == NULL && t == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(2, NULL, &s, &t)); /* the 0.1 value of DGRAM */
    T_LAST_ERROR_HAS("IPCX_SOCK_DGRAM");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(IPCX_SOCK_DGRAM | 0x80000000u, NULL, &s, &t));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, NULL, &t));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_pair(IPCX_SOCK_STREAM, NULL, &s, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(path, IPCX_SOCK_DGRAM, NULL, &l));
    T_LAST_ERROR_HAS("ipcx_sock_bind_unix");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(path, 9, NULL, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_unix(path, 0xffffffffu, NULL, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_unix(path, IPCX_OPEN_CREATE, NULL, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, -5, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_unix(path, IPCX_SOCK_STREAM, NULL, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_unix(path, NULL, NULL));
    T_ASSERT(!exists(path));
    /* Addresses. */
    const char *bad[] = {"", "127.0.0.1", "127.0.0.1:", ":", "::1:80", "[::1", "[::1]80",
                         "127.0.0.1:65536", "127.0.0.1:-1", "[]:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_tcp(bad[i], NULL, &l));
        T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp(bad[i], NULL, 100, &s));
        T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_udp(bad[i], NULL, &s));
        T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_udp(bad[i], NULL, &s));
    }
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp("127.0.0.1:no-such-service", NULL, 100, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_tcp(NULL, NULL, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_tcp("127.0.0.1:0", NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp(NULL, NULL, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp("127.0.0.1:1", NULL, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_udp(NULL, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_udp("127.0.0.1:0", NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_udp(NULL, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_udp("127.0.0.1:1", NULL, NULL));
    /* Datagram destinations. */
    ipcx_sock *u;
    T_OK(ipcx_sock_bind_udp("127.0.0.1:0", NULL, &u));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(u, "x", 1, "127.0.0.1", 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(u, "x", 1, "[::1", 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(u, "x", 1, NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(u, NULL, 1, "127.0.0.1:9", 0));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_sendto(u, "x", 1, "no-such-host.invalid:9", 0));
    T_LAST_ERROR_HAS("getaddrinfo");
    T_OK(ipcx_sock_close(u));
    T_OK(ipcx_sock_bind_unix(NULL, NULL, &u));
    longp[0] = '/';
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(u, "x", 1, longp, 0)); /* 107 + 1 bytes */
    T_LAST_ERROR_HAS("107");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(u, "x", 1, "", 0));
    T_OK(ipcx_sock_close(u));
    /* Unknown hosts: the resolver's message. */
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_tcp("no-such-host.invalid:80", NULL, 1000, &s));
    T_LAST_ERROR_HAS("getaddrinfo");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_listen_tcp("no-such-host.invalid:0", NULL, &l));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_udp("no-such-host.invalid:80", NULL, &s));
    /* Port in use; nobody listening. */
    ipcx_sock_listener *tl;
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &tl));
    char addr[IPCX_SOCK_ADDR_MAX];
    listener_addr(tl, addr, sizeof addr);
    T_ERR(IPCX_ERR_IN_USE, ipcx_sock_listen_tcp(addr, NULL, &l));
    T_LAST_ERROR_HAS("in use");
    T_ASSERT(l == NULL);
    T_OK(ipcx_sock_listener_close(tl));
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_tcp(addr, NULL, 5000, &s));
    T_LAST_ERROR_HAS("ECONNREFUSED");
    /* Address buffers. */
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_bind_unix(t_path(path, sizeof path, "addr"), NULL, &a));
    char small[4];
    size_t len = sizeof small;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_local_address(a, small, &len));
    T_EQ_INT(len, strlen(path)); /* always the text length: the buffer needs len + 1 */
    T_EQ_INT(small[0], 0);
    len = 0;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_local_address(a, NULL, &len)); /* ask the length */
    T_EQ_INT(len, strlen(path));
    len = strlen(path); /* no room for the NUL */
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_local_address(a, addr, &len));
    len = strlen(path) + 1;
    T_OK(ipcx_sock_local_address(a, addr, &len));
    T_EQ_INT(len, strlen(path));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_local_address(a, small, NULL));
    len = 4;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_local_address(a, NULL, &len));
    len = sizeof addr;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_peer_address(a, addr, &len)); /* not connected */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_set_nodelay(a, true)); /* not TCP */
    T_OK(ipcx_sock_close(a));
    /* Operations that do not fit the socket. */
    T_OK(ipcx_sock_pair(IPCX_SOCK_SEQPACKET, NULL, &a, &b));
    char buf[16];
    size_t n = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_read(a, buf, sizeof buf, 0, &n));
    T_LAST_ERROR_HAS("stream");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(a, "x", 1, "@x", 0));
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recvfrom(a, buf, &len, NULL, NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_shutdown(a, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_shutdown(a, 4));
    T_OK(ipcx_sock_flush(a, 0)); /* nothing pending on records */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_flush(a, -2));
    /* Buffers, lengths and counts. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(a, NULL, 5, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(a, "x", (size_t)-1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv(a, buf, NULL, 0));
    len = 5;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv(a, NULL, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(a, "x", 1, -3));
    int fd = 0, fds[300];
    for (int i = 0; i < 300; i++) fds[i] = 0;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send_fds(a, "x", 1, fds, 0, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send_fds(a, "x", 1, fds, 254, 0));
    T_LAST_ERROR_HAS("253");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send_fds(a, "x", 1, NULL, 1, 0));
    int badfd = 999;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send_fds(a, "x", 1, &badfd, 1, 0)); /* not open */
    T_OK(ipcx_sock_send_fds(a, "x", 1, fds, 253, 0)); /* the most one message carries */
    size_t nf = 0;
    len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv_fds(b, buf, &len, fds, &nf, 0));
    nf = 1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv_fds(b, buf, &len, NULL, &nf, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv_fds(b, buf, &len, fds, NULL, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv_fds(b, buf, NULL, fds, &nf, 0));
    int before = t_fd_count();
    nf = 300;
    len = sizeof buf;
    T_OK(ipcx_sock_recv_fds(b, buf, &len, fds, &nf, 0));
    T_EQ_INT(nf, 253);
    for (size_t i = 0; i < nf; i++) close(fds[i]);
    T_EQ_INT(t_fd_count(), before);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_fd(a, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_write(a, "x", 0, 0, NULL));
    /* Closed handles and double close. */
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_close(a));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_send(a, "x", 1, 0));
    len = sizeof buf;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_recv(a, buf, &len, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_write(a, "x", 1, 0, &n));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_read(a, buf, 1, 0, &n));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_flush(a, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_shutdown(a, IPCX_SOCK_SHUT_RD));
    fd = 5;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_fd(a, &fd));
    T_EQ_INT(fd, -1);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_sendto(a, "x", 1, "@x", 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_recvfrom(a, buf, &len, NULL, NULL, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_send_fds(a, "x", 1, fds, 1, 0));
    nf = 1;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_recv_fds(a, buf, &len, fds, &nf, 0));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_peer_credentials(a, NULL, NULL, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_local_address(a, addr, &len));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_peer_address(a, addr, &len));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_set_nodelay(a, true));
    T_OK(ipcx_sock_listen_unix(t_path(path, sizeof path, "l"), IPCX_SOCK_STREAM, NULL, &l));
    T_OK(ipcx_sock_listener_close(l));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_listener_close(l));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_accept(l, 0, &s));
    T_ASSERT(s == NULL);
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_listener_fd(l, &fd));
    len = sizeof addr;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_listener_address(l, addr, &len));
    /* A handle of the other type. */
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_close((ipcx_sock *)tl));
    /* NULL handles. */
    T_OK(ipcx_sock_close(NULL));
    T_OK(ipcx_sock_listener_close(NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(NULL, "x", 1, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_accept(NULL, 0, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listener_fd(NULL, &fd));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listener_address(NULL, addr, &len));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_peer_credentials(NULL, NULL, NULL, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_keepalive(NULL, 1));
    /* A listener's accept out-handle, listener_fd and address out-params. */
    T_OK(ipcx_sock_listen_unix(t_path(path, sizeof path, "l2"), IPCX_SOCK_STREAM, NULL, &l));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_accept(l, 0, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listener_fd(l, NULL));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listener_address(l, addr, NULL));
    len = 3;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_listener_address(l, addr, &len));
    T_EQ_INT(len, strlen(path));
    T_EQ_INT(addr[0], 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_accept(l, -2, &s));
    /* A child sees the same errors. */
    pid_t p = t_fork();
    if (p == 0) {
        ipcx_sock_listener *l2;
        T_ERR(IPCX_ERR_IN_USE, ipcx_sock_listen_unix(path, IPCX_SOCK_STREAM, NULL, &l2));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_listener_close(l));
}

/* ------------------------------------------------------------------ 0.2 rules */

T_CASE(recvfrom_sender_address_is_a_text_buffer) {
    char path[256], from[IPCX_SOCK_ADDR_MAX], cname[128];
    t_path(path, sizeof path, "rf");
    t_abstract(cname, sizeof cname, "sender");
    ipcx_sock *srv, *c;
    T_OK(ipcx_sock_bind_unix(path, NULL, &srv));
    T_OK(ipcx_sock_bind_unix(cname, NULL, &c));
    T_OK(ipcx_sock_sendto(c, "datagram", 8, path, 1000));
    /* The sender's address does not fit: TOO_BIG, nothing consumed, both lengths told. */
    char buf[32], tiny[4];
    size_t len = sizeof buf, flen = sizeof tiny;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recvfrom(srv, buf, &len, tiny, &flen, 1000));
    T_EQ_INT(flen, strlen(cname)); /* the text length: `from` needs flen + 1 */
    T_EQ_INT(len, 8);
    T_EQ_INT(tiny[0], 0);
    /* Asking for the length only: `from` NULL with a capacity of 0. */
    len = sizeof buf;
    flen = 0;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recvfrom(srv, buf, &len, NULL, &flen, 1000));
    T_EQ_INT(flen, strlen(cname));
    /* Room for the text but not for its NUL. */
    len = sizeof buf;
    flen = strlen(cname);
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recvfrom(srv, buf, &len, from, &flen, 1000));
    T_EQ_INT(flen, strlen(cname));
    /* Enough room: the same datagram, whole, with its sender. */
    len = sizeof buf;
    flen = strlen(cname) + 1;
    T_OK(ipcx_sock_recvfrom(srv, buf, &len, from, &flen, 1000));
    T_ASSERT(len == 8 && memcmp(buf, "datagram", 8) == 0);
    T_ASSERT(strcmp(from, cname) == 0);
    T_EQ_INT(flen, strlen(cname));
    /* Both too small: *len is the datagram's size, *from_len the address's length. */
    T_OK(ipcx_sock_sendto(c, "second datagram", 15, path, 1000));
    len = 4;
    flen = 2;
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recvfrom(srv, buf, &len, tiny, &flen, 1000));
    T_EQ_INT(len, 15);
    T_EQ_INT(flen, strlen(cname));
    /* Only the datagram too large: the sender is given as well. */
    len = 4;
    flen = sizeof from;
    memset(from, 'x', sizeof from);
    T_ERR(IPCX_ERR_TOO_BIG, ipcx_sock_recvfrom(srv, buf, &len, from, &flen, 1000));
    T_EQ_INT(len, 15);
    T_ASSERT(strcmp(from, cname) == 0);
    /* The sender not wanted: both NULL. */
    len = sizeof buf;
    T_OK(ipcx_sock_recvfrom(srv, buf, &len, NULL, NULL, 1000));
    T_ASSERT(len == 15 && memcmp(buf, "second datagram", 15) == 0);
    /* Other failures leave "" and 0. */
    len = sizeof buf;
    flen = sizeof from;
    memset(from, 'x', sizeof from);
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 0, ipcx_sock_recvfrom(srv, buf, &len, from, &flen, IPCX_NOWAIT));
    T_ASSERT(from[0] == 0 && flen == 0);
    flen = sizeof from;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recvfrom(srv, buf, &len, NULL, &flen, 0)); /* NULL from */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recvfrom(srv, buf, NULL, from, &flen, 0));
    /* An unnamed sender (a raw socket that never bound) is "". */
    int raw = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = un_addr(path);
    T_ASSERT(sendto(raw, "anon", 4, 0, (struct sockaddr *)&sa, sizeof sa) == 4);
    close(raw);
    len = sizeof buf;
    flen = sizeof from;
    memset(from, 'x', sizeof from);
    T_OK(ipcx_sock_recvfrom(srv, buf, &len, from, &flen, 1000));
    T_ASSERT(len == 4 && memcmp(buf, "anon", 4) == 0);
    T_EQ_INT(flen, 0);
    T_ASSERT(strcmp(from, "") == 0);
    T_OK(ipcx_sock_close(c));
    T_OK(ipcx_sock_close(srv));
    T_ASSERT(!exists(path));
}

T_CASE(shutdown_needs_a_connection) {
    /* A bound, unconnected datagram socket has no peer: refused, and it still receives. */
    ipcx_sock *u, *d, *a, *b;
    T_OK(ipcx_sock_bind_unix(NULL, NULL, &u));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_shutdown(u, IPCX_SOCK_SHUT_RDWR));
    T_LAST_ERROR_HAS("not connected");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_shutdown(u, IPCX_SOCK_SHUT_RD));
    char me[IPCX_SOCK_ADDR_MAX];
    size_t ml = sizeof me;
    T_OK(ipcx_sock_local_address(u, me, &ml));
    T_OK(ipcx_sock_bind_unix(NULL, NULL, &d));
    T_OK(ipcx_sock_sendto(d, "x", 1, me, 1000));
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_sock_recv(u, buf, &len, 1000));
    T_EQ_INT(len, 1);
    T_OK(ipcx_sock_close(d));
    ipcx_sock *udp;
    T_OK(ipcx_sock_bind_udp("127.0.0.1:0", NULL, &udp));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_shutdown(udp, IPCX_SOCK_SHUT_WR));
    T_LAST_ERROR_HAS("not connected");
    T_OK(ipcx_sock_close(udp));
    /* Connected datagram sockets and pairs shut down. */
    T_OK(ipcx_sock_connect_unix(me, IPCX_SOCK_DGRAM, NULL, 1000, &d));
    T_OK(ipcx_sock_shutdown(d, IPCX_SOCK_SHUT_WR));
    T_OK(ipcx_sock_close(d));
    T_OK(ipcx_sock_pair(IPCX_SOCK_DGRAM, NULL, &a, &b));
    T_OK(ipcx_sock_shutdown(a, IPCX_SOCK_SHUT_RD));
    len = sizeof buf;
    T_ERR(IPCX_ERR_CLOSED, ipcx_sock_recv(a, buf, &len, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_shutdown(a, 7)); /* not a direction */
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
    T_OK(ipcx_sock_close(u));
}

T_CASE(abstract_names_have_one_spelling) {
    char name[128], twice[140], inner[140], addr[IPCX_SOCK_ADDR_MAX];
    t_abstract(name, sizeof name, "once");
    snprintf(twice, sizeof twice, "@%s", name); /* "@@ipcx-t-...": would print with two */
    ipcx_sock_listener *l = (ipcx_sock_listener *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_listen_unix(twice, IPCX_SOCK_STREAM, NULL, &l));
    T_LAST_ERROR_HAS("two '@'");
    T_ASSERT(l == NULL);
    ipcx_sock *s = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_bind_unix(twice, NULL, &s));
    T_ASSERT(s == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_unix(twice, 0, NULL, 0, &s));
    T_OK(ipcx_sock_bind_unix(NULL, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_sendto(s, "x", 1, twice, 0));
    T_OK(ipcx_sock_close(s));
    /* An '@' inside a name is part of it; the name prints as it was given. */
    snprintf(inner, sizeof inner, "%s@x", name);
    T_OK(ipcx_sock_listen_unix(inner, 0, NULL, &l));
    listener_addr(l, addr, sizeof addr);
    T_ASSERT(strcmp(addr, inner) == 0);
    T_OK(ipcx_sock_listener_close(l));
}

/* ---------------------------------------------------------------- adopting descriptors */

static int fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }
static int fd_is_cloexec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

/* A socketpair made with the raw API: each process adopts its end and they talk. */
T_CASE(adopt_socketpair_ends_across_fork) {
    static const int types[] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
    static const uint32_t flags[] = {IPCX_SOCK_STREAM, IPCX_SOCK_SEQPACKET, 0};
    for (int k = 0; k < 3; k++) {
        int sv[2];
        T_ASSERT(socketpair(AF_UNIX, types[k], 0, sv) == 0); /* no SOCK_CLOEXEC */
        pid_t p = t_fork();
        if (p == 0) {
            close(sv[0]);
            ipcx_sock *c = NULL;
            T_OK(ipcx_sock_adopt(sv[1], 0, NULL, &c));
            char buf[32];
            size_t len = sizeof buf;
            T_OK(ipcx_sock_recv(c, buf, &len, 10000));
            T_EQ_INT(len, 4);
            T_ASSERT(memcmp(buf, "ping", 4) == 0);
            T_OK(ipcx_sock_send(c, "pong!", 5, 10000));
            T_OK(ipcx_sock_close(c));
            T_ASSERT(!fd_is_open(sv[1])); /* the handle owned it */
            _exit(0);
        }
        close(sv[1]);
        ipcx_sock *s = NULL;
        T_OK(ipcx_sock_adopt(sv[0], flags[k], NULL, &s));
        T_ASSERT(s != NULL);
        T_ASSERT(fd_is_cloexec(sv[0]));
        int fd = -1;
        T_OK(ipcx_sock_fd(s, &fd));
        T_EQ_INT(fd, sv[0]); /* handed back out, borrowed */
        T_OK(ipcx_sock_send(s, "ping", 4, 10000));
        char buf[32];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(s, buf, &len, 10000));
        T_EQ_INT(len, 5);
        T_ASSERT(memcmp(buf, "pong!", 5) == 0);
        t_wait_ok(p, 10000);
        T_OK(ipcx_sock_close(s));
        T_ASSERT(!fd_is_open(sv[0]));
    }
}

/* A connection the program's own TCP listener accepted, and the program's own connected
 * socket, adopted; the listener itself is refused. */
T_CASE(adopt_an_accepted_tcp_connection) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_ASSERT(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    T_ASSERT(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    T_ASSERT(listen(l, 4) == 0);
    T_ASSERT(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
    ipcx_sock *x = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(l, 0, NULL, &x));
    T_ASSERT(x == NULL);
    T_LAST_ERROR_HAS("listening socket");
    pid_t p = t_fork();
    if (p == 0) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        T_ASSERT(c >= 0);
        T_ASSERT(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
        ipcx_sock *s = NULL;
        T_OK(ipcx_sock_adopt(c, IPCX_SOCK_STREAM, NULL, &s));
        T_OK(ipcx_sock_send(s, "hello", 5, 10000));
        char buf[16];
        size_t len = sizeof buf;
        T_OK(ipcx_sock_recv(s, buf, &len, 10000));
        T_EQ_INT(len, 3);
        T_OK(ipcx_sock_close(s));
        _exit(0);
    }
    int c = accept(l, NULL, NULL);
    T_ASSERT(c >= 0);
    close(l);
    ipcx_sock *s = NULL;
    T_OK(ipcx_sock_adopt(c, 0, NULL, &s));
    T_ASSERT(fd_is_cloexec(c));
    char buf[16];
    size_t len = sizeof buf;
    T_OK(ipcx_sock_recv(s, buf, &len, 10000));
    T_EQ_INT(len, 5);
    T_ASSERT(memcmp(buf, "hello", 5) == 0);
    T_OK(ipcx_sock_send(s, "bye", 3, 10000));
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(s));
}

T_CASE(adopt_bad_input) {
    ipcx_sock *s = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(-1, 0, NULL, &s));
    T_ASSERT(s == NULL);
    T_LAST_ERROR_HAS("not a descriptor");
    /* A regular file: refused, and still the caller's. */
    FILE *f = tmpfile();
    T_ASSERT(f != NULL);
    s = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(fileno(f), 0, NULL, &s));
    T_ASSERT(s == NULL);
    T_LAST_ERROR_HAS("not a socket");
    T_LAST_ERROR_HAS("ipcx_sock_adopt");
    T_ASSERT(fd_is_open(fileno(f)));
    fclose(f);
    /* A closed descriptor. */
    int sv[2];
    T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    int closed = dup(sv[0]);
    T_ASSERT(closed >= 0);
    close(closed);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(closed, 0, NULL, &s));
    T_LAST_ERROR_HAS("not an open descriptor");
    /* Unknown flags, several types, another type than the socket's. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(sv[0], 0x1, NULL, &s));
    T_LAST_ERROR_HAS("unknown flags 0x1");
    T_ERR(IPCX_ERR_INVALID,
          ipcx_sock_adopt(sv[0], IPCX_SOCK_STREAM | IPCX_SOCK_DGRAM, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(sv[0], IPCX_SOCK_DGRAM, NULL, &s));
    T_LAST_ERROR_HAS("is a stream socket");
    /* NULL out: refused, the descriptor untouched. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(sv[0], 0, NULL, NULL));
    T_LAST_ERROR_HAS("out_sock");
    /* An option sockets do not honour; closed options. */
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0600));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(sv[0], 0, o, &s));
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_adopt(sv[0], 0, o, &s));
    T_ASSERT(s == NULL);
    T_ASSERT(fd_is_open(sv[0]) && fd_is_open(sv[1]));
    close(sv[0]);
    close(sv[1]);
    /* A stream socket that is not connected. */
    int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_ASSERT(u >= 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(u, 0, NULL, &s));
    T_LAST_ERROR_HAS("not connected");
    close(u);
    /* A pipe end is not a socket. */
    int pf[2];
    T_ASSERT(pipe2(pf, O_CLOEXEC) == 0);
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_adopt(pf[0], 0, NULL, &s));
    T_LAST_ERROR_HAS("ipcx_pipe_adopt");
    close(pf[0]);
    close(pf[1]);
}

/* ---------------------------------------------------------------- connect without waiting */

/* Start, wait for writability, finish: the event-loop way to connect over TCP; a refused
 * connect is reported by the finish, every time. */
T_CASE(connect_tcp_start_then_finish_when_writable) {
    ipcx_sock_listener *l = NULL;
    T_OK(ipcx_sock_listen_tcp("127.0.0.1:0", NULL, &l));
    char at[IPCX_SOCK_ADDR_MAX];
    size_t alen = sizeof at;
    T_OK(ipcx_sock_listener_address(l, at, &alen));
    ipcx_sock *s = NULL;
    T_OK(ipcx_sock_connect_tcp_start(at, NULL, &s));
    T_ASSERT(s != NULL);
    /* Before the finish: no I/O. */
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(s, "x", 1, 0));
    T_LAST_ERROR_HAS("ipcx_sock_connect_finish");
    char buf[16];
    size_t len = sizeof buf;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_recv(s, buf, &len, 0));
    int fd = -1;
    T_OK(ipcx_sock_fd(s, &fd));
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    T_EQ_INT(poll(&pf, 1, 5000), 1);
    T_ASSERT(pf.revents & POLLOUT);
    T_OK(ipcx_sock_connect_finish(s));
    T_OK(ipcx_sock_connect_finish(s)); /* connected already */
    int nd = 0;
    socklen_t ndl = sizeof nd;
    T_ASSERT(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd, &ndl) == 0 && nd);
    T_ASSERT((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0); /* blocking again, as ipcx's own */
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_sock_close(s));
        ipcx_sock *c = NULL;
        T_OK(ipcx_sock_accept(l, 10000, &c));
        size_t n = sizeof buf;
        T_OK(ipcx_sock_recv(c, buf, &n, 10000));
        T_OK(ipcx_sock_send(c, buf, n, 10000));
        T_OK(ipcx_sock_close(c));
        T_OK(ipcx_sock_listener_close(l));
        _exit(0);
    }
    T_OK(ipcx_sock_send(s, "hello", 5, 10000));
    len = sizeof buf;
    T_OK(ipcx_sock_recv(s, buf, &len, 10000));
    T_EQ_INT(len, 5);
    T_ASSERT(memcmp(buf, "hello", 5) == 0);
    t_wait_ok(p, 10000);
    T_OK(ipcx_sock_close(s));
    T_OK(ipcx_sock_listener_close(l));
    /* Nobody listens there any more: the finish says so, and keeps saying it. */
    T_OK(ipcx_sock_connect_tcp_start(at, NULL, &s));
    T_OK(ipcx_sock_fd(s, &fd));
    pf.fd = fd;
    pf.revents = 0;
    T_EQ_INT(poll(&pf, 1, 5000), 1);
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_finish(s));
    T_LAST_ERROR_HAS("nobody is listening");
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_sock_connect_finish(s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_send(s, "x", 1, 0));
    T_OK(ipcx_sock_close(s));
    /* Bad input: names (the resolver cannot be bounded), NULLs, options, closed handles. */
    s = (ipcx_sock *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp_start("localhost:80", NULL, &s));
    T_ASSERT(s == NULL);
    T_LAST_ERROR_HAS("numeric address");
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp_start(NULL, NULL, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp_start("127.0.0.1:1", NULL, NULL));
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0600));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_tcp_start("127.0.0.1:1", o, &s));
    T_OK(ipcx_options_close(o));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_connect_tcp_start("127.0.0.1:1", o, &s));
    T_ERR(IPCX_ERR_INVALID, ipcx_sock_connect_finish(NULL));
    ipcx_sock *a, *b;
    T_OK(ipcx_sock_pair(0, NULL, &a, &b));
    T_OK(ipcx_sock_connect_finish(a)); /* never connecting: nothing to finish */
    T_OK(ipcx_sock_close(a));
    T_OK(ipcx_sock_close(b));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_sock_connect_finish(a));
}

T_MAIN(T_ENTRY(pair_every_type_across_fork), T_ENTRY(pair_fds_poll_and_nowait),
       T_ENTRY(unix_stream_over_a_path), T_ENTRY(unix_seqpacket_over_an_abstract_name),
       T_ENTRY(unix_datagrams_bind_sendto_recvfrom),
       T_ENTRY(records_too_big_kept_and_above_max_discarded),
       T_ENTRY(stale_socket_files_replaced_nothing_else_touched),
       T_ENTRY(unrelated_process_over_a_path), T_ENTRY(unrelated_process_over_an_abstract_name),
       T_ENTRY(pass_a_pipe_end_the_receiver_uses),
       T_ENTRY(stream_descriptors_stay_with_their_message),
       T_ENTRY(descriptors_cut_are_reported_and_closed), T_ENTRY(peer_credentials_of_the_sender),
       T_ENTRY(four_clients_10k_messages_each_one_server), T_ENTRY(tcp_over_ipv4_and_ipv6_loopback),
       T_ENTRY(tcp_half_close_reset_and_no_sigpipe), T_ENTRY(hostile_frame_lengths_refused),
       T_ENTRY(udp_datagrams_ipv4_and_ipv6), T_ENTRY(timeouts_never_early),
       T_ENTRY(options_capacity_keepalive), T_ENTRY(bad_input),
       T_ENTRY(recvfrom_sender_address_is_a_text_buffer), T_ENTRY(shutdown_needs_a_connection),
       T_ENTRY(abstract_names_have_one_spelling), T_ENTRY(adopt_socketpair_ends_across_fork),
       T_ENTRY(adopt_an_accepted_tcp_connection), T_ENTRY(adopt_bad_input),
       T_ENTRY(connect_tcp_start_then_finish_when_writable))
