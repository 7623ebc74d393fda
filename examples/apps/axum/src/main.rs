//! `JWT_SECRET=... JWT_REFRESH_SECRET=... WARDEN_ENV=development cargo run -p warden-example-axum`
//! serves the seed-003 API on `ADDR` (default 127.0.0.1:3000).

use std::net::SocketAddr;
use std::sync::Arc;
use warden::{Engine, Options};
use warden_example_axum::{app, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("JWT_SECRET")?;
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../policies/security-patterns.warden"
    );
    let options = Options::default()
        .env(std::env::var("WARDEN_ENV").unwrap_or_else(|_| "development".into()))
        .secret("JWT_SECRET", secret.clone())
        .secret("JWT_REFRESH_SECRET", std::env::var("JWT_REFRESH_SECRET")?);
    let engine = Engine::from_file(policy, options)?;
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let router = app(engine, Arc::new(Store::seeded(&secret)));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
