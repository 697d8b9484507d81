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
//!
//! The schemes of other messaging libraries' wire protocols name the library and its
//! transport, and map one to one to their endpoint URLs: `nng+tcp:host:port` is nng's
//! `tcp://host:port`, `nng+ipc:/path` its `ipc:///path`, `nng+ipc:@name` its
//! `abstract://name`; `zmq+tcp:host:port` is ZeroMQ's `tcp://host:port`, `zmq+ipc:/path`
//! its `ipc:///path`, `zmq+ipc:@name` its `ipc://@name`.

use crate::error::{Error, Result};
use crate::name;
use crate::sock::addr::UnixName;

/// Every accepted form, for error messages.
pub(crate) const EXPECTED: &str = "pipe:, fifo:/path, unix:/path, unix:@name, \
                                   tcp:host:port, mq:/name, sysvmq:key[/type], shm:/name, \
                                   nng+tcp:host:port, nng+ipc:/path, zmq+tcp:host:port, \
                                   zmq+ipc:/path";

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
    /// nng/nanomsg's SP wire protocol (PUSH/PULL) over TCP.
    NngTcp = 9,
    /// nng/nanomsg's SP wire protocol (PUSH/PULL) over a Unix stream socket (IPC).
    NngIpc = 10,
    /// ZeroMQ's ZMTP 3.1 (PUSH/PULL, NULL mechanism) over TCP.
    ZmqTcp = 11,
    /// ZeroMQ's ZMTP 3.1 (PUSH/PULL, NULL mechanism) over a Unix stream socket (IPC).
    ZmqIpc = 12,
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
            Transport::NngTcp => "nng+tcp",
            Transport::NngIpc => "nng+ipc",
            Transport::ZmqTcp => "zmq+tcp",
            Transport::ZmqIpc => "zmq+ipc",
        }
    }

    /// Whether this is the wire protocol of another messaging library.
    pub fn is_peer(self) -> bool {
        matches!(
            self,
            Transport::NngTcp | Transport::NngIpc | Transport::ZmqTcp | Transport::ZmqIpc
        )
    }
}

/// The library whose wire protocol a peer address speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    /// nng and nanomsg: the scalability protocols (SP).
    Nng,
    /// ZeroMQ: ZMTP 3.1 with the NULL mechanism.
    Zmq,
}

/// How a peer address is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link<'a> {
    /// TCP, `host:port`.
    Tcp(&'a str),
    /// A Unix stream socket: a path, or `@name` for an abstract name.
    Ipc(UnixName<'a>),
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
    /// `nng+tcp:host:port`, `nng+ipc:/path`, `zmq+tcp:host:port`, `zmq+ipc:/path` (and
    /// `@name` for the abstract forms).
    Peer(Lib, Link<'a>),
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
            Addr::Peer(Lib::Nng, Link::Tcp(_)) => Transport::NngTcp,
            Addr::Peer(Lib::Nng, Link::Ipc(_)) => Transport::NngIpc,
            Addr::Peer(Lib::Zmq, Link::Tcp(_)) => Transport::ZmqTcp,
            Addr::Peer(Lib::Zmq, Link::Ipc(_)) => Transport::ZmqIpc,
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
        "nng+tcp" | "zmq+tcp" | "nng+ipc" | "zmq+ipc" => peer(text, scheme, rest),
        _ => Err(Error::invalid(format!(
            "unknown scheme {scheme:?} in address {text:?} (expected {EXPECTED})"
        ))),
    }
}

/// The address of a peer library's endpoint (see the module documentation).
fn peer<'a>(text: &'a str, scheme: &str, rest: &'a str) -> Result<Addr<'a>> {
    let (lib, link) = scheme.split_once('+').unwrap_or((scheme, ""));
    let lib = if lib == "nng" { Lib::Nng } else { Lib::Zmq };
    let url_scheme = rest
        .find("://")
        .is_some_and(|i| i > 0 && rest[..i].bytes().all(|b| b.is_ascii_alphanumeric()));
    if url_scheme {
        let map = match lib {
            Lib::Nng => {
                "nng's tcp://host:port, ipc:///path and abstract://name are \
                 nng+tcp:host:port, nng+ipc:/path and nng+ipc:@name"
            }
            Lib::Zmq => {
                "ZeroMQ's tcp://host:port, ipc:///path and ipc://@name are \
                 zmq+tcp:host:port, zmq+ipc:/path and zmq+ipc:@name"
            }
        };
        return Err(bad(
            text,
            format_args!("write the endpoint without its URL prefix: {map}"),
        ));
    }
    if link == "tcp" {
        if rest.is_empty() {
            return Err(bad(
                text,
                format_args!(
                    "expected {scheme}:host:port (or {scheme}:[ipv6]:port; port 0 lets a \
                     listening end pick one)"
                ),
            ));
        }
        return Ok(Addr::Peer(lib, Link::Tcp(rest)));
    }
    if rest.is_empty() {
        return Err(bad(
            text,
            format_args!("expected {scheme}:/path or {scheme}:@name (the socket's name)"),
        ));
    }
    match UnixName::parse(rest) {
        Ok(n) => Ok(Addr::Peer(lib, Link::Ipc(n))),
        Err(e) => Err(bad(
            text,
            format_args!("expected {scheme}:/path or {scheme}:@name: {}", e.msg),
        )),
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
        assert_eq!(
            parse("nng+tcp:127.0.0.1:5555").unwrap(),
            Addr::Peer(Lib::Nng, Link::Tcp("127.0.0.1:5555"))
        );
        assert_eq!(
            parse("zmq+ipc:/tmp/z").unwrap(),
            Addr::Peer(Lib::Zmq, Link::Ipc(UnixName::Path("/tmp/z")))
        );
        assert_eq!(
            parse("nng+ipc:@n").unwrap(),
            Addr::Peer(Lib::Nng, Link::Ipc(UnixName::Abstract("n")))
        );
        assert_eq!(
            parse("zmq+tcp:[::1]:1").unwrap().transport(),
            Transport::ZmqTcp
        );
        assert_eq!(Transport::NngIpc.scheme(), "nng+ipc");
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
            ("nng+tcp:", "expected nng+tcp:host:port"),
            ("zmq+ipc:", "expected zmq+ipc:/path or zmq+ipc:@name"),
            ("zmq+ipc:@@x", "two '@'"),
            ("zmq+tcp:tcp://a:1", "without its URL prefix"),
            (
                "nng+ipc:ipc:///tmp/x",
                "ipc:///path and abstract://name are",
            ),
            ("nng+udp:x", "unknown scheme"),
        ] {
            let e = parse(a).unwrap_err();
            assert!(e.msg.contains(want), "{a}: {}", e.msg);
            assert_eq!(e.status, crate::error::Status::IPCX_ERR_INVALID);
        }
        let long = format!("unix:/{}", "x".repeat(200));
        assert!(parse(&long).unwrap_err().msg.contains("sun_path"));
    }
}
