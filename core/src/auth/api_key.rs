//! Static API keys: each presented key is compared in constant time with every accepted
//! key, old and new during a rotation, and stands for a fixed principal.

use crate::secret::Secret;
use crate::Principal;
use subtle::{Choice, ConstantTimeEq};

/// One accepted key value and the principal it stands for.
#[derive(Debug)]
pub(crate) struct ApiKey {
    /// The secret's name, for `via`.
    pub label: Box<str>,
    pub value: Secret,
    /// Index into [`ApiKeys::principals`].
    pub principal: usize,
}

/// A compiled `auth api_key { ... }` block.
#[derive(Debug, Default)]
pub(crate) struct ApiKeys {
    pub keys: Vec<ApiKey>,
    pub principals: Vec<Principal>,
}

impl ApiKeys {
    /// Every key is compared, matched or not, so the time taken does not say which
    /// key (or how many) came close.
    pub(crate) fn verify(&self, presented: &str) -> Option<(Principal, &str)> {
        let mut found: Option<&ApiKey> = None;
        for k in &self.keys {
            let v = k.value.expose().as_bytes();
            let p = presented.as_bytes();
            let eq: Choice = if v.len() == p.len() {
                v.ct_eq(p)
            } else {
                Choice::from(0)
            };
            if bool::from(eq) && found.is_none() {
                found = Some(k);
            }
        }
        let k = found?;
        let p = self.principals.get(k.principal)?.clone();
        Some((p, &k.label))
    }
}
