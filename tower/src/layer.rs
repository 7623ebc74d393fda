//! [`WardenLayer`] and [`WardenService`]: every request through `check_http_async`
//! before the inner service sees it.

use crate::request::{http_request, peer_ip};
use crate::response::{answer, apply, error_body, Applied, DenyBody};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, Limited};
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;
use warden::{Engine, HttpDecision, Principal, Value, Warden};

/// The request body the inner service receives: the original stream, or the body the
/// layer read (for a route that verifies a signature over it) replayed unchanged.
pub type WardenBody<B> = Either<B, Full<Bytes>>;

type Hook<T> = Arc<dyn Fn(&Parts) -> T + Send + Sync>;
type BodyHook = Arc<dyn Fn(&Parts, &Bytes) -> Vec<(String, Value)> + Send + Sync>;

/// Where the layer gets its policy: a fixed engine, or a [`Warden`] whose policy can be
/// reloaded while requests are served (each request keeps the engine it started with).
#[derive(Clone)]
enum Source {
    Engine(Arc<Engine>),
    Live(Arc<Warden>),
}

impl Source {
    fn engine(&self) -> Arc<Engine> {
        match self {
            Source::Engine(e) => Arc::clone(e),
            Source::Live(w) => w.engine(),
        }
    }
}

/// A tower [`Layer`] applying a Warden policy's HTTP section to every request: routes
/// and their requirements, authentication by the policy's `auth` blocks, rate limits
/// (a Redis store is asked asynchronously, on the runtime the service runs on), CORS
/// preflights, redirects, security headers and the `Set-Cookie` rules.
///
/// A refused, redirected or preflight request is answered by the layer with the
/// decision's status and headers (body from [`WardenLayer::deny_body`]); an admitted
/// one reaches the inner service with an [`Admitted`] in its extensions (and the
/// [`Principal`], when known), and its response gets the decision's headers.
///
/// ```
/// use warden::{Engine, Options};
/// use warden_tower::WardenLayer;
///
/// let engine = Engine::from_source("api.warden", r#"
/// policy api
/// role user
/// principal { id: string }
/// route /health { public }
/// route /api/** { require auth }
/// "#, Options::default()).map_err(|e| e.to_string())?;
/// let app = axum::Router::new()
///     .route("/health", axum::routing::get(|| async { "ok" }))
///     .layer(WardenLayer::new(engine));
/// # let _: axum::Router = app;
/// # Ok::<(), String>(())
/// ```
#[derive(Clone)]
pub struct WardenLayer {
    source: Source,
    principal: Option<Hook<Option<Principal>>>,
    input: Option<Hook<Vec<(String, Value)>>>,
    body_input: Option<BodyHook>,
    client_ip: Hook<Option<IpAddr>>,
    deny: DenyBody,
    max_body: usize,
}

impl fmt::Debug for WardenLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WardenLayer")
            .field("policy", &self.source.engine().name())
            .field("principal_hook", &self.principal.is_some())
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl WardenLayer {
    /// A layer with a fixed policy.
    pub fn new(engine: impl Into<Arc<Engine>>) -> Self {
        Self::from_source(Source::Engine(engine.into()))
    }

    /// A layer following a [`Warden`]: a reload applies to the next request.
    pub fn live(warden: Arc<Warden>) -> Self {
        Self::from_source(Source::Live(warden))
    }

    fn from_source(source: Source) -> Self {
        WardenLayer {
            source,
            principal: None,
            input: None,
            body_input: None,
            client_ip: Arc::new(peer_ip),
            deny: Arc::new(error_body),
            max_body: 1 << 20,
        }
    }

    /// The principal from the app's own session layer (a layer outside this one that
    /// put it into the extensions, a session cookie ...). `None` leaves the request to
    /// the policy's `auth` blocks, or anonymous.
    pub fn principal<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<Principal> + Send + Sync + 'static,
    {
        self.principal = Some(Arc::new(f));
        self
    }

    /// The request's `input` facts (what `input.NAME` reads: body size, form fields ...).
    pub fn input<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Vec<(String, Value)> + Send + Sync + 'static,
    {
        self.input = Some(Arc::new(f));
        self
    }

    /// `input` facts read from the body (the fields a route's requirements validate).
    /// With it, a request that carries a body is read first (at most
    /// [`WardenLayer::max_body`] bytes, else 413) and replayed to the service unchanged.
    pub fn body_input<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts, &Bytes) -> Vec<(String, Value)> + Send + Sync + 'static,
    {
        self.body_input = Some(Arc::new(f));
        self
    }

    /// The client address. By default the peer address the server put into the
    /// extensions (a `SocketAddr`, or axum's `ConnectInfo<SocketAddr>`); the policy's
    /// trusted proxies, if any, decide what forwarded headers count.
    pub fn client_ip<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.client_ip = Arc::new(f);
        self
    }

    /// The body of refusals: `(content-type, bytes)` from the decision. The default is
    /// [`crate::error_body`] (`{"error": reason}`); [`crate::detail_body`] gives
    /// `{"detail": reason}`.
    pub fn deny_body<F>(mut self, f: F) -> Self
    where
        F: Fn(&HttpDecision<'_>) -> (HeaderValue, Bytes) + Send + Sync + 'static,
    {
        self.deny = Arc::new(f);
        self
    }

    /// The longest body read for a route that verifies a signature over it (longer:
    /// 413 without asking the engine). Default 1 MiB. Other bodies are never read.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

impl<S> Layer<S> for WardenLayer {
    type Service = WardenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WardenService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The [`Service`] of [`WardenLayer`].
#[derive(Clone)]
pub struct WardenService<S> {
    inner: S,
    layer: WardenLayer,
}

impl<S> fmt::Debug for WardenService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WardenService")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

/// What the layer decided about an admitted request, in its extensions: the engine
/// that decided (for [`Admitted::authorize`] in handlers), how the request was
/// authenticated and its principal. The axum extractors read it.
#[derive(Clone, Debug)]
pub struct Admitted {
    engine: Arc<Engine>,
    principal: Option<Principal>,
    authenticated_by: Option<String>,
    note: Option<String>,
}

impl Admitted {
    /// The engine that admitted the request (the policy in force when it arrived).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The request's principal: the host's (from [`WardenLayer::principal`]) or the
    /// one the policy's `auth` blocks verified; `None` when anonymous, or when the
    /// route needed no authentication (then see [`Admitted::authenticate`]).
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The principal, authenticating the request's credentials with the policy's
    /// `auth` blocks when the route did not need it: for a public route that still
    /// shows who is signed in.
    pub fn authenticate(&self, parts: &Parts) -> Option<Principal> {
        if self.principal.is_some() {
            return self.principal.clone();
        }
        match self.engine.authenticate(&http_request(parts, None)) {
            warden::Authn::Principal { principal, .. } => Some(principal),
            _ => None,
        }
    }

    /// How the policy's `auth` blocks verified the principal (`"jwt:JWT_SECRET#1"`).
    pub fn authenticated_by(&self) -> Option<&str> {
        self.authenticated_by.as_deref()
    }

    /// Set when a rate-limit store failed and the request was admitted anyway.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// May this request's principal do `action` on `resource`? The resource-level
    /// check of a handler: `Err` carries the refusal (an axum response with the
    /// `axum` feature: 403 `{"error": reason}`, or 401 for an anonymous caller).
    pub fn authorize(
        &self,
        action: &str,
        resource: Option<warden::Resource>,
    ) -> Result<(), crate::Refused> {
        let mut req = warden::Request::new(action);
        if let Some(p) = &self.principal {
            req = req.principal(p.clone());
        }
        if let Some(r) = resource {
            req = req.resource(r);
        }
        let d = self.engine.authorize(&req);
        if d.allowed {
            return Ok(());
        }
        Err(crate::Refused::new(
            self.principal.is_some(),
            d.reason.unwrap_or("forbidden"),
        ))
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResB> Service<Request<B>> for WardenService<S>
where
    S: Service<Request<WardenBody<B>>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    type Response = Response<WardenBody<ResB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let engine = layer.source.engine();
            let (mut parts, body) = req.into_parts();
            let mut hreq = http_request(&parts, (layer.client_ip)(&parts));
            if let Some(f) = &layer.principal {
                hreq.principal = f(&parts);
            }
            if let Some(f) = &layer.input {
                for (k, v) in f(&parts) {
                    hreq.input.set(k, v);
                }
            }
            let has_body = !body.is_end_stream();
            let for_input = layer.body_input.as_ref().filter(|_| has_body);
            let body = if for_input.is_some() || engine.needs_body(&hreq.method, &hreq.path) {
                match read_body(body, layer.max_body).await {
                    Ok(bytes) => {
                        if let Some(f) = for_input {
                            for (k, v) in f(&parts, &bytes) {
                                hreq.input.set(k, v);
                            }
                        }
                        hreq.body = Some(bytes.to_vec());
                        Either::Right(Full::new(bytes))
                    }
                    Err(status) => {
                        let d = refusal(status);
                        return Ok(answer(&d, &layer.deny).map(Either::Right));
                    }
                }
            } else {
                Either::Left(body)
            };
            let mut d = engine.check_http_async(&hreq).await;
            if !d.allowed || d.status != 200 {
                return Ok(answer(&d, &layer.deny).map(Either::Right));
            }
            let applied = Applied::of(&d);
            let principal = hreq.principal.take().or_else(|| d.principal.take());
            if let Some(p) = &principal {
                parts.extensions.insert(p.clone());
            }
            parts.extensions.insert(Admitted {
                engine: Arc::clone(&engine),
                principal,
                authenticated_by: d.authenticated_by.take(),
                note: d.note.as_deref().map(str::to_owned),
            });
            drop(d);
            let res = inner.call(Request::from_parts(parts, body)).await?;
            let (mut rparts, rbody) = res.into_parts();
            apply(&engine, &applied, &mut rparts.headers);
            Ok(Response::from_parts(rparts, Either::Left(rbody)))
        })
    }
}

/// A refusal decided before the engine is asked: a body too large or unreadable.
fn refusal(status: u16) -> HttpDecision<'static> {
    HttpDecision {
        status,
        reason: Some(
            if status == 413 {
                "request body too large"
            } else {
                "unreadable request body"
            }
            .into(),
        ),
        ..HttpDecision::default()
    }
}

/// The whole body, at most `cap` bytes: 413 when longer, 400 when the stream fails.
async fn read_body<B>(body: B, cap: usize) -> Result<Bytes, u16>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if body.size_hint().lower() > cap as u64 {
        return Err(413);
    }
    match Limited::new(body, cap).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(413),
        Err(_) => Err(400),
    }
}
