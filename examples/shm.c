/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: the seed's shared memory pattern, with the hand-off made explicit.
 *
 * Shared memory has no synchronisation of its own. The seed pairs it with semaphores
 * (P/V): here two process-shared semaphores live in the shared object itself, next to the
 * record they guard:
 *   "ready" (starts at 0): the writer posts it (V) after writing a record; the reader waits
 *           on it (P) before reading;
 *   "free"  (starts at 1): the reader posts it after reading; the writer waits on it before
 *           overwriting the record.
 *
 * The parent creates a POSIX shared memory object, sizes and maps it, and initialises the
 * semaphores in it. The child opens the object by name and maps it, as an unrelated program
 * would, and attaches to the semaphores at their offsets.
 *
 * Build: cc shm.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct record {
    int id;
    char text[60];
};

/* Layout of the shared object: two semaphore slots, then the record. */
#define READY_AT 0
#define FREE_AT IPCX_SEM_SIZE
#define RECORD_AT (2 * IPCX_SEM_SIZE)
#define ROUNDS 3

#define CHECK(call)                                                             \
    do {                                                                        \
        if ((call) != IPCX_OK) {                                                \
            fprintf(stderr, "%s: %s\n", #call, ipcx_last_error());              \
            return 1;                                                           \
        }                                                                       \
    } while (0)

static int reader(const char *name) {
    ipcx_shm *shm;
    ipcx_region *region;
    ipcx_sem *ready, *free_;
    CHECK(ipcx_shm_open(name, 0, NULL, &shm)); /* open by name */
    CHECK(ipcx_shm_map(shm, 0, &region));
    CHECK(ipcx_shm_close(shm));                /* the mapping stays */
    CHECK(ipcx_sem_attach(region, READY_AT, &ready));
    CHECK(ipcx_sem_attach(region, FREE_AT, &free_));
    for (int i = 0; i < ROUNDS; i++) {
        struct record rec;
        CHECK(ipcx_sem_wait(ready, 5000));                          /* P(ready) */
        CHECK(ipcx_region_read(region, RECORD_AT, &rec, sizeof rec)); /* bounded copy */
        printf("reader: record %d: %s\n", rec.id, rec.text);
        CHECK(ipcx_sem_post(free_));                                /* V(free) */
    }
    ipcx_sem_close(ready); /* detach only: the semaphores belong to the object */
    ipcx_sem_close(free_);
    CHECK(ipcx_region_close(region));
    return 0;
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipcx-example-%d", (int)getpid());
    ipcx_shm *shm;
    ipcx_region *region;
    ipcx_sem *ready, *free_;
    CHECK(ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &shm)); /* 0600 */
    CHECK(ipcx_shm_set_size(shm, RECORD_AT + sizeof(struct record)));
    CHECK(ipcx_shm_map(shm, 0, &region));
    CHECK(ipcx_shm_close(shm));
    CHECK(ipcx_sem_init(region, READY_AT, 0, &ready)); /* nothing to read yet */
    CHECK(ipcx_sem_init(region, FREE_AT, 1, &free_));  /* the slot is free */

    pid_t pid = fork();
    if (pid == 0) {
        ipcx_sem_close(ready); /* the child attaches by itself, after mapping by name */
        ipcx_sem_close(free_);
        ipcx_region_close(region);
        int rc = reader(name);
        fflush(stdout);
        _exit(rc);
    }
    const char *lines[ROUNDS] = {"hello", "from the writer", "through shared memory"};
    for (int i = 0; i < ROUNDS; i++) {
        struct record rec = {.id = i};
        snprintf(rec.text, sizeof rec.text, "%s", lines[i]);
        CHECK(ipcx_sem_wait(free_, 5000));                             /* P(free) */
        CHECK(ipcx_region_write(region, RECORD_AT, &rec, sizeof rec)); /* write the record */
        CHECK(ipcx_sem_post(ready));                                   /* V(ready): say so */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(ipcx_sem_wait(free_, 5000)); /* the last record was read */
    CHECK(ipcx_sem_destroy(ready));    /* nobody uses them any more */
    CHECK(ipcx_sem_destroy(free_));
    CHECK(ipcx_sem_close(ready));      /* destroy leaves the handles: release them */
    CHECK(ipcx_sem_close(free_));
    CHECK(ipcx_region_close(region));
    CHECK(ipcx_shm_remove(name));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
