// SPDX-License-Identifier: MIT OR Apache-2.0
//! Channel addresses: the one parser. An address is `scheme:rest`; the scheme names the
//! transport, the rest the object (see [`EXPECTED`]). Names are checked with the
//! transports' own validators (`name::path`, `name::posix_name`, the Unix socket name
//! parser shared with the socket functions), so an address is refused here for the same
//! reasons the transport would refuse it, with a message that says what was expected.
//!
//! Abstract Unix socket names are spelled as in the socket functions: `unix:@name`. The
//! `@` is only the marker of the abstract namespace (`unix:@@x` is refused, as `@@x` is
//! by the socket functions), and the 0.1 scheme `unix-abstract:` is refused with a
//! message that gives the new spelling.

use crate::error::{Error, Result};
use crate::name;
use crate::sock::addr::UnixName;

/// Every accepted form, for error messages.
pub(crate) const EXPECTED: &str = "pipe:, fifo:/path, unix:/path, unix:@name, \
                                   tcp:host:port, mq:/name, sysvmq:key[/type], shm:/name";

/// The transports, with their C values (`IPCX_CHAN_PIPE`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// An anonymous pipe (pairs only).
    Pipe = 1,
    /// A FIFO (named pipe).
    Fifo = 2,
    /// A Unix stream socket bound to a path (or a socket pair).
    Unix = 3,
    /// A Unix stream socket with an abstract name (`unix:@name`).
    UnixAbstract = 4,
    /// TCP.
    Tcp = 5,
    /// A POSIX message queue.
    Mq = 6,
    /// A System V message queue and a message type.
    SysvMq = 7,
    /// A shared-memory ring.
    Shm = 8,
}

impl Transport {
    /// The scheme, as written in addresses ("fifo"; "unix" for both Unix transports).
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Pipe => "pipe",
            Transport::Fifo => "fifo",
            Transport::Unix | Transport::UnixAbstract => "unix",
            Transport::Tcp => "tcp",
            Transport::Mq => "mq",
            Transport::SysvMq => "sysvmq",
            Transport::Shm => "shm",
        }
    }
}

/// A parsed address. Borrowed parts point into the address text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr<'a> {
    /// `pipe:`.
    Pipe,
    /// `fifo:/path`.
    Fifo(&'a str),
    /// `unix:/path`; `None` for a bare `unix:` (a socket pair).
    Unix(Option<&'a str>),
    /// `unix:@name`: the abstract name, without its `@`.
    UnixAbstract(&'a str),
    /// `tcp:host:port`.
    Tcp(&'a str),
    /// `mq:/name`.
    Mq(&'a str),
    /// `sysvmq:key[/type]`.
    SysvMq {
        /// The System V key (never IPC_PRIVATE).
        key: i32,
        /// The message type: the sub-channel (> 0).
        mtype: i64,
    },
    /// `shm:/name`; `None` for a bare `shm:` (an anonymous ring).
    Shm(Option<&'a str>),
}

impl Addr<'_> {
    /// The transport of this address.
    pub fn transport(&self) -> Transport {
        match self {
            Addr::Pipe => Transport::Pipe,
            Addr::Fifo(_) => Transport::Fifo,
            Addr::Unix(_) => Transport::Unix,
            Addr::UnixAbstract(_) => Transport::UnixAbstract,
            Addr::Tcp(_) => Transport::Tcp,
            Addr::Mq(_) => Transport::Mq,
            Addr::SysvMq { .. } => Transport::SysvMq,
            Addr::Shm(_) => Transport::Shm,
        }
    }
}

fn bad(addr: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("address {addr:?}: {why}"))
}

/// Parse `text` (see the module documentation).
pub fn parse(text: &str) -> Result<Addr<'_>> {
    if text.is_empty() {
        return Err(Error::invalid(format!(
            "the address is empty (expected {EXPECTED})"
        )));
    }
    let Some((scheme, rest)) = text.split_once(':') else {
        return Err(bad(text, format_args!("no scheme (expected {EXPECTED})")));
    };
    let named = |what: &str, e: Error| bad(text, format_args!("{what}: {}", e.msg));
    match scheme {
        "pipe" => {
            if !rest.is_empty() {
                return Err(bad(
                    text,
                    "a pipe has no name: write \"pipe:\" and make both ends with ipcx_chan_pair \
                     (for unrelated processes use fifo:/path)",
                ));
            }
            Ok(Addr::Pipe)
        }
        "fifo" => {
            if rest.is_empty() {
                return Err(bad(text, "expected fifo:/path (the FIFO's path)"));
            }
            name::path(rest).map_err(|e| named("expected fifo:/path", e))?;
            Ok(Addr::Fifo(rest))
        }
        "unix" => {
            if rest.is_empty() {
                return Ok(Addr::Unix(None));
            }
            match UnixName::parse(rest) {
                Ok(UnixName::Path(p)) => Ok(Addr::Unix(Some(p))),
                Ok(UnixName::Abstract(n)) => Ok(Addr::UnixAbstract(n)),
                Err(e) if rest.starts_with('@') => Err(named("expected unix:@name", e)),
                Err(e) => Err(named("expected unix:/path", e)),
            }
        }
        "unix-abstract" => Err(bad(
            text,
            format_args!(
                "the unix-abstract: scheme is gone: for an abstract name write unix:@name, \
                 as in the socket functions (here \"unix:@{}\")",
                rest.strip_prefix('@').unwrap_or(rest)
            ),
        )),
        "tcp" => {
            if rest.is_empty() {
                return Err(bad(
                    text,
                    "expected tcp:host:port (or tcp:[ipv6]:port; port 0 lets a receiver pick one)",
                ));
            }
            Ok(Addr::Tcp(rest))
        }
        "mq" => {
            name::posix_name(rest, name::POSIX_NAME_MAX)
                .map_err(|e| named("expected mq:/name", e))?;
            Ok(Addr::Mq(rest))
        }
        "sysvmq" => sysvmq(text, rest),
        "shm" => {
            if rest.is_empty() {
                return Ok(Addr::Shm(None));
            }
            name::posix_name(rest, name::POSIX_NAME_MAX)
                .map_err(|e| named("expected shm:/name", e))?;
            Ok(Addr::Shm(Some(rest)))
        }
        _ => Err(Error::invalid(format!(
            "unknown scheme {scheme:?} in address {text:?} (expected {EXPECTED})"
        ))),
    }
}

/// `key[/type]`: key decimal or 0x-hex (32 bits, not 0), type decimal > 0 (default 1).
fn sysvmq<'a>(text: &'a str, rest: &str) -> Result<Addr<'a>> {
    const FORM: &str = "expected sysvmq:key[/type] (key: a decimal or 0x-hexadecimal number, \
                        not 0; type: a decimal number > 0, default 1)";
    let (k, t) = match rest.split_once('/') {
        Some((k, t)) => (k, Some(t)),
        None => (rest, None),
    };
    let key = if let Some(hex) = k.strip_prefix("0x").or_else(|| k.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok().map(|v| v as i32)
    } else if k.starts_with('-') {
        k.parse::<i32>().ok()
    } else {
        k.parse::<u32>().ok().map(|v| v as i32)
    };
    let Some(key) = key.filter(|_| !k.is_empty() && !k.starts_with('+')) else {
        return Err(bad(text, format_args!("bad key {k:?}: {FORM}")));
    };
    if key == 0 {
        return Err(bad(
            text,
            format_args!("key 0 is IPC_PRIVATE, which no other process can open by key: {FORM}"),
        ));
    }
    let mtype = match t {
        None => 1,
        Some(t) => match t.parse::<i64>() {
            Ok(v) if v > 0 && !t.starts_with('+') => v,
            _ => return Err(bad(text, format_args!("bad type {t:?}: {FORM}"))),
        },
    };
    Ok(Addr::SysvMq { key, mtype })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme() {
        assert_eq!(parse("pipe:").unwrap(), Addr::Pipe);
        assert_eq!(parse("fifo:/tmp/f").unwrap(), Addr::Fifo("/tmp/f"));
        assert_eq!(parse("unix:/tmp/s").unwrap(), Addr::Unix(Some("/tmp/s")));
        assert_eq!(parse("unix:").unwrap(), Addr::Unix(None));
        assert_eq!(parse("unix:@x").unwrap(), Addr::UnixAbstract("x"));
        assert_eq!(parse("unix:@x").unwrap().transport().scheme(), "unix");
        assert_eq!(parse("tcp:127.0.0.1:0").unwrap(), Addr::Tcp("127.0.0.1:0"));
        assert_eq!(parse("mq:/q").unwrap(), Addr::Mq("/q"));
        assert_eq!(parse("shm:/r").unwrap(), Addr::Shm(Some("/r")));
        assert_eq!(parse("shm:").unwrap(), Addr::Shm(None));
        assert_eq!(
            parse("sysvmq:0x10/3").unwrap(),
            Addr::SysvMq { key: 16, mtype: 3 }
        );
        assert_eq!(
            parse("sysvmq:4294967295").unwrap(),
            Addr::SysvMq { key: -1, mtype: 1 }
        );
    }

    #[test]
    fn errors_say_what_was_expected() {
        for (a, want) in [
            ("", "expected pipe:"),
            ("nocolon", "no scheme"),
            ("fifo2:/x", "unknown scheme \"fifo2\""),
            ("pipe:x", "pipe has no name"),
            ("fifo:", "expected fifo:/path"),
            ("unix-abstract:x", "write unix:@name"),
            ("unix-abstract:x", "unix:@x"),
            ("unix-abstract:@x", "unix:@x"),
            ("unix:@", "expected unix:@name"),
            ("unix:@@x", "two '@'"),
            ("mq:noslash", "expected mq:/name"),
            ("shm:/a/b", "expected shm:/name"),
            ("sysvmq:0", "IPC_PRIVATE"),
            ("sysvmq:zz", "expected sysvmq:key[/type]"),
            ("sysvmq:1/0", "bad type"),
            ("sysvmq:1/-2", "bad type"),
            ("sysvmq:", "bad key"),
            ("tcp:", "expected tcp:host:port"),
        ] {
            let e = parse(a).unwrap_err();
            assert!(e.msg.contains(want), "{a}: {}", e.msg);
            assert_eq!(e.status, crate::error::Status::IPCX_ERR_INVALID);
        }
        let long = format!("unix:/{}", "x".repeat(200));
        assert!(parse(&long).unwrap_err().msg.contains("sun_path"));
    }
}
