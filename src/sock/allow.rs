// SPDX-License-Identifier: MIT OR Apache-2.0
//! Who may connect: a filter checked once per connection, when it is made (accepted by a
//! listener, or made by a connect), before any message is read or written on it.
//!
//! - Unix peers by user and group: the credentials the kernel recorded when the peer
//!   connected or listened (SO_PEERCRED: its effective uid and gid) and its supplementary
//!   groups (SO_PEERGROUPS). A peer is admitted when its uid is in the uid list, or its
//!   gid or one of its supplementary groups is in the gid list.
//! - TCP peers by source address: admitted when the address is in one of the networks
//!   (CIDR, `10.0.0.0/8`, `fd00::/8`; a bare address is one host). An IPv4 peer that
//!   reaches an IPv6 listener (as `::ffff:a.b.c.d`) is matched against the IPv4 networks.
//!
//! The filter sees what the kernel says about the connection, nothing the peer sends: it
//! is as good as the network's addresses (spoofable off the local host) and the local
//! accounts are. It is no authentication; see docs/channel.md.
//!
//! Raw: the SO_PEERGROUPS `getsockopt` (a buffer the kernel sizes), which nix lacks; the
//! peer's uid and gid come from `unix::peer_credentials` (nix).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;

use super::Sock;
use crate::error::{Error, Result};

/// SO_PEERGROUPS (Linux 4.13), the same value on every architecture ipcx builds on but
/// MIPS, PA-RISC and SPARC, where the libc crate does not export it for all targets.
#[cfg(not(any(target_arch = "mips", target_arch = "mips64", target_arch = "sparc64")))]
const SO_PEERGROUPS: libc::c_int = 59;
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const SO_PEERGROUPS: libc::c_int = 0x1028;
#[cfg(target_arch = "sparc64")]
const SO_PEERGROUPS: libc::c_int = 0x003d;

/// An IP network: an address and a prefix length. IPv4 networks are kept in their
/// IPv4-mapped IPv6 form (`::ffff:0:0/96` and below), so one comparison serves both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: [u8; 16],
    prefix: u8,
    v4: bool,
}

impl Network {
    /// `a.b.c.d[/n]` (n ≤ 32) or an IPv6 address with an optional `/n` (n ≤ 128). Bits
    /// after the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn parse(s: &str) -> Result<Network> {
        const FORM: &str = "expected an IPv4 or IPv6 network: an address with an optional \
                            prefix length, such as 10.0.0.0/8, 192.168.1.20, fd00::/8 or ::1";
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let ip: IpAddr = a
            .parse()
            .map_err(|_| Error::invalid(format!("network {s:?}: {FORM}")))?;
        let (bits, v4, addr) = match ip {
            IpAddr::V4(v4) => (32u8, true, v4.to_ipv6_mapped().octets()),
            IpAddr::V6(v6) => (128u8, false, v6.octets()),
        };
        let prefix = match p {
            None => bits,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= bits && !p.starts_with('+') => n,
                _ => {
                    return Err(Error::invalid(format!(
                        "network {s:?}: the prefix length must be 0..={bits} ({FORM})"
                    )));
                }
            },
        };
        let prefix = if v4 { prefix + 96 } else { prefix };
        let mut n = Network { addr, prefix, v4 };
        n.addr = n.masked(&addr);
        Ok(n)
    }

    fn masked(&self, a: &[u8; 16]) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            let keep = (self.prefix as usize).saturating_sub(i * 8).min(8);
            let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
            *o = a[i] & mask;
        }
        out
    }

    /// Whether `ip` is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let a = match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        self.masked(&a) == self.addr
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v6 = Ipv6Addr::from(self.addr);
        match (self.v4, v6.to_ipv4_mapped()) {
            (true, Some(v4)) => write!(f, "{v4}/{}", self.prefix - 96),
            _ => write!(f, "{v6}/{}", self.prefix),
        }
    }
}

/// Parse a list of networks separated by commas and/or white space.
pub fn parse_networks(text: &str) -> Result<Vec<Network>> {
    let v = text
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
        .map(Network::parse)
        .collect::<Result<Vec<_>>>()?;
    if v.is_empty() {
        return Err(Error::invalid(format!(
            "the network list {text:?} is empty (to admit every peer, do not set it)"
        )));
    }
    Ok(v)
}

/// Who may connect (see the module documentation). Unset lists admit everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allow {
    /// Unix peers: these users.
    pub uids: Option<Vec<u32>>,
    /// Unix peers: members of these groups (effective or supplementary).
    pub gids: Option<Vec<u32>>,
    /// TCP peers: from these networks.
    pub networks: Option<Vec<Network>>,
}

impl Allow {
    /// Whether every peer is admitted.
    pub fn is_open(&self) -> bool {
        self.uids.is_none() && self.gids.is_none() && self.networks.is_none()
    }

    /// Check the peer of `s`: `Ok(Ok(()))` if admitted, `Ok(Err(why))` if refused.
    pub fn check(&self, s: &Sock) -> Result<std::result::Result<(), String>> {
        if self.is_open() {
            return Ok(Ok(()));
        }
        if s.is_unix() {
            if self.uids.is_none() && self.gids.is_none() {
                return Ok(Ok(()));
            }
            let (pid, uid, gid) = s.peer_credentials()?;
            if self.uids.as_ref().is_some_and(|l| l.contains(&uid)) {
                return Ok(Ok(()));
            }
            if let Some(gids) = &self.gids {
                if gids.contains(&gid) || peer_groups(s)?.iter().any(|g| gids.contains(g)) {
                    return Ok(Ok(()));
                }
            }
            return Ok(Err(format!(
                "the peer (pid {pid}, uid {uid}, gid {gid}) is not an allowed user or a \
                 member of an allowed group"
            )));
        }
        let Some(nets) = &self.networks else {
            return Ok(Ok(()));
        };
        let peer = s.peer_address()?;
        match peer.socket_addr() {
            Some(sa) if nets.iter().any(|n| n.contains(sa.ip())) => Ok(Ok(())),
            _ => Ok(Err(format!(
                "the peer {peer} is not in an allowed network ({})",
                nets.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// The peer's supplementary groups (SO_PEERGROUPS).
fn peer_groups(s: &Sock) -> Result<Vec<u32>> {
    let mut groups = vec![0u32; 64];
    loop {
        let mut len = (groups.len() * 4) as libc::socklen_t;
        // SAFETY: a buffer of `len` bytes for the kernel to fill.
        let r = unsafe {
            libc::getsockopt(
                s.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if r == 0 {
            groups.truncate(len as usize / 4);
            return Ok(groups);
        }
        let e = nix::errno::Errno::last();
        // ERANGE: `len` is the size needed (at most NGROUPS_MAX, 65536 groups).
        if e == nix::errno::Errno::ERANGE && (len as usize) > groups.len() * 4 {
            groups.resize((len as usize).div_ceil(4).min(65536), 0);
            continue;
        }
        return Err(Error::os(e, "getsockopt(SO_PEERGROUPS)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let n = Network::parse("10.1.2.3/8").unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!(n.contains("10.200.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        let h = Network::parse("127.0.0.1").unwrap();
        assert!(h.contains("127.0.0.1".parse().unwrap()));
        assert!(!h.contains("127.0.0.2".parse().unwrap()));
        let v6 = Network::parse("fd77::/64").unwrap();
        assert_eq!(v6.to_string(), "fd77::/64");
        assert!(v6.contains("fd77::2".parse().unwrap()));
        assert!(!v6.contains("fd78::2".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        let all = Network::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x",
            "10.0.0.0/+8",
            "1.2.3.4/",
        ] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        let l = parse_networks(" 10.0.0.0/8,fd00::/8  127.0.0.1 ").unwrap();
        assert_eq!(l.len(), 3);
        assert!(parse_networks(" , ").is_err());
    }
}
