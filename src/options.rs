// SPDX-License-Identifier: MIT OR Apache-2.0
//! Creation options shared by every mechanism (`ipcx_options` in C).
//!
//! One options object serves every mechanism so that new options never change a
//! function signature. Each mechanism states which options it honours and rejects, with
//! `IPCX_ERR_INVALID`, any other option the caller set explicitly ([`Options::only`]).

use crate::error::{Error, Result};
use crate::sock::allow::{self, Allow};

/// Default permission bits for objects ipcx creates.
pub(crate) const DEFAULT_MODE: u32 = 0o600;

/// Default maximum message size for framed messages (1 MiB).
pub(crate) const DEFAULT_MAX_MESSAGE: usize = 1 << 20;

/// Largest TCP keepalive idle time the kernel accepts (MAX_TCP_KEEPIDLE), in seconds.
pub(crate) const KEEPALIVE_MAX: u32 = 32767;

/// Largest message a 4-byte frame header can describe.
pub(crate) const FRAME_MAX_MESSAGE: usize = u32::MAX as usize;

/// The options a caller may set. `None` means "not set: use the mechanism's default".
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Permission bits for created objects (default 0600), applied exactly (no umask).
    pub mode: Option<u32>,
    /// Maximum message size in bytes.
    pub max_message: Option<usize>,
    /// Buffer capacity in bytes (pipe buffer size, ring size).
    pub capacity: Option<usize>,
    /// Refuse messages that the kernel would not write atomically (FIFO with several writers).
    pub atomic: Option<bool>,
    /// Protect writes to pipes/FIFOs against SIGPIPE (default true).
    pub sigpipe_guard: Option<bool>,
    /// Maximum number of messages a queue holds (POSIX message queue depth).
    pub max_messages: Option<usize>,
    /// TCP keepalive idle time in seconds (0 = off, the default).
    pub keepalive: Option<u32>,
    /// How long a waiting call spins (busy-polls) before it sleeps, in nanoseconds;
    /// `u64::MAX` spins without ever sleeping (shared-memory rings).
    pub spin_ns: Option<u64>,
    /// Who may connect to (or be connected by) a channel end over sockets.
    pub allow: Allow,
}

/// Names of options, for [`Options::only`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    /// [`Options::mode`]
    Mode,
    /// [`Options::max_message`]
    MaxMessage,
    /// [`Options::capacity`]
    Capacity,
    /// [`Options::atomic`]
    Atomic,
    /// [`Options::sigpipe_guard`]
    SigpipeGuard,
    /// [`Options::max_messages`]
    MaxMessages,
    /// [`Options::keepalive`]
    Keepalive,
    /// [`Options::spin_ns`]
    Spin,
    /// [`Allow::uids`]
    AllowedUids,
    /// [`Allow::gids`]
    AllowedGids,
    /// [`Allow::networks`]
    AllowedNetworks,
}

impl Opt {
    fn name(self) -> &'static str {
        match self {
            Opt::Mode => "mode",
            Opt::MaxMessage => "max_message",
            Opt::Capacity => "capacity",
            Opt::Atomic => "atomic",
            Opt::SigpipeGuard => "sigpipe_guard",
            Opt::MaxMessages => "max_messages",
            Opt::Keepalive => "keepalive",
            Opt::Spin => "spin",
            Opt::AllowedUids => "allowed_uids",
            Opt::AllowedGids => "allowed_gids",
            Opt::AllowedNetworks => "allowed_networks",
        }
    }
}

impl Options {
    /// Options that were explicitly set.
    fn set(&self) -> Vec<Opt> {
        let mut v = Vec::new();
        if self.mode.is_some() {
            v.push(Opt::Mode);
        }
        if self.max_message.is_some() {
            v.push(Opt::MaxMessage);
        }
        if self.capacity.is_some() {
            v.push(Opt::Capacity);
        }
        if self.atomic.is_some() {
            v.push(Opt::Atomic);
        }
        if self.sigpipe_guard.is_some() {
            v.push(Opt::SigpipeGuard);
        }
        if self.max_messages.is_some() {
            v.push(Opt::MaxMessages);
        }
        if self.keepalive.is_some() {
            v.push(Opt::Keepalive);
        }
        if self.spin_ns.is_some() {
            v.push(Opt::Spin);
        }
        if self.allow.uids.is_some() {
            v.push(Opt::AllowedUids);
        }
        if self.allow.gids.is_some() {
            v.push(Opt::AllowedGids);
        }
        if self.allow.networks.is_some() {
            v.push(Opt::AllowedNetworks);
        }
        v
    }

    /// Fail with `IPCX_ERR_INVALID` if an option outside `allowed` was set; `what` names the
    /// mechanism in the message ("pipes", "FIFOs"...).
    pub fn only(&self, allowed: &[Opt], what: &str) -> Result<()> {
        if let Some(o) = self.set().into_iter().find(|o| !allowed.contains(o)) {
            let names: Vec<_> = allowed.iter().map(|o| o.name()).collect();
            return Err(Error::invalid(format!(
                "option '{}' is not supported by {what} (supported: {})",
                o.name(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// The mode to create objects with.
    pub fn mode(&self) -> u32 {
        self.mode.unwrap_or(DEFAULT_MODE)
    }

    /// The maximum framed message size.
    pub fn max_message(&self) -> usize {
        self.max_message.unwrap_or(DEFAULT_MAX_MESSAGE)
    }

    /// Whether writes to pipes/FIFOs are guarded against SIGPIPE.
    pub fn sigpipe_guard(&self) -> bool {
        self.sigpipe_guard.unwrap_or(true)
    }

    /// Validate and set the mode.
    pub fn set_mode(&mut self, mode: u32) -> Result<()> {
        if mode & !0o777 != 0 {
            return Err(Error::invalid(format!(
                "mode {mode:#o} has bits outside 0777 (only permission bits are accepted)"
            )));
        }
        self.mode = Some(mode);
        Ok(())
    }

    /// Validate and set the maximum message size (1..=4 GiB-1).
    pub fn set_max_message(&mut self, n: usize) -> Result<()> {
        if n == 0 || n > FRAME_MAX_MESSAGE {
            return Err(Error::invalid(format!(
                "max_message {n} is out of range (1..={FRAME_MAX_MESSAGE})"
            )));
        }
        self.max_message = Some(n);
        Ok(())
    }

    /// Validate and set the maximum number of queued messages (at least 1; the mechanism
    /// checks its system limit when the queue is created).
    pub fn set_max_messages(&mut self, n: usize) -> Result<()> {
        if n == 0 || n > isize::MAX as usize {
            return Err(Error::invalid(format!("max_messages {n} is out of range")));
        }
        self.max_messages = Some(n);
        Ok(())
    }

    /// Validate and set the TCP keepalive idle time in seconds: 0 turns keepalive off,
    /// 1..=[`KEEPALIVE_MAX`] turns it on (TCP_KEEPIDLE and TCP_KEEPINTVL).
    pub fn set_keepalive(&mut self, seconds: u32) -> Result<()> {
        if seconds > KEEPALIVE_MAX {
            return Err(Error::invalid(format!(
                "keepalive {seconds} s is out of range (0 = off, 1..={KEEPALIVE_MAX} seconds, \
                 the kernel's limit for TCP_KEEPIDLE)"
            )));
        }
        self.keepalive = Some(seconds);
        Ok(())
    }

    /// Validate and set the users or groups (`groups`) a Unix peer must be or belong to.
    pub fn set_allowed_ids(&mut self, ids: &[u32], groups: bool) -> Result<()> {
        let what = if groups {
            "allowed_gids"
        } else {
            "allowed_uids"
        };
        if ids.is_empty() {
            return Err(Error::invalid(format!(
                "{what}: the list is empty (to admit every peer, do not set it)"
            )));
        }
        if ids.contains(&u32::MAX) {
            return Err(Error::invalid(format!(
                "{what}: {} is (uid_t)-1 / (gid_t)-1, which names no {}",
                u32::MAX,
                if groups { "group" } else { "user" }
            )));
        }
        let v = Some(ids.to_vec());
        if groups {
            self.allow.gids = v;
        } else {
            self.allow.uids = v;
        }
        Ok(())
    }

    /// Validate and set the networks a TCP peer must connect from (comma or space
    /// separated CIDR networks).
    pub fn set_allowed_networks(&mut self, text: &str) -> Result<()> {
        self.allow.networks = Some(allow::parse_networks(text)?);
        Ok(())
    }

    /// The options without the connection filter (for the socket functions, which do not
    /// take it: a channel checks its peers itself).
    pub fn without_allow(&self) -> Options {
        Options {
            allow: Allow::default(),
            ..self.clone()
        }
    }

    /// Validate and set the capacity.
    pub fn set_capacity(&mut self, n: usize) -> Result<()> {
        if n == 0 || n > isize::MAX as usize {
            return Err(Error::invalid(format!("capacity {n} is out of range")));
        }
        self.capacity = Some(n);
        Ok(())
    }
}
