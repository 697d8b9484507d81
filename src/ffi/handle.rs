//! The handle registry: how the boundary tells a live handle from a closed one.
//!
//! A handle is a `Box<T>` turned into a raw pointer, registered under its address with
//! its type. Every call looks the pointer up before touching it, so a closed, foreign or
//! wrong-type pointer gets `IPCX_ERR_BAD_HANDLE` instead of undefined behaviour, and a
//! double close is reported instead of freeing twice. A handle whose call panicked is
//! poisoned: later calls get `IPCX_ERR_INTERNAL`, close still releases it.
//!
//! Lookups take no lock and touch no thread-local storage: live handles are also kept in a
//! fixed, lock-free open-addressing table (a fast path of a hash, a multiply and a few
//! loads); the locked map is the authority, consulted when the table has no room or the
//! pointer is not found there (closed, foreign or poisoned handles). Writers (create,
//! close, poison) serialise on the map's lock.
//!
//! Limits of the scheme, documented in docs/conventions.md: as with file descriptors, an
//! address freed by close may be reused by a later handle of the same type, and a handle
//! must not be closed while another thread is inside a call on it.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

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

/// The fast path: live, unpoisoned handles, at most `PROBE` slots from their hash.
const TABLE_BITS: u32 = 12;
const TABLE: usize = 1 << TABLE_BITS;
const PROBE: usize = 8;
static ADDRS: [AtomicUsize; TABLE] = [const { AtomicUsize::new(0) }; TABLE];
static KINDS: [AtomicU32; TABLE] = [const { AtomicU32::new(0) }; TABLE];

fn slot0(addr: usize) -> usize {
    ((addr as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

fn probe(addr: usize) -> impl Iterator<Item = usize> {
    let s = slot0(addr);
    (0..PROBE).map(move |i| (s + i) & (TABLE - 1))
}

/// Add to the fast table (caller holds the registry write lock). No room: map only.
fn table_insert(addr: usize, kind: u32) {
    if let Some(i) = probe(addr).find(|&i| ADDRS[i].load(Ordering::Relaxed) == 0) {
        KINDS[i].store(kind, Ordering::Relaxed);
        ADDRS[i].store(addr, Ordering::Release);
    }
}

/// Remove from the fast table (caller holds the registry write lock).
fn table_remove(addr: usize) {
    if let Some(i) = probe(addr).find(|&i| ADDRS[i].load(Ordering::Relaxed) == addr) {
        ADDRS[i].store(0, Ordering::Release);
    }
}

#[inline]
fn table_has(addr: usize, kind: u32) -> bool {
    probe(addr).any(|i| {
        ADDRS[i].load(Ordering::Acquire) == addr && KINDS[i].load(Ordering::Relaxed) == kind
    })
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
/// # Safety
/// `p` must be NULL or a pointer the caller got from ipcx; the caller must not use the
/// handle from two threads at once.
#[inline]
pub(crate) unsafe fn get<'a, T: Handle>(p: *const T) -> Result<&'a mut T> {
    if p.is_null() {
        return Err(Error::invalid(format!("{} handle is NULL", T::NAME)));
    }
    let addr = p as usize;
    if !table_has(addr, T::KIND) {
        match registry_read().get(&addr) {
            Some(e) if e.kind == T::KIND && !e.poisoned => {}
            Some(e) if e.kind == T::KIND => {
                return Err(Error::internal(format!(
                    "{} handle {p:p} is poisoned by an earlier internal error; close it",
                    T::NAME
                )));
            }
            Some(_) => {
                return Err(Error::new(
                    Status::IPCX_ERR_BAD_HANDLE,
                    format!("handle {p:p} is not an {}", T::NAME),
                ));
            }
            None => {
                return Err(Error::new(
                    Status::IPCX_ERR_BAD_HANDLE,
                    format!("{} handle {p:p} is closed or was never created", T::NAME),
                ));
            }
        }
    }
    // SAFETY: registered, so it came from `into_raw::<T>` and has not been closed.
    Ok(unsafe { &mut *(p as *mut T) })
}

/// Unregister and free a handle. NULL is a no-op; an unknown pointer is
/// `IPCX_ERR_BAD_HANDLE` and nothing is freed.
///
/// # Safety
/// As for [`get`]; no other thread may be inside a call on this handle.
pub(crate) unsafe fn close<T: Handle>(p: *mut T) -> Result<()> {
    if p.is_null() {
        return Ok(());
    }
    let addr = p as usize;
    {
        let mut reg = registry_write();
        match reg.get(&addr) {
            Some(e) if e.kind == T::KIND => {
                reg.remove(&addr);
                table_remove(addr);
            }
            Some(_) => {
                return Err(Error::new(
                    Status::IPCX_ERR_BAD_HANDLE,
                    format!("handle {p:p} is not an {}", T::NAME),
                ));
            }
            None => {
                return Err(Error::new(
                    Status::IPCX_ERR_BAD_HANDLE,
                    format!(
                        "{} handle {p:p} is already closed or was never created",
                        T::NAME
                    ),
                ));
            }
        }
    }
    // SAFETY: it was registered as a T, and is no longer reachable through the registry.
    drop(unsafe { Box::from_raw(p) });
    Ok(())
}

/// Poison a handle: a call on it panicked. Later calls get `IPCX_ERR_INTERNAL`.
pub(crate) fn poison(addr: usize) {
    let mut reg = registry_write();
    if let Some(e) = reg.get_mut(&addr) {
        e.poisoned = true;
        table_remove(addr);
    }
}
