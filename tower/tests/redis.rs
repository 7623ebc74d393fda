//! The layer with the shared Redis rate-limit store: the limit is counted in Redis
//! with async I/O on the runtime the service runs on (here a current-thread runtime,
//! where a blocking call would stall the only thread). Needs a Redis
//! (`scripts/with-redis.sh`); without `WARDEN_REDIS_URL` it says SKIPPED and passes,
//! unless `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use warden::limit::{RedisOptions, RedisStore};
use warden::{Engine, Options};
use warden_tower::WardenLayer;

fn redis_url() -> Option<String> {
    match std::env::var("WARDEN_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but WARDEN_REDIS_URL is unset: run under scripts/with-redis.sh")
        }
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the tower Redis test needs WARDEN_REDIS_URL (scripts/with-redis.sh)"
            );
            None
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn limits_count_in_redis_through_the_layer() {
    let Some(url) = redis_url() else { return };
    let store = RedisStore::open(
        &format!("{}/14", url.trim_end_matches('/')),
        RedisOptions {
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(500),
            reconnect_backoff: Duration::from_millis(50),
            pool_size: 4,
            ca_file: None,
        },
    )
    .unwrap();
    // A limit name of its own per run: keys from earlier runs never count here.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let policy = format!(
        "policy r\nlimit tower_{nanos}: 2 per 1m by ip\nroute /** {{\n  limit tower_{nanos}\n}}\n"
    );
    let engine = Engine::from_source(
        "r.warden",
        &policy,
        Options::default().store(Arc::new(store)),
    )
    .unwrap();
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(WardenLayer::new(engine));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let mut req = Request::get("/").body(Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 7], 5000))));
        let res = app.clone().oneshot(req).await.unwrap();
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}
