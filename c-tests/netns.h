/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Two "hosts" on one machine: two network namespaces joined by a veth pair, made with
 * ip(8). Used by test_sock_netns.c and the tour's cross-host rows (header-only).
 *
 *   host A: 10.77.0.1/24, fd77::1/64        host B: 10.77.0.2/24, fd77::2/64
 *
 * Names are unique per process ("ipcx-<tag>-<pid>-a"). A watcher process removes both
 * namespaces (and with them the veth pair) when the creator's end of a pipe closes: at
 * netns_pair_destroy, or when the creating process dies, however it dies. Traffic between
 * the namespaces never leaves them. */
#ifndef IPCX_NETNS_H
#define IPCX_NETNS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct netns_pair {
    char a[64], b[64];            /* namespace names */
    char veth_a[16], veth_b[16];  /* interface names (at most 15 characters) */
    pid_t watcher;
    int guard;                    /* closing it makes the watcher remove everything */
};

/* Run a shell command quietly; returns its exit status. */
static int netns_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int netns_run(const char *fmt, ...) {
    char cmd[512], quiet[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(quiet, sizeof quiet, "%s >/dev/null 2>&1", cmd);
    int st = system(quiet);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Whether this process may create network namespaces with ip(8); `why` says if not. */
static int netns_available(char *why, size_t n) {
    if (netns_run("ip -V") != 0) {
        snprintf(why, n, "ip(8) from iproute2 is not installed");
        return 0;
    }
    pid_t p = fork();
    if (p == 0) _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    int st = 0;
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(why, n, "cannot create a network namespace (needs root: CAP_SYS_ADMIN)");
        return 0;
    }
    char probe[64];
    snprintf(probe, sizeof probe, "ipcx-probe-%d", (int)getpid());
    if (netns_run("ip netns add %s", probe) != 0) {
        snprintf(why, n, "'ip netns add' failed (cannot mount /run/netns?)");
        return 0;
    }
    netns_run("ip netns del %s", probe);
    return 1;
}

static void netns_remove(const struct netns_pair *p) {
    /* Deleting a namespace destroys the veth end inside it, and so its peer. */
    netns_run("ip netns del %s", p->a);
    netns_run("ip netns del %s", p->b);
}

/* Create the pair; `tag` goes into the names. Returns 0, or -1 with `err` set (everything
 * created so far is removed). */
static int netns_pair_create(struct netns_pair *p, const char *tag, char *err, size_t n) {
    int pid = (int)getpid();
    snprintf(p->a, sizeof p->a, "ipcx-%s-%d-a", tag, pid);
    snprintf(p->b, sizeof p->b, "ipcx-%s-%d-b", tag, pid);
    snprintf(p->veth_a, sizeof p->veth_a, "ix%.2s%da", tag, pid);
    snprintf(p->veth_b, sizeof p->veth_b, "ix%.2s%db", tag, pid);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, n, "pipe2: %s", strerror(errno));
        return -1;
    }
    p->watcher = fork();
    if (p->watcher < 0) {
        snprintf(err, n, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (p->watcher == 0) {
        close(fds[1]);
        char c;
        for (;;) { /* until end of file */
            ssize_t r = read(fds[0], &c, 1);
            if (r < 0 && errno == EINTR) continue;
            break;
        }
        netns_remove(p);
        _exit(0);
    }
    close(fds[0]);
    p->guard = fds[1];
    const char *steps[][2] = {
        {"ip netns add %s", p->a},
        {"ip netns add %s", p->b},
    };
    for (size_t i = 0; i < 2; i++) {
        if (netns_run(steps[i][0], steps[i][1]) != 0) {
            snprintf(err, n, "ip netns add %s failed", steps[i][1]);
            goto fail;
        }
    }
    if (netns_run("ip link add %s netns %s type veth peer name %s netns %s", p->veth_a, p->a,
                  p->veth_b, p->b) != 0 ||
        netns_run("ip -n %s addr add 10.77.0.1/24 dev %s", p->a, p->veth_a) != 0 ||
        netns_run("ip -n %s addr add 10.77.0.2/24 dev %s", p->b, p->veth_b) != 0 ||
        netns_run("ip -n %s addr add fd77::1/64 dev %s nodad", p->a, p->veth_a) != 0 ||
        netns_run("ip -n %s addr add fd77::2/64 dev %s nodad", p->b, p->veth_b) != 0 ||
        netns_run("ip -n %s link set lo up", p->a) != 0 ||
        netns_run("ip -n %s link set lo up", p->b) != 0 ||
        netns_run("ip -n %s link set %s up", p->a, p->veth_a) != 0 ||
        netns_run("ip -n %s link set %s up", p->b, p->veth_b) != 0) {
        snprintf(err, n, "setting up the veth pair %s/%s failed", p->veth_a, p->veth_b);
        goto fail;
    }
    return 0;
fail:
    close(p->guard);
    waitpid(p->watcher, NULL, 0);
    return -1;
}

/* Move the calling process (single-threaded) into namespace `ns`. 0 or -1. */
static int netns_enter(const char *ns) {
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = setns(fd, CLONE_NEWNET);
    close(fd);
    return r;
}

/* In a child forked after netns_pair_create: drop the guard so that only the creator keeps
 * the namespaces alive. */
static void netns_child(struct netns_pair *p) {
    close(p->guard);
}

/* Remove both namespaces and the veth pair, and reap the watcher. */
static void netns_pair_destroy(struct netns_pair *p) {
    netns_remove(p);
    close(p->guard);
    waitpid(p->watcher, NULL, 0);
}

#endif
