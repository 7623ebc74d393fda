//! `NativeEngine`: a loaded policy (a `warden::Warden`, so it can be reloaded). `index.js`
//! wraps it in the public `Engine` class.

use crate::authn;
use crate::observe::{LogCallback, LogRequest, Observe};
use crate::packed;
use crate::raw::Js;
use crate::watch::{NativeWatch, WatchCallback};
use arc_swap::ArcSwap;
use napi::bindgen_prelude::{Either, PromiseRaw, Unknown};
use napi::{Env, JsValue, Status};
use napi_derive::napi;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use warden::Warden;
use warden_host::{HostOptions, Plan, PolicyErrorData};

/// Load options, as `index.js` passes them (camelCase in JS).
#[napi(object)]
#[derive(Debug, Default)]
pub struct LoadOptions {
    pub env: Option<String>,
    pub secrets: Option<HashMap<String, String>>,
    /// Non-secret settings for `config(NAME)`.
    pub config: Option<HashMap<String, String>>,
    pub redis_url: Option<String>,
    /// A Redis Cluster's seed node URLs.
    pub redis_cluster: Option<Vec<String>>,
    /// For `rediss://`: the CA bundle (PEM) to trust instead of the system's roots.
    pub redis_ca_file: Option<String>,
    /// "closed" (default), "open" or "fallback".
    pub on_store_error: Option<String>,
    pub cache_size: Option<u32>,
    /// The decision log's file (a callback is passed beside the options).
    pub decision_log_file: Option<String>,
    /// The fraction of allowed decisions logged (denials are always logged).
    pub decision_log_sample_rate: Option<f64>,
    /// Count decisions and reloads for `metricsJson` / `prometheus`.
    pub metrics: Option<bool>,
}

/// One diagnostic of a policy that does not load.
#[napi(object)]
#[derive(Debug)]
pub struct DiagnosticData {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub severity: String,
    pub code: String,
    pub message: String,
    pub help: Option<String>,
}

/// A load that failed: `kind` is "policy" (with diagnostics) or "config".
#[napi(object)]
#[derive(Debug)]
pub struct Failure {
    pub kind: String,
    pub message: String,
    pub file: Option<String>,
    pub diagnostics: Vec<DiagnosticData>,
}

/// An interned decision.
#[napi(object)]
#[derive(Debug)]
pub struct DecisionData {
    pub allowed: bool,
    pub status: u32,
    pub reason: Option<String>,
    pub rule: Option<String>,
}

/// The attribute names the policy reads, by root: what `index.js` passes to `decide`.
#[napi(object)]
#[derive(Debug)]
pub struct SlotNames {
    pub principal: Vec<String>,
    pub resource: Vec<String>,
    pub context: Vec<String>,
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn policy_failure(e: &warden::LoadError) -> Failure {
    let data = PolicyErrorData::from(e);
    Failure {
        kind: "policy".into(),
        message: data.message,
        file: Some(data.file),
        diagnostics: data
            .diagnostics
            .into_iter()
            .map(|d| DiagnosticData {
                file: d.file,
                line: u32_of(d.line),
                column: u32_of(d.column),
                end_line: u32_of(d.end_line),
                end_column: u32_of(d.end_column),
                severity: d.severity.into(),
                code: d.code.into(),
                message: d.message,
                help: d.help,
            })
            .collect(),
    }
}

fn config_failure(message: String) -> Failure {
    Failure {
        kind: "config".into(),
        message,
        file: None,
        diagnostics: Vec::new(),
    }
}

#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Source(String),
}

#[napi]
#[derive(Debug)]
pub struct NativeEngine {
    /// Shared with a watch's thread, which reloads it.
    warden: Arc<Warden>,
    origin: Mutex<Origin>,
    /// Shared with the fast path's functions (`fast.rs`), which outlive no reload.
    plan: Arc<ArcSwap<Plan>>,
    observe: Observe,
}

fn options(
    o: Option<LoadOptions>,
    log: Option<LogCallback>,
) -> Result<(warden::Options, Observe), Failure> {
    let o = o.unwrap_or_default();
    let observe = Observe::new(
        LogRequest {
            callback: log,
            file: o.decision_log_file,
            sample_rate: o.decision_log_sample_rate,
        },
        o.metrics.unwrap_or(false),
    )
    .map_err(config_failure)?;
    let options = HostOptions {
        env: o.env,
        secrets: o.secrets.unwrap_or_default().into_iter().collect(),
        config: o.config.unwrap_or_default().into_iter().collect(),
        redis_url: o.redis_url,
        redis_cluster: o.redis_cluster.unwrap_or_default(),
        redis_ca_file: o.redis_ca_file.map(PathBuf::from),
        on_store_error: o.on_store_error,
        cache_size: o.cache_size.map(|n| n as usize),
    }
    .to_options()
    .map_err(|e| config_failure(e.message))?;
    Ok((observe.apply(options), observe))
}

fn wrap(
    loaded: Result<Warden, warden::LoadError>,
    origin: Origin,
    observe: Observe,
) -> Either<NativeEngine, Failure> {
    match loaded {
        Ok(warden) => Either::A(NativeEngine {
            plan: Arc::new(ArcSwap::from_pointee(Plan::new(warden.engine()))),
            warden: Arc::new(warden),
            origin: Mutex::new(origin),
            observe,
        }),
        Err(e) => Either::B(policy_failure(&e)),
    }
}

/// Load a policy file: the engine, or what went wrong as data. `log` receives the
/// decision log's lines (see `observe.rs`).
#[napi]
pub fn load_file(
    path: String,
    opts: Option<LoadOptions>,
    #[napi(ts_arg_type = "((line: string | null) => void) | undefined | null")] log: Option<
        LogCallback,
    >,
) -> Either<NativeEngine, Failure> {
    match options(opts, log) {
        Ok((o, observe)) => wrap(
            Warden::from_file(&path, o),
            Origin::File(path.into()),
            observe,
        ),
        Err(f) => Either::B(f),
    }
}

/// Load policy text; `name` is the file name decisions cite.
#[napi]
pub fn load_source(
    name: String,
    text: String,
    opts: Option<LoadOptions>,
    #[napi(ts_arg_type = "((line: string | null) => void) | undefined | null")] log: Option<
        LogCallback,
    >,
) -> Either<NativeEngine, Failure> {
    match options(opts, log) {
        Ok((o, observe)) => wrap(
            Warden::from_source(&name, &text, o),
            Origin::Source(name),
            observe,
        ),
        Err(f) => Either::B(f),
    }
}

/// Largest packed request read, in bytes.
const MAX_PACKED: usize = 32 << 20;

thread_local! {
    /// The packed text of the call in progress, reused from call to call.
    static PACKED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Read the packed request into the reused buffer and run `f` on it.
fn with_packed<T>(
    packed: &Unknown<'_>,
    f: impl FnOnce(&str) -> Result<T, warden::RequestError>,
) -> napi::Result<T> {
    let bad = |m: String| napi::Error::new(Status::InvalidArg, m);
    let v = js(packed);
    PACKED.with(|cell| {
        let mut fresh = Vec::new();
        let mut guard = cell.try_borrow_mut();
        let buf = match guard.as_mut() {
            Ok(b) => &mut **b,
            Err(_) => &mut fresh,
        };
        v.read_str_reusing(buf)
            .map_err(|()| bad("the request could not be read".into()))?;
        if buf.len() > MAX_PACKED {
            return Err(bad(format!(
                "a request of {} bytes is larger than the limit of {MAX_PACKED}",
                buf.len()
            )));
        }
        let text = std::str::from_utf8(buf).map_err(|_| bad("the request is not UTF-8".into()))?;
        f(text).map_err(|e| bad(e.message))
    })
}

/// The HTTP request JSON text -> a request; bad input is an `InvalidArg` error.
fn http_request(request: &str) -> napi::Result<warden::HttpRequest> {
    const MAX_JSON: usize = 16 << 20;
    let bad = |m: String| napi::Error::new(Status::InvalidArg, m);
    if request.len() > MAX_JSON {
        return Err(bad(format!(
            "an HTTP request of {} bytes of JSON is larger than the limit of {MAX_JSON}",
            request.len()
        )));
    }
    // serde_json refuses nesting past 128 levels with an error, never a stack overflow.
    let json: serde_json::Value =
        serde_json::from_str(request).map_err(|e| bad(format!("a request must be JSON: {e}")))?;
    warden::HttpRequest::from_json(&json).map_err(|e| bad(e.message))
}

fn js(u: &Unknown<'_>) -> Js {
    let v = u.value();
    Js {
        env: v.env,
        v: v.value,
    }
}

#[napi]
impl NativeEngine {
    /// Decide one request packed by `index.js` (see `packed.rs`); returns the interned
    /// decision's index. A bad request throws an `InvalidArg` error.
    #[napi]
    pub fn decide(&self, flags: u32, packed: Unknown<'_>) -> napi::Result<u32> {
        with_packed(&packed, |text| {
            self.plan
                .load()
                .decide(|s| packed::fill(text, flags, s))
                .map(|v| v.index)
        })
    }

    /// Decide and explain: `{"index": N, "trace": {...}}` as JSON text.
    #[napi]
    pub fn explain(&self, flags: u32, packed: Unknown<'_>) -> napi::Result<String> {
        let (v, trace) = with_packed(&packed, |text| {
            self.plan.load().explain(|s| packed::fill(text, flags, s))
        })?;
        Ok(serde_json::json!({ "index": v.index, "trace": trace }).to_string())
    }

    /// Decide an HTTP request given as the HTTP request JSON of docs/JSON.md (text, from
    /// `JSON.stringify`); answers the decision JSON (with `trace` when explaining) and
    /// `principal`: the host's, or the one the policy's `auth` section verified.
    #[napi]
    pub fn check_http(&self, request: String, explain: bool) -> napi::Result<String> {
        let mut req = http_request(&request)?;
        let plan = self.plan.load();
        let engine = plan.engine();
        let out = if explain {
            // The trace shows the check's own authentication; the principal is looked
            // up beside it.
            let (d, trace) = engine.explain_http(&req);
            let mut j = d.to_json();
            if let Some(o) = j.as_object_mut() {
                o.insert(
                    "trace".into(),
                    serde_json::to_value(&trace).unwrap_or(serde_json::Value::Null),
                );
            }
            let via = authn::pre_authenticate(engine, &mut req);
            let had = j.get("authenticated_by").cloned();
            let mut j = authn::with_principal(j, &req, via);
            if let (Some(o), Some(had)) = (j.as_object_mut(), had) {
                o.insert("authenticated_by".into(), had);
            }
            j
        } else {
            let via = authn::pre_authenticate(engine, &mut req);
            authn::with_principal(engine.check_http(&req).to_json(), &req, via)
        };
        Ok(out.to_string())
    }

    /// `check_http` as a Promise: the engine's async path on napi's tokio runtime, so a
    /// Redis round trip never blocks the event loop. A bad request rejects at once.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn check_http_async<'env>(
        &self,
        env: &'env Env,
        request: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let mut req = http_request(&request)?;
        let engine = Arc::clone(self.plan.load().engine());
        // Verifying a credential is CPU work: done here, only the store is awaited.
        let via = authn::pre_authenticate(&engine, &mut req);
        env.spawn_future(async move {
            let d = engine.check_http_async(&req).await.to_json();
            Ok(authn::with_principal(d, &req, via).to_string())
        })
    }

    /// Data filtering: a filter request (JSON text, see `filter.rs`) against the policy
    /// in force; the answer or the error as JSON text, never a throw.
    #[napi]
    pub fn residual(&self, request: String) -> String {
        crate::filter::answer(self.plan.load().engine(), &request)
    }

    /// Authenticate an HTTP request (`method`, `path`, `headers`, `time` are read) with
    /// the policy's `auth` blocks: the outcome JSON of `authn.rs`.
    #[napi]
    pub fn authenticate(&self, request: String) -> napi::Result<String> {
        let req = http_request(&request)?;
        Ok(authn::outcome(&self.plan.load().engine().authenticate(&req)).to_string())
    }

    /// The fast path of `authorize` for the plan in force (see `fast.rs`):
    /// `[decide, words, bytes]`: the function and its word buffer of `words` words and
    /// byte buffer, or null where the host refuses external buffers.
    #[napi(ts_return_type = "[() => void, ArrayBuffer, ArrayBuffer] | null")]
    pub fn fast_path<'env>(&self, env: &'env Env, words: u32) -> Option<Unknown<'env>> {
        let raw = env.raw();
        // SAFETY: `raw` is the env of this running call.
        #[allow(unsafe_code, reason = "see fast.rs")]
        unsafe {
            crate::fast::new(raw, Arc::clone(&self.plan), words as usize)
                .map(|v| Unknown::from_raw_unchecked(raw, v))
        }
    }

    /// The decision behind an index `decide` returned.
    #[napi]
    pub fn decision(&self, index: u32) -> Option<DecisionData> {
        self.plan.load().decision(index).map(|d| DecisionData {
            allowed: d.allowed,
            status: u32::from(d.status),
            reason: d.reason,
            rule: d.rule,
        })
    }

    /// The attributes `decide` expects, in order.
    #[napi]
    pub fn slots(&self) -> SlotNames {
        let plan = self.plan.load();
        let s = plan.slots();
        let names = |n: &[Box<str>]| n.iter().map(|x| x.to_string()).collect();
        SlotNames {
            principal: names(&s.principal),
            resource: names(&s.resource),
            context: names(&s.context),
        }
    }

    /// Swap in a new policy (the original file, `path`, or `source` text); on failure
    /// the old policy stays and the failure is returned.
    #[napi]
    pub fn reload(&self, path: Option<String>, source: Option<String>) -> Option<Failure> {
        let mut origin = self.origin.lock().unwrap_or_else(|e| e.into_inner());
        let result =
            match (source, path, origin.clone()) {
                (Some(text), _, Origin::Source(name)) => self.warden.reload_source(&name, &text),
                (Some(text), _, Origin::File(file)) => self
                    .warden
                    .reload_source(&file.display().to_string(), &text),
                (None, Some(p), _) => {
                    let r = self.warden.reload_file(&p);
                    if r.is_ok() {
                        *origin = Origin::File(p.into());
                    }
                    r
                }
                (None, None, Origin::File(p)) => self.warden.reload_file(&p),
                (None, None, Origin::Source(_)) => return Some(config_failure(
                    "this engine was loaded from source text: pass `source` or a path to reload"
                        .into(),
                )),
            };
        match result {
            Ok(()) => {
                self.plan.store(Arc::new(Plan::new(self.warden.engine())));
                None
            }
            Err(e) => Some(policy_failure(&e)),
        }
    }

    /// Whether a request with this method and path meets a route that verifies a
    /// signature over the body (`require signature`): read the body only then.
    #[napi]
    pub fn needs_body(&self, method: String, path: String) -> bool {
        self.plan.load().engine().needs_body(&method, &path)
    }

    /// One outgoing `Set-Cookie` value with the policy's `cookies` rule for it applied.
    #[napi]
    pub fn enforce_set_cookie(&self, value: String) -> String {
        self.plan
            .load()
            .engine()
            .enforce_set_cookie(&value)
            .into_owned()
    }

    /// Whether the policy has a `cookies` block (else `Set-Cookie` needs no look).
    #[napi(getter)]
    pub fn has_cookie_rules(&self) -> bool {
        !self.plan.load().engine().cookie_rules().is_empty()
    }

    /// The policy's file name, as decisions cite it.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.warden.engine().name().to_owned()
    }

    /// Reload the policy file on every change (see `watch.rs`); `on_event` gets `null`
    /// after a reload took effect, else the failure. A config failure when the engine
    /// was loaded from text or the directory cannot be watched.
    #[napi]
    pub fn watch(
        &self,
        debounce_ms: u32,
        #[napi(ts_arg_type = "(failure: Failure | null) => void")] on_event: WatchCallback,
    ) -> Either<NativeWatch, Failure> {
        let origin = self
            .origin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Origin::File(path) = origin else {
            return Either::B(config_failure(
                "this engine was loaded from source text: only a file can be watched".into(),
            ));
        };
        match self
            .warden
            .watch(&path, crate::watch::options(debounce_ms, on_event))
        {
            Ok(w) => Either::A(NativeWatch::new(w)),
            Err(e) => Either::B(config_failure(format!(
                "cannot watch `{}`: {e}",
                path.display()
            ))),
        }
    }

    /// Switch to the plan of the policy in force, after a watch reloaded it; whether
    /// the plan changed (then `index.js` reads the new slots).
    #[napi]
    pub fn adopt(&self) -> bool {
        let current = self.warden.engine();
        if Arc::ptr_eq(self.plan.load().engine(), &current) {
            return false;
        }
        self.plan.store(Arc::new(Plan::new(current)));
        true
    }

    /// The metrics counters as JSON text (the core's `MetricsSnapshot`), or null
    /// without `metrics: true`.
    #[napi]
    pub fn metrics_json(&self) -> Option<String> {
        let m = self.observe.metrics.as_ref()?;
        serde_json::to_string(&m.snapshot()).ok()
    }

    /// The metrics in the Prometheus text format, or null without `metrics: true`.
    #[napi]
    pub fn prometheus(&self) -> Option<String> {
        Some(self.observe.metrics.as_ref()?.prometheus())
    }

    /// Flush the decision log: 0 done, 1 a `null` is queued behind the lines to the
    /// callback, 2 the callback's queue is full (let the event loop run, then again).
    #[napi]
    pub fn flush_decision_log(&self) -> u32 {
        self.observe.flush() as u32
    }

    /// The decision log's counts as JSON text, or null without a log.
    #[napi]
    pub fn decision_log_stats(&self) -> Option<String> {
        self.observe.log_stats().map(|v| v.to_string())
    }
}
