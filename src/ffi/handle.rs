//! The handle registry: how the boundary tells a live handle from a closed one.
//!
//! A handle is a `Box<T>` turned into a raw pointer, registered under its address with
//! its type. Every call looks the pointer up before touching it, so a closed, foreign or
//! wrong-type pointer gets `IPCX_ERR_BAD_HANDLE` instead of undefined behaviour, and a
//! double close is reported instead of freeing twice. A handle whose call panicked is
//! poisoned: later calls get `IPCX_ERR_INTERNAL`, close still releases it.
//!
//! Lookups take no lock and touch no thread-local storage: live handles are also kept in a
//! fixed, lock-free open-addressing table (a fast path of a hash, a multiply and one load
//! and compare per probe, inlined into the caller); the locked map is the authority,
//! consulted out of line when the table has no room or the pointer is not found there
//! (closed, foreign or poisoned handles). Writers (create, close, poison) serialise on the
//! map's lock.
//!
//! Limits of the scheme, documented in docs/conventions.md: as with file descriptors, an
//! address freed by close may be reused by a later handle of the same type, and a handle
//! must not be closed while another thread is inside a call on it.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, Status};

/// A type that C sees as an opaque handle.
pub(crate) trait Handle: Sized + 'static {
    /// Distinct per handle type.
    const KIND: u32;
    /// The C type name, for messages.
    const NAME: &'static str;
}

#[derive(Clone, Copy)]
struct Entry {
    kind: u32,
    poisoned: bool,
}

/// The authority: every live handle, with its type and poisoned flag.
static REGISTRY: RwLock<BTreeMap<usize, Entry>> = RwLock::new(BTreeMap::new());

/// The fast path: live, unpoisoned handles, at most `PROBE` slots from their hash. Each
/// slot packs the address (below 2^48) with the kind in the top 16 bits, so a lookup is one
/// load and one compare per probe, and touches one array.
const TABLE_BITS: u32 = 12;
const TABLE: usize = 1 << TABLE_BITS;
const PROBE: usize = 8;
static SLOTS: [AtomicU64; TABLE] = [const { AtomicU64::new(0) }; TABLE];

/// Addresses at or above this bound (and kinds above 16 bits) stay out of the fast table.
const ADDR_LIMIT: usize = 1 << 48;

#[inline(always)]
fn pack(addr: usize, kind: u32) -> u64 {
    addr as u64 | (u64::from(kind) << 48)
}

#[inline(always)]
fn slot0(addr: usize) -> usize {
    ((addr as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

fn probe(addr: usize) -> impl Iterator<Item = usize> {
    let s = slot0(addr);
    (0..PROBE).map(move |i| (s + i) & (TABLE - 1))
}

/// Add to the fast table (caller holds the registry write lock). No room: map only.
fn table_insert(addr: usize, kind: u32) {
    if addr >= ADDR_LIMIT || kind >> 16 != 0 {
        return;
    }
    if let Some(i) = probe(addr).find(|&i| SLOTS[i].load(Ordering::Relaxed) == 0) {
        SLOTS[i].store(pack(addr, kind), Ordering::Release);
    }
}

/// Remove from the fast table (caller holds the registry write lock).
fn table_remove(addr: usize) {
    let mask = (ADDR_LIMIT - 1) as u64;
    if let Some(i) =
        probe(addr).find(|&i| SLOTS[i].load(Ordering::Relaxed) & mask == addr as u64 && addr != 0)
    {
        SLOTS[i].store(0, Ordering::Release);
    }
}

#[inline(always)]
fn table_has(addr: usize, kind: u32) -> bool {
    if addr >= ADDR_LIMIT {
        return false;
    }
    // NULL packs to kind << 48, which no stored slot equals (stored addresses are not 0).
    let want = pack(addr, kind);
    let s = slot0(addr);
    (0..PROBE).any(|i| SLOTS[(s + i) & (TABLE - 1)].load(Ordering::Acquire) == want)
}

fn registry_read() -> std::sync::RwLockReadGuard<'static, BTreeMap<usize, Entry>> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner())
}

fn registry_write() -> std::sync::RwLockWriteGuard<'static, BTreeMap<usize, Entry>> {
    REGISTRY.write().unwrap_or_else(|e| e.into_inner())
}

/// Turn a value into a registered handle.
pub(crate) fn into_raw<T: Handle>(value: T) -> *mut T {
    let p = Box::into_raw(Box::new(value));
    let mut reg = registry_write();
    reg.insert(
        p as usize,
        Entry {
            kind: T::KIND,
            poisoned: false,
        },
    );
    table_insert(p as usize, T::KIND);
    p
}

/// Borrow a live handle. NULL is `IPCX_ERR_INVALID`; closed or foreign is
/// `IPCX_ERR_BAD_HANDLE`; poisoned is `IPCX_ERR_INTERNAL`.
///
/// The fast path (a live handle in the table) is inlined into the caller; everything else
/// is out of line.
///
/// # Safety
/// `p` must be NULL or a pointer the caller got from ipcx; the caller must not use the
/// handle from two threads at once.
#[inline(always)]
pub(crate) unsafe fn get<'a, T: Handle>(p: *const T) -> Result<&'a mut T> {
    validate(p)?;
    // SAFETY: validated: it came from `into_raw::<T>` and has not been closed.
    Ok(unsafe { &mut *(p as *mut T) })
}

/// Like [`get`], for handles shared between threads: a shared reference.
///
/// # Safety
/// `p` must be NULL or a pointer the caller got from ipcx; it must not be closed while
/// another thread is inside a call on it.
#[inline(always)]
pub(crate) unsafe fn get_ref<'a, T: Handle>(p: *const T) -> Result<&'a T> {
    validate(p)?;
    // SAFETY: validated: it came from `into_raw::<T>` and has not been closed.
    Ok(unsafe { &*p })
}

/// Check that `p` is a live, unpoisoned `T`: the lock-free table first (inline), the
/// registry only when that misses.
#[inline(always)]
fn validate<T: Handle>(p: *const T) -> Result<()> {
    if table_has(p as usize, T::KIND) {
        Ok(())
    } else {
        validate_slow(p)
    }
}

#[cold]
#[inline(never)]
fn validate_slow<T: Handle>(p: *const T) -> Result<()> {
    if p.is_null() {
        return Err(Error::invalid(format!("{} handle is NULL", T::NAME)));
    }
    let entry = registry_read().get(&(p as usize)).copied();
    match entry {
        Some(e) if e.kind == T::KIND && !e.poisoned => Ok(()),
        other => Err(unusable::<T>(p, other)),
    }
}

/// Unregister and free a handle. NULL is a no-op; an unknown pointer is
/// `IPCX_ERR_BAD_HANDLE` and nothing is freed.
///
/// # Safety
/// As for [`get`]; no other thread may be inside a call on this handle.
pub(crate) unsafe fn close<T: Handle>(p: *mut T) -> Result<()> {
    // SAFETY: per the contract.
    drop(unsafe { take(p) }?);
    Ok(())
}

/// Unregister a handle and give its value back (for a close that can report what
/// releasing it did). NULL gives `None`; an unknown pointer is `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// As for [`close`].
pub(crate) unsafe fn take<T: Handle>(p: *mut T) -> Result<Option<Box<T>>> {
    if p.is_null() {
        return Ok(None);
    }
    let addr = p as usize;
    {
        let mut reg = registry_write();
        match reg.get(&addr).copied() {
            Some(e) if e.kind == T::KIND => {
                reg.remove(&addr);
                table_remove(addr);
            }
            other => return Err(unusable::<T>(p, other)),
        }
    }
    // SAFETY: it was registered as a T, and is no longer reachable through the registry.
    Ok(Some(unsafe { Box::from_raw(p) }))
}

/// Why `p` cannot be used as a `T`, given what the registry knows about it.
fn unusable<T: Handle>(p: *const T, entry: Option<Entry>) -> Error {
    match entry {
        Some(e) if e.kind == T::KIND && e.poisoned => Error::internal(format!(
            "{} handle {p:p} is poisoned by an earlier internal error; close it",
            T::NAME
        )),
        Some(_) => Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("handle {p:p} is not an {}", T::NAME),
        ),
        None => Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("{} handle {p:p} is closed or was never created", T::NAME),
        ),
    }
}

/// Poison a handle: a call on it panicked. Later calls get `IPCX_ERR_INTERNAL`.
pub(crate) fn poison(addr: usize) {
    let mut reg = registry_write();
    if let Some(e) = reg.get_mut(&addr) {
        e.poisoned = true;
        table_remove(addr);
    }
}
