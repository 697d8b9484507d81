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

/// How an open treats an existing object: the C flags [`CREATE`] and [`EXCLUSIVE`] as one
/// choice (the boundary converts them with [`Disposition::from_c`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Open an existing object; fail if there is none.
    Existing,
    /// Create the object if it does not exist, else open it.
    Create,
    /// Create the object; fail if it exists.
    CreateNew,
}

impl Disposition {
    /// Whether this open may create the object.
    pub fn creates(self) -> bool {
        self != Disposition::Existing
    }

    /// Whether this open must create the object (it fails if the object exists).
    pub fn exclusive(self) -> bool {
        self == Disposition::CreateNew
    }

    /// The disposition the C bits [`CREATE`] and [`EXCLUSIVE`] of `flags` select (other
    /// bits are ignored); [`EXCLUSIVE`] without [`CREATE`] is refused with `needs`.
    pub(crate) fn from_c_or(flags: u32, needs: &str) -> crate::error::Result<Disposition> {
        match (flags & CREATE != 0, flags & EXCLUSIVE != 0) {
            (false, false) => Ok(Disposition::Existing),
            (true, false) => Ok(Disposition::Create),
            (true, true) => Ok(Disposition::CreateNew),
            (false, true) => Err(crate::error::Error::invalid(needs)),
        }
    }

    /// [`Disposition::from_c_or`] with the shared message.
    pub(crate) fn from_c(flags: u32) -> crate::error::Result<Disposition> {
        Disposition::from_c_or(flags, "IPCX_OPEN_EXCLUSIVE needs IPCX_OPEN_CREATE")
    }
}

/// Which way an open end transfers data: the C flags [`READ`] and [`WRITE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Receive only.
    Read,
    /// Send only.
    Write,
    /// Both.
    ReadWrite,
}

impl Access {
    /// Whether the end receives.
    pub fn reads(self) -> bool {
        self != Access::Write
    }

    /// Whether the end sends.
    pub fn writes(self) -> bool {
        self != Access::Read
    }

    /// The access the C bits [`READ`] and [`WRITE`] of `flags` select (other bits are
    /// ignored); `None` for neither.
    pub(crate) fn from_c(flags: u32) -> Option<Access> {
        match (flags & READ != 0, flags & WRITE != 0) {
            (true, false) => Some(Access::Read),
            (false, true) => Some(Access::Write),
            (true, true) => Some(Access::ReadWrite),
            (false, false) => None,
        }
    }
}

/// A set of independent options of one call: a small bit set whose bits are private to
/// Rust (the boundary maps the C flags onto the named constants).
macro_rules! option_set {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* const $flag:ident = $bit:expr;)+
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        $vis struct $name(u8);

        #[allow(dead_code)]
        impl $name {
            $($(#[$fmeta])* pub const $flag: $name = $name(1 << $bit);)+
            /// No option set.
            pub const NONE: $name = $name(0);

            /// Whether every option of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether any option of `other` is set.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// `self` with the options of `other` added when `on`.
            pub const fn with(self, other: $name, on: bool) -> $name {
                if on { $name(self.0 | other.0) } else { self }
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }

        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                self.0 |= other.0;
            }
        }
    };
}
pub(crate) use option_set;
