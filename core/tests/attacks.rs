//! `Engine::check_http` as a hostile client sees it: generated variants of credentials,
//! origins, hosts, client addresses, limit keys and webhook signatures, each held to
//! the answer docs/LANGUAGE.md gives. What other files already cover (the path rule,
//! the trusted-proxy walk, the JWT differential corpus of `auth/jwt.rs`) is not
//! repeated here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use std::net::IpAddr;
use std::sync::Arc;
use warden::{Engine, HttpRequest, ManualClock, Options};

const NOW: u64 = 1_800_000_000;
const JWT_SECRET: &str = "attack-jwt-secret-0123456789abcdefghijkl";
const API_KEY: &str = "wk_live_attack_0123456789abcdef";
const REVOKED_KEY: &str = "wk_live_revoked_0123456789abcdef";

const POLICY: &str = r#"policy attacks
role user
role admin > user
principal { id: string, roles: set<role> }

hosts: "app.example", "app.example:8443"

cors {
  origins: "https://app.example", "http://localhost:3000"
  methods: GET, POST
  headers: Content-Type, Authorization
  credentials: true
  refuse_unlisted: true
}

auth jwt {
  algorithms: HS256, RS256
  keys: secret(JWT_SECRET), public_key(RSA_PUBLIC)
  issuer: "https://id.example"
  audience: "api"
}

auth api_key {
  key secret(API_KEY) as { id: "svc", roles: [admin] }
  key secret(REVOKED_KEY) as { id: "old-svc", roles: [admin] }
  revoked: "old-svc"
}

route /api/** { require auth }
route /api/admin/** { require role admin }
route /open/** { }
route /go/** {
  require header x-forwarded-proto == "https" else redirect 301 "https://{host}{target}"
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
        .secret("JWT_SECRET", JWT_SECRET)
        .secret("RSA_PUBLIC", fixture("rsa_public.pem"))
        .secret("API_KEY", API_KEY)
        .secret("REVOKED_KEY", REVOKED_KEY)
        .clock(Arc::new(ManualClock::new(NOW * 1_000_000)));
    o.secrets_from_env = false;
    o
}

fn engine() -> Engine {
    Engine::from_source("attacks.warden", POLICY, options()).unwrap()
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// A token of these exact header and claims texts, signed with `key` under `alg`.
fn signed(header: &str, claims: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{sig}")
}

fn hs(header: &str, claims: &str) -> String {
    signed(
        header,
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        Algorithm::HS256,
    )
}

fn good_claims(extra: &str) -> String {
    format!(
        r#"{{"sub":"u1","roles":["admin"],"iss":"https://id.example","aud":"api","exp":{}{extra}}}"#,
        NOW + 600
    )
}

fn bearer(path: &str, token: &str) -> HttpRequest {
    HttpRequest::new("GET", path).header("authorization", format!("Bearer {token}"))
}

/// Every text a decision shows a client, a log or an explain trace.
fn everything_shown(e: &Engine, req: &HttpRequest) -> String {
    let d = e.check_http(req);
    let (traced, trace) = e.explain_http(req);
    format!(
        "{d:?}\n{}\n{traced:?}\n{}",
        d.to_json(),
        serde_json::to_string(&trace).unwrap()
    )
}

// ---------------------------------------------------------------------------------
// Client addresses

/// A dual-stack socket (Node's default `listen(port)`, Python's on `::`) reports every
/// IPv4 client as `::ffff:a.b.c.d`. The docs say an IPv4-mapped address *is* the IPv4
/// address: a block list on `ip` must hold whichever spelling the socket used, and an
/// allow list must admit the listed client.
#[test]
fn ipv4_mapped_peers_read_as_their_ipv4_address() {
    let src = r#"policy p
route /admin/** { require ip != "203.0.113.66" else 403 }
route /internal/** { require ip in ["10.0.0.5"] else 403 }
route /lan/** { require not (request.ip starts_with "203.0.113.") else 403 }
"#;
    let plain = Engine::from_source("p.warden", src, Options::default()).unwrap();
    // Behind a proxies block the peer is not a trusted proxy: it is the client as well.
    let proxied = Engine::from_source(
        "p.warden",
        &format!("{src}proxies {{ trusted: \"192.0.2.0/24\" }}\n"),
        Options::default(),
    )
    .unwrap();
    let at = |path: &str, ip: &str| HttpRequest::new("GET", path).ip(ip.parse().unwrap());
    for (name, e) in [("no proxies", &plain), ("untrusted peer", &proxied)] {
        for (path, ip, want) in [
            ("/admin/x", "203.0.113.66", 403),
            ("/admin/x", "::ffff:203.0.113.66", 403),
            ("/admin/x", "::ffff:203.0.113.67", 200),
            ("/internal/x", "10.0.0.5", 200),
            ("/internal/x", "::ffff:10.0.0.5", 200),
            ("/internal/x", "::ffff:10.0.0.6", 403),
            ("/lan/x", "::ffff:203.0.113.9", 403),
            ("/lan/x", "::ffff:198.51.100.9", 200),
            // Not mapped: an IPv6 address stays itself (IPv4-compatible `::a.b.c.d`
            // is deprecated and no socket reports it).
            ("/admin/x", "2001:db8::66", 200),
        ] {
            assert_eq!(
                e.check_http(&at(path, ip)).status,
                want,
                "{name}: {path} from {ip}"
            );
        }
    }
}

/// The mapped and the plain spelling of one IPv4 client share one rate-limit budget
/// in every key shape that reads the address.
#[test]
fn ipv4_mapped_and_plain_spellings_share_one_budget() {
    for key in ["ip", "request.ip", "principal.id ?? ip", "header x-k ?? ip"] {
        let src = format!("policy p\nlimit l: 2 per 1h by {key}\nroute /** {{ limit l }}\n");
        let e = Engine::from_source("p.warden", &src, Options::default()).unwrap();
        let at = |ip: &str| HttpRequest::new("GET", "/x").ip(ip.parse::<IpAddr>().unwrap());
        let got: Vec<u16> = ["198.51.100.7", "::ffff:198.51.100.7", "198.51.100.7"]
            .iter()
            .map(|ip| e.check_http(&at(ip)).status)
            .collect();
        assert_eq!(got, [200, 200, 429], "by {key}");
    }
}

// ---------------------------------------------------------------------------------
// JWT

#[test]
fn generated_forged_jwts_are_refused_401() {
    let e = engine();
    let good = hs(r#"{"alg":"HS256","typ":"JWT"}"#, &good_claims(""));
    assert_eq!(e.check_http(&bearer("/api/admin/x", &good)).status, 200);
    let claims = good_claims("");
    let mut forged: Vec<(String, String)> = Vec::new();
    // alg none in every spelling, with and without a signature part.
    for alg in [
        "none", "None", "NONE", "nOnE", "", "HS256 ", "hs256", "RS256",
    ] {
        let h = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let head = format!("{}.{}", b64(&h), b64(&claims));
        forged.push((format!("alg {alg:?} unsigned"), format!("{head}.")));
        forged.push((format!("alg {alg:?} no part"), head.clone()));
        let (_, sig) = good.rsplit_once('.').unwrap();
        forged.push((format!("alg {alg:?} borrowed sig"), format!("{head}.{sig}")));
    }
    // Algorithm confusion: HS256 keyed with the RSA public key's text (PEM, with and
    // without its trailing newline, and its DER body).
    let pem = fixture("rsa_public.pem");
    for secret in [pem.as_str(), pem.trim_end(), pem.trim()] {
        let t = signed(
            r#"{"alg":"HS256"}"#,
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
            Algorithm::HS256,
        );
        forged.push(("HS256 keyed by the RSA public key".into(), t));
    }
    // Another RSA key, and a `kid` naming keys that do not exist.
    let other = EncodingKey::from_rsa_pem(fixture("rsa_other_private.pem").as_bytes()).unwrap();
    forged.push((
        "RS256 by another key".into(),
        signed(r#"{"alg":"RS256"}"#, &claims, &other, Algorithm::RS256),
    ));
    for kid in ["RSA_PUBLIC", "JWT_SECRET", "../../etc/passwd", "", "0"] {
        let h = format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#);
        forged.push((
            format!("kid {kid:?}, other key"),
            signed(&h, &claims, &other, Algorithm::RS256),
        ));
    }
    // `crit`, duplicate `alg` (the last one read by serde), wrong key.
    forged.push((
        "crit".into(),
        hs(r#"{"alg":"HS256","crit":["b64"],"b64":false}"#, &claims),
    ));
    // Claims: time claims of odd kinds, iss/aud of odd shapes, duplicate names.
    let exp_ok = NOW + 600;
    for (name, c) in [
        (
            "exp missing",
            r#"{"sub":"u1","iss":"https://id.example","aud":"api"}"#.to_owned(),
        ),
        (
            "exp a string",
            format!(r#"{{"sub":"u1","iss":"https://id.example","aud":"api","exp":"{exp_ok}"}}"#),
        ),
        (
            "exp null",
            r#"{"sub":"u1","iss":"https://id.example","aud":"api","exp":null}"#.into(),
        ),
        (
            "exp true",
            r#"{"sub":"u1","iss":"https://id.example","aud":"api","exp":true}"#.into(),
        ),
        (
            "exp a list",
            format!(r#"{{"sub":"u1","iss":"https://id.example","aud":"api","exp":[{exp_ok}]}}"#),
        ),
        (
            "exp negative",
            r#"{"sub":"u1","iss":"https://id.example","aud":"api","exp":-1}"#.into(),
        ),
        (
            "exp now",
            format!(r#"{{"sub":"u1","iss":"https://id.example","aud":"api","exp":{NOW}}}"#),
        ),
        (
            "exp twice, good last",
            format!(
                r#"{{"sub":"u1","iss":"https://id.example","aud":"api","exp":1,"exp":{exp_ok}}}"#
            ),
        ),
        ("nbf ahead", good_claims(&format!(r#","nbf":{}"#, NOW + 60))),
        ("nbf a string", good_claims(r#","nbf":"0""#)),
        ("nbf a huge number", good_claims(r#","nbf":1e309"#)),
        (
            "iss wrong",
            format!(r#"{{"sub":"u1","iss":"https://evil","aud":"api","exp":{exp_ok}}}"#),
        ),
        (
            "iss missing",
            format!(r#"{{"sub":"u1","aud":"api","exp":{exp_ok}}}"#),
        ),
        (
            "iss twice",
            format!(
                r#"{{"sub":"u1","iss":"https://evil","iss":"https://id.example","aud":"api","exp":{exp_ok}}}"#
            ),
        ),
        (
            "aud wrong",
            format!(r#"{{"sub":"u1","iss":"https://id.example","aud":"web","exp":{exp_ok}}}"#),
        ),
        (
            "aud a list without it",
            format!(r#"{{"sub":"u1","iss":"https://id.example","aud":["web"],"exp":{exp_ok}}}"#),
        ),
        (
            "aud an object",
            format!(
                r#"{{"sub":"u1","iss":"https://id.example","aud":{{"api":1}},"exp":{exp_ok}}}"#
            ),
        ),
        (
            "aud case",
            format!(r#"{{"sub":"u1","iss":"https://id.example","aud":"API","exp":{exp_ok}}}"#),
        ),
        (
            "sub missing",
            format!(r#"{{"iss":"https://id.example","aud":"api","exp":{exp_ok}}}"#),
        ),
        ("sub twice", good_claims(r#","sub":"admin""#)),
        ("roles twice", good_claims(r#","roles":["user"]"#)),
        ("claims an array", "[1]".into()),
    ] {
        forged.push((name.to_owned(), hs(r#"{"alg":"HS256"}"#, &c)));
    }
    // Spellings of a good token: padding, trailing dots, whitespace inside, a part
    // changed in its unused base64 bits, very long.
    let (head, sig) = good.rsplit_once('.').unwrap();
    let (h, p) = head.split_once('.').unwrap();
    forged.push(("padded signature".into(), format!("{good}=")));
    forged.push(("padded header".into(), format!("{h}=.{p}.{sig}")));
    forged.push(("padded payload".into(), format!("{h}.{p}==.{sig}")));
    forged.push(("trailing dot".into(), format!("{good}.")));
    forged.push(("two trailing dots".into(), format!("{good}..")));
    forged.push(("leading dot".into(), format!(".{good}")));
    forged.push(("space inside".into(), format!("{h}. {p}.{sig}")));
    forged.push((
        "standard base64 alphabet".into(),
        good.replace('-', "+").replace('_', "/"),
    ));
    forged.push(("huge".into(), format!("{h}.{}.{sig}", "A".repeat(20_000))));
    forged.push(("nul".into(), format!("{good}\0")));
    let last = sig.chars().last().unwrap();
    let flip = if last == 'A' { 'B' } else { 'A' };
    forged.push((
        "signature's unused bits".into(),
        format!("{head}.{}{flip}", &sig[..sig.len() - 1]),
    ));
    for (name, t) in &forged {
        if *t == good {
            continue;
        }
        let d = e.check_http(&bearer("/api/admin/x", t));
        assert_eq!(d.status, 401, "{name}: {t}");
        assert!(
            matches!(d.reason.as_deref(), Some("invalid_token" | "token_expired")),
            "{name}: {:?}",
            d.reason
        );
        assert!(d.header("www-authenticate").is_some(), "{name}");
        // The token never comes back, in the decision or a trace.
        if t.len() > 20 {
            let shown = everything_shown(&e, &bearer("/api/admin/x", t));
            assert!(!shown.contains(t.as_str()), "{name} echoed");
            assert!(!shown.contains(&t[..20]), "{name} echoed in part");
        }
    }
    // Bearer spellings of the good token: the scheme is case-insensitive, extra spaces
    // are tolerated; any other scheme or shape is no credential (401 missing_token).
    for (value, want) in [
        (format!("bearer {good}"), 200),
        (format!("BEARER  {good}"), 200),
        (format!("  Bearer {good}  "), 200),
        (format!("Bearer\t{good}"), 401),
        (format!("Basic {good}"), 401),
        (format!("Bearer{good}"), 401),
        (format!("Token {good}"), 401),
        (good.clone(), 401),
        (format!("Bearer {good}, Bearer {good}"), 401),
    ] {
        let d = e.check_http(
            &HttpRequest::new("GET", "/api/admin/x").header("Authorization", value.as_str()),
        );
        assert_eq!(d.status, want, "{value:?}");
    }
    // Two Authorization lines: the first is the credential (a forged first one is not
    // rescued by a good second one).
    let two = |a: &str, b: &str| {
        HttpRequest::new("GET", "/api/admin/x")
            .header("authorization", format!("Bearer {a}"))
            .header("authorization", format!("Bearer {b}"))
    };
    assert_eq!(e.check_http(&two("x.y.z", &good)).status, 401);
    assert_eq!(e.check_http(&two(&good, "x.y.z")).status, 200);
}

// ---------------------------------------------------------------------------------
// API keys

#[test]
fn api_key_spellings_revocation_and_duplicates() {
    let e = engine();
    let key = |v: &str| HttpRequest::new("GET", "/api/admin/x").header("x-api-key", v);
    assert_eq!(e.check_http(&key(API_KEY)).status, 200);
    // Surrounding blanks are trimmed and `Bearer ` may precede a bare key.
    for ok in [
        format!(" {API_KEY} "),
        format!("Bearer {API_KEY}"),
        format!("bearer {API_KEY}"),
    ] {
        assert_eq!(e.check_http(&key(&ok)).status, 200, "{ok:?}");
    }
    let upper = API_KEY.to_ascii_uppercase();
    let lower_prefix = &API_KEY[..API_KEY.len() - 1];
    for bad in [
        upper.as_str(),
        lower_prefix,
        &format!("{API_KEY}x"),
        &format!("x{API_KEY}"),
        &format!("{API_KEY}\0"),
        &format!("{API_KEY},{API_KEY}"),
        &format!("{API_KEY} {API_KEY}"),
        &format!("\"{API_KEY}\""),
        REVOKED_KEY,
        &format!("Bearer {REVOKED_KEY}"),
        &format!("Basic {API_KEY}"),
    ] {
        let d = e.check_http(&key(bad));
        assert_eq!(
            (d.status, d.reason.as_deref()),
            (401, Some("invalid_api_key")),
            "{bad:?}"
        );
        let shown = everything_shown(&e, &key(bad));
        assert!(
            !shown.contains(API_KEY) && !shown.contains(REVOKED_KEY),
            "{bad:?}"
        );
    }
    // A revoked key first, the good one second: the first line is the credential.
    let two = HttpRequest::new("GET", "/api/admin/x")
        .header("x-api-key", REVOKED_KEY)
        .header("X-Api-Key", API_KEY);
    assert_eq!(e.check_http(&two).status, 401);
}

// ---------------------------------------------------------------------------------
// CORS with `refuse_unlisted`

#[test]
fn only_listed_origins_pass_refuse_unlisted() {
    let e = engine();
    let from = |origin: &str| HttpRequest::new("GET", "/open/x").header("origin", origin);
    for ok in [
        "https://app.example",
        "HTTPS://APP.EXAMPLE",
        "https://App.Example",
        "http://localhost:3000",
    ] {
        let d = e.check_http(&from(ok));
        assert_eq!(d.status, 200, "{ok}");
        assert_eq!(d.header("access-control-allow-origin"), Some(ok), "{ok}");
    }
    for bad in [
        "null",
        "",
        " ",
        "https://app.example/",
        "https://app.example:443",
        "https://app.example.",
        "https://app.example.evil",
        "https://evil.app.example",
        "https://user@app.example",
        "https://app.example@evil.example",
        "http://app.example",
        "https://xn--pp-8ka.example",
        "https://аpp.example", // Cyrillic а
        "http://localhost:3000/",
        "http://localhost",
        "http://localhost:30000",
        "http://127.0.0.1:3000",
        "https://app.example\r\nx-evil: 1",
        "*",
    ] {
        let d = e.check_http(&from(bad));
        assert_eq!(d.status, 403, "{bad:?}");
        assert!(
            d.headers
                .iter()
                .all(|(n, _)| !n.starts_with("access-control-")),
            "{bad:?}: {:?}",
            d.headers
        );
        // Preflights from it are refused too, whatever they ask for.
        for method in ["GET", "DELETE", "get", "", "GET, DELETE"] {
            let pre = HttpRequest::new("OPTIONS", "/api/admin/x")
                .header("origin", bad)
                .header("access-control-request-method", method)
                .header("access-control-request-headers", "authorization, x-evil");
            let d = e.check_http(&pre);
            assert_eq!(d.status, 403, "preflight {bad:?} {method:?}");
            assert!(d.header("access-control-allow-origin").is_none());
        }
    }
}

// ---------------------------------------------------------------------------------
// `{host}`

#[test]
fn host_redirects_echo_only_listed_hosts() {
    let e = engine();
    let host = |h: &[&str]| {
        h.iter().fold(HttpRequest::new("GET", "/go/x?a=1"), |r, v| {
            r.header("host", *v)
        })
    };
    for (h, loc) in [
        ("app.example", "https://app.example/go/x?a=1"),
        ("APP.example", "https://app.example/go/x?a=1"),
        ("app.example:8443", "https://app.example:8443/go/x?a=1"),
    ] {
        let d = e.check_http(&host(&[h]));
        assert_eq!((d.status, d.location.as_deref()), (301, Some(loc)), "{h}");
    }
    for bad in [
        "app.example.",
        "app.example:443",
        "app.example:8443.",
        "app.example:08443",
        "evil.example",
        "app.example@evil.example",
        "evil.example#app.example",
        "app.example/evil",
        "[::1]",
        " app.example",
        "app.example\tx",
        "",
    ] {
        let d = e.check_http(&host(&[bad]));
        assert_eq!((d.status, d.location.as_deref()), (400, None), "{bad:?}");
        assert!(d.header("location").is_none());
    }
    let d = e.check_http(&host(&["app.example", "evil.example"]));
    assert_eq!(d.status, 400);
}

// ---------------------------------------------------------------------------------
// Webhook signatures

#[test]
fn stripe_signature_header_spellings() {
    use hmac::{Hmac, Mac};
    let src = r#"policy p
route POST /hook {
  require signature stripe(header stripe-signature, secret(WH)) tolerance 5m else 401
}
"#;
    let secret = "whsec_attack_secret";
    let e = Engine::from_source("p.warden", src, Options::default().secret("WH", secret)).unwrap();
    let body = r#"{"id":"evt_1"}"#;
    let sig = |t: &str, body: &str| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let t = NOW.to_string();
    let good = sig(&t, body);
    let hook = |h: &str, at: u64| {
        HttpRequest::new("POST", "/hook")
            .header("stripe-signature", h)
            .body(body)
            .time_us(at * 1_000_000)
    };
    assert_eq!(
        e.check_http(&hook(&format!("t={t},v1={good}"), NOW)).status,
        200
    );
    for (h, at, want) in [
        // Several signatures, any may match; other schemes are ignored.
        (format!("t={t},v1={},v1={good}", "0".repeat(64)), NOW, 200),
        (format!("t={t},v0={},v1={good}", "0".repeat(64)), NOW, 200),
        (format!(" t={t} , v1={good} "), NOW, 200),
        (format!("t={t},v1={}", good.to_ascii_uppercase()), NOW, 200),
        // At the tolerance and just past it, either side.
        (format!("t={t},v1={good}"), NOW + 300, 200),
        (format!("t={t},v1={good}"), NOW - 300, 200),
        (format!("t={t},v1={good}"), NOW + 301, 401),
        (format!("t={t},v1={good}"), NOW - 301, 401),
        // A timestamp spelled otherwise is another signed text.
        (format!("t=0{t},v1={good}"), NOW, 401),
        (format!("t=+{t},v1={good}"), NOW, 401),
        (format!("t={t}.0,v1={good}"), NOW, 401),
        // Two timestamps, none, a bad signature, a signature cut or spaced.
        (format!("t={t},t={t},v1={good}"), NOW, 401),
        (format!("v1={good}"), NOW, 401),
        (format!("t={t}"), NOW, 401),
        (format!("t={t},v1={}", &good[..63]), NOW, 401),
        (format!("t={t},v1= {good}"), NOW, 401),
        (format!("t={t},v1={good}0"), NOW, 401),
        (format!("t={t};v1={good}"), NOW, 401),
        (format!("T={t},V1={good}"), NOW, 401),
        (format!("t={t},v1={},v1=zz", good), NOW, 401),
        (String::new(), NOW, 401),
    ] {
        let d = e.check_http(&hook(&h, at));
        assert_eq!(d.status, want, "{h:?} at {at}");
        if want != 200 {
            assert!(!format!("{d:?}").contains(secret));
        }
    }
    // A signature for another body, or for the body with a byte changed.
    let other = sig(&t, r#"{"id":"evt_2"}"#);
    assert_eq!(
        e.check_http(&hook(&format!("t={t},v1={other}"), NOW))
            .status,
        401
    );
    // No body at all.
    let nobody = HttpRequest::new("POST", "/hook")
        .header("stripe-signature", format!("t={t},v1={good}"))
        .time_us(NOW * 1_000_000);
    assert_eq!(e.check_http(&nobody).status, 401);
}

// ---------------------------------------------------------------------------------
// Auth.js session cookies

/// An Auth.js v5 session cookie sealed by `@auth/core` 0.41.3's own `encode` (the
/// vector of `auth.rs`: salt `authjs.session-token`, valid at 1767225660).
const AUTHJS_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiWGlJTFVmY2x1RjNYVHJYM1BidUhScHhvaGtNYXY2YXkxXzJ2MzJiV1BjcVoxamZhSnlpTVZOUmFTaVYxVUlUWnFfcE4zZXdCQmFjWS00UUhUMzJ0NGcifQ..sbeMIaPVCn-l01TLeL8fUA.VK4SAzoaY_VWr8V6LzoiJVz0GkHrTeGE1g3yiFh9XQzlK6KUivUTqOajD0JWRy06uRTQTAe_yrlcHqz0nvCxqKHwex4Z_qWQsCCL8VE6AfjufRagDxkMnw6fh3eubGy-rjYLahAm2XVhQ4ybX_7qoxRwfyIYYu15hM-tekyIkL-jxeX6sinVAURpwITl9qk1tyKvI8pplGIBZrkT6Bin7A.MUzm0zg4tOdkiXRIcC8HUY7eR8fU0vyPJSfITa_-AnE";
const AUTHJS_SECRET: &str = "test-auth-secret-0123456789abcdef0123456789";

fn authjs_engine() -> Engine {
    let src = r#"policy app
role ADMIN
principal { id: string, roles: set<role> }
auth nextauth {
  keys: secret(AUTH_SECRET)
  max_age: 30d
}
route /app/** { require role ADMIN }
"#;
    let mut o = Options::default()
        .secret("AUTH_SECRET", AUTHJS_SECRET)
        .clock(Arc::new(ManualClock::new(1_767_225_660 * 1_000_000)));
    o.secrets_from_env = false;
    Engine::from_source("app.warden", src, o).unwrap()
}

/// Tampered, re-labelled, chunked and repeated session cookies.
#[test]
fn auth_js_cookies_tampered_chunked_and_repeated() {
    let e = authjs_engine();
    let name = "authjs.session-token";
    let with = |cookies: &[String]| {
        cookies
            .iter()
            .fold(HttpRequest::new("GET", "/app/x"), |r, c| {
                r.header("cookie", c.as_str())
            })
    };
    let status = |cookies: &[String]| e.check_http(&with(cookies)).status;
    assert_eq!(status(&[format!("{name}={AUTHJS_TOKEN}")]), 200);
    // Quoted, and among other cookies: the same cookie.
    assert_eq!(
        status(&[format!("a=1; {name}=\"{AUTHJS_TOKEN}\"; b=2")]),
        200
    );
    // Chunks in any header order, joined by index.
    let t = AUTHJS_TOKEN;
    let (a, rest) = t.split_at(100);
    let (b, c) = rest.split_at(150);
    assert_eq!(
        status(&[
            format!("{name}.2={c}; {name}.0={a}"),
            format!("{name}.1={b}")
        ]),
        200
    );
    // A gap, or chunks out of their order: not the token (a refused credential, 401;
    // no `.0` chunk at all is no credential, 403 for the role).
    for (cookies, want) in [
        (vec![format!("{name}.0={a}; {name}.2={c}")], 401),
        (
            vec![format!("{name}.0={a}; {name}.1={c}; {name}.2={b}")],
            401,
        ),
        // An empty chunk adds nothing: the joined text is the whole genuine token.
        (
            vec![format!("{name}.0={a}{b}; {name}.1=; {name}.2={c}")],
            200,
        ),
        (vec![format!("{name}.1={b}; {name}.2={c}")], 403),
    ] {
        assert_eq!(status(&cookies), want, "{cookies:?}");
    }
    // The first cookie of the name is the credential; a forged first is not rescued.
    assert_eq!(
        status(&[format!("{name}=x.y.z; {name}={AUTHJS_TOKEN}")]),
        401
    );
    assert_eq!(
        status(&[format!("{name}=x"), format!("{name}={AUTHJS_TOKEN}")]),
        401
    );
    assert_eq!(status(&[format!("{name}={AUTHJS_TOKEN}; {name}=x")]), 200);
    // Other names: case, prefix, suffix, a comma-folded Cookie line.
    for cookie in [
        format!("Authjs.session-token={t}"),
        format!("authjs.session-token2={t}"),
        format!("x{name}={t}"),
        format!("__Host-{name}={t}"),
        format!("a=1, {name}={t}"),
    ] {
        let d = e.check_http(&with(std::slice::from_ref(&cookie)));
        assert_eq!(
            (d.status, d.reason.as_deref()),
            (403, Some("requires role ADMIN")),
            "{cookie}"
        );
        assert_eq!(d.authenticated_by, None, "{cookie}");
    }
    // Every part tampered with, one character at a time; the header re-labelled.
    let parts: Vec<&str> = t.split('.').collect();
    assert_eq!(parts.len(), 5);
    let mut forged: Vec<(String, String)> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        for at in [0, p.len() / 2, p.len().saturating_sub(1)] {
            if p.is_empty() {
                continue;
            }
            let mut bytes = p.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let mut q = parts.clone();
            let changed = String::from_utf8(bytes).unwrap();
            q[i] = &changed;
            forged.push((format!("part {i} at {at}"), q.join(".")));
        }
    }
    let header = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    for relabelled in [
        header.replace("A256CBC-HS512", "A256GCM"),
        header.replace("A256CBC-HS512", "A128CBC-HS256"),
        header.replace("\"dir\"", "\"none\""),
        header.replacen('{', "{\"zip\":\"DEF\",", 1),
        header.replacen('{', "{\"crit\":[\"x\"],", 1),
        header.replacen('{', "{\"enc\":\"A256GCM\",", 1),
    ] {
        let mut q = parts.clone();
        let h = b64(&relabelled);
        q[0] = &h;
        forged.push((relabelled.clone(), q.join(".")));
    }
    let mut q = parts.clone();
    q[1] = "AAAA";
    forged.push(("an encrypted key".into(), q.join(".")));
    forged.push(("six parts".into(), format!("{t}.")));
    forged.push(("four parts".into(), parts[..4].join(".")));
    forged.push(("padded".into(), format!("{t}=")));
    forged.push(("huge".into(), format!("{t}{}", "A".repeat(70_000))));
    for (what, token) in &forged {
        let d = e.check_http(&with(&[format!("{name}={token}")]));
        assert_eq!(
            (d.status, d.reason.as_deref()),
            (401, Some("invalid_token")),
            "{what}"
        );
    }
    // Nothing of the cookie is ever shown.
    let shown = everything_shown(&e, &with(&[format!("{name}={AUTHJS_TOKEN}")]));
    assert!(!shown.contains(&AUTHJS_TOKEN[..40]), "{shown}");
    assert!(!shown.contains(AUTHJS_SECRET));
}

// ---------------------------------------------------------------------------------
// Headers read by `require header`

#[test]
fn header_requirements_read_the_first_line_of_any_case() {
    let src = r#"policy p
route POST /cron/** {
  require header authorization == "Bearer " + secret(CRON) else 401
}
route /tenant/** { require header x-tenant in ["acme"] else 403 }
"#;
    let cron = "cron-secret-0123456789";
    let e = Engine::from_source("p.warden", src, Options::default().secret("CRON", cron)).unwrap();
    let post = |hs: &[(&str, &str)]| {
        hs.iter()
            .fold(HttpRequest::new("POST", "/cron/run"), |r, (n, v)| {
                r.header(*n, *v)
            })
    };
    let good = format!("Bearer {cron}");
    for (hs, want) in [
        (vec![("Authorization", good.as_str())], 200),
        (vec![("AUTHORIZATION", good.as_str())], 200),
        (
            vec![("authorization", "x"), ("authorization", good.as_str())],
            401,
        ),
        (
            vec![("authorization", good.as_str()), ("authorization", "x")],
            200,
        ),
        (vec![("authorization", &format!("bearer {cron}"))], 401),
        (vec![("authorization", &format!("Bearer {cron} "))], 401),
        (vec![("authorization", &format!("Bearer  {cron}"))], 401),
        (
            vec![(
                "authorization",
                &format!("Bearer {}", &cron[..cron.len() - 1]),
            )],
            401,
        ),
        (vec![("authorization", "")], 401),
        (vec![("x-authorization", good.as_str())], 401),
        (vec![], 401),
    ] {
        let req = post(&hs);
        let d = e.check_http(&req);
        assert_eq!(d.status, want, "{hs:?}");
        let shown = everything_shown(&e, &req);
        assert!(!shown.contains(cron), "secret echoed for {hs:?}");
    }
    let tenant = |v: &str| HttpRequest::new("GET", "/tenant/x").header("X-Tenant", v);
    assert_eq!(e.check_http(&tenant("acme")).status, 200);
    for bad in ["ACME", "acme ", " acme", "acme,acme", "acm", "[\"acme\"]"] {
        assert_eq!(e.check_http(&tenant(bad)).status, 403, "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------
// Input facts of odd kinds

#[test]
fn input_of_another_kind_than_declared_never_passes_a_check() {
    let src = r#"policy p
input { size: number, name: string, title: string, tags: set<string> }
route POST /up {
  require input.size <= 1MB else 413
  require input.name matches /^[a-z]{1,8}$/ else 400
  require input.title.len <= 8 else 400
  require input.tags.len <= 2 else 400
}
"#;
    let e = Engine::from_source("p.warden", src, Options::default()).unwrap();
    let req = |size: serde_json::Value,
               name: serde_json::Value,
               title: serde_json::Value,
               tags: serde_json::Value| {
        HttpRequest::from_json(&serde_json::json!({
            "method": "POST", "path": "/up",
            "input": { "size": size, "name": name, "title": title, "tags": tags }
        }))
        .unwrap()
    };
    use serde_json::json;
    let ok = || (json!(10), json!("abc"), json!("short"), json!(["a"]));
    let (s, n, t, g) = ok();
    assert_eq!(e.check_http(&req(s, n, t, g)).status, 200);
    let long = "x".repeat(10_000);
    // One field at a time replaced by a value of another kind (or out of bounds).
    let sizes = [
        json!("1"),
        json!([1]),
        json!({"n": 1}),
        json!(true),
        json!(null),
        json!(2e6),
        json!(1e308),
    ];
    for size in sizes {
        let (_, n, t, g) = ok();
        assert_eq!(
            e.check_http(&req(size.clone(), n, t, g)).status,
            413,
            "size {size}"
        );
    }
    for name in [
        json!(["abc"]),
        json!({"a": "abc"}),
        json!(7),
        json!("ABC"),
        json!("abc\n"),
    ] {
        let (s, _, t, g) = ok();
        assert_eq!(
            e.check_http(&req(s, name.clone(), t, g)).status,
            400,
            "name {name}"
        );
    }
    for title in [
        json!([long.clone()]),
        json!({ "a": long.clone() }),
        json!(123_456_789),
        json!("123456789"),
        json!("ééééééééé"),
    ] {
        let (s, n, _, g) = ok();
        let shown = format!("{title}");
        assert_eq!(
            e.check_http(&req(s, n, title, g)).status,
            400,
            "title {}",
            &shown[..shown.len().min(40)]
        );
    }
    // Unicode lengths are characters: eight accented letters pass.
    let (s, n, _, g) = ok();
    assert_eq!(e.check_http(&req(s, n, json!("éééééééé"), g)).status, 200);
    for tags in [json!("ab"), json!(["a", "b", "c"])] {
        let (s, n, t, _) = ok();
        assert_eq!(
            e.check_http(&req(s, n, t, tags.clone())).status,
            400,
            "tags {tags}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Limit keys from headers with fallbacks

#[test]
fn empty_and_odd_key_values_do_not_open_fresh_budgets() {
    let src = r#"policy p
limit l: 2 per 1h by header x-client ?? ip
route /** { limit l }
"#;
    let e = Engine::from_source("p.warden", src, Options::default()).unwrap();
    let peer: IpAddr = "198.51.100.7".parse().unwrap();
    // Without a proxies block, forwarding headers do not move the key.
    let xff = |v: &str| {
        HttpRequest::new("GET", "/x")
            .ip(peer)
            .header("x-forwarded-for", v)
            .header("forwarded", format!("for={v}"))
    };
    let got: Vec<u16> = ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
        .iter()
        .map(|v| e.check_http(&xff(v)).status)
        .collect();
    assert_eq!(got, [200, 200, 429]);
    e.reset_limits();
    // An empty header is a value (one shared key), not a fall-through to a fresh one.
    let empty = |ip: &str| {
        HttpRequest::new("GET", "/x")
            .ip(ip.parse().unwrap())
            .header("x-client", "")
    };
    let got: Vec<u16> = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .map(|ip| e.check_http(&empty(ip)).status)
        .collect();
    assert_eq!(got, [200, 200, 429]);
}

/// A key that spells an address is not that address's budget: a client that writes
/// another client's address in a header the key reads first (or a principal whose id
/// is an address) must not spend that client's quota, nor borrow it.
#[test]
fn text_keys_never_share_an_address_budget() {
    for key in [
        "header x-user ?? ip",
        "principal.id ?? ip",
        "input.user ?? ip",
    ] {
        let src = format!(
            "policy p\nprincipal {{ id: string }}\nlimit l: 2 per 1h by {key}\nroute /** {{ limit l }}\n"
        );
        let e = Engine::from_source("p.warden", &src, Options::default()).unwrap();
        for victim in ["203.0.113.7", "2001:db8:1:2::/64", "2001:db8:1:2::9"] {
            e.reset_limits();
            let attacker: IpAddr = "198.51.100.66".parse().unwrap();
            let spelled = |r: HttpRequest| match key {
                "header x-user ?? ip" => r.header("x-user", victim),
                "principal.id ?? ip" => r.principal(warden::Principal::new(victim)),
                _ => r.input("user", victim),
            };
            for _ in 0..3 {
                e.check_http(&spelled(HttpRequest::new("GET", "/x").ip(attacker)));
            }
            let ip: IpAddr = victim.trim_end_matches("/64").parse().unwrap();
            let d = e.check_http(&HttpRequest::new("GET", "/x").ip(ip));
            assert_eq!(d.status, 200, "by {key}: {victim} was spent by a text key");
        }
    }
}
