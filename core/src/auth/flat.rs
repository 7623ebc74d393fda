//! A token's claims as their issuers write them, read without `serde_json`: one flat
//! JSON object, no whitespace, names and strings without escapes, integers, `true`,
//! `false`, `null` (what `JSON.stringify` of an Auth.js session or `jsonwebtoken`'s
//! claims gives). On a fresh Auth.js cookie the `serde_json` parse into a
//! [`Members`] (its visitor, the string scans, the member pushes) was ~8% of
//! `check_http` after the MAC (issue 23).
//!
//! Anything else gives up (`None`) and the caller parses the text with `serde_json`
//! as before: this reader accepts only texts that are JSON, and reads each to exactly
//! the [`Members`] the `serde_json` parse gives (a differential test holds it to that
//! on mutated texts), so which texts are accepted and what they mean is unchanged.

use super::doc::{Doc, Members};
use smallvec::SmallVec;
use std::borrow::Cow;

/// A token's header or claims: the top-level object as [`Doc::object`] reads it, flat
/// texts by this module's reader (the same members), any other by `serde_json`.
pub(crate) fn members(bytes: &[u8]) -> Option<Members<'_>> {
    object(bytes).or_else(|| Doc::object(bytes))
}

/// `bytes` read as one flat object, or `None` when it is not that simple a text (it
/// may still be JSON: the caller then parses it in full).
pub(crate) fn object(bytes: &[u8]) -> Option<Members<'_>> {
    // One UTF-8 check of the whole text rather than one per string: a byte that is not
    // ASCII can only be JSON inside a string, so a text refused here is refused by
    // `serde_json` too.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut rest = text.strip_prefix('{')?;
    let mut members = SmallVec::new();
    if rest == "}" {
        return Some(Members(members));
    }
    loop {
        let (name, after) = string(rest)?;
        let (value, after) = value(after.strip_prefix(':')?)?;
        members.push((Cow::Borrowed(name), value));
        if let Some(next) = after.strip_prefix(',') {
            rest = next;
        } else if after == "}" {
            // The closing brace ends the text: trailing bytes, even whitespace, are
            // left to `serde_json`.
            return Some(Members(members));
        } else {
            return None;
        }
    }
}

/// A string at the start of `s` (its opening quote there) without escapes or control
/// characters, and what follows its closing quote.
fn string(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_prefix('"')?;
    let end = body
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
    if body.as_bytes().get(end) != Some(&b'"') {
        return None;
    }
    Some((body.get(..end)?, body.get(end + 1..)?))
}

/// A value at the start of `s` that this reader takes, and what follows it.
fn value(s: &str) -> Option<(Doc<'_>, &str)> {
    match s.as_bytes().first()? {
        b'"' => string(s).map(|(t, rest)| (Doc::String(Cow::Borrowed(t)), rest)),
        b'0'..=b'9' => {
            let digits = s
                .bytes()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(s.len());
            // A leading zero is not JSON; 19 digits always fit a `u64` (`serde_json`
            // reads larger integers as floats: left to it); a fraction or exponent
            // follows as `.`, `e` or `E`, which the caller's `,` / `}` check refuses.
            if digits > 19 || (digits > 1 && s.starts_with('0')) {
                return None;
            }
            let (text, rest) = s.split_at_checked(digits)?;
            let n = text.bytes().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            Some((Doc::Number(n.into()), rest))
        }
        b't' => s.strip_prefix("true").map(|r| (Doc::Bool(true), r)),
        b'f' => s.strip_prefix("false").map(|r| (Doc::Bool(false), r)),
        b'n' => s.strip_prefix("null").map(|r| (Doc::Null, r)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    /// What the full parse reads `t` to (the `Members` the caller falls back on).
    fn full(t: &[u8]) -> Option<Members<'_>> {
        serde_json::from_slice::<Members<'_>>(t).ok()
    }

    /// Claims of each issuer, and near misses this reader must leave to `serde_json`.
    const TEXTS: &[&str] = &[
        r#"{"name":"Ada","email":"ada@lumiere.test","sub":"u-1","role":"ADMIN","iat":1767225600,"exp":1769817600,"jti":"6f1c2a4e-0b7d-4e39-9a51-000000000001"}"#,
        r#"{"sub":"u1","role":"admin","org":"o1","iss":"https://auth.example.com","aud":"api","iat":1767225600,"exp":4102444800}"#,
        r#"{}"#,
        r#"{"a":0,"b":9999999999999999999,"c":true,"d":false,"e":null,"a":"x"}"#,
        "{\"caf\u{e9}\":\"\u{1F600}\"}",
        r#"{"big":18446744073709551615}"#,
        r#"{"big":18446744073709551616}"#,
        r#"{"n":-1,"f":1.5,"e":1e3,"z":01}"#,
        r#"{"s":"a\"b","t":"\u0041"}"#,
        r#"{"roles":["a","b"],"o":{"k":"v"}}"#,
        r#" {"a":1}"#,
        r#"{"a":1} "#,
        r#"{"a" :1}"#,
        r#"{"a":1,}"#,
        r#"{"a":tru}"#,
        r#"{"a":nul,"b":1}"#,
        r#"{"a":1}}"#,
        r#"{"a":1"#,
        r#"{"a"}"#,
        r#"{,}"#,
        "{\"a\":\"\t\"}",
    ];

    #[test]
    fn issuers_claims_are_read_here_and_as_serde_json_reads_them() {
        for t in &TEXTS[..5] {
            let got = object(t.as_bytes());
            assert!(got.is_some(), "{t}");
            assert_eq!(got, full(t.as_bytes()), "{t}");
        }
        // 19 nines fit; twenty digits (even `u64::MAX`) are left to `serde_json`.
        for t in &TEXTS[5..] {
            assert!(object(t.as_bytes()).is_none(), "{t}");
        }
        for bytes in [&b"{\"a\":\"\xff\"}"[..], &b"{\"\xc3\":1}"[..], b"", b"{"] {
            assert!(object(bytes).is_none());
        }
    }

    /// Every text this reader accepts is one `serde_json` accepts, read to the same
    /// members: each of `TEXTS` mutated at random (bytes of JSON's alphabet inserted,
    /// removed or replaced), 50,000 times over, deterministic.
    #[test]
    fn mutated_texts_are_read_here_only_as_serde_json_reads_them() {
        const ALPHABET: &[u8] = b"{}[]\":,\\u019eE.+-tfnrl \t\n\x00\x1f\xc3\xa9\xff";
        let mut texts = crate::auth::mutate::Mutator::new(0x853c_49e6_748f_ea9b);
        let (mut here, mut left) = (0, 0);
        for round in 0..50_000 {
            let t = texts.mutate(TEXTS[round % TEXTS.len()].as_bytes(), ALPHABET, 2);
            match object(&t) {
                Some(m) => {
                    assert_eq!(Some(m), full(&t), "{}", String::from_utf8_lossy(&t));
                    here += 1;
                }
                None => left += 1,
            };
        }
        // Both outcomes occur often: the mutations are near the readers' boundary.
        assert!(here > 2_000 && left > 20_000, "{here} / {left}");
    }
}
