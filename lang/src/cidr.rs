//! Address ranges (`"10.0.0.0/8"`, `"fd00::/8"`, `"203.0.113.7"`) as written in a `proxies` block.
//!
//! The checker parses every range at load and reports a bad one at its line and column;
//! the engine then holds the parsed [`Cidr`] values, so the two never disagree on what
//! a range means.

use std::fmt;
use std::net::IpAddr;

/// A network: an address with its prefix length, host bits zero. A bare address is the
/// one-address network (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a range does not parse; the message names the problem, the caller the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrError {
    /// Lower-case, user input in backticks.
    pub message: String,
    /// The intended network, when the range only had host bits set (`10.0.0.1/8`).
    pub suggestion: Option<String>,
}

impl Cidr {
    /// Parse `ADDRESS` or `ADDRESS/PREFIX` (IPv4 or IPv6). Host bits must be zero:
    /// `10.0.0.1/8` is refused rather than silently read as `10.0.0.0/8`, since a
    /// typo in the prefix would otherwise widen the trusted range without a word.
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let err = |message: String| CidrError {
            message,
            suggestion: None,
        };
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            err(format!(
                "`{addr_text}` is not an IPv4 or IPv6 address (write `10.0.0.0/8`, `fd00::/8` or one address)"
            ))
        })?;
        let (max, family) = if addr.is_ipv4() {
            (32, "IPv4")
        } else {
            (128, "IPv6")
        };
        let too_long = || {
            err(format!(
                "the prefix length `/{}` is larger than {max}, the bits of an {family} address",
                prefix_text.unwrap_or_default()
            ))
        };
        let not_a_number = || {
            err(format!(
                "`/{}` is not a prefix length (a number from 0 to {max})",
                prefix_text.unwrap_or_default()
            ))
        };
        // Digits only: `u8::from_str` would also take a leading `+`.
        let prefix = match prefix_text {
            None => max,
            Some(p) if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(not_a_number())
            }
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(too_long()),
            },
        };
        let cidr = Cidr { addr, prefix };
        let network = cidr.network();
        if network != addr {
            return Err(CidrError {
                message: format!(
                    "`{text}` has host bits set: the network of `/{prefix}` is `{network}/{prefix}`"
                ),
                suggestion: Some(format!("{network}/{prefix}")),
            });
        }
        Ok(cidr)
    }

    /// The network address (the given address with its host bits cleared).
    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// Whether `ip` is in the network. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`,
    /// what a dual-stack socket reports for an IPv4 peer) is the IPv4 address here, so
    /// `10.0.0.0/8` covers it; an IPv4 network never covers another IPv6 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::Cidr;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let net = Cidr::parse("10.0.0.0/8");
        assert!(net.as_ref().is_ok_and(|n| n.contains(ip("10.255.1.2"))));
        assert!(net.as_ref().is_ok_and(|n| !n.contains(ip("11.0.0.1"))));
        // A dual-stack socket's spelling of an IPv4 peer.
        assert!(net
            .as_ref()
            .is_ok_and(|n| n.contains(ip("::ffff:10.1.2.3"))));
        assert!(net.as_ref().is_ok_and(|n| !n.contains(ip("fd00::1"))));
        let v6 = Cidr::parse("fd00::/8");
        assert!(v6.as_ref().is_ok_and(|n| n.contains(ip("fd12:3456::1"))));
        assert!(v6.as_ref().is_ok_and(|n| !n.contains(ip("fe80::1"))));
        assert!(v6.as_ref().is_ok_and(|n| !n.contains(ip("10.0.0.1"))));
        let one = Cidr::parse("203.0.113.7");
        assert!(one.as_ref().is_ok_and(|n| n.contains(ip("203.0.113.7"))));
        assert!(one.as_ref().is_ok_and(|n| !n.contains(ip("203.0.113.8"))));
        let all = Cidr::parse("0.0.0.0/0");
        assert!(all.as_ref().is_ok_and(|n| n.contains(ip("198.51.100.1"))));
        let all6 = Cidr::parse("::/0");
        assert!(all6.as_ref().is_ok_and(|n| n.contains(ip("2001:db8::1"))));
        assert_eq!(
            Cidr::parse("2001:db8::/32").map(|c| c.to_string()),
            Ok("2001:db8::/32".to_owned())
        );
    }

    #[test]
    fn bad_ranges_say_why() {
        for (text, says) in [
            ("10.0.0.0/33", "larger than 32"),
            ("fd00::/129", "larger than 128"),
            ("10.0.0/8", "not an IPv4 or IPv6 address"),
            ("localhost", "not an IPv4 or IPv6 address"),
            ("", "not an IPv4 or IPv6 address"),
            ("10.0.0.0/", "not a prefix length"),
            ("10.0.0.0/+8", "not a prefix length"),
            ("10.0.0.0/8/8", "not a prefix length"),
            ("10.0.0.0/ 8", "not a prefix length"),
            ("[::1]/128", "not an IPv4 or IPv6 address"),
        ] {
            let got = Cidr::parse(text);
            assert!(
                got.as_ref().is_err_and(|e| e.message.contains(says)),
                "`{text}`: {got:?}"
            );
        }
        let e = Cidr::parse("10.0.0.1/8").err();
        assert_eq!(e.and_then(|e| e.suggestion), Some("10.0.0.0/8".to_owned()));
    }
}
