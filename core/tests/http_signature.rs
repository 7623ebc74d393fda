//! `require signature stripe(...)` through `check_http`, the request JSON's `body` and
//! `body_base64`, and `Engine::needs_body`. Vectors are HMAC-SHA256 values computed
//! independently with Python's `hmac` module.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use warden::{Engine, HttpRequest, Options};

const POLICY: &str = r#"policy p
route /** { require auth }
route POST /hooks/stripe {
  public
  require signature stripe(header Stripe-Signature, secret(WH)) tolerance 1m else 401
}
"#;
const BODY: &str = r#"{"id":"evt_1","type":"checkout.session.completed"}"#;
const T: u64 = 1_795_341_600;
/// `hmac.new(b"whsec_test_secret", b"1795341600." + BODY, hashlib.sha256).hexdigest()`
const SIG: &str = "f6f28efd0847de8864411542472f392c8ac2c6330f4040d66f57e144e1487466";

fn engine() -> Engine {
    let options = Options::default().secret("WH", "whsec_test_secret");
    Engine::from_source("p.warden", POLICY, options).unwrap()
}

fn hook(at: u64, sig: &str, body: &str) -> HttpRequest {
    HttpRequest::new("POST", "/hooks/stripe")
        .header("stripe-signature", sig)
        .body(body)
        .time_us(at * 1_000_000)
}

#[test]
fn a_valid_signature_passes_and_anything_else_gets_the_else_status() {
    let e = engine();
    let good = format!("t={T},v1={SIG}");
    assert_eq!(e.check_http(&hook(T, &good, BODY)).status, 200);
    assert_eq!(e.check_http(&hook(T + 60, &good, BODY)).status, 200);
    let d = e.check_http(&hook(T + 61, &good, BODY));
    assert_eq!(d.status, 401);
    assert_eq!(d.rules, ["p.warden:5"]);
    assert_eq!(
        d.reason.as_deref(),
        Some("webhook signature (stripe, header `Stripe-Signature`) not verified")
    );
    assert_eq!(
        e.check_http(&hook(T, &good, &BODY.replace('1', "2")))
            .status,
        401
    );
    let no_body = HttpRequest::new("POST", "/hooks/stripe")
        .header("stripe-signature", &good)
        .time_us(T * 1_000_000);
    assert_eq!(e.check_http(&no_body).status, 401);
    let no_header = HttpRequest::new("POST", "/hooks/stripe")
        .body(BODY)
        .time_us(T * 1_000_000);
    assert_eq!(e.check_http(&no_header).status, 401);
}

#[test]
fn the_json_body_fields_carry_the_same_bytes() {
    let e = engine();
    let text = serde_json::json!({
        "method": "POST", "path": "/hooks/stripe", "time": "2026-11-22T10:00:00Z",
        "headers": { "stripe-signature": format!("t={T},v1={SIG}") },
        "body": BODY,
    });
    let req = HttpRequest::from_json(&text).unwrap();
    assert_eq!(e.check_http(&req).status, 200);
    let mut b64 = text.clone();
    b64["body"] = serde_json::Value::Null;
    // base64 of BODY.
    b64["body_base64"] =
        "eyJpZCI6ImV2dF8xIiwidHlwZSI6ImNoZWNrb3V0LnNlc3Npb24uY29tcGxldGVkIn0=".into();
    let req = HttpRequest::from_json(&b64).unwrap();
    assert_eq!(req.body.as_deref(), Some(BODY.as_bytes()));
    assert_eq!(e.check_http(&req).status, 200);
}

#[test]
fn needs_body_names_only_routes_with_a_signature() {
    let e = engine();
    assert!(e.needs_body("POST", "/hooks/stripe"));
    assert!(e.needs_body("post", "/hooks/stripe/?x=1"));
    // Refused 400 by the path rule before any body is read.
    assert!(!e.needs_body("post", "/hooks/./stripe"));
    assert!(!e.needs_body("GET", "/hooks/stripe"));
    assert!(!e.needs_body("POST", "/hooks"));
    assert!(!e.needs_body("POST", "/%zz"));
}

#[test]
fn the_signing_secret_must_be_set_unless_optional() {
    let err = Engine::from_source("p.warden", POLICY, Options::default()).unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("missing-secret"), "{text}");
    let optional = POLICY.replace("secret(WH)", "secret(WH)?");
    let e = Engine::from_source("p.warden", &optional, Options::default()).unwrap();
    let good = format!("t={T},v1={SIG}");
    assert_eq!(e.check_http(&hook(T, &good, BODY)).status, 401);
}
