//! Per-request cost of an axum app behind `WardenLayer` vs the same app assembled from
//! the usual crates: tower-http `CorsLayer` + five `SetResponseHeaderLayer`s +
//! tower_governor (per-IP limit) + a jsonwebtoken bearer extractor + a roles check.
//! The two answer the same statuses and headers (asserted before measuring); both are
//! measured in one run.
//!
//!     cargo bench -p warden-tower --bench stack

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use criterion::{criterion_group, criterion_main, Criterion};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tower::{ServiceBuilder, ServiceExt};
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::GovernorLayer;
use tower_http::cors::CorsLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use warden::{Engine, Options};
use warden_tower::WardenLayer;

const SECRET: &str = "bench-jwt-secret-0123456789abcdef0123";
const ORIGIN: &str = "https://app.example.com";
const HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", "default-src 'self'"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

fn policy() -> String {
    let headers: String = HEADERS
        .iter()
        .map(|(n, v)| format!("  {n}: \"{v}\"\n"))
        .collect();
    format!(
        r#"policy bench
role viewer
role admin > viewer
grant viewer: posts:read
grant admin: stats:read
principal {{ id: string, roles: set<role> }}

auth jwt {{
  from: header authorization
  algorithms: HS256
  keys: secret(JWT_SECRET)
  principal.id: sub
  principal.roles: roles
}}

limit global: 1000000000 per 1s by ip

route /** {{
  limit global
}}
route GET /api/posts {{
  require auth
  require role viewer
}}
route GET /api/stats {{
  require auth
  require role admin
}}

headers {{
{headers}}}

cors {{
  origins: "{ORIGIN}"
  methods: GET, POST
  headers: Authorization, Content-Type
  credentials: true
}}
"#
    )
}

async fn posts() -> Json<serde_json::Value> {
    Json(serde_json::json!([{ "id": "p1", "title": "hello" }]))
}

fn warden_app() -> Router {
    let engine = Engine::from_source(
        "bench.warden",
        &policy(),
        Options::default().secret("JWT_SECRET", SECRET),
    )
    .unwrap();
    Router::new()
        .route("/api/posts", get(posts))
        .route("/api/stats", get(posts))
        .layer(WardenLayer::new(engine))
}

#[derive(serde::Deserialize)]
struct Claims {
    #[allow(dead_code)]
    sub: String,
    roles: Vec<String>,
}

/// The usual bearer extractor: jsonwebtoken HS256, with `exp` validated.
struct Bearer(Claims);

fn unauthorized(code: &str) -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({ "error": code })),
    )
        .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

static KEY: std::sync::OnceLock<jsonwebtoken::DecodingKey> = std::sync::OnceLock::new();

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("missing_token"))?;
        let key = KEY.get_or_init(|| jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()));
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        match jsonwebtoken::decode::<Claims>(token, key, &validation) {
            Ok(data) => Ok(Bearer(data.claims)),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
                Err(unauthorized("token_expired"))
            }
            Err(_) => Err(unauthorized("invalid_token")),
        }
    }
}

/// The roles check: the role hierarchy spelled out, as hand-written apps do.
fn has_role(claims: &Claims, needed: &str) -> bool {
    claims
        .roles
        .iter()
        .any(|r| r == needed || (r == "admin" && needed == "viewer"))
}

async fn stack_posts(Bearer(c): Bearer) -> Response {
    if !has_role(&c, "viewer") {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "error": "forbidden" })),
        )
            .into_response();
    }
    posts().await.into_response()
}

async fn stack_stats(Bearer(c): Bearer) -> Response {
    if !has_role(&c, "admin") {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "error": "forbidden" })),
        )
            .into_response();
    }
    posts().await.into_response()
}

fn stack_app() -> Router {
    let governor = GovernorConfigBuilder::default()
        .per_nanosecond(1)
        .burst_size(1_000_000_000)
        .finish()
        .unwrap();
    let cors = CorsLayer::new()
        .allow_origin([HeaderValue::from_static(ORIGIN)])
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true);
    let [h1, h2, h3, h4, h5] = HEADERS.map(|(n, v)| {
        SetResponseHeaderLayer::overriding(HeaderName::from_static(n), HeaderValue::from_static(v))
    });
    Router::new()
        .route("/api/posts", get(stack_posts))
        .route("/api/stats", get(stack_stats))
        .layer(
            ServiceBuilder::new()
                .layer(h1)
                .layer(h2)
                .layer(h3)
                .layer(h4)
                .layer(h5)
                .layer(cors)
                .layer(GovernorLayer {
                    config: Arc::new(governor),
                }),
        )
}

fn token(roles: &[&str], lifetime: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims =
        serde_json::json!({ "sub": "u1", "roles": roles, "iat": now, "exp": now + lifetime });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn request(method: Method, path: &str, headers: &[(&str, String)]) -> Request<axum::body::Body> {
    let mut b = Request::builder().method(method).uri(path);
    for (n, v) in headers {
        b = b.header(*n, v);
    }
    let mut req = b.body(axum::body::Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    req
}

async fn answer(app: &Router, req: Request<axum::body::Body>) -> (u16, Vec<(String, String)>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let compared = [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "www-authenticate",
    ];
    let mut headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(n, _)| HEADERS.iter().any(|(h, _)| h == n) || compared.contains(&n.as_str()))
        .map(|(n, v)| {
            (
                n.to_string(),
                v.to_str().unwrap().split(' ').next().unwrap().to_owned(),
            )
        })
        .collect();
    // tower-http sends `access-control-allow-credentials` on every response; without
    // `access-control-allow-origin` a browser ignores it, so it is compared only with one.
    if !headers
        .iter()
        .any(|(n, _)| n == "access-control-allow-origin")
    {
        headers.retain(|(n, _)| n != "access-control-allow-credentials");
    }
    headers.sort();
    (res.status().as_u16(), headers)
}

/// The same statuses and headers from both apps, or no figures.
async fn same_answers(a: &Router, b: &Router) {
    let viewer = format!("Bearer {}", token(&["viewer"], 3600));
    let admin = format!("Bearer {}", token(&["admin"], 3600));
    // Past jsonwebtoken's default 60 s leeway too.
    let expired = format!("Bearer {}", token(&["viewer"], -600));
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("/api/posts", vec![]),
        ("/api/posts", vec![("authorization", viewer.clone())]),
        (
            "/api/posts",
            vec![("authorization", viewer.clone()), ("origin", ORIGIN.into())],
        ),
        ("/api/posts", vec![("authorization", "Bearer x.y.z".into())]),
        ("/api/posts", vec![("authorization", expired)]),
        ("/api/stats", vec![("authorization", viewer)]),
        (
            "/api/stats",
            vec![("authorization", admin), ("origin", ORIGIN.into())],
        ),
    ];
    for (path, headers) in cases {
        let x = answer(a, request(Method::GET, path, &headers)).await;
        let y = answer(b, request(Method::GET, path, &headers)).await;
        assert_eq!(x, y, "{path} {headers:?}");
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (warden, stack) = (warden_app(), stack_app());
    rt.block_on(same_answers(&warden, &stack));
    let viewer = format!("Bearer {}", token(&["viewer"], 3600));
    let headers = [("authorization", viewer), ("origin", ORIGIN.to_owned())];
    let mut g = c.benchmark_group("tower_stack");
    for (name, app) in [
        ("warden_layer", &warden),
        ("tower_http_governor_jwt", &stack),
    ] {
        g.bench_function(format!("{name}/GET /api/posts (JWT + role + CORS)"), |b| {
            b.to_async(&rt).iter(|| async {
                let res = app
                    .clone()
                    .oneshot(request(Method::GET, "/api/posts", &headers))
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                res
            })
        });
    }
    for (name, app) in [
        ("warden_layer", &warden),
        ("tower_http_governor_jwt", &stack),
    ] {
        g.bench_function(format!("{name}/GET /api/posts anonymous (401)"), |b| {
            b.to_async(&rt).iter(|| async {
                let res = app
                    .clone()
                    .oneshot(request(Method::GET, "/api/posts", &[]))
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
                res
            })
        });
    }
    // The engine alone on the same request: what the layer adds is the difference.
    let engine = Engine::from_source(
        "bench.warden",
        &policy(),
        Options::default().secret("JWT_SECRET", SECRET),
    )
    .unwrap();
    let req = warden::HttpRequest::new("GET", "/api/posts")
        .header("authorization", headers[0].1.clone())
        .header("origin", ORIGIN)
        .ip(std::net::IpAddr::from([127, 0, 0, 1]));
    g.bench_function("engine_only/check_http_async (same request)", |b| {
        b.to_async(&rt).iter(|| async {
            let d = engine.check_http_async(&req).await;
            assert_eq!(d.status, 200);
            d.headers.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
