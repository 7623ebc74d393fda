//! `warden eval --decision-log FILE` and `--metrics`: one JSON line per decision with
//! the documented fields, and no credential in it (auth by API key and by bearer token,
//! a limit keyed by the API key header, a cookie, a token in the path and in the
//! query): the log file is searched for each secret's bytes. Every credential kind
//! through every concern is `core/tests/decision_log.rs`; this is the command line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

const POLICY: &str = r#"policy vault
role reader
grant reader: docs:read
principal { id: string, roles: set<role> }
resource doc { owner: string }
limit api: 3 per 1m by header x-api-key ?? ip
auth api_key {
  from: header x-api-key
  key secret(VAULT_KEY) as { id: "svc-reporting", roles: [reader] }
}
route /api/** {
  require auth
  limit api
}
route GET /reset/:token {
  public
}
"#;

const API_KEY: &str = "vk_live_5ecret-api-key-0123456789abcdef";
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2VjcmV0LXNpZ25hdHVyZS1ieXRlcw";
const COOKIE: &str = "sess_0123456789abcdefcookievalue";
const PATH_TOKEN: &str = "rst-9f8e7d6c5b4a-path-token";
const QUERY_TOKEN: &str = "qtok-112233445566-query-token";

struct Dir(std::path::PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p =
            std::env::temp_dir().join(format!("warden-decision-log-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn requests() -> String {
    let http = |method: &str, path: &str, headers: serde_json::Value| {
        serde_json::json!({"method": method, "path": path, "ip": "203.0.113.7", "headers": headers})
            .to_string()
    };
    let mut lines = Vec::new();
    // Authenticated by API key, counted by it: 3 admitted, then 429s.
    for _ in 0..5 {
        lines.push(http(
            "GET",
            &format!("/api/docs?token={QUERY_TOKEN}"),
            serde_json::json!({"x-api-key": API_KEY, "cookie": format!("session={COOKIE}"), "user-agent": "curl/8", "x-request-id": "req-42"}),
        ));
    }
    // A wrong bearer token and a wrong key: 401s.
    lines.push(http(
        "GET",
        "/api/docs",
        serde_json::json!({"authorization": format!("Bearer {BEARER}")}),
    ));
    lines.push(http(
        "GET",
        "/api/docs",
        serde_json::json!({"x-api-key": format!("{API_KEY}-wrong")}),
    ));
    // A token in the path.
    lines.push(http(
        "GET",
        &format!("/reset/{PATH_TOKEN}"),
        serde_json::json!({}),
    ));
    // An authorization request.
    lines.push(
        serde_json::json!({"principal": {"id": "u1", "roles": ["reader"]}, "action": "docs:read", "resource": {"type": "doc", "id": "d1", "owner": "u1"}})
            .to_string(),
    );
    lines.join("\n")
}

fn run(dir: &Dir, extra: &[&str]) -> (i32, String, String, Vec<serde_json::Value>, String) {
    let policy = dir.0.join("vault.warden");
    std::fs::write(&policy, POLICY).unwrap();
    let log = dir.0.join("decisions.jsonl");
    let _ = std::fs::remove_file(&log);
    let secret = format!("VAULT_KEY={API_KEY}");
    let mut args = vec![
        "--policy",
        policy.to_str().unwrap(),
        "--secret",
        &secret,
        "--decision-log",
        log.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = support::eval_with(&args, &requests(), |_| {});
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (code, out, err, lines, text)
}

#[test]
fn every_decision_is_one_line_with_the_documented_fields() {
    let dir = Dir::new("fields");
    let (code, out, err, lines, _) = run(
        &dir,
        &[
            "--log-field",
            "ip",
            "--log-field",
            "header:user-agent",
            "--metrics",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // `--metrics`: the Prometheus text on standard error, after the run.
    for line in [
        "warden_decisions_total{kind=\"http\",outcome=\"deny\"} 4",
        "warden_decisions_total{kind=\"authorize\",outcome=\"allow\"} 1",
        "warden_limit_refusals_total{limit=\"api\"} 2",
        "warden_decisions_by_route_total{route=\"/reset/:token\"} 1",
        "warden_decision_seconds_count 9",
    ] {
        assert!(err.lines().any(|l| l == line), "missing `{line}` in\n{err}");
    }
    assert_eq!(lines.len(), out.lines().count());
    assert_eq!(lines.len(), 9);
    let statuses: Vec<u64> = lines
        .iter()
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429, 401, 401, 200, 200]);
    let ids: std::collections::HashSet<&str> =
        lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 9, "ids are unique");
    let first = &lines[0];
    assert_eq!(first["policy"], "vault");
    assert_eq!(first["revision"].as_str().map(str::len), Some(12));
    assert_eq!(first["kind"], "http");
    assert_eq!(first["route"], "/api/**");
    assert_eq!(first["principal_id"], "svc-reporting");
    assert_eq!(first["outcome"], "allow");
    assert_eq!(first["fields"]["ip"], "203.0.113.7");
    assert_eq!(first["fields"]["header:user-agent"], "curl/8");
    assert!(first["latency_ns"].as_u64().is_some() && first["time_us"].as_u64().is_some());
    let limited = &lines[3];
    assert_eq!(limited["outcome"], "deny");
    // The engine cites the policy by the path it was given.
    assert!(
        limited["rules"][0]
            .as_str()
            .unwrap()
            .ends_with("/vault.warden:6"),
        "{limited}"
    );
    assert_eq!(limited["limit"], "api");
    assert_eq!(limited["reason"], "rate limit exceeded");
    assert_eq!(lines[7]["route"], "/reset/:token");
    let authz = &lines[8];
    assert_eq!(authz["kind"], "authorize");
    assert_eq!(authz["action"], "docs:read");
    assert_eq!(authz["resource_type"], "doc");
    assert_eq!(authz["resource_id"], "d1");
    assert_eq!(authz["principal_id"], "u1");
}

#[test]
fn no_credential_reaches_the_log() {
    let dir = Dir::new("secrets");
    // Every allowed field on, so the test covers the most the log can carry.
    let (code, _, err, lines, text) = run(
        &dir,
        &[
            "--log-field",
            "ip",
            "--log-field",
            "method",
            "--log-field",
            "header:user-agent",
            "--log-field",
            "header:x-request-id",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 9);
    for secret in [API_KEY, BEARER, COOKIE, PATH_TOKEN, QUERY_TOKEN] {
        // Also any 12-byte piece of it: a truncated or split copy is still a leak.
        let bytes = secret.as_bytes();
        for piece in bytes.windows(12) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(
                !text.contains(piece),
                "`{piece}` of a secret is in the log:\n{text}"
            );
        }
    }
    assert!(text.contains("req-42"), "the allow-listed header is logged");
}

#[test]
fn credential_headers_cannot_be_allow_listed_and_a_bad_path_is_an_error() {
    let dir = Dir::new("refused");
    for field in [
        "header:authorization",
        "header:Cookie",
        "header:x-api-key",
        "path",
    ] {
        let (code, _, err, _, _) = run(&dir, &["--log-field", field]);
        assert_eq!(code, 2, "{field}: {err}");
        assert!(err.contains("--log-field"), "{err}");
    }
    let policy = dir.0.join("vault.warden");
    std::fs::write(&policy, POLICY).unwrap();
    let (code, _, err) = support::eval_with(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--decision-log",
            "/nonexistent/dir/log.jsonl",
        ],
        "{}",
        |_| {},
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--decision-log"), "{err}");
}

#[test]
fn sampling_keeps_every_denial() {
    let dir = Dir::new("sampling");
    let (code, _, err, lines, _) = run(&dir, &["--log-sample-rate", "0"]);
    assert_eq!(code, 0, "{err}");
    // Rate 0: only the four denials (two 429, two 401).
    let statuses: Vec<u64> = lines
        .iter()
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [429, 429, 401, 401]);
}
