//! The seed-003 API served by hyper (axum::serve) on a loopback port, asked by a hyper
//! client: every concern of the policy as a client sees it. One server per test, so
//! the policy's per-IP limits (100 per 15 minutes, 5 logins) never leak between tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use warden::{Engine, Options, Principal, Request as AuthzRequest, Resource};
use warden_example_axum::{access_token, app, seed_posts, Store};

const SECRET: &str = "test-jwt-secret-0123456789abcdef0123";
const ORIGIN: &str = "https://myapp.com";

struct Server {
    addr: SocketAddr,
}

fn engine(env: &str) -> Engine {
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../policies/security-patterns.warden"
    );
    let options = Options::default()
        .env(env)
        .secret("JWT_SECRET", SECRET)
        .secret("JWT_REFRESH_SECRET", "test-jwt-refresh-secret-0123456789ab");
    Engine::from_file(policy, options).unwrap()
}

async fn serve(env: &str) -> Server {
    let engine = engine(env);
    let router = app(engine, Arc::new(Store::seeded(SECRET)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server { addr }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Server {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Value>,
    ) -> Answer {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(n, _)| *n == "host") {
            req = req.header("host", "localhost");
        }
        for (n, v) in headers {
            req = req.header(*n, v);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Full::new(Bytes::from(v.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let res = sender.send_request(req.body(body).unwrap()).await.unwrap();
        let (parts, body) = res.into_parts();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    async fn get(&self, path: &str, headers: &[(&str, String)]) -> Answer {
        self.send(Method::GET, path, headers, None).await
    }
}

fn bearer(sub: &str, role: &str) -> (&'static str, String) {
    (
        "authorization",
        format!("Bearer {}", access_token(SECRET, sub, role, 900)),
    )
}

#[tokio::test]
async fn security_headers_on_every_answer_and_x_powered_by_dropped() {
    let s = serve("development").await;
    let r = s.get("/health", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    assert_eq!(
        r.header("strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert!(r
        .header("content-security-policy")
        .starts_with("default-src 'self'"));
    assert!(r.headers.get("x-powered-by").is_none());
    let refused = s.get("/api/me", &[]).await;
    assert_eq!(refused.header("x-frame-options"), "SAMEORIGIN");
}

#[tokio::test]
async fn anonymous_callers_and_the_principal_in_handlers() {
    let s = serve("development").await;
    let r = s.get("/api/posts", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), json!({"detail": "not authenticated"}));
    assert_eq!(r.header("www-authenticate"), "Bearer");
    let me = s.get("/api/me", &[bearer("u2", "viewer")]).await;
    assert_eq!(me.json(), json!({"id": "u2", "roles": ["viewer"]}));
    assert_eq!(s.get("/api/whoami", &[]).await.json(), json!({"id": null}));
    assert_eq!(
        s.get("/api/whoami", &[bearer("a1", "admin")]).await.json(),
        json!({"id": "a1"})
    );
    let junk = s
        .get("/api/whoami", &[("authorization", "Bearer x.y.z".into())])
        .await;
    assert_eq!(junk.json(), json!({"id": null}));
    let posts = s.get("/api/posts", &[bearer("u2", "viewer")]).await;
    assert_eq!(posts.status, 200);
    let ids: Vec<Value> = posts
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert!(
        ids.contains(&json!("p1")) && ids.contains(&json!("p2")),
        "{ids:?}"
    );
}

#[tokio::test]
async fn policy_refusals_and_tokens() {
    let s = serve("development").await;
    let none = s
        .send(Method::PUT, "/api/posts/p1", &[], Some(json!({})))
        .await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json(), json!({"detail": "missing_token"}));
    let viewer = s
        .send(
            Method::PUT,
            "/api/posts/p1",
            &[bearer("u2", "viewer")],
            Some(json!({})),
        )
        .await;
    assert_eq!(viewer.status, 403);
    assert!(viewer.json()["detail"].is_string());
    let expired = (
        "authorization",
        format!("Bearer {}", access_token(SECRET, "u1", "editor", -60)),
    );
    let r = s
        .send(Method::PUT, "/api/posts/p1", &[expired], Some(json!({})))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (401, json!({"detail": "token_expired"}))
    );
    let forged = (
        "authorization",
        format!(
            "Bearer {}",
            access_token("another-secret-0123456789abcdef0123", "u1", "admin", 900)
        ),
    );
    let r = s
        .send(Method::PUT, "/api/posts/p1", &[forged], Some(json!({})))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (401, json!({"detail": "invalid_token"}))
    );
}

#[tokio::test]
async fn resource_level_checks_in_handlers() {
    let s = serve("development").await;
    let other = s
        .send(
            Method::PUT,
            "/api/posts/p1",
            &[bearer("u3", "editor")],
            Some(json!({"title": "mine"})),
        )
        .await;
    assert_eq!(other.status, 403);
    assert_eq!(
        other.json(),
        json!({"detail": "Not authorized to edit this post"})
    );
    let author = s
        .send(
            Method::PUT,
            "/api/posts/p1",
            &[bearer("u1", "editor")],
            Some(json!({"title": "edited"})),
        )
        .await;
    assert_eq!(author.status, 200);
    assert_eq!(author.json()["title"], "edited");
    let admin = s
        .send(
            Method::PUT,
            "/api/posts/p2",
            &[bearer("a1", "admin")],
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(admin.status, 200);
    let missing = s
        .send(
            Method::PUT,
            "/api/posts/nope",
            &[bearer("u1", "editor")],
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (missing.status.as_u16(), missing.json()),
        (404, json!({"detail": "Not found"}))
    );
    let viewer_delete = s
        .send(
            Method::DELETE,
            "/api/posts/p2",
            &[bearer("u2", "viewer")],
            None,
        )
        .await;
    assert_eq!(viewer_delete.status, 403);
    let editor_delete = s
        .send(
            Method::DELETE,
            "/api/posts/p2",
            &[bearer("u1", "editor")],
            None,
        )
        .await;
    assert_eq!(editor_delete.status, 204);
    assert_eq!(
        s.get("/api/posts/p2", &[bearer("u1", "editor")])
            .await
            .status,
        404
    );
    assert_eq!(
        s.get("/api/users/u1", &[bearer("u2", "viewer")])
            .await
            .json()["email"],
        "ed@example.com"
    );
    assert_eq!(
        s.send(
            Method::DELETE,
            "/api/users/u2",
            &[bearer("u1", "editor")],
            None
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn create_user_is_validated_by_the_policy_from_the_body() {
    let s = serve("development").await;
    let good =
        json!({"email": "new@example.com", "name": "New", "password": "long enough password"});
    assert_eq!(
        s.send(
            Method::POST,
            "/api/users",
            &[bearer("u1", "editor")],
            Some(good.clone())
        )
        .await
        .status,
        403
    );
    let created = s
        .send(
            Method::POST,
            "/api/users",
            &[bearer("a1", "admin")],
            Some(good),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["email"], "new@example.com");
    for bad in [
        json!({"email": "not-an-email", "name": "X", "password": "long enough password"}),
        json!({"email": "x@example.com", "name": "", "password": "long enough password"}),
        json!({"email": "x@example.com", "name": "X", "password": "short"}),
        json!({"email": "x@example.com", "name": "X", "age": 12, "password": "long enough password"}),
        json!({"email": "x@example.com", "name": "X", "age": 13.5, "password": "long enough password"}),
    ] {
        let r = s
            .send(
                Method::POST,
                "/api/users",
                &[bearer("a1", "admin")],
                Some(bad.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["detail"].is_string());
    }
}

#[tokio::test]
async fn cors_preflight_and_simple_requests() {
    let s = serve("development").await;
    let pre = s
        .send(
            Method::OPTIONS,
            "/api/posts/p1",
            &[
                ("origin", ORIGIN.into()),
                ("access-control-request-method", "PUT".into()),
                (
                    "access-control-request-headers",
                    "authorization, content-type".into(),
                ),
            ],
            None,
        )
        .await;
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), ORIGIN);
    assert_eq!(pre.header("access-control-allow-credentials"), "true");
    assert!(pre.header("access-control-allow-methods").contains("PUT"));
    assert!(pre.body.is_empty());
    let simple = s
        .get(
            "/api/posts",
            &[("origin", ORIGIN.into()), bearer("u2", "viewer")],
        )
        .await;
    assert_eq!(simple.status, 200);
    assert_eq!(simple.header("access-control-allow-origin"), ORIGIN);
    assert!(simple
        .header("vary")
        .to_ascii_lowercase()
        .contains("origin"));
    let stranger = s
        .get(
            "/api/posts",
            &[
                ("origin", "https://evil.example".into()),
                bearer("u2", "viewer"),
            ],
        )
        .await;
    assert!(stranger
        .headers
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn api_keys_on_v1() {
    let s = serve("development").await;
    let ok = s
        .get(
            "/api/v1/reports",
            &[("x-api-key", "sk_test_client7_0123456789abcdef".into())],
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json(), json!({"client": "client-7", "reports": []}));
    assert_eq!(s.get("/api/v1/reports", &[]).await.status, 401);
    let revoked = s
        .get(
            "/api/v1/reports",
            &[("x-api-key", "sk_test_client3_0123456789abcdef".into())],
        )
        .await;
    assert_eq!(
        (revoked.status.as_u16(), revoked.json()),
        (401, json!({"detail": "invalid_api_key"}))
    );
    assert_eq!(
        s.get("/api/v1/reports", &[bearer("a1", "admin")])
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn login_cookie_flags_refresh_and_rate_limit() {
    let s = serve("development").await;
    let login =
        |email: &'static str, password: &'static str| json!({"email": email, "password": password});
    let r = s
        .send(
            Method::POST,
            "/api/auth/login",
            &[],
            Some(login("ed@example.com", "correct horse battery")),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["accessToken"]
            .as_str()
            .unwrap()
            .matches('.')
            .count(),
        2
    );
    let cookie = r.header("set-cookie").to_owned();
    for flag in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/api/auth/refresh",
        "Max-Age=604800",
    ] {
        assert!(
            cookie
                .to_ascii_lowercase()
                .contains(&flag.to_ascii_lowercase()),
            "{flag} in {cookie}"
        );
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        s.send(Method::POST, "/api/auth/refresh", &[], None)
            .await
            .status,
        401
    );
    let refreshed = s
        .send(Method::POST, "/api/auth/refresh", &[("cookie", pair)], None)
        .await;
    assert_eq!(refreshed.status, 200);
    let wrong = s
        .send(
            Method::POST,
            "/api/auth/login",
            &[],
            Some(login("ed@example.com", "wrong password!!")),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.json()),
        (401, json!({"detail": "Invalid email or password"}))
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            s.send(
                Method::POST,
                "/api/auth/login",
                &[],
                Some(login("nobody@example.com", "x")),
            )
            .await
            .status
            .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    let limited = s
        .send(
            Method::POST,
            "/api/auth/login",
            &[],
            Some(login("ed@example.com", "correct horse battery")),
        )
        .await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(limited.json()["detail"].is_string());
}

#[tokio::test]
async fn production_redirects_plain_http_to_https() {
    let s = serve("production").await;
    let host = |h: &str| ("host", h.to_owned());
    let proto = |p: &str| ("x-forwarded-proto", p.to_owned());
    let r = s
        .get("/health?x=1", &[host("myapp.com"), proto("http")])
        .await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), "https://myapp.com/health?x=1");
    assert!(r.body.is_empty());
    assert_eq!(
        s.get("/health", &[host("evil.example"), proto("http")])
            .await
            .status,
        400
    );
    assert_eq!(
        s.get("/health", &[host("myapp.com"), proto("https")])
            .await
            .status,
        200
    );
}

/// `GET /api/posts/editable` (the residual as SQL, run by SQLite) against the same
/// policy deciding each seeded post one at a time, as `PUT /api/posts/{id}` does; every
/// page but the last is full.
#[tokio::test]
async fn list_endpoint_pages_through_exactly_the_posts_authorize_allows() {
    let s = serve("development").await;
    let anon = s.get("/api/posts/editable", &[]).await;
    assert_eq!(anon.status, 401);
    let engine = engine("development");
    let mut sizes = Vec::new();
    for (user, role) in [
        ("u2", "viewer"),
        ("u1", "editor"),
        ("u3", "editor"),
        ("a1", "admin"),
    ] {
        let who = Principal::new(user).role(role);
        let mut want: Vec<String> = seed_posts()
            .into_iter()
            .filter(|p| {
                let req = AuthzRequest::new("posts:write")
                    .principal(who.clone())
                    .resource(Resource::new("post", &*p.id).attr("author", &*p.author));
                engine.authorize(&req).allowed
            })
            .map(|p| p.id)
            .collect();
        want.sort();
        let mut got: Vec<String> = Vec::new();
        for offset in (0..).step_by(20) {
            let r = s
                .get(
                    &format!("/api/posts/editable?limit=20&offset={offset}"),
                    &[bearer(user, role)],
                )
                .await;
            assert_eq!(r.status, 200);
            let page: Vec<String> = r.json()["posts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect();
            if got.len() + page.len() < want.len() {
                assert_eq!(page.len(), 20, "{user} at {offset}");
            }
            let last = page.len() < 20;
            got.extend(page);
            if last {
                break;
            }
        }
        assert_eq!(got, want, "{user}");
        sizes.push((user, got.len()));
    }
    let own = seed_posts().iter().filter(|p| p.author == "u1").count();
    assert!(own > 20);
    assert_eq!(
        sizes,
        vec![
            ("u2", 0),
            ("u1", own),
            (
                "u3",
                seed_posts().iter().filter(|p| p.author == "u3").count()
            ),
            ("a1", seed_posts().len())
        ]
    );
}
