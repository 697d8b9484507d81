// SPDX-License-Identifier: MIT OR Apache-2.0
//! System V message queues (msgget, msgsnd, msgrcv, msgctl).
//!
//! A queue lives in the kernel until it is removed (or the system restarts), identified
//! by a key (from a path with ftok, an agreed number, or private) and an id. Each message
//! carries a type > 0; a reader chooses by type exactly as msgrcv(2) does, so one queue
//! carries independent channels (see [`Selector`]).
//!
//! How waiting works:
//! - forever: one blocking `msgsnd`/`msgrcv`, the system calls a raw program makes;
//! - no wait: `IPC_NOWAIT`;
//! - a finite timeout: the kernel has no timed msgsnd/msgrcv, and the only ways to end a
//!   blocked call early are a signal (a handler or a mask ipcx must not impose on the
//!   host) or removing the queue (ipc/msg.c: msgctl(IPC_SET) wakes sleeping receivers,
//!   but they re-check and sleep again). A helper thread blocked in msgrcv cannot be
//!   called back without a signal and would take a message nobody asked for any more.
//!   So ipcx tries with `IPC_NOWAIT` and, while the call would block, retries: for the
//!   first 100 µs after `sched_yield` (a reply from a peer on another CPU, or one that
//!   yielding lets run here, usually comes within that), then after sleeps of 50 µs
//!   doubling to 2 ms, never past the deadline (`time::Backoff`). A message already
//!   there costs one system call; one that arrives while waiting is taken within one
//!   pause (at most 2 ms); nothing is ever taken and dropped. Cost while waiting: up to
//!   100 µs of CPU per call, then about 1,000 system calls per second (a sleep and a try
//!   every 2 ms).
//!
//! Buffers: msgsnd/msgrcv want the type in a `long` just before the text, so each handle
//! keeps one buffer (sized for msgmax at open, grown only for larger messages) and copies
//! the text in or out: one copy per message, no allocation. When a receive buffer is too
//! small, msgrcv fails with E2BIG and leaves the message queued, but does not say how
//! large it is: ipcx then looks at the queued messages with `MSG_COPY` (a copy that
//! removes nothing) to find the one msgrcv would have chosen and returns its size.

use std::ffi::{c_long, c_void};

use nix::errno::Errno;

use crate::error::{Error, Result, Status, proc_limit};
use crate::flags::Disposition;
use crate::options::{Opt, Options};
use crate::time::{self, Deadline};

crate::flags::option_set! {
    /// The options of [`MsgQueue::recv`].
    pub struct RecvFlags {
        /// Take the first message whose type is not the given one (MSG_EXCEPT).
        const EXCEPT = 0;
        /// Cut a message longer than the buffer instead of failing (MSG_NOERROR).
        const TRUNCATE = 1;
    }
}
/// The key that always creates a new queue, reachable only through its id.
pub(crate) const PRIVATE: i32 = libc::IPC_PRIVATE;

const OPTIONS: &[Opt] = &[Opt::Mode, Opt::Capacity];
const WORD: usize = std::mem::size_of::<c_long>();

/// The system-wide limits, from msgctl(IPC_INFO).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest message (/proc/sys/kernel/msgmax).
    pub msgmax: usize,
    /// Default byte limit of a new queue, and the most an unprivileged process may set
    /// (/proc/sys/kernel/msgmnb).
    pub msgmnb: usize,
    /// Most queues in the system (/proc/sys/kernel/msgmni).
    pub msgmni: usize,
}

/// The system limits on System V message queues.
pub fn limits() -> Result<Limits> {
    // SAFETY: IPC_INFO writes a struct msginfo through the msqid_ds pointer.
    let mut info: libc::msginfo = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::msgctl(
            0,
            libc::IPC_INFO,
            (&mut info as *mut libc::msginfo).cast::<libc::msqid_ds>(),
        )
    };
    if r < 0 {
        return Err(Error::last_os("msgctl(IPC_INFO)"));
    }
    Ok(Limits {
        msgmax: info.msgmax.max(0) as usize,
        msgmnb: info.msgmnb.max(0) as usize,
        msgmni: info.msgmni.max(0) as usize,
    })
}

/// How a receive chooses its message (msgrcv(2)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Selector {
    /// Type 0: the first message.
    Any,
    /// Type t > 0: the first message of type t.
    Equal(c_long),
    /// Type t > 0 with EXCEPT: the first message whose type is not t.
    NotEqual(c_long),
    /// Type t < 0: the first of the messages with the lowest type <= |t|.
    LessEqual(c_long),
}

impl Selector {
    fn new(mtype: c_long, flags: RecvFlags) -> Result<Selector> {
        if flags.contains(RecvFlags::EXCEPT) {
            if mtype <= 0 {
                return Err(Error::invalid(format!(
                    "IPCX_MSGQ_EXCEPT needs a type > 0 to exclude (got {mtype})"
                )));
            }
            return Ok(Selector::NotEqual(mtype));
        }
        Ok(match mtype {
            0 => Selector::Any,
            t if t > 0 => Selector::Equal(t),
            // As the kernel does: LONG_MIN has no positive counterpart.
            c_long::MIN => Selector::LessEqual(c_long::MAX),
            t => Selector::LessEqual(-t),
        })
    }
}

/// One System V message queue, as seen by one process.
#[derive(Debug)]
pub struct MsgQueue {
    id: i32,
    /// `[type][text]` for msgsnd/msgrcv; `long`-aligned.
    buf: Vec<c_long>,
    /// msgmax as last read: sends above it are refused without a system call.
    msgmax: usize,
    /// The queue's byte limit as last read: a message above it could never be sent.
    qbytes: usize,
    /// The most bytes a receive asks the kernel for (msgmax, or a larger message seen).
    recv_max: usize,
}

fn removed(op: &str, id: i32) -> Error {
    Error::new(
        Status::IPCX_ERR_REMOVED,
        format!("{op}(queue id {id}): the queue was removed"),
    )
}

fn stat_raw(id: i32) -> std::result::Result<libc::msqid_ds, Errno> {
    // SAFETY: IPC_STAT fills a msqid_ds.
    let mut ds: libc::msqid_ds = unsafe { std::mem::zeroed() };
    if unsafe { libc::msgctl(id, libc::IPC_STAT, &mut ds) } < 0 {
        return Err(Errno::last());
    }
    Ok(ds)
}

impl MsgQueue {
    /// The first check of [`MsgQueue::open`]: the options it supports.
    pub(crate) fn check_options(opts: &Options) -> Result<()> {
        opts.only(OPTIONS, "System V message queues")
    }

    /// Open (and when `how` creates, create) the queue of `key`; [`PRIVATE`] always creates
    /// a new one. Honours the mode option (default 0600, applied exactly: System V
    /// permissions ignore the umask) and the capacity option (the byte limit), both only
    /// when this call creates the queue.
    pub fn open(key: i32, how: Disposition, opts: &Options) -> Result<MsgQueue> {
        MsgQueue::check_options(opts)?;
        if key == PRIVATE && !how.creates() {
            return Err(crate::name::private_key_needs_create(
                "message queue",
                "another process opens an existing private queue by its id \
                 (ipcx_msgq_id, ipcx_msgq_open_id)",
            ));
        }
        let mode = opts.mode() as libc::c_int;
        let get = |f: libc::c_int| {
            // SAFETY: plain system call.
            let id = unsafe { libc::msgget(key, f) };
            if id < 0 { Err(Errno::last()) } else { Ok(id) }
        };
        let what = || {
            if key == PRIVATE {
                "msgget(IPC_PRIVATE)".to_string()
            } else {
                format!("msgget(key {key:#x})")
            }
        };
        // Know whether this call created the queue: options apply only then.
        let (id, created) = loop {
            if how.creates() {
                match get(libc::IPC_CREAT | libc::IPC_EXCL | mode) {
                    Ok(id) => break (id, true),
                    Err(Errno::EEXIST) if !how.exclusive() && key != PRIVATE => {}
                    Err(e) => return Err(open_error(e, &what())),
                }
            }
            match get(0) {
                Ok(id) => break (id, false),
                // Removed between the two calls: create it after all.
                Err(Errno::ENOENT) if how.creates() => continue,
                Err(e) => return Err(open_error(e, &what())),
            }
        };
        let mut q = MsgQueue::attach(id)?;
        if let (true, Some(cap)) = (created, opts.capacity) {
            if let Err(e) = q.set_max_bytes(cap) {
                // Leave nothing behind.
                let _ = q.remove();
                return Err(e);
            }
        }
        if created {
            crate::hook::created_sysv(crate::hook::ObjKind::SysvMsq, key, id);
        }
        Ok(q)
    }

    /// Use the queue with id `id` (from `ipcx_msgq_id` in another process).
    pub fn open_id(id: i32) -> Result<MsgQueue> {
        if id < 0 {
            return Err(Error::invalid(format!("queue id {id} is negative")));
        }
        MsgQueue::attach(id)
    }

    fn attach(id: i32) -> Result<MsgQueue> {
        let qbytes = match stat_raw(id) {
            Ok(ds) => ds.msg_qbytes as usize,
            // A queue we may write but not read: its limit is unknown, the kernel checks.
            Err(Errno::EACCES) => usize::MAX,
            Err(e @ (Errno::EINVAL | Errno::EIDRM)) => {
                return Err(Error::os_as(
                    Status::IPCX_ERR_NOT_FOUND,
                    e,
                    format!("msgctl(queue id {id}, IPC_STAT): no such queue"),
                ));
            }
            Err(e) => {
                return Err(Error::os(
                    e,
                    format_args!("msgctl(queue id {id}, IPC_STAT)"),
                ));
            }
        };
        let msgmax = limits()?.msgmax;
        let mut q = MsgQueue {
            id,
            buf: Vec::new(),
            msgmax,
            qbytes,
            recv_max: msgmax,
        };
        q.reserve(msgmax);
        Ok(q)
    }

    /// The queue id.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Make the buffer hold a type and `len` bytes of text.
    fn reserve(&mut self, len: usize) {
        let words = len.div_ceil(WORD) + 1;
        if self.buf.len() < words {
            self.buf.resize(words, 0);
        }
    }

    fn text(&mut self) -> *mut u8 {
        // SAFETY: the buffer always has at least the type word.
        unsafe { self.buf.as_mut_ptr().add(1).cast() }
    }

    /// Send one message of type `mtype` (> 0).
    pub fn send(&mut self, msg: &[u8], mtype: c_long, deadline: &Deadline) -> Result<()> {
        if mtype <= 0 {
            return Err(Error::invalid(format!(
                "message type {mtype} is invalid: a sent message needs a type > 0"
            )));
        }
        let len = msg.len();
        if len > self.msgmax || len > self.qbytes {
            self.check_send_size(len)?;
        }
        self.reserve(len);
        self.buf[0] = mtype;
        // SAFETY: the buffer holds len bytes after the type; the regions are distinct.
        unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), self.text(), len) };
        let nowait = !deadline.is_forever();
        let flags = if nowait { libc::IPC_NOWAIT } else { 0 };
        let mut backoff = None; // built on the first wait only
        loop {
            // SAFETY: the buffer holds the type and len bytes.
            let r =
                unsafe { libc::msgsnd(self.id, self.buf.as_ptr().cast::<c_void>(), len, flags) };
            if r == 0 {
                return Ok(());
            }
            match Errno::last() {
                Errno::EAGAIN if nowait => backoff.get_or_insert_with(super::backoff).sleep(
                    deadline,
                    format_args!("msgsnd(queue id {}): the queue is full", self.id),
                )?,
                Errno::EINTR => time::on_eintr(deadline, "msgsnd")?,
                e => return Err(self.send_error(e, len)),
            }
        }
    }

    /// A message above the cached msgmax or byte limit: re-read them before refusing.
    #[cold]
    fn check_send_size(&mut self, len: usize) -> Result<()> {
        self.msgmax = limits()?.msgmax;
        if len > self.msgmax {
            return Err(Error::too_big(
                self.msgmax,
                format!(
                    "msgsnd(queue id {}): a message of {len} bytes is larger than {}",
                    self.id,
                    proc_limit("/proc/sys/kernel/msgmax")
                ),
            ));
        }
        self.qbytes = match stat_raw(self.id) {
            Ok(ds) => ds.msg_qbytes as usize,
            Err(Errno::EACCES) => usize::MAX,
            Err(e) => return Err(self.op_error(e, "msgsnd")),
        };
        if len > self.qbytes {
            return Err(Error::too_big(
                self.qbytes,
                format!(
                    "msgsnd(queue id {}): a message of {len} bytes can never fit the queue's \
                     byte limit msg_qbytes ({}; see ipcx_msgq_set_max_bytes)",
                    self.id, self.qbytes
                ),
            ));
        }
        Ok(())
    }

    #[cold]
    fn send_error(&mut self, e: Errno, len: usize) -> Error {
        if e == Errno::EINVAL {
            // msgmax lowered since we looked, or the queue is gone.
            if let Err(err) = self.check_send_size(len) {
                return err;
            }
        }
        self.op_error(e, "msgsnd")
    }

    /// The error for a failed operation on this queue.
    #[cold]
    fn op_error(&self, e: Errno, op: &str) -> Error {
        match e {
            // Our arguments are valid, so EINVAL means the id no longer exists.
            Errno::EIDRM | Errno::EINVAL => removed(op, self.id),
            Errno::ENOMEM => Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!("{op}(queue id {}): the system is out of memory", self.id),
            ),
            e => Error::os(e, format_args!("{op}(queue id {})", self.id)),
        }
    }

    /// Receive one message chosen by `mtype` and `flags` (see [`Selector`]) into `out`;
    /// returns its length and type. A message longer than `out` stays queued
    /// (`IPCX_ERR_TOO_BIG` with its size) unless `flags` has [`RecvFlags::TRUNCATE`].
    pub fn recv(
        &mut self,
        out: &mut [u8],
        mtype: c_long,
        flags: RecvFlags,
        deadline: &Deadline,
    ) -> Result<(usize, c_long)> {
        let sel = Selector::new(mtype, flags)?;
        let cap = out.len();
        let truncate = flags.contains(RecvFlags::TRUNCATE);
        let nowait = !deadline.is_forever();
        let mut kflags = if nowait { libc::IPC_NOWAIT } else { 0 };
        if flags.contains(RecvFlags::EXCEPT) {
            kflags |= libc::MSG_EXCEPT;
        }
        let mut backoff = None; // built on the first wait only
        let mut resized = 0;
        loop {
            // Ask for at most what a message can be; truncate only at the caller's size.
            let want = cap.min(self.recv_max);
            let noerror = if truncate && want == cap {
                libc::MSG_NOERROR
            } else {
                0
            };
            self.reserve(want);
            // SAFETY: the buffer holds a type and `want` bytes.
            let n = unsafe {
                libc::msgrcv(
                    self.id,
                    self.buf.as_mut_ptr().cast::<c_void>(),
                    want,
                    mtype,
                    kflags | noerror,
                )
            };
            if n >= 0 {
                let n = n as usize;
                // SAFETY: the kernel wrote n <= want <= cap bytes of text.
                unsafe { std::ptr::copy_nonoverlapping(self.text(), out.as_mut_ptr(), n) };
                return Ok((n, self.buf[0]));
            }
            match Errno::last() {
                Errno::ENOMSG if nowait => backoff.get_or_insert_with(super::backoff).sleep(
                    deadline,
                    format_args!(
                        "msgrcv(queue id {}): no message of the requested type",
                        self.id
                    ),
                )?,
                Errno::EINTR => time::on_eintr(deadline, "msgrcv")?,
                Errno::E2BIG => {
                    let (size, exact) = self.size_of_next(sel, cap)?;
                    match size {
                        // Taken by another process meanwhile: try again.
                        None => {}
                        Some(s) if s <= cap && resized < 16 => {
                            // Larger than msgmax as we knew it, but fits the caller.
                            self.recv_max = self.recv_max.max(s);
                            resized += 1;
                        }
                        Some(_) if truncate && resized < 16 => {
                            self.recv_max = self.recv_max.max(cap);
                            resized += 1;
                        }
                        Some(s) => {
                            let how = if exact {
                                "the message stays queued"
                            } else {
                                "the message stays queued; its exact size is unknown \
                                 (no MSG_COPY), msgmax bytes are enough"
                            };
                            return Err(Error::too_big(
                                s,
                                format!(
                                    "msgrcv(queue id {}): the next message has {s} bytes, the \
                                     buffer {cap}; {how} (or pass IPCX_MSGQ_TRUNCATE)",
                                    self.id
                                ),
                            ));
                        }
                    }
                }
                e => return Err(self.op_error(e, "msgrcv")),
            }
        }
    }

    /// The size of the message msgrcv would choose with `sel`, found by copying the
    /// queued messages one by one with MSG_COPY (nothing is removed). `None` if no
    /// message matches any more. `(size, false)` when MSG_COPY is not available: then
    /// msgmax (an upper bound) is returned.
    #[cold]
    fn size_of_next(&mut self, sel: Selector, cap: usize) -> Result<(Option<usize>, bool)> {
        let lim = limits()?;
        self.msgmax = lim.msgmax;
        let size = lim.msgmax.max(self.recv_max);
        let mut tmp: Vec<c_long> = vec![0; size.div_ceil(WORD) + 1];
        let mut lowest: Option<(c_long, usize)> = None;
        let mut pos: c_long = 0;
        loop {
            // SAFETY: tmp holds a type and `size` bytes.
            let n = unsafe {
                libc::msgrcv(
                    self.id,
                    tmp.as_mut_ptr().cast::<c_void>(),
                    size,
                    pos,
                    libc::IPC_NOWAIT | libc::MSG_COPY,
                )
            };
            if n < 0 {
                match Errno::last() {
                    Errno::ENOMSG => break,
                    Errno::EINTR => continue,
                    e @ (Errno::EIDRM | Errno::EINVAL) => {
                        if stat_raw(self.id).is_err() {
                            return Err(removed("msgrcv", self.id));
                        }
                        // EINVAL with the queue still there: MSG_COPY refused (a message
                        // larger than msgmax). Give the upper bound we know.
                        let _ = e;
                        return Ok((Some(lim.msgmax.max(cap + 1)), false));
                    }
                    Errno::ENOSYS => return Ok((Some(lim.msgmax.max(cap + 1)), false)),
                    e => return Err(self.op_error(e, "msgrcv(MSG_COPY)")),
                }
            }
            let (t, n) = (tmp[0], n as usize);
            match sel {
                Selector::Any => return Ok((Some(n), true)),
                Selector::Equal(x) if t == x => return Ok((Some(n), true)),
                Selector::NotEqual(x) if t != x => return Ok((Some(n), true)),
                Selector::LessEqual(x) if t <= x && lowest.is_none_or(|(lt, _)| t < lt) => {
                    lowest = Some((t, n));
                    if t == 1 {
                        break;
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        Ok((lowest.map(|(_, n)| n), true))
    }

    /// msgctl(IPC_STAT): the kernel's description of the queue.
    pub fn stat(&self) -> Result<libc::msqid_ds> {
        stat_raw(self.id).map_err(|e| self.op_error(e, "msgctl(IPC_STAT)"))
    }

    /// Set the queue's byte limit (msg_qbytes). Above msgmnb it needs CAP_SYS_RESOURCE.
    pub fn set_max_bytes(&mut self, bytes: usize) -> Result<()> {
        if bytes == 0 || bytes > isize::MAX as usize {
            return Err(Error::invalid(format!(
                "queue byte limit {bytes} is out of range (1..=SSIZE_MAX)"
            )));
        }
        let op = "msgctl(IPC_SET msg_qbytes)";
        let not_owner = |e| {
            Error::os_as(
                Status::IPCX_ERR_PERMISSION,
                e,
                format!(
                    "{op}(queue id {}): only the queue's owner or creator (or a process with \
                     CAP_SYS_ADMIN) may change it",
                    self.id
                ),
            )
        };
        let mut ds = stat_raw(self.id).map_err(|e| match e {
            Errno::EACCES => not_owner(e),
            e => self.op_error(e, op),
        })?;
        ds.msg_qbytes = bytes as libc::msglen_t;
        // SAFETY: IPC_SET reads the msqid_ds we filled.
        if unsafe { libc::msgctl(self.id, libc::IPC_SET, &mut ds) } < 0 {
            let e = Errno::last();
            let msgmnb = limits().map(|l| l.msgmnb).unwrap_or(usize::MAX);
            return Err(match e {
                Errno::EPERM if bytes > msgmnb => Error::os_as(
                    Status::IPCX_ERR_LIMIT,
                    e,
                    format!(
                        "{op}(queue id {}, {bytes}): above {}, which needs CAP_SYS_RESOURCE",
                        self.id,
                        proc_limit("/proc/sys/kernel/msgmnb")
                    ),
                ),
                Errno::EPERM => not_owner(e),
                e => self.op_error(e, op),
            });
        }
        self.qbytes = bytes;
        Ok(())
    }

    /// Remove the queue from the system (msgctl(IPC_RMID)): blocked readers and writers
    /// get `IPCX_ERR_REMOVED`, queued messages are discarded.
    pub fn remove(&mut self) -> Result<()> {
        // SAFETY: plain system call.
        if unsafe { libc::msgctl(self.id, libc::IPC_RMID, std::ptr::null_mut()) } < 0 {
            let e = Errno::last();
            return Err(match e {
                Errno::EPERM => Error::os_as(
                    Status::IPCX_ERR_PERMISSION,
                    e,
                    format!(
                        "msgctl(queue id {}, IPC_RMID): only the queue's owner or creator \
                         (or a process with CAP_SYS_ADMIN) may remove it",
                        self.id
                    ),
                ),
                e => self.op_error(e, "msgctl(IPC_RMID)"),
            });
        }
        crate::hook::removed_sysv(crate::hook::ObjKind::SysvMsq, self.id);
        Ok(())
    }
}

#[cold]
fn open_error(e: Errno, what: &str) -> Error {
    match e {
        Errno::ENOENT => Error::os(
            e,
            format_args!("{what}: no queue has this key (pass IPCX_OPEN_CREATE to create it)"),
        ),
        Errno::EEXIST => Error::os(e, format_args!("{what}: a queue with this key exists")),
        Errno::ENOSPC => Error::os_as(
            Status::IPCX_ERR_LIMIT,
            e,
            format!(
                "{what}: the system has its maximum number of queues, {}",
                proc_limit("/proc/sys/kernel/msgmni")
            ),
        ),
        Errno::EACCES => Error::os(
            e,
            format_args!("{what}: the queue exists and its mode does not allow this user"),
        ),
        e => Error::os(e, what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_follow_msgrcv() {
        assert_eq!(Selector::new(0, RecvFlags::NONE).unwrap(), Selector::Any);
        assert_eq!(
            Selector::new(3, RecvFlags::NONE).unwrap(),
            Selector::Equal(3)
        );
        assert_eq!(
            Selector::new(3, RecvFlags::EXCEPT).unwrap(),
            Selector::NotEqual(3)
        );
        assert_eq!(
            Selector::new(-4, RecvFlags::NONE).unwrap(),
            Selector::LessEqual(4)
        );
        assert_eq!(
            Selector::new(c_long::MIN, RecvFlags::NONE).unwrap(),
            Selector::LessEqual(c_long::MAX)
        );
        assert!(Selector::new(0, RecvFlags::EXCEPT).is_err());
        assert!(Selector::new(-1, RecvFlags::EXCEPT).is_err());
    }

    /// Removes the queue even when an assertion fails.
    struct Removed(MsgQueue);
    impl Drop for Removed {
        fn drop(&mut self) {
            let _ = self.0.remove();
        }
    }

    #[test]
    fn too_big_keeps_the_message_and_reports_its_size() {
        let mut g =
            Removed(MsgQueue::open(PRIVATE, Disposition::Create, &Options::default()).unwrap());
        let q = &mut g.0;
        let now = Deadline::now();
        q.send(b"small", 1, &now).unwrap();
        q.send(&[7u8; 300], 2, &now).unwrap();
        let mut buf = [0u8; 10];
        let e = q.recv(&mut buf, 2, RecvFlags::NONE, &now).unwrap_err();
        assert_eq!((e.status, e.needed), (Status::IPCX_ERR_TOO_BIG, 300));
        let e = q.recv(&mut buf, 1, RecvFlags::EXCEPT, &now).unwrap_err();
        assert_eq!(e.needed, 300);
        assert_eq!(q.recv(&mut buf, -5, RecvFlags::NONE, &now).unwrap(), (5, 1));
        assert_eq!(q.stat().unwrap().msg_qnum, 1);
        assert_eq!(
            q.recv(&mut buf, 0, RecvFlags::TRUNCATE, &now).unwrap(),
            (10, 2)
        );
        assert_eq!(q.stat().unwrap().msg_qnum, 0);
    }
}
