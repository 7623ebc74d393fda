//! The `auth` blocks in the front-end: what the parser builds from them, that the
//! checker accepts the examples, and that formatting keeps them (and their comments).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use warden_lang::ast::*;
use warden_lang::{format_source, load, parse, stripped, Limits};

const JWT: &str = include_str!("../../examples/08-jwt-auth.warden");
const KEYS: &str = include_str!("../../examples/07-api-keys.warden");

fn auth_items(p: &Policy) -> Vec<&AuthDecl> {
    p.items
        .iter()
        .filter_map(|i| match i {
            Item::Auth(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn jwt_block_is_parsed_line_by_line() {
    let p = parse(JWT, &Limits::default()).unwrap();
    let a = auth_items(&p);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].kind, AuthKind::Jwt);
    let keys: Vec<_> = a[0].entries.iter().map(|e| e.value.key()).collect();
    assert_eq!(
        keys,
        [
            "from",
            "algorithms",
            "keys",
            "issuer",
            "audience",
            "leeway",
            "principal",
            "principal",
            "principal"
        ]
    );
    let AuthValue::Keys(ks) = &a[0].entries[2].value else {
        panic!("keys");
    };
    assert_eq!(
        ks.iter()
            .map(|k| (k.kind, k.name.name.as_str(), k.optional))
            .collect::<Vec<_>>(),
        [
            (KeyKind::Secret, "JWT_SECRET", false),
            (KeyKind::Secret, "JWT_SECRET_PREVIOUS", true)
        ]
    );
    let AuthValue::Claim { attr, claims } = &a[0].entries[7].value else {
        panic!("claim");
    };
    assert_eq!(attr.name, "roles");
    assert_eq!(
        claims.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["roles", "role"]
    );
}

#[test]
fn api_key_block_maps_keys_to_principals() {
    let p = parse(KEYS, &Limits::default()).unwrap();
    let a = auth_items(&p);
    let AuthValue::Key {
        keys, principal, ..
    } = &a[0].entries[1].value
    else {
        panic!("key");
    };
    assert_eq!(keys.len(), 2);
    assert!(keys[1].optional);
    let names: Vec<_> = principal.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(names, ["id", "roles", "org"]);
}

#[test]
fn examples_check_clean_and_format_stably() {
    for src in [
        JWT,
        KEYS,
        include_str!("../../examples/12-startup-checks.warden"),
    ] {
        let checked = load(src, &Limits::default()).unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let once = format_source(src, &Limits::default()).unwrap();
        assert_eq!(format_source(&once, &Limits::default()).unwrap(), once);
        let again = parse(&once, &Limits::default()).unwrap();
        assert_eq!(stripped(&again), stripped(&checked.policy));
    }
}

#[test]
fn quoted_and_nested_claims_and_cookies_round_trip() {
    let src = r#"policy p
principal { id: string, roles: set<role>, org: string, tenant: string? }
auth jwt {
  from: cookie session # the browser's session cookie
  algorithms: RS256, ES256
  keys: jwks(AUTH_JWKS), public_key(AUTH_PUBLIC_KEY)?
  principal.roles: realm_access.roles ?? "https://example.com/roles"
  principal.tenant: "https://example.com/tenant"
}
"#;
    let checked = load(src, &Limits::default()).unwrap();
    let out = format_source(src, &Limits::default()).unwrap();
    assert!(
        out.contains("  from: cookie session # the browser's session cookie\n"),
        "{out}"
    );
    assert!(
        out.contains("principal.roles: realm_access.roles ?? \"https://example.com/roles\""),
        "{out}"
    );
    assert_eq!(
        stripped(&parse(&out, &Limits::default()).unwrap()),
        stripped(&checked.policy)
    );
    let a = auth_items(&checked.policy);
    let AuthValue::Claim { claims, .. } = &a[0].entries[3].value else {
        panic!("claim");
    };
    assert!(!claims[0].quoted && claims[1].quoted);
}

#[test]
fn token_lifetime_and_required_claims_round_trip() {
    let src = r#"policy p
principal { id: string, roles: set<role> }
auth jwt {
  algorithms: HS256
  keys: secret(JWT_SECRET)
  max_age:   15m # the issuer's expiresIn
  require_claim typ=="access"
  require_claim "https://example.com/kind" == "user"
}
"#;
    let checked = load(src, &Limits::default()).unwrap();
    let out = format_source(src, &Limits::default()).unwrap();
    assert!(
        out.contains("  max_age: 15m # the issuer's expiresIn\n"),
        "{out}"
    );
    assert!(out.contains("  require_claim typ == \"access\"\n"), "{out}");
    assert!(
        out.contains("  require_claim \"https://example.com/kind\" == \"user\"\n"),
        "{out}"
    );
    assert_eq!(
        stripped(&parse(&out, &Limits::default()).unwrap()),
        stripped(&checked.policy)
    );
    let a = auth_items(&checked.policy);
    let keys: Vec<_> = a[0].entries.iter().map(|e| e.value.key()).collect();
    assert_eq!(
        keys,
        [
            "algorithms",
            "keys",
            "max_age",
            "require_claim",
            "require_claim"
        ]
    );
    let AuthValue::RequireClaim { claim, value } = &a[0].entries[4].value else {
        panic!("require_claim");
    };
    assert!(claim.quoted);
    assert_eq!(value.value, "user");
}

#[test]
fn lifetime_lines_belong_to_jwt_blocks_once() {
    let keys = "policy p\nprincipal { id: string, roles: set<role> }\nauth api_key {\n  key secret(K) as { id: \"a\" }\n  max_age: 1h\n}\n";
    let err = load(keys, &Limits::default()).unwrap_err();
    assert!(
        err.iter().any(|d| d.code == "auth-entry-not-allowed"),
        "{err:?}"
    );
    let twice = "policy p\nprincipal { id: string, roles: set<role> }\nauth jwt {\n  algorithms: HS256\n  keys: secret(K)\n  require_claim typ == \"access\"\n  require_claim typ == \"refresh\"\n}\n";
    let err = load(twice, &Limits::default()).unwrap_err();
    assert!(
        err.iter().any(|d| d.code == "duplicate-auth-entry"),
        "{err:?}"
    );
}

#[test]
fn hashed_keys_and_revocations_round_trip() {
    let src = r#"policy p
role viewer
principal { id: string, roles: set<role> }
auth api_key {
  key sha256("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),secret(OLD_KEY)? as { id: "client-7", roles: [viewer] }
  key sha256("60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752") as { id: "client-3" }
  revoked: "client-3" # `revokedAt` set
}
"#;
    let checked = load(src, &Limits::default()).unwrap();
    let out = format_source(src, &Limits::default()).unwrap();
    assert!(
        out.contains("  key sha256(\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"), secret(OLD_KEY)? as { id: \"client-7\", roles: [viewer] }\n"),
        "{out}"
    );
    assert!(
        out.contains("  revoked: \"client-3\" # `revokedAt` set\n"),
        "{out}"
    );
    assert_eq!(
        stripped(&parse(&out, &Limits::default()).unwrap()),
        stripped(&checked.policy)
    );
    let a = auth_items(&checked.policy);
    let AuthValue::Key { keys, hashes, .. } = &a[0].entries[0].value else {
        panic!("key");
    };
    assert_eq!((keys.len(), hashes.len()), (1, 1));
    let AuthValue::Revoked(ids) = &a[0].entries[2].value else {
        panic!("revoked");
    };
    assert_eq!(ids[0].value, "client-3");
}

#[test]
fn nextauth_blocks_take_the_session_settings_only() {
    let src = r#"policy p
role ADMIN
principal { id: string, roles: set<role> }
auth nextauth {
  from: cookie __Secure-authjs.session-token
  keys: secret(AUTH_SECRET),   secret(AUTH_SECRET_PREVIOUS)?
  max_age: 30d
  leeway: 15s
  principal.roles: role
}
"#;
    let checked = load(src, &Limits::default()).unwrap();
    let a = auth_items(&checked.policy);
    assert_eq!(a[0].kind, AuthKind::NextAuth);
    let out = format_source(src, &Limits::default()).unwrap();
    assert!(out.contains("auth nextauth {\n  from: cookie __Secure-authjs.session-token\n  keys: secret(AUTH_SECRET), secret(AUTH_SECRET_PREVIOUS)?\n"), "{out}");
    assert_eq!(
        stripped(&parse(&out, &Limits::default()).unwrap()),
        stripped(&checked.policy)
    );
    for line in [
        "algorithms: HS256",
        "issuer: \"x\"",
        "audience: \"x\"",
        "revoked: \"a\"",
    ] {
        let bad = src.replace("  max_age: 30d\n", &format!("  {line}\n"));
        let err = load(&bad, &Limits::default()).unwrap_err();
        assert!(
            err.iter().any(|d| d.code == "auth-entry-not-allowed"),
            "{line}: {err:?}"
        );
    }
    let keyless = "policy p\nprincipal { id: string, roles: set<role> }\nauth nextauth {\n  max_age: 30d\n}\n";
    let err = load(keyless, &Limits::default()).unwrap_err();
    assert!(err.iter().any(|d| d.code == "missing-auth-keys"), "{err:?}");
}
