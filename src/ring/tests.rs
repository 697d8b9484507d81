// SPDX-License-Identifier: MIT OR Apache-2.0
//! Unit tests of the ring core: the algorithm in one process, and adversarial shared
//! memory (every index and header a hostile peer could write).

use super::*;
use crate::error::Status;
use crate::time::ms;

fn opts(cap: usize) -> Options {
    Options {
        capacity: Some(cap),
        spin_ns: Some(0),
        ..Options::default()
    }
}

fn pair(cap: usize, flags: RingFlags) -> (Ring, Ring) {
    Ring::anonymous(&opts(cap), flags).unwrap()
}

fn pattern(seed: u32, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (seed.wrapping_mul(31) as usize + i * 7) as u8)
        .collect()
}

/// The inlined small-message copy: every length around its three cases, at unaligned
/// addresses, copies exactly `len` bytes and nothing around them.
#[test]
fn message_copy_of_every_small_length() {
    let src = pattern(7, 200);
    for len in 0..=130 {
        for (so, d_off) in [(0, 0), (1, 3), (5, 9)] {
            let mut dst = [0xeeu8; 200];
            // SAFETY: both ranges are inside their buffers, which are distinct.
            unsafe { copy_msg(src[so..].as_ptr(), dst[d_off..].as_mut_ptr(), len) };
            assert_eq!(&dst[d_off..d_off + len], &src[so..so + len], "len {len}");
            assert!(dst[..d_off].iter().all(|&b| b == 0xee), "len {len}: before");
            assert!(
                dst[d_off + len..].iter().all(|&b| b == 0xee),
                "len {len}: after"
            );
        }
    }
}

#[test]
fn messages_of_every_size_wrap_around_in_order() {
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    let max = c.info().1;
    let mut buf = vec![0u8; max];
    // Sizes chosen to hit every offset near the end (pads of every length).
    for round in 0..2000u32 {
        let seed = round;
        let n = ((round * 37) % 300) as usize + if round % 97 == 0 { max - 300 } else { 0 };
        let msg = pattern(seed, n);
        p.send(&msg, ms(0), "send").unwrap();
        let got = c.recv(&mut buf, ms(0), "recv").unwrap();
        assert_eq!(&buf[..got], &msg[..], "round {round}");
    }
    // Fill until full, then drain: nothing lost, order kept.
    let mut sent = 0u32;
    loop {
        match p.send(&sent.to_le_bytes(), ms(0), "send") {
            Ok(()) => sent += 1,
            Err(e) => {
                assert!(e.is_timeout(), "{e}");
                break;
            }
        }
    }
    assert!(sent >= 4096 / 16 - 2, "{sent}");
    for i in 0..sent {
        let n = c.recv(&mut buf, ms(0), "recv").unwrap();
        assert_eq!(&buf[..n], &i.to_le_bytes());
    }
    assert!(c.recv(&mut buf, ms(0), "recv").unwrap_err().is_timeout());
}

#[test]
fn zero_copy_reserve_commit_abort_borrow() {
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    let ptr = p.reserve(100, ms(0), "reserve").unwrap();
    assert_eq!(ptr as usize % 8, 0);
    // One reservation at a time.
    assert_eq!(
        p.reserve(1, ms(0), "reserve").unwrap_err().status,
        Status::IPCX_ERR_IN_USE
    );
    unsafe { std::ptr::copy_nonoverlapping(b"hello".as_ptr(), ptr, 5) };
    assert!(c.borrow(ms(0), "borrow").unwrap_err().is_timeout()); // not published yet
    assert_eq!(
        p.commit(101, "commit").unwrap_err().status,
        Status::IPCX_ERR_INVALID
    );
    p.commit(5, "commit").unwrap();
    let _ = p.reserve(50, ms(0), "reserve").unwrap();
    p.abort("abort").unwrap();
    assert_eq!(
        p.abort("abort").unwrap_err().status,
        Status::IPCX_ERR_INVALID
    );
    let (q, n) = c.borrow(ms(0), "borrow").unwrap();
    assert_eq!(unsafe { std::slice::from_raw_parts(q, n) }, b"hello");
    assert_eq!(
        c.borrow(ms(0), "borrow").unwrap_err().status,
        Status::IPCX_ERR_IN_USE
    );
    c.release("release").unwrap();
    assert!(c.borrow(ms(0), "borrow").unwrap_err().is_timeout()); // the aborted one is gone
    // A too-small buffer leaves the message queued.
    p.send(&[7u8; 40], ms(0), "send").unwrap();
    let e = c.recv(&mut [0u8; 10], ms(0), "recv").unwrap_err();
    assert_eq!((e.status, e.needed), (Status::IPCX_ERR_TOO_BIG, 40));
    assert_eq!(c.recv(&mut [0u8; 64], ms(0), "recv").unwrap(), 40);
    // Wrong roles.
    assert_eq!(
        c.send(b"x", ms(0), "send").unwrap_err().status,
        Status::IPCX_ERR_INVALID
    );
    assert_eq!(
        p.borrow(ms(0), "borrow").unwrap_err().status,
        Status::IPCX_ERR_INVALID
    );
    // Too big.
    let max = p.info().1;
    assert_eq!(
        p.send(&vec![0u8; max + 1], ms(0), "send")
            .unwrap_err()
            .status,
        Status::IPCX_ERR_TOO_BIG
    );
}

#[test]
fn closing_ends_is_reported_to_the_other_side() {
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    p.send(b"last", ms(0), "send").unwrap();
    drop(p);
    let mut b = [0u8; 16];
    assert_eq!(c.recv(&mut b, ms(0), "recv").unwrap(), 4); // drained first
    let e = c.recv(&mut b, ms(1000), "recv").unwrap_err();
    assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{e}");
    let (mut p, c) = pair(4096, RingFlags::NONE);
    drop(c);
    assert_eq!(
        p.send(b"x", ms(0), "send").unwrap_err().status,
        Status::IPCX_ERR_CLOSED
    );
}

/// Write a raw 64-bit word into the data area of a ring.
fn poke(r: &Ring, pos: u64, v: u64) {
    r.word(pos).store(v, Ordering::SeqCst);
}

#[test]
fn corrupted_record_headers_are_protocol_errors_and_sticky() {
    let bad_words = [
        msg_word(5000),                              // length past the end
        msg_word(0xffff_fff8),                       // overflowing length
        pad_word(16),                                // pad that does not reach the end
        0x1234_5678_9abc_def0,                       // unknown kind
        (layout::KIND_MSG as u64) << 32 | (1 << 31), // torn/huge
    ];
    for (i, w) in bad_words.iter().enumerate() {
        let (mut p, mut c) = pair(4096, RingFlags::NONE);
        p.send(b"ok", ms(0), "send").unwrap();
        let mut b = [0u8; 64];
        assert_eq!(c.recv(&mut b, ms(0), "recv").unwrap(), 2);
        poke(&c, c.pos & c.g.mask, *w);
        let e = c.recv(&mut b, ms(0), "recv").unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_PROTOCOL, "word {i}: {e}");
        // Sticky, even after the memory is repaired.
        poke(&c, c.pos & c.g.mask, msg_word(2));
        assert_eq!(
            c.recv(&mut b, ms(0), "recv").unwrap_err().status,
            Status::IPCX_ERR_PROTOCOL
        );
    }
}

#[test]
fn corrupted_indices_never_lead_out_of_bounds() {
    // The producer reads the consumer's head: wrapped, too far, misaligned.
    for head in [u64::MAX - 7, 1 << 40, 3, 8 * 4096 + 8] {
        let (mut p, _c) = pair(4096, RingFlags::NONE);
        // Fill so that the producer must read the shared head.
        while p.send(&[0u8; 200], ms(0), "send").is_ok() {}
        p.h().cons.0.pos.store(head, Ordering::SeqCst);
        let e = p.send(&[0u8; 200], ms(0), "send").unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_PROTOCOL, "head {head}: {e}");
    }
    // An MPMC consumer reads the shared head under its lock: masked, so any value is in
    // bounds; misaligned values are refused.
    let (mut p, mut c) = pair(4096, RingFlags::MPMC);
    p.send(b"abc", ms(0), "send").unwrap();
    c.h().cons.0.pos.store(5, Ordering::SeqCst);
    let e = c.recv(&mut [0u8; 8], ms(0), "recv").unwrap_err();
    assert_eq!(e.status, Status::IPCX_ERR_PROTOCOL);
    for head in [!7u64, 4096 * 1000 + 4088] {
        let (mut p, mut c) = pair(4096, RingFlags::MPMC);
        p.send(b"abc", ms(0), "send").unwrap();
        c.h().cons.0.pos.store(head, Ordering::SeqCst);
        // Whatever is there (zero, or garbage) is either empty or refused.
        match c.recv(&mut [0u8; 8], ms(0), "recv") {
            Err(e) => assert!(e.is_timeout() || e.status == Status::IPCX_ERR_PROTOCOL),
            Ok(n) => assert!(n <= 8),
        }
    }
    // An MPMC head ahead of the tail when the producer first looks (found by the ring
    // fuzz target): the room check must not wrap around and let the record through.
    let (mut p, _c) = pair(4096, RingFlags::MPMC);
    p.h().cons.0.pos.store(64, Ordering::SeqCst);
    assert_eq!(
        p.send(&[1u8; 100], ms(0), "send").unwrap_err().status,
        Status::IPCX_ERR_PROTOCOL
    );
    // Indices a peer set near 2^64 wrap around instead of overflowing (found by the ring
    // fuzz target: an overflow panic in debug builds); the ring stays consistent.
    let (mut p, mut c) = pair(4096, RingFlags::MPMC);
    p.h()
        .prod
        .0
        .pos
        .store(0u64.wrapping_sub(64), Ordering::SeqCst);
    p.h()
        .cons
        .0
        .pos
        .store(0u64.wrapping_sub(64), Ordering::SeqCst);
    let mut b = [0u8; 128];
    for i in 0..3u8 {
        p.send(&[i; 100], ms(0), "send").unwrap();
        assert_eq!(c.recv(&mut b, ms(0), "recv").unwrap(), 100);
        assert_eq!(b[..100], [i; 100]);
    }
    // MPMC producers read the shared tail under their lock.
    let (mut p, _c) = pair(4096, RingFlags::MPMC);
    p.h().prod.0.pos.store(12, Ordering::SeqCst);
    assert_eq!(
        p.send(b"x", ms(0), "send").unwrap_err().status,
        Status::IPCX_ERR_PROTOCOL
    );
    let (mut p, _c) = pair(4096, RingFlags::MPMC);
    p.h().prod.0.pos.store(1 << 50, Ordering::SeqCst);
    assert_eq!(
        p.send(b"x", ms(0), "send").unwrap_err().status,
        Status::IPCX_ERR_PROTOCOL
    );
}

#[test]
fn tail_is_rederived_from_published_records() {
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    for i in 0..10u32 {
        p.send(&i.to_le_bytes(), ms(0), "send").unwrap();
    }
    let real = p.pos;
    // A producer that died after publishing but before storing its tail.
    assert_eq!(p.walk_tail(real - 16 * 3).unwrap(), real);
    // The consumer already read past the stale tail.
    let mut b = [0u8; 8];
    for _ in 0..10 {
        c.recv(&mut b, ms(0), "recv").unwrap();
    }
    assert_eq!(p.walk_tail(16).unwrap(), real);
    // Hostile: a published chain that never ends (every word a valid record).
    let (p, _c) = pair(4096, RingFlags::NONE);
    for pos in (0..4096).step_by(8) {
        poke(&p, pos, msg_word(0));
    }
    assert_eq!(
        p.walk_tail(0).unwrap_err().status,
        Status::IPCX_ERR_PROTOCOL
    );
    // Hostile: garbage in the chain.
    let (p, _c) = pair(4096, RingFlags::NONE);
    poke(&p, 0, msg_word(8));
    poke(&p, 16, 0xffff_ffff_ffff_ffff);
    assert_eq!(
        p.walk_tail(0).unwrap_err().status,
        Status::IPCX_ERR_PROTOCOL
    );
}

#[test]
fn mpmc_in_one_process_and_lock_takeover() {
    let (mut p, mut c) = pair(8192, RingFlags::MPMC);
    for i in 0..100u32 {
        p.send(&i.to_le_bytes(), ms(0), "send").unwrap();
        let mut b = [0u8; 4];
        assert_eq!(c.recv(&mut b, ms(0), "recv").unwrap(), 4);
        assert_eq!(u32::from_le_bytes(b), i);
    }
    // The producers' lock held by an attachment that no longer exists: a non-blocking
    // send says "would block" (the holder is probed once), a waiting one takes it over.
    p.h()
        .prod
        .0
        .lock
        .store(peers::token(40, 7), Ordering::SeqCst);
    p.send(b"after", ms(1000), "send").unwrap();
    let mut b = [0u8; 8];
    assert_eq!(c.recv(&mut b, ms(0), "recv").unwrap(), 5);
    // A reservation holds the lock; another handle cannot reserve meanwhile.
    let _ = p.reserve(8, ms(0), "reserve").unwrap();
    let tok = p.h().prod.0.lock.load(Ordering::SeqCst);
    assert_eq!(tok & 0x7f, p.slot as u32 + 1);
    p.abort("abort").unwrap();
    assert_eq!(p.h().prod.0.lock.load(Ordering::SeqCst), 0);
}

#[test]
fn timeouts_are_not_early() {
    let (_p, mut c) = pair(4096, RingFlags::NONE);
    let t0 = Instant::now();
    let e = c.recv(&mut [0u8; 8], ms(50), "recv").unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(t0.elapsed() >= Duration::from_millis(50));
    // Negative timeouts other than -1 are refused where C milliseconds are converted.
    assert_eq!(
        crate::time::Timeout::from_ms(-2).unwrap_err().status,
        Status::IPCX_ERR_INVALID
    );
}

/// `n` divided by IPCX_TEST_SCALE (set by the valgrind runs, docs/testing.md).
fn scaled(n: u32) -> u32 {
    let s: u32 = std::env::var("IPCX_TEST_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    (n / s.max(1)).max(1)
}

/// Another attachment to the ring of `r` (MPMC: a second producer or consumer).
fn attach_more(r: &Ring, role: Role) -> Ring {
    let fd = shm::reopen(r.fd(), "ring").unwrap();
    attach_existing(
        fd,
        "ring",
        role,
        &opts(r.g.capacity as usize),
        true,
        &r.g,
        "ring",
        0,
    )
    .unwrap()
    .unwrap()
}

/// Receive messages `0..n` (`pattern(i, size(i))`), each whole and in order, then the end
/// of the stream once the producer is gone.
fn receive_in_order_until_closed(c: &mut Ring, n: u32, size: impl Fn(u32) -> usize) {
    let mut buf = vec![0u8; 4096];
    for i in 0..n {
        let k = c.recv(&mut buf, ms(10_000), "recv").unwrap();
        assert_eq!(&buf[..k], &pattern(i, size(i))[..], "message {i}");
    }
    let e = c.recv(&mut buf, ms(10_000), "recv").unwrap_err();
    assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{e}");
}

/// Producer and consumer on two threads: every message arrives once, whole and in order,
/// with both sides sleeping and waking (a small ring, spin budget 0). Also what the
/// helgrind/DRD runs of docs/testing.md execute.
#[test]
fn threads_spsc_every_message_in_order() {
    let n = scaled(100_000);
    let size = |i: u32| (i % 300) as usize + 1;
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    let t = std::thread::spawn(move || {
        for i in 0..n {
            p.send(&pattern(i, size(i)), ms(10_000), "send").unwrap();
        }
    });
    receive_in_order_until_closed(&mut c, n, size);
    t.join().unwrap();
}

/// Batches (one producer: written back to back, published together) on two threads:
/// every message arrives once, whole and in order, through wraps and pads, with the
/// producer waiting for room mid-batch and the consumer sleeping and waking.
#[test]
fn threads_spsc_batches_in_order() {
    let n = scaled(100_000);
    let size = |i: u32| {
        if i % 7 == 0 {
            0
        } else {
            (i % 300) as usize + 1
        }
    };
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    let t = std::thread::spawn(move || {
        let mut i = 0;
        let mut k = 0;
        while i < n {
            let len = (1 + k % 40).min(n - i);
            k += 1;
            let msgs: Vec<Vec<u8>> = (i..i + len).map(|j| pattern(j, size(j))).collect();
            let refs: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
            let (sent, r) = p.send_many(&refs, ms(10_000), "send");
            r.unwrap();
            assert_eq!(sent, len as usize);
            i += len;
        }
    });
    receive_in_order_until_closed(&mut c, n, size);
    t.join().unwrap();
}

/// A batch that does not fit, without waiting: the messages that fit are published (and
/// counted), the rest are not; the ring's records stay whole for the next batch.
#[test]
fn a_batch_larger_than_the_room_publishes_its_prefix() {
    let (mut p, mut c) = pair(4096, RingFlags::NONE);
    let msgs: Vec<Vec<u8>> = (0..100u32).map(|i| pattern(i, 100)).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
    let (sent, r) = p.send_many(&refs, ms(0), "send");
    assert!(r.unwrap_err().is_timeout());
    assert!(sent > 30 && sent < 40, "{sent}");
    let mut buf = vec![0u8; 4096];
    for (i, m) in msgs.iter().enumerate().take(sent) {
        let k = c.recv(&mut buf, ms(0), "recv").unwrap();
        assert_eq!(&buf[..k], &m[..], "message {i}");
    }
    assert!(c.recv(&mut buf, ms(0), "recv").unwrap_err().is_timeout());
    let (again, r) = p.send_many(&refs[sent..sent + 10], ms(0), "send");
    r.unwrap();
    assert_eq!(again, 10);
    for (i, m) in msgs.iter().enumerate().skip(sent).take(10) {
        let k = c.recv(&mut buf, ms(0), "recv").unwrap();
        assert_eq!(&buf[..k], &m[..], "message {i}");
    }
}

/// Two producers and two consumers on four threads (MPMC, locks contended; one producer
/// sends in batches): every message arrives exactly once, and each consumer sees each
/// producer's messages in the order they were sent.
#[test]
fn threads_mpmc_every_message_once() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU32;
    let n = scaled(50_000);
    let (p1, c1) = pair(4096, RingFlags::MPMC);
    let p2 = attach_more(&p1, Role::Producer);
    let c2 = attach_more(&c1, Role::Consumer);
    let got = Arc::new(AtomicU32::new(0));
    let producers: Vec<_> = [p1, p2]
        .into_iter()
        .enumerate()
        .map(|(id, mut p)| {
            std::thread::spawn(move || {
                let msg = |i: u32| {
                    let mut m = vec![0u8; 8 + (i % 16) as usize];
                    m[..4].copy_from_slice(&(id as u32).to_le_bytes());
                    m[4..8].copy_from_slice(&i.to_le_bytes());
                    m
                };
                // Producer 0 sends one by one, producer 1 in batches of 1..20 (the
                // producers' lock held for each batch).
                let mut i = 0;
                while i < n {
                    if id == 0 {
                        p.send(&msg(i), ms(10_000), "send").unwrap();
                        i += 1;
                        continue;
                    }
                    let k = (1 + i % 20).min(n - i);
                    let ms_: Vec<Vec<u8>> = (i..i + k).map(msg).collect();
                    let refs: Vec<&[u8]> = ms_.iter().map(|m| &m[..]).collect();
                    let (sent, r) = p.send_many(&refs, ms(10_000), "send");
                    r.unwrap();
                    assert_eq!(sent, k as usize);
                    i += k;
                }
            })
        })
        .collect();
    let consumers: Vec<_> = [c1, c2]
        .into_iter()
        .map(|mut c| {
            let got = got.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut last = [None::<u32>; 2];
                let mut b = [0u8; 64];
                while got.load(Ordering::SeqCst) < 2 * n {
                    match c.recv(&mut b, ms(50), "recv") {
                        Ok(k) => {
                            let id = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
                            let i = u32::from_le_bytes(b[4..8].try_into().unwrap());
                            assert_eq!(k, 8 + (i % 16) as usize);
                            assert!(
                                last[id].is_none_or(|l| l < i),
                                "producer {id}: {i} after {last:?}"
                            );
                            last[id] = Some(i);
                            seen.push((id, i));
                            got.fetch_add(1, Ordering::SeqCst);
                        }
                        // Closed: the producers are gone and the ring is empty.
                        Err(e) => {
                            assert!(e.is_timeout() || e.status == Status::IPCX_ERR_CLOSED, "{e}")
                        }
                    }
                }
                seen
            })
        })
        .collect();
    for t in producers {
        t.join().unwrap();
    }
    let mut all: Vec<(usize, u32)> = consumers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    let want: Vec<(usize, u32)> = (0..2).flat_map(|id| (0..n).map(move |i| (id, i))).collect();
    assert!(
        all == want,
        "{} messages received, {} sent",
        all.len(),
        want.len()
    );
}
