/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: find the IPC objects a crashed ipcx program left behind.
 *
 * A child creates a POSIX shared memory object and dies by SIGKILL before it can remove
 * it. The parent lists ipcx's objects: the object is ipcx's (a provenance record names
 * it), its creator is dead and nothing has it mapped, so it is stale. A dry-run clean
 * proposes it; the program then removes exactly that object by name (a real
 * `ipcx_inspect_clean` would remove every stale object of this user — what `ipcx clean`
 * does).
 *
 * Build: cc inspect.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipcx-example-%d", (int)getpid());
    int ready[2];
    if (pipe(ready) != 0) return 1;
    pid_t child = fork();
    if (child == 0) { /* creates the object, then "crashes" while holding it */
        ipcx_shm *s;
        if (ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &s) != IPCX_OK ||
            ipcx_shm_set_size(s, 4096) != IPCX_OK)
            _exit(1);
        (void)write(ready[1], "x", 1);
        pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1) return 1;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    /* What would `ipcx clean --dry-run` remove? */
    ipcx_object_list *list;
    if (ipcx_inspect_clean(NULL, 0, IPCX_INSPECT_DRY_RUN, &list) != IPCX_OK) {
        fprintf(stderr, "%s\n", ipcx_last_error());
        return 1;
    }
    size_t n = 0;
    int found = 0;
    ipcx_object_list_count(list, &n);
    for (size_t i = 0; i < n; i++) {
        /* Set size to the struct's size; o.name points into the list (valid until
         * ipcx_object_list_close), the other fields are copies. */
        ipcx_object_info o = {.size = sizeof o};
        ipcx_object_list_get(list, i, &o);
        if (o.kind == IPCX_OBJECT_POSIX_SHM && strcmp(o.name, name) == 0) {
            printf("stale %s %s: %llu bytes, creator %d %s, %lld attached\n",
                   ipcx_object_kind_name(o.kind), o.name, (unsigned long long)o.bytes,
                   o.creator_pid, o.creator_alive ? "alive" : "dead", (long long)o.attached);
            found = 1;
        }
    }
    ipcx_object_list_close(list);

    /* Remove exactly that one. Without IPCX_INSPECT_FOREIGN, ipcx refuses objects it did
     * not create. */
    if (ipcx_inspect_remove(IPCX_OBJECT_POSIX_SHM, name, 0) != IPCX_OK) {
        fprintf(stderr, "%s\n", ipcx_last_error());
        return 1;
    }
    printf("removed %s\n", name);
    return found ? 0 : 1;
}
