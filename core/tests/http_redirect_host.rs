//! `{host}` and `{target}` in redirect locations through `check_http`: a listed `Host`
//! is echoed, any other is a 400 naming the requirement, and `{target}` is the
//! normalised path and query.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use warden::{Engine, HttpRequest, Options};

const POLICY: &str = r#"policy p
hosts: "myapp.com"
hosts: "localhost:8443"
route /** {
  require header x-forwarded-proto == "https" else redirect 308 "https://{host}{target}"
}
route /old/** {
  public
  require false else redirect "{target}"
}
"#;

fn engine() -> Engine {
    Engine::from_source("p.warden", POLICY, Options::default()).unwrap()
}

#[test]
fn a_listed_host_is_echoed_with_the_target() {
    let e = engine();
    let d = e.check_http(&HttpRequest::new("GET", "/a/b?q=1").header("Host", "LOCALHOST:8443"));
    assert_eq!(d.status, 308);
    assert_eq!(
        d.location.as_deref(),
        Some("https://localhost:8443/a/b?q=1")
    );
    assert_eq!(d.header("location"), d.location.as_deref());
}

#[test]
fn an_unlisted_host_is_a_400_naming_the_requirement() {
    let e = engine();
    for host in [
        "evil.com",
        "myapp.com:80",
        "myapp.com\r\nx: y",
        "a@myapp.com",
    ] {
        let d = e.check_http(&HttpRequest::new("GET", "/").header("host", host));
        assert_eq!(d.status, 400, "{host:?}");
        assert!(!d.allowed);
        assert_eq!(d.location, None);
        assert_eq!(d.header("location"), None);
        assert_eq!(d.rules, ["p.warden:5"]);
    }
}

#[test]
fn target_alone_is_a_path_on_the_same_origin() {
    let e = engine();
    let d = e.check_http(
        &HttpRequest::new("GET", "/old/evil.com/%3F?x=%41")
            .header("host", "myapp.com")
            .header("x-forwarded-proto", "https"),
    );
    assert_eq!(d.status, 302);
    assert_eq!(d.location.as_deref(), Some("/old/evil.com/%3F?x=%41"));
}
