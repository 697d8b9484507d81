/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The stress and crash driver (ipcx_stress): shared definitions.
 *
 * One plug-in ("mechanism", struct st_mech) per IPC mechanism, a small table of function
 * pointers, so that new transports (the channel layer's addresses) become rows:
 *
 *   setup     creates the object(s) in the process that runs the trial or the load, before
 *             it forks the other side (registers what it created with st_res_add);
 *   prune     after fork, closes the inherited handles a side does not use;
 *   tx_*      a producer: open, send one message, close;
 *   rx_*      the consumer: open, receive one message (CLOSED once every producer is gone,
 *             where the mechanism can tell), close;
 *   victim    (mechanisms without messages) the operation a victim repeats until killed;
 *   survivor  (idem) what the survivor does before and after the kill, and its checks;
 *   reuse     (optional) after a crash, a new peer attaches and a message goes through;
 *   cleanup   removes what setup created.
 *
 * Message mechanisms only fill in setup/prune/tx/rx/cleanup: the driver runs the load
 * (producers x messages into one consumer) and both kinds of crash trial (victim producer,
 * victim consumer) generically. Every message carries its producer id, a sequence number
 * and a checksum (struct st_hdr).
 */
#ifndef IPCX_STRESS_H
#define IPCX_STRESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcx.h"

/* ------------------------------------------------------------------ messages */

#define ST_MAGIC 0x49505358u /* "IPSX" */
#define ST_END 1u            /* flag: the producer's last message (seq = its count) */

/* Every message starts with this header; `len` is the whole message, header included. */
struct st_hdr {
    uint32_t magic;
    uint16_t producer;
    uint16_t flags;
    uint32_t seq;
    uint32_t len;
    uint32_t sum; /* FNV-1a over the fields above (sum = 0) and the payload */
};

#define ST_MIN_LEN ((int)sizeof(struct st_hdr))
#define ST_MAX_LEN 65536

/* The length of message `seq` of `producer` for a mechanism allowing `max_len` bytes. */
size_t st_msg_len(int producer, uint32_t seq, size_t max_len);
/* Build message (`producer`, `seq`, `flags`) of `len` bytes into `buf`. */
void st_msg_build(void *buf, size_t len, int producer, uint32_t seq, uint16_t flags);
/* Check a received message; 0 if well formed (magic, length, checksum, producer < nprod). */
int st_msg_check(const void *buf, size_t len, int nprod);

/* ------------------------------------------------------------------ resources */

enum st_res_kind {
    ST_RES_PATH = 1, /* FIFO or socket file */
    ST_RES_SHM,      /* POSIX shm object (rings too) */
    ST_RES_MQ,       /* POSIX message queue */
    ST_RES_SEM,      /* POSIX named semaphore */
    ST_RES_MSQ,      /* System V message queue id */
    ST_RES_SEG,      /* System V segment id */
    ST_RES_SEMSET,   /* System V semaphore set id */
};

#define ST_MAX_RES 16
struct st_res {
    int kind;
    long id;
    char name[160];
};

/* ------------------------------------------------------------------ a run */

#define ST_MAX_PRODUCERS 8

/* Memory shared by every process of one load run or one crash trial. */
struct st_shared {
    /* victim -> driver */
    atomic_int victim_pid;
    atomic_llong started_ns;   /* the victim began its operations (0: not yet) */
    atomic_int victim_status;  /* an unexpected status in the victim (0: none) */
    /* driver -> survivor */
    atomic_int kill_begun;     /* set just before the SIGKILL is sent */
    atomic_llong kill_ns;      /* when the driver sent SIGKILL (0: not yet); stored after
                                * the kill, so a victim never runs "after" this time */
    /* producers -> consumer */
    atomic_ullong sent_ok[ST_MAX_PRODUCERS]; /* messages whose send returned IPCX_OK */
    atomic_int producer_status[ST_MAX_PRODUCERS];
    /* anything -> anyone: a port or address published by the side that binds it */
    atomic_int published;
    /* survivor -> victim: the survivor's end is open (a victim consumer starts then, so
     * that it is killed while messages flow, not before its peer could connect) */
    atomic_int peer_ready;
    char address[IPCX_SOCK_ADDR_MAX];
    /* objects created (for forced cleanup and for leak checks by name) */
    atomic_int nres;
    struct st_res res[ST_MAX_RES];
    /* survivor -> driver: the result of a crash trial */
    struct {
        int done;
        int final_status;      /* the defined status the survivor ended with */
        int error;             /* 1: a check failed (detail in `note`) */
        int hang;              /* 1: no defined status within 2 s of the kill */
        int fd_leak;           /* descriptors open after cleanup minus before setup */
        double recovery_ms;    /* kill -> defined status */
        uint64_t messages, lost, dup, ooo, corrupt;
        uint64_t owner_dead;   /* robust locks: OWNER_DEAD seen and repaired */
        uint64_t units_lost;   /* POSIX semaphores: a unit held by the dead victim */
        uint64_t torn;         /* shared memory: records torn by the kill (expected) */
        char note[256];
    } out;
};

/* One run of a mechanism: a load run, or one crash trial. */
typedef struct st_run {
    const struct st_mech *m;
    struct st_shared *sh;
    int producers;          /* load: number of producers; crash: 1 */
    uint32_t messages;      /* load: per producer */
    int trial;              /* crash trial number (or -1 for the load) */
    int kind;               /* ST_KIND_* */
    uint64_t rng;           /* per-run random state */
    char dir[128];          /* directory for FIFOs and socket files */
    char name[128];         /* a unique name for this run's object (path or POSIX name) */
    /* Handles created by setup (process-local; inherited across fork). */
    void *h[4];
    long id;                /* a System V id, when the mechanism uses one */
    void *mem;              /* a shared mapping made by setup */
    int victim_reaped;      /* the survivor already waited for the dead victim */
} st_run;

/* Which side of a trial is killed. */
enum { ST_KIND_LOAD = 0, ST_KIND_KILL_PRODUCER = 1, ST_KIND_KILL_CONSUMER = 2, ST_KIND_CUSTOM = 3 };
/* Which side a process plays. */
enum { ST_SIDE_PRODUCER = 1, ST_SIDE_CONSUMER = 2 };

/* Capabilities of a mechanism. */
enum {
    ST_MESSAGES = 1 << 0, /* carries messages: load and generic crash trials */
    ST_MULTI = 1 << 1,    /* several producers at once */
    ST_ORDERED = 1 << 2,  /* per-producer order is promised */
    ST_LOSSY = 1 << 3,    /* may lose messages (UDP): loss is reported, not a failure */
    ST_NO_KILL_CONSUMER = 1 << 4, /* no victim-consumer trials */
};

struct st_mech {
    const char *name;
    unsigned caps;
    size_t max_len;        /* largest message (header included) used in the load */
    size_t crash_max_len;  /* largest message in crash trials (larger: killed mid-message) */
    int rx_final;          /* the defined status of a receive once every producer died */
    int tx_final;          /* the defined status of a send once the consumer died */
    const char *notes;     /* printed under the table */

    int (*setup)(st_run *r, int parent_side);
    void (*prune)(st_run *r, int side);
    int (*tx_open)(st_run *r, int producer, void **tx);
    int (*tx_send)(void *tx, const void *buf, size_t len, int64_t timeout_ms);
    void (*tx_close)(void *tx);
    int (*rx_open)(st_run *r, void **rx);
    int (*rx_recv)(void *rx, void *buf, size_t *len, int64_t timeout_ms);
    void (*rx_close)(void *rx);
    /* Optional, after the survivor reached the defined status: show that the object can be
     * used again by a new peer (a new producer or consumer attaches and one message goes
     * through). `h` is the survivor's open tx (side PRODUCER) or rx (side CONSUMER). */
    int (*reuse)(st_run *r, void *h, int side);

    void (*victim)(st_run *r);                  /* never returns */
    void (*survivor)(st_run *r);                /* fills r->sh->out */
    void (*cleanup)(st_run *r);
};

/* ------------------------------------------------------------------ helpers */

int64_t st_now_ns(void);
double st_ms_since(int64_t t0_ns);
uint64_t st_rand(uint64_t *state);
int st_fd_count(void);
/* Register an object a setup function created (for forced cleanup and leak checks). */
void st_res_add(st_run *r, int kind, const char *name, long id);
/* Remove every registered object that still exists; returns how many it removed. */
int st_res_remove_all(struct st_shared *sh);
/* A name unique to this driver process: "<prefix>ipcx-stress-<pid>-<n>-<tag>". */
void st_unique(char *buf, size_t len, const char *prefix, const char *tag);
/* The driver's directory for FIFOs and socket files (private /tmp or a made one). */
const char *st_dir(void);

/* The victim marks that it is about to start the operations the driver interrupts. */
void st_victim_started(st_run *r);
/* A victim whose operation failed unexpectedly records it and waits to be killed. */
void st_victim_failed(st_run *r, int status, const char *what) __attribute__((noreturn));
/* The survivor: has the driver killed the victim yet? Time since the kill in ms (<0: not). */
double st_since_kill_ms(st_run *r);
/* The survivor: wait (up to 5 s) until the killed victim is gone; 0 when it is. */
int st_wait_victim(st_run *r);
/* The survivor: wait (up to 20 s) until the driver has killed the victim; -1 if it never did. */
int st_wait_kill(st_run *r);
/* Record a failed check in the result (first one kept). */
void st_fail(st_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Busy-wait about `us` microseconds (work inside a critical section). */
void st_spin_us(unsigned us);


/* Per-producer bookkeeping of received messages. */
struct st_seen {
    uint8_t *bits;
    uint32_t cap;     /* bits */
    int64_t highest;  /* highest seq seen, -1 none */
    uint64_t distinct;
    int end_seen;
};
struct st_tally {
    int nprod;
    bool ordered;
    struct st_seen p[ST_MAX_PRODUCERS];
    uint64_t received, dup, ooo, corrupt, ends;
};
void st_tally_init(struct st_tally *t, int nprod, bool ordered);
/* Account one received message; returns 1 for an END message, 0 otherwise. */
int st_tally_add(struct st_tally *t, const void *buf, size_t len);
void st_tally_free(struct st_tally *t);

/* ------------------------------------------------------------------ the plug-ins */

extern const struct st_mech st_pipe, st_fifo;
extern const struct st_mech st_posix_mq, st_sysv_msq, st_sysv_msq_types;
extern const struct st_mech st_unix_stream, st_unix_dgram, st_unix_seqpacket, st_tcp, st_udp;
extern const struct st_mech st_ring_spsc, st_ring_mpmc;
extern const struct st_mech st_mutex, st_cond, st_sem_named, st_sem_unnamed, st_semset_undo;
extern const struct st_mech st_shm_posix, st_shm_sysv;
extern const struct st_mech st_rt_signal;
#ifdef IPCX_HAVE_CHAN
extern const struct st_mech st_chan_rows[];
extern const size_t st_chan_row_count;
#endif

#endif
