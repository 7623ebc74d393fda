//! The `auth` blocks end to end: real tokens signed here (HMAC, RSA, EC, Ed25519 test
//! keys under `fixtures/`), verified by `Engine::authenticate`, mapped to principals that
//! then meet the policy's roles and ownership rules; API keys with rotation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use warden::{AuthFailure, Authn, Engine, HttpRequest, ManualClock, Options, Request, Resource};

const NOW: u64 = 1_800_000_000;
const SECRET: &str = "test-jwt-secret-0123456789abcdefghijklmnop";
const PREVIOUS: &str = "test-jwt-secret-previous-0123456789abcdefgh";
const API_KEY: &str = "wk_live_test_reporting_0123456789";
const API_KEY_OLD: &str = "wk_live_test_reporting_old_98765";

const POLICY: &str = r#"
policy api
role viewer
role editor > viewer
role admin > editor
role reporter
principal { id: string, roles: set<role>, org: string?, plan: string? }
resource doc { owner: string, org: string }
grant viewer: docs:read
grant editor: docs:write
grant reporter: reports:read
deny docs:write on doc unless resource.owner == principal.id or principal is admin
  because "only the owner may change a doc"
deny * on doc if resource.org != principal.org because "another organisation's doc"

auth jwt {
  algorithms: HS256
  keys: secret(JWT_SECRET), secret(JWT_SECRET_PREVIOUS)?
  issuer: "https://auth.example.com"
  audience: "warden-api"
  leeway: 30s
  principal.org: org
  principal.plan: "https://example.com/plan"
}

auth api_key {
  key secret(REPORTING_KEY), secret(REPORTING_KEY_PREVIOUS)? as { id: "reporting", roles: [reporter], org: "o1" }
}
"#;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn options() -> Options {
    let mut o = Options::default()
        .secret("JWT_SECRET", SECRET)
        .secret("REPORTING_KEY", API_KEY)
        .clock(std::sync::Arc::new(ManualClock::new(NOW * 1_000_000)));
    o.secrets_from_env = false;
    o
}

fn engine(o: Options) -> Engine {
    Engine::from_source("api.warden", POLICY, o).unwrap()
}

fn claims() -> serde_json::Value {
    json!({
        "sub": "u1", "role": "editor", "org": "o1",
        "https://example.com/plan": "pro",
        "iss": "https://auth.example.com", "aud": "warden-api",
        "iat": NOW - 60, "exp": NOW + 900,
    })
}

fn hs(alg: Algorithm, secret: &str, claims: &serde_json::Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn bearer(token: &str) -> HttpRequest {
    HttpRequest::new("GET", "/api/docs").header("authorization", format!("Bearer {token}"))
}

fn failed(a: &Authn) -> Option<AuthFailure> {
    match a {
        Authn::Failed(f) => Some(*f),
        _ => None,
    }
}

#[test]
fn valid_token_maps_claims_to_the_principal() {
    let e = engine(options());
    let a = e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &claims())));
    let Authn::Principal { principal, via } = a else {
        panic!("expected a principal, got {a:?}");
    };
    assert_eq!(principal.id, "u1");
    assert_eq!(principal.roles, vec!["editor".to_string()]);
    assert_eq!(principal.attrs.get("org"), Some(&"o1".into()));
    assert_eq!(principal.attrs.get("plan"), Some(&"pro".into()));
    assert_eq!(via, "jwt:JWT_SECRET");
}

#[test]
fn roles_claim_may_be_a_list_and_wins_over_role() {
    let e = engine(options());
    let mut c = claims();
    c["roles"] = json!(["viewer", "admin"]);
    let Authn::Principal { principal, .. } =
        e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)))
    else {
        panic!("expected a principal");
    };
    assert_eq!(
        principal.roles,
        vec!["viewer".to_string(), "admin".to_string()]
    );
}

#[test]
fn authenticated_principal_meets_roles_and_ownership() {
    let e = engine(options());
    let Authn::Principal { principal, .. } =
        e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &claims())))
    else {
        panic!("expected a principal");
    };
    let own = Resource::new("doc", "d1")
        .attr("owner", "u1")
        .attr("org", "o1");
    let other = Resource::new("doc", "d2")
        .attr("owner", "u2")
        .attr("org", "o1");
    let foreign = Resource::new("doc", "d3")
        .attr("owner", "u1")
        .attr("org", "o2");
    let write = |r: Resource| {
        e.authorize(
            &Request::new("docs:write")
                .principal(principal.clone())
                .resource(r),
        )
        .allowed
    };
    assert!(write(own));
    assert!(!write(other.clone()));
    assert!(!write(foreign));
    let d = e.authorize(
        &Request::new("docs:write")
            .principal(principal.clone())
            .resource(other),
    );
    assert_eq!(d.reason, Some("only the owner may change a doc"));
    // A viewer token reads but cannot write even its own doc.
    let mut c = claims();
    c["role"] = json!("viewer");
    let Authn::Principal {
        principal: viewer, ..
    } = e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)))
    else {
        panic!("expected a principal");
    };
    let own = Resource::new("doc", "d1")
        .attr("owner", "u1")
        .attr("org", "o1");
    assert!(
        e.authorize(
            &Request::new("docs:read")
                .principal(viewer.clone())
                .resource(own.clone())
        )
        .allowed
    );
    assert!(
        !e.authorize(&Request::new("docs:write").principal(viewer).resource(own))
            .allowed
    );
}

#[test]
fn expiry_uses_the_engine_clock_and_the_leeway() {
    let e = engine(options());
    let at = |exp: u64| {
        let mut c = claims();
        c["exp"] = json!(exp);
        e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)))
    };
    assert!(
        matches!(at(NOW - 10), Authn::Principal { .. }),
        "inside the 30 s leeway"
    );
    assert_eq!(failed(&at(NOW - 30)), Some(AuthFailure::TokenExpired));
    assert_eq!(failed(&at(NOW - 3600)), Some(AuthFailure::TokenExpired));
    // The request's own time wins over the clock.
    let token = hs(Algorithm::HS256, SECRET, &claims());
    let later = bearer(&token).time_us((NOW + 3600) * 1_000_000);
    assert_eq!(
        failed(&e.authenticate(&later)),
        Some(AuthFailure::TokenExpired)
    );
    let earlier = bearer(&token).time_us((NOW - 1000) * 1_000_000);
    assert!(matches!(e.authenticate(&earlier), Authn::Principal { .. }));
    // A token without `exp` never expires: refused.
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    let a = e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)));
    assert_eq!(failed(&a), Some(AuthFailure::InvalidToken));
}

#[test]
fn not_yet_valid_is_invalid() {
    let e = engine(options());
    let mut c = claims();
    c["nbf"] = json!(NOW + 600);
    let a = e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)));
    assert_eq!(failed(&a), Some(AuthFailure::InvalidToken));
    c["nbf"] = json!(NOW + 20);
    let a = e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)));
    assert!(
        matches!(a, Authn::Principal { .. }),
        "nbf within the leeway"
    );
}

#[test]
fn wrong_signature_issuer_audience_algorithm_or_shape_is_invalid() {
    let e = engine(options());
    let invalid = |token: &str| failed(&e.authenticate(&bearer(token)));
    let i = Some(AuthFailure::InvalidToken);
    assert_eq!(
        invalid(&hs(
            Algorithm::HS256,
            "another-secret-entirely-0123456789",
            &claims()
        )),
        i
    );
    let mut c = claims();
    c["iss"] = json!("https://evil.example.com");
    assert_eq!(invalid(&hs(Algorithm::HS256, SECRET, &c)), i);
    let mut c = claims();
    c["aud"] = json!("another-api");
    assert_eq!(invalid(&hs(Algorithm::HS256, SECRET, &c)), i);
    let mut c = claims();
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        invalid(&hs(Algorithm::HS256, SECRET, &c)),
        i,
        "aud is required when configured"
    );
    // Right secret, algorithm not listed.
    assert_eq!(invalid(&hs(Algorithm::HS384, SECRET, &claims())), i);
    // No subject: no principal.
    let mut c = claims();
    c.as_object_mut().unwrap().remove("sub");
    assert_eq!(invalid(&hs(Algorithm::HS256, SECRET, &c)), i);
    let mut huge = claims();
    huge["pad"] = json!("x".repeat(20_000));
    assert_eq!(
        invalid(&hs(Algorithm::HS256, SECRET, &huge)),
        i,
        "over 16 KiB"
    );
    for junk in ["abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "....", "ü.ü.ü"] {
        assert_eq!(invalid(junk), i, "{junk}");
    }
    // A valid token with its payload swapped keeps a signature that no longer matches.
    let good = hs(Algorithm::HS256, SECRET, &claims());
    let mut c = claims();
    c["role"] = json!("admin");
    let forged = hs(Algorithm::HS256, "x", &c);
    let parts: Vec<&str> = good.split('.').collect();
    let fparts: Vec<&str> = forged.split('.').collect();
    assert_eq!(
        invalid(&format!("{}.{}.{}", parts[0], fparts[1], parts[2])),
        i
    );
}

#[test]
fn alg_none_is_refused() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let e = engine(options());
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64.encode(claims().to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.c2ln"),
    ] {
        assert_eq!(
            failed(&e.authenticate(&bearer(&token))),
            Some(AuthFailure::InvalidToken)
        );
    }
    // The checker refuses to list it.
    let src = POLICY.replace("algorithms: HS256", "algorithms: HS256, none");
    let err = Engine::from_source("api.warden", &src, options()).unwrap_err();
    assert_eq!(err.codes(), vec!["insecure-algorithm"]);
}

#[test]
fn no_credentials_is_anonymous_and_other_schemes_are_not_tokens() {
    let e = engine(options());
    assert_eq!(
        e.authenticate(&HttpRequest::new("GET", "/")),
        Authn::Anonymous
    );
    let basic = HttpRequest::new("GET", "/").header("authorization", "Basic dXNlcjpwYXNz");
    assert_eq!(e.authenticate(&basic), Authn::Anonymous);
    let empty = HttpRequest::new("GET", "/").header("authorization", "Bearer ");
    assert_eq!(e.authenticate(&empty), Authn::Anonymous);
}

#[test]
fn rotation_accepts_old_and_new_and_names_the_match() {
    let mut o = options();
    o = o.secret("JWT_SECRET_PREVIOUS", PREVIOUS);
    let e = engine(o);
    let via = |secret: &str| match e.authenticate(&bearer(&hs(Algorithm::HS256, secret, &claims())))
    {
        Authn::Principal { via, .. } => via,
        other => panic!("expected a principal, got {other:?}"),
    };
    assert_eq!(via(SECRET), "jwt:JWT_SECRET");
    assert_eq!(via(PREVIOUS), "jwt:JWT_SECRET_PREVIOUS");
    // Once the previous secret is removed, its tokens stop working.
    let e = engine(options());
    let a = e.authenticate(&bearer(&hs(Algorithm::HS256, PREVIOUS, &claims())));
    assert_eq!(failed(&a), Some(AuthFailure::InvalidToken));
}

#[test]
fn api_keys_right_wrong_and_rotated() {
    let e = engine(options().secret("REPORTING_KEY_PREVIOUS", API_KEY_OLD));
    let key =
        |k: &str| e.authenticate(&HttpRequest::new("GET", "/api/reports").header("x-api-key", k));
    let Authn::Principal { principal, via } = key(API_KEY) else {
        panic!("expected a principal");
    };
    assert_eq!(principal.id, "reporting");
    assert_eq!(principal.roles, vec!["reporter".to_string()]);
    assert_eq!(principal.attrs.get("org"), Some(&"o1".into()));
    assert_eq!(via, "api_key:REPORTING_KEY");
    let Authn::Principal { via, .. } = key(API_KEY_OLD) else {
        panic!("expected a principal");
    };
    assert_eq!(via, "api_key:REPORTING_KEY_PREVIOUS");
    assert!(
        e.authorize(&Request::new("reports:read").principal(principal))
            .allowed
    );
    for wrong in ["wk_live_test_reporting_0123456788", "wk_live", "", "x"] {
        let want = if wrong.is_empty() {
            None
        } else {
            Some(AuthFailure::InvalidApiKey)
        };
        assert_eq!(failed(&key(wrong)), want, "{wrong:?}");
    }
    // After the rotation ends the old key is refused.
    let e = engine(options());
    let a = e.authenticate(&HttpRequest::new("GET", "/").header("x-api-key", API_KEY_OLD));
    assert_eq!(failed(&a), Some(AuthFailure::InvalidApiKey));
}

#[test]
fn asymmetric_keys_from_pem_and_jwks() {
    let policy = |alg: &str, key: &str| {
        format!(
            "policy p\nprincipal {{ id: string }}\nauth jwt {{\n  algorithms: {alg}\n  keys: {key}\n}}\n"
        )
    };
    let cases = [
        (
            "RS256",
            Algorithm::RS256,
            "rsa_private.pem",
            "rsa_public.pem",
        ),
        (
            "PS384",
            Algorithm::PS384,
            "rsa_private.pem",
            "rsa_public.pem",
        ),
        ("ES256", Algorithm::ES256, "ec_private.pem", "ec_public.pem"),
        ("EdDSA", Algorithm::EdDSA, "ed_private.pem", "ed_public.pem"),
    ];
    let c = json!({ "sub": "svc", "exp": NOW + 60 });
    for (name, alg, private, public) in cases {
        let src = policy(name, "public_key(AUTH_PUBLIC_KEY)");
        let e = Engine::from_source(
            "p.warden",
            &src,
            options().secret("AUTH_PUBLIC_KEY", fixture(public)),
        )
        .unwrap();
        let pem = fixture(private);
        let key = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .unwrap();
        let token = encode(&Header::new(alg), &c, &key).unwrap();
        assert_eq!(
            e.authenticate(&bearer(&token)),
            Authn::Principal {
                principal: warden::Principal::new("svc"),
                via: "jwt:AUTH_PUBLIC_KEY".into()
            },
            "{name}"
        );
        // Signed by another RSA key: refused.
        let other = EncodingKey::from_rsa_pem(fixture("rsa_other_private.pem").as_bytes()).unwrap();
        let token = encode(&Header::new(Algorithm::RS256), &c, &other).unwrap();
        assert_eq!(
            failed(&e.authenticate(&bearer(&token))),
            Some(AuthFailure::InvalidToken)
        );
        // The confusion attack: HS256 with the public key's text as the HMAC secret.
        let token = hs(Algorithm::HS256, &fixture(public), &c);
        assert_eq!(
            failed(&e.authenticate(&bearer(&token))),
            Some(AuthFailure::InvalidToken),
            "{name}"
        );
    }
    // JWKS: the token's kid picks the key; the label names it.
    let src = policy("RS256", "jwks(AUTH_JWKS)");
    let e = Engine::from_source(
        "p.warden",
        &src,
        options().secret("AUTH_JWKS", fixture("jwks.json")),
    )
    .unwrap();
    let key = EncodingKey::from_rsa_pem(fixture("rsa_private.pem").as_bytes()).unwrap();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("2026-11".into());
    let token = encode(&h, &c, &key).unwrap();
    match e.authenticate(&bearer(&token)) {
        Authn::Principal { via, .. } => assert_eq!(via, "jwt:AUTH_JWKS#2026-11"),
        other => panic!("{other:?}"),
    }
    h.kid = Some("unknown".into());
    let token = encode(&h, &c, &key).unwrap();
    assert_eq!(
        failed(&e.authenticate(&bearer(&token))),
        Some(AuthFailure::InvalidToken)
    );
}

#[test]
fn keys_that_do_not_fit_the_algorithms_are_refused_at_load() {
    let src = |alg: &str, key: &str| {
        format!("policy p\nprincipal {{ id: string }}\nauth jwt {{\n  algorithms: {alg}\n  keys: {key}\n}}\n")
    };
    // HS256 next to a public key: the checker refuses (algorithm confusion).
    let err = Engine::from_source(
        "p.warden",
        &src("HS256", "public_key(AUTH_PUBLIC_KEY)"),
        options().secret("AUTH_PUBLIC_KEY", fixture("rsa_public.pem")),
    )
    .unwrap_err();
    assert!(err.codes().contains(&"key-algorithm-mismatch"), "{err}");
    assert!(err.to_string().contains("p.warden:4:"), "{err}");
    // An RSA key where only ES256 is listed: known only once the key is read.
    let err = Engine::from_source(
        "p.warden",
        &src("ES256", "public_key(AUTH_PUBLIC_KEY)"),
        options().secret("AUTH_PUBLIC_KEY", fixture("rsa_public.pem")),
    )
    .unwrap_err();
    assert_eq!(err.codes(), vec!["key-algorithm-mismatch"], "{err}");
    // Not a key at all; the message names the key, never shows its text.
    let err = Engine::from_source(
        "p.warden",
        &src("RS256", "public_key(AUTH_PUBLIC_KEY)"),
        options().secret("AUTH_PUBLIC_KEY", "not-a-pem-hunter2"),
    )
    .unwrap_err();
    assert_eq!(err.codes(), vec!["invalid-key"]);
    assert!(err.to_string().contains("AUTH_PUBLIC_KEY"));
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn missing_secrets_fail_the_load_by_name_only() {
    let o = Options {
        secrets_from_env: false,
        ..Options::default()
    };
    let err =
        Engine::from_source("api.warden", POLICY, o.secret("REPORTING_KEY", API_KEY)).unwrap_err();
    assert_eq!(err.codes(), vec!["missing-secret"]);
    let text = err.to_string();
    assert!(text.contains("JWT_SECRET"), "{text}");
    assert!(
        !text.contains("JWT_SECRET_PREVIOUS` is not set"),
        "optional keys may be absent"
    );
    assert!(!text.contains(API_KEY));
}

#[test]
fn cookies_carry_tokens_too() {
    let src = POLICY.replace(
        "algorithms: HS256",
        "from: cookie session\n  algorithms: HS256",
    );
    let e = Engine::from_source("api.warden", &src, options()).unwrap();
    let token = hs(Algorithm::HS256, SECRET, &claims());
    let req = HttpRequest::new("GET", "/").header("cookie", format!("theme=dark; session={token}"));
    assert!(matches!(e.authenticate(&req), Authn::Principal { .. }));
    // The bearer header is not read by this block.
    assert_eq!(e.authenticate(&bearer(&token)), Authn::Anonymous);
}

#[test]
fn secrets_and_tokens_never_printed() {
    let o = options().secret("JWT_SECRET_PREVIOUS", PREVIOUS);
    let printed_options = format!("{o:?}");
    let e = engine(o);
    let token = hs(Algorithm::HS256, SECRET, &claims());
    let mut expired = claims();
    expired["exp"] = json!(NOW - 3600);
    let outcomes = [
        e.authenticate(&bearer(&token)),
        e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &expired))),
        e.authenticate(&bearer(&hs(
            Algorithm::HS256,
            "wrong-secret-123456789012345",
            &claims(),
        ))),
        e.authenticate(&HttpRequest::new("GET", "/").header("x-api-key", "not-the-key-0000")),
    ];
    let mut printed = vec![printed_options, format!("{e:?}"), format!("{outcomes:?}")];
    let err = Engine::from_source(
        "api.warden",
        &POLICY.replace("HS256", "HS256, XS1"),
        options(),
    )
    .unwrap_err();
    printed.push(err.to_string());
    printed.push(format!("{err:?}"));
    let trace_src =
        format!("{POLICY}\ndeny reports:read if context.key == secret(REPORTING_KEY)\n");
    let t = Engine::from_source("api.warden", &trace_src, options()).unwrap();
    // The trace shows what the request carried, and the secret's side only redacted.
    let (_, trace) = t.explain(&Request::new("reports:read").context("key", "a-guess"));
    printed.push(serde_json::to_string(&trace).unwrap());
    for p in &printed {
        for s in [SECRET, PREVIOUS, API_KEY, &token] {
            assert!(!p.contains(s), "printed a secret: {p}");
        }
    }
}

/// Seed 000: access (1h) and refresh (7d) tokens signed with one key and one payload.
const LIFETIME_POLICY: &str = r#"
policy api
role user
principal { id: string, roles: set<role> }
auth jwt {
  algorithms: HS256
  keys: secret(JWT_SECRET)
  leeway: 30s
  max_age: 1h
  require_claim typ == "access"
}
"#;

#[test]
fn max_age_and_required_claims_tell_access_from_refresh_tokens() {
    let e = Engine::from_source("api.warden", LIFETIME_POLICY, options()).unwrap();
    let token = |iat: Option<u64>, exp: u64, typ: &str| {
        let mut c = json!({ "sub": "u1", "role": "user", "exp": exp, "typ": typ });
        if let Some(iat) = iat {
            c["iat"] = json!(iat);
        }
        e.authenticate(&bearer(&hs(Algorithm::HS256, SECRET, &c)))
    };
    let access = token(Some(NOW - 60), NOW - 60 + 3600, "access");
    assert!(matches!(access, Authn::Principal { .. }), "{access:?}");
    // The refresh token: same key, 7 days, and its own `typ`.
    let refresh = token(Some(NOW - 60), NOW - 60 + 7 * 86_400, "refresh");
    assert_eq!(failed(&refresh), Some(AuthFailure::InvalidToken));
    // Even labelled `access`, a 7-day token is over the lifetime.
    let long = token(Some(NOW - 60), NOW - 60 + 7 * 86_400, "access");
    assert_eq!(failed(&long), Some(AuthFailure::InvalidToken));
    let no_iat = token(None, NOW + 600, "access");
    assert_eq!(failed(&no_iat), Some(AuthFailure::InvalidToken));
    let future = token(Some(NOW + 3600), NOW + 7200, "access");
    assert_eq!(failed(&future), Some(AuthFailure::InvalidToken));
    let skewed = token(Some(NOW + 20), NOW + 20 + 3600, "access");
    assert!(matches!(skewed, Authn::Principal { .. }), "{skewed:?}");
    let expired = token(Some(NOW - 3700), NOW - 100, "access");
    assert_eq!(failed(&expired), Some(AuthFailure::TokenExpired));
}

/// Seed 003: keys stored as SHA-256 hashes, with revocation.
const HASHED_POLICY: &str = r#"
policy api
role viewer
principal { id: string, roles: set<role>, api_client: string? }
auth api_key {
  key sha256("41bf4934618d406946993c5d0cc73eac10e66971b30baf6b4ce9a9c781057c4f") as { id: "client-7", roles: [viewer], api_client: "client-7" }
  key sha256("3750b7c1de8e9d9a27dbc57e8029f24ae9a40e15b150b9e7b97f78118d5f9a7b") as { id: "client-3", roles: [viewer] }
  key secret(RETIRED_KEY) as { id: "retired" }
  key secret(REPORTING_KEY) as { id: "reporting" }
  revoked: "client-3", "retired"
}
"#;

#[test]
fn hashed_keys_verify_and_revoked_ids_are_refused() {
    // RETIRED_KEY is unset: a revoked key's secret need not exist any more.
    let e = Engine::from_source("api.warden", HASHED_POLICY, options()).unwrap();
    let key = |k: &str| e.authenticate(&HttpRequest::new("GET", "/").header("x-api-key", k));
    let Authn::Principal { principal, via } = key("sk_test_client7_0123456789abcdef") else {
        panic!("the client-7 key should verify");
    };
    assert_eq!(principal.id, "client-7");
    assert_eq!(principal.attrs.get("api_client"), Some(&"client-7".into()));
    assert_eq!(via, "api_key:client-7");
    assert!(matches!(key(API_KEY), Authn::Principal { .. }));
    for refused in [
        "sk_test_client3_0123456789abcdef",
        "sk_test_client7_0123456789abcde",
        "41bf4934618d406946993c5d0cc73eac10e66971b30baf6b4ce9a9c781057c4f",
    ] {
        assert_eq!(
            failed(&key(refused)),
            Some(AuthFailure::InvalidApiKey),
            "{refused}"
        );
    }
    // Once set again, the retired key is still refused.
    let e = Engine::from_source(
        "api.warden",
        HASHED_POLICY,
        options().secret("RETIRED_KEY", "retired-key-0123456789abcdef"),
    )
    .unwrap();
    let d = e.authenticate(
        &HttpRequest::new("GET", "/").header("x-api-key", "retired-key-0123456789abcdef"),
    );
    assert_eq!(failed(&d), Some(AuthFailure::InvalidApiKey));
}

/// Seed 001: an Auth.js v5 session cookie, encrypted by `@auth/core` 0.41.3's own
/// `encode` (secret below, salt `authjs.session-token`, clock at 1767225600).
const AUTHJS_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiWGlJTFVmY2x1RjNYVHJYM1BidUhScHhvaGtNYXY2YXkxXzJ2MzJiV1BjcVoxamZhSnlpTVZOUmFTaVYxVUlUWnFfcE4zZXdCQmFjWS00UUhUMzJ0NGcifQ..sbeMIaPVCn-l01TLeL8fUA.VK4SAzoaY_VWr8V6LzoiJVz0GkHrTeGE1g3yiFh9XQzlK6KUivUTqOajD0JWRy06uRTQTAe_yrlcHqz0nvCxqKHwex4Z_qWQsCCL8VE6AfjufRagDxkMnw6fh3eubGy-rjYLahAm2XVhQ4ybX_7qoxRwfyIYYu15hM-tekyIkL-jxeX6sinVAURpwITl9qk1tyKvI8pplGIBZrkT6Bin7A.MUzm0zg4tOdkiXRIcC8HUY7eR8fU0vyPJSfITa_-AnE";

#[test]
fn auth_js_session_cookies_authenticate() {
    let policy = r#"
policy app
role ADMIN
principal { id: string, roles: set<role>, email: string? }
auth nextauth {
  keys: secret(AUTH_SECRET_NEXT)?, secret(AUTH_SECRET)
  max_age: 30d
  principal.email: email
}
"#;
    let mut o = Options::default()
        .secret("AUTH_SECRET", "test-auth-secret-0123456789abcdef0123456789")
        .clock(std::sync::Arc::new(ManualClock::new(
            1_767_225_660 * 1_000_000,
        )));
    o.secrets_from_env = false;
    let e = Engine::from_source("app.warden", policy, o).unwrap();
    let cookie = |c: String| e.authenticate(&HttpRequest::new("GET", "/").header("cookie", c));
    let Authn::Principal { principal, via } =
        cookie(format!("theme=dark; authjs.session-token={AUTHJS_TOKEN}"))
    else {
        panic!("the Auth.js session should authenticate");
    };
    assert_eq!(principal.id, "u-admin");
    assert_eq!(principal.roles, vec!["ADMIN".to_string()]);
    assert_eq!(
        principal.attrs.get("email"),
        Some(&"ada@lumiere.test".into())
    );
    assert_eq!(via, "nextauth:AUTH_SECRET");
    // Sealed for the plain cookie name: not valid under the `__Secure-` name.
    let secure = cookie(format!("__Secure-authjs.session-token={AUTHJS_TOKEN}"));
    assert_eq!(failed(&secure), Some(AuthFailure::InvalidToken));
    assert!(matches!(cookie("other=1".into()), Authn::Anonymous));
    let debug = format!("{e:?}");
    assert!(!debug.contains("test-auth-secret"), "{debug}");
}

/// A token signed with the right key whose header names a critical extension: RFC 7515
/// §4.1.11 requires refusing it, since this verifier implements none. At the HTTP level
/// a route that requires authentication answers 401.
#[test]
fn a_token_naming_a_crit_extension_is_refused() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let sign = |header: &str| {
        let head = format!(
            "{}.{}",
            b64.encode(header),
            b64.encode(claims().to_string())
        );
        let sig = jsonwebtoken::crypto::sign(head.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{head}.{sig}")
    };
    let e = engine(options());
    let plain = sign(r#"{"alg":"HS256","typ":"JWT"}"#);
    assert!(matches!(
        e.authenticate(&bearer(&plain)),
        Authn::Principal { .. }
    ));
    for header in [
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
        r#"{"alg":"HS256","crit":["http://example.com/ext"],"http://example.com/ext":true}"#,
        r#"{"alg":"HS256","crit":[]}"#,
    ] {
        let token = sign(header);
        assert_eq!(
            failed(&e.authenticate(&bearer(&token))),
            Some(AuthFailure::InvalidToken),
            "{header}"
        );
        let src = format!("{POLICY}\nroute /api/** {{ require auth }}\n");
        let http = Engine::from_source("api.warden", &src, options()).unwrap();
        let d = http.check_http(&bearer(&token));
        assert_eq!(d.status, 401, "{header}");
        assert_eq!(http.check_http(&bearer(&plain)).status, 200);
    }
}
