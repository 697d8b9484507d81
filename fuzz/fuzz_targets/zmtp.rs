// SPDX-License-Identifier: MIT OR Apache-2.0
//! ZeroMQ's ZMTP 3.1 (PUSH/PULL, NULL mechanism), received: see src/fuzz/peer.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::peer::run_zmtp(data));
