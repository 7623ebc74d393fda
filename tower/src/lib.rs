//! Warden for [tower](https://docs.rs/tower) services: [`WardenLayer`] applies a
//! policy's HTTP section (routes and requirements, `auth` blocks, rate limits, CORS,
//! redirects, security headers, cookie rules) in front of any service taking
//! `http::Request`s, so axum routers and hyper services alike; with the `axum` feature
//! (default), extractors hand handlers the principal ([`Authenticated`],
//! [`MaybePrincipal`]) and resource-level checks ([`Authorizer`]).
//!
//! ```
//! use axum::{routing::get, Router};
//! use warden::{Engine, Options};
//! use warden_tower::{Authenticated, WardenLayer};
//!
//! let engine = Engine::from_source("api.warden", r#"
//! policy api
//! role user
//! principal { id: string }
//! route /api/** { require auth }
//! "#, Options::default()).map_err(|e| e.to_string())?;
//!
//! async fn me(Authenticated(user): Authenticated) -> String {
//!     user.id
//! }
//! let app: Router = Router::new()
//!     .route("/api/me", get(me))
//!     .layer(WardenLayer::new(engine));
//! # Ok::<(), String>(())
//! ```
//!
//! A request whose route verifies a signature over its body (`require signature`) is
//! read first (at most [`WardenLayer::max_body`] bytes) and replayed to the service
//! unchanged; no other body is read. A Redis rate-limit store is asked with async I/O
//! on the runtime the service runs on.
//!
//! | module | owns |
//! | --- | --- |
//! | `layer.rs` | [`WardenLayer`], [`WardenService`], [`Admitted`]: the request path |
//! | `request.rs` | `http::request::Parts` -> the engine's `HttpRequest` |
//! | `response.rs` | refusal answers, the decision's headers on a response |
//! | `refused.rs` | [`Refused`]: a handler-level refusal |
//! | `axum.rs` | the extractors, `IntoResponse` for [`Refused`] |

#[cfg(feature = "axum")]
mod axum;
mod layer;
mod refused;
mod request;
mod response;

#[cfg(feature = "axum")]
pub use crate::axum::{Authenticated, Authorizer, MaybePrincipal};
pub use layer::{Admitted, WardenBody, WardenLayer, WardenService};
pub use refused::Refused;
pub use response::{detail_body, error_body, DenyBody};
