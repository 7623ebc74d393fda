//! The HTTP layer: route table, requirements, security headers, CORS and rate limits,
//! answering `Engine::check_http` through `pipeline::Pipeline`.
//!
//! | module | owns |
//! | --- | --- |
//! | `path.rs` | path normalisation (decoding, dot-segments, separators) |
//! | `router.rs` | [`Router`]: the pattern trie, every match most specific first |
//! | `headers.rs`, `cors.rs` | response headers: security headers with route overrides, CORS |
//! | `signature.rs` | webhook signatures over the body |
//! | `cookies.rs` | `cookies { }` rules and the `Set-Cookie` rewrite the middlewares call |
//! | `redirect.rs` | `{host}` (a listed `Host` only) and `{target}` in redirect locations |
//! | `origins.rs` | `origins: split(config(NAME), ",")`: CORS origins from a setting |
//! | `dynamic.rs` | `header set NAME: EXPR`: computed per admitted request |
//! | `compile.rs` | routes, limits, headers, cors -> tables, at load |
//! | `decision.rs` | [`HttpDecision`], [`HttpTrace`] and their JSON |
//! | `state.rs` | the per-request state between the phases: `Prepared`, what expressions read |
//! | `pipeline.rs` | `Pipeline`: what a request reads of an engine; the blocking and async drivers |
//! | `respond.rs` | response headers of the matched routes, the decision they go into |
//! | `shortcuts.rs` | the usual limit key and body-size check without the general evaluator |
//! | `prepare.rs` | phase 1: path, routes, CORS preflight, limit keys |
//! | `conclude.rs` | phase 2: store answers -> 429/503, requirements, refusal or headers |
//!
//! [`HttpRequest`] (host input) and [`parse_time`] (RFC 3339 timestamps) live with the
//! other requests, below evaluation; they are re-exported here.

pub(crate) mod compile;
mod conclude;
pub(crate) mod cookies;
mod cors;
mod decision;
mod dynamic;
mod headers;
mod origins;
mod path;
pub(crate) mod pipeline;
pub(crate) mod prepare;
mod redirect;
mod respond;
mod router;
mod shortcuts;
mod signature;
mod state;

pub use crate::http_request::HttpRequest;
pub use crate::time::parse_time;
pub use cookies::{CookieRule, SameSite};
pub use decision::{HttpDecision, HttpTrace, LimitTrace, ReqTrace, RouteRef, RouteTrace};
pub(crate) use origins::from_setting as origins_from_setting;
pub use path::{normalise, NormPath, PathError};
pub use router::Router;
