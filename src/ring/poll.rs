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
    /// Bind the socket of consumer `slot` and make the epoll descriptor.
    pub fn new(nonce: u64, slot: usize) -> Result<Poll> {
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
        Ok(Poll {
            sock,
            epoll,
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

    /// Consume pending notifications.
    pub fn drain(&self) {
        let mut b = [0u8; 64];
        while socket::recv(self.sock.as_raw_fd(), &mut b, MsgFlags::MSG_DONTWAIT).is_ok() {}
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

fn epoll_add(ep: &Epoll, fd: &OwnedFd) -> Result<()> {
    ep.add(
        fd,
        EpollEvent::new(EpollFlags::EPOLLIN, fd.as_raw_fd() as u64),
    )
    .map_err(|e| Error::os(e, "epoll_ctl(EPOLL_CTL_ADD)"))
}
