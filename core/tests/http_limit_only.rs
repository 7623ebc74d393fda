//! `limit NAME only`: a route's limits replace those of its ancestor routes, for the
//! requests it matches, while more specific routes still add theirs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use warden::{Engine, HttpRequest, Options};

const POLICY: &str = r#"policy p
limit global: 3 per 1m by ip
limit login: 2 per 1m by ip
limit deep: 9 per 1m by ip
route /** { limit global }
route POST /auth/** { limit login only }
route POST /auth/login/admin { limit deep }
route GET /auth/** { limit login }
"#;

fn engine() -> Engine {
    Engine::from_source("p.warden", POLICY, Options::default()).unwrap()
}

fn req(method: &str, path: &str) -> HttpRequest {
    HttpRequest::new(method, path)
        .ip("203.0.113.7".parse().unwrap())
        .time_us(1_795_341_600_000_000)
}

#[test]
fn only_cuts_the_ancestors_limits() {
    let e = engine();
    let d = e.check_http(&req("POST", "/auth/login"));
    assert_eq!(d.header("ratelimit-policy"), Some("\"login\";q=2;w=60"));
    // Two logins, then the login limit refuses; the global quota was never spent.
    assert!(e.check_http(&req("POST", "/auth/login")).allowed);
    assert_eq!(e.check_http(&req("POST", "/auth/login")).status, 429);
    let g = e.check_http(&req("GET", "/"));
    assert_eq!(g.header("ratelimit"), Some("\"global\";r=2;t=20"));
}

#[test]
fn without_only_every_matching_route_counts() {
    let e = engine();
    let d = e.check_http(&req("GET", "/auth/login"));
    assert_eq!(
        d.header("ratelimit-policy"),
        Some("\"global\";q=3;w=60, \"login\";q=2;w=60")
    );
}

#[test]
fn a_more_specific_route_still_adds_its_limits_above_an_only_route() {
    let e = engine();
    let d = e.check_http(&req("POST", "/auth/login/admin"));
    assert_eq!(
        d.header("ratelimit-policy"),
        Some("\"login\";q=2;w=60, \"deep\";q=9;w=60")
    );
}
