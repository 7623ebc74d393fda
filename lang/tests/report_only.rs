//! `report_only` on a policy, a deny rule, a limit and a requirement: parsed into the
//! tree with the word's place, printed back by the formatter, and refused by the
//! checker where it means nothing (an allow rule) with file:line:col.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use warden_lang::ast::{Item, ReqKind, RouteStmt};
use warden_lang::diag::LineIndex;
use warden_lang::{check, format_source, load, parse, stripped, Limits, Severity};

const POLICY: &str = r#"policy app report_only

role admin

grant admin: docs:*

deny docs:delete if principal.id != "root" because "only root deletes" missing skip report_only

limit api: 60 per 1m by ip strict report_only

route /admin/** {
  require role admin else 404 report_only
  require first header x-forwarded-proto == "https" report_only
  require auth
  limit api
}
"#;

/// Line and column of a diagnostic, as `warden check` prints them.
fn at(src: &str, offset: u32) -> (usize, usize) {
    LineIndex::new(src).line_col(src, offset as usize)
}

#[test]
fn each_place_is_parsed_with_the_word_s_position() {
    let p = parse(POLICY, &Limits::default()).unwrap();
    assert_eq!(at(POLICY, p.report_only.unwrap().start), (1, 12));
    let mut rules = 0;
    let mut limits = 0;
    let mut reqs = Vec::new();
    for item in &p.items {
        match item {
            Item::Rule(r) => {
                rules += 1;
                assert_eq!(at(POLICY, r.report_only.unwrap().start), (7, 85));
            }
            Item::Limit(l) => {
                limits += 1;
                assert!(l.strict);
                assert_eq!(at(POLICY, l.report_only.unwrap().start), (9, 35));
            }
            Item::Route(r) => {
                for s in &r.body {
                    if let RouteStmt::Require(q) = s {
                        reqs.push((matches!(q.kind, ReqKind::First(_)), q.report_only.is_some()));
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!((rules, limits), (1, 1));
    assert_eq!(reqs, [(false, true), (true, true), (false, false)]);
}

#[test]
fn the_formatter_prints_it_back_and_round_trips() {
    let once = format_source(POLICY, &Limits::default()).unwrap();
    assert_eq!(once, POLICY, "canonical text is printed unchanged");
    // Laid out differently, the same tree.
    let messy = POLICY
        .replace(" report_only\n", "\n   report_only   # kept\n")
        .replace(
            "policy app\n   report_only   # kept\n",
            "policy app report_only\n",
        );
    let printed = format_source(&messy, &Limits::default()).unwrap();
    assert_eq!(
        stripped(&parse(&printed, &Limits::default()).unwrap()),
        stripped(&parse(POLICY, &Limits::default()).unwrap())
    );
    assert_eq!(printed.matches("report_only").count(), 5);
    assert_eq!(printed.matches("# kept").count(), 4);
    // Without the word, nothing is printed for it.
    let plain = POLICY.replace(" report_only", "");
    let p = parse(&plain, &Limits::default()).unwrap();
    assert!(p.report_only.is_none());
    assert!(!format_source(&plain, &Limits::default())
        .unwrap()
        .contains("report_only"));
}

#[test]
fn redundant_marks_in_a_report_only_policy_are_warnings_with_their_place() {
    let checked = load(POLICY, &Limits::default()).unwrap();
    let places: Vec<(usize, usize, &str)> = checked
        .warnings
        .iter()
        .filter(|d| d.code == "report-only-redundant")
        .map(|d| {
            let (l, c) = at(POLICY, d.span.start);
            (l, c, d.code)
        })
        .collect();
    assert_eq!(
        places,
        [
            (7, 85, "report-only-redundant"),
            (9, 35, "report-only-redundant"),
            (12, 31, "report-only-redundant"),
            (13, 53, "report-only-redundant"),
        ]
    );
    // Enforced policy: the same marks are what they say, and not warned about.
    let enforced = POLICY.replacen("policy app report_only", "policy app", 1);
    let checked = load(&enforced, &Limits::default()).unwrap();
    assert!(checked
        .warnings
        .iter()
        .all(|d| !d.code.starts_with("report-only")));
}

#[test]
fn an_allow_rule_cannot_be_report_only() {
    let src = "policy t\nrole a\nallow docs:read report_only\ndeny docs:write report_only\n";
    let diags = check(&parse(src, &Limits::default()).unwrap(), &Limits::default());
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code, at(src, d.span.start)))
        .collect();
    assert_eq!(errors, [("report-only-allow", (3, 17))]);
}

#[test]
fn it_stands_only_where_the_grammar_puts_it() {
    for bad in [
        "policy t\nrole a\ngrant a: docs:read report_only\n",
        "policy t\nroute /x {\n  public report_only\n}\n",
        "policy t\ndeny docs:read report_only because \"x\"\n",
        "policy t\nlimit l: 1 per 1m by ip report_only strict\n",
        "policy t report_only report_only\n",
    ] {
        assert!(parse(bad, &Limits::default()).is_err(), "{bad}");
    }
    // A reserved word: no role is called so, so `is report_only` names none.
    let err = load(
        "policy t\nrole a\ngrant a: x\ndeny x if principal is report_only\n",
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.iter().any(|d| d.code == "unknown-role"), "{err:?}");
    // A role name before the word is still a role name.
    let p = parse(
        "policy t\nrole a\ndeny x if principal is a report_only\n",
        &Limits::default(),
    )
    .unwrap();
    assert!(matches!(&p.items[1], Item::Rule(r) if r.report_only.is_some()));
}
