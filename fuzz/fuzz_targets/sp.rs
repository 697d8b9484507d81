// SPDX-License-Identifier: MIT OR Apache-2.0
//! nng's SP wire protocol (PUSH/PULL over TCP and IPC), received: see src/fuzz/peer.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::peer::run_sp(data));
