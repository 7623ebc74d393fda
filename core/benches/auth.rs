//! Authentication cost: one HS256 bearer token verified by `Engine::authenticate`, and
//! the same request through `Engine::check_http` (route match + authentication + role).
//!
//! Run: `cargo bench -p warden-policy --bench auth`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use warden::{Authn, Engine, HttpRequest, Options};

const SECRET: &str = "bench-jwt-secret-0123456789abcdefghijklmnop";

const POLICY: &str = r#"
policy bench
role user
role admin > user
principal { id: string, roles: set<role>, org: string }
auth jwt {
  algorithms: HS256
  keys: secret(JWT_SECRET), secret(JWT_SECRET_PREVIOUS)?
  issuer: "https://auth.example.com"
  audience: "api"
  principal.org: org
}
route /api/** { require auth }
route /api/admin/** { require role admin }
"#;

fn engine(previous: bool) -> Engine {
    let mut o = Options::default().secret("JWT_SECRET", SECRET);
    if previous {
        o = o.secret(
            "JWT_SECRET_PREVIOUS",
            "bench-jwt-secret-previous-0123456789abcd",
        );
    }
    o.secrets_from_env = false;
    match Engine::from_source("bench.warden", POLICY, o) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

fn token(secret: &str) -> String {
    let claims = serde_json::json!({
        "sub": "u1", "role": "admin", "org": "o1",
        "iss": "https://auth.example.com", "aud": "api",
        "iat": 1_767_225_600u64, "exp": 4_102_444_800u64,
    });
    let key = EncodingKey::from_secret(secret.as_bytes());
    encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap_or_default()
}

fn benches(c: &mut Criterion) {
    let e = engine(false);
    let req = HttpRequest::new("GET", "/api/admin/users")
        .header("authorization", format!("Bearer {}", token(SECRET)))
        .time_us(1_767_225_600_000_000);
    if !matches!(e.authenticate(&req), Authn::Principal { .. }) || e.check_http(&req).status != 200
    {
        eprintln!("the bench token does not verify");
        std::process::exit(1);
    }
    let mut g = c.benchmark_group("auth");
    g.bench_function("authenticate HS256", |b| {
        b.iter(|| black_box(e.authenticate(black_box(&req))))
    });
    g.bench_function("check_http HS256 + role", |b| {
        b.iter(|| black_box(e.check_http(black_box(&req)).status))
    });
    // Rotation: the token is signed with the previous secret, so the current one is
    // tried first and fails.
    let rotated = engine(true);
    let old = HttpRequest::new("GET", "/api/admin/users")
        .header(
            "authorization",
            format!(
                "Bearer {}",
                token("bench-jwt-secret-previous-0123456789abcd")
            ),
        )
        .time_us(1_767_225_600_000_000);
    g.bench_function("authenticate HS256, second key of a rotation", |b| {
        b.iter(|| black_box(rotated.authenticate(black_box(&old))))
    });
    g.finish();
}

criterion_group!(auth, benches);
criterion_main!(auth);
