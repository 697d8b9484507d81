/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Helpers shared by the semaphore and lock tests (test_sem.c, test_lock.c). */
#ifndef IPCX_SYNC_UTIL_H
#define IPCX_SYNC_UTIL_H

#include <grp.h>
#include <sys/prctl.h>

#include "test.h"

/* The uid of nobody, for the permission cases (run as root, in a forked child). */
#define T_NOBODY 65534u

/* Root only: switch this (forked) process to `uid`/`uid` for good. */
static void t_become(uid_t uid) {
    T_ASSERT(setgroups(0, NULL) == 0);
    T_ASSERT(setresgid(uid, uid, uid) == 0);
    T_ASSERT(setresuid(uid, uid, uid) == 0);
    T_ASSERT(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
}

/* Whether the permission cases can run here (they switch users). */
static int t_can_switch_users(void) {
    if (geteuid() == 0) return 1;
    printf("  (skipped: needs root to switch users)\n");
    return 0;
}

/* The base address of a region. */
static void *base_of(ipcx_region *r) {
    void *b = NULL;
    T_OK(ipcx_region_base(r, &b, NULL));
    return b;
}

/* Start c-tests/sync_peer (next to the test binary) with `argv`: an unrelated process. */
static pid_t spawn_peer(char *const argv[]) {
    pid_t p = t_fork();
    if (p == 0) {
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/sync_peer", t_exe_dir());
        execv(exe, argv);
        _exit(127);
    }
    return p;
}

/* A new file of `len` zero bytes (its path, tracked, in `path`), mapped MAP_SHARED. */
static char *map_new_file(char *path, size_t pathlen, size_t len) {
    t_path(path, pathlen, "map");
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    T_ASSERT(fd >= 0);
    T_ASSERT(ftruncate(fd, (off_t)len) == 0);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    T_ASSERT(p != MAP_FAILED);
    close(fd);
    return p;
}

/* Wait up to 10 s for `pred` to hold. */
#define T_EVENTUALLY(pred)                                                          \
    do {                                                                            \
        double t_end_ = t_now_ms() + 10000;                                         \
        while (!(pred)) {                                                           \
            if (t_now_ms() > t_end_) T_FAIL("timed out waiting for %s", #pred);     \
            usleep(1000);                                                           \
        }                                                                           \
    } while (0)

/* Wait for a child that must have died by SIGKILL. */
static void t_wait_killed(pid_t p) {
    int st = t_wait(p, 10000);
    T_ASSERTF(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child %d: status %#x", (int)p, st);
}

#endif
