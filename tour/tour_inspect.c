/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour row: stale-object inspection. A child creates a POSIX shared memory object and is
 * killed with SIGKILL before it can remove it; the inspect API finds the object, sees that
 * ipcx created it, that its creator is dead and nothing has it open or mapped (stale), and
 * removes exactly that object. (Not `ipcx_inspect_clean` over the whole machine: the tour
 * must not remove stale objects that other programs of the same user left.) */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tour.h"

/* The entry of `name` in a list, if there is one (not a vanished record). */
static int find_shm(const ipcx_object_list *l, const char *name, ipcx_object_info *o) {
    size_t n = 0;
    ipcx_object_list_count(l, &n);
    for (size_t i = 0; i < n; i++) {
        o->size = sizeof *o;
        if (ipcx_object_list_get(l, i, o) == IPCX_OK && o->kind == IPCX_OBJECT_POSIX_SHM &&
            !(o->flags & IPCX_OBJECT_VANISHED) && strcmp(o->name, name) == 0)
            return 1;
    }
    return 0;
}

void tour_inspect(struct tour_row *row) {
    char name[64];
    snprintf(name, sizeof name, "/ipcx-tour-%d-stale", (int)getpid());
    snprintf(row->checked, sizeof row->checked,
             "creator SIGKILLed: listed as ipcx's, creator dead, stale; removed");
    int *ready = mmap(NULL, sizeof *ready, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ready == MAP_FAILED) {
        tour_fail(row, "mmap failed");
        return;
    }
    *ready = 0;
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_shm *s;
        if (ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s) ||
            ipcx_shm_set_size(s, 4096))
            _exit(1);
        __atomic_store_n(ready, 1, __ATOMIC_RELEASE);
        for (;;) pause(); /* killed holding it */
    }
    for (int i = 0; i < 10000 && !__atomic_load_n(ready, __ATOMIC_ACQUIRE); i++) usleep(1000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    munmap(ready, sizeof *ready);

    ipcx_object_list *l = NULL;
    ipcx_object_info o = {.size = sizeof o};
    int s = ipcx_inspect_list(NULL, 0, 0, &l);
    if (s) {
        tour_fail_status(row, "ipcx_inspect_list", s);
    } else if (!find_shm(l, name, &o)) {
        tour_fail(row, "the killed child's object was not listed");
    } else if (o.flags != (IPCX_OBJECT_IPCX | IPCX_OBJECT_STALE) || o.creator_pid != pid ||
               o.creator_alive != 0 || o.attached != 0 || o.bytes != 4096) {
        tour_fail(row, "listed with flags %u creator %d alive %d attached %lld size %llu", o.flags,
                  o.creator_pid, o.creator_alive, (long long)o.attached,
                  (unsigned long long)o.bytes);
    }
    ipcx_object_list_close(l);
    /* A dry-run clean proposes it too; then it is removed by its exact name. */
    l = NULL;
    if (row->ok && (s = ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_DRY_RUN, &l)) != IPCX_OK)
        tour_fail_status(row, "ipcx_inspect_clean (dry run)", s);
    else if (row->ok && !find_shm(l, name, &o))
        tour_fail(row, "a dry-run clean did not propose the stale object");
    ipcx_object_list_close(l);
    s = ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, name, 0);
    if (row->ok && s) tour_fail_status(row, "ipcx_inspect_remove", s);
    if (s) ipcx_shm_remove(name);
    if (row->ok && ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, name, 0) != IPCX_ERR_NOT_FOUND)
        tour_fail(row, "the object was still there after its removal");
    snprintf(row->detail, sizeof row->detail, "no round trip: inspection, not an exchange");
}
