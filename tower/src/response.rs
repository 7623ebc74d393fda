//! Responses: the answer to a refused, redirected or preflight request, and the
//! decision's headers applied to an admitted request's response.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, SET_COOKIE, VARY};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;
use std::sync::Arc;
use warden::{Engine, HttpDecision};

/// Builds the body of a refusal from its decision: `(content-type, body)`.
pub type DenyBody = Arc<dyn Fn(&HttpDecision<'_>) -> (HeaderValue, Bytes) + Send + Sync>;

/// The default refusal body, `{"error": reason}`.
pub fn error_body(d: &HttpDecision<'_>) -> (HeaderValue, Bytes) {
    json_body("error", d)
}

/// `{"detail": reason}`, the shape of FastAPI-style APIs.
pub fn detail_body(d: &HttpDecision<'_>) -> (HeaderValue, Bytes) {
    json_body("detail", d)
}

fn json_body(key: &str, d: &HttpDecision<'_>) -> (HeaderValue, Bytes) {
    let body = serde_json::json!({ key: d.reason.as_deref() });
    (
        HeaderValue::from_static("application/json"),
        Bytes::from(body.to_string()),
    )
}

/// The answer the layer gives instead of calling the service: the decision's status
/// and headers, and a body unless the status has none (204, 304, redirects).
pub(crate) fn answer(d: &HttpDecision<'_>, deny: &DenyBody) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(d.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let bodiless = matches!(d.status, 204 | 304) || status.is_redirection();
    let mut res = if bodiless {
        Response::new(Full::new(Bytes::new()))
    } else {
        let (ty, body) = deny(d);
        let mut res = Response::new(Full::new(body));
        res.headers_mut().insert(CONTENT_TYPE, ty);
        res
    };
    *res.status_mut() = status;
    for (name, value) in &d.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            res.headers_mut().append(n, v);
        }
    }
    if bodiless {
        res.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    res
}

/// An admitted request's response headers with the decision applied: the policy's
/// headers replace the app's own (`Vary` tokens are merged instead, so the app's stay),
/// removed headers are dropped, and each `Set-Cookie` gets the policy's `cookies` rule.
pub(crate) fn apply(engine: &Engine, d: &Applied, headers: &mut HeaderMap) {
    for name in &d.remove {
        headers.remove(name);
    }
    for (name, value) in &d.headers {
        if name == VARY {
            merge_vary(headers, value);
        } else {
            headers.insert(name.clone(), value.clone());
        }
    }
    if !engine.cookie_rules().is_empty() && headers.contains_key(SET_COOKIE) {
        let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
        headers.remove(SET_COOKIE);
        for c in cookies {
            // A value that is not text names no cookie a rule could match: kept as is.
            let out = match c.to_str() {
                Ok(text) => HeaderValue::from_str(&engine.enforce_set_cookie(text)).unwrap_or(c),
                Err(_) => c,
            };
            headers.append(SET_COOKIE, out);
        }
    }
}

fn merge_vary(headers: &mut HeaderMap, add: &HeaderValue) {
    let mut tokens: Vec<String> = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    for t in add.to_str().unwrap_or_default().split(',').map(str::trim) {
        if !t.is_empty() && !tokens.iter().any(|have| have.eq_ignore_ascii_case(t)) {
            tokens.push(t.to_owned());
        }
    }
    if let Ok(v) = HeaderValue::from_str(&tokens.join(", ")) {
        headers.insert(VARY, v);
    }
}

/// The decision's response headers, converted once when the request is admitted (the
/// response comes later, when the engine's borrow is gone).
#[derive(Debug, Clone, Default)]
pub(crate) struct Applied {
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub remove: Vec<HeaderName>,
}

impl Applied {
    pub(crate) fn of(d: &HttpDecision<'_>) -> Applied {
        Applied {
            headers: d
                .headers
                .iter()
                .filter_map(|(n, v)| {
                    Some((
                        HeaderName::from_bytes(n.as_bytes()).ok()?,
                        HeaderValue::from_str(v).ok()?,
                    ))
                })
                .collect(),
            remove: d
                .remove
                .iter()
                .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                .collect(),
        }
    }
}
