/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Stress plug-ins: robust mutex, condition variable, POSIX named and unnamed semaphores,
 * System V semaphore with SEM_UNDO. The victim is killed while it waits for, holds or
 * releases the lock; the survivor must get a defined status within 2 s and recover. */
#include "stress.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The state a lock protects, after the lock slots in the region. */
struct guarded {
    _Atomic uint64_t a, b; /* equal whenever the lock is free: a++ ... b++ inside */
    atomic_int held;       /* the victim holds a semaphore unit */
    atomic_int turn;       /* condition variable: 1 = the victim's turn, 0 = the survivor's */
    _Atomic uint64_t rounds;
};

#define DATA_OFFSET 256

static struct guarded *data_of(st_run *r) { return (struct guarded *)((char *)r->mem + DATA_OFFSET); }

static void *base_of(ipcx_region *reg) {
    void *b = NULL;
    ipcx_region_base(reg, &b, NULL);
    return b;
}

/* h[0]: the lock, h[1]: a condition variable, h[2]: the region. */
static int region_setup(st_run *r) {
    ipcx_region *reg;
    int s = ipcx_region_create(4096, &reg);
    if (s != IPCX_OK) return s;
    r->h[2] = reg;
    r->mem = base_of(reg);
    return IPCX_OK;
}

static void region_cleanup(st_run *r) {
    if (r->h[2]) ipcx_region_close(r->h[2]);
    r->h[2] = NULL;
}

static void nop_prune(st_run *r, int side) {
    (void)r;
    (void)side;
}

static unsigned small_us(st_run *r) { return (unsigned)(st_rand(&r->rng) % 30); }

/* ------------------------------------------------------------------ robust mutex */

static int mutex_setup(st_run *r, int side) {
    (void)side;
    int s = region_setup(r);
    if (s != IPCX_OK) return s;
    ipcx_mutex *m;
    s = ipcx_mutex_init(r->h[2], 0, NULL, &m);
    r->h[0] = m;
    return s;
}

/* Take the mutex; repair the data if its owner died. */
static int lock_repair(st_run *r, ipcx_mutex *m, int64_t t, int *owner_died) {
    int s = ipcx_mutex_lock(m, t);
    if (s == IPCX_ERR_OWNER_DEAD) {
        struct guarded *g = data_of(r);
        if (owner_died) *owner_died = 1;
        uint64_t a = atomic_load(&g->a), b = atomic_load(&g->b);
        if (a != b && a != b + 1) st_fail(r, "owner died: a=%llu b=%llu is not a half update",
                                          (unsigned long long)a, (unsigned long long)b);
        atomic_store(&g->b, a); /* finish the dead owner's update */
        s = ipcx_mutex_consistent(m);
        if (s != IPCX_OK) return s;
        return IPCX_ERR_OWNER_DEAD;
    }
    return s;
}

static void mutex_victim(st_run *r) {
    ipcx_mutex *m = r->h[0];
    struct guarded *g = data_of(r);
    st_victim_started(r);
    for (;;) {
        int s = lock_repair(r, m, IPCX_FOREVER, NULL);
        if (s != IPCX_OK && s != IPCX_ERR_OWNER_DEAD) st_victim_failed(r, s, "ipcx_mutex_lock");
        atomic_fetch_add(&g->a, 1);
        st_spin_us(small_us(r));
        atomic_fetch_add(&g->b, 1);
        s = ipcx_mutex_unlock(m);
        if (s != IPCX_OK) st_victim_failed(r, s, "ipcx_mutex_unlock");
    }
}

static void mutex_survivor(st_run *r) {
    ipcx_mutex *m = r->h[0];
    struct guarded *g = data_of(r);
    struct st_shared *sh = r->sh;
    for (;;) {
        int died = 0;
        int s = lock_repair(r, m, 2000, &died);
        double k = st_since_kill_ms(r);
        if (s == IPCX_ERR_OWNER_DEAD && k < 0) st_fail(r, "OWNER_DEAD while the owner lives");
        if (s != IPCX_OK && s != IPCX_ERR_OWNER_DEAD) {
            sh->out.final_status = s;
            if (s == IPCX_ERR_TIMEOUT) {
                sh->out.hang = 1;
                sh->out.recovery_ms = k;
            }
            st_fail(r, "ipcx_mutex_lock: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        if (atomic_load(&g->a) != atomic_load(&g->b)) st_fail(r, "locked with a half update");
        atomic_fetch_add(&g->a, 1);
        atomic_fetch_add(&g->b, 1);
        ipcx_mutex_unlock(m);
        if (k >= 0) { /* the first lock that completed after the kill: recovered */
            sh->out.final_status = s;
            sh->out.recovery_ms = k;
            sh->out.owner_dead += died;
            break;
        }
    }
    /* Usable again, and destroyable (nobody holds it). */
    st_wait_victim(r);
    int s = ipcx_mutex_lock(m, IPCX_NOWAIT);
    if (s != IPCX_OK) st_fail(r, "after recovery: lock: %s", ipcx_status_name(s));
    else ipcx_mutex_unlock(m);
    s = ipcx_mutex_destroy(m);
    if (s != IPCX_OK) st_fail(r, "after recovery: destroy: %s: %s", ipcx_status_name(s), ipcx_last_error());
    /* The handle outlives the destroy; the cleanup closes it. */
}

static void mutex_cleanup(st_run *r) {
    if (r->h[0]) ipcx_mutex_close(r->h[0]);
    r->h[0] = NULL;
    region_cleanup(r);
}

const struct st_mech st_mutex = {
    .name = "robust mutex",
    .notes = "victim killed waiting for, holding or releasing the lock; the survivor "
             "contends all along; OWNER_DEAD is repaired and marked consistent",
    .setup = mutex_setup,
    .prune = nop_prune,
    .victim = mutex_victim,
    .survivor = mutex_survivor,
    .cleanup = mutex_cleanup,
};

/* ------------------------------------------------------------------ condition variable */

static int cond_setup(st_run *r, int side) {
    int s = mutex_setup(r, side);
    if (s != IPCX_OK) return s;
    ipcx_cond *c;
    s = ipcx_cond_init(r->h[2], 64, &c);
    r->h[1] = c;
    return s;
}

/* The victim's side of the ping-pong: wait for turn 1, hand back turn 0. `rounds` 0:
 * forever. */
static int cond_peer(st_run *r, unsigned rounds, int64_t t) {
    ipcx_mutex *m = r->h[0];
    ipcx_cond *c = r->h[1];
    struct guarded *g = data_of(r);
    for (unsigned i = 0; !rounds || i < rounds; i++) {
        int s = lock_repair(r, m, t, NULL);
        if (s != IPCX_OK && s != IPCX_ERR_OWNER_DEAD) return s;
        while (atomic_load(&g->turn) != 1) {
            s = ipcx_cond_wait(c, m, t);
            if (s == IPCX_ERR_OWNER_DEAD) s = ipcx_mutex_consistent(m);
            if (s != IPCX_OK) {
                ipcx_mutex_unlock(m);
                return s;
            }
        }
        atomic_store(&g->turn, 0);
        atomic_fetch_add(&g->rounds, 1);
        ipcx_cond_broadcast(c);
        ipcx_mutex_unlock(m);
    }
    return IPCX_OK;
}

static void cond_victim(st_run *r) {
    st_victim_started(r);
    int s = cond_peer(r, 0, IPCX_FOREVER);
    st_victim_failed(r, s, "condition variable round");
}

/* One survivor round: wait for turn 0 (each wait `t` ms), hand turn 1 over, release the
 * mutex. Returns OK; or, with `after_kill`, the defined status once the victim is dead
 * (TIMEOUT: it died outside the mutex and will never answer; OWNER_DEAD: it died holding
 * the mutex, now repaired); without it, TIMEOUT when the peer did not answer in time. */
static int cond_round(st_run *r, int64_t t, int after_kill) {
    ipcx_mutex *m = r->h[0];
    ipcx_cond *c = r->h[1];
    struct guarded *g = data_of(r);
    int died = 0;
    int s = lock_repair(r, m, 2000, &died);
    if (s != IPCX_OK && s != IPCX_ERR_OWNER_DEAD) return s;
    int result = died ? IPCX_ERR_OWNER_DEAD : IPCX_OK;
    while (result == IPCX_OK && atomic_load(&g->turn) != 0) {
        s = ipcx_cond_wait(c, m, t);
        if (s == IPCX_OK) continue;
        if (s == IPCX_ERR_OWNER_DEAD) {
            ipcx_mutex_consistent(m);
            result = s;
        } else if (s == IPCX_ERR_TIMEOUT) {
            if (!after_kill || st_since_kill_ms(r) >= 0) result = s;
        } else {
            ipcx_mutex_unlock(m);
            return s;
        }
    }
    if (atomic_load(&g->turn) == 0) {
        atomic_store(&g->turn, 1);
        ipcx_cond_broadcast(c);
    }
    ipcx_mutex_unlock(m);
    return result;
}

static void cond_survivor(st_run *r) {
    struct st_shared *sh = r->sh;
    struct guarded *g = data_of(r);
    for (;;) {
        int s = cond_round(r, 100, 1);
        double k = st_since_kill_ms(r);
        if (s == IPCX_OK) {
            if (k > 2000) {
                sh->out.hang = 1;
                st_fail(r, "rounds still complete %.0f ms after the kill", k);
                return;
            }
            continue;
        }
        if (k < 0) {
            st_fail(r, "round before the kill: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        if (s != IPCX_ERR_TIMEOUT && s != IPCX_ERR_OWNER_DEAD) {
            st_fail(r, "round after the kill: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        sh->out.final_status = s;
        sh->out.recovery_ms = k;
        sh->out.owner_dead += s == IPCX_ERR_OWNER_DEAD;
        break;
    }
    /* Recovery: a new process takes the victim's place; three rounds must go through the
     * same mutex and condition variable (a waiter killed inside them must not break them). */
    st_wait_victim(r);
    /* (Read before the fork: a turn the victim never took is the new peer's at once.) */
    uint64_t before = atomic_load(&g->rounds);
    fflush(NULL);
    pid_t h = fork();
    if (h == 0) _exit(cond_peer(r, 3, 2000) == IPCX_OK ? 0 : 1);
    for (int i = 0; i < 3; i++) {
        int s = cond_round(r, 2000, 0);
        if (s != IPCX_OK) {
            st_fail(r, "after recovery: round %d with a new peer: %s: %s", i,
                    ipcx_status_name(s), ipcx_last_error());
            break;
        }
    }
    int st = 0;
    int64_t end = st_now_ns() + 5000000000LL;
    while (waitpid(h, &st, WNOHANG) != h) {
        if (st_now_ns() > end) {
            kill(h, SIGKILL);
            waitpid(h, &st, 0);
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || atomic_load(&g->rounds) - before < 3)
        st_fail(r, "after recovery: the new peer did not complete its rounds (status %#x)", st);
    int s = ipcx_cond_destroy(r->h[1]);
    if (s != IPCX_OK) st_fail(r, "after recovery: cond destroy: %s: %s", ipcx_status_name(s), ipcx_last_error());
    s = ipcx_mutex_destroy(r->h[0]);
    if (s != IPCX_OK) st_fail(r, "after recovery: mutex destroy: %s: %s", ipcx_status_name(s), ipcx_last_error());
    /* The handles outlive the destroys; the cleanup closes them. */
}

static void cond_cleanup(st_run *r) {
    if (r->h[1]) ipcx_cond_close(r->h[1]);
    r->h[1] = NULL;
    mutex_cleanup(r);
}

const struct st_mech st_cond = {
    .name = "condition variable",
    .notes = "ping-pong through a robust mutex and a condition variable; after the kill a "
             "new process must complete 3 rounds on the same objects, then both are destroyed",
    .setup = cond_setup,
    .prune = nop_prune,
    .victim = cond_victim,
    .survivor = cond_survivor,
    .cleanup = cond_cleanup,
};

/* ------------------------------------------------------------------ POSIX semaphores */

static int sem_named_setup(st_run *r, int side) {
    (void)side;
    int s = region_setup(r); /* for the shared flags only */
    if (s != IPCX_OK) return s;
    st_unique(r->name, sizeof r->name, "/", "sem");
    ipcx_sem *sem;
    s = ipcx_sem_open(r->name, 1, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &sem);
    if (s == IPCX_OK) st_res_add(r, ST_RES_SEM, r->name, 0);
    r->h[0] = sem;
    return s;
}

/* The unnamed one lives in a POSIX shared memory object (h[3] its handle). */
static int sem_unnamed_setup(st_run *r, int side) {
    (void)side;
    st_unique(r->name, sizeof r->name, "/", "semshm");
    ipcx_shm *shm;
    int s = ipcx_shm_open(r->name, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL, &shm);
    if (s != IPCX_OK) return s;
    st_res_add(r, ST_RES_SHM, r->name, 0);
    r->h[3] = shm;
    ipcx_region *reg;
    if ((s = ipcx_shm_set_size(shm, 4096)) != IPCX_OK || (s = ipcx_shm_map(shm, 0, &reg)) != IPCX_OK)
        return s;
    r->h[2] = reg;
    r->mem = base_of(reg);
    ipcx_sem *sem;
    s = ipcx_sem_init(reg, 0, 1, &sem);
    r->h[0] = sem;
    return s;
}

static void sem_victim(st_run *r) {
    ipcx_sem *sem = r->h[0];
    struct guarded *g = data_of(r);
    st_victim_started(r);
    for (;;) {
        int s = ipcx_sem_wait(sem, IPCX_FOREVER);
        if (s != IPCX_OK) st_victim_failed(r, s, "ipcx_sem_wait");
        atomic_store(&g->held, 1);
        st_spin_us(small_us(r));
        atomic_store(&g->held, 0);
        s = ipcx_sem_post(sem);
        if (s != IPCX_OK) st_victim_failed(r, s, "ipcx_sem_post");
    }
}

/* A POSIX semaphore has no owner: a unit held by a process that dies is gone. The defined
 * status is the survivor's timeout; the application knows (here: the value once the
 * victim is dead) and posts the unit again. */
static void sem_survivor(st_run *r) {
    ipcx_sem *sem = r->h[0];
    struct guarded *g = data_of(r);
    struct st_shared *sh = r->sh;
    for (;;) {
        int s = ipcx_sem_wait(sem, 100);
        double k = st_since_kill_ms(r);
        if (s == IPCX_OK) {
            if (k >= 0 && atomic_load(&g->held))
                st_fail(r, "the dead victim held the unit, yet the wait succeeded");
            ipcx_sem_post(sem);
            if (k >= 0) {
                sh->out.final_status = s;
                sh->out.recovery_ms = k;
                break;
            }
            continue;
        }
        if (s != IPCX_ERR_TIMEOUT) {
            st_fail(r, "ipcx_sem_wait: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        if (k < 0) continue; /* the live victim was slow */
        /* The application's repair, once the victim is surely dead (the survivor is then
         * the only user): a value of 0 means the victim died holding the unit; 1 means the
         * wait timed out just as the victim gave it back (wait again). */
        st_wait_victim(r);
        int32_t v = -1;
        ipcx_sem_value(sem, &v);
        if (v == 1) continue;
        sh->out.final_status = s;
        sh->out.recovery_ms = k;
        sh->out.units_lost++;
        ipcx_sem_post(sem);
        break;
    }
    st_wait_victim(r);
    int32_t v = -1;
    ipcx_sem_value(sem, &v);
    if (v != 1) st_fail(r, "value %d after recovery, expected 1", v);
    int s = ipcx_sem_wait(sem, IPCX_NOWAIT);
    if (s != IPCX_OK) st_fail(r, "after recovery: wait: %s", ipcx_status_name(s));
    else ipcx_sem_post(sem);
}

static void sem_named_cleanup(st_run *r) {
    if (r->h[0]) ipcx_sem_close(r->h[0]);
    r->h[0] = NULL;
    ipcx_sem_remove(r->name);
    region_cleanup(r);
}

static void sem_unnamed_cleanup(st_run *r) {
    if (r->h[0]) {
        int s = ipcx_sem_destroy(r->h[0]);
        if (s != IPCX_OK) st_fail(r, "ipcx_sem_destroy: %s: %s", ipcx_status_name(s), ipcx_last_error());
        ipcx_sem_close(r->h[0]);
    }
    r->h[0] = NULL;
    region_cleanup(r);
    if (r->h[3]) ipcx_shm_close(r->h[3]);
    r->h[3] = NULL;
    ipcx_shm_remove(r->name);
}

const struct st_mech st_sem_named = {
    .name = "POSIX named sem",
    .notes = "used as a lock (value 1); a unit held by the dead victim is lost (POSIX "
             "semaphores have no owner): the survivor's wait times out, it re-posts",
    .setup = sem_named_setup,
    .prune = nop_prune,
    .victim = sem_victim,
    .survivor = sem_survivor,
    .cleanup = sem_named_cleanup,
};

const struct st_mech st_sem_unnamed = {
    .name = "POSIX unnamed sem",
    .notes = "in a POSIX shm object; as the named one",
    .setup = sem_unnamed_setup,
    .prune = nop_prune,
    .victim = sem_victim,
    .survivor = sem_survivor,
    .cleanup = sem_unnamed_cleanup,
};

/* ------------------------------------------------------------------ System V, SEM_UNDO */

static int semset_setup(st_run *r, int side) {
    (void)side;
    int s = region_setup(r);
    if (s != IPCX_OK) return s;
    const int32_t one = 1;
    ipcx_semset *set;
    s = ipcx_semset_open(IPCX_KEY_PRIVATE, 1, &one, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, NULL,
                         IPCX_NOWAIT, &set);
    if (s != IPCX_OK) return s;
    int32_t id;
    ipcx_semset_id(set, &id, NULL);
    r->id = id;
    st_res_add(r, ST_RES_SEMSET, "", id);
    r->h[0] = set;
    return IPCX_OK;
}

static void semset_victim(st_run *r) {
    ipcx_semset *set = r->h[0];
    struct guarded *g = data_of(r);
    st_victim_started(r);
    for (;;) {
        int s = ipcx_semset_p(set, 0, IPCX_SEMSET_UNDO, IPCX_FOREVER);
        if (s != IPCX_OK) st_victim_failed(r, s, "ipcx_semset_p");
        atomic_store(&g->held, 1);
        st_spin_us(small_us(r));
        atomic_store(&g->held, 0);
        s = ipcx_semset_v(set, 0, IPCX_SEMSET_UNDO);
        if (s != IPCX_OK) st_victim_failed(r, s, "ipcx_semset_v");
    }
}

/* SEM_UNDO: the kernel gives back what the dead victim held; the survivor's P succeeds. */
static void semset_survivor(st_run *r) {
    ipcx_semset *set = r->h[0];
    struct st_shared *sh = r->sh;
    for (;;) {
        int s = ipcx_semset_p(set, 0, IPCX_SEMSET_UNDO, 100);
        double k = st_since_kill_ms(r);
        if (s == IPCX_OK) {
            ipcx_semset_v(set, 0, IPCX_SEMSET_UNDO);
            if (k >= 0) {
                sh->out.final_status = s;
                sh->out.recovery_ms = k;
                break;
            }
            continue;
        }
        if (s != IPCX_ERR_TIMEOUT) {
            st_fail(r, "ipcx_semset_p: %s: %s", ipcx_status_name(s), ipcx_last_error());
            return;
        }
        if (k > 2000) {
            sh->out.hang = 1;
            sh->out.recovery_ms = k;
            st_fail(r, "SEM_UNDO not applied: P still times out %.0f ms after the kill", k);
            return;
        }
    }
    st_wait_victim(r);
    int32_t v = -1;
    ipcx_semset_get(set, 0, &v);
    if (v != 1) st_fail(r, "value %d after the victim's death, expected 1 (SEM_UNDO)", v);
}

static void semset_cleanup(st_run *r) {
    if (r->h[0]) {
        ipcx_semset_remove(r->h[0]);
        ipcx_semset_close(r->h[0]);
    }
    r->h[0] = NULL;
    region_cleanup(r);
}

const struct st_mech st_semset_undo = {
    .name = "SysV sem SEM_UNDO",
    .notes = "used as a lock with SEM_UNDO on P and V: the kernel restores the unit of a "
             "killed holder",
    .setup = semset_setup,
    .prune = nop_prune,
    .victim = semset_victim,
    .survivor = semset_survivor,
    .cleanup = semset_cleanup,
};
