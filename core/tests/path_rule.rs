//! The path rule (docs/ARCHITECTURE.md, Architecture invariants) at the engine: every
//! spelling that some router reads differently from the engine is refused 400, so no
//! spelling of a protected path reaches a handler under another route's requirements.
//! Issue 15: `GET /api/admin/..` was resolved to `/api`, matched `/**` and allowed,
//! while Express 5 and Starlette dispatched the admin handler.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use warden::{Engine, HttpRequest, Options, Principal};

fn shop() -> Engine {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/06-routes.warden"
    ))
    .unwrap();
    Engine::from_source("06-routes.warden", &src, Options::default()).unwrap()
}

fn customer(path: &str) -> HttpRequest {
    HttpRequest::new("GET", path).principal(Principal::new("u1").role("customer"))
}

#[test]
fn dot_segments_and_other_ambiguous_spellings_are_refused() {
    let e = shop();
    for path in [
        "/api/admin/..",
        "/api/admin/%2e%2e",
        "/api/admin/.%2E",
        "/api/admin/%2E.",
        "/api/admin/x/../..",
        "/api/admin/.",
        "/api/admin/..;",
        "/api//admin",
        "//api/admin",
        "/api/admin%2Fx",
        "/api%2fadmin",
        "/api\\admin",
        "/api/admin%5Cx",
        "/api/admin%00",
        "/api/admin\u{0}",
        "/api/%61dmin",
        "/api/adm%69n/x",
        "/API/admin",
        "/api/ADMIN/x",
        "/api/admin%C0%AE%C0%AE",
    ] {
        let d = e.check_http(&customer(path));
        assert_eq!(d.status, 400, "{path}: {d:?}");
        assert!(!d.allowed, "{path}");
    }
}

#[test]
fn spellings_every_router_reads_alike_keep_their_route() {
    let e = shop();
    for path in [
        "/api/admin",
        "/api/admin/",
        "/api/admin/x",
        "/api/admin/x?a=/../..",
        "/api/admin;x/y",
    ] {
        let d = e.check_http(&customer(path));
        let want = if path.starts_with("/api/admin;") {
            200
        } else {
            403
        };
        assert_eq!(d.status, want, "{path}: {d:?}");
    }
    // A segment that only looks like `admin` is another segment to every router.
    for path in [
        "/api/\u{ff41}dmin",
        "/api/admin\u{200b}",
        "/api/%EF%BD%81dmin",
    ] {
        let d = e.check_http(&customer(path));
        assert_eq!(d.status, 200, "{path}: {d:?}");
        assert_eq!(d.route.map(|r| r.pattern), Some("/**"), "{path}");
    }
    // Upper case that no route's literal depends on is matched.
    assert_eq!(e.check_http(&customer("/Account/x")).status, 400);
    assert_eq!(e.check_http(&customer("/elsewhere/X")).status, 200);
    // Escapes of characters that need one decode once and route as parameters do.
    assert_eq!(e.check_http(&customer("/elsewhere/a%40b")).status, 200);
}
