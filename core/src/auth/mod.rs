//! Authentication of HTTP requests whose host passes no principal: the policy's `auth`
//! section (bearer JWTs, API keys, Auth.js session cookies) turns credentials into a
//! [`Principal`], or into one of a small fixed set of failures that never echo the
//! credential.

mod api_key;
mod claims;
mod compile;
mod jwe;
mod jwt;
mod lifetime;
mod source;

use crate::http::HttpRequest;
use crate::Principal;
use api_key::ApiKeys;
use jwe::Jwe;
use jwt::Jwt;
use source::Source;

/// Why a request's credentials were refused. The reason codes are a public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFailure {
    /// No credential where one was required (`missing_token`).
    MissingToken,
    /// A token past its `exp`, or before its `nbf`, or older than `max_age`
    /// (`token_expired`).
    TokenExpired,
    /// A token that does not verify or lacks a required claim (`invalid_token`).
    InvalidToken,
    /// An API key that matches no listed key (`invalid_api_key`).
    InvalidApiKey,
}

impl AuthFailure {
    /// The reason code of decisions and `WWW-Authenticate` errors.
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::MissingToken => "missing_token",
            AuthFailure::TokenExpired => "token_expired",
            AuthFailure::InvalidToken => "invalid_token",
            AuthFailure::InvalidApiKey => "invalid_api_key",
        }
    }
}

/// The outcome of authenticating one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Authn {
    /// No credentials were presented (and none are required by the `auth` section to
    /// be well-formed): the request is anonymous.
    Anonymous,
    /// Credentials verified. `via` names the mechanism and the matched secret by its
    /// label (e.g. `"jwt:JWT_SECRET#1"`), never by value.
    Principal {
        /// Who the credential says the caller is.
        principal: Principal,
        /// The mechanism and key label that verified it.
        via: String,
    },
    /// Credentials presented and refused.
    Failed(AuthFailure),
}

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
    /// Compile the policy's `auth` blocks with the host's keys.
    pub(crate) fn compile(
        policy: &warden_lang::ast::Policy,
        options: &crate::Options,
    ) -> Result<Auth, Vec<warden_lang::Diagnostic>> {
        compile::compile(policy, options)
    }

    /// Whether the policy declares no `auth` block (hosts pass every principal).
    pub(crate) fn is_empty(&self) -> bool {
        self.mechanisms.is_empty()
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
