// SPDX-License-Identifier: MIT OR Apache-2.0
//! System V semaphore sets (`semget`, `semop`/`semtimedop`, `semctl`).
//!
//! A set of N counters identified by a key (from `ftok`, an explicit number, or private).
//! Several operations on one set apply atomically in one call ([`SemSet::op`]); `SEM_UNDO`
//! makes the kernel revert an operation when the process exits, even by SIGKILL, so a
//! process that dies holding a semaphore releases it.
//!
//! Creation and initialisation are two steps in System V (the classic race: a process that
//! opens the set between `semget` and `SETALL` sees zeros). ipcx closes the race the way
//! Stevens describes: [`SemSet::open`] creates exclusively, sets the initial values, then
//! performs one operation that changes nothing but sets `sem_otime`; opening an existing
//! set waits until `sem_otime` is set before it returns.
//!
//! Permissions: opening checks none of its own (semget asks for no permission bits), but
//! waiting for the initialisation reads the set's status (IPC_STAT), which needs read
//! permission: an open by a process that may not read the set is `IPCX_ERR_PERMISSION`.
//! Everything else is checked by the kernel at each operation.

use std::time::Duration;

use nix::errno::Errno;

use super::sys::semtimedop;
use crate::error::{Error, Result, Status};
use crate::flags::Disposition;
use crate::options::{Opt, Options};
use crate::time::{self, Deadline, Timeout};

/// `ipcx_semop` flag: undo the operation when the process exits (SEM_UNDO). The C value
/// (`IPCX_SEMSET_UNDO`): the operation array is the caller's C array, read in place.
pub(crate) const UNDO: u32 = crate::flags::family(0);

crate::flags::option_set! {
    /// The options of one P or V ([`SemSet::add`]).
    pub struct OpFlags {
        /// Undo the operation when the process exits (SEM_UNDO).
        const UNDO = 0;
    }
}
/// The key that always makes a new set, reachable through its handle only.
pub(crate) const PRIVATE: i32 = libc::IPC_PRIVATE;

/// SEMVMX: the largest value of a System V semaphore (fixed in the kernel).
pub(crate) const SEMVMX: i32 = 32767;

/// One operation of `ipcx_semset_op`: add `delta` to semaphore `index` of the set
/// (negative: wait until the value is at least `-delta`, then subtract; zero: wait until
/// the value is 0). ipcx's own type, converted to `struct sembuf` inside.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ipcx_semop {
    /// Index of the semaphore in the set, 0 .. nsems - 1.
    pub index: u32,
    /// The change: > 0 increments (V), < 0 waits and decrements (P), 0 waits for zero.
    /// Range -32768 .. 32767.
    pub delta: i32,
    /// 0 or `IPCX_SEMSET_UNDO`.
    pub flags: u32,
}

#[repr(C)]
union Semun {
    val: libc::c_int,
    buf: *mut crate::sys::semid_ds,
    array: *mut libc::c_ushort,
}

/// The limits in /proc/sys/kernel/sem: SEMMSL SEMMNS SEMOPM SEMMNI (error paths only).
fn limits() -> Option<[i64; 4]> {
    let s = std::fs::read_to_string("/proc/sys/kernel/sem").ok()?;
    let v: Vec<i64> = s
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    v.try_into().ok()
}

fn limit_text(i: usize, name: &str) -> String {
    match limits() {
        Some(l) => format!("{name} ({}, field {} of /proc/sys/kernel/sem)", l[i], i + 1),
        None => format!("{name} (field {} of /proc/sys/kernel/sem)", i + 1),
    }
}

/// An open System V semaphore set.
#[derive(Debug)]
pub struct SemSet {
    id: libc::c_int,
    nsems: u32,
    key: libc::key_t,
}

impl SemSet {
    /// Open the set of `key` (see `ipcx_semset_open`). [`Disposition::Existing`]: the
    /// existing set, with at least `nsems` semaphores (0: any), once its creator has
    /// initialised it (waiting until `deadline`). [`Disposition::Create`]: a new set of
    /// exactly `nsems` semaphores with `values` (empty: zeros) and the options' mode
    /// (default 0600) if no set has the key, else the existing one as above;
    /// [`Disposition::CreateNew`]: a new set or `IPCX_ERR_EXISTS`. [`PRIVATE`] always
    /// makes a new set, so it needs a creating disposition.
    /// (A slice rather than an `Option`: no branch ever reads the undefined length of a
    /// `None`, which memcheck would report in optimised code.)
    pub fn open(
        key: i32,
        nsems: u32,
        values: &[i32],
        how: Disposition,
        opts: &Options,
        deadline: &Deadline,
    ) -> Result<SemSet> {
        SemSet::check_options(opts)?;
        if !how.creates() {
            if key == PRIVATE {
                return Err(crate::name::private_key_needs_create(
                    "semaphore set",
                    "other processes use a private set through a handle inherited across fork",
                ));
            }
            return SemSet::open_existing(key, nsems, deadline);
        }
        if !values.is_empty() && values.len() != nsems as usize {
            return Err(Error::invalid(format!(
                "{} initial values for {nsems} semaphores",
                values.len()
            )));
        }
        loop {
            match SemSet::create(key, nsems, values, opts) {
                Err(e)
                    if e.status == Status::IPCX_ERR_EXISTS
                        && !how.exclusive()
                        && key != PRIVATE => {}
                r => return r,
            }
            match SemSet::open_existing(key, nsems, deadline) {
                // Removed between the two calls: create it after all.
                Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => continue,
                r => return r,
            }
        }
    }

    /// The first check of [`SemSet::open`]: the options it supports.
    pub(crate) fn check_options(opts: &Options) -> Result<()> {
        opts.only(&[Opt::Mode], "System V semaphore sets")
    }

    /// Create a new set of `nsems` semaphores under `key` (0 = private), exclusively,
    /// with `values` (empty: zeros) and the options' mode (default 0600), then mark it
    /// initialised.
    fn create(key: i32, nsems: u32, values: &[i32], opts: &Options) -> Result<SemSet> {
        if nsems == 0 {
            return Err(Error::invalid(
                "a semaphore set needs at least one semaphore (nsems 0 only opens an existing \
                 set)",
            ));
        }
        if let Some(l) = limits() {
            if i64::from(nsems) > l[0] {
                return Err(Error::limit(format!(
                    "{nsems} semaphores in one set is above {}",
                    limit_text(0, "SEMMSL")
                )));
            }
        }
        if nsems > i32::MAX as u32 {
            return Err(Error::invalid(format!("nsems {nsems} is out of range")));
        }
        check_values(values)?;
        let mode = opts.mode() as libc::c_int;
        // SAFETY: plain system call.
        let id = unsafe {
            libc::semget(
                key,
                nsems as libc::c_int,
                libc::IPC_CREAT | libc::IPC_EXCL | mode,
            )
        };
        if id < 0 {
            let e = Errno::last();
            return Err(match e {
                Errno::EEXIST => Error::os_as(
                    Status::IPCX_ERR_EXISTS,
                    e,
                    format!(
                        "semget(key {key:#x}): a set with this key already exists (open it without IPCX_OPEN_EXCLUSIVE)"
                    ),
                ),
                Errno::ENOSPC => Error::os_as(
                    Status::IPCX_ERR_LIMIT,
                    e,
                    format!(
                        "semget(key {key:#x}, {nsems}): too many sets or semaphores in the system: {} or {}",
                        limit_text(3, "SEMMNI"),
                        limit_text(1, "SEMMNS")
                    ),
                ),
                Errno::EINVAL => Error::os_as(
                    Status::IPCX_ERR_LIMIT,
                    e,
                    format!(
                        "semget(key {key:#x}, {nsems}): above {}",
                        limit_text(0, "SEMMSL")
                    ),
                ),
                _ => Error::os(e, format_args!("semget(key {key:#x}, {nsems})")),
            });
        }
        let set = SemSet { id, nsems, key };
        let init = || -> Result<()> {
            if !values.is_empty() {
                set.set_all(values)?;
            }
            // One operation that changes nothing sets sem_otime: "initialised". (Down then
            // up when the value allows it, else up then down: never outside 0..SEMVMX.)
            let first = values.first().copied().unwrap_or(0);
            let d: libc::c_short = if first > 0 { -1 } else { 1 };
            let nw = libc::IPC_NOWAIT as libc::c_short;
            let mut ops = [
                libc::sembuf {
                    sem_num: 0,
                    sem_op: d,
                    sem_flg: nw,
                },
                libc::sembuf {
                    sem_num: 0,
                    sem_op: -d,
                    sem_flg: nw,
                },
            ];
            // SAFETY: a valid set and two valid operations.
            if unsafe { semtimedop(id, ops.as_mut_ptr(), 2, std::ptr::null()) } < 0 {
                return Err(set.error(Errno::last(), "semop (marking the set initialised)"));
            }
            Ok(())
        };
        if let Err(e) = init() {
            // We created it: do not leave a half-made set behind.
            // SAFETY: our own set.
            unsafe { libc::semctl(id, 0, libc::IPC_RMID) };
            return Err(e);
        }
        crate::hook::created_sysv(crate::hook::ObjKind::SysvSem, key, id);
        Ok(set)
    }

    /// Open the existing set under `key`, which must have at least `nsems_min` semaphores
    /// (0: any), waiting until its creator has initialised it (`sem_otime` set) or the
    /// deadline passes.
    fn open_existing(key: i32, nsems_min: u32, deadline: &Deadline) -> Result<SemSet> {
        // SAFETY: plain system call.
        let id = unsafe { libc::semget(key, 0, 0) };
        if id < 0 {
            let e = Errno::last();
            return Err(match e {
                Errno::ENOENT => Error::os_as(
                    Status::IPCX_ERR_NOT_FOUND,
                    e,
                    format!("semget(key {key:#x}): no semaphore set has this key"),
                ),
                _ => Error::os(e, format_args!("semget(key {key:#x})")),
            });
        }
        let mut pause = Duration::from_millis(1);
        loop {
            let ds = stat(id).map_err(|e| match e {
                Errno::EACCES => Error::os(
                    e,
                    format_args!(
                        "semctl(key {key:#x}, IPC_STAT): opening a set reads its status (to wait \
                         for its initialisation), and its mode does not allow this process to \
                         read it"
                    ),
                ),
                // Removed since semget found it.
                Errno::EINVAL | Errno::EIDRM => Error::os_as(
                    Status::IPCX_ERR_NOT_FOUND,
                    e,
                    format!("semctl(key {key:#x}, IPC_STAT): the set was removed meanwhile"),
                ),
                e => Error::os(e, format_args!("semctl(key {key:#x}, IPC_STAT)")),
            })?;
            let nsems = ds.sem_nsems as u32;
            if nsems < nsems_min {
                return Err(Error::invalid(format!(
                    "the set with key {key:#x} has {nsems} semaphores, fewer than the {nsems_min} asked for"
                )));
            }
            if ds.sem_otime != 0 {
                return Ok(SemSet { id, nsems, key });
            }
            let left = deadline.remaining();
            if left.is_some_and(|d| d.is_zero()) {
                return Err(Error::timeout(format!(
                    "semaphore set with key {key:#x} exists but was never operated on: its creator has not initialised it yet"
                )));
            }
            std::thread::sleep(left.map_or(pause, |l| l.min(pause)));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// The kernel id of the set.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The number of semaphores.
    pub fn nsems(&self) -> u32 {
        self.nsems
    }

    fn check_index(&self, index: u32) -> Result<()> {
        if index >= self.nsems {
            return Err(Error::invalid(format!(
                "index {index} is out of range (the set has {} semaphores)",
                self.nsems
            )));
        }
        Ok(())
    }

    /// Apply `ops` atomically: all or none. `timeout`: -1 forever, 0 no wait
    /// (IPC_NOWAIT), else semtimedop with the remaining time after each EINTR.
    pub fn op(&self, ops: &[ipcx_semop], timeout: Timeout) -> Result<()> {
        if ops.is_empty() {
            return Err(Error::invalid("no operations (the array is empty)"));
        }
        let nowait = if timeout.is_nowait() {
            libc::IPC_NOWAIT as libc::c_short
        } else {
            0
        };
        const STACK: usize = 16;
        let mut small = [libc::sembuf {
            sem_num: 0,
            sem_op: 0,
            sem_flg: 0,
        }; STACK];
        let mut big = Vec::new();
        let buf: &mut [libc::sembuf] = if ops.len() <= STACK {
            &mut small[..ops.len()]
        } else {
            big.resize(
                ops.len(),
                libc::sembuf {
                    sem_num: 0,
                    sem_op: 0,
                    sem_flg: 0,
                },
            );
            &mut big
        };
        for (i, (o, b)) in ops.iter().zip(buf.iter_mut()).enumerate() {
            *b = self.convert(i, o)?;
            b.sem_flg |= nowait;
        }
        self.apply(buf, timeout)
    }

    #[inline]
    fn convert(&self, i: usize, o: &ipcx_semop) -> Result<libc::sembuf> {
        if o.index >= self.nsems
            || o.delta < i16::MIN as i32
            || o.delta > i16::MAX as i32
            || o.flags & !UNDO != 0
        {
            return Err(self.bad_op(i, o));
        }
        Ok(libc::sembuf {
            sem_num: o.index as libc::c_ushort,
            sem_op: o.delta as libc::c_short,
            sem_flg: if o.flags & UNDO != 0 {
                libc::SEM_UNDO as libc::c_short
            } else {
                0
            },
        })
    }

    #[cold]
    fn bad_op(&self, i: usize, o: &ipcx_semop) -> Error {
        if o.index >= self.nsems {
            Error::invalid(format!(
                "operation {i}: index {} is out of range (the set has {} semaphores)",
                o.index, self.nsems
            ))
        } else if o.flags & !UNDO != 0 {
            Error::invalid(format!(
                "operation {i}: unknown flags {:#x} (only IPCX_SEMSET_UNDO)",
                o.flags
            ))
        } else {
            Error::invalid(format!(
                "operation {i}: delta {} is outside -32768..32767",
                o.delta
            ))
        }
    }

    /// P (`delta` -1) or V (+1) on one semaphore: the common case without an array.
    #[inline]
    pub fn add(&self, index: u32, delta: i16, flags: OpFlags, timeout: Timeout) -> Result<()> {
        if index >= self.nsems {
            return Err(self.bad_op(
                0,
                &ipcx_semop {
                    index,
                    delta: delta.into(),
                    flags: 0,
                },
            ));
        }
        let mut flg = if flags.contains(OpFlags::UNDO) {
            libc::SEM_UNDO as libc::c_short
        } else {
            0
        };
        if timeout.is_nowait() {
            flg |= libc::IPC_NOWAIT as libc::c_short;
        }
        let mut b = [libc::sembuf {
            sem_num: index as libc::c_ushort,
            sem_op: delta,
            sem_flg: flg,
        }];
        self.apply(&mut b, timeout)
    }

    #[inline]
    fn apply(&self, buf: &mut [libc::sembuf], timeout: Timeout) -> Result<()> {
        if let Timeout::Forever | Timeout::NoWait = timeout {
            loop {
                // SAFETY: valid operations for this set.
                if unsafe { semtimedop(self.id, buf.as_mut_ptr(), buf.len(), std::ptr::null()) }
                    == 0
                {
                    return Ok(());
                }
                self.op_failed(buf.len())?;
            }
        }
        self.apply_timed(buf, timeout)
    }

    /// After a failed untimed semop: `Ok` to retry (EINTR), else the error.
    #[cold]
    #[inline(never)]
    fn op_failed(&self, n: usize) -> Result<()> {
        let e = Errno::last();
        if e != Errno::EINTR {
            return Err(self.op_error(e, n));
        }
        time::on_eintr(
            &Deadline::forever(),
            format_args!("semop(set id {})", self.id),
        )
    }

    #[inline(never)]
    fn apply_timed(&self, buf: &mut [libc::sembuf], timeout: Timeout) -> Result<()> {
        let deadline = timeout.deadline();
        loop {
            let ts = deadline.remaining_timespec().unwrap_or(libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
            // SAFETY: valid operations for this set; a valid relative timeout.
            if unsafe { semtimedop(self.id, buf.as_mut_ptr(), buf.len(), &ts) } == 0 {
                return Ok(());
            }
            match Errno::last() {
                Errno::EINTR => {
                    time::on_eintr(&deadline, format_args!("semtimedop(set id {})", self.id))?
                }
                // The kernel's timer may round: never report a timeout before the deadline.
                Errno::EAGAIN if !deadline.expired() => {}
                Errno::EAGAIN => {
                    return Err(Error::timeout(format!(
                        "semtimedop(set id {}): timed out after {timeout}",
                        self.id
                    )));
                }
                e => return Err(self.op_error(e, buf.len())),
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn op_error(&self, e: Errno, n: usize) -> Error {
        let what = format!("semop(set id {}, {n} operation(s))", self.id);
        match e {
            Errno::EAGAIN => Error::timeout(format!("{what}: would block")),
            Errno::E2BIG => Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!("{what}: more operations than {}", limit_text(2, "SEMOPM")),
            ),
            Errno::ERANGE => Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!(
                    "{what}: a value (or its SEM_UNDO adjustment) would leave 0..SEMVMX ({SEMVMX}, fixed by the kernel)"
                ),
            ),
            _ => self.error(e, "semop"),
        }
    }

    /// Errors common to every call on the set.
    #[cold]
    #[inline(never)]
    fn error(&self, e: Errno, what: &str) -> Error {
        let obj = format!("{what}(set id {}, key {:#x})", self.id, self.key);
        match e {
            Errno::EIDRM => Error::os_as(
                Status::IPCX_ERR_REMOVED,
                e,
                format!("{obj}: the set was removed while waiting"),
            ),
            // Arguments are checked before the call, so EINVAL means the id is gone.
            Errno::EINVAL => Error::os_as(
                Status::IPCX_ERR_REMOVED,
                e,
                format!("{obj}: the set no longer exists (removed)"),
            ),
            Errno::ENOMEM => Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!("{obj}: out of memory for SEM_UNDO bookkeeping"),
            ),
            _ => Error::os(e, obj),
        }
    }

    fn ctl(&self, index: u32, cmd: libc::c_int, arg: Semun, what: &str) -> Result<libc::c_int> {
        // SAFETY: semctl with the argument kind `cmd` expects.
        let r = unsafe { libc::semctl(self.id, index as libc::c_int, cmd, arg) };
        if r < 0 {
            let e = Errno::last();
            return Err(if e == Errno::ERANGE {
                Error::os_as(
                    Status::IPCX_ERR_LIMIT,
                    e,
                    format!(
                        "semctl({what}, set id {}): value above SEMVMX ({SEMVMX})",
                        self.id
                    ),
                )
            } else {
                self.error(e, &format!("semctl({what})"))
            });
        }
        Ok(r)
    }

    /// Set the value of one semaphore (SETVAL; clears its undo adjustments everywhere).
    pub fn set(&self, index: u32, value: i32) -> Result<()> {
        self.check_index(index)?;
        check_values(&[value])?;
        self.ctl(index, libc::SETVAL, Semun { val: value }, "SETVAL")
            .map(|_| ())
    }

    /// The value of one semaphore (GETVAL).
    pub fn get(&self, index: u32) -> Result<i32> {
        self.check_index(index)?;
        self.ctl(index, libc::GETVAL, Semun { val: 0 }, "GETVAL")
    }

    /// Set every value at once (SETALL); `values.len()` must be the set's size.
    pub fn set_all(&self, values: &[i32]) -> Result<()> {
        if values.len() != self.nsems as usize {
            return Err(Error::invalid(format!(
                "{} values given, the set has {} semaphores",
                values.len(),
                self.nsems
            )));
        }
        check_values(values)?;
        let mut a: Vec<libc::c_ushort> = values.iter().map(|&v| v as libc::c_ushort).collect();
        self.ctl(
            0,
            libc::SETALL,
            Semun {
                array: a.as_mut_ptr(),
            },
            "SETALL",
        )
        .map(|_| ())
    }

    /// Every value (GETALL) into `out`, which must hold at least `nsems` values; returns
    /// how many were written, or `IPCX_ERR_TOO_BIG` with the count needed.
    pub fn get_all(&self, out: &mut [i32]) -> Result<usize> {
        let n = self.nsems as usize;
        if out.len() < n {
            return Err(Error::too_big(
                n,
                format!("the set has {n} semaphores, the array holds {}", out.len()),
            ));
        }
        let mut a: Vec<libc::c_ushort> = vec![0; n];
        self.ctl(
            0,
            libc::GETALL,
            Semun {
                array: a.as_mut_ptr(),
            },
            "GETALL",
        )?;
        for (o, v) in out.iter_mut().zip(a) {
            *o = i32::from(v);
        }
        Ok(n)
    }

    /// How many processes wait for the value to increase (GETNCNT) and to become zero
    /// (GETZCNT).
    pub fn waiters(&self, index: u32) -> Result<(u32, u32)> {
        self.check_index(index)?;
        let n = self.ctl(index, libc::GETNCNT, Semun { val: 0 }, "GETNCNT")?;
        let z = self.ctl(index, libc::GETZCNT, Semun { val: 0 }, "GETZCNT")?;
        Ok((n as u32, z as u32))
    }

    /// The pid of the last process that operated on the semaphore (GETPID); 0 if none.
    pub fn pid(&self, index: u32) -> Result<i32> {
        self.check_index(index)?;
        self.ctl(index, libc::GETPID, Semun { val: 0 }, "GETPID")
    }

    /// Remove the set (IPC_RMID): waiters wake with `IPCX_ERR_REMOVED`.
    pub fn remove(&self) -> Result<()> {
        self.ctl(0, libc::IPC_RMID, Semun { val: 0 }, "IPC_RMID")?;
        crate::hook::removed_sysv(crate::hook::ObjKind::SysvSem, self.id);
        Ok(()).map(|_| ())
    }
}

fn stat(id: libc::c_int) -> std::result::Result<crate::sys::semid_ds, Errno> {
    // SAFETY: a zeroed semid_ds is a valid out-buffer for IPC_STAT.
    let mut ds: crate::sys::semid_ds = unsafe { std::mem::zeroed() };
    let arg = Semun { buf: &mut ds };
    // SAFETY: as above.
    if unsafe { libc::semctl(id, 0, libc::IPC_STAT, arg) } < 0 {
        return Err(Errno::last());
    }
    Ok(ds)
}

fn check_values(values: &[i32]) -> Result<()> {
    for (i, &v) in values.iter().enumerate() {
        if v < 0 {
            return Err(Error::invalid(format!("value {v} (index {i}) is negative")));
        }
        if v > SEMVMX {
            return Err(Error::limit(format!(
                "value {v} (index {i}) is above SEMVMX ({SEMVMX}, fixed by the kernel)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ms;

    #[test]
    fn private_set_ops_and_removal() {
        let s = SemSet::open(
            PRIVATE,
            3,
            &[1, 0, 5],
            Disposition::CreateNew,
            &Options::default(),
            &Deadline::now(),
        )
        .unwrap();
        assert_eq!(s.get(2).unwrap(), 5);
        s.add(0, -1, OpFlags::UNDO, ms(-1)).unwrap();
        assert!(s.add(0, -1, OpFlags::NONE, ms(0)).unwrap_err().is_timeout());
        let t = std::time::Instant::now();
        assert!(
            s.add(0, -1, OpFlags::NONE, ms(30))
                .unwrap_err()
                .is_timeout()
        );
        assert!(t.elapsed() >= Duration::from_millis(30));
        let ops = [
            ipcx_semop {
                index: 1,
                delta: 2,
                flags: 0,
            },
            ipcx_semop {
                index: 2,
                delta: -5,
                flags: 0,
            },
        ];
        s.op(&ops, ms(0)).unwrap();
        let mut all = [0; 3];
        assert_eq!(s.get_all(&mut all).unwrap(), 3);
        assert_eq!(all, [0, 2, 0]);
        assert_eq!(
            s.set(0, SEMVMX + 1).unwrap_err().status,
            Status::IPCX_ERR_LIMIT
        );
        assert_eq!(s.pid(1).unwrap(), std::process::id() as i32);
        s.remove().unwrap();
        assert_eq!(s.get(0).unwrap_err().status, Status::IPCX_ERR_REMOVED);
        let e = SemSet::open(
            PRIVATE,
            1,
            &[],
            Disposition::Existing,
            &Options::default(),
            &Deadline::now(),
        );
        assert_eq!(e.unwrap_err().status, Status::IPCX_ERR_INVALID);
    }
}
