//! Bearer JWTs: signature by `jsonwebtoken` against the keys named in the policy, tried
//! in order (rotation), then `exp`/`nbf` against the engine's clock, never the system's.

use super::claims::ClaimMap;
use super::lifetime::TokenRules;
use super::outcome::AuthFailure;
use super::token_cache::{TokenCache, Verified};
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

/// Whether the token's protected header has a `crit` member. This verifier implements
/// no extension, so any critical one is unknown to it, and RFC 7515 §4.1.11 says the
/// token must then be refused (`jsonwebtoken` ignores the member). A header that does
/// not decode counts as naming one: the caller refuses either way.
fn names_crit(token: &str) -> bool {
    use base64::Engine as _;
    let Some(head) = token.split('.').next() else {
        return true;
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head) else {
        return true;
    };
    serde_json::from_slice::<Claims>(&bytes).map_or(true, |h| h.contains_key("crit"))
}

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
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::InvalidToken)?;
        if names_crit(token) {
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
            match jsonwebtoken::decode::<Claims>(token, &k.key, &k.validation) {
                Ok(data) => {
                    self.rules.check(&data.claims, now_us)?;
                    let principal = self
                        .claims
                        .principal(&data.claims)
                        .ok_or(AuthFailure::InvalidToken)?;
                    self.cache.put(
                        token,
                        Verified {
                            claims: data.claims,
                            principal: principal.clone(),
                            key: i,
                        },
                    );
                    return Ok((principal, &k.label));
                }
                // Another key of the rotation may have signed it.
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                Err(_) => return Err(AuthFailure::InvalidToken),
            }
        }
        // No key for the token's algorithm (e.g. `HS256` where only RS256 is listed:
        // the algorithm-confusion attack), or no key's signature matched.
        Err(AuthFailure::InvalidToken)
    }
}
