//! The path rule (docs/ARCHITECTURE.md) against a real axum router: a corpus of
//! spellings of a protected path goes over a real socket, byte for byte (a raw
//! HTTP/1.1 request line: no client library resolves or re-encodes it), through
//! `WardenLayer` to an axum `Router` whose admin handlers answer `x-handler: admin`.
//! For every spelling, either Warden refused it (400), or the handler axum dispatched
//! belongs to the route the engine matched; a non-admin never reaches an admin handler.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warden::{Engine, HttpRequest, Options, Principal};
use warden_tower::WardenLayer;

const POLICY: &str = "policy d
role admin
route /api/admin/** { require role admin }
route /** { public }
";

/// Spellings of paths under and around `/api/admin` (issue 15's list, and more).
fn corpus() -> Vec<String> {
    let admin = [
        "admin",
        "ADMIN",
        "Admin",
        "%61dmin",
        "adm%69n",
        "%41dmin",
        "admin;x",
        "admin%3Bx",
        "admin%2F",
        "admin%2f",
        "admin%5C",
        "admin\\",
        "admin%00",
        "%EF%BD%81dmin",
        "admin%20",
        "admin.",
        ".admin",
    ];
    let tails = [
        "",
        "/",
        "//",
        "/x",
        "/x/",
        "/..",
        "/../",
        "/.",
        "/%2e%2e",
        "/%2E%2E",
        "/.%2E",
        "/%2e.",
        "/x/..",
        "/x/../..",
        "/x/%2e%2e/%2e%2e",
        "/..;",
        "/..;/x",
        "/%2e",
        "/x%2F..",
        "/%00",
        "/x?y=/..",
        "/%C0%AE%C0%AE",
        "//x",
    ];
    let heads = [
        "/api/",
        "/API/",
        "/api//",
        "//api/",
        "/x/../api/",
        "/api/x/../",
        "/%61pi/",
        "/api\\",
    ];
    let mut out: Vec<String> = Vec::new();
    for h in heads {
        for a in admin {
            for t in tails {
                out.push(format!("{h}{a}{t}"));
            }
        }
    }
    out.extend(tails.iter().map(|t| format!("/api{t}")));
    out.sort();
    out.dedup();
    out
}

/// GET `raw` exactly as written; the status and the `x-handler` header, if any.
async fn raw_get(addr: std::net::SocketAddr, raw: &str) -> (u16, Option<String>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {raw} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let handler = text
        .lines()
        .find_map(|l| l.strip_prefix("x-handler: "))
        .map(|h| h.trim().to_owned());
    (status, handler)
}

#[tokio::test]
async fn no_spelling_reaches_an_admin_handler_the_engine_did_not_route_to() {
    let engine = Engine::from_source("d.warden", POLICY, Options::default()).unwrap();
    let check = Engine::from_source("d.warden", POLICY, Options::default()).unwrap();
    let mark = |kind: &'static str| get(move || async move { ([("x-handler", kind)], kind) });
    let app = Router::new()
        .route("/api/admin", mark("admin"))
        .route("/api/admin/{section}", mark("admin"))
        .route("/api/admin/{section}/{*rest}", mark("admin"))
        .route("/api/{x}", mark("public"))
        .route("/api/{x}/{*rest}", mark("public"))
        .route("/{*rest}", mark("public"))
        .layer(WardenLayer::new(engine).principal(|_| Some(Principal::new("u1"))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (mut refused, mut served) = (0, 0);
    for p in corpus() {
        let (status, handler) = raw_get(addr, &p).await;
        // No handler ran: refused by Warden (400, or 403 for the admin route), or no
        // route of axum's (404).
        let Some(handler) = handler else {
            refused += usize::from(status == 400);
            continue;
        };
        assert_ne!(
            handler, "admin",
            "{p}: a non-admin reached an admin handler ({status})"
        );
        let d = check.check_http(&HttpRequest::new("GET", &p).principal(Principal::new("u1")));
        assert_eq!(
            d.route.map(|r| r.pattern),
            Some("/**"),
            "{p}: the engine matched another route than axum dispatched ({handler})"
        );
        served += 1;
    }
    assert!(refused > 100, "refused {refused}");
    assert!(served > 10, "served {served}");
}
