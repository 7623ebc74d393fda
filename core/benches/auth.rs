//! Authentication cost: an HS256 bearer token, and an Auth.js session cookie (JWE,
//! A256CBC-HS512), through `Engine::authenticate` and `Engine::check_http` (route match
//! + authentication + role), each three ways:
//! - **seen before**: the same token every time, a hit of the verified-token cache
//!   (`Options::token_cache_size`, on by default): what every request of a session after
//!   its first costs;
//! - **verified in full**: the same token with the cache off: the signature or the
//!   decryption every time;
//! - **fresh**: the cache on, but 20,000 distinct tokens cycled through a 4,096-entry
//!   cache: every request a miss, a full verification and an insertion that evicts.
//!   The 20,000 requests (~14 MB of Auth.js cookies) are built up front, so each
//!   arrives with its bytes out of the CPU's caches;
//! - **fresh, just received**: the same, each request copied (untimed, 64 at a time)
//!   just before it is decided, as a server has just read and parsed it: the token is
//!   new to the engine but its bytes are in cache, as in production.
//!
//! Run: `cargo bench -p warden-policy --bench auth`.

use criterion::measurement::WallTime;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion};
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

fn engine(previous: bool, cache: usize) -> Engine {
    let mut o = Options::default()
        .secret("JWT_SECRET", SECRET)
        .token_cache_size(cache);
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
    token_for(secret, "u1")
}

fn token_for(secret: &str, sub: &str) -> String {
    let claims = serde_json::json!({
        "sub": sub, "role": "admin", "org": "o1",
        "iss": "https://auth.example.com", "aud": "api",
        "iat": 1_767_225_600u64, "exp": 4_102_444_800u64,
    });
    let key = EncodingKey::from_secret(secret.as_bytes());
    encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap_or_default()
}

const NOW_US: u64 = 1_767_225_600_000_000;

fn bearer(token: &str) -> HttpRequest {
    HttpRequest::new("GET", "/api/admin/users")
        .header("authorization", format!("Bearer {token}"))
        .time_us(NOW_US)
}

fn must_pass(e: &Engine, req: &HttpRequest, what: &str) {
    if !matches!(e.authenticate(req), Authn::Principal { .. }) || e.check_http(req).status != 200 {
        eprintln!("the bench's {what} does not verify");
        std::process::exit(1);
    }
}

/// The three ways of presenting a credential, for one mechanism.
fn three_ways(
    c: &mut Criterion,
    name: &str,
    engine: &dyn Fn(usize) -> Engine,
    request: &dyn Fn(usize) -> HttpRequest,
) {
    let seen = engine(4096);
    let full = engine(0);
    let one = request(0);
    must_pass(&seen, &one, name);
    must_pass(&full, &one, name);
    let fresh = engine(4096);
    let many: Vec<HttpRequest> = (0..FRESH).map(request).collect();
    must_pass(&fresh, &many[FRESH - 1], name);
    let mut g = c.benchmark_group("auth");
    g.bench_function(format!("authenticate {name}, seen before"), |b| {
        b.iter(|| black_box(seen.authenticate(black_box(&one))))
    });
    g.bench_function(format!("authenticate {name}, verified in full"), |b| {
        b.iter(|| black_box(full.authenticate(black_box(&one))))
    });
    g.bench_function(format!("check_http {name} + role, seen before"), |b| {
        b.iter(|| black_box(seen.check_http(black_box(&one)).status))
    });
    g.bench_function(format!("check_http {name} + role, verified in full"), |b| {
        b.iter(|| black_box(full.check_http(black_box(&one)).status))
    });
    let mut i = 0;
    g.bench_function(format!("check_http {name} + role, fresh"), |b| {
        b.iter(|| {
            i = (i + 1) % FRESH;
            black_box(fresh.check_http(black_box(&many[i])).status)
        })
    });
    just_received(&mut g, &format!("check_http {name} + role"), &fresh, &many);
    g.finish();
}

/// The "fresh, just received" row: `many` cycled through `engine` as in "fresh", each
/// request cloned just before (in batches of 64, ~64 KB: the clones stay in cache).
fn just_received(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    engine: &Engine,
    many: &[HttpRequest],
) {
    let mut i = 0;
    g.bench_function(format!("{name}, fresh, just received"), |b| {
        b.iter_batched_ref(
            || {
                i = (i + 1) % many.len();
                many[i].clone()
            },
            |req| black_box(engine.check_http(black_box(req)).status),
            BatchSize::NumIterations(64),
        )
    });
}

/// Distinct tokens of the "fresh" case: about five times the cache.
const FRESH: usize = 20_000;

/// `@auth/core` 0.41.3 `encode` of `{ sub: "u-admin", role: "ADMIN", ... }` with the
/// secret below and salt `authjs.session-token`, clock at 1767225600 (the token of
/// `core/tests/auth.rs`). Distinct cookies for the "fresh" case are sealed by
/// [`authjs_cookie`] as `@auth/core` seals them.
const AUTHJS_SECRET: &str = "test-auth-secret-0123456789abcdef0123456789";
const AUTHJS_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiWGlJTFVmY2x1RjNYVHJYM1BidUhScHhvaGtNYXY2YXkxXzJ2MzJiV1BjcVoxamZhSnlpTVZOUmFTaVYxVUlUWnFfcE4zZXdCQmFjWS00UUhUMzJ0NGcifQ..sbeMIaPVCn-l01TLeL8fUA.VK4SAzoaY_VWr8V6LzoiJVz0GkHrTeGE1g3yiFh9XQzlK6KUivUTqOajD0JWRy06uRTQTAe_yrlcHqz0nvCxqKHwex4Z_qWQsCCL8VE6AfjufRagDxkMnw6fh3eubGy-rjYLahAm2XVhQ4ybX_7qoxRwfyIYYu15hM-tekyIkL-jxeX6sinVAURpwITl9qk1tyKvI8pplGIBZrkT6Bin7A.MUzm0zg4tOdkiXRIcC8HUY7eR8fU0vyPJSfITa_-AnE";

const AUTHJS_POLICY: &str = r#"
policy bench
role ADMIN
auth nextauth {
  keys: secret(AUTH_SECRET)
  max_age: 30d
}
route /api/** { require auth }
route /api/admin/** { require role ADMIN }
"#;

fn authjs_engine(cache: usize) -> Engine {
    let mut o = Options::default()
        .secret("AUTH_SECRET", AUTHJS_SECRET)
        .token_cache_size(cache);
    o.secrets_from_env = false;
    match Engine::from_source("bench.warden", AUTHJS_POLICY, o) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

/// An Auth.js session cookie of `sub`, sealed as `@auth/core` 0.41.3 seals one (JWE
/// `dir` + A256CBC-HS512 under the HKDF-SHA256 key of the secret and the cookie name),
/// with `AUTHJS_TOKEN`'s protected header (the same secret's, so the same text).
fn authjs_cookie(sub: &str, n: u64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use cbc::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    use hmac::Mac;
    let salt = "authjs.session-token";
    let mut key = [0u8; 64];
    let info = format!("Auth.js Generated Encryption Key ({salt})");
    if hkdf::Hkdf::<sha2::Sha256>::new(Some(salt.as_bytes()), AUTHJS_SECRET.as_bytes())
        .expand(info.as_bytes(), &mut key)
        .is_err()
    {
        return String::new();
    }
    let (mac_key, enc_key) = key.split_at(32);
    let header = AUTHJS_TOKEN.split('.').next().unwrap_or_default();
    let claims = format!(
        r#"{{"name":"Ada","email":"ada@lumiere.test","sub":"{sub}","role":"ADMIN","iat":1767225600,"exp":1769817600,"jti":"6f1c2a4e-0b7d-4e39-9a51-{n:012}"}}"#
    );
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(&n.to_le_bytes());
    let Ok(enc) = cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, &iv) else {
        return String::new();
    };
    let ct = enc.encrypt_padded_vec_mut::<Pkcs7>(claims.as_bytes());
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha512> as Mac>::new_from_slice(mac_key) else {
        return String::new();
    };
    mac.update(header.as_bytes());
    mac.update(&iv);
    mac.update(&ct);
    mac.update(&(header.len() as u64 * 8).to_be_bytes());
    let tag = mac.finalize().into_bytes();
    let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
    format!("{header}..{}.{}.{}", b(&iv), b(&ct), b(&tag[..32]))
}

fn authjs_request(cookie: &str) -> HttpRequest {
    HttpRequest::new("GET", "/api/admin/users")
        .header("cookie", format!("authjs.session-token={cookie}"))
        .time_us(NOW_US + 60_000_000)
}

fn benches(c: &mut Criterion) {
    three_ways(c, "HS256", &|cache| engine(false, cache), &|i| {
        bearer(&token_for(SECRET, &format!("u{i}")))
    });
    // Auth.js: the `@auth/core` cookie seen before and verified in full; fresh below.
    let cookie = HttpRequest::new("GET", "/api/admin/users")
        .header("cookie", format!("authjs.session-token={AUTHJS_TOKEN}"))
        .time_us(NOW_US + 60_000_000);
    let (seen, full) = (authjs_engine(4096), authjs_engine(0));
    must_pass(&seen, &cookie, "Auth.js cookie");
    must_pass(&full, &cookie, "Auth.js cookie");
    let mut g = c.benchmark_group("auth");
    g.bench_function("check_http Auth.js cookie + role, seen before", |b| {
        b.iter(|| black_box(seen.check_http(black_box(&cookie)).status))
    });
    g.bench_function("check_http Auth.js cookie + role, verified in full", |b| {
        b.iter(|| black_box(full.check_http(black_box(&cookie)).status))
    });
    // Fresh: as the bearer's, 20,000 distinct cookies through a 4,096-entry cache.
    let fresh = authjs_engine(4096);
    let many: Vec<HttpRequest> = (0..FRESH)
        .map(|i| authjs_request(&authjs_cookie(&format!("u-{i}"), i as u64)))
        .collect();
    must_pass(&fresh, &many[FRESH - 1], "sealed Auth.js cookie");
    let mut i = 0;
    g.bench_function("check_http Auth.js cookie + role, fresh", |b| {
        b.iter(|| {
            i = (i + 1) % FRESH;
            black_box(fresh.check_http(black_box(&many[i])).status)
        })
    });
    just_received(&mut g, "check_http Auth.js cookie + role", &fresh, &many);
    // Rotation: the token is signed with the previous secret, so the current one is
    // tried first and fails (cache off: the verification itself).
    let rotated = engine(true, 0);
    let old = bearer(&token("bench-jwt-secret-previous-0123456789abcd"));
    g.bench_function("authenticate HS256, second key of a rotation", |b| {
        b.iter(|| black_box(rotated.authenticate(black_box(&old))))
    });
    g.finish();
}

/// HMAC-SHA-512 over 550 bytes (an Auth.js cookie's header, IV and ciphertext) from a
/// keyed state, as `jwe.rs` computes it (RustCrypto `hmac` + `sha2`) and as `ring`
/// (OpenSSL's assembly) does: whether the MAC, a third of a cookie's verification, is
/// at this CPU's floor.
fn hmac_sha512(c: &mut Criterion) {
    use hmac::Mac;
    let key = [7u8; 32];
    let data = vec![0x5a_u8; 550];
    let mut g = c.benchmark_group("hmac-sha512 550 B");
    let Ok(keyed) = hmac::Hmac::<sha2::Sha512>::new_from_slice(&key) else {
        return;
    };
    g.bench_function("RustCrypto hmac + sha2", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&data));
            black_box(m.finalize().into_bytes())
        })
    });
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA512, &key);
    g.bench_function("ring", |b| {
        b.iter(|| black_box(ring::hmac::sign(&ring_key, black_box(&data))))
    });
    g.finish();
}

criterion_group!(auth, benches, hmac_sha512);
criterion_main!(auth);
