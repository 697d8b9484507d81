/*
 * A ring producer's room descriptor (src/ring/mod.rs: wait_space, arm, consume,
 * notify_producers, notify_pollers, Drop; src/ring/poll.rs), on x86-TSO, for spin.
 *
 * A producer that polls asks for its descriptor once (which sets its bit in the space
 * word's fence_slots: consumers fence after each release from then on). A send with
 * IPCX_NOWAIT that finds the ring full arms the descriptor: it drains its socket, sets
 * its bit in poll_armed (lock or), announces POLL_ARMED in the space word (lock or), then
 * re-checks for room (and whether the consumer is gone) and, if so, sends itself a
 * datagram (wake_self). The loop then waits until the descriptor is readable (a datagram
 * is queued) and sends again. The consumer releases a record with a plain store of its
 * head (sitting in its store buffer, draining in order at any time), then, seeing
 * fence_slots, fences and loads the space word; if POLL_ARMED is set, the compare-and-swap
 * winner clears it and sends one datagram to each armed poller (poll_armed swapped to 0).
 * A consumer that closes releases its liveness lock (the close of its descriptor, a
 * system call: its store buffer drains), then notifies every armed poller.
 *
 * A lost notification is a producer waiting for a datagram that never comes while the
 * consumer has finished (room is there, or the consumer is gone): spin reports it as an
 * invalid end state.
 *
 * Parameters (spin -D...): N messages the producer sends into a ring holding CAP records
 * that starts full; CLOSE 1 = the consumer takes one record and closes (the producer must
 * see it gone), 0 = it takes everything. BROKEN (must fail): 1 = arm skips its re-check
 * after announcing, 2 = the consumer ignores fence_slots (no fence after its release),
 * 3 = the close notifies before its liveness lock is released (what a mapping made from
 * the lock's open file description did: the lock outlived the close until the unmap).
 */
#ifndef N
#define N 3
#endif
#ifndef CAP
#define CAP 1
#endif
#ifndef CLOSE
#define CLOSE 0
#endif
#ifndef BROKEN
#define BROKEN 0
#endif
#define POLL_ARMED 2
#define SEQ_ONE 4

byte sent = CAP;     /* records published (the ring starts full) */
byte head = 0;       /* records released, as memory holds the consumer's head */
byte pend = 0;       /* the consumer's head stores still in its store buffer */
byte taken = 0;      /* records the consumer has taken (its own view) */
byte word = 0;       /* the space wait word: seq * 4 | POLL_ARMED */
bit armed = 0;       /* the producer's bit in poll_armed */
byte sock = 0;       /* datagrams queued on the producer's socket: readable if > 0 */
bit gone = 0;        /* the consumer's liveness lock is released */

/* A locked instruction, a full fence or a system call on the consumer's CPU. */
inline drain() {
    head = head + pend;
    pend = 0
}

active proctype Flush() {
end:
    do
    :: atomic { pend > 0 -> head++; pend-- }
    od
}

/* send_pollers: one datagram to each armed poller (poll_armed swapped to 0). */
inline notify_pollers() {
    atomic {
        if
        :: armed -> armed = 0; sock++
        :: else -> skip
        fi
    }
}

active proctype Producer() {
    byte i = 0;
    do
    :: i == N -> break
    :: i < N ->
        if
        :: sent - head < CAP -> sent++; i++ /* room: the send goes */
        :: else ->
            if
            :: gone -> break /* IPCX_ERR_CLOSED */
            :: else -> skip
            fi;
            /* full: IPCX_ERR_TIMEOUT, and arm() */
            sock = 0; /* drain the socket */
            armed = 1; /* poll_armed.fetch_or (lock or) */
            word = word | POLL_ARMED; /* announce (lock or; fenced: no membarrier) */
            if
            :: BROKEN != 1 && (sent - head < CAP || gone) -> sock++ /* wake_self */
            :: else -> skip
            fi;
            /* the loop waits until the descriptor is readable */
            sock > 0
        fi
    od
}

active proctype Consumer() {
    byte v;
    do
    :: CLOSE && taken == 1 -> break
    :: taken == N + CAP -> break
    :: taken < N + CAP && !(CLOSE && taken == 1) ->
        sent > taken; /* a record is there (the data direction: model ring_wake.pml) */
        taken++;
        pend++; /* consume: the head's release store (plain on x86) */
        /* after_publish: fence_slots is set (the producer polls): fence, load */
        if
        :: BROKEN != 2 -> atomic { drain(); v = word }
        :: else -> v = word
        fi;
        if
        :: (v & POLL_ARMED) != 0 ->
            /* claim_wake: the compare-and-swap winner clears POLL_ARMED */
            atomic {
                drain(); /* lock cmpxchg */
                if
                :: (word & POLL_ARMED) != 0 -> word = word - POLL_ARMED + SEQ_ONE; v = 1
                :: else -> v = 0
                fi
            };
            if
            :: v == 1 -> notify_pollers()
            :: else -> skip
            fi
        :: else -> skip
        fi
    od;
    if
    :: CLOSE && BROKEN != 3 ->
        atomic { drain(); gone = 1 }; /* close(descriptor): the lock goes */
        notify_pollers()
    :: CLOSE && BROKEN == 3 ->
        drain();
        notify_pollers();
        gone = 1 /* the unmap, later */
    :: else -> skip
    fi
}
