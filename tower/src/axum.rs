//! axum extractors over the layer's [`Admitted`] extension, and [`Refused`] as a
//! response.
//!
//! ```
//! use axum::{extract::Path, routing::delete, Router};
//! use warden::Resource;
//! use warden_tower::{Authenticated, Authorizer, Refused};
//!
//! async fn delete_post(
//!     Authenticated(user): Authenticated,
//!     authz: Authorizer,
//!     Path(id): Path<String>,
//! ) -> Result<String, Refused> {
//!     let author = "u1"; // loaded with the post
//!     authz.authorize("posts:delete", Resource::new("post", &*id).attr("author", author))?;
//!     Ok(format!("{} deleted {id}", user.id))
//! }
//! let app: Router = Router::new().route("/posts/{id}", delete(delete_post));
//! ```

use crate::{Admitted, Refused};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use warden::{Principal, Resource};

/// The request's principal, or `None` for an anonymous caller. On a route that needed
/// no authentication the credentials are verified when this is extracted.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

/// The request's principal; extraction answers 401 (`WWW-Authenticate: Bearer`) for
/// an anonymous caller.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// The resource-level check of a handler: [`Authorizer::authorize`] asks the engine
/// that admitted the request whether its principal may act on a resource.
#[derive(Debug, Clone)]
pub struct Authorizer {
    admitted: Admitted,
    principal: Option<Principal>,
}

impl Authorizer {
    /// `Ok` when allowed; else a [`Refused`] (403 with the policy's reason, or 401).
    pub fn authorize(&self, action: &str, resource: Resource) -> Result<(), Refused> {
        let mut req = warden::Request::new(action).resource(resource);
        if let Some(p) = &self.principal {
            req = req.principal(p.clone());
        }
        self.decide(&req)
    }

    fn decide(&self, req: &warden::Request) -> Result<(), Refused> {
        let d = self.admitted.engine().authorize(req);
        if d.allowed {
            return Ok(());
        }
        Err(Refused::new(
            self.principal.is_some(),
            d.reason.unwrap_or("forbidden"),
        ))
    }

    /// `Ok` when the principal may do `action` (no resource: a permission check).
    pub fn authorize_action(&self, action: &str) -> Result<(), Refused> {
        let mut req = warden::Request::new(action);
        if let Some(p) = &self.principal {
            req = req.principal(p.clone());
        }
        self.decide(&req)
    }

    /// The principal the checks are made for.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }
}

/// Without the layer there is no decision to read: a 500, never a silent pass.
fn missing_layer() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "warden_tower::WardenLayer is not installed on this route",
    )
        .into_response()
}

fn admitted(parts: &Parts) -> Result<&Admitted, Response> {
    parts.extensions.get::<Admitted>().ok_or_else(missing_layer)
}

impl<S: Send + Sync> FromRequestParts<S> for MaybePrincipal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        Ok(MaybePrincipal(admitted(parts)?.authenticate(parts)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match admitted(parts)?.authenticate(parts) {
            Some(p) => Ok(Authenticated(p)),
            None => Err(Refused::new(false, "").into_response()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authorizer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let admitted = admitted(parts)?.clone();
        let principal = admitted.authenticate(parts);
        Ok(Authorizer {
            admitted,
            principal,
        })
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::FORBIDDEN);
        let body = serde_json::json!({ "error": self.reason }).to_string();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == 401 {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}
