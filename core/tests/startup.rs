//! Startup checks at load: short or placeholder secrets in production stop the engine,
//! every failed check is listed at its line, development still loads, and the messages
//! name secrets but never show them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use warden::{Engine, Options};

const POLICY: &str = r#"policy app
cors {
  origins: "http://localhost:3000" if env != "production"
  origins: "https://app.example.com" if env == "staging"
}
startup {
  require secret(JWT_SECRET).len >= 32 if env == "production"
    because "JWT_SECRET must be at least 32 characters in production"
  require secret(JWT_SECRET) != "dev-secret-key" if env == "production"
  require cors_origins().len > 0 if env != "development"
    because "in production, CORS origins must be set"
  require not "*" in cors_origins()
}
"#;

fn opts(env: &str, secret: &str) -> Options {
    let mut o = Options::default().env(env).secret("JWT_SECRET", secret);
    o.secrets_from_env = false;
    o
}

#[test]
fn placeholder_secret_in_production_lists_every_failed_check() {
    let err = Engine::from_source("app.warden", POLICY, opts("production", "dev-secret-key"))
        .unwrap_err();
    assert_eq!(
        err.codes(),
        vec![
            "startup-check-failed",
            "startup-check-failed",
            "startup-check-failed"
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains(
            "app.warden:7:3: error: JWT_SECRET must be at least 32 characters in production"
        ),
        "{text}"
    );
    assert!(
        text.contains("app.warden:9:3: error: startup check failed: `secret(JWT_SECRET) != \"dev-secret-key\"`"),
        "{text}"
    );
    assert!(
        text.contains("app.warden:10:3: error: in production, CORS origins must be set"),
        "{text}"
    );
}

#[test]
fn short_secret_fails_only_the_length_check() {
    let err = Engine::from_source(
        "app.warden",
        POLICY,
        opts("production", "short-but-not-default"),
    )
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.diagnostics.len(), 2, "{text}");
    assert_eq!(
        err.diagnostics[0].message,
        "JWT_SECRET must be at least 32 characters in production"
    );
    assert!(
        !text.contains("short-but-not-default"),
        "the value is never shown: {text}"
    );
}

#[test]
fn development_loads_with_the_placeholder() {
    Engine::from_source("app.warden", POLICY, opts("development", "dev-secret-key")).unwrap();
}

#[test]
fn staging_with_origins_and_a_strong_secret_loads() {
    let strong = "0123456789abcdef0123456789abcdef-strong";
    Engine::from_source("app.warden", POLICY, opts("staging", strong)).unwrap();
    // The same secret in production has no origin configured.
    let err = Engine::from_source("app.warden", POLICY, opts("production", strong)).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    assert_eq!(
        err.diagnostics[0].message,
        "in production, CORS origins must be set"
    );
}

#[test]
fn a_wildcard_origin_fails_its_check() {
    let src = POLICY.replace("\"http://localhost:3000\"", "\"*\"");
    let err = Engine::from_source("app.warden", &src, opts("development", "dev")).unwrap_err();
    assert_eq!(err.codes(), vec!["startup-check-failed"]);
    assert!(err.to_string().contains("app.warden:12:3"), "{err}");
}

#[test]
fn failed_checks_and_missing_auth_keys_are_reported_together() {
    let src = format!("{POLICY}principal {{ id: string }}\nauth api_key {{\n  key secret(CLIENT_API_KEY) as {{ id: \"client\" }}\n}}\n");
    let err =
        Engine::from_source("app.warden", &src, opts("production", "dev-secret-key")).unwrap_err();
    let codes = err.codes();
    assert!(codes.contains(&"missing-secret"), "{codes:?}");
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "startup-check-failed")
            .count(),
        3
    );
}

const OPTIONAL: &str = r#"policy app
route /cron/** {
  public
  require header authorization == "Bearer " + secret(CRON_SECRET)? else 401
}
startup {
  require secret(STRIPE_KEY)? starts_with "sk_test_" if env != "production"
    because "use Stripe test keys outside production"
}
"#;

#[test]
fn optional_secrets_left_unset_load_and_skip_their_checks() {
    let mut o = Options::default().env("development");
    o.secrets_from_env = false;
    assert!(Engine::from_source("app.warden", OPTIONAL, o).is_ok());
}

#[test]
fn an_optional_secret_that_is_set_is_checked() {
    let mut o = Options::default()
        .env("development")
        .secret("STRIPE_KEY", "sk_live_123");
    o.secrets_from_env = false;
    let err = Engine::from_source("app.warden", OPTIONAL, o).unwrap_err();
    assert_eq!(err.codes(), vec!["startup-check-failed"]);
    assert!(!err.to_string().contains("sk_live_123"));
    let mut o = Options::default()
        .env("development")
        .secret("STRIPE_KEY", "sk_test_123");
    o.secrets_from_env = false;
    assert!(Engine::from_source("app.warden", OPTIONAL, o).is_ok());
}

#[test]
fn a_required_secret_left_unset_is_still_a_load_error() {
    let text = OPTIONAL.replace("secret(CRON_SECRET)?", "secret(CRON_SECRET)");
    let mut o = Options::default().env("development");
    o.secrets_from_env = false;
    let err = Engine::from_source("app.warden", &text, o).unwrap_err();
    assert_eq!(err.codes(), vec!["missing-secret"]);
}

const SETTINGS: &str = r#"policy app
startup {
  require config(SMTP_SECURE) == "true" if env == "production"
    because "SMTP uses a verified TLS connection"
}
"#;

#[test]
fn config_settings_are_read_at_load_and_required() {
    let opts = |v: Option<&str>| {
        let mut o = Options::default().env("production");
        o.secrets_from_env = false;
        match v {
            Some(v) => o.config("SMTP_SECURE", v),
            None => o,
        }
    };
    assert!(Engine::from_source("app.warden", SETTINGS, opts(Some("true"))).is_ok());
    let err = Engine::from_source("app.warden", SETTINGS, opts(Some("false"))).unwrap_err();
    assert_eq!(err.codes(), vec!["startup-check-failed"]);
    let err = Engine::from_source("app.warden", SETTINGS, opts(None)).unwrap_err();
    assert_eq!(err.codes(), vec!["missing-config"]);
    assert!(err.to_string().contains("SMTP_SECURE"));
}
