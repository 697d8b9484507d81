// SPDX-License-Identifier: MIT OR Apache-2.0
//! The producer side: reserve contiguous space (a pad record skips the end of the data
//! area), write, publish the record header with one release store; wait for room and wake
//! consumers only when one sleeps.

use super::*;

impl Ring {
    /// The end of the published chain, starting from a tail that may lag (a producer that
    /// died after publishing but before storing its tail) or trail the head (the consumer
    /// already read past it). Every header on the way is checked.
    pub(super) fn walk_tail(&self, start: u64) -> Result<u64> {
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
    pub(super) fn make_room(&mut self, len: u64, tmo: &mut Tmo, op: &str) -> Result<u64> {
        if self.pending != Pending::None {
            return Err(self.outstanding(op));
        }
        if len > self.g.max_message {
            return Err(self.too_big(len));
        }
        if self.consumer_left() {
            return Err(self.gone_error());
        }
        if self.g.mpmc {
            self.lock_side(tmo, op)?;
        }
        let (rec, used) = place(self.pos, record_size(len), &self.g);
        if self.short_of_room(used) {
            if let Err(e) = self.wait_space(used, tmo, op) {
                self.unlock();
                return Err(self.fail(e));
            }
        }
        Ok(rec)
    }

    /// Whether the consumer side changed and is gone (one relaxed load when nothing
    /// changed).
    #[inline(always)]
    fn consumer_left(&mut self) -> bool {
        self.h().peers.0.change_seq.load(Ordering::Relaxed) != self.peer_seen
            && self.other_gone(false)
    }

    /// Whether a record taking `used` bytes may not fit after the tail by the cached head
    /// (then [`Ring::wait_space`] looks at the real one). Saturating: a hostile head
    /// (cached) ahead of the tail must not wrap the sum below the capacity and skip the
    /// check; the slow path validates the indices.
    #[inline(always)]
    fn short_of_room(&self, used: u64) -> bool {
        self.pos
            .wrapping_sub(self.cached)
            .saturating_add(used + SLACK)
            > self.g.capacity
    }

    /// Advance the tail over the record of `len` payload bytes placed at data offset
    /// `rec` (after a pad record when `rec` wrapped to 0, whose message header is stored
    /// now, relaxed) and return the header that makes it visible: (position, word). The
    /// caller zeroes the header at the new tail and release-stores this one (or stores it
    /// relaxed when an earlier header of the batch is released after it).
    #[inline(always)]
    fn write_record(&mut self, rec: u64, len: u64) -> (u64, u64) {
        let size = record_size(len);
        let tail = self.pos;
        let pos = tail & self.g.mask;
        let (word, new_tail) = if rec == pos {
            (msg_word(len), tail.wrapping_add(size))
        } else {
            self.word(0).store(msg_word(len), Ordering::Relaxed);
            (
                pad_word(self.g.capacity - pos),
                tail.wrapping_add(self.g.capacity - pos + size),
            )
        };
        self.pos = new_tail;
        (pos, word)
    }

    /// Make the records up to the tail visible from the header `first`: zero the header at
    /// the tail, release-store `first`, store the tail index.
    #[inline(always)]
    fn release_from(&mut self, (pos, word): (u64, u64)) {
        self.word(self.pos & self.g.mask)
            .store(0, Ordering::Relaxed);
        self.word(pos).store(word, Ordering::Release);
        self.h().prod.0.pos.store(self.pos, Ordering::Release);
    }

    /// Wake consumers if one sleeps (or a poller is armed).
    #[inline(always)]
    fn wake_consumers(&mut self) {
        if let Some(v) = wait::after_publish(&self.data_wait()) {
            self.notify_consumers(v);
        }
    }

    /// Where the payload of the record at data offset `rec` goes.
    #[inline(always)]
    pub(super) fn payload(&self, rec: u64) -> *mut u8 {
        // SAFETY: rec + 8 + len <= capacity (placement or decode).
        unsafe { self.data.as_ptr().add((rec + layout::REC_HDR) as usize) }
    }

    /// Publish the record of `used` bytes at data offset `rec` (see layout.rs): zero the
    /// next header, then one release store; then wake consumers if one sleeps.
    #[inline(always)]
    pub(super) fn publish(&mut self, rec: u64, used: u64) {
        let first = self.write_record(rec, used);
        self.release_from(first);
        if self.locked {
            self.unlock();
        }
        self.wake_consumers();
    }

    /// Reserve room for a message of `len` bytes: returns where to write it.
    pub fn reserve(&mut self, len: usize, timeout: Timeout, op: &str) -> Result<*mut u8> {
        self.check(Role::Producer, op)?;
        let len = len as u64;
        let rec = self.make_room(len, &mut Tmo::new(timeout), op)?;
        self.pending = Pending::Reserved { rec, len };
        Ok(self.payload(rec))
    }

    #[cold]
    pub(super) fn too_big(&self, len: u64) -> Error {
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
    pub fn send(&mut self, msg: &[u8], timeout: Timeout, op: &str) -> Result<()> {
        self.check(Role::Producer, op)?;
        self.send_one(msg, &mut Tmo::new(timeout), op)
    }

    #[inline(always)]
    fn send_one(&mut self, msg: &[u8], tmo: &mut Tmo, op: &str) -> Result<()> {
        let rec = self.make_room(msg.len() as u64, tmo, op)?;
        // SAFETY: the room holds msg.len() bytes; msg is a distinct caller buffer.
        unsafe { copy_msg(msg.as_ptr(), self.payload(rec), msg.len()) };
        self.publish(rec, msg.len() as u64);
        Ok(())
    }

    /// Send `msgs` in order under one deadline: (messages sent, outcome). The sizes are
    /// checked first: a message above max_message sends nothing. The messages written are
    /// published together (see [`Ring::send_batch`]); an MPMC producer holds the
    /// producers' lock for the batch.
    pub fn send_many(&mut self, msgs: &[&[u8]], timeout: Timeout, op: &str) -> (usize, Result<()>) {
        if let Err(e) = self.check(Role::Producer, op) {
            return (0, Err(e));
        }
        if let Some(m) = msgs.iter().find(|m| m.len() as u64 > self.g.max_message) {
            return (0, Err(self.too_big(m.len() as u64)));
        }
        if msgs.is_empty() {
            return (0, Ok(()));
        }
        let mut tmo = Tmo::new(timeout);
        if self.pending != Pending::None {
            return (0, Err(self.outstanding(op)));
        }
        if self.g.mpmc {
            // The producers' lock is held for the whole batch (other producers wait).
            if let Err(e) = self.lock_side(&mut tmo, op) {
                return (0, Err(e));
            }
        }
        let r = self.send_batch(msgs, &mut tmo, op);
        self.unlock();
        r
    }

    /// A batch (an MPMC producer holds the producers' lock): the records are written back
    /// to back, every header but the first with a plain store, then the first header's
    /// release store publishes them all (a consumer reads no record before the one ahead
    /// of it), the tail is stored and the sleepers are looked at once. What was written is
    /// published before the call waits for room, so a full ring never holds a batch back
    /// from its consumers.
    fn send_batch(&mut self, msgs: &[&[u8]], tmo: &mut Tmo, op: &str) -> (usize, Result<()>) {
        if self.consumer_left() {
            return (0, Err(self.gone_error()));
        }
        // The first unpublished header: its position and word.
        let mut first: Option<(u64, u64)> = None;
        for (i, m) in msgs.iter().enumerate() {
            let len = m.len() as u64;
            let (rec, used) = place(self.pos, record_size(len), &self.g);
            if self.short_of_room(used) {
                self.release_batch(first.take());
                if let Err(e) = self.wait_space(used, tmo, op) {
                    return (i, Err(self.fail(e)));
                }
            }
            // SAFETY: the room holds len bytes; m is a distinct caller buffer.
            unsafe { copy_msg(m.as_ptr(), self.payload(rec), m.len()) };
            let hdr = self.write_record(rec, len);
            if first.is_none() {
                first = Some(hdr);
            } else {
                self.word(hdr.0).store(hdr.1, Ordering::Relaxed);
            }
        }
        self.release_batch(first);
        (msgs.len(), Ok(()))
    }

    /// Publish the records written since the header at `first` (see [`Ring::send_batch`]),
    /// if any, and wake.
    #[inline(always)]
    fn release_batch(&mut self, first: Option<(u64, u64)>) {
        if let Some(first) = first {
            self.release_from(first);
            self.wake_consumers();
        }
    }

    /// Wake sleeping consumers and notify armed pollers (at most once per announcement).
    #[cold]
    pub(super) fn notify_consumers(&mut self, v: u32) {
        let w = &self.h().data_wait.0;
        let bits = wait::claim_wake(&w.word, v);
        if bits & wait::POLL_ARMED != 0 {
            self.notify_pollers(Role::Consumer);
        }
    }

    /// Send one datagram to each armed poller of `side` (consumers: data; producers:
    /// room).
    pub(super) fn notify_pollers(&mut self, side: Role) {
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
    pub(super) fn wait_space(&mut self, used: u64, tmo: &mut Tmo, op: &str) -> Result<()> {
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
        let dl = tmo.deadline();
        let r = self.wait_for(&dl, &what, |r| fits(r, used));
        if r.as_ref().is_err_and(|e| e.is_timeout()) && self.poll.is_some() {
            self.room_want = used;
            self.arm();
        }
        r
    }

    /// Whether a record of `used` bytes fits after the tail now (a peek for the poll
    /// descriptor; an inconsistent index counts as "go and look": the send reports it).
    pub(super) fn has_room(&self, used: u64) -> bool {
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
}
