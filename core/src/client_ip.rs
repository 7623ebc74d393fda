//! The client address of an HTTP request, made text only when something reads it.

use arrayvec::ArrayString;
use std::cell::OnceCell;
use std::net::IpAddr;

/// An address as text without allocating (at most 45 bytes for IPv6). An `ArrayString`
/// rather than bytes: reading it back as `&str` then costs no UTF-8 check (~110
/// instructions each time a view of the request is built).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpText(ArrayString<48>);

impl IpText {
    pub(crate) fn new(ip: IpAddr) -> IpText {
        use std::fmt::Write;
        let mut s = ArrayString::new();
        match ip {
            // Dotted decimal from a table: `fmt` costs ~1000 instructions per request
            // here, and dividing each octet by 100 and 10 is a visible share too.
            IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        let _ = s.try_push('.');
                    }
                    let Some((digits, n)) = OCTET.get(usize::from(o)) else {
                        continue;
                    };
                    for &d in digits.get(..usize::from(*n)).unwrap_or_default() {
                        let _ = s.try_push(char::from(d));
                    }
                }
            }
            // 45 bytes at most: `write!` cannot run out of room.
            IpAddr::V6(_) => {
                let _ = write!(s, "{ip}");
            }
        }
        IpText(s)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client address, and its text once something reads it: most requests' limit
/// keys and requirements never do (`principal.client ?? ip` with a client).
#[derive(Debug)]
pub(crate) struct ClientIp {
    addr: Option<IpAddr>,
    text: OnceCell<IpText>,
}

impl ClientIp {
    pub(crate) fn new(addr: Option<IpAddr>) -> ClientIp {
        ClientIp {
            addr,
            text: OnceCell::new(),
        }
    }

    /// The address; `None` when the host gave none.
    pub(crate) fn addr(&self) -> Option<IpAddr> {
        self.addr
    }

    /// The address as text; `None` when the host gave none.
    pub(crate) fn text(&self) -> Option<&str> {
        let addr = self.addr?;
        Some(self.text.get_or_init(|| IpText::new(addr)).as_str())
    }

    /// The text if something read it already (without making it).
    pub(crate) fn peek(&self) -> Option<&str> {
        self.text.get().map(IpText::as_str)
    }
}

/// Each octet's decimal digits and their count, for [`IpText::new`].
static OCTET: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let (h, d, u) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            ([b'0' + h, b'0' + d, b'0' + u], 3)
        } else if i >= 10 {
            ([b'0' + d, b'0' + u, 0], 2)
        } else {
            ([b'0' + u, 0, 0], 1)
        };
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    #[test]
    fn ipv4_text_matches_display() {
        for ip in ["0.0.0.0", "203.0.113.7", "255.255.255.255", "10.100.9.99"] {
            let a: std::net::IpAddr = ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
            assert_eq!(super::IpText::new(a).as_str(), ip);
        }
        let v6: std::net::IpAddr = "2001:db8::1"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        assert_eq!(super::IpText::new(v6).as_str(), "2001:db8::1");
    }
}
