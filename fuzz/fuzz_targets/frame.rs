// SPDX-License-Identifier: MIT OR Apache-2.0
//! Framed streams (pipes, FIFOs, stream sockets): see src/fuzz/frame.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::frame::run(data));
