// SPDX-License-Identifier: MIT OR Apache-2.0
//! Administration: listing the IPC objects of the system and removing stale ones
//! ([`inspect`], behind the `ipcx_inspect_*` functions and the `ipcx` tool), and the
//! provenance records that tell which objects ipcx created ([`provenance`]).
//!
//! The rest of the library does not import this tree: the mechanisms report what they
//! create and remove through [`crate::hook`], the one path into it. This tree calls the
//! mechanisms (to remove an object, to read a queue's depth), never the other way round.

pub mod inspect;
pub mod provenance;
