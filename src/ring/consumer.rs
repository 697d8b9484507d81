// SPDX-License-Identifier: MIT OR Apache-2.0
//! The consumer side: read one header word with acquire ordering, read the payload in
//! place, publish the head; wait for data, wake producers only when one sleeps, and the
//! poll descriptor.

use super::*;

impl Ring {
    /// The next message at the head, waiting if needed (MPMC: takes the consumers' lock,
    /// held on success): (data offset of the record, length, record size).
    #[inline(always)]
    pub(super) fn next_message(&mut self, timeout: Timeout, op: &str) -> Result<(u64, usize, u64)> {
        if self.pending != Pending::None {
            return Err(self.outstanding(op));
        }
        let mut tmo = Tmo::new(timeout);
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
    pub(super) fn consume(&mut self, size: u64) {
        self.pos = self.pos.wrapping_add(size);
        self.release_head();
    }

    /// Publish the head (everything before it is free), unlock, wake a producer if one
    /// sleeps.
    #[inline(always)]
    fn release_head(&mut self) {
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
    pub(super) fn notify_producers(&mut self, v: u32) {
        let bits = wait::claim_wake(&self.h().space_wait.0.word, v);
        if bits & wait::POLL_ARMED != 0 {
            self.notify_pollers(Role::Producer);
        }
    }

    /// Borrow the next message in place: (pointer, length). Valid until `release`.
    pub fn borrow(&mut self, timeout: Timeout, op: &str) -> Result<(*const u8, usize)> {
        self.check(Role::Consumer, op)?;
        let (rec, len, size) = self.next_message(timeout, op)?;
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
    pub fn recv(&mut self, out: &mut [u8], timeout: Timeout, op: &str) -> Result<usize> {
        let (len, size) = self.copy_next(out, timeout, op)?;
        self.consume(size);
        Ok(len)
    }

    /// Wait for the next message and copy it into `out`, leaving it to be consumed:
    /// (length, record size). One larger than `out` stays queued.
    #[inline(always)]
    fn copy_next(&mut self, out: &mut [u8], timeout: Timeout, op: &str) -> Result<(usize, u64)> {
        self.check(Role::Consumer, op)?;
        let (rec, len, size) = self.next_message(timeout, op)?;
        if len > out.len() {
            self.unlock();
            return Err(self.too_small(len, out.len()));
        }
        // SAFETY: the payload is inside the data area; out is a distinct caller buffer.
        unsafe { copy_msg(self.payload(rec), out.as_mut_ptr(), len) };
        Ok((len, size))
    }

    /// Copy the next message (waiting for it up to `timeout`) and then those already
    /// queued behind it (never waiting), at most `max` and as many as fit, into `out`
    /// back to back, each at an offset that is a multiple of 8; `put(offset, len)` is
    /// called for each in order. Returns how many. The head is published once, at the end.
    /// A first message larger than `out` stays queued (`IPCX_ERR_TOO_BIG` with the size
    /// needed); a later one that does not fit stays queued for the next call.
    pub fn recv_many(
        &mut self,
        out: &mut [u8],
        max: usize,
        mut put: impl FnMut(usize, usize),
        timeout: Timeout,
        op: &str,
    ) -> Result<usize> {
        let (len, size) = self.copy_next(out, timeout, op)?;
        put(0, len);
        self.pos = self.pos.wrapping_add(size);
        let (mut n, mut off) = (1, len.next_multiple_of(8));
        while n < max {
            let pos = self.pos & self.g.mask;
            match decode(self.word(pos).load(Ordering::Acquire), pos, &self.g) {
                Ok(Rec::Msg { len, size }) => {
                    let len = len as usize;
                    if off > out.len() || len > out.len() - off {
                        break;
                    }
                    // SAFETY: as above; off + len <= out.len().
                    unsafe { copy_msg(self.payload(pos), out.as_mut_ptr().add(off), len) };
                    put(off, len);
                    n += 1;
                    off = (off + len).next_multiple_of(8);
                    self.pos = self.pos.wrapping_add(size);
                }
                Ok(Rec::Pad { size }) => self.pos = self.pos.wrapping_add(size),
                // Nothing more now; a corrupted header is reported by the next call.
                Ok(Rec::Empty) | Err(_) => break,
            }
        }
        self.release_head();
        Ok(n)
    }

    #[cold]
    pub(super) fn too_small(&self, len: usize, have: usize) -> Error {
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
    pub(super) fn nonempty(&self) -> bool {
        let head = if self.g.mpmc && !self.locked {
            self.h().cons.0.pos.load(Ordering::Acquire)
        } else {
            self.pos
        };
        self.word(head & self.g.mask & !7).load(Ordering::Acquire) != 0
    }

    /// Wait until a record is published at the head.
    pub(super) fn wait_data(&mut self, tmo: &mut Tmo, op: &str) -> Result<()> {
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
        let dl = tmo.deadline();
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
            self.poll = Some(poll::Poll::new(
                self.nonce,
                self.slot,
                self.fd().as_raw_fd(),
            )?);
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
    pub(super) fn arm(&mut self) {
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
        if p.take_closes() {
            self.probed_at = None; // look at the other side's liveness below
        }
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
}
