// SPDX-License-Identifier: MIT OR Apache-2.0
//! Message queues: System V ([`sysv`], types as independent channels) and POSIX
//! ([`posix`], priorities, a pollable descriptor, arrival notification).
//!
//! Both keep messages in the kernel with their boundaries: a send queues one whole
//! message, a receive takes one whole message. They differ in how a reader chooses:
//! System V by the message's type (a `long` > 0 set by the sender), POSIX by priority
//! (highest first, first in first out within a priority). docs/msgq.md explains the
//! choices made here (timeouts, buffer sizes, limits, fork).

pub mod posix;
pub mod sysv;

/// Timed waits that the kernel cannot do with a deadline (System V queues) poll with
/// `time::Backoff`: first they retry after `sched_yield` for [`POLL_SPIN`] (a reply from
/// another CPU, or a peer that yielding lets run, usually comes within it), then sleep
/// [`POLL_FIRST`], doubling up to [`POLL_MAX`].
pub(crate) const POLL_SPIN: std::time::Duration = std::time::Duration::from_micros(100);
/// The first sleep of a timed System V wait, after the spin phase.
pub(crate) const POLL_FIRST: std::time::Duration = std::time::Duration::from_micros(50);
/// The longest pause between two attempts of a timed System V send or receive: the
/// worst wake-up latency after a message arrives, and the waiting cost (about
/// 2 / POLL_MAX system calls per second).
pub(crate) const POLL_MAX: std::time::Duration = std::time::Duration::from_millis(2);

/// Read a numeric kernel setting from /proc, `None` if unreadable.
/// The pacing of a timed System V send or receive.
pub(crate) fn backoff() -> crate::time::Backoff {
    crate::time::Backoff::new(POLL_FIRST, POLL_MAX).with_spin(POLL_SPIN)
}

/// Read a numeric kernel setting from /proc, `None` if unreadable.
pub(crate) fn proc_usize(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}
