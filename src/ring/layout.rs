// SPDX-License-Identifier: MIT OR Apache-2.0
//! The shared-memory layout of a ring, and the checks that make it safe to read.
//!
//! ```text
//! offset 0      header (HEADER_SIZE bytes, one cache line per writer):
//!   Ident       magic, version, state, flags, capacity, max message, nonce, creator
//!   prod        tail (producers' reservation index), producer lock, SPSC user
//!   cons        head (consumers' release index), consumer lock, SPSC user
//!   data_wait   futex word consumers sleep on (producers wake), fence slots, poll mask
//!   space_wait  futex word producers sleep on (consumers wake), fence slots
//!   peers       attach counters, membership sequence
//!   slots[64]   one per attachment: owner word (state, role, generation, pid)
//! DATA_OFFSET   data area: `capacity` bytes (a power of two) of records
//! ```
//!
//! A record is an 8-byte header `[u32 len | u32 kind]` (one 64-bit word, written last with
//! release ordering: that store publishes the record) followed by the payload, padded to
//! 8 bytes. Records never wrap: when a record does not fit before the end, a PAD record
//! covers the rest and the message starts at offset 0, so every message is contiguous.
//! Before publishing a record, the producer zeroes the header word that follows it ("zero
//! ahead"): the consumer finds either 0 (nothing yet) or a record the producer published on
//! this lap, never a stale header of an earlier lap. This needs 8 bytes of slack: a
//! producer never fills the last 8 free bytes.
//!
//! Indices (`tail`, `head`) count bytes since creation (u64, never wrap in practice); the
//! position in the data area is `index & (capacity - 1)`. Advancing an index wraps modulo
//! 2^64 (`wrapping_add`): an index a hostile peer set near the top then comes out below
//! the other one, which [`check_used`] refuses, instead of overflowing.
//!
//! Everything here treats the region as hostile: the geometry is read once at open and
//! kept in the handle ([`Geometry`]); every header word and index read from the region is
//! read once into a local and checked ([`decode`], [`check_used`]) before it is used to
//! compute an address.

use std::sync::atomic::{AtomicU32, AtomicU64};

use crate::error::{Error, Result};

/// "IPCXRNG" + layout generation, little-endian.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"IPCXRNG1");
/// Layout version.
pub(crate) const VERSION: u32 = 1;
/// Ident.state: the creator is filling the header.
pub(crate) const STATE_INITIALISING: u32 = 1;
/// Ident.state: usable.
pub(crate) const STATE_READY: u32 = 2;
/// Ident.flags: multi-producer / multi-consumer.
pub(crate) const FLAG_MPMC: u32 = 1;

/// Attachment slots (producers and consumers together).
pub(crate) const SLOTS: usize = 64;
/// Where the data area starts (page aligned).
pub(crate) const DATA_OFFSET: usize = 8192;
/// Smallest and largest data area, and the default.
pub(crate) const MIN_CAPACITY: usize = 4096;
pub(crate) const MAX_CAPACITY: usize = 1 << 30;
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 20;

/// Record header size, and the slack the producer keeps free (zero ahead).
pub(crate) const REC_HDR: u64 = 8;
pub(crate) const SLACK: u64 = 8;

/// Record kinds (high half of the header word). Distinctive values, so that garbage is
/// recognised as such rather than taken for a record.
pub(crate) const KIND_MSG: u32 = 0x4d53_4701;
pub(crate) const KIND_PAD: u32 = 0x5041_4402;

/// The largest message a ring of `capacity` bytes accepts: any record of at most half the
/// capacity can always be placed, wherever the indices stand (either it fits before the
/// end, or after a pad record).
pub(crate) fn max_message_for(capacity: usize) -> usize {
    capacity / 2 - (REC_HDR + SLACK) as usize
}

/// Bytes a record with `len` payload bytes occupies.
#[inline(always)]
pub(crate) fn record_size(len: u64) -> u64 {
    REC_HDR + ((len + 7) & !7)
}

/// A 64-byte line, so that writers of different fields never share a cache line.
#[repr(C, align(64))]
pub(crate) struct Line<T>(pub T);

/// Written once by the creator, read once by each opener.
#[repr(C)]
pub(crate) struct Ident {
    pub magic: AtomicU64,
    pub version: AtomicU32,
    pub state: AtomicU32,
    pub flags: AtomicU32,
    pub data_offset: AtomicU32,
    pub capacity: AtomicU64,
    pub max_message: AtomicU64,
    /// Random, names the poll sockets of this ring.
    pub nonce: AtomicU64,
    pub creator_pid: AtomicU32,
    pub _reserved: AtomicU32,
    /// Creator start time (clock ticks since boot, /proc/<pid>/stat field 22), diagnostics.
    pub creator_start: AtomicU64,
}

/// One side's index and lock.
#[repr(C)]
pub(crate) struct Side {
    /// Producers: tail (end of the published chain). Consumers: head (released up to).
    pub pos: AtomicU64,
    /// MPMC side lock: 0 free, else the holder's token ([`token`]) | LOCK_WAITERS.
    pub lock: AtomicU32,
    /// SPSC: pid of the process using the side's handle (0: none yet).
    pub user: AtomicU32,
}

/// A futex word with its companions.
#[repr(C)]
pub(crate) struct Wait {
    /// NEED_WAKE | POLL_ARMED | sequence (see `wait.rs`).
    pub word: AtomicU32,
    pub _reserved: AtomicU32,
    /// Slots that asked the other side to fence after publishing (see `wait.rs`).
    pub fence_slots: AtomicU64,
    /// Slots whose poll descriptor is armed: consumers on data_wait, producers on
    /// space_wait.
    pub poll_armed: AtomicU64,
}

/// Membership.
#[repr(C)]
pub(crate) struct Peers {
    /// Attachments ever made, per role (producers, consumers).
    pub attaches: [AtomicU32; 2],
    /// Bumped whenever an attachment ends or starts: peers re-check liveness.
    pub change_seq: AtomicU32,
}

/// One attachment.
#[repr(C)]
pub(crate) struct Slot {
    /// state (2 bits) | role (2) | generation (28) | pid (32); see `peers.rs`.
    pub owner: AtomicU64,
}

/// The whole header.
#[repr(C)]
pub(crate) struct Header {
    pub ident: Line<Ident>,
    pub prod: Line<Side>,
    pub cons: Line<Side>,
    pub data_wait: Line<Wait>,
    pub space_wait: Line<Wait>,
    pub peers: Line<Peers>,
    pub slots: [Line<Slot>; SLOTS],
}

const _: () = assert!(std::mem::size_of::<Header>() <= DATA_OFFSET);
const _: () = assert!(std::mem::size_of::<Ident>() <= 64);

/// The geometry of a ring, validated once at open and kept in the handle: later changes
/// to the shared header are never looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub capacity: u64,
    pub mask: u64,
    pub max_message: u64,
    pub mpmc: bool,
}

impl Geometry {
    /// Validate the geometry a creator asks for.
    pub fn new(capacity: usize, max_message: Option<usize>, mpmc: bool) -> Result<Geometry> {
        if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) {
            return Err(Error::invalid(format!(
                "ring capacity {capacity} is out of range ({MIN_CAPACITY}..={MAX_CAPACITY} bytes)"
            )));
        }
        let capacity = capacity.next_power_of_two();
        let limit = max_message_for(capacity);
        let max = max_message.unwrap_or(limit);
        if max > limit {
            return Err(Error::invalid(format!(
                "max_message {max} is too large for a ring of {capacity} bytes (at most \
                 capacity/2 - 16 = {limit}; raise the capacity)"
            )));
        }
        Ok(Geometry {
            capacity: capacity as u64,
            mask: capacity as u64 - 1,
            max_message: max as u64,
            mpmc,
        })
    }

    /// Read and check the geometry of an existing ring mapped over `region_len` bytes.
    pub fn read(ident: &Ident, region_len: usize) -> Result<Geometry> {
        use std::sync::atomic::Ordering::Acquire;
        let bad = |why: String| Err(Error::protocol(format!("corrupted ring header: {why}")));
        let cap = ident.capacity.load(Acquire);
        let max = ident.max_message.load(Acquire);
        let flags = ident.flags.load(Acquire);
        let off = ident.data_offset.load(Acquire);
        if off as usize != DATA_OFFSET {
            return bad(format!("data offset {off}, expected {DATA_OFFSET}"));
        }
        if !cap.is_power_of_two() || !(MIN_CAPACITY as u64..=MAX_CAPACITY as u64).contains(&cap) {
            return bad(format!("capacity {cap} is not a power of two in range"));
        }
        if (DATA_OFFSET as u64 + cap) > region_len as u64 {
            return bad(format!(
                "capacity {cap} does not fit the {region_len}-byte region"
            ));
        }
        if max > max_message_for(cap as usize) as u64 {
            return bad(format!("max message {max} exceeds capacity/2 - 16"));
        }
        if flags & !FLAG_MPMC != 0 {
            return bad(format!("unknown flags {flags:#x}"));
        }
        Ok(Geometry {
            capacity: cap,
            mask: cap - 1,
            max_message: max,
            mpmc: flags & FLAG_MPMC != 0,
        })
    }

    /// Total mapping size.
    pub fn region_len(&self) -> usize {
        DATA_OFFSET + self.capacity as usize
    }
}

/// What a header word at a position says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rec {
    /// Nothing published yet.
    Empty,
    /// A message of `len` bytes; the record occupies `size` bytes.
    Msg { len: u64, size: u64 },
    /// Padding to the end of the data area (`size` bytes).
    Pad { size: u64 },
}

/// Encode a header word.
#[inline(always)]
pub(crate) fn msg_word(len: u64) -> u64 {
    (KIND_MSG as u64) << 32 | len
}

#[inline(always)]
pub(crate) fn pad_word(size: u64) -> u64 {
    (KIND_PAD as u64) << 32 | size
}

/// Decode a header word `w` read (once) at data position `pos` (< capacity, 8-aligned).
/// Every length is checked against the geometry: a record that would reach past the end
/// of the data area, a message above the maximum, a pad that does not end exactly at the
/// end, or an unknown kind is `IPCX_ERR_PROTOCOL`.
#[inline(always)]
pub(crate) fn decode(w: u64, pos: u64, g: &Geometry) -> Result<Rec> {
    if w == 0 {
        return Ok(Rec::Empty);
    }
    let kind = (w >> 32) as u32;
    let len = w & 0xffff_ffff;
    let room = g.capacity - pos;
    match kind {
        KIND_MSG if len <= g.max_message && record_size(len) <= room => Ok(Rec::Msg {
            len,
            size: record_size(len),
        }),
        KIND_PAD if len == room && pos != 0 => Ok(Rec::Pad { size: len }),
        _ => Err(corrupt_record(w, pos, g)),
    }
}

#[cold]
#[inline(never)]
fn corrupt_record(w: u64, pos: u64, g: &Geometry) -> Error {
    Error::protocol(format!(
        "corrupted ring: record header {w:#018x} at offset {pos} is invalid (capacity {}, \
         max message {}); the ring is no longer usable",
        g.capacity, g.max_message
    ))
}

/// Check a (tail, head) pair read from the region: 8-aligned, head <= tail (no wrap), and
/// tail - head <= capacity. Returns the bytes in use.
#[inline(always)]
pub(crate) fn check_used(tail: u64, head: u64, g: &Geometry) -> Result<u64> {
    // Indices count bytes since creation and never wrap (2^64 bytes), so head <= tail.
    let used = tail.wrapping_sub(head);
    if head > tail || used > g.capacity || (tail | head) & 7 != 0 {
        return Err(corrupt_indices(tail, head, g));
    }
    Ok(used)
}

#[cold]
#[inline(never)]
fn corrupt_indices(tail: u64, head: u64, g: &Geometry) -> Error {
    Error::protocol(format!(
        "corrupted ring: indices tail {tail} and head {head} are inconsistent with capacity {}; \
         the ring is no longer usable",
        g.capacity
    ))
}

/// Where a record of `size` bytes goes when the producer's index is `tail`: returns
/// (offset of the record, bytes consumed from the index including any pad).
#[inline(always)]
pub(crate) fn place(tail: u64, size: u64, g: &Geometry) -> (u64, u64) {
    let pos = tail & g.mask;
    let room = g.capacity - pos;
    if size <= room {
        (pos, size)
    } else {
        (0, room + size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Geometry {
        Geometry::new(4096, None, false).unwrap()
    }

    #[test]
    fn geometry_limits() {
        assert!(Geometry::new(0, None, false).is_err());
        assert!(Geometry::new(MAX_CAPACITY + 1, None, false).is_err());
        let g = Geometry::new(5000, None, false).unwrap();
        assert_eq!(g.capacity, 8192);
        assert_eq!(g.max_message, 8192 / 2 - 16);
        assert!(Geometry::new(4096, Some(4096), false).is_err());
        assert!(Geometry::new(4096, Some(2032), false).is_ok());
    }

    #[test]
    fn decode_accepts_valid_records() {
        let g = g();
        assert_eq!(decode(0, 0, &g).unwrap(), Rec::Empty);
        assert_eq!(
            decode(msg_word(64), 0, &g).unwrap(),
            Rec::Msg { len: 64, size: 72 }
        );
        assert_eq!(
            decode(msg_word(0), 4088, &g).unwrap(),
            Rec::Msg { len: 0, size: 8 }
        );
        assert_eq!(
            decode(pad_word(96), 4000, &g).unwrap(),
            Rec::Pad { size: 96 }
        );
    }

    #[test]
    fn decode_rejects_adversarial_headers() {
        let g = g();
        // Length past the end of the data area (would read out of bounds).
        assert!(decode(msg_word(100), 4000, &g).is_err());
        // Length above the maximum message, even where it would fit.
        assert!(decode(msg_word(g.max_message + 1), 0, &g).is_err());
        // Huge lengths (u32::MAX) and lengths that overflow when padded.
        assert!(decode(msg_word(0xffff_ffff), 0, &g).is_err());
        assert!(decode(msg_word(0xffff_fff9), 8, &g).is_err());
        // A pad that does not end exactly at the end, or a pad at offset 0.
        assert!(decode(pad_word(8), 4000, &g).is_err());
        assert!(decode(pad_word(4096), 0, &g).is_err());
        assert!(decode(pad_word(0), 4000, &g).is_err());
        // Unknown kinds, and torn words (one half of a valid word).
        assert!(decode(0xdead_beef_0000_0040, 0, &g).is_err());
        assert!(decode(KIND_MSG as u64, 0, &g).is_err());
        assert!(decode((KIND_MSG as u64) << 32 | 1 << 31, 0, &g).is_err());
        let e = decode(u64::MAX, 16, &g).unwrap_err();
        assert_eq!(e.status, crate::error::Status::IPCX_ERR_PROTOCOL);
        assert!(e.msg.contains("offset 16"), "{}", e.msg);
    }

    #[test]
    fn indices_checked() {
        let g = g();
        assert_eq!(check_used(4096, 0, &g).unwrap(), 4096);
        assert_eq!(check_used(u64::MAX - 7, u64::MAX - 7 - 64, &g).unwrap(), 64);
        // Wrapped (head ahead of tail), too far apart, misaligned.
        assert!(check_used(0, 8, &g).is_err());
        assert!(check_used(4104, 0, &g).is_err());
        assert!(check_used(13, 5, &g).is_err());
        assert!(check_used(16, 4, &g).is_err());
    }

    #[test]
    fn placement_never_wraps_a_record() {
        let g = g();
        assert_eq!(place(0, 72, &g), (0, 72));
        assert_eq!(place(4096 + 4024, 72, &g), (4024, 72));
        assert_eq!(place(4032, 72, &g), (0, 64 + 72));
        // Every record of at most max_message fits somewhere, wherever the index is.
        let size = record_size(g.max_message);
        for tail in (0..4096u64).step_by(8) {
            let (pos, used) = place(tail, size, &g);
            assert!(pos + size <= g.capacity);
            assert!(used + SLACK <= g.capacity, "tail {tail}: {used}");
        }
    }
}
