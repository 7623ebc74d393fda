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
//! The modules, bottom layer first: each imports only from its own layer or those
//! below (docs/ARCHITECTURE.md, "Layers"; checked by `tests/tidy.rs`).
//!
//! | layer | modules | owns |
//! | --- | --- | --- |
//! | base | `secret`, `error`, `clock` | [`Secret`] (never printed), [`LoadError`], [`Clock`] |
//! | requests | `request`, `request_ref`, `json`, `json_scan`, `json_text`, `time`, `http_request`, `client_ip`, `proxies` | [`Request`], [`Value`], [`Attrs`], [`RequestRef`] (borrowed, also read from JSON text), [`JsonRequest`], [`HttpRequest`]: what hosts pass in; the client address behind trusted proxies |
//! | limits | `limit/` | [`LimitStore`], GCRA and sliding log, the memory and Redis stores |
//! | operations | `decision_log/`, `metrics/` | the [`decision_log`]'s queue, writer thread and sinks; the [`metrics`] counters and their Prometheus text |
//! | options | `options` | [`Options`]: how an engine is loaded |
//! | programs | `program`, `value`, `subject`, `script`, `tables` | lowered programs, run-time values, Rhai scripts, the decision tables |
//! | evaluation | `cx`, `rolesets`, `forms`, `eval` | evaluating programs over a request's facts: values or missing |
//! | compiler | `lower`, `compile` | syntax tree -> programs and tables, at load |
//! | authorization | `authorize`, `cache` | [`Decision`], explain [`Trace`], the optional decision cache |
//! | authentication | `auth/` | the `auth` blocks: bearer JWTs, API keys, Auth.js session cookies -> [`Principal`]; [`Authn`] |
//! | HTTP | `http/` | [`Engine::check_http`]: path rule, route trie, requirements, limits, headers, CORS, [`HttpDecision`] (table in `http/mod.rs`) |
//! | observation | `observe` | per engine: decisions -> decision log records and metrics, with the labels resolved at load |
//! | facade | `engine`, `candidate`, `startup`, `reload` | [`Engine`], a candidate policy beside it ([`Engine::set_candidate`]), `startup { require ... }` checks, [`Warden`]: atomic reload, candidates and their promotion |
//! | data filtering | `filter/` | [`Engine::residual`]: the condition on `resource.*` under which `authorize` allows, as SQL or JSON |
//! | hot reload | `watch` | `Warden::watch` (feature `watch`): reload a policy file when it changes, debounced |
//!
//! Architecture invariants: `authorize` takes `&self`, holds no lock (with the cache
//! off) and never allocates; nothing on the request path walks the syntax tree;
//! `check_http` and `check_http_async` share every step but the store calls.
#![warn(missing_docs)]

// Bottom layer first (docs/ARCHITECTURE.md, "Layers"; `core/tests/tidy.rs` checks it).
mod clock;
mod error;
mod secret;

mod client_ip;
mod http_request;
mod json;
mod json_scan;
mod json_text;
mod proxies;
mod request;
mod request_ref;
mod time;

pub mod limit;

pub mod decision_log;
pub mod metrics;

mod options;

mod program;
mod script;
mod subject;
mod tables;
mod value;

mod cx;
mod eval;
mod fast;
pub mod filter;
mod forms;
mod rolesets;

mod compile;
mod lower;

mod authorize;
mod cache;

mod auth;

pub mod http;

mod observe;

mod candidate;
mod engine;
mod reload;
mod startup;

#[cfg(feature = "watch")]
mod watch;

pub use auth::{AuthFailure, Authn};
pub use authorize::{Decision, Reported, RuleTrace, Trace, NO_PERMIT};
pub use cache::CacheStats;
pub use candidate::CandidateError;
pub use clock::{Clock, ManualClock, SystemClock};
pub use cx::Read;
pub use engine::{ActionId, Engine};
pub use error::LoadError;
pub use http::{CookieRule, SameSite};
pub use http::{HttpDecision, HttpRequest, HttpTrace};
pub use json::JsonRequest;
pub use limit::{Admission, LimitSpec, LimitStore, OnStoreError, StoreError};
pub use options::Options;
pub use reload::Warden;
pub use request::{Attrs, Principal, Request, RequestError, Resource, Value};
pub use request_ref::{AttrsRef, PrincipalRef, RequestRef, ResourceRef, ValueRef};
pub use secret::Secret;
#[cfg(feature = "watch")]
pub use watch::{OnReload, Watch, WatchOptions};

// The README's example (what crates.io shows) runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
