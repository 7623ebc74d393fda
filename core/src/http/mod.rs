//! The HTTP layer: route table, requirements, security headers, CORS and rate limits,
//! answering `Engine::check_http`.
//!
//! | module | owns |
//! | --- | --- |
//! | `request.rs` | [`HttpRequest`]: host input, from JSON or built by hand |
//! | `path.rs` | path normalisation (decoding, dot-segments, separators) |
//! | `router.rs` | [`Router`]: the pattern trie, every match most specific first |
//! | `compile.rs` | routes, limits, headers, cors -> tables, at load |
//! | `check.rs` | the pipeline: prepare (route, preflight, limit keys), store, conclude |
//! | `headers.rs`, `cors.rs` | response headers: security headers with route overrides, CORS |
//! | `dynamic.rs` | `header set NAME: EXPR`: computed per admitted request |
//! | `origins.rs` | `origins: split(config(NAME), ",")`: CORS origins from a setting |
//! | `signature.rs` | webhook signatures over the body; [`Engine::needs_body`] |
//! | `cookies.rs` | `cookies { }` rules and the `Set-Cookie` rewrite the middlewares call |
//! | `redirect.rs` | `{host}` (a listed `Host` only) and `{target}` in redirect locations |
//! | `time.rs` | [`parse_time`]: RFC 3339 timestamps, with a UTC offset |
//! | `decision.rs` | [`HttpDecision`], [`HttpTrace`] and their JSON |

mod check;
pub(crate) mod compile;
mod cookies;
mod cors;
mod decision;
mod dynamic;
mod headers;
mod origins;
mod path;
mod redirect;
mod request;
mod router;
mod signature;
mod time;

pub use cookies::{CookieRule, SameSite};
pub use decision::{HttpDecision, HttpTrace, LimitTrace, ReqTrace, RouteRef, RouteTrace};
pub(crate) use origins::from_setting as origins_from_setting;
pub use path::{normalise, NormPath, PathError};
pub use request::HttpRequest;
pub use router::Router;
pub use time::parse_time;

use crate::limit::{LimitStore, StoreError};
use crate::Engine;
pub(crate) use check::ClientIp;
use check::{LimitKey, Prepared};

impl Engine {
    /// Decide an HTTP request: normalise, route, CORS, rate limits, authentication,
    /// requirements, response headers. Never panics; bad input is a 400.
    pub fn check_http(&self, req: &HttpRequest) -> HttpDecision<'_> {
        self.run_http(req, None)
    }

    /// The same decision as [`Engine::check_http`] (and the same counting), with the trace.
    pub fn explain_http(&self, req: &HttpRequest) -> (HttpDecision<'_>, HttpTrace) {
        let mut trace = HttpTrace::default();
        let d = self.run_http(req, Some(&mut trace));
        (d, trace)
    }

    /// [`Engine::check_http`] for async hosts: the store is asked with
    /// [`LimitStore::check_async`], so a networked store never blocks the runtime.
    pub async fn check_http_async<'e>(&'e self, req: &HttpRequest) -> HttpDecision<'e> {
        let mut p = Prepared::new(req);
        if let Some(d) = self.prepare(req, None, &mut p) {
            return d;
        }
        for i in 0..p.keys.len() {
            let answer = match p.keys.get(i).map(|k| (k, self.limit_target(k))) {
                Some((k, Ok((store, spec)))) => store.check_async(spec, &k.key, p.now_us()).await,
                Some((_, Err(e))) => Err(e),
                None => continue,
            };
            p.answers.push(answer);
        }
        self.conclude(req, &mut p, None)
    }

    /// Forget every rate-limit key (of the store and of the fallback store).
    pub fn reset_limits(&self) {
        self.store.clear();
        if let Some(f) = &self.fallback {
            f.clear();
        }
    }

    fn run_http(&self, req: &HttpRequest, mut tr: Option<&mut HttpTrace>) -> HttpDecision<'_> {
        let mut p = Prepared::new(req);
        if let Some(d) = self.prepare(req, tr.as_deref_mut(), &mut p) {
            return d;
        }
        for k in &p.keys {
            p.answers.push(match self.limit_target(k) {
                Ok((store, spec)) => store.check(spec, &k.key, p.now_us),
                Err(e) => Err(e),
            });
        }
        self.conclude(req, &mut p, tr)
    }

    /// The store and spec that count one key.
    fn limit_target(
        &self,
        k: &LimitKey,
    ) -> Result<(&dyn LimitStore, &crate::LimitSpec), StoreError> {
        let spec = self
            .http
            .limits
            .get(k.limit as usize)
            .map(|l| &l.spec)
            .ok_or_else(|| StoreError::Unavailable("unknown limit".into()))?;
        Ok((&*self.store, spec))
    }
}
