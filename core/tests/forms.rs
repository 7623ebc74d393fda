//! The value-computing forms end to end: `now` (and the decision cache), `.is_int`,
//! computed response headers, CORS origins from a setting, roles per organization.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::Arc;
use std::time::Duration;
use warden::{
    Attrs, Engine, HttpRequest, ManualClock, Options, Principal, Request, Resource, Value,
};
use warden_lang::ast::Root;

const T0: u64 = 1_800_000_000;

const RESET: &str = r#"
policy t
role user
grant user: auth:reset_password
resource reset_token { issued_at: number }
deny auth:reset_password on reset_token
  if now - resource.issued_at > 1h
  because "expired"
"#;

fn reset(issued_at: u64) -> Request {
    Request::new("auth:reset_password")
        .principal(Principal::new("u1").role("user"))
        .resource(Resource::new("reset_token", "rt").attr("issued_at", issued_at as f64))
}

#[test]
fn now_is_context_time_then_the_clock() {
    let clock = Arc::new(ManualClock::new((T0 + 3599) * 1_000_000));
    let e =
        Engine::from_source("t.warden", RESET, Options::default().clock(clock.clone())).unwrap();
    assert!(e.authorize(&reset(T0)).allowed, "59m59s after issue");
    clock.advance(Duration::from_secs(2));
    assert!(!e.authorize(&reset(T0)).allowed, "1h01s after issue");
    // `context.time` wins over the clock, as seconds or as an RFC 3339 timestamp.
    let mut early = reset(T0);
    early.context = Attrs::new().with("time", (T0 + 60) as f64);
    assert!(e.authorize(&early).allowed);
    early.context = Attrs::new().with("time", "2027-01-15T09:00:01Z");
    assert_eq!(
        warden::http::parse_time("2027-01-15T09:00:01Z").unwrap(),
        (T0 + 3601) * 1_000_000
    );
    assert!(!e.authorize(&early).allowed);
    // A malformed time is missing (the deny fails closed), never the clock.
    clock.set(T0 * 1_000_000);
    early.context = Attrs::new().with("time", true);
    assert!(!e.authorize(&early).allowed);
    // An offset is honoured: 10:00:01+01:00 is 09:00:01Z (1h01s after issue: denied),
    // and a time without one names no instant: missing too, never read as UTC.
    early.context = Attrs::new().with("time", "2027-01-15T10:00:01+01:00");
    assert!(!e.authorize(&early).allowed);
    early.context = Attrs::new().with("time", "2027-01-15T09:59:00+01:00");
    assert!(e.authorize(&early).allowed, "08:59:00Z is 59m after issue");
    early.context = Attrs::new().with("time", "2027-01-15 08:59:00");
    assert!(!e.authorize(&early).allowed, "a naive time is missing");
}

#[test]
fn the_cache_never_serves_a_stale_now() {
    let clock = Arc::new(ManualClock::new((T0 + 10) * 1_000_000));
    let options = Options::default().clock(clock.clone()).cache_size(64);
    let e = Engine::from_source("t.warden", RESET, options).unwrap();
    let req = reset(T0);
    assert!(e.authorize(&req).allowed);
    assert!(e.authorize(&req).allowed);
    clock.advance(Duration::from_secs(3600));
    // Same request, same attributes: only the clock moved.
    assert!(!e.authorize(&req).allowed);
    assert_eq!(e.cache_stats().hits, 0);
    // Hosts converting only what rules read must pass `context.time`.
    assert_eq!(
        e.attribute_reads(),
        vec![(Root::Context, "time"), (Root::Resource, "issued_at")]
    );
}

#[test]
fn rules_without_now_still_use_the_cache() {
    let src = "policy t\nrole user\ngrant user: a:read\nresource d { level: number }\ndeny a:read on d if resource.level.is_int\n";
    let e = Engine::from_source("t.warden", src, Options::default().cache_size(8)).unwrap();
    let req = |level: f64| {
        Request::new("a:read")
            .principal(Principal::new("u").role("user"))
            .resource(Resource::new("d", "1").attr("level", level))
    };
    assert!(!e.authorize(&req(2.0)).allowed);
    assert!(!e.authorize(&req(2.0)).allowed);
    assert!(e.authorize(&req(2.5)).allowed);
    assert_eq!(e.cache_stats().hits, 1);
    // A string is no number: `.is_int` is missing and the deny fails closed.
    let text = Request::new("a:read")
        .principal(Principal::new("u").role("user"))
        .resource(Resource::new("d", "1").attr("level", "2"));
    assert!(!e.authorize(&text).allowed);
}

#[test]
fn now_in_a_route_is_the_request_time() {
    let src = "policy t\nroute /x {\n  require now < 1800000000 else 410\n}\n";
    let clock = Arc::new(ManualClock::new((T0 - 1) * 1_000_000));
    let e = Engine::from_source("t.warden", src, Options::default().clock(clock)).unwrap();
    let req = HttpRequest::new("GET", "/x");
    assert_eq!(e.check_http(&req).status, 200, "engine clock");
    let late = req.clone().time_us(T0 * 1_000_000);
    assert_eq!(
        e.check_http(&late).status,
        410,
        "the request's own time wins"
    );
}

const FILES: &str = r#"
policy t
role user
route /files/** {
  require auth
  header set X-Name: header_safe(input.name, 8)
  header set X-Raw: input.raw
  header set X-Frame-Options: "SAMEORIGIN"
}
route /files/special/** {
  header set X-Name: "fixed"
}
route /files/secret {
  header set X-Leak: secret(KEY)
}
route /files/env {
  header set X-Env: "env=" + env
}
"#;

fn files() -> Engine {
    Engine::from_source(
        "t.warden",
        FILES,
        Options::default().secret("KEY", "s3cr3t"),
    )
    .unwrap()
}

fn file_req(path: &str) -> HttpRequest {
    HttpRequest::new("GET", path).principal(Principal::new("u").role("user"))
}

#[test]
fn computed_headers_are_valid_values_or_absent() {
    let e = files();
    let d = e.check_http(
        &file_req("/files/a")
            .input("name", "a\r\nSet-Cookie: x")
            .input("raw", "b\r\nX-Evil: 1\u{0}é"),
    );
    assert_eq!(d.status, 200);
    assert_eq!(d.header("x-name"), Some("a__Set-C"));
    // Without `header_safe`, the value is still made a valid header value.
    assert_eq!(d.header("x-raw"), Some("b__X-Evil: 1__"));
    assert_eq!(d.header("x-frame-options"), Some("SAMEORIGIN"));
    // A missing value sets nothing.
    let d = e.check_http(&file_req("/files/a"));
    assert_eq!(d.header("x-name"), None);
    assert_eq!(d.header("x-raw"), None);
    // A number is no header value: not set (the checker refuses it when loading).
    let d = e.check_http(&file_req("/files/a").input("raw", 5.0));
    assert_eq!(d.header("x-raw"), None);
}

#[test]
fn computed_headers_only_on_admitted_requests_and_below_fixed_ones() {
    let e = files();
    let refused = e.check_http(&HttpRequest::new("GET", "/files/a").input("name", "n"));
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("x-name"), None);
    // A more specific route's literal line wins over a less specific computed one.
    let d = e.check_http(&file_req("/files/special/a").input("name", "n"));
    assert_eq!(d.header("x-name"), Some("fixed"));
    // Secret-derived text never goes into a response.
    let d = e.check_http(&file_req("/files/secret"));
    assert_eq!(d.header("x-leak"), None);
    // Text known at load is folded into a literal header, on every answer.
    let d = e.check_http(&HttpRequest::new("GET", "/files/env"));
    assert_eq!(d.status, 401);
    assert_eq!(d.header("x-env"), Some("env=development"));
}

const CORS: &str = r#"
policy t
cors {
  origins: split(config(ORIGINS), ",") ?? "https://default.example"
  credentials: true
}
"#;

fn cors_engine(origins: Option<&str>) -> Result<Engine, warden::LoadError> {
    let mut o = Options::default();
    if let Some(v) = origins {
        o = o.config("ORIGINS", v);
    }
    Engine::from_source("t.warden", CORS, o)
}

fn allowed_origin(e: &Engine, origin: &str) -> Option<String> {
    let d = e.check_http(&HttpRequest::new("GET", "/").header("origin", origin));
    d.header("access-control-allow-origin").map(str::to_string)
}

#[test]
fn cors_origins_come_from_the_setting_else_the_fallback() {
    let e = cors_engine(Some(" https://a.example ,https://b.example:8443,")).unwrap();
    assert_eq!(
        allowed_origin(&e, "https://a.example").as_deref(),
        Some("https://a.example")
    );
    assert!(allowed_origin(&e, "https://b.example:8443").is_some());
    assert_eq!(allowed_origin(&e, "https://default.example"), None);
    let e = cors_engine(None).unwrap();
    assert!(allowed_origin(&e, "https://default.example").is_some());
    assert_eq!(allowed_origin(&e, "https://a.example"), None);
}

#[test]
fn a_bad_origin_in_the_setting_is_a_load_error_naming_the_setting_only() {
    for bad in [
        "https://a.example,https://evil.example/path?x=SECRETISH",
        "*",
        " , ,",
    ] {
        let err = cors_engine(Some(bad)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ORIGINS"), "{text}");
        assert!(
            !text.contains("evil") && !text.contains("SECRETISH"),
            "{text}"
        );
        assert_eq!(err.diagnostics[0].code, "invalid-origin");
    }
    // Without a fallback, an absent setting is a load error too.
    let src = "policy t\ncors {\n  origins: split(config(ORIGINS), \",\")\n}\n";
    let err = Engine::from_source("t.warden", src, Options::default()).unwrap_err();
    assert_eq!(err.diagnostics[0].code, "missing-config");
}

const ORGS: &str = r#"
policy t
role member
role manager > member
role org_admin > manager
grant member: logo:update
principal { org_roles: map<string, set<role>>? }
resource org {}
deny logo:update on org unless principal is manager in resource.id
allow report:read on org if principal is manager in resource.id
"#;

fn org_req(action: &str, org: &str, org_roles: Option<Value>) -> Request {
    let mut p = Principal::new("u").role("member");
    if let Some(m) = org_roles {
        p = p.attr("org_roles", m);
    }
    Request::new(action)
        .principal(p)
        .resource(Resource::new("org", org))
}

fn roles(pairs: &[(&str, &[&str])]) -> Value {
    let mut m = Attrs::new();
    for (org, rs) in pairs {
        m.set(
            *org,
            Value::List(rs.iter().map(|r| Value::from(*r)).collect()),
        );
    }
    Value::Map(m)
}

#[test]
fn roles_per_organization_fail_closed() {
    let e = Engine::from_source("t.warden", ORGS, Options::default()).unwrap();
    let held = roles(&[("a", &["org_admin"]), ("b", &["member"])]);
    assert!(
        e.authorize(&org_req("logo:update", "a", Some(held.clone())))
            .allowed
    );
    assert!(
        !e.authorize(&org_req("logo:update", "b", Some(held.clone())))
            .allowed
    );
    assert!(
        e.authorize(&org_req("report:read", "a", Some(held.clone())))
            .allowed
    );
    assert!(
        !e.authorize(&org_req("report:read", "b", Some(held.clone())))
            .allowed
    );
    // No map, no entry for the organization, or an undeclared role name: missing. The
    // deny denies and the allow does not apply.
    let odd = roles(&[("c", &["manager", "superuser"])]);
    for m in [None, Some(held), Some(odd)] {
        let org = "c";
        assert!(!e.authorize(&org_req("logo:update", org, m.clone())).allowed);
        assert!(!e.authorize(&org_req("report:read", org, m)).allowed);
    }
    // Anonymous: false.
    let anon = Request::new("report:read").resource(Resource::new("org", "a"));
    assert!(!e.authorize(&anon).allowed);
}
