//! The `auth` blocks through `Engine::check_http`: 401 with `WWW-Authenticate` and the
//! reason code, redirects for browsers, roles (403) after a JWT or API key
//! authenticated the caller, and the host's own principal taking precedence.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use warden::{Engine, HttpRequest, ManualClock, Options, Principal};

const SECRET: &str = "test-jwt-secret-for-examples-0123456789abcdef";
const PREVIOUS: &str = "test-jwt-secret-previous-for-examples-98765";
/// 2026-01-01T00:00:00Z, the test files' default start.
const NOW: u64 = 1_767_225_600;

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn jwt_engine() -> Engine {
    let mut o = Options::default()
        .secret("JWT_SECRET", SECRET)
        .secret("JWT_SECRET_PREVIOUS", PREVIOUS)
        .clock(std::sync::Arc::new(ManualClock::new(NOW * 1_000_000)));
    o.secrets_from_env = false;
    Engine::from_file(example("08-jwt-auth.warden"), o).unwrap()
}

fn token(secret: &str, claims: serde_json::Value) -> String {
    let mut c =
        json!({ "iss": "https://auth.example.com", "aud": "notes-api", "exp": 4_102_444_800u64 });
    for (k, v) in claims.as_object().unwrap() {
        c[k] = v.clone();
    }
    encode(
        &Header::new(Algorithm::HS256),
        &c,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn get(path: &str, token: Option<&str>) -> HttpRequest {
    let r = HttpRequest::new("GET", path);
    match token {
        Some(t) => r.header("authorization", format!("Bearer {t}")),
        None => r,
    }
}

fn header<'d>(d: &'d warden::http::HttpDecision<'_>, name: &str) -> Option<&'d str> {
    d.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_ref())
}

#[test]
fn valid_token_passes_and_names_its_key() {
    let e = jwt_engine();
    let user = token(SECRET, json!({ "sub": "u1", "role": "user", "org": "o1" }));
    let d = e.check_http(&get("/api/notes", Some(&user)));
    assert_eq!(d.status, 200, "{d:?}");
    assert_eq!(d.authenticated_by.as_deref(), Some("jwt:JWT_SECRET"));
    let old = token(
        PREVIOUS,
        json!({ "sub": "u2", "role": "user", "org": "o1" }),
    );
    let d = e.check_http(&get("/api/notes", Some(&old)));
    assert_eq!(d.status, 200);
    assert_eq!(
        d.authenticated_by.as_deref(),
        Some("jwt:JWT_SECRET_PREVIOUS")
    );
}

#[test]
fn refused_credentials_are_401_with_a_challenge_and_a_reason() {
    let e = jwt_engine();
    let expired = token(
        SECRET,
        json!({ "sub": "u1", "role": "user", "exp": NOW - 600 }),
    );
    let forged = token(
        "not-the-secret-at-all-0123456789abcdef",
        json!({ "sub": "u1", "role": "admin" }),
    );
    let cases = [
        // No credentials at all, with `auth` blocks to present them to.
        (None, "missing_token", "Bearer"),
        (
            Some(expired.as_str()),
            "token_expired",
            "Bearer error=\"invalid_token\", error_description=\"token_expired\"",
        ),
        (
            Some(forged.as_str()),
            "invalid_token",
            "Bearer error=\"invalid_token\", error_description=\"invalid_token\"",
        ),
        (
            Some("garbage"),
            "invalid_token",
            "Bearer error=\"invalid_token\", error_description=\"invalid_token\"",
        ),
    ];
    for (tok, reason, challenge) in cases {
        let d = e.check_http(&get("/api/notes", tok));
        assert_eq!(d.status, 401, "{reason}: {d:?}");
        assert_eq!(d.reason.as_deref(), Some(reason));
        assert_eq!(header(&d, "www-authenticate"), Some(challenge), "{reason}");
        if let Some(t) = tok {
            assert!(!format!("{d:?}").contains(t), "the token is never echoed");
        }
    }
}

#[test]
fn a_refused_token_still_redirects_a_browser() {
    let e = jwt_engine();
    let expired = token(
        SECRET,
        json!({ "sub": "u1", "role": "user", "exp": NOW - 600 }),
    );
    for tok in [None, Some(expired.as_str())] {
        let d = e.check_http(&get("/dashboard/notes?tab=2", tok));
        assert_eq!(d.status, 302, "{d:?}");
        assert_eq!(
            d.location.as_deref(),
            Some("/login?callbackUrl=%2Fdashboard%2Fnotes%3Ftab%3D2")
        );
    }
    let user = token(SECRET, json!({ "sub": "u1", "role": "user", "org": "o1" }));
    assert_eq!(
        e.check_http(&get("/dashboard/notes", Some(&user))).status,
        200
    );
}

#[test]
fn roles_from_the_token_decide_403() {
    let e = jwt_engine();
    let user = token(SECRET, json!({ "sub": "u1", "role": "user", "org": "o1" }));
    let admin = token(
        SECRET,
        json!({ "sub": "a1", "roles": ["admin"], "org": "o1" }),
    );
    assert_eq!(
        e.check_http(&get("/api/admin/users", Some(&user))).status,
        403
    );
    assert_eq!(
        e.check_http(&get("/api/admin/users", Some(&admin))).status,
        200
    );
    // A role the policy does not declare opens nothing.
    let odd = token(
        SECRET,
        json!({ "sub": "x", "role": "superadmin", "org": "o1" }),
    );
    assert_eq!(
        e.check_http(&get("/api/admin/users", Some(&odd))).status,
        403
    );
}

#[test]
fn the_host_principal_wins_over_credentials() {
    let e = jwt_engine();
    let req =
        get("/api/admin/users", Some("garbage")).principal(Principal::new("a1").role("admin"));
    let d = e.check_http(&req);
    assert_eq!(d.status, 200, "{d:?}");
    assert_eq!(d.authenticated_by, None);
}

#[test]
fn api_keys_through_check_http() {
    let mut o = Options::default()
        .secret("REPORTING_KEY", "test-reporting-key-new-0123456789")
        .secret(
            "REPORTING_KEY_PREVIOUS",
            "test-reporting-key-old-9876543210",
        )
        .secret("INGEST_KEY", "test-ingest-key-0123456789abcdef");
    o.secrets_from_env = false;
    let e = Engine::from_file(example("07-api-keys.warden"), o).unwrap();
    let req = |path: &str, key: &str| {
        let r = HttpRequest::new("GET", path);
        if key.is_empty() {
            r
        } else {
            r.header("x-api-key", key)
        }
    };
    let d = e.check_http(&req(
        "/api/reports/daily",
        "test-reporting-key-old-9876543210",
    ));
    assert_eq!(
        (d.status, d.authenticated_by.as_deref()),
        (200, Some("api_key:REPORTING_KEY_PREVIOUS"))
    );
    let d = e.check_http(&req(
        "/api/reports/daily",
        "test-ingest-key-0123456789abcdef",
    ));
    assert_eq!(d.status, 403);
    let d = e.check_http(&req(
        "/api/reports/daily",
        "test-reporting-key-new-0123456788",
    ));
    assert_eq!(
        (d.status, d.reason.as_deref()),
        (401, Some("invalid_api_key"))
    );
    let d = e.check_http(&req("/api/reports/daily", ""));
    assert_eq!(
        (d.status, d.reason.as_deref()),
        (401, Some("missing_token"))
    );
    assert_eq!(e.check_http(&req("/health", "")).status, 200);
}

#[test]
fn example_startup_checks_refuse_placeholders_in_production() {
    let opts = |env: &str, auth: &str| {
        let mut o = Options::default()
            .env(env)
            .secret("AUTH_SECRET", auth)
            .secret("CRON_SECRET", "test-cron-secret-0123456789abcdef-long");
        o.secrets_from_env = false;
        o
    };
    let path = example("12-startup-checks.warden");
    let err = Engine::from_file(&path, opts("production", "dev-secret-key")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("12-startup-checks.warden:14:3: error: AUTH_SECRET must be at least 32 characters in production"), "{text}");
    assert!(text.contains("12-startup-checks.warden:17:3: error: AUTH_SECRET is still the development placeholder"), "{text}");
    assert_eq!(err.diagnostics.len(), 2, "{text}");
    Engine::from_file(&path, opts("development", "dev-secret-key")).unwrap();
    Engine::from_file(
        &path,
        opts("production", "test-auth-secret-0123456789abcdef-long"),
    )
    .unwrap();
}

// The verified-token cache (`Options::token_cache_size`, on by default): a token seen
// before skips its signature, and must decide exactly as a full verification would.

fn engine_at(clock: &std::sync::Arc<ManualClock>, cache: usize) -> Engine {
    let mut o = Options::default()
        .secret("JWT_SECRET", SECRET)
        .secret("JWT_SECRET_PREVIOUS", PREVIOUS)
        .clock(clock.clone())
        .token_cache_size(cache);
    o.secrets_from_env = false;
    Engine::from_file(example("08-jwt-auth.warden"), o).unwrap()
}

/// What a host sees of an authenticated decision.
fn seen(d: &warden::http::HttpDecision<'_>) -> (u16, Option<String>, Option<String>) {
    (
        d.status,
        d.reason.as_deref().map(str::to_owned),
        d.authenticated_by.clone(),
    )
}

/// Tokens of every outcome, and near misses of a valid one (same bytes but one).
fn corpus() -> Vec<String> {
    let user = token(SECRET, json!({ "sub": "u1", "role": "user", "org": "o1" }));
    let mut tampered_sig = user.clone();
    let last = tampered_sig.pop().unwrap();
    tampered_sig.push(if last == 'A' { 'B' } else { 'A' });
    let (head, rest) = user.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let admin_claims = base64_url(
        r#"{"sub":"u1","role":"admin","org":"o1","iss":"https://auth.example.com","aud":"notes-api","exp":4102444800}"#,
    );
    vec![
        user.clone(),
        token(SECRET, json!({ "sub": "a1", "role": "admin", "org": "o1" })),
        token(
            PREVIOUS,
            json!({ "sub": "u2", "role": "user", "org": "o1" }),
        ),
        token(
            SECRET,
            json!({ "sub": "u3", "role": "user", "exp": NOW + 60 }),
        ),
        token(
            SECRET,
            json!({ "sub": "u4", "role": "user", "exp": NOW - 60 }),
        ),
        token(
            SECRET,
            json!({ "sub": "u5", "role": "user", "nbf": NOW + 600 }),
        ),
        token(
            "not-the-secret-at-all-0123456789abcdef",
            json!({ "sub": "u1", "role": "admin" }),
        ),
        tampered_sig,
        // The valid token's signature over a payload that says admin.
        format!("{head}.{admin_claims}.{sig}"),
        format!("{user}x"),
        user[..user.len() - 1].to_string(),
        "garbage".to_string(),
    ]
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn a_cached_token_decides_as_a_full_verification_at_every_time() {
    let clock = std::sync::Arc::new(ManualClock::new(NOW * 1_000_000));
    let cached = engine_at(&clock, 4096);
    let full = engine_at(&clock, 0);
    let tokens = corpus();
    // Each token three times per instant, so that later ones are cache hits; the
    // instants cross `exp` of the short-lived token and `nbf` of the early one.
    for at in [NOW, NOW + 30, NOW + 89, NOW + 91, NOW + 601, NOW + 100_000] {
        clock.set(at * 1_000_000);
        for t in &tokens {
            for path in ["/api/notes", "/api/admin/users"] {
                let want = seen(&full.check_http(&get(path, Some(t))));
                for _ in 0..3 {
                    let got = seen(&cached.check_http(&get(path, Some(t))));
                    assert_eq!(got, want, "at {at}, {path}");
                }
            }
        }
    }
    // The short-lived token was admitted, then refused as expired, from the cache.
    let short = &tokens[3];
    clock.set(NOW * 1_000_000);
    assert_eq!(
        cached.check_http(&get("/api/notes", Some(short))).status,
        200
    );
    clock.set((NOW + 91) * 1_000_000);
    let d = cached.check_http(&get("/api/notes", Some(short)));
    assert_eq!(
        (d.status, d.reason.as_deref()),
        (401, Some("token_expired"))
    );
}

#[test]
fn a_cached_token_decides_the_same_under_concurrent_use() {
    let clock = std::sync::Arc::new(ManualClock::new(NOW * 1_000_000));
    let cached = std::sync::Arc::new(engine_at(&clock, 8));
    let full = engine_at(&clock, 0);
    let tokens = corpus();
    let want: Vec<_> = tokens
        .iter()
        .map(|t| seen(&full.check_http(&get("/api/admin/users", Some(t)))))
        .collect();
    // A cache far smaller than the tokens in use: entries are evicted and refilled
    // while other threads read them.
    let threads: Vec<_> = (0..8)
        .map(|k| {
            let (cached, tokens, want) = (cached.clone(), tokens.clone(), want.clone());
            std::thread::spawn(move || {
                for i in 0..300 {
                    let j = (i * 7 + k) % tokens.len();
                    let got = seen(&cached.check_http(&get("/api/admin/users", Some(&tokens[j]))));
                    assert_eq!(got, want[j], "token {j}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_reload_that_drops_a_key_refuses_tokens_the_old_policy_cached() {
    let text = std::fs::read_to_string(example("08-jwt-auth.warden")).unwrap();
    let mut o = Options::default()
        .secret("JWT_SECRET", SECRET)
        .secret("JWT_SECRET_PREVIOUS", PREVIOUS)
        .clock(std::sync::Arc::new(ManualClock::new(NOW * 1_000_000)));
    o.secrets_from_env = false;
    let warden = warden::Warden::from_source("08-jwt-auth.warden", &text, o).unwrap();
    let old = token(
        PREVIOUS,
        json!({ "sub": "u2", "role": "user", "org": "o1" }),
    );
    for _ in 0..2 {
        assert_eq!(
            warden
                .engine()
                .check_http(&get("/api/notes", Some(&old)))
                .status,
            200
        );
    }
    // The rotation is over: the previous secret leaves the policy.
    let rotated = text.replace(", secret(JWT_SECRET_PREVIOUS)?", "");
    assert_ne!(rotated, text);
    warden
        .reload_source("08-jwt-auth.warden", &rotated)
        .unwrap();
    let engine = warden.engine();
    let d = engine.check_http(&get("/api/notes", Some(&old)));
    assert_eq!(
        (d.status, d.reason.as_deref()),
        (401, Some("invalid_token"))
    );
}
