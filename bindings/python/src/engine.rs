//! `Engine`: a loaded policy (a `warden::Warden`, so it can be reloaded) answering
//! `authorize` from plain dicts.

use crate::convert::{self, json_to_py, Keys};
use crate::decision::{Decision, Diagnostic, HttpDecision};
use crate::errors::{config_error, policy_error, request_error};
use crate::observe::Observe;
use arc_swap::ArcSwap;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use warden::{ActionId, Warden};
use warden_host::{HostOptions, Plan, Verdict};

/// One engine's plan with its Python side: interned keys, the cached decisions and the
/// resolved actions.
#[derive(Debug)]
struct PyPlan {
    plan: Plan,
    keys: Keys,
    decisions: Mutex<Vec<Option<Py<Decision>>>>,
    /// Action strings seen, by object identity (a strong reference keeps the identity
    /// valid), with their resolved id: most hosts pass the same few interned strings.
    actions: Mutex<Vec<(Py<PyString>, ActionId)>>,
}

/// Distinct action string objects remembered per plan; others are resolved by name.
const MAX_ACTIONS: usize = 64;

impl PyPlan {
    fn new(py: Python<'_>, engine: Arc<warden::Engine>) -> PyPlan {
        let plan = Plan::new(engine);
        PyPlan {
            keys: Keys::new(py, plan.slots()),
            plan,
            decisions: Mutex::new(Vec::new()),
            actions: Mutex::new(Vec::new()),
        }
    }

    /// The resolved id of an action given as a `str`, from the cache when this very
    /// object was seen before; `None` for anything else (`fill` reports it).
    fn action_id(&self, action: Option<&Bound<'_, PyAny>>) -> Option<ActionId> {
        let a = action?.cast_exact::<PyString>().ok()?;
        let mut cache = self.actions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, id)) = cache.iter().find(|(s, _)| s.as_ptr() == a.as_ptr()) {
            return Some(*id);
        }
        let id = self.plan.engine().action_id(a.to_str().ok()?);
        if cache.len() < MAX_ACTIONS {
            cache.push((a.clone().unbind(), id));
        }
        Some(id)
    }

    /// The cached decision object of an index (made on first use).
    fn decision(&self, py: Python<'_>, v: Verdict) -> PyResult<Py<Decision>> {
        let mut cache = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        let i = v.index as usize;
        if let Some(Some(d)) = cache.get(i) {
            return Ok(d.clone_ref(py));
        }
        let d = Py::new(py, self.fresh(py, v, None))?;
        if cache.len() <= i {
            cache.resize_with(i + 1, || None);
        }
        if let Some(slot) = cache.get_mut(i) {
            *slot = Some(d.clone_ref(py));
        }
        Ok(d)
    }

    fn fresh(&self, py: Python<'_>, v: Verdict, trace: Option<Py<PyAny>>) -> Decision {
        let owned = self
            .plan
            .decision(v.index)
            .unwrap_or(warden_host::OwnedDecision {
                allowed: false,
                status: 403,
                reason: Some(warden::NO_PERMIT.into()),
                rule: None,
            });
        Decision::new(py, &owned, trace)
    }
}

/// Where the policy came from, for `reload()` without arguments.
#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Source(String),
}

/// A loaded policy. Thread-safe; build one per policy and share it.
#[pyclass(module = "warden", frozen)]
#[derive(Debug)]
pub struct Engine {
    /// Shared with a watch's thread, which reloads it.
    warden: Arc<Warden>,
    origin: Mutex<Origin>,
    /// Shared with a watch, which refreshes it after a reload.
    plan: Arc<ArcSwap<PyPlan>>,
    observe: Observe,
}

/// Makes `plan` the plan of the policy in force. Holding the GIL, so that requests
/// (which decide under it) see the old plan or the new one. Checked after storing:
/// when a reload and a watch refresh at once, the last one to store finds and
/// corrects a plan of an older engine.
fn refresh(py: Python<'_>, warden: &Warden, plan: &ArcSwap<PyPlan>) {
    loop {
        let current = warden.engine();
        if Arc::ptr_eq(plan.load().plan.engine(), &current) {
            return;
        }
        plan.store(Arc::new(PyPlan::new(py, current)));
    }
}

/// A `dict[str, str]` keyword argument as pairs; `what` says what a bad one must be.
fn str_pairs(d: Option<&Bound<'_, PyDict>>, what: &'static str) -> PyResult<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for (k, v) in d.into_iter().flat_map(|d| d.iter()) {
        match (k.cast::<PyString>(), v.cast::<PyString>()) {
            (Ok(k), Ok(v)) => pairs.push((k.to_str()?.to_owned(), v.to_str()?.to_owned())),
            _ => return Err(crate::errors::ConfigError::new_err(what)),
        }
    }
    Ok(pairs)
}

#[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
fn host_options(
    env: Option<String>,
    secrets: Option<&Bound<'_, PyDict>>,
    config: Option<&Bound<'_, PyDict>>,
    redis: RedisArgs,
    on_store_error: Option<String>,
    cache_size: Option<usize>,
) -> PyResult<warden::Options> {
    let pairs = str_pairs(
        secrets,
        "`secrets` must map secret names (str) to values (str)",
    )?;
    let settings = str_pairs(
        config,
        "`config` must map setting names (str) to values (str)",
    )?;
    HostOptions {
        env,
        secrets: pairs,
        config: settings,
        redis_url: redis.url,
        redis_cluster: redis.cluster.unwrap_or_default(),
        redis_ca_file: redis.ca_file,
        on_store_error,
        cache_size,
    }
    .to_options()
    .map_err(config_error)
}

/// The shared store's keyword arguments.
struct RedisArgs {
    url: Option<String>,
    cluster: Option<Vec<String>>,
    ca_file: Option<PathBuf>,
}

/// Keyword arguments -> the HTTP request JSON -> a request (`RequestError` if bad).
fn http_request(
    args: [(&'static str, Option<&Bound<'_, PyAny>>); 7],
) -> PyResult<warden::HttpRequest> {
    let mut budget = warden_host::Budget::new();
    let mut obj = serde_json::Map::new();
    for (key, v) in args {
        if let Some(v) = v.filter(|v| !v.is_none()) {
            if key == "time" {
                obj.insert(key.into(), crate::time::rfc3339(v)?.into());
                continue;
            }
            let what = warden_host::Path {
                root: key,
                name: "",
            };
            let j = convert::json(v, what, &mut budget).map_err(request_error)?;
            obj.insert(key.into(), j);
        }
    }
    warden::HttpRequest::from_json(&serde_json::Value::Object(obj)).map_err(request_error)
}

/// The raw body: `bytes` as given, `str` as its UTF-8 bytes.
fn raw_body(body: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    let Some(b) = body.filter(|b| !b.is_none()) else {
        return Ok(None);
    };
    if let Ok(bytes) = b.cast::<pyo3::types::PyBytes>() {
        return Ok(Some(bytes.as_bytes().to_vec()));
    }
    if let Ok(text) = b.cast::<pyo3::types::PyString>() {
        return Ok(Some(text.to_str()?.as_bytes().to_vec()));
    }
    Err(crate::errors::RequestError::new_err(
        "`body` must be bytes or str",
    ))
}

impl Engine {
    /// Where the policy came from. Held only for a copy or an assignment, never across
    /// a call that releases the GIL.
    fn origin(&self) -> std::sync::MutexGuard<'_, Origin> {
        self.origin.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The engine in force now (for `filter.rs`).
    pub(crate) fn current(&self) -> std::sync::Arc<warden::Engine> {
        self.warden.engine()
    }

    fn wrap(py: Python<'_>, warden: Warden, origin: Origin, observe: Observe) -> Engine {
        let plan = PyPlan::new(py, warden.engine());
        Engine {
            warden: Arc::new(warden),
            origin: Mutex::new(origin),
            plan: Arc::new(ArcSwap::from_pointee(plan)),
            observe,
        }
    }

    /// May `principal` do `action` on `resource` in `context`? Dicts in the shape of the
    /// request JSON; only the attributes the policy reads are converted. This is
    /// `Engine.authorize`; its Python entry point is in `fastcall.rs`.
    pub(crate) fn authorize_args(
        &self,
        py: Python<'_>,
        action: Option<&Bound<'_, PyAny>>,
        principal: Option<&Bound<'_, PyAny>>,
        resource: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
        explain: bool,
    ) -> PyResult<Py<Decision>> {
        let plan = self.plan.load();
        let fill = |s: &mut warden_host::Scratch| {
            convert::fill(&plan.keys, s, principal, action, resource, context)
        };
        if explain {
            let (v, trace) = plan.plan.explain(fill).map_err(request_error)?;
            let json = serde_json::to_value(&trace)
                .map_err(|e| crate::errors::RequestError::new_err(e.to_string()))?;
            let trace = json_to_py(py, &json)?.unbind();
            return Py::new(py, plan.fresh(py, v, Some(trace)));
        }
        let v = match plan.action_id(action) {
            Some(id) => plan.plan.decide_action(id, fill),
            None => plan.plan.decide(fill),
        };
        plan.decision(py, v.map_err(request_error)?)
    }
}

#[pymethods]
impl Engine {
    /// Load, check and compile a policy file.
    #[staticmethod]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    #[pyo3(signature = (path, *, env=None, secrets=None, config=None, redis_url=None, redis_cluster=None, redis_ca_file=None, on_store_error=None, cache_size=None, decision_log=None, decision_log_sample_rate=None, metrics=false))]
    fn from_file(
        py: Python<'_>,
        path: PathBuf,
        env: Option<String>,
        secrets: Option<&Bound<'_, PyDict>>,
        config: Option<&Bound<'_, PyDict>>,
        redis_url: Option<String>,
        redis_cluster: Option<Vec<String>>,
        redis_ca_file: Option<PathBuf>,
        on_store_error: Option<String>,
        cache_size: Option<usize>,
        decision_log: Option<&Bound<'_, PyAny>>,
        decision_log_sample_rate: Option<f64>,
        metrics: bool,
    ) -> PyResult<Engine> {
        let redis = RedisArgs {
            url: redis_url,
            cluster: redis_cluster,
            ca_file: redis_ca_file,
        };
        let observe = Observe::new(decision_log, decision_log_sample_rate, metrics)?;
        let opts = observe.apply(host_options(
            env,
            secrets,
            config,
            redis,
            on_store_error,
            cache_size,
        )?);
        let p = path.clone();
        let loaded = py.detach(move || Warden::from_file(&p, opts));
        match loaded {
            Ok(w) => Ok(Engine::wrap(py, w, Origin::File(path), observe)),
            Err(e) => Err(policy_error(py, &e)),
        }
    }

    /// Load, check and compile policy text; `name` is the file name decisions cite.
    #[staticmethod]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    #[pyo3(signature = (name, text, *, env=None, secrets=None, config=None, redis_url=None, redis_cluster=None, redis_ca_file=None, on_store_error=None, cache_size=None, decision_log=None, decision_log_sample_rate=None, metrics=false))]
    fn from_source(
        py: Python<'_>,
        name: String,
        text: String,
        env: Option<String>,
        secrets: Option<&Bound<'_, PyDict>>,
        config: Option<&Bound<'_, PyDict>>,
        redis_url: Option<String>,
        redis_cluster: Option<Vec<String>>,
        redis_ca_file: Option<PathBuf>,
        on_store_error: Option<String>,
        cache_size: Option<usize>,
        decision_log: Option<&Bound<'_, PyAny>>,
        decision_log_sample_rate: Option<f64>,
        metrics: bool,
    ) -> PyResult<Engine> {
        let redis = RedisArgs {
            url: redis_url,
            cluster: redis_cluster,
            ca_file: redis_ca_file,
        };
        let observe = Observe::new(decision_log, decision_log_sample_rate, metrics)?;
        let opts = observe.apply(host_options(
            env,
            secrets,
            config,
            redis,
            on_store_error,
            cache_size,
        )?);
        let n = name.clone();
        let loaded = py.detach(move || Warden::from_source(&n, &text, opts));
        match loaded {
            Ok(w) => Ok(Engine::wrap(py, w, Origin::Source(name), observe)),
            Err(e) => Err(policy_error(py, &e)),
        }
    }

    /// Decide an HTTP request: route, CORS, rate limits, requirements, response headers.
    /// `headers` is a dict of str or list of str, `principal` and `input` dicts, `body`
    /// bytes or str, `time` an aware `datetime` or an RFC 3339 string with a UTC
    /// offset; bad ones (a naive time too) raise `RequestError`.
    #[pyo3(signature = (*, method=None, path=None, headers=None, ip=None, principal=None, input=None, time=None, body=None, explain=false))]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    fn check_http(
        &self,
        py: Python<'_>,
        method: Option<&Bound<'_, PyAny>>,
        path: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        principal: Option<&Bound<'_, PyAny>>,
        input: Option<&Bound<'_, PyAny>>,
        time: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        explain: bool,
    ) -> PyResult<HttpDecision> {
        let mut req = http_request([
            ("method", method),
            ("path", path),
            ("headers", headers),
            ("ip", ip),
            ("principal", principal),
            ("input", input),
            ("time", time),
        ])?;
        req.body = raw_body(body)?;
        let plan = self.plan.load();
        let engine = plan.plan.engine();
        if explain {
            let (d, trace) = engine.explain_http(&req);
            let json = serde_json::to_value(&trace)
                .map_err(|e| crate::errors::RequestError::new_err(e.to_string()))?;
            let trace = json_to_py(py, &json)?.unbind();
            return Ok(HttpDecision::new(&d, Some(trace)));
        }
        // A Redis store blocks this thread for its round trip: let other threads run.
        let engine = Arc::clone(engine);
        Ok(py.detach(move || HttpDecision::new(&engine.check_http(&req), None)))
    }

    /// `check_http` as an awaitable: the engine's async path runs on the module's tokio
    /// runtime, so a Redis round trip never blocks the event loop. Arguments are
    /// converted (and bad ones raise `RequestError`) before anything is awaited.
    #[pyo3(signature = (*, method=None, path=None, headers=None, ip=None, principal=None, input=None, time=None, body=None))]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    fn check_http_async<'py>(
        &self,
        py: Python<'py>,
        method: Option<&Bound<'_, PyAny>>,
        path: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        principal: Option<&Bound<'_, PyAny>>,
        input: Option<&Bound<'_, PyAny>>,
        time: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut req = http_request([
            ("method", method),
            ("path", path),
            ("headers", headers),
            ("ip", ip),
            ("principal", principal),
            ("input", input),
            ("time", time),
        ])?;
        req.body = raw_body(body)?;
        let engine = Arc::clone(self.plan.load().plan.engine());
        crate::runtime::spawn(
            py,
            async move { HttpDecision::new(&engine.check_http_async(&req).await, None) },
            |py, d| Ok(Py::new(py, d)?.into_any()),
        )
    }

    /// Authenticate a request with the policy's `auth` blocks only (bearer JWTs, API
    /// keys, Auth.js session cookies), without routes, limits or requirements: what
    /// `check_http` would use as the principal. Arguments as for `check_http`.
    #[pyo3(signature = (*, headers=None, method=None, path=None, ip=None, time=None))]
    fn authenticate(
        &self,
        py: Python<'_>,
        headers: Option<&Bound<'_, PyAny>>,
        method: Option<&Bound<'_, PyAny>>,
        path: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        time: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<crate::authn::Authentication> {
        let get = PyString::new(py, "GET");
        let root = PyString::new(py, "/");
        let req = http_request([
            ("method", Some(method.unwrap_or(get.as_any()))),
            ("path", Some(path.unwrap_or(root.as_any()))),
            ("headers", headers),
            ("ip", ip),
            ("principal", None),
            ("input", None),
            ("time", time),
        ])?;
        let engine = Arc::clone(self.plan.load().plan.engine());
        let outcome = py.detach(move || engine.authenticate(&req));
        crate::authn::Authentication::new(py, outcome)
    }

    /// Whether a request with this method and path meets a route that verifies a
    /// signature over the body (`require signature`): read the body only then.
    fn needs_body(&self, method: &str, path: &str) -> bool {
        self.plan.load().plan.engine().needs_body(method, path)
    }

    /// One outgoing `Set-Cookie` value with the policy's `cookies` rule for it applied.
    fn enforce_set_cookie(&self, value: &str) -> String {
        self.plan
            .load()
            .plan
            .engine()
            .enforce_set_cookie(value)
            .into_owned()
    }

    /// Whether the policy has a `cookies` block (else `Set-Cookie` needs no look).
    #[getter]
    fn has_cookie_rules(&self) -> bool {
        !self.plan.load().plan.engine().cookie_rules().is_empty()
    }

    /// Swap in a new policy: the file this engine was loaded from (or `path`), or
    /// `source` text. On error the old policy stays and `PolicyError` is raised.
    #[pyo3(signature = (path=None, *, source=None))]
    fn reload(
        &self,
        py: Python<'_>,
        path: Option<PathBuf>,
        source: Option<String>,
    ) -> PyResult<()> {
        // The lock is never held across a load: the load releases the GIL, and a thread
        // that holds the GIL while it waits for this lock would never let it back.
        let origin = self.origin().clone();
        let result = match (source, path, origin) {
            (Some(text), _, Origin::Source(name)) => {
                py.detach(|| self.warden.reload_source(&name, &text))
            }
            (Some(text), _, Origin::File(file)) => {
                let name = file.display().to_string();
                py.detach(|| self.warden.reload_source(&name, &text))
            }
            (None, Some(p), _) => {
                let r = py.detach(|| self.warden.reload_file(&p));
                if r.is_ok() {
                    *self.origin() = Origin::File(p);
                }
                r
            }
            (None, None, Origin::File(p)) => py.detach(|| self.warden.reload_file(&p)),
            (None, None, Origin::Source(_)) => {
                return Err(crate::errors::ConfigError::new_err(
                    "this engine was loaded from source text: pass `source=` or a path to reload",
                ))
            }
        };
        result.map_err(|e| policy_error(py, &e))?;
        refresh(py, &self.warden, &self.plan);
        Ok(())
    }

    /// Reload the policy file whenever it changes, until the returned `Watch` is
    /// closed. Changes settle for `debounce` seconds first (an editor's save loads
    /// once). After a reload `on_reload()` is called; a file that does not load leaves
    /// the old policy serving and `on_error(PolicyError)` is called (without one, the
    /// error and its diagnostics are logged on the `warden` logger). Both run on the
    /// watcher's thread. With `metrics=True` reloads and refusals are counted.
    #[pyo3(signature = (*, debounce=0.1, on_reload=None, on_error=None))]
    fn watch(
        &self,
        debounce: f64,
        on_reload: Option<Py<PyAny>>,
        on_error: Option<Py<PyAny>>,
    ) -> PyResult<crate::watch::Watch> {
        let Origin::File(path) = self.origin().clone() else {
            return Err(crate::errors::ConfigError::new_err(
                "this engine was loaded from source text: only a file can be watched",
            ));
        };
        let (warden, plan) = (Arc::clone(&self.warden), Arc::clone(&self.plan));
        let hooks = crate::watch::Hooks {
            refresh: Box::new(move |py| refresh(py, &warden, &plan)),
            on_reload,
            on_error,
        };
        let options = crate::watch::options(debounce, hooks)?;
        let w = self.warden.watch(&path, options).map_err(|e| {
            crate::errors::ConfigError::new_err(format!("cannot watch `{}`: {e}", path.display()))
        })?;
        Ok(crate::watch::Watch::new(w))
    }

    /// The metrics counters now (with `metrics=True`), as a dict: `decisions` by
    /// `"kind/outcome"`, `by_status`, `by_route`, `by_rule`, `by_limit`,
    /// `store_errors`, `reloads`, `reload_failures`, `log_dropped`,
    /// `latency_buckets`, `latency_sum_ns`.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        crate::observe::snapshot_dict(py, &self.observe.metrics()?.snapshot())
    }

    /// The metrics (with `metrics=True`) in the Prometheus text exposition format.
    fn prometheus(&self) -> PyResult<String> {
        Ok(self.observe.metrics()?.prometheus())
    }

    /// Wait until every decision logged so far has reached the `decision_log` (its
    /// callable returned, or the file is flushed). Does nothing without a log.
    fn flush_decision_log(&self, py: Python<'_>) {
        if let Some(log) = &self.observe.log {
            // The writer may need the GIL to call a Python sink.
            py.detach(|| log.flush());
        }
    }

    /// The policy's file name, as decisions cite it.
    #[getter]
    fn name(&self) -> String {
        self.warden.engine().name().to_owned()
    }

    /// Checker warnings of the policy in force.
    #[getter]
    fn warnings(&self, py: Python<'_>) -> PyResult<Vec<Py<Diagnostic>>> {
        let e = self.warden.engine();
        let err = warden::LoadError {
            file: e.name().to_owned(),
            source: String::new(),
            diagnostics: e.warnings().to_vec(),
        };
        warden_host::PolicyErrorData::from(&err)
            .diagnostics
            .into_iter()
            .map(|d| Py::new(py, Diagnostic::from(d)))
            .collect()
    }

    /// The attributes the policy reads, by root: what `authorize` converts.
    #[getter]
    fn reads<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let plan = self.plan.load();
        let s = plan.plan.slots();
        let d = PyDict::new(py);
        d.set_item(
            "principal",
            s.principal.iter().map(|n| &**n).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "resource",
            s.resource.iter().map(|n| &**n).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "context",
            s.context.iter().map(|n| &**n).collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("Engine({:?})", self.warden.engine().name())
    }
}
