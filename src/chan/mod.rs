// SPDX-License-Identifier: MIT OR Apache-2.0
//! Channels: one way to send whole messages over every transport, chosen by an address
//! string (`fifo:/tmp/jobs`, `unix:/run/app.sock`, `unix:@app`, `mq:/jobs`, `shm:/jobs`...).
//!
//! The model (ZeroMQ PUSH/PULL, nng push/pull): a channel carries messages **one way**,
//! from any number of senders to one receiver. That is what every transport is natively
//! (a pipe or FIFO is half-duplex, a queue has writers and a reader), fan-in falls out of
//! it, and the guarantees are simple to state per transport (docs/channel.md).
//! Request/reply is two channels.
//!
//! The pieces:
//! - [`addr`]: the address parser (the one place that knows the schemes);
//! - [`Endpoint`]: what a channel needs from a transport (send, receive, a poll
//!   descriptor, a description, capabilities, removal of the named object). Each
//!   transport's core type implements it, directly or through a newtype that adds what
//!   the channel needs (`ends.rs`: pipes, FIFOs, sockets, rings; `queue.rs`: POSIX and
//!   System V queues; `fanin.rs`: the receiver of a stream listener, which multiplexes
//!   the accepted connections);
//! - [`Chan`]: a role, an endpoint and what close removes. The channel is glue: framing,
//!   waiting, limits and errors are the transports' own.
//!
//! The `nng+...:` and `zmq+...:` transports speak other messaging libraries' wire
//! protocols (`peer.rs`), so that the other end may be an nng/nanomsg or ZeroMQ program.

pub mod addr;
mod ends;
mod fanin;
mod peer;
mod queue;

use std::ffi::CString;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::error::{Error, Result, Status};
use crate::options::{Opt, Options};
use crate::time::{Backoff, Deadline, Timeout};
pub use addr::{Addr, Transport};

crate::flags::option_set! {
    /// The options of [`Chan::open`].
    pub struct ChanFlags {
        /// Receivers: open an existing object instead of creating it.
        const NO_CREATE = 0;
        /// Receivers: close leaves the object it created in place.
        const KEEP = 1;
        /// Several senders will use the channel (shm: an MPMC ring).
        const MULTI_SENDER = 2;
        /// Peer transports: this end listens (the default for receivers; a sender that
        /// listens hands each message to one of the receivers connected to it).
        const LISTEN = 3;
        /// Peer transports: this end connects (the default for senders; a receiver that
        /// connects receives from a sender that listens).
        const DIAL = 4;
        /// Senders open without waiting: a TCP connect (tcp:, nng+tcp:, zmq+tcp:) goes on
        /// in the background (the sender's descriptor becomes writable when it is done); a
        /// Unix connect is made at once; the other senders open their object if it is there
        /// now, or fail at once with `IPCX_ERR_TIMEOUT`.
        const NONBLOCK = 5;
    }
}

/// Capability bit: several senders may send at once.
pub(crate) const CAP_MULTI_SENDER: u32 = 1;
/// Capability bit: this end has a descriptor to poll (`ipcx_chan_fd`), for the events
/// [`Chan::fd_events`] says: readable for a receiver, writable for a sender (readable for
/// a shm: sender, the ring's room descriptor).
pub(crate) const CAP_POLL: u32 = 2;
/// Capability bit: this end learns that the other side is gone (`IPCX_ERR_CLOSED`).
pub(crate) const CAP_PEER_CLOSED: u32 = 4;
/// Capability bit: queued messages outlive the processes (kept until removed).
pub(crate) const CAP_PERSISTENT: u32 = 8;

/// The side of a channel a handle is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends messages.
    Send,
    /// Receives messages.
    Recv,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Send => "sender",
            Role::Recv => "receiver",
        }
    }
}

/// What an endpoint offers, for `ipcx_chan_stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// `CAP_*` bits.
    pub bits: u32,
    /// The largest message a send accepts (and a receive can get).
    pub max_message: usize,
}

/// What a channel needs from a transport. Implemented by each transport's core type (or a
/// newtype over it adding channel state). Timeouts arrive as a [`Timeout`], turned into a
/// deadline only where a call may wait (the ring never reads the clock on its fast path).
pub(crate) trait Endpoint {
    /// Send one whole message.
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()>;
    /// Send several messages in order, within one timeout: how many were accepted, and
    /// the error that stopped it early. Default: one send each; byte streams write as
    /// many frames per system call as fit.
    fn send_many(&mut self, msgs: &[&[u8]], timeout: Timeout) -> (usize, Result<()>) {
        if let Err(e) = self.check_sizes(msgs) {
            return (0, Err(e));
        }
        let dl = timeout.deadline();
        for (k, m) in msgs.iter().enumerate() {
            if let Err(e) = self.send(m, Timeout::left(&dl)) {
                return (k, Err(e));
            }
        }
        (msgs.len(), Ok(()))
    }
    /// Every size of a `send_many` batch, first: one too big, nothing is sent.
    fn check_sizes(&self, msgs: &[&[u8]]) -> Result<()> {
        let max = self.caps().max_message;
        match msgs.iter().find(|m| m.len() > max) {
            None => Ok(()),
            Some(m) => Err(Error::too_big(
                max,
                format!(
                    "{}: a message of {} bytes is larger than the channel's maximum of \
                     {max} bytes (sizes are checked first: nothing was sent)",
                    self.describe(),
                    m.len()
                ),
            )),
        }
    }
    /// Receive one whole message into `out`; its length. A buffer too small is
    /// `IPCX_ERR_TOO_BIG` with the size needed, and the message stays queued.
    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize>;
    /// A descriptor that is readable when a receive may progress.
    fn poll_fd(&mut self) -> Result<RawFd>;
    /// Senders: a descriptor that is writable when a send with timeout 0 may progress
    /// (the transport's own descriptor: pipe or FIFO, connection, queue). Default: none,
    /// with the reason (`IPCX_ERR_UNSUPPORTED`).
    fn send_fd(&mut self) -> Result<RawFd> {
        Err(Error::unsupported(
            "this sender has no descriptor to poll; send with IPCX_NOWAIT and retry on a \
             timer",
        ))
    }
    /// Senders: write out the rest of a message that a send accepted but could not write
    /// whole, waiting up to the timeout. Default: nothing is ever kept.
    fn flush(&mut self, _timeout: Timeout) -> Result<()> {
        Ok(())
    }
    /// Senders: whether [`Endpoint::send_fd`] gives a descriptor.
    fn send_pollable(&self) -> bool {
        false
    }
    /// Senders: the poll events to watch on [`Endpoint::send_fd`]: `POLLOUT` (the
    /// transport's own descriptor, writable when a send may progress), or `POLLIN` for a
    /// ring's room descriptor (an epoll descriptor, which is never writable).
    fn send_fd_events(&self) -> u32 {
        libc::POLLOUT as u32
    }
    /// What the endpoint is, for messages ("FIFO \"/tmp/f\"").
    fn describe(&self) -> String;
    /// Capabilities and the largest message.
    fn caps(&self) -> Caps;
    /// Remove the named object this endpoint uses, after checking it is still the one the
    /// endpoint holds (nothing else is ever removed). Default: nothing to remove.
    fn remove(&mut self) -> Result<()> {
        Ok(())
    }
    /// Connections refused because the peer was not allowed (`Options::allow`).
    fn refused(&self) -> u64 {
        0
    }
}

/// One end of a channel.
pub struct Chan {
    ep: Box<dyn Endpoint + Send>,
    role: Role,
    transport: Transport,
    /// An address a sender can open (the bound port for `tcp:...:0`).
    address: CString,
    /// The object's path or name ("" when there is none).
    object: CString,
    sysv_id: i32,
    /// This handle created the object; close removes it (unless `keep`).
    created: bool,
    keep: bool,
    /// The process that created it: a forked child closing an inherited copy removes
    /// nothing.
    owner: libc::pid_t,
}

/// What an opened endpoint comes with.
struct Made {
    ep: Box<dyn Endpoint + Send>,
    address: String,
    object: String,
    sysv_id: i32,
    created: bool,
}

impl Made {
    fn new(ep: impl Endpoint + Send + 'static, address: String, object: &str) -> Made {
        Made {
            ep: Box::new(ep),
            address,
            object: object.to_string(),
            sysv_id: -1,
            created: false,
        }
    }
}

/// The options each transport honours (the same for both roles: options given to a
/// sender that concern the object's creation are checked against the existing object
/// where it records them, and otherwise used by the receiver that creates it).
fn allowed(t: Transport) -> &'static [Opt] {
    use Opt::*;
    match t {
        Transport::Pipe => &[MaxMessage, Capacity, SigpipeGuard],
        Transport::Fifo => &[Mode, MaxMessage, Capacity, SigpipeGuard],
        Transport::Unix | Transport::NngIpc | Transport::ZmqIpc => {
            &[Mode, MaxMessage, Capacity, AllowedUids, AllowedGids]
        }
        Transport::UnixAbstract => &[MaxMessage, Capacity, AllowedUids, AllowedGids],
        Transport::Tcp | Transport::NngTcp | Transport::ZmqTcp => {
            &[MaxMessage, Capacity, Keepalive, AllowedNetworks]
        }
        Transport::Mq => &[Mode, MaxMessage, MaxMessages],
        Transport::SysvMq => &[Mode, MaxMessage, Capacity],
        Transport::Shm => &[Mode, MaxMessage, Capacity, Spin],
    }
}

fn check_options(t: Transport, opts: &Options, pair: bool) -> Result<()> {
    let list = allowed(t);
    if pair {
        // Pairs create no named object (no mode) and connect nobody (no filter).
        let without: Vec<Opt> = list
            .iter()
            .copied()
            .filter(|o| !matches!(o, Opt::Mode | Opt::AllowedUids | Opt::AllowedGids))
            .collect();
        return opts.only(&without, &format!("{}: pairs (ipcx_chan_pair)", t.scheme()));
    }
    if t == Transport::UnixAbstract {
        return opts.only(
            list,
            "unix:@ channels (an abstract name has no file, so no mode)",
        );
    }
    opts.only(list, &format!("{}: channels", t.scheme()))
}

/// Retry `attempt` while the object is missing (`IPCX_ERR_NOT_FOUND` from the kernel:
/// no such file or name, connection refused), pausing 1 ms doubling to 10 ms, until the
/// deadline; then `IPCX_ERR_TIMEOUT` naming the last reason.
fn until_present<T>(
    deadline: &Deadline,
    address: &str,
    mut attempt: impl FnMut() -> Result<T>,
) -> Result<T> {
    let mut backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(10));
    loop {
        match attempt() {
            Ok(v) => return Ok(v),
            Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND && e.errno != 0 => {
                if let Err(stop) = backoff.sleep(deadline, address) {
                    if stop.status != Status::IPCX_ERR_TIMEOUT {
                        return Err(stop);
                    }
                    return Err(Error {
                        status: Status::IPCX_ERR_TIMEOUT,
                        errno: e.errno,
                        msg: format!(
                            "{address}: nothing to open there before the timeout (whoever \
                             makes it, the receiver or, for a receiver with IPCX_CHAN_DIAL, \
                             a listening sender, has not yet, or it is gone): {}",
                            e.msg
                        ),
                        needed: 0,
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// IPCX_OPEN_NONBLOCK for senders whose object the kernel announces with no event (a
/// FIFO's reader arriving, a queue or ring being created): one attempt; not there yet is
/// `IPCX_ERR_TIMEOUT` at once, saying to retry from a timer of the loop.
fn open_now<T>(address: &str, t: Transport, attempt: impl FnOnce() -> Result<T>) -> Result<T> {
    match attempt() {
        Ok(v) => Ok(v),
        Err(e)
            if e.status == Status::IPCX_ERR_TIMEOUT
                || (e.status == Status::IPCX_ERR_NOT_FOUND && e.errno != 0) =>
        {
            let what = match t {
                Transport::Fifo => "a reader opening the FIFO",
                Transport::Mq => "the receiver creating the queue",
                Transport::SysvMq => "the receiver creating the System V queue",
                _ => "the receiver creating the ring",
            };
            Err(Error {
                status: Status::IPCX_ERR_TIMEOUT,
                errno: e.errno,
                msg: format!(
                    "{address}: not ready yet ({}); with IPCX_OPEN_NONBLOCK the open does not \
                     wait, and the kernel has no event for {what} that a loop could watch: \
                     retry the open from a timer of the loop",
                    e.msg
                ),
                needed: 0,
            })
        }
        Err(e) => Err(e),
    }
}

fn cstring(s: String) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

impl Chan {
    fn from_made(m: Made, role: Role, transport: Transport, keep: bool) -> Chan {
        Chan {
            ep: m.ep,
            role,
            transport,
            address: cstring(m.address),
            object: cstring(m.object),
            sysv_id: m.sysv_id,
            created: m.created,
            keep,
            // SAFETY: getpid has no preconditions.
            owner: unsafe { libc::getpid() },
        }
    }

    /// Open one end of the channel at `address` (see `ipcx_chan_open`).
    pub fn open(
        address: &str,
        role: Role,
        flags: ChanFlags,
        opts: &Options,
        deadline: &Deadline,
    ) -> Result<Chan> {
        let has = |f: ChanFlags| flags.contains(f);
        let a = addr::parse(address)?;
        let t = a.transport();
        if role == Role::Send && (has(ChanFlags::NO_CREATE) || has(ChanFlags::KEEP)) {
            return Err(Error::invalid(format!(
                "{address}: IPCX_CHAN_NO_CREATE and IPCX_CHAN_KEEP apply to receivers (a \
                 sender never creates or removes the object)"
            )));
        }
        let pair_only = match a {
            Addr::Pipe => Some("a pipe has no name"),
            Addr::Unix(None) => Some("a bare unix: is a socket pair"),
            Addr::Shm(None) => Some("a bare shm: is an anonymous ring"),
            _ => None,
        };
        if let Some(why) = pair_only {
            return Err(Error::invalid(format!(
                "{address}: {why}, shared across fork: make both ends with ipcx_chan_pair (to \
                 open by name, give one: fifo:/path, unix:/path, shm:/name...)"
            )));
        }
        if has(ChanFlags::NO_CREATE)
            && (t.is_peer()
                || matches!(
                    t,
                    Transport::Unix | Transport::UnixAbstract | Transport::Tcp
                ))
        {
            return Err(Error::invalid(format!(
                "{address}: IPCX_CHAN_NO_CREATE does not apply to {}: channels (a receiver \
                 always binds its own listening socket, or connects with IPCX_CHAN_DIAL)",
                t.scheme()
            )));
        }
        if has(ChanFlags::LISTEN | ChanFlags::DIAL) {
            return Err(Error::invalid(format!(
                "{address}: give at most one of IPCX_CHAN_LISTEN and IPCX_CHAN_DIAL"
            )));
        }
        if (has(ChanFlags::LISTEN) || has(ChanFlags::DIAL)) && !t.is_peer() {
            return Err(Error::invalid(format!(
                "{address}: IPCX_CHAN_LISTEN and IPCX_CHAN_DIAL apply to the other libraries' \
                 transports (nng+tcp:, nng+ipc:, zmq+tcp:, zmq+ipc:); over {}: the receiver \
                 always listens and senders connect",
                t.scheme()
            )));
        }
        check_options(t, opts, false)?;
        let multi = has(ChanFlags::MULTI_SENDER);
        if has(ChanFlags::NONBLOCK) {
            if role != Role::Send {
                return Err(Error::invalid(format!(
                    "{address}: IPCX_OPEN_NONBLOCK applies to senders (an open that never \
                     waits); a receiver creates its object at once, or waits for it with the \
                     open timeout (IPCX_CHAN_NO_CREATE, IPCX_CHAN_DIAL: open with IPCX_NOWAIT \
                     from a timer)"
                )));
            }
            let made = match a {
                Addr::Tcp(_) | Addr::Unix(Some(_)) | Addr::UnixAbstract(_) => {
                    ends::open_nonblocking(a, opts)?
                }
                Addr::Peer(lib, link) if !has(ChanFlags::LISTEN) => {
                    peer::dial_nonblocking(lib, link, opts)?
                }
                Addr::Peer(lib, link) => peer::listen(lib, link, role, opts)?, // never waits
                _ => open_now(address, t, || {
                    ends::open_existing(a, role, multi, opts, &Deadline::now())
                })?,
            };
            return Ok(Chan::from_made(made, role, t, false));
        }
        let made = match (role, a) {
            (Role::Recv, _) if has(ChanFlags::NO_CREATE) => {
                until_present(deadline, address, || {
                    ends::open_existing(a, role, multi, opts, deadline)
                })?
            }
            // The peer transports' reversed roles: a receiver that connects to a listening
            // sender (waiting for it like a sender waits for a receiver), a sender that
            // listens.
            (Role::Recv, Addr::Peer(..)) if has(ChanFlags::DIAL) => {
                until_present(deadline, address, || {
                    ends::open_existing(a, role, multi, opts, deadline)
                })?
            }
            (Role::Send, Addr::Peer(lib, link)) if has(ChanFlags::LISTEN) => {
                peer::listen(lib, link, role, opts)?
            }
            // A receiver owns what it opens without NO_CREATE, including an object a
            // crashed receiver left (adopted with its messages): its close removes it, so
            // a restarted receiver cleans up after the one that died. Not a System V
            // queue it did not create: its other types are other channels, with their
            // own receivers; only the creator removes it.
            (Role::Recv, _) => {
                let mut m = ends::create(a, multi, opts)?;
                m.created |= t != Transport::SysvMq;
                m
            }
            (Role::Send, _) => until_present(deadline, address, || {
                ends::open_existing(a, role, multi, opts, deadline)
            })?,
        };
        Ok(Chan::from_made(made, role, t, has(ChanFlags::KEEP)))
    }

    /// Both ends of an unnamed channel, for fork (see `ipcx_chan_pair`): (sender,
    /// receiver).
    pub fn pair(address: &str, opts: &Options) -> Result<(Chan, Chan)> {
        let a = addr::parse(address)?;
        let t = a.transport();
        if !matches!(a, Addr::Pipe | Addr::Unix(None) | Addr::Shm(None)) {
            return Err(Error::invalid(format!(
                "{address}: ipcx_chan_pair makes unnamed channels: \"pipe:\", \"unix:\" (a \
                 socket pair) or \"shm:\" (an anonymous ring); open a named address with \
                 ipcx_chan_open"
            )));
        }
        check_options(t, opts, true)?;
        let (s, r) = ends::pair(a, opts)?;
        Ok((
            Chan::from_made(s, Role::Send, t, false),
            Chan::from_made(r, Role::Recv, t, false),
        ))
    }

    #[cold]
    fn wrong_role(&self, op: &str) -> Error {
        Error::invalid(format!(
            "{op}: {} is the {} end of the channel; {op} needs a {}",
            self.address.to_string_lossy(),
            self.role.name(),
            match self.role {
                Role::Send => Role::Recv.name(),
                Role::Recv => Role::Send.name(),
            }
        ))
    }

    /// Send one message.
    #[inline]
    pub fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        if self.role != Role::Send {
            return Err(self.wrong_role("send"));
        }
        self.ep.send(msg, timeout)
    }

    /// Send several messages in order (see `ipcx_chan_send_many`): how many were
    /// accepted, and the error that stopped it early.
    pub fn send_many(&mut self, msgs: &[&[u8]], timeout: Timeout) -> (usize, Result<()>) {
        if self.role != Role::Send {
            return (0, Err(self.wrong_role("send")));
        }
        self.ep.send_many(msgs, timeout)
    }

    /// Write out what a send accepted and kept (see `ipcx_chan_flush`).
    pub fn flush(&mut self, timeout: Timeout) -> Result<()> {
        if self.role != Role::Send {
            return Err(self.wrong_role("flush"));
        }
        timeout.deadline();
        self.ep.flush(timeout)
    }

    /// Receive one message into `out`; its length.
    #[inline]
    pub fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        if self.role != Role::Recv {
            return Err(self.wrong_role("receive"));
        }
        self.ep.recv(out, timeout)
    }

    /// The descriptor to poll: a receiver's is readable when a receive may progress, a
    /// sender's ready for [`Chan::fd_events`] (writable, or readable for shm:) when a send
    /// with timeout 0 may progress.
    pub fn poll_fd(&mut self) -> Result<RawFd> {
        match self.role {
            Role::Recv => self.ep.poll_fd(),
            Role::Send => self.ep.send_fd(),
        }
        .map_err(|e| e.context(self.address.to_string_lossy()))
    }

    /// The poll events to watch on [`Chan::poll_fd`] (`POLLIN` or `POLLOUT`), 0 when this
    /// end has no descriptor.
    pub fn fd_events(&self) -> u32 {
        if self.caps().bits & CAP_POLL == 0 {
            return 0;
        }
        match self.role {
            Role::Recv => libc::POLLIN as u32,
            Role::Send => self.ep.send_fd_events(),
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Capabilities of this end and the largest message.
    pub fn caps(&self) -> Caps {
        let mut c = self.ep.caps();
        if self.role == Role::Send {
            c.bits &= !CAP_POLL;
            if self.ep.send_pollable() {
                c.bits |= CAP_POLL;
            }
        }
        c
    }

    /// An address a sender can open (NUL-terminated, owned by the channel).
    pub fn address(&self) -> &std::ffi::CStr {
        &self.address
    }

    /// The object's path or name ("" when none).
    pub fn object(&self) -> &std::ffi::CStr {
        &self.object
    }

    /// Connections this end refused because the peer was not allowed.
    pub fn refused(&self) -> u64 {
        self.ep.refused()
    }

    /// The System V queue id (-1 for other transports).
    pub fn sysv_id(&self) -> i32 {
        self.sysv_id
    }

    /// Whether close removes the object (this handle created it, without KEEP).
    pub fn removes_on_close(&self) -> bool {
        self.created && !self.keep
    }

    /// Whether this handle created the object.
    pub fn created(&self) -> bool {
        self.created
    }

    /// What the endpoint is, for messages.
    pub fn describe(&self) -> String {
        self.ep.describe()
    }

    fn remove_owned(&mut self) -> Result<()> {
        // SAFETY: getpid has no preconditions.
        if !self.removes_on_close() || unsafe { libc::getpid() } != self.owner {
            return Ok(());
        }
        self.created = false;
        self.ep.remove().map_err(|e| {
            e.context(format_args!(
                "close {}: removing what the receiver created",
                self.address.to_string_lossy()
            ))
        })
    }

    /// Close: remove what this receiver created (unless KEEP, or in a forked child), then
    /// release the endpoint. A failure to remove is reported; the handle is gone anyway.
    pub fn close(mut self) -> Result<()> {
        self.remove_owned()
    }
}

impl Drop for Chan {
    fn drop(&mut self) {
        let _ = self.remove_owned();
    }
}

#[cfg(test)]
mod tests;
