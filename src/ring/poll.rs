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

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use crate::error::{Error, Result};

fn addr(nonce: u64, slot: usize) -> (libc::sockaddr_un, libc::socklen_t) {
    // SAFETY: a zeroed sockaddr_un is valid.
    let mut a: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    a.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let name = format!("ipcx-ring-{nonce:016x}-{slot}");
    for (i, b) in name.bytes().enumerate() {
        a.sun_path[i + 1] = b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + 1 + name.len();
    (a, len as libc::socklen_t)
}

fn dgram_socket() -> Result<OwnedFd> {
    // SAFETY: plain socket creation.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(Error::last_os("socket(AF_UNIX, SOCK_DGRAM)"));
    }
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Send one notification byte to consumer `slot` of the ring `nonce` (errors ignored: a
/// full queue means it is readable already; a missing socket means nobody polls).
pub(crate) fn notify(sock: &mut Option<OwnedFd>, nonce: u64, slot: usize) {
    if sock.is_none() {
        *sock = dgram_socket().ok();
    }
    if let Some(s) = sock {
        let (a, len) = addr(nonce, slot);
        // SAFETY: valid socket, one byte, a valid address.
        unsafe {
            libc::sendto(
                s.as_raw_fd(),
                b"!".as_ptr().cast(),
                1,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                (&a as *const libc::sockaddr_un).cast(),
                len,
            );
        }
    }
}

/// A consumer's poll state.
#[derive(Debug)]
pub(crate) struct Poll {
    sock: OwnedFd,
    epoll: OwnedFd,
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
        let (a, len) = addr(nonce, slot);
        // SAFETY: valid socket and address.
        if unsafe {
            libc::bind(
                sock.as_raw_fd(),
                (&a as *const libc::sockaddr_un).cast(),
                len,
            )
        } < 0
        {
            return Err(Error::last_os(format_args!(
                "bind(abstract socket \"ipcx-ring-{nonce:016x}-{slot}\") for the poll descriptor"
            )));
        }
        // SAFETY: plain creation.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(Error::last_os("epoll_create1"));
        }
        // SAFETY: fresh descriptor.
        let epoll = unsafe { OwnedFd::from_raw_fd(ep) };
        epoll_add(&epoll, sock.as_raw_fd())?;
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
        self.epoll.as_raw_fd()
    }

    /// Consume pending notifications.
    pub fn drain(&self) {
        let mut b = [0u8; 64];
        // SAFETY: valid socket and buffer.
        while unsafe {
            libc::recv(
                self.sock.as_raw_fd(),
                b.as_mut_ptr().cast(),
                b.len(),
                libc::MSG_DONTWAIT,
            )
        } >= 0
        {}
    }

    /// Make the descriptor readable now (a message is there, or the producers are gone).
    pub fn wake_self(&self) {
        let (a, len) = addr(self.nonce, self.slot);
        // SAFETY: valid socket, one byte, a valid address.
        unsafe {
            libc::sendto(
                self.sock.as_raw_fd(),
                b"!".as_ptr().cast(),
                1,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                (&a as *const libc::sockaddr_un).cast(),
                len,
            );
        }
    }

    /// Watch exactly these producer processes for exit.
    pub fn watch(&mut self, pids: &[u32]) {
        self.pidfds.retain(|(p, fd)| {
            let keep = pids.contains(p);
            if !keep {
                // SAFETY: removing a descriptor we registered.
                unsafe {
                    libc::epoll_ctl(
                        self.epoll.as_raw_fd(),
                        libc::EPOLL_CTL_DEL,
                        fd.as_raw_fd(),
                        std::ptr::null_mut(),
                    )
                };
            }
            keep
        });
        for &pid in pids {
            if self.pidfds.iter().any(|(p, _)| *p == pid) {
                continue;
            }
            // SAFETY: plain system call.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
            if fd < 0 {
                continue; // gone already (the liveness check will tell) or not permitted
            }
            // SAFETY: fresh descriptor.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
            if exited(&fd) {
                continue; // a zombie would keep the descriptor readable forever
            }
            if epoll_add(&self.epoll, fd.as_raw_fd()).is_ok() {
                self.pidfds.push((pid, fd));
            }
        }
    }
}

fn exited(fd: &OwnedFd) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_fd().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    unsafe { libc::poll(&mut p, 1, 0) == 1 }
}

fn epoll_add(ep: &OwnedFd, fd: RawFd) -> Result<()> {
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: fd as u64,
    };
    // SAFETY: valid descriptors and event.
    if unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
        return Err(Error::os(Errno::last(), "epoll_ctl(EPOLL_CTL_ADD)"));
    }
    Ok(())
}
