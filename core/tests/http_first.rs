//! Requirements that run before authentication (`require first`), a `cors` block that
//! refuses unlisted origins (`refuse_unlisted`), and `issuer`/`audience` read from
//! settings, through `check_http` and `authenticate`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use warden::{AuthFailure, Authn, Engine, HttpRequest, ManualClock, Options, Principal};

const POLICY: &str = r#"policy p
role admin
principal { id: string, roles: set<role> }
hosts: "shop.example"
limit api: 2 per 1h by ip
route /** {
  require first env != "production" or header x-forwarded-proto == "https" else redirect 301 "https://{host}{target}"
  limit api
}
route /api/** {
  require auth
  require input.n >= 1
}
route /api/open {
  public
  require first request.method != "DELETE" else 405
}
cors {
  origins: "https://shop.example"
  methods: GET, POST
  refuse_unlisted: true
}
"#;

fn engine(env: &str) -> Engine {
    Engine::from_source("p.warden", POLICY, Options::default().env(env)).unwrap()
}

fn req(method: &str, path: &str) -> HttpRequest {
    HttpRequest::new(method, path)
        .header("host", "shop.example")
        .ip("203.0.113.7".parse().unwrap())
}

#[test]
fn first_requirements_answer_before_cors_limits_authentication_and_input() {
    let e = engine("production");
    // Anonymous, bad input, over http: the redirect, not 401 or 400.
    let d = e.check_http(&req("POST", "/api/x?a=1").input("n", 0.0));
    assert_eq!(d.status, 301);
    assert_eq!(
        d.location.as_deref(),
        Some("https://shop.example/api/x?a=1")
    );
    assert_eq!(d.rules, ["p.warden:7"]);
    assert_eq!(d.header("www-authenticate"), None);
    // A preflight over http: redirected too (the seed's middleware runs first).
    let pre = req("OPTIONS", "/api/x")
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST");
    assert_eq!(e.check_http(&pre).status, 301);
    // An unlisted origin over http: the redirect still comes first.
    let d = e.check_http(&req("GET", "/api/x").header("origin", "https://evil.example"));
    assert_eq!(d.status, 301);
    // None of that spent quota: two requests over https are admitted, the third is not.
    let https = |r: HttpRequest| r.header("x-forwarded-proto", "https");
    let someone = Principal::new("u1");
    for _ in 0..2 {
        let d =
            e.check_http(&https(req("POST", "/api/x").input("n", 1.0)).principal(someone.clone()));
        assert_eq!(d.status, 200);
    }
    let d = e.check_http(&https(req("POST", "/api/x").input("n", 1.0)).principal(someone));
    assert_eq!(d.status, 429);
    // Over https the usual order resumes: 401 for an anonymous caller.
    let e = engine("production");
    assert_eq!(e.check_http(&https(req("GET", "/api/x"))).status, 401);
}

#[test]
fn public_cuts_no_first_requirement_and_more_specific_routes_go_first() {
    let e = engine("production");
    // `/api/open` is public, yet the catch-all's redirect applies; its own `first`
    // line is tested before the catch-all's (most specific route first).
    let d = e.check_http(&req("GET", "/api/open"));
    assert_eq!(d.status, 301);
    let d = e.check_http(&req("DELETE", "/api/open"));
    assert_eq!(d.status, 405);
    assert_eq!(d.rules, ["p.warden:16"]);
    let (d, trace) = e.explain_http(&req("DELETE", "/api/open"));
    assert_eq!(d.status, 405);
    let kinds: Vec<(&str, &str)> = trace
        .requirements
        .iter()
        .map(|r| (r.kind, r.value))
        .collect();
    assert_eq!(kinds, [("first", "false")]);
    assert!(trace.limits.is_empty(), "no limit was counted: {trace:?}");
    // Outside production the redirect's condition holds.
    let e = engine("development");
    assert_eq!(e.check_http(&req("GET", "/api/open")).status, 200);
}

#[test]
fn unlisted_origins_are_refused_before_limits_and_authentication() {
    let e = engine("development");
    for origin in [
        "https://evil.example",
        "null",
        "https://shop.example.evil.example",
    ] {
        let d = e.check_http(&req("GET", "/api/x").header("origin", origin));
        assert_eq!(d.status, 403, "{origin}");
        assert!(!d.allowed);
        assert_eq!(d.header("access-control-allow-origin"), None);
        assert_eq!(d.header("vary"), Some("Origin"));
    }
    // No quota was spent: the limit still admits two.
    for _ in 0..2 {
        let d = e.check_http(&req("GET", "/api/open"));
        assert_eq!(d.status, 200);
    }
    // A listed origin (any case) and no origin at all go on as before.
    let e = engine("development");
    let d = e.check_http(&req("GET", "/api/open").header("origin", "HTTPS://SHOP.EXAMPLE"));
    assert_eq!(d.status, 200);
    assert_eq!(
        d.header("access-control-allow-origin"),
        Some("HTTPS://SHOP.EXAMPLE")
    );
    assert_eq!(e.check_http(&req("GET", "/api/open")).status, 200);
    // Preflights from unlisted origins stay 403, from listed ones 204.
    let pre = |o: &str| {
        req("OPTIONS", "/api/x")
            .header("origin", o)
            .header("access-control-request-method", "POST")
    };
    assert_eq!(e.check_http(&pre("https://evil.example")).status, 403);
    assert_eq!(e.check_http(&pre("https://shop.example")).status, 204);
}

/// `refuse_unlisted: 500`: what an Express app whose `cors` origin callback errors
/// answers (the error reaches Express's default handler): every request from an
/// unlisted origin, preflights included, before limits and authentication.
#[test]
fn refuse_unlisted_answers_the_status_it_names() {
    let src = POLICY.replace("  refuse_unlisted: true\n", "  refuse_unlisted: 500\n");
    let e = Engine::from_source("p.warden", &src, Options::default()).unwrap();
    let d = e.check_http(&req("GET", "/api/x").header("origin", "https://evil.example"));
    assert_eq!((d.allowed, d.status), (false, 500));
    assert_eq!(d.header("access-control-allow-origin"), None);
    let pre = req("OPTIONS", "/api/x")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST");
    assert_eq!(e.check_http(&pre).status, 500);
    // Listed origins and requests without one are decided as before.
    let ok = req("GET", "/api/open").header("origin", "https://shop.example");
    assert_eq!(e.check_http(&ok).status, 200);
    assert_eq!(e.check_http(&req("GET", "/api/x")).status, 401);
    // The same with `true`: 403, preflights too.
    let e = engine("development");
    assert_eq!(e.check_http(&pre).status, 403);
}

#[test]
fn without_refuse_unlisted_an_unlisted_origin_is_served_without_cors_headers() {
    let src = POLICY.replace("  refuse_unlisted: true\n", "");
    let e = Engine::from_source("p.warden", &src, Options::default()).unwrap();
    let d = e.check_http(&req("GET", "/api/open").header("origin", "https://evil.example"));
    assert_eq!(d.status, 200);
    assert_eq!(d.header("access-control-allow-origin"), None);
}

const SECRET: &str = "test-jwt-secret-0123456789abcdefghijklmnop";
const NOW: u64 = 1_800_000_000;

const OIDC: &str = r#"policy p
principal { id: string, roles: set<role> }
auth jwt {
  algorithms: HS256
  keys: secret(JWT_SECRET)
  issuer: config(OIDC_ISSUER)
  audience: config(OIDC_AUDIENCE), "legacy-client"
}
"#;

fn oidc(config: &[(&str, &str)]) -> Result<Engine, Vec<warden_lang::Diagnostic>> {
    let mut o = Options::default()
        .secret("JWT_SECRET", SECRET)
        .clock(std::sync::Arc::new(ManualClock::new(NOW * 1_000_000)));
    o.secrets_from_env = false;
    for (k, v) in config {
        o = o.config(*k, *v);
    }
    Engine::from_source("p.warden", OIDC, o).map_err(|e| e.diagnostics)
}

fn token(iss: &str, aud: &str) -> HttpRequest {
    let claims = json!({ "sub": "u1", "iss": iss, "aud": aud, "exp": NOW + 60 });
    let t = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    HttpRequest::new("GET", "/").header("authorization", format!("Bearer {t}"))
}

#[test]
fn issuer_and_audience_come_from_settings() {
    let e = oidc(&[
        ("OIDC_ISSUER", "https://sso.example/realms/app"),
        ("OIDC_AUDIENCE", "app-api"),
    ])
    .unwrap();
    let ok = |r: HttpRequest| matches!(e.authenticate(&r), Authn::Principal { .. });
    assert!(ok(token("https://sso.example/realms/app", "app-api")));
    assert!(ok(token("https://sso.example/realms/app", "legacy-client")));
    for (iss, aud) in [
        ("https://sso.example/realms/other", "app-api"),
        ("https://sso.example/realms/app", "another-client"),
        ("", "app-api"),
    ] {
        assert_eq!(
            e.authenticate(&token(iss, aud)),
            Authn::Failed(AuthFailure::InvalidToken),
            "{iss} {aud}"
        );
    }
}

#[test]
fn an_unset_or_empty_issuer_setting_fails_the_load_by_name() {
    let d = oidc(&[("OIDC_AUDIENCE", "app-api")]).unwrap_err();
    assert!(
        d.iter()
            .any(|d| d.code == "missing-config" && d.message.contains("OIDC_ISSUER")),
        "{d:?}"
    );
    let d = oidc(&[("OIDC_ISSUER", "  "), ("OIDC_AUDIENCE", "app-api")]).unwrap_err();
    assert!(
        d.iter()
            .any(|d| d.code == "invalid-config" && d.message.contains("OIDC_ISSUER")),
        "{d:?}"
    );
}
