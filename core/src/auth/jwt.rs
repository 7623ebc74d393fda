//! Bearer JWTs: the signature checked against the keys named in the policy, tried in
//! order (rotation), then `exp`/`nbf` against the engine's clock, never the system's.
//! Shared secrets are verified by `hs.rs` in one pass; public keys by `jsonwebtoken`.

use super::claims::ClaimMap;
use super::doc::{Decoded, Members};
use super::hs::{self, HmacKeys};
use super::lifetime::TokenRules;
use super::outcome::AuthFailure;
use super::token_cache::TokenCache;
use crate::Principal;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::fmt;

/// One verification key with the algorithms it may verify, and its label for `via`.
pub(crate) struct JwtKey {
    /// `JWT_SECRET`, or `AUTH_JWKS#kid` for a key of a JWKS document.
    pub label: Box<str>,
    pub kid: Option<Box<str>>,
    pub key: DecodingKey,
    /// Only algorithms of this key's family that the policy lists.
    pub validation: Validation,
    /// A shared secret's keyed hash states (`None` for public keys).
    pub hmac: Option<HmacKeys>,
}

// `DecodingKey` holds the secret bytes: only the label is ever printed.
impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("label", &self.label)
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

/// A compiled `auth jwt { ... }` block.
#[derive(Debug)]
pub(crate) struct Jwt {
    pub keys: Vec<JwtKey>,
    /// `exp`, `nbf`, `max_age` and `require_claim`.
    pub rules: TokenRules,
    pub claims: ClaimMap,
    /// Tokens verified before (`Options::token_cache_size`).
    pub cache: TokenCache,
}

/// The validation every key of a block shares: signature, `iss`, `aud`; time claims are
/// checked by [`Jwt::verify`] against the request's time instead of the system clock.
pub(crate) fn validation(algs: &[Algorithm], issuer: &[String], audience: &[String]) -> Validation {
    let mut v = Validation::new(algs.first().copied().unwrap_or(Algorithm::HS256));
    v.algorithms = algs.to_vec();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.leeway = 0;
    v.required_spec_claims.clear();
    if issuer.is_empty() {
        v.iss = None;
    } else {
        v.set_issuer(issuer);
        v.required_spec_claims.insert("iss".into());
    }
    if audience.is_empty() {
        v.validate_aud = false;
    } else {
        v.set_audience(audience);
        v.required_spec_claims.insert("aud".into());
    }
    v
}

type Claims = serde_json::Map<String, serde_json::Value>;

/// Longer tokens are refused before any decoding: real ones are a few hundred bytes,
/// and servers cap a header line at 8-16 KiB anyway.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

impl Jwt {
    /// Verify `token` at `now_us`: the principal and the label of the key that matched.
    pub(crate) fn verify(
        &self,
        token: &str,
        now_us: u64,
    ) -> Result<(Principal, &str), AuthFailure> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthFailure::InvalidToken);
        }
        if let Some(known) = self.cache.reuse(&self.rules, token, now_us) {
            return known.map(|(p, i)| (p, self.keys.get(i).map_or("", |k| &*k.label)));
        }
        let parts = hs::split(token).ok_or(AuthFailure::InvalidToken)?;
        let (header, crit) = hs::header(parts.header).ok_or(AuthFailure::InvalidToken)?;
        // RFC 7515 §4.1.11: an extension this verifier does not implement (it
        // implements none) must not be ignored; `jsonwebtoken` ignores the member.
        if crit {
            return Err(AuthFailure::InvalidToken);
        }
        for (i, k) in self.keys.iter().enumerate() {
            if !k.validation.algorithms.contains(&header.alg) {
                continue;
            }
            if let (Some(want), Some(have)) = (header.kid.as_deref(), k.kid.as_deref()) {
                if want != have {
                    continue;
                }
            }
            let principal = match k.hmac.as_ref().filter(|h| h.handles(header.alg)) {
                Some(h) => {
                    // Another key of the rotation may have signed it.
                    if !h.signs(header.alg, &parts) {
                        continue;
                    }
                    let mut room = Decoded::new();
                    let claims = hs::claims(&mut room, parts.payload, &k.validation)
                        .ok_or(AuthFailure::InvalidToken)?;
                    self.cache
                        .admit(&self.rules, &self.claims, token, &claims, now_us, i)?
                }
                None => match jsonwebtoken::decode::<Claims>(token, &k.key, &k.validation) {
                    Ok(data) => {
                        let claims = Members::of_map(&data.claims);
                        self.cache
                            .admit(&self.rules, &self.claims, token, &claims, now_us, i)?
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                    Err(_) => return Err(AuthFailure::InvalidToken),
                },
            };
            return Ok((principal, &k.label));
        }
        // No key for the token's algorithm (e.g. `HS256` where only RS256 is listed:
        // the algorithm-confusion attack), or no key's signature matched.
        Err(AuthFailure::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    //! The one-pass HMAC path (`hs.rs`) against `jsonwebtoken::decode`, the general
    //! path every other key takes: the same answer on every token of a corpus of valid,
    //! forged, malformed and confusing ones, except where `hs.rs` says it is stricter.
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::super::claims::ClaimPath;
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jsonwebtoken::EncodingKey;

    const SECRET: &str = "test-secret-0123456789abcdefghijklmnop";
    const PREVIOUS: &str = "previous-secret-0123456789abcdefghijk";
    const NOW_S: u64 = 1_800_000_000;
    const ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

    fn jwt(fast: bool, issuer: &[&str], audience: &[&str]) -> Jwt {
        let owned = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let v = validation(&ALGS, &owned(issuer), &owned(audience));
        let key = |label: &str, secret: &str, kid: Option<&str>| JwtKey {
            label: label.into(),
            kid: kid.map(Into::into),
            key: DecodingKey::from_secret(secret.as_bytes()),
            hmac: if fast {
                HmacKeys::new(secret.as_bytes(), &ALGS, &v)
            } else {
                None
            },
            validation: v.clone(),
        };
        Jwt {
            keys: vec![
                key("jwt:JWT_SECRET", SECRET, Some("k1")),
                key("jwt:JWT_PREVIOUS", PREVIOUS, None),
            ],
            rules: TokenRules::default(),
            // Attributes too, so that the corpus's odd claims reach the mapping.
            claims: ClaimMap {
                attrs: vec![
                    ("org".into(), vec![ClaimPath::new("org", false)]),
                    (
                        "team".into(),
                        vec![
                            ClaimPath::new("ctx.team", false),
                            ClaimPath::new("team", false),
                        ],
                    ),
                ],
                ..ClaimMap::default()
            },
            cache: TokenCache::new(0),
        }
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    /// A token of these exact header and claims texts, signed with `secret` under `alg`.
    fn signed(header: &str, claims: &str, secret: &str, alg: Algorithm) -> String {
        let message = format!("{}.{}", b64(header), b64(claims));
        let key = EncodingKey::from_secret(secret.as_bytes());
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap();
        format!("{message}.{sig}")
    }

    fn hs256(claims: &str) -> String {
        signed(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            claims,
            SECRET,
            Algorithm::HS256,
        )
    }

    fn corpus() -> Vec<(String, String)> {
        let exp = NOW_S + 600;
        let claims = |extra: &str| format!(r#"{{"sub":"u1","exp":{exp}{extra}}}"#);
        let good = claims(r#","iss":"https://id.example","aud":"api","roles":["admin"]"#);
        let mut out: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, t: String| out.push((name.to_owned(), t));
        for (alg, h) in [
            (Algorithm::HS256, r#"{"alg":"HS256"}"#),
            (Algorithm::HS384, r#"{"alg":"HS384"}"#),
            (Algorithm::HS512, r#"{"alg":"HS512"}"#),
        ] {
            add(&format!("valid {alg:?}"), signed(h, &good, SECRET, alg));
            add(
                &format!("previous key {alg:?}"),
                signed(h, &good, PREVIOUS, alg),
            );
            add(
                &format!("unknown key {alg:?}"),
                signed(h, &good, "other-secret-000000000000000000000000", alg),
            );
        }
        let valid = hs256(&good);
        add("valid", valid.clone());
        let (head, sig) = valid.rsplit_once('.').unwrap();
        let mut flipped = sig.as_bytes().to_vec();
        flipped[3] ^= 1;
        add(
            "signature byte changed",
            format!("{head}.{}", String::from_utf8(flipped).unwrap()),
        );
        // The last character of a 32-byte signature carries two unused bits.
        let last = sig.chars().last().unwrap();
        let other = if last == 'A' { 'B' } else { 'A' };
        add(
            "signature last character changed",
            format!("{head}.{}{other}", &sig[..sig.len() - 1]),
        );
        add(
            "signature truncated",
            format!("{head}.{}", &sig[..sig.len() - 2]),
        );
        add("signature padded", format!("{head}.{sig}="));
        add("no signature", format!("{head}."));
        add("two segments", head.to_owned());
        add("four segments", format!("{valid}.x"));
        add("dot in front", format!(".{valid}"));
        add("empty", String::new());
        add("dots", "..".into());
        add("spaces", format!(" {valid}"));
        let kid = |k: &str| format!(r#"{{"alg":"HS256","kid":"{k}"}}"#);
        add(
            "kid of the first key",
            signed(&kid("k1"), &good, SECRET, Algorithm::HS256),
        );
        add(
            "kid of another key",
            signed(&kid("k2"), &good, SECRET, Algorithm::HS256),
        );
        add(
            "kid names the first, previous key signed",
            signed(&kid("k1"), &good, PREVIOUS, Algorithm::HS256),
        );
        add(
            "alg none",
            format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&good)),
        );
        add(
            "alg unknown",
            signed(r#"{"alg":"HS999"}"#, &good, SECRET, Algorithm::HS256),
        );
        add(
            "alg RS256 over an HMAC",
            signed(r#"{"alg":"RS256"}"#, &good, SECRET, Algorithm::HS256),
        );
        add(
            "alg says HS384, HS256 signature",
            signed(r#"{"alg":"HS384"}"#, &good, SECRET, Algorithm::HS256),
        );
        add(
            "crit",
            signed(
                r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
                &good,
                SECRET,
                Algorithm::HS256,
            ),
        );
        add(
            "crit escaped",
            signed(
                r#"{"alg":"HS256","\u0063rit":["x"]}"#,
                &good,
                SECRET,
                Algorithm::HS256,
            ),
        );
        add(
            "crit as a value",
            signed(
                r#"{"alg":"HS256","kid":"crit"}"#,
                &good,
                SECRET,
                Algorithm::HS256,
            ),
        );
        add(
            "escaped value, no crit",
            signed(
                r#"{"alg":"HS256","typ":"J\u0057T"}"#,
                &good,
                SECRET,
                Algorithm::HS256,
            ),
        );
        add(
            "header not JSON",
            signed("alg=HS256", &good, SECRET, Algorithm::HS256),
        );
        add(
            "header an array",
            signed(r#"["HS256"]"#, &good, SECRET, Algorithm::HS256),
        );
        add(
            "header with a jwk of the wrong shape",
            signed(
                r#"{"alg":"HS256","jwk":"x"}"#,
                &good,
                SECRET,
                Algorithm::HS256,
            ),
        );
        add(
            "header with whitespace",
            signed("{ \"alg\" : \"HS256\" }\n", &good, SECRET, Algorithm::HS256),
        );
        add(
            "header trailing garbage",
            signed(r#"{"alg":"HS256"}x"#, &good, SECRET, Algorithm::HS256),
        );
        let iss_aud = |iss: &str, aud: &str| claims(&format!(r#",{iss}{aud}"#));
        for (name, c) in [
            ("iss missing", claims(r#","aud":"api""#)),
            ("iss null", iss_aud(r#""iss":null,"#, r#""aud":"api""#)),
            (
                "iss wrong",
                iss_aud(r#""iss":"https://evil","#, r#""aud":"api""#),
            ),
            ("iss a number", iss_aud(r#""iss":7,"#, r#""aud":"api""#)),
            (
                "iss a list with it",
                iss_aud(r#""iss":["x","https://id.example"],"#, r#""aud":"api""#),
            ),
            (
                "iss a list without it",
                iss_aud(r#""iss":["x"],"#, r#""aud":"api""#),
            ),
            (
                "iss an empty list",
                iss_aud(r#""iss":[],"#, r#""aud":"api""#),
            ),
            (
                "iss a list with a number",
                iss_aud(r#""iss":["https://id.example",1],"#, r#""aud":"api""#),
            ),
            (
                "iss an object",
                iss_aud(r#""iss":{"a":1},"#, r#""aud":"api""#),
            ),
            ("aud missing", iss_aud(r#""iss":"https://id.example""#, "")),
            (
                "aud wrong",
                iss_aud(r#""iss":"https://id.example","#, r#""aud":"web""#),
            ),
            (
                "aud a list with it",
                iss_aud(r#""iss":"https://id.example","#, r#""aud":["web","api"]"#),
            ),
            (
                "aud a list without it",
                iss_aud(r#""iss":"https://id.example","#, r#""aud":["web"]"#),
            ),
            (
                "aud an empty list",
                iss_aud(r#""iss":"https://id.example","#, r#""aud":[]"#),
            ),
            (
                "aud a list with null",
                iss_aud(r#""iss":"https://id.example","#, r#""aud":["api",null]"#),
            ),
            (
                "aud true",
                iss_aud(r#""iss":"https://id.example","#, r#""aud":true"#),
            ),
            (
                "iss escaped",
                iss_aud(r#""iss":"https:\/\/id.example","#, r#""aud":"api""#),
            ),
            (
                "iss twice, good last",
                iss_aud(
                    r#""iss":"https://evil","iss":"https://id.example","#,
                    r#""aud":"api""#,
                ),
            ),
            (
                "exp a string",
                r#"{"sub":"u1","exp":"soon","iss":"https://id.example","aud":"api"}"#.into(),
            ),
            (
                "exp missing",
                r#"{"sub":"u1","iss":"https://id.example","aud":"api"}"#.into(),
            ),
            (
                "exp past",
                format!(
                    r#"{{"sub":"u1","exp":{},"iss":"https://id.example","aud":"api"}}"#,
                    NOW_S - 1
                ),
            ),
            (
                "exp a float",
                format!(r#"{{"sub":"u1","exp":{exp}.5,"iss":"https://id.example","aud":"api"}}"#),
            ),
            (
                "sub missing",
                format!(r#"{{"exp":{exp},"iss":"https://id.example","aud":"api"}}"#),
            ),
            (
                "sub a number",
                format!(r#"{{"sub":42,"exp":{exp},"iss":"https://id.example","aud":"api"}}"#),
            ),
            (
                "claims an array",
                format!(r#"[{exp},0,"u1","https://id.example","api"]"#),
            ),
            ("claims a string", r#""u1""#.into()),
            ("claims trailing garbage", format!("{good} x")),
            (
                "claims with a deep value",
                claims(r#","iss":"https://id.example","aud":"api","x":[[[[[[1]]]]]]"#),
            ),
            (
                "claims huge number",
                claims(r#","iss":"https://id.example","aud":"api","n":1e999"#),
            ),
        ] {
            add(name, hs256(&c));
        }
        // Odd JSON in the claims, read by the lean parse of `doc.rs`: every one must be
        // answered as the `serde_json::Map` of `jsonwebtoken` answers it.
        let ia = r#","iss":"https://id.example","aud":"api""#;
        for (name, c) in [
            (
                "escapes in names and values",
                format!(
                    r#"{{"\u0073ub":"u\u00e9\n\"x","exp":{exp}{ia},"rol\u0065":"adm\u0069n"}}"#
                ),
            ),
            (
                "sub named twice, once escaped",
                format!(r#"{{"sub":"u1","\u0073ub":"u2","exp":{exp}{ia}}}"#),
            ),
            (
                "iss escaped in its name",
                format!(
                    r#"{{"sub":"u1","exp":{exp},"\u0069ss":"https://id.example","aud":"api"}}"#
                ),
            ),
            (
                "sub escaped digits",
                claims(&format!(r#"{ia},"sub2":"\u0031""#)),
            ),
            ("sub empty", format!(r#"{{"sub":"","exp":{exp}{ia}}}"#)),
            ("sub a float", format!(r#"{{"sub":1.5e3,"exp":{exp}{ia}}}"#)),
            (
                "sub a huge integer",
                format!(r#"{{"sub":18446744073709551616,"exp":{exp}{ia}}}"#),
            ),
            (
                "sub a negative integer",
                format!(r#"{{"sub":-7,"exp":{exp}{ia}}}"#),
            ),
            (
                "sub unicode",
                format!("{{\"sub\":\"Ada 😀 café\",\"exp\":{exp}{ia}}}"),
            ),
            (
                "nested objects and arrays in unread claims",
                claims(&format!(
                    r#"{ia},"ctx":{{"a":{{"b":[1,{{"c":"d"}}],"a":2}},"e":[[],{{}}]}}"#
                )),
            ),
            (
                "a name repeated inside a nested claim",
                claims(&format!(r#"{ia},"ctx":{{"team":"a","team":"b"}}"#)),
            ),
            (
                "floats and huge numbers",
                claims(&format!(
                    r#"{ia},"f":-0.0,"g":1.5e-300,"h":-99999999999999999999,"i":1e-999"#
                )),
            ),
            (
                "unicode names and values",
                claims(&format!("{ia},\"😀\":\"é\",\"rôle\":1")),
            ),
            ("lone surrogate", claims(&format!(r#"{ia},"x":"\ud800""#))),
            (
                "surrogate pair",
                claims(&format!(r#"{ia},"roles":["adm\u0069n","\ud83d\ude00"]"#)),
            ),
            ("bad escape", claims(&format!(r#"{ia},"x":"\q""#))),
            (
                "raw control character",
                claims(&format!("{ia},\"x\":\"a\tb\"")),
            ),
            (
                "exp in exponent form",
                format!(r#"{{"sub":"u1","exp":{}e0{ia}}}"#, exp),
            ),
            (
                "exp a huge integer",
                format!(r#"{{"sub":"u1","exp":18446744073709551616{ia}}}"#),
            ),
            (
                "nbf ahead",
                claims(&format!(r#"{ia},"nbf":{}"#, NOW_S + 60)),
            ),
            ("nbf null", claims(&format!(r#"{ia},"nbf":null"#))),
            ("nbf a string", claims(&format!(r#"{ia},"nbf":"now""#))),
            ("org a string", claims(&format!(r#"{ia},"org":"o\u0031""#))),
            (
                "org an object with a repeated name",
                claims(&format!(r#"{ia},"org":{{"k":"v","k":"w","a":[1,null]}}"#)),
            ),
            (
                "org a list",
                claims(&format!(r#"{ia},"org":[1,"a",null,true,1.5]"#)),
            ),
            ("org a huge number", claims(&format!(r#"{ia},"org":1e300"#))),
            (
                "org null, team nested",
                claims(&format!(r#"{ia},"org":null,"ctx":{{"team":"t1"}}"#)),
            ),
            (
                "team nested not an object",
                claims(&format!(r#"{ia},"ctx":["team"],"team":"t2""#)),
            ),
            (
                "roles a list of mixed",
                claims(&format!(r#"{ia},"roles":["a",1,null,["b"],"c"]"#)),
            ),
            (
                "roles null, role a string",
                claims(&format!(r#"{ia},"roles":null,"role":"r""#)),
            ),
            (
                "aud escaped",
                claims(r#","iss":"https://id.example","aud":"\u0061pi""#),
            ),
            (
                "iss and aud lists escaped",
                claims(r#","iss":["https:\/\/id.example"],"aud":["x","\u0061pi"]"#),
            ),
            (
                "claims deeper than serde_json reads",
                claims(&format!(
                    r#"{ia},"x":{}1{}"#,
                    "[".repeat(200),
                    "]".repeat(200)
                )),
            ),
        ] {
            add(name, hs256(&c));
        }
        add(
            "payload not base64",
            format!("{}.!!!.{}", b64(r#"{"alg":"HS256"}"#), sig),
        );
        out
    }

    /// Cases where the one-pass path refuses what `jsonwebtoken` accepts, on purpose
    /// (`hs.rs`): a member named twice that is not a registered claim.
    fn stricter() -> Vec<(String, String)> {
        let exp = NOW_S + 600;
        vec![(
            "roles twice".into(),
            hs256(&format!(
                r#"{{"sub":"u1","exp":{exp},"iss":"https://id.example","aud":"api","roles":["user"],"roles":["admin"]}}"#
            )),
        )]
    }

    fn outcome(j: &Jwt, token: &str) -> Result<(Principal, String), AuthFailure> {
        j.verify(token, NOW_S * 1_000_000)
            .map(|(p, l)| (p, l.to_owned()))
    }

    /// `Jwt::verify` as it was before `hs.rs`, whole: `jsonwebtoken::decode_header`,
    /// the `crit` member looked up in the header read as a map, `jsonwebtoken::decode`.
    fn before(j: &Jwt, token: &str) -> Result<(Principal, String), AuthFailure> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::InvalidToken)?;
        let head = token.split('.').next().unwrap_or_default();
        let crit = URL_SAFE_NO_PAD.decode(head).map_or(true, |b| {
            serde_json::from_slice::<Claims>(&b).map_or(true, |h| h.contains_key("crit"))
        });
        if crit {
            return Err(AuthFailure::InvalidToken);
        }
        for k in &j.keys {
            if !k.validation.algorithms.contains(&header.alg) {
                continue;
            }
            if let (Some(want), Some(have)) = (header.kid.as_deref(), k.kid.as_deref()) {
                if want != have {
                    continue;
                }
            }
            match jsonwebtoken::decode::<Claims>(token, &k.key, &k.validation) {
                Ok(data) => {
                    j.rules.check(&data.claims, NOW_S * 1_000_000)?;
                    let p = j
                        .claims
                        .principal(&Members::of_map(&data.claims))
                        .ok_or(AuthFailure::InvalidToken)?;
                    return Ok((p, k.label.to_string()));
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                Err(_) => return Err(AuthFailure::InvalidToken),
            }
        }
        Err(AuthFailure::InvalidToken)
    }

    #[test]
    fn one_pass_hmac_verification_answers_as_jsonwebtoken_does() {
        for (issuer, audience) in [
            (&["https://id.example"][..], &["api"][..]),
            (&[][..], &[][..]),
            (&["https://id.example", "x"][..], &[][..]),
            (&[][..], &["api", "web"][..]),
        ] {
            let (fast, general) = (jwt(true, issuer, audience), jwt(false, issuer, audience));
            assert!(fast.keys.iter().all(|k| k.hmac.is_some()));
            assert!(general.keys.iter().all(|k| k.hmac.is_none()));
            let mut accepted = 0;
            for (name, token) in corpus() {
                let (a, b) = (outcome(&fast, &token), before(&general, &token));
                assert_eq!(a, b, "{name} (iss {issuer:?}, aud {audience:?}): {token}");
                // Keys without hash states take `jsonwebtoken` for the signature.
                assert_eq!(outcome(&general, &token), b, "{name}, general path");
                accepted += usize::from(a.is_ok());
            }
            // The corpus holds tokens both paths accept, under every configuration.
            assert!(
                accepted >= 6,
                "only {accepted} accepted under {issuer:?} {audience:?}"
            );
            for (name, token) in stricter() {
                assert!(
                    before(&general, &token).is_ok(),
                    "{name}: jsonwebtoken accepts it"
                );
                assert_eq!(
                    outcome(&fast, &token),
                    Err(AuthFailure::InvalidToken),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn the_first_key_that_signed_names_the_principal_s_key() {
        let j = jwt(true, &[], &[]);
        let exp = NOW_S + 600;
        let c = format!(r#"{{"sub":"u1","exp":{exp}}}"#);
        let t = signed(r#"{"alg":"HS256"}"#, &c, PREVIOUS, Algorithm::HS256);
        let (p, label) = outcome(&j, &t).unwrap();
        assert_eq!((p.id.as_str(), label.as_str()), ("u1", "jwt:JWT_PREVIOUS"));
    }
}
