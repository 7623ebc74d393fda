//! `warden test` through the built binary: failure output (snapshot), exit codes,
//! `--filter`, `--format json`, and test files or policies that do not load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Run `warden test ARGS` from the fixtures folder, so that paths in the output are short
/// and the same on every machine.
fn warden_test(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("test")
        .args(args)
        .current_dir(fixtures())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn failing_tests_print_what_was_expected_what_came_and_the_trace() {
    let (code, out, err) = warden_test(&["failing.test.toml"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err, "");
    insta::assert_snapshot!("failing", out);
}

#[test]
fn all_passing_exits_0_with_the_counts() {
    let (code, out, err) = warden_test(&["passing.test.toml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "5 passed, 0 failed (1 file)\n");
}

#[test]
fn a_directory_runs_every_test_file_under_it_in_name_order() {
    let (code, out, _) = warden_test(&[".", "--format", "json"]);
    assert_eq!(code, 1);
    let files: Vec<String> = json_lines(&out)
        .iter()
        .filter_map(|v| v["file"].as_str().map(str::to_owned))
        .fold(Vec::new(), |mut acc, f| {
            if acc.last() != Some(&f) {
                acc.push(f);
            }
            acc
        });
    assert_eq!(
        files,
        [
            "./bad/expect-typo.test.toml",
            "./bad/semantics.test.toml",
            "./bad/startup.test.toml",
            "./bad/syntax.test.toml",
            "./bad/typo.test.toml",
            "./broken/broken.test.toml",
            "./failing.test.toml",
            "./missing/missing-policy.test.toml",
            "./passing.test.toml",
            "./startup/startup.test.toml",
        ]
    );
}

#[test]
fn filter_selects_tests_by_file_and_name() {
    let (code, out, err) = warden_test(&["failing.test.toml", "--filter", "passes:"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "2 passed, 0 failed (1 file)\n");

    let (code, out, _) = warden_test(&[
        "failing.test.toml",
        "passing.test.toml",
        "--filter",
        "passing.test.toml::staff",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, "1 passed, 0 failed (1 file)\n");

    let (code, out, err) = warden_test(&["passing.test.toml", "--filter", "no such test"]);
    assert_eq!(
        code, 1,
        "a filter that selects nothing must not pass silently"
    );
    assert_eq!(out, "0 passed, 0 failed (0 files)\n");
    assert!(
        err.contains("no test matches --filter `no such test`"),
        "{err}"
    );
}

#[test]
fn json_gives_one_object_per_test_and_a_summary() {
    let (code, out, _) = warden_test(&["failing.test.toml", "--format", "json"]);
    assert_eq!(code, 1);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0]["passed"], true);
    assert_eq!(lines[0]["test"], "passes: a customer reads their order");
    let wrong = &lines[1];
    assert_eq!(wrong["passed"], false);
    assert_eq!(wrong["file"], "failing.test.toml");
    assert_eq!(
        wrong["failures"][0],
        "expected allow, got deny \"customers see their own orders only\" (shop.warden:13)"
    );
    assert_eq!(wrong["decision"]["rules"][0], "shop.warden:13");
    assert_eq!(wrong["trace"]["rules"][0]["matched"], true);
    assert_eq!(lines[4]["at"], "step 2, request 1 of 2");
    let http = &lines[5];
    assert_eq!(http["decision"]["status"], 302);
    assert_eq!(http["failures"].as_array().unwrap().len(), 5);
    assert_eq!(http["trace"]["path"], "/account/orders");
    assert_eq!(lines[6]["passed"], true);
    assert_eq!(
        lines[7]["summary"],
        serde_json::json!({"passed": 2, "failed": 5, "files": 1, "did_not_load": 0})
    );
}

#[test]
fn a_policy_that_does_not_load_is_reported_like_warden_check() {
    let (code, out, err) = warden_test(&["broken"]);
    assert_eq!(code, 1);
    assert_eq!(out, "0 passed, 0 failed (0 files, 1 file did not load)\n");
    assert!(
        err.starts_with("broken/broken.warden:3:7: error: unknown role `stafff`"),
        "{err}"
    );
    assert!(err.contains("did you mean `staff`?"), "{err}");
}

#[test]
fn a_missing_policy_file_points_at_the_policy_line() {
    let (code, _, err) = warden_test(&["missing"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(
            "missing/missing-policy.test.toml:1:10: error: cannot read policy \
             `missing/no-such-policy.warden`"
        ),
        "{err}"
    );
}

#[test]
fn a_toml_syntax_error_names_file_line_and_column() {
    let (code, _, err) = warden_test(&["bad/syntax.test.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("bad/syntax.test.toml:5:46: error: invalid inline table"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_errors_not_ignored() {
    let (code, _, err) = warden_test(&["bad/typo.test.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("bad/typo.test.toml:7:1: error: unknown field `expext`"),
        "{err}"
    );
    let (code, _, err) = warden_test(&["bad/expect-typo.test.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("bad/expect-typo.test.toml:7:29: error: unknown field `statuss`"),
        "{err}"
    );
}

#[test]
fn every_format_error_of_a_file_is_reported_in_one_run() {
    let (code, _, err) = warden_test(&["bad/semantics.test.toml"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("semantics", err);
}

#[test]
fn the_error_output_is_json_too() {
    let (code, out, _) = warden_test(&["bad/typo.test.toml", "--format", "json"]);
    assert_eq!(code, 1);
    let lines = json_lines(&out);
    assert_eq!(lines[0]["file"], "bad/typo.test.toml");
    assert_eq!(lines[0]["errors"][0]["line"], 7);
    assert_eq!(lines[1]["summary"]["did_not_load"], 1);
}

#[test]
fn a_broken_policy_is_reported_under_its_test_file_in_json() {
    let (code, out, _) = warden_test(&["broken", "--format", "json"]);
    assert_eq!(code, 1);
    let lines = json_lines(&out);
    assert_eq!(lines[0]["file"], "broken/broken.test.toml");
    assert_eq!(lines[0]["errors"][0]["file"], "broken/broken.warden");
    assert_eq!(lines[0]["errors"][0]["code"], "unknown-role");
}

#[test]
fn a_missing_path_is_an_error() {
    let (code, _, err) = warden_test(&["no/such/dir"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("`no/such/dir`: no such file or directory"),
        "{err}"
    );
}

#[test]
fn the_examples_pass() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["test", "examples"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" passed, 0 failed"), "{text}");
}

#[test]
fn startup_cases_expect_a_load_or_a_load_error() {
    let (code, out, err) = warden_test(&["startup"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.ends_with("4 passed, 3 failed (1 file)\n"), "{out}");
    let fails: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(
        fails,
        [
            "FAIL startup/startup.test.toml::fails: expects a load, but the secret is short (startup, env production): expected the policy to load, got \"API_SECRET has at least 16 characters\"",
            "FAIL startup/startup.test.toml::fails: expects a failure, but the policy loads (startup, env production): expected a load error saying \"at least 16 characters\", but the policy loaded",
            "FAIL startup/startup.test.toml::fails: refused for another reason than the expected one (startup, env production): expected a load error saying \"no such reason\", got \"API_SECRET has at least 16 characters\"",
        ]
    );
    // The load errors are shown under the failure, naming the secret, never its value.
    assert!(out.contains("keys.warden:3:"), "{out}");
    assert!(
        !out.contains("short-value") && !out.contains("file-secret"),
        "{out}"
    );

    let (code, out, _) = warden_test(&["startup", "--filter", "passes:"]);
    assert_eq!(code, 0);
    assert_eq!(out, "4 passed, 0 failed (1 file)\n");

    let (_, out, _) = warden_test(&["startup", "--format", "json"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0]["passed"], true);
    let short = &lines[4];
    assert_eq!(short["passed"], false);
    assert_eq!(short["at"], "startup, env production");
    assert_eq!(
        short["trace"]["load_errors"][0]["code"],
        "startup-check-failed"
    );
    assert!(!out.contains("short-value"), "{out}");
    assert_eq!(
        lines[7]["summary"],
        serde_json::json!({"passed": 4, "failed": 3, "files": 1, "did_not_load": 0})
    );
}

#[test]
fn startup_cases_are_checked_before_anything_runs() {
    let (code, out, err) = warden_test(&["bad/startup.test.toml"]);
    assert_eq!(code, 1);
    assert_eq!(out, "0 passed, 0 failed (0 files, 1 file did not load)\n");
    for msg in [
        "bad/startup.test.toml:5:10: error: `expect` of a `[[startup]]` is \"load\" or \"fail\"",
        "`expect = \"fail\"` needs `because`",
        "`because` applies to `expect = \"fail\"` only",
        "duplicate test name `a load with a reason` (first used on line 12)",
    ] {
        assert!(err.contains(msg), "{msg}\n{err}");
    }
}

#[test]
fn coverage_names_what_no_test_exercised_and_fail_uncovered_fails_on_it() {
    let (code, out, err) = warden_test(&["passing.test.toml", "--coverage"]);
    assert_eq!(code, 0, "{err}");
    // No test refunds, nor requests /account/** or /help/**.
    assert!(
        out.ends_with(
            "coverage:\n  shop.warden: grants 1/2, rules 1/1, routes 1/3, limits 1/1, headers 1/1\n\
             \x20   not covered: grant shop.warden:8 `grant staff: orders:refund`\n\
             \x20   not covered: route shop.warden:17 `route /account/** {`\n\
             \x20   not covered: route shop.warden:21 `route /help/** {`\n"
        ),
        "{out}"
    );

    // The same run with --fail-uncovered (which implies --coverage) fails, and says why.
    let (code, strict, err) = warden_test(&["passing.test.toml", "--fail-uncovered"]);
    assert_eq!(code, 1, "{strict}");
    assert_eq!(strict, out);
    assert!(err.contains("--fail-uncovered"), "{err}");
    let (code, json, _) =
        warden_test(&["passing.test.toml", "--fail-uncovered", "--format", "json"]);
    assert_eq!(code, 1);
    let report = json_lines(&json).pop().unwrap();
    assert_eq!(
        report["coverage"][0]["uncovered"].as_array().unwrap().len(),
        3,
        "{report}"
    );
}

#[test]
fn fail_uncovered_passes_when_everything_is_exercised() {
    let dir = std::env::temp_dir().join(format!("warden-cov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.warden"),
        "policy p\nrole viewer\ngrant viewer: pages:read\n\
         deny pages:read unless principal.id != \"banned\" because \"banned\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("p.test.toml"),
        "policy = \"p.warden\"\n\n\
         [[test]]\nname = \"a viewer reads\"\n\
         principal = { id = \"u1\", roles = [\"viewer\"] }\naction = \"pages:read\"\nexpect = \"allow\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["test", "--fail-uncovered", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("grants 1/1, rules 1/1"), "{stdout}");
    assert!(
        stdout.contains("every grant, rule, route, limit and header line is exercised"),
        "{stdout}"
    );
}
