// SPDX-License-Identifier: MIT OR Apache-2.0
//! The ring's fuzz harness (`--cfg fuzzing` only; see docs/testing.md).
//!
//! A producer and a consumer share a real mapping (an anonymous ring, SPSC or MPMC, 4 or
//! 8 KiB). The input is a script of operations on both ends, interleaved with writes of a
//! hostile peer into the shared memory: any value into the indices, the record headers
//! (torn, wrapped, past the end, unknown kinds), the locks, the wait words, the
//! attachment slots and the geometry, followed by re-attaching an end (the open path
//! reads the geometry and walks the published records).
//!
//! Oracles:
//! - always: no panic (overflow checks and debug assertions are on: `Ring::word` asserts
//!   every record position is inside the data area and aligned), no allocation sized by
//!   the region, and every pointer or length handed out (`borrow`, `reserve`, `recv`) lies
//!   inside the data area and within the ring's maximum message; a protocol error is
//!   sticky; only documented statuses come back;
//! - while the peer is honest (no hostile write yet): the ring is a FIFO of the messages
//!   sent (exact bytes, order, `IPCX_ERR_TOO_BIG` with the size, empty means timeout), and
//!   an empty ring always takes a message of the maximum size.

use crate::time::ms;
use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use super::layout::{self, Header};
use super::{Ring, RingFlags, Role, attach_existing, shm};
use crate::error::{Error, Status};
use crate::fuzz::Input;
use crate::options::Options;

/// Statuses a ring operation may return under a hostile peer.
fn allowed(e: &Error) -> bool {
    matches!(
        e.status,
        Status::IPCX_ERR_TIMEOUT
            | Status::IPCX_ERR_TOO_BIG
            | Status::IPCX_ERR_PROTOCOL
            | Status::IPCX_ERR_CLOSED
            | Status::IPCX_ERR_IN_USE
            | Status::IPCX_ERR_LIMIT
            | Status::IPCX_ERR_UNSUPPORTED
            | Status::IPCX_ERR_INVALID
    )
}

struct Side {
    ring: Option<Ring>,
    /// The last error was a protocol error: the next call must return one too.
    broken: bool,
}

/// Check a result against the side's state; a protocol error makes the side broken.
fn check<T>(broken: &mut bool, r: &Result<T, Error>, what: &str) {
    {
        if *broken {
            let e = r
                .as_ref()
                .err()
                .unwrap_or_else(|| panic!("{what}: ok after corruption"));
            assert_eq!(
                e.status,
                Status::IPCX_ERR_PROTOCOL,
                "{what}: not sticky: {}",
                e.msg
            );
        }
        if let Err(e) = r {
            assert!(allowed(e), "{what}: unexpected {:?}: {}", e.status, e.msg);
            if e.status == Status::IPCX_ERR_PROTOCOL {
                *broken = true;
            }
        }
    }
}

/// The data area of a ring handle: (start, capacity).
fn area(r: &Ring) -> (usize, usize) {
    (r.data.as_ptr() as usize, r.g.capacity as usize)
}

fn inside(r: &Ring, p: *const u8, len: usize) {
    let (start, cap) = area(r);
    let p = p as usize;
    assert!(
        p >= start && p.checked_add(len).is_some_and(|end| end <= start + cap),
        "pointer {p:#x}+{len} outside the data area {start:#x}+{cap}"
    );
    assert!(
        len as u64 <= r.g.max_message,
        "length {len} above the maximum"
    );
}

fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| seed.wrapping_add((i * 7) as u8)).collect()
}

/// A hostile write of `v` into the word chosen by `sel`/`at`.
fn scribble(h: &Header, data: *mut u8, cap: usize, sel: u8, at: u16, v: u64) {
    let i = at as usize % layout::SLOTS;
    match sel % 24 {
        0..=5 => {
            // A record header word anywhere in the data area (8-aligned), or a torn half.
            let pos = (at as usize * 8) % cap;
            // SAFETY: pos + 8 <= cap, aligned; the mapping is live.
            let w = unsafe { &*(data.add(pos) as *const std::sync::atomic::AtomicU64) };
            match sel % 3 {
                0 => w.store(v, Ordering::Relaxed),
                1 => w.store(
                    (w.load(Ordering::Relaxed) & !0xffff_ffff) | (v & 0xffff_ffff),
                    Ordering::Relaxed,
                ),
                _ => w.store(
                    v << 32 | (w.load(Ordering::Relaxed) & 0xffff_ffff),
                    Ordering::Relaxed,
                ),
            }
        }
        6 => h.prod.0.pos.store(v, Ordering::Relaxed),
        7 => h.cons.0.pos.store(v, Ordering::Relaxed),
        8 => {
            // Indices moved by a small amount (the likely torn or stale values).
            let d = (v as i16) as i64 as u64;
            h.prod.0.pos.fetch_add(d, Ordering::Relaxed);
        }
        9 => {
            let d = (v as i16) as i64 as u64;
            h.cons.0.pos.fetch_add(d, Ordering::Relaxed);
        }
        10 => h.prod.0.lock.store(v as u32, Ordering::Relaxed),
        11 => h.cons.0.lock.store(v as u32, Ordering::Relaxed),
        12 => h.prod.0.user.store(v as u32, Ordering::Relaxed),
        13 => h.cons.0.user.store(v as u32, Ordering::Relaxed),
        14 => h.data_wait.0.word.store(v as u32, Ordering::Relaxed),
        15 => h.space_wait.0.word.store(v as u32, Ordering::Relaxed),
        16 => h.data_wait.0.fence_slots.store(v, Ordering::Relaxed),
        17 => h.data_wait.0.poll_armed.store(v, Ordering::Relaxed),
        18 => h.slots[i].0.owner.store(v, Ordering::Relaxed),
        19 => h.peers.0.change_seq.store(v as u32, Ordering::Relaxed),
        20 => h.peers.0.attaches[i & 1].store(v as u32, Ordering::Relaxed),
        21 => h.ident.0.capacity.store(v, Ordering::Relaxed),
        22 => h.ident.0.max_message.store(v, Ordering::Relaxed),
        _ => match at % 5 {
            0 => h.ident.0.flags.store(v as u32, Ordering::Relaxed),
            1 => h.ident.0.state.store(v as u32, Ordering::Relaxed),
            2 => h.ident.0.version.store(v as u32, Ordering::Relaxed),
            3 => h.ident.0.data_offset.store(v as u32, Ordering::Relaxed),
            _ => h.ident.0.magic.store(v, Ordering::Relaxed),
        },
    }
}

/// The fuzz entry point.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let mpmc = flags & 1 != 0;
    let cap = if flags & 2 != 0 { 8192 } else { 4096 };
    let opts = Options {
        capacity: Some(cap),
        spin_ns: Some(0),
        ..Options::default()
    };
    let rflags = RingFlags::NONE.with(RingFlags::MPMC, mpmc);
    let (p, c) = Ring::anonymous(&opts, rflags).expect("anonymous ring");
    let g = p.g;
    let max = g.max_message as usize;
    // The shared memory as the hostile peer sees it (stays mapped while either end is
    // open; ends are re-attached through a descriptor of the same object).
    let keep = shm::reopen(p.fd(), "ring").expect("reopen");
    let keep_map = shm::map_fd(
        keep.as_fd(),
        g.region_len(),
        true,
        crate::shm::region::Kind::Anonymous,
        "ring",
    )
    .expect("map");
    // SAFETY: the header lives in `keep_map`, which outlives every use below.
    let h: &Header = unsafe { &*(keep_map.base() as *const Header) };
    // SAFETY: same mapping (p's and keep_map are two views of one object).
    let data_view = unsafe { keep_map.base().add(layout::DATA_OFFSET) };

    let mut prod = Side {
        ring: Some(p),
        broken: false,
    };
    let mut cons = Side {
        ring: Some(c),
        broken: false,
    };
    let mut honest = true;
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    let mut buf = vec![0u8; cap];

    while !inp.is_empty() {
        let op = inp.u8();
        match op % 12 {
            0 | 1 => {
                // send
                let len = inp.u16() as usize % (max + 64);
                let msg = pattern(inp.u8(), len);
                let Some(r) = prod.ring.as_mut() else {
                    continue;
                };
                let res = r.send(&msg, ms(0), "send");
                check(&mut prod.broken, &res, "send");
                if honest {
                    match &res {
                        Ok(()) => model.push_back(msg),
                        Err(e) if len > max => assert_eq!(e.status, Status::IPCX_ERR_TOO_BIG),
                        Err(e) => {
                            assert!(e.is_timeout(), "send: {}", e.msg);
                            assert!(!model.is_empty(), "an empty ring refused {len} bytes");
                        }
                    }
                }
            }
            2 | 3 => {
                // recv
                let n = inp.u16() as usize % (cap + 1);
                let Some(r) = cons.ring.as_mut() else {
                    continue;
                };
                let res = r.recv(&mut buf[..n], ms(0), "recv");
                check(&mut cons.broken, &res, "recv");
                if let Ok(k) = res {
                    assert!(
                        k <= n && k <= max,
                        "recv returned {k} for a {n}-byte buffer"
                    );
                }
                if let Err(e) = &res {
                    if e.status == Status::IPCX_ERR_TOO_BIG {
                        assert!(e.needed > n && e.needed <= max, "needed {}", e.needed);
                    }
                }
                if honest {
                    match (&res, model.front()) {
                        (Ok(k), Some(m)) => {
                            assert_eq!(&buf[..*k], &m[..], "message bytes");
                            model.pop_front();
                        }
                        (Err(e), Some(m)) if m.len() > n => {
                            assert_eq!((e.status, e.needed), (Status::IPCX_ERR_TOO_BIG, m.len()))
                        }
                        (Err(e), None) => assert!(e.is_timeout(), "recv: {}", e.msg),
                        (r, m) => panic!(
                            "recv: {:?} with {:?} queued",
                            r.as_ref().map_err(|e| &e.msg),
                            m.map(|m| m.len())
                        ),
                    }
                }
            }
            4 => {
                // reserve, write, commit (a shorter length) or abort
                let len = inp.u16() as usize % (max + 64);
                let used = inp.u16() as usize % (len + 1);
                let commit = inp.u8() & 1 == 0;
                let seed = inp.u8();
                let Some(r) = prod.ring.as_mut() else {
                    continue;
                };
                let res = r.reserve(len, ms(0), "reserve");
                check(&mut prod.broken, &res, "reserve");
                let Ok(ptr) = res else {
                    if honest && len <= max {
                        assert!(!model.is_empty(), "an empty ring refused a reservation");
                    }
                    continue;
                };
                inside(r, ptr, len);
                let msg = pattern(seed, used);
                // SAFETY: the reservation holds len >= used bytes (checked above).
                unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), ptr, used) };
                if commit {
                    let res = r.commit(used, "commit");
                    check(&mut prod.broken, &res, "commit");
                    if honest {
                        res.expect("commit");
                        model.push_back(msg);
                    }
                } else {
                    let res = r.abort("abort");
                    check(&mut prod.broken, &res, "abort");
                }
            }
            5 => {
                // borrow, check in place, release
                let Some(r) = cons.ring.as_mut() else {
                    continue;
                };
                let res = r.borrow(ms(0), "borrow");
                check(&mut cons.broken, &res, "borrow");
                if let Ok((ptr, len)) = res {
                    inside(r, ptr, len);
                    // SAFETY: checked to be inside the data area.
                    let got = unsafe { std::slice::from_raw_parts(ptr, len) };
                    if honest {
                        assert_eq!(Some(got), model.front().map(|m| &m[..]), "borrowed bytes");
                        model.pop_front();
                    }
                    let res = r.release("release");
                    check(&mut cons.broken, &res, "release");
                } else if honest {
                    assert!(model.is_empty(), "borrow failed with messages queued");
                }
            }
            6..=8 => {
                // The hostile peer writes into the shared memory.
                let sel = inp.u8();
                let at = inp.u16();
                let v = match inp.u8() % 4 {
                    0 => inp.u64(),
                    1 => inp.u16() as u64,
                    2 => u64::MAX - inp.u8() as u64,
                    _ => (inp.u32() as u64) << 32 | inp.u16() as u64,
                };
                scribble(h, data_view, cap, sel, at, v);
                honest = false;
            }
            9 => {
                // An end is closed and attached again (the open path reads the header).
                let producer = inp.u8() & 1 == 0;
                let side = if producer { &mut prod } else { &mut cons };
                side.ring = None;
                side.broken = false;
                let role = if producer {
                    Role::Producer
                } else {
                    Role::Consumer
                };
                let fd = shm::reopen(keep.as_fd(), "ring").expect("reopen");
                let res = attach_existing(fd, "ring", role, &opts, mpmc, &g, "ring", 0);
                match res {
                    Ok(Some(r)) => {
                        assert!(
                            r.g.region_len() <= keep_map.len(),
                            "geometry beyond the object"
                        );
                        side.ring = Some(r);
                    }
                    Ok(None) => panic!("an object of {} bytes seen as empty", keep_map.len()),
                    Err(e) => assert!(allowed(&e), "attach: {:?}: {}", e.status, e.msg),
                }
                if honest {
                    assert!(side.ring.is_some(), "re-attach to an honest ring failed");
                }
            }
            10 => {
                // The poll descriptor (consumers): arming reads the slot table.
                let Some(r) = cons.ring.as_mut() else {
                    continue;
                };
                let res = r.poll_fd("poll_fd");
                if let Err(e) = &res {
                    assert!(
                        allowed(e) || e.status == Status::IPCX_ERR_SYSTEM,
                        "{}",
                        e.msg
                    );
                }
            }
            _ => {
                // The ring's own view of the other side's liveness.
                if let Some(r) = prod.ring.as_mut() {
                    r.other_gone(true);
                }
                if let Some(r) = cons.ring.as_mut() {
                    r.other_gone(true);
                }
            }
        }
    }
    // Closing with anything outstanding must not touch memory outside the mapping.
    drop(prod);
    drop(cons);
}
