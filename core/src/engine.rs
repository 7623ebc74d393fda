//! `Engine`: load and compile a policy, then answer `authorize` with `&self`, lock-free.

use crate::auth::{Auth, Authn};
use crate::cache::{Cache, CacheStats};
use crate::compile::{self, Tables, NO_GRANT};
use crate::eval::{self, Cx, Read};
use crate::http::compile::HttpTables;
use crate::json::JsonRequest;
use crate::limit::{LimitStore, MemoryStore, OnStoreError};
use crate::request::{Request, RequestError};
use crate::subject::{Subject, Who};
use crate::{Clock, LoadError, Secret, SystemClock};
use serde::ser::{SerializeStruct, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use warden_lang::ast::{Effect, Root, Span};
use warden_lang::{Diagnostic, Limits};

/// How an engine is loaded. `Options::default()` is env `development`, no secrets
/// (environment variables are read), no decision cache, the system clock and a private
/// in-memory rate-limit store of 100,000 keys.
#[derive(Debug, Clone)]
pub struct Options {
    /// The deployment environment that `env` evaluates to; folded at load.
    pub env: String,
    /// Host-supplied secrets by name.
    pub secrets: HashMap<String, Secret>,
    /// Host-supplied non-secret settings by name, read by `config(NAME)`; unlike
    /// secrets, their values may appear in diagnostics.
    pub config: HashMap<String, String>,
    /// Read `secret(NAME)` and `config(NAME)` from the environment variable `NAME`
    /// when not in `secrets` / `config`.
    pub secrets_from_env: bool,
    /// Decision-cache entries; 0 turns the cache off (the default: see docs/BENCHMARKS.md).
    pub cache_size: usize,
    /// Front-end bounds (source size, nesting, regex size ...).
    pub limits: Limits,
    /// "Now" for rate limits and token expiry, when a request carries no time.
    pub clock: Arc<dyn Clock>,
    /// Where rate-limit state lives; `None` is a private in-memory store bounded by
    /// `limit_keys`.
    pub store: Option<Arc<dyn LimitStore>>,
    /// What a request gets when the store fails (default: fail closed).
    pub on_store_error: OnStoreError,
    /// Most keys the in-memory store keeps; least recently used keys go first.
    pub limit_keys: usize,
    /// IPv6 clients are keyed by this prefix length (64: one host cannot rotate
    /// addresses within its /64 past a limit).
    pub ipv6_prefix: u8,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            env: "development".into(),
            secrets: HashMap::new(),
            config: HashMap::new(),
            secrets_from_env: true,
            cache_size: 0,
            limits: Limits::default(),
            clock: Arc::new(SystemClock),
            store: None,
            on_store_error: OnStoreError::default(),
            limit_keys: 100_000,
            ipv6_prefix: 64,
        }
    }
}

impl Options {
    /// Set [`Options::env`].
    pub fn env(mut self, env: impl Into<String>) -> Self {
        self.env = env.into();
        self
    }
    /// Add a secret, read by `secret(NAME)` and by `auth` keys.
    pub fn secret(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.secrets.insert(name.into(), value.into());
        self
    }
    /// Add a setting, read by `config(NAME)`.
    pub fn config(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(name.into(), value.into());
        self
    }
    /// Set [`Options::cache_size`] (0: no decision cache).
    pub fn cache_size(mut self, entries: usize) -> Self {
        self.cache_size = entries;
        self
    }
    /// Set the clock (a [`crate::ManualClock`] in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Set the rate-limit store (e.g. a shared [`crate::limit::RedisStore`]).
    pub fn store(mut self, store: Arc<dyn LimitStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Set what a request gets when the store fails.
    pub fn on_store_error(mut self, on: OnStoreError) -> Self {
        self.on_store_error = on;
        self
    }

    pub(crate) fn secret_value(&self, name: &str) -> Option<Secret> {
        self.secrets.get(name).cloned().or_else(|| {
            self.secrets_from_env
                .then(|| crate::lower::secret_from_env(name))
                .flatten()
        })
    }

    pub(crate) fn config_value(&self, name: &str) -> Option<String> {
        self.config.get(name).cloned().or_else(|| {
            self.secrets_from_env
                .then(|| std::env::var(name).ok())
                .flatten()
        })
    }
}

/// What decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum By {
    /// No grant or allow rule applies.
    Default,
    Grant(u32),
    Rule(u32),
}

/// A decision without its strings: what the cache stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Verdict {
    pub allowed: bool,
    pub by: By,
}

/// The answer to an authorization request. Borrows its texts from the engine, so that
/// building it allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'e> {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// 200 or 403.
    pub status: u16,
    /// For a denial: the deciding deny's `because`, or "no grant or allow rule applies".
    pub reason: Option<&'e str>,
    /// The deciding grant or rule as `file:line`; `None` for a default deny.
    pub rule: Option<&'e str>,
}

/// The reason of a default deny.
pub const NO_PERMIT: &str = "no grant or allow rule applies";

impl Decision<'_> {
    /// The deciding rules as `file:line` (zero or one today; a list in the JSON contract).
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.rule.into_iter()
    }

    /// The decision JSON of CONTRACTS.md.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "allowed": self.allowed,
            "status": self.status,
            "reason": self.reason,
            "rules": self.rule.into_iter().collect::<Vec<_>>(),
        })
    }
}

impl serde::Serialize for Decision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Decision", 4)?;
        st.serialize_field("allowed", &self.allowed)?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("rules", &self.rule.into_iter().collect::<Vec<_>>())?;
        st.end()
    }
}

/// Explain mode: everything that was looked at, with the attribute values read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trace {
    /// The action asked for.
    pub action: String,
    /// The resource's type (`None`: no resource).
    pub resource_type: Option<String>,
    /// The principal's declared roles (`None`: anonymous).
    pub roles: Option<Vec<String>>,
    /// The first grant covering the action for one of those roles, by inheritance.
    pub grant: Option<String>,
    /// Every rule applicable to (action, resource type), in source order.
    pub rules: Vec<RuleTrace>,
}

/// One rule of an explain [`Trace`]: how its condition evaluated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleTrace {
    /// The rule as `file:line`.
    pub rule: String,
    /// `allow` or `deny`.
    pub effect: &'static str,
    /// `none` (no condition), `true`, `false` or `missing`.
    pub condition: &'static str,
    /// allow: it permits; deny: it denies.
    pub matched: bool,
    /// The attributes the condition read, with their values (secrets redacted).
    pub reads: Vec<Read>,
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
        let tables = compile::compile(name, text, policy, &options).map_err(err)?;
        let http =
            crate::http::compile::compile(name, text, policy, &tables, &options).map_err(err)?;
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
        // `SystemClock` calibrates on its first read (once per process): let a load pay
        // for it rather than the first request.
        let _ = options.clock.now_micros();
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
        })
    }

    /// Read and load a policy file; an unreadable or non-UTF-8 file is a `LoadError`.
    pub fn from_file(path: impl AsRef<Path>, options: Options) -> Result<Engine, LoadError> {
        let path = path.as_ref();
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

    /// Decide a request. Never allocates (with the cache off) and never panics.
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

    /// Decide a request given as the request JSON of CONTRACTS.md, read in place: the
    /// same decision as `authorize(&Request::from_json(json)?)`, without copying the
    /// request (no allocation, with the cache off). A bad request is the error of
    /// [`Request::from_json`]; the host then denies.
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
        if self.cache.is_some() {
            // Cache keys own their values: build them from an owned request.
            return self.authorize(&req.to_request());
        }
        let s = Subject::Json(req);
        let class = self.tables.action_class(s.action());
        let ty = self.type_of(s);
        self.decision(self.verdict(class, ty, s))
    }

    fn decide(&self, class: u32, req: &Request) -> Decision<'_> {
        let s = Subject::Built(req);
        let ty = self.type_of(s);
        let verdict = match &self.cache {
            Some(cache) => {
                cache.get_or(&self.tables, class, ty, req, || self.verdict(class, ty, s))
            }
            None => self.verdict(class, ty, s),
        };
        self.decision(verdict)
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
    pub fn authenticate(&self, req: &crate::HttpRequest) -> Authn {
        let now = req.time_us.unwrap_or_else(|| self.clock.now_micros());
        self.auth.authenticate(req, now)
    }

    /// Hit and miss counts of the decision cache (zeros when it is off).
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.as_ref().map(Cache::stats).unwrap_or_default()
    }

    fn type_of(&self, s: Subject<'_>) -> u32 {
        self.tables.type_id(s.resource_type())
    }

    fn first_grant(&self, class: u32, who: Option<Who<'_>>, pmask: Option<u64>) -> u32 {
        let t = &self.tables;
        if let Some(m) = pmask {
            let mut best = NO_GRANT;
            let mut m = m;
            while m != 0 {
                best = best.min(t.grant(m.trailing_zeros(), class));
                m &= m - 1;
            }
            return best;
        }
        who.map_or(NO_GRANT, |p| {
            eval::role_ids(t, p.roles())
                .map(|r| t.grant(r, class))
                .min()
                .unwrap_or(NO_GRANT)
        })
    }

    pub(crate) fn verdict(&self, class: u32, ty: u32, s: Subject<'_>) -> Verdict {
        let t = &self.tables;
        let who = s.principal();
        let pmask = who.and_then(|p| eval::role_mask(t, p.roles()));
        let cx = Cx {
            t: Some(t),
            req: Some(s),
            http: None,
            rec: None,
            pmask,
            clock: Some(&*self.clock),
        };
        let Some(entry) = t.entry(class, ty) else {
            return Verdict {
                allowed: false,
                by: By::Default,
            };
        };
        let grant = self.first_grant(class, who, pmask);
        let permit = if grant != NO_GRANT {
            Some(By::Grant(grant))
        } else {
            entry
                .allows
                .iter()
                .find(|&&i| {
                    t.rules
                        .get(i as usize)
                        .is_some_and(|r| eval::rule_matches(&cx, r).0)
                })
                .map(|&i| By::Rule(i))
        };
        let Some(permit) = permit else {
            return Verdict {
                allowed: false,
                by: By::Default,
            };
        };
        let deny = entry.denies.iter().find(|&&i| {
            t.rules
                .get(i as usize)
                .is_some_and(|r| eval::rule_matches(&cx, r).0)
        });
        match deny {
            Some(&i) => Verdict {
                allowed: false,
                by: By::Rule(i),
            },
            None => Verdict {
                allowed: true,
                by: permit,
            },
        }
    }

    fn decision(&self, v: Verdict) -> Decision<'_> {
        let t = &self.tables;
        let (rule, reason) = match v.by {
            By::Default => (None, Some(NO_PERMIT)),
            By::Grant(g) => (t.grant_locs.get(g as usize).map(|s| &**s), None),
            By::Rule(i) => {
                let r = t.rules.get(i as usize);
                (
                    r.map(|r| &*r.loc),
                    if v.allowed {
                        None
                    } else {
                        r.map(|r| &*r.reason)
                    },
                )
            }
        };
        Decision {
            allowed: v.allowed,
            status: if v.allowed { 200 } else { 403 },
            reason,
            rule,
        }
    }

    /// Decide and explain: the same decision as `authorize`, with the full trace.
    pub fn explain(&self, req: &Request) -> (Decision<'_>, Trace) {
        let t = &self.tables;
        let class = t.action_class(&req.action);
        let s = Subject::Built(req);
        let ty = self.type_of(s);
        let decision = self.decision(self.verdict(class, ty, s));
        let who = s.principal();
        let pmask = who.and_then(|p| eval::role_mask(t, p.roles()));
        let grant = self.first_grant(class, who, pmask);
        let mut rules = Vec::new();
        if let Some(entry) = t.entry(class, ty) {
            let mut ids: Vec<u32> = entry
                .allows
                .iter()
                .chain(entry.denies.iter())
                .copied()
                .collect();
            ids.sort_unstable();
            for i in ids {
                let Some(rule) = t.rules.get(i as usize) else {
                    continue;
                };
                let rec = std::cell::RefCell::new(Vec::new());
                let cx = Cx {
                    t: Some(t),
                    req: Some(s),
                    http: None,
                    rec: Some(&rec),
                    pmask,
                    clock: Some(&*self.clock),
                };
                let (matched, cond) = eval::rule_matches(&cx, rule);
                rules.push(RuleTrace {
                    rule: rule.loc.to_string(),
                    effect: match rule.effect {
                        Effect::Allow => "allow",
                        Effect::Deny => "deny",
                    },
                    condition: match cond {
                        None => "none",
                        Some(Some(true)) => "true",
                        Some(Some(false)) => "false",
                        Some(None) => "missing",
                    },
                    matched,
                    reads: rec.into_inner(),
                });
            }
        }
        let trace = Trace {
            action: req.action.clone(),
            resource_type: req.resource.as_ref().map(|r| r.ty.clone()),
            roles: req.principal.as_ref().map(|p| {
                p.roles
                    .iter()
                    .filter(|n| t.role_id(n).is_some())
                    .cloned()
                    .collect()
            }),
            grant: t.grant_locs.get(grant as usize).map(|s| s.to_string()),
            rules,
        };
        (decision, trace)
    }
}
