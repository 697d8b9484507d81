/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Helpers of the stress driver: messages, tallies, time, resources. */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ messages */

static uint32_t fnv(uint32_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    return x ^ (x >> 16);
}

size_t st_msg_len(int producer, uint32_t seq, size_t max_len) {
    if (max_len <= (size_t)ST_MIN_LEN) return ST_MIN_LEN;
    /* Mostly small messages, one in 16 up to the maximum: frames of every size. */
    uint32_t h = mix32(seq * 2654435761u + (uint32_t)producer * 40503u);
    size_t span = (h & 15) ? (max_len < 256 ? max_len : 256) : max_len;
    return ST_MIN_LEN + (h >> 4) % (span - ST_MIN_LEN + 1);
}

static uint32_t msg_sum(const struct st_hdr *h, const uint8_t *payload, size_t n) {
    struct st_hdr c = *h;
    c.sum = 0;
    return fnv(fnv(2166136261u, &c, sizeof c), payload, n);
}

void st_msg_build(void *buf, size_t len, int producer, uint32_t seq, uint16_t flags) {
    struct st_hdr h = {ST_MAGIC, (uint16_t)producer, flags, seq, (uint32_t)len, 0};
    uint8_t *p = (uint8_t *)buf + sizeof h;
    size_t n = len - sizeof h;
    uint8_t v = (uint8_t)(seq * 31u + (uint32_t)producer * 7u);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v + i);
    h.sum = msg_sum(&h, p, n);
    memcpy(buf, &h, sizeof h);
}

int st_msg_check(const void *buf, size_t len, int nprod) {
    struct st_hdr h;
    if (len < sizeof h) return -1;
    memcpy(&h, buf, sizeof h);
    if (h.magic != ST_MAGIC || h.len != len || h.producer >= nprod) return -1;
    const uint8_t *p = (const uint8_t *)buf + sizeof h;
    return msg_sum(&h, p, len - sizeof h) == h.sum ? 0 : -1;
}

/* ------------------------------------------------------------------ tallies */

void st_tally_init(struct st_tally *t, int nprod, bool ordered) {
    memset(t, 0, sizeof *t);
    t->nprod = nprod;
    t->ordered = ordered;
    for (int i = 0; i < nprod; i++) t->p[i].highest = -1;
}

void st_tally_free(struct st_tally *t) {
    for (int i = 0; i < t->nprod; i++) free(t->p[i].bits);
    memset(t, 0, sizeof *t);
}

int st_tally_add(struct st_tally *t, const void *buf, size_t len) {
    t->received++;
    if (st_msg_check(buf, len, t->nprod) != 0) {
        t->corrupt++;
        return 0;
    }
    struct st_hdr h;
    memcpy(&h, buf, sizeof h);
    struct st_seen *s = &t->p[h.producer];
    if (h.flags & ST_END) {
        t->ends++;
        s->end_seen = 1;
        return 1;
    }
    if (h.seq >= s->cap) {
        uint32_t cap = s->cap ? s->cap : 1u << 16;
        while (cap <= h.seq) cap *= 2;
        uint8_t *b = realloc(s->bits, cap / 8);
        if (!b) {
            perror("realloc");
            exit(3);
        }
        memset(b + s->cap / 8, 0, (cap - s->cap) / 8);
        s->bits = b;
        s->cap = cap;
    }
    uint8_t bit = (uint8_t)(1u << (h.seq & 7));
    if (s->bits[h.seq >> 3] & bit) {
        t->dup++;
        return 0;
    }
    s->bits[h.seq >> 3] |= bit;
    s->distinct++;
    if ((int64_t)h.seq < s->highest) t->ooo++;
    else s->highest = h.seq;
    return 0;
}

/* ------------------------------------------------------------------ time, random, fds */

int64_t st_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double st_ms_since(int64_t t0_ns) { return (double)(st_now_ns() - t0_ns) / 1e6; }

uint64_t st_rand(uint64_t *s) {
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int st_fd_count(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

void st_spin_us(unsigned us) {
    int64_t end = st_now_ns() + (int64_t)us * 1000;
    while (st_now_ns() < end) {
    }
}

/* ------------------------------------------------------------------ resources */

void st_res_add(st_run *r, int kind, const char *name, long id) {
    int i = atomic_fetch_add(&r->sh->nres, 1);
    if (i >= ST_MAX_RES) {
        fprintf(stderr, "stress: too many resources in one run\n");
        exit(3);
    }
    struct st_res *res = &r->sh->res[i];
    res->kind = kind;
    res->id = id;
    snprintf(res->name, sizeof res->name, "%s", name ? name : "");
}

int st_res_remove_all(struct st_shared *sh) {
    int n = atomic_load(&sh->nres), removed = 0;
    if (n > ST_MAX_RES) n = ST_MAX_RES;
    for (int i = n - 1; i >= 0; i--) {
        struct st_res *r = &sh->res[i];
        int rc = -1;
        /* System V objects ipcx created go through ipcx_inspect_remove, which forgets their
         * provenance record too (a raw IPC_RMID would leave the record behind). */
        int sysv = r->kind == ST_RES_MSQ ? IPCX_OBJECT_SYSV_MSQ
                   : r->kind == ST_RES_SEG ? IPCX_OBJECT_SYSV_SHM
                   : r->kind == ST_RES_SEMSET ? IPCX_OBJECT_SYSV_SEM
                                              : 0;
        if (sysv) {
            char id[32];
            snprintf(id, sizeof id, "%ld", r->id);
            if (ipcx_inspect_remove((uint32_t)sysv, id, IPCX_INSPECT_FOREIGN) == IPCX_OK) {
                removed++;
                continue;
            }
        }
        switch (r->kind) {
        case ST_RES_PATH: rc = unlink(r->name); break;
        case ST_RES_SHM: rc = shm_unlink(r->name); break;
        case ST_RES_MQ: rc = mq_unlink(r->name); break;
        case ST_RES_SEM: rc = sem_unlink(r->name); break;
        case ST_RES_MSQ: rc = msgctl((int)r->id, IPC_RMID, NULL); break;
        case ST_RES_SEG: rc = shmctl((int)r->id, IPC_RMID, NULL); break;
        case ST_RES_SEMSET: rc = semctl((int)r->id, 0, IPC_RMID); break;
        default: break;
        }
        if (rc == 0) removed++;
    }
    return removed;
}

void st_unique(char *buf, size_t len, const char *prefix, const char *tag) {
    static int seq;
    snprintf(buf, len, "%sipcx-stress-%d-%d-%s", prefix, (int)getpid(), seq++, tag);
}

/* ------------------------------------------------------------------ victims and survivors */

void st_victim_started(st_run *r) {
    long long zero = 0;
    atomic_compare_exchange_strong(&r->sh->started_ns, &zero, (long long)st_now_ns());
}

void st_victim_failed(st_run *r, int status, const char *what) {
    atomic_store(&r->sh->victim_status, status ? status : -1);
    fprintf(stderr, "stress: %s: victim: %s returned %s: %s\n", r->m->name, what,
            ipcx_status_name(status), ipcx_last_error());
    st_victim_started(r);
    for (;;) pause();
}

double st_since_kill_ms(st_run *r) {
    long long k = atomic_load(&r->sh->kill_ns);
    if (!k && atomic_load(&r->sh->kill_begun)) {
        /* The kill is sent, its time not stored yet (the driver is between the two, maybe
         * preempted): what the survivor saw may be the kill's effect, so wait for the time. */
        int64_t end = st_now_ns() + 5000000000LL;
        while (!(k = atomic_load(&r->sh->kill_ns)) && st_now_ns() < end) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    if (!k) return -1;
    return st_ms_since(k);
}

int st_wait_victim(st_run *r) {
    pid_t v = atomic_load(&r->sh->victim_pid);
    int64_t end = st_now_ns() + 5000000000LL;
    for (;;) {
        int st;
        pid_t w = waitpid(v, &st, WNOHANG);
        if (w == v || (w < 0 && errno == ECHILD)) {
            r->victim_reaped = 1;
            return 0;
        }
        if (st_now_ns() > end) return -1;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

int st_wait_kill(st_run *r) {
    int64_t end = st_now_ns() + 20000000000LL;
    while (!atomic_load(&r->sh->kill_ns)) {
        if (st_now_ns() > end) return -1;
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

void st_fail(st_run *r, const char *fmt, ...) {
    if (r->sh->out.error) return;
    r->sh->out.error = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->sh->out.note, sizeof r->sh->out.note, fmt, ap);
    va_end(ap);
}

