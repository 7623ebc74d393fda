//! The HTTP statements that closed expressiveness gaps (policies/GAPS.md): each
//! parses to its syntax tree, checks clean, and formats back to itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use warden_lang::ast::{AuthText, AuthValue, CorsValue, Item, ReqKind, RouteStmt};
use warden_lang::{diag, format_source, load, Checked, Limits};

fn clean(source: &str) -> Checked {
    match load(source, &Limits::default()) {
        Ok(c) => {
            assert!(c.warnings.is_empty(), "{:?}", c.warnings);
            c
        }
        Err(d) => panic!("{}", diag::render("t.warden", source, &d, false)),
    }
}

/// Formatting is the identity on canonical text.
fn formats_to_itself(source: &str) {
    assert_eq!(format_source(source, &Limits::default()).unwrap(), source);
}

fn route_stmts(c: &Checked) -> Vec<&RouteStmt> {
    c.policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Route(r) => Some(r),
            _ => None,
        })
        .flat_map(|r| r.body.iter())
        .collect()
}

#[test]
fn limit_only_parses_checks_and_formats() {
    let src = "policy p\n\nlimit login: 5 per 1m by ip\nlimit other: 9 per 1m by ip\n\nroute POST /login {\n  limit login, other only\n}\n";
    let c = clean(src);
    let stmts = route_stmts(&c);
    match stmts.as_slice() {
        [RouteStmt::LimitOnly(names, _)] => {
            let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            assert_eq!(names, ["login", "other"]);
        }
        other => panic!("{other:?}"),
    }
    formats_to_itself(src);
    // Without `only` it stays an ordinary limit statement.
    let plain = src.replace(" only", "");
    assert!(matches!(
        route_stmts(&clean(&plain)).as_slice(),
        [RouteStmt::Limit(..)]
    ));
}

#[test]
fn limit_only_names_are_checked() {
    let src = "policy p\nroute /login {\n  limit logn only\n}\n";
    let diags = load(src, &Limits::default()).unwrap_err();
    assert_eq!(diags[0].code, "unknown-limit");
}

#[test]
fn hosts_and_host_target_placeholders_parse_check_and_format() {
    let src = "policy p\n\nhosts: \"myapp.com\", \"admin.myapp.com:8443\"\n\nroute /** {\n  require header x-forwarded-proto == \"https\" else redirect 301 \"https://{host}{target}\"\n}\n\nroute /old/** {\n  require false else redirect \"{target}\"\n}\n\nroute /v1/** {\n  require false else redirect \"https://myapp.com{target}\"\n}\n";
    let c = clean(src);
    let hosts: Vec<&str> = c
        .policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Hosts(h) => Some(h),
            _ => None,
        })
        .flat_map(|h| h.hosts.iter().map(|s| s.value.as_str()))
        .collect();
    assert_eq!(hosts, ["myapp.com", "admin.myapp.com:8443"]);
    formats_to_itself(src);
}

#[test]
fn misplaced_placeholders_and_bad_hosts_are_errors() {
    for (src, code) in [
        ("policy p\nhosts: \"a.com\"\nroute /x { require false else redirect \"https://{host}:8080/\" }\n", "invalid-redirect"),
        ("policy p\nroute /x { require false else redirect \"https://a.com/x{target}\" }\n", "invalid-redirect"),
        ("policy p\nroute /x { require false else redirect \"{target}/more\" }\n", "invalid-redirect"),
        ("policy p\nroute /x { require false else redirect \"http://{host}/\" }\n", "host-without-hosts"),
        ("policy p\nhosts: \"a.com/x\"\n", "invalid-host"),
        ("policy p\nhosts: \"a.com:99999\"\n", "invalid-host"),
        ("policy p\nhosts: \"-a.com\"\n", "invalid-host"),
        ("policy p\nhosts: \"*.a.com\"\n", "invalid-host"),
    ] {
        let diags = load(src, &Limits::default()).unwrap_err();
        assert_eq!(diags[0].code, code, "{src}");
    }
}

#[test]
fn signature_requirements_parse_check_and_format() {
    let src = "policy p\n\nroute POST /hooks/stripe {\n  public\n  require signature stripe(header stripe-signature, secret(STRIPE_WEBHOOK_SECRET)) tolerance 5m else 400\n  require signature stripe(header stripe-signature, secret(OLD_SECRET)?)\n}\n";
    let c = clean(src);
    let sigs: Vec<_> = route_stmts(&c)
        .into_iter()
        .filter_map(|s| match s {
            RouteStmt::Require(r) => match &r.kind {
                warden_lang::ast::ReqKind::Signature(sig) => Some(sig),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[0].scheme.name, "stripe");
    assert_eq!(sigs[0].header.name, "stripe-signature");
    assert_eq!(sigs[0].tolerance.map(|d| d.millis()), Some(300_000));
    assert_eq!(sigs[1].tolerance, None);
    formats_to_itself(src);
    // `signature` stays usable as a role name in an expression.
    clean("policy p\nrole signature\nroute /x {\n  require auth\n}\n");
}

#[test]
fn a_signing_key_is_a_named_secret() {
    let bad = "policy p\nroute /x { require signature stripe(header s, secret(lower_case)) }\n";
    let diags = load(bad, &Limits::default()).unwrap_err();
    assert_eq!(diags[0].code, "invalid-secret-name");
    let literal = "policy p\nroute /x { require signature stripe(header s, \"whsec_1\") }\n";
    assert!(load(literal, &Limits::default()).is_err());
}

#[test]
fn cookie_rules_parse_check_and_format() {
    let src = "policy p\n\ncookies {\n  refreshToken: http_only, secure, same_site strict, path \"/api/auth/refresh\", max_age 7d\n  __Secure-better-auth.session_token: http_only, secure, same_site lax # Better-auth\n  embed: secure, same_site none\n}\n";
    let c = clean(src);
    let rules: Vec<_> = c
        .policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Cookies(c) => Some(c),
            _ => None,
        })
        .flat_map(|c| c.rules.iter())
        .collect();
    let names: Vec<&str> = rules.iter().map(|r| r.name.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "refreshToken",
            "__Secure-better-auth.session_token",
            "embed"
        ]
    );
    assert_eq!(rules[0].attrs.len(), 5);
    formats_to_itself(src);
}

#[test]
fn cookie_rule_mistakes_are_errors() {
    for (src, code) in [
        ("policy p\ncookies {\n  s: secure, secure\n}\n", "duplicate"),
        (
            "policy p\ncookies {\n  s: path \"/a;b\"\n}\n",
            "invalid-cookie",
        ),
        (
            "policy p\ncookies {\n  s: same_site none\n}\n",
            "insecure-cookie",
        ),
    ] {
        let diags = load(src, &Limits::default()).unwrap_err();
        assert_eq!(diags[0].code, code, "{src}");
    }
    // A syntax error names what a cookie rule may say.
    let diags = load(
        "policy p\ncookies {\n  s: httponly\n}\n",
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        diags[0].message.contains("cookie attribute"),
        "{}",
        diags[0].message
    );
}

#[test]
fn require_first_parses_checks_and_formats() {
    let src = "policy p\n\nhosts: \"a.example\"\n\nroute /** {\n  require first env != \"production\" or header x-forwarded-proto == \"https\" else redirect 301 \"https://{host}{target}\"\n  require first request.method != \"TRACE\" else 405\n}\n";
    let c = clean(src);
    match route_stmts(&c).as_slice() {
        [RouteStmt::Require(a), RouteStmt::Require(b)] => {
            assert!(matches!(a.kind, ReqKind::First(_)), "{:?}", a.kind);
            assert!(matches!(b.kind, ReqKind::First(_)), "{:?}", b.kind);
        }
        other => panic!("{other:?}"),
    }
    formats_to_itself(src);
}

#[test]
fn require_first_cannot_read_the_principal() {
    for cond in [
        "principal.id == \"u1\"",
        "principal is admin",
        "header x-forwarded-proto == \"https\" or principal is admin",
    ] {
        let src = format!("policy p\nrole admin\nroute /** {{\n  require first {cond}\n}}\n");
        let diags = load(&src, &Limits::default()).unwrap_err();
        assert_eq!(diags[0].code, "principal-before-auth", "{cond}");
        assert!(diags[0].message.contains("before authentication"), "{cond}");
    }
    // The same condition in a plain `require` is fine.
    clean("policy p\nrole admin\nroute /** {\n  require principal is admin\n}\n");
}

#[test]
fn a_condition_starting_with_the_word_first_keeps_its_meaning() {
    // A role named `first` in a plain requirement: the formatter parenthesises it, so
    // the text never turns into `require first ...`.
    let src = "policy p\nrole first\nprincipal { id: string, roles: set<role> }\nroute /x {\n  require (first in principal.roles)\n}\n";
    let c = clean(src);
    assert!(matches!(
        route_stmts(&c).as_slice(),
        [RouteStmt::Require(r)] if matches!(r.kind, ReqKind::Expr(_))
    ));
    let formatted = format_source(src, &Limits::default()).unwrap();
    assert!(
        formatted.contains("require (first in principal.roles)"),
        "{formatted}"
    );
}

#[test]
fn refuse_unlisted_parses_formats_and_is_set_once() {
    let src = "policy p\n\ncors {\n  origins: \"https://a.example\"\n  refuse_unlisted: true\n}\n";
    let c = clean(src);
    let cors = c
        .policy
        .items
        .iter()
        .find_map(|i| match i {
            Item::Cors(c) => Some(c),
            _ => None,
        })
        .unwrap();
    assert!(cors
        .entries
        .iter()
        .any(|e| e.value == CorsValue::RefuseUnlisted(Some(403))));
    formats_to_itself(src);
    let twice = src.replace(
        "  refuse_unlisted: true\n",
        "  refuse_unlisted: true\n  refuse_unlisted: false\n",
    );
    let diags = load(&twice, &Limits::default()).unwrap_err();
    assert_eq!(diags[0].code, "duplicate");
    // A status of its own (the `cors` package's erroring callback in Express: 500).
    let status = src.replace("refuse_unlisted: true", "refuse_unlisted: 500");
    let c = clean(&status);
    assert!(c.policy.items.iter().any(|i| matches!(i, Item::Cors(c)
        if c.entries.iter().any(|e| e.value == CorsValue::RefuseUnlisted(Some(500))))));
    formats_to_itself(&status);
    for bad in ["200", "302"] {
        let diags = load(&src.replace("true", bad), &Limits::default()).unwrap_err();
        assert_eq!(diags[0].code, "invalid-status", "{bad}");
    }
}

#[test]
fn issuer_and_audience_read_settings() {
    let src = "policy p\n\nprincipal { id: string, roles: set<role> }\n\nauth jwt {\n  algorithms: RS256\n  keys: jwks(OIDC_JWKS)\n  issuer: config(OIDC_ISSUER), \"https://old.example\"\n  audience: config(OIDC_AUDIENCE)\n}\n";
    let c = clean(src);
    let auth = c
        .policy
        .items
        .iter()
        .find_map(|i| match i {
            Item::Auth(a) => Some(a),
            _ => None,
        })
        .unwrap();
    let issuer = auth
        .entries
        .iter()
        .find_map(|e| match &e.value {
            AuthValue::Issuer(xs) => Some(xs),
            _ => None,
        })
        .unwrap();
    assert!(
        matches!(&issuer[..], [AuthText::Config(n), AuthText::Lit(s)]
        if n.name == "OIDC_ISSUER" && s.value == "https://old.example")
    );
    formats_to_itself(src);
    let bad = src.replace("config(OIDC_AUDIENCE)", "config(oidc_audience)");
    let diags = load(&bad, &Limits::default()).unwrap_err();
    assert_eq!(diags[0].code, "invalid-config-name");
}
