//! The handle registry: how the boundary tells a live handle from a closed one.
//!
//! A handle is a `Box<T>` turned into a raw pointer, registered under its address with
//! its type. Every call looks the pointer up before touching it, so a closed, foreign or
//! wrong-type pointer gets `IPCX_ERR_BAD_HANDLE` instead of undefined behaviour, and a
//! double close is reported instead of freeing twice. A handle whose call panicked is
//! poisoned: later calls get `IPCX_ERR_INTERNAL`, close still releases it.
//!
//! The lookup costs a read lock; a small per-thread cache of recently validated handles,
//! invalidated by a global epoch that every close and poisoning bumps, makes the common
//! case (the same few handles used in a loop) two loads and a compare.
//!
//! Limits of the scheme, documented in docs/conventions.md: as with file descriptors, an
//! address freed by close may be reused by a later handle of the same type, and a handle
//! must not be closed while another thread is inside a call on it.

use std::cell::Cell;
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

static REGISTRY: RwLock<BTreeMap<usize, Entry>> = RwLock::new(BTreeMap::new());
static EPOCH: AtomicU64 = AtomicU64::new(1);

const CACHE: usize = 4;

thread_local! {
    static VALID: [Cell<(usize, u32, u64)>; CACHE] = const {
        [const { Cell::new((0, 0, 0)) }; CACHE]
    };
    static NEXT: Cell<usize> = const { Cell::new(0) };
    /// The handle the current call is working on, poisoned if the call panics.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
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
    registry_write().insert(
        p as usize,
        Entry {
            kind: T::KIND,
            poisoned: false,
        },
    );
    p
}

/// Borrow a live handle. NULL is `IPCX_ERR_INVALID`; closed or foreign is
/// `IPCX_ERR_BAD_HANDLE`; poisoned is `IPCX_ERR_INTERNAL`.
///
/// # Safety
/// `p` must be NULL or a pointer the caller got from ipcx; the caller must not use the
/// handle from two threads at once.
pub(crate) unsafe fn get<'a, T: Handle>(p: *const T) -> Result<&'a mut T> {
    if p.is_null() {
        return Err(Error::invalid(format!("{} handle is NULL", T::NAME)));
    }
    let addr = p as usize;
    let _ = CURRENT.try_with(|c| c.set(addr));
    let epoch = EPOCH.load(Ordering::Acquire);
    let hit = VALID
        .try_with(|v| v.iter().any(|c| c.get() == (addr, T::KIND, epoch)))
        .unwrap_or(false);
    if !hit {
        match registry_read().get(&addr) {
            Some(e) if e.kind == T::KIND && !e.poisoned => {
                let _ = VALID.try_with(|v| {
                    let i = NEXT.with(|n| {
                        let i = n.get();
                        n.set((i + 1) % CACHE);
                        i
                    });
                    v[i].set((addr, T::KIND, epoch));
                });
            }
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
    EPOCH.fetch_add(1, Ordering::AcqRel);
    // SAFETY: it was registered as a T, and is no longer reachable through the registry.
    drop(unsafe { Box::from_raw(p) });
    Ok(())
}

/// Start of a boundary call: no handle is current yet.
pub(crate) fn begin_call() {
    let _ = CURRENT.try_with(|c| c.set(0));
}

/// The current call panicked: poison the handle it was working on, if any.
pub(crate) fn poison_current() {
    let addr = CURRENT.try_with(|c| c.replace(0)).unwrap_or(0);
    if addr != 0 {
        if let Some(e) = registry_write().get_mut(&addr) {
            e.poisoned = true;
        }
        EPOCH.fetch_add(1, Ordering::AcqRel);
    }
}
