//! `check_http` end to end: requirements and their statuses, redirects, path
//! normalisation bypass attempts, security headers with route overrides, CORS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

use std::sync::Arc;
use support::{CountingStore, CRON, POLICY};
use warden::{Engine, HttpDecision, HttpRequest, Options, Principal};

fn engine_in(env: &str) -> Engine {
    let options = Options::default()
        .env(env)
        .secret("CRON_SECRET", CRON)
        .store(Arc::new(CountingStore::default()));
    Engine::from_source("app.warden", POLICY, options).unwrap()
}

fn engine() -> Engine {
    engine_in("development")
}

fn get(path: &str) -> HttpRequest {
    HttpRequest::new("GET", path).ip("203.0.113.7".parse().unwrap())
}

fn user(roles: &[&str]) -> Principal {
    roles
        .iter()
        .fold(Principal::new("u1"), |p, r| p.role(*r))
        .attr("org", "o1")
}

fn status(d: &HttpDecision<'_>) -> u16 {
    d.status
}

#[test]
fn unmatched_paths_are_allowed_with_security_headers() {
    let e = engine();
    let d = e.check_http(&get("/"));
    assert!(d.allowed);
    assert_eq!(d.status, 200);
    assert_eq!(d.route, None);
    assert_eq!(d.header("x-frame-options"), Some("DENY"));
    assert_eq!(d.header("x-content-type-options"), Some("nosniff"));
    // development: the HSTS line is folded away.
    assert_eq!(d.header("strict-transport-security"), None);
    let prod = engine_in("production");
    let p = prod.check_http(&get("/"));
    assert_eq!(
        p.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[test]
fn require_auth_answers_401_with_a_bearer_challenge() {
    let e = engine();
    let d = e.check_http(&get("/api/users"));
    assert!(!d.allowed);
    assert_eq!(d.status, 401);
    assert_eq!(d.header("www-authenticate"), Some("Bearer"));
    assert_eq!(d.reason.as_deref(), Some("authentication required"));
    assert_eq!(d.rules, vec!["app.warden:25"]);
    assert_eq!(d.route.map(|r| r.pattern), Some("/api/**"));
    let ok = e.check_http(&get("/api/users").principal(user(&["viewer"])));
    assert!(ok.allowed, "{ok:?}");
    assert_eq!(ok.status, 200);
}

#[test]
fn role_requirement_adds_to_the_ancestors_and_answers_403() {
    let e = engine();
    // Anonymous: the ancestor's `require auth` comes first.
    assert_eq!(status(&e.check_http(&get("/api/admin/users"))), 401);
    let d = e.check_http(&get("/api/admin/users").principal(user(&["editor"])));
    assert_eq!(d.status, 403);
    assert_eq!(d.reason.as_deref(), Some("requires role admin"));
    assert_eq!(d.rules, vec!["app.warden:32"]);
    assert!(
        e.check_http(&get("/api/admin/users").principal(user(&["admin"])))
            .allowed
    );
    // Methods: the admin route lists GET and POST; DELETE only meets `/api/**`.
    let del = HttpRequest::new("DELETE", "/api/admin/users").principal(user(&["viewer"]));
    assert!(e.check_http(&del).allowed);
    // HEAD matches GET routes.
    let head = HttpRequest::new("HEAD", "/api/admin/users").principal(user(&["viewer"]));
    assert_eq!(e.check_http(&head).status, 403);
}

#[test]
fn public_cuts_ancestor_requirements() {
    let e = engine();
    let login = HttpRequest::new("POST", "/api/auth/login").ip("203.0.113.7".parse().unwrap());
    let d = e.check_http(&login);
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.route.map(|r| r.pattern), Some("/api/auth/login"));
    // GET is not in the public route's methods: `/api/**` applies.
    assert_eq!(e.check_http(&get("/api/auth/login")).status, 401);
}

#[test]
fn redirects_expand_path_and_query_url_encoded() {
    let e = engine();
    let d = e.check_http(&get("/dashboard/stats?tab=1&x=a b"));
    assert_eq!(d.status, 302);
    assert!(!d.allowed);
    let want = "/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1%26x%3Da%20b";
    assert_eq!(d.location.as_deref(), Some(want));
    assert_eq!(d.header("location"), Some(want));
    // The normalised path is what is sent back, never an injected scheme or host.
    let d = e.check_http(&get("/profile/me/"));
    assert_eq!(
        d.location.as_deref(),
        Some("/login?callbackUrl=%2Fprofile%2Fme")
    );
    assert!(
        e.check_http(&get("/dashboard").principal(user(&[])))
            .allowed
    );
}

#[test]
fn header_requirement_with_secret_and_status() {
    let e = engine();
    let cron = |auth: Option<&str>| {
        let mut r = HttpRequest::new("POST", "/api/cron/nightly");
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        e.check_http(&r)
    };
    assert!(cron(Some(&format!("Bearer {CRON}"))).allowed);
    let bad = cron(Some("Bearer wrong"));
    assert_eq!(bad.status, 401);
    assert!(bad.rules == vec!["app.warden:38"], "{:?}", bad.rules);
    // A missing header is missing: the requirement fails.
    assert_eq!(cron(None).status, 401);
    // The secret never shows in the decision.
    assert!(!bad.to_json().to_string().contains(CRON));
    let (_, trace) = e.explain_http(
        &HttpRequest::new("POST", "/api/cron/x").header("authorization", format!("Bearer {CRON}")),
    );
    let t = serde_json::to_string(&trace).unwrap();
    assert!(!t.contains(CRON), "{t}");
}

#[test]
fn input_requirements_use_their_declared_statuses() {
    let e = engine();
    let presign = |size: f64, prefix: &str| {
        e.check_http(
            &HttpRequest::new("POST", "/api/files/presign")
                .principal(user(&[]))
                .input("size", size)
                .input("prefix", prefix),
        )
    };
    assert!(presign(1024.0, "avatars/u1").allowed);
    let big = presign(600.0 * 1024.0 * 1024.0, "a");
    assert_eq!(big.status, 413);
    assert_eq!(big.rules, vec!["app.warden:41"]);
    assert_eq!(presign(10.0, "../etc").status, 400);
    assert_eq!(presign(10.0, "a b").status, 400);
    // Missing input fails the requirement (fail closed).
    let none = e.check_http(&HttpRequest::new("POST", "/api/files/presign").principal(user(&[])));
    assert_eq!(none.status, 413);
}

#[test]
fn request_ip_requirement() {
    let e = engine();
    let inside = get("/internal/x").ip("10.0.0.1".parse().unwrap());
    assert!(e.check_http(&inside).allowed);
    assert_eq!(e.check_http(&get("/internal/x")).status, 404);
    assert_eq!(
        e.check_http(&HttpRequest::new("GET", "/internal/x")).status,
        404
    );
}

#[test]
fn path_normalisation_bypass_attempts_meet_the_admin_requirement() {
    let e = engine();
    let editor = user(&["editor"]);
    for path in ["/api/admin/users", "/api/admin/users/", "/api/admin"] {
        let d = e.check_http(&get(path).principal(editor.clone()));
        assert_eq!(d.status, 403, "{path}: {d:?}");
        assert_eq!(d.route.map(|r| r.pattern), Some("/api/admin/**"), "{path}");
    }
    // The path rule: spellings routers read differently are refused, never resolved.
    for path in [
        "/api/%61dmin/users",
        "/api//admin/users",
        "/api/./admin/users",
        "/x/../api/admin/users",
        "/API/ADMIN/users",
        "/Api/Admin",
        "\\api\\admin\\users",
        "/api/admin/users/.",
        "/api/x/%2e%2e/admin/users",
    ] {
        let d = e.check_http(&get(path).principal(editor.clone()));
        assert_eq!(d.status, 400, "{path}: {d:?}");
    }
    for path in [
        "/api/admin%2Fusers",
        "/api%2fadmin",
        "/a%zz",
        "/a%00",
        "/a%0d%0a",
    ] {
        let d = e.check_http(&get(path).principal(editor.clone()));
        assert_eq!(d.status, 400, "{path}: {d:?}");
        assert!(!d.allowed);
        // Refusals still carry the security headers.
        assert_eq!(d.header("x-frame-options"), Some("DENY"));
    }
}

#[test]
fn route_header_overrides_apply_on_docs_only() {
    let e = engine();
    let docs = e.check_http(&get("/docs/intro"));
    assert!(docs.allowed);
    assert_eq!(
        docs.header("content-security-policy"),
        Some("default-src 'self'; script-src 'self' 'unsafe-inline'")
    );
    assert_eq!(docs.header("x-frame-options"), None);
    assert_eq!(docs.remove, vec!["x-powered-by", "x-frame-options"]);
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
    let other = e.check_http(&get("/about"));
    assert_eq!(
        other.header("content-security-policy"),
        Some("default-src 'self'")
    );
    assert_eq!(other.remove, vec!["x-powered-by"]);
    let j = docs.to_json();
    assert_eq!(
        j["remove"],
        serde_json::json!(["x-powered-by", "x-frame-options"])
    );
    assert_eq!(j["headers"]["x-content-type-options"], "nosniff");
    assert!(j["headers"].get("x-frame-options").is_none());
}

#[test]
fn all_header_names_are_lower_case() {
    let e = engine();
    for d in [
        e.check_http(&get("/docs/x").header("Origin", "https://app.example.com")),
        e.check_http(&get("/api/x")),
        e.check_http(&get("/dashboard")),
    ] {
        for (n, _) in &d.headers {
            assert_eq!(n.to_ascii_lowercase(), **n);
        }
    }
}

#[test]
fn cors_allowed_origin_gets_cors_headers() {
    let e = engine();
    let d = e.check_http(&get("/about").header("Origin", "https://app.example.com"));
    assert_eq!(
        d.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(d.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        d.header("access-control-expose-headers"),
        Some("X-Request-Id")
    );
    assert_eq!(d.header("vary"), Some("Origin"));
}

#[test]
fn cors_disallowed_origin_never_gets_allow_origin() {
    let e = engine();
    let d = e.check_http(&get("/about").header("Origin", "https://evil.example"));
    assert!(d.allowed);
    assert_eq!(d.header("access-control-allow-origin"), None);
    assert_eq!(d.header("access-control-allow-credentials"), None);
    assert_eq!(d.header("vary"), Some("Origin"));
    let pre = e.check_http(
        &HttpRequest::new("OPTIONS", "/api/x")
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "POST"),
    );
    assert_eq!(pre.status, 403);
    assert!(!pre.allowed);
    assert!(pre
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("access-control-")));
}

#[test]
fn cors_preflight_from_an_allowed_origin_is_answered_204() {
    let e = engine();
    let pre = HttpRequest::new("OPTIONS", "/api/admin/x")
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST");
    let d = e.check_http(&pre);
    assert!(d.allowed);
    assert_eq!(d.status, 204);
    assert_eq!(
        d.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(d.header("access-control-allow-methods"), Some("GET, POST"));
    assert_eq!(
        d.header("access-control-allow-headers"),
        Some("Content-Type, Authorization")
    );
    assert_eq!(d.header("access-control-max-age"), Some("3600"));
    assert_eq!(d.header("x-frame-options"), Some("DENY"));
    // An OPTIONS without Access-Control-Request-Method is an ordinary request.
    let plain = HttpRequest::new("OPTIONS", "/api/x").header("Origin", "https://app.example.com");
    assert_eq!(e.check_http(&plain).status, 401);
}

#[test]
fn cors_origins_depend_on_env() {
    let local = get("/about").header("Origin", "http://localhost:3000");
    let dev = engine_in("development");
    assert_eq!(
        dev.check_http(&local).header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let prod = engine_in("production");
    assert_eq!(
        prod.check_http(&local)
            .header("access-control-allow-origin"),
        None
    );
    let app = get("/x").header("Origin", "https://app.example.com");
    assert_eq!(
        prod.check_http(&app).header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
}

#[test]
fn wildcard_origin_without_credentials_answers_star() {
    let policy = "policy p\ncors {\n  origins: \"*\"\n  methods: GET\n}\n";
    let e = Engine::from_source("p.warden", policy, Options::default()).unwrap();
    let d = e.check_http(&get("/").header("Origin", "https://any.example"));
    assert_eq!(d.header("access-control-allow-origin"), Some("*"));
    assert_eq!(d.header("vary"), None);
}

#[test]
fn decision_json_has_the_contract_fields() {
    let e = engine();
    let j = e.check_http(&get("/api/x")).to_json();
    for k in [
        "allowed", "status", "reason", "rules", "headers", "location", "route", "remove",
    ] {
        assert!(j.get(k).is_some(), "{k} in {j}");
    }
    assert_eq!(j["allowed"], false);
    assert_eq!(j["status"], 401);
    assert_eq!(j["rules"], serde_json::json!(["app.warden:25"]));
    assert_eq!(j["route"]["pattern"], "/api/**");
    assert_eq!(j["route"]["rule"], "app.warden:24");
}

#[test]
fn explain_lists_routes_requirements_and_reads() {
    let e = engine();
    let (d, t) = e.explain_http(&get("/api/admin/x").principal(user(&["editor"])));
    assert_eq!(d.status, 403);
    assert_eq!(t.path, "/api/admin/x");
    let pats: Vec<_> = t.routes.iter().map(|r| r.pattern.as_str()).collect();
    assert_eq!(pats, vec!["/api/admin/**", "/api/**"]);
    let kinds: Vec<_> = t.requirements.iter().map(|r| (r.kind, r.value)).collect();
    assert_eq!(kinds, vec![("auth", "true"), ("role", "false")]);
    assert_eq!(t.principal, "host");
    assert_eq!(t.limits.len(), 1);
    assert_eq!(t.limits[0].key, "203.0.113.7");
}

#[test]
fn cookie_requirements_read_one_cookie_by_exact_name() {
    let policy = "policy app\nroute POST /refresh {\n  require cookie refreshToken matches /^\\S+$/ else 401\n}\n";
    let e = Engine::from_source("app.warden", policy, Options::default()).unwrap();
    let refresh = |cookies: &[&str]| {
        let r = cookies
            .iter()
            .fold(HttpRequest::new("POST", "/refresh"), |r, c| {
                r.header("Cookie", *c)
            });
        e.check_http(&r).status
    };
    assert_eq!(refresh(&["theme=dark; refreshToken=abc"]), 200);
    assert_eq!(refresh(&["theme=dark", "refreshToken=\"abc\""]), 200);
    assert_eq!(refresh(&[]), 401);
    assert_eq!(
        refresh(&["refreshtoken=abc"]),
        401,
        "names are case-sensitive"
    );
    assert_eq!(refresh(&["xrefreshToken=abc"]), 401);
    let (_, trace) = e.explain_http(
        &HttpRequest::new("POST", "/refresh").header("Cookie", "refreshToken=s3cr3t"),
    );
    assert!(!format!("{trace:?}").contains("s3cr3t"));
}

#[test]
fn subset_of_refuses_unknown_body_properties() {
    let policy = "policy app\nroute POST /login {\n  require input.fields subset_of [\"email\", \"password\"] else 400\n}\n";
    let e = Engine::from_source("app.warden", policy, Options::default()).unwrap();
    let list = |xs: &[&str]| warden::Value::List(xs.iter().map(|x| (*x).into()).collect());
    let login = |fields: warden::Value| {
        let r = HttpRequest::new("POST", "/login").input("fields", fields);
        e.check_http(&r).status
    };
    assert_eq!(login(list(&["email", "password"])), 200);
    assert_eq!(login(list(&["password"])), 200);
    assert_eq!(login(list(&[])), 200);
    assert_eq!(login(list(&["email", "role"])), 400);
    assert_eq!(
        login(warden::Value::from("email")),
        400,
        "not a list: missing"
    );
    let r = HttpRequest::new("POST", "/login");
    assert_eq!(e.check_http(&r).status, 400, "absent: missing");
}

#[test]
fn traces_show_header_and_cookie_reads_as_present_never_their_values() {
    let e = Engine::from_source(
        "t.warden",
        "policy t\n\
         route /api/** {\n  require header x-api-key starts_with \"k-\" and cookie sid != \"\" else 401\n}\n",
        Options::default(),
    )
    .unwrap();
    let req = get("/api/x")
        .header("x-api-key", "k-secret-77")
        .header("cookie", "sid=session-value-9");
    let (d, trace) = e.explain_http(&req);
    assert_eq!(status(&d), 200);
    let text = serde_json::to_string(&trace).unwrap();
    assert!(text.contains("<redacted>"), "{text}");
    assert!(!text.contains("k-secret-77"), "{text}");
    assert!(!text.contains("session-value-9"), "{text}");
    let (_, trace) = e.explain_http(&get("/api/x"));
    let text = serde_json::to_string(&trace).unwrap();
    assert!(text.contains("missing"), "{text}");
}
