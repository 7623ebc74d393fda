//! Data filtering for `index.js`: a filter request as JSON text in, and out either
//! `{"ok": <answer of warden::filter::residual_json>}` or `{"error": {"kind": "request" |
//! "cannot_filter", "message", "rule"}}`, so that `index.js` throws its own error
//! classes (`RequestError`, `CannotFilter` with `.rule`) with no message parsing.

use serde_json::{json, Value};
use warden::filter::{residual_json, FilterError};
use warden::Engine;

/// The largest filter request read (a principal's lists can be long, not unbounded).
const MAX_JSON: usize = 4 << 20;

/// Answer one filter request against `engine` (see the module doc for the shape).
pub(crate) fn answer(engine: &Engine, request: &str) -> String {
    let error = |kind: &str, message: String, rule: Option<String>| {
        json!({ "error": { "kind": kind, "message": message, "rule": rule } }).to_string()
    };
    if request.len() > MAX_JSON {
        return error(
            "request",
            format!(
                "a filter request of {} bytes of JSON is larger than the limit of {MAX_JSON}",
                request.len()
            ),
            None,
        );
    }
    let req: Value = match serde_json::from_str(request) {
        Ok(v) => v,
        Err(e) => {
            return error(
                "request",
                format!("the filter request is not JSON: {e}"),
                None,
            )
        }
    };
    match residual_json(engine, &req) {
        Ok(v) => json!({ "ok": v }).to_string(),
        Err(FilterError::Request(m)) => error("request", m, None),
        Err(FilterError::CannotFilter(c)) => {
            let rule = c.rule.clone();
            error("cannot_filter", c.to_string(), Some(rule))
        }
    }
}
