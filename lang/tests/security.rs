//! Checker rules of issue 15: case-blind values compared case-sensitively warn (and
//! `lower(...)` is the fix, which parses, checks and formats back to itself); a secret
//! passed to a script function is a load error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use warden_lang::{diag, format_source, load, Limits};

const SHAPES: &str =
    "policy p\nresource file { mime: string }\ninput { mime: string?, content_type: string? }\n";

fn warnings(body: &str) -> Vec<&'static str> {
    let src = format!("{SHAPES}{body}\n");
    match load(&src, &Limits::default()) {
        Ok(c) => c.warnings.iter().map(|d| d.code).collect(),
        Err(d) => panic!("{}", diag::render("t.warden", &src, &d, false)),
    }
}

fn errors(body: &str) -> Vec<(&'static str, String)> {
    let src = format!("{SHAPES}{body}\n");
    match load(&src, &Limits::default()) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .map(|d| {
                (
                    d.code,
                    diag::render("t.warden", &src, std::slice::from_ref(d), false),
                )
            })
            .collect(),
    }
}

#[test]
fn case_blind_values_compared_case_sensitively_warn() {
    for body in [
        "deny files:serve on file if resource.mime starts_with \"image/svg\"",
        "deny files:serve on file if resource.mime == \"image/svg+xml\"",
        "deny files:serve on file if resource.mime in [\"text/html\", \"image/svg+xml\"]",
        "deny files:serve on file if resource.mime matches /svg/",
        "route /up { require header content-type starts_with \"application/json\" }",
        "route /up { require (input.content_type ?? \"\") ends_with \"+xml\" }",
        "route /ws { require header upgrade == \"websocket\" }",
    ] {
        assert_eq!(warnings(body), ["case-sensitive-compare"], "{body}");
    }
}

#[test]
fn lower_compares_case_blind_and_stays_quiet() {
    for body in [
        "deny files:serve on file if lower(resource.mime) starts_with \"image/svg\"",
        "deny files:serve on file if resource.mime matches /(?i)svg/",
        "route /up { require lower(header content-type) starts_with \"application/json\" }",
        "route /up { require lower(input.content_type ?? \"\") ends_with \"+xml\" }",
        // A header that is not case-blind (a token) and text without letters are fine.
        "route /x { require header x-token == \"abc\" }",
        "deny files:serve on file if resource.mime == \"*/*\"",
    ] {
        assert!(warnings(body).is_empty(), "{body}");
    }
    let canonical = "policy p\n\nresource file { mime: string }\ninput { mime: string?, content_type: string? }\n\ndeny files:serve on file if lower(resource.mime) starts_with \"image/svg\"\n";
    assert_eq!(
        format_source(canonical, &Limits::default()).unwrap(),
        canonical
    );
    // `lower` takes text.
    let e = errors("deny files:serve on file if lower(1) == \"a\"");
    assert!(e.iter().any(|(c, _)| *c == "type-mismatch"), "{e:?}");
}

#[test]
fn a_secret_passed_to_a_script_function_is_a_load_error() {
    let script = "script {\n  fn bearer(t) { \"Bearer \" + t }\n}\n";
    for body in [
        "route /cron { header set X-Build: \"ok-\" + bearer(secret(CRON_SECRET)) }",
        "route /cron { require header authorization == bearer(secret(CRON_SECRET)) }",
        "route /cron { require header authorization == bearer(\"x\" + secret(CRON_SECRET)) }",
        "route /cron { require header authorization == bearer(if true then secret(CRON_SECRET) else \"\") }",
    ] {
        let e = errors(&format!("{script}{body}"));
        let hit = e.iter().find(|(c, _)| *c == "secret-to-script");
        let Some((_, text)) = hit else {
            panic!("{body}: {e:?}")
        };
        assert!(text.contains("cannot be passed to script function `bearer`"), "{text}");
    }
    // Building the value in the policy is the way, and loads.
    let ok = errors(&format!(
        "{script}route /cron {{ require header authorization == \"Bearer \" + secret(CRON_SECRET) }}"
    ));
    assert!(ok.is_empty(), "{ok:?}");
}
