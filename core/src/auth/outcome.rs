//! What authenticating a request gives: a principal, anonymous, or a failure code.

use crate::request::Principal;

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
