//! `warden check` through the built binary: exit codes, text and JSON diagnostics, bad files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn warden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warden"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_tour_checks_clean() {
    let out = warden()
        .arg("check")
        .arg(root().join("examples/00-tour.warden"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn errors_name_file_line_and_column_with_a_caret() {
    let path = temp_file(
        "typo.warden",
        b"policy p\nrole admin\ngrant admn: posts:read\n",
    );
    let out = warden().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        format!("{}:3:7: error: unknown role `admn`", path.display())
    );
    assert!(err.contains("3 | grant admn: posts:read"), "{err}");
    assert!(err.contains("^^^^"), "{err}");
    assert!(err.contains("did you mean `admin`?"), "{err}");
}

#[test]
fn every_file_and_every_error_is_reported() {
    let a = temp_file("a.warden", b"policy a\nrole x > y\nrole z > w\n");
    let b = temp_file("b.warden", b"policy b\nrole ok\n");
    let out = warden().arg("check").arg(&a).arg(&b).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a.warden:2:10: error: unknown role `y`"),
        "{err}"
    );
    assert!(
        err.contains("a.warden:3:10: error: unknown role `w`"),
        "{err}"
    );
    assert!(!err.contains("b.warden"), "{err}");
}

#[test]
fn json_format_is_machine_readable() {
    let path = temp_file("j.warden", b"policy p\nroute /a/ { public }\n");
    let out = warden()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v[0];
    assert_eq!(d["line"], 2);
    assert_eq!(d["column"], 7);
    assert_eq!(d["code"], "invalid-pattern");
    assert_eq!(d["severity"], "error");
}

#[test]
fn invalid_utf8_is_a_diagnostic_not_a_crash() {
    let path = temp_file("bin.warden", b"policy p\nrole \xff\xfe\n");
    let out = warden().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":2:6: error: file is not valid UTF-8 (byte 14)"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_reported() {
    let out = warden()
        .args(["check", "/nonexistent/policy.warden"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read file"));
}
