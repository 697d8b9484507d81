/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Tour rows: shared memory (System V segments, POSIX objects) and shared mappings (files,
 * anonymous). The seed: the same physical memory is mapped into both processes, each sees
 * the other's writes at once, and since there is no synchronisation the processes must
 * agree on a hand-off themselves. Every row hands a 64-byte record over and back, the
 * "record ready" note going through a pipe, and reports the median of that round trip. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tour.h"

#define REC 64

/* Round trips: the parent writes a record at 0 and says so; the child reads it, writes it
 * back incremented at REC, and says so; the parent checks it. Returns 1 on success. */
static int handoff_rt(struct tour_row *row, ipcx_region *r) {
    ipcx_pipe *a, *b;
    int s = ipcx_pipe_pair(IPCX_PIPE_DUPLEX, NULL, &a, &b);
    if (s) return tour_fail_status(row, "ipcx_pipe_pair", s);
    pid_t pid = fork();
    if (pid < 0) return tour_fail(row, "fork failed");
    if (pid == 0) {
        ipcx_pipe_close(a);
        unsigned char rec[REC];
        char note[8];
        for (;;) {
            size_t len = sizeof note;
            if (ipcx_pipe_recv(b, note, &len, 10000) != IPCX_OK) break; /* EOF: done */
            if (ipcx_region_read(r, 0, rec, REC) != IPCX_OK) _exit(1);
            for (int k = 0; k < REC; k++) rec[k]++;
            if (ipcx_region_write(r, REC, rec, REC) != IPCX_OK) _exit(1);
            if (ipcx_pipe_send(b, "ready", 5, 10000) != IPCX_OK) _exit(1);
        }
        ipcx_pipe_close(b);
        ipcx_region_close(r);
        _exit(0);
    }
    ipcx_pipe_close(b);
    static int64_t samples[TOUR_ROUNDS];
    unsigned char rec[REC], back[REC];
    int ok = 1;
    for (int i = 0; i < TOUR_ROUNDS && ok; i++) {
        for (int k = 0; k < REC; k++) rec[k] = (unsigned char)(i + k);
        char note[8];
        size_t len = sizeof note;
        int64_t t0 = tour_now_ns();
        s = ipcx_region_write(r, 0, rec, REC);
        if (!s) s = ipcx_pipe_send(a, "ready", 5, 10000);
        if (!s) s = ipcx_pipe_recv(a, note, &len, 10000);
        if (!s) s = ipcx_region_read(r, REC, back, REC);
        samples[i] = tour_now_ns() - t0;
        if (s) ok = tour_fail_status(row, "record round trip", s);
        for (int k = 0; k < REC && ok; k++)
            if (back[k] != (unsigned char)(rec[k] + 1)) ok = tour_fail(row, "round %d: stale or torn record", i);
    }
    ipcx_pipe_close(a);
    if (!tour_wait_child(pid, 10000) && ok) ok = tour_fail(row, "child failed");
    if (ok) row->median_rt_us = tour_median_us(samples, TOUR_ROUNDS);
    return ok;
}

/* The child writes `msg` at `off` (raw pointer) and exits; the parent then checks it. */
static int child_writes(struct tour_row *row, ipcx_region *r, size_t off, const char *msg) {
    void *base;
    ipcx_region_base(r, &base, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        memcpy((char *)base + off, msg, strlen(msg));
        _exit(0);
    }
    if (!tour_wait_child(pid, 10000)) return tour_fail(row, "child failed");
    if (memcmp((char *)base + off, msg, strlen(msg)) != 0) return tour_fail(row, "parent does not see the child's write");
    return 1;
}

void tour_sysv_shm(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "ftok key, child attaches by key, IPC_RMID keeps attachments");
    char path[64];
    snprintf(path, sizeof path, "/tmp/ipcx-tour-%d-key", (int)getpid());
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        tour_fail(row, "cannot create %s", path);
        return;
    }
    close(fd);
    int32_t key;
    ipcx_shm_segment *seg = NULL;
    ipcx_region *r = NULL;
    int s = ipcx_sysv_key(path, 'T', &key);
    if (!s) s = ipcx_shm_segment_open(key, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &seg);
    unlink(path);
    if (s) {
        tour_fail_status(row, "ipcx_shm_segment_open", s);
        return;
    }
    if ((s = ipcx_shm_segment_map(seg, 0, &r))) {
        tour_fail_status(row, "ipcx_shm_segment_map", s);
        goto out;
    }
    /* Process 2 gets the segment from the same key (shmget + shmat of the seed). */
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_shm_segment *c;
        ipcx_region *cr;
        if (ipcx_shm_segment_open(key, 0, 0, NULL, &c) || ipcx_shm_segment_map(c, 0, &cr) ||
            ipcx_region_write(cr, 100, "from process 2", 14))
            _exit(1);
        ipcx_region_close(cr); /* shmdt */
        ipcx_shm_segment_close(c);
        _exit(0);
    }
    char buf[14];
    if (!tour_wait_child(pid, 10000) || ipcx_region_read(r, 100, buf, 14) || memcmp(buf, "from process 2", 14)) {
        tour_fail(row, "process 2 did not reach the segment by its key");
        goto out;
    }
    /* Remove while attached: the key is gone, the attachment still works across fork. */
    ipcx_shm_segment_info info = {.size = sizeof info};
    ipcx_shm_segment *again = NULL;
    if ((s = ipcx_shm_segment_remove(seg)) || (s = ipcx_shm_segment_stat(seg, &info))) {
        tour_fail_status(row, "remove/stat", s);
        goto out;
    }
    if (!info.removed || info.attach_count != 1 ||
        ipcx_shm_segment_open(key, 0, 0, NULL, &again) != IPCX_ERR_NOT_FOUND) {
        tour_fail(row, "removal: removed %d, attachments %llu, key still there", info.removed,
                  (unsigned long long)info.attach_count);
        goto out;
    }
    if (!child_writes(row, r, 200, "after removal")) goto out;
    if (handoff_rt(row, r))
        snprintf(row->detail, sizeof row->detail,
                 "shared memory rows: RT = 64 B record each way, 'ready' note over a pipe");
out:
    ipcx_region_close(r);
    if (seg && row->ok == 0) ipcx_shm_segment_remove(seg); /* never leave it behind */
    ipcx_shm_segment_close(seg);
}

void tour_posix_shm(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "shm_open name, size, child maps by name, unlink keeps mappings");
    char name[64];
    snprintf(name, sizeof name, "/ipcx-tour-%d", (int)getpid());
    ipcx_shm *shm = NULL;
    ipcx_region *r = NULL;
    int s = ipcx_shm_open(name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &shm);
    if (s) {
        tour_fail_status(row, "ipcx_shm_open", s);
        return;
    }
    if ((s = ipcx_shm_set_size(shm, 4096)) || (s = ipcx_shm_map(shm, 0, &r))) {
        tour_fail_status(row, "size/map", s);
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0) { /* maps the object by its name, on its own */
        ipcx_shm *c;
        ipcx_region *cr;
        if (ipcx_shm_open(name, 0, NULL, &c) || ipcx_shm_map(c, 0, &cr) ||
            ipcx_region_write(cr, 100, "by name", 7))
            _exit(1);
        _exit(0);
    }
    char buf[7];
    if (!tour_wait_child(pid, 10000) || ipcx_region_read(r, 100, buf, 7) || memcmp(buf, "by name", 7)) {
        tour_fail(row, "the child did not reach the object by its name");
        goto out;
    }
    ipcx_shm_remove(name);
    name[0] = 0;
    if (!child_writes(row, r, 200, "after unlink")) goto out;
    handoff_rt(row, r);
out:
    if (name[0]) ipcx_shm_remove(name);
    ipcx_region_close(r);
    ipcx_shm_close(shm);
}

void tour_file_mapping(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "fork and path mappings share pages; msync puts data in file");
    char path[64];
    snprintf(path, sizeof path, "/tmp/ipcx-tour-%d-map", (int)getpid());
    ipcx_region *r = NULL;
    int s = ipcx_file_map(path, 4096, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &r);
    if (s) {
        tour_fail_status(row, "ipcx_file_map", s);
        return;
    }
    /* Related: inherited mapping. Unrelated style: the child maps the path itself. */
    if (!child_writes(row, r, 0, "inherited")) goto out;
    pid_t pid = fork();
    if (pid == 0) {
        ipcx_region *cr;
        if (ipcx_file_map(path, 0, 0, NULL, &cr) || ipcx_region_write(cr, 100, "own mapping", 11) ||
            ipcx_region_sync(cr, 0, 4096, 0))
            _exit(1);
        _exit(0);
    }
    char buf[11];
    if (!tour_wait_child(pid, 10000) || ipcx_region_read(r, 100, buf, 11) || memcmp(buf, "own mapping", 11)) {
        tour_fail(row, "a second mapping of the path is not shared");
        goto out;
    }
    /* The seed: changing the memory changes the file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || pread(fd, buf, 9, 0) != 9 || memcmp(buf, "inherited", 9)) {
        if (fd >= 0) close(fd);
        tour_fail(row, "the file does not hold what was written to the mapping");
        goto out;
    }
    close(fd);
    handoff_rt(row, r);
out:
    ipcx_region_close(r);
    unlink(path);
}

void tour_anonymous_mapping(struct tour_row *row) {
    snprintf(row->checked, sizeof row->checked,
             "MAP_SHARED|MAP_ANONYMOUS inherited by fork, both see writes");
    ipcx_region *r = NULL;
    int s = ipcx_region_create(4096, &r);
    if (s) {
        tour_fail_status(row, "ipcx_region_create", s);
        return;
    }
    if (child_writes(row, r, 0, "child to parent")) handoff_rt(row, r);
    ipcx_region_close(r);
}
