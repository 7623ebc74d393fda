//! `warden eval`: requests (JSON object, array or JSON lines) -> one decision JSON per line.
//! Authorization and HTTP requests may be mixed; all go to one engine, so rate limits
//! count across the requests of one run.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use warden::decision_log::{DecisionLog, LogConfig, LogField, Sink};
use warden::limit::{RedisOptions, RedisStore};
use warden::metrics::Metrics;
use warden::{Engine, HttpRequest, OnStoreError, Options, Request};

/// Exit codes of docs/JSON.md.
const DECIDED: u8 = 0;
const BAD_POLICY: u8 = 1;
const BAD_REQUEST: u8 = 2;

pub struct Args {
    pub policy: PathBuf,
    pub env: Option<String>,
    pub secrets: Vec<String>,
    pub config: Vec<String>,
    pub request: Option<PathBuf>,
    pub explain: bool,
    /// `None`: text trees with `--explain`, else JSON lines.
    pub format: Option<crate::Format>,
    pub redis_url: Option<String>,
    /// Seed URLs of a Redis Cluster (empty: none).
    pub redis_cluster: Vec<String>,
    pub redis_ca: Option<PathBuf>,
    pub on_store_error: StoreErrorChoice,
    /// `--decision-log FILE` (`-`: standard error).
    pub decision_log: Option<PathBuf>,
    pub log_sample_rate: f64,
    pub log_fields: Vec<String>,
    /// `--metrics`: the Prometheus text on standard error after the run.
    pub metrics: bool,
    /// `--candidate FILE`: a policy deciding beside the one answering.
    pub candidate: Option<PathBuf>,
}

/// `--on-store-error`: the host's choice when the shared store fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreErrorChoice {
    FailClosed,
    FailOpen,
    Fallback,
}

impl From<StoreErrorChoice> for OnStoreError {
    fn from(c: StoreErrorChoice) -> Self {
        match c {
            StoreErrorChoice::FailClosed => OnStoreError::FailClosed,
            StoreErrorChoice::FailOpen => OnStoreError::FailOpen,
            StoreErrorChoice::Fallback => OnStoreError::Fallback,
        }
    }
}

pub fn run(args: &Args) -> u8 {
    let mut options = Options::default();
    if let Some(env) = &args.env {
        options.env.clone_from(env);
    }
    for s in &args.secrets {
        // Nothing of the argument is echoed back: without `=`, it may well be the
        // value itself (`--secret S3CR3T`).
        let Some((name, value)) = s.split_once('=') else {
            eprintln!(
                "error: a `--secret` argument must be NAME=VALUE; the one given has no `=` \
                 (it is not shown, as it may be the secret itself)"
            );
            return BAD_REQUEST;
        };
        options = options.secret(name, value);
    }
    for c in &args.config {
        let Some((name, value)) = c.split_once('=') else {
            eprintln!("error: `--config {c}` must be NAME=VALUE");
            return BAD_REQUEST;
        };
        options = options.config(name, value);
    }
    options = options.on_store_error(args.on_store_error.into());
    let redis = RedisOptions {
        ca_file: args.redis_ca.clone(),
        ..RedisOptions::default()
    };
    // The URLs may carry a password: only the store's error is printed, never a URL.
    let store = match (&args.redis_url, &args.redis_cluster[..]) {
        (Some(url), _) => Some(("--redis-url", RedisStore::open(url, redis))),
        (None, []) if args.redis_ca.is_some() => {
            eprintln!("error: --redis-ca needs --redis-url or --redis-cluster");
            return BAD_REQUEST;
        }
        (None, []) => None,
        (None, seeds) => Some(("--redis-cluster", RedisStore::open_cluster(seeds, redis))),
    };
    match store {
        Some((_, Ok(store))) => options = options.store(Arc::new(store)),
        Some((flag, Err(err))) => {
            eprintln!("error: {flag}: {err}");
            return BAD_REQUEST;
        }
        None => {}
    }
    let log = match open_log(args) {
        Ok(log) => log,
        Err(message) => {
            eprintln!("error: {message}");
            return BAD_REQUEST;
        }
    };
    if let Some(log) = &log {
        options = options.decision_log(Arc::clone(log));
    }
    // A one-shot run times every decision: no request path to keep cheap.
    let metrics = args
        .metrics
        .then(|| Arc::new(Metrics::new().time_one_in(1)));
    if let Some(m) = &metrics {
        options = options.metrics(Arc::clone(m));
    }
    // The candidate counts limits in a store of its own (never the shared one) and
    // logs nothing itself: the live engine logs its disagreements.
    let candidate_options = Options {
        decision_log: None,
        metrics: None,
        store: None,
        ..options.clone()
    };
    let engine = match Engine::from_file(&args.policy, options) {
        Ok(e) => e,
        Err(err) => {
            eprint!("{}", err.render(std::io::stderr().is_terminal()));
            return BAD_POLICY;
        }
    };
    if let Some(path) = &args.candidate {
        let candidate = match Engine::from_file(path, candidate_options) {
            Ok(e) => e,
            Err(err) => {
                eprint!("{}", err.render(std::io::stderr().is_terminal()));
                return BAD_POLICY;
            }
        };
        if let Err(e) = engine.set_candidate(Some(Arc::new(candidate))) {
            eprintln!("error: --candidate: {e}");
            return BAD_REQUEST;
        }
    }
    let input = match read_input(args.request.as_deref()) {
        Ok(text) => text,
        Err(msg) => {
            eprintln!("error: {msg}");
            return BAD_REQUEST;
        }
    };
    let requests = match parse_requests(&input) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("error: {msg}");
            return BAD_REQUEST;
        }
    };
    let text = args.format.unwrap_or(if args.explain {
        crate::Format::Text
    } else {
        crate::Format::Json
    }) == crate::Format::Text;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (i, json) in requests.iter().enumerate() {
        let decided = if text {
            decide_text(&engine, json, args.explain).map(serde_json::Value::String)
        } else {
            decide(&engine, json, args.explain)
        };
        let line = match decided {
            Ok(line) => line,
            Err(message) => {
                let _ = out.flush();
                eprintln!("error: request {}: {message}", i + 1);
                return BAD_REQUEST;
            }
        };
        let written = match line {
            serde_json::Value::String(tree) => write!(out, "{tree}"),
            json => writeln!(out, "{json}"),
        };
        if written.is_err() {
            return BAD_REQUEST;
        }
    }
    let _ = out.flush();
    if let Some(log) = &log {
        log.close();
        let stats = log.stats();
        if stats.dropped + stats.write_errors > 0 {
            eprintln!(
                "warning: the decision log dropped {} line(s) and failed to write {}",
                stats.dropped, stats.write_errors
            );
        }
    }
    if let Some(m) = &metrics {
        eprint!("{}", m.prometheus());
    }
    DECIDED
}

/// `--decision-log`, `--log-sample-rate`, `--log-field` -> a running log.
fn open_log(args: &Args) -> Result<Option<Arc<DecisionLog>>, String> {
    let Some(path) = &args.decision_log else {
        return Ok(None);
    };
    let fields = args
        .log_fields
        .iter()
        .map(|f| LogField::parse(f).map_err(|e| format!("--log-field: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let sink = if path == Path::new("-") {
        Sink::Stderr
    } else {
        Sink::File(path.clone())
    };
    let config = LogConfig {
        sample_rate: args.log_sample_rate,
        // A batch run should not lose lines: the queue holds a large batch.
        capacity: 1 << 16,
        fields,
        ..LogConfig::new(sink)
    };
    DecisionLog::open(config)
        .map(|log| Some(Arc::new(log)))
        .map_err(|e| format!("--decision-log {}: {e}", path.display()))
}

/// An HTTP request says `kind: "http"`, or has `method` or `path` (an authorization
/// request has neither).
fn is_http(json: &serde_json::Value) -> bool {
    match json.get("kind").and_then(serde_json::Value::as_str) {
        Some(k) => k == "http",
        None => json.get("method").is_some() || json.get("path").is_some(),
    }
}

fn with_trace(mut decision: serde_json::Value, trace: serde_json::Value) -> serde_json::Value {
    if let Some(obj) = decision.as_object_mut() {
        obj.insert("trace".into(), trace);
    }
    decision
}

fn decide(
    engine: &Engine,
    json: &serde_json::Value,
    explain: bool,
) -> Result<serde_json::Value, String> {
    if is_http(json) {
        let req = HttpRequest::from_json(json).map_err(|e| e.message)?;
        return Ok(if explain {
            let (d, trace) = engine.explain_http(&req);
            with_trace(d.to_json(), serde_json::to_value(trace).unwrap_or_default())
        } else {
            engine.check_http(&req).to_json()
        });
    }
    if !explain {
        // Read in place: a batch of requests is decided without copying each one.
        return engine
            .authorize_json(json)
            .map(|d| d.to_json())
            .map_err(|e| e.message);
    }
    let req = Request::from_json(json).map_err(|e| e.message)?;
    let (d, trace) = engine.explain(&req);
    Ok(with_trace(
        d.to_json(),
        serde_json::to_value(trace).unwrap_or_default(),
    ))
}

/// A decision as text: with `explain`, the tree of everything looked at; without, the
/// tree's first line.
fn decide_text(engine: &Engine, json: &serde_json::Value, explain: bool) -> Result<String, String> {
    let tree = if is_http(json) {
        let req = HttpRequest::from_json(json).map_err(|e| e.message)?;
        let (d, trace) = engine.explain_http(&req);
        crate::explain::http(&d.to_json(), &trace)
    } else {
        let req = Request::from_json(json).map_err(|e| e.message)?;
        let (d, trace) = engine.explain(&req);
        crate::explain::authz(&d.to_json(), &trace)
    };
    Ok(if explain {
        tree
    } else {
        tree.lines()
            .next()
            .map(|l| format!("{l}\n"))
            .unwrap_or_default()
    })
}

fn read_input(path: Option<&Path>) -> Result<String, String> {
    match path {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read request file `{}`: {e}", p.display())),
    }
}

fn read_stdin() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("cannot read requests from standard input: {e}"))?;
    Ok(s)
}

/// One JSON object, a JSON array of them, or JSON lines (any whitespace-separated stream).
fn parse_requests(text: &str) -> Result<Vec<serde_json::Value>, String> {
    if text.trim_start().starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("malformed JSON array of requests: {e}"))?;
        return Ok(match v {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        });
    }
    let mut out = Vec::new();
    for (i, v) in serde_json::Deserializer::from_str(text)
        .into_iter::<serde_json::Value>()
        .enumerate()
    {
        out.push(v.map_err(|e| format!("request {}: malformed JSON: {e}", i + 1))?);
    }
    if out.is_empty() {
        return Err("no request given: pass a JSON object, array or JSON lines".into());
    }
    Ok(out)
}
