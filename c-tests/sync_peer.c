/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A separate program for the semaphore and lock tests: the "unrelated process" that shares
 * nothing with the test but names (a semaphore name, a System V key, a file it maps itself).
 * Started with fork + exec, so it inherits no handle and no mapping.
 *
 *   sync_peer mutex-count <file> <mutex-offset> <counter-offset> <count>
 *       map <file> (MAP_SHARED), attach to the mutex at <mutex-offset> by address, and add 1
 *       to the long at <counter-offset> <count> times, each under the lock.
 *   sync_peer mutex-hold <file> <mutex-offset> <flag-offset>
 *       attach, lock, set the int at <flag-offset> to 1 and sleep until killed (at most 30 s).
 *   sync_peer sem-count <name> <file> <counter-offset> <count>
 *       open the named semaphore and add 1 to the long at <counter-offset> <count> times,
 *       each between a wait and a post.
 *   sync_peer semset-hold <key> <index>
 *       open the System V set with <key>, P on <index> with SEM_UNDO, then sleep until killed.
 * Exit status 0 on success; messages on stderr otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipcx.h"

#define CHECK(call)                                                                   \
    do {                                                                              \
        int s_ = (call);                                                              \
        if (s_ != IPCX_OK) {                                                          \
            fprintf(stderr, "sync_peer %d: %s: %s: %s\n", (int)getpid(), #call,       \
                    ipcx_strerror(s_), ipcx_last_error());                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static char *map_file(const char *path, size_t *len) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        exit(1);
    }
    char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    *len = (size_t)st.st_size;
    return p;
}

static int mutex_count(const char *path, long moff, long coff, long count) {
    size_t len;
    char *base = map_file(path, &len);
    ipcx_mutex *m;
    CHECK(ipcx_mutex_attach_at(base + moff, &m));
    munmap(base, len); /* the handle keeps its own mapping of the mutex... */
    base = map_file(path, &len); /* ...and we map the counter again */
    volatile long *counter = (volatile long *)(base + coff);
    for (long i = 0; i < count; i++) {
        CHECK(ipcx_mutex_lock(m, 20000));
        (*counter)++;
        CHECK(ipcx_mutex_unlock(m));
    }
    CHECK(ipcx_mutex_close(m));
    munmap(base, len);
    return 0;
}

static int mutex_hold(const char *path, long moff, long foff) {
    size_t len;
    char *base = map_file(path, &len);
    ipcx_mutex *m;
    CHECK(ipcx_mutex_attach_at(base + moff, &m));
    CHECK(ipcx_mutex_lock(m, 20000));
    __atomic_store_n((int *)(base + foff), 1, __ATOMIC_SEQ_CST);
    sleep(30); /* killed long before */
    return 2;
}

static int sem_count(const char *name, const char *path, long coff, long count) {
    size_t len;
    char *base = map_file(path, &len);
    volatile long *counter = (volatile long *)(base + coff);
    ipcx_sem *s;
    CHECK(ipcx_sem_open(name, 0, 0, NULL, &s));
    for (long i = 0; i < count; i++) {
        CHECK(ipcx_sem_wait(s, 20000));
        (*counter)++;
        CHECK(ipcx_sem_post(s));
    }
    CHECK(ipcx_sem_close(s));
    munmap(base, len);
    return 0;
}

static int semset_hold(int key, unsigned index) {
    ipcx_semset *s;
    CHECK(ipcx_semset_open(key, index + 1, NULL, 0, NULL, 10000, &s));
    CHECK(ipcx_semset_p(s, index, IPCX_SEMSET_UNDO, 10000));
    sleep(30); /* killed long before */
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "mutex-count") == 0)
        return mutex_count(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]));
    if (argc == 5 && strcmp(argv[1], "mutex-hold") == 0)
        return mutex_hold(argv[2], atol(argv[3]), atol(argv[4]));
    if (argc == 6 && strcmp(argv[1], "sem-count") == 0)
        return sem_count(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
    if (argc == 4 && strcmp(argv[1], "semset-hold") == 0)
        return semset_hold(atoi(argv[2]), (unsigned)atoi(argv[3]));
    fprintf(stderr, "usage: see sync_peer.c\n");
    return 2;
}
