//! `warden filter` through the built binary: the residual of a seed policy as JSON and
//! as SQL, a rule that cannot filter (exit 3, named), bad input (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn policy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("policies")
        .join(name)
}

fn filter(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("filter")
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_seed_ownership_rule_filters_as_json_and_sql() {
    let p = policy("security-patterns.warden");
    let p = p.to_str().unwrap();
    let args = [
        "--policy",
        p,
        "--principal",
        r#"{"id": "u1", "roles": ["editor"]}"#,
        "--action",
        "posts:write",
        "--type",
        "post",
        "--secret",
        "JWT_SECRET=test-jwt-secret-0123456789abcdef0123",
        "--secret",
        "JWT_REFRESH_SECRET=test-jwt-refresh-secret-0123456789ab",
        "--sql",
        "postgres",
        "--columns",
        r#"{"table": "posts", "columns": {"author": {"column": "author_id", "type": "string"}}}"#,
    ];
    let (code, out, err) = filter(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out["residual"]["condition"],
        serde_json::json!({"cmp": {"attr": "author", "op": "eq", "value": "u1"}})
    );
    assert_eq!(
        out["sql"],
        "(\"posts\".\"author_id\" IS NOT NULL AND \"posts\".\"author_id\" = $1)"
    );
    assert_eq!(out["params"], serde_json::json!(["u1"]));
    // An admin may write every post with an author: `M or true` is missing, so the
    // deny (missing deny) still keeps out posts whose author is NULL.
    let mut admin = args;
    admin[3] = r#"{"id": "u9", "roles": ["admin"]}"#;
    let (code, out, err) = filter(&admin);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["residual"]["kind"], "conditional");
    assert!(
        out["sql"]
            .as_str()
            .unwrap()
            .contains("\"posts\".\"author_id\" IS NOT NULL"),
        "{out}"
    );
}

#[test]
fn cannot_filter_and_bad_input_have_their_exit_codes() {
    let dir = std::env::temp_dir().join(format!("warden-filter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.warden");
    std::fs::write(
        &file,
        "policy p\nrole m\ngrant m: a\nresource doc { slug: string }\n\
         deny a on doc unless resource.slug matches /^x/\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let base = ["--policy", f, "--action", "a", "--type", "doc"];
    let mut args = base.to_vec();
    args.extend(["--principal", r#"{"id": "u", "roles": ["m"]}"#]);
    let (code, _, err) = filter(&args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("p.warden:5") && err.contains("regular expression"),
        "{err}"
    );
    let mut args = base.to_vec();
    args.extend(["--principal", "{not json"]);
    let (code, _, err) = filter(&args);
    assert_eq!(code, 2, "{err}");
    let mut args = base.to_vec();
    args.extend(["--sql", "sqlite"]);
    let (code, _, err) = filter(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--columns"), "{err}");
}
