// SPDX-License-Identifier: MIT OR Apache-2.0
//! Who is attached to a ring, and whether they are still alive.
//!
//! Each attachment owns a slot of the header's table and holds a read lock (an open file
//! description lock, `F_OFD_SETLK`) on byte `slot` of the ring's file, through a
//! descriptor of its own. The kernel releases that lock when the last descriptor of that
//! open file description is closed: at `ipcx_ring_close`, at exit, at SIGKILL, and at
//! exec (the descriptors are close-on-exec). So "is slot i alive?" is one `F_OFD_GETLK`:
//! no pid to reuse, no /proc to parse, no start time to compare, and an exec'd program
//! does not keep a ring alive by accident.
//!
//! Fork: a child inherits the descriptor, hence the same open file description, hence the
//! lock: an attachment stays alive while any process that inherited it still holds it,
//! exactly like a pipe end (close in each process what it does not use).
//!
//! The owner word of a slot is `pid << 32 | generation << 4 | role << 2 | state`; the
//! generation changes at every attach so that a lock token ([`token`]) names one
//! attachment, never a later one in the same slot. The pid is for messages and for the
//! poll descriptor's process descriptors, never for liveness.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::Ordering;

use crate::error::{Error, Result, Status};

use super::layout::{Header, SLOTS};
use super::wait;

/// Roles. Values are part of the shared layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends.
    Producer = 0,
    /// Receives.
    Consumer = 1,
}

impl Role {
    /// The other side.
    pub fn other(self) -> Role {
        match self {
            Role::Producer => Role::Consumer,
            Role::Consumer => Role::Producer,
        }
    }

    /// For messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }
}

const STATE_ATTACHED: u64 = 2;
const STATE_MASK: u64 = 3;
const GEN_MASK: u64 = (1 << 28) - 1;

/// A decoded owner word.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Owner {
    pub attached: bool,
    pub role: Role,
    pub generation: u32,
    pub pid: u32,
}

pub(crate) fn decode_owner(w: u64) -> Owner {
    Owner {
        attached: w & STATE_MASK == STATE_ATTACHED,
        role: if (w >> 2) & 3 == 1 {
            Role::Consumer
        } else {
            Role::Producer
        },
        generation: ((w >> 4) & GEN_MASK) as u32,
        pid: (w >> 32) as u32,
    }
}

fn encode_owner(role: Role, generation: u32, pid: u32) -> u64 {
    (pid as u64) << 32 | (generation as u64 & GEN_MASK) << 4 | (role as u64) << 2 | STATE_ATTACHED
}

/// A lock token naming one attachment: `slot + 1` in bits 0..7, the generation's low 24
/// bits in bits 7..31. Bit 31 is the lock's waiters flag.
pub(crate) fn token(slot: usize, generation: u32) -> u32 {
    (slot as u32 + 1) | (generation & 0xff_ffff) << 7
}

/// Lock an OFD byte (`F_RDLCK`) or unlock it (`F_UNLCK`).
fn ofd_lock(fd: BorrowedFd<'_>, slot: usize, kind: libc::c_short) -> std::result::Result<(), i32> {
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = slot as libc::off_t;
    fl.l_len = 1;
    // SAFETY: a valid flock structure; fd is open.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) } < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(())
}

/// Whether some open file description other than `fd`'s holds the lock of `slot`.
pub(crate) fn slot_held(fd: BorrowedFd<'_>, slot: usize) -> bool {
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = slot as libc::off_t;
    fl.l_len = 1;
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) } < 0 {
        return true; // cannot tell: never declare a live peer dead
    }
    fl.l_type != libc::F_UNLCK as libc::c_short
}

/// The slot table of a mapped header.
pub(crate) struct Peers<'a> {
    pub hdr: &'a Header,
}

impl Peers<'_> {
    /// Attach to a free slot as `role`. SPSC rings use slot 0 for the producer and slot 1
    /// for the consumer; a live attachment there is `IPCX_ERR_IN_USE`. Returns (slot,
    /// generation). The lock is taken through `fd` before the slot is published.
    pub fn attach(&self, fd: BorrowedFd<'_>, role: Role, mpmc: bool) -> Result<(usize, u32)> {
        // SAFETY: getpid cannot fail.
        let pid = unsafe { libc::getpid() } as u32;
        let candidates: Vec<usize> = if mpmc {
            (0..SLOTS).collect()
        } else {
            vec![role as usize]
        };
        for pass in 0..2 {
            for &i in &candidates {
                let slot = &self.hdr.slots[i].0;
                let w = slot.owner.load(Ordering::Acquire);
                let o = decode_owner(w);
                if o.attached {
                    if mpmc && pass == 0 {
                        continue; // prefer free slots; probe the attached ones after
                    }
                    if slot_held(fd, i) {
                        if !mpmc {
                            return Err(Error::new(
                                Status::IPCX_ERR_IN_USE,
                                format!(
                                    "the ring already has a live {} (pid {}); a \
                                     single-producer/single-consumer ring takes one of each",
                                    role.name(),
                                    o.pid
                                ),
                            ));
                        }
                        continue;
                    }
                    self.reap(i, w);
                }
                let w = slot.owner.load(Ordering::Acquire);
                if decode_owner(w).attached {
                    continue;
                }
                if let Err(errno) = ofd_lock(fd, i, libc::F_RDLCK as libc::c_short) {
                    let e = nix::errno::Errno::from_raw(errno);
                    if e == nix::errno::Errno::EINVAL {
                        // The command itself is unknown: open file description locks are
                        // Linux 3.15.
                        return Err(Error::os_as(
                            crate::error::Status::IPCX_ERR_UNSUPPORTED,
                            e,
                            "fcntl(F_OFD_SETLK) on the ring: this kernel has no open file \
                             description locks (Linux 3.15)",
                        ));
                    }
                    return Err(Error::os(e, "fcntl(F_OFD_SETLK) on the ring"));
                }
                let generation = (decode_owner(w).generation + 1) & GEN_MASK as u32;
                let new = encode_owner(role, generation, pid);
                if slot
                    .owner
                    .compare_exchange(w, new, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.hdr.peers.0.attaches[role as usize].fetch_add(1, Ordering::AcqRel);
                    self.changed();
                    return Ok((i, generation));
                }
                let _ = ofd_lock(fd, i, libc::F_UNLCK as libc::c_short);
            }
        }
        Err(Error::limit(format!(
            "the ring has no free attachment slot: {SLOTS} producers and consumers at most"
        )))
    }

    /// Free slot `i` whose owner word was `w` and whose holder is gone (a
    /// compare-and-swap: a slot re-attached meanwhile is left alone).
    pub fn reap(&self, i: usize, w: u64) {
        let freed = w & !STATE_MASK;
        if self.hdr.slots[i]
            .0
            .owner
            .compare_exchange(w, freed, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            let bit = !(1u64 << i);
            self.hdr
                .data_wait
                .0
                .fence_slots
                .fetch_and(bit, Ordering::SeqCst);
            self.hdr
                .space_wait
                .0
                .fence_slots
                .fetch_and(bit, Ordering::SeqCst);
            self.hdr
                .data_wait
                .0
                .poll_armed
                .fetch_and(bit, Ordering::SeqCst);
            self.hdr
                .space_wait
                .0
                .poll_armed
                .fetch_and(bit, Ordering::SeqCst);
            if i < 2 {
                let side = if i == 0 {
                    &self.hdr.prod.0
                } else {
                    &self.hdr.cons.0
                };
                side.user.store(0, Ordering::Release);
            }
            self.changed();
        }
    }

    /// Membership changed: let every waiter re-check.
    pub fn changed(&self) {
        self.hdr.peers.0.change_seq.fetch_add(1, Ordering::AcqRel);
        wait::wake_everyone(&self.hdr.data_wait.0.word);
        wait::wake_everyone(&self.hdr.space_wait.0.word);
    }

    /// Look at the attachments of `role` other than `me`, reaping the dead: returns
    /// (whether that role ever attached, whether one is alive now).
    pub fn role_state(&self, fd: BorrowedFd<'_>, role: Role, me: usize) -> (bool, bool) {
        let ever = self.hdr.peers.0.attaches[role as usize].load(Ordering::Acquire) > 0;
        let mut alive = false;
        for i in 0..SLOTS {
            if i == me {
                continue;
            }
            let w = self.hdr.slots[i].0.owner.load(Ordering::Acquire);
            let o = decode_owner(w);
            if !o.attached || o.role != role {
                continue;
            }
            if slot_held(fd, i) {
                alive = true;
            } else {
                self.reap(i, w);
            }
        }
        (ever, alive)
    }

    /// Whether any attachment other than `me` is alive (reaping the dead).
    pub fn anyone_alive(&self, fd: BorrowedFd<'_>, me: usize) -> bool {
        let (_, p) = self.role_state(fd, Role::Producer, me);
        let (_, c) = self.role_state(fd, Role::Consumer, me);
        p || c
    }

    /// Whether the attachment named by a lock token is gone (so its lock may be taken
    /// over). A token naming no valid slot is treated as gone.
    pub fn token_dead(&self, fd: BorrowedFd<'_>, tok: u32) -> bool {
        let idx = (tok & 0x7f) as usize;
        if idx == 0 || idx > SLOTS {
            return true;
        }
        let i = idx - 1;
        let w = self.hdr.slots[i].0.owner.load(Ordering::Acquire);
        let o = decode_owner(w);
        if !o.attached || o.generation & 0xff_ffff != (tok >> 7) & 0xff_ffff {
            return true;
        }
        if slot_held(fd, i) {
            return false;
        }
        self.reap(i, w);
        true
    }

    /// Pids of the live attachments of `role` (for process descriptors), except `me`.
    pub fn pids(&self, role: Role, me: usize) -> Vec<u32> {
        (0..SLOTS)
            .filter(|&i| i != me)
            .map(|i| decode_owner(self.hdr.slots[i].0.owner.load(Ordering::Acquire)))
            .filter(|o| o.attached && o.role == role && o.pid != 0)
            .map(|o| o.pid)
            .collect()
    }
}

/// Whether a process exists and is not a zombie (used only to decide whether a recorded
/// SPSC user still exists; liveness of attachments uses the OFD locks). A process /proc
/// hides from us counts as gone.
pub(crate) fn pid_running(pid: u32) -> bool {
    pid != 0
        && pid <= i32::MAX as u32
        && crate::sys::proc::process_alive(pid as i32, 0) == Some(true)
}
