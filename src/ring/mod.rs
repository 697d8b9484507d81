// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared-memory rings of variable-size messages: single-producer/single-consumer (SPSC)
//! and multi-producer/multi-consumer (MPMC), named (POSIX shared memory, for unrelated
//! processes) or anonymous (a memfd, shared across fork).
//!
//! The pieces:
//! - [`layout`]: the shared header and records, and the checks that make a hostile region
//!   harmless (every index and length is read once and checked before use);
//! - the SPSC algorithm: the producer (`producer.rs`) reserves contiguous space (a pad
//!   record skips the end of the data area), writes, zeroes the next header, and
//!   publishes the record header with one release store; the consumer (`consumer.rs`)
//!   reads one header word with acquire ordering, reads the payload in place, and
//!   publishes its head. No locked instruction and no fence on either fast path. This
//!   file holds the handle, its checks and the waits both sides share;
//! - MPMC: the same algorithm with a side lock around each operation (`lock.rs`), held
//!   from reserve to commit and from borrow to release; a lock whose holder died is taken
//!   over and, for producers, the tail re-derived from the published records;
//! - `wait.rs`: spin, then sleep on a futex, with coalesced wake-ups and the asymmetric
//!   (membarrier) ordering that keeps fences off the fast path;
//! - `peers.rs`: attachments and liveness through open-file-description locks;
//! - `poll.rs`: the consumer's poll descriptor;
//! - `object.rs`: the memory itself, from the shared-memory module (`crate::shm`): POSIX
//!   shared-memory objects for named rings, a sealed memfd for anonymous ones; creation,
//!   opening, checks and removal.
//!
//! A handle is used by one thread at a time. Handles survive fork like pipe ends (see
//! `peers.rs` and docs/ring.md).

mod consumer;
pub(crate) mod layout;
mod lock;
mod object;
mod peers;
mod poll;
mod producer;
mod wait;

/// The ring's fuzz harness (`--cfg fuzzing` and unit tests only).
#[cfg(any(fuzzing, test))]
pub mod fuzz;

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, Status};
use crate::flags::Disposition;
use crate::options::{Opt, Options};
use crate::shm;
use crate::shm::region::{Kind, Region};
use crate::time::{Deadline, Timeout};

use layout::{
    DATA_OFFSET, Geometry, Header, MAGIC, Rec, SLACK, STATE_INITIALISING, STATE_READY, VERSION,
    check_used, decode, msg_word, pad_word, place, record_size,
};
pub(crate) use object::check_name;
pub use object::unlink;
use object::{
    attach_existing, create_object, discard_object, flock, init_header, map_apart, map_named,
    object_shrunk, open_object, sealed_memfd,
};
use peers::Peers;
pub use peers::Role;
use wait::{Sleeper, WaitRef};

crate::flags::option_set! {
    /// The options of [`Ring::open`] and [`Ring::anonymous`].
    pub struct RingFlags {
        /// Multi-producer/multi-consumer (on an existing ring: require one).
        const MPMC = 0;
    }
}

/// The longest ring name in bytes (without the NUL): a slash and 255 bytes, the kernel's
/// limit for a file name in /dev/shm.
pub(crate) const NAME_MAX: usize = 256;

/// The options rings honour.
const NAMED_OPTIONS: &[Opt] = &[Opt::Mode, Opt::Capacity, Opt::MaxMessage, Opt::Spin];
const ANON_OPTIONS: &[Opt] = &[Opt::Capacity, Opt::MaxMessage, Opt::Spin];

// ------------------------------------------------------------------ fork tracking

/// Bumped in every child by a pthread_atfork handler: a handle compares it with the value
/// it saw when it was last used to know it is now in another process.
static FORK_GEN: AtomicU32 = AtomicU32::new(1);

extern "C" fn after_fork_in_child() {
    FORK_GEN.fetch_add(1, Ordering::Relaxed);
}

fn track_forks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a handler that only increments an atomic (async-signal-safe).
    ONCE.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child));
    });
}

#[inline(always)]
fn fork_gen() -> u32 {
    FORK_GEN.load(Ordering::Relaxed)
}

/// Copy a message between the caller's memory and the ring: messages of 16 to 64 bytes by
/// two (possibly overlapping) fixed-size moves inlined here, larger and smaller ones by
/// `memcpy` (a call and its size dispatch cost a small message a third of a batched
/// send-and-receive).
///
/// # Safety
/// `src` valid for reading and `dst` for writing `len` bytes; the two do not overlap.
#[inline(always)]
unsafe fn copy_msg(src: *const u8, dst: *mut u8, len: usize) {
    use std::ptr::copy_nonoverlapping as copy;
    // SAFETY: every move stays within the first `len` bytes of both (16 <= len <= 64).
    unsafe {
        if (16..=32).contains(&len) {
            copy(src, dst, 16);
            copy(src.add(len - 16), dst.add(len - 16), 16);
        } else if (33..=64).contains(&len) {
            copy(src, dst, 32);
            copy(src.add(len - 32), dst.add(len - 32), 32);
        } else {
            copy(src, dst, len);
        }
    }
}

// ------------------------------------------------------------------ the handle

/// What the handle has outstanding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    None,
    /// A reservation: the record goes at data offset `rec`, `len` bytes reserved.
    Reserved {
        rec: u64,
        len: u64,
    },
    /// A borrowed message occupying `size` bytes from the head.
    Borrowed {
        size: u64,
    },
}

/// A timeout converted to a deadline only when the call must wait (the fast path never
/// reads the clock). Computed once per call.
struct Tmo {
    t: Timeout,
    dl: Option<Deadline>,
}

impl Tmo {
    #[inline(always)]
    fn new(t: Timeout) -> Tmo {
        Tmo { t, dl: None }
    }

    fn nowait(&self) -> bool {
        self.t.is_nowait()
    }

    fn deadline(&mut self) -> Deadline {
        *self.dl.get_or_insert_with(|| self.t.deadline())
    }
}

/// One end of a ring: a producer or a consumer.
#[derive(Debug)]
pub struct Ring {
    /// The mapping (unmapped when the handle is dropped).
    _region: Region,
    hdr: NonNull<Header>,
    data: NonNull<u8>,
    g: Geometry,
    role: Role,
    /// `ring "/name"` or `anonymous ring`, for messages.
    what: String,
    /// Our own open file description of the ring (holds the slot's liveness lock).
    fd: Option<OwnedFd>,
    slot: usize,
    slot_gen: u32,
    /// Fork generation of the process that attached `slot`.
    attach_gen: u32,
    /// Fork generation of the process that last claimed the handle for use (0: none).
    used_gen: u32,
    /// `used_gen` while the handle is usable, 0 once it is broken (see `check`).
    ready: u32,
    pid: u32,
    nonce: u64,
    spin_ns: u64,
    /// Producer: tail. Consumer: head. (MPMC: valid while the side lock is held.)
    pos: u64,
    /// Producer: last head seen.
    cached: u64,
    pending: Pending,
    locked: bool,
    sleeper: Sleeper,
    /// A protocol error (corrupted region) is sticky.
    broken: Option<Error>,
    /// A named ring: its object may be resized by whoever can open it (see `check_object`).
    named: bool,
    /// The object was found smaller than the mapping: the shared memory is never touched
    /// again (an access past the object's end raises SIGBUS).
    lost: bool,
    poll: Option<poll::Poll>,
    /// Producer with a poll descriptor: the record size the last send found no room for
    /// (the room the descriptor waits for).
    room_want: u64,
    notify_sock: Option<OwnedFd>,
    peer_seen: u32,
    peer_gone: bool,
    probed_at: Option<Instant>,
}

// SAFETY: the raw pointers point into `region`, owned by the handle.
unsafe impl Send for Ring {}

impl Ring {
    // -------------------------------------------------------------- shared access

    /// The shared header. The lifetime is not tied to `self` so that the shared words can
    /// be used while the handle's own fields change; the mapping lives as long as the
    /// handle, and no reference escapes a method.
    #[inline(always)]
    fn h<'a>(&self) -> &'a Header {
        // SAFETY: the header is at the start of the mapping, which outlives every use.
        unsafe { &*self.hdr.as_ptr() }
    }

    /// The header word of the record at data offset `pos` (< capacity, 8-aligned: always
    /// derived from an index masked with the handle's own mask).
    #[inline(always)]
    fn word<'a>(&self, pos: u64) -> &'a AtomicU64 {
        debug_assert!(pos < self.g.capacity && pos % 8 == 0);
        // SAFETY: pos is in the data area and aligned.
        unsafe { &*(self.data.as_ptr().add(pos as usize) as *const AtomicU64) }
    }

    fn data_wait<'a>(&self) -> WaitRef<'a> {
        let w = &self.h().data_wait.0;
        WaitRef {
            word: &w.word,
            fence_slots: &w.fence_slots,
        }
    }

    fn space_wait<'a>(&self) -> WaitRef<'a> {
        let w = &self.h().space_wait.0;
        WaitRef {
            word: &w.word,
            fence_slots: &w.fence_slots,
        }
    }

    /// The wait word this end sleeps and polls on: data for a consumer, space for a
    /// producer.
    fn own_wait<'a>(&self) -> &'a layout::Wait {
        match self.role {
            Role::Consumer => &self.h().data_wait.0,
            Role::Producer => &self.h().space_wait.0,
        }
    }

    fn peers<'a>(&self) -> Peers<'a> {
        Peers { hdr: self.h() }
    }

    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_ref().expect("attachment descriptor").as_fd()
    }

    // -------------------------------------------------------------- creation

    fn new(
        region: Region,
        fd: OwnedFd,
        role: Role,
        g: Geometry,
        what: String,
        spin_ns: u64,
        named: bool,
    ) -> Result<Ring> {
        track_forks();
        wait::membarrier_register();
        let hdr = NonNull::new(region.base().cast::<Header>())
            .ok_or_else(|| Error::internal("null region"))?;
        // SAFETY: DATA_OFFSET + capacity <= region length (checked by Geometry).
        let data = NonNull::new(unsafe { region.base().add(DATA_OFFSET) })
            .ok_or_else(|| Error::internal("null data"))?;
        // SAFETY: the region holds a header.
        let h = unsafe { hdr.as_ref() };
        let (slot, slot_gen) = (Peers { hdr: h }).attach(fd.as_fd(), role, g.mpmc)?;
        Ok(Ring {
            nonce: h.ident.0.nonce.load(Ordering::Acquire),
            _region: region,
            hdr,
            data,
            g,
            role,
            what,
            fd: Some(fd),
            slot,
            slot_gen,
            attach_gen: fork_gen(),
            used_gen: 0,
            ready: 0,
            pid: 0,
            spin_ns,
            pos: 0,
            cached: 0,
            pending: Pending::None,
            locked: false,
            sleeper: Sleeper::default(),
            broken: None,
            named,
            lost: false,
            poll: None,
            room_want: record_size(0),
            notify_sock: None,
            peer_seen: u32::MAX,
            peer_gone: false,
            probed_at: None,
        })
    }

    /// Create an anonymous ring (shared with processes forked afterwards): the producer
    /// and the consumer end.
    pub fn anonymous(opts: &Options, flags: RingFlags) -> Result<(Ring, Ring)> {
        Ring::check_anonymous_options(opts)?;
        let g = Geometry::new(
            opts.capacity.unwrap_or(layout::DEFAULT_CAPACITY),
            opts.max_message,
            flags.contains(RingFlags::MPMC),
        )?;
        let spin = opts.spin_ns.unwrap_or(wait::DEFAULT_SPIN_NS);
        let what = "anonymous ring".to_string();
        let cfd = sealed_memfd(g.region_len(), &what)?;
        let rc = map_apart(cfd.as_fd(), g.region_len(), Kind::Anonymous, &what)?;
        init_header(&rc, &g);
        let pfd = shm::reopen(cfd.as_fd(), &what)?;
        let rp = map_apart(pfd.as_fd(), g.region_len(), Kind::Anonymous, &what)?;
        let p = Ring::new(rp, pfd, Role::Producer, g, what.clone(), spin, false)?;
        let c = Ring::new(rc, cfd, Role::Consumer, g, what, spin, false)?;
        Ok((p, c))
    }

    /// The first check of [`Ring::anonymous`]: the options anonymous rings support.
    pub(crate) fn check_anonymous_options(opts: &Options) -> Result<()> {
        opts.only(ANON_OPTIONS, "anonymous rings")
    }

    /// The first check of [`Ring::open`]: the options named rings support.
    pub(crate) fn check_options(opts: &Options) -> Result<()> {
        opts.only(NAMED_OPTIONS, "rings")
    }

    /// Open (or create, as `how` says) the named ring `name` (a POSIX shared-memory name,
    /// "/name") and attach to it as `role`.
    pub fn open(
        name: &str,
        role: Role,
        how: Disposition,
        flags: RingFlags,
        opts: &Options,
    ) -> Result<Ring> {
        Ring::check_options(opts)?;
        let cname = check_name(name)?;
        let mpmc = flags.contains(RingFlags::MPMC);
        let want = Geometry::new(
            opts.capacity.unwrap_or(layout::DEFAULT_CAPACITY),
            opts.max_message,
            mpmc,
        )?;
        let spin = opts.spin_ns.unwrap_or(wait::DEFAULT_SPIN_NS);
        let what = format!("ring {name:?}");
        let started = Instant::now();
        loop {
            if how.creates() {
                match create_object(name, &cname, opts.mode()) {
                    Ok(fd) => {
                        flock(fd.as_fd(), libc::LOCK_EX)?;
                        let made = (|| {
                            shm::set_size(fd.as_fd(), want.region_len(), &what, "/dev/shm")?;
                            let r = map_named(fd.as_fd(), want.region_len(), name)?;
                            init_header(&r, &want);
                            Ok::<_, Error>(r)
                        })();
                        let r = match made {
                            Ok(r) => r,
                            Err(e) => {
                                discard_object(&cname);
                                return Err(e);
                            }
                        };
                        let mut ring = Ring::new(r, fd, role, want, what, spin, true)?;
                        ring.claim_use()?;
                        flock(ring.fd(), libc::LOCK_UN)?;
                        crate::hook::created_named(
                            crate::hook::ObjKind::Ring,
                            name,
                            Some(ring.fd()),
                        );
                        return Ok(ring);
                    }
                    Err(e) if e.status == Status::IPCX_ERR_EXISTS && !how.exclusive() => {}
                    Err(e) => return Err(e),
                }
            }
            let fd = match open_object(name, &cname) {
                Ok(fd) => fd,
                // Removed between our two calls: try creating again.
                Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND && how.creates() => {
                    continue;
                }
                Err(e) => return Err(e),
            };
            flock(fd.as_fd(), libc::LOCK_EX)?;
            match attach_existing(fd, name, role, opts, mpmc, &want, &what, spin) {
                Ok(Some(ring)) => {
                    flock(ring.fd(), libc::LOCK_UN)?;
                    return Ok(ring);
                }
                // Still being created by another process (empty object): wait a little.
                Ok(None) if started.elapsed() < Duration::from_secs(2) => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(None) => {
                    return Err(Error::new(
                        Status::IPCX_ERR_EXISTS,
                        format!(
                            "{what} exists but is empty: it is not an ipcx ring (or its \
                             creator died before sizing it, or a process truncated it); it \
                             is left untouched"
                        ),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }

    // -------------------------------------------------------------- per-call checks

    /// Checks every operation makes: sticky corruption, role, and "first use in this
    /// process" (after fork), folded into one compare on the fast path: `ready` is the
    /// fork generation the handle was claimed in, or 0 when it is broken.
    #[inline(always)]
    fn check(&mut self, want: Role, op: &str) -> Result<()> {
        if self.ready != fork_gen() || self.role != want {
            return self.check_slow(want, op);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn check_slow(&mut self, want: Role, op: &str) -> Result<()> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        if self.role != want {
            return Err(self.wrong_role(op));
        }
        if self.used_gen != fork_gen() {
            self.claim_use()?;
        }
        self.ready = self.used_gen;
        Ok(())
    }

    #[cold]
    fn wrong_role(&self, op: &str) -> Error {
        Error::invalid(format!(
            "{}: {op} needs a {} handle; this one is a {}",
            self.what,
            self.role.other().name(),
            self.role.name()
        ))
    }

    /// First use of the handle in this process: after fork, an MPMC handle takes its own
    /// attachment (its own liveness and lock identity); an SPSC handle checks that no
    /// other live process uses this side. The local indices are re-derived from the
    /// shared ones (another process may have used the handle meanwhile).
    #[cold]
    fn claim_use(&mut self) -> Result<()> {
        let fgen = fork_gen();
        // SAFETY: getpid cannot fail.
        let pid = unsafe { libc::getpid() } as u32;
        if self.used_gen != 0 {
            // A copy inherited from another process: what it had outstanding (and the
            // side lock, for MPMC) belongs to that process.
            self.pending = Pending::None;
            self.locked = false;
            self.sleeper = Sleeper::default();
            self.poll = None;
        }
        if self.g.mpmc {
            if self.attach_gen != fgen {
                let nfd = shm::reopen(self.fd(), &self.what)?;
                let (slot, sgen) = self.peers().attach(nfd.as_fd(), self.role, true)?;
                self.fd = Some(nfd); // drops the inherited description here
                self.slot = slot;
                self.slot_gen = sgen;
                self.attach_gen = fgen;
            }
        } else {
            let side = self.side();
            let mut cur = side.user.load(Ordering::Acquire);
            loop {
                if cur == pid {
                    break;
                }
                if cur != 0 && peers::pid_running(cur) {
                    return Err(Error::new(
                        Status::IPCX_ERR_IN_USE,
                        format!(
                            "{}: process {cur} uses this {} end; a single-producer/\
                             single-consumer ring has one of each (close it there first, \
                             or create the ring with IPCX_RING_MPMC)",
                            self.what,
                            self.role.name()
                        ),
                    ));
                }
                match side
                    .user
                    .compare_exchange(cur, pid, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => break,
                    Err(now) => cur = now,
                }
            }
            match self.role {
                Role::Producer => {
                    let t = self.h().prod.0.pos.load(Ordering::Acquire);
                    self.pos = self.walk_tail(t).map_err(|e| self.fail(e))?;
                    self.h().prod.0.pos.store(self.pos, Ordering::Release);
                }
                Role::Consumer => {
                    let hd = self.h().cons.0.pos.load(Ordering::Acquire);
                    if hd & 7 != 0 {
                        return Err(self.fail(Error::protocol(format!(
                            "corrupted ring: head index {hd} is misaligned"
                        ))));
                    }
                    self.pos = hd;
                }
            }
        }
        self.cached = self.h().cons.0.pos.load(Ordering::Acquire);
        self.used_gen = fgen;
        self.pid = pid;
        Ok(())
    }

    fn side<'a>(&self) -> &'a layout::Side {
        match self.role {
            Role::Producer => &self.h().prod.0,
            Role::Consumer => &self.h().cons.0,
        }
    }

    /// Record a protocol error as sticky.
    #[cold]
    fn fail(&mut self, e: Error) -> Error {
        if self.lost {
            // Already recorded (and nothing of the shared memory may be touched).
            return self.broken.clone().unwrap_or(e);
        }
        if e.status == Status::IPCX_ERR_PROTOCOL {
            let e = e.context(&self.what);
            self.broken = Some(e.clone());
            self.ready = 0;
            if self.locked {
                self.unlock();
            }
            self.pending = Pending::None;
            return e;
        }
        e
    }

    #[cold]
    fn outstanding(&self, op: &str) -> Error {
        let what = match self.pending {
            Pending::Reserved { .. } => "a reservation (commit or abort it first)",
            _ => "a borrowed message (release it first)",
        };
        Error::new(
            Status::IPCX_ERR_IN_USE,
            format!("{}: {op}: this handle has {what}", self.what),
        )
    }

    /// Named rings: check that the shared-memory object still covers the mapping. Whoever
    /// can open a named ring for writing can also shrink its object (ftruncate), and a
    /// memory access past the new end raises SIGBUS; /dev/shm objects cannot be sealed
    /// against it (anonymous rings are: see [`sealed_memfd`]). So the slow paths (before
    /// and after every sleep, at every liveness check, before arming a poll descriptor,
    /// at close) look at the object's size first; a ring found shrunk becomes unusable
    /// (`IPCX_ERR_PROTOCOL`, sticky) and its memory is never touched again. A truncation
    /// that lands between such a check and an access, or while a call runs its fast path,
    /// still faults: see docs/ring.md, "Who can break a ring".
    #[inline]
    fn check_object(&mut self) -> Result<()> {
        if self.named {
            return self.check_object_slow();
        }
        Ok(())
    }

    #[cold]
    fn check_object_slow(&mut self) -> Result<()> {
        if self.lost {
            return Err(self
                .broken
                .clone()
                .unwrap_or_else(|| Error::protocol("lost")));
        }
        let Some(fd) = self.fd.as_ref() else {
            return Ok(());
        };
        let Some(size) = object_shrunk(fd.as_fd(), &self.g) else {
            return Ok(());
        };
        let e = Error::protocol(format!(
            "{}: its shared-memory object was truncated to {size} bytes while in use (the \
             ring needs {}): a process with write access to it resized it; the ring cannot \
             be used any more (close the handle; remove and re-create the ring)",
            self.what,
            self.g.region_len()
        ));
        self.lost = true;
        self.broken = Some(e.clone());
        self.ready = 0;
        // The lock word went with the memory: nothing to release.
        self.locked = false;
        self.pending = Pending::None;
        Err(e)
    }

    /// Whether the other side is gone: it attached at some point and no attachment of it
    /// is alive now. Cheap unless membership changed or `probe` asks for a liveness check
    /// (at most every slice).
    fn other_gone(&mut self, probe: bool) -> bool {
        let c = self.h().peers.0.change_seq.load(Ordering::Acquire);
        // A close of the ring's object seen by the poll descriptor may be the other side
        // going: look now.
        let closed = probe && self.poll.as_ref().is_some_and(|p| p.take_closes());
        let due = probe && (closed || self.probed_at.is_none_or(|t| t.elapsed() >= wait::SLICE));
        if c != self.peer_seen || due {
            let (ever, alive) = self
                .peers()
                .role_state(self.fd(), self.role.other(), self.slot);
            self.peer_gone = ever && !alive;
            self.peer_seen = c;
            self.probed_at = Some(Instant::now());
        }
        self.peer_gone
    }

    #[cold]
    fn gone_error(&self) -> Error {
        Error::closed(match self.role {
            Role::Producer => format!(
                "{}: the consumer closed or died (no consumer is attached)",
                self.what
            ),
            Role::Consumer => format!(
                "{}: every producer closed or died and the ring is empty",
                self.what
            ),
        })
    }

    // -------------------------------------------------------------- MPMC side lock

    fn lock_side(&mut self, tmo: &mut Tmo, op: &str) -> Result<()> {
        let side = self.side();
        let tok = peers::token(self.slot, self.slot_gen);
        let dl = if tmo.nowait() {
            None
        } else {
            Some(tmo.deadline())
        };
        let peers = self.peers();
        let fd = self.fd.as_ref().expect("fd").as_fd();
        let what = wait::What {
            op,
            doing: match self.role {
                Role::Producer => "waiting for the producer lock",
                Role::Consumer => "waiting for the consumer lock",
            },
        };
        let (named, g) = (self.named, self.g);
        let got = lock::lock(
            &side.lock,
            tok,
            self.spin_ns,
            dl.as_ref(),
            &what,
            |t| peers.token_dead(fd, t),
            || {
                if named && object_shrunk(fd, &g).is_some() {
                    return Err(Error::protocol("the ring's object shrank"));
                }
                Ok(())
            },
        );
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                self.check_object()?;
                return Err(wait::named(e, &self.what));
            }
        };
        self.locked = true;
        self.pos = side.pos.load(Ordering::Acquire);
        if self.pos & 7 != 0 {
            let e = Error::protocol(format!("corrupted ring: index {} is misaligned", self.pos));
            return Err(self.fail(e));
        }
        if got == lock::Acquired::FromDead && self.role == Role::Producer {
            match self.walk_tail(self.pos) {
                Ok(t) => {
                    self.pos = t;
                    side.pos.store(t, Ordering::Release);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    #[inline]
    fn unlock(&mut self) {
        if self.locked {
            self.locked = false;
            lock::unlock(&self.side().lock);
        }
    }

    /// Wait until `cond` holds: spin for the spin budget, then sleep on this side's wait
    /// word in slices (announce, re-check, FUTEX_WAIT); the other side's departure ends
    /// the wait with `IPCX_ERR_CLOSED` unless `cond` holds.
    fn wait_for(
        &mut self,
        dl: &Deadline,
        what: &wait::What<'_>,
        cond: impl Fn(&mut Ring) -> Result<bool>,
    ) -> Result<()> {
        let spin = self.spin_ns;
        wait::wait_until(
            self,
            spin,
            dl,
            what,
            |r| Ok(cond(r)?.then_some(())),
            |r, d| {
                r.check_object()?;
                let ww = match r.role {
                    Role::Consumer => r.data_wait(),
                    Role::Producer => r.space_wait(),
                };
                let v = r.sleeper.announce(&ww, r.slot, wait::NEED_WAKE, r.spin_ns);
                if cond(r)? {
                    return Ok(Some(()));
                }
                let slept = wait::futex_sleep(ww.word, v, d, dl, what);
                // Before anything touches the shared memory again.
                r.check_object()?;
                slept?;
                Ok(None)
            },
            |r| {
                r.check_object()?;
                if r.other_gone(true) && !cond(r)? {
                    return Err(r.gone_error());
                }
                Ok(())
            },
        )
        .map_err(|e| wait::named(e, &self.what))
    }

    // -------------------------------------------------------------- consumer

    /// The identity of the ring's shared-memory object (fstat of the handle's own
    /// descriptor), to check a name still refers to it before removing it.
    pub(crate) fn file_id(&self) -> Option<crate::fd::FileId> {
        self.fd
            .as_ref()
            .and_then(|f| crate::fd::FileId::of_fd(f.as_raw_fd()))
    }

    /// (capacity, max message, role, mpmc).
    pub fn info(&self) -> (usize, usize, Role, bool) {
        (
            self.g.capacity as usize,
            self.g.max_message as usize,
            self.role,
            self.g.mpmc,
        )
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if self.check_object().is_err() && self.lost {
            // The object shrank under us: its memory must not be touched (SIGBUS). The
            // descriptor still goes, which releases the attachment's liveness lock.
            self.poll = None;
            self.fd = None;
            return;
        }
        if self.used_gen == fork_gen() {
            // Closing releases what this process has outstanding (nng's rule).
            match self.pending {
                Pending::Borrowed { size } if self.broken.is_none() => {
                    self.pos = self.pos.wrapping_add(size);
                    self.side().pos.store(self.pos, Ordering::Release);
                    wait::wake_everyone(&self.h().space_wait.0.word);
                }
                _ => {}
            }
            self.pending = Pending::None;
            self.unlock();
            let (dw, sw) = (self.data_wait(), self.space_wait());
            self.sleeper.drop_fence(&dw, self.slot);
            self.sleeper.drop_fence(&sw, self.slot);
            if self.poll.is_some() {
                self.own_wait()
                    .poll_armed
                    .fetch_and(!(1u64 << self.slot), Ordering::SeqCst);
            }
            if !self.g.mpmc {
                let _ = self.side().user.compare_exchange(
                    self.pid,
                    0,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            }
        }
        self.poll = None;
        // Closing our descriptor releases the slot's liveness lock (unless another process
        // still holds this attachment); then tell the peers to look.
        self.fd = None;
        self.peers().changed();
        self.notify_pollers(Role::Consumer);
        self.notify_pollers(Role::Producer);
    }
}

#[cfg(test)]
mod tests;
