//! `require signature stripe(...)`: webhook signatures over the raw request body
//! (`Engine::needs_body` tells hosts when to read the body at all).
//!
//! Stripe's scheme: the header is `t=TIMESTAMP,v1=HEX[,v1=HEX...]` (other items, such
//! as the test-mode `v0`, are ignored); the signature is HMAC-SHA256 with the endpoint
//! secret over `"{t}.{body}"`, hex-encoded. Every `v1` is compared in constant time,
//! and the timestamp must be within the tolerance of the request's time.

use crate::secret::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One compiled `require signature stripe(...)`.
#[derive(Debug)]
pub(crate) struct StripeSig {
    /// Lower-case header name.
    pub header: Box<str>,
    /// `None` when an optional secret is unset: the requirement then always fails.
    pub secret: Option<Secret>,
    pub tolerance_s: u64,
}

/// Why a signature was refused (for tests and traces; never holds a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigFailure {
    NoHeader,
    NoBody,
    NoSecret,
    Malformed,
    Mismatch,
    Stale,
}

impl StripeSig {
    /// Verify `header` against `body` at `now_s` (seconds since the epoch).
    pub(crate) fn verify(
        &self,
        header: Option<&str>,
        body: Option<&[u8]>,
        now_s: u64,
    ) -> Result<(), SigFailure> {
        let header = header.ok_or(SigFailure::NoHeader)?;
        let body = body.ok_or(SigFailure::NoBody)?;
        let secret = self.secret.as_ref().ok_or(SigFailure::NoSecret)?;
        let mut t: Option<&str> = None;
        let mut v1: Vec<[u8; 32]> = Vec::new();
        for item in header.split(',') {
            let Some((k, v)) = item.trim().split_once('=') else {
                continue;
            };
            match k {
                "t" if t.is_none() => t = Some(v),
                // Two timestamps: which one was signed is ambiguous.
                "t" => return Err(SigFailure::Malformed),
                "v1" => v1.push(hex32(v).ok_or(SigFailure::Malformed)?),
                _ => {}
            }
        }
        let t = t.ok_or(SigFailure::Malformed)?;
        let ts: u64 = match t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 12 {
            true => t.parse().map_err(|_| SigFailure::Malformed)?,
            false => return Err(SigFailure::Malformed),
        };
        if v1.is_empty() {
            return Err(SigFailure::Malformed);
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .map_err(|_| SigFailure::NoSecret)?;
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time; every candidate is tried so the
        // time does not say which one matched.
        let matched = v1
            .iter()
            .fold(false, |ok, sig| mac.clone().verify_slice(sig).is_ok() | ok);
        if !matched {
            return Err(SigFailure::Mismatch);
        }
        if ts.abs_diff(now_s) > self.tolerance_s {
            return Err(SigFailure::Stale);
        }
        Ok(())
    }
}

/// 64 hex digits -> 32 bytes.
fn hex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        let hi = (*b.get(2 * i)? as char).to_digit(16)?;
        let lo = (*b.get(2 * i + 1)? as char).to_digit(16)?;
        *slot = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
    const T: u64 = 1_795_341_600;
    /// HMAC-SHA256(SECRET, "1795341600." + BODY), computed independently with Python:
    /// `hmac.new(b"whsec_test_secret", b"1795341600." + body, hashlib.sha256).hexdigest()`.
    const SIG: &str = "f6f28efd0847de8864411542472f392c8ac2c6330f4040d66f57e144e1487466";

    fn check() -> StripeSig {
        StripeSig {
            header: "stripe-signature".into(),
            secret: Some(Secret::new(SECRET)),
            tolerance_s: 300,
        }
    }

    #[test]
    fn hex_decodes_exactly_64_digits() {
        assert_eq!(hex32(&"0f".repeat(32)), Some([15u8; 32]));
        assert_eq!(hex32(&"0f".repeat(31)), None);
        assert_eq!(hex32(&"zz".repeat(32)), None);
    }

    #[test]
    fn the_python_vector_verifies() {
        let h = format!("t={T},v1={SIG}");
        assert_eq!(check().verify(Some(&h), Some(BODY), T), Ok(()));
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let c = check();
        let good = format!("t={T},v1={SIG}");
        let tampered = br#"{"id":"evt_1","type":"checkout.session.completed" }"#;
        assert_eq!(
            c.verify(Some(&good), Some(tampered), T),
            Err(SigFailure::Mismatch)
        );
        let wrong = StripeSig {
            secret: Some(Secret::new("whsec_other")),
            ..check()
        };
        assert_eq!(
            wrong.verify(Some(&good), Some(BODY), T),
            Err(SigFailure::Mismatch)
        );
        assert_eq!(
            c.verify(Some(&good), Some(BODY), T + 301),
            Err(SigFailure::Stale)
        );
        assert_eq!(
            c.verify(Some(&good), Some(BODY), T - 301),
            Err(SigFailure::Stale)
        );
        assert_eq!(c.verify(Some(&good), Some(BODY), T + 300), Ok(()));
        assert_eq!(c.verify(None, Some(BODY), T), Err(SigFailure::NoHeader));
        assert_eq!(c.verify(Some(&good), None, T), Err(SigFailure::NoBody));
        let unset = StripeSig {
            secret: None,
            ..check()
        };
        assert_eq!(
            unset.verify(Some(&good), Some(BODY), T),
            Err(SigFailure::NoSecret)
        );
        for bad in [
            format!("v1={SIG}"),
            format!("t={T}"),
            format!("t={T},t={T},v1={SIG}"),
            format!("t=-{T},v1={SIG}"),
            format!("t={T},v1={}", &SIG[..63]),
            String::new(),
        ] {
            assert_eq!(
                c.verify(Some(&bad), Some(BODY), T),
                Err(SigFailure::Malformed),
                "{bad}"
            );
        }
        // The signed timestamp is the text as sent: another spelling is another payload.
        let padded = format!("t=0{T},v1={SIG}");
        assert_eq!(
            c.verify(Some(&padded), Some(BODY), T),
            Err(SigFailure::Mismatch)
        );
    }

    #[test]
    fn any_v1_may_match_and_other_schemes_are_ignored() {
        let other = "0".repeat(64);
        let h = format!("t={T}, v0={other}, v1={other}, v1={SIG}");
        assert_eq!(check().verify(Some(&h), Some(BODY), T), Ok(()));
    }
}
