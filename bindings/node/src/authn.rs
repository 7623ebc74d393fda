//! Authentication for the Node API: `Engine::authenticate` as JSON, and the principal
//! handed back with an HTTP decision, so a host never decodes a credential twice.

use serde_json::{json, Value as Json};
use warden::{Authn, Engine, HttpRequest};

/// The outcome of authenticating: `{ outcome: "principal", principal, via }`,
/// `{ outcome: "anonymous" }` or `{ outcome: "failed", code }`. Never a token or key.
pub(crate) fn outcome(a: &Authn) -> Json {
    match a {
        Authn::Anonymous => json!({ "outcome": "anonymous" }),
        Authn::Principal { principal: p, via } => {
            json!({ "outcome": "principal", "principal": p.to_json(), "via": via })
        }
        Authn::Failed(f) => json!({ "outcome": "failed", "code": f.code() }),
    }
}

/// Authenticate before the HTTP check when the host passed no principal, and hand the
/// principal found to the check (which then verifies nothing twice). Returns how it was
/// found (`jwt:NAME#1`). A refused or absent credential leaves the request as it was, so
/// the check reaches the same refusal, with the same reason, as without this step.
pub(crate) fn pre_authenticate(engine: &Engine, req: &mut HttpRequest) -> Option<String> {
    if req.principal.is_some() {
        return None;
    }
    match engine.authenticate(req) {
        Authn::Principal { principal, via } => {
            req.principal = Some(principal);
            Some(via)
        }
        Authn::Anonymous | Authn::Failed(_) => None,
    }
}

/// The decision JSON with `principal` (the host's or the authenticated one, else null)
/// and, for an authenticated one, `authenticated_by`.
pub(crate) fn with_principal(mut out: Json, req: &HttpRequest, via: Option<String>) -> Json {
    if let Some(o) = out.as_object_mut() {
        o.insert(
            "principal".into(),
            req.principal
                .as_ref()
                .map_or(Json::Null, warden::Principal::to_json),
        );
        if via.is_some() {
            o.insert(
                "authenticated_by".into(),
                via.map_or(Json::Null, Json::String),
            );
        }
    }
    out
}
