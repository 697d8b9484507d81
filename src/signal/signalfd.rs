// SPDX-License-Identifier: MIT OR Apache-2.0
//! A pollable signal receiver on `signalfd(2)`.
//!
//! The descriptor is readable while a signal of its set is pending for the reading thread
//! or its process; each read takes one signal and returns the same record as a
//! synchronous wait ([`super::SigInfo`]). It only works for signals that are blocked in
//! every thread: an unblocked signal is delivered (handler or default action) before the
//! descriptor can see it. Creation checks the calling thread's mask and refuses a set that
//! is not blocked there; the other threads are the caller's responsibility (block in the
//! main thread before creating threads: threads inherit the mask).
//!
//! Blocking follows `fd::IoMode`: an unbounded receive is one blocking `read` (what a raw
//! program does); a bounded one never blocks in the kernel and waits with `ppoll`.
//!
//! `signalfd` goes through nix. Raw: the record read into a `signalfd_siginfo`, through
//! `fd::IoMode` (nix's `SignalFd::read_signal` only reads in the descriptor's own mode).

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::signalfd::{SfdFlags, SignalFd as NixSignalFd};

use super::{SigInfo, SigSet, current_mask, name};
use crate::error::{Error, Result};
use crate::fd::IoMode;
use crate::time::{self, Deadline};

/// A signalfd receiver.
#[derive(Debug)]
pub struct SignalFd {
    fd: NixSignalFd,
    mode: IoMode,
    set: SigSet,
}

/// Refuse a set that is not blocked in the calling thread.
fn check_blocked(set: SigSet) -> Result<()> {
    let unblocked = SigSet(set.0 & !current_mask()?.0);
    if let Some(s) = unblocked.signals().next() {
        return Err(Error::invalid(format!(
            "{} is not blocked in the calling thread: a signalfd only receives signals that \
             are blocked in every thread (block them first with ipcx_signal_block, in the \
             main thread before creating other threads)",
            name(s)
        )));
    }
    Ok(())
}

impl SignalFd {
    /// A receiver for `set` (not empty, no SIGKILL/SIGSTOP, blocked in the calling thread).
    pub fn new(set: SigSet) -> Result<SignalFd> {
        set.check_waitable()?;
        check_blocked(set)?;
        let fd = NixSignalFd::with_flags(&set.to_nix(), SfdFlags::SFD_CLOEXEC)
            .map_err(|e| crate::fd::new_fd_error(e, &format!("signalfd({set})")))?;
        Ok(SignalFd {
            fd,
            mode: IoMode::new(false),
            set,
        })
    }

    /// Replace the set of signals the receiver takes (same rules as [`SignalFd::new`]).
    pub fn update(&mut self, set: SigSet) -> Result<()> {
        set.check_waitable()?;
        check_blocked(set)?;
        self.fd
            .set_mask(&set.to_nix())
            .map_err(|e| Error::os(e, format_args!("signalfd({set})")))?;
        self.set = set;
        Ok(())
    }

    /// The descriptor, for poll/epoll.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Take one signal, waiting until the deadline.
    pub fn recv(&mut self, deadline: &Deadline) -> Result<SigInfo> {
        // SAFETY: plain data; all-zero is valid.
        let mut rec: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        const SIZE: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            // SAFETY: the record is plain data, valid for writing SIZE bytes.
            let bytes = unsafe {
                std::slice::from_raw_parts_mut(
                    (&mut rec as *mut libc::signalfd_siginfo).cast(),
                    SIZE,
                )
            };
            let r = self
                .mode
                .readv(self.fd.as_fd(), &mut [IoSliceMut::new(bytes)], deadline);
            match r {
                Ok(SIZE) => return Ok(SigInfo::from_signalfd(&rec)),
                Ok(n) => {
                    return Err(Error::internal(format!(
                        "read(signalfd): {n} bytes, expected {SIZE}"
                    )));
                }
                Err(Errno::EAGAIN) => {
                    let what = "wait on a signalfd";
                    let pollin = PollFlags::POLLIN.bits();
                    time::wait_fd(self.fd.as_fd(), pollin, deadline, what)
                        .map_err(|e| e.context(format_args!("receive {}", self.set)))?;
                }
                Err(Errno::EINTR) => time::on_eintr(deadline, "read(signalfd)")?,
                Err(e) => return Err(Error::os(e, format_args!("read(signalfd {})", self.set))),
            }
        }
    }
}
