// SPDX-License-Identifier: MIT OR Apache-2.0
//! Channel endpoints over message queues: POSIX (`mq:/name`) and System V
//! (`sysvmq:key[/type]`, the type being the sub-channel).

use std::ffi::c_long;
use std::os::fd::RawFd;

use super::ends::posix_object_id;
use super::{CAP_MULTI_SENDER, CAP_PERSISTENT, CAP_POLL, Caps, Endpoint, Made, Role};
use crate::error::{Error, Result, Status, proc_limit};
use crate::fd::FileId;
use crate::flags::{Access, Disposition};
use crate::msgq::posix::{self, PosixQueue};
use crate::msgq::sysv::{self, MsgQueue};
use crate::options::Options;
use crate::time::Timeout;

// ------------------------------------------------------------------ POSIX

/// A POSIX queue end. A receive buffer smaller than the queue's message size (which
/// mq_receive demands) goes through an internal buffer of that size: the message is then
/// copied once more, and kept there (`IPCX_ERR_TOO_BIG`) if it does not fit the caller's.
struct MqChan {
    q: PosixQueue,
    name: String,
    msgsize: usize,
    buf: Vec<u8>,
    /// Length of a message held in `buf` after `IPCX_ERR_TOO_BIG`.
    pending: Option<usize>,
}

impl MqChan {
    #[cold]
    fn too_small(&self, len: usize, cap: usize) -> Error {
        Error::too_big(
            len,
            format!(
                "queue {:?}: the next message has {len} bytes, the buffer {cap}; it stays \
                 queued for a receive with a larger buffer",
                self.name
            ),
        )
    }

    #[cold]
    fn recv_small(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        let len = match self.pending {
            Some(len) => len,
            None => {
                if self.buf.len() < self.msgsize {
                    self.buf.resize(self.msgsize, 0);
                }
                let (n, _) = self.q.recv(&mut self.buf, &timeout.deadline())?;
                n
            }
        };
        if len > out.len() {
            self.pending = Some(len);
            return Err(self.too_small(len, out.len()));
        }
        self.pending = None;
        out[..len].copy_from_slice(&self.buf[..len]);
        Ok(len)
    }
}

impl Endpoint for MqChan {
    #[inline]
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        self.q.send(msg, 0, &timeout.deadline())
    }

    #[inline]
    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        if out.len() >= self.msgsize && self.pending.is_none() {
            return Ok(self.q.recv(out, &timeout.deadline())?.0);
        }
        self.recv_small(out, timeout)
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Ok(self.q.poll_fd())
    }

    fn send_fd(&mut self) -> Result<RawFd> {
        Ok(self.q.poll_fd())
    }

    fn send_pollable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("POSIX message queue {:?}", self.name)
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: CAP_MULTI_SENDER | CAP_POLL | CAP_PERSISTENT,
            max_message: self.msgsize,
        }
    }

    fn remove(&mut self) -> Result<()> {
        let ours = FileId::of_fd(self.q.fd());
        match (ours, posix_object_id(&self.name, true)) {
            (Some(a), Some(b)) if a.same_inode(&b) => {}
            _ => return Ok(()), // gone, or another queue by now: not ours to remove
        }
        match posix::unlink(&self.name) {
            Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => Ok(()),
            other => other,
        }
    }
}

fn mq_made(mut q: PosixQueue, name: &str, opts: &Options, created: bool) -> Result<Made> {
    let a = q.attr()?;
    // Explicit sizes given to an end that opened an existing queue must match it.
    let mismatch = |o: &str, have: usize, asked: usize| {
        Err(Error::invalid(format!(
            "mq:{name} exists with {o} {have}, the options ask for {asked} (the sizes of a \
             POSIX queue are fixed when it is created)"
        )))
    };
    if let Some(m) = opts.max_message.filter(|&m| m != a.message_size) {
        return mismatch("max_message (mq_msgsize)", a.message_size, m);
    }
    if let Some(m) = opts.max_messages.filter(|&m| m != a.max_messages) {
        return mismatch("max_messages (mq_maxmsg)", a.max_messages, m);
    }
    let ep = MqChan {
        q,
        name: name.to_string(),
        msgsize: a.message_size,
        buf: Vec::new(),
        pending: None,
    };
    let mut m = Made::new(ep, format!("mq:{name}"), name);
    m.created = created;
    Ok(m)
}

/// Options for opening an existing queue: the sizes only apply at creation.
fn sizes_removed(opts: &Options) -> Options {
    Options {
        max_message: None,
        max_messages: None,
        ..opts.clone()
    }
}

/// The receiver: create the queue (or adopt an existing one).
pub(super) fn create_mq(name: &str, opts: &Options) -> Result<Made> {
    for _ in 0..100 {
        match PosixQueue::open(name, Access::Read, Disposition::CreateNew, false, opts) {
            Ok(q) => return mq_made(q, name, opts, true),
            Err(e) if e.status == Status::IPCX_ERR_EXISTS => {}
            Err(e) => return Err(e),
        }
        match PosixQueue::open(
            name,
            Access::Read,
            Disposition::Existing,
            false,
            &sizes_removed(opts),
        ) {
            Ok(q) => return mq_made(q, name, opts, false),
            Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => {} // removed meanwhile
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        Status::IPCX_ERR_IN_USE,
        format!("mq:{name}: the queue keeps appearing and disappearing; giving up"),
    ))
}

/// A sender, or a receiver with NO_CREATE.
pub(super) fn open_mq(name: &str, role: Role, opts: &Options) -> Result<Made> {
    let access = match role {
        Role::Send => Access::Write,
        Role::Recv => Access::Read,
    };
    let q = PosixQueue::open(
        name,
        access,
        Disposition::Existing,
        false,
        &sizes_removed(opts),
    )?;
    mq_made(q, name, opts, false)
}

// ------------------------------------------------------------------ System V

/// A System V queue end: messages of one type (the sub-channel) on a shared queue.
struct SysvChan {
    q: MsgQueue,
    mtype: c_long,
    key: i32,
    max: usize,
}

impl SysvChan {
    /// The receiver removed the queue when it closed: for the other ends, the channel is
    /// closed.
    #[cold]
    fn gone(&self, e: Error) -> Error {
        if e.status == Status::IPCX_ERR_REMOVED {
            return Error {
                status: Status::IPCX_ERR_CLOSED,
                ..e
            }
            .context("the receiver closed the channel and removed its queue");
        }
        e
    }

    #[cold]
    fn too_big(&self, len: usize) -> Error {
        Error::too_big(
            self.max,
            format!(
                "sysvmq:{:#x}/{}: a message of {len} bytes is larger than the channel's \
                 maximum of {} bytes (max_message, at most {})",
                self.key,
                self.mtype,
                self.max,
                proc_limit("/proc/sys/kernel/msgmax")
            ),
        )
    }
}

impl Endpoint for SysvChan {
    #[inline]
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        if msg.len() > self.max {
            return Err(self.too_big(msg.len()));
        }
        let dl = timeout.deadline();
        self.q.send(msg, self.mtype, &dl).map_err(|e| self.gone(e))
    }

    #[inline]
    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        let dl = timeout.deadline();
        match self.q.recv(out, self.mtype, sysv::RecvFlags::NONE, &dl) {
            Ok((n, _)) => Ok(n),
            Err(e) => Err(self.gone(e)),
        }
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Err(Error::unsupported(
            "a System V message queue has no descriptor to poll (only msgrcv waits for it); \
             use mq:, or receive with a timeout",
        ))
    }

    fn send_fd(&mut self) -> Result<RawFd> {
        Err(Error::unsupported(
            "a System V message queue has no descriptor to poll (only msgsnd waits for room): \
             send with IPCX_NOWAIT and, on IPCX_ERR_TIMEOUT (the queue is full), retry from a \
             timer of the loop, or use mq:",
        ))
    }

    fn describe(&self) -> String {
        format!(
            "System V message queue id {} (key {:#x}), type {}",
            self.q.id(),
            self.key,
            self.mtype
        )
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: CAP_MULTI_SENDER | CAP_PERSISTENT,
            max_message: self.max,
        }
    }

    fn remove(&mut self) -> Result<()> {
        match self.q.remove() {
            Err(e) if e.status == Status::IPCX_ERR_REMOVED => Ok(()),
            other => other,
        }
    }
}

/// The channel's largest message: max_message, at most msgmax.
fn sysv_max(key: i32, opts: &Options) -> Result<usize> {
    let msgmax = sysv::limits()?.msgmax;
    match opts.max_message {
        None => Ok(msgmax),
        Some(m) if m <= msgmax => Ok(m),
        Some(m) => Err(Error::limit(format!(
            "sysvmq:{key:#x}: option max_message {m} is above the largest System V message, \
             {} (raising it needs a larger sysctl kernel.msgmax)",
            proc_limit("/proc/sys/kernel/msgmax")
        ))),
    }
}

fn sysv_made(q: MsgQueue, key: i32, mtype: i64, opts: &Options, created: bool) -> Result<Made> {
    let max = sysv_max(key, opts)?;
    if let Some(cap) = opts.capacity.filter(|_| !created) {
        let have = q.stat()?.msg_qbytes as usize;
        if have != cap {
            return Err(Error::invalid(format!(
                "sysvmq:{key:#x} exists with a byte limit (capacity, msg_qbytes) of {have}, the \
                 options ask for {cap}"
            )));
        }
    }
    let id = q.id();
    let ep = SysvChan {
        q,
        mtype: mtype as c_long,
        key,
        max,
    };
    let mut m = Made::new(ep, format!("sysvmq:{key:#x}/{mtype}"), "");
    m.sysv_id = id;
    m.created = created;
    Ok(m)
}

/// The queue options: mode and byte limit (max_message is the channel's own).
fn queue_options(opts: &Options) -> Options {
    Options {
        mode: opts.mode,
        capacity: opts.capacity,
        ..Options::default()
    }
}

/// The receiver: create the queue (or adopt an existing one).
pub(super) fn create_sysv(key: i32, mtype: i64, opts: &Options) -> Result<Made> {
    sysv_max(key, opts)?;
    for _ in 0..100 {
        match MsgQueue::open(key, Disposition::CreateNew, &queue_options(opts)) {
            Ok(q) => return sysv_made(q, key, mtype, opts, true),
            Err(e) if e.status == Status::IPCX_ERR_EXISTS => {}
            Err(e) => return Err(e),
        }
        match MsgQueue::open(key, Disposition::Existing, &Options::default()) {
            Ok(q) => return sysv_made(q, key, mtype, opts, false),
            Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => {} // removed meanwhile
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        Status::IPCX_ERR_IN_USE,
        format!("sysvmq:{key:#x}: the queue keeps appearing and disappearing; giving up"),
    ))
}

/// A sender, or a receiver with NO_CREATE.
pub(super) fn open_sysv(key: i32, mtype: i64, opts: &Options) -> Result<Made> {
    let q = MsgQueue::open(key, Disposition::Existing, &Options::default())?;
    sysv_made(q, key, mtype, opts, false)
}
