// SPDX-License-Identifier: MIT OR Apache-2.0
//! The notifier: the safe way out of a signal handler.
//!
//! A handler may only make async-signal-safe calls: no allocation, no lock, nothing that
//! may be interrupted halfway by the handler itself. The classic answer is the self-pipe:
//! the handler writes a byte, the main loop polls the read end. A notifier is that, built
//! on an eventfd (one descriptor, a 64-bit counter that cannot fill up the way a pipe
//! does): [`poke`] adds 1 with one `write`, the descriptor is readable while the counter is
//! non-zero, and [`Notifier::wait`] reads and resets it, returning the number of pokes.
//!
//! # Why `poke` does not use the handle registry
//!
//! Every other call finds its handle through the registry (`ffi/handle.rs`), whose fallback
//! path takes a lock and whose error path formats a message: a handler that interrupted a
//! thread holding that lock would deadlock, and formatting allocates. So `poke` never
//! touches the registry, never dereferences the handle, never allocates and never writes
//! the thread's last-error message. Live notifiers are also published in a fixed table of
//! [`SLOTS`] slots, keyed by the handle's value: a handle is an identifier (table slot and
//! generation, `ffi/handle.rs`), unique to one notifier for the life of the process (short
//! of 2^24 reuses of one handle slot), so a stale copy of a closed notifier's handle never
//! reaches a new notifier that took over its handle slot or its table slot. `poke` finds
//! its slot with atomic loads only, and a per-slot "busy" count lets `close` wait for a
//! poke that is in the middle of its `write` (a poke that starts later sees the key gone
//! and returns `IPCX_ERR_BAD_HANDLE`). The key is withdrawn with sequentially consistent
//! stores and loads on both sides, so either the poke sees it withdrawn or the closer sees
//! the poke busy: the descriptor is never written after it is closed, and a descriptor
//! number reused by another file is never written to.
//!
//! Close withdraws the key at once ([`Notifier::unpublish`]), even when the release of the
//! notifier itself is deferred to a wait still running on another thread (the handle
//! table's rule); the slot is freed, and the descriptor closed, when the notifier drops.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering::SeqCst};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::error::{Error, Result, Status};
use crate::time::{self, Deadline};

/// How many notifiers a process may have open at once.
pub(crate) const SLOTS: usize = 128;

/// A slot key meaning "taken, not published" (being set up, or closed and not yet
/// dropped). Never a handle value: a handle's index part is never all ones.
const RESERVED: usize = usize::MAX;

struct Slot {
    /// The handle value poking this slot, 0 when free, `RESERVED` while taken but not
    /// published.
    key: AtomicUsize,
    /// The eventfd.
    fd: AtomicI32,
    /// Pokes inside this slot right now.
    busy: AtomicU32,
}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        key: AtomicUsize::new(0),
        fd: AtomicI32::new(-1),
        busy: AtomicU32::new(0),
    }
}; SLOTS];

/// Slots `0..HIGH` have been used at least once: `poke` scans only those.
static HIGH: AtomicUsize = AtomicUsize::new(0);

fn wait_idle(slot: &Slot) {
    let mut spins = 0u32;
    while slot.busy.load(SeqCst) != 0 {
        spins += 1;
        if spins < 100 {
            std::hint::spin_loop();
        } else {
            // The poke in flight is on another thread (a handler never interrupts its
            // own thread's close): let it finish its write.
            std::thread::yield_now();
        }
    }
}

/// A notifier: an eventfd published in the slot table.
#[derive(Debug)]
pub struct Notifier {
    fd: OwnedFd,
    slot: usize,
}

impl Notifier {
    /// Create an eventfd (close-on-exec, non-blocking) and reserve a slot for it.
    pub fn new() -> Result<Notifier> {
        let fd: OwnedFd =
            EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
                .map_err(|e| crate::fd::new_fd_error(e, "eventfd"))?
                .into();
        let raw = fd.as_raw_fd();
        for (i, slot) in TABLE.iter().enumerate() {
            if slot
                .key
                .compare_exchange(0, RESERVED, SeqCst, SeqCst)
                .is_ok()
            {
                // A poke of the slot's previous owner may still be finishing its write.
                wait_idle(slot);
                slot.fd.store(raw, SeqCst);
                HIGH.fetch_max(i + 1, SeqCst);
                return Ok(Notifier { fd, slot: i });
            }
        }
        Err(Error::limit(format!(
            "eventfd: a process may have at most {SLOTS} notifiers open at once (ipcx's \
             async-signal-safe table); close one first"
        )))
    }

    /// Make `poke(key)` reach this notifier (`key` is the C handle's value: never 0 or
    /// `RESERVED`).
    pub fn publish(&self, key: usize) {
        debug_assert!(key != 0 && key != RESERVED);
        TABLE[self.slot].key.store(key, SeqCst);
    }

    /// Stop `poke` from reaching this notifier, and wait for a poke in the middle of its
    /// write. The slot stays taken until the notifier drops.
    pub fn unpublish(&self) {
        let slot = &TABLE[self.slot];
        slot.key.store(RESERVED, SeqCst);
        wait_idle(slot);
    }

    /// The eventfd, readable while pokes are pending.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Wait until the notifier has been poked, then return the number of pokes since the
    /// last wait and reset it to 0.
    pub fn wait(&self, deadline: &Deadline) -> Result<u64> {
        loop {
            let mut count = [0u8; 8];
            match nix::unistd::read(&self.fd, &mut count) {
                Ok(8) => return Ok(u64::from_ne_bytes(count)),
                // An eventfd read is 8 bytes or an error.
                Ok(n) => return Err(Error::internal(format!("read(eventfd): {n} bytes"))),
                Err(Errno::EAGAIN) => {
                    let pollin = PollFlags::POLLIN.bits();
                    time::wait_fd(self.fd.as_fd(), pollin, deadline, "wait for a poke")?;
                }
                Err(Errno::EINTR) => time::on_eintr(deadline, "wait for a poke")?,
                Err(e) => return Err(Error::os(e, "read(eventfd)")),
            }
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let slot = &TABLE[self.slot];
        // Withdraw the key, then wait for a poke in flight: only then may the descriptor
        // be closed (when `self.fd` drops, after this). Freeing the slot at the same time
        // is safe: a new owner waits for pokes in flight before it stores its descriptor.
        slot.key.store(0, SeqCst);
        wait_idle(slot);
    }
}

/// Poke the notifier published under `key`: add 1 to its counter.
///
/// Async-signal-safe by construction: atomic loads and stores on a static table, one
/// `write(2)`, errno preserved; no allocation, no lock, no thread-local storage.
/// Returns `IPCX_ERR_BAD_HANDLE` when no live notifier has that key, `IPCX_ERR_SYSTEM` if
/// the write failed (never expected). A counter at its maximum (2^64 - 2 pokes not yet
/// consumed) is left as is: the notifier is readable already.
pub fn poke(key: usize) -> Status {
    if key == 0 {
        return Status::IPCX_ERR_INVALID;
    }
    if key == RESERVED {
        return Status::IPCX_ERR_BAD_HANDLE;
    }
    let high = HIGH.load(SeqCst).min(SLOTS);
    for slot in &TABLE[..high] {
        if slot.key.load(SeqCst) != key {
            continue;
        }
        slot.busy.fetch_add(1, SeqCst);
        let st = if slot.key.load(SeqCst) == key {
            write_one(slot.fd.load(SeqCst))
        } else {
            Status::IPCX_ERR_BAD_HANDLE
        };
        slot.busy.fetch_sub(1, SeqCst);
        return st;
    }
    Status::IPCX_ERR_BAD_HANDLE
}

fn write_one(fd: RawFd) -> Status {
    let saved = Errno::last_raw();
    let one = 1u64.to_ne_bytes();
    // SAFETY: the slot keeps the descriptor open while the poke is busy on it.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let st = loop {
        // nix's write is the one write(2): async-signal-safe, no allocation.
        match nix::unistd::write(fd, &one) {
            Ok(8) => break Status::IPCX_OK,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => break Status::IPCX_OK,
            _ => break Status::IPCX_ERR_SYSTEM,
        }
    };
    Errno::set_raw(saved);
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poke_wait_close() {
        let n = Notifier::new().unwrap();
        let key = 0x1000_0000usize;
        assert_eq!(poke(key), Status::IPCX_ERR_BAD_HANDLE); // reserved, not published
        n.publish(key);
        for _ in 0..3 {
            assert_eq!(poke(key), Status::IPCX_OK);
        }
        assert_eq!(n.wait(&Deadline::now()).unwrap(), 3);
        assert!(n.wait(&Deadline::now()).unwrap_err().is_timeout());
        n.unpublish();
        assert_eq!(poke(key), Status::IPCX_ERR_BAD_HANDLE);
        drop(n);
        assert_eq!(poke(key), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!(poke(0), Status::IPCX_ERR_INVALID);
        assert_eq!(poke(RESERVED), Status::IPCX_ERR_BAD_HANDLE);
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_stale_key_never_reaches_the_next_owner_of_a_slot() {
        // Two handle values of the same handle slot, generations 0 and 1 (other tests
        // running at the same time may take the freed table slot first: the check holds
        // either way).
        let old = 5usize;
        let new = (1usize << 32) | 5;
        let a = Notifier::new().unwrap();
        a.publish(old);
        drop(a);
        let b = Notifier::new().unwrap();
        b.publish(new);
        assert_eq!(poke(old), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!(poke(new), Status::IPCX_OK);
        assert_eq!(b.wait(&Deadline::now()).unwrap(), 1);
    }

    #[test]
    fn pokes_racing_close_never_write_a_closed_descriptor() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let stop = Arc::new(AtomicBool::new(false));
        let keys: Vec<usize> = (1..=4).map(|i| 0x2000_0000 + i * 64).collect();
        let pokers: Vec<_> = keys
            .iter()
            .map(|&k| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(SeqCst) {
                        let s = poke(k);
                        assert!(s == Status::IPCX_OK || s == Status::IPCX_ERR_BAD_HANDLE);
                    }
                })
            })
            .collect();
        for round in 0..2000 {
            let n = Notifier::new().unwrap();
            n.publish(keys[round % keys.len()]);
            drop(n);
        }
        stop.store(true, SeqCst);
        for p in pokers {
            p.join().unwrap();
        }
    }
}
