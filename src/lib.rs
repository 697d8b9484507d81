// SPDX-License-Identifier: MIT OR Apache-2.0
//! ipcx: every Linux IPC mechanism behind one small C ABI.
//!
//! Layout: a safe core, one module per mechanism family, and [`ffi`], the thin C
//! boundary that only converts arguments and results. Shared pieces live in one place
//! each: [`error`] (status codes, errno mapping, last-error text), [`time`] (deadlines,
//! EINTR), [`name`] (name validation), [`fd`] (descriptor I/O, SIGPIPE guard),
//! [`frame`] (message framing over byte streams), [`options`] (creation options).
#![deny(unsafe_op_in_unsafe_fn)]

pub mod admin;
pub mod chan;
pub mod error;
pub mod fd;
pub mod flags;
pub mod frame;
pub(crate) mod hook;
pub mod msgq;
pub mod name;
pub mod options;
pub mod pipe;
pub mod ring;
pub mod shm;
pub mod signal;
pub mod sock;
pub mod sync;
pub(crate) mod sys;
pub mod time;

pub mod ffi;

/// Fuzz harnesses: built by the `fuzz/` package (`--cfg fuzzing`), and by the unit tests,
/// which replay the committed corpus through them (see docs/testing.md).
#[cfg(any(fuzzing, test))]
pub mod fuzz;
