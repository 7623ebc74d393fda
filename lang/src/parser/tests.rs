//! The two parsers of `grammar.rs` against each other: on every policy of the repository
//! and prefixes of each (most of them broken), and on edge cases of comments, they accept
//! the same texts with the same pairs (comments aside), and the comments the lowering
//! finds in the text are exactly the `COMMENT` pairs of the diagnostic parser.

use super::grammar::{diag, PestParser};
use super::lower::{comment_spans, literal_ranges};
use pest::Parser as _;
use std::path::Path;

/// Comments next to strings, regexes and script blocks holding `#`, at the end of the
/// file with and without a line break, with `\r\n`, trailing blanks, and none at all.
const EDGE_CASES: &[&str] = &[
    "policy p",
    "policy p # end",
    "policy p # end\n",
    "# first\npolicy p\n#last",
    "policy p\r\n# crlf\r\nrole a # x \r\n",
    "policy p\nheaders {\n  X-A: \"a#b\" # not \"this\"\n  X-B: \"#\"#c\n}\n",
    "policy p\nroute /x {\n  require input.s matches /^#[a-z]+$/ # re\n}\n",
    "policy p\nscript {\n  let m = #{ a: \"#\" }; // #\n  fn f(x) { x } # rhai\n}\n# after\n",
    "policy p\nallow posts:read # one\n  if principal.id == \"#\" # two\n  because \"#\" # three\n",
    "policy p\ngrant viewer posts:read\n",
    "policy p\nrole a #\n\n\n# gap\n",
];

/// Each pair as (rule name, start, end), in order, without comment pairs.
fn fast_pairs(text: &str) -> Option<Vec<(String, usize, usize)>> {
    let pairs = PestParser::parse(super::grammar::Rule::file, text).ok()?;
    Some(
        pairs
            .flatten()
            .map(|p| {
                (
                    format!("{:?}", p.as_rule()),
                    p.as_span().start(),
                    p.as_span().end(),
                )
            })
            .collect(),
    )
}

/// The same for the diagnostic parser, and its comment pairs apart.
type DiagPairs = (Vec<(String, usize, usize)>, Vec<(usize, usize)>);
fn diag_pairs(text: &str) -> Option<DiagPairs> {
    let pairs = diag::DiagParser::parse(diag::Rule::file, text).ok()?;
    let (comments, rest): (Vec<_>, Vec<_>) = pairs
        .flatten()
        .partition(|p| p.as_rule() == diag::Rule::COMMENT);
    Some((
        rest.iter()
            .map(|p| {
                (
                    format!("{:?}", p.as_rule()),
                    p.as_span().start(),
                    p.as_span().end(),
                )
            })
            .collect(),
        comments
            .iter()
            .map(|p| (p.as_span().start(), p.as_span().end()))
            .collect(),
    ))
}

fn same_outcome(name: &str, text: &str) {
    let fast = fast_pairs(text);
    let diag = diag_pairs(text);
    assert_eq!(
        fast.is_some(),
        diag.is_some(),
        "{name}: one parser accepts it"
    );
    if let (Some(fast), Some((diag, comments))) = (fast, diag) {
        assert_eq!(fast, diag, "{name}: pairs differ");
        let file = PestParser::parse(super::grammar::Rule::file, text)
            .ok()
            .and_then(|mut p| p.next());
        let found = file.map_or_else(Vec::new, |f| {
            comment_spans(f.as_str(), f.as_span().start(), &literal_ranges(f.clone()))
        });
        assert_eq!(found, comments, "{name}: comments differ");
    }
}

#[test]
fn edge_cases() {
    for (i, text) in EDGE_CASES.iter().enumerate() {
        same_outcome(&format!("edge case {i}"), text);
        // The broken ones must be refused by both, and the valid ones accepted.
        assert_eq!(fast_pairs(text).is_some(), i != 9, "edge case {i}");
    }
}

#[test]
fn every_policy_and_prefixes_of_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["examples", "policies", "lang/tests/invalid", "fuzz/seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue; // a packaged crate has only its own directory
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "warden") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    let mut accepted = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let name = path.display().to_string();
        accepted += usize::from(fast_pairs(&text).is_some());
        same_outcome(&name, &text);
        // Prefixes: mostly broken texts, cut inside comments, strings and blocks.
        for cut in (1..text.len()).step_by(97) {
            if text.is_char_boundary(cut) {
                same_outcome(&format!("{name}[..{cut}]"), &text[..cut]);
            }
        }
    }
    if !files.is_empty() {
        assert!(
            accepted > files.len() / 2,
            "{accepted} of {} parse",
            files.len()
        );
    }
}
