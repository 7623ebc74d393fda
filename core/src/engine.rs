//! `Engine`, the facade: load and compile a policy, then answer `authorize` (through
//! `authorize.rs`) and `check_http` (through `http::Pipeline`) with `&self`, lock-free.

use crate::auth::{Auth, Authn};
use crate::authorize::{Authz, Decision, Trace};
use crate::cache::{Cache, CacheStats};
use crate::clock::Clock;
use crate::compile;
use crate::error::LoadError;
use crate::http::compile::HttpTables;
use crate::http::pipeline::Pipeline;
use crate::http::{CookieRule, HttpDecision, HttpRequest, HttpTrace};
use crate::json::JsonRequest;
use crate::limit::{LimitStore, MemoryStore, OnStoreError};
use crate::observe::{Observer, Parts, Revision};
use crate::options::Options;
use crate::request::{Request, RequestError};
use crate::request_ref::RequestRef;
use crate::subject::Subject;
use crate::tables::Tables;
use arc_swap::ArcSwapOption;
use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use warden_lang::ast::{Root, Span};
use warden_lang::Diagnostic;

/// A policy file's name (as decisions cite it) and text; an unreadable or non-UTF-8
/// file is a `LoadError`.
pub(crate) fn read_policy(path: &Path) -> Result<(String, String), LoadError> {
    let name = path.display().to_string();
    let io_err = |message: String| LoadError {
        file: name.clone(),
        source: String::new(),
        diagnostics: vec![Diagnostic::error("io", Span::default(), message)],
    };
    let bytes = std::fs::read(path).map_err(|e| io_err(format!("cannot read file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        io_err(format!(
            "file is not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((name, text))
}

/// An action name resolved once, to skip the lookup on later requests.
/// Valid for the engine that made it; another engine falls back to the request's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionId {
    engine: u64,
    class: u32,
}

static ENGINE_STAMPS: AtomicU64 = AtomicU64::new(1);

/// A compiled policy. `Send + Sync`; share it as `Arc<Engine>`.
pub struct Engine {
    name: String,
    pub(crate) tables: Tables,
    warnings: Vec<Diagnostic>,
    stamp: u64,
    cache: Option<Cache>,
    pub(crate) http: HttpTables,
    /// The compiled `auth` blocks (none: every request without a host principal is
    /// anonymous).
    pub(crate) auth: Auth,
    pub(crate) clock: Arc<dyn Clock>,
    /// `Options::store`, else a private [`MemoryStore`] of `Options::limit_keys` keys.
    pub(crate) store: Arc<dyn LimitStore>,
    /// The private store of [`OnStoreError::Fallback`].
    pub(crate) fallback: Option<Arc<dyn LimitStore>>,
    pub(crate) on_store_error: OnStoreError,
    pub(crate) ipv6_prefix: u8,
    /// The decision log and metrics (`Options::decision_log`, `Options::metrics`);
    /// `None` when both are off, and then a decision pays one branch for them.
    pub(crate) observer: Option<Box<Observer>>,
    /// The first 12 hex digits of the source's SHA-256 (as the decision log says it),
    /// hashed when first read (see [`Revision`]).
    pub(crate) revision: Revision,
    /// A candidate policy deciding beside this one (`Engine::set_candidate`); read
    /// only by observed decisions, after one load of `has_candidate`.
    pub(crate) candidate: ArcSwapOption<Engine>,
    pub(crate) has_candidate: AtomicBool,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("name", &self.name)
            .field("roles", &self.tables.role_names)
            .field("rules", &self.tables.rules.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Parse, check and compile `text`; `name` is the file name used in `file:line`.
    pub fn from_source(name: &str, text: &str, options: Options) -> Result<Engine, LoadError> {
        let err = |diagnostics| LoadError {
            file: name.to_owned(),
            source: text.to_owned(),
            diagnostics,
        };
        let checked = warden_lang::load(text, &options.limits).map_err(err)?;
        let mut engine = Engine::from_policy(name, text, &checked.policy, options)?;
        engine.warnings = checked.warnings;
        Ok(engine)
    }

    /// Compile a policy that is already parsed from `text`, without running the checker.
    /// For tools that hold a tree already, and for tests of ill-typed policies: the
    /// engine stays total on any parsed tree (type errors evaluate to missing), but only
    /// [`Engine::from_source`] reports them as errors.
    pub fn from_policy(
        name: &str,
        text: &str,
        policy: &warden_lang::ast::Policy,
        options: Options,
    ) -> Result<Engine, LoadError> {
        let err = |diagnostics| LoadError {
            file: name.to_owned(),
            source: text.to_owned(),
            diagnostics,
        };
        let locs = compile::Locs::new(name, text);
        let tables = compile::compile(&locs, policy, &options).map_err(err)?;
        let http =
            crate::http::compile::compile(&locs, text, policy, &tables, &options).map_err(err)?;
        // Keys and startup checks are reported together: one run shows every secret
        // that is missing, too short or a placeholder.
        let mut diags = Vec::new();
        let auth = Auth::compile(policy, &options).unwrap_or_else(|d| {
            diags.extend(d);
            Auth::default()
        });
        diags.extend(crate::startup::check(text, policy, &options));
        if !diags.is_empty() {
            diags.sort_by_key(|d| (d.span.start, d.span.end));
            return Err(err(diags));
        }
        let observer = Observer::new(
            options.decision_log.as_ref(),
            options.metrics.as_ref(),
            &Parts {
                policy: &policy.name.name,
                source: text,
                tables: &tables,
                http: &http,
                auth: &auth,
                clock: &options.clock,
            },
        );
        Ok(Engine {
            name: name.to_owned(),
            tables,
            warnings: Vec::new(),
            stamp: ENGINE_STAMPS.fetch_add(1, Ordering::Relaxed),
            cache: (options.cache_size > 0).then(|| Cache::new(options.cache_size)),
            http,
            auth,
            clock: options.clock.clone(),
            store: options
                .store
                .clone()
                .unwrap_or_else(|| Arc::new(MemoryStore::new(options.limit_keys))),
            fallback: (options.on_store_error == OnStoreError::Fallback)
                .then(|| Arc::new(MemoryStore::new(options.limit_keys)) as Arc<dyn LimitStore>),
            on_store_error: options.on_store_error,
            ipv6_prefix: options.ipv6_prefix,
            observer,
            revision: Revision::new(text),
            candidate: ArcSwapOption::empty(),
            has_candidate: AtomicBool::new(false),
        })
    }

    /// Read and load a policy file; an unreadable or non-UTF-8 file is a `LoadError`.
    pub fn from_file(path: impl AsRef<Path>, options: Options) -> Result<Engine, LoadError> {
        let (name, text) = read_policy(path.as_ref())?;
        Engine::from_source(&name, &text, options)
    }

    /// The policy's file name, as decisions cite it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checker warnings of the loaded policy.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The attributes the policy's rules read, as (root, first path segment), each once,
    /// in source order: `resource.owner.id` gives `(Root::Resource, "owner")`, a bare
    /// `principal` gives `(Root::Principal, "roles")`. No other attribute of a request can
    /// change a decision or an explanation, so hosts converting their own objects into a
    /// [`Request`] may convert only these (the bindings do).
    pub fn attribute_reads(&self) -> Vec<(Root, &str)> {
        let mut out: Vec<(Root, &str)> = Vec::new();
        for rule in &self.tables.rules {
            for (root, path) in rule.reads.iter() {
                if let Some(first) = path.first() {
                    if !out.iter().any(|(r, n)| r == root && *n == &**first) {
                        out.push((*root, first));
                    }
                }
            }
        }
        out
    }

    /// Resolve an action name once, for [`Engine::authorize_action`].
    pub fn action_id(&self, action: &str) -> ActionId {
        ActionId {
            engine: self.stamp,
            class: self.tables.action_class(action),
        }
    }

    /// Decide a request. Never allocates (with the cache and the decision log off) and
    /// never panics.
    ///
    /// ```
    /// use warden::{Engine, Options, Principal, Request, Resource};
    ///
    /// let engine = Engine::from_source("blog.warden", r#"
    /// policy blog
    /// role reader
    /// grant reader: posts:read
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    ///
    /// let read = Request::new("posts:read")
    ///     .principal(Principal::new("u1").role("reader"))
    ///     .resource(Resource::new("post", "p1"));
    /// let d = engine.authorize(&read);
    /// assert!(d.allowed);
    /// assert_eq!(d.rule, Some("blog.warden:4"));
    ///
    /// let d = engine.authorize(&Request::new("posts:delete").principal(Principal::new("u1")));
    /// assert_eq!((d.allowed, d.status), (false, 403));
    /// assert_eq!(d.reason, Some(warden::NO_PERMIT));
    /// # Ok::<(), String>(())
    /// ```
    pub fn authorize(&self, req: &Request) -> Decision<'_> {
        let class = self.tables.action_class(&req.action);
        self.decide(class, req)
    }

    /// Decide a request whose action was resolved with [`Engine::action_id`];
    /// `req.action` is ignored unless the id comes from another engine.
    pub fn authorize_action(&self, action: ActionId, req: &Request) -> Decision<'_> {
        let class = if action.engine == self.stamp {
            action.class
        } else {
            self.tables.action_class(&req.action)
        };
        self.decide(class, req)
    }

    /// Decide a request given as the request JSON of docs/JSON.md, read in place: the
    /// same decision as `authorize(&Request::from_json(json)?)`, without copying the
    /// request (no allocation, with the cache and the decision log off). A bad request
    /// is the error of [`Request::from_json`]; the host then denies.
    ///
    /// ```
    /// use serde_json::json;
    /// use warden::{Engine, Options};
    ///
    /// let engine = Engine::from_source("blog.warden", r#"
    /// policy blog
    /// role reader
    /// grant reader: posts:read
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    ///
    /// let d = engine.authorize_json(&json!({
    ///     "principal": { "id": "u1", "roles": ["reader"] },
    ///     "action": "posts:read",
    ///     "resource": { "type": "post", "id": "p1" },
    /// })).map_err(|e| e.message)?;
    /// assert!(d.allowed);
    ///
    /// // A malformed request is an error value, never a panic: the host denies.
    /// let bad = engine.authorize_json(&json!({ "action": 42 }));
    /// assert!(bad.is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn authorize_json(&self, json: &serde_json::Value) -> Result<Decision<'_>, RequestError> {
        JsonRequest::parse(json).map(|q| self.authorize_json_request(&q))
    }

    /// Decide a request already checked with [`JsonRequest::parse`].
    pub fn authorize_json_request(&self, req: &JsonRequest<'_>) -> Decision<'_> {
        let Some(o) = &self.observer else {
            return self.decide_json(req);
        };
        let started = o.start();
        let d = self.decide_json(req);
        let latency = o.elapsed_ns(started);
        o.authorize(Subject::Json(req), &d, latency, self.shadow_json(req, &d));
        d
    }

    pub(crate) fn decide_json(&self, req: &JsonRequest<'_>) -> Decision<'_> {
        self.decide_read(Subject::Json(req), || req.to_request())
    }

    /// A request read in place (`s`, not a built [`Request`]), without observing.
    /// With the decision cache on, `owned` builds the owned copy its keys need.
    #[inline]
    fn decide_read(&self, s: Subject<'_>, owned: impl FnOnce() -> Request) -> Decision<'_> {
        if self.cache.is_some() {
            // Cache keys own their values: build them from an owned request.
            let owned = owned();
            return self.decide_unobserved(self.tables.action_class(&owned.action), &owned);
        }
        let a = self.authz();
        let class = self.tables.action_class(s.action());
        let ty = a.type_of(s);
        a.decision(a.verdict(class, ty, s))
    }

    /// Decide a borrowed request ([`RequestRef`]): the decision
    /// `authorize(&req.to_request())` gives, without the copy. Building a `RequestRef`
    /// from the host's own strings and deciding it allocates nothing (with up to four
    /// roles and four attributes per object, the cache and the decision log off).
    ///
    /// ```
    /// use warden::{Engine, Options, PrincipalRef, RequestRef, ResourceRef};
    ///
    /// let engine = Engine::from_source("blog.warden", r#"
    /// policy blog
    /// role reader
    /// grant reader: posts:read
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    ///
    /// let (user_id, post_id) = (String::from("u1"), String::from("p1"));
    /// let read = RequestRef::new("posts:read")
    ///     .principal(PrincipalRef::new(&user_id).role("reader"))
    ///     .resource(ResourceRef::new("post", &post_id));
    /// assert_eq!(engine.authorize_ref(&read).rule, Some("blog.warden:4"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn authorize_ref(&self, req: &RequestRef<'_>) -> Decision<'_> {
        let Some(o) = &self.observer else {
            return self.decide_ref(req);
        };
        let started = o.start();
        let d = self.decide_ref(req);
        let latency = o.elapsed_ns(started);
        o.authorize(Subject::Ref(req), &d, latency, self.shadow_ref(req, &d));
        d
    }

    /// Decide the request JSON of docs/JSON.md given as text, read straight into a
    /// [`RequestRef`] ([`RequestRef::from_json_str`]): no `serde_json::Value` is built,
    /// and strings are borrowed from `text`. The same decision and the same errors as
    /// [`Engine::authorize_json`] on the parsed text; text that is not JSON is an error
    /// too. On an error the host denies.
    ///
    /// ```
    /// use warden::{Engine, Options};
    ///
    /// let engine = Engine::from_source("blog.warden", r#"
    /// policy blog
    /// role reader
    /// grant reader: posts:read
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    ///
    /// let d = engine.authorize_json_str(r#"{
    ///     "principal": {"id": "u1", "roles": ["reader"]},
    ///     "action": "posts:read",
    ///     "resource": {"type": "post", "id": "p1"}
    /// }"#).map_err(|e| e.message)?;
    /// assert!(d.allowed);
    ///
    /// assert!(engine.authorize_json_str(r#"{"action": "posts:read""#).is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn authorize_json_str(&self, text: &str) -> Result<Decision<'_>, RequestError> {
        let mut q = RequestRef::default();
        crate::json_text::read_str(text, &mut q)?;
        Ok(self.authorize_ref(&q))
    }

    /// [`Engine::authorize_json_str`] for bytes (an HTTP body, a socket read): strings
    /// must be UTF-8.
    pub fn authorize_json_bytes(&self, bytes: &[u8]) -> Result<Decision<'_>, RequestError> {
        let mut q = RequestRef::default();
        crate::json_text::read_bytes(bytes, &mut q)?;
        Ok(self.authorize_ref(&q))
    }

    pub(crate) fn decide_ref(&self, req: &RequestRef<'_>) -> Decision<'_> {
        self.decide_read(Subject::Ref(req), || req.to_request())
    }

    fn decide(&self, class: u32, req: &Request) -> Decision<'_> {
        let Some(o) = &self.observer else {
            return self.decide_unobserved(class, req);
        };
        let started = o.start();
        let d = self.decide_unobserved(class, req);
        let latency = o.elapsed_ns(started);
        o.authorize(
            Subject::Built(req),
            &d,
            latency,
            self.shadow_authorize(req, &d),
        );
        d
    }

    /// `authorize` without the decision log, metrics or candidate (a candidate's path).
    pub(crate) fn authorize_unobserved(&self, req: &Request) -> Decision<'_> {
        self.decide_unobserved(self.tables.action_class(&req.action), req)
    }

    fn decide_unobserved(&self, class: u32, req: &Request) -> Decision<'_> {
        let a = self.authz();
        let s = Subject::Built(req);
        let ty = a.type_of(s);
        let verdict = match &self.cache {
            Some(cache) => cache.get_or(&self.tables, class, ty, req, || a.verdict(class, ty, s)),
            None => a.verdict(class, ty, s),
        };
        a.decision(verdict)
    }

    /// What `authorize` reads of this engine.
    #[inline]
    pub(crate) fn authz(&self) -> Authz<'_> {
        Authz {
            t: &self.tables,
            clock: &*self.clock,
        }
    }

    /// Decide and explain: the same decision as `authorize`, with the full trace.
    pub fn explain(&self, req: &Request) -> (Decision<'_>, Trace) {
        let Some(o) = &self.observer else {
            return self.authz().explain(req);
        };
        let started = o.start();
        let (d, trace) = self.authz().explain(req);
        let latency = o.elapsed_ns(started);
        o.authorize(
            Subject::Built(req),
            &d,
            latency,
            self.shadow_authorize(req, &d),
        );
        (d, trace)
    }

    /// Authenticate an HTTP request with the policy's `auth` blocks, at the request's
    /// `time` or else the engine's clock; the host's own principal, if any, is ignored.
    /// Failures carry a reason code only: never the token or a key.
    ///
    /// ```
    /// use warden::{AuthFailure, Authn, Engine, HttpRequest, Options};
    ///
    /// let engine = Engine::from_source("api.warden", r#"
    /// policy api
    /// role reporter
    /// principal { id: string, roles: set<role> }
    /// auth api_key {
    ///   from: header x-api-key
    ///   key secret(REPORTING_KEY) as { id: "reporting", roles: [reporter] }
    /// }
    /// "#, Options::default().secret("REPORTING_KEY", "k3y-of-at-least-24-characters"))
    /// .map_err(|e| e.to_string())?;
    ///
    /// let req = HttpRequest::new("GET", "/reports").header("x-api-key", "k3y-of-at-least-24-characters");
    /// let Authn::Principal { principal, via } = engine.authenticate(&req) else {
    ///     return Err("not authenticated".into());
    /// };
    /// assert_eq!(principal.id, "reporting");
    /// assert_eq!(principal.roles, ["reporter"]);
    /// assert_eq!(via, "api_key:REPORTING_KEY");
    ///
    /// let wrong = HttpRequest::new("GET", "/reports").header("x-api-key", "guess");
    /// assert_eq!(engine.authenticate(&wrong), Authn::Failed(AuthFailure::InvalidApiKey));
    /// assert_eq!(engine.authenticate(&HttpRequest::new("GET", "/")), Authn::Anonymous);
    /// # Ok::<(), String>(())
    /// ```
    pub fn authenticate(&self, req: &HttpRequest) -> Authn {
        let now = req.time_us.unwrap_or_else(|| self.clock.now_micros());
        self.auth.authenticate(req, now)
    }

    /// Hit and miss counts of the decision cache (zeros when it is off).
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.as_ref().map(Cache::stats).unwrap_or_default()
    }
}

impl Engine {
    /// What `check_http` reads of this engine.
    #[inline(always)]
    pub(crate) fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            tables: &self.tables,
            http: &self.http,
            auth: &self.auth,
            clock: &*self.clock,
            store: &*self.store,
            fallback: self.fallback.as_deref(),
            on_store_error: self.on_store_error,
            ipv6_prefix: self.ipv6_prefix,
        }
    }

    /// Decide an HTTP request: normalise, route, CORS, rate limits, authentication,
    /// requirements, response headers. Never panics; bad input is a 400.
    ///
    /// ```
    /// use warden::{Engine, HttpRequest, Options, Principal};
    ///
    /// let engine = Engine::from_source("shop.warden", r#"
    /// policy shop
    /// role staff
    /// headers {
    ///   X-Content-Type-Options: "nosniff"
    /// }
    /// route /admin/** {
    ///   require role staff
    /// }
    /// route GET /account/** {
    ///   require auth else redirect "/login?next={path}"
    /// }
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    ///
    /// let staff = HttpRequest::new("GET", "/admin/users").principal(Principal::new("u1").role("staff"));
    /// let d = engine.check_http(&staff);
    /// assert_eq!((d.allowed, d.status), (true, 200));
    /// // Security headers for the host to add to the response.
    /// assert_eq!(d.header("x-content-type-options"), Some("nosniff"));
    ///
    /// let d = engine.check_http(&HttpRequest::new("GET", "/account/orders"));
    /// assert_eq!(d.status, 302);
    /// assert_eq!(d.header("location"), Some("/login?next=%2Faccount%2Forders"));
    ///
    /// let d = engine.check_http(&HttpRequest::new("GET", "/admin/users"));
    /// assert_eq!((d.allowed, d.status), (false, 403));
    /// assert_eq!(d.rules, ["shop.warden:8"]); // the `require` line
    /// # Ok::<(), String>(())
    /// ```
    pub fn check_http(&self, req: &HttpRequest) -> HttpDecision<'_> {
        let Some(o) = &self.observer else {
            return self.pipeline().run(req, None);
        };
        let started = o.start();
        let d = self.pipeline().run(req, None);
        let latency = o.elapsed_ns(started);
        // Without a candidate, no record is built, passed or dropped, and the counting
        // is inlined here (the metrics' cost fell from 282 to 202 instructions a
        // request, callgrind, docs/BENCHMARKS.md).
        if self.candidate_set() {
            o.http(req, &d, latency, self.shadow_http(req, &d));
        } else {
            o.http_alone(req, &d, latency);
        }
        d
    }

    /// The same decision as [`Engine::check_http`] (and the same counting), with the trace.
    pub fn explain_http(&self, req: &HttpRequest) -> (HttpDecision<'_>, HttpTrace) {
        let mut trace = HttpTrace::default();
        let started = self.observer.as_ref().map(|o| o.start());
        let d = self.pipeline().run(req, Some(&mut trace));
        if let (Some(o), Some(started)) = (&self.observer, started) {
            let latency = o.elapsed_ns(started);
            o.http(req, &d, latency, self.shadow_http(req, &d));
        }
        (d, trace)
    }

    /// [`Engine::check_http`] for async hosts: the store is asked with
    /// [`LimitStore::check_async`], so a networked store never blocks the runtime.
    ///
    /// ```
    /// use warden::{Engine, HttpRequest, Options};
    ///
    /// let engine = Engine::from_source("api.warden", r#"
    /// policy api
    /// limit login: 2 per 1m by ip strict
    /// route POST /login {
    ///   limit login
    /// }
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
    /// let login = HttpRequest::new("POST", "/login").ip([192, 0, 2, 7].into());
    /// let statuses: Vec<u16> = rt.block_on(async {
    ///     let mut out = Vec::new();
    ///     for _ in 0..3 {
    ///         out.push(engine.check_http_async(&login).await.status);
    ///     }
    ///     out
    /// });
    /// assert_eq!(statuses, [200, 200, 429]);
    /// # Ok::<(), String>(())
    /// ```
    pub async fn check_http_async<'e>(&'e self, req: &HttpRequest) -> HttpDecision<'e> {
        let Some(o) = &self.observer else {
            return self.pipeline().run_async(req).await;
        };
        // The latency includes the store's round trip (and the waits of the runtime).
        let started = o.start();
        let d = self.pipeline().run_async(req).await;
        let latency = o.elapsed_ns(started);
        o.http(req, &d, latency, self.shadow_http_async(req, &d).await);
        d
    }

    /// Forget every rate-limit key (of the store and of the fallback store).
    pub fn reset_limits(&self) {
        self.store.clear();
        if let Some(f) = &self.fallback {
            f.clear();
        }
    }

    /// Whether a request with this method and path meets a route that reads the body
    /// (`require signature`): hosts read and pass the body only then. A path that does
    /// not normalise needs no body (it is answered 400 anyway).
    pub fn needs_body(&self, method: &str, path: &str) -> bool {
        crate::http::prepare::needs_body(&self.http, method, path)
    }

    /// The policy's `cookies` rules, in source order.
    pub fn cookie_rules(&self) -> &[CookieRule] {
        &self.http.cookies
    }

    /// One outgoing `Set-Cookie` header value with the policy's rule for its cookie
    /// enforced; unchanged (borrowed) when no rule names the cookie.
    pub fn enforce_set_cookie<'a>(&self, set_cookie: &'a str) -> Cow<'a, str> {
        crate::http::cookies::enforce(&self.http.cookies, set_cookie)
    }
}
