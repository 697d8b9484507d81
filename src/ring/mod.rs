// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared-memory rings of variable-size messages: single-producer/single-consumer (SPSC)
//! and multi-producer/multi-consumer (MPMC), named (POSIX shared memory, for unrelated
//! processes) or anonymous (a memfd, shared across fork).
//!
//! The pieces:
//! - [`layout`]: the shared header and records, and the checks that make a hostile region
//!   harmless (every index and length is read once and checked before use);
//! - the SPSC algorithm, in this file: the producer reserves contiguous space (a pad
//!   record skips the end of the data area), writes, zeroes the next header, and
//!   publishes the record header with one release store; the consumer reads one header
//!   word with acquire ordering, reads the payload in place, and publishes its head. No
//!   locked instruction and no fence on either fast path;
//! - MPMC: the same algorithm with a side lock around each operation (`lock.rs`), held
//!   from reserve to commit and from borrow to release; a lock whose holder died is taken
//!   over and, for producers, the tail re-derived from the published records;
//! - `wait.rs`: spin, then sleep on a futex, with coalesced wake-ups and the asymmetric
//!   (membarrier) ordering that keeps fences off the fast path;
//! - `peers.rs`: attachments and liveness through open-file-description locks;
//! - `poll.rs`: the consumer's poll descriptor;
//! - the memory itself comes from the shared-memory module (`crate::shm`): POSIX
//!   shared-memory objects for named rings, a memfd for anonymous ones.
//!
//! A handle is used by one thread at a time. Handles survive fork like pipe ends (see
//! `peers.rs` and docs/ring.md).

pub(crate) mod layout;
mod lock;
mod peers;
mod poll;
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
use crate::options::{Opt, Options};
use crate::region::{Kind, Region};
use crate::shm;
use crate::time::Deadline;

use layout::{
    DATA_OFFSET, Geometry, Header, MAGIC, Rec, SLACK, STATE_INITIALISING, STATE_READY, VERSION,
    check_used, decode, msg_word, pad_word, place, record_size,
};
use peers::Peers;
pub use peers::Role;
use wait::{Sleeper, WaitRef};

/// Open flag: attach as a producer.
pub(crate) const PRODUCER: u32 = crate::flags::WRITE;
/// Open flag: attach as a consumer.
pub(crate) const CONSUMER: u32 = crate::flags::READ;
/// Open flag: create the ring if it does not exist.
pub(crate) const CREATE: u32 = crate::flags::CREATE;
/// Open flag (with CREATE): fail if it exists.
pub(crate) const EXCL: u32 = crate::flags::EXCLUSIVE;
/// Open/create flag: multi-producer/multi-consumer.
pub(crate) const MPMC: u32 = crate::flags::family(0);

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
    ms: i64,
    dl: Option<Deadline>,
}

impl Tmo {
    #[inline(always)]
    fn new(ms: i64) -> Result<Tmo> {
        if ms < -1 {
            return Err(Error::invalid(format!(
                "timeout {ms} ms is invalid (use -1 for forever, 0 for no wait, or a positive value)"
            )));
        }
        Ok(Tmo { ms, dl: None })
    }

    fn nowait(&self) -> bool {
        self.ms == 0
    }

    fn deadline(&mut self) -> Result<Deadline> {
        if self.dl.is_none() {
            self.dl = Some(Deadline::from_ms(self.ms)?);
        }
        Ok(self.dl.unwrap_or_else(Deadline::now))
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
    pub fn anonymous(opts: &Options, flags: u32) -> Result<(Ring, Ring)> {
        opts.only(ANON_OPTIONS, "anonymous rings")?;
        crate::flags::check(flags, MPMC, "IPCX_RING_MPMC")?;
        let g = Geometry::new(
            opts.capacity.unwrap_or(layout::DEFAULT_CAPACITY),
            opts.max_message,
            flags & MPMC != 0,
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

    /// Open (or create) the named ring `name` (a POSIX shared-memory name, "/name").
    pub fn open(name: &str, flags: u32, opts: &Options) -> Result<Ring> {
        opts.only(NAMED_OPTIONS, "rings")?;
        crate::flags::check(
            flags,
            PRODUCER | CONSUMER | CREATE | EXCL | MPMC,
            "IPCX_OPEN_WRITE or IPCX_OPEN_READ, IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE and \
             IPCX_RING_MPMC",
        )?;
        let role = match flags & (PRODUCER | CONSUMER) {
            PRODUCER => Role::Producer,
            CONSUMER => Role::Consumer,
            _ => {
                return Err(Error::invalid(
                    "ring open flags must contain exactly one of IPCX_OPEN_WRITE and \
                     IPCX_OPEN_READ",
                ));
            }
        };
        if flags & EXCL != 0 && flags & CREATE == 0 {
            return Err(Error::invalid("IPCX_OPEN_EXCLUSIVE needs IPCX_OPEN_CREATE"));
        }
        let cname = check_name(name)?;
        let mpmc = flags & MPMC != 0;
        let want = Geometry::new(
            opts.capacity.unwrap_or(layout::DEFAULT_CAPACITY),
            opts.max_message,
            mpmc,
        )?;
        let spin = opts.spin_ns.unwrap_or(wait::DEFAULT_SPIN_NS);
        let what = format!("ring {name:?}");
        let started = Instant::now();
        loop {
            if flags & CREATE != 0 {
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
                        crate::provenance::created_named(
                            crate::provenance::ObjKind::Ring,
                            name,
                            Some(ring.fd()),
                        );
                        return Ok(ring);
                    }
                    Err(e) if e.status == Status::IPCX_ERR_EXISTS && flags & EXCL == 0 => {}
                    Err(e) => return Err(e),
                }
            }
            let fd = match open_object(name, &cname) {
                Ok(fd) => fd,
                // Removed between our two calls: try creating again.
                Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND && flags & CREATE != 0 => {
                    continue;
                }
                Err(e) => return Err(e),
            };
            flock(fd.as_fd(), libc::LOCK_EX)?;
            match attach_existing(fd, name, role, opts, flags, &want, &what, spin) {
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
        let due = probe && self.probed_at.is_none_or(|t| t.elapsed() >= wait::SLICE);
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
            Some(tmo.deadline()?)
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

    /// The end of the published chain, starting from a tail that may lag (a producer that
    /// died after publishing but before storing its tail) or trail the head (the consumer
    /// already read past it). Every header on the way is checked.
    fn walk_tail(&self, start: u64) -> Result<u64> {
        let head = self.h().cons.0.pos.load(Ordering::Acquire);
        let ahead = head.wrapping_sub(start);
        let mut t = if ahead != 0 && ahead <= self.g.capacity && head & 7 == 0 {
            head
        } else {
            start
        };
        check_used(t, head, &self.g)?;
        for _ in 0..=self.g.capacity / 8 {
            let pos = t & self.g.mask;
            match decode(self.word(pos).load(Ordering::Acquire), pos, &self.g)? {
                Rec::Empty => return Ok(t),
                Rec::Msg { size, .. } | Rec::Pad { size } => t = t.wrapping_add(size),
            }
            if check_used(t, head, &self.g)? + SLACK > self.g.capacity {
                break;
            }
        }
        Err(Error::protocol(
            "corrupted ring: the published records never end",
        ))
    }

    // -------------------------------------------------------------- producer

    /// Room for a record of `len` payload bytes after the tail, waiting if needed (MPMC:
    /// takes the producers' lock, held on success). Returns the record's data offset.
    #[inline(always)]
    fn make_room(&mut self, len: u64, timeout_ms: i64, op: &str) -> Result<u64> {
        if self.pending != Pending::None {
            return Err(self.outstanding(op));
        }
        let mut tmo = Tmo::new(timeout_ms)?;
        if len > self.g.max_message {
            return Err(self.too_big(len));
        }
        if self.h().peers.0.change_seq.load(Ordering::Relaxed) != self.peer_seen
            && self.other_gone(false)
        {
            return Err(self.gone_error());
        }
        if self.g.mpmc {
            self.lock_side(&mut tmo, op)?;
        }
        let (rec, used) = place(self.pos, record_size(len), &self.g);
        // Saturating: a hostile head (cached) ahead of the tail must not wrap the sum below
        // the capacity and skip the check; the slow path validates the indices.
        if self
            .pos
            .wrapping_sub(self.cached)
            .saturating_add(used + SLACK)
            > self.g.capacity
        {
            if let Err(e) = self.wait_space(used, &mut tmo, op) {
                self.unlock();
                return Err(self.fail(e));
            }
        }
        Ok(rec)
    }

    /// Where the payload of the record at data offset `rec` goes.
    #[inline(always)]
    fn payload(&self, rec: u64) -> *mut u8 {
        // SAFETY: rec + 8 + len <= capacity (placement or decode).
        unsafe { self.data.as_ptr().add((rec + layout::REC_HDR) as usize) }
    }

    /// Publish the record of `used` bytes at data offset `rec` (see layout.rs): zero the
    /// next header, then one release store; then wake consumers if one sleeps.
    #[inline(always)]
    fn publish(&mut self, rec: u64, used: u64) {
        let size = record_size(used);
        let tail = self.pos;
        let pos = tail & self.g.mask;
        let new_tail = if rec == pos {
            tail.wrapping_add(size)
        } else {
            tail.wrapping_add(self.g.capacity - pos + size)
        };
        self.word(new_tail & self.g.mask)
            .store(0, Ordering::Relaxed);
        if rec == pos {
            self.word(pos).store(msg_word(used), Ordering::Release);
        } else {
            self.word(0).store(msg_word(used), Ordering::Relaxed);
            self.word(pos)
                .store(pad_word(self.g.capacity - pos), Ordering::Release);
        }
        self.pos = new_tail;
        self.h().prod.0.pos.store(new_tail, Ordering::Release);
        if self.locked {
            self.unlock();
        }
        if let Some(v) = wait::after_publish(&self.data_wait()) {
            self.notify_consumers(v);
        }
    }

    /// Reserve room for a message of `len` bytes: returns where to write it.
    pub fn reserve(&mut self, len: usize, timeout_ms: i64, op: &str) -> Result<*mut u8> {
        self.check(Role::Producer, op)?;
        let len = len as u64;
        let rec = self.make_room(len, timeout_ms, op)?;
        self.pending = Pending::Reserved { rec, len };
        Ok(self.payload(rec))
    }

    #[cold]
    fn too_big(&self, len: u64) -> Error {
        Error::new(
            Status::IPCX_ERR_TOO_BIG,
            format!(
                "{}: a message of {len} bytes is larger than the ring's maximum of {} bytes \
                 (ipcx_options_set_max_message at creation; at most capacity/2 - 16)",
                self.what, self.g.max_message
            ),
        )
    }

    /// Publish the reserved message with its final length (`used <= reserved`).
    pub fn commit(&mut self, used: usize, op: &str) -> Result<()> {
        self.check(Role::Producer, op)?;
        let Pending::Reserved { rec, len } = self.pending else {
            return Err(Error::invalid(format!(
                "{}: {op}: there is no reservation to commit",
                self.what
            )));
        };
        let used = used as u64;
        if used > len {
            return Err(Error::invalid(format!(
                "{}: {op}: length {used} is larger than the {len} bytes reserved",
                self.what
            )));
        }
        self.pending = Pending::None;
        self.publish(rec, used);
        Ok(())
    }

    /// Drop the reservation: nothing is published.
    pub fn abort(&mut self, op: &str) -> Result<()> {
        self.check(Role::Producer, op)?;
        if !matches!(self.pending, Pending::Reserved { .. }) {
            return Err(Error::invalid(format!(
                "{}: {op}: there is no reservation to abort",
                self.what
            )));
        }
        self.pending = Pending::None;
        self.unlock();
        Ok(())
    }

    /// Copy `msg` into the ring as one message (reserve, copy, publish in one call).
    #[inline]
    pub fn send(&mut self, msg: &[u8], timeout_ms: i64, op: &str) -> Result<()> {
        self.check(Role::Producer, op)?;
        let rec = self.make_room(msg.len() as u64, timeout_ms, op)?;
        // SAFETY: the room holds msg.len() bytes; msg is a distinct caller buffer.
        unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), self.payload(rec), msg.len()) };
        self.publish(rec, msg.len() as u64);
        Ok(())
    }

    /// Wake sleeping consumers and notify armed pollers (at most once per announcement).
    #[cold]
    fn notify_consumers(&mut self, v: u32) {
        let w = &self.h().data_wait.0;
        let bits = wait::claim_wake(&w.word, v);
        if bits & wait::POLL_ARMED != 0 {
            self.notify_pollers(Role::Consumer);
        }
    }

    /// Send one datagram to each armed poller of `side` (consumers: data; producers:
    /// room).
    fn notify_pollers(&mut self, side: Role) {
        let w = match side {
            Role::Consumer => &self.h().data_wait.0,
            Role::Producer => &self.h().space_wait.0,
        };
        let mut mask = w.poll_armed.swap(0, Ordering::AcqRel);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            poll::notify(&mut self.notify_sock, self.nonce, i);
        }
    }

    /// Wait until `used` bytes (+ slack) are free after the tail.
    fn wait_space(&mut self, used: u64, tmo: &mut Tmo, op: &str) -> Result<()> {
        fn fits(r: &mut Ring, used: u64) -> Result<bool> {
            let head = r.h().cons.0.pos.load(Ordering::Acquire);
            let inuse = check_used(r.pos, head, &r.g)?;
            r.cached = head;
            Ok(inuse + used + SLACK <= r.g.capacity)
        }
        if fits(self, used)? {
            return Ok(());
        }
        let what = wait::What {
            op,
            doing: "waiting for room",
        };
        if tmo.nowait() {
            if self.other_gone(true) {
                return Err(self.gone_error());
            }
            if self.poll.is_some() {
                self.room_want = used;
                self.arm();
            }
            return Err(wait::named(wait::would_block(&what), &self.what));
        }
        let dl = tmo.deadline()?;
        let r = self.wait_for(&dl, &what, |r| fits(r, used));
        if r.as_ref().is_err_and(|e| e.is_timeout()) && self.poll.is_some() {
            self.room_want = used;
            self.arm();
        }
        r
    }

    /// Whether a record of `used` bytes fits after the tail now (a peek for the poll
    /// descriptor; an inconsistent index counts as "go and look": the send reports it).
    fn has_room(&self, used: u64) -> bool {
        let tail = if self.g.mpmc && !self.locked {
            self.h().prod.0.pos.load(Ordering::Acquire)
        } else {
            self.pos
        };
        let head = self.h().cons.0.pos.load(Ordering::Acquire);
        match check_used(tail, head, &self.g) {
            Ok(inuse) => inuse + used + SLACK <= self.g.capacity,
            Err(_) => true,
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

    /// The next message at the head, waiting if needed (MPMC: takes the consumers' lock,
    /// held on success): (data offset of the record, length, record size).
    #[inline(always)]
    fn next_message(&mut self, timeout_ms: i64, op: &str) -> Result<(u64, usize, u64)> {
        if self.pending != Pending::None {
            return Err(self.outstanding(op));
        }
        let mut tmo = Tmo::new(timeout_ms)?;
        if self.g.mpmc {
            self.lock_side(&mut tmo, op)?;
        }
        loop {
            let pos = self.pos & self.g.mask;
            let w = self.word(pos).load(Ordering::Acquire);
            match decode(w, pos, &self.g) {
                Ok(Rec::Msg { len, size }) => return Ok((pos, len as usize, size)),
                Ok(Rec::Pad { size }) => {
                    self.pos = self.pos.wrapping_add(size);
                    self.h().cons.0.pos.store(self.pos, Ordering::Release);
                }
                Ok(Rec::Empty) => {
                    if let Err(e) = self.wait_data(&mut tmo, op) {
                        self.unlock();
                        return Err(self.fail(e));
                    }
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Consume the `size`-byte record at the head: publish the head, wake a producer if
    /// one sleeps.
    #[inline(always)]
    fn consume(&mut self, size: u64) {
        self.pos = self.pos.wrapping_add(size);
        self.h().cons.0.pos.store(self.pos, Ordering::Release);
        if self.locked {
            self.unlock();
        }
        if let Some(v) = wait::after_publish(&self.space_wait()) {
            self.notify_producers(v);
        }
    }

    /// Wake sleeping producers and notify armed producer pollers (at most once per
    /// announcement).
    #[cold]
    fn notify_producers(&mut self, v: u32) {
        let bits = wait::claim_wake(&self.h().space_wait.0.word, v);
        if bits & wait::POLL_ARMED != 0 {
            self.notify_pollers(Role::Producer);
        }
    }

    /// Borrow the next message in place: (pointer, length). Valid until `release`.
    pub fn borrow(&mut self, timeout_ms: i64, op: &str) -> Result<(*const u8, usize)> {
        self.check(Role::Consumer, op)?;
        let (rec, len, size) = self.next_message(timeout_ms, op)?;
        self.pending = Pending::Borrowed { size };
        Ok((self.payload(rec), len))
    }

    /// Release the borrowed message: its space goes back to the producers.
    pub fn release(&mut self, op: &str) -> Result<()> {
        self.check(Role::Consumer, op)?;
        let Pending::Borrowed { size } = self.pending else {
            return Err(Error::invalid(format!(
                "{}: {op}: there is no borrowed message to release",
                self.what
            )));
        };
        self.pending = Pending::None;
        self.consume(size);
        Ok(())
    }

    /// Copy the next message into `out`; returns its length. A message larger than `out`
    /// stays queued (`IPCX_ERR_TOO_BIG` with the size needed).
    #[inline]
    pub fn recv(&mut self, out: &mut [u8], timeout_ms: i64, op: &str) -> Result<usize> {
        self.check(Role::Consumer, op)?;
        let (rec, len, size) = self.next_message(timeout_ms, op)?;
        if len > out.len() {
            self.unlock();
            return Err(self.too_small(len, out.len()));
        }
        // SAFETY: the payload is inside the data area; out is a distinct caller buffer.
        unsafe { std::ptr::copy_nonoverlapping(self.payload(rec), out.as_mut_ptr(), len) };
        self.consume(size);
        Ok(len)
    }

    #[cold]
    fn too_small(&self, len: usize, have: usize) -> Error {
        Error::too_big(
            len,
            format!(
                "{}: the next message has {len} bytes, the buffer {have} (it stays queued)",
                self.what
            ),
        )
    }

    /// Whether a record is published at the consumers' head (a peek: MPMC reads the
    /// shared head without the lock, masked and aligned so it is always in bounds).
    fn nonempty(&self) -> bool {
        let head = if self.g.mpmc && !self.locked {
            self.h().cons.0.pos.load(Ordering::Acquire)
        } else {
            self.pos
        };
        self.word(head & self.g.mask & !7).load(Ordering::Acquire) != 0
    }

    /// Wait until a record is published at the head.
    fn wait_data(&mut self, tmo: &mut Tmo, op: &str) -> Result<()> {
        let what = wait::What {
            op,
            doing: "waiting for a message",
        };
        if tmo.nowait() {
            if self.other_gone(true) && !self.nonempty() {
                return Err(self.gone_error());
            }
            if self.poll.is_some() {
                self.arm();
            }
            return Err(wait::named(wait::would_block(&what), &self.what));
        }
        if self.other_gone(false) && !self.nonempty() {
            return Err(self.gone_error());
        }
        let dl = tmo.deadline()?;
        let r = self.wait_for(&dl, &what, |r| Ok(r.nonempty()));
        if r.as_ref().is_err_and(|e| e.is_timeout()) && self.poll.is_some() {
            self.arm();
        }
        r
    }

    /// The poll descriptor (see `poll.rs`): a consumer's is readable when a message may be
    /// there, a producer's when room may be.
    pub fn poll_fd(&mut self, op: &str) -> Result<RawFd> {
        let role = self.role;
        self.check(role, op)?;
        self.check_object()?;
        if self.poll.is_none() {
            self.poll = Some(poll::Poll::new(self.nonce, self.slot)?);
            let ww = match role {
                Role::Consumer => self.data_wait(),
                Role::Producer => self.space_wait(),
            };
            self.sleeper.request_fence(&ww, self.slot);
        }
        self.arm();
        Ok(self.poll.as_ref().map_or(-1, |p| p.fd()))
    }

    /// Arm the poll descriptor: drain it, watch the other side, announce, re-check.
    fn arm(&mut self) {
        let c = self.h().peers.0.change_seq.load(Ordering::Acquire);
        let other = self.role.other();
        let mut pids = self.peers().pids(other, self.slot);
        let mut user = 0;
        if !self.g.mpmc {
            // The process that uses the other end (after fork, not the one that attached
            // it).
            let side = match other {
                Role::Producer => &self.h().prod.0,
                Role::Consumer => &self.h().cons.0,
            };
            user = side.user.load(Ordering::Acquire);
            if user != 0 {
                pids = vec![user];
            }
        }
        let Some(p) = self.poll.as_mut() else { return };
        p.drain();
        if c != p.seen_change || user != p.seen_user {
            p.watch(&pids);
            p.seen_change = c;
            p.seen_user = user;
        }
        self.own_wait()
            .poll_armed
            .fetch_or(1 << self.slot, Ordering::SeqCst);
        let ww = match self.role {
            Role::Consumer => self.data_wait(),
            Role::Producer => self.space_wait(),
        };
        let spin = self.spin_ns;
        self.sleeper
            .announce(&ww, self.slot, wait::POLL_ARMED, spin);
        let ready = match self.role {
            Role::Consumer => self.nonempty(),
            Role::Producer => self.has_room(self.room_want),
        };
        if ready || self.other_gone(true) {
            if let Some(p) = &self.poll {
                p.wake_self();
            }
        }
    }

    // -------------------------------------------------------------- introspection

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

/// Fill a fresh header (the object is exclusively ours: just created, or being
/// re-initialised under the open lock with nobody attached).
fn init_header(r: &Region, g: &Geometry) {
    // SAFETY: the header area and the first data word are inside the mapping; nobody
    // else uses them now.
    unsafe {
        std::ptr::write_bytes(r.base(), 0, DATA_OFFSET + 8);
    }
    // SAFETY: the region holds a header.
    let h = unsafe { &*(r.base() as *const Header) };
    let id = &h.ident.0;
    id.state.store(STATE_INITIALISING, Ordering::Release);
    id.magic.store(MAGIC, Ordering::Release);
    id.version.store(VERSION, Ordering::Relaxed);
    id.flags.store(
        if g.mpmc { layout::FLAG_MPMC } else { 0 },
        Ordering::Relaxed,
    );
    id.data_offset.store(DATA_OFFSET as u32, Ordering::Relaxed);
    id.capacity.store(g.capacity, Ordering::Relaxed);
    id.max_message.store(g.max_message, Ordering::Relaxed);
    let mut nonce = 0u64;
    // SAFETY: 8 writable bytes.
    unsafe { libc::getrandom((&mut nonce as *mut u64).cast(), 8, 0) };
    if nonce == 0 {
        nonce = Instant::now().elapsed().as_nanos() as u64 ^ std::process::id() as u64;
    }
    id.nonce.store(nonce, Ordering::Relaxed);
    // SAFETY: getpid cannot fail.
    id.creator_pid
        .store(unsafe { libc::getpid() } as u32, Ordering::Relaxed);
    id.creator_start
        .store(crate::provenance::own_start(), Ordering::Relaxed);
    id.state.store(STATE_READY, Ordering::Release);
}

/// Attach to an existing named ring (the open lock is held). `Ok(None)`: the object is
/// still empty (being created).
#[allow(clippy::too_many_arguments)]
fn attach_existing(
    fd: OwnedFd,
    name: &str,
    role: Role,
    opts: &Options,
    flags: u32,
    want: &Geometry,
    what: &str,
    spin: u64,
) -> Result<Option<Ring>> {
    let size = object_size(fd.as_fd(), what)?;
    if size == 0 {
        return Ok(None);
    }
    let not_ring = |why: &str| {
        Err(Error::new(
            Status::IPCX_ERR_EXISTS,
            format!("{what} exists but is not an ipcx ring ({why}); it is left untouched"),
        ))
    };
    if !(DATA_OFFSET + layout::MIN_CAPACITY..=DATA_OFFSET + layout::MAX_CAPACITY).contains(&size) {
        return not_ring(&format!("size {size}"));
    }
    let region = map_named(fd.as_fd(), size, name)?;
    // SAFETY: the region holds at least a header.
    let h = unsafe { &*(region.base() as *const Header) };
    if h.ident.0.magic.load(Ordering::Acquire) != MAGIC {
        return not_ring("bad magic");
    }
    let version = h.ident.0.version.load(Ordering::Acquire);
    if version != VERSION {
        return Err(Error::unsupported(format!(
            "{what} has ring layout version {version}; this ipcx understands {VERSION}"
        )));
    }
    let state = h.ident.0.state.load(Ordering::Acquire);
    let geometry = if state == STATE_READY {
        Geometry::read(&h.ident.0, size)
    } else {
        Err(Error::protocol("its creator died while initialising it"))
    };
    let g = match geometry {
        Ok(g) => g,
        Err(e) => {
            // Ours (the magic says so) but unusable: re-initialise it if nobody is
            // attached, never under a live user.
            if (Peers { hdr: h }).anyone_alive(fd.as_fd(), usize::MAX) {
                return Err(e.context(what));
            }
            drop(region);
            let g = *want;
            shm::set_size(fd.as_fd(), g.region_len(), what, "/dev/shm")?;
            let r = map_named(fd.as_fd(), g.region_len(), name)?;
            init_header(&r, &g);
            let mut ring = Ring::new(r, fd, role, g, what.to_string(), spin, true)?;
            ring.claim_use()?;
            return Ok(Some(ring));
        }
    };
    // Options the caller set explicitly must match the existing ring.
    let mismatch = |o: &str, have: u64, asked: u64| {
        Err(Error::invalid(format!(
            "{what} exists with {o} {have}, the options ask for {asked} (remove it to \
             re-create it)"
        )))
    };
    if opts.capacity.is_some() && want.capacity != g.capacity {
        return mismatch("capacity", g.capacity, want.capacity);
    }
    if opts.max_message.is_some() && want.max_message != g.max_message {
        return mismatch("max_message", g.max_message, want.max_message);
    }
    if flags & MPMC != 0 && !g.mpmc {
        return Err(Error::invalid(format!(
            "{what} exists as a single-producer/single-consumer ring, IPCX_RING_MPMC was asked"
        )));
    }
    let mut ring = Ring::new(region, fd, role, g, what.to_string(), spin, true)?;
    ring.claim_use()?;
    Ok(Some(ring))
}

/// Remove the named ring. Only an ipcx ring is ever removed: checked by its magic, or,
/// for an object too damaged to carry one (truncated by a peer), by the provenance record
/// of the ring ipcx created under that name, which must name this very inode.
pub fn unlink(name: &str) -> Result<()> {
    let c = check_name(name)?;
    let fd = open_object(name, &c)?;
    flock(fd.as_fd(), libc::LOCK_EX)?;
    let what = format!("ring {name:?}");
    // Read the magic with pread rather than through a mapping: the object may be shrunk
    // by someone else at any moment, and a read past its end only returns less.
    let mut magic = [0u8; 8];
    // SAFETY: reads at most 8 bytes into a local buffer.
    let n = unsafe { libc::pread(fd.as_raw_fd(), magic.as_mut_ptr().cast(), 8, 0) };
    if n < 0 {
        return Err(Error::last_os(format_args!("pread({what})")));
    }
    let size = object_size(fd.as_fd(), &what)?;
    let damaged = if n != 8 || size < DATA_OFFSET {
        Some(format!("size {size}"))
    } else if u64::from_le_bytes(magic) != MAGIC {
        Some("bad magic".to_string())
    } else {
        None
    };
    if let Some(why) = damaged {
        if !crate::provenance::proves_named(crate::provenance::ObjKind::Ring, name, fd.as_fd()) {
            return Err(Error::invalid(format!(
                "{what} is not an ipcx ring ({why}) and no provenance record shows that ipcx \
                 created it; not removed"
            )));
        }
    }
    // SAFETY: a valid C string.
    if unsafe { libc::shm_unlink(c.as_ptr()) } < 0 {
        return Err(Error::last_os(format_args!("shm_unlink({name:?})")));
    }
    crate::provenance::removed_named(crate::provenance::ObjKind::Ring, name);
    Ok(())
}

// ------------------------------------------------------------------ the shared object

/// Check a ring name (a POSIX shared-memory name of at most [`NAME_MAX`] bytes) and make
/// its C string.
pub(crate) fn check_name(name: &str) -> Result<CString> {
    crate::name::posix_name(name, NAME_MAX)?;
    CString::new(name).map_err(|_| Error::invalid(format!("name {name:?} contains a NUL byte")))
}

/// Create the POSIX shared-memory object `name` exclusively, with exactly `mode`
/// (`IPCX_ERR_EXISTS` if it exists). It is recorded (provenance) as a ring by the caller,
/// once initialised.
fn create_object(name: &str, c: &CStr, mode: u32) -> Result<OwnedFd> {
    let what = format!("ring {name:?}");
    let (fd, _) = shm::open_exact(
        &what,
        shm::CREATE | shm::EXCLUSIVE,
        mode,
        libc::O_RDWR | libc::O_CLOEXEC,
        // SAFETY: a valid C string.
        |of, mode| shm::owned(unsafe { libc::shm_open(c.as_ptr(), of, mode as libc::mode_t) }),
        // SAFETY: a valid C string; this call created the object a moment ago.
        || unsafe {
            libc::shm_unlink(c.as_ptr());
        },
    )?;
    Ok(fd)
}

/// Remove the object this process just created and failed to initialise.
fn discard_object(c: &CStr) {
    // SAFETY: a valid C string.
    unsafe { libc::shm_unlink(c.as_ptr()) };
}

/// Open the existing POSIX shared-memory object `name` read-write.
fn open_object(name: &str, c: &CStr) -> Result<OwnedFd> {
    let what = format!("ring {name:?}");
    let (fd, _) = shm::open_exact(
        &what,
        0,
        0,
        libc::O_RDWR | libc::O_CLOEXEC,
        // SAFETY: a valid C string.
        |of, mode| shm::owned(unsafe { libc::shm_open(c.as_ptr(), of, mode as libc::mode_t) }),
        || {},
    )?;
    Ok(fd)
}

fn object_size(fd: std::os::fd::BorrowedFd<'_>, what: &str) -> Result<usize> {
    Ok(shm::fstat(fd, what)?.st_size as usize)
}

/// The object's size when it no longer covers a ring of geometry `g` (a named ring's
/// object truncated by someone), else None. A failing fstat says nothing.
fn object_shrunk(fd: std::os::fd::BorrowedFd<'_>, g: &Geometry) -> Option<u64> {
    // SAFETY: a zeroed stat buffer and a live descriptor.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { crate::sys::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return None;
    }
    let size = st.st_size.max(0) as u64;
    (size < g.region_len() as u64).then_some(size)
}

/// The memory of an anonymous ring: a memfd of `len` bytes (allocated now), sealed so
/// that nobody can change its size: a process holding the descriptor (a forked child,
/// or anyone who opens /proc/PID/fd/N) that shrank it would make every access past the
/// new end raise SIGBUS in both ends. `F_SEAL_GROW` too (a ring never grows), and
/// `F_SEAL_SEAL` so that the seals cannot be changed.
fn sealed_memfd(len: usize, what: &str) -> Result<OwnedFd> {
    // SAFETY: a valid C string.
    let fd = shm::owned(unsafe {
        libc::memfd_create(
            c"ipcx-ring".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    })
    .map_err(|e| crate::fd::new_fd_error(e, "memfd_create(\"ipcx-ring\")"))?;
    shm::set_size(fd.as_fd(), len, what, "memory (memfd)")?;
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
    // SAFETY: fcntl on a descriptor we own.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(Error::last_os(format_args!(
            "fcntl(F_ADD_SEALS) on the memfd of an {what}"
        )));
    }
    Ok(fd)
}

/// Map `len` bytes of a named ring's object, read-write.
fn map_named(fd: std::os::fd::BorrowedFd<'_>, len: usize, name: &str) -> Result<Region> {
    map_apart(fd, len, Kind::Posix, name)
}

/// Map `len` bytes of the ring's object through an open file description of its own, not
/// `fd`'s. A mapping keeps the description it was made from alive until it is unmapped,
/// and `fd`'s description holds the attachment's liveness lock: mapped from it, the lock
/// would outlive the close of the handle's descriptor until the mapping goes, after the
/// close has told the peers to look (`Drop`), and a peer woken by that (a poll
/// descriptor's datagram) would find the closed end still alive and wait for a wake-up
/// that never comes. Without /proc (no second description), `fd` itself.
fn map_apart(
    fd: std::os::fd::BorrowedFd<'_>,
    len: usize,
    kind: Kind,
    what: &str,
) -> Result<Region> {
    match shm::reopen(fd, what) {
        Ok(own) => shm::map_fd(own.as_fd(), len, true, kind, what),
        Err(_) => shm::map_fd(fd, len, true, kind, what),
    }
}

/// flock(fd, LOCK_EX / LOCK_UN), retrying EINTR: the open/recovery lock of a named ring
/// (released by the kernel if its holder dies).
fn flock(fd: std::os::fd::BorrowedFd<'_>, op: libc::c_int) -> Result<()> {
    loop {
        // SAFETY: valid descriptor.
        if unsafe { libc::flock(fd.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = nix::errno::Errno::last();
        if e != nix::errno::Errno::EINTR {
            return Err(Error::os(e, "flock(ring)"));
        }
    }
}

#[cfg(test)]
mod tests;
