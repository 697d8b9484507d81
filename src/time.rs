// SPDX-License-Identifier: MIT OR Apache-2.0
//! The one place for timeouts, deadlines and EINTR.
//!
//! C callers pass a relative timeout in milliseconds: [`FOREVER`] (-1) blocks without limit,
//! [`NOWAIT`] (0) never blocks, a positive value waits at most that long. Internally it
//! becomes a [`Deadline`] on `CLOCK_MONOTONIC` (immune to wall-clock changes), computed once
//! at the start of the call, so retries after EINTR or spurious wake-ups only wait for the
//! time that remains: the whole call never takes longer than asked (plus scheduling delay)
//! and never returns `IPCX_ERR_TIMEOUT` before the deadline has passed.
//!
//! EINTR is retried against the remaining time, unless the calling thread asked to be
//! interrupted (`ipcx_thread_set_interruptible`), in which case `IPCX_ERR_INTERRUPTED`
//! is returned so a signal handler that sets a flag can stop a blocking call.
//!
//! System calls go through nix (`clock_gettime`, `ppoll`, `clock_nanosleep`,
//! `sched_yield`); the C `timespec` in signatures is what the futex, semaphore and
//! pthread waits of other modules take.

use std::cell::Cell;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, ppoll};
use nix::sched::sched_yield;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, ClockNanosleepFlags, clock_gettime, clock_nanosleep};

use crate::error::{Error, Result};

/// Timeout value meaning "wait without limit".
pub(crate) const FOREVER: i64 = -1;
/// Timeout value meaning "do not block at all".
pub(crate) const NOWAIT: i64 = 0;

/// How long a call may wait, as its caller asked: not at all, up to a duration, or without
/// limit. The core takes this type (the C boundary converts milliseconds with
/// [`Timeout::from_ms`]); it becomes a [`Deadline`] only where a call must wait, so the
/// fast paths of the ring, semaphores and mutexes never read the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Try once, never block.
    NoWait,
    /// Wait at most this long.
    After(Duration),
    /// Wait without limit.
    Forever,
}

impl Timeout {
    /// Convert a C timeout in milliseconds ([`FOREVER`], [`NOWAIT`] or positive). Values
    /// below -1 are invalid.
    #[inline(always)]
    pub fn from_ms(timeout_ms: i64) -> Result<Timeout> {
        match timeout_ms {
            NOWAIT => Ok(Timeout::NoWait),
            FOREVER => Ok(Timeout::Forever),
            ms if ms > 0 => Ok(Timeout::After(Duration::from_millis(ms as u64))),
            ms => Err(invalid_ms(ms)),
        }
    }

    /// Whether the call must not block.
    #[inline(always)]
    pub fn is_nowait(self) -> bool {
        self == Timeout::NoWait
    }

    /// What is left of `deadline` as a timeout: forever for a deadline that never
    /// passes, no wait once it has passed.
    pub fn left(deadline: &Deadline) -> Timeout {
        match deadline.remaining() {
            None => Timeout::Forever,
            Some(d) if d.is_zero() => Timeout::NoWait,
            Some(d) => Timeout::After(d),
        }
    }

    /// The deadline, counted from now.
    pub fn deadline(self) -> Deadline {
        match self {
            Timeout::NoWait => Deadline::now(),
            Timeout::After(d) => Deadline::after(d),
            Timeout::Forever => Deadline::forever(),
        }
    }
}

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Timeout::NoWait => f.write_str("0 ms"),
            Timeout::After(d) => write!(f, "{} ms", d.as_millis()),
            Timeout::Forever => f.write_str("forever"),
        }
    }
}

/// Tests and fuzz harnesses: a timeout in milliseconds, as the C boundary converts it.
#[cfg(any(test, fuzzing))]
pub(crate) fn ms(v: i64) -> Timeout {
    Timeout::from_ms(v).unwrap()
}

#[cold]
fn invalid_ms(ms: i64) -> Error {
    Error::invalid(format!(
        "timeout {ms} ms is invalid (use -1 for forever, 0 for no wait, or a positive value)"
    ))
}

/// When a blocking operation must give up. `None` means never.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    at: Option<Instant>,
}

impl Deadline {
    /// Convert a C timeout in milliseconds. Values below -1 are invalid.
    pub fn from_ms(timeout_ms: i64) -> Result<Deadline> {
        Timeout::from_ms(timeout_ms).map(Timeout::deadline)
    }

    /// A deadline that never passes.
    pub const fn forever() -> Deadline {
        Deadline { at: None }
    }

    /// A deadline that has already passed: try once, never block.
    pub fn now() -> Deadline {
        Deadline {
            at: Some(Instant::now()),
        }
    }

    /// A deadline `d` from now (saturating: a huge value is the same as forever).
    pub fn after(d: Duration) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(d),
        }
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Deadline) -> Deadline {
        match (self.at, other.at) {
            (None, _) => other,
            (_, None) => self,
            (Some(a), Some(b)) => Deadline { at: Some(a.min(b)) },
        }
    }

    /// True if this deadline never passes.
    pub fn is_forever(&self) -> bool {
        self.at.is_none()
    }

    /// The instant of the deadline, `None` for forever.
    pub fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// Time left: `None` for forever, `Some(ZERO)` once passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// True once the deadline has passed.
    pub fn expired(&self) -> bool {
        matches!(self.remaining(), Some(d) if d.is_zero())
    }

    /// Remaining time for poll/epoll_wait, which count whole milliseconds: rounded up, so
    /// that a wait never ends before the deadline; forever as `PollTimeout::NONE`.
    pub fn poll_timeout(&self) -> PollTimeout {
        match self.remaining() {
            None => PollTimeout::NONE,
            Some(d) => {
                PollTimeout::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(PollTimeout::MAX)
            }
        }
    }

    /// Remaining time as a `timespec` for ppoll/semtimedop/futex (relative), `None` = forever.
    pub fn remaining_timespec(&self) -> Option<libc::timespec> {
        self.remaining().map(duration_to_timespec)
    }

    /// The deadline as an absolute `CLOCK_MONOTONIC` time, for the calls that take one
    /// (`sem_clockwait`, `pthread_mutex_clocklock`, `pthread_cond_clockwait`); `None` for
    /// forever. Never earlier than the deadline: the remaining time is read before the clock.
    pub fn abstime_monotonic(&self) -> Option<libc::timespec> {
        let left = self.remaining()?;
        let now = monotonic_now();
        let nanos = now.tv_nsec as u64 + u64::from(left.subsec_nanos());
        let secs = (now.tv_sec as u64)
            .saturating_add(left.as_secs())
            .saturating_add(nanos / 1_000_000_000)
            .min(crate::sys::TimeT::MAX as u64);
        Some(libc::timespec {
            tv_sec: secs as crate::sys::TimeT,
            tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
        })
    }

    /// The timeout error for `what`, mentioning how long was waited.
    pub fn timeout_error(&self, what: impl std::fmt::Display) -> Error {
        Error::timeout(format!("{what}: timed out"))
    }
}

/// `CLOCK_MONOTONIC` now, as a `timespec`. The clock always exists on Linux and the
/// out-pointer is valid, so the call cannot fail; a zero time stands in if it ever did.
fn monotonic_now() -> libc::timespec {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(
        libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        |t| *t.as_ref(),
    )
}

/// Convert a duration to a `timespec` (saturating the seconds).
pub fn duration_to_timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs().min(crate::sys::TimeT::MAX as u64) as crate::sys::TimeT,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

thread_local! {
    static INTERRUPTIBLE: Cell<bool> = const { Cell::new(false) };
}

/// Make blocking calls on this thread return `IPCX_ERR_INTERRUPTED` when a signal
/// interrupts them (`true`), or retry them against the remaining time (`false`, default).
pub fn set_interruptible(on: bool) {
    INTERRUPTIBLE.with(|c| c.set(on));
}

/// Whether this thread asked for `IPCX_ERR_INTERRUPTED`.
pub fn interruptible() -> bool {
    INTERRUPTIBLE.with(|c| c.get())
}

/// Decide what an EINTR means: retry (`Ok`) unless the thread is interruptible, or the
/// deadline has passed (timeout). Cold and out of line so that the thread-local lookup is
/// never hoisted into the fast path of its callers.
#[cold]
#[inline(never)]
pub fn on_eintr(deadline: &Deadline, what: impl std::fmt::Display) -> Result<()> {
    if interruptible() {
        return Err(Error::os(Errno::EINTR, what));
    }
    if deadline.expired() {
        return Err(deadline.timeout_error(what));
    }
    Ok(())
}

/// Run a raw system call wrapper, retrying EINTR against the deadline. `f` returns the
/// errno on failure; any error other than EINTR is returned as is.
pub fn retry_eintr<T>(
    deadline: &Deadline,
    what: impl std::fmt::Display + Copy,
    mut f: impl FnMut() -> std::result::Result<T, Errno>,
) -> Result<std::result::Result<T, Errno>> {
    loop {
        match f() {
            Err(Errno::EINTR) => on_eintr(deadline, what)?,
            other => return Ok(other),
        }
    }
}

/// [`wait_fd`] after an operation on `fd` just found nothing to do (EAGAIN): with the
/// deadline already past (a non-blocking call, a speculative try) a zero-timeout poll
/// could only repeat it, so that is `IPCX_ERR_TIMEOUT` at once, without a system call.
pub fn wait_fd_again(
    fd: BorrowedFd<'_>,
    events: i16,
    deadline: &Deadline,
    what: impl std::fmt::Display + Copy,
) -> Result<()> {
    if deadline.expired() {
        return Err(deadline.timeout_error(what));
    }
    wait_fd(fd, events, deadline, what).map(|_| ())
}

/// Wait until `fd` reports one of `events` (POLLIN, POLLOUT...) or an error/hang-up
/// condition, or the deadline passes (`IPCX_ERR_TIMEOUT`). Returns the revents.
/// A deadline that has already passed polls once without blocking.
pub fn wait_fd(
    fd: BorrowedFd<'_>,
    events: i16,
    deadline: &Deadline,
    what: impl std::fmt::Display + Copy,
) -> Result<i16> {
    let mut pfd = [PollFd::new(fd, PollFlags::from_bits_retain(events))];
    loop {
        let ts = deadline.remaining_timespec().map(TimeSpec::from);
        match ppoll(&mut pfd, ts, None) {
            Ok(n) if n > 0 => return Ok(pfd[0].revents().map_or(0, |r| r.bits())),
            Ok(_) => {
                // ppoll may round; never report a timeout before the deadline really passed.
                if deadline.expired() {
                    return Err(deadline.timeout_error(what));
                }
            }
            Err(Errno::EINTR) => on_eintr(deadline, what)?,
            Err(e) => return Err(Error::os(e, format_args!("{what}: poll"))),
        }
    }
}

/// Pacing for waits the kernel cannot do with a deadline (a FIFO writer waiting for a
/// reader, a System V message queue operation with a timeout): the caller tries a
/// non-blocking operation, and while it would block, calls [`Backoff::sleep`].
///
/// An optional first phase ([`Backoff::with_spin`]) retries after `sched_yield` only, for
/// a short time: it catches an answer that comes within microseconds (a reply from a
/// process on another CPU, or from one that `sched_yield` lets run on this CPU) at the
/// cost of that much CPU time. Then the pauses double from `first` up to `max`, and never
/// run past the deadline, so the last attempt happens at the deadline (not before, and at
/// most one scheduling delay after). Cost while waiting: one sleep per pause
/// (`clock_nanosleep` on the monotonic clock) plus the caller's attempt, so about
/// `2 / max` system calls per second once the pause has reached `max`; a wake-up after
/// the awaited event costs at most the current pause. A signal handler ends a pause early
/// (the caller just tries again), or, on a thread that called
/// `ipcx_thread_set_interruptible(true)`, ends the wait with `IPCX_ERR_INTERRUPTED`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pause: Duration,
    max: Duration,
    spin: Duration,
    spin_end: Option<Instant>,
}

impl Backoff {
    /// Pauses of `first`, doubling up to `max`.
    pub const fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            pause: first,
            max,
            spin: Duration::ZERO,
            spin_end: None,
        }
    }

    /// Before sleeping, retry after `sched_yield` for `spin` (counted from the first call
    /// of [`Backoff::sleep`]).
    pub const fn with_spin(mut self, spin: Duration) -> Backoff {
        self.spin = spin;
        self
    }

    /// Wait before the next attempt: yield during the spin phase, else sleep for the next
    /// pause, cut short at the deadline. Returns the timeout error for `what` if the
    /// deadline has already passed (the caller made its last attempt).
    pub fn sleep(&mut self, deadline: &Deadline, what: impl std::fmt::Display) -> Result<()> {
        let left = deadline.remaining();
        if left.is_some_and(|d| d.is_zero()) {
            return Err(deadline.timeout_error(what));
        }
        if !self.spin.is_zero() {
            let now = Instant::now();
            let end = *self.spin_end.get_or_insert_with(|| now + self.spin);
            if now < end {
                // sched_yield cannot fail on Linux.
                let _ = sched_yield();
                return Ok(());
            }
        }
        let d = left.map_or(self.pause, |left| left.min(self.pause));
        self.pause = (self.pause * 2).min(self.max);
        let ts = TimeSpec::from(duration_to_timespec(d));
        match clock_nanosleep(ClockId::CLOCK_MONOTONIC, ClockNanosleepFlags::empty(), &ts) {
            Ok(_) => Ok(()),
            Err(Errno::EINTR) => on_eintr(deadline, what),
            Err(e) => Err(Error::os(e, "clock_nanosleep")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_ms() {
        assert!(Deadline::from_ms(-1).unwrap().is_forever());
        assert!(Deadline::from_ms(0).unwrap().expired());
        assert!(!Deadline::from_ms(10_000).unwrap().expired());
        assert!(Deadline::from_ms(-2).is_err());
        assert!(Deadline::from_ms(i64::MAX).is_ok());
    }

    #[test]
    fn abstime_is_never_before_the_deadline() {
        assert!(Deadline::forever().abstime_monotonic().is_none());
        let dl = Deadline::from_ms(1500).unwrap();
        let abs = dl.abstime_monotonic().unwrap();
        let now = monotonic_now();
        let diff = (abs.tv_sec - now.tv_sec) as f64 + (abs.tv_nsec - now.tv_nsec) as f64 / 1e9;
        assert!((1.4..=1.5).contains(&diff), "{diff}");
        assert!(abs.tv_nsec >= 0 && abs.tv_nsec < 1_000_000_000);
    }

    #[test]
    fn wait_fd_times_out_not_early() {
        let (r, _w) = nix::unistd::pipe().unwrap();
        let start = Instant::now();
        let dl = Deadline::from_ms(30).unwrap();
        let err = wait_fd(std::os::fd::AsFd::as_fd(&r), libc::POLLIN, &dl, "test").unwrap_err();
        assert!(err.is_timeout());
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn backoff_stops_at_the_deadline_not_before() {
        let start = Instant::now();
        let dl = Deadline::from_ms(25).unwrap();
        let mut b = Backoff::new(Duration::from_micros(50), Duration::from_millis(2));
        let mut sleeps = 0;
        let err = loop {
            match b.sleep(&dl, "test") {
                Ok(()) => sleeps += 1,
                Err(e) => break e,
            }
        };
        assert!(err.is_timeout());
        assert!(start.elapsed() >= Duration::from_millis(25));
        assert!(sleeps >= 1, "{sleeps} sleeps");
        // Each pause doubled, up to the maximum (how many fit in 25 ms depends on the load
        // of the machine, so the count itself is not checked).
        let want = Duration::from_micros(50)
            .saturating_mul(1 << sleeps.min(20))
            .min(Duration::from_millis(2));
        assert_eq!(b.pause, want, "after {sleeps} sleeps");
    }
}
