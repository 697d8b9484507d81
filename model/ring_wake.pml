/*
 * The ring's sleep/wake-up protocol (src/ring/wait.rs), on x86-TSO, for spin.
 *
 * A consumer that finds the ring empty announces itself (NEED_WAKE in the wait word) and
 * re-checks before FUTEX_WAIT; the producer publishes a record and then checks the word.
 * x86 lets a load pass an earlier store (store buffers), so without a barrier on both
 * sides both checks can miss and the consumer sleeps on a non-empty ring. ipcx's answer
 * (asymmetric Dekker): the publisher does a plain store and a plain load; the sleeper sets
 * its flag with a locked instruction and then calls membarrier(GLOBAL_EXPEDITED), which
 * makes the publisher's CPU execute a full barrier; a sleeper that sleeps often instead
 * sets a bit in fence_slots once (then publishers fence after each publish) and skips the
 * membarrier. Without membarrier, publishers always fence.
 *
 * Modelled: the producer's store buffer (its record stores reach memory later, in order,
 * at any time: process Flush); locked instructions and fences drain it; membarrier drains
 * it from the consumer's side; FUTEX_WAIT sleeps only if the word still holds the value
 * announced (atomically), FUTEX_WAKE wakes it; claim_wake's compare-and-swap (clear
 * NEED_WAKE, bump the sequence). The 100 ms slice that bounds a lost wake-up in the code
 * is left out, so a lost wake-up is a deadlock here: spin reports it as an invalid end
 * state (consumers stuck in FUTEX_WAIT with a message published while the producer waits
 * for them to finish).
 *
 * Parameters (spin -D...): N messages; LIGHT 1 = membarrier available; SPIN0 1 = spin
 * budget 0 (fence requested at the first sleep); CONSUMERS 1 or 2 (MPMC: both sleep on
 * the same word; consumption under the consumers' lock is one atomic step); BROKEN 1 = the
 * sleeper skips its membarrier, 2 = the publisher ignores fence_slots (both must fail).
 */
#ifndef N
#define N 3
#endif
#ifndef LIGHT
#define LIGHT 1
#endif
#ifndef SPIN0
#define SPIN0 0
#endif
#ifndef CONSUMERS
#define CONSUMERS 1
#endif
#ifndef BROKEN
#define BROKEN 0
#endif
#define FENCE_AFTER 2 /* SLEEPS_BEFORE_FENCE (16 in the code; 2 reaches both modes here) */
#define NEED_WAKE 1
#define SEQ_ONE 2

byte rec = 0;        /* records published, as memory holds it */
byte pend = 0;       /* the producer's record stores still in its store buffer */
byte taken = 0;      /* records consumed (under the consumers' lock) */
byte word = 0;       /* the wait word: seq * 2 | NEED_WAKE */
byte fence_slots = 0;
byte asleep = 0;     /* consumers in FUTEX_WAIT (bit per consumer) */
bit closed = 0;      /* the producer has closed its end */

/* A locked instruction or a full fence on the producer's CPU: its buffer drains. */
inline drain() {
    rec = rec + pend;
    pend = 0
}

/* membarrier(GLOBAL_EXPEDITED) from a consumer: every running thread executes a full
 * barrier before the call returns. Without membarrier it falls back to a local fence. */
inline membarrier() {
    if
    :: LIGHT -> atomic { drain() }
    :: else -> skip
    fi
}

active proctype Flush() {
end:
    do
    :: atomic { pend > 0 -> rec++; pend-- }
    od
}

active proctype Producer() {
    byte i = 0;
    byte v;
    do
    :: i < N ->
        pend++; /* publish: the record header's release store (plain on x86) */
        i++;
        /* after_publish: compiler fence, relaxed load of the word */
        v = word;
        if
        :: (!LIGHT || fence_slots != 0) && BROKEN != 2 ->
            atomic { drain(); v = word } /* fence(SeqCst), load again */
        :: else -> skip
        fi;
        if
        :: (v & NEED_WAKE) != 0 ->
            /* claim_wake: the compare-and-swap winner clears NEED_WAKE and wakes */
            atomic {
                drain(); /* lock cmpxchg */
                if
                :: (word & NEED_WAKE) != 0 -> word = word - NEED_WAKE + SEQ_ONE; v = 1
                :: else -> v = 0
                fi
            };
            if
            :: v == 1 -> asleep = 0 /* FUTEX_WAKE, every sleeper */
            :: else -> skip
            fi
        :: else -> skip
        fi
    :: i == N -> break
    od;
    /* The producer stays attached until every message is consumed, then closes: closing
     * wakes every sleeper (wake_everyone). So a consumer asleep with a message published
     * while the producer waits here is a deadlock, i.e. a lost wake-up; a consumer asleep
     * on an empty ring (the other one took the last message) is woken by the close. */
    taken == N;
    atomic { drain(); word = word + SEQ_ONE }; /* lock xadd */
    closed = 1;
    asleep = 0
}

proctype Consumer(byte me) {
    byte v;
    byte sleeps = 0;
    bit fenced = 0;
    bit got = 0;
    do
    :: taken == N -> break
    :: taken < N ->
        atomic { if :: rec > taken -> taken++; got = 1 :: else -> got = 0 fi };
        if
        :: got -> skip
        :: else ->
            /* Sleeper::announce */
            if
            :: !fenced ->
                sleeps++;
                if
                :: SPIN0 || sleeps >= FENCE_AFTER || !LIGHT ->
                    fence_slots = fence_slots | (1 << me); /* lock or */
                    membarrier();
                    fenced = 1
                :: else -> skip
                fi
            :: else -> skip
            fi;
            atomic { word = word | NEED_WAKE; v = word }; /* lock or */
            if
            :: !fenced && BROKEN != 1 -> membarrier()
            :: else -> skip
            fi;
            /* re-check, then FUTEX_WAIT(word, v) */
            if
            :: rec > taken -> skip
            :: else ->
                atomic {
                    if
                    :: word == v -> asleep = asleep | (1 << me)
                    :: else -> skip
                    fi
                };
                /* until woken; or, once the producer has closed, at the end of the
                 * sleep slice, when the liveness check finds it gone */
                (asleep & (1 << me)) == 0 || closed
            fi
        fi
    od
}

init {
    byte k = 0;
    atomic {
        do
        :: k < CONSUMERS -> run Consumer(k); k++
        :: k == CONSUMERS -> break
        od
    }
}
