// SPDX-License-Identifier: MIT OR Apache-2.0
//! Waiting and waking across processes: futexes on shared words, and the ordering
//! protocol that lets the fast path skip both the wake system call and the fence.
//!
//! # The race every sleeping ring must close
//! A consumer that finds the ring empty announces itself (sets NEED_WAKE) and re-checks
//! the ring before it sleeps; a producer publishes a record and then checks for the
//! announcement. That is Dekker's pattern: each side stores, then loads what the other
//! stored. Without a full fence between the store and the load on *both* sides, both loads
//! can miss (x86 lets a load pass an earlier store), and the consumer sleeps on a
//! non-empty ring. A full fence per message on the producer costs 30-50% of small-message
//! throughput on this machine (the fence waits for the cache line to travel to the other
//! core), so ipcx moves the cost to the side that is about to sleep anyway:
//!
//! - **Asymmetric (default).** The publishing side ("light") does a plain store, a compiler
//!   barrier, and a load. The side going to sleep ("heavy") sets its flag with a full
//!   fence and then calls `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`, which makes every
//!   running thread of every registered process execute a full barrier before it returns:
//!   afterwards either the publisher's record is visible to the sleeper's re-check, or the
//!   publisher's load sees the flag. Every process that attaches registers
//!   (`MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED`; inherited by fork children).
//! - **Fenced (for sleepers that sleep often).** A membarrier costs microseconds when the
//!   other process is running (an inter-processor interrupt), which would dominate a
//!   blocking round trip. A side that sleeps often (spin budget 0, a poll descriptor, or 16
//!   sleeps) sets its slot's bit in `fence_slots` once, followed by one membarrier; from
//!   then on every publisher that sees a non-zero `fence_slots` executes a full fence
//!   after publishing (classic symmetric Dekker), and that sleeper skips the membarrier.
//!   The bit is cleared when the slot detaches or is reaped.
//! - Without membarrier (old kernel, seccomp), publishers in this process always fence,
//!   and a sleeper holds its fence bit from attach.
//!
//! # Coalesced wake-ups
//! The word is `seq << 8 | POLL_ARMED | NEED_WAKE`. A publisher that sees NEED_WAKE or
//! POLL_ARMED clears them with a compare-and-swap that also bumps `seq`; only the winner
//! calls FUTEX_WAKE (and notifies pollers). So there is at most one wake system call per
//! sleep, none while the other side spins, and a sleeper whose FUTEX_WAIT races with the
//! wake sees the value change and does not sleep.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, compiler_fence, fence};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::time::{self, Deadline};

/// A sleeper is (or is about to be) waiting in FUTEX_WAIT.
pub(crate) const NEED_WAKE: u32 = 1;
/// A consumer's poll descriptor is armed (see `poll.rs`).
pub(crate) const POLL_ARMED: u32 = 2;
/// Sequence increment.
pub(crate) const SEQ_ONE: u32 = 1 << 8;

/// How long one futex sleep lasts at most before the sleeper re-checks that its peer is
/// alive: peer death is reported within about this long.
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// The default spin budget (20 us).
pub(crate) const DEFAULT_SPIN_NS: u64 = 20_000;

const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: libc::c_int = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: libc::c_int = 1 << 2;

/// 0: not probed yet in this process; 1: registered and usable; 2: unavailable.
static MEMBARRIER: AtomicU32 = AtomicU32::new(0);

/// Register this process for global expedited membarrier (once per process; fork
/// children inherit the registration). Returns whether the asymmetric protocol is usable.
pub(crate) fn membarrier_register() -> bool {
    match MEMBARRIER.load(Ordering::Acquire) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    // SAFETY: plain system calls without pointers.
    let ok = unsafe {
        let q = libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        q >= 0
            && q & (MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)
                as libc::c_long
                == (MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)
                    as libc::c_long
            && libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
                0,
                0,
            ) == 0
    };
    MEMBARRIER.store(if ok { 1 } else { 2 }, Ordering::Release);
    ok
}

/// True when this process publishes without a fence (asymmetric protocol).
#[inline(always)]
pub(crate) fn light_publish() -> bool {
    MEMBARRIER.load(Ordering::Relaxed) == 1
}

/// The heavy barrier: every registered thread executes a full barrier.
fn membarrier() {
    // SAFETY: no pointers. It cannot fail once the process registered; if it does, fall
    // back to a local fence (then only the slice bounds a lost wake-up).
    let r = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) };
    if r != 0 {
        fence(Ordering::SeqCst);
    }
}

use crate::sys::futex::futex_wait;
pub(crate) use crate::sys::futex::{futex_wake_all, futex_wake_one};

/// Sleep on `word` until it no longer holds `expected`, a wake-up, or `d` passes.
/// EINTR is decided by [`time::on_eintr`].
pub(crate) fn futex_sleep(
    word: &AtomicU32,
    expected: u32,
    d: Duration,
    deadline: &Deadline,
    what: &What<'_>,
) -> Result<()> {
    match futex_wait(word, expected, d) {
        Errno::EINTR => time::on_eintr(deadline, what),
        _ => Ok(()),
    }
}

/// After publishing (a record, or released space): the light side's check. Returns the
/// word when someone must be woken or notified (the caller then calls [`wake`]).
#[inline(always)]
pub(crate) fn after_publish(w: &WaitRef<'_>) -> Option<u32> {
    compiler_fence(Ordering::SeqCst);
    let mut v = w.word.load(Ordering::Relaxed);
    if !light_publish() || w.fence_slots.load(Ordering::Relaxed) != 0 {
        fence(Ordering::SeqCst);
        v = w.word.load(Ordering::Relaxed);
    }
    if v & (NEED_WAKE | POLL_ARMED) != 0 {
        Some(v)
    } else {
        None
    }
}

/// Clear the announcement bits (once: the compare-and-swap winner wakes). Returns the
/// bits this caller cleared.
#[cold]
pub(crate) fn claim_wake(word: &AtomicU32, mut v: u32) -> u32 {
    loop {
        let bits = v & (NEED_WAKE | POLL_ARMED);
        if bits == 0 {
            return 0;
        }
        let new = (v & !(NEED_WAKE | POLL_ARMED)).wrapping_add(SEQ_ONE);
        match word.compare_exchange_weak(v, new, Ordering::SeqCst, Ordering::Relaxed) {
            Ok(_) => {
                if bits & NEED_WAKE != 0 {
                    futex_wake_all(word);
                }
                return bits;
            }
            Err(cur) => v = cur,
        }
    }
}

/// Bump the sequence and wake every sleeper (membership changed, close).
pub(crate) fn wake_everyone(word: &AtomicU32) {
    word.fetch_add(SEQ_ONE, Ordering::SeqCst);
    futex_wake_all(word);
}

/// A wait word and its fence mask.
pub(crate) struct WaitRef<'a> {
    pub word: &'a AtomicU32,
    pub fence_slots: &'a AtomicU64,
}

/// Per-handle sleeping state for one wait word.
#[derive(Debug, Default)]
pub(crate) struct Sleeper {
    /// This handle's slot bit is set in `fence_slots`.
    pub fenced: bool,
    /// Sleeps so far (to switch to the fenced protocol).
    pub sleeps: u32,
}

/// Sleeps after which a handle asks publishers to fence.
const SLEEPS_BEFORE_FENCE: u32 = 16;

impl Sleeper {
    /// Ask the publishers to fence from now on (see the module documentation).
    pub fn request_fence(&mut self, w: &WaitRef<'_>, slot: usize) {
        if !self.fenced {
            w.fence_slots.fetch_or(1 << slot, Ordering::SeqCst);
            membarrier();
            self.fenced = true;
        }
    }

    /// Withdraw the fence request.
    pub fn drop_fence(&mut self, w: &WaitRef<'_>, slot: usize) {
        if self.fenced {
            w.fence_slots.fetch_and(!(1u64 << slot), Ordering::SeqCst);
            self.fenced = false;
        }
    }

    /// Announce `bits` (NEED_WAKE and/or POLL_ARMED) with a full fence on this side, and
    /// make the announcement safe against publishers that do not fence. Returns the word
    /// value to sleep on. The caller re-checks its condition afterwards.
    pub fn announce(&mut self, w: &WaitRef<'_>, slot: usize, bits: u32, spin_ns: u64) -> u32 {
        if !self.fenced {
            self.sleeps = self.sleeps.saturating_add(1);
            if spin_ns == 0 || self.sleeps >= SLEEPS_BEFORE_FENCE || !light_publish() {
                self.request_fence(w, slot);
            }
        }
        let v = w.word.fetch_or(bits, Ordering::SeqCst) | bits;
        if !self.fenced {
            membarrier();
        }
        v
    }
}

/// A spin-then-sleep loop with the liveness checks of a ring wait, over some state `st`.
/// `ready` is polled while spinning; `sleep` performs one futex sleep of at most the
/// given duration (announcing first and re-checking); `alive` runs at least every
/// [`SLICE`] and returns an error when the wait must end (peer gone).
pub(crate) fn wait_until<S, T>(
    st: &mut S,
    spin_ns: u64,
    deadline: &Deadline,
    what: &What<'_>,
    ready: impl Fn(&mut S) -> Result<Option<T>>,
    sleep: impl Fn(&mut S, Duration) -> Result<Option<T>>,
    alive: impl Fn(&mut S) -> Result<()>,
) -> Result<T> {
    let start = Instant::now();
    let mut last_check = start;
    if spin_ns > 0 {
        let budget = Duration::from_nanos(spin_ns);
        let mut i: u32 = 0;
        loop {
            if let Some(t) = ready(st)? {
                return Ok(t);
            }
            i = i.wrapping_add(1);
            if i % 64 == 0 {
                let now = Instant::now();
                if deadline.instant().is_some_and(|d| now >= d) {
                    return Err(deadline.timeout_error(what));
                }
                if now.duration_since(last_check) >= SLICE {
                    last_check = now;
                    alive(st)?;
                }
                if spin_ns != u64::MAX && now.duration_since(start) >= budget {
                    break;
                }
            }
            std::hint::spin_loop();
        }
    }
    loop {
        if let Some(t) = ready(st)? {
            return Ok(t);
        }
        let slice = match deadline.remaining() {
            None => SLICE,
            Some(d) if d.is_zero() => return Err(deadline.timeout_error(what)),
            Some(d) => d.min(SLICE),
        };
        if let Some(t) = sleep(st, slice)? {
            return Ok(t);
        }
        let now = Instant::now();
        if now.duration_since(last_check) >= SLICE / 2 {
            last_check = now;
            alive(st)?;
        }
    }
}

/// What a waiting call waits for, formatted only when an error needs it (the wait path
/// of a spinning round trip must not allocate).
/// The caller prefixes timeout and interruption errors with the ring's name ([`named`]).
pub(crate) struct What<'a> {
    /// The operation (`send`, `recv`...).
    pub op: &'a str,
    /// What it waits for.
    pub doing: &'static str,
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.op, self.doing)
    }
}

/// Prefix the errors a wait produced itself (timeout, interruption) with the ring's name;
/// errors from the ring already carry it.
#[cold]
pub(crate) fn named(e: Error, ring: &str) -> Error {
    use crate::error::Status;
    if matches!(
        e.status,
        Status::IPCX_ERR_TIMEOUT | Status::IPCX_ERR_INTERRUPTED
    ) {
        e.context(ring)
    } else {
        e
    }
}

/// The timeout error of a call that would block (`IPCX_NOWAIT`).
#[cold]
pub(crate) fn would_block(what: &What<'_>) -> Error {
    Error::timeout(format!("{what}: would block"))
}
