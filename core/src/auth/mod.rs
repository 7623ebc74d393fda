//! Authentication of HTTP requests whose host passes no principal: the policy's `auth`
//! section (bearer JWTs, API keys, Auth.js session cookies) turns credentials into a
//! [`Principal`](crate::Principal), or into one of a small fixed set of failures that never echo the
//! credential.

mod api_key;
mod claims;
mod compile;
mod doc;
mod flat;
mod hs;
mod jwe;
mod jwt;
mod lifetime;
#[cfg(test)]
mod mutate;
mod outcome;
mod slab_lru;
mod source;
mod token_cache;

use crate::http_request::HttpRequest;
use api_key::ApiKeys;
use jwe::Jwe;
use jwt::Jwt;
pub use outcome::{AuthFailure, Authn};
use source::Source;

/// The compiled `auth` blocks, tried in source order. `Debug` shows key labels and
/// algorithms, never key material.
#[derive(Debug, Default)]
pub(crate) struct Auth {
    mechanisms: Vec<(Source, Mechanism)>,
}

#[derive(Debug)]
enum Mechanism {
    Jwt(Jwt),
    ApiKey(ApiKeys),
    /// An Auth.js session cookie (`auth nextauth`), one per cookie name.
    NextAuth(Jwe),
}

impl Auth {
    /// Whether the policy declares no `auth` block (hosts pass every principal).
    pub(crate) fn is_empty(&self) -> bool {
        self.mechanisms.is_empty()
    }

    /// The request headers the `auth` blocks read credentials from (lower-case names),
    /// so that the decision log never records them (`observe.rs`).
    pub(crate) fn header_sources(&self) -> impl Iterator<Item = &str> {
        self.mechanisms.iter().filter_map(|(s, _)| match s {
            Source::Header(name) => Some(&**name),
            Source::Cookie(_) | Source::SessionCookie(_) => None,
        })
    }

    /// Authenticate `req` at `now_us`. Only called when the host passed no principal.
    ///
    /// Every block whose credential is present is tried; the first that verifies wins.
    /// When none does, an expired token is reported as such (its signature did verify),
    /// else the first block's failure. No credential at all is `Anonymous`.
    pub(crate) fn authenticate(&self, req: &HttpRequest, now_us: u64) -> Authn {
        let mut failure: Option<AuthFailure> = None;
        for (source, m) in &self.mechanisms {
            let Some(cred) = source.read(req) else {
                continue;
            };
            let outcome = match m {
                Mechanism::Jwt(j) => j.verify(&cred, now_us),
                Mechanism::ApiKey(k) => k.verify(&cred).ok_or(AuthFailure::InvalidApiKey),
                Mechanism::NextAuth(j) => j.verify(&cred, now_us),
            };
            match outcome {
                Ok((principal, via)) => {
                    return Authn::Principal {
                        principal,
                        via: via.to_owned(),
                    }
                }
                Err(f) => {
                    failure = match failure {
                        None => Some(f),
                        Some(_) if f == AuthFailure::TokenExpired => Some(f),
                        prev => prev,
                    }
                }
            }
        }
        failure.map_or(Authn::Anonymous, Authn::Failed)
    }
}
