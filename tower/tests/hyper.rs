//! `WardenLayer` in front of a plain hyper service (no axum) served on a loopback port:
//! refusals and preflights never reach the service, the body is read only for a signed
//! route (and replayed unchanged), `Set-Cookie` gets the policy's rules, and the
//! principal reaches the service in the request's extensions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceBuilder;
use warden::{Engine, Options, Principal};
use warden_tower::{Admitted, WardenBody, WardenLayer};

const WH: &str = "whsec_test_0123456789";
const POLICY: &str = r#"policy hooks
role user
principal { id: string }
auth api_key {
  from: header x-api-key
  key sha256("d3a76f474e5c7b6672a6c2b53345b5d8892b42b5343d9303b881f708e4eb862c") as { id: "client-1", roles: [user] }
}
route POST /hooks/stripe {
  public
  require signature stripe(header stripe-signature, secret(WH)) tolerance 5m else 400
}
route /private/** {
  require auth
}
cookies {
  session: http_only, secure, same_site lax
}
cors {
  origins: "https://app.example"
  methods: GET, POST
}
headers {
  X-Frame-Options: "DENY"
}
"#;

/// The service behind the layer: echoes the body, says whether the layer buffered it
/// and who the principal is, and sets two cookies.
async fn inner(
    calls: Arc<AtomicUsize>,
    req: Request<WardenBody<Incoming>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    calls.fetch_add(1, Ordering::SeqCst);
    let who = req
        .extensions()
        .get::<Principal>()
        .map_or("-".to_owned(), |p| p.id.clone());
    let admitted = req.extensions().get::<Admitted>().is_some();
    let (parts, body) = req.into_parts();
    let kind = match body {
        Either::Left(_) => "stream",
        Either::Right(_) => "buffered",
    };
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let mut res = Response::new(Full::new(bytes));
    let h = res.headers_mut();
    h.insert("x-body", HeaderValue::from_static(kind));
    h.insert("x-who", HeaderValue::from_str(&who).unwrap());
    h.insert(
        "x-admitted",
        HeaderValue::from_static(if admitted { "yes" } else { "no" }),
    );
    h.insert("x-frame-options", HeaderValue::from_static("ALLOWALL"));
    h.append(
        "set-cookie",
        HeaderValue::from_static("session=abc; Path=/"),
    );
    h.append("set-cookie", HeaderValue::from_static("theme=dark"));
    let _ = parts;
    Ok(res)
}

async fn serve(max_body: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let engine =
        Engine::from_source("hooks.warden", POLICY, Options::default().secret("WH", WH)).unwrap();
    let layer = WardenLayer::new(engine).max_body(max_body);
    let calls = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = Arc::clone(&calls);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let calls = Arc::clone(&counter);
            let svc = ServiceBuilder::new()
                // hyper hands no peer address: put it where the layer looks.
                .map_request(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(peer);
                    req
                })
                .layer(layer.clone())
                .service_fn(move |req| inner(Arc::clone(&calls), req));
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
                    .await;
            });
        }
    });
    (addr, calls)
}

async fn send(addr: SocketAddr, req: Request<Full<Bytes>>) -> (StatusCode, http::HeaderMap, Bytes) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let res = sender.send_request(req).await.unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

fn request(
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(Full::new(Bytes::copy_from_slice(body))).unwrap()
}

fn stripe_signature(body: &[u8], secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

#[tokio::test]
async fn signed_route_reads_the_body_and_replays_it() {
    let (addr, calls) = serve(1024).await;
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    let sig = stripe_signature(body, WH);
    let (status, headers, echoed) = send(
        addr,
        request(
            Method::POST,
            "/hooks/stripe",
            &[("stripe-signature", &sig)],
            body,
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(&echoed[..], body);
    assert_eq!(headers["x-body"], "buffered");
    let forged = stripe_signature(body, "whsec_wrong");
    let (status, ..) = send(
        addr,
        request(
            Method::POST,
            "/hooks/stripe",
            &[("stripe-signature", &forged)],
            body,
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_over_max_body_is_413_without_the_service() {
    let (addr, calls) = serve(16).await;
    let body = [b'x'; 64];
    let sig = stripe_signature(&body, WH);
    let (status, headers, out) = send(
        addr,
        request(
            Method::POST,
            "/hooks/stripe",
            &[("stripe-signature", &sig)],
            &body,
        ),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(&out[..], br#"{"error":"request body too large"}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn other_bodies_stream_through_unread() {
    let (addr, _) = serve(16).await;
    let body = [b'y'; 4096]; // far over max_body: never read by the layer
    let (status, headers, echoed) = send(addr, request(Method::POST, "/upload", &[], &body)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-body"], "stream");
    assert_eq!(echoed.len(), 4096);
}

#[tokio::test]
async fn refusals_and_preflights_never_reach_the_service() {
    let (addr, calls) = serve(1024).await;
    let (status, headers, body) = send(addr, request(Method::GET, "/private/x", &[], b"")).await;
    assert_eq!(status, 401);
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(std::str::from_utf8(&body)
        .unwrap()
        .starts_with(r#"{"error":"#));
    let (status, headers, body) = send(
        addr,
        request(
            Method::OPTIONS,
            "/private/x",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
            ],
            b"",
        ),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert!(body.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn admitted_requests_carry_the_principal_and_get_the_headers() {
    let (addr, _) = serve(1024).await;
    let (status, headers, _) = send(
        addr,
        request(
            Method::GET,
            "/private/x",
            &[
                ("x-api-key", "tower-test-key-1"),
                ("origin", "https://app.example"),
            ],
            b"",
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-who"], "client-1");
    assert_eq!(headers["x-admitted"], "yes");
    // The policy's value replaces the service's own.
    assert_eq!(
        headers
            .get_all("x-frame-options")
            .iter()
            .collect::<Vec<_>>(),
        ["DENY"]
    );
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    let cookies: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("session="))
        .unwrap()
        .to_ascii_lowercase();
    for flag in ["httponly", "secure", "samesite=lax"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    assert_eq!(
        cookies.iter().find(|c| c.starts_with("theme=")),
        Some(&"theme=dark")
    );
    let (status, headers, _) = send(addr, request(Method::GET, "/open", &[], b"")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-who"], "-");
}

#[tokio::test]
async fn a_credential_that_is_not_utf8_is_refused_not_skipped() {
    let (addr, calls) = serve(1024).await;
    let mut req = request(Method::GET, "/private/x", &[], b"");
    let mut key = b"tower-test-key-1".to_vec();
    key.push(0xff);
    req.headers_mut()
        .insert("x-api-key", HeaderValue::from_bytes(&key).unwrap());
    let (status, ..) = send(addr, req).await;
    assert_eq!(status, 401);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
