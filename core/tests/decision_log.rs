//! The decision log and metrics through the engine: one line per decision with the
//! documented fields; no credential in the log whatever concern it went through
//! (bearer JWTs, API keys, Auth.js session cookies, basic auth, webhook signatures,
//! `secret()` comparisons, a limit keyed by a credential, tokens in the path and
//! query, a Redis URL's password); a saturated sink drops and counts, never blocks;
//! sampling keeps every denial; metrics count by outcome, status, route, rule, limit,
//! store errors and reloads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value as Json};
use sha2::Sha256;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use warden::decision_log::{DecisionLog, LogConfig, LogField, Sink};
use warden::limit::{RedisOptions, RedisStore};
use warden::metrics::Metrics;
use warden::{
    Engine, HttpRequest, ManualClock, OnStoreError, Options, Principal, Request, Resource, Warden,
};

const POLICY: &str = r#"policy vault
role reader
role ADMIN > reader
principal { id: string, roles: set<role>, email: string? }
resource doc { owner: string }
grant reader: docs:read
deny docs:read on doc if resource.owner == "nobody" because "hidden doc"

limit api: 3 per 1m by header x-client ?? ip

auth jwt {
  algorithms: HS256
  keys: secret(JWT_SECRET)
}

auth api_key {
  from: header x-client
  key secret(API_KEY) as { id: "svc-reporting", roles: [reader] }
}

auth nextauth {
  keys: secret(AUTH_SECRET)
  max_age: 30d
}

route /api/** {
  require auth
  limit api
}

route GET /cron {
  public
  require header x-cron == "Bearer " + secret(CRON_SECRET) else 401
}

route POST /hooks/stripe {
  public
  require signature stripe(header Stripe-Signature, secret(WH)) tolerance 1m else 401
}

route GET /reset/:token {
  public
}
"#;

/// The engine's clock: the Auth.js token below was sealed at 1767225600.
const NOW: u64 = 1_767_225_660;
const JWT_SECRET: &str = "jwt-signing-secret-0123456789abcdefghijkl";
const API_KEY: &str = "vk_live_5ecret-api-key-0123456789abcdef";
const AUTH_SECRET: &str = "test-auth-secret-0123456789abcdef0123456789";
const CRON_SECRET: &str = "cron-secret-value-9f8e7d6c5b4a39281706";
const WH_SECRET: &str = "whsec_test_secret";
const BASIC_PASSWORD: &str = "basic-pa55word-hunter2-zyxw";
const PATH_TOKEN: &str = "rst-9f8e7d6c5b4a-path-token";
const QUERY_TOKEN: &str = "qtok-112233445566-query-token";
const CONTEXT_SECRET: &str = "ctx-secret-a1b2c3d4e5f6a7b8";
const REDIS_PASSWORD: &str = "redis-pa55-0f1e2d3c4b5a";
/// An Auth.js v5 session cookie, encrypted by `@auth/core` 0.41.3 with `AUTH_SECRET`
/// (as in `auth.rs`).
const AUTHJS_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiWGlJTFVmY2x1RjNYVHJYM1BidUhScHhvaGtNYXY2YXkxXzJ2MzJiV1BjcVoxamZhSnlpTVZOUmFTaVYxVUlUWnFfcE4zZXdCQmFjWS00UUhUMzJ0NGcifQ..sbeMIaPVCn-l01TLeL8fUA.VK4SAzoaY_VWr8V6LzoiJVz0GkHrTeGE1g3yiFh9XQzlK6KUivUTqOajD0JWRy06uRTQTAe_yrlcHqz0nvCxqKHwex4Z_qWQsCCL8VE6AfjufRagDxkMnw6fh3eubGy-rjYLahAm2XVhQ4ybX_7qoxRwfyIYYu15hM-tekyIkL-jxeX6sinVAURpwITl9qk1tyKvI8pplGIBZrkT6Bin7A.MUzm0zg4tOdkiXRIcC8HUY7eR8fU0vyPJSfITa_-AnE";
const BODY: &str = r#"{"id":"evt_1","type":"checkout.session.completed"}"#;

fn options() -> Options {
    let mut o = Options::default()
        .secret("JWT_SECRET", JWT_SECRET)
        .secret("API_KEY", API_KEY)
        .secret("AUTH_SECRET", AUTH_SECRET)
        .secret("CRON_SECRET", CRON_SECRET)
        .secret("WH", WH_SECRET)
        .clock(Arc::new(ManualClock::new(NOW * 1_000_000)));
    o.secrets_from_env = false;
    o
}

fn jwt(sub: &str, exp: u64) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": sub, "role": "reader", "iat": NOW - 60, "exp": exp}),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn stripe_signature(t: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WH_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A log whose lines land in a vector.
fn collecting(
    config: impl FnOnce(Sink) -> LogConfig,
) -> (Arc<DecisionLog>, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&lines);
    let sink = Sink::Callback(Arc::new(move |line: &str| {
        l.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.to_owned());
    }));
    (Arc::new(DecisionLog::open(config(sink)).unwrap()), lines)
}

fn parse(lines: &Mutex<Vec<String>>) -> Vec<Json> {
    lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn get(path: &str) -> HttpRequest {
    from(path, 7)
}

/// A request from 203.0.113.HOST (the limit counts by address without `x-client`).
fn from(path: &str, host: u8) -> HttpRequest {
    HttpRequest::new("GET", path)
        .ip([203, 0, 113, host].into())
        .header("user-agent", "curl/8.5")
        .header("x-request-id", "req-42")
}

/// Every credential, right and wrong, through every concern of the policy; the
/// decisions are checked too, so that each credential provably went where meant.
fn feed(engine: &Engine) -> Vec<(u16, &'static str)> {
    let bearer = jwt("u-jwt", NOW + 600);
    let expired = jwt("u-old", NOW - 10);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{BASIC_PASSWORD}"));
    let sig = format!("t={NOW},v1={}", stripe_signature(NOW, BODY));
    let bad_sig = format!("t={NOW},v1={}", stripe_signature(NOW, "{}"));
    let mut statuses = Vec::new();
    let mut run = |what: &'static str, req: HttpRequest| {
        statuses.push((engine.check_http(&req).status, what));
    };
    for _ in 0..4 {
        run(
            "api key (limit keyed by it)",
            get(&format!("/api/docs?token={QUERY_TOKEN}")).header("x-client", API_KEY),
        );
    }
    run(
        "wrong api key",
        get("/api/docs").header("x-client", format!("{API_KEY}-wrong")),
    );
    run(
        "bearer jwt",
        from("/api/docs", 10).header("authorization", format!("Bearer {bearer}")),
    );
    run(
        "expired jwt",
        from("/api/docs", 11).header("authorization", format!("Bearer {expired}")),
    );
    run(
        "auth.js session cookie",
        from("/api/docs", 12).header(
            "cookie",
            format!("theme=dark; authjs.session-token={AUTHJS_TOKEN}"),
        ),
    );
    run(
        "basic auth",
        from("/api/docs", 13).header("authorization", format!("Basic {basic}")),
    );
    run(
        "cron secret",
        get("/cron").header("x-cron", format!("Bearer {CRON_SECRET}")),
    );
    run(
        "wrong cron secret",
        get("/cron").header("x-cron", format!("Bearer {CRON_SECRET}x")),
    );
    for (what, s) in [
        ("webhook signature", &sig),
        ("wrong webhook signature", &bad_sig),
    ] {
        run(
            what,
            HttpRequest::new("POST", "/hooks/stripe")
                .header("stripe-signature", s.as_str())
                .body(BODY),
        );
    }
    run("token in the path", get(&format!("/reset/{PATH_TOKEN}")));
    let authz = Request::new("docs:read")
        .principal(
            Principal::new("u1")
                .role("reader")
                .attr("password", BASIC_PASSWORD),
        )
        .resource(Resource::new("doc", "d1").attr("owner", "u2"))
        .context("api_token", CONTEXT_SECRET);
    statuses.push((engine.authorize(&authz).status, "authorize"));
    statuses
}

const EXPECTED: [(u16, &str); 15] = [
    (200, "api key (limit keyed by it)"),
    (200, "api key (limit keyed by it)"),
    (200, "api key (limit keyed by it)"),
    (429, "api key (limit keyed by it)"),
    (401, "wrong api key"),
    (200, "bearer jwt"),
    (401, "expired jwt"),
    (200, "auth.js session cookie"),
    (401, "basic auth"),
    (200, "cron secret"),
    (401, "wrong cron secret"),
    (200, "webhook signature"),
    (401, "wrong webhook signature"),
    (200, "token in the path"),
    (200, "authorize"),
];

/// Every field the allow-list can hold, plus credential sources under harmless names.
fn all_fields() -> Vec<LogField> {
    vec![
        LogField::Ip,
        LogField::Method,
        LogField::parse("header:user-agent").unwrap(),
        LogField::parse("header:x-request-id").unwrap(),
        // The policy reads its API keys and cron secret from these: never logged,
        // whatever the operator lists.
        LogField::parse("header:x-client").unwrap(),
        LogField::parse("header:x-cron").unwrap(),
    ]
}

#[test]
fn no_secret_reaches_the_log_and_every_line_has_the_documented_fields() {
    let (log, lines) = collecting(|sink| LogConfig {
        fields: all_fields(),
        ..LogConfig::new(sink)
    });
    let engine = Engine::from_source(
        "vault.warden",
        POLICY,
        options().decision_log(Arc::clone(&log)),
    )
    .unwrap();
    let statuses = feed(&engine);
    assert_eq!(statuses, EXPECTED, "the credentials went where meant");
    log.flush();
    let text = lines.lock().unwrap().join("\n");
    let bearer = jwt("u-jwt", NOW + 600);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{BASIC_PASSWORD}"));
    let signature = stripe_signature(NOW, BODY);
    let bearer_signature = bearer.rsplit('.').next().unwrap().to_string();
    for secret in [
        JWT_SECRET,
        API_KEY,
        AUTH_SECRET,
        CRON_SECRET,
        WH_SECRET,
        BASIC_PASSWORD,
        PATH_TOKEN,
        QUERY_TOKEN,
        CONTEXT_SECRET,
        AUTHJS_TOKEN,
        &bearer,
        &bearer_signature,
        &basic,
        &signature,
    ] {
        assert!(!text.contains(secret), "a secret is in the log:\n{text}");
        // Nor any 12-byte piece of it: a cut or split copy is still a leak.
        for piece in secret.as_bytes().windows(12) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(
                !text.contains(piece),
                "`{piece}` of a secret is in the log:\n{text}"
            );
        }
    }
    let lines = parse(&lines);
    assert_eq!(lines.len(), 15);
    let ids: std::collections::HashSet<&str> =
        lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 15, "ids are unique");
    for l in &lines {
        assert_eq!(l["id"].as_str().unwrap().len(), 32, "{l}");
        assert_eq!(l["time_us"], NOW * 1_000_000, "{l}");
        assert_eq!(l["policy"], "vault");
        let rev = l["revision"].as_str().unwrap();
        assert!(
            rev.len() == 12 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
            "{l}"
        );
        assert!(l["latency_ns"].as_u64().unwrap() > 0, "{l}");
        let allowed = l["status"] == 200;
        assert_eq!(l["outcome"], if allowed { "allow" } else { "deny" }, "{l}");
    }
    let statuses: Vec<u64> = lines
        .iter()
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = EXPECTED.iter().map(|(s, _)| u64::from(*s)).collect();
    assert_eq!(statuses, expected);

    let first = &lines[0];
    assert_eq!(first["kind"], "http");
    assert_eq!(first["route"], "/api/**");
    assert_eq!(first["principal_id"], "svc-reporting");
    assert_eq!(first["authenticated_by"], "api_key:API_KEY");
    assert_eq!(
        first["fields"],
        json!({"ip": "203.0.113.7", "method": "GET", "header:user-agent": "curl/8.5", "header:x-request-id": "req-42"}),
        "the policy's credential headers are left out of the allow-list"
    );
    let limited = &lines[3];
    assert_eq!(limited["limit"], "api");
    assert_eq!(limited["rules"], json!(["vault.warden:9"]));
    assert_eq!(limited["reason"], "rate limit exceeded");
    assert_eq!(lines[5]["principal_id"], "u-jwt");
    assert_eq!(lines[7]["principal_id"], "u-admin");
    assert_eq!(lines[10]["rules"], json!(["vault.warden:33"]));
    assert_eq!(lines[12]["route"], "/hooks/stripe");
    assert_eq!(
        lines[13]["route"], "/reset/:token",
        "the pattern, never the path"
    );
    let authz = &lines[14];
    assert_eq!(authz["kind"], "authorize");
    assert_eq!(authz["action"], "docs:read");
    assert_eq!(authz["resource_type"], "doc");
    assert_eq!(authz["resource_id"], "d1");
    assert_eq!(authz["principal_id"], "u1");
    assert_eq!(authz["rules"], json!(["vault.warden:6"]));
    assert!(authz.get("fields").is_none());
}

#[test]
fn a_store_failure_is_logged_without_what_failed() {
    let (log, lines) = collecting(LogConfig::new);
    let store = RedisStore::open(
        &format!("redis://:{REDIS_PASSWORD}@127.0.0.1:1/0"),
        RedisOptions::default(),
    )
    .unwrap();
    let metrics = Arc::new(Metrics::new());
    let o = options()
        .store(Arc::new(store))
        .on_store_error(OnStoreError::FailClosed)
        .decision_log(Arc::clone(&log))
        .metrics(Arc::clone(&metrics));
    let engine = Engine::from_source("vault.warden", POLICY, o).unwrap();
    let d = engine.check_http(&get("/api/docs").header("x-client", API_KEY));
    assert_eq!(d.status, 503);
    assert!(d.note.is_some());
    log.flush();
    let text = lines.lock().unwrap().join("\n");
    assert!(
        !text.contains(REDIS_PASSWORD) && !text.contains("127.0.0.1:1"),
        "{text}"
    );
    let line = &parse(&lines)[0];
    assert_eq!(line["store_error"], true);
    assert_eq!(line["limit"], "api");
    let m = metrics.snapshot();
    assert_eq!(m.store_errors, 1);
    assert_eq!(m.by_limit.get("api"), Some(&1));
    assert!(!metrics.prometheus().contains(REDIS_PASSWORD));
}

#[test]
fn a_saturated_sink_drops_and_counts_and_requests_never_wait() {
    // A sink that blocks until the gate opens: the queue (8) fills, the rest drops.
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let g = Arc::clone(&gate);
    let sink = Sink::Callback(Arc::new(move |_: &str| {
        let (m, c) = &*g;
        let mut open = m.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = c.wait(open).unwrap_or_else(PoisonError::into_inner);
        }
    }));
    let log = Arc::new(
        DecisionLog::open(LogConfig {
            capacity: 8,
            ..LogConfig::new(sink)
        })
        .unwrap(),
    );
    let metrics = Arc::new(Metrics::new());
    let o = options()
        .decision_log(Arc::clone(&log))
        .metrics(Arc::clone(&metrics));
    let engine = Arc::new(Engine::from_source("vault.warden", POLICY, o).unwrap());
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let e = Arc::clone(&engine);
            std::thread::spawn(move || {
                for _ in 0..500 {
                    assert_eq!(
                        e.check_http(&get(&format!("/reset/{PATH_TOKEN}"))).status,
                        200
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 2,000 decisions against a stuck sink: none waited for it (a wait would be forever).
    assert!(started.elapsed() < Duration::from_secs(30));
    let stuck = log.stats();
    assert_eq!(stuck.written, 0, "{stuck:?}");
    assert!(stuck.dropped >= 2000 - 9, "{stuck:?}");
    assert_eq!(metrics.snapshot().log_dropped, stuck.dropped);
    assert!(metrics.prometheus().contains(&format!(
        "warden_decision_log_dropped_total {}",
        stuck.dropped
    )));
    {
        let (m, c) = &*gate;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
    log.flush();
    let s = log.stats();
    assert_eq!(
        s.written + s.dropped,
        2000,
        "every decision accounted for: {s:?}"
    );
    assert_eq!(s.dropped, stuck.dropped);
}

#[test]
fn sampling_keeps_every_denial() {
    for rate in [0.0, 0.5] {
        let (log, lines) = collecting(|sink| LogConfig {
            sample_rate: rate,
            ..LogConfig::new(sink)
        });
        let engine = Engine::from_source(
            "vault.warden",
            POLICY,
            options().decision_log(Arc::clone(&log)),
        )
        .unwrap();
        let (mut allowed, mut denied) = (0, 0);
        for i in 0..400 {
            let d = if i % 4 == 0 {
                engine.check_http(&get("/api/docs"))
            } else {
                engine.check_http(&get("/reset/x"))
            };
            if d.allowed {
                allowed += 1;
            } else {
                denied += 1;
            }
        }
        assert_eq!((allowed, denied), (300, 100));
        log.flush();
        let lines = parse(&lines);
        let logged_denials = lines.iter().filter(|l| l["outcome"] == "deny").count();
        let logged_allows = lines.iter().filter(|l| l["outcome"] == "allow").count();
        assert_eq!(logged_denials, 100, "rate {rate}: every denial");
        if rate == 0.0 {
            assert_eq!(logged_allows, 0);
        } else {
            // 300 draws at 1/2: outside 100..=200 is a 1-in-10^8 event.
            assert!((100..=200).contains(&logged_allows), "{logged_allows}");
        }
        let s = log.stats();
        assert_eq!(s.sampled_out, 300 - logged_allows as u64);
    }
}

#[test]
fn credential_headers_cannot_be_allow_listed() {
    for name in [
        "authorization",
        "Cookie",
        "x-api-key",
        "stripe-signature",
        "x-csrf-token",
    ] {
        let err = LogField::header(name).unwrap_err();
        assert!(err.to_string().contains("never logged"), "{err}");
    }
    assert!(LogField::parse("path").is_err());
    assert!(LogField::parse("header:bad name").is_err());
    assert!(DecisionLog::open(LogConfig {
        sample_rate: 1.5,
        ..LogConfig::new(Sink::Stderr)
    })
    .is_err());
    assert!(DecisionLog::open(LogConfig::new(Sink::File("/nonexistent/dir/log".into()))).is_err());
}

#[test]
fn metrics_count_by_outcome_status_route_rule_limit_and_reload() {
    let metrics = Arc::new(Metrics::new().time_one_in(1));
    let warden = Warden::from_source(
        "vault.warden",
        POLICY,
        options().metrics(Arc::clone(&metrics)),
    )
    .unwrap();
    let statuses = feed(&warden.engine());
    assert_eq!(statuses, EXPECTED);
    assert!(warden
        .reload_source("vault.warden", "policy vault\nrole a > nobody\n")
        .is_err());
    warden.reload_source("vault.warden", POLICY).unwrap();
    // The reloaded engine counts on the same series.
    assert_eq!(warden.engine().check_http(&get("/reset/y")).status, 200);
    let m = metrics.snapshot();
    assert_eq!(m.decisions["http/allow"], 9);
    assert_eq!(m.decisions["http/deny"], 6);
    assert_eq!(m.decisions["authorize/allow"], 1);
    assert_eq!(m.decisions["authorize/deny"], 0);
    assert_eq!(m.by_status[&200], 10);
    assert_eq!(m.by_status[&401], 5);
    assert_eq!(m.by_status[&429], 1);
    assert_eq!(m.by_route["/api/**"], 9);
    assert_eq!(m.by_route["/reset/:token"], 2);
    assert_eq!(m.by_route["/hooks/stripe"], 2);
    assert_eq!(m.by_rule["vault.warden:9"], 1, "the limit's line");
    assert_eq!(m.by_rule["vault.warden:6"], 1, "the grant");
    assert_eq!(m.by_limit["api"], 1);
    assert_eq!((m.reloads, m.reload_failures), (1, 1));
    assert_eq!(m.latency_buckets.iter().sum::<u64>(), 16);
    let text = metrics.prometheus();
    for line in [
        "warden_decisions_total{kind=\"http\",outcome=\"deny\"} 6",
        "warden_decisions_by_route_total{route=\"/api/**\"} 9",
        "warden_limit_refusals_total{limit=\"api\"} 1",
        "warden_reloads_total 1",
        "warden_reload_failures_total 1",
        "warden_decision_seconds_count 16",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
}

/// By default one decision in 64 is timed: counts stay exact, the histogram holds a
/// sample. With a decision log, every decision is timed (each line has a latency).
#[test]
fn the_histogram_times_a_sample_unless_a_log_needs_every_latency() {
    let n = 16_000u64;
    let metrics = Arc::new(Metrics::new());
    assert_eq!(metrics.timing_one_in(), 64);
    let engine = Engine::from_source(
        "vault.warden",
        POLICY,
        options().metrics(Arc::clone(&metrics)),
    )
    .unwrap();
    for _ in 0..n {
        assert_eq!(engine.check_http(&get("/reset/y")).status, 200);
    }
    let m = metrics.snapshot();
    assert_eq!(m.decisions["http/allow"], n);
    let timed: u64 = m.latency_buckets.iter().sum();
    // 250 expected; the binomial's sd is ~15, so this cannot fail by chance.
    assert!((150..400).contains(&timed), "{timed} of {n} timed");

    let metrics = Arc::new(Metrics::new());
    let (log, lines) = collecting(LogConfig::new);
    let engine = Engine::from_source(
        "vault.warden",
        POLICY,
        options()
            .metrics(Arc::clone(&metrics))
            .decision_log(Arc::clone(&log)),
    )
    .unwrap();
    for _ in 0..100 {
        engine.check_http(&get("/reset/y"));
    }
    log.flush();
    let m = metrics.snapshot();
    assert_eq!(m.latency_buckets.iter().sum::<u64>(), 100);
    let lines = parse(&lines);
    assert_eq!(lines.len(), 100);
    assert!(lines.iter().all(|l| l["latency_ns"].as_u64() > Some(0)));
}
