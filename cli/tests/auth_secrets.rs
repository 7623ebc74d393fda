//! `warden eval` on policies with `auth` blocks and startup checks: decisions and load
//! errors name keys and checks, never the values given with `--secret`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

const JWT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/08-jwt-auth.warden"
);
const KEY: &str = "test-jwt-secret-for-examples-0123456789abcdef";

fn eval(args: &[&str], stdin: &str) -> (i32, String, String) {
    support::eval_with(args, stdin, |cmd| {
        cmd.env_remove("JWT_SECRET")
            .env_remove("JWT_SECRET_PREVIOUS");
    })
}

const REQ: &str = r#"{"principal": {"id": "u1", "roles": ["user"], "org": "o1"}, "action": "notes:write", "resource": {"type": "note", "id": "n1", "owner": "u2", "org": "o1"}}"#;

#[test]
fn eval_with_auth_keys_never_prints_them() {
    let secret = format!("JWT_SECRET={KEY}");
    let (code, out, err) = eval(
        &[
            "--policy",
            JWT,
            "--secret",
            &secret,
            "--explain",
            "--format",
            "json",
        ],
        REQ,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("only the owner may change a note"), "{out}");
    assert!(!out.contains(KEY) && !err.contains(KEY), "{out}{err}");
}

#[test]
fn failed_startup_check_and_missing_key_are_named_not_shown() {
    let (code, out, err) = eval(
        &["--policy", JWT, "--secret", "JWT_SECRET=short-hunter2"],
        REQ,
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("JWT_SECRET must be at least 32 characters"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2") && !out.contains("hunter2"),
        "{err}"
    );
    let (code, _, err) = eval(&["--policy", JWT], REQ);
    assert_eq!(code, 1);
    assert!(err.contains("secret `JWT_SECRET` is not set"), "{err}");
}
