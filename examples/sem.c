/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: shared memory guarded by a semaphore, and a robust mutex that survives a crash.
 *
 * The seed pairs shared memory with a semaphore: the memory carries the data, the
 * semaphore (P = wait, V = post) makes the processes take turns. Here four children add
 * to one counter in an anonymous shared region, each increment between P and V on an
 * unnamed semaphore placed in the same region. Then a child dies (SIGKILL) while holding a
 * robust mutex: the next locker is told (IPCX_ERR_OWNER_DEAD), repairs the data, and marks
 * the mutex consistent. Last, a System V semaphore taken with SEM_UNDO is given back by the
 * kernel when its holder is killed.
 *
 * Build: cc sem.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(call)                                                                  \
    do {                                                                             \
        if ((call) != IPCX_OK) {                                                     \
            fprintf(stderr, "%s\n", ipcx_last_error());                              \
            return 1;                                                                \
        }                                                                            \
    } while (0)

/* Region layout: slots of the published sizes, then the data. */
#define SEM_AT 0
#define MUTEX_AT IPCX_SEM_SIZE
#define DATA_AT (IPCX_SEM_SIZE + IPCX_MUTEX_SIZE)

int main(void) {
    ipcx_region *r;
    CHECK(ipcx_region_create(4096, &r));
    void *base;
    CHECK(ipcx_region_base(r, &base, NULL));
    volatile long *counter = (volatile long *)((char *)base + DATA_AT);

    /* A process-shared semaphore with value 1: a lock for the counter. */
    ipcx_sem *sem;
    CHECK(ipcx_sem_init(r, SEM_AT, 1, &sem));
    for (int c = 0; c < 4; c++) {
        if (fork() == 0) { /* children inherit the region and the handle */
            for (int i = 0; i < 10000; i++) {
                if (ipcx_sem_wait(sem, 5000 /* ms */) != IPCX_OK) _exit(1); /* P */
                (*counter)++;
                ipcx_sem_post(sem);                                          /* V */
            }
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {
    }
    printf("counter = %ld (expected 40000)\n", *counter);
    ipcx_sem_destroy(sem); /* the semaphore; the handle stays until closed */
    ipcx_sem_close(sem);

    /* A robust mutex: its owner dies holding it. */
    ipcx_mutex *m;
    CHECK(ipcx_mutex_init(r, MUTEX_AT, NULL, &m));
    if (fork() == 0) {
        ipcx_mutex_lock(m, IPCX_FOREVER);
        *counter = -1;   /* halfway through an update... */
        raise(SIGKILL);  /* ...and gone */
    }
    wait(NULL);
    int s = ipcx_mutex_lock(m, 5000);
    if (s == IPCX_ERR_OWNER_DEAD) { /* we hold the lock; the data may be inconsistent */
        printf("previous owner died: repairing\n");
        *counter = 40000;
        ipcx_mutex_consistent(m); /* without this, unlock makes the mutex unusable */
    } else if (s != IPCX_OK) {
        fprintf(stderr, "%s\n", ipcx_last_error());
        return 1;
    }
    ipcx_mutex_unlock(m);
    /* System V: a child takes the semaphore with SEM_UNDO and is killed holding it. */
    ipcx_semset *set;
    int32_t one = 1, v = -1;
    CHECK(ipcx_semset_open(IPCX_KEY_PRIVATE, 1, &one, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                           IPCX_NOWAIT, &set));
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_semset_p(set, 0, IPCX_SEMSET_UNDO, 5000);
        pause(); /* killed while holding it */
    }
    while (ipcx_semset_get(set, 0, &v) == IPCX_OK && v != 0) usleep(1000); /* taken */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ipcx_semset_get(set, 0, &v);
    printf("System V semaphore after its holder was killed: %d (SEM_UNDO gave it back)\n", (int)v);
    ipcx_semset_remove(set); /* System V sets outlive processes: remove explicitly */
    ipcx_semset_close(set);

    long final = v == 1 ? *counter : -1;
    printf("counter = %ld after recovery\n", final);
    ipcx_mutex_destroy(m);
    ipcx_mutex_close(m);
    ipcx_region_close(r); /* the pointers into the region are invalid from here on */
    return final == 40000 ? 0 : 1;
}
