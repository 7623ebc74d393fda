//! `warden eval` through the built binary: decisions, batches, exit codes, secrets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

const TOUR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/00-tour.warden");

fn eval(args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> (i32, String, String) {
    support::eval_with(args, stdin, |cmd| {
        // The tour's cron route reads `secret(CRON_SECRET)`: given through the environment.
        cmd.env("CRON_SECRET", "test-cron-secret")
            .envs(envs.iter().copied());
    })
}

const WRITE_OTHER: &str = r#"{"principal": {"id": "u1", "roles": ["editor"], "org": "o1"}, "action": "posts:write", "resource": {"type": "post", "id": "p9", "author": "u2", "org": "o1"}}"#;
const WRITE_OWN: &str = r#"{"principal": {"id": "u1", "role": "editor", "org": "o1"}, "action": "posts:write", "resource": {"type": "post", "id": "p9", "author": "u1", "org": "o1"}}"#;

#[test]
fn one_request_one_decision() {
    let (code, out, err) = eval(&["--policy", TOUR], WRITE_OTHER, &[]);
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(d["allowed"], false);
    assert_eq!(d["status"], 403);
    assert_eq!(d["reason"], "only the author or an admin may change a post");
    let rule = d["rules"][0].as_str().unwrap();
    assert!(rule.ends_with("00-tour.warden:23"), "{rule}");
}

#[test]
fn array_and_json_lines_give_one_line_each_in_order() {
    for input in [
        format!("[{WRITE_OWN}, {WRITE_OTHER}, {WRITE_OWN}]"),
        format!("{WRITE_OWN}\n{WRITE_OTHER}\n{WRITE_OWN}\n"),
    ] {
        let (code, out, err) = eval(&["--policy", TOUR, "--request", "-"], &input, &[]);
        assert_eq!(code, 0, "{err}");
        let allowed: Vec<bool> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["allowed"]
                    .as_bool()
                    .unwrap()
            })
            .collect();
        assert_eq!(allowed, vec![true, false, true]);
    }
}

#[test]
fn malformed_request_exits_2_with_a_clear_error() {
    let (code, _, err) = eval(&["--policy", TOUR], "{\"action\": ", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("malformed JSON"), "{err}");
    let (code, out, err) = eval(
        &["--policy", TOUR],
        &format!("{WRITE_OWN}\n{{\"principal\": 3}}"),
        &[],
    );
    assert_eq!(code, 2);
    assert_eq!(out.lines().count(), 1, "the first request was decided");
    assert!(
        err.contains("request 2") && err.contains("missing `action`"),
        "{err}"
    );
}

#[test]
fn bad_policy_exits_1() {
    let dir = std::env::temp_dir().join(format!("warden-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.warden");
    std::fs::write(&p, "policy p\ngrant nobody: a:b\n").unwrap();
    let (code, _, err) = eval(&["--policy", p.to_str().unwrap()], WRITE_OWN, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.warden:2:"), "{err}");
}

#[test]
fn secrets_from_flag_or_environment_never_echoed() {
    let dir = std::env::temp_dir().join(format!("warden-eval-s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("cron.warden");
    std::fs::write(
        &p,
        "policy c\nallow cron:run if context.token == \"Bearer \" + secret(WARDEN_TEST_CRON)\n",
    )
    .unwrap();
    let policy = p.to_str().unwrap();
    let req = r#"{"action": "cron:run", "context": {"token": "Bearer hunter22"}}"#;
    let (code, out, _) = eval(
        &["--policy", policy, "--secret", "WARDEN_TEST_CRON=hunter22"],
        req,
        &[],
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"allowed\":true"), "{out}");
    let (code, out, _) = eval(
        &["--policy", policy, "--explain", "--format", "json"],
        req,
        &[("WARDEN_TEST_CRON", "other")],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("\"allowed\":false") && !out.contains("other\""),
        "{out}"
    );
    let (code, _, err) = eval(&["--policy", policy], req, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("secret `WARDEN_TEST_CRON` is not set"),
        "{err}"
    );
}

/// `--secret VALUE` without `NAME=`: the argument may be the secret itself, so no part
/// of it appears in any output (issue 15).
#[test]
fn a_secret_without_a_name_is_not_echoed() {
    let dir = std::env::temp_dir().join(format!("warden-eval-n-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("cron.warden");
    std::fs::write(
        &p,
        "policy c
allow cron:run
",
    )
    .unwrap();
    let policy = p.to_str().unwrap();
    let req = r#"{"action": "cron:run"}"#;
    for arg in ["S3CR3T", "S3CR3T;x", "--S3CR3T"] {
        let flag = format!("--secret={arg}");
        for args in [
            vec!["--policy", policy, "--secret", arg],
            vec!["--policy", policy, flag.as_str()],
            vec!["--policy", policy, "--secret", arg, "--explain"],
        ] {
            let (code, out, err) = eval(&args, req, &[]);
            assert_ne!(code, 0, "{args:?}");
            assert!(
                !out.contains("S3CR3T") && !err.contains("S3CR3T"),
                "{args:?}: {out} {err}"
            );
            if !arg.starts_with("--") {
                assert!(err.contains("NAME=VALUE"), "{err}");
            }
        }
    }
}

#[test]
fn http_requests_get_http_decisions() {
    let (code, out, err) = eval(
        &["--policy", TOUR],
        r#"{"method": "GET", "path": "/dashboard/stats?tab=1"}
{"kind": "http", "method": "GET", "path": "/api/users"}
{"method": "GET", "path": "/api/%zz"}"#,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["status"], 302);
    assert_eq!(
        lines[0]["location"],
        "/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1"
    );
    assert_eq!(lines[1]["status"], 401);
    assert_eq!(lines[1]["allowed"], false);
    assert_eq!(lines[1]["headers"]["www-authenticate"], "Bearer");
    assert_eq!(lines[1]["route"]["pattern"], "/api/**");
    assert_eq!(lines[2]["status"], 400);
}

#[test]
fn http_explain_adds_the_trace() {
    let (code, out, err) = eval(
        &["--policy", TOUR, "--explain", "--format", "json"],
        r#"{"method": "GET", "path": "/api/admin/x", "principal": {"id": "u1", "roles": ["viewer"]}}"#,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(d["status"], 403);
    assert_eq!(d["trace"]["path"], "/api/admin/x");
    assert_eq!(d["trace"]["routes"][0]["pattern"], "/api/admin/**");
    // A case that would route elsewhere on a case-sensitive router is refused, and the
    // trace says why (the path rule).
    let (code, out, err) = eval(
        &["--policy", TOUR, "--explain", "--format", "json"],
        r#"{"method": "GET", "path": "/API/admin/x", "principal": {"id": "u1", "roles": ["viewer"]}}"#,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(d["status"], 400);
    assert!(
        d["trace"]["path"].as_str().unwrap().starts_with("refused:"),
        "{d}"
    );
    // The tree says what did not run rather than leaving a blank.
    let (code, out, err) = eval(
        &["--policy", TOUR, "--explain"],
        r#"{"method": "GET", "path": "/API/admin/x", "principal": {"id": "u1", "roles": ["viewer"]}}"#,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("DENY 400"), "{out}");
    assert!(out.contains("├─ cors: not reached\n"), "{out}");
    assert!(out.contains("├─ principal: not reached\n"), "{out}");
}

#[test]
fn bad_http_request_exits_2() {
    let (code, _, err) = eval(
        &["--policy", TOUR],
        r#"{"method": "GET", "path": "/", "ip": "nope"}"#,
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("request 1") && err.contains("IPv4 or IPv6"),
        "{err}"
    );
}

#[test]
fn http_batch_counts_limits_across_requests() {
    let one = r#"{"method": "POST", "path": "/api/auth/login", "ip": "203.0.113.7", "time": "2026-11-22T10:00:00Z"}"#;
    let input = [one; 6].join("\n");
    let (code, out, err) = eval(&["--policy", TOUR], &input, &[]);
    assert_eq!(code, 0, "{err}");
    let statuses: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert!(last["headers"]["retry-after"].as_str().is_some(), "{last}");
}

#[test]
fn explain_as_text_is_a_tree_naming_each_decision_with_file_and_line() {
    let (code, out, err) = eval(
        &["--policy", TOUR, "--explain"],
        r#"{"method": "GET", "path": "/api/admin/x", "principal": {"id": "u1", "roles": ["viewer"]}}
{"principal": {"id": "u1", "roles": ["editor"], "org": "o1"}, "action": "posts:write", "resource": {"type": "post", "id": "p1", "author": "u2", "org": "o1"}}"#,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("DENY 403: requires role admin ["),
        "{out}"
    );
    assert!(
        first.ends_with("00-tour.warden:50] — path /api/admin/x"),
        "{out}"
    );
    for expected in [
        "├─ routes (most specific first)\n│  ├─ route ",
        "00-tour.warden:49 /api/admin/**: requirements apply\n│  └─ route ",
        "00-tour.warden:39 /api/**: requirements apply\n├─ cors: none\n├─ limits\n│  └─ limit api ",
        "00-tour.warden:37 key missing (one shared key): admitted, 59 remaining",
        "│  ├─ require auth ",
        "00-tour.warden:40: true\n│  └─ require role ",
        "00-tour.warden:50: false\n└─ headers\n",
        "   ├─ set x-frame-options: DENY\n",
        "00-tour.warden:23] — posts:write on post\n├─ principal roles: editor\n├─ grant ",
        "00-tour.warden:13: covers the action\n└─ rules\n   ├─ deny ",
        "00-tour.warden:23: condition false, denies\n   │  ├─ resource.author = \"u2\"",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    assert!(!out.trim_start().starts_with('{'), "{out}");
}
