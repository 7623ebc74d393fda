//! Authentication of HTTP requests whose host passes no principal: the policy's `auth`
//! section (bearer JWTs, API keys) turns credentials into a [`Principal`], or into one
//! of a small fixed set of failures that never echo the credential.

use crate::http::HttpRequest;
use crate::Principal;

/// Why a request's credentials were refused. The reason codes are a public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFailure {
    MissingToken,
    TokenExpired,
    InvalidToken,
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
    Principal { principal: Principal, via: String },
    /// Credentials presented and refused.
    Failed(AuthFailure),
}

/// The compiled `auth` section. The language has no `auth` section yet (issue 6), so a
/// compiled policy has none and every request without a host principal is anonymous.
#[derive(Debug, Default)]
pub(crate) struct Auth {
    _private: (),
}

// Wired into `check_http` by the HTTP layer (issue 5).
#[allow(dead_code)]
impl Auth {
    /// Authenticate `req` at `now_us`. Only called when the host passed no principal.
    pub(crate) fn authenticate(&self, _req: &HttpRequest, _now_us: u64) -> Authn {
        Authn::Anonymous
    }
}
