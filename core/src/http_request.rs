//! The HTTP request a host passes to `check_http`: owned values, from JSON or built by hand.

use crate::json::principal_from_json;
use crate::request::{attrs_from_json, Attrs, Principal, RequestError};
use crate::time::parse_time;
use serde_json::Value as Json;
use std::net::IpAddr;

/// An HTTP request as the engine sees it. Header names are stored lower-case; the path
/// is as received (with its query) and is normalised by the engine before matching.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpRequest {
    /// Upper-case method (`GET`, `POST` ...).
    pub method: String,
    /// The request target's path and optional `?query`, not yet normalised.
    pub path: String,
    /// `(lower-case name, value)`; a repeated header appears once per value.
    pub headers: Vec<(String, String)>,
    /// The client address, when the host knows it.
    pub ip: Option<IpAddr>,
    /// The principal the host authenticated; `None` lets the policy's `auth` section
    /// authenticate the request (or leaves it anonymous).
    pub principal: Option<Principal>,
    /// Host-supplied facts about the body (`size`, `content_type`, form fields ...).
    pub input: Attrs,
    /// The request's time in microseconds since the epoch; `None` uses the engine's clock.
    pub time_us: Option<u64>,
    /// The raw body, when the host passed it (routes with `require signature` need it:
    /// see [`crate::Engine::needs_body`]).
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A request for `method` (upper-cased) and the raw request target `path` (with its
    /// query, not yet normalised: the engine normalises it).
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        HttpRequest {
            method: method.into().to_ascii_uppercase(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// Add a header (the name is lower-cased; repeated names are kept in order).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// Set the client address (the socket peer, or what the host's proxy reported).
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Set the host's own principal: the policy's `auth` blocks are then not run.
    pub fn principal(mut self, p: Principal) -> Self {
        self.principal = Some(p);
        self
    }

    /// Set an `input.NAME` value (e.g. the body size) that requirements may read.
    pub fn input(mut self, name: impl Into<String>, value: impl Into<crate::Value>) -> Self {
        self.input.set(name, value);
        self
    }

    /// Set the request's time in microseconds since the Unix epoch (else the engine's
    /// clock is read).
    pub fn time_us(mut self, micros: u64) -> Self {
        self.time_us = Some(micros);
        self
    }

    /// The raw request body, byte for byte as received.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first cookie named `name` (case-sensitive) across every `Cookie` header,
    /// without surrounding quotes.
    pub fn cookie_value(&self, name: &str) -> Option<&str> {
        self.cookies().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every cookie across every `Cookie` header, in order: its name and its value
    /// without surrounding quotes (what [`HttpRequest::cookie_value`] looks through).
    pub(crate) fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(n, v)| (n.trim(), v.trim().trim_matches('"')))
    }

    /// Build from the HTTP request JSON of docs/JSON.md (`kind` may be omitted or be
    /// `"http"`). `time` is an RFC 3339 timestamp.
    pub fn from_json(json: &Json) -> Result<HttpRequest, RequestError> {
        let obj = json
            .as_object()
            .ok_or_else(|| RequestError::new("a request must be a JSON object"))?;
        match obj.get("kind") {
            None | Some(Json::Null) => {}
            Some(Json::String(k)) if k == "http" => {}
            Some(other) => {
                return Err(RequestError::new(format!(
                    "unsupported request `kind` {other} for an HTTP request; expected \"http\""
                )))
            }
        }
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "kind"
                    | "method"
                    | "path"
                    | "headers"
                    | "ip"
                    | "principal"
                    | "input"
                    | "time"
                    | "body"
                    | "body_base64"
            ) {
                return Err(RequestError::new(format!(
                    "unknown HTTP request field `{key}`; expected `method`, `path`, `headers`, \
                     `ip`, `principal`, `input`, `time`, `body`, `body_base64`"
                )));
            }
        }
        let method = match obj.get("method") {
            Some(Json::String(m)) if is_token(m) => m.to_ascii_uppercase(),
            Some(Json::String(_)) => {
                return Err(RequestError::new(
                    "`method` must be an HTTP method name such as \"GET\"",
                ))
            }
            Some(_) => return Err(RequestError::new("`method` must be a string")),
            None => return Err(RequestError::new("missing `method`")),
        };
        let path = match obj.get("path") {
            Some(Json::String(p)) if p.starts_with('/') => p.clone(),
            Some(Json::String(_)) => return Err(RequestError::new("`path` must start with `/`")),
            Some(_) => return Err(RequestError::new("`path` must be a string")),
            None => return Err(RequestError::new("missing `path`")),
        };
        let mut headers = Vec::new();
        match obj.get("headers") {
            None | Some(Json::Null) => {}
            Some(Json::Object(h)) => {
                for (name, value) in h {
                    let name = name.to_ascii_lowercase();
                    match value {
                        Json::String(v) => headers.push((name, v.clone())),
                        Json::Array(vs) => {
                            for v in vs {
                                let Json::String(v) = v else {
                                    return Err(RequestError::new(format!(
                                        "header `{name}` must be a string or a list of strings"
                                    )));
                                };
                                headers.push((name.clone(), v.clone()));
                            }
                        }
                        _ => {
                            return Err(RequestError::new(format!(
                                "header `{name}` must be a string or a list of strings"
                            )))
                        }
                    }
                }
            }
            Some(_) => return Err(RequestError::new("`headers` must be an object")),
        }
        let ip = match obj.get("ip") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.parse::<IpAddr>().map_err(|_| {
                RequestError::new("`ip` must be an IPv4 or IPv6 address such as \"203.0.113.7\"")
            })?),
            Some(_) => return Err(RequestError::new("`ip` must be a string")),
        };
        let principal = match obj.get("principal") {
            None | Some(Json::Null) => None,
            Some(Json::Object(p)) => Some(principal_from_json(p)?),
            Some(_) => return Err(RequestError::new("`principal` must be an object or null")),
        };
        let input = match obj.get("input") {
            None | Some(Json::Null) => Attrs::default(),
            Some(Json::Object(i)) => attrs_from_json(i, &[]),
            Some(_) => return Err(RequestError::new("`input` must be an object")),
        };
        let time_us = match obj.get("time") {
            None | Some(Json::Null) => None,
            Some(Json::String(t)) => Some(parse_time(t)?),
            Some(_) => {
                return Err(RequestError::new(
                    "`time` must be an RFC 3339 timestamp such as \"2026-11-22T10:00:00Z\"",
                ))
            }
        };
        let body = body_from_json(obj.get("body"), obj.get("body_base64"))?;
        Ok(HttpRequest {
            method,
            path,
            headers,
            ip,
            principal,
            input,
            time_us,
            body,
        })
    }
}

/// `body` (the bytes of a UTF-8 string) or `body_base64` (standard base64, padded, for
/// any bytes); not both.
fn body_from_json(
    text: Option<&Json>,
    b64: Option<&Json>,
) -> Result<Option<Vec<u8>>, RequestError> {
    use base64::Engine as _;
    match (text, b64) {
        (None | Some(Json::Null), None | Some(Json::Null)) => Ok(None),
        (Some(Json::String(s)), None | Some(Json::Null)) => Ok(Some(s.as_bytes().to_vec())),
        (None | Some(Json::Null), Some(Json::String(s))) => {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(Some)
                .map_err(|_| {
                    RequestError::new("`body_base64` must be standard base64 (RFC 4648, padded)")
                })
        }
        (Some(_), Some(_))
            if !text.is_some_and(Json::is_null) && !b64.is_some_and(Json::is_null) =>
        {
            Err(RequestError::new(
                "give the body once: `body` (text) or `body_base64` (bytes), not both",
            ))
        }
        (Some(_), _) => Err(RequestError::new(
            "`body` must be a string (UTF-8 text; use `body_base64` for bytes)",
        )),
        (_, Some(_)) => Err(RequestError::new("`body_base64` must be a string")),
    }
}

/// RFC 9110 `token` characters, as a method name must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_contract_example() {
        let r = HttpRequest::from_json(&json!({
            "method": "post", "path": "/api/auth/login",
            "headers": { "Origin": "https://app.example.com" },
            "ip": "203.0.113.7", "principal": null,
            "input": { "size": 1024 }, "time": "2026-11-22T10:00:00Z"
        }))
        .map_err(|e| e.to_string());
        let r = r.as_ref().map_err(String::as_str);
        let Ok(r) = r else { unreachable!("{r:?}") };
        assert_eq!(r.method, "POST");
        assert_eq!(r.header_value("ORIGIN"), Some("https://app.example.com"));
        assert_eq!(r.ip, "203.0.113.7".parse().ok());
        assert_eq!(r.input.get("size"), Some(&crate::Value::Number(1024.0)));
        assert_eq!(r.time_us, Some(1_795_341_600_000_000));
    }

    #[test]
    fn bodies_come_as_text_or_base64() {
        let text =
            HttpRequest::from_json(&json!({"method": "POST", "path": "/", "body": "{\"a\":1}"}));
        assert_eq!(text.ok().and_then(|r| r.body), Some(b"{\"a\":1}".to_vec()));
        let bytes =
            HttpRequest::from_json(&json!({"method": "POST", "path": "/", "body_base64": "AP8K"}));
        assert_eq!(bytes.ok().and_then(|r| r.body), Some(vec![0, 255, 10]));
        let none = HttpRequest::from_json(&json!({"method": "POST", "path": "/"}));
        assert_eq!(none.ok().and_then(|r| r.body), None);
    }

    #[test]
    fn bad_fields_are_errors_that_say_what_to_fix() {
        for (req, want) in [
            (json!({"path": "/"}), "missing `method`"),
            (json!({"method": "GET"}), "missing `path`"),
            (json!({"method": "GET", "path": "x"}), "must start with `/`"),
            (json!({"method": "G T", "path": "/"}), "HTTP method name"),
            (
                json!({"method": "GET", "path": "/", "ip": "nope"}),
                "IPv4 or IPv6",
            ),
            (
                json!({"method": "GET", "path": "/", "time": "yesterday"}),
                "RFC 3339",
            ),
            (
                json!({"method": "GET", "path": "/", "headers": {"a": 1}}),
                "header `a`",
            ),
            (
                json!({"method": "GET", "path": "/", "bodyy": 1}),
                "unknown HTTP request field",
            ),
            (
                json!({"method": "GET", "path": "/", "body": 1}),
                "`body` must be a string",
            ),
            (
                json!({"method": "GET", "path": "/", "body": "a", "body_base64": "YQ=="}),
                "not both",
            ),
            (
                json!({"method": "GET", "path": "/", "body_base64": "not base64!"}),
                "standard base64",
            ),
        ] {
            let err = HttpRequest::from_json(&req).err().map(|e| e.message);
            assert!(
                err.as_deref().is_some_and(|m| m.contains(want)),
                "{req}: {err:?}"
            );
        }
    }
}
