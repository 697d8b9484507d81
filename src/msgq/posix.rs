// SPDX-License-Identifier: MIT OR Apache-2.0
//! POSIX message queues (mq_open, mq_send, mq_receive, mq_notify, mq_unlink).
//!
//! `mq_unlink`, `fchmod`, `getpid` and the notification socket (netlink `socket`, `recv`)
//! go through nix. Raw: `mq_open`, `mq_getattr`/`mq_setattr`,
//! `mq_send`/`mq_receive` and their timed forms, and `mq_notify`, because nix's `mqueue`
//! lacks `mq_timedsend` and `mq_notify` (the system call is needed anyway: glibc's would
//! start a thread) and its other calls take its own `MqdT`, which does not own the
//! descriptor, where this module keeps one `OwnedFd` shared by the calls and `ppoll`;
//! `getrlimit` with `crate::sys::Resource` (the glibc/musl argument type kept there).
//!
//! A queue has a name ("/name"), a depth (mq_maxmsg) and a message size (mq_msgsize)
//! fixed at creation. Messages carry a priority; a receive takes the oldest message of
//! the highest priority. On Linux the queue descriptor is a file descriptor: pollable,
//! close-on-exec (the kernel always sets it), and no /dev/mqueue mount is needed.
//!
//! How waiting works:
//! - forever: one blocking `mq_send`/`mq_receive`, the system calls a raw program makes;
//! - a timeout: the kernel's mq_timedsend/mq_timedreceive want an absolute
//!   CLOCK_REALTIME deadline, which a wall-clock change moves (set back by an hour, the
//!   call waits an hour longer; no slicing of the deadline helps against that). Instead
//!   ipcx tries without blocking and waits with `ppoll` on the descriptor, whose relative
//!   timeout runs on the monotonic clock. The attempt that must not block passes an
//!   absolute deadline of 0 (the epoch): the kernel takes or queues a message if it can
//!   and otherwise returns ETIMEDOUT at once, without sleeping. So ipcx never touches
//!   O_NONBLOCK, which lives in the open file description shared with forked children
//!   and with `ipcx_mq_set_nonblocking`. A message already there costs one system call.
//! - non-blocking mode (O_NONBLOCK, set at open or with `set_nonblocking`): every call
//!   that cannot complete at once fails at once, whatever its timeout, as mq_timedsend(3)
//!   does.
//!
//! Arrival notification (mq_notify) without signals or threads: the kernel's native
//! form of SIGEV_THREAD sends a 32-byte message to a netlink socket (glibc builds its
//! notification thread on it). ipcx registers such a socket and hands it out as a
//! descriptor that becomes readable when a message arrives on the empty queue.

use std::ffi::{CString, c_char, c_uint, c_void};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mqueue::mq_unlink;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, socket};
use nix::sys::stat::{Mode, fchmod};
use nix::unistd::getpid;

use crate::error::{Error, Result, Status, proc_limit};
use crate::fd::FileId;
use crate::flags::{Access, Disposition};
use crate::name;
use crate::options::{Opt, Options};
use crate::time::{self, Deadline};

/// Priorities are 0..PRIO_MAX (sysconf(_SC_MQ_PRIO_MAX) on Linux).
pub(crate) const PRIO_MAX: u32 = 32768;

const OPTIONS: &[Opt] = &[Opt::Mode, Opt::MaxMessage, Opt::MaxMessages];
const MSG_MAX: &str = "/proc/sys/fs/mqueue/msg_max";
const MSGSIZE_MAX: &str = "/proc/sys/fs/mqueue/msgsize_max";
/// The kernel's defaults when /proc cannot be read (DFLT_MSG, DFLT_MSGSIZE).
const DEFAULT_MSG: usize = 10;
const DEFAULT_MSGSIZE: usize = 8192;

/// An absolute deadline already past: "do it now or fail with ETIMEDOUT, never sleep".
const EPOCH: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
};

/// The netlink notification message: a 32-byte cookie whose last byte says why.
const COOKIE_LEN: usize = 32;
const NOTIFY_WOKENUP: u8 = 1;
const NOTIFY_REMOVED: u8 = 2;
const COOKIE_MAGIC: &[u8; 8] = b"ipcx-mq\0";

/// A queue's attributes (mq_getattr).
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    /// Depth: the most messages queued (mq_maxmsg).
    pub max_messages: usize,
    /// Largest message (mq_msgsize).
    pub message_size: usize,
    /// Messages queued now (mq_curmsgs).
    pub messages: usize,
    /// Non-blocking mode (O_NONBLOCK in mq_flags).
    pub nonblocking: bool,
}

#[derive(Debug)]
struct Notify {
    sock: OwnedFd,
    /// Registered with the kernel and not yet fired or removed, as far as we know.
    armed: bool,
    /// The process that made the socket: a forked child shares it and must not read it.
    owner: libc::pid_t,
}

/// One open POSIX message queue descriptor.
#[derive(Debug)]
pub struct PosixQueue {
    fd: OwnedFd,
    name: String,
    readable: bool,
    writable: bool,
    msgsize: usize,
    nonblock: bool,
    notify: Option<Notify>,
    /// The descriptor lent to event loops (see [`PosixQueue::poll_fd`]), made on first use.
    watch: Option<OwnedFd>,
}

fn cname(n: &str) -> Result<CString> {
    let n = name::posix_name(n, name::MQ_NAME_MAX)?;
    CString::new(n).map_err(|_| Error::invalid(format!("name {n:?} contains a NUL byte")))
}

fn getattr(fd: RawFd) -> std::result::Result<libc::mq_attr, Errno> {
    // SAFETY: mq_getattr fills an mq_attr.
    let mut a: libc::mq_attr = unsafe { std::mem::zeroed() };
    if unsafe { libc::mq_getattr(fd, &mut a) } < 0 {
        return Err(Errno::last());
    }
    Ok(a)
}

impl PosixQueue {
    /// The checks of [`PosixQueue::open`] that come before its flags: the name, then the
    /// options. Returns the name as a C string.
    pub(crate) fn check_open(qname: &str, opts: &Options) -> Result<CString> {
        let c = cname(qname)?;
        opts.only(OPTIONS, "POSIX message queues")?;
        Ok(c)
    }

    /// Open the queue `name` for reading, writing or both; when `how` creates, create it
    /// (mode default 0600, applied exactly; depth and message size from the options,
    /// else the system defaults).
    pub fn open(
        qname: &str,
        access: Access,
        how: Disposition,
        nonblock: bool,
        opts: &Options,
    ) -> Result<PosixQueue> {
        let c = PosixQueue::check_open(qname, opts)?;
        let acc = match access {
            Access::Read => libc::O_RDONLY,
            Access::Write => libc::O_WRONLY,
            Access::ReadWrite => libc::O_RDWR,
        };
        let create = how.creates();
        if !create && (opts.max_message.is_some() || opts.max_messages.is_some()) {
            return Err(Error::invalid(
                "options max_message and max_messages apply only when creating a queue \
                 (pass IPCX_OPEN_CREATE)",
            ));
        }
        let mut oflag = acc | libc::O_CLOEXEC;
        if nonblock {
            oflag |= libc::O_NONBLOCK;
        }
        // Depth and size: both or neither must be given to the kernel.
        let attr = if opts.max_message.is_some() || opts.max_messages.is_some() {
            // SAFETY: zero is a valid mq_attr.
            let mut a: libc::mq_attr = unsafe { std::mem::zeroed() };
            let maxmsg = opts.max_messages.unwrap_or_else(|| {
                super::proc_usize("/proc/sys/fs/mqueue/msg_default").unwrap_or(DEFAULT_MSG)
            });
            let msgsize = opts.max_message.unwrap_or_else(|| {
                super::proc_usize("/proc/sys/fs/mqueue/msgsize_default").unwrap_or(DEFAULT_MSGSIZE)
            });
            a.mq_maxmsg = maxmsg.min(i64::MAX as usize) as _;
            a.mq_msgsize = msgsize.min(i64::MAX as usize) as _;
            Some(a)
        } else {
            None
        };
        let mode = opts.mode() as libc::mode_t;
        let open = |extra: libc::c_int| {
            let ap = attr
                .as_ref()
                .map_or(std::ptr::null(), |a| a as *const libc::mq_attr);
            // SAFETY: a valid name, flags, mode and a valid or null attribute pointer.
            let fd = unsafe { libc::mq_open(c.as_ptr(), oflag | extra, mode, ap) };
            if fd < 0 {
                Err(Errno::last())
            } else {
                // SAFETY: a fresh descriptor owned by nobody else.
                Ok(unsafe { OwnedFd::from_raw_fd(fd) })
            }
        };
        // Know whether this call created the queue: only then is the mode applied.
        let (fd, created) = loop {
            if create {
                match open(libc::O_CREAT | libc::O_EXCL) {
                    Ok(fd) => break (fd, true),
                    Err(Errno::EEXIST) if !how.exclusive() => {}
                    Err(e) => return Err(open_error(e, qname, attr.as_ref())),
                }
            }
            match open(0) {
                Ok(fd) => break (fd, false),
                // Unlinked between the two calls: create it after all.
                Err(Errno::ENOENT) if create => continue,
                Err(e) => return Err(open_error(e, qname, attr.as_ref())),
            }
        };
        if created {
            // mq_open filtered the mode through the umask: apply it exactly.
            if let Err(e) = fchmod(&fd, Mode::from_bits_retain(mode)) {
                let err = Error::os(e, format_args!("fchmod(queue {qname:?}, {mode:o})"));
                // We created it a moment ago; remove it rather than leave it.
                let _ = mq_unlink(c.as_c_str());
                return Err(err);
            }
            crate::hook::created_named(crate::hook::ObjKind::PosixMq, qname, Some(fd.as_fd()));
        }
        let a = getattr(fd.as_raw_fd())
            .map_err(|e| Error::os(e, format_args!("mq_getattr({qname:?})")))?;
        Ok(PosixQueue {
            fd,
            name: qname.to_string(),
            readable: access.reads(),
            writable: access.writes(),
            msgsize: a.mq_msgsize.max(0) as usize,
            nonblock: a.mq_flags & libc::O_NONBLOCK as libc::c_long != 0,
            notify: None,
            watch: None,
        })
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Send one message with `priority` (0..[`PRIO_MAX`], higher first).
    pub fn send(&mut self, msg: &[u8], priority: u32, deadline: &Deadline) -> Result<()> {
        if !self.writable {
            return Err(Error::invalid(format!(
                "queue {:?} was not opened for writing (IPCX_OPEN_WRITE)",
                self.name
            )));
        }
        if priority >= PRIO_MAX {
            return Err(Error::invalid(format!(
                "priority {priority} is out of range (0..{PRIO_MAX}, MQ_PRIO_MAX)"
            )));
        }
        if msg.len() > self.msgsize {
            return Err(Error::too_big(
                self.msgsize,
                format!(
                    "mq_send({:?}): a message of {} bytes is larger than the queue's message \
                     size mq_msgsize ({})",
                    self.name,
                    msg.len(),
                    self.msgsize
                ),
            ));
        }
        let (p, n, prio) = (msg.as_ptr().cast::<c_char>(), msg.len(), priority as c_uint);
        self.wait_loop(
            deadline,
            libc::POLLOUT,
            "mq_send",
            "the queue is full",
            |fd, abs| {
                // SAFETY: the message is valid for n bytes; abs is null or a valid timespec.
                let r = unsafe {
                    if abs.is_null() {
                        libc::mq_send(fd, p, n, prio)
                    } else {
                        libc::mq_timedsend(fd, p, n, prio, abs)
                    }
                };
                if r < 0 { Err(Errno::last()) } else { Ok(0) }
            },
        )
        .map(|_| ())
    }

    /// Receive the oldest message of the highest priority into `out`: its length and
    /// priority. `out` must hold the queue's message size.
    pub fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<(usize, u32)> {
        if !self.readable {
            return Err(Error::invalid(format!(
                "queue {:?} was not opened for reading (IPCX_OPEN_READ)",
                self.name
            )));
        }
        if out.len() < self.msgsize {
            return Err(Error::too_big(
                self.msgsize,
                format!(
                    "mq_receive({:?}): the buffer has {} bytes, the queue's message size \
                     mq_msgsize is {}: a POSIX queue needs a buffer that large whatever the \
                     message (nothing was received)",
                    self.name,
                    out.len(),
                    self.msgsize
                ),
            ));
        }
        let (p, cap) = (out.as_mut_ptr().cast::<c_char>(), out.len());
        let mut prio: c_uint = 0;
        let pp: *mut c_uint = &mut prio;
        let n = self.wait_loop(
            deadline,
            libc::POLLIN,
            "mq_receive",
            "the queue is empty",
            |fd, abs| {
                // SAFETY: the buffer is valid for cap bytes; abs is null or a valid timespec.
                let n = unsafe {
                    if abs.is_null() {
                        libc::mq_receive(fd, p, cap, pp)
                    } else {
                        libc::mq_timedreceive(fd, p, cap, pp, abs)
                    }
                };
                if n < 0 {
                    Err(Errno::last())
                } else {
                    Ok(n as usize)
                }
            },
        )?;
        Ok((n, prio))
    }

    /// Run `op` under the waiting rules of the module documentation. `op` gets the
    /// descriptor and a null deadline (block) or the epoch (never block).
    #[inline]
    fn wait_loop(
        &self,
        deadline: &Deadline,
        event: i16,
        op_name: &str,
        why: &str,
        mut op: impl FnMut(RawFd, *const libc::timespec) -> std::result::Result<usize, Errno>,
    ) -> Result<usize> {
        let fd = self.raw();
        let block = deadline.is_forever() && !self.nonblock;
        loop {
            let abs = if block {
                std::ptr::null()
            } else {
                &EPOCH as *const _
            };
            match op(fd, abs) {
                Ok(n) => return Ok(n),
                Err(Errno::ETIMEDOUT) if !self.nonblock && !deadline.is_forever() => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        event,
                        deadline,
                        format_args!("{op_name}({:?}): {why}", self.name),
                    )?;
                }
                Err(Errno::EINTR) => time::on_eintr(deadline, op_name)?,
                Err(e) => return Err(self.op_error(e, op_name, why)),
            }
        }
    }

    #[cold]
    fn op_error(&self, e: Errno, op: &str, why: &str) -> Error {
        match e {
            // Non-blocking mode (ours, or set on the shared description by another
            // process), or the attempt that must not block.
            Errno::EAGAIN | Errno::ETIMEDOUT => Error::os_as(
                Status::IPCX_ERR_TIMEOUT,
                e,
                format!("{op}({:?}): {why} (non-blocking mode)", self.name),
            ),
            e => Error::os(e, format_args!("{op}({:?})", self.name)),
        }
    }

    /// The queue's attributes (refreshes the non-blocking flag, which another process
    /// sharing the descriptor may have changed).
    pub fn attr(&mut self) -> Result<Attr> {
        let a = getattr(self.raw())
            .map_err(|e| Error::os(e, format_args!("mq_getattr({:?})", self.name)))?;
        self.nonblock = a.mq_flags & libc::O_NONBLOCK as libc::c_long != 0;
        Ok(Attr {
            max_messages: a.mq_maxmsg.max(0) as usize,
            message_size: a.mq_msgsize.max(0) as usize,
            messages: a.mq_curmsgs.max(0) as usize,
            nonblocking: self.nonblock,
        })
    }

    /// Switch non-blocking mode (mq_setattr: the only attribute that can change). It is
    /// a property of the open file description, shared with forked children.
    pub fn set_nonblocking(&mut self, on: bool) -> Result<()> {
        // SAFETY: zero is a valid mq_attr; mq_setattr reads mq_flags only.
        let mut a: libc::mq_attr = unsafe { std::mem::zeroed() };
        a.mq_flags = if on { libc::O_NONBLOCK as _ } else { 0 };
        if unsafe { libc::mq_setattr(self.raw(), &a, std::ptr::null_mut()) } < 0 {
            return Err(Error::last_os(format_args!("mq_setattr({:?})", self.name)));
        }
        self.nonblock = on;
        Ok(())
    }

    /// The queue descriptor, for poll/epoll (readable: a message is queued; writable:
    /// there is room).
    pub fn fd(&self) -> RawFd {
        self.raw()
    }

    /// The descriptor to lend to poll/epoll and event loops: the same queue through an
    /// open file description of its own (reopened through /proc/self/fd, close-on-exec,
    /// owned by the handle), so that a loop that switches it to non-blocking (libuv's
    /// `uv_poll_init` and Boost.Asio's waits do, with FIONBIO) leaves the queue's own mode
    /// alone: for a queue, O_NONBLOCK on its description is non-blocking mode, which would
    /// make every timed call fail at once. Readiness is the queue's, whatever the
    /// description. Without /proc: the queue descriptor itself.
    pub fn poll_fd(&mut self) -> RawFd {
        if self.watch.is_none() {
            let acc = match (self.readable, self.writable) {
                (true, true) => OFlag::O_RDWR,
                (true, false) => OFlag::O_RDONLY,
                _ => OFlag::O_WRONLY,
            };
            let path = format!("/proc/self/fd/{}", self.raw());
            self.watch = nix::fcntl::open(path.as_str(), acc | OFlag::O_CLOEXEC, Mode::empty())
                .ok()
                .filter(|w| {
                    let (theirs, ours) = (FileId::of_fd(w.as_raw_fd()), FileId::of_fd(self.raw()));
                    ours.is_some() && theirs == ours
                });
        }
        self.watch.as_ref().map_or(self.raw(), |w| w.as_raw_fd())
    }

    /// Arm the one-shot arrival notification and return its descriptor (see the module
    /// documentation). Consumes a notification that has fired; re-arms if needed.
    pub fn notify(&mut self) -> Result<RawFd> {
        self.check_notify_owner()?;
        if self.notify.is_none() {
            let sock = socket(
                AddressFamily::Netlink,
                SockType::Raw,
                SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
                SockProtocol::NetlinkRoute,
            )
            .map_err(|e| Error::os(e, "socket(AF_NETLINK) for the notification descriptor"))?;
            self.notify = Some(Notify {
                sock,
                armed: false,
                owner: getpid().as_raw(),
            });
        }
        self.drain_notifications()?;
        let (sock, armed) = match &self.notify {
            Some(n) => (n.sock.as_raw_fd(), n.armed),
            None => return Err(Error::internal("notification socket missing")),
        };
        if armed {
            return Ok(sock);
        }
        let mut cookie = [0u8; COOKIE_LEN];
        cookie[..COOKIE_MAGIC.len()].copy_from_slice(COOKIE_MAGIC);
        // SAFETY: zero is a valid sigevent; the kernel copies the cookie during the call.
        let mut sev: libc::sigevent = unsafe { std::mem::zeroed() };
        sev.sigev_notify = libc::SIGEV_THREAD;
        sev.sigev_signo = sock;
        sev.sigev_value = libc::sigval {
            sival_ptr: cookie.as_mut_ptr().cast::<c_void>(),
        };
        // The raw system call: glibc's mq_notify would start a thread of its own.
        // SAFETY: a valid descriptor and sigevent.
        if unsafe { libc::syscall(libc::SYS_mq_notify, self.raw(), &sev) } < 0 {
            let e = Errno::last();
            return Err(match e {
                Errno::EBUSY => Error::os_as(
                    Status::IPCX_ERR_IN_USE,
                    e,
                    format!(
                        "mq_notify({:?}): another process (or another handle in this \
                         process) is registered for notification on this queue",
                        self.name
                    ),
                ),
                e => Error::os(e, format_args!("mq_notify({:?})", self.name)),
            });
        }
        if let Some(n) = self.notify.as_mut() {
            n.armed = true;
        }
        Ok(sock)
    }

    /// Notification state is per process: refuse it in a forked child that inherited it
    /// (reading the shared socket would steal the parent's events).
    fn check_notify_owner(&self) -> Result<()> {
        match &self.notify {
            Some(n) if n.owner != getpid().as_raw() => Err(Error::invalid(format!(
                "mq_notify({:?}): this handle's notification belongs to process {} (the \
                 handle was inherited across fork); open the queue again in this process",
                self.name, n.owner
            ))),
            _ => Ok(()),
        }
    }

    /// Cancel an armed notification (mq_notify(NULL)). Nothing to do if none is armed.
    pub fn notify_cancel(&mut self) -> Result<()> {
        self.check_notify_owner()?;
        self.drain_notifications()?;
        if !self.notify.as_ref().is_some_and(|n| n.armed) {
            return Ok(());
        }
        // SAFETY: a valid descriptor; NULL unregisters.
        if unsafe { libc::syscall(libc::SYS_mq_notify, self.raw(), std::ptr::null::<c_void>()) } < 0
        {
            return Err(Error::last_os(format_args!(
                "mq_notify({:?}, NULL)",
                self.name
            )));
        }
        if let Some(n) = self.notify.as_mut() {
            n.armed = false;
        }
        // The kernel confirms with a "removed" message: consume it.
        self.drain_notifications()
    }

    /// Read every pending notification message; a "fired" or "removed" one disarms.
    fn drain_notifications(&mut self) -> Result<()> {
        let Some(n) = self.notify.as_mut() else {
            return Ok(());
        };
        let mut b = [0u8; 64];
        loop {
            let r = match recv(n.sock.as_raw_fd(), &mut b, MsgFlags::MSG_DONTWAIT) {
                Ok(r) => r,
                Err(Errno::EAGAIN) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::os(e, "recv(notification descriptor)")),
            };
            if r == COOKIE_LEN
                && b[..COOKIE_MAGIC.len()] == COOKIE_MAGIC[..]
                && matches!(b[COOKIE_LEN - 1], NOTIFY_WOKENUP | NOTIFY_REMOVED)
            {
                n.armed = false;
            }
        }
    }
}

/// Remove the queue `name` (mq_unlink). Open descriptors keep working; the queue is
/// destroyed when the last one is closed.
pub fn unlink(qname: &str) -> Result<()> {
    let c = cname(qname)?;
    if let Err(e) = mq_unlink(c.as_c_str()) {
        return Err(Error::os(e, format_args!("mq_unlink({qname:?})")));
    }
    crate::hook::removed_named(crate::hook::ObjKind::PosixMq, qname);
    Ok(())
}

#[cold]
fn open_error(e: Errno, qname: &str, attr: Option<&libc::mq_attr>) -> Error {
    let what = format!("mq_open({qname:?})");
    match e {
        Errno::EINVAL => {
            if let Some(a) = attr {
                let (maxmsg, msgsize) = (a.mq_maxmsg as usize, a.mq_msgsize as usize);
                if super::proc_usize(MSG_MAX).is_some_and(|m| maxmsg > m) {
                    return Error::os_as(
                        Status::IPCX_ERR_LIMIT,
                        e,
                        format!(
                            "{what}: a depth of {maxmsg} messages is above {} (raising it \
                             needs CAP_SYS_RESOURCE or a larger sysctl)",
                            proc_limit(MSG_MAX)
                        ),
                    );
                }
                if super::proc_usize(MSGSIZE_MAX).is_some_and(|m| msgsize > m) {
                    return Error::os_as(
                        Status::IPCX_ERR_LIMIT,
                        e,
                        format!(
                            "{what}: a message size of {msgsize} bytes is above {} (raising \
                             it needs CAP_SYS_RESOURCE or a larger sysctl)",
                            proc_limit(MSGSIZE_MAX)
                        ),
                    );
                }
            }
            Error::os(e, format_args!("{what}: invalid depth or message size"))
        }
        Errno::EMFILE => {
            let need = attr.map_or(String::new(), |a| {
                format!(
                    "; this queue needs about {} bytes",
                    (a.mq_maxmsg as usize).saturating_mul(a.mq_msgsize as usize + 96)
                )
            });
            let (q, f) = (rlimit(libc::RLIMIT_MSGQUEUE), rlimit(libc::RLIMIT_NOFILE));
            Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!(
                    "{what}: the per-user limit on the bytes of all POSIX queues \
                     RLIMIT_MSGQUEUE ({q}, ulimit -q) or the process's descriptor limit \
                     RLIMIT_NOFILE ({f}) is reached{need}"
                ),
            )
        }
        Errno::ENOSPC => Error::os_as(
            Status::IPCX_ERR_LIMIT,
            e,
            format!(
                "{what}: the system has its maximum number of queues, {}",
                proc_limit("/proc/sys/fs/mqueue/queues_max")
            ),
        ),
        Errno::ENOENT => Error::os(
            e,
            format_args!("{what}: no such queue (pass IPCX_OPEN_CREATE to create it)"),
        ),
        Errno::EEXIST => Error::os(e, format_args!("{what}: the queue exists")),
        Errno::ENOSYS => Error::os(
            e,
            format_args!("{what}: the kernel has no POSIX message queues (CONFIG_POSIX_MQUEUE)"),
        ),
        e => Error::os(e, what),
    }
}

fn rlimit(r: crate::sys::Resource) -> String {
    // SAFETY: getrlimit fills an rlimit.
    let mut l: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(r, &mut l) } < 0 {
        return "unknown".into();
    }
    if l.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        l.rlim_cur.to_string()
    }
}
