// SPDX-License-Identifier: MIT OR Apache-2.0
//! The poll descriptor of a consumer: readable when a message may be available, or when
//! the producers are gone, at no cost to the fast path while nobody polls. A producer's
//! works the same way on the other wait word: readable when room may be available (the
//! consumer released a message while it was armed), or when the consumer is gone; a send
//! that finds no room re-arms it.
//!
//! An eventfd would be the obvious choice, but it belongs to one process and the
//! producer may be an unrelated one. So a consumer that asks for a descriptor binds a
//! Linux abstract datagram socket named after the ring's random nonce and its slot
//! (`\0ipcx-ring-<nonce>-<slot>`: no file, gone when closed, even on a crash). Producers
//! send it one byte, but only when the consumer armed it: the consumer sets its bit in
//! `poll_armed` and `POLL_ARMED` in the data word (the same coalescing protocol as a
//! sleeper, see `wait.rs`); the first producer to publish afterwards clears both and
//! sends one datagram per armed consumer. A consumer re-arms when a receive finds the
//! ring empty, so there is at most one datagram per "ring became non-empty" and none at
//! all while the consumer keeps up.
//!
//! The descriptor handed out is an epoll descriptor holding that socket and a process
//! descriptor (pidfd) of each producer process, so that it also becomes readable when a
//! producer dies without a word (the receive then reports `IPCX_ERR_CLOSED`).
//!
//! A pidfd only covers the processes the ring knows: the one that attached an end and the
//! one that last used it. A forked child that holds an end it never used (it died before
//! its first call, say) is known to nobody, so the epoll set also holds an inotify
//! descriptor watching the ring's object for closes (IN_CLOSE_WRITE, IN_CLOSE_NOWRITE):
//! when the last process holding an end's open file description goes, by close or by
//! death, the kernel reports a close of the object, and the wake-up's receive (or send)
//! finds the end gone. Other closes of the object (another peer's, an `ipcx list` that
//! read its header) wake the descriptor too: a wake-up without news, which the receive or
//! send answers with `IPCX_ERR_TIMEOUT` and a re-arm. Without /proc or inotify (its
//! per-user instance limit reached), only the pidfds watch.
//!
//! Limits: abstract sockets live in the network namespace: a consumer and producer in
//! different network namespaces sharing /dev/shm get no notifications (receiving still
//! works). Where pidfd_open is refused (ENOSYS: a seccomp filter, or valgrind, which does
//! not support it), a producer's death does not make the descriptor readable; the next
//! receive still reports it (`IPCX_ERR_CLOSED`).
//!
//! System calls through nix; raw: pidfd_open, which nix 0.32 does not wrap.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr};

use crate::error::{Error, Result};

fn addr(nonce: u64, slot: usize) -> UnixAddr {
    let name = format!("ipcx-ring-{nonce:016x}-{slot}");
    // The name is 36 bytes at most: always fits sun_path.
    UnixAddr::new_abstract(name.as_bytes()).expect("a ring's socket name fits sun_path")
}

fn dgram_socket() -> Result<OwnedFd> {
    socket::socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(|e| Error::os(e, "socket(AF_UNIX, SOCK_DGRAM)"))
}

/// Send one byte to `a` without waiting (errors ignored: a full queue means the descriptor
/// is readable already; a missing socket means nobody polls).
fn poke(sock: &OwnedFd, a: &UnixAddr) {
    let _ = socket::sendto(
        sock.as_raw_fd(),
        b"!",
        a,
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
    );
}

/// Send one notification byte to consumer `slot` of the ring `nonce`.
pub(crate) fn notify(sock: &mut Option<OwnedFd>, nonce: u64, slot: usize) {
    if sock.is_none() {
        *sock = dgram_socket().ok();
    }
    if let Some(s) = sock {
        poke(s, &addr(nonce, slot));
    }
}

/// A consumer's poll state.
#[derive(Debug)]
pub(crate) struct Poll {
    sock: OwnedFd,
    epoll: Epoll,
    /// Closes of the ring's object (see the module documentation); `None` without it.
    closes: Option<Inotify>,
    pidfds: Vec<(u32, OwnedFd)>,
    nonce: u64,
    slot: usize,
    /// The ring's change sequence when the process descriptors were last refreshed.
    pub seen_change: u32,
    /// SPSC: the other side's user process then (it changes without a membership
    /// change when a forked child takes the end over).
    pub seen_user: u32,
}

impl Poll {
    /// Bind the socket of consumer `slot` and make the epoll descriptor; `object` is the
    /// ring's object, whose closes are watched.
    pub fn new(nonce: u64, slot: usize, object: RawFd) -> Result<Poll> {
        let sock = dgram_socket()?;
        socket::bind(sock.as_raw_fd(), &addr(nonce, slot)).map_err(|e| {
            Error::os(
                e,
                format_args!(
                    "bind(abstract socket \"ipcx-ring-{nonce:016x}-{slot}\") for the poll descriptor"
                ),
            )
        })?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| Error::os(e, "epoll_create1"))?;
        epoll_add(&epoll, &sock)?;
        let closes = watch_closes(object).filter(|i| epoll_add(&epoll, i).is_ok());
        Ok(Poll {
            sock,
            epoll,
            closes,
            pidfds: Vec::new(),
            nonce,
            slot,
            seen_change: u32::MAX,
            seen_user: u32::MAX,
        })
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> RawFd {
        self.epoll.0.as_raw_fd()
    }

    /// Consume pending notifications (the close events: [`Poll::take_closes`]).
    pub fn drain(&self) {
        let mut b = [0u8; 64];
        while socket::recv(self.sock.as_raw_fd(), &mut b, MsgFlags::MSG_DONTWAIT).is_ok() {}
    }

    /// Consume the close events of the ring's object: whether there were any (an end may
    /// have gone: the caller checks the other side's liveness now rather than at its next
    /// periodic look).
    pub fn take_closes(&self) -> bool {
        let Some(i) = &self.closes else { return false };
        // Events are whole records of at least 16 bytes: a buffer of 4 KiB takes many.
        let mut e = [0u8; 4096];
        let mut any = false;
        while nix::unistd::read(i.as_fd(), &mut e).is_ok_and(|n| n > 0) {
            any = true;
        }
        any
    }

    /// Make the descriptor readable now (a message is there, or the producers are gone).
    pub fn wake_self(&self) {
        poke(&self.sock, &addr(self.nonce, self.slot));
    }

    /// Watch exactly these producer processes for exit.
    pub fn watch(&mut self, pids: &[u32]) {
        self.pidfds.retain(|(p, fd)| {
            let keep = pids.contains(p);
            if !keep {
                let _ = self.epoll.delete(fd);
            }
            keep
        });
        for &pid in pids {
            if self.pidfds.iter().any(|(p, _)| *p == pid) {
                continue;
            }
            let Some(fd) = pidfd_open(pid) else {
                continue; // gone already (the liveness check will tell) or not permitted
            };
            if exited(&fd) {
                continue; // a zombie would keep the descriptor readable forever
            }
            if epoll_add(&self.epoll, &fd).is_ok() {
                self.pidfds.push((pid, fd));
            }
        }
    }
}

/// An inotify descriptor (non-blocking, close-on-exec) watching the object open as
/// `object` for closes, through /proc/self/fd: `None` where that is not possible.
fn watch_closes(object: RawFd) -> Option<Inotify> {
    let i = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).ok()?;
    let path = format!("/proc/self/fd/{object}");
    i.add_watch(
        path.as_str(),
        AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_CLOSE_NOWRITE,
    )
    .ok()?;
    Some(i)
}

/// pidfd_open(2): raw, nix 0.32 does not wrap it.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: plain system call.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    // SAFETY: a fresh descriptor when not negative.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn exited(fd: &OwnedFd) -> bool {
    let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    nix::poll::poll(&mut p, PollTimeout::ZERO) == Ok(1)
}

fn epoll_add(ep: &Epoll, fd: &impl AsFd) -> Result<()> {
    ep.add(
        fd,
        EpollEvent::new(EpollFlags::EPOLLIN, fd.as_fd().as_raw_fd() as u64),
    )
    .map_err(|e| Error::os(e, "epoll_ctl(EPOLL_CTL_ADD)"))
}
