/* Example: the seed's shared memory pattern, with the hand-off made explicit.
 *
 * One process writes a record into shared memory, then tells the other "record ready";
 * only then does the other read it, and it answers "record read" so that the writer knows
 * it may reuse the space. Shared memory has no synchronisation of its own: the notes (here
 * pipe messages; semaphores work too) are what make the record safe to read and rewrite.
 *
 * The parent creates a POSIX shared memory object, sizes and maps it. The child opens it by
 * name, as an unrelated program would, and maps it too: both see the same memory.
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

#define CHECK(call)                                                             \
    do {                                                                        \
        if ((call) != IPCX_OK) {                                                \
            fprintf(stderr, "%s: %s\n", #call, ipcx_last_error());              \
            return 1;                                                           \
        }                                                                       \
    } while (0)

static int reader(const char *name, ipcx_pipe *notes) {
    ipcx_shm *shm;
    ipcx_region *region;
    CHECK(ipcx_shm_open(name, 0, NULL, &shm));        /* open by name */
    CHECK(ipcx_shm_map(shm, IPCX_SHM_READ_ONLY, &region));
    CHECK(ipcx_shm_close(shm));                        /* the mapping stays */
    for (;;) {
        char note[16];
        size_t len = sizeof note;
        int s = ipcx_pipe_recv(notes, note, &len, 5000); /* wait for "record ready" */
        if (s == IPCX_ERR_CLOSED) break;                /* the writer is done */
        CHECK(s);
        struct record rec;
        CHECK(ipcx_region_read(region, 0, &rec, sizeof rec)); /* bounded copy */
        printf("reader: record %d: %s\n", rec.id, rec.text);
        CHECK(ipcx_pipe_send(notes, "record read", 11, 5000)); /* the space is free again */
    }
    CHECK(ipcx_region_close(region));
    return 0;
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipcx-example-%d", (int)getpid());
    ipcx_shm *shm;
    ipcx_region *region;
    CHECK(ipcx_shm_open(name, IPCX_SHM_CREATE | IPCX_SHM_EXCLUSIVE, NULL, &shm)); /* mode 0600 */
    CHECK(ipcx_shm_set_size(shm, sizeof(struct record)));
    CHECK(ipcx_shm_map(shm, 0, &region));
    CHECK(ipcx_shm_close(shm));

    ipcx_pipe *mine, *theirs; /* the hand-off channel, both ways */
    CHECK(ipcx_pipe_create_duplex(NULL, &mine, &theirs));
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_pipe_close(mine);
        ipcx_region_close(region); /* the child maps the object itself, by name */
        int rc = reader(name, theirs);
        ipcx_pipe_close(theirs);
        fflush(stdout);
        _exit(rc);
    }
    ipcx_pipe_close(theirs);
    const char *lines[] = {"hello", "from the writer", "through shared memory"};
    for (int i = 0; i < 3; i++) {
        struct record rec = {.id = i};
        snprintf(rec.text, sizeof rec.text, "%s", lines[i]);
        CHECK(ipcx_region_write(region, 0, &rec, sizeof rec));       /* 1. write the record */
        CHECK(ipcx_pipe_send(mine, "record ready", 12, IPCX_FOREVER)); /* 2. then say so */
        char note[16];
        size_t len = sizeof note;
        CHECK(ipcx_pipe_recv(mine, note, &len, 5000)); /* 3. wait for "record read" */
    }
    ipcx_pipe_close(mine); /* no more records: the reader sees the pipe close */
    int status;
    waitpid(pid, &status, 0);
    ipcx_region_close(region);
    ipcx_shm_unlink(name); /* remove the name; the memory goes with the last mapping */
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
