//! Static API keys: each presented key is compared in constant time with every accepted
//! key, old and new during a rotation, and stands for a fixed principal. A key is a
//! secret the host supplies, or only the SHA-256 of one (the policy never holds a key);
//! keys of revoked principal ids are refused.

use crate::secret::Secret;
use crate::Principal;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// What an accepted key is compared with.
#[derive(Debug)]
pub(crate) enum KeyValue {
    /// The key itself, from the host's secrets.
    Secret(Secret),
    /// The SHA-256 of the key, from the policy: the presented key is hashed first.
    Sha256([u8; 32]),
}

/// One accepted key value and the principal it stands for.
#[derive(Debug)]
pub(crate) struct ApiKey {
    /// The secret's name, or the principal id of a hashed key, for `via`.
    pub label: Box<str>,
    pub value: KeyValue,
    /// Index into [`ApiKeys::principals`].
    pub principal: usize,
    /// The principal's id is listed in `revoked:`: a match is refused.
    pub revoked: bool,
}

/// A compiled `auth api_key { ... }` block.
#[derive(Debug, Default)]
pub(crate) struct ApiKeys {
    pub keys: Vec<ApiKey>,
    pub principals: Vec<Principal>,
}

/// Two byte strings, in time that depends on their lengths only.
fn ct_eq(a: &[u8], b: &[u8]) -> Choice {
    if a.len() == b.len() {
        a.ct_eq(b)
    } else {
        Choice::from(0)
    }
}

/// `64 hex digits` -> bytes; `None` for anything else (the checker refuses it first).
pub(crate) fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digits = std::str::from_utf8(pair).ok()?;
        *out.get_mut(i)? = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(out)
}

impl ApiKeys {
    /// Every key is compared, matched or not, so the time taken does not say which
    /// key (or how many) came close. A revoked key's match is refused after the loop.
    pub(crate) fn verify(&self, presented: &str) -> Option<(Principal, &str)> {
        let p = presented.as_bytes();
        // Hashed once, and only when the block holds hashed keys.
        let mut hashed: Option<[u8; 32]> = None;
        let mut found: Option<&ApiKey> = None;
        for k in &self.keys {
            let eq = match &k.value {
                KeyValue::Secret(v) => ct_eq(v.expose().as_bytes(), p),
                KeyValue::Sha256(h) => {
                    h.ct_eq(hashed.get_or_insert_with(|| Sha256::digest(p).into()))
                }
            };
            if bool::from(eq) && found.is_none() {
                found = Some(k);
            }
        }
        let k = found.filter(|k| !k.revoked)?;
        let principal = self.principals.get(k.principal)?.clone();
        Some((principal, &k.label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(key: &str) -> [u8; 32] {
        Sha256::digest(key.as_bytes()).into()
    }

    fn keys() -> ApiKeys {
        ApiKeys {
            keys: vec![
                ApiKey {
                    label: "api_key:client-7".into(),
                    value: KeyValue::Sha256(hash_of("client-7-key")),
                    principal: 0,
                    revoked: false,
                },
                ApiKey {
                    label: "api_key:client-3".into(),
                    value: KeyValue::Sha256(hash_of("client-3-key")),
                    principal: 1,
                    revoked: true,
                },
                ApiKey {
                    label: "api_key:REPORTING_KEY".into(),
                    value: KeyValue::Secret(Secret::new("reporting-key")),
                    principal: 2,
                    revoked: false,
                },
            ],
            principals: vec![
                Principal::new("client-7"),
                Principal::new("client-3"),
                Principal::new("reporting"),
            ],
        }
    }

    #[test]
    fn hashed_and_secret_keys_verify() {
        let k = keys();
        let got = |key: &str| k.verify(key).map(|(p, via)| (p.id, via.to_owned()));
        assert_eq!(
            got("client-7-key"),
            Some(("client-7".into(), "api_key:client-7".into()))
        );
        assert_eq!(
            got("reporting-key"),
            Some(("reporting".into(), "api_key:REPORTING_KEY".into()))
        );
    }

    #[test]
    fn revoked_unknown_and_hash_valued_keys_are_refused() {
        let k = keys();
        assert!(k.verify("client-3-key").is_none());
        assert!(k.verify("client-7-kez").is_none());
        assert!(k.verify("").is_none());
        // Presenting the stored hash itself is not presenting the key.
        let hex: String = hash_of("client-7-key")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(k.verify(&hex).is_none());
    }

    #[test]
    fn hex_digests_parse_in_either_case() {
        let h = hash_of("client-7-key");
        let lower: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(parse_sha256(&lower), Some(h));
        assert_eq!(parse_sha256(&lower.to_ascii_uppercase()), Some(h));
        // `printf %s test | sha256sum`
        let test = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(parse_sha256(test), Some(hash_of("test")));
        assert_eq!(parse_sha256(&lower[..62]), None);
        assert_eq!(parse_sha256(&format!("{}zz", &lower[..62])), None);
        assert_eq!(parse_sha256(&format!("{}é", &lower[..62])), None);
    }
}
