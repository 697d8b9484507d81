/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins: shared-memory regions (POSIX object, System V segment) being written
 * when the writer is killed. Shared memory has no atomicity of its own: records torn by
 * the kill are expected and counted; what must hold is that the survivor can still read,
 * write, inspect and remove the object, and that nothing of the victim stays attached. */
#include "stress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SIZE 65536
#define REC 1024
#define NREC (SIZE / REC)

struct rec {
    uint32_t seq, slot, sum, pad;
    uint8_t payload[REC - 16];
};

static uint32_t rec_sum(const struct rec *x) {
    uint32_t h = 2166136261u ^ x->seq ^ (x->slot << 16);
    for (size_t i = 0; i < sizeof x->payload; i++) h = (h ^ x->payload[i]) * 16777619u;
    return h;
}

static void rec_fill(struct rec *x, uint32_t seq, uint32_t slot) {
    x->seq = seq;
    x->slot = slot;
    x->pad = 0;
    for (size_t i = 0; i < sizeof x->payload; i++) x->payload[i] = (uint8_t)(seq + i);
    x->sum = rec_sum(x);
}

/* 1: valid, 0: empty, -1: torn. */
static int rec_state(const struct rec *x, uint32_t slot) {
    if (x->seq == 0 && x->sum == 0) return 0;
    return x->slot == slot && rec_sum(x) == x->sum ? 1 : -1;
}

/* h[0]: the object or segment handle, h[1]: the region. */
static int is_posix(const st_run *r) { return r->m == &st_shm_posix; }

static int shm_setup(st_run *r, int side) {
    (void)side;
    int s;
    ipcx_region *reg;
    if (is_posix(r)) {
        st_unique(r->name, sizeof r->name, "/", "shm");
        ipcx_shm *shm;
        s = ipcx_shm_open(r->name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &shm);
        if (s != IPCX_OK) return s;
        st_res_add(r, ST_RES_SHM, r->name, 0);
        r->h[0] = shm;
        if ((s = ipcx_shm_set_size(shm, SIZE)) != IPCX_OK) return s;
        s = ipcx_shm_map(shm, 0, &reg);
    } else {
        ipcx_shm_segment *seg;
        s = ipcx_shm_segment_open(IPCX_KEY_PRIVATE, SIZE, IPCX_OPEN_CREATE, NULL, &seg);
        if (s != IPCX_OK) return s;
        int id;
        ipcx_shm_segment_id(seg, &id);
        r->id = id;
        st_res_add(r, ST_RES_SEG, "", id);
        r->h[0] = seg;
        s = ipcx_shm_segment_map(seg, 0, &reg);
    }
    r->h[1] = reg;
    return s;
}

static void shm_prune(st_run *r, int side) {
    (void)r;
    (void)side;
}

/* A second mapping of the same object, made and dropped by the victim (so that it is also
 * killed inside open/map/attach/close). */
static int remap_write(st_run *r, const struct rec *x, uint32_t slot) {
    ipcx_region *reg = NULL;
    int s;
    if (is_posix(r)) {
        ipcx_shm *shm;
        s = ipcx_shm_open(r->name, 0, NULL, &shm);
        if (s != IPCX_OK) return s;
        s = ipcx_shm_map(shm, 0, &reg);
        ipcx_shm_close(shm);
    } else {
        s = ipcx_shm_segment_map(r->h[0], 0, &reg);
    }
    if (s != IPCX_OK) return s;
    s = ipcx_region_write(reg, (size_t)slot * REC, x, sizeof *x);
    ipcx_region_close(reg);
    return s;
}

static void shm_victim(st_run *r) {
    ipcx_region *reg = r->h[1];
    void *base = NULL;
    ipcx_region_base(reg, &base, NULL);
    static struct rec x;
    st_victim_started(r);
    for (uint32_t seq = 1;; seq++) {
        uint32_t slot = (uint32_t)(st_rand(&r->rng) % NREC);
        rec_fill(&x, seq, slot);
        int s = IPCX_OK;
        switch (seq % 16) {
        case 0: s = remap_write(r, &x, slot); break;
        case 1: case 3: case 5: case 7: case 9: case 11: case 13: case 15:
            s = ipcx_region_write(reg, (size_t)slot * REC, &x, sizeof x);
            break;
        default: memcpy((char *)base + (size_t)slot * REC, &x, sizeof x); break;
        }
        if (s != IPCX_OK) st_victim_failed(r, s, "write");
    }
}

static int scan(st_run *r, uint64_t *torn) {
    static struct rec x;
    for (uint32_t slot = 0; slot < NREC; slot++) {
        int s = ipcx_region_read(r->h[1], (size_t)slot * REC, &x, sizeof x);
        if (s != IPCX_OK) return s;
        if (torn && rec_state(&x, slot) < 0) (*torn)++;
    }
    return IPCX_OK;
}

static void shm_survivor(st_run *r) {
    struct st_shared *sh = r->sh;
    /* Read while the victim writes, until it is killed (torn reads are normal then). */
    while (st_since_kill_ms(r) < 0) {
        int s = scan(r, NULL);
        if (s != IPCX_OK) {
            st_fail(r, "read while the victim writes: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    st_wait_victim(r);
    uint64_t torn = 0;
    int s = scan(r, &torn);
    double k = st_since_kill_ms(r);
    if (s != IPCX_OK) {
        st_fail(r, "read after the kill: %s: %s", ipcx_status_name(s), ipcx_last_error());
        return;
    }
    sh->out.torn = torn;
    /* Still writable: repair a record and read it back. */
    static struct rec x, y;
    rec_fill(&x, 0xfffffff0u, 0);
    if ((s = ipcx_region_write(r->h[1], 0, &x, sizeof x)) != IPCX_OK ||
        (s = ipcx_region_read(r->h[1], 0, &y, sizeof y)) != IPCX_OK || memcmp(&x, &y, sizeof x)) {
        st_fail(r, "write after the kill: %s", ipcx_status_name(s));
        return;
    }
    if (is_posix(r)) {
        size_t size = 0;
        ipcx_shm_size(r->h[0], &size);
        if (size != SIZE) st_fail(r, "object size %zu after the kill", size);
    } else {
        /* Nothing of the dead victim stays attached: only the survivor's region. */
        ipcx_shm_segment_info info = {.size = sizeof info};
        s = ipcx_shm_segment_stat(r->h[0], &info);
        if (s != IPCX_OK) st_fail(r, "stat: %s", ipcx_status_name(s));
        else if (info.attach_count != 1)
            st_fail(r, "%llu attachments after the victim died, expected 1",
                    (unsigned long long)info.attach_count);
    }
    sh->out.final_status = IPCX_OK;
    sh->out.recovery_ms = k;
}

static void shm_cleanup(st_run *r) {
    if (!is_posix(r) && r->h[0]) ipcx_shm_segment_remove(r->h[0]); /* while attached */
    if (r->h[1]) ipcx_region_close(r->h[1]);
    r->h[1] = NULL;
    if (r->h[0]) {
        if (is_posix(r)) ipcx_shm_close(r->h[0]);
        else ipcx_shm_segment_close(r->h[0]);
    }
    r->h[0] = NULL;
    if (is_posix(r)) ipcx_shm_remove(r->name);
}

const struct st_mech st_shm_posix = {
    .name = "POSIX shm region",
    .notes = "64 KiB object: the victim writes 1 KiB records (ipcx_region_write, raw "
             "stores, and through mappings it opens and closes) while the survivor reads",
    .setup = shm_setup,
    .prune = shm_prune,
    .victim = shm_victim,
    .survivor = shm_survivor,
    .cleanup = shm_cleanup,
};

const struct st_mech st_shm_sysv = {
    .name = "SysV shm region",
    .notes = "64 KiB private segment, same writes (attaching and detaching too); after the "
             "kill exactly one attachment (the survivor's) remains; removed while attached",
    .setup = shm_setup,
    .prune = shm_prune,
    .victim = shm_victim,
    .survivor = shm_survivor,
    .cleanup = shm_cleanup,
};
