//! Snapshot tests of the diagnostics for every invalid policy in `tests/invalid/`.
//!
//! One data-driven harness: each `tests/invalid/NAME.warden` opens with
//! `# expect LINE:COL CODE: what it shows`, and may say on its second line
//! `# limits: max_ident_len=8, ...` to load it under smaller [`Limits`]. The harness
//! loads the file, checks that it fails, that the first diagnostic sits at LINE:COL and
//! that a diagnostic there has CODE, and snapshots the rendered output as `NAME`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use warden_lang::diag::{render, LineIndex};
use warden_lang::{load, Limits};

/// Fewer files than this means the corpus lost cases.
const MIN_CASES: usize = 45;

/// What a case's header comment promises.
#[derive(Debug)]
struct Expect {
    line: usize,
    col: usize,
    code: String,
    limits: Limits,
}

/// Parse `# expect 3:15 unknown-role: ...` and the optional `# limits: ...` line.
fn expectation(name: &str, src: &str) -> Expect {
    let mut lines = src.lines();
    let first = lines.next().unwrap_or_default();
    let rest = first
        .strip_prefix("# expect ")
        .unwrap_or_else(|| panic!("{name}: the first line must be `# expect LINE:COL CODE: ...`"));
    let (pos, rest) = rest
        .split_once(' ')
        .unwrap_or_else(|| panic!("{name}: no code after the position"));
    let (line, col) = pos
        .split_once(':')
        .unwrap_or_else(|| panic!("{name}: position `{pos}` is not LINE:COL"));
    let code = rest
        .split_once(':')
        .map_or(rest, |(code, _)| code)
        .trim()
        .to_string();
    let mut limits = Limits::default();
    if let Some(spec) = lines.next().and_then(|l| l.strip_prefix("# limits:")) {
        for kv in spec.split(',') {
            let (key, value) = kv
                .trim()
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}: `{kv}` is not KEY=VALUE"));
            let value: usize = value.parse().unwrap();
            match key {
                "max_source_bytes" => limits.max_source_bytes = value,
                "max_nesting" => limits.max_nesting = value,
                "max_ident_len" => limits.max_ident_len = value,
                "max_literal_len" => limits.max_literal_len = value,
                "max_expr_nodes" => limits.max_expr_nodes = value,
                "max_regex_bytes" => limits.max_regex_bytes = value,
                other => panic!("{name}: unknown limit `{other}`"),
            }
        }
    }
    Expect {
        line: line.parse().unwrap(),
        col: col.parse().unwrap(),
        code,
        limits,
    }
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "warden"))
        .collect();
    files.sort();
    files
}

#[test]
fn invalid_policies_have_exact_diagnostics() {
    let files = cases();
    assert!(
        files.len() >= MIN_CASES,
        "only {} invalid policies; the corpus needs at least {MIN_CASES}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let src = fs::read_to_string(path).unwrap();
        let expect = expectation(&stem, &src);
        let Err(diags) = load(&src, &expect.limits) else {
            failures.push(format!("{stem}: loaded without errors"));
            continue;
        };
        if !diags.iter().any(|d| d.is_error()) {
            failures.push(format!(
                "{stem}: no error among {} diagnostics",
                diags.len()
            ));
            continue;
        }
        let index = LineIndex::new(&src);
        let at = |d: &warden_lang::Diagnostic| index.line_col(&src, d.span.start as usize);
        let first = at(&diags[0]);
        if first != (expect.line, expect.col) {
            failures.push(format!(
                "{stem}: first diagnostic `{}` ({}) is at {}:{}, expected {}:{}",
                diags[0].message, diags[0].code, first.0, first.1, expect.line, expect.col
            ));
        }
        if !diags
            .iter()
            .any(|d| d.code == expect.code && at(d) == (expect.line, expect.col))
        {
            let found: Vec<String> = diags
                .iter()
                .map(|d| format!("{}:{} {}", at(d).0, at(d).1, d.code))
                .collect();
            failures.push(format!(
                "{stem}: no `{}` at {}:{}; found {found:?}",
                expect.code, expect.line, expect.col
            ));
        }
        let rendered = render(&format!("tests/invalid/{stem}.warden"), &src, &diags, false);
        insta::with_settings!({
            description => src.lines().next().unwrap_or_default(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(stem.as_str(), rendered);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The harness itself: a header comment is read as promised.
#[test]
fn expectation_header_is_parsed() {
    let e = expectation(
        "t",
        "# expect 3:15 unknown-role: a typo\n# limits: max_ident_len=8, max_nesting=4\n",
    );
    assert_eq!((e.line, e.col, e.code.as_str()), (3, 15, "unknown-role"));
    assert_eq!(e.limits.max_ident_len, 8);
    assert_eq!(e.limits.max_nesting, 4);
}
