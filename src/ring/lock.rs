// SPDX-License-Identifier: MIT OR Apache-2.0
//! The side lock of multi-producer/multi-consumer rings: producers share one, consumers
//! share one, each held around the single-producer/single-consumer algorithm.
//!
//! A futex mutex whose word names its holder (a token: slot and generation, see
//! `peers::token`) plus a waiters bit. A waiter spins, then sleeps on the word in slices;
//! after each slice it asks whether the holder's attachment is still alive (an OFD lock
//! probe). If the holder died holding the lock, the waiter takes it over with a
//! compare-and-swap on the exact value it saw, and is told so: the caller then repairs
//! what the holder may have left half done (producers re-derive the tail from the
//! published records; consumers have nothing to repair).
//!
//! Why not a pthread robust mutex: glibc links a robust mutex into the owning thread's
//! robust list through pointers stored in the mutex itself, and follows them on unlock.
//! In a region we treat as hostile, a scribbled pointer would make our own process write
//! through it. This lock's word is only ever compared and swapped.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::time::Deadline;

use super::wait;

/// Waiters bit.
const WAITERS: u32 = 1 << 31;

/// How the lock was acquired.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// Normally.
    Clean,
    /// Taken over from a holder that died.
    FromDead,
}

/// Take the lock. `dead(token)` says whether the holder named by a token is gone;
/// `woke()` runs after every sleep, before the word is looked at again (an error ends the
/// wait: a named ring whose memory is gone).
#[inline]
pub(crate) fn lock(
    word: &AtomicU32,
    me: u32,
    spin_ns: u64,
    deadline: Option<&Deadline>,
    what: &wait::What<'_>,
    dead: impl FnMut(u32) -> bool,
    woke: impl FnMut() -> Result<()>,
) -> Result<Acquired> {
    if word
        .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        return Ok(Acquired::Clean);
    }
    lock_slow(word, me, spin_ns, deadline, what, dead, woke)
}

#[cold]
fn lock_slow(
    word: &AtomicU32,
    me: u32,
    spin_ns: u64,
    deadline: Option<&Deadline>,
    what: &wait::What<'_>,
    mut dead: impl FnMut(u32) -> bool,
    mut woke: impl FnMut() -> Result<()>,
) -> Result<Acquired> {
    let start = Instant::now();
    let spin = Duration::from_nanos(spin_ns.min(1_000_000));
    let never = Deadline::now();
    let deadline = deadline.unwrap_or(&never);
    let mut last_check = start;
    let mut probed = false;
    loop {
        let v = word.load(Ordering::Relaxed);
        if v == 0 {
            // Others may sleep: keep the waiters bit so that our unlock wakes them.
            if word
                .compare_exchange(0, me | WAITERS, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(Acquired::Clean);
            }
            continue;
        }
        let now = Instant::now();
        let expired = deadline.expired();
        if now.duration_since(last_check) >= wait::SLICE || (expired && !probed) {
            last_check = now;
            probed = true;
            if dead(v & !WAITERS)
                && word
                    .compare_exchange(v, me | WAITERS, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Ok(Acquired::FromDead);
            }
        }
        if expired {
            return Err(wait::would_block(what));
        }
        if now.duration_since(start) < spin {
            std::hint::spin_loop();
            continue;
        }
        if v & WAITERS == 0
            && word
                .compare_exchange(v, v | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            continue;
        }
        let slice = deadline
            .remaining()
            .map_or(wait::SLICE, |d| d.min(wait::SLICE));
        let slept = wait::futex_sleep(word, v | WAITERS, slice, deadline, what);
        woke()?;
        slept?;
    }
}

/// Release the lock.
#[inline]
pub(crate) fn unlock(word: &AtomicU32) {
    if word.swap(0, Ordering::Release) & WAITERS != 0 {
        wait::futex_wake_one(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncontended_and_takeover() {
        let w = AtomicU32::new(0);
        let t = wait::What {
            op: "t",
            doing: "locking",
        };
        assert_eq!(
            lock(&w, 5, 0, None, &t, |_| false, || Ok(())).unwrap(),
            Acquired::Clean
        );
        // Held by a live holder: a non-blocking attempt fails.
        assert!(
            lock(&w, 6, 0, None, &t, |_| false, || Ok(()))
                .unwrap_err()
                .is_timeout()
        );
        unlock(&w);
        assert_eq!(w.load(Ordering::Relaxed), 0);
        // Held by a dead holder: taken over after one slice.
        w.store(9, Ordering::Relaxed);
        let dl = Deadline::after(Duration::from_secs(5));
        let t0 = Instant::now();
        assert_eq!(
            lock(&w, 6, 0, Some(&dl), &t, |tok| tok == 9, || Ok(())).unwrap(),
            Acquired::FromDead
        );
        assert!(t0.elapsed() >= wait::SLICE);
        assert_eq!(w.load(Ordering::Relaxed) & !WAITERS, 6);
    }
}
