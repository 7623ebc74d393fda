//! Every lint flags its dedicated bad example (`tests/bad/*.warden`) exactly where the
//! file's `# expect: ID, ...` comments say, and nowhere else. A trailing `# expect:`
//! is about its own line; one on a line of its own, about the next line.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use warden_lang::diag::LineIndex;
use warden_lang::Limits;
use warden_lint::{lint, Config, LINTS};

fn expected(source: &str) -> BTreeSet<(usize, String)> {
    let mut out = BTreeSet::new();
    for (i, line) in source.lines().enumerate() {
        let Some(at) = line.find("# expect: ") else {
            continue;
        };
        let target = if line[..at].trim().is_empty() {
            i + 2
        } else {
            i + 1
        };
        for id in line[at + "# expect: ".len()..].split(',') {
            out.insert((target, id.trim().to_string()));
        }
    }
    out
}

fn findings(source: &str) -> BTreeSet<(usize, String)> {
    let checked = match warden_lang::load(source, &Limits::default()) {
        Ok(c) => c,
        Err(d) => panic!("the fixture does not check: {d:?}"),
    };
    let index = LineIndex::new(source);
    lint(&checked.policy, source, &Config::default())
        .into_iter()
        .map(|f| {
            (
                index.line_col(source, f.span.start as usize).0,
                f.code.to_string(),
            )
        })
        .collect()
}

#[test]
fn each_bad_example_is_flagged_exactly_where_expected() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    assert!(files.len() >= 10, "fixtures missing in {}", dir.display());
    let mut flagged = BTreeSet::new();
    for path in files {
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        let want = expected(&source);
        let got = findings(&source);
        assert_eq!(got, want, "{}", path.display());
        flagged.extend(got.into_iter().map(|(_, id)| id));
    }
    for l in LINTS {
        assert!(flagged.contains(l.id), "no bad example flags `{}`", l.id);
    }
}

#[test]
fn project_config_turns_lints_off_and_changes_severity() {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/hsts-short.warden"),
    )
    .unwrap_or_default();
    let checked = warden_lang::load(&source, &Limits::default()).ok();
    let policy = checked.map(|c| c.policy).expect("fixture checks");
    let off = Config::parse("[lint]\ndisable = [\"hsts-short\"]\n").expect("valid config");
    assert!(lint(&policy, &source, &off).is_empty());
    let err = Config::parse("[lint]\nseverity = { hsts-short = \"error\" }\n").expect("valid");
    let f = lint(&policy, &source, &err);
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|d| d.is_error()));
}
