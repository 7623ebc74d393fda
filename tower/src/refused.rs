//! [`Refused`]: a handler-level `authorize` that said no.

use std::fmt;

/// A resource-level refusal from [`crate::Admitted::authorize`]: 403 with the policy's
/// reason, or 401 when the caller is anonymous (there was no one to refuse). With the
/// `axum` feature it is a response (`{"error": reason}`, `WWW-Authenticate: Bearer` on
/// a 401), so a handler can `?` it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 401 or 403.
    pub status: u16,
    /// The deciding deny's `because`, or why nothing permitted.
    pub reason: String,
}

impl Refused {
    pub(crate) fn new(authenticated: bool, reason: &str) -> Refused {
        if authenticated {
            Refused {
                status: 403,
                reason: reason.to_owned(),
            }
        } else {
            Refused {
                status: 401,
                reason: "not authenticated".to_owned(),
            }
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

impl std::error::Error for Refused {}
