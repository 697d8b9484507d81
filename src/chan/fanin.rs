// SPDX-License-Identifier: MIT OR Apache-2.0
//! The receiver of a stream channel (`unix:/path`, `unix:@name`, `tcp:`): a listener and
//! the connections it accepted, multiplexed with one epoll descriptor (which is also the
//! channel's poll descriptor).
//!
//! Every sender is one connection, framed as usual (`crate::frame`), so its messages stay
//! whole and in order. A receive serves the connections fairly, one message each in turn:
//! a queue of "ready" connections is filled from epoll_wait (level-triggered) and a
//! connection goes back to the end of the queue after each message it delivered. Costs:
//! - streaming (the next message is already there): one recv(2) per message, like a raw
//!   reader. A connection that just delivered is tried again without asking epoll when
//!   the previous such try paid off; when it does not (ping-pong traffic, where the next
//!   message is never there yet), such tries are skipped for 1, 2, 4 ... up to 64
//!   messages, so they cost almost nothing either way;
//! - waiting: epoll_wait, then recv(2): one system call more than a raw blocking recv on
//!   one connection, the price of serving several.
//!
//! A connection that ends (end of file, reset) is dropped; when none is left and at least
//! one sender came and went, a receive returns `IPCX_ERR_CLOSED` (not sticky: a new sender
//! may connect later). A connection that breaks the framing (`IPCX_ERR_PROTOCOL`) is
//! dropped and the error reported once; the other senders are unaffected.
//!
//! The connections are ipcx's own framed sockets or, for the receivers of the peer
//! libraries' wire protocols, `super::peer::PeerConn`s ([`Conn`]). Who may send is
//! checked as each connection is accepted ([`Allow`]): a refused one is closed at once,
//! never read, and counted (`ipcx_chan_info.refused`).

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

use super::{CAP_MULTI_SENDER, CAP_PEER_CLOSED, CAP_POLL, Caps, Endpoint};
use crate::error::{Error, Result, Status};
use crate::sock::allow::Allow;
use crate::sock::{Listener, Sock};
use crate::time::{self, Deadline, Timeout};

/// A sender's connection as the receiver serves it.
pub(super) trait Conn: Sized + Send + 'static {
    /// What making one from an accepted socket needs.
    type Spec: Copy + Send + 'static;
    /// A connection just accepted (and admitted).
    fn accepted(s: Sock, spec: Self::Spec, max: usize) -> Result<Self>;
    /// Receive one message before the deadline.
    fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize>;
    /// Bytes already taken from the kernel (poll does not see them).
    fn buffered(&self) -> usize;
    /// The descriptor, for epoll.
    fn fd(&self) -> BorrowedFd<'_>;
    /// Whether the connection stays usable after the receive error `e` (a refused
    /// message); otherwise it is dropped. Default: never.
    fn survives(&self, _e: &Error) -> bool {
        false
    }
}

/// ipcx's own framing (`unix:`, `tcp:`).
impl Conn for Sock {
    type Spec = ();

    fn accepted(s: Sock, _: (), _max: usize) -> Result<Sock> {
        Ok(s)
    }

    #[inline]
    fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        Sock::recv(self, out, deadline)
    }

    #[inline]
    fn buffered(&self) -> usize {
        Sock::buffered(self)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        Sock::as_fd(self)
    }
}

/// The epoll token of the listener (connections use their slot index).
const LISTENER: u64 = u64::MAX;
/// Events taken per epoll_wait.
const EVENTS: usize = 64;
/// Longest pause between two speculative retries of the connection that just delivered.
const SKIP_MAX: u32 = 64;
/// How long a receive waits for the rest of a message a connection has begun to deliver
/// before it serves the others.
const GRACE: std::time::Duration = std::time::Duration::from_millis(2);

pub(super) struct FanIn<C: Conn> {
    listener: Listener,
    epoll: Epoll,
    conns: Vec<Option<C>>,
    free: Vec<usize>,
    live: usize,
    /// Connections to try, in turn: (slot, speculative).
    ready: VecDeque<(usize, bool)>,
    /// Accept before trying the ready connections (the listener was reported).
    accept_pending: bool,
    events: Vec<EpollEvent>,
    /// A sender has connected at some point.
    ever: bool,
    /// Messages until the next speculative retry, and the current pause.
    skip: u32,
    pause: u32,
    max: usize,
    scheme: &'static str,
    spec: C::Spec,
    allow: Allow,
    /// Connections refused by `allow`.
    refused: u64,
}

fn epoll_add(ep: &Epoll, fd: BorrowedFd<'_>, token: u64) -> Result<()> {
    ep.add(fd, EpollEvent::new(EpollFlags::EPOLLIN, token))
        .map_err(|e| Error::os(e, "epoll_ctl"))
}

impl<C: Conn> FanIn<C> {
    pub(super) fn new(
        listener: Listener,
        max: usize,
        scheme: &'static str,
        spec: C::Spec,
        allow: Allow,
    ) -> Result<FanIn<C>> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| crate::fd::new_fd_error(e, "epoll_create1"))?;
        epoll_add(&epoll, listener.as_fd(), LISTENER)?;
        Ok(FanIn {
            listener,
            epoll,
            conns: Vec::new(),
            free: Vec::new(),
            live: 0,
            ready: VecDeque::new(),
            accept_pending: false,
            events: vec![EpollEvent::empty(); EVENTS],
            ever: false,
            skip: 0,
            pause: 0,
            max,
            scheme,
            spec,
            allow,
            refused: 0,
        })
    }

    /// Accept every connection waiting in the backlog.
    fn accept_all(&mut self) -> Result<()> {
        self.accept_pending = false;
        loop {
            let s = match self.listener.accept(&Deadline::now()) {
                Ok(s) => s,
                Err(e) if e.is_timeout() => return Ok(()),
                Err(e) => return Err(e),
            };
            // Who may send: a refused peer (or one whose credentials cannot be read) is
            // closed before anything is read from it.
            if !matches!(self.allow.check(&s), Ok(Ok(()))) {
                self.refused += 1;
                continue;
            }
            // A connection that cannot even start (its handshake's first write) is gone.
            let Ok(c) = C::accepted(s, self.spec, self.max) else {
                continue;
            };
            let slot = match self.free.pop() {
                Some(i) => i,
                None => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
            };
            epoll_add(&self.epoll, c.fd(), slot as u64)?;
            self.conns[slot] = Some(c);
            self.live += 1;
            self.ever = true;
        }
    }

    fn drop_conn(&mut self, slot: usize) {
        if let Some(s) = self.conns[slot].take() {
            let _ = self.epoll.delete(s.fd());
            self.live -= 1;
            self.free.push(slot);
            self.ready.retain(|&(i, _)| i != slot);
        }
    }

    /// After a message from `slot`: queue it again if it certainly has more (bytes
    /// buffered), or speculatively when that has been paying off.
    #[inline]
    fn requeue(&mut self, slot: usize, buffered: bool) {
        if buffered {
            self.ready.push_back((slot, false));
        } else if self.skip == 0 {
            self.ready.push_back((slot, true));
        } else {
            self.skip -= 1;
        }
    }

    #[cold]
    fn speculation_missed(&mut self) {
        self.pause = (self.pause * 2).clamp(1, SKIP_MAX);
        self.skip = self.pause;
    }

    /// Wait for events until the deadline; they go to the ready queue.
    fn wait(&mut self, deadline: &Deadline) -> Result<()> {
        loop {
            let n = match self.epoll.wait(&mut self.events, deadline.poll_timeout()) {
                Ok(n) => n,
                Err(Errno::EINTR) => {
                    time::on_eintr(deadline, "epoll_wait")?;
                    continue;
                }
                Err(e) => return Err(Error::os(e, "epoll_wait")),
            };
            if n > 0 {
                for ev in &self.events[..n] {
                    let token = ev.data();
                    if token == LISTENER {
                        self.accept_pending = true;
                    } else {
                        self.ready.push_back((token as usize, false));
                    }
                }
                return Ok(());
            }
            // epoll_wait may round; never report a timeout before the deadline passed.
            if deadline.expired() {
                return Err(deadline.timeout_error(format_args!("receive on {}", self.describe())));
            }
        }
    }

    #[cold]
    fn all_gone(&self) -> Error {
        Error::closed(format!(
            "{}: every sender closed its connection (a new sender may connect later)",
            self.describe()
        ))
    }
}

impl<C: Conn> Endpoint for FanIn<C> {
    fn send(&mut self, _msg: &[u8], _timeout: Timeout) -> Result<()> {
        Err(Error::internal("send on a channel receiver"))
    }

    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        let deadline = timeout.deadline();
        loop {
            if self.accept_pending {
                self.accept_all()?;
            }
            while let Some((slot, spec)) = self.ready.pop_front() {
                let Some(s) = self.conns.get_mut(slot).and_then(|c| c.as_mut()) else {
                    continue;
                };
                // A reported connection has bytes: wait a little if they are only part
                // of a message (the rest is normally microseconds behind); a sender that
                // stops mid-message must not hold up the others for longer.
                let dl = if spec {
                    Deadline::now()
                } else {
                    deadline.min(Deadline::after(GRACE))
                };
                match s.recv(out, &dl) {
                    Ok(n) => {
                        if spec {
                            self.pause = 0;
                        }
                        let more = s.buffered() > 0;
                        self.requeue(slot, more);
                        return Ok(n);
                    }
                    Err(e) if e.is_timeout() => {
                        if spec {
                            self.speculation_missed();
                        }
                    }
                    Err(e) if e.status == Status::IPCX_ERR_TOO_BIG => {
                        // The message stays queued in this connection: it comes next.
                        self.ready.push_front((slot, false));
                        return Err(e);
                    }
                    Err(e) if e.status == Status::IPCX_ERR_CLOSED => self.drop_conn(slot),
                    Err(e) if s.survives(&e) => {
                        // A message was refused, the connection is fine: it goes on.
                        self.ready.push_front((slot, false));
                        return Err(e);
                    }
                    Err(e) => {
                        self.drop_conn(slot);
                        return Err(e.context(format_args!(
                            "{}: a sender's connection failed and was closed (the other \
                             senders are not affected)",
                            self.describe()
                        )));
                    }
                }
            }
            if self.live == 0 && self.ever {
                self.accept_all()?;
                if self.live == 0 {
                    return Err(self.all_gone());
                }
                // New connections: epoll reports those with data.
            }
            self.wait(&deadline)?;
        }
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Ok(self.epoll.0.as_raw_fd())
    }

    fn describe(&self) -> String {
        let at = self
            .listener
            .local_address()
            .map(|a| a.text())
            .unwrap_or_default();
        format!("{}: receiver on {at}", self.scheme)
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: CAP_MULTI_SENDER | CAP_POLL | CAP_PEER_CLOSED,
            max_message: self.max,
        }
    }

    fn refused(&self) -> u64 {
        self.refused
    }
}
