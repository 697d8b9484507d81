// SPDX-License-Identifier: MIT OR Apache-2.0
//! System V message selection (src/msgq/sysv.rs): which message a receive takes, and the
//! size it reports when the buffer is too small (found by walking the queue with
//! MSG_COPY), against a model of msgrcv(2) written out here.
//!
//! The queue is real (one private queue per fuzzing process, emptied before each input;
//! its id is appended to the file named by `IPCX_FUZZ_TRACK` so that fuzz/run.sh removes
//! it even when the fuzzer stops on a finding). Messages stay small (the queue's default
//! byte limit is 16 KiB).
//!
//! Input: a script of sends (any type, including 0, negative and the extremes; any
//! length up to 512) and receives (any type including LONG_MIN, EXCEPT and TRUNCATE
//! flags, any buffer size). Oracle: the model's choice, the exact bytes and type, the
//! size reported with `IPCX_ERR_TOO_BIG` (the message stays), truncation, and the queue's
//! message count afterwards.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Mutex;

use libc::c_long;

use super::Input;
use crate::error::Status;
use crate::flags::Disposition;
use crate::msgq::sysv::{MsgQueue, PRIVATE, RecvFlags};
use crate::options::Options;
use crate::time::Deadline;

static QUEUE: Mutex<Option<MsgQueue>> = Mutex::new(None);

/// Which queued message msgrcv(2) takes (index), per its man page.
fn choose(q: &VecDeque<(c_long, Vec<u8>)>, mtype: c_long, except: bool) -> Option<usize> {
    if except {
        return q.iter().position(|(t, _)| *t != mtype);
    }
    match mtype {
        0 => (!q.is_empty()).then_some(0),
        t if t > 0 => q.iter().position(|(x, _)| *x == t),
        t => {
            let lim = if t == c_long::MIN { c_long::MAX } else { -t };
            let low = q.iter().map(|(x, _)| *x).filter(|x| *x <= lim).min()?;
            q.iter().position(|(x, _)| *x == low)
        }
    }
}

fn mtype(inp: &mut Input<'_>) -> c_long {
    match inp.u8() % 6 {
        0 => c_long::MIN,
        1 => c_long::MAX,
        2 => -(inp.u8() as c_long % 8),
        3 => inp.u64() as c_long,
        _ => inp.u8() as c_long % 8,
    }
}

/// Remove the queue (at exit, and at the end of the corpus replay in the unit tests).
pub fn close() {
    let mut guard = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut q) = guard.take() {
        let _ = q.remove();
    }
}

/// The fuzz entry point.
pub fn run(data: &[u8]) {
    let mut guard = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    let q = guard.get_or_insert_with(|| {
        let q = MsgQueue::open(PRIVATE, Disposition::Create, &Options::default()).expect("msgget");
        // Removed at exit (libFuzzer exits normally at the end of a run); after an abort
        // (a finding), fuzz/run.sh removes the ids recorded in IPCX_FUZZ_TRACK.
        extern "C" fn at_exit() {
            // try_lock: exit may come from another thread while an input runs.
            let q = match QUEUE.try_lock() {
                Ok(mut g) => g.take(),
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner().take(),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            if let Some(mut q) = q {
                let _ = q.remove();
            }
        }
        // SAFETY: registers a plain function.
        unsafe { libc::atexit(at_exit) };
        if let Ok(path) = std::env::var("IPCX_FUZZ_TRACK") {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{}", q.id());
            }
        }
        q
    });
    let now = Deadline::now();
    let mut buf = vec![0u8; 1024];
    // Empty the queue (a previous input may have stopped half way).
    while q.recv(&mut buf, 0, RecvFlags::TRUNCATE, &now).is_ok() {}

    let mut model: VecDeque<(c_long, Vec<u8>)> = VecDeque::new();
    let mut bytes = 0;
    let mut inp = Input::new(data);
    let mut steps = 0;
    while !inp.is_empty() && steps < 64 {
        steps += 1;
        if inp.u8() & 1 == 0 {
            let t = mtype(&mut inp);
            let len = inp.u16() as usize % 513;
            let msg: Vec<u8> = (0..len)
                .map(|i| (i as u8).wrapping_mul(31) ^ t as u8)
                .collect();
            if bytes + len > 8192 {
                continue; // stay far below the queue's byte limit: never block
            }
            match q.send(&msg, t, &now) {
                Ok(()) => {
                    assert!(t > 0, "type {t} accepted");
                    bytes += len;
                    model.push_back((t, msg));
                }
                Err(e) => {
                    assert!(t <= 0, "send type {t}: {}", e.msg);
                    assert_eq!(e.status, Status::IPCX_ERR_INVALID);
                }
            }
        } else {
            let t = mtype(&mut inp);
            let f = inp.u8();
            let flags = RecvFlags::NONE
                .with(RecvFlags::EXCEPT, f & 1 != 0)
                .with(RecvFlags::TRUNCATE, f & 2 != 0);
            let cap = inp.u16() as usize % 600;
            let r = q.recv(&mut buf[..cap], t, flags, &now);
            if flags.contains(RecvFlags::EXCEPT) && t <= 0 {
                assert_eq!(r.unwrap_err().status, Status::IPCX_ERR_INVALID);
                continue;
            }
            match (choose(&model, t, flags.contains(RecvFlags::EXCEPT)), r) {
                (None, Err(e)) => assert!(e.is_timeout(), "type {t}: {}", e.msg),
                (None, Ok(got)) => panic!("type {t} flags {flags:?}: got {got:?}, expected none"),
                (Some(i), r) => {
                    let (mt, m) = &model[i];
                    let (mt, len) = (*mt, m.len());
                    if len > cap && !flags.contains(RecvFlags::TRUNCATE) {
                        let e = r.expect_err("a message larger than the buffer");
                        assert_eq!(
                            (e.status, e.needed),
                            (Status::IPCX_ERR_TOO_BIG, len),
                            "{}",
                            e.msg
                        );
                        continue;
                    }
                    let (n, got_t) = r.unwrap_or_else(|e| panic!("type {t}: {}", e.msg));
                    assert_eq!(
                        (n, got_t),
                        (len.min(cap), mt),
                        "receive type {t} flags {flags:?}"
                    );
                    assert_eq!(&buf[..n], &m[..n]);
                    bytes -= len;
                    model.remove(i);
                }
            }
        }
    }
    let st = q.stat().expect("IPC_STAT");
    assert_eq!(st.msg_qnum as usize, model.len(), "messages in the queue");
}
