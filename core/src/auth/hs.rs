//! HMAC-signed JWTs (`HS256`/`HS384`/`HS512`, a `keys: secret(...)` line) verified in
//! one pass: the keyed hash state is built once at load (`jsonwebtoken` rebuilds it,
//! two extra hash blocks, on every token), the protected header is decoded and parsed
//! once (it was three times: `decode_header`, the `crit` check and `decode`), and the
//! claims once (`jsonwebtoken` parses them twice, for validation and for the caller).
//!
//! What is accepted is `jsonwebtoken::decode`'s answer under [`super::jwt::validation`],
//! kept by a differential test against it (`jwt.rs`): the same split of the token at
//! its last two dots, the same canonical base64, the computed signature compared as
//! base64 text in constant time, `iss` and `aud` matched as a string or a list of
//! strings. One deliberate difference: a claims object that names any member twice is
//! refused (RFC 7519 §4 allows either refusing or keeping the last; a claim read one
//! way here and another way by the next service is the confusion worth refusing),
//! where `jsonwebtoken` refuses only repeated registered claims.

use super::doc::{Decoded, Doc, Members};
use super::flat;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, Header, Validation};
use sha2::{Sha256, Sha384, Sha512};
use std::fmt;

/// The keyed hash states of one secret, one per HMAC algorithm the policy lists.
#[derive(Clone)]
pub(crate) struct HmacKeys {
    s256: Option<Hmac<Sha256>>,
    s384: Option<Hmac<Sha384>>,
    s512: Option<Hmac<Sha512>>,
}

// The states are derived from the secret: nothing of them is printed.
impl fmt::Debug for HmacKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKeys").finish_non_exhaustive()
    }
}

impl HmacKeys {
    /// `None` when `validation` needs a check this path does not make (a required
    /// `exp`, `nbf` or `sub`, validated by `jsonwebtoken` against the system clock):
    /// such keys keep the general path. [`super::jwt::validation`] never asks for one.
    pub(crate) fn new(secret: &[u8], algs: &[Algorithm], v: &Validation) -> Option<HmacKeys> {
        let handled = v
            .required_spec_claims
            .iter()
            .all(|c| c == "iss" || c == "aud");
        if !handled || v.validate_exp || v.validate_nbf || v.sub.is_some() {
            return None;
        }
        let has = |a| algs.contains(&a);
        Some(HmacKeys {
            s256: has(Algorithm::HS256)
                .then(|| Hmac::<Sha256>::new_from_slice(secret).ok())
                .flatten(),
            s384: has(Algorithm::HS384)
                .then(|| Hmac::<Sha384>::new_from_slice(secret).ok())
                .flatten(),
            s512: has(Algorithm::HS512)
                .then(|| Hmac::<Sha512>::new_from_slice(secret).ok())
                .flatten(),
        })
    }

    /// Whether this path verifies `alg` (an HMAC algorithm the key was built for).
    pub(crate) fn handles(&self, alg: Algorithm) -> bool {
        match alg {
            Algorithm::HS256 => self.s256.is_some(),
            Algorithm::HS384 => self.s384.is_some(),
            Algorithm::HS512 => self.s512.is_some(),
            _ => false,
        }
    }

    /// Whether `parts.signature` is this key's signature of `parts.message` under `alg`.
    pub(crate) fn signs(&self, alg: Algorithm, parts: &Parts<'_>) -> bool {
        // The signature's text, on the stack: 86 characters for HS512's 64 bytes.
        fn b64<'o, M: Mac + Clone>(state: &M, message: &[u8], out: &'o mut [u8; 86]) -> &'o [u8] {
            let mut mac = state.clone();
            mac.update(message);
            let n = URL_SAFE_NO_PAD
                .encode_slice(mac.finalize().into_bytes(), out)
                .unwrap_or(0);
            out.get(..n).unwrap_or_default()
        }
        let (m, mut out) = (parts.message.as_bytes(), [0u8; 86]);
        let ours = match alg {
            Algorithm::HS256 => self.s256.as_ref().map(|s| b64(s, m, &mut out)),
            Algorithm::HS384 => self.s384.as_ref().map(|s| b64(s, m, &mut out)),
            Algorithm::HS512 => self.s512.as_ref().map(|s| b64(s, m, &mut out)),
            _ => None,
        };
        // Compared as text, as `jsonwebtoken` does: a signature spelled with other
        // trailing bits is not this signature. (An encoding that failed is empty, and
        // an empty signature is refused.)
        ours.and_then(|s| std::str::from_utf8(s).ok())
            .is_some_and(|s| !s.is_empty() && crate::secret::ct_eq(s, parts.signature))
    }
}

/// A token cut as `jsonwebtoken` cuts it: at its last dot, then at the last dot of
/// what precedes it (so `a.b.c.d` has the header `a.b`, which does not decode).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'t> {
    pub header: &'t str,
    pub payload: &'t str,
    /// `header.payload`: what the signature covers.
    pub message: &'t str,
    pub signature: &'t str,
}

pub(crate) fn split(token: &str) -> Option<Parts<'_>> {
    let (message, signature) = token.rsplit_once('.')?;
    let (header, payload) = message.rsplit_once('.')?;
    Some(Parts {
        header,
        payload,
        message,
        signature,
    })
}

/// What verification reads of a protected header: the algorithm and the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// The protected headers nearly every HMAC token is sent with, as sent: the base64url
/// of `{"alg":"HS256","typ":"JWT"}` (what `jsonwebtoken`, `jose` with a `typ` and most
/// issuers write), of its members the other way round, and of `{"alg":"HS256"}`, for
/// each HMAC algorithm. A header of exactly this text is known without decoding or
/// parsing it (no `kid`, no `crit`; its parse was ~12% of verifying a token in a
/// profile); a test holds each to the parse below.
const KNOWN_HEADERS: [(&str, Algorithm); 9] = [
    ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", Algorithm::HS256),
    ("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9", Algorithm::HS256),
    ("eyJhbGciOiJIUzI1NiJ9", Algorithm::HS256),
    ("eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9", Algorithm::HS384),
    ("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzM4NCJ9", Algorithm::HS384),
    ("eyJhbGciOiJIUzM4NCJ9", Algorithm::HS384),
    ("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9", Algorithm::HS512),
    ("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9", Algorithm::HS512),
    ("eyJhbGciOiJIUzUxMiJ9", Algorithm::HS512),
];

/// The protected header, and whether it has a `crit` member (RFC 7515 §4.1.11: this
/// verifier implements no extension, so the token must then be refused).
pub(crate) fn header(encoded: &str) -> Option<(Head, bool)> {
    if let Some((_, alg)) = KNOWN_HEADERS.iter().find(|(h, _)| *h == encoded) {
        return Some((
            Head {
                alg: *alg,
                kid: None,
            },
            false,
        ));
    }
    parsed_header(encoded)
}

/// [`header`] by decoding and parsing it as `jsonwebtoken` does.
fn parsed_header(encoded: &str) -> Option<(Head, bool)> {
    let mut room = Decoded::<256>::new();
    let bytes = room.b64(encoded)?;
    let header: Header = serde_json::from_slice(bytes).ok()?;
    // A member named `crit` is spelled `"crit"`, or escaped (`"\u0063rit"`): a header
    // with neither that text nor a backslash has none. Otherwise it is read as an
    // object to know (`{"kid":"crit"}` has no such member).
    let maybe = bytes.contains(&b'\\') || bytes.windows(6).any(|w| w == b"\"crit\"");
    let crit = maybe && flat::members(bytes).is_none_or(|h| h.get("crit").is_some());
    let head = Head {
        alg: header.alg,
        kid: header.kid,
    };
    Some((head, crit))
}

/// The claims of a token whose signature matched, if they are an object that names
/// no member twice and passes `v`'s `iss` and `aud` checks. They borrow from `room`,
/// where the payload is decoded.
pub(crate) fn claims<'r>(
    room: &'r mut Decoded<768>,
    payload: &str,
    v: &Validation,
) -> Option<Members<'r>> {
    let claims = flat::members(room.b64(payload)?)?;
    if claims.repeats_a_name() {
        return None;
    }
    for name in ["iss", "aud"] {
        if v.required_spec_claims.contains(name) && !string_or_strings(claims.get(name)) {
            return None;
        }
    }
    if let Some(allowed) = &v.iss {
        if !names_one_of(claims.get("iss"), allowed) {
            return None;
        }
    }
    if v.validate_aud {
        let aud = claims.get("aud");
        let passes = match &v.aud {
            Some(allowed) => names_one_of(aud, allowed),
            // An audience where none is expected: RFC 7519 §4.1.3.
            None => !string_or_strings(aud),
        };
        if !passes {
            return None;
        }
    }
    Some(claims)
}

/// A string, or a list of strings: the shapes `jsonwebtoken` reads `iss` and `aud` in
/// (`null` is absent).
fn string_or_strings(v: Option<&Doc<'_>>) -> bool {
    match v {
        Some(Doc::String(_)) => true,
        Some(Doc::Array(items)) => items.iter().all(Doc::is_string),
        _ => false,
    }
}

/// A string in `allowed`, or a list of strings sharing one with it. A claim of any
/// other shape, or absent, is not checked here: whether it must be there is the
/// required-claims check's answer.
///
/// Membership is a scan, not the set's SipHash: a policy lists one issuer or audience,
/// or a few (the hash was ~2% of verifying a token in a profile).
fn names_one_of(v: Option<&Doc<'_>>, allowed: &std::collections::HashSet<String>) -> bool {
    let listed = |s: &str| allowed.iter().any(|a| a == s);
    match v {
        Some(Doc::String(s)) => listed(s),
        Some(Doc::Array(items)) if string_or_strings(v) => {
            items.iter().filter_map(Doc::as_str).any(listed)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    /// Each known header is the text its comment says, and answers as its parse does.
    #[test]
    fn known_headers_answer_as_their_parse() {
        for (encoded, alg) in KNOWN_HEADERS {
            let text = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap();
            let name = format!("{alg:?}");
            assert!(
                [
                    format!(r#"{{"alg":"{name}","typ":"JWT"}}"#),
                    format!(r#"{{"typ":"JWT","alg":"{name}"}}"#),
                    format!(r#"{{"alg":"{name}"}}"#),
                ]
                .contains(&text),
                "{text}"
            );
            let parsed = parsed_header(encoded).unwrap();
            assert_eq!(header(encoded).unwrap(), parsed);
            assert_eq!(parsed, (Head { alg, kid: None }, false));
        }
        // Any other text is parsed: a `kid`, and one character more.
        let kid = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1"}"#);
        assert_eq!(header(&kid).unwrap().0.kid.as_deref(), Some("k1"));
        assert!(header("eyJhbGciOiJIUzI1NiJ9x").is_none());
    }
}
