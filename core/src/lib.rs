//! Warden engine: loads a checked policy, compiles it into decision tables and answers requests.
//!
//! ```
//! use warden::{Engine, Options, Principal, Request, Resource};
//!
//! let engine = Engine::from_source("docs.warden", r#"
//! policy docs
//! role viewer
//! role editor > viewer
//! grant viewer: posts:read
//! grant editor: posts:write
//! principal { id: string }
//! resource post { author: string }
//! deny posts:write on post unless resource.author == principal.id
//!   because "only the author may change a post"
//! "#, Options::default()).map_err(|e| e.to_string())?;
//!
//! let req = Request::new("posts:write")
//!     .principal(Principal::new("u1").role("editor"))
//!     .resource(Resource::new("post", "p1").attr("author", "u2"));
//! let d = engine.authorize(&req);
//! assert!(!d.allowed);
//! assert_eq!(d.reason, Some("only the author may change a post"));
//! assert_eq!(d.rule, Some("docs.warden:9"));
//! # Ok::<(), String>(())
//! ```
//!
//! | module | owns |
//! | --- | --- |
//! | `engine.rs` | [`Engine`], [`Options`], [`Decision`], explain [`Trace`]: the public surface |
//! | `request.rs` | [`Request`], [`Value`], [`Attrs`]: host input, from JSON or built by hand |
//! | `json.rs` | [`JsonRequest`]: the request JSON checked once and read in place ([`Engine::authorize_json`]) |
//! | `subject.rs` | what evaluation reads of a request, built or JSON |
//! | `compile.rs` | interning, role closure, role x action grant table, rule index |
//! | `lower.rs` | conditions -> `Node` programs; `env`, secrets, regexes folded in |
//! | `eval.rs` | evaluating programs: values or missing |
//! | `forms.rs` | `now`, `header_safe`, roles held per organization |
//! | `script.rs` | Rhai script functions, sandboxed |
//! | `filter/` | [`Engine::residual`]: data filtering, the condition on `resource.*` under which `authorize` allows, as SQL or JSON |
//! | `cache.rs` | the optional LRU decision cache |
//! | `http/` | [`Engine::check_http`]: path normalisation, route trie, requirements, limits, security headers, CORS, [`HttpDecision`] (table in `http/mod.rs`) |
//! | `limit/` | [`LimitStore`] and the rate-limit stores |
//! | `auth/` | authentication of HTTP requests by the policy's `auth` section |
//! | `clock.rs` | [`Clock`]: system or manual time for limits and tokens |
//! | `reload.rs` | [`Warden`]: atomic reload |
//! | `auth/` | the `auth` blocks: bearer JWTs, API keys (or their SHA-256), Auth.js session cookies, rotation; [`Authn`] |
//! | `startup.rs` | `startup { require ... }` checks, evaluated at load |
//! | `secret.rs`, `error.rs` | [`Secret`] (never printed), [`LoadError`] |
//!
//! Architecture invariants: `authorize` takes `&self`, holds no lock (with the cache
//! off) and never allocates; nothing on the request path walks the syntax tree;
//! `check_http` and `check_http_async` share every step but the store calls.

mod auth;
mod cache;
mod clock;
mod compile;
mod engine;
mod error;
mod eval;
pub mod filter;
mod forms;
pub mod http;
mod json;
pub mod limit;
mod lower;
mod proxies;
mod reload;
mod request;
mod script;
mod secret;
mod startup;
mod subject;

pub use auth::{AuthFailure, Authn};
pub use cache::CacheStats;
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{ActionId, Decision, Engine, Options, RuleTrace, Trace, NO_PERMIT};
pub use error::LoadError;
pub use eval::Read;
pub use http::{CookieRule, SameSite};
pub use http::{HttpDecision, HttpRequest, HttpTrace};
pub use json::JsonRequest;
pub use limit::{Admission, LimitSpec, LimitStore, OnStoreError, StoreError};
pub use reload::Warden;
pub use request::{Attrs, Principal, Request, RequestError, Resource, Value};
pub use secret::Secret;

// The README's example (what crates.io shows) runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
