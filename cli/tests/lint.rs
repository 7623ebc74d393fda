//! `warden lint` through the built binary: SARIF validated against the SARIF 2.1.0
//! schema, JSON, exit codes, standard input, project config, and the repository's own
//! examples and seed policies linting clean.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// (exit code, stdout, stderr)
fn warden(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let (code, out, err) = warden(&["lint", "--format", "sarif", "lint/tests/bad"], None);
    assert_eq!(code, 1, "{err}");
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("cli/tests/data/sarif-2.1.0-rtm.5.json")).unwrap(),
    )
    .unwrap();
    // The published schema's `language` patterns (of `run` and `toolComponent`) have a
    // stray `]`, a literal in ECMAScript regexes but an error for Rust's: escape it (we
    // never emit `language`).
    let fixed = fix_language_patterns(&mut schema);
    assert_eq!(fixed, 2);
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator is not vacuous: a result without a message is refused.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&broken));

    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 30, "{}", results.len());
    let hsts = results
        .iter()
        .find(|r| r["ruleId"] == "hsts-short")
        .expect("an hsts-short result");
    let loc = &hsts["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "lint/tests/bad/hsts-short.warden"
    );
    assert_eq!(loc["region"]["startLine"], 5);
    assert_eq!(loc["region"]["startColumn"], 30);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = hsts["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "hsts-short");
}

fn fix_language_patterns(v: &mut serde_json::Value) -> usize {
    const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match v {
        serde_json::Value::String(s) if s == BAD => {
            *s = BAD.replace("}]?", "}\\]?");
            1
        }
        serde_json::Value::Array(a) => a.iter_mut().map(fix_language_patterns).sum(),
        serde_json::Value::Object(o) => o.values_mut().map(fix_language_patterns).sum(),
        _ => 0,
    }
}

#[test]
fn json_output_and_exit_codes() {
    let (code, out, _) = warden(
        &[
            "lint",
            "--format",
            "json",
            "lint/tests/bad/hsts-short.warden",
        ],
        None,
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["code"], "hsts-short");
    assert_eq!(items[0]["severity"], "warning");
    assert_eq!(items[0]["line"], 5);
    assert!(items[0]["help"].as_str().unwrap().contains("31536000"));
    // Warnings only: `--fail-on error` passes, the default fails.
    let (code, _, _) = warden(
        &[
            "lint",
            "--fail-on",
            "error",
            "lint/tests/bad/hsts-short.warden",
        ],
        None,
    );
    assert_eq!(code, 0);
    // A policy that does not check fails with its check errors.
    let (code, _, err) = warden(
        &["lint", "--stdin-filename", "x.warden", "-"],
        Some("policy p\ngrant admn: a\n"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("x.warden:2:7: error: unknown role `admn`"),
        "{err}"
    );
    // A folder without policies is a usage error.
    let (code, _, err) = warden(&["lint", "cli/tests/data"], None);
    assert_eq!(code, 2);
    assert!(err.contains("no `*.warden` file"), "{err}");
}

#[test]
fn standard_input_is_linted_under_its_given_name() {
    let policy = "policy p\nheaders {\n  Strict-Transport-Security: \"max-age=60\"\n}\n";
    let (code, _, err) = warden(
        &["lint", "--stdin-filename", "app/site.warden", "-"],
        Some(policy),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("app/site.warden:3:30: warning: HSTS `max-age=60`"),
        "{err}"
    );
    assert!(
        err.contains(
            "app/site.warden:2:1: warning: the security headers have no `Content-Security-Policy`"
        ),
        "{err}"
    );
}

/// `case-sensitive-compare` is the checker's analysis (a warning of `warden check`) and a
/// lint: `warden lint` reports it once, and a suppression silences it.
#[test]
fn a_checker_warning_that_is_a_lint_is_reported_once_and_suppressible() {
    let policy = "policy p\nrole r\ngrant r: files:get\nresource file { mime: string }\n\
                  deny files:get on file\n  if resource.mime starts_with \"image/svg\"\n";
    let (code, out, err) = warden(&["lint", "--format", "json", "-"], Some(policy));
    assert_eq!(code, 1, "{err}");
    let all: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let codes: Vec<&str> = all.iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["case-sensitive-compare"], "{out}");
    let suppressed = policy.replace(
        "deny files:get",
        "# lint: allow(case-sensitive-compare) the host lower-cases types\ndeny files:get",
    );
    let (code, out, err) = warden(&["lint", "--format", "json", "-"], Some(&suppressed));
    assert_eq!(code, 0, "{out}{err}");
    // `warden check` still shows the checker's warning.
    let (code, _, err) = warden(&["check", "-"], Some(&suppressed));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("case-sensitive-compare") || err.contains("case-sensitively"),
        "{err}"
    );
}

#[test]
fn a_project_config_turns_lints_off() {
    let dir = std::env::temp_dir().join(format!("warden-lint-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let policy = dir.join("sub/site.warden");
    std::fs::write(
        &policy,
        "policy p\nheaders {\n  Strict-Transport-Security: \"max-age=60\"\n}\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let (code, _, err) = warden(&["lint", p], None);
    assert_eq!(code, 1, "{err}");
    std::fs::write(
        dir.join("warden.toml"),
        "[lint]\ndisable = [\"csp-missing\"]\nseverity = { hsts-short = \"off\" }\n",
    )
    .unwrap();
    let (code, _, err) = warden(&["lint", p], None);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        dir.join("warden.toml"),
        "[lint]\ndisable = [\"csp-mising\"]\n",
    )
    .unwrap();
    let (code, _, err) = warden(&["lint", p], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown lint `csp-mising` (did you mean `csp-missing`?)"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_and_explain() {
    let (code, out, _) = warden(&["lint", "--list"], None);
    assert_eq!(code, 0);
    assert!(out.contains("shadowed-rule"), "{out}");
    let (code, out, _) = warden(&["lint", "--explain", "hsts-short"], None);
    assert_eq!(code, 0);
    assert!(out.contains("31536000"), "{out}");
    let (code, _, err) = warden(&["lint", "--explain", "hsts-shrt"], None);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `hsts-short`?"), "{err}");
}

#[test]
fn the_examples_and_seed_policies_lint_clean() {
    let (code, _, err) = warden(&["lint", "examples/", "policies/"], None);
    assert_eq!(code, 0, "{err}");
}
