//! The JSON entry point the bindings and hosts share: one request object in, the
//! residual (and its SQL) out, so that Python, Node and the CLI read filter requests
//! the same way.

use super::{CannotFilter, ColumnMap, Dialect};
use crate::{Engine, Request};
use serde::Deserialize;
use serde_json::Value as Json;

/// Why a filter request has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// The request itself is malformed (the message says what to fix).
    Request(String),
    /// A rule no filter can express, or a column map that lacks an attribute.
    CannotFilter(CannotFilter),
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterError::Request(m) => write!(f, "bad filter request: {m}"),
            FilterError::CannotFilter(c) => c.fmt(f),
        }
    }
}

impl std::error::Error for FilterError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    dialect: Dialect,
    columns: ColumnMap,
    #[serde(default = "one")]
    first_param: usize,
}

fn one() -> usize {
    1
}

/// Answer a filter request:
///
/// ```json
/// {"action": "posts:read", "resource_type": "post",
///  "principal": {"id": "u1", "roles": ["member"]}, "context": {},
///  "sql": {"dialect": "postgres", "columns": {"table": "posts", "columns": {...}},
///          "first_param": 1}}
/// ```
///
/// `principal` (omitted or null: anonymous) and `context` are read as in the request
/// JSON of `authorize`; `sql` is optional. The answer is
/// `{"residual": {...}}`, plus `"sql"` and `"params"` when `sql` was asked for.
pub fn residual_json(engine: &Engine, request: &Json) -> Result<Json, FilterError> {
    let bad = |m: String| FilterError::Request(m);
    let obj = request
        .as_object()
        .ok_or_else(|| bad("the filter request must be a JSON object".into()))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "action" | "resource_type" | "principal" | "context" | "sql"
        ) {
            return Err(bad(format!("unknown field `{k}`")));
        }
    }
    let text = |k: &str| -> Result<&str, FilterError> {
        obj.get(k)
            .and_then(Json::as_str)
            .ok_or_else(|| bad(format!("`{k}` must be a string")))
    };
    let action = text("action")?;
    let ty = text("resource_type")?;
    // Principal and context exactly as an authorization request reads them.
    let mut req = serde_json::json!({ "action": action });
    if let Some(p) = obj.get("principal").filter(|p| !p.is_null()) {
        req["principal"] = p.clone();
    }
    if let Some(c) = obj.get("context").filter(|c| !c.is_null()) {
        req["context"] = c.clone();
    }
    let req = Request::from_json(&req).map_err(|e| bad(e.message))?;
    let sql = match obj.get("sql").filter(|s| !s.is_null()) {
        Some(s) => Some(SqlRequest::deserialize(s).map_err(|e| bad(format!("`sql`: {e}")))?),
        None => None,
    };
    let residual = engine
        .residual(action, ty, req.principal.as_ref(), &req.context)
        .map_err(FilterError::CannotFilter)?;
    let mut out = serde_json::json!({ "residual": residual.to_json() });
    if let Some(s) = sql {
        let f = residual
            .to_sql(&s.columns, s.dialect, s.first_param)
            .map_err(FilterError::CannotFilter)?;
        out["params"] = serde_json::to_value(&f.params).unwrap_or_default();
        out["sql"] = Json::String(f.sql);
    }
    Ok(out)
}
