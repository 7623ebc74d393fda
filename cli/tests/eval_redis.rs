//! `warden eval --redis-url`: two runs (two app instances) share one Redis budget; a
//! Redis that is down gives the `--on-store-error` choice.
//!
//! Without `WARDEN_REDIS_URL` the shared-budget test says SKIPPED on stderr and passes,
//! unless `CI=true`, where a missing Redis is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

fn eval(policy: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let policy = policy.to_string_lossy();
    let args: Vec<&str> = ["--policy", &*policy].iter().chain(args).copied().collect();
    support::eval_with(&args, stdin, |_| {})
}

/// A policy whose name is unique per call, so reruns never share Redis keys.
fn policy(tag: &str) -> (tempdir::Dir, std::path::PathBuf) {
    let dir = tempdir::Dir::new(tag);
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = dir.0.join("login.warden");
    std::fs::write(
        &path,
        format!(
            "policy login_{tag}_{nonce}\n\
             limit login: 2 per 15m by ip strict\n\
             route POST /login {{\n  limit login\n}}\n"
        ),
    )
    .unwrap();
    (dir, path)
}

mod tempdir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let p = std::env::temp_dir()
                .join(format!("warden-eval-redis-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const LOGIN: &str =
    r#"{"method": "POST", "path": "/login", "ip": "203.0.113.7", "time": "2026-11-22T10:00:00Z"}"#;

fn statuses(out: &str) -> Vec<u64> {
    out.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn two_runs_share_one_redis_budget() {
    let Ok(url) = std::env::var("WARDEN_REDIS_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but WARDEN_REDIS_URL is not set: run under scripts/with-redis.sh"
        );
        eprintln!("SKIPPED: `warden eval --redis-url` test needs WARDEN_REDIS_URL");
        return;
    };
    let (_dir, path) = policy("shared");
    let args = ["--redis-url", url.as_str()];
    let (code, out, err) = eval(&path, &args, LOGIN);
    assert_eq!((code, statuses(&out)), (0, vec![200]), "{err}");
    // A second process: its memory is empty, so only Redis can remember the first.
    let (code, out, err) = eval(&path, &args, &format!("{LOGIN}\n{LOGIN}\n"));
    assert_eq!((code, statuses(&out)), (0, vec![200, 429]), "{err}");
    // Without Redis the same requests start from an empty budget.
    let (_, out, _) = eval(&path, &[], &format!("{LOGIN}\n{LOGIN}\n"));
    assert_eq!(statuses(&out), vec![200, 200]);
}

#[test]
fn a_redis_that_is_down_gives_the_chosen_answer() {
    // Port 1 on loopback: connection refused at once.
    let (_dir, path) = policy("down");
    let url = "redis://127.0.0.1:1";
    for (choice, want) in [("fail-closed", 503), ("fail-open", 200), ("fallback", 200)] {
        let (code, out, err) = eval(
            &path,
            &["--redis-url", url, "--on-store-error", choice],
            LOGIN,
        );
        assert_eq!((code, statuses(&out)), (0, vec![want]), "{choice}: {err}");
    }
}

#[test]
fn a_malformed_url_is_an_error_that_does_not_echo_it() {
    let (_dir, path) = policy("bad");
    let (code, _, err) = eval(&path, &["--redis-url", "nope://:hunter2@x"], LOGIN);
    assert_eq!(code, 2);
    assert!(err.contains("invalid Redis URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// An environment variable the CI run must set (its test script exports it), or `None`
/// after saying SKIPPED elsewhere.
fn needed(var: &str, script: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {var} is not set: run under scripts/{script}"
            );
            eprintln!("SKIPPED: needs {var} (scripts/{script})");
            None
        }
    }
}

#[test]
fn two_runs_share_one_cluster_budget() {
    let Some(urls) = needed("WARDEN_REDIS_CLUSTER_URLS", "with-redis-cluster.sh") else {
        return;
    };
    let (_dir, path) = policy("cluster");
    let args = ["--redis-cluster", urls.as_str()];
    let (code, out, err) = eval(&path, &args, LOGIN);
    assert_eq!((code, statuses(&out)), (0, vec![200]), "{err}");
    let (code, out, err) = eval(&path, &args, &format!("{LOGIN}\n{LOGIN}\n"));
    assert_eq!((code, statuses(&out)), (0, vec![200, 429]), "{err}");
    // Both flags at once is a usage error.
    let (code, _, _) = eval(
        &path,
        &[
            "--redis-cluster",
            urls.as_str(),
            "--redis-url",
            "redis://127.0.0.1:1",
        ],
        LOGIN,
    );
    assert_eq!(code, 2);
}

#[test]
fn two_runs_share_one_tls_budget_and_a_wrong_ca_fails_closed() {
    let Some(url) = needed("WARDEN_REDIS_TLS_URL", "with-redis-tls.sh") else {
        return;
    };
    let ca = std::env::var("WARDEN_REDIS_TLS_CA").unwrap();
    let wrong = std::env::var("WARDEN_REDIS_TLS_WRONG_CA").unwrap();
    let (_dir, path) = policy("tls");
    let args = ["--redis-url", url.as_str(), "--redis-ca", ca.as_str()];
    let (code, out, err) = eval(&path, &args, LOGIN);
    assert_eq!((code, statuses(&out)), (0, vec![200]), "{err}");
    let (code, out, err) = eval(&path, &args, &format!("{LOGIN}\n{LOGIN}\n"));
    assert_eq!((code, statuses(&out)), (0, vec![200, 429]), "{err}");
    let args = ["--redis-url", url.as_str(), "--redis-ca", wrong.as_str()];
    let (code, out, err) = eval(&path, &args, LOGIN);
    assert_eq!((code, statuses(&out)), (0, vec![503]), "{err}");
}
