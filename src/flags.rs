// SPDX-License-Identifier: MIT OR Apache-2.0
//! The open and create flags every family shares (docs/conventions.md, "Flags"): one set,
//! the same values everywhere, in bits 0-15. Family-specific flags live with their family
//! and use bits 16-31.

/// Create the object if it does not exist.
pub(crate) const CREATE: u32 = 1;
/// With [`CREATE`]: fail if the object exists.
pub(crate) const EXCLUSIVE: u32 = 2;
/// Open for reading: the reader, consumer or receiver side.
pub(crate) const READ: u32 = 4;
/// Open for writing: the writer, producer or sender side.
pub(crate) const WRITE: u32 = 8;
/// Non-blocking mode (POSIX message queues); an open that does not wait (channel senders
/// of unix: and tcp:).
pub(crate) const NONBLOCK: u32 = 16;

/// The first bit a family-specific flag may use.
pub(crate) const FAMILY_SHIFT: u32 = 16;
/// Family-specific flag `n` (0, 1, ...).
pub(crate) const fn family(n: u32) -> u32 {
    1 << (FAMILY_SHIFT + n)
}

/// Refuse bits outside `allowed`, naming the flags `func` accepts.
pub(crate) fn check(flags: u32, allowed: u32, accepts: &str) -> crate::error::Result<()> {
    if flags & !allowed != 0 {
        return Err(crate::error::Error::invalid(format!(
            "unknown flags {:#x} (this call takes {accepts})",
            flags & !allowed
        )));
    }
    Ok(())
}
