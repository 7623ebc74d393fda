//! Trusted proxies: the client address of a request that came through reverse proxies.
//!
//! Without a `proxies` block the client address is the socket peer the host passed and
//! forwarding headers are ignored: anybody can write `X-Forwarded-For`. With one, the
//! engine reads the chain of addresses the proxies reported (`X-Forwarded-For`, or RFC
//! 7239 `Forwarded`, one of the two as the policy says) and walks it from the right,
//! starting at the peer: each address that is a trusted proxy is skipped, and the first
//! one that is not is the client. Every address right of it was written by a trusted
//! proxy; anything left of it was written by the client and is never read.
//!
//! A chain that cannot be read where the walk needs it (a malformed element, `unknown`,
//! an obfuscated `_name`, a `Forwarded` element without `for=`) gives the peer address:
//! such requests share their proxy's budget, and no header a client writes can earn it
//! a fresh one.

use std::net::{IpAddr, Ipv6Addr};
use warden_lang::cidr::Cidr;

/// Which header the proxies write. One, never both: a proxy that appends to
/// `X-Forwarded-For` passes a client's own `Forwarded` header through untouched, so
/// reading the other one would let the client choose its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ForwardHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, AWS ALB, Cloudflare).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

/// The reverse proxies whose forwarding headers count, compiled from a `proxies` block.
/// The default trusts nothing: every request's client is its peer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    /// Ranges of trusted proxies (`trusted` lines kept at load, possibly none); `None`
    /// when the block has no `trusted` line: then any address, within `hops`.
    pub(crate) nets: Option<Vec<Cidr>>,
    /// At most this many addresses (the peer included) are skipped as proxies.
    pub(crate) hops: Option<u32>,
    pub(crate) header: ForwardHeader,
}

/// One address of the forwarding chain, as far as the engine can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Addr(IpAddr),
    /// `unknown`, an obfuscated name, a missing `for=`, or text that is no address.
    Unreadable,
}

impl TrustedProxies {
    /// The client address of a request from `peer` with these headers (lower-case
    /// names). `None` when the host gave no peer: headers alone prove nothing.
    pub(crate) fn client(
        &self,
        peer: Option<IpAddr>,
        headers: &[(String, String)],
    ) -> Option<IpAddr> {
        let given = peer?;
        let peer = given.to_canonical();
        if !self.trusts(peer, 0) {
            return Some(given);
        }
        let name = match self.header {
            ForwardHeader::XForwardedFor => "x-forwarded-for",
            ForwardHeader::Forwarded => "forwarded",
        };
        // Repeated header lines are one comma-separated list, in order (RFC 9110 §5.3).
        let mut lines = headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let joined;
        let value = match (lines.next(), lines.next()) {
            (None, _) => return Some(peer),
            (Some(one), None) => one,
            (Some(first), Some(second)) => {
                let mut s = format!("{first},{second}");
                for line in lines {
                    s.push(',');
                    s.push_str(line);
                }
                joined = s;
                &joined
            }
        };
        let mut current = peer;
        let mut skipped = 1;
        let mut walk = |hop: Hop| -> Option<IpAddr> {
            match hop {
                Hop::Unreadable => Some(peer),
                Hop::Addr(a) => {
                    current = a;
                    let trusted = self.trusts(a, skipped);
                    skipped += 1;
                    (!trusted).then_some(a)
                }
            }
        };
        match self.header {
            ForwardHeader::XForwardedFor => {
                for element in value.rsplit(',') {
                    if let Some(found) = walk(xff_hop(element)) {
                        return Some(found);
                    }
                }
            }
            ForwardHeader::Forwarded => {
                let Some(hops) = forwarded_hops(value) else {
                    return Some(peer);
                };
                for hop in hops.into_iter().rev() {
                    if let Some(found) = walk(hop) {
                        return Some(found);
                    }
                }
            }
        }
        // Every address is a trusted proxy: the left-most is the nearest thing to a
        // client the chain names (a request from inside the proxies' own network).
        Some(current)
    }

    /// Whether `addr`, with `skipped` proxies already skipped right of it, is a proxy.
    /// A hop count alone trusts any address within the count; neither trusts nothing
    /// (a block whose every line an `if` dropped at load).
    fn trusts(&self, addr: IpAddr, skipped: u32) -> bool {
        let listed = match &self.nets {
            Some(nets) => nets.iter().any(|n| n.contains(addr)),
            None => self.hops.is_some(),
        };
        listed && self.hops.is_none_or(|h| skipped < h)
    }
}

/// One `X-Forwarded-For` element: an address, `IPv4:port` or `[IPv6]` with an optional
/// port (written by some load balancers), surrounded by optional blanks.
fn xff_hop(element: &str) -> Hop {
    node_address(element.trim_matches([' ', '\t']))
}

/// An address with an optional port: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:80`.
fn node_address(text: &str) -> Hop {
    if let Ok(a) = text.parse::<IpAddr>() {
        return Hop::Addr(a.to_canonical());
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Hop::Unreadable;
        };
        let Ok(a) = v6.parse::<Ipv6Addr>() else {
            return Hop::Unreadable;
        };
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Hop::Unreadable,
        };
        (IpAddr::V6(a), port)
    } else {
        let Some((v4, port)) = text.split_once(':') else {
            return Hop::Unreadable;
        };
        let Ok(a) = v4.parse::<std::net::Ipv4Addr>() else {
            return Hop::Unreadable;
        };
        (IpAddr::V4(a), Some(port))
    };
    match port {
        None => Hop::Addr(host.to_canonical()),
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Hop::Addr(host.to_canonical())
        }
        // RFC 7239 obfuscated ports (`_abc`) say nothing about the address either way.
        Some(p) if p.starts_with('_') && p.len() > 1 => Hop::Addr(host.to_canonical()),
        Some(_) => Hop::Unreadable,
    }
}

/// The `for=` of each element of a `Forwarded` value (RFC 7239 §4), left to right;
/// `None` when the value does not follow the grammar at all (then no element can be
/// trusted to be where it seems).
fn forwarded_hops(value: &str) -> Option<Vec<Hop>> {
    let bytes = value.as_bytes();
    let mut hops = Vec::new();
    let mut i = 0;
    let skip_ows = |i: &mut usize| {
        while bytes.get(*i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            *i += 1;
        }
    };
    loop {
        // forwarded-element = [ pair ] *( ";" [ pair ] ), elements separated by ",".
        let mut node: Option<Hop> = None;
        loop {
            skip_ows(&mut i);
            if matches!(bytes.get(i), Some(b';' | b',') | None) {
                // An empty pair: allowed by the grammar, means nothing.
            } else {
                let start = i;
                while bytes.get(i).is_some_and(|b| is_tchar(*b)) {
                    i += 1;
                }
                let name = value.get(start..i)?;
                if name.is_empty() || bytes.get(i) != Some(&b'=') {
                    return None;
                }
                i += 1;
                let v = if bytes.get(i) == Some(&b'"') {
                    i += 1;
                    let mut s = String::new();
                    loop {
                        match bytes.get(i) {
                            Some(b'"') => break,
                            Some(b'\\') => {
                                let c = *bytes.get(i + 1)?;
                                s.push(char::from(c));
                                i += 2;
                            }
                            Some(&c) if c == b'\t' || (0x20..0x7f).contains(&c) => {
                                s.push(char::from(c));
                                i += 1;
                            }
                            _ => return None,
                        }
                    }
                    i += 1;
                    s
                } else {
                    let start = i;
                    while bytes.get(i).is_some_and(|b| is_tchar(*b)) {
                        i += 1;
                    }
                    if start == i {
                        return None;
                    }
                    value.get(start..i)?.to_owned()
                };
                if name.eq_ignore_ascii_case("for") {
                    if node.is_some() {
                        return None; // two `for=` in one element: which one is real?
                    }
                    node = Some(node_address(&v));
                }
                skip_ows(&mut i);
            }
            match bytes.get(i) {
                Some(b';') => i += 1,
                Some(b',') | None => break,
                Some(_) => return None,
            }
        }
        hops.push(node.unwrap_or(Hop::Unreadable));
        match bytes.get(i) {
            Some(b',') => i += 1,
            _ => return Some(hops),
        }
    }
}

/// RFC 9110 `tchar`: the characters of a token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::{ForwardHeader, TrustedProxies};
    use std::net::IpAddr;
    use warden_lang::cidr::Cidr;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    fn proxies(nets: &[&str], hops: Option<u32>, header: ForwardHeader) -> TrustedProxies {
        TrustedProxies {
            nets: (!nets.is_empty())
                .then(|| nets.iter().filter_map(|n| Cidr::parse(n).ok()).collect()),
            hops,
            header,
        }
    }

    fn client(p: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> Option<IpAddr> {
        let h: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        p.client(Some(ip(peer)), &h)
    }

    const XFF: ForwardHeader = ForwardHeader::XForwardedFor;
    const FWD: ForwardHeader = ForwardHeader::Forwarded;

    #[test]
    fn right_most_untrusted_address_wins() {
        let p = proxies(&["10.0.0.0/8"], None, XFF);
        let xff = |v: &'static str| [("x-forwarded-for", v)];
        // The load balancer appended the client; what the client wrote is left of it.
        assert_eq!(
            client(&p, "10.0.0.1", &xff("6.6.6.6, 198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        // Several proxies in the private range.
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &xff("1.1.1.1,198.51.100.7 , 10.2.0.5,10.3.0.9")
            ),
            Some(ip("198.51.100.7"))
        );
        // An untrusted peer: its header is not read at all.
        assert_eq!(
            client(&p, "203.0.113.9", &xff("198.51.100.7")),
            Some(ip("203.0.113.9"))
        );
        // No header: the proxy itself.
        assert_eq!(client(&p, "10.0.0.1", &[]), Some(ip("10.0.0.1")));
        // Only proxies: the left-most of them.
        assert_eq!(
            client(&p, "10.0.0.1", &xff("10.9.9.9, 10.0.0.2")),
            Some(ip("10.9.9.9"))
        );
        // Repeated lines are one list, in order.
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("x-forwarded-for", "198.51.100.7, 10.0.0.3")
                ]
            ),
            Some(ip("198.51.100.7"))
        );
        // No peer: nothing to start from.
        assert_eq!(
            p.client(None, &[("x-forwarded-for".into(), "198.51.100.7".into())]),
            None
        );
    }

    #[test]
    fn hop_counts_cap_the_proxies_skipped() {
        let one = proxies(&[], Some(1), XFF);
        let xff = [("x-forwarded-for", "6.6.6.6, 198.51.100.7, 203.0.113.2")];
        assert_eq!(client(&one, "192.0.2.1", &xff), Some(ip("203.0.113.2")));
        let two = proxies(&[], Some(2), XFF);
        assert_eq!(client(&two, "192.0.2.1", &xff), Some(ip("198.51.100.7")));
        // Both: a proxy must be in the range *and* within the count.
        let both = proxies(&["10.0.0.0/8"], Some(1), XFF);
        let inner = [("x-forwarded-for", "198.51.100.7, 10.0.0.3")];
        assert_eq!(client(&both, "10.0.0.1", &inner), Some(ip("10.0.0.3")));
        assert_eq!(
            client(&both, "203.0.113.1", &inner),
            Some(ip("203.0.113.1"))
        );
    }

    #[test]
    fn a_block_left_empty_at_load_trusts_nothing() {
        let none = proxies(&[], None, XFF);
        let xff = [("x-forwarded-for", "198.51.100.7")];
        assert_eq!(client(&none, "10.0.0.1", &xff), Some(ip("10.0.0.1")));
        // `trusted` lines all dropped by their `if`: an empty list, not "any address".
        let empty = TrustedProxies {
            nets: Some(Vec::new()),
            hops: Some(1),
            header: XFF,
        };
        assert_eq!(client(&empty, "10.0.0.1", &xff), Some(ip("10.0.0.1")));
        // An untrusted peer comes back as the host gave it.
        let p = proxies(&["10.0.0.0/8"], None, XFF);
        assert_eq!(
            client(&p, "::ffff:203.0.113.1", &xff),
            Some(ip("::ffff:203.0.113.1"))
        );
    }

    #[test]
    fn ipv6_and_mapped_addresses() {
        let p = proxies(&["fd00::/8", "10.0.0.0/8"], None, XFF);
        // A dual-stack socket reports an IPv4 proxy as `::ffff:10.0.0.1`.
        assert_eq!(
            client(&p, "::ffff:10.0.0.1", &[("x-forwarded-for", "2001:db8::7")]),
            Some(ip("2001:db8::7"))
        );
        assert_eq!(
            client(
                &p,
                "fd00::1",
                &[("x-forwarded-for", "[2001:db8::7]:443, fd00::2")]
            ),
            Some(ip("2001:db8::7"))
        );
        assert_eq!(
            client(&p, "fd00::1", &[("x-forwarded-for", "198.51.100.7:5555")]),
            Some(ip("198.51.100.7"))
        );
        // The client is reported as `::ffff:198.51.100.7`: one client, one key.
        assert_eq!(
            client(&p, "fd00::1", &[("x-forwarded-for", "::ffff:198.51.100.7")]),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn unreadable_chains_give_the_peer() {
        let p = proxies(&["10.0.0.0/8"], None, XFF);
        for bad in [
            "unknown",
            "",
            "198.51.100.7,",
            "198.51.100.7, not-an-ip",
            "198.51.100.7 10.0.0.2",
            "[2001:db8::1",
            "2001:db8::1]:80",
            "198.51.100.7:http",
            "198.51.100.7:123456",
            "_hidden",
        ] {
            assert_eq!(
                client(&p, "10.0.0.1", &[("x-forwarded-for", bad)]),
                Some(ip("10.0.0.1")),
                "{bad:?}"
            );
        }
        // Garbage left of the client is the client's own text and never read.
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &[("x-forwarded-for", "garbage, ,unknown, 198.51.100.7")]
            ),
            Some(ip("198.51.100.7"))
        );
        // An unreadable element behind a trusted proxy: the peer, not the text left of it.
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &[("x-forwarded-for", "198.51.100.7, unknown, 10.0.0.2")]
            ),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn forwarded_elements() {
        let p = proxies(&["10.0.0.0/8", "fd00::/8"], None, FWD);
        let fwd = |v: &'static str| [("forwarded", v)];
        assert_eq!(
            client(&p, "10.0.0.1", &fwd("for=198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client(&p, "10.0.0.1", &fwd(r#"for="[2001:db8:cafe::17]:4711""#)),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            client(&p, "10.0.0.1", &fwd(r#"For="[2001:db8:cafe::17]""#)),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &fwd(r#"for="198.51.100.7:47011";proto=https;by=10.0.0.1"#)
            ),
            Some(ip("198.51.100.7"))
        );
        // RFC 7239's own example: two proxies, the right-most untrusted wins.
        assert_eq!(
            client(
                &p,
                "fd00::9",
                &fwd(
                    r#"for=192.0.2.43, for="[2001:db8:cafe::17]";proto=http, for=10.1.1.1 ; by=10.0.0.1"#
                )
            ),
            Some(ip("2001:db8:cafe::17"))
        );
        // A comma inside a quoted value does not split elements.
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &fwd(r#"for=6.6.6.6;host="a,b", for=198.51.100.7"#)
            ),
            Some(ip("198.51.100.7"))
        );
        // X-Forwarded-For is not read when the policy says Forwarded.
        assert_eq!(
            client(
                &p,
                "10.0.0.1",
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("forwarded", "for=198.51.100.7")
                ]
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client(&p, "10.0.0.1", &[("x-forwarded-for", "6.6.6.6")]),
            Some(ip("10.0.0.1"))
        );
        for bad in [
            "for=unknown",
            "for=_hidden",
            "proto=https",
            r#"for="198.51.100.7"#,
            "for=[2001:db8::1]",
            "for=2001:db8::1",
            "for=198.51.100.7;for=203.0.113.1",
            "for=198.51.100.7 for=1.2.3.4",
            "for",
            "=198.51.100.7",
            r#"for="[2001:db8::1]:x""#,
        ] {
            assert_eq!(
                client(&p, "10.0.0.1", &fwd(bad)),
                Some(ip("10.0.0.1")),
                "{bad:?}"
            );
        }
        // The obfuscated port RFC 7239 §6.3 allows keeps the address.
        assert_eq!(
            client(&p, "10.0.0.1", &fwd(r#"for="198.51.100.7:_p1""#)),
            Some(ip("198.51.100.7"))
        );
    }
}
