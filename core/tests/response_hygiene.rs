//! Response headers of issue 15: `Vary` values are merged, never replaced (a replaced
//! `Vary: Cookie` let a browser reuse one user's answer for another), and
//! `X-Powered-By` is removed unless the policy sets it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use warden::{Engine, HttpRequest, Options};

const POLICY: &str = r#"
policy p
cors {
  origins: "https://app.example"
  credentials: true
}
route /me {
  public
  header set Vary: "Cookie"
}
route /both {
  public
  header set Vary: "Cookie, Origin"
}
route /** { public }
"#;

fn engine(src: &str) -> Engine {
    Engine::from_source("p.warden", src, Options::default()).unwrap()
}

fn from_app(path: &str) -> HttpRequest {
    HttpRequest::new("GET", path).header("origin", "https://app.example")
}

fn vary(e: &Engine, req: &HttpRequest) -> Vec<String> {
    let d = e.check_http(req);
    d.headers
        .iter()
        .filter(|(n, _)| n == "vary")
        .map(|(_, v)| v.to_string())
        .collect()
}

#[test]
fn a_routes_vary_and_cors_vary_are_merged() {
    let e = engine(POLICY);
    assert_eq!(vary(&e, &from_app("/me")), ["Cookie, Origin"]);
    assert_eq!(vary(&e, &from_app("/both")), ["Cookie, Origin"]);
    assert_eq!(vary(&e, &from_app("/other")), ["Origin"]);
    // Without an Origin, and on a refused origin, too.
    assert_eq!(
        vary(&e, &HttpRequest::new("GET", "/me")),
        ["Cookie, Origin"]
    );
    let evil = HttpRequest::new("GET", "/me").header("origin", "https://evil.example");
    assert_eq!(vary(&e, &evil), ["Cookie, Origin"]);
    // A preflight answer too.
    let pre = from_app("/me").header("access-control-request-method", "GET");
    let mut pre = pre;
    pre.method = "OPTIONS".into();
    assert_eq!(vary(&e, &pre), ["Cookie, Origin"]);
}

#[test]
fn x_powered_by_is_removed_unless_the_policy_sets_it() {
    let e = engine(POLICY);
    for req in [from_app("/me"), HttpRequest::new("GET", "/a%zz")] {
        let d = e.check_http(&req);
        assert!(d.remove.contains(&"x-powered-by"), "{d:?}");
    }
    let kept = engine("policy p\nheaders {\n  X-Powered-By: \"Warden\"\n}\nroute /** { public }\n");
    let d = kept.check_http(&HttpRequest::new("GET", "/"));
    assert!(!d.remove.contains(&"x-powered-by"), "{d:?}");
    assert_eq!(d.header("x-powered-by"), Some("Warden"));
    let per_route = engine("policy p\nroute /x {\n  public\n  header set X-Powered-By: \"Warden\"\n}\nroute /** { public }\n");
    let d = per_route.check_http(&HttpRequest::new("GET", "/x"));
    assert!(!d.remove.contains(&"x-powered-by"), "{d:?}");
    assert_eq!(d.header("x-powered-by"), Some("Warden"));
}
